/*
 * image.h — decoding, colour, geometry and watermarks shared by the image programs (webp, avif, image).
 *
 * Every decoder produces 8-bit RGBA (4 bytes per pixel, no padding). Decoders check the pixel count from the
 * header against max_pixels BEFORE allocating or decoding anything. Failures are recorded in a program_output
 * with the HTTP status the program answers: 415 unsupported type (and animated input for a program that cannot
 * keep it), 422 truncated or corrupt data, 413 too many pixels or frames, 400 bad options. Decoders never print,
 * never exit and never return a partial image.
 *
 * The per-request options (width, height, fit, gravity, dpr, watermark, ...) are described in docs/writing-programs.md
 * ("Options of the image programs").
 */
#ifndef PROGRAMS_IMAGE_H
#define PROGRAMS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "json_reader.h"
#include "program.h"

enum image_format { IMAGE_UNKNOWN, IMAGE_JPEG, IMAGE_PNG, IMAGE_GIF, IMAGE_WEBP };

/* Bit masks of enum image_format values, for the `accepted` argument of image_decode(). */
#define IMAGE_ACCEPT(format) (1u << (format))

struct image {
	uint32_t width;
	uint32_t height;
	uint8_t *rgba;    /* width * height * 4 bytes, malloc'd */
	uint8_t *icc;     /* the embedded ICC profile (malloc'd), or NULL */
	size_t icc_len;
};

/* The largest width or height accepted anywhere (WebP's limit; plenty for web images). */
#define IMAGE_MAX_SIDE 16383

enum image_fit { IMAGE_FIT_COVER, IMAGE_FIT_CONTAIN, IMAGE_FIT_FILL, IMAGE_FIT_INSIDE };

enum image_gravity {
	IMAGE_GRAVITY_CENTER,
	IMAGE_GRAVITY_NORTH,
	IMAGE_GRAVITY_SOUTH,
	IMAGE_GRAVITY_EAST,
	IMAGE_GRAVITY_WEST,
	IMAGE_GRAVITY_NORTHEAST,
	IMAGE_GRAVITY_NORTHWEST,
	IMAGE_GRAVITY_SOUTHEAST,
	IMAGE_GRAVITY_SOUTHWEST,
	IMAGE_GRAVITY_SMART, /* the window with the most detail (edge energy); see image_smart.c */
};

/* What happens to an embedded ICC profile. */
enum image_icc {
	IMAGE_ICC_SRGB, /* matrix/TRC profiles (Display P3, Adobe RGB...) converted to sRGB and dropped; others kept */
	IMAGE_ICC_KEEP, /* pixels untouched, the profile carried into the output */
};

/* The "watermark" option: a mark image composited onto the output (image_watermark.c). */
#define IMAGE_WATERMARK_PATH_MAX 1024
struct image_watermark {
	bool given;
	char file[IMAGE_WATERMARK_PATH_MAX + 1]; /* its path, read with open(): in the sandbox an allowed path */
	double opacity;                          /* 0..1, multiplied into its alpha */
	enum image_gravity gravity;              /* where it sits (never IMAGE_GRAVITY_SMART) */
	double size;                             /* its width as a fraction of the output's width, (0, 1] */
	double margin;                           /* its distance to the edges it sits against, a fraction of the output's
	                                          * width, 0..0.5 */
};

#define IMAGE_WATERMARK_DEFAULT_OPACITY 0.5
#define IMAGE_WATERMARK_DEFAULT_GRAVITY IMAGE_GRAVITY_SOUTHEAST
#define IMAGE_WATERMARK_DEFAULT_SIZE 0.2
#define IMAGE_WATERMARK_DEFAULT_MARGIN 0.02
#define IMAGE_WATERMARK_MAX_MARGIN 0.5

/* Options shared by the image programs (all from the step's arg JSON). */
struct image_options {
	bool resize_given;
	long resize[2]; /* width, height; 0 keeps the aspect ratio (stretches when both are given) */
	bool crop_given;
	long crop[4]; /* x, y, width, height, applied first (on the EXIF-oriented image) */
	long width;   /* target box in CSS pixels, 0 = not given; multiplied by dpr */
	long height;
	double dpr;   /* device pixel ratio */
	enum image_fit fit;
	enum image_gravity gravity;
	bool enlarge;         /* width/height may scale up */
	uint8_t background[4]; /* RGBA of the padding ("contain") and of flattening for outputs without alpha */
	enum image_icc icc;
	long max_pixels;
	long max_frames;
	struct image_watermark watermark;
};

