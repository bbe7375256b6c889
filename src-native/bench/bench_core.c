/*
 * bench_core — measures the sandbox core through its C API and prints a Markdown table:
 * empty GET round trip, reset cost by dirtied pages, instance creation, boot, CPU-bound speed
 * against the same binary run natively, and request cost against starting a process.
 * Usage: bench_core GUEST_DIR (with empty, counter, hello from tests and cpubound from bench).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "../include/kvmfilter.h"

extern char **environ;
static const char *dir;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp);
    return (double)v[(size_t)(p * (double)(n - 1))] / 1000.0;
}

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_core: missing %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(*len);
    if (fread(data, 1, *len, f) != *len)
        exit(1);
    fclose(f);
    return data;
}

static kvmf_program *program_in(const char *name, uint64_t concurrency, uint64_t request_memory)
{
    size_t len;
    char *elf = load(name, &len);
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.concurrency = concurrency;
    if (request_memory)
        c.max_request_memory = request_memory;
    c.max_request_time_ms = 60000;
    kvmf_program *p;
    if (kvmf_program_create(name, elf, len, &c, &p) != KVMF_OK) {
        fprintf(stderr, "bench_core: %s: %s\n", name, kvmf_last_error());
        exit(1);
    }
    free(elf);
    return p;
}

static kvmf_program *program(const char *name, uint64_t concurrency)
{
    return program_in(name, concurrency, 0);
}

static uint64_t spawn_native(const char *name, const char *arg);

/* Allocation-heavy work (issue #14) in 64 MiB of request memory against the same binary natively: the p50 of 5
 * of each, and the exits one request takes (each memory system call the libc makes is one). */
static void allocation(const char *guest, const char *arg, const char *what)
{
    kvmf_program *p = program_in(guest, 1, 64ULL << 20);
    uint64_t inside[5], native[5], exits = 0;
    for (int i = 0; i < 5; i++) {
        kvmf_instance *in;
        struct kvmf_response r;
        kvmf_program_acquire(p, 1000, &in);
        uint64_t t0 = now_ns();
        int rc = kvmf_instance_run(in, "GET", "/", arg, NULL, NULL, 0, NULL, 0, 0, &r);
        inside[i] = now_ns() - t0;
        exits = r.exits;
        if (rc != KVMF_OK || r.status != 200) {
            printf("| %s (%s), sandbox / native | fails in 64 MiB of request memory: %s %s |\n", what, guest,
                   kvmf_error_name(rc), r.error_message);
            kvmf_instance_release(in);
            kvmf_program_destroy(p);
            return;
        }
        kvmf_instance_release(in);
        native[i] = spawn_native(guest, arg);
    }
    double in50 = pct(inside, 5, 0.5), nat50 = pct(native, 5, 0.5);
    printf("| %s (%s), sandbox request / native process | %.1f ms / %.1f ms = %.2f, %llu exits per request |\n", what,
           guest, in50 / 1000, nat50 / 1000, in50 / nat50, (unsigned long long)exits);
    kvmf_program_destroy(p);
}

/* Runs `n` GETs with `arg` on one instance; fills run (request) and reset (release) times. */
static void measure_flagged(kvmf_program *p, const char *arg, int n, uint64_t *run, uint64_t *reset, uint64_t flags)
{
    kvmf_instance *in;
    struct kvmf_response r;
    for (int i = 0; i < n; i++) {
        kvmf_program_acquire(p, 1000, &in);
        uint64_t t0 = now_ns();
        if (kvmf_instance_run(in, "GET", "/", arg, NULL, NULL, 0, NULL, 0, flags, &r) != KVMF_OK) {
            fprintf(stderr, "bench_core: request failed: %s\n", r.error_message);
            exit(1);
        }
        uint64_t t1 = now_ns();
        kvmf_instance_release(in);
        uint64_t t2 = now_ns();
        if (run)
            run[i] = t1 - t0;
        if (reset)
            reset[i] = t2 - t1;
    }
}

static void measure(kvmf_program *p, const char *arg, int n, uint64_t *run, uint64_t *reset)
{
    measure_flagged(p, arg, n, run, reset, 0);
}

/* Warm-up requests, as the Java binding makes them when a program has warmup_requests: the instance
 * learns which pages stay writable (hot pages, instance.c), and touches each page once. */
static void warm_up(kvmf_program *p, const char *arg, int n)
{
    measure_flagged(p, arg, n, NULL, NULL, KVMF_RUN_WARMUP);
}

