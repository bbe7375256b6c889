/*
 * hostile — a program that misbehaves on request. GET with arg = the misbehaviour; "ok" answers
 * normally. The test suite checks that each one is classified, the host survives, the same
 * instance then serves "ok", and no data crosses from one request to the next.
 */
#define _GNU_SOURCE
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The misbehaviour is the point: silence the warnings that spot it. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Warray-bounds"

/* The sandbox's API page (layout.h): only 4-byte stores of a call number are API calls. */
#define API_PAGE 0xff000UL

static char secret_area[4096];          /* in .bss: part of the frozen image */
static volatile int counter;            /* survives requests only when not ephemeral */

static int recurse(int depth)
{
    volatile char pad[4096];
    pad[0] = (char)depth;
    return recurse(depth + 1) + pad[0];
}

static void fill_pages(size_t bytes)
{
    static volatile char big[96 << 20]; /* 96 MiB of .bss: dirtying it costs no allocation */
    for (size_t i = 0; i < bytes && i < sizeof big; i += 4096)
        big[i] = 1;
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[512] = "";
    if (!strcmp(arg, "ok")) {
        snprintf(text, sizeof text, "ok counter=%d", ++counter);
        respond_text(200, text);
    } else if (!strcmp(arg, "loop")) {
        for (;;)
            __asm__ volatile("");
    } else if (!strcmp(arg, "null")) {
        *(volatile int *)0 = 1;
    } else if (!strcmp(arg, "wild")) {
        *(volatile int *)0x7fffdeadbeefULL = 1;
    } else if (!strcmp(arg, "write-code")) {
        *(volatile unsigned char *)(void *)on_get = 0xc3;
    } else if (!strcmp(arg, "exec-data")) {
        static unsigned char code[] = {0xc3};
        ((void (*)(void))(void *)code)();
    } else if (!strcmp(arg, "exec-stack")) {
        unsigned char code[] = {0xc3};
        ((void (*)(void))(void *)code)();
    } else if (!strcmp(arg, "stack-overflow")) {
        recurse(0);
    } else if (!strcmp(arg, "alloc-past-limit")) {
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p) {
                respond_text(500, "malloc returned NULL");
                return;
            }
            memset(p, 1, 1 << 20);
        }
    } else if (!strcmp(arg, "alloc-crash")) {
        for (;;)
            memset(malloc(1 << 20), 1, 1 << 20); /* crashes on the NULL malloc gives back */
    } else if (!strcmp(arg, "dirty-past-limit")) {
        fill_pages(24 << 20);
        respond_text(200, "dirtied 24 MiB");
    } else if (!strcmp(arg, "hlt")) {
        __asm__ volatile("hlt");
    } else if (!strcmp(arg, "cli")) {
        __asm__ volatile("cli");
    } else if (!strcmp(arg, "wrmsr")) {
        __asm__ volatile("wrmsr" ::"c"(0xc0000100), "a"(0), "d"(0));
    } else if (!strcmp(arg, "mov-cr3")) {
        __asm__ volatile("mov %0, %%cr3" ::"r"(0x1000UL));
    } else if (!strcmp(arg, "in")) {
        unsigned char v;
        __asm__ volatile("inb $0x60, %0" : "=a"(v));
    } else if (!strcmp(arg, "out-port")) {
        __asm__ volatile("outb %%al, $0x80" ::"a"(0));
    } else if (!strcmp(arg, "out-port0-byte")) {
        __asm__ volatile("outb %%al, $0" ::"a"(0x10010));
    } else if (!strcmp(arg, "out-port0-dx")) {
        __asm__ volatile("outl %%eax, %%dx" ::"a"(0x10010), "d"(0));
    } else if (!strcmp(arg, "in-port0")) {
        unsigned v;
        __asm__ volatile("inl $0, %0" : "=a"(v));
    } else if (!strcmp(arg, "outs-port0")) {
        static const unsigned words[2] = {0x10010, 0x10010};
        __asm__ volatile("outsl" : : "S"(words), "d"(0) : "memory");
    } else if (!strcmp(arg, "int3")) {
        __asm__ volatile("int3");
    } else if (!strcmp(arg, "ud2")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(arg, "div0")) {
        int quotient;
        __asm__ volatile("xor %%edx, %%edx\n\tdivl %1" : "=a"(quotient) : "r"(0), "a"(100) : "rdx");
        snprintf(text, sizeof text, "%d", quotient);
        respond_text(200, text);
    } else if (!strcmp(arg, "syscall-bad-ptr")) {
        long a = syscall(SYS_write, 1, (void *)0x7fffffff0000ULL, 10);
        long b = syscall(SYS_write, 1, (void *)0x1000, 10);             /* the sandbox's own area */
        long c = syscall(SYS_write, 1, text, 1UL << 62);                /* huge length */
        long d = syscall(SYS_getrandom, (void *)0xffff800000000000ULL, 16, 0);
        long e = syscall(SYS_clock_gettime, 0, (void *)0x10);
        /* Each must fail with EFAULT (-1 from syscall()), and the program goes on. */
        snprintf(text, sizeof text, "%ld %ld %ld %ld %ld errno=%d", a, b, c, d, e, errno);
        respond_text(200, text);
    } else if (!strcmp(arg, "api-bad-ptr")) {
        sys_backend_response(200, "text/plain", 10, (void *)0xffff800000001000ULL, 100, NULL);
    } else if (!strcmp(arg, "api-huge-len")) {
        sys_backend_response(200, "text/plain", 10, text, 1ULL << 60, NULL);
    } else if (!strcmp(arg, "api-bad-header")) {
        sys_http_append(1, (const char *)0x2000, 16);
    } else if (!strcmp(arg, "big-response")) {
        size_t n = 12 << 20; /* more than the suite's max_response_size */
        char *p = malloc(n);
        memset(p, 'x', n);
        respond(200, "text/plain", p, n);
    } else if (!strcmp(arg, "no-response")) {
        return;
    } else if (!strcmp(arg, "exit")) {
        exit(3);
    } else if (!strcmp(arg, "abort")) {
        abort();
    } else if (!strcmp(arg, "secret-write")) {
        /* Leave a secret in the heap, in .bss, on the stack and in a vector register. */
        char *heap = malloc(64);
        strcpy(heap, "SECRET-heap");
        strcpy(secret_area, "SECRET-bss");
        volatile char stack[64];
        strcpy((char *)stack, "SECRET-stack");
        __asm__ volatile("vpcmpeqd %%ymm7, %%ymm7, %%ymm7" ::: "xmm7");
        respond_text(200, "written");
    } else if (!strcmp(arg, "secret-read")) {
        /* Look for any trace of the secret where the previous request left it. */
        char *heap = malloc(64);
        volatile char stack[64];
        int found = 0;
        if (memmem(heap, 64, "SECRET", 6) || memmem(secret_area, sizeof secret_area, "SECRET", 6) ||
            memmem((const char *)stack, 64, "SECRET", 6))
            found = 1;
        unsigned long long upper[4] = {0};
        __asm__ volatile("vextracti128 $1, %%ymm7, %%xmm0\n\tvmovdqu %%xmm0, %0" : "=m"(upper) : : "xmm0");
        if (upper[0] || upper[1])
            found |= 2;
        snprintf(text, sizeof text, "found=%d", found);
        respond_text(200, text);
    } else if (!strcmp(arg, "set-fs")) {
        /* Move the thread pointer mid-request (as a threading runtime would), use TLS through it,
         * then move it back: FS must follow arch_prctl exactly. */
        unsigned long fs = 0, moved = 0;
        static unsigned long fake_tcb[64];
        syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs);
        /* A copy of the real thread control block (libc reads its stack canary there, even inside
         * syscall()), pointing at itself as x86-64 TLS requires. */
        memcpy(fake_tcb, (const void *)fs, sizeof fake_tcb);
        fake_tcb[0] = (unsigned long)fake_tcb;
        syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, (unsigned long)fake_tcb);
        __asm__ volatile("mov %%fs:0, %0" : "=r"(moved));
        syscall(SYS_arch_prctl, 0x1002, fs);
        errno = 0;
        char *p = malloc(100); /* glibc's malloc uses TLS: it crashes if FS were wrong */
        snprintf(text, sizeof text, "fs-moved=%d restored=%d", moved == (unsigned long)fake_tcb, p != NULL);
        respond_text(200, text);
    } else if (!strcmp(arg, "api-page-read")) {
        (void)*(volatile uint32_t *)API_PAGE;
    } else if (!strcmp(arg, "api-page-wide")) {
        *(volatile uint64_t *)API_PAGE = 0x10010;
    } else if (!strcmp(arg, "api-page-offset")) {
        *(volatile uint32_t *)(API_PAGE + 8) = 0x10010;
    } else if (!strcmp(arg, "api-page-rep-store")) {
        void *dst = (void *)API_PAGE;
        size_t n = 4096;
        __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0x10) : "memory");
    } else if (!strcmp(arg, "api-page-rep-load")) {
        const void *src = (const void *)API_PAGE;
        void *dst = text;
        size_t n = sizeof text;
        __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    } else if (!strcmp(arg, "api-page-avx")) {
        __asm__ volatile("vpxor %%xmm0, %%xmm0, %%xmm0\n\tvmovdqu %%ymm0, (%0)" : : "r"(API_PAGE) : "xmm0", "memory");
    } else if (!strcmp(arg, "unknown-call")) {
        snprintf(text, sizeof text, "%ld", sys_unknown_call(1));
        respond_text(200, text);
    } else {
        respond_text(400, "unknown misbehaviour");
    }
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
