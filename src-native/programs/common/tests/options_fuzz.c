/*
 * options_fuzz.c — fuzzes the image programs' option parser (args_parse, args_check_keys, image_options_read)
 * with generated arg texts: well-formed objects of known and unknown keys with values drawn from valid, boundary
 * and wrong-typed pools; the same texts with random byte mutations; and random bytes. For every text it checks,
 * against an independent statement of the rules (the oracle below):
 *   - the parser accepts exactly the texts the oracle accepts;
 *   - a refusal names an option that really is wrong ("key" in quotes), or says that the text is not JSON / not
 *     an object / has an unknown key;
 *   - an accepted text gives values inside their bounds.
 * Built with AddressSanitizer and UndefinedBehaviorSanitizer, so any out-of-bounds access or overflow fails it.
 * usage: options_fuzz [ITERATIONS [SEED]]   (defaults 100000 and 1); prints a summary, exits 1 on a finding.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "image.h"
#include "json_reader.h"

static uint64_t state;

static uint64_t next(void)
{
	/* xorshift64*: deterministic for a seed, so a finding can be replayed */
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ULL;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static const char *const keys[] = {"quality", IMAGE_OPTION_KEYS, NULL};
static const char *const unknown_keys[] = {"Width", "w", "", "format", "qualty", "width ", "\\u0077idth"};

/* Values: valid ones, boundaries on both sides, other types, odd numbers and strings. */
static const char *const values[] = {
	"0", "1", "-1", "80", "100", "101", "16383", "16384", "1e2", "1.0", "1.5", "0.1", "0.09", "8", "8.01", "-0",
	"1e308", "-1e308", "9007199254740993", "250000000", "250000001", "10000", "10001", "2147483648", "true", "false",
	"null", "\"\"", "\"80\"", "\"cover\"", "\"contain\"", "\"fill\"", "\"inside\"", "\"outside\"", "\"center\"",
	"\"smart\"", "\"northeast\"", "\"NORTH\"", "\"srgb\"", "\"keep\"", "\"ff0000\"", "\"#00ff0080\"", "\"#fff\"",
	"\"gg0000\"", "\"ff00001\"", "\"\\u0000ff0000\"", "\"ff\\u00000000\"", "[]", "[1]", "[100,0]", "[0,0]",
	"[16384,1]", "[1,2,3,4]", "[0,0,1,1]", "[0,0,0,1]", "[65532,0,1,1]", "[65533,0,1,1]", "[1.5,2]", "[\"1\",2]",
	"{}", "{\"a\":1}", "[[1,2]]", "{\"file\":\"/m.png\"}", "{\"file\":\"/m.png\",\"opacity\":1,\"gravity\":\"northwest\",\"size\":1,\"margin\":0.5}",
	"{\"file\":\"m\",\"opacity\":0,\"size\":0.01,\"margin\":0}", "{\"file\":\"/m.png\",\"gravity\":\"smart\"}", "{\"file\":\"\"}",
	"{\"file\":\"a\\u0000b\"}", "{\"file\":1}", "{\"opacity\":0.5}", "{\"file\":\"/m.png\",\"size\":0}",
	"{\"file\":\"/m.png\",\"size\":1.01}", "{\"file\":\"/m.png\",\"margin\":0.51}", "{\"file\":\"/m.png\",\"opacity\":-0.1}",
	"{\"file\":\"/m.png\",\"x\":1}", "{\"file\":\"/m.png\",\"opacity\":\"1\"}"};

static void build_object(char *text, size_t size)
{
	size_t n = 0;
	unsigned members = pick(5);
	n += (size_t)snprintf(text + n, size - n, "{");
	for (unsigned i = 0; i < members && n < size - 200; i++) {
		const char *key = pick(12) == 0 ? unknown_keys[pick(sizeof(unknown_keys) / sizeof(*unknown_keys))]
		                                : keys[pick(sizeof(keys) / sizeof(*keys) - 1)];
		n += (size_t)snprintf(text + n, size - n, "%s\"%s\":%s", i ? "," : "", key,
		                      values[pick(sizeof(values) / sizeof(*values))]);
	}
	snprintf(text + n, size - n, "}");
}

static void mutate(char *text, size_t size)
{
	size_t len = strlen(text);
	for (unsigned m = pick(4) + 1; m > 0; m--) {
		size_t at = len ? pick((unsigned)len) : 0;
		switch (pick(3)) {
		case 0: if (len) text[at] = (char)(pick(255) + 1); break; /* replace (never NUL: args are C strings) */
		case 1: if (len) { memmove(text + at, text + at + 1, len - at); len--; } break; /* delete */
		default:
			if (len + 2 < size) {
				memmove(text + at + 1, text + at, len - at + 1);
				text[at] = "{}[],:\"\\0123456789.eE-+ tfn"[pick(27)];
				len++;
			}
		}
	}
}

