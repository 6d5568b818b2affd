// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt server: rdma_cm listener, hello validation, per-client_id
 * peers with their own PD, control requests handed to the owner in
 * process context, fast-registration of the owner's memory for one peer.
 *
 * Over 1,000 lines: listener, peers, queues and request dispatch share
 * the lifetime rules of peers and queues (references, release work,
 * drain on stop and device removal); split, they would become an API
 * between files that no other user has.
 */
#include "xprt_priv.h"

#include <crypto/algapi.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>

/* A queue's release says why it still waits this often. */
#define SRV_RELEASE_WARN_MS	5000

static LIST_HEAD(vnode_xprt_srv_list);
static DEFINE_MUTEX(vnode_xprt_srv_list_lock);

/* How long stop/device removal waits for peers to go (then leaks). */
#define SRV_DRAIN_TIMEOUT_MS	30000
/* How long one REG_MR may take before its queue is declared broken. */
#define SRV_REG_TIMEOUT_MS	10000

static void srv_queue_release_work(struct work_struct *work);
static void srv_exec_work(struct work_struct *work);

/* Receive area, then the response area, of one RECV. */
static inline size_t srv_buf_size(struct vnode_xprt_srv *srv)
{
	return srv->rx_size + VNODE_MSG_MAX;
}

static inline void *srv_rx_buf(struct vnode_xprt_squeue *q, unsigned int i)
{
	return q->rx[i].buf;
}

static inline void *srv_tx_buf(struct vnode_xprt_squeue *q, unsigned int i)
{
	return q->rx[i].buf + q->peer->srv->rx_size;
}

static inline u64 srv_rx_dma(struct vnode_xprt_squeue *q, unsigned int i)
{
	return q->rx[i].dma;
}

static inline u64 srv_tx_dma(struct vnode_xprt_squeue *q, unsigned int i)
{
	return q->rx[i].dma + q->peer->srv->rx_size;
}

/* Any context: the queue is broken or the client went away. */
static void srv_queue_error(struct vnode_xprt_squeue *q, const char *why)
{
	clear_bit(SQ_LIVE, &q->flags);
	if (!test_and_set_bit(SQ_RELEASING, &q->flags)) {
		peer_log(info, q->peer, "queue %u closing (%s)\n", q->queue_id,
			 why);
		queue_work(vnode_xprt_teardown_wq, &q->release_work);
	}
}

static int srv_post_recv(struct vnode_xprt_squeue *q, unsigned int i)
{
	struct ib_device *ibdev = q->peer->ibdev;
	struct ib_sge sge = {
		.addr	= srv_rx_dma(q, i),
		.length	= q->peer->srv->rx_size,
		.lkey	= q->peer->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe		= &q->rx[i].cqe,
		.sg_list	= &sge,
		.num_sge	= 1,
	};

	ib_dma_sync_single_for_device(ibdev, sge.addr, sge.length,
				      DMA_BIDIRECTIONAL);
	return ib_post_recv(q->qp, &wr, NULL);
}

static void srv_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_srx *rx = container_of(wc->wr_cqe,
						 struct vnode_xprt_srx, cqe);
	struct vnode_xprt_squeue *q = rx->queue;
	struct vnode_xprt_peer *peer = q->peer;
	unsigned long flags;

	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			srv_queue_error(q, ib_wc_status_msg(wc->status));
		return;
	}
	ib_dma_sync_single_for_cpu(peer->ibdev, srv_rx_dma(q, rx->idx),
				   peer->srv->rx_size, DMA_BIDIRECTIONAL);
	rx->byte_len = wc->byte_len;
	if (peer->srv->ops->submit) {
		queue_work(vnode_xprt_exec_wq, &rx->work);
		return;
	}
	spin_lock_irqsave(&peer->req_lock, flags);
	list_add_tail(&rx->entry, &peer->req_list);
	spin_unlock_irqrestore(&peer->req_lock, flags);
	queue_work(vnode_xprt_exec_wq, &peer->req_work);
}

static void srv_rw_destroy(struct vnode_xprt_srx *rx)
{
	struct vnode_xprt_squeue *q = rx->queue;

	if (!rx->rw_nents)
		return;
	rdma_rw_ctx_destroy(&rx->rw, q->qp, q->port_num, rx->rw_sgl,
			    rx->rw_nents, rx->rw_dir);
	rx->rw_nents = 0;
}

/* An asynchronous request is over: its buffers go back to the owner. */
static void srv_sreq_finish(struct vnode_xprt_srx *rx)
{
	struct vnode_xprt_squeue *q = rx->queue;
	struct vnode_xprt_sreq *sreq = &rx->sreq;

	srv_rw_destroy(rx);
	if (!sreq->peer)
		return;
	sreq->peer = NULL;
	if (sreq->reply_done)
		sreq->reply_done(sreq);
	/*
	 * Last: the release work frees the queue when this reaches 0.
	 * wake_up_var() only hashes the address, so it is safe even if
	 * the queue is already gone.
	 */
	if (atomic_dec_and_test(&q->active))
		wake_up_var(&q->active);
}

static void srv_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_srx *rx = container_of(wc->wr_cqe,
						 struct vnode_xprt_srx,
						 send_cqe);
	struct vnode_xprt_squeue *q = rx->queue;

	srv_sreq_finish(rx);
	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			srv_queue_error(q, ib_wc_status_msg(wc->status));
		return;
	}
	/* The response buffer is free again: accept the next request. */
	if (test_bit(SQ_LIVE, &q->flags) && srv_post_recv(q, rx->idx))
		srv_queue_error(q, "RECV repost failed");
}

/* Post the response in rx's paired buffer, or repost the RECV on failure. */
static void srv_send_rsp(struct vnode_xprt_squeue *q,
			 struct vnode_xprt_srx *rx, size_t len)
{
	struct ib_sge sge = {
		.addr	= srv_tx_dma(q, rx->idx),
		.length	= len,
		.lkey	= q->peer->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe		= &rx->send_cqe,
		.sg_list	= &sge,
		.num_sge	= 1,
		.opcode		= IB_WR_SEND,
		.send_flags	= IB_SEND_SIGNALED,
	};

	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (test_bit(SQ_LIVE, &q->flags)) {
		ib_dma_sync_single_for_device(q->peer->ibdev, sge.addr, len,
					      DMA_BIDIRECTIONAL);
		if (ib_post_send(q->qp, &wr, NULL))
			srv_queue_error(q, "SEND post failed");
	}
	atomic_dec(&q->posting);
}

static void srv_repost_recv(struct vnode_xprt_squeue *q, unsigned int idx)
{
	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (test_bit(SQ_LIVE, &q->flags) && srv_post_recv(q, idx))
		srv_queue_error(q, "RECV repost failed");
	atomic_dec(&q->posting);
}

/* Validate one request and hand it to the owner; process context. */
static void srv_handle_req(struct vnode_xprt_peer *peer,
			   struct vnode_xprt_srx *rx)
{
	struct vnode_xprt_squeue *q = rx->queue;
	struct vnode_xprt_srv *srv = peer->srv;
	const struct vnode_msg_hdr *req = srv_rx_buf(q, rx->idx);
	struct vnode_msg_hdr *rsp = srv_tx_buf(q, rx->idx);
	size_t rsp_len = sizeof(*rsp);
	u32 len;

	if (rx->byte_len < sizeof(*req) ||
	    le32_to_cpu(req->magic) != VNODE_MAGIC ||
	    (req->flags & VNODE_MSG_F_REPLY)) {
		peer_log(warn, peer, "dropping malformed message (%u bytes)\n",
			 rx->byte_len);
		srv_repost_recv(q, rx->idx);
		return;
	}

	memset(rsp, 0, VNODE_MSG_MAX);
	rsp->op = req->op;
	len = le32_to_cpu(req->len);
	if (len < sizeof(*req) || len > rx->byte_len) {
		peer_log(warn, peer, "op %u: bad length %u (received %u)\n",
			 req->op, len, rx->byte_len);
		rsp->status = cpu_to_le16(VNODE_ST_INVALID);
	} else {
		if (req->op == VNODE_OP_GOODBYE)
			WRITE_ONCE(peer->orderly, true);
		srv->ops->request(peer, peer->priv, req, len, rsp, &rsp_len);
		rsp_len = clamp_t(size_t, rsp_len, sizeof(*rsp),
				  VNODE_MSG_MAX);
	}
	rsp->magic = cpu_to_le32(VNODE_MAGIC);
	rsp->flags = VNODE_MSG_F_REPLY;
	rsp->tag = req->tag;
	rsp->len = cpu_to_le32(rsp_len);
	srv_send_rsp(q, rx, rsp_len);
}

