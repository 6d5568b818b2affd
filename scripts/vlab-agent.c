// SPDX-License-Identifier: GPL-2.0
/*
 * vlab-agent: the command channel of the virtual lab.
 *
 *   vlab-agent serve PORT            (in the guest, started by vlab-guest-init)
 *   vlab-agent run ADDR PORT CMD...  (on the host, inside the lab's netns)
 *
 * The guest side runs CMD with its stdin, stdout and stderr relayed as
 * frames over one TCP connection and reports the exit status; the host
 * side writes the frames to its own stdout and stderr and exits with the
 * command's status (128+N for signal N, 255 if the connection broke).
 * It replaces SSH because a session costs seconds of TCG guest time; it
 * listens only on the lab's private network, inside a network namespace
 * that nothing else can reach.
 *
 * Wire format: client sends "VLAB1\n", u32 argc, then argc times
 * (u32 len, bytes), then stdin frames.  A frame is u8 type, u32 len
 * (big endian), data.  Types: 0 stdin (len 0 = EOF), 1 stdout, 2 stderr,
 * 3 exit status (4 bytes).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { F_STDIN, F_STDOUT, F_STDERR, F_EXIT };
#define MAX_ARGS 4096
#define MAX_ARG (1 << 20)

static int full_io(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int send_frame(int fd, int type, const void *data, uint32_t len)
{
	unsigned char h[5];
	uint32_t be = htonl(len);

	h[0] = type;
	memcpy(h + 1, &be, 4);
	if (full_io(fd, h, 5, 1))
		return -1;
	return len ? full_io(fd, (void *)data, len, 1) : 0;
}

static int recv_frame_hdr(int fd, int *type, uint32_t *len)
{
	unsigned char h[5];
	uint32_t be;

	if (full_io(fd, h, 5, 0))
		return -1;
	*type = h[0];
	memcpy(&be, h + 1, 4);
	*len = ntohl(be);
	return 0;
}

static void keepalive(int s)
{
	int on = 1, idle = 5, intvl = 5, cnt = 4;

	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* Guest side: one connection, one command. */
static void serve_one(int s)
{
	char magic[6];
	uint32_t argc, i, len;
	char **argv;
	int in[2], out[2], err[2];
	pid_t pid;

	if (full_io(s, magic, 6, 0) || memcmp(magic, "VLAB1\n", 6))
		_exit(1);
	if (full_io(s, &argc, 4, 0))
		_exit(1);
	argc = ntohl(argc);
	if (argc < 1 || argc > MAX_ARGS)
		_exit(1);
	argv = calloc(argc + 1, sizeof(*argv));
	for (i = 0; i < argc; i++) {
		if (full_io(s, &len, 4, 0))
			_exit(1);
		len = ntohl(len);
		if (len > MAX_ARG)
			_exit(1);
		argv[i] = calloc(1, len + 1);
		if (!argv[i] || full_io(s, argv[i], len, 0))
			_exit(1);
	}
	if (pipe(in) || pipe(out) || pipe(err))
		_exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]);
		close(out[1]); close(err[0]); close(err[1]);
		close(s);
		setsid();
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "vlab-agent: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]); close(out[1]); close(err[1]);

	struct pollfd p[3] = {
		{ .fd = s, .events = POLLIN },
		{ .fd = out[0], .events = POLLIN },
		{ .fd = err[0], .events = POLLIN },
	};
	int open_out = 2, stdin_open = 1;
	char buf[65536];

	while (open_out) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			int type;

			if (recv_frame_hdr(s, &type, &len) || len > sizeof(buf) ||
			    (len && full_io(s, buf, len, 0))) {
				/* Client went away: stop the command. */
				kill(-pid, SIGKILL);
				p[0].fd = -1;
				if (stdin_open)
					close(in[1]);
				stdin_open = 0;
			} else if (type == F_STDIN && stdin_open) {
				if (len == 0 || full_io(in[1], buf, len, 1)) {
					close(in[1]);
					stdin_open = 0;
				}
			}
		}
		for (i = 1; i < 3; i++) {
			ssize_t n;

			if (!p[i].revents)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0) {
				if (p[0].fd >= 0 && send_frame(s, i, buf, n))
					p[0].fd = -1;
			} else if (n == 0 || errno != EINTR) {
				close(p[i].fd);
				p[i].fd = -1;
				open_out--;
			}
		}
	}
	int st, code;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	uint32_t be = htonl(code);

	send_frame(s, F_EXIT, &be, 4);
	_exit(0);
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(s, (void *)&a, sizeof(a)) || listen(s, 64)) {
		perror("vlab-agent: listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		keepalive(c);
		if (fork() == 0) {
			close(s);
			signal(SIGCHLD, SIG_DFL);
			serve_one(c);
		}
		close(c);
	}
}

static int run(const char *addr, int port, int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), i;
	uint32_t n;

	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1 ||
	    connect(s, (void *)&a, sizeof(a))) {
		fprintf(stderr, "vlab-agent: cannot reach %s:%d: %s\n", addr, port,
			strerror(errno));
		return 255;
	}
	keepalive(s);
	n = htonl(argc);
	if (full_io(s, "VLAB1\n", 6, 1) || full_io(s, &n, 4, 1))
		goto broken;
	for (i = 0; i < argc; i++) {
		n = htonl(strlen(argv[i]));
		if (full_io(s, &n, 4, 1) || full_io(s, argv[i], strlen(argv[i]), 1))
			goto broken;
	}
	struct pollfd p[2] = {
		{ .fd = s, .events = POLLIN },
		{ .fd = 0, .events = POLLIN },
	};
	char buf[65536];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto broken;
		}
		if (p[1].revents) {
			ssize_t r = read(0, buf, sizeof(buf));

			if (r <= 0) {
				send_frame(s, F_STDIN, NULL, 0);
				p[1].fd = -1;
			} else if (send_frame(s, F_STDIN, buf, r)) {
				goto broken;
			}
		}
		if (p[0].revents) {
			int type;
			uint32_t len;

			if (recv_frame_hdr(s, &type, &len) || len > sizeof(buf) ||
			    full_io(s, buf, len, 0))
				goto broken;
			if (type == F_STDOUT || type == F_STDERR) {
				full_io(type, buf, len, 1);
			} else if (type == F_EXIT && len == 4) {
				memcpy(&n, buf, 4);
				return ntohl(n);
			}
		}
	}
broken:
	fprintf(stderr, "vlab-agent: connection to %s lost\n", addr);
	return 255;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "run"))
		return run(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	fprintf(stderr, "usage: vlab-agent serve PORT | run ADDR PORT CMD [ARGS...]\n");
	return 2;
}
