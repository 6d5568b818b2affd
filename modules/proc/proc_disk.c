// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: the remote-memory disk /dev/vnmemN.
 *
 * A request is 1 to max_rq_pages whole 4 KiB slots inside one slab (queue
 * limits: chunk_sectors is the slab size), so one request is one RDMA op,
 * one SGE per page, per target copy: the swap-outs of one reclaim batch
 * get adjacent slots and merge.  The fast path (queue_rq) posts RDMA
 * when the slot's slab is mapped; writes to an unmapped slab are punted to
 * an ordered WQ_MEM_RECLAIM work item that allocates the slab on the
 * memory hosts (ALLOC_SLAB may sleep) and then issues them.  The same work
 * gives slabs back (FREE_SLAB) once all their slots are freed.
 *
 * Failure rules (docs/remote-memory.md):
 *  - a copy on a RECONNECTING host is held: reads wait (requeue) unless
 *    another copy is LIVE; writes go to the LIVE copies and the others are
 *    marked stale, or wait when none is LIVE;
 *  - a host that goes DEAD, or comes back without our state (the
 *    transport's state change says so: it restarted or dropped us), loses
 *    all its copies (epoch bump); a slab without a valid copy is lost:
 *    reads of its written slots fail with BLK_STS_IOERR, never zeroes;
 *  - every request is bounded by io_timeout_ms.
 */
#include "proc.h"

#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <trace/events/vnode.h>

#define dlog(lvl, d, fmt, ...) \
	vnode_log(lvl, (d)->name, fmt, ##__VA_ARGS__)
#define hlog(lvl, h, fmt, ...) \
	vnode_log_peer(lvl, (h)->disk->name, (h)->name, fmt, ##__VA_ARGS__)

#define VNMEM_SECT_PER_SLOT	(VNMEM_SLOT_SIZE >> SECTOR_SHIFT)
#define VNMEM_RETRY_MS		20	/* requeue delay while a host is away */

static int vnmem_major;
static DEFINE_IDA(vnmem_ida);

static inline struct vnmem_slab *vnmem_slab_of(struct vnmem_disk *d, u64 slot)
{
	return &d->slabs[(slot << VNMEM_SLOT_SHIFT) >> d->slab_shift];
}

/* The remote slab behind @c still exists (its host did not lose it). */
static bool vnmem_copy_exists(struct vnmem_disk *d, const struct vnmem_copy *c)
{
	return c->epoch && c->epoch == (u32)atomic_read(&d->hosts[c->host].epoch);
}

/* @c exists and holds current data. */
static bool vnmem_copy_valid(struct vnmem_disk *d, const struct vnmem_copy *c)
{
	return !c->stale && vnmem_copy_exists(d, c);
}

/*
 * The request leaves our hands (completed or requeued): release a
 * submitter spinning on it in vnmem_poll_wait().  It does not touch the
 * request once its flag is set.
 */
static void vnmem_poll_signal(struct vnmem_cmd *cmd)
{
	int *done = xchg(&cmd->poll_done, NULL);

	if (done)	/* pairs with smp_load_acquire() in vnmem_poll_wait() */
		smp_store_release(done, 1);
}

static void vnmem_end(struct request *rq, blk_status_t sts)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);

	vnmem_poll_signal(cmd);
	if (sts)
		atomic64_inc(&cmd->disk->stats.errors);
	cmd->start_ns = 0;
	blk_mq_end_request(rq, sts);
}

/* Try again later (host reconnecting, queue full), within io_timeout_ms. */
static void vnmem_retry(struct request *rq, struct vnmem_cmd *cmd,
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
static bool vnmem_slab_maybe_free(struct vnmem_disk *d, struct vnmem_slab *s)
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
static void vnmem_account(struct vnmem_disk *d, struct vnmem_cmd *cmd,
			  bool write, bool remote)
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
		}
	}
	if (write && ok) {
		for (i = 0; i < cmd->nr_pages; i++) {
			old[i] = xchg(&d->owner[slot + i], owner);
			if (old[i] == VNMEM_OWNER_FREE)
				s->used++;
		}
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
 * Choose the copies a request goes to.  map_lock held.  Returns the number
 * of ops set up in @cmd, 0 when the slab has no valid copy left, or
 * -EAGAIN when the only valid copies are on reconnecting hosts.
 */
static int vnmem_pick(struct vnmem_disk *d, struct vnmem_slab *s, u64 slot,
		      bool write, struct vnmem_cmd *cmd)
{
	unsigned int live[VNMEM_MAX_REPLICAS], nr_live = 0, waiting = 0, i;

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
			waiting++;
	}
	if (!nr_live)
		return waiting ? -EAGAIN : 0;

	if (!write) {
		/* Spread reads over the live copies. */
		i = live[slot % nr_live];
		cmd->op_copy[0] = i;
		cmd->op_host[0] = s->copy[i].host;
		return 1;
	}
	if (waiting) {
		/* Copies we cannot reach now miss this write: drop them. */
		for (i = 0; i < s->nr_copies; i++) {
			struct vnmem_copy *c = &s->copy[i];

			if (!vnmem_copy_valid(d, c) ||
			    READ_ONCE(d->hosts[c->host].state) ==
			    VNODE_XPRT_LIVE)
				continue;
			c->stale = true;
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
static int vnmem_submit(struct vnmem_disk *d, struct request *rq, bool slow)
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
		int ret;

		cmd->op_err[i] = 0;
		cmd->io[i].done = vnmem_io_done;
		cmd->io[i].priv = rq;
		ret = vnode_xprt_clt_rdma_pages(d->hosts[c->host].clt, write,
						cmd->bv, nr, raddr, c->rkey,
						&cmd->io[i]);
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
	rcu_read_unlock();
}

/*
 * Under a hypervisor the swap-in spin does not PAUSE: there a PAUSE can
 * take the vCPU out of the guest (QEMU's TCG leaves its translated code
 * and takes the global lock for every one; KVM's pause-loop exiting
 * may deschedule the vCPU), which delays the very packet the spin waits
 * for: in the lab it made swap-ins markedly slower (docs/benchmarks.md).
 * On bare metal the spin relaxes.
 */
static inline void vnmem_spin_relax(void)
{
#ifdef CONFIG_X86
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return;
#endif
	cpu_relax();
}

/*
 * Spin (interrupts on: the CQ's softirq runs the completion on this CPU or
 * another) until the read we just posted completed, for at most poll_us.
 * A swap-in is synchronous for the faulting task anyway; spinning saves
 * the sleep and wakeup, which cost as much as the network under TCG.
 * After a timeout the completion proceeds as usual.  Returns whether the
 * completion came within the spin.
 */
static bool vnmem_poll_wait(struct vnmem_cmd *cmd, int *done, u64 start)
{
	u64 limit = (u64)READ_ONCE(vnode_poll_us) * NSEC_PER_USEC;

	for (;;) {
		/*
		 * Run pending softirqs (the post's transmit tasklet, the
		 * completion) here: ksoftirqd cannot run on this CPU while
		 * we spin.
		 */
		local_bh_disable();
		local_bh_enable();
		/* pairs with smp_store_release() in vnmem_poll_signal() */
		if (smp_load_acquire(done))
			return true;
		/*
		 * Stop at the time limit, when another task should run or is
		 * waiting for this CPU, or when softirqs were left to
		 * ksoftirqd: they only run once we stop.  A waiting task may
		 * be the very completion: rxe runs its tasks in a workqueue
		 * from 6.4 on, and a 6.12 guest's one vCPU spun until
		 * poll_us every time (as KVM's halt polling stops on
		 * !single_task_running()).
		 */
		if (ktime_get_ns() - start > limit || need_resched() ||
		    !single_task_running() || local_softirq_pending()) {
			/* Still ours?  Then the completion won't touch @done. */
			if (cmpxchg(&cmd->poll_done, done, NULL) == done)
				return false;
			/* The completion claimed it and is about to set it. */
			while (!smp_load_acquire(done))
				cpu_relax();
			return true;
		}
		vnmem_spin_relax();
	}
}

static bool vnmem_should_poll(struct vnmem_disk *d)
{
	u64 limit = (u64)READ_ONCE(vnode_poll_us) * NSEC_PER_USEC;

	return limit && READ_ONCE(d->read_ewma_ns) <= limit;
}

/*
 * Write staging.  A fault under memory pressure first reclaims (page-outs
 * are submitted) and then reads its page: posted in that order, the
 * swap-in's RDMA READ waits behind the writes in the send queue, on the
 * wire and at the memory host.  So writes are held for up to
 * write_defer_us and posted right after the next read, while the
 * faulting task waits for it anyway; the timer posts them when no read
 * comes.  At most VNMEM_STAGE_MAX are held.
 */
#define VNMEM_STAGE_MAX		32

static void vnmem_flush_staged(struct vnmem_disk *d)
{
	struct vnmem_cmd *cmd, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	if (!READ_ONCE(d->nr_staged))
		return;
	spin_lock_irqsave(&d->stage_lock, flags);
	list_splice_init(&d->staged, &list);
	d->nr_staged = 0;
	spin_unlock_irqrestore(&d->stage_lock, flags);
	list_for_each_entry_safe(cmd, tmp, &list, node) {
		list_del_init(&cmd->node);
		vnmem_submit(d, blk_mq_rq_from_pdu(cmd), false);
	}
}

static enum hrtimer_restart vnmem_stage_timer(struct hrtimer *t)
{
	vnmem_flush_staged(container_of(t, struct vnmem_disk, stage_timer));
	return HRTIMER_NORESTART;
}

/* Hold write @cmd; false if staging is off (post it now). */
static bool vnmem_stage(struct vnmem_disk *d, struct vnmem_cmd *cmd)
{
	unsigned int us = READ_ONCE(vnode_write_defer_us);
	unsigned long flags;
	unsigned int n;

	if (!us)
		return false;
	spin_lock_irqsave(&d->stage_lock, flags);
	list_add_tail(&cmd->node, &d->staged);
	n = ++d->nr_staged;
	spin_unlock_irqrestore(&d->stage_lock, flags);
	if (n >= VNMEM_STAGE_MAX)
		vnmem_flush_staged(d);
	else if (n == 1)
		hrtimer_start(&d->stage_timer, us * NSEC_PER_USEC,
			      HRTIMER_MODE_REL_SOFT);
	return true;
}

static blk_status_t vnmem_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct vnmem_disk *d = hctx->queue->queuedata;
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);
	bool poll, first, polled;
	u64 start = 0;
	int done = 0;

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
		if (!vnmem_stage(d, cmd))
			vnmem_submit(d, rq, false);
		return BLK_STS_OK;
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
	/* The writes held for this read go out behind it. */
	vnmem_flush_staged(d);
	if (poll) {
		polled = vnmem_poll_wait(cmd, &done, start);
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
	INIT_LIST_HEAD(&cmd->node);
	return 0;
}

static const struct blk_mq_ops vnmem_mq_ops = {
	.queue_rq	= vnmem_queue_rq,
	.timeout	= vnmem_timeout,
	.init_request	= vnmem_init_request,
};

static const struct block_device_operations vnmem_fops = {
	.owner			= THIS_MODULE,
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

static const struct block_device_operations vnmem_fops_sync = {
	.owner			= THIS_MODULE,
	.rw_page		= vnmem_rw_page,
#if VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY
	.swap_slot_free_notify	= vnmem_swap_slot_free_notify,
#endif
};
#endif

/* ------------------------------------------------------------------ */
/* Slow path: slab allocation and release                              */
/* ------------------------------------------------------------------ */

static int vnmem_rpc_alloc(struct vnmem_host *h, u32 idx,
			   struct vnmem_copy *c)
{
	struct vnmem_disk *d = h->disk;
	struct vnode_alloc_req req = {
		.hdr.op = VNODE_OP_ALLOC_SLAB,
		.slab_index = cpu_to_le64(idx),
	};
	struct vnode_alloc_rsp rsp = {};
	u32 epoch = atomic_read(&h->epoch);
	int ret, st;

	ret = vnode_xprt_clt_call(h->clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), vnode_rpc_timeout_ms);
	if (ret)
		return ret;
	st = le16_to_cpu(rsp.hdr.status);
	if (st == VNODE_ST_FULL)
		return -ENOSPC;
	if (st != VNODE_ST_OK) {
		hlog(warn_ratelimited, h, "ALLOC_SLAB refused: status %d\n",
		     st);
		return -EIO;
	}
	if (le64_to_cpu(rsp.len) != 1ULL << d->slab_shift) {
		struct vnode_free_req fr = {
			.hdr.op = VNODE_OP_FREE_SLAB,
			.handle = rsp.handle,
		};
		struct vnode_status_rsp frsp;

		hlog(err, h, "ALLOC_SLAB returned %llu bytes, expected %llu\n",
		     le64_to_cpu(rsp.len), 1ULL << d->slab_shift);
		vnode_xprt_clt_call(h->clt, &fr.hdr, sizeof(fr), &frsp.hdr,
				    sizeof(frsp), vnode_rpc_timeout_ms);
		return -EPROTO;
	}
	c->addr = le64_to_cpu(rsp.addr);
	c->handle = le64_to_cpu(rsp.handle);
	c->rkey = le32_to_cpu(rsp.rkey);
	c->host = h->id;
	c->stale = false;
	c->epoch = epoch;
	atomic_inc(&h->nr_slabs);
	return 0;
}

static void vnmem_rpc_free(struct vnmem_host *h, const struct vnmem_copy *c)
{
	struct vnode_free_req req = {
		.hdr.op = VNODE_OP_FREE_SLAB,
		.handle = cpu_to_le64(c->handle),
	};
	struct vnode_status_rsp rsp = {};
	int ret;

	atomic_dec(&h->nr_slabs);
	h->full = false;
	if (READ_ONCE(h->state) != VNODE_XPRT_LIVE)
		return;	/* the host frees everything of ours on loss */
	ret = vnode_xprt_clt_call(h->clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), vnode_rpc_timeout_ms);
	if (ret || le16_to_cpu(rsp.hdr.status) != VNODE_ST_OK)
		hlog(warn_ratelimited, h, "FREE_SLAB failed: %d/%u\n", ret,
		     le16_to_cpu(rsp.hdr.status));
}

