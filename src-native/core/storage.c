/*
 * storage.c — the VMOD's storage: a second, long-lived instance of the same program holding its mutable state.
 *
 * A program whose config asks for storage gets a storage program (program.c): the same ELF booted first with
 * KVM_TYPE=storage, sharing the shared memory area, with one instance that keeps its memory from call to call.
 * Request VMs reach it through storage_callv: the buffers are copied into storage memory, the function runs there
 * on this thread while the request's vCPU waits inside its API call, and what it hands to storage_return is copied
 * back. One call at a time: the storage instance is acquired from its pool (concurrency 1), so callers wait in
 * its bounded queue, within their own time limit. A crash, timeout or memory exhaustion in storage fails the call
 * (the request fails and falls back), and the instance returns to its boot image before the next access.
 *
 * Storage tasks run the same way on a thread of the storage program's own, when they are due. A live update moves
 * the state of one version's storage into the next one's through the program's handlers 6 and 7.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define CALL_MAX_BUFFERS 64               /* buffers of one storage_callv */
#define CALL_MAX_BYTES (U(64) << 20)      /* bytes one storage_callv copies in, or hands back */
#define TASK_MAX_BYTES (U(1) << 20)       /* the data of one task */
#define TASKS_MAX 256                     /* tasks queued at once per program */

/* ---- the allow-list ------------------------------------------------------------------------------------ */

static bool listed(const struct kvmf_program *p, uint64_t fn)
{
    for (size_t i = 0; i < p->storage_allowed_count; i++)
        if (p->storage_allowed[i] == fn)
            return true;
    return false;
}

static bool allowed(const struct kvmf_program *request, const struct kvmf_program *storage, uint64_t fn)
{
    if (request->storage_allowed_count == 0 && storage->storage_allowed_count == 0)
        return true; /* a program that lists nothing allows every function */
    return listed(request, fn) || listed(storage, fn);
}

static int64_t api_storage_allow(struct kvmf_instance *in, struct trap_frame *f)
{
    struct kvmf_program *p = in->program;
    if (in->ex.phase != PHASE_BOOT) {
        __atomic_fetch_add(&in->refused_calls, 1, __ATOMIC_RELAXED);
        exchange_logf(in, "[kvmfilter] sys_storage_allow refused (-EPERM): it is allowed only before "
                      "wait_for_requests()\n");
        return -EPERM;
    }
    if (p->storage_allowed_count == STORAGE_ALLOW_MAX)
        return -ENOMEM;
    p->storage_allowed[p->storage_allowed_count++] = f->rdi; /* boot: no other thread reads it yet */
    return 0;
}

/* ---- one run in the storage instance ----------------------------------------------------------------------- */

/* The storage program of the calling VM's program, or NULL. */
static struct kvmf_program *storage_of(struct kvmf_instance *in)
{
    return in->program->storage;
}

/* Whether `fn` lies in the program's loaded image: storage never jumps anywhere else on a caller's word. */
static bool in_image(const struct kvmf_program *p, uint64_t fn)
{
    return fn >= p->elf.load_start && fn < p->elf.load_end;
}

/* Whether `in` may have storage `sp` run `fn` (storage itself may run any of its own functions); if not, the
 * exchange fails with a message naming the call `who`. */
static bool check_callable(struct kvmf_instance *in, const struct kvmf_program *sp, uint64_t fn, const char *who)
{
    bool inside = in_image(sp, fn);
    if (inside && (in->program->is_storage || allowed(in->program, sp, fn)))
        return true;
    exchange_fail(in, KVMF_BAD_API_CALL, "%s: function 0x%llx is %s", who, (unsigned long long)fn,
                  inside ? "not in the program's storage allow-list (sys_storage_allow)" : "outside the program");
    return false;
}

/* Runs fn(args) in the acquired storage instance until it returns, calls storage_noreturn, or fails; keeps at
 * most result_max bytes of what it hands to storage_return. After a failure the instance is reset at its
 * release: storage starts again from its boot image. */
