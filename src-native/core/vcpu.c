/*
 * vcpu.c — runs the vCPU until the current exchange is finished, and turns each trap into a
 * syscall, an API call, or a classified failure (fault.c). The deadline is checked on the host
 * clock before every entry; the thread's timer (timer.c) interrupts a guest that runs past it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core.h"

static void handle_trap(struct kvmf_instance *in)
{
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    uint64_t v = f->vector, rip = f->rip;
    if (rip == SYSCALL_ENTRY_ADDR && (v == 6 || v == 13 || v == 14)) {
        /* `syscall` came here: the program's return address is in RCX and its flags in R11. */
        syscall_dispatch(in, f);
        if (in->threads.switched) { /* another thread runs now: its frame already says where it resumes */
            in->threads.switched = false;
            return;
        }
        f->rip = f->rcx;
        f->rflags = (f->r11 & RFLAGS_ARITHMETIC) | RFLAGS_USER_DEFAULT;
        f->cs = USER_CS;
        f->ss = USER_DS;
        return;
    }
    if (v == 13 && (f->cs & 3) == 3) {
        const uint8_t *code = guest_ptr(in, rip, 2);
        if (code && code[0] == 0xe7 && code[1] == 0x00) { /* out %eax,$0: an API call */
            f->rip += 2; /* past the `out` during the call, as on the other two paths: a thread switch keeps it so */
            api_dispatch(in, f);
            in->threads.switched = false;
            return;
        }
    }
    if (v == 6 && rip == HANDLER_RETURN_ADDR) {
        if (multiprocess_worker_returned(in, f))
            return; /* a worker's function returned: that worker has ended, another thread runs */
        if (in->ex.phase == PHASE_STORAGE) {
            in->ex.finished = true; /* a storage function that returns has finished its call */
        } else if (in->ex.phase == PHASE_SOCKET) {
            in->socket.closed_by_program = true; /* a socket handler that returns is done with its connection */
            in->ex.finished = true;
        } else if (in->ex.streaming || in->ex.stream_post) {
            /* The streaming callback returned struct streaming_content {data, len} in rax:rdx; the streaming
             * POST handler its result in rax. */
            in->ex.chunk_addr = f->rax;
            in->ex.chunk_len = f->rdx;
            in->ex.chunk_ready = true;
            in->ex.finished = true;
        } else {
            exchange_fail(in, KVMF_NO_RESPONSE, "the handler returned without calling sys_backend_response()");
        }
        return;
    }
    fault_classify(in, f);
}

/* After an MMIO exit the request fails on, KVM still holds the faulting instruction's completion
 * (a read's destination register and RIP, or the rest of a string instruction) and would apply it
 * at the next KVM_RUN, over the registers of the next run (on_error's or the next request's). Such
 * exits come only from programs that misbehave, so the simple cure is affordable: a new vCPU (with a
 * new VM around it over the same memory: KVM cannot replace a vCPU alone). */
static void renew_vcpu(struct kvmf_instance *in)
{
    if (in->is_boot)
        return; /* a failed boot ends the program's VM anyway */
    if (instance_renew_vm(in) != KVMF_OK)
        exchange_fail(in, KVMF_INTERNAL, "replacing the vCPU after a refused MMIO access: %s", kvmf_last_error());
}

/* Where KVM leaves RIP at a port I/O exit: at the instruction (hardware KVM since Linux 5.1, which
 * skips it at the next KVM_RUN unless the host moved RIP) or already past it (PVM, older kernels).
 * One host does one or the other, so the first exit that tells decides (-1: not known yet). */
static int pio_rip_past = -1;

static bool is_api_out(const uint8_t *code)
{
    return code && code[0] == 0xe7 && code[1] == API_PORT;
}

/* Port I/O that left the guest directly, which only ring 3 can cause (the stub uses TRAP_PORT): the
 * TSS's I/O bitmap lets a program's `out %eax, $0` exit at once, without the #GP and the trap stub
 * (hardware KVM and PVM both honour it). The registers are in sync-regs. Everything but a 4-byte
 * `out %eax, $0` fails the request as the #GP path would, and costs a new vCPU: KVM would complete the
 * instruction (an `in` writes RAX) at the next entry. */
