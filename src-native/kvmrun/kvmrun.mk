# kvmrun/kvmrun.mk — $(BUILD)/bin/kvmrun, the local runner for program authors.
$(BUILD)/bin/kvmrun: kvmrun/kvmrun.c include/kvmfilter.h $(BUILD)/lib/libkvmfilter.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ kvmrun/kvmrun.c $(BUILD)/lib/libkvmfilter.a -lpthread -lrt

BIN_TARGETS += $(BUILD)/bin/kvmrun
