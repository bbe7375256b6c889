/* av1_sequence_header.c — reads sequence_header_obu() (AV1 spec 5.5) up to and including color_config(). */
#include "av1_sequence_header.h"

struct bits {
	const uint8_t *data;
	size_t len;
	size_t pos; /* in bits */
	bool overrun;
};

static uint32_t read_bits(struct bits *b, unsigned n)
{
	uint32_t value = 0;
	for (unsigned i = 0; i < n; i++) {
		if (b->pos >= b->len * 8) {
			b->overrun = true;
			return 0;
		}
		value = value << 1 | ((b->data[b->pos / 8] >> (7 - b->pos % 8)) & 1);
		b->pos++;
	}
	return value;
}

/* uvlc() of the AV1 spec (only in timing_info when equal_picture_interval is set). */
static void skip_uvlc(struct bits *b)
{
	unsigned leading_zeros = 0;
	while (!read_bits(b, 1) && !b->overrun)
		leading_zeros++;
	if (leading_zeros < 32)
		read_bits(b, leading_zeros);
}

bool avif_parse_sequence_header(const uint8_t *payload, size_t len, struct av1_sequence_info *info)
{
	struct bits b = {payload, len, 0, false};
	bool reduced, timing_info_present = false, decoder_model_info_present = false;
	unsigned buffer_delay_length = 0, bit_depth = 8;
	info->profile = read_bits(&b, 3);
	read_bits(&b, 1); /* still_picture */
	reduced = read_bits(&b, 1);
	if (reduced) {
		info->level = read_bits(&b, 5);
		info->tier = 0;
	} else {
		bool initial_display_delay_present;
		unsigned operating_points;
		timing_info_present = read_bits(&b, 1);
		if (timing_info_present) {
			read_bits(&b, 32); /* num_units_in_display_tick */
			read_bits(&b, 32); /* time_scale */
			if (read_bits(&b, 1)) /* equal_picture_interval */
				skip_uvlc(&b);
			decoder_model_info_present = read_bits(&b, 1);
			if (decoder_model_info_present) {
				buffer_delay_length = read_bits(&b, 5) + 1;
				read_bits(&b, 32); /* num_units_in_decoding_tick */
				read_bits(&b, 5);  /* buffer_removal_time_length_minus_1 */
				read_bits(&b, 5);  /* frame_presentation_time_length_minus_1 */
			}
		}
		initial_display_delay_present = read_bits(&b, 1);
		operating_points = read_bits(&b, 5) + 1;
		for (unsigned i = 0; i < operating_points; i++) {
			unsigned level, tier = 0;
			read_bits(&b, 12); /* operating_point_idc */
			level = read_bits(&b, 5);
			if (level > 7)
				tier = read_bits(&b, 1);
			if (decoder_model_info_present && read_bits(&b, 1)) {
				read_bits(&b, buffer_delay_length); /* decoder_buffer_delay */
				read_bits(&b, buffer_delay_length); /* encoder_buffer_delay */
				read_bits(&b, 1);                   /* low_delay_mode_flag */
			}
			if (initial_display_delay_present && read_bits(&b, 1))
				read_bits(&b, 4);
			if (i == 0) {
				info->level = level;
				info->tier = tier;
			}
		}
	}
	{
		unsigned width_bits = read_bits(&b, 4) + 1, height_bits = read_bits(&b, 4) + 1;
		info->max_width = read_bits(&b, width_bits) + 1;
		info->max_height = read_bits(&b, height_bits) + 1;
	}
	if (!reduced && read_bits(&b, 1)) { /* frame_id_numbers_present_flag */
		read_bits(&b, 4);
		read_bits(&b, 3);
	}
	read_bits(&b, 1); /* use_128x128_superblock */
	read_bits(&b, 1); /* enable_filter_intra */
	read_bits(&b, 1); /* enable_intra_edge_filter */
	if (!reduced) {
		bool order_hint;
		unsigned force_screen_content_tools = 2;
		read_bits(&b, 1); /* enable_interintra_compound */
		read_bits(&b, 1); /* enable_masked_compound */
		read_bits(&b, 1); /* enable_warped_motion */
		read_bits(&b, 1); /* enable_dual_filter */
		order_hint = read_bits(&b, 1);
		if (order_hint) {
			read_bits(&b, 1); /* enable_jnt_comp */
			read_bits(&b, 1); /* enable_ref_frame_mvs */
		}
		if (!read_bits(&b, 1)) /* seq_choose_screen_content_tools */
			force_screen_content_tools = read_bits(&b, 1);
		if (force_screen_content_tools > 0 && !read_bits(&b, 1)) /* seq_choose_integer_mv */
			read_bits(&b, 1);                                     /* seq_force_integer_mv */
		if (order_hint)
			read_bits(&b, 3); /* order_hint_bits_minus_1 */
	}
	read_bits(&b, 1); /* enable_superres */
	read_bits(&b, 1); /* enable_cdef */
	read_bits(&b, 1); /* enable_restoration */
	/* color_config() */
	info->high_bitdepth = read_bits(&b, 1);
	info->twelve_bit = false;
	if (info->profile == 2 && info->high_bitdepth) {
		info->twelve_bit = read_bits(&b, 1);
		bit_depth = info->twelve_bit ? 12 : 10;
	} else if (info->high_bitdepth) {
		bit_depth = 10;
	}
	info->monochrome = info->profile == 1 ? false : read_bits(&b, 1);
	{
		unsigned primaries = 2, transfer = 2, matrix = 2;
		if (read_bits(&b, 1)) { /* color_description_present_flag */
			primaries = read_bits(&b, 8);
			transfer = read_bits(&b, 8);
			matrix = read_bits(&b, 8);
		}
		info->chroma_sample_position = 0;
		if (info->monochrome) {
			read_bits(&b, 1); /* color_range */
			info->subsampling_x = info->subsampling_y = true;
		} else if (primaries == 1 && transfer == 13 && matrix == 0) {
			info->subsampling_x = info->subsampling_y = false; /* sRGB: 4:4:4, full range implied */
		} else {
			read_bits(&b, 1); /* color_range */
			if (info->profile == 0) {
				info->subsampling_x = info->subsampling_y = true;
			} else if (info->profile == 1) {
				info->subsampling_x = info->subsampling_y = false;
			} else if (bit_depth == 12) {
				info->subsampling_x = read_bits(&b, 1);
				info->subsampling_y = info->subsampling_x ? read_bits(&b, 1) : false;
			} else {
				info->subsampling_x = true;
				info->subsampling_y = false;
			}
			if (info->subsampling_x && info->subsampling_y)
				info->chroma_sample_position = read_bits(&b, 2);
		}
	}
	return !b.overrun && info->profile <= 2;
}
