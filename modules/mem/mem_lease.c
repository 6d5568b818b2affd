// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_mem: reservations (protocol 1.4).  The memory host promises its
 * capacity to identities (process hosts), each holding leases it names
 * itself; see "Reservations (1.4)" in <vnode/proto.h>.
 *
 * What the host has promised is
 *	committed = sum over identities of max(leased, held)
 * where held is what the identity's memory clients hold (or are being
 * given), so that an identity's slabs count once whether or not it
 * reserved them.  committed never passes the capacity: a RESERVE that
 * would is refused, and a slab past its identity's leases only takes
 * capacity nobody was promised.  Leases not renewed for lease_ms end in
 * memh_lease_work(); the slabs they covered stay with their clients.
 */
#include "mem.h"

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

static int memh_lease_ms_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int ret = kstrtouint(val, 0, &v);

	if (ret || v < 1000 || v > 86400000) {
		pr_err("lease_ms='%.*s': milliseconds, 1000..86400000\n",
		       (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	return param_set_uint(val, kp);
}

static const struct kernel_param_ops memh_lease_ms_ops = {
	.set	= memh_lease_ms_set,
	.get	= param_get_uint,
};

static unsigned int lease_ms = 30000;
module_param_cb(lease_ms, &memh_lease_ms_ops, &lease_ms, 0644);
MODULE_PARM_DESC(lease_ms, "A reservation not renewed this long ends; 1000..86400000, changeable at run time (default 30000)");

/**
 * struct memh_lease - one lease of an identity
 * @entry: in owner->leases
 * @id: chosen by the identity
 * @bytes: reserved (whole slabs)
 */
struct memh_lease {
	struct list_head	entry;
	u64			id;
	u64			bytes;
};

static bool memh_ident_is(const char *name, const char *ident)
{
	return !strcmp(name, ident);
}

static struct memh_owner *memh_owner_find(const char *ident)
{
	struct memh_owner *o;

	lockdep_assert_held(&memh.lock);
	list_for_each_entry(o, &memh.owners, entry)
		if (memh_ident_is(o->ident, ident))
			return o;
	return NULL;
}

u64 memh_ident_leased(const char *ident)
{
	struct memh_owner *o = memh_owner_find(ident);

	return o ? o->leased : 0;
}

/* Bytes the memory clients named @ident hold or are being given. */
static u64 memh_held(const char *ident, unsigned int *nr_clients)
{
	struct memh_client *c;
	u64 held = 0;

	lockdep_assert_held(&memh.lock);
	if (nr_clients)
		*nr_clients = 0;
	list_for_each_entry(c, &memh.clients, entry) {
		if (c->role != VNODE_ROLE_MEM || !memh_ident_is(c->name, ident))
			continue;
		held += c->bytes + c->pending;
		if (nr_clients)
			(*nr_clients)++;
	}
	return held;
}

static u64 memh_owner_commit(struct memh_owner *o)
{
	return max(o->leased, memh_held(o->ident, NULL));
}

/* What the host has promised (see the top). */
u64 memh_committed(void)
{
	struct memh_owner *o;
	struct memh_client *c;
	u64 sum = 0;

	lockdep_assert_held(&memh.lock);
	list_for_each_entry(o, &memh.owners, entry)
		sum += memh_owner_commit(o);
	list_for_each_entry(c, &memh.clients, entry)
		if (c->role == VNODE_ROLE_MEM && !memh_owner_find(c->name))
			sum += c->bytes + c->pending;
	return sum;
}

/*
 * May a memory client named @name get @bytes more?  Within its identity's
 * leases always; past them only from capacity nobody was promised.
 */
bool memh_room_for(const char *name, u64 bytes)
{
	struct memh_owner *o = memh_owner_find(name);
	u64 committed = memh_committed();
	u64 held, was;

	if (!o)
		return committed + bytes <= memh.capacity;
	held = memh_held(o->ident, NULL);
	if (held + bytes <= o->leased)
		return true;
	was = max(o->leased, held);
	return committed - was + held + bytes <= memh.capacity;
}

/* Quota of an identity's leases: a client's own quota, else the share. */
static u64 memh_ident_limit(const char *ident)
{
	struct memh_client *c;
	u64 limit = 0;

	list_for_each_entry(c, &memh.clients, entry)
		if (c->quota && memh_ident_is(c->name, ident))
			limit = max(limit, c->quota);
	return limit ?: memh_share_limit();
}

static struct memh_lease *memh_lease_find(struct memh_owner *o, u64 id)
{
	struct memh_lease *l;

	list_for_each_entry(l, &o->leases, entry)
		if (l->id == id)
			return l;
	return NULL;
}

static void memh_owner_free(struct memh_owner *o)
{
	struct memh_lease *l, *tmp;

	list_for_each_entry_safe(l, tmp, &o->leases, entry)
		kfree(l);
	memh.leased -= o->leased;
	list_del(&o->entry);
	kfree(o);
}

/* Renew @o's leases and make sure the sweeper will look at them. */
static void memh_owner_renew(struct memh_owner *o)
{
	unsigned long t = msecs_to_jiffies(READ_ONCE(lease_ms));

	o->expires = jiffies + t;
	if (!delayed_work_pending(&memh.lease_work))
		schedule_delayed_work(&memh.lease_work, t);
}

static void memh_lease_fill(const char *ident, struct memh_owner *o,
			    struct vnode_lease_rsp *rsp)
{
	rsp->held = cpu_to_le64(memh_held(ident, NULL));
	rsp->limit = cpu_to_le64(memh_ident_limit(ident));
	rsp->lease_ms = cpu_to_le32(READ_ONCE(lease_ms));
	if (o) {
		rsp->leased = cpu_to_le64(o->leased);
		rsp->nr_leases = cpu_to_le32(o->nr_leases);
	}
}

/*
 * The most lease @cur_bytes of @o could become: bounded by what nobody
 * else was promised and by the identity's quota.  *@by_quota says which
 * bound is the lower.
 */
static u64 memh_lease_avail(struct memh_owner *o, u64 cur_bytes,
			    bool *by_quota)
{
	u64 others = memh_committed() - memh_owner_commit(o);
	u64 rest = o->leased - cur_bytes;
	u64 cap = memh.capacity > others + rest ?
		  memh.capacity - others - rest : 0;
	u64 limit = memh_ident_limit(o->ident);
	u64 quota = limit > rest ? limit - rest : 0;

	*by_quota = quota < cap;
	return min(cap, quota);
}

static u16 memh_reserve(struct memh_client *c,
			const struct vnode_reserve_req *req,
			struct vnode_lease_rsp *rsp)
{
	u64 id = le64_to_cpu(req->lease_id);
	u64 bytes = le64_to_cpu(req->bytes);
	struct memh_lease *l, *nl;
	struct memh_owner *o, *no;
	u64 avail, cur;
	bool by_quota, made = false;
	u16 st = VNODE_ST_OK;

	if (!id || !bytes)
		return VNODE_ST_INVALID;
	/* Whole slabs: that is what a client gets. */
	bytes = bytes > memh.capacity ? memh.capacity + memh.slab_size :
		round_up(bytes, memh.slab_size);
	no = vnode_fault(kzalloc(sizeof(*no), GFP_KERNEL));
	nl = vnode_fault(kzalloc(sizeof(*nl), GFP_KERNEL));
	if (!no || !nl) {
		kfree(no);
		kfree(nl);
		return VNODE_ST_NOMEM;
	}

	mutex_lock(&memh.lock);
	o = memh_owner_find(c->name);
	if (!o) {
		o = no;
		no = NULL;
		strscpy(o->ident, c->name, sizeof(o->ident));
		INIT_LIST_HEAD(&o->leases);
		list_add_tail(&o->entry, &memh.owners);
		made = true;
	}
	l = memh_lease_find(o, id);
	cur = l ? l->bytes : 0;
	avail = memh_lease_avail(o, cur, &by_quota);
	rsp->avail = cpu_to_le64(avail);
	if (bytes > avail) {
		st = by_quota ? VNODE_ST_QUOTA : VNODE_ST_FULL;
		pr_info_ratelimited("<%s@%s> lease %llx: %llu bytes refused: %s (%llu available)\n",
				    c->name, c->peer_addr, id, bytes,
				    by_quota ? "quota reached" : "host full",
				    avail);
		if (made) {
			memh_owner_free(o);
			o = NULL;
		}
		goto out;
	}
	if (!l) {
		l = nl;
		nl = NULL;
		l->id = id;
		list_add_tail(&l->entry, &o->leases);
		o->nr_leases++;
	}
	l->bytes = bytes;
	o->leased += bytes - cur;
	memh.leased += bytes - cur;
	memh_owner_renew(o);
out:
	memh_lease_fill(c->name, o, rsp);
	mutex_unlock(&memh.lock);
	kfree(no);
	kfree(nl);
	return st;
}

static u16 memh_release(struct memh_client *c,
			const struct vnode_release_req *req,
			struct vnode_lease_rsp *rsp)
{
	u64 id = le64_to_cpu(req->lease_id);
	struct memh_owner *o;
	struct memh_lease *l = NULL;
	u16 st = VNODE_ST_NOENT;

	mutex_lock(&memh.lock);
	o = memh_owner_find(c->name);
	if (o)
		l = memh_lease_find(o, id);
	if (l) {
		list_del(&l->entry);
		o->nr_leases--;
		o->leased -= l->bytes;
		memh.leased -= l->bytes;
		kfree(l);
		st = VNODE_ST_OK;
	}
	if (o && !o->nr_leases) {
		memh_owner_free(o);
		o = NULL;
	} else if (o) {
		memh_owner_renew(o);
	}
	memh_lease_fill(c->name, o, rsp);
	mutex_unlock(&memh.lock);
	return st;
}

static u16 memh_renew(struct memh_client *c, struct vnode_lease_rsp *rsp)
{
	struct memh_owner *o;

	mutex_lock(&memh.lock);
	o = memh_owner_find(c->name);
	if (o)
		memh_owner_renew(o);
	memh_lease_fill(c->name, o, rsp);
	mutex_unlock(&memh.lock);
	return VNODE_ST_OK;
}

/* Identities with a lease or a memory client, in a stable order. */
static bool memh_first_client_of(struct memh_client *c)
{
	struct memh_client *p;

	if (c->role != VNODE_ROLE_MEM || memh_owner_find(c->name))
		return false;
	list_for_each_entry(p, &memh.clients, entry) {
		if (p == c)
			return true;
		if (p->role == VNODE_ROLE_MEM && !strcmp(p->name, c->name))
			return false;
	}
	return false;
}

static void memh_ent_fill(struct vnode_lease_ent *e, const char *ident,
			  struct memh_owner *o)
{
	unsigned int nr;

	strscpy_pad(e->ident, ident, sizeof(e->ident));
	e->held = cpu_to_le64(memh_held(ident, &nr));
	e->nr_clients = cpu_to_le32(nr);
	if (o) {
		e->leased = cpu_to_le64(o->leased);
		e->nr_leases = cpu_to_le32(o->nr_leases);
	}
}

static u16 memh_leases(const struct vnode_leases_req *req,
		       struct vnode_leases_rsp *rsp)
{
	u32 cursor = le32_to_cpu(req->cursor), i = 0, nr = 0;
	struct memh_owner *o;
	struct memh_client *c;

	mutex_lock(&memh.lock);
	list_for_each_entry(o, &memh.owners, entry) {
		if (i++ < cursor || nr == VNODE_LEASES_PER_MSG)
			continue;
		memh_ent_fill(&rsp->ent[nr++], o->ident, o);
	}
	list_for_each_entry(c, &memh.clients, entry) {
		if (!memh_first_client_of(c))
			continue;
		if (i++ < cursor || nr == VNODE_LEASES_PER_MSG)
			continue;
		memh_ent_fill(&rsp->ent[nr++], c->name, NULL);
	}
	mutex_unlock(&memh.lock);
	i = min_t(u32, i, U16_MAX);
	rsp->total = cpu_to_le16(i);
	rsp->nr = cpu_to_le16(nr);
	rsp->next = cpu_to_le16(cursor + nr < i ? cursor + nr : 0);
	return VNODE_ST_OK;
}

/* RESERVE, RELEASE, RENEW and LEASES; *@rsp_len is set. */
u16 memh_lease_request(struct memh_client *c, const struct vnode_msg_hdr *req,
		       size_t req_len, struct vnode_msg_hdr *rsp,
		       size_t *rsp_len)
{
	if (c->role != VNODE_ROLE_PROBE)
		return VNODE_ST_PERM;
	if (vnode_xprt_peer_proto_minor(c->peer) < VNODE_LEASE_MIN_MINOR)
		return VNODE_ST_VERSION;
	switch (req->op) {
	case VNODE_OP_RESERVE:
		if (req_len < sizeof(struct vnode_reserve_req))
			return VNODE_ST_INVALID;
		*rsp_len = sizeof(struct vnode_lease_rsp);
		return memh_reserve(c, (const void *)req, (void *)rsp);
	case VNODE_OP_RELEASE:
		if (req_len < sizeof(struct vnode_release_req))
			return VNODE_ST_INVALID;
		*rsp_len = sizeof(struct vnode_lease_rsp);
		return memh_release(c, (const void *)req, (void *)rsp);
	case VNODE_OP_RENEW:
		*rsp_len = sizeof(struct vnode_lease_rsp);
		return memh_renew(c, (void *)rsp);
	default:
		if (req_len < sizeof(struct vnode_leases_req))
			return VNODE_ST_INVALID;
		*rsp_len = sizeof(struct vnode_leases_rsp);
		return memh_leases((const void *)req, (void *)rsp);
	}
}

/* End the leases nobody renewed in time. */
static void memh_lease_work(struct work_struct *work)
{
	struct memh_owner *o, *tmp;
	unsigned long next = 0;
	bool any = false;

	mutex_lock(&memh.lock);
	list_for_each_entry_safe(o, tmp, &memh.owners, entry) {
		if (time_after_eq(jiffies, o->expires)) {
			pr_info("<%s> %u lease(s) of %llu bytes not renewed for %u ms: ended\n",
				o->ident, o->nr_leases, o->leased,
				READ_ONCE(lease_ms));
			memh_owner_free(o);
			continue;
		}
		if (!any || time_before(o->expires, next))
			next = o->expires;
		any = true;
	}
	/* mod_: a renewal may have queued it meanwhile, for later */
	if (any)
		mod_delayed_work(system_wq, &memh.lease_work,
				 max_t(long, next - jiffies, 1));
	mutex_unlock(&memh.lock);
}

void memh_lease_init(void)
{
	INIT_LIST_HEAD(&memh.owners);
	INIT_DELAYED_WORK(&memh.lease_work, memh_lease_work);
}

/* After the server stopped: no request can renew or add a lease. */
void memh_lease_exit(void)
{
	struct memh_owner *o, *tmp;

	cancel_delayed_work_sync(&memh.lease_work);
	mutex_lock(&memh.lock);
	list_for_each_entry_safe(o, tmp, &memh.owners, entry)
		memh_owner_free(o);
	mutex_unlock(&memh.lock);
}

/* /sys/kernel/vnode_mem/leases (root only): IDENT LEASE_ID BYTES MS_LEFT */
ssize_t memh_leases_show(char *buf)
{
	struct memh_owner *o;
	struct memh_lease *l;
	ssize_t n = 0;

	mutex_lock(&memh.lock);
	list_for_each_entry(o, &memh.owners, entry) {
		long left = (long)(o->expires - jiffies);

		list_for_each_entry(l, &o->leases, entry)
			n += sysfs_emit_at(buf, n, "%s %016llx %llu %u\n",
					   o->ident, l->id, l->bytes,
					   left > 0 ? jiffies_to_msecs(left) :
					   0);
	}
	mutex_unlock(&memh.lock);
	return n;
}
