/*
 * kvm.c — /dev/kvm: probing the host once, and creating VMs with one vCPU in 64-bit mode.
 *
 * The vCPU's control state (CR0/CR3/CR4/EFER, GDT, IDT, TSS, syscall MSRs) is set once when
 * the VM is created and never changes: everything per request goes through guest memory
 * (see stub.S), which is what keeps a request at one or two exits.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_FSGSBASE (1ULL << 16)
#define CR4_OSXSAVE (1ULL << 18)
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* RFLAGS bits cleared on syscall entry: TF, DF, IF, AC, NT. */
#define SYSCALL_MASK 0x47700ULL


static struct kvm_host host;
static int host_status = -1;
static char host_message[1024];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

/* Records why KVM cannot be used; returns -1 so that it also serves as a failed open_kvm(). */
static int unavailable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int unavailable(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(host_message, sizeof host_message, fmt, ap);
    va_end(ap);
    host_status = KVMF_UNAVAILABLE;
    return -1;
}

/* The open /dev/kvm, or -1 with the reason in host_message. */
static int open_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return unavailable("/dev/kvm does not exist (%s): this machine offers no KVM. Load the kvm_intel or "
                               "kvm_amd module and enable virtualization in the firmware (on a cloud VM: enable "
                               "nested virtualization); in a container, start it with --device /dev/kvm",
                               strerror(e));
        if (e == EACCES || e == EPERM)
            return unavailable("/dev/kvm: permission denied for uid %d (%s). Add the user to the group owning "
                               "the device, usually `kvm` (sudo usermod -aG kvm USER, then log in again), or "
                               "in a container pass --device /dev/kvm",
                               (int)getuid(), strerror(e));
        return unavailable("cannot open /dev/kvm: %s (errno %d)", strerror(e), e);
    }
    return fd;
}

static void probe_host(void)
{
    int fd = open_kvm();
    if (fd < 0)
        return;
    host.fd = fd;
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        unavailable("/dev/kvm speaks KVM API version %d, kvmfilter needs %d", version,
                                  KVM_API_VERSION);
        return;
    }
    host.run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (host.run_size < (int)sizeof(struct kvm_run)) {
        unavailable("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
        return;
    }
    /* The entry count is not known in advance (75 on PVM hosts): grow until it fits. */
    for (int n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof *c + n * sizeof(struct kvm_cpuid_entry2));
        if (!c) {
            unavailable("out of memory probing CPUID");
            return;
        }
        c->nent = n;
        if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            host.cpuid = c;
            break;
        }
        free(c);
        if (errno != E2BIG) {
            unavailable("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
            return;
        }
    }
    if (!host.cpuid) {
        unavailable("KVM_GET_SUPPORTED_CPUID needs more than 4096 entries");
        return;
    }
    /* The stub restores vector state with xrstor when the CPU and OS use XSAVE. On PVM hosts the
     * guest runs with the host's XCR0, so the host's own view decides. */
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    host.hwcap = d;
    bool osxsave = (c >> 27) & 1;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        host.xcr0 = ((uint64_t)hi << 32) | lo;
        host.xsave = true;
    }
    __cpuid_count(7, 0, a, b, c, d);
    host.fsgsbase = b & 1;
    /* The guest's XCR0 (hardware KVM): what KVM supports (CPUID leaf 0xD) and the host enabled, limited
     * to x87, SSE, AVX and AVX-512; other components (AMX) would need extra permissions. */
    /* KVM manages XCR0 only when its CPUID offers XSAVE (leaf 1, ECX bit 26); PVM hosts do not. */
    uint64_t kvm_xcr0 = 0;
    bool kvm_xsave = false;
    struct kvm_cpuid2 *cpuid = host.cpuid;
    for (unsigned i = 0; i < cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 0xd && e->index == 0)
            kvm_xcr0 = ((uint64_t)e->edx << 32) | e->eax;
        if (e->function == 1)
            kvm_xsave = (e->ecx >> 26) & 1;
    }
    host.xcr0 = kvm_xsave ? host.xcr0 & kvm_xcr0 & 0xe7 : 0;
    host.exit_on_emulation_failure = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0;
    /* QEMU's TCG names itself in the hypervisor CPUID leaf. */
    __cpuid(0x40000000, a, b, c, d);
    host.on_qemu_tcg = b == 0x54474354 && c == 0x43544743 && d == 0x47435447; /* "TCGTCGTCGTCG" */
    host_status = KVMF_OK;
}

