/* fetch_proxy.c — fetches the URL given as the argument and answers with what the origin sent (its status, type
 * and body), following redirects; or 502 naming why the fetch failed. The library must give the program an egress
 * policy that allows the origin: without one every fetch is refused (-EPERM).
 * Try it: kvmrun --library library.json --arg https://example.com/ fetch_proxy */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvm_api.h"

static void on_get(const char *url, const char *arg)
{
    (void)url;
    struct curl_op op;
    memset(&op, 0, sizeof op); /* no POST body; the host allocates the header and body buffers */
    struct curl_options opts;
    memset(&opts, 0, sizeof opts);
    opts.follow_location = 1;
    long rc = sys_fetch(arg, strlen(arg), &op, NULL, &opts);
    if (rc != 0) {
        char why[128];
        snprintf(why, sizeof why, "X-Failed: fetching %.60s: %s", arg, strerror((int)-rc));
        kvm_add_response_header(why);
        kvm_respond_str(502, "text/plain", "the origin could not be fetched\n");
    }
    /* The body is in memory the host mapped into this program: answer it as it is. */
    sys_backend_response((int16_t)op.status, op.ctype, op.ctlen, op.content, op.content_length, NULL);
}

int main(void)
{
    if (!kvm_is_sandboxed()) {
        puts("fetch_proxy runs in the sandbox: kvmrun --library library.json --arg URL fetch_proxy");
        return 0;
    }
    kvm_set_get_handler(on_get);
    wait_for_requests();
    return 0;
}
