/*
 * egress.c — a program's egress policy (config.egress): where sys_fetch may connect.
 *
 * Deny by default: a program without a policy cannot fetch at all, and a policy names the hosts it may reach.
 * Two checks, both needed. Before a request, its URL (as libcurl parsed it) must have an allowed scheme, host
 * and port. When a connection opens, the address it goes to must not be private, loopback, link-local, a cloud
 * metadata address or otherwise non-public, unless the policy lists that range: checking the address actually
 * connected to, not what a name resolved to earlier, is what keeps DNS rebinding from getting around the host
 * list. The policy is parsed once, when the program is created, with messages naming the key and value.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define HOSTS_MAX 256
#define PORTS_MAX 64
#define RANGES_MAX 64
#define HOST_MAX 253

/* An address range: IPv4 ranges are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one comparison serves both. */
struct ip_range {
    uint8_t addr[16];
    unsigned prefix;            /* bits, of the 128 */
};

struct egress_policy {
    bool http, https;
    char *hosts[HOSTS_MAX];     /* lower case: "name", "*.suffix" (subdomains only), "*" (any host) */
    size_t nhosts;
    uint16_t ports[PORTS_MAX];
    size_t nports;
    struct ip_range allowed[RANGES_MAX]; /* non-public ranges the program may still reach */
    size_t nallowed;
    uint64_t max_response_size, max_concurrent, max_time_ms, max_redirects;
    bool insecure_tls;
};

/* Ranges that are not the public internet, as IPv6 (IPv4 mapped). */
static const struct {
    const char *text;
    const char *why;
} denied_ranges[] = {
    {"0.0.0.0/8", "\"this network\""},
    {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "shared address space (carrier NAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local (cloud metadata services live here)"},
    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "IETF protocol assignments"},
    {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "6to4 relay"},
    {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "benchmarking"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"64:ff9b::/96", "NAT64 (an IPv4 address inside)"},
    {"64:ff9b:1::/48", "local NAT64"},
    {"100::/64", "discard"},
    {"2001::/23", "IETF protocol assignments"},
    {"2001:db8::/32", "documentation"},
    {"2002::/16", "6to4 (an IPv4 address inside)"},
    {"fc00::/7", "unique local (private)"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

static struct ip_range denied[sizeof denied_ranges / sizeof denied_ranges[0]];
static pthread_once_t denied_once = PTHREAD_ONCE_INIT;

/* "a.b.c.d", "a.b.c.d/n", "v6", "v6/n" -> range; false when it is none of these. */
static bool parse_range(const char *text, struct ip_range *out)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    if (len == 0 || len >= sizeof addr)
        return false;
    memcpy(addr, text, len);
    addr[len] = '\0';
    struct in_addr v4;
    unsigned max;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, addr, &v4) == 1) {
        out->addr[10] = out->addr[11] = 0xff;
        memcpy(out->addr + 12, &v4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        max = 128;
    } else {
        return false;
    }
    unsigned prefix = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || n > max)
            return false;
        prefix = (unsigned)n;
    }
    out->prefix = prefix + (max == 32 ? 96 : 0);
    return true;
}

static void parse_denied(void)
{
    for (size_t i = 0; i < sizeof denied_ranges / sizeof denied_ranges[0]; i++)
        if (!parse_range(denied_ranges[i].text, &denied[i]))
            abort(); /* a typo in the table above */
}

static bool in_range(const uint8_t addr[16], const struct ip_range *r)
{
    unsigned full = r->prefix / 8, rest = r->prefix % 8;
    if (memcmp(addr, r->addr, full))
        return false;
    return rest == 0 || ((addr[full] ^ r->addr[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static int invalid(const char *key, const char *value, const char *allowed)
{
    return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: egress %s = \"%s\"; allowed: %s", key, value,
                     allowed);
}

/* A host name or IP literal as the policy and URLs give it; lower case, brackets of IPv6 removed. */
static bool normal_host(const char *in, size_t len, char *out, size_t cap)
{
    if (len >= 2 && in[0] == '[' && in[len - 1] == ']')
        in++, len -= 2;
    if (len == 0 || len > HOST_MAX || len >= cap)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != '_' && c != ':' && c != '*')
            return false;
        out[i] = (char)tolower(c);
    }
    out[len] = '\0';
    if (len > 1 && out[len - 1] == '.')
        out[len - 1] = '\0'; /* "example.com." is example.com */
    return true;
}

static bool parse_number(const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || *end || n > max || text[0] == '-')
        return false;
    *out = n;
    return true;
}

