// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_vol disk: blk-mq requests run in a workqueue (they sleep on the
 * OPEN/IO RPCs and on RDMA completions).  One request uses one bounce
 * slot of the storage host:
 *   write: RDMA WRITE pages -> slot, then STOR_IO(WRITE[, FUA])
 *   read:  STOR_IO(READ) fills the slot, then RDMA READ slot -> pages
 * Connection loss: the transport reconnects; a request that failed on
 * the way is retried once the volume is open again.  After
 * loss_timeout_ms without a working connection the disk goes dead and
 * every request fails with EIO.
 */
#include "vol.h"

#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <trace/events/vnode_vol.h>

static DEFINE_IDA(vol_ida);
static int vol_major;

static bool vol_past_loss(struct vol_dev *d, unsigned long since)
{
	return time_after(jiffies, since +
			  msecs_to_jiffies(d->loss_timeout_ms));
}

/* The volume is unusable until reopened (or for good when @dead). */
static void vol_set_lost(struct vol_dev *d, bool dead, const char *why)
{
	unsigned long flags;
	bool was_ready, was_dead;

	spin_lock_irqsave(&d->lock, flags);
	was_ready = d->ready;
	was_dead = d->dead;
	if (d->ready) {
		d->ready = false;
		d->loss_start = jiffies;
	}
	if (dead)
		d->dead = true;
	spin_unlock_irqrestore(&d->lock, flags);
	if (dead && !was_dead)
		dlog(err, d, "volume lost (%s): failing I/O\n", why);
	else if (was_ready)
		dlog(warn, d, "volume unavailable (%s): holding I/O for up to %u ms\n",
		     why, d->loss_timeout_ms);
	wake_up_all(&d->wait);
}

/* OPEN the volume on the current connection; fills @exp. */
static int vol_open_volume(struct vol_dev *d, struct vol_export *exp)
{
	struct vnode_stor_open_req req = { .hdr.op = VNODE_OP_STOR_OPEN };
	struct vnode_stor_open_rsp rsp = {};
	int ret;

	strscpy_pad(req.volume, d->volume, sizeof(req.volume));
	ret = vnode_xprt_clt_call(d->clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), vol_rpc_timeout_ms);
	if (ret)
		return ret;
	switch (le16_to_cpu(rsp.hdr.status)) {
	case VNODE_ST_OK:
		break;
	case VNODE_ST_NOENT:
		return -ENOENT;
	case VNODE_ST_PERM:
		return -EACCES;
	case VNODE_ST_FULL:
		return -EBUSY;
	case VNODE_ST_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
	if (le32_to_cpu(rsp.hdr.len) < sizeof(rsp))
		return -EPROTO;
	exp->size = le64_to_cpu(rsp.size);
	exp->buf_addr = le64_to_cpu(rsp.buf_addr);
	exp->rkey = le32_to_cpu(rsp.buf_rkey);
	exp->slot_size = le32_to_cpu(rsp.slot_size);
	exp->nr_slots = le16_to_cpu(rsp.nr_slots);
	exp->block_size = le16_to_cpu(rsp.block_size);
	exp->flags = le32_to_cpu(rsp.flags);
	exp->max_discard = le32_to_cpu(rsp.max_discard);
	exp->volume_id = le64_to_cpu(rsp.volume_id);
	if (!exp->size || !exp->nr_slots || exp->slot_size < PAGE_SIZE ||
	    !IS_ALIGNED(exp->slot_size, PAGE_SIZE) ||
	    !is_power_of_2(exp->block_size) || exp->block_size < 512 ||
	    exp->block_size > PAGE_SIZE)
		return -EPROTO;
	return 0;
}

/*
 * First OPEN.  Transport trouble (the storage host's bounce-area
 * registration can fail on rxe and take the connection down) is retried
 * once the connection is LIVE again, a few times.
 */
