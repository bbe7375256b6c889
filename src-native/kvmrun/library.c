/*
 * library.c — `kvmrun --library FILE NAME`: program NAME's file and settings from a program library, the JSON the
 * server reads (docs/java-api.md): the program's group first, then its own keys; comments allowed, as in the VMOD.
 * Keys that only matter to a server (pools, warm-up, reloading) are accepted and have no effect here.
 */
#define _GNU_SOURCE
#include "library.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../programs/common/json_reader.h"

/* Keys of a library entry (the server's); the ones kvmrun uses are handled in apply_key. */
static const char *const known_keys[] = {
    "group", "filename", "uri", "sha256", "concurrency", "max_boot_time", "max_request_time", "on_error_time",
    "queue_timeout", "max_memory", "max_request_memory", "max_response_size", "max_queue", "ephemeral", "debug",
    "reads_url", "start", "reload", "main_arguments", "environment", "warmup_requests", "warmup_url",
    "warmup_body", "warmup_content_type", "trim_idle_time", "storage", "shared_memory", "state_file",
    "allowed_paths", "max_storage_memory", "max_storage_time", "egress", NULL,
};

static int fail(struct library_settings *out, const char *fmt, const char *a, const char *b)
{
    snprintf(out->error, sizeof out->error, fmt, a, b);
    return -1;
}

/* Blanks out // and slash-star comments outside strings, so the strict parser reads the VMOD's commented JSON. */
static void strip_comments(char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (text[i] == '\\' && i + 1 < len)
                i++;
            else if (text[i] == '"')
                in_string = false;
        } else if (text[i] == '"') {
            in_string = true;
        } else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
            while (i < len && text[i] != '\n')
                text[i++] = ' ';
        } else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
            size_t j = i + 2;
            while (j + 1 < len && !(text[j] == '*' && text[j + 1] == '/'))
                j++;
            size_t end = j + 1 < len ? j + 2 : len; /* an unclosed comment runs to the end */
            for (size_t k = i; k < end; k++)
                if (text[k] != '\n')
                    text[k] = ' ';
            i = end - 1;
        }
    }
}

/* A path from the library, relative to its directory. */
static char *relative_to(const char *library, const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    const char *slash = strrchr(library, '/');
    size_t dir = slash ? (size_t)(slash - library + 1) : 0;
    char *joined = malloc(dir + strlen(path) + 1);
    if (joined) {
        memcpy(joined, library, dir);
        strcpy(joined + dir, path);
    }
    return joined;
}

/* NUL-separated strings from a JSON array of strings; false when it is not one. */
static bool pack_strings(const struct json_value *v, char **blob, uint64_t *len)
{
    if (v->type != JSON_ARRAY)
        return false;
    size_t total = 0;
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (v->u.array.items[i]->type != JSON_STRING)
            return false;
        total += v->u.array.items[i]->u.string.len + 1;
    }
    free(*blob);
    *blob = malloc(total + 1);
    if (!*blob)
        return false;
    size_t at = 0;
    for (size_t i = 0; i < v->u.array.count; i++) {
        memcpy(*blob + at, v->u.array.items[i]->u.string.chars, v->u.array.items[i]->u.string.len + 1);
        at += v->u.array.items[i]->u.string.len + 1;
    }
    *len = total;
    return true;
}

/* Ends a blob written to open_memstream(packed, size), which the close completes: on success it replaces *blob
 * (freed) and sets *len; false when a step failed (ok false) or the stream could not be closed. */
static bool finish_blob(FILE *out, bool ok, char **packed, size_t *size, char **blob, uint64_t *len)
{
    if (out && fclose(out) != 0)
        ok = false;
    if (!ok) {
        free(*packed);
        return false;
    }
    free(*blob);
    *blob = *packed;
    *len = *size;
    return true;
}

/* allowed_paths: "/path" (the program's path and the host file alike) or {"real": FILE, "virtual": "/path"}, each
 * packed as "virtual\0host\0" with a relative "real" in the library's directory; false when malformed. */
static bool pack_allowed_paths(const struct json_value *v, const char *library, char **blob, uint64_t *len)
{
    if (v->type != JSON_ARRAY)
        return false;
    char *packed = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&packed, &size);
    bool ok = out != NULL;
    for (size_t i = 0; ok && i < v->u.array.count; i++) {
        const struct json_value *e = v->u.array.items[i];
        const struct json_value *real = e->type == JSON_STRING ? e : json_object_get(e, "real");
        const struct json_value *virt = e->type == JSON_STRING ? e : json_object_get(e, "virtual");
        if (!virt)
            virt = real;
        ok = real && virt && real->type == JSON_STRING && virt->type == JSON_STRING && virt->u.string.chars[0] == '/';
        for (size_t k = 0; ok && e->type == JSON_OBJECT && k < e->u.object.count; k++) {
            const struct json_member *m = &e->u.object.members[k];
            bool off = (!strcmp(m->key, "prefix") || !strcmp(m->key, "writable")) && m->value->type == JSON_BOOL &&
                       !m->value->u.boolean;
            ok = !strcmp(m->key, "real") || !strcmp(m->key, "virtual") || off;
        }
        char *host = ok ? relative_to(library, real->u.string.chars) : NULL;
        if (host) {
            fwrite(virt->u.string.chars, 1, virt->u.string.len + 1, out);
            fwrite(host, 1, strlen(host) + 1, out);
        }
        ok = ok && host;
        free(host);
    }
    return finish_blob(out, ok, &packed, &size, blob, len);
}

