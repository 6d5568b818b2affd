// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: the remote-memory disk's slow path, an ordered
 * WQ_MEM_RECLAIM work item: slab allocation on the memory hosts
 * (ALLOC_SLAB, and the choice of host), release (FREE_SLAB), recovery of
 * a slab whose copy was lost, and the requests punted to it by the
 * submission path (proc_io.c).
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

/*
 * Remember remote memory to give back once @h is LIVE again in the same
 * session (see struct vnmem_pending).  Slow path only.
 */
static void vnmem_pending_add(struct vnmem_host *h, u32 idx, u64 handle,
			      u32 epoch, bool orphan)
{
	struct vnmem_pending *p;

	if (epoch != (u32)atomic_read(&h->epoch))
		return;	/* the host already dropped that session's slabs */
	p = kzalloc(sizeof(*p), GFP_NOIO | __GFP_NOWARN);
	if (!p) {
		hlog(warn_ratelimited, h,
		     "no memory to remember slab %u: it stays allocated on the host until this session ends\n",
		     idx);
		return;
	}
	p->slab = idx;
	p->handle = handle;
	p->epoch = epoch;
	p->orphan = orphan;
	list_add_tail(&p->node, &h->pending);
}

static void vnmem_pending_del(struct vnmem_pending *p)
{
	list_del(&p->node);
	kfree(p);
}

void vnmem_pending_clear(struct vnmem_host *h)
{
	struct vnmem_pending *p, *tmp;

	list_for_each_entry_safe(p, tmp, &h->pending, node)
		vnmem_pending_del(p);
}

/* The host gave us a new slab for @idx: it replaced any older one. */
static void vnmem_pending_forget(struct vnmem_host *h, u32 idx)
{
	struct vnmem_pending *p, *tmp;

	list_for_each_entry_safe(p, tmp, &h->pending, node)
		if (p->slab == idx)
			vnmem_pending_del(p);
}

static int vnmem_rpc_free_handle(struct vnmem_host *h, u64 handle)
{
	struct vnode_free_req req = {
		.hdr.op = VNODE_OP_FREE_SLAB,
		.handle = cpu_to_le64(handle),
	};
	struct vnode_status_rsp rsp = {};
	int ret, st;

	ret = vnode_xprt_clt_call(h->clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), vnode_rpc_timeout_ms);
	if (ret)
		return ret;
	st = le16_to_cpu(rsp.hdr.status);
	if (st == VNODE_ST_NOENT)
		return 0;	/* already gone (replaced by a later ALLOC_SLAB) */
	if (st != VNODE_ST_OK) {
		hlog(warn_ratelimited, h, "FREE_SLAB refused: status %d\n", st);
		return -EIO;
	}
	return 0;
}

