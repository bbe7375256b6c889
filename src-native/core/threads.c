/*
 * threads.c — the threads of a program (clone with CLONE_THREAD, futex, sched_yield, nanosleep, exit), run
 * cooperatively on the instance's one vCPU, as TinyKVM runs them: a thread runs until it waits on a futex, yields,
 * sleeps or exits, and then the next runnable one resumes where its own system call left it. There is no host
 * thread per guest thread and no parallelism: threaded programs (Go's runtime, C++ std::thread, Rust, thread
 * pools) run, they do not run faster.
 *
 * A thread that runs for QUANTUM_NS while another could run is preempted at the next tick of the run's timer, if it
 * is in the program (ring 3) then, so a thread that spins on a flag cannot keep the others from running.
 *
 * A thread that does not run is its registers in resume form (the trap frame as the stub's iretq takes it: RIP
 * past its syscall, RAX its result), its FS base and its vector state (KVM_GET_XSAVE). Time does not pass while
 * every thread waits on futexes: a wait with a timeout then ends at once with ETIMEDOUT, as sleeps end at once (a
 * runtime's timed epoll wait, netpoll.c, does sleep on the host); when every thread waits without a timeout,
 * nothing can wake them and the run fails as a deadlock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core.h"

#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)
#define QUANTUM_NS (U(10) * 1000000) /* how long a thread runs while others wait to, before it is preempted */

/* ---- the set ------------------------------------------------------------------------------------------------ */

static void thread_free_state(struct guest_thread *t)
{
    free(t->xsave);
    t->xsave = NULL;
}

void threads_free(struct thread_set *s)
{
    if (s->items) {
        for (uint32_t i = 0; i < THREADS_MAX; i++)
            thread_free_state(&s->items[i]);
        free(s->items);
    }
    memset(s, 0, sizeof *s);
}

int threads_copy(struct thread_set *dst, const struct thread_set *src)
{
    if (!src->items) {
        threads_free(dst);
        dst->main_clear_tid = src->main_clear_tid;
        return KVMF_OK;
    }
    if (!dst->items && !(dst->items = calloc(THREADS_MAX, sizeof *dst->items)))
        return kvmf_fail(KVMF_INTERNAL, "out of memory copying the program's threads");
    for (uint32_t i = 0; i < THREADS_MAX; i++) {
        struct guest_thread *d = &dst->items[i];
        const struct guest_thread *s = &src->items[i];
        void *xsave = d->xsave;
        *d = *s;
        d->xsave = xsave;
        if (s->xsave) {
            if (!d->xsave && !(d->xsave = malloc(sizeof(struct kvm_xsave))))
                return kvmf_fail(KVMF_INTERNAL, "out of memory copying the program's threads");
            memcpy(d->xsave, s->xsave, sizeof(struct kvm_xsave));
        }
    }
    dst->count = src->count;
    dst->current = src->current;
    dst->next_tid = src->next_tid;
    dst->switched = false;
    dst->main_clear_tid = src->main_clear_tid;
    dst->mp_active = src->mp_active;
    dst->mp_running = src->mp_running;
    return KVMF_OK;
}

/* The set of a program that had one thread so far: that thread, tid 1, running. */
static int threads_begin(struct kvmf_instance *in)
{
    struct thread_set *s = &in->threads;
    if (s->items)
        return KVMF_OK;
    if (!(s->items = calloc(THREADS_MAX, sizeof *s->items)))
        return kvmf_fail(KVMF_INTERNAL, "out of memory for the program's threads");
    s->items[0] = (struct guest_thread){.tid = 1, .state = THREAD_RUNNING, .clear_tid = s->main_clear_tid,
                                        .gs_base = GS_TABLE_ADDR};
    s->count = 1;
    s->current = 0;
    s->next_tid = 2;
    return KVMF_OK;
}

static struct guest_thread *current(struct kvmf_instance *in)
{
    return &in->threads.items[in->threads.current];
}

struct guest_thread *thread_current(struct kvmf_instance *in)
{
    return in->threads.items ? current(in) : NULL;
}

int32_t threads_current_tid(const struct kvmf_instance *in)
{
    return in->threads.items ? in->threads.items[in->threads.current].tid : 1;
}

