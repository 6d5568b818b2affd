// SPDX-License-Identifier: GPL-2.0
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>
#include <openssl/crypto.h>
#include <rdma/rdma_cma.h>

#include <vnode/proto.h>

#include "probe.h"
#include "size.h"

const char *vn_status_str(int status)
{
	switch (status) {
	case VNODE_ST_OK: return "ok";
	case VNODE_ST_FULL: return "server full";
	case VNODE_ST_INVALID: return "invalid request";
	case VNODE_ST_NOENT: return "no such object";
	case VNODE_ST_VERSION: return "unsupported protocol version";
	case VNODE_ST_SHUTDOWN: return "server shutting down";
	case VNODE_ST_PERM: return "permission denied";
	case VNODE_ST_IO: return "I/O error";
	case VNODE_ST_NOMEM: return "server out of memory";
	case VNODE_ST_AUTH: return "authentication failed";
	case VNODE_ST_BUSY: return "server busy";
	default: return "unknown status";
	}
}

/*
 * One probe = one control block (rping style).  A connect attempt has its
 * own event channel, id, PD, CQ, MR and QP (probe_open), torn down in
 * reverse by probe_close(): the authenticated handshake needs two.
 */
struct probe_cb {
	struct rdma_addrinfo *ai;
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	bool qp;
	bool connected;
	uint8_t buf[2 * VNODE_MSG_MAX];	/* [0]: recv, [MAX]: send */
	int64_t deadline;
	int timeout_ms;
	char peer[96];
};

/* Why a host refused us with VNODE_ST_AUTH, by the step we were at. */
static const char *auth_refused_why(int step)
{
	switch (step) {
	case VNODE_AUTH_NONE:
		return "it requires the cluster key and we have none (insecure = true)";
	case VNODE_AUTH_INIT:
		return "it gave no challenge (it has no cluster key?)";
	case VNODE_AUTH_RESPONSE:
		return "it did not take our response (challenge expired or used up?)";
	default:
		return "it wants authentication";
	}
}

/* The error for a REJECTED event; step: our hello's auth step (-1: none). */
static int reject_err(struct probe_cb *cb, struct rdma_cm_event *ev, int step,
		      struct vn_err *err)
{
	const struct vnode_reject *rej = ev->param.conn.private_data;
	int st;

	if (!rej || ev->param.conn.private_data_len < sizeof(*rej) ||
	    le32toh(rej->magic) != VNODE_MAGIC)
		return vn_seterr(err, ECONNREFUSED,
				 "%s: connection refused (nothing listening on that port? status %d)",
				 cb->peer, ev->status);
	st = le16toh(rej->status);
	if (st == VNODE_ST_AUTH)
		return vn_seterr(err, EKEYREJECTED, "authentication refused by %s: %s",
				 cb->peer, auth_refused_why(step));
	return vn_seterr(err, st == VNODE_ST_FULL ? ENOSPC :
			 st == VNODE_ST_VERSION ? EPROTO : ECONNREFUSED,
			 "%s: rejected: %s (server speaks protocol %u.%u, we speak %u.%u)",
			 cb->peer, vn_status_str(st),
			 le16toh(rej->major), le16toh(rej->minor),
			 VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
}

/* Wait for @want; with @or_reject, a REJECTED event is returned too. */
static int wait_event(struct probe_cb *cb, enum rdma_cm_event_type want,
		      bool or_reject, struct rdma_cm_event **evp,
		      struct vn_err *err)
{
	struct rdma_cm_event *ev;
	struct pollfd pfd = { .fd = cb->ec->fd, .events = POLLIN };
	int64_t left = cb->deadline - vn_mono_ms();
	int ret;

