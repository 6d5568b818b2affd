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

static bool vnmem_draining(struct vnmem_disk *d, unsigned int host)
{
	return READ_ONCE(d->hosts[host].drain) != VNMEM_DRAIN_NONE;
}

bool vnmem_any_draining(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_hosts; i++)
		if (READ_ONCE(d->hosts[i].drain) == VNMEM_DRAIN_ACTIVE)
			return true;
	return false;
}

enum vnmem_heal_act {
	VNMEM_HEAL_NONE,
	VNMEM_HEAL_COPY,	/* copy *src to a new host, *dst */
	VNMEM_HEAL_DROP,	/* free *src, a copy on a draining host */
};

/*
 * Take the next slab that needs work and can get it now: fewer valid
 * copies off draining hosts than the disk's replicas (it gets a copy), or
 * a stale copy left on a draining host (it is dropped).  Sets *@busy when
 * one cannot be taken yet (I/O in flight, no live source); counts in
 * *@at_risk the slabs with fewer valid copies than replicas.  map_lock
 * taken per slab.
 */
static enum vnmem_heal_act vnmem_heal_take(struct vnmem_disk *d, u32 *idxp,
					   struct vnmem_copy *src,
					   struct vnmem_host **dst,
					   unsigned int *at_risk, bool *busy)
{
	unsigned long flags;
	bool stuck = false;
	u32 n, idx;

	*at_risk = 0;
	*busy = false;
	d->drain_stuck = false;
	for (n = 0; n < d->nr_slabs; n++) {
		struct vnmem_slab *s;
		bool have[VNMEM_MAX_HOSTS] = {};
		unsigned int i, valid = 0, kept = 0;
		int from = -1, drop = -1;

		idx = (d->heal_cursor + n) % d->nr_slabs;
		s = &d->slabs[idx];
		spin_lock_irqsave(&d->map_lock, flags);
		if (s->state != VNMEM_SLAB_MAPPED || s->healing) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		for (i = 0; i < s->nr_copies; i++) {
			const struct vnmem_copy *c = &s->copy[i];

			if (!vnmem_copy_valid(d, c)) {
				if (vnmem_copy_exists(d, c) &&
				    vnmem_draining(d, c->host))
					drop = i;
				continue;
			}
			valid++;
			have[c->host] = true;
			kept += !vnmem_draining(d, c->host);
			if (READ_ONCE(d->hosts[c->host].state) ==
			    VNODE_XPRT_LIVE)
				from = i;
		}
		*at_risk += valid && valid < d->replicas;
		/*
		 * A stale copy on a draining host goes when nothing else is
		 * to be done (even on a lost slab, whose reads fail anyway).
		 */
		if (drop >= 0 && (!valid || kept >= d->replicas)) {
			if (s->inflight) {
				*busy = true;
				spin_unlock_irqrestore(&d->map_lock, flags);
				continue;
			}
			*src = s->copy[drop];
			s->copy[drop] = s->copy[--s->nr_copies];
			memset(&s->copy[s->nr_copies], 0, sizeof(*src));
			spin_unlock_irqrestore(&d->map_lock, flags);
			*idxp = idx;
			return VNMEM_HEAL_DROP;
		}
		if (!valid || kept >= d->replicas) {
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		if (s->inflight || from < 0) {
			*busy = true;
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		/* Draining hosts hold a copy only until it is moved. */
		for (i = 0; i < d->nr_hosts; i++)
			have[i] |= vnmem_draining(d, i);
		*dst = vnmem_pick_host(d, have);
		if (!*dst) {
			stuck |= kept < valid;
			spin_unlock_irqrestore(&d->map_lock, flags);
			continue;
		}
		*src = s->copy[from];
		s->healing = true;
		s->inflight++;
		spin_unlock_irqrestore(&d->map_lock, flags);
		*idxp = idx;
		d->heal_cursor = idx + 1;
		return VNMEM_HEAL_COPY;
	}
	d->drain_stuck = stuck;
	return VNMEM_HEAL_NONE;
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
 * Put @nc in slab @idx in place of a copy that is no longer valid, or of
 * one on a draining host, and release the slab.  Returns in @old a copy
 * that still exists on another host and must be freed.
 */
static bool vnmem_heal_switch(struct vnmem_disk *d, u32 idx,
			      const struct vnmem_copy *nc,
			      struct vnmem_copy *old)
{
	struct vnmem_slab *s = &d->slabs[idx];
	unsigned long flags;
	bool free_old = false;
	int slot = -1, moved = -1;
	unsigned int i;

	spin_lock_irqsave(&d->map_lock, flags);
	for (i = 0; i < s->nr_copies; i++) {
		const struct vnmem_copy *c = &s->copy[i];

		if (vnmem_copy_valid(d, c)) {
			if (vnmem_draining(d, c->host))
				moved = i;
			continue;
		}
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
	if (slot < 0 && moved >= 0 && s->nr_copies >= d->replicas)
		slot = moved;
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

/*
 * Close the session of each draining host that holds nothing of ours any
 * more: it is out of the disk until the drain is cancelled.  Slow path.
 */
static void vnmem_drain_retire(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];
		struct vnode_xprt_clt *clt, *next;
		bool live = READ_ONCE(h->state) == VNODE_XPRT_LIVE;

		if (READ_ONCE(h->drain) != VNMEM_DRAIN_ACTIVE ||
		    atomic_read(&h->nr_slabs) ||
		    (live && !list_empty(&h->pending)))
			continue;
		spin_lock_irq(&d->host_lock);
		WRITE_ONCE(h->drain, VNMEM_DRAIN_RETIRED);
		clt = h->clt;
		next = h->next_clt;
		WRITE_ONCE(h->clt, NULL);
		h->next_clt = NULL;
		WRITE_ONCE(h->state, VNODE_XPRT_CLOSED);
		spin_unlock_irq(&d->host_lock);
		cancel_delayed_work(&h->rejoin_work);
		vnmem_pending_clear(h);
		hlog(info, h, "drained: it holds no slab of this disk any more; its session is closed\n");
		synchronize_rcu();	/* queue_rq reads ->clt under RCU */
		vnode_xprt_clt_close(next);
		vnode_xprt_clt_close(clt);
	}
}

/* Heal at most one slab.  Slow-path work only. */
void vnmem_heal_step(struct vnmem_disk *d)
{
	unsigned int rate = READ_ONCE(vnode_heal_rate_mbps), at_risk, noio;
	u64 size = 1ULL << d->slab_shift;
	struct vnmem_copy src, nc, old;
	struct vnmem_host *dst = NULL;
	enum vnmem_heal_act act;
	bool busy;
	u32 idx;
	int ret;

	if ((d->replicas < 2 && !vnmem_any_draining(d)) || !rate ||
	    READ_ONCE(d->dead) || !READ_ONCE(d->heal_check))
		return;
	if (time_before(jiffies, d->heal_next)) {
		vnmem_kick_later(d, d->heal_next - jiffies);
		return;
	}
	/* Cleared before the scan: a loss during it sets it again. */
	WRITE_ONCE(d->heal_check, false);
	act = vnmem_heal_take(d, &idx, &src, &dst, &at_risk, &busy);
	if (act == VNMEM_HEAL_DROP) {
		vnmem_rpc_free(&d->hosts[src.host], idx, &src);
		WRITE_ONCE(d->heal_check, true);
		vnmem_kick_later(d, 1);
		return;
	}
	if (act == VNMEM_HEAL_NONE) {
		if (busy) {
			WRITE_ONCE(d->heal_check, true);
			vnmem_kick_later(d, msecs_to_jiffies(100));
		} else if (d->heal_started && !at_risk) {
			WRITE_ONCE(d->heal_last_ms,
				   (ktime_get_ns() - d->heal_started) /
				   NSEC_PER_MSEC);
			dlog(info, d, "redundancy restored: %lld slab(s) copied (%lld bytes) in %llu ms\n",
			     atomic64_read(&d->stats.healed_slabs) - d->heal_base,
			     (atomic64_read(&d->stats.healed_slabs) -
			      d->heal_base) * (s64)size,
			     (ktime_get_ns() - d->heal_started) / NSEC_PER_MSEC);
			trace_heal(d->name, 0, 0, 0, true);
			d->heal_started = 0;
		}
		if (!busy)
			vnmem_drain_retire(d);
		/* No host to copy to (yet): a host coming back scans again. */
		WRITE_ONCE(d->healing, false);
		return;
	}
	if (!d->heal_started && at_risk) {
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
			vnmem_host_set_full(dst);
		vnmem_heal_abort(d, idx);
	}
	if (!ret) {
		if (vnmem_heal_switch(d, idx, &nc, &old))
			vnmem_rpc_free(&d->hosts[old.host], idx, &old);
		atomic64_inc(&d->stats.healed_slabs);
		atomic64_add(size, &d->stats.heal_bytes);
		trace_heal(d->name, idx, dst->id, at_risk ? at_risk - 1 : 0,
			   false);
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

/*
 * configfs mem/<name>/drain: start (@on) or cancel draining the host at
 * @a.  Cancelling after the drain finished takes the host back: it
 * rejoins with a new session.  cfg->lock held.
 */
int vnmem_drain_set(struct vnmem_disk *d, const struct sockaddr_storage *a,
		    bool on)
{
	struct vnmem_host *h = NULL;
	unsigned int i, others = 0;

	for (i = 0; i < d->nr_hosts; i++) {
		if (vnode_addr_equal(&d->hosts[i].addr, a))
			h = &d->hosts[i];
		else if (READ_ONCE(d->hosts[i].drain) == VNMEM_DRAIN_NONE)
			others++;
	}
	if (!h) {
		dlog(err, d, "drain: %pISpc is not one of this disk's memory hosts\n",
		     a);
		return -ENOENT;
	}
	if (on && others < d->replicas && h->drain == VNMEM_DRAIN_NONE) {
		hlog(err, h, "cannot drain: the disk keeps %u cop%s of each slab and %u other host(s) would be left\n",
		     d->replicas, d->replicas > 1 ? "ies" : "y", others);
		return -ENOSPC;
	}
	if (!on && h->drain == VNMEM_DRAIN_RETIRED &&
	    !READ_ONCE(vnode_rejoin_max_ms)) {
		hlog(err, h, "cannot take a drained host back with rejoin_max_ms=0\n");
		return -EOPNOTSUPP;
	}
	spin_lock_irq(&d->host_lock);
	if (on && h->drain == VNMEM_DRAIN_NONE) {
		WRITE_ONCE(h->drain, VNMEM_DRAIN_ACTIVE);
		hlog(info, h, "draining: moving its %d slab(s) to the other hosts at up to %u MB/s\n",
		     atomic_read(&h->nr_slabs), READ_ONCE(vnode_heal_rate_mbps));
	} else if (!on && h->drain != VNMEM_DRAIN_NONE) {
		bool retired = h->drain == VNMEM_DRAIN_RETIRED;

		WRITE_ONCE(h->drain, VNMEM_DRAIN_NONE);
		if (retired) {
			h->rejoin_ms = 0;
			vnmem_rejoin_schedule(h);
		}
		hlog(info, h, "drain cancelled: the host takes new slabs again\n");
	}
	if (d->running && !d->dead) {
		WRITE_ONCE(d->heal_check, true);
		queue_work(d->wq, &d->slow_work);
	}
	spin_unlock_irq(&d->host_lock);
	return 0;
}

/* @h's drain state as configfs drain and sysfs hosts show it. */
const char *vnmem_drain_str(struct vnmem_host *h)
{
	switch (READ_ONCE(h->drain)) {
	case VNMEM_DRAIN_ACTIVE:
		return READ_ONCE(h->disk->drain_stuck) ? "stuck" : "draining";
	case VNMEM_DRAIN_RETIRED:
		return "drained";
	default:
		return "-";
	}
}

/* "ADDR STATE SLABS" per host being drained: draining, stuck, drained. */
ssize_t vnmem_drain_show(struct vnmem_disk *d, char *buf)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];

		if (READ_ONCE(h->drain) == VNMEM_DRAIN_NONE)
			continue;
		len += sysfs_emit_at(buf, len, "%s %s %d\n", h->name,
				     vnmem_drain_str(h),
				     atomic_read(&h->nr_slabs));
	}
	return len;
}
