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

static json_object *vol_json(const char *name, const struct vn_stor_vol *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "size", json_object_new_uint64(v->size));
	json_object_object_add(o, "client", json_object_new_string(v->client));
	json_object_object_add(o, "owner", json_object_new_string(v->owner));
	json_object_object_add(o, "enabled", json_object_new_boolean(v->enabled));
	json_object_object_add(o, "state", json_object_new_string(v->state));
	json_object_object_add(o, "stats", json_object_new_string(v->stats));
	if (v->volume_id[0])
		json_object_object_add(o, "volume_id", json_object_new_string(v->volume_id));
	return o;
}

/* "ADDR" or "ADDR (identity NAME)", for the log */
static const char *peer_str(const struct vn_agent_peer *p, char *buf, size_t len)
{
	if (!p->ident[0])
		return p->addr;
	snprintf(buf, len, "%s (identity %s)", p->addr, p->ident);
	return buf;
}

/* The volume has an owner and the request proved another identity (a
 * request by the cluster key alone is checked by its address only). */
static bool other_identity(const struct vn_stor_vol *v, const struct vn_agent_peer *p)
{
	return v->owner[0] && p->ident[0] && strcmp(v->owner, p->ident);
}

/* -EPERM unless the volume belongs to p: its address and identity */
static int check_owner(const char *name, const struct vn_stor_vol *v,
		       const struct vn_agent_peer *p, struct vn_err *err)
{
	if (strcmp(v->client, p->addr))
		return vn_seterr(err, EPERM,
				 "volume '%s' belongs to host %s, not to %s", name,
				 v->client, p->addr);
	if (other_identity(v, p))
		return vn_seterr(err, EPERM,
				 "volume '%s' belongs to identity %s, not to %s", name,
				 v->owner, p->ident);
	return 0;
}

/* name + the volume, which must belong to p */
static int own_volume(struct vn_agent *a, json_object *args,
		      const struct vn_agent_peer *p, const char **name,
		      struct vn_stor_vol *v, struct vn_err *err)
{
	*name = vn_arg_str(args, "name");
	if (!*name || !vn_volume_name_valid(*name))
		return vn_seterr(err, EINVAL, "missing or invalid volume name");
	if (vn_stor_get(&a->kern, *name, v))
		return vn_seterr(err, ENOENT, "no volume '%s' on this storage host",
				 *name);
	return check_owner(*name, v, p, err);
}

/*
 * A re-open names the data it expects (the volume_id it was given at
 * creation): a volume of that name with other data is not it.  Unknown on
 * either side (an older vnoded or vnode_stor): taken as the same.
 */
static bool same_data(const struct vn_stor_vol *v, const char *want)
{
	return !want || !*want || !v->volume_id[0] || !strcmp(v->volume_id, want);
}

static int lost(struct vn_agent *a, const char *name, const char *want,
		const struct vn_agent_peer *p, struct vn_err *err)
{
	char who[96];

	a->log(LOG_ERR, "volume %s of %s is lost: no data of id %s here (the backing store was replaced or wiped)",
	       name, peer_str(p, who, sizeof(who)), want);
	return vn_seterr(err, ESTALE,
			 "volume '%s' is lost: this storage host has no data of id %s (its backing store was replaced or wiped); not replacing it with an empty one",
			 name, want);
}

/* The process host restoring its volume (reconcile): enabled again. */
static int reopen(struct vn_agent *a, const char *name, struct vn_stor_vol *v,
		  const struct vn_agent_peer *p, const char *want,
		  json_object **data, struct vn_err *err)
{
	bool was = v->enabled;
	int ret = check_owner(name, v, p, err);

	if (ret)
		return ret;
	if (!was) {
		ret = vn_stor_enable(&a->kern, name, err);
		if (ret)
			return ret;
		vn_stor_get(&a->kern, name, v);
	}
	if (!same_data(v, want))
		return lost(a, name, want, p, err);
	*data = vol_json(name, v);
	json_object_object_add(*data, "reopened", json_object_new_boolean(!was));
	return 0;
}

