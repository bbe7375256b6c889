/*
 * av1_encoder.h — one still picture to AV1 with libaom (all-intra, single thread).
 *
 * Encoder settings: constant quantizer (end usage Q, cq-level = min = max quantizer), tuned for SSIM, one key
 * frame with a reduced still-picture header — the settings avifenc 0.11 uses at the same quantizer and speed,
 * so that files match its size and SSIM (see docs/benchmarks.md, the image programs).
 * Colour: 8-bit YUV 4:2:0 from RGB with the BT.601 matrix, full range, signalled as primaries 1 (BT.709/sRGB),
 * transfer 13 (sRGB), matrix 6 (BT.601), full range — the same values the container's colr box carries.
 * Alpha: the alpha channel as a monochrome (4:0:0) full-range picture.
 */
#ifndef AVIF_AV1_ENCODER_H
#define AVIF_AV1_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "av1_sequence_header.h"
#include "image.h"

#define AV1_COLOR_PRIMARIES 1 /* BT.709 / sRGB */
#define AV1_TRANSFER 13       /* sRGB */
#define AV1_MATRIX 6          /* BT.601 */
#define AV1_FULL_RANGE 1

struct av1_encoded {
	uint8_t *obus; /* the item data: the encoder's OBUs without temporal delimiters, malloc'd */
	size_t len;
	size_t sequence_header_offset; /* where the whole sequence header OBU sits in obus */
	size_t sequence_header_len;
	struct av1_sequence_info info;
};

/* Encodes img's colour (alpha == false) or its alpha channel (alpha == true). quantizer 0..63 (lower is better),
 * cpu_used is libaom's speed (0 slowest .. 9 fastest for all-intra). On failure writes a message to err. */
bool avif_encode_av1(const struct image *img, bool alpha, int quantizer, int cpu_used, struct av1_encoded *out, char *err,
                size_t err_size);

void avif_av1_free(struct av1_encoded *encoded);

#endif
