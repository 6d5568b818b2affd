// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core.h"
#include "core_priv.h"
#include "db.h"
#include "size.h"
#include "volume.h"

#define MIB (1ULL << 20)

static void nolog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

int vn_ctx_init(struct vn_ctx *ctx, const char *dbpath, const char *sysroot,
		const struct vn_cluster *cluster, struct vn_err *err)
{
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->reply_fd = -1;
	ret = vn_kern_init(&ctx->kern, sysroot, err);
	if (ret)
		return ret;
	if (vn_path(ctx->dbpath, sizeof(ctx->dbpath), "%s", dbpath))
		return vn_seterr(err, ENAMETOOLONG, "state path too long");
	ret = vn_db_open(dbpath, &ctx->db, err);
	if (ret)
		return ret;
	if (cluster) {
		ctx->cluster = *cluster;
	} else {
		struct vn_conf c;

		vn_conf_defaults(&c);
		ctx->cluster = c.cluster;
	}
	if (ctx->kern.fake) {
		vn_probe_fake_root(ctx->kern.root);
		ctx->probe = vn_probe_fake;
		ctx->agent = vn_agent_fake;
	} else {
		ctx->probe = vn_probe_rdma;
		ctx->agent = vn_agent_tcp;
	}
	snprintf(ctx->fake_peer, sizeof(ctx->fake_peer), "10.0.0.1");
	ctx->detach_timeout_ms = 10000;
	ctx->kill_timeout_ms = 5000;
	ctx->log = nolog;
	return 0;
}

void vn_ctx_fini(struct vn_ctx *ctx)
{
	if (ctx->db)
		sqlite3_close(ctx->db);
	ctx->db = NULL;
	if (ctx->reply_fd >= 0)
		close(ctx->reply_fd);
	ctx->reply_fd = -1;
}

/* ---- small db helpers ---------------------------------------------------- */

/* First row of a query as a JSON object, or NULL (*out) if none. */
int vn_q_one(struct vn_ctx *ctx, const char *sql,
		     const char *const *binds, json_object **out,
		     struct vn_err *err)
{
	json_object *rows;
	int ret;

	*out = NULL;
	ret = vn_db_query_json(ctx->db, sql, binds, &rows, err);
	if (ret)
		return ret;
	if (json_object_array_length(rows))
		*out = json_object_get(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	return 0;
}

int64_t vn_jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

const char *vn_jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
	       json_object_get_string(v) : NULL;
}

int vn_step_done(struct vn_ctx *ctx, sqlite3_stmt *st, struct vn_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return vn_seterr(err, EEXIST, "constraint failed: %s",
				 sqlite3_errmsg(ctx->db));
	if (rc != SQLITE_DONE)
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(ctx->db));
	return 0;
}

int vn_prep(struct vn_ctx *ctx, const char *sql, sqlite3_stmt **st,
		struct vn_err *err)
{
	if (sqlite3_prepare_v2(ctx->db, sql, -1, st, NULL) != SQLITE_OK)
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(ctx->db));
	return 0;
}

#define COMP_COLS "id, name, kind, addr, port, source, state, capacity, used, " \
		  "slab_shift, last_probe, last_error, created"
#define VNODE_COLS "id, name, mem, cache, mem - cache AS quota, replicas, cpus, " \
		   "owner_uid, cgroup, cgroup_id, state, ephemeral, creator_pid, created"

int vn_get_component(struct vn_ctx *ctx, const char *name,
			 json_object **out, struct vn_err *err)
{
	const char *b[] = { name, NULL };
	int ret;

	ret = vn_q_one(ctx, "SELECT " COMP_COLS " FROM components WHERE name = ?",
			b, out, err);
	if (!ret && !*out)
		return vn_seterr(err, ENOENT, "unknown component '%s'", name);
	return ret;
}

int vn_get_vnode(struct vn_ctx *ctx, const char *name, json_object **out,
		     struct vn_err *err)
{
	const char *b[] = { name, NULL };
	int ret;

	ret = vn_q_one(ctx, "SELECT " VNODE_COLS " FROM vnodes WHERE name = ?",
			b, out, err);
	if (!ret && !*out)
		return vn_seterr(err, ENOENT, "unknown vNode '%s'", name);
	return ret;
}

/* ---- components ----------------------------------------------------------- */