static int a_create(struct vn_agent *a, json_object *args,
		    const struct vn_agent_peer *p, json_object **data,
		    struct vn_err *err)
{
	const char *name = vn_arg_str(args, "name");
	bool again = vn_arg_bool(args, "reopen");
	const char *want = again ? vn_arg_str(args, "volume_id") : NULL;
	struct vn_stor_vol v;
	uint64_t size = 0;
	char sz[32], who[96];
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
		if (again && !strcmp(v.client, p->addr) && v.size == size)
			return reopen(a, name, &v, p, want, data, err);
		return vn_seterr(err, EEXIST,
				 "volume '%s' already exists on this storage host%s",
				 name, strcmp(v.client, p->addr) ? " (another host's)" :
				 other_identity(&v, p) ? " (another identity's)" : "");
	}
	/* after a storage-host restart the item is gone: creating it again
	 * re-opens the data vnode_stor kept in its table (same client, size);
	 * the table keeps the owner too, and refuses another (EEXIST) */
	ret = vn_stor_create(&a->kern, name, size, p->addr, p->ident, err);
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
		       peer_str(p, who, sizeof(who)), err->msg);
		return ret;
	}
	vn_stor_get(&a->kern, name, &v);
	if (!same_data(&v, want)) {
		/* vnode_stor made a new, empty volume: not the one asked for */
		vn_stor_delete(&a->kern, name, a->delete_timeout_ms, NULL);
		return lost(a, name, want, p, err);
	}
	a->log(LOG_INFO, "volume %s (%s) %s for %s", name, sz,
	       again ? "re-opened" : "created", peer_str(p, who, sizeof(who)));
	*data = vol_json(name, &v);
	json_object_object_add(*data, "reopened", json_object_new_boolean(again));
	return 0;
}

static int a_delete(struct vn_agent *a, json_object *args,
		    const struct vn_agent_peer *p, json_object **data,
		    struct vn_err *err)
{
	struct vn_stor_vol v;
	const char *name;
	char who[96];
	int ret;

	(void)data;
	ret = own_volume(a, args, p, &name, &v, err);
	if (!ret)
		ret = vn_stor_delete(&a->kern, name, a->delete_timeout_ms, err);
	if (!ret)
		a->log(LOG_INFO, "volume %s of %s deleted", name,
		       peer_str(p, who, sizeof(who)));
	return ret;
}

static int a_show(struct vn_agent *a, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err)
{
	struct vn_stor_vol v;
	const char *name;
	int ret;

	ret = own_volume(a, args, p, &name, &v, err);
	if (!ret)
		*data = vol_json(name, &v);
	return ret;
}

static int a_list(struct vn_agent *a, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err)
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

		if (!vn_stor_get(&a->kern, n, &v) && !check_owner(n, &v, p, NULL))
			json_object_array_add(out, vol_json(n, &v));
	}
	json_object_put(names);
	*data = out;
	return 0;
}

static int a_ping(struct vn_agent *a, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err)
{
	(void)args; (void)err;
	*data = json_object_new_object();
	json_object_object_add(*data, "peer", json_object_new_string(p->addr));
	json_object_object_add(*data, "identity", json_object_new_string(p->ident));
	json_object_object_add(*data, "stor_loaded",
			       json_object_new_boolean(!vn_stor_check(&a->kern, NULL)));
	json_object_object_add(*data, "free", json_object_new_uint64(vn_stor_free(&a->kern)));
	return 0;
}

static const struct {
	const char *cmd;
	int (*fn)(struct vn_agent *a, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err);
} agent_cmds[] = {
	{ "ping", a_ping },
	{ "volume.create", a_create },
	{ "volume.delete", a_delete },
	{ "volume.show", a_show },
	{ "volume.list", a_list },
};

int vn_agent_exec(struct vn_agent *a, const char *cmd, json_object *args,
		  const struct vn_agent_peer *p, json_object **data,
		  struct vn_err *err)
{
	size_t i;

