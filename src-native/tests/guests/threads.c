/* threads — POSIX threads in the sandbox (run one at a time on the vCPU, switched at their system calls). GET arg:
 *   sum:N        N threads each add up a slice of 1..100000; joined: "sum=5000050000 threads=N tids=N"
 *   pingpong:K   the main thread and a second one hand a turn back and forth K times through a mutex and a
 *                condition variable: "rounds=K"
 *   timedwait    a timed wait nobody signals: "timedout" (time does not pass while every thread waits)
 *   sleepwait    the main thread sleeps in a loop until a thread's timed wait has ended: "woke after N sleeps"
 *                (a sleep lets the threads' time pass)
 *   deadlock     the main thread joins a thread that waits for a signal nobody sends: the request fails
 *   leave        starts a thread that waits for good and answers at once ("left one"): the next request has
 *                none of it
 *   worker:N     hands N to the worker thread started during initialisation: "worker=2N"
 *   tls          two threads each keep their own thread-local value across yields: "tls ok"
 *   vector       two threads each keep a value in xmm7 across a raw sched_yield: "vector ok"
 *   exit         a thread ends with pthread_exit(42): "joined 42"
 *   limit        starts threads that wait until creation fails: "created=N error=E"
 *   spin         a thread spins on a flag, with no system call, until another thread sets it: "spun" (the
 *                spinner is preempted at the end of its quantum)
 *   netpoll      a runtime's netpoller: a thread waits in epoll_wait for the wake-up pipe the main thread writes
 *                to: "event data=1234 read=1"; and a wait with a timeout and nothing to wait for: "timeout=0"
 */
#define _GNU_SOURCE
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include <unistd.h>

static char text[256];
static pthread_attr_t small_stack; /* 256 KiB stacks: glibc's default 8 MiB each would count against request memory */

static int start(pthread_t *id, void *(*fn)(void *), void *arg)
{
    return pthread_create(id, &small_stack, fn, arg);
}

static void answer(const char *fmt, long a, long b, long c)
{
    snprintf(text, sizeof text, fmt, a, b, c);
    respond_text(200, text);
}

/* sum:N */
struct slice {
    long from, to, sum;
    pid_t tid;
};

static void *add_slice(void *arg)
{
    struct slice *s = arg;
    for (long i = s->from; i <= s->to; i++) {
        s->sum += i;
        if (i % 10000 == 0)
            sched_yield();
    }
    s->tid = gettid();
    return NULL;
}

static void sum(int n)
{
    struct slice slices[16];
    pthread_t ids[16];
    if (n < 1 || n > 16)
        n = 4;
    for (int i = 0; i < n; i++) {
        slices[i] = (struct slice){.from = 1 + i * 100000L / n, .to = (i + 1) * 100000L / n};
        if (start(&ids[i], add_slice, &slices[i]) != 0)
            respond_text(500, "pthread_create failed");
    }
    long total = 0, distinct = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(ids[i], NULL);
        total += slices[i].sum;
        int seen = slices[i].tid == gettid();
        for (int j = 0; j < i; j++)
            seen |= slices[j].tid == slices[i].tid;
        distinct += !seen;
    }
    answer("sum=%ld threads=%ld tids=%ld", total, n, distinct);
}

/* pingpong:K */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn, rounds, target;

static void *pong(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (rounds < target) {
        while (turn != 1 && rounds < target)
            pthread_cond_wait(&turn_changed, &lock);
        if (rounds >= target)
            break;
        turn = 0;
        pthread_cond_broadcast(&turn_changed);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void pingpong(int k)
{
    pthread_t id;
    target = k;
    start(&id, pong, NULL);
    pthread_mutex_lock(&lock);
    for (rounds = 0; rounds < k;) {
        turn = 1;
        pthread_cond_broadcast(&turn_changed);
        while (turn != 0)
            pthread_cond_wait(&turn_changed, &lock);
        rounds++;
    }
    pthread_cond_broadcast(&turn_changed);
    pthread_mutex_unlock(&lock);
    pthread_join(id, NULL);
    answer("rounds=%ld", rounds, 0, 0);
}

/* timedwait, deadlock, leave */
static void *wait_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&turn_changed, &lock);
    return NULL;
}

static void timedwait(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 10 * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&lock);
    int rc = pthread_cond_timedwait(&turn_changed, &lock, &until);
    pthread_mutex_unlock(&lock);
    respond_text(200, rc == ETIMEDOUT ? "timedout" : "not timed out");
}

static volatile int timed_out;

static void *wait_a_while(void *arg)
{
    (void)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&lock);
    while (pthread_cond_timedwait(&turn_changed, &lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&lock);
    timed_out = 1;
    return NULL;
}

static void sleepwait(void)
{
    pthread_t id;
    start(&id, wait_a_while, NULL);
    long sleeps = 0;
    while (!timed_out && sleeps < 1000000) {
        usleep(1000);
        sleeps++;
    }
    pthread_join(id, NULL);
    answer("woke after %ld sleeps", sleeps, 0, 0);
}

/* worker:N — the worker was started during initialisation and waits for jobs. */
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_changed = PTHREAD_COND_INITIALIZER;
static long job = -1, job_result = -1;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&job_lock);
    for (;;) {
        while (job < 0)
            pthread_cond_wait(&job_changed, &job_lock);
        job_result = job * 2;
        job = -1;
        pthread_cond_broadcast(&job_changed);
    }
    return NULL;
}

