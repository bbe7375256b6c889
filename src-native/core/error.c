/* error.c — failure kinds, their names, and the per-thread last error message. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

static __thread char last_error[1024];

static const char *const error_names[KVMF_ERROR_KIND_COUNT] = {
    [KVMF_OK] = "OK",
    [KVMF_TIMEOUT] = "TIMEOUT",
    [KVMF_OUT_OF_MEMORY] = "OUT_OF_MEMORY",
    [KVMF_MEMORY_FAULT] = "MEMORY_FAULT",
    [KVMF_CPU_EXCEPTION] = "CPU_EXCEPTION",
    [KVMF_BAD_API_CALL] = "BAD_API_CALL",
    [KVMF_NO_RESPONSE] = "NO_RESPONSE",
    [KVMF_PROGRAM_EXIT] = "PROGRAM_EXIT",
    [KVMF_BOOT_FAILED] = "BOOT_FAILED",
    [KVMF_RESPONSE_TOO_LARGE] = "RESPONSE_TOO_LARGE",
    [KVMF_QUEUE_TIMEOUT] = "QUEUE_TIMEOUT",
    [KVMF_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [KVMF_UNAVAILABLE] = "UNAVAILABLE",
    [KVMF_INTERNAL] = "INTERNAL",
};

const char *kvmf_error_name(int kind)
{
    if (kind < 0 || kind >= KVMF_ERROR_KIND_COUNT)
        return "UNKNOWN";
    return error_names[kind];
}

const char *kvmf_last_error(void)
{
    return last_error;
}

int kvmf_fail(int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return kind;
}

int kvmf_fail_errno(const char *call)
{
    return kvmf_fail(KVMF_INTERNAL, "%s failed: %s (errno %d)", call, strerror(errno), errno);
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