static void handle_port_io(struct kvmf_instance *in)
{
    struct kvm_run *run = in->vm.run;
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    vm_exit_regs(&in->vm, f);
    bool at = is_api_out(guest_ptr(in, f->rip, 2));
    bool past = f->rip >= 2 && is_api_out(guest_ptr(in, f->rip - 2, 2));
    int known = __atomic_load_n(&pio_rip_past, __ATOMIC_RELAXED);
    if (at != past)
        __atomic_store_n(&pio_rip_past, known = past, __ATOMIC_RELAXED);
    bool rip_past = known == 1;
    uint64_t start = rip_past ? f->rip - 2 : f->rip;
    bool is_out = run->io.direction == KVM_EXIT_IO_OUT;
    if (is_out && run->io.port == API_PORT && run->io.size == 4 && run->io.count == 1 && (rip_past ? past : at)) {
        f->vector = VECTOR_API_PORT;
        f->error = 0;
        f->rip = start + 2; /* past the `out`, as the stub path leaves it: a freeze keeps this frame */
        api_dispatch(in, f);
        in->threads.switched = false; /* (a switch left the next thread's registers in the frame) */
        if (!in->ex.finished)
            vm_resume_user(&in->vm, f);
        return;
    }
    /* Named as the #GP path names it (a rep prefix hides the opcode from privileged_instruction). */
    const char *instr = rip_past ? NULL : privileged_instruction(guest_ptr(in, f->rip, 2));
    exchange_fail(in, KVMF_CPU_EXCEPTION,
                  "forbidden instruction %s on port 0x%x (%u bytes) at RIP 0x%llx: only `out %%eax, $0` is an API "
                  "call",
                  instr ? instr : is_out ? "out (port I/O)" : "in (port I/O)", run->io.port, run->io.size,
                  (unsigned long long)f->rip);
    renew_vcpu(in);
}

/* An API call through the API page: `movl $NUMBER, API_PAGE_ADDR` in ring 3 exited as an MMIO
 * write. KVM has already stepped past the store, and the registers are in the sync-regs area.
 * They go through the trap frame, as for the stub's calls, so that freezing (which keeps the
 * frame) and every API function see one shape. */
static void handle_api_page(struct kvmf_instance *in)
{
    struct kvm_run *run = in->vm.run;
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    if (!run->mmio.is_write || run->mmio.len != 4 || run->mmio.phys_addr != API_PAGE_ADDR) {
        /* The page lies 1 MiB above NULL: a program using a NULL that malloc returned hits it. */
        bool oom = in->ex.enomem;
        exchange_fail(in, oom ? KVMF_OUT_OF_MEMORY : KVMF_BAD_API_CALL,
                      "%u-byte %s at 0x%llx on the API page: only a 4-byte store of a call number at 0x%llx is "
                      "an API call%s",
                      run->mmio.len, run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.phys_addr,
                      (unsigned long long)API_PAGE_ADDR,
                      oom ? " (after an allocation was refused for lack of memory)" : "");
        renew_vcpu(in);
        return;
    }
    uint32_t number;
    memcpy(&number, run->mmio.data, sizeof number);
    vm_exit_regs(&in->vm, f);
    f->vector = VECTOR_API_PAGE;
    f->error = 0;
    f->rax = number;
    api_dispatch(in, f);
    in->threads.switched = false;
    if (!in->ex.finished)
        vm_resume_user(&in->vm, f);
}

