// SPDX-License-Identifier: GPL-2.0
/* vNodes: create (validate, place, reserve, swap disk, cgroup, accounting
 * object, volume, fabric links, state), destroy, attach, list/show/stats,
 * the disk's view. */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "evict.h"
#include "fabric_link.h"
#include "lease.h"
#include "size.h"
#include "volume.h"

int vn_resolve_owner(const char *owner, const struct vn_caller *who,
			 uid_t *uid, struct vn_err *err)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (!owner || !*owner) {
		*uid = who->uid;
		return 0;
	}
	pw = getpwnam(owner);
	if (pw) {
		*uid = pw->pw_uid;
	} else {
		errno = 0;
		v = strtoul(owner, &end, 10);
		if (errno || *end || end == owner || v > 0x7fffffffUL)
			return vn_seterr(err, EINVAL, "unknown user '%s'", owner);
		*uid = (uid_t)v;
	}
	if (who->uid && *uid != who->uid)
		return vn_seterr(err, EPERM,
				 "only root can create a vNode owned by someone else");
	return 0;
}

int vn_check_perm(json_object *vn, const struct vn_caller *who,
		      const char *what, struct vn_err *err)
{
	if (!who->uid || (int64_t)who->uid == vn_jint(vn, "owner_uid"))
		return 0;
	return vn_seterr(err, EPERM, "permission denied: only root or the owner (uid %" PRId64
			 ") may %s vNode '%s'", vn_jint(vn, "owner_uid"), what,
			 vn_jstr(vn, "name"));
}

/* Attempts of the transaction that records a new vNode (PostgreSQL: a
 * serialization failure runs it again). */
#define VN_CREATE_TRIES	5

/* What vn_vnode_create() records, in one transaction: the placement
 * checked again against the reservations now, the vNode, its
 * reservations, volume, fabric links and event.  *row: the vNode. */
static int create_tx(struct vn_ctx *ctx, const struct vn_vnode_req *req, int replicas,
		     enum vn_protect prot, uid_t owner, uint64_t cgid,
		     const struct vn_host *hosts, int nh, const struct vn_vol_plan *vol,
		     struct vn_fabric_vnode *fv, json_object **row, struct vn_err *err)
{
	int64_t vid = 0;
	int i, ret;

	*row = NULL;
	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = vn_place_check(ctx, hosts, nh, req->name, err);
	if (!ret)
		ret = vn_db_vnode_insert(ctx, req, replicas, prot, owner, cgid, &vid, err);
	for (i = 0; i < nh && !ret; i++)
		if (hosts[i].take)
			ret = vn_db_alloc_insert(ctx, vid, hosts[i].id, hosts[i].take, err);
	if (!ret)
		ret = vn_volume_commit(ctx, vol, vid, req->name, err);
	if (!ret)
		ret = vn_fabric_vnode_commit(ctx, fv, err);
	if (!ret)
		ret = vn_vnode_show(ctx, req->name, row, err);
	if (!ret)
		ret = vn_event(ctx, "vnode.create", "vnode", req->name, *row, err);
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		json_object_put(*row);
		*row = NULL;
		vn_db_rollback(ctx->db);
	}
	return ret;
}

int vn_vnode_create(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		    const struct vn_caller *who, json_object **out,
		    struct vn_err *err)
{
	struct vn_host hosts[VN_MAX_COMPONENTS];
	struct vn_disk_info di = { 0 };
	char m[32], c[32], q[32], a[32], summary[512], other[64];
	json_object *row = NULL, *existing = NULL, *warnings = NULL;
	struct vn_fabric_vnode fv;
	struct vn_vol_plan vol;
	uint64_t quota, cgid = 0, avail;
	enum vn_protect prot = req->has_protect ? req->protect : ctx->cluster.protect;
	int replicas, nh = 0, i, ret;
	uid_t owner = 0;

