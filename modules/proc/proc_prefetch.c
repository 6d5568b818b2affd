// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: swap-in prefetching, in the style of Leap (ATC'20).
 *
 * For each vNode whose configfs "prefetch" is on, a disk follows the
 * stream of slots its swap-ins read (one stream per task of the vNode, as
 * Leap keeps one per process: two scans in one vNode do not break each
 * other's trend; the last VNMEM_PF_HIST distances between them).  When one distance is the
 * majority of them (Boyer-Moore vote: sequential, strided, forwards or
 * backwards), the disk reads the next slots along it with one-sided RDMA
 * READs into a bounded cache of its own pages (prefetch_cache_pages).  A
 * later swap-in of a cached slot is copied from there; one whose
 * prefetch is still in flight waits for it.  Without a majority nothing
 * is prefetched, so random access pays only the bookkeeping.  The window
 * (how far ahead) starts at VNMEM_PF_MIN_WIN slots, doubles with every
 * swap-in the cache served and halves with every one it did not, up to
 * prefetch_max.
 *
 * Only slots the vNode itself wrote are read ahead.  A cached slot is
 * dropped when it is written (at submission and again at completion, so
 * that a prefetch that raced with the write never serves old data) or
 * freed; a prefetch in flight then is marked stale and dropped when it
 * lands.  Dropped and evicted slots that were never read count as wasted.
 * Everything in the cache is under pf->lock; a prefetch holds its slab
 * (inflight) like any request, so the slab stays mapped until it lands.
 */
#include "proc.h"

#include <linux/blkdev.h>
#include <linux/hash.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>

#define VNMEM_PF_HIST		8	/* distances a stream remembers */
#define VNMEM_PF_STREAMS	8	/* vNodes followed at once per disk */
#define VNMEM_PF_MAX_DELTA	64	/* largest stride followed, slots */
#define VNMEM_PF_MIN_WIN	4	/* first window of a new trend */
#define VNMEM_PF_NO_TREND	S32_MIN	/* a distance no trend can have */
#define VNMEM_PF_OPS_PER_CALL	32	/* READs one swap-in posts at most */

enum vnmem_pf_state {
	VNMEM_PF_FREE,
	VNMEM_PF_INFLIGHT,
	VNMEM_PF_READY,
};

/**
 * struct vnmem_pf_ent - one cached (or arriving) slot
 * @hash: pf->hash bucket link while not FREE
 * @node: pf->fifo while not FREE (oldest first), else pf->free
 * @slot: disk slot
 * @page: its data once READY
 * @waiter: a swap-in waiting for it to land (INFLIGHT only)
 * @waiter_idx: the page of @waiter it fills
 * @acct: vNode it was read ahead for (counters)
 * @state: enum vnmem_pf_state
 * @stale: written or freed while in flight: drop it when it lands
 */
struct vnmem_pf_ent {
	struct hlist_node	hash;
	struct list_head	node;
	u64			slot;
	struct page		*page;
	struct request		*waiter;
	u32			acct;
	u8			waiter_idx;
	u8			state;
	bool			stale;
};

/* One RDMA READ of up to max_rq_pages adjacent slots of one slab. */
struct vnmem_pf_op {
	struct vnode_xprt_io	io;
	struct vnmem_disk	*disk;
	struct list_head	node;	/* pf->free_ops */
	struct bio_vec		bv[VNMEM_MAX_RQ_PAGES];
	struct vnmem_pf_ent	*ent[VNMEM_MAX_RQ_PAGES];
	u64			raddr;
	u32			rkey;
	u32			slab;
	u8			nr;
	u8			host;
};

/**
 * struct vnmem_pf_stream - the swap-ins of one vNode on one disk
 * @acct: vNode owner id, 0 = unused
 * @pid: the task whose swap-ins it follows
 * @last: last slot read
 * @hist: distances between successive reads (ring)
 * @nhist: entries of @hist in use
 * @pos: where the next distance goes
 * @delta: the trend being followed, 0 = none
 * @ahead: the furthest slot read ahead along @delta
 * @win: how many slots ahead of @last to keep read
 * @stamp: pf->clock at its last read (least recently used is replaced)
 */
struct vnmem_pf_stream {
	u32	acct;
	int	pid;
	u64	last;
	s32	hist[VNMEM_PF_HIST];
	u8	nhist;
	u8	pos;
	s32	delta;
	u64	ahead;
	u32	win;
	u64	stamp;
};

struct vnmem_pf {
	spinlock_t		lock;
	unsigned int		nr_ents;
	unsigned int		cached;		/* entries not FREE */
	unsigned int		ops_out;	/* ops posted, not landed */
	struct vnmem_pf_ent	*ents;
	struct list_head	free;
	struct list_head	fifo;
	struct vnmem_pf_op	*ops;
	unsigned int		nr_ops;
	struct list_head	free_ops;
	unsigned int		hash_bits;
	struct hlist_head	*hash;
	u64			clock;
	struct vnmem_pf_stream	streams[VNMEM_PF_STREAMS];
};

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

enum vnmem_pf_event {
	PF_ISSUED,	/* pages read ahead */
	PF_HIT,		/* swap-ins served by them */
	PF_WASTED,	/* pages dropped unread */
};

/* Count @n pages of @what, on the disk and for vNode @acct. */
static void vnmem_pf_count(struct vnmem_disk *d, u32 acct,
			   enum vnmem_pf_event what, unsigned int n)
{
	struct vnode_acct *a;

	rcu_read_lock();
	a = acct >= VNMEM_OWNER_FIRST ? vnode_acct_by_id(acct) : NULL;
	switch (what) {
	case PF_ISSUED:
		atomic64_add(n, &d->stats.prefetch_issued);
		if (a)
			atomic64_add(n, &a->prefetch_issued);
		break;
	case PF_HIT:
		atomic64_add(n, &d->stats.prefetch_hits);
		if (a)
			atomic64_add(n, &a->prefetch_hits);
		break;
	case PF_WASTED:
		atomic64_add(n, &d->stats.prefetch_wasted);
		if (a)
			atomic64_add(n, &a->prefetch_wasted);
		break;
	}
	rcu_read_unlock();
}

/* ------------------------------------------------------------------ */
/* The cache (pf->lock held)                                           */
/* ------------------------------------------------------------------ */

static struct hlist_head *vnmem_pf_bucket(struct vnmem_pf *pf, u64 slot)
{
	return &pf->hash[hash_64(slot, pf->hash_bits)];
}

static struct vnmem_pf_ent *vnmem_pf_find(struct vnmem_pf *pf, u64 slot)
{
	struct vnmem_pf_ent *e;

	hlist_for_each_entry(e, vnmem_pf_bucket(pf, slot), hash)
		if (e->slot == slot)
			return e;
	return NULL;
}

static void vnmem_pf_release(struct vnmem_pf *pf, struct vnmem_pf_ent *e)
{
	hlist_del(&e->hash);
	list_move(&e->node, &pf->free);
	e->state = VNMEM_PF_FREE;
	e->waiter = NULL;
	e->stale = false;
	pf->cached--;
}

/* A free entry, evicting the oldest landed one if need be; or NULL. */
static struct vnmem_pf_ent *vnmem_pf_get(struct vnmem_disk *d,
					 struct vnmem_pf *pf)
{
	struct vnmem_pf_ent *e;

	e = list_first_entry_or_null(&pf->free, struct vnmem_pf_ent, node);
	if (e)
		return e;
	e = list_first_entry(&pf->fifo, struct vnmem_pf_ent, node);
	if (e->state != VNMEM_PF_READY)
		return NULL;	/* the oldest is still in flight: cache full */
	vnmem_pf_count(d, e->acct, PF_WASTED, 1);
	vnmem_pf_release(pf, e);
	return e;
}

/*
 * Slots [@slot, @slot + @nr) were written or freed: forget them.  @always:
 * take the lock even when the cache looks empty (a write's data must never
 * be shadowed by a prefetch that was inserted meanwhile).
 */
void vnmem_pf_drop(struct vnmem_disk *d, u64 slot, unsigned int nr,
		   bool always)
{
	struct vnmem_pf *pf = d->pf;
	unsigned long flags;
	unsigned int i;

	if (!pf || (!always && !READ_ONCE(pf->cached)))
		return;
	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < nr; i++) {
		struct vnmem_pf_ent *e = vnmem_pf_find(pf, slot + i);

		if (!e)
			continue;
		if (e->state == VNMEM_PF_INFLIGHT) {
			e->stale = true;
			continue;
		}
		vnmem_pf_count(d, e->acct, PF_WASTED, 1);
		vnmem_pf_release(pf, e);
	}
	spin_unlock_irqrestore(&pf->lock, flags);
}

