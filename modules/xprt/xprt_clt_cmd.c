// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt client: the asynchronous command path (vnode_xprt_clt_submit()
 * and its completions).  A command is a request SEND with its reply
 * matched by tag, its data registered with FRWR on the queue's
 * registration QP (xprt_clt.c creates it) and invalidated afterwards;
 * small writes travel inline.  Connection management, control RPCs and
 * the one-sided RDMA path are in xprt_clt.c.
 */
#include "xprt_priv.h"

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static inline void *clt_req_buf(struct vnode_xprt_queue *q, unsigned int i)
{
	return q->req_buf + i * VNODE_MSG_MAX;
}

/* A command the fabric held (a successful one) is due. */
static void clt_cmd_fire(struct vnode_xprt_hold *h)
{
	struct vnode_xprt_cmd *cmd = container_of(h, struct vnode_xprt_cmd,
						  hold);

	cmd->done(cmd, 0);
}

static void clt_cmd_put(struct vnode_xprt_ctag *ct)
{
	struct vnode_xprt_queue *q = ct->queue;
	struct vnode_xprt_cmd *cmd = ct->cmd;

	if (!atomic_dec_and_test(&ct->ref))
		return;
	if (ct->nents) {
		ib_dma_unmap_sg(q->dev->ibdev, cmd->sgl, cmd->nents,
				cmd->to_server ? DMA_TO_DEVICE :
				DMA_FROM_DEVICE);
		ct->nents = 0;
	}
	clear_bit(CT_MR, &ct->flags);
	WRITE_ONCE(ct->cmd, NULL);
	if (!vnode_fabric_hold(q->clt, &cmd->hold, ct->status, clt_cmd_fire))
		cmd->done(cmd, ct->status);
}

static void clt_cmd_wr_error(struct vnode_xprt_ctag *ct, struct ib_wc *wc,
			     const char *what)
{
	struct vnode_xprt_queue *q = ct->queue;

	if (wc->status == IB_WC_WR_FLUSH_ERR) {
		if (!ct->status)
			ct->status = -ENOTCONN;
		return;
	}
	clt_log(err, q->clt, "queue %u %s failed: %s\n", q->idx, what,
		ib_wc_status_msg(wc->status));
	ct->status = -ENOTCONN;
	clt_queue_error(q, ib_wc_status_msg(wc->status));
}

/* The SEND of @ct will never be posted: drop its reference and the reply's. */
static void clt_cmd_unsent(struct vnode_xprt_ctag *ct)
{
	if (!ct->status)
		ct->status = -ENOTCONN;
	if (test_and_clear_bit(CT_REPLY, &ct->flags))
		clt_cmd_put(ct);
	clt_cmd_put(ct);
}

/*
 * The REG_MR of a command completed on the registration QP (CQ context).
 * Work requests of two QPs are not ordered, so the command's SEND is
 * posted only now, when the server may use the rkey.
 */
static void clt_cmd_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_ctag *ct = container_of(wc->wr_cqe,
						  struct vnode_xprt_ctag,
						  reg_cqe);
	struct vnode_xprt_queue *q = ct->queue;
	struct ib_send_wr wr = {};
	bool sent = false;

	if (wc->status != IB_WC_SUCCESS) {
		clt_cmd_wr_error(ct, wc, "REG_MR");
		clt_cmd_unsent(ct);
		return;
	}

	wr.opcode = IB_WR_SEND;
	wr.send_flags = IB_SEND_SIGNALED;
	wr.wr_cqe = &ct->send_cqe;
	wr.sg_list = ct->sge;
	wr.num_sge = 1;
	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	/* Not LIVE: being torn down, the MR dies with the connection. */
	if (test_bit(VQ_LIVE, &q->flags)) {
		sent = !ib_post_send(q->qp, &wr, NULL);
		if (!sent)
			clt_queue_error(q, "command SEND post failed");
	}
	atomic_dec(&q->posting);
	if (!sent)
		clt_cmd_unsent(ct);
}

static void clt_cmd_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_ctag *ct = container_of(wc->wr_cqe,
						  struct vnode_xprt_ctag,
						  send_cqe);

	if (wc->status != IB_WC_SUCCESS)
		clt_cmd_wr_error(ct, wc, "command SEND");
	clt_cmd_put(ct);
}

static void clt_cmd_inv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vnode_xprt_ctag *ct = container_of(wc->wr_cqe,
						  struct vnode_xprt_ctag,
						  inv_cqe);

	if (wc->status != IB_WC_SUCCESS)
		clt_cmd_wr_error(ct, wc, "LOCAL_INV");
	clt_cmd_put(ct);
}