#define IMAGE_DEFAULT_MAX_PIXELS 50000000L
#define IMAGE_MAX_MAX_PIXELS 250000000L
#define IMAGE_DEFAULT_MAX_FRAMES 1000L
#define IMAGE_MAX_MAX_FRAMES 10000L
#define IMAGE_MIN_DPR 0.1
#define IMAGE_MAX_DPR 8.0

/* The arg keys image_options_read() reads; programs list them among their allowed keys. */
#define IMAGE_OPTION_KEYS                                                                                            \
	"resize", "crop", "width", "height", "dpr", "fit", "gravity", "enlarge", "background", "icc", "max_pixels",      \
	    "max_frames", "watermark"

/* Reads the options above from the arg object (unknown keys are checked by the caller). */
bool image_options_read(const struct json_value *args, struct image_options *options, char *err, size_t err_size);

/* The format from the first bytes (the Content-Type header is only a hint and is not used). */
enum image_format image_detect(const uint8_t *data, size_t len);
const char *image_format_name(enum image_format format);

/* What the container says about an image, read without decoding pixels. */
struct image_info {
	enum image_format format;
	uint32_t width;  /* of the canvas */
	uint32_t height;
	unsigned frames; /* 1 for a still image; for GIF the image descriptors, for APNG acTL, for WebP ANMF chunks */
	int loop_count;  /* WebP's meaning: 0 = forever, N = played N times */
};

/* A failure reason of a program that cannot keep an animation starts with this, status 415, so that the filter
 * can tell "served the original because it is animated" from other failures. */
#define IMAGE_ANIMATED_REASON "animated input"

/* Checks the format (415 outside accepted), the canvas size (413 above max_pixels) and counts the frames (413
 * above max_frames). A still image gives frames = 1. On failure records it in *out and returns false. */
bool image_probe(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, long max_frames,
                 struct image_info *info, struct program_output *out);

/* Decodes data into *img (first frame for GIF and animated WebP, the default image of an APNG; the EXIF
 * orientation of a JPEG, a PNG eXIf chunk or a still WebP's EXIF chunk applied; the ICC profile in img->icc). Formats outside `accepted` are answered 415. On failure records
 * it in *out and returns false. */
bool image_decode(const uint8_t *data, size_t len, unsigned accepted, long max_pixels, struct image *img,
                  struct program_output *out);

/* Called once per frame of an animation with the fully composited canvas (owned by the decoder: valid during the
 * call; the callback may change its pixels) and how long it is shown, in milliseconds. The canvas carries the
 * animation's ICC profile. Return false to stop, with the failure recorded in out. */
typedef bool (*image_frame_fn)(void *ctx, struct image *canvas, int duration_ms, struct program_output *out);

/* Decodes every frame of an animated GIF, APNG or WebP whose image_probe() gave *info, composited as browsers
 * show them (GIF disposal, APNG dispose_op/blend_op, WebP blending), and calls fn for each. Fails with 422 on
 * damage anywhere, even after the first frames were delivered. */
bool image_decode_frames(const uint8_t *data, size_t len, const struct image_info *info, long max_pixels,
                         image_frame_fn fn, void *ctx, struct program_output *out);

/* The geometry of one request, computed once per image (for an animation from its first frame, so every frame
 * gets the same crop): crop region of the source, size it is scaled to, and the output canvas around it. */
struct image_plan {
	uint32_t crop_x, crop_y, crop_w, crop_h; /* region of the source; the whole source when not cropping */
	uint32_t scaled_w, scaled_h;             /* the region is resampled to this size */
	uint32_t out_w, out_h;                   /* final size; larger than scaled_* only for fit "contain" */
	uint32_t pad_x, pad_y;                   /* where the scaled region sits on the output */
	bool convert_icc;                        /* the source's matrix/TRC profile is converted to sRGB */
};

/* Computes the plan for img under options. Records 400 (crop outside the image) or 413 (output above max_pixels
 * or IMAGE_MAX_SIDE) in *out and returns false on failure. */
