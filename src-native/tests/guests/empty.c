/* empty — answers every GET with an empty 200, and nothing else: the round-trip benchmark. */
#define ABI_IMPLEMENTATION
#include "abi.h"

static void on_get(const char *url, const char *arg)
{
    (void)url;
    (void)arg;
    sys_backend_response(200, "text/plain", 10, "", 0, 0);
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
