/* frontend — a program that registers only handler 0, the VMOD's "frontend" handler: it must answer every
 * request, as the generic handler (3) would. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>

static void on_frontend(const struct kvm_request *req)
{
    char out[256];
    int n = snprintf(out, sizeof out, "frontend %.*s %.*s", (int)req->method_len, req->method, (int)req->url_len,
                     req->url);
    respond(200, "text/plain", out, (size_t)n);
}

int main(void)
{
    register_func(0, (void *)on_frontend);
    wait_for_requests();
    return 0;
}
