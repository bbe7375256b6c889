/*
 * curl_fetch.c — sys_fetch for programs with an egress policy: the request made by libcurl from the host,
 * inside the policy (egress.c).
 *
 * Why here and not in the JVM: libcurl is what the VMOD's programs were written against (struct curl_op is its
 * shape), it lets the policy see every address a connection goes to (CURLOPT_OPENSOCKETFUNCTION) and so close
 * DNS rebinding, and the fetch costs no JVM thread or callback (measured in docs/benchmarks.md).
 *
 * What the policy bounds: the URL of every hop (redirects are followed here, one checked hop at a time, never by
 * libcurl), every address connected to, the body (max_response_size and the request memory left), the time
 * (the request's deadline and max_time_ms for all fetches of a request), and fetches running at once for the
 * program. No proxy from the environment is used, only http and https are spoken, and TLS is verified.
 *
 * Each instance keeps one libcurl handle, so its connections stay open across the requests of that instance
 * (and of that program only: a connection opened under one policy is never reused under another).
 * libcurl.so.4 is opened at the first fetch; without it fetches fail with -ENOSYS and one log line.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"

#define REFUSAL_LOG_INTERVAL_NS (60ULL * 1000000000ULL)

/* The libcurl functions used, resolved from libcurl.so.4. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*reset)(CURL *);
    void (*cleanup)(CURL *);
    const char *(*strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    void (*url_cleanup)(CURLU *);
    void (*free)(void *);
    bool available;
    char why[200];
} lib;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void *resolve(void *handle, const char *name, bool *ok)
{
    void *fn = dlsym(handle, name);
    if (!fn && *ok) {
        snprintf(lib.why, sizeof lib.why, "libcurl.so.4 has no %s (7.85 or later is needed)", name);
        *ok = false;
    }
    return fn;
}

static void open_curl(void)
{
    void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(lib.why, sizeof lib.why, "libcurl.so.4 is not installed (Debian: libcurl4): %s", dlerror());
        return;
    }
    bool ok = true;
    *(void **)&lib.global_init = resolve(handle, "curl_global_init", &ok);
    *(void **)&lib.easy_init = resolve(handle, "curl_easy_init", &ok);
    *(void **)&lib.setopt = resolve(handle, "curl_easy_setopt", &ok);
    *(void **)&lib.perform = resolve(handle, "curl_easy_perform", &ok);
    *(void **)&lib.getinfo = resolve(handle, "curl_easy_getinfo", &ok);
    *(void **)&lib.reset = resolve(handle, "curl_easy_reset", &ok);
    *(void **)&lib.cleanup = resolve(handle, "curl_easy_cleanup", &ok);
    *(void **)&lib.strerror = resolve(handle, "curl_easy_strerror", &ok);
    *(void **)&lib.slist_append = resolve(handle, "curl_slist_append", &ok);
    *(void **)&lib.slist_free_all = resolve(handle, "curl_slist_free_all", &ok);
    *(void **)&lib.url = resolve(handle, "curl_url", &ok);
    *(void **)&lib.url_set = resolve(handle, "curl_url_set", &ok);
    *(void **)&lib.url_get = resolve(handle, "curl_url_get", &ok);
    *(void **)&lib.url_cleanup = resolve(handle, "curl_url_cleanup", &ok);
    *(void **)&lib.free = resolve(handle, "curl_free", &ok);
    /* CURLOPT_PROTOCOLS_STR came in 7.85: without it the scheme limit could not be given to libcurl. */
    if (ok && !dlsym(handle, "curl_easy_header"))
        ok = false, snprintf(lib.why, sizeof lib.why, "libcurl.so.4 is older than 7.85");
    if (!ok)
        return;
    CURLcode rc = lib.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(lib.why, sizeof lib.why, "curl_global_init failed: %s", lib.strerror(rc));
        return;
    }
    lib.available = true;
}

