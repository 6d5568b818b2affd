// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: the remote-memory disk's I/O path: blk-mq submission
 * (queue_rq), the RDMA completions, slot ownership and accounting.
 * Writes to an unmapped slab go to the slow path (proc_slab.c); the
 * swap-in spin and write staging are in proc_poll.c.  The failure rules
 * are at the top of proc_disk.c.
 */
#include "proc.h"

#include <linux/blkdev.h>
#include <linux/crc32c.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <trace/events/vnode.h>

static inline struct vnmem_slab *vnmem_slab_of(struct vnmem_disk *d, u64 slot)
{
	return &d->slabs[(slot << VNMEM_SLOT_SHIFT) >> d->slab_shift];
}

/* The remote slab behind @c still exists (its host did not lose it). */
bool vnmem_copy_exists(struct vnmem_disk *d, const struct vnmem_copy *c)
{
	return c->epoch && c->epoch == (u32)atomic_read(&d->hosts[c->host].epoch);
}

/* @c exists and holds current data. */
bool vnmem_copy_valid(struct vnmem_disk *d, const struct vnmem_copy *c)
{
	return !c->stale && vnmem_copy_exists(d, c);
}

/*
 * The request leaves our hands (completed or requeued): release a
 * submitter spinning on it in vnmem_poll_wait().  It does not touch the
 * request once its flag is set.
 */
void vnmem_poll_signal(struct vnmem_cmd *cmd)
{
	int *done = xchg(&cmd->poll_done, NULL);

	if (done)	/* pairs with smp_load_acquire() in vnmem_poll_wait() */
		smp_store_release(done, 1);
}

void vnmem_end(struct request *rq, blk_status_t sts)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);

	vnmem_poll_signal(cmd);
	if (sts)
		atomic64_inc(&cmd->disk->stats.errors);
	if (cmd->bounce_mask)
		vnmem_unseal(cmd->disk, cmd);
	cmd->start_ns = 0;
	blk_mq_end_request(rq, sts);
}

/* Try again later (host reconnecting, queue full), within io_timeout_ms. */
void vnmem_retry(struct request *rq, struct vnmem_cmd *cmd,
		 unsigned int delay_ms)
{
	u64 age = ktime_get_ns() - cmd->start_ns;

	if (age > (u64)vnode_io_timeout_ms * NSEC_PER_MSEC) {
		dlog(err_ratelimited, cmd->disk,
		     "I/O at slot %llu gave up after %llu ms: no memory host holding it is reachable\n",
		     (u64)(blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT),
		     age / NSEC_PER_MSEC);
		vnmem_end(rq, BLK_STS_IOERR);
		return;
	}
	vnmem_poll_signal(cmd);
	blk_mq_requeue_request(rq, false);
	blk_mq_delay_kick_requeue_list(rq->q, msecs_to_jiffies(delay_ms));
}

/* Queue slab @s for FREE_SLAB if nothing uses it.  map_lock held. */
bool vnmem_slab_maybe_free(struct vnmem_disk *d, struct vnmem_slab *s)
{
	if (s->state != VNMEM_SLAB_MAPPED || s->used || s->inflight ||
	    s->free_queued)
		return false;
	s->free_queued = true;
	list_add_tail(&s->free_node, &d->free_list);
	return true;
}

/* ------------------------------------------------------------------ */
/* Slot ownership and accounting                                       */
/* ------------------------------------------------------------------ */

static void vnmem_acct_resident(u32 owner, long delta)
{
	struct vnode_acct *a;

	owner &= ~VNMEM_OWNER_BAD;
	if (owner < VNMEM_OWNER_FIRST)
		return;
	rcu_read_lock();
	a = vnode_acct_by_id(owner);
	if (a)
		atomic64_add(delta, &a->resident_pages);
	rcu_read_unlock();
}

