// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_vol: module parameters and configfs
 *
 *   mkdir /sys/kernel/config/vnode_vol/<name>
 *   echo 10.0.0.3 > host; echo v0 > volume; echo 1 > enable; cat dev
 */
#include "vol.h"

#include <linux/module.h>
#include <linux/slab.h>
#include <vnode/version.h>

unsigned int vol_loss_timeout_ms = 30000;
module_param_named(loss_timeout_ms, vol_loss_timeout_ms, uint, 0444);
MODULE_PARM_DESC(loss_timeout_ms,
		 "Default for new volumes: hold I/O this long after losing the storage host, then fail it with EIO (default 30000)");

unsigned int vol_connect_timeout_ms = 3000;
module_param_named(connect_timeout_ms, vol_connect_timeout_ms, uint, 0444);
MODULE_PARM_DESC(connect_timeout_ms,
		 "Timeout of one connect attempt to a storage host (default 3000)");

unsigned int vol_rpc_timeout_ms = 30000;
module_param_named(rpc_timeout_ms, vol_rpc_timeout_ms, uint, 0444);
MODULE_PARM_DESC(rpc_timeout_ms,
		 "Timeout of one OPEN or I/O command; an I/O command without a reply this long on a live connection resets the connection and is retried (default 30000)");

unsigned int vol_nr_queues;
module_param_named(nr_queues, vol_nr_queues, uint, 0444);
MODULE_PARM_DESC(nr_queues,
		 "RDMA queue pairs (blk-mq hardware queues) per volume, 0 = min(CPUs, 4) (default 0)");

unsigned int vol_queue_depth = VOL_MAX_DEPTH;
module_param_named(queue_depth, vol_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests in flight per queue, at most 64; the storage host may allow fewer (default 64)");

unsigned int vol_inline_max = 4096;
module_param_named(inline_max, vol_inline_max, uint, 0444);
MODULE_PARM_DESC(inline_max,
		 "Largest write sent inside its command instead of RDMA READ by the storage host, 0 = never (default 4096)");

static struct configfs_subsystem vol_cfs_subsys;

static inline struct vol_cfg *to_vol_cfg(struct config_item *item)
{
	return container_of(item, struct vol_cfg, item);
}

static ssize_t vol_cfg_host_show(struct config_item *item, char *page)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%s\n", cfg->host);
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vol_cfg_host_store(struct config_item *item, const char *page,
				  size_t count)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	char buf[VOL_HOST_LEN];
	struct sockaddr_storage ss;

	if (vnode_cfs_get_str(page, count, buf, sizeof(buf)) ||
	    vnode_xprt_parse_addr(buf, VNODE_STOR_PORT, &ss))
		return -EINVAL;
	return vnode_cfs_store_disabled(&cfg->lock, cfg->dev, count, ({
		strscpy(cfg->host, buf, sizeof(cfg->host));
		cfg->addr = ss;
	}));
}

static ssize_t vol_cfg_volume_show(struct config_item *item, char *page)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%s\n", cfg->volume);
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vol_cfg_volume_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	char buf[VNODE_STOR_NAME_LEN];

	if (vnode_cfs_get_str(page, count, buf, sizeof(buf)) ||
	    strchr(buf, '/'))
		return -EINVAL;
	return vnode_cfs_store_disabled(&cfg->lock, cfg->dev, count,
					strscpy(cfg->volume, buf,
						sizeof(cfg->volume)));
}

static ssize_t vol_cfg_loss_timeout_ms_show(struct config_item *item,
					    char *page)
{
	return sprintf(page, "%u\n",
		       READ_ONCE(to_vol_cfg(item)->loss_timeout_ms));
}

static ssize_t vol_cfg_loss_timeout_ms_store(struct config_item *item,
					     const char *page, size_t count)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	unsigned int ms;
	int ret;

	ret = kstrtouint(page, 10, &ms);
	if (ret || !ms || ms > 3600 * 1000)
		return -EINVAL;
	return vnode_cfs_store_disabled(&cfg->lock, cfg->dev, count,
					WRITE_ONCE(cfg->loss_timeout_ms, ms));
}

static ssize_t vol_cfg_enable_show(struct config_item *item, char *page)
{
	return sprintf(page, "%d\n", !!READ_ONCE(to_vol_cfg(item)->dev));
}

static ssize_t vol_cfg_enable_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	struct vol_dev *dev;
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	mutex_lock(&cfg->lock);
	if (on == !!cfg->dev)
		goto out;
	if (on) {
		if (!cfg->host[0] || !cfg->volume[0]) {
			vnode_log(err, config_item_name(&cfg->item),
				  "set host and volume before enable\n");
			ret = -EINVAL;
			goto out;
		}
		/* While enabled, rmdir of this item fails with -EBUSY. */
		ret = configfs_depend_item_unlocked(&vol_cfs_subsys,
						    &cfg->item);
		if (ret)
			goto out;
		ret = vol_dev_create(cfg, &dev);
		if (ret) {
			configfs_undepend_item(&cfg->item);
			goto out;
		}
		WRITE_ONCE(cfg->dev, dev);
	} else {
		ret = vol_dev_destroy(cfg->dev);
		if (ret)
			goto out;
		WRITE_ONCE(cfg->dev, NULL);
		configfs_undepend_item(&cfg->item);
	}
