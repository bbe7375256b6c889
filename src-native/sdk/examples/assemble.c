/* assemble.c — a page assembled from two others of the same web application, fetched with self-requests (the
 * server's own answers, not the network): the paths are the argument, "/header.html,/body.html". Where the
 * server does not answer self-requests (ProgramServlet's selfRequests), each part is a note saying why.
 * Try it: a ProgramServlet with selfRequests=true and arg "/header.html,/body.html". */
#include <stdio.h>
#include <string.h>

#include "kvm_api.h"

static char page[1 << 20];
static size_t used;

static void append_part(const char *path, size_t len)
{
    struct curl_op op;
    memset(&op, 0, sizeof op);
    long rc = sys_request(path, len, &op, NULL, NULL);
    int n;
    if (rc != 0)
        n = snprintf(page + used, sizeof page - used, "<!-- %.*s: error %ld -->\n", (int)len, path, rc);
    else if (op.status != 200)
        n = snprintf(page + used, sizeof page - used, "<!-- %.*s: status %u -->\n", (int)len, path, op.status);
    else
        n = snprintf(page + used, sizeof page - used, "%.*s", (int)op.content_length, (const char *)op.content);
    if (n > 0)
        used += (size_t)n < sizeof page - used ? (size_t)n : sizeof page - used - 1;
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    used = 0;
    for (const char *part = arg; *part;) {
        const char *comma = strchr(part, ',');
        size_t len = comma ? (size_t)(comma - part) : strlen(part);
        if (len)
            append_part(part, len);
        part += len + (comma ? 1 : 0);
    }
    kvm_respond(200, "text/html", page, used);
}

int main(void)
{
    if (!kvm_is_sandboxed()) {
        puts("assemble runs in the sandbox, behind a ProgramServlet with selfRequests=true");
        return 0;
    }
    kvm_set_get_handler(on_get);
    wait_for_requests();
    return 0;
}
