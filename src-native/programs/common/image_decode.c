/* image_decode.c — JPEG (libjpeg-turbo), PNG (libpng), GIF (giflib) and WebP (libwebp) to RGBA. */
#include "image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/demux.h>

enum image_format image_detect(const uint8_t *d, size_t n)
{
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return IMAGE_JPEG;
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return IMAGE_PNG;
	if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
		return IMAGE_GIF;
	if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
		return IMAGE_WEBP;
	return IMAGE_UNKNOWN;
}

const char *image_format_name(enum image_format format)
{
	switch (format) {
	case IMAGE_JPEG: return "JPEG";
	case IMAGE_PNG: return "PNG";
	case IMAGE_GIF: return "GIF";
	case IMAGE_WEBP: return "WebP";
	default: return "unknown";
	}
}

/* Names a few common formats we do not read, for a more helpful 415. */
static const char *guess_other_format(const uint8_t *d, size_t n)
{
	if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
		return "ISO-BMFF (AVIF/HEIF/MP4)";
	if (n >= 2 && d[0] == 'B' && d[1] == 'M')
		return "BMP";
	if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
		return "TIFF";
	if (n >= 5 && (memcmp(d, "<?xml", 5) == 0 || memcmp(d, "<svg", 4) == 0))
		return "XML/SVG";
	if (n >= 1 && (d[0] == '<' || d[0] == '{' || d[0] == '['))
		return "text";
	return NULL;
}

static bool check_pixels(uint64_t width, uint64_t height, long max_pixels, const char *format,
                         struct program_output *out)
{
	if (width == 0 || height == 0) {
		program_fail(out, 422, "%s header gives an empty image (%llux%llu)", format, (unsigned long long)width,
		             (unsigned long long)height);
		return false;
	}
	if (width * height > (uint64_t)max_pixels) {
		program_fail(out, 413, "%s image is %llux%llu = %llu pixels, more than max_pixels %ld", format,
		             (unsigned long long)width, (unsigned long long)height, (unsigned long long)(width * height),
		             max_pixels);
		return false;
	}
	return true;
}

static bool allocate(struct image *img, uint32_t width, uint32_t height, struct program_output *out)
{
	img->width = width;
	img->height = height;
	img->rgba = malloc((size_t)width * height * 4);
	if (!img->rgba) {
		program_fail(out, 500, "out of memory for a %ux%u image", width, height);
		return false;
	}
	return true;
}

/* ---- JPEG ---- */

struct jpeg_failure {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char message[JMSG_LENGTH_MAX];
	uint8_t *cmyk_row; /* freed after a longjmp */
};

static void jpeg_fail(j_common_ptr cinfo)
{
	struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
	f->mgr.format_message(cinfo, f->message);
	longjmp(f->jump, 1);
}

/* Warnings (msg_level -1) such as "Premature end of JPEG file" mean damaged data: treat them as errors so we
 * never answer a partly grey image. Trace messages (level >= 0) are ignored. */
static void jpeg_message(j_common_ptr cinfo, int msg_level)
{
	if (msg_level < 0)
		jpeg_fail(cinfo);
}

