/*
 * decode_fuzz.c — feeds mutated images (byte changes, deletions, insertions, truncations of the test inputs given
 * on the command line) through the image programs' whole path: probe, decode (stills and every animation frame),
 * options (resize, smart crop, colour conversion), WebP, JPEG and PNG encoding. Built with AddressSanitizer and
 * UndefinedBehaviorSanitizer, so a memory error or undefined behaviour in any decoder path ends it with a report.
 * A mutated input must either succeed or fail with a 4xx/5xx status and a reason; anything else is a finding.
 * usage: decode_fuzz ITERATIONS_PER_FILE FILE...   (deterministic: the same files give the same inputs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_encode.h"

static uint64_t state = 88172645463325252ULL;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;
	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(2);
	}
	data = malloc((size_t)size + 64);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)size;
	return data;
}

/* A mutated copy of data (malloc'd; its length in *out_len). */
static uint8_t *mutate(const uint8_t *data, size_t len, size_t *out_len)
{
	uint8_t *m = malloc(len + 64);
	size_t n = len;
	memcpy(m, data, len);
	for (unsigned k = (unsigned)(next() % 6) + 1; k > 0 && n > 1; k--) {
		size_t at = next() % n;
		switch (next() % 4) {
		case 0:
		case 1: m[at] = (uint8_t)next(); break;
		case 2: {
			size_t cut = next() % 16 + 1;
			if (cut > n - at)
				cut = n - at;
			memmove(m + at, m + at + cut, n - at - cut);
			n -= cut;
			break;
		}
		default:
			if (n + 8 <= len + 64) {
				memmove(m + at + 8, m + at, n - at);
				for (int i = 0; i < 8; i++)
					m[at + i] = (uint8_t)next();
				n += 8;
			}
		}
	}
	if (next() % 5 == 0)
		n = next() % n + 1; /* truncated */
	*out_len = n;
	return m;
}

static long findings, runs, succeeded;

static void check(struct program_output *out, const char *what, const char *file, unsigned iteration)
{
	runs++;
	succeeded += out->status == 200;
	if ((out->status == 200 && out->body && out->len > 0) || (out->status >= 400 && out->status < 600 && out->reason[0]))
		return;
	if (findings++ < 10)
		printf("FAIL decode fuzz: %s, %s iteration %u: status %d, reason '%s'\n", file, what, iteration, out->status,
		       out->reason);
}

int main(int argc, char **argv)
{
	static const char *const args[] = {"{}", "{\"lossless\":true}", "{\"width\":24,\"height\":24,\"gravity\":\"smart\"}",
	                                   "{\"width\":16,\"fit\":\"contain\",\"icc\":\"keep\"}"};
	long iterations = argc > 1 ? atol(argv[1]) : 0;
	if (argc < 3 || iterations <= 0) {
		fprintf(stderr, "usage: %s ITERATIONS_PER_FILE FILE...\n", argv[0]);
		return 2;
	}
	for (int f = 2; f < argc; f++) {
		size_t len;
		uint8_t *data = read_file(argv[f], &len);
		for (unsigned i = 0; i < (unsigned long)iterations; i++) {
			size_t n;
			uint8_t *m = mutate(data, len, &n);
			const char *arg = args[next() % (sizeof(args) / sizeof(*args))];
			char err[PROGRAM_REASON_MAX];
			struct json_value *parsed = args_parse(arg, err, sizeof(err));
			struct image_options options;
			struct image_webp_settings webp = {80, 0, false};
			struct program_input in = {arg, "", m, n};
			struct program_output out;
			struct image img;
			if (!parsed || !image_options_read(parsed, &options, err, sizeof(err))) {
				fprintf(stderr, "bad built-in arg %s: %s\n", arg, err);
				return 2;
			}
			webp.lossless = strstr(arg, "lossless") != NULL;
			memset(&out, 0, sizeof(out));
			image_convert_to_webp(&in, &options, &webp, &out);
			check(&out, "to WebP", argv[f], i);
			free(out.body);
			/* The still path with the other encoders. */
			memset(&out, 0, sizeof(out));
			if (image_load(m, n, IMAGE_ACCEPT_ALL, &options, &img, &out)) {
				uint8_t *file;
				size_t file_len;
				if (i % 2 ? image_encode_png(&img, &file, &file_len, err, sizeof(err))
				          : image_encode_jpeg(&img, 80, options.background, &file, &file_len, err, sizeof(err)))
					program_succeed(&out, "image/x", file, file_len);
				else
					program_fail(&out, 500, "%s", err);
				image_free(&img);
			}
			check(&out, "still", argv[f], i);
			free(out.body);
			json_free(parsed);
			free(m);
		}
		free(data);
	}
	printf("%s decode fuzz: %ld conversions of mutated inputs (%ld succeeded, the others refused), %ld findings\n",
	       findings ? "FAIL" : "PASS", runs, succeeded, findings);
	return findings ? 1 : 0;
}
