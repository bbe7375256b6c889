/*
 * program.c — a program's life: configuration, boot to wait_for_requests(), freeze, the pool of
 * request instances, statistics, destruction.
 *
 * Boot runs in a VM whose memory is a shared mapping of a memfd; when the program reaches
 * wait_for_requests() that memfd *is* the frozen image. It is then sealed against writes and
 * every instance maps it privately (copy-on-write).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define MIN_MEMORY (32ULL << 20)
#define MAX_MEMORY (64ULL << 30)
#define MAX_CONCURRENCY 4096
#define MAX_TIME_MS (24ULL * 3600 * 1000)
#define BOOT_LOG_TAIL 2000

void kvmf_config_defaults(struct kvmf_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_memory = 256ULL << 20;
    c->max_request_memory = 64ULL << 20;
    c->max_response_size = 64ULL << 20;
    c->max_boot_time_ms = 10000;
    c->max_request_time_ms = 8000;
    c->on_error_time_ms = 1000;
    c->concurrency = 1;
    c->max_queue = 256;
    c->ephemeral = 1;
    c->debug = 0;
}

static int invalid(const char *setting, unsigned long long value, const char *allowed)
{
    return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: %s = %llu; allowed: %s", setting, value,
                     allowed);
}

static int check_strings(const char *what, const char *blob, uint64_t len)
{
    if (len && (!blob || blob[len - 1] != '\0'))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: %s must be NUL-terminated strings placed "
                         "back to back (the last byte must be NUL)", what);
    return KVMF_OK;
}

static int check_config(const struct kvmf_config *c)
{
    if (c->max_memory < MIN_MEMORY || c->max_memory > MAX_MEMORY || c->max_memory % HUGE_PAGE_SIZE)
        return invalid("max_memory", c->max_memory, "32 MiB to 64 GiB, a multiple of 2 MiB (bytes)");
    if (c->max_request_memory < PAGE_SIZE || c->max_request_memory > c->max_memory)
        return invalid("max_request_memory", c->max_request_memory, "4096 bytes up to max_memory");
    if (c->max_response_size > c->max_memory)
        return invalid("max_response_size", c->max_response_size, "0 up to max_memory");
    if (c->max_boot_time_ms == 0 || c->max_boot_time_ms > MAX_TIME_MS)
        return invalid("max_boot_time_ms", c->max_boot_time_ms, "1 to 86400000");
    if (c->max_request_time_ms == 0 || c->max_request_time_ms > MAX_TIME_MS)
        return invalid("max_request_time_ms", c->max_request_time_ms, "1 to 86400000");
    if (c->on_error_time_ms > MAX_TIME_MS)
        return invalid("on_error_time_ms", c->on_error_time_ms, "0 to 86400000");
    if (c->concurrency == 0 || c->concurrency > MAX_CONCURRENCY)
        return invalid("concurrency", c->concurrency, "1 to 4096");
    if (c->ephemeral > 1)
        return invalid("ephemeral", c->ephemeral, "0 or 1");
    if (c->debug > 1)
        return invalid("debug", c->debug, "0 or 1");
    int rc = check_strings("arguments", c->arguments, c->arguments_len);
    return rc != KVMF_OK ? rc : check_strings("environment", c->environment, c->environment_len);
}

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
    snprintf(fixed[1], sizeof fixed[1], "KVM_TYPE=request");
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
    as_layout(&p->frozen_as, brk_start, mmap_top);
    return KVMF_OK;
}

static void free_program(struct kvmf_program *p)
{
    if (!p)
        return;
    if (p->instances) {
        for (uint64_t i = 0; i < p->config.concurrency; i++)
            instance_destroy(p->instances[i]);
        free(p->instances);
    }
    if (p->frozen)
        munmap(p->frozen, p->mem_size);
    if (p->memfd >= 0)
        close(p->memfd);
    as_free(&p->frozen_as);
    buffer_free(&p->boot_log);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->freed);
    free(p->name);
    free(p->arguments);
    free(p->environment);
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

/* Runs the program from its entry point to wait_for_requests() in a VM over `mem`. */
static int boot(struct kvmf_program *p, uint8_t *mem, uint64_t sp)
{
    struct kvmf_instance *boot = calloc(1, sizeof *boot);
    if (!boot)
        return kvmf_fail(KVMF_INTERNAL, "out of memory booting");
    boot->program = p;
    boot->is_boot = true;
    int rc = vm_create(&boot->vm, mem, p->mem_size, false);
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
    if (ex->error == KVMF_OK && ex->froze && !p->handlers.get && !p->handlers.post && !p->handlers.request &&
        !ex->paused_mode)
        exchange_fail(boot, KVMF_BOOT_FAILED, "the program reached wait_for_requests() without registering a "
                      "handler (register_func with 1 GET, 2 POST or 3 request)");
    if (ex->error != KVMF_OK) {
        const char *tail = p->boot_log.len > BOOT_LOG_TAIL ? p->boot_log.data + p->boot_log.len - BOOT_LOG_TAIL
                                                          : (p->boot_log.data ? p->boot_log.data : "");
        rc = kvmf_fail(KVMF_BOOT_FAILED, "program \"%s\" failed to boot: %s: %s%s%s", p->name,
                       kvmf_error_name(ex->error), ex->message, *tail ? "; its output ends with: " : "", tail);
    } else {
        p->frozen_frame = *f;
        p->paused_mode = ex->paused_mode;
        p->paused_req_addr = ex->paused_req_addr;
        rc = vm_get_fs_base(&boot->vm, &p->frozen_fs_base);
        if (rc == KVMF_OK)
            rc = as_copy(&p->frozen_as, &boot->as);
    }
    vm_destroy(&boot->vm);
    as_free(&boot->as);
    exchange_free(&boot->ex);
    free(boot);
    return rc;
}

