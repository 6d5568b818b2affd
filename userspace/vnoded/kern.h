/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything vnoded does to the kernel goes through here: cgroup v2,
 * vnode_proc's configfs (remote-memory disk + per-vNode accounting),
 * /proc/swaps, and the mkswap/swapon/swapoff helpers.
 *
 * How an operation reaches the kernel is an ops table (kern_ops.h)
 * chosen by vn_kern_init().  With a sysroot (vnoded --sysroot DIR or
 * VNODE_SYSROOT) every path is prefixed with DIR and the fake table
 * (tests/unit/fake_kern.c) stands in for the parts a plain directory
 * cannot do: commands are appended to DIR/commands.log instead of run,
 * enable=1 fills in dev/state, swapon appends to DIR/proc/swaps,
 * cgroup.kill empties cgroup.procs.  That is what the host-side unit
 * tests run against.
 */
#ifndef VN_KERN_H
#define VN_KERN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "opts.h"
#include "util.h"

#define VN_CGROOT	"/sys/fs/cgroup"
#define VN_CGPARENT	"vnode"
#define VN_CFS		"/sys/kernel/config/vnode"

struct vn_kern_ops;

struct vn_kern {
	char root[PATH_MAX];	/* "" = the real system */
	char cgparent[256];	/* below VN_CGROOT; VN_CGPARENT by default */
	const struct vn_kern_ops *ops;	/* NULL (zeroed) = the real kernel */
};

struct vn_disk_info {
	bool exists;		/* configfs mem/<disk> exists */
	bool enabled;
	char dev[32];		/* "vnmem0" or "" */
	char hosts[512];
	uint64_t size;
	int replicas;
	char state[32];
	bool swap_active;
	/* hosts the enabled disk gave up on (DEAD or CLOSED), "a:p,b:p" */
	char gone[512];
	/* mapped slabs with fewer valid copies than replicas (sysfs at_risk) */
	uint64_t at_risk;
	uint64_t heal_bytes;	/* bytes re-replicated so far */
	uint64_t heal_ms;	/* time healing now, else the last heal's */
};

/* No sysroot (NULL, "" or "/"): the real kernel; else the fake below it. */
int vn_kern_init(struct vn_kern *k, const char *sysroot, struct vn_err *err);
/* The fake kernel (a sysroot) is in use. */
bool vn_kern_fake(const struct vn_kern *k);
int vn_kpath(const struct vn_kern *k, char *buf, size_t len,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* vnode_xprt's configfs: this host's identity (what the kernel's
 * connections, vnode_vol's among them, present as their hello's name). */
#define VN_XPRT_CFS	"/sys/kernel/config/vnode_xprt"
/* The kernel's identity from VN_XPRT_CFS/identity; if unreadable (module
 * not loaded) its default: the node name if it is a valid identity, else
 * "vnode".  len at least VNODE_AUTH_IDENT_LEN (16). */
void vn_kern_identity(const struct vn_kern *k, char *buf, size_t len);

/*
 * vnode_xprt's fabric emulation (kern_fabric.c; docs/abi-mem-host.md): a
 * link per remote host, configfs VN_FABRIC_CFS/NAME, that adds time to
 * every data operation to the host and caps its bandwidth.
 */
#define VN_FABRIC_CFS	VN_XPRT_CFS "/fabric"

struct vn_fabric_link {
	char addr[64];		/* the host ("" = none yet), as the kernel prints it */
	uint32_t delay_us, per_kib_ns, jitter_us, read_mbps, write_mbps;
	char jitter[8];		/* uniform | normal */
};

/* stats: totals since the link was made (times in us); per direction
 * too (0 from a vnode_xprt that does not count them) */
struct vn_fabric_stats {
	int64_t clients, ops, held, read_bytes, write_bytes;
	int64_t wire_us, added_us, late_us, early_us;
	int64_t read_ops, write_ops, read_wire_us, write_wire_us;
};

/* Link NAME; -ENOENT if there is none. */
int vn_fabric_get(const struct vn_kern *k, const char *name,
		  struct vn_fabric_link *l);
/* Make link NAME if it is missing and write l, addr first.  On failure a
 * link made here is removed and an old one gets its old values back.
 * Another link with the same host: -EEXIST naming it. */
int vn_fabric_put(const struct vn_kern *k, const char *name,
		  const struct vn_fabric_link *l, struct vn_err *err);
int vn_fabric_stats(const struct vn_kern *k, const char *name,
		    struct vn_fabric_stats *st);
/* rmdir; a missing link is not an error. */
int vn_fabric_remove(const struct vn_kern *k, const char *name,
		     struct vn_err *err);
/* The name of a link other than skip whose host is addr: 0, or -ENOENT. */
int vn_fabric_find(const struct vn_kern *k, const char *addr, const char *skip,
		   char *name, size_t len);

/* cgroup v2: /sys/fs/cgroup/<cgparent>/<name>.  The parent is "vnode"
 * (vnoded's own, a child of the root) unless set (vnoded --cgroup) to a
 * cgroup systemd delegates: then vnoded writes nothing above it. */
int vn_kern_set_cgparent(struct vn_kern *k, const char *rel,
			 struct vn_err *err);
const char *vn_cg_parent(const struct vn_kern *k);
int vn_cg_check(const struct vn_kern *k, bool need_cpuset, struct vn_err *err);
int vn_cg_create(const struct vn_kern *k, const char *name,
		 struct vn_err *err);
int vn_cg_exists(const struct vn_kern *k, const char *name);
int vn_cg_set_limits(const struct vn_kern *k, const char *name,
		     uint64_t mem_max, uint64_t swap_max, const char *cpus,
		     struct vn_err *err);
int vn_cg_id(const struct vn_kern *k, const char *name, uint64_t *id);
int vn_cg_nprocs(const struct vn_kern *k, const char *name);
int vn_cg_kill(const struct vn_kern *k, const char *name, int timeout_ms,
	       struct vn_err *err);
int vn_cg_remove(const struct vn_kern *k, const char *name,
		 struct vn_err *err);
int vn_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
		 struct vn_err *err);
