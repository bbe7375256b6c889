/* multiprocess — the VMOD's multiprocess calls. GET arg:
 *   call      multiprocess(4, fn, &data): each vCPU adds up its quarter of 1..100000 into sums[vcpuid()], the caller
 *             its own; after multiprocess_wait: "total=5000050000 ids=0123"
 *   array     multiprocess_array(4, fn, squares, sizeof(int)): worker i writes i*i (and checks vcpuid() == i), the
 *             caller 0: "0 1 4 9 ok"
 *   clone     multiprocess_clone(4, stacks, 64 KiB): every vCPU goes on from the call and writes 100 + vcpuid():
 *             "100 101 102 103"
 *   again     two multiprocess calls one after the other: "again ok"
 *   refused   a second call while workers run, and n of 1 and 17: "-1 -1 -1", then the first still ends: "... ok"
 *   crash     a worker dereferences NULL: the request fails
 */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static char text[128];
static long sums[16];
static int ids_seen[16];

static void add_quarter(void *arg)
{
    (void)arg;
    uint32_t id = kvm_vcpuid();
    long from = 1 + id * 25000L, to = (id + 1) * 25000L;
    for (long i = from; i <= to; i++)
        sums[id] += i;
    ids_seen[id] = 1;
}

static void square(int i, void *array, size_t size)
{
    ((int *)array)[i] = (int)kvm_vcpuid() == i && size == sizeof(int) ? i * i : -1;
}

static volatile long results[16];
static char stacks[4][64 * 1024] __attribute__((aligned(16)));

/* What every vCPU runs after multiprocess_clone: only globals (the workers' stacks hold no caller frame). */
__attribute__((noinline)) static void clone_body(void)
{
    results[kvm_vcpuid()] = 100 + kvm_vcpuid();
    multiprocess_wait(); /* a worker ends here; the caller waits for them */
}

static void crash(void *arg)
{
    (void)arg;
    if (kvm_vcpuid() == 2)
        *(volatile int *)0 = 1;
}

static void nothing(void *arg)
{
    (void)arg;
}

/* A worker that runs until the caller lets it go: workers are preempted, so one that returned at once could have
 * ended before the caller's next call. */
static volatile int released;

static void hold(void *arg)
{
    (void)arg;
    while (!released)
        sched_yield();
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    if (!strcmp(arg, "call")) {
        long rc = multiprocess(4, add_quarter, NULL);
        add_quarter(NULL);
        multiprocess_wait();
        snprintf(text, sizeof text, "rc=%ld total=%ld ids=%d%d%d%d", rc, sums[0] + sums[1] + sums[2] + sums[3],
                 ids_seen[0] ? 0 : 9, ids_seen[1] ? 1 : 9, ids_seen[2] ? 2 : 9, ids_seen[3] ? 3 : 9);
    } else if (!strcmp(arg, "array")) {
        int squares[4] = {-1, -1, -1, -1};
        multiprocess_array(4, square, squares, sizeof squares[0]);
        square(0, squares, sizeof squares[0]);
        multiprocess_wait();
        snprintf(text, sizeof text, "%d %d %d %d ok", squares[0], squares[1], squares[2], squares[3]);
    } else if (!strcmp(arg, "clone")) {
        multiprocess_clone(4, stacks, sizeof stacks[0]);
        clone_body();
        snprintf(text, sizeof text, "%ld %ld %ld %ld", results[0], results[1], results[2], results[3]);
    } else if (!strcmp(arg, "again")) {
        long a = multiprocess(3, nothing, NULL);
        multiprocess_wait();
        long b = multiprocess(3, nothing, NULL);
        multiprocess_wait();
        snprintf(text, sizeof text, a == 0 && b == 0 ? "again ok" : "again failed %ld %ld", a, b);
    } else if (!strcmp(arg, "refused")) {
        released = 0;
        long first = multiprocess(2, hold, NULL);
        long twice = multiprocess(2, nothing, NULL);
        long one = multiprocess(1, nothing, NULL), many = multiprocess(17, nothing, NULL);
        released = 1;
        multiprocess_wait();
        snprintf(text, sizeof text, "%ld %ld %ld %s", twice, one, many, first == 0 ? "ok" : "first failed");
    } else if (!strcmp(arg, "crash")) {
        multiprocess(4, crash, NULL);
        multiprocess_wait();
        respond_text(200, "no crash");
    } else {
        respond_text(400, "unknown test");
    }
    respond_text(200, text);
}

int main(void)
{
    register_func(KVM_HANDLER_GET, (void *)on_get);
    wait_for_requests();
}