int kvmf_program_create(const char *name, const void *elf, uint64_t elf_len, const struct kvmf_config *config,
                        kvmf_program **out)
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
    int rc = check_config(config);
    if (rc != KVMF_OK)
        return rc;
    const struct kvm_host *host;
    if ((rc = kvm_host_get(&host)) != KVMF_OK)
        return rc;

    struct kvmf_program *p = calloc(1, sizeof *p);
    if (!p)
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    p->memfd = -1;
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
    p->host = host;
    p->mem_size = config->max_memory;
    p->instances = calloc(config->concurrency, sizeof *p->instances);
    if (!p->name || !p->arguments || !p->environment || !p->instances) {
        free_program(p);
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
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
    mem = mmap(NULL, p->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, p->memfd, 0);
    if (mem == MAP_FAILED) {
        mem = NULL;
        rc = kvmf_fail_errno("mmap of the guest memory");
        goto fail;
    }
    struct page_tables pt;
    pt_init(&pt, mem, p->mem_size);
    uint64_t sp = 0;
    if ((rc = sysarea_write(mem, &pt)) != KVMF_OK ||
        (rc = elf_load(elf, elf_len, mem, p->mem_size, &pt, &p->elf)) != KVMF_OK ||
        (rc = map_program_memory(p, &pt)) != KVMF_OK || (rc = build_stack(p, mem, &sp)) != KVMF_OK)
        goto fail;
    if ((rc = boot(p, mem, sp)) != KVMF_OK)
        goto fail;
    munmap(mem, p->mem_size);
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
    if (mem)
        munmap(mem, p->mem_size);
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

/* ---- the pool ------------------------------------------------------------------------------ */

static struct kvmf_instance *take_free(struct kvmf_program *p)
{
    for (uint32_t i = 0; i < p->created; i++) {
        struct kvmf_instance *in = p->instances[i];
        if (in && !in->busy) {
            in->busy = true;
            __atomic_store_n(&in->stats.busy, 1, __ATOMIC_RELAXED);
            return in;
        }
    }
    return NULL;
}

/* Creates instance number `created` outside the lock (it takes about a millisecond). */
static int grow(struct kvmf_program *p, struct kvmf_instance **out)
{
    uint32_t index = p->created + p->creating;
    p->creating++;
    pthread_mutex_unlock(&p->lock);
    struct kvmf_instance *in = NULL;
    int rc = instance_create(p, index, &in);
    pthread_mutex_lock(&p->lock);
    p->creating--;
    if (rc != KVMF_OK)
        return rc;
    p->instances[index] = in;
    if (index >= p->created)
        p->created = index + 1;
    in->busy = true;
    in->stats.busy = 1;
    *out = in;
    return KVMF_OK;
}

int kvmf_program_acquire(kvmf_program *p, uint64_t timeout_ms, kvmf_instance **out)
{
    if (!p || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_acquire: program and out are required");
    *out = NULL;
    int rc = KVMF_OK;
    uint64_t wait_start = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct kvmf_instance *in = take_free(p);
        if (in) {
            *out = in;
            break;
        }
        if (p->created + p->creating < p->config.concurrency) {
            rc = grow(p, out);
            break;
        }
        if (!wait_start) {
            if (p->waiters >= p->config.max_queue) {
                p->queue_timeouts++;
                rc = kvmf_fail(KVMF_QUEUE_TIMEOUT, "program \"%s\": the wait queue is full (%llu waiting, "
                               "max_queue %llu)", p->name, (unsigned long long)p->waiters,
                               (unsigned long long)p->config.max_queue);
                break;
            }
            wait_start = now_ns();
            p->queue_waits++;
        }
        uint64_t deadline = wait_start + timeout_ms * 1000000ULL;
        if (now_ns() >= deadline) {
            p->queue_timeouts++;
            rc = kvmf_fail(KVMF_QUEUE_TIMEOUT, "program \"%s\": no instance became free within %llu ms "
                           "(concurrency %llu)", p->name, (unsigned long long)timeout_ms,
                           (unsigned long long)p->config.concurrency);
            break;
        }
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000ULL),
                              .tv_nsec = (long)(deadline % 1000000000ULL)};
        p->waiters++;
        pthread_cond_timedwait(&p->freed, &p->lock, &ts);
        p->waiters--;
    }
    if (wait_start)
        p->queue_wait_ns += now_ns() - wait_start;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void kvmf_instance_release(kvmf_instance *in)
{
    if (!in)
        return;
    struct kvmf_program *p = in->program;
    if ((in->needs_reset || p->config.ephemeral) && instance_reset(in) != KVMF_OK) {
        /* An instance that cannot be reset is never used again: replace it. */
        pthread_mutex_lock(&p->lock);
        p->instances[in->index] = NULL;
        pthread_mutex_unlock(&p->lock);
        instance_destroy(in);
        struct kvmf_instance *fresh = NULL;
        if (instance_create(p, in->index, &fresh) == KVMF_OK) {
            pthread_mutex_lock(&p->lock);
            p->instances[fresh->index] = fresh;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->lock);
        }
        return;
    }
    if (!in->needs_reset && !p->config.ephemeral && in->input_len) {
        /* A kept instance gives its request's input back (the response may have pointed into it,
         * so not before now); a reset would have restored the whole address space instead. */
        mem_munmap(in, in->input_addr, in->input_len);
    }
    in->input_addr = in->input_len = 0;
    pthread_mutex_lock(&p->lock);
    in->busy = false;
    __atomic_store_n(&in->stats.busy, 0, __ATOMIC_RELAXED);
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