static void run_in_storage(struct kvmf_instance *sin, uint64_t fn, const uint64_t *args, int nargs,
                           uint64_t result_max)
{
    struct exchange *ex = &sin->ex;
    instance_prepare_call(sin, fn, args, nargs);
    ex->storage_result_max = result_max;
    int rc = instance_launch(sin);
    if (rc != KVMF_OK)
        exchange_fail(sin, rc, "%s", kvmf_last_error());
    else
        vcpu_run(sin);
    uint64_t ignored;
    /* The pages it wrote join the instance's written set, so a later reset restores them all. */
    if (dirty_collect(sin, &ignored) != KVMF_OK && ex->error == KVMF_OK)
        exchange_fail(sin, KVMF_INTERNAL, "%s", kvmf_last_error());
    sin->needs_reset = ex->error != KVMF_OK;
    struct kvmf_program *sp = sin->program;
    STAT_ADD(sin->stats.invocations, 1);
    if (ex->error != KVMF_OK) {
        STAT_ADD(sin->stats.failures, 1);
        STAT_ADD(sin->failures_by_kind[ex->error], 1);
        STAT_ADD(sp->storage_failures, 1);
    }
}

/* Starts a storage run: the instance, reset if a failure left it so, and its exchange. The wait for the instance is
 * bounded by the caller's deadline, the run by storage's own limit only: a request that runs late never cuts
 * storage off in the middle of a call (which would cost storage its state); it ends with its own timeout after. */
static int enter_storage(struct kvmf_program *sp, uint64_t deadline_ns, struct kvmf_instance **out)
{
    uint64_t now = now_ns();
    uint64_t wait_ms = deadline_ns > now ? (deadline_ns - now) / 1000000 : 0;
    struct kvmf_instance *sin;
    int rc = kvmf_program_acquire(sp, wait_ms, &sin);
    if (rc != KVMF_OK)
        return rc;
    if (sin->needs_reset && (rc = instance_reset(sin)) != KVMF_OK) {
        kvmf_instance_release(sin);
        return rc;
    }
    exchange_reset(&sin->ex, PHASE_STORAGE, now_ns() + sp->config.max_request_time_ms * 1000000ULL);
    *out = sin;
    return KVMF_OK;
}

