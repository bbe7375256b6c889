/* image_args.c — the arg options shared by the image programs: resize, crop, max_pixels. */
#include "image.h"

#include <stdio.h>

bool image_options_read(const struct json_value *args, struct image_options *options, char *err, size_t err_size)
{
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
	if (!args_get_int(args, "max_pixels", 1, IMAGE_MAX_MAX_PIXELS, IMAGE_DEFAULT_MAX_PIXELS, &options->max_pixels,
	                  err, err_size))
		return false;
	return true;
}
