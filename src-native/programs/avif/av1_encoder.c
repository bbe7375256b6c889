/* av1_encoder.c — RGBA to YUV and libaom encoding of one still picture; see av1_encoder.h. */
#include "av1_encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aom/aom_encoder.h>
#include <aom/aomcx.h>

static uint8_t clamp_byte(int32_t v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* BT.601 full range: Y = 0.299 R + 0.587 G + 0.114 B; Cb, Cr centred on 128. Chroma is the average of each 2x2
 * block (edge blocks of odd sizes average the pixels that exist). Fixed point with 16 fractional bits instead of
 * floats: about 3x faster (a few ms per 1080p picture), and each row of weights sums to exactly 1 or 0, so grey
 * stays grey (Cb = Cr = 128) and white stays 255. */
#define Y_R 19595 /* 0.299 * 65536 */
#define Y_G 38470 /* 0.587 * 65536 */
#define Y_B 7471  /* 0.114 * 65536; the three sum to 65536 */
#define CB_R 11059 /* 0.168736 * 65536 */
#define CB_G 21709 /* 0.331264 * 65536; CB_R + CB_G = 32768 = 0.5 * 65536 */
#define CR_G 27439 /* 0.418688 * 65536 */
#define CR_B 5329  /* 0.081312 * 65536; CR_G + CR_B = 32768 */
static void rgba_to_yuv420(const struct image *img, aom_image_t *yuv)
{
	uint32_t w = img->width, h = img->height;
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *src = img->rgba + (size_t)y * w * 4;
		uint8_t *dst = yuv->planes[AOM_PLANE_Y] + (size_t)y * yuv->stride[AOM_PLANE_Y];
		for (uint32_t x = 0; x < w; x++)
			dst[x] = (uint8_t)((Y_R * src[x * 4] + Y_G * src[x * 4 + 1] + Y_B * src[x * 4 + 2] + 32768) >> 16);
	}
	for (uint32_t cy = 0; cy < (h + 1) / 2; cy++) {
		const uint8_t *row0 = img->rgba + (size_t)cy * 2 * w * 4;
		const uint8_t *row1 = cy * 2 + 1 < h ? row0 + (size_t)w * 4 : row0; /* odd height: repeat the last row */
		uint8_t *u = yuv->planes[AOM_PLANE_U] + (size_t)cy * yuv->stride[AOM_PLANE_U];
		uint8_t *v = yuv->planes[AOM_PLANE_V] + (size_t)cy * yuv->stride[AOM_PLANE_V];
		for (uint32_t cx = 0; cx < (w + 1) / 2; cx++) {
			uint32_t x0 = cx * 2 * 4, x1 = cx * 2 + 1 < w ? x0 + 4 : x0; /* odd width: repeat the last column */
			/* Sums of the 4 samples: 4 times the block average, so the results are shifted by 2 more bits. */
			int32_t r = row0[x0] + row0[x1] + row1[x0] + row1[x1];
			int32_t g = row0[x0 + 1] + row0[x1 + 1] + row1[x0 + 1] + row1[x1 + 1];
			int32_t b = row0[x0 + 2] + row0[x1 + 2] + row1[x0 + 2] + row1[x1 + 2];
			u[cx] = clamp_byte((-CB_R * r - CB_G * g + 32768 * b + (128 << 18) + (1 << 17)) >> 18);
			v[cx] = clamp_byte((32768 * r - CR_G * g - CR_B * b + (128 << 18) + (1 << 17)) >> 18);
		}
	}
}

/* The alpha channel as the Y plane; the unused chroma planes are set to mid-grey. */
static void alpha_to_y(const struct image *img, aom_image_t *yuv)
{
	for (uint32_t y = 0; y < img->height; y++) {
		const uint8_t *src = img->rgba + (size_t)y * img->width * 4;
		uint8_t *dst = yuv->planes[AOM_PLANE_Y] + (size_t)y * yuv->stride[AOM_PLANE_Y];
		for (uint32_t x = 0; x < img->width; x++)
			dst[x] = src[x * 4 + 3];
	}
	for (uint32_t cy = 0; cy < (img->height + 1) / 2; cy++) {
		memset(yuv->planes[AOM_PLANE_U] + (size_t)cy * yuv->stride[AOM_PLANE_U], 128, (img->width + 1) / 2);
		memset(yuv->planes[AOM_PLANE_V] + (size_t)cy * yuv->stride[AOM_PLANE_V], 128, (img->width + 1) / 2);
	}
}

