// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"

const char *vn_sock_path(const char *explicit_path)
{
	const char *s;

	if (explicit_path && *explicit_path)
		return explicit_path;
	s = getenv("VNODE_SOCKET");
	return s && *s ? s : VN_SOCK_DEFAULT;
}

/* Write all of buf (EINTR-safe); -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/* Read until EOF into a malloc'd string; the first SCM_RIGHTS fd (if any
 * and if rfd) goes to *rfd. */
int vn_read_all(int fd, char **out, int *rfd)
{
	size_t off = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { buf + off, cap - off - 1 };
		struct msghdr m = {
			.msg_iov = &io, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;

		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			int got;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			memcpy(&got, CMSG_DATA(c), sizeof(got));
			if (rfd && *rfd < 0)
				*rfd = got;
			else
				close(got);
		}
		if (!n)
			break;
		off += (size_t)n;
		if (off + 1 == cap) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[off] = '\0';
	*out = buf;
	return 0;
}

/* Write {cmd, args[, token]} and a newline (args taken). */
static int send_request(int fd, const char *who, const char *cmd, json_object *args,
			const char *token, struct vn_err *err)
{
	json_object *req = json_object_new_object();
	const char *line;
	int ret;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args", args ? args : json_object_new_object());
	if (token && *token)
		json_object_object_add(req, "token", json_object_new_string(token));
	line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	ret = write_all(fd, line, strlen(line));
	if (!ret)
		ret = write_all(fd, "\n", 1);
	json_object_put(req);
	if (ret)
		return vn_seterr(err, EIO, "write to %s: %s", who, strerror(-ret));
	return 0;
}

/* An answer {"ok":...}: 0 and its data (a new reference, if data), or the
 * daemon's -errno and message. */
static int parse_reply(json_object *resp, const char *who, json_object **data,
		       struct vn_err *err)
{
	json_object *v;
	int code = EIO;
	const char *msg = "unknown error";

	if (!resp || !json_object_is_type(resp, json_type_object))
		return vn_seterr(err, EPROTO, "malformed answer from %s", who);
	if (json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v)) {
		if (data && json_object_object_get_ex(resp, "data", &v))
			*data = json_object_get(v);
		return 0;
	}
	if (json_object_object_get_ex(resp, "errno", &v))
		code = json_object_get_int(v);
	if (json_object_object_get_ex(resp, "error", &v))
		msg = json_object_get_string(v);
	return vn_seterr(err, code > 0 ? code : EIO, "%s", msg);
}

int vn_call_on(int fd, const char *who, const char *cmd, json_object *args,
	       const char *token, json_object **data, int *rfd,
	       struct vn_err *err)
{
	json_object *resp;
	char *buf = NULL;
	int ret;

	if (data)
		*data = NULL;
	if (rfd)
		*rfd = -1;
	ret = send_request(fd, who, cmd, args, token, err);
	if (ret)
		return ret;
	shutdown(fd, SHUT_WR);
	ret = vn_read_all(fd, &buf, rfd);
	if (ret)
		return vn_seterr(err, EIO, "read from %s: %s", who, strerror(-ret));
	resp = json_tokener_parse(buf);
	free(buf);
	ret = parse_reply(resp, who, data, err);
	json_object_put(resp);
	if (ret && rfd && *rfd >= 0) {
		close(*rfd);
		*rfd = -1;
	}
	return ret;
}

/* A connected socket to vnoded, or -errno with the reason. */
static int sock_connect(const char *sock, struct vn_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return vn_seterr(err, ENAMETOOLONG, "socket path too long");
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vn_seterr(err, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = vn_seterr(err, errno,
				    "cannot reach vnoded at %s: %s%s", sock, strerror(errno),
				    errno == ENOENT || errno == ECONNREFUSED ?
				    " (is vnoded running?)" :
				    errno == EACCES ? " (are you in the vnode group?)" : "");

		close(fd);
		return ret;
	}
	return fd;
}

int vn_call_fd(const char *sock, const char *cmd, json_object *args,
	       json_object **data, int *rfd, struct vn_err *err)
{
	int fd, ret;

	if (data)
		*data = NULL;
	fd = sock_connect(sock, err);
	if (fd < 0) {
		json_object_put(args);
		return fd;
	}
	ret = vn_call_on(fd, "vnoded", cmd, args, NULL, data, rfd, err);
	close(fd);
	return ret;
}

