/*
 * av1_sequence_header.h — the fields of an AV1 sequence header OBU that an AVIF file repeats in its av1C box
 * (AV1 specification section 5.5; AV1-ISOBMFF section 2.3).
 */
#ifndef AVIF_AV1_SEQUENCE_HEADER_H
#define AVIF_AV1_SEQUENCE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct av1_sequence_info {
	unsigned profile;          /* seq_profile */
	unsigned level;            /* seq_level_idx[0] */
	unsigned tier;             /* seq_tier[0] */
	bool high_bitdepth;
	bool twelve_bit;
	bool monochrome;
	bool subsampling_x;
	bool subsampling_y;
	unsigned chroma_sample_position;
	uint32_t max_width;  /* max_frame_width_minus_1 + 1 */
	uint32_t max_height; /* max_frame_height_minus_1 + 1 */
};

/* Parses the payload of a sequence header OBU (the bytes after the OBU header and size). Returns false when the
 * payload is malformed or uses features this reader does not handle. */
bool avif_parse_sequence_header(const uint8_t *payload, size_t len, struct av1_sequence_info *info);

#endif