int kvm_host_get(const struct kvm_host **out)
{
    pthread_once(&host_once, probe_host);
    if (host_status != KVMF_OK)
        return kvmf_fail(host_status, "%s", host_message);
    *out = &host;
    return KVMF_OK;
}

int kvmf_check_kvm(void)
{
    const struct kvm_host *h;
    return kvm_host_get(&h);
}

static void segment(struct kvm_segment *s, uint16_t selector, bool code, unsigned dpl)
{
    memset(s, 0, sizeof *s);
    s->selector = selector;
    s->base = 0;
    s->limit = 0xffffffff;
    s->type = code ? 11 : 3; /* execute/read accessed : read/write accessed */
    s->present = 1;
    s->dpl = dpl;
    s->s = 1;
    s->l = code;
    s->db = !code;
    s->g = 1;
}

/* TR's type: a busy 64-bit TSS (11), as after ltr; Intel's VM entry insists on it. But QEMU's TCG checks
 * a ring-3 port access against the I/O bitmap only when TR says "available" (9), and faults otherwise;
 * its SVM does not check the type, and real CPUs ignore it for the bitmap. So on a host that is a QEMU
 * TCG guest (the CI's emulated-SVM stage), type 9 lets the API call's `out` exit directly, as it does
 * on real hardware. */
static unsigned tss_type(void)
{
    return host.on_qemu_tcg ? 9 : 11;
}

/* Long mode, paging, the descriptor tables, and ring-3 code and stack segments. */
static int setup_sregs(struct vm *vm)
{
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
    sregs.cr3 = PT_POOL_ADDR; /* the PML4 is the pool's first page */
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (host.xsave)
        sregs.cr4 |= CR4_OSXSAVE;
    if (host.fsgsbase)
        sregs.cr4 |= CR4_FSGSBASE;
    sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    segment(&sregs.cs, USER_CS, true, 3);
    segment(&sregs.ss, USER_DS, false, 3);
    segment(&sregs.ds, USER_DS, false, 3);
    segment(&sregs.es, USER_DS, false, 3);
    segment(&sregs.fs, USER_DS, false, 3);
    segment(&sregs.gs, USER_DS, false, 3);
    sregs.gs.base = GS_TABLE_ADDR;
    memset(&sregs.tr, 0, sizeof sregs.tr);
    sregs.tr.selector = TSS_SEL;
    sregs.tr.base = TSS_ADDR;
    sregs.tr.limit = TSS_LIMIT;
    sregs.tr.type = tss_type();
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof sregs.ldt);
    sregs.ldt.unusable = 1;
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = 7 * 8 - 1;
    sregs.idt.base = IDT_ADDR;
    sregs.idt.limit = 32 * 16 - 1;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_SET_SREGS");
    return KVMF_OK;
}

/* The segment state of ring 3, computed once per VM for vm_enter_user(). */
static int capture_user_sregs(struct vm *vm)
{
    int rc = setup_sregs(vm);
    if (rc != KVMF_OK)
        return rc;
    vm->user_sregs = malloc(sizeof *vm->user_sregs);
    if (!vm->user_sregs)
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, vm->user_sregs) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    /* KVM on SVM reports TR as busy whatever was set (a workaround of its own): keep our choice. */
    vm->user_sregs->tr.type = tss_type();
    return KVMF_OK;
}

/* The registers a trap frame and KVM's struct kvm_regs share, by the same names. */
#define FRAME_REGS(X)                                                                                  \
    X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rsp) X(rbp) X(r8) X(r9) X(r10) X(r11) X(r12) X(r13)   \
    X(r14) X(r15) X(rip) X(rflags)

/* The general registers of the trap frame into the sync-regs area (loaded at the next KVM_RUN). */
static void put_regs(struct vm *vm, const struct trap_frame *f)
{
    struct kvm_regs *r = &vm->run->s.regs.regs;
#define TO_KVM(reg) r->reg = f->reg;
    FRAME_REGS(TO_KVM)
#undef TO_KVM
}

void vm_enter_user(struct vm *vm, const struct trap_frame *f, uint64_t fs_base)
{
    put_regs(vm, f);
    struct kvm_sregs *s = &vm->run->s.regs.sregs;
    *s = *vm->user_sregs;
    s->fs.base = fs_base;
    vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
}

void vm_exit_regs(const struct vm *vm, struct trap_frame *f)
{
    const struct kvm_regs *r = &vm->run->s.regs.regs;
#define FROM_KVM(reg) f->reg = r->reg;
    FRAME_REGS(FROM_KVM)
#undef FROM_KVM
    f->cs = USER_CS;
    f->ss = USER_DS;
}

