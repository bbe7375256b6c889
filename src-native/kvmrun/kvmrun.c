/*
 * kvmrun — runs a program in the sandbox the way the server does, for program authors.
 *
 *   kvmrun [--method M] [--url U] [--arg S]... [--content-type CT] [--body FILE]
 *          [--header 'N: V']... [--out FILE] [--repeat N] [--warmup N] [--json FILE]
 *          [--max-request-time S] [--max-boot-time S] [--max-memory MiB]
 *          [--max-request-memory MiB] [--ephemeral true|false] [--storage]
 *          [--shared-memory MiB] [--fail] PROGRAM
 *   kvmrun --library FILE [the options above] NAME
 *   kvmrun --connection [--remote ADDR] [--url U] [the limits above] PROGRAM|NAME
 *
 * Boots PROGRAM, runs the request (POST when --body is given, else GET) --warmup times flagged as
 * warm-up (as the server's warmup_requests are: the instance learns its hot pages), then --repeat
 * times on one instance, writes the last response body to --out (default stdout) and the program's output to
 * stderr. Several --arg make a sequence: one request per --arg, in order, on the same program (its storage
 * and shared memory see them all), each body written to --out followed by a newline; a failure stops the
 * sequence. With --library, NAME is a program of that program library (the JSON the server reads): its file and
 * settings come from there, and the options given on the command line override them. Exit status: 0 when the program produced a response (any HTTP status; with --fail, 3 when
 * that status is 400 or more), 2 when the sandbox reports a failure, 1 for usage or configuration
 * errors.
 *
 * With --connection, standard input and output are a connection handed to the program's socket handler (the
 * VMOD's steal(), as the servlet does after an HTTP upgrade): each read of standard input is delivered as
 * SOCKET_READ, what the program writes goes to standard output, and the end of input delivers SOCKET_DISCONNECT.
 * The events carry --remote (default "stdin") and --url (the connection's path). Exit status 0 when the program
 * took the connection to its end without failing, 2 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../include/kvmfilter.h"
#include "library.h"

struct options {
    const char *method, *url, *content_type, *body_file, *out_file, *json_file, *program;
    const char **args;          /* --arg, in order: more than one makes a sequence */
    size_t nargs;
    const char *library;        /* --library: `program` is a name in it */
    unsigned set;               /* SET_* bits: settings given on the command line, which win over the library */
    char *headers;
    size_t headers_len;
    long repeat;
    long warmup;
    bool fail;                  /* --fail: an answer of 400 or more is a failure (exit 3), as curl's --fail */
    bool connection;            /* --connection: stdin and stdout are a connection handed to the program */
    const char *remote;         /* --remote: the client's address its events carry */
    struct kvmf_config config;
};

enum { SET_RTIME = 1, SET_BTIME = 2, SET_MEM = 4, SET_RMEM = 8, SET_EPHEMERAL = 16, SET_STORAGE = 32, SET_SHM = 64 };

static void usage(FILE *to)
{
    fprintf(to,
            "usage: kvmrun [--method M] [--url U] [--arg S]... [--content-type CT] [--body FILE]\n"
            "              [--header 'N: V']... [--out FILE] [--repeat N] [--warmup N] [--json FILE]\n"
            "              [--max-request-time S] [--max-boot-time S] [--max-memory MiB]\n"
            "              [--max-request-memory MiB] [--ephemeral true|false] [--storage]\n"
            "              [--shared-memory MiB] [--fail] PROGRAM\n"
            "       kvmrun --library FILE [the options above] NAME\n"
            "       kvmrun --connection [--remote ADDR] [--url U] [the limits above] PROGRAM|NAME\n");
}

static int usage_error(const char *fmt, const char *value)
{
    fprintf(stderr, "kvmrun: ");
    fprintf(stderr, fmt, value);
    fprintf(stderr, "\n");
    usage(stderr);
    return 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap);
    while (data) {
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *grown = realloc(data, cap *= 2);
        if (!grown) {
            free(data);
            data = NULL;
        }
        data = grown;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(data);
        return NULL;
    }
    *len = n;
    return data;
}

