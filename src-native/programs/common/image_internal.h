/* image_internal.h — helpers shared by the decoder files (image_decode.c, image_gif.c, image_apng.c) and by the
 * geometry and watermark code (image_ops.c, image_watermark.c). */
#ifndef PROGRAMS_IMAGE_INTERNAL_H
#define PROGRAMS_IMAGE_INTERNAL_H

#include "image.h"

/* 422 for an empty size, 413 above max_pixels. */
bool image_check_pixels(uint64_t width, uint64_t height, long max_pixels, const char *format,
                        struct program_output *out);

/* img->rgba for width x height (uninitialised); 500 when out of memory. */
bool image_allocate(struct image *img, uint32_t width, uint32_t height, struct program_output *out);

/* The size of a JPEG as displayed (EXIF orientation applied) from its headers; false when they do not parse. */
bool image_jpeg_size(const uint8_t *data, size_t len, uint32_t *width, uint32_t *height);

/* image_decode(), with a JPEG decoded at 1/jpeg_denom of its size (1, 2, 4 or 8; other formats ignore it). */
bool image_decode_shrunk(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, unsigned jpeg_denom,
                         struct image *img, struct program_output *out);

/* A complete PNG in memory to RGBA, with its ICC profile; `what` names it in messages ("PNG", "APNG frame 3").
 * orientation, when not NULL, receives the eXIf chunk's orientation (1 without one); it is not applied. */
bool image_decode_png(const uint8_t *data, size_t len, long max_pixels, const char *what, int *orientation,
                      struct image *img, struct program_output *out);

/* GIF: frame count and loop count from the block structure; 422 when there is no image at all. */
bool image_gif_probe(const uint8_t *data, size_t len, struct image_info *info, struct program_output *out);
/* Decodes up to `limit` frames (composited), calling fn for each. */
bool image_gif_frames(const uint8_t *data, size_t len, long max_pixels, unsigned limit, image_frame_fn fn,
                      void *ctx, struct program_output *out);

/* APNG: frames = acTL's num_frames (1 without acTL), loop_count = num_plays. */
bool image_apng_probe(const uint8_t *data, size_t len, struct image_info *info, struct program_output *out);
bool image_apng_frames(const uint8_t *data, size_t len, const struct image_info *info, long max_pixels,
                       image_frame_fn fn, void *ctx, struct program_output *out);

/* Resamples img to out_w x out_h with the programs' resizer (Lanczos-3 on premultiplied alpha in linear light),
 * converting its colours through icc when given; the same size only converts. False when out of memory. */
bool image_resample(struct image *img, uint32_t out_w, uint32_t out_h, const struct image_icc_transform *icc);

/* Composites the watermark wm onto img (image_watermark.c), read from its file on first use and kept for the next
 * requests of the process. The scaled mark may have at most max_pixels pixels. Records 500 in *out (file missing,
 * unreadable or not an image, out of memory) and returns false on failure. */
bool image_watermark_apply(struct image *img, const struct image_watermark *wm, long max_pixels,
                           struct program_output *out);

#endif
