// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: module parameters and the configfs tree
 *
 *   /sys/kernel/config/vnode/mem/<name>/     remote-memory disks
 *   /sys/kernel/config/vnode/vnodes/<name>/  per-vNode accounting
 */
#include "proc.h"

#include <linux/module.h>
#include <linux/slab.h>
#include <vnode/version.h>

unsigned int vnode_default_replicas = 1;
module_param_named(default_replicas, vnode_default_replicas, uint, 0444);
MODULE_PARM_DESC(default_replicas,
		 "Copies of each slab for new disks, 1 or 2 (default 1)");

unsigned int vnode_loss_timeout_ms = 10000;
module_param_named(loss_timeout_ms, vnode_loss_timeout_ms, uint, 0444);
MODULE_PARM_DESC(loss_timeout_ms,
		 "Declare a memory host dead (its slabs lost) after this long without a connection (default 10000)");

unsigned int vnode_connect_timeout_ms = 3000;
module_param_named(connect_timeout_ms, vnode_connect_timeout_ms, uint, 0444);
MODULE_PARM_DESC(connect_timeout_ms,
		 "Timeout of one connect attempt to a memory host (default 3000)");

unsigned int vnode_reconnect_delay_ms = 500;
module_param_named(reconnect_delay_ms, vnode_reconnect_delay_ms, uint, 0444);
MODULE_PARM_DESC(reconnect_delay_ms,
		 "Delay between reconnect attempts (default 500)");

unsigned int vnode_queue_depth = 64;
module_param_named(queue_depth, vnode_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "blk-mq requests per hardware queue (default 64)");

unsigned int vnode_nr_queues;
module_param_named(nr_queues, vnode_nr_queues, uint, 0444);
MODULE_PARM_DESC(nr_queues,
		 "blk-mq queues and RDMA queue pairs per memory host, 0 = min(CPUs, 4) (default 0)");

unsigned int vnode_poll_us = 1000;
module_param_named(poll_us, vnode_poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us,
		 "Spin up to this long in the submitting context for a swap-in's RDMA READ to complete instead of sleeping, 0 = never (default 1000)");

unsigned int vnode_max_rq_pages = VNMEM_MAX_RQ_PAGES;
module_param_named(max_rq_pages, vnode_max_rq_pages, uint, 0444);
MODULE_PARM_DESC(max_rq_pages,
		 "Largest request in pages, moved as one RDMA op (adjacent swap-outs merge into one), 1-16; fewer if the RDMA device takes fewer SGEs (default 16)");

unsigned int vnode_write_defer_us = 200;
module_param_named(write_defer_us, vnode_write_defer_us, uint, 0644);
MODULE_PARM_DESC(write_defer_us,
		 "Hold page-outs up to this long so that the next swap-in's RDMA READ goes on the wire before them (a swap-in posts them right after its read), 0 = post at once (default 200)");

bool vnode_rw_split;
module_param_named(rw_split, vnode_rw_split, bool, 0644);
MODULE_PARM_DESC(rw_split,
		 "Swap-ins (RDMA READs) and page-outs (WRITEs) on separate queue pairs to each memory host, twice nr_queues in all; read when a host connects, i.e. at enable (default N)");

bool vnode_skip_swapcache = true;
module_param_named(skip_swapcache, vnode_skip_swapcache, bool, 0444);
MODULE_PARM_DESC(skip_swapcache,
		 "Let a swap-in of a page mapped once skip the swap cache (SWP_SYNCHRONOUS_IO, as on zram); kernels before 6.3 only, taken when a disk is enabled (default Y)");

unsigned int vnode_io_timeout_ms = 30000;
module_param_named(io_timeout_ms, vnode_io_timeout_ms, uint, 0444);
MODULE_PARM_DESC(io_timeout_ms,
		 "Fail a request that could not be served for this long (default 30000)");