/* Calls item(policy, "one", ctx) for each comma-separated item of value; false at the first it refuses. */
static int each_item(struct egress_policy *p, const char *key, const char *value,
                     int (*item)(struct egress_policy *, const char *key, const char *one))
{
    char one[300];
    const char *s = value;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == 0 || len >= sizeof one)
            return invalid(key, value, "a comma-separated list without empty or over-long items");
        memcpy(one, s, len);
        one[len] = '\0';
        int rc = item(p, key, one);
        if (rc != KVMF_OK)
            return rc;
        s += len + (comma ? 1 : 0);
    }
    return KVMF_OK;
}

static int add_scheme(struct egress_policy *p, const char *key, const char *one)
{
    if (!strcmp(one, "http"))
        p->http = true;
    else if (!strcmp(one, "https"))
        p->https = true;
    else
        return invalid(key, one, "http, https");
    return KVMF_OK;
}

static int add_host(struct egress_policy *p, const char *key, const char *one)
{
    char host[HOST_MAX + 1];
    const char *star = strchr(one, '*');
    bool wildcard_ok = !star || !strcmp(one, "*") || (star == one && one[1] == '.' && !strchr(one + 1, '*') && one[2]);
    if (!normal_host(one, strlen(one), host, sizeof host) || !wildcard_ok)
        return invalid(key, one, "host names (example.com), \"*.example.com\" for its subdomains, \"*\" for any "
                       "host, IP addresses (127.0.0.1, [::1])");
    if (p->nhosts == HOSTS_MAX)
        return invalid(key, one, "at most 256 hosts");
    if (!(p->hosts[p->nhosts] = strdup(host)))
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    p->nhosts++;
    return KVMF_OK;
}

static int add_port(struct egress_policy *p, const char *key, const char *one)
{
    uint64_t n;
    if (!parse_number(one, 65535, &n) || n == 0)
        return invalid(key, one, "port numbers 1 to 65535");
    if (p->nports == PORTS_MAX)
        return invalid(key, one, "at most 64 ports");
    p->ports[p->nports++] = (uint16_t)n;
    return KVMF_OK;
}

static int add_range(struct egress_policy *p, const char *key, const char *one)
{
    if (p->nallowed == RANGES_MAX)
        return invalid(key, one, "at most 64 ranges");
    if (!parse_range(one, &p->allowed[p->nallowed]))
        return invalid(key, one, "IP addresses or ranges: 127.0.0.1, 10.0.0.0/8, ::1, fd00::/8");
    p->nallowed++;
    return KVMF_OK;
}

void egress_free(struct egress_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nhosts; i++)
        free(p->hosts[i]);
    free(p);
}

int egress_parse(const char *blob, uint64_t len, struct egress_policy **out)
{
    *out = NULL;
    if (!len)
        return KVMF_OK;
    pthread_once(&denied_once, parse_denied);
    struct egress_policy *p = calloc(1, sizeof *p);
    if (!p)
        return kvmf_fail(KVMF_INTERNAL, "out of memory");
    p->max_response_size = 16ULL << 20;
    p->max_concurrent = 8;
    p->max_redirects = 5;
    bool schemes = false, ports = false;
    int rc = KVMF_OK;
    for (const char *s = blob; rc == KVMF_OK && s < blob + len; s += strlen(s) + 1) {
        const char *eq = strchr(s, '=');
        char key[32];
        size_t klen = eq ? (size_t)(eq - s) : 0;
        if (!eq || klen == 0 || klen >= sizeof key) {
            rc = kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: egress entry \"%s\" is not key=value", s);
            break;
        }
        memcpy(key, s, klen);
        key[klen] = '\0';
        const char *value = eq + 1;
        uint64_t n;
        if (!strcmp(key, "schemes")) {
            schemes = true;
            rc = each_item(p, key, value, add_scheme);
        } else if (!strcmp(key, "hosts")) {
            rc = each_item(p, key, value, add_host);
        } else if (!strcmp(key, "ports")) {
            ports = true;
            rc = each_item(p, key, value, add_port);
        } else if (!strcmp(key, "addresses")) {
            rc = each_item(p, key, value, add_range);
        } else if (!strcmp(key, "max_response_size")) {
            rc = parse_number(value, UINT32_MAX, &n) && n ? (p->max_response_size = n, KVMF_OK)
                                                           : invalid(key, value, "1 to 4294967295 (bytes)");
        } else if (!strcmp(key, "max_concurrent")) {
            rc = parse_number(value, 4096, &n) && n ? (p->max_concurrent = n, KVMF_OK)
                                                    : invalid(key, value, "1 to 4096");
        } else if (!strcmp(key, "max_time_ms")) {
            rc = parse_number(value, 86400000, &n) ? (p->max_time_ms = n, KVMF_OK)
                                                   : invalid(key, value, "0 (the request's time) to 86400000");
        } else if (!strcmp(key, "max_redirects")) {
            rc = parse_number(value, 20, &n) ? (p->max_redirects = n, KVMF_OK) : invalid(key, value, "0 to 20");
        } else if (!strcmp(key, "insecure_tls")) {
            rc = parse_number(value, 1, &n) ? (p->insecure_tls = n, KVMF_OK) : invalid(key, value, "0 or 1");
        } else {
            rc = kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: unknown egress key \"%s\"; known: schemes, "
                           "hosts, ports, addresses, max_response_size, max_concurrent, max_time_ms, "
                           "max_redirects, insecure_tls", key);
        }
    }
    if (rc == KVMF_OK && p->nhosts == 0)
        rc = kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: egress needs hosts (the hosts a program may "
                       "fetch from; \"*\" for any public host)");
    if (rc == KVMF_OK && schemes && !p->http && !p->https)
        rc = invalid("schemes", "", "http, https");
    if (rc == KVMF_OK && ports && p->nports == 0)
        rc = invalid("ports", "", "port numbers 1 to 65535");
    if (rc != KVMF_OK) {
        egress_free(p);
        return rc;
    }
    if (!schemes)
        p->http = p->https = true;
    if (!ports) {
        p->ports[0] = 80;
        p->ports[1] = 443;
        p->nports = 2;
    }
    *out = p;
    return KVMF_OK;
}

