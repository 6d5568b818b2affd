// SPDX-License-Identifier: GPL-2.0
/* Components: memory and storage hosts, from cluster.conf or vnodectl;
 * probing memory hosts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "fabric_link.h"
#include "kern_ops.h"
#include "lease.h"
#include "vnoded.h"

/* Store a probe result (and an event when the state changes). */
static void record_probe(struct vn_ctx *ctx, json_object *comp, int ret,
			 const struct vn_probe_result *r, const char *msg)
{
	const char *state = ret ? "down" : "up";
	char old[16] = "";

	/* copy: the "state" member is replaced below */
	if (vn_jstr(comp, "state"))
		snprintf(old, sizeof(old), "%s", vn_jstr(comp, "state"));

	if (vn_db_comp_set_probe(ctx, vn_jint(comp, "id"), state,
				 ret ? vn_jint(comp, "capacity") : (int64_t)r->capacity,
				 ret ? vn_jint(comp, "used") : (int64_t)r->used,
				 ret ? (int)vn_jint(comp, "slab_shift") : r->slab_shift,
				 ret ? 0 : r->op_rtt_ns, ret ? msg : NULL))
		return;

	json_object_object_add(comp, "state", json_object_new_string(state));
	if (!ret) {
		json_object_object_add(comp, "capacity", json_object_new_int64((int64_t)r->capacity));
		json_object_object_add(comp, "used", json_object_new_int64((int64_t)r->used));
		json_object_object_add(comp, "slab_shift", json_object_new_int(r->slab_shift));
		json_object_object_add(comp, "last_error", NULL);
		if (r->op_rtt_ns > 0)
			json_object_object_add(comp, "op_rtt_ns",
					       json_object_new_int64(r->op_rtt_ns));
		if (r->nr_clients >= 0)
			json_object_object_add(comp, "nr_clients",
					       json_object_new_int(r->nr_clients));
		if (r->has_leases) {
			json_object_object_add(comp, "leased", json_object_new_uint64(r->leased));
			json_object_object_add(comp, "committed",
					       json_object_new_uint64(r->committed));
			json_object_object_add(comp, "client_leased",
					       json_object_new_uint64(r->client_leased));
		}
	} else {
		json_object_object_add(comp, "last_error", json_object_new_string(msg));
	}
	if (strcmp(old, state)) {
		ctx->log(ret ? LOG_WARNING : LOG_INFO, "component %s is %s%s%s",
			 vn_jstr(comp, "name"), state, ret ? ": " : "", ret ? msg : "");
		vn_event(ctx, ret ? "component.down" : "component.up",
			 "component", vn_jstr(comp, "name"), comp, NULL);
	}
}

int vn_probe_host(struct vn_ctx *ctx, const char *addr, int port,
		  struct vn_lease_op *ops, int n, struct vn_probe_result *r,
		  struct vn_err *err)
{
	struct vn_auth_conf auth = ctx->cluster.auth;

	memset(auth.ident, 0, sizeof(auth.ident));
	vn_kern_identity(&ctx->kern, auth.ident, sizeof(auth.ident));
	return ctx->probe(addr, port, ctx->cluster.probe_timeout_ms, &auth, ops, n,
			  r, err);
}

int vn_probe_comp(struct vn_ctx *ctx, json_object *comp,
		  struct vn_probe_result *r, struct vn_lease_op *ops, int n,
		  struct vn_err *err)
{
	struct vn_err e = { "" };
	int ret;

	if (strcmp(vn_jstr(comp, "kind"), "memory")) {
		/* storage hosts: probed by the storage client later */
		memset(r, 0, sizeof(*r));
		return 0;
	}
	ret = vn_probe_host(ctx, vn_jstr(comp, "addr"), (int)vn_jint(comp, "port"),
			    ops, n, r, &e);
	record_probe(ctx, comp, ret, r, e.msg);
	if (ret)
		return vn_seterr(err, -ret, "%s", e.msg);
	return 0;
}