	if (left <= 0)
		return vn_seterr(err, ETIMEDOUT, "%s: timed out", cb->peer);
	ret = poll(&pfd, 1, (int)left);
	if (ret < 0)
		return vn_seterr(err, errno, "%s: poll: %s", cb->peer, strerror(errno));
	if (!ret)
		return vn_seterr(err, ETIMEDOUT,
				 "%s: no answer within the probe timeout (host down or unreachable?)",
				 cb->peer);
	if (rdma_get_cm_event(cb->ec, &ev))
		return vn_seterr(err, errno, "%s: rdma_get_cm_event: %s",
				 cb->peer, strerror(errno));
	if (ev->event == want ||
	    (or_reject && ev->event == RDMA_CM_EVENT_REJECTED)) {
		*evp = ev;
		return 0;
	}
	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_ERROR:
		ret = vn_seterr(err, EHOSTUNREACH,
				"%s: cannot resolve address (no RDMA device on a route to it? status %d)",
				cb->peer, ev->status);
		break;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		ret = vn_seterr(err, EHOSTUNREACH, "%s: no route (status %d)",
				cb->peer, ev->status);
		break;
	case RDMA_CM_EVENT_UNREACHABLE:
		ret = vn_seterr(err, EHOSTUNREACH, "%s: host unreachable (status %d)",
				cb->peer, ev->status);
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		ret = vn_seterr(err, ECONNREFUSED, "%s: connect error (status %d)",
				cb->peer, ev->status);
		break;
	case RDMA_CM_EVENT_REJECTED:
		ret = reject_err(cb, ev, -1, err);
		break;
	default:
		ret = vn_seterr(err, EPROTO, "%s: unexpected rdma_cm event %s (status %d)",
				cb->peer, rdma_event_str(ev->event), ev->status);
	}
	rdma_ack_cm_event(ev);
	return ret;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Busy-polled for the first 2 ms (so that the STATS round trip is
 * measured to the microsecond: a fabric's floor), then every 200 us. */
static int cq_wait(struct probe_cb *cb, enum ibv_wc_opcode op,
		   struct vn_err *err)
{
	int64_t spin_end = mono_ns() + 2000000;
	struct ibv_wc wc;
	int n;

	while (vn_mono_ms() < cb->deadline) {
		n = ibv_poll_cq(cb->cq, 1, &wc);
		if (n < 0)
			return vn_seterr(err, EIO, "%s: poll cq failed", cb->peer);
		if (!n) {
			struct timespec ts = { 0, 200 * 1000 };

			if (mono_ns() < spin_end)
				continue;

			nanosleep(&ts, NULL);
			continue;
		}
		if (wc.status != IBV_WC_SUCCESS)
			return vn_seterr(err, EIO, "%s: work completion error: %s",
					 cb->peer, ibv_wc_status_str(wc.status));
		if (wc.opcode == op)
			return 0;
	}
	return vn_seterr(err, ETIMEDOUT, "%s: STATS timed out", cb->peer);
}

static int do_stats(struct probe_cb *cb, struct vn_probe_result *res,
		    struct vn_err *err)
{
	struct vnode_msg_hdr *req = (void *)(cb->buf + VNODE_MSG_MAX);
	struct vnode_stats_rsp *rsp = (void *)cb->buf;
	struct ibv_sge sge = {
		.addr = (uintptr_t)req, .length = sizeof(*req), .lkey = cb->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 2, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	int64_t t0;
	int ret;

	memset(req, 0, sizeof(*req));
	req->magic = htole32(VNODE_MAGIC);
	req->op = VNODE_OP_STATS;
	req->tag = htole32(1);
	req->len = htole32(sizeof(*req));
	t0 = mono_ns();
	if (ibv_post_send(cb->id->qp, &wr, &bad))
		return vn_seterr(err, EIO, "%s: post send failed", cb->peer);
	ret = cq_wait(cb, IBV_WC_RECV, err);
	if (ret)
		return ret;
	res->op_rtt_ns = mono_ns() - t0;
	if (le32toh(rsp->hdr.magic) != VNODE_MAGIC ||
	    rsp->hdr.op != VNODE_OP_STATS || le16toh(rsp->hdr.status))
		return vn_seterr(err, EPROTO, "%s: bad STATS reply (status %s)",
				 cb->peer, vn_status_str(le16toh(rsp->hdr.status)));
	res->capacity = le64toh(rsp->capacity);
	res->used = le64toh(rsp->used);
	res->nr_clients = (int)le32toh(rsp->nr_clients);
	return 0;
}

/* Disconnect (if connected) and free what probe_open() set up. */
static void probe_close(struct probe_cb *cb)
{
	struct rdma_cm_event *ev;

	if (cb->connected && !rdma_disconnect(cb->id)) {
		cb->deadline = vn_mono_ms() + 1000;
		if (!wait_event(cb, RDMA_CM_EVENT_DISCONNECTED, false, &ev, NULL))
			rdma_ack_cm_event(ev);
	}
	cb->connected = false;
	if (cb->qp)
		rdma_destroy_qp(cb->id);
	cb->qp = false;
	if (cb->mr)
		ibv_dereg_mr(cb->mr);
	cb->mr = NULL;
	if (cb->cq)
		ibv_destroy_cq(cb->cq);
	cb->cq = NULL;
	if (cb->pd)
		ibv_dealloc_pd(cb->pd);
	cb->pd = NULL;
	if (cb->id)
		rdma_destroy_id(cb->id);
	cb->id = NULL;
	if (cb->ec)
		rdma_destroy_event_channel(cb->ec);
	cb->ec = NULL;
}

/* A fresh id with its QP and a RECV posted, resolved to cb->ai. */
static int probe_open(struct probe_cb *cb, struct vn_err *err)
{
	struct ibv_qp_init_attr qa = { 0 };
	struct ibv_recv_wr rwr = { 0 }, *rbad;
	struct rdma_cm_event *ev;
	struct ibv_sge sge;
	int ret;

	cb->ec = rdma_create_event_channel();
	if (!cb->ec)
		return vn_seterr(err, errno,
				 "rdma_create_event_channel: %s (no RDMA device / rdma_cm module?)",
				 strerror(errno));
	if (rdma_create_id(cb->ec, &cb->id, cb, RDMA_PS_TCP)) {
		cb->id = NULL;
		return vn_seterr(err, errno, "rdma_create_id: %s", strerror(errno));
	}
	if (rdma_resolve_addr(cb->id, NULL, cb->ai->ai_dst_addr, cb->timeout_ms))
		return vn_seterr(err, EHOSTUNREACH, "%s: rdma_resolve_addr: %s",
				 cb->peer, strerror(errno));
	ret = wait_event(cb, RDMA_CM_EVENT_ADDR_RESOLVED, false, &ev, err);
	if (ret)
		return ret;
	rdma_ack_cm_event(ev);
	if (rdma_resolve_route(cb->id, cb->timeout_ms))
		return vn_seterr(err, EHOSTUNREACH, "%s: rdma_resolve_route: %s",
				 cb->peer, strerror(errno));
	ret = wait_event(cb, RDMA_CM_EVENT_ROUTE_RESOLVED, false, &ev, err);
	if (ret)
		return ret;
	rdma_ack_cm_event(ev);

	cb->pd = ibv_alloc_pd(cb->id->verbs);
	if (!cb->pd)
		return vn_seterr(err, ENOMEM, "%s: ibv_alloc_pd failed", cb->peer);
	/* 1 SEND (STATS) + 1 RECV (its reply) in flight: tiny queues */
	cb->cq = ibv_create_cq(cb->id->verbs, 4, NULL, NULL, 0);
	if (!cb->cq)
		return vn_seterr(err, ENOMEM, "%s: ibv_create_cq failed", cb->peer);
	cb->mr = ibv_reg_mr(cb->pd, cb->buf, sizeof(cb->buf),
			    IBV_ACCESS_LOCAL_WRITE);
	if (!cb->mr)
		return vn_seterr(err, ENOMEM, "%s: ibv_reg_mr failed", cb->peer);
	qa.send_cq = cb->cq;
	qa.recv_cq = cb->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 2;
	qa.cap.max_recv_wr = 2;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(cb->id, cb->pd, &qa))
		return vn_seterr(err, errno, "%s: rdma_create_qp: %s", cb->peer,
				 strerror(errno));
	cb->qp = true;
	sge.addr = (uintptr_t)cb->buf;
	sge.length = VNODE_MSG_MAX;
	sge.lkey = cb->mr->lkey;
	rwr.wr_id = 1;
	rwr.sg_list = &sge;
	rwr.num_sge = 1;
	if (ibv_post_recv(cb->id->qp, &rwr, &rbad))
		return vn_seterr(err, EIO, "%s: post recv failed", cb->peer);
	return 0;
}

/* Connect with @hello: *evp is the ESTABLISHED or REJECTED event. */
static int probe_connect(struct probe_cb *cb, const struct vnode_hello *hello,
			 struct rdma_cm_event **evp, struct vn_err *err)
{
	struct rdma_conn_param cp = { 0 };

	cp.private_data = hello;
	cp.private_data_len = sizeof(*hello);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(cb->id, &cp))
		return vn_seterr(err, errno, "%s: rdma_connect: %s", cb->peer,
				 strerror(errno));
	return wait_event(cb, RDMA_CM_EVENT_ESTABLISHED, true, evp, err);
}

/*
 * Step 3 of the handshake: the REJECTED event of our INIT hello must be a
 * challenge whose smac or smac_prev proves our key; keeps Ns.
 */
static int take_challenge(struct probe_cb *cb, struct rdma_cm_event *ev,
			  const struct vn_key *key, const char *key_file,
			  const struct vnode_hello *hello,
			  const uint8_t *cnonce, uint8_t *snonce,
			  struct vn_err *err)
{
	const struct vnode_auth_challenge *ch = ev->param.conn.private_data;
	uint8_t mac[VNODE_AUTH_HMAC_LEN];
	bool ok;

