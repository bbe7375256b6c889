/*
 * webp — converts a JPEG, PNG, GIF (first frame) or WebP body to WebP.
 *
 * arg (JSON object, all keys optional):
 *   quality     0..100, default 80 (lossy quality, or effort for lossless)
 *   method      0..6, default 4 (speed/size trade-off: 0 fastest, 6 smallest)
 *   lossless    true/false, default false
 *   resize      [width, height]; 0 keeps the aspect ratio
 *   crop        [x, y, width, height], applied before resize (on the EXIF-oriented image)
 *   max_pixels  default 50000000, checked from the header before decoding
 * Answers image/webp, or 400/413/415/422 with X-Failed (see programs/common/program.h).
 */
#include <stdlib.h>
#include <string.h>

#include <webp/encode.h>

#include "args.h"
#include "image.h"
#include "program.h"

static const char *const allowed_keys[] = {"quality", "method", "lossless", "resize", "crop", "max_pixels", NULL};

static const char *encode_error_text(WebPEncodingError code)
{
	switch (code) {
	case VP8_ENC_ERROR_OUT_OF_MEMORY:
	case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory";
	case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimension";
	case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow (try a lower quality)";
	case VP8_ENC_ERROR_FILE_TOO_BIG: return "output too big";
	default: return "encoder error";
	}
}

static void webp_free(void *p)
{
	WebPFree(p);
}

static void transform(const struct program_input *in, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX];
	struct json_value *args = args_parse(in->arg, err, sizeof(err));
	struct image_options options;
	struct image img = {0, 0, NULL};
	long quality, method;
	bool lossless;
	WebPConfig config;
	WebPPicture picture;
	WebPMemoryWriter writer;
	int imported;
	if (!args || !args_check_keys(args, allowed_keys, err, sizeof(err)) ||
	    !args_get_int(args, "quality", 0, 100, 80, &quality, err, sizeof(err)) ||
	    !args_get_int(args, "method", 0, 6, 4, &method, err, sizeof(err)) ||
	    !args_get_bool(args, "lossless", false, &lossless, err, sizeof(err)) ||
	    !image_options_read(args, &options, err, sizeof(err))) {
		json_free(args);
		program_fail(out, 400, "%s", err);
		return;
	}
	json_free(args);
	if (!image_load(in->data, in->len, IMAGE_ACCEPT_ALL, &options, &img, out))
		return;
	if (!WebPConfigInit(&config) || !WebPPictureInit(&picture)) {
		image_free(&img);
		program_fail(out, 500, "libwebp version mismatch");
		return;
	}
	config.quality = (float)quality;
	config.method = (int)method;
	config.lossless = lossless;
	config.thread_level = 0; /* one thread: guests run single-threaded */
	picture.use_argb = lossless;
	picture.width = (int)img.width;
	picture.height = (int)img.height;
	/* Without transparency import RGB only, so no alpha plane is stored. */
	if (image_has_transparency(&img))
		imported = WebPPictureImportRGBA(&picture, img.rgba, (int)img.width * 4);
	else
		imported = WebPPictureImportRGBX(&picture, img.rgba, (int)img.width * 4);
	image_free(&img);
	if (!imported) {
		WebPPictureFree(&picture);
		program_fail(out, 500, "out of memory importing the picture");
		return;
	}
	WebPMemoryWriterInit(&writer);
	picture.writer = WebPMemoryWrite;
	picture.custom_ptr = &writer;
	if (!WebPEncode(&config, &picture)) {
		program_fail(out, 500, "WebP encoding failed: %s", encode_error_text(picture.error_code));
		WebPPictureFree(&picture);
		WebPMemoryWriterClear(&writer);
		return;
	}
	WebPPictureFree(&picture);
	program_succeed(out, "image/webp", writer.mem, writer.size);
	out->body_free = webp_free;
}

/* Runs one tiny conversion before the VM is frozen, so that libwebp's one-time set-up (CPU-specific function
 * tables) is part of the frozen state instead of being redone by every request. */
static void warm_up(void)
{
	static const char arg[] = "{\"resize\":[8,8]}";
	/* The input is a 16x16 WebP made by libwebp itself, so no test file has to be embedded. */
	uint8_t pixels[16 * 16 * 4];
	uint8_t *encoded = NULL;
	size_t size;
	struct program_input in;
	struct program_output out;
	memset(pixels, 128, sizeof(pixels));
	size = WebPEncodeRGBA(pixels, 16, 16, 16 * 4, 80, &encoded);
	if (size == 0)
		return;
	in.arg = arg;
	in.content_type = "image/webp";
	in.data = encoded;
	in.len = size;
	memset(&out, 0, sizeof(out));
	transform(&in, &out);
	if (out.body)
		WebPFree(out.body);
	WebPFree(encoded);
}

int main(int argc, char **argv)
{
	static const struct program_spec spec = {"webp", transform};
	if (getenv("KVM_NAME"))
		warm_up();
	return program_main(argc, argv, &spec);
}
