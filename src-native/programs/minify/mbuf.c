/* mbuf.c — the output buffer and error reporting shared by the minifiers. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minify.h"

int mbuf_init(struct mbuf *b, size_t capacity)
{
	b->len = 0;
	b->failed = 0;
	b->cap = capacity ? capacity : 16;
	b->data = malloc(b->cap);
	if (!b->data) {
		b->cap = 0;
		b->failed = 1;
		return -1;
	}
	return 0;
}

void mbuf_free(struct mbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Makes room for `extra` more bytes, doubling so that appending stays linear overall. On allocation failure the
 * buffer keeps its size and `failed` is set; further writes are dropped. */
void mbuf_grow(struct mbuf *b, size_t extra)
{
	if (b->failed)
		return;
	size_t want = b->len + extra;
	if (want <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 16;
	while (cap < want)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return;
	}
	b->data = p;
	b->cap = cap;
}

void mbuf_write(struct mbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap)
		mbuf_grow(b, n);
	if (b->len + n > b->cap)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

int minify_fail(struct minify_error *e, int status, size_t offset, const char *what, ...)
{
	va_list ap;
	e->status = status;
	e->offset = offset;
	va_start(ap, what);
	vsnprintf(e->what, sizeof(e->what), what, ap);
	va_end(ap);
	return -1;
}

const char *minify_describe_byte(const uint8_t *s, size_t n, size_t i, char out[16])
{
	if (i >= n)
		return "end of input";
	if (s[i] >= 0x21 && s[i] < 0x7f && s[i] != '\'')
		snprintf(out, 16, "'%c'", s[i]);
	else if (s[i] == ' ')
		snprintf(out, 16, "a space");
	else
		snprintf(out, 16, "byte 0x%02X", s[i]);
	return out;
}

void minify_format_error(const uint8_t *in, size_t len, const struct minify_error *e, char *out, size_t out_len)
{
	size_t line = 1, line_start = 0, end = e->offset < len ? e->offset : len;
	for (size_t i = 0; i < end; i++) {
		if (in[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	snprintf(out, out_len, "%s at byte %zu (line %zu, column %zu)", e->what, e->offset, line,
		 e->offset - line_start + 1);
}