static bool comp_disk_host(struct vn_ctx *ctx, json_object *comp,
			   struct vn_disk_info *di, struct vn_disk_host *out,
			   int *others);
static int drain_write(struct vn_ctx *ctx, json_object *comp, bool on,
		       struct vn_err *err);

static int comp_valid(const struct vn_conf_comp *c, struct vn_err *err)
{
	if (!vn_name_valid(c->name))
		return vn_seterr(err, EINVAL,
				 "invalid component name '%s' (letters, digits, _ . -; max 31)",
				 c->name);
	if (!vn_addr_valid(c->addr))
		return vn_seterr(err, EINVAL, "invalid address '%s' (an IP literal)",
				 c->addr);
	if (c->port < 1 || c->port > 65535)
		return vn_seterr(err, EINVAL, "invalid port %d (1..65535)", c->port);
	if (c->kind != VN_COMP_MEMORY && c->kind != VN_COMP_STORAGE)
		return vn_seterr(err, EINVAL, "invalid component type");
	return 0;
}

/* In the caller's transaction: c's row and its component.add event;
 * *row: the row (the caller puts it). */
static int comp_insert_tx(struct vn_ctx *ctx, const struct vn_conf_comp *c,
			  const char *source, json_object **row, struct vn_err *err)
{
	int ret;

	*row = NULL;
	ret = vn_db_comp_insert(ctx, c, source, err);
	if (ret == -EEXIST) {
		if (vn_db_comp_exists(ctx, c->name))
			vn_seterr(err, EEXIST, "component '%s' already exists", c->name);
		else
			vn_seterr(err, EEXIST,
				  "another component already uses %s port %d",
				  c->addr, c->port);
		return ret;
	}
	if (!ret)
		ret = vn_get_component(ctx, c->name, row, err);
	if (!ret)
		ret = vn_event(ctx, "component.add", "component", c->name, *row, err);
	return ret;
}

/* After the commit of c's row: the log line, the probe (r, when probed)
 * and a drained address taken back. */
static void comp_added(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		       const char *source, json_object *row,
		       const struct vn_probe_result *r)
{
	ctx->log(LOG_INFO, "component %s (%s %s:%d) added from %s", c->name,
		 vn_kind_name(c->kind), c->addr, c->port, source);
	if (r)
		record_probe(ctx, row, 0, r, "");
	if (c->kind == VN_COMP_MEMORY) {
		struct vn_disk_host dh;
		struct vn_disk_info di;

		/* an address the swap disk drained earlier: take it back */
		if (comp_disk_host(ctx, row, &di, &dh, NULL) && !strcmp(dh.drain, "drained") &&
		    !drain_write(ctx, row, false, NULL))
			ctx->log(LOG_NOTICE, "component %s: the swap disk %s takes %s back (drained earlier)",
				 c->name, di.dev, dh.addr);
	}
}

int vn_component_add(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		     const char *source, bool probe, json_object **out,
		     struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *row = NULL;
	bool probed = false;
	int ret;

	ret = comp_valid(c, err);
	if (ret)
		return ret;
	/* clear duplicate errors first, before a slow probe */
	if (vn_db_comp_exists(ctx, c->name))
		return vn_seterr(err, EEXIST, "component '%s' already exists",
				 c->name);
	if (probe && c->kind == VN_COMP_MEMORY) {
		struct vn_err e;

		ret = vn_probe_host(ctx, c->addr, c->port, NULL, 0, &r, &e);
		if (ret)
			return vn_seterr(err, -ret, "not adding %s: %s", c->name, e.msg);
		probed = true;
	}

	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = comp_insert_tx(ctx, c, source, &row, err);
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		json_object_put(row);
		vn_db_rollback(ctx->db);
		return ret;
	}
	comp_added(ctx, c, source, row, probed ? &r : NULL);
	if (out)
		*out = row;
	else
		json_object_put(row);
	return 0;
}

static int comp_in_use(struct vn_ctx *ctx, json_object *comp)
{
	return vn_db_comp_users(ctx, vn_jint(comp, "id"));
}