uint64_t egress_max_response_size(const struct egress_policy *p) { return p->max_response_size; }
uint64_t egress_max_concurrent(const struct egress_policy *p) { return p->max_concurrent; }
uint64_t egress_max_time_ms(const struct egress_policy *p) { return p->max_time_ms; }
uint64_t egress_max_redirects(const struct egress_policy *p) { return p->max_redirects; }
bool egress_insecure_tls(const struct egress_policy *p) { return p->insecure_tls; }

static bool host_listed(const struct egress_policy *p, const char *host)
{
    size_t hlen = strlen(host);
    for (size_t i = 0; i < p->nhosts; i++) {
        const char *h = p->hosts[i];
        if (!strcmp(h, "*") || !strcmp(h, host))
            return true;
        if (h[0] == '*') { /* "*.suffix": a name that ends in ".suffix", with something before it */
            size_t slen = strlen(h + 1);
            if (hlen > slen && !strcmp(host + hlen - slen, h + 1))
                return true;
        }
    }
    return false;
}

bool egress_url_allowed(const struct egress_policy *p, const char *scheme, const char *host, unsigned port,
                        char *why, size_t why_cap)
{
    char h[HOST_MAX + 1];
    if (!(strcmp(scheme, "http") ? !strcmp(scheme, "https") && p->https : p->http)) {
        snprintf(why, why_cap, "the scheme \"%s\" is not allowed (%s%s%s)", scheme, p->http ? "http" : "",
                 p->http && p->https ? ", " : "", p->https ? "https" : "");
        return false;
    }
    if (!normal_host(host, strlen(host), h, sizeof h) || !host_listed(p, h)) {
        snprintf(why, why_cap, "the host \"%s\" is not in the program's egress hosts", host);
        return false;
    }
    for (size_t i = 0; i < p->nports; i++)
        if (p->ports[i] == port)
            return true;
    snprintf(why, why_cap, "the port %u is not in the program's egress ports", port);
    return false;
}

bool egress_address_allowed(const struct egress_policy *p, const struct sockaddr *sa, char *why, size_t why_cap)
{
    uint8_t a[16] = {0};
    char text[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &in4->sin_addr, 4);
        inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(a, &in6->sin6_addr, 16);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    } else {
        snprintf(why, why_cap, "address family %d is not IP", sa->sa_family);
        return false;
    }
    for (size_t i = 0; i < p->nallowed; i++)
        if (in_range(a, &p->allowed[i]))
            return true;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool v4 = !memcmp(a, mapped, 12);
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        /* An IPv4 range matches only IPv4 (mapped) addresses, whose IPv6 form would otherwise fall in ::/8. */
        bool v4_range = denied[i].prefix >= 96 && !memcmp(denied[i].addr, mapped, 12);
        if (v4_range == v4 && in_range(a, &denied[i])) {
            snprintf(why, why_cap, "the address %s is %s, not allowed unless the program's egress addresses "
                     "list it", text, denied_ranges[i].why);
            return false;
        }
    }
    return true;
}
