/*
 * image_apng.c — APNG (animated PNG): counting frames, and decoding them composited as browsers show them.
 *
 * Debian's libpng has no APNG support, so the chunks are walked here (APNG specification 1.0: acTL, fcTL, fdAT)
 * and each frame is handed to libpng as a small PNG of its own: the signature, IHDR with the frame's size, the
 * chunks that apply to every frame (PLTE, tRNS, gAMA, iCCP...), the frame's data as IDAT, IEND.
 */
#include "image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One chunk of the file: its type, data and where it starts (at the length field). */
struct chunk {
	const uint8_t *type;
	const uint8_t *data;
	uint32_t len;
	size_t start;
};

/* The chunk at *pos; false (with a message) when it does not fit or its CRC is wrong. */
static bool next_chunk(const uint8_t *d, size_t n, size_t *pos, struct chunk *c, struct program_output *out)
{
	uint32_t crc;
	if (n - *pos < 12) {
		program_fail(out, 422, "truncated APNG: chunk header at byte %zu cut off", *pos);
		return false;
	}
	c->start = *pos;
	c->len = be32(d + *pos);
	c->type = d + *pos + 4;
	c->data = d + *pos + 8;
	if (c->len > n - *pos - 12) {
		program_fail(out, 422, "truncated APNG: chunk '%.4s' at byte %zu needs %u bytes, %zu left", (const char *)c->type,
		             *pos, c->len, n - *pos - 12);
		return false;
	}
	crc = (uint32_t)crc32(0, c->type, c->len + 4);
	if (crc != be32(c->data + c->len)) {
		program_fail(out, 422, "corrupt APNG: CRC mismatch in chunk '%.4s' at byte %zu", (const char *)c->type, *pos);
		return false;
	}
	*pos += 12 + (size_t)c->len;
	return true;
}

static bool is(const struct chunk *c, const char *type)
{
	return memcmp(c->type, type, 4) == 0;
}

bool image_apng_probe(const uint8_t *d, size_t n, struct image_info *info, struct program_output *out)
{
	size_t pos = 8;
	struct chunk c;
	info->frames = 1;
	info->loop_count = 0;
	if (n < 8 + 25 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0) {
		program_fail(out, 422, "corrupt or truncated PNG: no IHDR chunk at the start");
		return false;
	}
	info->width = be32(d + 16);
	info->height = be32(d + 20);
	/* acTL must come before the first IDAT; a damaged file is left to the decoder, which reports it. */
	while (pos < n) {
		struct program_output ignored;
		memset(&ignored, 0, sizeof(ignored));
		if (!next_chunk(d, n, &pos, &c, &ignored) || is(&c, "IDAT") || is(&c, "IEND"))
			break;
		if (is(&c, "acTL") && c.len == 8) {
			uint32_t frames = be32(c.data);
			/* 0 frames is invalid: such a file is shown as the still PNG it also is. */
			if (frames > 0)
				info->frames = frames > 1000000 ? 1000000 : frames;
			info->loop_count = (int)(be32(c.data + 4) > 65535 ? 65535 : be32(c.data + 4));
			break;
		}
	}
	return true;
}

/* An fcTL chunk (26 bytes). */
struct frame_control {
	uint32_t sequence, width, height, x, y;
	uint16_t delay_num, delay_den;
	uint8_t dispose, blend;
};

enum { APNG_DISPOSE_NONE, APNG_DISPOSE_BACKGROUND, APNG_DISPOSE_PREVIOUS };
enum { APNG_BLEND_SOURCE, APNG_BLEND_OVER };

static bool read_fctl(const struct chunk *c, uint32_t canvas_w, uint32_t canvas_h, unsigned number,
                      struct frame_control *f, struct program_output *out)
{
	if (c->len != 26) {
		program_fail(out, 422, "corrupt APNG: fcTL of frame %u is %u bytes, not 26", number, c->len);
		return false;
	}
	f->sequence = be32(c->data);
	f->width = be32(c->data + 4);
	f->height = be32(c->data + 8);
	f->x = be32(c->data + 12);
	f->y = be32(c->data + 16);
	f->delay_num = (uint16_t)(c->data[20] << 8 | c->data[21]);
	f->delay_den = (uint16_t)(c->data[22] << 8 | c->data[23]);
	f->dispose = c->data[24];
	f->blend = c->data[25];
	if (f->width == 0 || f->height == 0 || f->x > canvas_w || f->y > canvas_h || f->width > canvas_w - f->x ||
	    f->height > canvas_h - f->y) {
		program_fail(out, 422, "corrupt APNG: frame %u (%ux%u at %u,%u) does not fit the %ux%u canvas", number,
		             f->width, f->height, f->x, f->y, canvas_w, canvas_h);
		return false;
	}
	if (f->dispose > APNG_DISPOSE_PREVIOUS || f->blend > APNG_BLEND_OVER) {
		program_fail(out, 422, "corrupt APNG: frame %u has dispose_op %u, blend_op %u (allowed 0-2, 0-1)", number,
		             f->dispose, f->blend);
		return false;
	}
	return true;
}

