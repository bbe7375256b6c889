/*
 * regex.c — the regular-expression calls of the program API (0x10030-0x10035): patterns compiled
 * and matched by the host with PCRE2, so a program needs no regex engine of its own.
 *
 * Handles: a pattern compiled before wait_for_requests() belongs to the program (every instance
 * sees the same handle in its frozen memory, so it must work in every request: handles 0..63);
 * one compiled during a request belongs to that instance and is freed before its next request
 * (handles 64..127), so no request sees another's patterns. A boot pattern cannot be freed from a
 * request. PCRE2's compiled code is read-only while matching: instances share it without a lock.
 *
 * The host runs the match outside the guest's time limit, so every match is bounded by PCRE2's
 * match and heap limits: a pattern that backtracks without end fails the call, not the host.
 *
 * libpcre2-8 is opened at the first call (dlopen), so the library needs it only on hosts whose
 * programs use regexes; without it the calls answer -ENOSYS, logged once.
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dlfcn.h>
#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>

#include "core.h"

#define MAX_PATTERN_BYTES 4096
#define MAX_SUBJECT_BYTES (16u << 20)     /* strings scanned for their NUL, and matched */
#define MATCH_LIMIT 1000000               /* PCRE2 match() calls per match: milliseconds of host CPU */
#define HEAP_LIMIT_KIB 1024               /* PCRE2's backtracking memory per match */
#define MAX_GROUPS 10                     /* \0 .. \9 in a substitution */

/* The PCRE2 functions used, resolved from libpcre2-8.so.0. */
static struct {
    pcre2_code *(*compile)(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *, pcre2_compile_context *);
    void (*code_free)(pcre2_code *);
    pcre2_match_data *(*match_data_create)(uint32_t, pcre2_general_context *);
    void (*match_data_free)(pcre2_match_data *);
    int (*match)(const pcre2_code *, PCRE2_SPTR, PCRE2_SIZE, PCRE2_SIZE, uint32_t, pcre2_match_data *,
                 pcre2_match_context *);
    PCRE2_SIZE *(*ovector)(pcre2_match_data *);
    pcre2_match_context *(*match_context_create)(pcre2_general_context *);
    int (*set_match_limit)(pcre2_match_context *, uint32_t);
    int (*set_heap_limit)(pcre2_match_context *, uint32_t);
    int (*error_message)(int, PCRE2_UCHAR *, PCRE2_SIZE);
    pcre2_match_context *limits;
    bool available;
    char why[160];
} pcre;

static pthread_once_t pcre_once = PTHREAD_ONCE_INIT;

static void *resolve(void *lib, const char *name, bool *ok)
{
    void *fn = dlsym(lib, name);
    if (!fn && *ok) {
        snprintf(pcre.why, sizeof pcre.why, "libpcre2-8.so.0 has no %s", name);
        *ok = false;
    }
    return fn;
}

static void open_pcre(void)
{
    void *lib = dlopen("libpcre2-8.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(pcre.why, sizeof pcre.why, "libpcre2-8.so.0 is not installed (Debian: libpcre2-8-0): %s",
                 dlerror());
        return;
    }
    bool ok = true;
    *(void **)&pcre.compile = resolve(lib, "pcre2_compile_8", &ok);
    *(void **)&pcre.code_free = resolve(lib, "pcre2_code_free_8", &ok);
    *(void **)&pcre.match_data_create = resolve(lib, "pcre2_match_data_create_8", &ok);
    *(void **)&pcre.match_data_free = resolve(lib, "pcre2_match_data_free_8", &ok);
    *(void **)&pcre.match = resolve(lib, "pcre2_match_8", &ok);
    *(void **)&pcre.ovector = resolve(lib, "pcre2_get_ovector_pointer_8", &ok);
    *(void **)&pcre.match_context_create = resolve(lib, "pcre2_match_context_create_8", &ok);
    *(void **)&pcre.set_match_limit = resolve(lib, "pcre2_set_match_limit_8", &ok);
    *(void **)&pcre.set_heap_limit = resolve(lib, "pcre2_set_heap_limit_8", &ok);
    *(void **)&pcre.error_message = resolve(lib, "pcre2_get_error_message_8", &ok);
    if (!ok)
        return; /* the library stays open: harmless, and dlclose could race with nothing here anyway */
    pcre.limits = pcre.match_context_create(NULL);
    if (!pcre.limits || pcre.set_match_limit(pcre.limits, MATCH_LIMIT) != 0 ||
        pcre.set_heap_limit(pcre.limits, HEAP_LIMIT_KIB) != 0) {
        snprintf(pcre.why, sizeof pcre.why, "PCRE2 could not set its match limits");
        return;
    }
    pcre.available = true;
}

