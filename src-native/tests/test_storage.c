/*
 * test_storage.c — storage (storage_callv, storage_return/noreturn, the allow-list, tasks): state that outlives
 * requests, buffers copied both ways and bounded by the result buffer, failures inside storage that fail only the
 * call and send storage back to its boot image, storage calling storage, calls from many request VMs at once, and
 * hostile use (a bad buffer, a forbidden function).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define THREADS 4
#define ADDS_PER_THREAD 50

static struct result expect_body(kvmf_program *p, const char *arg, const char *body)
{
    struct result r = get(p, arg);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, body), "storage %s: \"%s\" (%s %s), expected \"%s\"", arg, r.body,
          kvmf_error_name(r.error), r.message, body);
    return r;
}

static void expect_failure(kvmf_program *p, const char *arg, int kind, const char *text)
{
    struct result r = get(p, arg);
    CHECK(r.error == kind && strstr(r.message, text) != NULL, "storage %s fails as %s with \"%s\": %s: %s", arg,
          kvmf_error_name(kind), text, kvmf_error_name(r.error), r.message);
}

static void *add_many(void *arg)
{
    kvmf_program *p = arg;
    for (int i = 0; i < ADDS_PER_THREAD; i++)
        get(p, "add:1");
    return NULL;
}

/* Waits up to `seconds` for storage's total to reach at least `least`; the last total seen. */
static long wait_for_total(kvmf_program *p, long least, int seconds)
{
    long total = 0;
    for (int i = 0; i < seconds * 50; i++) {
        struct result r = get(p, "total");
        total = atol(r.body + strlen("total="));
        if (total >= least)
            break;
        usleep(20000);
    }
    return total;
}

static kvmf_program *load(const char *guest, int concurrency)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_memory = 16ULL << 20;
    c.max_request_time_ms = 1000ULL * time_scale;
    c.concurrency = (uint64_t)concurrency;
    c.storage = 1;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots with storage: %s", guest, kvmf_last_error());
    return p;
}

static void calls(const char *guest)
{
    kvmf_program *p = load(guest, THREADS);
    if (!p)
        return;
    expect_body(p, "type", "request=0 storage=1 type=storage");
    expect_body(p, "total", "total=100 resumed=0");
    expect_body(p, "add:5", "total=105");
    expect_body(p, "add:-2", "total=103");
    /* Buffers arrive in order (an empty one included); the result is cut at the caller's buffer. */
    expect_body(p, "echo:300", "len=21 [res=300 one,two,three]");
    expect_body(p, "echo:9", "len=9 [res=9 one]");
    expect_body(p, "echo:0", "len=0 []");
    expect_body(p, "resume", "returned");
    expect_body(p, "resumed", "total=103 resumed=1");
    expect_body(p, "noreturn", "bye");
    expect_body(p, "no-return", "len=0");
    expect_body(p, "nested", "nested=-35"); /* -EDEADLK: storage cannot call storage */

    /* Many request VMs at once: one access at a time, nothing lost. */
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, add_many, p);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    char expect[64];
    snprintf(expect, sizeof expect, "total=%d resumed=1", 103 + THREADS * ADDS_PER_THREAD);
    expect_body(p, "total", expect);

    /* A failure inside storage fails the call and sends storage back to its boot image. */
    expect_failure(p, "crash", KVMF_MEMORY_FAULT, "in storage: memory fault");
    expect_body(p, "total", "total=100 resumed=0");
    expect_body(p, "add:1", "total=101");
    expect_failure(p, "loop", KVMF_TIMEOUT, "in storage: the storage function ran longer than its limit");
    expect_body(p, "total", "total=100 resumed=0");
    expect_failure(p, "oom", KVMF_OUT_OF_MEMORY, "in storage:");
    expect_body(p, "add:7", "total=107");
    expect_failure(p, "return-twice", KVMF_BAD_API_CALL, "already handed back its result");
    expect_body(p, "total", "total=100 resumed=0");

    /* Hostile calls fail the request and leave storage alone. */
    expect_body(p, "add:3", "total=103");
    expect_failure(p, "forbidden", KVMF_BAD_API_CALL, "not in the program's storage allow-list");
    expect_failure(p, "bad-buffer", KVMF_BAD_API_CALL, "buffer 0 (0x2000, 16 bytes) is outside the program's memory");
    expect_body(p, "total", "total=103 resumed=0");
    kvmf_program_destroy(p);
}