/* Store a probe result (and an event when the state changes). */
static void record_probe(struct vn_ctx *ctx, json_object *comp, int ret,
			 const struct vn_probe_result *r, const char *msg)
{
	const char *state = ret ? "down" : "up";
	char old[16] = "";
	sqlite3_stmt *st;

	/* copy: the "state" member is replaced below */
	if (vn_jstr(comp, "state"))
		snprintf(old, sizeof(old), "%s", vn_jstr(comp, "state"));

	if (vn_prep(ctx, "UPDATE components SET state = ?, capacity = ?, used = ?, "
		 "slab_shift = ?, last_probe = ?, last_error = ? WHERE id = ?",
		 &st, NULL))
		return;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ret ? vn_jint(comp, "capacity") : (int64_t)r->capacity);
	sqlite3_bind_int64(st, 3, ret ? vn_jint(comp, "used") : (int64_t)r->used);
	sqlite3_bind_int(st, 4, ret ? (int)vn_jint(comp, "slab_shift") : r->slab_shift);
	sqlite3_bind_int64(st, 5, vn_now_ms());
	if (ret)
		sqlite3_bind_text(st, 6, msg, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, vn_jint(comp, "id"));
	vn_step_done(ctx, st, NULL);

	json_object_object_add(comp, "state", json_object_new_string(state));
	if (!ret) {
		json_object_object_add(comp, "capacity", json_object_new_int64((int64_t)r->capacity));
		json_object_object_add(comp, "used", json_object_new_int64((int64_t)r->used));
		json_object_object_add(comp, "slab_shift", json_object_new_int(r->slab_shift));
		json_object_object_add(comp, "last_error", NULL);
		if (r->nr_clients >= 0)
			json_object_object_add(comp, "nr_clients",
					       json_object_new_int(r->nr_clients));
	} else {
		json_object_object_add(comp, "last_error", json_object_new_string(msg));
	}
	if (strcmp(old, state)) {
		ctx->log(ret ? LOG_WARNING : LOG_INFO, "component %s is %s%s%s",
			 vn_jstr(comp, "name"), state, ret ? ": " : "", ret ? msg : "");
		vn_event(ctx->db, ret ? "component.down" : "component.up",
			 "component", vn_jstr(comp, "name"), comp, NULL);
	}
}

static int probe_comp(struct vn_ctx *ctx, json_object *comp,
		      struct vn_probe_result *r, struct vn_err *err)
{
	struct vn_err e = { "" };
	int ret;

	if (strcmp(vn_jstr(comp, "kind"), "memory")) {
		/* storage hosts: probed by the storage client later */
		memset(r, 0, sizeof(*r));
		return 0;
	}
	ret = ctx->probe(vn_jstr(comp, "addr"), (int)vn_jint(comp, "port"),
			 ctx->cluster.probe_timeout_ms, r, &e);
	record_probe(ctx, comp, ret, r, e.msg);
	if (ret)
		return vn_seterr(err, -ret, "%s", e.msg);
	return 0;
}

int vn_component_add(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		     const char *source, bool probe, json_object **out,
		     struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *row = NULL;
	sqlite3_stmt *st;
	int ret;

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

	{
		const char *b[] = { c->name, NULL };
		json_object *o = NULL;

		/* clear duplicate errors first, before a slow probe */
		vn_q_one(ctx, "SELECT name FROM components WHERE name = ?", b, &o, NULL);
		if (o) {
			json_object_put(o);
			return vn_seterr(err, EEXIST, "component '%s' already exists",
					 c->name);
		}
	}
	if (probe && c->kind == VN_COMP_MEMORY) {
		struct vn_err e;

		ret = ctx->probe(c->addr, c->port, ctx->cluster.probe_timeout_ms,
				 &r, &e);
		if (ret)
			return vn_seterr(err, -ret, "not adding %s: %s", c->name, e.msg);
	}

	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = vn_prep(ctx, "INSERT INTO components (name, kind, addr, port, source, created) "
		   "VALUES (?, ?, ?, ?, ?, ?)", &st, err);
	if (ret)
		goto fail;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vn_kind_name(c->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, c->port);
	sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, vn_now_ms());
	ret = vn_step_done(ctx, st, err);
	if (ret == -EEXIST) {
		json_object *o = NULL;
		const char *b[] = { c->name, NULL };

		vn_q_one(ctx, "SELECT name FROM components WHERE name = ?", b, &o, NULL);
		if (o)
			vn_seterr(err, EEXIST, "component '%s' already exists", c->name);
		else
			vn_seterr(err, EEXIST,
				  "another component already uses %s port %d",
				  c->addr, c->port);
		json_object_put(o);
		goto fail;
	}
	if (ret)
		goto fail;
	ret = vn_get_component(ctx, c->name, &row, err);
	if (ret)
		goto fail;
	ret = vn_event(ctx->db, "component.add", "component", c->name, row, err);
	if (ret)
		goto fail;
	ret = vn_db_commit(ctx->db, err);
	if (ret)
		goto fail;
	ctx->log(LOG_INFO, "component %s (%s %s:%d) added from %s", c->name,
		 vn_kind_name(c->kind), c->addr, c->port, source);
	if (probe && c->kind == VN_COMP_MEMORY)
		record_probe(ctx, row, 0, &r, "");
	if (out)
		*out = row;
	else
		json_object_put(row);
	return 0;
