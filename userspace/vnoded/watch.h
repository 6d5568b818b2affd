/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnodectl monitor: clients that watch the event log as it grows.
 *
 * A client sends {"cmd":"events.watch"} (root or the socket's group, as
 * for sql: events name vNodes and their owners) and gets {"ok":true,
 * "data":{"since":ID}}; the connection then stays open and carries every
 * event appended after ID, one JSON object per line, as the events table
 * has it: {"id","ts_ms","type","object","name","detail"}.  vnoded flushes
 * after each request and each reconcile (the only places events come
 * from), without blocking: a watcher whose socket is full is dropped and
 * logged, so a stalled client never delays the daemon.  At most
 * VN_WATCH_MAX watchers; they do not count against the request slots.
 */
#ifndef VN_WATCH_H
#define VN_WATCH_H

#include <poll.h>
#include <stdint.h>

#define VN_WATCH_MAX	16

struct vn_ctx;
struct vn_err;

struct vn_watchers {
	int n;
	int fd[VN_WATCH_MAX];
	int64_t since[VN_WATCH_MAX];	/* the last event id sent */
	int64_t pending;		/* events.watch answered: its since, or -1 */
};

void vn_watch_init(struct vn_watchers *w);
void vn_watch_fini(struct vn_watchers *w);
/* events.watch: check the caller may, note the request (ctx->watch.pending)
 * and answer {"since": the last event id}; serve then hands the
 * connection to vn_watch_adopt. */
int vn_watch_request(struct vn_ctx *ctx, json_object **data, struct vn_err *err);
/* Keep (a duplicate of) fd as a watcher if a watch was just answered. */
void vn_watch_adopt(struct vn_ctx *ctx, int fd);
/* poll(): one entry per watcher, for its hang-up. */
int vn_watch_pollfds(const struct vn_watchers *w, struct pollfd *p);
void vn_watch_events(struct vn_ctx *ctx, const struct pollfd *p, int n);
/* Send every watcher the events after its last one. */
void vn_watch_flush(struct vn_ctx *ctx);

#endif /* VN_WATCH_H */
