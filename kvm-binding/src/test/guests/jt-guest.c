/*
 * jt-guest: the test program of the kvm-binding tests. A freestanding static x86-64 ELF (no libc), so it
 * depends only on the guest ABI (docs/guest-abi.md), not on how much of Linux the core emulates.
 * Each request's behaviour is chosen by its argument:
 *   ""/other     GET: 200 text/plain "<url>|<arg>"; POST: 200 <input type> "<body>|<arg>"
 *   status:N     answer status N            header:H     add response header H, then the default answer
 *   ctype:T      answer with content type T count        the number of requests this instance ran
 *   work:N       N million busy iterations, then the default answer
 *   argv         the main arguments joined by ' '       env:NAME   the value of NAME
 *   log:TEXT     sys_log TEXT and write it to stdout, then the default answer
 *   version      "v<GUEST_VERSION>"          input        POST: "<content type>;<length>"
 *   spin         loop forever (TIMEOUT)     fault        write to address 8 (MEMORY_FAULT)
 *   ud2          invalid opcode (CPU_EXCEPTION)          exit   exit_group(3) (PROGRAM_EXIT)
 *   none         return without answering (NO_RESPONSE) badcall answer with a wild pointer (BAD_API_CALL)
 *   oom:N        map and touch N MiB; when the map is refused, use the NULL pointer as a program would
 *   dirty:N      write N MiB of the program's static memory   big:N  answer N KiB of 'x'
 *   cacheable:C  sys_set_cacheable(C, 5000, 1000, 2000), then the default answer (C is 0 or 1)
 * Main arguments: fail-boot (exit before wait_for_requests), spin-boot (never reach it), on-error
 * (register an on_error handler answering 200 "recovered: <exception>"), generic (register the generic
 * request handler instead, answering "<method> <url> arg=<arg> body=<length> headers=<h1>;<h2>;...
 * warmups=<warm-up requests this instance saw>").
 */
#include <stddef.h>
#include <stdint.h>

#ifndef GUEST_VERSION
#define GUEST_VERSION 1
#endif

