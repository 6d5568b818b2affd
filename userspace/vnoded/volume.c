// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"
#include "db.h"
#include "size.h"
#include "volume.h"
#include "vnoded.h"

#define AGENT_TIMEOUT_MS	15000

#define VOL_COLS "v.id, v.name, v.size, v.component_id, c.name AS host, " \
		 "c.addr AS host_addr, c.port AS host_port, v.vnode_id, " \
		 "n.name AS vnode, v.mountpoint, v.state, v.owner_uid, v.keep, " \
		 "v.dev, v.fs, v.last_error, v.volume_id, v.created, v.protect"
#define VOL_FROM " FROM volumes v JOIN components c ON c.id = v.component_id " \
		 "LEFT JOIN vnodes n ON n.id = v.vnode_id "

int vn_agent_tcp(struct vn_ctx *ctx, const char *addr, const char *cmd,
		 json_object *args, json_object **data, struct vn_err *err)
{
	char ident[VNODE_AUTH_IDENT_LEN];

	/* the identity our vnode_vol presents at STOR_OPEN, for the owner */
	vn_kern_identity(&ctx->kern, ident, sizeof(ident));
	/* a storage host that is down must not hold the daemon for long:
	 * connecting is bounded like a memory-host probe */
	return vn_agent_call(addr, ctx->cluster.agent_port, &ctx->cluster.auth, ident,
			     ctx->cluster.probe_timeout_ms, AGENT_TIMEOUT_MS, cmd, args,
			     data, err);
}

static void agent_nolog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

/* fake kernel, an agent with a key: the whole exchange in-process (our
 * identity and key, the MACs both ways), as over TCP; takes args */
static int fake_exchange(struct vn_ctx *ctx, struct vn_agent *a, const char *addr,
			 const char *cmd, json_object *args, json_object **data,
			 struct vn_err *err)
{
	char ident[VNODE_AUTH_IDENT_LEN], who[128], hello[256];
	char *line = NULL, *reply = NULL;
	uint8_t na[VN_AGENT_NONCE_LEN];
	struct vn_agent_session s;
	int ret;

	snprintf(who, sizeof(who), "the storage agent at %s port %d", addr,
		 ctx->cluster.agent_port);
	vn_kern_identity(&ctx->kern, ident, sizeof(ident));
	ret = vn_agent_session_open(&s, &ctx->cluster.auth, ident, err);
	if (!ret && vn_agent_hello(a, na, hello, sizeof(hello)))
		ret = vn_seterr(err, EIO, "%s: no nonce", who);
	if (ret) {
		json_object_put(args);
		goto out;
	}
	ret = vn_agent_request(&s, hello, who, cmd, args, &line, err);
	if (!ret) {
		reply = vn_agent_handle(a, na, line, ctx->fake_peer);
		ret = reply ? vn_agent_reply(&s, who, reply, data, err) :
			      vn_seterr(err, EIO, "%s did not answer", who);
	}
out:
	free(line);
	free(reply);
	vn_key_clear(&s.key);
	return ret;
}

/*
 * fake kernel: the storage host's configfs is in our own sysroot, and an
 * agent answers for ADDR when DIR/agent/ADDR exists.  An empty file: the
 * request is executed as if proved by the cluster key alone (no
 * identity); a key file's text in it: that is the agent's key, and the
 * request goes through the real exchange.
 */
int vn_agent_fake(struct vn_ctx *ctx, const char *addr, const char *cmd,
		  json_object *args, json_object **data, struct vn_err *err)
{
	struct vn_agent a = { .kern = ctx->kern, .delete_timeout_ms = 200,
			      .log = agent_nolog };
	struct vn_agent_peer p = { ctx->fake_peer, "" };
	char path[PATH_MAX];
	struct stat st;
	int ret;

	if (vn_kpath(&ctx->kern, path, sizeof(path), "/agent/%s", addr) ||
	    stat(path, &st)) {
		json_object_put(args);
		return vn_seterr(err, ECONNREFUSED,
				 "cannot reach the storage agent at %s port %d: %s (is 'vnoded --agent' running there?)",
				 addr, ctx->cluster.agent_port, strerror(ECONNREFUSED));
	}
	if (st.st_size) {
		ret = vn_key_load(path, &a.key, NULL, err);
		if (ret)
			json_object_put(args);
		else
			ret = fake_exchange(ctx, &a, addr, cmd, args, data, err);
		vn_key_clear(&a.key);
		return ret;
	}
	ret = vn_agent_exec(&a, cmd, args, &p, data, err);
	json_object_put(args);
	return ret;
}

static int agent(struct vn_ctx *ctx, const char *comp, const char *addr,
		 const char *cmd, const char *name, json_object *extra,
		 json_object **data, struct vn_err *err)
{
	json_object *args = extra ? extra : json_object_new_object();
	json_object *d = NULL;
	struct vn_err e = { "" };
	int ret;

	json_object_object_add(args, "name", json_object_new_string(name));
	ret = ctx->agent(ctx, addr, cmd, args, &d, &e);
	if (ret)
		return vn_seterr(err, -ret, "storage host %s: %s", comp, e.msg);
	if (data)
		*data = d;
	else
		json_object_put(d);
	return 0;
}

