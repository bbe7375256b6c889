/*
 * trim.c — memory back to the system. An instance's memory is a private copy-on-write view of the
 * frozen image: every page a request writes becomes the instance's own copy, and stays so after the
 * reset (which copies the frozen content back into it), so that later requests pay no page faults.
 * Under a burst of large requests that adds up to most of max_memory per instance. An instance left
 * idle long enough gives its copies back with madvise(MADV_DONTNEED): the pages read the frozen
 * image again, and the next request pays the faults to copy what it writes. Its libcurl connections to the
 * origins it fetched from (curl_fetch.c) are closed then too.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "core.h"

/* Drops the private copies of a reset instance that nobody else holds. */
static int trim_instance(struct kvmf_instance *in, uint64_t *bytes)
{
    size_t words = (in->npages + 63) / 64;
    for (size_t i = USER_MIN / PAGE_SIZE / 64; i < words; i++) {
        uint64_t bits = in->resident[i];
        while (bits) {
            /* One madvise per run of consecutive pages. */
            uint64_t first = i * 64 + (uint64_t)__builtin_ctzll(bits), run = 0;
            while (bits && i * 64 + (uint64_t)__builtin_ctzll(bits) == first + run) {
                bits &= bits - 1;
                run++;
            }
            if (madvise(in->vm.mem + first * PAGE_SIZE, run * PAGE_SIZE, MADV_DONTNEED) < 0)
                return kvmf_fail_errno("madvise(MADV_DONTNEED) of an idle instance's memory");
            *bytes += run * PAGE_SIZE;
        }
        in->resident[i] = 0;
    }
    __atomic_store_n(&in->resident_pages, 0, __ATOMIC_RELAXED);
    return KVMF_OK;
}

int kvmf_program_trim(kvmf_program *p, uint64_t idle_ms, uint64_t *trimmed_bytes)
{
    if (!p)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_trim: program is NULL");
    uint64_t total = 0;
    int rc = KVMF_OK;
    /* A kept (non-ephemeral) instance's pages are its state, not a cache: never dropped. */
    if (!p->config.ephemeral)
        goto done;
    uint64_t now = now_ns(), idle_ns = idle_ms * 1000000ULL;
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < p->created && rc == KVMF_OK; i++) {
        struct kvmf_instance *in = p->instances[i];
        if (!in || in->busy || in->needs_reset || (!in->resident_pages && !in->curl) ||
            now - in->released_ns < idle_ns)
            continue;
        /* Held like an acquired instance while its memory goes, so that no request can take it. */
        in->busy = true;
        pthread_mutex_unlock(&p->lock);
        uint64_t bytes = 0;
        curl_fetch_release(in); /* its open connections to origins too: the next fetch opens them again */
        rc = in->resident_pages ? trim_instance(in, &bytes) : KVMF_OK;
        total += bytes;
        pthread_mutex_lock(&p->lock);
        in->busy = false;
        pthread_cond_signal(&p->freed);
    }
    p->trimmed_bytes += total;
    pthread_mutex_unlock(&p->lock);
done:
    if (trimmed_bytes)
        *trimmed_bytes = total;
    return rc;
}
