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

static int vnmem_major;
static DEFINE_IDA(vnmem_ida);

/*
 * The enabled disks.  A disk's aead state (its per-slot table, 8 MiB per
 * GiB, and its bounce pool) is made only when a vNode may seal pages on
 * it: vnode_acct_protect_store() makes it on every enabled disk, under
 * this lock, before a vNode becomes aead, and a disk enabled while a vNode
 * is aead makes it before it takes I/O.  It is kept until disable.
 */
static LIST_HEAD(vnmem_disks);
DEFINE_MUTEX(vnmem_disks_lock);

/* ------------------------------------------------------------------ */
/* Memory-host connections                                             */
/* ------------------------------------------------------------------ */

static void vnmem_host_lost(struct vnmem_host *h, const char *why)
{
	struct vnmem_disk *d = h->disk;
	int n = atomic_xchg(&h->nr_slabs, 0);
	unsigned int lost;

	atomic_inc(&h->epoch);
	h->full = false;
	lost = vnmem_count_lost_slabs(d);
	if (d->replicas > 1)
		hlog(warn, h,
		     "memory host lost (%s): its %d slabs are gone, %u of them had no other copy; disk is degraded, serving from the remaining replicas\n",
		     why, n, lost);
	else
		hlog(err, h,
		     "memory host lost (%s): its %d slabs are gone (lost_slabs +%u); I/O to pages stored there fails\n",
		     why, n, lost);
}

/*
 * Try again to reach a host declared dead (or a drained host taken back).
 * disk->host_lock held.
 */
void vnmem_rejoin_schedule(struct vnmem_host *h)
{
	unsigned int max = READ_ONCE(vnode_rejoin_max_ms);

	if (!max || h->disk->dead || !h->disk->running ||
	    h->drain == VNMEM_DRAIN_RETIRED)
		return;
	if (!h->rejoin_ms)
		h->rejoin_ms = max(vnode_reconnect_delay_ms, 100U);
	else
		h->rejoin_ms = min(h->rejoin_ms * 2, max);
	queue_delayed_work(system_unbound_wq, &h->rejoin_work,
			   msecs_to_jiffies(min(h->rejoin_ms, max)));
}

static void vnmem_state_change(struct vnode_xprt_clt *clt,
			       enum vnode_xprt_state old,
			       enum vnode_xprt_state new, bool lost,
			       void *priv)
{
	struct vnmem_host *h = priv;
	struct vnmem_disk *d = h->disk;

	trace_conn_state(d->name, vnode_xprt_clt_peer(clt), old, new);
	spin_lock_irq(&d->host_lock);
	if (clt != h->clt) {
		/* Still inside vnode_xprt_clt_open(), or a session retired. */
		spin_unlock_irq(&d->host_lock);
		return;
	}
	WRITE_ONCE(h->state, new);
	if (new == VNODE_XPRT_DEAD)
		vnmem_rejoin_schedule(h);
	spin_unlock_irq(&d->host_lock);

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
		if (READ_ONCE(vnode_rejoin_max_ms))
			hlog(info, h, "will keep trying to reach it (back-off up to %u ms); it rejoins with none of its old slabs\n",
			     READ_ONCE(vnode_rejoin_max_ms));
		break;
	default:
		break;
	}
	spin_lock_irq(&d->host_lock);
	if (d->running && !d->dead) {
		/* Held requests retry; deferred frees go out when LIVE. */
		blk_mq_kick_requeue_list(d->gd->queue);
		/* owed frees; healing may now have a source or a target */
		if (new == VNODE_XPRT_LIVE || new == VNODE_XPRT_DEAD) {
			WRITE_ONCE(d->heal_check, true);
			queue_work(d->wq, &d->slow_work);
		}
	}
	spin_unlock_irq(&d->host_lock);
}

static const struct vnode_xprt_clt_ops vnmem_clt_ops = {
	.state_change	= vnmem_state_change,
};

/* ------------------------------------------------------------------ */
/* Create / destroy                                                    */
/* ------------------------------------------------------------------ */

ssize_t vnmem_disk_state(struct vnmem_disk *d, char *buf)
{
	unsigned int i, live = 0, used = 0, risk;

	/* A drained host is no longer one of the disk's hosts. */
	for (i = 0; i < d->nr_hosts; i++) {
		if (READ_ONCE(d->hosts[i].drain) == VNMEM_DRAIN_RETIRED)
			continue;
		used++;
		if (READ_ONCE(d->hosts[i].state) == VNODE_XPRT_LIVE)
			live++;
	}
	if (!live)
		return sysfs_emit(buf, "down\n");
	risk = vnmem_count_at_risk(d);
	if (risk && READ_ONCE(d->healing))
		return sysfs_emit(buf, "healing\n");
	if (live < used || risk)
		return sysfs_emit(buf, "degraded\n");
	return sysfs_emit(buf, "live\n");
}

