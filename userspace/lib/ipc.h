/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded control protocol: a unix stream socket (default
 * /run/vnode/vnoded.sock).  One request per connection: the client writes
 * one JSON object on one line, {"cmd": "vnode.create", "args": {...}},
 * the daemon answers one line, {"ok": true, "data": ...} or
 * {"ok": false, "errno": N, "error": "message"}, and closes.  The caller's
 * uid/pid come from SO_PEERCRED, never from the request.
 *
 * This is the framing and the client, shared by vnodectl, vnode-run and
 * vnoded (whose request handlers are in vnoded/request.c); it knows
 * nothing of the daemon's types or its database.
 */
#ifndef VN_IPC_H
#define VN_IPC_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

#define VN_SOCK_DEFAULT		"/run/vnode/vnoded.sock"
#define VN_STATE_DEFAULT	"/var/lib/vnode"
#define VN_CONF_DEFAULT		"/etc/vnode/cluster.conf"
#define VN_REQ_MAX		(64 * 1024)

/* Socket path: explicit, else $VNODE_SOCKET, else the default. */
const char *vn_sock_path(const char *explicit_path);

/* Client: send {cmd, args} (args may be NULL; ownership of args taken),
 * return data (caller puts) or -errno with the daemon's message. */
int vn_call(const char *sock, const char *cmd, json_object *args,
	    json_object **data, struct vn_err *err);

/* Same, and the file descriptor the daemon passed with the answer
 * (SCM_RIGHTS; -1 if none) in *rfd. */
int vn_call_fd(const char *sock, const char *cmd, json_object *args,
	       json_object **data, int *rfd, struct vn_err *err);
/* A streaming request (events.watch): after the answer, the daemon sends
 * one JSON object per line until the connection ends; fn gets each (its
 * reference is the caller's only during the call) and returns 0 for more,
 * > 0 to stop (vn_stream then returns 0) or -errno (returned).  The
 * daemon's error, or -EPIPE when it closes the stream. */
int vn_stream(const char *sock, const char *cmd, json_object *args,
	      int (*fn)(json_object *msg, void *priv), void *priv,
	      struct vn_err *err);
/* One request on a connected stream socket (unix or TCP); `who` names the
 * peer in messages; token ("" = none) is sent along. */
int vn_call_on(int fd, const char *who, const char *cmd, json_object *args,
	       const char *token, json_object **data, int *rfd,
	       struct vn_err *err);

/* Read to the end of the stream (malloc'd, NUL-terminated); a passed
 * descriptor (SCM_RIGHTS) in *rfd if rfd.  0 or -errno. */
int vn_read_all(int fd, char **out, int *rfd);
/* Server side framing: write one reply line (with sendfd as SCM_RIGHTS
 * when >= 0, unix sockets only); requests are read by vnoded/server.c. */
int vn_write_reply(int fd, const char *resp, int sendfd);

/* Parse {"cmd","args","token"}; returns the request (caller puts) or NULL
 * with err set.  *args is never NULL on success. */
json_object *vn_parse_request(const char *line, const char **cmd,
			      json_object **args, const char **token,
			      struct vn_err *err);
/* Request arguments: string (NULL if absent or not a string), unsigned
 * integer (-ENOENT absent, -EINVAL wrong type), boolean (false if absent). */
const char *vn_arg_str(json_object *args, const char *key);
int vn_arg_u64(json_object *args, const char *key, uint64_t *out);
bool vn_arg_bool(json_object *args, const char *key);

/* {"ok":...} reply line (malloc'd); takes data. */
char *vn_reply_line(int ret, const struct vn_err *err, json_object *data);

#endif /* VN_IPC_H */
