/* image_decode.c — format detection and probing; JPEG (libjpeg-turbo), PNG (libpng) and WebP (libwebp) to RGBA.
 * GIF is in image_gif.c, APNG frames in image_apng.c. */
#include "image_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool image_check_pixels(uint64_t width, uint64_t height, long max_pixels, const char *format,
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

bool image_allocate(struct image *img, uint32_t width, uint32_t height, struct program_output *out)
{
	img->width = width;
	img->height = height;
	img->rgba = malloc((size_t)width * height * 4);
	img->icc = NULL;
	img->icc_len = 0;
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

bool image_jpeg_size(const uint8_t *data, size_t len, uint32_t *width, uint32_t *height)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_failure failure;
	volatile int orientation = 1;
	if (image_detect(data, len) != IMAGE_JPEG)
		return false;
	memset(&failure, 0, sizeof(failure));
	cinfo.err = jpeg_std_error(&failure.mgr);
	failure.mgr.error_exit = jpeg_fail;
	failure.mgr.emit_message = jpeg_message;
	if (setjmp(failure.jump)) {
		jpeg_destroy_decompress(&cinfo);
		return false; /* the decoder will say what is wrong */
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(&cinfo, TRUE);
	for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
		if (m->marker == JPEG_APP0 + 1 && orientation == 1)
			orientation = image_exif_orientation(m->data, m->data_length);
	*width = orientation >= 5 ? cinfo.image_height : cinfo.image_width;
	*height = orientation >= 5 ? cinfo.image_width : cinfo.image_height;
	jpeg_destroy_decompress(&cinfo);
	return true;
}

/* denom 1, 2, 4 or 8: libjpeg scales the image down by that factor while decoding (in the inverse DCT). */
static bool decode_jpeg(const uint8_t *data, size_t len, long max_pixels, unsigned denom, struct image *img,
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
	jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xffff); /* ICC_PROFILE segments */
	jpeg_read_header(&cinfo, TRUE);
	if (!image_check_pixels(cinfo.image_width, cinfo.image_height, max_pixels, "JPEG", out)) {
		jpeg_destroy_decompress(&cinfo);
		return false;
	}
	for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
		if (m->marker == JPEG_APP0 + 1 && orientation == 1)
			orientation = image_exif_orientation(m->data, m->data_length);
	cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
	cinfo.scale_num = 1;
	cinfo.scale_denom = denom;
	jpeg_start_decompress(&cinfo);
	if (!image_allocate(img, cinfo.output_width, cinfo.output_height, out)) {
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
	{
		JOCTET *icc = NULL;
		unsigned int icc_len = 0;
		/* A profile split over segments that do not fit together is ignored, as browsers do. */
		if (jpeg_read_icc_profile(&cinfo, &icc, &icc_len) && icc) {
			img->icc = icc;
			img->icc_len = icc_len;
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

bool image_decode_png(const uint8_t *data, size_t len, long max_pixels, const char *what, int *orientation,
                      struct image *img, struct program_output *out)
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
		program_fail(out, 422, "corrupt or truncated %s: %s", what, src.message);
		png_destroy_read_struct(&png, &info, NULL);
		free(src.rows);
		image_free(img);
		return false;
	}
	png_set_read_fn(png, &src, png_read_memory);
	png_read_info(png, info);
	png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
	if (!image_check_pixels(width, height, max_pixels, what, out)) {
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
	if (!image_allocate(img, width, height, out)) {
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
	src.rows = NULL;
	{
		png_charp name;
		int compression;
		png_bytep profile;
		png_uint_32 profile_len;
		png_uint_32 exif_len = 0;
		png_bytep exif = NULL;
		if (png_get_iCCP(png, info, &name, &compression, &profile, &profile_len) && profile_len > 0 &&
		    (img->icc = malloc(profile_len)) != NULL) {
			memcpy(img->icc, profile, profile_len);
			img->icc_len = profile_len;
		}
		if (orientation) {
			*orientation = 1;
			if (png_get_eXIf_1(png, info, &exif_len, &exif) && exif)
				*orientation = image_tiff_orientation(exif, exif_len);
		}
	}
	png_destroy_read_struct(&png, &info, NULL);
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

/* The ICCP chunk of a WebP file, copied into img (a damaged container leaves img without a profile), and, when
 * orientation is not NULL, the orientation from its EXIF chunk. */
static void webp_copy_icc(const uint8_t *data, size_t len, struct image *img, int *orientation)
{
	WebPData whole = {data, len};
	WebPDemuxer *demux = WebPDemux(&whole);
	WebPChunkIterator chunk;
	if (!demux)
		return;
	if ((WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & ICCP_FLAG) && WebPDemuxGetChunk(demux, "ICCP", 1, &chunk)) {
		if (chunk.chunk.size > 0 && (img->icc = malloc(chunk.chunk.size)) != NULL) {
			memcpy(img->icc, chunk.chunk.bytes, chunk.chunk.size);
			img->icc_len = chunk.chunk.size;
		}
		WebPDemuxReleaseChunkIterator(&chunk);
	}
	if (orientation && (WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG) &&
	    WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
		*orientation = image_tiff_orientation(chunk.chunk.bytes, chunk.chunk.size);
		WebPDemuxReleaseChunkIterator(&chunk);
	}
	WebPDemuxDelete(demux);
}

/* Every frame of an animated WebP, composited by libwebp's animation decoder, up to `limit` frames. */
static bool webp_frames(const uint8_t *data, size_t len, long max_pixels, unsigned limit, image_frame_fn fn,
                        void *ctx, struct program_output *out)
{
	WebPData whole = {data, len};
	WebPAnimDecoderOptions options;
	WebPAnimDecoder *decoder;
	WebPAnimInfo info;
	struct image canvas = {0, 0, NULL, NULL, 0};
	int previous = 0;
	bool ok = true;
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
	    !image_check_pixels(info.canvas_width, info.canvas_height, max_pixels, "WebP canvas", out) ||
	    !image_allocate(&canvas, info.canvas_width, info.canvas_height, out)) {
		if (out->status == 0)
			program_fail(out, 422, "corrupt animated WebP: no animation information");
		WebPAnimDecoderDelete(decoder);
		return false;
	}
	webp_copy_icc(data, len, &canvas, NULL);
	for (unsigned n = 0; n < limit && ok && WebPAnimDecoderHasMoreFrames(decoder); n++) {
		uint8_t *frame;
		int timestamp;
		if (!WebPAnimDecoderGetNext(decoder, &frame, &timestamp)) {
			program_fail(out, 422, "corrupt or truncated animated WebP: cannot decode frame %u", n + 1);
			ok = false;
			break;
		}
		/* The decoder owns `frame` and composites the next frame onto it: hand the callback a copy. */
		memcpy(canvas.rgba, frame, (size_t)canvas.width * canvas.height * 4);
		ok = fn(ctx, &canvas, timestamp - previous, out);
		previous = timestamp;
	}
	WebPAnimDecoderDelete(decoder);
	image_free(&canvas);
	return ok;
}

/* image_decode()'s callback for a still taken from an animation: keeps the first frame. */
static bool keep_first_frame(void *ctx, struct image *canvas, int duration_ms, struct program_output *out)
{
	struct image *img = ctx;
	(void)duration_ms;
	if (!image_allocate(img, canvas->width, canvas->height, out))
		return false;
	memcpy(img->rgba, canvas->rgba, (size_t)canvas->width * canvas->height * 4);
	if (canvas->icc && (img->icc = malloc(canvas->icc_len)) != NULL) {
		memcpy(img->icc, canvas->icc, canvas->icc_len);
		img->icc_len = canvas->icc_len;
	}
	return true;
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
	if (!image_check_pixels((uint64_t)features.width, (uint64_t)features.height, max_pixels, "WebP", out))
		return false;
	if (features.has_animation) {
		if (!webp_frames(data, len, max_pixels, 1, keep_first_frame, img, out)) {
			image_free(img);
			return false;
		}
		if (!img->rgba) {
			program_fail(out, 422, "corrupt animated WebP: no frame");
			return false;
		}
		return true;
	}
	if (!image_allocate(img, (uint32_t)features.width, (uint32_t)features.height, out))
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
	{
		int orientation = 1;
		webp_copy_icc(data, len, img, &orientation);
		if (!image_orient(img, orientation)) {
			image_free(img);
			program_fail(out, 500, "out of memory while applying the EXIF orientation");
			return false;
		}
	}
	return true;
}

/* WebP: canvas, frame count and loop count from the container (VP8X/ANIM/ANMF). */
static bool webp_probe(const uint8_t *data, size_t len, struct image_info *info, struct program_output *out)
{
	WebPBitstreamFeatures features;
	VP8StatusCode status = WebPGetFeatures(data, len, &features);
	if (status != VP8_STATUS_OK) {
		program_fail(out, 422, "corrupt or truncated WebP: %s", vp8_status_text(status));
		return false;
	}
	info->width = (uint32_t)features.width;
	info->height = (uint32_t)features.height;
	info->frames = 1;
	info->loop_count = 0;
	if (features.has_animation) {
		WebPData whole = {data, len};
		WebPDemuxer *demux = WebPDemux(&whole);
		if (!demux) {
			program_fail(out, 422, "corrupt or truncated animated WebP: the container does not parse");
			return false;
		}
		info->frames = WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT);
		info->loop_count = (int)WebPDemuxGetI(demux, WEBP_FF_LOOP_COUNT);
		WebPDemuxDelete(demux);
		if (info->frames == 0) {
			program_fail(out, 422, "corrupt animated WebP: no frame");
			return false;
		}
	}
	return true;
}

/* Fails with 415 naming the format when it is unknown or not in accepted. */
static bool check_accepted(const uint8_t *data, size_t len, enum image_format format, unsigned accepted,
                           struct program_output *out)
{
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
	return true;
}

bool image_probe(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, long max_frames,
                 struct image_info *info, struct program_output *out)
{
	bool ok;
	memset(info, 0, sizeof(*info));
	info->format = image_detect(data, len);
	info->frames = 1;
	if (!check_accepted(data, len, info->format, accepted, out))
		return false;
	switch (info->format) {
	case IMAGE_GIF: ok = image_gif_probe(data, len, info, out); break;
	case IMAGE_PNG: ok = image_apng_probe(data, len, info, out); break;
	case IMAGE_WEBP: ok = webp_probe(data, len, info, out); break;
	default: return true; /* JPEG: a still; its decoder checks the size */
	}
	if (!ok || !image_check_pixels(info->width, info->height, max_pixels, image_format_name(info->format), out))
		return false;
	if (info->frames == 0) {
		program_fail(out, 422, "corrupt or truncated %s: no image found", image_format_name(info->format));
		return false;
	}
	if (info->frames > (unsigned long)max_frames) {
		program_fail(out, 413, "%s animation has %u frames, more than max_frames %ld", image_format_name(info->format),
		             info->frames, max_frames);
		return false;
	}
	return true;
}

bool image_decode(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, struct image *img,
                  struct program_output *out)
{
	return image_decode_shrunk(data, len, accepted, max_pixels, 1, img, out);
}

bool image_decode_shrunk(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, unsigned jpeg_denom,
                         struct image *img, struct program_output *out)
{
	enum image_format format = image_detect(data, len);
	memset(img, 0, sizeof(*img));
	if (!check_accepted(data, len, format, accepted, out))
		return false;
	switch (format) {
	case IMAGE_JPEG: return decode_jpeg(data, len, max_pixels, jpeg_denom, img, out);
	case IMAGE_PNG: {
		int orientation = 1;
		if (!image_decode_png(data, len, max_pixels, "PNG", &orientation, img, out))
			return false;
		if (!image_orient(img, orientation)) {
			image_free(img);
			program_fail(out, 500, "out of memory while applying the EXIF orientation");
			return false;
		}
		return true;
	}
	case IMAGE_GIF:
		if (!image_gif_frames(data, len, max_pixels, 1, keep_first_frame, img, out)) {
			image_free(img);
			return false;
		}
		return true;
	default: return decode_webp(data, len, max_pixels, img, out);
	}
}

bool image_decode_frames(const uint8_t *data, size_t len, const struct image_info *info, long max_pixels,
                         image_frame_fn fn, void *ctx, struct program_output *out)
{
	switch (info->format) {
	case IMAGE_GIF: return image_gif_frames(data, len, max_pixels, info->frames, fn, ctx, out);
	case IMAGE_PNG: return image_apng_frames(data, len, info, max_pixels, fn, ctx, out);
	case IMAGE_WEBP: return webp_frames(data, len, max_pixels, info->frames, fn, ctx, out);
	default: program_fail(out, 500, "%s has no frames to decode", image_format_name(info->format)); return false;
	}
}
