// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt: fabric emulation.  A *link* (configfs vnode_xprt/fabric/NAME)
 * names one remote host by address and says what the emulated fabric to
 * it adds to every data operation of every client whose server is on that
 * host (a process host's memory disks and volumes alike):
 *
 *   delay_us     added round-trip time per operation
 *   per_kib_ns   added time per KiB moved
 *   jitter_us    spread of a random term added to each operation, drawn
 *                from the distribution in @jitter ("uniform": -j..+j,
 *                "normal": mean 0, standard deviation j; the sum of the
 *                terms never goes below 0)
 *   read_mbps    bandwidth cap (MB/s, 10^6 bytes) of data from the host,
 *   write_mbps   and of data to it: a token bucket per direction that
 *                serializes transfers at that rate; 0 is no cap
 *
 * The operation itself runs at the wire's speed; its completion is held
 * until max(wire completion, bandwidth release) + added latency, on one
 * soft hrtimer per client.  Held completions are reported in softirq
 * context as CQ completions are, so their owners see no difference.  The
 * order of completions changes only with jitter (block I/O has no order
 * between requests in flight).  Control calls are not delayed.
 *
 * Counters (stats) and the vnode:fabric_op tracepoint give the wire time
 * and the added time of each operation separately.
 */
#include "xprt_priv.h"

#include <linux/configfs.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#define CREATE_TRACE_POINTS
#include <trace/events/vnode_fabric.h>

/* Largest delay_us and jitter_us: one second. */
#define FABRIC_MAX_US		1000000u
/* Largest per_kib_ns: 1 ms per KiB (1 MB/s). */
#define FABRIC_MAX_KIB_NS	1000000u
/* Most the timer is armed early (its callback's median latency). */
#define FABRIC_MAX_SLACK_NS	(2 * NSEC_PER_MSEC)
/* Least step of that median's estimate. */
#define FABRIC_SLACK_STEP_NS	1000
/* Largest bandwidth cap: 10^6 MB/s (a terabyte per second). */
#define FABRIC_MAX_MBPS		1000000u

enum fabric_jitter {
	FABRIC_JITTER_UNIFORM,
	FABRIC_JITTER_NORMAL,
};

static const char * const fabric_jitter_names[] = {
	[FABRIC_JITTER_UNIFORM]	= "uniform",
	[FABRIC_JITTER_NORMAL]	= "normal",
};

/**
 * struct vnode_fabric_link - an emulated link to one remote host
 * @group: configfs directory vnode_xprt/fabric/NAME
 * @entry: in fabric_links
 * @addr: the host (its port is ignored)
 * @has_addr: @addr was set
 * @delay_us: added round-trip time (the settings are read with READ_ONCE
 *	on the data path; a change applies to operations posted after it)
 * @per_kib_ns: added time per KiB
 * @jitter_us: spread of the random term
 * @jitter: its distribution (enum fabric_jitter)
 * @mbps: bandwidth cap per direction (0 read, 1 write), 0 for none
 * @bw_lock: protects @bw_free
 * @bw_free: per direction (0 read, 1 write), when the bucket is free
 * @ops: data operations completed through the link, per direction
 * @held: of them, held for a while
 * @bytes: data moved, per direction
 * @wire_ns: total wire time (post to wire completion), per direction
 * @added_ns: total time held
 * @late_ns: total time held completions were reported after they were due,
 *	per direction
 * @early_ns: and before (together, the emulation's error: the timer is
 *	armed early by its own median latency, held_slack_ns)
 * @rcu: frees the link after clients stopped seeing it
 */
struct vnode_fabric_link {
	struct config_group	group;
	struct list_head	entry;
	struct sockaddr_storage	addr;
	bool			has_addr;
	u32			delay_us;
	u32			per_kib_ns;
	u32			jitter_us;
	u32			jitter;
	u32			mbps[2];
	spinlock_t		bw_lock;
	u64			bw_free[2];
	atomic64_t		ops[2];
	atomic64_t		held;
	atomic64_t		bytes[2];
	atomic64_t		wire_ns[2];
	atomic64_t		added_ns;
	atomic64_t		late_ns[2];
	atomic64_t		early_ns[2];
	struct rcu_head		rcu;
};

/* Protects fabric_links and every client's ->fabric. */
static DEFINE_MUTEX(fabric_mutex);
static LIST_HEAD(fabric_links);

static inline struct vnode_fabric_link *to_link(struct config_item *item)
{
	return container_of(to_config_group(item), struct vnode_fabric_link,
			    group);
}

static struct vnode_fabric_link *
fabric_lookup(const struct sockaddr_storage *addr)
{
	struct vnode_fabric_link *link;

	lockdep_assert_held(&fabric_mutex);
	list_for_each_entry(link, &fabric_links, entry)
		if (link->has_addr && vnode_addr_same_host(&link->addr, addr))
			return link;
	return NULL;
}

static void fabric_bind_locked(struct vnode_xprt_clt *clt, void *arg)
{
	lockdep_assert_held(&fabric_mutex);
	rcu_assign_pointer(clt->fabric, fabric_lookup(&clt->cfg.addr));
}

/* A new client: the link of its server's host applies to it. */
void vnode_fabric_bind(struct vnode_xprt_clt *clt)
{
	mutex_lock(&fabric_mutex);
	fabric_bind_locked(clt, NULL);
	mutex_unlock(&fabric_mutex);
}

/* Links or their addresses changed: every client looks again. */
static void fabric_rebind_all(void)
{
	lockdep_assert_held(&fabric_mutex);
	vnode_xprt_clt_for_each(fabric_bind_locked, NULL);
}

/* ------------------------------------------------------------------ */
/* Data path                                                           */
/* ------------------------------------------------------------------ */

/* A random term of spread @j_ns from distribution @dist (signed ns). */
static s64 fabric_jitter_ns(u32 dist, u64 j_ns)
{
	u64 sum = 0;
	unsigned int i;

	if (dist == FABRIC_JITTER_NORMAL) {
		/*
		 * Irwin-Hall: the sum of 12 uniform terms on [0, 2^16) has
		 * mean 6 * 2^16 and standard deviation 2^16.
		 */
		for (i = 0; i < 6; i++) {
			u32 r = get_random_u32();

			sum += (r & 0xffff) + (r >> 16);
		}
		return div_s64(((s64)sum - 6 * 65536) * (s64)j_ns, 65536);
	}
	/* Uniform on [-j, +j]. */
	return (s64)mul_u64_u32_shr(2 * j_ns + 1, get_random_u32(), 32) -
		(s64)j_ns;
}

void __vnode_fabric_post(struct vnode_xprt_clt *clt, struct vnode_xprt_hold *h,
			 bool write, u32 bytes)
{
	struct vnode_fabric_link *link;
	u32 mbps, jitter_us;
	unsigned long flags;
	u64 now = ktime_get_ns();
	s64 lat;

	rcu_read_lock();
	link = rcu_dereference(clt->fabric);
	if (!link)
		goto out;
	h->on = true;
	h->write = write;
	h->bytes = bytes;
	h->post_ns = now;
	lat = (s64)READ_ONCE(link->delay_us) * NSEC_PER_USEC +
		div_u64((u64)READ_ONCE(link->per_kib_ns) * bytes, 1024);
	jitter_us = READ_ONCE(link->jitter_us);
	if (jitter_us)
		lat += fabric_jitter_ns(READ_ONCE(link->jitter),
					(u64)jitter_us * NSEC_PER_USEC);
	h->lat_ns = max_t(s64, lat, 0);
	h->bw_done_ns = now;
	mbps = READ_ONCE(link->mbps[write]);
	if (mbps && bytes) {
		/* 1 MB/s moves one byte per 1000 ns. */
		u64 tx = div_u64((u64)bytes * 1000, mbps);

		spin_lock_irqsave(&link->bw_lock, flags);
		h->bw_done_ns = max(now, link->bw_free[write]) + tx;
		link->bw_free[write] = h->bw_done_ns;
		spin_unlock_irqrestore(&link->bw_lock, flags);
	}
out:
	rcu_read_unlock();
}

static void fabric_account(struct vnode_xprt_clt *clt,
			   struct vnode_xprt_hold *h, u64 wire, u64 added)
{
	struct vnode_fabric_link *link;

	rcu_read_lock();
	link = rcu_dereference(clt->fabric);
	if (link) {
		atomic64_inc(&link->ops[h->write]);
		if (added)
			atomic64_inc(&link->held);
		atomic64_add(h->bytes, &link->bytes[h->write]);
		atomic64_add(wire, &link->wire_ns[h->write]);
		atomic64_add(added, &link->added_ns);
		trace_fabric_op(config_item_name(&link->group.cg_item),
				clt->name, h->write, h->bytes, wire, added);
	}
	rcu_read_unlock();
}

/*
 * Arm the client's timer for @due, early by the callback's median
 * latency (the time between a timer's expiry and its soft callback, about
 * 0.1 ms in the lab's TCG guests), so that held completions are reported
 * when due in the median: what a fault's p50 sees.  (An average, which
 * the rare very late callback pulls up, armed most timers too early and
 * made the median hold shorter than the setting.)  held_lock held.
 */
static void fabric_arm(struct vnode_xprt_clt *clt, u64 due)
{
	u64 at = due - min(READ_ONCE(clt->held_slack_ns), due);

	/*
	 * Never in the past: the callback's latency is measured from here,
	 * and an expiry in the past would count as latency and feed back.
	 */
	at = max(at, ktime_get_ns());
	clt->held_armed_ns = at;
	hrtimer_start(&clt->held_timer, ns_to_ktime(at), HRTIMER_MODE_ABS_SOFT);
}

bool __vnode_fabric_hold(struct vnode_xprt_clt *clt, struct vnode_xprt_hold *h,
			 int error, void (*fire)(struct vnode_xprt_hold *h))
{
	struct vnode_xprt_hold *pos;
	unsigned long flags;
	u64 now = ktime_get_ns();
	u64 due;

	h->on = false;
	/* Failures are reported at once: the owner's recovery is not slowed. */
	if (error)
		return false;
	due = max(now, h->bw_done_ns) + h->lat_ns;
	fabric_account(clt, h, now - h->post_ns, due - now);
	if (due <= now)
		return false;
	h->due_ns = due;
	h->fire = fire;

	spin_lock_irqsave(&clt->held_lock, flags);
	if (clt->held_flush) {
		spin_unlock_irqrestore(&clt->held_lock, flags);
		return false;
	}
	/* Mostly in order: look for the place from the tail. */
	list_for_each_entry_reverse(pos, &clt->held, entry)
		if (pos->due_ns <= due)
			break;
	list_add(&h->entry, &pos->entry);
	if (clt->held.next == &h->entry)
		fabric_arm(clt, due);
	spin_unlock_irqrestore(&clt->held_lock, flags);
	return true;
}

static void fabric_fire_list(struct vnode_xprt_clt *clt,
			     struct list_head *list)
{
	struct vnode_fabric_link *link;
	struct vnode_xprt_hold *h, *tmp;
	u64 now = ktime_get_ns(), late[2] = {}, early[2] = {};

	list_for_each_entry_safe(h, tmp, list, entry) {
		if (now > h->due_ns)
			late[h->write] += now - h->due_ns;
		else
			early[h->write] += h->due_ns - now;
		list_del_init(&h->entry);
		h->fire(h);
	}
	rcu_read_lock();
	link = rcu_dereference(clt->fabric);
	if (link) {
		atomic64_add(late[0], &link->late_ns[0]);
		atomic64_add(late[1], &link->late_ns[1]);
		atomic64_add(early[0], &link->early_ns[0]);
		atomic64_add(early[1], &link->early_ns[1]);
	}
	rcu_read_unlock();
}

static enum hrtimer_restart fabric_timer_fn(struct hrtimer *t)
{
	struct vnode_xprt_clt *clt = container_of(t, struct vnode_xprt_clt,
						  held_timer);
	struct vnode_xprt_hold *h, *tmp;
	u64 now = ktime_get_ns(), slack, late, step;
	unsigned long flags;
	LIST_HEAD(due);

	spin_lock_irqsave(&clt->held_lock, flags);
	/*
	 * How late this callback runs: a streaming estimate of the median
	 * (each sample moves it a step toward itself, the step a sixteenth
	 * of the estimate, at least a microsecond).
	 */
	late = min_t(u64, now - min(now, clt->held_armed_ns),
		     FABRIC_MAX_SLACK_NS);
	slack = READ_ONCE(clt->held_slack_ns);
	step = max_t(u64, slack / 16, FABRIC_SLACK_STEP_NS);
	if (late > slack)
		slack += min(late - slack, step);
	else
		slack -= min(slack - late, step);
	WRITE_ONCE(clt->held_slack_ns, slack);
	/*
	 * Report what is due within half a callback latency: waiting for
	 * another callback would make it later than now makes it early.
	 */
	list_for_each_entry_safe(h, tmp, &clt->held, entry) {
		if (h->due_ns > now + slack / 2)
			break;
		list_move_tail(&h->entry, &due);
	}
	spin_unlock_irqrestore(&clt->held_lock, flags);

	fabric_fire_list(clt, &due);

	spin_lock_irqsave(&clt->held_lock, flags);
	h = list_first_entry_or_null(&clt->held, struct vnode_xprt_hold,
				     entry);
	/* A hold that became first meanwhile armed the timer itself. */
	if (h && !hrtimer_is_queued(t))
		fabric_arm(clt, h->due_ns);
	spin_unlock_irqrestore(&clt->held_lock, flags);
	return HRTIMER_NORESTART;
}

void vnode_fabric_clt_init(struct vnode_xprt_clt *clt)
{
	spin_lock_init(&clt->held_lock);
	INIT_LIST_HEAD(&clt->held);
	hrtimer_init(&clt->held_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT);
	clt->held_timer.function = fabric_timer_fn;
}

/*
 * Close: the client leaves its link, nothing more is held, and every
 * held completion is reported now.  Sleeps.
 */
void vnode_fabric_flush(struct vnode_xprt_clt *clt)
{
	unsigned long flags;
	LIST_HEAD(held);

	mutex_lock(&fabric_mutex);
	RCU_INIT_POINTER(clt->fabric, NULL);
	mutex_unlock(&fabric_mutex);

	spin_lock_irqsave(&clt->held_lock, flags);
	clt->held_flush = true;
	list_splice_init(&clt->held, &held);
	spin_unlock_irqrestore(&clt->held_lock, flags);
	/* Waits for a running callback, which reports what it took. */
	hrtimer_cancel(&clt->held_timer);
	/* Owners expect completions in softirq context. */
	local_bh_disable();
	fabric_fire_list(clt, &held);
	local_bh_enable();
}

/* ------------------------------------------------------------------ */
/* configfs                                                            */
/* ------------------------------------------------------------------ */

static int fabric_store_u32(struct config_item *item, const char *attr,
			    const char *page, u32 max, u32 *out)
{
	u32 v;

	if (kstrtou32(page, 0, &v) || v > max) {
		pr_err("fabric %s: %s: 0 to %u expected\n",
		       config_item_name(item), attr, max);
		return -EINVAL;
	}
	WRITE_ONCE(*out, v);
	return 0;
}

#define FABRIC_U32_ATTR(field, max)					\
static ssize_t fabric_##field##_show(struct config_item *item,	\
				     char *page)			\
{									\
	return sysfs_emit(page, "%u\n", READ_ONCE(to_link(item)->field)); \
}									\
static ssize_t fabric_##field##_store(struct config_item *item,	\
				      const char *page, size_t count)	\
{									\
	return fabric_store_u32(item, #field, page, max,		\
				&to_link(item)->field) ?: count;	\
}									\
CONFIGFS_ATTR(fabric_, field)