static void ask_worker(long n)
{
    pthread_mutex_lock(&job_lock);
    if (job != -1 || job_result != -1)
        respond_text(500, "the worker's state is not the initial one");
    job = n;
    pthread_cond_broadcast(&job_changed);
    while (job_result < 0)
        pthread_cond_wait(&job_changed, &job_lock);
    pthread_mutex_unlock(&job_lock);
    answer("worker=%ld", job_result, 0, 0);
}

/* tls */
static __thread long mine;

static void *keep_tls(void *arg)
{
    mine = (long)arg;
    for (int i = 0; i < 50; i++) {
        sched_yield();
        if (mine != (long)arg)
            return (void *)1;
    }
    return NULL;
}

/* vector: a value live in xmm7 across a system call, as compiled code may keep one around an inline syscall. */
static double keep_in_xmm7(double v)
{
    register double x __asm__("xmm7") = v;
    long nr = 24; /* sched_yield */
    __asm__ volatile("syscall" : "+a"(nr), "+x"(x) : : "rcx", "r11", "memory");
    return x;
}

static void *keep_vector(void *arg)
{
    volatile double v = (double)(long)arg + 0.5; /* compared from memory: any register could carry the other's */
    for (int i = 0; i < 50; i++)
        if (keep_in_xmm7(v) != v)
            return (void *)1;
    return NULL;
}

static void two(void *(*fn)(void *), const char *ok)
{
    pthread_t a, b;
    void *ra, *rb;
    start(&a, fn, (void *)1L);
    start(&b, fn, (void *)2L);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    respond_text(200, !ra && !rb ? ok : "mixed up");
}

static void *exit_42(void *arg)
{
    (void)arg;
    pthread_exit((void *)42L);
}

/* spin */
static volatile int spin_flag;

static void *spinner(void *arg)
{
    (void)arg;
    while (!spin_flag)
        ;
    return NULL;
}

static void *flag_setter(void *arg)
{
    (void)arg;
    spin_flag = 1;
    return NULL;
}

/* netpoll */
static int epfd, wake_pipe[2];
static long got_data, got_read;

static void *poller(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    if (epoll_wait(epfd, &ev, 1, -1) == 1) {
        got_data = (long)ev.data.u64;
        char buf[16];
        got_read = read(wake_pipe[0], buf, sizeof buf);
    }
    return NULL;
}

static void netpoll(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0 || pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        respond_text(500, "no epoll or pipe");
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1234};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, wake_pipe[0], &ev) != 0)
        respond_text(500, "epoll_ctl failed");
    struct epoll_event none;
    int timed = epoll_wait(epfd, &none, 1, 5); /* nothing written: it times out */
    pthread_t id;
    start(&id, poller, NULL);
    sched_yield(); /* the poller waits in epoll_wait now */
    write(wake_pipe[1], "x", 1);
    pthread_join(id, NULL);
    snprintf(text, sizeof text, "event data=%ld read=%ld timeout=%d", got_data, got_read, timed);
    respond_text(200, text);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    pthread_t id;
    void *ret;
    if (!strncmp(arg, "sum:", 4)) {
        sum(atoi(arg + 4));
    } else if (!strncmp(arg, "pingpong:", 9)) {
        pingpong(atoi(arg + 9));
    } else if (!strcmp(arg, "timedwait")) {
        timedwait();
    } else if (!strcmp(arg, "spin")) {
        pthread_t setter;
        start(&id, spinner, NULL); /* it runs first, once this thread waits */
        start(&setter, flag_setter, NULL);
        pthread_join(id, NULL);
        pthread_join(setter, NULL);
        respond_text(200, "spun");
    } else if (!strcmp(arg, "netpoll")) {
        netpoll();
    } else if (!strcmp(arg, "sleepwait")) {
        sleepwait();
    } else if (!strcmp(arg, "deadlock")) {
        start(&id, wait_forever, NULL);
        pthread_join(id, NULL);
        respond_text(500, "joined a thread that never ends");
    } else if (!strcmp(arg, "leave")) {
        start(&id, wait_forever, NULL);
        sched_yield();
        respond_text(200, "left one");
    } else if (!strncmp(arg, "worker:", 7)) {
        ask_worker(atol(arg + 7));
    } else if (!strcmp(arg, "tls")) {
        two(keep_tls, "tls ok");
    } else if (!strcmp(arg, "vector")) {
        two(keep_vector, "vector ok");
    } else if (!strcmp(arg, "exit")) {
        start(&id, exit_42, NULL);
        pthread_join(id, &ret);
        answer("joined %ld", (long)ret, 0, 0);
    } else if (!strcmp(arg, "limit")) {
        long created = 0;
        int rc = 0;
        while (created < 200 && (rc = start(&id, wait_forever, NULL)) == 0)
            created++;
        answer("created=%ld error=%ld", created, rc, 0);
    }
    respond_text(400, "unknown test");
}

int main(void)
{
    pthread_t id;
    pthread_attr_init(&small_stack);
    pthread_attr_setstacksize(&small_stack, 256 * 1024);
    if (start(&id, worker, NULL) != 0)
        return 1;
    sched_yield(); /* the worker runs up to its first wait before the freeze */
    register_func(KVM_HANDLER_GET, (void *)on_get);
    wait_for_requests();
}
