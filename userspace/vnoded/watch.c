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

/* All hosts: rows per read, reads per flush, and the ids below the last
 * one that a new reading waits for as gaps (in flight at its start). */
#define PAGE	256
#define PAGES	16
#define BACK	64
#define STR_(x)	#x
#define STR(x)	STR_(x)

void vn_watch_init(struct vn_watchers *w)
{
	memset(w, 0, sizeof(*w));
	w->pending = -1;
	w->top = -1;
}

void vn_watch_fini(struct vn_watchers *w)
{
	while (w->n)
		close(w->fd[--w->n]);
	w->pending = -1;
	w->top = -1;
	w->ngaps = 0;
}

static void drop(struct vn_watchers *w, int i)
{
	close(w->fd[i]);
	w->n--;
	w->fd[i] = w->fd[w->n];
	w->since[i] = w->since[w->n];
	w->all[i] = w->all[w->n];
}

static int nr_all(const struct vn_watchers *w)
{
	int i, n = 0;

	for (i = 0; i < w->n; i++)
		n += w->all[i];
	return n;
}

static bool read_all(struct vn_ctx *ctx, int64_t upto);

/* Ids lo..hi were skipped: wait for them (the oldest gap goes if full). */
static void gap_add(struct vn_ctx *ctx, int64_t lo, int64_t hi, int64_t until)
{
	struct vn_watchers *w = &ctx->watch;

	if (w->ngaps == VN_WATCH_GAPS) {
		wlog(ctx, LOG_DEBUG, "monitor: no longer waiting for events %lld..%lld",
		     (long long)w->gap[0].lo, (long long)w->gap[0].hi);
		memmove(w->gap, w->gap + 1, (size_t)--w->ngaps * sizeof(w->gap[0]));
	}
	w->gap[w->ngaps++] = (struct vn_watch_gap){ lo, hi, until };
}

/* Whether id was waited for (no longer: it came). */
static bool gap_fill(struct vn_watchers *w, int64_t id)
{
	struct vn_watch_gap *g;
	int k;

	for (k = 0; k < w->ngaps && w->gap[k].hi < id; k++)
		;
	if (k == w->ngaps || w->gap[k].lo > id)
		return false;
	g = &w->gap[k];
	if (g->lo == g->hi) {
		memmove(g, g + 1, (size_t)(--w->ngaps - k) * sizeof(*g));
	} else if (id == g->lo) {
		g->lo++;
	} else if (id == g->hi) {
		g->hi--;
	} else if (w->ngaps == VN_WATCH_GAPS) {
		g->lo = id + 1;		/* no room to split: the lower part goes */
	} else {
		memmove(g + 1, g, (size_t)(w->ngaps++ - k) * sizeof(*g));
		g[0].hi = id - 1;
		g[1].lo = id + 1;
	}
	return true;
}

int vn_watch_request(struct vn_ctx *ctx, bool all_hosts, json_object **data,
		     struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };
	struct vn_watchers *w = &ctx->watch;
	json_object *o = NULL;
	int64_t id;
	int ret;

	if (w->n >= VN_WATCH_MAX)
		return vn_seterr(err, EBUSY, "too many monitors (%d) already watch the events",
				 VN_WATCH_MAX);
	/* this process host's events (one database may hold a cluster's),
	 * or every host's */
	ret = vn_q_one(ctx, all_hosts ? "SELECT coalesce(max(id), 0) AS id FROM events" :
		       "SELECT coalesce(max(id), 0) AS id FROM events WHERE host = ?",
		       all_hosts ? NULL : b, &o, err);
	if (ret)
		return ret;
	id = vn_jint(o, "id");
	json_object_put(o);
	if (all_hosts && !nr_all(w)) {
		/* a new reading, from id; the ids of the last BACK not there
		 * yet (in flight) are its first gaps.  Nobody to send to yet. */
		w->top = id > BACK ? id - BACK : 0;
		w->ngaps = 0;
		if (!read_all(ctx, id) || w->top != id) {
			w->top = id;
			w->ngaps = 0;
		}
	}
	if (all_hosts)
		id = w->top;
	w->pending = id;
	w->pending_all = all_hosts;
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
	w->all[w->n] = w->pending_all;
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

int vn_watch_timeout(const struct vn_ctx *ctx, int ms)
{
	/* SQLite: this daemon is its only writer, its flushes are enough */
	if (!nr_all(&ctx->watch) || vsql_kind(ctx->db) != VSQL_PG)
		return ms;
	return ms < 0 || ms > VN_WATCH_TICK_MS ? VN_WATCH_TICK_MS : ms;
}

/* One event row as a line: {"id","ts_ms","type","object","name","detail"}
 * and, with_host, "host" (column 6). */
