// SPDX-License-Identifier: GPL-2.0
/* vnoded's request handlers: one function per control-protocol command
 * (the framing is lib/ipc.c's); each checks its arguments and calls the
 * daemon's logic. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "evict.h"
#include "fabric_link.h"
#include "ipc.h"
#include "volume.h"
#include "vnoded.h"

/* One request as the handlers see it; name is set for commands of
 * objects (the table's `named`), checked before the handler runs. */
struct hreq {
	struct vn_ctx *ctx;
	json_object *args;
	const struct vn_caller *who;
	const char *name;
	json_object **data;
	struct vn_err *err;
};

typedef int (*handler_fn)(struct hreq *r);

/* Optional string argument into a fixed buffer. */
static int copy_arg(json_object *args, const char *key, char *buf, size_t len,
		    struct vn_err *err)
{
	const char *s = vn_arg_str(args, key);

	if (!s)
		return 0;
	if (strlen(s) >= len)
		return vn_seterr(err, EINVAL, "'%s' too long (max %zu)", key, len - 1);
	strcpy(buf, s);
	return 0;
}

static int need_root(const struct vn_caller *who, const char *what,
		     struct vn_err *err)
{
	if (who->uid)
		return vn_seterr(err, EPERM, "permission denied: only root may %s", what);
	return 0;
}

static int h_ping(struct hreq *r)
{
	*r->data = json_object_new_object();
	json_object_object_add(*r->data, "pid", json_object_new_int(getpid()));
	json_object_object_add(*r->data, "uid", json_object_new_int64(r->who->uid));
	json_object_object_add(*r->data, "db_version",
			       json_object_new_int(vn_db_version(r->ctx->db)));
	return 0;
}

static int h_comp_add(struct hreq *r)
{
	struct vn_conf_comp c = { 0 };
	const char *kind = vn_arg_str(r->args, "type"), *addr = vn_arg_str(r->args, "addr");
	uint64_t port = 0;
	int ret;

	ret = need_root(r->who, "add components", r->err);
	if (ret)
		return ret;
	if (!kind || vn_kind_parse(kind, &c.kind))
		return vn_seterr(r->err, EINVAL, "--type must be memory or storage, got '%s'",
				 kind ? kind : "");
	if (!addr)
		return vn_seterr(r->err, EINVAL, "missing addr");
	if (copy_arg(r->args, "name", c.name, sizeof(c.name), r->err) ||
	    copy_arg(r->args, "addr", c.addr, sizeof(c.addr), r->err))
		return -EINVAL;
	ret = vn_arg_u64(r->args, "port", &port);
	if (ret == -ENOENT)
		port = (uint64_t)vn_default_port(c.kind);
	else if (ret)
		return vn_seterr(r->err, EINVAL, "invalid 'port' (a number)");
	/* the range is vn_component_add's to check */
	c.port = port > INT_MAX ? INT_MAX : (int)port;
	return vn_component_add(r->ctx, &c, "cli", !vn_arg_bool(r->args, "no_probe"),
				r->data, r->err);
}

static int h_comp_remove(struct hreq *r)
{
	int ret = need_root(r->who, "remove components", r->err);

	return ret ? ret : vn_component_remove(r->ctx, r->name, r->err);
}

static int h_comp_drain(struct hreq *r)
{
	int ret = need_root(r->who, "drain components", r->err);

	return ret ? ret : vn_component_drain(r->ctx, r->name, true, r->data,
					      r->err);
}

static int h_comp_undrain(struct hreq *r)
{
	int ret = need_root(r->who, "take drained components back", r->err);

	return ret ? ret : vn_component_drain(r->ctx, r->name, false, r->data,
					      r->err);
}

/* An optional unsigned argument: *has set when given; -EINVAL otherwise
 * with the message naming key. */
static int opt_u64(json_object *args, const char *key, bool *has, uint64_t *v,
		   struct vn_err *err)
{
	int ret = vn_arg_u64(args, key, v);

	*has = !ret;
	if (ret && ret != -ENOENT)
		return vn_seterr(err, EINVAL, "invalid '%s' (a number)", key);
	return 0;
}