unsigned int vnode_rpc_timeout_ms = 5000;
module_param_named(rpc_timeout_ms, vnode_rpc_timeout_ms, uint, 0444);
MODULE_PARM_DESC(rpc_timeout_ms,
		 "Timeout of ALLOC_SLAB/FREE_SLAB requests (default 5000)");

unsigned int vnode_rejoin_max_ms = 30000;
module_param_named(rejoin_max_ms, vnode_rejoin_max_ms, uint, 0644);
MODULE_PARM_DESC(rejoin_max_ms,
		 "Keep trying to reach a memory host declared dead, backing off from reconnect_delay_ms up to this interval; it rejoins with none of its old slabs. 0 = give it up for good (default 30000)");

unsigned int vnode_heal_rate_mbps = 64;
module_param_named(heal_rate_mbps, vnode_heal_rate_mbps, uint, 0644);
MODULE_PARM_DESC(heal_rate_mbps,
		 "Re-replicate slabs left with fewer copies than replicas at up to this many MiB/s, onto another live memory host, so that a workload keeps most of the fabric; 0 = never (default 64)");

unsigned int vnode_prefetch_cache_pages = 512;
module_param_named(prefetch_cache_pages, vnode_prefetch_cache_pages, uint, 0444);
MODULE_PARM_DESC(prefetch_cache_pages,
		 "Pages each disk keeps for swap-ins read ahead (vNodes with prefetch on), taken when it is enabled; 0 = no prefetching (default 512)");

static int vnode_prefetch_max_set(const char *val,
				  const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret || v < 1 || v > VNMEM_PF_MAX_WIN) {
		pr_err("prefetch_max='%.*s': slots, 1..%u\n",
		       (int)strcspn(val, "\n"), val, VNMEM_PF_MAX_WIN);
		return -EINVAL;
	}
	return param_set_uint(val, kp);
}

static const struct kernel_param_ops vnode_prefetch_max_ops = {
	.set	= vnode_prefetch_max_set,
	.get	= param_get_uint,
};

unsigned int vnode_prefetch_max = 32;
module_param_cb(prefetch_max, &vnode_prefetch_max_ops, &vnode_prefetch_max,
		0644);
MODULE_PARM_DESC(prefetch_max,
		 "Read at most this many slots ahead of a swap-in stream, 1-64 (at most half the cache is used), changeable at run time (default 32)");

unsigned long long vnode_max_disk_size = 64ULL << 30;
module_param_named(max_disk_size, vnode_max_disk_size, ullong, 0444);
MODULE_PARM_DESC(max_disk_size,
		 "Largest accepted disk size in bytes (default 68719476736 = 64G)");

/* ------------------------------------------------------------------ */
/* mem/<name>                                                          */
/* ------------------------------------------------------------------ */

static inline struct vnmem_cfg *to_vnmem_cfg(struct config_item *item)
{
	return container_of(item, struct vnmem_cfg, item);
}

static ssize_t vnmem_cfg_hosts_show(struct config_item *item, char *page)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%s\n", cfg->hosts);
	mutex_unlock(&cfg->lock);
	return ret;
}

static void vnmem_cfg_set_hosts(struct vnmem_cfg *cfg,
				const struct sockaddr_storage *addrs,
				unsigned int n)
{
	unsigned int i;

	cfg->hosts[0] = '\0';
	for (i = 0; i < n; i++) {
		cfg->addrs[i] = addrs[i];
		snprintf(cfg->hosts + strlen(cfg->hosts),
			 sizeof(cfg->hosts) - strlen(cfg->hosts),
			 "%s%pISpc", i ? "," : "", &addrs[i]);
	}
	cfg->nr_hosts = n;
}