/* The row, and the fabric link of its host if no other component is
 * there (and the host is not kept: a component redefined at the same
 * address). */
static int comp_delete_tx(struct vn_ctx *ctx, json_object *comp, const char *why,
			  bool keep_host, bool *link_gone, struct vn_err *err)
{
	char fwhy[96];
	int ret;

	*link_gone = false;
	ret = vn_db_comp_delete(ctx, vn_jint(comp, "id"), err);
	if (!ret) {
		json_object_object_add(comp, "reason", json_object_new_string(why));
		ret = vn_event(ctx, "component.remove", "component",
			       vn_jstr(comp, "name"), comp, err);
	}
	snprintf(fwhy, sizeof(fwhy), "component %s deleted", vn_jstr(comp, "name"));
	if (!ret && !keep_host)
		ret = vn_fabric_forget(ctx, vn_jstr(comp, "addr"), fwhy, link_gone, err);
	return ret;
}

static int comp_delete(struct vn_ctx *ctx, json_object *comp, const char *why,
		       bool keep_host, struct vn_err *err)
{
	bool link_gone = false;
	int ret;

	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = comp_delete_tx(ctx, comp, why, keep_host, &link_gone, err);
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret)
		vn_db_rollback(ctx->db);
	else if (link_gone)
		vn_fabric_forget_link(ctx, vn_jstr(comp, "addr"));
	return ret;
}

/*
 * cluster.conf gives component old a new definition c: the old row goes
 * and the new one comes in one transaction, so no other process host's
 * reconcile sees the address without a component in between (which
 * would drop its fabric link settings for it, at the same address).
 */
static int comp_redefine(struct vn_ctx *ctx, json_object *old,
			 const struct vn_conf_comp *c, struct vn_err *err)
{
	bool same_addr = !strcmp(vn_jstr(old, "addr"), c->addr), link_gone = false;
	json_object *row = NULL;
	struct vn_err e = { "" };
	int ret;

	ret = comp_valid(c, &e);
	if (!ret)
		ret = vn_db_begin(ctx->db, &e);
	if (ret)
		return vn_seterr(err, -ret, "cluster.conf: %s", e.msg);
	ret = comp_delete_tx(ctx, old, "changed in cluster.conf", same_addr, &link_gone, &e);
	if (!ret)
		ret = comp_insert_tx(ctx, c, "config", &row, &e);
	if (!ret)
		ret = vn_db_commit(ctx->db, &e);
	if (ret) {
		json_object_put(row);
		vn_db_rollback(ctx->db);
		return vn_seterr(err, -ret, "cluster.conf: %s", e.msg);
	}
	if (link_gone)
		vn_fabric_forget_link(ctx, vn_jstr(old, "addr"));
	comp_added(ctx, c, "config", row, NULL);
	json_object_put(row);
	return 0;
}

/*
 * The swap disk's line for memory component comp ("addr:port"), and if
 * others is set, how many of the disk's other hosts are not drained or
 * draining.  Returns false if the disk is not enabled or does not use the
 * host.
 */
static bool comp_disk_host(struct vn_ctx *ctx, json_object *comp,
			   struct vn_disk_info *di, struct vn_disk_host *out,
			   int *others)
{
	struct vn_disk_host h[VN_DISK_MAX_HOSTS];
	const struct vn_disk_host *m;
	char addr[VN_ADDR_MAX + 8];
	int n, i;

	if (strcmp(vn_jstr(comp, "kind"), "memory") ||
	    vn_disk_info(&ctx->kern, ctx->cluster.disk, di) || !di->enabled ||
	    !di->dev[0])
		return false;
	snprintf(addr, sizeof(addr), "%s:%" PRId64, vn_jstr(comp, "addr"),
		 vn_jint(comp, "port"));
	n = vn_disk_hosts(&ctx->kern, di->dev, h, VN_DISK_MAX_HOSTS);
	m = n > 0 ? vn_disk_host_find(h, n, addr) : NULL;
	if (!m)
		return false;
	*out = *m;
	if (others) {
		*others = 0;
		for (i = 0; i < n; i++)
			*others += &h[i] != m && !strcmp(h[i].drain, "-");
	}
	return true;
}

