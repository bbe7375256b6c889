/* counter — keeps a count across requests; meaningful with ephemeral = false. Also dirties
 * `pages` pages of a buffer per request (arg), for the reset benchmark. With MAKE_EPHEMERAL=N in its
 * environment it calls sys_make_ephemeral(N) during initialisation and reports what that returned, and
 * the argument "again" calls it once more, during the request. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count;
static const char *make_env;
static int made;
static volatile char pages[4096 * 4096];

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char text[64];
    if (!strcmp(arg, "again")) {
        snprintf(text, sizeof text, "again=%d", sys_make_ephemeral(0));
        respond_text(200, text);
    }
    long n = atol(arg);
    for (long i = 0; i < n && i < 4096; i++)
        pages[i * 4096] = 1;
    if (make_env)
        snprintf(text, sizeof text, "count=%d make=%d", ++count, made);
    else
        snprintf(text, sizeof text, "count=%d", ++count);
    respond_text(200, text);
}

int main(void)
{
    make_env = getenv("MAKE_EPHEMERAL");
    if (make_env)
        made = sys_make_ephemeral(atoi(make_env));
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
