/* api — exercises the program API through the generic request handler: method, headers (find,
 * append, set, remove), response headers and caching hints, meminfo, debug flag, logging. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_request(const struct kvm_request *req)
{
    char method[16] = "", accept[128] = "", body[2048];
    sys_http_method(method, sizeof method);
    unsigned accept_len = sys_http_find(0, "Accept", 6, accept, sizeof accept - 1);
    unsigned needed = sys_http_find(0, "accept", 6, NULL, 0);
    unsigned too_small = sys_http_find(0, "Accept", 6, accept, 2);
    unsigned absent = sys_http_find(0, "X-Absent", 8, accept, sizeof accept);
    struct meminfo mi;
    get_meminfo(&mi);
    sys_log("api: handling", 13);
    sys_http_append(1, "X-One: 1", 8);
    sys_http_append(1, "X-Two: 2", 8);
    sys_http_set(1, "X-One: uno", 10);
    sys_http_append(1, "X-Gone: soon", 12);
    sys_http_set(1, "X-Gone", 6);
    sys_set_cacheable(1, 5000, 1000, 2000);
    int n = snprintf(body, sizeof body,
                     "method=%s/%.*s url=%.*s arg=%.*s ctype=%.*s content=%zu headers=%u accept=%.*s needed=%u "
                     "small=%u absent=%u debug=%d maxmem=%llu warmup=%u apipage=%s",
                     method, req->method_len, req->method, req->url_len, req->url, req->arg_len, req->arg,
                     req->content_type_len, req->content_type, req->content_len, req->num_headers, (int)accept_len,
                     accept, needed, too_small, absent, sys_is_debug(), (unsigned long long)(mi.max_memory >> 20),
                     req->info_flags, getenv("KVMFILTER_API_PAGE"));
    for (unsigned i = 0; i < req->num_headers; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, " [%.*s|%u]", (int)req->headers[i].field_len,
                      req->headers[i].field, req->headers[i].field_colon);
    respond(200, "text/plain; charset=utf-8", body, (size_t)n);
}

int main(void)
{
    register_func(3, (void *)on_request);
    wait_for_requests();
    return 0;
}
