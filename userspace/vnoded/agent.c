// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "agent.h"
#include "ipc.h"
#include "size.h"

#define VOL_ALIGN	4096ULL

static bool token_ok(const char *want, const char *got)
{
	size_t i, wl = strlen(want), gl = got ? strlen(got) : 0;
	unsigned char d = wl != gl;

	/* constant time in the length of the configured token */
	for (i = 0; i < wl; i++)
		d |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? got[i] : 0);
	return !d;
}

static json_object *vol_json(const char *name, const struct vn_stor_vol *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "size", json_object_new_uint64(v->size));
	json_object_object_add(o, "client", json_object_new_string(v->client));
	json_object_object_add(o, "enabled", json_object_new_boolean(v->enabled));
	json_object_object_add(o, "state", json_object_new_string(v->state));
	json_object_object_add(o, "stats", json_object_new_string(v->stats));
	return o;
}

/* name + the volume, which must belong to peer */
static int own_volume(struct vn_agent *a, json_object *args, const char *peer,
		      const char **name, struct vn_stor_vol *v,
		      struct vn_err *err)
{
	*name = vn_arg_str(args, "name");
	if (!*name || !vn_volume_name_valid(*name))
		return vn_seterr(err, EINVAL, "missing or invalid volume name");
	if (vn_stor_get(&a->kern, *name, v))
		return vn_seterr(err, ENOENT, "no volume '%s' on this storage host",
				 *name);
	if (strcmp(v->client, peer))
		return vn_seterr(err, EPERM,
				 "volume '%s' belongs to host %s, not to %s", *name,
				 v->client, peer);
	return 0;
}

static int a_create(struct vn_agent *a, json_object *args, const char *peer,
		    json_object **data, struct vn_err *err)
{
	const char *name = vn_arg_str(args, "name");
	struct vn_stor_vol v;
	uint64_t size = 0;
	char sz[32];
	int ret;

	if (!name || !vn_volume_name_valid(name))
		return vn_seterr(err, EINVAL,
				 "invalid volume name '%s' (letters, digits, _ -; max 31)",
				 name ? name : "");
	if (vn_arg_u64(args, "size", &size) || !size || size % VOL_ALIGN)
		return vn_seterr(err, EINVAL,
				 "volume size must be a positive multiple of 4K");
	ret = vn_stor_check(&a->kern, err);
	if (ret)
		return ret;
	vn_fmt_size(size, sz, sizeof(sz));
	if (!vn_stor_get(&a->kern, name, &v)) {
		/* the process host restoring its volume (reconcile) */
		if (vn_arg_bool(args, "reopen") && !strcmp(v.client, peer) &&
		    v.size == size) {
			bool was = v.enabled;

			if (!was) {
				ret = vn_stor_enable(&a->kern, name, err);
				if (ret)
					return ret;
				vn_stor_get(&a->kern, name, &v);
			}
			*data = vol_json(name, &v);
			json_object_object_add(*data, "reopened", json_object_new_boolean(!was));
			return 0;
		}
		return vn_seterr(err, EEXIST,
				 "volume '%s' already exists on this storage host%s",
				 name, strcmp(v.client, peer) ? " (another host's)" : "");
	}
	/* after a storage-host restart the item is gone: creating it again
	 * re-opens the data vnode_stor kept in its table (same client, size) */
	ret = vn_stor_create(&a->kern, name, size, peer, err);
	if (ret) {
		if (ret == -ENOSPC) {
			uint64_t f = vn_stor_free(&a->kern);
			char fs[32];

			if (f) {
				size_t l = strlen(err->msg);

				vn_fmt_size(f, fs, sizeof(fs));
				snprintf(err->msg + l, sizeof(err->msg) - l,
					 " (%s free)", fs);
			}
		}
		a->log(LOG_WARNING, "volume %s (%s) for %s refused: %s", name, sz,
		       peer, err->msg);
		return ret;
	}
	a->log(LOG_INFO, "volume %s (%s) %s for %s", name, sz,
	       vn_arg_bool(args, "reopen") ? "re-opened" : "created", peer);
	vn_stor_get(&a->kern, name, &v);
	*data = vol_json(name, &v);
	json_object_object_add(*data, "reopened",
			       json_object_new_boolean(vn_arg_bool(args, "reopen")));
	return 0;
}

static int a_delete(struct vn_agent *a, json_object *args, const char *peer,
		    json_object **data, struct vn_err *err)
{
	struct vn_stor_vol v;
	const char *name;
	int ret;

	(void)data;
	ret = own_volume(a, args, peer, &name, &v, err);
	if (!ret)
		ret = vn_stor_delete(&a->kern, name, a->delete_timeout_ms, err);
	if (!ret)
		a->log(LOG_INFO, "volume %s of %s deleted", name, peer);
	return ret;
}

