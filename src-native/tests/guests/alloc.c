/*
 * alloc — memory churn as real programs make it. GET with arg:
 *   churn:N:KIB   N times: malloc KIB KiB, write all of it, free it; answers "ok <sum>"
 *   meminfo       answers the request's memory use as get_meminfo() reports it: "<current> <peak>"
 *   peak:MIB      map MIB MiB with mmap, write it, unmap it, then answer meminfo
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
