/*
 * test_egress.c — sys_fetch under an egress policy, made by libcurl against a real origin: an HTTP server this
 * test runs on 127.0.0.1 (nothing else is ever contacted; the metadata address is refused before any packet).
 * The request, its header fields and POST body reach the origin and the answer reaches the program; the policy's
 * hosts, ports and schemes; loopback refused unless the addresses list it, also for a name (localhost) that is
 * allowed as a host; redirects followed one checked hop at a time (into a host not listed, into the metadata
 * range, a loop, credentials dropped across hosts); a slow origin cut by the fetch time; a huge body refused by
 * max_response_size; max_concurrent fetches at once; a policy with a mistake refused at load with its key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int origin_port;
static int connections; /* accepted by the origin, in all (atomic) */

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void reply(int fd, const char *status, const char *extra, const char *body, size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "X-Origin: test\r\n%sConnection: close\r\n\r\n", status, len, extra);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* One connection: reads a request (head and Content-Length body) and answers by its path; /keep answers and
 * keeps the connection open for the next request, every other path closes it. */
static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[16384];
next_request:;
    size_t got = 0;
    char *end = NULL;
    while (got < sizeof req - 1 && !end) {
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        end = strstr(req, "\r\n\r\n");
    }
    if (!end) {
        close(fd);
        return NULL;
    }
    const char *cl = strcasestr(req, "\r\nContent-Length: ");
    size_t want = (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0);
    while (got < want && got < sizeof req - 1) {
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
    }
    char method[8] = "", path[256] = "";
    sscanf(req, "%7s %255s", method, path);
    char location[300];
    if (!strcmp(path, "/keep")) {
        static const char kept[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nkept";
        send_all(fd, kept, sizeof kept - 1);
        goto next_request;
    }
    if (!strcmp(path, "/hello")) {
        /* The body tells what arrived: the method, the fields the program added, a POST body. */
        char body[2048];
        const char *one = strstr(req, "\r\nX-One: "), *auth = strstr(req, "\r\nAuthorization: ");
        int n = snprintf(body, sizeof body, "%s hello x-one=%s auth=%s body=[%s]", method, one ? "yes" : "no",
                         auth ? "yes" : "no", end + 4);
        reply(fd, "200 OK", "", body, (size_t)n);
    } else if (!strncmp(path, "/to/", 4)) {
        /* /to/HOST/PATH: a redirect to http://HOST:port/PATH (HOST "meta": the metadata address, port 80) */
        char host[64];
        const char *slash = strchr(path + 4, '/');
        snprintf(host, sizeof host, "%.*s", (int)(slash ? slash - (path + 4) : 0), path + 4);
        if (!strcmp(host, "meta"))
            snprintf(location, sizeof location, "Location: http://169.254.169.254/latest/meta-data/\r\n");
        else
            snprintf(location, sizeof location, "Location: http://%s:%d%s\r\n", host, origin_port, slash);
        reply(fd, !strcmp(method, "POST") ? "303 See Other" : "302 Found", location, "", 0);
    } else if (!strcmp(path, "/loop")) {
        reply(fd, "302 Found", "Location: /loop\r\n", "", 0);
    } else if (!strcmp(path, "/slow") || !strcmp(path, "/wait")) {
        struct timespec pause = {!strcmp(path, "/slow") ? 3 : 0, !strcmp(path, "/slow") ? 0 : 600000000L};
        nanosleep(&pause, NULL);
        reply(fd, "200 OK", "", "late", 4);
    } else if (!strcmp(path, "/huge") || !strcmp(path, "/huge-chunked")) {
        size_t len = 3u << 20;
        char *body = malloc(len);
        memset(body, 'h', len);
        if (!strcmp(path, "/huge")) {
            reply(fd, "200 OK", "", body, len);
        } else {
            static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
            send_all(fd, head, sizeof head - 1);
            for (size_t at = 0; at < len; at += 65536) {
                char size[16];
                int n = snprintf(size, sizeof size, "%x\r\n", 65536);
                send_all(fd, size, (size_t)n);
                send_all(fd, body + at, 65536);
                send_all(fd, "\r\n", 2);
            }
            send_all(fd, "0\r\n\r\n", 5);
        }
        free(body);
    } else {
        reply(fd, "404 Not Found", "", "no such page", 12);
    }
    close(fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int listener = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        __atomic_add_fetch(&connections, 1, __ATOMIC_SEQ_CST);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0)
            close(fd);
        else
            pthread_detach(t);
    }
}

/* Starts the origin on 127.0.0.1 (a free port); false when it cannot listen. */
static bool start_origin(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    origin_port = ntohs(a.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, accept_loop, (void *)(intptr_t)fd) != 0)
        return false;
    pthread_detach(t);
    return true;
}