fail:
	json_object_put(row);
	vn_db_rollback(ctx->db);
	return ret;
}

static int comp_in_use(struct vn_ctx *ctx, json_object *comp)
{
	char id[32];
	const char *b[] = { id, NULL };
	json_object *o;
	int n = 0;

	snprintf(id, sizeof(id), "%" PRId64, vn_jint(comp, "id"));
	if (!vn_q_one(ctx, "SELECT (SELECT count(*) FROM allocations WHERE component_id = ?1) + "
		      "(SELECT count(*) FROM volumes WHERE component_id = ?1) AS n",
		       b, &o, NULL) && o) {
		n = (int)vn_jint(o, "n");
		json_object_put(o);
	}
	return n;
}

static int comp_delete(struct vn_ctx *ctx, json_object *comp, const char *why,
		       struct vn_err *err)
{
	sqlite3_stmt *st;
	int ret;

	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = vn_prep(ctx, "DELETE FROM components WHERE id = ?", &st, err);
	if (!ret) {
		sqlite3_bind_int64(st, 1, vn_jint(comp, "id"));
		ret = vn_step_done(ctx, st, err);
	}
	if (!ret) {
		json_object_object_add(comp, "reason", json_object_new_string(why));
		ret = vn_event(ctx->db, "component.remove", "component",
			       vn_jstr(comp, "name"), comp, err);
	}
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret)
		vn_db_rollback(ctx->db);
	return ret;
}

int vn_component_remove(struct vn_ctx *ctx, const char *name,
			struct vn_err *err)
{
	json_object *comp;
	int ret, n;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	n = comp_in_use(ctx, comp);
	if (n) {
		json_object_put(comp);
		return vn_seterr(err, EBUSY,
				 "component '%s' holds remote memory or volumes of %d vNode(s)/volume(s); destroy or delete them first",
				 name, n);
	}
	ret = comp_delete(ctx, comp, "removed by user", err);
	json_object_put(comp);
	if (!ret)
		ctx->log(LOG_INFO, "component %s removed", name);
	return ret;
}

int vn_component_list(struct vn_ctx *ctx, json_object **out,
		      struct vn_err *err)
{
	return vn_db_query_json(ctx->db, "SELECT c." COMP_COLS ", "
		"(SELECT coalesce(sum(a.bytes), 0) FROM allocations a "
		" WHERE a.component_id = c.id) AS reserved "
		"FROM components c ORDER BY c.name", NULL, out, err);
}

