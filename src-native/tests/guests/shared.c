/* shared — the shared memory area (shared_memory_area, 0x10700). At boot it writes a mark at the start of the
 * area and places a counter after it, as VMOD programs do with their SHM allocator. Arguments:
 *   count      increments the counter atomically and answers its new value
 *   area       answers "ptr=0x.. end=0x.." (ptr=0x0 end=0x0 without an area)
 *   mark       answers the mark written at boot
 *   body       answers with a body that lies in the area itself ("from the shared area")
 *   log        sys_log of a text that lies in the area
 *   past-end   writes one byte past the end of the area (must fail the request)
 *   below      writes one byte below the start, into the gap (must fail the request)
 *   private    increments a private (reset) counter: always 1 on an ephemeral program */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static struct shared_memory_info area;
static _Atomic long *counter;
static char *text;
static long private_count;

static void on_get(const char *url, const char *arg)
{
    (void)url;
    char out[128];
    if (!strcmp(arg, "count")) {
        snprintf(out, sizeof out, "%ld", atomic_fetch_add(counter, 1) + 1);
    } else if (!strcmp(arg, "area")) {
        struct shared_memory_info now = shared_memory_area();
        snprintf(out, sizeof out, "ptr=0x%llx end=0x%llx", (unsigned long long)now.ptr, (unsigned long long)now.end);
    } else if (!strcmp(arg, "mark")) {
        snprintf(out, sizeof out, "%s", area.ptr ? (const char *)(uintptr_t)area.ptr : "(no area)");
    } else if (!strcmp(arg, "body")) {
        strcpy(text, "from the shared area");
        respond(200, "text/plain", text, strlen(text));
    } else if (!strcmp(arg, "log")) {
        strcpy(text, "logged from the shared area");
        sys_log(text, strlen(text));
        snprintf(out, sizeof out, "logged");
    } else if (!strcmp(arg, "past-end")) {
        *(volatile char *)(uintptr_t)area.end = 1;
        snprintf(out, sizeof out, "wrote past the end");
    } else if (!strcmp(arg, "below")) {
        *(volatile char *)(uintptr_t)(area.ptr - 1) = 1;
        snprintf(out, sizeof out, "wrote below the start");
    } else if (!strcmp(arg, "private")) {
        snprintf(out, sizeof out, "%ld", ++private_count);
    } else {
        snprintf(out, sizeof out, "unknown argument");
    }
    respond_text(200, out);
}

int main(void)
{
    area = shared_memory_area();
    if (area.ptr) {
        strcpy((char *)(uintptr_t)area.ptr, "written at boot");
        counter = (_Atomic long *)(uintptr_t)(area.ptr + 64);
        text = (char *)(uintptr_t)(area.ptr + 128);
    }
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
