/*
 * make-icc — test helper: writes an ICC v2 RGB display profile of the matrix/TRC kind for sRGB or Display P3
 * (ICC.1:2001-04: header, tag table; desc, cprt, wtpt, rXYZ/gXYZ/bXYZ, rTRC/gTRC/bTRC). The primaries are
 * adapted from D65 to the D50 connection space with the Bradford transform, as ICC profiles require.
 * The sRGB profile's curves are a 1024-entry 'curv' table; Display P3's a 'para' function (type 3, the sRGB
 * curve), as Apple writes it, so a test covers both kinds of curve. ImageMagick converts with them through Little
 * CMS; the programs read them with their own code.
 * usage: make-icc srgb|p3 OUT.icc
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t profile[8192];
static size_t used;

static void put32(size_t at, uint32_t v)
{
	profile[at] = (uint8_t)(v >> 24), profile[at + 1] = (uint8_t)(v >> 16);
	profile[at + 2] = (uint8_t)(v >> 8), profile[at + 3] = (uint8_t)v;
}

static void put_s15f16(size_t at, double v)
{
	put32(at, (uint32_t)(int32_t)lround(v * 65536.0));
}

/* Appends a tag's data (4-byte aligned) and returns its offset. */
static size_t add_data(const uint8_t *data, size_t n)
{
	size_t at = (used + 3) & ~(size_t)3;
	memcpy(profile + at, data, n);
	used = at + n;
	return at;
}

static size_t add_xyz(const double xyz[3])
{
	uint8_t tag[20] = "XYZ ";
	size_t at;
	memset(tag + 4, 0, 16);
	at = add_data(tag, 20);
	for (int i = 0; i < 3; i++)
		put_s15f16(at + 8 + 4 * i, xyz[i]);
	return at;
}

static size_t add_text(const char *type, const char *text)
{
	uint8_t tag[256];
	size_t n = strlen(text) + 1, len;
	memset(tag, 0, sizeof(tag));
	memcpy(tag, type, 4);
	if (strcmp(type, "desc") == 0) {
		/* textDescriptionType: ASCII count and string, then empty Unicode and ScriptCode parts. */
		tag[8] = (uint8_t)(n >> 24), tag[9] = (uint8_t)(n >> 16), tag[10] = (uint8_t)(n >> 8), tag[11] = (uint8_t)n;
		memcpy(tag + 12, text, n);
		len = 12 + n + 4 + 4 + 2 + 1 + 67;
	} else {
		memcpy(tag + 8, text, n);
		len = 8 + n;
	}
	return add_data(tag, len);
}

static double srgb_decode(double v)
{
	return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/* RGB -> XYZ (D65) from chromaticities, then Bradford-adapted to D50; columns r, g, b. */
static void primaries_d50(const double xy[3][2], double out[3][3])
{
	const double white[3] = {0.95047, 1.0, 1.08883}, d50[3] = {0.96422, 1.0, 0.82521};
	const double bradford[3][3] = {{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}};
	const double bradford_inv[3][3] = {
		{0.9869929, -0.1470543, 0.1599627}, {0.4323053, 0.5183603, 0.0492912}, {-0.0085287, 0.0400428, 0.9684867}};
	double p[3][3], s[3], m[3][3], adapt[3][3], cone_src[3], cone_dst[3], tmp[3][3];
	for (int c = 0; c < 3; c++) {
		p[0][c] = xy[c][0] / xy[c][1];
		p[1][c] = 1.0;
		p[2][c] = (1 - xy[c][0] - xy[c][1]) / xy[c][1];
	}
	/* Solve p * s = white (Cramer's rule). */
	{
		double det = p[0][0] * (p[1][1] * p[2][2] - p[1][2] * p[2][1]) - p[0][1] * (p[1][0] * p[2][2] - p[1][2] * p[2][0]) +
		             p[0][2] * (p[1][0] * p[2][1] - p[1][1] * p[2][0]);
		for (int c = 0; c < 3; c++) {
			double q[3][3];
			memcpy(q, p, sizeof(q));
			for (int r = 0; r < 3; r++)
				q[r][c] = white[r];
			s[c] = (q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) +
			        q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0])) / det;
		}
	}
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++)
			m[r][c] = p[r][c] * s[c];
	for (int r = 0; r < 3; r++) {
		cone_src[r] = cone_dst[r] = 0;
		for (int k = 0; k < 3; k++) {
			cone_src[r] += bradford[r][k] * white[k];
			cone_dst[r] += bradford[r][k] * d50[k];
		}
	}
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++)
			tmp[r][c] = cone_dst[r] / cone_src[r] * bradford[r][c];
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++) {
			adapt[r][c] = 0;
			for (int k = 0; k < 3; k++)
				adapt[r][c] += bradford_inv[r][k] * tmp[k][c];
		}
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++) {
			out[c][r] = 0;
			for (int k = 0; k < 3; k++)
				out[c][r] += adapt[r][k] * m[k][c];
		}
}