/* A swap slot (or a discarded range) is free.  Any context. */
static void vnmem_slot_free(struct vnmem_disk *d, u64 slot)
{
	struct vnmem_slab *s;
	unsigned long flags;
	bool kick = false;
	u32 old;

	if (slot >= (d->size >> VNMEM_SLOT_SHIFT))
		return;
	old = xchg(&d->owner[slot], VNMEM_OWNER_FREE);
	if (old == VNMEM_OWNER_FREE)
		return;
	vnmem_acct_resident(old, -1);
	vnmem_pf_drop(d, slot, 1, false);

	s = vnmem_slab_of(d, slot);
	spin_lock_irqsave(&d->map_lock, flags);
	if (!WARN_ON_ONCE(!s->used))
		s->used--;
	kick = vnmem_slab_maybe_free(d, s);
	spin_unlock_irqrestore(&d->map_lock, flags);
	if (kick)
		queue_work(d->wq, &d->slow_work);
}

#if VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY
/* Called by mm/swapfile.c under the swap lock: must not sleep. */
static void vnmem_swap_slot_free_notify(struct block_device *bdev,
					unsigned long offset)
{
	vnmem_slot_free(bdev->bd_disk->private_data, offset);
}
#endif

static void vnmem_discard(struct vnmem_disk *d, sector_t pos,
			  unsigned int bytes)
{
	u64 slot = DIV_ROUND_UP_ULL(pos, VNMEM_SECT_PER_SLOT);
	u64 end = (pos + (bytes >> SECTOR_SHIFT)) / VNMEM_SECT_PER_SLOT;

	for (; slot < end; slot++)
		vnmem_slot_free(d, slot);
}

/* Count a finished request of cmd->nr_pages pages. */
void vnmem_account(struct vnmem_disk *d, struct vnmem_cmd *cmd, bool write,
		   bool remote)
{
	u64 lat = ktime_get_ns() - cmd->start_ns;
	unsigned int nr = cmd->nr_pages;
	struct vnode_acct *a = NULL;

	if (write) {
		atomic64_add(nr, &d->stats.pages_written);
		atomic64_add(nr * VNMEM_SLOT_SIZE, &d->stats.bytes_written);
	} else {
		atomic64_add(nr, &d->stats.faults);
		if (remote) {
			atomic64_add(nr, &d->stats.pages_read);
			atomic64_add(nr * VNMEM_SLOT_SIZE, &d->stats.bytes_read);
		}
	}
	if (remote) {
		vnode_lat_add(&d->stats.lat, lat);
		if (!write)
			vnode_fine_add(&d->stats.read_lat, lat);
	}

	if (cmd->acct_id < VNMEM_OWNER_FIRST)
		return;
	rcu_read_lock();
	a = vnode_acct_by_id(cmd->acct_id);
	if (a) {
		if (write) {
			atomic64_add(nr, &a->pages_out);
			atomic64_add(nr * VNMEM_SLOT_SIZE, &a->bytes_out);
		} else {
			atomic64_add(nr, &a->faults);
			if (remote) {
				atomic64_add(nr, &a->pages_in);
				atomic64_add(nr * VNMEM_SLOT_SIZE, &a->bytes_in);
			}
		}
		if (remote)
			vnode_lat_add(&a->lat, lat);
	}
	rcu_read_unlock();
}

/* Count @n failed checks (or, @failed, failed swap-ins) on the disk and vNode. */
static void vnmem_protect_count(struct vnmem_disk *d, u32 acct_id,
				bool failed, unsigned int n)
{
	struct vnode_acct *a;

	atomic64_add(n, failed ? &d->stats.protect_failed :
		     &d->stats.protect_errors);
	if (acct_id < VNMEM_OWNER_FIRST)
		return;
	rcu_read_lock();
	a = vnode_acct_by_id(acct_id);
	if (a)
		atomic64_add(n, failed ? &a->protect_failed :
			     &a->protect_errors);
	rcu_read_unlock();
}

/*
 * A read from one copy landed: check every written page it brought.  On a
 * failure the copy is dropped (the healer replaces it) and the read is
 * tried on another copy; when no other copy is left the read fails, so
 * the process gets SIGBUS, never wrong data.  Returns true when it took
 * care of @rq.
 */