static int drain_write(struct vn_ctx *ctx, json_object *comp, bool on,
		       struct vn_err *err)
{
	char val[VN_ADDR_MAX + 16];

	snprintf(val, sizeof(val), "%s%s:%" PRId64, on ? "" : "-",
		 vn_jstr(comp, "addr"), vn_jint(comp, "port"));
	return vn_kwritef(&ctx->kern, err, val, VN_CFS "/mem/%s/drain",
			  ctx->cluster.disk);
}

static void drain_event(struct vn_ctx *ctx, const char *type,
			json_object *comp, const char *why)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "addr", json_object_new_string(vn_jstr(comp, "addr")));
	json_object_object_add(d, "port", json_object_new_int64(vn_jint(comp, "port")));
	if (why)
		json_object_object_add(d, "reason", json_object_new_string(why));
	vn_event(ctx, type, "component", vn_jstr(comp, "name"), d, NULL);
	json_object_put(d);
}

int vn_component_drain(struct vn_ctx *ctx, const char *name, bool on,
		       json_object **out, struct vn_err *err)
{
	struct vn_host hosts[VN_MAX_COMPONENTS];
	const char *cur;
	struct vn_disk_host dh;
	struct vn_disk_info di;
	json_object *comp, *moved = NULL;
	bool in_disk, leased = false;
	int ret, nh, others = 0;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	if (strcmp(vn_jstr(comp, "kind"), "memory")) {
		ret = vn_seterr(err, EINVAL,
				"component '%s' is a storage host: only memory hosts are drained (move a volume by deleting and recreating it)",
				name);
		goto out;
	}
	cur = vn_jstr(comp, "drain");
	in_disk = comp_disk_host(ctx, comp, &di, &dh, &others);
	if (!on) {
		if (!cur) {
			ret = vn_seterr(err, EINVAL, "component '%s' is not drained", name);
			goto out;
		}
		if (in_disk) {
			ret = drain_write(ctx, comp, false, err);
			if (ret)
				goto out;
		}
		ret = vn_db_comp_set_drain(ctx, vn_jint(comp, "id"), NULL, err);
		if (ret)
			goto out;
		drain_event(ctx, "drain.cancel", comp, NULL);
		ctx->log(LOG_NOTICE, "component %s: drain cancelled, it takes new slabs and reservations again",
			 name);
		goto show;
	}
	if (cur)
		goto show;	/* already draining or drained: report progress */
	if (in_disk && di.replicas > 1 && others < di.replicas) {
		ret = vn_seterr(err, ENOSPC,
				"cannot drain %s: the swap disk %s keeps %d copies of every slab on distinct hosts and only %d other memory host(s) would be left; add a memory host first",
				name, di.dev, di.replicas, others);
		goto out;
	}
	/* 1. the reservations, 2. the slabs; undone together on failure */
	nh = vn_load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, err);
	if (nh < 0) {
		ret = nh;
		goto out;
	}
	/* the vNodes whose bytes move, and the hosts' leases with them */
	ret = vn_db_comp_allocs(ctx, vn_jint(comp, "id"), &moved, err);
	if (!ret)
		ret = vn_db_begin(ctx->db, err);
	if (ret)
		goto out;
	ret = vn_place_move(ctx, vn_jint(comp, "id"), hosts, nh, err);
	if (!ret)
		ret = vn_db_comp_set_drain(ctx, vn_jint(comp, "id"),
					   in_disk ? "draining" : "drained", err);
	if (!ret) {
		leased = true;
		ret = vn_lease_move(ctx, vn_jint(comp, "id"), moved, hosts, nh, err);
	}
	if (ret) {
		struct vn_err e = *err;

		vn_seterr(err, -ret, "cannot drain %s: %s", name, e.msg);
		goto undo;
	}
	if (in_disk) {
		ret = drain_write(ctx, comp, true, err);
		if (ret)
			goto undo;
	}
	ret = vn_db_commit(ctx->db, err);
	if (ret) {
		if (in_disk)
			drain_write(ctx, comp, false, NULL);
		goto undo;
	}
	vn_lease_sync_host(ctx, comp, moved, NULL);	/* released there */
	drain_event(ctx, "drain.start", comp, NULL);
	if (!in_disk)
		drain_event(ctx, "drain.finish", comp, "not used by the swap disk");
	ctx->log(LOG_NOTICE, "component %s: draining (%ld slab(s) of the swap disk to move)",
		 name, in_disk ? dh.slabs : 0L);