int vn_component_show(struct vn_ctx *ctx, const char *name, bool probe,
		      json_object **out, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *comp;
	struct vn_err e;
	int ret;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	if (probe && !probe_comp(ctx, comp, &r, &e) &&
	    !strcmp(vn_jstr(comp, "kind"), "memory")) {
		json_object_object_add(comp, "server_id",
				       json_object_new_uint64(r.server_id));
		json_object_object_add(comp, "rtt_us", json_object_new_int64(r.rtt_us));
	}
	json_object_object_add(comp, "reserved",
			       json_object_new_int64(0));
	{
		char id[32];
		const char *b[] = { id, NULL };
		json_object *o;

		snprintf(id, sizeof(id), "%" PRId64, vn_jint(comp, "id"));
		if (!vn_q_one(ctx, "SELECT coalesce(sum(bytes), 0) AS r FROM allocations "
			       "WHERE component_id = ?", b, &o, NULL) && o) {
			json_object_object_add(comp, "reserved",
					       json_object_new_int64(vn_jint(o, "r")));
			json_object_put(o);
		}
	}
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
			ret = comp_delete(ctx, old, "changed in cluster.conf", err);
			json_object_put(old);
			if (ret)
				return ret;
		}
		ret = vn_component_add(ctx, c, "config", false, NULL, &e);
		if (ret)
			return vn_seterr(err, -ret, "cluster.conf: %s", e.msg);
	}
	/* config components no longer in the file go away (if unused) */
	ret = vn_db_query_json(ctx->db, "SELECT " COMP_COLS " FROM components "
			       "WHERE source = 'config'", NULL, &rows, err);
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
		comp_delete(ctx, c, "removed from cluster.conf", NULL);
	}
	json_object_put(rows);
	return 0;
}

int vn_probe_all(struct vn_ctx *ctx, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *rows;
	size_t i, n;
	int ret;

	ret = vn_db_query_json(ctx->db, "SELECT " COMP_COLS " FROM components "
			       "WHERE kind = 'memory' ORDER BY name", NULL, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++)
		probe_comp(ctx, json_object_array_get_idx(rows, i), &r, NULL);
	json_object_put(rows);
	return 0;
}

/* ---- placement ------------------------------------------------------------ */

struct host {
	int64_t id;
	char name[32];
	char addr[VN_ADDR_MAX + 8];
	bool up;
	bool in_disk;
	int slab_shift;
	uint64_t capacity, used, reserved, free, take;
	char err[128];
};

static bool host_in_list(const char *list, const char *hp)
{
	size_t l = strlen(hp);
	const char *p = list;

	while ((p = strstr(p, hp))) {
		if ((p == list || p[-1] == ',') && (p[l] == ',' || !p[l]))
			return true;
		p += l;
	}
	return false;
}

/* Probe memory hosts and fill hosts[] (free = capacity - max(reserved, used)). */
static int load_hosts(struct vn_ctx *ctx, const struct vn_disk_info *di,
		      struct host *hosts, int max, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *rows;
	size_t i, n;
	int nh = 0, ret;

	ret = vn_db_query_json(ctx->db, "SELECT c." COMP_COLS ", "
		"(SELECT coalesce(sum(a.bytes), 0) FROM allocations a "
		" WHERE a.component_id = c.id) AS reserved "
		"FROM components c WHERE kind = 'memory' ORDER BY name",
		NULL, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n && nh < max; i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		struct host *h = &hosts[nh++];
		struct vn_err e = { "" };
		uint64_t busy;

		memset(h, 0, sizeof(*h));
		h->id = vn_jint(c, "id");
		snprintf(h->name, sizeof(h->name), "%s", vn_jstr(c, "name"));
		snprintf(h->addr, sizeof(h->addr), "%s:%" PRId64, vn_jstr(c, "addr"),
			 vn_jint(c, "port"));
		h->reserved = (uint64_t)vn_jint(c, "reserved");
		h->in_disk = !di->enabled || host_in_list(di->hosts, h->addr);
		if (probe_comp(ctx, c, &r, &e)) {
			snprintf(h->err, sizeof(h->err), "%s", e.msg);
			continue;
		}
		h->up = true;
		h->capacity = r.capacity;
		h->used = r.used;
		h->slab_shift = r.slab_shift;
		busy = h->reserved > h->used ? h->reserved : h->used;
		h->free = h->capacity > busy ? h->capacity - busy : 0;
	}
	json_object_put(rows);
	return nh;
}

/*
 * r copies of quota bytes, each slab's copies on distinct hosts: host h
 * can hold at most min(free_h, quota).  Feasible iff the sum of those is
 * >= r * quota; then filling hosts in order of free space never gets
 * stuck.  Sets hosts[i].take.
 */