	if (!ch || ev->param.conn.private_data_len < sizeof(*ch) ||
	    le32toh(ch->rej.magic) != VNODE_MAGIC ||
	    le16toh(ch->rej.status) != VNODE_ST_AUTH ||
	    !(ch->rej.flags & VNODE_REJECT_F_CHALLENGE))
		return reject_err(cb, ev, VNODE_AUTH_INIT, err);
	if (vn_auth_hello_mac(key, VNODE_AUTH_LABEL_SERVER, hello, cnonce,
			      ch->snonce, mac))
		return vn_seterr(err, EIO, "%s: cannot compute HMAC-SHA256", cb->peer);
	ok = vn_auth_equal(mac, ch->smac, sizeof(mac)) ||
	     vn_auth_equal(mac, ch->smac_prev, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok)
		return vn_seterr(err, EKEYREJECTED,
				 "memory host %s did not authenticate: its challenge does not prove our cluster key (%s): not connecting",
				 cb->peer, key_file);
	memcpy(snonce, ch->snonce, VNODE_AUTH_SNONCE_LEN);
	return 0;
}

/*
 * The probe's identity: its key's, if it holds an identity key; else
 * "vnoded-probe" (the cluster key proves any identity).
 */
static const char *probe_ident(const struct vn_key *key)
{
	static const char probe[VNODE_AUTH_IDENT_LEN] = "vnoded-probe";

	return key->ident[0] ? key->ident : probe;
}

/* The ESTABLISHED event's accept: version, and with a key, its amac. */
static int check_accept(struct probe_cb *cb, struct rdma_cm_event *ev,
			int step, const struct vn_key *key,
			const uint8_t *cnonce, const uint8_t *snonce,
			struct vn_probe_result *res, struct vn_err *err)
{
	const struct vnode_accept *acc = ev->param.conn.private_data;
	size_t len = ev->param.conn.private_data_len;
	uint8_t mac[VNODE_AUTH_MAC_LEN];
	uint32_t flags;
	bool ok;

