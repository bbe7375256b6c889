/*
 * fetch.c — outbound requests of a program: sys_fetch (0x20000) and sys_request (0x20001, to the server itself).
 *
 * The core only carries them: it reads the program's request (URL, method, POST body, extra header lines,
 * follow_location) out of guest memory, hands it to the handler the caller set for this run
 * (kvmf_instance_fetch_with), and maps the answer into the program: the body and header lines in fresh memory of
 * the program's mmap area, counted against its request memory like any allocation, the status and Content-Type
 * in its struct curl_op. A program with an egress policy fetches by libcurl within it (curl_fetch.c), whatever
 * handler the caller set; the caller's handler answers self-requests, and the fetches of programs without a
 * policy (where a program may connect is then the handler's decision); with neither, -EPERM. The handler's time
 * is the program's: the request's deadline does not move, and the handler is told how much is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define URL_MAX 8192
#define FIELD_MAX 8192         /* one extra request header line */
#define REPLY_HEADERS_MAX (64u << 10)
#define CTYPE_MAX 127

struct kvmf_fetch_reply {
    int64_t status;
    char ctype[CTYPE_MAX + 1];
    uint64_t ctype_len;
    struct buffer headers;      /* "Name: value\r\n" lines */
    struct buffer body;
    uint64_t max_body;
    bool too_large;
};

int kvmf_fetch_reply_status(kvmf_fetch_reply *reply, int64_t status, const char *content_type,
                            uint64_t content_type_len)
{
    if (!reply || (content_type_len && !content_type))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_fetch_reply_status: a reply (and a type for its length) is required");
    if (status < 100 || status > 999)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_fetch_reply_status: status %lld is not 100 to 999",
                         (long long)status);
    reply->status = status;
    reply->ctype_len = content_type_len < CTYPE_MAX ? content_type_len : CTYPE_MAX;
    if (reply->ctype_len)
        memcpy(reply->ctype, content_type, reply->ctype_len);
    reply->ctype[reply->ctype_len] = '\0';
    return KVMF_OK;
}

int kvmf_fetch_reply_header(kvmf_fetch_reply *reply, const char *line, uint64_t len)
{
    if (!reply || (len && !line))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_fetch_reply_header: a reply and a line are required");
    if (memchr(line, '\n', len) || memchr(line, '\r', len))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_fetch_reply_header: a header line has no line break in it");
    if (!buffer_append(&reply->headers, line, len, REPLY_HEADERS_MAX) ||
        !buffer_append(&reply->headers, "\r\n", 2, REPLY_HEADERS_MAX))
        return kvmf_fail(KVMF_RESPONSE_TOO_LARGE, "kvmf_fetch_reply_header: more than %u bytes of header lines",
                         REPLY_HEADERS_MAX);
    return KVMF_OK;
}

int kvmf_fetch_reply_body(kvmf_fetch_reply *reply, const void *data, uint64_t len)
{
    if (!reply || (len && !data))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_fetch_reply_body: a reply and data are required");
    if (reply->too_large || len > reply->max_body - reply->body.len) {
        reply->too_large = true;
        buffer_free(&reply->body);
        return kvmf_fail(KVMF_RESPONSE_TOO_LARGE, "kvmf_fetch_reply_body: the body is larger than the %llu bytes "
                         "the program's request memory has left", (unsigned long long)reply->max_body);
    }
    if (!buffer_append(&reply->body, data, len, SIZE_MAX))
        return kvmf_fail(KVMF_INTERNAL, "kvmf_fetch_reply_body: out of memory");
    return KVMF_OK;
}

void fetch_reply_clear_headers(kvmf_fetch_reply *reply) { buffer_clear(&reply->headers); }
void fetch_reply_clear_body(kvmf_fetch_reply *reply) { buffer_clear(&reply->body); }
uint64_t fetch_reply_body_len(const kvmf_fetch_reply *reply) { return reply->body.len; }

/* The handler of a program's sys_fetch when it has an egress policy. */
static int egress_handler(void *ctx, const struct kvmf_fetch_request *request, kvmf_fetch_reply *reply)
{
    return curl_fetch(ctx, request, reply);
}

