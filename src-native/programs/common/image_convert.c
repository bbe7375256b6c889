/* image_convert.c — a request's image to WebP, still or animated; see image_convert_to_webp() in image_encode.h. */
#include "image_encode.h"

#include <stdlib.h>
#include <string.h>

/* The state of one animation conversion, carried through the decoder's frame callback. */
struct animation_job {
	const struct image_options *options;
	const struct image_webp_settings *settings;
	int loop_count;
	struct image_plan plan; /* from the first frame, used for all */
	struct image_webp_animation *anim;
	uint8_t *icc;           /* the profile the output carries (after the first frame's plan), or NULL */
	size_t icc_len;
	unsigned frames;
};

static bool add_frame(void *ctx, struct image *canvas, int duration_ms, struct program_output *out)
{
	struct animation_job *job = ctx;
	char err[PROGRAM_REASON_MAX];
	struct image frame = {canvas->width, canvas->height, NULL, NULL, 0};
	bool ok;
	if (job->frames == 0 && !image_plan_make(canvas, job->options, &job->plan, out))
		return false;
	/* The decoder keeps compositing on its canvas, so the plan works on a copy. */
	frame.rgba = malloc((size_t)canvas->width * canvas->height * 4);
	if (canvas->icc && (frame.icc = malloc(canvas->icc_len)) != NULL) {
		memcpy(frame.icc, canvas->icc, canvas->icc_len);
		frame.icc_len = canvas->icc_len;
	}
	if (!frame.rgba || (canvas->icc && !frame.icc)) {
		image_free(&frame);
		program_fail(out, 500, "out of memory copying frame %u", job->frames + 1);
		return false;
	}
	memcpy(frame.rgba, canvas->rgba, (size_t)canvas->width * canvas->height * 4);
	if (!image_plan_apply(&frame, &job->plan, job->options, out)) {
		image_free(&frame);
		return false;
	}
	if (job->frames == 0) {
		job->anim = image_webp_animation_begin(frame.width, frame.height, job->loop_count, job->settings, err,
		                                       sizeof(err));
		if (!job->anim) {
			image_free(&frame);
			program_fail(out, 500, "%s", err);
			return false;
		}
		job->icc = frame.icc;
		job->icc_len = frame.icc_len;
		frame.icc = NULL;
	}
	ok = image_webp_animation_add(job->anim, &frame, duration_ms, err, sizeof(err));
	image_free(&frame);
	if (!ok) {
		program_fail(out, 500, "frame %u: %s", job->frames + 1, err);
		return false;
	}
	job->frames++;
	return true;
}

static void convert_animation(const struct program_input *in, const struct image_info *info,
                              const struct image_options *options, const struct image_webp_settings *settings,
                              struct program_output *out)
{
	struct animation_job job;
	char err[PROGRAM_REASON_MAX];
	uint8_t *file;
	size_t len;
	memset(&job, 0, sizeof(job));
	job.options = options;
	job.settings = settings;
	job.loop_count = info->loop_count;
	if (!image_decode_frames(in->data, in->len, info, options->max_pixels, add_frame, &job, out)) {
		image_webp_animation_abort(job.anim);
		free(job.icc);
		return;
	}
	if (job.frames != info->frames) {
		image_webp_animation_abort(job.anim);
		free(job.icc);
		program_fail(out, 422, "%s animation: %u frames announced, %u decoded", image_format_name(info->format),
		             info->frames, job.frames);
		return;
	}
	if (!image_webp_animation_finish(job.anim, job.icc, job.icc_len, &file, &len, err, sizeof(err)))
		program_fail(out, 500, "%s", err);
	else
		program_succeed(out, "image/webp", file, len);
	free(job.icc);
}

void image_convert_to_webp(const struct program_input *in, const struct image_options *options,
                           const struct image_webp_settings *settings, struct program_output *out)
{
	struct image_info info;
	struct image img = {0, 0, NULL, NULL, 0};
	char err[PROGRAM_REASON_MAX];
	uint8_t *file;
	size_t len;
	if (!image_probe(in->data, in->len, IMAGE_ACCEPT_ALL, options->max_pixels, options->max_frames, &info, out))
		return;
	if (info.frames > 1) {
		convert_animation(in, &info, options, settings, out);
		return;
	}
	if (!image_load(in->data, in->len, IMAGE_ACCEPT_ALL, options, &img, out))
		return;
	if (!image_encode_webp(&img, settings, &file, &len, err, sizeof(err)))
		program_fail(out, 500, "%s", err);
	else
		program_succeed(out, "image/webp", file, len);
	image_free(&img);
}
