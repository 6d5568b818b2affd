// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: per-vNode accounting, configfs vnodes/<name>/.
 *
 * Each remote page I/O is charged to the vNode whose cgroup (cgroup_id)
 * is the page's memcg or one of its ancestors.  Lookups run from blk-mq
 * queue_rq and RDMA completion, so both maps are RCU-read xarrays and the
 * objects are freed after a grace period.
 */
#include "proc.h"

#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>

const u32 vnode_lat_bounds_us[VNODE_LAT_BUCKETS] = {
	50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000,
	100000, 200000, 500000, 1000000,
};

/* The last bucket also counts anything slower. */
void vnode_lat_add(struct vnode_lat_hist *h, u64 ns)
{
	u64 us = div_u64(ns, NSEC_PER_USEC);
	unsigned int i;

	for (i = 0; i < VNODE_LAT_BUCKETS - 1; i++)
		if (us <= vnode_lat_bounds_us[i])
			break;
	atomic64_inc(&h->b[i]);
}

ssize_t vnode_lat_show(struct vnode_lat_hist *h, char *buf)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < VNODE_LAT_BUCKETS; i++)
		len += scnprintf(buf + len, PAGE_SIZE - len, "%s<=%uus:%lld",
				 i ? " " : "", vnode_lat_bounds_us[i],
				 atomic64_read(&h->b[i]));
	len += scnprintf(buf + len, PAGE_SIZE - len, "\n");
	return len;
}

static u32 vnode_fine_upper_us(unsigned int i)
{
	return i < 100 ? (i + 1) * 10 : 1000 + (i - 99) * 100;
}

void vnode_fine_add(struct vnode_fine_hist *h, u64 ns)
{
	u64 us = div_u64(ns, NSEC_PER_USEC);
	unsigned int i;

	if (us < 1000)
		i = div_u64(us, 10);
	else if (us < 10000)
		i = 100 + div_u64(us - 1000, 100);
	else
		i = VNODE_FINE_BUCKETS - 1;
	atomic64_inc(&h->b[i]);
}

/*
 * "<UPPER_us>:<count>" for every non-empty bucket, in order; a bucket
 * counts latencies below its upper bound and at or above the previous
 * one.  The last bucket (upper bound shown as 0) counts 10 ms and more.
 */
ssize_t vnode_fine_show(struct vnode_fine_hist *h, char *buf)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < VNODE_FINE_BUCKETS; i++) {
		s64 n = atomic64_read(&h->b[i]);

		if (n)
			len += sysfs_emit_at(buf, len, "%s%u:%lld",
					     len ? " " : "",
					     i == VNODE_FINE_BUCKETS - 1 ?
					     0 : vnode_fine_upper_us(i), n);
	}
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static DEFINE_XARRAY(vnode_acct_by_cgid);	/* cgroup id -> acct */
static DEFINE_XARRAY_ALLOC(vnode_acct_ids);	/* owner id -> acct */
static DEFINE_MUTEX(vnode_acct_lock);		/* cgroup_id stores */
static u32 vnode_acct_next_id;

struct vnode_acct *vnode_acct_by_id(u32 id)
{
	return xa_load(&vnode_acct_ids, id);
}

/* RCU read side.  Sets *cgroup_id to the id of the page's own memcg. */
struct vnode_acct *vnode_acct_find(struct page *page, u64 *cgid)
{
	struct mem_cgroup *memcg;
	struct vnode_acct *a = NULL;

	*cgid = 0;
	if (mem_cgroup_disabled())
		return NULL;
	memcg = folio_memcg(page_folio(page));
	if (!memcg)
		return NULL;
	*cgid = cgroup_id(memcg->css.cgroup);
	if (xa_empty(&vnode_acct_by_cgid))
		return NULL;
	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		a = xa_load(&vnode_acct_by_cgid, cgroup_id(memcg->css.cgroup));
		if (a)
			break;
	}
	return a;
}

/*
 * Whether a vNode is aead now, so that a disk being enabled needs aead
 * state.  vnmem_disks_lock held: vnode_acct_protect_store() sets protect
 * under it.
 */
bool vnode_acct_any_aead(void)
{
	struct vnode_acct *a;
	unsigned long id;
	bool any = false;

	lockdep_assert_held(&vnmem_disks_lock);
	rcu_read_lock();	/* a released vNode is freed after a grace period */
	xa_for_each(&vnode_acct_ids, id, a) {
		if (READ_ONCE(a->protect) == VNODE_PROTECT_AEAD) {
			any = true;
			break;
		}
	}
	rcu_read_unlock();
	return any;
}

