/*
 * allocloop — allocation-heavy work inside the sandbox (GET, arg) and natively (`allocloop ARG` without KVM_NAME),
 * to compare the cost of the memory system calls a libc makes. Built with glibc and with musl (-musl).
 *   big:N:SIZE   N times: malloc(SIZE), write it whole, free it (peak SIZE: the musl case of issue #14 is
 *                2000 x 256 KiB, which musl serves with an mmap and a munmap each)
 *   mixed:N      N allocations of 16 B to 64 KiB (a fixed pseudo-random sequence), written, with up to 256 live
 *                at once (each slot freed before it is reused): a glibc program that allocates a lot
 * Answers (and prints) a checksum, so the work cannot be left out.
 */
#define ABI_IMPLEMENTATION
#include "../../tests/guests/abi.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t big(long n, size_t size)
{
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        unsigned char *p = malloc(size);
        if (!p)
            return 0;
        memset(p, (int)(i & 0xff), size);
        sum += p[size / 2] + p[size - 1];
        free(p);
    }
    return sum;
}

static uint64_t mixed(long n)
{
    static unsigned char *live[256];
    uint64_t x = 0x9e3779b97f4a7c15ULL, sum = 0;
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t size = 16 + (size_t)(x % 65521);
        unsigned slot = (unsigned)(x >> 56);
        free(live[slot]);
        live[slot] = malloc(size);
        if (!live[slot])
            return 0;
        memset(live[slot], (int)(i & 0xff), size);
        sum += live[slot][size - 1];
    }
    for (unsigned s = 0; s < 256; s++) {
        free(live[s]);
        live[s] = NULL;
    }
    return sum;
}

static uint64_t work(const char *arg)
{
    long n = 0;
    unsigned long size = 0;
    if (sscanf(arg, "big:%ld:%lu", &n, &size) == 2)
        return big(n, size);
    if (sscanf(arg, "mixed:%ld", &n) == 1)
        return mixed(n);
    return 0;
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[64];
    uint64_t sum = work(arg);
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)sum);
    respond(sum ? 200 : 500, "text/plain", text, (size_t)n);
}

int main(int argc, char **argv)
{
    if (!getenv("KVM_NAME")) {
        printf("%llu\n", (unsigned long long)work(argc > 1 ? argv[1] : ""));
        return 0;
    }
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
