/*
 * test_fetch.c — outbound requests (sys_fetch, sys_request) carried to the caller's handler: the program's URL,
 * method, POST body, extra header fields and follow_location reach it; its status, Content-Type, header lines and
 * body reach the program in memory mapped for it (counted against the request's memory, reusable after munmap);
 * the handler's errors come back as negative errno; bad pointers fail the request; without a handler, and on the
 * run after one, the call is refused with -EPERM; the handler's time is the program's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

/* Answers like an origin: the request echoed as the body, two header lines; special hosts for the error cases. */
static int origin(void *ctx, const struct kvmf_fetch_request *r, kvmf_fetch_reply *reply)
{
    (void)ctx;
    char url[256];
    snprintf(url, sizeof url, "%.*s", (int)r->url_len, r->url);
    if (strstr(url, "//denied/"))
        return EPERM;
    if (strstr(url, "//late/"))
        return ETIMEDOUT;
    if (strstr(url, "//slow/")) {
        struct timespec pause = {0, 0};
        uint64_t ms = r->time_left_ms + 100;
        pause.tv_sec = (time_t)(ms / 1000);
        pause.tv_nsec = (long)(ms % 1000) * 1000000L;
        nanosleep(&pause, NULL);
    }
    if (strstr(url, "//big/") || strstr(url, "//huge/")) {
        /* 3 MiB fits a 4 MiB request memory once; max_body + 1 never. */
        size_t len = strstr(url, "//big/") ? 3u << 20 : (size_t)r->max_body + 1;
        char *body = malloc(len);
        memset(body, 'b', len);
        kvmf_fetch_reply_status(reply, 200, "application/octet-stream", 24);
        int rc = kvmf_fetch_reply_body(reply, body, len);
        free(body);
        return rc == KVMF_OK ? 0 : EFBIG;
    }
    if (strstr(url, "//silent/"))
        return 0; /* no status: a failure of the handler */
    char body[1024];
    int n = snprintf(body, sizeof body, "%s %s fields=[%.*s] follow=%lld self=%lld body=[%.*s]", r->method, url,
                     (int)r->fields_len, r->fields, (long long)r->follow_location, (long long)r->self,
                     (int)r->body_len, r->body ? (const char *)r->body : "");
    kvmf_fetch_reply_status(reply, 203, "text/x-echo", 11);
    kvmf_fetch_reply_header(reply, "X-From: origin", 14);
    kvmf_fetch_reply_header(reply, "X-Two: 2", 8);
    kvmf_fetch_reply_body(reply, body, (uint64_t)n);
    return 0;
}

/* One GET with `arg`, with the handler when `with` is set. */
static struct result fetch_get(kvmf_program *p, const char *arg, bool with)
{
    kvmf_instance *in;
    struct result r;
    memset(&r, 0, sizeof r);
    if (kvmf_program_acquire(p, 10000, &in) != KVMF_OK) {
        snprintf(r.message, sizeof r.message, "acquire: %s", kvmf_last_error());
        r.error = -1;
        return r;
    }
    if (with)
        kvmf_instance_fetch_with(in, origin, NULL);
    r = run_on(in, "GET", arg, NULL, 0, NULL);
    kvmf_instance_release(in);
    return r;
}

static void expect_body(kvmf_program *p, const char *guest, const char *arg, const char *want)
{
    struct result r = fetch_get(p, arg, true);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, want), "%s %s answers \"%s\": %s \"%s\" %s", guest, arg, want,
          kvmf_error_name(r.error), r.body, r.message);
}

static void fetches(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_memory = 4ULL << 20;
    c.max_request_time_ms = 300 * time_scale;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    struct result r = fetch_get(p, "result:http://origin/", false);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "rc=-1") && strstr(r.log, "sys_fetch refused (-EPERM)"),
          "%s: without a handler a fetch is refused with -EPERM and logged: %s [%s]", guest, r.body, r.log);
    expect_body(p, guest, "get:http://origin/a?b=1",
                "203 text/x-echo|X-From: origin\r\nX-Two: 2\r\n|GET http://origin/a?b=1 fields=[X-One: 1\nAccept: "
                "image/webp\n] follow=0 self=0 body=[]");
    expect_body(p, guest, "post:http://origin/form",
                "203 text/x-echo|X-From: origin\r\nX-Two: 2\r\n|POST http://origin/form fields=[] follow=1 self=0 "
                "body=[the posted body]");
    expect_body(p, guest, "self:/internal/page",
                "203 text/x-echo|X-From: origin\r\nX-Two: 2\r\n|GET /internal/page fields=[] follow=0 self=1 body=[]");
    expect_body(p, guest, "buffer:http://origin/", "rc=0 16|X-From: origin\r\n");
    r = fetch_get(p, "result:http://origin/", false);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "rc=-1"), "%s: the handler was for one run only: %s", guest, r.body);
    expect_body(p, guest, "result:http://denied/", "rc=-1");
    expect_body(p, guest, "result:http://late/", "rc=-110");
    expect_body(p, guest, "result:http://huge/", "rc=-27");
    expect_body(p, guest, "result:http://silent/", "rc=-5");
    expect_body(p, guest, "again:http://big/", "rc=0 rc=0"); /* 2 x 3 MiB in 4 MiB: the first was given back */
    r = fetch_get(p, "badurl", true);
    CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "sys_fetch: the URL (at 0x2000) is outside"),
          "%s: a URL outside the program fails the request: %s", guest, r.message);
    r = fetch_get(p, "badop", true);
    CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "the struct curl_op (at 0x2000) is outside"),
          "%s: a curl_op outside the program fails the request: %s", guest, r.message);
    r = fetch_get(p, "badfield", true);
    CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "header field 0") &&
          strstr(r.message, "not one \"Name: value\" line"), "%s: a malformed field fails the request: %s", guest,
          r.message);
    r = fetch_get(p, "result:http://slow/", true);
    CHECK(r.error == KVMF_TIMEOUT, "%s: a handler that outlasts the request's time fails it as a timeout: %s %s",
          guest, kvmf_error_name(r.error), r.message);
    expect_body(p, guest, "get:http://origin/after", "203 text/x-echo|X-From: origin\r\nX-Two: 2\r\n|GET "
                "http://origin/after fields=[X-One: 1\nAccept: image/webp\n] follow=0 self=0 body=[]");
    kvmf_program_destroy(p);
}

void test_fetch(void)
{
    fetches("fetch");
    fetches("fetch-musl");
}
