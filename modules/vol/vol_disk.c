// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_vol disk: blk-mq hardware queue i is transport queue i; every
 * request is one asynchronous STOR_IO command, posted from queue_rq and
 * completed from the CQ, like nvme-rdma:
 *   write: pages registered (FRWR) -> the storage host RDMA READs them,
 *          stores, replies with SEND-with-invalidate; small writes go
 *          inline in the command instead
 *   read:  pages registered -> the storage host RDMA WRITEs them and
 *          replies (SEND-with-invalidate)
 * Connection loss: the queue is quiesced (I/O held) and requests that
 * failed on the way are requeued; once the volume is open again the
 * queue runs.  After loss_timeout_ms without a working connection the
 * disk goes dead and every request fails with EIO.
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

/* Hold I/O while the volume is unusable.  d->lock held; any context. */
static void vol_hold_locked(struct vol_dev *d)
{
	if (d->gd && !d->quiesced && !d->dead && !d->removing) {
		d->quiesced = true;
		blk_mq_quiesce_queue_nowait(d->gd->queue);
	}
}

static void vol_unhold_locked(struct vol_dev *d)
{
	if (d->quiesced) {
		d->quiesced = false;
		blk_mq_unquiesce_queue(d->gd->queue);
	}
}

/* The volume is usable again: run the held requests. */
static void vol_set_ready(struct vol_dev *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	if (!d->dead) {
		d->ready = true;
		vol_unhold_locked(d);
	}
	spin_unlock_irqrestore(&d->lock, flags);
	wake_up_all(&d->wait);
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
		mod_delayed_work(system_long_wq, &d->loss_work,
				 msecs_to_jiffies(d->loss_timeout_ms) + 1);
	}
	if (dead) {
		d->dead = true;
		/* Held requests run now, and fail. */
		vol_unhold_locked(d);
	} else {
		vol_hold_locked(d);
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (dead && !was_dead)
		dlog(err, d, "volume lost (%s): failing I/O\n", why);
	else if (was_ready)
		dlog(warn, d, "volume unavailable (%s): holding I/O for up to %u ms\n",
		     why, d->loss_timeout_ms);
	wake_up_all(&d->wait);
}

static void vol_loss_work(struct work_struct *work)
{
	struct vol_dev *d = container_of(to_delayed_work(work), struct vol_dev,
					 loss_work);

	if (!READ_ONCE(d->ready) && !READ_ONCE(d->dead) &&
	    vol_past_loss(d, READ_ONCE(d->loss_start)))
		vol_set_lost(d, true, "loss timeout");
}

/* OPEN the volume on the current connection; fills @exp. */
static int vol_open_volume(struct vol_dev *d, struct vol_export *exp)
{
	struct vnode_stor_open_req req = { .hdr.op = VNODE_OP_STOR_OPEN };
	struct vnode_stor_open_rsp rsp = {};
	int ret;

	strscpy_pad(req.volume, d->volume, sizeof(req.volume));
	req.compat_version = cpu_to_le16(VNODE_STOR_COMPAT_VERSION);
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
	case VNODE_ST_VERSION:
		dlog(err, d, "storage host refused our protocol version %u.%u\n",
		     VNODE_PROTO_MAJOR, VNODE_PROTO_MINOR);
		return -EPROTO;
	default:
		return -EIO;
	}
	if (le32_to_cpu(rsp.hdr.len) < sizeof(rsp))
		return -EPROTO;
	exp->flags = le32_to_cpu(rsp.flags);
	if (!(exp->flags & VNODE_STOR_F_SRV_RDMA)) {
		dlog(err, d, "storage host speaks the 1.0 (bounce slot) data path: update it\n");
		return -EPROTO;
	}
	exp->size = le64_to_cpu(rsp.size);
	exp->max_io = min_t(u32, le32_to_cpu(rsp.max_io), VOL_MAX_IO);
	exp->queue_depth = le16_to_cpu(rsp.queue_depth);
	exp->block_size = le16_to_cpu(rsp.block_size);
	exp->max_discard = le32_to_cpu(rsp.max_discard);
	exp->inline_max = min(le32_to_cpu(rsp.inline_max), vol_inline_max);
	exp->volume_id = le64_to_cpu(rsp.volume_id);
	if (!exp->size || !exp->queue_depth || exp->max_io < PAGE_SIZE ||
	    !IS_ALIGNED(exp->max_io, PAGE_SIZE) ||
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
		/* The OPEN below is made on the current server state. */
		WRITE_ONCE(d->open_lost, false);
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
	}
}

