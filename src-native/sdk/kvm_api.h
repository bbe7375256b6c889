/*
 * kvm_api.h — the guest SDK of kvmfilter.
 *
 * A program is an ordinary static x86-64 Linux executable. When it runs inside a kvmfilter sandbox (or under the
 * Varnish TinyKVM VMOD, whose program ABI this header matches), it talks to the host through "API calls": tiny
 * functions that load a call number into eax and leave the VM, by a store to kvmfilter's API page when the host
 * names one (KVMFILTER_API_PAGE, the fast way), else by `out %eax, $0` as under the VMOD. Arguments travel in the
 * System V registers rdi, rsi, rdx, rcx, r8, r9; the result comes back in rax. The host emulates ordinary Linux system
 * calls (write to stdout/stderr, brk/mmap, clock_gettime...) so libc works as usual.
 *
 * Life of a program:
 *   1. main() runs once: parse configuration, allocate tables, warm caches, register handlers with
 *      kvm_set_post_handler() etc., then call wait_for_requests().
 *   2. The host freezes the VM at that point. Every request starts from that frozen state, on a fresh stack:
 *      nothing a request writes survives into the next request.
 *   3. The handler must end the request with sys_backend_response() (or one of the kvm_respond* helpers),
 *      which never returns. A handler that returns without responding is an error.
 *
 * Without the environment variable KVM_NAME the program is not sandboxed (kvm_is_sandboxed() is false) and must
 * not make API calls: natively `out` is a privileged instruction and the process gets SIGSEGV. The usual pattern
 * is for main() to fall back to a command-line mode that reads stdin and writes stdout, so the same binary can be
 * tested and timed natively.
 *
 * Usage from several translation units: the API functions are emitted by every translation unit that includes
 * this header, as WEAK global symbols in a top-level asm block; the linker keeps one copy. Nothing has to be
 * defined in exactly one file. Define KVM_API_NO_DEFINITIONS before including to get only the declarations
 * (e.g. when another object already provides the functions as strong symbols).
 *
 * Works in C11 and C++ (declarations are extern "C").
 */
#ifndef KVM_API_H
#define KVM_API_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#define KVM_API_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define KVM_API_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#if !defined(__x86_64__)
#error "kvm_api.h: kvmfilter guest programs are x86-64 only"
#endif

/* ------------------------------------------------------------------------------------------------------------
 * Data structures shared with the host (x86-64 layout, checked below).
 * ------------------------------------------------------------------------------------------------------------ */

/* One request header as `Name: value`, not NUL-terminated. */
struct kvm_request_header {
	const char *field;    /* the whole "Name: value" text */
	uint32_t field_colon; /* index of ':' in field */
	uint32_t field_len;   /* length of the whole text */
};

/* Bit in kvm_request.info_flags: the request is a warm-up request sent by the host before real traffic. */
#define KVM_REQUEST_WARMUP 0x1

/* A request as seen by a generic handler or by wait_for_requests_paused(). Strings are NUL-terminated; the
 * lengths exclude the NUL. */
struct kvm_request {
	const char *method;
	const char *url;
	const char *arg;
	const char *content_type;
	uint16_t method_len;
	uint16_t url_len;
	uint16_t arg_len;
	uint16_t content_type_len;
	const uint8_t *content; /* request body, may be NULL */
	size_t content_len;
	struct kvm_request_header *headers;
	uint16_t num_headers;
	uint16_t info_flags; /* KVM_REQUEST_* bits */
	uint32_t reserved0;
	uint64_t prng[2]; /* fresh random bits from the host for this request */
	uint64_t reserved1[2];
};

/* One response header "Name: value", not NUL-terminated. */
struct ResponseHeader {
	const char *field;
	size_t field_len;
};

/* Optional extras for sys_backend_response(): headers and caching hints (seconds). Zero-initialise it. */
struct BackendResponseExtra {
	const struct ResponseHeader *headers;
	uint16_t num_headers;
	bool cached; /* the host may cache the response */
	float ttl;
	float grace;
	float keep;
	uint64_t reserved[4]; /* must be zero */
};

/* Memory limits and usage, in bytes. */
struct meminfo {
	uint64_t max_memory;     /* the VM's memory limit */
	uint64_t max_reqmem;     /* how much a request may dirty beyond the frozen state */
	uint64_t reqmem_upper;   /* high-water mark of request memory */
	uint64_t reqmem_current; /* request memory in use now */
};

KVM_API_STATIC_ASSERT(sizeof(struct kvm_request_header) == 16, "kvm_request_header is 16 bytes");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request_header, field_colon) == 8, "field_colon @8");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request_header, field_len) == 12, "field_len @12");

