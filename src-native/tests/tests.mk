# tests/tests.mk — the sandbox core's C test suite and its guest programs.
#   $(BUILD)/tests/guests/<name>        static glibc build of tests/guests/<name>.c
#   $(BUILD)/tests/guests/<name>-musl   the same with musl
#   $(BUILD)/tests/run-tests            the suite; `make test` runs it
TEST_GUEST_NAMES := $(basename $(notdir $(wildcard tests/guests/*.c)))
TEST_GUESTS := $(addprefix $(BUILD)/tests/guests/,$(TEST_GUEST_NAMES)) \
               $(addsuffix -musl,$(addprefix $(BUILD)/tests/guests/,$(TEST_GUEST_NAMES))) \
               $(BUILD)/tests/guests/cxx $(BUILD)/tests/guests/hello-pie $(BUILD)/tests/guests/hello-dynamic \
               $(BUILD)/tests/guests/hello-low $(BUILD)/tests/guests/hello-low-musl \
               $(addprefix $(BUILD)/tests/guests/,api-page paused-page hostile-page hostile-page-musl platform-page)
GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror

$(BUILD)/tests/guests/%: tests/guests/%.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(GUEST_CFLAGS) -static -o $@ $<

$(BUILD)/tests/guests/%-musl: tests/guests/%.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	musl-gcc -std=gnu11 $(GUEST_CFLAGS) -static -o $@ $<

# API calls through the API page instead of `out` (abi.h).
$(BUILD)/tests/guests/%-page: tests/guests/%.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(GUEST_CFLAGS) -DABI_API_PAGE -static -o $@ $<

$(BUILD)/tests/guests/%-page-musl: tests/guests/%.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	musl-gcc -std=gnu11 $(GUEST_CFLAGS) -DABI_API_PAGE -static -o $@ $<

$(BUILD)/tests/guests/cxx: tests/guests/cxx.cpp tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	g++ -std=c++17 $(GUEST_CFLAGS) -static -o $@ $<

$(BUILD)/tests/guests/hello-pie: tests/guests/hello.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(GUEST_CFLAGS) -static-pie -fPIE -o $@ $<

# Linked below 0x400000 as the VMOD's avif example is (-Wl,-Ttext-segment=0x1FF000): the loader must take it.
$(BUILD)/tests/guests/hello-low: tests/guests/hello.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(GUEST_CFLAGS) -static -Wl,-Ttext-segment=0x1FF000 -o $@ $<

$(BUILD)/tests/guests/hello-low-musl: tests/guests/hello.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	musl-gcc -std=gnu11 $(GUEST_CFLAGS) -static -Wl,-Ttext-segment=0x1FF000 -o $@ $<

# Dynamically linked on purpose: the loader must reject it.
$(BUILD)/tests/guests/hello-dynamic: tests/guests/hello.c tests/guests/abi.h sdk/kvm_abi.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(GUEST_CFLAGS) -o $@ $<

TEST_SUITE_SRCS := $(wildcard tests/*.c)
$(BUILD)/tests/run-tests: $(TEST_SUITE_SRCS) tests/harness.h include/kvmfilter.h $(BUILD)/lib/libkvmfilter.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -D_GNU_SOURCE -o $@ $(TEST_SUITE_SRCS) $(BUILD)/lib/libkvmfilter.a -lpthread -lrt

TEST_TARGETS += $(TEST_GUESTS) $(BUILD)/tests/run-tests
TEST_COMMANDS += '$(BUILD)/tests/run-tests $(BUILD)/tests/guests' tests/test_kvmrun.sh