/*
 * volume.create on the storage host: a new volume, or (reopen) one we had,
 * which must hold the data of id want when that is known (else ESTALE).
 * The id of the data it has goes to id ("" from an older agent); reopened
 * (may be NULL) says whether it had to be enabled again.
 */
static int agent_create(struct vn_ctx *ctx, const char *comp, const char *addr,
			const char *name, uint64_t size, bool reopen,
			const char *want, bool *reopened, char *id, size_t idlen,
			struct vn_err *err)
{
	json_object *a = json_object_new_object(), *d = NULL, *o;
	int ret;

	json_object_object_add(a, "size", json_object_new_uint64(size));
	if (reopen)
		json_object_object_add(a, "reopen", json_object_new_boolean(1));
	if (want && *want)
		json_object_object_add(a, "volume_id", json_object_new_string(want));
	ret = agent(ctx, comp, addr, "volume.create", name, a, &d, err);
	if (ret)
		return ret;
	if (reopened)
		*reopened = json_object_get_boolean(json_object_object_get(d, "reopened"));
	snprintf(id, idlen, "%s", json_object_object_get_ex(d, "volume_id", &o) ?
		 json_object_get_string(o) : "");
	json_object_put(d);
	return 0;
}

static int get_volume(struct vn_ctx *ctx, const char *name, json_object **out,
		      struct vn_err *err)
{
	const char *b[] = { ctx->host, name, NULL };
	char other[64];
	int ret;

	ret = vn_q_one(ctx, "SELECT " VOL_COLS VOL_FROM "WHERE v.host = ?1 AND v.name = ?2",
		       b, out, err);
	if (!ret && !*out && vn_db_name_elsewhere(ctx, "volumes", name, other, sizeof(other)))
		return vn_seterr(err, EEXIST, "volume '%s' belongs to process host '%s'",
				 name, other);
	if (!ret && !*out)
		return vn_seterr(err, ENOENT, "unknown volume '%s'", name);
	return ret;
}

static int vol_event(struct vn_ctx *ctx, const char *type, const char *name,
		     struct vn_err *err)
{
	json_object *v = NULL;
	int ret;

	ret = get_volume(ctx, name, &v, err);
	if (!ret)
		ret = vn_event(ctx, type, "volume", name, v, err);
	json_object_put(v);
	return ret;
}

static void record_id(struct vn_ctx *ctx, const char *name, const char *id)
{
	struct vsql_st *st;

	if (vn_prep(ctx, "UPDATE volumes SET volume_id = ? WHERE name = ? AND host = ?", &st, NULL))
		return;
	vsql_bind_text(st, 1, id);
	vsql_bind_text(st, 2, name);
	vsql_bind_text(st, 3, ctx->host);
	vn_step_done(ctx, st, NULL);
}

/* A volume found lost: so it stays (reconcile skips it) */
static void mark_lost(struct vn_ctx *ctx, const char *name, const char *msg)
{
	struct vsql_st *st;

	ctx->log(LOG_ERR, "volume %s: %s", name, msg);
	if (vn_prep(ctx, "UPDATE volumes SET state = 'lost', last_error = ? WHERE name = ? "
		    "AND host = ?", &st, NULL))
		return;
	vsql_bind_text(st, 1, msg);
	vsql_bind_text(st, 2, name);
	vsql_bind_text(st, 3, ctx->host);
	vn_step_done(ctx, st, NULL);
	vol_event(ctx, "volume.state", name, NULL);
}

json_object *vn_volume_of_vnode(struct vn_ctx *ctx, int64_t vnode_id)
{
	char id[32];
	const char *b[] = { id, NULL };
	json_object *o = NULL;

	snprintf(id, sizeof(id), "%" PRId64, vnode_id);
	vn_q_one(ctx, "SELECT " VOL_COLS VOL_FROM "WHERE v.vnode_id = ?", b, &o, NULL);
	return o;
}

/* volume row v's protection profile (volumes.protect) */
static enum vn_vol_protect vol_protect(json_object *v)
{
	enum vn_vol_protect p = VN_VOL_PROTECT_NONE;
	const char *s = vn_jstr(v, "protect");

	if (s)
		vn_vol_protect_parse("protect", s, &p, NULL);
	return p;
}

/* the name of the mapping of attached volume row v ("" without one) */
static void vol_mapping(json_object *v, char *buf, size_t len)
{
	buf[0] = '\0';
	if (vol_protect(v) != VN_VOL_PROTECT_NONE && vn_jstr(v, "vnode"))
		vn_vprot_mapping(vn_jstr(v, "vnode"), vn_jstr(v, "name"), buf, len);
}

/* the device of the file system: the mapping map, or else the disk */
static void fs_dev(const char *map, const char *disk, char *buf, size_t len)
{
	if (map[0])
		snprintf(buf, len, "mapper/%s", map);
	else
		snprintf(buf, len, "%s", disk);
}

static int mountpoint_valid(const char *mp, struct vn_err *err)
{
	const char *p;

	if (mp[0] != '/' || !mp[1] || strlen(mp) >= 256)
		return vn_seterr(err, EINVAL,
				 "invalid mount point '%s' (an absolute path other than /)", mp);
	for (p = mp; *p; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/' || !p[1] ||
		    (p[1] == '.' && (!p[2] || p[2] == '/')) ||
		    (p[1] == '.' && p[2] == '.' && (!p[3] || p[3] == '/')))
			return vn_seterr(err, EINVAL,
					 "invalid mount point '%s' (no '.', '..', '//' or trailing '/')",
					 mp);
	}
	return 0;
}

