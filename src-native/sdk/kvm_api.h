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
#endif

#if !defined(__x86_64__)
#error "kvm_api.h: kvmfilter guest programs are x86-64 only"
#endif

/* The ABI itself (call numbers, handler numbers, the structures shared with the host and their checked layouts)
 * is in kvm_abi.h, next to this file, which the sandbox core includes too. */
#include "kvm_abi.h"

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

/* ------------------------------------------------------------------------------------------------------------
 * The API calls (their numbers, KVM_CALL_*, are in kvm_abi.h).
 * ------------------------------------------------------------------------------------------------------------ */


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

/* A streamed response: the status, content type and body length now (set the headers before), then the body piece
 * by piece from `cb`, which the host calls in this VM (the handler's stack and state intact) as
 * cb(arg, max, written, content_length) until content_length bytes are written; each call returns 1 to max bytes
 * (0 means stalled, and fails the response). Never returns. */
typedef struct streaming_content (*kvm_stream_callback)(void *arg, size_t max, size_t written, size_t total);
__attribute__((noreturn)) void begin_streaming_response(int16_t status, const void *ctype, size_t ctype_len,
                                                        size_t content_length, kvm_stream_callback cb,
                                                        const void *arg);

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

/* During initialisation: 1 makes every request start from the frozen state (the default); 0 keeps a request's
 * memory for the next one, which only a program library that says "ephemeral": false allows (-EPERM otherwise,
 * logged). Returns 0 or negative errno; -EPERM during a request. */
int sys_make_ephemeral(int ephemeral);

/* Regular expressions (PCRE2 syntax), compiled and matched by the host. A pattern compiled during initialisation
 * can be used by every request; one compiled during a request lasts until that request ends. Returns a handle
 * (0 or more), -EINVAL for an invalid pattern (the reason goes to the log), -EMFILE when 64 are compiled. */
int sys_regex_compile(const char *pattern, size_t len);

/* Frees a pattern this run compiled (a request cannot free one compiled during initialisation). */
void sys_regex_free(int handle);

/* Offset of the first match in subject[0..len), -1 when there is none, negative errno on an error (-E2BIG when
 * the match took more steps than the host allows). */
int sys_regex_match(int handle, const char *subject, size_t len);

/* Writes `subject` (a NUL-terminated string) to dst as a NUL-terminated string with its first match replaced by
 * `subst`, or every match when flags has bit 0 (KVM_REGEX_ALL); \0 to \9 in subst stand for the match and its
 * groups. Returns the length written (without the NUL), -ENOSPC when it does not fit in dst_len, or negative
 * errno. */
long sys_regex_subst(int handle, const char *subject, const char *subst, char *dst, size_t dst_len, int flags);
#define KVM_REGEX_ALL 1

/* Appends every header of set `from` whose "Name: value" matches to set `to`; returns how many, or negative
 * errno. */
int sys_regex_copyto(int handle, int from, int to);

/* The program's shared memory area ("shared_memory" in the library, in MiB): one block mapped at the same address
 * into every VM of the program, never reset, so a write by one request is seen at once by every other and survives
 * it (use atomic operations: requests run in parallel). {0, 0} when the program has none. */
struct shared_memory_info shared_memory_area(void);

/* Storage ("storage": true in the library): a second, long-lived instance of the same program that holds mutable
 * state. It boots first, with KVM_TYPE=storage (sys_is_storage() answers 1 there), and keeps its memory from call
 * to call; request VMs call functions in it, one call at a time. A crash or timeout in storage fails the call (and
 * the request) and storage starts again from the state it booted into. */
typedef void (*storage_func)(size_t n, struct virtbuffer buffers[], size_t res);
typedef void (*storage_task_func)(void *data, size_t len);

/* 1 inside storage, 0 in a request VM. */
int sys_is_storage(void);

/* During initialisation: lets request VMs call `fn` in storage. Once any function is listed, only listed functions
 * may be called (a call of another fails the request); with none listed, every function may. */
long sys_storage_allow(void (*fn)(void));

/* From a request VM: copies the n buffers into storage, runs fn(n, copies, res = dst_len) there and copies what it
 * hands to storage_return() (at most dst_len bytes) into dst. Returns that length, or negative errno (-EDEADLK
 * when storage calls itself, -ENOSYS without storage). */
long storage_callv(storage_func fn, size_t n, const struct virtbuffer buffers[], void *dst, size_t dst_len);

/* Inside a storage function: hands `data` back to the caller; the function then runs on to its end (destructors
 * and frees run) before storage serves anyone else. */
void storage_return(const void *data, size_t len);

/* The same, but the function ends here: it never resumes. */
__attribute__((noreturn)) void storage_noreturn(const void *data, size_t len);

/* Queues fn(copy of data, len) to run in storage: as soon as storage is free (start_ms and period_ms 0), after
 * start_ms, or every period_ms. Returns the task's id (above 0), or negative errno (-EAGAIN when 256 are queued). */