	/* 1. validate */
	if (!vn_name_valid(req->name))
		return vn_seterr(err, EINVAL,
				 "invalid vNode name '%s' (letters, digits, _ . -; max 31, starts with a letter or digit)",
				 req->name);
	if (!req->mem)
		return vn_seterr(err, EINVAL, "--mem must be > 0");
	if (!req->cache)
		return vn_seterr(err, EINVAL, "--cache must be > 0");
	vn_fmt_size(req->mem, m, sizeof(m));
	vn_fmt_size(req->cache, c, sizeof(c));
	if (req->cache > req->mem)
		return vn_seterr(err, EINVAL, "--cache (%s) is larger than --mem (%s)", c, m);
	if (req->mem > (1ULL << 50))
		return vn_seterr(err, EINVAL, "mem %s is absurdly large", m);
	replicas = req->replicas ? req->replicas : ctx->cluster.replicas;
	if (replicas < 1 || replicas > 2)
		return vn_seterr(err, EINVAL, "--replicas must be 1 or 2");
	if (replicas > ctx->cluster.replicas)
		return vn_seterr(err, EINVAL,
				 "vNode asks for %d replicas but the shared swap disk keeps %d (swap is global in Linux: one disk, one replica count, set by 'replicas' in [cluster] of cluster.conf)",
				 replicas, ctx->cluster.replicas);
	/* the disk decides: a vNode asking for fewer copies still gets them */
	replicas = ctx->cluster.replicas;
	if (req->cpus[0] && !vn_cpus_valid(req->cpus))
		return vn_seterr(err, EINVAL, "invalid cpu list '%s' (e.g. 0-1,3)",
				 req->cpus);
	ret = vn_resolve_owner(req->owner, who, &owner, err);
	if (ret)
		return ret;
	if (!vn_get_vnode(ctx, req->name, &existing, NULL)) {
		json_object_put(existing);
		return vn_seterr(err, EEXIST, "vNode '%s' already exists", req->name);
	}
	if (vn_db_name_elsewhere(ctx, "vnodes", req->name, other, sizeof(other)))
		return vn_seterr(err, EEXIST,
				 "vNode '%s' already exists on process host '%s' (vNode names are unique in the cluster)",
				 req->name, other);
	ret = vn_lease_id_free(ctx, req->name, err);
	if (ret)
		return ret;
	ret = vn_volume_prepare(ctx, req, owner, who, &vol, err);
	if (!ret)
		ret = vn_fabric_vnode_prepare(ctx, req->fabric, &fv, err);
	if (ret)
		return ret;
	quota = req->mem - req->cache;
	vn_fmt_size(quota, q, sizeof(q));

