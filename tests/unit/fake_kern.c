// SPDX-License-Identifier: GPL-2.0
/*
 * The fake kernel: vnoded/kern.c's operations below a sysroot, a plain
 * directory standing in for /sys/fs/cgroup, configfs, /proc/swaps and
 * /dev (vnoded/kern_ops.h).  vn_kern_init() picks it when given a
 * sysroot: the unit tests (tests/unit/test_vnode.c, test_volume.c,
 * test_json.c, test_kern.c) and `vnoded --sysroot DIR` / VNODE_SYSROOT,
 * which links it for the same purpose.
 *
 * What a plain directory cannot do by itself: helpers (mkswap, swapon,
 * mkfs.ext4) are appended to DIR/commands.log instead of run; attribute
 * files are created on write; enable=1 fills in dev/state; swapon appends
 * to DIR/proc/swaps; cgroup.kill empties cgroup.procs and pids that exited
 * leave it; vnode_vol's enable fails with the errno in
 * DIR/fake/vol_enable_errno if that file exists; a volume's file system
 * is a `fake_fs` marker next to the storage host's volume; a mount is an
 * O_PATH directory under DIR/mnt.  vnode_xprt's fabric links: mkdir gives
 * a link its attributes with vnode_xprt's defaults and zero stats (tests
 * write stats to stand for traffic), and writes are checked as the kernel
 * checks them (out of range: -EINVAL; a second link to the same host:
 * -EEXIST; stats: -EACCES).  vnode_proc's accounting objects: mkdir gives
 * one its attributes, counters at zero (tests write the files to stand for
 * traffic), prefetch 0 or 1 and protect none or crc, with or without a
 * newline (anything else -EINVAL: aead too, as vnode_proc refuses it
 * today); a counter is -EACCES, an attribute it does not have -ENOENT.
 * With DIR/fake/no_prefetch present, new objects have no prefetch
 * attributes (a vnode_proc without prefetching); with DIR/fake/no_protect,
 * no protect attributes (a vnode_proc without protection).
 * Device-mapper: `integritysetup|cryptsetup open ... NAME` makes
 * DIR/dev/mapper/NAME and `close NAME` removes it; a helper fails
 * (exit 1, saying the file's text) when DIR/fake/fail-TOOL-VERB exists
 * (e.g. fail-cryptsetup-open).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "kern_ops.h"

/* A fabric link's attribute: what vnode_xprt takes (its ranges, one link
 * per host), or -EINVAL/-EEXIST/-EACCES as it answers.  addr is stored as
 * the kernel prints it (no port). */
static int fake_fabric_attr(const struct vn_kern *k, const char *path,
			    const char *val, char *out, size_t len)
{
	static const struct { const char *attr; unsigned long max; } nums[] = {
		{ "delay_us", 1000000 }, { "per_kib_ns", 1000000 },
		{ "jitter_us", 1000000 }, { "read_mbps", 1000000 },
		{ "write_mbps", 1000000 },
	};
	char base[PATH_MAX], name[NAME_MAX + 1], other[NAME_MAX + 1], a[64];
	const char *attr = strrchr(path, '/');
	unsigned long v;
	char *end;
	size_t i;
	int port;

	snprintf(out, len, "%s", val);
	if (!attr)
		return 0;
	attr++;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(attr, nums[i].attr))
			continue;
		errno = 0;
		v = strtoul(val, &end, 0);
		if (errno || end == val || (*end && *end != '\n') || val[0] == '-' ||
		    v > nums[i].max)
			return -EINVAL;
		return 0;
	}
	if (!strcmp(attr, "jitter"))
		return strcmp(val, "uniform") && strcmp(val, "normal") ? -EINVAL : 0;
	if (!strcmp(attr, "stats"))
		return -EACCES;
	if (strcmp(attr, "addr"))
		return -ENOENT;		/* configfs: no such attribute */
	if (vn_hostport_parse(val, 1, a, sizeof(a), &port) || !strcmp(a, "0.0.0.0"))
		return -EINVAL;
	vn_addr_canon(a, out, len);
	/* the link's name: the directory the attribute is in */
	snprintf(base, sizeof(base), "%.*s", (int)(attr - 1 - path), path);
	snprintf(name, sizeof(name), "%s", strrchr(base, '/') + 1);
	if (!vn_fabric_find(k, out, name, other, sizeof(other)))
		return -EEXIST;
	return 0;
}