/* component set NAME: the fabric link of its host (fabric_link.h); bw_bps
 * is both directions, read_bps and write_bps override it */
static int h_comp_set(struct hreq *r)
{
	struct vn_fabric_req rq = { 0 };
	uint64_t bw = 0;
	bool has_bw;
	int ret = need_root(r->who, "set a component's fabric", r->err);

	if (!ret)
		ret = opt_u64(r->args, "delay_ns", &rq.has_delay, &rq.delay_ns, r->err);
	if (!ret)
		ret = opt_u64(r->args, "per_kib_ns", &rq.has_per_kib, &rq.per_kib_ns, r->err);
	if (!ret)
		ret = opt_u64(r->args, "jitter_ns", &rq.has_jitter, &rq.jitter_ns, r->err);
	if (!ret)
		ret = opt_u64(r->args, "bw_bps", &has_bw, &bw, r->err);
	if (!ret)
		ret = opt_u64(r->args, "read_bps", &rq.has_read, &rq.read_bps, r->err);
	if (!ret)
		ret = opt_u64(r->args, "write_bps", &rq.has_write, &rq.write_bps, r->err);
	if (ret)
		return ret;
	if (has_bw && !rq.has_read) {
		rq.has_read = true;
		rq.read_bps = bw;
		rq.read_opt = "--bw";
	}
	if (has_bw && !rq.has_write) {
		rq.has_write = true;
		rq.write_bps = bw;
		rq.write_opt = "--bw";
	}
	rq.jitter_dist = vn_arg_str(r->args, "jitter_dist");
	rq.preset = vn_arg_str(r->args, "fabric");
	rq.clear = vn_arg_bool(r->args, "clear");
	return vn_fabric_set_comp(r->ctx, r->name, &rq, r->data, r->err);
}

static int h_fabric_list(struct hreq *r)
{
	return vn_fabric_list(r->ctx, r->data, r->err);
}

static int h_comp_list(struct hreq *r)
{
	if (vn_arg_bool(r->args, "probe"))
		vn_probe_all(r->ctx, NULL);
	return vn_component_list(r->ctx, r->data, r->err);
}

static int h_comp_show(struct hreq *r)
{
	return vn_component_show(r->ctx, r->name, true, r->data, r->err);
}

/* "headroom": auto, off or a size (evict.h); -ENOENT when absent */
static int headroom_arg(json_object *args, int64_t *out, struct vn_err *err)
{
	const char *s = vn_arg_str(args, "headroom");

	if (!s)
		return -ENOENT;
	return vn_headroom_parse(s, out, err);
}

/* "prefetch": true or false, or "on" or "off" (vnode set --prefetch);
 * -ENOENT when absent */
static int prefetch_arg(json_object *args, bool *on, struct vn_err *err)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(args, "prefetch", &v))
		return -ENOENT;
	if (json_object_is_type(v, json_type_boolean)) {
		*on = json_object_get_boolean(v);
		return 0;
	}
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	if (strcmp(s, "on") && strcmp(s, "off"))
		return vn_seterr(err, EINVAL, "--prefetch must be on or off, got '%s'", s);
	*on = !strcmp(s, "on");
	return 0;
}

/* "protect": none, crc or aead (vnode create/set --protect); -ENOENT
 * when absent */
static int protect_arg(json_object *args, enum vn_protect *p, struct vn_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(args, "protect", &v))
		return -ENOENT;
	return vn_protect_parse("--protect", json_object_is_type(v, json_type_string) ?
				json_object_get_string(v) : "", p, err);
}

/* "storage_protect": none, integrity or crypt (vnode create
 * --storage-protect); -ENOENT when absent */
static int storage_protect_arg(json_object *args, enum vn_vol_protect *p,
			       struct vn_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(args, "storage_protect", &v))
		return -ENOENT;
	return vn_vol_protect_parse("--storage-protect",
				    json_object_is_type(v, json_type_string) ?
				    json_object_get_string(v) : "", p, err);
}