/* Reads a LEB128 value (AV1 spec 4.10.5). Returns its byte count, 0 when malformed. */
static size_t read_leb128(const uint8_t *p, size_t len, uint64_t *value)
{
	*value = 0;
	for (size_t i = 0; i < 8 && i < len; i++) {
		*value |= (uint64_t)(p[i] & 0x7f) << (i * 7);
		if (!(p[i] & 0x80))
			return i + 1;
	}
	return 0;
}

/* Appends the encoder's OBUs to out, dropping temporal delimiters (not allowed in item data), and finds the
 * sequence header. */
static bool append_obus(struct av1_encoded *out, const uint8_t *data, size_t len, char *err, size_t err_size)
{
	size_t pos = 0;
	uint8_t *bigger = realloc(out->obus, out->len + len);
	if (!bigger) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	out->obus = bigger;
	while (pos < len) {
		uint8_t header = data[pos];
		unsigned type = (header >> 3) & 0xf;
		size_t header_len = (header & 0x4) ? 2 : 1; /* obu_extension_flag */
		uint64_t payload_len;
		size_t leb;
		if (!(header & 0x2) || pos + header_len >= len) { /* obu_has_size_field: libaom always sets it */
			snprintf(err, err_size, "unexpected OBU layout from the AV1 encoder");
			return false;
		}
		leb = read_leb128(data + pos + header_len, len - pos - header_len, &payload_len);
		if (leb == 0 || payload_len > len - pos - header_len - leb) {
			snprintf(err, err_size, "malformed OBU size from the AV1 encoder");
			return false;
		}
		{
			size_t total = header_len + leb + (size_t)payload_len;
			if (type == 1 && out->sequence_header_len == 0) { /* OBU_SEQUENCE_HEADER */
				if (!avif_parse_sequence_header(data + pos + header_len + leb, (size_t)payload_len, &out->info)) {
					snprintf(err, err_size, "cannot parse the AV1 sequence header");
					return false;
				}
				out->sequence_header_len = total;
				out->sequence_header_offset = out->len;
			}
			if (type != 2) { /* OBU_TEMPORAL_DELIMITER */
				memcpy(out->obus + out->len, data + pos, total);
				out->len += total;
			}
			pos += total;
		}
	}
	return true;
}