/* Copies `len` bytes into fresh storage memory, recorded as the run's input (given back at the release). */
static uint64_t storage_input(struct kvmf_instance *sin, uint64_t len)
{
    uint64_t at = mem_alloc_input(sin, len);
    if (at) {
        sin->input_addr = at;
        sin->input_len = (len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    }
    return at;
}

/* ---- storage_callv (from a request VM) ----------------------------------------------------------------------- */

static int64_t api_storage_callv(struct kvmf_instance *in, struct trap_frame *f)
{
    struct kvmf_program *sp = storage_of(in);
    uint64_t fn = f->rdi, n = f->rsi, bufs = f->rdx, dst = f->rcx, dst_len = f->r8;
    if (in->program->is_storage) {
        exchange_logf(in, "[kvmfilter] storage_callv from storage refused (-EDEADLK): storage cannot call itself\n");
        return -EDEADLK;
    }
    if (!sp) {
        exchange_logf(in, "[kvmfilter] storage_callv: the program has no storage (-ENOSYS); enable it with "
                      "\"storage\": true in the program library\n");
        return -ENOSYS;
    }
    if (n > CALL_MAX_BUFFERS) {
        exchange_fail(in, KVMF_BAD_API_CALL, "storage_callv: %llu buffers, more than %d", (unsigned long long)n,
                      CALL_MAX_BUFFERS);
        return -EINVAL;
    }
    struct virtbuffer list[CALL_MAX_BUFFERS];
    const void *raw = n ? guest_ptr(in, bufs, n * sizeof list[0]) : list;
    if (!raw) {
        exchange_fail(in, KVMF_BAD_API_CALL, "storage_callv: %llu buffers at 0x%llx are outside the program's memory",
                      (unsigned long long)n, (unsigned long long)bufs);
        return -EFAULT;
    }
    memcpy(list, raw, n * sizeof list[0]); /* one copy: the guest cannot change it while it is checked */
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (list[i].len > CALL_MAX_BYTES || total + list[i].len > CALL_MAX_BYTES) {
            exchange_fail(in, KVMF_BAD_API_CALL, "storage_callv: the buffers hold more than %llu MiB",
                          (unsigned long long)(CALL_MAX_BYTES >> 20));
            return -E2BIG;
        }
        if (list[i].len && !guest_ptr(in, list[i].data, list[i].len)) {
            exchange_fail(in, KVMF_BAD_API_CALL, "storage_callv: buffer %llu (0x%llx, %llu bytes) is outside the "
                          "program's memory", (unsigned long long)i, (unsigned long long)list[i].data,
                          (unsigned long long)list[i].len);
            return -EFAULT;
        }
        total += list[i].len;
    }
    if (dst_len > CALL_MAX_BYTES)
        dst_len = CALL_MAX_BYTES;
    if (dst_len && !guest_ptr(in, dst, dst_len)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "storage_callv: result buffer at 0x%llx with length %llu is outside the "
                      "program's memory", (unsigned long long)dst, (unsigned long long)dst_len);
        return -EFAULT;
    }
    if (!check_callable(in, sp, fn, "storage_callv"))
        return -EPERM;

    struct kvmf_instance *sin;
    int rc = enter_storage(sp, in->ex.deadline_ns, &sin);
    if (rc != KVMF_OK) {
        exchange_fail(in, rc, "storage_callv: storage was not free in time: %s", kvmf_last_error());
        return -ETIMEDOUT;
    }
    STAT_ADD(sp->storage_calls, 1);
    /* The buffers, then their virtbuffer array pointing at the copies, in one block of storage memory. */
    uint64_t array_at = 0, block = storage_input(sin, total + n * sizeof list[0] + 16);
    if (!block) {
        exchange_fail(sin, KVMF_OUT_OF_MEMORY, "storage has no free memory for the call's %llu bytes",
                      (unsigned long long)total);
    } else {
        array_at = (block + total + 15) & ~15ULL;
        uint64_t at = block;
        for (uint64_t i = 0; i < n; i++) {
            if (list[i].len)
                guest_write(sin, at, in->vm.mem + list[i].data, list[i].len);
            struct virtbuffer copy = {.data = at, .len = list[i].len};
            guest_write(sin, array_at + i * sizeof copy, &copy, sizeof copy);
            at += list[i].len;
        }
        uint64_t args[3] = {n, array_at, dst_len};
        run_in_storage(sin, fn, args, 3, dst_len);
    }
    struct exchange *sx = &sin->ex;
    if (sx->log.len)
        exchange_log(in, sx->log.data, sx->log.len);
    int64_t result = 0;
    if (sx->error != KVMF_OK) {
        exchange_fail(in, sx->error, "in storage: %s", sx->message);
        result = -EIO;
    } else if (sx->storage_returned && sx->storage_result.len) {
        guest_write(in, dst, sx->storage_result.data, sx->storage_result.len);
        result = (int64_t)sx->storage_result.len;
    }
    kvmf_instance_release(sin);
    /* The storage run used this thread's timer: aim it at the request's deadline again. */
    if (timer_arm(in->ex.deadline_ns) != KVMF_OK)
        exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
    return result;
}

/* ---- storage_return / storage_noreturn (inside storage) ---------------------------------------------------- */

static int64_t api_storage_return(struct kvmf_instance *in, struct trap_frame *f, bool resume)
{
    struct exchange *ex = &in->ex;
    const char *name = resume ? "storage_return" : "storage_noreturn";
    if (ex->phase != PHASE_STORAGE) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s called outside a storage function", name);
        return -EPERM;
    }
    if (ex->storage_returned) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: the function already handed back its result", name);
        return -EINVAL;
    }
    if (ex->restore_data) {
        /* Live update's restore handler names where the state goes: the host writes it there, then it runs on. */
        uint64_t len = f->rsi < ex->restore_data->len ? f->rsi : ex->restore_data->len;
        if (len && !guest_ptr(in, f->rdi, len)) {
            exchange_fail(in, KVMF_BAD_API_CALL, "%s: restore buffer at 0x%llx with length %llu is outside the "
                          "program's memory", name, (unsigned long long)f->rdi, (unsigned long long)f->rsi);
            return -EFAULT;
        }
        if (len)
            guest_write(in, f->rdi, ex->restore_data->data, len);
        ex->storage_returned = true;
        ex->storage_result_max = len; /* what was written, for the caller */
        if (!resume)
            ex->finished = true;
        return 0;
    }
    uint64_t len = f->rsi < ex->storage_result_max ? f->rsi : ex->storage_result_max;
    const void *data = len ? guest_ptr(in, f->rdi, len) : "";
    if (!data) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: result at 0x%llx with length %llu is outside the program's memory",
                      name, (unsigned long long)f->rdi, (unsigned long long)f->rsi);
        return -EFAULT;
    }
    buffer_clear(&ex->storage_result);
    if (len && !buffer_append(&ex->storage_result, data, len, len)) {
        exchange_fail(in, KVMF_INTERNAL, "%s: out of host memory for %llu bytes", name, (unsigned long long)len);
        return -ENOMEM;
    }
    ex->storage_returned = true;
    if (!resume)
        ex->finished = true; /* the function never resumes */
    return 0;
}

