/* image_ops.c — orientation, the geometry plan (crop, fit, gravity, dpr), resampling in linear light (Lanczos-3),
 * colour conversion and padding of RGBA images; the watermark (image_watermark.c) goes on last. */
#include "image_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void image_free(struct image *img)
{
	free(img->rgba);
	free(img->icc);
	img->rgba = NULL;
	img->icc = NULL;
	img->icc_len = 0;
	img->width = img->height = 0;
}

void image_flatten(struct image *img, const uint8_t background[4])
{
	size_t n = (size_t)img->width * img->height;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = img->rgba + i * 4;
		unsigned a = p[3];
		for (int c = 0; c < 3; c++)
			p[c] = (uint8_t)((p[c] * a + background[c] * (255 - a) + 127) / 255);
		p[3] = 255;
	}
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
	uint8_t *dst;
	if (x == 0 && y == 0 && w == img->width && h == img->height)
		return true;
	dst = malloc((size_t)w * h * 4);
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

#define LANCZOS_LOBES 3.0

static double sinc(double x)
{
	if (x == 0)
		return 1;
	x *= 3.14159265358979323846;
	return sin(x) / x;
}

/* Lanczos-3 weights: when shrinking the kernel is widened by the factor (so every source pixel counts and
 * nothing aliases); when enlarging it interpolates. */
static struct taps *make_taps(uint32_t in, uint32_t out, float **storage)
{
	double scale = (double)out / in;
	double widen = scale < 1.0 ? 1.0 / scale : 1.0;
	double support = LANCZOS_LOBES * widen;
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
			double x = ((double)i - center) / widen;
			double wgt = fabs(x) < LANCZOS_LOBES ? sinc(x) * sinc(x / LANCZOS_LOBES) : 0;
			taps[o].weights[i - lo] = (float)wgt;
			total += wgt;
		}
		for (uint32_t i = 0; i < taps[o].count; i++)
			taps[o].weights[i] = total != 0 ? (float)(taps[o].weights[i] / total) : 1.0f / taps[o].count;
	}
	*storage = weights;
	return taps;
}

/* One row of 8-bit RGBA to premultiplied linear-light floats, through the profile's curves and matrix when
 * converting, else through sRGB's curve. */
static void row_to_linear(const uint8_t *src, uint32_t n, const struct image_icc_transform *icc, float *dst)
{
	for (uint32_t x = 0; x < n; x++, src += 4, dst += 4) {
		float a = src[3] * (1.0f / 255.0f), r, g, b;
		if (icc) {
			float lr = icc->to_linear[0][src[0]], lg = icc->to_linear[1][src[1]], lb = icc->to_linear[2][src[2]];
			r = icc->matrix[0] * lr + icc->matrix[1] * lg + icc->matrix[2] * lb;
			g = icc->matrix[3] * lr + icc->matrix[4] * lg + icc->matrix[5] * lb;
			b = icc->matrix[6] * lr + icc->matrix[7] * lg + icc->matrix[8] * lb;
		} else {
			r = image_srgb_to_linear[src[0]];
			g = image_srgb_to_linear[src[1]];
			b = image_srgb_to_linear[src[2]];
		}
		dst[0] = r * a;
		dst[1] = g * a;
		dst[2] = b * a;
		dst[3] = a;
	}
}

/* Premultiplied linear floats back to 8-bit sRGB with straight alpha. */
static void row_from_linear(const float *src, uint32_t n, uint8_t *dst)
{
	for (uint32_t x = 0; x < n; x++, src += 4, dst += 4) {
		float a = src[3];
		if (a <= 1.0f / 512) {
			dst[0] = dst[1] = dst[2] = dst[3] = 0;
			continue;
		}
		if (a > 1.0f)
			a = 1.0f;
		for (int c = 0; c < 3; c++)
			dst[c] = image_linear_to_srgb(src[c] / a);
		dst[3] = (uint8_t)(a * 255.0f + 0.5f);
	}
}

