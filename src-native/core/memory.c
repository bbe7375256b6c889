/*
 * memory.c — the guest's address space as Linux programs see it: brk and anonymous mmap.
 *
 * The page tables map the whole heap area read-write up front (see paging.c: they cannot change
 * after boot), so brk and mmap are bookkeeping plus zero-filling: brk grows up from the end of
 * the program, mmap hands out memory top-down from the stacks, and munmap'd ranges become holes
 * that later mappings reuse. Memory never handed out since the frozen state is known to be
 * zero; reused memory is cleared. Protections (PROT_*) are accepted but not enforced: the guest
 * only ever protects itself from itself.
 *
 * Every host write into guest memory goes through guest_write()/mark_touched(), so that the
 * reset knows which pages to restore: KVM's dirty log only sees the guest's own writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* Whether [addr, addr+len) lies inside [lo, hi). */
static bool inside(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi)
{
    return addr >= lo && addr <= hi && len <= hi - addr;
}

void *guest_ptr(struct kvmf_instance *in, uint64_t addr, uint64_t len)
{
    const struct kvmf_program *p = in->program;
    if (inside(addr, len, USER_MIN, in->vm.mem_size) ||
        (p->shm_size && inside(addr, len, p->shm_addr, p->shm_addr + p->shm_size)))
        return in->vm.mem + addr;
    return NULL;
}

void mark_touched(struct kvmf_instance *in, uint64_t addr, uint64_t len)
{
    if (in->is_boot || len == 0 || addr >= in->vm.mem_size)
        return; /* the shared area is never reset */
    if (len > in->vm.mem_size - addr)
        len = in->vm.mem_size - addr;
    for (uint64_t page = addr >> PAGE_SHIFT; page <= (addr + len - 1) >> PAGE_SHIFT; page++)
        in->touched[page / 64] |= 1ULL << (page % 64);
}

void guest_write(struct kvmf_instance *in, uint64_t addr, const void *src, uint64_t len)
{
    memcpy(in->vm.mem + addr, src, len);
    mark_touched(in, addr, len);
}

static void guest_zero(struct kvmf_instance *in, uint64_t addr, uint64_t len)
{
    memset(in->vm.mem + addr, 0, len);
    mark_touched(in, addr, len);
}

const char *guest_string(struct kvmf_instance *in, uint64_t addr, uint64_t max, uint64_t *len_out)
{
    const struct kvmf_program *p = in->program;
    uint64_t size = in->vm.mem_size;
    if (p->shm_size && addr >= p->shm_addr && addr < p->shm_addr + p->shm_size)
        size = p->shm_addr + p->shm_size; /* a string in the shared area ends inside it */
    else if (addr < USER_MIN || addr >= size)
        return NULL;
    uint64_t avail = size - addr < max ? size - addr : max;
    const char *s = (const char *)in->vm.mem + addr;
    const char *nul = memchr(s, '\0', avail);
    if (!nul)
        return NULL;
    if (len_out)
        *len_out = (uint64_t)(nul - s);
    return s;
}

void as_layout(struct address_space *as, uint64_t brk_start, uint64_t mmap_top)
{
    memset(as, 0, sizeof *as);
    as->brk_start = as->brk = as->brk_high = brk_start;
    as->mmap_floor = as->mmap_top = mmap_top;
}

int as_copy(struct address_space *dst, const struct address_space *src)
{
    struct range *holes = dst->holes;
    size_t cap = dst->holes_cap;
    if (src->nholes > cap) {
        cap = src->nholes;
        holes = realloc(holes, cap * sizeof *holes);
        if (!holes)
            return kvmf_fail(KVMF_INTERNAL, "out of memory copying the address space");
    }
    *dst = *src;
    dst->holes = holes;
    dst->holes_cap = cap;
    if (src->nholes)
        memcpy(holes, src->holes, src->nholes * sizeof *holes);
    return KVMF_OK;
}

void as_free(struct address_space *as)
{
    free(as->holes);
    as->holes = NULL;
    as->nholes = as->holes_cap = 0;
}

/* Counts memory the program takes during a request against max_request_memory: what it holds, so
 * that memory it gives back (munmap, a lower brk) can be taken again. The peak is kept for
 * get_meminfo. */