/* Bytes we believe are still free on @h. */
static s64 vnmem_host_free(struct vnmem_host *h)
{
	return (s64)h->capacity - (s64)h->used_base -
		((s64)atomic_read(&h->nr_slabs) << h->disk->slab_shift);
}

/* The live, not-full, not-yet-tried host with the most free memory. */
static struct vnmem_host *vnmem_pick_host(struct vnmem_disk *d,
					  const bool *tried)
{
	struct vnmem_host *best = NULL;
	unsigned int i, start = get_random_u32() % d->nr_hosts;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[(start + i) % d->nr_hosts];

		if (tried[h->id] || h->full ||
		    READ_ONCE(h->state) != VNODE_XPRT_LIVE)
			continue;
		if (!best || vnmem_host_free(h) > vnmem_host_free(best))
			best = h;
	}
	return best;
}

/* Map slab @idx on d->replicas hosts.  Slow-path work only. */
static int vnmem_slab_alloc(struct vnmem_disk *d, u32 idx)
{
	struct vnmem_copy copy[VNMEM_MAX_REPLICAS] = {};
	bool tried[VNMEM_MAX_HOSTS] = {};
	struct vnmem_slab *s = &d->slabs[idx];
	unsigned int n = 0, i, noio;
	bool full = false, waiting = false;
	unsigned long flags;
	int ret;

	noio = memalloc_noio_save();
	while (n < d->replicas) {
		struct vnmem_host *h = vnmem_pick_host(d, tried);

		if (!h)
			break;
		tried[h->id] = true;
		ret = vnmem_rpc_alloc(h, idx, &copy[n]);
		if (!ret) {
			n++;
		} else if (ret == -ENOSPC) {
			if (!h->full)
				hlog(warn, h, "memory host is full\n");
			h->full = true;
			full = true;
		}
	}
	memalloc_noio_restore(noio);

	if (!n) {
		for (i = 0; i < d->nr_hosts; i++)
			if (READ_ONCE(d->hosts[i].state) ==
			    VNODE_XPRT_RECONNECTING)
				waiting = true;
		if (waiting)
			return -EAGAIN;
		dlog(err_ratelimited, d, "cannot map slab %u: %s\n", idx,
		     full ? "every memory host is full" :
		     "no memory host is reachable");
		return full ? -ENOSPC : -EIO;
	}
	if (n < d->replicas)
		dlog(warn_ratelimited, d,
		     "slab %u mapped with %u of %u copies (degraded)\n", idx,
		     n, d->replicas);

	spin_lock_irqsave(&d->map_lock, flags);
	memcpy(s->copy, copy, sizeof(copy));
	s->nr_copies = n;
	s->state = VNMEM_SLAB_MAPPED;
	spin_unlock_irqrestore(&d->map_lock, flags);
	atomic_inc(&d->nr_mapped);
	return 0;
}

