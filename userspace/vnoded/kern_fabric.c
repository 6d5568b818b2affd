// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt's fabric emulation links in the kernel (kern.h): configfs
 * vnode_xprt/fabric/NAME with addr, delay_us, per_kib_ns, jitter_us,
 * jitter, read_mbps, write_mbps and the read-only stats.  The rest of the
 * kernel interface is kern.c and kern_vol.c; all go through the ops table
 * of kern_ops.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "kern_ops.h"

/* The numeric attributes, in the order they are written. */
static const char *const num_attrs[] = {
	"delay_us", "per_kib_ns", "jitter_us", "read_mbps", "write_mbps",
};

static uint32_t *num_field(struct vn_fabric_link *l, int i)
{
	uint32_t *f[] = { &l->delay_us, &l->per_kib_ns, &l->jitter_us,
			  &l->read_mbps, &l->write_mbps };

	return f[i];
}

static uint32_t num_val(const struct vn_fabric_link *l, int i)
{
	const uint32_t v[] = { l->delay_us, l->per_kib_ns, l->jitter_us,
			       l->read_mbps, l->write_mbps };

	return v[i];
}

int vn_fabric_get(const struct vn_kern *k, const char *name,
		  struct vn_fabric_link *l)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	if (!vn_kitem_exists(k, VN_FABRIC_CFS, name))
		return -ENOENT;
	vn_kitem_str(k, VN_FABRIC_CFS, name, "addr", l->addr, sizeof(l->addr));
	vn_kitem_str(k, VN_FABRIC_CFS, name, "jitter", l->jitter, sizeof(l->jitter));
	for (i = 0; i < sizeof(num_attrs) / sizeof(num_attrs[0]); i++)
		*num_field(l, (int)i) = (uint32_t)vn_kitem_u64(k, VN_FABRIC_CFS, name,
							     num_attrs[i]);
	return 0;
}

/* Write the attributes of l that differ from old (all when old is NULL),
 * addr first; the first failure is returned. */
static int put_attrs(const struct vn_kern *k, const char *name,
		     const struct vn_fabric_link *l,
		     const struct vn_fabric_link *old, struct vn_err *err)
{
	char val[32];
	size_t i;
	int ret;

	/* a link has no host until addr is written, and cannot lose it */
	if (l->addr[0] && (!old || strcmp(old->addr, l->addr))) {
		ret = vn_kwritef(k, err, l->addr, VN_FABRIC_CFS "/%s/addr", name);
		if (ret)
			return ret;
	}
	for (i = 0; i < sizeof(num_attrs) / sizeof(num_attrs[0]); i++) {
		uint32_t v = num_val(l, (int)i);

		if (old && num_val(old, (int)i) == v)
			continue;
		snprintf(val, sizeof(val), "%" PRIu32, v);
		ret = vn_kwritef(k, err, val, VN_FABRIC_CFS "/%s/%s", name, num_attrs[i]);
		if (ret)
			return ret;
	}
	if (!old || strcmp(old->jitter, l->jitter))
		return vn_kwritef(k, err, l->jitter, VN_FABRIC_CFS "/%s/jitter", name);
	return 0;
}

int vn_fabric_put(const struct vn_kern *k, const char *name,
		  const struct vn_fabric_link *l, struct vn_err *err)
{
	struct vn_fabric_link old;
	char path[PATH_MAX], other[NAME_MAX + 1];
	bool made = false;
	struct stat st;
	int ret;

	if (vn_fabric_get(k, name, &old)) {
		vn_kpath(k, path, sizeof(path), VN_FABRIC_CFS);
		if (stat(path, &st))
			return vn_seterr(err, ENODEV,
					 "%s missing: vnode_xprt is not loaded, or has no fabric emulation (an older module)",
					 VN_FABRIC_CFS);
		if (vn_kpath(k, path, sizeof(path), VN_FABRIC_CFS "/%s", name))
			return vn_seterr(err, ENAMETOOLONG, "link name too long");
		if (mkdir(path, 0755))
			return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
		made = true;
		if (vn_kern_ops_of(k)->after_fabric_mkdir)
			vn_kern_ops_of(k)->after_fabric_mkdir(k, name);
	}
	ret = put_attrs(k, name, l, made ? NULL : &old, err);
	if (!ret)
		return 0;
	if (ret == -EEXIST && !vn_fabric_find(k, l->addr, name, other, sizeof(other)))
		vn_seterr(err, EEXIST,
			  "another fabric link, %s, already emulates the fabric to %s (made by hand? rmdir %s/%s first)",
			  other, l->addr, VN_FABRIC_CFS, other);
	if (made)
		vn_fabric_remove(k, name, NULL);
	else
		put_attrs(k, name, &old, l, NULL);
	return ret;
}

int vn_fabric_stats(const struct vn_kern *k, const char *name,
		    struct vn_fabric_stats *st)
{
	static const char *const keys[] = {
		"clients", "ops", "held", "read_bytes", "write_bytes",
		"wire_us", "added_us", "late_us", "early_us",
		"read_ops", "write_ops", "read_wire_us", "write_wire_us",
	};
	int64_t *f[] = { &st->clients, &st->ops, &st->held, &st->read_bytes,
			 &st->write_bytes, &st->wire_us, &st->added_us, &st->late_us,
			 &st->early_us, &st->read_ops, &st->write_ops, &st->read_wire_us,
			 &st->write_wire_us };
	char buf[1024], *line, *save = NULL;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!vn_kitem_exists(k, VN_FABRIC_CFS, name))
		return -ENOENT;
	vn_kitem_str(k, VN_FABRIC_CFS, name, "stats", buf, sizeof(buf));
	/* "key value" lines; unknown keys are skipped */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[32];
		long long v;

		if (sscanf(line, "%31s %lld", key, &v) != 2)
			continue;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(key, keys[i]))
				*f[i] = v;
	}
	return 0;
}

int vn_fabric_remove(const struct vn_kern *k, const char *name,
		     struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	if (vn_kpath(k, path, sizeof(path), VN_FABRIC_CFS "/%s", name))
		return vn_seterr(err, ENAMETOOLONG, "link name too long");
	ret = vn_kern_ops_of(k)->rmdir(path);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

int vn_fabric_find(const struct vn_kern *k, const char *addr, const char *skip,
		   char *name, size_t len)
{
	char path[PATH_MAX], a[64], want[64], got[64];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	if (vn_addr_canon(addr, want, sizeof(want)) ||
	    vn_kpath(k, path, sizeof(path), VN_FABRIC_CFS))
		return -ENOENT;
	d = opendir(path);
	while (d && ret && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (skip && !strcmp(de->d_name, skip)) ||
		    !vn_kitem_exists(k, VN_FABRIC_CFS, de->d_name))
			continue;
		vn_kitem_str(k, VN_FABRIC_CFS, de->d_name, "addr", a, sizeof(a));
		if (!vn_addr_canon(a, got, sizeof(got)) && !strcmp(got, want)) {
			snprintf(name, len, "%s", de->d_name);
			ret = 0;
		}
	}
	if (d)
		closedir(d);
	return ret;
}