int vnmem_rpc_alloc(struct vnmem_host *h, u32 idx, struct vnmem_copy *c)
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
	if (ret) {
		/* It may have been served: the host may hold a slab for it. */
		if (ret == -ETIMEDOUT || ret == -ENOTCONN)
			vnmem_pending_add(h, idx, 0, epoch, true);
		return ret;
	}
	vnmem_pending_forget(h, idx);
	st = le16_to_cpu(rsp.hdr.status);
	if (st == VNODE_ST_FULL)
		return -ENOSPC;
	if (st != VNODE_ST_OK) {
		hlog(warn_ratelimited, h, "ALLOC_SLAB refused: status %d\n",
		     st);
		return -EIO;
	}
	if (le64_to_cpu(rsp.len) != 1ULL << d->slab_shift) {
		hlog(err, h, "ALLOC_SLAB returned %llu bytes, expected %llu\n",
		     le64_to_cpu(rsp.len), 1ULL << d->slab_shift);
		vnmem_rpc_free_handle(h, le64_to_cpu(rsp.handle));
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

/*
 * Give copy @c of slab @idx back.  A host that is reconnecting may keep
 * our session: the free is remembered and sent when it is LIVE again.
 */
void vnmem_rpc_free(struct vnmem_host *h, u32 idx, const struct vnmem_copy *c)
{
	int ret = -ENOTCONN;

	atomic_dec(&h->nr_slabs);
	h->full = false;
	if (READ_ONCE(h->state) == VNODE_XPRT_LIVE)
		ret = vnmem_rpc_free_handle(h, c->handle);
	if (ret == -ENOTCONN || ret == -ETIMEDOUT)
		vnmem_pending_add(h, idx, c->handle, c->epoch, false);
	else if (ret)
		hlog(warn_ratelimited, h, "FREE_SLAB of slab %u failed: %d\n",
		     idx, ret);
}

/*
 * Send what @h's session still owes it: frees that could not be sent,
 * and slabs an ALLOC_SLAB that timed out may have left there.  Slow path,
 * @h LIVE.
 */
static void vnmem_pending_flush(struct vnmem_disk *d, struct vnmem_host *h)
{
	u32 epoch = atomic_read(&h->epoch);
	struct vnmem_pending *p;
	struct vnmem_copy c;
	unsigned int sent = 0, i;
	unsigned long flags;
	bool held;
	u32 idx;
	int ret;

	while (!list_empty(&h->pending) &&
	       READ_ONCE(h->state) == VNODE_XPRT_LIVE) {
		p = list_first_entry(&h->pending, struct vnmem_pending, node);
		if (p->epoch != epoch)
			goto drop;	/* that session's slabs are gone */
		if (!p->orphan) {
			ret = vnmem_rpc_free_handle(h, p->handle);
			if (ret == -ENOTCONN || ret == -ETIMEDOUT)
				break;
			sent++;
			goto drop;
		}
		/*
		 * A valid copy of ours there replaced the orphan.  A stale
		 * one predates it (the timed-out ALLOC_SLAB was a resync):
		 * the host may have replaced it by the orphan, so its handle
		 * may be dead.  Forget it; the ALLOC_SLAB below replaces
		 * whichever the host holds, and that is freed.
		 */
		held = false;
		spin_lock_irqsave(&d->map_lock, flags);
		for (i = 0; i < d->slabs[p->slab].nr_copies; i++) {
			struct vnmem_copy *cp = &d->slabs[p->slab].copy[i];

			if (cp->host != h->id || !vnmem_copy_exists(d, cp))
				continue;
			if (vnmem_copy_valid(d, cp)) {
				held = true;
			} else {
				cp->epoch = 0;
				atomic_dec(&h->nr_slabs);
			}
		}
		spin_unlock_irqrestore(&d->map_lock, flags);
		if (held)
			goto drop;
		idx = p->slab;
		ret = vnmem_rpc_alloc(h, idx, &c);
		if (!ret) {
			/* It forgot every entry of the slab, @p included. */
			atomic_dec(&h->nr_slabs);
			if (vnmem_rpc_free_handle(h, c.handle))
				vnmem_pending_add(h, idx, c.handle, c.epoch,
						  false);
			sent++;
			continue;
		}
		if (ret == -ETIMEDOUT || ret == -ENOTCONN) {
			/* It queued a new orphan entry for the slab. */
			vnmem_pending_del(p);
			break;
		}
		/* Refused (full): a host replaces before it checks room. */
drop:
		vnmem_pending_del(p);
	}
	if (sent)
		hlog(info, h, "gave back %u slab(s) it held for us\n", sent);
}

/*
 * A host that answered FULL is skipped for VNMEM_FULL_RETRY: it may have
 * room for us again before we free a slab there (a reservation of our
 * identity, another client's leases ending).
 */
#define VNMEM_FULL_RETRY	(5 * HZ)

void vnmem_host_set_full(struct vnmem_host *h)
{
	h->full = true;
	h->full_at = jiffies;
}

bool vnmem_host_full(const struct vnmem_host *h)
{
	return h->full && time_before(jiffies, h->full_at + VNMEM_FULL_RETRY);
}

/* Bytes we believe are still free on @h. */
s64 vnmem_host_free(struct vnmem_host *h)
{
	return (s64)h->capacity - (s64)h->used_base -
		((s64)atomic_read(&h->nr_slabs) << h->disk->slab_shift);
}

/*
 * The live, not-full, not-draining, not-yet-tried host with the most free
 * memory.  Any
 * context (the healer calls it under map_lock).
 */
struct vnmem_host *vnmem_pick_host(struct vnmem_disk *d, const bool *tried)
{
	struct vnmem_host *best = NULL;
	unsigned int i, start = get_random_u32() % d->nr_hosts;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[(start + i) % d->nr_hosts];

		if (tried[h->id] || vnmem_host_full(h) || READ_ONCE(h->drain) ||
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
	bool full = false, failed = false, waiting = false;
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
			vnmem_host_set_full(h);
			full = true;
		} else {
			failed = true;
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
		     failed ? "the allocation failed on every memory host tried (see above)" :
		     "no memory host is reachable");
		return full ? -ENOSPC : -EIO;
	}
	if (n < d->replicas) {
		WRITE_ONCE(d->heal_check, true);
		dlog(warn_ratelimited, d,
		     "slab %u mapped with %u of %u copies (degraded)\n", idx,
		     n, d->replicas);
	}

	spin_lock_irqsave(&d->map_lock, flags);
	memcpy(s->copy, copy, sizeof(copy));
	s->nr_copies = n;
	s->lost = false;
	s->state = VNMEM_SLAB_MAPPED;
	spin_unlock_irqrestore(&d->map_lock, flags);
	atomic_inc(&d->nr_mapped);
	return 0;
}

/*
 * Second half of unmapping slab @s, which the caller set FREEING with its
 * @n copies saved in @copy: free them on their hosts, then unmap it.
 */
static void vnmem_slab_unmap(struct vnmem_disk *d, struct vnmem_slab *s,
			     const struct vnmem_copy *copy, unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vnmem_copy_exists(d, &copy[i]))
			vnmem_rpc_free(&d->hosts[copy[i].host], s - d->slabs,
				       &copy[i]);

	spin_lock_irqsave(&d->map_lock, flags);
	memset(s->copy, 0, sizeof(s->copy));
	s->nr_copies = 0;
	s->state = VNMEM_SLAB_UNMAPPED;
	spin_unlock_irqrestore(&d->map_lock, flags);
	atomic_dec(&d->nr_mapped);
}

