/*
 * webp-frames — test helper: decodes an animated (or still) WebP with libwebp's animation decoder (libwebpdemux)
 * and writes every composited frame as PREFIX-N.pam (RGBA, N from 0), printing "N DURATION_MS" per frame and
 * then "loop LOOP_COUNT" and "frames COUNT". Independent of our own code: the tests use it to read outputs.
 * usage: webp-frames FILE.webp PREFIX
 */
#include <stdio.h>
#include <stdlib.h>

#include <webp/demux.h>

int main(int argc, char **argv)
{
	FILE *f;
	long size;
	uint8_t *bytes;
	WebPData data;
	WebPAnimDecoderOptions options;
	WebPAnimDecoder *decoder;
	WebPAnimInfo info;
	int previous = 0, n = 0;
	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE.webp PREFIX\n", argv[0]);
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")) || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(argv[1]);
		return 1;
	}
	bytes = malloc((size_t)size + 1);
	if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read\n", argv[1]);
		return 1;
	}
	fclose(f);
	data.bytes = bytes;
	data.size = (size_t)size;
	if (!WebPAnimDecoderOptionsInit(&options))
		return 1;
	options.color_mode = MODE_RGBA;
	if (!(decoder = WebPAnimDecoderNew(&data, &options)) || !WebPAnimDecoderGetInfo(decoder, &info)) {
		fprintf(stderr, "%s: not a WebP libwebp can decode\n", argv[1]);
		return 1;
	}
	while (WebPAnimDecoderHasMoreFrames(decoder)) {
		uint8_t *rgba;
		int timestamp;
		char path[4096];
		FILE *out;
		if (!WebPAnimDecoderGetNext(decoder, &rgba, &timestamp)) {
			fprintf(stderr, "%s: frame %d does not decode\n", argv[1], n);
			return 1;
		}
		snprintf(path, sizeof(path), "%s-%d.pam", argv[2], n);
		if (!(out = fopen(path, "wb"))) {
			perror(path);
			return 1;
		}
		fprintf(out, "P7\nWIDTH %u\nHEIGHT %u\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n", info.canvas_width,
		        info.canvas_height);
		fwrite(rgba, 4, (size_t)info.canvas_width * info.canvas_height, out);
		if (fclose(out) != 0) {
			perror(path);
			return 1;
		}
		printf("%d %d\n", n, timestamp - previous);
		previous = timestamp;
		n++;
	}
	printf("loop %u\nframes %d\n", info.loop_count, n);
	WebPAnimDecoderDelete(decoder);
	free(bytes);
	return 0;
}