	/* 2. capacity: probe the memory hosts, place the remote quota */
	if (quota) {
		ret = vn_disk_info(&ctx->kern, ctx->cluster.disk, &di);
		if (ret)
			return vn_seterr(err, -ret, "cannot read disk state");
		if (di.enabled && di.replicas && di.replicas < replicas)
			return vn_seterr(err, EINVAL,
					 "the swap disk %s keeps %d replica(s), cluster.conf asks for %d: recreate the disk (destroy every vNode, disable it)",
					 di.dev, di.replicas, replicas);
		/* the disk's pages are shared: no new promise of 2 copies
		 * while some of them have one */
		if (di.enabled && replicas > 1 && di.at_risk)
			return vn_seterr(err, EAGAIN,
					 "the swap disk %s is %s: %llu slab(s) have fewer than %d copies; vNode '%s' would share them. Try again once `vnodectl vnode show` of a vNode says redundancy live",
					 di.dev, di.state, (unsigned long long)di.at_risk,
					 replicas, req->name);
		nh = vn_load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, err);
		if (nh < 0)
			return nh;
		ret = vn_place(hosts, nh, quota, replicas, &avail);
		if (ret) {
			vn_hosts_summary(hosts, nh, summary, sizeof(summary));
			vn_fmt_size(avail & ~(MIB - 1), a, sizeof(a));
			if (replicas > 1)
				return vn_seterr(err, ENOSPC,
						 "not enough remote memory: vNode '%s' needs %d x %s on distinct memory hosts, only %s can be placed (%s)",
						 req->name, replicas, q, a, summary);
			return vn_seterr(err, ENOSPC,
					 "not enough remote memory: vNode '%s' needs %s, the memory hosts have %s available (%s)",
					 req->name, q, a, summary);
		}
		if (di.enabled && di.size &&
		    (uint64_t)vn_db_quota_total(ctx) + quota > di.size) {
			char ds[32];

			vn_fmt_size(di.size, ds, sizeof(ds));
			return vn_seterr(err, ENOSPC,
					 "not enough swap: the vNodes' remote quotas would exceed the %s swap disk /dev/%s",
					 ds, di.dev);
		}
	}
	/* --fabric: every host its pages may go to (the disk places them, the
	 * reservations are bookkeeping) and its volume's; nothing set yet */
	for (i = 0; i < nh && fv.preset; i++) {
		char host[VN_ADDR_MAX + 8], *colon;

		if (di.enabled ? !hosts[i].in_disk && !hosts[i].gone :
		    !hosts[i].up || hosts[i].draining)
			continue;
		snprintf(host, sizeof(host), "%s", hosts[i].addr);
		colon = strrchr(host, ':');	/* "addr:port" */
		if (colon)
			*colon = '\0';
		ret = vn_fabric_vnode_add(ctx, &fv, hosts[i].name, host, err);
		if (ret)
			return ret;
	}
	if (vol.active && (ret = vn_fabric_vnode_add(ctx, &fv, vol.comp_name, vol.host, err)))
		return ret;
	if (fv.preset && !fv.n)
		return vn_seterr(err, EINVAL,
				 "--fabric %s: vNode '%s' uses no memory or storage host (it has no remote memory and no volume)",
				 req->fabric, req->name);
	/* 3. the memory hosts' promise (protocol 1.4: each one is the arbiter
	 * of its capacity), all or nothing; the shared remote-memory swap disk */
	if (quota) {
		ret = vn_lease_reserve(ctx, req->name, hosts, nh, err);
		if (ret)
			return ret;
		ret = vn_ensure_disk(ctx, &di, hosts, nh, err);
		if (ret)
			goto out_lease;
	}

	/* 4. cgroup + 5. accounting object, unwound on failure */
	warnings = json_object_new_array();
	ret = vn_cg_create(&ctx->kern, req->name, err);
	if (ret)
		goto out_cg_made;
	ret = vn_cg_set_limits(&ctx->kern, req->name, req->cache, quota,
			       req->cpus, err);
	if (ret)
		goto out_cg;
	ret = vn_cg_id(&ctx->kern, req->name, &cgid);
	if (ret) {
		vn_seterr(err, -ret, "cannot stat the vNode's cgroup");
		goto out_cg;
	}
	ret = vn_acct_create(&ctx->kern, req->name, cgid, err);
	if (!ret)
		ret = vn_acct_set_prefetch(&ctx->kern, req->name, req->prefetch, err);
	if (ret >= 0)
		ret = vn_acct_set_protect(&ctx->kern, req->name, prot, err);
	if (ret < 0)
		goto out_acct;
	/* 5b. the volume: storage host, /dev/vnblkN, ext4 */
	ret = vn_volume_setup(ctx, &vol, err);
	if (ret)
		goto out_acct;
	/* 5c. the fabric links its hosts do not have yet */
	fv.warnings = warnings;
	ret = vn_fabric_vnode_setup(ctx, &fv, err);
	if (ret)
		goto out_vol;

	/* 6. state: a transaction that lost a race with another process
	 * host's (PostgreSQL) runs again, placement check included */
	for (i = 0; i < VN_CREATE_TRIES; i++) {
		ret = create_tx(ctx, req, replicas, prot, owner, cgid, hosts, nh, &vol, &fv,
				&row, err);
		if (ret != -EAGAIN)
			break;
	}
	if (ret == -EAGAIN) {
		struct vn_err e = *err;

		vn_seterr(err, EAGAIN,
			  "vNode '%s' not created: %d attempts to record it lost races with other process hosts (%s); try again",
			  req->name, VN_CREATE_TRIES, e.msg);
	}
	if (ret)
		goto out_fabric;
	ctx->log(LOG_INFO, "vNode %s created: mem %s cache %s remote %s x%d, cgroup id %" PRIu64 "%s%s%s",
		 req->name, m, c, q, replicas, cgid, req->prefetch ? ", prefetching" : "",
		 prot ? ", protect " : "", prot ? vn_protect_name(prot) : "");
	vn_vnode_evict(ctx, row);
	if (json_object_array_length(warnings))
		json_object_object_add(row, "warnings", json_object_get(warnings));
	json_object_put(warnings);
	if (out)
		*out = row;
	else
		json_object_put(row);
	return 0;

out_fabric:
	vn_fabric_vnode_unwind(ctx, &fv);
out_vol:
	vn_volume_unwind(ctx, &vol);