/* One fetch (all its hops) in progress. */
struct transfer {
    struct kvmf_instance *in;
    const struct egress_policy *policy;
    kvmf_fetch_reply *reply;
    uint64_t max_body;
    bool refused;               /* the policy refused an address: why says which */
    bool too_large;
    char why[300];
};

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    struct transfer *t = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN) {
        t->refused = true;
        snprintf(t->why, sizeof t->why, "a connection of kind %d is not allowed", (int)purpose);
        return CURL_SOCKET_BAD;
    }
    if (!egress_address_allowed(t->policy, &address->addr, t->why, sizeof t->why)) {
        t->refused = true;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* Header lines of the current hop's response; a new status line (a redirect followed, 100 Continue) starts over. */
static size_t on_header(char *data, size_t size, size_t n, void *clientp)
{
    struct transfer *t = clientp;
    size_t len = size * n;
    size_t line = len;
    while (line && (data[line - 1] == '\n' || data[line - 1] == '\r'))
        line--;
    if (line >= 5 && !memcmp(data, "HTTP/", 5)) {
        fetch_reply_clear_headers(t->reply);
        return len;
    }
    if (line && kvmf_fetch_reply_header(t->reply, data, line) != KVMF_OK)
        return 0; /* more than 64 KiB of header lines: the transfer stops */
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *clientp)
{
    struct transfer *t = clientp;
    size_t len = size * n;
    if (fetch_reply_body_len(t->reply) + len > t->max_body) {
        t->too_large = true;
        return 0;
    }
    return kvmf_fetch_reply_body(t->reply, data, len) == KVMF_OK ? len : 0;
}

/* Counts a refusal and logs it unless the program's previous refusal log is under a minute old. */
static int refuse(struct kvmf_instance *in, int err, const char *url, const char *why)
{
    struct kvmf_program *p = in->program;
    STAT_ADD(p->fetch_refusals, 1);
    uint64_t now = now_ns(), last = __atomic_load_n(&p->fetch_refusal_logged_ns, __ATOMIC_RELAXED);
    if ((last == 0 || now - last >= REFUSAL_LOG_INTERVAL_NS) &&
        __atomic_compare_exchange_n(&p->fetch_refusal_logged_ns, &last, now, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
        uint64_t total = __atomic_load_n(&p->fetch_refusals, __ATOMIC_RELAXED);
        exchange_logf(in, "[kvmfilter] sys_fetch of %.200s refused (%s): %s (%llu refused in all; the next is "
                      "logged a minute from now)\n", url, strerror(err), why, (unsigned long long)total);
    }
    return err;
}

static int failed(struct kvmf_instance *in, int err)
{
    STAT_ADD(in->program->fetch_failures, 1);
    return err;
}

/* A "Name: value" line of the program's fields whose name is name (case-insensitive). */
static bool field_named(const char *line, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(line, name, n) && line[n] == ':';
}

/* The request's fields as a libcurl list; with strip_credentials, Authorization and Cookie are left out (a
 * redirect to another host must not carry them). NULL (and *ok false) when out of memory. */
static struct curl_slist *field_list(const struct kvmf_fetch_request *r, bool strip_credentials, bool *ok)
{
    struct curl_slist *list = NULL;
    *ok = true;
    const char *s = r->fields, *end = r->fields + r->fields_len;
    char line[8200];
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        if (len < sizeof line) {
            memcpy(line, s, len);
            line[len] = '\0';
            if (!strip_credentials || (!field_named(line, "authorization") && !field_named(line, "cookie"))) {
                struct curl_slist *more = lib.slist_append(list, line);
                if (!more) {
                    *ok = false;
                    break;
                }
                list = more;
            }
        }
        s += len + 1;
    }
    return list;
}

static void *instance_handle(struct kvmf_instance *in)
{
    if (!in->curl)
        in->curl = lib.easy_init();
    return in->curl;
}

void curl_fetch_release(struct kvmf_instance *in)
{
    if (in->curl)
        lib.cleanup(in->curl);
    in->curl = NULL;
}

/* The scheme, host and port of url as libcurl reads it, into *u (the caller cleans it up); false with why. */
static bool parse_url(CURLU *u, const char *url, char *scheme, char *host, size_t host_cap, unsigned *port,
                      char *why, size_t why_cap)
{
    CURLUcode uc = lib.url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        snprintf(why, why_cap, "it is not a URL (libcurl's URL parser: error %d)", (int)uc);
        return false;
    }
    char *s = NULL, *h = NULL, *p = NULL;
    bool ok = lib.url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
              lib.url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
              lib.url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (ok && (strlen(s) > 7 || strlen(h) >= host_cap))
        ok = false;
    if (ok) {
        strcpy(scheme, s);
        strcpy(host, h);
        *port = (unsigned)strtoul(p, NULL, 10);
    } else {
        snprintf(why, why_cap, "it has no scheme, host or port libcurl can read");
    }
    lib.free(s);
    lib.free(h);
    lib.free(p);
    return ok;
}