/* See image_internal.h: two passes (horizontal, then vertical), each skipped when that side keeps its size. */
bool image_resample(struct image *img, uint32_t out_w, uint32_t out_h, const struct image_icc_transform *icc)
{
	uint32_t in_w = img->width, in_h = img->height;
	float *xw = NULL, *yw = NULL, *row_buf = NULL, *mid = NULL, *out_row = NULL;
	struct taps *xt = NULL, *yt = NULL;
	uint8_t *dst = malloc((size_t)out_w * out_h * 4);
	bool ok = false;
	image_colour_init();
	xt = make_taps(in_w, out_w, &xw);
	yt = make_taps(in_h, out_h, &yw);
	mid = malloc((size_t)out_w * in_h * 4 * sizeof(float));
	row_buf = malloc((size_t)in_w * 4 * sizeof(float));
	out_row = malloc((size_t)out_w * 4 * sizeof(float));
	if (!xt || !yt || !dst || !mid || !row_buf || !out_row)
		goto done;
	/* Horizontal pass: each source row to out_w premultiplied linear pixels. */
	for (uint32_t y = 0; y < in_h; y++) {
		float *m = mid + (size_t)y * out_w * 4;
		row_to_linear(img->rgba + (size_t)y * in_w * 4, in_w, icc, row_buf);
		if (out_w == in_w) {
			memcpy(m, row_buf, (size_t)in_w * 4 * sizeof(float));
			continue;
		}
		for (uint32_t o = 0; o < out_w; o++) {
			float acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
			const float *p = row_buf + (size_t)xt[o].first * 4, *wgt = xt[o].weights;
			for (uint32_t i = 0; i < xt[o].count; i++, p += 4) {
				acc0 += p[0] * wgt[i];
				acc1 += p[1] * wgt[i];
				acc2 += p[2] * wgt[i];
				acc3 += p[3] * wgt[i];
			}
			m[o * 4 + 0] = acc0;
			m[o * 4 + 1] = acc1;
			m[o * 4 + 2] = acc2;
			m[o * 4 + 3] = acc3;
		}
	}
	/* Vertical pass, a whole output row at a time (sequential memory), then back to 8-bit sRGB. */
	for (uint32_t o = 0; o < out_h; o++) {
		if (out_h == in_h) {
			row_from_linear(mid + (size_t)o * out_w * 4, out_w, dst + (size_t)o * out_w * 4);
			continue;
		}
		memset(out_row, 0, (size_t)out_w * 4 * sizeof(float));
		for (uint32_t i = 0; i < yt[o].count; i++) {
			const float *p = mid + (size_t)(yt[o].first + i) * out_w * 4;
			float wgt = yt[o].weights[i];
			for (uint32_t k = 0; k < out_w * 4; k++)
				out_row[k] += p[k] * wgt;
		}
		row_from_linear(out_row, out_w, dst + (size_t)o * out_w * 4);
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
	free(out_row);
	free(dst);
	return ok;
}

/* Puts img at (x, y) on a w x h canvas filled with the background colour. */
static bool pad(struct image *img, uint32_t w, uint32_t h, uint32_t x, uint32_t y, const uint8_t background[4])
{
	uint8_t *dst = malloc((size_t)w * h * 4);
	if (!dst)
		return false;
	for (size_t i = 0; i < (size_t)w * h; i++)
		memcpy(dst + i * 4, background, 4);
	for (uint32_t row = 0; row < img->height; row++)
		memcpy(dst + ((size_t)(y + row) * w + x) * 4, img->rgba + (size_t)row * img->width * 4,
		       (size_t)img->width * 4);
	free(img->rgba);
	img->rgba = dst;
	img->width = w;
	img->height = h;
	return true;
}

static uint32_t round_side(double v)
{
	return v < 1 ? 1 : (uint32_t)floor(v + 0.5);
}

/* A JPEG is decoded at 1/2 or 1/4 of its size (libjpeg scales in the inverse DCT, for a fraction of the work and
 * memory) when the region to resample keeps at least JPEG_SHRINK_MARGIN times the output size, so the Lanczos
 * filter still does the final part of the reduction. 1/8 is not used: on fine detail (the Hubble deep field to
 * 64 pixels) its SSIM against a full-size Lanczos drops to 0.977, against 0.990 at 1/4. */
#define JPEG_SHRINK_MARGIN 3

/* The shrink factor for the plan made on the full-size (oriented) header size; 1 when not worth it. */
static unsigned jpeg_shrink(const struct image_plan *plan)
{
	unsigned denom = 4;
	while (denom > 1 && (plan->crop_w / denom < JPEG_SHRINK_MARGIN * plan->scaled_w ||
	                     plan->crop_h / denom < JPEG_SHRINK_MARGIN * plan->scaled_h))
		denom /= 2;
	return denom;
}

/* The plan made for full_w x full_h, moved onto the decoded (shrunk) image: the same output, the crop scaled. */
static void scale_plan(struct image_plan *plan, uint32_t full_w, uint32_t full_h, const struct image *img)
{
	double sx = (double)img->width / full_w, sy = (double)img->height / full_h;
	uint32_t x = (uint32_t)floor(plan->crop_x * sx), y = (uint32_t)floor(plan->crop_y * sy);
	uint32_t w = round_side(plan->crop_w * sx), h = round_side(plan->crop_h * sy);
	plan->crop_x = x < img->width ? x : img->width - 1;
	plan->crop_y = y < img->height ? y : img->height - 1;
	plan->crop_w = w <= img->width - plan->crop_x ? w : img->width - plan->crop_x;
	plan->crop_h = h <= img->height - plan->crop_y ? h : img->height - plan->crop_y;
}

bool image_load(const uint8_t *data, size_t len, unsigned accepted, const struct image_options *options,
                struct image *img, struct program_output *out)
{
	struct image_plan plan;
	struct image_icc_transform ignored;
	uint32_t full_w, full_h;
	unsigned denom = 1;
	/* Shrinking on load needs the plan before the pixels: not for "smart" gravity, which looks at them. */
	if ((accepted & IMAGE_ACCEPT(IMAGE_JPEG)) && options->gravity != IMAGE_GRAVITY_SMART &&
	    image_jpeg_size(data, len, &full_w, &full_h) && full_w > 0 && full_h > 0 &&
	    (uint64_t)full_w * full_h <= (uint64_t)options->max_pixels) {
		struct image header = {full_w, full_h, NULL, NULL, 0};
		if (!image_plan_make(&header, options, &plan, out))
			return false;
		denom = jpeg_shrink(&plan);
	}
	if (!image_decode_shrunk(data, len, accepted, options->max_pixels, denom, img, out))
		return false;
	if (denom > 1) {
		scale_plan(&plan, full_w, full_h, img);
		plan.convert_icc = options->icc == IMAGE_ICC_SRGB && img->icc &&
		                   image_icc_parse(img->icc, img->icc_len, &ignored) == IMAGE_ICC_CONVERTIBLE;
		if (!image_plan_apply(img, &plan, options, out)) {
			image_free(img);
			return false;
		}
		return true;
	}
	if (!image_apply_options(img, options, out)) {
		image_free(img);
		return false;
	}
	return true;
}

bool image_load_still(const uint8_t *data, size_t len, const struct image_options *options, const char *output,
                      struct image *img, struct program_output *out)
{
	struct image_info info;
	if (!image_probe(data, len, IMAGE_ACCEPT_ALL, options->max_pixels, options->max_frames, &info, out))
		return false;
	/* Refused rather than answered with the first frame: the filter then serves the original, still animated. */
	if (info.frames > 1) {
		program_fail(out, 415, IMAGE_ANIMATED_REASON ": %s with %u frames; %s output is a still image",
		             image_format_name(info.format), info.frames, output);
		return false;
	}
	return image_load(data, len, IMAGE_ACCEPT_ALL, options, img, out);
}

/* Where a window of size `window` sits in `space` for a gravity, along x (horizontal) or y. */
static uint32_t gravity_offset(enum image_gravity g, uint32_t space, uint32_t window, bool horizontal)
{
	uint32_t room = space > window ? space - window : 0;
	bool low, high;
	if (horizontal) {
		low = g == IMAGE_GRAVITY_WEST || g == IMAGE_GRAVITY_NORTHWEST || g == IMAGE_GRAVITY_SOUTHWEST;
		high = g == IMAGE_GRAVITY_EAST || g == IMAGE_GRAVITY_NORTHEAST || g == IMAGE_GRAVITY_SOUTHEAST;
	} else {
		low = g == IMAGE_GRAVITY_NORTH || g == IMAGE_GRAVITY_NORTHEAST || g == IMAGE_GRAVITY_NORTHWEST;
		high = g == IMAGE_GRAVITY_SOUTH || g == IMAGE_GRAVITY_SOUTHEAST || g == IMAGE_GRAVITY_SOUTHWEST;
	}
	return low ? 0 : high ? room : room / 2;
}

bool image_plan_make(const struct image *img, const struct image_options *o, struct image_plan *plan,
                     struct program_output *out)
{
	struct image_icc_transform ignored;
	uint32_t cw, ch;
	memset(plan, 0, sizeof(*plan));
	plan->crop_w = img->width;
	plan->crop_h = img->height;
	if (o->crop_given) {
		if (o->crop[0] + o->crop[2] > (long)img->width || o->crop[1] + o->crop[3] > (long)img->height) {
			program_fail(out, 400, "arg: \"crop\" [%ld,%ld,%ld,%ld] reaches outside the %ux%u image", o->crop[0],
			             o->crop[1], o->crop[2], o->crop[3], img->width, img->height);
			return false;
		}
		plan->crop_x = (uint32_t)o->crop[0];
		plan->crop_y = (uint32_t)o->crop[1];
		plan->crop_w = (uint32_t)o->crop[2];
		plan->crop_h = (uint32_t)o->crop[3];
	}
	cw = plan->crop_w;
	ch = plan->crop_h;
	plan->scaled_w = cw;
	plan->scaled_h = ch;
	if (o->resize_given && (o->resize[0] != 0 || o->resize[1] != 0)) {
		/* "resize": exactly this size; a 0 side follows the aspect ratio. */
		double w = (double)o->resize[0], h = (double)o->resize[1];
		if (w == 0)
			w = fmax(1.0, floor(h * cw / ch + 0.5));
		if (h == 0)
			h = fmax(1.0, floor(w * ch / cw + 0.5));
		plan->scaled_w = (uint32_t)w;
		plan->scaled_h = (uint32_t)h;
	} else if (o->width || o->height) {
		/* A box in device pixels; a missing side is unbounded (the aspect ratio decides it). */
		double bw = o->width ? o->width * o->dpr : 0, bh = o->height ? o->height * o->dpr : 0;
		double sx = bw / cw, sy = bh / ch, scale;
		if (bw > IMAGE_MAX_SIDE || bh > IMAGE_MAX_SIDE) {
			program_fail(out, 413, "width/height %.0fx%.0f at dpr %g: a side above %d pixels", bw, bh, o->dpr,
			             IMAGE_MAX_SIDE);
			return false;
		}
		if (!bw || !bh || o->fit == IMAGE_FIT_INSIDE || o->fit == IMAGE_FIT_CONTAIN) {
			scale = !bw ? sy : !bh ? sx : fmin(sx, sy);
			if (!o->enlarge && scale > 1)
				scale = 1;
			plan->scaled_w = round_side(cw * scale);
			plan->scaled_h = round_side(ch * scale);
			if (bw && bh && o->fit == IMAGE_FIT_CONTAIN) {
				/* Padded to the whole box, placed by gravity ("smart" means centred here). */
				plan->out_w = round_side(bw);
				plan->out_h = round_side(bh);
			}
		} else {
			/* cover or fill: the box, shrunk as a whole when it would enlarge and enlarging is off. */
			double shrink = o->enlarge ? 1 : fmin(1.0, fmin(cw / bw, ch / bh));
			if (o->fit == IMAGE_FIT_FILL) {
				plan->scaled_w = round_side(bw * shrink);
				plan->scaled_h = round_side(bh * shrink);
			} else {
				uint32_t box_w = round_side(bw * shrink), box_h = round_side(bh * shrink);
				/* The largest region of the source with the box's aspect ratio, placed by gravity. */
				uint32_t region_w = cw, region_h = ch;
				if ((double)cw * box_h > (double)ch * box_w)
					region_w = round_side((double)ch * box_w / box_h);
				else
					region_h = round_side((double)cw * box_h / box_w);
				if (region_w > cw)
					region_w = cw;
				if (region_h > ch)
					region_h = ch;
				if (o->gravity == IMAGE_GRAVITY_SMART && (region_w < cw || region_h < ch)) {
					uint32_t x, y;
					image_smart_window(img, plan->crop_x, plan->crop_y, cw, ch, region_w, region_h, &x, &y);
					plan->crop_x += x;
					plan->crop_y += y;
				} else {
					plan->crop_x += gravity_offset(o->gravity, cw, region_w, true);
					plan->crop_y += gravity_offset(o->gravity, ch, region_h, false);
				}
				plan->crop_w = region_w;
				plan->crop_h = region_h;
				plan->scaled_w = box_w;
				plan->scaled_h = box_h;
			}
		}
	}
	if (!plan->out_w) {
		plan->out_w = plan->scaled_w;
		plan->out_h = plan->scaled_h;
	}
	plan->pad_x = gravity_offset(o->gravity, plan->out_w, plan->scaled_w, true);
	plan->pad_y = gravity_offset(o->gravity, plan->out_h, plan->scaled_h, false);
	if (plan->out_w > IMAGE_MAX_SIDE || plan->out_h > IMAGE_MAX_SIDE) {
		program_fail(out, 413, "output %ux%u: a side above %d pixels (crop or resize it)", plan->out_w, plan->out_h,
		             IMAGE_MAX_SIDE);
		return false;
	}
	if ((double)plan->out_w * plan->out_h > (double)o->max_pixels) {
		program_fail(out, 413, "output %ux%u = %.0f pixels, more than max_pixels %ld", plan->out_w, plan->out_h,
		             (double)plan->out_w * plan->out_h, o->max_pixels);
		return false;
	}
	plan->convert_icc = o->icc == IMAGE_ICC_SRGB && img->icc &&
	                    image_icc_parse(img->icc, img->icc_len, &ignored) == IMAGE_ICC_CONVERTIBLE;
	return true;
}

bool image_plan_apply(struct image *img, const struct image_plan *plan, const struct image_options *o,
                      struct program_output *out)
{
	struct image_icc_transform icc;
	enum image_icc_kind kind = IMAGE_ICC_NOT_RGB;
	if (img->icc)
		kind = image_icc_parse(img->icc, img->icc_len, &icc);
	if (!crop(img, plan->crop_x, plan->crop_y, plan->crop_w, plan->crop_h)) {
		program_fail(out, 500, "out of memory while cropping");
		return false;
	}
	if (plan->scaled_w != img->width || plan->scaled_h != img->height || plan->convert_icc) {
		if (!image_resample(img, plan->scaled_w, plan->scaled_h,
		                    plan->convert_icc && kind == IMAGE_ICC_CONVERTIBLE ? &icc : NULL)) {
			program_fail(out, 500, "out of memory while resizing");
			return false;
		}
	}
	/* The profile stays only where it still describes the pixels and the output can use it. */
	if (img->icc && (kind == IMAGE_ICC_NOT_RGB || (o->icc == IMAGE_ICC_SRGB && kind != IMAGE_ICC_OTHER_RGB))) {
		free(img->icc);
		img->icc = NULL;
		img->icc_len = 0;
	}
	if ((plan->out_w != img->width || plan->out_h != img->height) &&
	    !pad(img, plan->out_w, plan->out_h, plan->pad_x, plan->pad_y, o->background)) {
		program_fail(out, 500, "out of memory while padding");
		return false;
	}
	/* Last, on the final canvas: its size and margin are fractions of the output's width. */
	return !o->watermark.given || image_watermark_apply(img, &o->watermark, o->max_pixels, out);
}

bool image_apply_options(struct image *img, const struct image_options *options, struct program_output *out)
{
	struct image_plan plan;
	return image_plan_make(img, options, &plan, out) && image_plan_apply(img, &plan, options, out);
}