/* The fetch guest with an egress policy of "key=value" lines ("%d" is the origin's port). */
static kvmf_program *with_policy(const char *guest, const char *lines, uint64_t concurrency, uint64_t request_mib,
                                 int *error)
{
    char text[1024], blob[1024];
    snprintf(text, sizeof text, lines, origin_port, origin_port);
    size_t len = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        memcpy(blob + len, line, strlen(line) + 1);
        len += strlen(line) + 1;
    }
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.max_request_memory = request_mib << 20;
    c.max_request_time_ms = 4000 * time_scale;
    c.concurrency = concurrency;
    c.egress = blob;
    c.egress_len = len;
    return load_guest(guest, &c, error);
}

static char *url(const char *host, const char *path)
{
    static char buf[8][300];
    static int next;
    char *u = buf[next++ % 8];
    snprintf(u, 300, "http://%s:%d%s", host, origin_port, path);
    return u;
}

static struct result ask(kvmf_program *p, const char *mode, const char *target)
{
    char arg[400];
    snprintf(arg, sizeof arg, "%s:%s", mode, target);
    return get(p, arg);
}

static void expect(kvmf_program *p, const char *guest, const char *mode, const char *target, const char *want,
                   const char *what)
{
    struct result r = ask(p, mode, target);
    CHECK(r.error == KVMF_OK && strstr(r.body, want), "%s: %s (%s %s answers \"%s\"): %s \"%s\" %s %s", guest, what,
          mode, target, want, kvmf_error_name(r.error), r.body, r.message, r.log);
}

/* The caller's handler: answers self-requests (and would answer fetches, were the policy not deciding them). */
static int server_itself(void *ctx, const struct kvmf_fetch_request *r, kvmf_fetch_reply *reply)
{
    (void)ctx;
    char body[300];
    int n = snprintf(body, sizeof body, "the server itself: self=%lld %.*s", (long long)r->self, (int)r->url_len,
                     r->url);
    kvmf_fetch_reply_status(reply, 200, "text/plain", 10);
    kvmf_fetch_reply_body(reply, body, (uint64_t)n);
    return 0;
}

/* One GET on an instance with the caller's handler set. */
static struct result with_handler(kvmf_program *p, const char *arg)
{
    kvmf_instance *in;
    struct result r;
    memset(&r, 0, sizeof r);
    if (kvmf_program_acquire(p, 10000, &in) != KVMF_OK)
        return r;
    kvmf_instance_fetch_with(in, server_itself, NULL);
    r = run_on(in, "GET", arg, NULL, 0, NULL);
    kvmf_instance_release(in);
    return r;
}

struct concurrent {
    kvmf_program *p;
    struct result r;
};

static void *fetch_wait(void *arg)
{
    struct concurrent *c = arg;
    c->r = ask(c->p, "result", url("127.0.0.1", "/wait"));
    return NULL;
}