static int vol_open_with_retry(struct vol_dev *d)
{
	unsigned long deadline;
	int ret, tries;

	for (tries = 0; ; tries++) {
		ret = vol_open_volume(d, &d->exp);
		if ((ret != -ETIMEDOUT && ret != -ENOTCONN && ret != -ENOMEM) ||
		    tries >= 2)
			return ret;
		dlog(warn, d, "OPEN of %s failed (%d), retrying\n", d->volume,
		     ret);
		deadline = jiffies + msecs_to_jiffies(d->loss_timeout_ms);
		while (vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE) {
			if (vnode_xprt_clt_state(d->clt) == VNODE_XPRT_DEAD ||
			    time_after(jiffies, deadline))
				return ret;
			msleep(100);
		}
		d->server_id = vnode_xprt_clt_server_id(d->clt);
	}
}

/* Reopen after a reconnect; retried until the loss timeout. */
static void vol_reopen_work(struct work_struct *work)
{
	struct vol_dev *d = container_of(to_delayed_work(work), struct vol_dev,
					 reopen_work);
	struct vol_export exp = {};
	unsigned long flags;
	int ret;

	if (READ_ONCE(d->dead) || READ_ONCE(d->ready))
		return;
	if (vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE)
		return;	/* the next LIVE state change requeues us */
	ret = vol_open_volume(d, &exp);
	if (!ret && (exp.volume_id != d->exp.volume_id ||
		     exp.size != d->exp.size ||
		     exp.slot_size != d->exp.slot_size ||
		     exp.nr_slots < d->exp.nr_slots)) {
		vol_set_lost(d, true, "the storage host has another volume of that name");
		return;
	}
	if (ret) {
		if (vol_past_loss(d, READ_ONCE(d->loss_start))) {
			vol_set_lost(d, true, "reopen failed past the loss timeout");
			return;
		}
		dlog(info, d, "reopen of %s failed (%d), retrying\n", d->volume,
		     ret);
		queue_delayed_work(system_long_wq, &d->reopen_work,
				   msecs_to_jiffies(500));
		return;
	}
	spin_lock_irqsave(&d->lock, flags);
	d->exp.buf_addr = exp.buf_addr;
	d->exp.rkey = exp.rkey;
	d->server_id = vnode_xprt_clt_server_id(d->clt);
	d->ready = true;
	spin_unlock_irqrestore(&d->lock, flags);
	atomic64_inc(&d->reconnects);
	dlog(info, d, "volume %s reopened: resuming I/O\n", d->volume);
	wake_up_all(&d->wait);
}

static void vol_state_change(struct vnode_xprt_clt *clt,
			     enum vnode_xprt_state old,
			     enum vnode_xprt_state new, void *priv)
{
	struct vol_dev *d = priv;
	unsigned long flags;
	bool resumed = false;

	/* Until the first OPEN succeeded, vol_open_with_retry() handles it. */
	if (!READ_ONCE(d->opened))
		return;
	switch (new) {
	case VNODE_XPRT_RECONNECTING:
		vol_set_lost(d, false, "connection lost");
		break;
	case VNODE_XPRT_LIVE:
		if (old == VNODE_XPRT_CONNECTING)
			break;
		/* Same server and it kept our state: the MR is still valid. */
		spin_lock_irqsave(&d->lock, flags);
		if (!d->dead && vnode_xprt_clt_server_id(clt) == d->server_id) {
			d->ready = true;
			resumed = true;
		}
		spin_unlock_irqrestore(&d->lock, flags);
		if (resumed) {
			dlog(info, d, "connection resumed\n");
			wake_up_all(&d->wait);
		} else {
			queue_delayed_work(system_long_wq, &d->reopen_work, 0);
		}
		break;
	case VNODE_XPRT_DEAD:
		vol_set_lost(d, true, "storage host unreachable past the loss timeout");
		break;
	default:
		break;
	}
}

static const struct vnode_xprt_clt_ops vol_clt_ops = {
	.state_change	= vol_state_change,
};