out:
	mutex_unlock(&cfg->lock);
	return ret ? ret : count;
}

static ssize_t vol_cfg_dev_show(struct config_item *item, char *page)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%s\n", cfg->dev ? cfg->dev->name : "");
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vol_cfg_state_show(struct config_item *item, char *page)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	if (cfg->dev)
		ret = vol_dev_state(cfg->dev, page);
	else
		ret = sprintf(page, "disabled\n");
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vol_cfg_size_show(struct config_item *item, char *page)
{
	struct vol_cfg *cfg = to_vol_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sprintf(page, "%llu\n", cfg->dev ? cfg->dev->exp.size : 0);
	mutex_unlock(&cfg->lock);
	return ret;
}

CONFIGFS_ATTR(vol_cfg_, host);
CONFIGFS_ATTR(vol_cfg_, volume);
CONFIGFS_ATTR(vol_cfg_, loss_timeout_ms);
CONFIGFS_ATTR(vol_cfg_, enable);
CONFIGFS_ATTR_RO(vol_cfg_, dev);
CONFIGFS_ATTR_RO(vol_cfg_, state);
CONFIGFS_ATTR_RO(vol_cfg_, size);

static struct configfs_attribute *vol_cfg_attrs[] = {
	&vol_cfg_attr_host,
	&vol_cfg_attr_volume,
	&vol_cfg_attr_loss_timeout_ms,
	&vol_cfg_attr_enable,
	&vol_cfg_attr_dev,
	&vol_cfg_attr_state,
	&vol_cfg_attr_size,
	NULL,
};

static void vol_cfg_release(struct config_item *item)
{
	struct vol_cfg *cfg = to_vol_cfg(item);

	/* enable=1 pins the item (configfs_depend_item), so no disk here. */
	WARN_ON(cfg->dev);
	kfree(cfg);
}

static struct configfs_item_operations vol_cfg_item_ops = {
	.release	= vol_cfg_release,
};

static const struct config_item_type vol_cfg_type = {
	.ct_item_ops	= &vol_cfg_item_ops,
	.ct_attrs	= vol_cfg_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_item *vol_cfg_make(struct config_group *group,
					const char *name)
{
	struct vol_cfg *cfg;

	cfg = vnode_fault(kzalloc(sizeof(*cfg), GFP_KERNEL));
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	mutex_init(&cfg->lock);
	cfg->loss_timeout_ms = vol_loss_timeout_ms;
	config_item_init_type_name(&cfg->item, name, &vol_cfg_type);
	return &cfg->item;
}

static struct configfs_group_operations vol_root_group_ops = {
	.make_item	= vol_cfg_make,
};

static const struct config_item_type vol_root_type = {
	.ct_group_ops	= &vol_root_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem vol_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "vnode_vol",
			.ci_type	= &vol_root_type,
		},
	},
};

static int __init vol_mod_init(void)
{
	int ret;

	if (!vol_loss_timeout_ms || !vol_connect_timeout_ms ||
	    !vol_rpc_timeout_ms) {
		pr_err("timeouts must be > 0\n");
		return -EINVAL;
	}
	if (vol_nr_queues > 16) {
		pr_err("nr_queues must be 0..16\n");
		return -EINVAL;
	}
	if (!vol_queue_depth || vol_queue_depth > VOL_MAX_DEPTH) {
		pr_err("queue_depth must be 1..%d\n", VOL_MAX_DEPTH);
		return -EINVAL;
	}
	ret = vol_init();
	if (ret)
		return ret;
	/* The volume's name, like its sysfs copy, is for root only. */
	vol_cfg_attr_volume.ca_mode = 0600;
	config_group_init(&vol_cfs_subsys.su_group);
	mutex_init(&vol_cfs_subsys.su_mutex);
	ret = configfs_register_subsystem(&vol_cfs_subsys);
	if (ret) {
		pr_err("cannot register configfs subsystem: %d\n", ret);
		goto out_vol_exit;
	}
	return 0;

out_vol_exit:
	vol_exit();
	return ret;
}

static void __exit vol_mod_exit(void)
{
	configfs_unregister_subsystem(&vol_cfs_subsys);
	vol_exit();
}

module_init(vol_mod_init);
module_exit(vol_mod_exit);

MODULE_DESCRIPTION("vnode process host: remote volumes as block devices");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
