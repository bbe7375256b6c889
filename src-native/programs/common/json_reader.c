/* json_reader.c — strict recursive-descent JSON parser; see json_reader.h. */
#include "json_reader.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	char *err;
	size_t err_size;
	bool failed;
};

__attribute__((format(printf, 3, 4))) static void fail_at(struct parser *p, size_t at, const char *format, ...)
{
	char what[256];
	va_list ap;
	if (p->failed)
		return; /* keep the first, most precise message */
	p->failed = true;
	va_start(ap, format);
	vsnprintf(what, sizeof(what), format, ap);
	va_end(ap);
	if (p->err_size > 0)
		snprintf(p->err, p->err_size, "%s at byte %zu", what, at);
}

/* Describes the byte at pos for messages: 'x', byte 0x07, or end of input. */
static const char *describe(struct parser *p, size_t at, char buf[32])
{
	unsigned char c;
	if (at >= p->len)
		return "end of input";
	c = (unsigned char)p->text[at];
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, 32, "'%c'", c);
	else
		snprintf(buf, 32, "byte 0x%02x", c);
	return buf;
}

static void skip_whitespace(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static struct json_value *new_value(struct parser *p, enum json_type type, size_t offset)
{
	struct json_value *v = calloc(1, sizeof(*v));
	if (!v) {
		fail_at(p, offset, "out of memory");
		return NULL;
	}
	v->type = type;
	v->offset = offset;
	return v;
}

static bool match_literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

int json_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits of a \u escape at p->pos. */
static long read_hex4(struct parser *p)
{
	long code = 0;
	for (int i = 0; i < 4; i++) {
		int d = p->pos < p->len ? json_hex_digit(p->text[p->pos]) : -1;
		if (d < 0) {
			char buf[32];
			fail_at(p, p->pos, "expected 4 hex digits after \\u, found %s", describe(p, p->pos, buf));
			return -1;
		}
		code = code * 16 + d;
		p->pos++;
	}
	return code;
}

static size_t put_utf8(char *out, unsigned long code)
{
	if (code < 0x80) {
		out[0] = (char)code;
		return 1;
	}
	if (code < 0x800) {
		out[0] = (char)(0xc0 | (code >> 6));
		out[1] = (char)(0x80 | (code & 0x3f));
		return 2;
	}
	if (code < 0x10000) {
		out[0] = (char)(0xe0 | (code >> 12));
		out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
		out[2] = (char)(0x80 | (code & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (code >> 18));
	out[1] = (char)(0x80 | ((code >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((code >> 6) & 0x3f));
	out[3] = (char)(0x80 | (code & 0x3f));
	return 4;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned long code;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, code = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, code = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, code = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		code = (code << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) || (len == 4 && (code < 0x10000 || code > 0x10ffff)))
		return 0;
	return len;
}

/* Parses a string starting at the opening quote; returns a malloc'd NUL-terminated copy. */
static char *parse_string_chars(struct parser *p, size_t *out_len)
{
	size_t start = p->pos;
	char *out;
	size_t n = 0;
	p->pos++; /* opening quote */
	/* Decoded text is never longer than the source text. */
	out = malloc(p->len - start + 1);
	if (!out) {
		fail_at(p, start, "out of memory");
		return NULL;
	}
	for (;;) {
		unsigned char c;
		if (p->pos >= p->len) {
			fail_at(p, start, "unterminated string starting");
			free(out);
			return NULL;
		}
		c = (unsigned char)p->text[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20) {
			fail_at(p, p->pos, "control character 0x%02x inside a string (escape it)", c);
			free(out);
			return NULL;
		}
		if (c == '\\') {
			char e;
			size_t escape_at = p->pos;
			p->pos++;
			if (p->pos >= p->len) {
				fail_at(p, start, "unterminated string starting");
				free(out);
				return NULL;
			}
			e = p->text[p->pos++];
			switch (e) {
			case '"': out[n++] = '"'; break;
			case '\\': out[n++] = '\\'; break;
			case '/': out[n++] = '/'; break;
			case 'b': out[n++] = '\b'; break;
			case 'f': out[n++] = '\f'; break;
			case 'n': out[n++] = '\n'; break;
			case 'r': out[n++] = '\r'; break;
			case 't': out[n++] = '\t'; break;
			case 'u': {
				long code = read_hex4(p);
				if (code < 0) {
					free(out);
					return NULL;
				}
				if (code >= 0xd800 && code <= 0xdbff) {
					long low;
					if (!(p->len - p->pos >= 2 && p->text[p->pos] == '\\' && p->text[p->pos + 1] == 'u')) {
						fail_at(p, escape_at, "high surrogate \\u%04lX not followed by a low surrogate", code);
						free(out);
						return NULL;
					}
					p->pos += 2;
					low = read_hex4(p);
					if (low < 0) {
						free(out);
						return NULL;
					}
					if (low < 0xdc00 || low > 0xdfff) {
						fail_at(p, escape_at, "high surrogate \\u%04lX followed by \\u%04lX, not a low surrogate", code, low);
						free(out);
						return NULL;
					}
					code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
				} else if (code >= 0xdc00 && code <= 0xdfff) {
					fail_at(p, escape_at, "lone low surrogate \\u%04lX", code);
					free(out);
					return NULL;
				}
				/* A 6-byte escape yields at most 3 bytes, a 12-byte pair 4 bytes: fits in the buffer. */
				n += put_utf8(out + n, (unsigned long)code);
				break;
			}
			default: {
				char buf[32];
				fail_at(p, escape_at, "invalid escape \\%s (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
				        describe(p, p->pos - 1, buf));
				free(out);
				return NULL;
			}
			}
			continue;
		}
		{
			size_t seq = utf8_sequence_length((const unsigned char *)p->text + p->pos, p->len - p->pos);
			if (seq == 0) {
				fail_at(p, p->pos, "invalid UTF-8 byte 0x%02x in a string", c);
				free(out);
				return NULL;
			}
			memcpy(out + n, p->text + p->pos, seq);
			n += seq;
			p->pos += seq;
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct json_value *parse_number(struct parser *p)
{
	size_t start = p->pos;
	bool integer = true;
	char buf[32];
	char *copy;
	struct json_value *v;
	if (p->pos < p->len && p->text[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !is_digit(p->text[p->pos])) {
		fail_at(p, p->pos, "expected a digit in number, found %s", describe(p, p->pos, buf));
		return NULL;
	}
	if (p->text[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && is_digit(p->text[p->pos])) {
			fail_at(p, start, "number with a leading zero");
			return NULL;
		}
	} else {
		while (p->pos < p->len && is_digit(p->text[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && p->text[p->pos] == '.') {
		integer = false;
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->text[p->pos])) {
			fail_at(p, p->pos, "expected a digit after '.' in number, found %s", describe(p, p->pos, buf));
			return NULL;
		}
		while (p->pos < p->len && is_digit(p->text[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E')) {
		integer = false;
		p->pos++;
		if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->text[p->pos])) {
			fail_at(p, p->pos, "expected a digit in exponent, found %s", describe(p, p->pos, buf));
			return NULL;
		}
		while (p->pos < p->len && is_digit(p->text[p->pos]))
			p->pos++;
	}
	v = new_value(p, JSON_NUMBER, start);
	if (!v)
		return NULL;
	/* strtod needs a NUL-terminated copy; the grammar above already validated the text. */
	copy = malloc(p->pos - start + 1);
	if (copy) {
		memcpy(copy, p->text + start, p->pos - start);
		copy[p->pos - start] = '\0';
	} else {
		free(v);
		fail_at(p, start, "out of memory");
		return NULL;
	}
	v->u.number.value = strtod(copy, NULL);
	v->u.number.is_integer = integer;
	free(copy);
	return v;
}

static struct json_value *parse_value(struct parser *p, int depth);

static struct json_value *parse_array(struct parser *p, int depth)
{
	struct json_value *v = new_value(p, JSON_ARRAY, p->pos);
	size_t capacity = 0;
	char buf[32];
	if (!v)
		return NULL;
	p->pos++; /* [ */
	skip_whitespace(p);
	if (p->pos < p->len && p->text[p->pos] == ']') {
		p->pos++;
		return v;
	}
	for (;;) {
		struct json_value *item = parse_value(p, depth + 1);
		if (!item) {
			json_free(v);
			return NULL;
		}
		if (v->u.array.count == capacity) {
			size_t new_capacity = capacity ? capacity * 2 : 4;
			struct json_value **items = realloc(v->u.array.items, new_capacity * sizeof(*items));
			if (!items) {
				json_free(item);
				json_free(v);
				fail_at(p, p->pos, "out of memory");
				return NULL;
			}
			v->u.array.items = items;
			capacity = new_capacity;
		}
		v->u.array.items[v->u.array.count++] = item;
		skip_whitespace(p);
		if (p->pos < p->len && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == ']') {
			p->pos++;
			return v;
		}
		fail_at(p, p->pos, "expected ',' or ']' in array, found %s", describe(p, p->pos, buf));
		json_free(v);
		return NULL;
	}
}

static struct json_value *parse_object(struct parser *p, int depth)
{
	struct json_value *v = new_value(p, JSON_OBJECT, p->pos);
	size_t capacity = 0;
	char buf[32];
	if (!v)
		return NULL;
	p->pos++; /* { */
	skip_whitespace(p);
	if (p->pos < p->len && p->text[p->pos] == '}') {
		p->pos++;
		return v;
	}
	for (;;) {
		struct json_member m;
		skip_whitespace(p);
		if (p->pos >= p->len || p->text[p->pos] != '"') {
			fail_at(p, p->pos, "expected a string key in object, found %s", describe(p, p->pos, buf));
			json_free(v);
			return NULL;
		}
		m.key_offset = p->pos;
		m.key = parse_string_chars(p, &m.key_len);
		if (!m.key) {
			json_free(v);
			return NULL;
		}
		for (size_t i = 0; i < v->u.object.count; i++) {
			if (v->u.object.members[i].key_len == m.key_len && memcmp(v->u.object.members[i].key, m.key, m.key_len) == 0) {
				fail_at(p, m.key_offset, "duplicate key \"%s\"", m.key);
				free(m.key);
				json_free(v);
				return NULL;
			}
		}
		skip_whitespace(p);
		if (p->pos >= p->len || p->text[p->pos] != ':') {
			fail_at(p, p->pos, "expected ':' after object key, found %s", describe(p, p->pos, buf));
			free(m.key);
			json_free(v);
			return NULL;
		}
		p->pos++;
		m.value = parse_value(p, depth + 1);
		if (!m.value) {
			free(m.key);
			json_free(v);
			return NULL;
		}
		if (v->u.object.count == capacity) {
			size_t new_capacity = capacity ? capacity * 2 : 4;
			struct json_member *members = realloc(v->u.object.members, new_capacity * sizeof(*members));
			if (!members) {
				free(m.key);
				json_free(m.value);
				json_free(v);
				fail_at(p, p->pos, "out of memory");
				return NULL;
			}
			v->u.object.members = members;
			capacity = new_capacity;
		}
		v->u.object.members[v->u.object.count++] = m;
		skip_whitespace(p);
		if (p->pos < p->len && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == '}') {
			p->pos++;
			return v;
		}
		fail_at(p, p->pos, "expected ',' or '}' in object, found %s", describe(p, p->pos, buf));
		json_free(v);
		return NULL;
	}
}

static struct json_value *parse_value(struct parser *p, int depth)
{
	char buf[32];
	size_t start;
	struct json_value *v;
	skip_whitespace(p);
	start = p->pos;
	if (depth > JSON_MAX_DEPTH) {
		fail_at(p, start, "nesting deeper than %d levels", JSON_MAX_DEPTH);
		return NULL;
	}
	if (p->pos >= p->len) {
		fail_at(p, start, "expected a value, found end of input");
		return NULL;
	}
	switch (p->text[p->pos]) {
	case '{':
		return parse_object(p, depth);
	case '[':
		return parse_array(p, depth);
	case '"':
		v = new_value(p, JSON_STRING, start);
		if (!v)
			return NULL;
		v->u.string.chars = parse_string_chars(p, &v->u.string.len);
		if (!v->u.string.chars) {
			free(v);
			return NULL;
		}
		return v;
	case 't':
	case 'f':
	case 'n':
		if (match_literal(p, "true") || match_literal(p, "false")) {
			v = new_value(p, JSON_BOOL, start);
			if (v)
				v->u.boolean = p->text[start] == 't';
			return v;
		}
		if (match_literal(p, "null"))
			return new_value(p, JSON_NULL, start);
		break;
	default:
		if (p->text[p->pos] == '-' || is_digit(p->text[p->pos]))
			return parse_number(p);
		break;
	}
	fail_at(p, start, "expected a value (object, array, string, number, true, false or null), found %s",
	        describe(p, start, buf));
	return NULL;
}

struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_size)
{
	struct parser p = {text, len, 0, err, err_size, false};
	struct json_value *v;
	char buf[32];
	if (err_size > 0)
		err[0] = '\0';
	v = parse_value(&p, 0);
	if (!v)
		return NULL;
	skip_whitespace(&p);
	if (p.pos != len) {
		fail_at(&p, p.pos, "unexpected %s after the JSON value", describe(&p, p.pos, buf));
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case JSON_STRING:
		free(v->u.string.chars);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.array.count; i++)
			json_free(v->u.array.items[i]);
		free(v->u.array.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.object.count; i++) {
			free(v->u.object.members[i].key);
			json_free(v->u.object.members[i].value);
		}
		free(v->u.object.members);
		break;
	default:
		break;
	}
	free(v);
}

const struct json_value *json_object_get(const struct json_value *obj, const char *key)
{
	size_t key_len = strlen(key);
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->u.object.count; i++) {
		const struct json_member *m = &obj->u.object.members[i];
		if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
			return m->value;
	}
	return NULL;
}

const char *json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL: return "null";
	case JSON_BOOL: return "boolean";
	case JSON_NUMBER: return "number";
	case JSON_STRING: return "string";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	}
	return "value";
}

const char *json_type_article(enum json_type type)
{
	switch (type) {
	case JSON_NULL: return "null";
	case JSON_BOOL: return "a boolean";
	case JSON_NUMBER: return "a number";
	case JSON_STRING: return "a string";
	case JSON_ARRAY: return "an array";
	case JSON_OBJECT: return "an object";
	}
	return "a value";
}