	*data = NULL;
	for (i = 0; i < sizeof(agent_cmds) / sizeof(agent_cmds[0]); i++)
		if (!strcmp(agent_cmds[i].cmd, cmd))
			return agent_cmds[i].fn(a, args, p, data, err);
	return vn_seterr(err, ENOSYS, "storage agent: unknown command '%s'", cmd);
}

/* ---- authentication: the cluster or an identity key, nonces both sides -- */

#define MAC_HEX		(2 * VNODE_AUTH_HMAC_LEN)
#define NONCE_HEX	(2 * VN_AGENT_NONCE_LEN)

int vn_agent_hello(const struct vn_agent *a, uint8_t na[VN_AGENT_NONCE_LEN],
		   char *out, size_t len)
{
	char hex[NONCE_HEX + 1];
	int ret = vn_auth_random(na, VN_AGENT_NONCE_LEN);

	if (ret)
		return ret;
	vn_hex_encode(na, VN_AGENT_NONCE_LEN, hex);
	snprintf(out, len, "{\"agent\":\"vnode-1.3\",\"nonce\":\"%s\"%s}\n", hex,
		 a->key.len ? "" : ",\"insecure\":true");
	return 0;
}

/* "MAC R\n" (keyed) or "R\n" (no key); takes r */
static char *sign_reply(const struct vn_key *key, const uint8_t *na, const uint8_t *nc,
			const uint8_t *rqmac, char *r)
{
	uint8_t mac[VNODE_AUTH_HMAC_LEN];
	size_t len;
	char *out;

	if (!r || !key->len)
		return r;
	len = strcspn(r, "\n");
	out = malloc(MAC_HEX + 1 + len + 2);
	if (!out || vn_auth_agent_mac(key, VN_AGENT_LABEL_REP, na, nc, rqmac, r, len, mac)) {
		free(out);
		free(r);
		return NULL;
	}
	vn_hex_encode(mac, sizeof(mac), out);
	out[MAC_HEX] = ' ';
	memcpy(out + MAC_HEX + 1, r, len);
	strcpy(out + MAC_HEX + 1 + len, "\n");
	free(r);
	return out;
}

/* One request line as check_request() found it. */
struct agent_rq {
	const char *line;			/* L, without its MAC */
	uint8_t nc[VN_AGENT_NONCE_LEN];
	uint8_t mac[VNODE_AUTH_HMAC_LEN];
	char ident[VNODE_AUTH_IDENT_LEN];	/* claimed ("" none); proved if checked */
	struct vn_key key;			/* what proved it, signs the answer */
};

/* L's "identity", if any, into ident: 0, or -EACCES if it is not one. */
static int claimed_identity(json_object *o, char ident[VNODE_AUTH_IDENT_LEN],
			    struct vn_err *err)
{
	json_object *v;
	const char *s;

	memset(ident, 0, VNODE_AUTH_IDENT_LEN);
	if (!o || !json_object_object_get_ex(o, "identity", &v))
		return 0;
	s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	if (!vn_valid_identity(s, strlen(s)))
		return vn_seterr(err, EACCES,
				 "storage agent: the request's identity is not one (1 to %d of [A-Za-z0-9._-])",
				 VNODE_AUTH_IDENT_LEN - 1);
	memcpy(ident, s, strlen(s));
	return 0;
}

/* The key a request claiming ident must prove: the cluster key for none,
 * else ident's identity key, derived from it. */
static int request_key(const struct vn_agent *a, const char *ident,
		       struct vn_key *key, struct vn_err *err)
{
	struct vn_err e;

	if (!ident[0]) {
		*key = a->key;
		return 0;
	}
	if (vn_identity_key(&a->key, ident, key, &e))
		return vn_seterr(err, EACCES, "storage agent: cannot check identity %s: %s",
				 ident, e.msg);
	return 0;
}

/* Check "MAC L" with the key of the identity L claims (the cluster key if
 * none): 0 and rq filled in, or -EACCES with why (rq->ident: the claim).
 * Without a key (insecure) the line is L and its claim is taken as is. */