/* The run is past its deadline: a TIMEOUT, whatever it was doing (even if it has just answered). */
static void fail_timeout(struct kvmf_instance *in)
{
    const struct exchange *ex = &in->ex;
    const struct kvmf_config *c = &in->program->config;
    uint64_t limit = ex->phase == PHASE_BOOT       ? c->max_boot_time_ms
                     : ex->phase == PHASE_ON_ERROR ? c->on_error_time_ms
                                                   : c->max_request_time_ms;
    const char *what = ex->phase == PHASE_BOOT ? "initialisation" : ex->phase == PHASE_ON_ERROR ? "on_error"
                       : ex->phase == PHASE_STORAGE ? "the storage function"
                       : ex->phase == PHASE_SOCKET  ? "the connection's event"
                                                    : "the request";
    exchange_fail(in, KVMF_TIMEOUT, "%s ran longer than its limit of %llu ms", what, (unsigned long long)limit);
}

void vcpu_run(struct kvmf_instance *in)
{
    struct exchange *ex = &in->ex;
    struct kvm_run *run = in->vm.run;
    in->dirty_current = false;
    if (timer_arm(ex->deadline_ns) != KVMF_OK) {
        exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
        return;
    }
    if (in->threads.items)
        threads_run_begins(in);
    while (!ex->finished) {
        /* Checked before every entry, so the host's own work for the guest's calls (between two
         * entries) counts against the limit too: the timer only interrupts the guest. */
        if (now_ns() >= ex->deadline_ns) {
            fail_timeout(in);
            break;
        }
        int run_rc = ioctl(in->vm.vcpu_fd, KVM_RUN, 0);
        /* Every return from KVM_RUN is paid for, whatever its reason. Only this thread writes it. */
        __atomic_fetch_add(&in->stats.exits, 1, __ATOMIC_RELAXED);
        if (run_rc < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                exchange_fail(in, KVMF_INTERNAL, "KVM_RUN failed: %s (errno %d)", strerror(errno), errno);
                break;
            }
            if (in->threads.items)
                threads_tick(in);
            continue;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.port == TRAP_PORT && run->io.direction == KVM_EXIT_IO_OUT) {
                __atomic_fetch_add(&in->stats.trap_exits, 1, __ATOMIC_RELAXED);
                handle_trap(in);
            } else {
                handle_port_io(in);
            }
            break;
        case KVM_EXIT_MMIO:
            if (run->mmio.phys_addr >= API_PAGE_ADDR && run->mmio.phys_addr < API_PAGE_ADDR + PAGE_SIZE) {
                handle_api_page(in);
                break;
            }
            exchange_fail(in, KVMF_MEMORY_FAULT, "memory fault: access to address 0x%llx outside guest memory",
                          (unsigned long long)run->mmio.phys_addr);
            renew_vcpu(in);
            break;
        case KVM_EXIT_HLT:
            exchange_fail(in, KVMF_CPU_EXCEPTION, "the CPU halted (hlt)");
            break;
        case KVM_EXIT_SHUTDOWN:
            exchange_fail(in, KVMF_CPU_EXCEPTION, "triple fault: the virtual CPU shut down");
            break;
        case KVM_EXIT_INTR:
            if (in->threads.items)
                threads_tick(in);
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
                /* KVM emulates guest accesses to memory without a slot: in our VMs only the API page. */
                exchange_fail(in, KVMF_CPU_EXCEPTION,
                              "the instruction at RIP 0x%llx could not be emulated: most likely it accessed the API "
                              "page at 0x%llx with something other than a 4-byte store",
                              (unsigned long long)run->s.regs.regs.rip, (unsigned long long)API_PAGE_ADDR);
                renew_vcpu(in);
                break;
            }
            exchange_fail(in, KVMF_INTERNAL, "KVM internal error, suberror %u (data %llx %llx %llx %llx)",
                          run->internal.suberror, (unsigned long long)run->internal.data[0],
                          (unsigned long long)run->internal.data[1], (unsigned long long)run->internal.data[2],
                          (unsigned long long)run->internal.data[3]);
            break;
        default:
            exchange_fail(in, KVMF_INTERNAL, "unexpected KVM exit reason %u", run->exit_reason);
        }
    }
    timer_disarm();
    /* An answer (or freeze) that came after the deadline is late: the caller has given up on it. */
    if (ex->error == KVMF_OK && now_ns() >= ex->deadline_ns)
        fail_timeout(in);
}