/* The reply of a command arrived (CQ context). */
void clt_cmd_reply(struct vnode_xprt_queue *q, struct ib_wc *wc,
		   const struct vnode_msg_hdr *hdr, u32 len)
{
	u32 tag = le32_to_cpu(hdr->tag) & ~VNODE_XPRT_CMD_TAG;
	struct ib_send_wr wr = {};
	struct vnode_xprt_ctag *ct;
	struct vnode_xprt_cmd *cmd;

	if (tag >= q->clt->cfg.cmd_depth)
		goto bad;
	ct = &q->ctags[tag];
	cmd = READ_ONCE(ct->cmd);
	if (!cmd || !test_and_clear_bit(CT_REPLY, &ct->flags))
		goto bad;
	if (cmd->rsp) {
		memset(cmd->rsp, 0, cmd->rsp_len);
		memcpy(cmd->rsp, hdr, min_t(size_t, len, cmd->rsp_len));
	}
	if (test_bit(CT_MR, &ct->flags) &&
	    !((wc->wc_flags & IB_WC_WITH_INVALIDATE) &&
	      wc->ex.invalidate_rkey == ct->mr->rkey)) {
		/* The server did not invalidate it: do it before done. */
		ct->inv_cqe.done = clt_cmd_inv_done;
		wr.opcode = IB_WR_LOCAL_INV;
		wr.wr_cqe = &ct->inv_cqe;
		wr.send_flags = IB_SEND_SIGNALED;
		wr.ex.invalidate_rkey = ct->mr->rkey;
		/*
		 * No VQ_LIVE check: teardown drains @qp (this handler) before
		 * it drains @reg_qp, so this LOCAL_INV completes or is flushed
		 * before @reg_qp is destroyed.
		 */
		if (ib_post_send(q->reg_qp, &wr, NULL)) {
			ct->status = -ENOTCONN;
			clt_queue_error(q, "LOCAL_INV post failed");
		} else {
			return;	/* the LOCAL_INV holds the reply's ref */
		}
	}
	clt_cmd_put(ct);
	return;
bad:
	clt_log(warn, q->clt, "queue %u: reply to unknown command %u\n",
		q->idx, tag);
}

/* After the drain: no reply can arrive; fail the commands waiting. */
void clt_cmds_abort(struct vnode_xprt_queue *q)
{
	unsigned int i;

	for (i = 0; i < q->clt->cfg.cmd_depth; i++) {
		struct vnode_xprt_ctag *ct = &q->ctags[i];

		if (test_and_clear_bit(CT_REPLY, &ct->flags)) {
			ct->status = -ENOTCONN;
			clt_cmd_put(ct);
		}
		WARN_ON_ONCE(READ_ONCE(ct->cmd));
	}
}

int clt_cmds_alloc(struct vnode_xprt_queue *q)
{
	unsigned int i, n = q->clt->cfg.cmd_depth;

	if (!n)
		return 0;
	q->ctags = vnode_fault(kcalloc(n, sizeof(*q->ctags), GFP_KERNEL));
	q->req_buf = vnode_fault(kcalloc(n, VNODE_MSG_MAX, GFP_KERNEL));
	if (!q->ctags || !q->req_buf)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		q->ctags[i].queue = q;
		q->ctags[i].reg_cqe.done = clt_cmd_reg_done;
		q->ctags[i].send_cqe.done = clt_cmd_send_done;
	}
	return 0;
}

void clt_cmds_free_ib(struct vnode_xprt_queue *q)
{
	unsigned int i;

	for (i = 0; i < q->clt->cfg.cmd_depth; i++) {
		if (q->ctags[i].mr)
			ib_dereg_mr(q->ctags[i].mr);
		q->ctags[i].mr = NULL;
	}
	if (q->req_dma)
		ib_dma_unmap_single(q->dev->ibdev, q->req_dma,
				    q->clt->cfg.cmd_depth * VNODE_MSG_MAX,
				    DMA_TO_DEVICE);
	q->req_dma = 0;
}

