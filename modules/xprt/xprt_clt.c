// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt client: nr_queues RC QPs to one server, control RPCs on
 * queue 0, one-sided RDMA READ/WRITE of pages on the queue of the current
 * CPU, and loss handling (error work -> teardown -> delayed reconnect ->
 * DEAD after the loss timeout).
 *
 * Over 1,000 lines: connection management (queue setup, CM events,
 * teardown, reconnect, device removal), the control calls and the
 * one-sided RDMA path share the queues' completion handlers and state
 * checks.  The asynchronous command path, which keeps to itself, is in
 * xprt_clt_cmd.c.
 */
#include "xprt_priv.h"

#include <crypto/algapi.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

static LIST_HEAD(vnode_xprt_clt_list);
static DEFINE_MUTEX(vnode_xprt_clt_list_lock);

static void clt_recv_done(struct ib_cq *cq, struct ib_wc *wc);

/*
 * Tell the owner about the state changes since the last report: the
 * owner sees the latest state, and a server that lost our state with
 * the first LIVE after it (clt->state_lost stays set until then, however
 * the reports of the changes in between were merged).
 */
static void clt_report(struct vnode_xprt_clt *clt)
{
	enum vnode_xprt_state old, new;
	unsigned long flags;
	bool lost = false;

	spin_lock_irqsave(&clt->state_lock, flags);
	old = clt->reported;
	new = clt->state;
	clt->reported = new;
	if (old != new && new == VNODE_XPRT_LIVE) {
		lost = clt->state_lost;
		clt->state_lost = false;
	}
	spin_unlock_irqrestore(&clt->state_lock, flags);

	if (old == new)
		return;
	clt_log(info, clt, "state %s -> %s%s\n", vnode_xprt_state_str(old),
		vnode_xprt_state_str(new),
		lost ? " (the server lost our state)" : "");
	if (clt->ops && clt->ops->state_change)
		clt->ops->state_change(clt, old, new, lost, clt->priv);
}

/*
 * The one place the client's state changes (nvme_change_ctrl_state(),
 * rtrs_clt_change_state()).  The legal transitions, and who makes them:
 *
 *   CONNECTING   -> LIVE          every queue connected (clt_connect_all()
 *                                 from vnode_xprt_clt_open())
 *   LIVE         -> RECONNECTING  a queue failed (clt_queue_error())
 *   RECONNECTING -> LIVE          every queue reconnected (clt_connect_all()
 *                                 from clt_reconnect_work())
 *   RECONNECTING -> DEAD          no reconnect within the loss timeout
 *   all but CLOSED -> CLOSED      vnode_xprt_clt_close()
 *
 * CONNECTING is only the initial state.  Any other transition is refused:
 * nothing changes and false is returned, e.g. for a queue error while the
 * client is not LIVE (recovery already runs, or the client is DEAD or
 * CLOSED) or a reconnect that completes after close started.  Those are
 * expected races, so they are logged at debug level only.  state_lock
 * held, so that a caller can act on the change atomically with it.
 */
static bool clt_change_state_locked(struct vnode_xprt_clt *clt,
				    enum vnode_xprt_state new)
{
	enum vnode_xprt_state old = clt->state;
	bool changed = false;

	lockdep_assert_held(&clt->state_lock);
	switch (new) {
	case VNODE_XPRT_LIVE:
		changed = old == VNODE_XPRT_CONNECTING ||
			  old == VNODE_XPRT_RECONNECTING;
		break;
	case VNODE_XPRT_RECONNECTING:
		changed = old == VNODE_XPRT_LIVE;
		break;
	case VNODE_XPRT_DEAD:
		changed = old == VNODE_XPRT_RECONNECTING;
		break;
	case VNODE_XPRT_CLOSED:
		changed = old != VNODE_XPRT_CLOSED;
		break;
	case VNODE_XPRT_CONNECTING:
	default:
		break;
	}
	if (changed)
		WRITE_ONCE(clt->state, new);
	else
		clt_log(debug, clt, "state %s -> %s refused\n",
			vnode_xprt_state_str(old), vnode_xprt_state_str(new));
	return changed;
}

/* clt_change_state_locked() for callers that need nothing else locked. */
static bool clt_change_state(struct vnode_xprt_clt *clt,
			     enum vnode_xprt_state new)
{
	unsigned long flags;
	bool changed;

	spin_lock_irqsave(&clt->state_lock, flags);
	changed = clt_change_state_locked(clt, new);
	spin_unlock_irqrestore(&clt->state_lock, flags);
	return changed;
}

/*
 * A queue failed (CQ error, CM event, QP fatal event, or the owner's
 * reset).  Any context.  Stop new posts on it and, if the client was
 * LIVE, start recovery (true).
 */
bool clt_queue_error(struct vnode_xprt_queue *q, const char *why)
{
	struct vnode_xprt_clt *clt = q->clt;
	unsigned long flags;
	bool lost = false;

	clear_bit(VQ_LIVE, &q->flags);
	spin_lock_irqsave(&clt->state_lock, flags);
	lost = clt_change_state_locked(clt, VNODE_XPRT_RECONNECTING);
	if (lost)
		clt->loss_start = jiffies;
	spin_unlock_irqrestore(&clt->state_lock, flags);

	if (lost) {
		clt_log(warn, clt, "queue %u lost (%s), reconnecting\n",
			q->idx, why);
		queue_work(vnode_xprt_wq, &clt->err_work);
	}
	return lost;
}

/* Fail every control call waiting for a reply. */
static void clt_flush_waiters(struct vnode_xprt_clt *clt, int err)
{
	unsigned long flags;
	int i;

	spin_lock_irqsave(&clt->ctrl_lock, flags);
	for (i = 0; i < VNODE_XPRT_CTRL_DEPTH; i++) {
		struct vnode_xprt_slot *s = &clt->slots[i];

		if (s->waiting) {
			s->waiting = false;
			s->status = err;
			complete(&s->done);
		}
	}
	spin_unlock_irqrestore(&clt->ctrl_lock, flags);
}

static void clt_slot_put(struct vnode_xprt_slot *s)
{
	struct vnode_xprt_clt *clt = s->clt;
	unsigned long flags;

	if (!atomic_dec_and_test(&s->ref))
		return;
	spin_lock_irqsave(&clt->ctrl_lock, flags);
	__clear_bit(s - clt->slots, &clt->ctrl_map);
	spin_unlock_irqrestore(&clt->ctrl_lock, flags);
	up(&clt->ctrl_sem);
}

/* ------------------------------------------------------------------ */
/* Completions                                                         */
/* ------------------------------------------------------------------ */

static int clt_post_recv(struct vnode_xprt_queue *q, unsigned int idx)
{
	struct ib_sge sge = {
		.addr	= q->rx_dma + idx * VNODE_MSG_MAX,
		.length	= VNODE_MSG_MAX,
		.lkey	= q->dev->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe		= &q->rx[idx].cqe,
		.sg_list	= &sge,
		.num_sge	= 1,
	};

	ib_dma_sync_single_for_device(q->dev->ibdev, sge.addr, VNODE_MSG_MAX,
				      DMA_FROM_DEVICE);
	return ib_post_recv(q->qp, &wr, NULL);
}

