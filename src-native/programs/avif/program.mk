# programs/avif/program.mk — the avif guest program → $(BUILD)/programs/avif (static glibc ELF)
include programs/common/common.mk

# The AVIF encoder without the program's main (programs/image/program.mk lists the same files).
AVIF_ENCODER_SRCS := programs/avif/avif_image.c programs/avif/av1_encoder.c programs/avif/av1_sequence_header.c \
                     programs/avif/avif_writer.c
AVIF_SRCS := programs/avif/avif.c $(AVIF_ENCODER_SRCS) $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_IMAGE_SRCS)
AVIF_HDRS := programs/avif/av1_encoder.h programs/avif/av1_sequence_header.h programs/avif/avif_writer.h \
             programs/avif/avif_image.h

$(BUILD)/programs/avif: $(AVIF_SRCS) $(AVIF_HDRS) $(PROGRAMS_COMMON_HDRS) $(PROGRAMS_IMAGE_HDRS) programs/common/common.mk programs/avif/program.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -static -o $@ $(AVIF_SRCS) -laom $(PROGRAMS_IMAGE_LIBS) -lpthread

PROGRAM_TARGETS += $(BUILD)/programs/avif
# natively, then the same cases in the sandbox through build/bin/kvmrun (skipped while it does not exist)
TEST_COMMANDS += programs/avif/test.sh 'programs/avif/test.sh sandbox'