/* ---- tasks ------------------------------------------------------------------------------------------------ */

struct task {
    int64_t id;
    uint64_t fn;
    void *data;
    uint64_t len;
    uint64_t due_ns, period_ns;
};

struct storage_tasks {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    bool stopping;
    struct task queue[TASKS_MAX];
    size_t count;
    int64_t next_id;
};

static void task_free(struct task *t)
{
    free(t->data);
    t->data = NULL;
}

/* Runs one task in storage, with the storage program's time limit. */
/* Whether a periodic task is still queued (stop_storage_task has not taken it out). */
static bool still_queued(struct storage_tasks *ts, int64_t id)
{
    bool found = false;
    pthread_mutex_lock(&ts->lock);
    for (size_t i = 0; i < ts->count && !found; i++)
        found = ts->queue[i].id == id;
    pthread_mutex_unlock(&ts->lock);
    return found;
}

static void run_task(struct kvmf_program *sp, const struct task *t)
{
    struct kvmf_instance *sin;
    uint64_t deadline = now_ns() + sp->config.max_request_time_ms * 1000000ULL;
    if (enter_storage(sp, deadline, &sin) != KVMF_OK) {
        STAT_ADD(sp->storage_task_failures, 1);
        return;
    }
    /* A periodic task stopped while this run waited for storage does not run: whoever stopped it and then reads
     * storage must not see it run once more. (Once it holds storage, a reader waits for it to end.) */
    if (t->period_ns && !still_queued(sp->tasks, t->id)) {
        kvmf_instance_release(sin);
        return;
    }
    STAT_ADD(sp->storage_tasks_run, 1);
    uint64_t at = t->len ? storage_input(sin, t->len) : 0;
    if (t->len && !at) {
        exchange_fail(sin, KVMF_OUT_OF_MEMORY, "storage has no free memory for a task's %llu bytes",
                      (unsigned long long)t->len);
    } else {
        if (t->len)
            guest_write(sin, at, t->data, t->len);
        uint64_t args[2] = {at, t->len};
        run_in_storage(sin, t->fn, args, 2, 0);
    }
    if (sin->ex.error != KVMF_OK)
        STAT_ADD(sp->storage_task_failures, 1);
    kvmf_instance_release(sin);
}

static void *task_thread(void *arg)
{
    struct kvmf_program *sp = arg;
    struct storage_tasks *ts = sp->tasks;
    pthread_mutex_lock(&ts->lock);
    while (!ts->stopping) {
        size_t first = 0;
        for (size_t i = 1; i < ts->count; i++)
            if (ts->queue[i].due_ns < ts->queue[first].due_ns)
                first = i;
        uint64_t now = now_ns();
        if (ts->count == 0 || ts->queue[first].due_ns > now) {
            if (ts->count == 0) {
                pthread_cond_wait(&ts->changed, &ts->lock);
            } else {
                uint64_t due = ts->queue[first].due_ns;
                struct timespec until = {.tv_sec = (time_t)(due / 1000000000ULL), .tv_nsec = (long)(due % 1000000000ULL)};
                pthread_cond_timedwait(&ts->changed, &ts->lock, &until);
            }
            continue;
        }
        struct task t = ts->queue[first];
        if (t.period_ns) {
            /* A periodic task stays queued (with its own copy of the data), next due one period later. */
            ts->queue[first].due_ns = now + t.period_ns;
            void *copy = t.len ? malloc(t.len) : NULL;
            if (t.len && !copy) {
                pthread_mutex_unlock(&ts->lock);
                STAT_ADD(sp->storage_task_failures, 1);
                pthread_mutex_lock(&ts->lock);
                continue;
            }
            if (t.len)
                memcpy(copy, t.data, t.len);
            t.data = copy;
        } else {
            ts->queue[first] = ts->queue[--ts->count];
        }
        pthread_mutex_unlock(&ts->lock);
        run_task(sp, &t);
        task_free(&t);
        pthread_mutex_lock(&ts->lock);
    }
    pthread_mutex_unlock(&ts->lock);
    return NULL;
}

