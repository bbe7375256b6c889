/*
 * program.c — a program's life: creation (configuration checked in config.c, boot in boot.c), the
 * freeze, destruction. Its instances are in pool.c, its statistics in stats.c.
 *
 * Boot runs in a VM whose memory is a shared mapping of a memfd; when the program reaches
 * wait_for_requests() that memfd *is* the frozen image. It is then sealed against writes and
 * every instance maps it privately (copy-on-write).
 *
 * A program with a shared memory area has a second memfd, mapped shared into every VM above the
 * program's memory: what one VM writes there every other sees at once, and no reset undoes it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

static void free_program(struct kvmf_program *p)
{
    if (!p)
        return;
    storage_tasks_stop(p);
    free_program(p->storage);
    if (p->instances) {
        for (uint64_t i = 0; i < p->config.concurrency; i++)
            instance_destroy(p->instances[i]);
        free(p->instances);
    }
    free(p->reserved);
    if (p->frozen)
        munmap(p->frozen, p->mem_size);
    if (p->memfd >= 0)
        close(p->memfd);
    if (p->shm_fd >= 0)
        close(p->shm_fd);
    files_close_host(p);
    as_free(&p->frozen_as);
    threads_free(&p->frozen_threads);
    regex_set_clear(&p->boot_regexes);
    buffer_free(&p->boot_log);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p->name);
    free(p->arguments);
    free(p->environment);
    egress_free(p->egress);
    free(p);
}

static char *copy_blob(const char *blob, uint64_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        if (len)
            memcpy(copy, blob, len);
        copy[len] = '\0';
    }
    return copy;
}

/* The unmapped gap between the program's memory and the shared area: a stack or buffer running off
 * the top of the program's memory faults instead of writing into the shared area. */
#define SHM_GAP HUGE_PAGE_SIZE

uint8_t *guest_memory_map(struct kvmf_program *p, bool private_copy)
{
    uint8_t *mem = mmap(NULL, p->map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        kvmf_fail_errno("mmap reserving guest memory");
        return NULL;
    }
    int share = private_copy ? MAP_PRIVATE : MAP_SHARED;
    if (mmap(mem, p->mem_size, PROT_READ | PROT_WRITE, share | MAP_FIXED | MAP_NORESERVE, p->memfd, 0) == MAP_FAILED ||
        (p->shm_size && mmap(mem + p->shm_addr, p->shm_size, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_FIXED | MAP_NORESERVE, p->shm_fd, 0) == MAP_FAILED)) {
        kvmf_fail_errno("mmap of guest memory");
        munmap(mem, p->map_size);
        return NULL;
    }
    return mem;
}

void guest_memory_unmap(struct kvmf_program *p, uint8_t *mem)
{
    if (mem)
        munmap(mem, p->map_size);
}

/* Creates the shared memory area's file, when the program has one; a storage program shares its owner's. */
static int create_shared_area(struct kvmf_program *p, const char *name, const struct kvmf_program *owner)
{
    p->map_size = p->mem_size;
    if (owner) {
        if (owner->shm_fd < 0)
            return KVMF_OK;
        p->shm_addr = owner->shm_addr;
        p->shm_size = owner->shm_size;
        p->map_size = owner->map_size;
        if (owner->shm_fd >= 0 && (p->shm_fd = fcntl(owner->shm_fd, F_DUPFD_CLOEXEC, 0)) < 0)
            return kvmf_fail_errno("dup of the shared memory file");
        return KVMF_OK;
    }
    if (!p->config.shared_memory)
        return KVMF_OK;
    /* Above the memory of every VM of the program, storage's included: the area is at one address in all. */
    uint64_t top = p->mem_size;
    if (p->config.storage && p->config.max_storage_memory > top)
        top = p->config.max_storage_memory;
    p->shm_addr = top + SHM_GAP;
    p->shm_size = p->config.shared_memory;
    p->map_size = p->shm_addr + p->shm_size;
    p->shm_fd = memfd_create(name, MFD_CLOEXEC);
    if (p->shm_fd < 0)
        return kvmf_fail_errno("memfd_create (shared memory)");
    if (ftruncate(p->shm_fd, (off_t)p->shm_size) < 0)
        return kvmf_fail_errno("ftruncate of the shared memory file");
    return KVMF_OK;
}

/* Creates a program; with `owner`, the owner's storage program (same ELF, KVM_TYPE=storage, the owner's shared
 * area). A program whose config asks for storage creates its storage program first: storage boots first. */
static int create(const char *name, const void *elf, uint64_t elf_len, const struct kvmf_config *config,
                  const struct kvmf_program *owner, kvmf_program **out);

int kvmf_program_create(const char *name, const void *elf, uint64_t elf_len, const struct kvmf_config *config,
                        kvmf_program **out)
{
    return create(name, elf, elf_len, config, NULL, out);
}