/* Stop rejoins and close every session.  d->dead is set. */
static void vnmem_close_hosts(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_hosts; i++)
		cancel_delayed_work_sync(&d->hosts[i].rejoin_work);
	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];

		if (h->next_clt)
			vnode_xprt_clt_close(h->next_clt);
		h->next_clt = NULL;
		if (!IS_ERR_OR_NULL(h->clt))
			vnode_xprt_clt_close(h->clt);
		h->clt = NULL;
		vnmem_pending_clear(h);
	}
}

/* Open a session with @h under @client_id. */
static struct vnode_xprt_clt *vnmem_host_open(struct vnmem_host *h,
					      u64 client_id,
					      struct vnode_accept *acc)
{
	struct vnmem_disk *d = h->disk;
	bool split = READ_ONCE(vnode_rw_split);
	struct vnode_xprt_cfg xc = {
		.addr			= h->addr,
		.role			= VNODE_ROLE_MEM,
		.client_id		= client_id,
		.name			= d->name,
		.nr_queues		= min_t(unsigned int, VNODE_XPRT_MAX_QUEUES,
						vnode_nr_queues * (split ? 2 : 1)),
		.rw_split		= split,
		.queue_depth		= vnode_queue_depth *
					  d->tag_set.nr_hw_queues,
		.connect_timeout_ms	= vnode_connect_timeout_ms,
		.reconnect_delay_ms	= vnode_reconnect_delay_ms,
		.loss_timeout_ms	= vnode_loss_timeout_ms,
	};

	return vnode_xprt_clt_open(&xc, &vnmem_clt_ops, h, acc);
}

/*
 * A host the transport declared DEAD: open a new session (a new
 * client_id) with back-off until it answers.  The slow path installs it
 * (vnmem_install_rejoined()), since it is the only other user of the
 * host's control calls.
 */
static void vnmem_rejoin_work(struct work_struct *work)
{
	struct vnmem_host *h = container_of(to_delayed_work(work),
					    struct vnmem_host, rejoin_work);
	struct vnmem_disk *d = h->disk;
	struct vnode_accept acc = {};
	struct vnode_xprt_clt *clt;
	const char *why = NULL;
	unsigned int noio;
	u64 id = get_random_u64();

	noio = memalloc_noio_save();
	clt = vnmem_host_open(h, id, &acc);
	memalloc_noio_restore(noio);
	if (!IS_ERR(clt)) {
		if (le16_to_cpu(acc.slab_shift) != d->slab_shift)
			why = "its slab size changed";
		else if (vnode_xprt_clt_max_pages(clt) < d->max_rq_pages)
			why = "its RDMA device takes fewer pages per op";
		if (why) {
			hlog(err, h, "memory host answers again but cannot rejoin: %s\n",
			     why);
			vnode_xprt_clt_close(clt);
			clt = ERR_PTR(-EPROTO);
		}
	}

	spin_lock_irq(&d->host_lock);
	if (!IS_ERR(clt) && d->running && !d->dead &&
	    h->drain != VNMEM_DRAIN_RETIRED) {
		h->next_clt = clt;
		h->next_acc = acc;
		h->next_client_id = id;
		queue_work(d->wq, &d->slow_work);
		clt = NULL;
	} else if (IS_ERR(clt)) {
		vnmem_rejoin_schedule(h);
	}
	spin_unlock_irq(&d->host_lock);
	if (!IS_ERR_OR_NULL(clt))
		vnode_xprt_clt_close(clt);	/* disk going away, or drained */
}

/*
 * Slow path: switch each host that answered again to its new session.
 * Its old slabs are gone for us (epoch bump; the host frees them when the
 * old session's grace period ends), so no read is ever served from them.
 */