bool image_plan_make(const struct image *img, const struct image_options *options, struct image_plan *plan,
                     struct program_output *out);

/* Applies a plan to img (crop, colour conversion, resampling in linear light with Lanczos-3, padding), then the
 * watermark of options when there is one. When the profile is converted, img->icc is dropped. Records 500 (out of
 * memory, a watermark file that cannot be read or decoded) in *out and returns false on failure. */
bool image_plan_apply(struct image *img, const struct image_plan *plan, const struct image_options *options,
                      struct program_output *out);

/* image_plan_make() then image_plan_apply(). */
bool image_apply_options(struct image *img, const struct image_options *options, struct program_output *out);

/* The formats every image program reads. */
#define IMAGE_ACCEPT_ALL \
	(IMAGE_ACCEPT(IMAGE_JPEG) | IMAGE_ACCEPT(IMAGE_PNG) | IMAGE_ACCEPT(IMAGE_GIF) | IMAGE_ACCEPT(IMAGE_WEBP))

/* image_decode() then image_apply_options(): the input as the program should encode it. On failure records
 * it in *out and returns false, with nothing left to free. */
bool image_load(const uint8_t *data, size_t len, unsigned accepted, const struct image_options *options,
                struct image *img, struct program_output *out);

/* image_probe() then image_load(), for an output that cannot carry an animation (`output`, its media type, is
 * named in the message): an animated input is answered 415 with IMAGE_ANIMATED_REASON. */
bool image_load_still(const uint8_t *data, size_t len, const struct image_options *options, const char *output,
                      struct image *img, struct program_output *out);

/* True when some pixel has alpha below 255. */
bool image_has_transparency(const struct image *img);

/* Composites img over its background colour in place, leaving every pixel opaque (for outputs without alpha). */
void image_flatten(struct image *img, const uint8_t background[4]);

/* Reorients img for an EXIF orientation value 1..8 (others are ignored). Returns false when out of memory. */
bool image_orient(struct image *img, int orientation);

/* The EXIF orientation (1..8) from an APP1 "Exif" payload, or 1 when absent or unreadable. */
int image_exif_orientation(const uint8_t *app1, size_t len);

/* The same from bare EXIF (TIFF) data, as PNG eXIf and WebP EXIF chunks hold it (an "Exif\0\0" prefix is
 * accepted too). */
int image_tiff_orientation(const uint8_t *tiff, size_t len);

void image_free(struct image *img);

/* ---- colour (image_colour.c) ---- */

/* sRGB transfer function: 8-bit encoded value to linear light [0, 1], and back (rounded, clamped). */
extern float image_srgb_to_linear[256];
uint8_t image_linear_to_srgb(float linear);
void image_colour_init(void); /* fills the tables; idempotent; called by the functions that use them */

/* A matrix/TRC RGB profile reduced to what converting it to sRGB needs. */
struct image_icc_transform {
	float to_linear[3][256]; /* per channel: 8-bit value to linear light in the profile's space */
	float matrix[9];         /* profile's linear RGB to linear sRGB (row-major) */
};

enum image_icc_kind {
	IMAGE_ICC_IS_SRGB,     /* an RGB matrix/TRC profile equal to sRGB: nothing to convert, safe to drop */
	IMAGE_ICC_CONVERTIBLE, /* an RGB matrix/TRC profile (Display P3, Adobe RGB...): *t filled */
	IMAGE_ICC_OTHER_RGB,   /* an RGB profile we cannot evaluate (LUT-based, damaged tags): can only be kept */
	IMAGE_ICC_NOT_RGB,     /* grey, CMYK, or not a profile: it does not describe our RGB output, so it is dropped */
};

/* Classifies an ICC profile; for IMAGE_ICC_CONVERTIBLE fills *t. */
enum image_icc_kind image_icc_parse(const uint8_t *profile, size_t len, struct image_icc_transform *t);

/* ---- smart crop (image_smart.c) ---- */

/* Inside the region (rx, ry, rw, rh) of img, the offset (relative to the region) of the window_w x window_h window
 * with the most detail (edge energy of the luma); ties go to the window nearest the centre. */
void image_smart_window(const struct image *img, uint32_t rx, uint32_t ry, uint32_t rw, uint32_t rh,
                        uint32_t window_w, uint32_t window_h, uint32_t *x, uint32_t *y);

#endif