static ssize_t vnmem_cfg_hosts_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	struct sockaddr_storage *addrs;
	char *str, *cur, *tok;
	unsigned int n = 0, i;
	int ret;

	str = vnode_fault(kmalloc(VNMEM_HOSTS_MAX_LEN, GFP_KERNEL));
	addrs = vnode_fault(kcalloc(VNMEM_MAX_HOSTS, sizeof(*addrs), GFP_KERNEL));
	if (!str || !addrs) {
		ret = -ENOMEM;
		goto out;
	}
	ret = vnode_cfs_get_str(page, count, str, VNMEM_HOSTS_MAX_LEN);
	if (ret)
		goto out;
	cur = str;
	while ((tok = strsep(&cur, ",")) != NULL) {
		if (n == VNMEM_MAX_HOSTS) {
			vnode_log(err, config_item_name(item),
				  "at most %d hosts\n", VNMEM_MAX_HOSTS);
			ret = -EINVAL;
			goto out;
		}
		ret = vnode_xprt_parse_addr(tok, VNODE_MEM_PORT, &addrs[n]);
		if (ret) {
			vnode_log(err, config_item_name(item),
				  "bad host address '%s' (want ip[:port])\n",
				  tok);
			goto out;
		}
		for (i = 0; i < n; i++)
			if (vnode_addr_equal(&addrs[i], &addrs[n])) {
				vnode_log(err, config_item_name(item),
					  "host %pISpc listed twice\n",
					  &addrs[n]);
				ret = -EINVAL;
				goto out;
			}
		n++;
	}

	ret = vnode_cfs_store_disabled(&cfg->lock, cfg->disk, 0,
				       vnmem_cfg_set_hosts(cfg, addrs, n));
out:
	kfree(addrs);
	kfree(str);
	return ret ? ret : count;
}

static ssize_t vnmem_cfg_size_show(struct config_item *item, char *page)
{
	return sprintf(page, "%llu\n", READ_ONCE(to_vnmem_cfg(item)->size));
}

static ssize_t vnmem_cfg_size_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	char buf[32];
	u64 size;
	int ret;

	ret = vnode_cfs_get_str(page, count, buf, sizeof(buf));
	if (!ret)
		ret = vnode_parse_size(buf, &size);
	if (ret || size < 2 * PAGE_SIZE || size % PAGE_SIZE ||
	    size > vnode_max_disk_size) {
		vnode_log(err, config_item_name(item),
			  "size must be a multiple of %lu between %lu and max_disk_size=%llu bytes (K/M/G/T suffixes)\n",
			  PAGE_SIZE, 2 * PAGE_SIZE, vnode_max_disk_size);
		return -EINVAL;
	}
	return vnode_cfs_store_disabled(&cfg->lock, cfg->disk, count,
					WRITE_ONCE(cfg->size, size));
}

static ssize_t vnmem_cfg_replicas_show(struct config_item *item, char *page)
{
	return sprintf(page, "%u\n", READ_ONCE(to_vnmem_cfg(item)->replicas));
}

static ssize_t vnmem_cfg_replicas_store(struct config_item *item,
					const char *page, size_t count)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	unsigned int r;
	int ret;

	ret = kstrtouint(page, 10, &r);
	if (ret || r < 1 || r > VNMEM_MAX_REPLICAS)
		return -EINVAL;
	return vnode_cfs_store_disabled(&cfg->lock, cfg->disk, count,
					WRITE_ONCE(cfg->replicas, r));
}

static ssize_t vnmem_cfg_enable_show(struct config_item *item, char *page)
{
	return sprintf(page, "%d\n", !!READ_ONCE(to_vnmem_cfg(item)->disk));
}

static ssize_t vnmem_cfg_enable_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	struct vnmem_disk *disk;
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	mutex_lock(&cfg->lock);
	if (on == !!cfg->disk)
		goto out;
	if (on) {
		/* While enabled, rmdir of this item fails with -EBUSY. */
		ret = configfs_depend_item_unlocked(&vnode_cfs_subsys,
						    &cfg->item);
		if (ret)
			goto out;
		ret = vnmem_disk_create(cfg, &disk);
		cfg->last_err = ret;
		if (ret) {
			configfs_undepend_item(&cfg->item);
			goto out;
		}
		WRITE_ONCE(cfg->disk, disk);
	} else {
		ret = vnmem_disk_destroy(cfg->disk);
		if (ret)
			goto out;
		WRITE_ONCE(cfg->disk, NULL);
		configfs_undepend_item(&cfg->item);
	}