/* An accounting object's attribute: cgroup_id as given, prefetch 0 or
 * 1, protect none or crc (read back with a newline), the rest read-only;
 * one that is not there: -ENOENT (configfs makes no files). */
static int fake_acct_attr(const char *path, const char *val, char *out,
			  size_t len)
{
	const char *attr = strrchr(path, '/') + 1;
	size_t n = strcspn(val, "\n");

	if (access(path, F_OK))
		return -ENOENT;
	if (!strcmp(attr, "cgroup_id")) {
		snprintf(out, len, "%s", val);
		return 0;
	}
	if (!strcmp(attr, "protect")) {
		if (!((n == 4 && !strncmp(val, "none", n)) || (n == 3 && !strncmp(val, "crc", n))) ||
		    (val[n] && strcmp(val + n, "\n")))
			return -EINVAL;
		snprintf(out, len, "%.*s\n", (int)n, val);
		return 0;
	}
	if (strcmp(attr, "prefetch"))
		return -EACCES;
	if ((val[0] != '0' && val[0] != '1') || (val[1] && strcmp(val + 1, "\n")))
		return -EINVAL;
	snprintf(out, len, "%c", val[0]);
	return 0;
}

/* Attribute files of a fake root do not exist until written (but those
 * of objects mkdir gives attributes). */
static int fake_write(const struct vn_kern *k, const char *path,
		      const char *val)
{
	char root[PATH_MAX], v[256];
	int ret;

	if (!vn_kpath(k, root, sizeof(root), VN_FABRIC_CFS "/") &&
	    !strncmp(path, root, strlen(root))) {
		ret = fake_fabric_attr(k, path, val, v, sizeof(v));
		return ret ? ret : vn_write_file(path, v, true);
	}
	if (!vn_kpath(k, root, sizeof(root), VN_CFS "/vnodes/") &&
	    !strncmp(path, root, strlen(root)) && strchr(path + strlen(root), '/')) {
		ret = fake_acct_attr(path, val, v, sizeof(v));
		return ret ? ret : vn_write_file(path, v, true);
	}
	return vn_write_file(path, val, true);
}

/* the file reads back as a word list */
static void fake_subtree_val(const char *cur, const char *ctl, char *val,
			     size_t len)
{
	snprintf(val, len, "%s%s%s", cur, *cur ? " " : "", ctl);
}

/* a pid that exited has left its cgroup */
static bool fake_member_alive(pid_t pid)
{
	return !(kill(pid, 0) && errno == ESRCH);
}

/* cgroup.procs lists members, so append */
static int fake_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
			  struct vn_err *err)
{
	char path[PATH_MAX];
	FILE *f;

	vn_kpath(k, path, sizeof(path),
		 VN_CGROOT "/%s/%s/cgroup.procs", vn_cg_parent(k), name);
	f = fopen(path, "ae");
	if (!f)
		return vn_seterr(err, errno, "%s: %s", path, strerror(errno));
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	return 0;
}

/* A fake cgroup directory holds plain files: remove them first. */
static int fake_rmdir(const char *path)
{
	struct dirent *de;
	char p[PATH_MAX];
	DIR *d = opendir(path);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!vn_path(p, sizeof(p), "%s/%s", path, de->d_name))
			unlink(p);
	}
	closedir(d);
	return rmdir(path) ? -errno : 0;
}


