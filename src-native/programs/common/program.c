/* program.c — the shared program skeleton: sandboxed handlers and native command-line mode; see program.h. */
#define _POSIX_C_SOURCE 200809L
#include "program.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sdk/kvm_api.h"
#include "json_reader.h"

static const struct program_spec *g_spec;

/* The current request's input, kept for on_error: it runs in the same, not yet reset VM after a crash or
 * timeout, so these pointers still point at the input. Each request starts from the frozen state in which
 * they are NULL/0, so a stale input can never be answered. */
static const char *g_input_content_type;
static const uint8_t *g_input_data;
static size_t g_input_len;
static bool g_input_known;

static void sanitize_reason(char *text)
{
	for (char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = (unsigned char)*c >= 0x80 ? '?' : ' ';
}

void program_fail(struct program_output *out, int status, const char *format, ...)
{
	va_list ap;
	out->status = status;
	va_start(ap, format);
	vsnprintf(out->reason, sizeof(out->reason), format, ap);
	va_end(ap);
	sanitize_reason(out->reason);
	if (out->body && out->body_free)
		out->body_free(out->body);
	else
		free(out->body);
	out->body = NULL;
	out->len = 0;
	out->body_free = NULL;
}

void program_succeed(struct program_output *out, const char *content_type, uint8_t *body, size_t len)
{
	out->status = 200;
	out->content_type = content_type;
	out->body = body;
	out->len = len;
	out->reason[0] = '\0';
}

void program_remember_input(const char *content_type, const uint8_t *data, size_t len)
{
	g_input_content_type = content_type;
	g_input_data = data;
	g_input_len = len;
	g_input_known = true;
}

void program_respond_failure(int status, const char *reason)
{
	char header[PROGRAM_REASON_MAX + 16];
	const char *headers[1] = {header};
	snprintf(header, sizeof(header), "X-Failed: %s", reason);
	sanitize_reason(header);
	kvm_respond_with_headers(status, "text/plain; charset=utf-8", reason, strlen(reason), headers, 1);
}

static void transform_and_respond(const char *arg, const char *content_type, const uint8_t *data, size_t len)
{
	struct program_input in = {arg ? arg : "", content_type ? content_type : "", data, len};
	struct program_output out;
	program_remember_input(content_type, data, len);
	memset(&out, 0, sizeof(out));
	g_spec->transform(&in, &out);
	if (out.status >= 400 || out.status < 100)
		program_respond_failure(out.status >= 400 ? out.status : 500, out.reason[0] ? out.reason : "failed");
	kvm_respond(out.status, out.content_type ? out.content_type : "application/octet-stream", out.body, out.len);
}

static void on_post(const char *url, const char *arg, const char *content_type, const uint8_t *data, size_t len)
{
	(void)url;
	transform_and_respond(arg, content_type, data, len);
}

/* The value of the query parameter `name` of the request URL, percent-decoded into out; false when absent, empty,
 * too long or malformed (a '%' not followed by two hex digits, a control character). */
static bool query_param(const char *url, const char *name, char *out, size_t cap)
{
	const char *query = strchr(url, '?');
	size_t name_len = strlen(name);
	for (const char *p = query; p; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, name, name_len) != 0 || p[1 + name_len] != '=')
			continue;
		size_t n = 0;
		for (const char *s = p + 2 + name_len; *s && *s != '&' && *s != '#'; s++) {
			int c = (unsigned char)*s;
			if (c == '%') {
				int hi = json_hex_digit(s[1]), lo = hi < 0 ? -1 : json_hex_digit(s[2]);
				if (lo < 0)
					return false;
				c = hi * 16 + lo;
				s += 2;
			} else if (c == '+') {
				c = ' ';
			}
			if (n + 1 >= cap || c < 0x20)
				return false;
			out[n++] = (char)c;
		}
		out[n] = '\0';
		return n > 0;
	}
	return false;
}

/* A GET with ?url=SOURCE: the input is fetched from SOURCE (following redirects), within the egress policy the
 * program's library entry gives it, and transformed as a POST body would be. The options are the step's argument,
 * or when it has none the query's `options` (JSON), so one endpoint can make thumbnails of any size. */
