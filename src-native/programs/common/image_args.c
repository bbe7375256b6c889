/* image_args.c — the arg options shared by the image programs; see image.h and docs/writing-programs.md. */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fit_names[] = {"cover", "contain", "fill", "inside", NULL};
static const char *const gravity_names[] = {"center", "north", "south", "east", "west", "northeast",
                                            "northwest", "southeast", "southwest", "smart", NULL};
static const char *const icc_names[] = {"srgb", "keep", NULL};
/* The watermark's gravities: those above but "smart" (same order, so the index is the enum value). */
static const char *const watermark_gravity_names[] = {"center", "north", "south", "east", "west", "northeast",
                                                      "northwest", "southeast", "southwest", NULL};
static const char *const watermark_keys[] = {"file", "opacity", "gravity", "size", "margin", NULL};

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

/* The args_* accessors name a member as `arg: "opacity" ...`; inside "watermark" the message names the object too:
 * `arg: "watermark": "opacity" ...`. */
static void name_watermark(char *err, size_t err_size)
{
	char inner[PROGRAM_REASON_MAX];
	snprintf(inner, sizeof(inner), "%s", strncmp(err, "arg: ", 5) == 0 ? err + 5 : err);
	snprintf(err, err_size, "arg: \"watermark\": %s", inner);
}

/* "watermark": {"file": PATH, "opacity", "gravity", "size", "margin"}; wm->given stays false without it. */
static bool read_watermark(const struct json_value *args, struct image_watermark *wm, char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(args, "watermark"), *size;
	const char *file;
	int gravity;
	if (!v)
		return true;
	if (v->type != JSON_OBJECT) {
		snprintf(err, err_size, "arg: \"watermark\" (byte %zu) must be an object such as {\"file\":\"/path/mark.png\"}, "
		         "got %s", v->offset, json_type_article(v->type));
		return false;
	}
	/* "size" excludes 0 (a mark 0 wide would not be there), which args_get_number's inclusive bounds cannot say. */
	size = json_object_get(v, "size");
	if (size && size->type == JSON_NUMBER && !(size->u.number.value > 0 && size->u.number.value <= 1)) {
		snprintf(err, err_size, "arg: \"watermark\": \"size\" (byte %zu) must be a number above 0 and at most 1 "
		         "(the mark's width as a fraction of the output's), got %g", size->offset, size->u.number.value);
		return false;
	}
	if (!args_check_keys(v, watermark_keys, err, err_size) ||
	    !args_get_string(v, "file", IMAGE_WATERMARK_PATH_MAX, NULL, &file, err, err_size) ||
	    !args_get_number(v, "opacity", 0, 1, IMAGE_WATERMARK_DEFAULT_OPACITY, &wm->opacity, err, err_size) ||
	    !args_get_choice(v, "gravity", watermark_gravity_names, IMAGE_WATERMARK_DEFAULT_GRAVITY, &gravity, err,
	                     err_size) ||
	    !args_get_number(v, "size", 0, 1, IMAGE_WATERMARK_DEFAULT_SIZE, &wm->size, err, err_size) ||
	    !args_get_number(v, "margin", 0, IMAGE_WATERMARK_MAX_MARGIN, IMAGE_WATERMARK_DEFAULT_MARGIN, &wm->margin, err,
	                     err_size)) {
		name_watermark(err, err_size);
		return false;
	}
	if (!file) {
		snprintf(err, err_size, "arg: \"watermark\" (byte %zu) needs \"file\", the path of the mark image", v->offset);
		return false;
	}
	wm->gravity = (enum image_gravity)gravity;
	snprintf(wm->file, sizeof(wm->file), "%s", file); /* the arg's tree is freed before the image is made */
	wm->given = true;
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
	return read_watermark(args, &options->watermark, err, err_size);
}
