/*
 * test_socket.c — connection takeover: a program's socket handler (register_func 12) serves one connection in one
 * instance, resumed at wait_for_socket_events_paused with CONNECT, READ (in pieces of 64 KiB), WRITABLE and
 * DISCONNECT; what it writes (write, writev, sys_sockets_write) reaches the caller at once. The session's time per
 * delivery and its memory in all are bounded; a failure, the program closing, or the caller stopping ends it; the
 * instance is reset afterwards, and requests never see the connection's descriptor.
 */
#include <stdlib.h>
#include <time.h>

#include "harness.h"

/* What the program wrote, gathered; `stop_after` > 0 makes the write fail from that call on; `sleep_ms` makes each
 * call slow (the client's time). */
struct output {
    char data[300000];
    size_t len;
    size_t total;               /* every byte, kept or not */
    int calls;
    int stop_after;
    long sleep_ms;
};

static int gather(void *ctx, const uint8_t *data, uint64_t len)
{
    struct output *o = ctx;
    if (o->stop_after && o->calls + 1 >= o->stop_after)
        return 1;
    o->calls++;
    if (o->sleep_ms) {
        struct timespec ts = {o->sleep_ms / 1000, (o->sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    o->total += len;
    if (o->len + len <= sizeof o->data) {
        memcpy(o->data + o->len, data, len);
        o->len += len;
    }
    return 0;
}

/* The output since the last call, as a string (cleared). */
static const char *take(struct output *o)
{
    static char text[sizeof o->data + 1];
    memcpy(text, o->data, o->len);
    text[o->len] = '\0';
    o->len = 0;
    return text;
}

static int say(kvmf_instance *in, const char *text, struct kvmf_socket_result *r)
{
    return kvmf_instance_socket_read(in, text, strlen(text), r);
}

static kvmf_program *load_socket(const char *guest, uint64_t time_ms, uint64_t request_memory)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_memory = request_memory;
    c.max_request_time_ms = time_ms * time_scale;
    c.concurrency = 1; /* one instance: each session shows what the last one left */
    kvmf_program *p = load_guest(guest, &c, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    return p;
}

/* Opens a session on the program's only instance; NULL (checked) on failure. */
static kvmf_instance *open_session(kvmf_program *p, const char *guest, struct output *o, const char *arg)
{
    kvmf_instance *in;
    if (kvmf_program_acquire(p, 10000, &in) != KVMF_OK) {
        CHECK(false, "%s: acquire: %s", guest, kvmf_last_error());
        return NULL;
    }
    struct kvmf_socket_result r;
    memset(o, 0, sizeof *o);
    int rc = kvmf_instance_socket_open(in, "127.0.0.1:5555", arg, gather, o, &r);
    CHECK(rc == KVMF_OK && !r.closed, "%s: the session opens: %s %s", guest, kvmf_error_name(rc), r.error_message);
    return in;
}

static void conversation(const char *guest)
{
    kvmf_program *p = load_socket(guest, 1000, 8ULL << 20);
    if (!p)
        return;
    static struct output o;
    kvmf_instance *in = open_session(p, guest, &o, "/chat?room=1");
    if (!in) {
        kvmf_program_destroy(p);
        return;
    }
    struct kvmf_socket_result r;
    const char *hello = take(&o);
    CHECK(!strcmp(hello, "hello 127.0.0.1:5555 /chat?room=1\n"), "%s: CONNECT carries remote and arg: [%s]", guest,
          hello);
    say(in, "ping\n", &r);
    CHECK(r.error == KVMF_OK && !r.closed && r.bytes_written == 11 && !strcmp(take(&o), "echo: ping\n"),
          "%s: READ is echoed: %s %llu", guest, kvmf_error_name((int)r.error), (unsigned long long)r.bytes_written);
    say(in, "batch", &r);
    CHECK(r.error == KVMF_OK && !strcmp(take(&o), "one\ntwo\n"), "%s: sys_sockets_write writes each entry", guest);

    /* 200000 bytes arrive as four READs of at most 64 KiB, each echoed with its prefix. */
    static char big[200000], want[200100];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    size_t wn = 0;
    for (size_t off = 0; off < sizeof big; off += 65536) {
        size_t n = sizeof big - off < 65536 ? sizeof big - off : 65536;
        memcpy(want + wn, "echo: ", 6);
        memcpy(want + wn + 6, big + off, n);
        wn += 6 + n;
    }
    kvmf_instance_socket_read(in, big, sizeof big, &r);
    CHECK(r.error == KVMF_OK && o.len == wn && !memcmp(o.data, want, wn),
          "%s: a large read comes in 64 KiB pieces: %zu bytes of %zu", guest, o.len, wn);
    take(&o);
    size_t total = o.total;
    int calls = o.calls;
    say(in, "big 2048", &r);
    CHECK(r.error == KVMF_OK && o.total - total == 2048 * 1024 && o.calls - calls == 2,
          "%s: a 2 MiB write reaches the caller in two pieces: %zu bytes, %d calls", guest, o.total - total,
          o.calls - calls);
    take(&o);

    struct kvmf_response resp;
    CHECK(kvmf_instance_run(in, "GET", "/", "", NULL, NULL, 0, NULL, 0, 0, &resp) == KVMF_INVALID_ARGUMENT &&
              strstr(kvmf_last_error(), "serves a connection"),
          "%s: no request runs on an instance serving a connection: %s", guest, kvmf_last_error());

    say(in, "quit\n", &r);
    CHECK(r.error == KVMF_OK && r.closed && !strcmp(take(&o), "bye\n"), "%s: close() ends the session: %s closed=%lld",
          guest, kvmf_error_name((int)r.error), (long long)r.closed);
    CHECK(say(in, "more", &r) == KVMF_INVALID_ARGUMENT && r.closed && o.len == 0,
          "%s: nothing is delivered after the end: %s", guest, r.error_message);
    CHECK(kvmf_instance_socket_close(in, "late", &r) == KVMF_OK && r.closed, "%s: closing an ended session is a no-op",
          guest);
    kvmf_instance_release(in);

    struct result g = get(p, "");
    CHECK(g.error == KVMF_OK && !strcmp(g.body, "socket program\n"), "%s: the instance serves requests again: %s %s",
          guest, kvmf_error_name(g.error), g.message);
    g = get(p, "write32");
    CHECK(!strcmp(g.body, "rc=-1 errno=9"), "%s: a request has no connection descriptor: %s", guest, g.body);

    /* The caller closes: DISCONNECT carries the reason, the program's output of it comes back in the log. */
    if ((in = open_session(p, guest, &o, "/"))) {
        kvmf_instance_socket_close(in, "idle timeout", &r);
        CHECK(r.error == KVMF_OK && r.closed && r.log_len && strstr(r.log, "disconnected: idle timeout"),
              "%s: DISCONNECT gives the reason: [%.*s]", guest, (int)r.log_len, r.log ? r.log : "");
        kvmf_instance_release(in);
    }
    /* The program ends the connection itself: a SOCKET_DISCONNECT entry, or returning from its handler. */
    if ((in = open_session(p, guest, &o, "/"))) {
        take(&o);
        say(in, "bye", &r);
        CHECK(r.error == KVMF_OK && r.closed && !strcmp(take(&o), "so long\n"),
              "%s: a SOCKET_DISCONNECT entry closes after its data", guest);
        kvmf_instance_release(in);
    }
    if ((in = open_session(p, guest, &o, "/"))) {
        take(&o);
        say(in, "return", &r);
        CHECK(r.error == KVMF_OK && r.closed && !strcmp(take(&o), "returning\n"),
              "%s: returning from the socket handler closes", guest);
        kvmf_instance_release(in);
    }
    /* The client has gone: the caller's write stops the session, the program got EPIPE, nothing failed. */
    if ((in = open_session(p, guest, &o, "/"))) {
        o.stop_after = o.calls + 1;
        say(in, "ping", &r);
        CHECK(r.error == KVMF_OK && r.closed, "%s: a write that stops ends the session: %s closed=%lld", guest,
              kvmf_error_name((int)r.error), (long long)r.closed);
        kvmf_instance_release(in);
    }
    /* A slow client's time is not the program's. */
    if ((in = open_session(p, guest, &o, "/"))) {
        o.sleep_ms = 1000L * time_scale + 200;
        say(in, "ping", &r);
        CHECK(r.error == KVMF_OK && !r.closed, "%s: time in the caller's write is not charged: %s %s", guest,
              kvmf_error_name((int)r.error), r.error_message);
        kvmf_instance_release(in);
    }

    struct kvmf_program_stats st;
    kvmf_program_stats(p, &st);
    CHECK(st.connections == 6 && st.connection_failures == 0 && st.connection_bytes_in == 5 + 5 + 200000 + 8 + 5 + 3 +
              6 + 4 + 4 && st.connection_bytes_out > 2048 * 1024 + wn,
          "%s: connections, failures and bytes are counted: %llu %llu %llu %llu", guest,
          (unsigned long long)st.connections, (unsigned long long)st.connection_failures,
          (unsigned long long)st.connection_bytes_in, (unsigned long long)st.connection_bytes_out);
    kvmf_program_destroy(p);
}

static void expect_end(kvmf_program *p, const char *guest, const char *command, int kind, const char *text)
{
    static struct output o;
    kvmf_instance *in = open_session(p, guest, &o, "/");
    if (!in)
        return;
    struct kvmf_socket_result r;
    say(in, command, &r);
    CHECK(r.error == kind && r.closed && strstr(r.error_message, text),
          "%s: \"%s\" ends the session as %s with \"%s\": %s closed=%lld: %s", guest, command, kvmf_error_name(kind),
          text, kvmf_error_name((int)r.error), (long long)r.closed, r.error_message);
    kvmf_instance_release(in);
}

static void failures(const char *guest)
{
    kvmf_program *p = load_socket(guest, 300, 8ULL << 20);
    if (!p)
        return;
    expect_end(p, guest, "spin", KVMF_TIMEOUT, "the connection's event ran longer than its limit");
    expect_end(p, guest, "crash", KVMF_MEMORY_FAULT, "");
    expect_end(p, guest, "badwait", KVMF_BAD_API_CALL, "wait_for_socket_events_paused: room for 0 events");
    expect_end(p, guest, "respond", KVMF_BAD_API_CALL, "on a taken-over connection");

    /* Memory counts over the whole session: 2 + 4 MiB fit in 8, 4 more do not. A new session starts afresh. */
    static struct output o;
    kvmf_instance *in = open_session(p, guest, &o, "/");
    if (in) {
        struct kvmf_socket_result r;
        say(in, "grow 2", &r);
        bool two = r.error == KVMF_OK;
        say(in, "grow 4", &r);
        CHECK(two && r.error == KVMF_OK && strstr(o.data, "grew 4"), "%s: 6 MiB in two reads fit: %s", guest,
              r.error_message);
        say(in, "grow 4", &r);
        CHECK(r.error == KVMF_OUT_OF_MEMORY && r.closed, "%s: 10 MiB in a session exceed its 8: %s %s", guest,
              kvmf_error_name((int)r.error), r.error_message);
        kvmf_instance_release(in);
    }
    if ((in = open_session(p, guest, &o, "/"))) {
        struct kvmf_socket_result r;
        say(in, "grow 6", &r);
        CHECK(r.error == KVMF_OK, "%s: the next session has its whole memory: %s", guest, r.error_message);
        kvmf_instance_release(in);
    }
    struct kvmf_program_stats st;
    kvmf_program_stats(p, &st);
    CHECK(st.connection_failures == 5, "%s: failed sessions are counted: %llu", guest,
          (unsigned long long)st.connection_failures);
    kvmf_program_destroy(p);

    /* A program without a socket handler takes no connections. */
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    if ((p = load_guest("hello", &c, NULL))) {
        CHECK(kvmf_program_takes_connections(p) == 0, "hello takes no connections");
        if (kvmf_program_acquire(p, 10000, &in) == KVMF_OK) {
            struct kvmf_socket_result r;
            int rc = kvmf_instance_socket_open(in, "127.0.0.1:1", "/", gather, &o, &r);
            CHECK(rc == KVMF_NO_RESPONSE && strstr(r.error_message[0] ? r.error_message : kvmf_last_error(),
                                                   "register_func 12"),
                  "opening a session on hello fails clearly: %s", kvmf_last_error());
            kvmf_instance_release(in);
        }
        kvmf_program_destroy(p);
    }
}

void test_socket(void)
{
    const char *guests[] = {"socket", "socket-musl"};
    for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
        kvmf_program *p = load_socket(guests[i], 1000, 8ULL << 20);
        if (p) {
            CHECK(kvmf_program_takes_connections(p) == 1, "%s takes connections", guests[i]);
            kvmf_program_destroy(p);
        }
        conversation(guests[i]);
        failures(guests[i]);
    }
}