static int h_vnode_create(struct hreq *r)
{
	struct vn_vnode_req req = { 0 };
	json_object *args = r->args;
	struct vn_err *err = r->err;
	uint64_t v;
	int ret;

	if (copy_arg(args, "name", req.name, sizeof(req.name), err))
		return vn_seterr(err, EINVAL, "vNode name too long (max 31)");
	if (vn_arg_u64(args, "mem", &req.mem))
		return vn_seterr(err, EINVAL, "missing or invalid 'mem' (bytes)");
	if (vn_arg_u64(args, "cache", &req.cache))
		return vn_seterr(err, EINVAL, "missing or invalid 'cache' (bytes)");
	ret = vn_arg_u64(args, "replicas", &v);
	if (!ret)	/* out of range: vn_vnode_create says so */
		req.replicas = v < 1 || v > 2 ? -1 : (int)v;
	else if (ret != -ENOENT)
		return vn_seterr(err, EINVAL, "invalid 'replicas'");
	ret = copy_arg(args, "cpus", req.cpus, sizeof(req.cpus), err);
	if (!ret)
		ret = copy_arg(args, "owner", req.owner, sizeof(req.owner), err);
	if (!ret)
		ret = copy_arg(args, "volume", req.volume, sizeof(req.volume), err);
	if (!ret)
		ret = copy_arg(args, "stor_host", req.stor_host, sizeof(req.stor_host), err);
	if (!ret)
		ret = copy_arg(args, "mount", req.mountpoint, sizeof(req.mountpoint), err);
	if (!ret)
		ret = copy_arg(args, "fabric", req.fabric, sizeof(req.fabric), err);
	if (ret)
		return ret;
	ret = vn_arg_u64(args, "storage", &req.storage);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, EINVAL, "invalid 'storage' (bytes)");
	if (!ret && !req.storage)	/* 0 would mean "no volume" */
		return vn_volume_check_size(0, "--storage", err);
	req.keep_storage = vn_arg_bool(args, "keep_storage");
	ret = headroom_arg(args, &req.headroom, err);
	if (ret && ret != -ENOENT)
		return ret;
	req.has_headroom = !ret;
	ret = prefetch_arg(args, &req.prefetch, err);
	if (ret && ret != -ENOENT)
		return ret;
	ret = protect_arg(args, &req.protect, err);
	if (ret && ret != -ENOENT)
		return ret;
	req.has_protect = !ret;
	ret = storage_protect_arg(args, &req.storage_protect, err);
	if (ret && ret != -ENOENT)
		return ret;
	req.has_storage_protect = !ret;
	req.ephemeral = vn_arg_bool(args, "ephemeral");
	if (req.ephemeral)
		req.creator_pid = r->who->pid;
	return vn_vnode_create(r->ctx, &req, r->who, r->data, err);
}

static int h_vnode_destroy(struct hreq *r)
{
	return vn_vnode_destroy(r->ctx, r->name, vn_arg_bool(r->args, "force"),
				vn_arg_bool(r->args, "keep_storage"), r->who, r->err);
}

/* the pid is the caller's own, from SO_PEERCRED: nobody can move somebody
 * else's process */
static int h_vnode_attach(struct hreq *r)
{
	return vn_vnode_attach(r->ctx, r->name, r->who->pid, r->who, r->err);
}

static int h_vnode_mount(struct hreq *r)
{
	return vn_vnode_mount(r->ctx, r->name, r->who, r->data, r->err);
}

static int h_vnode_set(struct hreq *r)
{
	struct vn_vnode_set_req rq = { 0 };
	int ret = headroom_arg(r->args, &rq.headroom, r->err);

	if (ret && ret != -ENOENT)
		return ret;
	rq.has_headroom = !ret;
	ret = prefetch_arg(r->args, &rq.prefetch, r->err);
	if (ret && ret != -ENOENT)
		return ret;
	rq.has_prefetch = !ret;
	ret = protect_arg(r->args, &rq.protect, r->err);
	if (ret && ret != -ENOENT)
		return ret;
	rq.has_protect = !ret;
	if (!rq.has_headroom && !rq.has_prefetch && !rq.has_protect)
		return vn_seterr(r->err, EINVAL,
				 "nothing to set (--headroom, --prefetch, --protect)");
	return vn_vnode_set(r->ctx, r->name, &rq, r->who, r->data, r->err);
}