/* A growing byte buffer for one frame's PNG. */
struct buffer {
	uint8_t *bytes;
	size_t len, capacity;
};

static bool append(struct buffer *b, const void *data, size_t len)
{
	if (b->capacity - b->len < len) {
		size_t capacity = b->capacity ? b->capacity : 4096;
		uint8_t *bigger;
		while (capacity - b->len < len)
			capacity *= 2;
		if (!(bigger = realloc(b->bytes, capacity)))
			return false;
		b->bytes = bigger;
		b->capacity = capacity;
	}
	if (len > 0) /* data may be NULL for an empty chunk */
		memcpy(b->bytes + b->len, data, len);
	b->len += len;
	return true;
}

/* Appends a chunk with a freshly computed CRC. */
static bool append_chunk(struct buffer *b, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t head[8], tail[4];
	uint32_t crc = (uint32_t)crc32(0, (const uint8_t *)type, 4);
	if (len > 0) /* zlib: crc32(crc, NULL, 0) returns the initial value, not crc */
		crc = (uint32_t)crc32(crc, data, len);
	put_be32(head, len);
	memcpy(head + 4, type, 4);
	put_be32(tail, crc);
	return append(b, head, 8) && append(b, data, len) && append(b, tail, 4);
}

/* Composites a decoded frame onto the canvas at (x, y) as blend_op says. */
static void blend(struct image *canvas, const struct image *frame, uint32_t x, uint32_t y, int op)
{
	for (uint32_t row = 0; row < frame->height; row++) {
		const uint8_t *s = frame->rgba + (size_t)row * frame->width * 4;
		uint8_t *d = canvas->rgba + ((size_t)(y + row) * canvas->width + x) * 4;
		if (op == APNG_BLEND_SOURCE) {
			memcpy(d, s, (size_t)frame->width * 4);
			continue;
		}
		for (uint32_t i = 0; i < frame->width; i++, s += 4, d += 4) {
			/* Straight-alpha "over": out_a = sa + da (1 - sa); out_c = (sc sa + dc da (1 - sa)) / out_a. */
			unsigned sa = s[3], da = d[3];
			unsigned keep = da * (255 - sa); /* scaled by 255 * 255 */
			unsigned oa = sa * 255 + keep;   /* scaled by 255 * 255 */
			if (sa == 255 || da == 0) {
				memcpy(d, s, 4);
				continue;
			}
			if (sa == 0)
				continue;
			for (int c = 0; c < 3; c++)
				d[c] = (uint8_t)((s[c] * sa * 255 + d[c] * keep + oa / 2) / oa);
			d[3] = (uint8_t)((oa + 127) / 255);
		}
	}
}

static void clear_rect(struct image *canvas, const struct frame_control *f)
{
	for (uint32_t row = 0; row < f->height; row++)
		memset(canvas->rgba + ((size_t)(f->y + row) * canvas->width + f->x) * 4, 0, (size_t)f->width * 4);
}

/* The frame's display time in milliseconds: delay_num / delay_den seconds, a 0 denominator meaning 100. */
static int delay_ms(const struct frame_control *f)
{
	unsigned den = f->delay_den ? f->delay_den : 100;
	return (int)(((unsigned long)f->delay_num * 1000 + den / 2) / den);
}