long sys_storage_task(storage_task_func fn, const void *data, size_t len, uint64_t start_ms, uint64_t period_ms);

/* Unqueues a task: 1 when it was queued (it will not run again), 0 when there is no such task. */
long stop_storage_task(long id);

/* Fills *out with the memory limits and usage of this VM. */
void get_meminfo(struct meminfo *out);

/* An outbound HTTP request (GET, or POST when op->post_buffer is set) to url[0..url_len), with extra header lines
 * in *fields (may be NULL) and options in *opts (may be NULL). On 0, *op holds the status, Content-Type, header
 * lines and body (mapped into the program's memory, counted against the request's). Non-zero (negative errno) when
 * the host refused or could not make it: -EPERM when the program may not fetch that URL (or fetch at all),
 * -ETIMEDOUT, -EFBIG when the answer would not fit the request's memory, -EIO for other failures. */
long sys_fetch(const char *url, size_t url_len, struct curl_op *op, struct curl_fields *fields,
               struct curl_options *opts);

/* As sys_fetch, to the server itself: url is a path of the same web application. */
long sys_request(const char *url, size_t url_len, struct curl_op *op, struct curl_fields *fields,
                 struct curl_options *opts);

/* Connection takeover (the VMOD's steal()), in the socket handler (register_func(KVM_HANDLER_SOCKET_PREPARE, fn),
 * see kvm_set_socket_handler) that the host calls when it hands this VM a client connection. The VM pauses here
 * until the next events; returns how many of ev[0..n) it filled in (SOCKET_CONNECT first, then SOCKET_READ with the
 * client's bytes, SOCKET_WRITABLE, and SOCKET_DISCONNECT last). Data and strings stay valid until the next call. */
int wait_for_socket_events_paused(struct kvm_socket_event *ev, size_t n);

/* Writes each entry's data to its connection, in order; an entry whose event is SOCKET_DISCONNECT closes the
 * connection after its data. write(fd, ...) on an event's fd does the same for one piece, close(fd) closes. */
void sys_sockets_write(const struct kvm_socket_event *ev, size_t n);

/* Multiprocessing (the VMOD's): n counts every vCPU, the caller's (vcpuid() 0) included, 2 to 16; each call answers
 * 0, or -1 (with the reason in the request's log). multiprocess runs fn(arg) in workers 1 .. n-1;
 * multiprocess_array runs fn(i, array, element_size) in worker i; multiprocess_clone makes workers 1 .. n-1 go on
 * from the call itself, worker i on the i-th of n stacks of stack_size bytes at stack_base, with the caller's
 * registers but RSP (and RAX: 0), so the code after it must not use the caller's stack frame; a clone worker ends at
 * its multiprocess_wait(). multiprocess_wait() returns once every worker has ended (a worker's function returned).
 * Under kvmfilter the workers take turns on one CPU: the same results, not the VMOD's parallel speed. */
long multiprocess(size_t n, void (*fn)(void *), void *arg);
long multiprocess_array(size_t n, void (*fn)(int, void *array, size_t element_size), void *array, size_t element_size);
long multiprocess_clone(size_t n, void *stack_base, size_t stack_size);
long multiprocess_wait(void);

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
#define KVM_API_STRING(x) #x
#define KVM_API_NUMBER(x) KVM_API_STRING(x)
#define KVM_API_DEFINE_CALL(name, number)                                                                        \
	".pushsection .text\n"                                                                                   \
	".weak " #name "\n"                                                                                      \
	".type " #name ", @function\n"                                                                           \
	".p2align 4\n" #name ":\n"                                                                               \
	"\tmovl $" KVM_API_NUMBER(number) ", %eax\n"                                                            \
	"\tmovq kvm_api_page_address(%rip), %r11\n"                                                              \
	"\ttestq %r11, %r11\n"                                                                                   \
	"\tjnz 1f\n"                                                                                             \
	"\toutl %eax, $0\n"                                                                                      \
	"\tret\n"                                                                                                \
	"1:\tmovl %eax, (%r11)\n"                                                                                \
	"\tret\n"                                                                                                \
	".size " #name ", . - " #name "\n"                                                                       \
	".popsection\n"