bool avif_encode_av1(const struct image *img, bool alpha, int quantizer, int cpu_used, struct av1_encoded *out, char *err,
                size_t err_size)
{
	aom_codec_iface_t *iface = aom_codec_av1_cx();
	aom_codec_enc_cfg_t cfg;
	aom_codec_ctx_t codec;
	aom_image_t *yuv;
	bool ok = false, flushing = false;
	memset(out, 0, sizeof(*out));
	if (aom_codec_enc_config_default(iface, &cfg, AOM_USAGE_ALL_INTRA) != AOM_CODEC_OK) {
		snprintf(err, err_size, "libaom has no all-intra configuration");
		return false;
	}
	cfg.g_w = img->width;
	cfg.g_h = img->height;
	cfg.g_threads = 1; /* guests run single-threaded */
	cfg.g_limit = 1;   /* a still picture: reduced still-picture sequence header */
	cfg.g_lag_in_frames = 0;
	cfg.kf_mode = AOM_KF_DISABLED; /* one key frame, no automatic placement */
	cfg.kf_max_dist = 0;
	cfg.g_profile = 0; /* Main: 8-bit 4:2:0 and monochrome */
	cfg.g_bit_depth = AOM_BITS_8;
	cfg.g_input_bit_depth = 8;
	cfg.monochrome = alpha;
	cfg.rc_end_usage = AOM_Q;
	cfg.rc_min_quantizer = (unsigned)quantizer;
	cfg.rc_max_quantizer = (unsigned)quantizer;
	if (aom_codec_enc_init(&codec, iface, &cfg, 0) != AOM_CODEC_OK) {
		snprintf(err, err_size, "libaom init failed: %s", aom_codec_error_detail(&codec) ? aom_codec_error_detail(&codec) : aom_codec_error(&codec));
		return false;
	}
	if (aom_codec_control(&codec, AOME_SET_CPUUSED, cpu_used) != AOM_CODEC_OK ||
	    aom_codec_control(&codec, AOME_SET_CQ_LEVEL, (unsigned)quantizer) != AOM_CODEC_OK ||
	    aom_codec_control(&codec, AV1E_SET_COLOR_RANGE, AV1_FULL_RANGE) != AOM_CODEC_OK ||
	    aom_codec_control(&codec, AV1E_SET_ROW_MT, 0u) != AOM_CODEC_OK ||
	    /* Rate-distortion decisions by SSIM instead of PSNR: about 5-10% fewer bytes for the same SSIM, and the
	     * setting avifenc uses by default. */
	    aom_codec_control(&codec, AOME_SET_TUNING, AOM_TUNE_SSIM) != AOM_CODEC_OK ||
	    /* Nothing references the reconstructed frame of a still picture: skip deblocking/CDEF/restoration on it
	     * (the filter parameters are still chosen and written, so the output is the same, only faster). */
	    aom_codec_control(&codec, AV1E_SET_SKIP_POSTPROC_FILTERING, 1u) != AOM_CODEC_OK ||
	    (!alpha && (aom_codec_control(&codec, AV1E_SET_COLOR_PRIMARIES, AV1_COLOR_PRIMARIES) != AOM_CODEC_OK ||
	                aom_codec_control(&codec, AV1E_SET_TRANSFER_CHARACTERISTICS, AV1_TRANSFER) != AOM_CODEC_OK ||
	                aom_codec_control(&codec, AV1E_SET_MATRIX_COEFFICIENTS, AV1_MATRIX) != AOM_CODEC_OK))) {
		snprintf(err, err_size, "libaom rejected a setting: %s", aom_codec_error(&codec));
		aom_codec_destroy(&codec);
		return false;
	}
	yuv = aom_img_alloc(NULL, AOM_IMG_FMT_I420, img->width, img->height, 16);
	if (!yuv) {
		snprintf(err, err_size, "out of memory for the YUV picture");
		aom_codec_destroy(&codec);
		return false;
	}
	yuv->range = AOM_CR_FULL_RANGE;
	yuv->monochrome = alpha;
	if (alpha) {
		alpha_to_y(img, yuv);
	} else {
		yuv->cp = AV1_COLOR_PRIMARIES;
		yuv->tc = AV1_TRANSFER;
		yuv->mc = AV1_MATRIX;
		rgba_to_yuv420(img, yuv);
	}
	/* One frame in, then a flush (NULL image) until the encoder has no more packets. */
	for (;;) {
		const aom_codec_cx_pkt_t *pkt;
		aom_codec_iter_t iter = NULL;
		bool got = false;
		if (aom_codec_encode(&codec, flushing ? NULL : yuv, 0, 1, 0) != AOM_CODEC_OK) {
			snprintf(err, err_size, "AV1 encoding failed: %s", aom_codec_error(&codec));
			goto done;
		}
		while ((pkt = aom_codec_get_cx_data(&codec, &iter)) != NULL) {
			if (pkt->kind != AOM_CODEC_CX_FRAME_PKT)
				continue;
			got = true;
			if (!append_obus(out, pkt->data.frame.buf, pkt->data.frame.sz, err, err_size))
				goto done;
		}
		if (flushing && !got)
			break;
		flushing = true;
	}
	if (!out->sequence_header_len || out->len == 0) {
		snprintf(err, err_size, "the AV1 encoder produced no sequence header or no frame");
		goto done;
	}
	ok = true;
done:
	aom_img_free(yuv);
	aom_codec_destroy(&codec);
	if (!ok)
		avif_av1_free(out);
	return ok;
}

void avif_av1_free(struct av1_encoded *encoded)
{
	free(encoded->obus);
	memset(encoded, 0, sizeof(*encoded));
}