int kvmf_instance_fetch_with(kvmf_instance *in, kvmf_fetch_fn fetch, void *ctx)
{
    if (!in)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_fetch_with: the instance is required");
    in->fetch = (struct fetch_handler){.fn = fetch, .ctx = ctx};
    return KVMF_OK;
}

/* The extra request header lines of *fields (guest address, may be 0) as "Name: value\n" text; false when one
 * lies outside the program's memory or is malformed (the request fails: the program passed a bad pointer). */
static bool read_fields(struct kvmf_instance *in, uint64_t addr, struct buffer *out, const char *call)
{
    struct curl_fields fields;
    if (!addr)
        return true;
    const void *src = guest_ptr(in, addr, sizeof fields);
    if (!src) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: fields at 0x%llx are outside the program's memory", call,
                      (unsigned long long)addr);
        return false;
    }
    memcpy(&fields, src, sizeof fields);
    for (int i = 0; i < 12 && fields.ptr[i]; i++) {
        const char *line = fields.len[i] ? guest_ptr(in, fields.ptr[i], fields.len[i]) : "";
        if (!line || fields.len[i] > FIELD_MAX || memchr(line, '\n', fields.len[i]) || memchr(line, '\r', fields.len[i]) ||
            !memchr(line, ':', fields.len[i])) {
            exchange_fail(in, KVMF_BAD_API_CALL, "%s: header field %d (at 0x%llx, %u bytes) is %s", call, i,
                          (unsigned long long)fields.ptr[i], fields.len[i],
                          line ? "not one \"Name: value\" line" : "outside the program's memory");
            return false;
        }
        if (!buffer_append(out, line, fields.len[i], SIZE_MAX) || !buffer_append(out, "\n", 1, SIZE_MAX)) {
            exchange_fail(in, KVMF_INTERNAL, "%s: out of memory", call);
            return false;
        }
    }
    return true;
}

