# programs/webp/program.mk — the webp guest program → $(BUILD)/programs/webp (static glibc ELF)
include programs/common/common.mk

WEBP_SRCS := programs/webp/webp.c $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_IMAGE_SRCS)

$(BUILD)/programs/webp: $(WEBP_SRCS) $(PROGRAMS_COMMON_HDRS) $(PROGRAMS_IMAGE_HDRS) programs/common/common.mk programs/webp/program.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -static -o $@ $(WEBP_SRCS) $(PROGRAMS_IMAGE_LIBS)

PROGRAM_TARGETS += $(BUILD)/programs/webp
# natively, then the same cases in the sandbox through build/bin/kvmrun (skipped while it does not exist)
TEST_COMMANDS += programs/webp/test.sh 'programs/webp/test.sh sandbox'
