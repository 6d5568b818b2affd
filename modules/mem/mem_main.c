// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_mem: the memory host.  Listens with vnode_xprt, hands out zeroed
 * slabs of RAM registered for one client each, frees them on FREE_SLAB,
 * GOODBYE, or when the client is gone for good.
 */
#include "mem.h"

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <vnode/version.h>

static char *addr = "0.0.0.0";
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "IPv4/IPv6 address to listen on, optionally with :port (default 0.0.0.0)");

static ushort port = VNODE_MEM_PORT;
module_param(port, ushort, 0444);
MODULE_PARM_DESC(port, "TCP-style rdma_cm port to listen on (default 7470)");

static char *capacity = "256M";
module_param(capacity, charp, 0444);
MODULE_PARM_DESC(capacity, "Bytes of RAM to export, K/M/G/T suffixes accepted, rounded down to whole slabs (default 256M)");

static uint slab_shift = 20;
module_param(slab_shift, uint, 0444);
MODULE_PARM_DESC(slab_shift, "log2 of the slab size, PAGE_SHIFT..21 (default 20 = 1 MiB)");

static uint orphan_timeout_ms = 10000;
module_param(orphan_timeout_ms, uint, 0444);
MODULE_PARM_DESC(orphan_timeout_ms, "Keep the slabs of a client lost without GOODBYE this long so it can reconnect to them (default 10000)");