/* Give slab @s back if it is still unused.  Slow-path work only. */
static void vnmem_slab_release(struct vnmem_disk *d, struct vnmem_slab *s)
{
	struct vnmem_copy copy[VNMEM_MAX_REPLICAS];
	unsigned int n, i;
	unsigned long flags;

	spin_lock_irqsave(&d->map_lock, flags);
	if (s->state != VNMEM_SLAB_MAPPED || s->used || s->inflight) {
		spin_unlock_irqrestore(&d->map_lock, flags);
		return;
	}
	s->state = VNMEM_SLAB_FREEING;
	n = s->nr_copies;
	memcpy(copy, s->copy, sizeof(copy));
	spin_unlock_irqrestore(&d->map_lock, flags);

	for (i = 0; i < n; i++)
		if (vnmem_copy_exists(d, &copy[i]))
			vnmem_rpc_free(&d->hosts[copy[i].host], &copy[i]);

	spin_lock_irqsave(&d->map_lock, flags);
	memset(s->copy, 0, sizeof(s->copy));
	s->nr_copies = 0;
	s->state = VNMEM_SLAB_UNMAPPED;
	spin_unlock_irqrestore(&d->map_lock, flags);
	atomic_dec(&d->nr_mapped);
}

/*
 * Slab @idx is mapped but no copy is valid: its data is gone.  Mark its
 * written slots bad (reads fail) and unmap it so writes can use new
 * memory.  Slow-path work only.  Returns -EAGAIN if I/O is still in
 * flight on it.
 */
