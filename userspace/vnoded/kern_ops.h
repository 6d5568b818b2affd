/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How kern.c's and kern_vol.c's operations reach the kernel: an ops
 * table chosen by vn_kern_init().  vn_kern_real_ops (kern.c) talks to cgroupfs, configfs,
 * sysfs and runs the helpers; vn_kern_fake_ops (tests/unit/fake_kern.c)
 * stands in for the kernel below a sysroot, which is a plain directory,
 * for the unit tests and `vnoded --sysroot`.
 *
 * Two kinds of members:
 *  - actions, which both tables implement (the fake by imitating the
 *    kernel with plain files);
 *  - after_* hooks: what the kernel does by itself once an action
 *    succeeded (a disk gets its dev, /proc/swaps lists a swap device...).
 *    The real table leaves them NULL: the kernel does it.
 */
#ifndef VN_KERN_OPS_H
#define VN_KERN_OPS_H

#include "kern.h"

struct vn_kern_ops {
	const char *name;		/* "kernel", "fake" */
	/* Write val to an attribute; -errno.  The fake creates the file. */
	int (*write)(const struct vn_kern *k, const char *path, const char *val);
	/* What to write to a cgroup.subtree_control that reads cur to
	 * enable controller ctl ("+ctl"; the fake's file is a word list). */
	void (*subtree_val)(const char *cur, const char *ctl, char *val,
			    size_t len);
	/* Whether a pid listed in cgroup.procs still counts. */
	bool (*member_alive)(pid_t pid);
	int (*cg_attach)(const struct vn_kern *k, const char *name, pid_t pid,
			 struct vn_err *err);
	/* rmdir of a configfs item or cgroup; -errno. */
	int (*rmdir)(const char *path);
	/* /dev/<dev> exists (udev may not run in a minimal guest). */
	int (*devnode)(const struct vn_kern *k, const char *dev,
		       struct vn_err *err);
	/* Run a helper for at most timeout_ms; see vn_run(). */
	int (*run)(const struct vn_kern *k, char *const argv[], int timeout_ms,
		   struct vn_err *err);
	/* enable=1 of vnode_vol item `item`; -errno (err may be set). */
	int (*vol_enable)(const struct vn_kern *k, const char *item,
			  struct vn_err *err);
	/* See vn_fs_probe() and vn_fs_mount_fd(). */
	int (*fs_probe)(const struct vn_kern *k, const char *item,
			const char *dev);
	int (*fs_mount_fd)(const struct vn_kern *k, const char *dev, bool nosuid,
			   int *fd, struct vn_err *err);

	/* after an action succeeded (NULL: the kernel does it) */
	void (*after_cg_kill)(const struct vn_kern *k, const char *name);
	void (*after_disk_enable)(const struct vn_kern *k, const char *disk);
	void (*after_swapon)(const struct vn_kern *k, const char *devpath);
	void (*after_stor_enable)(const struct vn_kern *k, const char *name);
	void (*after_vol_disable)(const struct vn_kern *k, const char *item);
	void (*after_mkfs)(const struct vn_kern *k, const char *item);
	/* a vNode's accounting object's attributes appear (the fake's:
	 * files) */
	void (*after_acct_mkdir)(const struct vn_kern *k, const char *name);
	/* a fabric link's attributes appear (the fake's: files) */
	void (*after_fabric_mkdir)(const struct vn_kern *k, const char *name);
};

extern const struct vn_kern_ops vn_kern_real_ops;
extern const struct vn_kern_ops vn_kern_fake_ops;

/* k's table (a vn_kern that was only zeroed is the real kernel). */
const struct vn_kern_ops *vn_kern_ops_of(const struct vn_kern *k);
/* Write val to the file at path through the table; -errno. */
int vn_kwrite(const struct vn_kern *k, const char *path, const char *val);
/* The same for a path below the sysroot given as a format, with a message
 * in err. */
int vn_kwritef(const struct vn_kern *k, struct vn_err *err, const char *val,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* BASE/<item> is a directory (a configfs item, a cgroup). */
bool vn_kitem_exists(const struct vn_kern *k, const char *base,
		     const char *item);

/* BASE/<item>/<attr> as a string ("" if unreadable) or a number (0). */
void vn_kitem_str(const struct vn_kern *k, const char *base, const char *item,
		  const char *attr, char *buf, size_t len);
uint64_t vn_kitem_u64(const struct vn_kern *k, const char *base,
		      const char *item, const char *attr);

/* Members of vn_kern_real_ops that live in kern.c's sibling kern_vol.c
 * (and the device node one kern_vol.c uses). */
int vn_kern_real_devnode(const struct vn_kern *k, const char *dev,
			 struct vn_err *err);
int vn_kern_real_vol_enable(const struct vn_kern *k, const char *item,
			    struct vn_err *err);
int vn_kern_real_fs_probe(const struct vn_kern *k, const char *item,
			  const char *dev);
int vn_kern_real_fs_mount_fd(const struct vn_kern *k, const char *dev,
			     bool nosuid, int *fd, struct vn_err *err);

#endif /* VN_KERN_OPS_H */
