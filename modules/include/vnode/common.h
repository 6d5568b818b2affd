/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by every vnode kernel module: configfs input, sizes,
 * addresses and log prefixes.
 *
 * The functions live in vnode_xprt (xprt_util.c), which every role module
 * depends on anyway, so that a size or an address is parsed by one piece
 * of code: what one module accepts, every module accepts
 * (docs/abi.md, "Sizes and addresses").
 */
#ifndef VNODE_COMMON_H
#define VNODE_COMMON_H

#include <linux/blkdev.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/socket.h>
#include <linux/types.h>

/*
 * Copy a configfs store, without its trailing newline, into @buf of
 * @size bytes.  -EINVAL if it is empty, too long or holds a NUL.
 */
int vnode_cfs_get_str(const char *page, size_t count, char *buf, size_t size);

/*
 * A size in bytes: decimal digits with an optional K, M, G or T suffix
 * (any case, powers of 1024).  Nothing else: no sign, spaces, fractions,
 * "B" or base prefix.  -EINVAL on anything else and on overflow.
 */
int vnode_parse_size(const char *str, u64 *out);

/*
 * An address: "a.b.c.d", "a.b.c.d:port", "[v6]", "[v6]:port" or a bare
 * IPv6 address; @default_port when none is given (0: a port is required).
 * Port 0 is refused.  One trailing newline is tolerated.  0 or -EINVAL.
 */
int vnode_xprt_parse_addr(const char *str, u16 default_port,
			  struct sockaddr_storage *ss);

/* Same family and IP address; ports are ignored. */
bool vnode_addr_same_host(const struct sockaddr_storage *a,
			  const struct sockaddr_storage *b);

/* Same family, IP address and port. */
bool vnode_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b);

/*
 * An identity (a client host's name in the hello, a volume's owner): the
 * @len bytes at @s are 1 to VNODE_AUTH_IDENT_LEN - 1 of [A-Za-z0-9._-].
 */
bool vnode_valid_identity(const char *s, size_t len);

/*
 * Start tearing a disk down unless it is open: under open_mutex, so no
 * open can slip in between the check and @closing being set (the disk's
 * ->open refuses once it is).  -EBUSY if it is open.
 */
static inline int vnode_disk_close_unless_open(struct gendisk *disk,
					       bool *closing)
{
	int ret = 0;

	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk))
		ret = -EBUSY;
	else
		WRITE_ONCE(*closing, true);
	mutex_unlock(&disk->open_mutex);
	return ret;
}

/*
 * The store of a configfs attribute that may only change while its object
 * is disabled: under @lock, -EBUSY if @enabled, else run @assign and
 * return @count.
 *
 *	return vnode_cfs_store_disabled(&cfg->lock, cfg->dev, count,
 *					WRITE_ONCE(cfg->size, size));
 */
#define vnode_cfs_store_disabled(lock, enabled, count, assign)	\
({									\
	ssize_t __vn_ret = (count);					\
									\
	mutex_lock(lock);						\
	if (enabled)							\
		__vn_ret = -EBUSY;					\
	else								\
		assign;							\
	mutex_unlock(lock);						\
	__vn_ret;							\
})

/*
 * Messages about one object (a disk, a volume, a configfs item) carry its
 * name in angle brackets after the module prefix (pr_fmt), and the peer
 * when one is concerned:
 *
 *	vnode_proc: <vnmem0> memory host 10.0.0.2:7470: cannot connect: ...
 *	vnode_vol: <vnblk0@10.0.0.3:7471> volume v0 reopened: resuming I/O
 *
 * @lvl is a pr_<lvl> suffix: err, warn, info, err_ratelimited...
 */
#define vnode_log(lvl, obj, fmt, ...) \
	pr_##lvl("<%s> " fmt, (obj), ##__VA_ARGS__)
#define vnode_log_peer(lvl, obj, peer, fmt, ...) \
	pr_##lvl("<%s@%s> " fmt, (obj), (peer), ##__VA_ARGS__)

/*
 * Fault injection at vnode's own allocation sites (docs/debug-kernel.md),
 * in VNODE_TEST_HOOKS builds for a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS
 * (the lab's debug kernel): /sys/kernel/debug/fail_vnode/ is a standard
 * fault_attr (probability, interval, times, verbose, task-filter...), so a
 * test can fail vnode's allocations, in any context, without failing the
 * rest of the kernel's.  Elsewhere these are the bare expressions.
 *
 *	q = vnode_fault(kzalloc(sizeof(*q), GFP_KERNEL));	NULL
 *	cq = vnode_fault_err(ib_alloc_cq(...));			ERR_PTR(-ENOMEM)
 *	ret = vnode_fault_ret(rdma_create_qp(...));		-ENOMEM
 */
#if defined(VNODE_TEST_HOOKS) && IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
#define VNODE_FAULT_INJECTION
bool vnode_should_fail(void);
#else
static inline bool vnode_should_fail(void)
{
	return false;
}
#endif
#define vnode_fault(expr)	(vnode_should_fail() ? NULL : (expr))
#define vnode_fault_err(expr)	(vnode_should_fail() ? ERR_PTR(-ENOMEM) : (expr))
#define vnode_fault_ret(expr)	(vnode_should_fail() ? -ENOMEM : (expr))

#endif /* VNODE_COMMON_H */
