/*
 * image_colour.c — the sRGB transfer function, and reading ICC matrix/TRC profiles (ICC.1:2010, sections 7 and 10)
 * so that images in Display P3, Adobe RGB and similar spaces can be converted to sRGB without Little CMS (Debian
 * ships it without a static archive). A matrix/TRC profile maps each channel through a tone curve (rTRC, gTRC,
 * bTRC) to linear light, then through the 3x3 matrix of its primaries (rXYZ, gXYZ, bXYZ) to XYZ under D50; the
 * inverse of sRGB's matrix takes that to linear sRGB. Relative colorimetric intent: colours outside sRGB clip.
 */
#include "image.h"

#include <math.h>
#include <string.h>

float image_srgb_to_linear[256];

/* Linear light in 1/LINEAR_STEPS steps to 8-bit sRGB: fine enough that every 8-bit value round-trips. */
#define LINEAR_STEPS 16384
static uint8_t linear_to_srgb_table[LINEAR_STEPS + 1];
static bool tables_ready;

static double srgb_decode(double v)
{
	return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static double srgb_encode(double v)
{
	return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055;
}

void image_colour_init(void)
{
	if (tables_ready)
		return;
	for (int i = 0; i < 256; i++)
		image_srgb_to_linear[i] = (float)srgb_decode(i / 255.0);
	for (int i = 0; i <= LINEAR_STEPS; i++)
		linear_to_srgb_table[i] = (uint8_t)floor(srgb_encode((double)i / LINEAR_STEPS) * 255.0 + 0.5);
	tables_ready = true;
}

uint8_t image_linear_to_srgb(float linear)
{
	if (!(linear > 0.0f))
		return 0;
	if (linear >= 1.0f)
		return 255;
	return linear_to_srgb_table[(int)(linear * LINEAR_STEPS + 0.5f)];
}

/* ---- ICC ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static double s15f16(const uint8_t *p)
{
	return (int32_t)be32(p) / 65536.0;
}

/* The tag's data and size, or NULL when absent or outside the profile. */
static const uint8_t *find_tag(const uint8_t *profile, size_t len, const char *signature, uint32_t *size)
{
	uint32_t count = be32(profile + 128);
	if (count > (len - 132) / 12)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *entry = profile + 132 + 12 * i;
		uint32_t offset = be32(entry + 4), tag_size = be32(entry + 8);
		if (memcmp(entry, signature, 4) != 0)
			continue;
		if (offset > len || tag_size > len - offset || tag_size < 8)
			return NULL;
		*size = tag_size;
		return profile + offset;
	}
	return NULL;
}

static bool read_xyz(const uint8_t *profile, size_t len, const char *signature, double xyz[3])
{
	uint32_t size;
	const uint8_t *tag = find_tag(profile, len, signature, &size);
	if (!tag || size < 20 || memcmp(tag, "XYZ ", 4) != 0)
		return false;
	for (int i = 0; i < 3; i++)
		xyz[i] = s15f16(tag + 8 + 4 * i);
	return true;
}

/* Evaluates a 'curv' or 'para' tone curve at v in [0, 1]. */
static bool eval_curve(const uint8_t *tag, uint32_t size, double v, double *result)
{
	if (memcmp(tag, "curv", 4) == 0) {
		uint32_t n;
		if (size < 12)
			return false;
		n = be32(tag + 8);
		if (n > (size - 12) / 2)
			return false;
		if (n == 0) {
			*result = v;
		} else if (n == 1) {
			*result = pow(v, (tag[12] << 8 | tag[13]) / 256.0);
		} else {
			/* A table of n 16-bit samples over [0, 1], interpolated linearly. */
			double at = v * (n - 1);
			uint32_t i = (uint32_t)at;
			double f = at - i;
			double a = (tag[12 + 2 * i] << 8 | tag[13 + 2 * i]) / 65535.0;
			double b = i + 1 < n ? (tag[14 + 2 * i] << 8 | tag[15 + 2 * i]) / 65535.0 : a;
			*result = a + (b - a) * f;
		}
		return true;
	}
	if (memcmp(tag, "para", 4) == 0) {
		static const int param_count[5] = {1, 3, 4, 5, 7};
		double p[7] = {1, 1, 0, 0, 0, 0, 0}, g, a, b, c, d, e, f;
		unsigned type;
		if (size < 12)
			return false;
		type = (unsigned)(tag[8] << 8 | tag[9]);
		if (type > 4 || size < 12 + 4u * (unsigned)param_count[type])
			return false;
		for (int i = 0; i < param_count[type]; i++)
			p[i] = s15f16(tag + 12 + 4 * i);
		g = p[0], a = p[1], b = p[2], c = p[3], d = p[4], e = p[5], f = p[6];
		switch (type) {
		case 0: *result = pow(v, g); break;
		case 1: *result = v >= -b / a ? pow(a * v + b, g) : 0; break;
		case 2: *result = v >= -b / a ? pow(a * v + b, g) + c : c; break;
		case 3: *result = v >= d ? pow(a * v + b, g) : c * v; break;
		default: *result = v >= d ? pow(a * v + b, g) + e : c * v + f; break;
		}
		if (!isfinite(*result))
			return false;
		return true;
	}
	return false;
}