static bool decode_jpeg(const uint8_t *data, size_t len, long max_pixels, struct image *img,
                        struct program_output *out)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_failure failure;
	volatile int orientation = 1; /* volatile: set after setjmp (-Wclobbered) */
	bool cmyk;
	memset(&failure, 0, sizeof(failure));
	cinfo.err = jpeg_std_error(&failure.mgr);
	failure.mgr.error_exit = jpeg_fail;
	failure.mgr.emit_message = jpeg_message;
	if (setjmp(failure.jump)) {
		/* img->rgba and failure.cmyk_row live outside this frame, so they are valid after the jump. */
		program_fail(out, 422, "corrupt or truncated JPEG: %s", failure.message);
		jpeg_destroy_decompress(&cinfo);
		image_free(img);
		free(failure.cmyk_row);
		return false;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(&cinfo, TRUE);
	if (!check_pixels(cinfo.image_width, cinfo.image_height, max_pixels, "JPEG", out)) {
		jpeg_destroy_decompress(&cinfo);
		return false;
	}
	for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
		if (m->marker == JPEG_APP0 + 1 && orientation == 1)
			orientation = image_exif_orientation(m->data, m->data_length);
	cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
	jpeg_start_decompress(&cinfo);
	if (!allocate(img, cinfo.output_width, cinfo.output_height, out)) {
		jpeg_destroy_decompress(&cinfo);
		return false;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		uint8_t *row = img->rgba + (size_t)cinfo.output_scanline * img->width * 4;
		JSAMPROW rows[1] = {row};
		jpeg_read_scanlines(&cinfo, rows, 1);
		if (cmyk) {
			/* Adobe writes CMYK inverted (0 = full ink); others write it straight. The row is 4 bytes per pixel
			 * either way, so it converts in place. */
			for (uint32_t x = 0; x < img->width; x++) {
				uint8_t *p = row + x * 4;
				unsigned c = p[0], m = p[1], y = p[2], k = p[3];
				if (!cinfo.saw_Adobe_marker)
					c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
				p[0] = (uint8_t)(c * k / 255);
				p[1] = (uint8_t)(m * k / 255);
				p[2] = (uint8_t)(y * k / 255);
				p[3] = 255;
			}
		}
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	if (!image_orient(img, orientation)) {
		image_free(img);
		program_fail(out, 500, "out of memory while applying the EXIF orientation");
		return false;
	}
	return true;
}

/* ---- PNG ---- */

struct png_source {
	const uint8_t *data;
	size_t len;
	size_t pos;
	char message[200];
	png_bytep *rows; /* freed after a longjmp */
};

static void png_read_memory(png_structp png, png_bytep dest, png_size_t n)
{
	struct png_source *src = png_get_io_ptr(png);
	if (src->len - src->pos < n)
		png_error(png, "unexpected end of data (truncated file)");
	memcpy(dest, src->data + src->pos, n);
	src->pos += n;
}

static void png_fail(png_structp png, png_const_charp message)
{
	struct png_source *src = png_get_error_ptr(png);
	snprintf(src->message, sizeof(src->message), "%s", message);
	png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp message)
{
	(void)png;
	(void)message; /* benign (e.g. an unknown ancillary chunk); damage to image data is an error */
}

static bool decode_png(const uint8_t *data, size_t len, long max_pixels, struct image *img,
                       struct program_output *out)
{
	struct png_source src = {data, len, 0, "", NULL};
	png_structp png;
	png_infop info;
	png_uint_32 width, height;
	int bit_depth, color_type;
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_warn);
	if (!png) {
		program_fail(out, 500, "out of memory creating the PNG reader");
		return false;
	}
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		program_fail(out, 500, "out of memory creating the PNG reader");
		return false;
	}
	if (setjmp(png_jmpbuf(png))) {
		program_fail(out, 422, "corrupt or truncated PNG: %s", src.message);
		png_destroy_read_struct(&png, &info, NULL);
		free(src.rows);
		image_free(img);
		return false;
	}
	png_set_read_fn(png, &src, png_read_memory);
	png_read_info(png, info);
	png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
	if (!check_pixels(width, height, max_pixels, "PNG", out)) {
		png_destroy_read_struct(&png, &info, NULL);
		return false;
	}
	/* Everything to 8-bit RGBA: palettes and low bit depths expanded, tRNS to alpha, 16 bits scaled. */
	png_set_expand(png);
	png_set_scale_16(png);
	png_set_gray_to_rgb(png);
	if (!(color_type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != (size_t)width * 4)
		png_error(png, "unexpected row layout after conversion to RGBA");
	if (!allocate(img, width, height, out)) {
		png_destroy_read_struct(&png, &info, NULL);
		return false;
	}
	src.rows = malloc(sizeof(png_bytep) * height);
	if (!src.rows)
		png_error(png, "out of memory");
	for (png_uint_32 y = 0; y < height; y++)
		src.rows[y] = img->rgba + (size_t)y * width * 4;
	png_read_image(png, src.rows);
	png_read_end(png, NULL); /* checks the chunks after the image data, up to IEND */
	free(src.rows);
	png_destroy_read_struct(&png, &info, NULL);
	return true;
}

/* ---- GIF (first frame) ---- */

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

static bool gif_failed(GifFileType *gif, struct image *img, struct program_output *out, const char *what)
{
	int code = gif->Error;
	int ignored;
	program_fail(out, 422, "corrupt or truncated GIF: %s: %s", what, GifErrorString(code) ? GifErrorString(code) : "error");
	DGifCloseFile(gif, &ignored);
	image_free(img);
	return false;
}

