/* shared_counter.c — one counter for every instance of the program, in the shared memory area.
 * Library: { "shared_counter": { "filename": "shared_counter", "shared_memory": 1, "concurrency": 4 } }
 * Try it: kvmrun --shared-memory 1 --arg x --arg x shared_counter   (answers 1, then 2) */
#include <stdatomic.h>
#include <stdio.h>

#include "kvm_api.h"

static _Atomic long *hits; /* in the shared area: every instance increments the same one */

static void on_get(const char *url, const char *arg)
{
    (void)url, (void)arg;
    char text[32];
    int n = snprintf(text, sizeof text, "%ld", atomic_fetch_add(hits, 1) + 1);
    kvm_respond(200, "text/plain", text, (size_t)n);
}

int main(void)
{
    if (!kvm_is_sandboxed()) {
        puts("shared_counter runs in the sandbox: kvmrun --shared-memory 1 shared_counter");
        return 0;
    }
    hits = kvm_shared_alloc(sizeof *hits, _Alignof(_Atomic long));
    if (!hits) {
        fputs("shared_counter: no shared memory area (\"shared_memory\" in the library)\n", stderr);
        return 1;
    }
    kvm_set_get_handler(on_get);
    wait_for_requests();
    return 0;
}
