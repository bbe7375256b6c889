/*
 * api.c — the program API of TinyKVM VMOD programs (see docs: guest-abi). What a call records about
 * the run (failure, response, headers, log) lives in struct exchange (exchange.c).
 *
 * A program calls the API with `mov $NUMBER,%eax; out %eax,$0` in ring 3, which faults into
 * the stub; arguments are in rdi, rsi, rdx, rcx, r8, r9 and the result goes back in rax.
 * Every pointer and length is checked; a bad one ends the request as BAD_API_CALL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

/* Bounds on what a program can make the host hold for one run (docs/security.md lists them all). */
#define MAX_HEADER_BYTES (64 * 1024)      /* one header field */
#define MAX_HEADERS 1000                  /* fields in the request's or the response's header set */
#define MAX_HEADER_SET_BYTES (256 * 1024) /* bytes of one header set */
#define MAX_CONTENT_TYPE_BYTES 1024


/* A call that belongs to initialisation, made later: refused with -EPERM, counted and logged. It
 * would otherwise change host state that outlives the request (the program's handlers). */
static int64_t refuse_after_boot(struct kvmf_instance *in, const char *call)
{
    __atomic_fetch_add(&in->refused_calls, 1, __ATOMIC_RELAXED);
    exchange_logf(in, "[kvmfilter] %s refused during a request (-EPERM): it is allowed only before "
                  "wait_for_requests()\n", call);
    return -EPERM;
}

/* "Name: value": a token, a colon, and a value without CR, LF or NUL. */
static bool valid_header(const char *h, uint64_t len)
{
    static const char token_extra[] = "!#$%&'*+-.^_`|~";
    uint64_t i = 0;
    while (i < len && h[i] != ':') {
        unsigned char c = (unsigned char)h[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c && strchr(token_extra, c))))
            return false;
        i++;
    }
    if (i == 0 || i == len)
        return false;
    for (; i < len; i++)
        if (h[i] == '\r' || h[i] == '\n' || h[i] == '\0')
            return false;
    return true;
}

struct header_list *api_header_set(struct kvmf_instance *in, uint64_t where)
{
    switch (where) {
    case 0:
    case 4:
        return &in->ex.request_headers;
    case 1:
    case 5:
        return &in->ex.response_headers;
    default:
        return NULL;
    }
}

static int64_t api_register_func(struct kvmf_instance *in, struct trap_frame *f)
{
    if (in->ex.phase != PHASE_BOOT)
        return refuse_after_boot(in, "register_func");
    if (f->rdi > KVM_HANDLER_LIVE_UPDATE_RESTORE && f->rdi != KVM_HANDLER_SOCKET_PREPARE)
        return -EINVAL;
    if (!guest_ptr(in, f->rsi, 1)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "register_func(%llu): handler address 0x%llx is outside the program",
                      (unsigned long long)f->rdi, (unsigned long long)f->rsi);
        return -EFAULT;
    }
    /* Only the boot VM gets here, before any instance exists: no other thread reads the handlers yet. */
    struct handlers *h = &in->program->handlers;
    switch (f->rdi) {
    case KVM_HANDLER_FRONTEND: h->frontend = f->rsi; break;
    case KVM_HANDLER_GET: h->get = f->rsi; break;
    case KVM_HANDLER_POST: h->post = f->rsi; break;
    case KVM_HANDLER_REQUEST: h->request = f->rsi; break;
    case KVM_HANDLER_STREAM_POST: h->stream = f->rsi; break;
    case KVM_HANDLER_ERROR: h->on_error = f->rsi; break;
    case KVM_HANDLER_LIVE_UPDATE_SERIALIZE: h->serialize = f->rsi; break;
    case KVM_HANDLER_LIVE_UPDATE_RESTORE: h->restore = f->rsi; break;
    case KVM_HANDLER_SOCKET_PREPARE: h->socket = f->rsi; break;
    default: break;
    }
    return 0;
}

