/* fetch — outbound requests (sys_fetch 0x20000, sys_request 0x20001). GET arguments:
 *   get:URL      GET URL with two extra header fields; answers "STATUS TYPE|HEADERS|BODY" (headers as mapped)
 *   post:URL     POST "the posted body" to URL with follow_location; answers as get
 *   self:PATH    sys_request of PATH; answers as get
 *   buffer:URL   GET URL with the program's own 16-byte header buffer; answers "LEN|HEADERS"
 *   follow:URL   GET URL following redirects, with "Authorization: Bearer secret" and "X-One: 1"; answers as get
 *   result:URL   GET URL; answers the return value ("rc=N")
 *   again:URL    GET URL twice, munmap-ing the first body: answers "rc=A rc=B" (freed memory is reusable)
 *   badurl       the URL pointer outside the program's memory (the request fails)
 *   badop        the struct curl_op outside the program's memory (the request fails)
 *   badfield     a header field without ':' (the request fails)
 * A POST does as the GET of its argument. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <sys/mman.h>

static char out[1 << 16];

static void answer(long rc, const struct curl_op *op)
{
    if (rc != 0) {
        snprintf(out, sizeof out, "rc=%ld", rc);
    } else {
        snprintf(out, sizeof out, "%u %.*s|%.*s|%.*s", op->status, (int)op->ctlen, op->ctype, (int)op->headers_length,
                 op->headers, (int)op->content_length, (const char *)op->content);
    }
    respond_text(200, out);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    struct curl_op op;
    memset(&op, 0, sizeof op);
    const char *target = strchr(arg, ':') ? strchr(arg, ':') + 1 : "";
    if (!strncmp(arg, "get:", 4)) {
        struct curl_fields fields;
        memset(&fields, 0, sizeof fields);
        fields.ptr[0] = "X-One: 1";
        fields.len[0] = 8;
        fields.ptr[1] = "Accept: image/webp";
        fields.len[1] = 18;
        answer(sys_fetch(target, strlen(target), &op, &fields, NULL), &op);
    } else if (!strncmp(arg, "follow:", 7)) {
        struct curl_fields fields;
        struct curl_options opts;
        memset(&fields, 0, sizeof fields);
        memset(&opts, 0, sizeof opts);
        fields.ptr[0] = "Authorization: Bearer secret";
        fields.len[0] = 28;
        fields.ptr[1] = "X-One: 1";
        fields.len[1] = 8;
        opts.follow_location = 1;
        answer(sys_fetch(target, strlen(target), &op, &fields, &opts), &op);
    } else if (!strncmp(arg, "post:", 5)) {
        static const char body[] = "the posted body";
        struct curl_options opts;
        memset(&opts, 0, sizeof opts);
        opts.follow_location = 1;
        op.post_buffer = body;
        op.post_buflen = sizeof body - 1;
        answer(sys_fetch(target, strlen(target), &op, NULL, &opts), &op);
    } else if (!strncmp(arg, "self:", 5)) {
        answer(sys_request(target, strlen(target), &op, NULL, NULL), &op);
    } else if (!strncmp(arg, "buffer:", 7)) {
        char headers[16];
        op.headers = headers;
        op.headers_length = sizeof headers;
        long rc = sys_fetch(target, strlen(target), &op, NULL, NULL);
        snprintf(out, sizeof out, "rc=%ld %u|%.*s", rc, op.headers_length, (int)op.headers_length, headers);
        respond_text(200, out);
    } else if (!strncmp(arg, "result:", 7)) {
        snprintf(out, sizeof out, "rc=%ld", sys_fetch(target, strlen(target), &op, NULL, NULL));
        respond_text(200, out);
    } else if (!strncmp(arg, "again:", 6)) {
        long a = sys_fetch(target, strlen(target), &op, NULL, NULL);
        if (a == 0)
            munmap(op.content, op.content_length);
        memset(&op, 0, sizeof op);
        long b = sys_fetch(target, strlen(target), &op, NULL, NULL);
        snprintf(out, sizeof out, "rc=%ld rc=%ld", a, b);
        respond_text(200, out);
    } else if (!strcmp(arg, "badurl")) {
        answer(sys_fetch((const char *)0x2000, 10, &op, NULL, NULL), &op);
    } else if (!strcmp(arg, "badop")) {
        answer(sys_fetch("http://a/", 9, (struct curl_op *)0x2000, NULL, NULL), &op);
    } else {
        struct curl_fields fields;
        memset(&fields, 0, sizeof fields);
        fields.ptr[0] = "no colon here";
        fields.len[0] = 13;
        answer(sys_fetch("http://a/", 9, &op, &fields, NULL), &op);
    }
}

/* A POST (a filter's step) is answered as the GET with the same argument: its body is not used. */
static void on_post(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len)
{
    (void)ctype, (void)data, (void)len;
    on_get(url, arg);
}

int main(void)
{
    register_func(1, (void *)on_get);
    register_func(2, (void *)on_post);
    wait_for_requests();
    return 0;
}