static void allowed(const char *guest)
{
    kvmf_program *p = with_policy(guest, "hosts=127.0.0.1\naddresses=127.0.0.1\nports=%d\nmax_response_size=1048576"
                                  "\nmax_time_ms=1500\nmax_concurrent=2\nmax_redirects=3", 3, 16, NULL);
    CHECK(p != NULL, "%s boots with an egress policy: %s", guest, kvmf_last_error());
    if (!p)
        return;
    expect(p, guest, "get", url("127.0.0.1", "/hello"), "200 text/plain|", "a GET reaches the origin");
    expect(p, guest, "get", url("127.0.0.1", "/hello"), "X-Origin: test\r\n", "the origin's header lines arrive");
    expect(p, guest, "get", url("127.0.0.1", "/hello"), "|GET hello x-one=yes auth=no body=[]",
           "the program's header fields reach the origin");
    expect(p, guest, "post", url("127.0.0.1", "/hello"), "|POST hello x-one=no auth=no body=[the posted body]",
           "a POST carries its body");
    expect(p, guest, "result", url("127.0.0.1", "/nothing"), "rc=0", "a 404 is an answer, not an error");
    expect(p, guest, "get", url("127.0.0.1", "/nothing"), "404 text/plain|", "its status reaches the program");
    expect(p, guest, "follow", url("127.0.0.1", "/to/127.0.0.1/hello"), "200 text/plain|",
           "a redirect to an allowed host is followed");
    expect(p, guest, "follow", url("127.0.0.1", "/to/127.0.0.1/hello"), "auth=yes",
           "the same host keeps the program's Authorization");
    expect(p, guest, "get", url("127.0.0.1", "/to/127.0.0.1/hello"), "302 text/plain|",
           "without follow_location the redirect itself is the answer");
    expect(p, guest, "post", url("127.0.0.1", "/to/127.0.0.1/hello"), "|GET hello",
           "a 303 after a POST is followed with a GET");
    char arg[400];
    snprintf(arg, sizeof arg, "get:%s", url("127.0.0.1", "/hello"));
    struct result r = with_handler(p, arg);
    CHECK(strstr(r.body, "|GET hello x-one=yes"), "%s: with a handler of the caller's, the policy still decides "
          "sys_fetch (the origin answers): %s", guest, r.body);
    snprintf(arg, sizeof arg, "get:%s", url("localhost", "/hello"));
    r = with_handler(p, arg);
    CHECK(!strcmp(r.body, "rc=-1") && strstr(r.log, "the host \"localhost\" is not in the program's egress hosts"),
          "%s: ... and a handler cannot widen it (refused, -EPERM, and logged): %s %s", guest, r.body, r.log);
    r = with_handler(p, "self:/inside?x=1");
    CHECK(!strcmp(r.body, "200 text/plain||the server itself: self=1 /inside?x=1"),
          "%s: self-requests go to the caller's handler: %s", guest, r.body);
    r = ask(p, "self", "/inside");
    CHECK(!strcmp(r.body, "rc=-1") && strstr(r.log, "self-requests are not handled here"),
          "%s: without one they are refused: %s %s", guest, r.body, r.log);
    r = ask(p, "follow", url("127.0.0.1", "/to/localhost/hello"));
    CHECK(!strcmp(r.body, "rc=-1"), "%s: a redirect to a host not listed is refused (-EPERM): %s", guest, r.body);
    expect(p, guest, "follow", url("127.0.0.1", "/loop"), "rc=-40", "a redirect loop stops at max_redirects (-ELOOP)");
    expect(p, guest, "result", url("localhost", "/hello"), "rc=-1", "a host not listed is refused");
    expect(p, guest, "result", "https://127.0.0.1/hello", "rc=-1", "a port not listed is refused");
    expect(p, guest, "result", "ftp://127.0.0.1/hello", "rc=-1", "a scheme other than http(s) is refused");
    expect(p, guest, "result", "not a url", "rc=-22", "a malformed URL is an error (-EINVAL)");
    expect(p, guest, "result", url("127.0.0.1", "/huge"), "rc=-27",
           "a body over max_response_size is refused (-EFBIG; announced length)");
    expect(p, guest, "result", url("127.0.0.1", "/huge-chunked"), "rc=-27",
           "a body over max_response_size is refused (-EFBIG; chunked)");
    uint64_t start = now_ms();
    expect(p, guest, "result", url("127.0.0.1", "/slow"), "rc=-110",
           "a slow origin is cut by max_time_ms (-ETIMEDOUT)");
    uint64_t took = now_ms() - start;
    CHECK(took >= 1400 && took < 1500 + 1000 * (uint64_t)time_scale,
          "%s: ... after the 1.5 s the policy gives (%llu ms)", guest,
          (unsigned long long)took);
    struct concurrent c[3] = {{.p = p}, {.p = p}, {.p = p}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, fetch_wait, &c[i]);
    int ok = 0, busy = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ok += !strcmp(c[i].r.body, "rc=0");
        busy += !strcmp(c[i].r.body, "rc=-11");
    }
    CHECK(ok == 2 && busy == 1, "%s: 3 fetches at once with max_concurrent 2: 2 made, 1 refused (-EAGAIN): %d %d",
          guest, ok, busy);
    struct kvmf_program_stats s;
    kvmf_program_stats(p, &s);
    CHECK(s.fetches == 23 && s.fetch_refusals == 8 && s.fetch_failures == 3 && s.fetch_bytes > 100,
          "%s: fetches, refusals, failures and bytes are counted: %llu %llu %llu %llu", guest,
          (unsigned long long)s.fetches, (unsigned long long)s.fetch_refusals, (unsigned long long)s.fetch_failures,
          (unsigned long long)s.fetch_bytes);
    kvmf_program_destroy(p);
}