static int vnmem_slab_recover(struct vnmem_disk *d, u32 idx)
{
	struct vnmem_slab *s = &d->slabs[idx];
	u64 first = ((u64)idx << d->slab_shift) >> VNMEM_SLOT_SHIFT;
	u64 last = min_t(u64, first + (1ULL << (d->slab_shift -
						 VNMEM_SLOT_SHIFT)),
			 d->size >> VNMEM_SLOT_SHIFT);
	struct vnmem_copy copy[VNMEM_MAX_REPLICAS];
	unsigned int n, i, bad = 0;
	unsigned long flags;
	u64 slot;

	spin_lock_irqsave(&d->map_lock, flags);
	if (s->state != VNMEM_SLAB_MAPPED) {
		spin_unlock_irqrestore(&d->map_lock, flags);
		return 0;
	}
	for (i = 0; i < s->nr_copies; i++)
		if (vnmem_copy_valid(d, &s->copy[i])) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			return 0;	/* raced with nothing: still fine */
		}
	if (s->inflight) {
		spin_unlock_irqrestore(&d->map_lock, flags);
		return -EAGAIN;
	}
	for (slot = first; slot < last; slot++) {
		u32 o = READ_ONCE(d->owner[slot]);

		if (o != VNMEM_OWNER_FREE && !(o & VNMEM_OWNER_BAD)) {
			cmpxchg(&d->owner[slot], o, o | VNMEM_OWNER_BAD);
			bad++;
		}
	}
	s->state = VNMEM_SLAB_FREEING;
	n = s->nr_copies;
	memcpy(copy, s->copy, sizeof(copy));
	spin_unlock_irqrestore(&d->map_lock, flags);

	atomic64_inc(&d->stats.lost_slabs);
	dlog(err_ratelimited, d,
	     "slab %u lost every copy: %u written pages are gone (reads of them fail)\n",
	     idx, bad);
	for (i = 0; i < n; i++)
		if (vnmem_copy_exists(d, &copy[i]))
			vnmem_rpc_free(&d->hosts[copy[i].host], &copy[i]);

	spin_lock_irqsave(&d->map_lock, flags);
	memset(s->copy, 0, sizeof(s->copy));
	s->nr_copies = 0;
	s->state = VNMEM_SLAB_UNMAPPED;
	spin_unlock_irqrestore(&d->map_lock, flags);
	atomic_dec(&d->nr_mapped);
	return 0;
}