static bool mib(const struct json_value *v, uint64_t min, uint64_t *bytes)
{
    if (v->type != JSON_NUMBER || !v->u.number.is_integer || v->u.number.value < (double)min ||
        v->u.number.value > 65536)
        return false;
    *bytes = (uint64_t)v->u.number.value << 20;
    return true;
}

static bool seconds(const struct json_value *v, uint64_t *ms)
{
    if (v->type != JSON_NUMBER || !(v->u.number.value > 0) || v->u.number.value > 3600)
        return false;
    *ms = (uint64_t)(v->u.number.value * 1000.0 + 0.5);
    if (*ms == 0)
        *ms = 1;
    return true;
}

/* egress: {"hosts": [..], "schemes": [..], "ports": [..], "addresses": [..], "max_response_size": MiB,
 * "max_concurrent": N, "max_time": seconds, "max_redirects": N, "insecure_tls": bool} packed as the core's
 * "key=value" strings (the core checks the values, naming what is wrong); false when a type is wrong. */
static bool pack_egress(const struct json_value *v, char **blob, uint64_t *len)
{
    if (v->type != JSON_OBJECT)
        return false;
    char *packed = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&packed, &size);
    bool ok = out != NULL;
    for (size_t k = 0; ok && k < v->u.object.count; k++) {
        const char *key = v->u.object.members[k].key;
        const struct json_value *e = v->u.object.members[k].value;
        if (!strcmp(key, "hosts") || !strcmp(key, "schemes") || !strcmp(key, "ports") || !strcmp(key, "addresses")) {
            ok = e->type == JSON_ARRAY;
            fprintf(out, "%s=", key);
            for (size_t i = 0; ok && i < e->u.array.count; i++) {
                const struct json_value *item = e->u.array.items[i];
                if (!strcmp(key, "ports"))
                    ok = item->type == JSON_NUMBER && item->u.number.is_integer && fprintf(out, "%s%.0f", i ? "," : "",
                                                                                          item->u.number.value) > 0;
                else
                    ok = item->type == JSON_STRING && !strchr(item->u.string.chars, ',') &&
                         fprintf(out, "%s%s", i ? "," : "", item->u.string.chars) > 0;
            }
        } else if (!strcmp(key, "max_response_size")) {
            ok = e->type == JSON_NUMBER && e->u.number.value > 0 && e->u.number.value <= 4095;
            fprintf(out, "%s=%.0f", key, ok ? e->u.number.value * 1048576.0 : 0);
        } else if (!strcmp(key, "max_time")) {
            uint64_t ms;
            ok = seconds(e, &ms);
            fprintf(out, "max_time_ms=%llu", (unsigned long long)(ok ? ms : 0));
        } else if (!strcmp(key, "max_concurrent") || !strcmp(key, "max_redirects")) {
            ok = e->type == JSON_NUMBER && e->u.number.is_integer && e->u.number.value >= 0;
            fprintf(out, "%s=%.0f", key, ok ? e->u.number.value : 0);
        } else if (!strcmp(key, "insecure_tls")) {
            ok = e->type == JSON_BOOL;
            fprintf(out, "%s=%d", key, ok && e->u.boolean);
        } else {
            fprintf(out, "%s=", key); /* the core names the unknown key */
        }
        fputc('\0', out);
    }
    return finish_blob(out, ok, &packed, &size, blob, len);
}

