/*
 * socket.c — connection takeover (the VMOD's steal()): one acquired instance serves one client connection through
 * the program's socket handler (register_func 12). The handler loops on wait_for_socket_events_paused(ev, n): each
 * pause ends a delivery, and the next delivery resumes the program there with events written into its array and
 * their count in rax. What the program writes to the connection goes to the caller's write function at once.
 *
 * A session is one long run in pieces: the instance is not reset between deliveries, so its memory is counted
 * from the session's start (pages written, allocations), and it is reset when released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

#define SOCKET_FD 32                    /* the connection's descriptor in the program: above any file's */
#define SOCKET_READ_MAX (U(64) << 10)   /* bytes of one SOCKET_READ event */
#define SOCKET_WRITE_PIECE (U(1) << 20) /* the most one call of the caller's write gets */
#define REMOTE_MAX 255
#define ARG_MAX (U(16) << 10)
#define REASON_MAX 255
#define EVENTS_PER_RESUME 16            /* entries of the program's array the host fills at most (it needs 2) */
#define WRITES_MAX 1024                 /* entries of one sys_sockets_write */

/* ---- the program's calls ------------------------------------------------------------------------------------ */

bool socket_is_fd(const struct kvmf_instance *in, uint64_t fd)
{
    return in->ex.phase == PHASE_SOCKET && in->socket.active && fd == SOCKET_FD;
}

void socket_wait(struct kvmf_instance *in, struct trap_frame *f)
{
    struct socket_session *s = &in->socket;
    uint64_t n = f->rsi;
    if (n == 0 || n > INT32_MAX) {
        exchange_fail(in, KVMF_BAD_API_CALL, "wait_for_socket_events_paused: room for %llu events; 1 or more needed",
                      (unsigned long long)n);
        return;
    }
    uint64_t take = n < EVENTS_PER_RESUME ? n : EVENTS_PER_RESUME;
    if (!guest_ptr(in, f->rdi, take * sizeof(struct kvm_socket_event))) {
        exchange_fail(in, KVMF_BAD_API_CALL, "wait_for_socket_events_paused: the event array at 0x%llx (%llu "
                      "entries) is outside the program's memory", (unsigned long long)f->rdi, (unsigned long long)n);
        return;
    }
    s->events_addr = f->rdi;
    s->events_max = take;
    s->waiting = true;
    in->ex.finished = true;
}

int64_t socket_write(struct kvmf_instance *in, uint64_t addr, uint64_t len)
{
    struct socket_session *s = &in->socket;
    if (s->closed_by_program || s->write_stopped)
        return -EPIPE;
    const uint8_t *data = guest_ptr(in, addr, len);
    if (!data && len)
        return -EFAULT;
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < SOCKET_WRITE_PIECE ? len - done : SOCKET_WRITE_PIECE;
        uint64_t started = now_ns();
        int rc = s->write(s->ctx, data + done, n);
        in->ex.deadline_ns += now_ns() - started; /* the caller's time (a slow client), not the program's */
        if (rc != 0) {
            s->write_stopped = true;
            return done ? (int64_t)done : -EPIPE;
        }
        done += n;
        s->bytes_written += n;
        STAT_ADD(in->connection_bytes_out, n);
    }
    return (int64_t)len;
}

int64_t socket_shutdown(struct kvmf_instance *in)
{
    in->socket.closed_by_program = true;
    return 0;
}

/* 0x10500 sys_sockets_write(events, n): each entry's data, in order; an entry of SOCKET_DISCONNECT closes the
 * connection after its data. 0, or the first entry's error. */
int64_t socket_sockets_write(struct kvmf_instance *in, struct trap_frame *f)
{
    if (in->ex.phase != PHASE_SOCKET || !in->socket.active)
        return -EBADF; /* no connection: a request VM has none */
    if (f->rsi > WRITES_MAX)
        return -EINVAL;
    const uint8_t *entries = guest_ptr(in, f->rdi, f->rsi * sizeof(struct kvm_socket_event));
    if (!entries && f->rsi)
        return -EFAULT;
    for (uint64_t i = 0; i < f->rsi; i++) {
        struct kvm_socket_event ev;
        memcpy(&ev, entries + i * sizeof ev, sizeof ev);
        if (ev.fd != SOCKET_FD)
            return -EBADF;
        if (ev.data_len) {
            int64_t rc = socket_write(in, ev.data, ev.data_len);
            if (rc < 0)
                return rc;
        }
        if (ev.event == SOCKET_DISCONNECT) {
            socket_shutdown(in);
            break;
        }
    }
    return 0;
}

/* ---- deliveries --------------------------------------------------------------------------------------------- */

static bool session_goes_on(const struct kvmf_instance *in)
{
    const struct socket_session *s = &in->socket;
    return in->ex.error == KVMF_OK && s->waiting && !s->closed_by_program && !s->write_stopped;
}

/* Runs the prepared frame until the program pauses again (its registers are kept for the next resume), returns
 * from the handler (it closed the connection), or fails. Each run has the request time limit. */
