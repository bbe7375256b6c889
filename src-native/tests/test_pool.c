/*
 * test_pool.c — instances under concurrent load: no lost or mixed-up responses, queue timeouts,
 * the wait-queue bound, eager creation, exact statistics, destroy while busy, and instances created
 * by several requests at once each in a slot of its own.
 */
#include <pthread.h>
#include <unistd.h>

#include "harness.h"

#define THREADS 4
#define REQUESTS 50

struct worker {
    kvmf_program *program;
    int id, wrong, failed;
    int delay_us; /* before the first request */
};

static void *work(void *arg)
{
    struct worker *w = arg;
    if (w->delay_us)
        usleep((useconds_t)w->delay_us);
    for (int i = 0; i < REQUESTS; i++) {
        char mine[32], expect[128];
        snprintf(mine, sizeof mine, "t%d-r%d", w->id, i);
        snprintf(expect, sizeof expect, "Hello from hello: url=/test arg=%s", mine);
        struct result r = get(w->program, mine);
        if (r.error != KVMF_OK)
            w->failed++;
        else if (strcmp(r.body, expect) != 0)
            w->wrong++;
    }
    return NULL;
}

static void concurrent(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.concurrency = 2;
    kvmf_program *p = load_guest("hello", &c, NULL);
    if (!p)
        return;
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){p, i, 0, 0, 0};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    int wrong = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        wrong += workers[i].wrong;
        failed += workers[i].failed;
    }
    CHECK(wrong == 0 && failed == 0, "%d responses mixed up, %d failed", wrong, failed);
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.invocations == THREADS * REQUESTS, "invocations %llu", (unsigned long long)s.invocations);
    CHECK(s.instances == 2 && s.instances_busy == 0, "instances %llu busy %llu", (unsigned long long)s.instances,
          (unsigned long long)s.instances_busy);
    CHECK(s.resets == THREADS * REQUESTS, "one reset per ephemeral request: %llu", (unsigned long long)s.resets);
    struct kvmf_instance_stats a, b;
    kvmf_instance_stats(p, 0, &a);
    kvmf_instance_stats(p, 1, &b);
    CHECK(a.invocations + b.invocations == THREADS * REQUESTS, "per-instance invocations add up");
    CHECK(kvmf_instance_stats(p, 2, &a) == KVMF_INVALID_ARGUMENT, "no instance 2");
    kvmf_program_destroy(p);
}

/* More requests than instances, from the first request on: several threads create instances at once, and one
 * that finishes first must not give a later creator a slot that another is still filling (an instance then
 * overwritten and lost from the statistics, a slot left empty, the pool one instance short for good). */
static void creation_under_contention(void)
{
    enum { ROUNDS = 16, CONTENDERS = 8, CONCURRENCY = 4 };
    int bad_rounds = 0;
    for (int round = 0; round < ROUNDS; round++) {
        struct kvmf_config c;
        kvmf_config_defaults(&c);
        c.concurrency = CONCURRENCY;
        kvmf_program *p = load_guest("hello", &c, NULL);
        if (!p)
            return;
        pthread_t threads[CONTENDERS];
        struct worker workers[CONTENDERS];
        for (int i = 0; i < CONTENDERS; i++) {
            /* Arrivals spread over about one creation time, differently each round: creations overlap and
             * finish out of order while more requests arrive. */
            workers[i] = (struct worker){p, i, 0, 0, i * (20 + 60 * round)};
            pthread_create(&threads[i], NULL, work, &workers[i]);
        }
        int wrong = 0, failed = 0;
        for (int i = 0; i < CONTENDERS; i++) {
            pthread_join(threads[i], NULL);
            wrong += workers[i].wrong;
            failed += workers[i].failed;
        }
        struct kvmf_program_stats s;
        kvmf_program_stats(p, &s);
        uint64_t counted = 0;
        bool readable = true;
        for (uint64_t i = 0; i < s.instances; i++) {
            struct kvmf_instance_stats one = {0};
            readable = readable && kvmf_instance_stats(p, i, &one) == KVMF_OK;
            counted += one.invocations;
        }
        if (wrong || failed || s.instances > CONCURRENCY || !readable || counted != s.invocations ||
            s.invocations != (uint64_t)CONTENDERS * REQUESTS) {
            bad_rounds++;
            printf("  round %d: %d mixed up, %d failed, %llu instances, each readable %d, invocations %llu, "
                   "per instance %llu\n", round, wrong, failed, (unsigned long long)s.instances, readable,
                   (unsigned long long)s.invocations, (unsigned long long)counted);
        }
        kvmf_program_destroy(p);
    }
    CHECK(bad_rounds == 0, "%d of %d rounds of %d threads creating %d instances lost one", bad_rounds, ROUNDS,
          CONTENDERS, CONCURRENCY);
}

static void queue_limits(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    kvmf_program *p = load_guest("hello", &c, NULL);
    if (!p)
        return;
    kvmf_instance *held = NULL, *other = NULL;
    CHECK(kvmf_program_acquire(p, 1000, &held) == KVMF_OK, "first acquire");
    int rc = kvmf_program_acquire(p, 50, &other);
    CHECK(rc == KVMF_QUEUE_TIMEOUT && other == NULL, "second acquire times out: %s", kvmf_error_name(rc));
    CHECK(strstr(kvmf_last_error(), "no instance became free within 50 ms") != NULL, "message: %s",
          kvmf_last_error());
    CHECK(kvmf_program_destroy(p) == KVMF_INVALID_ARGUMENT, "destroy refuses while an instance is acquired");
    kvmf_instance_release(held);
    CHECK(kvmf_program_acquire(p, 50, &other) == KVMF_OK, "acquire after release");
    kvmf_instance_release(other);
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.queue_waits == 1 && s.queue_timeouts == 1 && s.failures_by_kind[KVMF_QUEUE_TIMEOUT] == 1,
          "queue stats: waits %llu timeouts %llu", (unsigned long long)s.queue_waits,
          (unsigned long long)s.queue_timeouts);
    kvmf_program_destroy(p);

    c.max_queue = 0;
    c.concurrency = 3;
    p = load_guest("hello", &c, NULL);
    CHECK(kvmf_program_prepare_instances(p) == KVMF_OK, "eager creation");
    kvmf_program_stats(p, &s);
    CHECK(s.instances == 3, "3 instances created eagerly, got %llu", (unsigned long long)s.instances);
    kvmf_instance *all[3];
    for (int i = 0; i < 3; i++)
        kvmf_program_acquire(p, 100, &all[i]);
    rc = kvmf_program_acquire(p, 1000, &other);
    CHECK(rc == KVMF_QUEUE_TIMEOUT && strstr(kvmf_last_error(), "the wait queue is full (0 waiting, max_queue 0)"),
          "a full queue refuses at once: %s", kvmf_last_error());
    for (int i = 0; i < 3; i++)
        kvmf_instance_release(all[i]);
    kvmf_program_destroy(p);
}

void test_pool(void)
{
    concurrent();
    creation_under_contention();
    queue_limits();
}