FABRIC_U32_ATTR(delay_us, FABRIC_MAX_US);
FABRIC_U32_ATTR(per_kib_ns, FABRIC_MAX_KIB_NS);
FABRIC_U32_ATTR(jitter_us, FABRIC_MAX_US);

static ssize_t fabric_mbps_show(struct config_item *item, char *page,
				bool write)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_link(item)->mbps[write]));
}

static ssize_t fabric_mbps_store(struct config_item *item, const char *page,
				 size_t count, bool write)
{
	struct vnode_fabric_link *link = to_link(item);
	unsigned long flags;
	u32 v;

	if (fabric_store_u32(item, write ? "write_mbps" : "read_mbps", page,
			     FABRIC_MAX_MBPS, &v))
		return -EINVAL;
	spin_lock_irqsave(&link->bw_lock, flags);
	WRITE_ONCE(link->mbps[write], v);
	/* A new rate starts from now, not from the old rate's backlog. */
	link->bw_free[write] = 0;
	spin_unlock_irqrestore(&link->bw_lock, flags);
	return count;
}

static ssize_t fabric_read_mbps_show(struct config_item *item, char *page)
{
	return fabric_mbps_show(item, page, false);
}

static ssize_t fabric_read_mbps_store(struct config_item *item,
				      const char *page, size_t count)
{
	return fabric_mbps_store(item, page, count, false);
}

