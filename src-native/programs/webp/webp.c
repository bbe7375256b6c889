/*
 * webp — converts a JPEG, PNG, GIF or WebP body to WebP. Animations (GIF, APNG, animated WebP) stay animations:
 * every frame, its delay, the loop count, and how frames combine (disposal and blending, re-derived by libwebp's
 * animation encoder from the composited frames).
 *
 * arg (JSON object, all keys optional):
 *   quality     0..100, default 80 (lossy quality, or effort for lossless)
 *   method      0..6, default 4 (speed/size trade-off: 0 fastest, 6 smallest)
 *   lossless    true/false, default false
 *   and the shared image options (width, height, fit, gravity, dpr, resize, crop, icc, max_pixels, max_frames,
 *   watermark...): see docs/writing-programs.md, "Options of the image programs".
 * Answers image/webp, or 400/413/415/422 with X-Failed (see programs/common/program.h); 500 for a watermark file
 * that cannot be read or decoded.
 */
#include <stdlib.h>
#include <string.h>

#include <webp/encode.h>

#include "args.h"
#include "image.h"
#include "image_encode.h"
#include "program.h"

static const char *const allowed_keys[] = {"quality", "method", "lossless", IMAGE_OPTION_KEYS, NULL};

static void transform(const struct program_input *in, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX];
	struct json_value *args = args_parse(in->arg, err, sizeof(err));
	struct image_options options;
	struct image_webp_settings settings;
	if (!args || !args_check_keys(args, allowed_keys, err, sizeof(err)) ||
	    !args_get_int(args, "quality", 0, 100, IMAGE_WEBP_DEFAULT_QUALITY, &settings.quality, err, sizeof(err)) ||
	    !args_get_int(args, "method", 0, 6, IMAGE_WEBP_DEFAULT_METHOD, &settings.method, err, sizeof(err)) ||
	    !args_get_bool(args, "lossless", false, &settings.lossless, err, sizeof(err)) ||
	    !image_options_read(args, &options, err, sizeof(err))) {
		json_free(args);
		program_fail(out, 400, "%s", err);
		return;
	}
	json_free(args);
	image_convert_to_webp(in, &options, &settings, out);
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
	free(out.body);
	WebPFree(encoded);
}

int main(int argc, char **argv)
{
	static const struct program_spec spec = {"webp", transform, warm_up};
	return program_main(argc, argv, &spec);
}