/* True when PCRE2 is usable; otherwise the call is noted as unsupported (logged once, with why). */
static bool pcre_ready(struct kvmf_instance *in, uint32_t number)
{
    int rc = pthread_once(&pcre_once, open_pcre);
    if (rc == 0 && pcre.available)
        return true;
    static bool said;
    if (__atomic_exchange_n(&said, true, __ATOMIC_RELAXED)) {
        note_unsupported(in, "API call", number);
        return false;
    }
    exchange_logf(in, "[kvmfilter] regular expressions are unavailable: %s\n",
                  rc != 0 ? "pthread_once failed" : pcre.why);
    note_unsupported(in, "API call", number);
    return false;
}

void regex_set_clear(struct regex_set *set)
{
    for (size_t i = 0; i < REGEX_SET_MAX; i++) {
        if (set->code[i]) {
            pcre.code_free(set->code[i]); /* non-NULL only if PCRE2 was opened */
            set->code[i] = NULL;
        }
    }
}

/* The compiled pattern of a handle this run may use, or NULL. */
static pcre2_code *code_of(struct kvmf_instance *in, int64_t handle)
{
    if (handle >= 0 && handle < REGEX_SET_MAX)
        return in->program->boot_regexes.code[handle];
    if (handle >= REGEX_SET_MAX && handle < 2 * REGEX_SET_MAX && in->ex.phase != PHASE_BOOT)
        return in->regexes.code[handle - REGEX_SET_MAX];
    return NULL;
}

/* A guest string of at most MAX_SUBJECT_BYTES; a bad one ends the run as BAD_API_CALL. */
static const char *string_arg(struct kvmf_instance *in, uint64_t addr, uint64_t *len, const char *who,
                              const char *what)
{
    const char *s = guest_string(in, addr, MAX_SUBJECT_BYTES, len);
    if (!s)
        exchange_fail(in, KVMF_BAD_API_CALL, "%s: the %s at 0x%llx is not a NUL-terminated string of at most %u "
                      "bytes in the program's memory", who, what, (unsigned long long)addr, MAX_SUBJECT_BYTES);
    return s;
}

/*
 * One match of `code` in subject[0..len) from `start`: the number of groups set in md (the whole
 * match counts as group 0), 0 for no match, negative (a PCRE2 error, such as its match limit).
 */
static int match_at(pcre2_code *code, const char *subject, size_t len, size_t start, pcre2_match_data *md,
                    int pairs)
{
    int rc = pcre.match(code, (PCRE2_SPTR)subject, len, start, 0, md, pcre.limits);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return rc == 0 ? pairs : rc; /* 0: more groups matched than md holds; it holds `pairs` */
}

/* PCRE2's text for an error code, in `text`. */
static const char *error_text(int code, PCRE2_UCHAR *text, size_t size)
{
    if (pcre.error_message(code, text, size) < 0)
        snprintf((char *)text, size, "unknown error %d", code);
    return (const char *)text;
}

static void log_match_error(struct kvmf_instance *in, const char *who, int rc)
{
    PCRE2_UCHAR text[120];
    exchange_logf(in, "[kvmfilter] %s: the match failed: %s\n", who, error_text(rc, text, sizeof text));
}

/* 0x10030 int sys_regex_compile(const char *pattern, size_t len): a handle, or -EINVAL / -EMFILE. */
static int64_t regex_compile(struct kvmf_instance *in, struct trap_frame *f)
{
    if (f->rsi > MAX_PATTERN_BYTES) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_regex_compile: the pattern is %llu bytes, more than %d",
                      (unsigned long long)f->rsi, MAX_PATTERN_BYTES);
        return -EINVAL;
    }
    const char *pattern = guest_ptr(in, f->rdi, f->rsi);
    if (!pattern) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_regex_compile: the pattern at 0x%llx (%llu bytes) is outside the "
                      "program's memory", (unsigned long long)f->rdi, (unsigned long long)f->rsi);
        return -EINVAL;
    }
    bool boot = in->ex.phase == PHASE_BOOT;
    struct regex_set *set = boot ? &in->program->boot_regexes : &in->regexes;
    size_t slot = 0;
    while (slot < REGEX_SET_MAX && set->code[slot])
        slot++;
    if (slot == REGEX_SET_MAX)
        return -EMFILE;
    int error;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre.compile((PCRE2_SPTR)pattern, f->rsi, 0, &error, &offset, NULL);
    if (!code) {
        PCRE2_UCHAR text[120];
        exchange_logf(in, "[kvmfilter] sys_regex_compile: \"%.*s\" is not a valid pattern: %s at offset %zu\n",
                      (int)(f->rsi > 80 ? 80 : f->rsi), pattern, error_text(error, text, sizeof text),
                      (size_t)offset);
        return -EINVAL;
    }
    set->code[slot] = code;
    return (int64_t)slot + (boot ? 0 : REGEX_SET_MAX);
}