/* fake kernel: the lowest vnblkN no other item uses */
static void fake_vol_dev(const struct vn_kern *k, char *dev, size_t len)
{
	char path[PATH_MAX], buf[32];
	struct dirent *de;
	int n;

	for (n = 0; n < 1000; n++) {
		bool used = false;
		DIR *d;

		snprintf(dev, len, "vnblk%d", n);
		vn_kpath(k, path, sizeof(path), VN_VOL_CFS);
		d = opendir(path);
		while (d && (de = readdir(d))) {
			char p[PATH_MAX];

			if (de->d_name[0] == '.' ||
			    vn_kpath(k, p, sizeof(p), VN_VOL_CFS "/%s/dev", de->d_name))
				continue;
			if (!vn_read_file(p, buf, sizeof(buf)) && !strcmp(buf, dev))
				used = true;
		}
		if (d)
			closedir(d);
		if (!used)
			return;
	}
}


/* fake kernel: the "file system" of a volume is a marker file next to the
 * storage host's volume (the unit tests share one sysroot) */
static int fake_fs_path(const struct vn_kern *k, const char *item, char *path,
			size_t len)
{
	char vol[64];

	if (vn_kpath(k, path, len, VN_VOL_CFS "/%s/volume", item) ||
	    vn_read_file(path, vol, sizeof(vol)))
		return -ENOENT;
	return vn_kpath(k, path, len, VN_STOR_CFS "/%s/fake_fs", vol);
}


static int fake_devnode(const struct vn_kern *k, const char *dev,
			struct vn_err *err)
{
	(void)k;
	(void)dev;
	(void)err;
	return 0;
}

/* dm's /dev/mapper/NAME, made by `... open ... DEV NAME`, gone on
 * `... close NAME` (integritysetup, cryptsetup) */
static void fake_dm(const struct vn_kern *k, char *const argv[], int argc)
{
	char path[PATH_MAX];

	if (argc < 3 || (strcmp(argv[0], "integritysetup") && strcmp(argv[0], "cryptsetup")))
		return;
	if (!strcmp(argv[1], "open") &&
	    !vn_kpath(k, path, sizeof(path), "/dev/mapper/%s", argv[argc - 1])) {
		vn_mkdir_p(k, "/dev/mapper", 0755, NULL);
		fake_write(k, path, "dm");
	} else if (!strcmp(argv[1], "close") &&
		   !vn_kpath(k, path, sizeof(path), "/dev/mapper/%s", argv[2])) {
		unlink(path);
	}
}

static int fake_run(const struct vn_kern *k, char *const argv[], int timeout_ms,
		    struct vn_err *err)
{
	char path[PATH_MAX], said[256];
	FILE *f;
	int i;

	(void)timeout_ms;
	vn_kpath(k, path, sizeof(path), "/commands.log");
	f = fopen(path, "ae");
	if (!f)
		return vn_seterr(err, errno, "%s: %s", path, strerror(errno));
	for (i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', f);
	fclose(f);
	/* DIR/fake/fail-TOOL-VERB: that command fails, saying what the file
	 * holds, as real_run reports a helper's failure */
	if (argv[1] && !vn_kpath(k, path, sizeof(path), "/fake/fail-%s-%s", argv[0], argv[1]) &&
	    !vn_read_file(path, said, sizeof(said)))
		return vn_seterr(err, EIO, "%s failed (exit 1): %s", argv[0], said);
	fake_dm(k, argv, i);
	return 0;
}

static int fake_vol_enable(const struct vn_kern *k, const char *item,
			   struct vn_err *err)
{
	char path[PATH_MAX], val[32];
	int ret;