/* The storage component: named, or the only one there is. */
static int pick_storage(struct vn_ctx *ctx, const char *want, json_object **comp,
			struct vn_err *err)
{
	json_object *rows;
	size_t n, i;
	char names[256] = "";
	int ret;

	if (want && *want) {
		ret = vn_get_component(ctx, want, comp, NULL);
		if (ret)
			return vn_seterr(err, ENOENT,
					 "unknown storage host '%s' (vnodectl component list)", want);
		if (strcmp(vn_jstr(*comp, "kind"), "storage")) {
			json_object_put(*comp);
			return vn_seterr(err, EINVAL,
					 "component '%s' is a %s host, not a storage host", want,
					 vn_jstr(*comp, "kind"));
		}
		return 0;
	}
	ret = vn_db_query_json(ctx->db, "SELECT name FROM components WHERE kind = 'storage' "
			       "ORDER BY name", NULL, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n && i < 8; i++) {
		size_t l = strlen(names);

		snprintf(names + l, sizeof(names) - l, "%s%s", i ? ", " : "",
			 vn_jstr(json_object_array_get_idx(rows, i), "name"));
	}
	if (n == 1)
		ret = vn_get_component(ctx, names, comp, err);
	else if (!n)
		ret = vn_seterr(err, ENOENT,
				"no storage host: add one (vnodectl component add s1 --type storage --addr IP)");
	else
		ret = vn_seterr(err, EINVAL,
				"several storage hosts (%s): pick one with --stor-host", names);
	json_object_put(rows);
	return ret;
}

static void plan_host(struct vn_vol_plan *plan, json_object *comp)
{
	plan->comp_id = vn_jint(comp, "id");
	snprintf(plan->comp_name, sizeof(plan->comp_name), "%s", vn_jstr(comp, "name"));
	snprintf(plan->host, sizeof(plan->host), "%s", vn_jstr(comp, "addr"));
	plan->port = (int)vn_jint(comp, "port");
}

int vn_volume_check_size(uint64_t size, const char *opt, struct vn_err *err)
{
	char s[32];

	vn_fmt_size(VN_VOL_MIN, s, sizeof(s));
	if (!size || size % 4096)
		return vn_seterr(err, EINVAL, "%s must be a positive multiple of 4K", opt);
	if (size < VN_VOL_MIN)
		return vn_seterr(err, EINVAL, "%s must be at least %s (ext4)", opt, s);
	if (size > VN_VOL_MAX)
		return vn_seterr(err, EINVAL, "%s is absurdly large", opt);
	return 0;
}

int vn_volume_prepare(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		      uid_t owner, const struct vn_caller *who,
		      struct vn_vol_plan *plan, struct vn_err *err)
{
	json_object *comp = NULL, *vol = NULL;
	char path[PATH_MAX];
	struct stat st;
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (!req->storage && !req->volume[0]) {
		if (req->stor_host[0] || req->mountpoint[0] || req->keep_storage ||
		    req->has_storage_protect)
			return vn_seterr(err, EINVAL,
					 "--stor-host, --mount, --keep-storage and --storage-protect need --storage SIZE or --volume NAME");
		return 0;
	}
	plan->active = true;
	plan->owner = owner;
	snprintf(plan->vnode, sizeof(plan->vnode), "%s", req->name);
	snprintf(plan->mountpoint, sizeof(plan->mountpoint), "%s",
		 req->mountpoint[0] ? req->mountpoint : VN_MOUNT_DEFAULT);
	ret = mountpoint_valid(plan->mountpoint, err);
	if (ret)
		return ret;
	snprintf(plan->name, sizeof(plan->name), "%s",
		 req->volume[0] ? req->volume : req->name);
	if (!vn_volume_name_valid(plan->name))
		return vn_seterr(err, EINVAL, req->volume[0] ?
				 "invalid volume name '%s' (letters, digits, _ -; max 31)" :
				 "the vNode name '%s' is not a valid volume name (no '.'): name the volume with --volume NAME",
				 plan->name);
	/* a user's mount point must exist (vnoded only creates the default) */
	if (who->uid && strcmp(plan->mountpoint, VN_MOUNT_DEFAULT) &&
	    (vn_kpath(&ctx->kern, path, sizeof(path), "%s", plan->mountpoint) ||
	     stat(path, &st) || !S_ISDIR(st.st_mode)))
		return vn_seterr(err, ENOENT,
				 "mount point %s is not a directory (only root can have vnoded create it)",
				 plan->mountpoint);

	if (req->storage) {
		plan->is_new = true;
		plan->size = req->storage;
		plan->keep = req->keep_storage;
		plan->protect = req->has_storage_protect ? req->storage_protect :
				ctx->cluster.storage_protect;
		ret = vn_volume_check_size(plan->size, "--storage", err);
		if (ret)
			return ret;
		ret = get_volume(ctx, plan->name, &vol, err);
		if (!ret) {
			json_object_put(vol);
			return vn_seterr(err, EEXIST,
					 "volume '%s' already exists (attach it with --volume %s and no --storage)",
					 plan->name, plan->name);
		}
		if (ret == -EEXIST)	/* another process host's */
			return ret;
		ret = pick_storage(ctx, req->stor_host, &comp, err);
		if (ret)
			return ret;
		plan_host(plan, comp);
		json_object_put(comp);
		return 0;
	}

