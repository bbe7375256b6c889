/* avif_image.c — an RGBA image to a complete AVIF file; see avif_image.h. */
#include "avif_image.h"

#include <stdio.h>

#include "av1_encoder.h"
#include "avif_writer.h"

bool avif_encode_image(const struct image *img, long quality, long speed, uint8_t **file, size_t *file_len,
                       char *err, size_t err_size)
{
	struct av1_encoded color, alpha;
	int quantizer = (int)(((100 - quality) * 63 + 50) / 100);
	int cpu_used = speed > 9 ? 9 : (int)speed;
	bool has_alpha = image_has_transparency(img), ok;
	if (!avif_encode_av1(img, false, quantizer, cpu_used, &color, err, err_size))
		return false;
	/* Alpha at half the colour quantizer: errors at transparent edges show more than colour noise, and the alpha
	 * plane of a typical image is flat, so this costs few bytes. */
	if (has_alpha && !avif_encode_av1(img, true, quantizer / 2, cpu_used, &alpha, err, err_size)) {
		avif_av1_free(&color);
		return false;
	}
	ok = avif_write(img->width, img->height, &color, has_alpha ? &alpha : NULL, img->icc, img->icc_len, file,
	                file_len);
	if (!ok)
		snprintf(err, err_size, "out of memory writing the AVIF file");
	avif_av1_free(&color);
	if (has_alpha)
		avif_av1_free(&alpha);
	return ok;
}
