/* avif_writer.c — ISOBMFF boxes of a still AVIF image (ISO/IEC 23008-12 HEIF, MIAF, AV1-ISOBMFF, AVIF 1.0). */
#include "avif_writer.h"

#include <stdlib.h>
#include <string.h>

/* The auxiliary type URN that marks an auxiliary image as alpha (AVIF section 4.1). */
static const char alpha_urn[] = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";

struct buffer {
	uint8_t *data;
	size_t len;
	size_t capacity;
	bool failed;
};

static void put_bytes(struct buffer *b, const void *bytes, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->capacity) {
		size_t capacity = b->capacity ? b->capacity : 1024;
		uint8_t *bigger;
		while (capacity < b->len + n)
			capacity *= 2;
		bigger = realloc(b->data, capacity);
		if (!bigger) {
			b->failed = true;
			return;
		}
		b->data = bigger;
		b->capacity = capacity;
	}
	memcpy(b->data + b->len, bytes, n);
	b->len += n;
}

static void put8(struct buffer *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put16(struct buffer *b, uint16_t v)
{
	uint8_t bytes[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put_bytes(b, bytes, 2);
}

static void put32(struct buffer *b, uint32_t v)
{
	uint8_t bytes[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put_bytes(b, bytes, 4);
}

static void patch32(struct buffer *b, size_t at, uint32_t v)
{
	if (b->failed)
		return;
	b->data[at] = (uint8_t)(v >> 24);
	b->data[at + 1] = (uint8_t)(v >> 16);
	b->data[at + 2] = (uint8_t)(v >> 8);
	b->data[at + 3] = (uint8_t)v;
}

/* Starts a box; returns where its size goes, for box_end(). */
static size_t box_begin(struct buffer *b, const char type[4])
{
	size_t start = b->len;
	put32(b, 0);
	put_bytes(b, type, 4);
	return start;
}

static size_t full_box_begin(struct buffer *b, const char type[4], uint8_t version, uint32_t flags)
{
	size_t start = box_begin(b, type);
	put8(b, version);
	put8(b, (uint8_t)(flags >> 16));
	put16(b, (uint16_t)flags);
	return start;
}

static void box_end(struct buffer *b, size_t start)
{
	patch32(b, start, (uint32_t)(b->len - start));
}

/* AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3) with the sequence header OBU as configOBUs. */
static void put_av1c(struct buffer *b, const struct av1_encoded *av1)
{
	const struct av1_sequence_info *s = &av1->info;
	size_t box = box_begin(b, "av1C");
	put8(b, 0x81); /* marker 1, version 1 */
	put8(b, (uint8_t)(s->profile << 5 | (s->level & 0x1f)));
	put8(b, (uint8_t)(s->tier << 7 | s->high_bitdepth << 6 | s->twelve_bit << 5 | s->monochrome << 4 |
	                  s->subsampling_x << 3 | s->subsampling_y << 2 | (s->chroma_sample_position & 3)));
	put8(b, 0); /* no initial_presentation_delay */
	put_bytes(b, av1->obus + av1->sequence_header_offset, av1->sequence_header_len);
	box_end(b, box);
}

static void put_pixi(struct buffer *b, unsigned channels)
{
	size_t box = full_box_begin(b, "pixi", 0, 0);
	put8(b, (uint8_t)channels);
	for (unsigned i = 0; i < channels; i++)
		put8(b, 8); /* bits per channel */
	box_end(b, box);
}

bool avif_write(uint32_t width, uint32_t height, const struct av1_encoded *color, const struct av1_encoded *alpha,
                const uint8_t *icc, size_t icc_len, uint8_t **out, size_t *out_len)
{
	/* With an ICC profile its colr box is property 5 and the alpha properties move up by one. */
	uint8_t first_alpha = icc ? 6 : 5;
	struct buffer b = {NULL, 0, 0, false};
	unsigned items = alpha ? 2 : 1;
	size_t extent_offset_at[2], meta, box, iprp, mdat;
	/* ftyp */
	box = box_begin(&b, "ftyp");
	put_bytes(&b, "avif", 4); /* major brand */
	put32(&b, 0);             /* minor version */
	put_bytes(&b, "avifmif1miaf", 12);
	box_end(&b, box);

	meta = full_box_begin(&b, "meta", 0, 0);

	box = full_box_begin(&b, "hdlr", 0, 0);
	put32(&b, 0); /* pre_defined */
	put_bytes(&b, "pict", 4);
	put32(&b, 0), put32(&b, 0), put32(&b, 0); /* reserved */
	put8(&b, 0);                              /* empty name */
	box_end(&b, box);

	box = full_box_begin(&b, "pitm", 0, 0);
	put16(&b, 1); /* the primary item is the colour image */
	box_end(&b, box);

	/* iloc version 0: 4-byte offsets and lengths, no base offset; one extent per item, in mdat. */
	box = full_box_begin(&b, "iloc", 0, 0);
	put8(&b, 4 << 4 | 4);
	put8(&b, 0);
	put16(&b, (uint16_t)items);
	for (unsigned i = 0; i < items; i++) {
		const struct av1_encoded *data = i == 0 ? color : alpha;
		put16(&b, (uint16_t)(i + 1)); /* item_ID */
		put16(&b, 0);                 /* data_reference_index: this file */
		put16(&b, 1);                 /* extent_count */
		extent_offset_at[i] = b.len;
		put32(&b, 0); /* extent_offset, patched once mdat's position is known */
		put32(&b, (uint32_t)data->len);
	}
	box_end(&b, box);

	box = full_box_begin(&b, "iinf", 0, 0);
	put16(&b, (uint16_t)items);
	for (unsigned i = 0; i < items; i++) {
		size_t infe = full_box_begin(&b, "infe", 2, 0);
		put16(&b, (uint16_t)(i + 1)); /* item_ID */
		put16(&b, 0);                 /* item_protection_index */
		put_bytes(&b, "av01", 4);
		put8(&b, 0); /* empty item_name */
		box_end(&b, infe);
	}
	box_end(&b, box);

	if (alpha) {
		size_t auxl;
		box = full_box_begin(&b, "iref", 0, 0);
		auxl = box_begin(&b, "auxl");
		put16(&b, 2); /* from the alpha item */
		put16(&b, 1); /* reference_count */
		put16(&b, 1); /* to the colour item */
		box_end(&b, auxl);
		box_end(&b, box);
	}

	/* Properties, numbered from 1 in ipco order: 1 ispe, 2 av1C, 3 pixi, 4 colr nclx, [5 colr prof]; alpha: av1C,
	 * pixi, auxC. The nclx box still gives the matrix and range of the YUV data; the profile gives the colours. */
	iprp = box_begin(&b, "iprp");
	box = box_begin(&b, "ipco");
	{
		size_t p = full_box_begin(&b, "ispe", 0, 0);
		put32(&b, width);
		put32(&b, height);
		box_end(&b, p);
		put_av1c(&b, color);
		put_pixi(&b, 3);
		p = box_begin(&b, "colr");
		put_bytes(&b, "nclx", 4);
		put16(&b, AV1_COLOR_PRIMARIES);
		put16(&b, AV1_TRANSFER);
		put16(&b, AV1_MATRIX);
		put8(&b, AV1_FULL_RANGE << 7);
		box_end(&b, p);
		if (icc) {
			p = box_begin(&b, "colr");
			put_bytes(&b, "prof", 4);
			put_bytes(&b, icc, icc_len);
			box_end(&b, p);
		}
		if (alpha) {
			put_av1c(&b, alpha);
			put_pixi(&b, 1);
			p = full_box_begin(&b, "auxC", 0, 0);
			put_bytes(&b, alpha_urn, sizeof(alpha_urn)); /* with its NUL */
			box_end(&b, p);
		}
	}
	box_end(&b, box);
	/* ipma version 0, flags 0: 7-bit property indices; the high bit marks a property essential (av1C is). */
	box = full_box_begin(&b, "ipma", 0, 0);
	put32(&b, items);
	put16(&b, 1);
	put8(&b, icc ? 5 : 4);
	put8(&b, 1), put8(&b, 0x80 | 2), put8(&b, 3), put8(&b, 4);
	if (icc)
		put8(&b, 5);
	if (alpha) {
		put16(&b, 2);
		put8(&b, 4);
		put8(&b, 1), put8(&b, 0x80 | first_alpha), put8(&b, (uint8_t)(first_alpha + 1)), put8(&b, (uint8_t)(first_alpha + 2));
	}
	box_end(&b, box);
	box_end(&b, iprp);
	box_end(&b, meta);

	mdat = box_begin(&b, "mdat");
	patch32(&b, extent_offset_at[0], (uint32_t)b.len);
	put_bytes(&b, color->obus, color->len);
	if (alpha) {
		patch32(&b, extent_offset_at[1], (uint32_t)b.len);
		put_bytes(&b, alpha->obus, alpha->len);
	}
	box_end(&b, mdat);

	if (b.failed || b.len > UINT32_MAX) {
		free(b.data);
		return false;
	}
	*out = b.data;
	*out_len = b.len;
	return true;
}