	/* an existing volume: detached, the vNode owner's, outlives the vNode */
	ret = get_volume(ctx, plan->name, &vol, err);
	if (ret)
		return ret;
	ret = 0;
	if (vn_jstr(vol, "vnode"))
		ret = vn_seterr(err, EBUSY, "volume '%s' is attached to vNode '%s'",
				plan->name, vn_jstr(vol, "vnode"));
	else if (strcmp(vn_jstr(vol, "state"), "detached"))
		ret = vn_seterr(err, EBUSY, "volume '%s' is %s", plan->name,
				vn_jstr(vol, "state"));
	else if (vn_jint(vol, "owner_uid") != (int64_t)owner)
		ret = vn_seterr(err, EPERM,
				"volume '%s' belongs to uid %" PRId64 ", the vNode would belong to uid %u",
				plan->name, vn_jint(vol, "owner_uid"), (unsigned int)owner);
	else if (req->stor_host[0] && strcmp(req->stor_host, vn_jstr(vol, "host")))
		ret = vn_seterr(err, EINVAL, "volume '%s' is on storage host %s, not %s",
				plan->name, vn_jstr(vol, "host"), req->stor_host);
	else if (req->has_storage_protect && req->storage_protect != vol_protect(vol))
		ret = vn_seterr(err, EINVAL,
				"volume '%s' has storage protection %s, not %s (a volume's profile is fixed when it is made)",
				plan->name, vn_vol_protect_name(vol_protect(vol)),
				vn_vol_protect_name(req->storage_protect));
	if (!ret) {
		plan->size = (uint64_t)vn_jint(vol, "size");
		plan->keep = true;
		plan->comp_id = vn_jint(vol, "component_id");
		snprintf(plan->comp_name, sizeof(plan->comp_name), "%s", vn_jstr(vol, "host"));
		snprintf(plan->host, sizeof(plan->host), "%s", vn_jstr(vol, "host_addr"));
		plan->port = (int)vn_jint(vol, "host_port");
		plan->formatted = vn_jstr(vol, "fs") != NULL;
		plan->protect = vol_protect(vol);
		snprintf(plan->volume_id, sizeof(plan->volume_id), "%s",
			 vn_jstr(vol, "volume_id") ? vn_jstr(vol, "volume_id") : "");
	}
	json_object_put(vol);
	return ret;
}

static gid_t owner_gid(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_gid : (gid_t)uid;
}

/* Attach locally (for vNode vnode), put its protection profile on it and
 * make sure there is an ext4 on it: made on a fresh volume (its profile's
 * layer too); one that had ours and is blank now lost its data.  dev: the
 * file system's device (vnblkN or mapper/NAME). */
static int attach_local(struct vn_ctx *ctx, const char *name, const char *vnode,
			enum vn_vol_protect prot, const char *host, int port,
			uid_t owner, bool fresh, char *dev, size_t devlen,
			struct vn_err *err)
{
	char map[96];
	int ret;

	ret = vn_vol_attach(&ctx->kern, name, host, port, name, dev, devlen, err);
	if (ret)
		return ret;
	vn_vprot_mapping(vnode, name, map, sizeof(map));
	ret = vn_vprot_open(ctx, prot, name, vnode, fresh, dev, devlen, err);
	if (ret) {
		/* a kept volume without its header: blank, so its data is gone */
		if (!fresh && vn_fs_probe(&ctx->kern, name, dev) == 0)
			ret = vn_seterr(err, ESTALE,
					"volume '%s' is lost: it had storage protection %s and is blank now (its data is gone)",
					name, vn_vol_protect_name(prot));
		vn_vol_detach(&ctx->kern, name, ctx->detach_timeout_ms, NULL);
		return ret;
	}
	ret = vn_fs_probe(&ctx->kern, name, dev);
	if (ret == 0 && !fresh) {
		ret = vn_seterr(err, ESTALE,
				"volume '%s' is lost: it held an ext4 file system and is blank now (its data is gone); not formatting it",
				name);
	} else if (ret == 0) {
		ret = vn_mkfs(&ctx->kern, name, dev, owner, owner_gid(owner), err);
		if (!ret)
			ctx->log(LOG_INFO, "volume %s: made an ext4 file system on /dev/%s",
				 name, dev);
	} else if (ret == 1) {
		ret = 0;
	} else if (ret == -EMEDIUMTYPE) {
		ret = vn_seterr(err, EMEDIUMTYPE,
				"volume '%s' holds something that is not ext4: not formatting it",
				name);
	} else {
		ret = vn_seterr(err, -ret, "cannot read /dev/%s: %s", dev, strerror(-ret));
	}
	if (ret) {
		vn_vprot_close(ctx, prot, map, ctx->detach_timeout_ms, NULL);
		vn_vol_detach(&ctx->kern, name, ctx->detach_timeout_ms, NULL);
	}
	return ret;
}

