/*
 * image_watermark.c — the "watermark" option: a mark image read from a file (any format the decoders read, alpha
 * kept), scaled with the programs' resizer to a fraction of the output's width and composited source-over, its
 * alpha multiplied by the opacity, onto the output (every frame of an animation). See image.h and
 * docs/writing-programs.md ("Options of the image programs").
 *
 * Every failure here is the server's configuration, not the request's (the file is named by the step's arg, which
 * the filter makes from its own settings), so it answers 500: a client cannot fix it by asking differently.
 */
#define _POSIX_C_SOURCE 200809L
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm_api.h"

/* A mark is a logo or a line of text: these bound what one request reads and decodes for it (in the sandbox, out
 * of the request's memory). */
#define WATERMARK_MAX_BYTES (16L << 20)
#define WATERMARK_MAX_PIXELS 4000000L

/* The last mark read and its last scaled copy. A process serves many images (natively one, but a non-ephemeral
 * sandbox many requests, and an animation many frames of the same size), so the file is read and scaled once for
 * all of them. A different path, or the same file with another size or modification time, is read again. */
static struct {
	char path[IMAGE_WATERMARK_PATH_MAX + 1];
	off_t file_size;
	struct timespec modified;
	struct image decoded; /* in sRGB, no profile; rgba NULL while nothing is cached */
	struct image scaled;  /* decoded at the last size asked for, or rgba NULL */
} cache;

/* Reads the whole of fd (a regular file of `size` bytes) into a malloc'd buffer; NULL with errno set on failure. */
static uint8_t *read_whole(int fd, size_t size)
{
	uint8_t *data = malloc(size ? size : 1);
	size_t got = 0;
	if (!data)
		return NULL;
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			if (n == 0)
				errno = EIO; /* shorter than fstat said: changed while being read */
			return NULL;
		}
		got += (size_t)n;
	}
	return data;
}

/* The mark as sRGB pixels: its profile, when it is one we can convert, applied (as the programs do to their input
 * by default); any other profile dropped, since the mark lands in the output's pixels as they are. */
static bool to_srgb(struct image *mark)
{
	struct image_icc_transform t;
	bool ok = true;
	if (mark->icc && image_icc_parse(mark->icc, mark->icc_len, &t) == IMAGE_ICC_CONVERTIBLE)
		ok = image_resample(mark, mark->width, mark->height, &t);
	free(mark->icc);
	mark->icc = NULL;
	mark->icc_len = 0;
	return ok;
}

/* Makes cache.decoded the mark of `path`, reading and decoding the file unless it is the one cached. */
static bool load(const char *path, struct program_output *out)
{
	struct stat st;
	struct image mark = {0, 0, NULL, NULL, 0};
	struct program_output why;
	uint8_t *data;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		program_fail(out, 500, "watermark \"%.200s\" cannot be opened: %s%s", path, strerror(e),
		             e == ENOENT && kvm_is_sandboxed() ? " (a sandboxed program opens only its library's allowed_paths)"
		                                               : "");
		return false;
	}
	/* Closing a read-only descriptor cannot lose anything, so below its result does not change the answer. */
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		program_fail(out, 500, "watermark \"%.200s\" cannot be examined: %s", path, strerror(e));
		return false;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > WATERMARK_MAX_BYTES) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			program_fail(out, 500, "watermark \"%.200s\" is not a regular file", path);
		else
			program_fail(out, 500, "watermark \"%.200s\" is %lld bytes, more than the %ld allowed for a mark", path,
			             (long long)st.st_size, WATERMARK_MAX_BYTES);
		return false;
	}
	if (cache.decoded.rgba && strcmp(cache.path, path) == 0 && cache.file_size == st.st_size &&
	    cache.modified.tv_sec == st.st_mtim.tv_sec && cache.modified.tv_nsec == st.st_mtim.tv_nsec) {
		close(fd);
		return true;
	}
	data = read_whole(fd, (size_t)st.st_size);
	if (!data) {
		int e = errno;
		close(fd);
		program_fail(out, 500, "watermark \"%.200s\" cannot be read: %s", path, strerror(e));
		return false;
	}
	close(fd);
	memset(&why, 0, sizeof(why));
	if (!image_decode(data, (size_t)st.st_size, IMAGE_ACCEPT_ALL, WATERMARK_MAX_PIXELS, &mark, &why)) {
		free(data);
		program_fail(out, 500, "watermark \"%.200s\" is not a usable image: %s", path, why.reason);
		return false;
	}
	free(data);
	if (!to_srgb(&mark)) {
		image_free(&mark);
		program_fail(out, 500, "out of memory while converting the watermark's colours");
		return false;
	}
	image_free(&cache.decoded);
	image_free(&cache.scaled);
	cache.decoded = mark;
	snprintf(cache.path, sizeof(cache.path), "%s", path);
	cache.file_size = st.st_size;
	cache.modified = st.st_mtim;
	return true;
}