static void clt_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_rx *rx = container_of(wc->wr_cqe,
						struct vnode_xprt_rx, cqe);
	struct vnode_xprt_queue *q = rx->queue;
	struct vnode_xprt_clt *clt = q->clt;
	const struct vnode_msg_hdr *hdr;
	struct vnode_xprt_slot *s;
	unsigned long flags;
	u64 addr;
	u32 tag, len;

	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			clt_queue_error(q, ib_wc_status_msg(wc->status));
		return;
	}

	addr = q->rx_dma + rx->idx * VNODE_MSG_MAX;
	ib_dma_sync_single_for_cpu(q->dev->ibdev, addr, VNODE_MSG_MAX,
				   DMA_FROM_DEVICE);
	hdr = q->rx_buf + rx->idx * VNODE_MSG_MAX;
	len = le32_to_cpu(hdr->len);
	if (wc->byte_len < sizeof(*hdr) ||
	    le32_to_cpu(hdr->magic) != VNODE_MAGIC ||
	    !(hdr->flags & VNODE_MSG_F_REPLY) ||
	    len < sizeof(*hdr) || len > wc->byte_len) {
		clt_log(warn, clt, "dropping malformed reply (%u bytes)\n",
			wc->byte_len);
		goto repost;
	}

	tag = le32_to_cpu(hdr->tag);
	if (tag & VNODE_XPRT_CMD_TAG) {
		clt_cmd_reply(q, wc, hdr, len);
		goto repost;
	}
	s = &clt->slots[tag % VNODE_XPRT_CTRL_DEPTH];
	spin_lock_irqsave(&clt->ctrl_lock, flags);
	if (s->waiting && s->tag == tag) {
		memcpy(s->rsp, hdr, len);
		s->rsp_len = len;
		s->status = 0;
		s->waiting = false;
		complete(&s->done);
	}
	spin_unlock_irqrestore(&clt->ctrl_lock, flags);

repost:
	if (test_bit(VQ_LIVE, &q->flags) && clt_post_recv(q, rx->idx))
		clt_queue_error(q, "RECV repost failed");
}

static void clt_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_slot *s = container_of(wc->wr_cqe,
						 struct vnode_xprt_slot, cqe);
	struct vnode_xprt_queue *q = cq->cq_context;

	ib_dma_unmap_single(s->ibdev, s->dma, s->req_len, DMA_TO_DEVICE);
	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		if (wc->status != IB_WC_WR_FLUSH_ERR)
			clt_queue_error(q, ib_wc_status_msg(wc->status));
		clt_flush_waiters(s->clt, -ENOTCONN);
	}
	clt_slot_put(s);
}

static void clt_rdma_unmap(struct vnode_xprt_queue *q,
			   struct vnode_xprt_io *io, unsigned int n)
{
	while (n--)
		ib_dma_unmap_page(q->dev->ibdev, io->sge[n].addr,
				  io->sge[n].length, io->dma_dir);
}

/* An RDMA op the fabric held (a successful one) is due. */
static void clt_rdma_fire(struct vnode_xprt_hold *h)
{
	struct vnode_xprt_io *io = container_of(h, struct vnode_xprt_io, hold);

	io->done(io, 0);
}

static void clt_rdma_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_io *io = container_of(wc->wr_cqe,
						struct vnode_xprt_io, cqe);
	struct vnode_xprt_queue *q = io->queue;
	int err = 0;

	clt_rdma_unmap(q, io, io->nr_sge);
	if (unlikely(wc->status != IB_WC_SUCCESS)) {
		if (wc->status == IB_WC_WR_FLUSH_ERR) {
			err = -ENOTCONN;
		} else {
			/*
			 * Retries exhausted: the peer stopped answering, which
			 * says nothing about its memory.  Report it like a
			 * flushed op (the queue error starts the reconnect),
			 * so the user holds it; any other status means the op
			 * itself was refused or broken.
			 */
			if (wc->status == IB_WC_RETRY_EXC_ERR ||
			    wc->status == IB_WC_RNR_RETRY_EXC_ERR)
				err = -ENOTCONN;
			else
				err = -EIO;
			clt_log(err, q->clt, "queue %u RDMA %s failed: %s\n",
				q->idx, io->dma_dir == DMA_TO_DEVICE ?
				"WRITE" : "READ",
				ib_wc_status_msg(wc->status));
			clt_queue_error(q, ib_wc_status_msg(wc->status));
		}
	}
	atomic_dec(&q->inflight);
	if (!vnode_fabric_hold(q->clt, &io->hold, err, clt_rdma_fire))
		io->done(io, err);
}

static void clt_ka_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_queue *q = container_of(wc->wr_cqe,
						  struct vnode_xprt_queue,
						  ka_cqe);

	clear_bit(VQ_KA_PENDING, &q->flags);
	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR) {
		clt_log(warn, q->clt, "queue %u keepalive failed: %s\n",
			q->idx, ib_wc_status_msg(wc->status));
		clt_queue_error(q, ib_wc_status_msg(wc->status));
	}
}

/*
 * How long a keepalive may stay uncompleted: a lost peer fails it after
 * the RC retries (retry_count + 1 ACK timeouts); a QP whose send queue
 * makes no progress at all never completes it.  That happened on the 6.1
 * rxe driver when REG_MRs shared the send queue with the commands: a
 * retransmission re-executed an already executed REG_MR (rxe_reg_fast_mr
 * "not free") and the QP stopped without completing anything.  REG_MR
 * and LOCAL_INV now go on the registration QP, which never retransmits;
 * this stays as the defence against any other stall.  Such a queue is
 * failed like a lost one.
 */
static unsigned long clt_ka_stuck_jiffies(void)
{
	u64 ack_ms = div_u64(4096ULL << vnode_xprt_ack_timeout, NSEC_PER_MSEC);

	return msecs_to_jiffies(3 * vnode_xprt_keepalive_ms +
				2 * (VNODE_XPRT_RETRY_COUNT + 1) * ack_ms);
}

static void clt_ka_work(struct work_struct *work)
{
	struct vnode_xprt_clt *clt = container_of(to_delayed_work(work),
						  struct vnode_xprt_clt,
						  ka_work);
	unsigned int i;

	for (i = 0; i < clt->nr_queues; i++) {
		struct vnode_xprt_queue *q = &clt->queues[i];

		atomic_inc(&q->posting);
		/* Pairs with the barrier in teardown. */
		smp_mb__after_atomic();
		if (!test_bit(VQ_LIVE, &q->flags)) {
			/* nothing to probe */
		} else if (test_and_set_bit(VQ_KA_PENDING, &q->flags)) {
			if (time_after(jiffies, READ_ONCE(q->ka_posted) +
				       clt_ka_stuck_jiffies()) &&
			    clt_queue_error(q, "send queue stuck"))
				clt_log(warn, clt, "queue %u: keepalive posted %u ms ago did not complete: send queue stuck\n",
					q->idx, jiffies_to_msecs(jiffies -
						READ_ONCE(q->ka_posted)));
		} else {
			WRITE_ONCE(q->ka_posted, jiffies);
			if (vnode_xprt_post_keepalive(q->qp, &q->ka_cqe)) {
				clear_bit(VQ_KA_PENDING, &q->flags);
				clt_queue_error(q, "keepalive post failed");
			}
		}
		atomic_dec(&q->posting);
	}
	if (!READ_ONCE(clt->closing))
		queue_delayed_work(vnode_xprt_wq, &clt->ka_work,
				   msecs_to_jiffies(vnode_xprt_keepalive_ms));
}