int vn_volume_setup(struct vn_ctx *ctx, struct vn_vol_plan *plan,
		    struct vn_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int ret;

	if (!plan->active)
		return 0;
	/* a kept volume is re-opened (if the storage host restarted) */
	ret = agent_create(ctx, plan->comp_name, plan->host, plan->name, plan->size,
			   !plan->is_new, plan->volume_id, NULL, plan->volume_id,
			   sizeof(plan->volume_id), err);
	if (ret == -ESTALE)
		mark_lost(ctx, plan->name, err->msg);
	if (ret)
		return ret;
	plan->remote_done = plan->is_new;
	ret = attach_local(ctx, plan->name, plan->vnode, plan->protect, plan->host,
			   plan->port, plan->owner, plan->is_new || !plan->formatted,
			   plan->dev, sizeof(plan->dev), err);
	if (ret == -ESTALE)
		mark_lost(ctx, plan->name, err->msg);
	if (ret)
		goto fail;
	plan->local_done = true;
	if (vn_kpath(&ctx->kern, path, sizeof(path), "%s", plan->mountpoint) ||
	    stat(path, &st)) {
		ret = vn_mkdir_p(&ctx->kern, plan->mountpoint, 0755, err);
		if (ret)
			goto fail;
	} else if (!S_ISDIR(st.st_mode)) {
		ret = vn_seterr(err, ENOTDIR, "mount point %s is not a directory",
				plan->mountpoint);
		goto fail;
	}
	return 0;
fail:
	vn_volume_unwind(ctx, plan);
	return ret;
}

void vn_volume_unwind(struct vn_ctx *ctx, struct vn_vol_plan *plan)
{
	char map[96];

	if (plan->local_done) {
		vn_vprot_mapping(plan->vnode, plan->name, map, sizeof(map));
		vn_vprot_close(ctx, plan->protect, map, ctx->detach_timeout_ms, NULL);
		vn_vol_detach(&ctx->kern, plan->name, ctx->detach_timeout_ms, NULL);
	}
	plan->local_done = false;
	if (plan->remote_done) {
		agent(ctx, plan->comp_name, plan->host, "volume.delete", plan->name,
		      NULL, NULL, NULL);
		vn_vprot_key_destroy(ctx, plan->name);
	}
	plan->remote_done = false;
}

int vn_volume_commit(struct vn_ctx *ctx, const struct vn_vol_plan *plan,
		     int64_t vnode_id, const char *vnode, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	(void)vnode;
	if (!plan->active)
		return 0;
	if (plan->is_new) {
		ret = vn_prep(ctx, "INSERT INTO volumes (name, component_id, size, vnode_id, "
			      "mountpoint, state, created, owner_uid, keep, dev, fs, volume_id, "
			      "protect, host) VALUES (?1, ?2, ?3, ?4, ?5, 'attached', ?6, ?7, ?8, ?9, "
			      "'ext4', nullif(?10, ''), ?11, ?12)", &st, err);
	} else {
		ret = vn_prep(ctx, "UPDATE volumes SET vnode_id = ?4, mountpoint = ?5, "
			      "state = 'attached', keep = ?8, dev = ?9, fs = 'ext4', "
			      "last_error = NULL, volume_id = coalesce(nullif(?10, ''), volume_id) "
			      "WHERE name = ?1 AND host = ?12", &st, err);
	}
	if (ret)
		return ret;
	vsql_bind_text(st, 1, plan->name);
	vsql_bind_int64(st, 2, plan->comp_id);
	vsql_bind_int64(st, 3, (int64_t)plan->size);
	vsql_bind_int64(st, 4, vnode_id);
	vsql_bind_text(st, 5, plan->mountpoint);
	vsql_bind_int64(st, 6, vn_now_ms());
	vsql_bind_int64(st, 7, plan->owner);
	vsql_bind_int64(st, 8, plan->keep);
	vsql_bind_text(st, 9, plan->dev);
	vsql_bind_text(st, 10, plan->volume_id);
	if (plan->is_new)
		vsql_bind_text(st, 11, vn_vol_protect_name(plan->protect));
	vsql_bind_text(st, 12, ctx->host);
	ret = vn_step_done(ctx, st, err);
	if (!ret && plan->is_new)
		ret = vol_event(ctx, "volume.create", plan->name, err);
	if (!ret)
		ret = vol_event(ctx, "volume.attach", plan->name, err);
	return ret;
}

int vn_volume_detach_vnode(struct vn_ctx *ctx, json_object *vn,
			   json_object **vol, struct vn_err *err)
{
	int ret;

	char map[96];

	*vol = vn_volume_of_vnode(ctx, vn_jint(vn, "id"));
	if (!*vol)
		return 0;
	/* the mapping first: it holds the disk */
	vol_mapping(*vol, map, sizeof(map));
	ret = vn_vprot_close(ctx, vol_protect(*vol), map, ctx->detach_timeout_ms, err);
	if (!ret)
		ret = vn_vol_detach(&ctx->kern, vn_jstr(*vol, "name"), ctx->detach_timeout_ms,
				    err);
	if (ret) {
		json_object_put(*vol);
		*vol = NULL;
		return vn_seterr(err, -ret, "vNode '%s': %s (processes outside the vNode using it?)",
				 vn_jstr(vn, "name"), err->msg);
	}
	return 0;
}