static int h_vnode_list(struct hreq *r)
{
	return vn_vnode_list(r->ctx, r->data, r->err);
}

static int h_vnode_show(struct hreq *r)
{
	return vn_vnode_show(r->ctx, r->name, r->data, r->err);
}

static int h_vnode_stats(struct hreq *r)
{
	return vn_vnode_stats(r->ctx, r->data, r->err);
}

static int h_disk_show(struct hreq *r)
{
	return vn_disk_show(r->ctx, r->data, r->err);
}

static int h_cluster_show(struct hreq *r)
{
	return vn_cluster_show(r->ctx, r->data, r->err);
}

bool vn_gid_member(gid_t want, gid_t primary, const gid_t *groups, int n)
{
	int i;

	if (primary == want)
		return true;
	for (i = 0; groups && i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

int vn_may_read(const struct vn_caller *who, const char *group, const char *what,
		struct vn_err *err)
{
	if (!who->uid || who->in_group)
		return 0;
	return vn_seterr(err, EPERM,
			 "permission denied: %s is for root and the group '%s' only (uid %u is not a member)",
			 what, group ? group : "vnode", (unsigned)who->uid);
}

static int h_sql(struct hreq *r)
{
	const char *q = vn_arg_str(r->args, "query");
	int ret = vn_may_read(r->who, r->ctx->group, "sql", r->err);

	if (ret)
		return ret;
	if (!q)
		return vn_seterr(r->err, EINVAL, "missing 'query'");
	/* a separate read-only connection, never the daemon's own, under
	 * time, row, memory and size limits */
	return vn_sql_readonly(r->ctx->cluster.database_ro[0] ? r->ctx->cluster.database_ro :
			       r->ctx->dbpath, q, &r->ctx->sql_limits, r->data, r->err);
}

/* "all_hosts": every process host's events (vnodectl monitor --all-hosts) */
static int h_events_watch(struct hreq *r)
{
	int ret = vn_may_read(r->who, r->ctx->group, "events.watch", r->err);
	json_object *all = NULL;

	if (ret)
		return ret;
	if (json_object_object_get_ex(r->args, "all_hosts", &all) &&
	    !json_object_is_type(all, json_type_boolean))
		return vn_seterr(r->err, EINVAL, "'all_hosts' must be true or false");
	return vn_watch_request(r->ctx, json_object_get_boolean(all), r->data, r->err);
}

static int h_vol_create(struct hreq *r)
{
	enum vn_vol_protect prot = r->ctx->cluster.storage_protect;
	uint64_t size;
	int ret;

	if (vn_arg_u64(r->args, "size", &size))
		return vn_seterr(r->err, EINVAL, "missing or invalid 'size' (bytes)");
	ret = storage_protect_arg(r->args, &prot, r->err);
	if (ret && ret != -ENOENT)
		return ret;
	return vn_volume_create(r->ctx, r->name, size, vn_arg_str(r->args, "stor_host"),
				vn_arg_str(r->args, "owner"), prot, r->who, r->data, r->err);
}

static int h_vol_delete(struct hreq *r)
{
	return vn_volume_delete(r->ctx, r->name, r->who, r->err);
}

static int h_vol_list(struct hreq *r)
{
	return vn_volume_list(r->ctx, r->data, r->err);
}

static int h_vol_show(struct hreq *r)
{
	return vn_volume_show(r->ctx, r->name, r->data, r->err);
}

/* vnodectl explore's results into explore_runs (anybody who may use the
 * socket: the rows carry the caller's uid; reading them is `sql`'s) */
static int h_explore_record(struct hreq *r)
{
	json_object *rows = json_object_object_get(r->args, "rows");
	const char *id = vn_arg_str(r->args, "id"), *cmd = vn_arg_str(r->args, "command");
	uint64_t v;
	size_t i;

	if (!id || !*id || strlen(id) > 64)
		return vn_seterr(r->err, EINVAL, "missing or invalid 'id' (1..64 characters)");
	if (!cmd || strlen(cmd) > 4096)
		return vn_seterr(r->err, EINVAL, "missing or invalid 'command' (at most 4096 characters)");
	if (vn_arg_u64(r->args, "started", &v) || vn_arg_u64(r->args, "mem", &v))
		return vn_seterr(r->err, EINVAL, "missing or invalid 'started' or 'mem' (numbers)");
	if (!json_object_is_type(rows, json_type_array) || !json_object_array_length(rows) ||
	    json_object_array_length(rows) > 1000)
		return vn_seterr(r->err, EINVAL, "'rows' must be an array of 1..1000 rows");
	for (i = 0; i < json_object_array_length(rows); i++)
		if (!json_object_is_type(json_object_array_get_idx(rows, i), json_type_object))
			return vn_seterr(r->err, EINVAL, "row %zu is not an object", i + 1);
	return vn_db_explore_insert(r->ctx, r->args, r->who->uid, r->err);
}

static const struct {
	const char *cmd;
	handler_fn fn;
	bool named;		/* needs args.name */
} handlers[] = {
	{ "ping", h_ping, false },
	{ "component.add", h_comp_add, true },
	{ "component.remove", h_comp_remove, true },
	{ "component.drain", h_comp_drain, true },
	{ "component.undrain", h_comp_undrain, true },
	{ "component.list", h_comp_list, false },
	{ "component.show", h_comp_show, true },
	{ "component.set", h_comp_set, true },
	{ "fabric.list", h_fabric_list, false },
	{ "vnode.create", h_vnode_create, true },
	{ "vnode.destroy", h_vnode_destroy, true },
	{ "vnode.attach", h_vnode_attach, true },
	{ "vnode.mount", h_vnode_mount, true },
	{ "vnode.set", h_vnode_set, true },
	{ "vnode.list", h_vnode_list, false },
	{ "vnode.show", h_vnode_show, true },
	{ "vnode.stats", h_vnode_stats, false },
	{ "volume.create", h_vol_create, true },
	{ "volume.delete", h_vol_delete, true },
	{ "volume.list", h_vol_list, false },
	{ "volume.show", h_vol_show, true },
	{ "disk.show", h_disk_show, false },
	{ "cluster.show", h_cluster_show, false },
	{ "sql", h_sql, false },
	{ "events.watch", h_events_watch, false },
	{ "explore.record", h_explore_record, false },
};

char *vn_handle_request(struct vn_ctx *ctx, const char *line,
			const struct vn_caller *who)
{
	json_object *req, *args, *data = NULL;
	struct vn_err err = { "" };
	const char *cmd;
	char *out;
	size_t i;
	int ret;

	if (ctx->reply_fd >= 0)
		close(ctx->reply_fd);
	ctx->reply_fd = -1;
	req = vn_parse_request(line, &cmd, &args, NULL, &err);
	if (!req)
		return vn_reply_line(-EINVAL, &err, NULL);
	ret = vn_seterr(&err, ENOSYS, "unknown command '%s'", cmd);
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		struct hreq r = { ctx, args, who, vn_arg_str(args, "name"), &data, &err };

		if (strcmp(handlers[i].cmd, cmd))
			continue;
		err.msg[0] = '\0';
		if (handlers[i].named && (!r.name || !*r.name))
			ret = vn_seterr(&err, EINVAL, "missing 'name'");
		/* PostgreSQL away: nothing that needs it starts (sql has its
		 * own connection, ping none) */
		else if (strcmp(cmd, "ping") && strcmp(cmd, "sql"))
			ret = vn_db_reach(ctx, &err);
		else
			ret = 0;
		if (!ret)
			ret = handlers[i].fn(&r);
		break;
	}
	if (ret && ctx->reply_fd >= 0) {
		close(ctx->reply_fd);
		ctx->reply_fd = -1;
	}
	out = vn_reply_line(ret, &err, data);
	json_object_put(req);
	return out;
}