KVM_API_STATIC_ASSERT(sizeof(struct kvm_request) == 104, "kvm_request is 104 bytes");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, url) == 8, "url @8");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, arg) == 16, "arg @16");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, content_type) == 24, "content_type @24");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, method_len) == 32, "method_len @32");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, url_len) == 34, "url_len @34");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, arg_len) == 36, "arg_len @36");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, content_type_len) == 38, "content_type_len @38");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, content) == 40, "content @40");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, content_len) == 48, "content_len @48");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, headers) == 56, "headers @56");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, num_headers) == 64, "num_headers @64");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, info_flags) == 66, "info_flags @66");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, reserved0) == 68, "reserved0 @68");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, prng) == 72, "prng @72");
KVM_API_STATIC_ASSERT(offsetof(struct kvm_request, reserved1) == 88, "reserved1 @88");

KVM_API_STATIC_ASSERT(sizeof(struct ResponseHeader) == 16, "ResponseHeader is 16 bytes");
KVM_API_STATIC_ASSERT(offsetof(struct ResponseHeader, field_len) == 8, "field_len @8");

KVM_API_STATIC_ASSERT(sizeof(struct BackendResponseExtra) == 56, "BackendResponseExtra is 56 bytes");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, num_headers) == 8, "num_headers @8");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, cached) == 10, "cached @10");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, ttl) == 12, "ttl @12");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, grace) == 16, "grace @16");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, keep) == 20, "keep @20");
KVM_API_STATIC_ASSERT(offsetof(struct BackendResponseExtra, reserved) == 24, "reserved @24");

KVM_API_STATIC_ASSERT(sizeof(struct meminfo) == 32, "meminfo is 32 bytes");

/* ------------------------------------------------------------------------------------------------------------
 * Handler types and registration.
 * ------------------------------------------------------------------------------------------------------------ */

/* GET: url is the request URL, arg the configured argument of this program step (often JSON, may be ""). */
typedef void (*kvm_get_handler)(const char *url, const char *arg);
/* POST: the body is data[0..len) with the given Content-Type; data stays valid until the response. */
typedef void (*kvm_post_handler)(const char *url, const char *arg, const char *content_type, const uint8_t *data,
                                 size_t len);
/* Generic: any method; everything is in *req. */
typedef void (*kvm_request_handler)(const struct kvm_request *req);
/* Second chance after a crash, timeout or out-of-memory of the current request. It runs in the same VM, not yet
 * reset, with a short time budget (about 1 s), so the request's input is still in memory. exception_text says
 * what went wrong. It must respond like any handler. */
typedef void (*kvm_error_handler)(const char *url, const char *arg, const char *exception_text);
/* Streaming POST: called per chunk at the given offset (not supported by kvmfilter yet). */
typedef long (*kvm_stream_handler)(const char *url, const char *arg, const char *content_type, const uint8_t *data,
                                   size_t len, size_t offset);

/* The `which` values of register_func(). */
enum {
	KVM_HANDLER_GET = 1,
	KVM_HANDLER_POST = 2,
	KVM_HANDLER_REQUEST = 3,
	KVM_HANDLER_STREAM_POST = 4,
	KVM_HANDLER_ERROR = 5,
	KVM_HANDLER_LIVE_UPDATE_SERIALIZE = 6,
	KVM_HANDLER_LIVE_UPDATE_RESTORE = 7,
};

/* The `where` values of the header functions. 4 and 5 are accepted as aliases of 0 and 1. */
enum {
	KVM_HTTP_REQUEST = 0,  /* the request's headers */
	KVM_HTTP_RESPONSE = 1, /* the response being built */
};

/* ------------------------------------------------------------------------------------------------------------
 * The API calls. Call numbers are part of the ABI and must never change.
 * ------------------------------------------------------------------------------------------------------------ */

#define KVM_CALL_REGISTER_FUNC 0x10000
#define KVM_CALL_WAIT_FOR_REQUESTS 0x10001
#define KVM_CALL_WAIT_FOR_REQUESTS_PAUSED 0x10002
#define KVM_CALL_SET_CACHEABLE 0x10005
#define KVM_CALL_BACKEND_RESPONSE 0x10010
#define KVM_CALL_HTTP_APPEND 0x10020
#define KVM_CALL_HTTP_SET 0x10021
#define KVM_CALL_HTTP_FIND 0x10022
#define KVM_CALL_HTTP_METHOD 0x10023
#define KVM_CALL_GET_MEMINFO 0x10A00
#define KVM_CALL_LOG 0x7F000
#define KVM_CALL_IS_DEBUG 0x7FDEB
#define KVM_CALL_BREAKPOINT 0x7F7F7

/* Registers a handler; `which` is a KVM_HANDLER_* value. Call during initialisation, before wait_for_requests().
 * Registering again replaces the previous handler. Prefer the typed kvm_set_*_handler() helpers below. */
void register_func(int which, void *fn);

/* Ends initialisation. The host freezes the VM here and never returns from this call in request mode: each
 * request enters its handler from the frozen state. Requires at least a POST, GET or generic handler. */