out_acct:
	vn_acct_remove(&ctx->kern, req->name, NULL);
out_cg:
	vn_cg_remove(&ctx->kern, req->name, NULL);
out_cg_made:
	json_object_put(warnings);
out_lease:
	vn_lease_unreserve(ctx, req->name, hosts, nh);
	return ret;
}

int vn_vnode_teardown(struct vn_ctx *ctx, json_object *vn, bool force,
		      bool keep_storage, const char *why, struct vn_err *err)
{
	const char *name = vn_jstr(vn, "name");
	json_object *vol = NULL, *hosts = NULL;
	int n, ret;

	n = vn_cg_nprocs(&ctx->kern, name);
	if (n > 0 && !force)
		return vn_seterr(err, EBUSY,
				 "vNode '%s' still runs %d process(es); stop them or use --force",
				 name, n);
	if (n > 0) {
		ret = vn_cg_kill(&ctx->kern, name, ctx->kill_timeout_ms, err);
		if (ret)
			return ret;
	}
	vn_evict_stop(ctx, name);
	/* its processes are gone: so are their mount namespaces */
	ret = vn_volume_detach_vnode(ctx, vn, &vol, err);
	if (!ret)
		ret = vn_acct_remove(&ctx->kern, name, err);
	if (!ret)
		ret = vn_cg_remove(&ctx->kern, name, err);
	if (!ret)
		ret = vn_db_vnode_hosts(ctx, vn_jint(vn, "id"), &hosts, err);
	if (!ret)
		ret = vn_db_begin(ctx->db, err);
	if (ret)
		goto out;
	ret = vn_volume_release(ctx, vol, keep_storage, err);
	if (!ret)
		ret = vn_db_vnode_delete(ctx, vn_jint(vn, "id"), err);
	if (!ret) {
		json_object_object_add(vn, "reason", json_object_new_string(why));
		ret = vn_event(ctx, "vnode.destroy", "vnode", name, vn, err);
	}
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		vn_db_rollback(ctx->db);
		goto out;
	}
	ctx->log(LOG_INFO, "vNode %s destroyed (%s)", name, why);
	vn_volume_finish(ctx, vol);
	vn_lease_release(ctx, name, hosts);
out:
	json_object_put(hosts);
	json_object_put(vol);
	return ret;
}

int vn_vnode_destroy(struct vn_ctx *ctx, const char *name, bool force,
		     bool keep_storage, const struct vn_caller *who,
		     struct vn_err *err)
{
	json_object *vn;
	int ret;

	ret = vn_get_vnode(ctx, name, &vn, err);
	if (ret)
		return ret;
	ret = vn_check_perm(vn, who, "destroy", err);
	if (!ret)
		ret = vn_vnode_teardown(ctx, vn, force, keep_storage, force ? "by user, processes killed" :
				     "by user", err);
	json_object_put(vn);
	return ret;
}

int vn_vnode_attach(struct vn_ctx *ctx, const char *name, pid_t pid,
		    const struct vn_caller *who, struct vn_err *err)
{
	json_object *vn, *d;
	int ret;

	ret = vn_get_vnode(ctx, name, &vn, err);
	if (ret)
		return ret;
	ret = vn_check_perm(vn, who, "run in", err);
	if (ret)
		goto out;
	if (pid <= 0) {
		ret = vn_seterr(err, EINVAL, "invalid pid %d", (int)pid);
		goto out;
	}
	ret = vn_cg_attach(&ctx->kern, name, pid, err);
	if (ret)
		goto out;
	d = json_object_new_object();
	json_object_object_add(d, "pid", json_object_new_int(pid));
	json_object_object_add(d, "uid", json_object_new_int64(who->uid));
	vn_event(ctx, "vnode.attach", "vnode", name, d, NULL);
	json_object_put(d);
out:
	json_object_put(vn);
	return ret;
}

int vn_vnode_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	size_t i, n;
	int ret;

	ret = vn_db_vnode_list(ctx, out, err);
	if (ret)
		return ret;
	n = json_object_array_length(*out);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(*out, i);
		int np = vn_cg_nprocs(&ctx->kern, vn_jstr(v, "name"));

		json_object_object_add(v, "nprocs", json_object_new_int(np < 0 ? 0 : np));
	}
	return 0;
}