/* 0x10703 sys_make_ephemeral(int): during boot only. A program may always ask to be reset after every request;
 * keeping state between requests is the operator's choice (config.ephemeral = 0, the library's "ephemeral":
 * false), never the program's alone. */
static int64_t api_make_ephemeral(struct kvmf_instance *in, struct trap_frame *f)
{
    if (in->ex.phase != PHASE_BOOT)
        return refuse_after_boot(in, "sys_make_ephemeral");
    struct kvmf_config *c = &in->program->config; /* boot runs before any instance: nothing reads it yet */
    if ((int32_t)f->rdi != 0 && !in->program->is_storage) { /* an int: the upper half of rdi is not defined */
        c->ephemeral = 1;
        return 0;
    }
    if (in->program->is_storage)
        return 0; /* storage keeps its state: that is what it is for */
    if (c->ephemeral) {
        exchange_logf(in, "[kvmfilter] sys_make_ephemeral(0) refused (-EPERM): keeping state between requests "
                      "must be allowed by the program library (\"ephemeral\": false)\n");
        return -EPERM;
    }
    return 0;
}

static void api_wait_for_requests(struct kvmf_instance *in, struct trap_frame *f, bool paused)
{
    struct exchange *ex = &in->ex;
    if (ex->phase != PHASE_BOOT) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s called during a request: it belongs to initialisation",
                      paused ? "wait_for_requests_paused" : "wait_for_requests");
        return;
    }
    if (paused && !guest_ptr(in, f->rdi, sizeof(struct kvm_request))) {
        exchange_fail(in, KVMF_BAD_API_CALL, "wait_for_requests_paused: request struct at 0x%llx is invalid",
                      (unsigned long long)f->rdi);
        return;
    }
    ex->froze = true;
    ex->paused_mode = paused;
    ex->paused_req_addr = paused ? f->rdi : 0;
    ex->finished = true;
}

static int64_t to_ms(float seconds)
{
    if (!(seconds > 0))
        return 0;
    return seconds > 1e9f ? (int64_t)1e12 : (int64_t)(seconds * 1000.0f);
}

/* Adds guest header (addr, len) to `set`, within the bounds on what a header set may hold. Any
 * violation ends the run as BAD_API_CALL, naming the call and the bound. */
static int add_header(struct kvmf_instance *in, struct header_list *set, uint64_t addr, uint64_t len, const char *who)
{
    const char *h = guest_ptr(in, addr, len);
    if (!h) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: header at 0x%llx with length %llu is outside the program's memory",
                      who, (unsigned long long)addr, (unsigned long long)len);
        return -1;
    }
    return api_add_header_text(in, set, h, len, who);
}

int api_add_header_text(struct kvmf_instance *in, struct header_list *set, const char *h, uint64_t len,
                        const char *who)
{
    if (len > MAX_HEADER_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: a header of %llu bytes is longer than %d bytes", who,
                      (unsigned long long)len, MAX_HEADER_BYTES);
        return -1;
    }
    if (!valid_header(h, len)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: \"%.*s\" is not a valid header (Name: value, no CR/LF/NUL)", who,
                      (int)(len > 80 ? 80 : len), h);
        return -1;
    }
    const char *which = set == &in->ex.response_headers ? "response" : "request";
    if (set->count >= MAX_HEADERS) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: more than %d %s headers", who, MAX_HEADERS, which);
        return -1;
    }
    if (set->bytes + len > MAX_HEADER_SET_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: the %s headers would exceed %d bytes in total", who, which,
                      MAX_HEADER_SET_BYTES);
        return -1;
    }
    if (header_list_add(set, h, len) < 0) {
        exchange_fail(in, KVMF_INTERNAL, "%s: out of host memory for a header", who);
        return -1;
    }
    return 0;
}

/* A media type as it will appear in a Content-Type header: bounded, no control characters (so no
 * CR, LF or NUL can split or end the header). */
