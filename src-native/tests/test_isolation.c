/*
 * test_isolation.c — reset: no request sees another's data (heap, .bss, stack, vector registers),
 * non-ephemeral programs keep their state until a failure, sys_make_ephemeral cannot make a program keep it
 * against its configuration, and reset cost follows dirtied pages.
 */
#include "harness.h"

static void secrets(const char *guest)
{
    kvmf_program *p = load_guest(guest, NULL, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    for (int round = 0; round < 3; round++) {
        struct result w = get(p, "secret-write");
        CHECK(w.error == KVMF_OK && !strcmp(w.body, "written"), "%s: secret-write: %s", guest, w.message);
        struct result r = get(p, "secret-read");
        CHECK(r.error == KVMF_OK && !strcmp(r.body, "found=0"), "%s: round %d: the next request saw the secret: %s",
              guest, round, r.body);
    }
    /* Pages written by two warm-up requests in a row stay writable ("hot", instance.c) for the requests
     * that follow: their writes are found by comparison with the frozen image, and must be undone just
     * the same. After 1 to 6 warm-up writes the pages are protected, just made hot or hot; warm-up
     * requests that leave them alone cool them down again. Client requests then write and read. */
    for (int writes = 1; writes <= 6; writes++) {
        for (int i = 0; i < writes; i++)
            CHECK(!strcmp(get_warmup(p, "secret-write").body, "written"), "%s: warm-up secret-write %d", guest, i);
        for (int i = 0; i < writes % 3; i++)
            CHECK(get_warmup(p, "ok").error == KVMF_OK, "%s: warm-up ok %d", guest, i);
        struct result r = get(p, "secret-read");
        CHECK(r.error == KVMF_OK && !strcmp(r.body, "found=0"), "%s: a read after %d warm-up writes saw the secret: %s",
              guest, writes, r.body);
        /* A refused access to the API page gives the instance a new VM, whose pages all start protected:
         * the hot set carries over and must still find the writes. */
        if (writes == 4)
            CHECK(get(p, "api-page-read").error == KVMF_BAD_API_CALL, "%s: a refused API page read", guest);
        for (int round = 0; round < 2; round++) {
            CHECK(!strcmp(get(p, "secret-write").body, "written"), "%s: secret-write after warm-up", guest);
            r = get(p, "secret-read");
            CHECK(r.error == KVMF_OK && !strcmp(r.body, "found=0"), "%s: a read after %d warm-up writes and a "
                  "client write saw the secret: %s", guest, writes, r.body);
        }
    }
    kvmf_program_destroy(p);
}

static void kept_state(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.ephemeral = 0;
    kvmf_program *p = load_guest("hostile", &c, NULL);
    CHECK(p != NULL, "non-ephemeral boot: %s", kvmf_last_error());
    if (!p)
        return;
    CHECK(!strcmp(get(p, "ok").body, "ok counter=1"), "first request");
    CHECK(!strcmp(get(p, "ok").body, "ok counter=2"), "state kept across requests");
    struct result w = get(p, "secret-write");
    struct result r = get(p, "secret-read");
    CHECK(w.error == KVMF_OK && strcmp(r.body, "found=0") != 0, "non-ephemeral keeps memory: %s", r.body);
    struct result crash = get(p, "null");
    CHECK(crash.error == KVMF_MEMORY_FAULT, "crash: %s", kvmf_error_name(crash.error));
    CHECK(!strcmp(get(p, "ok").body, "ok counter=1"), "a failure resets the instance to the frozen state");
    kvmf_program_destroy(p);

    kvmf_config_defaults(&c);
    p = load_guest("counter", &c, NULL);
    for (int i = 0; i < 3; i++)
        CHECK(!strcmp(get(p, "0").body, "count=1"), "ephemeral: every request starts from the frozen state");
    kvmf_program_destroy(p);
}

/* sys_make_ephemeral: a program may choose to be reset after every request, but may keep state between
 * requests only when its configuration allows it (ephemeral = 0). */
static void make_ephemeral(void)
{
    static const char *want[] = {"MAKE_EPHEMERAL=0", "MAKE_EPHEMERAL=1", "MAKE_EPHEMERAL=0"};
    const uint64_t allowed[] = {1, 0, 0}; /* config.ephemeral */
    const char *expect[][3] = {
        {"count=1 make=-1", "count=1 make=-1", "count=1 make=-1"}, /* refused: stays ephemeral */
        {"count=1 make=0", "count=1 make=0", "count=1 make=0"},    /* the program asked for resets */
        {"count=1 make=0", "count=2 make=0", "count=3 make=0"},    /* allowed: state kept */
    };
    for (int k = 0; k < 3; k++) {
        struct kvmf_config c;
        kvmf_config_defaults(&c);
        c.ephemeral = allowed[k];
        c.environment = want[k];
        c.environment_len = strlen(want[k]) + 1;
        kvmf_program *p = load_guest("counter", &c, NULL);
        CHECK(p != NULL, "counter with %s boots: %s", want[k], kvmf_last_error());
        if (!p)
            continue;
        if (k == 0)
            CHECK(strstr(kvmf_program_boot_log(p), "sys_make_ephemeral(0) refused") != NULL, "the refusal is "
                  "logged: %s", kvmf_program_boot_log(p));
        for (int i = 0; i < 3; i++) {
            struct result r = get(p, "0");
            CHECK(!strcmp(r.body, expect[k][i]), "%s, ephemeral=%llu, request %d: %s", want[k],
                  (unsigned long long)allowed[k], i + 1, r.body);
        }
        CHECK(!strcmp(get(p, "again").body, "again=-1"), "sys_make_ephemeral during a request is refused");
        kvmf_program_destroy(p);
    }
}

static void dirty_pages_counted(void)
{
    kvmf_program *p = load_guest("counter", NULL, NULL);
    if (!p)
        return;
    struct result small = get(p, "1"), large = get(p, "1000");
    CHECK(small.dirty_pages >= 1 && small.dirty_pages < 40, "1 page written: %llu dirty", small.dirty_pages);
    CHECK(large.dirty_pages >= 1000 && large.dirty_pages < 1040, "1000 pages written: %llu dirty", large.dirty_pages);
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.resets == 2 && s.invocations == 2, "resets %llu invocations %llu", (unsigned long long)s.resets,
          (unsigned long long)s.invocations);
    kvmf_program_destroy(p);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

/* An idle instance gives back the private copies of the pages its requests wrote, and then serves from
 * the frozen state as before; a busy, recently used or kept instance keeps them. */
static void idle_instances_give_memory_back(void)
{
    kvmf_program *p = load_guest("counter", NULL, NULL);
    if (!p)
        return;
    CHECK(!strcmp(get(p, "4096").body, "count=1"), "a request writing 16 MiB");
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.instance_bytes >= (4096ULL << 12) && s.instance_bytes < (4200ULL << 12),
          "the instance holds what it wrote: %llu bytes", (unsigned long long)s.instance_bytes);
    uint64_t trimmed = 1;
    CHECK(kvmf_program_trim(p, 60000, &trimmed) == KVMF_OK && trimmed == 0, "an instance used just now is kept: %llu",
          (unsigned long long)trimmed);
    long before = rss_kib();
    CHECK(kvmf_program_trim(p, 0, &trimmed) == KVMF_OK && trimmed == s.instance_bytes,
          "an idle instance gives back all it held: %llu of %llu", (unsigned long long)trimmed,
          (unsigned long long)s.instance_bytes);
    long given = before - rss_kib();
    CHECK(given >= 12 * 1024, "the process's resident memory fell by %ld KiB", given);
    kvmf_program_stats(p, &s);
    CHECK(s.instance_bytes == 0 && s.trimmed_bytes == trimmed, "statistics after the trim: %llu held, %llu trimmed",
          (unsigned long long)s.instance_bytes, (unsigned long long)s.trimmed_bytes);
    for (int i = 0; i < 3; i++)
        CHECK(!strcmp(get(p, i == 1 ? "4096" : "3").body, "count=1"), "after a trim, requests start from the frozen "
              "state");
    kvmf_program_destroy(p);

    /* Trimmed between a write and a read: still no trace of the write. */
    p = load_guest("hostile", NULL, NULL);
    CHECK(!strcmp(get(p, "secret-write").body, "written"), "secret-write before a trim");
    kvmf_program_trim(p, 0, NULL);
    CHECK(!strcmp(get(p, "secret-read").body, "found=0"), "a read after a trim finds no secret");
    kvmf_program_destroy(p);

    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.ephemeral = 0;
    p = load_guest("counter", &c, NULL);
    get(p, "100");
    CHECK(kvmf_program_trim(p, 0, &trimmed) == KVMF_OK && trimmed == 0, "a kept instance's memory is its state");
    CHECK(!strcmp(get(p, "0").body, "count=2"), "and survives a trim");
    kvmf_program_destroy(p);
}