static bool decode_gif(const uint8_t *data, size_t len, long max_pixels, struct image *img,
                       struct program_output *out)
{
	struct gif_source src = {data, len, 0};
	int error = 0, transparent = NO_TRANSPARENT_COLOR;
	GifFileType *gif = DGifOpen(&src, gif_read_memory, &error);
	if (!gif) {
		program_fail(out, 422, "corrupt or truncated GIF header: %s", GifErrorString(error) ? GifErrorString(error) : "error");
		return false;
	}
	if (!check_pixels((uint64_t)gif->SWidth, (uint64_t)gif->SHeight, max_pixels, "GIF", out)) {
		DGifCloseFile(gif, &error);
		return false;
	}
	for (;;) {
		GifRecordType type;
		if (DGifGetRecordType(gif, &type) == GIF_ERROR)
			return gif_failed(gif, img, out, "reading a record");
		if (type == TERMINATE_RECORD_TYPE) {
			program_fail(out, 422, "GIF has no image");
			DGifCloseFile(gif, &error);
			return false;
		}
		if (type == EXTENSION_RECORD_TYPE) {
			int code;
			GifByteType *ext;
			if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
				return gif_failed(gif, img, out, "reading an extension");
			if (code == GRAPHICS_EXT_FUNC_CODE && ext) {
				GraphicsControlBlock gcb;
				if (DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK)
					transparent = gcb.TransparentColor;
			}
			while (ext) {
				if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
					return gif_failed(gif, img, out, "reading an extension");
			}
			continue;
		}
		if (type != IMAGE_DESC_RECORD_TYPE)
			continue;
		break;
	}
	if (DGifGetImageDesc(gif) == GIF_ERROR)
		return gif_failed(gif, img, out, "reading the image descriptor");
	{
		GifImageDesc *d = &gif->Image;
		ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
		GifPixelType *line;
		/* Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every 4th from 2,
		 * every 2nd from 1. */
		static const int pass_start[4] = {0, 4, 2, 1}, pass_step[4] = {8, 8, 4, 2};
		if (!map) {
			program_fail(out, 422, "corrupt GIF: the first frame has no colour map");
			DGifCloseFile(gif, &error);
			return false;
		}
		if (d->Width <= 0 || d->Height <= 0 || !check_pixels((uint64_t)d->Width, (uint64_t)d->Height, max_pixels, "GIF frame", out)) {
			if (out->status == 0)
				program_fail(out, 422, "GIF frame has an empty size");
			DGifCloseFile(gif, &error);
			return false;
		}
		if (!allocate(img, (uint32_t)gif->SWidth, (uint32_t)gif->SHeight, out)) {
			DGifCloseFile(gif, &error);
			return false;
		}
		/* The canvas starts transparent; the first frame is drawn at its offset, clipped to the canvas. */
		memset(img->rgba, 0, (size_t)img->width * img->height * 4);
		line = malloc((size_t)d->Width);
		if (!line) {
			DGifCloseFile(gif, &error);
			image_free(img);
			program_fail(out, 500, "out of memory");
			return false;
		}
		for (int pass = 0; pass < (d->Interlace ? 4 : 1); pass++) {
			int start = d->Interlace ? pass_start[pass] : 0, step = d->Interlace ? pass_step[pass] : 1;
			for (int row = start; row < d->Height; row += step) {
				long y = (long)d->Top + row;
				if (DGifGetLine(gif, line, d->Width) == GIF_ERROR) {
					free(line);
					return gif_failed(gif, img, out, "reading pixels");
				}
				if (y < 0 || y >= (long)img->height)
					continue;
				for (int col = 0; col < d->Width; col++) {
					long x = (long)d->Left + col;
					uint8_t *p;
					if (x < 0 || x >= (long)img->width || line[col] == transparent)
						continue;
					p = img->rgba + ((size_t)y * img->width + (size_t)x) * 4;
					if (line[col] < map->ColorCount) {
						p[0] = map->Colors[line[col]].Red;
						p[1] = map->Colors[line[col]].Green;
						p[2] = map->Colors[line[col]].Blue;
					} else {
						p[0] = p[1] = p[2] = 0; /* index outside the map: black, as browsers do */
					}
					p[3] = 255;
				}
			}
		}
		free(line);
	}
	if (DGifCloseFile(gif, &error) == GIF_ERROR) {
		image_free(img);
		program_fail(out, 422, "GIF: %s", GifErrorString(error) ? GifErrorString(error) : "error");
		return false;
	}
	return true;
}

/* ---- WebP (first frame when animated) ---- */

static const char *vp8_status_text(VP8StatusCode status)
{
	switch (status) {
	case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
	case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
	case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
	case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
	case VP8_STATUS_SUSPENDED: return "suspended";
	case VP8_STATUS_USER_ABORT: return "aborted";
	case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data (truncated file)";
	default: return "error";
	}
}