static bool valid_content_type(const char *t, uint64_t len)
{
    if (len > MAX_CONTENT_TYPE_BYTES)
        return false;
    for (uint64_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

const char *api_response_head(struct kvmf_instance *in, int16_t status, uint64_t ctype, uint64_t ctype_len,
                              const char *who)
{
    if (in->ex.phase == PHASE_BOOT || in->ex.phase == PHASE_STORAGE || in->ex.phase == PHASE_SOCKET) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s called %s", who,
                      in->ex.phase == PHASE_BOOT      ? "during initialisation"
                      : in->ex.phase == PHASE_STORAGE ? "in storage (storage answers with storage_return)"
                                                      : "on a taken-over connection (write to the connection instead)");
        return NULL;
    }
    if (status < 100 || status > 599) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: status %d is outside 100-599", who, status);
        return NULL;
    }
    const char *type = guest_ptr(in, ctype, ctype_len);
    if (!type) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: content type at 0x%llx with length %llu is outside the program's "
                      "memory", who, (unsigned long long)ctype, (unsigned long long)ctype_len);
        return NULL;
    }
    if (!valid_content_type(type, ctype_len)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: the content type (%llu bytes) is longer than %d bytes or contains "
                      "a control character (CR, LF, NUL...)", who, (unsigned long long)ctype_len,
                      MAX_CONTENT_TYPE_BYTES);
        return NULL;
    }
    return type;
}

static void api_backend_response(struct kvmf_instance *in, struct trap_frame *f)
{
    struct exchange *ex = &in->ex;
    int16_t status = (int16_t)f->rdi;
    uint64_t ctype = f->rsi, ctype_len = f->rdx, body = f->rcx, body_len = f->r8, extra = f->r9;
    if (!api_response_head(in, status, ctype, ctype_len, "sys_backend_response"))
        return;
    if (body_len > in->program->config.max_response_size) {
        exchange_fail(in, KVMF_RESPONSE_TOO_LARGE, "response body of %llu bytes exceeds max_response_size (%llu bytes)",
                      (unsigned long long)body_len, (unsigned long long)in->program->config.max_response_size);
        return;
    }
    if (!guest_ptr(in, body, body_len)) {
        exchange_fail(in, KVMF_BAD_API_CALL,
                      "sys_backend_response: body at 0x%llx with length %llu is outside the program's memory",
                      (unsigned long long)body, (unsigned long long)body_len);
        return;
    }
    if (extra) {
        const void *x = guest_ptr(in, extra, sizeof(struct BackendResponseExtra));
        if (!x) {
            exchange_fail(in, KVMF_BAD_API_CALL, "sys_backend_response: extra at 0x%llx is outside the program's memory",
                          (unsigned long long)extra);
            return;
        }
        struct BackendResponseExtra e;
        memcpy(&e, x, sizeof e); /* one copy: the guest cannot change it while it is checked */
        const struct ResponseHeader *list =
            e.num_headers ? guest_ptr(in, e.headers, (uint64_t)e.num_headers * sizeof *list) : NULL;
        if (e.num_headers && !list) {
            exchange_fail(in, KVMF_BAD_API_CALL, "sys_backend_response: %u headers at 0x%llx are outside the program's "
                          "memory", e.num_headers, (unsigned long long)e.headers);
            return;
        }
        for (uint16_t i = 0; i < e.num_headers; i++)
            if (add_header(in, &ex->response_headers, list[i].field, list[i].field_len, "sys_backend_response") < 0)
                return;
        if (e.cached || e.ttl > 0) {
            ex->cacheable = e.cached != 0;
            ex->ttl_ms = to_ms(e.ttl);
            ex->grace_ms = to_ms(e.grace);
            ex->keep_ms = to_ms(e.keep);
        }
    }
    ex->status = status;
    ex->ctype_addr = ctype;
    ex->ctype_len = ctype_len;
    ex->body_addr = body;
    ex->body_len = body_len;
    ex->finished = true;
}

static int64_t api_http_append(struct kvmf_instance *in, struct trap_frame *f)
{
    struct header_list *set = api_header_set(in, f->rdi);
    if (!set)
        return -EINVAL;
    return add_header(in, set, f->rsi, f->rdx, "sys_http_append") < 0 ? -EINVAL : 0;
}