int curl_fetch(struct kvmf_instance *in, const struct kvmf_fetch_request *r, kvmf_fetch_reply *reply)
{
    struct kvmf_program *p = in->program;
    const struct egress_policy *policy = p->egress;
    struct exchange *ex = &in->ex;
    char url[8200];
    snprintf(url, sizeof url, "%.*s", (int)r->url_len, r->url);
    pthread_once(&lib_once, open_curl);
    if (!lib.available) {
        exchange_logf(in, "[kvmfilter] sys_fetch is unavailable (-ENOSYS): %s\n", lib.why);
        return failed(in, ENOSYS);
    }
    uint64_t used = ex->fetch_ns / 1000000;
    uint64_t budget = r->time_left_ms;
    if (egress_max_time_ms(policy)) {
        uint64_t left = egress_max_time_ms(policy) > used ? egress_max_time_ms(policy) - used : 0;
        budget = left < budget ? left : budget;
    }
    if (budget == 0)
        return refuse(in, ETIMEDOUT, url, "the request's fetch time (max_time_ms) or its time limit is used up");
    uint64_t running = __atomic_add_fetch(&p->fetches_running, 1, __ATOMIC_RELAXED);
    int rc = 0;
    if (running > egress_max_concurrent(policy)) {
        char why[120];
        snprintf(why, sizeof why, "the program already has %llu fetches running (max_concurrent)",
                 (unsigned long long)egress_max_concurrent(policy));
        rc = refuse(in, EAGAIN, url, why);
        __atomic_sub_fetch(&p->fetches_running, 1, __ATOMIC_RELAXED);
        return rc;
    }
    STAT_ADD(p->fetches, 1);
    uint64_t start = now_ns(), deadline = start + budget * 1000000ULL;
    struct transfer t = {.in = in, .policy = policy, .reply = reply};
    t.max_body = egress_max_response_size(policy) < r->max_body ? egress_max_response_size(policy) : r->max_body;
    CURL *curl = instance_handle(in);
    CURLU *u = lib.url();
    bool post = r->body != NULL;
    char first_host[256] = "";
    for (uint64_t hop = 0;; hop++) {
        char scheme[8], host[256], why[300];
        unsigned port;
        if (!curl || !u) {
            rc = failed(in, ENOMEM);
            break;
        }
        if (!parse_url(u, url, scheme, host, sizeof host, &port, why, sizeof why)) {
            rc = refuse(in, EINVAL, url, why);
            break;
        }
        if (!egress_url_allowed(policy, scheme, host, port, why, sizeof why)) {
            rc = refuse(in, EPERM, url, why);
            break;
        }
        if (hop == 0)
            snprintf(first_host, sizeof first_host, "%s", host);
        uint64_t now = now_ns();
        if (now >= deadline) {
            rc = failed(in, ETIMEDOUT);
            break;
        }
        bool ok;
        struct curl_slist *fields = field_list(r, strcasecmp(host, first_host) != 0, &ok);
        if (!ok) {
            lib.slist_free_all(fields);
            rc = failed(in, ENOMEM);
            break;
        }
        fetch_reply_clear_headers(reply);
        fetch_reply_clear_body(reply);
        lib.reset(curl);
        lib.setopt(curl, CURLOPT_CURLU, u);
        lib.setopt(curl, CURLOPT_PROXY, "");  /* never a proxy from the environment */
        lib.setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        lib.setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        lib.setopt(curl, CURLOPT_NOSIGNAL, 1L);
        lib.setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        lib.setopt(curl, CURLOPT_OPENSOCKETDATA, &t);
        lib.setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        lib.setopt(curl, CURLOPT_HEADERDATA, &t);
        lib.setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        lib.setopt(curl, CURLOPT_WRITEDATA, &t);
        lib.setopt(curl, CURLOPT_TIMEOUT_MS, (long)((deadline - now) / 1000000 + 1));
        lib.setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t.max_body);
        lib.setopt(curl, CURLOPT_HTTPHEADER, fields);
        if (post) {
            lib.setopt(curl, CURLOPT_POSTFIELDS, r->body_len ? (const char *)r->body : "");
            lib.setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        }
        if (r->insecure_tls && egress_insecure_tls(policy)) {
            lib.setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
            lib.setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        CURLcode cc = lib.perform(curl);
        lib.setopt(curl, CURLOPT_HTTPHEADER, NULL);
        lib.slist_free_all(fields);
        if (cc != CURLE_OK) {
            if (t.refused)
                rc = refuse(in, EPERM, url, t.why);
            else if (t.too_large || cc == CURLE_FILESIZE_EXCEEDED)
                rc = failed(in, EFBIG);
            else if (cc == CURLE_OPERATION_TIMEDOUT)
                rc = failed(in, ETIMEDOUT);
            else if (cc == CURLE_COULDNT_RESOLVE_HOST)
                rc = failed(in, EHOSTUNREACH);
            else if (cc == CURLE_COULDNT_CONNECT)
                rc = failed(in, ECONNREFUSED);
            else
                rc = failed(in, EIO);
            if (rc != EPERM)
                exchange_logf(in, "[kvmfilter] sys_fetch of %.200s failed (%s): %s\n", url, strerror(rc),
                              lib.strerror(cc));
            break;
        }
        long status = 0;
        char *ctype = NULL, *next = NULL;
        lib.getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        lib.getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
        lib.getinfo(curl, CURLINFO_REDIRECT_URL, &next);
        bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
        if (r->follow_location && redirect && next) {
            if (hop >= egress_max_redirects(policy)) {
                char why2[80];
                snprintf(why2, sizeof why2, "more than %llu redirects (max_redirects)",
                         (unsigned long long)egress_max_redirects(policy));
                rc = refuse(in, ELOOP, url, why2);
                break;
            }
            snprintf(url, sizeof url, "%s", next);
            if (status == 303 || ((status == 301 || status == 302) && post))
                post = false; /* as browsers and libcurl do: the next hop is a GET */
            continue;
        }
        if (status < 100 || status > 999) {
            rc = failed(in, EIO);
            break;
        }
        kvmf_fetch_reply_status(reply, status, ctype ? ctype : "", ctype ? strlen(ctype) : 0);
        STAT_ADD(p->fetch_bytes, fetch_reply_body_len(reply));
        break;
    }
    if (u)
        lib.url_cleanup(u);
    ex->fetch_ns += now_ns() - start;
    __atomic_sub_fetch(&p->fetches_running, 1, __ATOMIC_RELAXED);
    return rc;
}
