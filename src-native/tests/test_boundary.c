/*
 * test_boundary.c — the host's own state against a hostile program (guest "boundary"): a request
 * cannot replace handlers, make the host hold unbounded memory, outrun its time limit with host
 * work, put control characters in the content type, silence the log of other calls, or learn
 * through hot pages which pages another client's request wrote.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

static kvmf_program *load_boundary(const char *guest, uint64_t time_ms)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_request_time_ms = time_ms;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    return p;
}

static void handlers_cannot_be_replaced(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 2000);
    if (!p)
        return;
    struct result r = get(p, "hijack");
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "register_func=-1"), "%s: register_func during a request is refused "
          "with -EPERM: %s %s", guest, r.body, r.message);
    CHECK(strstr(r.log, "register_func refused during a request") != NULL, "%s: the refusal is logged: %s", guest,
          r.log);
    struct result after = get(p, "ok");
    CHECK(!strcmp(after.body, "handler=original"), "%s: the next request reaches the original handler: %s", guest,
          after.body);
    struct kvmf_program_stats st;
    kvmf_program_stats(p, &st);
    CHECK(st.refused_calls == 1, "%s: the refusal is counted: %llu", guest, (unsigned long long)st.refused_calls);
    kvmf_program_destroy(p);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

static void header_memory_is_bounded(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 5000);
    if (!p)
        return;
    static const struct {
        const char *arg, *expect;
    } floods[] = {
        {"request-headers:65000", "the request headers would exceed 262144 bytes in total"},
        {"request-count", "more than 1000 request headers"},
        {"response-headers:65000", "the response headers would exceed 262144 bytes in total"},
        {"response-headers:16", "more than 1000 response headers"},
        {"request-headers:66000", "longer than 65536 bytes"},
    };
    long before = rss_kib();
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof floods / sizeof floods[0]; i++) {
            struct result r = get(p, floods[i].arg);
            if (round == 0)
                CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, floods[i].expect), "%s: %s: %s %s", guest,
                      floods[i].arg, kvmf_error_name(r.error), r.message);
        }
    }
    long grown = rss_kib() - before;
    /* 100 floods: unbounded lists would have grown the host by gigabytes (20,000 x 64 KiB each). */
    CHECK(grown < 16 * 1024, "%s: 100 header floods grew the host by %ld KiB", guest, grown);
    CHECK(!strcmp(get(p, "ok").body, "handler=original"), "%s: the instance serves after the floods", guest);
    kvmf_program_destroy(p);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void host_work_is_timed(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 1000);
    if (!p)
        return;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct result r = get(p, "header-storm");
    double took = seconds_since(&t0);
    CHECK(r.error == KVMF_TIMEOUT && strstr(r.message, "ran longer than its limit of 1000 ms"),
          "%s: a loop of host calls is a TIMEOUT: %s %s", guest, kvmf_error_name(r.error), r.message);
    CHECK(took < 1.5, "%s: the request held the host for %.2f s with a 1 s limit", guest, took);
    CHECK(!strcmp(get(p, "ok").body, "handler=original"), "%s: the instance serves after the timeout", guest);
    kvmf_program_destroy(p);
}

static void content_type_checked(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 2000);
    if (!p)
        return;
    const char *bad[] = {"ctype:crlf", "ctype:nul", "ctype:long"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct result r = get(p, bad[i]);
        CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "content type"), "%s: %s is refused: %s %s", guest,
              bad[i], kvmf_error_name(r.error), r.message);
        CHECK(r.status == 0, "%s: %s: no response is handed out", guest, bad[i]);
    }
    /* Guest bytes that are not valid host values (a bool of 0xff, a NaN) are read as bytes and numbers:
     * the sanitized build of this suite would report undefined behaviour otherwise. */
    struct result extra = get(p, "extra-bytes");
    CHECK(extra.error == KVMF_OK && !strcmp(extra.body, "extra"), "%s: an odd BackendResponseExtra is read safely: "
          "%s", guest, extra.message);
    struct result tab = get(p, "ctype:tab");
    CHECK(tab.error == KVMF_OK && !strcmp(tab.content_type, "text/plain;\tcharset=utf-8"),
          "%s: a tab (allowed in header values) passes: %s", guest, tab.message);
    kvmf_program_destroy(p);
}