show:
	json_object_put(moved);
	json_object_put(comp);
	return vn_component_show(ctx, name, false, out, err);
undo:
	vn_db_rollback(ctx->db);
	if (leased)	/* as the database says again */
		vn_lease_move(ctx, vn_jint(comp, "id"), moved, hosts, nh, NULL);
	vn_lease_flush(ctx);
out:
	json_object_put(moved);
	json_object_put(comp);
	return ret;
}

/* Reconcile: a drain that the disk finished, or that has no disk left. */
void vn_drain_progress(struct vn_ctx *ctx)
{
	json_object *rows;
	size_t i, n;

	if (vn_db_query_json(ctx->db, "SELECT id, name, kind, addr, port, drain "
			     "FROM components WHERE drain = 'draining'",
			     NULL, &rows, NULL))
		return;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		struct vn_disk_host dh;
		struct vn_disk_info di;

		if (comp_disk_host(ctx, c, &di, &dh, NULL) && strcmp(dh.drain, "drained"))
			continue;
		if (vn_db_comp_set_drain(ctx, vn_jint(c, "id"), "drained", NULL))
			continue;
		ctx->log(LOG_NOTICE, "component %s: drained, it holds no slab of the swap disk; `vnodectl component delete %s` removes it",
			 vn_jstr(c, "name"), vn_jstr(c, "name"));
		drain_event(ctx, "drain.finish", c, NULL);
	}
	json_object_put(rows);
}

int vn_component_remove(struct vn_ctx *ctx, const char *name,
			struct vn_err *err)
{
	struct vn_disk_host dh;
	struct vn_disk_info di;
	json_object *comp;
	int ret, n;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	if (comp_disk_host(ctx, comp, &di, &dh, NULL) && strcmp(dh.drain, "drained") &&
	    dh.slabs > 0) {
		json_object_put(comp);
		return vn_seterr(err, EBUSY,
				 "component '%s' holds %ld slab(s) of the swap disk %s: `vnodectl component drain %s` moves them first",
				 name, dh.slabs, di.dev, name);
	}
	n = comp_in_use(ctx, comp);
	if (n) {
		json_object_put(comp);
		return vn_seterr(err, EBUSY,
				 "component '%s' holds remote memory or volumes of %d vNode(s)/volume(s); destroy or delete them first",
				 name, n);
	}
	ret = comp_delete(ctx, comp, "removed by user", false, err);
	json_object_put(comp);
	if (!ret)
		ctx->log(LOG_INFO, "component %s removed", name);
	return ret;
}

int vn_component_list(struct vn_ctx *ctx, json_object **out,
		      struct vn_err *err)
{
	size_t i;
	int ret = vn_db_comp_list(ctx, out, err);

	for (i = 0; !ret && i < json_object_array_length(*out); i++)
		vn_fabric_show(ctx, json_object_array_get_idx(*out, i), false);
	return ret;
}

