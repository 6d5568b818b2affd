/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Version shims.  This is the ONLY file in vnode that may test
 * LINUX_VERSION_CODE: every difference between the supported kernels
 * (Debian 12's 6.1 and 6.12) is wrapped here behind one name.
 */
#ifndef VNODE_COMPAT_H
#define VNODE_COMPAT_H

#include <linux/version.h>

/* ---- vnode_proc (process host) ------------------------------------ */

/*
 * block_device_operations.swap_slot_free_notify: 6.1 and 6.12 (and later
 * kernels, checked up to 6.17) call it from swap_range_free() under the
 * swap lock (atomic context).  Should a kernel drop the hook, set this to
 * 0: the disk then relies on discard only (swapon --discard=pages).
 */
#define VNODE_HAVE_SWAP_SLOT_FREE_NOTIFY	1

/*
 * block_device_operations.rw_page: until 6.2 a swap device that has it is
 * SWP_SYNCHRONOUS_IO, and a fault on a page mapped once then skips the
 * swap cache (no readahead, no swap-cache insert and delete).  6.3 removed
 * the hook; there the flag comes from QUEUE_FLAG_SYNCHRONOUS and also makes
 * every swap-out wait for its write (swap_writepage_bdev_sync()), which
 * would stall reclaim on a network disk, so vnode does not ask for it.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define VNODE_HAVE_RW_PAGE	1
#else
#define VNODE_HAVE_RW_PAGE	0
#endif

/* __assign_str() lost its source argument in 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define vnode_assign_str(dst, src)	__assign_str(dst)
#else
#define vnode_assign_str(dst, src)	__assign_str(dst, src)
#endif

#include <linux/blk-mq.h>
#include <linux/blkdev.h>

/**
 * struct vnode_disk_limits - queue limits of a vnode disk, set once at
 * allocation (6.10+ takes a struct queue_limits, 6.1 has setters)
 * @block_size: logical == physical block size, bytes
 * @max_hw_sectors: largest request, 512-byte sectors
 * @max_segments: segments per request
 * @max_segment_size: bytes per segment
 * @dma_alignment: alignment mask of data buffers
 * @virt_boundary_mask: segments may not cross it (no gaps: FRWR);
 *	then @max_segment_size must be UINT_MAX
 * @max_discard_sectors: largest discard, 0 = no discard
 * @discard_granularity: bytes
 * @chunk_sectors: requests never cross a multiple of it, 0 = no limit
 */
struct vnode_disk_limits {
	unsigned int	block_size;
	unsigned int	max_hw_sectors;
	unsigned short	max_segments;
	unsigned int	max_segment_size;
	unsigned int	dma_alignment;
	unsigned long	virt_boundary_mask;
	unsigned int	max_discard_sectors;
	unsigned int	discard_granularity;
	unsigned int	chunk_sectors;
};

/* Non-rotational, no entropy contribution, no write cache. */
static inline struct gendisk *
vnode_blk_mq_alloc_disk(struct blk_mq_tag_set *set,
			const struct vnode_disk_limits *l, void *queuedata)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	struct queue_limits lim = {
		.logical_block_size	= l->block_size,
		.physical_block_size	= l->block_size,
		.max_hw_sectors		= l->max_hw_sectors,
		.max_segments		= l->max_segments,
		.max_segment_size	= l->max_segment_size,
		.dma_alignment		= l->dma_alignment,
		.virt_boundary_mask	= l->virt_boundary_mask,
		.max_hw_discard_sectors	= l->max_discard_sectors,
		.discard_granularity	= l->discard_granularity,
		.chunk_sectors		= l->chunk_sectors,
	};

	return blk_mq_alloc_disk(set, &lim, queuedata);
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->block_size);
	blk_queue_physical_block_size(q, l->block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	blk_queue_max_segment_size(q, l->max_segment_size);
	blk_queue_dma_alignment(q, l->dma_alignment);
	if (l->virt_boundary_mask)
		blk_queue_virt_boundary(q, l->virt_boundary_mask);
	if (l->chunk_sectors)
		blk_queue_chunk_sectors(q, l->chunk_sectors);
	if (l->max_discard_sectors) {
		blk_queue_max_discard_sectors(q, l->max_discard_sectors);
		q->limits.discard_granularity = l->discard_granularity;
	}
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	return disk;
#endif
}

/* ---- vnode_vol (remote volumes) ----------------------------------- */

/*
 * Volatile write cache with FUA, and the largest WRITE_ZEROES (sectors),
 * of a disk from vnode_blk_mq_alloc_disk().  6.11+ moved the cache flags
 * into queue_limits.features; 6.1 has setters.
 */
static inline void vnode_disk_set_cache(struct gendisk *disk, bool wc,
					bool fua, unsigned int max_wz_sectors)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	if (wc)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (fua)
		lim.features |= BLK_FEAT_FUA;
	lim.max_write_zeroes_sectors = max_wz_sectors;
	queue_limits_commit_update(disk->queue, &lim);
#else
	blk_queue_write_cache(disk->queue, wc, fua);
	blk_queue_max_write_zeroes_sectors(disk->queue, max_wz_sectors);
#endif
}

/*
 * block_device_operations.open took (bdev, fmode_t) until 6.4 and takes
 * (gendisk, blk_mode_t) from 6.5; both run under disk->open_mutex.
 * VNODE_BDEV_OPEN(fn, arg) is the signature, VNODE_BDEV_OPEN_DISK(arg)
 * the disk being opened.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define VNODE_BDEV_OPEN(fn, arg)	int fn(struct gendisk *arg, blk_mode_t mode)
#define VNODE_BDEV_OPEN_DISK(arg)	(arg)
#else
#define VNODE_BDEV_OPEN(fn, arg)	int fn(struct block_device *arg, fmode_t mode)
#define VNODE_BDEV_OPEN_DISK(arg)	((arg)->bd_disk)
#endif

/* ---- vnode_xprt (RDMA) -------------------------------------------- */

#include <rdma/ib_verbs.h>

/*
 * rdma_rxe before 6.2: rxe_mr_copy() steps to the next page map after the
 * last buffer of a map even when the copy is done, so an RDMA READ or
 * WRITE that ends at the last byte of a fast-reg MR of 256 pages (one map
 * of RXE_BUF_PER_MAP buffers: a 1 MiB slab) reads a map pointer past the
 * array (KASAN: slab-out-of-bounds in rxe_mr_copy; without KASAN a silent
 * 8-byte over-read, the value only used to compute an address).  6.2
 * replaced the maps by an xarray.  The lab's debug kernel carries a fix
 * (scripts/debug-kernel.patches/) for other programs' MRs.  Asking
 * for one page more gives such an MR a second map; the MR still maps only
 * the pages it is given.  Pages for ib_alloc_mr(IB_MR_TYPE_MEM_REG).
 */
static inline u32 vnode_fr_mr_pages(const struct ib_device *ibdev, u32 pages)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	if (ibdev->ops.driver_id == RDMA_DRIVER_RXE)
		return pages + 1;
#endif
	return pages;
}

#endif /* VNODE_COMPAT_H */