int vn_cg_read_u64(const struct vn_kern *k, const char *name,
		   const char *file, uint64_t *val);
/* The path of vNode `name`'s cgroup (NULL: their parent), or of its
 * `file` (NULL: the directory), below the sysroot. */
int vn_cg_path(const struct vn_kern *k, char *buf, size_t len,
	       const char *name, const char *file);
bool vn_cpus_valid(const char *cpus);

/* configfs vnodes/<name>: per-vNode accounting in vnode_proc */
int vn_acct_create(const struct vn_kern *k, const char *name,
		   uint64_t cgroup_id, struct vn_err *err);
int vn_acct_exists(const struct vn_kern *k, const char *name);
int vn_acct_get_cgid(const struct vn_kern *k, const char *name, uint64_t *id);
int vn_acct_remove(const struct vn_kern *k, const char *name,
		   struct vn_err *err);
/* Prefetching of the vNode's swap-ins (its `prefetch` attribute):
 * *on from what the kernel reads back; -ENOENT if the item or the
 * attribute is missing (a vnode_proc without prefetching). */
int vn_acct_get_prefetch(const struct vn_kern *k, const char *name, bool *on);
/* Make it `on`: 0 if it already was, 1 once written, or -errno with err
 * set.  Off needs nothing of a vnode_proc without prefetching; on is
 * -EOPNOTSUPP there. */
int vn_acct_set_prefetch(const struct vn_kern *k, const char *name, bool on,
			 struct vn_err *err);
/* The vNode's memory protection profile (its `protect` attribute: none,
 * crc) into buf; -ENOENT if the item or the attribute is missing (a
 * vnode_proc without protection). */
int vn_acct_get_protect(const struct vn_kern *k, const char *name, char *buf,
			size_t len);
/* Make it p: 0 if it already was, 1 once written, or -errno with err
 * set.  None needs nothing of a vnode_proc without protection; anything
 * else is -EOPNOTSUPP there, and a profile the kernel refuses (aead
 * today) -EINVAL ("vnode_proc refused protect 'aead' ..."). */
int vn_acct_set_protect(const struct vn_kern *k, const char *name,
			enum vn_protect p, struct vn_err *err);
/* Adds faults, pages_in, ..., the prefetch counters (prefetch_issued,
 * prefetch_hits, prefetch_wasted: pages), the protect counters
 * (protect_errors: pages whose check failed on a copy; protect_failed:
 * swap-ins no copy of which passed) and lat_hist_us to obj; missing
 * attributes are skipped.  Returns -ENOENT if the object is absent. */
int vn_acct_read(const struct vn_kern *k, const char *name, json_object *obj);
/* vnode_proc's lat_hist ("<=50us:N <=100us:N ... <=1000000us:N", the last
 * bucket counting anything slower too) as a JSON object in the same order:
 * {"le_50": N, "le_100": N, ..., "gt_500000": N}. */
json_object *vn_hist_parse(const char *s);

/* configfs mem/<disk> + swap */
int vn_disk_info(const struct vn_kern *k, const char *disk,
		 struct vn_disk_info *di);

/* One line of /sys/block/DEV/vnode/hosts. */
struct vn_disk_host {
	char addr[64];		/* "addr:port" */
	char state[16];		/* LIVE, RECONNECTING, DEAD, ... */
	long slabs;
	char drain[12];		/* "-", draining, stuck or drained */
};

#define VN_DISK_MAX_HOSTS 8
/* The memory hosts of enabled disk DEV; returns how many (<= max) or -1. */
int vn_disk_hosts(const struct vn_kern *k, const char *dev,
		  struct vn_disk_host *h, int max);
