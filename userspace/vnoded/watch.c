// SPDX-License-Identifier: GPL-2.0
/* vnodectl monitor: watchers of the event log (watch.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "vnoded.h"

#define wlog(ctx, prio, ...) do { if ((ctx)->log) (ctx)->log(prio, __VA_ARGS__); } while (0)

void vn_watch_init(struct vn_watchers *w)
{
	memset(w, 0, sizeof(*w));
	w->pending = -1;
}

void vn_watch_fini(struct vn_watchers *w)
{
	while (w->n)
		close(w->fd[--w->n]);
	w->pending = -1;
}

static void drop(struct vn_watchers *w, int i)
{
	close(w->fd[i]);
	w->n--;
	w->fd[i] = w->fd[w->n];
	w->since[i] = w->since[w->n];
}

int vn_watch_request(struct vn_ctx *ctx, json_object **data, struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };
	json_object *o = NULL;
	int64_t id;
	int ret;

	if (ctx->watch.n >= VN_WATCH_MAX)
		return vn_seterr(err, EBUSY, "too many monitors (%d) already watch the events",
				 VN_WATCH_MAX);
	/* this process host's events (one database may hold a cluster's) */
	ret = vn_q_one(ctx, "SELECT coalesce(max(id), 0) AS id FROM events WHERE host = ?",
		       b, &o, err);
	if (ret)
		return ret;
	id = vn_jint(o, "id");
	json_object_put(o);
	ctx->watch.pending = id;
	*data = json_object_new_object();
	json_object_object_add(*data, "since", json_object_new_int64(id));
	return 0;
}

void vn_watch_adopt(struct vn_ctx *ctx, int fd)
{
	struct vn_watchers *w = &ctx->watch;
	int64_t since = w->pending;
	int nfd;

	w->pending = -1;
	if (since < 0)
		return;
	/* the server closes its own descriptor once the request is done */
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0 || fcntl(nfd, F_SETFL, O_NONBLOCK)) {
		wlog(ctx, LOG_WARNING, "cannot keep a monitor: %s", strerror(errno));
		if (nfd >= 0)
			close(nfd);
		return;
	}
	w->fd[w->n] = nfd;
	w->since[w->n] = since;
	w->n++;
}

int vn_watch_pollfds(const struct vn_watchers *w, struct pollfd *p)
{
	int i;

	/* only the hang-up (always reported): a client that shut down its
	 * side after the request still reads */
	for (i = 0; i < w->n; i++)
		p[i] = (struct pollfd){ .fd = w->fd[i], .events = 0 };
	return w->n;
}

void vn_watch_events(struct vn_ctx *ctx, const struct pollfd *p, int n)
{
	struct vn_watchers *w = &ctx->watch;
	int i, j;

	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLHUP | POLLERR | POLLNVAL)))
			continue;
		for (j = 0; j < w->n; j++)
			if (w->fd[j] == p[i].fd) {
				drop(w, j);
				break;
			}
	}
}

/* One event row as a line: {"id","ts_ms","type","object","name","detail"}. */
static char *event_line(struct vsql_st *st, int64_t *id)
{
	json_object *o = json_object_new_object(), *detail;
	const char *d = vsql_column_text(st, 5);
	char *line;
	size_t len;

	*id = vsql_column_int64(st, 0);
	json_object_object_add(o, "id", json_object_new_int64(*id));
	json_object_object_add(o, "ts_ms", json_object_new_int64(vsql_column_int64(st, 1)));
	for (int c = 2; c <= 4; c++)
		json_object_object_add(o, vsql_column_name(st, c),
				       vsql_column_type(st, c) == VSQL_NULL ? NULL :
				       json_object_new_string(vsql_column_text(st, c)));
	detail = d ? json_tokener_parse(d) : NULL;
	json_object_object_add(o, "detail", detail ? detail : json_object_new_object());
	d = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(d);
	line = malloc(len + 2);
	if (line) {
		memcpy(line, d, len);
		memcpy(line + len, "\n", 2);
	}
	json_object_put(o);
	return line;
}

void vn_watch_flush(struct vn_ctx *ctx)
{
	struct vn_watchers *w = &ctx->watch;
	int64_t from, id;
	struct vsql_st *st;
	char *line;
	int i;

	if (!w->n)
		return;
	from = w->since[0];
	for (i = 1; i < w->n; i++)
		if (w->since[i] < from)
			from = w->since[i];
	if (vsql_prepare(ctx->db,
			 "SELECT id, ts, type, object, name, detail FROM events WHERE id > ? "
			 "AND host = ? ORDER BY id", &st))
		return;
	vsql_bind_int64(st, 1, from);
	vsql_bind_text(st, 2, ctx->host);
	while (vsql_step(st) == VSQL_ROW) {
		line = event_line(st, &id);
		if (!line)
			break;
		for (i = 0; i < w->n; i++) {
			size_t len = strlen(line);

			if (w->since[i] >= id)
				continue;
			/* all or nothing, without waiting: a monitor that
			 * does not keep up is dropped, not waited for */
			if (send(w->fd[i], line, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
				if (errno != EPIPE && errno != ECONNRESET)
					wlog(ctx, LOG_WARNING, "dropped a monitor that does not keep up (event %lld)",
					     (long long)id);
				drop(w, i--);
				continue;
			}
			w->since[i] = id;
		}
		free(line);
	}
	vsql_finalize(st);
}
