/* args.c — strict accessors for a program's JSON arg; see args.h. */
#include "args.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct json_value *args_parse(const char *arg, char *err, size_t err_size)
{
	char why[200];
	struct json_value *v;
	size_t len = arg ? strlen(arg) : 0;
	size_t i = 0;
	while (i < len && (arg[i] == ' ' || arg[i] == '\t' || arg[i] == '\n' || arg[i] == '\r'))
		i++;
	if (i == len)
		return json_parse("{}", 2, err, err_size);
	v = json_parse(arg, len, why, sizeof(why));
	if (!v) {
		snprintf(err, err_size, "arg is not valid JSON: %s", why);
		return NULL;
	}
	if (v->type != JSON_OBJECT) {
		snprintf(err, err_size, "arg must be a JSON object such as {\"quality\":80}, got %s", json_type_article(v->type));
		json_free(v);
		return NULL;
	}
	return v;
}

bool args_check_keys(const struct json_value *obj, const char *const *allowed, char *err, size_t err_size)
{
	for (size_t i = 0; i < obj->u.object.count; i++) {
		const struct json_member *m = &obj->u.object.members[i];
		bool known = false;
		for (size_t k = 0; allowed[k]; k++)
			if (strcmp(allowed[k], m->key) == 0 && strlen(allowed[k]) == m->key_len)
				known = true;
		if (!known) {
			size_t n = (size_t)snprintf(err, err_size, "arg: unknown key \"%s\" at byte %zu; allowed keys:", m->key,
			                            m->key_offset);
			for (size_t k = 0; allowed[k] && n < err_size; k++)
				n += (size_t)snprintf(err + n, err_size - n, "%s %s", k ? "," : "", allowed[k]);
			return false;
		}
	}
	return true;
}

/* True when v is a number with an integral value that fits in a long. */
static bool as_long(const struct json_value *v, long *out)
{
	double d;
	if (v->type != JSON_NUMBER)
		return false;
	d = v->u.number.value;
	if (!isfinite(d) || d != floor(d) || d < -9.0e15 || d > 9.0e15)
		return false;
	*out = (long)d;
	return true;
}

bool args_get_int(const struct json_value *obj, const char *key, long min, long max, long fallback, long *out,
                  char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	long n;
	if (!v) {
		*out = fallback;
		return true;
	}
	if (!as_long(v, &n) || n < min || n > max) {
		if (v->type == JSON_NUMBER && !as_long(v, &n))
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be an integer from %ld to %ld, got %g", key,
			         v->offset, min, max, v->u.number.value);
		else if (v->type == JSON_NUMBER)
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be an integer from %ld to %ld, got %ld", key,
			         v->offset, min, max, n);
		else
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be an integer from %ld to %ld, got %s", key,
			         v->offset, min, max, json_type_article(v->type));
		return false;
	}
	*out = n;
	return true;
}

bool args_get_bool(const struct json_value *obj, const char *key, bool fallback, bool *out, char *err,
                   size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	if (!v) {
		*out = fallback;
		return true;
	}
	if (v->type != JSON_BOOL) {
		snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be true or false, got %s", key, v->offset,
		         json_type_article(v->type));
		return false;
	}
	*out = v->u.boolean;
	return true;
}

bool args_get_int_array(const struct json_value *obj, const char *key, size_t count, long min, long max, long *out,
                        bool *present, char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	*present = false;
	if (!v)
		return true;
	if (v->type != JSON_ARRAY || v->u.array.count != count) {
		if (v->type == JSON_ARRAY)
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be an array of %zu integers, got %zu elements", key,
			         v->offset, count, v->u.array.count);
		else
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be an array of %zu integers, got %s", key,
			         v->offset, count, json_type_article(v->type));
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		const struct json_value *item = v->u.array.items[i];
		long n;
		if (!as_long(item, &n) || n < min || n > max) {
			snprintf(err, err_size, "arg: \"%s\"[%zu] (byte %zu) must be an integer from %ld to %ld", key, i,
			         item->offset, min, max);
			return false;
		}
		out[i] = n;
	}
	*present = true;
	return true;
}

bool args_get_number(const struct json_value *obj, const char *key, double min, double max, double fallback,
                     double *out, char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	if (!v) {
		*out = fallback;
		return true;
	}
	if (v->type != JSON_NUMBER) {
		snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be a number from %g to %g, got %s", key, v->offset, min,
		         max, json_type_article(v->type));
		return false;
	}
	if (!isfinite(v->u.number.value) || v->u.number.value < min || v->u.number.value > max) {
		snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be a number from %g to %g, got %g", key, v->offset, min,
		         max, v->u.number.value);
		return false;
	}
	*out = v->u.number.value;
	return true;
}

static void list_choices(char *err, size_t err_size, const char *const *choices)
{
	size_t n = strlen(err);
	for (size_t k = 0; choices[k] && n < err_size; k++)
		n += (size_t)snprintf(err + n, err_size - n, "%s\"%s\"", k ? ", " : "", choices[k]);
}

bool args_get_choice(const struct json_value *obj, const char *key, const char *const *choices, int fallback,
                     int *out, char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	if (!v) {
		*out = fallback;
		return true;
	}
	if (v->type == JSON_STRING) {
		for (int k = 0; choices[k]; k++)
			if (strlen(choices[k]) == v->u.string.len && memcmp(choices[k], v->u.string.chars, v->u.string.len) == 0) {
				*out = k;
				return true;
			}
		/* %.40s: the value is the caller's and may be long; the message stays one short line. */
		snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be one of ", key, v->offset);
		list_choices(err, err_size, choices);
		snprintf(err + strlen(err), err_size - strlen(err), "; got \"%.40s\"", v->u.string.chars);
		return false;
	}
	snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be one of ", key, v->offset);
	list_choices(err, err_size, choices);
	snprintf(err + strlen(err), err_size - strlen(err), "; got %s", json_type_article(v->type));
	return false;
}

bool args_get_string(const struct json_value *obj, const char *key, size_t max_len, const char *fallback,
                     const char **out, char *err, size_t err_size)
{
	const struct json_value *v = json_object_get(obj, key);
	if (!v) {
		*out = fallback;
		return true;
	}
	if (v->type != JSON_STRING || v->u.string.len == 0 || v->u.string.len > max_len ||
	    strlen(v->u.string.chars) != v->u.string.len) {
		if (v->type == JSON_STRING)
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be a string of 1 to %zu characters without NUL, got %zu bytes",
			         key, v->offset, max_len, v->u.string.len);
		else
			snprintf(err, err_size, "arg: \"%s\" (byte %zu) must be a string, got %s", key, v->offset,
			         json_type_article(v->type));
		return false;
	}
	*out = v->u.string.chars;
	return true;
}
