/*
 * sysarea.c — writes the guest's system area (see layout.h): descriptor tables, the trap stub,
 * the user trap page, the per-vCPU GS table, the stub's data page and the FPU init image.
 */
#include <string.h>

#include "core.h"

extern const uint8_t kvmf_stub_begin[], kvmf_stub_end[], kvmf_trampoline_begin[], kvmf_trampoline_fxrstor[],
    kvmf_trampoline_end[];

static void put64(uint8_t *mem, uint64_t addr, uint64_t value)
{
    memcpy(mem + addr, &value, 8);
}

static void write_gdt(uint8_t *mem)
{
    memset(mem + GDT_ADDR, 0, PAGE_SIZE);
    put64(mem, GDT_ADDR + 0x08, 0x00af9a000000ffffULL); /* kernel code, 64-bit */
    put64(mem, GDT_ADDR + 0x10, 0x00cf92000000ffffULL); /* kernel data */
    put64(mem, GDT_ADDR + 0x18, 0x00cff2000000ffffULL); /* user data, DPL 3 */
    put64(mem, GDT_ADDR + 0x20, 0x00affa000000ffffULL); /* user code, 64-bit, DPL 3 */
    /* 64-bit TSS descriptor (16 bytes): limit TSS_LIMIT, type 0xB (busy), present. */
    uint64_t base = TSS_ADDR, limit = TSS_LIMIT;
    uint64_t low = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x8bULL << 40) |
                   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    put64(mem, GDT_ADDR + TSS_SEL, low);
    put64(mem, GDT_ADDR + TSS_SEL + 8, base >> 32);
    /* TSS: RSP0 and IST1 both point at the stub's stack. The I/O bitmap allows ring 3 ports 0-3
     * (the API call's 4-byte `out` to port 0) and nothing else; see TSS_IO_BITMAP_OFFSET. */
    uint8_t *tss = mem + TSS_ADDR;
    memcpy(tss + 4, &(uint64_t){IST_STACK_TOP}, 8);
    memcpy(tss + 36, &(uint64_t){IST_STACK_TOP}, 8);
    uint16_t iomap = TSS_IO_BITMAP_OFFSET;
    memcpy(tss + 102, &iomap, 2);
    tss[TSS_IO_BITMAP_OFFSET] = 0xf0;     /* ports 0-3 allowed, 4-7 not */
    tss[TSS_IO_BITMAP_OFFSET + 1] = 0xff; /* ports 8-15 not */
    tss[TSS_IO_BITMAP_OFFSET + 2] = 0xff; /* the end marker */
}

static void write_idt(uint8_t *mem)
{
    memset(mem + IDT_ADDR, 0, PAGE_SIZE);
    for (uint64_t v = 0; v < 32; v++) {
        uint64_t handler = STUB_CODE_ADDR + 16 * v;
        uint8_t *gate = mem + IDT_ADDR + 16 * v;
        uint16_t lo = handler & 0xffff, sel = KERNEL_CS, mid = (handler >> 16) & 0xffff;
        uint32_t hi = handler >> 32;
        memcpy(gate, &lo, 2);
        memcpy(gate + 2, &sel, 2);
        gate[4] = 1; /* IST1: always switch to the stub's own stack */
        /* Present, 64-bit interrupt gate. DPL 0, so that `int N` from ring 3 faults (#GP), except
         * #BP: hardware checks the gate's DPL for `int3` too, and with DPL 0 a program's int3 would
         * arrive as #GP (PVM delivers #BP either way). #OF needs no such care: `into` does not exist
         * in 64-bit mode (#UD). */
        gate[5] = v == 3 ? 0xee : 0x8e;
        memcpy(gate + 6, &mid, 2);
        memcpy(gate + 8, &hi, 4);
    }
}

static void write_fpu_image(uint8_t *mem)
{
    /* The state after FNINIT with the default MXCSR; the XSAVE header (at 512) is all zero, so
     * xrstor puts every component in its initial state. */
    uint8_t *img = mem + FPU_INIT_ADDR;
    memset(img, 0, PAGE_SIZE);
    uint16_t fcw = 0x037f;
    uint32_t mxcsr = 0x1f80;
    memcpy(img, &fcw, 2);
    memcpy(img + 24, &mxcsr, 4);
}

int sysarea_write(uint8_t *mem, struct page_tables *pt)
{
    size_t stub_len = (size_t)(kvmf_stub_end - kvmf_stub_begin);
    if (stub_len > STUB_CODE_MAX)
        return kvmf_fail(KVMF_INTERNAL, "trap stub is %zu bytes, more than its %llu-byte area", stub_len,
                         (unsigned long long)STUB_CODE_MAX);
    write_gdt(mem);
    write_idt(mem);
    memset(mem + STUB_CODE_ADDR, 0xcc, STUB_CODE_MAX);
    memcpy(mem + STUB_CODE_ADDR, kvmf_stub_begin, stub_len);
    /* The user trap page is all ud2: the syscall landing, the handler return address, and any
     * stray jump into it trap. */
    for (uint64_t i = 0; i < PAGE_SIZE; i += 2) {
        mem[USER_TRAP_PAGE + i] = 0x0f;
        mem[USER_TRAP_PAGE + i + 1] = 0x0b;
    }
    memcpy(mem + ENTRY_TRAMPOLINE_ADDR, kvmf_trampoline_begin, (size_t)(kvmf_trampoline_end - kvmf_trampoline_begin));
    if (kvmf_trampoline_fxrstor - kvmf_trampoline_begin != ENTRY_TRAMPOLINE_FXRSTOR_ADDR - ENTRY_TRAMPOLINE_ADDR)
        return kvmf_fail(KVMF_INTERNAL, "the fxrstor trampoline is not where layout.h says");
    memset(mem + GS_TABLE_ADDR, 0, PAGE_SIZE); /* vcpuid() = 0, vcpureqid() = 0 */
    for (uint32_t i = 1; i < MULTIPROCESS_MAX; i++) /* the entries of multiprocess workers */
        memcpy(mem + GS_TABLE_ADDR + GS_ENTRY_SIZE * i, &i, 4);
    memset(mem + STUB_DATA_ADDR, 0, PAGE_SIZE);
    write_fpu_image(mem);

    const uint64_t kernel_rw = PTE_WRITE | PTE_NX, kernel_ro = PTE_NX;
    /* The FPU image is user-readable: the entry trampoline runs xrstor in ring 3. */
    int rc = KVMF_OK;
    rc |= pt_map(pt, GDT_ADDR, PAGE_SIZE, kernel_rw);
    rc |= pt_map(pt, IDT_ADDR, PAGE_SIZE, kernel_ro);
    rc |= pt_map(pt, STUB_CODE_ADDR, STUB_CODE_MAX, 0);
    rc |= pt_map(pt, USER_TRAP_PAGE, PAGE_SIZE, PTE_USER);
    rc |= pt_map(pt, GS_TABLE_ADDR, PAGE_SIZE, PTE_USER | PTE_NX);
    rc |= pt_map(pt, STUB_DATA_ADDR, PAGE_SIZE, kernel_rw);
    rc |= pt_map(pt, FPU_INIT_ADDR, PAGE_SIZE, PTE_USER | PTE_NX);
    rc |= pt_map(pt, IST_STACK_BOTTOM, IST_STACK_TOP - IST_STACK_BOTTOM, kernel_rw);
    rc |= pt_map(pt, API_PAGE_ADDR, PAGE_SIZE, PTE_USER | PTE_WRITE | PTE_NX);
    return rc ? KVMF_INTERNAL : KVMF_OK;
}
