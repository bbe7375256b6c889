/*
 * test_multiprocess.c — the VMOD's multiprocess calls (glibc and musl): workers started with a function, with an
 * array, or as clones of the caller, each seeing its own vcpuid(), all ended before multiprocess_wait returns;
 * refused calls answer -1; a crashing worker fails the request; every request starts without workers.
 */
#include "harness.h"

static void multiprocess(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_time_ms = 5000 * time_scale;
    c.concurrency = 1;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    expect_answer(p, guest, "call", "rc=0 total=5000050000 ids=0123");
    expect_answer(p, guest, "array", "0 1 4 9 ok");
    expect_answer(p, guest, "clone", "100 101 102 103");
    expect_answer(p, guest, "again", "again ok");
    expect_answer(p, guest, "refused", "-1 -1 -1 ok");
    struct result r = get(p, "refused");
    CHECK(strstr(r.log, "multiprocess(2) refused: workers are running already") &&
              strstr(r.log, "multiprocess(17) refused: n counts every vCPU"),
          "%s: refusals are logged with their reason: %s", guest, r.log);
    r = get(p, "crash");
    CHECK(r.error == KVMF_MEMORY_FAULT, "%s: a crashing worker fails the request: %s %s", guest,
          kvmf_error_name(r.error), r.message);
    expect_answer(p, guest, "call", "rc=0 total=5000050000 ids=0123"); /* afresh after the failure */
    kvmf_program_destroy(p);
}

void test_multiprocess(void)
{
    multiprocess("multiprocess");
    multiprocess("multiprocess-musl");
}
