/*
 * test_stream.c — the streaming response (begin_streaming_response): the body gathered from the program's callback
 * piece by piece, on a stack that leaves the handler's intact, with headers set before; a callback that stalls,
 * lies about lengths, points outside the program, crashes or loops fails the request with a precise message.
 * With a sink (kvmf_instance_stream_to) the head and every piece go to the caller as they come, and the caller can
 * stop the stream.
 */
#include <stdlib.h>
#include <time.h>

#include "harness.h"

static void expect_failure(kvmf_program *p, const char *arg, int kind, const char *text)
{
    struct result r = get(p, arg);
    CHECK(r.error == kind && strstr(r.message, text) != NULL, "stream %s fails as %s with \"%s\": %s: %s", arg,
          kvmf_error_name(kind), text, kvmf_error_name(r.error), r.message);
}

/* The stream guest in 64 MiB with a time limit of `limit_ms` (scaled); NULL, checked, when it does not boot. */
static kvmf_program *load_stream(const char *guest, uint64_t limit_ms)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_time_ms = limit_ms * time_scale;
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    return p;
}

static void streams(const char *guest)
{
    kvmf_program *p = load_stream(guest, 1000);
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

/* What a sink saw; `stop_after` pieces, then it asks to stop (0: never); `pause_ms` per piece. */
struct sink_log {
    int begins, writes;
    long status;
    char ctype[64], headers[256];
    unsigned long long total;
    char body[8192];
    size_t len;
    int stop_after;
    long pause_ms;
};

static int sink_begin(void *ctx, const struct kvmf_response *head)
{
    struct sink_log *s = ctx;
    s->begins++;
    s->status = (long)head->status;
    snprintf(s->ctype, sizeof s->ctype, "%.*s", (int)head->content_type_len, head->content_type);
    snprintf(s->headers, sizeof s->headers, "%.*s", (int)head->headers_len, head->headers);
    s->total = (unsigned long long)head->body_len;
    return 0;
}

static int sink_write(void *ctx, const uint8_t *data, uint64_t len)
{
    struct sink_log *s = ctx;
    s->writes++;
    if (s->len + len <= sizeof s->body) {
        memcpy(s->body + s->len, data, len);
        s->len += len;
    }
    if (s->pause_ms) {
        struct timespec t = {s->pause_ms / 1000, (s->pause_ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
    }
    return s->stop_after && s->writes >= s->stop_after;
}

/* One GET whose stream goes to `log`. */
static struct kvmf_response sink_get(kvmf_program *p, const char *arg, struct sink_log *log)
{
    struct kvmf_response r = {0};
    kvmf_instance *in;
    if (kvmf_program_acquire(p, 10000, &in) != KVMF_OK)
        return r;
    if (kvmf_instance_stream_to(in, sink_begin, sink_write, log) == KVMF_OK)
        kvmf_instance_run(in, "GET", "/", arg, NULL, NULL, 0, NULL, 0, 0, &r);
    kvmf_instance_release(in);
    return r;
}

static void streams_to_sink(const char *guest)
{
    uint64_t limit_ms = 400;
    kvmf_program *p = load_stream(guest, limit_ms);
    if (!p)
        return;
    struct sink_log s = {0};
    struct kvmf_response r = sink_get(p, "ok:3000", &s);
    bool digits = s.len == 3000;
    for (size_t i = 0; i < s.len && digits; i++)
        digits = s.body[i] == (char)('0' + i % 10);
    CHECK(r.error == KVMF_OK && r.body_len == 0 && r.streamed_bytes == 3000 && r.stream_begun && !r.stream_stopped,
          "%s: a sink gets the streamed body, not the response: %s %llu bytes gathered, %llu streamed", guest,
          kvmf_error_name((int)r.error), (unsigned long long)r.body_len, (unsigned long long)r.streamed_bytes);
    CHECK(s.begins == 1 && s.status == 200 && !strcmp(s.ctype, "text/x-stream") && s.total == 3000 &&
          strstr(s.headers, "X-Streamed: yes") && s.writes == 4 && digits,
          "%s: the head once (%d: %ld %s %llu [%s]), then 4 pieces in order (%d, %zu bytes)", guest, s.begins,
          s.status, s.ctype, s.total, s.headers, s.writes, s.len);

    /* A caller that stops: no more callbacks, no failure, and the instance is fresh for the next request. */
    s = (struct sink_log){.stop_after = 1};
    r = sink_get(p, "ok:3000", &s);
    CHECK(r.error == KVMF_OK && r.stream_stopped && r.streamed_bytes == 777 && s.writes == 1,
          "%s: a stopped stream ends after its first piece without failing: %s stopped=%lld %llu bytes, %d writes",
          guest, kvmf_error_name((int)r.error), (long long)r.stream_stopped, (unsigned long long)r.streamed_bytes,
          s.writes);
    struct result whole = get(p, "ok:1000");
    CHECK(whole.error == KVMF_OK && whole.body_len == 1000, "%s: without a sink the next body is gathered: %s %zu",
          guest, kvmf_error_name(whole.error), whole.body_len);

    /* The sink's time is not the program's: 5 pieces at 0.3 of the limit each finish. */
    s = (struct sink_log){.pause_ms = (long)(limit_ms * time_scale * 3 / 10)};
    r = sink_get(p, "ok:3885", &s);
    CHECK(r.error == KVMF_OK && s.writes == 5 && r.streamed_bytes == 3885,
          "%s: a slow sink is not charged to the program: %s, %d writes: %s", guest, kvmf_error_name((int)r.error),
          s.writes, r.error_message ? r.error_message : "");

    /* A failure after the head: reported, and the head already went out. */
    s = (struct sink_log){0};
    r = sink_get(p, "crash", &s);
    CHECK(r.error == KVMF_MEMORY_FAULT && r.stream_begun && s.begins == 1 && s.writes == 0 && r.status == 0,
          "%s: a crash in the callback after the head fails the stream: %s begun=%lld", guest,
          kvmf_error_name((int)r.error), (long long)r.stream_begun);
    CHECK(kvmf_instance_stream_to(NULL, NULL, sink_write, &s) == KVMF_INVALID_ARGUMENT &&
              strstr(kvmf_last_error(), "instance is required"),
          "kvmf_instance_stream_to refuses a NULL instance: %s", kvmf_last_error());
    kvmf_program_destroy(p);
}

void test_stream(void)
{
    streams_to_sink("stream");
    streams("stream");
    streams("stream-musl");
}