static void run_to_pause(struct kvmf_instance *in)
{
    struct exchange *ex = &in->ex;
    struct socket_session *s = &in->socket;
    ex->finished = false;
    ex->deadline_ns = now_ns() + in->program->config.max_request_time_ms * 1000000ULL;
    s->waiting = false;
    int rc = instance_launch(in);
    if (rc != KVMF_OK) {
        exchange_fail(in, rc, "%s", kvmf_last_error());
        return;
    }
    vcpu_run(in);
    if (ex->error != KVMF_OK)
        return;
    if (s->waiting)
        s->frame = *(struct trap_frame *)(in->vm.mem + FRAME_ADDR); /* past its `out`, as every API call leaves it */
    else if (!s->closed_by_program)
        exchange_fail(in, KVMF_BAD_API_CALL, "the socket handler stopped without waiting for events "
                      "(wait_for_socket_events_paused)");
}

/* Hands `count` events to the paused program, as many per resume as its array takes. */
static void deliver(struct kvmf_instance *in, const struct kvm_socket_event *events, uint64_t count)
{
    struct socket_session *s = &in->socket;
    for (uint64_t i = 0; i < count && session_goes_on(in);) {
        uint64_t n = count - i < s->events_max ? count - i : s->events_max;
        guest_write(in, s->events_addr, events + i, n * sizeof *events);
        struct trap_frame *f = (struct trap_frame *)(in->vm.mem + FRAME_ADDR);
        *f = s->frame;
        f->rax = n;
        /* Straight back into the program, not through the entry trampoline (which clears RAX and the vector
         * state): a pause is the same run going on, and only this connection's program has used the vCPU since. */
        run_to_pause(in);
        i += n;
    }
}

static struct kvm_socket_event event_of(const struct kvmf_instance *in, int32_t type)
{
    return (struct kvm_socket_event){
        .fd = SOCKET_FD, .event = type, .remote = in->socket.remote_addr, .arg = in->socket.arg_addr,
    };
}

/* Pages written since the session's start (the last reset), host copies included. */
static uint64_t pages_written(const struct kvmf_instance *in)
{
    uint64_t n = 0;
    for (uint64_t w = USER_MIN / PAGE_SIZE / 64; w < (in->npages + 63) / 64; w++)
        n += (uint64_t)__builtin_popcountll(in->touched[w]);
    return n;
}

struct call {
    uint64_t start_ns;
};

static struct call begin_call(struct kvmf_instance *in, struct kvmf_socket_result *res)
{
    memset(res, 0, sizeof *res);
    res->error_message = "";
    struct call c = {now_ns()};
    exchange_reset(&in->ex, PHASE_SOCKET, c.start_ns + in->program->config.max_request_time_ms * 1000000ULL);
    in->ex.request_alloc = in->socket.request_alloc; /* allocations count from the session's start */
    in->ex.request_peak = in->socket.request_peak;
    in->socket.bytes_written = 0;
    return c;
}

/* Checks the session's memory, ends it when it is over (or `end`), and fills the result. */
static int finish_call(struct kvmf_instance *in, struct call c, bool end, struct kvmf_socket_result *res)
{
    struct exchange *ex = &in->ex;
    struct socket_session *s = &in->socket;
    const struct kvmf_config *config = &in->program->config;
    uint64_t fresh = 0;
    if (ex->error == KVMF_OK && dirty_collect(in, &fresh) == KVMF_OK) {
        uint64_t pages = pages_written(in);
        if (pages * PAGE_SIZE > config->max_request_memory + DIRTY_SLACK)
            exchange_fail(in, KVMF_OUT_OF_MEMORY, "the connection wrote %llu pages (%llu KiB), more than "
                          "max_request_memory (%llu KiB) allows", (unsigned long long)pages,
                          (unsigned long long)(pages * 4), (unsigned long long)(config->max_request_memory >> 10));
    }
    s->request_alloc = ex->request_alloc;
    s->request_peak = ex->request_peak;
    if (ex->error != KVMF_OK) {
        snprintf(in->error_message, sizeof in->error_message, "%s", ex->message);
        STAT_ADD(in->connection_failures, 1);
    } else {
        in->error_message[0] = '\0';
    }
    if (end || !session_goes_on(in))
        s->active = false;
    res->error = ex->error;
    res->closed = !s->active;
    res->bytes_written = s->bytes_written;
    res->error_message = in->error_message;
    res->log = ex->log.data;
    res->log_len = ex->log.len;
    res->run_ns = now_ns() - c.start_ns;
    if (ex->error != KVMF_OK)
        kvmf_fail(ex->error, "%s", in->error_message);
    return ex->error;
}

/* ---- the public calls --------------------------------------------------------------------------------------- */

/* A call refused before any delivery: the result says so as a failed one would. */
static int refused(struct kvmf_socket_result *res, int rc)
{
    res->error = rc;
    res->closed = 1;
    res->error_message = kvmf_last_error();
    return rc;
}

int kvmf_program_takes_connections(const kvmf_program *p)
{
    return p && p->handlers.socket ? 1 : 0;
}

