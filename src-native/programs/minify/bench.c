/* bench.c — native throughput measurement: `minify --bench ITERATIONS TYPE < input` minifies the input
 * ITERATIONS times in-process (no process start-up, no I/O in the timing) and prints one line:
 *     TYPE IN_BYTES OUT_BYTES SECONDS_PER_RUN MB_PER_S
 * Not available inside the sandbox (it is a command-line mode). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "minify.h"

static double now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("minify --bench: clock_gettime");
		exit(2);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			uint8_t *p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
		ssize_t r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("minify --bench: read");
			free(buf);
			return NULL;
		}
		if (r == 0) {
			*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	fprintf(stderr, "minify --bench: out of memory reading the input\n");
	return NULL;
}

int minify_bench(int argc, char **argv)
{
	enum minify_type type = argc == 4 ? minify_type_from_name(argv[3], strlen(argv[3])) : MINIFY_NONE;
	long iterations = argc == 4 ? strtol(argv[2], NULL, 10) : 0;
	if (type == MINIFY_NONE || iterations < 1) {
		fprintf(stderr, "usage: %s --bench ITERATIONS json|html|css|js < input\n", argv[0]);
		return 2;
	}
	size_t len;
	uint8_t *in = read_stdin(&len);
	if (!in)
		return 2;
	size_t out_len = 0;
	double start = now();
	for (long k = 0; k < iterations; k++) {
		struct mbuf out;
		struct minify_error err;
		int unchanged;
		if (minify_run(type, in, len, &out, &unchanged, &err) < 0) {
			char msg[300];
			minify_format_error(in, len, &err, msg, sizeof(msg));
			fprintf(stderr, "minify --bench: %s\n", msg);
			free(in);
			return 1;
		}
		out_len = out.len;
		mbuf_free(&out);
	}
	double per_run = (now() - start) / (double)iterations;
	printf("%s %zu %zu %.6f %.1f\n", minify_type_name(type), len, out_len, per_run,
	       per_run > 0 ? (double)len / per_run / 1e6 : 0.0);
	free(in);
	return 0;
}