static bool vnmem_check_read(struct request *rq, struct vnmem_cmd *cmd)
{
	struct vnmem_disk *d = cmd->disk;
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	struct vnmem_slab *s = vnmem_slab_of(d, slot);
	struct vnmem_copy *c = &s->copy[cmd->op_copy[0]];
	struct vnmem_host *h = &d->hosts[cmd->op_host[0]];
	unsigned int i, bad = 0, left = 0, prof = 0;
	bool kick, nomem = false;
	unsigned long flags;
	u64 first = 0;
	int ret;

	for (i = 0; i < cmd->nr_pages; i++) {
		if (cmd->zero_mask & (1U << i))
			continue;
		ret = vnmem_check_page(d, slot + i, cmd->bv[i].bv_page);
		if (ret == -ENOMEM) {
			nomem = true;
		} else if (ret && !bad++) {
			first = slot + i;
			prof = READ_ONCE(d->protect[first]);
		}
	}
	if (!bad && !nomem)
		return false;

	spin_lock_irqsave(&d->map_lock, flags);
	for (i = 0; bad && i < s->nr_copies; i++)
		if (&s->copy[i] != c && vnmem_copy_valid(d, &s->copy[i]))
			left++;
	if (left) {
		c->stale = true;
		WRITE_ONCE(d->heal_check, true);
	}
	s->inflight--;
	kick = vnmem_slab_maybe_free(d, s);
	spin_unlock_irqrestore(&d->map_lock, flags);
	if (kick)
		queue_work(d->wq, &d->slow_work);

	if (!bad) {
		/* no memory to check with: read it again a little later */
		vnmem_retry(rq, cmd, 1);
		return true;
	}
	vnmem_protect_count(d, cmd->acct_id, false, bad);
	trace_page_check(cmd->cgroup_id, d->name, first << VNMEM_SLOT_SHIFT,
			 h->id, h->name, vnode_protect_name(prof), left);
	if (left) {
		hlog(warn_ratelimited, h,
		     "%u page(s) from slot %llu failed their %s check: copy of slab %u dropped, reading another\n",
		     bad, first, vnode_protect_name(prof), cmd->slab);
		vnmem_retry(rq, cmd, 0);
		return true;
	}
	vnmem_protect_count(d, cmd->acct_id, true, 1);
	hlog(err_ratelimited, h,
	     "%u page(s) from slot %llu failed their %s check and no other copy is left: swap-in failed\n",
	     bad, first, vnode_protect_name(prof));
	vnmem_end(rq, BLK_STS_IOERR);
	return true;
}

/* ------------------------------------------------------------------ */
/* I/O                                                                 */
/* ------------------------------------------------------------------ */