/* Seconds (decimals allowed) to milliseconds; false when not a positive number. */
static bool parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v > 0) || v > 86400)
        return false;
    *ms = (uint64_t)(v * 1000.0 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return true;
}

static bool parse_mib(const char *s, uint64_t *bytes)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > (1ULL << 20))
        return false;
    *bytes = (uint64_t)v << 20;
    return true;
}

static int parse(int argc, char **argv, struct options *o)
{
    enum { O_METHOD = 256, O_URL, O_ARG, O_CTYPE, O_BODY, O_HEADER, O_OUT, O_REPEAT, O_WARMUP, O_JSON, O_RTIME,
           O_BTIME, O_MEM, O_RMEM, O_EPHEMERAL, O_STORAGE, O_SHM, O_LIBRARY, O_FAIL, O_CONNECTION, O_REMOTE,
           O_HELP };
    static const struct option longs[] = {
        {"method", 1, 0, O_METHOD}, {"url", 1, 0, O_URL}, {"arg", 1, 0, O_ARG},
        {"content-type", 1, 0, O_CTYPE}, {"body", 1, 0, O_BODY}, {"header", 1, 0, O_HEADER},
        {"out", 1, 0, O_OUT}, {"repeat", 1, 0, O_REPEAT}, {"warmup", 1, 0, O_WARMUP},
        {"json", 1, 0, O_JSON},
        {"max-request-time", 1, 0, O_RTIME}, {"max-boot-time", 1, 0, O_BTIME},
        {"max-memory", 1, 0, O_MEM}, {"max-request-memory", 1, 0, O_RMEM},
        {"ephemeral", 1, 0, O_EPHEMERAL}, {"storage", 0, 0, O_STORAGE}, {"shared-memory", 1, 0, O_SHM},
        {"library", 1, 0, O_LIBRARY}, {"fail", 0, 0, O_FAIL}, {"connection", 0, 0, O_CONNECTION},
        {"remote", 1, 0, O_REMOTE}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->url = "/";
    o->repeat = 1;
    kvmf_config_defaults(&o->config);
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_METHOD: o->method = optarg; break;
        case O_URL: o->url = optarg; break;
        case O_ARG: {
            const char **grown = realloc(o->args, (o->nargs + 1) * sizeof *grown);
            if (!grown)
                return usage_error("out of memory%s", "");
            o->args = grown;
            o->args[o->nargs++] = optarg;
            break;
        }
        case O_CTYPE: o->content_type = optarg; break;
        case O_BODY: o->body_file = optarg; break;
        case O_OUT: o->out_file = optarg; break;
        case O_JSON: o->json_file = optarg; break;
        case O_HEADER: {
            if (!strchr(optarg, ':') || strpbrk(optarg, "\r\n"))
                return usage_error("--header '%s': expected 'Name: value' on one line", optarg);
            size_t len = strlen(optarg);
            char *grown = realloc(o->headers, o->headers_len + len + 2);
            if (!grown)
                return usage_error("out of memory%s", "");
            o->headers = grown;
            if (o->headers_len)
                o->headers[o->headers_len++] = '\n';
            memcpy(o->headers + o->headers_len, optarg, len + 1);
            o->headers_len += len;
            break;
        }
        case O_REPEAT:
            o->repeat = strtol(optarg, &end, 10);
            if (*end || o->repeat < 1 || o->repeat > 10000000)
                return usage_error("--repeat %s: expected a whole number from 1 to 10000000", optarg);
            break;
        case O_WARMUP:
            o->warmup = strtol(optarg, &end, 10);
            if (*end || o->warmup < 0 || o->warmup > 1000000)
                return usage_error("--warmup %s: expected a whole number from 0 to 1000000", optarg);
            break;
        case O_RTIME:
            if (!parse_seconds(optarg, &o->config.max_request_time_ms))
                return usage_error("--max-request-time %s: expected seconds, more than 0 and at most 86400", optarg);
            o->set |= SET_RTIME;
            break;
        case O_BTIME:
            if (!parse_seconds(optarg, &o->config.max_boot_time_ms))
                return usage_error("--max-boot-time %s: expected seconds, more than 0 and at most 86400", optarg);
            o->set |= SET_BTIME;
            break;
        case O_MEM:
            if (!parse_mib(optarg, &o->config.max_memory))
                return usage_error("--max-memory %s: expected a whole number of MiB", optarg);
            o->set |= SET_MEM;
            break;
        case O_RMEM:
            if (!parse_mib(optarg, &o->config.max_request_memory))
                return usage_error("--max-request-memory %s: expected a whole number of MiB", optarg);
            o->set |= SET_RMEM;
            break;
        case O_EPHEMERAL:
            if (strcmp(optarg, "true") && strcmp(optarg, "false"))
                return usage_error("--ephemeral %s: expected true or false", optarg);
            o->config.ephemeral = strcmp(optarg, "true") == 0;
            o->set |= SET_EPHEMERAL;
            break;
        case O_STORAGE:
            o->config.storage = 1;
            o->set |= SET_STORAGE;
            break;
        case O_SHM:
            if (!parse_mib(optarg, &o->config.shared_memory))
                return usage_error("--shared-memory %s: expected a whole number of MiB", optarg);
            o->set |= SET_SHM;
            break;
        case O_LIBRARY: o->library = optarg; break;
        case O_FAIL: o->fail = true; break;
        case O_CONNECTION: o->connection = true; break;
        case O_REMOTE: o->remote = optarg; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return 1;
        }
    }
    if (optind != argc - 1)
        return usage_error("%s", optind >= argc ? (o->library ? "missing NAME (a program of the library)"
                                                             : "missing PROGRAM")
                                                 : "more than one PROGRAM given");
    o->program = argv[optind];
    if (!o->method)
        o->method = o->body_file ? "POST" : "GET";
    return 0;
}

