/*
 * args.h — reading a program step's arg (a JSON object such as {"quality":80,"resize":[640,0]}) with strict
 * validation. Every function writes a message naming the key, what is allowed and what was found into err on
 * failure and returns false; the caller answers 400 with that message.
 */
#ifndef PROGRAMS_ARGS_H
#define PROGRAMS_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "json_reader.h"

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

/* A number (integer or not) in [min, max]; *out = fallback when the key is absent. */
bool args_get_number(const struct json_value *obj, const char *key, double min, double max, double fallback,
                     double *out, char *err, size_t err_size);

/* A string that must be one of the NULL-terminated list choices; *out = its index, or fallback when the key is
 * absent. The message lists the choices. */
bool args_get_choice(const struct json_value *obj, const char *key, const char *const *choices, int fallback,
                     int *out, char *err, size_t err_size);

/* A string of 1..max_len bytes; *out = fallback (may be NULL) when the key is absent. The result points into
 * obj and lives as long as it. */
bool args_get_string(const struct json_value *obj, const char *key, size_t max_len, const char *fallback,
                     const char **out, char *err, size_t err_size);

/* An array of exactly `count` integers, each in [min, max]. *present tells whether the key was given; out is
 * untouched when absent. */
bool args_get_int_array(const struct json_value *obj, const char *key, size_t count, long min, long max, long *out,
                        bool *present, char *err, size_t err_size);

#endif
