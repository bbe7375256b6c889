/*
 * image — the image program for per-request options: converts a JPEG, PNG, GIF or WebP body to the output
 * format the request asks for (WebP, AVIF, JPEG or PNG), resized, cropped and colour-managed as the options say.
 * Animated input becomes an animated WebP with format "webp"; any other format refuses it with 415 and a reason
 * starting "animated input:", so the filter serves the original.
 *
 * arg (JSON object, all keys optional):
 *   format      "webp" (default), "avif", "jpeg" or "png" (the filter resolves "auto" before calling)
 *   quality     0..100; default 80 for webp and jpeg, 60 for avif; png is lossless and ignores it
 *   method, lossless   webp only (see the webp program); speed: avif only (see the avif program)
 *   and the shared image options (width, height, fit, gravity, dpr, enlarge, background, resize, crop, icc,
 *   max_pixels, max_frames, watermark): see docs/writing-programs.md, "Options of the image programs".
 * Answers the format's media type, or 400/413/415/422 with X-Failed (see programs/common/program.h); 500 for a
 * watermark file that cannot be read or decoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "avif_image.h"
#include "image.h"
#include "image_encode.h"
#include "program.h"

static const char *const allowed_keys[] = {"format", "quality", "method", "lossless", "speed", IMAGE_OPTION_KEYS,
                                           NULL};

enum format { FORMAT_WEBP, FORMAT_AVIF, FORMAT_JPEG, FORMAT_PNG };
static const char *const format_names[] = {"webp", "avif", "jpeg", "png", NULL};
static const char *const media_types[] = {"image/webp", "image/avif", "image/jpeg", "image/png"};

/* Fails when key is present but belongs to another format. */
static bool only_for(const struct json_value *args, const char *key, enum format owner, enum format chosen,
                     char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(args, key);
	if (v && owner != chosen) {
		snprintf(err, err_size, "arg: \"%s\" (byte %zu) applies to format \"%s\" only; format is \"%s\"", key,
		         v->offset, format_names[owner], format_names[chosen]);
		return false;
	}
	return true;
}

static void transform(const struct program_input *in, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX];
	struct json_value *args = args_parse(in->arg, err, sizeof(err));
	struct image_options options;
	struct image_webp_settings webp;
	struct image img = {0, 0, NULL, NULL, 0};
	int format;
	long quality, speed;
	uint8_t *file = NULL;
	size_t len = 0;
	bool ok;
	if (!args || !args_check_keys(args, allowed_keys, err, sizeof(err)) ||
	    !args_get_choice(args, "format", format_names, FORMAT_WEBP, &format, err, sizeof(err)) ||
	    !only_for(args, "method", FORMAT_WEBP, format, err, sizeof(err)) ||
	    !only_for(args, "lossless", FORMAT_WEBP, format, err, sizeof(err)) ||
	    !only_for(args, "speed", FORMAT_AVIF, format, err, sizeof(err)) ||
	    !args_get_int(args, "quality", 0, 100,
	                  format == FORMAT_AVIF ? AVIF_DEFAULT_QUALITY : format == FORMAT_JPEG ? IMAGE_JPEG_DEFAULT_QUALITY
	                                                                                       : IMAGE_WEBP_DEFAULT_QUALITY,
	                  &quality, err, sizeof(err)) ||
	    !args_get_int(args, "method", 0, 6, IMAGE_WEBP_DEFAULT_METHOD, &webp.method, err, sizeof(err)) ||
	    !args_get_bool(args, "lossless", false, &webp.lossless, err, sizeof(err)) ||
	    !args_get_int(args, "speed", 0, 10, AVIF_DEFAULT_SPEED, &speed, err, sizeof(err)) ||
	    !image_options_read(args, &options, err, sizeof(err))) {
		json_free(args);
		program_fail(out, 400, "%s", err);
		return;
	}
	json_free(args);
	webp.quality = quality;
	if (format == FORMAT_WEBP) {
		image_convert_to_webp(in, &options, &webp, out);
		return;
	}
	if (!image_load_still(in->data, in->len, &options, media_types[format], &img, out))
		return;
	switch (format) {
	case FORMAT_AVIF: ok = avif_encode_image(&img, quality, speed, &file, &len, err, sizeof(err)); break;
	case FORMAT_JPEG: ok = image_encode_jpeg(&img, quality, options.background, &file, &len, err, sizeof(err)); break;
	default: ok = image_encode_png(&img, &file, &len, err, sizeof(err)); break;
	}
	image_free(&img);
	if (!ok)
		program_fail(out, 500, "%s", err);
	else
		program_succeed(out, media_types[format], file, len);
}

/* One small conversion per output format before the VM is frozen, so that every encoder's one-time set-up
 * (CPU dispatch tables, static lookup tables) is part of the frozen state. */
static void warm_up(void)
{
	static const char *const args[] = {"{\"format\":\"webp\",\"width\":8}", "{\"format\":\"avif\",\"width\":8}",
	                                   "{\"format\":\"jpeg\",\"width\":8}", "{\"format\":\"png\",\"width\":8}"};
	struct image img = {16, 16, NULL, NULL, 0};
	uint8_t *png = NULL;
	size_t png_len = 0;
	char err[PROGRAM_REASON_MAX];
	img.rgba = malloc(16 * 16 * 4);
	if (!img.rgba)
		return;
	memset(img.rgba, 200, 16 * 16 * 4);
	if (image_encode_png(&img, &png, &png_len, err, sizeof(err))) {
		for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
			struct program_input in = {args[i], "image/png", png, png_len};
			struct program_output out;
			memset(&out, 0, sizeof(out));
			transform(&in, &out);
			free(out.body);
		}
		free(png);
	}
	image_free(&img);
}

int main(int argc, char **argv)
{
	static const struct program_spec spec = {"image", transform, warm_up};
	return program_main(argc, argv, &spec);
}