static void vnmem_finish(struct request *rq, struct vnmem_cmd *cmd)
{
	struct vnmem_disk *d = cmd->disk;
	bool write = op_is_write(req_op(rq));
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	struct vnmem_slab *s = vnmem_slab_of(d, slot);
	u32 owner = cmd->acct_id ? cmd->acct_id : VNMEM_OWNER_ANON;
	u32 old[VNMEM_MAX_RQ_PAGES];
	unsigned int i, ok = 0;
	unsigned long flags;
	bool kick, retry_now;

	for (i = 0; i < cmd->nr_ops; i++)
		if (!cmd->op_err[i])
			ok++;
	if (!write && ok && vnmem_check_read(rq, cmd))
		return;

	spin_lock_irqsave(&d->map_lock, flags);
	for (i = 0; i < cmd->nr_ops; i++) {
		struct vnmem_copy *c = &s->copy[cmd->op_copy[i]];
		int err = cmd->op_err[i];

		if (!err)
			continue;
		/*
		 * -ENOTCONN/-EAGAIN: the queue went away, the data is still
		 * there (reads) or will be rewritten on retry (writes, when no
		 * copy took it).  Any other error, or a write that another
		 * copy took, makes this copy unusable.
		 */
		if ((err != -ENOTCONN && err != -EAGAIN) || (write && ok)) {
			if (!c->stale)
				hlog(warn_ratelimited, &d->hosts[c->host],
				     "%s of slab %u failed (%d): copy dropped\n",
				     write ? "write" : "read", cmd->slab, err);
			c->stale = true;
			WRITE_ONCE(d->heal_check, true);
		}
	}
	if (write && ok) {
		for (i = 0; i < cmd->nr_pages; i++) {
			old[i] = xchg(&d->owner[slot + i], owner);
			if (old[i] == VNMEM_OWNER_FREE)
				s->used++;
		}
		vnmem_protect_commit(d, cmd, slot);
		if (ok < d->replicas)
			atomic64_add(cmd->nr_pages, &d->stats.degraded);
	}
	s->inflight--;
	kick = vnmem_slab_maybe_free(d, s);
	spin_unlock_irqrestore(&d->map_lock, flags);
	if (kick)
		queue_work(d->wq, &d->slow_work);

	if (ok) {
		if (write) {
			/* a prefetch that raced with the write read old data */
			vnmem_pf_drop(d, slot, cmd->nr_pages, true);
			for (i = 0; i < cmd->nr_pages; i++)
				vnmem_acct_resident(old[i], -1);
			vnmem_acct_resident(cmd->acct_id, cmd->nr_pages);
		} else {
			/* Free slots in a read with written ones read zeroes. */
			for (i = 0; i < cmd->nr_pages; i++)
				if (cmd->zero_mask & (1U << i))
					memzero_page(cmd->bv[i].bv_page, 0,
						     VNMEM_SLOT_SIZE);
		}
		vnmem_account(d, cmd, write, true);
		vnmem_end(rq, BLK_STS_OK);
		return;
	}
	/* Only full queues (-EAGAIN on a live host): retry right away. */
	retry_now = true;
	for (i = 0; i < cmd->nr_ops; i++)
		if (cmd->op_err[i] != -EAGAIN)
			retry_now = false;
	vnmem_retry(rq, cmd, retry_now ? 1 : VNMEM_RETRY_MS);
}

static void vnmem_io_done(struct vnode_xprt_io *io, int error)
{
	struct request *rq = io->priv;
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct vnmem_disk *d = cmd->disk;
	unsigned int i = io - cmd->io;
	struct vnmem_host *h = &d->hosts[cmd->op_host[i]];
	u64 off = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	u64 lat = ktime_get_ns() - cmd->start_ns;

	cmd->op_err[i] = error;
	if (error)
		atomic64_inc(&h->errors);
	else
		atomic64_inc(&h->ops);
	if (!error && !op_is_write(req_op(rq))) {
		u64 ewma = READ_ONCE(d->read_ewma_ns);

		/* racy updates lose a sample now and then: good enough */
		WRITE_ONCE(d->read_ewma_ns, ewma - (ewma >> 3) + (lat >> 3));
	}
	if (op_is_write(req_op(rq)))
		trace_page_write(cmd->cgroup_id, cmd->pid, cmd->comm, d->name,
				 off, h->id, h->name,
				 cmd->nr_pages * VNMEM_SLOT_SIZE, lat, error);
	else
		trace_page_read(cmd->cgroup_id, cmd->pid, cmd->comm, d->name,
				off, h->id, h->name,
				cmd->nr_pages * VNMEM_SLOT_SIZE, lat, error);
	if (atomic_dec_and_test(&cmd->pending))
		vnmem_finish(rq, cmd);
}

/*
 * The valid copies of @s on LIVE hosts into @live; *@waiting: how many
 * more are on hosts reconnecting.  map_lock held.  Returns the number in
 * @live.
 */
static unsigned int vnmem_live_copies(struct vnmem_disk *d,
				      struct vnmem_slab *s, unsigned int *live,
				      unsigned int *waiting)
{
	unsigned int nr_live = 0, i;

	*waiting = 0;
	for (i = 0; i < s->nr_copies; i++) {
		struct vnmem_copy *c = &s->copy[i];
		int st;

		if (!vnmem_copy_valid(d, c))
			continue;
		st = READ_ONCE(d->hosts[c->host].state);
		if (st == VNODE_XPRT_LIVE)
			live[nr_live++] = i;
		else if (st == VNODE_XPRT_RECONNECTING ||
			 st == VNODE_XPRT_CONNECTING)
			(*waiting)++;
	}
	return nr_live;
}

