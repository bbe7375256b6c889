/*
 * line_echo — a program that takes over connections (the VMOD's steal()): after the HTTP upgrade, the client's
 * bytes come to its socket handler as events, and what it writes goes straight back. It greets the client, answers
 * each line with the line in upper case, and closes on "quit". Lines may arrive in pieces, so it keeps the line
 * being read; the connection's VM lives as long as the connection, and is reset afterwards.
 *
 *   gcc -O2 -static -Isdk -o line_echo sdk/examples/line_echo.c
 *   printf 'hello\nquit\n' | kvmrun --connection line_echo
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_api.h"

static char line[1024];
static size_t line_len;

/* Answers one complete line; 0 when the connection should close. */
static int answer(int fd)
{
	if (line_len == 4 && memcmp(line, "quit", 4) == 0) {
		write(fd, "bye\n", 4);
		return 0;
	}
	for (size_t i = 0; i < line_len; i++)
		line[i] = (char)toupper((unsigned char)line[i]);
	line[line_len] = '\n';
	write(fd, line, line_len + 1);
	return 1;
}

static void on_socket(int thread)
{
	(void)thread;
	struct kvm_socket_event events[4];
	for (;;) {
		int n = wait_for_socket_events_paused(events, 4);
		for (int i = 0; i < n; i++) {
			const struct kvm_socket_event *ev = &events[i];
			if (ev->event == SOCKET_CONNECT) {
				char hello[300];
				int len = snprintf(hello, sizeof hello, "hello %s, send lines; quit ends\n", ev->remote);
				write(ev->fd, hello, (size_t)len);
			} else if (ev->event == SOCKET_READ) {
				for (size_t j = 0; j < ev->data_len; j++) {
					char c = (char)ev->data[j];
					if (c == '\r')
						continue;
					if (c != '\n') {
						if (line_len < sizeof line - 1)
							line[line_len++] = c; /* (a longer line is cut) */
						continue;
					}
					if (!answer(ev->fd)) {
						close(ev->fd);
						return; /* (the rest of this read goes unanswered) */
					}
					line_len = 0;
				}
			}
		}
	}
}

static void on_get(const char *url, const char *arg)
{
	(void)url;
	(void)arg;
	kvm_respond_str(426, "text/plain", "upgrade this connection to talk to line_echo\n");
}

int main(void)
{
	kvm_set_socket_handler(on_socket);
	kvm_set_get_handler(on_get);
	wait_for_requests();
	return 0;
}
