/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded's logic, independent of the socket: the daemon context
 * (ctx.c), components (component.c), placement and the shared swap disk
 * (placement.c), the memory hosts' leases (lease.h), vNodes (vnode.c),
 * reconciliation (reconcile.c), volumes (volume.h) and the request
 * handlers (request.c).  Everything here takes
 * the daemon context (database + kernel interface + probe function) so
 * unit tests can run it against a fake sysroot and a fake probe.  Only
 * vnoded and the unit tests include this; the clients see lib/ only.
 */
#ifndef VN_VNODED_H
#define VN_VNODED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "conf.h"
#include "db.h"
#include "fabric.h"
#include "kern.h"
#include "probe.h"
#include "util.h"
#include "vsql.h"
#include "watch.h"

struct vn_ctx;
struct vn_evictor;
/* One request to the storage agent of a storage host (vnoded/agent.c);
 * takes ownership of args. */
typedef int (*vn_agent_fn)(struct vn_ctx *ctx, const char *addr,
			   const char *cmd, json_object *args,
			   json_object **data, struct vn_err *err);

/* What lease.c remembers between calls (reservations held by memory
 * hosts, protocol 1.4). */
struct vn_lease_state {
	bool started;		/* the first reconcile reserved every lease */
	bool ms_warned;		/* a lease time below two intervals, said */
	int nr_old;		/* memory hosts before 1.4, said */
	int64_t old[VN_MAX_COMPONENTS];
	json_object *event;	/* a refusal inside a transaction: recorded
				 * by vn_lease_flush() once it is over */
};

struct vn_ctx {
	struct vsql *db;
	char dbpath[PATH_MAX];	/* the state database: a path, or PostgreSQL's URI */
	/* this process host's name in the state database (the host column
	 * of its rows): the kernel's identity when vnoded started */
	char host[64];
	bool db_lost;		/* PostgreSQL: the connection is lost, said */
	struct vn_kern kern;
	struct vn_cluster cluster;
	vn_probe_fn probe;
	vn_agent_fn agent;
	char fake_peer[64];	/* fake kernel: our address as agents see it */
	int detach_timeout_ms;	/* a volume still mounted by dying processes */
	int kill_timeout_ms;
	int reply_fd;		/* descriptor a request passes back, -1 */
	const char *group;	/* the socket's group (messages), NULL = vnode */
	struct vn_sql_limits sql_limits;	/* `vnodectl sql` */
	struct vn_watchers watch;	/* `vnodectl monitor` */
	/* the swap disk's health when reconcile last looked (events) */
	char disk_state[32];
	char host_state[8][16];
	char host_addr[8][64];
	struct vn_evictor *evictors;	/* evict.c: one per vNode */
	/* fabric presets (fabric.h): the built-in ones until vnoded loads
	 * its files; fabric_link.c's last reconcile error (logged once) */
	struct vn_fabric_presets *presets;
	char fabric_err[VN_ERR_MAX];
	/* links a component delete could not remove from the kernel:
	 * reconcile tries again (fabric_link.c) */
	char fabric_unlink[8][64];
	int nr_fabric_unlink;
	/* reconcile's last error setting a vNode's prefetching and its
	 * protection profile (each logged once) */
	char prefetch_err[VN_ERR_MAX];
	char protect_err[VN_ERR_MAX];
	int interval_ms;	/* reconcile's (vnoded --interval) */
	struct vn_lease_state leases;
	void (*log)(int prio, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

struct vn_vnode_req {
	char name[32];
	uint64_t mem;		/* total memory the vNode sees */
	uint64_t cache;		/* local ExCache = memory.max */
	int replicas;		/* 0 = cluster setting */
	char cpus[128];		/* "" = all */
	char owner[64];		/* user name or uid, "" = the caller */
	bool ephemeral;		/* vnode-run --mem: destroyed after the run */
	pid_t creator_pid;
	/* storage: a new volume (storage > 0) or an existing one (volume) */
	uint64_t storage;	/* bytes, 0 = no new volume */
	char volume[32];	/* volume name; "" = the vNode's name */
	char stor_host[32];	/* storage component; "" = the only one */
	char mountpoint[256];	/* "" = /vnode */
	bool keep_storage;	/* destroy keeps the volume */
	bool has_storage_protect;	/* else a new volume gets the cluster's */
	enum vn_vol_protect storage_protect;	/* volume profile (volume.h) */
	bool has_headroom;	/* else the cluster's (evict.h) */
	int64_t headroom;
	char fabric[32];	/* a preset for the hosts it uses; "" = none */
	bool prefetch;		/* its swap-ins are prefetched (vnode_proc) */
	bool has_protect;	/* else the cluster's (cluster.conf) */
	enum vn_protect protect;	/* its memory protection profile */
};

/* vnode set: what to change (has_*) */
struct vn_vnode_set_req {
	bool has_headroom, has_prefetch, has_protect;
	int64_t headroom;
	bool prefetch;
	enum vn_protect protect;
};

/* Caller identity (SO_PEERCRED). */
struct vn_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool in_group;		/* member of the socket's group (primary or
				 * supplementary: SO_PEERGROUPS) */
};

/* Is `want` the primary gid or one of the n supplementary ones? */
bool vn_gid_member(gid_t want, gid_t primary, const gid_t *groups, int n);
/* Reading the cluster's state and history (`sql`, `events.watch`: what
 * names) is for root and members of the socket's group (`group`, for the
 * message) only: 0 or -EPERM with the reason. */
int vn_may_read(const struct vn_caller *who, const char *group, const char *what,
		struct vn_err *err);

int vn_ctx_init(struct vn_ctx *ctx, const char *dbpath, const char *sysroot,
		const struct vn_cluster *cluster, struct vn_err *err);
void vn_ctx_fini(struct vn_ctx *ctx);

/* components */
int vn_config_sync(struct vn_ctx *ctx, const struct vn_conf *conf,
		   struct vn_err *err);
int vn_component_add(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		     const char *source, bool probe, json_object **out,
		     struct vn_err *err);
int vn_component_remove(struct vn_ctx *ctx, const char *name,
			struct vn_err *err);
/* Drain (on) a memory host: move its reservations and, through the swap
 * disk, its slabs elsewhere; or cancel / take it back (!on). */
int vn_component_drain(struct vn_ctx *ctx, const char *name, bool on,
		       json_object **out, struct vn_err *err);
/* Mark finished drains (reconcile). */
void vn_drain_progress(struct vn_ctx *ctx);
int vn_component_list(struct vn_ctx *ctx, json_object **out,
		      struct vn_err *err);
int vn_component_show(struct vn_ctx *ctx, const char *name, bool probe,
		      json_object **out, struct vn_err *err);
/* Probe every memory host; records state in the db. */
int vn_probe_all(struct vn_ctx *ctx, struct vn_err *err);
/* Probe every memory and storage host, with the memory hosts' leases by
 * identity (cluster.show: lease.c). */
int vn_cluster_show(struct vn_ctx *ctx, json_object **out, struct vn_err *err);

/* vNodes */
int vn_vnode_create(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		    const struct vn_caller *who, json_object **out,
		    struct vn_err *err);
/* keep_storage: the vNode's volume is detached and kept (else deleted,
 * unless it was created with keep_storage or attached with --volume). */
int vn_vnode_destroy(struct vn_ctx *ctx, const char *name, bool force,
		     bool keep_storage, const struct vn_caller *who,
		     struct vn_err *err);
int vn_vnode_attach(struct vn_ctx *ctx, const char *name, pid_t pid,
		    const struct vn_caller *who, struct vn_err *err);
int vn_vnode_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err);
/* vnode set: the vNode's eviction headroom (evict.h), prefetching and
 * protection profile (written to its accounting object first, if it has
 * one: refused there, nothing changes) */
