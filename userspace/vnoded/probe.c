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
	case VNODE_ST_QUOTA: return "quota reached";
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
	bool recv_posted;
	uint32_t tag;
	int64_t recv_ns;	/* when the last reply came */
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

static const char *op_name(int op)
{
	switch (op) {
	case VNODE_OP_STATS: return "STATS";
	case VNODE_OP_RESERVE: return "RESERVE";
	case VNODE_OP_RELEASE: return "RELEASE";
	case VNODE_OP_RENEW: return "RENEW";
	case VNODE_OP_LEASES: return "LEASES";
	default: return "request";
	}
}

/* Our SEND's and its reply's completions (in either order), busy-polled
 * for the first 2 ms (so that the STATS round trip is measured to the
 * microsecond: a fabric's floor), then every 200 us. */
static int cq_wait(struct probe_cb *cb, int op, struct vn_err *err)
{
	int64_t spin_end = mono_ns() + 2000000;
	bool sent = false, got = false;
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
		sent |= wc.opcode == IBV_WC_SEND;
		if (wc.opcode == IBV_WC_RECV) {
			got = true;
			cb->recv_ns = mono_ns();
		}
		if (sent && got)
			return 0;
	}
	return vn_seterr(err, ETIMEDOUT, "%s: %s timed out", cb->peer, op_name(op));
}

/* The receive buffer, cleared, posted for the next reply. */
static int post_recv(struct probe_cb *cb, struct vn_err *err)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)cb->buf, .length = VNODE_MSG_MAX, .lkey = cb->mr->lkey,
	};
	struct ibv_recv_wr rwr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 }, *bad;

	memset(cb->buf, 0, VNODE_MSG_MAX);
	if (ibv_post_recv(cb->id->qp, &rwr, &bad))
		return vn_seterr(err, EIO, "%s: post recv failed", cb->peer);
	cb->recv_posted = true;
	return 0;
}

/*
 * Send the len-byte request in the send buffer (op and its fields set,
 * the header's rest filled in here) and wait for its reply in the receive
 * buffer: the magic, op and tag must match and, with status OK, it must
 * be at least min_len bytes (hdr.len says how long it is: *rlen).
 * *status: the reply's.
 */
