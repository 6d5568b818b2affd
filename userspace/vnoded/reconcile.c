// SPDX-License-Identifier: GPL-2.0
/* Reconciliation, at start and every interval: make the kernel match the
 * database (cgroups, accounting objects, their prefetching and protection
 * profile, the swap disk, volumes, fabric links) and the memory hosts'
 * leases too, reap throw-away vNodes whose vnode-run is gone, and record
 * what the swap disk and the vNodes' protect counters report as events. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "evict.h"
#include "fabric_link.h"
#include "kern_ops.h"
#include "lease.h"
#include "volume.h"

static void set_state(struct vn_ctx *ctx, json_object *v, const char *state,
		      const char *why)
{
	if (!strcmp(vn_jstr(v, "state"), state))
		return;
	if (vn_db_vnode_set_state(ctx, vn_jint(v, "id"), state))
		return;
	json_object_object_add(v, "state", json_object_new_string(state));
	json_object_object_add(v, "reason", json_object_new_string(why));
	vn_event(ctx, "vnode.state", "vnode", vn_jstr(v, "name"), v, NULL);
}

/* ret, e: what setting an attribute of vNode name's accounting object
 * gave.  1 if it had to be set, 0, or -1 if it cannot be (the vNode runs
 * without; logged as "vNode NAME: cannot WHAT: why" once per cause, last,
 * not every interval). */
static int settled(struct vn_ctx *ctx, const char *name, int ret,
		   const struct vn_err *e, char *last, const char *what)
{
	if (ret > 0)
		last[0] = '\0';
	if (ret >= 0)
		return ret;
	if (strcmp(last, e->msg))
		ctx->log(LOG_ERR, "vNode %s: cannot %s: %s", name, what, e->msg);
	snprintf(last, VN_ERR_MAX, "%s", e->msg);
	return -1;
}

/* The vNode's prefetching and protection profile as its row says: the
 * fixes made added to *fixed; true if one cannot be made (settled()). */
static bool reconcile_attrs(struct vn_ctx *ctx, json_object *v, int *fixed)
{
	const char *name = vn_jstr(v, "name");
	enum vn_protect p = vn_vnode_protect(v);
	struct vn_err e = { "" };
	char what[64];
	int pf, pr;

	pf = settled(ctx, name, vn_acct_set_prefetch(&ctx->kern, name,
						     vn_jint(v, "prefetch") != 0, &e),
		     &e, ctx->prefetch_err, "turn its prefetching on");
	snprintf(what, sizeof(what), "set its protection profile to %s", vn_protect_name(p));
	pr = settled(ctx, name, vn_acct_set_protect(&ctx->kern, name, p, &e), &e,
		     ctx->protect_err, what);
	*fixed += (pf > 0) + (pr > 0);
	return pf < 0 || pr < 0;
}

static int reconcile_one(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	uint64_t cgid = 0, kid = 0;
	struct vn_err e = { "" };
	const char *cpus = vn_jstr(v, "cpus");
	int fixed = 0, ret;
	bool unset;

	if (!vn_cg_exists(&ctx->kern, name)) {
		/* its evictor holds the old cgroup's files: restarted below */
		vn_evict_stop(ctx, name);
		ret = vn_cg_create(&ctx->kern, name, &e);
		if (ret)
			goto bad;
		fixed++;
	}
	ret = vn_cg_set_limits(&ctx->kern, name, (uint64_t)vn_jint(v, "cache"),
			       (uint64_t)vn_jint(v, "quota"), cpus, &e);
	if (ret)
		goto bad;
	ret = vn_cg_id(&ctx->kern, name, &cgid);
	if (ret) {
		vn_seterr(&e, -ret, "cannot stat cgroup");
		goto bad;
	}
	if (!vn_acct_exists(&ctx->kern, name) ||
	    vn_acct_get_cgid(&ctx->kern, name, &kid) || kid != cgid) {
		ret = vn_acct_create(&ctx->kern, name, cgid, &e);
		if (ret)
			goto bad;
		fixed++;
	}
	unset = reconcile_attrs(ctx, v, &fixed);
	if ((int64_t)cgid != vn_jint(v, "cgroup_id")) {
		vn_db_vnode_set_cgid(ctx, vn_jint(v, "id"), cgid);
		json_object_object_add(v, "cgroup_id", json_object_new_int64((int64_t)cgid));
		fixed++;
	}
	if (fixed) {
		ctx->log(LOG_NOTICE, "vNode %s: restored kernel state (%d fix(es))",
			 name, fixed);
		vn_event(ctx, "vnode.reconcile", "vnode", name, v, NULL);
	}
	set_state(ctx, v, "active", "reconciled");
	vn_vnode_evict(ctx, v);
	return unset;
bad:
	ctx->log(LOG_ERR, "vNode %s: cannot restore kernel state: %s", name, e.msg);
	set_state(ctx, v, "broken", e.msg);
	return 1;
}

