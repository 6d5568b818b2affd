// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/vnode_mem/{capacity,used,slab_size,nr_clients,server_id,
 * leased,committed,leases}
 * and /sys/kernel/vnode_mem/clients/<identity>-<n>/{client_id,peer,name,
 * slabs,bytes,quota}: a client's directory is named by its identity and
 * a sequence number, not by its client_id, which only root reads.
 */
#include "mem.h"

#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

static ssize_t capacity_show(struct kobject *kobj, struct kobj_attribute *a,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n", memh.capacity);
}

/* A figure read under memh.lock. */
static ssize_t memh_emit_locked(char *buf, u64 (*get)(void))
{
	u64 v;

	mutex_lock(&memh.lock);
	v = get();
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static u64 memh_get_used(void)
{
	return memh.used;
}

static u64 memh_get_leased(void)
{
	return memh.leased;
}

static ssize_t used_show(struct kobject *kobj, struct kobj_attribute *a,
			 char *buf)
{
	return memh_emit_locked(buf, memh_get_used);
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

static ssize_t leased_show(struct kobject *kobj, struct kobj_attribute *a,
			   char *buf)
{
	return memh_emit_locked(buf, memh_get_leased);
}

static ssize_t committed_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return memh_emit_locked(buf, memh_committed);
}

/* Identities and lease ids: root only. */
static ssize_t leases_show(struct kobject *kobj, struct kobj_attribute *a,
			   char *buf)
{
	return memh_leases_show(buf);
}

static ssize_t server_id_show(struct kobject *kobj, struct kobj_attribute *a,
			      char *buf)
{
	return sysfs_emit(buf, "%016llx\n", memh.server_id);
}

#ifdef VNODE_TEST_HOOKS
/*
 * Testing only (VNODE_TEST_HOOKS builds): /sys/kernel/vnode_mem/tamper
 * plays a hostile or faulty memory host against its clients' pages, so that
 * tests/lab/protect can show what each protection profile catches.  Root
 * writes one of:
 *   flip      flip one byte (offset 256) of every page holding data
 *   snapshot  keep a copy of every page holding data (at most
 *             MEMH_TAMPER_MAX pages), forgetting an older snapshot
 *   replay    write the snapshot back where it was taken (the same client,
 *             slab index and page, whichever slab holds that index now)
 *             over every page that changed since: old versions replayed
 *   forget    drop the snapshot
 * Reading it tells how many pages the last command touched.
 */
#define MEMH_TAMPER_MAX		8192
#define MEMH_TAMPER_OFF		256

struct memh_saved {
	struct list_head	node;
	u64			client_id;
	u64			index;
	u32			page;
	struct page		*copy;
};

static LIST_HEAD(memh_saved);
static unsigned int memh_tampered;

static void memh_tamper_forget(void)
{
	struct memh_saved *sv, *tmp;

	list_for_each_entry_safe(sv, tmp, &memh_saved, node) {
		list_del(&sv->node);
		__free_page(sv->copy);
		kfree(sv);
	}
}

/* Call @fn on every page holding data.  memh.lock held. */
static int memh_tamper_each(int (*fn)(struct memh_slab *, unsigned int,
				      void *))
{
	struct memh_client *c;
	struct memh_slab *slab;
	unsigned int i;
	int ret;

	list_for_each_entry(c, &memh.clients, entry)
		list_for_each_entry(slab, &c->slabs, entry)
			for (i = 0; i < slab->nr_pages; i++) {
				void *p = kmap_local_page(slab->pages[i]);
				bool data = memchr_inv(p, 0, PAGE_SIZE);

				ret = data ? fn(slab, i, p) : 0;
				kunmap_local(p);
				if (ret)
					return ret;
			}
	return 0;
}

static int memh_tamper_flip(struct memh_slab *slab, unsigned int i, void *p)
{
	((u8 *)p)[MEMH_TAMPER_OFF] ^= 0xff;
	memh_tampered++;
	return 0;
}

static int memh_tamper_save(struct memh_slab *slab, unsigned int i, void *p)
{
	struct memh_saved *sv;

	if (memh_tampered == MEMH_TAMPER_MAX)
		return 0;
	sv = kmalloc(sizeof(*sv), GFP_KERNEL);
	if (!sv)
		return -ENOMEM;
	sv->copy = alloc_page(GFP_KERNEL);
	if (!sv->copy) {
		kfree(sv);
		return -ENOMEM;
	}
	memcpy_to_page(sv->copy, 0, p, PAGE_SIZE);
	sv->client_id = slab->owner->client_id;
	sv->index = slab->index;
	sv->page = i;
	list_add_tail(&sv->node, &memh_saved);
	memh_tampered++;
	return 0;
}

/* Put @sv back where it was taken, if that page changed.  memh.lock held. */
static void memh_tamper_replay(struct memh_saved *sv)
{
	struct memh_client *c;
	struct memh_slab *slab;
	void *now, *old;
	bool same;

	list_for_each_entry(c, &memh.clients, entry) {
		if (c->client_id != sv->client_id)
			continue;
		slab = xa_load(&c->by_index, sv->index);
		if (!slab)
			return;
		now = kmap_local_page(slab->pages[sv->page]);
		old = kmap_local_page(sv->copy);
		same = !memcmp(now, old, PAGE_SIZE);
		if (!same) {
			memcpy(now, old, PAGE_SIZE);
			memh_tampered++;
		}
		kunmap_local(old);
		kunmap_local(now);
		return;
	}
}

static ssize_t tamper_show(struct kobject *kobj, struct kobj_attribute *a,
			   char *buf)
{
	unsigned int v;

	mutex_lock(&memh.lock);
	v = memh_tampered;
	mutex_unlock(&memh.lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t tamper_store(struct kobject *kobj, struct kobj_attribute *a,
			    const char *buf, size_t count)
{
	struct memh_saved *sv;
	int ret = 0;

	mutex_lock(&memh.lock);
	memh_tampered = 0;
	if (sysfs_streq(buf, "flip")) {
		ret = memh_tamper_each(memh_tamper_flip);
	} else if (sysfs_streq(buf, "snapshot")) {
		memh_tamper_forget();
		ret = memh_tamper_each(memh_tamper_save);
	} else if (sysfs_streq(buf, "replay")) {
		list_for_each_entry(sv, &memh_saved, node)
			memh_tamper_replay(sv);
	} else if (sysfs_streq(buf, "forget")) {
		memh_tamper_forget();
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&memh.lock);
	if (ret == -EINVAL)
		pr_err("tamper: '%.*s' is not flip, snapshot, replay or forget\n",
		       (int)min_t(size_t, strcspn(buf, "\n"), 16), buf);
	pr_warn("tamper (testing only): %s: %u pages\n",
		ret ? "failed" : "done", memh_tampered);
	return ret ? ret : count;
}

static struct kobj_attribute memh_attr_tamper = __ATTR_RW_MODE(tamper, 0600);

/*
 * Testing only: /sys/kernel/vnode_mem/dump reads every page this host holds
 * for its clients, slab after slab, as the wire left them (what a hostile
 * memory host sees).  Page N of the file is the Nth page of the walk.
 */
static ssize_t dump_read(struct file *f, struct kobject *kobj,
			 struct bin_attribute *attr, char *buf, loff_t pos,
			 size_t count)
{
	u64 want = pos >> PAGE_SHIFT, n = 0;
	struct memh_client *c;
	struct memh_slab *slab;
	ssize_t ret = 0;

	count = min_t(size_t, count, PAGE_SIZE - offset_in_page(pos));
	mutex_lock(&memh.lock);
	list_for_each_entry(c, &memh.clients, entry)
		list_for_each_entry(slab, &c->slabs, entry) {
			if (want >= n + slab->nr_pages) {
				n += slab->nr_pages;
				continue;
			}
			memcpy_from_page(buf, slab->pages[want - n],
					 offset_in_page(pos), count);
			ret = count;
			goto out;
		}
out:
	mutex_unlock(&memh.lock);
	return ret;
}

static BIN_ATTR_ADMIN_RO(dump, 0);
#endif

static struct kobj_attribute memh_attr_capacity = __ATTR_RO(capacity);
static struct kobj_attribute memh_attr_used = __ATTR_RO(used);
static struct kobj_attribute memh_attr_slab_size = __ATTR_RO(slab_size);
static struct kobj_attribute memh_attr_nr_clients = __ATTR_RO(nr_clients);
static struct kobj_attribute memh_attr_server_id = __ATTR_RO(server_id);
static struct kobj_attribute memh_attr_leased = __ATTR_RO(leased);
static struct kobj_attribute memh_attr_committed = __ATTR_RO(committed);
static struct kobj_attribute memh_attr_leases = __ATTR_RO_MODE(leases, 0400);

static struct attribute *memh_attrs[] = {
	&memh_attr_capacity.attr,
	&memh_attr_used.attr,
	&memh_attr_slab_size.attr,
	&memh_attr_nr_clients.attr,
	&memh_attr_server_id.attr,
	&memh_attr_leased.attr,
	&memh_attr_committed.attr,
	&memh_attr_leases.attr,
#ifdef VNODE_TEST_HOOKS
	&memh_attr_tamper.attr,
#endif
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
#ifdef VNODE_TEST_HOOKS
	ret = sysfs_create_bin_file(memh.kobj, &bin_attr_dump);
	if (ret)
		goto out_remove_group;
#endif
	memh.clients_kobj = kobject_create_and_add("clients", memh.kobj);
	if (!memh.clients_kobj) {
		ret = -ENOMEM;
		goto out_remove_dump;
	}
	return 0;

out_remove_dump:
#ifdef VNODE_TEST_HOOKS
	sysfs_remove_bin_file(memh.kobj, &bin_attr_dump);
out_remove_group:
#endif
	sysfs_remove_group(memh.kobj, &memh_group);
out_put:
	kobject_put(memh.kobj);
	memh.kobj = NULL;
	return ret;
}

void memh_sysfs_exit(void)
{
#ifdef VNODE_TEST_HOOKS
	memh_tamper_forget();
	sysfs_remove_bin_file(memh.kobj, &bin_attr_dump);
#endif
	kobject_put(memh.clients_kobj);
	sysfs_remove_group(memh.kobj, &memh_group);
	kobject_put(memh.kobj);
}