/* Memory a request frees is memory it can use again: a request is charged for what it holds at its
 * peak, not for the sum of what it ever mapped. */
static void freed_memory_is_reusable(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_memory = 64 << 20;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    /* 2,000 x 256 KiB = 500 MiB allocated and freed, 256 KiB held at any time. */
    struct result churn = get(p, "churn:2000:256");
    CHECK(churn.error == KVMF_OK && !strncmp(churn.body, "ok ", 3), "%s: malloc/free 256 KiB 2000 times within a "
          "64 MiB limit: %s %s %s", guest, kvmf_error_name(churn.error), churn.body, churn.message);
    CHECK(churn.dirty_pages < 1024, "%s: the churn wrote %llu pages (it holds 64 at a time)", guest,
          churn.dirty_pages);
    struct result peak = get(p, "peak:40");
    unsigned long long current = 0, upper = 0;
    CHECK(peak.error == KVMF_OK && sscanf(peak.body, "%llu %llu", &current, &upper) == 2,
          "%s: meminfo after a 40 MiB map and unmap: %s %s", guest, peak.body, peak.message);
    CHECK(upper >= (40ULL << 20) && current < (1ULL << 20), "%s: get_meminfo reports the peak (%llu) and what is held "
          "now (%llu)", guest, upper, current);
    struct result twice = get(p, "peak:40");
    CHECK(twice.error == KVMF_OK, "%s: the next request has its whole limit again: %s", guest, twice.message);
    /* madvise is advice the host does nothing with: the guest's stub answers it without an exit. */
    struct result advice = get(p, "madvise:1000");
    CHECK(advice.error == KVMF_OK && !strcmp(advice.body, "ok") && advice.exits < 20,
          "%s: 2000 madvise calls answered in the guest, registers and flags kept: %s %s, %llu exits", guest,
          advice.body, advice.message, advice.exits);
    kvmf_program_destroy(p);
}

/* A kept (non-ephemeral) instance must give each request's input back, or its memory runs out. */
static void kept_instance_reuses_input_memory(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.ephemeral = 0;
    c.max_memory = 64 << 20;
    kvmf_program *p = load_guest("hello", &c, NULL);
    if (!p)
        return;
    static char body[1 << 20];
    memset(body, 'b', sizeof body);
    int failures = 0;
    for (int i = 0; i < 200; i++) {
        kvmf_instance *in;
        kvmf_program_acquire(p, 1000, &in);
        struct result r = run_on(in, "POST", "", body, sizeof body, NULL);
        if (r.error != KVMF_OK || r.body_len != sizeof body)
            failures++;
        kvmf_instance_release(in);
    }
    CHECK(failures == 0, "200 POSTs of 1 MiB on a kept instance with 64 MiB of memory: %d failed", failures);
    kvmf_program_destroy(p);
}

void test_isolation(void)
{
    secrets("hostile");
    secrets("hostile-musl");
    kept_state();
    dirty_pages_counted();
    kept_instance_reuses_input_memory();
    idle_instances_give_memory_back();
    freed_memory_is_reusable("alloc");
    freed_memory_is_reusable("alloc-musl");
    make_ephemeral();
}