static ssize_t fabric_write_mbps_show(struct config_item *item, char *page)
{
	return fabric_mbps_show(item, page, true);
}

static ssize_t fabric_write_mbps_store(struct config_item *item,
				       const char *page, size_t count)
{
	return fabric_mbps_store(item, page, count, true);
}

static ssize_t fabric_jitter_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n",
			  fabric_jitter_names[READ_ONCE(to_link(item)->jitter)]);
}

static ssize_t fabric_jitter_store(struct config_item *item, const char *page,
				   size_t count)
{
	int i = sysfs_match_string(fabric_jitter_names, page);

	if (i < 0) {
		pr_err("fabric %s: jitter: \"uniform\" or \"normal\" expected\n",
		       config_item_name(item));
		return -EINVAL;
	}
	WRITE_ONCE(to_link(item)->jitter, i);
	return count;
}

static ssize_t fabric_addr_show(struct config_item *item, char *page)
{
	struct vnode_fabric_link *link = to_link(item);
	ssize_t ret;

	mutex_lock(&fabric_mutex);
	if (!link->has_addr)
		ret = sysfs_emit(page, "\n");
	else if (link->addr.ss_family == AF_INET)
		ret = sysfs_emit(page, "%pI4\n",
				 &((struct sockaddr_in *)&link->addr)->sin_addr);
	else
		ret = sysfs_emit(page, "%pI6c\n",
				 &((struct sockaddr_in6 *)&link->addr)->sin6_addr);
	mutex_unlock(&fabric_mutex);
	return ret;
}

