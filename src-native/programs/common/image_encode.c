/* image_encode.c — WebP (still and animated), JPEG and PNG output; see image_encode.h. */
#include "image_encode.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>
#include <webp/mux.h>

/* ---- WebP ---- */

static const char *webp_error_text(WebPEncodingError code)
{
	switch (code) {
	case VP8_ENC_ERROR_OUT_OF_MEMORY:
	case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory";
	case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimension";
	case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow (try a lower quality)";
	case VP8_ENC_ERROR_FILE_TOO_BIG: return "output too big";
	default: return "encoder error";
	}
}

static bool webp_config(const struct image_webp_settings *s, WebPConfig *config)
{
	if (!WebPConfigInit(config))
		return false;
	config->quality = (float)s->quality;
	config->method = (int)s->method;
	config->lossless = s->lossless;
	config->thread_level = 0; /* one thread: guests run single-threaded */
	return true;
}

/* img into a WebPPicture; without transparency only RGB is imported, so no alpha plane is stored. */
static bool webp_picture(const struct image *img, bool use_argb, WebPPicture *picture)
{
	if (!WebPPictureInit(picture))
		return false;
	picture->use_argb = use_argb;
	picture->width = (int)img->width;
	picture->height = (int)img->height;
	if (image_has_transparency(img))
		return WebPPictureImportRGBA(picture, img->rgba, (int)img->width * 4);
	return WebPPictureImportRGBX(picture, img->rgba, (int)img->width * 4);
}

static bool copy_out(const uint8_t *bytes, size_t n, uint8_t **file, size_t *len, char *err, size_t err_size)
{
	if (!(*file = malloc(n ? n : 1))) {
		snprintf(err, err_size, "out of memory for a %zu-byte output", n);
		return false;
	}
	memcpy(*file, bytes, n);
	*len = n;
	return true;
}

/* Adds the ICC profile to a finished WebP file (libwebpmux rewrites it with a VP8X header and an ICCP chunk). */
static bool webp_with_icc(const WebPData *plain, const uint8_t *icc, size_t icc_len, uint8_t **file, size_t *len,
                          char *err, size_t err_size)
{
	WebPMux *mux;
	WebPData profile = {icc, icc_len}, assembled = {NULL, 0};
	bool ok;
	if (!icc)
		return copy_out(plain->bytes, plain->size, file, len, err, err_size);
	mux = WebPMuxCreate(plain, 0);
	if (!mux || WebPMuxSetChunk(mux, "ICCP", &profile, 0) != WEBP_MUX_OK ||
	    WebPMuxAssemble(mux, &assembled) != WEBP_MUX_OK) {
		WebPMuxDelete(mux);
		snprintf(err, err_size, "libwebpmux could not add the %zu-byte ICC profile", icc_len);
		return false;
	}
	WebPMuxDelete(mux);
	ok = copy_out(assembled.bytes, assembled.size, file, len, err, err_size);
	WebPDataClear(&assembled);
	return ok;
}

bool image_encode_webp(const struct image *img, const struct image_webp_settings *settings, uint8_t **file,
                       size_t *len, char *err, size_t err_size)
{
	WebPConfig config;
	WebPPicture picture;
	WebPMemoryWriter writer;
	WebPData plain;
	bool ok;
	if (!webp_config(settings, &config)) {
		snprintf(err, err_size, "libwebp version mismatch");
		return false;
	}
	if (!webp_picture(img, settings->lossless, &picture)) {
		WebPPictureFree(&picture);
		snprintf(err, err_size, "out of memory importing the picture");
		return false;
	}
	WebPMemoryWriterInit(&writer);
	picture.writer = WebPMemoryWrite;
	picture.custom_ptr = &writer;
	if (!WebPEncode(&config, &picture)) {
		snprintf(err, err_size, "WebP encoding failed: %s", webp_error_text(picture.error_code));
		WebPPictureFree(&picture);
		WebPMemoryWriterClear(&writer);
		return false;
	}
	WebPPictureFree(&picture);
	plain.bytes = writer.mem;
	plain.size = writer.size;
	ok = webp_with_icc(&plain, img->icc, img->icc_len, file, len, err, err_size);
	WebPMemoryWriterClear(&writer);
	return ok;
}