static void vnmem_slow_one(struct vnmem_disk *d, struct request *rq)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u32 idx = cmd->slab;
	int ret;

	if (READ_ONCE(d->dead)) {
		vnmem_end(rq, BLK_STS_IOERR);
		return;
	}
	if (!vnmem_submit(d, rq, true))
		return;
	ret = vnmem_slab_recover(d, idx);
	if (!ret && d->slabs[idx].state == VNMEM_SLAB_UNMAPPED)
		ret = vnmem_slab_alloc(d, idx);
	if (ret == -EAGAIN) {
		vnmem_retry(rq, cmd, VNMEM_RETRY_MS);
		return;
	}
	if (ret) {
		vnmem_end(rq, ret == -ENOSPC ? BLK_STS_NOSPC : BLK_STS_IOERR);
		return;
	}
	if (vnmem_submit(d, rq, true))
		vnmem_retry(rq, cmd, VNMEM_RETRY_MS);
}

static void vnmem_slow_work(struct work_struct *work)
{
	struct vnmem_disk *d = container_of(work, struct vnmem_disk,
					    slow_work);
	struct vnmem_cmd *cmd, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	/* Frees first: they may make room for the allocations below. */
	spin_lock_irqsave(&d->map_lock, flags);
	while (!list_empty(&d->free_list)) {
		struct vnmem_slab *s = list_first_entry(&d->free_list,
							struct vnmem_slab,
							free_node);

		list_del_init(&s->free_node);
		s->free_queued = false;
		spin_unlock_irqrestore(&d->map_lock, flags);
		vnmem_slab_release(d, s);
		cond_resched();
		spin_lock_irqsave(&d->map_lock, flags);
	}
	spin_unlock_irqrestore(&d->map_lock, flags);

	spin_lock_irqsave(&d->slow_lock, flags);
	list_splice_init(&d->slow_list, &list);
	spin_unlock_irqrestore(&d->slow_lock, flags);
	list_for_each_entry_safe(cmd, tmp, &list, node) {
		list_del_init(&cmd->node);
		vnmem_slow_one(d, blk_mq_rq_from_pdu(cmd));
		cond_resched();
	}
}

/* ------------------------------------------------------------------ */
/* Memory-host connections                                             */
/* ------------------------------------------------------------------ */

static void vnmem_host_lost(struct vnmem_host *h, const char *why)
{
	struct vnmem_disk *d = h->disk;
	int n = atomic_xchg(&h->nr_slabs, 0);

	atomic_inc(&h->epoch);
	h->full = false;
	if (d->replicas > 1)
		hlog(warn, h,
		     "memory host lost (%s): its %d slabs are gone; disk is degraded, serving from the remaining replicas\n",
		     why, n);
	else
		hlog(err, h,
		     "memory host lost (%s): its %d slabs are gone; I/O to pages stored there fails\n",
		     why, n);
}

static void vnmem_state_change(struct vnode_xprt_clt *clt,
			       enum vnode_xprt_state old,
			       enum vnode_xprt_state new, bool lost,
			       void *priv)
{
	struct vnmem_host *h = priv;
	struct vnmem_disk *d = h->disk;
	struct gendisk *gd = READ_ONCE(d->gd);

	trace_conn_state(d->name, vnode_xprt_clt_peer(clt), old, new);
	WRITE_ONCE(h->state, new);
	if (!READ_ONCE(h->clt))
		return;	/* still inside vnode_xprt_clt_open() */

	switch (new) {
	case VNODE_XPRT_RECONNECTING:
		hlog(warn, h, "connection lost, reconnecting (I/O to it is held for up to %u ms)\n",
		     vnode_loss_timeout_ms);
		break;
	case VNODE_XPRT_LIVE:
		if (lost)
			vnmem_host_lost(h, "it no longer holds our state");
		else
			hlog(info, h, "reconnected, slabs intact\n");
		break;
	case VNODE_XPRT_DEAD:
		vnmem_host_lost(h, "no reconnect within loss_timeout_ms");
		break;
	default:
		break;
	}
	if (gd && !READ_ONCE(d->dead))
		blk_mq_kick_requeue_list(gd->queue);
}