bool image_apng_frames(const uint8_t *d, size_t n, const struct image_info *info, long max_pixels,
                       image_frame_fn fn, void *ctx, struct program_output *out)
{
	struct buffer shared = {NULL, 0, 0}; /* chunks between IHDR and the image data: every frame gets them */
	struct buffer frame_png = {NULL, 0, 0};
	struct image canvas = {0, 0, NULL, NULL, 0}, frame = {0, 0, NULL, NULL, 0};
	uint8_t *saved = NULL;
	uint8_t ihdr[13];
	struct frame_control f = {0};
	size_t pos = 8;
	uint32_t next_sequence = 0;
	unsigned number = 0;  /* frames delivered */
	bool have_fctl = false, in_data = false, seen_idat = false, seen_fdat = false, ok = false;
	struct chunk c;
	char what[32];
	if (!image_allocate(&canvas, info->width, info->height, out))
		return false;
	memset(canvas.rgba, 0, (size_t)canvas.width * canvas.height * 4);
	if (!next_chunk(d, n, &pos, &c, out))
		goto done;
	memcpy(ihdr, c.data, 13);
	for (;;) {
		bool image_data;
		if (pos >= n) {
			program_fail(out, 422, "truncated APNG: no IEND chunk");
			goto done;
		}
		if (!next_chunk(d, n, &pos, &c, out))
			goto done;
		image_data = is(&c, "IDAT") || is(&c, "fdAT");
		/* A frame's data ends at the first chunk that is not more of it. */
		if (in_data && !image_data) {
			/* The frame is complete: decode, composite, deliver, dispose. */
			in_data = false;
			if (!append_chunk(&frame_png, "IEND", NULL, 0)) {
				program_fail(out, 500, "out of memory");
				goto done;
			}
			if (have_fctl) {
				number++;
				snprintf(what, sizeof(what), "APNG frame %u", number);
				if (!image_decode_png(frame_png.bytes, frame_png.len, max_pixels, what, NULL, &frame, out))
					goto done;
				if (frame.width != f.width || frame.height != f.height) {
					program_fail(out, 422, "corrupt APNG: frame %u decodes to %ux%u, its fcTL says %ux%u", number,
					             frame.width, frame.height, f.width, f.height);
					goto done;
				}
				/* The first frame's "previous" is the empty canvas, so it behaves as "background". */
				if (f.dispose == APNG_DISPOSE_PREVIOUS) {
					if (!saved && !(saved = malloc((size_t)canvas.width * canvas.height * 4))) {
						program_fail(out, 500, "out of memory");
						goto done;
					}
					memcpy(saved, canvas.rgba, (size_t)canvas.width * canvas.height * 4);
				}
				blend(&canvas, &frame, f.x, f.y, number == 1 ? APNG_BLEND_SOURCE : f.blend);
				if (number == 1 && frame.icc && !canvas.icc) {
					canvas.icc = frame.icc;
					canvas.icc_len = frame.icc_len;
					frame.icc = NULL;
				}
				image_free(&frame);
				if (!fn(ctx, &canvas, delay_ms(&f), out))
					goto done;
				if (f.dispose == APNG_DISPOSE_BACKGROUND)
					clear_rect(&canvas, &f);
				else if (f.dispose == APNG_DISPOSE_PREVIOUS)
					memcpy(canvas.rgba, saved, (size_t)canvas.width * canvas.height * 4);
				have_fctl = false;
				if (number == info->frames)
					break;
			}
			/* An IDAT without fcTL is the default image, not part of the animation: skipped. */
		}
		if (is(&c, "IEND"))
			break;
		if (is(&c, "fcTL")) {
			if (have_fctl) {
				program_fail(out, 422, "corrupt APNG: two fcTL chunks without frame data between them (frame %u)",
				             number + 1);
				goto done;
			}
			if (!read_fctl(&c, canvas.width, canvas.height, number + 1, &f, out))
				goto done;
			if (f.sequence != next_sequence++) {
				program_fail(out, 422, "corrupt APNG: fcTL sequence number %u, expected %u", f.sequence,
				             next_sequence - 1);
				goto done;
			}
			have_fctl = true;
			continue;
		}
		if (image_data) {
			const uint8_t *payload = c.data;
			uint32_t payload_len = c.len;
			if (is(&c, "fdAT")) {
				if (!seen_idat || !have_fctl || c.len < 4) {
					program_fail(out, 422, "corrupt APNG: fdAT chunk %s at byte %zu",
					             !seen_idat ? "before IDAT" : !have_fctl ? "without fcTL" : "too short", c.start);
					goto done;
				}
				seen_fdat = true;
				if (be32(c.data) != next_sequence++) {
					program_fail(out, 422, "corrupt APNG: fdAT sequence number %u, expected %u", be32(c.data),
					             next_sequence - 1);
					goto done;
				}
				payload += 4;
				payload_len -= 4;
			} else {
				if ((seen_idat && !in_data) || seen_fdat) {
					program_fail(out, 422, "corrupt APNG: IDAT chunks are not consecutive (byte %zu)", c.start);
					goto done;
				}
				seen_idat = true;
			}
			if (!in_data) {
				/* A new frame's PNG: signature, IHDR with the frame's size, the shared chunks. */
				uint8_t frame_ihdr[13];
				memcpy(frame_ihdr, ihdr, 13);
				if (have_fctl) {
					put_be32(frame_ihdr, f.width);
					put_be32(frame_ihdr + 4, f.height);
				}
				frame_png.len = 0;
				if (!append(&frame_png, d, 8) || !append_chunk(&frame_png, "IHDR", frame_ihdr, 13) ||
				    !append(&frame_png, shared.bytes ? shared.bytes : (const uint8_t *)"", shared.len)) {
					program_fail(out, 500, "out of memory");
					goto done;
				}
				in_data = true;
			}
			if (!append_chunk(&frame_png, "IDAT", payload, payload_len)) {
				program_fail(out, 500, "out of memory");
				goto done;
			}
			continue;
		}
		/* Chunks before the image data (PLTE, tRNS, gAMA, iCCP...) belong to every frame. */
		if (!seen_idat && !is(&c, "acTL") &&
		    !append(&shared, d + c.start, (size_t)c.len + 12)) {
			program_fail(out, 500, "out of memory");
			goto done;
		}
	}
	if (number != info->frames) {
		program_fail(out, 422, "corrupt or truncated APNG: acTL announces %u frames, %u found", info->frames, number);
		goto done;
	}
	ok = true;
done:
	free(shared.bytes);
	free(frame_png.bytes);
	free(saved);
	image_free(&frame);
	image_free(&canvas);
	return ok;
}
