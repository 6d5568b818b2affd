/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement (placement.c): which memory hosts hold a vNode's remote
 * quota, and the one shared remote-memory swap disk those hosts back.
 * Used by vNode create (vnode.c) and reconciliation (reconcile.c).
 */
#ifndef VN_PLACEMENT_H
#define VN_PLACEMENT_H

#include "vnoded.h"

#define MIB (1ULL << 20)

/* A memory host as placement sees it. */
struct vn_host {
	int64_t id;
	char name[32];
	char addr[VN_ADDR_MAX + 8];
	bool up;
	bool in_disk;
	bool gone;		/* in the disk, which gave up on it (DEAD) */
	bool draining;		/* being drained or drained: no new reservation */
	int slab_shift;
	uint64_t capacity, used, reserved, free, take;
	char err[128];
};

/* What a probed host has free: capacity - committed, the host's own view
 * (1.4, ours included); before 1.4 capacity - max(reserved, used), with
 * reserved our own bookkeeping there (0 for a storage host). */
uint64_t vn_probe_free(const struct vn_probe_result *r, uint64_t reserved);
/* Probe memory hosts and fill hosts[] (free: vn_probe_free());
 * returns how many, or -errno.  A host being drained is never in_disk. */
int vn_load_hosts(struct vn_ctx *ctx, const struct vn_disk_info *di,
		  struct vn_host *hosts, int max, struct vn_err *err);
/*
 * r copies of quota bytes, each slab's copies on distinct hosts: host h
 * can hold at most min(free_h, quota).  Feasible iff the sum of those is
 * >= r * quota; then filling hosts in order of free space never gets
 * stuck.  Sets hosts[i].take; *avail = what could be placed.
 */
/*
 * Inside the transaction that records the placement: the reservations on
 * each host it takes from, read again.  Grown since vn_load_hosts() (other
 * process hosts placed vNodes meanwhile, one PostgreSQL database) by more
 * than the placement left free there: -ENOSPC.  Under SERIALIZABLE this
 * read is what makes two process hosts placing at once conflict: one of
 * them fails with -EAGAIN and runs the transaction again.
 */
int vn_place_check(struct vn_ctx *ctx, const struct vn_host *hosts, int nh,
		   const char *name, struct vn_err *err);
int vn_place(struct vn_host *hosts, int nh, uint64_t quota, int r,
	     uint64_t *avail);
/* "m1 200M free, m2 down, ..." for error messages. */
void vn_hosts_summary(const struct vn_host *hosts, int nh, char *buf,
		      size_t len);
/* The shared swap disk exists, is enabled and swapped on (set up from
 * hosts[] if it is not). */
int vn_ensure_disk(struct vn_ctx *ctx, struct vn_disk_info *di,
		   const struct vn_host *hosts, int nh, struct vn_err *err);

/* Host line "addr:port" of the swap disk's hosts; NULL if none. */
const struct vn_disk_host *vn_disk_host_find(const struct vn_disk_host *h,
					     int n, const char *addr);
/*
 * Move every reservation held on comp (drain): each vNode's bytes there
 * go to the other hosts (at most its quota on any one), most free first.
 * Changes only the db (the caller's transaction); -ENOSPC with the reason
 * if they do not fit.
 */
int vn_place_move(struct vn_ctx *ctx, int64_t comp, struct vn_host *hosts,
		  int nh, struct vn_err *err);

#endif /* VN_PLACEMENT_H */