static char *event_line(struct vsql_st *st, bool with_host)
{
	json_object *o = json_object_new_object(), *detail;
	const char *d = vsql_column_text(st, 5);
	char *line;
	size_t len;

	json_object_object_add(o, "id", json_object_new_int64(vsql_column_int64(st, 0)));
	json_object_object_add(o, "ts_ms", json_object_new_int64(vsql_column_int64(st, 1)));
	for (int c = 2; c <= 4; c++)
		json_object_object_add(o, vsql_column_name(st, c),
				       vsql_column_type(st, c) == VSQL_NULL ? NULL :
				       json_object_new_string(vsql_column_text(st, c)));
	detail = d ? json_tokener_parse(d) : NULL;
	json_object_object_add(o, "detail", detail ? detail : json_object_new_object());
	if (with_host)
		json_object_object_add(o, "host", json_object_new_string(vsql_column_text(st, 6)));
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

/* line (event id) to watcher i: all or nothing, without waiting: a monitor
 * that does not keep up is dropped, not waited for (false) */
static bool send_line(struct vn_ctx *ctx, int i, const char *line, int64_t id)
{
	struct vn_watchers *w = &ctx->watch;
	size_t len = strlen(line);

	if (send(w->fd[i], line, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
		if (errno != EPIPE && errno != ECONNRESET)
			wlog(ctx, LOG_WARNING, "dropped a monitor that does not keep up (event %lld)",
			     (long long)id);
		drop(w, i);
		return false;
	}
	if (w->since[i] < id)
		w->since[i] = id;
	return true;
}

/* This host's events after each of its watchers' last one. */
static void flush_host(struct vn_ctx *ctx)
{
	struct vn_watchers *w = &ctx->watch;
	int64_t from = INT64_MAX, id;
	struct vsql_st *st;
	char *line;
	int i;

	for (i = 0; i < w->n; i++)
		if (!w->all[i] && w->since[i] < from)
			from = w->since[i];
	if (vsql_prepare(ctx->db,
			 "SELECT id, ts, type, object, name, detail FROM events WHERE id > ? "
			 "AND host = ? ORDER BY id", &st))
		return;
	vsql_bind_int64(st, 1, from);
	vsql_bind_text(st, 2, ctx->host);
	while (vsql_step(st) == VSQL_ROW) {
		id = vsql_column_int64(st, 0);
		line = event_line(st, false);
		if (!line)
			break;
		for (i = 0; i < w->n; i++)
			if (!w->all[i] && w->since[i] < id && !send_line(ctx, i, line, id))
				i--;
		free(line);
	}
	vsql_finalize(st);
}

/*
 * Every host's events not read yet, up to id upto, to the watchers of all
 * hosts: the rows after the lowest gap still waited for (else after the
 * last read); of those, the ones above it and the gaps' (late commits).
 * false: the query failed.
 */
static bool read_all(struct vn_ctx *ctx, int64_t upto)
{
	struct vn_watchers *w = &ctx->watch;
	int64_t now = vn_mono_ms(), from, id;
	struct vsql_st *st;
	int page, rows = PAGE, rc, i;
	char *line;

	/* by id, so by age: the oldest first */
	while (w->ngaps && w->gap[0].until_ms <= now)
		memmove(w->gap, w->gap + 1, (size_t)--w->ngaps * sizeof(w->gap[0]));
	from = w->ngaps ? w->gap[0].lo - 1 : w->top;
	for (page = 0; page < PAGES && rows == PAGE; page++) {
		if (vsql_prepare(ctx->db, "SELECT id, ts, type, object, name, detail, host "
				 "FROM events WHERE id > ? ORDER BY id LIMIT " STR(PAGE), &st))
			return false;
		vsql_bind_int64(st, 1, from);
		for (rows = 0; (rc = vsql_step(st)) == VSQL_ROW; rows++) {
			from = id = vsql_column_int64(st, 0);
			if (id > upto) {
				rows = 0;
				break;
			}
			if (id > w->top) {
				if (id > w->top + 1)
					gap_add(ctx, w->top + 1, id - 1, now + VN_WATCH_GAP_MS);
				w->top = id;
			} else if (!gap_fill(w, id)) {
				continue;	/* sent already */
			}
			line = event_line(st, true);
			if (!line)
				break;
			for (i = 0; i < w->n; i++)
				if (w->all[i] && !send_line(ctx, i, line, id))
					i--;
			free(line);
		}
		vsql_finalize(st);
		if (rc < 0)
			return false;
	}
	return true;
}

void vn_watch_flush(struct vn_ctx *ctx)
{
	struct vn_watchers *w = &ctx->watch;

	if (nr_all(w) < w->n)
		flush_host(ctx);
	if (nr_all(w)) {
		read_all(ctx, INT64_MAX);
	} else {
		/* nobody reads every host's: a next one starts afresh */
		w->top = -1;
		w->ngaps = 0;
	}
}