static void denied(const char *guest)
{
    /* localhost and 127.0.0.1 are allowed as hosts, but loopback is not in the addresses: what a name that
     * resolves (or rebinds) to a private address looks like. */
    kvmf_program *p = with_policy(guest, "hosts=localhost,127.0.0.1\nports=%d", 1, 16, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (p) {
        struct result r = ask(p, "result", url("localhost", "/hello"));
        CHECK(!strcmp(r.body, "rc=-1") && strstr(r.log, "is loopback, not allowed unless"),
              "%s: a listed host whose address is loopback is refused at connect: %s %s", guest, r.body, r.log);
        expect(p, guest, "result", url("127.0.0.1", "/hello"), "rc=-1", "a loopback IP listed as host only is refused");
        struct kvmf_program_stats s;
        kvmf_program_stats(p, &s);
        CHECK(s.fetch_refusals == 2, "%s: both refusals counted: %llu", guest, (unsigned long long)s.fetch_refusals);
        r = ask(p, "result", url("127.0.0.1", "/hello"));
        CHECK(!strstr(r.log, "refused"), "%s: refusals are logged once a minute, not each time: %s", guest, r.log);
        kvmf_program_destroy(p);
    }
    /* IPv6 loopback, and loopback written as an IPv4-mapped IPv6 address: refused at connect, as loopback (each in
     * a program of its own, whose first refusal is logged). */
    static const char *const v6_hosts[] = {"[::1]", "[::ffff:127.0.0.1]"};
    for (size_t i = 0; i < 2; i++) {
        char lines[128], target[96];
        snprintf(lines, sizeof lines, "hosts=*\nports=%%d");
        p = with_policy(guest, lines, 1, 16, NULL);
        CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
        if (!p)
            continue;
        snprintf(target, sizeof target, "http://%s:%d/hello", v6_hosts[i], origin_port);
        struct result r = ask(p, "result", target);
        CHECK(!strcmp(r.body, "rc=-1") && strstr(r.log, "is loopback, not allowed unless"),
              "%s: %s is refused at connect as loopback: %s %s", guest, target, r.body, r.log);
        kvmf_program_destroy(p);
    }
    /* The policy allows 16 MiB bodies, but the request may allocate 2 MiB: the 3 MiB body is refused (-EFBIG). */
    p = with_policy(guest, "hosts=127.0.0.1\naddresses=127.0.0.1\nports=%d", 1, 2, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (p) {
        expect(p, guest, "result", url("127.0.0.1", "/huge"), "rc=-27",
               "a body larger than the request memory left is refused (-EFBIG)");
        expect(p, guest, "get", url("127.0.0.1", "/hello"), "200 text/plain|", "... and the next fetch works");
        /* The instance keeps its connection across requests; trimming an idle instance closes it. */
        int before = __atomic_load_n(&connections, __ATOMIC_SEQ_CST);
        expect(p, guest, "result", url("127.0.0.1", "/keep"), "rc=0", "a fetch over a kept connection");
        expect(p, guest, "result", url("127.0.0.1", "/keep"), "rc=0", "a fetch over a kept connection");
        int kept = __atomic_load_n(&connections, __ATOMIC_SEQ_CST) - before;
        CHECK(kept == 1, "%s: two requests' fetches share the instance's one connection: %d opened", guest, kept);
        uint64_t trimmed = 0;
        CHECK(kvmf_program_trim(p, 0, &trimmed) == KVMF_OK, "trim: %s", kvmf_last_error());
        expect(p, guest, "result", url("127.0.0.1", "/keep"), "rc=0", "a fetch after the trim");
        kept = __atomic_load_n(&connections, __ATOMIC_SEQ_CST) - before;
        CHECK(kept == 2, "%s: trimming the idle instance closed its connection: %d opened in all", guest, kept);
        kvmf_program_destroy(p);
    }
    /* Any host, the origin's address allowed: a redirect to the metadata address is refused at connect. */
    p = with_policy(guest, "hosts=*\naddresses=127.0.0.1/32\nports=%d,80", 1, 16, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (p) {
        struct result r = ask(p, "follow", url("127.0.0.1", "/to/meta/"));
        CHECK(!strcmp(r.body, "rc=-1") && strstr(r.log, "169.254.169.254 is link-local"),
              "%s: a redirect into the metadata range is refused at connect: %s %s", guest, r.body, r.log);
        kvmf_program_destroy(p);
    }
}

static void bad_policies(void)
{
    static const struct {
        const char *lines, *message;
    } cases[] = {
        {"ports=80", "egress needs hosts"},
        {"hosts=a.com\nports=0", "egress ports = \"0\"; allowed: port numbers 1 to 65535"},
        {"hosts=a.*.com", "egress hosts = \"a.*.com\"; allowed: host names"},
        {"hosts=a.com\nschemes=gopher", "egress schemes = \"gopher\"; allowed: http, https"},
        {"hosts=a.com\naddresses=10.0.0.0/33", "egress addresses = \"10.0.0.0/33\""},
        {"hosts=a.com\nmax_redirects=99", "egress max_redirects = \"99\"; allowed: 0 to 20"},
        {"hosts=a.com\nspeed=fast", "unknown egress key \"speed\""},
        {"hosts=a.com,,b.com", "without empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int error = 0;
        kvmf_program *p = with_policy("fetch", cases[i].lines, 1, 16, &error);
        CHECK(!p && error == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), cases[i].message),
              "a policy with a mistake is refused at load with \"%s\": %s", cases[i].message, kvmf_last_error());
        if (p)
            kvmf_program_destroy(p);
    }
}

void test_egress(void)
{
    bool listening = start_origin();
    CHECK(listening, "the test origin listens on 127.0.0.1");
    if (!listening)
        return;
    bad_policies();
    allowed("fetch");
    allowed("fetch-musl");
    denied("fetch");
}