int vn_stream(const char *sock, const char *cmd, json_object *args,
	      int (*fn)(json_object *msg, void *priv), void *priv,
	      struct vn_err *err)
{
	size_t len = 0, cap = VN_REQ_MAX;
	bool answered = false;
	char *buf, *nl;
	int fd, ret;
	ssize_t n;

	fd = sock_connect(sock, err);
	if (fd < 0) {
		json_object_put(args);
		return fd;
	}
	ret = send_request(fd, "vnoded", cmd, args, NULL, err);
	buf = malloc(cap + 1);
	if (!ret && !buf)
		ret = vn_seterr(err, ENOMEM, "out of memory");
	while (!ret) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? vn_seterr(err, errno, "read from vnoded: %s", strerror(errno)) :
			      vn_seterr(err, EPIPE, answered ? "vnoded closed the stream" :
					"vnoded closed the connection without an answer");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		while (!ret && (nl = strchr(buf, '\n'))) {
			json_object *msg;

			*nl = '\0';
			msg = json_tokener_parse(buf);
			if (!answered) {
				ret = parse_reply(msg, "vnoded", NULL, err);
				answered = true;
			} else if (!msg) {
				ret = vn_seterr(err, EPROTO, "malformed message from vnoded");
			} else {
				ret = fn(msg, priv);
				if (ret > 0)
					ret = 1;	/* the caller has seen enough */
			}
			json_object_put(msg);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (!ret && len == cap)
			ret = vn_seterr(err, EMSGSIZE, "a message from vnoded longer than %d bytes",
					VN_REQ_MAX);
	}
	free(buf);
	close(fd);
	return ret > 0 ? 0 : ret;
}

int vn_call(const char *sock, const char *cmd, json_object *args,
	    json_object **data, struct vn_err *err)
{
	return vn_call_fd(sock, cmd, args, data, NULL, err);
}

int vn_write_reply(int fd, const char *resp, int sendfd)
{
	size_t len = strlen(resp);
	int ret;

	if (sendfd >= 0) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec io = { (void *)resp, len };
		struct msghdr m = {
			.msg_iov = &io, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		ssize_t n;

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sendfd, sizeof(int));
		/* the fd travels with the first byte; the rest follows */
		io.iov_len = 1;
		do {
			n = sendmsg(fd, &m, MSG_NOSIGNAL);
		} while (n < 0 && errno == EINTR);
		if (n != 1)
			return n < 0 ? -errno : -EIO;
		resp++;
		len--;
	}
	ret = write_all(fd, resp, len);
	if (!ret)
		ret = write_all(fd, "\n", 1);
	return ret;
}

/* ---- server-side framing: requests and replies ------------------------ */

const char *vn_arg_str(json_object *args, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int vn_arg_u64(json_object *args, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(args, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = json_object_get_uint64(v);
	return 0;
}

bool vn_arg_bool(json_object *args, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

json_object *vn_parse_request(const char *line, const char **cmd,
			      json_object **args, const char **token,
			      struct vn_err *err)
{
	json_object *req, *v;

	*cmd = NULL;
	*args = NULL;
	if (token)
		*token = NULL;
	req = json_tokener_parse(line);
	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		vn_seterr(err, EINVAL, "malformed request (expected one JSON object)");
		return NULL;
	}
	if (json_object_object_get_ex(req, "cmd", &v) &&
	    json_object_is_type(v, json_type_string))
		*cmd = json_object_get_string(v);
	if (!*cmd) {
		json_object_put(req);
		vn_seterr(err, EINVAL, "request has no 'cmd'");
		return NULL;
	}
	if (token && json_object_object_get_ex(req, "token", &v) &&
	    json_object_is_type(v, json_type_string))
		*token = json_object_get_string(v);
	if (!json_object_object_get_ex(req, "args", args) || !*args ||
	    !json_object_is_type(*args, json_type_object)) {
		*args = json_object_new_object();
		json_object_object_add(req, "args", *args);
	}
	return req;
}

char *vn_reply_line(int ret, const struct vn_err *err, json_object *data)
{
	json_object *resp = json_object_new_object();
	char *out;

	json_object_object_add(resp, "ok", json_object_new_boolean(!ret));
	if (ret) {
		json_object_object_add(resp, "errno", json_object_new_int(-ret));
		json_object_object_add(resp, "error",
				       json_object_new_string(err && err->msg[0] ?
							      err->msg : strerror(-ret)));
		json_object_put(data);
	} else if (data) {
		json_object_object_add(resp, "data", data);
	}
	out = strdup(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN));
	json_object_put(resp);
	return out;
}