static int probe_call(struct probe_cb *cb, size_t len, size_t min_len,
		      int *status, size_t *rlen, struct vn_err *err)
{
	struct vnode_msg_hdr *req = (void *)(cb->buf + VNODE_MSG_MAX);
	struct vnode_msg_hdr *rsp = (void *)cb->buf;
	struct ibv_sge sge = {
		.addr = (uintptr_t)req, .length = (uint32_t)len, .lkey = cb->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 2, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	int op = req->op, ret;

	if (!cb->recv_posted && (ret = post_recv(cb, err)))
		return ret;
	req->magic = htole32(VNODE_MAGIC);
	req->flags = 0;
	req->status = 0;
	req->tag = htole32(++cb->tag);
	req->len = htole32((uint32_t)len);
	cb->deadline = vn_mono_ms() + cb->timeout_ms;
	if (ibv_post_send(cb->id->qp, &wr, &bad))
		return vn_seterr(err, EIO, "%s: post send failed", cb->peer);
	ret = cq_wait(cb, op, err);
	if (ret)
		return ret;
	cb->recv_posted = false;
	*status = le16toh(rsp->status);
	*rlen = le32toh(rsp->len);
	if (*rlen > VNODE_MSG_MAX)
		*rlen = VNODE_MSG_MAX;
	if (le32toh(rsp->magic) != VNODE_MAGIC || rsp->op != op ||
	    le32toh(rsp->tag) != cb->tag || (!*status && *rlen < min_len))
		return vn_seterr(err, EPROTO, "%s: bad %s reply (op %u, tag %u, %zu bytes, status %s)",
				 cb->peer, op_name(op), rsp->op, le32toh(rsp->tag),
				 *rlen, vn_status_str(*status));
	return 0;
}

static int do_stats(struct probe_cb *cb, struct vn_probe_result *res,
		    struct vn_err *err)
{
	struct vnode_msg_hdr *req = (void *)(cb->buf + VNODE_MSG_MAX);
	struct vnode_stats_rsp *rsp = (void *)cb->buf;
	size_t len;
	int64_t t0;
	int ret, st;

	memset(req, 0, sizeof(*req));
	req->op = VNODE_OP_STATS;
	t0 = mono_ns();
	ret = probe_call(cb, sizeof(*req), VNODE_STATS_RSP_LEN_1_3, &st, &len, err);
	if (ret)
		return ret;
	res->op_rtt_ns = cb->recv_ns - t0;
	if (st)
		return vn_seterr(err, EPROTO, "%s: STATS refused: %s", cb->peer,
				 vn_status_str(st));
	res->capacity = le64toh(rsp->capacity);
	res->used = le64toh(rsp->used);
	res->nr_clients = (int)le32toh(rsp->nr_clients);
	res->has_leases = res->minor >= VNODE_LEASE_MIN_MINOR && len >= sizeof(*rsp);
	if (res->has_leases) {
		res->leased = le64toh(rsp->leased);
		res->committed = le64toh(rsp->committed);
		res->client_leased = le64toh(rsp->client_leased);
	}
	return 0;
}

/*
 * GOODBYE before the disconnect: the host then frees this connection at
 * once, rather than keeping it for its orphan time (10 s by default) as a
 * client that might come back, counted in nr_clients.  Leases belong to
 * the identity, not to the connection: they stay.  Best effort, so it
 * waits at most 1 s (as the disconnect does), not a whole probe timeout.
 */
static void do_goodbye(struct probe_cb *cb)
{
	struct vnode_msg_hdr *req = (void *)(cb->buf + VNODE_MSG_MAX);
	int timeout_ms = cb->timeout_ms;
	size_t len;
	int st;

	memset(req, 0, sizeof(*req));
	req->op = VNODE_OP_GOODBYE;
	if (cb->timeout_ms > 1000)
		cb->timeout_ms = 1000;
	probe_call(cb, sizeof(*req), sizeof(*req), &st, &len, NULL);
	cb->timeout_ms = timeout_ms;
}

void vn_lease_ops_reset(struct vn_lease_op *ops, int n)
{
	int i;

	vn_lease_ops_free(ops, n);
	for (i = 0; i < n; i++) {
		ops[i].status = -1;
		ops[i].leased = ops[i].held = ops[i].avail = ops[i].limit = 0;
		ops[i].lease_ms = ops[i].nr_leases = 0;
	}
}

void vn_lease_ops_free(struct vn_lease_op *ops, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(ops[i].idents);
		ops[i].idents = NULL;
		ops[i].nr_idents = 0;
	}
}

/* LEASES, page after page (at most 64 Ki identities: the cursor's). */
static int do_leases(struct probe_cb *cb, struct vn_lease_op *o,
		     struct vn_err *err)
{
	struct vnode_leases_req *req = (void *)(cb->buf + VNODE_MSG_MAX);
	struct vnode_leases_rsp *rsp = (void *)cb->buf;
	uint32_t cursor = 0, i, nr;
	size_t len;
	int ret, st;

	do {
		struct vn_lease_ident *n;

		memset(req, 0, sizeof(*req));
		req->hdr.op = VNODE_OP_LEASES;
		req->cursor = htole32(cursor);
		ret = probe_call(cb, sizeof(*req), offsetof(struct vnode_leases_rsp, ent),
				 &st, &len, err);
		o->status = st;
		if (ret || st)
			return ret;
		nr = le16toh(rsp->nr);
		if (nr > VNODE_LEASES_PER_MSG ||
		    len < offsetof(struct vnode_leases_rsp, ent) + nr * sizeof(rsp->ent[0]) ||
		    (le16toh(rsp->next) && le16toh(rsp->next) <= cursor))
			return vn_seterr(err, EPROTO, "%s: bad LEASES reply (%u entries in %zu bytes, next %u)",
					 cb->peer, nr, len, le16toh(rsp->next));
		n = realloc(o->idents, (o->nr_idents + nr + 1) * sizeof(*n));
		if (!n)
			return vn_seterr(err, ENOMEM, "out of memory");
		o->idents = n;
		for (i = 0; i < nr; i++) {
			const struct vnode_lease_ent *e = &rsp->ent[i];

			n = &o->idents[o->nr_idents++];
			memcpy(n->ident, e->ident, sizeof(n->ident));
			n->ident[sizeof(n->ident) - 1] = '\0';
			n->leased = le64toh(e->leased);
			n->held = le64toh(e->held);
			n->nr_clients = le32toh(e->nr_clients);
			n->nr_leases = le32toh(e->nr_leases);
		}
		cursor = le16toh(rsp->next);
	} while (cursor);
	return 0;
}

