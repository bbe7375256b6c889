# programs/image/program.mk — the image guest program → $(BUILD)/programs/image (static glibc ELF): per-request
# options and a choice of output format (WebP, AVIF, JPEG, PNG). It links the avif program's encoder.
include programs/common/common.mk

# The avif program's encoder, listed here rather than taken from avif/program.mk (fragments are independent).
IMAGE_AVIF_SRCS := programs/avif/avif_image.c programs/avif/av1_encoder.c programs/avif/av1_sequence_header.c \
                   programs/avif/avif_writer.c
IMAGE_AVIF_HDRS := programs/avif/avif_image.h programs/avif/av1_encoder.h programs/avif/av1_sequence_header.h \
                   programs/avif/avif_writer.h
IMAGE_SRCS := programs/image/image.c $(IMAGE_AVIF_SRCS) $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_IMAGE_SRCS)

$(BUILD)/programs/image: $(IMAGE_SRCS) $(IMAGE_AVIF_HDRS) $(PROGRAMS_COMMON_HDRS) $(PROGRAMS_IMAGE_HDRS) programs/common/common.mk programs/image/program.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -Iprograms/avif -static -o $@ $(IMAGE_SRCS) -laom $(PROGRAMS_IMAGE_LIBS) -lpthread

PROGRAM_TARGETS += $(BUILD)/programs/image
# natively, then the same cases in the sandbox through build/bin/kvmrun (skipped while it does not exist)
TEST_COMMANDS += programs/image/test.sh 'programs/image/test.sh sandbox'
