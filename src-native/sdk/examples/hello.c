/*
 * hello — the smallest useful kvmfilter program.
 *   GET  answers text/plain "Hello from <KVM_NAME>".
 *   POST echoes the body with the same Content-Type.
 * Without KVM_NAME it runs as a normal command: `hello` prints the greeting, `hello echo` copies stdin to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_api.h"

/* Built once before wait_for_requests(): part of the frozen state every request starts from. */
static char greeting[256];

static void on_get(const char *url, const char *arg)
{
	(void)url;
	(void)arg;
	kvm_respond_str(200, "text/plain", greeting);
}

static void on_post(const char *url, const char *arg, const char *content_type, const uint8_t *data, size_t len)
{
	(void)url;
	(void)arg;
	kvm_respond(200, content_type[0] ? content_type : "application/octet-stream", data, len);
}

static int run_native(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "echo") == 0) {
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				return 1;
		return ferror(stdin) ? 1 : 0;
	}
	puts(greeting);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = getenv("KVM_NAME");
	snprintf(greeting, sizeof(greeting), "Hello from %s", name ? name : "hello (native)");
	if (!kvm_is_sandboxed())
		return run_native(argc, argv);
	kvm_set_get_handler(on_get);
	kvm_set_post_handler(on_post);
	kvm_logf("hello: ready");
	wait_for_requests();
	return 0;
}