/* ------------------------------------------------------------------ */
/* Serving swap-ins                                                    */
/* ------------------------------------------------------------------ */

/* One page of a swap-in that waited for its prefetch is in (or failed). */
static void vnmem_pf_waiter_put(struct request *rq, bool ok)
{
	struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(rq);

	if (!ok)
		WRITE_ONCE(cmd->pf_failed, true);
	if (!atomic_dec_and_test(&cmd->pf_wait))
		return;
	if (READ_ONCE(cmd->pf_failed)) {
		/* Read it the usual way: the slot is no longer cached. */
		vnmem_retry(rq, cmd, 1);
		return;
	}
	vnmem_account(cmd->disk, cmd, false, false);
	vnmem_end(rq, BLK_STS_OK);
}

/*
 * Serve a swap-in from the cache when every page of it is there (landed,
 * or in flight: then it completes when they land).  Returns true when it
 * took the request.
 */
bool vnmem_pf_serve(struct vnmem_disk *d, struct request *rq,
		    struct vnmem_cmd *cmd)
{
	struct vnmem_pf *pf = d->pf;
	u64 slot = blk_rq_pos(rq) / VNMEM_SECT_PER_SLOT;
	struct vnmem_pf_ent *e[VNMEM_MAX_RQ_PAGES];
	unsigned int i, nr = cmd->nr_pages, hits = 0;
	unsigned long flags;
	u32 acct = 0;

