/* socket — a program that takes over connections (handler 12): it greets, echoes what it reads, and answers a few
 * commands that exercise the host's side: quit (closes), batch (sys_sockets_write of two pieces), spin (time
 * limit), crash (memory fault), grow N (writes N MiB: memory limit), bye (a SOCKET_DISCONNECT entry closes),
 * return (the handler returns), big N (writes N KiB at once), badwait and respond (misuses of the API). GET
 * requests answer "socket program\n", or with arg "write32" what write() to the connection's descriptor gives
 * outside a connection. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int starts(const struct kvm_socket_event *ev, const char *word)
{
    size_t n = strlen(word);
    return ev->data_len >= n && memcmp(ev->data, word, n) == 0;
}

static void put(int fd, const char *text)
{
    write(fd, text, strlen(text));
}

/* What one SOCKET_READ asks; 1 when the handler should return. */
static int on_read(const struct kvm_socket_event *ev)
{
    char line[128];
    if (starts(ev, "quit")) {
        put(ev->fd, "bye\n");
        close(ev->fd);
    } else if (starts(ev, "batch")) {
        struct kvm_socket_event out[2] = {
            {.fd = ev->fd, .event = SOCKET_WRITABLE, .data = (const uint8_t *)"one\n", .data_len = 4},
            {.fd = ev->fd, .event = SOCKET_WRITABLE, .data = (const uint8_t *)"two\n", .data_len = 4},
        };
        sys_sockets_write(out, 2);
    } else if (starts(ev, "bye")) {
        struct kvm_socket_event out = {
            .fd = ev->fd, .event = SOCKET_DISCONNECT, .data = (const uint8_t *)"so long\n", .data_len = 8};
        sys_sockets_write(&out, 1);
    } else if (starts(ev, "return")) {
        put(ev->fd, "returning\n");
        return 1;
    } else if (starts(ev, "badwait")) {
        struct kvm_socket_event none[1];
        wait_for_socket_events_paused(none, 0);
    } else if (starts(ev, "respond")) {
        respond_text(200, "not here");
    } else if (starts(ev, "spin")) {
        for (volatile int i = 0;; i++)
            ;
    } else if (starts(ev, "crash")) {
        *(volatile int *)0 = 1;
    } else if (starts(ev, "grow ")) {
        int mib = atoi((const char *)ev->data + 5);
        char *block = malloc((size_t)mib << 20);
        memset(block, 1, (size_t)mib << 20); /* NULL when refused: the crash then counts as out of memory */
        snprintf(line, sizeof line, "grew %d\n", mib);
        put(ev->fd, line);
    } else if (starts(ev, "big ")) {
        size_t len = (size_t)atoi((const char *)ev->data + 4) << 10;
        char *block = malloc(len);
        memset(block, 'x', len);
        write(ev->fd, block, len);
        free(block);
    } else {
        put(ev->fd, "echo: ");
        write(ev->fd, ev->data, ev->data_len);
    }
    return 0;
}

static void on_socket(int thread)
{
    (void)thread;
    struct kvm_socket_event events[4];
    for (;;) {
        int n = wait_for_socket_events_paused(events, 4);
        for (int i = 0; i < n; i++) {
            const struct kvm_socket_event *ev = &events[i];
            char line[512];
            switch (ev->event) {
            case SOCKET_CONNECT:
                snprintf(line, sizeof line, "hello %s %s\n", ev->remote, ev->arg);
                put(ev->fd, line);
                break;
            case SOCKET_READ:
                if (on_read(ev))
                    return;
                break;
            case SOCKET_DISCONNECT:
                printf("disconnected: %s\n", ev->remote);
                fflush(stdout);
                break;
            default:
                break;
            }
        }
    }
}

static void on_get(const char *url, const char *arg)
{
    (void)url;
    if (strcmp(arg, "write32") == 0) {
        char text[64];
        errno = 0;
        long rc = write(32, "x", 1);
        snprintf(text, sizeof text, "rc=%ld errno=%d", rc, errno);
        respond_text(200, text);
    }
    respond_text(200, "socket program\n");
}

int main(void)
{
    register_func(KVM_HANDLER_SOCKET_PREPARE, (void *)on_socket);
    register_func(KVM_HANDLER_GET, (void *)on_get);
    wait_for_requests();
}