/* ------------------------------------------------------------------ */
/* Request path                                                        */
/* ------------------------------------------------------------------ */

/*
 * Wait until the volume is usable.  0, or -EIO when dead, or past
 * @deadline (jiffies) of this request.
 */
static int vol_wait_ready(struct vol_dev *d, unsigned long deadline)
{
	long left;

	for (;;) {
		if (READ_ONCE(d->dead))
			return -EIO;
		if (READ_ONCE(d->ready))
			return 0;
		if (READ_ONCE(d->removing))
			return -EIO;
		left = (long)(deadline - jiffies);
		if (left <= 0) {
			/* The volume's loss timeout, not just ours: give up. */
			if (vol_past_loss(d, READ_ONCE(d->loss_start)))
				vol_set_lost(d, true, "loss timeout");
			return -EIO;
		}
		wait_event_timeout(d->wait, READ_ONCE(d->ready) ||
				   READ_ONCE(d->dead) ||
				   READ_ONCE(d->removing), left);
	}
}

static int vol_get_slot(struct vol_dev *d)
{
	unsigned long flags;
	int slot;

	spin_lock_irqsave(&d->lock, flags);
	slot = find_first_zero_bit(&d->slot_map, d->exp.nr_slots);
	if (slot < d->exp.nr_slots)
		__set_bit(slot, &d->slot_map);
	else
		slot = -EBUSY;
	spin_unlock_irqrestore(&d->lock, flags);
	return slot;
}

static void vol_put_slot(struct vol_dev *d, int slot)
{
	unsigned long flags;

	if (slot < 0)
		return;
	spin_lock_irqsave(&d->lock, flags);
	__clear_bit(slot, &d->slot_map);
	spin_unlock_irqrestore(&d->lock, flags);
	wake_up_all(&d->wait);
}

static void vol_rdma_done(struct vnode_xprt_io *io, int error)
{
	struct vol_cmd *cmd = io->priv;

	if (error && !cmd->rdma_err)
		cmd->rdma_err = error;
	if (atomic_dec_and_test(&cmd->pending))
		complete(&cmd->rdma_done);
}

/* Move the request's pages to (@write) or from its slot. */
static int vol_rdma(struct vol_cmd *cmd, struct request *rq, bool write,
		    u64 raddr, u32 rkey)
{
	struct vol_dev *d = cmd->d;
	unsigned int n = 0, max = VOL_MAX_IOS(d->exp.slot_size);
	struct req_iterator iter;
	struct bio_vec bv;
	int ret = 0, tries;

	atomic_set(&cmd->pending, 1);
	cmd->rdma_err = 0;
	reinit_completion(&cmd->rdma_done);
	rq_for_each_segment(bv, rq, iter) {
		struct vnode_xprt_io *io;

		if (n >= max) {
			ret = -EIO;
			break;
		}
		io = &cmd->ios[n++];
		io->done = vol_rdma_done;
		io->priv = cmd;
		atomic_inc(&cmd->pending);
		for (tries = 0; tries < 2000; tries++) {
			ret = vnode_xprt_clt_rdma(d->clt, write, bv.bv_page,
						  bv.bv_offset, bv.bv_len,
						  raddr, rkey, io);
			/* -EAGAIN: queue full (wait) or reconnecting (fail). */
			if (ret != -EAGAIN ||
			    vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE)
				break;
			usleep_range(50, 200);
		}
		if (ret) {
			atomic_dec(&cmd->pending);
			break;
		}
		raddr += bv.bv_len;
	}
	if (atomic_dec_and_test(&cmd->pending))
		complete(&cmd->rdma_done);
	wait_for_completion(&cmd->rdma_done);
	return ret ?: cmd->rdma_err;
}

/*
 * One attempt.  Returns 0, -EIO (final) or -EAGAIN (connection trouble:
 * retry when the volume is usable again).
 */