static void disk_event(struct vn_ctx *ctx, const char *type,
		       const char *dev, const char *host, const char *from,
		       const char *to, const struct vn_disk_info *di)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "dev", json_object_new_string(dev));
	if (host)
		json_object_object_add(d, "host", json_object_new_string(host));
	json_object_object_add(d, "from", json_object_new_string(from));
	json_object_object_add(d, "to", json_object_new_string(to));
	json_object_object_add(d, "slabs_at_risk", json_object_new_uint64(di->at_risk));
	vn_event(ctx, type, "disk", ctx->cluster.disk, d, NULL);
	json_object_put(d);
}

/*
 * The swap disk's health as events, from what vnode_proc shows: a memory
 * host lost (DEAD) or back (rejoined), and the disk's state (live,
 * healing, degraded, down): healing started, redundancy restored.
 */
static void watch_disk(struct vn_ctx *ctx)
{
	struct vn_disk_host h[VN_DISK_MAX_HOSTS];
	struct vn_disk_info di;
	int n, i;

	if (vn_disk_info(&ctx->kern, ctx->cluster.disk, &di) || !di.enabled ||
	    !di.dev[0]) {
		ctx->disk_state[0] = '\0';
		memset(ctx->host_state, 0, sizeof(ctx->host_state));
		return;
	}
	n = vn_disk_hosts(&ctx->kern, di.dev, h, VN_DISK_MAX_HOSTS);
	for (i = 0; i < n; i++) {
		char *old = ctx->host_state[i];

		if (old[0] && !strcmp(ctx->host_addr[i], h[i].addr) &&
		    strcmp(old, h[i].state)) {
			if (!strcmp(h[i].state, "DEAD")) {
				ctx->log(LOG_WARNING, "swap disk %s: memory host %s lost",
					 di.dev, h[i].addr);
				disk_event(ctx, "disk.host_lost", di.dev, h[i].addr,
					   old, h[i].state, &di);
			} else if (!strcmp(old, "DEAD") &&
				   !strcmp(h[i].state, "LIVE")) {
				ctx->log(LOG_NOTICE, "swap disk %s: memory host %s rejoined",
					 di.dev, h[i].addr);
				disk_event(ctx, "disk.host_rejoined", di.dev,
					   h[i].addr, old, h[i].state, &di);
			}
		}
		snprintf(ctx->host_addr[i], sizeof(ctx->host_addr[i]), "%.63s", h[i].addr);
		snprintf(old, sizeof(ctx->host_state[i]), "%.15s", h[i].state);
	}
	if (ctx->disk_state[0] && strcmp(ctx->disk_state, di.state)) {
		ctx->log(!strcmp(di.state, "live") ? LOG_NOTICE : LOG_WARNING,
			 "swap disk %s: %s -> %s (%llu slabs with too few copies)",
			 di.dev, ctx->disk_state, di.state,
			 (unsigned long long)di.at_risk);
		disk_event(ctx, "disk.state", di.dev, NULL, ctx->disk_state,
			   di.state, &di);
	}
	snprintf(ctx->disk_state, sizeof(ctx->disk_state), "%s", di.state);
}

