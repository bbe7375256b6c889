/*
 * avif — converts a JPEG, PNG, GIF (first frame) or WebP body to AVIF (AV1 via libaom in our own container).
 *
 * arg (JSON object, all keys optional):
 *   quality     0..100, default 60; mapped linearly to the AV1 quantizer 63..0 (cq-level, min and max q)
 *   speed       0..10, default 8; libaom cpu-used (10 is treated as 9, libaom's fastest all-intra speed).
 *               Defaults chosen for on-the-fly serving: a 1080p photo encodes in about 0.3 s on one core.
 *   resize      [width, height]; 0 keeps the aspect ratio
 *   crop        [x, y, width, height], applied before resize (on the EXIF-oriented image)
 *   max_pixels  default 50000000, checked from the header before decoding
 * Colour is 8-bit YUV 4:2:0, BT.601 full range (see av1_encoder.h). Any non-opaque pixel adds an alpha
 * auxiliary image. Answers image/avif, or 400/413/415/422 with X-Failed (see programs/common/program.h).
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "av1_encoder.h"
#include "avif_writer.h"
#include "image.h"
#include "program.h"

#define AVIF_DEFAULT_QUALITY 60
#define AVIF_DEFAULT_SPEED 8

static const char *const allowed_keys[] = {"quality", "speed", "resize", "crop", "max_pixels", NULL};

static void transform(const struct program_input *in, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX];
	struct json_value *args = args_parse(in->arg, err, sizeof(err));
	struct image_options options;
	struct image img = {0, 0, NULL};
	struct av1_encoded color, alpha;
	bool has_alpha;
	long quality, speed;
	int quantizer;
	uint8_t *file;
	size_t file_len;
	if (!args || !args_check_keys(args, allowed_keys, err, sizeof(err)) ||
	    !args_get_int(args, "quality", 0, 100, AVIF_DEFAULT_QUALITY, &quality, err, sizeof(err)) ||
	    !args_get_int(args, "speed", 0, 10, AVIF_DEFAULT_SPEED, &speed, err, sizeof(err)) ||
	    !image_options_read(args, &options, err, sizeof(err))) {
		json_free(args);
		program_fail(out, 400, "%s", err);
		return;
	}
	json_free(args);
	if (!image_load(in->data, in->len, IMAGE_ACCEPT_ALL, &options, &img, out))
		return;
	quantizer = (int)(((100 - quality) * 63 + 50) / 100);
	if (!avif_encode_av1(&img, false, quantizer, speed > 9 ? 9 : (int)speed, &color, err, sizeof(err))) {
		image_free(&img);
		program_fail(out, 500, "%s", err);
		return;
	}
	has_alpha = image_has_transparency(&img);
	/* Alpha at half the colour quantizer: errors at transparent edges show more than colour noise, and the alpha
	 * plane of a typical image is flat, so this costs few bytes. */
	if (has_alpha && !avif_encode_av1(&img, true, quantizer / 2, speed > 9 ? 9 : (int)speed, &alpha, err, sizeof(err))) {
		image_free(&img);
		avif_av1_free(&color);
		program_fail(out, 500, "alpha: %s", err);
		return;
	}
	if (!avif_write(img.width, img.height, &color, has_alpha ? &alpha : NULL, &file, &file_len)) {
		program_fail(out, 500, "out of memory writing the AVIF file");
		file = NULL;
	} else {
		program_succeed(out, "image/avif", file, file_len);
	}
	image_free(&img);
	avif_av1_free(&color);
	if (has_alpha)
		avif_av1_free(&alpha);
}

/* Encodes a small image once before the VM is frozen, so that libaom's one-time set-up (CPU dispatch tables, static
 * lookup tables) is part of the frozen state instead of being redone by every request. */
static void warm_up(void)
{
	struct image img = {16, 16, NULL};
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
	static const struct program_spec spec = {"avif", transform};
	if (getenv("KVM_NAME"))
		warm_up();
	return program_main(argc, argv, &spec);
}
