/* paused — the event-loop style: the program pauses in wait_for_requests_paused() and each request
 * resumes it with the request filled in. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>

int main(void)
{
    struct kvm_request req;
    int served = 0;
    for (;;) {
        wait_for_requests_paused(&req);
        char text[256];
        int n = snprintf(text, sizeof text, "paused %.*s %.*s served=%d", req.method_len, req.method, req.url_len,
                         req.url, ++served);
        respond(200, "text/plain", text, (size_t)n);
    }
}
