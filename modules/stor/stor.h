/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_stor: storage host.  Exports volumes (files in a directory, or
 * extents of a block device) to process hosts over vnode_xprt.
 */
#ifndef VNODE_STOR_H
#define VNODE_STOR_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/configfs.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/socket.h>
#include <vnode/compat.h>
#include <vnode/proto.h>
#include <vnode/xprt.h>

/* Longest client address string ("[v6]"), NUL included. */
#define STOR_CLIENT_LEN		48
/* Bounce area per client: slots of STOR_SLOT_SIZE (the largest I/O). */
#define STOR_SLOT_SIZE		(128 * 1024)
#define STOR_MAX_SLOTS		32
#define STOR_BLOCK_SIZE		512
#define STOR_MAX_DISCARD	(8U << 20)

/**
 * struct stor_vol - one volume (configfs volumes/<name>)
 * @item: configfs item
 * @entry: in stor_vols (under stor_lock)
 * @lock: protects the configuration and @enabled
 * @name: volume name (the configfs directory name)
 * @size: bytes
 * @client: address the volume is exported to (port ignored)
 * @client_str: @client as written by the admin
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
 */
struct stor_vol {
	struct config_item	item;
	struct list_head	entry;
	struct mutex		lock;
	char			name[VNODE_STOR_NAME_LEN];
	u64			size;
	struct sockaddr_storage	client;
	char			client_str[STOR_CLIENT_LEN];
	bool			enabled;
	struct file		*file;
	u64			base;
	u64			volume_id;
	struct stor_peer	*peer;
	atomic64_t		reads;
	atomic64_t		writes;
	atomic64_t		flushes;
	atomic64_t		errors;
	atomic64_t		bytes_read;
	atomic64_t		bytes_written;
};

/**
 * struct stor_peer - one connected volume client
 * @peer: transport peer
 * @client: the client's address (port zero)
 * @vol: volume it opened, or NULL
 * @nr_pages: pages of the bounce area
 * @pages: the pages
 * @buf: @pages mapped contiguously (vmap)
 * @sgl: scatterlist of @pages, registered as @mr
 * @mr: MR of the bounce area in the peer's PD
 * @nr_slots: slots in the bounce area
 */
struct stor_peer {
	struct vnode_xprt_peer	*peer;
	struct sockaddr_storage	client;
	struct stor_vol		*vol;
	unsigned int		nr_pages;
	struct page		**pages;
	void			*buf;
	struct scatterlist	*sgl;
	struct ib_mr		*mr;
	unsigned int		nr_slots;
};

/* stor_main.c */
extern struct mutex stor_lock;
extern bool stor_is_bdev;

/* stor_backing.c: volumes on the backing store (under vol->lock) */
int stor_backing_init(const char *path);
void stor_backing_exit(void);
/* Open (and zero, when new) the volume's storage. */
int stor_backing_open(struct stor_vol *vol);
/* Close it; the data stays (the volume is only disabled). */
void stor_backing_close(struct stor_vol *vol);
/* Delete the volume's data (rmdir of an enabled-once volume). */
void stor_backing_delete(struct stor_vol *vol);
u64 stor_backing_capacity(void);
u64 stor_backing_used(void);

int stor_rw(struct stor_vol *vol, bool write, void *buf, u64 off, u32 len);
int stor_flush(struct stor_vol *vol, u64 off, u64 len, bool range);
int stor_zero(struct stor_vol *vol, u64 off, u32 len, bool discard);

bool stor_same_host(const struct sockaddr_storage *a,
		    const struct sockaddr_storage *b);

#define vlog(lvl, v, fmt, ...) \
	pr_##lvl("<%s> " fmt, (v)->name, ##__VA_ARGS__)

#endif /* VNODE_STOR_H */