static int check_request(const struct vn_agent *a, const uint8_t *na, const char *line,
			 struct agent_rq *rq, struct vn_err *err)
{
	uint8_t want[VNODE_AUTH_HMAC_LEN];
	json_object *o, *v;
	const char *l;
	size_t len;
	int ret;

	memset(rq, 0, sizeof(*rq));
	rq->line = line;
	if (!a->key.len) {
		o = json_tokener_parse(line);
		ret = claimed_identity(o, rq->ident, err);
		json_object_put(o);
		return ret;
	}
	if (line[0] == '{' || strlen(line) < MAC_HEX + 2 || line[MAC_HEX] != ' ' ||
	    vn_hex_decode(line, rq->mac, VNODE_AUTH_HMAC_LEN))
		return vn_seterr(err, EACCES,
				 "storage agent: request not authenticated (the process host needs the cluster key or its identity key, key_file in [cluster])");
	l = line + MAC_HEX + 1;
	len = strcspn(l, "\r\n");
	o = json_tokener_parse(l);
	if (!o || !json_object_object_get_ex(o, "nonce", &v) ||
	    strlen(json_object_get_string(v)) != NONCE_HEX ||
	    vn_hex_decode(json_object_get_string(v), rq->nc, VN_AGENT_NONCE_LEN)) {
		json_object_put(o);
		return vn_seterr(err, EACCES, "storage agent: request without a client nonce");
	}
	ret = claimed_identity(o, rq->ident, err);
	json_object_put(o);
	if (!ret)
		ret = request_key(a, rq->ident, &rq->key, err);
	if (ret)
		return ret;
	ret = vn_auth_agent_mac(&rq->key, VN_AGENT_LABEL_REQ, na, rq->nc, NULL, l, len, want);
	if (ret || !vn_auth_equal(want, rq->mac, sizeof(want))) {
		vn_key_clear(&rq->key);
		if (rq->ident[0])
			return vn_seterr(err, EACCES,
					 "storage agent: authentication failed for identity %s: wrong key, or a replayed request",
					 rq->ident);
		return vn_seterr(err, EACCES,
				 "storage agent: authentication failed: wrong cluster key, or a replayed request");
	}
	rq->line = l;
	return 0;
}

char *vn_agent_handle(struct vn_agent *a, const uint8_t na[VN_AGENT_NONCE_LEN],
		      const char *line, const char *peer)
{
	json_object *req, *args, *data = NULL;
	struct vn_err err = { "" };
	struct vn_agent_peer p = { peer, "" };
	struct agent_rq rq;
	const char *cmd;
	char *reply;
	int ret;

	ret = check_request(a, na, line, &rq, &err);
	if (ret) {
		a->log(LOG_WARNING, "request from %s%s%s refused: %s", peer,
		       rq.ident[0] ? " claiming identity " : "", rq.ident, err.msg);
		/* not signed: we cannot prove a key the client may not have */
		return vn_reply_line(ret, &err, NULL);
	}
	p.ident = rq.ident;
	req = vn_parse_request(rq.line, &cmd, &args, NULL, &err);
	if (req) {
		ret = vn_agent_exec(a, cmd, args, &p, &data, &err);
		json_object_put(req);
		reply = vn_reply_line(ret, &err, data);
	} else {
		reply = vn_reply_line(-EINVAL, &err, NULL);
	}
	reply = sign_reply(&rq.key, na, rq.nc, rq.mac, reply);
	vn_key_clear(&rq.key);
	return reply;
}

