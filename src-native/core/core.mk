# core/core.mk — the sandbox core: $(BUILD)/lib/libkvmfilter.so (for JNA) and
# $(BUILD)/lib/libkvmfilter.a (linked into kvmrun, tests and benchmarks).
CORE_SRCS := $(wildcard core/*.c)
CORE_OBJS := $(patsubst core/%.c,$(BUILD)/obj/core/%.o,$(CORE_SRCS)) $(BUILD)/obj/core/stub.o
CORE_HEADERS := $(wildcard core/*.h) include/kvmfilter.h sdk/kvm_abi.h

$(BUILD)/obj/core/%.o: core/%.c $(CORE_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/obj/core/stub.o: core/guest/stub.S core/layout.h
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/lib/libkvmfilter.so: $(CORE_OBJS) core/exports.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,--version-script=core/exports.map -Wl,-z,noexecstack -o $@ $(CORE_OBJS) -lpthread -lrt

$(BUILD)/lib/libkvmfilter.a: $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(CORE_OBJS)

LIB_TARGETS += $(BUILD)/lib/libkvmfilter.so $(BUILD)/lib/libkvmfilter.a