/* API calls: mov $number, %eax; out %eax, $0; ret (the VMOD ABI). */
#define API_CALL(name, number) \
    __asm__(".global " #name "\n.type " #name ", @function\n" #name ":\n\tmov $" #number ", %eax\n\tout %eax, $0\n\tret\n")
API_CALL(register_func, 0x10000);
API_CALL(wait_for_requests, 0x10001);
API_CALL(sys_backend_response, 0x10010);
API_CALL(sys_http_append, 0x10020);
API_CALL(sys_set_cacheable, 0x10005);
API_CALL(sys_log, 0x7F000);

void register_func(int which, void *fn);
void wait_for_requests(void);
__attribute__((noreturn)) void sys_backend_response(int16_t status, const void *ctype, size_t ctype_len,
                                                    const void *body, size_t body_len, const void *extra);
long sys_http_append(int where, const char *field, size_t len);
long sys_set_cacheable(int cached, long ttl_ms, long grace_ms, long keep_ms);
void sys_log(const char *text, size_t len);

static long linux_syscall(long number, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The compiler may emit calls to these even when freestanding. */
void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

static size_t length(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix) {
        if (*s++ != *prefix++) return 0;
    }
    return 1;
}

static long parse_number(const char *s)
{
    long n = 0;
    while (*s >= '0' && *s <= '9') n = n * 10 + (*s++ - '0');
    return n;
}

static char out[1 << 16];
static size_t out_len;

static void put(const void *data, size_t len)
{
    const char *p = data;
    for (size_t i = 0; i < len && out_len < sizeof out; i++) out[out_len++] = p[i];
}

static void put_string(const char *s) { put(s, length(s)); }

static void put_number(unsigned long n)
{
    char digits[24];
    int i = 0;
    do { digits[i++] = (char)('0' + n % 10); n /= 10; } while (n);
    while (i) put(&digits[--i], 1);
}

/* Static memory for dirty:N (zero until a request writes it). */
static volatile char scratch[16 << 20];

static int argc_saved;
static char **argv_saved;
static char **envp_saved;
static unsigned long requests;

static __attribute__((noreturn)) void answer(int status, const char *ctype)
{
    sys_backend_response((int16_t)status, ctype, length(ctype), out, out_len, NULL);
}

static void *fresh_memory(unsigned long bytes)
{
    long p = linux_syscall(9 /* mmap */, 0, (long)bytes, 3 /* PROT_READ|PROT_WRITE */,
                           0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

/* Behaviours shared by GET and POST; returns only for the default answer. */
static void special(const char *arg)
{
    if (starts_with(arg, "status:")) {
        long status = parse_number(arg + 7);
        put_string("status ");
        put_number((unsigned long)status);
        answer((int)status, "text/plain");
    } else if (starts_with(arg, "header:")) {
        sys_http_append(1, arg + 7, length(arg + 7));
    } else if (starts_with(arg, "cacheable:")) {
        sys_set_cacheable((int)parse_number(arg + 10), 5000, 1000, 2000);
    } else if (starts_with(arg, "count")) {
        put_number(requests);
        answer(200, "text/plain");
    } else if (starts_with(arg, "work:")) {
        volatile unsigned long sink = 0;
        unsigned long n = (unsigned long)parse_number(arg + 5) * 1000000UL;
        for (unsigned long i = 0; i < n; i++) sink += i;
    } else if (starts_with(arg, "argv")) {
        for (int i = 0; i < argc_saved; i++) {
            if (i) put_string(" ");
            put_string(argv_saved[i]);
        }
        answer(200, "text/plain");
    } else if (starts_with(arg, "env:")) {
        const char *name = arg + 4;
        size_t n = length(name);
        for (char **e = envp_saved; e && *e; e++) {
            if (starts_with(*e, name) && (*e)[n] == '=') put_string(*e + n + 1);
        }
        answer(200, "text/plain");
    } else if (starts_with(arg, "log:")) {
        sys_log(arg + 4, length(arg + 4));
        linux_syscall(1 /* write */, 1, (long)(arg + 4), (long)length(arg + 4), 0, 0, 0);
    } else if (starts_with(arg, "version")) {
        put_string("v");
        put_number(GUEST_VERSION);
        answer(200, "text/plain");
    } else if (starts_with(arg, "spin")) {
        for (;;) __asm__ volatile("" ::: "memory");
    } else if (starts_with(arg, "fault")) {
        volatile int *volatile wild = (volatile int *)8;
        *wild = 1;
    } else if (starts_with(arg, "ud2")) {
        __asm__ volatile("ud2");
    } else if (starts_with(arg, "exit")) {
        linux_syscall(231 /* exit_group */, 3, 0, 0, 0, 0, 0);
    } else if (starts_with(arg, "none")) {
        __asm__ volatile("" ::: "memory");
    } else if (starts_with(arg, "badcall")) {
        sys_backend_response(200, "text/plain", 10, (const void *)0x7ff0deadbeef000UL, 100, NULL);
    } else if (starts_with(arg, "oom:")) {
        unsigned long bytes = (unsigned long)parse_number(arg + 4) << 20;
        volatile char *p = fresh_memory(bytes);
        if (!p) {
            /* What a C program does with a NULL from malloc: crash on it. */
            volatile char *volatile null = NULL;
            *null = 1;
        }
        for (unsigned long i = 0; i < bytes; i += 4096) p[i] = 1;
        put_string("touched");
        answer(200, "text/plain");
    } else if (starts_with(arg, "dirty:")) {
        unsigned long bytes = (unsigned long)parse_number(arg + 6) << 20;
        if (bytes > sizeof scratch) bytes = sizeof scratch;
        for (unsigned long i = 0; i < bytes; i += 4096) scratch[i] = 1;
        put_string("dirtied");
        answer(200, "text/plain");
    } else if (starts_with(arg, "big:")) {
        unsigned long bytes = (unsigned long)parse_number(arg + 4) << 10;
        char *p = fresh_memory(bytes ? bytes : 1);
        if (!p) {
            put_string("mmap failed");
            answer(507, "text/plain");
        }
        memset(p, 'x', bytes);
        sys_backend_response(200, "text/plain", 10, p, bytes, NULL);
    }
}

static const char *content_type_of(const char *arg, const char *fallback)
{
    return starts_with(arg, "ctype:") ? arg + 6 : fallback;
}

static void on_get(const char *url, const char *arg)
{
    requests++;
    out_len = 0;
    special(arg);
    if (starts_with(arg, "none") || starts_with(arg, "fault") || starts_with(arg, "ud2")) return;
    put_string(url);
    put_string("|");
    put_string(arg);
    answer(200, content_type_of(arg, "text/plain"));
}

static void on_post(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len)
{
    (void)url;
    requests++;
    out_len = 0;
    if (starts_with(arg, "input")) {
        put_string(ctype);
        put_string(";");
        put_number(len);
        answer(200, "text/plain");
    }
    special(arg);
    if (starts_with(arg, "none") || starts_with(arg, "fault") || starts_with(arg, "ud2")) return;
    put(data, len);
    put_string("|");
    put_string(arg);
    answer(200, content_type_of(arg, ctype));
}

/* struct kvm_request of the guest ABI (offsets in docs/guest-abi.md). */
struct kvm_request_header {
    const char *field;
    uint32_t field_colon;
    uint32_t field_len;
};
struct kvm_request {
    const char *method, *url, *arg, *content_type;
    uint16_t method_len, url_len, arg_len, content_type_len;
    const uint8_t *content;
    size_t content_len;
    const struct kvm_request_header *headers;
    uint16_t num_headers;
    uint16_t info_flags;
    uint32_t reserved0;
    uint64_t prng[2];
    uint64_t reserved1[2];
};
_Static_assert(sizeof(struct kvm_request) == 104, "struct kvm_request is 104 bytes");

static unsigned long warmups;

static void on_request(const struct kvm_request *req)
{
    requests++;
    out_len = 0;
    if (req->info_flags & 0x1) {
        warmups++;
        answer(200, "text/plain");
    }
    put(req->method, req->method_len);
    put_string(" ");
    put(req->url, req->url_len);
    put_string(" arg=");
    put(req->arg, req->arg_len);
    put_string(" body=");
    put_number(req->content ? req->content_len : 0);
    put_string(" headers=");
    for (unsigned i = 0; i < req->num_headers; i++) {
        if (i) put_string(";");
        put(req->headers[i].field, req->headers[i].field_len);
    }
    put_string(" warmups=");
    put_number(warmups);
    answer(200, "text/plain");
}

static void on_error(const char *url, const char *arg, const char *exception)
{
    (void)url;
    (void)arg;
    out_len = 0;
    put_string("recovered: ");
    put_string(exception ? exception : "");
    answer(200, "text/plain");
}

__attribute__((used)) void guest_main(uint64_t *stack)
{
    argc_saved = (int)stack[0];
    argv_saved = (char **)(stack + 1);
    envp_saved = argv_saved + argc_saved + 1;
    for (int i = 1; i < argc_saved; i++) {
        if (starts_with(argv_saved[i], "fail-boot")) linux_syscall(231, 1, 0, 0, 0, 0, 0);
        if (starts_with(argv_saved[i], "spin-boot")) for (;;) __asm__ volatile("" ::: "memory");
        if (starts_with(argv_saved[i], "on-error")) register_func(5, (void *)on_error);
        if (starts_with(argv_saved[i], "generic")) register_func(3, (void *)on_request);
    }
    static const char hello[] = "jt-guest booting\n";
    linux_syscall(1 /* write */, 1, (long)hello, sizeof hello - 1, 0, 0, 0);
    register_func(1, (void *)on_get);
    register_func(2, (void *)on_post);
    wait_for_requests();
    linux_syscall(231, 0, 0, 0, 0, 0, 0);
}

__asm__(".global _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall guest_main\n\tud2\n");