static int vol_try(struct vol_cmd *cmd, struct request *rq, int op, int *slotp)
{
	struct vol_dev *d = cmd->d;
	struct vnode_stor_io_req req = { .hdr.op = VNODE_OP_STOR_IO };
	struct vnode_stor_io_rsp rsp = {};
	unsigned long flags;
	u64 raddr = 0;
	u32 rkey = 0;
	int ret, slot = -1;

	req.cmd = op;
	req.offset = cpu_to_le64(blk_rq_pos(rq) << SECTOR_SHIFT);
	req.len = cpu_to_le32(op == VNODE_STOR_FLUSH ? 0 : blk_rq_bytes(rq));
	if (op == VNODE_STOR_WRITE && (rq->cmd_flags & REQ_FUA))
		req.flags |= VNODE_STOR_IO_F_FUA;

	if (op == VNODE_STOR_READ || op == VNODE_STOR_WRITE) {
		wait_event(d->wait, (slot = vol_get_slot(d)) >= 0);
		*slotp = slot;
		spin_lock_irqsave(&d->lock, flags);
		raddr = d->exp.buf_addr + (u64)slot * d->exp.slot_size;
		rkey = d->exp.rkey;
		spin_unlock_irqrestore(&d->lock, flags);
		req.slot = cpu_to_le16(slot);
	}
	if (op == VNODE_STOR_WRITE) {
		ret = vol_rdma(cmd, rq, true, raddr, rkey);
		if (ret)
			return -EAGAIN;
	}
	ret = vnode_xprt_clt_call(d->clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), vol_rpc_timeout_ms);
	if (ret)
		return -EAGAIN;
	switch (le16_to_cpu(rsp.hdr.status)) {
	case VNODE_ST_OK:
		break;
	case VNODE_ST_NOENT:
		/* The storage host does not know our OPEN: reopen. */
		return -EAGAIN;
	default:
		dlog(err, d, "op %d at %llu+%u: storage host status %u\n", op,
		     le64_to_cpu(req.offset), le32_to_cpu(req.len),
		     le16_to_cpu(rsp.hdr.status));
		return -EIO;
	}
	if (op == VNODE_STOR_READ) {
		ret = vol_rdma(cmd, rq, false, raddr, rkey);
		if (ret)
			return -EAGAIN;
	}
	return 0;
}

static int vol_rq_op(struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:		return VNODE_STOR_READ;
	case REQ_OP_WRITE:		return VNODE_STOR_WRITE;
	case REQ_OP_FLUSH:		return VNODE_STOR_FLUSH;
	case REQ_OP_DISCARD:		return VNODE_STOR_DISCARD;
	case REQ_OP_WRITE_ZEROES:	return VNODE_STOR_WRITE_ZEROES;
	default:			return -1;
	}
}