static ssize_t fabric_addr_store(struct config_item *item, const char *page,
				 size_t count)
{
	struct vnode_fabric_link *link = to_link(item), *other;
	struct sockaddr_storage ss;
	int ret = 0;

	/* Any port: a link is a host's, whichever service it runs. */
	if (vnode_xprt_parse_addr(page, 1, &ss)) {
		pr_err("fabric %s: addr: an IPv4 or IPv6 address expected\n",
		       config_item_name(item));
		return -EINVAL;
	}
	mutex_lock(&fabric_mutex);
	other = fabric_lookup(&ss);
	if (other && other != link) {
		pr_err("fabric %s: addr: link %s already has this host\n",
		       config_item_name(item),
		       config_item_name(&other->group.cg_item));
		ret = -EEXIST;
	} else {
		link->addr = ss;
		link->has_addr = true;
		fabric_rebind_all();
	}
	mutex_unlock(&fabric_mutex);
	return ret ?: count;
}

struct fabric_count {
	struct vnode_fabric_link *link;
	unsigned int n;
};

static void fabric_count_clt(struct vnode_xprt_clt *clt, void *arg)
{
	struct fabric_count *c = arg;

	if (rcu_access_pointer(clt->fabric) == c->link)
		c->n++;
}

static s64 fabric_us(atomic64_t *ns)
{
	return div_s64(atomic64_read(ns), NSEC_PER_USEC);
}

