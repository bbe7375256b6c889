/*
 * image_encode.h — RGBA images to WebP (still and animated; libwebp, libwebpmux), JPEG (libjpeg-turbo) and PNG
 * (libpng). An ICC profile in img->icc is written into the output (WebP ICCP chunk, JPEG APP2 ICC_PROFILE, PNG
 * iCCP); nothing else from the input (EXIF, XMP, text) is. Each returns a malloc'd file, or false with a reason
 * in err.
 */
#ifndef PROGRAMS_IMAGE_ENCODE_H
#define PROGRAMS_IMAGE_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

struct image_webp_settings {
	long quality; /* 0..100: lossy quality, or effort for lossless */
	long method;  /* 0..6: speed/size trade-off */
	bool lossless;
};

#define IMAGE_WEBP_DEFAULT_QUALITY 80
#define IMAGE_WEBP_DEFAULT_METHOD 4
#define IMAGE_JPEG_DEFAULT_QUALITY 80

bool image_encode_webp(const struct image *img, const struct image_webp_settings *settings, uint8_t **file,
                       size_t *len, char *err, size_t err_size);

/* JPEG has no alpha: img is composited over background (its RGB) first. 4:2:0 chroma below quality 90, 4:4:4
 * from 90; progressive when larger than 10 kilopixels (smaller files for photos), optimised Huffman tables. */
bool image_encode_jpeg(struct image *img, long quality, const uint8_t background[4], uint8_t **file, size_t *len,
                       char *err, size_t err_size);

/* 8-bit RGB or RGBA (RGBA only when some pixel is transparent), zlib level 6 with adaptive filters. */
bool image_encode_png(const struct image *img, uint8_t **file, size_t *len, char *err, size_t err_size);

/* An animated WebP being built frame by frame (libwebp's WebPAnimEncoder picks each frame's sub-rectangle,
 * disposal and blending itself, from the full canvases it is given). */
struct image_webp_animation;

struct image_webp_animation *image_webp_animation_begin(uint32_t width, uint32_t height, int loop_count,
                                                        const struct image_webp_settings *settings, char *err,
                                                        size_t err_size);
/* Adds a canvas shown for duration_ms. */
bool image_webp_animation_add(struct image_webp_animation *anim, const struct image *canvas, int duration_ms,
                              char *err, size_t err_size);
/* Assembles the file (with icc, when given, as an ICCP chunk) and frees anim. */
bool image_webp_animation_finish(struct image_webp_animation *anim, const uint8_t *icc, size_t icc_len,
                                 uint8_t **file, size_t *len, char *err, size_t err_size);
/* Frees anim without producing a file. */
void image_webp_animation_abort(struct image_webp_animation *anim);


/* The whole of a conversion to WebP for a program: probe, then a still image, or every frame of an animation
 * (same crop and size for all, delays and loop count kept), options applied; the result or the failure in out. */
void image_convert_to_webp(const struct program_input *in, const struct image_options *options,
                           const struct image_webp_settings *settings, struct program_output *out);

#endif
