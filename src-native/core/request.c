/*
 * request.c — one request in an acquired instance: the request's input copied into a fresh block of
 * guest memory (strings, body, headers, the kvm_request struct of guest-abi), the handler call
 * prepared and launched, on_error's second chance, and the response handed back as pointers into
 * guest memory, valid until release.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core.h"

struct input_writer {
    struct kvmf_instance *in;
    uint64_t base, pos, end;
};

static uint64_t put(struct input_writer *w, const void *data, uint64_t len, uint64_t align)
{
    w->pos = (w->pos + align - 1) & ~(align - 1);
    uint64_t at = w->pos;
    if (len)
        memcpy(w->in->vm.mem + at, data, len);
    w->pos += len;
    return at;
}

static uint64_t put_string(struct input_writer *w, const char *s, uint64_t len)
{
    uint64_t at = put(w, s, len, 1);
    put(w, "", 1, 1);
    return at;
}

struct request_input {
    const char *method, *url, *arg, *ctype, *headers;
    const void *body;
    uint64_t url_len, arg_len, ctype_len, body_len, headers_len, nheaders;
    bool post;
};

/* The kvm_request struct for generic and paused handlers (kvm_abi.h). */
static void put_request_struct(struct input_writer *w, const struct request_input *r, uint64_t at, uint64_t url,
                               uint64_t arg, uint64_t ctype, uint64_t method, uint64_t body, uint64_t headers,
                               uint64_t nheaders, uint64_t flags)
{
    struct kvm_request s = {
        .method = method,
        .url = url,
        .arg = arg,
        .content_type = ctype,
        .method_len = (uint16_t)strlen(r->method),
        .url_len = (uint16_t)(r->url_len > 65535 ? 65535 : r->url_len),
        .arg_len = (uint16_t)(r->arg_len > 65535 ? 65535 : r->arg_len),
        .content_type_len = (uint16_t)(r->ctype_len > 65535 ? 65535 : r->ctype_len),
        .content = r->post ? body : 0,
        .content_len = r->body_len,
        .headers = headers,
        .num_headers = (uint16_t)nheaders,
        .info_flags = flags & KVMF_RUN_WARMUP ? KVM_REQUEST_WARMUP : 0,
    };
    /* 16 bytes: getrandom(..., 0) returns them all once the kernel's pool is ready, and this is long after boot. */
    if (getrandom(s.prng, sizeof s.prng, 0) != (ssize_t)sizeof s.prng)
        s.prng[0] = now_ns(), s.prng[1] = thread_cpu_ns();
    memcpy(w->in->vm.mem + at, &s, sizeof s);
    mark_touched(w->in, at, sizeof s);
}

/* Bytes of the body the streaming POST handler gets per call. */
#define STREAM_POST_SEGMENT (U(64) << 10)

/* The streaming POST handler (4): on_stream(url, arg, ctype, data, len, offset) once per segment of the body
 * (already in guest memory, as under the VMOD), before the POST handler gets the whole body. A negative result,
 * or a crash, fails the request; a response given from it ends the request there. The POST handler's prepared
 * call is kept aside meanwhile. */
static void run_stream_post(struct kvmf_instance *in, uint64_t url, uint64_t arg, uint64_t ctype, uint64_t body,
                            uint64_t len)
{
    struct exchange *ex = &in->ex;
    struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
    struct trap_frame post_call = *f;
    for (uint64_t offset = 0; offset < len; offset += STREAM_POST_SEGMENT) {
        uint64_t n = len - offset < STREAM_POST_SEGMENT ? len - offset : STREAM_POST_SEGMENT;
        uint64_t args[6] = {url, arg, ctype, body + offset, n, offset};
        instance_prepare_call(in, in->program->handlers.stream, args, 6);
        ex->stream_post = true;
        ex->finished = ex->chunk_ready = false;
        int rc = instance_launch(in);
        if (rc != KVMF_OK)
            exchange_fail(in, rc, "%s", kvmf_last_error());
        else
            vcpu_run(in);
        ex->stream_post = false;
        if (ex->error != KVMF_OK || (!ex->chunk_ready && ex->status != 0))
            return; /* failed, or answered already */
        if (!ex->chunk_ready) {
            exchange_fail(in, KVMF_BAD_API_CALL, "the streaming POST handler ended without returning (offset %llu)",
                          (unsigned long long)offset);
            return;
        }
        if ((int64_t)ex->chunk_addr < 0) {
            exchange_fail(in, KVMF_BAD_API_CALL, "the streaming POST handler returned %lld for the %llu bytes at "
                          "offset %llu", (long long)(int64_t)ex->chunk_addr, (unsigned long long)n,
                          (unsigned long long)offset);
            return;
        }
    }
    ex->finished = ex->chunk_ready = false;
    *f = post_call;
}

