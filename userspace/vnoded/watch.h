/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnodectl monitor: clients that watch the event log as it grows.
 *
 * A client sends {"cmd":"events.watch"} (root or the socket's group, as
 * for sql: events name vNodes and their owners) and gets {"ok":true,
 * "data":{"since":ID}}; the connection then stays open and carries every
 * event of this process host appended after ID, one JSON object per line,
 * as the events table has it: {"id","ts_ms","type","object","name",
 * "detail"}.  vnoded flushes after each request and each reconcile (the
 * only places this host's events come from), without blocking: a watcher
 * whose socket is full is dropped and logged, so a stalled client never
 * delays the daemon.  At most VN_WATCH_MAX watchers; they do not count
 * against the request slots.
 *
 * With "args":{"all_hosts":true} (vnodectl monitor --all-hosts) a watcher
 * gets every process host's events, each line with its "host" too.  The
 * other hosts' vnoded write theirs straight to the shared database, so
 * while such a watcher exists vnoded reads the table itself, at each flush
 * and at least every VN_WATCH_TICK_MS (vn_watch_timeout): one indexed
 * "id > ? ORDER BY id LIMIT" query, shared by all of them.  PostgreSQL's
 * ids come from a sequence and commit in any order (a transaction holding
 * id 7 may commit after the one holding 8): an id skipped when a higher
 * one was read (or missing among the last ids when a first such watcher
 * starts) is a gap, and the reads start at the lowest gap for
 * VN_WATCH_GAP_MS, so an event committed that late is still sent (after
 * the higher one); later than that it is missed (an id of a rolled-back
 * transaction never comes).  On SQLite (one host, one writer) it is the
 * same stream as without the flag, its lines naming the host.
 */
#ifndef VN_WATCH_H
#define VN_WATCH_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define VN_WATCH_MAX		16
#define VN_WATCH_TICK_MS	500	/* all hosts: read at least this often */
#define VN_WATCH_GAP_MS		5000	/* how long a skipped id is waited for */
#define VN_WATCH_GAPS		32	/* skipped id ranges waited for */

struct vn_ctx;
struct vn_err;

struct vn_watchers {
	int n;
	int fd[VN_WATCH_MAX];
	int64_t since[VN_WATCH_MAX];	/* the last event id sent */
	bool all[VN_WATCH_MAX];		/* every host's events */
	int64_t pending;		/* events.watch answered: its since, or -1 */
	bool pending_all;
	/* every host's events, read once for all such watchers: the highest
	 * id read (-1: none watches yet) and the ids below it not yet seen,
	 * by id (and so by age) */
	int64_t top;
	int ngaps;
	struct vn_watch_gap {
		int64_t lo, hi;		/* ids lo..hi */
		int64_t until_ms;	/* waited for until then (monotonic) */
	} gap[VN_WATCH_GAPS];
};

void vn_watch_init(struct vn_watchers *w);
void vn_watch_fini(struct vn_watchers *w);
/* events.watch (the caller may: request.c): note the request
 * (ctx->watch.pending) and answer {"since": the last event id, this
 * host's or, all_hosts, any host's}; serve then hands the connection to
 * vn_watch_adopt. */
int vn_watch_request(struct vn_ctx *ctx, bool all_hosts, json_object **data,
		     struct vn_err *err);
/* Keep (a duplicate of) fd as a watcher if a watch was just answered. */
void vn_watch_adopt(struct vn_ctx *ctx, int fd);
/* poll(): one entry per watcher, for its hang-up. */
int vn_watch_pollfds(const struct vn_watchers *w, struct pollfd *p);
void vn_watch_events(struct vn_ctx *ctx, const struct pollfd *p, int n);
/* poll()'s timeout ms, shortened to VN_WATCH_TICK_MS while a watcher of
 * every host's events needs the other hosts' (PostgreSQL). */
int vn_watch_timeout(const struct vn_ctx *ctx, int ms);
/* Send every watcher the events after its last one. */
void vn_watch_flush(struct vn_ctx *ctx);

#endif /* VN_WATCH_H */