static void tasks(const char *guest)
{
    kvmf_program *p = load(guest, 2);
    if (!p)
        return;
    struct result r = get(p, "task:20");
    CHECK(!strncmp(r.body, "id=", 3) && atol(r.body + 3) > 0, "%s: a task is queued: %s", guest, r.body);
    long total = wait_for_total(p, 120, 5 * time_scale);
    CHECK(total == 120, "%s: the task ran in storage, once: total %ld", guest, total);
    r = get(p, "periodic");
    long id = atol(r.body + 3);
    CHECK(id > 0, "%s: a periodic task is queued: %s", guest, r.body);
    total = wait_for_total(p, 125, 5 * time_scale);
    CHECK(total >= 125, "%s: the periodic task runs again and again: total %ld", guest, total);
    char stop[32];
    snprintf(stop, sizeof stop, "stop:%ld", id);
    expect_body(p, stop, "stopped=1");
    expect_body(p, stop, "stopped=0");
    r = get(p, "total");
    usleep(200000);
    struct result later = get(p, "total");
    CHECK(!strcmp(r.body, later.body), "%s: a stopped task runs no more: %s then %s", guest, r.body, later.body);
    /* Destroying the program with a queued task stops its thread. */
    get(p, "periodic");
    kvmf_program_destroy(p);
}

static uint64_t task_failures(kvmf_program *p)
{
    struct kvmf_program_stats s;
    return kvmf_program_stats(p, &s) == KVMF_OK ? s.storage_task_failures : 0;
}

/* Tasks that crash (every 30 ms) or loop: each run fails and is counted, storage starts again from its boot image
 * each time, and requests are served between them. */
static void hostile_tasks(const char *guest)
{
    kvmf_program *p = load(guest, 2);
    if (!p)
        return;
    expect_body(p, "add:5", "total=105");
    struct result r = get(p, "task-crash");
    long id = atol(r.body + 3);
    CHECK(id > 0, "%s: a crashing periodic task is queued: %s", guest, r.body);
    for (int i = 0; i < 200 && task_failures(p) < 3; i++)
        usleep(20000 * time_scale);
    CHECK(task_failures(p) >= 3, "%s: each run of the crashing task fails and is counted: %llu", guest,
          (unsigned long long)task_failures(p));
    r = get(p, "add:1");
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "total=101"),
          "%s: requests are served between the crashes, by a storage started again: %s %s", guest, r.body,
          r.message);
    char stop[32];
    snprintf(stop, sizeof stop, "stop:%ld", id);
    expect_body(p, stop, "stopped=1");

    uint64_t before = task_failures(p);
    r = get(p, "task-loop");
    CHECK(!strncmp(r.body, "id=", 3), "%s: a looping task is queued: %s", guest, r.body);
    for (int i = 0; i < 400 && task_failures(p) == before; i++)
        usleep(20000 * time_scale);
    CHECK(task_failures(p) == before + 1, "%s: the looping task ran out of time and was counted: %llu",
          guest, (unsigned long long)task_failures(p));
    expect_body(p, "total", "total=100 resumed=0");
    kvmf_program_destroy(p);
}

static void without_storage(void)
{
    kvmf_program *p = load_guest("storage", NULL, NULL);
    CHECK(p != NULL, "storage guest boots without storage: %s", kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "add:1");
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "") && strstr(r.log, "has no storage"),
          "storage_callv without storage answers -ENOSYS and logs why: \"%s\" log \"%s\"", r.body, r.log);
    kvmf_program_destroy(p);
}

static void live_update(const char *guest)
{
    kvmf_program *old = load(guest, 1), *new = load(guest, 1);
    if (!old || !new) {
        kvmf_program_destroy(old);
        kvmf_program_destroy(new);
        return;
    }
    expect_body(old, "add:23", "total=123");
    expect_body(new, "total", "total=100 resumed=0");
    uint64_t moved = 0;
    int rc = kvmf_program_live_update(old, new, &moved);
    CHECK(rc == KVMF_OK && moved == 3, "%s: live update moves the state: %s %s, %llu bytes", guest,
          kvmf_error_name(rc), kvmf_last_error(), (unsigned long long)moved);
    expect_body(new, "total", "total=123 resumed=0");

    /* A restore handler that crashes leaves the new storage as it booted, and says why. */
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.storage = 1;
    static const char env[] = "LIVE_RESTORE=crash";
    c.environment = env;
    c.environment_len = sizeof env;
    kvmf_program *crashing = load_guest(guest, &c, NULL);
    CHECK(crashing != NULL, "%s boots with LIVE_RESTORE=crash: %s", guest, kvmf_last_error());
    if (crashing) {
        rc = kvmf_program_live_update(new, crashing, &moved);
        CHECK(rc == KVMF_MEMORY_FAULT && strstr(kvmf_last_error(), "the new storage's restore handler failed"),
              "%s: a crashing restore handler: %s %s", guest, kvmf_error_name(rc), kvmf_last_error());
        expect_body(crashing, "total", "total=100 resumed=0");
        kvmf_program_destroy(crashing);
    }
    /* Without storage there is nothing to move. */
    kvmf_program *plain = load_guest(guest, NULL, NULL);
    if (plain) {
        rc = kvmf_program_live_update(old, plain, &moved);
        CHECK(rc == KVMF_OK && moved == 0, "%s: live update into a program without storage moves nothing", guest);
        kvmf_program_destroy(plain);
    }
    kvmf_program_destroy(old);
    kvmf_program_destroy(new);
}