static int place(struct host *hosts, int nh, uint64_t quota, int r,
		 uint64_t *avail)
{
	uint64_t need = quota * (uint64_t)r, sum = 0;
	int i, j, order[VN_MAX_COMPONENTS];

	for (i = 0; i < nh; i++) {
		hosts[i].take = 0;
		order[i] = i;
		if (hosts[i].up && hosts[i].in_disk)
			sum += hosts[i].free < quota ? hosts[i].free : quota;
	}
	*avail = sum;
	if (sum < need)
		return -ENOSPC;
	for (i = 1; i < nh; i++)	/* insertion sort by free, descending */
		for (j = i; j > 0 && hosts[order[j]].free > hosts[order[j - 1]].free; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < nh && need; i++) {
		struct host *h = &hosts[order[i]];
		uint64_t t;

		if (!h->up || !h->in_disk)
			continue;
		t = h->free < quota ? h->free : quota;
		if (t > need)
			t = need;
		h->take = t;
		need -= t;
	}
	return 0;
}

static void hosts_summary(const struct host *hosts, int nh, char *buf,
			  size_t len)
{
	size_t off = 0;
	char sz[32];
	int i;

	buf[0] = '\0';
	for (i = 0; i < nh && off < len; i++) {
		const struct host *h = &hosts[i];
		int n;

		if (!h->up)
			n = snprintf(buf + off, len - off, "%s%s down", off ? ", " : "",
				     h->name);
		else if (!h->in_disk)
			n = snprintf(buf + off, len - off, "%s%s not in the swap disk",
				     off ? ", " : "", h->name);
		else {
			vn_fmt_size(h->free, sz, sizeof(sz));
			n = snprintf(buf + off, len - off, "%s%s %s free", off ? ", " : "",
				     h->name, sz);
		}
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!nh)
		snprintf(buf, len, "no memory hosts configured");
}

/* ---- the shared swap disk ----------------------------------------------- */

static int ensure_disk(struct vn_ctx *ctx, struct vn_disk_info *di,
		       const struct host *hosts, int nh, struct vn_err *err)
{
	char list[512] = "", sz[32];
	uint64_t total = 0, size;
	int i, shift = -1, ret;
	size_t off = 0;

	ret = vn_disk_info(&ctx->kern, ctx->cluster.disk, di);
	if (ret)
		return vn_seterr(err, -ret, "cannot read disk state");
	if (di->enabled && di->dev[0]) {
		if (di->swap_active)
			return 0;
		ret = vn_swap_on(&ctx->kern, di->dev, true, err);
		if (!ret) {
			di->swap_active = true;
			ctx->log(LOG_NOTICE, "swap re-enabled on /dev/%s", di->dev);
		}
		return ret;
	}
	for (i = 0; i < nh; i++) {
		const struct host *h = &hosts[i];
		int n;

		if (!h->up)
			continue;
		if (shift >= 0 && h->slab_shift != shift) {
			ctx->log(LOG_WARNING, "memory host %s has slab_shift %d, others %d: left out of the disk",
				 h->name, h->slab_shift, shift);
			continue;
		}
		shift = h->slab_shift;
		n = snprintf(list + off, sizeof(list) - off, "%s%s", off ? "," : "",
			     h->addr);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
		total += h->capacity;
	}
	if (!off)
		return vn_seterr(err, EHOSTUNREACH, "no memory host is reachable");
	size = ctx->cluster.disk_size;
	if (!size)
		size = total / (uint64_t)ctx->cluster.replicas;
	size &= ~(MIB - 1);
	if (!size)
		return vn_seterr(err, ENOSPC, "memory hosts export no capacity");
	ret = vn_disk_setup(&ctx->kern, ctx->cluster.disk, list, size,
			    ctx->cluster.replicas, di, err);
	if (ret)
		return ret;
	ret = vn_swap_on(&ctx->kern, di->dev, true, err);
	if (ret) {
		char p[PATH_MAX];

		/* leave the disk disabled, not half set up */
		vn_kpath(&ctx->kern, p, sizeof(p), VN_CFS "/mem/%s/enable",
			 ctx->cluster.disk);
		vn_write_file(p, "0", false);
		return ret;
	}
	di->swap_active = true;
	vn_disk_info(&ctx->kern, ctx->cluster.disk, di);
	vn_fmt_size(size, sz, sizeof(sz));
	ctx->log(LOG_NOTICE, "remote-memory swap disk /dev/%s: %s on %s, %d replica(s)",
		 di->dev, sz, list, ctx->cluster.replicas);
	{
		json_object *d = json_object_new_object();

		json_object_object_add(d, "disk", json_object_new_string(ctx->cluster.disk));
		json_object_object_add(d, "dev", json_object_new_string(di->dev));
		json_object_object_add(d, "hosts", json_object_new_string(list));
		json_object_object_add(d, "size", json_object_new_uint64(size));
		json_object_object_add(d, "replicas",
				       json_object_new_int(ctx->cluster.replicas));
		vn_event(ctx->db, "disk.enable", "disk", ctx->cluster.disk, d, NULL);
		json_object_put(d);
	}
	return 0;
}