/* ---- the oracle: the documented rules, written independently of image_args.c ---- */

static bool integer_in(const struct json_value *v, double lo, double hi)
{
	return v->type == JSON_NUMBER && isfinite(v->u.number.value) && v->u.number.value == floor(v->u.number.value) &&
	       v->u.number.value >= lo && v->u.number.value <= hi;
}

static bool one_of(const struct json_value *v, const char *const *names)
{
	if (v->type != JSON_STRING)
		return false;
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == v->u.string.len && memcmp(names[i], v->u.string.chars, v->u.string.len) == 0)
			return true;
	return false;
}

static bool int_array(const struct json_value *v, size_t count, double lo, double hi)
{
	if (v->type != JSON_ARRAY || v->u.array.count != count)
		return false;
	for (size_t i = 0; i < count; i++)
		if (!integer_in(v->u.array.items[i], lo, hi))
			return false;
	return true;
}

static bool hex_colour(const struct json_value *v)
{
	const char *s;
	size_t n;
	if (v->type != JSON_STRING || strlen(v->u.string.chars) != v->u.string.len)
		return false;
	s = v->u.string.chars[0] == '#' ? v->u.string.chars + 1 : v->u.string.chars;
	n = strlen(s);
	if (n != 6 && n != 8)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

/* "watermark": an object of known members only, "file" required (1..1024 bytes, no NUL), opacity 0..1, a gravity
 * but "smart", size above 0 and at most 1, margin 0..0.5. */
static bool valid_watermark(const struct json_value *v)
{
	static const char *const gravities[] = {"center", "north", "south", "east", "west", "northeast", "northwest",
	                                        "southeast", "southwest", NULL};
	bool has_file = false;
	if (v->type != JSON_OBJECT)
		return false;
	for (size_t i = 0; i < v->u.object.count; i++) {
		const char *key = v->u.object.members[i].key;
		const struct json_value *m = v->u.object.members[i].value;
		bool number = m->type == JSON_NUMBER && isfinite(m->u.number.value), ok;
		if (strlen(key) != v->u.object.members[i].key_len)
			return false;
		if (!strcmp(key, "file")) {
			ok = has_file = m->type == JSON_STRING && m->u.string.len >= 1 &&
			                m->u.string.len <= IMAGE_WATERMARK_PATH_MAX && strlen(m->u.string.chars) == m->u.string.len;
		} else if (!strcmp(key, "opacity")) {
			ok = number && m->u.number.value >= 0 && m->u.number.value <= 1;
		} else if (!strcmp(key, "gravity")) {
			ok = one_of(m, gravities);
		} else if (!strcmp(key, "size")) {
			ok = number && m->u.number.value > 0 && m->u.number.value <= 1;
		} else if (!strcmp(key, "margin")) {
			ok = number && m->u.number.value >= 0 && m->u.number.value <= 0.5;
		} else {
			ok = false;
		}
		if (!ok)
			return false;
	}
	return has_file;
}

/* Is member key = v valid on its own? */
static bool valid_member(const char *key, const struct json_value *v)
{
	static const char *const fits[] = {"cover", "contain", "fill", "inside", NULL};
	static const char *const gravities[] = {"center", "north", "south", "east", "west", "northeast", "northwest",
	                                        "southeast", "southwest", "smart", NULL};
	static const char *const iccs[] = {"srgb", "keep", NULL};
	if (!strcmp(key, "quality")) return integer_in(v, 0, 100);
	if (!strcmp(key, "width") || !strcmp(key, "height")) return integer_in(v, 1, IMAGE_MAX_SIDE);
	if (!strcmp(key, "resize")) return int_array(v, 2, 0, IMAGE_MAX_SIDE);
	if (!strcmp(key, "crop"))
		return int_array(v, 4, 0, IMAGE_MAX_SIDE * 4.0) && v->u.array.items[2]->u.number.value >= 1 &&
		       v->u.array.items[3]->u.number.value >= 1;
	if (!strcmp(key, "dpr")) return v->type == JSON_NUMBER && v->u.number.value >= 0.1 && v->u.number.value <= 8;
	if (!strcmp(key, "fit")) return one_of(v, fits);
	if (!strcmp(key, "gravity")) return one_of(v, gravities);
	if (!strcmp(key, "icc")) return one_of(v, iccs);
	if (!strcmp(key, "enlarge")) return v->type == JSON_BOOL;
	if (!strcmp(key, "background")) return hex_colour(v);
	if (!strcmp(key, "max_pixels")) return integer_in(v, 1, IMAGE_MAX_MAX_PIXELS);
	if (!strcmp(key, "max_frames")) return integer_in(v, 1, IMAGE_MAX_MAX_FRAMES);
	if (!strcmp(key, "watermark")) return valid_watermark(v);
	return false; /* unknown */
}

static long findings;

static void finding(const char *text, const char *what, const char *err)
{
	if (findings++ < 10)
		printf("FAIL options fuzz: %s\n  arg: %s\n  message: %s\n", what, text, err);
}

static void check_one(const char *text)
{
	static const char *const allowed[] = {"quality", IMAGE_OPTION_KEYS, NULL};
	char err[PROGRAM_REASON_MAX] = "";
	struct json_value *args = args_parse(text, err, sizeof(err));
	struct image_options o;
	long quality;
	bool accepted, expected = true, named = false, unknown = false, resize = false, box = false;
	if (!args) {
		if (strncmp(err, "arg is not valid JSON: ", 23) != 0 && strncmp(err, "arg must be a JSON object", 25) != 0)
			finding(text, "a refused text without a parse message", err);
		return;
	}
	accepted = args_check_keys(args, allowed, err, sizeof(err)) &&
	           args_get_int(args, "quality", 0, 100, 80, &quality, err, sizeof(err)) &&
	           image_options_read(args, &o, err, sizeof(err));
	for (size_t i = 0; i < args->u.object.count; i++) {
		const struct json_member *m = &args->u.object.members[i];
		char quoted[80];
		bool known = strlen(m->key) == m->key_len && valid_member(m->key, m->value);
		bool is_known_key = false;
		for (size_t k = 0; allowed[k]; k++)
			is_known_key |= strcmp(allowed[k], m->key) == 0 && strlen(m->key) == m->key_len;
		unknown |= !is_known_key;
		resize |= strcmp(m->key, "resize") == 0;
		box |= strcmp(m->key, "width") == 0 || strcmp(m->key, "height") == 0;
		if (!known) {
			expected = false;
			snprintf(quoted, sizeof(quoted), "\"%.60s\"", m->key);
			named |= strstr(err, quoted) != NULL;
		}
	}
	if (resize && box) {
		expected = false;
		named |= strstr(err, "\"resize\"") != NULL;
	}
	if (accepted != expected) {
		finding(text, accepted ? "accepted, but the rules refuse it" : "refused, but the rules accept it", err);
	} else if (!accepted && !named && !(unknown && strstr(err, "unknown key"))) {
		finding(text, "the message does not name a wrong option", err);
	} else if (accepted) {
		bool in_bounds = o.width >= 0 && o.width <= IMAGE_MAX_SIDE && o.height >= 0 && o.height <= IMAGE_MAX_SIDE &&
		                 o.dpr >= IMAGE_MIN_DPR && o.dpr <= IMAGE_MAX_DPR && o.fit <= IMAGE_FIT_INSIDE &&
		                 o.gravity <= IMAGE_GRAVITY_SMART && o.icc <= IMAGE_ICC_KEEP && o.max_pixels >= 1 &&
		                 o.max_pixels <= IMAGE_MAX_MAX_PIXELS && o.max_frames >= 1 &&
		                 o.max_frames <= IMAGE_MAX_MAX_FRAMES && quality >= 0 && quality <= 100 &&
		                 !(o.resize_given && (o.width || o.height)) &&
		                 (!o.watermark.given ||
		                  (o.watermark.file[0] && o.watermark.opacity >= 0 && o.watermark.opacity <= 1 &&
		                   o.watermark.gravity < IMAGE_GRAVITY_SMART && o.watermark.size > 0 && o.watermark.size <= 1 &&
		                   o.watermark.margin >= 0 && o.watermark.margin <= IMAGE_WATERMARK_MAX_MARGIN));
		if (!in_bounds)
			finding(text, "accepted with a value out of bounds", "");
	}
	json_free(args);
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 100000;
	long counts[3] = {0, 0, 0};
	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	if (state == 0)
		state = 1;
	for (long i = 0; i < iterations; i++) {
		char text[2048];
		unsigned kind = pick(10);
		if (kind < 6) {
			build_object(text, sizeof(text));
			counts[0]++;
		} else if (kind < 9) {
			build_object(text, sizeof(text));
			mutate(text, sizeof(text));
			counts[1]++;
		} else {
			size_t n = pick(64);
			for (size_t k = 0; k < n; k++)
				text[k] = (char)(pick(255) + 1);
			text[n] = '\0';
			counts[2]++;
		}
		check_one(text);
	}
	printf("%s options fuzz: %ld texts (%ld generated, %ld mutated, %ld random), %ld findings\n",
	       findings ? "FAIL" : "PASS", iterations, counts[0], counts[1], counts[2], findings);
	return findings ? 1 : 0;
}