static bool charge(struct kvmf_instance *in, uint64_t len)
{
    struct exchange *ex = &in->ex;
    if (ex->phase == PHASE_BOOT)
        return true;
    if (ex->request_alloc + len > in->program->config.max_request_memory) {
        ex->enomem = true;
        return false;
    }
    ex->request_alloc += len;
    if (ex->request_alloc > ex->request_peak)
        ex->request_peak = ex->request_alloc;
    return true;
}

/* Memory the program gave back during a request. What the frozen state held is not the request's to
 * give: the charge never goes below zero. */
static void refund(struct kvmf_instance *in, uint64_t len)
{
    struct exchange *ex = &in->ex;
    ex->request_alloc = len < ex->request_alloc ? ex->request_alloc - len : 0;
}

/* Bytes of [addr, addr+len) that lie in holes (already free). */
static uint64_t bytes_in_holes(const struct address_space *as, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len, free_bytes = 0;
    for (size_t i = 0; i < as->nholes && as->holes[i].addr < end; i++) {
        uint64_t lo = as->holes[i].addr > addr ? as->holes[i].addr : addr;
        uint64_t hi = as->holes[i].addr + as->holes[i].len < end ? as->holes[i].addr + as->holes[i].len : end;
        if (hi > lo)
            free_bytes += hi - lo;
    }
    return free_bytes;
}

int64_t mem_brk(struct kvmf_instance *in, uint64_t new_brk)
{
    struct address_space *as = &in->as;
    if (new_brk < as->brk_start || new_brk > as->mmap_floor)
        return (int64_t)as->brk; /* Linux answers a refused brk with the current break */
    if (new_brk > as->brk) {
        if (!charge(in, new_brk - as->brk)) {
            return (int64_t)as->brk;
        }
        /* Memory below the highest break since the frozen state may hold old data. */
        uint64_t dirty_end = new_brk < as->brk_high ? new_brk : as->brk_high;
        if (dirty_end > as->brk)
            guest_zero(in, as->brk, dirty_end - as->brk);
        if (new_brk > as->brk_high)
            as->brk_high = new_brk;
    } else {
        refund(in, as->brk - new_brk);
    }
    as->brk = new_brk;
    return (int64_t)new_brk;
}

static void hole_remove(struct address_space *as, size_t i)
{
    memmove(&as->holes[i], &as->holes[i + 1], (as->nholes - i - 1) * sizeof as->holes[0]);
    as->nholes--;
}

/* Takes `len` bytes from the first hole that fits; 0 when none does. */
static uint64_t take_hole(struct address_space *as, uint64_t len)
{
    for (size_t i = 0; i < as->nholes; i++) {
        struct range *h = &as->holes[i];
        if (h->len < len)
            continue;
        uint64_t addr = h->addr + h->len - len; /* from its top, like the floor */
        h->len -= len;
        if (h->len == 0)
            hole_remove(as, i);
        return addr;
    }
    return 0;
}

static int add_hole(struct address_space *as, uint64_t addr, uint64_t len)
{
    size_t i = 0;
    while (i < as->nholes && as->holes[i].addr < addr)
        i++;
    /* Merge with the neighbours where they touch. */
    if (i > 0 && as->holes[i - 1].addr + as->holes[i - 1].len == addr) {
        as->holes[i - 1].len += len;
        if (i < as->nholes && addr + len == as->holes[i].addr) {
            as->holes[i - 1].len += as->holes[i].len;
            hole_remove(as, i);
        }
        return 0;
    }
    if (i < as->nholes && addr + len == as->holes[i].addr) {
        as->holes[i].addr = addr;
        as->holes[i].len += len;
        return 0;
    }
    if (as->nholes == as->holes_cap) {
        size_t cap = as->holes_cap ? as->holes_cap * 2 : 16;
        struct range *grown = realloc(as->holes, cap * sizeof *grown);
        if (!grown)
            return -1;
        as->holes = grown;
        as->holes_cap = cap;
    }
    memmove(&as->holes[i + 1], &as->holes[i], (as->nholes - i) * sizeof as->holes[0]);
    as->holes[i].addr = addr;
    as->holes[i].len = len;
    as->nholes++;
    return 0;
}

