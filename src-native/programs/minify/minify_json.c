/*
 * minify_json.c — strict JSON (RFC 8259) validation and minification.
 *
 * The output is the input without insignificant whitespace (space, tab, LF, CR between tokens). Strings and
 * numbers are copied byte for byte, so the output parses to exactly the same value, including number spellings
 * (1.0 stays 1.0, 1e2 stays 1e2) and string escapes. Bytes >= 0x80 inside strings are passed through without
 * decoding.
 *
 * The parser is iterative: nesting is kept on a heap stack of '{' / '[' bytes, so deep input cannot overflow the
 * (small) guest stack. Every byte is looked at once.
 */
#include <stdlib.h>
#include <string.h>

#include "minify.h"

/* What the parser expects next. */
enum state {
	S_VALUE,          /* any value (top level, after ':' or after ',' in an array) */
	S_VALUE_OR_CLOSE, /* after '[': a value or ']' */
	S_KEY_OR_CLOSE,   /* after '{': a string key or '}' */
	S_KEY,            /* after ',' in an object: a string key */
	S_COLON,          /* after a key */
	S_AFTER_VALUE,    /* after a value: ',' or the closing bracket, or the end at top level */
};

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scans the string starting at s[i] == '"'; returns the index after the closing quote, or -1 with err set. */
static long scan_string(const uint8_t *s, size_t n, size_t i, struct minify_error *err)
{
	size_t start = i++;
	for (;;) {
		/* fast path over ordinary bytes */
		while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
			i++;
		if (i >= n)
			return minify_fail(err, 422, start, "invalid JSON: unterminated string (no closing '\"')");
		uint8_t c = s[i];
		if (c == '"')
			return (long)(i + 1);
		if (c < 0x20)
			return minify_fail(err, 422, i,
					   "invalid JSON: control character 0x%02X in a string (must be written as an "
					   "escape such as \\n or \\u%04X)",
					   c, c);
		/* backslash escape */
		if (i + 1 >= n)
			return minify_fail(err, 422, start, "invalid JSON: unterminated string (ends in an escape)");
		uint8_t e = s[i + 1];
		if (e == 'u') {
			for (size_t k = 2; k < 6; k++) {
				if (i + k >= n || !is_hex(s[i + k]))
					return minify_fail(err, 422, i,
							   "invalid JSON: \\u escape needs 4 hex digits");
			}
			i += 6;
		} else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
			   e == 't') {
			i += 2;
		} else {
			char d[16];
			return minify_fail(err, 422, i,
					   "invalid JSON: invalid escape \\%s in a string (allowed: \\\" \\\\ \\/ \\b "
					   "\\f \\n \\r \\t \\uXXXX)",
					   minify_describe_byte(s, n, i + 1, d));
		}
	}
}

/* Scans a number per the RFC grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static long scan_number(const uint8_t *s, size_t n, size_t i, struct minify_error *err)
{
	char d[16];
	if (s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return minify_fail(err, 422, i, "invalid JSON: expected a digit in a number, found %s",
				   minify_describe_byte(s, n, i, d));
	if (s[i] == '0') {
		i++;
		if (i < n && is_digit(s[i]))
			return minify_fail(err, 422, i, "invalid JSON: leading zeros are not allowed in numbers");
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i]))
			return minify_fail(err, 422, i, "invalid JSON: expected a digit after '.' in a number, found %s",
					   minify_describe_byte(s, n, i, d));
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return minify_fail(err, 422, i, "invalid JSON: expected a digit in an exponent, found %s",
					   minify_describe_byte(s, n, i, d));
		while (i < n && is_digit(s[i]))
			i++;
	}
	return (long)i;
}

/* Scans a value that is not an object or array; returns the end index or -1. */
static long scan_scalar(const uint8_t *s, size_t n, size_t i, struct minify_error *err)
{
	char d[16];
	uint8_t c = s[i];
	if (c == '"')
		return scan_string(s, n, i, err);
	if (c == '-' || is_digit(c))
		return scan_number(s, n, i, err);
	if (c == 't' && n - i >= 4 && memcmp(s + i, "true", 4) == 0)
		return (long)(i + 4);
	if (c == 'f' && n - i >= 5 && memcmp(s + i, "false", 5) == 0)
		return (long)(i + 5);
	if (c == 'n' && n - i >= 4 && memcmp(s + i, "null", 4) == 0)
		return (long)(i + 4);
	return minify_fail(err, 422, i,
			   "invalid JSON: expected a value (object, array, string, number, true, false or null), "
			   "found %s",
			   minify_describe_byte(s, n, i, d));
}

