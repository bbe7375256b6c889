/* hello — the smallest useful program: GET answers a greeting, POST echoes its body. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>

static void on_get(const char *url, const char *arg)
{
    char text[256];
    snprintf(text, sizeof text, "Hello from %s: url=%s arg=%s", getenv("KVM_NAME"), url, arg);
    respond_text(200, text);
}

static void on_post(const char *url, const char *arg, const char *ctype, const uint8_t *data, size_t len)
{
    (void)url;
    (void)arg;
    respond(200, ctype, data, len);
}

int main(void)
{
    printf("hello: booting\n");
    register_func(1, (void *)on_get);
    register_func(2, (void *)on_post);
    wait_for_requests();
    return 0;
}
