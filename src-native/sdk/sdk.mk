# sdk/sdk.mk — the SDK example → $(BUILD)/sdk/hello (static glibc ELF; not under programs/, so it stays out of the jar), and a check that kvm_api.h
# compiles as C and as C++ in more than one translation unit.
$(BUILD)/sdk/hello: sdk/examples/hello.c sdk/kvm_api.h sdk/kvm_abi.h sdk/sdk.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isdk -static -o $@ sdk/examples/hello.c

PROGRAM_TARGETS += $(BUILD)/sdk/hello
TEST_COMMANDS += sdk/test-sdk.sh