/*
 * The copy of mapped slab @s to read @slot from: reads are spread over
 * the live copies.  map_lock held.  Returns its index, -EAGAIN when the
 * only valid copies are on reconnecting hosts, -ENOENT when none is left.
 */
int vnmem_read_copy(struct vnmem_disk *d, struct vnmem_slab *s, u64 slot)
{
	unsigned int live[VNMEM_MAX_REPLICAS], waiting, nr_live;

	nr_live = vnmem_live_copies(d, s, live, &waiting);
	if (!nr_live)
		return waiting ? -EAGAIN : -ENOENT;
	return live[slot % nr_live];
}

/*
 * Choose the copies a request goes to.  map_lock held.  Returns the number
 * of ops set up in @cmd, 0 when the slab has no valid copy left, or
 * -EAGAIN when the only valid copies are on reconnecting hosts.
 */
static int vnmem_pick(struct vnmem_disk *d, struct vnmem_slab *s, u64 slot,
		      bool write, struct vnmem_cmd *cmd)
{
	unsigned int live[VNMEM_MAX_REPLICAS], nr_live, waiting, i;
	int c;

	if (!write) {
		c = vnmem_read_copy(d, s, slot);
		if (c < 0)
			return c == -EAGAIN ? -EAGAIN : 0;
		cmd->op_copy[0] = c;
		cmd->op_host[0] = s->copy[c].host;
		return 1;
	}
	/* Getting a new copy (proc_heal.c): it must not miss a write. */
	if (s->healing)
		return -EAGAIN;
	nr_live = vnmem_live_copies(d, s, live, &waiting);
	if (!nr_live)
		return waiting ? -EAGAIN : 0;
	if (waiting) {
		/* Copies we cannot reach now miss this write: drop them. */
		for (i = 0; i < s->nr_copies; i++) {
			struct vnmem_copy *c = &s->copy[i];

			if (!vnmem_copy_valid(d, c) ||
			    READ_ONCE(d->hosts[c->host].state) ==
			    VNODE_XPRT_LIVE)
				continue;
			c->stale = true;
			WRITE_ONCE(d->heal_check, true);
			hlog(warn_ratelimited, &d->hosts[c->host],
			     "host unreachable: slab %u continues on %u copy(ies) (degraded)\n",
			     (u32)(s - d->slabs), nr_live);
		}
	}
	for (i = 0; i < nr_live; i++) {
		cmd->op_copy[i] = live[i];
		cmd->op_host[i] = s->copy[live[i]].host;
	}
	return nr_live;
}

/*
 * Collect the request's pages into cmd->bv: whole, page-aligned pages of
 * adjacent slots inside one slab, at most max_rq_pages of them (the queue
 * limits guarantee it for well-formed requests).  Returns the number of
 * pages, 0 for anything else.
 */
static unsigned int vnmem_rq_pages(struct vnmem_disk *d, struct request *rq,
				   struct vnmem_cmd *cmd)
{
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	u64 slab_slots = 1ULL << (d->slab_shift - VNMEM_SLOT_SHIFT);
	struct req_iterator iter;
	struct bio_vec bv;
	unsigned int n = 0;

	if (blk_rq_pos(rq) % VNMEM_SECT_PER_SLOT ||
	    blk_rq_pos(rq) + (blk_rq_bytes(rq) >> SECTOR_SHIFT) >
	    (d->size >> SECTOR_SHIFT))
		return 0;
	rq_for_each_segment(bv, rq, iter) {
		if (bv.bv_offset || bv.bv_len != VNMEM_SLOT_SIZE ||
		    n == d->max_rq_pages)
			return 0;
		cmd->bv[n++] = bv;
	}
	if (!n || (slot & (slab_slots - 1)) + n > slab_slots)
		return 0;
	return n;
}

static void vnmem_zero_rq(struct request *rq)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter)
		memzero_page(bv.bv_page, bv.bv_offset, bv.bv_len);
}

