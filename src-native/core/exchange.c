/*
 * exchange.c — the bookkeeping of one guest run (struct exchange: boot, a request or on_error): its
 * phase and deadline, its first failure, its response, its header sets and its log, and the log-once
 * note of unsupported calls. The trap handlers (api.c, syscalls.c, vcpu.c) fill it in.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

#define MAX_LOG_BYTES (64 * 1024)

void exchange_reset(struct exchange *ex, enum phase phase, uint64_t deadline_ns)
{
    ex->phase = phase;
    ex->deadline_ns = deadline_ns;
    ex->finished = false;
    ex->error = KVMF_OK;
    ex->message[0] = '\0';
    ex->froze = ex->paused_mode = false;
    ex->paused_req_addr = 0;
    ex->enomem = false;
    ex->request_alloc = ex->request_peak = 0;
    ex->fetch_ns = 0;
    ex->status = 0;
    ex->ctype_addr = ex->ctype_len = ex->body_addr = ex->body_len = 0;
    header_list_clear(&ex->request_headers);
    header_list_clear(&ex->response_headers);
    buffer_clear(&ex->response_header_text);
    buffer_clear(&ex->log);
    ex->cacheable = -1;
    ex->ttl_ms = ex->grace_ms = ex->keep_ms = 0;
    ex->streaming = ex->stream_post = ex->chunk_ready = false;
    ex->stream_cb = ex->stream_arg = ex->stream_total = ex->stream_sp = ex->chunk_addr = ex->chunk_len = 0;
    ex->stream_written = 0;
    ex->stream_begun = ex->stream_stopped = false;
    buffer_clear(&ex->stream_body);
    buffer_clear(&ex->stream_ctype);
    buffer_clear(&ex->storage_result);
    ex->storage_result_max = 0;
    ex->storage_returned = false;
    ex->restore_data = NULL;
}

void exchange_free(struct exchange *ex)
{
    header_list_clear(&ex->request_headers);
    header_list_clear(&ex->response_headers);
    free(ex->request_headers.items);
    free(ex->response_headers.items);
    buffer_free(&ex->response_header_text);
    buffer_free(&ex->log);
    buffer_free(&ex->storage_result);
    buffer_free(&ex->stream_body);
    buffer_free(&ex->stream_ctype);
}

void exchange_fail(struct kvmf_instance *in, int kind, const char *fmt, ...)
{
    struct exchange *ex = &in->ex;
    if (ex->finished && ex->error != KVMF_OK)
        return; /* the first failure is the cause */
    ex->finished = true;
    ex->error = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->message, sizeof ex->message, fmt, ap);
    va_end(ap);
}

void exchange_log(struct kvmf_instance *in, const char *text, size_t len)
{
    struct buffer *log = &in->ex.log;
    if (log->len >= MAX_LOG_BYTES)
        return;
    if (!buffer_append(log, text, len, MAX_LOG_BYTES - 32))
        buffer_append(log, "\n[log truncated]\n", 17, MAX_LOG_BYTES);
}

/* Whether call `number` of this kind has been logged for the program before; records it if not. One
 * entry per (kind, number): a request can keep quiet only the calls it makes itself. */
void exchange_logf(struct kvmf_instance *in, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        exchange_log(in, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static bool unsupported_seen(struct kvmf_program *p, const char *what, uint64_t number, bool *overflow)
{
    bool seen = false;
    *overflow = false;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->unsupported_logged_count && !seen; i++)
        seen = p->unsupported_logged[i].what == what && p->unsupported_logged[i].number == number;
    if (!seen) {
        if (p->unsupported_logged_count < UNSUPPORTED_LOGGED_MAX) {
            p->unsupported_logged[p->unsupported_logged_count].what = what;
            p->unsupported_logged[p->unsupported_logged_count].number = number;
            p->unsupported_logged_count++;
        } else {
            seen = p->unsupported_overflow_logged;
            *overflow = true;
            p->unsupported_overflow_logged = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return seen;
}

void note_unsupported(struct kvmf_instance *in, const char *what, uint64_t number)
{
    __atomic_fetch_add(&in->unsupported_calls, 1, __ATOMIC_RELAXED);
    bool overflow;
    if (unsupported_seen(in->program, what, number, &overflow))
        return;
    if (overflow)
        exchange_logf(in, "[kvmfilter] unsupported %s %llu (0x%llx) answered -ENOSYS; more than %d distinct "
                      "unsupported calls: the rest are counted, not logged\n", what, (unsigned long long)number,
                      (unsigned long long)number, UNSUPPORTED_LOGGED_MAX);
    else
        exchange_logf(in, "[kvmfilter] unsupported %s %llu (0x%llx) answered -ENOSYS\n", what,
                      (unsigned long long)number, (unsigned long long)number);
}