/* Makes cache.scaled the decoded mark at w x h. */
static bool scale(uint32_t w, uint32_t h, struct program_output *out)
{
	const struct image *src = &cache.decoded;
	struct image copy = {src->width, src->height, NULL, NULL, 0};
	size_t bytes = (size_t)src->width * src->height * 4;
	if (cache.scaled.rgba && cache.scaled.width == w && cache.scaled.height == h)
		return true;
	image_free(&cache.scaled);
	copy.rgba = malloc(bytes);
	if (!copy.rgba) {
		program_fail(out, 500, "out of memory while scaling the watermark");
		return false;
	}
	memcpy(copy.rgba, src->rgba, bytes);
	if ((w != copy.width || h != copy.height) && !image_resample(&copy, w, h, NULL)) {
		image_free(&copy);
		program_fail(out, 500, "out of memory while scaling the watermark");
		return false;
	}
	cache.scaled = copy;
	return true;
}

/* Where the mark starts along one axis of the output: against the low or high edge at `margin` pixels from it, or
 * centred (no margin). May be negative, or reach past the far edge: what lies outside is not drawn. */
static long place(bool low, bool high, uint32_t space, uint32_t mark, long margin)
{
	if (low)
		return margin;
	if (high)
		return (long)space - (long)mark - margin;
	return (long)floor(((double)space - mark) / 2);
}

/* Source-over of mark at (x0, y0) onto img, on the 8-bit sRGB values (as CSS, browsers and ImageMagick blend),
 * with straight alpha and the mark's alpha multiplied by opacity. */
static void composite(struct image *img, const struct image *mark, long x0, long y0, double opacity)
{
	long x_from = x0 < 0 ? -x0 : 0, y_from = y0 < 0 ? -y0 : 0;
	long x_to = (long)mark->width, y_to = (long)mark->height;
	if (x0 + x_to > (long)img->width)
		x_to = (long)img->width - x0;
	if (y0 + y_to > (long)img->height)
		y_to = (long)img->height - y0;
	if (x_from >= x_to || y_from >= y_to)
		return; /* entirely outside */
	for (long y = y_from; y < y_to; y++) {
		const uint8_t *s = mark->rgba + ((size_t)y * mark->width + (size_t)x_from) * 4;
		uint8_t *d = img->rgba + ((size_t)(y0 + y) * img->width + (size_t)(x0 + x_from)) * 4;
		for (long x = x_from; x < x_to; x++, s += 4, d += 4) {
			float sa = (float)(s[3] * opacity / 255.0), keep, oa;
			if (sa <= 0.0f)
				continue; /* fully transparent here: the output stays as it was */
			keep = d[3] / 255.0f * (1.0f - sa); /* the share of the output's own colour that shows through */
			oa = sa + keep;
			for (int c = 0; c < 3; c++)
				d[c] = (uint8_t)((s[c] * sa + d[c] * keep) / oa + 0.5f);
			d[3] = (uint8_t)(oa * 255.0f + 0.5f);
		}
	}
}

bool image_watermark_apply(struct image *img, const struct image_watermark *wm, long max_pixels,
                           struct program_output *out)
{
	enum image_gravity g = wm->gravity;
	uint32_t w, h;
	double hd;
	long margin, x, y;
	if (!load(wm->file, out))
		return false;
	/* The width asked for, at least a pixel; the height keeps the mark's aspect ratio. */
	w = (uint32_t)fmax(1.0, floor(wm->size * img->width + 0.5));
	hd = fmax(1.0, floor((double)cache.decoded.height * w / cache.decoded.width + 0.5));
	if (hd > IMAGE_MAX_SIDE || (double)w * hd > (double)max_pixels) {
		program_fail(out, 500, "watermark \"%.200s\" (%ux%u) scaled to %u pixels wide would be %.0f high: more than "
		             "%d high or %ld pixels", wm->file, cache.decoded.width, cache.decoded.height, w, hd,
		             IMAGE_MAX_SIDE, max_pixels);
		return false;
	}
	h = (uint32_t)hd;
	if (!scale(w, h, out))
		return false;
	margin = (long)floor(wm->margin * img->width + 0.5);
	x = place(g == IMAGE_GRAVITY_WEST || g == IMAGE_GRAVITY_NORTHWEST || g == IMAGE_GRAVITY_SOUTHWEST,
	          g == IMAGE_GRAVITY_EAST || g == IMAGE_GRAVITY_NORTHEAST || g == IMAGE_GRAVITY_SOUTHEAST, img->width, w,
	          margin);
	y = place(g == IMAGE_GRAVITY_NORTH || g == IMAGE_GRAVITY_NORTHEAST || g == IMAGE_GRAVITY_NORTHWEST,
	          g == IMAGE_GRAVITY_SOUTH || g == IMAGE_GRAVITY_SOUTHEAST || g == IMAGE_GRAVITY_SOUTHWEST, img->height, h,
	          margin);
	composite(img, &cache.scaled, x, y, wm->opacity);
	return true;
}
