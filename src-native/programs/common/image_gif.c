/* image_gif.c — GIF: counting frames, and decoding them (giflib) composited as browsers show them. */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>

/* ---- probe: the block structure only (GIF89a, section 17+), no LZW decoding ---- */

/* Skips a run of data sub-blocks (length byte, data; a 0 length ends it). False when the data ends first. */
static bool skip_sub_blocks(const uint8_t *d, size_t n, size_t *pos)
{
	while (*pos < n) {
		uint8_t size = d[(*pos)++];
		if (size == 0)
			return true;
		*pos += size;
	}
	return false;
}

bool image_gif_probe(const uint8_t *d, size_t n, struct image_info *info, struct program_output *out)
{
	size_t pos = 13;
	bool netscape = false;
	unsigned loops = 0;
	if (n < 13) {
		program_fail(out, 422, "truncated GIF: %zu bytes, shorter than its header", n);
		return false;
	}
	info->width = (uint32_t)(d[6] | d[7] << 8);
	info->height = (uint32_t)(d[8] | d[9] << 8);
	info->frames = 0;
	if (d[10] & 0x80)
		pos += 3u << ((d[10] & 7) + 1); /* global colour table */
	/* A damaged tail is left to the decoder, which reports it; the probe only counts what is there. */
	while (pos < n && d[pos] != 0x3b) {
		if (d[pos] == 0x21 && pos + 1 < n) {
			uint8_t label = d[pos + 1];
			pos += 2;
			/* NETSCAPE2.0 (or ANIMEXTS1.0) application extension: sub-block 1 holds the loop count. */
			if (label == 0xff && pos + 12 < n && d[pos] == 11 &&
			    (memcmp(d + pos + 1, "NETSCAPE2.0", 11) == 0 || memcmp(d + pos + 1, "ANIMEXTS1.0", 11) == 0)) {
				size_t sub = pos + 12;
				if (sub + 3 < n && d[sub] >= 3 && d[sub + 1] == 1) {
					netscape = true;
					loops = (unsigned)(d[sub + 2] | d[sub + 3] << 8);
				}
			}
			if (!skip_sub_blocks(d, n, &pos))
				break;
		} else if (d[pos] == 0x2c) {
			uint8_t flags;
			if (pos + 10 > n)
				break;
			flags = d[pos + 9];
			pos += 10;
			if (flags & 0x80)
				pos += 3u << ((flags & 7) + 1); /* local colour table */
			pos++;                              /* LZW minimum code size */
			info->frames++;
			if (!skip_sub_blocks(d, n, &pos))
				break;
		} else {
			break;
		}
	}
	(void)out; /* no image at all (frames = 0) is reported by image_probe() after the size check */
	/* GIF counts repeats after the first play (0 = forever); browsers play a file without the extension once.
	 * WebP counts plays, so N repeats are N + 1 plays (what Chrome and gif2webp do). */
	info->loop_count = !netscape ? 1 : loops == 0 ? 0 : (int)(loops + 1 > 65535 ? 65535 : loops + 1);
	return true;
}

/* ---- frames ---- */