static bool invert3(const double m[9], double inv[9])
{
	double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
	             m[2] * (m[3] * m[7] - m[4] * m[6]);
	if (fabs(det) < 1e-9)
		return false;
	inv[0] = (m[4] * m[8] - m[5] * m[7]) / det;
	inv[1] = (m[2] * m[7] - m[1] * m[8]) / det;
	inv[2] = (m[1] * m[5] - m[2] * m[4]) / det;
	inv[3] = (m[5] * m[6] - m[3] * m[8]) / det;
	inv[4] = (m[0] * m[8] - m[2] * m[6]) / det;
	inv[5] = (m[2] * m[3] - m[0] * m[5]) / det;
	inv[6] = (m[3] * m[7] - m[4] * m[6]) / det;
	inv[7] = (m[1] * m[6] - m[0] * m[7]) / det;
	inv[8] = (m[0] * m[4] - m[1] * m[3]) / det;
	return true;
}

/* sRGB's primaries adapted to D50 (Bradford), as in the ICC's sRGB profiles; columns are R, G, B. */
static const double srgb_to_xyz_d50[9] = {
	0.4360747, 0.3850649, 0.1430804, /* X */
	0.2225045, 0.7168786, 0.0606169, /* Y */
	0.0139322, 0.0971045, 0.7141733, /* Z */
};

enum image_icc_kind image_icc_parse(const uint8_t *profile, size_t len, struct image_icc_transform *t)
{
	static const char *const xyz_tags[3] = {"rXYZ", "gXYZ", "bXYZ"}, *const trc_tags[3] = {"rTRC", "gTRC", "bTRC"};
	double columns[3][3], m[9], xyz_to_srgb[9];
	bool like_srgb = true;
	image_colour_init();
	if (len < 132 || be32(profile) > len || memcmp(profile + 36, "acsp", 4) != 0)
		return IMAGE_ICC_NOT_RGB;
	if (memcmp(profile + 16, "RGB ", 4) != 0)
		return IMAGE_ICC_NOT_RGB;
	len = be32(profile); /* the declared size; anything after it is not part of the profile */
	if (memcmp(profile + 20, "XYZ ", 4) != 0)
		return IMAGE_ICC_OTHER_RGB;
	for (int c = 0; c < 3; c++)
		if (!read_xyz(profile, len, xyz_tags[c], columns[c]))
			return IMAGE_ICC_OTHER_RGB;
	for (int c = 0; c < 3; c++) {
		uint32_t size;
		const uint8_t *tag = find_tag(profile, len, trc_tags[c], &size);
		if (!tag)
			return IMAGE_ICC_OTHER_RGB;
		for (int i = 0; i < 256; i++) {
			double v;
			if (!eval_curve(tag, size, i / 255.0, &v))
				return IMAGE_ICC_OTHER_RGB;
			t->to_linear[c][i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
			if (fabs(t->to_linear[c][i] - image_srgb_to_linear[i]) > 0.002)
				like_srgb = false;
		}
	}
	for (int row = 0; row < 3; row++)
		for (int c = 0; c < 3; c++)
			m[row * 3 + c] = columns[c][row];
	if (!invert3(srgb_to_xyz_d50, xyz_to_srgb))
		return IMAGE_ICC_OTHER_RGB;
	for (int row = 0; row < 3; row++)
		for (int col = 0; col < 3; col++) {
			double sum = 0;
			for (int k = 0; k < 3; k++)
				sum += xyz_to_srgb[row * 3 + k] * m[k * 3 + col];
			t->matrix[row * 3 + col] = (float)sum;
			if (fabs(sum - (row == col ? 1.0 : 0.0)) > 0.003)
				like_srgb = false;
		}
	return like_srgb ? IMAGE_ICC_IS_SRGB : IMAGE_ICC_CONVERTIBLE;
}