int vn_volume_release(struct vn_ctx *ctx, json_object *vol, bool keep,
		      struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	if (!vol)
		return 0;
	keep = keep || vn_jint(vol, "keep");
	/* a kept volume that was lost stays so (only a delete ends it) */
	ret = vn_prep(ctx, "UPDATE volumes SET vnode_id = NULL, dev = NULL, "
		      "state = CASE WHEN ?2 = 1 AND state = 'lost' THEN 'lost' ELSE ?1 END, keep = ?2 "
		      "WHERE id = ?3", &st, err);
	if (ret)
		return ret;
	vsql_bind_text(st, 1, keep ? "detached" : "deleting");
	vsql_bind_int64(st, 2, keep);
	vsql_bind_int64(st, 3, vn_jint(vol, "id"));
	ret = vn_step_done(ctx, st, err);
	if (!ret)
		ret = vol_event(ctx, "volume.detach", vn_jstr(vol, "name"), err);
	if (strcmp(vn_jstr(vol, "state"), "lost") || !keep)
		json_object_object_add(vol, "state", json_object_new_string(keep ? "detached" :
									    "deleting"));
	return ret;
}

/* Delete on the storage host, then the row (not inside a transaction). */
static int delete_remote(struct vn_ctx *ctx, json_object *vol, const char *why,
			 struct vn_err *err)
{
	const char *name = vn_jstr(vol, "name");
	struct vn_err e = { "" };
	struct vsql_st *st;
	int ret;

	ret = agent(ctx, vn_jstr(vol, "host"), vn_jstr(vol, "host_addr"), "volume.delete",
		    name, NULL, NULL, &e);
	if (ret && ret != -ENOENT) {
		if (!vn_prep(ctx, "UPDATE volumes SET last_error = ? WHERE id = ?", &st, NULL)) {
			vsql_bind_text(st, 1, e.msg);
			vsql_bind_int64(st, 2, vn_jint(vol, "id"));
			vn_step_done(ctx, st, NULL);
		}
		return vn_seterr(err, -ret, "%s", e.msg);
	}
	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	ret = vn_prep(ctx, "DELETE FROM volumes WHERE id = ?", &st, err);
	if (!ret) {
		vsql_bind_int64(st, 1, vn_jint(vol, "id"));
		ret = vn_step_done(ctx, st, err);
	}
	if (!ret) {
		json_object_object_add(vol, "reason", json_object_new_string(why));
		ret = vn_event(ctx, "volume.delete", "volume", name, vol, err);
	}
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		vn_db_rollback(ctx->db);
		return ret;
	}
	ctx->log(LOG_INFO, "volume %s deleted on %s (%s)", name, vn_jstr(vol, "host"), why);
	vn_vprot_key_destroy(ctx, name);
	return 0;
}

void vn_volume_finish(struct vn_ctx *ctx, json_object *vol)
{
	struct vn_err e;

	if (!vol || strcmp(vn_jstr(vol, "state"), "deleting"))
		return;
	if (delete_remote(ctx, vol, "its vNode was destroyed", &e))
		ctx->log(LOG_WARNING, "volume %s not deleted yet (retried later): %s",
			 vn_jstr(vol, "name"), e.msg);
}

int vn_volume_create(struct vn_ctx *ctx, const char *name, uint64_t size,
		     const char *stor_host, const char *owner,
		     enum vn_vol_protect prot, const struct vn_caller *who,
		     json_object **out, struct vn_err *err)
{
	struct vn_vol_plan plan = { 0 };
	json_object *comp = NULL, *a;
	struct vsql_st *st;
	uid_t uid;
	int ret;

	if (!vn_volume_name_valid(name))
		return vn_seterr(err, EINVAL,
				 "invalid volume name '%s' (letters, digits, _ -; max 31)", name);
	ret = vn_volume_check_size(size, "--size", err);
	if (!ret)
		ret = vn_resolve_owner(owner, who, &uid, err);
	if (ret)
		return ret;
	ret = get_volume(ctx, name, &a, err);
	if (!ret) {
		json_object_put(a);
		return vn_seterr(err, EEXIST, "volume '%s' already exists", name);
	}
	if (ret == -EEXIST)	/* another process host's */
		return ret;
	ret = pick_storage(ctx, stor_host, &comp, err);
	if (ret)
		return ret;
	plan_host(&plan, comp);
	json_object_put(comp);
	snprintf(plan.name, sizeof(plan.name), "%s", name);
	ret = agent_create(ctx, plan.comp_name, plan.host, name, size, false, NULL, NULL,
			   plan.volume_id, sizeof(plan.volume_id), err);
	if (ret)
		return ret;
	plan.remote_done = true;
	ret = vn_db_begin(ctx->db, err);
	if (ret)
		goto undo;
	ret = vn_prep(ctx, "INSERT INTO volumes (name, component_id, size, state, created, "
		      "owner_uid, keep, volume_id, host, protect) VALUES (?, ?, ?, 'detached', ?, "
		      "?, 1, nullif(?, ''), ?, ?)", &st, err);
	if (!ret) {
		vsql_bind_text(st, 1, name);
		vsql_bind_int64(st, 2, plan.comp_id);
		vsql_bind_int64(st, 3, (int64_t)size);
		vsql_bind_int64(st, 4, vn_now_ms());
		vsql_bind_int64(st, 5, uid);
		vsql_bind_text(st, 6, plan.volume_id);
		vsql_bind_text(st, 7, ctx->host);
		vsql_bind_text(st, 8, vn_vol_protect_name(prot));
		ret = vn_step_done(ctx, st, err);
	}
	if (!ret)
		ret = vol_event(ctx, "volume.create", name, err);
	if (!ret)
		ret = vn_db_commit(ctx->db, err);
	if (ret) {
		vn_db_rollback(ctx->db);
		goto undo;
	}
	ctx->log(LOG_INFO, "volume %s created on %s (storage protection %s)", name,
		 plan.comp_name, vn_vol_protect_name(prot));
	return out ? get_volume(ctx, name, out, err) : 0;
undo:
	vn_volume_unwind(ctx, &plan);
	return ret;
}

