/* regex — the regular-expression calls: a pattern compiled during initialisation used by every
 * request, patterns compiled and freed in a request, substitution with groups, copying headers,
 * and hostile use (a request reaching another's handle, endless backtracking, bad pointers, too many
 * patterns). The request's argument picks the case; the body reports what the calls returned. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <string.h>

static int copy_headers; /* compiled during initialisation */

static void basic(char *out, size_t size)
{
    char value[64] = "X-Value: 5", replaced[64], swapped[64], tiny[4];
    int colon = sys_regex_compile(": .*", 4);
    long n1 = sys_regex_subst(colon, value, ": 666", replaced, sizeof replaced, 0);
    int pairs = sys_regex_compile("(\\w+)@(\\w+)", 11);
    long n2 = sys_regex_subst(pairs, "a@b and c@d", "\\2@\\1", swapped, sizeof swapped, KVM_REGEX_ALL);
    long first = sys_regex_subst(pairs, "a@b and c@d", "[\\0]", swapped + 32, 32, 0);
    long nospace = sys_regex_subst(pairs, "a@b and c@d", "\\2@\\1", tiny, sizeof tiny, KVM_REGEX_ALL);
    int at = sys_regex_match(pairs, "see x@y", 7), none = sys_regex_match(pairs, "nothing", 7);
    int invalid = sys_regex_compile("(unclosed", 9);
    int copied = sys_regex_copyto(copy_headers, 0, 1);
    sys_http_append(1, replaced, (size_t)n1);
    sys_regex_free(colon);
    int after_free = sys_regex_match(colon, value, strlen(value));
    snprintf(out, size, "handles=%d,%d n1=%ld [%s] n2=%ld [%s] first=%ld [%s] nospace=%ld at=%d none=%d invalid=%d "
             "copied=%d after_free=%d", colon, pairs, n1, replaced, n2, swapped, first, swapped + 32, nospace, at,
             none, invalid, copied, after_free);
}

static bool arg_is(const struct kvm_request *req, const char *name)
{
    return req->arg_len == strlen(name) && !memcmp(req->arg, name, req->arg_len);
}

static void on_request(const struct kvm_request *req)
{
    char out[512] = "";
    if (arg_is(req, "basic")) {
        basic(out, sizeof out);
    } else if (arg_is(req, "other-handle")) {
        /* 65: the pattern the previous ("basic") request compiled and left: gone with that request. */
        snprintf(out, sizeof out, "other=%d boot=%d", sys_regex_match(65, "a@b", 3),
                 sys_regex_match(copy_headers, "X-Copy-Me: 1", 12));
    } else if (arg_is(req, "free-boot")) {
        sys_regex_free(copy_headers); /* not this request's to free: ignored */
        snprintf(out, sizeof out, "boot=%d", sys_regex_match(copy_headers, "X-Copy-Me: 1", 12));
    } else if (arg_is(req, "backtrack")) {
        char subject[64];
        memset(subject, 'a', 40);
        strcpy(subject + 40, "!");
        int h = sys_regex_compile("(a+)+$", 6);
        snprintf(out, sizeof out, "backtrack=%d", sys_regex_match(h, subject, strlen(subject)));
    } else if (arg_is(req, "many")) {
        int last = 0, count = 0;
        while ((last = sys_regex_compile("x", 1)) >= 0)
            count++;
        snprintf(out, sizeof out, "compiled=%d then=%d", count, last);
    } else if (arg_is(req, "bad-pointer")) {
        int h = sys_regex_compile("a", 1);
        sys_regex_match(h, (const char *)0x10, 5); /* the host's system area: the run ends here */
        snprintf(out, sizeof out, "not reached");
    }
    respond(200, "text/plain", out, strlen(out));
}

int main(void)
{
    /* Header names are case-insensitive, and some containers hand them over in lower case (Tomcat 10.1). */
    copy_headers = sys_regex_compile("(?i)^X-Copy[^:]*:", 17);
    register_func(3, (void *)on_request);
    wait_for_requests();
    return 0;
}