/* ---- switching ---------------------------------------------------------------------------------------------- */

/* The running thread's frame, at a syscall trap, as it resumes with `result`: where `syscall` returns. */
static void resume_form(struct trap_frame *f, int64_t result)
{
    f->rax = (uint64_t)result;
    f->rip = f->rcx;
    f->rflags = (f->r11 & RFLAGS_ARITHMETIC) | RFLAGS_USER_DEFAULT;
    f->cs = USER_CS;
    f->ss = USER_DS;
}

static int save_vector_state(struct kvmf_instance *in, struct guest_thread *t)
{
    if (!t->xsave && !(t->xsave = malloc(sizeof(struct kvm_xsave))))
        return kvmf_fail(KVMF_INTERNAL, "out of memory for a thread's vector state");
    if (ioctl(in->vm.vcpu_fd, KVM_GET_XSAVE, t->xsave) < 0)
        return kvmf_fail_errno("KVM_GET_XSAVE");
    return KVMF_OK;
}

/* The run's timer: at the deadline, or sooner when another thread could run (its quantum). */
static void arm_timer(struct kvmf_instance *in)
{
    uint64_t at = in->ex.deadline_ns, slice_end = in->threads.slice_start_ns + QUANTUM_NS;
    if (threads_others_runnable(in) && slice_end < at)
        at = slice_end;
    if (timer_arm(at) != KVMF_OK)
        exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
}

/* Keeps what the running thread is, given its registers: `regs` (in resume form) and its FS base. */
static int save_running(struct kvmf_instance *in, const struct trap_frame *regs, uint64_t fs_base)
{
    struct guest_thread *t = current(in);
    t->frame = *regs;
    t->fs_base = fs_base;
    return save_vector_state(in, t);
}

/* Makes thread `to` the running one as far as the vCPU's vector state and FS base go (its registers are the
 * caller's to load). */
static int load_running(struct kvmf_instance *in, uint32_t to)
{
    struct thread_set *s = &in->threads;
    struct guest_thread *next = &s->items[to];
    if (next->xsave && ioctl(in->vm.vcpu_fd, KVM_SET_XSAVE, next->xsave) < 0)
        return kvmf_fail_errno("KVM_SET_XSAVE");
    int rc = vm_set_segment_bases(&in->vm, next->fs_base, next->gs_base);
    if (rc != KVMF_OK)
        return rc;
    in->fs_base = next->fs_base;
    next->state = THREAD_RUNNING;
    s->current = to;
    s->slice_start_ns = now_ns();
    return KVMF_OK;
}

/* Makes thread `to` the running one at a system call. The running thread's frame is already in resume form at *f
 * (unless it has exited: `keep` false); *f becomes to's, and the trap returns into it. */
static void switch_to(struct kvmf_instance *in, struct trap_frame *f, uint32_t to, bool keep)
{
    uint64_t fs_base = 0;
    int rc = keep ? vm_get_fs_base(&in->vm, &fs_base) : KVMF_OK; /* (the program may have used wrfsbase itself) */
    if (rc == KVMF_OK && keep)
        rc = save_running(in, f, fs_base);
    if (rc == KVMF_OK)
        rc = load_running(in, to);
    if (rc != KVMF_OK) {
        exchange_fail(in, KVMF_INTERNAL, "switching threads: %s", kvmf_last_error());
        return;
    }
    *f = in->threads.items[to].frame;
    in->threads.switched = true;
    arm_timer(in);
}

void threads_run_begins(struct kvmf_instance *in)
{
    in->threads.slice_start_ns = now_ns();
    arm_timer(in);
}