static void vnmem_punt(struct vnmem_disk *d, struct vnmem_cmd *cmd)
{
	unsigned long flags;

	spin_lock_irqsave(&d->slow_lock, flags);
	list_add_tail(&cmd->node, &d->slow_list);
	spin_unlock_irqrestore(&d->slow_lock, flags);
	queue_work(d->wq, &d->slow_work);
}

/*
 * Issue @rq.  @slow: called from the slow-path work, which may allocate.
 * Returns -EAGAIN when the slab must be (re)allocated first (only when
 * @slow), 0 otherwise (request issued, requeued or completed).
 */
int vnmem_submit(struct vnmem_disk *d, struct request *rq, bool slow)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);
	bool write = op_is_write(req_op(rq));
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	struct vnmem_slab *s = vnmem_slab_of(d, slot);
	unsigned int nr = cmd->nr_pages;
	unsigned long flags;
	bool bh;
	int n, i;

	cmd->slab = s - d->slabs;
	if (!write) {
		bool remote = false;

		cmd->zero_mask = 0;
		for (i = 0; i < nr; i++) {
			u32 owner = READ_ONCE(d->owner[slot + i]);

			if (owner & VNMEM_OWNER_BAD) {
				dlog(err_ratelimited, d,
				     "read of slot %llu failed: its slab was lost with its memory host\n",
				     slot + i);
				vnmem_end(rq, BLK_STS_IOERR);
				return 0;
			}
			if (owner == VNMEM_OWNER_FREE)
				cmd->zero_mask |= 1U << i;
			else
				remote = true;
		}
		if (!remote) {
			/* Never written (or freed): zeroes, no remote I/O. */
			vnmem_zero_rq(rq);
			vnmem_account(d, cmd, false, false);
			vnmem_end(rq, BLK_STS_OK);
			return 0;
		}
	}

	spin_lock_irqsave(&d->map_lock, flags);
	if (s->state != VNMEM_SLAB_MAPPED) {
		spin_unlock_irqrestore(&d->map_lock, flags);
		if (!write) {
			/* Written slot in an unmapped slab: cannot happen. */
			dlog(err_ratelimited, d, "slot %llu has no slab\n",
			     slot);
			vnmem_end(rq, BLK_STS_IOERR);
			return 0;
		}
		if (slow)
			return -EAGAIN;
		vnmem_punt(d, cmd);
		return 0;
	}
	n = vnmem_pick(d, s, slot, write, cmd);
	if (n > 0)
		s->inflight++;
	spin_unlock_irqrestore(&d->map_lock, flags);

	if (n == -EAGAIN) {
		vnmem_retry(rq, cmd, VNMEM_RETRY_MS);
		return 0;
	}
	if (!n) {
		if (!write) {
			dlog(err_ratelimited, d,
			     "read of slot %llu failed: every copy of slab %u is lost\n",
			     slot, cmd->slab);
			vnmem_end(rq, BLK_STS_IOERR);
			return 0;
		}
		if (slow)
			return -EAGAIN;
		vnmem_punt(d, cmd);
		return 0;
	}

	/* One bias reference so that ops completing early can't finish us. */
	cmd->nr_ops = n;
	atomic_set(&cmd->pending, n + 1);
	/*
	 * rxe (and other software RDMA providers) transmit a kernel QP's work
	 * requests from a tasklet.  Posted in process context, the tasklet
	 * waits for ksoftirqd, i.e. a context switch; posted with bottom
	 * halves off, it runs right here when they are turned back on.
	 */
	bh = !irqs_disabled() && !in_hardirq();
	if (bh)
		local_bh_disable();
	for (i = 0; i < n; i++) {
		struct vnmem_copy *c = &s->copy[cmd->op_copy[i]];
		u64 raddr = c->addr + ((slot << VNMEM_SLOT_SHIFT) &
				       ((1ULL << d->slab_shift) - 1));
		/* a rejoin switches it (under RCU, see vnmem_install_rejoined) */
		struct vnode_xprt_clt *clt = READ_ONCE(d->hosts[c->host].clt);
		int ret;

		cmd->op_err[i] = 0;
		cmd->io[i].done = vnmem_io_done;
		cmd->io[i].priv = rq;
		ret = vnode_xprt_clt_rdma_pages(clt, write, cmd->bv, nr, raddr,
						c->rkey, &cmd->io[i]);
		if (ret) {
			cmd->op_err[i] = ret;
			atomic64_inc(&d->hosts[c->host].errors);
			atomic_dec(&cmd->pending);
		}
	}
	if (atomic_dec_and_test(&cmd->pending))
		vnmem_finish(rq, cmd);
	if (bh)
		local_bh_enable();
	return 0;
}

