/* image_ops.c — orientation, crop and resize of RGBA images. */
#include "image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void image_free(struct image *img)
{
	free(img->rgba);
	img->rgba = NULL;
	img->width = img->height = 0;
}

bool image_has_transparency(const struct image *img)
{
	size_t n = (size_t)img->width * img->height;
	for (size_t i = 0; i < n; i++)
		if (img->rgba[i * 4 + 3] != 255)
			return true;
	return false;
}

bool image_orient(struct image *img, int orientation)
{
	uint32_t w = img->width, h = img->height;
	bool swap = orientation >= 5 && orientation <= 8;
	uint32_t out_w = swap ? h : w, out_h = swap ? w : h;
	const uint32_t *src = (const uint32_t *)img->rgba;
	uint32_t *dst;
	if (orientation < 2 || orientation > 8)
		return true;
	dst = malloc((size_t)out_w * out_h * 4);
	if (!dst)
		return false;
	/* For each displayed pixel (x, y), the stored pixel it comes from (EXIF 2.3, tag 0x0112). */
	for (uint32_t y = 0; y < out_h; y++) {
		for (uint32_t x = 0; x < out_w; x++) {
			uint32_t sx, sy;
			switch (orientation) {
			case 2: sx = w - 1 - x; sy = y; break;         /* mirrored horizontally */
			case 3: sx = w - 1 - x; sy = h - 1 - y; break; /* rotated 180 */
			case 4: sx = x; sy = h - 1 - y; break;         /* mirrored vertically */
			case 5: sx = y; sy = x; break;                 /* transposed */
			case 6: sx = y; sy = h - 1 - x; break;         /* stored rotated 90 CCW: turn 90 CW */
			case 7: sx = w - 1 - y; sy = h - 1 - x; break; /* transversed */
			default: sx = w - 1 - y; sy = x; break;        /* 8: stored rotated 90 CW: turn 90 CCW */
			}
			dst[(size_t)y * out_w + x] = src[(size_t)sy * w + sx];
		}
	}
	free(img->rgba);
	img->rgba = (uint8_t *)dst;
	img->width = out_w;
	img->height = out_h;
	return true;
}

static bool crop(struct image *img, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint8_t *dst = malloc((size_t)w * h * 4);
	if (!dst)
		return false;
	for (uint32_t row = 0; row < h; row++)
		memcpy(dst + (size_t)row * w * 4, img->rgba + ((size_t)(y + row) * img->width + x) * 4, (size_t)w * 4);
	free(img->rgba);
	img->rgba = dst;
	img->width = w;
	img->height = h;
	return true;
}

/* The source pixels contributing to one output pixel along one axis, with normalised weights. */
struct taps {
	uint32_t first;
	uint32_t count;
	float *weights;
};

/* Triangle (linear) filter widened by the downscale factor: bilinear when enlarging, an area-like average of all
 * covered pixels when shrinking, so downscaled images do not alias. */
static struct taps *make_taps(uint32_t in, uint32_t out, float **storage)
{
	double scale = (double)out / in;
	double support = scale < 1.0 ? 1.0 / scale : 1.0;
	uint32_t max_taps = (uint32_t)ceil(support) * 2 + 2;
	struct taps *taps = calloc(out, sizeof(*taps));
	float *weights = calloc((size_t)out * max_taps, sizeof(float));
	if (!taps || !weights) {
		free(taps);
		free(weights);
		return NULL;
	}
	for (uint32_t o = 0; o < out; o++) {
		double center = (o + 0.5) / scale - 0.5;
		long lo = (long)floor(center - support) + 1, hi = (long)ceil(center + support) - 1;
		double total = 0;
		if (lo < 0)
			lo = 0;
		if (hi > (long)in - 1)
			hi = (long)in - 1;
		if (hi < lo)
			hi = lo = center < 0 ? 0 : (long)in - 1;
		if ((uint32_t)(hi - lo + 1) > max_taps)
			hi = lo + max_taps - 1;
		taps[o].first = (uint32_t)lo;
		taps[o].count = (uint32_t)(hi - lo + 1);
		taps[o].weights = weights + (size_t)o * max_taps;
		for (long i = lo; i <= hi; i++) {
			double wgt = 1.0 - fabs((double)i - center) / support;
			if (wgt < 0)
				wgt = 0;
			taps[o].weights[i - lo] = (float)wgt;
			total += wgt;
		}
		for (uint32_t i = 0; i < taps[o].count; i++)
			taps[o].weights[i] = total > 0 ? (float)(taps[o].weights[i] / total) : 1.0f / taps[o].count;
	}
	*storage = weights;
	return taps;
}