void threads_tick(struct kvmf_instance *in)
{
    struct thread_set *s = &in->threads;
    if (!s->items)
        return;
    if (!threads_others_runnable(in) || now_ns() - s->slice_start_ns < QUANTUM_NS || now_ns() >= in->ex.deadline_ns) {
        arm_timer(in); /* (the deadline's own ticks, when nobody else can run) */
        return;
    }
    struct trap_frame regs;
    bool in_user = false;
    uint64_t fs_base = 0;
    int rc = vm_interrupted_regs(&in->vm, &regs, &in_user, &fs_base);
    if (rc == KVMF_OK && in_user) { /* (in the stub: the next tick will do) */
        uint32_t next = s->current;
        for (uint32_t k = 1; k < THREADS_MAX && next == s->current; k++)
            if (s->items[(s->current + k) % THREADS_MAX].state == THREAD_RUNNABLE)
                next = (s->current + k) % THREADS_MAX;
        current(in)->state = THREAD_RUNNABLE;
        rc = save_running(in, &regs, fs_base);
        if (rc == KVMF_OK)
            rc = load_running(in, next);
        if (rc == KVMF_OK)
            vm_resume_user(&in->vm, &s->items[next].frame);
    }
    if (rc != KVMF_OK)
        exchange_fail(in, KVMF_INTERNAL, "preempting a thread: %s", kvmf_last_error());
    arm_timer(in);
}

/* The next thread to run after the current one stops running (it waits, or yields: then it counts last): the
 * next runnable one in turn; when none is, the first whose wait has a timeout, which ends now (time does not pass
 * while all wait). The chosen thread's frame holds what its call returns (for the current thread too, though its
 * registers are still in the trap frame). -1: every thread waits for good, and the run has failed as a deadlock. */
static long pick_next(struct kvmf_instance *in)
{
    struct thread_set *s = &in->threads;
    for (uint32_t k = 1; k < THREADS_MAX; k++) {
        uint32_t i = (s->current + k) % THREADS_MAX;
        if (s->items[i].state == THREAD_RUNNABLE)
            return i;
    }
    for (uint32_t k = 1; k <= THREADS_MAX; k++) {
        uint32_t i = (s->current + k) % THREADS_MAX;
        struct guest_thread *t = &s->items[i];
        if (t->state == THREAD_WAITING && t->timed) {
            t->state = THREAD_RUNNABLE;
            t->frame.rax = (uint64_t)(int64_t)-ETIMEDOUT;
            return i;
        }
    }
    if (s->items[s->current].state == THREAD_RUNNABLE) {
        s->items[s->current].frame.rax = 0;
        return s->current;
    }
    exchange_fail(in, KVMF_NO_RESPONSE, "deadlock: all %u threads wait and none can wake the others",
                  s->count);
    return -1;
}

/* The current thread stops running (waiting, yielding, sleeping) with its frame in resume form at *f; the result
 * is for the thread that runs now (its frame's RAX), as a syscall handler returns it. */
static int64_t reschedule(struct kvmf_instance *in, struct trap_frame *f)
{
    long next = pick_next(in);
    if (next < 0)
        return (int64_t)f->rax;
    if ((uint32_t)next == in->threads.current) { /* itself: its timed wait ended, or nobody else could run */
        current(in)->state = THREAD_RUNNING;
        return (int64_t)current(in)->frame.rax;
    }
    switch_to(in, f, (uint32_t)next, true);
    return (int64_t)f->rax;
}

/* ---- the system calls --------------------------------------------------------------------------------------- */

struct guest_thread *thread_spawn(struct kvmf_instance *in, const struct trap_frame *frame, uint8_t worker)
{
    if (threads_begin(in) != KVMF_OK) {
        exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
        return NULL;
    }
    struct thread_set *s = &in->threads;
    uint32_t slot = 0;
    while (slot < THREADS_MAX && s->items[slot].state != THREAD_FREE)
        slot++;
    if (slot == THREADS_MAX)
        return NULL;
    struct guest_thread *t = &s->items[slot];
    void *xsave = t->xsave;
    *t = (struct guest_thread){.tid = s->next_tid++, .state = THREAD_RUNNABLE, .xsave = xsave, .worker = worker,
                               .gs_base = GS_TABLE_ADDR + GS_ENTRY_SIZE * worker};
    t->frame = *frame;
    int rc = save_vector_state(in, t); /* it starts with its creator's */
    if (rc == KVMF_OK)
        rc = vm_get_fs_base(&in->vm, &t->fs_base);
    if (rc != KVMF_OK) {
        t->state = THREAD_FREE;
        exchange_fail(in, KVMF_INTERNAL, "creating a thread: %s", kvmf_last_error());
        return NULL;
    }
    s->count++;
    arm_timer(in); /* the creator's quantum starts to count: the new thread may run */
    return t;
}

