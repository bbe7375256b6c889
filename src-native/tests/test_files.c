/*
 * test_files.c — allowed_paths: read-only host files a program opens by the path the library gives (under another
 * name, or their own), with open/read/lseek/stat/access/poll and stdio; writing refused; any other path absent;
 * the VM's descriptors given back at every reset; and every bad configuration refused with a message naming it.
 */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

/* "guest\0host\0" pairs from a NULL-terminated list of strings. */
static size_t pack(char *out, size_t size, const char *const *strings)
{
    size_t len = 0;
    for (; *strings; strings++) {
        size_t n = strlen(*strings) + 1;
        if (len + n > size)
            break;
        memcpy(out + len, *strings, n);
        len += n;
    }
    return len;
}

static kvmf_program *load_with(const char *guest, const char *const *pairs, int *error)
{
    static char blob[4096];
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 64ULL << 20;
    c.allowed_paths = blob;
    c.allowed_paths_len = pack(blob, sizeof blob, pairs);
    return load_guest(guest, &c, error);
}

static void expect(kvmf_program *p, const char *arg, const char *body, const char *what)
{
    struct result r = get(p, arg);
    CHECK(r.error == KVMF_OK && !strcmp(r.body, body), "%s (%s): \"%s\", got %s \"%s\" %s", what, arg, body,
          kvmf_error_name(r.error), r.body, r.message);
}

static void refused(const char *guest, const char *const *pairs, const char *text, const char *what)
{
    int error = KVMF_OK;
    kvmf_program *p = load_with(guest, pairs, &error);
    CHECK(p == NULL && error == KVMF_INVALID_ARGUMENT && strstr(kvmf_last_error(), text),
          "%s is refused with \"%s\": %s", what, text, p ? "loaded" : kvmf_last_error());
    if (p)
        kvmf_program_destroy(p);
}

static void files(const char *guest)
{
    char host[512];
    int fd = temp_file(host, sizeof host, "kvmf-allowed");
    CHECK(fd >= 0, "a temporary file");
    if (fd < 0)
        return;
    const char secret[] = "super_secret! and more";
    CHECK(write(fd, secret, sizeof secret - 1) == (ssize_t)(sizeof secret - 1), "the file is written");
    close(fd);

    const char *pairs[] = {"/data/secret.txt", host, host, host, NULL};
    kvmf_program *p = load_with(guest, pairs, NULL);
    CHECK(p != NULL, "%s boots with two allowed paths: %s", guest, kvmf_last_error());
    if (p) {
        expect(p, "read:/data/secret.txt", secret, "an allowed path under another name is read");
        char arg[sizeof host + 8];
        snprintf(arg, sizeof arg, "fopen:%s", host);
        expect(p, arg, "super_secret!", "an allowed path under its own name, through stdio (as the VMOD's test)");
        expect(p, "seek:/data/secret.txt", " more", "lseek from the end");
        expect(p, "poll:/data/secret.txt", "ready=5 0=1 1=4 2=4 file=1 99=20 -1=0",
               "poll: the standard descriptors and an open file are ready, an unknown fd is POLLNVAL, -1 ignored");
        char stat_text[64];
        snprintf(stat_text, sizeof stat_text, "size=%zu mode=0100400", sizeof secret - 1);
        expect(p, "stat:/data/secret.txt", stat_text, "stat: a read-only regular file of the host file's size");
        expect(p, "access:/data/secret.txt", "r=0 w=13 x=13", "access: readable, not writable or executable");
        expect(p, "write:/data/secret.txt", "errno=13", "opening for writing is refused (EACCES)");
        expect(p, "read:/data/other.txt", "errno=2", "a path that is not listed does not exist");
        expect(p, "read:/data/secret.txt/", "errno=2", "only the exact path");
        expect(p, "read:/etc/passwd", "errno=2", "nor does any host file");
        expect(p, "stat:/etc/passwd", "errno=2", "stat of an unlisted path");
        for (int i = 0; i < 12; i++) /* more than the VM's 8 descriptors: each reset gives them back */
            expect(p, "leak:/data/secret.txt", "fd=3", "an unclosed descriptor is gone after the reset");
        kvmf_program_destroy(p);
    }

    const char *relative[] = {"data/secret.txt", host, NULL};
    refused(guest, relative, "both must be absolute paths", "a relative path");
    const char *missing[] = {"/data/x", "/nonexistent/kvmf-file", NULL};
    refused(guest, missing, "\"/nonexistent/kvmf-file\" cannot be opened for reading: No such file", "a missing file");
    const char *directory[] = {"/data", "/", NULL};
    refused(guest, directory, "is not a regular file", "a directory");
    const char *unpaired[] = {"/data/x", NULL};
    refused(guest, unpaired, "has no host file", "a path without its host file");
    const char *state[] = {"/state", host, NULL};
    refused(guest, state, "would hide the state file", "\"/state\"");
    unlink(host);
}

void test_files(void)
{
    files("files");
    files("files-musl");
}
