/* onerror — a POST handler that crashes or loops on demand, and an on_error handler that answers
 * with the original input (which is still in guest memory: the VM is not reset before it). */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Warray-bounds" /* the crash is intended */

static const uint8_t *input;
static size_t input_len;

static void on_post(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len)
{
    (void)url;
    (void)ctype;
    input = data;
    input_len = len;
    if (!strcmp(arg, "crash"))
        *(volatile int *)8 = 0;
    if (!strcmp(arg, "loop"))
        for (;;)
            __asm__ volatile("");
    respond(200, "application/octet-stream", "transformed", 11);
}

static void on_error(const char *url, const char *arg, const char *exception)
{
    (void)url;
    char h[300];
    snprintf(h, sizeof h, "X-Failed: %s: %.200s", arg, exception);
    struct ResponseHeader hdr = {h, strlen(h)};
    struct BackendResponseExtra extra = {0};
    extra.headers = &hdr;
    extra.num_headers = 1;
    sys_backend_response(200, "application/octet-stream", 24, input, input_len, &extra);
}

int main(void)
{
    register_func(2, (void *)on_post);
    register_func(5, (void *)on_error);
    wait_for_requests();
    return 0;
}