static void on_get(const char *url, const char *arg)
{
	static char source[4096], options[4096];
	if (!arg || !arg[0])
		arg = url && query_param(url, "options", options, sizeof(options)) ? options : "";
	if (!url || !query_param(url, "url", source, sizeof(source)))
		program_respond_failure(400, "GET needs ?url=SOURCE (the input, fetched under the program's egress policy); "
		                             "or send the input as a POST body");
	struct curl_op op;
	struct curl_options opts;
	memset(&op, 0, sizeof(op));
	memset(&opts, 0, sizeof(opts));
	opts.follow_location = 1;
	long rc = sys_fetch(source, strlen(source), &op, NULL, &opts);
	char reason[PROGRAM_REASON_MAX];
	if (rc != 0) {
		snprintf(reason, sizeof(reason), "fetching %.200s failed: %s%s", source, strerror((int)-rc),
		         rc == -EPERM ? " (the program's egress policy does not allow it)" : "");
		program_respond_failure(502, reason);
	}
	if (op.status != 200) {
		snprintf(reason, sizeof(reason), "fetching %.200s: the origin answered %u", source, op.status);
		program_respond_failure(502, reason);
	}
	static char ctype[sizeof(op.ctype)];
	snprintf(ctype, sizeof(ctype), "%.*s", (int)op.ctlen, op.ctype);
	transform_and_respond(arg, ctype, op.content, op.content_length);
}

void program_on_error(const char *url, const char *arg, const char *exception_text)
{
	char header[PROGRAM_REASON_MAX + 16];
	const char *headers[1] = {header};
	const char *ctype;
	(void)url;
	(void)arg;
	if (!g_input_known) {
		char reason[PROGRAM_REASON_MAX];
		snprintf(reason, sizeof(reason), "%s failed before reading its input: %s", g_spec ? g_spec->name : "program",
		         exception_text ? exception_text : "unknown error");
		program_respond_failure(500, reason);
	}
	snprintf(header, sizeof(header), "X-Failed: %s failed (%s); answering the original input",
	         g_spec ? g_spec->name : "program", exception_text ? exception_text : "unknown error");
	sanitize_reason(header);
	ctype = g_input_content_type && g_input_content_type[0] ? g_input_content_type : "application/octet-stream";
	kvm_respond_with_headers(200, ctype, g_input_data, g_input_len, headers, 1);
}

/* ---- native mode ---- */

static uint8_t *read_all(int fd, size_t *out_len)
{
	size_t capacity = 1 << 16, len = 0;
	uint8_t *data = malloc(capacity);
	if (!data)
		return NULL;
	for (;;) {
		ssize_t n;
		if (len == capacity) {
			uint8_t *bigger = realloc(data, capacity * 2);
			if (!bigger) {
				free(data);
				errno = ENOMEM;
				return NULL;
			}
			data = bigger;
			capacity *= 2;
		}
		n = read(fd, data + len, capacity - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(data);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out_len = len;
	return data;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static int run_native(int argc, char **argv, const struct program_spec *spec)
{
	struct program_input in;
	struct program_output out;
	uint8_t *data;
	size_t len = 0;
	int exit_code;
	if (argc > 3 || (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
		fprintf(stderr,
		        "usage: %s [ARG_JSON [CONTENT_TYPE]] < input > output\n"
		        "Runs the %s transformation natively; status and headers are printed to stderr.\n"
		        "Inside a kvmfilter sandbox (KVM_NAME set) it serves POST requests instead.\n",
		        argv[0], spec->name);
		return argc > 3 ? 2 : 0;
	}
	data = read_all(0, &len);
	if (!data) {
		fprintf(stderr, "%s: cannot read standard input: %s\n", spec->name, strerror(errno));
		return 2;
	}
	in.arg = argc > 1 ? argv[1] : "";
	in.content_type = argc > 2 ? argv[2] : "";
	in.data = data;
	in.len = len;
	memset(&out, 0, sizeof(out));
	spec->transform(&in, &out);
	if (out.status < 100)
		program_fail(&out, 500, "%s: transform set no status", spec->name);
	fprintf(stderr, "status: %d\n", out.status);
	if (out.status >= 400) {
		fprintf(stderr, "Content-Type: text/plain; charset=utf-8\nX-Failed: %s\n", out.reason);
		exit_code = 1;
	} else {
		fprintf(stderr, "Content-Type: %s\n", out.content_type ? out.content_type : "application/octet-stream");
		exit_code = 0;
		if (!write_all(1, out.body, out.len)) {
			fprintf(stderr, "%s: cannot write standard output: %s\n", spec->name, strerror(errno));
			exit_code = 2;
		}
	}
	if (out.body_free)
		out.body_free(out.body);
	else
		free(out.body);
	free(data);
	return exit_code;
}

int program_main(int argc, char **argv, const struct program_spec *spec)
{
	g_spec = spec;
	if (!kvm_is_sandboxed())
		return run_native(argc, argv, spec);
	if (spec->warm_up)
		spec->warm_up();
	kvm_set_post_handler(on_post);
	kvm_set_get_handler(on_get);
	kvm_set_error_handler(program_on_error);
	wait_for_requests();
	/* Not reached in request mode: the host freezes the VM inside wait_for_requests(). */
	return 0;
}