/* 0x10031 void sys_regex_free(int handle): a request may free only its own patterns. */
static int64_t regex_free(struct kvmf_instance *in, struct trap_frame *f)
{
    int64_t handle = (int32_t)f->rdi;
    bool boot = in->ex.phase == PHASE_BOOT;
    struct regex_set *set = boot ? &in->program->boot_regexes : &in->regexes;
    int64_t first = boot ? 0 : REGEX_SET_MAX;
    if (handle >= first && handle < first + REGEX_SET_MAX && set->code[handle - first]) {
        pcre.code_free(set->code[handle - first]);
        set->code[handle - first] = NULL;
    }
    return 0;
}

/* 0x10032 int sys_regex_match(int handle, const char *subject, size_t len): offset of the first
 * match, -1 for none, or -EINVAL (bad handle) / -E2BIG (PCRE2's limits). */
static int64_t regex_match(struct kvmf_instance *in, struct trap_frame *f)
{
    pcre2_code *code = code_of(in, (int32_t)f->rdi); /* an int: the upper half of rdi is not defined */
    if (!code)
        return -EINVAL;
    if (f->rdx > MAX_SUBJECT_BYTES)
        return -E2BIG;
    const char *subject = guest_ptr(in, f->rsi, f->rdx);
    if (!subject && f->rdx > 0) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_regex_match: the subject at 0x%llx (%llu bytes) is outside the "
                      "program's memory", (unsigned long long)f->rsi, (unsigned long long)f->rdx);
        return -EINVAL;
    }
    pcre2_match_data *md = pcre.match_data_create(1, NULL);
    if (!md)
        return -ENOMEM;
    int rc = match_at(code, subject ? subject : "", f->rdx, 0, md, 1);
    int64_t result = rc > 0 ? (int64_t)pcre.ovector(md)[0] : rc == 0 ? -1 : -E2BIG;
    if (rc < 0)
        log_match_error(in, "sys_regex_match", rc);
    pcre.match_data_free(md);
    return result;
}

/* Appends subst to out (at most `limit` bytes) with \0..\9 replaced by the match's groups; false
 * when it does not fit. */
static bool append_substitution(struct buffer *out, size_t limit, const char *subject, const PCRE2_SIZE *ov,
                                int groups, const char *subst, size_t subst_len)
{
    for (size_t i = 0; i < subst_len; i++) {
        if (subst[i] == '\\' && i + 1 < subst_len && subst[i + 1] >= '0' && subst[i + 1] <= '9') {
            int g = subst[++i] - '0';
            if (g < groups && ov[2 * g] != PCRE2_UNSET &&
                !buffer_append(out, subject + ov[2 * g], ov[2 * g + 1] - ov[2 * g], limit))
                return false;
        } else if (!buffer_append(out, &subst[i], 1, limit)) {
            return false;
        }
    }
    return true;
}

/* 0x10033 long sys_regex_subst(int handle, const char *subject, const char *subst, char *dst,
 * size_t dstlen, int flags): subject with its first match (every match with flags bit 0) replaced
 * by subst, where \0..\9 stand for the groups, as a NUL-terminated string in dst. Returns its
 * length, -ENOSPC when it does not fit in dstlen (NUL included), -EINVAL or -E2BIG. */