int kvmf_instance_socket_open(kvmf_instance *in, const char *remote, const char *arg, kvmf_socket_write_fn write,
                              void *ctx, struct kvmf_socket_result *res)
{
    if (!in || !write || !res)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_open: instance, write and result are required");
    memset(res, 0, sizeof *res);
    res->error_message = "";
    struct kvmf_program *p = in->program;
    if (!p->handlers.socket)
        return refused(res, kvmf_fail(KVMF_NO_RESPONSE, "program \"%s\" takes no connections: it registered no "
                                      "socket handler (register_func 12)", p->name));
    if (in->socket.active)
        return refused(res, kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_open: the instance serves a "
                                      "connection already"));
    remote = remote ? remote : "";
    arg = arg ? arg : "";
    uint64_t remote_len = strlen(remote), arg_len = strlen(arg);
    if (remote_len > REMOTE_MAX || arg_len > ARG_MAX)
        return refused(res, kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_open: remote (%llu bytes) or "
                                      "arg (%llu bytes) is longer than %u or %llu bytes",
                                      (unsigned long long)remote_len, (unsigned long long)arg_len, REMOTE_MAX,
                                      (unsigned long long)ARG_MAX));
    if (in->needs_reset) {
        int rc = instance_reset(in);
        if (rc != KVMF_OK)
            return refused(res, rc);
    }
    in->needs_reset = true; /* a connection's VM is never reused as it is left */
    regex_set_clear(&in->regexes);
    struct socket_session *s = &in->socket;
    memset(s, 0, sizeof *s);
    s->write = write;
    s->ctx = ctx;
    uint64_t need = remote_len + 1 + arg_len + 1 + REASON_MAX + 1 + 64 + SOCKET_READ_MAX;
    uint64_t base = mem_alloc_input(in, need);
    if (!base)
        return refused(res, kvmf_fail(KVMF_OUT_OF_MEMORY, "the connection's buffers (%llu bytes) do not fit in the "
                                      "program's free memory", (unsigned long long)need));
    in->input_addr = base;
    in->input_len = (need + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    s->remote_addr = base;
    guest_write(in, s->remote_addr, remote, remote_len + 1);
    s->arg_addr = s->remote_addr + remote_len + 1;
    guest_write(in, s->arg_addr, arg, arg_len + 1);
    s->reason_addr = s->arg_addr + arg_len + 1;
    s->data_addr = (s->reason_addr + REASON_MAX + 1 + 63) & ~U(63);

    struct call c = begin_call(in, res);
    s->active = true;
    STAT_ADD(in->connections, 1);
    uint64_t args[1] = {0}; /* the VMOD passes its thread's number: one thread here */
    instance_prepare_call(in, p->handlers.socket, args, 1);
    run_to_pause(in);
    struct kvm_socket_event events[2] = {event_of(in, SOCKET_CONNECT), event_of(in, SOCKET_WRITABLE)};
    deliver(in, events, 2);
    return finish_call(in, c, false, res);
}

int kvmf_instance_socket_read(kvmf_instance *in, const void *data, uint64_t len, struct kvmf_socket_result *res)
{
    if (!in || !res || (!data && len))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_read: instance, data and result are required");
    memset(res, 0, sizeof *res);
    res->error_message = "";
    if (!in->socket.active)
        return refused(res, kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_read: the instance has no open "
                                      "connection (it ended, or was never opened)"));
    struct socket_session *s = &in->socket;
    struct call c = begin_call(in, res);
    for (uint64_t off = 0; off < len && session_goes_on(in);) {
        uint64_t n = len - off < SOCKET_READ_MAX ? len - off : SOCKET_READ_MAX;
        guest_write(in, s->data_addr, (const uint8_t *)data + off, n);
        struct kvm_socket_event events[2] = {event_of(in, SOCKET_READ), event_of(in, SOCKET_WRITABLE)};
        events[0].data = s->data_addr;
        events[0].data_len = n;
        STAT_ADD(in->connection_bytes_in, n);
        deliver(in, events, 2);
        off += n;
    }
    return finish_call(in, c, false, res);
}

int kvmf_instance_socket_close(kvmf_instance *in, const char *reason, struct kvmf_socket_result *res)
{
    if (!in || !res)
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "kvmf_instance_socket_close: instance and result are required");
    memset(res, 0, sizeof *res);
    res->error_message = "";
    res->closed = 1;
    if (!in->socket.active)
        return KVMF_OK;
    struct socket_session *s = &in->socket;
    struct call c = begin_call(in, res);
    reason = reason ? reason : "closed";
    size_t reason_len = strnlen(reason, REASON_MAX);
    guest_write(in, s->reason_addr, reason, reason_len);
    guest_write(in, s->reason_addr + reason_len, "", 1);
    struct kvm_socket_event ev = event_of(in, SOCKET_DISCONNECT);
    ev.remote = s->reason_addr;
    deliver(in, &ev, 1);
    return finish_call(in, c, true, res);
}
