/*
 * test_shared.c — the shared memory area (shared_memory_area, 0x10700): one block of memory in every VM
 * of a program, never reset; writes racing from many request VMs all land; its edges fault; host calls
 * take pointers into it; a program without one gets {0, 0}.
 */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"

#define THREADS 4
#define COUNTS_PER_THREAD 100

struct counting {
    kvmf_program *program;
    long values[COUNTS_PER_THREAD];
    int failures;
};

static void *count_many(void *arg)
{
    struct counting *c = arg;
    for (int i = 0; i < COUNTS_PER_THREAD; i++) {
        struct result r = get(c->program, "count");
        if (r.error != KVMF_OK || r.status != 200)
            c->failures++;
        c->values[i] = atol(r.body);
    }
    return NULL;
}

static int compare_longs(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void no_area(void)
{
    kvmf_program *p = load_guest("shared", NULL, NULL);
    CHECK(p != NULL, "shared boots without an area: %s", kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "area");
    CHECK(!strcmp(r.body, "ptr=0x0 end=0x0"), "no area: {0, 0}: %s", r.body);
    kvmf_program_destroy(p);
}

static void racing_counter(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.shared_memory = (2ULL << 20) + 4096; /* 2 MiB pages and a 4 KiB tail */
    c.concurrency = THREADS;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots with a shared area: %s", guest, kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "area");
    char expect[100];
    unsigned long long start = c.max_memory + (2ULL << 20);
    snprintf(expect, sizeof expect, "ptr=0x%llx end=0x%llx", start, start + c.shared_memory);
    CHECK(!strcmp(r.body, expect), "%s: the area lies above max_memory after a 2 MiB gap: \"%s\", expected \"%s\"",
          guest, r.body, expect);
    r = get(p, "mark");
    CHECK(!strcmp(r.body, "written at boot"), "%s: what boot wrote is in the area: %s", guest, r.body);

    struct counting counts[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        counts[i] = (struct counting){.program = p};
        pthread_create(&threads[i], NULL, count_many, &counts[i]);
    }
    long all[THREADS * COUNTS_PER_THREAD];
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += counts[i].failures;
        memcpy(all + i * COUNTS_PER_THREAD, counts[i].values, sizeof counts[i].values);
    }
    qsort(all, THREADS * COUNTS_PER_THREAD, sizeof all[0], compare_longs);
    int wrong = 0;
    for (int i = 0; i < THREADS * COUNTS_PER_THREAD; i++)
        wrong += all[i] != i + 1;
    CHECK(failures == 0 && wrong == 0, "%s: %d increments from %d VMs at once: every value 1..%d once (%d failed, "
          "%d wrong)", guest, THREADS * COUNTS_PER_THREAD, THREADS, THREADS * COUNTS_PER_THREAD, failures, wrong);

    r = get(p, "private");
    struct result again = get(p, "private");
    CHECK(!strcmp(r.body, "1") && !strcmp(again.body, "1"), "%s: private memory is still reset: %s, %s", guest,
          r.body, again.body);
    r = get(p, "body");
    CHECK(r.status == 200 && !strcmp(r.body, "from the shared area"), "%s: a body in the area is answered: %s",
          guest, r.body);
    r = get(p, "log");
    CHECK(strstr(r.log, "logged from the shared area") != NULL, "%s: sys_log of text in the area: \"%s\"", guest,
          r.log);
    r = get(p, "past-end");
    CHECK(r.error == KVMF_MEMORY_FAULT, "%s: a write past the area's end faults: %s %s", guest,
          kvmf_error_name(r.error), r.message);
    r = get(p, "below");
    CHECK(r.error == KVMF_MEMORY_FAULT, "%s: a write into the gap below the area faults: %s %s", guest,
          kvmf_error_name(r.error), r.message);
    r = get(p, "count");
    snprintf(expect, sizeof expect, "%d", THREADS * COUNTS_PER_THREAD + 1);
    CHECK(!strcmp(r.body, expect), "%s: the failed requests' resets left the area alone: %s, expected %s", guest,
          r.body, expect);
    kvmf_program_destroy(p);
}

static void bad_sizes(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.shared_memory = 1000;
    int rc;
    kvmf_program *p = load_guest("shared", &c, &rc);
    CHECK(p == NULL && rc == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), "shared_memory = 1000") &&
              strstr(kvmf_last_error(), "allowed"),
          "shared_memory of 1000 bytes is refused, naming the setting: %s", kvmf_last_error());
    kvmf_program_destroy(p);
}

void test_shared(void)
{
    no_area();
    racing_counter("shared");
    racing_counter("shared-musl");
    bad_sizes();
}
