/* avif_image.h — an RGBA image to a complete AVIF file (libaom for AV1, avif_writer for the container). */
#ifndef AVIF_IMAGE_H
#define AVIF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define AVIF_DEFAULT_QUALITY 60
#define AVIF_DEFAULT_SPEED 8

/* quality 0..100 maps linearly to the AV1 quantizer 63..0; speed 0..10 is libaom's cpu-used (10 runs as 9).
 * Any non-opaque pixel adds an alpha auxiliary image; img->icc, when set, becomes a colr 'prof' box. On failure
 * writes the reason into err and returns false. */
bool avif_encode_image(const struct image *img, long quality, long speed, uint8_t **file, size_t *file_len,
                       char *err, size_t err_size);

#endif
