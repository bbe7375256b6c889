/*
 * stats.c — the statistics of a program and of its instances: counters each instance's own thread
 * adds to, read here with relaxed atomic loads and summed.
 */
#include <string.h>
#include <sys/stat.h>

#include "core.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

int kvmf_program_stats(const kvmf_program *cp, struct kvmf_program_stats *out)
{
    if (!cp || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_stats: program and out are required");
    struct kvmf_program *p = (struct kvmf_program *)cp;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < p->created; i++) {
        struct kvmf_instance *in = p->instances[i];
        if (!in)
            continue;
        out->invocations += LOAD(in->stats.invocations);
        out->failures += LOAD(in->stats.failures);
        for (int k = 0; k < KVMF_ERROR_KIND_COUNT; k++)
            out->failures_by_kind[k] += LOAD(in->failures_by_kind[k]);
        out->on_error_answers += LOAD(in->on_error_answers);
        out->resets += LOAD(in->stats.resets);
        out->reset_ns += LOAD(in->stats.reset_ns);
        out->run_ns += LOAD(in->stats.run_ns);
        out->cpu_ns += LOAD(in->stats.cpu_ns);
        out->bytes_in += LOAD(in->stats.bytes_in);
        out->bytes_out += LOAD(in->stats.bytes_out);
        out->dirty_pages += LOAD(in->stats.dirty_pages);
        out->unsupported_calls += LOAD(in->unsupported_calls);
        out->refused_calls += LOAD(in->refused_calls);
        out->warmups += LOAD(in->warmups);
        out->connections += LOAD(in->connections);
        out->connection_failures += LOAD(in->connection_failures);
        out->connection_bytes_in += LOAD(in->connection_bytes_in);
        out->connection_bytes_out += LOAD(in->connection_bytes_out);
        out->exits += LOAD(in->stats.exits);
        out->trap_exits += LOAD(in->stats.trap_exits);
        out->instances_busy += in->busy;
        /* Pages the instance holds privately: written by a request since its last trim. */
        out->instance_bytes += LOAD(in->resident_pages) * PAGE_SIZE;
        out->instances++;
    }
    out->failures_by_kind[KVMF_QUEUE_TIMEOUT] += p->queue_timeouts;
    out->queue_waits = p->queue_waits;
    out->queue_timeouts = p->queue_timeouts;
    out->queue_wait_ns = p->queue_wait_ns;
    pthread_mutex_unlock(&p->lock);
    out->boot_ns = p->boot_ns;
    struct stat st;
    if (fstat(p->memfd, &st) == 0)
        out->frozen_bytes = (uint64_t)st.st_blocks * 512;
    out->trimmed_bytes = p->trimmed_bytes;
    if (p->storage) {
        out->storage_calls = LOAD(p->storage->storage_calls);
        out->storage_failures = LOAD(p->storage->storage_failures);
        out->storage_tasks = LOAD(p->storage->storage_tasks_run);
        out->storage_task_failures = LOAD(p->storage->storage_task_failures);
    }
    out->fetches = LOAD(p->fetches);
    out->fetch_refusals = LOAD(p->fetch_refusals);
    out->fetch_failures = LOAD(p->fetch_failures);
    out->fetch_bytes = LOAD(p->fetch_bytes);
    out->max_memory = p->config.max_memory;
    out->max_request_memory = p->config.max_request_memory;
    return KVMF_OK;
}

int kvmf_instance_stats(const kvmf_program *cp, uint64_t index, struct kvmf_instance_stats *out)
{
    struct kvmf_program *p = (struct kvmf_program *)cp;
    if (!p || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_stats: program and out are required");
    pthread_mutex_lock(&p->lock);
    /* The index-th instance that exists, as kvmf_program_stats counts them: a slot being refilled is skipped. */
    struct kvmf_instance *in = NULL;
    for (uint32_t i = 0, seen = 0; i < p->created && !in; i++) {
        if (p->instances[i] && seen++ == index)
            in = p->instances[i];
    }
    if (!in) {
        pthread_mutex_unlock(&p->lock);
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "program \"%s\" has no instance %llu (%u now)", p->name,
                         (unsigned long long)index, p->live);
    }
    out->invocations = LOAD(in->stats.invocations);
    out->failures = LOAD(in->stats.failures);
    out->resets = LOAD(in->stats.resets);
    out->reset_ns = LOAD(in->stats.reset_ns);
    out->run_ns = LOAD(in->stats.run_ns);
    out->cpu_ns = LOAD(in->stats.cpu_ns);
    out->bytes_in = LOAD(in->stats.bytes_in);
    out->bytes_out = LOAD(in->stats.bytes_out);
    out->dirty_pages = LOAD(in->stats.dirty_pages);
    out->last_dirty_pages = LOAD(in->stats.last_dirty_pages);
    out->busy = in->busy;
    out->exits = LOAD(in->stats.exits);
    out->trap_exits = LOAD(in->stats.trap_exits);
    pthread_mutex_unlock(&p->lock);
    return KVMF_OK;
}