static int a_show(struct vn_agent *a, json_object *args, const char *peer,
		  json_object **data, struct vn_err *err)
{
	struct vn_stor_vol v;
	const char *name;
	int ret;

	ret = own_volume(a, args, peer, &name, &v, err);
	if (!ret)
		*data = vol_json(name, &v);
	return ret;
}

static int a_list(struct vn_agent *a, json_object *args, const char *peer,
		  json_object **data, struct vn_err *err)
{
	json_object *names, *out;
	struct vn_stor_vol v;
	size_t i;
	int ret;

	(void)args;
	ret = vn_stor_check(&a->kern, err);
	if (ret)
		return ret;
	ret = vn_stor_names(&a->kern, &names);
	if (ret)
		return vn_seterr(err, -ret, "cannot list volumes: %s", strerror(-ret));
	out = json_object_new_array();
	for (i = 0; i < json_object_array_length(names); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(names, i));

		if (!vn_stor_get(&a->kern, n, &v) && !strcmp(v.client, peer))
			json_object_array_add(out, vol_json(n, &v));
	}
	json_object_put(names);
	*data = out;
	return 0;
}

static int a_ping(struct vn_agent *a, json_object *args, const char *peer,
		  json_object **data, struct vn_err *err)
{
	(void)args; (void)err;
	*data = json_object_new_object();
	json_object_object_add(*data, "peer", json_object_new_string(peer));
	json_object_object_add(*data, "stor_loaded",
			       json_object_new_boolean(!vn_stor_check(&a->kern, NULL)));
	json_object_object_add(*data, "free", json_object_new_uint64(vn_stor_free(&a->kern)));
	return 0;
}

static const struct {
	const char *cmd;
	int (*fn)(struct vn_agent *a, json_object *args, const char *peer,
		  json_object **data, struct vn_err *err);
} agent_cmds[] = {
	{ "ping", a_ping },
	{ "volume.create", a_create },
	{ "volume.delete", a_delete },
	{ "volume.show", a_show },
	{ "volume.list", a_list },
};

int vn_agent_exec(struct vn_agent *a, const char *cmd, json_object *args,
		  const char *token, const char *peer, json_object **data,
		  struct vn_err *err)
{
	size_t i;

	*data = NULL;
	if (a->token[0] && !token_ok(a->token, token)) {
		a->log(LOG_WARNING, "request '%s' from %s: wrong or missing token", cmd, peer);
		return vn_seterr(err, EACCES,
				 "storage agent: wrong or missing token (agent_token in [cluster])");
	}
	for (i = 0; i < sizeof(agent_cmds) / sizeof(agent_cmds[0]); i++)
		if (!strcmp(agent_cmds[i].cmd, cmd))
			return agent_cmds[i].fn(a, args, peer, data, err);
	return vn_seterr(err, ENOSYS, "storage agent: unknown command '%s'", cmd);
}

char *vn_agent_handle(struct vn_agent *a, const char *line, const char *peer)
{
	json_object *req, *args, *data = NULL;
	struct vn_err err = { "" };
	const char *cmd, *token;
	char *out;
	int ret;

	req = vn_parse_request(line, &cmd, &args, &token, &err);
	if (!req)
		return vn_reply_line(-EINVAL, &err, NULL);
	ret = vn_agent_exec(a, cmd, args, token, peer, &data, &err);
	out = vn_reply_line(ret, &err, data);
	json_object_put(req);
	return out;
}

/* connect() bounded by timeout_ms */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len,
			   int timeout_ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL), e = 0;
	socklen_t el = sizeof(e);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (!connect(fd, sa, len))
		goto ok;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&pf, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e)
		return -(e ? e : errno);
ok:
	fcntl(fd, F_SETFL, fl);
	return 0;
}

int vn_agent_call(const char *addr, int port, const char *token,
		  int connect_ms, int timeout_ms, const char *cmd,
		  json_object *args, json_object **data, struct vn_err *err)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	char who[128];
	socklen_t len;
	int fd, ret;

	snprintf(who, sizeof(who), "the storage agent at %s port %d", addr, port);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		json_object_put(args);
		return vn_seterr(err, EINVAL, "invalid storage host address '%s'", addr);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		json_object_put(args);
		return vn_seterr(err, errno, "socket: %s", strerror(errno));
	}
	ret = connect_timeout(fd, (struct sockaddr *)&ss, len, connect_ms);
	if (ret) {
		close(fd);
		json_object_put(args);
		return vn_seterr(err, -ret, "cannot reach %s: %s%s", who, strerror(-ret),
				 ret == -ECONNREFUSED ? " (is 'vnoded --agent' running there?)" : "");
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret = vn_call_on(fd, who, cmd, args, token, data, NULL, err);
	close(fd);
	return ret;
}