static int apply_key(struct library_settings *out, const char *library, const char *key, const struct json_value *v)
{
    struct kvmf_config *c = &out->config;
    bool ok = true;
    if (!strcmp(key, "filename")) {
        ok = v->type == JSON_STRING && v->u.string.len > 0;
        if (ok) {
            free(out->program);
            out->program = relative_to(library, v->u.string.chars);
        }
    } else if (!strcmp(key, "uri")) {
        if (v->type != JSON_STRING || strncmp(v->u.string.chars, "file:", 5))
            return fail(out, "%s: key \"uri\" must be a file: URI for kvmrun (it runs files; bundled: programs are "
                        "in src-native/build/programs)%s", library, "");
        free(out->program);
        out->program = strdup(v->u.string.chars + 5);
    } else if (!strcmp(key, "state_file")) {
        ok = v->type == JSON_STRING && v->u.string.len > 0;
        if (ok) {
            free(out->state_file);
            out->state_file = relative_to(library, v->u.string.chars);
            c->state_file = out->state_file;
        }
    } else if (!strcmp(key, "max_memory")) {
        ok = mib(v, 1, &c->max_memory);
    } else if (!strcmp(key, "max_request_memory")) {
        ok = mib(v, 1, &c->max_request_memory);
    } else if (!strcmp(key, "max_response_size")) {
        ok = mib(v, 1, &c->max_response_size);
    } else if (!strcmp(key, "max_storage_memory")) {
        ok = mib(v, 32, &c->max_storage_memory);
    } else if (!strcmp(key, "max_storage_time")) {
        ok = seconds(v, &c->max_storage_time_ms);
    } else if (!strcmp(key, "shared_memory")) {
        ok = mib(v, 0, &c->shared_memory);
    } else if (!strcmp(key, "max_boot_time")) {
        ok = seconds(v, &c->max_boot_time_ms);
    } else if (!strcmp(key, "max_request_time")) {
        ok = seconds(v, &c->max_request_time_ms);
    } else if (!strcmp(key, "on_error_time")) {
        ok = seconds(v, &c->on_error_time_ms);
    } else if (!strcmp(key, "ephemeral") || !strcmp(key, "debug") || !strcmp(key, "storage")) {
        ok = v->type == JSON_BOOL;
        uint64_t *field = !strcmp(key, "ephemeral") ? &c->ephemeral : !strcmp(key, "debug") ? &c->debug : &c->storage;
        if (ok)
            *field = v->u.boolean;
    } else if (!strcmp(key, "main_arguments")) {
        ok = pack_strings(v, &out->arguments, &c->arguments_len);
        c->arguments = out->arguments;
    } else if (!strcmp(key, "environment")) {
        ok = pack_strings(v, &out->environment, &c->environment_len);
        c->environment = out->environment;
    } else if (!strcmp(key, "allowed_paths")) {
        ok = pack_allowed_paths(v, library, &out->allowed_paths, &c->allowed_paths_len);
        c->allowed_paths = out->allowed_paths;
    } else if (!strcmp(key, "egress")) {
        ok = pack_egress(v, &out->egress, &c->egress_len);
        c->egress = out->egress;
    } else if (!strcmp(key, "address_space")) {
        ok = mib(v, 1, &out->address_space); /* the guest's addresses are its memory: max_memory (library_load) */
    } else if (!strcmp(key, "relocate_fixed_mmap")) {
        /* The VMOD's false (what Go programs are given): a fixed mapping goes where it is asked, as here. */
        if (v->type == JSON_BOOL && v->u.boolean)
            return fail(out, "%s: key \"%s\": true (move fixed mappings elsewhere) is not supported; kvmfilter places "
                        "them where the program asks, the VMOD's false", library, key);
        ok = v->type == JSON_BOOL;
    } else {
        size_t i = 0;
        while (known_keys[i] && strcmp(known_keys[i], key))
            i++;
        if (!known_keys[i])
            return fail(out, "%s: unknown key \"%s\" (see docs/java-api.md for the library's keys)", library, key);
        /* A server's key (pool, warm-up, reloading): no effect on one run. */
    }
    if (!ok)
        return fail(out, "%s: key \"%s\" has a value kvmrun cannot use (see docs/java-api.md for its type and range)",
                    library, key);
    return 0;
}

static int apply_entry(struct library_settings *out, const char *library, const struct json_value *entry)
{
    for (size_t i = 0; i < entry->u.object.count; i++) {
        const struct json_member *m = &entry->u.object.members[i];
        if (strcmp(m->key, "group") && apply_key(out, library, m->key, m->value) < 0)
            return -1;
    }
    return 0;
}

int library_load(const char *library, const char *name, struct library_settings *out)
{
    FILE *f = fopen(library, "rb");
    if (!f)
        return fail(out, "cannot read the library %s%s", library, "");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char chunk[65536];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(f);
    if (!mem || fclose(mem) != 0)
        return fail(out, "cannot read the library %s%s", library, "");
    strip_comments(text, len);
    char err[200];
    struct json_value *root = json_parse(text, len, err, sizeof err);
    free(text);
    if (!root)
        return fail(out, "%s is not valid JSON: %s", library, err);
    int rc = -1;
    const struct json_value *entry = json_object_get(root, name);
    if (root->type != JSON_OBJECT) {
        fail(out, "%s: a library is a JSON object of programs and groups%s", library, "");
    } else if (!entry || entry->type != JSON_OBJECT) {
        fail(out, "%s has no program \"%s\"", library, name);
    } else {
        const struct json_value *group = json_object_get(entry, "group");
        const struct json_value *defaults = group && group->type == JSON_STRING
                                                ? json_object_get(root, group->u.string.chars) : NULL;
        if (group && (!defaults || defaults->type != JSON_OBJECT))
            fail(out, "%s: the group of program \"%s\" is not defined in the library", library, name);
        else if ((!defaults || apply_entry(out, library, defaults) == 0) && apply_entry(out, library, entry) == 0)
            rc = out->program ? 0 : fail(out, "%s: program \"%s\" has no \"filename\"", library, name);
        if (rc == 0 && out->address_space > out->config.max_memory)
            out->config.max_memory = out->address_space;
    }
    json_free(root);
    return rc;
}

void library_free(struct library_settings *s)
{
    free(s->program);
    free(s->state_file);
    free(s->arguments);
    free(s->environment);
    free(s->allowed_paths);
    free(s->egress);
}