	if (!vn_kpath(k, path, sizeof(path), "/fake/vol_enable_errno") &&
	    !vn_read_file(path, val, sizeof(val)))
		return -atoi(val);
	fake_vol_dev(k, val, sizeof(val));
	ret = vn_kwritef(k, err, "1", VN_VOL_CFS "/%s/enable", item);
	vn_kwritef(k, NULL, val, VN_VOL_CFS "/%s/dev", item);
	vn_kwritef(k, NULL, "live", VN_VOL_CFS "/%s/state", item);
	return ret;
}

static int fake_fs_probe(const struct vn_kern *k, const char *item,
			 const char *dev)
{
	char path[PATH_MAX], fs[32];

	(void)dev;
	if (fake_fs_path(k, item, path, sizeof(path)) ||
	    vn_read_file(path, fs, sizeof(fs)))
		return 0;
	return !strcmp(fs, "ext4") ? 1 : -EMEDIUMTYPE;
}

/* a directory stands in for the mount */
static int fake_fs_mount_fd(const struct vn_kern *k, const char *dev,
			    bool nosuid, int *fd, struct vn_err *err)
{
	char path[PATH_MAX], rel[64];

	(void)nosuid;
	snprintf(rel, sizeof(rel), "/mnt/%s", dev);
	if (vn_mkdir_p(k, rel, 0755, err) ||
	    vn_kpath(k, path, sizeof(path), "%s", rel))
		return -EIO;
	*fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *fd < 0 ? vn_seterr(err, errno, "%s: %s", path, strerror(errno)) : 0;
}

/* everything dies at once */
static void fake_after_cg_kill(const struct vn_kern *k, const char *name)
{
	vn_kwritef(k, NULL, "", VN_CGROOT "/%s/%s/cgroup.procs",
		   vn_cg_parent(k), name);
}

/* the disk appears */
static void fake_after_disk_enable(const struct vn_kern *k, const char *disk)
{
	struct vn_disk_info tmp;

	vn_disk_info(k, disk, &tmp);
	if (!tmp.dev[0])
		vn_kwritef(k, NULL, "vnmem0", VN_CFS "/mem/%s/dev", disk);
	vn_kwritef(k, NULL, "live", VN_CFS "/mem/%s/state", disk);
}

static void fake_after_swapon(const struct vn_kern *k, const char *devpath)
{
	char sw[PATH_MAX];
	FILE *f;

	vn_kpath(k, sw, sizeof(sw), "/proc/swaps");
	f = fopen(sw, "ae");
	if (f) {
		fprintf(f, "%s partition 0 0 100\n", devpath);
		fclose(f);
	}
}

/* vnode_stor's volume table, one file per name: the id of a volume's data
 * outlives its configfs item (a storage-host restart), not a lost backing
 * store (unlink the file); unlike the kernel's, rmdir keeps it too. */
static void fake_after_stor_enable(const struct vn_kern *k, const char *name)
{
	static unsigned int next = 0x100;
	char path[PATH_MAX], id[24] = "";

	if (!vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s/state", name))
		fake_write(k, path, "enabled");
	if (vn_kpath(k, path, sizeof(path), "/stor-table-%s", name))
		return;
	if (vn_read_file(path, id, sizeof(id)) || !id[0]) {
		snprintf(id, sizeof(id), "%016x", next++);
		fake_write(k, path, id);
	}
	vn_kwritef(k, NULL, id, VN_STOR_CFS "/%s/volume_id", name);
}

static void fake_after_vol_disable(const struct vn_kern *k, const char *item)
{
	vn_kwritef(k, NULL, "", VN_VOL_CFS "/%s/dev", item);
}

static void fake_after_mkfs(const struct vn_kern *k, const char *item)
{
	char p[PATH_MAX];

	if (!fake_fs_path(k, item, p, sizeof(p)))
		fake_write(k, p, "ext4");
}

/* configfs item dir (below the sysroot) made: its attributes, n
 * { name, first value } pairs, as files */
static void fake_item_attrs(const struct vn_kern *k, const char *dir,
			    const char *const (*attrs)[2], size_t n)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++)
		if (!vn_kpath(k, path, sizeof(path), "%s/%s", dir, attrs[i][0]))
			vn_write_file(path, attrs[i][1], true);
}

