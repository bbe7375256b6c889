# sdk/sdk.mk — the SDK example → $(BUILD)/sdk/hello (static glibc ELF; not under programs/, so it stays out of the jar), and a check that kvm_api.h
# compiles as C and as C++ in more than one translation unit.
$(BUILD)/sdk/hello: sdk/examples/hello.c sdk/kvm_api.h sdk/kvm_abi.h sdk/sdk.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isdk -static -o $@ sdk/examples/hello.c

# The self-request example, for the servlet tests (filter-core runs it behind ProgramServlet with selfRequests).
$(BUILD)/sdk/assemble: sdk/examples/assemble.c sdk/kvm_api.h sdk/kvm_abi.h sdk/sdk.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isdk -static -o $@ sdk/examples/assemble.c

# The connection takeover example, for kvmrun --connection (test-sdk.sh) and the servlet tests.
$(BUILD)/sdk/line_echo: sdk/examples/line_echo.c sdk/kvm_api.h sdk/kvm_abi.h sdk/sdk.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isdk -static -o $@ sdk/examples/line_echo.c

PROGRAM_TARGETS += $(BUILD)/sdk/hello $(BUILD)/sdk/assemble $(BUILD)/sdk/line_echo
TEST_COMMANDS += sdk/test-sdk.sh