static void add_runtime(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	json_object *k = json_object_new_object();
	uint64_t val;
	int np;

	np = vn_cg_nprocs(&ctx->kern, name);
	json_object_object_add(v, "nprocs", json_object_new_int(np < 0 ? 0 : np));
	if (!vn_cg_read_u64(&ctx->kern, name, "memory.current", &val))
		json_object_object_add(v, "memory_current", json_object_new_uint64(val));
	if (!vn_cg_read_u64(&ctx->kern, name, "memory.swap.current", &val))
		json_object_object_add(v, "swap_current", json_object_new_uint64(val));
	if (!vn_acct_read(&ctx->kern, name, k))
		json_object_object_add(v, "counters", k);
	else
		json_object_put(k);
}

/*
 * The redundancy the vNode's pages have now: the shared disk's state
 * (live, healing, degraded, down), its slabs with fewer copies than
 * replicas, the bytes re-replicated and the time to heal (so far, or the
 * last heal's).
 */
static void add_redundancy(struct vn_ctx *ctx, json_object *v)
{
	struct vn_disk_info di;

	if (vn_disk_info(&ctx->kern, ctx->cluster.disk, &di) || !di.enabled)
		return;
	json_object_object_add(v, "redundancy", json_object_new_string(di.state));
	json_object_object_add(v, "slabs_at_risk", json_object_new_uint64(di.at_risk));
	json_object_object_add(v, "heal_bytes", json_object_new_uint64(di.heal_bytes));
	json_object_object_add(v, "heal_ms", json_object_new_uint64(di.heal_ms));
}

/* msg at the end of v's warnings (made if it has none) */
static void add_warning(json_object *v, const char *msg)
{
	json_object *w;

	if (!json_object_object_get_ex(v, "warnings", &w) || !w) {
		w = json_object_new_array();
		json_object_object_add(v, "warnings", w);
	}
	json_object_array_add(w, json_object_new_string(msg));
}

/*
 * Prefetching (vnode_proc): what the vNode's accounting object counted,
 * as prefetch_stats (pages, the hit rate, null before anything was read
 * ahead, and the bytes read ahead for nothing), and a warning when the
 * kernel does not prefetch for a vNode that asks for it.
 */
static void add_prefetch(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	json_object *c, *s;
	int64_t issued, hits;
	bool on;
	int ret;

	if (json_object_object_get_ex(v, "counters", &c) &&
	    json_object_object_get_ex(c, "prefetch_issued", NULL)) {
		issued = vn_jint(c, "prefetch_issued");
		hits = vn_jint(c, "prefetch_hits");
		s = json_object_new_object();
		json_object_object_add(s, "issued_pages", json_object_new_int64(issued));
		json_object_object_add(s, "hit_pages", json_object_new_int64(hits));
		json_object_object_add(s, "wasted_pages",
				       json_object_new_int64(vn_jint(c, "prefetch_wasted")));
		json_object_object_add(s, "hit_rate", issued > 0 ?
				       json_object_new_double((double)hits / (double)issued) :
				       NULL);
		json_object_object_add(s, "wasted_bytes",
				       json_object_new_int64(vn_jint(c, "prefetch_wasted") * 4096));
		json_object_object_add(v, "prefetch_stats", s);
	}
	if (!vn_jint(v, "prefetch") || !vn_acct_exists(&ctx->kern, name))
		return;
	ret = vn_acct_get_prefetch(&ctx->kern, name, &on);
	if (!ret && on)
		return;
	add_warning(v, ret ?
		"the vNode asks for prefetching, but this vnode_proc has none (no prefetch attribute)" :
		"the vNode asks for prefetching, but its accounting object has prefetch 0 (vnoded sets it again when it next reconciles)");
}

enum vn_protect vn_vnode_protect(json_object *v)
{
	const char *s = vn_jstr(v, "protect");
	enum vn_protect p = VN_PROTECT_NONE;

	if (s)
		vn_protect_parse("protect", s, &p, NULL);
	return p;
}

/*
 * The protection profile (vnode_proc): what the vNode's accounting object
 * counted, as protect_stats (errors: pages whose check failed on a copy;
 * failed: swap-ins no copy of which passed), and a warning when the kernel
 * does not hold the profile the vNode asks for.
 */
