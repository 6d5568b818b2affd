// SPDX-License-Identifier: GPL-2.0
/* Reservations held by memory hosts (lease.h), and the cluster's view of
 * its hosts (cluster.show). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "lease.h"
#include "size.h"

uint64_t vn_lease_id(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++) {
		h ^= (uint8_t)*name;
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

int vn_lease_id_free(struct vn_ctx *ctx, const char *name, struct vn_err *err)
{
	uint64_t id = vn_lease_id(name);
	json_object *rows = NULL;
	size_t i;
	int ret = vn_db_vnode_list(ctx, &rows, err);

	for (i = 0; !ret && i < json_object_array_length(rows); i++) {
		const char *other = vn_jstr(json_object_array_get_idx(rows, i), "name");

		if (vn_lease_id(other) == id)
			ret = vn_seterr(err, EEXIST, "vNode '%s' would have the lease id of vNode '%s' (%016" PRIx64 "): choose another name",
					name, other, id);
	}
	json_object_put(rows);
	return ret;
}

/* "m1 (10.0.0.3:7470)" */
static void host_label(json_object *comp, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s:%" PRId64 ")", vn_jstr(comp, "name"),
		 vn_jstr(comp, "addr"), vn_jint(comp, "port"));
}

/*
 * A release of vNode vnode's lease on memory host comp that failed (why:
 * the probe's error): kept in lease_releases, tried again by every
 * reconcile, across restarts, until the host answers (remember); or no
 * longer needed (forget): released, or reserved again for a vNode of the
 * same name.  Inside a transaction (a drain) a rollback takes them back
 * with the rest: the drain then makes every lease as the database says
 * again, which remembers or forgets again.
 */
static void forget(struct vn_ctx *ctx, json_object *comp, const char *vnode)
{
	vn_db_release_del(ctx, vn_jint(comp, "id"), vnode, NULL);
}

static void remember(struct vn_ctx *ctx, json_object *comp, const char *vnode,
		     const char *why)
{
	struct vn_err e;

	if (vn_db_release_add(ctx, vn_jint(comp, "id"), vnode, vn_lease_id(vnode), why, &e))
		ctx->log(LOG_WARNING, "vNode %s: cannot keep the failed release of its lease on %s to try it again: %s",
			 vnode, vn_jstr(comp, "name"), e.msg);
}

/* Said once per host: it has no reservations. */
static void old_host(struct vn_ctx *ctx, json_object *comp, int minor)
{
	struct vn_lease_state *ls = &ctx->leases;
	int64_t id = vn_jint(comp, "id");
	int i;

	for (i = 0; i < ls->nr_old; i++)
		if (ls->old[i] == id)
			return;
	if (ls->nr_old < VN_MAX_COMPONENTS)
		ls->old[ls->nr_old++] = id;
	ctx->log(LOG_WARNING, "memory host %s speaks protocol %d.%d, without reservations (%d.%d): it holds no lease of this process host, which checks its capacity against its own bookkeeping there",
		 vn_jstr(comp, "name"), VNODE_PROTO_MAJOR, minor, VNODE_PROTO_MAJOR,
		 VNODE_LEASE_MIN_MINOR);
}

void vn_lease_flush(struct vn_ctx *ctx)
{
	json_object *d = ctx->leases.event;

	if (!d)
		return;
	ctx->leases.event = NULL;
	vn_event(ctx, "lease.refused", "component", vn_jstr(d, "host"), d, NULL);
	json_object_put(d);
}

/* RESERVE o of vNode vnode refused by host comp: the error, logged, and
 * an event (kept until vn_lease_flush() inside a transaction, which the
 * caller may roll back). */