static ssize_t fabric_stats_show(struct config_item *item, char *page)
{
	struct vnode_fabric_link *link = to_link(item);
	struct fabric_count c = { .link = link };

	mutex_lock(&fabric_mutex);
	vnode_xprt_clt_for_each(fabric_count_clt, &c);
	mutex_unlock(&fabric_mutex);
	return sysfs_emit(page,
			  "clients %u\nops %lld\nheld %lld\nread_ops %lld\nwrite_ops %lld\nread_bytes %lld\nwrite_bytes %lld\nwire_us %lld\nread_wire_us %lld\nwrite_wire_us %lld\nadded_us %lld\nlate_us %lld\nearly_us %lld\nread_late_us %lld\nread_early_us %lld\n",
			  c.n,
			  atomic64_read(&link->ops[0]) +
			  atomic64_read(&link->ops[1]),
			  atomic64_read(&link->held),
			  atomic64_read(&link->ops[0]),
			  atomic64_read(&link->ops[1]),
			  atomic64_read(&link->bytes[0]),
			  atomic64_read(&link->bytes[1]),
			  fabric_us(&link->wire_ns[0]) +
			  fabric_us(&link->wire_ns[1]),
			  fabric_us(&link->wire_ns[0]),
			  fabric_us(&link->wire_ns[1]),
			  fabric_us(&link->added_ns),
			  fabric_us(&link->late_ns[0]) +
			  fabric_us(&link->late_ns[1]),
			  fabric_us(&link->early_ns[0]) +
			  fabric_us(&link->early_ns[1]),
			  fabric_us(&link->late_ns[0]),
			  fabric_us(&link->early_ns[0]));
}

