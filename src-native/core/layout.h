/*
 * layout.h — the guest memory map. Guest virtual addresses equal guest physical addresses
 * (identity mapping); the host sees guest address A at host_base + A.
 *
 *   0x000000 - 0x000fff  never mapped: catches NULL dereferences
 *   0x001000             GDT and TSS (supervisor)
 *   0x002000             IDT (supervisor)
 *   0x003000 - 0x004fff  ring-0 trap stub code (supervisor, executable)
 *   0x005000             user trap page: the syscall landing (LSTAR), the handler return address
 *                        and the entry trampoline
 *   0x006000             per-vCPU table read through %gs (user, read-only)
 *   0x007000             stub data: CR2 for the host (supervisor)
 *   0x008000             FPU/SSE/AVX initial state image for xrstor/fxrstor (user, read-only)
 *   0x009000 - 0x00ffff  IST stack of the stub; the trap frame sits at its top (supervisor)
 *   0x010000 - 0x0fefff  page-table pool (supervisor): the heap uses 2 MiB pages, so 239 tables
 *                        cover the system area, stacks and several hundred MiB of ELF segments
 *   0x0ff000             API page (user, write-only in effect): no memory behind it, so a store
 *                        there leaves the guest at once (KVM_EXIT_MMIO); see API_PAGE_ADDR
 *   0x100000 - ...       the program: ELF segments (usually at 0x400000; VMOD programs may be
 *                        linked lower, e.g. at 0x1ff000), then brk heap growing up
 *   ...                  mmap area growing down from the stacks
 *   top - stacks         spare request stack and main stack, each below a guard page (handlers run
 *                        on the main stack, below the frozen stack pointer: boot.c)
 */
#ifndef KVMF_LAYOUT_H
#define KVMF_LAYOUT_H

/* The stub (stub.S) includes this file too: no C-only syntax outside U(). */
#ifdef __ASSEMBLER__
#define U(x) x
#else
#define U(x) x##ULL
#endif

#define PAGE_SIZE U(4096)
#define PAGE_SHIFT 12
#define HUGE_PAGE_SIZE (U(2) << 20)

#define GDT_ADDR U(0x1000)
#define TSS_ADDR (GDT_ADDR + 0x800)   /* same page as the GDT */
/* The TSS's I/O permission bitmap lets ring 3 reach ports 0-3 only, so a program's API call
 * `out %eax, $0` exits straight to the host on hardware KVM (KVM_EXIT_IO) instead of faulting into
 * the stub first. Two bitmap bytes and the 0xff byte the CPU wants after the last one; every port
 * above 15 lies beyond the TSS limit and faults (#GP). PVM hosts fault on any ring-3 port access. */
#define TSS_IO_BITMAP_OFFSET 104
#define TSS_LIMIT (TSS_IO_BITMAP_OFFSET + 2)   /* offset of the TSS's last byte */
/* The port of the TinyKVM API call `out %eax, $0`. */
#define API_PORT 0
#define IDT_ADDR U(0x2000)
#define STUB_CODE_ADDR U(0x3000)
#define STUB_CODE_MAX (2 * PAGE_SIZE)
#define USER_TRAP_PAGE U(0x5000)
#define SYSCALL_ENTRY_ADDR (USER_TRAP_PAGE + 0x00) /* LSTAR: a ud2, so every syscall traps */
#define HANDLER_RETURN_ADDR (USER_TRAP_PAGE + 0x10) /* handlers "return" here: a ud2 */
#define ENTRY_TRAMPOLINE_ADDR (USER_TRAP_PAGE + 0x100) /* resets vector state, jumps to R11 */
#define ENTRY_TRAMPOLINE_FXRSTOR_ADDR (ENTRY_TRAMPOLINE_ADDR + 0x20) /* the same without XSAVE */
#define GS_TABLE_ADDR U(0x6000)
#define GS_ENTRY_SIZE 16 /* per vCPU (multiprocess worker): vcpuid() at +0, vcpureqid() at +4 */
#define MULTIPROCESS_MAX 16 /* vCPUs of a multiprocess call, the caller's included */
#define STUB_DATA_ADDR U(0x7000)
#define FPU_INIT_ADDR U(0x8000)
#define IST_STACK_BOTTOM U(0x9000)
#define IST_STACK_TOP U(0x10000)
#define PT_POOL_ADDR U(0x10000)
#define PT_POOL_END U(0xff000)

/* The fast API call of our SDK: a ring-3 `movl $NUMBER, API_PAGE_ADDR` with the arguments in the
 * usual registers. No memory slot covers this page, so the store exits straight to the host
 * (one exit, about 25 us on PVM, against about 40 us for the TinyKVM-compatible `out` that
 * faults into the stub first). The host announces the page to programs in the environment
 * (API_PAGE_ENV); the `out` path keeps working for every program. */
#define API_PAGE_ADDR U(0xff000)
#define API_PAGE_ENV "KVMFILTER_API_PAGE"

/* Guest pointers passed to the host must lie at or above USER_MIN (the system area is off limits).
 * It is also where the dirty-logged memory slot starts, so it is a multiple of 64 pages. */
#define USER_MIN U(0x100000)
#define PIE_LOAD_BASE U(0x400000)

#define MAIN_STACK_SIZE (U(8) << 20)
#define REQUEST_STACK_SIZE (U(8) << 20)  /* the spare request stack (boot.c, place_request_stack) */
#define REQUEST_STACK_MIN (U(4) << 20)   /* room a handler gets below the frozen stack pointer at least */
#define RED_ZONE_SIZE 128                /* below RSP, the x86-64 ABI's: a handler starts below it */
/* Below each stack an unmapped 1 MiB turns an overflow into a page fault, even when one stack
 * frame is larger than a page. */
#define STACK_GUARD_SIZE (U(1) << 20)

/* The stub leaves the guest with `out %al, $TRAP_PORT`. */
#define TRAP_PORT 0x7f

/* The trap frame's vector field for an API call that came through the API page, not the stub. */
#define VECTOR_API_PAGE 0x100
/* ... and for one that exited directly as port I/O (`out %eax, $0` in ring 3 on hardware KVM). */
#define VECTOR_API_PORT 0x101

/* Segment selectors (GDT indexes << 3 | RPL). */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS 0x1b
#define USER_CS 0x23
#define TSS_SEL 0x28

/* RFLAGS of the program after a system call: IF and the always-one bit, and the arithmetic flags it had (CF PF
 * AF ZF SF DF OF, from R11, where `syscall` saved them). The host and the stub's own answers (stub.S) alike. */
#define RFLAGS_USER_DEFAULT U(0x202)
#define RFLAGS_ARITHMETIC U(0xcd5)

/* Stub data page fields (offsets from STUB_DATA_ADDR). */
#define STUB_CR2 0x00          /* written by the stub on a page fault */

/* The trap frame the stub builds on its IST stack: 15 registers, vector, error code, then
 * what the CPU pushed. Its address is fixed, so the host reads and writes it directly. */
#define FRAME_QWORDS 22
#define FRAME_ADDR (IST_STACK_TOP - FRAME_QWORDS * 8)

#endif