/* One lease op: RESERVE, RELEASE, RENEW (struct vnode_lease_rsp) or
 * LEASES. */
static int do_lease_op(struct probe_cb *cb, struct vn_lease_op *o,
		       struct vn_err *err)
{
	struct vnode_reserve_req *req = (void *)(cb->buf + VNODE_MSG_MAX);
	struct vnode_lease_rsp *rsp = (void *)cb->buf;
	size_t len = sizeof(struct vnode_msg_hdr), rlen;
	int ret, st;

	if (o->op == VNODE_OP_LEASES)
		return do_leases(cb, o, err);
	memset(req, 0, sizeof(*req));
	req->hdr.op = (uint8_t)o->op;
	if (o->op == VNODE_OP_RESERVE || o->op == VNODE_OP_RELEASE) {
		req->lease_id = htole64(o->lease_id);
		len = sizeof(struct vnode_release_req);
	}
	if (o->op == VNODE_OP_RESERVE) {
		req->bytes = htole64(o->bytes);
		len = sizeof(*req);
	}
	ret = probe_call(cb, len, sizeof(*rsp), &st, &rlen, err);
	if (ret)
		return ret;
	o->status = st;
	if (rlen < sizeof(*rsp))	/* a refusal without figures */
		return 0;
	o->leased = le64toh(rsp->leased);
	o->held = le64toh(rsp->held);
	o->avail = le64toh(rsp->avail);
	o->limit = le64toh(rsp->limit);
	o->lease_ms = le32toh(rsp->lease_ms);
	o->nr_leases = le32toh(rsp->nr_leases);
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
	cb->recv_posted = false;
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
	struct rdma_cm_event *ev;
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
	/* 1 SEND (a request) + 1 RECV (its reply) in flight: tiny queues */
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
	return post_recv(cb, err);
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
 * The probe's identity: its key's, if it holds an identity key; else the
 * one asked for (the cluster key proves any identity), else
 * "vnoded-probe".
 */
static const char *probe_ident(const struct vn_key *key,
			       const struct vn_auth_conf *auth)
{
	static const char probe[VNODE_AUTH_IDENT_LEN] = "vnoded-probe";

	if (key->ident[0])
		return key->ident;
	return auth->ident[0] ? auth->ident : probe;
}

/* The ESTABLISHED event's accept: version, and with a key, its amac. */
static int check_accept(struct probe_cb *cb, struct rdma_cm_event *ev,
			int step, const struct vn_key *key, const char *ident,
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
		     !vn_auth_accept_mac(key, ident, acc, cnonce,
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
		  const struct vn_auth_conf *auth, struct vn_lease_op *ops,
		  int n, struct vn_probe_result *res, struct vn_err *err)
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
	int ret, step, i;

	memset(res, 0, sizeof(*res));
	res->nr_clients = -1;
	vn_lease_ops_reset(ops, n);
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
	memcpy(hello.name, probe_ident(&key, auth), sizeof(hello.name));
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
	ret = check_accept(cb, ev, step, &key, hello.name, cnonce, snonce, res, err);
	rdma_ack_cm_event(ev);
	if (ret)
		goto out;
	res->rtt_us = (vn_mono_ms() - t0) * 1000;
	/* STATS is a bonus (nr_clients, fresher usage): failure is not fatal */
	if (do_stats(cb, res, NULL))
		res->nr_clients = -1;
	ret = 0;
	/* reservations: a server before 1.4 would refuse them */
	for (i = 0; i < n && res->minor >= VNODE_LEASE_MIN_MINOR && !ret; i++)
		ret = do_lease_op(cb, &ops[i], err);
	if (!ret)
		do_goodbye(cb);
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

/* The fake host: its probe file, and its leases (one a line). */
struct fake_host {
	uint64_t capacity, used, quota, op_rtt;
	int slab_shift, minor;
	uint32_t lease_ms;
	int nr;
	struct fake_lease {
		char ident[VNODE_AUTH_IDENT_LEN];
		uint64_t id, bytes;
		int64_t expires;	/* 0: never */
	} l[256];
};

/* "capacity used [slab_shift [op_rtt]] [minor=N] [quota=SIZE] [lease_ms=MS]" */
static int fake_parse(char *buf, struct fake_host *h, struct vn_err *err)
{
	char *tok, *save, *eq;
	uint64_t v;
	int pos = 0;

	h->slab_shift = 20;
	h->minor = VNODE_PROTO_MINOR;
	h->lease_ms = 30000;
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		eq = strchr(tok, '=');
		if (!eq && pos == 0 && !vn_parse_size(tok, &h->capacity, err))
			pos++;
		else if (!eq && pos == 1 && !vn_parse_size(tok, &h->used, err))
			pos++;
		else if (!eq && pos == 2 && sscanf(tok, "%d", &h->slab_shift) == 1)
			pos++;
		else if (!eq && pos == 3 && !vn_parse_time(tok, &h->op_rtt, err))
			pos++;
		else if (eq && !strncmp(tok, "minor=", 6))
			h->minor = atoi(eq + 1);
		else if (eq && !strncmp(tok, "lease_ms=", 9))
			h->lease_ms = (uint32_t)atoi(eq + 1);
		else if (!(eq && !strncmp(tok, "quota=", 6) && !vn_parse_size(eq + 1, &v, err)))
			return -EINVAL;
		else
			h->quota = v;
	}
	if (pos < 2)
		return -EINVAL;
	if (!h->quota)
		h->quota = h->capacity;
	return 0;
}

/* The unexpired leases of path into h. */
static void fake_leases_load(const char *path, struct fake_host *h)
{
	char line[256], id[32], bytes[32], ident[64];
	int64_t now = vn_now_ms();
	struct fake_lease *l;
	long long exp;
	FILE *f = fopen(path, "r");

	h->nr = 0;
	while (f && fgets(line, sizeof(line), f) && h->nr < (int)(sizeof(h->l) / sizeof(h->l[0]))) {
		l = &h->l[h->nr];
		exp = 0;
		if (sscanf(line, "%63s %31s %31s %lld", ident, id, bytes, &exp) < 3 ||
		    vn_parse_size(bytes, &l->bytes, NULL) || (exp && exp < now))
			continue;
		snprintf(l->ident, sizeof(l->ident), "%.15s", ident);
		l->id = strtoull(id, NULL, 16);
		l->expires = exp;
		h->nr++;
	}
	if (f)
		fclose(f);
}

static void fake_leases_save(const char *path, const struct fake_host *h)
{
	FILE *f = fopen(path, "w");
	int i;

	for (i = 0; f && i < h->nr; i++)
		fprintf(f, "%s %016llx %llu %lld\n", h->l[i].ident,
			(unsigned long long)h->l[i].id,
			(unsigned long long)h->l[i].bytes, (long long)h->l[i].expires);
	if (f)
		fclose(f);
}

/* Bytes leased by ident ("" = everybody), and how many leases. */
static uint64_t fake_leased(const struct fake_host *h, const char *ident,
			    uint32_t *nr)
{
	uint64_t sum = 0;
	int i;

	if (nr)
		*nr = 0;
	for (i = 0; i < h->nr; i++) {
		if (*ident && strcmp(h->l[i].ident, ident))
			continue;
		sum += h->l[i].bytes;
		if (nr)
			(*nr)++;
	}
	return sum;
}

/* The identities with a lease, as LEASES lists them. */
static int fake_idents(const struct fake_host *h, struct vn_lease_op *o)
{
	int i, j;

	o->idents = calloc((size_t)h->nr + 1, sizeof(*o->idents));
	if (!o->idents)
		return -ENOMEM;
	for (i = 0; i < h->nr; i++) {
		for (j = 0; j < o->nr_idents; j++)
			if (!strcmp(o->idents[j].ident, h->l[i].ident))
				break;
		if (j < o->nr_idents)
			continue;
		memcpy(o->idents[j].ident, h->l[i].ident, sizeof(h->l[i].ident));
		o->idents[j].leased = fake_leased(h, h->l[i].ident, &o->idents[j].nr_leases);
		o->nr_idents++;
	}
	return 0;
}

/* RESERVE, RELEASE or RENEW of identity me, as vnode_mem does them. */
static void fake_lease_op(struct fake_host *h, const char *me,
			  struct vn_lease_op *o)
{
	uint64_t slab = 1ULL << h->slab_shift, mine, cur = 0, rest, others, cap, quota;
	uint64_t bytes = (o->bytes + slab - 1) & ~(slab - 1);
	int i, found = -1;

