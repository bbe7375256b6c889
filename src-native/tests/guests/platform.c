/*
 * platform — requests whose cost or result depends on what the KVM host does (PVM or hardware
 * KVM), for test_platform.c. GET with arg:
 *   "calls N"     makes N cheap API calls (sys_is_debug), then responds: N + 1 API calls in all
 *   "syscalls N"  makes N getppid() system calls, then responds
 *   "cpu"         checks that what `cpuid` advertises is usable: XCR0 (xgetbv) enables every vector
 *                 state CPUID names, and AVX / AVX-512 instructions run when advertised
 * Built twice like the other guests: API calls through `out` (platform) and through the API page
 * (platform-page).
 */
#define _GNU_SOURCE
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void cpu_report(char *text, size_t cap)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    /* Libraries pick AVX code when CPUID says AVX and OSXSAVE; AVX-512 when AVX512F too. */
    int consistent = (!avx || (osxsave && (xcr0 & 6) == 6)) && (!avx512f || (xcr0 & 0xe6) == 0xe6);
    int ran = 0;
    if (consistent && avx && osxsave) {
        __asm__ volatile("vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n\tvpxor %%ymm1, %%ymm1, %%ymm1" ::: "xmm1");
        ran |= 1;
    }
    if (consistent && avx512f) {
        __asm__ volatile("vpternlogd $0xff, %%zmm2, %%zmm2, %%zmm2" ::: "xmm2");
        ran |= 2;
    }
    snprintf(text, cap, "avx=%d avx2=%d avx512f=%d osxsave=%d xcr0=0x%llx consistent=%d ran=%d", avx, avx2, avx512f,
             osxsave, xcr0, consistent, ran);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[256];
    long n = 0;
    if (sscanf(arg, "calls %ld", &n) == 1) {
        long debug = 0;
        for (long i = 0; i < n; i++)
            debug += sys_is_debug();
        snprintf(text, sizeof text, "calls=%ld debug=%ld", n, debug);
    } else if (sscanf(arg, "syscalls %ld", &n) == 1) {
        long ok = 0;
        for (long i = 0; i < n; i++)
            ok += syscall(SYS_getppid) >= 0;
        snprintf(text, sizeof text, "syscalls=%ld ok=%ld", n, ok);
    } else if (!strcmp(arg, "cpu")) {
        cpu_report(text, sizeof text);
    } else {
        snprintf(text, sizeof text, "unknown request \"%s\"", arg);
        respond_text(400, text);
        return;
    }
    respond_text(200, text);
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
