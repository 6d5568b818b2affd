/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Asynchronous eviction (docs/remote-memory.md, "Eviction off the fault
 * path"): a thread per vNode keeps the vNode's memory cgroup `headroom`
 * bytes below its ExCache limit (memory.max) by writing the cgroup's
 * memory.reclaim ahead of demand, so a faulting task finds a free page
 * instead of reclaiming (and writing back) itself.  The headroom is fixed,
 * or "auto": it follows the demand (20 ms of it) and doubles whenever the
 * kernel still had to reclaim directly (memory.events "max"), decaying by
 * 1/8 per 100 ms window without (the feedback of Hermit, NSDI'23).
 *
 * The controller (vn_evict_want, vn_evict_adapt) is pure, for the unit
 * tests; the threads run only on the real kernel.  `vnoded --evict DIR`
 * runs one in the foreground for a cgroup vnoded does not manage (bench).
 */
#ifndef VN_EVICT_H
#define VN_EVICT_H

#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

#define VN_HEADROOM_AUTO	(-1)	/* setting: adapt */
#define VN_HEADROOM_OFF		0	/* setting: synchronous, as the kernel does */
#define VN_EVICT_WINDOW_MS	100	/* auto: one adaptation per window */
#define VN_EVICT_CHUNK		(1ULL << 20)	/* at most per memory.reclaim write */

/* "auto", "off" (or "0"), or a size ("8M"); *out as above. */
int vn_headroom_parse(const char *s, int64_t *out, struct vn_err *err);
/* The setting as text: "auto", "off" or a size. */
void vn_headroom_fmt(int64_t setting, char *buf, size_t len);

struct vn_evict_ctl {
	int64_t setting;	/* VN_HEADROOM_AUTO, _OFF or bytes */
	uint64_t headroom;	/* the free bytes it keeps now */
};

/* (Re)start the controller for a cgroup limited to `limit` bytes. */
void vn_evict_init(struct vn_evict_ctl *c, int64_t setting, uint64_t limit);
/* Bytes to reclaim now, given the limit and the usage (0: enough free). */
uint64_t vn_evict_want(const struct vn_evict_ctl *c, uint64_t limit,
		       uint64_t usage);
/* End of a window of `ms`: `alloc` bytes were charged in it and the
 * kernel reclaimed directly `direct` times.  Auto adapts the headroom;
 * a fixed one only follows the limit. */
void vn_evict_adapt(struct vn_evict_ctl *c, uint64_t limit, uint64_t alloc,
		    uint64_t ms, uint64_t direct);

/* ---- the threads (vnoded) ------------------------------------------------ */

struct vn_ctx;

/* Run, retune (setting) or stop (VN_HEADROOM_OFF) the evictor of vNode
 * `name` (its cgroup).  On the fake kernel only the setting is kept. */
int vn_evict_set(struct vn_ctx *ctx, const char *name, int64_t setting,
		 struct vn_err *err);
void vn_evict_stop(struct vn_ctx *ctx, const char *name);
void vn_evict_stop_all(struct vn_ctx *ctx);
/* Add the vNode's eviction figures to v: headroom (the setting),
 * headroom_now (bytes), evicted (bytes the evictor reclaimed) and
 * direct_reclaim (memory.events "max" of its cgroup: the times a task
 * still reclaimed itself). */
void vn_evict_report(struct vn_ctx *ctx, const char *name, json_object *v);

/* vnoded --evict: one evictor on cgdir until SIGINT/SIGTERM; prints its
 * figures at the end.  Returns the exit code. */
int vn_evict_foreground(const char *cgdir, int64_t setting);

#endif /* VN_EVICT_H */