static int memh_share_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret || v < 1 || v > 100) {
		pr_err("client_share='%.*s': a percentage, 1..100\n",
		       (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	return param_set_uint(val, kp);
}

static const struct kernel_param_ops memh_share_ops = {
	.set	= memh_share_set,
	.get	= param_get_uint,
};

unsigned int memh_client_share = 100;
module_param_cb(client_share, &memh_share_ops, &memh_client_share, 0644);
MODULE_PARM_DESC(client_share, "Percent of the capacity one client may hold, unless its clients/<id>/quota says otherwise; 1..100, changeable at run time (default 100)");

struct memh memh;

u64 memh_share_limit(void)
{
	u64 share = div_u64(memh.capacity * READ_ONCE(memh_client_share), 100);

	/* At least one slab, so that a small share still works. */
	return max(share, memh.slab_size);
}

u64 memh_client_limit(const struct memh_client *c)
{
	return c->quota ?: memh_share_limit();
}

/* ------------------------------------------------------------------ */
/* Slabs                                                               */
/* ------------------------------------------------------------------ */

static void memh_slab_free_pages(struct memh_slab *slab)
{
	unsigned int i;

	sg_free_table(&slab->sgt);
	for (i = 0; i < slab->nr_pages; i++)
		if (slab->pages[i])
			__free_page(slab->pages[i]);
	kvfree(slab->pages);
	kfree(slab);
}

/* Deregister and free a slab that is already unlinked. */
static void memh_slab_destroy(struct memh_client *c, struct memh_slab *slab)
{
	vnode_xprt_peer_dereg_mr(c->peer, slab->mr, slab->sgt.sgl,
				 slab->sgt.orig_nents);
	memh_slab_free_pages(slab);
}

static struct memh_slab *memh_slab_create(struct memh_client *c, u64 index)
{
	struct memh_slab *slab;
	unsigned int i, n = memh.slab_size >> PAGE_SHIFT;
	int ret;

	slab = vnode_fault(kzalloc(sizeof(*slab), GFP_KERNEL));
	if (!slab)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&slab->entry);
	slab->owner = c;
	slab->index = index;
	slab->pages = vnode_fault(kvcalloc(n, sizeof(*slab->pages), GFP_KERNEL));
	if (!slab->pages) {
		kfree(slab);
		return ERR_PTR(-ENOMEM);
	}
	slab->nr_pages = n;
	for (i = 0; i < n; i++) {
		/* Zeroed: a client never sees another client's data. */
		slab->pages[i] = vnode_fault(alloc_page(GFP_KERNEL |
							__GFP_ZERO |
							__GFP_NOWARN));
		if (!slab->pages[i]) {
			ret = -ENOMEM;
			goto out_free;
		}
	}
	ret = sg_alloc_table_from_pages(&slab->sgt, slab->pages, n, 0,
					memh.slab_size, GFP_KERNEL);
	if (ret)
		goto out_free;

	slab->mr = vnode_xprt_peer_reg_mr(c->peer, slab->sgt.sgl,
					  slab->sgt.orig_nents);
	if (IS_ERR(slab->mr)) {
		ret = PTR_ERR(slab->mr);
		slab->mr = NULL;
		goto out_free;
	}
	return slab;

out_free:
	memh_slab_free_pages(slab);
	return ERR_PTR(ret);
}

static void memh_update_usage(void)
{
	u64 used;

	mutex_lock(&memh.lock);
	used = memh.used;
	mutex_unlock(&memh.lock);
	vnode_xprt_srv_set_usage(memh.srv, memh.capacity, used);
}

/* Unlink and free every slab of @c. */
static unsigned int memh_free_all(struct memh_client *c)
{
	struct memh_slab *slab, *tmp;
	unsigned int n = 0;
	LIST_HEAD(list);

	mutex_lock(&memh.lock);
	list_for_each_entry_safe(slab, tmp, &c->slabs, entry) {
		xa_erase(&memh.slabs, slab->handle);
		xa_erase(&c->by_index, slab->index);
		list_move(&slab->entry, &list);
		memh.used -= memh.slab_size;
		n++;
	}
	c->nr_slabs = 0;
	c->bytes = 0;
	mutex_unlock(&memh.lock);

	list_for_each_entry_safe(slab, tmp, &list, entry) {
		list_del(&slab->entry);
		memh_slab_destroy(c, slab);
	}
	if (n)
		memh_update_usage();
	return n;
}

/* Unlink @slab from @c and the server.  memh.lock held. */
static void memh_slab_unlink(struct memh_client *c, struct memh_slab *slab)
{
	xa_erase(&memh.slabs, slab->handle);
	xa_cmpxchg(&c->by_index, slab->index, slab, NULL, 0);
	list_del(&slab->entry);
	c->nr_slabs--;
	c->bytes -= memh.slab_size;
	memh.used -= memh.slab_size;
}

/*
 * A client asks again for an index it already holds only when it has lost
 * track of the first slab: its ALLOC_SLAB timed out after we had answered,
 * or its FREE_SLAB could not be sent.  The new slab replaces the old one,
 * which would otherwise stay allocated until the client goes away.
 */
static u16 memh_alloc_slab(struct memh_client *c,
			   const struct vnode_alloc_req *req,
			   struct vnode_alloc_rsp *rsp)
{
	struct memh_slab *slab, *old;
	u64 index = le64_to_cpu(req->slab_index);
	u64 limit;
	u32 handle;
	int ret;

	if (index > ULONG_MAX)
		return VNODE_ST_INVALID;
	mutex_lock(&memh.lock);
	old = xa_load(&c->by_index, index);
	if (old) {
		memh_slab_unlink(c, old);
		mutex_unlock(&memh.lock);
		pr_info_ratelimited("<%s@%s> slab %llu allocated again: replacing handle %u\n",
				    c->name, c->peer_addr, index, old->handle);
		memh_slab_destroy(c, old);
		mutex_lock(&memh.lock);
	}
	if (!memh_room_for(c->name, memh.slab_size)) {
		mutex_unlock(&memh.lock);
		pr_info_ratelimited("<%s@%s> slab %llu refused: server full (%llu of %llu bytes used, %llu reserved)\n",
				    c->name, c->peer_addr, index, memh.used,
				    memh.capacity, memh.leased);
		return VNODE_ST_FULL;
	}
	limit = memh_client_limit(c);
	if (c->bytes + memh.slab_size > limit) {
		mutex_unlock(&memh.lock);
		pr_info_ratelimited("<%s@%s> slab %llu refused: client quota reached (%llu of %llu bytes)\n",
				    c->name, c->peer_addr, index, c->bytes,
				    limit);
		return VNODE_ST_FULL;
	}
	/* Reserve now, allocate without the lock. */
	memh.used += memh.slab_size;
	c->pending += memh.slab_size;
	mutex_unlock(&memh.lock);

	slab = memh_slab_create(c, index);
	mutex_lock(&memh.lock);
	c->pending -= memh.slab_size;
	mutex_unlock(&memh.lock);
	if (IS_ERR(slab)) {
		pr_warn("<%s@%s> slab %llu: allocation/registration failed: %ld\n",
			c->name, c->peer_addr, index, PTR_ERR(slab));
		mutex_lock(&memh.lock);
		memh.used -= memh.slab_size;
		mutex_unlock(&memh.lock);
		return PTR_ERR(slab) == -ENOMEM ? VNODE_ST_NOMEM : VNODE_ST_IO;
	}

	mutex_lock(&memh.lock);
	ret = xa_alloc_cyclic(&memh.slabs, &handle, slab, xa_limit_32b,
			      &memh.next_handle, GFP_KERNEL);
	if (ret < 0) {
		memh.used -= memh.slab_size;
		mutex_unlock(&memh.lock);
		memh_slab_destroy(c, slab);
		return VNODE_ST_NOMEM;
	}
	slab->handle = handle;
	old = xa_store(&c->by_index, index, slab, GFP_KERNEL);
	if (xa_is_err(old)) {
		xa_erase(&memh.slabs, handle);
		memh.used -= memh.slab_size;
		mutex_unlock(&memh.lock);
		memh_slab_destroy(c, slab);
		return VNODE_ST_NOMEM;
	}
	if (old) {
		/* Another request for this index raced with ours. */
		memh_slab_unlink(c, old);
		list_add_tail(&slab->entry, &c->slabs);
		c->nr_slabs++;
		c->bytes += memh.slab_size;
		mutex_unlock(&memh.lock);
		memh_slab_destroy(c, old);
		memh_update_usage();
		goto out;
	}
	list_add_tail(&slab->entry, &c->slabs);
	c->nr_slabs++;
	c->bytes += memh.slab_size;
	mutex_unlock(&memh.lock);
	memh_update_usage();
out:
	rsp->handle = cpu_to_le64(handle);
	rsp->addr = cpu_to_le64(slab->mr->iova);
	rsp->len = cpu_to_le64(slab->mr->length);
	rsp->rkey = cpu_to_le32(slab->mr->rkey);
	return VNODE_ST_OK;
}

static u16 memh_free_slab(struct memh_client *c,
			  const struct vnode_free_req *req)
{
	u64 handle = le64_to_cpu(req->handle);
	struct memh_slab *slab;

	if (handle > U32_MAX)
		return VNODE_ST_NOENT;
	mutex_lock(&memh.lock);
	slab = xa_load(&memh.slabs, handle);
	if (!slab) {
		mutex_unlock(&memh.lock);
		return VNODE_ST_NOENT;
	}
	if (slab->owner != c) {
		mutex_unlock(&memh.lock);
		pr_warn_ratelimited("<%s@%s> tried to free slab %llu of another client\n",
				    c->name, c->peer_addr, handle);
		return VNODE_ST_PERM;
	}
	memh_slab_unlink(c, slab);
	mutex_unlock(&memh.lock);

	memh_slab_destroy(c, slab);
	memh_update_usage();
	return VNODE_ST_OK;
}

static void memh_stats(struct memh_client *c, struct vnode_stats_rsp *rsp)
{
	mutex_lock(&memh.lock);
	rsp->capacity = cpu_to_le64(memh.capacity);
	rsp->used = cpu_to_le64(memh.used);
	rsp->client_used = cpu_to_le64(c->bytes);
	rsp->nr_clients = cpu_to_le32(memh.nr_clients);
	rsp->slab_shift = cpu_to_le16(memh.slab_shift);
	rsp->leased = cpu_to_le64(memh.leased);
	rsp->committed = cpu_to_le64(memh_committed());
	rsp->client_leased = cpu_to_le64(memh_ident_leased(c->name));
	mutex_unlock(&memh.lock);
}

/* ------------------------------------------------------------------ */
/* Transport callbacks                                                 */
/* ------------------------------------------------------------------ */

static int memh_accept(struct vnode_xprt_peer *peer,
		       const struct vnode_hello *hello, void **peer_priv)
{
	struct memh_client *c;
	bool full;

	if (hello->role != VNODE_ROLE_MEM && hello->role != VNODE_ROLE_PROBE) {
		pr_warn("<%s@%s> rejected: role %u is not served by a memory host\n",
			vnode_xprt_peer_name(peer), vnode_xprt_peer_addr(peer),
			hello->role);
		return VNODE_ST_INVALID;
	}
	/*
	 * Only a host with no free slab at all refuses a memory client: one
	 * whose free slabs are promised to others may still have room for
	 * it later (its identity's leases), and each slab is checked anyway.
	 */
	mutex_lock(&memh.lock);
	full = memh.used + memh.slab_size > memh.capacity;
	mutex_unlock(&memh.lock);
	if (full && hello->role == VNODE_ROLE_MEM) {
		pr_warn("<%s@%s> rejected: server full (%llu of %llu bytes used)\n",
			vnode_xprt_peer_name(peer), vnode_xprt_peer_addr(peer),
			memh.used, memh.capacity);
		return VNODE_ST_FULL;
	}

	c = vnode_fault(kzalloc(sizeof(*c), GFP_KERNEL));
	if (!c)
		return VNODE_ST_NOMEM;
	INIT_LIST_HEAD(&c->entry);
	INIT_LIST_HEAD(&c->slabs);
	xa_init(&c->by_index);
	c->peer = peer;
	c->client_id = vnode_xprt_peer_client_id(peer);
	c->role = hello->role;
	strscpy(c->name, vnode_xprt_peer_name(peer), sizeof(c->name));
	strscpy(c->peer_addr, vnode_xprt_peer_addr(peer), sizeof(c->peer_addr));
	if (memh_client_sysfs_add(c)) {
		pr_warn("<%s@%s> rejected: cannot create sysfs entry for client %016llx\n",
			vnode_xprt_peer_name(peer), vnode_xprt_peer_addr(peer),
			vnode_xprt_peer_client_id(peer));
		return VNODE_ST_NOMEM;
	}

	mutex_lock(&memh.lock);
	list_add_tail(&c->entry, &memh.clients);
	memh.nr_clients++;
	mutex_unlock(&memh.lock);
	*peer_priv = c;
	return VNODE_ST_OK;
}

static void memh_request(struct vnode_xprt_peer *peer, void *peer_priv,
			 const struct vnode_msg_hdr *req, size_t req_len,
			 struct vnode_msg_hdr *rsp, size_t *rsp_len)
{
	struct memh_client *c = peer_priv;
	u16 st;

	*rsp_len = sizeof(*rsp);
	switch (req->op) {
	case VNODE_OP_ALLOC_SLAB:
		if (c->role != VNODE_ROLE_MEM) {
			st = VNODE_ST_PERM;
			break;
		}
		if (req_len < sizeof(struct vnode_alloc_req)) {
			st = VNODE_ST_INVALID;
			break;
		}
		st = memh_alloc_slab(c, (const struct vnode_alloc_req *)req,
				     (struct vnode_alloc_rsp *)rsp);
		*rsp_len = sizeof(struct vnode_alloc_rsp);
		break;
	case VNODE_OP_FREE_SLAB:
		if (c->role != VNODE_ROLE_MEM) {
			st = VNODE_ST_PERM;
			break;
		}
		if (req_len < sizeof(struct vnode_free_req)) {
			st = VNODE_ST_INVALID;
			break;
		}
		st = memh_free_slab(c, (const struct vnode_free_req *)req);
		break;
	case VNODE_OP_STATS:
		memh_stats(c, (struct vnode_stats_rsp *)rsp);
		*rsp_len = vnode_xprt_peer_proto_minor(peer) >=
			   VNODE_LEASE_MIN_MINOR ?
			   sizeof(struct vnode_stats_rsp) :
			   VNODE_STATS_RSP_LEN_1_3;
		st = VNODE_ST_OK;
		break;
	case VNODE_OP_RESERVE:
	case VNODE_OP_RELEASE:
	case VNODE_OP_RENEW:
	case VNODE_OP_LEASES:
		st = memh_lease_request(c, req, req_len, rsp, rsp_len);
		break;
	case VNODE_OP_GOODBYE:
		pr_info("<%s@%s> client %016llx said goodbye, freed %u slab(s)\n",
			c->name, c->peer_addr, c->client_id, memh_free_all(c));
		st = VNODE_ST_OK;
		break;
	default:
		pr_warn_ratelimited("<%s@%s> unknown op %u\n", c->name,
				    c->peer_addr, req->op);
		st = VNODE_ST_INVALID;
		break;
	}
	rsp->status = cpu_to_le16(st);
}

static void memh_disconnect(struct vnode_xprt_peer *peer, void *peer_priv,
			    bool orderly)
{
	struct memh_client *c = peer_priv;
	unsigned int n;

	if (!c)
		return;
	n = memh_free_all(c);
	mutex_lock(&memh.lock);
	list_del(&c->entry);
	memh.nr_clients--;
	mutex_unlock(&memh.lock);
	if (orderly && !n)
		pr_info("<%s@%s> client %016llx disconnected\n", c->name,
			c->peer_addr, c->client_id);
	else
		pr_info("<%s@%s> client %016llx %s, freed %u slab(s)\n",
			c->name, c->peer_addr, c->client_id,
			orderly ? "disconnected" : "lost", n);
	memh_client_sysfs_del(c);
}

static const struct vnode_xprt_srv_ops memh_srv_ops = {
	.accept		= memh_accept,
	.request	= memh_request,
	.disconnect	= memh_disconnect,
};

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static int memh_check_params(struct vnode_xprt_cfg *cfg)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;
	unsigned int fr = vnode_xprt_max_fr_pages();
	u64 cap;

	if (slab_shift < PAGE_SHIFT || slab_shift > 21) {
		pr_err("slab_shift=%u: must be %u..21\n", slab_shift,
		       PAGE_SHIFT);
		return -EINVAL;
	}
	if (fr && (1U << (slab_shift - PAGE_SHIFT)) > fr) {
		pr_err("slab_shift=%u: a slab of %u pages exceeds the RDMA device's fast-reg limit of %u pages\n",
		       slab_shift, 1U << (slab_shift - PAGE_SHIFT), fr);
		return -EINVAL;
	}
	memh.slab_shift = slab_shift;
	memh.slab_size = 1ULL << slab_shift;

	if (!capacity || vnode_parse_size(capacity, &cap)) {
		pr_err("capacity='%s': not a size (e.g. 256M, 1G)\n",
		       capacity ?: "");
		return -EINVAL;
	}
	if (!cap) {
		pr_err("capacity=0: nothing to export\n");
		return -EINVAL;
	}
	if (cap > ram) {
		pr_err("capacity=%s (%llu bytes) exceeds this host's RAM (%llu bytes)\n",
		       capacity, cap, ram);
		return -EINVAL;
	}
	cap = round_down(cap, memh.slab_size);
	if (!cap) {
		pr_err("capacity=%s is smaller than one slab (%llu bytes)\n",
		       capacity, memh.slab_size);
		return -EINVAL;
	}
	memh.capacity = cap;

	if (!port) {
		pr_err("port=0: invalid\n");
		return -EINVAL;
	}
	if (!addr || vnode_xprt_parse_addr(addr, port, &cfg->addr)) {
		pr_err("addr='%s': not an IPv4/IPv6 address[:port]\n",
		       addr ?: "");
		return -EINVAL;
	}
	return 0;
}

