/*
 * timer.c — the time limits of guest runs. Each thread that runs guests owns one POSIX timer aimed at
 * itself (SIGEV_THREAD_ID). It fires at the deadline and then every few milliseconds, so KVM_RUN
 * returns EINTR even if the first signal raced with entering the guest; the deadline itself is always
 * checked on the host clock (vcpu.c).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"

#define TIMER_REPEAT_NS 2000000 /* after the deadline, interrupt again every 2 ms */

static int timer_signal;
static pthread_once_t signal_once = PTHREAD_ONCE_INIT;
static pthread_key_t timer_key;
static __thread timer_t thread_timer;
static __thread bool thread_timer_ready;

static void on_timer_signal(int sig)
{
    (void)sig; /* its only job is to make KVM_RUN return EINTR */
}

static void delete_thread_timer(void *timer)
{
    timer_delete((timer_t)timer);
}

static void install_signal(void)
{
    /* A real-time signal the JVM does not use; KVMFILTER_TIMER_SIGNAL overrides it. */
    const char *env = getenv("KVMFILTER_TIMER_SIGNAL");
    timer_signal = env ? atoi(env) : SIGRTMIN + 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timer_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(timer_signal, &sa, NULL);
    pthread_key_create(&timer_key, delete_thread_timer);
}

int timer_arm(uint64_t deadline_ns)
{
    pthread_once(&signal_once, install_signal);
    if (!thread_timer_ready) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, timer_signal);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = timer_signal;
        sev._sigev_un._tid = gettid();
        if (timer_create(CLOCK_MONOTONIC, &sev, &thread_timer) < 0)
            return kvmf_fail_errno("timer_create");
        thread_timer_ready = true;
        pthread_setspecific(timer_key, thread_timer);
    }
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(deadline_ns / 1000000000ULL), .tv_nsec = (long)(deadline_ns % 1000000000ULL)},
        .it_interval = {.tv_sec = 0, .tv_nsec = TIMER_REPEAT_NS},
    };
    if (timer_settime(thread_timer, TIMER_ABSTIME, &its, NULL) < 0)
        return kvmf_fail_errno("timer_settime");
    return KVMF_OK;
}

void timer_disarm(void)
{
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    timer_settime(thread_timer, 0, &off, NULL);
}
