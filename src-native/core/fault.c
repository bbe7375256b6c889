/*
 * fault.c — a CPU exception in the guest, classified for the message a program author reads: which
 * exception, which forbidden instruction, which kind of bad access (NULL pointer, stack overflow, a
 * write to code...), at which address and RIP.
 */

#include "core.h"

static const char *exception_name(uint64_t vector)
{
    static const char *const names[] = {
        "divide error", "debug trap", "NMI", "breakpoint (int3)", "overflow (into)", "bound range exceeded",
        "invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
        "invalid TSS", "segment not present", "stack-segment fault", "general protection fault",
        "page fault", "reserved vector 15", "x87 floating-point error", "alignment check",
        "machine check", "SIMD floating-point error", "virtualization exception",
        "control protection fault",
    };
    return vector < sizeof names / sizeof names[0] ? names[vector] : "reserved exception";
}

/* Names the privileged instruction behind a #GP, from its first bytes. */
const char *privileged_instruction(const uint8_t *code)
{
    if (!code)
        return NULL;
    switch (code[0]) {
    case 0xf4: return "hlt";
    case 0xfa: return "cli";
    case 0xfb: return "sti";
    case 0xe4: case 0xe5: case 0xec: case 0xed: return "in (port I/O)";
    case 0xe6: case 0xe7: case 0xee: case 0xef: return "out (port I/O)";
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: return "ins/outs (port I/O)";
    case 0xcd: return "int n";
    case 0x0f:
        switch (code[1]) {
        case 0x30: return "wrmsr";
        case 0x32: return "rdmsr";
        case 0x20: case 0x22: return "mov to/from a control register";
        case 0x01: return "a system-table or cache instruction (lgdt, lidt, invlpg...)";
        case 0x06: return "clts";
        case 0x09: return "wbinvd";
        case 0x00: return "lldt/ltr";
        }
    }
    return NULL;
}

static bool in_guard_page(struct kvmf_instance *in, uint64_t addr)
{
    const struct kvmf_program *p = in->program;
    /* Below the main stack its guard, then the spare request stack and its guard (boot.c). */
    uint64_t guard2 = p->stack_top - MAIN_STACK_SIZE - STACK_GUARD_SIZE;
    uint64_t guard1 = guard2 - REQUEST_STACK_SIZE - STACK_GUARD_SIZE;
    return (addr >= guard1 && addr < guard1 + STACK_GUARD_SIZE) ||
           (addr >= guard2 && addr < guard2 + STACK_GUARD_SIZE);
}

void fault_classify(struct kvmf_instance *in, struct trap_frame *f)
{
    struct exchange *ex = &in->ex;
    uint64_t rip = f->rip, v = f->vector;
    if ((f->cs & 3) == 0 && rip >= STUB_CODE_ADDR && rip < STUB_CODE_ADDR + STUB_CODE_MAX) {
        exchange_fail(in, KVMF_INTERNAL, "%s inside the sandbox's trap stub at 0x%llx", exception_name(v),
                      (unsigned long long)rip);
        return;
    }
    const char *oom = ex->enomem ? " after an allocation was refused for lack of memory" : "";
    int kind_if_oom = ex->enomem ? KVMF_OUT_OF_MEMORY : -1;
    if (v == 14) {
        uint64_t addr = *(uint64_t *)(in->vm.mem + STUB_DATA_ADDR + STUB_CR2);
        const char *what;
        if (in_guard_page(in, addr))
            what = "stack overflow (hit the guard page below the stack)";
        else if ((f->error & 0x10) && (f->error & 1))
            what = "execution of a non-executable page";
        else if (f->error & 0x10)
            what = "execution of an unmapped address";
        else if ((f->error & 2) && (f->error & 1))
            what = "write to a read-only page";
        else if (f->error & 1)
            what = "access to a page reserved for the sandbox";
        else if (addr < PAGE_SIZE)
            what = "NULL pointer dereference";
        else
            what = (f->error & 2) ? "write to an unmapped address" : "read of an unmapped address";
        exchange_fail(in, kind_if_oom >= 0 ? kind_if_oom : KVMF_MEMORY_FAULT,
                      "memory fault: %s at address 0x%llx, RIP 0x%llx%s", what, (unsigned long long)addr,
                      (unsigned long long)rip, oom);
        return;
    }
    const char *instr = v == 13 ? privileged_instruction(guest_ptr(in, rip, 2)) : NULL;
    if (instr)
        exchange_fail(in, KVMF_CPU_EXCEPTION, "CPU exception %llu (%s): forbidden instruction %s at RIP 0x%llx%s",
                      (unsigned long long)v, exception_name(v), instr, (unsigned long long)rip, oom);
    else
        exchange_fail(in, kind_if_oom >= 0 ? kind_if_oom : KVMF_CPU_EXCEPTION,
                      "CPU exception %llu (%s) at RIP 0x%llx%s", (unsigned long long)v, exception_name(v),
                      (unsigned long long)rip, oom);
}