static int refused(struct vn_ctx *ctx, json_object *comp, const char *vnode,
		   const struct vn_lease_op *o, struct vn_err *err)
{
	char host[128], asked[32], avail[32], limit[32], why[96];
	char me[VNODE_AUTH_IDENT_LEN];
	struct vn_err e;
	json_object *d;
	int ret;

	host_label(comp, host, sizeof(host));
	vn_fmt_size(o->bytes, asked, sizeof(asked));
	vn_fmt_size(o->avail, avail, sizeof(avail));
	vn_fmt_size(o->limit, limit, sizeof(limit));
	vn_kern_identity(&ctx->kern, me, sizeof(me));
	if (o->status == VNODE_ST_QUOTA)
		snprintf(why, sizeof(why), "quota of identity %s reached: %s", me, limit);
	else
		snprintf(why, sizeof(why), "host full; quota %s", limit);
	if (o->status == VNODE_ST_FULL || o->status == VNODE_ST_QUOTA)
		ret = vn_seterr(&e, o->status == VNODE_ST_FULL ? ENOSPC : EDQUOT,
				"%s: cannot reserve %s for vNode '%s': %s available (%s)",
				host, asked, vnode, avail, why);
	else
		ret = vn_seterr(&e, EPROTO, "%s: cannot reserve %s for vNode '%s': %s",
				host, asked, vnode, vn_status_str(o->status));
	ctx->log(LOG_WARNING, "%s", e.msg);
	d = json_object_new_object();
	json_object_object_add(d, "host", json_object_new_string(vn_jstr(comp, "name")));
	json_object_object_add(d, "vnode", json_object_new_string(vnode));
	json_object_object_add(d, "identity", json_object_new_string(me));
	json_object_object_add(d, "asked", json_object_new_uint64(o->bytes));
	json_object_object_add(d, "available", json_object_new_uint64(o->avail));
	json_object_object_add(d, "limit", json_object_new_uint64(o->limit));
	json_object_object_add(d, "status", json_object_new_string(vn_status_str(o->status)));
	json_object_object_add(d, "message", json_object_new_string(e.msg));
	json_object_put(ctx->leases.event);
	ctx->leases.event = d;
	if (!vsql_in_tx(ctx->db))
		vn_lease_flush(ctx);
	if (err)
		*err = e;
	return ret;
}

/*
 * Run ops on memory host comp (names[i]: the vNode of ops[i]).  0 when
 * done, or when the host is older than 1.4 (nothing sent); else -errno
 * and err: the probe's error (the releases are tried again later), or
 * the first refusal.
 */
static int host_run(struct vn_ctx *ctx, json_object *comp, struct vn_lease_op *ops,
		    const char *const *names, int n, struct vn_err *err)
{
	const char *name = vn_jstr(comp, "name");
	struct vn_probe_result r;
	struct vn_err e = { "" };
	char host[128], sz[32];
	int i, ret;

	host_label(comp, host, sizeof(host));
	ret = vn_probe_comp(ctx, comp, &r, ops, n, &e);
	for (i = 0; ret && i < n; i++)
		if (ops[i].op == VNODE_OP_RELEASE)
			remember(ctx, comp, names[i], e.msg);
	if (ret && n == 1 && ops[0].op == VNODE_OP_RESERVE) {
		vn_fmt_size(ops[0].bytes, sz, sizeof(sz));
		return vn_seterr(err, -ret, "%s: cannot reserve %s for vNode '%s': %s",
				 host, sz, names[0], e.msg);
	}
	if (ret && n == 1 && ops[0].op == VNODE_OP_RELEASE)
		return vn_seterr(err, -ret, "%s: cannot release the lease of vNode '%s': %s",
				 host, names[0], e.msg);
	if (ret)
		return vn_seterr(err, -ret, "%s: cannot renew or set our leases: %s", host,
				 e.msg);
	if (r.minor < VNODE_LEASE_MIN_MINOR) {	/* it holds none to release */
		old_host(ctx, comp, r.minor);
		for (i = 0; i < n; i++)
			if (ops[i].op == VNODE_OP_RELEASE)
				forget(ctx, comp, names[i]);
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct vn_lease_op *o = &ops[i];

		if (o->lease_ms && o->lease_ms / 2 < (uint32_t)ctx->interval_ms &&
		    !ctx->leases.ms_warned) {
			ctx->leases.ms_warned = true;
			ctx->log(LOG_WARNING, "memory host %s ends a lease not renewed for %u ms; vnoded renews every %d ms: give vnode_mem lease_ms=%d or more, or vnoded a shorter --interval",
				 name, o->lease_ms, ctx->interval_ms, 2 * ctx->interval_ms);
		}
		if (o->op != VNODE_OP_RENEW && (o->status == VNODE_ST_OK ||
		    (o->op == VNODE_OP_RELEASE && o->status == VNODE_ST_NOENT)))
			forget(ctx, comp, names[i]);
		else if (o->op == VNODE_OP_RESERVE && o->status > 0 && !ret)
			ret = refused(ctx, comp, names[i], o, err);
		else if (o->op == VNODE_OP_RESERVE && o->status > 0)
			refused(ctx, comp, names[i], o, NULL);
		else if (o->op == VNODE_OP_RELEASE && o->status > 0 && !ret)
			ret = vn_seterr(err, EPROTO, "%s: cannot release the lease of vNode '%s': %s",
					host, names[i], vn_status_str(o->status));
		else if (o->status > 0 && !ret)
			ret = vn_seterr(err, EPROTO, "%s: cannot renew our leases: %s", host,
					vn_status_str(o->status));
	}
	return ret;
}

