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
	default: return "unknown status";
	}
}

/* One probe = one control block (rping style), torn down in reverse. */
struct probe_cb {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	bool qp;
	bool connected;
	uint8_t buf[2 * VNODE_MSG_MAX];	/* [0]: recv, [MAX]: send */
	int64_t deadline;
	char peer[96];
};

static int wait_event(struct probe_cb *cb, enum rdma_cm_event_type want,
		      struct rdma_cm_event **evp, struct vn_err *err)
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
	if (ev->event == want) {
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
	case RDMA_CM_EVENT_REJECTED: {
		const struct vnode_reject *rej = ev->param.conn.private_data;

		if (rej && ev->param.conn.private_data_len >= sizeof(*rej) &&
		    le32toh(rej->magic) == VNODE_MAGIC) {
			int st = le16toh(rej->status);

			ret = vn_seterr(err, st == VNODE_ST_FULL ? ENOSPC :
					st == VNODE_ST_VERSION ? EPROTO : ECONNREFUSED,
					"%s: rejected: %s (server speaks protocol %u.%u, we speak %u.%u)",
					cb->peer, vn_status_str(st),
					le16toh(rej->major), le16toh(rej->minor),
					VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
		} else {
			ret = vn_seterr(err, ECONNREFUSED,
					"%s: connection refused (nothing listening on that port? status %d)",
					cb->peer, ev->status);
		}
		break;
	}
	default:
		ret = vn_seterr(err, EPROTO, "%s: unexpected rdma_cm event %s (status %d)",
				cb->peer, rdma_event_str(ev->event), ev->status);
	}
	rdma_ack_cm_event(ev);
	return ret;
}

static int cq_wait(struct probe_cb *cb, enum ibv_wc_opcode op,
		   struct vn_err *err)
{
	struct ibv_wc wc;
	int n;