/* ---- vNodes --------------------------------------------------------------- */

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

static int64_t sum_quota(struct vn_ctx *ctx)
{
	json_object *o;
	int64_t q = 0;

	if (!vn_q_one(ctx, "SELECT coalesce(sum(mem - cache), 0) AS q FROM vnodes",
		       NULL, &o, NULL) && o) {
		q = vn_jint(o, "q");
		json_object_put(o);
	}
	return q;
}

int vn_vnode_create(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		    const struct vn_caller *who, json_object **out,
		    struct vn_err *err)
{
	struct host hosts[VN_MAX_COMPONENTS];
	struct vn_disk_info di = { 0 };
	char m[32], c[32], q[32], a[32], summary[512];
	json_object *row = NULL, *existing = NULL;
	struct vn_vol_plan vol;
	uint64_t quota, cgid = 0, avail;
	int replicas, nh = 0, i, ret;
	sqlite3_stmt *st;
	int64_t vid;
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
	ret = vn_volume_prepare(ctx, req, owner, who, &vol, err);
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
		nh = load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, err);
		if (nh < 0)
			return nh;
		ret = place(hosts, nh, quota, replicas, &avail);
		if (ret) {
			hosts_summary(hosts, nh, summary, sizeof(summary));
			vn_fmt_size(avail & ~(MIB - 1), a, sizeof(a));
			if (replicas > 1)
				return vn_seterr(err, ENOSPC,
						 "not enough remote memory: vNode '%s' needs %d x %s on distinct memory hosts, only %s can be placed (%s)",
						 req->name, replicas, q, a, summary);
			return vn_seterr(err, ENOSPC,
					 "not enough remote memory: vNode '%s' needs %s, the memory hosts have %s free (%s)",
					 req->name, q, a, summary);
		}
		if (di.enabled && di.size &&
		    (uint64_t)sum_quota(ctx) + quota > di.size) {
			char ds[32];

			vn_fmt_size(di.size, ds, sizeof(ds));
			return vn_seterr(err, ENOSPC,
					 "not enough swap: the vNodes' remote quotas would exceed the %s swap disk /dev/%s",
					 ds, di.dev);
		}
		/* 3. the shared remote-memory swap disk */
		ret = ensure_disk(ctx, &di, hosts, nh, err);
		if (ret)
			return ret;
	}

	/* 4. cgroup + 5. accounting object, unwound on failure */
	ret = vn_cg_create(&ctx->kern, req->name, err);
	if (ret)
		return ret;
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
	if (ret)
		goto out_acct;
	/* 5b. the volume: storage host, /dev/vnblkN, ext4 */
	ret = vn_volume_setup(ctx, &vol, err);
	if (ret)
		goto out_acct;

	/* 6. state */
	ret = vn_db_begin(ctx->db, err);
	if (ret)
		goto out_acct;
	ret = vn_prep(ctx, "INSERT INTO vnodes (name, mem, cache, replicas, cpus, owner_uid, "
		   "cgroup, cgroup_id, state, ephemeral, creator_pid, created) "
		   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)", &st, err);
	if (ret)
		goto out_db;
	{
		char cg[PATH_MAX];

		snprintf(cg, sizeof(cg), VN_CGROOT "/" VN_CGPARENT "/%s", req->name);
		sqlite3_bind_text(st, 1, req->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)req->mem);
		sqlite3_bind_int64(st, 3, (int64_t)req->cache);
		sqlite3_bind_int(st, 4, replicas);
		if (req->cpus[0])
			sqlite3_bind_text(st, 5, req->cpus, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, owner);
		sqlite3_bind_text(st, 7, cg, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 8, (int64_t)cgid);
		sqlite3_bind_int(st, 9, req->ephemeral);
		sqlite3_bind_int64(st, 10, req->creator_pid);
		sqlite3_bind_int64(st, 11, vn_now_ms());
	}
	ret = vn_step_done(ctx, st, err);
	if (ret)
		goto out_db;
	vid = sqlite3_last_insert_rowid(ctx->db);
	for (i = 0; i < nh; i++) {
		if (!hosts[i].take)
			continue;
		ret = vn_prep(ctx, "INSERT INTO allocations (vnode_id, component_id, bytes) "
			   "VALUES (?, ?, ?)", &st, err);
		if (ret)
			goto out_db;
		sqlite3_bind_int64(st, 1, vid);
		sqlite3_bind_int64(st, 2, hosts[i].id);
		sqlite3_bind_int64(st, 3, (int64_t)hosts[i].take);
		ret = vn_step_done(ctx, st, err);
		if (ret)
			goto out_db;
	}
	ret = vn_volume_commit(ctx, &vol, vid, req->name, err);
	if (ret)
		goto out_db;
	ret = vn_vnode_show(ctx, req->name, &row, err);
	if (ret)
		goto out_db;
	ret = vn_event(ctx->db, "vnode.create", "vnode", req->name, row, err);
	if (ret)
		goto out_db;
	ret = vn_db_commit(ctx->db, err);
	if (ret)
		goto out_db;
	ctx->log(LOG_INFO, "vNode %s created: mem %s cache %s remote %s x%d, cgroup id %" PRIu64,
		 req->name, m, c, q, replicas, cgid);
	if (out)
		*out = row;
	else
		json_object_put(row);
	return 0;

