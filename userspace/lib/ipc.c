// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "db.h"
#include "ipc.h"

const char *vn_sock_path(const char *explicit_path)
{
	const char *s;

	if (explicit_path && *explicit_path)
		return explicit_path;
	s = getenv("VNODE_SOCKET");
	return s && *s ? s : VN_SOCK_DEFAULT;
}

int vn_call(const char *sock, const char *cmd, json_object *args,
	    json_object **data, struct vn_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_object *req, *resp, *v;
	const char *line;
	size_t len, off = 0, cap = 4096;
	char *buf = NULL;
	ssize_t n;
	int fd, ret;

	if (data)
		*data = NULL;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		json_object_put(args);
		return vn_seterr(err, ENAMETOOLONG, "socket path too long");
	}
	strcpy(sa.sun_path, sock);
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args", args ? args : json_object_new_object());

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = vn_seterr(err, errno, "socket: %s", strerror(errno));
		goto out_req;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = vn_seterr(err, errno,
				"cannot reach vnoded at %s: %s%s", sock, strerror(errno),
				errno == ENOENT || errno == ECONNREFUSED ?
				" (is vnoded running?)" :
				errno == EACCES ? " (are you in the vnode group?)" : "");
		goto out_fd;
	}
	line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	len = strlen(line);
	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = vn_seterr(err, EIO, "write to vnoded: %s", strerror(errno));
			goto out_fd;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1) {
		ret = vn_seterr(err, EIO, "write to vnoded: %s", strerror(errno));
		goto out_fd;
	}
	shutdown(fd, SHUT_WR);

	buf = malloc(cap);
	off = 0;
	for (;;) {
		if (!buf) {
			ret = vn_seterr(err, ENOMEM, "out of memory");
			goto out_fd;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = vn_seterr(err, EIO, "read from vnoded: %s", strerror(errno));
			goto out_buf;
		}
		if (!n)
			break;
		off += (size_t)n;
		if (off + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	buf[off] = '\0';
	resp = json_tokener_parse(buf);
	if (!resp || !json_object_is_type(resp, json_type_object)) {
		ret = vn_seterr(err, EPROTO, "malformed answer from vnoded");
		json_object_put(resp);
		goto out_buf;
	}
	if (json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v)) {
		if (data && json_object_object_get_ex(resp, "data", &v))
			*data = json_object_get(v);
		ret = 0;
	} else {
		int code = EIO;
		const char *msg = "unknown error";

		if (json_object_object_get_ex(resp, "errno", &v))
			code = json_object_get_int(v);
		if (json_object_object_get_ex(resp, "error", &v))
			msg = json_object_get_string(v);
		ret = vn_seterr(err, code > 0 ? code : EIO, "%s", msg);
	}
	json_object_put(resp);
out_buf:
	free(buf);
out_fd:
	close(fd);
out_req:
	json_object_put(req);
	return ret;
}

/* ---- server side ------------------------------------------------------- */

typedef int (*handler_fn)(struct vn_ctx *ctx, json_object *args,
			  const struct vn_caller *who, json_object **data,
			  struct vn_err *err);

