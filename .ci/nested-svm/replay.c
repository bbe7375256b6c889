/*
 * replay.c — runs the kvmrun calls that kvmrun-record.sh recorded from the program suites, in one process:
 * each program (with its configuration) boots once and serves its calls from an instance that is reset in
 * between, as the server does. The emulated-SVM stage runs it on the host (PVM), writing every result, and
 * in the guest (hardware KVM), comparing with the host's: an emulated guest runs programs tens of times
 * slower, so one kvmrun process per call would cost the stage most of its time.
 *
 *   replay CORPUS --write DIR      results to DIR/<call>.meta (status, content type, headers, failure,
 *                                  on_error) and DIR/<call>.body
 *   replay CORPUS --compare DIR    the same results, compared with DIR's; "FAIL <call>: ..." for each
 *                                  difference, then "N passed, N failed"
 *
 * Run from src-native/ (calls name their program by a path relative to it). Time limits are 600 s unless
 * a call sets its own; the result of a call that sets one (a timeout test) depends on how far the program
 * got, so only its failure kind and on_error use are compared.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src-native/include/kvmfilter.h"

#define GENEROUS_MS 600000

struct call {
    char id[64];
    const char *method, *url, *arg, *content_type, *program;
    char *body;
    size_t body_len;
    char headers[4096];
    size_t headers_len;
    long repeat;
    bool timed; /* the call sets its own time limit */
    struct kvmf_config config;
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap + 1);
    for (size_t got; data && (got = fread(data + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *grown = realloc(data, (cap *= 2) + 1);
            if (!grown)
                free(data);
            data = grown;
        }
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        *len = n;
    }
    return data;
}

static bool seconds(const char *s, uint64_t *ms)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v > 0))
        return false;
    *ms = (uint64_t)(v * 1000 + 0.5) ? (uint64_t)(v * 1000 + 0.5) : 1;
    return true;
}

/* Parses one recorded argument vector (kvmrun's options, the program last). */
static bool parse(struct call *c, char **argv, int argc, const char *corpus, const char *body_sum)
{
    kvmf_config_defaults(&c->config);
    c->config.max_request_time_ms = c->config.max_boot_time_ms = c->config.on_error_time_ms = GENEROUS_MS;
    c->url = "/";
    c->repeat = 1;
    for (int i = 0; i < argc - 1; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (i + 1 >= argc - 1)
            return false;
        if (!strcmp(o, "--method")) c->method = v;
        else if (!strcmp(o, "--url")) c->url = v;
        else if (!strcmp(o, "--arg")) c->arg = v;
        else if (!strcmp(o, "--content-type")) c->content_type = v;
        else if (!strcmp(o, "--repeat")) c->repeat = atol(v);
        else if (!strcmp(o, "--max-memory")) c->config.max_memory = strtoull(v, NULL, 10) << 20;
        else if (!strcmp(o, "--max-request-memory")) c->config.max_request_memory = strtoull(v, NULL, 10) << 20;
        else if (!strcmp(o, "--ephemeral")) c->config.ephemeral = !strcmp(v, "true");
        else if (!strcmp(o, "--max-request-time")) {
            if (!seconds(v, &c->config.max_request_time_ms))
                return false;
            c->timed = true;
        } else if (!strcmp(o, "--max-boot-time")) {
            if (!seconds(v, &c->config.max_boot_time_ms))
                return false;
            c->timed = true;
        } else if (!strcmp(o, "--header")) {
            size_t n = strlen(v);
            if (c->headers_len + n + 2 > sizeof c->headers)
                return false;
            if (c->headers_len)
                c->headers[c->headers_len++] = '\n';
            memcpy(c->headers + c->headers_len, v, n + 1);
            c->headers_len += n;
        } else if (!strcmp(o, "--body")) {
            char path[4096];
            snprintf(path, sizeof path, "%s/bodies/%s", corpus, body_sum);
            if (!(c->body = read_file(path, &c->body_len)))
                return false;
        } else {
            return false;
        }
    }
    c->program = argv[argc - 1];
    if (!c->method)
        c->method = c->body ? "POST" : "GET";
    if (!c->body && strcmp(c->method, "GET") && strcmp(c->method, "HEAD"))
        c->body = calloc(1, 1); /* as kvmrun: a POST without --body sends an empty body */
    return true;
}

/* The programs booted so far, by program path and configuration. */
struct booted {
    char program[512];
    struct kvmf_config config;
    kvmf_program *p;
};
static struct booted booted[64];
static int nbooted;

static kvmf_program *program_for(const struct call *c, char *why, size_t why_len)
{
    for (int i = 0; i < nbooted; i++)
        if (!strcmp(booted[i].program, c->program) && !memcmp(&booted[i].config, &c->config, sizeof c->config))
            return booted[i].p;
    if (nbooted == 64) {
        snprintf(why, why_len, "more than 64 program configurations");
        return NULL;
    }
    size_t len;
    char *elf = read_file(c->program, &len);
    if (!elf) {
        snprintf(why, why_len, "cannot read %s: %s", c->program, strerror(errno));
        return NULL;
    }
    const char *name = strrchr(c->program, '/') ? strrchr(c->program, '/') + 1 : c->program;
    kvmf_program *p = NULL;
    int rc = kvmf_program_create(name, elf, len, &c->config, &p);
    free(elf);
    if (rc != KVMF_OK) {
        snprintf(why, why_len, "%s: %s", kvmf_error_name(rc), kvmf_last_error());
        return NULL;
    }
    struct booted *b = &booted[nbooted++];
    snprintf(b->program, sizeof b->program, "%s", c->program);
    b->config = c->config;
    b->p = p;
    return p;
}

