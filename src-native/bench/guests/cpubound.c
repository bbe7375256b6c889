/*
 * cpubound — the same computation inside the sandbox (GET, arg = iterations) and natively
 * (`cpubound ITERATIONS` without KVM_NAME), to compare their speed; with 0 iterations natively it
 * is the cheapest possible process, to compare request cost against process start-up.
 */
#define ABI_IMPLEMENTATION
#include "../../tests/guests/abi.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A mix of integer and floating-point work that the compiler cannot fold away. */
static uint64_t work(long iterations)
{
    uint64_t x = 88172645463325252ULL;
    double acc = 0;
    for (long i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += (double)(x & 0xffff) * 1e-3;
    }
    return x ^ (uint64_t)acc;
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[64];
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)work(atol(arg)));
    respond(200, "text/plain", text, (size_t)n);
}

int main(int argc, char **argv)
{
    if (!getenv("KVM_NAME")) {
        printf("%llu\n", (unsigned long long)work(argc > 1 ? atol(argv[1]) : 0));
        return 0;
    }
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