int vn_agent_session_key(struct vn_agent_session *s, const struct vn_key *key,
			 const char *kident, struct vn_err *err)
{
	memset(s->ident, 0, sizeof(s->ident));
	vn_key_clear(&s->key);
	if (key->ident[0]) {
		/* an identity key proves its own identity and no other */
		s->key = *key;
		memcpy(s->ident, key->ident, sizeof(s->ident));
		return 0;
	}
	if (!kident[0]) {
		s->key = *key;
		return 0;
	}
	if (!vn_valid_identity(kident, strlen(kident)))
		return vn_seterr(err, EINVAL,
				 "'%s' is not an identity: 1 to %d of [A-Za-z0-9._-]",
				 kident, VNODE_AUTH_IDENT_LEN - 1);
	memcpy(s->ident, kident, strlen(kident));
	/* no key (insecure): the identity unproved, as the agent takes it */
	return key->len ? vn_identity_key(key, kident, &s->key, err) : 0;
}

int vn_agent_session_open(struct vn_agent_session *s,
			  const struct vn_auth_conf *auth, const char *kident,
			  struct vn_err *err)
{
	struct vn_key key;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = vn_auth_key(auth, &key, err);
	if (!ret)
		ret = vn_agent_session_key(s, &key, kident, err);
	vn_key_clear(&key);
	if (ret)
		vn_key_clear(&s->key);
	return ret;
}

/* The key a session proves, for messages. */
static const char *session_key_str(const struct vn_agent_session *s, char *buf,
				   size_t len)
{
	if (!s->ident[0])
		return "the cluster key";
	snprintf(buf, len, "the key of identity %s", s->ident);
	return buf;
}

int vn_agent_request(struct vn_agent_session *s, const char *hello, const char *who,
		     const char *cmd, json_object *args, char **line, struct vn_err *err)
{
	char hex[NONCE_HEX + 1];
	json_object *h = json_tokener_parse(hello), *v, *req;
	const char *l;
	bool insecure;
	size_t len;

	*line = NULL;
	if (!h || !json_object_object_get_ex(h, "nonce", &v) ||
	    strlen(json_object_get_string(v)) != NONCE_HEX ||
	    vn_hex_decode(json_object_get_string(v), s->na, VN_AGENT_NONCE_LEN)) {
		json_object_put(h);
		json_object_put(args);
		return vn_seterr(err, EPROTO,
				 "%s did not greet with a nonce (an agent older than protocol 1.3?)", who);
	}
	insecure = json_object_object_get_ex(h, "insecure", &v) && json_object_get_boolean(v);
	json_object_put(h);
	if (insecure && s->key.len) {
		json_object_put(args);
		return vn_seterr(err, EACCES,
				 "%s has no cluster key (insecure): refused, it cannot prove the key", who);
	}
	if (vn_auth_random(s->nc, sizeof(s->nc))) {
		json_object_put(args);
		return vn_seterr(err, EIO, "getrandom failed");
	}
	vn_hex_encode(s->nc, sizeof(s->nc), hex);
	req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "args", args ? args : json_object_new_object());
	json_object_object_add(req, "nonce", json_object_new_string(hex));
	if (s->ident[0])
		json_object_object_add(req, "identity", json_object_new_string(s->ident));
	l = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	len = strlen(l);
	*line = malloc(MAC_HEX + len + 3);
	if (*line && s->key.len &&
	    !vn_auth_agent_mac(&s->key, VN_AGENT_LABEL_REQ, s->na, s->nc, NULL, l, len,
			       s->rqmac)) {
		vn_hex_encode(s->rqmac, sizeof(s->rqmac), *line);
		(*line)[MAC_HEX] = ' ';
		strcpy(*line + MAC_HEX + 1, l);
		strcat(*line, "\n");
	} else if (*line && !s->key.len) {
		sprintf(*line, "%s\n", l);
	} else {
		free(*line);
		*line = NULL;
	}
	json_object_put(req);
	return *line ? 0 : vn_seterr(err, EIO, "cannot build the request to %s", who);
}