/*
 * A request's pages are charged to the vNode of its first page: one
 * reclaim batch (what merges) comes from one memory cgroup.
 */
static void vnmem_cmd_start(struct vnmem_disk *d, struct request *rq,
			    struct vnmem_cmd *cmd)
{
	struct vnode_acct *a;

	cmd->start_ns = ktime_get_ns();
	cmd->pid = current->pid;
	memcpy(cmd->comm, current->comm, TASK_COMM_LEN);
	cmd->cgroup_id = 0;
	cmd->acct_id = 0;
	cmd->nr_pages = vnmem_rq_pages(d, rq, cmd);
	if (!cmd->nr_pages)
		return;
	rcu_read_lock();
	a = vnode_acct_find(cmd->bv[0].bv_page, &cmd->cgroup_id);
	if (a)
		cmd->acct_id = a->id;
	if (op_is_write(req_op(rq)))
		vnmem_protect_write(cmd, a);
	rcu_read_unlock();
}

static blk_status_t vnmem_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct vnmem_disk *d = hctx->queue->queuedata;
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	bool poll, first, polled, track = false;
	unsigned int nr;
	u64 start = 0;
	int done = 0, pid;
	u32 acct;

	blk_mq_start_request(rq);

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		break;
	case REQ_OP_DISCARD:
		/* No data pages: never look at its bvecs. */
		vnmem_discard(d, blk_rq_pos(rq), blk_rq_bytes(rq));
		vnmem_end(rq, BLK_STS_OK);
		return BLK_STS_OK;
	default:
		vnmem_end(rq, BLK_STS_NOTSUPP);
		return BLK_STS_OK;
	}
	first = !cmd->start_ns;
	if (first)
		vnmem_cmd_start(d, rq, cmd);
	if (unlikely(READ_ONCE(d->dead) || !cmd->nr_pages)) {
		vnmem_end(rq, BLK_STS_IOERR);
		return BLK_STS_OK;
	}
	if (req_op(rq) == REQ_OP_WRITE) {
		if (first)
			vnmem_pf_drop(d, slot, cmd->nr_pages, true);
		if (cmd->aead_mask && !cmd->sealed) {
			int ret = vnmem_seal(d, cmd);

			if (ret == -ENOMEM) {
				vnmem_retry(rq, cmd, 1);
				return BLK_STS_OK;
			}
			if (ret) {
				dlog(err_ratelimited, d,
				     "write at slot %llu failed: its vNode's key is gone (%d)\n",
				     slot, ret);
				vnmem_end(rq, BLK_STS_IOERR);
				return BLK_STS_OK;
			}
		}
		if (!vnmem_stage(d, cmd))
			vnmem_submit(d, rq, false);
		return BLK_STS_OK;
	}
	/* The request is gone once served or submitted: note what it was. */
	nr = cmd->nr_pages;
	acct = cmd->acct_id;
	pid = cmd->pid;
	if (d->pf) {
		if (vnmem_pf_serve(d, rq, cmd)) {
			if (first)
				vnmem_pf_track(d, acct, pid, slot, nr, true);
			return BLK_STS_OK;
		}
		track = first;
	}
	/*
	 * Spin only for the last request of a dispatch batch (swap readahead
	 * plugs its reads: the ones before it are in flight meanwhile), and
	 * only while recent reads completed within poll_us: when the memory
	 * host or the CPU is overloaded spinning just burns the CPU time
	 * the completion needs.
	 */
	poll = bd->last && !in_interrupt() && !irqs_disabled();
	if (poll && !vnmem_should_poll(d)) {
		if (first && READ_ONCE(vnode_poll_us))
			atomic64_inc(&d->stats.poll_gated);
		poll = false;
	}
	if (poll) {
		start = ktime_get_ns();
		WRITE_ONCE(cmd->poll_done, &done);
	}
	vnmem_submit(d, rq, false);
	/* The reads ahead go out right behind the swap-in's own. */
	if (track)
		vnmem_pf_track(d, acct, pid, slot, nr, false);
	/* The writes held for this read go out behind it. */
	vnmem_flush_staged(d);
	if (poll) {
		u64 spin = ktime_get_ns();

		polled = vnmem_poll_wait(cmd, &done, start);
		atomic64_add(ktime_get_ns() - spin, &d->stats.poll_ns);
		/* The poll counters count a request's first dispatch only. */
		if (first)
			atomic64_inc(polled ? &d->stats.polled :
				     &d->stats.poll_missed);
	}
	return BLK_STS_OK;
}