int vn_volume_delete(struct vn_ctx *ctx, const char *name,
		     const struct vn_caller *who, struct vn_err *err)
{
	json_object *vol;
	int ret;

	ret = get_volume(ctx, name, &vol, err);
	if (ret)
		return ret;
	if (who->uid && (int64_t)who->uid != vn_jint(vol, "owner_uid"))
		ret = vn_seterr(err, EPERM,
				"permission denied: only root or the owner (uid %" PRId64 ") may delete volume '%s'",
				vn_jint(vol, "owner_uid"), name);
	else if (vn_jstr(vol, "vnode"))
		ret = vn_seterr(err, EBUSY,
				"volume '%s' is attached to vNode '%s': destroy the vNode first",
				name, vn_jstr(vol, "vnode"));
	else
		ret = delete_remote(ctx, vol, "deleted by user", err);
	json_object_put(vol);
	return ret;
}

static void add_local_state(struct vn_ctx *ctx, json_object *v)
{
	struct vn_vol_info vi;

	if (!vn_jstr(v, "vnode"))
		return;
	vn_vol_info(&ctx->kern, vn_jstr(v, "name"), &vi);
	json_object_object_add(v, "disk", json_object_new_string(vi.enabled ? vi.state :
								  "not attached"));
}

int vn_volume_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };
	size_t i;
	int ret;

	ret = vn_db_query_json(ctx->db, "SELECT " VOL_COLS VOL_FROM "WHERE v.host = ? "
			       "ORDER BY v.name", b, out, err);
	if (ret)
		return ret;
	for (i = 0; i < json_object_array_length(*out); i++)
		add_local_state(ctx, json_object_array_get_idx(*out, i));
	return 0;
}

int vn_volume_show(struct vn_ctx *ctx, const char *name, json_object **out,
		   struct vn_err *err)
{
	json_object *v, *r = NULL;
	int ret;

	ret = get_volume(ctx, name, &v, err);
	if (ret)
		return ret;
	add_local_state(ctx, v);
	/* the storage host's view (best effort) */
	if (!agent(ctx, vn_jstr(v, "host"), vn_jstr(v, "host_addr"), "volume.show",
		   name, NULL, &r, NULL))
		json_object_object_add(v, "remote", r);
	*out = v;
	return 0;
}

int vn_vnode_mount(struct vn_ctx *ctx, const char *vnode,
		   const struct vn_caller *who, json_object **out,
		   struct vn_err *err)
{
	json_object *vn, *vol = NULL;
	struct vn_vol_info vi;
	char map[96], dev[104];
	int ret, fd = -1;

	ret = vn_get_vnode(ctx, vnode, &vn, err);
	if (ret)
		return ret;
	ret = vn_check_perm(vn, who, "run in", err);
	if (ret)
		goto out;
	vol = vn_volume_of_vnode(ctx, vn_jint(vn, "id"));
	if (!vol) {
		*out = json_object_new_object();
		goto out;
	}
	vn_vol_info(&ctx->kern, vn_jstr(vol, "name"), &vi);
	/* a protected volume's file system is on its mapping */
	vol_mapping(vol, map, sizeof(map));
	fs_dev(map, vi.dev, dev, sizeof(dev));
	if (strcmp(vn_jstr(vol, "state"), "attached") || !vi.enabled || !vi.dev[0] ||
	    (map[0] && !vn_vprot_mapped(ctx, map))) {
		ret = vn_seterr(err, EIO, "volume '%s' of vNode '%s' is not attached (%s%s%s)",
				vn_jstr(vol, "name"), vnode, vn_jstr(vol, "state"),
				vn_jstr(vol, "last_error") ? ": " : "",
				vn_jstr(vol, "last_error") ? vn_jstr(vol, "last_error") : "");
		goto out;
	}
	ret = vn_fs_mount_fd(&ctx->kern, dev, vn_jint(vn, "owner_uid") != 0, &fd, err);
	if (ret)
		goto out;
	ctx->reply_fd = fd;
	*out = json_object_new_object();
	json_object_object_add(*out, "volume", json_object_new_string(vn_jstr(vol, "name")));
	json_object_object_add(*out, "mountpoint",
			       json_object_new_string(vn_jstr(vol, "mountpoint")));
	json_object_object_add(*out, "dev", json_object_new_string(dev));
	json_object_object_add(*out, "nosuid",
			       json_object_new_boolean(vn_jint(vn, "owner_uid") != 0));
out:
	json_object_put(vol);
	json_object_put(vn);
	return ret;
}