out_db:
	json_object_put(row);
	vn_db_rollback(ctx->db);
	vn_volume_unwind(ctx, &vol);
out_acct:
	vn_acct_remove(&ctx->kern, req->name, NULL);
out_cg:
	vn_cg_remove(&ctx->kern, req->name, NULL);
	return ret;
}

static int vnode_teardown(struct vn_ctx *ctx, json_object *vn, bool force,
			  bool keep_storage, const char *why, struct vn_err *err)
{
	const char *name = vn_jstr(vn, "name");
	json_object *vol = NULL;
	sqlite3_stmt *st;
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
	/* its processes are gone: so are their mount namespaces */
	ret = vn_volume_detach_vnode(ctx, vn, &vol, err);
	if (!ret)
		ret = vn_acct_remove(&ctx->kern, name, err);
	if (!ret)
		ret = vn_cg_remove(&ctx->kern, name, err);
	if (!ret)
		ret = vn_db_begin(ctx->db, err);
	if (ret)
		goto out;
	ret = vn_volume_release(ctx, vol, keep_storage, err);
	if (!ret)
		ret = vn_prep(ctx, "DELETE FROM vnodes WHERE id = ?", &st, err);
	if (!ret) {
		sqlite3_bind_int64(st, 1, vn_jint(vn, "id"));
		ret = vn_step_done(ctx, st, err);
	}
	if (!ret) {
		json_object_object_add(vn, "reason", json_object_new_string(why));
		ret = vn_event(ctx->db, "vnode.destroy", "vnode", name, vn, err);
	}
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		vn_db_rollback(ctx->db);
		goto out;
	}
	ctx->log(LOG_INFO, "vNode %s destroyed (%s)", name, why);
	vn_volume_finish(ctx, vol);
out:
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
		ret = vnode_teardown(ctx, vn, force, keep_storage, force ? "by user, processes killed" :
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
	vn_event(ctx->db, "vnode.attach", "vnode", name, d, NULL);
	json_object_put(d);
out:
	json_object_put(vn);
	return ret;
}

int vn_vnode_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	size_t i, n;
	int ret;

	ret = vn_db_query_json(ctx->db, "SELECT " VNODE_COLS " FROM vnodes ORDER BY name",
			       NULL, out, err);
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

int vn_vnode_show(struct vn_ctx *ctx, const char *name, json_object **out,
		  struct vn_err *err)
{
	json_object *v, *allocs;
	char id[32];
	const char *b[] = { id, NULL };
	int ret;