	while (vn_mono_ms() < cb->deadline) {
		n = ibv_poll_cq(cb->cq, 1, &wc);
		if (n < 0)
			return vn_seterr(err, EIO, "%s: poll cq failed", cb->peer);
		if (!n) {
			struct timespec ts = { 0, 200 * 1000 };

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
	int ret;

	memset(req, 0, sizeof(*req));
	req->magic = htole32(VNODE_MAGIC);
	req->op = VNODE_OP_STATS;
	req->tag = htole32(1);
	req->len = htole32(sizeof(*req));
	if (ibv_post_send(cb->id->qp, &wr, &bad))
		return vn_seterr(err, EIO, "%s: post send failed", cb->peer);
	ret = cq_wait(cb, IBV_WC_RECV, err);
	if (ret)
		return ret;
	if (le32toh(rsp->hdr.magic) != VNODE_MAGIC ||
	    rsp->hdr.op != VNODE_OP_STATS || le16toh(rsp->hdr.status))
		return vn_seterr(err, EPROTO, "%s: bad STATS reply (status %s)",
				 cb->peer, vn_status_str(le16toh(rsp->hdr.status)));
	res->capacity = le64toh(rsp->capacity);
	res->used = le64toh(rsp->used);
	res->nr_clients = (int)le32toh(rsp->nr_clients);
	return 0;
}

int vn_probe_rdma(const char *addr, int port, int timeout_ms,
		  struct vn_probe_result *res, struct vn_err *err)
{
	struct rdma_conn_param cp = { 0 };
	struct ibv_qp_init_attr qa = { 0 };
	struct rdma_addrinfo hints = { 0 }, *ai = NULL;
	struct rdma_cm_event *ev;
	struct vnode_hello hello = { 0 };
	struct probe_cb *cb;
	struct ibv_sge sge;
	struct ibv_recv_wr rwr = { 0 }, *rbad;
	char portstr[16];
	int64_t t0;
	int ret;

	memset(res, 0, sizeof(*res));
	res->nr_clients = -1;
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return vn_seterr(err, ENOMEM, "out of memory");
	snprintf(cb->peer, sizeof(cb->peer), "%s:%d", addr, port);
	t0 = vn_mono_ms();
	cb->deadline = t0 + timeout_ms;

	cb->ec = rdma_create_event_channel();
	if (!cb->ec) {
		ret = vn_seterr(err, errno,
				"rdma_create_event_channel: %s (no RDMA device / rdma_cm module?)",
				strerror(errno));
		goto out_free;
	}
	if (rdma_create_id(cb->ec, &cb->id, cb, RDMA_PS_TCP)) {
		ret = vn_seterr(err, errno, "rdma_create_id: %s", strerror(errno));
		goto out_ec;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	hints.ai_port_space = RDMA_PS_TCP;
	hints.ai_flags = RAI_NUMERICHOST;
	if (rdma_getaddrinfo(addr, portstr, &hints, &ai)) {
		ret = vn_seterr(err, EINVAL, "%s: invalid address", cb->peer);
		goto out_id;
	}
	if (rdma_resolve_addr(cb->id, NULL, ai->ai_dst_addr, timeout_ms)) {
		ret = vn_seterr(err, EHOSTUNREACH, "%s: rdma_resolve_addr: %s",
				cb->peer, strerror(errno));
		goto out_ai;
	}
	ret = wait_event(cb, RDMA_CM_EVENT_ADDR_RESOLVED, &ev, err);
	if (ret)
		goto out_ai;
	rdma_ack_cm_event(ev);
	if (rdma_resolve_route(cb->id, timeout_ms)) {
		ret = vn_seterr(err, EHOSTUNREACH, "%s: rdma_resolve_route: %s",
				cb->peer, strerror(errno));
		goto out_ai;
	}
	ret = wait_event(cb, RDMA_CM_EVENT_ROUTE_RESOLVED, &ev, err);
	if (ret)
		goto out_ai;
	rdma_ack_cm_event(ev);

	cb->pd = ibv_alloc_pd(cb->id->verbs);
	if (!cb->pd) {
		ret = vn_seterr(err, ENOMEM, "%s: ibv_alloc_pd failed", cb->peer);
		goto out_ai;
	}
	/* 1 SEND (STATS) + 1 RECV (its reply) in flight: tiny queues */
	cb->cq = ibv_create_cq(cb->id->verbs, 4, NULL, NULL, 0);
	if (!cb->cq) {
		ret = vn_seterr(err, ENOMEM, "%s: ibv_create_cq failed", cb->peer);
		goto out_pd;
	}
	cb->mr = ibv_reg_mr(cb->pd, cb->buf, sizeof(cb->buf),
			    IBV_ACCESS_LOCAL_WRITE);
	if (!cb->mr) {
		ret = vn_seterr(err, ENOMEM, "%s: ibv_reg_mr failed", cb->peer);
		goto out_cq;
	}
	qa.send_cq = cb->cq;
	qa.recv_cq = cb->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 2;
	qa.cap.max_recv_wr = 2;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(cb->id, cb->pd, &qa)) {
		ret = vn_seterr(err, errno, "%s: rdma_create_qp: %s", cb->peer,
				strerror(errno));
		goto out_mr;
	}
	cb->qp = true;
	sge.addr = (uintptr_t)cb->buf;
	sge.length = VNODE_MSG_MAX;
	sge.lkey = cb->mr->lkey;
	rwr.wr_id = 1;
	rwr.sg_list = &sge;
	rwr.num_sge = 1;
	if (ibv_post_recv(cb->id->qp, &rwr, &rbad)) {
		ret = vn_seterr(err, EIO, "%s: post recv failed", cb->peer);
		goto out_qp;
	}

	hello.magic = htole32(VNODE_MAGIC);
	hello.major = htole16(VNODE_PROTO_MAJOR);
	hello.minor = htole16(VNODE_PROTO_MINOR);
	hello.role = VNODE_ROLE_PROBE;
	hello.queue_id = htole16(0);
	hello.nr_queues = htole16(1);
	hello.client_id = htole64(((uint64_t)rand() << 32) ^ (uint64_t)vn_now_ms());
	snprintf(hello.name, sizeof(hello.name), "vnoded-probe");
	cp.private_data = &hello;
	cp.private_data_len = sizeof(hello);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(cb->id, &cp)) {
		ret = vn_seterr(err, errno, "%s: rdma_connect: %s", cb->peer,
				strerror(errno));
		goto out_qp;
	}
	ret = wait_event(cb, RDMA_CM_EVENT_ESTABLISHED, &ev, err);
	if (ret)
		goto out_qp;
	cb->connected = true;
	res->rtt_us = (vn_mono_ms() - t0) * 1000;
	{
		const struct vnode_accept *acc = ev->param.conn.private_data;

		if (!acc || ev->param.conn.private_data_len < sizeof(*acc) ||
		    le32toh(acc->magic) != VNODE_MAGIC) {
			ret = vn_seterr(err, EPROTO,
					"%s: accepted without vnode accept data (not a vnode host?)",
					cb->peer);
			rdma_ack_cm_event(ev);
			goto out_disc;
		}
		res->major = le16toh(acc->major);
		res->minor = le16toh(acc->minor);
		res->slab_shift = le16toh(acc->slab_shift);
		res->server_id = le64toh(acc->server_id);
		res->capacity = le64toh(acc->capacity);
		res->used = le64toh(acc->used);
	}
	rdma_ack_cm_event(ev);
	if (res->major != VNODE_PROTO_MAJOR) {
		ret = vn_seterr(err, EPROTO,
				"%s: server speaks protocol %d.%d, we speak %d.%d",
				cb->peer, res->major, res->minor,
				VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
		goto out_disc;
	}
	/* STATS is a bonus (nr_clients, fresher usage): failure is not fatal */
	if (do_stats(cb, res, NULL))
		res->nr_clients = -1;
	ret = 0;

out_disc:
	if (cb->connected && !rdma_disconnect(cb->id)) {
		cb->deadline = vn_mono_ms() + 1000;
		if (!wait_event(cb, RDMA_CM_EVENT_DISCONNECTED, &ev, NULL))
			rdma_ack_cm_event(ev);
	}
out_qp:
	rdma_destroy_qp(cb->id);
out_mr:
	ibv_dereg_mr(cb->mr);
out_cq:
	ibv_destroy_cq(cb->cq);
out_pd:
	ibv_dealloc_pd(cb->pd);
out_ai:
	rdma_freeaddrinfo(ai);
out_id:
	rdma_destroy_id(cb->id);
out_ec:
	rdma_destroy_event_channel(cb->ec);
out_free:
	free(cb);
	return ret;
}

static char fake_root[PATH_MAX];

void vn_probe_fake_root(const char *root)
{
	snprintf(fake_root, sizeof(fake_root), "%s", root);
}

int vn_probe_fake(const char *addr, int port, int timeout_ms,
		  struct vn_probe_result *res, struct vn_err *err)
{
	char path[PATH_MAX], buf[256], cap[64], used[64];
	int shift = 20;

	(void)timeout_ms;
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
	if (sscanf(buf, "%63s %63s %d", cap, used, &shift) < 2 ||
	    vn_parse_size(cap, &res->capacity, err) ||
	    vn_parse_size(used, &res->used, err))
		return vn_seterr(err, EPROTO, "%s: malformed fake probe file", path);
	res->slab_shift = shift;
	res->major = VNODE_PROTO_MAJOR;
	res->minor = VNODE_PROTO_MINOR;
	res->nr_clients = 0;
	return 0;
}