out:
	mutex_unlock(&cfg->lock);
	return ret ? ret : count;
}

static ssize_t vnmem_cfg_dev_show(struct config_item *item, char *page)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%s\n", cfg->disk ? cfg->disk->name : "");
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vnmem_cfg_state_show(struct config_item *item, char *page)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	if (cfg->disk)
		ret = vnmem_disk_state(cfg->disk, page);
	else
		ret = sprintf(page, "disabled\n");
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vnmem_cfg_drain_show(struct config_item *item, char *page)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	ssize_t ret = 0;

	mutex_lock(&cfg->lock);
	if (cfg->disk)
		ret = vnmem_drain_show(cfg->disk, page);
	mutex_unlock(&cfg->lock);
	return ret;
}

/* "ADDR[:PORT]" drains that host, "-ADDR[:PORT]" cancels or takes it back. */
static ssize_t vnmem_cfg_drain_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);
	struct sockaddr_storage addr;
	char buf[64], *p = buf;
	bool on = true;
	int ret;

	ret = vnode_cfs_get_str(page, count, buf, sizeof(buf));
	if (ret)
		return ret;
	if (*p == '-') {
		on = false;
		p++;
	}
	ret = vnode_xprt_parse_addr(p, VNODE_MEM_PORT, &addr);
	if (ret) {
		vnode_log(err, config_item_name(item),
			  "drain: bad host address '%s' (want [-]ip[:port])\n",
			  p);
		return ret;
	}
	mutex_lock(&cfg->lock);
	if (cfg->disk)
		ret = vnmem_drain_set(cfg->disk, &addr, on);
	else
		ret = -ENODEV;
	mutex_unlock(&cfg->lock);
	return ret ? ret : count;
}

CONFIGFS_ATTR(vnmem_cfg_, hosts);
CONFIGFS_ATTR(vnmem_cfg_, drain);
CONFIGFS_ATTR(vnmem_cfg_, size);
CONFIGFS_ATTR(vnmem_cfg_, replicas);
CONFIGFS_ATTR(vnmem_cfg_, enable);
CONFIGFS_ATTR_RO(vnmem_cfg_, dev);
CONFIGFS_ATTR_RO(vnmem_cfg_, state);

static struct configfs_attribute *vnmem_cfg_attrs[] = {
	&vnmem_cfg_attr_hosts,
	&vnmem_cfg_attr_drain,
	&vnmem_cfg_attr_size,
	&vnmem_cfg_attr_replicas,
	&vnmem_cfg_attr_enable,
	&vnmem_cfg_attr_dev,
	&vnmem_cfg_attr_state,
	NULL,
};

static void vnmem_cfg_release(struct config_item *item)
{
	struct vnmem_cfg *cfg = to_vnmem_cfg(item);

	/* enable=1 pins the item (configfs_depend_item), so no disk here. */
	WARN_ON(cfg->disk);
	kfree(cfg);
}

static struct configfs_item_operations vnmem_cfg_item_ops = {
	.release	= vnmem_cfg_release,
};

