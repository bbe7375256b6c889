/*
 * boundary — a hostile program aimed at the host's own state rather than at guest memory (the
 * sandbox-boundary tests, test_boundary.c and kvm-binding's SandboxBoundaryTest). GET with
 * arg = the attempt:
 *   ok                 "handler=original" (the handler registered at boot)
 *   hijack             register_func(GET) during the request; answers "register_func=<result>"
 *   request-headers:N  append request headers of N bytes each until the host refuses
 *   request-count      append 16-byte request headers until the host refuses
 *   response-headers:N append response headers of N bytes each until the host refuses
 *   header-storm       add and replace request headers in a loop, forever (host work only)
 *   ctype:crlf|nul|long|tab   answer with a content type holding CR/LF, a NUL, 2000 bytes, a tab
 *   unsupported:N      call API number N (unsupported), then answer "called"
 *   extra-bytes        answer with a BackendResponseExtra whose `cached` byte is 0xff and ttl NaN
 *   prime              write every page of the probe area
 *   idle               write nothing
 *   victim:HEX         write the probe-area pages whose bit is set in the 64-bit mask HEX
 *   probe              time one write to each probe-area page; answers the mask of the fast ones
 */
#define _GNU_SOURCE
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

/* register_func with its result (abi.h declares it void, as the VMOD does). */
ABI_CALL(register_func_result, 0x10000);
long register_func_result(int which, void *fn);
/* A call with the number in the first argument: for unsupported numbers. */
__asm__(".global call_number\n.type call_number, @function\ncall_number:\n"
        "  mov %edi, %eax\n  out %eax, $0\n  ret\n");
long call_number(unsigned number);

#define PROBE_PAGES 64
/* In .bss, so part of the frozen image; page aligned so that bit i is exactly page i. */
static volatile char probe_area[PROBE_PAGES][4096] __attribute__((aligned(4096)));

/* A first write to a page that is write-protected costs a fault (thousands of cycles on any KVM);
 * to a writable page, tens. */
#define FAST_WRITE_CYCLES 1500

static void evil_get(const char *url, const char *arg)
{
    (void)url;
    (void)arg;
    respond_text(200, "handler=attacker");
}

static void append_until_refused(int where, size_t len)
{
    static char header[70000];
    if (len < 8 || len > sizeof header)
        len = 16;
    memset(header, 'a', len);
    memcpy(header, "X-Flood: ", 9 > len ? len : 9);
    for (long i = 0; i < 1000000; i++)
        if (sys_http_append(where, header, len) != 0)
            break;
    respond_text(200, "the host never refused");
}

static void header_storm(void)
{
    static const char h[] = "X-Storm: value";
    for (;;) {
        for (int i = 0; i < 900; i++)
            sys_http_append(0, h, sizeof h - 1);
        sys_http_set(0, h, sizeof h - 1); /* removes all 900 matches, adds one */
    }
}

static void answer_type(const char *which)
{
    static char type[2000];
    size_t len;
    if (!strcmp(which, "crlf")) {
        strcpy(type, "text/html\r\nSet-Cookie: a=b");
        len = strlen(type);
    } else if (!strcmp(which, "nul")) {
        memcpy(type, "text/plain\0x", 12);
        len = 12;
    } else if (!strcmp(which, "long")) {
        memset(type, 'a', sizeof type);
        memcpy(type, "text/", 5);
        len = sizeof type;
    } else {
        strcpy(type, "text/plain;\tcharset=utf-8");
        len = strlen(type);
    }
    sys_backend_response(200, type, len, "typed", 5, NULL);
}

static void probe(void)
{
    unsigned long long fast = 0;
    for (int i = 0; i < PROBE_PAGES; i++) {
        unsigned aux;
        unsigned long long t0 = __rdtscp(&aux);
        probe_area[i][128] = 1;
        unsigned long long t1 = __rdtscp(&aux);
        if (t1 - t0 < FAST_WRITE_CYCLES)
            fast |= 1ULL << i;
    }
    char text[32];
    snprintf(text, sizeof text, "%016llx", fast);
    respond_text(200, text);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[64];
    if (!strcmp(arg, "ok")) {
        respond_text(200, "handler=original");
    } else if (!strcmp(arg, "hijack")) {
        long rc = register_func_result(1, (void *)evil_get);
        snprintf(text, sizeof text, "register_func=%ld", rc);
        respond_text(200, text);
    } else if (!strncmp(arg, "request-headers:", 16)) {
        append_until_refused(0, strtoul(arg + 16, NULL, 10));
    } else if (!strcmp(arg, "request-count")) {
        append_until_refused(0, 16);
    } else if (!strncmp(arg, "response-headers:", 17)) {
        append_until_refused(1, strtoul(arg + 17, NULL, 10));
    } else if (!strcmp(arg, "header-storm")) {
        header_storm();
    } else if (!strncmp(arg, "ctype:", 6)) {
        answer_type(arg + 6);
    } else if (!strncmp(arg, "unsupported:", 12)) {
        call_number((unsigned)strtoul(arg + 12, NULL, 0));
        respond_text(200, "called");
    } else if (!strcmp(arg, "extra-bytes")) {
        struct BackendResponseExtra extra;
        memset(&extra, 0, sizeof extra);
        memset(&extra.cached, 0xff, 1); /* not a valid bool: the host must read it as a byte */
        extra.ttl = __builtin_nanf("");
        extra.grace = 1e30f;
        sys_backend_response(200, "text/plain", 10, "extra", 5, &extra);
    } else if (!strcmp(arg, "prime")) {
        for (int i = 0; i < PROBE_PAGES; i++)
            probe_area[i][0] = 1;
        respond_text(200, "primed");
    } else if (!strcmp(arg, "idle")) {
        respond_text(200, "idle");
    } else if (!strncmp(arg, "victim:", 7)) {
        unsigned long long mask = strtoull(arg + 7, NULL, 16);
        for (int i = 0; i < PROBE_PAGES; i++)
            if (mask >> i & 1)
                probe_area[i][64] = 2;
        respond_text(200, "victim");
    } else if (!strcmp(arg, "probe")) {
        probe();
    } else {
        respond_text(400, "unknown attempt");
    }
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
