/* image_exif.c — the Orientation tag (0x0112) of IFD0 in EXIF data: a JPEG's APP1 "Exif" segment, a PNG eXIf
 * chunk or a WebP EXIF chunk. */
#include "image.h"

#include <string.h>

static uint32_t read16(const uint8_t *p, bool big_endian)
{
	return big_endian ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
}

static uint32_t read32(const uint8_t *p, bool big_endian)
{
	return big_endian ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
	                  : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

int image_exif_orientation(const uint8_t *app1, size_t len)
{
	/* APP1 payload: "Exif\0\0", then the TIFF data. */
	if (len < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0)
		return 1;
	return image_tiff_orientation(app1 + 6, len - 6);
}

int image_tiff_orientation(const uint8_t *tiff, size_t tiff_len)
{
	size_t ifd, count;
	bool big_endian;
	/* Some writers put "Exif\0\0" in front of a PNG or WebP chunk's TIFF data too. */
	if (tiff_len >= 6 && memcmp(tiff, "Exif\0\0", 6) == 0)
		tiff += 6, tiff_len -= 6;
	/* A TIFF header: "II" or "MM", 42, offset of IFD0. */
	if (tiff_len < 8)
		return 1;
	if (tiff[0] == 'I' && tiff[1] == 'I')
		big_endian = false;
	else if (tiff[0] == 'M' && tiff[1] == 'M')
		big_endian = true;
	else
		return 1;
	if (read16(tiff + 2, big_endian) != 42)
		return 1;
	ifd = read32(tiff + 4, big_endian);
	if (ifd > tiff_len - 2)
		return 1;
	count = read16(tiff + ifd, big_endian);
	/* Each entry: tag (2), type (2), count (4), value or offset (4). */
	for (size_t i = 0; i < count; i++) {
		size_t entry = ifd + 2 + i * 12;
		uint32_t value;
		if (entry + 12 > tiff_len)
			return 1;
		if (read16(tiff + entry, big_endian) != 0x0112)
			continue;
		/* Type SHORT (3), count 1: the value sits in the first 2 bytes of the value field. */
		if (read16(tiff + entry + 2, big_endian) != 3 || read32(tiff + entry + 4, big_endian) != 1)
			return 1;
		value = read16(tiff + entry + 8, big_endian);
		return value >= 1 && value <= 8 ? (int)value : 1;
	}
	return 1;
}