	if (!pf || !READ_ONCE(pf->cached))
		return false;
	for (i = 0; i < nr; i++) {
		u32 o = READ_ONCE(d->owner[slot + i]);

		if (o == VNMEM_OWNER_FREE || (o & VNMEM_OWNER_BAD))
			return false;
	}
	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < nr; i++) {
		e[i] = vnmem_pf_find(pf, slot + i);
		if (!e[i] || e[i]->stale || e[i]->waiter) {
			spin_unlock_irqrestore(&pf->lock, flags);
			return false;
		}
	}
	cmd->pf_failed = false;
	atomic_set(&cmd->pf_wait, 1);
	for (i = 0; i < nr; i++) {
		acct = e[i]->acct;
		if (e[i]->state == VNMEM_PF_READY) {
			copy_highpage(cmd->bv[i].bv_page, e[i]->page);
			vnmem_pf_release(pf, e[i]);
			hits++;
		} else {
			e[i]->waiter = rq;
			e[i]->waiter_idx = i;
			atomic_inc(&cmd->pf_wait);
		}
	}
	spin_unlock_irqrestore(&pf->lock, flags);
	if (hits)
		vnmem_pf_count(d, acct, PF_HIT, hits);
	vnmem_pf_waiter_put(rq, true);
	return true;
}

/* ------------------------------------------------------------------ */
/* Reading ahead                                                       */
/* ------------------------------------------------------------------ */