int64_t thread_clone(struct kvmf_instance *in, struct trap_frame *f)
{
    uint64_t flags = f->rdi, stack = f->rsi, parent_tid = f->rdx, child_tid = f->r10, tls = f->r8;
    if ((flags & CLONE_THREAD_FLAGS) != CLONE_THREAD_FLAGS)
        return -ENOSYS; /* a new process (fork, vfork, posix_spawn): there are none in the sandbox */
    if (((flags & CLONE_PARENT_SETTID) && !guest_ptr(in, parent_tid, 4)) ||
        ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) && !guest_ptr(in, child_tid, 4)))
        return -EFAULT;
    struct trap_frame child = *f;
    resume_form(&child, 0); /* the child returns 0 from clone, on its own stack */
    if (stack)
        child.rsp = stack;
    struct guest_thread *t = thread_spawn(in, &child, in->threads.items ? current(in)->worker : 0);
    if (!t)
        return in->ex.error == KVMF_OK ? -EAGAIN : -ENOMEM;
    t->clear_tid = flags & CLONE_CHILD_CLEARTID ? child_tid : 0;
    if (flags & CLONE_SETTLS)
        t->fs_base = tls;
    int32_t tid = t->tid;
    if (flags & CLONE_PARENT_SETTID)
        guest_write(in, parent_tid, &tid, 4);
    if (flags & CLONE_CHILD_SETTID)
        guest_write(in, child_tid, &tid, 4);
    return tid;
}

/* Wakes up to `n` threads waiting on the word at `addr` whose bitsets meet `bitset`; how many. */
static int64_t wake(struct kvmf_instance *in, uint64_t addr, uint64_t n, uint32_t bitset)
{
    struct thread_set *s = &in->threads;
    int64_t woken = 0;
    for (uint32_t k = 1; k <= THREADS_MAX && (uint64_t)woken < n; k++) {
        struct guest_thread *t = &s->items[(s->current + k) % THREADS_MAX];
        if (t->state == THREAD_WAITING && t->futex == addr && (t->bitset & bitset)) {
            t->state = THREAD_RUNNABLE;
            t->frame.rax = 0;
            woken++;
        }
    }
    return woken;
}

/* FUTEX_REQUEUE / FUTEX_CMP_REQUEUE: wakes `n` waiters of addr, moves up to `moves` others to addr2. */
static int64_t requeue(struct kvmf_instance *in, uint64_t addr, uint64_t n, uint64_t moves, uint64_t addr2)
{
    int64_t woken = wake(in, addr, n, FUTEX_BITSET_MATCH_ANY);
    struct thread_set *s = &in->threads;
    for (uint32_t i = 0; i < THREADS_MAX && moves; i++) {
        struct guest_thread *t = &s->items[i];
        if (t->state == THREAD_WAITING && t->futex == addr) {
            t->futex = addr2;
            moves--;
        }
    }
    return woken;
}

/* A wait of the only thread: it lasts its whole timeout, or for good (a change only it could make). */
static int64_t wait_alone(struct kvmf_instance *in, uint64_t key, bool timed)
{
    if (timed)
        return -ETIMEDOUT;
    exchange_fail(in, KVMF_NO_RESPONSE, "deadlock: a wait at 0x%llx with no other thread to end it",
                  (unsigned long long)key);
    return -EDEADLK;
}

/* The current thread waits on `key`; its frame at *f already says where it resumes. */
static int64_t wait_on(struct kvmf_instance *in, struct trap_frame *f, uint64_t key, uint32_t bitset, bool timed)
{
    struct guest_thread *t = current(in);
    t->state = THREAD_WAITING;
    t->futex = key;
    t->bitset = bitset;
    t->timed = timed;
    return reschedule(in, f);
}

static bool alone(const struct kvmf_instance *in)
{
    return !in->threads.items || in->threads.count < 2;
}

int64_t thread_block(struct kvmf_instance *in, struct trap_frame *f, uint64_t key, uint32_t bitset, bool timed)
{
    if (alone(in))
        return wait_alone(in, key, timed);
    resume_form(f, 0);
    return wait_on(in, f, key, bitset, timed);
}

int64_t thread_block_at_api_call(struct kvmf_instance *in, struct trap_frame *f, uint64_t key)
{
    if (alone(in))
        return wait_alone(in, key, false);
    f->rax = 0; /* (an API call's frame is past its `out` already: it resumes as it is) */
    return wait_on(in, f, key, ~0u, false);
}