int vn_vnode_set(struct vn_ctx *ctx, const char *name,
		 const struct vn_vnode_set_req *rq, const struct vn_caller *who,
		 json_object **out, struct vn_err *err);
/* The headroom vNode row vn gets (its own, else the cluster's; off
 * without remote memory), and (re)starting its evictor with it. */
int64_t vn_vnode_headroom(struct vn_ctx *ctx, json_object *vn);
void vn_vnode_evict(struct vn_ctx *ctx, json_object *vn);
int vn_vnode_show(struct vn_ctx *ctx, const char *name, json_object **out,
		  struct vn_err *err);
/* vNode row v's protection profile (vnodes.protect) */
enum vn_protect vn_vnode_protect(json_object *v);
/* Counters of every vNode (for vnode top). */
int vn_vnode_stats(struct vn_ctx *ctx, json_object **out, struct vn_err *err);
int vn_disk_show(struct vn_ctx *ctx, json_object **out, struct vn_err *err);

/* On start and periodically: recreate missing cgroups/accounting objects,
 * fix cgroup ids, prefetching and protection profiles, re-enable swap,
 * reap dead throw-away vNodes; record the growth of the vNodes' protect
 * counters as events.  Returns
 * the number of problems it could not fix (each logged + in the events). */
int vn_reconcile(struct vn_ctx *ctx, bool reap);

/* Server: handle one request line (lib/ipc.h framing); returns the
 * response line (malloc'd).  A handler may leave a descriptor to pass in
 * ctx->reply_fd. */
char *vn_handle_request(struct vn_ctx *ctx, const char *line,
			const struct vn_caller *who);

/* ---- between the daemon's own files ----------------------------------- */

/* Probe addr:port as this process host (the hello's name: the kernel's
 * identity) and run the n lease ops there (component.c). */
int vn_probe_host(struct vn_ctx *ctx, const char *addr, int port,
		  struct vn_lease_op *ops, int n, struct vn_probe_result *r,
		  struct vn_err *err);
/* Probe one component row (storage hosts: nothing to do), with the n
 * lease ops, and record the result in the db (component.c). */
int vn_probe_comp(struct vn_ctx *ctx, json_object *comp,
		  struct vn_probe_result *r, struct vn_lease_op *ops, int n,
		  struct vn_err *err);
/* Tear a vNode down: kill (force), detach its volume, remove kernel
 * objects and the row (vnode.c; reconcile.c reaps with it). */
int vn_vnode_teardown(struct vn_ctx *ctx, json_object *vn, bool force,
		      bool keep_storage, const char *why, struct vn_err *err);
/* "" = the caller; a non-root caller can only name itself. */
int vn_resolve_owner(const char *owner, const struct vn_caller *who,
		     uid_t *uid, struct vn_err *err);
/* root or the vNode's owner */
int vn_check_perm(json_object *vn, const struct vn_caller *who,
		  const char *what, struct vn_err *err);

#endif /* VN_VNODED_H */