/*
 * The growth of vNode v's protect counters (vnode_proc's protect_errors:
 * pages whose check failed on a copy, served from another; protect_failed:
 * swap-ins no copy of which passed, SIGBUS) as events vnode.protect_error
 * and vnode.protect_failed (detail: counter, increase, total, protect,
 * message) and in the log.  What was counted before is the total of the
 * vNode's last such event, so a restarted vnoded misses nothing; a counter
 * below it (the accounting object made again) counts from 0.
 */
static void watch_protect(struct vn_ctx *ctx, json_object *v)
{
	static const char *const attrs[] = { "protect_errors", "protect_failed" };
	static const char *const types[] = { "vnode.protect_error", "vnode.protect_failed" };
	const char *name = vn_jstr(v, "name");
	enum vn_protect p = vn_vnode_protect(v);
	const char *check = p == VN_PROTECT_NONE ? "integrity" : vn_protect_name(p);
	uint64_t total, last, n;
	json_object *d;
	char msg[256];
	int i;

	for (i = 0; i < 2; i++) {
		total = vn_kitem_u64(&ctx->kern, VN_CFS "/vnodes", name, attrs[i]);
		if (!total)
			continue;
		last = (uint64_t)vn_db_vnode_event_total(ctx, name, types[i]);
		if (total == last)
			continue;
		n = total > last ? total - last : total;
		if (!i)
			snprintf(msg, sizeof(msg),
				 "vnode %s: %" PRIu64 " %s failed %s %s check on a copy (served from another copy)",
				 name, n, n == 1 ? "page" : "pages", n == 1 ? "its" : "their", check);
		else
			snprintf(msg, sizeof(msg),
				 "vnode %s: %" PRIu64 " swap-in%s failed: no copy passed its %s check (SIGBUS)",
				 name, n, n == 1 ? "" : "s", check);
		ctx->log(i ? LOG_ERR : LOG_WARNING, "%s", msg);
		d = json_object_new_object();
		json_object_object_add(d, "counter", json_object_new_string(attrs[i]));
		json_object_object_add(d, "increase", json_object_new_uint64(n));
		json_object_object_add(d, "total", json_object_new_uint64(total));
		json_object_object_add(d, "protect", json_object_new_string(vn_protect_name(p)));
		json_object_object_add(d, "message", json_object_new_string(msg));
		vn_event(ctx, types[i], "vnode", name, d, NULL);
		json_object_put(d);
	}
}

int vn_reconcile(struct vn_ctx *ctx, bool reap)
{
	struct vn_host hosts[VN_MAX_COMPONENTS];
	struct vn_disk_info di;
	json_object *rows;
	int bad = 0, nh;
	size_t i, n;

	/* PostgreSQL away: tried again every pass; the vNodes run on, none
	 * is touched without the database */
	if (vn_db_reach(ctx, NULL))
		return 1;
	watch_disk(ctx);
	vn_drain_progress(ctx);
	if (vn_db_vnode_list(ctx, &rows, NULL))
		return 1;
	n = json_object_array_length(rows);
	if (vn_db_quota_total(ctx) > 0 && !vn_disk_info(&ctx->kern, ctx->cluster.disk, &di) &&
	    !(di.enabled && di.swap_active)) {
		struct vn_err e = { "" };

		nh = vn_load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, &e);
		if (nh < 0 || vn_ensure_disk(ctx, &di, hosts, nh, &e)) {
			ctx->log(LOG_ERR, "cannot restore the remote-memory swap disk: %s",
				 e.msg);
			bad++;
		}
	}
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(rows, i);

		if (reap && vn_jint(v, "ephemeral")) {
			pid_t cp = (pid_t)vn_jint(v, "creator_pid");
			bool alive = cp > 0 && (!kill(cp, 0) || errno == EPERM);

			if (!alive && vn_cg_nprocs(&ctx->kern, vn_jstr(v, "name")) <= 0) {
				struct vn_err e;

				if (!vn_vnode_teardown(ctx, v, false, false,
						    "throw-away vNode whose vnode-run is gone", &e))
					continue;
			}
		}
		bad += reconcile_one(ctx, v);
		watch_protect(ctx, v);
	}
	json_object_put(rows);
	return bad + vn_volume_reconcile(ctx) + vn_fabric_reconcile(ctx) +
	       vn_lease_reconcile(ctx);
}
