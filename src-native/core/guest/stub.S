/*
 * stub.S — the guest's ring-0 code: one tiny trap handler for every CPU exception.
 *
 * The guest program runs in ring 3. Everything that needs the host reaches this code through
 * the IDT (on PVM hosts ring-3 port I/O, sysret and ring-0 syscall entry do not work, so the
 * IDT is the only path that works on PVM and hardware KVM alike):
 *   - Linux syscalls: LSTAR points at a ud2 on the user trap page, so `syscall` faults there;
 *   - API calls (`out %eax,$0` in ring 3, as TinyKVM programs do): #GP;
 *   - real faults: page faults, invalid opcodes, divide errors, ...
 * The handler saves all registers into the trap frame at a fixed address (FRAME_ADDR), and
 * exits to the host with `out %al, $TRAP_PORT`, except for the system calls it answers itself
 * (madvise: advice the host takes and does nothing with), which return to the program at once.
 * The host reads and rewrites the frame in guest memory and resumes the vCPU, which returns to
 * whatever the frame says with iretq. A new run
 * (boot, request, on_error) does not come through here: the host loads its registers directly.
 *
 * This file is assembled into the host library as data and copied to STUB_CODE_ADDR.
 */
#include "../layout.h"

    .section .rodata.kvmf_stub, "a"
    .code64
    .globl kvmf_stub_begin, kvmf_stub_end

    .balign 16
kvmf_stub_begin:
/* 32 entry points, 16 bytes apart: entry N is at kvmf_stub_begin + 16 * N. The CPU pushes an
 * error code for vectors 8, 10-14, 17, 21, 29 and 30; the others push a zero to match. */
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\n != 8) && ((\n < 10) || (\n > 14)) && (\n != 17) && (\n != 21) && (\n != 29) && (\n != 30)
    pushq $0
    .endif
    pushq $\n
    jmp trap_common
    .endr

    .balign 16
trap_common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rbx
    pushq %rbp
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    /* A system call (`syscall` lands on the ud2 at SYSCALL_ENTRY_ADDR: #UD, or #GP/#PF under PVM) that needs
     * no host: answered here, without the exit that costs tens of microseconds. Offsets into the frame:
     * rax 14, vector 15, rip 17, cs 18, rflags 19, ss 21 (quadwords); rcx 13 and r11 4 hold the program's
     * return address and flags. */
    cmpq $SYSCALL_ENTRY_ADDR, 17*8(%rsp)
    jne 2f
    cmpq $28, 14*8(%rsp)           /* madvise */
    jne 2f
    movq 15*8(%rsp), %rax
    cmpq $6, %rax
    je 3f
    cmpq $13, %rax
    je 3f
    cmpq $14, %rax
    jne 2f
3:  movq $0, 14*8(%rsp)            /* the result: 0 */
    movq 13*8(%rsp), %rax          /* back to the instruction after the syscall */
    movq %rax, 17*8(%rsp)
    movq 4*8(%rsp), %rax           /* its arithmetic flags, IF on */
    andq $RFLAGS_ARITHMETIC, %rax
    orq $RFLAGS_USER_DEFAULT, %rax
    movq %rax, 19*8(%rsp)
    movq $USER_CS, 18*8(%rsp)
    movq $USER_DS, 21*8(%rsp)
    jmp restore_registers
2:
    /* A page fault's address is only in CR2: hand it to the host. */
    cmpq $14, 15*8(%rsp)
    jne 1f
    movq %cr2, %rax
    movq %rax, STUB_DATA_ADDR + STUB_CR2
1:  outb %al, $TRAP_PORT

/* The host resumes the vCPU here after handling the exit. */
restore_registers:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rbp
    popq %rbx
    popq %rdx
    popq %rcx
    popq %rax
    addq $16, %rsp      /* vector and error code */
    iretq
kvmf_stub_end:

/*
 * The user-mode entry trampolines, copied to the user trap page. Every run (boot, request,
 * on_error) enters the program through one of them: it puts the vector state in its initial
 * state, so no register carries data from one request to the next, then jumps to the target in
 * R11. They keep the argument registers; RAX, R10 and R11 are scratch at a function entry.
 * Ring 3 because PVM cannot run xrstor in its emulated ring 0.
 */
    .globl kvmf_trampoline_begin, kvmf_trampoline_fxrstor, kvmf_trampoline_end
    .balign 16
kvmf_trampoline_begin:
    /* With XSAVE: x87, SSE, AVX and AVX-512 (XCR0 bits 0-2 and 5-7); components such as AMX are
     * left alone, restoring them while the host arms XFD would fault. */
    movq %rdx, %r10
    movl $0xe7, %eax
    xorl %edx, %edx
    xrstor64 FPU_INIT_ADDR
    movq %r10, %rdx
    xorl %eax, %eax
    xorl %r10d, %r10d
    jmp *%r11
    .balign 16
kvmf_trampoline_fxrstor:
    /* Without XSAVE: x87 and SSE. */
    fxrstor64 FPU_INIT_ADDR
    xorl %eax, %eax
    jmp *%r11
kvmf_trampoline_end:

    .section .note.GNU-stack, "", @progbits