struct image_webp_animation {
	WebPAnimEncoder *encoder;
	WebPConfig config;
	bool lossless;
	int timestamp_ms; /* where the next frame starts */
};

struct image_webp_animation *image_webp_animation_begin(uint32_t width, uint32_t height, int loop_count,
                                                        const struct image_webp_settings *settings, char *err,
                                                        size_t err_size)
{
	struct image_webp_animation *anim = calloc(1, sizeof(*anim));
	WebPAnimEncoderOptions options;
	if (!anim || !webp_config(settings, &anim->config) || !WebPAnimEncoderOptionsInit(&options)) {
		free(anim);
		snprintf(err, err_size, "out of memory (or libwebp version mismatch) starting the animation");
		return NULL;
	}
	options.anim_params.loop_count = loop_count;
	options.anim_params.bgcolor = 0x00000000; /* transparent, as browsers show the canvas */
	options.allow_mixed = 0;
	options.minimize_size = 0;
	options.verbose = 0;
	anim->lossless = settings->lossless;
	anim->encoder = WebPAnimEncoderNew((int)width, (int)height, &options);
	if (!anim->encoder) {
		free(anim);
		snprintf(err, err_size, "cannot start a %ux%u WebP animation", width, height);
		return NULL;
	}
	return anim;
}

bool image_webp_animation_add(struct image_webp_animation *anim, const struct image *canvas, int duration_ms,
                              char *err, size_t err_size)
{
	WebPPicture picture;
	bool ok;
	/* The animation encoder compares frames in ARGB, so it is always given ARGB pictures. */
	if (!webp_picture(canvas, true, &picture)) {
		WebPPictureFree(&picture);
		snprintf(err, err_size, "out of memory importing a frame");
		return false;
	}
	ok = WebPAnimEncoderAdd(anim->encoder, &picture, anim->timestamp_ms, &anim->config);
	if (!ok)
		snprintf(err, err_size, "WebP animation: adding a frame failed: %s", WebPAnimEncoderGetError(anim->encoder));
	WebPPictureFree(&picture);
	anim->timestamp_ms += duration_ms < 0 ? 0 : duration_ms;
	return ok;
}

bool image_webp_animation_finish(struct image_webp_animation *anim, const uint8_t *icc, size_t icc_len,
                                 uint8_t **file, size_t *len, char *err, size_t err_size)
{
	WebPData assembled = {NULL, 0};
	bool ok = false;
	/* A final NULL frame gives the last frame its duration. */
	if (!WebPAnimEncoderAdd(anim->encoder, NULL, anim->timestamp_ms, NULL) ||
	    !WebPAnimEncoderAssemble(anim->encoder, &assembled)) {
		snprintf(err, err_size, "WebP animation: assembling failed: %s", WebPAnimEncoderGetError(anim->encoder));
	} else {
		ok = webp_with_icc(&assembled, icc, icc_len, file, len, err, err_size);
	}
	WebPDataClear(&assembled);
	image_webp_animation_abort(anim);
	return ok;
}

void image_webp_animation_abort(struct image_webp_animation *anim)
{
	if (!anim)
		return;
	WebPAnimEncoderDelete(anim->encoder);
	free(anim);
}

/* ---- JPEG ---- */

