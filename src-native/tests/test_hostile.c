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
    {"loop", KVMF_TIMEOUT, "ran longer than its limit of"},
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
    /* Ports 0-3 are open to ring 3 on hardware KVM, for the API call `out %eax, $0` (the TSS's I/O
     * bitmap): every other access to them must fail as on PVM, where all of them fault. */
    {"out-port0-byte", KVMF_CPU_EXCEPTION, "out (port I/O)"},
    {"out-port0-dx", KVMF_CPU_EXCEPTION, "out (port I/O)"},
    {"in-port0", KVMF_CPU_EXCEPTION, "in (port I/O)"},
    {"outs-port0", KVMF_CPU_EXCEPTION, "(port I/O)"},
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
    {"api-page-read", KVMF_BAD_API_CALL, "4-byte read at 0xff000 on the API page"},
    {"api-page-wide", KVMF_BAD_API_CALL, "8-byte write at 0xff000 on the API page"},
    {"api-page-offset", KVMF_BAD_API_CALL, "4-byte write at 0xff008 on the API page"},
    {"api-page-rep-store", KVMF_BAD_API_CALL, "write at 0xff000 on the API page"},
    {"api-page-rep-load", KVMF_BAD_API_CALL, "read at 0xff000 on the API page"},
    /* KVM's emulator cannot complete a 32-byte store (Linux 6.1 to 6.18); one that can would split it
     * into MMIO writes the host refuses. Never #UD: hardware KVM injects that without
     * KVM_CAP_EXIT_ON_EMULATION_FAILURE. */
    {"api-page-avx", KVMF_CPU_EXCEPTION, "could not be emulated: most likely it accessed the API page"},
    {"set-fs", KVMF_OK, "fs-moved=1 restored=1"},
};

/* The other right answer for cases where hosts may differ. */
static const struct hostile_case alternatives[] = {
    {"api-page-avx", KVMF_BAD_API_CALL, "write at 0xff000 on the API page"},
};

static const struct hostile_case *alternative(const char *arg)
{
    for (size_t i = 0; i < sizeof alternatives / sizeof alternatives[0]; i++)
        if (!strcmp(alternatives[i].arg, arg))
            return &alternatives[i];
    return NULL;
}

static void run_cases(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_time_ms = 1000 * (uint64_t)time_scale;
    c.max_response_size = 8 << 20;
    c.max_request_memory = 16 << 20;
    int rc;
    kvmf_program *p = load_guest(guest, &c, &rc);
    CHECK(p != NULL, "%s did not boot: %s", guest, kvmf_last_error());
    if (!p)
        return;
    uint64_t cpu_exceptions = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct hostile_case *t = &cases[i];
        kvmf_instance *in = NULL;
        rc = kvmf_program_acquire(p, 5000, &in);
        CHECK(rc == KVMF_OK, "%s: acquire: %s", guest, kvmf_last_error());
        if (rc != KVMF_OK)
            continue;
        struct result r = run_on(in, "GET", t->arg, NULL, 0, NULL);
        const struct hostile_case *alt = alternative(t->arg);
        bool second = alt && r.error == alt->kind;
        int kind = second ? alt->kind : t->kind;
        const char *expect = second ? alt->expect : t->expect;
        CHECK(r.error == kind, "%s %s: kind %s, expected %s%s%s (%s)", guest, t->arg, kvmf_error_name(r.error),
              kvmf_error_name(t->kind), alt ? " or " : "", alt ? kvmf_error_name(alt->kind) : "", r.message);
        const char *where = kind == KVMF_OK ? r.body : r.message;
        CHECK(strstr(where, expect) != NULL, "%s %s: \"%s\" does not contain \"%s\"", guest, t->arg, where, expect);
        cpu_exceptions += r.error == KVMF_CPU_EXCEPTION;
        if (t->kind == KVMF_TIMEOUT) {
            char limit[64];
            snprintf(limit, sizeof limit, "limit of %llu ms", (unsigned long long)c.max_request_time_ms);
            CHECK(strstr(r.message, limit) != NULL, "%s %s: \"%s\" names the limit (\"%s\")", guest, t->arg, r.message,
                  limit);
        }
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
    CHECK(cpu_exceptions >= 14 && s.failures_by_kind[KVMF_CPU_EXCEPTION] == cpu_exceptions,
          "%s: %llu CPU exceptions counted, %llu seen (at least 14 expected)", guest,
          (unsigned long long)s.failures_by_kind[KVMF_CPU_EXCEPTION], (unsigned long long)cpu_exceptions);
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