/* Runs the call; its result as text into *meta and the body into *body (both malloc'ed). */
static void run(const struct call *c, char **meta, char **body, size_t *body_len)
{
    char why[1024] = "";
    kvmf_program *p = program_for(c, why, sizeof why);
    kvmf_instance *in = NULL;
    if (p && kvmf_program_acquire(p, 60000, &in) != KVMF_OK)
        snprintf(why, sizeof why, "acquire: %s", kvmf_last_error());
    if (!in) {
        asprintf(meta, "no result: %s\n", why);
        *body = NULL;
        *body_len = 0;
        return;
    }
    struct kvmf_response r;
    for (long i = 0; i < c->repeat; i++) {
        if (i > 0) {
            kvmf_instance_release(in);
            kvmf_program_acquire(p, 60000, &in);
        }
        kvmf_instance_run(in, c->method, c->url, c->arg, c->content_type, c->body, c->body_len, c->headers,
                          c->headers_len, 0, &r);
    }
    if (c->timed) {
        asprintf(meta, "error %s\non_error_used %lld\n", r.error ? kvmf_error_name((int)r.error) : "none",
                 (long long)r.on_error_used);
        *body = NULL;
        *body_len = 0;
    } else {
        asprintf(meta, "status %lld\ncontent_type %.*s\nheaders %.*s\nerror %s %s\non_error_used %lld\n",
                 (long long)r.status, (int)r.content_type_len, r.status ? r.content_type : "", (int)r.headers_len,
                 r.headers ? r.headers : "", r.error ? kvmf_error_name((int)r.error) : "none", r.error_message,
                 (long long)r.on_error_used);
        *body_len = r.status ? r.body_len : 0;
        *body = malloc(*body_len + 1);
        if (*body_len)
            memcpy(*body, r.body, *body_len);
    }
    kvmf_instance_release(in);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static bool write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[2], "--write") && strcmp(argv[2], "--compare"))) {
        fprintf(stderr, "usage: replay CORPUS --write DIR | --compare DIR\n");
        return 2;
    }
    const char *corpus = argv[1], *dir = argv[3];
    bool compare = !strcmp(argv[2], "--compare");
    char path[4096];
    snprintf(path, sizeof path, "%s/calls", corpus);
    struct dirent **entries;
    int n = scandir(path, &entries, NULL, by_name);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 2;
    }
    int passed = 0, failed = 0;
    for (int e = 0; e < n; e++) {
        char *dot = strstr(entries[e]->d_name, ".args");
        if (!dot || dot[5]) {
            free(entries[e]);
            continue;
        }
        struct call c;
        memset(&c, 0, sizeof c);
        snprintf(c.id, sizeof c.id, "%.*s", (int)(dot - entries[e]->d_name), entries[e]->d_name);
        free(entries[e]);
        size_t len, sum_len = 0;
        snprintf(path, sizeof path, "%s/calls/%s.args", corpus, c.id);
        char *args = read_file(path, &len);
        snprintf(path, sizeof path, "%s/calls/%s.body", corpus, c.id);
        char *sum = read_file(path, &sum_len);
        char *argv_call[64];
        int argc_call = 0;
        for (size_t i = 0; args && i < len && argc_call < 64; i += strlen(args + i) + 1)
            argv_call[argc_call++] = args + i;
        if (!args || argc_call < 1 || !parse(&c, argv_call, argc_call, corpus, sum ? sum : "")) {
            printf("FAIL %s: cannot read or parse the recorded call\n", c.id);
            failed++;
            free(args);
            free(sum);
            continue;
        }
        char *meta, *body;
        size_t body_len;
        run(&c, &meta, &body, &body_len);
        char meta_path[4200], body_path[4200];
        snprintf(meta_path, sizeof meta_path, "%s/%s.meta", dir, c.id);
        snprintf(body_path, sizeof body_path, "%s/%s.body", dir, c.id);
        if (!compare) {
            if (!write_file(meta_path, meta, strlen(meta)) || !write_file(body_path, body ? body : "", body_len)) {
                fprintf(stderr, "replay: cannot write %s: %s\n", meta_path, strerror(errno));
                return 2;
            }
            passed++;
        } else {
            size_t want_meta_len = 0, want_body_len = 0;
            char *want_meta = read_file(meta_path, &want_meta_len), *want_body = read_file(body_path, &want_body_len);
            if (want_meta && want_body && !strcmp(meta, want_meta) && want_body_len == body_len &&
                !memcmp(body ? body : "", want_body, body_len)) {
                passed++;
            } else {
                failed++;
                printf("FAIL %s (%s %s arg '%.60s'): host (PVM) and here differ\n", c.id, c.program, c.method,
                       c.arg ? c.arg : "");
                printf("  host: %s  here: %s", want_meta ? want_meta : "(no result)\n", meta);
                printf("  body: host %zu bytes, here %zu bytes%s\n", want_body_len, body_len,
                       want_body_len == body_len ? " (different bytes)" : "");
            }
            free(want_meta);
            free(want_body);
        }
        free(meta);
        free(body);
        free(c.body);
        free(args);
        free(sum);
    }
    free(entries);
    for (int i = 0; i < nbooted; i++)
        kvmf_program_destroy(booted[i].p);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || !passed ? 1 : 0;
}
