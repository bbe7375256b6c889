/*
 * stream.c — the streaming response (begin_streaming_response, 0x10012): the handler names the status, the content
 * type, the body's length and a callback, and never returns. The host then calls the callback in the same VM, on a
 * stack below the handler's (whose frames, and the callback's argument, stay intact), once per piece:
 * cb(arg, max, written, total) returns {data, len} with 1..max bytes, until `total` bytes are written. The pieces
 * are gathered as the response body, or passed to the caller's sink one by one (kvmf_instance_stream_to); the
 * request's time limit covers the program's part of them all, not the time the sink takes.
 */
#include <string.h>

#include "core.h"

#define CHUNK_MAX (U(1) << 20) /* `max` for one callback: bytes one piece may hold */
#define RED_ZONE 128

void stream_begin(struct kvmf_instance *in, struct trap_frame *f)
{
    struct exchange *ex = &in->ex;
    int16_t status = (int16_t)f->rdi;
    uint64_t ctype = f->rsi, ctype_len = f->rdx, total = f->rcx, cb = f->r8, arg = f->r9;
    const char *type = api_response_head(in, status, ctype, ctype_len, "begin_streaming_response");
    if (!type)
        return;
    if (total > in->program->config.max_response_size) {
        exchange_fail(in, KVMF_RESPONSE_TOO_LARGE, "begin_streaming_response: a body of %llu bytes exceeds "
                      "max_response_size (%llu bytes)", (unsigned long long)total,
                      (unsigned long long)in->program->config.max_response_size);
        return;
    }
    if (total && !guest_ptr(in, cb, 1)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "begin_streaming_response: callback 0x%llx is outside the program",
                      (unsigned long long)cb);
        return;
    }
    /* The content type is kept by the host: the callbacks may change the memory it came from. */
    if (!buffer_append(&ex->stream_ctype, type, ctype_len, ctype_len) && ctype_len) {
        exchange_fail(in, KVMF_INTERNAL, "begin_streaming_response: out of host memory");
        return;
    }
    ex->status = status;
    ex->streaming = true;
    ex->stream_cb = cb;
    ex->stream_arg = arg;
    ex->stream_total = total;
    ex->stream_sp = (f->rsp - RED_ZONE - 64) & ~15ULL; /* below the handler's frames and their red zone */
    ex->finished = true; /* the handler's part ends here; stream_collect runs the callbacks */
}

const struct buffer *response_header_text(struct exchange *ex)
{
    buffer_clear(&ex->response_header_text);
    for (size_t i = 0; i < ex->response_headers.count; i++) {
        buffer_append(&ex->response_header_text, ex->response_headers.items[i].text,
                      ex->response_headers.items[i].len, SIZE_MAX);
        buffer_append(&ex->response_header_text, "\n", 1, SIZE_MAX);
    }
    return &ex->response_header_text;
}

/* The time a sink call took is the caller's, not the program's: the deadline moves by as much. */
static void sink_done(struct exchange *ex, uint64_t started_ns, int rc)
{
    ex->deadline_ns += now_ns() - started_ns;
    if (rc != 0)
        ex->stream_stopped = true;
}

/* Hands the head to the sink, once. */
static void sink_begin(struct kvmf_instance *in)
{
    struct exchange *ex = &in->ex;
    const struct buffer *headers = response_header_text(ex);
    struct kvmf_response head = {
        .status = ex->status, .content_type = ex->stream_ctype.data ? ex->stream_ctype.data : "",
        .content_type_len = ex->stream_ctype.len, .body_len = ex->stream_total,
        .headers = headers->data ? headers->data : "", .headers_len = headers->len, .error_message = "",
        .cacheable = ex->cacheable, .ttl_ms = ex->ttl_ms, .grace_ms = ex->grace_ms, .keep_ms = ex->keep_ms,
    };
    uint64_t started = now_ns();
    ex->stream_begun = true;
    int rc = in->sink.begin ? in->sink.begin(in->sink.ctx, &head) : 0;
    sink_done(ex, started, rc);
}

/* Takes the piece the callback returned: 1..max bytes inside the program's memory. */
static bool take_chunk(struct kvmf_instance *in, uint64_t max)
{
    struct exchange *ex = &in->ex;
    uint64_t written = ex->stream_written;
    if (ex->chunk_len == 0) {
        exchange_fail(in, KVMF_NO_RESPONSE, "the streaming callback returned no data (stalled) after %llu of %llu "
                      "bytes", (unsigned long long)written, (unsigned long long)ex->stream_total);
        return false;
    }
    if (ex->chunk_len > max) {
        exchange_fail(in, KVMF_BAD_API_CALL, "the streaming callback returned %llu bytes when at most %llu were asked "
                      "for (%llu of %llu written)", (unsigned long long)ex->chunk_len, (unsigned long long)max,
                      (unsigned long long)written, (unsigned long long)ex->stream_total);
        return false;
    }
    const void *data = guest_ptr(in, ex->chunk_addr, ex->chunk_len);
    if (!data) {
        exchange_fail(in, KVMF_BAD_API_CALL, "the streaming callback returned %llu bytes at 0x%llx, outside the "
                      "program's memory", (unsigned long long)ex->chunk_len, (unsigned long long)ex->chunk_addr);
        return false;
    }
    ex->stream_written += ex->chunk_len;
    if (in->sink.write) {
        uint64_t started = now_ns();
        sink_done(ex, started, in->sink.write(in->sink.ctx, data, ex->chunk_len));
        return !ex->stream_stopped;
    }
    if (!buffer_append(&ex->stream_body, data, ex->chunk_len, ex->stream_total)) {
        exchange_fail(in, KVMF_INTERNAL, "out of host memory for the streamed body (%llu bytes)",
                      (unsigned long long)ex->stream_total);
        return false;
    }
    return true;
}

void stream_collect(struct kvmf_instance *in)
{
    struct exchange *ex = &in->ex;
    if (in->sink.write && ex->error == KVMF_OK && ex->streaming)
        sink_begin(in);
    while (ex->error == KVMF_OK && ex->streaming && !ex->stream_stopped && ex->stream_written < ex->stream_total) {
        uint64_t written = ex->stream_written, left = ex->stream_total - written;
        uint64_t max = left < CHUNK_MAX ? left : CHUNK_MAX;
        uint64_t args[4] = {ex->stream_arg, max, written, ex->stream_total};
        instance_prepare_call_at(in, ex->stream_cb, args, 4, ex->stream_sp);
        ex->finished = ex->chunk_ready = false;
        int rc = instance_launch(in);
        if (rc != KVMF_OK) {
            exchange_fail(in, rc, "%s", kvmf_last_error());
            break;
        }
        vcpu_run(in);
        if (ex->error != KVMF_OK)
            break;
        if (!ex->chunk_ready) {
            /* It ended the run another way (sys_backend_response, wait_for_requests...). */
            exchange_fail(in, KVMF_BAD_API_CALL, "the streaming callback did not return a piece of the body");
            break;
        }
        if (!take_chunk(in, max))
            break;
    }
}