static void vnmem_pf_unhold_slab(struct vnmem_disk *d, u32 slab)
{
	struct vnmem_slab *s = &d->slabs[slab];
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&d->map_lock, flags);
	s->inflight--;
	kick = vnmem_slab_maybe_free(d, s);
	spin_unlock_irqrestore(&d->map_lock, flags);
	if (kick && !READ_ONCE(d->dead))
		queue_work(d->wq, &d->slow_work);
}

/* The READ of @op landed (or failed, or was never posted: @error). */
static void vnmem_pf_land(struct vnmem_pf_op *op, int error)
{
	struct vnmem_disk *d = op->disk;
	struct vnmem_pf *pf = d->pf;
	struct request *waiters[VNMEM_MAX_RQ_PAGES];
	bool ok[VNMEM_MAX_RQ_PAGES];
	unsigned int i, nw = 0, wasted = 0, landed = 0, hits = 0;
	unsigned long flags;
	u32 acct = op->ent[0]->acct;

	spin_lock_irqsave(&pf->lock, flags);
	for (i = 0; i < op->nr; i++) {
		struct vnmem_pf_ent *e = op->ent[i];
		/* one failing its check is read again, and checked, on demand */
		bool good = !error && !e->stale &&
			    !vnmem_check_page(d, e->slot, e->page);

		if (e->waiter) {
			struct vnmem_cmd *cmd = blk_mq_rq_to_pdu(e->waiter);

			if (good) {
				copy_highpage(cmd->bv[e->waiter_idx].bv_page,
					      e->page);
				hits++;
			}
			waiters[nw] = e->waiter;
			ok[nw++] = good;
			wasted += !good;
			vnmem_pf_release(pf, e);
		} else if (!good) {
			/* stale, or a READ that failed: issued, never used */
			wasted++;
			vnmem_pf_release(pf, e);
		} else {
			e->state = VNMEM_PF_READY;
		}
		if (!error)
			landed++;
	}
	list_add(&op->node, &pf->free_ops);
	if (!--pf->ops_out)
		wake_up_var(&pf->ops_out);
	spin_unlock_irqrestore(&pf->lock, flags);

	if (landed) {
		atomic64_add(landed, &d->stats.pages_read);
		atomic64_add((u64)landed * VNMEM_SLOT_SIZE,
			     &d->stats.bytes_read);
	}
	if (hits)
		vnmem_pf_count(d, acct, PF_HIT, hits);
	if (wasted)
		vnmem_pf_count(d, acct, PF_WASTED, wasted);
	vnmem_pf_unhold_slab(d, op->slab);
	for (i = 0; i < nw; i++)
		vnmem_pf_waiter_put(waiters[i], ok[i]);
}

static void vnmem_pf_done(struct vnode_xprt_io *io, int error)
{
	struct vnmem_pf_op *op = container_of(io, struct vnmem_pf_op, io);
	struct vnmem_host *h = &op->disk->hosts[op->host];

	if (error)
		atomic64_inc(&h->errors);
	else
		atomic64_inc(&h->ops);
	vnmem_pf_land(op, error);
}

/* Boyer-Moore majority of the stream's distances, or 0. */
static s32 vnmem_pf_trend(const struct vnmem_pf_stream *st)
{
	s32 cand = 0;
	unsigned int i, votes = 0;

	if (st->nhist < VNMEM_PF_HIST / 2)
		return 0;
	for (i = 0; i < st->nhist; i++) {
		if (!votes)
			cand = st->hist[i];
		votes += cand == st->hist[i] ? 1 : -1;
	}
	votes = 0;
	for (i = 0; i < st->nhist; i++)
		votes += cand == st->hist[i];
	if (votes * 2 <= st->nhist || cand == VNMEM_PF_NO_TREND)
		return 0;
	return cand;
}