void vnmem_install_rejoined(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];
		struct vnode_xprt_clt *old;

		spin_lock_irq(&d->host_lock);
		if (!h->next_clt) {
			spin_unlock_irq(&d->host_lock);
			continue;
		}
		old = h->clt;
		/* queue_rq reads it without a lock (READ_ONCE) */
		WRITE_ONCE(h->clt, h->next_clt);
		h->next_clt = NULL;
		atomic_inc(&h->epoch);
		atomic_set(&h->nr_slabs, 0);
		h->full = false;
		h->capacity = le64_to_cpu(h->next_acc.capacity);
		h->used_base = le64_to_cpu(h->next_acc.used);
		h->client_id = h->next_client_id;
		h->rejoin_ms = 0;
		WRITE_ONCE(h->state, vnode_xprt_clt_state(h->clt));
		spin_unlock_irq(&d->host_lock);

		/* What we still owed the old session went with it. */
		vnmem_pending_clear(h);
		WRITE_ONCE(d->heal_check, true);
		hlog(info, h, "memory host rejoined (new session %016llx, capacity %llu used %llu): usable for new slabs; none of its old slabs is used again\n",
		     h->client_id, h->capacity, h->used_base);
		/* queue_rq runs under RCU and may still hold the old session. */
		synchronize_rcu();
		if (old)	/* none: a drained host taken back */
			vnode_xprt_clt_close(old);
	}
}

static int vnmem_open_hosts(struct vnmem_disk *d, struct vnmem_cfg *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];
		struct vnode_accept acc = {};
		struct vnode_xprt_clt *clt;
		unsigned int shift;

		h->disk = d;
		h->id = i;
		h->addr = cfg->addrs[i];
		atomic_set(&h->epoch, 1);
		INIT_DELAYED_WORK(&h->rejoin_work, vnmem_rejoin_work);
		INIT_LIST_HEAD(&h->pending);
		h->client_id = d->client_id;
		snprintf(h->name, sizeof(h->name), "%pISpc", &h->addr);
		d->nr_hosts = i + 1;

		clt = vnmem_host_open(h, h->client_id, &acc);
		if (IS_ERR(clt)) {
			dlog(err, d, "memory host %s: cannot connect: %pe\n",
			     h->name, clt);
			return PTR_ERR(clt);
		}
		strscpy(h->name, vnode_xprt_clt_peer(clt), sizeof(h->name));
		h->capacity = le64_to_cpu(acc.capacity);
		h->used_base = le64_to_cpu(acc.used);
		/* state_change() handles events once it sees ->clt set. */
		spin_lock_irq(&d->host_lock);
		h->clt = clt;
		WRITE_ONCE(h->state, vnode_xprt_clt_state(clt));
		spin_unlock_irq(&d->host_lock);

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

static void vnmem_free_heal_bv(struct vnmem_disk *d)
{
	unsigned int i;

	for (i = 0; i < VNMEM_MAX_RQ_PAGES; i++)
		if (d->heal_bv[i].bv_page)
			__free_page(d->heal_bv[i].bv_page);
}

/* Make @d's aead state unless it has it.  vnmem_disks_lock held. */
static int vnmem_aead_alloc(struct vnmem_disk *d)
{
	u64 slots = d->size >> VNMEM_SLOT_SHIFT;
	struct vnmem_aead_meta *tbl;
	mempool_t *pool;

	if (d->aead)
		return 0;
	tbl = vnode_fault(kvcalloc(slots, sizeof(*tbl), GFP_KERNEL));
	pool = vnode_fault(mempool_create_page_pool(VNMEM_BOUNCE_PAGES, 0));
	if (!tbl || !pool) {
		mempool_destroy(pool);
		kvfree(tbl);
		dlog(err, d, "no memory for aead state (%llu KiB)\n",
		     slots * sizeof(*tbl) >> 10);
		return -ENOMEM;
	}
	d->bounce = pool;
	/* pairs with smp_load_acquire() in vnmem_seal() */
	smp_store_release(&d->aead, tbl);
	dlog(info, d, "aead state made: %llu KiB\n", slots * sizeof(*tbl) >> 10);
	return 0;
}

/*
 * A vNode is about to become aead: every enabled disk gets its aead state.
 * vnmem_disks_lock held.  Returns 0 or -ENOMEM (the disks that got it
 * keep it).
 */
