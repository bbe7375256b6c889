/*
 * ssim — the structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) of the luma of two binary PPM (P6,
 * maxval 255) images of the same size; prints it with 4 decimals. Test helper: ImageMagick 6 in Debian 12 has no
 * SSIM metric, so tests convert both images to PPM with ImageMagick and compare them with this.
 * Gaussian window 11x11, sigma 1.5, K1 0.01, K2 0.03, over the positions where the window fits; images smaller
 * than the window are compared with one window covering the whole image.
 * usage: ssim A.ppm B.ppm
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct picture {
	int width, height;
	double *luma;
};

static int read_number(FILE *f)
{
	int c, n = 0;
	do {
		c = fgetc(f);
		if (c == '#')
			while (c != '\n' && c != EOF)
				c = fgetc(f);
	} while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
	if (c < '0' || c > '9')
		return -1;
	while (c >= '0' && c <= '9') {
		n = n * 10 + (c - '0');
		if (n > 100000)
			return -1;
		c = fgetc(f);
	}
	return n; /* the single whitespace byte after maxval has been consumed */
}

static int load(const char *path, struct picture *p)
{
	FILE *f = fopen(path, "rb");
	int maxval;
	size_t n;
	unsigned char *rgb;
	if (!f) {
		perror(path);
		return -1;
	}
	if (fgetc(f) != 'P' || fgetc(f) != '6' || (p->width = read_number(f)) <= 0 || (p->height = read_number(f)) <= 0 ||
	    (maxval = read_number(f)) != 255) {
		fprintf(stderr, "%s: not a binary PPM with maxval 255\n", path);
		fclose(f);
		return -1;
	}
	n = (size_t)p->width * p->height;
	rgb = malloc(n * 3);
	p->luma = malloc(n * sizeof(double));
	if (!rgb || !p->luma || fread(rgb, 3, n, f) != n) {
		fprintf(stderr, "%s: truncated or out of memory\n", path);
		fclose(f);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		p->luma[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
	free(rgb);
	fclose(f);
	return 0;
}

static double ssim_of(double mx, double my, double vx, double vy, double cxy)
{
	const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
	return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
}

int main(int argc, char **argv)
{
	struct picture a, b;
	double weights[11][11], total = 0, sum = 0;
	long windows = 0;
	int w, h;
	if (argc != 3) {
		fprintf(stderr, "usage: %s A.ppm B.ppm\n", argv[0]);
		return 2;
	}
	if (load(argv[1], &a) || load(argv[2], &b))
		return 2;
	if (a.width != b.width || a.height != b.height) {
		fprintf(stderr, "sizes differ: %dx%d and %dx%d\n", a.width, a.height, b.width, b.height);
		return 2;
	}
	w = a.width, h = a.height;
	if (w < 11 || h < 11) {
		double mx = 0, my = 0, vx = 0, vy = 0, cxy = 0, n = (double)w * h;
		for (int i = 0; i < w * h; i++)
			mx += a.luma[i], my += b.luma[i];
		mx /= n, my /= n;
		for (int i = 0; i < w * h; i++) {
			vx += (a.luma[i] - mx) * (a.luma[i] - mx);
			vy += (b.luma[i] - my) * (b.luma[i] - my);
			cxy += (a.luma[i] - mx) * (b.luma[i] - my);
		}
		printf("%.4f\n", ssim_of(mx, my, vx / n, vy / n, cxy / n));
		return 0;
	}
	for (int y = 0; y < 11; y++)
		for (int x = 0; x < 11; x++)
			total += weights[y][x] = exp(-((x - 5) * (x - 5) + (y - 5) * (y - 5)) / (2 * 1.5 * 1.5));
	for (int y = 0; y < 11; y++)
		for (int x = 0; x < 11; x++)
			weights[y][x] /= total;
	for (int y = 0; y + 11 <= h; y++) {
		for (int x = 0; x + 11 <= w; x++) {
			double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
			for (int j = 0; j < 11; j++) {
				const double *pa = a.luma + (size_t)(y + j) * w + x, *pb = b.luma + (size_t)(y + j) * w + x;
				for (int i = 0; i < 11; i++) {
					double g = weights[j][i];
					mx += g * pa[i], my += g * pb[i];
					xx += g * pa[i] * pa[i], yy += g * pb[i] * pb[i], xy += g * pa[i] * pb[i];
				}
			}
			sum += ssim_of(mx, my, xx - mx * mx, yy - my * my, xy - mx * my);
			windows++;
		}
	}
	printf("%.4f\n", sum / windows);
	return 0;
}