int vn_component_show(struct vn_ctx *ctx, const char *name, bool probe,
		      json_object **out, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *comp;
	struct vn_err e;
	int64_t reserved;
	int ret;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	if (probe && !vn_probe_comp(ctx, comp, &r, NULL, 0, &e) &&
	    !strcmp(vn_jstr(comp, "kind"), "memory")) {
		json_object_object_add(comp, "server_id",
				       json_object_new_uint64(r.server_id));
		json_object_object_add(comp, "rtt_us", json_object_new_int64(r.rtt_us));
	}
	json_object_object_add(comp, "reserved",
			       json_object_new_int64(0));
	if (!vn_db_comp_reserved(ctx, vn_jint(comp, "id"), &reserved))
		json_object_object_add(comp, "reserved",
				       json_object_new_int64(reserved));
	{
		struct vn_disk_host dh;
		struct vn_disk_info di;

		if (comp_disk_host(ctx, comp, &di, &dh, NULL)) {
			json_object_object_add(comp, "disk_slabs",
					       json_object_new_int64(dh.slabs));
			json_object_object_add(comp, "disk_state",
					       json_object_new_string(dh.state));
			json_object_object_add(comp, "disk_drain",
					       json_object_new_string(dh.drain));
		}
	}
	vn_fabric_show(ctx, comp, true);
	*out = comp;
	return 0;
}

int vn_config_sync(struct vn_ctx *ctx, const struct vn_conf *conf,
		   struct vn_err *err)
{
	json_object *rows;
	size_t i, n;
	int j, ret;

	ctx->cluster = conf->cluster;
	for (j = 0; j < conf->nr_comps; j++) {
		const struct vn_conf_comp *c = &conf->comps[j];
		json_object *old = NULL;
		struct vn_err e;

		if (!vn_get_component(ctx, c->name, &old, NULL)) {
			bool same = !strcmp(vn_jstr(old, "addr"), c->addr) &&
				    vn_jint(old, "port") == c->port &&
				    !strcmp(vn_jstr(old, "kind"), vn_kind_name(c->kind));

			if (same) {
				json_object_put(old);
				continue;
			}
			if (comp_in_use(ctx, old)) {
				ctx->log(LOG_WARNING,
					 "cluster.conf changes component %s, which is in use: keeping the old definition",
					 c->name);
				json_object_put(old);
				continue;
			}
			ret = comp_redefine(ctx, old, c, err);
			json_object_put(old);
			if (ret)
				return ret;
			continue;
		}
		ret = vn_component_add(ctx, c, "config", false, NULL, &e);
		if (ret)
			return vn_seterr(err, -ret, "cluster.conf: %s", e.msg);
	}
	/* config components no longer in the file go away (if unused) */
	ret = vn_db_comp_from_config(ctx, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		bool found = false;

		for (j = 0; j < conf->nr_comps; j++)
			if (!strcmp(conf->comps[j].name, vn_jstr(c, "name")))
				found = true;
		if (found)
			continue;
		if (comp_in_use(ctx, c)) {
			ctx->log(LOG_WARNING,
				 "component %s left cluster.conf but is in use: keeping it",
				 vn_jstr(c, "name"));
			continue;
		}
		comp_delete(ctx, c, "removed from cluster.conf", false, NULL);
	}
	json_object_put(rows);
	return 0;
}

/*
 * The background probe of every memory host.  A host that was up and
 * misses one probe is asked once more before it is marked down: one lost
 * answer (a busy guest, a dropped packet) is not a host going away, and
 * component.down makes placement skip it.  A host already down is not
 * asked twice, so a dead host costs one probe timeout per pass.
 */
int vn_probe_all(struct vn_ctx *ctx, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *rows;
	size_t i, n;
	int ret;

	ret = vn_db_memory_hosts(ctx, false, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		struct vn_err e = { "" };
		const char *st = vn_jstr(c, "state");

		ret = vn_probe_host(ctx, vn_jstr(c, "addr"), (int)vn_jint(c, "port"),
				    NULL, 0, &r, &e);
		if (ret && st && !strcmp(st, "up")) {
			ctx->log(LOG_INFO, "component %s missed a probe (%s); asking again",
				 vn_jstr(c, "name"), e.msg);
			e.msg[0] = 0;
			ret = vn_probe_host(ctx, vn_jstr(c, "addr"),
					    (int)vn_jint(c, "port"), NULL, 0, &r, &e);
		}
		record_probe(ctx, c, ret, &r, e.msg);
	}
	json_object_put(rows);
	return 0;
}