/* Reopen after a reconnect; retried until the loss timeout. */
static void vol_reopen_work(struct work_struct *work)
{
	struct vol_dev *d = container_of(to_delayed_work(work), struct vol_dev,
					 reopen_work);
	struct vol_export exp = {};
	int ret;

	if (READ_ONCE(d->dead) || READ_ONCE(d->ready))
		return;
	if (vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE)
		return;	/* the next LIVE state change requeues us */
	/* Cleared before the OPEN: a loss during it is not forgotten. */
	WRITE_ONCE(d->open_lost, false);
	ret = vol_open_volume(d, &exp);
	if (!ret && (exp.volume_id != d->exp.volume_id ||
		     exp.size != d->exp.size ||
		     exp.max_io < d->exp.max_io)) {
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
	if (READ_ONCE(d->open_lost)) {
		/* Lost again while we reopened: once more. */
		queue_delayed_work(system_long_wq, &d->reopen_work, 0);
		return;
	}
	atomic64_inc(&d->reconnects);
	dlog(info, d, "volume %s reopened: resuming I/O\n", d->volume);
	vol_set_ready(d);
}

static void vol_state_change(struct vnode_xprt_clt *clt,
			     enum vnode_xprt_state old,
			     enum vnode_xprt_state new, bool lost,
			     void *priv)
{
	struct vol_dev *d = priv;
	bool resumed;

	/* Until an OPEN on the new server state clears it. */
	if (lost)
		WRITE_ONCE(d->open_lost, true);
	/* Pairs with vol_dev_create(): it sees open_lost or we see opened. */
	smp_mb();
	/* Until the first OPEN succeeded, vol_dev_create() handles it. */
	if (!READ_ONCE(d->opened))
		return;
	switch (new) {
	case VNODE_XPRT_RECONNECTING:
		vol_set_lost(d, false, "connection lost");
		break;
	case VNODE_XPRT_LIVE:
		if (old == VNODE_XPRT_CONNECTING)
			break;
		/* The storage host kept our state: the OPEN is still valid. */
		resumed = !READ_ONCE(d->dead) && !READ_ONCE(d->open_lost);
		if (resumed) {
			atomic64_inc(&d->reconnects);
			dlog(info, d, "connection resumed: resuming I/O\n");
			vol_set_ready(d);
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

static void vol_end(struct vol_cmd *cmd, int ret)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct vol_dev *d = cmd->d;
	int op = cmd->req.cmd;
	u32 bytes = blk_rq_bytes(rq);

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
	cmd->start_ns = 0;
	cmd->retried = false;
	blk_mq_end_request(rq, errno_to_blk_status(ret));
}

/*
 * I/O noticed a loss.  If the transport is (again) LIVE, its state change
 * may have been reported before this: reopen ourselves (an OPEN of the
 * volume we hold is harmless), else the LIVE state change will.
 */
static void vol_io_lost(struct vol_dev *d, const char *why)
{
	vol_set_lost(d, false, why);
	if (vnode_xprt_clt_state(d->clt) == VNODE_XPRT_LIVE)
		queue_delayed_work(system_long_wq, &d->reopen_work, HZ / 10);
}

/*
 * A request is retried (after a loss or a reset) only while it is younger
 * than loss_timeout_ms + rpc_timeout_ms: a storage host that keeps
 * accepting the connection but never answers cannot hold it forever.
 */
static bool vol_cmd_expired(struct vol_cmd *cmd)
{
	struct vol_dev *d = cmd->d;
	u64 age = ktime_get_ns() - cmd->start_ns;

	if (!cmd->retried ||
	    age <= (u64)(d->loss_timeout_ms + vol_rpc_timeout_ms) *
		   NSEC_PER_MSEC)
		return false;
	dlog(err, d, "op %u at %llu+%u: no answer after %llu ms and retries: failing it\n",
	     cmd->req.cmd, le64_to_cpu(cmd->req.offset),
	     le32_to_cpu(cmd->req.len), div_u64(age, NSEC_PER_MSEC));
	return true;
}

/* Connection trouble: hold the request until the volume is usable. */
static void vol_requeue(struct vol_cmd *cmd, const char *why)
{
	struct vol_dev *d = cmd->d;

	if (!cmd->retried)
		atomic64_inc(&d->retries);
	cmd->retried = true;
	if (vol_cmd_expired(cmd)) {
		vol_end(cmd, -EIO);
		return;
	}
	vol_io_lost(d, why);
	blk_mq_requeue_request(blk_mq_rq_from_pdu(cmd), true);
}

/* The command's reply arrived or the command failed.  CQ context. */
static void vol_cmd_done(struct vnode_xprt_cmd *xcmd, int error)
{
	struct vol_cmd *cmd = container_of(xcmd, struct vol_cmd, xcmd);
	struct vol_dev *d = cmd->d;
	u16 st;

	if (error) {
		vol_requeue(cmd, "request failed");
		return;
	}
	st = le16_to_cpu(cmd->rsp.hdr.status);
	switch (st) {
	case VNODE_ST_OK:
		vol_end(cmd, 0);
		return;
	case VNODE_ST_NOENT:
		/* The storage host does not know our OPEN: reopen. */
		vol_requeue(cmd, "storage host lost our OPEN");
		return;
	default:
		dlog(err, d, "op %u at %llu+%u: storage host status %u\n",
		     cmd->req.cmd, le64_to_cpu(cmd->req.offset),
		     le32_to_cpu(cmd->req.len), st);
		vol_end(cmd, -EIO);
	}
}

static blk_status_t vol_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct vol_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct vol_dev *d = hctx->queue->queuedata;
	struct vnode_stor_io_req *req = &cmd->req;
	int op = vol_rq_op(rq), ret;
	u32 bytes = blk_rq_bytes(rq);
	bool fail = READ_ONCE(d->dead);

	if (op < 0)
		return BLK_STS_NOTSUPP;
	if (!fail && !READ_ONCE(d->ready)) {
		/* Held: the queue is quiesced until ready (or dead). */
		if (!READ_ONCE(d->removing))
			return BLK_STS_RESOURCE;
		fail = true;
	}

	blk_mq_start_request(rq);
	if (!cmd->start_ns)
		cmd->start_ns = ktime_get_ns();
	memset(req, 0, sizeof(*req));
	req->cmd = op;
	/* Failed here, the request is counted and traced like any other. */
	if (fail || vol_cmd_expired(cmd)) {
		vol_end(cmd, -EIO);
		return BLK_STS_OK;
	}
	req->hdr.op = VNODE_OP_STOR_IO;
	req->offset = cpu_to_le64(blk_rq_pos(rq) << SECTOR_SHIFT);
	req->len = cpu_to_le32(op == VNODE_STOR_FLUSH ? 0 : bytes);
	if (op == VNODE_STOR_WRITE && (rq->cmd_flags & REQ_FUA))
		req->flags |= VNODE_STOR_IO_F_FUA;

	cmd->xcmd.sgl = NULL;
	cmd->xcmd.nents = 0;
	cmd->xcmd.inline_data = false;
	if (op == VNODE_STOR_READ || op == VNODE_STOR_WRITE) {
		sg_init_table(cmd->sgl, VOL_MAX_SEGS);
		cmd->xcmd.nents = blk_rq_map_sg(hctx->queue, rq, cmd->sgl);
		cmd->xcmd.sgl = cmd->sgl;
		cmd->xcmd.to_server = op == VNODE_STOR_WRITE;
		if (op == VNODE_STOR_WRITE && bytes <= d->exp.inline_max &&
		    cmd->xcmd.nents <= VNODE_XPRT_INLINE_SGES) {
			cmd->xcmd.inline_data = true;
			req->flags |= VNODE_STOR_IO_F_INLINE;
		}
	}
	ret = vnode_xprt_clt_submit(d->clt, hctx->queue_num, rq->tag,
				    &cmd->xcmd, &req->hdr, sizeof(*req),
				    &req->sgl);
	switch (ret) {
	case 0:
		return BLK_STS_OK;
	case -EAGAIN:
		/* Reconnecting: hold it (the queue is quiesced now). */
		vol_io_lost(d, "connection lost");
		return BLK_STS_RESOURCE;
	default:
		dlog(err, d, "cannot send op %d at %llu+%u: %d\n", op,
		     blk_rq_pos(rq) << SECTOR_SHIFT, bytes, ret);
		vol_end(cmd, ret);
		return BLK_STS_OK;
	}
}

/*
 * A command without a reply for rpc_timeout_ms.  On a live connection
 * the storage host lost it (or hangs): reset the connection, as
 * nvme-rdma's error recovery does, so every command in flight completes
 * with -ENOTCONN and is requeued and re-executed after the reconnect
 * (reads and writes are idempotent).  While the connection is down the
 * request is bounded by the loss timeout instead.
 */
static enum blk_eh_timer_return vol_timeout(struct request *rq)
{
	struct vol_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct vol_dev *d = cmd->d;

	if (READ_ONCE(d->dead) || !READ_ONCE(d->ready) ||
	    vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE)
		return BLK_EH_RESET_TIMER;
	atomic64_inc(&d->timeouts);
	if (vnode_xprt_clt_reset_queue(d->clt, rq->mq_hctx->queue_num,
				       "I/O command timed out"))
		dlog(warn, d, "op %u at %llu+%u on queue %u: no reply for %u ms on a live connection: resetting the connection (commands in flight are retried after the reconnect)\n",
		     cmd->req.cmd, le64_to_cpu(cmd->req.offset),
		     le32_to_cpu(cmd->req.len), rq->mq_hctx->queue_num,
		     vol_rpc_timeout_ms);
	return BLK_EH_RESET_TIMER;
}

static int vol_init_request(struct blk_mq_tag_set *set, struct request *rq,
			    unsigned int hctx_idx, unsigned int numa_node)
{
	struct vol_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->d = set->driver_data;
	cmd->xcmd.done = vol_cmd_done;
	cmd->xcmd.rsp = &cmd->rsp.hdr;
	cmd->xcmd.rsp_len = sizeof(cmd->rsp);
	return 0;
}

static const struct blk_mq_ops vol_mq_ops = {
	.queue_rq	= vol_queue_rq,
	.timeout	= vol_timeout,
	.init_request	= vol_init_request,
};

/* Under open_mutex: no new opener once vol_dev_destroy() has begun. */
static VNODE_BDEV_OPEN(vol_open, arg)
{
	struct vol_dev *d = VNODE_BDEV_OPEN_DISK(arg)->private_data;

	return READ_ONCE(d->closing) ? -ENXIO : 0;
}

static const struct block_device_operations vol_fops = {
	.owner		= THIS_MODULE,
	.open		= vol_open,
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
VOL_STAT_ATTR(timeouts);

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
/* Root only: a volume's name is not for other users (docs/security.md). */
static DEVICE_ATTR_ADMIN_RO(volume);

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
	&dev_attr_timeouts.attr,
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

/*
 * Give up on the storage host for good and close the connection (GOODBYE:
 * the storage host closes the volume and flushes it).  The works are
 * cancelled before, so none runs during the close, and again after, as a
 * loss reported while closing may have re-armed them.
 */
static void vol_close_clt(struct vol_dev *d)
{
	WRITE_ONCE(d->dead, true);
	wake_up_all(&d->wait);
	cancel_delayed_work_sync(&d->reopen_work);
	cancel_delayed_work_sync(&d->loss_work);
	vnode_xprt_clt_close(d->clt);
	cancel_delayed_work_sync(&d->reopen_work);
	cancel_delayed_work_sync(&d->loss_work);
}

int vol_dev_create(struct vol_cfg *cfg, struct vol_dev **out)
{
	struct vnode_xprt_cfg xcfg = {};
	struct vnode_disk_limits lim = {};
	struct vol_dev *d;
	int ret;

	d = vnode_fault(kzalloc(sizeof(*d), GFP_KERNEL));
	if (!d)
		return -ENOMEM;
	spin_lock_init(&d->lock);
	init_waitqueue_head(&d->wait);
	INIT_DELAYED_WORK(&d->reopen_work, vol_reopen_work);
	INIT_DELAYED_WORK(&d->loss_work, vol_loss_work);
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
	xcfg.cmd_depth = vol_queue_depth;
	xcfg.max_fr_pages = VOL_MAX_SEGS;
	xcfg.connect_timeout_ms = vol_connect_timeout_ms;
	xcfg.loss_timeout_ms = d->loss_timeout_ms;
	d->clt = vnode_xprt_clt_open(&xcfg, &vol_clt_ops, d, NULL);
	if (IS_ERR(d->clt)) {
		ret = PTR_ERR(d->clt);
		d->clt = NULL;
		vnode_log(err, d->name, "cannot connect to %s: %d\n",
			  cfg->host, ret);
		goto out_ida;
	}
	ret = vol_open_with_retry(d);
	if (ret) {
		dlog(err, d, "cannot open volume %s: %d (%s)\n", d->volume, ret,
		     ret == -ENOENT ? "no such enabled volume" :
		     ret == -EACCES ? "not exported to this host" :
		     ret == -EBUSY ? "open by another client" : "error");
		goto out_close;
	}
	spin_lock_irq(&d->lock);
	d->ready = true;
	spin_unlock_irq(&d->lock);
	WRITE_ONCE(d->opened, true);
	/* Pairs with vol_state_change(). */
	smp_mb();
	/*
	 * A loss, or a server that lost our state, between the OPEN and
	 * here was not handled by vol_state_change(): check.
	 */
	if (vnode_xprt_clt_state(d->clt) != VNODE_XPRT_LIVE) {
		vol_set_lost(d, false, "connection lost while attaching");
	} else if (READ_ONCE(d->open_lost)) {
		vol_set_lost(d, false, "the storage host lost our state while attaching");
		queue_delayed_work(system_long_wq, &d->reopen_work, 0);
	}

	d->tag_set.ops = &vol_mq_ops;
	d->tag_set.nr_hw_queues = vnode_xprt_clt_nr_queues(d->clt);
	d->tag_set.queue_depth = min_t(unsigned int, d->exp.queue_depth,
				       vnode_xprt_clt_cmd_depth(d->clt));
	d->tag_set.numa_node = NUMA_NO_NODE;
	d->tag_set.cmd_size = sizeof(struct vol_cmd);
	d->tag_set.driver_data = d;
	d->tag_set.timeout = max(msecs_to_jiffies(vol_rpc_timeout_ms), 1UL);
	if (!d->tag_set.queue_depth) {
		dlog(err, d, "the storage host takes no commands\n");
		ret = -EPROTO;
		goto out_close;
	}
	ret = vnode_fault_ret(blk_mq_alloc_tag_set(&d->tag_set));
	if (ret)
		goto out_close;

	lim.block_size = d->exp.block_size;
	lim.max_hw_sectors = d->exp.max_io >> SECTOR_SHIFT;
	lim.max_segments = d->exp.max_io >> PAGE_SHIFT;
	/* No gaps: a request's pages are one FRWR registration. */
	lim.max_segment_size = UINT_MAX;
	lim.virt_boundary_mask = PAGE_SIZE - 1;
	lim.dma_alignment = d->exp.block_size - 1;
	if (d->exp.flags & VNODE_STOR_F_DISCARD) {
		lim.max_discard_sectors = d->exp.max_discard >> SECTOR_SHIFT;
		lim.discard_granularity = d->exp.block_size;
	}
	d->gd = vnode_fault_err(vnode_blk_mq_alloc_disk(&d->tag_set, &lim, d));
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

	/* A loss before the disk existed did not hold its queue. */
	spin_lock_irq(&d->lock);
	if (!d->ready)
		vol_hold_locked(d);
	spin_unlock_irq(&d->lock);
	ret = vnode_fault_ret(device_add_disk(NULL, d->gd, vol_attr_groups));
	if (ret)
		goto out_put_disk;
	dlog(info, d, "volume %s attached: %llu bytes, block %u, %u queue(s) of %u, I/O up to %u bytes (inline up to %u)\n",
	     d->volume, d->exp.size, d->exp.block_size,
	     d->tag_set.nr_hw_queues, d->tag_set.queue_depth, d->exp.max_io,
	     d->exp.inline_max);
	*out = d;
	return 0;

out_put_disk:
	spin_lock_irq(&d->lock);
	d->dead = true;
	vol_unhold_locked(d);
	spin_unlock_irq(&d->lock);
	put_disk(d->gd);
out_free_tags:
	blk_mq_free_tag_set(&d->tag_set);
out_close:
	vol_close_clt(d);
out_ida:
	ida_free(&vol_ida, d->index);
out_free:
	kfree(d);
	return ret;
}

int vol_dev_destroy(struct vol_dev *d)
{
	if (vnode_disk_close_unless_open(d->gd, &d->closing)) {
		dlog(info, d, "still open (mounted?): not detaching\n");
		return -EBUSY;
	}
	/* Do not hold I/O for a storage host that is gone. */
	spin_lock_irq(&d->lock);
	d->removing = true;
	vol_unhold_locked(d);
	spin_unlock_irq(&d->lock);
	wake_up_all(&d->wait);
	/* Writes back and drains every request, held ones included. */
	del_gendisk(d->gd);
	dlog(info, d, "volume %s detached\n", d->volume);
	vol_close_clt(d);
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