static void clt_qp_event(struct ib_event *ev, void *ctx)
{
	struct vnode_xprt_queue *q = ctx;

	switch (ev->event) {
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
		clt_queue_error(q, ib_event_msg(ev->event));
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Queue setup and teardown                                            */
/* ------------------------------------------------------------------ */

static void clt_queue_free(struct vnode_xprt_queue *q)
{
	kfree(q->rx_buf);
	kfree(q->rx);
	kfree(q->ctags);
	kfree(q->req_buf);
}

unsigned int vnode_xprt_clt_nr_queues(struct vnode_xprt_clt *clt)
{
	return clt->nr_queues;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_nr_queues);

unsigned int vnode_xprt_clt_max_pages(struct vnode_xprt_clt *clt)
{
	unsigned int i, n = VNODE_XPRT_IO_MAX_PAGES;

	for (i = 0; i < clt->nr_queues; i++) {
		unsigned int sge = READ_ONCE(clt->queues[i].rdma_sge);

		if (sge)
			n = min(n, sge);
	}
	return n;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_max_pages);

/* What the connected QP and the registration QP of @q share. */
static void clt_qp_init_attr(struct vnode_xprt_queue *q,
			     struct ib_qp_init_attr *init)
{
	init->event_handler = clt_qp_event;
	init->qp_context = q;
	init->send_cq = q->cq;
	init->recv_cq = q->cq;
	init->sq_sig_type = IB_SIGNAL_REQ_WR;
	init->qp_type = IB_QPT_RC;
}

/* Commands with data buffers: REG_MR and LOCAL_INV use q->reg_qp. */
static bool clt_has_reg_qp(struct vnode_xprt_clt *clt)
{
	return clt->cfg.cmd_depth && clt->cfg.max_fr_pages;
}

/*
 * The registration QP: an RC QP on the PD and CQ of the queue on which
 * only the commands' REG_MR and LOCAL_INV are posted.  On the 6.1 rxe
 * driver a retransmission rewinds the send queue to the oldest
 * unacknowledged work request and re-executes the local operations
 * after it that were already executed: a REG_MR then fails on its
 * registered MR ("mr->lkey = ... not free") and the QP stops.  This QP
 * never sends a packet, so it has nothing to retransmit; MRs belong to
 * the PD, so the server reaches them through @qp.  Send queue: one work
 * request per command slot (the REG_MR completes before the SEND is
 * posted, the LOCAL_INV before the slot is reused) + the drain marker.
 * It never receives (one RECV slot, never posted).
 */
static int clt_reg_qp_create(struct vnode_xprt_queue *q)
{
	struct ib_qp_init_attr init = {};
	struct ib_qp *qp;

	clt_qp_init_attr(q, &init);
	init.cap.max_send_wr = q->clt->cfg.cmd_depth + 1;
	init.cap.max_recv_wr = 1;
	init.cap.max_send_sge = 1;
	init.cap.max_recv_sge = 1;
	qp = ib_create_qp(q->dev->pd, &init);
	if (IS_ERR(qp))
		return PTR_ERR(qp);
	q->reg_qp = qp;
	return 0;
}

/*
 * Once @q->qp is connected: take the registration QP to RTS with the
 * attributes of that connection (it needs RTS to accept work requests;
 * its address is the server's, harmless since it never transmits).  No
 * remote access: nothing may reach it.
 */
static int clt_reg_qp_ready(struct vnode_xprt_queue *q)
{
	static const enum ib_qp_state states[] = {
		IB_QPS_INIT, IB_QPS_RTR, IB_QPS_RTS,
	};
	struct ib_qp_attr attr;
	unsigned int i;
	int mask, ret;

	if (!q->reg_qp)
		return 0;
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		memset(&attr, 0, sizeof(attr));
		attr.qp_state = states[i];
		ret = rdma_init_qp_attr(q->cm_id, &attr, &mask);
		if (ret)
			return ret;
		if (states[i] == IB_QPS_INIT)
			attr.qp_access_flags = 0;
		ret = ib_modify_qp(q->reg_qp, &attr, mask);
		if (ret)
			return ret;
	}
	set_bit(VQ_REG_RTS, &q->flags);
	return 0;
}

/* Called from the CM handler on ROUTE_RESOLVED. */
static int clt_queue_create_ib(struct vnode_xprt_queue *q)
{
	struct vnode_xprt_clt *clt = q->clt;
	struct ib_device *ibdev = q->cm_id->device;
	struct ib_qp_init_attr init = {};
	unsigned int i, reg_wr = 0;
	int ret;

	q->dev = vnode_xprt_dev_get(ibdev);
	if (!q->dev)
		return -ENOMEM;

	/*
	 * Work-request budget of one queue:
	 *   send: queue_depth RDMA READ/WRITE (bounded by q->inflight)
	 *       + CTRL_DEPTH control SENDs (bounded by ctrl_sem)
	 *       + cmd_depth command SENDs (a slot is reused only after its
	 *         SEND completed)
	 *       + 1 keepalive (VQ_KA_PENDING)
	 *       + 1 for ib_drain_qp()'s marker
	 *   recv: CTRL_DEPTH + cmd_depth replies + 1 drain marker
	 *   registration QP (REG_MR, LOCAL_INV): cmd_depth + 1 drain marker
	 *   CQ:   all of them
	 */
	init.cap.max_send_wr = clt->cfg.queue_depth + VNODE_XPRT_CTRL_DEPTH +
			       clt->cfg.cmd_depth + 1 + 1;
	init.cap.max_recv_wr = q->nr_rx + 1;
	if (clt_has_reg_qp(clt))
		reg_wr = clt->cfg.cmd_depth + 1;
	/* RDMA READ/WRITE: one SGE per page of vnode_xprt_clt_rdma_pages() */
	WRITE_ONCE(q->rdma_sge, min_t(u32, VNODE_XPRT_IO_MAX_PAGES,
				      ibdev->attrs.max_send_sge));
	init.cap.max_send_sge = max_t(u32, q->rdma_sge, clt->cfg.cmd_depth ?
				      1 + VNODE_XPRT_INLINE_SGES : 1);
	init.cap.max_recv_sge = 1;
	if (init.cap.max_send_wr > ibdev->attrs.max_qp_wr) {
		clt_log(err, clt, "queue depth %u exceeds %s's max_qp_wr %d\n",
			clt->cfg.queue_depth, dev_name(&ibdev->dev),
			ibdev->attrs.max_qp_wr);
		ret = -EINVAL;
		goto out_put_dev;
	}

	q->cq = vnode_fault_err(ib_alloc_cq(ibdev, q,
			init.cap.max_send_wr + init.cap.max_recv_wr + reg_wr,
			q->idx % ibdev->num_comp_vectors, IB_POLL_SOFTIRQ));
	if (IS_ERR(q->cq)) {
		ret = PTR_ERR(q->cq);
		q->cq = NULL;
		goto out_put_dev;
	}

	clt_qp_init_attr(q, &init);
	ret = vnode_fault_ret(rdma_create_qp(q->cm_id, q->dev->pd, &init));
	if (ret)
		goto out_free_cq;
	q->qp = q->cm_id->qp;
	if (reg_wr) {
		ret = clt_reg_qp_create(q);
		if (ret) {
			clt_log(err, clt, "queue %u: registration QP: %d\n",
				q->idx, ret);
			goto out_destroy_qp;
		}
	}

	q->rx_dma = ib_dma_map_single(ibdev, q->rx_buf,
				      q->nr_rx * VNODE_MSG_MAX,
				      DMA_FROM_DEVICE);
	if (ib_dma_mapping_error(ibdev, q->rx_dma)) {
		q->rx_dma = 0;
		ret = -EIO;
		goto out_destroy_qp;
	}
	ret = clt_cmds_init_ib(q);
	if (ret)
		goto out_unmap;
	for (i = 0; i < q->nr_rx; i++) {
		ret = clt_post_recv(q, i);
		if (ret)
			goto out_cmds;
	}
	return 0;

out_cmds:
	clt_cmds_free_ib(q);
out_unmap:
	ib_dma_unmap_single(ibdev, q->rx_dma, q->nr_rx * VNODE_MSG_MAX,
			    DMA_FROM_DEVICE);
	q->rx_dma = 0;
out_destroy_qp:
	if (q->reg_qp)
		ib_destroy_qp(q->reg_qp);
	q->reg_qp = NULL;
	rdma_destroy_qp(q->cm_id);
	q->qp = NULL;
out_free_cq:
	ib_free_cq(q->cq);
	q->cq = NULL;
out_put_dev:
	vnode_xprt_dev_put(q->dev);
	q->dev = NULL;
	return ret;
}

/* The hello of queue @q without its auth byte and data. */
static void clt_fill_hello(struct vnode_xprt_queue *q,
			   struct vnode_hello *hello)
{
	struct vnode_xprt_clt *clt = q->clt;
	u16 major, minor;

	memset(hello, 0, sizeof(*hello));
	clt_proto_version(clt, &major, &minor);
	hello->magic = cpu_to_le32(VNODE_MAGIC);
	hello->major = cpu_to_le16(major);
	hello->minor = cpu_to_le16(minor);
	hello->role = clt->cfg.role;
	hello->queue_id = cpu_to_le16(q->idx);
	hello->nr_queues = cpu_to_le16(clt->nr_queues);
	hello->client_id = cpu_to_le64(clt->cfg.client_id);
	/* Our identity, not clt->name: the server knows us by it. */
	memcpy(hello->name, q->auth_ident, sizeof(hello->name));
}

static int clt_queue_connect(struct vnode_xprt_queue *q)
{
	struct ib_device *ibdev = q->cm_id->device;
	struct rdma_conn_param param = {};
	struct vnode_hello hello;

	clt_fill_hello(q, &hello);
	hello.auth = q->auth_step;
	if (q->auth_step == VNODE_AUTH_INIT) {
		memcpy(hello.auth_data, q->auth_cnonce, VNODE_AUTH_NONCE_LEN);
	} else if (q->auth_step == VNODE_AUTH_RESPONSE) {
		u8 mac[VNODE_AUTH_HMAC_LEN];
		int ret;

		ret = vnode_auth_hello_mac(q->auth_slot,
					   VNODE_AUTH_LABEL_CLIENT, &hello,
					   q->auth_cnonce, q->auth_snonce, mac);
		if (ret)
			return ret;
		memcpy(hello.auth_data, mac, VNODE_AUTH_MAC_LEN);
	}

	param.private_data = &hello;
	param.private_data_len = sizeof(hello);
	/*
	 * We issue RDMA READs (slabs); a storage server READs our
	 * registered buffers.
	 */
	param.initiator_depth = min_t(int, ibdev->attrs.max_qp_init_rd_atom,
				      U8_MAX);
	param.responder_resources = min_t(int, ibdev->attrs.max_qp_rd_atom,
					  U8_MAX);
	param.flow_control = 1;
	param.retry_count = VNODE_XPRT_RETRY_COUNT;
	param.rnr_retry_count = 7;
	return rdma_connect_locked(q->cm_id, &param);
}

static void clt_cm_done(struct vnode_xprt_queue *q, int err)
{
	q->cm_error = err;
	complete(&q->cm_done);
}

/*
 * Step 3 of the handshake: the server's challenge.  Checks that it knows
 * our key (current or previous) and keeps its nonce for the response.
 * -EAGAIN: connect again with the response.
 */
static int clt_auth_challenge(struct vnode_xprt_queue *q,
			      const struct vnode_auth_challenge *ch)
{
	struct vnode_xprt_clt *clt = q->clt;
	struct vnode_hello hello;
	u8 mac[VNODE_AUTH_HMAC_LEN];
	unsigned int slot;

	if (q->auth_step != VNODE_AUTH_INIT) {
		clt_log(err, clt, "queue %u: server refused our authentication\n",
			q->idx);
		return -EKEYREJECTED;
	}
	/* H, as the server saw it in our INIT hello. */
	clt_fill_hello(q, &hello);
	for (slot = 0; slot < VNODE_AUTH_NR_SLOTS; slot++) {
		if (vnode_auth_hello_mac(slot, VNODE_AUTH_LABEL_SERVER, &hello,
					 q->auth_cnonce, ch->snonce, mac))
			continue;
		if (!crypto_memneq(mac, ch->smac, sizeof(mac)) ||
		    !crypto_memneq(mac, ch->smac_prev, sizeof(mac))) {
			q->auth_slot = slot;
			memcpy(q->auth_snonce, ch->snonce,
			       sizeof(q->auth_snonce));
			q->auth_step = VNODE_AUTH_RESPONSE;
			return -EAGAIN;
		}
	}
	clt_log(err, clt, "queue %u: the server does not know our key (cluster key, or the identity key of '%.*s'): not connecting\n",
		q->idx, VNODE_AUTH_IDENT_LEN, q->auth_ident);
	return -EKEYREJECTED;
}

static int clt_decode_reject(struct vnode_xprt_queue *q,
			     struct rdma_cm_event *ev)
{
	struct vnode_xprt_clt *clt = q->clt;
	const struct vnode_reject *rej;
	u16 status, major, minor;
	u8 len = 0;

	rej = rdma_consumer_reject_data(q->cm_id, ev, &len);
	if (!rej || len < sizeof(*rej) ||
	    le32_to_cpu(rej->magic) != VNODE_MAGIC) {
		clt_log(err, clt, "connection refused (cm status %d: nobody listening?)\n",
			ev->status);
		return -ECONNREFUSED;
	}
	status = le16_to_cpu(rej->status);
	if (status == VNODE_ST_AUTH &&
	    (rej->flags & VNODE_REJECT_F_CHALLENGE) &&
	    len >= sizeof(struct vnode_auth_challenge))
		return clt_auth_challenge(q, (const void *)rej);
	clt_proto_version(clt, &major, &minor);
	if (status == VNODE_ST_VERSION)
		clt_log(err, clt, "rejected: protocol version mismatch (we speak %u.%u, server %u.%u)\n",
			major, minor, le16_to_cpu(rej->major),
			le16_to_cpu(rej->minor));
	else if (status == VNODE_ST_AUTH && q->auth_step == VNODE_AUTH_INIT)
		clt_log(err, clt, "rejected: the server gives no challenge (no cluster key, or it refuses us)\n");
	else
		clt_log(err, clt, "rejected: %s\n",
			vnode_xprt_status_str(status));
	return vnode_xprt_status_errno(status);
}

static int clt_established(struct vnode_xprt_queue *q,
			   struct rdma_cm_event *ev)
{
	const struct vnode_accept *acc = ev->param.conn.private_data;
	u8 len = ev->param.conn.private_data_len;
	struct vnode_xprt_clt *clt = q->clt;
	u8 mac[VNODE_AUTH_MAC_LEN];

	if (!acc || len < VNODE_ACCEPT_MAC_OFF ||
	    le32_to_cpu(acc->magic) != VNODE_MAGIC) {
		clt_log(err, clt, "server sent no valid accept data\n");
		return -EPROTO;
	}
	if (le16_to_cpu(acc->major) != VNODE_PROTO_MAJOR) {
		clt_log(err, clt, "server speaks protocol %u.%u, we speak %u.%u\n",
			le16_to_cpu(acc->major), le16_to_cpu(acc->minor),
			VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
		return -EPROTO;
	}
	if (q->auth_step == VNODE_AUTH_RESPONSE &&
	    (len < sizeof(*acc) ||
	     !(le32_to_cpu(acc->flags) & VNODE_ACCEPT_F_AUTH) ||
	     vnode_auth_accept_mac(q->auth_slot, q->auth_ident, acc,
				   q->auth_cnonce, q->auth_snonce, mac) ||
	     crypto_memneq(mac, acc->amac, sizeof(mac)))) {
		clt_log(err, clt, "queue %u: the server's accept is not authenticated: not using it\n",
			q->idx);
		return -EKEYREJECTED;
	}
	if (q->auth_step == VNODE_AUTH_INIT) {
		clt_log(err, clt, "queue %u: the server accepted without authenticating (insecure, or protocol < 1.3): not using it\n",
			q->idx);
		return -EKEYREJECTED;
	}
	if (q->auth_step == VNODE_AUTH_NONE &&
	    (le32_to_cpu(acc->flags) & VNODE_ACCEPT_F_AUTH)) {
		clt_log(err, clt, "server claims an authentication that did not happen\n");
		return -EPROTO;
	}
	memset(&q->acc, 0, sizeof(q->acc));
	memcpy(&q->acc, acc, min_t(size_t, len, sizeof(q->acc)));
	set_bit(VQ_CONNECTED, &q->flags);
	return 0;
}

static int clt_cm_handler(struct rdma_cm_id *cm_id, struct rdma_cm_event *ev)
{
	struct vnode_xprt_queue *q = cm_id->context;
	unsigned int tmo = q->clt->cfg.connect_timeout_ms;
	int ret;

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		ret = rdma_resolve_route(cm_id, tmo);
		if (ret)
			clt_cm_done(q, -EHOSTUNREACH);
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		ret = clt_queue_create_ib(q);
		if (!ret)
			ret = clt_queue_connect(q);
		if (ret)
			clt_cm_done(q, ret);
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		clt_cm_done(q, clt_established(q, ev));
		break;
	case RDMA_CM_EVENT_REJECTED:
		clt_cm_done(q, clt_decode_reject(q, ev));
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
		clt_cm_done(q, -EHOSTUNREACH);
		break;
	case RDMA_CM_EVENT_UNREACHABLE:
		clt_cm_done(q, -ETIMEDOUT);
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		clt_cm_done(q, -ECONNREFUSED);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/* Device removal itself is handled by the ib_client. */
		if (test_bit(VQ_CONNECTED, &q->flags))
			clt_queue_error(q, rdma_event_msg(ev->event));
		else
			clt_cm_done(q, -ECONNRESET);
		break;
	default:
		break;
	}
	/* Never let rdma_cm destroy the id: teardown does, outside this. */
	return 0;
}

/*
 * Stop and free one queue.  After this no completion of the queue can
 * run and nothing it referenced is in use.  Idempotent.
 */
static void clt_queue_teardown(struct vnode_xprt_queue *q)
{
	struct ib_device *ibdev;

	clear_bit(VQ_LIVE, &q->flags);
	/*
	 * Pairs with the posters' barrier: either they see !VQ_LIVE or we
	 * see their posting count and wait for it (posters never sleep,
	 * but may be preempted: sleep rather than spin).
	 */
	smp_mb__after_atomic();
	while (atomic_read(&q->posting))
		usleep_range(20, 50);

	if (q->cm_id && test_bit(VQ_CONNECTED, &q->flags))
		rdma_disconnect(q->cm_id);
	if (q->cm_id) {
		/* Waits for a running handler: no more CM events after it. */
		rdma_destroy_id(q->cm_id);
		q->cm_id = NULL;
	}
	if (q->qp) {
		/* Flushes every posted WR: io->done(-ENOTCONN) etc. */
		if (test_and_clear_bit(VQ_CONNECTED, &q->flags))
			ib_drain_qp(q->qp);
		/*
		 * After @qp: its last replies may have posted LOCAL_INVs
		 * here.  A REG_MR completing now does not post its SEND
		 * (!VQ_LIVE) and fails its command.
		 */
		if (test_and_clear_bit(VQ_REG_RTS, &q->flags))
			ib_drain_sq(q->reg_qp);
		/* No reply can come any more: fail the commands waiting. */
		clt_cmds_abort(q);
		clt_cmds_free_ib(q);
		if (q->reg_qp)
			ib_destroy_qp(q->reg_qp);
		q->reg_qp = NULL;
		ib_destroy_qp(q->qp);
		q->qp = NULL;
	}
	clear_bit(VQ_CONNECTED, &q->flags);
	clear_bit(VQ_KA_PENDING, &q->flags);
	if (q->cq) {
		ib_free_cq(q->cq);
		q->cq = NULL;
	}
	if (q->dev) {
		ibdev = q->dev->ibdev;
		if (q->rx_dma)
			ib_dma_unmap_single(ibdev, q->rx_dma,
					    q->nr_rx * VNODE_MSG_MAX,
					    DMA_FROM_DEVICE);
		q->rx_dma = 0;
		vnode_xprt_dev_put(q->dev);
		q->dev = NULL;
	}
	WARN_ON_ONCE(atomic_read(&q->inflight));
	atomic_set(&q->inflight, 0);
}

static void clt_teardown_all(struct vnode_xprt_clt *clt)
{
	unsigned int i;

	for (i = 0; i < clt->nr_queues; i++)
		clt_queue_teardown(&clt->queues[i]);
	clt_flush_waiters(clt, -ENOTCONN);
}

/* One connect of one queue on a new id.  Sleeps; clt->lock held. */
static int clt_queue_connect_id(struct vnode_xprt_queue *q)
{
	struct vnode_xprt_clt *clt = q->clt;
	unsigned int tmo = clt->cfg.connect_timeout_ms;
	struct rdma_cm_id *cm_id;
	long left;
	int ret;

	q->cm_error = -ETIMEDOUT;
	reinit_completion(&q->cm_done);
	memset(&q->acc, 0, sizeof(q->acc));

	cm_id = vnode_fault_err(rdma_create_id(&init_net, clt_cm_handler, q,
					       RDMA_PS_TCP, IB_QPT_RC));
	if (IS_ERR(cm_id))
		return PTR_ERR(cm_id);
	q->cm_id = cm_id;
	rdma_set_ack_timeout(cm_id, vnode_xprt_ack_timeout);

	ret = rdma_resolve_addr(cm_id, NULL, (struct sockaddr *)&clt->cfg.addr,
				tmo);
	if (ret) {
		clt_log(err, clt, "cannot resolve address: %d\n", ret);
		ret = ret == -ENOMEM ? ret : -EHOSTUNREACH;
		goto out_teardown;
	}

	/* Address, route and connect each have @tmo; bound the whole. */
	left = wait_for_completion_timeout(&q->cm_done,
					   msecs_to_jiffies(tmo + 500));
	ret = left ? q->cm_error : -ETIMEDOUT;
	if (ret)
		goto out_teardown;
	ret = clt_reg_qp_ready(q);
	if (ret) {
		clt_log(err, clt, "queue %u: registration QP to RTS: %d\n",
			q->idx, ret);
		goto out_teardown;
	}
	return 0;

out_teardown:
	clt_queue_teardown(q);
	return ret;
}

/*
 * One connect attempt of one queue, authenticated (two connects: the
 * challenge, then the response) unless we are insecure and have no key.
 * Sleeps; clt->lock held.
 */
static int clt_queue_connect_one(struct vnode_xprt_queue *q)
{
	struct vnode_xprt_clt *clt = q->clt;
	int ret;

	q->auth_step = VNODE_AUTH_INIT;
	if (!vnode_auth_has_key()) {
		if (!vnode_auth_insecure()) {
			clt_log(err, clt, "no key: write the cluster key to /sys/kernel/config/vnode_xprt/key or our identity key to .../identity_key (or load vnode_xprt with insecure=1)\n");
			return -ENOKEY;
		}
		q->auth_step = VNODE_AUTH_NONE;
	}
	vnode_auth_identity(q->auth_ident);
	get_random_bytes(q->auth_cnonce, sizeof(q->auth_cnonce));
	ret = clt_queue_connect_id(q);
	if (ret == -EAGAIN && q->auth_step == VNODE_AUTH_RESPONSE)
		ret = clt_queue_connect_id(q);
	if (ret == -EAGAIN)
		ret = -EKEYREJECTED;
	memzero_explicit(q->auth_snonce, sizeof(q->auth_snonce));
	return ret;
}

/*
 * Connect every queue and go LIVE.  On failure everything is torn down.
 * clt->lock held.
 */
static int clt_connect_all(struct vnode_xprt_clt *clt)
{
	unsigned long flags;
	unsigned int i;
	int ret;

	for (i = 0; i < clt->nr_queues; i++) {
		struct vnode_xprt_queue *q = &clt->queues[i];

		ret = clt_queue_connect_one(q);
		if (ret)
			goto out_teardown;
		if (i && q->acc.server_id != clt->queues[0].acc.server_id) {
			clt_log(err, clt, "queues reached different servers\n");
			ret = -EPROTO;
			goto out_teardown;
		}
		atomic_set(&q->inflight, 0);
		set_bit(VQ_LIVE, &q->flags);
	}

	spin_lock_irqsave(&clt->state_lock, flags);
	for (i = 0; i < clt->nr_queues; i++) {
		if (!test_bit(VQ_LIVE, &clt->queues[i].flags))
			break;
	}
	/* Refused once close started (CLOSED). */
	if (i == clt->nr_queues &&
	    clt_change_state_locked(clt, VNODE_XPRT_LIVE)) {
		ret = 0;
	} else {
		ret = -ECONNRESET;
	}
	spin_unlock_irqrestore(&clt->state_lock, flags);
	if (ret)
		goto out_teardown;
	return 0;

out_teardown:
	clt_teardown_all(clt);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Recovery                                                            */
/* ------------------------------------------------------------------ */

static void clt_err_work(struct work_struct *work)
{
	struct vnode_xprt_clt *clt = container_of(work, struct vnode_xprt_clt,
						  err_work);

	mutex_lock(&clt->lock);
	if (clt->closing) {
		mutex_unlock(&clt->lock);
		return;
	}
	clt_teardown_all(clt);
	clt_report(clt);
	if (READ_ONCE(clt->state) == VNODE_XPRT_RECONNECTING)
		mod_delayed_work(vnode_xprt_wq, &clt->reconnect_work,
				 msecs_to_jiffies(clt->cfg.reconnect_delay_ms));
	mutex_unlock(&clt->lock);
}

static void clt_reconnect_work(struct work_struct *work)
{
	struct vnode_xprt_clt *clt = container_of(to_delayed_work(work),
						  struct vnode_xprt_clt,
						  reconnect_work);
	unsigned long flags;
	u64 old_id, new_id;
	bool resumed, lost;
	int ret;

	mutex_lock(&clt->lock);
	if (clt->closing || READ_ONCE(clt->state) != VNODE_XPRT_RECONNECTING)
		goto out_unlock;
	clt_report(clt);

	if (time_after(jiffies, clt->loss_start +
		       msecs_to_jiffies(clt->cfg.loss_timeout_ms))) {
		/* Refused if close started meanwhile: close tears down. */
		if (clt_change_state(clt, VNODE_XPRT_DEAD)) {
			clt_log(err, clt, "no connection for %u ms, giving up\n",
				clt->cfg.loss_timeout_ms);
			clt_teardown_all(clt);
			clt_report(clt);
		}
		goto out_unlock;
	}

	ret = clt_connect_all(clt);
	if (ret) {
		clt_log(info, clt, "reconnect failed: %d, retrying in %u ms\n",
			ret, clt->cfg.reconnect_delay_ms);
		queue_delayed_work(vnode_xprt_wq, &clt->reconnect_work,
				   msecs_to_jiffies(clt->cfg.reconnect_delay_ms));
		goto out_unlock;
	}

	old_id = clt->server_id;
	new_id = le64_to_cpu(clt->queues[0].acc.server_id);
	resumed = le32_to_cpu(clt->queues[0].acc.flags) &
		  VNODE_ACCEPT_F_RESUMED;
	memcpy(&clt->acc, &clt->queues[0].acc, sizeof(clt->acc));
	clt_set_cmd_depth(clt);
	WRITE_ONCE(clt->server_id, new_id);
	lost = true;
	if (old_id != new_id) {
		clt_log(warn, clt, "server restarted (server_id %016llx -> %016llx): its remote state is gone\n",
			old_id, new_id);
	} else if (!resumed) {
		/* Same server, but it dropped us meanwhile: state is gone. */
		clt_log(warn, clt, "server %016llx did not restart but no longer holds our state (it dropped us after its grace period, or a client of our identity ended the session): its remote state is gone\n",
			new_id);
	} else {
		clt_log(info, clt, "reconnected, server kept our state\n");
		lost = false;
	}
	if (lost) {
		/* Told to the owner with the next LIVE (clt_report()). */
		spin_lock_irqsave(&clt->state_lock, flags);
		clt->state_lost = true;
		spin_unlock_irqrestore(&clt->state_lock, flags);
	}
	clt_report(clt);
out_unlock:
	mutex_unlock(&clt->lock);
}

/* ib_client removal of @ibdev: drop every queue built on it, now. */
void vnode_xprt_clt_remove_dev(struct ib_device *ibdev)
{
	struct vnode_xprt_clt *clt;
	unsigned int i;

	mutex_lock(&vnode_xprt_clt_list_lock);
	list_for_each_entry(clt, &vnode_xprt_clt_list, entry) {
		bool uses = false;

		mutex_lock(&clt->lock);
		for (i = 0; i < clt->nr_queues; i++) {
			struct vnode_xprt_queue *q = &clt->queues[i];

			if (q->dev && q->dev->ibdev == ibdev)
				uses = true;
		}
		if (uses) {
			for (i = 0; i < clt->nr_queues; i++)
				clt_queue_error(&clt->queues[i],
						"device removed");
			clt_teardown_all(clt);
			if (!clt->closing &&
			    READ_ONCE(clt->state) == VNODE_XPRT_RECONNECTING)
				mod_delayed_work(vnode_xprt_wq,
						 &clt->reconnect_work,
						 msecs_to_jiffies(clt->cfg.reconnect_delay_ms));
		}
		mutex_unlock(&clt->lock);
	}
	mutex_unlock(&vnode_xprt_clt_list_lock);
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

static int clt_check_cfg(const struct vnode_xprt_cfg *cfg)
{
	if (cfg->addr.ss_family != AF_INET && cfg->addr.ss_family != AF_INET6)
		return -EINVAL;
	if (cfg->role != VNODE_ROLE_MEM && cfg->role != VNODE_ROLE_PROBE &&
	    cfg->role != VNODE_ROLE_STOR)
		return -EINVAL;
	if (cfg->rw_split && cfg->nr_queues == 1)
		return -EINVAL;
	if (cfg->nr_queues > VNODE_XPRT_MAX_QUEUES ||
	    cfg->queue_depth > VNODE_XPRT_MAX_QUEUE_DEPTH ||
	    cfg->cmd_depth > VNODE_XPRT_MAX_CMD_DEPTH ||
	    cfg->max_fr_pages > 256)
		return -EINVAL;
	if (cfg->connect_timeout_ms > 600000 ||
	    cfg->reconnect_delay_ms > 600000 ||
	    cfg->loss_timeout_ms > 24 * 3600 * 1000)
		return -EINVAL;
	return 0;
}

struct vnode_xprt_clt *vnode_xprt_clt_open(const struct vnode_xprt_cfg *cfg,
					   const struct vnode_xprt_clt_ops *ops,
					   void *priv, struct vnode_accept *acc)
{
	struct vnode_xprt_clt *clt;
	unsigned int nr, i;
	int ret;

	if (!cfg)
		return ERR_PTR(-EINVAL);
	ret = clt_check_cfg(cfg);
	if (ret)
		return ERR_PTR(ret);

	nr = cfg->nr_queues ?: min_t(unsigned int, num_online_cpus(),
				     VNODE_XPRT_DEF_QUEUES) *
			       (cfg->rw_split ? 2 : 1);
	clt = vnode_fault(kzalloc(struct_size(clt, queues, nr), GFP_KERNEL));
	if (!clt)
		return ERR_PTR(-ENOMEM);

	clt->cfg = *cfg;
	clt->cfg.name = clt->name;
	clt->cfg.nr_queues = nr;
	clt->nr_queues = nr;
	if (!clt->cfg.queue_depth)
		clt->cfg.queue_depth = VNODE_XPRT_DEF_QUEUE_DEPTH;
	if (!clt->cfg.connect_timeout_ms)
		clt->cfg.connect_timeout_ms = VNODE_XPRT_DEF_CONNECT_MS;
	if (!clt->cfg.reconnect_delay_ms)
		clt->cfg.reconnect_delay_ms = VNODE_XPRT_DEF_RECONNECT_MS;
	if (!clt->cfg.loss_timeout_ms)
		clt->cfg.loss_timeout_ms = VNODE_XPRT_DEF_LOSS_MS;
	if (!clt->cfg.client_id)
		clt->cfg.client_id = get_random_u64();
	strscpy(clt->name, cfg->name ?: "vnode", sizeof(clt->name));
	snprintf(clt->peer, sizeof(clt->peer), "%pISpc", &clt->cfg.addr);

	clt->ops = ops;
	clt->priv = priv;
	/* The initial state; every later one via clt_change_state(). */
	clt->state = VNODE_XPRT_CONNECTING;
	clt->reported = VNODE_XPRT_CONNECTING;
	mutex_init(&clt->lock);
	spin_lock_init(&clt->state_lock);
	spin_lock_init(&clt->ctrl_lock);
	INIT_WORK(&clt->err_work, clt_err_work);
	INIT_DELAYED_WORK(&clt->reconnect_work, clt_reconnect_work);
	INIT_DELAYED_WORK(&clt->ka_work, clt_ka_work);
	INIT_LIST_HEAD(&clt->entry);
	vnode_fabric_clt_init(clt);
	for (i = 0; i < VNODE_XPRT_CTRL_DEPTH; i++) {
		clt->slots[i].clt = clt;
		clt->slots[i].cqe.done = clt_send_done;
		init_completion(&clt->slots[i].done);
	}
	for (i = 0; i < nr; i++) {
		struct vnode_xprt_queue *q = &clt->queues[i];
		unsigned int j;

		q->clt = clt;
		q->idx = i;
		q->ka_cqe.done = clt_ka_done;
		init_completion(&q->cm_done);
		q->nr_rx = VNODE_XPRT_CTRL_DEPTH + cfg->cmd_depth;
		q->rx_buf = vnode_fault(kcalloc(q->nr_rx, VNODE_MSG_MAX, GFP_KERNEL));
		q->rx = vnode_fault(kcalloc(q->nr_rx, sizeof(*q->rx), GFP_KERNEL));
		if (!q->rx_buf || !q->rx || clt_cmds_alloc(q)) {
			ret = -ENOMEM;
			goto out_free;
		}
		for (j = 0; j < q->nr_rx; j++) {
			q->rx[j].cqe.done = clt_recv_done;
			q->rx[j].queue = q;
			q->rx[j].idx = j;
		}
	}

	mutex_lock(&clt->lock);
	ret = clt_connect_all(clt);
	if (ret) {
		mutex_unlock(&clt->lock);
		clt_log(err, clt, "connect failed: %d\n", ret);
		goto out_free;
	}
	memcpy(&clt->acc, &clt->queues[0].acc, sizeof(clt->acc));
	clt_set_cmd_depth(clt);
	clt->server_id = le64_to_cpu(clt->acc.server_id);
	/* Never more calls in flight than the server has RECVs posted. */
	sema_init(&clt->ctrl_sem,
		  clamp_t(unsigned int, le16_to_cpu(clt->acc.max_inflight), 1,
			  VNODE_XPRT_CTRL_DEPTH));
	mutex_unlock(&clt->lock);
	clt_report(clt);

	mutex_lock(&vnode_xprt_clt_list_lock);
	list_add(&clt->entry, &vnode_xprt_clt_list);
	mutex_unlock(&vnode_xprt_clt_list_lock);
	vnode_fabric_bind(clt);
	if (vnode_xprt_keepalive_ms)
		queue_delayed_work(vnode_xprt_wq, &clt->ka_work,
				   msecs_to_jiffies(vnode_xprt_keepalive_ms));

	clt_log(info, clt, "connected: %u queue(s), server %016llx, capacity %llu used %llu slab 2^%u\n",
		nr, clt->server_id, le64_to_cpu(clt->acc.capacity),
		le64_to_cpu(clt->acc.used), le16_to_cpu(clt->acc.slab_shift));
	if (acc)
		memcpy(acc, &clt->acc, sizeof(*acc));
	return clt;

out_free:
	for (i = 0; i < nr; i++)
		clt_queue_free(&clt->queues[i]);
	kfree(clt);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_open);

void vnode_xprt_clt_close(struct vnode_xprt_clt *clt)
{
	unsigned long flags;
	unsigned int i;

	if (IS_ERR_OR_NULL(clt))
		return;

	mutex_lock(&vnode_xprt_clt_list_lock);
	list_del_init(&clt->entry);
	mutex_unlock(&vnode_xprt_clt_list_lock);
	/* No completion stays held past close. */
	vnode_fabric_flush(clt);

	if (vnode_xprt_clt_state(clt) == VNODE_XPRT_LIVE) {
		struct vnode_msg_hdr req = { .op = VNODE_OP_GOODBYE };
		struct vnode_status_rsp rsp;
		int ret;

		ret = vnode_xprt_clt_call(clt, &req, sizeof(req), &rsp.hdr,
					  sizeof(rsp), 2000);
		if (ret)
			clt_log(info, clt, "GOODBYE not answered: %d\n", ret);
	}

	spin_lock_irqsave(&clt->state_lock, flags);
	clt->closing = true;
	clt_change_state_locked(clt, VNODE_XPRT_CLOSED);
	spin_unlock_irqrestore(&clt->state_lock, flags);

	cancel_delayed_work_sync(&clt->ka_work);
	cancel_work_sync(&clt->err_work);
	cancel_delayed_work_sync(&clt->reconnect_work);

	mutex_lock(&clt->lock);
	clt_teardown_all(clt);
	mutex_unlock(&clt->lock);
	clt_report(clt);

	/* Every SEND completed (drain): each slot is back to zero refs. */
	for (i = 0; i < VNODE_XPRT_CTRL_DEPTH; i++)
		WARN_ON_ONCE(atomic_read(&clt->slots[i].ref));
	for (i = 0; i < clt->nr_queues; i++)
		clt_queue_free(&clt->queues[i]);
	clt_log(info, clt, "closed\n");
	kfree(clt);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_close);

enum vnode_xprt_state vnode_xprt_clt_state(struct vnode_xprt_clt *clt)
{
	return READ_ONCE(clt->state);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_state);

const char *vnode_xprt_clt_peer(struct vnode_xprt_clt *clt)
{
	return clt->peer;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_peer);

u64 vnode_xprt_clt_server_id(struct vnode_xprt_clt *clt)
{
	return READ_ONCE(clt->server_id);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_server_id);

/* Post the request of @s on queue 0.  0 or -ENOTCONN/-EIO. */
static int clt_post_ctrl(struct vnode_xprt_clt *clt, struct vnode_xprt_slot *s)
{
	struct vnode_xprt_queue *q = &clt->queues[0];
	struct ib_send_wr wr = {};
	struct ib_sge sge;
	int ret = -ENOTCONN;

	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (!test_bit(VQ_LIVE, &q->flags))
		goto out;

	s->ibdev = q->dev->ibdev;
	s->dma = ib_dma_map_single(s->ibdev, s->req, s->req_len,
				   DMA_TO_DEVICE);
	if (ib_dma_mapping_error(s->ibdev, s->dma)) {
		ret = -EIO;
		goto out;
	}
	sge.addr = s->dma;
	sge.length = s->req_len;
	sge.lkey = q->dev->pd->local_dma_lkey;
	wr.wr_cqe = &s->cqe;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IB_WR_SEND;
	wr.send_flags = IB_SEND_SIGNALED;
	ret = ib_post_send(q->qp, &wr, NULL);
	if (ret) {
		ib_dma_unmap_single(s->ibdev, s->dma, s->req_len,
				    DMA_TO_DEVICE);
		clt_queue_error(q, "SEND post failed");
		ret = -ENOTCONN;
	}
out:
	atomic_dec(&q->posting);
	return ret;
}

int vnode_xprt_clt_call(struct vnode_xprt_clt *clt, struct vnode_msg_hdr *req,
			size_t req_len, struct vnode_msg_hdr *rsp,
			size_t rsp_len, unsigned int timeout_ms)
{
	struct vnode_xprt_slot *s;
	unsigned long flags;
	unsigned int idx;
	long left;
	int ret;

	if (!clt || !req || req_len < sizeof(*req) || req_len > VNODE_MSG_MAX ||
	    (rsp && rsp_len < sizeof(*rsp)))
		return -EINVAL;
	if (!timeout_ms)
		timeout_ms = clt->cfg.connect_timeout_ms;
	if (vnode_xprt_clt_state(clt) != VNODE_XPRT_LIVE)
		return -ENOTCONN;

	ret = down_timeout(&clt->ctrl_sem, msecs_to_jiffies(timeout_ms));
	if (ret)
		return -ETIMEDOUT;

	spin_lock_irqsave(&clt->ctrl_lock, flags);
	idx = find_first_zero_bit(&clt->ctrl_map, VNODE_XPRT_CTRL_DEPTH);
	if (WARN_ON_ONCE(idx >= VNODE_XPRT_CTRL_DEPTH)) {
		spin_unlock_irqrestore(&clt->ctrl_lock, flags);
		up(&clt->ctrl_sem);
		return -EBUSY;
	}
	__set_bit(idx, &clt->ctrl_map);
	s = &clt->slots[idx];
	clt->tag_gen++;
	s->tag = (clt->tag_gen * VNODE_XPRT_CTRL_DEPTH + idx) &
		 ~VNODE_XPRT_CMD_TAG;
	s->waiting = true;
	s->status = -ETIMEDOUT;
	s->rsp_len = 0;
	reinit_completion(&s->done);
	atomic_set(&s->ref, 2);
	spin_unlock_irqrestore(&clt->ctrl_lock, flags);

	req->magic = cpu_to_le32(VNODE_MAGIC);
	req->flags = 0;
	req->status = 0;
	req->tag = cpu_to_le32(s->tag);
	req->len = cpu_to_le32(req_len);
	memcpy(s->req, req, req_len);
	s->req_len = req_len;

	ret = clt_post_ctrl(clt, s);
	if (ret) {
		spin_lock_irqsave(&clt->ctrl_lock, flags);
		s->waiting = false;
		spin_unlock_irqrestore(&clt->ctrl_lock, flags);
		clt_slot_put(s);	/* the SEND's reference */
		goto out_put;
	}

	left = wait_for_completion_timeout(&s->done,
					   msecs_to_jiffies(timeout_ms));
	spin_lock_irqsave(&clt->ctrl_lock, flags);
	if (!left && s->waiting) {
		s->waiting = false;
		s->status = -ETIMEDOUT;
	}
	ret = s->status;
	if (!ret && rsp)
		memcpy(rsp, s->rsp, min(rsp_len, s->rsp_len));
	spin_unlock_irqrestore(&clt->ctrl_lock, flags);

	if (!ret && rsp && s->rsp_len < sizeof(*rsp))
		ret = -EPROTO;
	if (!ret && rsp && rsp->op != req->op) {
		clt_log(warn, clt, "reply op %u to request op %u\n", rsp->op,
			req->op);
		ret = -EPROTO;
	}
	if (ret == -ETIMEDOUT)
		clt_log(warn, clt, "control op %u timed out after %u ms\n",
			req->op, timeout_ms);
out_put:
	clt_slot_put(s);
	return ret;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_call);

/*
 * The queue of this CPU, or with cfg.rw_split the one of this CPU among
 * the read queues (the first half) or the write queues (the rest): a READ
 * then never sits in a send queue behind a large write-back, and the
 * server's responder works each QP on its own.
 */
static unsigned int clt_rdma_qid(const struct vnode_xprt_clt *clt, bool write)
{
	unsigned int cpu = raw_smp_processor_id(), half;

	if (!clt->cfg.rw_split)
		return cpu % clt->nr_queues;
	half = clt->nr_queues / 2;
	return write ? half + cpu % (clt->nr_queues - half) : cpu % half;
}

int vnode_xprt_clt_rdma_pages(struct vnode_xprt_clt *clt, bool write,
			      const struct bio_vec *bv, unsigned int nr,
			      u64 raddr, u32 rkey, struct vnode_xprt_io *io)
{
	struct vnode_xprt_queue *q;
	struct ib_rdma_wr wr = {};
	enum vnode_xprt_state st;
	unsigned int i;
	u32 bytes = 0;
	int ret;

	if (unlikely(!clt || !bv || !io || !io->done || !nr ||
		     nr > VNODE_XPRT_IO_MAX_PAGES))
		return -EINVAL;
	/* A large folio may be moved in one piece: bound it, not to a page. */
	for (i = 0; i < nr; i++)
		if (unlikely(!bv[i].bv_page || !bv[i].bv_len ||
			     bv[i].bv_len > SZ_2M ||
			     bv[i].bv_offset >= PAGE_SIZE))
			return -EINVAL;

	st = READ_ONCE(clt->state);
	if (unlikely(st != VNODE_XPRT_LIVE))
		return st == VNODE_XPRT_DEAD || st == VNODE_XPRT_CLOSED ?
			-ENOTCONN : -EAGAIN;

	q = &clt->queues[clt_rdma_qid(clt, write)];
	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (unlikely(!test_bit(VQ_LIVE, &q->flags))) {
		ret = -EAGAIN;
		goto out;
	}
	if (unlikely(nr > q->rdma_sge)) {
		ret = -EINVAL;
		goto out;
	}
	if (atomic_inc_return(&q->inflight) > clt->cfg.queue_depth) {
		atomic_dec(&q->inflight);
		ret = -EAGAIN;
		goto out;
	}

	io->queue = q;
	io->dma_dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	for (i = 0; i < nr; i++) {
		u64 addr = ib_dma_map_page(q->dev->ibdev, bv[i].bv_page,
					   bv[i].bv_offset, bv[i].bv_len,
					   io->dma_dir);

		if (unlikely(ib_dma_mapping_error(q->dev->ibdev, addr))) {
			clt_rdma_unmap(q, io, i);
			atomic_dec(&q->inflight);
			ret = -EIO;
			goto out;
		}
		io->sge[i].addr = addr;
		io->sge[i].length = bv[i].bv_len;
		bytes += bv[i].bv_len;
		io->sge[i].lkey = q->dev->pd->local_dma_lkey;
	}
	io->nr_sge = nr;
	io->cqe.done = clt_rdma_done;
	vnode_fabric_post(clt, &io->hold, write, bytes);

	wr.wr.opcode = write ? IB_WR_RDMA_WRITE : IB_WR_RDMA_READ;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.wr.wr_cqe = &io->cqe;
	wr.wr.sg_list = io->sge;
	wr.wr.num_sge = nr;
	wr.remote_addr = raddr;
	wr.rkey = rkey;
	ret = ib_post_send(q->qp, &wr.wr, NULL);
	if (unlikely(ret)) {
		clt_rdma_unmap(q, io, nr);
		atomic_dec(&q->inflight);
		clt_queue_error(q, "RDMA post failed");
		ret = -EAGAIN;
	}
out:
	atomic_dec(&q->posting);
	return ret;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_rdma_pages);

int vnode_xprt_clt_rdma(struct vnode_xprt_clt *clt, bool write,
			struct page *page, unsigned int offset,
			unsigned int len, u64 raddr, u32 rkey,
			struct vnode_xprt_io *io)
{
	struct bio_vec bv = {
		.bv_page = page, .bv_offset = offset, .bv_len = len,
	};

	return vnode_xprt_clt_rdma_pages(clt, write, &bv, 1, raddr, rkey, io);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_rdma);

/* Run @fn on every open client, under the client list's lock. */
void vnode_xprt_clt_for_each(void (*fn)(struct vnode_xprt_clt *clt, void *arg),
			     void *arg)
{
	struct vnode_xprt_clt *clt;

	mutex_lock(&vnode_xprt_clt_list_lock);
	list_for_each_entry(clt, &vnode_xprt_clt_list, entry)
		fn(clt, arg);
	mutex_unlock(&vnode_xprt_clt_list_lock);
}

int vnode_xprt_clt_init(void)
{
	return 0;
}

void vnode_xprt_clt_exit(void)
{
	WARN_ON(!list_empty(&vnode_xprt_clt_list));
}
