/*
 * args.h — reading a program step's arg (a JSON object such as {"quality":80,"resize":[640,0]}) with strict
 * validation. Every function writes a message naming the key, what is allowed and what was found into err on
 * failure and returns false; the caller answers 400 with that message.
 */
#ifndef PROGRAMS_ARGS_H
#define PROGRAMS_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/* Parses arg as a JSON object. An empty or all-whitespace arg means {} (no options). */
struct json_value *args_parse(const char *arg, char *err, size_t err_size);

/* Fails on the first key of obj that is not in the NULL-terminated list allowed. */
bool args_check_keys(const struct json_value *obj, const char *const *allowed, char *err, size_t err_size);

/* An integer option in [min, max]; *out = fallback when the key is absent. */
bool args_get_int(const struct json_value *obj, const char *key, long min, long max, long fallback, long *out,
                  char *err, size_t err_size);

/* A boolean option; *out = fallback when the key is absent. */
bool args_get_bool(const struct json_value *obj, const char *key, bool fallback, bool *out, char *err,
                   size_t err_size);

/* An array of exactly `count` integers, each in [min, max]. *present tells whether the key was given; out is
 * untouched when absent. */
bool args_get_int_array(const struct json_value *obj, const char *key, size_t count, long min, long max, long *out,
                        bool *present, char *err, size_t err_size);

#endif