static int64_t api_http_set(struct kvmf_instance *in, struct trap_frame *f)
{
    struct header_list *set = api_header_set(in, f->rdi);
    if (!set)
        return -EINVAL;
    const char *h = guest_ptr(in, f->rsi, f->rdx);
    if (!h || f->rdx == 0 || f->rdx > MAX_HEADER_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_http_set: header at 0x%llx with length %llu is invalid",
                      (unsigned long long)f->rsi, (unsigned long long)f->rdx);
        return -EINVAL;
    }
    const char *colon = memchr(h, ':', f->rdx);
    if (colon && !valid_header(h, f->rdx)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_http_set: \"%.*s\" is not a valid header (Name: value, no CR/LF/NUL)",
                      (int)(f->rdx > 80 ? 80 : f->rdx), h);
        return -EINVAL;
    }
    /* One pass over the set, however many fields match: the work stays linear in its size. */
    header_list_remove_all(set, h, colon ? (size_t)(colon - h) : f->rdx);
    if (!colon)
        return 0; /* a bare name removes the header */
    return add_header(in, set, f->rsi, f->rdx, "sys_http_set") < 0 ? -EINVAL : 0;
}

/* Copies `value` to the guest's (out, out_len) per the find/method convention: with out NULL
 * the length, 0 when it does not fit, else the length copied. */
static int64_t copy_out(struct kvmf_instance *in, const char *value, uint64_t len, uint64_t out, uint64_t out_len,
                        const char *who)
{
    if (!out)
        return (int64_t)len;
    if (len > out_len)
        return 0;
    if (!guest_ptr(in, out, len)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: output buffer at 0x%llx with length %llu is outside the program's "
                      "memory", who, (unsigned long long)out, (unsigned long long)out_len);
        return 0;
    }
    guest_write(in, out, value, len);
    return (int64_t)len;
}

static int64_t api_http_find(struct kvmf_instance *in, struct trap_frame *f)
{
    struct header_list *set = api_header_set(in, f->rdi);
    if (!set)
        return 0;
    const char *key = guest_ptr(in, f->rsi, f->rdx);
    if (!key || f->rdx > MAX_HEADER_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_http_find: key at 0x%llx with length %llu is invalid",
                      (unsigned long long)f->rsi, (unsigned long long)f->rdx);
        return 0;
    }
    long i = header_list_find(set, key, f->rdx);
    if (i < 0)
        return 0;
    const struct header *h = &set->items[i];
    const char *value = h->text + f->rdx + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    return copy_out(in, value, h->len - (uint64_t)(value - h->text), f->rcx, f->r8, "sys_http_find");
}

static int64_t api_get_meminfo(struct kvmf_instance *in, struct trap_frame *f)
{
    if (!guest_ptr(in, f->rdi, sizeof(struct meminfo))) {
        exchange_fail(in, KVMF_BAD_API_CALL, "get_meminfo: struct at 0x%llx is outside the program's memory",
                      (unsigned long long)f->rdi);
        return 0;
    }
    const struct kvmf_config *c = &in->program->config;
    struct meminfo info = {
        .max_memory = c->max_memory,
        .max_reqmem = c->max_request_memory,
        .reqmem_upper = in->ex.request_peak,
        .reqmem_current = in->ex.request_alloc,
    };
    guest_write(in, f->rdi, &info, sizeof info);
    return 0;
}

/* shared_memory_area(): {ptr, end} in rax:rdx, both 0 when the program has no shared area. */
static int64_t api_shared_memory_area(struct kvmf_instance *in, struct trap_frame *f)
{
    const struct kvmf_program *p = in->program;
    f->rdx = p->shm_size ? p->shm_addr + p->shm_size : 0;
    return p->shm_size ? (int64_t)p->shm_addr : 0;
}

