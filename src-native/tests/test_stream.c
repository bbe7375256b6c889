/*
 * test_stream.c — the streaming response (begin_streaming_response): the body gathered from the program's callback
 * piece by piece, on a stack that leaves the handler's intact, with headers set before; a callback that stalls,
 * lies about lengths, points outside the program, crashes or loops fails the request with a precise message.
 */
#include <stdlib.h>

#include "harness.h"

static void expect_failure(kvmf_program *p, const char *arg, int kind, const char *text)
{
    struct result r = get(p, arg);
    CHECK(r.error == kind && strstr(r.message, text) != NULL, "stream %s fails as %s with \"%s\": %s: %s", arg,
          kvmf_error_name(kind), text, kvmf_error_name(r.error), r.message);
}

static void streams(const char *guest)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_time_ms = 1000ULL * time_scale;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "ok:3000");
    bool digits = r.body_len == 3000;
    for (size_t i = 0; i < r.body_len && digits; i++)
        digits = r.body[i] == (char)('0' + i % 10);
    CHECK(r.error == KVMF_OK && r.status == 200 && digits, "%s: 3000 bytes in pieces of 777: %s %zu bytes %s", guest,
          kvmf_error_name(r.error), r.body_len, r.message);
    CHECK(!strcmp(r.content_type, "text/x-stream") && strstr(r.headers, "X-Streamed: yes"),
          "%s: the content type and the headers set before: %s [%s]", guest, r.content_type, r.headers);
    r = get(p, "zero");
    CHECK(r.error == KVMF_OK && r.status == 200 && r.body_len == 0, "%s: an empty streamed body: %s %zu", guest,
          kvmf_error_name(r.error), r.body_len);
    expect_failure(p, "stall", KVMF_NO_RESPONSE, "returned no data (stalled) after 100 of 1000 bytes");
    expect_failure(p, "lie", KVMF_BAD_API_CALL, "returned 11 bytes when at most 10 were asked for");
    expect_failure(p, "bad", KVMF_BAD_API_CALL, "returned 10 bytes at 0x2000, outside the program's memory");
    expect_failure(p, "crash", KVMF_MEMORY_FAULT, "NULL pointer dereference");
    expect_failure(p, "loop", KVMF_TIMEOUT, "ran longer than its limit");
    expect_failure(p, "huge", KVMF_RESPONSE_TOO_LARGE, "exceeds max_response_size");
    r = get(p, "ok:10");
    CHECK(r.error == KVMF_OK && r.body_len == 10, "%s: the instance streams again after the failures: %s", guest,
          kvmf_error_name(r.error));

    /* The streaming POST handler: 200000 bytes come as 64 KiB segments (4), in order, then the whole to POST. */
    size_t len = 200000;
    char *body = malloc(len);
    for (size_t i = 0; i < len; i++)
        body[i] = (char)(i * 7 + i / 1000);
    kvmf_instance *in;
    if (kvmf_program_acquire(p, 10000, &in) == KVMF_OK) {
        r = run_on(in, "POST", "", body, len, NULL);
        kvmf_instance_release(in);
        CHECK(!strcmp(r.body, "segments=4 bytes=200000 in-order=1 same=1"), "%s: streaming POST: %s %s", guest,
              r.body, r.message);
    }
    if (kvmf_program_acquire(p, 10000, &in) == KVMF_OK) {
        r = run_on(in, "POST", "negative", body, len, NULL);
        kvmf_instance_release(in);
        CHECK(r.error == KVMF_BAD_API_CALL && strstr(r.message, "returned -1 for the 65536 bytes at offset 65536"),
              "%s: a negative result of the streaming POST handler fails the request: %s", guest, r.message);
    }
    if (kvmf_program_acquire(p, 10000, &in) == KVMF_OK) {
        r = run_on(in, "POST", "answer", body, len, NULL);
        kvmf_instance_release(in);
        CHECK(r.error == KVMF_OK && r.status == 202 && !strcmp(r.body, "answered while streaming"),
              "%s: the streaming POST handler may answer itself: %ld %s", guest, r.status, r.body);
    }
    free(body);
    kvmf_program_destroy(p);
}

void test_stream(void)
{
    streams("stream");
    streams("stream-musl");
}