static struct vnmem_pf_stream *vnmem_pf_stream(struct vnmem_pf *pf, u32 acct,
					       int pid, u64 slot)
{
	struct vnmem_pf_stream *st, *old = &pf->streams[0];
	unsigned int i;

	for (i = 0; i < VNMEM_PF_STREAMS; i++) {
		st = &pf->streams[i];
		if (st->acct == acct && st->pid == pid)
			return st;
		if (st->stamp < old->stamp)
			old = st;
	}
	memset(old, 0, sizeof(*old));
	old->acct = acct;
	old->pid = pid;
	old->last = slot;
	return old;
}

/*
 * Set up one op for @slot and the slots after it along +1 (at most @max,
 * all in one slab, none cached, all the vNode's): take entries, pick a
 * copy, hold the slab.  Returns the op, or NULL (nothing to read there).
 */
static struct vnmem_pf_op *vnmem_pf_prepare(struct vnmem_disk *d,
					    struct vnmem_pf *pf, u32 acct,
					    u64 slot, unsigned int max)
{
	u64 nslots = d->size >> VNMEM_SLOT_SHIFT;
	u64 slab_slots = 1ULL << (d->slab_shift - VNMEM_SLOT_SHIFT);
	struct vnmem_slab *s = &d->slabs[slot / slab_slots];
	struct vnmem_pf_op *op;
	struct vnmem_copy *c;
	unsigned int n, want;
	int ci;

	op = list_first_entry_or_null(&pf->free_ops, struct vnmem_pf_op, node);
	if (!op)
		return NULL;
	for (want = 0; want < max; want++) {
		u64 sl = slot + want;

		if (sl >= nslots || (want && !(sl & (slab_slots - 1))) ||
		    READ_ONCE(d->owner[sl]) != acct ||
		    (want && vnmem_pf_find(pf, sl)))
			break;
	}
	if (!want)
		return NULL;

	/* Lock order: pf->lock, then map_lock. */
	spin_lock(&d->map_lock);
	ci = s->state == VNMEM_SLAB_MAPPED ? vnmem_read_copy(d, s, slot) : -1;
	if (ci >= 0) {
		c = &s->copy[ci];
		s->inflight++;
		op->rkey = c->rkey;
		op->host = c->host;
		op->raddr = c->addr + ((slot << VNMEM_SLOT_SHIFT) &
				       ((1ULL << d->slab_shift) - 1));
	}
	spin_unlock(&d->map_lock);
	if (ci < 0)
		return NULL;
	op->slab = s - d->slabs;

	for (n = 0; n < want; n++) {
		struct vnmem_pf_ent *e = vnmem_pf_get(d, pf);

		if (!e)
			break;
		e->slot = slot + n;
		e->acct = acct;
		e->state = VNMEM_PF_INFLIGHT;
		e->stale = false;
		e->waiter = NULL;
		hlist_add_head(&e->hash, vnmem_pf_bucket(pf, e->slot));
		list_move_tail(&e->node, &pf->fifo);
		pf->cached++;
		op->ent[n] = e;
		op->bv[n].bv_page = e->page;
		op->bv[n].bv_len = VNMEM_SLOT_SIZE;
		op->bv[n].bv_offset = 0;
	}
	if (!n) {
		vnmem_pf_unhold_slab(d, op->slab);
		return NULL;
	}
	op->nr = n;
	list_del(&op->node);
	pf->ops_out++;
	return op;
}

/*
 * A swap-in of @nr slots at @slot by task @pid of vNode @acct was
 * submitted or served (@hit): follow its stream and read ahead along the
 * trend, if any.
 */