static void srv_req_work(struct work_struct *work)
{
	struct vnode_xprt_peer *peer = container_of(work,
						    struct vnode_xprt_peer,
						    req_work);
	struct vnode_xprt_srx *rx;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&peer->req_lock, flags);
		rx = list_first_entry_or_null(&peer->req_list,
					      struct vnode_xprt_srx, entry);
		if (rx)
			list_del_init(&rx->entry);
		spin_unlock_irqrestore(&peer->req_lock, flags);
		if (!rx)
			break;
		if (test_bit(SQ_LIVE, &rx->queue->flags))
			srv_handle_req(peer, rx);
		cond_resched();
	}
}

/* Asynchronous servers: validate one request and hand it to the owner. */
static void srv_exec_work(struct work_struct *work)
{
	struct vnode_xprt_srx *rx = container_of(work, struct vnode_xprt_srx,
						 work);
	struct vnode_xprt_squeue *q = rx->queue;
	struct vnode_xprt_peer *peer = q->peer;
	const struct vnode_msg_hdr *req = srv_rx_buf(q, rx->idx);
	struct vnode_msg_hdr *rsp = srv_tx_buf(q, rx->idx);
	struct vnode_xprt_sreq *sreq = &rx->sreq;
	u32 len;

	if (!test_bit(SQ_LIVE, &q->flags))
		return;
	len = le32_to_cpu(req->len);
	if (rx->byte_len < sizeof(*req) || len < sizeof(*req) ||
	    len > rx->byte_len || le32_to_cpu(req->magic) != VNODE_MAGIC ||
	    (req->flags & VNODE_MSG_F_REPLY)) {
		/* Same as the synchronous path: the answer is a status. */
		srv_handle_req(peer, rx);
		return;
	}
	if (req->op == VNODE_OP_GOODBYE)
		WRITE_ONCE(peer->orderly, true);
	memset(rsp, 0, VNODE_MSG_MAX);
	rsp->op = req->op;
	memset(sreq, 0, sizeof(*sreq));
	sreq->peer = peer;
	sreq->req = req;
	sreq->req_len = len;
	sreq->rsp = rsp;
	atomic_inc(&q->active);
	peer->srv->ops->submit(peer, peer->priv, sreq);
}

static void srv_rw_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_srx *rx = container_of(wc->wr_cqe,
						 struct vnode_xprt_srx, rw_cqe);
	int err = 0;

	srv_rw_destroy(rx);
	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		err = -ENOTCONN;
		if (wc->status != IB_WC_WR_FLUSH_ERR) {
			peer_log(err, rx->queue->peer, "queue %u RDMA READ failed: %s\n",
				 rx->queue->queue_id,
				 ib_wc_status_msg(wc->status));
			srv_queue_error(rx->queue,
					ib_wc_status_msg(wc->status));
		}
	}
	rx->sreq.rdma_done(&rx->sreq, err);
}

int vnode_xprt_sreq_rdma_read(struct vnode_xprt_sreq *sreq,
			      struct scatterlist *sgl, int nents, u64 raddr,
			      u32 rkey)
{
	struct vnode_xprt_srx *rx = container_of(sreq, struct vnode_xprt_srx,
						 sreq);
	struct vnode_xprt_squeue *q = rx->queue;
	int ret = -ENOTCONN;
	bool bh;

	if (WARN_ON_ONCE(!sreq->rdma_done || rx->rw_nents || nents <= 0))
		return -EINVAL;
	atomic_inc(&q->posting);
	/* Pairs with the barrier in release: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (!test_bit(SQ_LIVE, &q->flags))
		goto out;
	ret = rdma_rw_ctx_init(&rx->rw, q->qp, q->port_num, sgl, nents, 0,
			       raddr, rkey, DMA_FROM_DEVICE);
	if (ret < 0)
		goto out;
	rx->rw_sgl = sgl;
	rx->rw_nents = nents;
	rx->rw_dir = DMA_FROM_DEVICE;
	rx->rw_cqe.done = srv_rw_done;
	bh = vnode_xprt_post_begin();
	ret = rdma_rw_ctx_post(&rx->rw, q->qp, q->port_num, &rx->rw_cqe, NULL);
	vnode_xprt_post_end(bh);
	if (ret) {
		srv_rw_destroy(rx);
		srv_queue_error(q, "RDMA READ post failed");
		ret = -ENOTCONN;
	}
out:
	atomic_dec(&q->posting);
	return ret;
}
EXPORT_SYMBOL_GPL(vnode_xprt_sreq_rdma_read);

void vnode_xprt_sreq_reply(struct vnode_xprt_sreq *sreq, size_t rsp_len,
			   u32 inv_rkey, struct scatterlist *sgl, int nents,
			   u64 raddr, u32 rkey)
{
	struct vnode_xprt_srx *rx = container_of(sreq, struct vnode_xprt_srx,
						 sreq);
	struct vnode_xprt_squeue *q = rx->queue;
	struct vnode_msg_hdr *rsp = sreq->rsp;
	struct ib_send_wr wr = {}, *first = &wr;
	struct ib_sge sge;
	bool posted = false, bh;
	int ret;

	rsp_len = clamp_t(size_t, rsp_len, sizeof(*rsp), VNODE_MSG_MAX);
	rsp->magic = cpu_to_le32(VNODE_MAGIC);
	rsp->flags = VNODE_MSG_F_REPLY;
	rsp->tag = sreq->req->tag;
	rsp->len = cpu_to_le32(rsp_len);

	sge.addr = srv_tx_dma(q, rx->idx);
	sge.length = rsp_len;
	sge.lkey = q->peer->pd->local_dma_lkey;
	wr.wr_cqe = &rx->send_cqe;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IB_SEND_SIGNALED;
	wr.opcode = inv_rkey ? IB_WR_SEND_WITH_INV : IB_WR_SEND;
	wr.ex.invalidate_rkey = inv_rkey;

	atomic_inc(&q->posting);
	/* Pairs with the barrier in release: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (!test_bit(SQ_LIVE, &q->flags))
		goto out;
	if (nents > 0) {
		/* The data, then the reply: one post, RC keeps the order. */
		ret = rdma_rw_ctx_init(&rx->rw, q->qp, q->port_num, sgl, nents,
				       0, raddr, rkey, DMA_TO_DEVICE);
		if (ret < 0) {
			peer_log(err, q->peer, "RDMA WRITE of %d segments: %d\n",
				 nents, ret);
			rsp->status = cpu_to_le16(VNODE_ST_NOMEM);
		} else {
			rx->rw_sgl = sgl;
			rx->rw_nents = nents;
			rx->rw_dir = DMA_TO_DEVICE;
			first = rdma_rw_ctx_wrs(&rx->rw, q->qp, q->port_num,
						NULL, &wr);
		}
	}
	ib_dma_sync_single_for_device(q->peer->ibdev, sge.addr, rsp_len,
				      DMA_BIDIRECTIONAL);
	bh = vnode_xprt_post_begin();
	ret = ib_post_send(q->qp, first, NULL);
	vnode_xprt_post_end(bh);
	if (ret)
		srv_queue_error(q, "SEND post failed");
	else
		posted = true;
out:
	atomic_dec(&q->posting);
	/* Not posted: the queue is going away, nobody gets this reply. */
	if (!posted)
		srv_sreq_finish(rx);
}
EXPORT_SYMBOL_GPL(vnode_xprt_sreq_reply);

#ifdef VNODE_TEST_HOOKS
void vnode_xprt_sreq_drop(struct vnode_xprt_sreq *sreq)
{
	struct vnode_xprt_srx *rx = container_of(sreq, struct vnode_xprt_srx,
						 sreq);
	struct vnode_xprt_squeue *q = rx->queue;

	atomic_inc(&q->posting);
	/* Pairs with the barrier in release: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (!test_bit(SQ_LIVE, &q->flags)) {
		atomic_dec(&q->posting);
		srv_sreq_finish(rx);
		return;
	}
	/*
	 * The release work waits for @posting before it drains and frees:
	 * @q outlives the request here.  Finish it before its buffer can
	 * receive the next request.
	 */
	srv_sreq_finish(rx);
	if (srv_post_recv(q, rx->idx))
		srv_queue_error(q, "RECV repost failed");
	atomic_dec(&q->posting);
}
EXPORT_SYMBOL_GPL(vnode_xprt_sreq_drop);
#endif

static void srv_ka_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_squeue *q = container_of(wc->wr_cqe,
						   struct vnode_xprt_squeue,
						   ka_cqe);

	clear_bit(SQ_KA_PENDING, &q->flags);
	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR) {
		peer_log(warn, q->peer, "queue %u keepalive failed: %s\n",
			 q->queue_id, ib_wc_status_msg(wc->status));
		srv_queue_error(q, "client unreachable");
	}
}