static const struct vnode_xprt_clt_ops vnmem_clt_ops = {
	.state_change	= vnmem_state_change,
};

/* ------------------------------------------------------------------ */
/* sysfs: /sys/block/vnmemN/vnode/                                     */
/* ------------------------------------------------------------------ */

static struct vnmem_disk *dev_to_vnmem(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

#define VNMEM_STAT_ATTR(_name)						\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
		atomic64_read(&dev_to_vnmem(dev)->stats._name));	\
}									\
static DEVICE_ATTR_RO(_name)

VNMEM_STAT_ATTR(pages_read);
VNMEM_STAT_ATTR(pages_written);
VNMEM_STAT_ATTR(bytes_read);
VNMEM_STAT_ATTR(bytes_written);
VNMEM_STAT_ATTR(faults);
VNMEM_STAT_ATTR(errors);
VNMEM_STAT_ATTR(degraded);
VNMEM_STAT_ATTR(lost_slabs);
VNMEM_STAT_ATTR(polled);
VNMEM_STAT_ATTR(poll_missed);
VNMEM_STAT_ATTR(poll_gated);

static ssize_t slabs_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&dev_to_vnmem(dev)->nr_mapped));
}
static DEVICE_ATTR_RO(slabs);

static ssize_t hosts_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vnmem_disk *d = dev_to_vnmem(dev);
	unsigned int i;
	int len = 0;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];

		len += sysfs_emit_at(buf, len, "%u %s %s %d\n", h->id, h->name,
				     vnode_xprt_state_str(READ_ONCE(h->state)),
				     atomic_read(&h->nr_slabs));
	}
	return len;
}
static DEVICE_ATTR_RO(hosts);

static ssize_t lat_hist_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return vnode_lat_show(&dev_to_vnmem(dev)->stats.lat, buf);
}
static DEVICE_ATTR_RO(lat_hist);

static ssize_t read_lat_hist_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return vnode_fine_show(&dev_to_vnmem(dev)->stats.read_lat, buf);
}
static DEVICE_ATTR_RO(read_lat_hist);

static ssize_t replicas_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dev_to_vnmem(dev)->replicas);
}
static DEVICE_ATTR_RO(replicas);

static ssize_t slab_size_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", 1ULL << dev_to_vnmem(dev)->slab_shift);
}
static DEVICE_ATTR_RO(slab_size);

static struct attribute *vnmem_attrs[] = {
	&dev_attr_pages_read.attr,
	&dev_attr_pages_written.attr,
	&dev_attr_bytes_read.attr,
	&dev_attr_bytes_written.attr,
	&dev_attr_faults.attr,
	&dev_attr_errors.attr,
	&dev_attr_slabs.attr,
	&dev_attr_hosts.attr,
	&dev_attr_lat_hist.attr,
	&dev_attr_read_lat_hist.attr,
	&dev_attr_degraded.attr,
	&dev_attr_lost_slabs.attr,
	&dev_attr_polled.attr,
	&dev_attr_poll_missed.attr,
	&dev_attr_poll_gated.attr,
	&dev_attr_replicas.attr,
	&dev_attr_slab_size.attr,
	NULL,
};

static const struct attribute_group vnmem_attr_group = {
	.name	= "vnode",
	.attrs	= vnmem_attrs,
};

static const struct attribute_group *vnmem_attr_groups[] = {
	&vnmem_attr_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* Create / destroy                                                    */
/* ------------------------------------------------------------------ */

ssize_t vnmem_disk_state(struct vnmem_disk *d, char *buf)
{
	unsigned int i, live = 0;

	for (i = 0; i < d->nr_hosts; i++)
		if (READ_ONCE(d->hosts[i].state) == VNODE_XPRT_LIVE)
			live++;
	if (live == d->nr_hosts && !atomic64_read(&d->stats.degraded) &&
	    !atomic64_read(&d->stats.lost_slabs))
		return sysfs_emit(buf, "live\n");
	return sysfs_emit(buf, live ? "degraded\n" : "down\n");
}

static void vnmem_close_hosts(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_hosts; i++) {
		if (!IS_ERR_OR_NULL(d->hosts[i].clt))
			vnode_xprt_clt_close(d->hosts[i].clt);
		d->hosts[i].clt = NULL;
	}
}

