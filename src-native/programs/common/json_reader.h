/*
 * json_reader.h — a small strict JSON parser for program arguments (RFC 8259: objects, arrays, numbers, true/false/null,
 * strings with escapes). It builds a tree; errors say what was wrong and at which byte. It is meant for small
 * inputs such as a program step's arg, not for large documents.
 */
#ifndef PROGRAMS_JSON_READER_H
#define PROGRAMS_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_value {
	enum json_type type;
	size_t offset; /* byte offset of the value in the parsed text, for error messages */
	union {
		bool boolean;
		struct {
			double value;
			bool is_integer; /* written without fraction or exponent */
		} number;
		struct {
			char *chars; /* UTF-8, NUL-terminated (may also contain \u0000 as a NUL byte) */
			size_t len;
		} string;
		struct {
			struct json_value **items;
			size_t count;
		} array;
		struct {
			struct json_member *members;
			size_t count;
		} object;
	} u;
};

struct json_member {
	char *key; /* NUL-terminated UTF-8 */
	size_t key_len;
	size_t key_offset; /* byte offset of the key in the parsed text */
	struct json_value *value;
};

/* Nesting deeper than this is rejected (keeps recursion bounded). */
#define JSON_MAX_DEPTH 64

/* Parses text[0..len) as exactly one JSON value (surrounding whitespace allowed). On success returns the tree
 * (free it with json_free). On error returns NULL and writes a message such as
 * "expected ':' after object key at byte 12" into err[0..err_size). Duplicate object keys are an error. */
struct json_value *json_parse(const char *text, size_t len, char *err, size_t err_size);

void json_free(struct json_value *value);

/* The member `key` of an object, or NULL when absent (or when obj is not an object). */
const struct json_value *json_object_get(const struct json_value *obj, const char *key);

/* "object", "array", "number"... for messages. */
const char *json_type_name(enum json_type type);

/* The value of a hexadecimal digit (0-9, a-f, A-F), or -1: JSON's \u escapes, and the URL escapes of program.c. */
int json_hex_digit(char c);

/* "an object", "an array", "a number"... for messages such as "got an array". */
const char *json_type_article(enum json_type type);

#endif
