/* counter — keeps a count across requests; meaningful with ephemeral = false. Also dirties
 * `pages` pages of a buffer per request (arg), for the reset benchmark. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>

static int count;
static volatile char pages[4096 * 4096];

static void on_get(const char *url, const char *arg)
{
    (void)url;
    long n = atol(arg);
    for (long i = 0; i < n && i < 4096; i++)
        pages[i * 4096] = 1;
    char text[64];
    snprintf(text, sizeof text, "count=%d", ++count);
    respond_text(200, text);
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