static int vnmem_open_hosts(struct vnmem_disk *d, struct vnmem_cfg *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];
		struct vnode_xprt_cfg xc = {
			.addr			= cfg->addrs[i],
			.role			= VNODE_ROLE_MEM,
			.client_id		= d->client_id,
			.name			= d->name,
			.nr_queues		= vnode_nr_queues,
			.queue_depth		= vnode_queue_depth *
						  d->tag_set.nr_hw_queues,
			.connect_timeout_ms	= vnode_connect_timeout_ms,
			.reconnect_delay_ms	= vnode_reconnect_delay_ms,
			.loss_timeout_ms	= vnode_loss_timeout_ms,
		};
		struct vnode_accept acc = {};
		struct vnode_xprt_clt *clt;
		unsigned int shift;

		h->disk = d;
		h->id = i;
		h->addr = cfg->addrs[i];
		atomic_set(&h->epoch, 1);
		snprintf(h->name, sizeof(h->name), "%pISpc", &h->addr);
		d->nr_hosts = i + 1;

		clt = vnode_xprt_clt_open(&xc, &vnmem_clt_ops, h, &acc);
		if (IS_ERR(clt)) {
			dlog(err, d, "memory host %s: cannot connect: %pe\n",
			     h->name, clt);
			return PTR_ERR(clt);
		}
		strscpy(h->name, vnode_xprt_clt_peer(clt), sizeof(h->name));
		h->capacity = le64_to_cpu(acc.capacity);
		h->used_base = le64_to_cpu(acc.used);
		WRITE_ONCE(h->state, vnode_xprt_clt_state(clt));
		/* state_change() handles events once it sees ->clt set. */
		smp_store_release(&h->clt, clt);

		shift = le16_to_cpu(acc.slab_shift);
		if (shift < PAGE_SHIFT || shift > 30) {
			hlog(err, h, "memory host offers unusable slab_shift %u\n",
			     shift);
			return -EPROTO;
		}
		if (i && shift != d->slab_shift) {
			hlog(err, h, "slab size %llu differs from %s's %llu: all hosts of a disk must agree\n",
			     1ULL << shift, d->hosts[0].name,
			     1ULL << d->slab_shift);
			return -EINVAL;
		}
		d->slab_shift = shift;
		hlog(info, h, "connected: capacity %llu used %llu slab %llu\n",
		     h->capacity, h->used_base, 1ULL << shift);
	}
	for (i = 0; i < d->nr_hosts; i++)
		if (vnmem_host_free(&d->hosts[i]) >= (1LL << d->slab_shift))
			return 0;
	dlog(err, d, "every memory host is full\n");
	return -ENOSPC;
}