static void state_file(const char *guest)
{
    char path[512];
    int fd = temp_file(path, sizeof path, "kvmfilter-state");
    CHECK(fd >= 0, "a temporary state file");
    if (fd < 0)
        return;
    close(fd);
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.storage = 1;
    c.state_file = path;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots with a state file: %s", guest, kvmf_last_error());
    if (p) {
        expect_body(p, "read-state", "state=[] n=0 size=0");
        expect_body(p, "add:21", "total=121");
        expect_body(p, "save", "saved=9");
        expect_body(p, "read-state", "state=[total=121] n=9 size=9");
        expect_body(p, "write-state", "open=-1 errno=13"); /* EACCES: only storage writes it */
        kvmf_program_destroy(p);
    }
    /* A new start of the server: storage reads what it saved. */
    p = load_guest(guest, &c, NULL);
    if (p) {
        expect_body(p, "total", "total=121 resumed=0");
        kvmf_program_destroy(p);
    }
    /* Without a state file configured, "state" does not exist. */
    c.state_file = NULL;
    p = load_guest(guest, &c, NULL);
    if (p) {
        expect_body(p, "read-state", "state=[] n=-2 size=0");
        kvmf_program_destroy(p);
    }
    c.state_file = "/nonexistent-dir/state";
    int rc;
    p = load_guest(guest, &c, &rc);
    CHECK(p == NULL && rc == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), "state_file \"/nonexistent-dir/state\""),
          "%s: an unusable state file is a configuration error naming it: %s", guest, kvmf_last_error());
    kvmf_program_destroy(p);
    unlink(path);
}

/* max_storage_memory and max_storage_time: storage gets its own memory and time limit, the request VMs keep theirs. */
static void storage_limits(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_memory = 16ULL << 20;
    c.max_request_time_ms = 4000ULL * time_scale;
    c.storage = 1;
    c.shared_memory = 2ULL << 20;
    c.max_storage_memory = 128ULL << 20;
    c.max_storage_time_ms = 300ULL * time_scale;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots with 128 MiB of storage memory and a 64 MiB request VM: %s", guest, kvmf_last_error());
    if (!p)
        return;
    expect_body(p, "meminfo", "request=64 storage=128");
    expect_body(p, "add:5", "total=105");
    uint64_t start = now_ms();
    expect_failure(p, "loop", KVMF_TIMEOUT, "in storage: the storage function ran longer than its limit");
    uint64_t took = now_ms() - start;
    CHECK(took < 2000ULL * time_scale, "max_storage_time (300 ms) ends a storage loop before the request's 4 s: %llu ms",
          (unsigned long long)took);
    expect_body(p, "total", "total=100 resumed=0"); /* storage started again after the timeout */
    kvmf_program_destroy(p);

    /* A request that runs out of time during a storage call does not cut storage off: the call completes there. */
    c.max_request_time_ms = 150ULL * time_scale;
    c.max_storage_time_ms = 3000ULL * time_scale;
    c.max_storage_memory = 0;
    p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (p) {
        char slow[32]; /* a storage call twice as long as its request may take */
        snprintf(slow, sizeof slow, "slow-add:%llu", (unsigned long long)(c.max_request_time_ms * 2));
        expect_failure(p, slow, KVMF_TIMEOUT, "ran longer than its limit");
        expect_body(p, "total", "total=107 resumed=0"); /* the storage call finished: its 7 are kept */
        kvmf_program_destroy(p);
    }

    c.max_storage_memory = 33ULL << 20;
    int error = KVMF_OK;
    p = load_guest(guest, &c, &error);
    CHECK(!p && error == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), "max_storage_memory = 34603008"),
          "a max_storage_memory that is not a multiple of 2 MiB is refused: %s", kvmf_last_error());
    if (p)
        kvmf_program_destroy(p);
}

void test_storage(void)
{
    storage_limits("storage");
    state_file("storage");
    state_file("storage-musl");
    live_update("storage");
    calls("storage");
    calls("storage-musl");
    tasks("storage");
    hostile_tasks("storage");
    hostile_tasks("storage-musl");
    without_storage();
}