static void vol_work(struct work_struct *work)
{
	struct vol_cmd *cmd = container_of(work, struct vol_cmd, work);
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct vol_dev *d = cmd->d;
	int op = vol_rq_op(rq), ret, slot;
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(d->loss_timeout_ms);
	bool retried = false;
	u32 bytes = blk_rq_bytes(rq);

	if (op < 0) {
		ret = -EOPNOTSUPP;
		goto done;
	}
	for (;;) {
		ret = vol_wait_ready(d, deadline);
		if (ret)
			break;
		slot = -1;
		ret = vol_try(cmd, rq, op, &slot);
		vol_put_slot(d, slot);
		if (ret != -EAGAIN)
			break;
		/* Connection trouble: hold the request, bounded. */
		if (!retried)
			atomic64_inc(&d->retries);
		retried = true;
		/*
		 * The transport may not have reported the loss yet: mark it
		 * here so that the loss timeout starts now.  On a connection
		 * that is (again) LIVE the storage host lost our OPEN or an
		 * RPC timed out: reopen; otherwise the LIVE state change will.
		 */
		vol_set_lost(d, false, "request failed");
		if (vnode_xprt_clt_state(d->clt) == VNODE_XPRT_LIVE)
			queue_delayed_work(system_long_wq, &d->reopen_work, 0);
		deadline = READ_ONCE(d->loss_start) +
			   msecs_to_jiffies(d->loss_timeout_ms);
		if (time_before(deadline, jiffies + HZ / 10))
			deadline = jiffies + HZ / 10;
		msleep(20);
	}
done:
	switch (op) {
	case VNODE_STOR_READ:
		atomic64_inc(&d->reads);
		if (!ret)
			atomic64_add(bytes, &d->bytes_read);
		break;
	case VNODE_STOR_WRITE:
		atomic64_inc(&d->writes);
		if (!ret)
			atomic64_add(bytes, &d->bytes_written);
		if (rq->cmd_flags & REQ_FUA)
			atomic64_inc(&d->flushes);
		break;
	case VNODE_STOR_FLUSH:
		atomic64_inc(&d->flushes);
		break;
	default:
		atomic64_inc(&d->discards);
		break;
	}
	if (ret)
		atomic64_inc(&d->errors);
	trace_vol_rq(d->name, op, blk_rq_pos(rq) << SECTOR_SHIFT,
		     op == VNODE_STOR_FLUSH ? 0 : bytes,
		     ktime_get_ns() - cmd->start_ns, ret);
	blk_mq_end_request(rq, errno_to_blk_status(ret));
}

static blk_status_t vol_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct vol_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct vol_dev *d = hctx->queue->queuedata;

	if (READ_ONCE(d->dead))
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);
	cmd->start_ns = ktime_get_ns();
	queue_work(d->wq, &cmd->work);
	return BLK_STS_OK;
}

/* Held requests are bounded by the loss timeout, not by blk-mq's. */
static enum blk_eh_timer_return vol_timeout(struct request *rq)
{
	return BLK_EH_RESET_TIMER;
}

static int vol_init_request(struct blk_mq_tag_set *set, struct request *rq,
			    unsigned int hctx_idx, unsigned int numa_node)
{
	struct vol_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->d = set->driver_data;
	INIT_WORK(&cmd->work, vol_work);
	init_completion(&cmd->rdma_done);
	return 0;
}

static const struct blk_mq_ops vol_mq_ops = {
	.queue_rq	= vol_queue_rq,
	.timeout	= vol_timeout,
	.init_request	= vol_init_request,
};

static const struct block_device_operations vol_fops = {
	.owner		= THIS_MODULE,
};

/* ------------------------------------------------------------------ */
/* sysfs: /sys/block/vnblkN/vnode/                                     */
/* ------------------------------------------------------------------ */

static struct vol_dev *dev_to_vol(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

#define VOL_STAT_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&dev_to_vol(dev)->field));	\
}									\
static DEVICE_ATTR_RO(field)

VOL_STAT_ATTR(reads);
VOL_STAT_ATTR(writes);
VOL_STAT_ATTR(flushes);
VOL_STAT_ATTR(discards);
VOL_STAT_ATTR(errors);
VOL_STAT_ATTR(bytes_read);
VOL_STAT_ATTR(bytes_written);
VOL_STAT_ATTR(retries);
VOL_STAT_ATTR(reconnects);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return vol_dev_state(dev_to_vol(dev), buf);
}
static DEVICE_ATTR_RO(state);

static ssize_t volume_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vol_dev *d = dev_to_vol(dev);

	return sysfs_emit(buf, "%s %s\n", vnode_xprt_clt_peer(d->clt),
			  d->volume);
}
static DEVICE_ATTR_RO(volume);

static struct attribute *vol_attrs[] = {
	&dev_attr_reads.attr,
	&dev_attr_writes.attr,
	&dev_attr_flushes.attr,
	&dev_attr_discards.attr,
	&dev_attr_errors.attr,
	&dev_attr_bytes_read.attr,
	&dev_attr_bytes_written.attr,
	&dev_attr_retries.attr,
	&dev_attr_reconnects.attr,
	&dev_attr_state.attr,
	&dev_attr_volume.attr,
	NULL,
};