/* Request buffers and one FRWR MR per command slot.  Sleeps. */
int clt_cmds_init_ib(struct vnode_xprt_queue *q)
{
	struct vnode_xprt_clt *clt = q->clt;
	struct ib_device *ibdev = q->dev->ibdev;
	unsigned int i, n = clt->cfg.cmd_depth;

	if (!n)
		return 0;
	q->req_dma = ib_dma_map_single(ibdev, q->req_buf, n * VNODE_MSG_MAX,
				       DMA_TO_DEVICE);
	if (ib_dma_mapping_error(ibdev, q->req_dma)) {
		q->req_dma = 0;
		return -EIO;
	}
	for (i = 0; clt->cfg.max_fr_pages && i < n; i++) {
		struct ib_mr *mr = vnode_fault_err(ib_alloc_mr(q->dev->pd,
				IB_MR_TYPE_MEM_REG,
				vnode_fr_mr_pages(ibdev, clt->cfg.max_fr_pages)));

		if (IS_ERR(mr)) {
			clt_log(err, clt, "ib_alloc_mr(%u pages): %ld\n",
				clt->cfg.max_fr_pages, PTR_ERR(mr));
			clt_cmds_free_ib(q);
			return PTR_ERR(mr);
		}
		q->ctags[i].mr = mr;
	}
	return 0;
}

/* Commands per queue the server takes on this connection. */
void clt_set_cmd_depth(struct vnode_xprt_clt *clt)
{
	unsigned int srv = le16_to_cpu(clt->acc.max_inflight);

	srv = srv > VNODE_XPRT_CTRL_DEPTH ? srv - VNODE_XPRT_CTRL_DEPTH : 0;
	WRITE_ONCE(clt->cmd_depth, min(clt->cfg.cmd_depth, srv));
}

/* Map and register the data of @cmd for the server.  0 or -errno. */
static int clt_cmd_map(struct vnode_xprt_queue *q, struct vnode_xprt_ctag *ct,
		       struct vnode_xprt_cmd *cmd, struct vnode_sgl *desc,
		       struct ib_reg_wr *reg, size_t *inline_len)
{
	struct ib_device *ibdev = q->dev->ibdev;
	struct scatterlist *sg;
	int n, i;

	n = ib_dma_map_sg(ibdev, cmd->sgl, cmd->nents,
			  cmd->to_server ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
	if (!n)
		return -EIO;
	ct->nents = n;
	if (cmd->inline_data) {
		if (!cmd->to_server || n > VNODE_XPRT_INLINE_SGES)
			return -EINVAL;
		for_each_sg(cmd->sgl, sg, n, i) {
			ct->sge[1 + i].addr = sg_dma_address(sg);
			ct->sge[1 + i].length = sg_dma_len(sg);
			ct->sge[1 + i].lkey = q->dev->pd->local_dma_lkey;
			*inline_len += sg_dma_len(sg);
		}
		memset(desc, 0, sizeof(*desc));
		return 0;
	}
	if (!ct->mr)
		return -EINVAL;
	if (ib_map_mr_sg(ct->mr, cmd->sgl, n, NULL, PAGE_SIZE) != n)
		return -EINVAL;
	ib_update_fast_reg_key(ct->mr, ib_inc_rkey(ct->mr->rkey));
	reg->wr.opcode = IB_WR_REG_MR;
	reg->wr.send_flags = IB_SEND_SIGNALED;
	reg->wr.wr_cqe = &ct->reg_cqe;
	reg->mr = ct->mr;
	reg->key = ct->mr->rkey;
	reg->access = cmd->to_server ? IB_ACCESS_REMOTE_READ :
		      IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;
	desc->addr = cpu_to_le64(ct->mr->iova);
	desc->rkey = cpu_to_le32(ct->mr->rkey);
	desc->len = cpu_to_le32(ct->mr->length);
	set_bit(CT_MR, &ct->flags);
	return 0;
}

/* Data bytes of @cmd (its buffer's length). */
static u32 clt_cmd_bytes(const struct vnode_xprt_cmd *cmd)
{
	struct scatterlist *sg;
	u32 bytes = 0;
	int i;

	if (cmd->sgl)
		for_each_sg(cmd->sgl, sg, cmd->nents, i)
			bytes += sg->length;
	return bytes;
}

int vnode_xprt_clt_submit(struct vnode_xprt_clt *clt, unsigned int qid,
			  unsigned int tag, struct vnode_xprt_cmd *cmd,
			  struct vnode_msg_hdr *req, size_t req_len,
			  struct vnode_sgl *desc)
{
	struct vnode_xprt_queue *q;
	struct vnode_xprt_ctag *ct;
	struct ib_reg_wr reg = {};
	struct ib_send_wr wr = {};
	size_t inline_len = 0;
	enum vnode_xprt_state st;
	void *buf;
	bool bh;
	int ret;