	if (!acc || len < VNODE_ACCEPT_MAC_OFF ||
	    le32toh(acc->magic) != VNODE_MAGIC)
		return vn_seterr(err, EPROTO,
				 "%s: accepted without vnode accept data (not a vnode host?)",
				 cb->peer);
	if (le16toh(acc->major) != VNODE_PROTO_MAJOR)
		return vn_seterr(err, EPROTO,
				 "%s: server speaks protocol %d.%d, we speak %d.%d",
				 cb->peer, le16toh(acc->major), le16toh(acc->minor),
				 VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
	flags = le32toh(acc->flags);
	if (step == VNODE_AUTH_INIT)
		return vn_seterr(err, EKEYREJECTED,
				 "memory host %s did not authenticate: it accepted without a challenge (insecure, or protocol < 1.3): not using it",
				 cb->peer);
	if (step == VNODE_AUTH_RESPONSE) {
		ok = len >= sizeof(*acc) && (flags & VNODE_ACCEPT_F_AUTH) &&
		     !vn_auth_accept_mac(key, probe_ident(key), acc, cnonce,
					 snonce, mac) &&
		     vn_auth_equal(mac, acc->amac, sizeof(mac));
		if (!ok)
			return vn_seterr(err, EKEYREJECTED,
					 "memory host %s did not authenticate: its accept does not prove our cluster key: not using it",
					 cb->peer);
	} else if (flags & VNODE_ACCEPT_F_AUTH) {
		return vn_seterr(err, EPROTO,
				 "%s: claims an authentication that did not happen",
				 cb->peer);
	}
	res->major = le16toh(acc->major);
	res->minor = le16toh(acc->minor);
	res->slab_shift = le16toh(acc->slab_shift);
	res->server_id = le64toh(acc->server_id);
	res->capacity = le64toh(acc->capacity);
	res->used = le64toh(acc->used);
	return 0;
}

int vn_probe_rdma(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth,
		  struct vn_probe_result *res, struct vn_err *err)
{
	uint8_t cnonce[VNODE_AUTH_NONCE_LEN], snonce[VNODE_AUTH_SNONCE_LEN];
	uint8_t mac[VNODE_AUTH_HMAC_LEN];
	struct rdma_addrinfo hints = { 0 };
	struct vnode_hello hello = { 0 };
	struct rdma_cm_event *ev;
	struct probe_cb *cb;
	struct vn_key key;
	uint64_t client_id;
	char portstr[16];
	int64_t t0;
	int ret, step;