static enum blk_eh_timer_return vnmem_timeout(struct request *rq)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);

	/*
	 * In-flight RDMA always completes (the transport flushes its queues
	 * when a connection is lost) and retries are bounded by
	 * io_timeout_ms, so never complete a request whose pages the HCA may
	 * still touch: just report it.
	 */
	dlog(warn_ratelimited, cmd->disk,
	     "request at sector %llu still in flight after %llu ms\n",
	     (u64)blk_rq_pos(rq),
	     (ktime_get_ns() - cmd->start_ns) / NSEC_PER_MSEC);
	return BLK_EH_RESET_TIMER;
}

static int vnmem_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, unsigned int numa_node)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->disk = set->driver_data;
	cmd->start_ns = 0;
	cmd->bounce_mask = 0;
	INIT_LIST_HEAD(&cmd->node);
	return 0;
}

const struct blk_mq_ops vnmem_mq_ops = {
	.queue_rq	= vnmem_queue_rq,
	.timeout	= vnmem_timeout,
	.init_request	= vnmem_init_request,
};

/* Under open_mutex: no new opener once vnmem_disk_destroy() has begun. */
static VNODE_BDEV_OPEN(vnmem_open, arg)
{
	struct vnmem_disk *d = VNODE_BDEV_OPEN_DISK(arg)->private_data;

	return READ_ONCE(d->closing) ? -ENXIO : 0;
}

const struct block_device_operations vnmem_fops = {
	.owner			= THIS_MODULE,
	.open			= vnmem_open,
#if VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY
	.swap_slot_free_notify	= vnmem_swap_slot_free_notify,
#endif
};

#if VNODE_HAVE_RW_PAGE
/*
 * skip_swapcache (kernels before 6.3): a disk whose fops have ->rw_page is
 * SWP_SYNCHRONOUS_IO at swapon, and a fault on a swapped-out page mapped
 * once then reads it straight into a new page, skipping the swap cache.
 * That makes the loaded workload of bench/run faster (docs/benchmarks.md).
 * rw_page itself declines everything, so the data moves as the kernel's
 * own bios through blk-mq.  Submitting a bio from
 * rw_page instead would nest a second queue entry inside the one
 * bdev_write_page() holds (a queue freeze in between, e.g. a scheduler
 * switch, would deadlock) and hold the page lock across tag allocation.
 * Declining a write has one side effect: bdev_write_page() has already
 * set writeback and now ends it, which clears PG_reclaim, so the page is
 * not rotated to the LRU tail when its real write completes and reclaim
 * finds it in its normal scan instead.  The measured speed-up is with
 * this behaviour.
 */
static int vnmem_rw_page(struct block_device *bdev, sector_t sector,
			 struct page *page, enum req_op op)
{
	return -EOPNOTSUPP;
}

const struct block_device_operations vnmem_fops_sync = {
	.owner			= THIS_MODULE,
	.open			= vnmem_open,
	.rw_page		= vnmem_rw_page,
#if VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY
	.swap_slot_free_notify	= vnmem_swap_slot_free_notify,
#endif
};
#endif