struct guest_thread *thread_waiting_on(struct kvmf_instance *in, uint64_t key)
{
    struct thread_set *s = &in->threads;
    for (uint32_t i = 0; s->items && i < THREADS_MAX; i++)
        if (s->items[i].state == THREAD_WAITING && s->items[i].futex == key)
            return &s->items[i];
    return NULL;
}

void thread_wake(struct guest_thread *t, int64_t result)
{
    t->state = THREAD_RUNNABLE;
    t->frame.rax = (uint64_t)result;
}

bool threads_others_runnable(const struct kvmf_instance *in)
{
    const struct thread_set *s = &in->threads;
    for (uint32_t i = 0; s->items && i < THREADS_MAX; i++)
        if (i != s->current && s->items[i].state == THREAD_RUNNABLE)
            return true;
    return false;
}

int64_t thread_futex(struct kvmf_instance *in, struct trap_frame *f)
{
    int op = (int)(f->rsi & FUTEX_CMD_MASK);
    uint64_t addr = f->rdi;
    const uint32_t *word = guest_ptr(in, addr, 4);
    if (!word || (addr & 3))
        return word ? -EINVAL : -EFAULT;
    bool threads = in->threads.items && in->threads.count > 1;
    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        uint32_t bitset = op == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : (uint32_t)f->r9;
        if (bitset == 0)
            return -EINVAL;
        if (*word != (uint32_t)f->rdx)
            return -EAGAIN;
        return thread_block(in, f, addr, bitset, f->r10 != 0);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t bitset = op == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : (uint32_t)f->r9;
        if (bitset == 0)
            return -EINVAL;
        return threads ? wake(in, addr, (uint32_t)f->rdx, bitset) : 0;
    }
    case FUTEX_CMP_REQUEUE:
        if (*word != (uint32_t)f->r9)
            return -EAGAIN;
        /* fallthrough */
    case FUTEX_REQUEUE:
        if (!guest_ptr(in, f->r8, 4))
            return -EFAULT;
        return threads ? requeue(in, addr, (uint32_t)f->rdx, (uint32_t)f->r10, f->r8) : 0;
    default:
        return -ENOSYS;
    }
}

int64_t thread_yield(struct kvmf_instance *in, struct trap_frame *f, bool sleeping)
{
    struct thread_set *s = &in->threads;
    if (!s->items || s->count < 2)
        return 0;
    long other = -1;
    for (uint32_t k = 1; k < THREADS_MAX && other < 0; k++) {
        struct guest_thread *t = &s->items[(s->current + k) % THREADS_MAX];
        if (t->state == THREAD_RUNNABLE || (sleeping && t->state == THREAD_WAITING && t->timed))
            other = (s->current + k) % THREADS_MAX;
    }
    if (other < 0)
        return 0; /* nobody else can run: go on at once */
    current(in)->state = THREAD_RUNNABLE;
    resume_form(f, 0);
    return reschedule(in, f); /* a sleep lets time pass: with nothing runnable, a timed wait ends (pick_next) */
}

bool thread_exit(struct kvmf_instance *in, struct trap_frame *f)
{
    struct thread_set *s = &in->threads;
    if (!s->items || s->count < 2)
        return false; /* the last thread: the program exits */
    struct guest_thread *t = current(in);
    if (t->clear_tid && guest_ptr(in, t->clear_tid, 4)) {
        uint32_t zero = 0;
        guest_write(in, t->clear_tid, &zero, 4); /* pthread_join waits for this */
        wake(in, t->clear_tid, 1, FUTEX_BITSET_MATCH_ANY);
    }
    if (t->worker)
        multiprocess_worker_ended(in);
    t->state = THREAD_FREE;
    s->count--;
    long next = pick_next(in);
    if (next >= 0)
        switch_to(in, f, (uint32_t)next, false);
    return true;
}

int64_t thread_set_tid_address(struct kvmf_instance *in, uint64_t addr)
{
    if (in->threads.items)
        current(in)->clear_tid = addr;
    else
        in->threads.main_clear_tid = addr;
    return threads_current_tid(in);
}