static bool decode_webp(const uint8_t *data, size_t len, long max_pixels, struct image *img,
                        struct program_output *out)
{
	WebPBitstreamFeatures features;
	VP8StatusCode status = WebPGetFeatures(data, len, &features);
	if (status != VP8_STATUS_OK) {
		program_fail(out, 422, "corrupt or truncated WebP: %s", vp8_status_text(status));
		return false;
	}
	if (!check_pixels((uint64_t)features.width, (uint64_t)features.height, max_pixels, "WebP", out))
		return false;
	if (features.has_animation) {
		WebPData whole = {data, len};
		WebPAnimDecoderOptions options;
		WebPAnimDecoder *decoder;
		WebPAnimInfo info;
		uint8_t *frame;
		int timestamp;
		if (!WebPAnimDecoderOptionsInit(&options)) {
			program_fail(out, 500, "libwebp version mismatch");
			return false;
		}
		options.color_mode = MODE_RGBA;
		options.use_threads = 0;
		decoder = WebPAnimDecoderNew(&whole, &options);
		if (!decoder) {
			program_fail(out, 422, "corrupt or truncated animated WebP");
			return false;
		}
		if (!WebPAnimDecoderGetInfo(decoder, &info) ||
		    !check_pixels(info.canvas_width, info.canvas_height, max_pixels, "WebP canvas", out) ||
		    !WebPAnimDecoderGetNext(decoder, &frame, &timestamp)) {
			if (out->status == 0)
				program_fail(out, 422, "corrupt or truncated animated WebP: cannot decode the first frame");
			WebPAnimDecoderDelete(decoder);
			return false;
		}
		if (!allocate(img, info.canvas_width, info.canvas_height, out)) {
			WebPAnimDecoderDelete(decoder);
			return false;
		}
		memcpy(img->rgba, frame, (size_t)img->width * img->height * 4);
		WebPAnimDecoderDelete(decoder);
		return true;
	}
	if (!allocate(img, (uint32_t)features.width, (uint32_t)features.height, out))
		return false;
	{
		/* The advanced API decodes into our buffer and, unlike WebPDecodeRGBAInto, says why it failed. */
		WebPDecoderConfig config;
		if (!WebPInitDecoderConfig(&config)) {
			image_free(img);
			program_fail(out, 500, "libwebp version mismatch");
			return false;
		}
		config.output.colorspace = MODE_RGBA;
		config.output.is_external_memory = 1;
		config.output.u.RGBA.rgba = img->rgba;
		config.output.u.RGBA.stride = (int)img->width * 4;
		config.output.u.RGBA.size = (size_t)img->width * img->height * 4;
		status = WebPDecode(data, len, &config);
		WebPFreeDecBuffer(&config.output);
		if (status != VP8_STATUS_OK) {
			image_free(img);
			program_fail(out, 422, "corrupt or truncated WebP: %s", vp8_status_text(status));
			return false;
		}
	}
	return true;
}

bool image_decode(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, struct image *img,
                  struct program_output *out)
{
	enum image_format format = image_detect(data, len);
	memset(img, 0, sizeof(*img));
	if (len == 0) {
		program_fail(out, 415, "empty body: expected an image");
		return false;
	}
	if (format == IMAGE_UNKNOWN || !(accepted & IMAGE_ACCEPT(format))) {
		const char *other = format == IMAGE_UNKNOWN ? guess_other_format(data, len) : image_format_name(format);
		char list[64] = "";
		for (int f = IMAGE_JPEG; f <= IMAGE_WEBP; f++)
			if (accepted & IMAGE_ACCEPT(f))
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? ", " : "",
				         image_format_name((enum image_format)f));
		char first[40] = "";
		for (size_t i = 0; i < len && i < 8; i++)
			snprintf(first + strlen(first), sizeof(first) - strlen(first), "%s%02x", i ? " " : "", data[i]);
		program_fail(out, 415, "unsupported input type: %s (first bytes %s); supported: %s",
		             other ? other : "not a recognised image format", first, list);
		return false;
	}
	switch (format) {
	case IMAGE_JPEG: return decode_jpeg(data, len, max_pixels, img, out);
	case IMAGE_PNG: return decode_png(data, len, max_pixels, img, out);
	case IMAGE_GIF: return decode_gif(data, len, max_pixels, img, out);
	default: return decode_webp(data, len, max_pixels, img, out);
	}
}