static void json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t percentile(uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, compare_u64);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void write_json(const char *path, const struct kvmf_response *r, int error, const char *message,
                       uint64_t boot_us, uint64_t p50, uint64_t p99, uint64_t reset_p50)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "kvmrun: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "{\"status\": %lld, \"content_type\": ", r ? (long long)r->status : 0LL);
    if (r && r->status)
        json_string(f, r->content_type, r->content_type_len);
    else
        fputs("null", f);
    fputs(", \"headers\": [", f);
    if (r && r->headers_len) {
        size_t start = 0;
        bool first = true;
        for (size_t i = 0; i < r->headers_len; i++) {
            if (r->headers[i] == '\n') {
                if (!first)
                    fputs(", ", f);
                json_string(f, r->headers + start, i - start);
                first = false;
                start = i + 1;
            }
        }
    }
    fprintf(f, "], \"body_bytes\": %llu, \"error\": ", r ? (unsigned long long)r->body_len : 0ULL);
    if (error) {
        fprintf(f, "{\"kind\": \"%s\", \"message\": ", kvmf_error_name(error));
        json_string(f, message, strlen(message));
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    /* exits: of the last request, each a return from the guest to the host (its cost on PVM) */
    fprintf(f, ", \"on_error_used\": %s, \"exits\": %llu, \"trap_exits\": %llu, \"timings\": {\"boot_us\": %llu, "
               "\"request_p50_us\": %llu, \"request_p99_us\": %llu, \"reset_p50_us\": %llu}}\n",
            r && r->on_error_used ? "true" : "false", r ? (unsigned long long)r->exits : 0ULL,
            r ? (unsigned long long)r->trap_exits : 0ULL, (unsigned long long)boot_us, (unsigned long long)p50,
            (unsigned long long)p99, (unsigned long long)reset_p50);
    fclose(f);
}

/* --connection: what the program writes goes to standard output at once. */
static int write_stdout(void *ctx, const uint8_t *data, uint64_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
}

static void report(const struct kvmf_socket_result *r)
{
    if (r->log_len)
        fwrite(r->log, 1, r->log_len, stderr);
    if (r->error)
        fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name((int)r->error), r->error_message);
}