static void unsupported_logged_per_number(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 2000);
    if (!p)
        return;
    /* 0x10777 and 0x107b7 share their number modulo 64: once they shared a log-once bit. */
    struct result a = get(p, "unsupported:0x10777");
    struct result b = get(p, "unsupported:0x107b7");
    struct result again = get(p, "unsupported:0x10777");
    CHECK(strstr(a.log, "unsupported API call 67447 (0x10777)") != NULL, "%s: the first call is logged: %s", guest,
          a.log);
    CHECK(strstr(b.log, "(0x107b7)") != NULL, "%s: another number is logged even if the first was: %s", guest,
          b.log);
    CHECK(strstr(again.log, "unsupported") == NULL, "%s: a number is logged once: %s", guest, again.log);
    /* Past the bound of distinct numbers, calls are counted and one line says the rest is not logged. */
    char arg[32];
    int over = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(arg, sizeof arg, "unsupported:0x%x", 0x30000 + i);
        struct result r = get(p, arg);
        if (strstr(r.log, "the rest are counted, not logged"))
            over++;
    }
    CHECK(over == 1, "%s: the overflow of the log-once table is said once: %d", guest, over);
    struct kvmf_program_stats st;
    kvmf_program_stats(p, &st);
    CHECK(st.unsupported_calls == 203, "%s: every unsupported call is counted: %llu", guest,
          (unsigned long long)st.unsupported_calls);
    kvmf_program_destroy(p);
}

static int popcount64(unsigned long long x)
{
    return __builtin_popcountll(x);
}

/* The prime/victim/probe attack on hot pages: the attacker makes the probe pages hot (written by
 * two requests in a row), lets one request pass that writes nothing (so unwritten hot pages are one
 * step from cooling), then the victim writes its secret set of pages, then the attacker times a
 * write to each page: those the victim wrote would still be writable. Returns how many of the
 * trials * 64 bits the attacker guessed right. */
static int attack(kvmf_program *p, int trials, bool *all_answered)
{
    int right = 0;
    unsigned long long secret = 0x243f6a8885a308d3ULL; /* a fixed walk: the test is repeatable */
    *all_answered = true;
    for (int t = 0; t < trials; t++) {
        secret = secret * 6364136223846793005ULL + 1442695040888963407ULL;
        char victim[40];
        snprintf(victim, sizeof victim, "victim:%016llx", secret);
        get(p, "prime");
        get(p, "prime");
        get(p, "idle");
        get(p, victim);
        struct result r = get(p, "probe");
        *all_answered = *all_answered && r.error == KVMF_OK;
        unsigned long long guess = strtoull(r.body, NULL, 16);
        right += 64 - popcount64(guess ^ secret);
    }
    return right;
}

static void hot_pages_do_not_leak(const char *guest)
{
    kvmf_program *p = load_boundary(guest, 2000);
    if (!p)
        return;
    const int trials = 16;
    bool answered;
    int right = attack(p, trials, &answered);
    CHECK(answered, "%s: every probe answered", guest);
    /* Chance is half of the bits (1024 here, standard deviation 16): a leak gives nearly all of them. */
    CHECK(right <= trials * 64 * 6 / 10, "%s: the attack guessed %d of %d bits of other requests' writes", guest,
          right, trials * 64);
    /* Pages made hot by the host's warm-up requests stay hot for every client: no signal either. */
    kvmf_instance *in;
    if (kvmf_program_acquire(p, 1000, &in) == KVMF_OK) {
        struct kvmf_response resp;
        for (int i = 0; i < 3; i++) {
            kvmf_instance_run(in, "GET", "/warmup", "prime", NULL, NULL, 0, NULL, 0, KVMF_RUN_WARMUP, &resp);
            kvmf_instance_release(in);
            kvmf_program_acquire(p, 1000, &in);
        }
        kvmf_instance_release(in);
    }
    struct kvmf_program_stats before;
    kvmf_program_stats(p, &before);
    CHECK(before.warmups == 3 && before.invocations == (uint64_t)trials * 5, "%s: warm-ups are counted apart from "
          "requests: %llu warm-ups, %llu requests", guest, (unsigned long long)before.warmups,
          (unsigned long long)before.invocations);
    right = attack(p, trials, &answered);
    CHECK(right <= trials * 64 * 6 / 10, "%s: after warm-up the attack guessed %d of %d bits", guest, right,
          trials * 64);
    /* A page may time slow in one probe anyway (an interrupt, or an emulator's TLB miss, during it), so the
     * fast pages of three probes are joined: a page that is not hot faults in every request and stays slow in
     * all three, which the attack above proves. */
    unsigned long long fast = 0;
    bool probed = true;
    for (int i = 0; i < 3; i++) {
        struct result r = get(p, "probe");
        probed = probed && r.error == KVMF_OK;
        fast |= strtoull(r.body, NULL, 16);
    }
    CHECK(probed && popcount64(fast) >= 56, "%s: pages the warm-up wrote twice stay writable for every request: "
          "%016llx", guest, fast);
    kvmf_program_destroy(p);
}

void test_boundary(void)
{
    const char *guests[] = {"boundary", "boundary-musl"};
    for (size_t i = 0; i < 2; i++) {
        handlers_cannot_be_replaced(guests[i]);
        header_memory_is_bounded(guests[i]);
        host_work_is_timed(guests[i]);
        content_type_checked(guests[i]);
        unsupported_logged_per_number(guests[i]);
        hot_pages_do_not_leak(guests[i]);
    }
}