/* Resamples with premultiplied alpha, so transparent pixels do not bleed their colour into the edges. */
static bool resize(struct image *img, uint32_t out_w, uint32_t out_h)
{
	uint32_t in_w = img->width, in_h = img->height;
	float *xw = NULL, *yw = NULL, *row_buf = NULL, *mid = NULL;
	struct taps *xt = make_taps(in_w, out_w, &xw), *yt = make_taps(in_h, out_h, &yw);
	uint8_t *dst = malloc((size_t)out_w * out_h * 4);
	bool ok = false;
	mid = malloc((size_t)out_w * in_h * 4 * sizeof(float));
	row_buf = malloc((size_t)in_w * 4 * sizeof(float));
	if (!xt || !yt || !dst || !mid || !row_buf)
		goto done;
	/* Horizontal pass: each source row to out_w premultiplied float pixels. */
	for (uint32_t y = 0; y < in_h; y++) {
		const uint8_t *src = img->rgba + (size_t)y * in_w * 4;
		float *m = mid + (size_t)y * out_w * 4;
		for (uint32_t x = 0; x < in_w; x++) {
			float a = src[x * 4 + 3] / 255.0f;
			row_buf[x * 4 + 0] = src[x * 4 + 0] * a;
			row_buf[x * 4 + 1] = src[x * 4 + 1] * a;
			row_buf[x * 4 + 2] = src[x * 4 + 2] * a;
			row_buf[x * 4 + 3] = src[x * 4 + 3];
		}
		for (uint32_t o = 0; o < out_w; o++) {
			float acc[4] = {0, 0, 0, 0};
			const float *p = row_buf + (size_t)xt[o].first * 4;
			for (uint32_t i = 0; i < xt[o].count; i++, p += 4)
				for (int c = 0; c < 4; c++)
					acc[c] += p[c] * xt[o].weights[i];
			memcpy(m + (size_t)o * 4, acc, sizeof(acc));
		}
	}
	/* Vertical pass, then back to straight alpha. */
	for (uint32_t o = 0; o < out_h; o++) {
		uint8_t *d = dst + (size_t)o * out_w * 4;
		for (uint32_t x = 0; x < out_w; x++) {
			float acc[4] = {0, 0, 0, 0};
			for (uint32_t i = 0; i < yt[o].count; i++) {
				const float *p = mid + ((size_t)(yt[o].first + i) * out_w + x) * 4;
				for (int c = 0; c < 4; c++)
					acc[c] += p[c] * yt[o].weights[i];
			}
			float alpha = acc[3];
			for (int c = 0; c < 3; c++) {
				float v = alpha > 0.5f ? acc[c] * 255.0f / alpha : 0.0f;
				d[x * 4 + c] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : v + 0.5f);
			}
			d[x * 4 + 3] = (uint8_t)(alpha <= 0 ? 0 : alpha >= 255 ? 255 : alpha + 0.5f);
		}
	}
	free(img->rgba);
	img->rgba = dst;
	dst = NULL;
	img->width = out_w;
	img->height = out_h;
	ok = true;
done:
	free(xt);
	free(yt);
	free(xw);
	free(yw);
	free(mid);
	free(row_buf);
	free(dst);
	return ok;
}

bool image_load(const uint8_t *data, size_t len, unsigned accepted, const struct image_options *options,
                struct image *img, struct program_output *out)
{
	if (!image_decode(data, len, accepted, options->max_pixels, img, out))
		return false;
	if (!image_apply_options(img, options, out)) {
		image_free(img);
		return false;
	}
	return true;
}

bool image_apply_options(struct image *img, const struct image_options *o, struct program_output *out)
{
	if (o->crop_given) {
		if (o->crop[0] + o->crop[2] > (long)img->width || o->crop[1] + o->crop[3] > (long)img->height) {
			program_fail(out, 400, "arg: \"crop\" [%ld,%ld,%ld,%ld] reaches outside the %ux%u image", o->crop[0],
			             o->crop[1], o->crop[2], o->crop[3], img->width, img->height);
			return false;
		}
		if (!crop(img, (uint32_t)o->crop[0], (uint32_t)o->crop[1], (uint32_t)o->crop[2], (uint32_t)o->crop[3])) {
			program_fail(out, 500, "out of memory while cropping");
			return false;
		}
	}
	if (o->resize_given && (o->resize[0] != 0 || o->resize[1] != 0)) {
		/* A 0 side follows the aspect ratio of the (cropped) image, rounded, at least 1. */
		double w = (double)o->resize[0], h = (double)o->resize[1];
		if (w == 0)
			w = fmax(1.0, floor(h * img->width / img->height + 0.5));
		if (h == 0)
			h = fmax(1.0, floor(w * img->height / img->width + 0.5));
		if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE) {
			program_fail(out, 413, "resize to %.0fx%.0f: a side above %d pixels", w, h, IMAGE_MAX_SIDE);
			return false;
		}
		if (w * h > (double)o->max_pixels) {
			program_fail(out, 413, "resize to %.0fx%.0f gives %.0f pixels, more than max_pixels %ld", w, h, w * h,
			             o->max_pixels);
			return false;
		}
		if ((uint32_t)w != img->width || (uint32_t)h != img->height) {
			if (!resize(img, (uint32_t)w, (uint32_t)h)) {
				program_fail(out, 500, "out of memory while resizing");
				return false;
			}
		}
	}
	if (img->width > IMAGE_MAX_SIDE || img->height > IMAGE_MAX_SIDE) {
		program_fail(out, 413, "image %ux%u: a side above %d pixels (crop or resize it)", img->width, img->height,
		             IMAGE_MAX_SIDE);
		return false;
	}
	return true;
}
