/* files — the files a program may open: allowed_paths (read-only host files) and the state file. GET arguments,
 * each ARG:PATH:
 *   read     open(), read() up to 4000 bytes, close(): the content, or "errno=N"
 *   fopen    stdio, as a VMOD program does: the first word, or "errno=N"
 *   write    open() for writing: "fd=N" or "errno=N"
 *   stat     stat(): "size=N mode=0M", or "errno=N"
 *   access   access() for reading, writing and executing: "r=R w=W x=X" (0 or errno)
 *   leak     open() and never close: "fd=N" (a reset gives the VM its descriptors back)
 *   seek     the last 5 bytes, through lseek(fd, -5, SEEK_END): the content, or "errno=N"
 *   poll     poll() of stdin, stdout, stderr, PATH opened, fd 99 and fd -1 (events POLLIN, timeout 1000 ms):
 *            "ready=N 0=R 1=R 2=R file=R 99=R -1=R" (revents in hex) */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char out[4096];

static void answer_errno(void)
{
    snprintf(out, sizeof out, "errno=%d", errno);
    respond_text(200, out);
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    const char *colon = strchr(arg, ':');
    if (!colon) {
        respond_text(400, "give ARG:PATH");
        return;
    }
    const char *path = colon + 1;
    size_t n = (size_t)(colon - arg);
    if (!strncmp(arg, "read", n)) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return answer_errno();
        ssize_t len = read(fd, out, sizeof out - 1);
        close(fd);
        if (len < 0)
            return answer_errno();
        respond(200, "text/plain", out, (size_t)len);
    } else if (!strncmp(arg, "fopen", n)) {
        FILE *fp = fopen(path, "r");
        if (!fp)
            return answer_errno();
        if (fscanf(fp, "%255s", out) != 1)
            strcpy(out, "(empty)");
        fclose(fp);
        respond_text(200, out);
    } else if (!strncmp(arg, "write", n)) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            return answer_errno();
        snprintf(out, sizeof out, "fd=%d", fd);
        respond_text(200, out);
    } else if (!strncmp(arg, "stat", n)) {
        struct stat st;
        if (stat(path, &st) < 0)
            return answer_errno();
        snprintf(out, sizeof out, "size=%lld mode=0%o", (long long)st.st_size, (unsigned)st.st_mode);
        respond_text(200, out);
    } else if (!strncmp(arg, "access", n)) {
        int r = access(path, R_OK) < 0 ? errno : 0;
        int w = access(path, W_OK) < 0 ? errno : 0;
        int x = access(path, X_OK) < 0 ? errno : 0;
        snprintf(out, sizeof out, "r=%d w=%d x=%d", r, w, x);
        respond_text(200, out);
    } else if (!strncmp(arg, "leak", n)) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return answer_errno();
        snprintf(out, sizeof out, "fd=%d", fd);
        respond_text(200, out);
    } else if (!strncmp(arg, "poll", n)) {
        int fd = open(path, O_RDONLY);
        struct pollfd fds[6] = {{0, POLLIN, 0}, {1, POLLOUT, 0}, {2, POLLOUT, 0}, {fd, POLLIN, 0}, {99, POLLIN, 0},
                                {-1, POLLIN, 0}};
        int ready = poll(fds, 6, 1000);
        snprintf(out, sizeof out, "ready=%d 0=%x 1=%x 2=%x file=%x 99=%x -1=%x", ready, fds[0].revents,
                 fds[1].revents, fds[2].revents, fds[3].revents, fds[4].revents, fds[5].revents);
        respond_text(200, out);
    } else if (!strncmp(arg, "seek", n)) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return answer_errno();
        if (lseek(fd, -5, SEEK_END) < 0)
            return answer_errno();
        ssize_t len = read(fd, out, 5);
        close(fd);
        respond(200, "text/plain", out, len < 0 ? 0 : (size_t)len);
    } else {
        respond_text(400, "unknown argument");
    }
}

int main(void)
{
    register_func(1, (void *)on_get);
    wait_for_requests();
    return 0;
}