	memset(res, 0, sizeof(*res));
	res->nr_clients = -1;
	ret = vn_auth_key(auth, &key, err);
	if (ret)
		return ret;
	step = key.len ? VNODE_AUTH_INIT : VNODE_AUTH_NONE;
	ret = vn_auth_random(&client_id, sizeof(client_id));
	if (!ret)
		ret = vn_auth_random(cnonce, sizeof(cnonce));
	if (ret) {
		vn_key_clear(&key);
		return vn_seterr(err, -ret, "getrandom: %s", strerror(-ret));
	}
	cb = calloc(1, sizeof(*cb));
	if (!cb) {
		vn_key_clear(&key);
		return vn_seterr(err, ENOMEM, "out of memory");
	}
	snprintf(cb->peer, sizeof(cb->peer), "%s:%d", addr, port);
	t0 = vn_mono_ms();
	cb->deadline = t0 + timeout_ms;
	cb->timeout_ms = timeout_ms;
	snprintf(portstr, sizeof(portstr), "%d", port);
	hints.ai_port_space = RDMA_PS_TCP;
	hints.ai_flags = RAI_NUMERICHOST;
	if (rdma_getaddrinfo(addr, portstr, &hints, &cb->ai)) {
		cb->ai = NULL;
		ret = vn_seterr(err, EINVAL, "%s: invalid address", cb->peer);
		goto out;
	}

