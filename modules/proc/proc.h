/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_proc: the process-host side of vnode.
 *
 * A remote-memory disk (/dev/vnmemN) is a thin blk-mq block device used as
 * swap.  Its address space is cut into slabs (the memory hosts' slab size);
 * a slab gets memory on one or two memory hosts when it is first written
 * and gives it back when every 4 KiB slot in it has been freed (swap slot
 * free notify or discard).  Page data moves by one-sided RDMA straight
 * between the bio page and the remote slab.
 *
 * Objects:
 *   struct vnmem_cfg   configfs mem/<name>: what the user configured
 *   struct vnmem_disk  the live disk, exists while mem/<name>/enable is 1
 *   struct vnmem_host  one memory host of a disk (one vnode_xprt client)
 *   struct vnmem_slab  one slab of a disk and its remote copies
 *   struct vnode_acct  configfs vnodes/<name>: per-vNode accounting
 */
#ifndef VNODE_PROC_H
#define VNODE_PROC_H

#undef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/configfs.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/hrtimer.h>
#include <linux/mempool.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <vnode/compat.h>
#include <vnode/xprt.h>

#define VNMEM_MAX_HOSTS		8
#define VNMEM_MAX_REPLICAS	2
#define VNMEM_HOSTS_MAX_LEN	512	/* longest accepted "hosts" value */
#define VNMEM_SLOT_SHIFT	PAGE_SHIFT
#define VNMEM_SLOT_SIZE		PAGE_SIZE
/* Largest request, in slots: one RDMA op with one SGE per page. */
#define VNMEM_MAX_RQ_PAGES	VNODE_XPRT_IO_MAX_PAGES
/* a disk's bounce pool for sealed (aead) writes: two requests' worth */
#define VNMEM_BOUNCE_PAGES	(2 * VNMEM_MAX_RQ_PAGES)

/* Latency histogram: bucket i counts ops <= vnode_lat_bounds_us[i]. */
#define VNODE_LAT_BUCKETS	14
extern const u32 vnode_lat_bounds_us[VNODE_LAT_BUCKETS];

struct vnode_lat_hist {
	atomic64_t	b[VNODE_LAT_BUCKETS];
};

void vnode_lat_add(struct vnode_lat_hist *h, u64 ns);
ssize_t vnode_lat_show(struct vnode_lat_hist *h, char *buf);

/*
 * Fine latency histogram, for percentiles without tracing: 10 us buckets
 * up to 1 ms, 100 us buckets up to 10 ms, then one bucket for the rest.
 */
#define VNODE_FINE_BUCKETS	(100 + 90 + 1)

struct vnode_fine_hist {
	atomic64_t	b[VNODE_FINE_BUCKETS];
};

void vnode_fine_add(struct vnode_fine_hist *h, u64 ns);
ssize_t vnode_fine_show(struct vnode_fine_hist *h, char *buf);

/* Module parameters (proc_main.c). */
extern unsigned int vnode_default_replicas;
extern unsigned int vnode_loss_timeout_ms;
extern unsigned int vnode_connect_timeout_ms;
extern unsigned int vnode_reconnect_delay_ms;
extern unsigned int vnode_queue_depth;
extern unsigned int vnode_nr_queues;
extern unsigned int vnode_io_timeout_ms;
extern unsigned int vnode_poll_us;
extern unsigned int vnode_max_rq_pages;
extern unsigned int vnode_write_defer_us;
extern bool vnode_rw_split;
extern bool vnode_skip_swapcache;
extern unsigned int vnode_rpc_timeout_ms;
extern unsigned int vnode_rejoin_max_ms;
extern unsigned int vnode_heal_rate_mbps;
extern unsigned long long vnode_max_disk_size;
extern unsigned int vnode_prefetch_cache_pages;
extern unsigned int vnode_prefetch_max;

/* Largest read-ahead window (prefetch_max), slots. */
#define VNMEM_PF_MAX_WIN	64

extern struct configfs_subsystem vnode_cfs_subsys;

/*
 * Protection profiles (issue 17): how a vNode's pages are checked when they
 * come back from a memory host.  The profile is recorded per slot when the
 * slot is written (the page's owner decides, not the disk), so vNodes with
 * different profiles share a disk.
 */
enum vnode_protect {
	VNODE_PROTECT_NONE,	/* as written, unchecked */
	VNODE_PROTECT_CRC,	/* CRC32C per page, kept here, checked */
	VNODE_PROTECT_AEAD,	/* AES-256-GCM, key and tag kept here */
};

#define VNMEM_AEAD_TAG		16

/* What an aead slot's last write needs to be opened (proc_protect.c). */
struct vnmem_aead_meta {
	u64	seq;			/* nonce: the vNode's write counter */
	u32	key;			/* vNode (owner id) whose key sealed it */
	u8	tag[VNMEM_AEAD_TAG];
};

struct crypto_aead;

const char *vnode_protect_name(unsigned int p);

/* ------------------------------------------------------------------ */
/* Per-vNode accounting (proc_acct.c)                                  */
/* ------------------------------------------------------------------ */

/**
 * struct vnode_acct - configfs vnodes/<name>: what one vNode's cgroup did
 * @item: configfs item
 * @rcu: freed after an RCU grace period (looked up from I/O completion)
 * @id: owner id stored per swap slot (>= VNMEM_OWNER_FIRST), never reused
 * @cgroup_id: cgroup v2 id keyed on (0 = not attached yet)
 */
struct vnode_acct {
	struct config_item	item;
	struct rcu_head		rcu;
	u32			id;
	u64			cgroup_id;
	atomic64_t		faults;		/* swap-in reads */
	atomic64_t		pages_in;	/* pages read from memory hosts */
	atomic64_t		pages_out;	/* pages written to memory hosts */
	atomic64_t		bytes_in;	/* bytes read from memory hosts */
	atomic64_t		bytes_out;	/* bytes written (per page, not per replica) */
	atomic64_t		resident_pages;	/* slots owned and not yet freed */
	struct vnode_lat_hist	lat;		/* remote read+write latency */
	bool			prefetch;	/* read its swap-in streams ahead */
	atomic64_t		prefetch_issued; /* pages read ahead */
	atomic64_t		prefetch_hits;	/* swap-ins served by them */
	atomic64_t		prefetch_wasted; /* pages dropped unread */
	u8			protect;	/* enum vnode_protect of new writes */
	struct crypto_aead	*aead;		/* its key, once protect was aead */
	atomic64_t		aead_seq;	/* nonces: writes sealed */
	atomic64_t		protect_errors;	/* pages failing a check on a copy */
	atomic64_t		protect_failed;	/* swap-ins no copy could serve */
};

/* Slot owner values (u32 per 4 KiB slot of a disk). */
#define VNMEM_OWNER_FREE	0U		/* never written or freed */
#define VNMEM_OWNER_ANON	1U		/* written, no vNode matched */
#define VNMEM_OWNER_FIRST	2U		/* vnode_acct ids start here */
#define VNMEM_OWNER_BAD		0x80000000U	/* data lost: reads fail */

extern struct config_item_type vnode_acct_group_type;

/* Find the vNode of @memcg or one of its ancestors; RCU read side. */
struct vnode_acct *vnode_acct_find(struct page *page, u64 *cgid);
struct vnode_acct *vnode_acct_by_id(u32 id);
void vnode_acct_exit(void);

/* ------------------------------------------------------------------ */
/* Remote-memory disk (proc_disk.c; configfs in proc_main.c)           */
/* ------------------------------------------------------------------ */

struct vnmem_disk;

/**
 * struct vnmem_host - one memory host of a disk
 * @disk: owner
 * @id: index in the disk's host list (tracepoint host_id)
 * @addr: parsed address
 * @name: "addr:port" as the transport prints it
 * @clt: transport client
 * @state: last state reported by the transport
 * @epoch: bumped whenever the host's slabs are lost (DEAD, or reconnected
 *	to a server that no longer holds our state); a copy is valid only
 *	while its epoch matches
 * @capacity: bytes the host exports (accept data)
 * @used_base: bytes used on the host at connect time (accept data)
 * @full: the host answered FULL; cleared when we free a slab there, and
 *	ignored VNMEM_FULL_RETRY after @full_at (its reservations may change)
 * @full_at: jiffies of the last FULL
 * @client_id: the client_id of the current session with the host (a
 *	rejoin starts a new session, so that the host never confuses it
 *	with what it may still hold of the old one)
 * @next_clt: a new session opened by @rejoin_work, installed by the slow
 *	path (vnmem_install_rejoined()); disk->host_lock
 * @next_acc: its accept data
 * @rejoin_work: after DEAD, opens a new session with back-off
 * @rejoin_ms: the next back-off delay
 * @pending: FREE_SLABs that could not be sent and ALLOC_SLABs that timed
 *	out (struct vnmem_pending), sent when the host is LIVE in the same
 *	session again; slow path only
 * @drain: enum vnmem_drain; disk->host_lock for changes
 */
struct vnmem_host {
	struct vnmem_disk	*disk;
	unsigned int		id;
	struct sockaddr_storage	addr;
	char			name[64];
	struct vnode_xprt_clt	*clt;
	int			state;
	atomic_t		epoch;
	u64			capacity;
	u64			used_base;
	bool			full;
	unsigned long		full_at;
	u64			client_id;
	struct vnode_xprt_clt	*next_clt;
	struct vnode_accept	next_acc;
	u64			next_client_id;
	struct delayed_work	rejoin_work;
	unsigned int		rejoin_ms;
	struct list_head	pending;
	u8			drain;
	atomic_t		nr_slabs;	/* slabs with a copy here (valid or stale) */
	atomic64_t		ops;		/* RDMA ops completed */
	atomic64_t		errors;		/* RDMA ops failed */
};

/*
 * Planned removal of a host (proc_heal.c): while DRAINING it gets no new
 * slab and the healer moves its copies elsewhere; once it holds none it
 * is RETIRED: its session is closed and nothing reconnects to it.
 */
enum vnmem_drain {
	VNMEM_DRAIN_NONE,
	VNMEM_DRAIN_ACTIVE,
	VNMEM_DRAIN_RETIRED,
};

/**
 * struct vnmem_pending - remote memory we must still give back
 * @node: host->pending link
 * @slab: slab index it was allocated for
 * @handle: FREE_SLAB this handle; or, with @orphan, none is known
 * @epoch: host epoch it belongs to (dropped once the host lost our state)
 * @orphan: an ALLOC_SLAB of @slab timed out: the host may hold a slab for
 *	it.  Freed by allocating @slab again (the host replaces its old slab
 *	of that index) and freeing what that returns.
 */
struct vnmem_pending {
	struct list_head	node;
	u64			handle;
	u32			slab;
	u32			epoch;
	bool			orphan;
};

/**
 * struct vnmem_copy - one remote copy of a slab
 * @host: index into disk->hosts
 * @epoch: host epoch at allocation; 0 = no copy
 * @stale: missed a write (host was reconnecting): never read it again,
 *	but the remote slab still exists and must be freed
 */
struct vnmem_copy {
	u64	addr;
	u64	handle;
	u32	rkey;
	u32	epoch;
	u8	host;
	bool	stale;
};

enum vnmem_slab_state {
	VNMEM_SLAB_UNMAPPED,	/* no remote memory; reads return zeroes */
	VNMEM_SLAB_MAPPED,	/* copies allocated */
	VNMEM_SLAB_FREEING,	/* FREE_SLAB in progress (slow-path work) */
};

/**
 * struct vnmem_slab - one slab of the disk's address space
 * @state: enum vnmem_slab_state
 * @nr_copies: entries used in @copy
 * @used: slots written and not freed (owner != FREE)
 * @inflight: RDMA requests in flight on this slab
 * @free_queued: on the disk's free list
 * @lost: counted in lost_slabs: no copy is valid any more
 * @free_node: free list link
 *
 * Everything is protected by disk->map_lock; state changes away from
 * MAPPED and the allocation happen only in the ordered slow-path work.
 */
struct vnmem_slab {
	u8			state;
	u8			nr_copies;
	bool			free_queued;
	bool			lost;
	bool			healing;	/* getting a new copy: writes held */
	u32			used;
	u32			inflight;
	struct vnmem_copy	copy[VNMEM_MAX_REPLICAS];
	struct list_head	free_node;
};

/**
 * struct vnmem_cmd - blk-mq pdu: one request of up to VNMEM_MAX_RQ_PAGES
 * pages (max_rq_pages) or one that is not page-aligned
 * @io: one RDMA op per target copy
 * @disk: owner
 * @slab: slab index
 * @pending: ops not completed yet
 * @nr_ops: ops posted
 * @op_host: host of each op
 * @op_copy: copy index of each op
 * @op_err: result of each op
 * @retry: requeue instead of completing once @pending drops to zero
 * @start_ns: queue_rq time of the first attempt
 * @cgroup_id: cgroup id of the page's memcg
 * @acct_id: vNode owner id (VNMEM_OWNER_*)
 * @pid: submitter
 * @comm: submitter
 * @node: slow-path list link
 */
struct vnmem_cmd {
	struct vnode_xprt_io	io[VNMEM_MAX_REPLICAS];
	struct vnmem_disk	*disk;
	struct bio_vec		bv[VNMEM_MAX_RQ_PAGES];
	u8			nr_pages;	/* 0: not a page-aligned request */
	u16			zero_mask;	/* read: free slots, zero-filled */
	u32			slab;
	atomic_t		pending;
	u8			nr_ops;
	u8			op_host[VNMEM_MAX_REPLICAS];
	u8			op_copy[VNMEM_MAX_REPLICAS];
	int			op_err[VNMEM_MAX_REPLICAS];
	bool			retry;
	u64			start_ns;
	u64			cgroup_id;
	u32			acct_id;
	int			pid;
	char			comm[TASK_COMM_LEN];
	struct list_head	node;
	int			*poll_done;	/* submitter spinning on it */
	atomic_t		pf_wait;	/* prefetches it waits for, +1 */
	bool			pf_failed;	/* one of them failed: re-read */
	u16			crc_mask;	/* write: pages checked by crc */
	u16			aead_mask;	/* write: pages sealed (aead) */
	u16			bounce_mask;	/* bv pages from disk->bounce */
	bool			sealed;		/* aead pages are in bounce pages */
	u32			crc[VNMEM_MAX_RQ_PAGES]; /* write: their CRC32Cs */
	u32			key[VNMEM_MAX_RQ_PAGES]; /* aead: the vNode */
	u64			seq[VNMEM_MAX_RQ_PAGES]; /* aead: nonces */
	u8			tag[VNMEM_MAX_RQ_PAGES][VNMEM_AEAD_TAG];
	struct page		*orig[VNMEM_MAX_RQ_PAGES]; /* bounced pages */
};

/**
 * struct vnmem_stats - per-disk counters (sysfs /sys/block/vnmemN/vnode/)
 */
struct vnmem_stats {
	atomic64_t	pages_read;	/* pages read from memory hosts */
	atomic64_t	pages_written;	/* pages written (once per page, any replicas) */
	atomic64_t	bytes_read;	/* bytes read from memory hosts */
	atomic64_t	bytes_written;	/* bytes written (once per page) */
	atomic64_t	faults;		/* read requests (swap-ins), remote or zero-filled */
	atomic64_t	errors;		/* requests completed with an error */
	atomic64_t	degraded;	/* writes that reached fewer copies than configured */
	atomic64_t	lost_slabs;	/* slabs that lost every copy */
	atomic64_t	polled;		/* reads completed while their submitter spun */
	atomic64_t	poll_missed;	/* spins that ended before the completion */
	atomic64_t	poll_gated;	/* reads not spun on: recent reads above poll_us */
	atomic64_t	poll_ns;	/* time spent in those spins */
	atomic64_t	healed_slabs;	/* new copies made by re-replication */
	atomic64_t	heal_bytes;	/* bytes they copied */
	atomic64_t	prefetch_issued; /* pages read ahead (proc_prefetch.c) */
	atomic64_t	prefetch_hits;	/* swap-ins served by them */
	atomic64_t	prefetch_wasted; /* pages dropped unread */
	atomic64_t	protect_errors;	/* pages failing their check on a copy */
	atomic64_t	protect_failed;	/* swap-ins failed: no copy passed */
	struct vnode_lat_hist lat;	/* remote request latency */
	struct vnode_fine_hist read_lat; /* remote read latency, fine */
};

struct vnmem_cfg;
struct vnmem_pf;

/**
 * struct vnmem_disk - a live remote-memory disk
 * @cfg: configuration it was created from
 * @index: N of vnmemN
 * @name: "vnmemN"
 * @size: bytes
 * @replicas: copies per slab
 * @slab_shift: log2 of slab size (all hosts agree)
 * @nr_slabs: slabs in @slabs
 * @client_id: random id sent to every host
 * @hosts: memory hosts
 * @nr_hosts: entries in @hosts
 * @slabs: slab table
 * @owner: per-slot owner (VNMEM_OWNER_*), slot = sector >> 3
 * @protect: per-slot enum vnode_protect of its last write
 * @crc: per-slot CRC32C of its last write (VNODE_PROTECT_CRC slots)
 * @aead: per-slot nonce, key and tag of its last write (VNODE_PROTECT_AEAD),
 *	or NULL: made only once a vNode is aead (vnmem_aead_prepare())
 * @bounce: pages that sealed (aead) pages go out in, made with @aead
 * @node: on the list of enabled disks, under vnmem_disks_lock
 * @map_lock: protects @slabs and @free_list
 * @free_list: slabs waiting for FREE_SLAB
 * @slow_list: requests waiting for the slow path (slab allocation)
 * @slow_lock: protects @slow_list
 * @staged: writes held back for write_defer_us (see vnmem_stage())
 * @nr_staged: entries on @staged
 * @stage_lock: protects @staged and @nr_staged
 * @stage_timer: posts @staged when no read came first
 * @wq: ordered WQ_MEM_RECLAIM workqueue running @slow_work
 * @slow_work: allocates/frees slabs, issues punted requests
 * @owed_work: runs @slow_work again later while a LIVE host still has
 *	frees it could not take (host->pending)
 * @tag_set: blk-mq tags
 * @gd: the gendisk
 * @host_lock: serializes hosts' state changes and session switches with
 *	@running and @dead (no work is queued on a disk being torn down)
 * @running: the disk is set up: state changes may queue work
 * @dead: tearing down: fail new requests
 * @closing: vnmem_disk_destroy() found the disk closed: no new opener
 * @stats: counters
 */
struct vnmem_disk {
	struct vnmem_cfg	*cfg;
	u64			read_ewma_ns;	/* recent READ latency, for poll_us */
	int			index;
	char			name[DISK_NAME_LEN];
	u64			size;
	unsigned int		replicas;
	unsigned int		slab_shift;
	unsigned int		max_rq_pages;	/* largest request, pages */
	u32			nr_slabs;
	u64			client_id;
	struct vnmem_host	hosts[VNMEM_MAX_HOSTS];
	unsigned int		nr_hosts;
	struct vnmem_slab	*slabs;
	u32			*owner;
	u8			*protect;
	u32			*crc;
	struct vnmem_aead_meta	*aead;
	mempool_t		*bounce;
	struct list_head	node;
	spinlock_t		map_lock;
	struct list_head	free_list;
	struct list_head	slow_list;
	spinlock_t		slow_lock;
	struct workqueue_struct	*wq;
	struct work_struct	slow_work;
	struct delayed_work	owed_work;	/* retries host->pending */
	struct list_head	staged;
	unsigned int		nr_staged;
	spinlock_t		stage_lock;
	struct hrtimer		stage_timer;
	struct blk_mq_tag_set	tag_set;
	struct gendisk		*gd;
	spinlock_t		host_lock;
	/* re-replication (proc_heal.c), slow path only but @healing */
	struct bio_vec		heal_bv[VNMEM_MAX_RQ_PAGES];
	u32			heal_cursor;
	unsigned long		heal_next;	/* jiffies: next slab, by rate */
	u64			heal_started;	/* ns, 0 = not healing */
	s64			heal_base;	/* healed_slabs at the start */
	u64			heal_last_ms;	/* how long the last heal took */
	bool			healing;
	bool			heal_check;	/* a slab may lack a copy: scan */
	bool			drain_stuck;	/* a copy to move has no target */
	bool			running;
	bool			dead;
	bool			closing;
	atomic_t		nr_mapped;	/* slabs in MAPPED state */
	struct vnmem_pf		*pf;		/* prefetch cache, or NULL */
	struct vnmem_stats	stats;
};

/**
 * struct vnmem_cfg - configfs mem/<name>
 * @item: configfs item
 * @lock: serializes attribute stores and enable/disable
 * @hosts: "hosts" as written (normalized)
 * @addrs: parsed @hosts
 * @nr_hosts: entries in @addrs
 * @size: bytes
 * @replicas: 1 or 2
 * @disk: live disk while enabled
 * @last_err: result of the last enable attempt (for "state")
 */
struct vnmem_cfg {
	struct config_item	item;
	struct mutex		lock;
	char			hosts[VNMEM_HOSTS_MAX_LEN];
	struct sockaddr_storage	addrs[VNMEM_MAX_HOSTS];
	unsigned int		nr_hosts;
	u64			size;
	unsigned int		replicas;
	struct vnmem_disk	*disk;
	int			last_err;
};

extern struct config_item_type vnmem_group_type;

int vnmem_disk_create(struct vnmem_cfg *cfg, struct vnmem_disk **out);
int vnmem_disk_destroy(struct vnmem_disk *disk);
extern struct mutex vnmem_disks_lock;
int vnmem_aead_prepare(void);
ssize_t vnmem_disk_state(struct vnmem_disk *disk, char *buf);
int vnmem_init(void);
void vnmem_exit(void);

/*
 * The disk's insides, shared by its files: proc_disk.c (create, destroy,
 * memory-host connections), proc_io.c (submission and completion),
 * proc_poll.c (swap-in spin, write staging), proc_slab.c (slow path,
 * host choice) and proc_sysfs.c (counters).
 */
#define dlog(lvl, d, fmt, ...) \
	vnode_log(lvl, (d)->name, fmt, ##__VA_ARGS__)
#define hlog(lvl, h, fmt, ...) \
	vnode_log_peer(lvl, (h)->disk->name, (h)->name, fmt, ##__VA_ARGS__)

#define VNMEM_SECT_PER_SLOT	(VNMEM_SLOT_SIZE >> SECTOR_SHIFT)
#define VNMEM_RETRY_MS		20	/* requeue delay while a host is away */

/* proc_io.c */
extern const struct blk_mq_ops vnmem_mq_ops;
extern const struct block_device_operations vnmem_fops;
#if VNODE_HAVE_RW_PAGE
extern const struct block_device_operations vnmem_fops_sync;
#endif
bool vnmem_copy_exists(struct vnmem_disk *d, const struct vnmem_copy *c);
bool vnmem_copy_valid(struct vnmem_disk *d, const struct vnmem_copy *c);
int vnmem_read_copy(struct vnmem_disk *d, struct vnmem_slab *s, u64 slot);
bool vnmem_slab_maybe_free(struct vnmem_disk *d, struct vnmem_slab *s);
unsigned int vnmem_count_lost_slabs(struct vnmem_disk *d);
unsigned int vnmem_count_at_risk(struct vnmem_disk *d);
void vnmem_poll_signal(struct vnmem_cmd *cmd);
void vnmem_end(struct request *rq, blk_status_t sts);
void vnmem_retry(struct request *rq, struct vnmem_cmd *cmd,
		 unsigned int delay_ms);
int vnmem_submit(struct vnmem_disk *d, struct request *rq, bool slow);
void vnmem_account(struct vnmem_disk *d, struct vnmem_cmd *cmd, bool write,
		   bool remote);

/* proc_protect.c */
int vnode_acct_aead_init(struct vnode_acct *a);
void vnode_acct_aead_exit(struct vnode_acct *a);
bool vnode_acct_any_aead(void);
void vnmem_protect_write(struct vnmem_cmd *cmd, struct vnode_acct *a);
int vnmem_seal(struct vnmem_disk *d, struct vnmem_cmd *cmd);
void vnmem_unseal(struct vnmem_disk *d, struct vnmem_cmd *cmd);
void vnmem_protect_commit(struct vnmem_disk *d, struct vnmem_cmd *cmd,
			  u64 slot);
int vnmem_check_page(struct vnmem_disk *d, u64 slot, struct page *page);

/* proc_prefetch.c */
int vnmem_pf_create(struct vnmem_disk *d);
void vnmem_pf_quiesce(struct vnmem_disk *d);
void vnmem_pf_destroy(struct vnmem_disk *d);
bool vnmem_pf_serve(struct vnmem_disk *d, struct request *rq,
		    struct vnmem_cmd *cmd);
void vnmem_pf_track(struct vnmem_disk *d, u32 acct, int pid, u64 slot,
		    unsigned int nr, bool hit);
void vnmem_pf_drop(struct vnmem_disk *d, u64 slot, unsigned int nr,
		   bool always);
unsigned int vnmem_pf_cached(struct vnmem_disk *d);

/* proc_poll.c */
bool vnmem_poll_wait(struct vnmem_cmd *cmd, int *done, u64 start);
bool vnmem_should_poll(struct vnmem_disk *d);
void vnmem_flush_staged(struct vnmem_disk *d);
enum hrtimer_restart vnmem_stage_timer(struct hrtimer *t);
bool vnmem_stage(struct vnmem_disk *d, struct vnmem_cmd *cmd);

/* proc_slab.c */
s64 vnmem_host_free(struct vnmem_host *h);
void vnmem_host_set_full(struct vnmem_host *h);
bool vnmem_host_full(const struct vnmem_host *h);
void vnmem_pending_clear(struct vnmem_host *h);
struct vnmem_host *vnmem_pick_host(struct vnmem_disk *d, const bool *tried);
int vnmem_rpc_alloc(struct vnmem_host *h, u32 idx, struct vnmem_copy *c);
void vnmem_rpc_free(struct vnmem_host *h, u32 idx, const struct vnmem_copy *c);

/* proc_heal.c */
void vnmem_heal_step(struct vnmem_disk *d);
bool vnmem_any_draining(struct vnmem_disk *d);
int vnmem_drain_set(struct vnmem_disk *d, const struct sockaddr_storage *a,
		    bool on);
ssize_t vnmem_drain_show(struct vnmem_disk *d, char *buf);
const char *vnmem_drain_str(struct vnmem_host *h);
void vnmem_rejoin_schedule(struct vnmem_host *h);
void vnmem_install_rejoined(struct vnmem_disk *d);
void vnmem_owed_work(struct work_struct *work);
void vnmem_slow_work(struct work_struct *work);

/* proc_sysfs.c */
extern const struct attribute_group *vnmem_attr_groups[];

#endif /* VNODE_PROC_H */