int vn_agent_reply(struct vn_agent_session *s, const char *who, const char *reply,
		   json_object **data, struct vn_err *err)
{
	uint8_t got[VNODE_AUTH_HMAC_LEN], want[VNODE_AUTH_HMAC_LEN];
	json_object *resp, *v;
	const char *r = reply;
	bool authentic = false;
	char ks[48];
	int ret;

	if (data)
		*data = NULL;
	if (s->key.len && reply[0] != '{') {
		r = reply + MAC_HEX + 1;
		authentic = strlen(reply) > MAC_HEX + 1 && reply[MAC_HEX] == ' ' &&
			    !vn_hex_decode(reply, got, sizeof(got)) &&
			    !vn_auth_agent_mac(&s->key, VN_AGENT_LABEL_REP, s->na, s->nc,
					       s->rqmac, r, strcspn(r, "\n"), want) &&
			    vn_auth_equal(got, want, sizeof(want));
		if (!authentic)
			return vn_seterr(err, EACCES,
					 "%s did not authenticate its answer with %s: wrong key, or a replayed answer",
					 who, session_key_str(s, ks, sizeof(ks)));
	}
	resp = json_tokener_parse(r);
	if (!resp || !json_object_is_type(resp, json_type_object)) {
		json_object_put(resp);
		return vn_seterr(err, EPROTO, "malformed answer from %s", who);
	}
	if (json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v)) {
		/* a success must be signed when we have a key */
		if (s->key.len && !authentic)
			ret = vn_seterr(err, EACCES, "%s answered without proving %s: refused",
					who, session_key_str(s, ks, sizeof(ks)));
		else
			ret = 0;
		if (!ret && data && json_object_object_get_ex(resp, "data", &v))
			*data = json_object_get(v);
	} else {
		int code = json_object_object_get_ex(resp, "errno", &v) ? json_object_get_int(v) : EIO;
		const char *msg = json_object_object_get_ex(resp, "error", &v) ?
				  json_object_get_string(v) : "unknown error";

		ret = vn_seterr(err, code, "%s%s", authentic || !s->key.len ? "" :
				"(unauthenticated answer) ", msg);
	}
	json_object_put(resp);
	return ret;
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

/* The agent's greeting: one line (bounded), read a byte at a time so
 * nothing after it is consumed. */
static int read_hello(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off + 1 < len) {
		n = read(fd, buf + off, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		if (buf[off++] == '\n')
			break;
	}
	buf[off] = '\0';
	return 0;
}

int vn_agent_call(const char *addr, int port, const struct vn_auth_conf *auth,
		  const char *kident, int connect_ms, int timeout_ms,
		  const char *cmd, json_object *args, json_object **data,
		  struct vn_err *err)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct vn_agent_session sess = { 0 };
	char who[128], hello[256], *line = NULL, *reply = NULL;
	socklen_t len;
	int fd, ret;

	if (data)
		*data = NULL;
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
	/* the key is read at every call, as the probe does (rotation) */
	ret = vn_agent_session_open(&sess, auth, kident, err);
	if (ret) {
		json_object_put(args);
		return ret;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		json_object_put(args);
		vn_key_clear(&sess.key);
		return vn_seterr(err, errno, "socket: %s", strerror(errno));
	}
	ret = connect_timeout(fd, (struct sockaddr *)&ss, len, connect_ms);
	if (ret) {
		close(fd);
		json_object_put(args);
		vn_key_clear(&sess.key);
		return vn_seterr(err, -ret, "cannot reach %s: %s%s", who, strerror(-ret),
				 ret == -ECONNREFUSED ? " (is 'vnoded --agent' running there?)" : "");
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret = read_hello(fd, hello, sizeof(hello));
	if (ret) {
		json_object_put(args);
		ret = vn_seterr(err, EIO, "read from %s: %s", who, strerror(-ret));
		goto out;
	}
	ret = vn_agent_request(&sess, hello, who, cmd, args, &line, err);
	if (ret)
		goto out;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		ret = vn_seterr(err, EIO, "write to %s: %s", who, strerror(errno));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	ret = vn_read_all(fd, &reply, NULL);
	if (ret) {
		ret = vn_seterr(err, EIO, "read from %s: %s", who, strerror(-ret));
		goto out;
	}
	ret = vn_agent_reply(&sess, who, reply, data, err);
out:
	free(line);
	free(reply);
	close(fd);
	vn_key_clear(&sess.key);
	return ret;
}
