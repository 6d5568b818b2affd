/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_vol: remote volumes of a storage host (vnode_stor) as blk-mq
 * disks /dev/vnblkN on a process host.
 */
#ifndef VNODE_VOL_H
#define VNODE_VOL_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/configfs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <vnode/compat.h>
#include <vnode/proto.h>
#include <vnode/xprt.h>

#define VOL_HOST_LEN		64
#define VOL_MAX_SLOTS		64
#define VOL_NAME_LEN		16
/* RDMA ops of one request: a page each, plus one for a misaligned start. */
#define VOL_MAX_IOS(slot)	(((slot) >> PAGE_SHIFT) * 2)

extern unsigned int vol_loss_timeout_ms;
extern unsigned int vol_connect_timeout_ms;
extern unsigned int vol_rpc_timeout_ms;
extern unsigned int vol_nr_queues;

struct vol_dev;

/**
 * struct vol_cfg - configfs vnode_vol/<name>: what to attach
 * @item: configfs item
 * @lock: protects everything below
 * @host: storage host as written ("ip[:port]")
 * @addr: @host parsed
 * @volume: volume name on the storage host
 * @loss_timeout_ms: hold I/O this long after losing the storage host,
 *	then fail it with EIO
 * @dev: the attached disk while enabled
 */
struct vol_cfg {
	struct config_item	item;
	struct mutex		lock;
	char			host[VOL_HOST_LEN];
	struct sockaddr_storage	addr;
	char			volume[VNODE_STOR_NAME_LEN];
	unsigned int		loss_timeout_ms;
	struct vol_dev		*dev;
};

/**
 * struct vol_export - what the storage host's OPEN answered
 * @size: bytes
 * @buf_addr: remote address of slot 0
 * @rkey: rkey of the bounce area
 * @slot_size: bytes per slot
 * @nr_slots: slots
 * @block_size: logical block size
 * @flags: VNODE_STOR_F_*
 * @max_discard: bytes
 * @volume_id: volume instance
 */
struct vol_export {
	u64	size;
	u64	buf_addr;
	u32	rkey;
	u32	slot_size;
	u16	nr_slots;
	u16	block_size;
	u32	flags;
	u32	max_discard;
	u64	volume_id;
};

/**
 * struct vol_dev - one attached volume
 * @name: "vnblkN"
 * @index: N
 * @volume: volume name on the storage host
 * @loss_timeout_ms: see struct vol_cfg
 * @clt: transport client
 * @client_id: hello client_id
 * @server_id: server_id of the storage host we opened the volume on
 * @lock: protects @exp, @ready, @dead, @loss_start, @slot_map
 * @exp: current export (rkey and address change after a reopen)
 * @opened: the first OPEN succeeded: state changes are ours to handle
 * @ready: OPEN succeeded on the current connection: I/O may flow
 * @dead: gave up: every request fails with EIO
 * @removing: enable=0 in progress: do not hold I/O
 * @loss_start: jiffies when @ready went false
 * @slot_map: busy slots
 * @wait: woken when @ready, @dead or @slot_map change
 * @reopen_work: OPEN after a reconnect to a restarted storage host
 * @wq: request workers (they sleep: RPC + RDMA)
 * @tag_set: blk-mq tag set
 * @gd: the disk
 * @reads: read requests completed
 * @writes: write requests completed
 * @flushes: flush requests and FUA writes completed
 * @discards: discard and write-zeroes requests completed
 * @errors: requests failed
 * @bytes_read: bytes read
 * @bytes_written: bytes written
 * @retries: requests retried after a connection loss
 * @reconnects: reopens after a storage-host restart
 */
struct vol_dev {
	char			name[VOL_NAME_LEN];
	int			index;
	char			volume[VNODE_STOR_NAME_LEN];
	unsigned int		loss_timeout_ms;
	struct vnode_xprt_clt	*clt;
	u64			client_id;
	u64			server_id;
	spinlock_t		lock;
	struct vol_export	exp;
	bool			opened;
	bool			ready;
	bool			dead;
	bool			removing;
	unsigned long		loss_start;
	unsigned long		slot_map;
	wait_queue_head_t	wait;
	struct delayed_work	reopen_work;
	struct workqueue_struct	*wq;
	struct blk_mq_tag_set	tag_set;
	struct gendisk		*gd;
	atomic64_t		reads;
	atomic64_t		writes;
	atomic64_t		flushes;
	atomic64_t		discards;
	atomic64_t		errors;
	atomic64_t		bytes_read;
	atomic64_t		bytes_written;
	atomic64_t		retries;
	atomic64_t		reconnects;
};

/**
 * struct vol_cmd - blk-mq pdu: one request
 * @work: runs the request (sleeps)
 * @d: disk
 * @start_ns: ktime when queued
 * @pending: RDMA ops in flight + 1 while posting
 * @rdma_err: first RDMA error
 * @rdma_done: completed when @pending reaches 0
 * @ios: transport RDMA descriptors
 */
struct vol_cmd {
	struct work_struct	work;
	struct vol_dev		*d;
	u64			start_ns;
	atomic_t		pending;
	int			rdma_err;
	struct completion	rdma_done;
	struct vnode_xprt_io	ios[];
};

#define dlog(lvl, d, fmt, ...) \
	pr_##lvl("<%s@%s> " fmt, (d)->name, \
		 (d)->clt ? vnode_xprt_clt_peer((d)->clt) : "-", ##__VA_ARGS__)

/* vol_disk.c */
int vol_init(void);
void vol_exit(void);
int vol_dev_create(struct vol_cfg *cfg, struct vol_dev **out);
int vol_dev_destroy(struct vol_dev *d);
ssize_t vol_dev_state(struct vol_dev *d, char *page);

#endif /* VNODE_VOL_H */