/* vNode vnode's lease on host set to bytes (0: released). */
static int set_one(struct vn_ctx *ctx, const char *host, const char *vnode,
		   uint64_t bytes, struct vn_err *err)
{
	struct vn_lease_op op = {
		.op = bytes ? VNODE_OP_RESERVE : VNODE_OP_RELEASE,
		.lease_id = vn_lease_id(vnode), .bytes = bytes,
	};
	json_object *comp = NULL;
	int ret = vn_get_component(ctx, host, &comp, err);

	if (!ret)
		ret = host_run(ctx, comp, &op, &vnode, 1, err);
	json_object_put(comp);
	return ret;
}

/* Release vNode name's leases on the hosts with a take (and done[i]). */
static void unreserve(struct vn_ctx *ctx, const char *name,
		      const struct vn_host *hosts, int nh, const bool *done)
{
	int i;

	for (i = 0; i < nh; i++)
		if (hosts[i].take && (!done || done[i]))
			set_one(ctx, hosts[i].name, name, 0, NULL);
}

/*
 * In the order of the hosts' addresses, the same on every process host
 * whatever it names them: of two creates racing for the same hosts, the
 * one refused first releases before it could stand in the other's way.
 */
int vn_lease_reserve(struct vn_ctx *ctx, const char *name,
		     const struct vn_host *hosts, int nh, struct vn_err *err)
{
	bool done[VN_MAX_COMPONENTS] = { false };
	int i, j, k, ret = 0;

	for (k = 0; k < nh && !ret; k++) {
		for (i = -1, j = 0; j < nh; j++)	/* the next address */
			if (hosts[j].take && !done[j] &&
			    (i < 0 || strcmp(hosts[j].addr, hosts[i].addr) < 0))
				i = j;
		if (i < 0)
			break;
		ret = set_one(ctx, hosts[i].name, name, hosts[i].take, err);
		done[i] = !ret;
	}
	if (ret)
		unreserve(ctx, name, hosts, nh, done);
	return ret;
}

void vn_lease_unreserve(struct vn_ctx *ctx, const char *name,
			const struct vn_host *hosts, int nh)
{
	unreserve(ctx, name, hosts, nh, NULL);
}

void vn_lease_release(struct vn_ctx *ctx, const char *name, json_object *hosts)
{
	size_t i;

	for (i = 0; i < json_object_array_length(hosts); i++) {
		struct vn_lease_op op = { .op = VNODE_OP_RELEASE, .lease_id = vn_lease_id(name) };
		struct vn_err e;

		if (host_run(ctx, json_object_array_get_idx(hosts, i), &op, &name, 1, &e))
			ctx->log(LOG_WARNING, "vNode %s: %s (tried again at every reconcile until the host answers)",
				 name, e.msg);
	}
}

/* Optionally a RENEW (its reply in *renew), then the leases of vnodes on
 * comp as the database says, in one connection. */
static int host_sync(struct vn_ctx *ctx, json_object *comp, json_object *vnodes,
		     struct vn_lease_op *renew, struct vn_err *err)
{
	size_t i, n = json_object_array_length(vnodes), k = 0;
	struct vn_lease_op *ops = calloc(n + 1, sizeof(*ops));
	const char **names = calloc(n + 1, sizeof(*names));
	int ret = 0;