	hello.magic = htole32(VNODE_MAGIC);
	hello.major = htole16(VNODE_PROTO_MAJOR);
	hello.minor = htole16(VNODE_PROTO_MINOR);
	hello.role = VNODE_ROLE_PROBE;
	hello.auth = (uint8_t)step;
	hello.queue_id = htole16(0);
	hello.nr_queues = htole16(1);
	hello.client_id = htole64(client_id);
	memcpy(hello.name, probe_ident(&key), sizeof(hello.name));
	if (step == VNODE_AUTH_INIT)
		memcpy(hello.auth_data, cnonce, sizeof(cnonce));
	ret = probe_open(cb, err);
	if (!ret)
		ret = probe_connect(cb, &hello, &ev, err);
	if (ret)
		goto out;

	if (step == VNODE_AUTH_INIT && ev->event == RDMA_CM_EVENT_REJECTED) {
		/* the challenge; the response goes on a new id (proto.h) */
		ret = take_challenge(cb, ev, &key, auth->key_file, &hello,
				     cnonce, snonce, err);
		rdma_ack_cm_event(ev);
		if (ret)
			goto out;
		probe_close(cb);
		step = VNODE_AUTH_RESPONSE;
		hello.auth = (uint8_t)step;
		if (vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_CLIENT, &hello,
				      cnonce, snonce, mac)) {
			ret = vn_seterr(err, EIO, "%s: cannot compute HMAC-SHA256",
					cb->peer);
			goto out;
		}
		memcpy(hello.auth_data, mac, VNODE_AUTH_MAC_LEN);
		OPENSSL_cleanse(mac, sizeof(mac));
		ret = probe_open(cb, err);
		if (!ret)
			ret = probe_connect(cb, &hello, &ev, err);
		if (ret)
			goto out;
	}
	if (ev->event == RDMA_CM_EVENT_REJECTED) {
		ret = reject_err(cb, ev, step, err);
		rdma_ack_cm_event(ev);
		goto out;
	}
	cb->connected = true;
	ret = check_accept(cb, ev, step, &key, cnonce, snonce, res, err);
	rdma_ack_cm_event(ev);
	if (ret)
		goto out;
	res->rtt_us = (vn_mono_ms() - t0) * 1000;
	/* STATS is a bonus (nr_clients, fresher usage): failure is not fatal */
	if (do_stats(cb, res, NULL))
		res->nr_clients = -1;
	ret = 0;
out:
	probe_close(cb);
	if (cb->ai)
		rdma_freeaddrinfo(cb->ai);
	free(cb);
	vn_key_clear(&key);
	return ret;
}

static char fake_root[PATH_MAX];

void vn_probe_fake_root(const char *root)
{
	snprintf(fake_root, sizeof(fake_root), "%s", root);
}

int vn_probe_fake(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth,
		  struct vn_probe_result *res, struct vn_err *err)
{
	char path[PATH_MAX], buf[256], cap[64], used[64], rtt[64];
	uint64_t op_rtt = 0;
	int shift = 20;

	(void)timeout_ms;
	(void)auth;
	memset(res, 0, sizeof(*res));
	res->nr_clients = -1;
	if (vn_path(path, sizeof(path), "%s/probe/%s:%d", fake_root, addr, port) ||
	    vn_read_file(path, buf, sizeof(buf)))
		return vn_seterr(err, ETIMEDOUT,
				 "%s:%d: no answer within the probe timeout (host down or unreachable?)",
				 addr, port);
	if (!strncmp(buf, "reject full", 11))
		return vn_seterr(err, ENOSPC, "%s:%d: rejected: server full",
				 addr, port);
	rtt[0] = '\0';
	if (sscanf(buf, "%63s %63s %d %63s", cap, used, &shift, rtt) < 2 ||
	    vn_parse_size(cap, &res->capacity, err) ||
	    vn_parse_size(used, &res->used, err) ||
	    (rtt[0] && vn_parse_time(rtt, &op_rtt, err)))
		return vn_seterr(err, EPROTO, "%s: malformed fake probe file", path);
	res->op_rtt_ns = (int64_t)op_rtt;
	res->slab_shift = shift;
	res->major = VNODE_PROTO_MAJOR;
	res->minor = VNODE_PROTO_MINOR;
	res->nr_clients = 0;
	return 0;
}