int minify_json(const uint8_t *s, size_t n, struct mbuf *out, struct minify_error *err)
{
	uint8_t *stack = NULL; /* '{' or '[' per open container */
	size_t depth = 0, stack_cap = 0;
	enum state st = S_VALUE;
	size_t i = 0;
	char d[16];
	int rc = -1;

	for (;;) {
		while (i < n && is_ws(s[i]))
			i++;
		if (i >= n) {
			if (st == S_AFTER_VALUE && depth == 0) {
				rc = 0;
				break;
			}
			if (st == S_VALUE && depth == 0 && n == 0)
				minify_fail(err, 422, 0, "invalid JSON: empty input (expected a value)");
			else if (depth == 0)
				minify_fail(err, 422, i, "invalid JSON: expected a value, found end of input");
			else
				minify_fail(err, 422, i, "invalid JSON: unexpected end of input inside %s",
					    stack[depth - 1] == '{' ? "an object (missing '}')" : "an array (missing ']')");
			break;
		}
		uint8_t c = s[i];
		switch (st) {
		case S_VALUE_OR_CLOSE:
			if (c == ']') {
				depth--;
				mbuf_put(out, c);
				i++;
				st = S_AFTER_VALUE;
				continue;
			}
			/* fall through */
		case S_VALUE:
			if (c == '{' || c == '[') {
				if (depth == stack_cap) {
					size_t cap = stack_cap ? stack_cap * 2 : 64;
					uint8_t *p = realloc(stack, cap);
					if (!p) {
						minify_fail(err, 500, i, "out of memory for JSON nesting");
						goto done;
					}
					stack = p;
					stack_cap = cap;
				}
				stack[depth++] = c;
				mbuf_put(out, c);
				i++;
				st = c == '{' ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
				continue;
			} else {
				long end = scan_scalar(s, n, i, err);
				if (end < 0)
					goto done;
				mbuf_write(out, s + i, (size_t)end - i);
				i = (size_t)end;
				st = S_AFTER_VALUE;
				continue;
			}
		case S_KEY_OR_CLOSE:
			if (c == '}') {
				depth--;
				mbuf_put(out, c);
				i++;
				st = S_AFTER_VALUE;
				continue;
			}
			/* fall through */
		case S_KEY:
			if (c != '"') {
				minify_fail(err, 422, i, "invalid JSON: expected a string key%s, found %s",
					    st == S_KEY_OR_CLOSE ? " or '}'" : " after ','", minify_describe_byte(s, n, i, d));
				goto done;
			} else {
				long end = scan_string(s, n, i, err);
				if (end < 0)
					goto done;
				mbuf_write(out, s + i, (size_t)end - i);
				i = (size_t)end;
				st = S_COLON;
				continue;
			}
		case S_COLON:
			if (c != ':') {
				minify_fail(err, 422, i, "invalid JSON: expected ':' after an object key, found %s",
					    minify_describe_byte(s, n, i, d));
				goto done;
			}
			mbuf_put(out, c);
			i++;
			st = S_VALUE;
			continue;
		case S_AFTER_VALUE:
			if (depth == 0) {
				minify_fail(err, 422, i, "invalid JSON: unexpected %s after the end of the value",
					    minify_describe_byte(s, n, i, d));
				goto done;
			}
			if (c == ',') {
				mbuf_put(out, c);
				i++;
				st = stack[depth - 1] == '{' ? S_KEY : S_VALUE;
				continue;
			}
			if ((c == '}' && stack[depth - 1] == '{') || (c == ']' && stack[depth - 1] == '[')) {
				depth--;
				mbuf_put(out, c);
				i++;
				continue;
			}
			minify_fail(err, 422, i, "invalid JSON: expected ',' or '%c' after %s, found %s",
				    stack[depth - 1] == '{' ? '}' : ']',
				    stack[depth - 1] == '{' ? "an object member" : "an array element",
				    minify_describe_byte(s, n, i, d));
			goto done;
		}
	}
done:
	free(stack);
	return rc;
}
