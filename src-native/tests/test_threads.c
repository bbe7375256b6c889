/*
 * test_threads.c — POSIX threads (glibc and musl) run one at a time on the vCPU: created, switched at their
 * futex waits, yields and exits, each with its own registers, thread-local storage and vector state; joined;
 * timed waits that nobody ends end at once; a deadlock fails the request by name; the limit on threads is an
 * error, not a crash; threads started during initialisation are there in every request, as they were frozen, and
 * those a request starts are gone after it.
 */
#include "harness.h"

static void threads(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 256ULL << 20;
    c.max_request_memory = 128ULL << 20;
    c.max_request_time_ms = 5000 * time_scale;
    c.concurrency = 1;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots with a thread started during initialisation: %s", guest, kvmf_last_error());
    if (!p)
        return;
    expect_answer(p, guest, "sum:1", "sum=5000050000 threads=1 tids=1");
    expect_answer(p, guest, "sum:8", "sum=5000050000 threads=8 tids=8");
    expect_answer(p, guest, "pingpong:1000", "rounds=1000");
    expect_answer(p, guest, "timedwait", "timedout");
    expect_answer(p, guest, "sleepwait", "woke after 2 sleeps"); /* it runs at the first, its wait ends at the second */
    expect_answer(p, guest, "tls", "tls ok");
    expect_answer(p, guest, "vector", "vector ok");
    expect_answer(p, guest, "exit", "joined 42");
    expect_answer(p, guest, "spin", "spun");
    expect_answer(p, guest, "netpoll", "event data=1234 read=1 timeout=0");
    expect_answer(p, guest, "worker:21", "worker=42");
    expect_answer(p, guest, "worker:5", "worker=10"); /* the worker as frozen again, not as the last request left it */
    expect_answer(p, guest, "leave", "left one");
    expect_answer(p, guest, "sum:4", "sum=5000050000 threads=4 tids=4");
    struct result r = get(p, "deadlock");
    CHECK(r.error == KVMF_NO_RESPONSE && strstr(r.message, "deadlock: all 3 threads wait"),
          "%s: a join that can never end fails the request as a deadlock: %s %s", guest, kvmf_error_name(r.error),
          r.message);
    char want[64];
    snprintf(want, sizeof want, "created=%d error=11", 64 - 2); /* THREADS_MAX, less the main thread and the worker */
    expect_answer(p, guest, "limit", want);
    expect_answer(p, guest, "worker:1", "worker=2");
    kvmf_program_destroy(p);
}

void test_threads(void)
{
    threads("threads");
    threads("threads-musl");
}
