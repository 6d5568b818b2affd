// SPDX-License-Identifier: GPL-2.0
/*
 * Remote volumes in the kernel: vnode_stor's configfs on a storage host
 * (used by vnoded --agent), vnode_vol's configfs on the process host, and
 * the ext4 on an attached volume (probe, mkfs, detached mount).  The rest
 * of the kernel interface is kern.c; both go through the ops table of
 * kern_ops.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "kern_ops.h"
#include "size.h"

/* ---- remote volumes: vnode_stor (storage host) ------------------------------ */

/* Write val to VN_STOR_CFS/<name>/<attr>; -errno. */
static int stor_write(const struct vn_kern *k, const char *name,
		      const char *attr, const char *val)
{
	char path[PATH_MAX];

	if (vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s/%s", name, attr))
		return -ENAMETOOLONG;
	return vn_kwrite(k, path, val);
}

static int stor_rmdir(const struct vn_kern *k, const char *name)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s", name);
	return vn_kern_ops_of(k)->rmdir(path);
}

int vn_stor_check(const struct vn_kern *k, struct vn_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	vn_kpath(k, path, sizeof(path), VN_STOR_CFS);
	if (stat(path, &st))
		return vn_seterr(err, ENODEV,
				 "vnode_stor is not loaded on the storage host (no %s)",
				 VN_STOR_CFS);
	return 0;
}

uint64_t vn_stor_free(const struct vn_kern *k)
{
	char path[PATH_MAX], buf[PATH_MAX];
	struct statvfs sv;

	vn_kpath(k, path, sizeof(path), "/sys/module/vnode_stor/parameters/backing");
	if (vn_read_file(path, buf, sizeof(buf)) || !buf[0])
		return 0;
	if (vn_kpath(k, path, sizeof(path), "%s", buf) || statvfs(path, &sv))
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

int vn_stor_enable(const struct vn_kern *k, const char *name,
		   struct vn_err *err)
{
	int ret = stor_write(k, name, "enable", "1");

	if (!ret && vn_kern_ops_of(k)->after_stor_enable)
		vn_kern_ops_of(k)->after_stor_enable(k, name);
	if (ret == -ENOSPC)
		return vn_seterr(err, ENOSPC,
				 "volume '%s' does not fit in the storage host's backing store",
				 name);
	if (ret == -EEXIST)
		return vn_seterr(err, EEXIST,
				 "the storage host's backing store holds a volume '%s' of another host or size (see its dmesg)",
				 name);
	if (ret)
		return vn_seterr(err, -ret, "enable volume '%s' on the storage host: %s",
				 name, strerror(-ret));
	return 0;
}

int vn_stor_create(const struct vn_kern *k, const char *name, uint64_t size,
		   const char *client, const char *owner, struct vn_err *err)
{
	char path[PATH_MAX], val[32];
	int ret;

	ret = vn_stor_check(k, err);
	if (ret)
		return ret;
	if (vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s", name))
		return vn_seterr(err, ENAMETOOLONG, "volume name too long");
	if (mkdir(path, 0755)) {
		if (errno == EEXIST)
			return vn_seterr(err, EEXIST,
					 "volume '%s' already exists on the storage host",
					 name);
		return vn_seterr(err, errno, "cannot create volume '%s': %s", name,
				 strerror(errno));
	}
	snprintf(val, sizeof(val), "%" PRIu64, size);
	ret = stor_write(k, name, "size", val);
	if (ret == -ENOSPC) {
		char s[32];

		vn_fmt_size(size, s, sizeof(s));
		vn_seterr(err, ENOSPC,
			  "volume '%s' of %s is larger than the storage host's backing store",
			  name, s);
		goto undo;
	}
	if (ret) {
		vn_seterr(err, -ret, "invalid volume size %s: %s", val, strerror(-ret));
		goto undo;
	}
	ret = stor_write(k, name, "client", client);
	if (ret) {
		vn_seterr(err, -ret, "invalid client address '%s': %s", client,
			  strerror(-ret));
		goto undo;
	}
	/* before enable: vnode_stor takes an owner only while disabled */
	ret = owner[0] ? stor_write(k, name, "owner", owner) : 0;
	if (ret) {
		vn_seterr(err, -ret, "invalid owner identity '%s': %s", owner,
			  strerror(-ret));
		goto undo;
	}
	ret = vn_stor_enable(k, name, err);
	if (ret)
		goto undo;
	return 0;
undo:
	stor_rmdir(k, name);
	return ret;
}

int vn_stor_get(const struct vn_kern *k, const char *name,
		struct vn_stor_vol *v)
{
	memset(v, 0, sizeof(*v));
	if (!vn_kitem_exists(k, VN_STOR_CFS, name))
		return -ENOENT;
	v->size = vn_kitem_u64(k, VN_STOR_CFS, name, "size");
	v->enabled = vn_kitem_u64(k, VN_STOR_CFS, name, "enable") != 0;
	vn_kitem_str(k, VN_STOR_CFS, name, "client", v->client, sizeof(v->client));
	vn_kitem_str(k, VN_STOR_CFS, name, "owner", v->owner, sizeof(v->owner));
	vn_kitem_str(k, VN_STOR_CFS, name, "state", v->state, sizeof(v->state));
	vn_kitem_str(k, VN_STOR_CFS, name, "stats", v->stats, sizeof(v->stats));
	vn_kitem_str(k, VN_STOR_CFS, name, "volume_id", v->volume_id, sizeof(v->volume_id));
	return 0;
}

/* Retry a write that fails with EBUSY (a disk still open) until timeout. */
static int write_retry_busy(const struct vn_kern *k, const char *path,
			    const char *val, int timeout_ms)
{
	int64_t end = vn_mono_ms() + timeout_ms;
	int ret;

	while ((ret = vn_kwrite(k, path, val)) == -EBUSY && vn_mono_ms() < end) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	return ret;
}

int vn_stor_delete(const struct vn_kern *k, const char *name, int timeout_ms,
		   struct vn_err *err)
{
	char path[PATH_MAX];
	struct vn_stor_vol v;
	int ret;

	if (vn_stor_get(k, name, &v))
		return vn_seterr(err, ENOENT, "no volume '%s' on the storage host", name);
	if (v.enabled) {
		vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s/enable", name);
		ret = write_retry_busy(k, path, "0", timeout_ms);
		if (ret == -EBUSY)
			return vn_seterr(err, EBUSY,
					 "volume '%s' is still open by its process host (%s)",
					 name, v.state);
		if (ret)
			return vn_seterr(err, -ret, "disable volume '%s': %s", name,
					 strerror(-ret));
	}
	ret = stor_rmdir(k, name);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "delete volume '%s': %s", name, strerror(-ret));
	return 0;
}

/* json_object_array_sort()'s comparator: two json_object ** (strings) */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(json_object *const *)a),
		      json_object_get_string(*(json_object *const *)b));
}