static inline struct vnode_acct *to_acct(struct config_item *item)
{
	return container_of(item, struct vnode_acct, item);
}

static ssize_t vnode_acct_cgroup_id_show(struct config_item *item,
					 char *page)
{
	return sprintf(page, "%llu\n", READ_ONCE(to_acct(item)->cgroup_id));
}

static ssize_t vnode_acct_cgroup_id_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct vnode_acct *a = to_acct(item);
	u64 id;
	int ret;

	ret = kstrtou64(page, 0, &id);
	if (ret)
		return ret;
	if (id > ULONG_MAX)
		return -EINVAL;

	mutex_lock(&vnode_acct_lock);
	if (id == a->cgroup_id)
		goto out;
	if (id) {
		ret = xa_insert(&vnode_acct_by_cgid, id, a, GFP_KERNEL);
		if (ret) {
			if (ret == -EBUSY)
				ret = -EEXIST;	/* another vNode has it */
			goto out;
		}
	}
	if (a->cgroup_id)
		xa_erase(&vnode_acct_by_cgid, a->cgroup_id);
	WRITE_ONCE(a->cgroup_id, id);
out:
	mutex_unlock(&vnode_acct_lock);
	return ret ? ret : count;
}

#define VNODE_ACCT_ATTR(_name)						\
static ssize_t vnode_acct_##_name##_show(struct config_item *item,	\
					 char *page)			\
{									\
	return sprintf(page, "%lld\n",					\
		       atomic64_read(&to_acct(item)->_name));		\
}									\
CONFIGFS_ATTR_RO(vnode_acct_, _name)

VNODE_ACCT_ATTR(faults);
VNODE_ACCT_ATTR(pages_in);
VNODE_ACCT_ATTR(pages_out);
VNODE_ACCT_ATTR(bytes_in);
VNODE_ACCT_ATTR(bytes_out);
VNODE_ACCT_ATTR(resident_pages);
VNODE_ACCT_ATTR(prefetch_issued);
VNODE_ACCT_ATTR(prefetch_hits);
VNODE_ACCT_ATTR(prefetch_wasted);
VNODE_ACCT_ATTR(protect_errors);
VNODE_ACCT_ATTR(protect_failed);

static const char * const vnode_protect_names[] = {
	[VNODE_PROTECT_NONE]	= "none",
	[VNODE_PROTECT_CRC]	= "crc",
	[VNODE_PROTECT_AEAD]	= "aead",
};

const char *vnode_protect_name(unsigned int p)
{
	return p < ARRAY_SIZE(vnode_protect_names) ? vnode_protect_names[p] :
	       "?";
}

static ssize_t vnode_acct_protect_show(struct config_item *item, char *page)
{
	return sprintf(page, "%s\n",
		       vnode_protect_name(READ_ONCE(to_acct(item)->protect)));
}

/*
 * How this vNode's pages are protected (proc_protect.c).  It applies to
 * pages written from now on: a page keeps the profile it was written with.
 * aead makes the vNode's key the first time; it is kept, unread by anyone,
 * until the vNode is removed.
 */
static ssize_t vnode_acct_protect_store(struct config_item *item,
					const char *page, size_t count)
{
	struct vnode_acct *a = to_acct(item);
	int p = sysfs_match_string(vnode_protect_names, page);
	int ret = 0;

	if (p < 0) {
		pr_warn("vnodes/%s: protect: '%.*s' is not none, crc or aead\n",
			config_item_name(item),
			(int)min_t(size_t, strcspn(page, "\n"), 16), page);
		return -EINVAL;
	}
	/* under vnmem_disks_lock: see vnode_acct_any_aead() */
	mutex_lock(&vnmem_disks_lock);
	if (p == VNODE_PROTECT_AEAD) {
		mutex_lock(&vnode_acct_lock);
		ret = vnode_acct_aead_init(a);
		mutex_unlock(&vnode_acct_lock);
		if (ret) {
			pr_warn("vnodes/%s: protect: aead: no usable gcm(aes) in this kernel (%d)\n",
				config_item_name(item), ret);
			goto out;
		}
		/* every disk can keep sealed pages before one is sealed */
		ret = vnmem_aead_prepare();
		if (ret) {
			pr_warn("vnodes/%s: protect: aead: no memory for the disks' aead state (%d)\n",
				config_item_name(item), ret);
			goto out;
		}
	}
	WRITE_ONCE(a->protect, p);
out:
	mutex_unlock(&vnmem_disks_lock);
	return ret ? ret : count;
}
CONFIGFS_ATTR(vnode_acct_, protect);