/* a new link: vnode_xprt's defaults, no traffic yet */
static void fake_after_fabric_mkdir(const struct vn_kern *k, const char *name)
{
	static const char *const attrs[][2] = {
		{ "addr", "" }, { "delay_us", "0" }, { "per_kib_ns", "0" },
		{ "jitter_us", "0" }, { "jitter", "uniform" }, { "read_mbps", "0" },
		{ "write_mbps", "0" },
		{ "stats", "clients 0\nops 0\nheld 0\nread_ops 0\nwrite_ops 0\nread_bytes 0\n"
			   "write_bytes 0\nwire_us 0\nread_wire_us 0\nwrite_wire_us 0\n"
			   "added_us 0\nlate_us 0\nearly_us 0\nread_late_us 0\nread_early_us 0" },
	};
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), VN_FABRIC_CFS "/%s", name);
	fake_item_attrs(k, dir, attrs, sizeof(attrs) / sizeof(attrs[0]));
}

/* a new accounting object: vnode_proc's attributes, nothing counted yet */
static void fake_after_acct_mkdir(const struct vn_kern *k, const char *name)
{
	static const char *const attrs[][2] = {
		{ "cgroup_id", "0" }, { "faults", "0" }, { "pages_in", "0" },
		{ "pages_out", "0" }, { "bytes_in", "0" }, { "bytes_out", "0" },
		{ "resident_pages", "0" },
		{ "lat_hist", "<=50us:0 <=100us:0 <=200us:0 <=500us:0 <=1000us:0 "
			      "<=2000us:0 <=5000us:0 <=10000us:0 <=20000us:0 "
			      "<=50000us:0 <=100000us:0 <=200000us:0 <=500000us:0 "
			      "<=1000000us:0" },
	};
	/* a vnode_proc with prefetching, with protection */
	static const char *const pf_attrs[][2] = {
		{ "prefetch", "0" }, { "prefetch_issued", "0" },
		{ "prefetch_hits", "0" }, { "prefetch_wasted", "0" },
	};
	static const char *const pr_attrs[][2] = {
		{ "protect", "none\n" }, { "protect_errors", "0" },
		{ "protect_failed", "0" },
	};
	char dir[PATH_MAX], off[PATH_MAX];

	snprintf(dir, sizeof(dir), VN_CFS "/vnodes/%s", name);
	fake_item_attrs(k, dir, attrs, sizeof(attrs) / sizeof(attrs[0]));
	if (!vn_kpath(k, off, sizeof(off), "/fake/no_prefetch") && access(off, F_OK))
		fake_item_attrs(k, dir, pf_attrs, sizeof(pf_attrs) / sizeof(pf_attrs[0]));
	if (!vn_kpath(k, off, sizeof(off), "/fake/no_protect") && access(off, F_OK))
		fake_item_attrs(k, dir, pr_attrs, sizeof(pr_attrs) / sizeof(pr_attrs[0]));
}

const struct vn_kern_ops vn_kern_fake_ops = {
	.name = "fake",
	.write = fake_write,
	.subtree_val = fake_subtree_val,
	.member_alive = fake_member_alive,
	.cg_attach = fake_cg_attach,
	.rmdir = fake_rmdir,
	.devnode = fake_devnode,
	.run = fake_run,
	.vol_enable = fake_vol_enable,
	.fs_probe = fake_fs_probe,
	.fs_mount_fd = fake_fs_mount_fd,
	.after_cg_kill = fake_after_cg_kill,
	.after_disk_enable = fake_after_disk_enable,
	.after_swapon = fake_after_swapon,
	.after_stor_enable = fake_after_stor_enable,
	.after_vol_disable = fake_after_vol_disable,
	.after_mkfs = fake_after_mkfs,
	.after_acct_mkdir = fake_after_acct_mkdir,
	.after_fabric_mkdir = fake_after_fabric_mkdir,
};
