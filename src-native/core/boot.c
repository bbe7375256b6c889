/*
 * boot.c — from an ELF file to the state that is frozen: the guest's system area and page tables, the
 * program's segments, heap and stacks, the initial stack (argc, argv, envp, auxv), and the run from
 * the entry point to wait_for_requests() in a VM over the memory that becomes the frozen image.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core.h"

#define BOOT_LOG_TAIL 2000 /* bytes of the program's output quoted when its boot fails */

/* Pushes `len` bytes below *sp and returns their guest address. */
static uint64_t push(uint8_t *mem, uint64_t *sp, const void *data, uint64_t len)
{
    *sp -= len;
    memcpy(mem + *sp, data, len);
    return *sp;
}

/* The initial stack Linux gives a new process: argc, argv, envp and the auxiliary vector. */
static int build_stack(struct kvmf_program *p, uint8_t *mem, uint64_t *sp_out)
{
    uint64_t sp = p->stack_top;
    uint64_t strings[512];
    int argc = 0, envc = 0;
    strings[argc++] = push(mem, &sp, p->name, strlen(p->name) + 1);
    for (uint64_t off = 0; off < p->config.arguments_len && argc < 200;) {
        const char *s = p->arguments + off;
        strings[argc++] = push(mem, &sp, s, strlen(s) + 1);
        off += strlen(s) + 1;
    }
    char fixed[5][300];
    snprintf(fixed[0], sizeof fixed[0], "KVM_NAME=%s", p->name);
    snprintf(fixed[1], sizeof fixed[1], "KVM_TYPE=%s", p->is_storage ? "storage" : "request");
    snprintf(fixed[2], sizeof fixed[2], "KVM_DEBUG=%d", p->config.debug ? 1 : 0);
    snprintf(fixed[3], sizeof fixed[3], "LC_ALL=C");
    snprintf(fixed[4], sizeof fixed[4], "%s=0x%llx", API_PAGE_ENV, (unsigned long long)API_PAGE_ADDR);
    uint64_t *env = strings + 256;
    for (int i = 0; i < 5; i++)
        env[envc++] = push(mem, &sp, fixed[i], strlen(fixed[i]) + 1);
    for (uint64_t off = 0; off < p->config.environment_len && envc < 250;) {
        const char *s = p->environment + off;
        env[envc++] = push(mem, &sp, s, strlen(s) + 1);
        off += strlen(s) + 1;
    }
    if (p->config.arguments_len && argc >= 200)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: more than 199 main arguments");
    if (envc >= 250)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: more than 244 environment variables");
    uint64_t platform = push(mem, &sp, "x86_64", 7);
    uint8_t random[16];
    if (getrandom(random, sizeof random, 0) != sizeof random)
        return kvmf_fail_errno("getrandom");
    uint64_t random_addr = push(mem, &sp, random, sizeof random);
    uint64_t execfn = strings[0];

    uint64_t auxv[][2] = {
        {3, p->elf.phdr_addr},  /* AT_PHDR */
        {4, 56},                /* AT_PHENT */
        {5, p->elf.phnum},      /* AT_PHNUM */
        {6, PAGE_SIZE},         /* AT_PAGESZ */
        {7, 0},                 /* AT_BASE: no interpreter */
        {8, 0},                 /* AT_FLAGS */
        {9, p->elf.entry},      /* AT_ENTRY */
        {11, 0}, {12, 0}, {13, 0}, {14, 0}, /* AT_UID, AT_EUID, AT_GID, AT_EGID */
        {15, platform},         /* AT_PLATFORM */
        {16, p->host->hwcap},   /* AT_HWCAP */
        {17, 100},              /* AT_CLKTCK */
        {23, 0},                /* AT_SECURE */
        {25, random_addr},      /* AT_RANDOM: glibc's stack protector and pointer guard */
        {26, 0},                /* AT_HWCAP2 */
        {31, execfn},           /* AT_EXECFN */
        {0, 0},                 /* AT_NULL */
    };
    uint64_t words = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * (sizeof auxv / sizeof auxv[0]);
    sp = (sp - words * 8) & ~15ULL; /* argc must sit on a 16-byte boundary */
    uint64_t *out = (uint64_t *)(mem + sp);
    *out++ = (uint64_t)argc;
    for (int i = 0; i < argc; i++)
        *out++ = strings[i];
    *out++ = 0;
    for (int i = 0; i < envc; i++)
        *out++ = env[i];
    *out++ = 0;
    memcpy(out, auxv, sizeof auxv);
    *sp_out = sp;
    return KVMF_OK;
}