/* Copies data into fresh memory of the program's mmap area; its guest address, or 0 when it does not fit. */
static uint64_t map_into_guest(struct kvmf_instance *in, const void *data, uint64_t len)
{
    int64_t addr = mem_mmap(in, 0, len ? len : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    if (addr < 0)
        return 0;
    if (len)
        guest_write(in, (uint64_t)addr, data, len);
    return (uint64_t)addr;
}

int64_t fetch_call(struct kvmf_instance *in, struct trap_frame *f, bool self)
{
    const char *call = self ? "sys_request" : "sys_fetch";
    uint64_t url_addr = f->rdi, url_len = f->rsi, op_addr = f->rdx, fields_addr = f->rcx, opts_addr = f->r8;
    struct exchange *ex = &in->ex;
    struct curl_op op;
    const char *url = url_len && url_len <= URL_MAX ? guest_ptr(in, url_addr, url_len) : NULL;
    void *op_ptr = guest_ptr(in, op_addr, sizeof op);
    if (!url || !op_ptr) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: the %s (at 0x%llx) is outside the program's memory%s", call,
                      url ? "struct curl_op" : "URL", (unsigned long long)(url ? op_addr : url_addr),
                      url || (url_len && url_len <= URL_MAX) ? "" : " or not 1 to 8192 bytes long");
        return -EFAULT;
    }
    memcpy(&op, op_ptr, sizeof op);
    const uint8_t *post = NULL;
    if (op.post_buffer) {
        post = op.post_buflen ? guest_ptr(in, op.post_buffer, op.post_buflen) : (const uint8_t *)"";
        if (!post) {
            exchange_fail(in, KVMF_BAD_API_CALL, "%s: the POST body (at 0x%llx, %u bytes) is outside the program's "
                          "memory", call, (unsigned long long)op.post_buffer, op.post_buflen);
            return -EFAULT;
        }
    }
    int8_t follow = 0, insecure = 0;
    if (opts_addr) {
        const struct curl_options *opts = guest_ptr(in, opts_addr, sizeof *opts);
        if (!opts) {
            exchange_fail(in, KVMF_BAD_API_CALL, "%s: the options at 0x%llx are outside the program's memory", call,
                          (unsigned long long)opts_addr);
            return -EFAULT;
        }
        follow = opts->follow_location;
        insecure = opts->dont_verify_host;
    }
    /* A program's egress policy always decides its sys_fetch: no handler of the caller's can widen it. */
    kvmf_fetch_fn handler = in->fetch.fn;
    void *handler_ctx = in->fetch.ctx;
    if (in->program->egress && !self) {
        handler = egress_handler;
        handler_ctx = in;
    }
    if (!handler) {
        exchange_logf(in, "[kvmfilter] %s refused (-EPERM): %s\n", call, self ? "self-requests are not handled here"
                      : "outbound requests are not allowed for this program (it has no egress policy)");
        return -EPERM;
    }
    struct buffer fields = {0};
    if (!read_fields(in, fields_addr, &fields, call)) {
        buffer_free(&fields);
        return -EFAULT;
    }
    uint64_t limit = in->program->config.max_request_memory;
    uint64_t now = now_ns();
    struct kvmf_fetch_request request = {
        .url = url, .url_len = url_len, .method = post ? "POST" : "GET", .body = post,
        .body_len = post ? op.post_buflen : 0, .fields = fields.data ? fields.data : "", .fields_len = fields.len,
        .self = self, .follow_location = follow != 0, .insecure_tls = insecure != 0,
        .time_left_ms = ex->deadline_ns > now ? (ex->deadline_ns - now) / 1000000 : 0,
        .max_body = limit > ex->request_alloc ? limit - ex->request_alloc : 0,
    };
    if (request.max_body > UINT32_MAX)
        request.max_body = UINT32_MAX; /* content_length is 32 bits */
    struct kvmf_fetch_reply reply = {.max_body = request.max_body};
    /* The handler waits on the network: the run's timer must not interrupt its system calls. The deadline
     * stands, and the next entry into the guest checks it. */
    timer_disarm();
    int rc = handler(handler_ctx, &request, &reply);
    buffer_free(&fields);
    if (timer_arm(ex->deadline_ns) != KVMF_OK)
        exchange_fail(in, KVMF_INTERNAL, "%s", kvmf_last_error());
    int64_t result = 0;
    if (rc == 0 && reply.too_large)
        rc = EFBIG;
    if (rc == 0 && reply.status == 0)
        rc = EIO; /* the handler answered without a status */
    if (rc != 0) {
        result = -(int64_t)(rc > 0 && rc < 4096 ? rc : EIO);
    } else {
        uint64_t headers_addr = op.headers, headers_len = reply.headers.len;
        if (op.headers && op.headers_length) {
            /* The program's own buffer: cut to fit. */
            void *dst = guest_ptr(in, op.headers, op.headers_length);
            if (!dst) {
                exchange_fail(in, KVMF_BAD_API_CALL, "%s: the header buffer (at 0x%llx, %u bytes) is outside the "
                              "program's memory", call, (unsigned long long)op.headers, op.headers_length);
                result = -EFAULT;
            } else {
                headers_len = headers_len < op.headers_length ? headers_len : op.headers_length;
                if (headers_len)
                    guest_write(in, op.headers, reply.headers.data, headers_len);
            }
        } else {
            headers_addr = map_into_guest(in, reply.headers.data, reply.headers.len);
            if (!headers_addr)
                result = -EFBIG;
        }
        uint64_t content = result == 0 ? map_into_guest(in, reply.body.data, reply.body.len) : 0;
        if (result == 0 && !content) {
            if (headers_addr != op.headers)
                mem_munmap(in, headers_addr, reply.headers.len ? reply.headers.len : 1); /* given back whole */
            result = -EFBIG;
        }
        if (result == 0) {
            op.status = (uint32_t)reply.status;
            op.headers = headers_addr;
            op.headers_length = (uint32_t)headers_len;
            op.content = content;
            op.content_length = (uint32_t)reply.body.len;
            op.ctlen = (uint32_t)reply.ctype_len;
            memcpy(op.ctype, reply.ctype, reply.ctype_len + 1);
            guest_write(in, op_addr, &op, sizeof op);
        }
    }
    buffer_free(&reply.headers);
    buffer_free(&reply.body);
    return result;
}
