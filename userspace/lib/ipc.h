/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded control protocol: a unix stream socket (default
 * /run/vnode/vnoded.sock).  One request per connection: the client writes
 * one JSON object on one line, {"cmd": "vnode.create", "args": {...}},
 * the daemon answers one line, {"ok": true, "data": ...} or
 * {"ok": false, "errno": N, "error": "message"}, and closes.  The caller's
 * uid/pid come from SO_PEERCRED, never from the request.
 */
#ifndef VN_IPC_H
#define VN_IPC_H

#include <json-c/json.h>

#include "core.h"
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

/* Server: handle one request line; returns the response line (malloc'd). */
char *vn_handle_request(struct vn_ctx *ctx, const char *line,
			const struct vn_caller *who);

#endif /* VN_IPC_H */