/* Standard input and output as a connection handed to the program, until either side ends it. */
static int run_connection(kvmf_program *program, const struct options *o)
{
    kvmf_instance *in;
    int rc = kvmf_program_acquire(program, 60000, &in);
    if (rc != KVMF_OK) {
        fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name(rc), kvmf_last_error());
        return 2;
    }
    struct kvmf_socket_result r;
    rc = kvmf_instance_socket_open(in, o->remote ? o->remote : "stdin", o->url, write_stdout, NULL, &r);
    report(&r);
    static char buf[64 * 1024];
    while (rc == KVMF_OK && !r.closed) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = kvmf_instance_socket_close(in, n == 0 ? "end of input" : "cannot read standard input", &r);
        } else {
            rc = kvmf_instance_socket_read(in, buf, (uint64_t)n, &r);
        }
        report(&r);
    }
    kvmf_instance_release(in);
    return rc == KVMF_OK ? 0 : 2;
}

/* The library's settings for the program, with the options given on the command line over them. */
static int apply_library(struct options *o, struct library_settings *lib)
{
    kvmf_config_defaults(&lib->config);
    if (library_load(o->library, o->program, lib) < 0) {
        fprintf(stderr, "kvmrun: --library: %s\n", lib->error);
        return 1;
    }
    struct kvmf_config *c = &lib->config, *given = &o->config;
    if (o->set & SET_RTIME)
        c->max_request_time_ms = given->max_request_time_ms;
    if (o->set & SET_BTIME)
        c->max_boot_time_ms = given->max_boot_time_ms;
    if (o->set & SET_MEM)
        c->max_memory = given->max_memory;
    if (o->set & SET_RMEM)
        c->max_request_memory = given->max_request_memory;
    if (o->set & SET_EPHEMERAL)
        c->ephemeral = given->ephemeral;
    if (o->set & SET_STORAGE)
        c->storage = given->storage;
    if (o->set & SET_SHM)
        c->shared_memory = given->shared_memory;
    o->config = *c;
    o->program = lib->program;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    struct library_settings lib = {0};
    const char *name_arg = o.program;
    if (o.library && (rc = apply_library(&o, &lib)) != 0)
        return rc;
    size_t elf_len = 0, body_len = 0;
    char *elf = read_file(o.program, &elf_len);
    if (!elf) {
        fprintf(stderr, "kvmrun: cannot read program %s: %s\n", o.program, strerror(errno));
        return 1;
    }
    char *body = NULL;
    if (o.body_file && !(body = read_file(o.body_file, &body_len))) {
        fprintf(stderr, "kvmrun: cannot read body %s: %s\n", o.body_file, strerror(errno));
        return 1;
    }
    if (!body && strcmp(o.method, "GET") && strcmp(o.method, "HEAD"))
        body = calloc(1, 1); /* a POST without --body sends an empty body */
    /* The program's name (argv[0], KVM_NAME): its library name, else its file's. */
    const char *name = o.library ? name_arg : strrchr(o.program, '/') ? strrchr(o.program, '/') + 1 : o.program;

    kvmf_program *program = NULL;
    rc = kvmf_program_create(name, elf, elf_len, &o.config, &program);
    free(elf);
    if (rc != KVMF_OK) {
        fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name(rc), kvmf_last_error());
        if (o.json_file)
            write_json(o.json_file, NULL, rc, kvmf_last_error(), 0, 0, 0, 0);
        return rc == KVMF_INVALID_ARGUMENT ? 1 : 2;
    }
    fputs(kvmf_program_boot_log(program), stderr);
    if (o.connection) {
        rc = run_connection(program, &o);
        kvmf_program_destroy(program);
        free(body);
        free(o.headers);
        free(o.args);
        library_free(&lib);
        return rc;
    }
    struct kvmf_program_stats ps;
    kvmf_program_stats(program, &ps);

    bool sequence = o.nargs > 1;
    size_t steps = o.nargs > 1 ? o.nargs : 1, total_runs = (size_t)o.repeat * steps;
    const char *first_arg = o.nargs ? o.args[0] : NULL;
    FILE *out = NULL;
    if (sequence && !(out = o.out_file ? fopen(o.out_file, "wb") : stdout)) {
        fprintf(stderr, "kvmrun: cannot write %s: %s\n", o.out_file, strerror(errno));
        return 1;
    }
    uint64_t *runs = calloc(total_runs, sizeof *runs), *resets = calloc(total_runs, sizeof *resets);
    size_t nresets = 0;
    kvmf_instance *in = NULL;
    struct kvmf_response resp;
    int error = KVMF_OK;
    char message[1024] = "";
    if ((rc = kvmf_program_acquire(program, 60000, &in)) != KVMF_OK) {
        fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name(rc), kvmf_last_error());
        return 2;
    }
    for (long i = 0; i < o.warmup; i++) {
        error = kvmf_instance_run(in, o.method, o.url, first_arg, o.content_type, body, body_len, o.headers,
                                  o.headers_len, KVMF_RUN_WARMUP, &resp);
        kvmf_instance_release(in);
        if (error) {
            fprintf(stderr, "kvmrun: warm-up request %ld: %s: %s\n", i + 1, kvmf_error_name(error),
                    kvmf_last_error());
            return 2;
        }
        if ((rc = kvmf_program_acquire(program, 60000, &in)) != KVMF_OK) {
            fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name(rc), kvmf_last_error());
            return 2;
        }
    }
    for (size_t i = 0; i < total_runs; i++) {
        if (i > 0) {
            uint64_t t = now_ns();
            kvmf_instance_release(in);
            resets[nresets++] = now_ns() - t;
            if ((rc = kvmf_program_acquire(program, 60000, &in)) != KVMF_OK) {
                fprintf(stderr, "kvmrun: %s: %s\n", kvmf_error_name(rc), kvmf_last_error());
                return 2;
            }
        }
        const char *arg = o.nargs ? o.args[i % steps] : NULL;
        error = kvmf_instance_run(in, o.method, o.url, arg, o.content_type, body, body_len, o.headers,
                                  o.headers_len, 0, &resp);
        runs[i] = resp.run_ns;
        if (resp.log_len)
            fwrite(resp.log, 1, resp.log_len, stderr);
        if (sequence && resp.status) {
            fwrite(resp.body, 1, resp.body_len, out);
            fputc('\n', out);
        }
        if (sequence && error) {
            total_runs = i + 1;
            fprintf(stderr, "kvmrun: the sequence stopped at request %zu (--arg '%s')\n", i + 1, arg);
            break;
        }
    }
    if (out && out != stdout)
        fclose(out);
    else if (out)
        fflush(stdout);
    if (error)
        snprintf(message, sizeof message, "%s", resp.error_message);
    if (error)
        fprintf(stderr, "kvmrun: %s: %s%s\n", kvmf_error_name(error), message,
                resp.on_error_used ? " (answered by on_error)" : "");
    if (resp.status && !sequence) {
        FILE *out = o.out_file ? fopen(o.out_file, "wb") : stdout;
        if (!out) {
            fprintf(stderr, "kvmrun: cannot write %s: %s\n", o.out_file, strerror(errno));
            return 1;
        }
        fwrite(resp.body, 1, resp.body_len, out);
        if (out != stdout)
            fclose(out);
        else
            fflush(stdout);
    }
    uint64_t p50 = percentile(runs, total_runs, 0.5) / 1000;
    uint64_t p99 = percentile(runs, total_runs, 0.99) / 1000;
    uint64_t reset50 = percentile(resets, nresets, 0.5) / 1000;
    if (o.json_file)
        write_json(o.json_file, &resp, error, message, ps.boot_ns / 1000, p50, p99, reset50);
    bool answered = resp.status != 0;
    bool refused = answered && o.fail && resp.status >= 400;
    if (refused)
        fprintf(stderr, "kvmrun: the program answered status %d (--fail)\n", (int)resp.status);
    kvmf_instance_release(in);
    kvmf_program_destroy(program);
    free(runs);
    free(resets);
    free(body);
    free(o.headers);
    free(o.args);
    library_free(&lib);
    return refused ? 3 : answered ? 0 : 2;
}
