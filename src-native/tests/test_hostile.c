/*
 * test_hostile.c — hostile guests, glibc and musl: every misbehaviour is classified with the right
 * kind and message, the host survives, and the same instance serves the next request.
 */
#include "harness.h"

struct hostile_case {
    const char *arg;
    int kind;           /* expected failure kind; KVMF_OK when the program answers */
    const char *expect; /* substring of the error message, or of the body when kind is KVMF_OK */
};

static const struct hostile_case cases[] = {
    {"loop", KVMF_TIMEOUT, "ran longer than its limit of 1000 ms"},
    {"null", KVMF_MEMORY_FAULT, "NULL pointer dereference"},
    {"wild", KVMF_MEMORY_FAULT, "address 0x7fffdeadbeef"},
    {"write-code", KVMF_MEMORY_FAULT, "write to a read-only page"},
    {"exec-data", KVMF_MEMORY_FAULT, "execution of a non-executable page"},
    {"exec-stack", KVMF_MEMORY_FAULT, "execution of a non-executable page"},
    {"stack-overflow", KVMF_MEMORY_FAULT, "stack overflow"},
    {"alloc-past-limit", KVMF_OK, "malloc returned NULL"},
    {"alloc-crash", KVMF_OUT_OF_MEMORY, "allocation was refused"},
    {"dirty-past-limit", KVMF_OUT_OF_MEMORY, "more than max_request_memory"},
    {"hlt", KVMF_CPU_EXCEPTION, "forbidden instruction hlt"},
    {"cli", KVMF_CPU_EXCEPTION, "forbidden instruction cli"},
    {"wrmsr", KVMF_CPU_EXCEPTION, "forbidden instruction wrmsr"},
    {"mov-cr3", KVMF_CPU_EXCEPTION, "control register"},
    {"in", KVMF_CPU_EXCEPTION, "in (port I/O)"},
    {"out-port", KVMF_CPU_EXCEPTION, "out (port I/O)"},
    {"int3", KVMF_CPU_EXCEPTION, "breakpoint"},
    {"ud2", KVMF_CPU_EXCEPTION, "invalid opcode"},
    {"div0", KVMF_CPU_EXCEPTION, "divide error"},
    {"syscall-bad-ptr", KVMF_OK, "-1 -1 -1 -1 -1 errno=14"},
    {"api-bad-ptr", KVMF_BAD_API_CALL, "body at 0xffff800000001000"},
    {"api-huge-len", KVMF_RESPONSE_TOO_LARGE, "exceeds max_response_size"},
    {"api-bad-header", KVMF_BAD_API_CALL, "sys_http_append"},
    {"big-response", KVMF_RESPONSE_TOO_LARGE, "12582912 bytes exceeds max_response_size (8388608"},
    {"no-response", KVMF_NO_RESPONSE, "returned without calling sys_backend_response"},
    {"exit", KVMF_PROGRAM_EXIT, "exit with status 3"},
    {"abort", KVMF_PROGRAM_EXIT, "SIGABRT"},
    {"unknown-call", KVMF_OK, "-38"},
    {"api-page-read", KVMF_BAD_API_CALL, "4-byte read at 0x3ff000 on the API page"},
    {"api-page-wide", KVMF_BAD_API_CALL, "8-byte write at 0x3ff000 on the API page"},
    {"api-page-offset", KVMF_BAD_API_CALL, "4-byte write at 0x3ff008 on the API page"},
    {"api-page-rep-store", KVMF_BAD_API_CALL, "write at 0x3ff000 on the API page"},
    {"api-page-rep-load", KVMF_BAD_API_CALL, "read at 0x3ff000 on the API page"},
    {"api-page-avx", KVMF_CPU_EXCEPTION, "could not be emulated: most likely it accessed the API page"},
    {"set-fs", KVMF_OK, "fs-moved=1 restored=1"},
};

static void run_cases(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_time_ms = 1000;
    c.max_response_size = 8 << 20;
    c.max_request_memory = 16 << 20;
    int rc;
    kvmf_program *p = load_guest(guest, &c, &rc);
    CHECK(p != NULL, "%s did not boot: %s", guest, kvmf_last_error());
    if (!p)
        return;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct hostile_case *t = &cases[i];
        kvmf_instance *in = NULL;
        rc = kvmf_program_acquire(p, 5000, &in);
        CHECK(rc == KVMF_OK, "%s: acquire: %s", guest, kvmf_last_error());
        if (rc != KVMF_OK)
            continue;
        struct result r = run_on(in, "GET", t->arg, NULL, 0, NULL);
        CHECK(r.error == t->kind, "%s %s: kind %s, expected %s (%s)", guest, t->arg, kvmf_error_name(r.error),
              kvmf_error_name(t->kind), r.message);
        const char *where = t->kind == KVMF_OK ? r.body : r.message;
        CHECK(strstr(where, t->expect) != NULL, "%s %s: \"%s\" does not contain \"%s\"", guest, t->arg, where,
              t->expect);
        if (t->kind != KVMF_OK)
            CHECK(r.status == 0 && r.body_len == 0, "%s %s: a failed request has no response (status %ld)", guest,
                  t->arg, r.status);
        /* The same instance, right after: it must answer normally. */
        struct result ok = run_on(in, "GET", "ok", NULL, 0, NULL);
        CHECK(ok.error == KVMF_OK && ok.status == 200 && !strcmp(ok.body, "ok counter=1"),
              "%s after %s: %s %ld \"%s\" (%s)", guest, t->arg, kvmf_error_name(ok.error), ok.status, ok.body,
              ok.message);
        kvmf_instance_release(in);
    }
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.failures_by_kind[KVMF_TIMEOUT] == 1, "%s: 1 timeout counted, got %llu", guest,
          (unsigned long long)s.failures_by_kind[KVMF_TIMEOUT]);
    CHECK(s.failures_by_kind[KVMF_CPU_EXCEPTION] == 10, "%s: 10 CPU exceptions counted, got %llu", guest,
          (unsigned long long)s.failures_by_kind[KVMF_CPU_EXCEPTION]);
    CHECK(s.invocations == 2 * (sizeof cases / sizeof cases[0]), "%s: invocations %llu", guest,
          (unsigned long long)s.invocations);
    CHECK(s.unsupported_calls >= 1, "%s: the unknown API call is counted", guest);
    CHECK(kvmf_program_destroy(p) == KVMF_OK, "%s: destroy: %s", guest, kvmf_last_error());
}

void test_hostile(void)
{
    run_cases("hostile");
    run_cases("hostile-musl");
    /* The same misbehaviour with every API call made through the API page. */
    run_cases("hostile-page");
    run_cases("hostile-page-musl");
}
