/*
 * multiprocess.c — the VMOD's multiprocess calls: multiprocess(n, fn, args...) starts n - 1 workers running fn,
 * multiprocess_array(n, fn, array, size) runs fn(i, array, size) in worker i, multiprocess_clone(n, stacks, size)
 * makes n - 1 workers go on from the call itself on stacks of the caller's, and multiprocess_wait() waits until
 * they have all ended. vcpuid() tells them apart (the caller is 0): each worker's GS base is its own entry of the
 * GS table. Under the VMOD the workers are vCPUs running at once; here they are threads of the program's one vCPU
 * (threads.c), taking turns, so a program gets the same results without the parallel speed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define WORKER_STACK_SIZE (U(512) << 10) /* each worker's of multiprocess and multiprocess_array, as the VMOD's */
#define WAIT_KEY U(3)                    /* what multiprocess_wait waits on: odd, never a futex word's address */

enum start_kind { START_CALL, START_ARRAY, START_CLONE };

/* A call the VMOD answers with -1: the reason goes to the request's log. */
static int64_t refuse(struct kvmf_instance *in, const char *call, const char *why, uint64_t n)
{
    exchange_logf(in, "[kvmfilter] %s(%llu) refused: %s\n", call, (unsigned long long)n, why);
    return -1;
}

/* A worker calling fn with `args`, on the stack whose top is `top`, returning to HANDLER_RETURN_ADDR (its end). */
static bool call_frame(struct kvmf_instance *in, struct trap_frame *w, uint64_t fn, const uint64_t args[4],
                       uint64_t top)
{
    uint64_t ret = HANDLER_RETURN_ADDR, sp = (top & ~U(15)) - 8;
    if (!guest_ptr(in, sp, 8))
        return false;
    guest_write(in, sp, &ret, 8);
    memset(w, 0, sizeof *w);
    w->rip = fn;
    w->rsp = sp;
    w->rdi = args[0];
    w->rsi = args[1];
    w->rdx = args[2];
    w->rcx = args[3];
    w->rflags = RFLAGS_USER_DEFAULT;
    w->cs = USER_CS;
    w->ss = USER_DS;
    return true;
}

static int64_t start(struct kvmf_instance *in, struct trap_frame *f, enum start_kind kind, const char *call)
{
    uint64_t n = f->rdi;
    struct thread_set *s = &in->threads;
    struct guest_thread *me = thread_current(in);
    if (n < 2 || n > MULTIPROCESS_MAX)
        return refuse(in, call, "n counts every vCPU, the caller's included: 2 to 16", n);
    if (s->mp_active)
        return refuse(in, call, "workers are running already (multiprocess_wait ends them)", n);
    if (me && me->worker)
        return refuse(in, call, "a worker cannot start workers", n);
    if (THREADS_MAX - s->count < n - 1 && s->items)
        return refuse(in, call, "the program has too many threads to start them", n);
    uint64_t base, size, resume = 0;
    if (kind == START_CLONE) {
        base = f->rsi;
        size = f->rdx;
        const uint64_t *ret = guest_ptr(in, f->rsp, 8); /* where the caller's call returns: the workers go on there */
        if (size < PAGE_SIZE || size > (U(1) << 30) || !ret || !guest_ptr(in, base, n * size))
            return refuse(in, call, "the stacks (n of stack_size bytes at stack_base, each a page at least) are not "
                          "in the program's memory", n);
        resume = *ret;
    } else {
        size = WORKER_STACK_SIZE;
        int64_t at = mem_mmap(in, 0, (n - 1) * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        if (at < 0)
            return refuse(in, call, "no memory for the workers' stacks", n);
        base = (uint64_t)at - size; /* worker i's stack is the i-th of n, as with multiprocess_clone */
    }
    for (uint64_t i = 1; i < n; i++) {
        struct trap_frame w;
        uint64_t top = base + (i + 1) * size;
        if (kind == START_CLONE) {
            w = *f; /* every register the call leaves alone, as under the VMOD */
            w.rip = resume;
            w.rsp = top & ~U(15);
            w.rax = 0;
            w.rflags = RFLAGS_USER_DEFAULT;
        } else {
            uint64_t args[4] = {f->rdx, f->rcx, f->r8, f->r9};
            if (kind == START_ARRAY) {
                args[0] = i;
                args[1] = f->rdx;
                args[2] = (uint32_t)f->rcx;
                args[3] = 0;
            }
            if (!call_frame(in, &w, f->rsi, args, top))
                return refuse(in, call, "a worker's stack is outside the program's memory", n);
        }
        if (!thread_spawn(in, &w, (uint8_t)i))
            return in->ex.error != KVMF_OK ? -1 : refuse(in, call, "no room for another thread", n);
        s->mp_active = true;
        s->mp_running++;
    }
    return 0;
}

void multiprocess_worker_ended(struct kvmf_instance *in)
{
    struct thread_set *s = &in->threads;
    if (s->mp_running && --s->mp_running == 0) {
        s->mp_active = false;
        struct guest_thread *waiter = thread_waiting_on(in, WAIT_KEY);
        if (waiter)
            thread_wake(waiter, 0);
    }
}

bool multiprocess_worker_returned(struct kvmf_instance *in, struct trap_frame *f)
{
    struct guest_thread *me = thread_current(in);
    if (!me || !me->worker)
        return false;
    thread_exit(in, f); /* (there is another thread: the one that started it) */
    in->threads.switched = false; /* the frame is the next thread's, in the form the stub resumes */
    return true;
}

/* multiprocess_wait(): in the caller, until every worker has ended (0); in a clone worker, that worker's end. */
static int64_t wait_for_workers(struct kvmf_instance *in, struct trap_frame *f)
{
    struct thread_set *s = &in->threads;
    struct guest_thread *me = thread_current(in);
    if (me && me->worker) {
        thread_exit(in, f);
        return (int64_t)f->rax; /* for the thread that runs now */
    }
    if (!s->mp_active)
        return 0; /* none running: they have all ended (multiprocess_worker_ended) */
    return thread_block_at_api_call(in, f, WAIT_KEY);
}

int64_t multiprocess_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number)
{
    switch (number) {
    case KVM_CALL_MULTIPROCESS: return start(in, f, START_CALL, "multiprocess");
    case KVM_CALL_MULTIPROCESS_ARRAY: return start(in, f, START_ARRAY, "multiprocess_array");
    case KVM_CALL_MULTIPROCESS_CLONE: return start(in, f, START_CLONE, "multiprocess_clone");
    default: return wait_for_workers(in, f);
    }
}
