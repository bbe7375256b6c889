/*
 * pool.c — a program's instances: acquire one (creating it on first use, up to `concurrency`, or
 * waiting in a bounded queue for one to be released), release it (resetting it when needed), and
 * create them all at once.
 */
#define _GNU_SOURCE

#include <time.h>

#include "core.h"

static struct kvmf_instance *take_free(struct kvmf_program *p)
{
    for (uint32_t i = 0; i < p->created; i++) {
        struct kvmf_instance *in = p->instances[i];
        if (in && !in->busy) {
            in->busy = true;
            __atomic_store_n(&in->stats.busy, 1, __ATOMIC_RELAXED);
            return in;
        }
    }
    return NULL;
}

/* The first empty slot nobody is filling; call with room (live + creating < concurrency) under the lock. */
static uint32_t free_slot(const struct kvmf_program *p)
{
    uint32_t i = 0;
    while (p->instances[i] || p->reserved[i])
        i++;
    return i;
}

/* Creates an instance in a free slot outside the lock (it takes about a millisecond). The slot is reserved
 * meanwhile, so that concurrent creations never pick the same one; a failed creation leaves it free again. */
static int grow(struct kvmf_program *p, struct kvmf_instance **out)
{
    uint32_t index = free_slot(p);
    p->reserved[index] = true;
    p->creating++;
    pthread_mutex_unlock(&p->lock);
    struct kvmf_instance *in = NULL;
    int rc = instance_create(p, index, &in);
    pthread_mutex_lock(&p->lock);
    p->reserved[index] = false;
    p->creating--;
    if (rc != KVMF_OK)
        return rc;
    p->instances[index] = in;
    p->live++;
    if (index >= p->created)
        p->created = index + 1;
    in->busy = true;
    in->stats.busy = 1;
    *out = in;
    return KVMF_OK;
}

int kvmf_program_acquire(kvmf_program *p, uint64_t timeout_ms, kvmf_instance **out)
{
    if (!p || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_acquire: program and out are required");
    *out = NULL;
    int rc = KVMF_OK;
    uint64_t wait_start = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct kvmf_instance *in = take_free(p);
        if (in) {
            *out = in;
            break;
        }
        if (p->live + p->creating < p->config.concurrency) {
            rc = grow(p, out);
            break;
        }
        if (!wait_start) {
            if (p->waiters >= p->config.max_queue) {
                p->queue_timeouts++;
                rc = kvmf_fail(KVMF_QUEUE_TIMEOUT, "program \"%s\": the wait queue is full (%llu waiting, "
                               "max_queue %llu)", p->name, (unsigned long long)p->waiters,
                               (unsigned long long)p->config.max_queue);
                break;
            }
            wait_start = now_ns();
            p->queue_waits++;
        }
        uint64_t deadline = wait_start + timeout_ms * 1000000ULL;
        if (now_ns() >= deadline) {
            p->queue_timeouts++;
            rc = kvmf_fail(KVMF_QUEUE_TIMEOUT, "program \"%s\": no instance became free within %llu ms "
                           "(concurrency %llu)", p->name, (unsigned long long)timeout_ms,
                           (unsigned long long)p->config.concurrency);
            break;
        }
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ULL),
                              .tv_nsec = (long)(deadline % 1000000000ULL)};
        p->waiters++;
        pthread_cond_timedwait(&p->freed, &p->lock, &ts);
        p->waiters--;
    }
    if (wait_start)
        p->queue_wait_ns += now_ns() - wait_start;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void kvmf_instance_release(kvmf_instance *in)
{
    if (!in)
        return;
    struct kvmf_program *p = in->program;
    in->socket.active = false; /* a connection ends with its instance's lease (needs_reset is set) */
    if ((in->needs_reset || p->config.ephemeral) && instance_reset(in) != KVMF_OK) {
        /* An instance that cannot be reset is never used again: replace it, in the same slot, reserved
         * meanwhile. If the new one cannot be created the slot is left free, to be filled on demand. */
        uint32_t index = in->index;
        pthread_mutex_lock(&p->lock);
        p->instances[index] = NULL;
        p->live--;
        p->reserved[index] = true;
        p->creating++;
        pthread_mutex_unlock(&p->lock);
        instance_destroy(in);
        struct kvmf_instance *fresh = NULL;
        int rc = instance_create(p, index, &fresh);
        pthread_mutex_lock(&p->lock);
        p->reserved[index] = false;
        p->creating--;
        if (rc == KVMF_OK) {
            p->instances[index] = fresh;
            p->live++;
        }
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    if (!in->needs_reset && !p->config.ephemeral && in->input_len) {
        /* A kept instance gives its request's input back (the response may have pointed into it,
         * so not before now); a reset would have restored the whole address space instead. */
        mem_munmap(in, in->input_addr, in->input_len);
    }
    in->input_addr = in->input_len = 0;
    pthread_mutex_lock(&p->lock);
    in->released_ns = now_ns();
    in->busy = false;
    __atomic_store_n(&in->stats.busy, 0, __ATOMIC_RELAXED);
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

int kvmf_program_prepare_instances(kvmf_program *p)
{
    if (!p)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_prepare_instances: program is NULL");
    int rc = KVMF_OK;
    pthread_mutex_lock(&p->lock);
    while (rc == KVMF_OK && p->live + p->creating < p->config.concurrency) {
        struct kvmf_instance *in = NULL;
        rc = grow(p, &in);
        if (rc == KVMF_OK) {
            in->busy = false;
            in->stats.busy = 0;
        }
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
    return rc;
}
