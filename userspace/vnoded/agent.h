/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Storage agent: `vnoded --agent` on a storage host creates and deletes
 * vnode_stor volumes for process hosts.  Requests use the control
 * protocol's JSON framing (lib/ipc.c) over TCP (default port 7472); the
 * volume's `client` is always the TCP peer address, so a host can only
 * create volumes exported to itself and list or delete only its own.
 * Every request and answer proves the cluster key or, for a request that
 * names an identity, that identity's key (below); a new volume's `owner`
 * is that identity, and only it may then show, delete, list or re-open
 * the volume.  See docs/storage.md "vNode volumes" for the trust model.
 */
#ifndef VN_AGENT_H
#define VN_AGENT_H

#include <json-c/json.h>

#include "auth.h"
#include "conf.h"
#include "kern.h"
#include "util.h"

struct vn_agent {
	struct vn_kern kern;
	struct vn_key key;		/* len 0: insecure = true, no key file */
	int delete_timeout_ms;		/* waiting for a client to let go */
	void (*log)(int prio, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

/*
 * Authentication (auth.h has the MACs): on accept the agent sends
 * {"agent":"vnode-1.3","nonce":HEX(Na)} and a newline; the client's
 * request line L carries "nonce": HEX(Nc) and goes as
 * "HEX(HMAC(K, "vnode-1.3 agentrq" | Na | Nc | L)) L"; the agent answers
 * "HEX(HMAC(K, "vnode-1.3 agentrs" | Na | Nc | request MAC | R)) R".  K
 * is the cluster key, or, when L carries "identity": NAME, the identity
 * key of NAME (the agent derives it from the cluster key).  So both sides
 * prove the key, a request proves the identity it names, and neither a
 * request nor an answer can be replayed (fresh nonces from both sides).
 * An agent without a key (insecure = true) says "insecure": true, takes
 * plain requests and their identity as claimed; a client with a key
 * refuses it.
 */
/* The greeting line (with its newline) and the nonce Na it carries. */
int vn_agent_hello(const struct vn_agent *a, uint8_t na[VN_AGENT_NONCE_LEN],
		   char *out, size_t len);
/* Handle one request line from `peer` (an IP literal) on a connection
 * that was greeted with na; returns the reply line (malloc'd). */
char *vn_agent_handle(struct vn_agent *a, const uint8_t na[VN_AGENT_NONCE_LEN],
		      const char *line, const char *peer);

/* Who asks: the TCP peer and the identity its request proved. */
struct vn_agent_peer {
	const char *addr;	/* an IP literal: the volumes' client */
	const char *ident;	/* "": none (the cluster key, address checks only) */
};
/* The same on a parsed, already authenticated request (the in-process
 * fake agent of the tests). */
int vn_agent_exec(struct vn_agent *a, const char *cmd, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err);

/* The client's side of one exchange. */
struct vn_agent_session {
	struct vn_key key;		/* what signs: len 0 no key (insecure) */
	char ident[VNODE_AUTH_IDENT_LEN];	/* sent as "identity"; "" none */
	uint8_t na[VN_AGENT_NONCE_LEN], nc[VN_AGENT_NONCE_LEN];
	uint8_t rqmac[VNODE_AUTH_HMAC_LEN];
};
/* The identity and key of a session from our key: an identity key signs
 * for its own identity; the cluster key for kident (the kernel's
 * identity, vn_kern_identity()) with kident's key derived from it, or
 * alone if kident is "" (no identity); no key (insecure): kident
 * unsigned.  0, or -EINVAL and why. */
int vn_agent_session_key(struct vn_agent_session *s, const struct vn_key *key,
			 const char *kident, struct vn_err *err);
/* The same with the key file of auth, read now (rotation). */
int vn_agent_session_open(struct vn_agent_session *s,
			  const struct vn_auth_conf *auth, const char *kident,
			  struct vn_err *err);
/* From the agent's greeting, the request line to send (malloc'd, with
 * its newline); takes args.  who names the agent in messages. */
int vn_agent_request(struct vn_agent_session *s, const char *hello, const char *who,
		     const char *cmd, json_object *args, char **line, struct vn_err *err);
/* Check and parse the agent's answer: data, or -errno and the message. */
int vn_agent_reply(struct vn_agent_session *s, const char *who, const char *reply,
		   json_object **data, struct vn_err *err);

/* Client: one request to the agent at addr:port (connect bounded by
 * connect_ms, each read/write of the answer by timeout_ms), as
 * vn_agent_session_open(auth, kident) says (the key file is read at every
 * call; none and auth->insecure: plain requests).  Takes ownership of
 * args. */
int vn_agent_call(const char *addr, int port, const struct vn_auth_conf *auth,
		  const char *kident, int connect_ms, int timeout_ms,
		  const char *cmd, json_object *args, json_object **data,
		  struct vn_err *err);

#endif /* VN_AGENT_H */
