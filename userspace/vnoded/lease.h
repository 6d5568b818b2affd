/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reservations held by memory hosts (lease.c; protocol 1.4, "Reservations"
 * in modules/include/vnode/proto.h).  A memory host is the arbiter of its
 * capacity: a vNode's bytes on it are one lease of this process host's
 * identity (the kernel's, vn_kern_identity(): that of its memory disks),
 * named vn_lease_id() of the vNode's name.  create reserves them (all or
 * nothing), destroy releases them, a drain moves them, reconcile renews
 * them and reserves again what a host lost.  A host before 1.4 has none
 * (said once in the log): the local bookkeeping alone applies there.
 */
#ifndef VN_LEASE_H
#define VN_LEASE_H

#include "placement.h"

/* A vNode's lease id: FNV-1a (64 bits) of its name, never 0: stable
 * across restarts, unique among this process host's vNodes. */
uint64_t vn_lease_id(const char *name);
/* 0, or -EEXIST if an existing vNode has name's lease id. */
int vn_lease_id_free(struct vn_ctx *ctx, const char *name, struct vn_err *err);

/*
 * Reserve hosts[i].take bytes for vNode name on each host, all or
 * nothing: on a refusal what was reserved is released again and err says
 * "m1 (10.0.0.3:7470): cannot reserve 96M for vNode 'a': 64M available
 * (host full; quota 128M)" (-ENOSPC) or "... (quota of identity p1
 * reached: 128M)" (-EDQUOT); an event lease.refused is recorded.
 */
int vn_lease_reserve(struct vn_ctx *ctx, const char *name,
		     const struct vn_host *hosts, int nh, struct vn_err *err);
/* What vn_lease_reserve() reserved, released (a later step failed). */
void vn_lease_unreserve(struct vn_ctx *ctx, const char *name,
			const struct vn_host *hosts, int nh);
/* Release vNode name's leases on hosts (vn_db_vnode_hosts()' rows); a
 * host that cannot be reached is logged and its release kept in the
 * database (lease_releases), tried again by every reconcile, after a
 * restart too, until the host answers: the lease would not end on its
 * own, every RENEW renews it. */
void vn_lease_release(struct vn_ctx *ctx, const char *name, json_object *hosts);
/*
 * The leases of vnodes (rows with vnode_id and name) on memory host comp
 * (a component row) made what the database says: RESERVE their bytes
 * there, RELEASE where they have none.  0, or the first refusal (as
 * vn_lease_reserve()) or the host's probe error.
 */
int vn_lease_sync_host(struct vn_ctx *ctx, json_object *comp,
		       json_object *vnodes, struct vn_err *err);
/*
 * A drain moved the bytes of vnodes off memory host comp to hosts[] (the
 * current transaction): vn_lease_sync_host() on every other host that is
 * up.  After a rollback the same call puts the leases back.
 */
int vn_lease_move(struct vn_ctx *ctx, int64_t comp, json_object *vnodes,
		  const struct vn_host *hosts, int nh, struct vn_err *err);
/* A refusal's event kept while a transaction was open: recorded now. */
void vn_lease_flush(struct vn_ctx *ctx);
/*
 * Reconcile: retry the failed releases (lease_releases; a vNode of the
 * same name made since keeps its lease); one RENEW per memory host where this
 * process host holds leases (on the first pass after start, every lease
 * reserved again too: RESERVE is idempotent); a host that has fewer of
 * them or fewer bytes (it restarted, or they expired) gets them reserved
 * again (event lease.restore).  Returns the refusals (each logged, an
 * event lease.refused).
 */
int vn_lease_reconcile(struct vn_ctx *ctx);

#endif /* VN_LEASE_H */
