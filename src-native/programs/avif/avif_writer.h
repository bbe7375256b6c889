/*
 * avif_writer.h — the AVIF (HEIF/ISOBMFF) still-image container around AV1 data.
 *
 * Layout: ftyp (avif; compatible avif, mif1, miaf), meta (hdlr 'pict', pitm, iloc, iinf with 'av01' infe
 * entries, iref 'auxl' when there is alpha, iprp: ipco with ispe, av1C, pixi, colr nclx, colr prof (an ICC
 * profile, when given), auxC; ipma), mdat.
 * Item 1 is the colour image; item 2, when present, the alpha auxiliary image.
 */
#ifndef AVIF_WRITER_H
#define AVIF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "av1_encoder.h"

/* Writes the file into a malloc'd buffer. alpha and icc may be NULL. Returns false when out of memory. */
bool avif_write(uint32_t width, uint32_t height, const struct av1_encoded *color, const struct av1_encoded *alpha,
                const uint8_t *icc, size_t icc_len, uint8_t **out, size_t *out_len);

#endif
