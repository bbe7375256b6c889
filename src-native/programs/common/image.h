/*
 * image.h — decoding and geometric operations shared by the image programs (webp, avif).
 *
 * Every decoder produces 8-bit RGBA (4 bytes per pixel, no padding). Decoders check the pixel count from the
 * header against max_pixels BEFORE allocating or decoding anything. Failures are recorded in a program_output
 * with the HTTP status the program answers: 415 unsupported type, 422 truncated or corrupt data, 413 too many
 * pixels, 400 bad options. Decoders never print, never exit and never return a partial image.
 */
#ifndef PROGRAMS_IMAGE_H
#define PROGRAMS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "json.h"
#include "program.h"

enum image_format { IMAGE_UNKNOWN, IMAGE_JPEG, IMAGE_PNG, IMAGE_GIF, IMAGE_WEBP };

/* Bit masks of enum image_format values, for the `accepted` argument of image_decode(). */
#define IMAGE_ACCEPT(format) (1u << (format))

struct image {
	uint32_t width;
	uint32_t height;
	uint8_t *rgba; /* width * height * 4 bytes, malloc'd */
};

/* The largest width or height accepted anywhere (WebP's limit; plenty for web images). */
#define IMAGE_MAX_SIDE 16383

/* Options shared by the image programs. */
struct image_options {
	bool resize_given;
	long resize[2]; /* width, height; 0 keeps the aspect ratio */
	bool crop_given;
	long crop[4]; /* x, y, width, height, applied before resize */
	long max_pixels;
};

#define IMAGE_DEFAULT_MAX_PIXELS 50000000L
#define IMAGE_MAX_MAX_PIXELS 250000000L

/* Reads "resize", "crop" and "max_pixels" from the arg object (unknown keys are checked by the caller). */
bool image_options_read(const struct json_value *args, struct image_options *options, char *err, size_t err_size);

/* The format from the first bytes (the Content-Type header is only a hint and is not used). */
enum image_format image_detect(const uint8_t *data, size_t len);
const char *image_format_name(enum image_format format);

/* Decodes data into *img (first frame for GIF and animated WebP; EXIF orientation applied for JPEG). Formats
 * outside `accepted` are answered 415. On failure records it in *out and returns false. */
bool image_decode(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, struct image *img,
                  struct program_output *out);

/* Applies crop then resize from options. Records 400 (crop outside the image) or 413 (output above max_pixels)
 * in *out and returns false on failure. */
bool image_apply_options(struct image *img, const struct image_options *options, struct program_output *out);

/* The formats every image program reads. */
#define IMAGE_ACCEPT_ALL \
	(IMAGE_ACCEPT(IMAGE_JPEG) | IMAGE_ACCEPT(IMAGE_PNG) | IMAGE_ACCEPT(IMAGE_GIF) | IMAGE_ACCEPT(IMAGE_WEBP))

/* image_decode() then image_apply_options(): the input as the program should encode it. On failure records
 * it in *out and returns false, with nothing left to free. */
bool image_load(const uint8_t *data, size_t len, unsigned accepted, const struct image_options *options,
                struct image *img, struct program_output *out);

/* True when some pixel has alpha below 255. */
bool image_has_transparency(const struct image *img);

/* Reorients img for an EXIF orientation value 1..8 (others are ignored). Returns false when out of memory. */
bool image_orient(struct image *img, int orientation);

/* The EXIF orientation (1..8) from an APP1 "Exif" payload, or 1 when absent or unreadable. */
int image_exif_orientation(const uint8_t *app1, size_t len);

void image_free(struct image *img);

#endif