int vn_disk_setup(const struct vn_kern *k, const char *disk,
		  const char *hosts, uint64_t size, int replicas,
		  struct vn_disk_info *di, struct vn_err *err);
int vn_swap_on(const struct vn_kern *k, const char *dev, bool mkswap,
	       struct vn_err *err);
bool vn_swap_active(const struct vn_kern *k, const char *dev);

/*
 * Remote volumes.  Storage host: vnode_stor's configfs volumes/<name>
 * {size,client,owner,enable,state,stats} (used by vnoded --agent).  Process
 * host: vnode_vol's configfs <item>/{host,volume,enable,dev,state,size}.
 */
#define VN_STOR_CFS	"/sys/kernel/config/vnode_stor/volumes"
#define VN_VOL_CFS	"/sys/kernel/config/vnode_vol"

struct vn_stor_vol {
	uint64_t size;
	char client[64];
	char owner[16];		/* the identity it belongs to, "" = its first opener's */
	bool enabled;
	char state[96];		/* disabled | enabled | open ADDR:PORT */
	char stats[256];
	char volume_id[24];	/* hex id of its data; "" if the module has none */
};

/* Storage host. */
int vn_stor_check(const struct vn_kern *k, struct vn_err *err);
/* mkdir + size + client + owner (unless "") + enable; undone on any
 * error. */
int vn_stor_create(const struct vn_kern *k, const char *name, uint64_t size,
		   const char *client, const char *owner, struct vn_err *err);
/* -ENOENT if there is no such volume. */
int vn_stor_get(const struct vn_kern *k, const char *name,
		struct vn_stor_vol *v);
/* enable=1 of an existing (e.g. just re-created) item. */
int vn_stor_enable(const struct vn_kern *k, const char *name,
		   struct vn_err *err);
/* Disable (retried while the client still has it open) and rmdir, which
 * deletes the data. */
int vn_stor_delete(const struct vn_kern *k, const char *name, int timeout_ms,
		   struct vn_err *err);
/* Names of all volumes (JSON array of strings). */
int vn_stor_names(const struct vn_kern *k, json_object **names);
/* Free space of a directory backing store (0 if unknown). */
uint64_t vn_stor_free(const struct vn_kern *k);

struct vn_vol_info {
	bool exists;
	bool enabled;
	char dev[32];
	char state[32];		/* disabled | live | reconnecting | dead */
	char host[96];
	char volume[32];
	uint64_t size;
};

/* Process host. */
int vn_vol_info(const struct vn_kern *k, const char *item,
		struct vn_vol_info *vi);
/* Attach volume `volume` of host:port as configfs item `item`; *dev gets
 * "vnblkN" and /dev/vnblkN exists on return.  An item that is already
 * enabled with the same host and volume is kept. */
int vn_vol_attach(const struct vn_kern *k, const char *item, const char *host,
		  int port, const char *volume, char *dev, size_t devlen,
		  struct vn_err *err);
/* enable=0 (retried for timeout_ms while the disk is open/mounted), rmdir. */
int vn_vol_detach(const struct vn_kern *k, const char *item, int timeout_ms,
		  struct vn_err *err);

/* What is on a disk: 1 ext4, 0 blank (first 64 KiB zero), -EMEDIUMTYPE
 * something else, or -errno. */
int vn_fs_probe(const struct vn_kern *k, const char *item, const char *dev);
/* mkfs.ext4 with the root directory owned by uid:gid. */
int vn_mkfs(const struct vn_kern *k, const char *item, const char *dev,
	    uid_t uid, gid_t gid, struct vn_err *err);
/* A detached mount of the ext4 on /dev/<dev> (fsopen/fsmount): nothing
 * appears in any mount namespace until somebody move_mount()s it. */
int vn_fs_mount_fd(const struct vn_kern *k, const char *dev, bool nosuid,
		   int *fd, struct vn_err *err);
/* mkdir -p below the sysroot. */
int vn_mkdir_p(const struct vn_kern *k, const char *path, mode_t mode,
	       struct vn_err *err);

#define VN_RUN_TIMEOUT_MS	60000

/* Run a helper (argv[0] looked up in PATH, no shell), at most
 * VN_RUN_TIMEOUT_MS; its stdout and stderr end the message of a failure
 * ("TOOL failed (exit N): what it said"); fake: log to commands.log. */
int vn_run(const struct vn_kern *k, char *const argv[], struct vn_err *err);
/* The same with its own bound (a helper that writes a whole volume). */
int vn_run_timeout(const struct vn_kern *k, char *const argv[], int timeout_ms,
		   struct vn_err *err);
/* Reap helpers that were killed on timeout. */
void vn_reap_children(void);

#endif /* VN_KERN_H */