static void add_protect(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	const char *want = vn_protect_name(vn_vnode_protect(v));
	char cur[16], msg[256];
	json_object *c, *s;
	int ret;

	if (json_object_object_get_ex(v, "counters", &c) &&
	    json_object_object_get_ex(c, "protect_errors", NULL)) {
		s = json_object_new_object();
		json_object_object_add(s, "errors",
				       json_object_new_int64(vn_jint(c, "protect_errors")));
		json_object_object_add(s, "failed",
				       json_object_new_int64(vn_jint(c, "protect_failed")));
		json_object_object_add(v, "protect_stats", s);
	}
	if (!vn_acct_exists(&ctx->kern, name))
		return;
	ret = vn_acct_get_protect(&ctx->kern, name, cur, sizeof(cur));
	if (ret ? !strcmp(want, "none") : !strcmp(cur, want))
		return;
	if (ret)
		snprintf(msg, sizeof(msg), "the vNode asks for protect %s, but this vnode_proc has no protection (no protect attribute)",
			 want);
	else
		snprintf(msg, sizeof(msg), "the vNode asks for protect %s, but its accounting object has protect %s (vnoded sets it again when it next reconciles)",
			 want, cur);
	add_warning(v, msg);
}

int vn_vnode_show(struct vn_ctx *ctx, const char *name, json_object **out,
		  struct vn_err *err)
{
	json_object *v, *allocs;
	int ret;

	ret = vn_get_vnode(ctx, name, &v, err);
	if (ret)
		return ret;
	if (!vn_db_vnode_allocs(ctx, vn_jint(v, "id"), &allocs))
		json_object_object_add(v, "allocations", allocs);
	json_object_object_add(v, "volume", vn_volume_of_vnode(ctx, vn_jint(v, "id")));
	add_runtime(ctx, v);
	add_prefetch(ctx, v);
	add_protect(ctx, v);
	add_redundancy(ctx, v);
	vn_evict_report(ctx, name, v);
	*out = v;
	return 0;
}

int64_t vn_vnode_headroom(struct vn_ctx *ctx, json_object *vn)
{
	json_object *h;

	if (vn_jint(vn, "mem") <= vn_jint(vn, "cache"))
		return VN_HEADROOM_OFF;	/* nothing remote: nothing to page out */
	if (json_object_object_get_ex(vn, "headroom", &h) && h &&
	    json_object_is_type(h, json_type_int))
		return json_object_get_int64(h);
	return ctx->cluster.headroom;
}

void vn_vnode_evict(struct vn_ctx *ctx, json_object *vn)
{
	struct vn_err e = { "" };

	if (vn_evict_set(ctx, vn_jstr(vn, "name"), vn_vnode_headroom(ctx, vn), &e))
		ctx->log(LOG_WARNING, "vNode %s: no asynchronous eviction, its tasks reclaim themselves: %s",
			 vn_jstr(vn, "name"), e.msg);
}

/* vnode set: what it wrote to the accounting object undone (the database
 * refused the change): prefetching back, the profile back to was */
static void set_undo(struct vn_ctx *ctx, const char *name,
		     const struct vn_vnode_set_req *rq, bool pf_wrote,
		     const char *was)
{
	enum vn_protect p;

	if (pf_wrote)
		vn_acct_set_prefetch(&ctx->kern, name, !rq->prefetch, NULL);
	if (was[0] && !vn_protect_parse("protect", was, &p, NULL))
		vn_acct_set_protect(&ctx->kern, name, p, NULL);
}

