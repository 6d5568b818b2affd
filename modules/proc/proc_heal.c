// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: re-replication.  A slab with fewer valid copies than the
 * disk's replicas (its other copy's host was lost, or the copy went stale)
 * gets a new copy on another LIVE host: the slow-path work reads the slab
 * from a surviving copy and writes it to the new one, one slab per run,
 * then switches the slab map over under map_lock.
 *
 * Races: the slab is taken only when nothing is in flight on it; while it
 * is healing, writes to it are held (requeued, like writes to a host that
 * is reconnecting) and reads go on from the valid copy.  So the new copy
 * never misses a write, and the slab is never freed under the copy (it
 * counts as in flight).  The rate is bounded by heal_rate_mbps: the next
 * slab waits until the bytes copied so far fit the budget.
 */
#include "proc.h"

#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <trace/events/vnode.h>

struct vnmem_heal_io {
	struct vnode_xprt_io	io;
	struct completion	done;
	int			err;
};

static void vnmem_heal_io_done(struct vnode_xprt_io *io, int error)
{
	struct vnmem_heal_io *hio = container_of(io, struct vnmem_heal_io, io);

	hio->err = error;
	complete(&hio->done);
}

/* One RDMA op of @nr buffer pages, waited for. */
static int vnmem_heal_rdma(struct vnmem_disk *d, struct vnmem_host *h,
			   bool write, unsigned int nr, u64 raddr, u32 rkey)
{
	struct vnmem_heal_io hio = { .io.done = vnmem_heal_io_done };
	unsigned int tries;
	int ret;

	init_completion(&hio.done);
	for (tries = 0; tries < 50; tries++) {
		if (READ_ONCE(h->state) != VNODE_XPRT_LIVE)
			return -ENOTCONN;
		ret = vnode_xprt_clt_rdma_pages(h->clt, write, d->heal_bv, nr,
						raddr, rkey, &hio.io);
		if (ret != -EAGAIN)
			break;
		usleep_range(1000, 2000);	/* queue full */
	}
	if (ret)
		return ret;
	/* The transport completes every posted op, flushing on loss. */
	wait_for_completion(&hio.done);
	return hio.err;
}

