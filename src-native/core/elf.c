/*
 * elf.c — validates a static x86-64 ELF executable and copies it into guest memory.
 *
 * Accepted: ET_EXEC, and ET_DYN without PT_INTERP (static PIE, loaded at PIE_LOAD_BASE; it
 * relocates itself). Each rule that can fail has its own message naming the header or segment.
 * Segments are copied, not mapped, so file offsets need no alignment; what matters is that
 * every byte read lies inside the file and every segment inside the program's part of memory.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

#define MAX_PHNUM 128

static int bad(const char *fmt, unsigned long long a, unsigned long long b, unsigned long long c,
               unsigned long long d)
{
    char text[400];
    snprintf(text, sizeof text, fmt, a, b, c, d);
    return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid program: %s", text);
}

static int check_header(const uint8_t *elf, uint64_t len, const Elf64_Ehdr *eh)
{
    if (len < sizeof(Elf64_Ehdr))
        return bad("the file is %llu bytes, too short for an ELF header (64 bytes)", len, 0, 0, 0);
    if (memcmp(elf, ELFMAG, SELFMAG) != 0)
        return bad("not an ELF file (starts with %02llx %02llx %02llx %02llx, expected 7f 45 4c 46)", elf[0],
                   elf[1], elf[2], elf[3]);
    if (elf[EI_CLASS] != ELFCLASS64)
        return bad("ELF class %llu: only 64-bit programs (ELFCLASS64) run", elf[EI_CLASS], 0, 0, 0);
    if (elf[EI_DATA] != ELFDATA2LSB)
        return bad("ELF data encoding %llu: only little-endian programs run", elf[EI_DATA], 0, 0, 0);
    if (eh->e_machine != EM_X86_64)
        return bad("ELF machine %llu: only x86-64 programs (machine 62) run", eh->e_machine, 0, 0, 0);
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return bad("ELF type %llu: must be an executable (ET_EXEC) or a static PIE (ET_DYN)", eh->e_type, 0, 0,
                   0);
    if (eh->e_phentsize != sizeof(Elf64_Phdr))
        return bad("program header entry size %llu, expected %llu", eh->e_phentsize, sizeof(Elf64_Phdr), 0, 0);
    if (eh->e_phnum == 0 || eh->e_phnum > MAX_PHNUM)
        return bad("%llu program headers: between 1 and %llu allowed", eh->e_phnum, MAX_PHNUM, 0, 0);
    if (eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
        return bad("program headers (offset 0x%llx, %llu entries) extend past the end of the file (%llu bytes)",
                   eh->e_phoff, eh->e_phnum, len, 0);
    return KVMF_OK;
}

int elf_load(const uint8_t *elf, uint64_t len, uint8_t *mem, uint64_t mem_size, struct page_tables *pt,
             struct elf_image *out)
{
    Elf64_Ehdr eh;
    if (len >= sizeof eh)
        memcpy(&eh, elf, sizeof eh);
    int rc = check_header(elf, len, &eh);
    if (rc != KVMF_OK)
        return rc;
    Elf64_Phdr ph[MAX_PHNUM];
    memcpy(ph, elf + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

    uint64_t base = eh.e_type == ET_DYN ? PIE_LOAD_BASE : 0;
    /* The program may use memory up to the stacks; layout.h reserves the top for them. */
    uint64_t limit = mem_size - MAIN_STACK_SIZE - REQUEST_STACK_SIZE - 2 * STACK_GUARD_SIZE - HUGE_PAGE_SIZE;
    memset(out, 0, sizeof *out);
    out->load_start = UINT64_MAX;
    uint64_t prev_end = 0;
    int prev = -1, loads = 0;
    bool entry_ok = false;

    for (int i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type == PT_INTERP) {
            char interp[128] = "";
            if (p->p_offset < len) {
                uint64_t n = p->p_filesz < sizeof interp - 1 ? p->p_filesz : sizeof interp - 1;
                if (n > len - p->p_offset)
                    n = len - p->p_offset;
                memcpy(interp, elf + p->p_offset, n);
                interp[n] = '\0';
            }
            return kvmf_fail(KVMF_INVALID_ARGUMENT,
                             "invalid program: dynamically linked (program header %d is PT_INTERP \"%s\"): "
                             "link the program statically (gcc -static or -static-pie)",
                             i, interp);
        }
        if (p->p_type != PT_LOAD)
            continue;
        loads++;
        if (p->p_filesz > p->p_memsz)
            return bad("segment %llu: file size 0x%llx is larger than its memory size 0x%llx", i, p->p_filesz,
                       p->p_memsz, 0);
        if (p->p_offset > len || p->p_filesz > len - p->p_offset)
            return bad("segment %llu (file offset 0x%llx, size 0x%llx) extends past the end of the file (%llu "
                       "bytes)",
                       i, p->p_offset, p->p_filesz, len);
        uint64_t start = p->p_vaddr + base;
        if (p->p_vaddr > UINT64_MAX - base || p->p_memsz > UINT64_MAX - start)
            return bad("segment %llu: address 0x%llx + size 0x%llx overflows", i, p->p_vaddr, p->p_memsz, 0);
        uint64_t end = start + p->p_memsz;
        if (start < USER_MIN)
            return bad("segment %llu at 0x%llx lies below 0x%llx, in the sandbox's reserved system area "
                       "(link at 0x%llx or above; the default is 0x400000)",
                       i, start, USER_MIN, USER_MIN);
        if (end > limit)
            return bad("segment %llu ends at 0x%llx, beyond the %llu MiB the program may occupy: raise "
                       "max_memory (now %llu MiB)",
                       i, end, limit >> 20, mem_size >> 20);
        if (prev >= 0 && start < prev_end)
            return bad("segments %llu and %llu overlap (the first ends at 0x%llx, the second starts at 0x%llx)",
                       prev, i, prev_end, start);
        prev = i;
        prev_end = end;

        uint64_t flags = PTE_USER;
        if (p->p_flags & PF_W)
            flags |= PTE_WRITE;
        if (!(p->p_flags & PF_X))
            flags |= PTE_NX;
        if (p->p_memsz > 0 && (rc = pt_map(pt, start, p->p_memsz, flags)) != KVMF_OK)
            return rc;
        memcpy(mem + start, elf + p->p_offset, p->p_filesz);
        if ((p->p_flags & PF_X) && eh.e_entry + base >= start && eh.e_entry + base < end)
            entry_ok = true;
        if (start < out->load_start)
            out->load_start = start;
        if (end > out->load_end)
            out->load_end = end;
        if (eh.e_phoff >= p->p_offset && eh.e_phoff - p->p_offset < p->p_filesz)
            out->phdr_addr = start + (eh.e_phoff - p->p_offset);
    }
    if (loads == 0)
        return bad("no loadable segment (PT_LOAD)", 0, 0, 0, 0);
    if (!entry_ok)
        return bad("entry point 0x%llx is not inside an executable segment", eh.e_entry + base, 0, 0, 0);
    for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_PHDR)
            out->phdr_addr = ph[i].p_vaddr + base;
    out->entry = eh.e_entry + base;
    out->phnum = eh.e_phnum;
    return KVMF_OK;
}