struct jpeg_failure {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char message[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo)
{
	struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
	f->mgr.format_message(cinfo, f->message);
	longjmp(f->jump, 1);
}

bool image_encode_jpeg(struct image *img, long quality, const uint8_t background[4], uint8_t **file, size_t *len,
                       char *err, size_t err_size)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_failure failure;
	unsigned char *buffer = NULL;
	unsigned long size = 0;
	memset(&failure, 0, sizeof(failure));
	cinfo.err = jpeg_std_error(&failure.mgr);
	failure.mgr.error_exit = jpeg_fail;
	if (setjmp(failure.jump)) {
		snprintf(err, err_size, "JPEG encoding failed: %s", failure.message);
		jpeg_destroy_compress(&cinfo);
		free(buffer);
		return false;
	}
	image_flatten(img, background);
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, &buffer, &size);
	cinfo.image_width = img->width;
	cinfo.image_height = img->height;
	cinfo.input_components = 4;
	cinfo.in_color_space = JCS_EXT_RGBX;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, (int)quality, TRUE);
	cinfo.optimize_coding = TRUE;
	if (quality >= 90) {
		/* Full-resolution chroma at high quality (as ImageMagick and cjpeg users expect): 4:2:0 smears
		 * saturated edges, which at these qualities costs more than the bytes it saves. */
		for (int c = 0; c < cinfo.num_components; c++)
			cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
	}
	if ((uint64_t)img->width * img->height > 10000)
		jpeg_simple_progression(&cinfo);
	jpeg_start_compress(&cinfo, TRUE);
	if (img->icc)
		jpeg_write_icc_profile(&cinfo, img->icc, (unsigned int)img->icc_len);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = img->rgba + (size_t)cinfo.next_scanline * img->width * 4;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	*file = buffer;
	*len = size;
	return true;
}

/* ---- PNG ---- */

struct png_sink {
	uint8_t *bytes;
	size_t len, capacity;
	bool failed;
	char message[200];
};

static void png_write_memory(png_structp png, png_bytep data, png_size_t n)
{
	struct png_sink *sink = png_get_io_ptr(png);
	if (sink->capacity - sink->len < n) {
		size_t capacity = sink->capacity ? sink->capacity : 65536;
		uint8_t *bigger;
		while (capacity - sink->len < n)
			capacity *= 2;
		if (!(bigger = realloc(sink->bytes, capacity)))
			png_error(png, "out of memory");
		sink->bytes = bigger;
		sink->capacity = capacity;
	}
	memcpy(sink->bytes + sink->len, data, n);
	sink->len += n;
}

static void png_flush_memory(png_structp png)
{
	(void)png;
}

static void png_encode_fail(png_structp png, png_const_charp message)
{
	struct png_sink *sink = png_get_error_ptr(png);
	snprintf(sink->message, sizeof(sink->message), "%s", message);
	png_longjmp(png, 1);
}

static void png_encode_warn(png_structp png, png_const_charp message)
{
	(void)png;
	(void)message;
}

bool image_encode_png(const struct image *img, uint8_t **file, size_t *len, char *err, size_t err_size)
{
	struct png_sink sink = {NULL, 0, 0, false, ""};
	bool alpha = image_has_transparency(img);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_encode_fail, png_encode_warn);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info) {
		png_destroy_write_struct(&png, &info);
		snprintf(err, err_size, "out of memory creating the PNG writer");
		return false;
	}
	if (setjmp(png_jmpbuf(png))) {
		snprintf(err, err_size, "PNG encoding failed: %s", sink.message);
		png_destroy_write_struct(&png, &info);
		free(sink.bytes);
		return false;
	}
	png_set_write_fn(png, &sink, png_write_memory, png_flush_memory);
	png_set_compression_level(png, 6);
	png_set_IHDR(png, info, img->width, img->height, 8, alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (img->icc)
		png_set_iCCP(png, info, "icc", PNG_COMPRESSION_TYPE_BASE, img->icc, (png_uint_32)img->icc_len);
	png_write_info(png, info);
	if (!alpha)
		png_set_filler(png, 0, PNG_FILLER_AFTER); /* our rows are RGBA: drop the 4th byte */
	for (uint32_t y = 0; y < img->height; y++)
		png_write_row(png, img->rgba + (size_t)y * img->width * 4);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	*file = sink.bytes;
	*len = sink.len;
	return true;
}
