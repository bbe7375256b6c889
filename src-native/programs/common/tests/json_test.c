/* json_test.c — checks the arg JSON parser and the arg accessors: accepted documents, and the exact message for
 * each kind of error. Prints one line per case and "N passed, N failed". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "json_reader.h"

static int passed, failed;

static void check(bool ok, const char *name, const char *detail)
{
	char printable[60];
	size_t i;
	/* Case names are often the JSON text itself: show control and non-ASCII bytes as '?', cut long ones. */
	for (i = 0; name[i] && i < sizeof(printable) - 1; i++)
		printable[i] = (unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f ? '?' : name[i];
	printable[i] = '\0';
	printf("%s json: %s%s%s\n", ok ? "PASS" : "FAIL", printable[0] ? printable : "(empty)", ok ? "" : ": ", ok ? "" : detail);
	if (ok)
		passed++;
	else
		failed++;
}

static void expect_error(const char *text, const char *message)
{
	char err[300], detail[700];
	struct json_value *v = json_parse(text, strlen(text), err, sizeof(err));
	snprintf(detail, sizeof(detail), "got \"%s\", want \"%s\"", v ? "(parsed)" : err, message);
	check(!v && strcmp(err, message) == 0, text, detail);
	json_free(v);
}

static void expect_arg_error(const char *arg, const char *message)
{
	static const char *const keys[] = {"quality", "flag", "size", NULL};
	char err[300] = "", detail[700];
	long n, size[2];
	bool b, present;
	struct json_value *v = args_parse(arg, err, sizeof(err));
	bool ok = v && args_check_keys(v, keys, err, sizeof(err)) &&
	          args_get_int(v, "quality", 0, 100, 80, &n, err, sizeof(err)) &&
	          args_get_bool(v, "flag", false, &b, err, sizeof(err)) &&
	          args_get_int_array(v, "size", 2, 0, 10, size, &present, err, sizeof(err));
	snprintf(detail, sizeof(detail), "got \"%s\", want \"%s\"", ok ? "(accepted)" : err, message);
	check(!ok && strcmp(err, message) == 0, arg, detail);
	json_free(v);
}

int main(void)
{
	char err[300];
	const char *doc = " {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\\"\\u00e9\\ud83d\\ude00\\n\", \"o\": {}} ";
	struct json_value *v = json_parse(doc, strlen(doc), err, sizeof(err));
	const struct json_value *a = json_object_get(v, "a"), *s = json_object_get(v, "s");
	check(v && v->type == JSON_OBJECT && v->u.object.count == 3, "object with three members", err);
	check(a && a->type == JSON_ARRAY && a->u.array.count == 5 && a->u.array.items[0]->u.number.is_integer &&
	          a->u.array.items[1]->u.number.value == -2500.0 && !a->u.array.items[1]->u.number.is_integer &&
	          a->u.array.items[2]->u.boolean && a->u.array.items[4]->type == JSON_NULL,
	      "array of mixed values", "wrong values");
	check(s && s->type == JSON_STRING && s->u.string.len == 9 && memcmp(s->u.string.chars, "x\"\xc3\xa9\xf0\x9f\x98\x80\n", 9) == 0,
	      "escapes and surrogate pair to UTF-8", "wrong string");
	json_free(v);

	expect_error("", "expected a value, found end of input at byte 0");
	expect_error("{\"a\" 1}", "expected ':' after object key, found '1' at byte 5");
	expect_error("{\"a\":1,}", "expected a string key in object, found '}' at byte 7");
	expect_error("[1 2]", "expected ',' or ']' in array, found '2' at byte 3");
	expect_error("{\"a\":1,\"a\":2}", "duplicate key \"a\" at byte 7");
	expect_error("01", "number with a leading zero at byte 0");
	expect_error("1.", "expected a digit after '.' in number, found end of input at byte 2");
	expect_error("-", "expected a digit in number, found end of input at byte 1");
	expect_error("\"abc", "unterminated string starting at byte 0");
	expect_error("\"a\tb\"", "control character 0x09 inside a string (escape it) at byte 2");
	expect_error("\"\\x\"", "invalid escape \\'x' (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) at byte 1");
	expect_error("\"\\ud800\"", "high surrogate \\uD800 not followed by a low surrogate at byte 1");
	expect_error("\"\xff\"", "invalid UTF-8 byte 0xff in a string at byte 1");
	expect_error("tru", "expected a value (object, array, string, number, true, false or null), found 't' at byte 0");
	expect_error("{} {}", "unexpected '{' after the JSON value at byte 3");
	{
		char deep[200];
		memset(deep, '[', 70);
		deep[70] = '\0';
		expect_error(deep, "nesting deeper than 64 levels at byte 65");
	}

	expect_arg_error("5", "arg must be a JSON object such as {\"quality\":80}, got a number");
	expect_arg_error("{\"qualiti\":1}", "arg: unknown key \"qualiti\" at byte 1; allowed keys: quality, flag, size");
	expect_arg_error("{\"quality\":-1}", "arg: \"quality\" (byte 11) must be an integer from 0 to 100, got -1");
	expect_arg_error("{\"quality\":1e400}", "arg: \"quality\" (byte 11) must be an integer from 0 to 100, got inf");
	{
		/* An integral value is an integer whatever its spelling: 1e1 is 10. */
		long n = 0;
		struct json_value *ten = args_parse("{\"quality\":1e1}", err, sizeof(err));
		check(ten && args_get_int(ten, "quality", 0, 100, 80, &n, err, sizeof(err)) && n == 10, "1e1 reads as 10", err);
		json_free(ten);
	}
	expect_arg_error("{\"flag\":\"yes\"}", "arg: \"flag\" (byte 8) must be true or false, got a string");
	expect_arg_error("{\"size\":[1,11]}", "arg: \"size\"[1] (byte 11) must be an integer from 0 to 10");
	expect_arg_error("{\"size\":{}}", "arg: \"size\" (byte 8) must be an array of 2 integers, got an object");
	{
		struct json_value *empty = args_parse("  ", err, sizeof(err));
		check(empty && empty->type == JSON_OBJECT && empty->u.object.count == 0, "blank arg means {}", err);
		json_free(empty);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