/* The storage program's task queue, with its thread started on first use; NULL when it cannot be created. */
static struct storage_tasks *tasks_of(struct kvmf_program *sp)
{
    pthread_mutex_lock(&sp->lock);
    struct storage_tasks *ts = sp->tasks;
    if (!ts && (ts = calloc(1, sizeof *ts)) != NULL) {
        pthread_mutex_init(&ts->lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&ts->changed, &attr);
        pthread_condattr_destroy(&attr);
        ts->next_id = 1;
        sp->tasks = ts;
        if (pthread_create(&ts->thread, NULL, task_thread, sp) != 0) {
            sp->tasks = NULL;
            pthread_cond_destroy(&ts->changed);
            pthread_mutex_destroy(&ts->lock);
            free(ts);
            ts = NULL;
        }
    }
    pthread_mutex_unlock(&sp->lock);
    return ts;
}

/* sys_storage_task(fn, data, len, start_ms, period_ms), from a request VM or from storage itself. */
static int64_t api_storage_task(struct kvmf_instance *in, struct trap_frame *f)
{
    struct kvmf_program *sp = in->program->is_storage ? in->program : storage_of(in);
    uint64_t fn = f->rdi, data = f->rsi, len = f->rdx, start_ms = f->rcx, period_ms = f->r8;
    if (!sp) {
        exchange_logf(in, "[kvmfilter] sys_storage_task: the program has no storage (-ENOSYS)\n");
        return -ENOSYS;
    }
    if (in->ex.phase == PHASE_BOOT && !in->program->is_storage)
        return -EPERM; /* no instance exists yet to queue behind; storage's own boot may queue its tasks */
    if (len > TASK_MAX_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_storage_task: %llu bytes of data, more than %llu KiB",
                      (unsigned long long)len, (unsigned long long)(TASK_MAX_BYTES >> 10));
        return -E2BIG;
    }
    const void *src = len ? guest_ptr(in, data, len) : "";
    if (!src) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_storage_task: data at 0x%llx with length %llu is outside the "
                      "program's memory", (unsigned long long)data, (unsigned long long)len);
        return -EFAULT;
    }
    if (!check_callable(in, sp, fn, "sys_storage_task"))
        return -EPERM;
    if (start_ms > 86400000ULL * 365 || period_ms > 86400000ULL * 365)
        return -EINVAL;
    struct storage_tasks *ts = tasks_of(sp);
    if (!ts)
        return -ENOMEM;
    struct task t = {.fn = fn, .len = len, .due_ns = now_ns() + start_ms * 1000000ULL,
                     .period_ns = period_ms * 1000000ULL};
    if (len && !(t.data = malloc(len)))
        return -ENOMEM;
    if (len)
        memcpy(t.data, src, len);
    pthread_mutex_lock(&ts->lock);
    if (ts->count == TASKS_MAX || ts->stopping) {
        pthread_mutex_unlock(&ts->lock);
        task_free(&t);
        return -EAGAIN;
    }
    t.id = ts->next_id++;
    ts->queue[ts->count++] = t;
    pthread_cond_signal(&ts->changed);
    pthread_mutex_unlock(&ts->lock);
    return t.id;
}

/* stop_storage_task(id): 1 when the task was queued (it will not run again), 0 when there is no such task. */
static int64_t api_stop_storage_task(struct kvmf_instance *in, struct trap_frame *f)
{
    struct kvmf_program *sp = in->program->is_storage ? in->program : storage_of(in);
    struct storage_tasks *ts = sp ? sp->tasks : NULL;
    if (!ts)
        return 0;
    int64_t found = 0;
    pthread_mutex_lock(&ts->lock);
    for (size_t i = 0; i < ts->count && !found; i++) {
        if (ts->queue[i].id == (int64_t)f->rdi) {
            task_free(&ts->queue[i]);
            ts->queue[i] = ts->queue[--ts->count];
            found = 1;
        }
    }
    pthread_mutex_unlock(&ts->lock);
    return found;
}

