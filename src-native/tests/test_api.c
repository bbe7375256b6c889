/*
 * test_api.c — the program API (guest-abi.md): generic request handler with headers, response
 * headers, caching hints, meminfo, debug flag, logging; the paused event-loop style; C++; the
 * on_error second chance; boot failures; static PIE and musl programs; configuration errors; the
 * frontend handler (0); the regular-expression calls.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

/* `guest` is "api" (calls through `out`, as TinyKVM programs make them) or "api-page" (the same
 * program calling through the API page). */
static void request_handler(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.debug = 1;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    kvmf_instance *in;
    kvmf_program_acquire(p, 1000, &in);
    struct result r = run_on(in, "GET", "a=1", NULL, 0, "Accept: image/webp,*/*\nX-Custom: value");
    CHECK(r.error == KVMF_OK && r.status == 200, "api GET: %s", r.message);
    CHECK(!strcmp(r.content_type, "text/plain; charset=utf-8"), "content type %s", r.content_type);
    const char *expect[] = {"method=GET/GET", "url=/test", "arg=a=1", "content=0", "headers=2",
                            "accept=image/webp,*/*", "needed=14", "small=0", "absent=0", "debug=1", "maxmem=256",
                            "[Accept: image/webp,*/*|6]", "[X-Custom: value|8]", "warmup=0", "apipage=0xff000"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        CHECK(strstr(r.body, expect[i]) != NULL, "%s body lacks \"%s\": %s", guest, expect[i], r.body);
    CHECK(!strcmp(r.headers, "X-Two: 2\nX-One: uno\n"), "response headers set/appended/removed: \"%s\"", r.headers);
    CHECK(strstr(r.log, "api: handling\n") != NULL, "sys_log line captured: \"%s\"", r.log);
    kvmf_instance_release(in);

    kvmf_program_acquire(p, 1000, &in);
    r = run_on(in, "PUT", "", "0123456789", 10, NULL);
    CHECK(strstr(r.body, "method=PUT/PUT") && strstr(r.body, "content=10") && strstr(r.body, "ctype=text/plain"),
          "api PUT with a body: %s", r.body);
    kvmf_instance_release(in);
    kvmf_program_destroy(p);
}

static void paused(const char *guest)
{
    kvmf_program *p = load_guest(guest, NULL, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    for (int i = 0; i < 2; i++) {
        struct result r = get(p, "");
        CHECK(r.error == KVMF_OK && !strcmp(r.body, "paused GET /test served=1"), "%s request %d: %s %s", guest, i,
              r.body, r.message);
    }
    kvmf_program_destroy(p);
}

static void cxx(void)
{
    kvmf_program *p = load_guest("cxx", NULL, NULL);
    CHECK(p != NULL, "C++ program boots: %s", kvmf_last_error());
    if (!p)
        return;
    CHECK(!strcmp(get(p, "").body, "hello from c++ "), "C++ static constructors and strings");
    CHECK(!strcmp(get(p, "throw").body, "caught: thrown and caught"), "C++ exceptions");
    struct result r = get(p, "threads");
    CHECK(!strcmp(r.body, "order 0 1 2 3 0 1 2 3 0 1 2 3 sum 18"),
          "C++ std::thread, condition_variable and std::async: %s %s", r.body, r.message);
    kvmf_program_destroy(p);
}

static void on_error(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_time_ms = 300;
    c.on_error_time_ms = 500;
    kvmf_program *p = load_guest("onerror", &c, NULL);
    CHECK(p != NULL, "onerror boots: %s", kvmf_last_error());
    if (!p)
        return;
    const char *args[] = {"crash", "loop"};
    const int kinds[] = {KVMF_MEMORY_FAULT, KVMF_TIMEOUT};
    for (int i = 0; i < 2; i++) {
        kvmf_instance *in;
        kvmf_program_acquire(p, 1000, &in);
        struct result r = run_on(in, "POST", args[i], "original bytes", 14, NULL);
        CHECK(r.error == kinds[i], "on_error %s: kind %s", args[i], kvmf_error_name(r.error));
        CHECK(r.on_error_used && r.status == 200 && !strcmp(r.body, "original bytes"),
              "on_error %s answered with the original: used=%d status=%ld body=%s", args[i], r.on_error_used,
              r.status, r.body);
        CHECK(strstr(r.headers, "X-Failed: ") != NULL, "on_error %s: its header: %s", args[i], r.headers);
        struct result ok = run_on(in, "POST", "ok", "x", 1, NULL);
        CHECK(ok.error == KVMF_OK && !strcmp(ok.body, "transformed") && !ok.on_error_used,
              "after on_error %s: %s", args[i], ok.body);
        kvmf_instance_release(in);
    }
    kvmf_program_destroy(p);
}

static void boot_failures(void)
{
    struct {
        const char *how, *expect;
    } cases[] = {
        {"exit", "exit with status 7"},
        {"crash", "NULL pointer dereference"},
        {"loop", "TIMEOUT"},
        {"no-handler", "without registering a handler"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kvmf_config c;
        kvmf_config_defaults(&c);
        c.max_boot_time_ms = 300;
        char args[32];
        size_t n = (size_t)snprintf(args, sizeof args, "%s", cases[i].how) + 1;
        c.arguments = args;
        c.arguments_len = n;
        int rc;
        kvmf_program *p = load_guest("bootfail", &c, &rc);
        CHECK(p == NULL && rc == KVMF_BOOT_FAILED, "bootfail %s: %s", cases[i].how, kvmf_error_name(rc));
        CHECK(strstr(kvmf_last_error(), cases[i].expect) != NULL, "bootfail %s: message \"%s\"", cases[i].how,
              kvmf_last_error());
        if (i < 2)
            CHECK(strstr(kvmf_last_error(), "bootfail: failing with") != NULL, "boot output in the message: %s",
                  kvmf_last_error());
    }
}

/* The address of the first loadable segment of guest `name`'s file, 0 when unreadable. */
static uint64_t first_load_address(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", guest_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    Elf64_Ehdr eh;
    uint64_t addr = 0;
    if (fread(&eh, sizeof eh, 1, f) == 1) {
        for (int i = 0; i < eh.e_phnum && !addr; i++) {
            Elf64_Phdr ph;
            if (fseek(f, (long)(eh.e_phoff + (uint64_t)i * sizeof ph), SEEK_SET) != 0 || fread(&ph, sizeof ph, 1, f) != 1)
                break;
            if (ph.p_type == PT_LOAD)
                addr = ph.p_vaddr;
        }
    }
    fclose(f);
    return addr;
}

static void variants(void)
{
    /* hello-low is linked at 0x1FF000, below the usual 0x400000, as some VMOD programs are. */
    uint64_t low = first_load_address("hello-low");
    CHECK(low != 0 && low < 0x400000, "hello-low is linked below 0x400000: first segment at 0x%llx",
          (unsigned long long)low);
    const char *names[] = {"hello-musl", "hello-pie", "hello", "hello-low", "hello-low-musl"};
    for (int i = 0; i < 5; i++) {
        kvmf_program *p = load_guest(names[i], NULL, NULL);
        CHECK(p != NULL, "%s boots: %s", names[i], kvmf_last_error());
        if (!p)
            continue;
        struct result r = get(p, "x");
        char expect[100];
        snprintf(expect, sizeof expect, "Hello from %s: url=/test arg=x", names[i]);
        CHECK(!strcmp(r.body, expect), "%s: \"%s\"", names[i], r.body);
        kvmf_program_destroy(p);
    }
}

static void expect_config_error(struct kvmf_config *c, const char *setting)
{
    int rc;
    kvmf_program *p = load_guest("hello", c, &rc);
    CHECK(p == NULL && rc == KVMF_INVALID_ARGUMENT, "bad %s accepted", setting);
    CHECK(strstr(kvmf_last_error(), setting) != NULL && strstr(kvmf_last_error(), "allowed") != NULL,
          "the message names %s and what is allowed: %s", setting, kvmf_last_error());
    kvmf_program_destroy(p);
}

static void config_errors(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = (100 << 20) + 4096;
    expect_config_error(&c, "max_memory = 104861696");
    kvmf_config_defaults(&c);
    c.concurrency = 0;
    expect_config_error(&c, "concurrency = 0");
    kvmf_config_defaults(&c);
    c.max_request_time_ms = 0;
    expect_config_error(&c, "max_request_time_ms = 0");
    kvmf_config_defaults(&c);
    c.max_request_memory = 1ULL << 40;
    expect_config_error(&c, "max_request_memory");
    kvmf_config_defaults(&c);
    c.ephemeral = 2;
    expect_config_error(&c, "ephemeral = 2");
    kvmf_config_defaults(&c);
    c.arguments = "no terminator";
    c.arguments_len = 13;
    int rc;
    kvmf_program *p = load_guest("hello", &c, &rc);
    CHECK(p == NULL && rc == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), "arguments must be NUL-terminated"),
          "unterminated arguments: %s", kvmf_last_error());
    CHECK(!strcmp(kvmf_error_name(KVMF_TIMEOUT), "TIMEOUT") && !strcmp(kvmf_error_name(99), "UNKNOWN"),
          "error names");
}

/* The sizes bindings check at load are the library's own (a binding laying structs out by hand compares them). */
static void layout_sizes(void)
{
    CHECK(kvmf_layout_size(KVMF_LAYOUT_CONFIG) == sizeof(struct kvmf_config), "config size");
    CHECK(kvmf_layout_size(KVMF_LAYOUT_RESPONSE) == sizeof(struct kvmf_response), "response size");
    CHECK(kvmf_layout_size(KVMF_LAYOUT_PROGRAM_STATS) == sizeof(struct kvmf_program_stats), "program stats size");
    CHECK(kvmf_layout_size(KVMF_LAYOUT_INSTANCE_STATS) == sizeof(struct kvmf_instance_stats), "instance stats size");
    CHECK(kvmf_layout_size(KVMF_LAYOUT_ERROR_KINDS) == KVMF_ERROR_KIND_COUNT, "error kinds");
    CHECK(kvmf_layout_size(99) == 0, "an unknown layout is 0");
}

/* A program whose only handler is the VMOD's frontend handler (0) answers every request through it. */
static void frontend(void)
{
    kvmf_program *p = load_guest("frontend", NULL, NULL);
    CHECK(p != NULL, "a program with only handler 0 boots: %s", kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "");
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "frontend GET /test"), "handler 0 answers a GET: %s %s", r.body,
          r.message);
    kvmf_instance *in;
    kvmf_program_acquire(p, 1000, &in);
    r = run_on(in, "POST", "", "data", 4, NULL);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "frontend POST /test"), "and a POST: %s %s", r.body, r.message);
    kvmf_instance_release(in);
    kvmf_program_destroy(p);
}