/* Removes [addr, addr+len) from the holes (a MAP_FIXED mapping over freed memory). */
static int carve_holes(struct address_space *as, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    for (size_t i = 0; i < as->nholes;) {
        struct range h = as->holes[i];
        uint64_t h_end = h.addr + h.len;
        if (h_end <= addr || h.addr >= end) {
            i++;
            continue;
        }
        hole_remove(as, i);
        if (h.addr < addr && add_hole(as, h.addr, addr - h.addr) < 0)
            return -1;
        if (h_end > end && add_hole(as, end, h_end - end) < 0)
            return -1;
        i = 0; /* the array changed: rescan (holes are few) */
    }
    return 0;
}

static uint64_t allocate(struct kvmf_instance *in, uint64_t len)
{
    struct address_space *as = &in->as;
    uint64_t addr = take_hole(as, len);
    if (addr) {
        guest_zero(in, addr, len);
        return addr;
    }
    if (as->mmap_floor - as->brk_high < len)
        return 0;
    as->mmap_floor -= len; /* never handed out since the frozen state: already zero */
    return as->mmap_floor;
}

int64_t mem_mmap(struct kvmf_instance *in, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int64_t fd)
{
    (void)prot;
    struct address_space *as = &in->as;
    if (!(flags & MAP_ANONYMOUS))
        return fd < 0 ? -EBADF : -EACCES; /* no files in the sandbox */
    if (len == 0 || len > in->vm.mem_size)
        return len == 0 ? -EINVAL : -ENOMEM;
    len = PAGE_ALIGN(len);
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (addr & (PAGE_SIZE - 1))
            return -EINVAL;
        if (addr < as->brk_high || addr > as->mmap_top || len > as->mmap_top - addr)
            return -ENOMEM; /* only the mmap area can be mapped at a fixed address */
        if (!charge(in, len))
            return -ENOMEM;
        if (addr < as->mmap_floor) {
            /* Fresh memory between the new mapping and the old floor becomes a hole. */
            uint64_t gap = addr + len;
            if (gap < as->mmap_floor && add_hole(as, gap, as->mmap_floor - gap) < 0)
                return -ENOMEM;
            as->mmap_floor = addr;
        }
        if (carve_holes(as, addr, len) < 0)
            return -ENOMEM;
        guest_zero(in, addr, len);
        return (int64_t)addr;
    }
    if (!charge(in, len))
        return -ENOMEM;
    uint64_t got = allocate(in, len);
    if (!got) {
        in->ex.enomem = true;
        return -ENOMEM;
    }
    return (int64_t)got;
}

int64_t mem_munmap(struct kvmf_instance *in, uint64_t addr, uint64_t len)
{
    struct address_space *as = &in->as;
    if ((addr & (PAGE_SIZE - 1)) || len == 0)
        return -EINVAL;
    len = PAGE_ALIGN(len);
    if (addr < as->mmap_floor || addr >= as->mmap_top)
        return 0; /* outside the mmap area (program image, brk): kept, as the tables are fixed */
    if (len > as->mmap_top - addr)
        len = as->mmap_top - addr;
    uint64_t was_free = bytes_in_holes(as, addr, len);
    if (carve_holes(as, addr, len) < 0 || add_hole(as, addr, len) < 0)
        return -ENOMEM;
    refund(in, len - was_free);
    return 0;
}

int64_t mem_mremap(struct kvmf_instance *in, uint64_t old_addr, uint64_t old_len, uint64_t new_len, uint64_t flags)
{
    old_len = PAGE_ALIGN(old_len);
    new_len = PAGE_ALIGN(new_len);
    if ((old_addr & (PAGE_SIZE - 1)) || new_len == 0)
        return -EINVAL;
    if (!guest_ptr(in, old_addr, old_len))
        return -EFAULT;
    if (new_len <= old_len) {
        if (new_len < old_len)
            mem_munmap(in, old_addr + new_len, old_len - new_len);
        return (int64_t)old_addr;
    }
    if (!(flags & MREMAP_MAYMOVE))
        return -ENOMEM;
    int64_t moved = mem_mmap(in, 0, new_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    if (moved < 0)
        return moved;
    guest_write(in, (uint64_t)moved, in->vm.mem + old_addr, old_len);
    mem_munmap(in, old_addr, old_len);
    return moved;
}

uint64_t mem_alloc_input(struct kvmf_instance *in, uint64_t len)
{
    return allocate(in, PAGE_ALIGN(len ? len : 1));
}
