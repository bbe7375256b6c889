# programs/common/common.mk — shared code of the guest programs (webp, avif, minify).
# Include it from a program's program.mk with
#     include programs/common/common.mk
# (paths are relative to src-native/, where the top Makefile runs). Safe to include more than once.
# Then build a program as one static link of its sources plus $(PROGRAMS_COMMON_SRCS), e.g.
#     $(BUILD)/programs/foo: programs/foo/foo.c $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_COMMON_HDRS)
#         mkdir -p $(@D)
#         $(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -o $@ programs/foo/foo.c $(PROGRAMS_COMMON_SRCS) -static
ifndef PROGRAMS_COMMON_MK
PROGRAMS_COMMON_MK := 1

# arg JSON parsing, validation and the sandboxed/native program skeleton
PROGRAMS_COMMON_SRCS := programs/common/json_reader.c programs/common/args.c programs/common/program.c
PROGRAMS_COMMON_HDRS := programs/common/json_reader.h programs/common/args.h programs/common/program.h sdk/kvm_api.h sdk/kvm_abi.h
# decoding (stills and animations), options, colour, resizing, watermarks and encoding of images (webp, avif, image)
PROGRAMS_IMAGE_SRCS := programs/common/image_decode.c programs/common/image_gif.c programs/common/image_apng.c \
                       programs/common/image_ops.c programs/common/image_args.c programs/common/image_colour.c \
                       programs/common/image_smart.c programs/common/image_exif.c programs/common/image_encode.c \
                       programs/common/image_convert.c programs/common/image_watermark.c
PROGRAMS_IMAGE_HDRS := programs/common/image.h programs/common/image_internal.h programs/common/image_encode.h
PROGRAMS_IMAGE_LIBS := -lwebpmux -lwebpdemux -lwebp -lpng16 -ljpeg -lgif -lz -lm

PROGRAMS_CFLAGS := -Iprograms/common -Isdk

# unit test of the arg JSON parser and accessors (native)
$(BUILD)/tests/programs/json_test: programs/common/tests/json_test.c programs/common/json_reader.c programs/common/args.c \
                                   programs/common/json_reader.h programs/common/args.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROGRAMS_CFLAGS) -o $@ programs/common/tests/json_test.c programs/common/json_reader.c \
		programs/common/args.c -lm

TEST_TARGETS += $(BUILD)/tests/programs/json_test
TEST_COMMANDS += $(BUILD)/tests/programs/json_test

# fuzz test of the image programs' option parser against a statement of the rules, with ASan and UBSan (native)
$(BUILD)/tests/programs/options_fuzz: programs/common/tests/options_fuzz.c programs/common/json_reader.c programs/common/args.c \
                                      programs/common/image_args.c programs/common/json_reader.h programs/common/args.h \
                                      programs/common/image.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all $(PROGRAMS_CFLAGS) -o $@ \
		programs/common/tests/options_fuzz.c programs/common/json_reader.c programs/common/args.c \
		programs/common/image_args.c -lm

TEST_TARGETS += $(BUILD)/tests/programs/options_fuzz
TEST_COMMANDS += '$(BUILD)/tests/programs/options_fuzz 300000'


# mutated images through the decoders, options and encoders of the image programs, with ASan and UBSan (native)
$(BUILD)/tests/programs/decode_fuzz: programs/common/tests/decode_fuzz.c $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_IMAGE_SRCS) \
                                     $(PROGRAMS_COMMON_HDRS) $(PROGRAMS_IMAGE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all $(PROGRAMS_CFLAGS) -o $@ \
		programs/common/tests/decode_fuzz.c $(PROGRAMS_COMMON_SRCS) $(PROGRAMS_IMAGE_SRCS) $(PROGRAMS_IMAGE_LIBS)

TEST_TARGETS += $(BUILD)/tests/programs/decode_fuzz
TEST_COMMANDS += '$(BUILD)/tests/programs/decode_fuzz 1000 programs/common/testdata/animated.png \
	programs/common/testdata/trans-interlaced.gif programs/common/testdata/display-p3.png \
	programs/common/testdata/orient-6-exif.png programs/common/testdata/orient-6.jpg \
	programs/common/testdata/cmyk.jpg ../samples/no_time_for_that_tiny.gif'

# webp and avif against cwebp and avifenc, natively and in the sandbox (a Markdown table)
BENCH_COMMANDS += programs/common/tests/bench-images.sh
endif
