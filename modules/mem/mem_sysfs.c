// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/vnode_mem/{capacity,used,slab_size,nr_clients,server_id}
 * and /sys/kernel/vnode_mem/clients/<client_id>/{peer,name,slabs,bytes}.
 */
#include "mem.h"

#include <linux/slab.h>
#include <linux/sysfs.h>

static ssize_t capacity_show(struct kobject *kobj, struct kobj_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n", vmem.capacity);
}

static ssize_t used_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	u64 v;

	mutex_lock(&vmem.lock);
	v = vmem.used;
	mutex_unlock(&vmem.lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t slab_size_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%llu\n", vmem.slab_size);
}

static ssize_t nr_clients_show(struct kobject *kobj, struct kobj_attribute *a,
			       char *buf)
{
	unsigned int v;

	mutex_lock(&vmem.lock);
	v = vmem.nr_clients;
	mutex_unlock(&vmem.lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t server_id_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%016llx\n", vmem.server_id);
}

static struct kobj_attribute vmem_attr_capacity = __ATTR_RO(capacity);
static struct kobj_attribute vmem_attr_used = __ATTR_RO(used);
static struct kobj_attribute vmem_attr_slab_size = __ATTR_RO(slab_size);
static struct kobj_attribute vmem_attr_nr_clients = __ATTR_RO(nr_clients);
static struct kobj_attribute vmem_attr_server_id = __ATTR_RO(server_id);

static struct attribute *vmem_attrs[] = {
	&vmem_attr_capacity.attr,
	&vmem_attr_used.attr,
	&vmem_attr_slab_size.attr,
	&vmem_attr_nr_clients.attr,
	&vmem_attr_server_id.attr,
	NULL,
};

static const struct attribute_group vmem_group = {
	.attrs = vmem_attrs,
};

/* Per-client directory. */

static struct vmem_client *to_client(struct kobject *kobj)
{
	return container_of(kobj, struct vmem_client, kobj);
}

static ssize_t peer_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_client(kobj)->peer_addr);
}

static ssize_t name_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_client(kobj)->name);
}

static ssize_t slabs_show(struct kobject *kobj, struct kobj_attribute *a,
			  char *buf)
{
	u32 v;

	mutex_lock(&vmem.lock);
	v = to_client(kobj)->nr_slabs;
	mutex_unlock(&vmem.lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t bytes_show(struct kobject *kobj, struct kobj_attribute *a,
			  char *buf)
{
	u64 v;

	mutex_lock(&vmem.lock);
	v = to_client(kobj)->bytes;
	mutex_unlock(&vmem.lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static struct kobj_attribute client_attr_peer = __ATTR_RO(peer);
static struct kobj_attribute client_attr_name = __ATTR_RO(name);
static struct kobj_attribute client_attr_slabs = __ATTR_RO(slabs);
static struct kobj_attribute client_attr_bytes = __ATTR_RO(bytes);

static struct attribute *vmem_client_attrs[] = {
	&client_attr_peer.attr,
	&client_attr_name.attr,
	&client_attr_slabs.attr,
	&client_attr_bytes.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vmem_client);

static void vmem_client_release(struct kobject *kobj)
{
	kfree(to_client(kobj));
}

static const struct kobj_type vmem_client_ktype = {
	.release	= vmem_client_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= vmem_client_groups,
};

/* On failure the client is freed (through the kobject release). */
int vmem_client_sysfs_add(struct vmem_client *c)
{
	int ret;

	ret = kobject_init_and_add(&c->kobj, &vmem_client_ktype,
				   vmem.clients_kobj, "%016llx", c->client_id);
	if (ret) {
		kobject_put(&c->kobj);
		return ret;
	}
	kobject_uevent(&c->kobj, KOBJ_ADD);
	return 0;
}

/* Removes the directory and drops the last reference (frees @c). */
void vmem_client_sysfs_del(struct vmem_client *c)
{
	kobject_del(&c->kobj);
	kobject_put(&c->kobj);
}

int vmem_sysfs_init(void)
{
	int ret;

	vmem.kobj = kobject_create_and_add("vnode_mem", kernel_kobj);
	if (!vmem.kobj)
		return -ENOMEM;
	ret = sysfs_create_group(vmem.kobj, &vmem_group);
	if (ret)
		goto out_put;
	vmem.clients_kobj = kobject_create_and_add("clients", vmem.kobj);
	if (!vmem.clients_kobj) {
		ret = -ENOMEM;
		goto out_remove_group;
	}
	return 0;

out_remove_group:
	sysfs_remove_group(vmem.kobj, &vmem_group);
out_put:
	kobject_put(vmem.kobj);
	vmem.kobj = NULL;
	return ret;
}

void vmem_sysfs_exit(void)
{
	kobject_put(vmem.clients_kobj);
	sysfs_remove_group(vmem.kobj, &vmem_group);
	kobject_put(vmem.kobj);
}
