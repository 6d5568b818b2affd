// SPDX-License-Identifier: GPL-2.0
/* Many clients at once, one request each, executed one at a time (see
 * server.h for the model). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "ipc.h"
#include "server.h"
#include "util.h"

#define slog(s, prio, ...) do { if ((s)->log) (s)->log(prio, __VA_ARGS__); } while (0)

void vn_server_init(struct vn_server *s, int listen_fd, int max_conns,
		    int request_ms)
{
	int i;

	memset(s, 0, sizeof(*s));
	s->listen_fd = listen_fd;
	s->max_conns = max_conns > 0 && max_conns <= VN_CONN_MAX ? max_conns : VN_CONN_MAX;
	s->request_ms = request_ms > 0 ? request_ms : VN_REQUEST_MS;
	for (i = 0; i < VN_CONN_MAX; i++)
		s->conns[i].fd = -1;
}

static void conn_close(struct vn_server *s, struct vn_conn *c)
{
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->nconns--;
}

void vn_server_fini(struct vn_server *s)
{
	int i;

	for (i = 0; i < VN_CONN_MAX; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
}

int vn_server_pollfds(const struct vn_server *s, struct pollfd *p)
{
	int i, n = 0;

	p[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (i = 0; i < VN_CONN_MAX; i++)
		if (s->conns[i].fd >= 0)
			p[n++] = (struct pollfd){ .fd = s->conns[i].fd, .events = POLLIN };
	return n;
}

int vn_server_timeout(const struct vn_server *s, int timeout_ms)
{
	int64_t now = vn_mono_ms(), left;
	int i;

	for (i = 0; i < VN_CONN_MAX; i++) {
		if (s->conns[i].fd < 0)
			continue;
		left = s->conns[i].deadline_ms - now;
		if (left < 0)
			left = 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = (int)left;
	}
	return timeout_ms;
}

/* Over the cap: say so without waiting for anything, and close. */
static void refuse(struct vn_server *s, int fd)
{
	static int64_t last_log;
	struct vn_err err;
	char *line;
	ssize_t n;

	vn_seterr(&err, EBUSY, "too many connections (%d): try again", s->max_conns);
	line = vn_reply_line(-EBUSY, &err, NULL);
	if (line) {
		n = send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n;
		free(line);
	}
	close(fd);
	if (vn_mono_ms() - last_log >= 1000) {
		last_log = vn_mono_ms();
		slog(s, LOG_WARNING, "refused a connection: %d already open", s->max_conns);
	}
}

static void accept_all(struct vn_server *s)
{
	struct vn_conn *c = NULL;
	int fd, i;

	for (;;) {
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;		/* EAGAIN, or a connection that went away */
		if (s->nconns >= s->max_conns) {
			refuse(s, fd);
			continue;
		}
		for (i = 0; i < VN_CONN_MAX; i++)
			if (s->conns[i].fd < 0) {
				c = &s->conns[i];
				break;
			}
		c->fd = fd;
		c->len = 0;
		c->deadline_ms = vn_mono_ms() + s->request_ms;
		c->buf = malloc(VN_REQ_MAX + 1);
		s->nconns++;
		snprintf(c->peer, sizeof(c->peer), "fd %d", fd);
		if (!c->buf || (s->on_accept && s->on_accept(s, c)))
			conn_close(s, c);
	}
}

/* A complete request: run it with the socket blocking (reply bounded by
 * SO_SNDTIMEO), then close. */
static void run_request(struct vn_server *s, struct vn_conn *c)
{
	struct timeval tv = { .tv_sec = s->request_ms / 1000,
			      .tv_usec = (s->request_ms % 1000) * 1000 };
	int fl = fcntl(c->fd, F_GETFL);

	c->buf[c->len] = '\0';
	if (fl >= 0)
		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->on_request)
		s->on_request(s, c, c->buf);
	conn_close(s, c);
}

static void read_conn(struct vn_server *s, struct vn_conn *c)
{
	ssize_t n;

	for (;;) {
		n = read(c->fd, c->buf + c->len, VN_REQ_MAX - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 || (n == 0 && !c->len)) {
			conn_close(s, c);	/* gone without a request */
			return;
		}
		/* a newline, the end of the stream, or a full buffer ends it */
		if (!n || memchr(c->buf + c->len, '\n', (size_t)n) ||
		    c->len + (size_t)n >= VN_REQ_MAX) {
			c->len += (size_t)n;
			run_request(s, c);
			return;
		}
		c->len += (size_t)n;
	}
}

static void expire(struct vn_server *s)
{
	int64_t now = vn_mono_ms();
	int i;

	for (i = 0; i < VN_CONN_MAX; i++) {
		struct vn_conn *c = &s->conns[i];

		if (c->fd < 0 || now < c->deadline_ms)
			continue;
		/* what came in while another request ran counts as in time */
		read_conn(s, c);
		if (c->fd < 0)
			continue;
		slog(s, LOG_WARNING, "dropped %s: no complete request within %d ms (%zu bytes received)",
		     c->peer, s->request_ms, c->len);
		conn_close(s, c);
	}
}

void vn_server_events(struct vn_server *s, const struct pollfd *p, int n)
{
	int i, j;

	/* requests first (they were accepted earlier), then new clients */
	for (i = 1; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		for (j = 0; j < VN_CONN_MAX; j++)
			if (s->conns[j].fd == p[i].fd) {
				read_conn(s, &s->conns[j]);
				break;
			}
	}
	if (n > 0 && (p[0].revents & POLLIN))
		accept_all(s);
	expire(s);
}

int vn_server_step(struct vn_server *s, int timeout_ms)
{
	struct pollfd p[1 + VN_CONN_MAX];
	int n = vn_server_pollfds(s, p), ret;

	ret = poll(p, (nfds_t)n, vn_server_timeout(s, timeout_ms));
	if (ret < 0 && errno != EINTR)
		return -errno;
	if (ret < 0)
		return 0;
	vn_server_events(s, p, n);
	return ret;
}