int vn_vnode_set(struct vn_ctx *ctx, const char *name,
		 const struct vn_vnode_set_req *rq, const struct vn_caller *who,
		 json_object **out, struct vn_err *err)
{
	json_object *vn, *d = NULL;
	const char *prot = vn_protect_name(rq->protect);
	char h[32] = "", was[16] = "", cur[16] = "";
	bool pf_wrote = false, acct;
	int ret;

	ret = vn_get_vnode(ctx, name, &vn, err);
	if (ret)
		return ret;
	ret = vn_check_perm(vn, who, "change", err);
	if (ret)
		goto out;
	/* the kernel first: what it refuses changes nothing; without an
	 * accounting object (reconcile makes it) only the row changes */
	acct = vn_acct_exists(&ctx->kern, name);
	if (rq->has_prefetch && acct) {
		ret = vn_acct_set_prefetch(&ctx->kern, name, rq->prefetch, err);
		if (ret < 0)
			goto out;
		pf_wrote = ret == 1;
	}
	if (rq->has_protect && acct) {
		vn_acct_get_protect(&ctx->kern, name, cur, sizeof(cur));
		ret = vn_acct_set_protect(&ctx->kern, name, rq->protect, err);
		if (ret < 0) {
			set_undo(ctx, name, rq, pf_wrote, "");
			goto out;
		}
		if (ret == 1)
			snprintf(was, sizeof(was), "%s", cur);
	}
	d = json_object_new_object();
	if (rq->has_headroom) {
		vn_headroom_fmt(rq->headroom, h, sizeof(h));
		json_object_object_add(d, "headroom", json_object_new_string(h));
	}
	if (rq->has_prefetch)
		json_object_object_add(d, "prefetch",
				       json_object_new_string(rq->prefetch ? "on" : "off"));
	if (rq->has_protect)
		json_object_object_add(d, "protect", json_object_new_string(prot));
	ret = vn_db_begin(ctx->db, err);
	if (!ret && rq->has_headroom)
		ret = vn_db_vnode_set_headroom(ctx, vn_jint(vn, "id"), rq->headroom, err);
	if (!ret && rq->has_prefetch)
		ret = vn_db_vnode_set_prefetch(ctx, vn_jint(vn, "id"), rq->prefetch, err);
	if (!ret && rq->has_protect)
		ret = vn_db_vnode_set_protect(ctx, vn_jint(vn, "id"), rq->protect, err);
	if (!ret)
		ret = vn_event(ctx, "vnode.set", "vnode", name, d, err);
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		vn_db_rollback(ctx->db);
		set_undo(ctx, name, rq, pf_wrote, was);
		goto out;
	}
	if (rq->has_headroom) {
		json_object_object_add(vn, "headroom", json_object_new_int64(rq->headroom));
		vn_vnode_evict(ctx, vn);
	}
	ctx->log(LOG_INFO, "vNode %s:%s%s%s%s%s%s", name, h[0] ? " headroom " : "", h,
		 rq->has_prefetch ? " prefetch " : "",
		 rq->has_prefetch ? (rq->prefetch ? "on" : "off") : "",
		 rq->has_protect ? " protect " : "", rq->has_protect ? prot : "");
	ret = vn_vnode_show(ctx, name, out, err);
out:
	json_object_put(d);
	json_object_put(vn);
	return ret;
}

int vn_vnode_stats(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	json_object *rows, *res;
	size_t i, n;
	int ret;

	ret = vn_db_vnode_sizes(ctx, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++)
		add_runtime(ctx, json_object_array_get_idx(rows, i));
	res = json_object_new_object();
	json_object_object_add(res, "ts_ms", json_object_new_int64(vn_mono_ms()));
	json_object_object_add(res, "vnodes", rows);
	*out = res;
	return 0;
}

int vn_disk_show(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	struct vn_disk_info di;
	json_object *d;

	if (vn_disk_info(&ctx->kern, ctx->cluster.disk, &di))
		return vn_seterr(err, EIO, "cannot read disk state");
	d = json_object_new_object();
	json_object_object_add(d, "disk", json_object_new_string(ctx->cluster.disk));
	json_object_object_add(d, "exists", json_object_new_boolean(di.exists));
	json_object_object_add(d, "enabled", json_object_new_boolean(di.enabled));
	json_object_object_add(d, "dev", json_object_new_string(di.dev));
	json_object_object_add(d, "hosts", json_object_new_string(di.hosts));
	json_object_object_add(d, "size", json_object_new_uint64(di.size));
	json_object_object_add(d, "replicas", json_object_new_int(di.replicas));
	json_object_object_add(d, "cluster_replicas",
			       json_object_new_int(ctx->cluster.replicas));
	json_object_object_add(d, "state", json_object_new_string(di.state));
	json_object_object_add(d, "slabs_at_risk", json_object_new_uint64(di.at_risk));
	json_object_object_add(d, "heal_bytes", json_object_new_uint64(di.heal_bytes));
	json_object_object_add(d, "heal_ms", json_object_new_uint64(di.heal_ms));
	json_object_object_add(d, "swap_active", json_object_new_boolean(di.swap_active));
	json_object_object_add(d, "quota_total", json_object_new_int64(vn_db_quota_total(ctx)));
	*out = d;
	return 0;
}
