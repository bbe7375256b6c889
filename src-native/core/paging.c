/*
 * paging.c — builds the guest's 4-level page tables (identity mapping) before the guest first
 * runs. The tables are never changed afterwards: on PVM hosts the shadow MMU does not notice
 * host writes to guest page tables, so all permissions are final at boot.
 *
 * Every entry is created with Accessed (and, when writable, Dirty) already set, so the CPU never
 * writes to the tables and they never show up as dirtied pages.
 */
#include <string.h>

#include "core.h"

#define ADDR_MASK 0x000ffffffffff000ULL
#define TABLE_FLAGS (PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_ACCESSED)

void pt_init(struct page_tables *pt, uint8_t *mem, uint64_t mem_size)
{
    pt->mem = mem;
    pt->mem_size = mem_size;
    memset(mem + PT_POOL_ADDR, 0, PAGE_SIZE); /* the PML4 */
    pt->next_free = PT_POOL_ADDR + PAGE_SIZE;
}

/* The table an entry points to, created when absent; NULL when the pool is exhausted or the
 * entry is a huge page already. */
static uint64_t *next_table(struct page_tables *pt, uint64_t *entry)
{
    if (*entry & PTE_PRESENT) {
        if (*entry & PTE_HUGE)
            return NULL;
        return (uint64_t *)(pt->mem + (*entry & ADDR_MASK));
    }
    if (pt->next_free + PAGE_SIZE > PT_POOL_END)
        return NULL;
    uint64_t addr = pt->next_free;
    pt->next_free += PAGE_SIZE;
    memset(pt->mem + addr, 0, PAGE_SIZE);
    *entry = addr | TABLE_FLAGS;
    return (uint64_t *)(pt->mem + addr);
}

static uint64_t *walk(struct page_tables *pt, uint64_t addr, int levels)
{
    uint64_t *table = (uint64_t *)(pt->mem + PT_POOL_ADDR);
    for (int shift = 39; levels > 0; shift -= 9, levels--) {
        table = next_table(pt, &table[(addr >> shift) & 511]);
        if (!table)
            return NULL;
    }
    return table;
}

static uint64_t leaf_flags(uint64_t flags)
{
    uint64_t f = flags | PTE_PRESENT | PTE_ACCESSED;
    if (flags & PTE_WRITE)
        f |= PTE_DIRTY;
    return f;
}

int pt_map(struct page_tables *pt, uint64_t addr, uint64_t len, uint64_t flags)
{
    for (uint64_t a = addr & ~(PAGE_SIZE - 1); a < addr + len; a += PAGE_SIZE) {
        uint64_t *table = walk(pt, a, 3);
        if (!table)
            return kvmf_fail(KVMF_INVALID_ARGUMENT,
                             "page tables for address 0x%llx do not fit the pool (%llu KiB): the program "
                             "image is too large or overlaps a huge-page region",
                             (unsigned long long)a, (unsigned long long)((PT_POOL_END - PT_POOL_ADDR) >> 10));
        uint64_t *pte = &table[(a >> 12) & 511];
        if (*pte & PTE_PRESENT) {
            /* Two segments share this page: it gets the union of their permissions. */
            uint64_t merged = *pte | (flags & (PTE_WRITE | PTE_USER));
            if (!(flags & PTE_NX))
                merged &= ~PTE_NX;
            *pte = (merged & ~PTE_DIRTY) | ((merged & PTE_WRITE) ? PTE_DIRTY : 0);
        } else {
            *pte = a | leaf_flags(flags);
        }
    }
    return KVMF_OK;
}

int pt_map_huge(struct page_tables *pt, uint64_t addr, uint64_t len, uint64_t flags)
{
    for (uint64_t a = addr; a < addr + len; a += HUGE_PAGE_SIZE) {
        uint64_t *pd = walk(pt, a, 2);
        if (!pd)
            return kvmf_fail(KVMF_INTERNAL, "page table pool exhausted mapping 0x%llx", (unsigned long long)a);
        pd[(a >> 21) & 511] = a | leaf_flags(flags) | PTE_HUGE;
    }
    return KVMF_OK;
}
