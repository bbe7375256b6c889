/*
 * image_smart.c — gravity "smart": where to crop so that the detailed part of a photo stays. The score of a
 * window is the edge energy of the luma inside it (sum of absolute differences to the right and lower
 * neighbours, on a grid of at most about 256 x 256 samples), so a subject in front of sky, wall or blur wins over
 * the flat parts. Cheap (one pass over the samples, prefix sums to slide the window) and deterministic.
 */
#include "image.h"

#include <stdlib.h>

static int luma(const uint8_t *p)
{
	return (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8;
}

void image_smart_window(const struct image *img, uint32_t rx, uint32_t ry, uint32_t rw, uint32_t rh,
                        uint32_t window_w, uint32_t window_h, uint32_t *x, uint32_t *y)
{
	/* The window is as wide or as tall as the region (cover crops one axis), so only one offset varies. */
	bool horizontal = window_w < rw;
	uint32_t along = horizontal ? rw : rh, across = horizontal ? rh : rw, window = horizontal ? window_w : window_h;
	uint32_t step = (along > across ? along : across) / 256 + 1;
	uint32_t slots = (along + step - 1) / step;
	double *energy = calloc((size_t)slots + 1, sizeof(double));
	double best = -1;
	uint32_t best_offset = (along - window) / 2;
	*x = horizontal ? best_offset : 0;
	*y = horizontal ? 0 : best_offset;
	if (!energy || window >= along)
		goto done;
	/* energy[s + 1] = prefix sum of the edge energy of the sample slots 0..s along the moving axis. */
	for (uint32_t a = 0; a + step < along; a += step) {
		double sum = 0;
		for (uint32_t b = 0; b + step < across; b += step) {
			uint32_t px = horizontal ? a : b, py = horizontal ? b : a;
			const uint8_t *p = img->rgba + ((size_t)(ry + py) * img->width + rx + px) * 4;
			int here = luma(p), right = luma(p + (size_t)step * 4), down = luma(p + (size_t)step * img->width * 4);
			/* Transparent pixels carry no detail. */
			sum += (abs(here - right) + abs(here - down)) * (p[3] / 255.0);
		}
		energy[a / step + 1] = sum;
	}
	for (uint32_t s = 1; s <= slots; s++)
		energy[s] += energy[s - 1];
	for (uint32_t offset = 0; offset + window <= along; offset += step) {
		uint32_t first = offset / step, last = (offset + window) / step;
		double score = energy[last > slots ? slots : last] - energy[first];
		uint32_t centre = (along - window) / 2;
		uint32_t distance = offset > centre ? offset - centre : centre - offset;
		uint32_t best_distance = best_offset > centre ? best_offset - centre : centre - best_offset;
		if (score > best * 1.0001 || (score >= best * 0.9999 && distance < best_distance)) {
			best = score;
			best_offset = offset;
		}
	}
	if (best_offset + window > along)
		best_offset = along - window;
	*x = horizontal ? best_offset : 0;
	*y = horizontal ? 0 : best_offset;
done:
	free(energy);
}
