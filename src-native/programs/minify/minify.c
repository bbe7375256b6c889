/* minify.c — choosing a minifier by type and running it with the rules common to all of them (BOM, never
 * larger than the input). */
#include <string.h>

#include "minify.h"

static const struct {
	enum minify_type type;
	const char *name;
	const char *default_content_type;
} types[] = {
	{MINIFY_JSON, "json", "application/json"},
	{MINIFY_HTML, "html", "text/html"},
	{MINIFY_CSS, "css", "text/css"},
	{MINIFY_JS, "js", "text/javascript"},
};

/* Media types per minifier (matched case-insensitively; any "+json" suffix is JSON too). */
static const struct {
	const char *mime;
	enum minify_type type;
} mimes[] = {
	{"application/json", MINIFY_JSON},
	{"text/json", MINIFY_JSON},
	{"text/html", MINIFY_HTML},
	{"text/css", MINIFY_CSS},
	{"text/javascript", MINIFY_JS},
	{"application/javascript", MINIFY_JS},
	{"application/x-javascript", MINIFY_JS},
	{"application/ecmascript", MINIFY_JS},
	{"text/ecmascript", MINIFY_JS},
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t';
}

enum minify_type minify_type_from_content_type(const char *ct)
{
	char e[128];
	size_t o = 0;
	if (!ct)
		return MINIFY_NONE;
	while (is_space(*ct))
		ct++;
	for (; *ct && *ct != ';' && o + 1 < sizeof(e); ct++)
		e[o++] = (char)lower((unsigned char)*ct);
	while (o > 0 && is_space(e[o - 1]))
		o--;
	e[o] = 0;
	for (size_t k = 0; k < sizeof(mimes) / sizeof(mimes[0]); k++) {
		if (strcmp(e, mimes[k].mime) == 0)
			return mimes[k].type;
	}
	if (o > 5 && strcmp(e + o - 5, "+json") == 0 && strchr(e, '/'))
		return MINIFY_JSON; /* application/ld+json, application/problem+json, ... */
	return MINIFY_NONE;
}

enum minify_type minify_type_from_name(const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (strlen(types[k].name) == len && memcmp(types[k].name, name, len) == 0)
			return types[k].type;
	}
	return MINIFY_NONE;
}

const char *minify_type_name(enum minify_type t)
{
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (types[k].type == t)
			return types[k].name;
	}
	return "none";
}

const char *minify_default_content_type(enum minify_type t)
{
	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		if (types[k].type == t)
			return types[k].default_content_type;
	}
	return "application/octet-stream";
}

int minify_run(enum minify_type t, const uint8_t *in, size_t len, struct mbuf *out, int *unchanged,
	       struct minify_error *err)
{
	size_t bom = len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF ? 3 : 0;
	int rc;

	*unchanged = 0;
	if (mbuf_init(out, len + 16) < 0)
		return minify_fail(err, 500, 0, "out of memory for the output (%zu bytes)", len);
	mbuf_write(out, in, bom); /* the byte order mark is kept */
	switch (t) {
	case MINIFY_JSON:
		rc = minify_json(in + bom, len - bom, out, err);
		break;
	case MINIFY_HTML:
		rc = minify_html(in + bom, len - bom, out, err);
		break;
	case MINIFY_CSS:
		rc = minify_css(in + bom, len - bom, out, err);
		break;
	case MINIFY_JS:
		rc = minify_js(in + bom, len - bom, out, err);
		break;
	default:
		rc = minify_fail(err, 415, 0, "no minifier for this type");
		break;
	}
	if (rc == 0 && out->failed)
		rc = minify_fail(err, 500, 0, "out of memory for the output");
	if (rc != 0) {
		err->offset += bom;
		mbuf_free(out);
		return -1;
	}
	if (out->len >= len && len > 0) {
		/* nothing gained: answer with the input itself, byte for byte */
		out->len = 0;
		mbuf_write(out, in, len);
		*unchanged = 1;
		if (out->failed) {
			mbuf_free(out);
			return minify_fail(err, 500, 0, "out of memory for the output");
		}
	}
	return 0;
}
