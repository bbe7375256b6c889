/* stream — the streaming response (begin_streaming_response, 0x10012). GET arguments:
 *   ok:N       N bytes ("0123456789" repeated) in pieces of at most 777 bytes, counted in a struct on the
 *              handler's stack (so that stack must survive the callbacks); sets X-Streamed: yes first
 *   slow:N     N pieces of 1000 bytes ('a', 'b', ...); every piece after the first takes 300 ms to make
 *   zero       a body of 0 bytes (the callback is never called)
 *   stall      the callback returns 0 bytes after 100
 *   lie        the callback returns more than it was asked for
 *   bad        the callback returns a pointer into the system area
 *   crash      the callback crashes
 *   half       the callback gives 5 of the 10 bytes, then crashes
 *   loop       the callback loops without end
 *   huge       a content length above max_response_size
 * POST: the streaming POST handler (4) sees the body segment by segment, then the POST handler answers
 * "segments=S bytes=B in-order=1 same=1" (same: the segments are the bytes the POST handler gets). Arguments:
 *   negative   the streaming handler returns -1 for the second segment (the request fails)
 *   answer     the streaming handler answers at the first segment (the POST handler never runs) */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct state {
    const char *how;
    size_t calls;
    char piece[1024];
};

static struct streaming_content next(void *arg, size_t max, size_t written, size_t total)
{
    struct state *s = arg;
    s->calls++;
    struct streaming_content c = {s->piece, 0};
    if (!strcmp(s->how, "ok")) {
        size_t n = max < 777 ? max : 777;
        for (size_t i = 0; i < n; i++)
            s->piece[i] = (char)('0' + (written + i) % 10);
        c.len = n;
    } else if (!strcmp(s->how, "slow")) {
        if (written > 0) {
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            do
                clock_gettime(CLOCK_MONOTONIC, &t);
            while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
        }
        c.len = max < 1000 ? max : 1000;
        memset(s->piece, 'a' + (int)(written / 1000) % 26, c.len);
    } else if (!strcmp(s->how, "stall")) {
        c.len = written < 100 ? 100 : 0;
        memset(s->piece, 'x', 100);
    } else if (!strcmp(s->how, "lie")) {
        c.len = max + 1;
    } else if (!strcmp(s->how, "bad")) {
        c.data = (const void *)0x2000;
        c.len = 10;
    } else if (!strcmp(s->how, "crash") || (!strcmp(s->how, "half") && written > 0)) {
        *(volatile int *)0 = 1;
    } else if (!strcmp(s->how, "half")) {
        memset(s->piece, 'h', 5);
        c.len = 5;
    } else if (!strcmp(s->how, "loop")) {
        for (volatile int i = 0;; i++) {
        }
    }
    (void)total;
    return c;
}

static size_t segments, seen, checksum;
static int in_order = 1;

static long on_stream(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len,
                      size_t offset)
{
    (void)url, (void)ctype;
    if (offset != seen)
        in_order = 0;
    segments++;
    seen += len;
    for (size_t i = 0; i < len; i++)
        checksum = checksum * 31 + data[i];
    if (!strcmp(arg, "negative") && segments == 2)
        return -1;
    if (!strcmp(arg, "answer"))
        respond_text(202, "answered while streaming");
    return (long)len;
}

static void on_post(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len)
{
    (void)url, (void)arg, (void)ctype;
    size_t whole = 0;
    for (size_t i = 0; i < len; i++)
        whole = whole * 31 + data[i];
    char out[128];
    snprintf(out, sizeof out, "segments=%zu bytes=%zu in-order=%d same=%d", segments, seen, in_order,
             whole == checksum && seen == len);
    respond_text(200, out);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    struct state s = {.how = arg};
    size_t total = 10;
    if (!strncmp(arg, "ok:", 3)) {
        s.how = "ok";
        total = (size_t)atol(arg + 3);
        sys_http_append(1, "X-Streamed: yes", 15);
    } else if (!strncmp(arg, "slow:", 5)) {
        s.how = "slow";
        total = 1000 * (size_t)atol(arg + 5);
    } else if (!strcmp(arg, "zero")) {
        total = 0;
    } else if (!strcmp(arg, "stall")) {
        total = 1000;
    } else if (!strcmp(arg, "huge")) {
        total = (size_t)1 << 40;
    }
    begin_streaming_response(200, "text/x-stream", 13, total, next, &s);
}

int main(void)
{
    register_func(1, (void *)on_get);
    register_func(2, (void *)on_post);
    register_func(4, (void *)on_stream);
    wait_for_requests();
    return 0;
}
