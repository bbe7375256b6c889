/*
 * reset.c — an instance back to the frozen state. Reset restores exactly the pages written since the last reset — the guest's writes from
 * KVM's dirty log, the host's own writes from the `touched` bitmap — by copying them back from
 * the frozen image. Pages stay mapped, so no page faults are paid again.
 *
 * Hot pages: the dirty log finds writes by write-protecting pages, so the first write to each page
 * in every request costs a fault (about 2.5 us on PVM). A page written by two requests in a row
 * (the stack, the heap's working set, output buffers) is most likely written by the next one too:
 * it is left writable, and its writes are found by comparing it with the frozen image instead
 * (a 4 KiB memcmp). A hot page two requests leave alone is write-protected again. Only ephemeral
 * programs have hot pages: the comparison assumes each request starts from the frozen image.
 *
 * The hot set is learned from warm-up requests only (KVMF_RUN_WARMUP) and then stays as it is:
 * whether a page is writable can be timed by the next request (a fault costs thousands of cycles),
 * so a hot set that followed client requests would tell one client which pages another client's
 * request wrote. Learned from the host's own warm-up requests, it says nothing about any client.
 */
#define _GNU_SOURCE
#include <string.h>

#include "core.h"

/* At most this many hot pages per instance (16 MiB), so that comparing unwritten ones stays cheap. */
#define HOT_MAX 4096
/* Requests in a row that may leave a hot page unwritten before it is write-protected again. */
#define HOT_IDLE_LIMIT 2

/* The hot pages of word `w` that differ from the frozen image: written by this request. While
 * learning, hot pages left alone too long are moved to `*cool` (to be write-protected again). */
static uint64_t written_hot_pages(struct kvmf_instance *in, size_t w, bool learn, uint64_t *cool)
{
    const uint8_t *frozen = in->program->frozen;
    uint64_t written = 0, bits = in->hot[w];
    *cool = 0;
    while (bits) {
        uint64_t bit = bits & -bits, page = w * 64 + (uint64_t)__builtin_ctzll(bits);
        bits &= bits - 1;
        if (memcmp(in->vm.mem + page * PAGE_SIZE, frozen + page * PAGE_SIZE, PAGE_SIZE) != 0) {
            written |= bit;
            if (learn)
                in->hot_idle[page] = 0;
        } else if (learn && ++in->hot_idle[page] >= HOT_IDLE_LIMIT) {
            *cool |= bit;
        }
    }
    return written;
}

/* Adds the guest's writes since the last call to `touched` and returns how many pages they were.
 * With manual write protection it also protects the written pages again, which is what
 * KVM_GET_DIRTY_LOG does by itself otherwise, except hot pages; during warm-up requests
 * (in->learning) it also decides which pages are hot. */
int dirty_collect(struct kvmf_instance *in, uint64_t *count)
{
    const size_t first = USER_MIN / PAGE_SIZE / 64; /* the logged slot starts at USER_MIN */
    size_t words = (in->npages + 63) / 64 - first;
    int rc = vm_get_dirty_log(&in->vm, in->dirty);
    if (rc != KVMF_OK)
        return rc;
    in->dirty_current = true;
    uint64_t n = 0;
    bool protect = false, learn = in->learning;
    for (size_t i = 0; i < words; i++) {
        size_t w = first + i;
        uint64_t hot = in->hot ? in->hot[w] : 0;
        if (!(in->dirty[i] | hot | (in->hot ? in->written_before[w] : 0)))
            continue; /* most of memory: nothing to do */
        uint64_t fresh = in->dirty[i] & ~hot; /* write-protected until written: surely written */
        uint64_t written = fresh, cool = 0, warm = 0;
        if (hot)
            written |= written_hot_pages(in, w, learn, &cool);
        if (in->hot && learn) {
            warm = fresh & in->written_before[w];
            while (warm && in->hot_count + (uint64_t)__builtin_popcountll(warm) > HOT_MAX)
                warm &= warm - 1;
            for (uint64_t b = warm; b; b &= b - 1)
                in->hot_idle[w * 64 + (uint64_t)__builtin_ctzll(b)] = 0;
            in->hot[w] = (hot & ~cool) | warm;
            in->hot_count += (uint64_t)__builtin_popcountll(warm);
            in->hot_count -= (uint64_t)__builtin_popcountll(cool);
            in->written_before[w] = written;
        } else if (in->hot) {
            in->written_before[w] = 0; /* "two warm-up requests in a row" means with no client request between */
        }
        if (in->vm.manual_protect && ((fresh & ~warm) | cool)) {
            in->to_protect[i] = (fresh & ~warm) | cool;
            protect = true;
        }
        n += (uint64_t)__builtin_popcountll(written);
        in->touched[w] |= written;
    }
    *count = n;
    if (!protect)
        return KVMF_OK;
    rc = vm_clear_dirty_log(&in->vm, in->to_protect);
    memset(in->to_protect, 0, words * 8); /* all zero between calls: the loop sets only what it needs */
    return rc;
}

int instance_reset(struct kvmf_instance *in)
{
    uint64_t start = now_ns(), ignored;
    /* Usually the request's end has just collected the log: asking KVM again would find nothing. */
    int rc = in->dirty_current ? KVMF_OK : dirty_collect(in, &ignored);
    if (rc != KVMF_OK)
        return rc;
    const struct kvmf_program *p = in->program;
    size_t words = (in->npages + 63) / 64;
    /* The system area below USER_MIN is rewritten by the host before every run: skip it. */
    for (size_t i = USER_MIN / PAGE_SIZE / 64; i < words; i++) {
        uint64_t bits = in->touched[i];
        /* Each of these pages is now a private copy of the instance's (trim.c gives them back). */
        in->resident_pages += (uint64_t)__builtin_popcountll(bits & ~in->resident[i]);
        in->resident[i] |= bits;
        while (bits) {
            uint64_t page = i * 64 + (uint64_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            memcpy(in->vm.mem + page * PAGE_SIZE, p->frozen + page * PAGE_SIZE, PAGE_SIZE);
        }
    }
    memset(in->touched, 0, words * 8);
    if ((rc = as_copy(&in->as, &p->frozen_as)) != KVMF_OK || (rc = threads_copy(&in->threads, &p->frozen_threads)) != KVMF_OK)
        return rc;
    memcpy(in->files, p->frozen_files, sizeof in->files);
    in->netpoll = p->frozen_netpoll;
    in->fs_base = p->frozen_fs_base;
    in->needs_reset = false;
    STAT_ADD(in->stats.resets, 1);
    STAT_ADD(in->stats.reset_ns, now_ns() - start);
    return KVMF_OK;
}