static void srv_ka_work(struct work_struct *work)
{
	struct vnode_xprt_srv *srv = container_of(to_delayed_work(work),
						  struct vnode_xprt_srv,
						  ka_work);
	struct vnode_xprt_peer *peer;
	struct vnode_xprt_squeue *q;

	mutex_lock(&srv->lock);
	list_for_each_entry(peer, &srv->peers, entry) {
		list_for_each_entry(q, &peer->queues, entry) {
			atomic_inc(&q->posting);
			/* Pairs with the barrier in release. */
			smp_mb__after_atomic();
			if (test_bit(SQ_LIVE, &q->flags) &&
			    !test_bit(SQ_REG, &q->flags) &&
			    !test_and_set_bit(SQ_KA_PENDING, &q->flags) &&
			    vnode_xprt_post_keepalive(q->qp, &q->ka_cqe)) {
				clear_bit(SQ_KA_PENDING, &q->flags);
				srv_queue_error(q, "keepalive post failed");
			}
			atomic_dec(&q->posting);
		}
	}
	if (!srv->stopping)
		queue_delayed_work(vnode_xprt_wq, &srv->ka_work,
				   msecs_to_jiffies(vnode_xprt_keepalive_ms));
	mutex_unlock(&srv->lock);
}

static void srv_qp_event(struct ib_event *ev, void *ctx)
{
	struct vnode_xprt_squeue *q = ctx;

	switch (ev->event) {
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
		srv_queue_error(q, ib_event_msg(ev->event));
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Peers                                                               */
/* ------------------------------------------------------------------ */

/*
 * Last step of a peer: the owner releases its state (and MRs), then the
 * PD goes.  The peer is off srv->peers and has no queues.
 */
static void srv_peer_free(struct vnode_xprt_peer *peer, bool sync_orphan)
{
	struct vnode_xprt_srv *srv = peer->srv;

	if (sync_orphan)
		cancel_delayed_work_sync(&peer->orphan_work);
	cancel_work_sync(&peer->req_work);
	srv->ops->disconnect(peer, peer->priv, peer->orderly);
	peer_log(info, peer, "client %016llx gone (%s)\n", peer->client_id,
		 peer->orderly ? "goodbye" : "lost");
	ib_dealloc_pd(peer->pd);
	kfree(peer);
	wake_up_all(&srv->wait);
	/* Last: srv_drop_peers() and vnode_xprt_srv_stop() wait for it. */
	atomic_dec(&srv->freeing);
}

static void srv_orphan_work(struct work_struct *work)
{
	struct vnode_xprt_peer *peer = container_of(to_delayed_work(work),
						    struct vnode_xprt_peer,
						    orphan_work);
	struct vnode_xprt_srv *srv = peer->srv;

	mutex_lock(&srv->lock);
	if (peer->dropped || !list_empty(&peer->queues)) {
		mutex_unlock(&srv->lock);
		return;
	}
	peer->dropped = true;
	list_del_init(&peer->entry);
	atomic_inc(&srv->freeing);
	mutex_unlock(&srv->lock);
	peer_log(info, peer, "did not reconnect within %u ms\n",
		 srv->orphan_ms);
	srv_peer_free(peer, false);
}

static struct vnode_xprt_peer *srv_find_peer(struct vnode_xprt_srv *srv,
					     u64 client_id)
{
	struct vnode_xprt_peer *peer;

	list_for_each_entry(peer, &srv->peers, entry) {
		if (peer->client_id == client_id && !peer->dropped)
			return peer;
	}
	return NULL;
}

/* The hello's name, printable ASCII only: it goes to dmesg and sysfs. */
static void srv_sanitize_name(char *name, const struct vnode_hello *hello)
{
	unsigned int i;

	for (i = 0; i < sizeof(hello->name) && hello->name[i]; i++)
		name[i] = isprint(hello->name[i]) && hello->name[i] != '/' ?
			hello->name[i] : '?';
	name[i] = '\0';
}

static struct vnode_xprt_peer *srv_new_peer(struct vnode_xprt_srv *srv,
					    struct rdma_cm_id *cm_id,
					    const struct vnode_hello *hello)
{
	struct vnode_xprt_peer *peer;

	peer = vnode_fault(kzalloc(sizeof(*peer), GFP_KERNEL));
	if (!peer)
		return NULL;
	peer->srv = srv;
	peer->client_id = le64_to_cpu(hello->client_id);
	peer->nr_queues = le16_to_cpu(hello->nr_queues);
	peer->role = hello->role;
	peer->minor = le16_to_cpu(hello->minor);
	memcpy(peer->ident, hello->name, sizeof(peer->ident));
	srv_sanitize_name(peer->name, hello);
	if (!peer->name[0])
		strscpy(peer->name, "?", sizeof(peer->name));
	snprintf(peer->addr, sizeof(peer->addr), "%pISpc",
		 &cm_id->route.addr.dst_addr);
	peer->ibdev = cm_id->device;
	INIT_LIST_HEAD(&peer->entry);
	INIT_LIST_HEAD(&peer->queues);
	INIT_LIST_HEAD(&peer->req_list);
	spin_lock_init(&peer->req_lock);
	INIT_WORK(&peer->req_work, srv_req_work);
	INIT_DELAYED_WORK(&peer->orphan_work, srv_orphan_work);
	mutex_init(&peer->reg_lock);
	init_rwsem(&peer->fence);

	/* The peer's own PD: its MRs are unusable from any other client. */
	peer->pd = vnode_fault_err(ib_alloc_pd(peer->ibdev, 0));
	if (IS_ERR(peer->pd)) {
		peer_log(err, peer, "ib_alloc_pd failed: %ld\n",
			 PTR_ERR(peer->pd));
		kfree(peer);
		return NULL;
	}
	return peer;
}

/* ------------------------------------------------------------------ */
/* Queues                                                              */
/* ------------------------------------------------------------------ */

static void srv_queue_destroy_ib(struct vnode_xprt_squeue *q)
{
	struct ib_device *ibdev = q->peer->ibdev;
	size_t size = srv_buf_size(q->peer->srv);
	unsigned int i;

	if (q->qp) {
		ib_destroy_qp(q->qp);
		q->qp = NULL;
	}
	if (q->cq) {
		ib_free_cq(q->cq);
		q->cq = NULL;
	}
	for (i = 0; q->rx && i < q->nr_rx; i++) {
		if (q->rx[i].dma)
			ib_dma_unmap_single(ibdev, q->rx[i].dma, size,
					    DMA_BIDIRECTIONAL);
		kfree(q->rx[i].buf);
	}
	kfree(q->rx);
	q->rx = NULL;
}

static struct vnode_xprt_squeue *srv_queue_create(struct vnode_xprt_peer *peer,
						  struct rdma_cm_id *cm_id,
						  u16 queue_id)
{
	struct vnode_xprt_srv *srv = peer->srv;
	struct ib_device *ibdev = cm_id->device;
	size_t size = srv_buf_size(srv);
	struct ib_qp_init_attr init = {};
	struct vnode_xprt_squeue *q;
	unsigned int i, rw = 0;
	int ret;

	q = vnode_fault(kzalloc(sizeof(*q), GFP_KERNEL));
	if (!q)
		return ERR_PTR(-ENOMEM);
	q->peer = peer;
	q->queue_id = queue_id;
	q->port_num = cm_id->port_num;
	q->nr_rx = srv->depth;
	INIT_LIST_HEAD(&q->entry);
	INIT_WORK(&q->release_work, srv_queue_release_work);
	q->ka_cqe.done = srv_ka_done;
	q->rx = vnode_fault(kcalloc(q->nr_rx, sizeof(*q->rx), GFP_KERNEL));
	if (!q->rx) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < q->nr_rx; i++) {
		struct vnode_xprt_srx *rx = &q->rx[i];

		rx->cqe.done = srv_recv_done;
		rx->send_cqe.done = srv_send_done;
		rx->queue = q;
		rx->idx = i;
		INIT_LIST_HEAD(&rx->entry);
		INIT_WORK(&rx->work, srv_exec_work);
		rx->buf = vnode_fault(kzalloc(size, GFP_KERNEL));
		if (!rx->buf) {
			ret = -ENOMEM;
			goto out_free;
		}
		rx->dma = ib_dma_map_single(ibdev, rx->buf, size,
					    DMA_BIDIRECTIONAL);
		if (ib_dma_mapping_error(ibdev, rx->dma)) {
			rx->dma = 0;
			ret = -EIO;
			goto out_free;
		}
	}

	/*
	 * Work-request budget of one server queue:
	 *   send: nr_rx responses (one per posted RECV)
	 *       + 1 REG_MR (peer->reg_lock: one at a time per peer)
	 *       + 1 keepalive (SQ_KA_PENDING)
	 *       + 1 ib_drain_qp() marker
	 *       + asynchronous servers: one RDMA READ/WRITE context per
	 *         RECV (rdma_rw adds their WRs to max_send_wr)
	 *   recv: nr_rx requests + 1 drain marker
	 *   CQ:   send + recv, with room for rdma_rw's extra WRs
	 */
	init.cap.max_send_wr = q->nr_rx + 1 + 1 + 1;
	init.cap.max_recv_wr = q->nr_rx + 1;
	init.cap.max_send_sge = 1;
	init.cap.max_recv_sge = 1;
	if (srv->ops->submit) {
		rw = q->nr_rx;
		init.cap.max_rdma_ctxs = rw;
		init.cap.max_send_sge = min_t(u32, ibdev->attrs.max_send_sge,
					      32);
		init.port_num = q->port_num;
	}
	q->cq = vnode_fault_err(ib_alloc_cq(ibdev, q,
			init.cap.max_send_wr + 3 * rw + init.cap.max_recv_wr,
			queue_id % ibdev->num_comp_vectors, IB_POLL_SOFTIRQ));
	if (IS_ERR(q->cq)) {
		ret = PTR_ERR(q->cq);
		q->cq = NULL;
		goto out_free;
	}
	init.event_handler = srv_qp_event;
	init.qp_context = q;
	init.send_cq = q->cq;
	init.recv_cq = q->cq;
	init.sq_sig_type = IB_SIGNAL_REQ_WR;
	init.qp_type = IB_QPT_RC;
	ret = vnode_fault_ret(rdma_create_qp(cm_id, peer->pd, &init));
	if (ret)
		goto out_free;
	q->qp = cm_id->qp;

	for (i = 0; i < q->nr_rx; i++) {
		ret = srv_post_recv(q, i);
		if (ret)
			goto out_free;
	}
	return q;

out_free:
	if (q->qp)
		cm_id->qp = NULL;	/* we destroy it ourselves */
	srv_queue_destroy_ib(q);
	kfree(q);
	return ERR_PTR(ret);
}

/*
 * Disconnect, drain, free one queue; if it was the peer's last, drop the
 * peer (after GOODBYE, stop or device removal) or keep it as an orphan
 * for srv->orphan_ms so the client can reconnect to its state.
 */
static void srv_queue_release_work(struct work_struct *work)
{
	struct vnode_xprt_squeue *q = container_of(work,
						   struct vnode_xprt_squeue,
						   release_work);
	struct vnode_xprt_peer *peer = q->peer;
	struct vnode_xprt_srv *srv = peer->srv;
	bool drop = false;
	unsigned int i;

	clear_bit(SQ_LIVE, &q->flags);
	/* Pairs with the posters' barrier: wait for those that saw LIVE. */
	smp_mb__after_atomic();
	while (atomic_read(&q->posting))
		usleep_range(20, 50);

	rdma_disconnect(q->cm_id);
	/* Flushes every posted WR (REG_MR waiters wake up with an error). */
	ib_drain_qp(q->qp);
	/* Requests of this queue still queued are skipped (!SQ_LIVE). */
	flush_work(&peer->req_work);
	for (i = 0; i < q->nr_rx; i++)
		cancel_work_sync(&q->rx[i].work);
	/*
	 * The owner answers every request it took (dropped: !SQ_LIVE).  A
	 * hung backing store holds them: sleep, and say why every few
	 * seconds (the peer and its state stay until they are answered).
	 */
	while (!wait_var_event_timeout(&q->active, !atomic_read(&q->active),
				       msecs_to_jiffies(SRV_RELEASE_WARN_MS)))
		peer_log(warn, peer, "queue %u closing: waiting for %d requests still in the server (a hung backing store?)\n",
			 q->queue_id, atomic_read(&q->active));
	rdma_destroy_id(q->cm_id);
	q->cm_id = NULL;
	srv_queue_destroy_ib(q);

	mutex_lock(&srv->lock);
	list_del_init(&q->entry);
	if (list_empty(&peer->queues) && !peer->dropped) {
		if (peer->orderly || peer->dying || srv->stopping ||
		    !peer->priv) {
			peer->dropped = true;
			list_del_init(&peer->entry);
			atomic_inc(&srv->freeing);
			drop = true;
		} else {
			peer_log(info, peer, "all queues lost, keeping its state for %u ms\n",
				 srv->orphan_ms);
			mod_delayed_work(vnode_xprt_wq, &peer->orphan_work,
					 msecs_to_jiffies(srv->orphan_ms));
		}
	}
	mutex_unlock(&srv->lock);
	kfree(q);

	if (drop)
		srv_peer_free(peer, true);
	wake_up_all(&srv->wait);
}

static void srv_reject(struct rdma_cm_id *cm_id, u16 status)
{
	struct vnode_reject rej = {};

	rej.magic = cpu_to_le32(VNODE_MAGIC);
	rej.status = cpu_to_le16(status);
	rej.major = cpu_to_le16(VNODE_PROTO_MAJOR);
	rej.minor = cpu_to_le16(VNODE_PROTO_MINOR);
	rdma_reject(cm_id, &rej, sizeof(rej), IB_CM_REJ_CONSUMER_DEFINED);
}

/* Check a hello; VNODE_ST_OK or the reject status.  Logs why. */
static u16 srv_check_hello(struct vnode_xprt_srv *srv,
			   struct rdma_cm_id *cm_id,
			   const struct vnode_hello *hello, u8 len)
{
	struct sockaddr *src = (struct sockaddr *)&cm_id->route.addr.dst_addr;
	char name[sizeof(hello->name) + 1];
	u16 nr, qid;

	if (!hello || len < sizeof(*hello) ||
	    le32_to_cpu(hello->magic) != VNODE_MAGIC) {
		pr_warn_ratelimited("<%s> rejecting %pISpc: not a vnode client (bad magic or hello)\n",
			srv->name, src);
		return VNODE_ST_VERSION;
	}
	srv_sanitize_name(name, hello);
	if (le16_to_cpu(hello->major) != VNODE_PROTO_MAJOR) {
		pr_warn_ratelimited("<%s@%pISpc> rejected: protocol version %u.%u, we speak %u.%u\n",
				    name, src, le16_to_cpu(hello->major),
			le16_to_cpu(hello->minor), VNODE_PROTO_MAJOR,
			VNODE_PROTO_MINOR);
		return VNODE_ST_VERSION;
	}
	nr = le16_to_cpu(hello->nr_queues);
	qid = le16_to_cpu(hello->queue_id);
	if (hello->role < VNODE_ROLE_MEM || hello->role > VNODE_ROLE_STOR ||
	    !nr || nr > VNODE_XPRT_MAX_QUEUES || qid >= nr) {
		pr_warn_ratelimited("<%s@%pISpc> rejected: invalid hello (role %u queue %u/%u)\n",
				    name, src, hello->role, qid, nr);
		return VNODE_ST_INVALID;
	}
	return VNODE_ST_OK;
}

/*
 * Connect-rate limit per source address, a token bucket of
 * connect_rate per second and twice that in a burst: a flood of connect
 * requests (each costs a challenge and two HMACs) is refused before any
 * work.  srv->lock held.
 */
static bool srv_rate_ok(struct vnode_xprt_srv *srv, struct rdma_cm_id *cm_id)
{
	struct sockaddr_storage *src = &cm_id->route.addr.dst_addr;
	unsigned int rate = READ_ONCE(vnode_xprt_connect_rate);
	unsigned int burst = 2 * rate * HZ;
	struct srv_bucket *b, *slot = NULL;
	unsigned long now = jiffies, add;
	unsigned int i;

	if (!rate)
		return true;
	for (i = 0; i < SRV_NR_BUCKETS; i++) {
		b = &srv->bucket[i];
		if (b->used && vnode_addr_same_host(&b->addr, src)) {
			slot = b;
			break;
		}
		if (!slot || !b->used ||
		    (slot->used && time_before(b->last, slot->last)))
			slot = b;
	}
	if (!slot->used || !vnode_addr_same_host(&slot->addr, src)) {
		slot->used = true;
		slot->addr = *src;
		slot->tokens = burst;
		slot->last = now;
	}
	/* Refill: rate tokens a second, each token HZ units. */
	add = min_t(unsigned long, now - slot->last, 2UL * HZ) * rate;
	slot->tokens = min_t(unsigned long, slot->tokens + add, burst);
	slot->last = now;
	if (slot->tokens < HZ)
		return false;
	slot->tokens -= HZ;
	return true;
}

/* ------------------------------------------------------------------ */
/* Authentication (protocol 1.3, see proto.h)                          */
/* ------------------------------------------------------------------ */

/* What a successful handshake leaves for the accept's MAC. */
struct srv_auth {
	bool	done;
	u8	slot;
	u8	cnonce[VNODE_AUTH_NONCE_LEN];
	u8	snonce[VNODE_AUTH_SNONCE_LEN];
};

static void srv_reject_challenge(struct rdma_cm_id *cm_id,
				 const struct vnode_auth_challenge *ch)
{
	rdma_reject(cm_id, ch, sizeof(*ch), IB_CM_REJ_CONSUMER_DEFINED);
}

/* The challenge sent to queue @qid of @client_id at @src, or NULL. */
static struct srv_challenge *srv_find_challenge(struct vnode_xprt_srv *srv,
						struct sockaddr_storage *src,
						u64 client_id, u16 qid)
{
	struct srv_challenge *c;

	for (c = srv->chal; c < srv->chal + SRV_NR_CHALLENGES; c++)
		if (c->used && c->client_id == client_id &&
		    c->queue_id == qid && vnode_addr_same_host(&c->addr, src))
			return c;
	return NULL;
}

/* Step 2: remember a fresh challenge and send it.  srv->lock held. */
static int srv_auth_challenge(struct vnode_xprt_srv *srv,
			      struct rdma_cm_id *cm_id,
			      const struct vnode_hello *hello,
			      struct vnode_auth_challenge *ch)
{
	struct sockaddr_storage *src = &cm_id->route.addr.dst_addr;
	u64 client_id = le64_to_cpu(hello->client_id);
	u16 qid = le16_to_cpu(hello->queue_id);
	struct srv_challenge *c, *slot;
	int ret;

	/* A retry replaces its own; else a free slot, else the oldest. */
	slot = srv_find_challenge(srv, src, client_id, qid);
	if (!slot) {
		slot = srv->chal;
		for (c = srv->chal; c < srv->chal + SRV_NR_CHALLENGES; c++) {
			if (!c->used) {
				slot = c;
				break;
			}
			if (time_before(c->expires, slot->expires))
				slot = c;
		}
	}
	memset(ch, 0, sizeof(*ch));
	ch->rej.magic = cpu_to_le32(VNODE_MAGIC);
	ch->rej.status = cpu_to_le16(VNODE_ST_AUTH);
	ch->rej.major = cpu_to_le16(VNODE_PROTO_MAJOR);
	ch->rej.minor = cpu_to_le16(VNODE_PROTO_MINOR);
	ch->rej.flags = VNODE_REJECT_F_CHALLENGE;
	get_random_bytes(ch->snonce, sizeof(ch->snonce));
	ret = vnode_auth_hello_mac(VNODE_AUTH_CURRENT, VNODE_AUTH_LABEL_SERVER,
				   hello, hello->auth_data, ch->snonce,
				   ch->smac);
	if (ret)
		return ret;
	ret = vnode_auth_hello_mac(VNODE_AUTH_PREVIOUS, VNODE_AUTH_LABEL_SERVER,
				   hello, hello->auth_data, ch->snonce,
				   ch->smac_prev);
	if (ret && ret != -ENOKEY)
		return ret;

	slot->used = true;
	slot->addr = *src;
	slot->client_id = client_id;
	slot->queue_id = qid;
	memcpy(slot->ident, hello->name, sizeof(slot->ident));
	slot->expires = jiffies + msecs_to_jiffies(VNODE_AUTH_CHALLENGE_MS);
	memcpy(slot->cnonce, hello->auth_data, sizeof(slot->cnonce));
	memcpy(slot->snonce, ch->snonce, sizeof(slot->snonce));
	return 0;
}

/* Step 4: check a response against the challenge it answers. */
static u16 srv_auth_response(struct vnode_xprt_srv *srv,
			     struct rdma_cm_id *cm_id,
			     const struct vnode_hello *hello,
			     struct srv_auth *auth)
{
	struct sockaddr_storage *src = &cm_id->route.addr.dst_addr;
	u64 client_id = le64_to_cpu(hello->client_id);
	u16 qid = le16_to_cpu(hello->queue_id);
	struct srv_challenge *c;
	u8 mac[VNODE_AUTH_HMAC_LEN];
	bool expired;
	unsigned int i;

	c = srv_find_challenge(srv, src, client_id, qid);
	if (!c)
		return VNODE_ST_AUTH;
	/* One use, whatever the outcome: a replay finds nothing. */
	c->used = false;
	expired = time_after(jiffies, c->expires);
	memcpy(auth->cnonce, c->cnonce, sizeof(auth->cnonce));
	memcpy(auth->snonce, c->snonce, sizeof(auth->snonce));
	/* The identity challenged is the one that answers. */
	if (memcmp(c->ident, hello->name, sizeof(c->ident)))
		expired = true;
	memzero_explicit(c, sizeof(*c));
	if (expired)
		return VNODE_ST_AUTH;
	for (i = 0; i < VNODE_AUTH_NR_SLOTS; i++) {
		if (vnode_auth_hello_mac(i, VNODE_AUTH_LABEL_CLIENT, hello,
					 auth->cnonce, auth->snonce, mac))
			continue;
		if (!crypto_memneq(mac, hello->auth_data, VNODE_AUTH_MAC_LEN)) {
			auth->done = true;
			auth->slot = i;
			return VNODE_ST_OK;
		}
	}
	return VNODE_ST_AUTH;
}

/*
 * Authenticate a connect request before anything is set up for it.
 * Returns VNODE_ST_OK to go on (@auth says whether the client proved the
 * key), or a status to reject with; *challenged is set when the reject
 * was already sent (a challenge).  srv->lock held.
 */
static u16 srv_authenticate(struct vnode_xprt_srv *srv,
			    struct rdma_cm_id *cm_id,
			    const struct vnode_hello *hello,
			    struct srv_auth *auth, bool *challenged)
{
	struct sockaddr *src = (struct sockaddr *)&cm_id->route.addr.dst_addr;
	struct vnode_auth_challenge ch;
	char name[sizeof(hello->name) + 1];
	const char *why;
	u16 status;

	srv_sanitize_name(name, hello);
	if (!vnode_auth_can_serve()) {
		if (vnode_auth_insecure() && hello->auth == VNODE_AUTH_NONE)
			return VNODE_ST_OK;
		why = vnode_auth_insecure() ?
			"it wants to authenticate, but we have no cluster key" :
			"we have no cluster key (configfs vnode_xprt/key; an identity key is not enough to serve) and are not insecure";
		goto refuse;
	}
	if (!vnode_auth_valid_identity(hello->name)) {
		why = "its name is not a valid identity";
		goto refuse;
	}
	switch (hello->auth) {
	case VNODE_AUTH_INIT:
		if (srv_auth_challenge(srv, cm_id, hello, &ch)) {
			why = "cannot compute a challenge";
			goto refuse;
		}
		srv_reject_challenge(cm_id, &ch);
		*challenged = true;
		return VNODE_ST_AUTH;
	case VNODE_AUTH_RESPONSE:
		status = srv_auth_response(srv, cm_id, hello, auth);
		if (status == VNODE_ST_OK)
			return status;
		why = "wrong key for its identity, or a response to no (or an expired) challenge";
		goto refuse;
	default:
		why = hello->auth == VNODE_AUTH_NONE ?
			"it does not authenticate (no key, or protocol < 1.3)" :
			"unknown auth step";
		goto refuse;
	}
refuse:
	pr_warn_ratelimited("<%s@%pISpc> rejected (client %016llx, role %u, queue %u): authentication failed: %s\n",
			    name, src, le64_to_cpu(hello->client_id),
			    hello->role, le16_to_cpu(hello->queue_id), why);
	return VNODE_ST_AUTH;
}

/*
 * A client reconnects its queues in order, 0 first, and only after it
 * tore all of them down: queues of @peer with an id >= @qid are from
 * before.  Fail them (their commands that did not commit yet never will,
 * see vnode_xprt_sreq_begin_commit()), and refuse the new queue while a
 * command of theirs is still committing.  srv->lock held.
 */
static u16 srv_fence_old_queues(struct vnode_xprt_peer *peer, u16 qid)
{
	struct vnode_xprt_squeue *q;
	bool old = false;

	list_for_each_entry(q, &peer->queues, entry) {
		if (q->queue_id >= qid) {
			old = true;
			srv_queue_error(q, "the client reconnected it");
		}
	}
	if (!old)
		return VNODE_ST_OK;
	/* Every old queue is !SQ_LIVE now: no new commit can begin. */
	if (!down_write_trylock(&peer->fence)) {
		peer_log(info, peer, "queue %u: a command of its old queues is still committing, refused for now\n",
			 qid);
		return VNODE_ST_BUSY;
	}
	up_write(&peer->fence);
	return VNODE_ST_OK;
}

bool vnode_xprt_sreq_begin_commit(struct vnode_xprt_sreq *sreq)
{
	struct vnode_xprt_srx *rx = container_of(sreq, struct vnode_xprt_srx,
						 sreq);
	struct vnode_xprt_peer *peer = rx->queue->peer;

	down_read(&peer->fence);
	if (test_bit(SQ_LIVE, &rx->queue->flags))
		return true;
	up_read(&peer->fence);
	peer_log(info, peer, "queue %u is gone: a command of it is not committed (fenced)\n",
		 rx->queue->queue_id);
	return false;
}
EXPORT_SYMBOL_GPL(vnode_xprt_sreq_begin_commit);

void vnode_xprt_sreq_end_commit(struct vnode_xprt_sreq *sreq)
{
	struct vnode_xprt_srx *rx = container_of(sreq, struct vnode_xprt_srx,
						 sreq);

	up_read(&rx->queue->peer->fence);
}
EXPORT_SYMBOL_GPL(vnode_xprt_sreq_end_commit);

static int srv_connect_request(struct vnode_xprt_srv *srv,
			       struct rdma_cm_id *cm_id,
			       struct rdma_cm_event *ev)
{
	const struct vnode_hello *hello = ev->param.conn.private_data;
	struct vnode_xprt_peer *peer;
	struct vnode_xprt_squeue *q;
	struct rdma_conn_param param = {};
	struct srv_auth auth = {};
	struct vnode_accept acc;
	bool new_peer = false, challenged = false;
	u16 status;
	int ret;

	status = srv_check_hello(srv, cm_id, hello,
				 ev->param.conn.private_data_len);
	if (status != VNODE_ST_OK)
		goto out_reject;

	mutex_lock(&srv->lock);
	if (srv->stopping) {
		status = VNODE_ST_SHUTDOWN;
		goto out_unlock_reject;
	}
	if (!srv_rate_ok(srv, cm_id)) {
		pr_warn_ratelimited("<%s> rejecting %pISpc: more than %u connect requests a second\n",
				    srv->name, &cm_id->route.addr.dst_addr,
				    vnode_xprt_connect_rate);
		status = VNODE_ST_BUSY;
		goto out_unlock_reject;
	}
	status = srv_authenticate(srv, cm_id, hello, &auth, &challenged);
	if (challenged) {
		mutex_unlock(&srv->lock);
		return -ECONNREFUSED;
	}
	if (status != VNODE_ST_OK)
		goto out_unlock_reject;
	peer = srv_find_peer(srv, le64_to_cpu(hello->client_id));
	if (peer) {
		if (peer->dying || peer->ibdev != cm_id->device ||
		    peer->role != hello->role) {
			peer_log(warn, peer, "rejecting queue %u: %s\n",
				 le16_to_cpu(hello->queue_id),
				 peer->dying ? "peer is going away" :
				 "device or role differs from its other queues");
			status = peer->dying ? VNODE_ST_SHUTDOWN :
				VNODE_ST_INVALID;
			goto out_unlock_reject;
		}
		/* A session belongs to the identity that opened it. */
		if (memcmp(peer->ident, hello->name, sizeof(peer->ident))) {
			char name[sizeof(hello->name) + 1];

			srv_sanitize_name(name, hello);
			peer_log(warn, peer, "rejecting queue %u from %pISpc: identity '%s' is not the session's\n",
				 le16_to_cpu(hello->queue_id),
				 &cm_id->route.addr.dst_addr, name);
			status = VNODE_ST_PERM;
			goto out_unlock_reject;
		}
		if (le16_to_cpu(hello->nr_queues) != peer->nr_queues) {
			peer_log(warn, peer, "rejecting queue %u: it says %u queues, its first said %u\n",
				 le16_to_cpu(hello->queue_id),
				 le16_to_cpu(hello->nr_queues), peer->nr_queues);
			status = VNODE_ST_INVALID;
			goto out_unlock_reject;
		}
		status = srv_fence_old_queues(peer,
					      le16_to_cpu(hello->queue_id));
		if (status != VNODE_ST_OK)
			goto out_unlock_reject;
	} else {
		if (list_count_nodes(&srv->peers) >=
		    READ_ONCE(vnode_xprt_max_peers)) {
			pr_warn_ratelimited("<%s> rejecting client %016llx from %pISpc: %u clients already (max_peers)\n",
					    srv->name,
					    le64_to_cpu(hello->client_id),
					    &cm_id->route.addr.dst_addr,
					    READ_ONCE(vnode_xprt_max_peers));
			status = VNODE_ST_BUSY;
			goto out_unlock_reject;
		}
		peer = srv_new_peer(srv, cm_id, hello);
		if (!peer) {
			status = VNODE_ST_NOMEM;
			goto out_unlock_reject;
		}
		status = srv->ops->accept(peer, hello, &peer->priv);
		if (status != VNODE_ST_OK) {
			peer_log(warn, peer, "rejected: %s\n",
				 vnode_xprt_status_str(status));
			ib_dealloc_pd(peer->pd);
			kfree(peer);
			goto out_unlock_reject;
		}
		list_add_tail(&peer->entry, &srv->peers);
		new_peer = true;
	}

	q = srv_queue_create(peer, cm_id, le16_to_cpu(hello->queue_id));
	if (IS_ERR(q)) {
		status = VNODE_ST_NOMEM;
		goto out_drop_peer;
	}

	spin_lock(&srv->acc_lock);
	acc = srv->acc;
	spin_unlock(&srv->acc_lock);
	if (!new_peer)
		acc.flags = cpu_to_le32(VNODE_ACCEPT_F_RESUMED);
	if (auth.done) {
		acc.flags |= cpu_to_le32(VNODE_ACCEPT_F_AUTH);
		if (vnode_auth_accept_mac(auth.slot, hello->name, &acc,
					  auth.cnonce, auth.snonce, acc.amac))
			memset(acc.amac, 0, sizeof(acc.amac));
	}
	param.private_data = &acc;
	param.private_data_len = sizeof(acc);
	/*
	 * The client READs from us (slabs) and an asynchronous server READs
	 * from the client (its registered buffers).  In the event,
	 * responder_resources is the client's initiator depth and
	 * initiator_depth its responder resources.
	 */
	param.responder_resources =
		min_t(int, ev->param.conn.responder_resources,
		      cm_id->device->attrs.max_qp_rd_atom);
	param.initiator_depth =
		min_t(int, ev->param.conn.initiator_depth,
		      cm_id->device->attrs.max_qp_init_rd_atom);
	param.flow_control = 1;
	param.retry_count = VNODE_XPRT_RETRY_COUNT;
	param.rnr_retry_count = 7;

	q->cm_id = cm_id;
	rdma_set_ack_timeout(cm_id, vnode_xprt_ack_timeout);
	list_add_tail(&q->entry, &peer->queues);
	set_bit(SQ_LIVE, &q->flags);
	/* A lost peer came back: keep its state. */
	if (!new_peer && cancel_delayed_work(&peer->orphan_work))
		peer_log(info, peer, "reconnected, state kept\n");
	ret = rdma_accept(cm_id, &param);
	if (ret) {
		peer_log(err, peer, "rdma_accept failed: %d\n", ret);
		clear_bit(SQ_LIVE, &q->flags);
		list_del_init(&q->entry);
		q->cm_id = NULL;
		cm_id->qp = NULL;
		srv_queue_destroy_ib(q);
		kfree(q);
		status = VNODE_ST_NOMEM;
		goto out_drop_peer;
	}
	mutex_unlock(&srv->lock);

	if (new_peer)
		peer_log(info, peer, "client %016llx connected (role %u, %u queue(s))\n",
			 peer->client_id, peer->role,
			 le16_to_cpu(hello->nr_queues));
	return 0;

out_drop_peer:
	if (list_empty(&peer->queues)) {
		if (new_peer) {
			peer->dropped = true;
			list_del_init(&peer->entry);
			atomic_inc(&srv->freeing);
			mutex_unlock(&srv->lock);
			srv_reject(cm_id, status);
			srv_peer_free(peer, true);
			return -ENOMEM;
		}
		mod_delayed_work(vnode_xprt_wq, &peer->orphan_work,
				 msecs_to_jiffies(srv->orphan_ms));
	}
out_unlock_reject:
	mutex_unlock(&srv->lock);
out_reject:
	srv_reject(cm_id, status);
	/* Non-zero: rdma_cm destroys the new id for us. */
	return -ECONNREFUSED;
}

static int srv_cm_handler(struct rdma_cm_id *cm_id, struct rdma_cm_event *ev)
{
	struct vnode_xprt_squeue *q;

	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
		return srv_connect_request(cm_id->context, cm_id, ev);

	if (!cm_id->qp) {
		/* The listener itself. */
		struct vnode_xprt_srv *srv = cm_id->context;

		if (ev->event == RDMA_CM_EVENT_DEVICE_REMOVAL &&
		    cmpxchg(&srv->listen_id, cm_id, NULL) == cm_id) {
			pr_warn("<%s> listener lost its device, no longer listening on %s\n",
				srv->name, srv->addr);
			return 1;	/* rdma_cm destroys it */
		}
		return 0;
	}

	q = cm_id->qp->qp_context;
	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		srv_queue_error(q, rdma_event_msg(ev->event));
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Drop every peer on @ibdev (all peers when NULL) and wait, bounded, for
 * them to be freed.  Their queues disconnect; orphans are freed now.
 */
static void srv_drop_peers(struct vnode_xprt_srv *srv, struct ib_device *ibdev)
{
	struct vnode_xprt_peer *peer, *tmp;
	struct vnode_xprt_squeue *q;
	LIST_HEAD(orphans);
	unsigned long deadline;
	bool left;

	mutex_lock(&srv->lock);
	list_for_each_entry_safe(peer, tmp, &srv->peers, entry) {
		if (ibdev && peer->ibdev != ibdev)
			continue;
		peer->dying = true;
		if (list_empty(&peer->queues)) {
			peer->dropped = true;
			list_move(&peer->entry, &orphans);
			atomic_inc(&srv->freeing);
			continue;
		}
		list_for_each_entry(q, &peer->queues, entry)
			srv_queue_error(q, ibdev ? "device removed" :
					"server stopping");
	}
	mutex_unlock(&srv->lock);

	list_for_each_entry_safe(peer, tmp, &orphans, entry) {
		list_del_init(&peer->entry);
		srv_peer_free(peer, true);
	}

	/* Release works are bounded (drain never waits for the remote). */
	deadline = jiffies + msecs_to_jiffies(SRV_DRAIN_TIMEOUT_MS);
	for (;;) {
		/*
		 * Also those a release or orphan work took off the list and is
		 * still freeing: their PD and MRs are on a device that must not
		 * go away under them (any device's count, for simplicity).
		 * Read under the lock that takes a peer off the list and counts
		 * it, so that a peer moving from one to the other is seen.
		 */
		mutex_lock(&srv->lock);
		left = atomic_read(&srv->freeing) > 0;
		list_for_each_entry(peer, &srv->peers, entry)
			if (!ibdev || peer->ibdev == ibdev)
				left = true;
		mutex_unlock(&srv->lock);
		if (!left)
			break;
		if (time_after(jiffies, deadline)) {
			pr_err("<%s> peers did not go away within %u ms\n",
			       srv->name, SRV_DRAIN_TIMEOUT_MS);
			break;
		}
		msleep(20);
	}
}

void vnode_xprt_srv_remove_dev(struct ib_device *ibdev)
{
	struct vnode_xprt_srv *srv;

	mutex_lock(&vnode_xprt_srv_list_lock);
	list_for_each_entry(srv, &vnode_xprt_srv_list, entry)
		srv_drop_peers(srv, ibdev);
	mutex_unlock(&vnode_xprt_srv_list_lock);
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

struct vnode_xprt_srv *vnode_xprt_srv_listen(const struct vnode_xprt_cfg *cfg,
					     const struct vnode_xprt_srv_ops *ops,
					     void *priv,
					     const struct vnode_accept *acc)
{
	struct vnode_xprt_srv *srv;
	struct rdma_cm_id *id;
	int ret;

	if (!cfg || !ops || !ops->accept || !(ops->request || ops->submit) ||
	    !ops->disconnect || !acc)
		return ERR_PTR(-EINVAL);
	if (cfg->cmd_depth > VNODE_XPRT_MAX_CMD_DEPTH ||
	    cfg->inline_size > VNODE_XPRT_MAX_INLINE)
		return ERR_PTR(-EINVAL);
	if (cfg->addr.ss_family != AF_INET && cfg->addr.ss_family != AF_INET6)
		return ERR_PTR(-EINVAL);

	srv = vnode_fault(kzalloc(sizeof(*srv), GFP_KERNEL));
	if (!srv)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&srv->entry);
	INIT_LIST_HEAD(&srv->peers);
	mutex_init(&srv->lock);
	spin_lock_init(&srv->acc_lock);
	init_waitqueue_head(&srv->wait);
	INIT_DELAYED_WORK(&srv->ka_work, srv_ka_work);
	srv->ops = ops;
	srv->priv = priv;
	srv->orphan_ms = cfg->loss_timeout_ms ?: VNODE_XPRT_DEF_LOSS_MS;
	strscpy(srv->name, cfg->name ?: "vnode", sizeof(srv->name));
	snprintf(srv->addr, sizeof(srv->addr), "%pISpc", &cfg->addr);
	srv->acc = *acc;
	srv->acc.magic = cpu_to_le32(VNODE_MAGIC);
	srv->acc.major = cpu_to_le16(VNODE_PROTO_MAJOR);
	srv->acc.minor = cpu_to_le16(VNODE_PROTO_MINOR);
	srv->depth = VNODE_XPRT_CTRL_DEPTH + cfg->cmd_depth;
	srv->rx_size = VNODE_MSG_MAX + cfg->inline_size;
	srv->acc.max_inflight = cpu_to_le16(srv->depth);

	id = vnode_fault_err(rdma_create_id(&init_net, srv_cm_handler, srv,
					    RDMA_PS_TCP, IB_QPT_RC));
	if (IS_ERR(id)) {
		ret = PTR_ERR(id);
		goto out_free;
	}
	ret = rdma_bind_addr(id, (struct sockaddr *)&cfg->addr);
	if (ret) {
		pr_err("<%s> cannot bind %s: %d\n", srv->name, srv->addr, ret);
		goto out_destroy_id;
	}
	ret = rdma_listen(id, 128);
	if (ret) {
		pr_err("<%s> cannot listen on %s: %d\n", srv->name, srv->addr,
		       ret);
		goto out_destroy_id;
	}
	srv->listen_id = id;

	mutex_lock(&vnode_xprt_srv_list_lock);
	list_add(&srv->entry, &vnode_xprt_srv_list);
	mutex_unlock(&vnode_xprt_srv_list_lock);
	if (vnode_xprt_keepalive_ms)
		queue_delayed_work(vnode_xprt_wq, &srv->ka_work,
				   msecs_to_jiffies(vnode_xprt_keepalive_ms));
	pr_info("<%s> listening on %s\n", srv->name, srv->addr);
	return srv;

out_destroy_id:
	rdma_destroy_id(id);
out_free:
	kfree(srv);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vnode_xprt_srv_listen);

void vnode_xprt_srv_set_usage(struct vnode_xprt_srv *srv, u64 capacity,
			      u64 used)
{
	spin_lock(&srv->acc_lock);
	srv->acc.capacity = cpu_to_le64(capacity);
	srv->acc.used = cpu_to_le64(used);
	spin_unlock(&srv->acc_lock);
}
EXPORT_SYMBOL_GPL(vnode_xprt_srv_set_usage);

void vnode_xprt_srv_stop(struct vnode_xprt_srv *srv)
{
	struct rdma_cm_id *id;

	if (IS_ERR_OR_NULL(srv))
		return;

	mutex_lock(&vnode_xprt_srv_list_lock);
	list_del_init(&srv->entry);
	mutex_unlock(&vnode_xprt_srv_list_lock);

	mutex_lock(&srv->lock);
	srv->stopping = true;
	mutex_unlock(&srv->lock);
	cancel_delayed_work_sync(&srv->ka_work);

	/* No more connect requests once this returns. */
	id = xchg(&srv->listen_id, NULL);
	if (id)
		rdma_destroy_id(id);

	srv_drop_peers(srv, NULL);
	/* Release and orphan works of this server are done. */
	flush_workqueue(vnode_xprt_teardown_wq);
	flush_workqueue(vnode_xprt_wq);
	pr_info("<%s> stopped listening on %s\n", srv->name, srv->addr);
	if (list_empty(&srv->peers) && !atomic_read(&srv->freeing))
		kfree(srv);
	/* else: leaked on purpose rather than freed under live peers */
}
EXPORT_SYMBOL_GPL(vnode_xprt_srv_stop);

const char *vnode_xprt_peer_addr(struct vnode_xprt_peer *peer)
{
	return peer->addr;
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_addr);

u64 vnode_xprt_peer_client_id(struct vnode_xprt_peer *peer)
{
	return peer->client_id;
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_client_id);

u8 vnode_xprt_peer_role(struct vnode_xprt_peer *peer)
{
	return peer->role;
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_role);

u16 vnode_xprt_peer_proto_minor(struct vnode_xprt_peer *peer)
{
	return peer->minor;
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_proto_minor);

const char *vnode_xprt_peer_name(struct vnode_xprt_peer *peer)
{
	return peer->name;
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_name);

struct srv_reg_ctx {
	struct ib_cqe		cqe;
	struct completion	done;
	enum ib_wc_status	wc_status;
	bool			reg;	/* the REG_MR itself, not the WRITE */
	u16			queue_id;
};

static void srv_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct srv_reg_ctx *ctx = container_of(wc->wr_cqe, struct srv_reg_ctx,
					       cqe);
	struct vnode_xprt_squeue *q = cq->cq_context;

	ctx->wc_status = wc->status;
	/* Any failure leaves the QP in error: that queue is finished. */
	if (wc->status != IB_WC_SUCCESS)
		srv_queue_error(q, ib_wc_status_msg(wc->status));
	if (ctx->reg || wc->status != IB_WC_SUCCESS)
		clear_bit(SQ_REG, &q->flags);
	complete(&ctx->done);
}

/*
 * Post @wr on a live queue of @peer (on *@used only, once that is set:
 * the queue is looked up again, it may be gone) and wait for it.  The
 * queue is marked SQ_REG first, so no keepalive is posted behind it.
 * 0; -ENOTCONN if no such queue is live; -EIO if the WR failed
 * (ctx->wc_status).  A queue that makes no progress is declared broken
 * after SRV_REG_TIMEOUT_MS; its drain then flushes the WR.
 */
static int srv_reg_post_wait(struct vnode_xprt_peer *peer,
			     struct ib_send_wr *wr, struct srv_reg_ctx *ctx,
			     struct vnode_xprt_squeue **used)
{
	struct vnode_xprt_srv *srv = peer->srv;
	struct vnode_xprt_squeue *q, *found = NULL;
	int ret;

	init_completion(&ctx->done);
	ctx->wc_status = IB_WC_GENERAL_ERR;
	mutex_lock(&srv->lock);
	list_for_each_entry(q, &peer->queues, entry) {
		if (*used && q != *used)
			continue;
		ret = -ENOTCONN;
		atomic_inc(&q->posting);
		/* Pairs with the barrier in release: see srv_send_rsp(). */
		smp_mb__after_atomic();
		if (test_bit(SQ_LIVE, &q->flags)) {
			set_bit(SQ_REG, &q->flags);
			ret = ib_post_send(q->qp, wr, NULL);
			if (ret) {
				clear_bit(SQ_REG, &q->flags);
				srv_queue_error(q, "REG_MR post failed");
			}
		}
		atomic_dec(&q->posting);
		if (!ret) {
			found = q;
			break;
		}
	}
	mutex_unlock(&srv->lock);
	if (!found)
		return -ENOTCONN;
	*used = found;
	ctx->queue_id = found->queue_id;
	/* The WR references ctx on our stack: wait until it completed. */
	if (!wait_for_completion_timeout(&ctx->done,
					 msecs_to_jiffies(SRV_REG_TIMEOUT_MS))) {
		srv_queue_error(found, "REG_MR timed out");
		wait_for_completion(&ctx->done);
	}
	return ctx->wc_status == IB_WC_SUCCESS ? 0 : -EIO;
}

/* A fast-reg MR of the peer's PD mapping @sgl (@n DMA entries), new key. */
static struct ib_mr *srv_alloc_mr(struct vnode_xprt_peer *peer,
				  struct scatterlist *sgl, int n,
				  unsigned int pages)
{
	struct ib_mr *mr;
	int ret;

	mr = vnode_fault_err(ib_alloc_mr(peer->pd, IB_MR_TYPE_MEM_REG,
					 vnode_fr_mr_pages(peer->ibdev, pages)));
	if (IS_ERR(mr)) {
		peer_log(err, peer, "ib_alloc_mr(%u pages) failed: %ld\n",
			 pages, PTR_ERR(mr));
		return mr;
	}
	ret = ib_map_mr_sg(mr, sgl, n, NULL, PAGE_SIZE);
	if (ret != n) {
		peer_log(err, peer, "ib_map_mr_sg mapped %d of %d\n", ret, n);
		ib_dereg_mr(mr);
		return ERR_PTR(ret < 0 ? ret : -EINVAL);
	}
	/*
	 * The client sees mr->iova: on rxe it is a kernel address.  Any
	 * page-aligned value works for a fast registration (xprtrdma puts
	 * its xid there), so hand out a random one below 2^47.
	 */
	mr->iova = get_random_u64() & GENMASK_ULL(46, PAGE_SHIFT);
	ib_update_fast_reg_key(mr, ib_inc_rkey(mr->rkey));
	return mr;
}

struct ib_mr *vnode_xprt_peer_reg_mr(struct vnode_xprt_peer *peer,
				     struct scatterlist *sgl, int nents)
{
	struct ib_device *ibdev = peer->ibdev;
	struct vnode_xprt_squeue *q = NULL;
	struct srv_reg_ctx ctx;
	struct ib_rdma_wr probe;
	struct ib_reg_wr wr = {};
	struct scatterlist *sg;
	struct ib_mr *mr;
	unsigned long bytes = 0;
	unsigned int pages;
	int i, n, ret, tries;

	if (!peer || !sgl || nents <= 0)
		return ERR_PTR(-EINVAL);
	for_each_sg(sgl, sg, nents, i) {
		if (sg->offset || !PAGE_ALIGNED(sg->length))
			return ERR_PTR(-EINVAL);
		bytes += sg->length;
	}
	pages = bytes >> PAGE_SHIFT;
	if (!pages || pages > ibdev->attrs.max_fast_reg_page_list_len) {
		peer_log(err, peer, "cannot register %u pages: %s allows at most %u per fast-reg MR\n",
			 pages, dev_name(&ibdev->dev),
			 ibdev->attrs.max_fast_reg_page_list_len);
		return ERR_PTR(-EINVAL);
	}

	mutex_lock(&peer->reg_lock);
	n = ib_dma_map_sg(ibdev, sgl, nents, DMA_BIDIRECTIONAL);
	if (!n) {
		ret = -EIO;
		goto out_unlock;
	}

	ctx.cqe.done = srv_reg_done;
	/* The quiescing WRITE: the same zero-byte WRITE as a keepalive. */
	vnode_xprt_zero_write_wr(&probe, &ctx.cqe);
	wr.wr.opcode = IB_WR_REG_MR;
	wr.wr.wr_cqe = &ctx.cqe;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
		    IB_ACCESS_REMOTE_WRITE;
	/*
	 * The REG_MR goes on a quiet send queue.  rxe (6.1) re-executes an
	 * executed but not yet completed REG_MR when a retransmission
	 * rewinds the send queue, fails it ("rxe_reg_fast_mr: ... not
	 * free") and stops the queue.  A retransmission needs an
	 * unacknowledged packet: so first a zero-byte WRITE, whose
	 * completion means everything before it on the queue was
	 * acknowledged, and no keepalive behind it (SQ_REG) until the
	 * REG_MR completed.  Responses to this peer are not sent meanwhile:
	 * its requests are served one at a time, and this is one.
	 *
	 * A queue that is dying but not yet noticed flushes the WRs: try
	 * another of the peer's queues (the failed one is off the list of
	 * live queues by then), with a new MR: a flushed REG_MR may have
	 * been executed.
	 */
	for (tries = 0; ; tries++) {
		mr = srv_alloc_mr(peer, sgl, n, pages);
		if (IS_ERR(mr)) {
			ret = PTR_ERR(mr);
			goto out_unmap;
		}
		wr.mr = mr;
		wr.key = mr->rkey;
		q = NULL;
		ctx.reg = false;
		ret = srv_reg_post_wait(peer, &probe.wr, &ctx, &q);
		if (ret == -ENOTCONN) {
			/* No live queue at all. */
			ib_dereg_mr(mr);
			goto out_unmap;
		}
		if (!ret) {
			ctx.reg = true;
			ret = srv_reg_post_wait(peer, &wr.wr, &ctx, &q);
		}
		if (!ret)
			break;
		ib_dereg_mr(mr);
		/* -ENOTCONN now: the queue went away after the WRITE. */
		if (ret == -EIO) {
			peer_log(warn, peer, "%s of %u pages on queue %u failed: %s\n",
				 ctx.reg ? "REG_MR" : "quiescing WRITE for REG_MR",
				 pages, ctx.queue_id,
				 ib_wc_status_msg(ctx.wc_status));
			if (ctx.wc_status != IB_WC_WR_FLUSH_ERR)
				tries = 2;
		}
		if (tries >= 2) {
			ret = -EIO;
			goto out_unmap;
		}
	}
	mutex_unlock(&peer->reg_lock);
	return mr;

out_unmap:
	ib_dma_unmap_sg(ibdev, sgl, nents, DMA_BIDIRECTIONAL);
out_unlock:
	mutex_unlock(&peer->reg_lock);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_reg_mr);

void vnode_xprt_peer_dereg_mr(struct vnode_xprt_peer *peer, struct ib_mr *mr,
			      struct scatterlist *sgl, int nents)
{
	if (IS_ERR_OR_NULL(mr))
		return;
	/* Destroying the MR invalidates its rkey for every queue. */
	ib_dereg_mr(mr);
	if (sgl && nents > 0)
		ib_dma_unmap_sg(peer->ibdev, sgl, nents, DMA_BIDIRECTIONAL);
}
EXPORT_SYMBOL_GPL(vnode_xprt_peer_dereg_mr);

int vnode_xprt_srv_init(void)
{
	return 0;
}

void vnode_xprt_srv_exit(void)
{
	WARN_ON(!list_empty(&vnode_xprt_srv_list));
}
