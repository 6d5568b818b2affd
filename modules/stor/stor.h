/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_stor: storage host.  Exports volumes (files in a directory, or
 * extents of a block device) to process hosts over vnode_xprt.
 */
#ifndef VNODE_STOR_H
#define VNODE_STOR_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/configfs.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/scatterlist.h>
#include <linux/socket.h>
#include <linux/wait.h>
#include <vnode/compat.h>
#include <vnode/proto.h>
#include <vnode/xprt.h>

/* Longest client address string ("[v6]"), NUL included. */
#define STOR_CLIENT_LEN		48
/* An identity (vnode_hello.name) plus a NUL. */
#define STOR_OWNER_LEN		(VNODE_AUTH_IDENT_LEN + 1)
/* Largest READ/WRITE, and its pages. */
#define STOR_MAX_IO		(128 * 1024)
#define STOR_MAX_PAGES		(STOR_MAX_IO >> PAGE_SHIFT)
/* Writes up to this size travel inside the request (no registration). */
#define STOR_INLINE_MAX		4096
#define STOR_MAX_DEPTH		128
#define STOR_BLOCK_SIZE		512
#define STOR_MAX_DISCARD	(8U << 20)
/* How long a takeover waits for the old connection's commands. */
#define STOR_FENCE_TIMEOUT	(30 * HZ)
/* A disable still waiting for commands says so this often. */
#define STOR_DRAIN_WARN		(5 * HZ)

/**
 * struct stor_vol - one volume (configfs volumes/<name>)
 * @item: configfs item
 * @entry: in stor_vols (under stor_lock)
 * @lock: protects the configuration and @enabled
 * @name: volume name (the configfs directory name)
 * @size: bytes
 * @client: address the volume is exported to (port ignored)
 * @client_str: @client as written by the admin
 * @owner: identity the volume belongs to (set by the admin, or by the
 *	first OPEN); "" for none yet (under stor_lock)
 * @enabled: the backing store is open and clients may OPEN it
 * @file: backing file (a volume file, or the block device)
 * @base: byte offset of the volume in @file (extent of a block device)
 * @volume_id: random id of this volume instance
 * @peer: the client that opened it (under stor_lock), or NULL
 * @reads: READ commands served
 * @writes: WRITE commands served
 * @flushes: FLUSH commands and FUA writes made stable
 * @errors: commands that failed on the backing store
 * @bytes_read: bytes read from the backing store
 * @bytes_written: bytes written to the backing store
 * @rdma_read_bytes: bytes this host RDMA READ from clients (writes)
 * @rdma_write_bytes: bytes this host RDMA WROTE to clients (reads)
 * @inline_bytes: write bytes that came inline in the request
 */
struct stor_vol {
	struct config_item	item;
	struct list_head	entry;
	struct mutex		lock;
	char			name[VNODE_STOR_NAME_LEN];
	u64			size;
	struct sockaddr_storage	client;
	char			client_str[STOR_CLIENT_LEN];
	char			owner[STOR_OWNER_LEN];
	bool			enabled;
	struct file		*file;
	u64			base;
	u64			volume_id;
	struct stor_peer	*peer;
	atomic_t		io_ref;
	wait_queue_head_t	io_wait;
	struct rcu_head		rcu;
	atomic64_t		reads;
	atomic64_t		writes;
	atomic64_t		flushes;
	atomic64_t		errors;
	atomic64_t		bytes_read;
	atomic64_t		bytes_written;
	atomic64_t		rdma_read_bytes;
	atomic64_t		rdma_write_bytes;
	atomic64_t		inline_bytes;
	atomic64_t		fenced;
};

/**
 * struct stor_peer - one connected volume client
 * @peer: transport peer
 * @client: the client's address (port zero)
 * @vol: volume it opened, or NULL
 */
struct stor_peer {
	struct vnode_xprt_peer	*peer;
	struct sockaddr_storage	client;
	struct stor_vol		*vol;
};

/**
 * struct stor_cmd - one READ or WRITE in flight
 * @work: backing-store write after the RDMA READ
 * @sreq: the transport's request
 * @vol: volume
 * @cmd: enum vnode_stor_cmd
 * @flags: VNODE_STOR_IO_F_*
 * @off: byte offset in the volume
 * @len: bytes
 * @raddr: client buffer address
 * @rkey: client buffer rkey
 * @nr_pages: pages in @bvec and @sgl
 * @bvec: the data pages (backing-store I/O)
 * @sgl: the same pages (RDMA)
 */
struct stor_cmd {
	struct work_struct	work;
	struct vnode_xprt_sreq	*sreq;
	struct stor_vol		*vol;
	u8			cmd;
	u8			flags;
	u64			off;
	u32			len;
	u64			raddr;
	u32			rkey;
	unsigned int		nr_pages;
	struct bio_vec		bvec[STOR_MAX_PAGES];
	struct scatterlist	sgl[STOR_MAX_PAGES];
};

/* stor_main.c */
extern struct mutex stor_lock;
extern bool stor_is_bdev;

/* stor_backing.c: volumes on the backing store (under vol->lock) */
int stor_backing_init(const char *path);
void stor_backing_exit(void);
/*
 * Open (and zero, when new) the volume's storage.  @owner gets the owner
 * recorded in the volume table ("" for none), which the caller adopts
 * when vol->owner is empty.
 */
int stor_backing_open(struct stor_vol *vol, char owner[STOR_OWNER_LEN]);
/* Record vol->owner (just claimed by its first opener) in the table. */
int stor_backing_set_owner(struct stor_vol *vol);
/* Close it; the data stays (the volume is only disabled). */
void stor_backing_close(struct stor_vol *vol);
/* Delete the volume's data (rmdir of an enabled-once volume). */
void stor_backing_delete(struct stor_vol *vol);
u64 stor_backing_capacity(void);
u64 stor_backing_used(void);

int stor_rw(struct stor_vol *vol, bool write, void *buf, u64 off, u32 len);
int stor_rw_pages(struct stor_vol *vol, bool write, struct bio_vec *bvec,
		  unsigned int nr, u64 off, u32 len);
int stor_flush(struct stor_vol *vol, u64 off, u64 len, bool range);
int stor_zero(struct stor_vol *vol, u64 off, u32 len, bool discard);

#define vlog(lvl, v, fmt, ...) \
	vnode_log(lvl, (v)->name, fmt, ##__VA_ARGS__)

#endif /* VNODE_STOR_H */
