/*
 * main.c — the minify program: JSON, HTML, CSS and JavaScript minification of a POSTed body.
 *
 * The minifier is chosen by the arg {"type": "json"|"html"|"css"|"js"} or else by the Content-Type. The output
 * keeps the input's Content-Type (with its charset parameter): the minifiers work on bytes, so the charset is
 * unchanged. The program skeleton (programs/common/program.c) provides the sandboxed handlers (POST, GET → 400,
 * on_error → the original bytes with X-Failed) and the native command line:
 *     minify [ARG_JSON [CONTENT_TYPE]] < input > output
 * and, natively only, a throughput measurement: minify --bench ITERATIONS TYPE < input (see bench.c).
 *
 * Statuses: 400 invalid arg, 415 unsupported type, 422 invalid input (with what and where in X-Failed),
 * 500 out of memory. A failure never carries a partial body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "json_reader.h"
#include "minify.h"
#include "program.h"

static const char *const allowed_keys[] = {"type", NULL};

/* Reads the arg; returns the requested type (MINIFY_NONE when absent) or -1 after program_fail(). */
static int read_arg(const char *arg, struct program_output *out)
{
	char err[PROGRAM_REASON_MAX - 16];
	struct json_value *v = args_parse(arg, err, sizeof(err));
	int type = MINIFY_NONE;
	if (!v) {
		program_fail(out, 400, "minify: %s", err);
		return -1;
	}
	if (!args_check_keys(v, allowed_keys, err, sizeof(err))) {
		program_fail(out, 400, "minify: %s", err);
		json_free(v);
		return -1;
	}
	const struct json_value *t = json_object_get(v, "type");
	if (t) {
		if (t->type == JSON_STRING)
			type = minify_type_from_name(t->u.string.chars, t->u.string.len);
		if (type == MINIFY_NONE) {
			program_fail(out, 400,
				     "minify: arg \"type\" at byte %zu must be one of \"json\", \"html\", \"css\", \"js\"",
				     t->offset);
			type = -1;
		}
	}
	json_free(v);
	return type;
}

static void transform(const struct program_input *in, struct program_output *out)
{
	int type = read_arg(in->arg, out);
	if (type < 0)
		return;
	if (type == MINIFY_NONE)
		type = minify_type_from_content_type(in->content_type);
	if (type == MINIFY_NONE) {
		program_fail(out, 415,
			     "minify: unsupported Content-Type \"%s\": minify handles JSON (application/json, "
			     "*/*+json), HTML (text/html), CSS (text/css) and JavaScript (text/javascript, "
			     "application/javascript); or choose one with the arg {\"type\": \"json\"|\"html\"|\"css\"|\"js\"}",
			     in->content_type);
		return;
	}

	struct mbuf result;
	struct minify_error err;
	int unchanged;
	if (minify_run((enum minify_type)type, in->data, in->len, &result, &unchanged, &err) < 0) {
		char where[PROGRAM_REASON_MAX - 32];
		minify_format_error(in->data, in->len, &err, where, sizeof(where));
		program_fail(out, err.status, "minify %s: %s", minify_type_name((enum minify_type)type), where);
		return;
	}
	const char *ct = in->content_type[0] ? in->content_type : minify_default_content_type((enum minify_type)type);
	program_succeed(out, ct, result.data, result.len);
}

int main(int argc, char **argv)
{
	static const struct program_spec spec = {"minify", transform, NULL};
	if (argc > 1 && strcmp(argv[1], "--bench") == 0 && !getenv("KVM_NAME"))
		return minify_bench(argc, argv);
	return program_main(argc, argv, &spec);
}
