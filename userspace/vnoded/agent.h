/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Storage agent: `vnoded --agent` on a storage host creates and deletes
 * vnode_stor volumes for process hosts.  Requests use the control
 * protocol's JSON framing (lib/ipc.c) over TCP (default port 7472); the
 * volume's `client` is always the TCP peer address, so a host can only
 * create volumes exported to itself and list or delete only its own.
 * An optional shared token ([agent] token / [cluster] agent_token) must
 * match too.  See docs/storage.md "vNode volumes" for the trust model.
 */
#ifndef VN_AGENT_H
#define VN_AGENT_H

#include <json-c/json.h>

#include "conf.h"
#include "kern.h"
#include "util.h"

struct vn_agent {
	struct vn_kern kern;
	char token[VN_TOKEN_MAX];	/* "" = none */
	int delete_timeout_ms;		/* waiting for a client to let go */
	void (*log)(int prio, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

/* Handle one request line from `peer` (an IP literal); returns the reply
 * line (malloc'd). */
char *vn_agent_handle(struct vn_agent *a, const char *line, const char *peer);
/* The same on a parsed request (the in-process fake agent of the tests). */
int vn_agent_exec(struct vn_agent *a, const char *cmd, json_object *args,
		  const char *token, const char *peer, json_object **data,
		  struct vn_err *err);

/* Client: one request to the agent at addr:port (connect bounded by
 * connect_ms, each read/write of the answer by timeout_ms).  Takes
 * ownership of args. */
int vn_agent_call(const char *addr, int port, const char *token,
		  int connect_ms, int timeout_ms, const char *cmd,
		  json_object *args, json_object **data, struct vn_err *err);

#endif /* VN_AGENT_H */