static int __init memh_init(void)
{
	struct vnode_xprt_cfg cfg = {};
	struct vnode_accept acc = {};
	int ret;

	mutex_init(&memh.lock);
	INIT_LIST_HEAD(&memh.clients);
	memh_lease_init();
	xa_init_flags(&memh.slabs, XA_FLAGS_ALLOC1);

	ret = memh_check_params(&cfg);
	if (ret)
		return ret;
	memh.server_id = get_random_u64();

	ret = memh_sysfs_init();
	if (ret)
		return ret;

	cfg.name = "vnode_mem";
	cfg.loss_timeout_ms = orphan_timeout_ms ?: 1;
	acc.slab_shift = cpu_to_le16(memh.slab_shift);
	acc.server_id = cpu_to_le64(memh.server_id);
	acc.capacity = cpu_to_le64(memh.capacity);
	acc.used = 0;
	memh.srv = vnode_xprt_srv_listen(&cfg, &memh_srv_ops, NULL, &acc);
	if (IS_ERR(memh.srv)) {
		ret = PTR_ERR(memh.srv);
		pr_err("cannot listen on %s port %u: %d\n", addr, port, ret);
		goto out_sysfs_exit;
	}
	pr_info("exporting %llu bytes in %llu-byte slabs, server_id %016llx\n",
		memh.capacity, memh.slab_size, memh.server_id);
	return 0;

out_sysfs_exit:
	memh_sysfs_exit();
	return ret;
}

static void __exit memh_exit(void)
{
	/* Disconnects every client; their slabs are freed on the way. */
	vnode_xprt_srv_stop(memh.srv);
	memh_lease_exit();
	memh_sysfs_exit();
	if (memh.used || !xa_empty(&memh.slabs))
		pr_err("%llu bytes still allocated at unload (leaked)\n",
		       memh.used);
	xa_destroy(&memh.slabs);
	pr_info("unloaded\n");
}

module_init(memh_init);
module_exit(memh_exit);

MODULE_DESCRIPTION("vnode memory host: exports RAM over RDMA");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