static int create(const char *name, const void *elf, uint64_t elf_len, const struct kvmf_config *config,
                  const struct kvmf_program *owner, kvmf_program **out)
{
    if (!out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_create: out is NULL");
    *out = NULL;
    if (!name || !*name || strlen(name) > 200 || strchr(name, '/'))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid program name \"%s\": 1 to 200 characters, no '/'",
                         name ? name : "(null)");
    if (!elf)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "program \"%s\": no ELF bytes given", name);
    struct kvmf_config defaults;
    if (!config) {
        kvmf_config_defaults(&defaults);
        config = &defaults;
    }
    int rc = config_check(config);
    if (rc != KVMF_OK)
        return rc;
    const struct kvm_host *host;
    if ((rc = kvm_host_get(&host)) != KVMF_OK)
        return rc;

    struct kvmf_program *p = calloc(1, sizeof *p);
    if (!p)
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    p->memfd = p->shm_fd = p->state_fd = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &attr);
    pthread_condattr_destroy(&attr);
    p->name = strdup(name);
    p->config = *config;
    p->arguments = copy_blob(config->arguments, config->arguments_len);
    p->environment = copy_blob(config->environment, config->environment_len);
    p->config.arguments = p->arguments;
    p->config.environment = p->environment;
    p->state_file = config->state_file ? strdup(config->state_file) : NULL;
    p->config.state_file = p->state_file;
    p->allowed_paths = copy_blob(config->allowed_paths, config->allowed_paths_len);
    p->config.allowed_paths = p->allowed_paths;
    p->host = host;
    p->mem_size = config->max_memory;
    p->config.egress = NULL; /* parsed below; the caller's blob is not kept */
    p->config.egress_len = 0;
    p->instances = calloc(config->concurrency, sizeof *p->instances);
    p->reserved = calloc(config->concurrency, sizeof *p->reserved);
    if (!p->name || !p->arguments || !p->environment || !p->allowed_paths || !p->instances || !p->reserved) {
        free_program(p);
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    }
    if ((rc = egress_parse(config->egress, config->egress_len, &p->egress)) != KVMF_OK) {
        free_program(p);
        return rc;
    }

    uint8_t *mem = NULL;
    p->memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (p->memfd < 0) {
        rc = kvmf_fail_errno("memfd_create");
        goto fail;
    }
    if (ftruncate(p->memfd, (off_t)p->mem_size) < 0) {
        rc = kvmf_fail_errno("ftruncate of the guest memory file");
        goto fail;
    }
    p->is_storage = owner != NULL;
    if ((config->state_file && !p->state_file) || (rc = files_open_host(p)) != KVMF_OK) {
        if (rc == KVMF_OK)
            rc = kvmf_fail(KVMF_INTERNAL, "out of memory");
        goto fail;
    }
    if ((rc = create_shared_area(p, name, owner)) != KVMF_OK)
        goto fail;
    if (config->storage && !owner) {
        /* One instance, never reset but after a failure; its own memory and time when configured. */
        struct kvmf_config storage = *config;
        storage.storage = 0;
        storage.concurrency = 1;
        storage.ephemeral = 0;
        if (config->max_storage_memory) {
            storage.max_memory = config->max_storage_memory;
            if (storage.max_request_memory > storage.max_memory)
                storage.max_request_memory = storage.max_memory;
            if (storage.max_response_size > storage.max_memory)
                storage.max_response_size = storage.max_memory;
        }
        if (config->max_storage_time_ms)
            storage.max_request_time_ms = config->max_storage_time_ms;
        if ((rc = create(name, elf, elf_len, &storage, p, &p->storage)) != KVMF_OK)
            goto fail;
    }
    if (!(mem = guest_memory_map(p, false))) {
        rc = KVMF_INTERNAL;
        goto fail;
    }
    if ((rc = boot_program(p, mem, elf, elf_len)) != KVMF_OK)
        goto fail;
    guest_memory_unmap(p, mem);
    mem = NULL;
    /* Freeze: no writer is left, so seal the image against any change. */
    if (fcntl(p->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        rc = kvmf_fail_errno("sealing the frozen image (F_ADD_SEALS)");
        goto fail;
    }
    p->frozen = mmap(NULL, p->mem_size, PROT_READ, MAP_SHARED | MAP_NORESERVE, p->memfd, 0);
    if (p->frozen == MAP_FAILED) {
        p->frozen = NULL;
        rc = kvmf_fail_errno("mmap of the frozen image");
        goto fail;
    }
    *out = p;
    return KVMF_OK;
fail:
    guest_memory_unmap(p, mem);
    {
        char saved[1024];
        snprintf(saved, sizeof saved, "%s", kvmf_last_error());
        free_program(p);
        kvmf_fail(rc, "%s", saved);
    }
    return rc;
}

const char *kvmf_program_boot_log(const kvmf_program *p)
{
    return p && p->boot_log.data ? p->boot_log.data : "";
}

int kvmf_program_destroy(kvmf_program *p)
{
    if (!p)
        return KVMF_OK;
    pthread_mutex_lock(&p->lock);
    for (uint64_t i = 0; i < p->config.concurrency; i++) {
        if (p->instances[i] && p->instances[i]->busy) {
            pthread_mutex_unlock(&p->lock);
            return kvmf_fail(KVMF_INVALID_ARGUMENT, "program \"%s\" still has instance %llu acquired: release it "
                             "before destroying the program", p->name, (unsigned long long)i);
        }
    }
    pthread_mutex_unlock(&p->lock);
    free_program(p);
    return KVMF_OK;
}