void wait_for_requests(void);

/* Event-loop style instead of handlers: the VM pauses here; each request resumes the program, returning with
 * *req filled in. The program answers with sys_backend_response() and calls this again. */
void wait_for_requests_paused(struct kvm_request *req);

/* Caching hints for the current response (milliseconds). Returns 0 on success, negative errno otherwise. Only the
 * low byte of `cached` is meaningful. */
long sys_set_cacheable(bool cached, long ttl_ms, long grace_ms, long keep_ms);

/* Sends the response and ends the request; it never returns. status is an HTTP status (only its low 16 bits are
 * read); ctype/body are byte ranges (no NUL needed); extra may be NULL. The host copies the bytes out of guest
 * memory before the VM is reset. */
__attribute__((noreturn)) void sys_backend_response(int16_t status, const void *ctype, size_t ctype_len,
                                                    const void *body, size_t body_len,
                                                    const struct BackendResponseExtra *extra);

/* Adds the header "Name: value" (field[0..len)) to `where`. Returns 0 on success, negative errno otherwise. */
long sys_http_append(int where, const char *field, size_t len);

/* Sets or replaces the header "Name: value"; a bare "Name" removes it. Returns 0 or negative errno. */
long sys_http_set(int where, const char *field, size_t len);

/* Copies the value of header `key` (without "Name: " and without a NUL) into out and returns its length.
 * Returns 0 when the header is absent or out is too small; with out == NULL returns the value's length. */
unsigned sys_http_find(int where, const char *key, size_t key_len, char *out, size_t out_len);

/* Copies the request method ("GET", "POST"...) into out (no NUL) and returns its length; with out == NULL
 * returns the needed length. */
unsigned long sys_http_method(char *out, size_t out_len);

/* Fills *out with the memory limits and usage of this VM. */
void get_meminfo(struct meminfo *out);

/* Writes one log line (text[0..len), no newline needed) to the host's log for this program. */
void sys_log(const char *text, size_t len);

/* Returns 1 when the program runs in debug mode (KVM_DEBUG=1), 0 otherwise. */
int sys_is_debug(void);

/* A debugger breakpoint; a no-op without an attached debugger. */
void sys_breakpoint(void);

#ifndef KVM_API_NO_DEFINITIONS
/* Where API calls go. Under kvmfilter the host names a page in KVMFILTER_API_PAGE: a 4-byte store of the call
 * number there leaves the VM in one step, which is much cheaper than `out` on hosts without hardware
 * virtualization (about 25 us against 40 us per call there). Elsewhere (the TinyKVM VMOD) the variable is absent and
 * calls use `out`. Weak and hidden: one copy per program, whatever the number of translation units. */
__attribute__((weak, visibility("hidden"))) uintptr_t kvm_api_page_address;

__attribute__((constructor)) static void kvm_api_find_page(void)
{
#ifdef KVM_API_OUT_ONLY /* define it to make every call as under the TinyKVM VMOD, e.g. to test that path */
	const char *page = NULL;
#else
	const char *page = getenv("KVMFILTER_API_PAGE");
#endif
	uintptr_t addr = page ? (uintptr_t)strtoull(page, NULL, 16) : 0;
	kvm_api_page_address = (addr & 0xfff) == 0 ? addr : 0;
}

/* Each API function: mov $NUMBER, %eax; then the store to the API page when there is one, else `out %eax, $0`
 * (bytes E7 00); ret. Arguments are already in the right registers by the normal calling convention; r11 is a
 * scratch register at a call. Weak so that every translation unit may carry a copy. */
#define KVM_API_DEFINE_CALL(name, number)                                                                        \
	".pushsection .text\n"                                                                                   \
	".weak " #name "\n"                                                                                      \
	".type " #name ", @function\n"                                                                           \
	".p2align 4\n" #name ":\n"                                                                               \
	"\tmovl $" #number ", %eax\n"                                                                            \
	"\tmovq kvm_api_page_address(%rip), %r11\n"                                                              \
	"\ttestq %r11, %r11\n"                                                                                   \
	"\tjnz 1f\n"                                                                                             \
	"\toutl %eax, $0\n"                                                                                      \
	"\tret\n"                                                                                                \
	"1:\tmovl %eax, (%r11)\n"                                                                                \
	"\tret\n"                                                                                                \
	".size " #name ", . - " #name "\n"                                                                       \
	".popsection\n"