int main(int argc, char **argv)
{
	static const double srgb_xy[3][2] = {{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}};
	static const double p3_xy[3][2] = {{0.680, 0.320}, {0.265, 0.690}, {0.150, 0.060}};
	const double d50[3] = {0.9642, 1.0, 0.8249};
	double columns[3][3];
	bool p3;
	size_t offsets[9], sizes[9], trc;
	static const char *const names[9] = {"desc", "cprt", "wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC", "gTRC", "bTRC"};
	FILE *f;
	if (argc != 3 || (strcmp(argv[1], "srgb") != 0 && strcmp(argv[1], "p3") != 0)) {
		fprintf(stderr, "usage: %s srgb|p3 OUT.icc\n", argv[0]);
		return 2;
	}
	p3 = strcmp(argv[1], "p3") == 0;
	primaries_d50(p3 ? p3_xy : srgb_xy, columns);
	used = 128 + 4 + 9 * 12;
	offsets[0] = add_text("desc", p3 ? "Display P3 (kvmfilter test)" : "sRGB (kvmfilter test)");
	sizes[0] = used - offsets[0];
	offsets[1] = add_text("text", "No copyright: test data");
	sizes[1] = used - offsets[1];
	offsets[2] = add_xyz(d50);
	sizes[2] = 20;
	for (int c = 0; c < 3; c++) {
		offsets[3 + c] = add_xyz(columns[c]);
		sizes[3 + c] = 20;
	}
	if (p3) {
		/* para type 3: Y = (aX + b)^g for X >= d, else cX. */
		uint8_t tag[32] = "para";
		memset(tag + 4, 0, 28);
		tag[9] = 3;
		trc = add_data(tag, 32);
		put_s15f16(trc + 12, 2.4);
		put_s15f16(trc + 16, 1 / 1.055);
		put_s15f16(trc + 20, 0.055 / 1.055);
		put_s15f16(trc + 24, 1 / 12.92);
		put_s15f16(trc + 28, 0.04045);
		sizes[6] = 32;
	} else {
		uint8_t tag[12 + 2 * 1024] = "curv";
		memset(tag + 4, 0, sizeof(tag) - 4);
		tag[10] = 1024 >> 8;
		for (int i = 0; i < 1024; i++) {
			unsigned v = (unsigned)lround(srgb_decode(i / 1023.0) * 65535);
			tag[12 + 2 * i] = (uint8_t)(v >> 8), tag[13 + 2 * i] = (uint8_t)v;
		}
		trc = add_data(tag, sizeof(tag));
		sizes[6] = sizeof(tag);
	}
	offsets[6] = offsets[7] = offsets[8] = trc; /* one curve shared by the three channels */
	sizes[7] = sizes[8] = sizes[6];
	/* Header: size, CMM, version 2.1, display class, RGB data, XYZ connection space, 'acsp', D50 illuminant. */
	put32(0, (uint32_t)used);
	put32(8, 0x02100000);
	memcpy(profile + 12, "mntrRGB XYZ ", 12);
	memcpy(profile + 36, "acsp", 4);
	put_s15f16(68, 0.9642), put_s15f16(72, 1.0), put_s15f16(76, 0.8249);
	put32(128, 9);
	for (int i = 0; i < 9; i++) {
		memcpy(profile + 132 + 12 * i, names[i], 4);
		put32(132 + 12 * i + 4, (uint32_t)offsets[i]);
		put32(132 + 12 * i + 8, (uint32_t)sizes[i]);
	}
	if (!(f = fopen(argv[2], "wb")) || fwrite(profile, 1, used, f) != used || fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