	ret = vn_get_vnode(ctx, name, &v, err);
	if (ret)
		return ret;
	snprintf(id, sizeof(id), "%" PRId64, vn_jint(v, "id"));
	if (!vn_db_query_json(ctx->db, "SELECT c.name AS host, c.addr || ':' || c.port AS addr, "
			      "a.bytes FROM allocations a JOIN components c "
			      "ON c.id = a.component_id WHERE a.vnode_id = ? ORDER BY c.name",
			      b, &allocs, NULL))
		json_object_object_add(v, "allocations", allocs);
	json_object_object_add(v, "volume", vn_volume_of_vnode(ctx, vn_jint(v, "id")));
	add_runtime(ctx, v);
	*out = v;
	return 0;
}

int vn_vnode_stats(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	json_object *rows, *res;
	size_t i, n;
	int ret;

	ret = vn_db_query_json(ctx->db, "SELECT name, mem, cache FROM vnodes ORDER BY name",
			       NULL, &rows, err);
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
	json_object_object_add(d, "swap_active", json_object_new_boolean(di.swap_active));
	json_object_object_add(d, "quota_total", json_object_new_int64(sum_quota(ctx)));
	*out = d;
	return 0;
}

/* ---- reconciliation ---------------------------------------------------- */

static void set_state(struct vn_ctx *ctx, json_object *v, const char *state,
		      const char *why)
{
	sqlite3_stmt *st;

	if (!strcmp(vn_jstr(v, "state"), state))
		return;
	if (vn_prep(ctx, "UPDATE vnodes SET state = ? WHERE id = ?", &st, NULL))
		return;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vn_jint(v, "id"));
	vn_step_done(ctx, st, NULL);
	json_object_object_add(v, "state", json_object_new_string(state));
	json_object_object_add(v, "reason", json_object_new_string(why));
	vn_event(ctx->db, "vnode.state", "vnode", vn_jstr(v, "name"), v, NULL);
}

static int reconcile_one(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	uint64_t cgid = 0, kid = 0;
	struct vn_err e = { "" };
	const char *cpus = vn_jstr(v, "cpus");
	int fixed = 0, ret;

	if (!vn_cg_exists(&ctx->kern, name)) {
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
	if ((int64_t)cgid != vn_jint(v, "cgroup_id")) {
		sqlite3_stmt *st;

		if (!vn_prep(ctx, "UPDATE vnodes SET cgroup_id = ? WHERE id = ?", &st, NULL)) {
			sqlite3_bind_int64(st, 1, (int64_t)cgid);
			sqlite3_bind_int64(st, 2, vn_jint(v, "id"));
			vn_step_done(ctx, st, NULL);
		}
		json_object_object_add(v, "cgroup_id", json_object_new_int64((int64_t)cgid));
		fixed++;
	}
	if (fixed) {
		ctx->log(LOG_NOTICE, "vNode %s: restored kernel state (%d fix(es))",
			 name, fixed);
		vn_event(ctx->db, "vnode.reconcile", "vnode", name, v, NULL);
	}
	set_state(ctx, v, "active", "reconciled");
	return 0;
bad:
	ctx->log(LOG_ERR, "vNode %s: cannot restore kernel state: %s", name, e.msg);
	set_state(ctx, v, "broken", e.msg);
	return 1;
}

int vn_reconcile(struct vn_ctx *ctx, bool reap)
{
	struct host hosts[VN_MAX_COMPONENTS];
	struct vn_disk_info di;
	json_object *rows;
	int bad = 0, nh;
	size_t i, n;

	if (vn_db_query_json(ctx->db, "SELECT " VNODE_COLS " FROM vnodes ORDER BY name",
			     NULL, &rows, NULL))
		return 1;
	n = json_object_array_length(rows);
	if (sum_quota(ctx) > 0 && !vn_disk_info(&ctx->kern, ctx->cluster.disk, &di) &&
	    !(di.enabled && di.swap_active)) {
		struct vn_err e = { "" };

		nh = load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, &e);
		if (nh < 0 || ensure_disk(ctx, &di, hosts, nh, &e)) {
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

				if (!vnode_teardown(ctx, v, false, false,
						    "throw-away vNode whose vnode-run is gone", &e))
					continue;
			}
		}
		bad += reconcile_one(ctx, v);
	}
	json_object_put(rows);
	return bad + vn_volume_reconcile(ctx);
}
