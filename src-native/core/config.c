/*
 * config.c — a program's configuration: the defaults of struct kvmf_config and the check of a given
 * one, with a message that names the setting, its value and what is allowed.
 */
#include <string.h>

#include "core.h"

#define MIN_MEMORY (32ULL << 20)
#define MAX_MEMORY (64ULL << 30)
#define MAX_CONCURRENCY 4096
#define MAX_TIME_MS (24ULL * 3600 * 1000)

void kvmf_config_defaults(struct kvmf_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_memory = 256ULL << 20;
    c->max_request_memory = 64ULL << 20;
    c->max_response_size = 64ULL << 20;
    c->max_boot_time_ms = 10000;
    c->max_request_time_ms = 8000;
    c->on_error_time_ms = 1000;
    c->concurrency = 1;
    c->max_queue = 256;
    c->ephemeral = 1;
    c->debug = 0;
}

static int invalid(const char *setting, unsigned long long value, const char *allowed)
{
    return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: %s = %llu; allowed: %s", setting, value,
                     allowed);
}

static int check_strings(const char *what, const char *blob, uint64_t len)
{
    if (len && (!blob || blob[len - 1] != '\0'))
        return kvmf_fail(KVMF_INVALID_ARGUMENT, "invalid configuration: %s must be NUL-terminated strings placed "
                         "back to back (the last byte must be NUL)", what);
    return KVMF_OK;
}

int config_check(const struct kvmf_config *c)
{
    if (c->max_memory < MIN_MEMORY || c->max_memory > MAX_MEMORY || c->max_memory % HUGE_PAGE_SIZE)
        return invalid("max_memory", c->max_memory, "32 MiB to 64 GiB, a multiple of 2 MiB (bytes)");
    if (c->max_request_memory < PAGE_SIZE || c->max_request_memory > c->max_memory)
        return invalid("max_request_memory", c->max_request_memory, "4096 bytes up to max_memory");
    if (c->max_response_size > c->max_memory)
        return invalid("max_response_size", c->max_response_size, "0 up to max_memory");
    if (c->max_boot_time_ms == 0 || c->max_boot_time_ms > MAX_TIME_MS)
        return invalid("max_boot_time_ms", c->max_boot_time_ms, "1 to 86400000");
    if (c->max_request_time_ms == 0 || c->max_request_time_ms > MAX_TIME_MS)
        return invalid("max_request_time_ms", c->max_request_time_ms, "1 to 86400000");
    if (c->on_error_time_ms > MAX_TIME_MS)
        return invalid("on_error_time_ms", c->on_error_time_ms, "0 to 86400000");
    if (c->concurrency == 0 || c->concurrency > MAX_CONCURRENCY)
        return invalid("concurrency", c->concurrency, "1 to 4096");
    if (c->ephemeral > 1)
        return invalid("ephemeral", c->ephemeral, "0 or 1");
    if (c->debug > 1)
        return invalid("debug", c->debug, "0 or 1");
    if (c->storage > 1)
        return invalid("storage", c->storage, "0 or 1");
    if (c->max_storage_memory && (c->max_storage_memory < MIN_MEMORY || c->max_storage_memory > MAX_MEMORY ||
                                  c->max_storage_memory % HUGE_PAGE_SIZE))
        return invalid("max_storage_memory", c->max_storage_memory,
                       "0 (max_memory) or 32 MiB to 64 GiB, a multiple of 2 MiB (bytes)");
    if (c->max_storage_time_ms > MAX_TIME_MS)
        return invalid("max_storage_time_ms", c->max_storage_time_ms, "0 (max_request_time_ms) to 86400000");
    if (c->shared_memory % PAGE_SIZE || c->shared_memory > MAX_MEMORY)
        return invalid("shared_memory", c->shared_memory, "0 to 64 GiB, a multiple of 4096 (bytes)");
    int rc = check_strings("arguments", c->arguments, c->arguments_len);
    if (rc == KVMF_OK)
        rc = check_strings("environment", c->environment, c->environment_len);
    if (rc == KVMF_OK)
        rc = check_strings("allowed_paths", c->allowed_paths, c->allowed_paths_len);
    return rc != KVMF_OK ? rc : check_strings("egress", c->egress, c->egress_len);
}