struct gif_source {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

static int gif_read_memory(GifFileType *gif, GifByteType *dest, int n)
{
	struct gif_source *src = gif->UserData;
	size_t take = src->len - src->pos < (size_t)n ? src->len - src->pos : (size_t)n;
	memcpy(dest, src->data + src->pos, take);
	src->pos += take;
	return (int)take;
}

static const char *gif_error_text(int code)
{
	const char *text = GifErrorString(code);
	return text ? text : "error";
}

/* The state carried from one frame to the next. */
struct gif_walk {
	GifFileType *gif;
	struct image canvas;
	uint8_t *saved;    /* the canvas before the last frame, for "restore to previous" */
	GifPixelType *line;
	int disposal;      /* of the last frame drawn */
	int rect[4];       /* x, y, w, h of the last frame drawn, clipped to the canvas */
};

/* Undoes the last frame as its disposal method says, before the next frame is drawn. */
static void dispose(struct gif_walk *w)
{
	uint32_t cw = w->canvas.width;
	if (w->disposal == DISPOSE_BACKGROUND) {
		/* Browsers clear to transparent (the background colour index is not used). */
		for (int row = 0; row < w->rect[3]; row++)
			memset(w->canvas.rgba + ((size_t)(w->rect[1] + row) * cw + (size_t)w->rect[0]) * 4, 0,
			       (size_t)w->rect[2] * 4);
	} else if (w->disposal == DISPOSE_PREVIOUS && w->saved) {
		memcpy(w->canvas.rgba, w->saved, (size_t)cw * w->canvas.height * 4);
	}
}

/* Reads one frame's pixels and draws them onto the canvas (transparent index leaves the canvas). */
static bool draw_frame(struct gif_walk *w, int transparent, long max_pixels, struct program_output *out,
                       unsigned number)
{
	GifImageDesc *d = &w->gif->Image;
	ColorMapObject *map = d->ColorMap ? d->ColorMap : w->gif->SColorMap;
	uint32_t cw = w->canvas.width, ch = w->canvas.height;
	/* Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every 4th from 2,
	 * every 2nd from 1. */
	static const int pass_start[4] = {0, 4, 2, 1}, pass_step[4] = {8, 8, 4, 2};
	if (!map) {
		program_fail(out, 422, "corrupt GIF: frame %u has no colour map", number);
		return false;
	}
	/* A frame may reach outside the canvas (it is clipped) but is decoded whole, so it obeys max_pixels too. */
	if (d->Width <= 0 || d->Height <= 0) {
		program_fail(out, 422, "corrupt GIF: frame %u is %dx%d", number, d->Width, d->Height);
		return false;
	}
	if (!image_check_pixels((uint64_t)d->Width, (uint64_t)d->Height, max_pixels, "GIF frame", out))
		return false;
	free(w->line);
	w->line = malloc((size_t)d->Width);
	if (!w->line) {
		program_fail(out, 500, "out of memory");
		return false;
	}
	for (int pass = 0; pass < (d->Interlace ? 4 : 1); pass++) {
		int start = d->Interlace ? pass_start[pass] : 0, step = d->Interlace ? pass_step[pass] : 1;
		for (int row = start; row < d->Height; row += step) {
			long y = (long)d->Top + row;
			if (DGifGetLine(w->gif, w->line, d->Width) == GIF_ERROR) {
				program_fail(out, 422, "corrupt or truncated GIF: frame %u: reading pixels: %s", number,
				             gif_error_text(w->gif->Error));
				return false;
			}
			if (y < 0 || y >= (long)ch)
				continue;
			for (int col = 0; col < d->Width; col++) {
				long x = (long)d->Left + col;
				uint8_t *p, index = w->line[col];
				if (x < 0 || x >= (long)cw || index == transparent)
					continue;
				p = w->canvas.rgba + ((size_t)y * cw + (size_t)x) * 4;
				if (index < map->ColorCount) {
					p[0] = map->Colors[index].Red;
					p[1] = map->Colors[index].Green;
					p[2] = map->Colors[index].Blue;
				} else {
					p[0] = p[1] = p[2] = 0; /* index outside the map: black, as browsers do */
				}
				p[3] = 255;
			}
		}
	}
	/* The drawn rectangle, clipped to the canvas, for the next disposal. */
	{
		long x0 = d->Left < 0 ? 0 : d->Left, y0 = d->Top < 0 ? 0 : d->Top;
		long x1 = (long)d->Left + d->Width, y1 = (long)d->Top + d->Height;
		if (x1 > (long)cw)
			x1 = cw;
		if (y1 > (long)ch)
			y1 = ch;
		w->rect[0] = (int)x0;
		w->rect[1] = (int)y0;
		w->rect[2] = x1 > x0 ? (int)(x1 - x0) : 0;
		w->rect[3] = y1 > y0 ? (int)(y1 - y0) : 0;
	}
	return true;
}

bool image_gif_frames(const uint8_t *data, size_t len, long max_pixels, unsigned limit, image_frame_fn fn,
                      void *ctx, struct program_output *out)
{
	struct gif_source src = {data, len, 0};
	struct gif_walk w;
	int error = 0, transparent = NO_TRANSPARENT_COLOR, delay = 0, disposal = DISPOSAL_UNSPECIFIED;
	unsigned delivered = 0;
	bool ok = false;
	memset(&w, 0, sizeof(w));
	w.gif = DGifOpen(&src, gif_read_memory, &error);
	if (!w.gif) {
		program_fail(out, 422, "corrupt or truncated GIF header: %s", gif_error_text(error));
		return false;
	}
	if (!image_check_pixels((uint64_t)w.gif->SWidth, (uint64_t)w.gif->SHeight, max_pixels, "GIF", out) ||
	    !image_allocate(&w.canvas, (uint32_t)w.gif->SWidth, (uint32_t)w.gif->SHeight, out))
		goto done;
	memset(w.canvas.rgba, 0, (size_t)w.canvas.width * w.canvas.height * 4); /* starts transparent */
	while (delivered < limit) {
		GifRecordType type;
		if (DGifGetRecordType(w.gif, &type) == GIF_ERROR) {
			program_fail(out, 422, "corrupt or truncated GIF: reading a record: %s", gif_error_text(w.gif->Error));
			goto done;
		}
		if (type == TERMINATE_RECORD_TYPE)
			break;
		if (type == EXTENSION_RECORD_TYPE) {
			int code;
			GifByteType *ext;
			if (DGifGetExtension(w.gif, &code, &ext) == GIF_ERROR) {
				program_fail(out, 422, "corrupt or truncated GIF: reading an extension: %s", gif_error_text(w.gif->Error));
				goto done;
			}
			if (code == GRAPHICS_EXT_FUNC_CODE && ext) {
				GraphicsControlBlock gcb;
				if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK) {
					transparent = gcb.TransparentColor;
					delay = gcb.DelayTime;
					disposal = gcb.DisposalMode;
				}
			}
			while (ext) {
				if (DGifGetExtensionNext(w.gif, &ext) == GIF_ERROR) {
					program_fail(out, 422, "corrupt or truncated GIF: reading an extension: %s",
					             gif_error_text(w.gif->Error));
					goto done;
				}
			}
			continue;
		}
		if (type != IMAGE_DESC_RECORD_TYPE)
			continue;
		if (DGifGetImageDesc(w.gif) == GIF_ERROR) {
			program_fail(out, 422, "corrupt or truncated GIF: reading the descriptor of frame %u: %s", delivered + 1,
			             gif_error_text(w.gif->Error));
			goto done;
		}
		if (delivered > 0)
			dispose(&w);
		if (disposal == DISPOSE_PREVIOUS) {
			if (!w.saved && !(w.saved = malloc((size_t)w.canvas.width * w.canvas.height * 4))) {
				program_fail(out, 500, "out of memory");
				goto done;
			}
			memcpy(w.saved, w.canvas.rgba, (size_t)w.canvas.width * w.canvas.height * 4);
		}
		if (!draw_frame(&w, transparent, max_pixels, out, delivered + 1))
			goto done;
		w.disposal = disposal;
		/* The graphic control extension applies to the next image only. */
		transparent = NO_TRANSPARENT_COLOR;
		delivered++;
		if (!fn(ctx, &w.canvas, delay * 10, out))
			goto done;
		delay = 0;
		disposal = DISPOSAL_UNSPECIFIED;
	}
	if (delivered == 0) {
		program_fail(out, 422, "GIF has no image");
		goto done;
	}
	ok = true;
done:
	DGifCloseFile(w.gif, &error); /* every frame asked for was read: a missing trailer is not damage */
	free(w.line);
	free(w.saved);
	image_free(&w.canvas);
	return ok;
}