/* The regular-expression calls (regex.c), through tests/guests/regex.c. */
static void regex(void)
{
    kvmf_program *p = load_guest("regex", NULL, NULL);
    CHECK(p != NULL, "regex boots: %s", kvmf_last_error());
    if (!p)
        return;
    kvmf_instance *in;
    kvmf_program_acquire(p, 1000, &in);
    struct result r = run_on(in, "GET", "basic", NULL, 0, "X-Value: 5\nX-Copy-Me: 123");
    const char *expect = "handles=64,65 n1=12 [X-Value: 666] n2=11 [b@a and d@c] first=13 [[a@b] and c@d] "
                         "nospace=-28 at=4 none=-1 invalid=-22 copied=1 after_free=-22";
    CHECK(r.error == KVMF_OK && !strcmp(r.body, expect), "regex calls: %s %s", r.body, r.message);
    CHECK(!strcmp(r.headers, "X-Copy-Me: 123\nX-Value: 666\n"), "headers copied and set: \"%s\"", r.headers);
    CHECK(strstr(r.log, "\"(unclosed\" is not a valid pattern") != NULL, "the invalid pattern is logged: %s", r.log);
    r = run_on(in, "GET", "other-handle", NULL, 0, NULL);
    CHECK(!strcmp(r.body, "other=-22 boot=0"), "the same instance's next request has none of its patterns, the "
          "boot pattern still works: %s", r.body);
    r = run_on(in, "GET", "free-boot", NULL, 0, NULL);
    CHECK(!strcmp(r.body, "boot=0"), "a request cannot free a boot pattern: %s", r.body);
    r = run_on(in, "GET", "free-boot", NULL, 0, NULL);
    CHECK(!strcmp(r.body, "boot=0"), "... nor has it been freed for the next one: %s", r.body);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = run_on(in, "GET", "backtrack", NULL, 0, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(!strcmp(r.body, "backtrack=-7"), "endless backtracking ends at the match limit (-E2BIG): %s", r.body);
    CHECK(ms < 2000, "... within 2 s: %ld ms", ms);
    r = run_on(in, "GET", "many", NULL, 0, NULL);
    CHECK(!strcmp(r.body, "compiled=64 then=-24"), "64 patterns per request, then -EMFILE: %s", r.body);
    r = run_on(in, "GET", "bad-pointer", NULL, 0, NULL);
    CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "sys_regex_match"), "a bad subject pointer: %s",
          r.message);
    kvmf_instance_release(in);
    kvmf_program_destroy(p);
}

void test_api(void)
{
    layout_sizes();
    request_handler("api");
    request_handler("api-page");
    paused("paused");
    paused("paused-page");
    cxx();
    on_error();
    boot_failures();
    variants();
    config_errors();
    frontend();
    regex();
}