static uint64_t spawn_native(const char *name, const char *arg)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *argv[] = {path, (char *)arg, NULL};
    char *envp[] = {"LC_ALL=C", NULL};
    uint64_t t0 = now_ns();
    pid_t pid;
    int status;
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn(&pid, path, &quiet, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&quiet);
    waitpid(pid, &status, 0);
    return now_ns() - t0;
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : "build/bench/guests";
    if (kvmf_check_kvm() != KVMF_OK) {
        fprintf(stderr, "bench_core: %s\n", kvmf_last_error());
        return 1;
    }
    enum { N = 3000 };
    static uint64_t run[N], reset[N];
    printf("| measurement | result |\n|---|---|\n");

    /* The empty GET, with the response call made as TinyKVM programs make it (`out`, which faults
     * into the stub) and through the API page (our SDK's path). */
    const char *empties[] = {"empty", "empty-page"};
    const char *paths[] = {"`out` (TinyKVM ABI)", "the API page (kvmfilter SDK)"};
    for (int k = 0; k < 2; k++) {
        kvmf_program *empty = program(empties[k], 1);
        warm_up(empty, "", 200);
        measure(empty, "", N, run, reset);
        printf("| empty GET round trip through the C API, response via %s | p50 %.1f µs, p99 %.1f µs |\n", paths[k],
               pct(run, N, 0.5), pct(run, N, 0.99));
        if (k == 0)
            printf("| reset after the empty GET | p50 %.1f µs |\n", pct(reset, N, 0.5));
        kvmf_program_destroy(empty);
    }
    /* Without warm-up requests an instance has no hot pages: every page a request writes costs a
     * write-protection fault (the price of a hot set no client request can influence). */
    kvmf_program *cold = program("empty-page", 1);
    measure(cold, "", 200, NULL, NULL);
    measure(cold, "", N, run, reset);
    printf("| the same without warm-up requests (no hot pages) | p50 %.1f µs, p99 %.1f µs |\n", pct(run, N, 0.5),
           pct(run, N, 0.99));
    kvmf_program_destroy(cold);

    kvmf_program *counter = program("counter", 1);
    const int pages[] = {1, 16, 256, 4096};
    for (int k = 0; k < 4; k++) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", pages[k]);
        int n = pages[k] >= 4096 ? 100 : 500;
        measure(counter, arg, 20, NULL, NULL);
        measure(counter, arg, n, NULL, reset);
        printf("| reset after dirtying %d page%s | p50 %.1f µs |\n", pages[k], pages[k] > 1 ? "s" : "",
               pct(reset, (size_t)n, 0.5));
    }
    kvmf_program_destroy(counter);

    size_t len;
    char *elf = load("hello", &len);
    uint64_t boots[20], creates[20];
    for (int i = 0; i < 20; i++) {
        struct kvmf_config c;
        kvmf_config_defaults(&c);
        c.concurrency = 4;
        kvmf_program *p;
        uint64_t t0 = now_ns();
        kvmf_program_create("hello", elf, len, &c, &p);
        uint64_t t1 = now_ns();
        kvmf_program_prepare_instances(p);
        uint64_t t2 = now_ns();
        boots[i] = t1 - t0;
        creates[i] = (t2 - t1) / 4;
        kvmf_program_destroy(p);
    }
    free(elf);
    printf("| boot of a glibc program (hello) to wait_for_requests | p50 %.0f µs |\n", pct(boots, 20, 0.5));
    printf("| instance creation | p50 %.0f µs |\n", pct(creates, 20, 0.5));

    /* CPU-bound: the same binary, same work, in the sandbox and natively. */
    kvmf_program *cpu = program("cpubound", 1);
    const char *iterations = "100000000";
    uint64_t inside[5], native[5];
    warm_up(cpu, "1000", 5);
    for (int i = 0; i < 5; i++) {
        measure(cpu, iterations, 1, &inside[i], NULL);
        native[i] = spawn_native("cpubound", iterations);
    }
    double in50 = pct(inside, 5, 0.5), nat50 = pct(native, 5, 0.5);
    printf("| CPU-bound guest (1e8 xorshift rounds): sandbox / native | %.1f ms / %.1f ms = %.3f |\n", in50 / 1000,
           nat50 / 1000, in50 / nat50);
    kvmf_program_destroy(cpu);

    allocation("allocloop-musl", "big:2000:262144", "2000 x malloc/write/free of 256 KiB");
    allocation("allocloop", "big:2000:262144", "2000 x malloc/write/free of 256 KiB");
    allocation("allocloop", "mixed:200000", "200000 allocations of 16 B to 64 KiB, 256 live");
    allocation("allocloop-musl", "mixed:200000", "200000 allocations of 16 B to 64 KiB, 256 live");

    /* Per-request cost against a process: the same program (cpubound with no work) answering one
     * request in the sandbox, request + reset, and started natively as a process. */
    uint64_t starts[200];
    for (int i = 0; i < 200; i++)
        starts[i] = spawn_native("cpubound", "0");
    double start50 = pct(starts, 200, 0.5);
    const char *cheap[] = {"cpubound", "cpubound-page"};
    for (int k = 0; k < 2; k++) {
        kvmf_program *p = program(cheap[k], 1);
        warm_up(p, "0", 200);
        measure(p, "0", N, run, reset);
        for (int i = 0; i < N; i++)
            run[i] += reset[i];
        double request50 = pct(run, N, 0.5);
        printf("| request + reset (p50), response via %s, against starting the same program as a process (p50) | "
               "%.1f µs vs %.0f µs = %.1fx cheaper |\n", paths[k], request50, start50, start50 / request50);
        kvmf_program_destroy(p);
    }
    return 0;
}
