# kvmrun/kvmrun.mk — $(BUILD)/bin/kvmrun, the local runner for program authors.
KVMRUN_SRCS := kvmrun/kvmrun.c kvmrun/library.c programs/common/json_reader.c
$(BUILD)/bin/kvmrun: $(KVMRUN_SRCS) kvmrun/library.h programs/common/json_reader.h include/kvmfilter.h $(BUILD)/lib/libkvmfilter.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(KVMRUN_SRCS) $(BUILD)/lib/libkvmfilter.a -lpthread -lrt

BIN_TARGETS += $(BUILD)/bin/kvmrun