	if (!ops || !names) {
		ret = vn_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	if (renew) {
		ops[k].op = VNODE_OP_RENEW;
		names[k++] = "";
	}
	for (i = 0; i < n; i++, k++) {
		json_object *v = json_object_array_get_idx(vnodes, i);

		names[k] = vn_jstr(v, "name");
		ops[k].lease_id = vn_lease_id(names[k]);
		ops[k].bytes = (uint64_t)vn_db_alloc_bytes(ctx, vn_jint(v, "vnode_id"),
							   vn_jint(comp, "id"));
		ops[k].op = ops[k].bytes ? VNODE_OP_RESERVE : VNODE_OP_RELEASE;
	}
	if (k)
		ret = host_run(ctx, comp, ops, names, (int)k, err);
	if (renew)
		*renew = ops[0];
out:
	free(ops);
	free(names);
	return ret;
}

int vn_lease_sync_host(struct vn_ctx *ctx, json_object *comp,
		       json_object *vnodes, struct vn_err *err)
{
	return host_sync(ctx, comp, vnodes, NULL, err);
}

int vn_lease_move(struct vn_ctx *ctx, int64_t comp, json_object *vnodes,
		  const struct vn_host *hosts, int nh, struct vn_err *err)
{
	int i, ret = 0;

	for (i = 0; i < nh && !ret; i++) {
		json_object *c = NULL;

		if (hosts[i].id == comp || !hosts[i].up)
			continue;
		ret = vn_get_component(ctx, hosts[i].name, &c, err);
		if (!ret)
			ret = host_sync(ctx, c, vnodes, NULL, err);
		json_object_put(c);
		if (!err)	/* putting them back: every host */
			ret = 0;
	}
	return ret;
}

/* One host where we hold leases: renewed (at the first pass after start,
 * every lease reserved again too); what it lost reserved again.  1 if a
 * reservation was refused. */
static int renew(struct vn_ctx *ctx, json_object *comp)
{
	uint64_t want = (uint64_t)vn_jint(comp, "bytes");
	uint32_t nr = (uint32_t)vn_jint(comp, "nr_vnodes");
	struct vn_lease_op rn = { .op = VNODE_OP_RENEW, .status = -1 };
	const char *none = "";
	struct vn_err e = { "" };
	json_object *vns, *d;
	char had[32], all[32];
	bool lost;
	int ret;

	if (vn_db_comp_allocs(ctx, vn_jint(comp, "id"), &vns, NULL))
		return 1;
	if (!ctx->leases.started)
		ret = host_sync(ctx, comp, vns, &rn, &e);
	else
		ret = host_run(ctx, comp, &rn, &none, 1, &e);
	/* it restarted, or they expired (vnoded stopped, the network split) */
	lost = rn.status == VNODE_ST_OK && (rn.nr_leases < nr || rn.leased < want);
	if (lost && !ret && ctx->leases.started)
		ret = host_sync(ctx, comp, vns, NULL, &e);
	json_object_put(vns);
	if (lost && !ret) {
		vn_fmt_size(rn.leased, had, sizeof(had));
		vn_fmt_size(want, all, sizeof(all));
		ctx->log(LOG_NOTICE, "memory host %s held %u of our %u lease(s), %s of %s (it restarted, or they expired): reserved again",
			 vn_jstr(comp, "name"), rn.nr_leases, nr, had, all);
		d = json_object_new_object();
		json_object_object_add(d, "vnodes", json_object_new_int64(nr));
		json_object_object_add(d, "bytes", json_object_new_uint64(want));
		json_object_object_add(d, "had_leases", json_object_new_int64(rn.nr_leases));
		json_object_object_add(d, "had_bytes", json_object_new_uint64(rn.leased));
		vn_event(ctx, "lease.restore", "component", vn_jstr(comp, "name"), d, NULL);
		json_object_put(d);
	}
	/* an unreachable host is not ours to fix (component.down says it) */
	return ret && strcmp(vn_jstr(comp, "state"), "down");
}

int vn_lease_reconcile(struct vn_ctx *ctx)
{
	json_object *rows, *vns;
	int bad = 0;
	size_t j;

	/* the releases that failed (lease_releases), each host's in one
	 * connection: those failing again stay; one of a vNode made again
	 * under the same name meanwhile is the database's lease there */
	if (!vn_db_release_hosts(ctx, &rows, NULL)) {
		for (j = 0; j < json_object_array_length(rows); j++) {
			json_object *c = json_object_array_get_idx(rows, j);

			if (vn_db_releases(ctx, vn_jint(c, "id"), &vns, NULL))
				continue;
			host_sync(ctx, c, vns, NULL, NULL);
			json_object_put(vns);
		}
		json_object_put(rows);
	}
	if (vn_db_lease_hosts(ctx, &rows, NULL))
		return 1;
	for (j = 0; j < json_object_array_length(rows); j++)
		bad += renew(ctx, json_object_array_get_idx(rows, j));
	json_object_put(rows);
	ctx->leases.started = true;
	return bad;
}

/* ---- cluster.show ------------------------------------------------------- */

static void add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* One host: its probe, and a memory host's leases by identity (me: ours). */
static json_object *cluster_host(struct vn_ctx *ctx, json_object *c, const char *me)
{
	bool mem = !strcmp(vn_jstr(c, "kind"), "memory");
	struct vn_lease_op op = { .op = VNODE_OP_LEASES };
	json_object *h = json_object_new_object(), *ls;
	struct vn_probe_result r;
	struct vn_err e = { "" };
	char proto[16];
	int i, ret;

	json_object_object_add(h, "name", json_object_new_string(vn_jstr(c, "name")));
	json_object_object_add(h, "kind", json_object_new_string(vn_jstr(c, "kind")));
	json_object_object_add(h, "addr", json_object_new_string(vn_jstr(c, "addr")));
	json_object_object_add(h, "port", json_object_new_int64(vn_jint(c, "port")));
	ret = mem ? vn_probe_comp(ctx, c, &r, &op, 1, &e) :
	      vn_probe_host(ctx, vn_jstr(c, "addr"), (int)vn_jint(c, "port"), NULL, 0, &r, &e);
	json_object_object_add(h, "state", json_object_new_string(ret ? "down" : "up"));
	if (ret) {
		json_object_object_add(h, "error", json_object_new_string(e.msg));
		goto out;
	}
	snprintf(proto, sizeof(proto), "%d.%d", r.major, r.minor);
	json_object_object_add(h, "protocol", json_object_new_string(proto));
	add_u64(h, "capacity", r.capacity);
	add_u64(h, "used", r.used);
	if (mem && r.has_leases) {
		add_u64(h, "leased", r.leased);
		add_u64(h, "committed", r.committed);
	}
	add_u64(h, "free", vn_probe_free(&r, mem ? (uint64_t)vn_jint(c, "reserved") : 0));
	if (mem && r.nr_clients >= 0)
		json_object_object_add(h, "nr_clients", json_object_new_int(r.nr_clients));
	if (mem)	/* our own bookkeeping */
		json_object_object_add(h, "reserved", json_object_new_int64(vn_jint(c, "reserved")));
	if (!mem || op.status != VNODE_ST_OK)
		goto out;
	ls = json_object_new_array();
	for (i = 0; i < op.nr_idents; i++) {
		const struct vn_lease_ident *id = &op.idents[i];
		json_object *l = json_object_new_object();

		json_object_object_add(l, "identity", json_object_new_string(id->ident));
		add_u64(l, "leased", id->leased);
		add_u64(l, "held", id->held);
		add_u64(l, "nr_clients", id->nr_clients);
		add_u64(l, "nr_leases", id->nr_leases);
		json_object_object_add(l, "self", json_object_new_boolean(!strcmp(id->ident, me)));
		json_object_array_add(ls, l);
	}
	json_object_object_add(h, "reservations", ls);
out:
	vn_lease_ops_free(&op, 1);
	return h;
}

int vn_cluster_show(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	char me[VNODE_AUTH_IDENT_LEN];
	json_object *rows, *hosts;
	size_t i;
	int ret;

	ret = vn_db_comp_list(ctx, &rows, err);
	if (ret)
		return ret;
	vn_kern_identity(&ctx->kern, me, sizeof(me));
	hosts = json_object_new_array();
	for (i = 0; i < json_object_array_length(rows); i++)
		json_object_array_add(hosts, cluster_host(ctx, json_object_array_get_idx(rows, i), me));
	json_object_put(rows);
	*out = json_object_new_object();
	json_object_object_add(*out, "identity", json_object_new_string(me));
	json_object_object_add(*out, "hosts", hosts);
	return 0;
}