/* Copies the request into a fresh block of guest memory and prepares the handler call. */
static int start_request(struct kvmf_instance *in, const struct request_input *r, uint64_t flags, uint64_t *url_out,
                         uint64_t *arg_out)
{
    const struct kvmf_program *p = in->program;
    uint64_t need = r->url_len + r->arg_len + r->ctype_len + r->body_len + r->headers_len + sizeof(struct kvm_request_header) * r->nheaders +
                    strlen(r->method) + 256;
    uint64_t base = mem_alloc_input(in, need);
    if (!base)
        return kvmf_fail(KVMF_OUT_OF_MEMORY, "the request's input (%llu bytes) does not fit in the program's free "
                         "memory (max_memory %llu MiB)",
                         (unsigned long long)need, (unsigned long long)(p->mem_size >> 20));
    in->input_addr = base;
    in->input_len = (need + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    struct input_writer w = {in, base, base, base + need};
    uint64_t url = put_string(&w, r->url, r->url_len);
    uint64_t arg = put_string(&w, r->arg, r->arg_len);
    uint64_t ctype = put_string(&w, r->ctype, r->ctype_len);
    uint64_t method = put_string(&w, r->method, strlen(r->method));
    uint64_t body = r->body_len ? put(&w, r->body, r->body_len, 64) : put(&w, "", 1, 64);
    /* Headers: the text lines, then the kvm_request_header array pointing into them. */
    uint64_t header_text = put(&w, r->headers, r->headers_len, 1);
    put(&w, "", 1, 1);
    uint64_t harray = (w.pos + 15) & ~15ULL;
    w.pos = harray + sizeof(struct kvm_request_header) * r->nheaders;
    uint64_t line = 0, idx = 0;
    for (uint64_t i = 0; i <= r->headers_len && idx < r->nheaders; i++) {
        if (i == r->headers_len || r->headers[i] == '\n') {
            uint64_t len = i - line;
            if (len > 0) {
                const char *colon = memchr(r->headers + line, ':', len);
                struct kvm_request_header h = {
                    .field = header_text + line,
                    .field_colon = colon ? (uint32_t)(colon - (r->headers + line)) : (uint32_t)len,
                    .field_len = (uint32_t)len,
                };
                memcpy(in->vm.mem + harray + sizeof h * idx, &h, sizeof h);
                header_list_add(&in->ex.request_headers, r->headers + line, len);
                idx++;
            }
            line = i + 1;
        }
    }
    /* Terminate the header lines in guest memory so each field is a C string up to its end. */
    for (uint64_t i = 0; i < r->headers_len; i++)
        if (in->vm.mem[header_text + i] == '\n')
            in->vm.mem[header_text + i] = '\0';
    uint64_t req = (w.pos + 15) & ~15ULL;
    w.pos = req + sizeof(struct kvm_request);
    mark_touched(in, base, w.pos - base);
    *url_out = url;
    *arg_out = arg;

    const struct handlers *h = &p->handlers;
    if (p->paused_mode) {
        put_request_struct(&w, r, p->paused_req_addr, url, arg, ctype, method, body, harray, idx, flags);
        struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
        *f = p->frozen_frame;
        f->rax = 0;
        /* Return from wait_for_requests_paused() (the frame's RIP is already past its `out`);
         * R11 and RDX are scratch across that call. */
        frame_enter_user(in, f->rip);
        return KVMF_OK;
    }
    if (h->request) {
        put_request_struct(&w, r, req, url, arg, ctype, method, body, harray, idx, flags);
        uint64_t args[1] = {req};
        instance_prepare_call(in, h->request, args, 1);
    } else if (r->post) {
        if (!h->post)
            return kvmf_fail(KVMF_NO_RESPONSE, "the program registered no POST handler (register_func 2)");
        uint64_t args[5] = {url, arg, ctype, body, r->body_len};
        instance_prepare_call(in, h->post, args, 5);
        if (h->stream)
            run_stream_post(in, url, arg, ctype, body, r->body_len);
    } else {
        if (!h->get)
            return kvmf_fail(KVMF_NO_RESPONSE, "the program registered no GET handler (register_func 1)");
        uint64_t args[2] = {url, arg};
        instance_prepare_call(in, h->get, args, 2);
    }
    return KVMF_OK;
}

/* The second chance: on_error(url, arg, exception_text) in the same, not yet reset VM. */
static bool run_on_error(struct kvmf_instance *in, uint64_t url, uint64_t arg, const char *reason)
{
    const struct kvmf_program *p = in->program;
    if (!p->handlers.on_error || in->ex.error == KVMF_INTERNAL || in->ex.stream_begun)
        return false; /* (once the head of a stream has gone to the caller, no other answer can follow) */
    uint64_t len = strlen(reason);
    uint64_t text = mem_alloc_input(in, len + 1);
    if (!text)
        return false;
    guest_write(in, text, reason, len + 1);
    struct exchange *ex = &in->ex;
    ex->phase = PHASE_ON_ERROR;
    ex->deadline_ns = now_ns() + p->config.on_error_time_ms * 1000000ULL;
    ex->finished = false;
    ex->error = KVMF_OK;
    ex->status = 0;
    ex->streaming = false; /* on_error answers afresh, streaming or not */
    ex->stream_written = 0;
    buffer_clear(&ex->stream_body);
    buffer_clear(&ex->stream_ctype);
    header_list_clear(&ex->response_headers);
    uint64_t args[3] = {url, arg, text};
    instance_prepare_call(in, p->handlers.on_error, args, 3);
    if (instance_launch(in) != KVMF_OK)
        return false;
    vcpu_run(in);
    if (ex->error == KVMF_OK && ex->streaming)
        stream_collect(in);
    return ex->error == KVMF_OK && ex->status != 0;
}

static uint64_t count_lines(const char *text, uint64_t len)
{
    uint64_t n = 0, start = 0;
    for (uint64_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (i > start)
                n++;
            start = i + 1;
        }
    }
    return n;
}