__asm__(KVM_API_DEFINE_CALL(register_func, KVM_CALL_REGISTER_FUNC)
        KVM_API_DEFINE_CALL(wait_for_requests, KVM_CALL_WAIT_FOR_REQUESTS)
        KVM_API_DEFINE_CALL(wait_for_requests_paused, KVM_CALL_WAIT_FOR_REQUESTS_PAUSED)
        KVM_API_DEFINE_CALL(wait_for_socket_events_paused, KVM_CALL_WAIT_FOR_REQUESTS_PAUSED)
        KVM_API_DEFINE_CALL(sys_sockets_write, KVM_CALL_SOCKETS_WRITE)
        KVM_API_DEFINE_CALL(sys_set_cacheable, KVM_CALL_SET_CACHEABLE)
        KVM_API_DEFINE_CALL(sys_backend_response, KVM_CALL_BACKEND_RESPONSE)
        KVM_API_DEFINE_CALL(begin_streaming_response, KVM_CALL_BEGIN_STREAMING_RESPONSE)
        KVM_API_DEFINE_CALL(sys_http_append, KVM_CALL_HTTP_APPEND)
        KVM_API_DEFINE_CALL(sys_http_set, KVM_CALL_HTTP_SET)
        KVM_API_DEFINE_CALL(sys_http_find, KVM_CALL_HTTP_FIND)
        KVM_API_DEFINE_CALL(sys_http_method, KVM_CALL_HTTP_METHOD)
        KVM_API_DEFINE_CALL(shared_memory_area, KVM_CALL_SHARED_MEMORY_AREA)
        KVM_API_DEFINE_CALL(sys_make_ephemeral, KVM_CALL_MAKE_EPHEMERAL)
        KVM_API_DEFINE_CALL(sys_is_storage, KVM_CALL_IS_STORAGE)
        KVM_API_DEFINE_CALL(sys_storage_allow, KVM_CALL_STORAGE_ALLOW)
        KVM_API_DEFINE_CALL(storage_callv, KVM_CALL_STORAGE_CALLV)
        KVM_API_DEFINE_CALL(storage_return, KVM_CALL_STORAGE_RETURN)
        KVM_API_DEFINE_CALL(storage_noreturn, KVM_CALL_STORAGE_NORETURN)
        KVM_API_DEFINE_CALL(sys_storage_task, KVM_CALL_STORAGE_TASK)
        KVM_API_DEFINE_CALL(stop_storage_task, KVM_CALL_STOP_STORAGE_TASK)
        KVM_API_DEFINE_CALL(sys_regex_compile, KVM_CALL_REGEX_COMPILE)
        KVM_API_DEFINE_CALL(sys_regex_free, KVM_CALL_REGEX_FREE)
        KVM_API_DEFINE_CALL(sys_regex_match, KVM_CALL_REGEX_MATCH)
        KVM_API_DEFINE_CALL(sys_regex_subst, KVM_CALL_REGEX_SUBST)
        KVM_API_DEFINE_CALL(sys_regex_copyto, KVM_CALL_REGEX_COPYTO)
        KVM_API_DEFINE_CALL(get_meminfo, KVM_CALL_GET_MEMINFO)
        KVM_API_DEFINE_CALL(sys_fetch, KVM_CALL_FETCH)
        KVM_API_DEFINE_CALL(sys_request, KVM_CALL_SELF_REQUEST)
        KVM_API_DEFINE_CALL(multiprocess, KVM_CALL_MULTIPROCESS)
        KVM_API_DEFINE_CALL(multiprocess_array, KVM_CALL_MULTIPROCESS_ARRAY)
        KVM_API_DEFINE_CALL(multiprocess_clone, KVM_CALL_MULTIPROCESS_CLONE)
        KVM_API_DEFINE_CALL(multiprocess_wait, KVM_CALL_MULTIPROCESS_WAIT)
        KVM_API_DEFINE_CALL(sys_log, KVM_CALL_LOG)
        KVM_API_DEFINE_CALL(sys_is_debug, KVM_CALL_IS_DEBUG)
        KVM_API_DEFINE_CALL(sys_breakpoint, KVM_CALL_BREAKPOINT));
#undef KVM_API_DEFINE_CALL
#undef KVM_API_NUMBER
#undef KVM_API_STRING
#endif

/* ------------------------------------------------------------------------------------------------------------
 * Convenience helpers (static inline: no symbols, nothing to link).
 * ------------------------------------------------------------------------------------------------------------ */

/* Carves `size` bytes aligned to `align` (a power of two) out of the shared memory area; NULL when it is full or
 * absent. Call it during initialisation: what a request carves is forgotten with the request (the area's contents
 * stay, the carving position does not). */
static inline void *kvm_shared_alloc(size_t size, size_t align)
{
	static uint64_t next, end;
	if (next == 0) {
		struct shared_memory_info area = shared_memory_area();
		next = area.ptr;
		end = area.end;
	}
	uint64_t at = (next + (align - 1)) & ~(uint64_t)(align - 1);
	if (next == 0 || at < next || at > end || size > end - at)
		return NULL;
	next = at + size;
	return (void *)(uintptr_t)at;
}

/* storage_callv with one buffer. */
static inline long kvm_storage_call(storage_func fn, const void *data, size_t len, void *dst, size_t dst_len)
{
	struct virtbuffer one = {data, len};
	return storage_callv(fn, 1, &one, dst, dst_len);
}

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
/* The handler of taken-over connections (the VMOD's set_socket_prepare_for_pause); it loops on
 * wait_for_socket_events_paused() and never needs to return (returning closes the connection). */
static inline void kvm_set_socket_handler(void (*fn)(int thread))
{
	register_func(KVM_HANDLER_SOCKET_PREPARE, __extension__(void *)fn);
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

#ifdef __cplusplus
}
#endif
#endif /* KVM_API_H */
