/*
 * program.h — the shared skeleton of a kvmfilter transformation program (webp, avif, minify...).
 *
 * A program supplies one function, `transform`, that turns an input body into an output body or a failure. The
 * skeleton runs it in either mode:
 *
 * Sandboxed (KVM_NAME is set): registers a POST handler that calls transform and responds, a GET handler that
 * answers 400 (a transformation needs a body), and an on_error handler that answers the ORIGINAL input bytes with
 * their Content-Type, status 200 and `X-Failed: <what happened>`, so even a crash or timeout loses nothing. Then
 * it calls wait_for_requests().
 *
 * Native (no KVM_NAME): `PROGRAM [ARG_JSON [CONTENT_TYPE]] < input > output`. The body goes to stdout only on
 * success; the status and response headers go to stderr as lines "status: N", "Content-Type: ...",
 * "X-Failed: ..."; the exit code is 0 when the status is below 400, otherwise 1.
 *
 * A failure is a 4xx/5xx status, a text/plain body with the reason and the header `X-Failed: <reason>`.
 * The kvmfilter filter treats a step as failed when its status is >= 400 or X-Failed is present.
 */
#ifndef PROGRAMS_PROGRAM_H
#define PROGRAMS_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest X-Failed reason kept (longer reasons are cut). */
#define PROGRAM_REASON_MAX 480

struct program_input {
	const char *arg;          /* the step's argument, "" when none */
	const char *content_type; /* a hint only, "" when none */
	const uint8_t *data;
	size_t len;
};

struct program_output {
	int status;               /* 200 on success, 4xx/5xx on failure */
	const char *content_type; /* of body, on success */
	uint8_t *body;            /* on success: malloc'd (or owned by body_free) output */
	size_t len;
	void (*body_free)(void *); /* how to release body natively; NULL means free() */
	char reason[PROGRAM_REASON_MAX + 1]; /* on failure: the X-Failed text */
};

typedef void (*program_transform_fn)(const struct program_input *in, struct program_output *out);

struct program_spec {
	const char *name;               /* for messages, e.g. "webp" */
	program_transform_fn transform; /* called once per request */
	void (*warm_up)(void);          /* or NULL: run once in the sandbox before the VM is frozen, so that the
	                                 * code and tables a request needs are paged in and set up for all of them */
};

/* Runs the program in sandboxed or native mode (see above). Call it from main() after any one-time set-up:
 * in the sandbox that set-up is part of the frozen state shared by all requests. Returns main's exit code. */
int program_main(int argc, char **argv, const struct program_spec *spec);

/* Records a failure: status and a printf-style reason (one line; CR/LF and control characters become spaces). */
__attribute__((format(printf, 3, 4))) void program_fail(struct program_output *out, int status, const char *format,
                                                         ...);

/* Records a success: status 200, content type and a malloc'd body that the skeleton now owns. */
void program_succeed(struct program_output *out, const char *content_type, uint8_t *body, size_t len);

/* Sandboxed only: answers status with `X-Failed: reason` and the reason as a text/plain body; never returns.
 * For programs that write their own handlers instead of using program_main(). */
__attribute__((noreturn)) void program_respond_failure(int status, const char *reason);

/* Sandboxed only: remembers the current request's input so that on_error can answer with it. program_main's
 * POST handler does this; own handlers should call it first thing. */
void program_remember_input(const char *content_type, const uint8_t *data, size_t len);

/* Sandboxed only: the on_error handler described above (program_main registers it). */
void program_on_error(const char *url, const char *arg, const char *exception_text);

#endif
