/* countdown.c — a streamed response: "9\n8\n...1\n", one line per call of the callback.
 * Try it: kvmrun countdown */
#include <stdio.h>

#include "kvm_api.h"

struct countdown {
    int left;
    char line[32];
};

static struct streaming_content next_line(void *arg, size_t max, size_t written, size_t total)
{
    (void)written, (void)total;
    struct countdown *c = arg;
    int n = snprintf(c->line, sizeof c->line, "%d\n", c->left--);
    return (struct streaming_content){c->line, (size_t)n < max ? (size_t)n : max};
}

static void on_get(const char *url, const char *arg)
{
    (void)url, (void)arg;
    struct countdown c = {.left = 9}; /* on the handler's stack: it outlives the callbacks */
    begin_streaming_response(200, "text/plain", 10, 18, next_line, &c); /* "9\n8\n...1\n" is 18 bytes */
}

int main(void)
{
    if (!kvm_is_sandboxed()) {
        puts("countdown runs in the sandbox: kvmrun countdown");
        return 0;
    }
    kvm_set_get_handler(on_get);
    wait_for_requests();
    return 0;
}