static ssize_t vnode_acct_prefetch_show(struct config_item *item, char *page)
{
	return sprintf(page, "%d\n", READ_ONCE(to_acct(item)->prefetch));
}

/* Read this vNode's swap-in streams ahead (proc_prefetch.c). */
static ssize_t vnode_acct_prefetch_store(struct config_item *item,
					 const char *page, size_t count)
{
	unsigned int on;
	int ret = kstrtouint(page, 10, &on);

	if (!ret && on > 1)
		ret = -EINVAL;
	if (ret) {
		pr_warn("vnodes/%s: prefetch: '%.*s' is not 0 or 1\n",
			config_item_name(item),
			(int)min_t(size_t, strcspn(page, "\n"), 16), page);
		return ret;
	}
	WRITE_ONCE(to_acct(item)->prefetch, on == 1);
	return count;
}
CONFIGFS_ATTR(vnode_acct_, prefetch);
CONFIGFS_ATTR(vnode_acct_, cgroup_id);

static ssize_t vnode_acct_lat_hist_show(struct config_item *item, char *page)
{
	return vnode_lat_show(&to_acct(item)->lat, page);
}
CONFIGFS_ATTR_RO(vnode_acct_, lat_hist);

static struct configfs_attribute *vnode_acct_attrs[] = {
	&vnode_acct_attr_cgroup_id,
	&vnode_acct_attr_faults,
	&vnode_acct_attr_pages_in,
	&vnode_acct_attr_pages_out,
	&vnode_acct_attr_bytes_in,
	&vnode_acct_attr_bytes_out,
	&vnode_acct_attr_resident_pages,
	&vnode_acct_attr_lat_hist,
	&vnode_acct_attr_prefetch,
	&vnode_acct_attr_prefetch_issued,
	&vnode_acct_attr_prefetch_hits,
	&vnode_acct_attr_prefetch_wasted,
	&vnode_acct_attr_protect,
	&vnode_acct_attr_protect_errors,
	&vnode_acct_attr_protect_failed,
	NULL,
};

static void vnode_acct_release(struct config_item *item)
{
	struct vnode_acct *a = to_acct(item);

	mutex_lock(&vnode_acct_lock);
	if (a->cgroup_id)
		xa_erase(&vnode_acct_by_cgid, a->cgroup_id);
	mutex_unlock(&vnode_acct_lock);
	xa_erase(&vnode_acct_ids, a->id);
	/* its pages still on a disk can no longer be opened: key destroyed */
	vnode_acct_aead_exit(a);
	kfree_rcu(a, rcu);
}

static struct configfs_item_operations vnode_acct_item_ops = {
	.release	= vnode_acct_release,
};

static const struct config_item_type vnode_acct_type = {
	.ct_item_ops	= &vnode_acct_item_ops,
	.ct_attrs	= vnode_acct_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_item *vnode_acct_make(struct config_group *group,
					   const char *name)
{
	struct vnode_acct *a;
	int ret;

	a = vnode_fault(kzalloc(sizeof(*a), GFP_KERNEL));
	if (!a)
		return ERR_PTR(-ENOMEM);
	ret = xa_alloc_cyclic(&vnode_acct_ids, &a->id, a,
			      XA_LIMIT(VNMEM_OWNER_FIRST,
				       VNMEM_OWNER_BAD - 1),
			      &vnode_acct_next_id, GFP_KERNEL);
	if (ret < 0) {
		kfree(a);
		return ERR_PTR(ret);
	}
	config_item_init_type_name(&a->item, name, &vnode_acct_type);
	return &a->item;
}

static struct configfs_group_operations vnode_acct_group_ops = {
	.make_item	= vnode_acct_make,
};

struct config_item_type vnode_acct_group_type = {
	.ct_group_ops	= &vnode_acct_group_ops,
	.ct_owner	= THIS_MODULE,
};

void vnode_acct_exit(void)
{
	xa_destroy(&vnode_acct_by_cgid);
	xa_destroy(&vnode_acct_ids);
}