static const struct attribute_group vol_attr_group = {
	.name	= "vnode",
	.attrs	= vol_attrs,
};

static const struct attribute_group *vol_attr_groups[] = {
	&vol_attr_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* Create / destroy                                                    */
/* ------------------------------------------------------------------ */

ssize_t vol_dev_state(struct vol_dev *d, char *page)
{
	const char *s;

	if (READ_ONCE(d->dead))
		s = "dead";
	else if (READ_ONCE(d->ready))
		s = "live";
	else
		s = "reconnecting";
	return sprintf(page, "%s\n", s);
}

int vol_dev_create(struct vol_cfg *cfg, struct vol_dev **out)
{
	struct vnode_xprt_cfg xcfg = {};
	struct vnode_disk_limits lim = {};
	struct vol_dev *d;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	spin_lock_init(&d->lock);
	init_waitqueue_head(&d->wait);
	INIT_DELAYED_WORK(&d->reopen_work, vol_reopen_work);
	strscpy(d->volume, cfg->volume, sizeof(d->volume));
	d->loss_timeout_ms = cfg->loss_timeout_ms;
	d->client_id = get_random_u64();

	d->index = ida_alloc(&vol_ida, GFP_KERNEL);
	if (d->index < 0) {
		ret = d->index;
		goto out_free;
	}
	snprintf(d->name, sizeof(d->name), "vnblk%d", d->index);

	xcfg.addr = cfg->addr;
	xcfg.role = VNODE_ROLE_STOR;
	xcfg.client_id = d->client_id;
	xcfg.name = d->name;
	xcfg.nr_queues = vol_nr_queues;
	xcfg.connect_timeout_ms = vol_connect_timeout_ms;
	xcfg.loss_timeout_ms = d->loss_timeout_ms;
	d->clt = vnode_xprt_clt_open(&xcfg, &vol_clt_ops, d, NULL);
	if (IS_ERR(d->clt)) {
		ret = PTR_ERR(d->clt);
		d->clt = NULL;
		pr_err("<%s> cannot connect to %s: %d\n", d->name, cfg->host,
		       ret);
		goto out_ida;
	}
	d->server_id = vnode_xprt_clt_server_id(d->clt);
	ret = vol_open_with_retry(d);
	if (ret) {
		dlog(err, d, "cannot open volume %s: %d (%s)\n", d->volume, ret,
		     ret == -ENOENT ? "no such enabled volume" :
		     ret == -EACCES ? "not exported to this host" :
		     ret == -EBUSY ? "open by another client" : "error");
		goto out_close;
	}
	if (d->exp.nr_slots > VOL_MAX_SLOTS)
		d->exp.nr_slots = VOL_MAX_SLOTS;
	spin_lock_irq(&d->lock);
	d->ready = true;
	d->server_id = vnode_xprt_clt_server_id(d->clt);
	spin_unlock_irq(&d->lock);
	WRITE_ONCE(d->opened, true);
	/* A loss between OPEN and here was not reported to us: check. */
	if (vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE)
		vol_set_lost(d, false, "connection lost while attaching");

	d->wq = alloc_workqueue("%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 0, d->name);
	if (!d->wq) {
		ret = -ENOMEM;
		goto out_close;
	}

	d->tag_set.ops = &vol_mq_ops;
	d->tag_set.nr_hw_queues = 1;
	d->tag_set.queue_depth = d->exp.nr_slots * 2;
	d->tag_set.numa_node = NUMA_NO_NODE;
	d->tag_set.cmd_size = sizeof(struct vol_cmd) +
		VOL_MAX_IOS(d->exp.slot_size) * sizeof(struct vnode_xprt_io);
	d->tag_set.driver_data = d;
	d->tag_set.timeout = 30 * HZ;
	ret = blk_mq_alloc_tag_set(&d->tag_set);
	if (ret)
		goto out_destroy_wq;

	lim.block_size = d->exp.block_size;
	lim.max_hw_sectors = d->exp.slot_size >> SECTOR_SHIFT;
	lim.max_segments = d->exp.slot_size >> PAGE_SHIFT;
	lim.max_segment_size = PAGE_SIZE;
	lim.dma_alignment = d->exp.block_size - 1;
	if (d->exp.flags & VNODE_STOR_F_DISCARD) {
		lim.max_discard_sectors = d->exp.max_discard >> SECTOR_SHIFT;
		lim.discard_granularity = d->exp.block_size;
	}
	d->gd = vnode_blk_mq_alloc_disk(&d->tag_set, &lim, d);
	if (IS_ERR(d->gd)) {
		ret = PTR_ERR(d->gd);
		d->gd = NULL;
		goto out_free_tags;
	}
	vnode_disk_set_cache(d->gd, d->exp.flags & VNODE_STOR_F_FLUSH,
			     d->exp.flags & VNODE_STOR_F_FUA,
			     d->exp.flags & VNODE_STOR_F_DISCARD ?
			     d->exp.max_discard >> SECTOR_SHIFT : 0);
	d->gd->major = vol_major;
	d->gd->first_minor = d->index;
	d->gd->minors = 1;
	d->gd->fops = &vol_fops;
	d->gd->private_data = d;
	d->gd->flags |= GENHD_FL_NO_PART;
	strscpy(d->gd->disk_name, d->name, DISK_NAME_LEN);
	set_capacity(d->gd, d->exp.size >> SECTOR_SHIFT);

	ret = device_add_disk(NULL, d->gd, vol_attr_groups);
	if (ret)
		goto out_put_disk;
	dlog(info, d, "volume %s attached: %llu bytes, block %u, %u slots of %u bytes\n",
	     d->volume, d->exp.size, d->exp.block_size, d->exp.nr_slots,
	     d->exp.slot_size);
	*out = d;
	return 0;

out_put_disk:
	put_disk(d->gd);
out_free_tags:
	blk_mq_free_tag_set(&d->tag_set);
out_destroy_wq:
	destroy_workqueue(d->wq);
out_close:
	WRITE_ONCE(d->dead, true);
	cancel_delayed_work_sync(&d->reopen_work);
	vnode_xprt_clt_close(d->clt);
out_ida:
	ida_free(&vol_ida, d->index);
out_free:
	kfree(d);
	return ret;
}

int vol_dev_destroy(struct vol_dev *d)
{
	if (disk_openers(d->gd)) {
		dlog(info, d, "still open (mounted?): not detaching\n");
		return -EBUSY;
	}
	/* Do not hold I/O for a storage host that is gone. */
	WRITE_ONCE(d->removing, true);
	wake_up_all(&d->wait);
	/* Writes back and drains every request, held ones included. */
	del_gendisk(d->gd);
	WRITE_ONCE(d->dead, true);
	wake_up_all(&d->wait);
	destroy_workqueue(d->wq);
	cancel_delayed_work_sync(&d->reopen_work);
	dlog(info, d, "volume %s detached\n", d->volume);
	/* GOODBYE: the storage host closes the volume and flushes it. */
	vnode_xprt_clt_close(d->clt);
	cancel_delayed_work_sync(&d->reopen_work);
	put_disk(d->gd);
	blk_mq_free_tag_set(&d->tag_set);
	ida_free(&vol_ida, d->index);
	kfree(d);
	return 0;
}

int vol_init(void)
{
	vol_major = register_blkdev(0, "vnblk");
	return vol_major < 0 ? vol_major : 0;
}

void vol_exit(void)
{
	unregister_blkdev(vol_major, "vnblk");
	ida_destroy(&vol_ida);
}
