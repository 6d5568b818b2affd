// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/vnode_mem/{capacity,used,slab_size,nr_clients,server_id}
 * and /sys/kernel/vnode_mem/clients/<identity>-<n>/{client_id,peer,name,
 * slabs,bytes,quota}: a client's directory is named by its identity and
 * a sequence number, not by its client_id, which only root reads.
 */
#include "mem.h"

#include <linux/slab.h>
#include <linux/sysfs.h>

static ssize_t capacity_show(struct kobject *kobj, struct kobj_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n", memh.capacity);
}

static ssize_t used_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	u64 v;

	mutex_lock(&memh.lock);
	v = memh.used;
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t slab_size_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%llu\n", memh.slab_size);
}

static ssize_t nr_clients_show(struct kobject *kobj, struct kobj_attribute *a,
			       char *buf)
{
	unsigned int v;

	mutex_lock(&memh.lock);
	v = memh.nr_clients;
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t server_id_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%016llx\n", memh.server_id);
}

static struct kobj_attribute memh_attr_capacity = __ATTR_RO(capacity);
static struct kobj_attribute memh_attr_used = __ATTR_RO(used);
static struct kobj_attribute memh_attr_slab_size = __ATTR_RO(slab_size);
static struct kobj_attribute memh_attr_nr_clients = __ATTR_RO(nr_clients);
static struct kobj_attribute memh_attr_server_id = __ATTR_RO(server_id);

static struct attribute *memh_attrs[] = {
	&memh_attr_capacity.attr,
	&memh_attr_used.attr,
	&memh_attr_slab_size.attr,
	&memh_attr_nr_clients.attr,
	&memh_attr_server_id.attr,
	NULL,
};

static const struct attribute_group memh_group = {
	.attrs = memh_attrs,
};

/* Per-client directory. */

static struct memh_client *to_client(struct kobject *kobj)
{
	return container_of(kobj, struct memh_client, kobj);
}

static ssize_t peer_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", to_client(kobj)->peer_addr);
}

static ssize_t client_id_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%016llx\n", to_client(kobj)->client_id);
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

	mutex_lock(&memh.lock);
	v = to_client(kobj)->nr_slabs;
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t bytes_show(struct kobject *kobj, struct kobj_attribute *a,
			  char *buf)
{
	u64 v;

	mutex_lock(&memh.lock);
	v = to_client(kobj)->bytes;
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t quota_show(struct kobject *kobj, struct kobj_attribute *a,
			  char *buf)
{
	u64 quota, limit;

	mutex_lock(&memh.lock);
	quota = to_client(kobj)->quota;
	limit = memh_client_limit(to_client(kobj));
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%llu%s\n", limit, quota ? "" : " (default share)");
}

/* Root sets a client's quota in bytes (a size); 0 = the default share. */
static ssize_t quota_store(struct kobject *kobj, struct kobj_attribute *a,
			   const char *buf, size_t count)
{
	char str[32];
	u64 v;
	int ret;

	ret = vnode_cfs_get_str(buf, count, str, sizeof(str));
	if (ret)
		return ret;
	ret = vnode_parse_size(str, &v);
	if (ret || v > memh.capacity) {
		pr_err("quota '%s': a size up to the capacity (%llu), 0 for the default share\n",
		       str, memh.capacity);
		return -EINVAL;
	}
	mutex_lock(&memh.lock);
	to_client(kobj)->quota = v;
	mutex_unlock(&memh.lock);
	return count;
}

static struct kobj_attribute client_attr_client_id = __ATTR_RO_MODE(client_id,
								     0400);
static struct kobj_attribute client_attr_peer = __ATTR_RO(peer);
static struct kobj_attribute client_attr_quota = __ATTR_RW(quota);
static struct kobj_attribute client_attr_name = __ATTR_RO(name);
static struct kobj_attribute client_attr_slabs = __ATTR_RO(slabs);
static struct kobj_attribute client_attr_bytes = __ATTR_RO(bytes);

static struct attribute *memh_client_attrs[] = {
	&client_attr_client_id.attr,
	&client_attr_peer.attr,
	&client_attr_name.attr,
	&client_attr_slabs.attr,
	&client_attr_bytes.attr,
	&client_attr_quota.attr,
	NULL,
};
ATTRIBUTE_GROUPS(memh_client);

static void memh_client_release(struct kobject *kobj)
{
	xa_destroy(&to_client(kobj)->by_index);
	kfree(to_client(kobj));
}

static const struct kobj_type memh_client_ktype = {
	.release	= memh_client_release,
	.sysfs_ops	= &kobj_sysfs_ops,
	.default_groups	= memh_client_groups,
};

/* On failure the client is freed (through the kobject release). */
int memh_client_sysfs_add(struct memh_client *c)
{
	int ret;

	ret = kobject_init_and_add(&c->kobj, &memh_client_ktype,
				   memh.clients_kobj, "%s-%u", c->name,
				   atomic_inc_return(&memh.client_seq));
	if (ret) {
		kobject_put(&c->kobj);
		return ret;
	}
	kobject_uevent(&c->kobj, KOBJ_ADD);
	return 0;
}

/* Removes the directory and drops the last reference (frees @c). */
void memh_client_sysfs_del(struct memh_client *c)
{
	kobject_del(&c->kobj);
	kobject_put(&c->kobj);
}

int memh_sysfs_init(void)
{
	int ret;

	memh.kobj = kobject_create_and_add("vnode_mem", kernel_kobj);
	if (!memh.kobj)
		return -ENOMEM;
	ret = sysfs_create_group(memh.kobj, &memh_group);
	if (ret)
		goto out_put;
	memh.clients_kobj = kobject_create_and_add("clients", memh.kobj);
	if (!memh.clients_kobj) {
		ret = -ENOMEM;
		goto out_remove_group;
	}
	return 0;

out_remove_group:
	sysfs_remove_group(memh.kobj, &memh_group);
out_put:
	kobject_put(memh.kobj);
	memh.kobj = NULL;
	return ret;
}

void memh_sysfs_exit(void)
{
	kobject_put(memh.clients_kobj);
	sysfs_remove_group(memh.kobj, &memh_group);
	kobject_put(memh.kobj);
}