int vnmem_disk_create(struct vnmem_cfg *cfg, struct vnmem_disk **out)
{
	struct vnode_disk_limits lim = {
		.block_size		= VNMEM_SLOT_SIZE,
		.max_segment_size	= VNMEM_SLOT_SIZE,
		.dma_alignment		= VNMEM_SLOT_SIZE - 1,
		.max_discard_sectors	= UINT_MAX >> SECTOR_SHIFT,
		.discard_granularity	= VNMEM_SLOT_SIZE,
	};
	struct vnmem_disk *d;
	unsigned int i;
	int ret;

	if (cfg->replicas > cfg->nr_hosts) {
		vnode_log(err, config_item_name(&cfg->item),
			  "replicas=%u needs at least %u hosts, %u configured\n",
			  cfg->replicas, cfg->replicas, cfg->nr_hosts);
		return -EINVAL;
	}
	if (!cfg->nr_hosts || !cfg->size) {
		vnode_log(err, config_item_name(&cfg->item),
			  "set hosts and size before enable\n");
		return -EINVAL;
	}

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->size = cfg->size;
	d->replicas = cfg->replicas;
	spin_lock_init(&d->map_lock);
	spin_lock_init(&d->slow_lock);
	INIT_LIST_HEAD(&d->free_list);
	INIT_LIST_HEAD(&d->slow_list);
	INIT_WORK(&d->slow_work, vnmem_slow_work);
	INIT_LIST_HEAD(&d->staged);
	spin_lock_init(&d->stage_lock);
	hrtimer_init(&d->stage_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	d->stage_timer.function = vnmem_stage_timer;
	d->client_id = get_random_u64();

	d->index = ida_alloc(&vnmem_ida, GFP_KERNEL);
	if (d->index < 0) {
		ret = d->index;
		goto out_free_disk;
	}
	snprintf(d->name, sizeof(d->name), "vnmem%d", d->index);

	d->tag_set.ops = &vnmem_mq_ops;
	d->tag_set.nr_hw_queues = vnode_nr_queues ? vnode_nr_queues :
				  min(num_online_cpus(), 4U);
	d->tag_set.queue_depth = vnode_queue_depth;
	d->tag_set.numa_node = NUMA_NO_NODE;
	d->tag_set.cmd_size = sizeof(struct vnmem_cmd);
	/*
	 * No I/O scheduler: requests are single pages that never merge, and
	 * dispatching from the submitter's context keeps pid/comm in the
	 * tracepoints meaningful.
	 */
	d->tag_set.flags = BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	d->tag_set.driver_data = d;
	d->tag_set.timeout = msecs_to_jiffies(vnode_io_timeout_ms);

	ret = vnmem_open_hosts(d, cfg);
	if (ret)
		goto out_close_hosts;
	/* Every host is LIVE now: their devices bound the SGEs per op. */
	d->max_rq_pages = vnode_max_rq_pages;
	for (i = 0; i < d->nr_hosts; i++)
		d->max_rq_pages = min(d->max_rq_pages,
				      vnode_xprt_clt_max_pages(d->hosts[i].clt));
	lim.max_hw_sectors = d->max_rq_pages * VNMEM_SECT_PER_SLOT;
	lim.max_segments = d->max_rq_pages;
	lim.chunk_sectors = 1U << (d->slab_shift - SECTOR_SHIFT);

	d->nr_slabs = DIV_ROUND_UP_ULL(d->size, 1ULL << d->slab_shift);
	d->slabs = kvcalloc(d->nr_slabs, sizeof(*d->slabs), GFP_KERNEL);
	d->owner = kvcalloc(d->size >> VNMEM_SLOT_SHIFT, sizeof(u32),
			    GFP_KERNEL);
	if (!d->slabs || !d->owner) {
		ret = -ENOMEM;
		goto out_free_map;
	}

	d->wq = alloc_ordered_workqueue("%s", WQ_MEM_RECLAIM, d->name);
	if (!d->wq) {
		ret = -ENOMEM;
		goto out_free_map;
	}

	ret = blk_mq_alloc_tag_set(&d->tag_set);
	if (ret)
		goto out_destroy_wq;

	d->gd = vnode_blk_mq_alloc_disk(&d->tag_set, &lim, d);
	if (IS_ERR(d->gd)) {
		ret = PTR_ERR(d->gd);
		d->gd = NULL;
		goto out_free_tags;
	}
	d->gd->major = vnmem_major;
	d->gd->first_minor = d->index;
	d->gd->minors = 1;
	d->gd->fops = &vnmem_fops;
#if VNODE_HAVE_RW_PAGE
	if (vnode_skip_swapcache)
		d->gd->fops = &vnmem_fops_sync;
#endif
	d->gd->private_data = d;
	d->gd->flags |= GENHD_FL_NO_PART;
	strscpy(d->gd->disk_name, d->name, DISK_NAME_LEN);
	set_capacity(d->gd, d->size >> SECTOR_SHIFT);

	ret = device_add_disk(NULL, d->gd, vnmem_attr_groups);
	if (ret)
		goto out_put_disk;

	dlog(info, d, "%llu bytes on %u memory host(s), %u replica(s), slab %llu, client_id %016llx\n",
	     d->size, d->nr_hosts, d->replicas, 1ULL << d->slab_shift,
	     d->client_id);
	*out = d;
	return 0;

out_put_disk:
	put_disk(d->gd);
out_free_tags:
	blk_mq_free_tag_set(&d->tag_set);
out_destroy_wq:
	destroy_workqueue(d->wq);
out_free_map:
	kvfree(d->owner);
	kvfree(d->slabs);
out_close_hosts:
	WRITE_ONCE(d->dead, true);
	vnmem_close_hosts(d);
	ida_free(&vnmem_ida, d->index);
out_free_disk:
	kfree(d);
	return ret;
}

int vnmem_disk_destroy(struct vnmem_disk *d)
{
	struct vnode_acct *a;
	u64 slot;

	if (disk_openers(d->gd)) {
		dlog(info, d, "still open (swapon?): not disabling\n");
		return -EBUSY;
	}
	/* Drains every request, including held, staged and punted ones. */
	del_gendisk(d->gd);
	hrtimer_cancel(&d->stage_timer);
	WRITE_ONCE(d->dead, true);
	destroy_workqueue(d->wq);
	/* GOODBYE: each memory host frees every slab of ours. */
	vnmem_close_hosts(d);
	put_disk(d->gd);
	blk_mq_free_tag_set(&d->tag_set);

	/* Slots still owned (no discard at swapoff): fix resident counts. */
	for (slot = 0; slot < (d->size >> VNMEM_SLOT_SHIFT); slot++) {
		u32 o = d->owner[slot] & ~VNMEM_OWNER_BAD;

		if (o < VNMEM_OWNER_FIRST)
			continue;
		rcu_read_lock();
		a = vnode_acct_by_id(o);
		if (a)
			atomic64_dec(&a->resident_pages);
		rcu_read_unlock();
	}
	dlog(info, d, "disabled\n");
	kvfree(d->owner);
	kvfree(d->slabs);
	ida_free(&vnmem_ida, d->index);
	kfree(d);
	return 0;
}

int vnmem_init(void)
{
	vnmem_major = register_blkdev(0, "vnmem");
	return vnmem_major < 0 ? vnmem_major : 0;
}

void vnmem_exit(void)
{
	unregister_blkdev(vnmem_major, "vnmem");
	ida_destroy(&vnmem_ida);
}