__asm__(KVM_API_DEFINE_CALL(register_func, 0x10000)
        KVM_API_DEFINE_CALL(wait_for_requests, 0x10001)
        KVM_API_DEFINE_CALL(wait_for_requests_paused, 0x10002)
        KVM_API_DEFINE_CALL(sys_set_cacheable, 0x10005)
        KVM_API_DEFINE_CALL(sys_backend_response, 0x10010)
        KVM_API_DEFINE_CALL(sys_http_append, 0x10020)
        KVM_API_DEFINE_CALL(sys_http_set, 0x10021)
        KVM_API_DEFINE_CALL(sys_http_find, 0x10022)
        KVM_API_DEFINE_CALL(sys_http_method, 0x10023)
        KVM_API_DEFINE_CALL(get_meminfo, 0x10A00)
        KVM_API_DEFINE_CALL(sys_log, 0x7F000)
        KVM_API_DEFINE_CALL(sys_is_debug, 0x7FDEB)
        KVM_API_DEFINE_CALL(sys_breakpoint, 0x7F7F7));
#undef KVM_API_DEFINE_CALL
#endif

/* ------------------------------------------------------------------------------------------------------------
 * Convenience helpers (static inline: no symbols, nothing to link).
 * ------------------------------------------------------------------------------------------------------------ */

/* True when running inside a sandbox (the host sets KVM_NAME to the program's name). */
static inline bool kvm_is_sandboxed(void)
{
	return getenv("KVM_NAME") != NULL;
}

/* Typed handler registration (call before wait_for_requests()). __extension__ keeps -Wpedantic quiet about passing
 * a function pointer as void *, which the ABI requires. */
static inline void kvm_set_get_handler(kvm_get_handler fn)
{
	register_func(KVM_HANDLER_GET, __extension__(void *)fn);
}
static inline void kvm_set_post_handler(kvm_post_handler fn)
{
	register_func(KVM_HANDLER_POST, __extension__(void *)fn);
}
static inline void kvm_set_request_handler(kvm_request_handler fn)
{
	register_func(KVM_HANDLER_REQUEST, __extension__(void *)fn);
}
static inline void kvm_set_error_handler(kvm_error_handler fn)
{
	register_func(KVM_HANDLER_ERROR, __extension__(void *)fn);
}

/* Responds with status, a NUL-terminated content type and body[0..len); never returns. */
__attribute__((noreturn)) static inline void kvm_respond(int status, const char *content_type, const void *body,
                                                         size_t len)
{
	sys_backend_response((int16_t)status, content_type, strlen(content_type), body, len, NULL);
}

/* Responds with a NUL-terminated text body; never returns. */
__attribute__((noreturn)) static inline void kvm_respond_str(int status, const char *content_type, const char *text)
{
	kvm_respond(status, content_type, text, strlen(text));
}

/* Responds with extra response headers, each a NUL-terminated "Name: value" string; never returns. At most 32
 * headers are sent (the list is built on the stack); call sys_backend_response() directly for more. */
__attribute__((noreturn)) static inline void kvm_respond_with_headers(int status, const char *content_type,
                                                                      const void *body, size_t len,
                                                                      const char *const *headers,
                                                                      size_t num_headers)
{
	struct ResponseHeader list[32];
	struct BackendResponseExtra extra;
	size_t i;
	if (num_headers > sizeof(list) / sizeof(list[0]))
		num_headers = sizeof(list) / sizeof(list[0]);
	for (i = 0; i < num_headers; i++) {
		list[i].field = headers[i];
		list[i].field_len = strlen(headers[i]);
	}
	memset(&extra, 0, sizeof(extra));
	extra.headers = list;
	extra.num_headers = (uint16_t)num_headers;
	sys_backend_response((int16_t)status, content_type, strlen(content_type), body, len, &extra);
}

/* Adds a NUL-terminated "Name: value" header to the response. Returns 0 or negative errno. */
static inline long kvm_add_response_header(const char *field)
{
	return sys_http_append(KVM_HTTP_RESPONSE, field, strlen(field));
}

/* Logs a printf-style line: to the host log when sandboxed, to stderr natively. Longer lines are truncated at
 * 1 KiB. */
__attribute__((format(printf, 1, 2))) static inline void kvm_logf(const char *format, ...)
{
	char line[1024];
	va_list ap;
	int n;
	va_start(ap, format);
	n = vsnprintf(line, sizeof(line), format, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (kvm_is_sandboxed())
		sys_log(line, (size_t)n);
	else
		fprintf(stderr, "%.*s\n", n, line);
}

/* The vCPU number of the current request and the per-vCPU request id, read from the host's per-vCPU table at
 * %gs:0 and %gs:4. Sandboxed only. */
static inline uint32_t kvm_vcpuid(void)
{
	uint32_t id;
	__asm__ volatile("movl %%gs:0, %0" : "=r"(id));
	return id;
}
static inline uint32_t kvm_vcpureqid(void)
{
	uint32_t id;
	__asm__ volatile("movl %%gs:4, %0" : "=r"(id));
	return id;
}

#undef KVM_API_STATIC_ASSERT
#ifdef __cplusplus
}
#endif
#endif /* KVM_API_H */