static const struct config_item_type vnmem_cfg_type = {
	.ct_item_ops	= &vnmem_cfg_item_ops,
	.ct_attrs	= vnmem_cfg_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_item *vnmem_cfg_make(struct config_group *group,
					  const char *name)
{
	struct vnmem_cfg *cfg;

	cfg = vnode_fault(kzalloc(sizeof(*cfg), GFP_KERNEL));
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	mutex_init(&cfg->lock);
	cfg->replicas = vnode_default_replicas;
	config_item_init_type_name(&cfg->item, name, &vnmem_cfg_type);
	return &cfg->item;
}

static struct configfs_group_operations vnmem_cfg_group_ops = {
	.make_item	= vnmem_cfg_make,
};

struct config_item_type vnmem_group_type = {
	.ct_group_ops	= &vnmem_cfg_group_ops,
	.ct_owner	= THIS_MODULE,
};

/* ------------------------------------------------------------------ */
/* configfs root and module init                                       */
/* ------------------------------------------------------------------ */

static const struct config_item_type vnode_root_type = {
	.ct_owner	= THIS_MODULE,
};

struct configfs_subsystem vnode_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "vnode",
			.ci_type	= &vnode_root_type,
		},
	},
};

static struct config_group vnmem_cfs_group;
static struct config_group vnode_acct_cfs_group;

static int __init vnode_proc_check_params(void)
{
	if (vnode_default_replicas < 1 ||
	    vnode_default_replicas > VNMEM_MAX_REPLICAS) {
		pr_err("default_replicas must be 1 or 2\n");
		return -EINVAL;
	}
	if (!vnode_queue_depth || vnode_queue_depth > 1024) {
		pr_err("queue_depth must be 1..1024\n");
		return -EINVAL;
	}
	if (vnode_nr_queues > 64) {
		pr_err("nr_queues must be 0..64\n");
		return -EINVAL;
	}
	if (!vnode_max_rq_pages || vnode_max_rq_pages > VNMEM_MAX_RQ_PAGES) {
		pr_err("max_rq_pages must be 1..%u\n", VNMEM_MAX_RQ_PAGES);
		return -EINVAL;
	}
	if (!vnode_io_timeout_ms || !vnode_rpc_timeout_ms ||
	    !vnode_loss_timeout_ms || !vnode_connect_timeout_ms) {
		pr_err("timeouts must be > 0\n");
		return -EINVAL;
	}
	if (vnode_max_disk_size < 2 * PAGE_SIZE) {
		pr_err("max_disk_size too small\n");
		return -EINVAL;
	}
	if (vnode_io_timeout_ms <= vnode_loss_timeout_ms)
		pr_warn("io_timeout_ms (%u) <= loss_timeout_ms (%u): I/O may fail before a host is declared lost\n",
			vnode_io_timeout_ms, vnode_loss_timeout_ms);
	return 0;
}

static int __init vnode_proc_init(void)
{
	int ret;

	ret = vnode_proc_check_params();
	if (ret)
		return ret;
	ret = vnmem_init();
	if (ret)
		return ret;

	config_group_init(&vnode_cfs_subsys.su_group);
	mutex_init(&vnode_cfs_subsys.su_mutex);
	config_group_init_type_name(&vnmem_cfs_group, "mem", &vnmem_group_type);
	configfs_add_default_group(&vnmem_cfs_group, &vnode_cfs_subsys.su_group);
	config_group_init_type_name(&vnode_acct_cfs_group, "vnodes",
				    &vnode_acct_group_type);
	configfs_add_default_group(&vnode_acct_cfs_group,
				   &vnode_cfs_subsys.su_group);
	ret = configfs_register_subsystem(&vnode_cfs_subsys);
	if (ret) {
		pr_err("cannot register configfs subsystem: %d\n", ret);
		goto out_vnmem_exit;
	}
	pr_info("loaded (swap_slot_free_notify %s)\n",
		VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY ? "on" : "off: use swapon --discard=pages");
	return 0;

out_vnmem_exit:
	vnmem_exit();
	return ret;
}

static void __exit vnode_proc_exit(void)
{
	configfs_unregister_subsystem(&vnode_cfs_subsys);
	vnmem_exit();
	rcu_barrier();	/* kfree_rcu of vnode_acct */
	vnode_acct_exit();
}

module_init(vnode_proc_init);
module_exit(vnode_proc_exit);

MODULE_DESCRIPTION("vnode process host: remote-memory swap disk and vNode accounting");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