int kvmf_program_prepare_instances(kvmf_program *p)
{
    if (!p)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_prepare_instances: program is NULL");
    int rc = KVMF_OK;
    pthread_mutex_lock(&p->lock);
    while (rc == KVMF_OK && p->created + p->creating < p->config.concurrency) {
        struct kvmf_instance *in = NULL;
        rc = grow(p, &in);
        if (rc == KVMF_OK) {
            in->busy = false;
            in->stats.busy = 0;
        }
    }
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* ---- statistics ---------------------------------------------------------------------------- */

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

int kvmf_program_stats(const kvmf_program *cp, struct kvmf_program_stats *out)
{
    if (!cp || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_program_stats: program and out are required");
    struct kvmf_program *p = (struct kvmf_program *)cp;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < p->created; i++) {
        struct kvmf_instance *in = p->instances[i];
        if (!in)
            continue;
        out->invocations += LOAD(in->stats.invocations);
        out->failures += LOAD(in->stats.failures);
        for (int k = 0; k < KVMF_ERROR_KIND_COUNT; k++)
            out->failures_by_kind[k] += LOAD(in->failures_by_kind[k]);
        out->on_error_answers += LOAD(in->on_error_answers);
        out->resets += LOAD(in->stats.resets);
        out->reset_ns += LOAD(in->stats.reset_ns);
        out->run_ns += LOAD(in->stats.run_ns);
        out->cpu_ns += LOAD(in->stats.cpu_ns);
        out->bytes_in += LOAD(in->stats.bytes_in);
        out->bytes_out += LOAD(in->stats.bytes_out);
        out->dirty_pages += LOAD(in->stats.dirty_pages);
        out->unsupported_calls += LOAD(in->unsupported_calls);
        out->refused_calls += LOAD(in->refused_calls);
        out->warmups += LOAD(in->warmups);
        out->exits += LOAD(in->stats.exits);
        out->trap_exits += LOAD(in->stats.trap_exits);
        out->instances_busy += in->busy;
        out->instances++;
    }
    out->failures_by_kind[KVMF_QUEUE_TIMEOUT] += p->queue_timeouts;
    out->queue_waits = p->queue_waits;
    out->queue_timeouts = p->queue_timeouts;
    out->queue_wait_ns = p->queue_wait_ns;
    pthread_mutex_unlock(&p->lock);
    out->boot_ns = p->boot_ns;
    struct stat st;
    if (fstat(p->memfd, &st) == 0)
        out->frozen_bytes = (uint64_t)st.st_blocks * 512;
    /* Pages an instance holds privately: those it ever wrote. Estimated from the dirty counts. */
    out->instance_bytes = out->dirty_pages * PAGE_SIZE;
    out->max_memory = p->config.max_memory;
    out->max_request_memory = p->config.max_request_memory;
    return KVMF_OK;
}

int kvmf_instance_stats(const kvmf_program *cp, uint64_t index, struct kvmf_instance_stats *out)
{
    struct kvmf_program *p = (struct kvmf_program *)cp;
    if (!p || !out)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_stats: program and out are required");
    pthread_mutex_lock(&p->lock);
    struct kvmf_instance *in = index < p->created ? p->instances[index] : NULL;
    if (!in) {
        pthread_mutex_unlock(&p->lock);
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "program \"%s\" has no instance %llu (%u created)", p->name,
                         (unsigned long long)index, p->created);
    }
    out->invocations = LOAD(in->stats.invocations);
    out->failures = LOAD(in->stats.failures);
    out->resets = LOAD(in->stats.resets);
    out->reset_ns = LOAD(in->stats.reset_ns);
    out->run_ns = LOAD(in->stats.run_ns);
    out->cpu_ns = LOAD(in->stats.cpu_ns);
    out->bytes_in = LOAD(in->stats.bytes_in);
    out->bytes_out = LOAD(in->stats.bytes_out);
    out->dirty_pages = LOAD(in->stats.dirty_pages);
    out->last_dirty_pages = LOAD(in->stats.last_dirty_pages);
    out->busy = in->busy;
    out->exits = LOAD(in->stats.exits);
    out->trap_exits = LOAD(in->stats.trap_exits);
    pthread_mutex_unlock(&p->lock);
    return KVMF_OK;
}