/* Copy one slab from @src to @dst, chunk by chunk through heal_bv. */
static int vnmem_heal_copy(struct vnmem_disk *d, const struct vnmem_copy *src,
			   const struct vnmem_copy *dst)
{
	u64 size = 1ULL << d->slab_shift, off;
	unsigned int nr;
	int ret;

	for (off = 0; off < size; off += (u64)nr << PAGE_SHIFT) {
		nr = min_t(u64, d->max_rq_pages, (size - off) >> PAGE_SHIFT);
		ret = vnmem_heal_rdma(d, &d->hosts[src->host], false, nr,
				      src->addr + off, src->rkey);
		if (!ret)
			ret = vnmem_heal_rdma(d, &d->hosts[dst->host], true,
					      nr, dst->addr + off, dst->rkey);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Take the next slab that needs a copy and has a source and a target now.
 * Sets *@blocked when some slab needs one but cannot get it yet (busy, or
 * no host to put it on).  map_lock taken per slab.
 */
static bool vnmem_heal_take(struct vnmem_disk *d, u32 *idxp,
			    struct vnmem_copy *src, struct vnmem_host **dst,
			    unsigned int *at_risk, bool *busy)
{
	unsigned long flags;
	u32 n, idx;

	*at_risk = 0;
	*busy = false;
	for (n = 0; n < d->nr_slabs; n++) {
		struct vnmem_slab *s;
		bool have[VNMEM_MAX_HOSTS] = {};
		unsigned int i, valid = 0;
		int from = -1;

		idx = (d->heal_cursor + n) % d->nr_slabs;
		s = &d->slabs[idx];
		spin_lock_irqsave(&d->map_lock, flags);
		if (s->state != VNMEM_SLAB_MAPPED || s->healing) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		for (i = 0; i < s->nr_copies; i++) {
			if (!vnmem_copy_valid(d, &s->copy[i]))
				continue;
			valid++;
			have[s->copy[i].host] = true;
			if (READ_ONCE(d->hosts[s->copy[i].host].state) ==
			    VNODE_XPRT_LIVE)
				from = i;
		}
		if (!valid || valid >= d->replicas) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		(*at_risk)++;
		if (s->inflight || from < 0) {
			*busy = true;
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		*dst = vnmem_pick_host(d, have);
		if (!*dst) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		*src = s->copy[from];
		s->healing = true;
		s->inflight++;
		spin_unlock_irqrestore(&d->map_lock, flags);
		*idxp = idx;
		d->heal_cursor = idx + 1;
		return true;
	}
	return false;
}

/* The copy of @s ended: writes may go on, and it may be freed now. */
static void vnmem_heal_release(struct vnmem_disk *d, struct vnmem_slab *s,
			       unsigned long flags)
	__releases(&d->map_lock)
{
	bool kick;

	s->healing = false;
	s->inflight--;
	kick = vnmem_slab_maybe_free(d, s);
	spin_unlock_irqrestore(&d->map_lock, flags);
	if (kick)
		queue_work(d->wq, &d->slow_work);
}

/*
 * Put @nc in slab @idx in place of a copy that is no longer valid, and
 * release the slab.  Returns in @old a stale copy that still exists on
 * another host and must be freed.
 */
static bool vnmem_heal_switch(struct vnmem_disk *d, u32 idx,
			      const struct vnmem_copy *nc,
			      struct vnmem_copy *old)
{
	struct vnmem_slab *s = &d->slabs[idx];
	unsigned long flags;
	bool free_old = false;
	int slot = -1;
	unsigned int i;

	spin_lock_irqsave(&d->map_lock, flags);
	for (i = 0; i < s->nr_copies; i++) {
		const struct vnmem_copy *c = &s->copy[i];

		if (vnmem_copy_valid(d, c))
			continue;
		/* A stale copy on the target was replaced by the host. */
		if (c->host == nc->host) {
			if (vnmem_copy_exists(d, c))
				atomic_dec(&d->hosts[c->host].nr_slabs);
			slot = i;
			break;
		}
		if (slot < 0)
			slot = i;
	}
	if (slot < 0) {
		slot = s->nr_copies++;
	} else if (s->copy[slot].host != nc->host &&
		   vnmem_copy_exists(d, &s->copy[slot])) {
		*old = s->copy[slot];
		free_old = true;
	}
	s->copy[slot] = *nc;
	vnmem_heal_release(d, s, flags);
	return free_old;
}

static void vnmem_heal_abort(struct vnmem_disk *d, u32 idx)
{
	unsigned long flags;

	spin_lock_irqsave(&d->map_lock, flags);
	vnmem_heal_release(d, &d->slabs[idx], flags);
}

/* Run the slow path again after @delay (a heal step, or owed frees). */
static void vnmem_kick_later(struct vnmem_disk *d, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&d->host_lock, flags);
	if (!d->dead)
		mod_delayed_work(system_unbound_wq, &d->owed_work, delay);
	spin_unlock_irqrestore(&d->host_lock, flags);
}

/* Heal at most one slab.  Slow-path work only. */
void vnmem_heal_step(struct vnmem_disk *d)
{
	unsigned int rate = READ_ONCE(vnode_heal_rate_mbps), at_risk, noio;
	u64 size = 1ULL << d->slab_shift;
	struct vnmem_copy src, nc, old;
	struct vnmem_host *dst = NULL;
	bool busy;
	u32 idx;
	int ret;

	if (d->replicas < 2 || !rate || READ_ONCE(d->dead) ||
	    !READ_ONCE(d->heal_check))
		return;
	if (time_before(jiffies, d->heal_next)) {
		vnmem_kick_later(d, d->heal_next - jiffies);
		return;
	}
	/* Cleared before the scan: a loss during it sets it again. */
	WRITE_ONCE(d->heal_check, false);
	if (!vnmem_heal_take(d, &idx, &src, &dst, &at_risk, &busy)) {
		if (busy) {
			WRITE_ONCE(d->heal_check, true);
			vnmem_kick_later(d, msecs_to_jiffies(100));
		} else if (d->heal_started && !at_risk) {
			dlog(info, d, "redundancy restored: %lld slab(s) copied (%lld bytes) in %llu ms\n",
			     atomic64_read(&d->stats.healed_slabs) - d->heal_base,
			     (atomic64_read(&d->stats.healed_slabs) -
			      d->heal_base) * (s64)size,
			     (ktime_get_ns() - d->heal_started) / NSEC_PER_MSEC);
			trace_heal(d->name, 0, 0, 0, true);
			d->heal_started = 0;
		}
		/* No host to copy to (yet): a host coming back scans again. */
		WRITE_ONCE(d->healing, false);
		return;
	}
	if (!d->heal_started) {
		d->heal_started = ktime_get_ns();
		d->heal_base = atomic64_read(&d->stats.healed_slabs);
		dlog(info, d, "healing: %u slab(s) have fewer than %u copies, copying them at up to %u MB/s\n",
		     at_risk, d->replicas, rate);
	}
	WRITE_ONCE(d->healing, true);
	WRITE_ONCE(d->heal_check, true);	/* go on with the next slab */

	noio = memalloc_noio_save();
	ret = vnmem_rpc_alloc(dst, idx, &nc);
	if (!ret) {
		ret = vnmem_heal_copy(d, &src, &nc);
		if (ret) {
			/* The new copy is incomplete: give it back. */
			vnmem_heal_abort(d, idx);
			vnmem_rpc_free(dst, idx, &nc);
		}
	} else {
		if (ret == -ENOSPC)
			dst->full = true;
		vnmem_heal_abort(d, idx);
	}
	if (!ret) {
		if (vnmem_heal_switch(d, idx, &nc, &old))
			vnmem_rpc_free(&d->hosts[old.host], idx, &old);
		atomic64_inc(&d->stats.healed_slabs);
		atomic64_add(size, &d->stats.heal_bytes);
		trace_heal(d->name, idx, dst->id, at_risk - 1, false);
		blk_mq_kick_requeue_list(d->gd->queue);	/* held writes */
	} else {
		hlog(warn_ratelimited, dst, "copying slab %u here failed (%d): will retry\n",
		     idx, ret);
	}
	memalloc_noio_restore(noio);
	/* The next slab when the bytes so far fit the rate. */
	d->heal_next = jiffies + max_t(unsigned long, 1,
				       msecs_to_jiffies(div_u64(size * 1000,
								(u64)rate << 20)));
	vnmem_kick_later(d, d->heal_next - jiffies);
}