static void vol_set_state(struct vn_ctx *ctx, json_object *v, const char *state,
			  const char *dev, const char *msg, bool fixed)
{
	bool changed = fixed || strcmp(vn_jstr(v, "state"), state);
	struct vsql_st *st;

	if (vn_prep(ctx, "UPDATE volumes SET state = ?, dev = coalesce(?, dev), "
		    "last_error = ? WHERE id = ?", &st, NULL))
		return;
	vsql_bind_text(st, 1, state);
	if (dev)
		vsql_bind_text(st, 2, dev);
	if (msg)
		vsql_bind_text(st, 3, msg);
	vsql_bind_int64(st, 4, vn_jint(v, "id"));
	vn_step_done(ctx, st, NULL);
	if (changed)
		vol_event(ctx, strcmp(state, "broken") ? "volume.reconcile" : "volume.state",
			  vn_jstr(v, "name"), NULL);
}

static int reconcile_attached(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	const char *want = vn_jstr(v, "volume_id");
	enum vn_vol_protect prot = vol_protect(v);
	struct vn_vol_info vi;
	struct vn_err e = { "" };
	bool reopened;
	char dev[104], id[24], map[96];
	int ret;

	vn_vol_info(&ctx->kern, name, &vi);
	vol_mapping(v, map, sizeof(map));
	if (vi.enabled && !strcmp(vi.state, "live") && map[0] && !vn_vprot_mapped(ctx, map)) {
		/* the disk is there, its mapping is not (closed by hand?) */
		snprintf(dev, sizeof(dev), "%s", vi.dev);
		ret = vn_vprot_open(ctx, prot, name, vn_jstr(v, "vnode"), false, dev,
				    sizeof(dev), &e);
		if (ret)
			goto bad;
		ctx->log(LOG_NOTICE, "volume %s: re-opened /dev/%s", name, dev);
		vol_set_state(ctx, v, "attached", dev, NULL, true);
		return 0;
	}
	if (vi.enabled && !strcmp(vi.state, "live")) {
		fs_dev(map, vi.dev, dev, sizeof(dev));
		if (strcmp(vn_jstr(v, "state"), "attached"))
			vol_set_state(ctx, v, "attached", dev, NULL, false);
		return 0;
	}
	/* storage host restarted (reconnecting), disk gone or dead:
	 * re-open the volume there (idempotent), then attach here */
	ret = agent_create(ctx, vn_jstr(v, "host"), vn_jstr(v, "host_addr"), name,
			   (uint64_t)vn_jint(v, "size"), true, want, &reopened, id,
			   sizeof(id), &e);
	if (ret)
		goto bad;
	if (!want && id[0])	/* a volume from before ids were kept */
		record_id(ctx, name, id);
	if (vi.enabled && !strcmp(vi.state, "reconnecting")) {
		/* vnode_vol re-opens it by itself once it is enabled there */
		if (reopened) {
			ctx->log(LOG_NOTICE, "volume %s: re-opened on storage host %s",
				 name, vn_jstr(v, "host"));
			vol_set_state(ctx, v, "attached", NULL, NULL, true);
		}
		return 0;
	}
	if (vi.enabled) {	/* dead: replace the disk if nothing holds it */
		ret = vn_vprot_close(ctx, prot, map, 0, &e);
		if (!ret)
			ret = vn_vol_detach(&ctx->kern, name, 0, &e);
		if (ret)
			goto bad;
	}
	ret = attach_local(ctx, name, vn_jstr(v, "vnode"), prot, vn_jstr(v, "host_addr"),
			   (int)vn_jint(v, "host_port"), (uid_t)vn_jint(v, "owner_uid"), false,
			   dev, sizeof(dev), &e);
	if (ret)
		goto bad;
	ctx->log(LOG_NOTICE, "volume %s: re-attached as /dev/%s", name, dev);
	vol_set_state(ctx, v, "attached", dev, NULL, true);
	return 0;
bad:
	if (ret == -ESTALE) {
		mark_lost(ctx, name, e.msg);
		return 1;
	}
	ctx->log(LOG_ERR, "volume %s: cannot restore: %s", name, e.msg);
	vol_set_state(ctx, v, "broken", NULL, e.msg, false);
	return 1;
}

int vn_volume_reconcile(struct vn_ctx *ctx)
{
	const char *b[] = { ctx->host, NULL };
	json_object *rows;
	int bad = 0;
	size_t i;

	if (vn_db_query_json(ctx->db, "SELECT " VOL_COLS VOL_FROM
			     "WHERE v.host = ? AND ((v.vnode_id IS NOT NULL AND v.state != 'lost') "
			     "OR v.state = 'deleting') "
			     "ORDER BY v.name", b, &rows, NULL))
		return 1;
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *v = json_object_array_get_idx(rows, i);
		struct vn_err e;

		if (!strcmp(vn_jstr(v, "state"), "deleting"))
			bad += delete_remote(ctx, v, "pending deletion", &e) != 0;
		else
			bad += reconcile_attached(ctx, v);
	}
	json_object_put(rows);
	return bad;
}