int vn_stor_names(const struct vn_kern *k, json_object **names)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	vn_kpath(k, path, sizeof(path), VN_STOR_CFS);
	d = opendir(path);
	if (!d)
		return -errno;
	*names = json_object_new_array();
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			json_object_array_add(*names, json_object_new_string(de->d_name));
	closedir(d);
	json_object_array_sort(*names, name_cmp);
	return 0;
}

/* ---- remote volumes: vnode_vol (process host) ------------------------------ */

int vn_vol_info(const struct vn_kern *k, const char *item,
		struct vn_vol_info *vi)
{
	memset(vi, 0, sizeof(*vi));
	if (!vn_kitem_exists(k, VN_VOL_CFS, item))
		return 0;
	vi->exists = true;
	vi->enabled = vn_kitem_u64(k, VN_VOL_CFS, item, "enable") != 0;
	vi->size = vn_kitem_u64(k, VN_VOL_CFS, item, "size");
	vn_kitem_str(k, VN_VOL_CFS, item, "dev", vi->dev, sizeof(vi->dev));
	vn_kitem_str(k, VN_VOL_CFS, item, "state", vi->state, sizeof(vi->state));
	vn_kitem_str(k, VN_VOL_CFS, item, "host", vi->host, sizeof(vi->host));
	vn_kitem_str(k, VN_VOL_CFS, item, "volume", vi->volume, sizeof(vi->volume));
	return 0;
}

static const char *vol_enable_hint(int e)
{
	switch (e) {
	case ECONNREFUSED: case ETIMEDOUT: case EHOSTUNREACH: case ENETUNREACH:
		return "the storage host does not answer on its vnode_stor port";
	case ENOENT:
		return "the storage host has no such enabled volume";
	case EACCES: case EPERM:
		return "the volume is exported to another host";
	default:
		return strerror(e);
	}
}

int vn_vol_attach(const struct vn_kern *k, const char *item, const char *host,
		  int port, const char *volume, char *dev, size_t devlen,
		  struct vn_err *err)
{
	char path[PATH_MAX], hp[128];
	struct vn_vol_info vi;
	struct stat st;
	int ret;

	vn_kpath(k, path, sizeof(path), VN_VOL_CFS);
	if (stat(path, &st))
		return vn_seterr(err, ENODEV,
				 "vnode_vol is not loaded on this host (no %s)", VN_VOL_CFS);
	snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	vn_vol_info(k, item, &vi);
	if (vi.enabled) {
		if (strcmp(vi.volume, volume) || !strstr(vi.host, host))
			return vn_seterr(err, EEXIST,
					 "%s/%s is in use for volume '%s' of %s",
					 VN_VOL_CFS, item, vi.volume, vi.host);
		goto have_dev;
	}
	if (vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s", item))
		return vn_seterr(err, ENAMETOOLONG, "volume name too long");
	if (mkdir(path, 0755) && errno != EEXIST)
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	ret = vn_kwritef(k, err, hp, VN_VOL_CFS "/%s/host", item);
	if (!ret)
		ret = vn_kwritef(k, err, volume, VN_VOL_CFS "/%s/volume", item);
	if (ret)
		goto undo;
	ret = vn_kern_ops_of(k)->vol_enable(k, item, err);
	if (ret) {
		vn_seterr(err, -ret, "cannot attach volume '%s' of %s: %s", volume, hp,
			  vol_enable_hint(-ret));
		goto undo;
	}
	vn_vol_info(k, item, &vi);
have_dev:
	if (!vi.dev[0]) {
		ret = vn_seterr(err, ENODEV, "volume '%s' attached but has no dev", volume);
		goto undo;
	}
	ret = vn_kern_ops_of(k)->devnode(k, vi.dev, err);
	if (ret)
		goto undo;
	snprintf(dev, devlen, "%s", vi.dev);
	return 0;
undo:
	vn_vol_detach(k, item, 0, NULL);
	return ret;
}

int vn_vol_detach(const struct vn_kern *k, const char *item, int timeout_ms,
		  struct vn_err *err)
{
	char path[PATH_MAX];
	struct vn_vol_info vi;
	int ret;