static int64_t regex_subst(struct kvmf_instance *in, struct trap_frame *f)
{
    pcre2_code *code = code_of(in, (int32_t)f->rdi); /* an int: the upper half of rdi is not defined */
    if (!code)
        return -EINVAL;
    uint64_t subject_len, subst_len;
    const char *subject = string_arg(in, f->rsi, &subject_len, "sys_regex_subst", "subject");
    const char *subst = subject ? string_arg(in, f->rdx, &subst_len, "sys_regex_subst", "substitution") : NULL;
    if (!subst)
        return -EINVAL;
    if (f->r8 == 0 || !guest_ptr(in, f->rcx, f->r8)) {
        exchange_fail(in, KVMF_BAD_API_CALL, "sys_regex_subst: the destination at 0x%llx (%llu bytes) is outside the "
                      "program's memory", (unsigned long long)f->rcx, (unsigned long long)f->r8);
        return -EINVAL;
    }
    /* The result must fit in dst with its NUL; the host never holds more than that. */
    size_t limit = f->r8 - 1 < MAX_SUBJECT_BYTES ? f->r8 - 1 : MAX_SUBJECT_BYTES;
    bool all = (f->r9 & 1) != 0;
    pcre2_match_data *md = pcre.match_data_create(MAX_GROUPS, NULL);
    if (!md)
        return -ENOMEM;
    struct buffer out = {0};
    int64_t result = 0;
    size_t copied = 0, start = 0;
    while (start <= subject_len) {
        int groups = match_at(code, subject, subject_len, start, md, MAX_GROUPS);
        if (groups < 0) {
            log_match_error(in, "sys_regex_subst", groups);
            result = -E2BIG;
            break;
        }
        if (groups == 0)
            break;
        const PCRE2_SIZE *ov = pcre.ovector(md);
        if (!buffer_append(&out, subject + copied, ov[0] - copied, limit) ||
            !append_substitution(&out, limit, subject, ov, groups, subst, subst_len)) {
            result = -ENOSPC;
            break;
        }
        copied = ov[1];
        if (!all)
            break;
        if (ov[1] > ov[0]) {
            start = ov[1];
        } else { /* an empty match: the next character is kept as it is, and the search moves past it */
            if (ov[1] == subject_len)
                break;
            if (!buffer_append(&out, subject + ov[1], 1, limit)) {
                result = -ENOSPC;
                break;
            }
            copied = start = ov[1] + 1;
        }
    }
    if (result == 0 && !buffer_append(&out, subject + copied, subject_len - copied, limit))
        result = -ENOSPC;
    if (result == 0) {
        guest_write(in, f->rcx, out.len ? out.data : "", out.len);
        guest_write(in, f->rcx + out.len, "", 1);
        result = (int64_t)out.len;
    }
    buffer_free(&out);
    pcre.match_data_free(md);
    return result;
}

/* 0x10035 int sys_regex_copyto(int handle, int from, int to): appends every header of set `from`
 * whose "Name: value" text matches to set `to`; returns how many, or negative. */
static int64_t regex_copyto(struct kvmf_instance *in, struct trap_frame *f)
{
    pcre2_code *code = code_of(in, (int32_t)f->rdi); /* an int: the upper half of rdi is not defined */
    struct header_list *from = api_header_set(in, (uint32_t)f->rsi), *to = api_header_set(in, (uint32_t)f->rdx);
    if (!code || !from || !to || from == to)
        return -EINVAL;
    pcre2_match_data *md = pcre.match_data_create(1, NULL);
    if (!md)
        return -ENOMEM;
    int64_t copied = 0;
    size_t count = from->count; /* headers appended meanwhile are not matched again */
    for (size_t i = 0; i < count; i++) {
        int rc = match_at(code, from->items[i].text, from->items[i].len, 0, md, 1);
        if (rc < 0) {
            log_match_error(in, "sys_regex_copyto", rc);
            copied = -E2BIG;
            break;
        }
        if (rc > 0) {
            if (api_add_header_text(in, to, from->items[i].text, from->items[i].len, "sys_regex_copyto") < 0) {
                copied = -EINVAL;
                break;
            }
            copied++;
        }
    }
    pcre.match_data_free(md);
    return copied;
}

int64_t regex_dispatch(struct kvmf_instance *in, struct trap_frame *f, uint32_t number)
{
    if (!pcre_ready(in, number))
        return -ENOSYS;
    switch (number) {
    case KVM_CALL_REGEX_COMPILE: return regex_compile(in, f);
    case KVM_CALL_REGEX_FREE: return regex_free(in, f);
    case KVM_CALL_REGEX_MATCH: return regex_match(in, f);
    case KVM_CALL_REGEX_SUBST: return regex_subst(in, f);
    case KVM_CALL_REGEX_COPYTO: return regex_copyto(in, f);
    default:
        note_unsupported(in, "API call", number);
        return -ENOSYS;
    }
}
