// SPDX-License-Identifier: GPL-2.0
/*
 * vnoded's accept-and-read loop (vnoded/server.c): a stalled client
 * (half a request, then nothing) delays nobody else and is dropped at its
 * deadline; connections over the cap are refused with an error.  The
 * server runs in this process on a UNIX socket in a temp dir, driven by
 * vn_server_step(); the clients are plain sockets of the test.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>

#include "unit.h"
#include "server.h"

struct fx {
	char dir[64];
	struct sockaddr_un sa;
	int lfd;
	struct vn_server srv;
	int served;
	int dropped;
	int unanswered;		/* the client had gone */
	char last[128];
};

static struct fx *cur;

static void tlog(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tlog(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(cur->last, sizeof(cur->last), fmt, ap);
	va_end(ap);
	if (strstr(cur->last, "dropped"))
		cur->dropped++;
}

static int on_accept(struct vn_server *s, struct vn_conn *c)
{
	(void)s;
	snprintf(c->peer, sizeof(c->peer), "test client fd %d", c->fd);
	return 0;
}

/* echo the request, as a reply line */
static void on_request(struct vn_server *s, struct vn_conn *c, char *line)
{
	char out[256];
	int n = snprintf(out, sizeof(out), "{\"ok\":true,\"data\":\"%.*s\"}\n",
			 (int)strcspn(line, "\n"), line);

	((struct fx *)s->priv)->served++;
	if (send(c->fd, out, (size_t)n, MSG_NOSIGNAL) != n)
		((struct fx *)s->priv)->unanswered++;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/vn-srv-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->sa.sun_family = AF_UNIX;
	snprintf(fx->sa.sun_path, sizeof(fx->sa.sun_path), "%s/sock", fx->dir);
	fx->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fx->lfd >= 0);
	assert_int_equal(bind(fx->lfd, (struct sockaddr *)&fx->sa, sizeof(fx->sa)), 0);
	assert_int_equal(listen(fx->lfd, 128), 0);
	cur = fx;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vn_server_fini(&fx->srv);
	close(fx->lfd);
	unlink(fx->sa.sun_path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void start(struct fx *fx, int max_conns, int request_ms)
{
	vn_server_init(&fx->srv, fx->lfd, max_conns, request_ms);
	fx->srv.priv = fx;
	fx->srv.log = tlog;
	fx->srv.on_accept = on_accept;
	fx->srv.on_request = on_request;
}

static int client(struct fx *fx, const char *send_this)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&fx->sa, sizeof(fx->sa)), 0);
	if (send_this)
		assert_int_equal(write(fd, send_this, strlen(send_this)),
				 (ssize_t)strlen(send_this));
	return fd;
}

/* step the server until fd is readable (or ms pass); what it read */
static ssize_t answer(struct fx *fx, int fd, int ms, char *buf, size_t len)
{
	int64_t end = vn_mono_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (vn_mono_ms() < end) {
		vn_server_step(&fx->srv, 10);
		if (poll(&p, 1, 0) == 1) {
			ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

			buf[n > 0 ? n : 0] = '\0';
			return n;
		}
	}
	return -ETIMEDOUT;
}

static void slowloris(void **state)
{
	struct fx *fx = *state;
	char buf[256];
	int64_t t0;
	int stalled, quick, more;

	start(fx, 0, 1000);
	stalled = client(fx, "{\"cmd\":\"pi");		/* half a request, then nothing */
	vn_server_step(&fx->srv, 10);
	assert_int_equal(fx->srv.nconns, 1);

	/* a second client is served at once, the stalled one still open */
	t0 = vn_mono_ms();
	quick = client(fx, "{\"cmd\":\"ping\"}\n");
	assert_true(answer(fx, quick, 1000, buf, sizeof(buf)) > 0);
	assert_true(vn_mono_ms() - t0 < 500);	/* well before the deadline */
	assert_non_null(strstr(buf, "\"ok\":true"));
	assert_non_null(strstr(buf, "ping"));
	assert_int_equal(fx->served, 1);
	assert_int_equal(fx->srv.nconns, 1);
	close(quick);

	/* a request in pieces is fine, as long as it ends before the deadline */
	more = client(fx, "{\"cmd\":");
	vn_server_step(&fx->srv, 10);
	assert_int_equal(write(more, "\"x\"}\n", 5), 5);
	assert_true(answer(fx, more, 1000, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "x"));
	close(more);

	/* the stalled one is dropped at its deadline (1000 ms), and logged */
	assert_int_equal(answer(fx, stalled, 3000, buf, sizeof(buf)), 0);	/* EOF */
	assert_true(vn_mono_ms() - t0 >= 900);
	assert_int_equal(fx->dropped, 1);
	assert_non_null(strstr(fx->last, "dropped test client fd"));
	assert_non_null(strstr(fx->last, "within 1000 ms"));
	assert_int_equal(fx->srv.nconns, 0);
	assert_int_equal(fx->served, 2);
	close(stalled);
}

static void conn_cap(void **state)
{
	struct fx *fx = *state;
	char buf[256];
	int fds[3], i;

	start(fx, 2, 2000);
	for (i = 0; i < 2; i++) {
		fds[i] = client(fx, "{");
		vn_server_step(&fx->srv, 10);
	}
	assert_int_equal(fx->srv.nconns, 2);
	fds[2] = client(fx, NULL);
	assert_true(answer(fx, fds[2], 1000, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"ok\":false"));
	assert_non_null(strstr(buf, "too many connections (2)"));
	assert_int_equal(fx->srv.nconns, 2);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	/* closed clients free their slots: a new one is served */
	for (i = 0; i < 5 && fx->srv.nconns; i++)
		vn_server_step(&fx->srv, 10);
	assert_int_equal(fx->srv.nconns, 0);
	fds[0] = client(fx, "{\"cmd\":\"ping\"}\n");
	assert_true(answer(fx, fds[0], 1000, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"ok\":true"));
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(slowloris, setup, teardown),
		cmocka_unit_test_setup_teardown(conn_cap, setup, teardown),
	};

	return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
