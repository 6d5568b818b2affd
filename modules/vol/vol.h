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
#define VOL_NAME_LEN		16
/* Largest request: its pages are one FRWR registration. */
#define VOL_MAX_IO		(128 * 1024)
#define VOL_MAX_SEGS		(VOL_MAX_IO >> PAGE_SHIFT)
/* Requests in flight per queue, at most (the storage host may allow less). */
#define VOL_MAX_DEPTH		64

extern unsigned int vol_loss_timeout_ms;
extern unsigned int vol_connect_timeout_ms;
extern unsigned int vol_rpc_timeout_ms;
extern unsigned int vol_nr_queues;
extern unsigned int vol_queue_depth;
extern unsigned int vol_inline_max;

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
 * @max_io: largest READ/WRITE, bytes
 * @queue_depth: commands per queue
 * @block_size: logical block size
 * @flags: VNODE_STOR_F_*
 * @max_discard: bytes
 * @inline_max: largest inline write, bytes
 * @volume_id: volume instance
 */
struct vol_export {
	u64	size;
	u32	max_io;
	u16	queue_depth;
	u16	block_size;
	u32	flags;
	u32	max_discard;
	u32	inline_max;
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
 * @open_lost: the storage host lost our state (the transport reported LIVE
 *	with @lost) since the last OPEN: reopen before I/O resumes
 * @lock: protects @exp, @ready, @dead, @loss_start, @quiesced
 * @exp: the export
 * @opened: the first OPEN succeeded: state changes are ours to handle
 * @ready: OPEN succeeded on the current connection: I/O may flow
 * @dead: gave up: every request fails with EIO
 * @removing: enable=0 in progress: do not hold I/O
 * @closing: vol_dev_destroy() found the disk closed: no new opener
 * @loss_start: jiffies when @ready went false
 * @quiesced: the disk's queue is quiesced (held) while not @ready
 * @wait: woken when @ready or @dead change
 * @reopen_work: OPEN after a reconnect to a restarted storage host
 * @loss_work: fails held I/O once the loss timeout passed
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
 * @reconnects: I/O resumed after a lost or reset connection (same
 *	storage-host state, or reopened after a restart)
 * @timeouts: requests without a reply for rpc_timeout_ms on a live
 *	connection (each started or joined a connection reset)
 */
struct vol_dev {
	char			name[VOL_NAME_LEN];
	int			index;
	char			volume[VNODE_STOR_NAME_LEN];
	unsigned int		loss_timeout_ms;
	struct vnode_xprt_clt	*clt;
	u64			client_id;
	bool			open_lost;
	spinlock_t		lock;
	struct vol_export	exp;
	bool			opened;
	bool			ready;
	bool			dead;
	bool			removing;
	bool			closing;
	unsigned long		loss_start;
	bool			quiesced;
	wait_queue_head_t	wait;
	struct delayed_work	reopen_work;
	struct delayed_work	loss_work;
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
	atomic64_t		timeouts;
};

/**
 * struct vol_cmd - blk-mq pdu: one request
 * @xcmd: the transport command
 * @d: disk
 * @start_ns: ktime when first queued
 * @retried: requeued after a connection loss at least once
 * @req: the STOR_IO request
 * @rsp: its reply
 * @sgl: the request's pages
 */
struct vol_cmd {
	struct vnode_xprt_cmd	xcmd;
	struct vol_dev		*d;
	u64			start_ns;
	bool			retried;
	struct vnode_stor_io_req req;
	struct vnode_stor_io_rsp rsp;
	struct scatterlist	sgl[VOL_MAX_SEGS];
};

#define dlog(lvl, d, fmt, ...) \
	vnode_log_peer(lvl, (d)->name, \
		       (d)->clt ? vnode_xprt_clt_peer((d)->clt) : "-", \
		       fmt, ##__VA_ARGS__)

/* vol_disk.c */
int vol_init(void);
void vol_exit(void);
int vol_dev_create(struct vol_cfg *cfg, struct vol_dev **out);
int vol_dev_destroy(struct vol_dev *d);
ssize_t vol_dev_state(struct vol_dev *d, char *page);

#endif /* VNODE_VOL_H */
