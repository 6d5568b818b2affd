// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: the remote-memory disk's counters, /sys/block/vnmemN/vnode/
 * (docs/abi.md).
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
VNMEM_STAT_ATTR(poll_ns);
VNMEM_STAT_ATTR(healed_slabs);
VNMEM_STAT_ATTR(heal_bytes);
VNMEM_STAT_ATTR(prefetch_issued);
VNMEM_STAT_ATTR(prefetch_hits);
VNMEM_STAT_ATTR(prefetch_wasted);
VNMEM_STAT_ATTR(protect_errors);
VNMEM_STAT_ATTR(protect_failed);

static ssize_t prefetch_cached_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vnmem_pf_cached(dev_to_vnmem(dev)));
}
static DEVICE_ATTR_RO(prefetch_cached);

static ssize_t slabs_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&dev_to_vnmem(dev)->nr_mapped));
}
static DEVICE_ATTR_RO(slabs);

static ssize_t at_risk_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", vnmem_count_at_risk(dev_to_vnmem(dev)));
}
static DEVICE_ATTR_RO(at_risk);

/* Time to heal: ms since healing began, else how long the last heal took. */
static ssize_t heal_ms_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vnmem_disk *d = dev_to_vnmem(dev);
	u64 start = READ_ONCE(d->heal_started);

	if (start)
		return sysfs_emit(buf, "%llu\n",
				  (ktime_get_ns() - start) / NSEC_PER_MSEC);
	return sysfs_emit(buf, "%llu\n", READ_ONCE(d->heal_last_ms));
}
static DEVICE_ATTR_RO(heal_ms);

static ssize_t hosts_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct vnmem_disk *d = dev_to_vnmem(dev);
	unsigned int i;
	int len = 0;

	for (i = 0; i < d->nr_hosts; i++) {
		struct vnmem_host *h = &d->hosts[i];

		len += sysfs_emit_at(buf, len, "%u %s %s %d %s\n", h->id,
				     h->name,
				     vnode_xprt_state_str(READ_ONCE(h->state)),
				     atomic_read(&h->nr_slabs),
				     vnmem_drain_str(h));
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

/* Per-slot protection state held for this disk (docs/protection.md). */
static ssize_t protect_state_bytes_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	struct vnmem_disk *d = dev_to_vnmem(dev);
	u64 slots = d->size >> VNMEM_SLOT_SHIFT;
	u64 bytes = slots * (sizeof(*d->protect) + sizeof(*d->crc));

	/* pairs with smp_store_release() in vnmem_aead_alloc() */
	if (smp_load_acquire(&d->aead))
		bytes += slots * sizeof(*d->aead) +
			 VNMEM_BOUNCE_PAGES * PAGE_SIZE;
	return sysfs_emit(buf, "%llu\n", bytes);
}
static DEVICE_ATTR_RO(protect_state_bytes);

static struct attribute *vnmem_attrs[] = {
	&dev_attr_pages_read.attr,
	&dev_attr_pages_written.attr,
	&dev_attr_bytes_read.attr,
	&dev_attr_bytes_written.attr,
	&dev_attr_faults.attr,
	&dev_attr_errors.attr,
	&dev_attr_slabs.attr,
	&dev_attr_at_risk.attr,
	&dev_attr_healed_slabs.attr,
	&dev_attr_heal_bytes.attr,
	&dev_attr_prefetch_issued.attr,
	&dev_attr_prefetch_hits.attr,
	&dev_attr_prefetch_wasted.attr,
	&dev_attr_prefetch_cached.attr,
	&dev_attr_protect_errors.attr,
	&dev_attr_protect_failed.attr,
	&dev_attr_protect_state_bytes.attr,
	&dev_attr_heal_ms.attr,
	&dev_attr_hosts.attr,
	&dev_attr_lat_hist.attr,
	&dev_attr_read_lat_hist.attr,
	&dev_attr_degraded.attr,
	&dev_attr_lost_slabs.attr,
	&dev_attr_polled.attr,
	&dev_attr_poll_missed.attr,
	&dev_attr_poll_gated.attr,
	&dev_attr_poll_ns.attr,
	&dev_attr_replicas.attr,
	&dev_attr_slab_size.attr,
	NULL,
};

static const struct attribute_group vnmem_attr_group = {
	.name	= "vnode",
	.attrs	= vnmem_attrs,
};

const struct attribute_group *vnmem_attr_groups[] = {
	&vnmem_attr_group,
	NULL,
};
