/*
 * alloc — memory churn as real programs make it. GET with arg:
 *   churn:N:KIB   N times: malloc KIB KiB, write all of it, free it; answers "ok <sum>"
 *   meminfo       answers the request's memory use as get_meminfo() reports it: "<current> <peak>"
 *   peak:MIB      map MIB MiB with mmap, write it, unmap it, then answer meminfo
 *   madvise:N     N madvise() calls as libc makes them and N raw `syscall`s of it, which the guest's ring-0 stub
 *                 answers itself: answers "ok" when each returned 0 and rdi, rsi, rdx, rbx, r12 and the
 *                 direction and carry flags came back as they were ("bad ..." otherwise)
 * musl's malloc maps and unmaps every large block; glibc's after a dynamic threshold keeps them on
 * its heap: both must run within a request memory limit far below the sum of what they allocate.
 */
#define _GNU_SOURCE
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void answer_meminfo(void)
{
    struct meminfo mi;
    get_meminfo(&mi);
    char text[64];
    snprintf(text, sizeof text, "%llu %llu", (unsigned long long)mi.reqmem_current,
             (unsigned long long)mi.reqmem_upper);
    respond_text(200, text);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[64];
    unsigned long n, kib;
    if (sscanf(arg, "churn:%lu:%lu", &n, &kib) == 2) {
        unsigned long sum = 0;
        for (unsigned long i = 0; i < n; i++) {
            volatile unsigned char *p = malloc(kib << 10);
            if (!p) {
                snprintf(text, sizeof text, "malloc failed at %lu", i);
                respond_text(500, text);
                return;
            }
            memset((void *)p, (int)(i & 0xff), kib << 10);
            sum += p[i % (kib << 10)];
            free((void *)p);
        }
        snprintf(text, sizeof text, "ok %lu", sum);
        respond_text(200, text);
    } else if (sscanf(arg, "peak:%lu", &n) == 1) {
        size_t len = n << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            respond_text(500, "mmap failed");
            return;
        }
        memset(p, 1, len);
        munmap(p, len);
        answer_meminfo();
    } else if (sscanf(arg, "madvise:%lu", &n) == 1) {
        static char page[4096] __attribute__((aligned(4096)));
        for (unsigned long i = 0; i < n; i++) {
            if (madvise(page, sizeof page, i % 2 ? MADV_FREE : MADV_DONTNEED) != 0) {
                respond_text(500, "bad: madvise failed");
                return;
            }
            long rc;
            unsigned long rdi = (unsigned long)page, rsi = sizeof page, rdx = MADV_FREE, rbx = 0x1111 + i,
                          r12 = 0x2222 + i, flags;
            register unsigned long r12_reg __asm__("r12") = r12;
            /* Carry set before the call: the syscall must give the program back its own flags. */
            __asm__ volatile("stc\n\tsyscall\n\tpushfq\n\tpopq %[flags]"
                             : "=a"(rc), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+b"(rbx), "+r"(r12_reg), [flags] "=r"(flags)
                             : "a"(28L)
                             : "rcx", "r11", "memory", "cc");
            if (rc != 0 || rdi != (unsigned long)page || rsi != sizeof page || rdx != MADV_FREE || rbx != 0x1111 + i ||
                r12_reg != r12 || !(flags & 1) || (flags & 0x400)) {
                snprintf(text, sizeof text, "bad: rc %ld flags %lx at %lu", rc, flags, i);
                respond_text(500, text);
                return;
            }
        }
        respond_text(200, "ok");
    } else if (!strcmp(arg, "meminfo")) {
        answer_meminfo();
    } else {
        respond_text(400, "unknown arg");
    }
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