CONFIGFS_ATTR(fabric_, read_mbps);
CONFIGFS_ATTR(fabric_, write_mbps);
CONFIGFS_ATTR(fabric_, jitter);
CONFIGFS_ATTR(fabric_, addr);
CONFIGFS_ATTR_RO(fabric_, stats);

static struct configfs_attribute *fabric_link_attrs[] = {
	&fabric_attr_addr,
	&fabric_attr_delay_us,
	&fabric_attr_per_kib_ns,
	&fabric_attr_jitter_us,
	&fabric_attr_jitter,
	&fabric_attr_read_mbps,
	&fabric_attr_write_mbps,
	&fabric_attr_stats,
	NULL,
};

static void fabric_link_release(struct config_item *item)
{
	kfree_rcu(to_link(item), rcu);
}

static struct configfs_item_operations fabric_link_ops = {
	.release	= fabric_link_release,
};

static const struct config_item_type fabric_link_type = {
	.ct_item_ops	= &fabric_link_ops,
	.ct_attrs	= fabric_link_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_group *fabric_make_link(struct config_group *group,
					     const char *name)
{
	struct vnode_fabric_link *link;

	link = kzalloc(sizeof(*link), GFP_KERNEL);
	if (!link)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&link->bw_lock);
	config_group_init_type_name(&link->group, name, &fabric_link_type);
	mutex_lock(&fabric_mutex);
	list_add_tail(&link->entry, &fabric_links);
	mutex_unlock(&fabric_mutex);
	return &link->group;
}

static void fabric_drop_link(struct config_group *group,
			     struct config_item *item)
{
	struct vnode_fabric_link *link = to_link(item);

	mutex_lock(&fabric_mutex);
	list_del(&link->entry);
	fabric_rebind_all();
	mutex_unlock(&fabric_mutex);
	/* Freed after an RCU grace period: no client sees it then. */
	config_item_put(item);
}

static struct configfs_group_operations fabric_group_ops = {
	.make_group	= fabric_make_link,
	.drop_item	= fabric_drop_link,
};

static const struct config_item_type fabric_group_type = {
	.ct_group_ops	= &fabric_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct config_group fabric_group;

/* vnode_xprt/fabric, a default group of the vnode_xprt subsystem. */
struct config_group *vnode_fabric_group(void)
{
	config_group_init_type_name(&fabric_group, "fabric",
				    &fabric_group_type);
	return &fabric_group;
}