	mine = fake_leased(h, me, NULL);
	for (i = 0; i < h->nr; i++)
		if (!strcmp(h->l[i].ident, me) && h->l[i].id == o->lease_id)
			found = i;
	if (found >= 0)
		cur = h->l[found].bytes;
	o->status = VNODE_ST_OK;
	if (o->op == VNODE_OP_RESERVE) {
		rest = mine - cur;
		others = h->used + fake_leased(h, "", NULL) - mine;
		cap = h->capacity > others + rest ? h->capacity - others - rest : 0;
		quota = h->quota > rest ? h->quota - rest : 0;
		o->avail = cap < quota ? cap : quota;
		if (!o->lease_id || !o->bytes)
			o->status = VNODE_ST_INVALID;
		else if (bytes > o->avail)
			o->status = quota < cap ? VNODE_ST_QUOTA : VNODE_ST_FULL;
		else if (found >= 0)
			h->l[found].bytes = bytes;
		else if (h->nr < (int)(sizeof(h->l) / sizeof(h->l[0]))) {
			snprintf(h->l[h->nr].ident, sizeof(h->l[0].ident), "%s", me);
			h->l[h->nr].id = o->lease_id;
			h->l[h->nr++].bytes = bytes;
		}
	} else if (o->op == VNODE_OP_RELEASE) {
		if (found < 0)
			o->status = VNODE_ST_NOENT;
		else
			h->l[found] = h->l[--h->nr];
	}
	for (i = 0; i < h->nr; i++)
		if (!strcmp(h->l[i].ident, me))
			h->l[i].expires = vn_now_ms() + h->lease_ms;
	o->leased = fake_leased(h, me, &o->nr_leases);
	o->limit = h->quota;
	o->lease_ms = h->lease_ms;
}

int vn_probe_fake(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth, struct vn_lease_op *ops,
		  int n, struct vn_probe_result *res, struct vn_err *err)
{
	const char *me = auth && auth->ident[0] ? auth->ident : "vnoded-probe";
	char path[PATH_MAX], lpath[PATH_MAX + 8], buf[256];
	struct fake_host *h;
	int i, ret = 0;

	(void)timeout_ms;
	memset(res, 0, sizeof(*res));
	res->nr_clients = -1;
	vn_lease_ops_reset(ops, n);
	if (vn_path(path, sizeof(path), "%s/probe/%s:%d", fake_root, addr, port) ||
	    vn_read_file(path, buf, sizeof(buf)))
		return vn_seterr(err, ETIMEDOUT,
				 "%s:%d: no answer within the probe timeout (host down or unreachable?)",
				 addr, port);
	/* "miss-once ...": this probe gets no answer, the next one does */
	if (!strncmp(buf, "miss-once ", 10)) {
		vn_write_file(path, buf + 10, true);
		return vn_seterr(err, ETIMEDOUT,
				 "%s:%d: no answer within the probe timeout (host down or unreachable?)",
				 addr, port);
	}
	if (!strncmp(buf, "reject full", 11))
		return vn_seterr(err, ENOSPC, "%s:%d: rejected: server full",
				 addr, port);
	h = calloc(1, sizeof(*h));
	if (!h)
		return vn_seterr(err, ENOMEM, "out of memory");
	if (fake_parse(buf, h, NULL)) {
		free(h);
		return vn_seterr(err, EPROTO, "%s: malformed fake probe file", path);
	}
	snprintf(lpath, sizeof(lpath), "%s.leases", path);
	fake_leases_load(lpath, h);
	res->capacity = h->capacity;
	res->used = h->used;
	res->op_rtt_ns = (int64_t)h->op_rtt;
	res->slab_shift = h->slab_shift;
	res->major = VNODE_PROTO_MAJOR;
	res->minor = h->minor;
	res->nr_clients = 0;
	res->has_leases = h->minor >= VNODE_LEASE_MIN_MINOR;
	if (res->has_leases) {
		res->leased = fake_leased(h, "", NULL);
		res->committed = h->used + res->leased;
		res->client_leased = fake_leased(h, me, NULL);
	}
	for (i = 0; i < n && res->has_leases && !ret; i++) {
		if (ops[i].op == VNODE_OP_LEASES) {
			ops[i].status = VNODE_ST_OK;
			if (fake_idents(h, &ops[i]))
				ret = vn_seterr(err, ENOMEM, "out of memory");
			continue;
		}
		fake_lease_op(h, me, &ops[i]);
		fake_leases_save(lpath, h);
	}
	free(h);
	return ret;
}