int vm_interrupted_regs(struct vm *vm, struct trap_frame *f, bool *in_user, uint64_t *fs_base)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    struct kvm_vcpu_events events;
    if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
        return kvmf_fail_errno("KVM_GET_REGS");
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    if (ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &events) < 0)
        return kvmf_fail_errno("KVM_GET_VCPU_EVENTS");
#define FROM_KVM(reg) f->reg = r.reg;
    FRAME_REGS(FROM_KVM)
#undef FROM_KVM
    f->cs = USER_CS;
    f->ss = USER_DS;
    /* An event on its way in (a syscall's fault into the stub, say) belongs to these registers: it would be
     * delivered over any others loaded now, so the vCPU counts as busy, as in the stub. */
    bool pending = events.exception.injected || events.exception.pending || events.interrupt.injected ||
                   events.nmi.injected;
    *in_user = (s.cs.selector & 3) == 3 && !pending;
    *fs_base = s.fs.base;
    return KVMF_OK;
}

void vm_resume_user(struct vm *vm, const struct trap_frame *f)
{
    put_regs(vm, f);
    vm->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
}

static int setup_msrs(struct vm *vm)
{
    struct {
        struct kvm_msrs header;
        struct kvm_msr_entry entries[7];
    } m;
    memset(&m, 0, sizeof m);
    const struct {
        uint32_t index;
        uint64_t value;
    } values[] = {
        /* syscall loads CS from STAR[47:32]; we never sysret, so [63:48] is unused. */
        {MSR_STAR, (uint64_t)KERNEL_CS << 32},
        {MSR_LSTAR, SYSCALL_ENTRY_ADDR},
        {MSR_CSTAR, SYSCALL_ENTRY_ADDR},
        {MSR_SYSCALL_MASK, SYSCALL_MASK},
        {MSR_FS_BASE, 0},
        {MSR_GS_BASE, GS_TABLE_ADDR},
        {MSR_KERNEL_GS_BASE, 0},
    };
    for (unsigned i = 0; i < 7; i++) {
        m.entries[i].index = values[i].index;
        m.entries[i].data = values[i].value;
    }
    m.header.nmsrs = 7;
    int n = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &m);
    if (n < 0)
        return kvmf_fail_errno("KVM_SET_MSRS");
    if (n != 7)
        return kvmf_fail(KVMF_INTERNAL, "KVM_SET_MSRS accepted only %d of 7 MSRs (MSR 0x%x refused)", n,
                         values[n].index);
    return KVMF_OK;
}