/* Where handlers run: on the main stack, below the frozen stack pointer and its red zone, as under the VMOD ("a new
 * stack that does not trample the old one"), so that a runtime which knows its main thread's stack (cgo's g0
 * bounds in Go) finds its callbacks inside it; on the spare request stack when the freeze left too little room. */
static void place_request_stack(struct kvmf_program *p, uint64_t frozen_rsp)
{
    uint64_t main_bottom = p->stack_top - MAIN_STACK_SIZE;
    uint64_t top = (frozen_rsp - RED_ZONE_SIZE) & ~U(15);
    if (frozen_rsp <= p->stack_top && top > main_bottom && top - main_bottom >= REQUEST_STACK_MIN)
        p->request_stack_top = top;
}

/* Lays out and maps heap and stacks (see layout.h); returns the address space. */
static int map_program_memory(struct kvmf_program *p, struct page_tables *pt)
{
    uint64_t size = p->mem_size;
    uint64_t main_bottom = size - MAIN_STACK_SIZE;
    p->stack_top = size;
    p->request_stack_top = main_bottom - STACK_GUARD_SIZE;
    uint64_t request_bottom = p->request_stack_top - REQUEST_STACK_SIZE;
    uint64_t mmap_top = (request_bottom - STACK_GUARD_SIZE) & ~(HUGE_PAGE_SIZE - 1);
    uint64_t brk_start = (p->elf.load_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint64_t huge_start = (brk_start + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
    if (huge_start >= mmap_top)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: max_memory (%llu MiB) leaves no heap after "
                         "the program (%llu MiB) and its stacks (%llu MiB)",
                         (unsigned long long)(size >> 20), (unsigned long long)(p->elf.load_end >> 20),
                         (unsigned long long)((MAIN_STACK_SIZE + REQUEST_STACK_SIZE) >> 20));
    const uint64_t rw = PTE_USER | PTE_WRITE | PTE_NX;
    int rc;
    if ((rc = pt_map(pt, brk_start, huge_start - brk_start, rw)) != KVMF_OK ||
        (rc = pt_map_huge(pt, huge_start, mmap_top - huge_start, rw)) != KVMF_OK ||
        (rc = pt_map(pt, request_bottom, REQUEST_STACK_SIZE, rw)) != KVMF_OK ||
        (rc = pt_map(pt, main_bottom, MAIN_STACK_SIZE, rw)) != KVMF_OK)
        return rc;
    if (p->shm_size) {
        /* The shared area starts 2 MiB aligned; 2 MiB pages as far as they go, 4 KiB pages for the rest. */
        uint64_t huge = p->shm_size & ~(HUGE_PAGE_SIZE - 1);
        if ((rc = pt_map_huge(pt, p->shm_addr, huge, rw)) != KVMF_OK ||
            (rc = pt_map(pt, p->shm_addr + huge, p->shm_size - huge, rw)) != KVMF_OK)
            return rc;
    }
    as_layout(&p->frozen_as, brk_start, mmap_top);
    return KVMF_OK;
}

/* Runs the program from its entry point to wait_for_requests() in a VM over `mem`. */
static int boot(struct kvmf_program *p, uint8_t *mem, uint64_t sp)
{
    struct kvmf_instance *boot = calloc(1, sizeof *boot);
    if (!boot)
        return kvmf_fail(KVMF_INTERNAL, "out of memory booting");
    boot->program = p;
    boot->is_boot = true;
    int rc = vm_create(&boot->vm, mem, p->mem_size, false, p->shm_addr, p->shm_size);
    if (rc != KVMF_OK) {
        free(boot);
        return rc;
    }
    as_copy(&boot->as, &p->frozen_as);
    struct trap_frame *f = (struct trap_frame *)(mem + FRAME_ADDR);
    memset(f, 0, sizeof *f);
    f->rflags = RFLAGS_USER_DEFAULT;
    f->rsp = sp;
    frame_enter_user(boot, p->elf.entry);
    uint64_t start = now_ns();
    exchange_reset(&boot->ex, PHASE_BOOT, start + p->config.max_boot_time_ms * 1000000ULL);
    if ((rc = instance_launch(boot)) != KVMF_OK)
        exchange_fail(boot, rc, "%s", kvmf_last_error());
    else
        vcpu_run(boot);
    p->boot_ns = now_ns() - start;
    struct exchange *ex = &boot->ex;
    if (ex->log.len)
        buffer_append(&p->boot_log, ex->log.data, ex->log.len, SIZE_MAX);
    if (!p->handlers.request)
        p->handlers.request = p->handlers.frontend; /* handler 0 answers like 3 when there is no 3 */
    if (ex->error == KVMF_OK && ex->froze && !p->handlers.get && !p->handlers.post && !p->handlers.request &&
        !ex->paused_mode && !p->is_storage) /* storage answers calls, not requests */
        exchange_fail(boot, KVMF_BOOT_FAILED, "the program reached wait_for_requests() without registering a "
                      "handler (register_func with 0 frontend, 1 GET, 2 POST or 3 request)");
    if (ex->error != KVMF_OK) {
        const char *tail = p->boot_log.len > BOOT_LOG_TAIL ? p->boot_log.data + p->boot_log.len - BOOT_LOG_TAIL
                                                          : (p->boot_log.data ? p->boot_log.data : "");
        rc = kvmf_fail(KVMF_BOOT_FAILED, "program \"%s\"%s failed to boot: %s: %s%s%s", p->name,
                       p->is_storage ? " (its storage instance, KVM_TYPE=storage)" : "",
                       kvmf_error_name(ex->error), ex->message, *tail ? "; its output ends with: " : "", tail);
    } else {
        p->frozen_frame = *f;
        memcpy(p->frozen_files, boot->files, sizeof p->frozen_files);
        rc = threads_copy(&p->frozen_threads, &boot->threads);
        place_request_stack(p, f->rsp);
        p->frozen_netpoll = boot->netpoll;
        p->paused_mode = ex->paused_mode;
        p->paused_req_addr = ex->paused_req_addr;
        if (rc == KVMF_OK)
            rc = vm_get_fs_base(&boot->vm, &p->frozen_fs_base);
        if (rc == KVMF_OK)
            rc = as_copy(&p->frozen_as, &boot->as);
    }
    vm_destroy(&boot->vm);
    as_free(&boot->as);
    threads_free(&boot->threads);
    exchange_free(&boot->ex);
    free(boot);
    return rc;
}

int boot_program(struct kvmf_program *p, uint8_t *mem, const void *elf, uint64_t elf_len)
{
    struct page_tables pt;
    pt_init(&pt, mem, p->mem_size);
    uint64_t sp = 0;
    int rc;
    if ((rc = sysarea_write(mem, &pt)) != KVMF_OK ||
        (rc = elf_load(elf, elf_len, mem, p->mem_size, &pt, &p->elf)) != KVMF_OK ||
        (rc = map_program_memory(p, &pt)) != KVMF_OK || (rc = build_stack(p, mem, &sp)) != KVMF_OK)
        return rc;
    return boot(p, mem, sp);
}
