/*
 * instance.c — request instances: a VM whose memory is a private copy-on-write view of the frozen
 * image, created, destroyed, or given a new VM over the same memory; and how a run enters the
 * program (the trap frame, the entry trampoline, sync-regs). What a request does is in request.c,
 * how an instance returns to the frozen state in reset.c.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

static void free_page_sets(struct kvmf_instance *in)
{
    free(in->dirty);
    free(in->touched);
    free(in->resident);
    free(in->hot);
    free(in->written_before);
    free(in->to_protect);
    free(in->hot_idle);
}

int instance_create(struct kvmf_program *p, uint32_t index, struct kvmf_instance **out)
{
    struct kvmf_instance *in = calloc(1, sizeof *in);
    if (!in)
        return kvmf_fail(KVMF_INTERNAL, "out of memory creating an instance");
    in->program = p;
    in->index = index;
    in->npages = p->mem_size / PAGE_SIZE;
    size_t words = (in->npages + 63) / 64;
    in->dirty = calloc(words, 8);
    in->touched = calloc(words, 8);
    in->resident = calloc(words, 8);
    uint8_t *mem = guest_memory_map(p, true);
    int rc;
    if (!mem) {
        rc = KVMF_INTERNAL;
        goto fail;
    }
    if (!in->dirty || !in->touched || !in->resident) {
        rc = kvmf_fail(KVMF_INTERNAL, "out of memory creating an instance");
        goto fail;
    }
    if ((rc = vm_create(&in->vm, mem, p->mem_size, true, p->shm_addr, p->shm_size)) != KVMF_OK)
        goto fail;
    if ((rc = as_copy(&in->as, &p->frozen_as)) != KVMF_OK || (rc = threads_copy(&in->threads, &p->frozen_threads)) != KVMF_OK)
        goto fail;
    if (in->vm.manual_protect && p->config.ephemeral) {
        in->hot = calloc(words, 8);
        in->written_before = calloc(words, 8);
        in->hot_idle = calloc(in->npages, 1);
    }
    in->to_protect = calloc(words, 8);
    if ((in->vm.manual_protect && p->config.ephemeral && (!in->hot || !in->written_before || !in->hot_idle)) ||
        !in->to_protect) {
        rc = kvmf_fail(KVMF_INTERNAL, "out of memory creating an instance");
        goto fail;
    }
    in->fs_base = p->frozen_fs_base;
    memcpy(in->files, p->frozen_files, sizeof in->files);
    in->netpoll = p->frozen_netpoll;
    *out = in;
    return KVMF_OK;
fail:
    if (in->vm.run)
        vm_destroy(&in->vm);
    if (mem)
        guest_memory_unmap(p, mem);
    as_free(&in->as);
    threads_free(&in->threads);
    free_page_sets(in);
    free(in);
    return rc;
}

void instance_destroy(struct kvmf_instance *in)
{
    if (!in)
        return;
    uint8_t *mem = in->vm.mem;
    vm_destroy(&in->vm);
    if (mem && !in->is_boot)
        guest_memory_unmap(in->program, mem);
    as_free(&in->as);
    threads_free(&in->threads);
    exchange_free(&in->ex);
    regex_set_clear(&in->regexes);
    curl_fetch_release(in);
    free_page_sets(in);
    free(in);
}

int instance_renew_vm(struct kvmf_instance *in)
{
    uint64_t ignored;
    int rc = dirty_collect(in, &ignored); /* the old VM's log: its pages still need restoring */
    uint8_t *mem = in->vm.mem;
    vm_destroy(&in->vm);
    const struct kvmf_program *p = in->program;
    int rc2 = vm_create(&in->vm, mem, p->mem_size, true, p->shm_addr, p->shm_size);
    /* Every page of the new VM starts write-protected. The hot set stays: a hot page is compared with
     * the frozen image whether or not it is writable, and its first write makes it writable again.
     * (Emptying it would also let the next request time that this one was refused.) */
    return rc != KVMF_OK ? rc : rc2;
}

void frame_enter_user(struct kvmf_instance *in, uint64_t target)
{
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    f->r11 = target;
    f->rip = in->program->host->xsave ? ENTRY_TRAMPOLINE_ADDR : ENTRY_TRAMPOLINE_FXRSTOR_ADDR;
    f->cs = USER_CS;
    f->ss = USER_DS;
}

int instance_launch(struct kvmf_instance *in)
{
    /* Straight into ring 3 through KVM's sync-regs area: no register ioctls and no pass through the
     * stub, whose iretq and base-register writes PVM emulates at great cost. */
    vm_enter_user(&in->vm, (const struct trap_frame *)(in->vm.mem + FRAME_ADDR), in->fs_base);
    return KVMF_OK;
}

void instance_prepare_call(struct kvmf_instance *in, uint64_t fn, const uint64_t *args, int nargs)
{
    instance_prepare_call_at(in, fn, args, nargs, in->program->request_stack_top);
}

void instance_prepare_call_at(struct kvmf_instance *in, uint64_t fn, const uint64_t *args, int nargs,
                              uint64_t stack_top)
{
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    memset(f, 0, sizeof *f);
    /* A fresh stack: 16-byte aligned before the call, then the return address, as a call
     * instruction would leave it. Returning lands on a ud2: "no response". */
    uint64_t sp = stack_top - 8;
    uint64_t ret = HANDLER_RETURN_ADDR;
    guest_write(in, sp, &ret, 8);
    uint64_t *regs[6] = {&f->rdi, &f->rsi, &f->rdx, &f->rcx, &f->r8, &f->r9};
    for (int i = 0; i < nargs && i < 6; i++)
        *regs[i] = args[i];
    f->rflags = RFLAGS_USER_DEFAULT;
    f->rsp = sp;
    frame_enter_user(in, fn);
}
