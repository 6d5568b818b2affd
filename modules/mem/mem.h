/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_mem: the memory host.  Exports RAM in slabs, each registered for
 * remote READ/WRITE by exactly one client (in that client's own PD).
 */
#ifndef VNODE_MEM_H
#define VNODE_MEM_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <vnode/xprt.h>

/**
 * struct memh_slab - one slab handed to a client
 * @entry: in owner->slabs
 * @owner: client it belongs to
 * @handle: id in memh.slabs, sent to the client
 * @index: client's logical slab number (informational)
 * @pages: the zeroed pages
 * @nr_pages: number of @pages
 * @sgt: scatterlist over @pages (DMA-mapped by the transport)
 * @mr: fast-registration MR in the owner's PD
 */
struct memh_slab {
	struct list_head	entry;
	struct memh_client	*owner;
	u32			handle;
	u64			index;
	struct page		**pages;
	unsigned int		nr_pages;
	struct sg_table		sgt;
	struct ib_mr		*mr;
};

/**
 * struct memh_client - one connected client object (a client_id)
 * @kobj: /sys/kernel/vnode_mem/clients/<client_id>
 * @entry: in memh.clients
 * @peer: transport peer
 * @client_id: from the hello
 * @role: enum vnode_role from the hello
 * @name: client object name from the hello
 * @peer_addr: "addr:port" of the client
 * @slabs: struct memh_slab list
 * @by_index: the client's slab index -> struct memh_slab (an ALLOC_SLAB of
 *	an index it already holds replaces that slab: see memh_alloc_slab())
 * @nr_slabs: slabs held
 * @bytes: bytes held
 * @pending: bytes being allocated for it (counted in memh.used already)
 * @quota: bytes it may hold, 0 = the default share (sysfs)
 */
struct memh_client {
	struct kobject		kobj;
	struct list_head	entry;
	struct vnode_xprt_peer	*peer;
	u64			client_id;
	u8			role;
	char			name[32];
	char			peer_addr[64];
	struct list_head	slabs;
	struct xarray		by_index;
	u32			nr_slabs;
	u64			bytes;
	u64			pending;
	u64			quota;
};

/**
 * struct memh_owner - an identity holding leases (mem_lease.c)
 * @entry: in memh.owners
 * @ident: the identity (a client's name), NUL-terminated
 * @leases: struct memh_lease list
 * @nr_leases: number of @leases
 * @leased: bytes they reserve
 * @expires: jiffies when they end unless renewed
 */
struct memh_owner {
	struct list_head	entry;
	char			ident[32];
	struct list_head	leases;
	unsigned int		nr_leases;
	u64			leased;
	unsigned long		expires;
};

/* Percent of the capacity a client may hold unless its quota says. */
extern unsigned int memh_client_share;
/* The default share in bytes: client_share percent, at least a slab. */
u64 memh_share_limit(void);
/* Bytes @c may hold: its quota, else the default share.  memh.lock. */
u64 memh_client_limit(const struct memh_client *c);

/**
 * struct memh - the memory host (one per module)
 * @lock: protects everything below except the constants
 * @capacity: bytes exported (constant after load)
 * @slab_shift: log2 of the slab size (constant)
 * @slab_size: 1 << @slab_shift
 * @server_id: random id of this module instance (constant)
 * @used: bytes allocated to clients
 * @leased: bytes reserved by all leases
 * @owners: struct memh_owner list
 * @lease_work: ends leases that were not renewed
 * @nr_clients: connected client objects
 * @client_seq: the last client's sequence number (its sysfs name)
 * @clients: struct memh_client list
 * @slabs: handle -> struct memh_slab
 * @next_handle: cyclic allocation hint for @slabs
 * @srv: transport server
 * @kobj: /sys/kernel/vnode_mem
 * @clients_kobj: /sys/kernel/vnode_mem/clients
 */
struct memh {
	struct mutex		lock;
	u64			capacity;
	unsigned int		slab_shift;
	u64			slab_size;
	u64			server_id;
	u64			used;
	u64			leased;
	struct list_head	owners;
	struct delayed_work	lease_work;
	unsigned int		nr_clients;
	atomic_t		client_seq;
	struct list_head	clients;
	struct xarray		slabs;
	u32			next_handle;
	struct vnode_xprt_srv	*srv;
	struct kobject		*kobj;
	struct kobject		*clients_kobj;
};

extern struct memh memh;

/* Reservations (mem_lease.c); memh.lock held where it says so. */
u64 memh_committed(void);			/* memh.lock */
bool memh_room_for(const char *name, u64 bytes);	/* memh.lock */
u16 memh_lease_request(struct memh_client *c, const struct vnode_msg_hdr *req,
		       size_t req_len, struct vnode_msg_hdr *rsp,
		       size_t *rsp_len);
u64 memh_ident_leased(const char *ident);		/* memh.lock */
void memh_lease_init(void);
void memh_lease_exit(void);
ssize_t memh_leases_show(char *buf);

int memh_sysfs_init(void);
void memh_sysfs_exit(void);
int memh_client_sysfs_add(struct memh_client *c);
void memh_client_sysfs_del(struct memh_client *c);

#endif /* VNODE_MEM_H */
