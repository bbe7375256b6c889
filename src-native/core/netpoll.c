/*
 * netpoll.c — the one epoll instance and the one pipe a language runtime uses to sleep until its next timer and
 * to wake itself up (Go's netpoller: epoll_create1, pipe2, epoll_ctl on the pipe's read end, epoll_pwait, and a
 * write to the pipe from another thread). No host descriptor stands behind them. A wait with a timeout returns
 * at once when another thread can run (the waiter asks again) and otherwise sleeps on the host, within the
 * request's deadline; a wait without one is a thread waiting, as on a futex, until a write to the pipe wakes it
 * with the pipe's event.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "core.h"

#define EPOLL_FD 40
#define PIPE_READ_FD 41
#define PIPE_WRITE_FD 42
#define NETPOLL_KEY U(1) /* what a thread in epoll_wait waits on: odd, so never a futex word's address */
#define PIPE_CAPACITY 65536

bool netpoll_is_fd(const struct kvmf_instance *in, uint64_t fd)
{
    const struct netpoll *n = &in->netpoll;
    return (fd == EPOLL_FD && n->epoll) || ((fd == PIPE_READ_FD || fd == PIPE_WRITE_FD) && n->pipe);
}

int64_t netpoll_epoll_create(struct kvmf_instance *in)
{
    if (in->netpoll.epoll)
        return -EMFILE; /* one per program: a runtime needs no more */
    in->netpoll.epoll = true;
    return EPOLL_FD;
}

int64_t netpoll_pipe(struct kvmf_instance *in, uint64_t fds_addr)
{
    if (!guest_ptr(in, fds_addr, 8))
        return -EFAULT;
    if (in->netpoll.pipe)
        return -EMFILE;
    int32_t fds[2] = {PIPE_READ_FD, PIPE_WRITE_FD};
    guest_write(in, fds_addr, fds, sizeof fds);
    in->netpoll.pipe = true;
    in->netpoll.pending = 0;
    return 0;
}

int64_t netpoll_epoll_ctl(struct kvmf_instance *in, uint64_t epfd, uint64_t op, uint64_t fd, uint64_t event_addr)
{
    struct netpoll *n = &in->netpoll;
    if (epfd != EPOLL_FD || !n->epoll)
        return -EBADF;
    if (fd != PIPE_READ_FD || !n->pipe)
        return -EPERM; /* only the pipe can be watched: there is nothing else to wait for */
    if (op == EPOLL_CTL_DEL) {
        n->watched = false;
        return 0;
    }
    if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD)
        return -EINVAL;
    const uint8_t *ev = guest_ptr(in, event_addr, sizeof(struct epoll_event));
    if (!ev)
        return -EFAULT;
    if (op == EPOLL_CTL_ADD && n->watched)
        return -EEXIST;
    if (op == EPOLL_CTL_MOD && !n->watched)
        return -ENOENT;
    struct epoll_event e;
    memcpy(&e, ev, sizeof e);
    n->watched = true;
    n->watched_events = e.events;
    n->watched_data = e.data.u64;
    return 0;
}

/* The pipe's event, when it has bytes and is watched for them, written at `events_addr`: 1, else 0. */
static int64_t ready_event(struct kvmf_instance *in, uint64_t events_addr)
{
    const struct netpoll *n = &in->netpoll;
    if (!n->watched || !n->pending || !(n->watched_events & EPOLLIN))
        return 0;
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = n->watched_data};
    guest_write(in, events_addr, &e, sizeof e);
    return 1;
}

/* The host's own sleep, for a runtime with nothing to do until its timer; cut short at the run's deadline. */
static void sleep_until(struct kvmf_instance *in, int64_t timeout_ms)
{
    uint64_t now = now_ns(), until = now + (uint64_t)timeout_ms * 1000000ULL;
    if (until > in->ex.deadline_ns)
        until = in->ex.deadline_ns;
    if (until <= now)
        return;
    struct timespec ts = {(time_t)((until - now) / 1000000000ULL), (long)((until - now) % 1000000000ULL)};
    nanosleep(&ts, NULL); /* the run's timer may cut it short: the caller asks again */
}

int64_t netpoll_epoll_wait(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t epfd = f->rdi, events_addr = f->rsi;
    int64_t max = (int32_t)f->rdx, timeout = (int32_t)f->r10;
    if (epfd != EPOLL_FD || !in->netpoll.epoll)
        return -EBADF;
    if (max <= 0)
        return -EINVAL;
    if (!guest_ptr(in, events_addr, sizeof(struct epoll_event)))
        return -EFAULT;
    int64_t ready = ready_event(in, events_addr);
    if (ready || timeout == 0)
        return ready;
    if (timeout > 0) {
        if (threads_others_runnable(in))
            return thread_yield(in, f, false); /* they run first; this thread returns 0 when it runs again */
        sleep_until(in, timeout);
        return 0;
    }
    return thread_block(in, f, NETPOLL_KEY, ~0u, false); /* until a write to the pipe */
}

int64_t netpoll_read(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct netpoll *n = &in->netpoll;
    if (fd != PIPE_READ_FD)
        return -EBADF;
    if (!n->pending)
        return -EAGAIN; /* (the pipe is non-blocking: a blocking reader would wait for good) */
    uint64_t k = len < n->pending ? len : n->pending;
    uint8_t *dst = guest_ptr(in, buf, k);
    if (!dst)
        return -EFAULT;
    memset(dst, 0, k); /* what was written does not matter to a wake-up pipe's reader */
    mark_touched(in, buf, k);
    n->pending -= k;
    return (int64_t)k;
}

int64_t netpoll_write(struct kvmf_instance *in, uint64_t fd, uint64_t buf, uint64_t len)
{
    struct netpoll *n = &in->netpoll;
    if (fd != PIPE_WRITE_FD)
        return -EBADF;
    if (!guest_ptr(in, buf, len))
        return -EFAULT;
    if (n->pending >= PIPE_CAPACITY)
        return -EAGAIN;
    if (len > PIPE_CAPACITY - n->pending)
        len = PIPE_CAPACITY - n->pending;
    n->pending += len;
    struct guest_thread *waiter = thread_waiting_on(in, NETPOLL_KEY);
    if (waiter) {
        /* Its epoll_wait returns now with the pipe's event (its arguments are still in its saved registers). */
        int64_t got = guest_ptr(in, waiter->frame.rsi, sizeof(struct epoll_event)) ? ready_event(in, waiter->frame.rsi)
                                                                                     : 0;
        thread_wake(waiter, got);
    }
    return (int64_t)len;
}

int64_t netpoll_close(struct kvmf_instance *in, uint64_t fd)
{
    struct netpoll *n = &in->netpoll;
    if (fd == EPOLL_FD)
        n->epoll = n->watched = false;
    else
        n->pipe = n->watched = false; /* (either end closes both: a runtime closes its wake-up pipe only to exit) */
    return 0;
}