static int64_t api_log(struct kvmf_instance *in, struct trap_frame *f)
{
    const char *text = guest_ptr(in, f->rdi, f->rsi);
    if (!text) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_log: text at 0x%llx with length %llu is outside the program's memory",
                      (unsigned long long)f->rdi, (unsigned long long)f->rsi);
        return 0;
    }
    exchange_log(in, text, f->rsi);
    if (f->rsi == 0 || text[f->rsi - 1] != '\n')
        exchange_log(in, "\n", 1);
    return 0;
}

void api_dispatch(struct kvmf_instance *in, struct trap_frame *f)
{
    struct exchange *ex = &in->ex;
    uint32_t number = (uint32_t)f->rax;
    int64_t result = 0;
    switch (number) {
    case KVM_CALL_REGISTER_FUNC: result = api_register_func(in, f); break;
    case KVM_CALL_WAIT_FOR_REQUESTS: api_wait_for_requests(in, f, false); break;
    case KVM_CALL_WAIT_FOR_REQUESTS_PAUSED: /* in a connection's VM: wait_for_socket_events_paused */
        if (ex->phase == PHASE_SOCKET)
            socket_wait(in, f);
        else
            api_wait_for_requests(in, f, true);
        break;
    case KVM_CALL_SOCKETS_WRITE: result = socket_sockets_write(in, f); break;
    case KVM_CALL_SET_CACHEABLE:
        ex->cacheable = f->rdi & 1;
        ex->ttl_ms = (int64_t)f->rsi;
        ex->grace_ms = (int64_t)f->rdx;
        ex->keep_ms = (int64_t)f->rcx;
        break;
    case KVM_CALL_BACKEND_RESPONSE: api_backend_response(in, f); break;
    case KVM_CALL_BEGIN_STREAMING_RESPONSE: stream_begin(in, f); break;
    case KVM_CALL_HTTP_APPEND: result = api_http_append(in, f); break;
    case KVM_CALL_HTTP_SET: result = api_http_set(in, f); break;
    case KVM_CALL_HTTP_FIND: result = api_http_find(in, f); break;
    case KVM_CALL_HTTP_METHOD:
        result = copy_out(in, ex->method, strlen(ex->method), f->rdi, f->rsi, "sys_http_method");
        break;
    case KVM_CALL_SHARED_MEMORY_AREA: result = api_shared_memory_area(in, f); break;
    case KVM_CALL_MAKE_EPHEMERAL: result = api_make_ephemeral(in, f); break;
    case KVM_CALL_REGEX_COMPILE:
    case KVM_CALL_REGEX_FREE:
    case KVM_CALL_REGEX_MATCH:
    case KVM_CALL_REGEX_SUBST:
    case KVM_CALL_REGEX_COPYTO:
        result = regex_dispatch(in, f, number);
        break;
    case KVM_CALL_IS_STORAGE:
    case KVM_CALL_STORAGE_ALLOW:
    case KVM_CALL_STORAGE_CALLV:
    case KVM_CALL_STORAGE_RETURN:
    case KVM_CALL_STORAGE_NORETURN:
    case KVM_CALL_STORAGE_TASK:
    case KVM_CALL_STOP_STORAGE_TASK:
        result = storage_dispatch(in, f, number);
        break;
    case KVM_CALL_MULTIPROCESS:
    case KVM_CALL_MULTIPROCESS_ARRAY:
    case KVM_CALL_MULTIPROCESS_CLONE:
    case KVM_CALL_MULTIPROCESS_WAIT:
        result = multiprocess_dispatch(in, f, number);
        break;
    case KVM_CALL_GET_MEMINFO: result = api_get_meminfo(in, f); break;
    case KVM_CALL_LOG: result = api_log(in, f); break;
    case KVM_CALL_IS_DEBUG: result = in->program->config.debug ? 1 : 0; break;
    case KVM_CALL_BREAKPOINT: break;
    case KVM_CALL_FETCH: result = fetch_call(in, f, false); break;
    case KVM_CALL_SELF_REQUEST: result = fetch_call(in, f, true); break;
    default:
        note_unsupported(in, "API call", number);
        result = -ENOSYS;
    }
    f->rax = (uint64_t)result;
}