int vm_create(struct vm *vm, uint8_t *mem, uint64_t mem_size, bool dirty_log, uint64_t shm_addr, uint64_t shm_size)
{
    memset(vm, 0, sizeof *vm);
    vm->fd = vm->vcpu_fd = -1;
    vm->mem = mem;
    vm->mem_size = mem_size;
    vm->dirty_log = dirty_log;
    int rc;
    do
        vm->fd = ioctl(host.fd, KVM_CREATE_VM, 0);
    while (vm->fd < 0 && errno == EINTR);
    if (vm->fd < 0)
        return kvmf_fail_errno("KVM_CREATE_VM");
    /* Only Intel CPUs without "unrestricted guest" (older than 2010) use this address, for a real-mode
     * TSS that our long-mode guests never need; elsewhere (newer Intel, AMD, PVM) the call does nothing.
     * Untested here: no machine of ours has VMX (see docs/architecture.md). */
    (void)ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
    if (host.exit_on_emulation_failure) {
        /* When KVM cannot emulate an access to memory without a slot (in our VMs: a vector store to
         * the API page), hardware KVM injects #UD into the guest unless this is enabled; with it, the
         * access exits as KVM_INTERNAL_ERROR_EMULATION, as on PVM, and fails the request precisely. */
        struct kvm_enable_cap cap = {.cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = {1}};
        if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0) {
            rc = kvmf_fail_errno("KVM_ENABLE_CAP(KVM_CAP_EXIT_ON_EMULATION_FAILURE)");
            goto fail;
        }
    }
    if (dirty_log) {
        /* Lets hot pages stay writable (instance.c); without it every first write in a request faults. */
        struct kvm_enable_cap cap = {.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
                                     .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}};
        vm->manual_protect = ioctl(vm->fd, KVM_ENABLE_CAP, &cap) == 0;
    }
    /* Two slots: the system area, which the stub writes on every exit and the host rewrites before
     * every run, is never dirty-logged (logging would cost write-protection faults on each request);
     * the program's memory above USER_MIN is, when `dirty_log`. The API page between them has no
     * memory, so that stores to it exit. A third slot, the shared area, is never logged: it is never
     * reset. */
    struct kvm_userspace_memory_region regions[3] = {
        {.slot = 0, .flags = 0, .guest_phys_addr = 0, .memory_size = API_PAGE_ADDR,
         .userspace_addr = (uint64_t)(uintptr_t)mem},
        {.slot = 1, .flags = dirty_log ? KVM_MEM_LOG_DIRTY_PAGES : 0, .guest_phys_addr = USER_MIN,
         .memory_size = mem_size - USER_MIN, .userspace_addr = (uint64_t)(uintptr_t)(mem + USER_MIN)},
        {.slot = 2, .flags = 0, .guest_phys_addr = shm_addr, .memory_size = shm_size,
         .userspace_addr = (uint64_t)(uintptr_t)(mem + shm_addr)},
    };
    for (int i = 0; i < (shm_size ? 3 : 2); i++) {
        if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &regions[i]) < 0) {
            rc = kvmf_fail_errno("KVM_SET_USER_MEMORY_REGION");
            goto fail;
        }
    }
    vm->vcpu_fd = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0) {
        rc = kvmf_fail_errno("KVM_CREATE_VCPU");
        goto fail;
    }
    vm->run = mmap(NULL, host.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        rc = kvmf_fail_errno("mmap of the vCPU run area");
        goto fail;
    }
    /* KVM copies the registers into the run area on every exit: an API call through the API page
     * reads its arguments there instead of paying a KVM_GET_REGS. */
    vm->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
    if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, host.cpuid) < 0) {
        rc = kvmf_fail_errno("KVM_SET_CPUID2");
        goto fail;
    }
    if (host.xsave && host.xcr0) {
        /* Hardware KVM: the guest's XCR0 must cover what CPUID advertises, or SIMD libraries that
         * trust CPUID fault. PVM hosts report no XSAVE support (xcr0 is 0 here) and run the guest
         * with the host's own XCR0, which is why ring-3 AVX works there regardless. */
        struct kvm_xcrs xcrs;
        memset(&xcrs, 0, sizeof xcrs);
        xcrs.nr_xcrs = 1;
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = host.xcr0;
        if (ioctl(vm->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0) {
            rc = kvmf_fail_errno("KVM_SET_XCRS");
            goto fail;
        }
    }
    if ((rc = setup_msrs(vm)) != KVMF_OK || (rc = capture_user_sregs(vm)) != KVMF_OK)
        goto fail;
    return KVMF_OK;
fail:
    vm_destroy(vm);
    return rc;
}

void vm_destroy(struct vm *vm)
{
    if (vm->run)
        munmap(vm->run, host.run_size);
    free(vm->user_sregs);
    vm->user_sregs = NULL;
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->fd >= 0)
        close(vm->fd);
    vm->run = NULL;
    vm->vcpu_fd = vm->fd = -1;
}

int vm_set_fs_base(struct vm *vm, uint64_t fs_base)
{
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    sregs.fs.base = fs_base;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_SET_SREGS");
    return KVMF_OK;
}

int vm_set_segment_bases(struct vm *vm, uint64_t fs_base, uint64_t gs_base)
{
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    sregs.fs.base = fs_base;
    sregs.gs.base = gs_base;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_SET_SREGS");
    return KVMF_OK;
}

int vm_get_dirty_log(struct vm *vm, uint64_t *bitmap)
{
    struct kvm_dirty_log log;
    memset(&log, 0, sizeof log);
    log.slot = 1; /* the program's memory, from USER_MIN */
    log.dirty_bitmap = bitmap;
    if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return kvmf_fail_errno("KVM_GET_DIRTY_LOG");
    return KVMF_OK;
}

int vm_clear_dirty_log(struct vm *vm, uint64_t *bitmap)
{
    struct kvm_clear_dirty_log clear;
    memset(&clear, 0, sizeof clear);
    clear.slot = 1;
    clear.first_page = 0;
    clear.num_pages = (uint32_t)((vm->mem_size - USER_MIN) / PAGE_SIZE); /* the whole slot */
    clear.dirty_bitmap = bitmap;
    if (ioctl(vm->fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
        return kvmf_fail_errno("KVM_CLEAR_DIRTY_LOG");
    return KVMF_OK;
}

int vm_get_fs_base(struct vm *vm, uint64_t *fs_base)
{
    struct kvm_sregs sregs;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return kvmf_fail_errno("KVM_GET_SREGS");
    *fs_base = sregs.fs.base;
    return KVMF_OK;
}
