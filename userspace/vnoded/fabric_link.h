/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fabric links as cluster state (fabric_link.c): one per remote host
 * (memory or storage), keyed by the host's address, in the `fabric_links`
 * table (schema v7) and as vnode_xprt's configfs link named after that
 * address.  Set by `vnodectl component set` (root), by `vnodectl vnode
 * create --fabric` on the hosts a new vNode uses, removed by `component
 * set --clear` and when the last component at the address is deleted
 * (by the deleting vnoded at once, by every other process host's at its
 * next reconcile), and put back by reconciliation (which also computes a
 * preset's delay once the link has measured the wire).  The presets and the floor rule
 * are fabric.h's.
 */
#ifndef VN_FABRIC_LINK_H
#define VN_FABRIC_LINK_H

#include "fabric.h"
#include "vnoded.h"

/* `vnodectl component set NAME ...`: what is given (has_*), raw. */
struct vn_fabric_req {
	bool clear;
	const char *preset;		/* --fabric, NULL = none */
	bool has_delay, has_per_kib, has_jitter, has_read, has_write;
	uint64_t delay_ns, per_kib_ns, jitter_ns, read_bps, write_bps;
	const char *jitter_dist;	/* NULL/"" = uniform */
	const char *read_opt, *write_opt;	/* named in errors: "--bw", NULL =
						 * "--read-bw", "--write-bw" */
};

/* fabric.list: the presets vnoded knows. */
int vn_fabric_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err);

/*
 * component.set: change (or with clear, remove) the link of component
 * name's host.  Everything is checked before anything changes; the answer
 * is the component as `component show` gives it, with "warnings" (a
 * preset below the floor, a floor not known yet, a value rounded to the
 * kernel's units).
 */
int vn_fabric_set_comp(struct vn_ctx *ctx, const char *name,
		       const struct vn_fabric_req *rq, json_object **out,
		       struct vn_err *err);

/* component show/list: comp (a components row) gets "fabric", its host's
 * link (with the link's stats when detail), if it has one. */
void vn_fabric_show(struct vn_ctx *ctx, json_object *comp, bool detail);

/*
 * vnode create --fabric PRESET on every host the vNode uses, in the steps
 * of vnode create: prepare (the preset) and add (each host; a host whose
 * link was set otherwise is refused, naming both) change nothing; setup
 * makes the missing links, commit records them (inside the create's
 * transaction), unwind removes what setup made.
 */
struct vn_fabric_vnode {
	const struct vn_fabric_preset *preset;	/* NULL: no --fabric */
	int n;
	struct {
		char comp[32];
		char addr[64];
		bool is_new;	/* no link yet: setup makes it */
		bool made;
		uint64_t floor_ns;
		const char *floor_src;
	} h[16];
	json_object *warnings;	/* the caller's, may be NULL */
};

int vn_fabric_vnode_prepare(struct vn_ctx *ctx, const char *preset,
			    struct vn_fabric_vnode *fv, struct vn_err *err);
int vn_fabric_vnode_add(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			const char *comp, const char *addr, struct vn_err *err);
int vn_fabric_vnode_setup(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			  struct vn_err *err);
int vn_fabric_vnode_commit(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			   struct vn_err *err);
void vn_fabric_vnode_unwind(struct vn_ctx *ctx, struct vn_fabric_vnode *fv);

/*
 * A component at addr is being deleted (inside the caller's transaction,
 * after its row is gone): if no other component is at that host, its
 * link's row goes too and *gone is set; vn_fabric_forget_link() then
 * removes the kernel's link, after the commit.
 */
int vn_fabric_forget(struct vn_ctx *ctx, const char *addr, const char *why,
		     bool *gone, struct vn_err *err);
void vn_fabric_forget_link(struct vn_ctx *ctx, const char *addr);

/* Reconcile: every stored link in the kernel as stored; a preset's delay
 * computed again once the wire time is measured; a link whose host has no
 * component any more (deleted on another process host) removed, row and
 * kernel link, as `component set --clear` does (event fabric.clear).
 * Returns the number of links it could not set or remove. */
int vn_fabric_reconcile(struct vn_ctx *ctx);

#endif /* VN_FABRIC_LINK_H */