void vnmem_pf_track(struct vnmem_disk *d, u32 acct, int pid, u64 slot,
		    unsigned int nr, bool hit)
{
	struct vnmem_pf *pf = d->pf;
	struct vnmem_pf_op *ops[VNMEM_PF_OPS_PER_CALL];
	struct vnmem_pf_stream *st;
	struct vnode_acct *a;
	unsigned int nops = 0, i, max_win;
	unsigned long flags;
	s64 dist;
	s32 trend;
	u64 next, end;
	bool on, bh;

	if (!pf || acct < VNMEM_OWNER_FIRST)
		return;
	rcu_read_lock();
	a = vnode_acct_by_id(acct);
	on = a && READ_ONCE(a->prefetch);
	rcu_read_unlock();
	if (!on)
		return;
	max_win = clamp_t(unsigned int, READ_ONCE(vnode_prefetch_max), 1,
			  min_t(unsigned int, VNMEM_PF_MAX_WIN,
				pf->nr_ents / 2));

	spin_lock_irqsave(&pf->lock, flags);
	st = vnmem_pf_stream(pf, acct, pid, slot);
	st->stamp = ++pf->clock;
	dist = (s64)slot - (s64)st->last;
	st->hist[st->pos] = dist && abs(dist) <= VNMEM_PF_MAX_DELTA ?
			    (s32)dist : VNMEM_PF_NO_TREND;
	st->pos = (st->pos + 1) % VNMEM_PF_HIST;
	if (st->nhist < VNMEM_PF_HIST)
		st->nhist++;
	st->last = slot + nr - 1;

	trend = vnmem_pf_trend(st);
	if (!trend) {
		st->delta = 0;
		goto out;
	}
	if (trend != st->delta) {
		st->delta = trend;
		st->ahead = st->last;
		st->win = VNMEM_PF_MIN_WIN;
	} else if (hit) {
		st->win = min(st->win * 2, max_win);
	} else {
		st->win = max(st->win / 2, (u32)VNMEM_PF_MIN_WIN);
	}
	st->win = min(st->win, max_win);
	if (trend < 0 && st->last < (u64)-trend * st->win)
		end = 0;
	else
		end = st->last + (s64)trend * st->win;
	/*
	 * Outside the window (the reader jumped ahead of what was read, or
	 * back to another region along the same trend): start from it.
	 */
	if (trend > 0 ? st->ahead < st->last || st->ahead > end :
			st->ahead > st->last || st->ahead < end)
		st->ahead = st->last;
	next = st->ahead + trend;
	while (nops < ARRAY_SIZE(ops) &&
	       (trend > 0 ? next <= end : next >= end) &&
	       next < (d->size >> VNMEM_SLOT_SHIFT)) {
		unsigned int run = 1, got;
		struct vnmem_pf_op *op;

		/* Forwards one by one: as many slots as one op moves. */
		if (trend == 1)
			run = min_t(u64, end - next + 1, d->max_rq_pages);
		if (vnmem_pf_find(pf, next)) {
			st->ahead = next;
			next += trend;
			continue;
		}
		op = vnmem_pf_prepare(d, pf, acct, next, run);
		if (!op)
			break;	/* no entry, no op, or not ours: stop here */
		ops[nops++] = op;
		got = op->nr;
		st->ahead = next + (u64)(got - 1) * trend;
		next = st->ahead + trend;
	}
out:
	spin_unlock_irqrestore(&pf->lock, flags);

	if (!nops)
		return;
	/* as vnmem_submit(): rxe sends from a tasklet, run at bh enable */
	bh = !irqs_disabled() && !in_hardirq();
	if (bh)
		local_bh_disable();
	for (i = 0; i < nops; i++) {
		struct vnmem_pf_op *op = ops[i];
		struct vnode_xprt_clt *clt = READ_ONCE(d->hosts[op->host].clt);
		int ret;

		vnmem_pf_count(d, acct, PF_ISSUED, op->nr);
		op->io.done = vnmem_pf_done;
		op->io.priv = op;
		ret = vnode_xprt_clt_rdma_pages(clt, false, op->bv, op->nr,
						op->raddr, op->rkey, &op->io);
		if (ret) {
			/* queue full or host away: just do not read ahead */
			vnmem_pf_land(op, ret);
		}
	}
	if (bh)
		local_bh_enable();
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

int vnmem_pf_create(struct vnmem_disk *d)
{
	unsigned int nr = READ_ONCE(vnode_prefetch_cache_pages), i;
	struct vnmem_pf *pf;

	if (!nr)
		return 0;
	pf = vnode_fault(kzalloc(sizeof(*pf), GFP_KERNEL));
	if (!pf)
		return -ENOMEM;
	spin_lock_init(&pf->lock);
	INIT_LIST_HEAD(&pf->free);
	INIT_LIST_HEAD(&pf->fifo);
	INIT_LIST_HEAD(&pf->free_ops);
	pf->nr_ents = nr;
	pf->nr_ops = min(nr, VNMEM_PF_MAX_WIN * 2U);
	pf->hash_bits = ilog2(roundup_pow_of_two(nr));
	pf->ents = vnode_fault(kvcalloc(nr, sizeof(*pf->ents), GFP_KERNEL));
	pf->ops = vnode_fault(kvcalloc(pf->nr_ops, sizeof(*pf->ops),
				       GFP_KERNEL));
	pf->hash = vnode_fault(kvcalloc(1U << pf->hash_bits,
					sizeof(*pf->hash), GFP_KERNEL));
	d->pf = pf;
	if (!pf->ents || !pf->ops || !pf->hash)
		goto fail;
	for (i = 0; i < nr; i++) {
		struct vnmem_pf_ent *e = &pf->ents[i];

		e->page = vnode_fault(alloc_page(GFP_KERNEL));
		if (!e->page)
			goto fail;
		list_add_tail(&e->node, &pf->free);
	}
	for (i = 0; i < pf->nr_ops; i++) {
		pf->ops[i].disk = d;
		list_add_tail(&pf->ops[i].node, &pf->free_ops);
	}
	return 0;
fail:
	vnmem_pf_destroy(d);
	return -ENOMEM;
}

/*
 * The disk is going away and takes no more requests (del_gendisk): wait
 * for the read-ahead still in flight, which may queue slab work, before
 * the workqueue goes.  A posted READ always completes (a lost connection
 * flushes its queue), so the bound is only a safety net.
 */
void vnmem_pf_quiesce(struct vnmem_disk *d)
{
	struct vnmem_pf *pf = d->pf;
	unsigned long t = msecs_to_jiffies(2 * vnode_io_timeout_ms);

	if (pf && !wait_var_event_timeout(&pf->ops_out,
					  !READ_ONCE(pf->ops_out), t))
		dlog(err, d, "read-ahead still in flight after %u ms\n",
		     2 * vnode_io_timeout_ms);
}

/*
 * After every session is closed (so every prefetch has landed or failed)
 * and no request is left: slots still cached were read for nothing.
 */
void vnmem_pf_destroy(struct vnmem_disk *d)
{
	struct vnmem_pf *pf = d->pf;
	unsigned int i, left = 0;

	if (!pf)
		return;
	if (pf->ents) {
		if (pf->ops_out) {
			/* cannot happen: closing a session flushes its ops */
			dlog(err, d, "%u prefetch READs still in flight at close: leaking their pages\n",
			     pf->ops_out);
			d->pf = NULL;
			return;
		}
		for (i = 0; i < pf->nr_ents; i++) {
			struct vnmem_pf_ent *e = &pf->ents[i];

			if (e->state == VNMEM_PF_READY) {
				vnmem_pf_count(d, e->acct, PF_WASTED, 1);
				left++;
			}
			if (e->page)
				__free_page(e->page);
		}
	}
	if (left)
		dlog(info, d, "%u prefetched page(s) never read\n", left);
	kvfree(pf->hash);
	kvfree(pf->ops);
	kvfree(pf->ents);
	kfree(pf);
	d->pf = NULL;
}

unsigned int vnmem_pf_cached(struct vnmem_disk *d)
{
	return d->pf ? READ_ONCE(d->pf->cached) : 0;
}