	if (unlikely(!cmd || !cmd->done || qid >= clt->nr_queues ||
		     tag >= READ_ONCE(clt->cmd_depth) || !req ||
		     req_len < sizeof(*req) || req_len > VNODE_MSG_MAX ||
		     (cmd->sgl && (cmd->nents <= 0 ||
				   (!cmd->inline_data && !desc)))))
		return -EINVAL;
	st = READ_ONCE(clt->state);
	if (unlikely(st != VNODE_XPRT_LIVE))
		return st == VNODE_XPRT_DEAD || st == VNODE_XPRT_CLOSED ?
			-ENOTCONN : -EAGAIN;

	q = &clt->queues[qid];
	ct = &q->ctags[tag];
	atomic_inc(&q->posting);
	/* Pairs with the barrier in teardown: LIVE is read after posting++. */
	smp_mb__after_atomic();
	if (unlikely(!test_bit(VQ_LIVE, &q->flags))) {
		ret = -EAGAIN;
		goto out;
	}
	if (WARN_ON_ONCE(READ_ONCE(ct->cmd))) {
		ret = -EBUSY;
		goto out;
	}
	ct->status = 0;
	ct->nents = 0;
	ct->flags = 0;
	if (cmd->sgl) {
		ret = clt_cmd_map(q, ct, cmd, desc, &reg, &inline_len);
		if (ret)
			goto out_unmap;
	}

	req->magic = cpu_to_le32(VNODE_MAGIC);
	req->flags = 0;
	req->status = 0;
	req->tag = cpu_to_le32(tag | VNODE_XPRT_CMD_TAG);
	req->len = cpu_to_le32(req_len + inline_len);
	buf = clt_req_buf(q, tag);
	memcpy(buf, req, req_len);
	ct->sge[0].addr = q->req_dma + tag * VNODE_MSG_MAX;
	ct->sge[0].length = req_len;
	ct->sge[0].lkey = q->dev->pd->local_dma_lkey;
	ib_dma_sync_single_for_device(q->dev->ibdev, ct->sge[0].addr,
				      req_len, DMA_TO_DEVICE);

	/*
	 * The SEND completion and the reply each hold a reference.  With a
	 * data buffer, only the REG_MR is posted here, on the registration
	 * QP; its completion posts the SEND (clt_cmd_reg_done()).
	 */
	atomic_set(&ct->ref, 2);
	set_bit(CT_REPLY, &ct->flags);
	/* Counting the buffer's bytes walks it: only with a link. */
	cmd->hold.on = false;
	if (vnode_fabric_on(clt))
		vnode_fabric_post(clt, &cmd->hold, cmd->to_server,
				  clt_cmd_bytes(cmd));
	WRITE_ONCE(ct->cmd, cmd);
	bh = vnode_xprt_post_begin();
	if (test_bit(CT_MR, &ct->flags)) {
		ret = ib_post_send(q->reg_qp, &reg.wr, NULL);
	} else {
		wr.opcode = IB_WR_SEND;
		wr.send_flags = IB_SEND_SIGNALED;
		wr.wr_cqe = &ct->send_cqe;
		wr.sg_list = ct->sge;
		wr.num_sge = 1 + (inline_len ? ct->nents : 0);
		ret = ib_post_send(q->qp, &wr, NULL);
	}
	vnode_xprt_post_end(bh);
	if (unlikely(ret)) {
		WRITE_ONCE(ct->cmd, NULL);
		clear_bit(CT_REPLY, &ct->flags);
		clt_queue_error(q, "command post failed");
		ret = -EAGAIN;
		goto out_unmap;
	}
	goto out;

out_unmap:
	if (ct->nents)
		ib_dma_unmap_sg(q->dev->ibdev, cmd->sgl, cmd->nents,
				cmd->to_server ? DMA_TO_DEVICE :
				DMA_FROM_DEVICE);
	ct->nents = 0;
	ct->flags = 0;
out:
	atomic_dec(&q->posting);
	return ret;
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_submit);

bool vnode_xprt_clt_reset_queue(struct vnode_xprt_clt *clt, unsigned int qid,
				const char *why)
{
	if (qid >= clt->nr_queues)
		return false;
	return clt_queue_error(&clt->queues[qid], why);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_reset_queue);

unsigned int vnode_xprt_clt_cmd_depth(struct vnode_xprt_clt *clt)
{
	return READ_ONCE(clt->cmd_depth);
}
EXPORT_SYMBOL_GPL(vnode_xprt_clt_cmd_depth);