	vn_vol_info(k, item, &vi);
	if (!vi.exists)
		return 0;
	if (vi.enabled) {
		vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s/enable", item);
		ret = write_retry_busy(k, path, "0", timeout_ms);
		if (ret == -EBUSY)
			return vn_seterr(err, EBUSY,
					 "/dev/%s (volume %s) is still mounted or open", vi.dev,
					 vi.volume);
		if (ret)
			return vn_seterr(err, -ret, "detach /dev/%s: %s", vi.dev,
					 strerror(-ret));
		if (vn_kern_ops_of(k)->after_vol_disable)
			vn_kern_ops_of(k)->after_vol_disable(k, item);
	}
	vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s", item);
	ret = vn_kern_ops_of(k)->rmdir(path);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

int vn_fs_probe(const struct vn_kern *k, const char *item, const char *dev)
{
	return vn_kern_ops_of(k)->fs_probe(k, item, dev);
}

int vn_kern_real_fs_probe(const struct vn_kern *k, const char *item,
			  const char *dev)
{
	static const unsigned char magic[2] = { 0x53, 0xef };
	unsigned char *buf;
	char path[PATH_MAX];
	ssize_t n, i;
	int fd, ret;

	(void)k;
	(void)item;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(65536);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, buf, 65536, 0);
	ret = n < 0 ? -errno : n < 2048 ? -EIO : 0;
	close(fd);
	if (!ret) {
		/* ext2/3/4: superblock at 1024, s_magic at offset 56 */
		if (!memcmp(buf + 1024 + 56, magic, 2)) {
			ret = 1;
		} else {
			for (i = 0; i < n && !buf[i]; i++)
				;
			ret = i == n ? 0 : -EMEDIUMTYPE;
		}
	}
	free(buf);
	return ret;
}

int vn_mkfs(const struct vn_kern *k, const char *item, const char *dev,
	    uid_t uid, gid_t gid, struct vn_err *err)
{
	char path[64], opt[96];
	/* a new volume reads zeroes already: no discard pass */
	char *argv[] = { "mkfs.ext4", "-q", "-F", "-L", (char *)item, "-E", opt,
			 path, NULL };
	int ret;

	snprintf(path, sizeof(path), "/dev/%s", dev);
	snprintf(opt, sizeof(opt), "nodiscard,root_owner=%u:%u", (unsigned int)uid,
		 (unsigned int)gid);
	ret = vn_run(k, argv, err);
	if (!ret && vn_kern_ops_of(k)->after_mkfs)
		vn_kern_ops_of(k)->after_mkfs(k, item);
	return ret;
}

int vn_fs_mount_fd(const struct vn_kern *k, const char *dev, bool nosuid,
		   int *fd, struct vn_err *err)
{
	return vn_kern_ops_of(k)->fs_mount_fd(k, dev, nosuid, fd, err);
}

int vn_kern_real_fs_mount_fd(const struct vn_kern *k, const char *dev,
			     bool nosuid, int *fd, struct vn_err *err)
{
	char path[PATH_MAX];
	int fs, mfd;

	(void)k;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	fs = fsopen("ext4", FSOPEN_CLOEXEC);
	if (fs < 0)
		return vn_seterr(err, errno, "fsopen(ext4): %s", strerror(errno));
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", path, 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		int e = errno;

		close(fs);
		return vn_seterr(err, e, "mount ext4 on %s: %s", path, strerror(e));
	}
	mfd = fsmount(fs, FSMOUNT_CLOEXEC,
		      nosuid ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : 0);
	if (mfd < 0) {
		int e = errno;

		close(fs);
		return vn_seterr(err, e, "fsmount %s: %s", path, strerror(e));
	}
	close(fs);
	*fd = mfd;
	return 0;
}

/* ---- the real kernel's volume members ------------------------------------- */

int vn_kern_real_vol_enable(const struct vn_kern *k, const char *item,
			    struct vn_err *err)
{
	char path[PATH_MAX];

	(void)err;
	vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s/enable", item);
	return vn_kwrite(k, path, "1");
}
