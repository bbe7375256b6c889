/*
 * avif — converts a JPEG, PNG, GIF or WebP body to AVIF (AV1 via libaom in our own container). Animated input
 * (GIF, APNG, WebP with more than one frame) is refused with status 415 and an X-Failed reason that starts with
 * "animated input:", so the filter serves the original.
 *
 * arg (JSON object, all keys optional):
 *   quality     0..100, default 60; mapped linearly to the AV1 quantizer 63..0 (cq-level, min and max q)
 *   speed       0..10, default 8; libaom cpu-used (10 is treated as 9, libaom's fastest all-intra speed).
 *               Defaults chosen for on-the-fly serving: a 1080p photo encodes in about 0.3 s on one core.
 *   and the shared image options (width, height, fit, gravity, dpr, resize, crop, icc, watermark...): see
 *   docs/writing-programs.md, "Options of the image programs".
 * Colour is 8-bit YUV 4:2:0, BT.601 full range (see av1_encoder.h). Any non-opaque pixel adds an alpha
 * auxiliary image. Answers image/avif, or 400/413/415/422 with X-Failed (see programs/common/program.h); 500 for a
 * watermark file that cannot be read or decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "av1_encoder.h"
#include "avif_image.h"
#include "image.h"
#include "program.h"

static const char *const allowed_keys[] = {"quality", "speed", IMAGE_OPTION_KEYS, NULL};

static void transform(const struct program_input *in, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX];
	struct json_value *args = args_parse(in->arg, err, sizeof(err));
	struct image_options options;
	struct image img = {0, 0, NULL, NULL, 0};
	long quality, speed;
	uint8_t *file;
	size_t file_len;
	bool valid = args && args_check_keys(args, allowed_keys, err, sizeof(err)) &&
	             args_get_int(args, "quality", 0, 100, AVIF_DEFAULT_QUALITY, &quality, err, sizeof(err)) &&
	             args_get_int(args, "speed", 0, 10, AVIF_DEFAULT_SPEED, &speed, err, sizeof(err)) &&
	             image_options_read(args, &options, err, sizeof(err));
	json_free(args);
	if (!valid) {
		program_fail(out, 400, "%s", err);
		return;
	}
	if (!image_load_still(in->data, in->len, &options, "image/avif", &img, out))
		return;
	if (!avif_encode_image(&img, quality, speed, &file, &file_len, err, sizeof(err)))
		program_fail(out, 500, "%s", err);
	else
		program_succeed(out, "image/avif", file, file_len);
	image_free(&img);
}

/* Encodes a small image once before the VM is frozen, so that libaom's one-time set-up (CPU dispatch tables, static
 * lookup tables) is part of the frozen state instead of being redone by every request. */
static void warm_up(void)
{
	struct image img = {16, 16, NULL, NULL, 0};
	struct av1_encoded encoded;
	char err[PROGRAM_REASON_MAX];
	img.rgba = calloc(16 * 16, 4);
	if (!img.rgba)
		return;
	if (avif_encode_av1(&img, false, 25, AVIF_DEFAULT_SPEED, &encoded, err, sizeof(err)))
		avif_av1_free(&encoded);
	if (avif_encode_av1(&img, true, 12, AVIF_DEFAULT_SPEED, &encoded, err, sizeof(err)))
		avif_av1_free(&encoded);
	image_free(&img);
}

int main(int argc, char **argv)
{
	static const struct program_spec spec = {"avif", transform, warm_up};
	return program_main(argc, argv, &spec);
}