static const char *arg_str(json_object *args, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int arg_u64(json_object *args, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

static bool arg_bool(json_object *args, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

static int need_name(json_object *args, const char **name, struct vn_err *err)
{
	*name = arg_str(args, "name");
	if (!*name || !**name)
		return vn_seterr(err, EINVAL, "missing 'name'");
	return 0;
}

static int need_root(const struct vn_caller *who, const char *what,
		     struct vn_err *err)
{
	if (who->uid)
		return vn_seterr(err, EPERM, "permission denied: only root may %s", what);
	return 0;
}

static int h_ping(struct vn_ctx *ctx, json_object *args,
		  const struct vn_caller *who, json_object **data,
		  struct vn_err *err)
{
	(void)ctx; (void)args; (void)err;
	*data = json_object_new_object();
	json_object_object_add(*data, "pid", json_object_new_int(getpid()));
	json_object_object_add(*data, "uid", json_object_new_int64(who->uid));
	json_object_object_add(*data, "db_version",
			       json_object_new_int(vn_db_version(ctx->db)));
	return 0;
}

static int h_comp_add(struct vn_ctx *ctx, json_object *args,
		      const struct vn_caller *who, json_object **data,
		      struct vn_err *err)
{
	struct vn_conf_comp c = { 0 };
	const char *name, *kind, *addr;
	uint64_t port = 0;
	int ret;

	ret = need_root(who, "add components", err);
	if (!ret)
		ret = need_name(args, &name, err);
	if (ret)
		return ret;
	kind = arg_str(args, "type");
	addr = arg_str(args, "addr");
	if (!kind || vn_kind_parse(kind, &c.kind))
		return vn_seterr(err, EINVAL, "type must be memory or storage");
	if (!addr)
		return vn_seterr(err, EINVAL, "missing addr");
	if (strlen(name) >= sizeof(c.name) || strlen(addr) >= sizeof(c.addr))
		return vn_seterr(err, EINVAL, "name or addr too long");
	strcpy(c.name, name);
	strcpy(c.addr, addr);
	ret = arg_u64(args, "port", &port);
	if (ret == -ENOENT)
		port = (uint64_t)vn_default_port(c.kind);
	else if (ret || port > 65535)
		return vn_seterr(err, EINVAL, "invalid port");
	c.port = (int)port;
	return vn_component_add(ctx, &c, "cli", !arg_bool(args, "no_probe"), data, err);
}

static int h_comp_remove(struct vn_ctx *ctx, json_object *args,
			 const struct vn_caller *who, json_object **data,
			 struct vn_err *err)
{
	const char *name;
	int ret;

	(void)data;
	ret = need_root(who, "remove components", err);
	if (!ret)
		ret = need_name(args, &name, err);
	return ret ? ret : vn_component_remove(ctx, name, err);
}

static int h_comp_list(struct vn_ctx *ctx, json_object *args,
		       const struct vn_caller *who, json_object **data,
		       struct vn_err *err)
{
	(void)who;
	if (arg_bool(args, "probe"))
		vn_probe_all(ctx, NULL);
	return vn_component_list(ctx, data, err);
}

static int h_comp_show(struct vn_ctx *ctx, json_object *args,
		       const struct vn_caller *who, json_object **data,
		       struct vn_err *err)
{
	const char *name;
	int ret;

	(void)who;
	ret = need_name(args, &name, err);
	return ret ? ret : vn_component_show(ctx, name, true, data, err);
}

static int h_vnode_create(struct vn_ctx *ctx, json_object *args,
			  const struct vn_caller *who, json_object **data,
			  struct vn_err *err)
{
	struct vn_vnode_req req = { 0 };
	const char *name, *s;
	uint64_t v;
	int ret;

	ret = need_name(args, &name, err);
	if (ret)
		return ret;
	if (strlen(name) >= sizeof(req.name))
		return vn_seterr(err, EINVAL, "vNode name too long (max 31)");
	strcpy(req.name, name);
	if (arg_u64(args, "mem", &req.mem))
		return vn_seterr(err, EINVAL, "missing or invalid 'mem' (bytes)");
	if (arg_u64(args, "cache", &req.cache))
		return vn_seterr(err, EINVAL, "missing or invalid 'cache' (bytes)");
	ret = arg_u64(args, "replicas", &v);
	if (!ret)
		req.replicas = v > 2 ? 3 : (int)v;
	else if (ret != -ENOENT)
		return vn_seterr(err, EINVAL, "invalid 'replicas'");
	s = arg_str(args, "cpus");
	if (s) {
		if (strlen(s) >= sizeof(req.cpus))
			return vn_seterr(err, EINVAL, "cpu list too long");
		strcpy(req.cpus, s);
	}
	s = arg_str(args, "owner");
	if (s) {
		if (strlen(s) >= sizeof(req.owner))
			return vn_seterr(err, EINVAL, "owner too long");
		strcpy(req.owner, s);
	}
	req.ephemeral = arg_bool(args, "ephemeral");
	if (req.ephemeral)
		req.creator_pid = who->pid;
	return vn_vnode_create(ctx, &req, who, data, err);
}

static int h_vnode_destroy(struct vn_ctx *ctx, json_object *args,
			   const struct vn_caller *who, json_object **data,
			   struct vn_err *err)
{
	const char *name;
	int ret;

	(void)data;
	ret = need_name(args, &name, err);
	return ret ? ret : vn_vnode_destroy(ctx, name, arg_bool(args, "force"),
					     who, err);
}

static int h_vnode_attach(struct vn_ctx *ctx, json_object *args,
			  const struct vn_caller *who, json_object **data,
			  struct vn_err *err)
{
	const char *name;
	int ret;

	(void)data;
	ret = need_name(args, &name, err);
	/* the pid is the caller's own, from SO_PEERCRED: nobody can move
	 * somebody else's process */
	return ret ? ret : vn_vnode_attach(ctx, name, who->pid, who, err);
}

static int h_vnode_list(struct vn_ctx *ctx, json_object *args,
			const struct vn_caller *who, json_object **data,
			struct vn_err *err)
{
	(void)args; (void)who;
	return vn_vnode_list(ctx, data, err);
}

static int h_vnode_show(struct vn_ctx *ctx, json_object *args,
			const struct vn_caller *who, json_object **data,
			struct vn_err *err)
{
	const char *name;
	int ret;

	(void)who;
	ret = need_name(args, &name, err);
	return ret ? ret : vn_vnode_show(ctx, name, data, err);
}

static int h_vnode_stats(struct vn_ctx *ctx, json_object *args,
			 const struct vn_caller *who, json_object **data,
			 struct vn_err *err)
{
	(void)args; (void)who;
	return vn_vnode_stats(ctx, data, err);
}

static int h_disk_show(struct vn_ctx *ctx, json_object *args,
		       const struct vn_caller *who, json_object **data,
		       struct vn_err *err)
{
	(void)args; (void)who;
	return vn_disk_show(ctx, data, err);
}

static int h_sql(struct vn_ctx *ctx, json_object *args,
		 const struct vn_caller *who, json_object **data,
		 struct vn_err *err)
{
	const char *q = arg_str(args, "query");

	(void)who;
	if (!q)
		return vn_seterr(err, EINVAL, "missing 'query'");
	/* a separate read-only connection, never the daemon's own */
	return vn_sql_readonly(ctx->dbpath, q, data, err);
}

static const struct {
	const char *cmd;
	handler_fn fn;
} handlers[] = {
	{ "ping", h_ping },
	{ "component.add", h_comp_add },
	{ "component.remove", h_comp_remove },
	{ "component.list", h_comp_list },
	{ "component.show", h_comp_show },
	{ "vnode.create", h_vnode_create },
	{ "vnode.destroy", h_vnode_destroy },
	{ "vnode.attach", h_vnode_attach },
	{ "vnode.list", h_vnode_list },
	{ "vnode.show", h_vnode_show },
	{ "vnode.stats", h_vnode_stats },
	{ "disk.show", h_disk_show },
	{ "sql", h_sql },
};

char *vn_handle_request(struct vn_ctx *ctx, const char *line,
			const struct vn_caller *who)
{
	json_object *req, *resp, *args = NULL, *v, *data = NULL;
	struct vn_err err = { "" };
	const char *cmd = NULL;
	size_t i;
	char *out;
	int ret = -ENOSYS;

	req = json_tokener_parse(line);
	if (!req || !json_object_is_type(req, json_type_object)) {
		ret = vn_seterr(&err, EINVAL, "malformed request (expected one JSON object)");
		goto reply;
	}
	if (json_object_object_get_ex(req, "cmd", &v) &&
	    json_object_is_type(v, json_type_string))
		cmd = json_object_get_string(v);
	if (!json_object_object_get_ex(req, "args", &args) || !args ||
	    !json_object_is_type(args, json_type_object))
		args = NULL;
	if (!cmd) {
		ret = vn_seterr(&err, EINVAL, "request has no 'cmd'");
		goto reply;
	}
	ret = vn_seterr(&err, ENOSYS, "unknown command '%s'", cmd);
	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (strcmp(handlers[i].cmd, cmd))
			continue;
		if (!args) {
			args = json_object_new_object();
			json_object_object_add(req, "args", args);
		}
		err.msg[0] = '\0';
		ret = handlers[i].fn(ctx, args, who, &data, &err);
		break;
	}
reply:
	resp = json_object_new_object();
	json_object_object_add(resp, "ok", json_object_new_boolean(!ret));
	if (ret) {
		json_object_object_add(resp, "errno", json_object_new_int(-ret));
		json_object_object_add(resp, "error",
				       json_object_new_string(err.msg[0] ? err.msg :
							      strerror(-ret)));
		json_object_put(data);
	} else if (data) {
		json_object_object_add(resp, "data", data);
	}
	out = strdup(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN));
	json_object_put(resp);
	json_object_put(req);
	return out;
}