int vnmem_aead_prepare(void)
{
	struct vnmem_disk *d;
	int ret;

	lockdep_assert_held(&vnmem_disks_lock);
	list_for_each_entry(d, &vnmem_disks, node) {
		ret = vnmem_aead_alloc(d);
		if (ret)
			return ret;
	}
	return 0;
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

	d = vnode_fault(kzalloc(sizeof(*d), GFP_KERNEL));
	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->size = cfg->size;
	d->replicas = cfg->replicas;
	spin_lock_init(&d->map_lock);
	spin_lock_init(&d->slow_lock);
	spin_lock_init(&d->host_lock);
	INIT_LIST_HEAD(&d->free_list);
	INIT_LIST_HEAD(&d->slow_list);
	INIT_WORK(&d->slow_work, vnmem_slow_work);
	INIT_DELAYED_WORK(&d->owed_work, vnmem_owed_work);
	d->heal_next = jiffies;
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
	d->slabs = vnode_fault(kvcalloc(d->nr_slabs, sizeof(*d->slabs),
					GFP_KERNEL));
	d->owner = vnode_fault(kvcalloc(d->size >> VNMEM_SLOT_SHIFT,
					sizeof(u32), GFP_KERNEL));
	/* 5 bytes per 4 KiB slot, +32 with aead (docs/protection.md) */
	d->protect = vnode_fault(kvcalloc(d->size >> VNMEM_SLOT_SHIFT,
					  sizeof(u8), GFP_KERNEL));
	d->crc = vnode_fault(kvcalloc(d->size >> VNMEM_SLOT_SHIFT,
				      sizeof(u32), GFP_KERNEL));
	if (!d->slabs || !d->owner || !d->protect || !d->crc) {
		ret = -ENOMEM;
		goto out_free_map;
	}

	for (i = 0; i < d->max_rq_pages; i++) {
		struct page *pg = vnode_fault(alloc_page(GFP_KERNEL));

		if (!pg) {
			ret = -ENOMEM;
			goto out_free_map;
		}
		d->heal_bv[i].bv_page = pg;
		d->heal_bv[i].bv_len = PAGE_SIZE;
		d->heal_bv[i].bv_offset = 0;
	}

	ret = vnmem_pf_create(d);
	if (ret)
		goto out_free_map;

	d->wq = alloc_ordered_workqueue("%s", WQ_MEM_RECLAIM, d->name);
	if (!d->wq) {
		ret = -ENOMEM;
		goto out_free_map;
	}

	ret = vnode_fault_ret(blk_mq_alloc_tag_set(&d->tag_set));
	if (ret)
		goto out_destroy_wq;

	d->gd = vnode_fault_err(vnode_blk_mq_alloc_disk(&d->tag_set, &lim, d));
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

	/* aead state before the first request, if a vNode may seal pages */
	mutex_lock(&vnmem_disks_lock);
	ret = vnode_acct_any_aead() ? vnmem_aead_alloc(d) : 0;
	if (!ret)
		list_add_tail(&d->node, &vnmem_disks);
	mutex_unlock(&vnmem_disks_lock);
	if (ret)
		goto out_put_disk;

	ret = vnode_fault_ret(device_add_disk(NULL, d->gd, vnmem_attr_groups));
	if (ret) {
		mutex_lock(&vnmem_disks_lock);
		list_del(&d->node);
		mutex_unlock(&vnmem_disks_lock);
		goto out_put_disk;
	}

	spin_lock_irq(&d->host_lock);
	d->running = true;
	for (i = 0; i < d->nr_hosts; i++)
		if (d->hosts[i].state == VNODE_XPRT_DEAD)
			vnmem_rejoin_schedule(&d->hosts[i]);
	spin_unlock_irq(&d->host_lock);
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
	vnmem_pf_destroy(d);
	vnmem_free_heal_bv(d);
	mempool_destroy(d->bounce);
	kvfree(d->aead);
	kvfree(d->crc);
	kvfree(d->protect);
	kvfree(d->owner);
	kvfree(d->slabs);
out_close_hosts:
	spin_lock_irq(&d->host_lock);
	WRITE_ONCE(d->dead, true);
	spin_unlock_irq(&d->host_lock);
	vnmem_close_hosts(d);
	ida_free(&vnmem_ida, d->index);
out_free_disk:
	kfree(d);
	return ret;
}

int vnmem_disk_destroy(struct vnmem_disk *d)
{
	struct vnode_acct *a;
	unsigned int i;
	u64 slot;

	if (vnode_disk_close_unless_open(d->gd, &d->closing)) {
		dlog(info, d, "still open (swapon?): not disabling\n");
		return -EBUSY;
	}
	/* Drains every request, including held, staged and punted ones. */
	del_gendisk(d->gd);
	mutex_lock(&vnmem_disks_lock);
	list_del(&d->node);
	mutex_unlock(&vnmem_disks_lock);
	vnmem_pf_quiesce(d);
	hrtimer_cancel(&d->stage_timer);
	spin_lock_irq(&d->host_lock);
	WRITE_ONCE(d->dead, true);
	spin_unlock_irq(&d->host_lock);
	/* No state change or rejoin queues work from here on. */
	for (i = 0; i < d->nr_hosts; i++)
		cancel_delayed_work_sync(&d->hosts[i].rejoin_work);
	cancel_delayed_work_sync(&d->owed_work);
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
	vnmem_pf_destroy(d);
	vnmem_free_heal_bv(d);
	mempool_destroy(d->bounce);
	kvfree(d->aead);
	kvfree(d->crc);
	kvfree(d->protect);
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
