/*
 * minify.h — byte-level minifiers for JSON, CSS, JavaScript and HTML, shared by the program's front ends.
 *
 * Every minifier works on bytes in one forward pass (linear time): it never decodes the text, so UTF-8 and any
 * other ASCII-compatible charset pass through unchanged. Each one only removes bytes or replaces a run of
 * whitespace/comments by one byte, so its output is never longer than its input.
 *
 * On bad input a minifier returns -1 and fills struct minify_error; the output buffer then holds a partial
 * result that callers must discard (the program never sends a partial body).
 */
#ifndef MINIFY_H
#define MINIFY_H

#include <stddef.h>
#include <stdint.h>

enum minify_type {
	MINIFY_NONE = 0,
	MINIFY_JSON,
	MINIFY_HTML,
	MINIFY_CSS,
	MINIFY_JS,
};

/* A growable output buffer. Writers check `failed` (allocation failure) once at the end. */
struct mbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int failed;
};

/* Why input was rejected. `offset` is a byte offset into the input given to minify_run() (or to the
 * minify_* function called directly). */
struct minify_error {
	int status;       /* HTTP status to answer with: 422 for bad input, 500 for out of memory */
	size_t offset;    /* where the problem is */
	char what[160];   /* what is wrong and, where useful, what is allowed */
};

/* --- buffer (mbuf.c) --- */
int mbuf_init(struct mbuf *b, size_t capacity);
void mbuf_free(struct mbuf *b);
void mbuf_grow(struct mbuf *b, size_t extra);

static inline void mbuf_put(struct mbuf *b, uint8_t c)
{
	if (b->len == b->cap)
		mbuf_grow(b, 1);
	if (b->len < b->cap)
		b->data[b->len++] = c;
}

void mbuf_write(struct mbuf *b, const void *p, size_t n);

/* Records an error; `what` is a printf format. Always returns -1 so callers can `return minify_fail(...)`. */
int minify_fail(struct minify_error *e, int status, size_t offset, const char *what, ...)
	__attribute__((format(printf, 4, 5)));

/* Describes the byte at s[i] for an error message: 'x', "byte 0x8F" or "end of input". */
const char *minify_describe_byte(const uint8_t *s, size_t n, size_t i, char out[16]);

/* Formats "<what> at byte N (line L, column C)" with line and column (1-based, columns in bytes) computed from
 * the input. */
void minify_format_error(const uint8_t *in, size_t len, const struct minify_error *e, char *out, size_t out_len);

/* --- the minifiers --- */
int minify_json(const uint8_t *in, size_t len, struct mbuf *out, struct minify_error *err);
int minify_css(const uint8_t *in, size_t len, struct mbuf *out, struct minify_error *err);
int minify_js(const uint8_t *in, size_t len, struct mbuf *out, struct minify_error *err);
int minify_html(const uint8_t *in, size_t len, struct mbuf *out, struct minify_error *err);

/* --- dispatch (minify.c) --- */

/* The minifier for a MIME type (parameters such as charset are ignored), or MINIFY_NONE. */
enum minify_type minify_type_from_content_type(const char *content_type);
/* "json", "html", "css", "js" → the type, otherwise MINIFY_NONE. */
enum minify_type minify_type_from_name(const char *name, size_t len);
const char *minify_type_name(enum minify_type t);
/* The Content-Type used when the input had none. */
const char *minify_default_content_type(enum minify_type t);

/* Minifies in[0..len) into out (initialised here). A leading UTF-8 byte order mark is kept. When the result
 * would not be smaller than the input, out receives the input unchanged and *unchanged is set.
 * Returns 0, or -1 with err filled (out then freed). */
int minify_run(enum minify_type t, const uint8_t *in, size_t len, struct mbuf *out, int *unchanged,
	       struct minify_error *err);

#endif