/* Give slab @s back if it is still unused.  Slow-path work only. */
static void vnmem_slab_release(struct vnmem_disk *d, struct vnmem_slab *s)
{
	struct vnmem_copy copy[VNMEM_MAX_REPLICAS];
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&d->map_lock, flags);
	if (s->state != VNMEM_SLAB_MAPPED || s->used || s->inflight) {
		spin_unlock_irqrestore(&d->map_lock, flags);
		return;
	}
	s->state = VNMEM_SLAB_FREEING;
	n = s->nr_copies;
	memcpy(copy, s->copy, sizeof(copy));
	spin_unlock_irqrestore(&d->map_lock, flags);
	vnmem_slab_unmap(d, s, copy, n);
}

/*
 * Count, at once, the mapped slabs a host loss left without a valid copy
 * (the loss bumped the host's epoch first).  Their written slots are
 * marked bad when the slow path next meets them (vnmem_slab_recover()),
 * which does not count them again.  Returns how many were counted.
 */
unsigned int vnmem_count_lost_slabs(struct vnmem_disk *d)
{
	unsigned int lost = 0, i;
	unsigned long flags;
	u32 idx;

	for (idx = 0; idx < d->nr_slabs; idx++) {
		struct vnmem_slab *s = &d->slabs[idx];
		bool valid = false;

		spin_lock_irqsave(&d->map_lock, flags);
		if (s->state == VNMEM_SLAB_MAPPED && !s->lost) {
			for (i = 0; i < s->nr_copies && !valid; i++)
				valid = vnmem_copy_valid(d, &s->copy[i]);
			if (!valid) {
				s->lost = true;
				lost++;
			}
		}
		spin_unlock_irqrestore(&d->map_lock, flags);
	}
	if (lost)
		atomic64_add(lost, &d->stats.lost_slabs);
	return lost;
}

/*
 * Mapped slabs with fewer valid copies than the disk's replicas: one more
 * host loss would lose them (or already did, with no copy left).
 */
unsigned int vnmem_count_at_risk(struct vnmem_disk *d)
{
	unsigned int risk = 0, valid, i;
	unsigned long flags;
	u32 idx;

	for (idx = 0; idx < d->nr_slabs; idx++) {
		struct vnmem_slab *s = &d->slabs[idx];

		spin_lock_irqsave(&d->map_lock, flags);
		if (s->state == VNMEM_SLAB_MAPPED) {
			for (i = 0, valid = 0; i < s->nr_copies; i++)
				valid += vnmem_copy_valid(d, &s->copy[i]);
			risk += valid < d->replicas;
		}
		spin_unlock_irqrestore(&d->map_lock, flags);
		if (!(idx & 1023))
			cond_resched();
	}
	return risk;
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
	bool counted;
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
	counted = s->lost;
	spin_unlock_irqrestore(&d->map_lock, flags);

	if (!counted)
		atomic64_inc(&d->stats.lost_slabs);
	dlog(err_ratelimited, d,
	     "slab %u lost every copy: %u written pages are gone (reads of them fail)\n",
	     idx, bad);
	vnmem_slab_unmap(d, s, copy, n);
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

void vnmem_slow_work(struct work_struct *work)
{
	struct vnmem_disk *d = container_of(work, struct vnmem_disk,
					    slow_work);
	struct vnmem_cmd *cmd, *tmp;
	unsigned long flags;
	unsigned int i;
	LIST_HEAD(list);

	vnmem_install_rejoined(d);
	for (i = 0; i < d->nr_hosts; i++)
		if (!list_empty(&d->hosts[i].pending) &&
		    READ_ONCE(d->hosts[i].state) == VNODE_XPRT_LIVE)
			vnmem_pending_flush(d, &d->hosts[i]);

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

	vnmem_heal_step(d);

	/* A host that took no free in time: try again in a second. */
	for (i = 0; i < d->nr_hosts; i++)
		if (!list_empty(&d->hosts[i].pending) &&
		    READ_ONCE(d->hosts[i].state) == VNODE_XPRT_LIVE)
			break;
	spin_lock_irqsave(&d->host_lock, flags);
	if (i < d->nr_hosts && !d->dead)
		queue_delayed_work(system_unbound_wq, &d->owed_work, HZ);
	spin_unlock_irqrestore(&d->host_lock, flags);
}

void vnmem_owed_work(struct work_struct *work)
{
	struct vnmem_disk *d = container_of(to_delayed_work(work),
					    struct vnmem_disk, owed_work);
	unsigned long flags;

	spin_lock_irqsave(&d->host_lock, flags);
	if (!d->dead)
		queue_work(d->wq, &d->slow_work);
	spin_unlock_irqrestore(&d->host_lock, flags);
}