void storage_tasks_stop(struct kvmf_program *sp)
{
    struct storage_tasks *ts = sp ? sp->tasks : NULL;
    if (!ts)
        return;
    pthread_mutex_lock(&ts->lock);
    ts->stopping = true;
    pthread_cond_signal(&ts->changed);
    pthread_mutex_unlock(&ts->lock);
    pthread_join(ts->thread, NULL);
    for (size_t i = 0; i < ts->count; i++)
        task_free(&ts->queue[i]);
    pthread_cond_destroy(&ts->changed);
    pthread_mutex_destroy(&ts->lock);
    free(ts);
    sp->tasks = NULL;
}

/* ---- live update -------------------------------------------------------------------------------------------- */

int kvmf_program_live_update(kvmf_program *from, kvmf_program *to, uint64_t *moved_bytes)
{
    if (moved_bytes)
        *moved_bytes = 0;
    if (!from || !to)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_live_update: both programs are required");
    struct kvmf_program *old = from->storage, *new = to->storage;
    if (!old || !new || !old->handlers.serialize || !new->handlers.restore)
        return KVMF_OK; /* nothing to move */
    struct kvmf_instance *sin;
    uint64_t limit = old->config.max_request_time_ms * 1000000ULL;
    int rc = enter_storage(old, now_ns() + limit, &sin);
    if (rc != KVMF_OK)
        return kvmf_fail(rc, "live update of \"%s\": the old storage was not free: %s", from->name, kvmf_last_error());
    run_in_storage(sin, old->handlers.serialize, NULL, 0, old->config.max_memory);
    struct buffer state = {0};
    rc = sin->ex.error;
    if (rc != KVMF_OK)
        kvmf_fail(rc, "live update of \"%s\": the old storage's serialize handler failed: %s", from->name,
                  sin->ex.message);
    else if (!buffer_append(&state, sin->ex.storage_result.data, sin->ex.storage_result.len, SIZE_MAX) &&
             sin->ex.storage_result.len)
        rc = kvmf_fail(KVMF_INTERNAL, "live update of \"%s\": out of host memory for %zu bytes of state", from->name,
                       sin->ex.storage_result.len);
    kvmf_instance_release(sin);
    if (rc != KVMF_OK) {
        buffer_free(&state);
        return rc;
    }
    if ((rc = enter_storage(new, now_ns() + new->config.max_request_time_ms * 1000000ULL, &sin)) != KVMF_OK) {
        buffer_free(&state);
        return kvmf_fail(rc, "live update of \"%s\": the new storage was not free: %s", to->name, kvmf_last_error());
    }
    sin->ex.restore_data = &state;
    uint64_t args[1] = {state.len};
    run_in_storage(sin, new->handlers.restore, args, 1, 0);
    rc = sin->ex.error;
    if (rc != KVMF_OK)
        kvmf_fail(rc, "live update of \"%s\": the new storage's restore handler failed: %s", to->name,
                  sin->ex.message);
    else if (moved_bytes)
        *moved_bytes = sin->ex.storage_returned ? sin->ex.storage_result_max : 0;
    sin->ex.restore_data = NULL;
    kvmf_instance_release(sin); /* after a failure: reset to the state the new storage booted with */
    buffer_free(&state);
    return rc;
}

int64_t storage_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number)
{
    switch (number) {
    case KVM_CALL_IS_STORAGE: return in->program->is_storage ? 1 : 0;
    case KVM_CALL_STORAGE_ALLOW: return api_storage_allow(in, f);
    case KVM_CALL_STORAGE_CALLV: return api_storage_callv(in, f);
    case KVM_CALL_STORAGE_RETURN: return api_storage_return(in, f, true);
    case KVM_CALL_STORAGE_NORETURN: return api_storage_return(in, f, false);
    case KVM_CALL_STORAGE_TASK: return api_storage_task(in, f);
    case KVM_CALL_STOP_STORAGE_TASK: return api_stop_storage_task(in, f);
    default: return -ENOSYS;
    }
}
