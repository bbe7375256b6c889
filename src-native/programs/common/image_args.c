/* image_args.c — the arg options shared by the image programs; see image.h and docs/writing-programs.md. */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fit_names[] = {"cover", "contain", "fill", "inside", NULL};
static const char *const gravity_names[] = {"center", "north", "south", "east", "west", "northeast",
                                            "northwest", "southeast", "southwest", "smart", NULL};
static const char *const icc_names[] = {"srgb", "keep", NULL};

/* "rrggbb" or "rrggbbaa", with or without a leading '#'. */
static bool parse_background(const char *text, uint8_t rgba[4])
{
	size_t n;
	unsigned long value;
	if (text[0] == '#')
		text++;
	n = strlen(text);
	if ((n != 6 && n != 8) || strspn(text, "0123456789abcdefABCDEF") != n)
		return false;
	value = strtoul(text, NULL, 16);
	if (n == 6)
		value = value << 8 | 0xff; /* opaque */
	for (int i = 0; i < 4; i++)
		rgba[i] = (uint8_t)(value >> (24 - 8 * i));
	return true;
}

bool image_options_read(const struct json_value *args, struct image_options *options, char *err, size_t err_size)
{
	int fit, gravity, icc;
	const char *background;
	memset(options, 0, sizeof(*options));
	if (!args_get_int_array(args, "resize", 2, 0, IMAGE_MAX_SIDE, options->resize, &options->resize_given, err,
	                        err_size))
		return false;
	if (!args_get_int_array(args, "crop", 4, 0, IMAGE_MAX_SIDE * 4L, options->crop, &options->crop_given, err,
	                        err_size))
		return false;
	if (options->crop_given && (options->crop[2] == 0 || options->crop[3] == 0)) {
		snprintf(err, err_size, "arg: \"crop\" is [x, y, width, height]: width and height must be at least 1");
		return false;
	}
	if (!args_get_int(args, "width", 1, IMAGE_MAX_SIDE, 0, &options->width, err, err_size) ||
	    !args_get_int(args, "height", 1, IMAGE_MAX_SIDE, 0, &options->height, err, err_size) ||
	    !args_get_number(args, "dpr", IMAGE_MIN_DPR, IMAGE_MAX_DPR, 1.0, &options->dpr, err, err_size) ||
	    !args_get_choice(args, "fit", fit_names, IMAGE_FIT_COVER, &fit, err, err_size) ||
	    !args_get_choice(args, "gravity", gravity_names, IMAGE_GRAVITY_CENTER, &gravity, err, err_size) ||
	    !args_get_bool(args, "enlarge", false, &options->enlarge, err, err_size) ||
	    !args_get_string(args, "background", 9, NULL, &background, err, err_size) ||
	    !args_get_choice(args, "icc", icc_names, IMAGE_ICC_SRGB, &icc, err, err_size))
		return false;
	options->fit = (enum image_fit)fit;
	options->gravity = (enum image_gravity)gravity;
	options->icc = (enum image_icc)icc;
	/* Default: transparent for padding; white (its colour) when flattening for an output without alpha. */
	memcpy(options->background, "\xff\xff\xff\x00", 4);
	if (background && !parse_background(background, options->background)) {
		snprintf(err, err_size, "arg: \"background\" must be a hex colour \"rrggbb\" or \"rrggbbaa\", got \"%s\"",
		         background);
		return false;
	}
	if (options->resize_given && (options->width || options->height)) {
		snprintf(err, err_size, "arg: \"resize\" and \"width\"/\"height\" cannot be combined: use one of them");
		return false;
	}
	if (!args_get_int(args, "max_pixels", 1, IMAGE_MAX_MAX_PIXELS, IMAGE_DEFAULT_MAX_PIXELS, &options->max_pixels,
	                  err, err_size) ||
	    !args_get_int(args, "max_frames", 1, IMAGE_MAX_MAX_FRAMES, IMAGE_DEFAULT_MAX_FRAMES, &options->max_frames,
	                  err, err_size))
		return false;
	return true;
}