static bool valid_request_headers(const char *text, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        if (text[i] == '\0' || text[i] == '\r')
            return false;
    return true;
}

static int run_request(kvmf_instance *in, const char *method, const char *url, const char *arg,
                       const char *content_type, const void *body, uint64_t body_len, const char *headers,
                       uint64_t headers_len, uint64_t flags, struct kvmf_response *resp)
{
    if (!in || !resp || !method || !url)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_run: instance, method, url and response are required");
    memset(resp, 0, sizeof *resp);
    resp->cacheable = -1;
    resp->error_message = "";
    struct kvmf_program *p = in->program;
    struct exchange *ex = &in->ex;
    if (strlen(method) >= sizeof ex->method)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "method \"%.20s...\" is longer than %zu bytes", method,
                         sizeof ex->method - 1);
    if (!headers)
        headers_len = 0;
    if (in->socket.active)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_run: the instance serves a connection");
    if (!valid_request_headers(headers, headers_len))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "request headers contain CR or NUL; separate lines with LF only");
    if (in->needs_reset) {
        int rc = instance_reset(in);
        if (rc != KVMF_OK)
            return rc;
    }
    uint64_t start = now_ns(), cpu_start = thread_cpu_ns();
    uint64_t exits_before = in->stats.exits, trap_exits_before = in->stats.trap_exits;
    regex_set_clear(&in->regexes); /* the previous request's patterns: no request sees another's */
    exchange_reset(ex, PHASE_REQUEST, start + p->config.max_request_time_ms * 1000000ULL);
    in->learning = (flags & KVMF_RUN_WARMUP) != 0;
    strcpy(ex->method, method);
    struct request_input r = {
        .method = method, .url = url, .arg = arg ? arg : "", .ctype = content_type ? content_type : "",
        .headers = headers ? headers : "", .body = body, .body_len = body ? body_len : 0,
        .headers_len = headers_len, .post = body != NULL,
    };
    r.url_len = strlen(r.url);
    r.arg_len = strlen(r.arg);
    r.ctype_len = strlen(r.ctype);
    r.nheaders = count_lines(r.headers, r.headers_len);
    uint64_t url_addr = 0, arg_addr = 0;
    in->needs_reset = true; /* until the request succeeds on a non-ephemeral program */
    int rc = start_request(in, &r, flags, &url_addr, &arg_addr);
    if (rc != KVMF_OK) {
        exchange_fail(in, rc, "%s", kvmf_last_error());
    } else if (!ex->finished) { /* the streaming POST handler may have failed or answered already */
        if ((rc = instance_launch(in)) != KVMF_OK)
            exchange_fail(in, rc, "%s", kvmf_last_error());
        else
            vcpu_run(in);
        if (ex->error == KVMF_OK && ex->streaming)
            stream_collect(in);
    }
    uint64_t dirtied = 0;
    if (ex->error == KVMF_OK && dirty_collect(in, &dirtied) == KVMF_OK &&
        dirtied * PAGE_SIZE > p->config.max_request_memory + DIRTY_SLACK)
        exchange_fail(in, KVMF_OUT_OF_MEMORY, "the request wrote %llu pages (%llu KiB), more than max_request_memory "
                      "(%llu KiB) allows", (unsigned long long)dirtied, (unsigned long long)(dirtied * 4),
                      (unsigned long long)(p->config.max_request_memory >> 10));
    int error = ex->error;
    if (error != KVMF_OK) {
        snprintf(in->error_message, sizeof in->error_message, "%s", ex->message);
        if (run_on_error(in, url_addr, arg_addr, in->error_message)) {
            resp->on_error_used = 1;
            STAT_ADD(in->on_error_answers, 1);
        }
        ex->error = error;
    } else {
        in->error_message[0] = '\0';
        /* Threads are per request: where they stopped means nothing to the next one (threads.c). */
        in->needs_reset = p->config.ephemeral != 0 || (in->threads.items && !p->is_storage);
    }
    /* The response: pointers into guest memory, valid until release. */
    if (ex->status != 0 && (error == KVMF_OK || resp->on_error_used)) {
        resp->status = ex->status;
        if (ex->streaming) { /* gathered by the host from the callback's pieces */
            resp->content_type = ex->stream_ctype.data ? ex->stream_ctype.data : "";
            resp->content_type_len = ex->stream_ctype.len;
            resp->body = (const uint8_t *)(ex->stream_body.data ? ex->stream_body.data : "");
            resp->body_len = ex->stream_body.len;
        } else {
            resp->content_type = (const char *)in->vm.mem + ex->ctype_addr;
            resp->content_type_len = ex->ctype_len;
            resp->body = in->vm.mem + ex->body_addr;
            resp->body_len = ex->body_len;
        }
        const struct buffer *header_text = response_header_text(ex);
        resp->headers = header_text->data;
        resp->headers_len = header_text->len;
        resp->cacheable = ex->cacheable;
        resp->ttl_ms = ex->ttl_ms;
        resp->grace_ms = ex->grace_ms;
        resp->keep_ms = ex->keep_ms;
    }
    resp->error = error;
    resp->error_message = in->error_message;
    resp->log = ex->log.data;
    resp->log_len = ex->log.len;
    resp->run_ns = now_ns() - start;
    resp->cpu_ns = thread_cpu_ns() - cpu_start;
    resp->dirty_pages = dirtied;
    resp->exits = in->stats.exits - exits_before;
    resp->trap_exits = in->stats.trap_exits - trap_exits_before;
    if (in->sink.write) {
        resp->streamed_bytes = ex->stream_written;
        resp->stream_begun = ex->stream_begun;
        resp->stream_stopped = ex->stream_stopped;
        if (ex->stream_stopped)
            in->needs_reset = true; /* its callbacks were cut off midway */
    }

    if (flags & KVMF_RUN_WARMUP) {
        /* The host's own requests: counted apart, so that statistics count the clients' requests. */
        STAT_ADD(in->warmups, 1);
        __atomic_store_n(&in->stats.exits, exits_before, __ATOMIC_RELAXED);
        __atomic_store_n(&in->stats.trap_exits, trap_exits_before, __ATOMIC_RELAXED);
        if (error != KVMF_OK)
            kvmf_fail(error, "%s", in->error_message);
        return error;
    }
    STAT_ADD(in->stats.invocations, 1);
    STAT_ADD(in->stats.run_ns, resp->run_ns);
    STAT_ADD(in->stats.cpu_ns, resp->cpu_ns);
    STAT_ADD(in->stats.bytes_in, r.body_len);
    STAT_ADD(in->stats.bytes_out, resp->body_len + resp->streamed_bytes);
    STAT_ADD(in->stats.dirty_pages, dirtied);
    __atomic_store_n(&in->stats.last_dirty_pages, dirtied, __ATOMIC_RELAXED);
    if (error != KVMF_OK) {
        STAT_ADD(in->stats.failures, 1);
        STAT_ADD(in->failures_by_kind[error], 1);
    }
    if (error != KVMF_OK)
        kvmf_fail(error, "%s", in->error_message);
    return error;
}

int kvmf_instance_run(kvmf_instance *in, const char *method, const char *url, const char *arg,
                      const char *content_type, const void *body, uint64_t body_len, const char *headers,
                      uint64_t headers_len, uint64_t flags, struct kvmf_response *resp)
{
    int rc = run_request(in, method, url, arg, content_type, body, body_len, headers, headers_len, flags, resp);
    if (in) {
        in->sink = (struct stream_sink){0}; /* the sink and the fetch handler were for this run only */
        in->fetch = (struct fetch_handler){0};
    }
    return rc;
}

int kvmf_instance_stream_to(kvmf_instance *in, kvmf_stream_begin_fn begin, kvmf_stream_write_fn write, void *ctx)
{
    if (!in)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_stream_to: the instance is required");
    if (!write && begin)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_stream_to: a begin function needs a write function");
    in->sink = (struct stream_sink){.begin = begin, .write = write, .ctx = ctx};
    return KVMF_OK;
}
