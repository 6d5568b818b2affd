// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel interface (kern.h): cgroup v2, vnode_proc's configfs (the
 * swap disk, per-vNode accounting), swap and the helpers, and the real
 * kernel's ops table; remote volumes are in kern_vol.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "kern_ops.h"
#include "size.h"

static const char *const acct_attrs[] = {
	"faults", "pages_in", "pages_out", "bytes_in", "bytes_out",
	"resident_pages", "prefetch_issued", "prefetch_hits", "prefetch_wasted",
	"protect_errors", "protect_failed", NULL,
};

int vn_kern_init(struct vn_kern *k, const char *sysroot, struct vn_err *err)
{
	memset(k, 0, sizeof(*k));
	k->ops = &vn_kern_real_ops;
	snprintf(k->cgparent, sizeof(k->cgparent), "%s", VN_CGPARENT);
	if (!sysroot || !*sysroot || !strcmp(sysroot, "/"))
		return 0;
	if (!realpath(sysroot, k->root))
		return vn_seterr(err, errno, "sysroot %s: %s", sysroot,
				 strerror(errno));
	k->ops = &vn_kern_fake_ops;
	return 0;
}

/* A vn_kern that was only zeroed is the real system, as before ops. */
const struct vn_kern_ops *vn_kern_ops_of(const struct vn_kern *k)
{
	return k->ops ? k->ops : &vn_kern_real_ops;
}

bool vn_kern_fake(const struct vn_kern *k)
{
	return vn_kern_ops_of(k) != &vn_kern_real_ops;
}

int vn_kpath(const struct vn_kern *k, char *buf, size_t len,
	     const char *fmt, ...)
{
	size_t rl = strlen(k->root);
	va_list ap;
	int n;

	if (rl >= len)
		return -ENAMETOOLONG;
	memcpy(buf, k->root, rl);
	va_start(ap, fmt);
	n = vsnprintf(buf + rl, len - rl, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - rl)
		return -ENAMETOOLONG;
	return 0;
}

int vn_kwrite(const struct vn_kern *k, const char *path, const char *val)
{
	return vn_kern_ops_of(k)->write(k, path, val);
}

int vn_kwritef(const struct vn_kern *k, struct vn_err *err, const char *val,
	       const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX];
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    vn_kpath(k, path, sizeof(path), "%s", rel))
		return vn_seterr(err, ENAMETOOLONG, "path too long");
	ret = vn_kwrite(k, path, val);
	if (ret)
		return vn_seterr(err, -ret, "write '%s' to %s: %s", val, rel,
				 strerror(-ret));
	return 0;
}

void vn_kern_identity(const struct vn_kern *k, char *buf, size_t len)
{
	char path[PATH_MAX], id[64] = "";
	struct utsname u;

	if (!vn_kpath(k, path, sizeof(path), VN_XPRT_CFS "/identity"))
		vn_read_file(path, id, sizeof(id));
	/* vnode_xprt's default when it is loaded */
	if (!vn_valid_identity(id, strlen(id)) && !uname(&u))
		snprintf(id, sizeof(id), "%.63s", u.nodename);
	if (!vn_valid_identity(id, strlen(id)))
		strcpy(id, "vnode");
	snprintf(buf, len, "%s", id);
}

/* ---- cgroup v2 ---------------------------------------------------------- */

static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || !p[wl]))
			return true;
		p += wl;
	}
	return false;
}

int vn_cg_check(const struct vn_kern *k, bool need_cpuset, struct vn_err *err)
{
	char path[PATH_MAX], buf[512];
	int ret;

	vn_kpath(k, path, sizeof(path), VN_CGROOT "/cgroup.controllers");
	ret = vn_read_file(path, buf, sizeof(buf));
	if (ret)
		return vn_seterr(err, ENOTSUP,
				 "cgroup v2 is not mounted at %s (no cgroup.controllers)",
				 VN_CGROOT);
	if (!word_in(buf, "memory"))
		return vn_seterr(err, ENOTSUP,
				 "cgroup v2 memory controller not available (cgroup.controllers: %s)",
				 buf);
	if (need_cpuset && !word_in(buf, "cpuset"))
		return vn_seterr(err, ENOTSUP,
				 "cgroup v2 cpuset controller not available");
	return 0;
}

static int enable_controller(const struct vn_kern *k, const char *rel,
			     const char *ctl, struct vn_err *err)
{
	char path[PATH_MAX], buf[512] = "", val[560];

	vn_kpath(k, path, sizeof(path), "%s/cgroup.subtree_control", rel);
	if (!vn_read_file(path, buf, sizeof(buf)) && word_in(buf, ctl))
		return 0;
	vn_kern_ops_of(k)->subtree_val(buf, ctl, val, sizeof(val));
	return vn_kwritef(k, err, val, "%s/cgroup.subtree_control", rel);
}

/*
 * The parent of the vNodes' cgroups.  "vnode" (the default, a child of the
 * root) is vnoded's own: it creates it and enables the memory controller
 * down to it.  A deeper parent is a cgroup delegated to vnoded by systemd
 * (vnode-vnodes.service, Delegate=): everything above it is systemd's, so
 * vnoded only checks that the delegation offers the controller.
 */
const char *vn_cg_parent(const struct vn_kern *k)
{
	return k->cgparent[0] ? k->cgparent : VN_CGPARENT;
}

static bool cg_own_parent(const struct vn_kern *k)
{
	return !strchr(vn_cg_parent(k), '/');
}

/* The vNodes' parent cgroup, NAME below it or FILE in NAME (either may be
 * NULL), as a path below the test root (for vn_kwritef and friends). */
static void cg_rel(const struct vn_kern *k, char *buf, size_t len,
		   const char *name, const char *file)
{
	snprintf(buf, len, VN_CGROOT "/%s%s%s%s%s", vn_cg_parent(k),
		 name ? "/" : "", name ? name : "", file ? "/" : "",
		 file ? file : "");
}

/* The same, as a path to open */
int vn_cg_path(const struct vn_kern *k, char *buf, size_t len,
	       const char *name, const char *file)
{
	char rel[PATH_MAX];

	cg_rel(k, rel, sizeof(rel), name, file);
	return vn_kpath(k, buf, len, "%s", rel);
}

int vn_kern_set_cgparent(struct vn_kern *k, const char *rel,
			 struct vn_err *err)
{
	const char *p = rel;
	size_t len = strlen(rel);

	if (!len || len >= sizeof(k->cgparent) || *rel == '/' ||
	    rel[len - 1] == '/')
		return vn_seterr(err, EINVAL,
				 "cgroup parent '%s': a path below " VN_CGROOT
				 ", without a leading or trailing /", rel);
	for (; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_.@:/\\", *p)))
			return vn_seterr(err, EINVAL,
					 "cgroup parent '%s': character '%c' not allowed",
					 rel, *p);
	}
	if (strstr(rel, "//") || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	    strstr(rel, "/../") || (len > 3 && !strcmp(rel + len - 3, "/..")) ||
	    !strcmp(rel, ".") || !strncmp(rel, "./", 2) || strstr(rel, "/./"))
		return vn_seterr(err, EINVAL,
				 "cgroup parent '%s': no empty, . or .. components",
				 rel);
	memcpy(k->cgparent, rel, len + 1);
	return 0;
}

/* The parent offers ctl to its children: enabled down to it (our own) or
 * checked (a delegation). */
static int parent_controller(const struct vn_kern *k, const char *ctl,
			     struct vn_err *err)
{
	char path[PATH_MAX], rel[PATH_MAX], buf[512] = "";
	int ret;

	cg_rel(k, rel, sizeof(rel), NULL, NULL);
	if (cg_own_parent(k)) {
		ret = enable_controller(k, VN_CGROOT, ctl, err);
		if (ret)
			return ret;
	} else {
		vn_cg_path(k, path, sizeof(path), NULL, "cgroup.controllers");
		if (vn_read_file(path, buf, sizeof(buf)))
			return vn_seterr(err, ENOENT,
					 "cgroup %s does not exist: is vnode-vnodes.service started?",
					 rel);
		if (!word_in(buf, ctl))
			return vn_seterr(err, ENOTSUP,
					 "cgroup %s does not offer the %s controller (delegate it: Delegate=%s in its unit)",
					 rel, ctl, ctl);
	}
	return enable_controller(k, rel, ctl, err);
}

int vn_cg_create(const struct vn_kern *k, const char *name,
		 struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	ret = vn_cg_check(k, false, err);
	if (ret)
		return ret;
	if (cg_own_parent(k)) {
		vn_cg_path(k, path, sizeof(path), NULL, NULL);
		if (mkdir(path, 0755) && errno != EEXIST)
			return vn_seterr(err, errno, "mkdir %s: %s", path,
					 strerror(errno));
	}
	ret = parent_controller(k, "memory", err);
	if (ret)
		return ret;
	vn_cg_path(k, path, sizeof(path), name, NULL);
	if (mkdir(path, 0755)) {
		if (errno == EEXIST)
			return vn_seterr(err, EEXIST,
					 "cgroup %s already exists (left over? remove it or pick another name)",
					 path);
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	}
	return 0;
}

bool vn_kitem_exists(const struct vn_kern *k, const char *base,
		     const char *item)
{
	char path[PATH_MAX];
	struct stat st;

	return !vn_kpath(k, path, sizeof(path), "%s/%s", base, item) &&
	       !stat(path, &st) && S_ISDIR(st.st_mode);
}

void vn_kitem_str(const struct vn_kern *k, const char *base, const char *item,
		  const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (!vn_kpath(k, path, sizeof(path), "%s/%s/%s", base, item, attr))
		vn_read_file(path, buf, len);
}

uint64_t vn_kitem_u64(const struct vn_kern *k, const char *base,
		      const char *item, const char *attr)
{
	char buf[32];

	vn_kitem_str(k, base, item, attr, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

int vn_cg_exists(const struct vn_kern *k, const char *name)
{
	char base[PATH_MAX];

	cg_rel(k, base, sizeof(base), NULL, NULL);
	return vn_kitem_exists(k, base, name);
}

bool vn_cpus_valid(const char *cpus)
{
	const char *p = cpus;
	bool digit = false;

	if (!*p || strlen(p) > 256)
		return false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			digit = true;
		} else if (*p == ',' || *p == '-') {
			if (!digit)
				return false;
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

int vn_cg_set_limits(const struct vn_kern *k, const char *name,
		     uint64_t mem_max, uint64_t swap_max, const char *cpus,
		     struct vn_err *err)
{
	char cg[PATH_MAX], val[32];
	int ret;

	cg_rel(k, cg, sizeof(cg), NULL, NULL);
	snprintf(val, sizeof(val), "%" PRIu64, mem_max);
	ret = vn_kwritef(k, err, val, "%s/%s/memory.max", cg, name);
	if (ret)
		return ret;
	snprintf(val, sizeof(val), "%" PRIu64, swap_max);
	ret = vn_kwritef(k, err, val, "%s/%s/memory.swap.max", cg, name);
	if (ret)
		return ret;
	if (cpus && *cpus) {
		ret = vn_cg_check(k, true, err);
		if (!ret)
			ret = parent_controller(k, "cpuset", err);
		if (!ret)
			ret = vn_kwritef(k, err, cpus, "%s/%s/cpuset.cpus", cg, name);
		if (ret)
			return ret;
	}
	return 0;
}

int vn_cg_id(const struct vn_kern *k, const char *name, uint64_t *id)
{
	char path[PATH_MAX];
	struct stat st;

	vn_cg_path(k, path, sizeof(path), name, NULL);
	if (stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

int vn_cg_nprocs(const struct vn_kern *k, const char *name)
{
	char path[PATH_MAX], line[64];
	FILE *f;
	int n = 0;

	vn_cg_path(k, path, sizeof(path), name, "cgroup.procs");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] < '0' || line[0] > '9')
			continue;
		if (!vn_kern_ops_of(k)->member_alive((pid_t)atoi(line)))
			continue;
		n++;
	}
	fclose(f);
	return n;
}

int vn_cg_kill(const struct vn_kern *k, const char *name, int timeout_ms,
	       struct vn_err *err)
{
	char cg[PATH_MAX];
	int64_t end = vn_mono_ms() + timeout_ms;
	int ret, n;

	cg_rel(k, cg, sizeof(cg), name, "cgroup.kill");
	ret = vn_kwritef(k, err, "1", "%s", cg);
	if (ret)
		return ret;
	if (vn_kern_ops_of(k)->after_cg_kill)
		vn_kern_ops_of(k)->after_cg_kill(k, name);
	while ((n = vn_cg_nprocs(k, name)) > 0 && vn_mono_ms() < end) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	if (n > 0)
		return vn_seterr(err, EBUSY,
				 "%d processes still in vNode %s after kill", n, name);
	return 0;
}

int vn_cg_remove(const struct vn_kern *k, const char *name,
		 struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	vn_cg_path(k, path, sizeof(path), name, NULL);
	ret = vn_kern_ops_of(k)->rmdir(path);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

int vn_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
		 struct vn_err *err)
{
	return vn_kern_ops_of(k)->cg_attach(k, name, pid, err);
}

static int real_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
			  struct vn_err *err)
{
	char val[32], path[PATH_MAX];

	snprintf(val, sizeof(val), "%d", (int)pid);
	cg_rel(k, path, sizeof(path), name, "cgroup.procs");
	return vn_kwritef(k, err, val, "%s", path);
}

int vn_cg_read_u64(const struct vn_kern *k, const char *name,
		   const char *file, uint64_t *val)
{
	char path[PATH_MAX];

	vn_cg_path(k, path, sizeof(path), name, file);
	return vn_read_u64(path, val);
}

/* ---- configfs: vnodes/<name> -------------------------------------------- */

static int cfs_check(const struct vn_kern *k, const char *sub,
		     struct vn_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	vn_kpath(k, path, sizeof(path), VN_CFS "/%s", sub);
	if (stat(path, &st))
		return vn_seterr(err, ENODEV,
				 "%s missing: is vnode_proc loaded and configfs mounted (mount -t configfs none /sys/kernel/config)?",
				 VN_CFS "/" "...");
	return 0;
}

int vn_acct_create(const struct vn_kern *k, const char *name,
		   uint64_t cgroup_id, struct vn_err *err)
{
	char path[PATH_MAX], val[32];
	int ret;

	ret = cfs_check(k, "vnodes", err);
	if (ret)
		return ret;
	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s", name);
	if (!mkdir(path, 0755)) {
		if (vn_kern_ops_of(k)->after_acct_mkdir)
			vn_kern_ops_of(k)->after_acct_mkdir(k, name);
	} else if (errno != EEXIST) {
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	}
	snprintf(val, sizeof(val), "%" PRIu64, cgroup_id);
	return vn_kwritef(k, err, val, VN_CFS "/vnodes/%s/cgroup_id", name);
}

int vn_acct_exists(const struct vn_kern *k, const char *name)
{
	return vn_kitem_exists(k, VN_CFS "/vnodes", name);
}

int vn_acct_get_cgid(const struct vn_kern *k, const char *name, uint64_t *id)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/cgroup_id", name);
	return vn_read_u64(path, id);
}

int vn_acct_get_prefetch(const struct vn_kern *k, const char *name, bool *on)
{
	char path[PATH_MAX], buf[16];
	int ret;

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/prefetch", name);
	ret = vn_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	/* 1 or 0 (a bool attribute of another build may say Y or N) */
	*on = buf[0] == '1' || buf[0] == 'Y' || buf[0] == 'y';
	return 0;
}

/*
 * Write val to the vNode's accounting attribute attr, which reading gave
 * got (0 or -errno; -ENOENT: no such item or attribute) and, if it could
 * be read, same (it already holds val): 0 if there was nothing to do, 1
 * once written, or -errno with err set.  off: val is what a vnode_proc
 * without the attribute does anyway; any other val is -EOPNOTSUPP there
 * ("this vnode_proc cannot CANNOT ...").
 */
static int acct_write(const struct vn_kern *k, const char *name, const char *attr,
		      int got, bool same, bool off, const char *val,
		      const char *cannot, struct vn_err *err)
{
	int ret;

	if (got == -ENOENT && !vn_acct_exists(k, name))
		return vn_seterr(err, ENOENT, "%s/vnodes/%s missing: vNode %s has no accounting object",
				 VN_CFS, name, name);
	if (got == -ENOENT && off)
		return 0;
	if (got == -ENOENT)
		return vn_seterr(err, EOPNOTSUPP,
				 "this vnode_proc cannot %s (its accounting objects have no %s attribute): load a vnode_proc that can",
				 cannot, attr);
	if (got)
		return vn_seterr(err, -got, "read %s/vnodes/%s/%s: %s", VN_CFS,
				 name, attr, strerror(-got));
	if (same)
		return 0;
	ret = vn_kwritef(k, err, val, VN_CFS "/vnodes/%s/%s", name, attr);
	return ret ? ret : 1;
}

int vn_acct_set_prefetch(const struct vn_kern *k, const char *name, bool on,
			 struct vn_err *err)
{
	bool cur = false;
	int ret;

	ret = vn_acct_get_prefetch(k, name, &cur);
	return acct_write(k, name, "prefetch", ret, cur == on, !on, on ? "1" : "0",
			  "prefetch", err);
}

int vn_acct_get_protect(const struct vn_kern *k, const char *name, char *buf,
			size_t len)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/protect", name);
	return vn_read_file(path, buf, len);
}

int vn_acct_set_protect(const struct vn_kern *k, const char *name,
			enum vn_protect p, struct vn_err *err)
{
	const char *want = vn_protect_name(p);
	char cur[16] = "";
	int ret;

	ret = vn_acct_get_protect(k, name, cur, sizeof(cur));
	ret = acct_write(k, name, "protect", ret, !strcmp(cur, want),
			 p == VN_PROTECT_NONE, want, "protect pages", err);
	if (ret == -EINVAL)
		return vn_seterr(err, EINVAL, "vnode_proc refused protect '%s' (dmesg on the process host says why)",
				 want);
	return ret;
}

int vn_acct_remove(const struct vn_kern *k, const char *name,
		   struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s", name);
	ret = vn_kern_ops_of(k)->rmdir(path);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

json_object *vn_hist_parse(const char *s)
{
	json_object *h = json_object_new_object();
	unsigned long long bound, prev = 0, n;
	char key[32];
	int len;

	while (sscanf(s, " <=%lluus:%llu%n", &bound, &n, &len) == 2) {
		s += len;
		snprintf(key, sizeof(key), "le_%llu", bound);
		/* the last bucket also counts anything slower */
		if (!strchr(s, ':'))
			snprintf(key, sizeof(key), "gt_%llu", prev);
		json_object_object_add(h, key, json_object_new_uint64(n));
		prev = bound;
	}
	return h;
}

int vn_acct_read(const struct vn_kern *k, const char *name, json_object *obj)
{
	char path[PATH_MAX], buf[1024];
	uint64_t v;
	int i;

	if (!vn_acct_exists(k, name))
		return -ENOENT;
	for (i = 0; acct_attrs[i]; i++) {
		vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/%s", name,
			 acct_attrs[i]);
		if (!vn_read_u64(path, &v))
			json_object_object_add(obj, acct_attrs[i],
					       json_object_new_uint64(v));
	}
	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/lat_hist", name);
	if (!vn_read_file(path, buf, sizeof(buf)))
		json_object_object_add(obj, "lat_hist_us", vn_hist_parse(buf));
	return 0;
}

/* ---- configfs: mem/<disk> + swap ------------------------------------------ */

/* The disk's hosts whose state is DEAD or CLOSED (lines "id addr:port
 * state slabs" of /sys/block/DEV/vnode/hosts): it places no page there. */
static void disk_gone_hosts(const struct vn_kern *k, struct vn_disk_info *di)
{
	char path[PATH_MAX], line[256], addr[128], state[32];
	size_t off = 0;
	FILE *f;

	vn_kpath(k, path, sizeof(path), "/sys/block/%s/vnode/hosts", di->dev);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int n;

		if (sscanf(line, "%*u %127s %31s", addr, state) != 2 ||
		    (strcmp(state, "DEAD") && strcmp(state, "CLOSED")))
			continue;
		n = snprintf(di->gone + off, sizeof(di->gone) - off, "%s%s",
			     off ? "," : "", addr);
		if (n < 0 || (size_t)n >= sizeof(di->gone) - off)
			break;
		off += (size_t)n;
	}
	fclose(f);
}

int vn_disk_hosts(const struct vn_kern *k, const char *dev,
		  struct vn_disk_host *h, int max)
{
	char path[PATH_MAX], line[256];
	int n = 0;
	FILE *f;

	vn_kpath(k, path, sizeof(path), "/sys/block/%s/vnode/hosts", dev);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		strcpy(h[n].drain, "-");
		if (sscanf(line, "%*u %63s %15s %ld %11s", h[n].addr, h[n].state,
			   &h[n].slabs, h[n].drain) >= 3)
			n++;
	}
	fclose(f);
	return n;
}

int vn_disk_info(const struct vn_kern *k, const char *disk,
		 struct vn_disk_info *di)
{
	char path[PATH_MAX], buf[512];
	struct stat st;
	uint64_t v;

	memset(di, 0, sizeof(*di));
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s", disk);
	if (stat(path, &st))
		return 0;
	di->exists = true;
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/enable", disk);
	if (!vn_read_u64(path, &v))
		di->enabled = v != 0;
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/dev", disk);
	if (!vn_read_file(path, buf, sizeof(buf)))
		snprintf(di->dev, sizeof(di->dev), "%.31s", buf);
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/hosts", disk);
	if (!vn_read_file(path, buf, sizeof(buf)))
		snprintf(di->hosts, sizeof(di->hosts), "%s", buf);
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/size", disk);
	if (!vn_read_u64(path, &v))
		di->size = v;
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/replicas", disk);
	if (!vn_read_u64(path, &v))
		di->replicas = (int)v;
	vn_kpath(k, path, sizeof(path), VN_CFS "/mem/%s/state", disk);
	if (!vn_read_file(path, buf, sizeof(buf)))
		snprintf(di->state, sizeof(di->state), "%.31s", buf);
	if (di->enabled && di->dev[0]) {
		di->swap_active = vn_swap_active(k, di->dev);
		disk_gone_hosts(k, di);
		vn_kpath(k, path, sizeof(path), "/sys/block/%s/vnode/at_risk",
			 di->dev);
		if (!vn_read_u64(path, &v))
			di->at_risk = v;
		vn_kpath(k, path, sizeof(path), "/sys/block/%s/vnode/heal_bytes",
			 di->dev);
		if (!vn_read_u64(path, &v))
			di->heal_bytes = v;
		vn_kpath(k, path, sizeof(path), "/sys/block/%s/vnode/heal_ms",
			 di->dev);
		if (!vn_read_u64(path, &v))
			di->heal_ms = v;
	}
	return 0;
}

bool vn_swap_active(const struct vn_kern *k, const char *dev)
{
	char path[PATH_MAX], line[512], want[64];
	bool found = false;
	FILE *f;

	vn_kpath(k, path, sizeof(path), "/proc/swaps");
	f = fopen(path, "re");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "/dev/%s", dev);
	while (fgets(line, sizeof(line), f)) {
		size_t wl = strlen(want);

		if (!strncmp(line, want, wl) && (line[wl] == ' ' || line[wl] == '\t'))
			found = true;
	}
	fclose(f);
	return found;
}

/* udev may not run in a minimal guest: create the node from sysfs. */
int vn_kern_real_devnode(const struct vn_kern *k, const char *dev,
			 struct vn_err *err)
{
	char path[PATH_MAX], buf[32];
	unsigned int maj, min;
	struct stat st;
	int i;

	(void)k;
	snprintf(path, sizeof(path), "/dev/%s", dev);
	for (i = 0; i < 20; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (!stat(path, &st) && S_ISBLK(st.st_mode))
			return 0;
		nanosleep(&ts, NULL);
	}
	snprintf(path, sizeof(path), "/sys/block/%s/dev", dev);
	if (vn_read_file(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		return vn_seterr(err, ENODEV, "/dev/%s did not appear", dev);
	snprintf(path, sizeof(path), "/dev/%s", dev);
	if (mknod(path, S_IFBLK | 0600, makedev(maj, min)) && errno != EEXIST)
		return vn_seterr(err, errno, "mknod %s: %s", path, strerror(errno));
	return 0;
}

int vn_disk_setup(const struct vn_kern *k, const char *disk,
		  const char *hosts, uint64_t size, int replicas,
		  struct vn_disk_info *di, struct vn_err *err)
{
	const char *base = VN_CFS "/mem";
	char path[PATH_MAX], val[32];
	int ret;

	ret = cfs_check(k, "mem", err);
	if (ret)
		return ret;
	vn_kpath(k, path, sizeof(path), "%s/%s", base, disk);
	if (mkdir(path, 0755) && errno != EEXIST)
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	ret = vn_kwritef(k, err, hosts, "%s/%s/hosts", base, disk);
	if (!ret) {
		snprintf(val, sizeof(val), "%" PRIu64, size);
		ret = vn_kwritef(k, err, val, "%s/%s/size", base, disk);
	}
	if (!ret) {
		snprintf(val, sizeof(val), "%d", replicas);
		ret = vn_kwritef(k, err, val, "%s/%s/replicas", base, disk);
	}
	if (!ret)
		ret = vn_kwritef(k, err, "1", "%s/%s/enable", base, disk);
	if (ret)
		goto out_rmdir;
	if (vn_kern_ops_of(k)->after_disk_enable)
		vn_kern_ops_of(k)->after_disk_enable(k, disk);
	vn_disk_info(k, disk, di);
	if (!di->dev[0]) {
		ret = vn_seterr(err, ENODEV, "disk %s enabled but has no dev", disk);
		goto out_disable;
	}
	ret = vn_kern_ops_of(k)->devnode(k, di->dev, err);
	if (ret)
		goto out_disable;
	return 0;

out_disable:
	vn_kwritef(k, NULL, "0", "%s/%s/enable", base, disk);
out_rmdir:
	vn_kpath(k, path, sizeof(path), "%s/%s", base, disk);
	vn_kern_ops_of(k)->rmdir(path);
	return ret;
}

int vn_swap_on(const struct vn_kern *k, const char *dev, bool mkswap,
	       struct vn_err *err)
{
	char path[64];
	char *mk[] = { "mkswap", "-f", path, NULL };
	char *on[] = { "swapon", "--discard=pages", "-p", "100", path, NULL };
	int ret;

	snprintf(path, sizeof(path), "/dev/%s", dev);
	if (mkswap) {
		ret = vn_run(k, mk, err);
		if (ret)
			return ret;
	}
	ret = vn_run(k, on, err);
	if (ret)
		return ret;
	if (vn_kern_ops_of(k)->after_swapon)
		vn_kern_ops_of(k)->after_swapon(k, path);
	return 0;
}

int vn_run(const struct vn_kern *k, char *const argv[], struct vn_err *err)
{
	return vn_kern_ops_of(k)->run(k, argv, VN_RUN_TIMEOUT_MS, err);
}

int vn_run_timeout(const struct vn_kern *k, char *const argv[], int timeout_ms,
		   struct vn_err *err)
{
	return vn_kern_ops_of(k)->run(k, argv, timeout_ms, err);
}

static int real_run(const struct vn_kern *k, char *const argv[], int timeout_ms,
		    struct vn_err *err)
{
	int pfd[2], status = 0, i;
	char out[512] = "";
	int64_t end;
	ssize_t n;
	size_t off = 0;
	pid_t pid;

	(void)k;
	if (pipe2(pfd, O_CLOEXEC))
		return vn_seterr(err, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return vn_seterr(err, errno, "fork: %s", strerror(errno));
	}
	if (!pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	/*
	 * Bounded: a helper stuck in the kernel (e.g. swapon waiting on a
	 * disk that never answers) must not wedge the daemon forever.
	 */
	end = vn_mono_ms() + timeout_ms;
	for (;;) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		int64_t left = end - vn_mono_ms();
		char junk[256];

		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			kill(pid, SIGKILL);
			close(pfd[0]);
			/* reaped here if it dies, else by vn_reap_children() */
			for (i = 0; i < 10 && !waitpid(pid, &status, WNOHANG); i++)
				usleep(100000);
			return vn_seterr(err, ETIMEDOUT,
					 "%s did not finish within %d s (stuck in the kernel? see dmesg)",
					 argv[0], timeout_ms / 1000);
		}
		if (off < sizeof(out) - 1)
			n = read(pfd[0], out + off, sizeof(out) - 1 - off);
		else
			n = read(pfd[0], junk, sizeof(junk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (off < sizeof(out) - 1)
			off += (size_t)n;
	}
	out[off] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	while (off && (out[off - 1] == '\n'))
		out[--off] = '\0';
	return vn_seterr(err, EIO, "%s failed (%s %d): %s", argv[0],
			 WIFEXITED(status) ? "exit" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 out);
}

void vn_reap_children(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int vn_mkdir_p(const struct vn_kern *k, const char *dir, mode_t mode,
	       struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	if (vn_kpath(k, path, sizeof(path), "%s", dir))
		return vn_seterr(err, ENAMETOOLONG, "path too long");
	ret = vn_mkdirs(path, strlen(k->root), mode);
	if (ret)
		return vn_seterr(err, -ret, "mkdir %s: %s", path, strerror(-ret));
	return 0;
}

/* ---- the real kernel ------------------------------------------------------ */

/* Kernel files exist already: never create one. */
static int real_write(const struct vn_kern *k, const char *path,
		      const char *val)
{
	(void)k;
	return vn_write_file(path, val, false);
}

static void real_subtree_val(const char *cur, const char *ctl, char *val,
			     size_t len)
{
	(void)cur;
	snprintf(val, len, "+%s", ctl);
}

/* cgroup.procs lists live processes only */
static bool real_member_alive(pid_t pid)
{
	(void)pid;
	return true;
}

static int real_rmdir(const char *path)
{
	return rmdir(path) ? -errno : 0;
}

const struct vn_kern_ops vn_kern_real_ops = {
	.name = "kernel",
	.write = real_write,
	.subtree_val = real_subtree_val,
	.member_alive = real_member_alive,
	.cg_attach = real_cg_attach,
	.rmdir = real_rmdir,
	.devnode = vn_kern_real_devnode,
	.run = real_run,
	.vol_enable = vn_kern_real_vol_enable,
	.fs_probe = vn_kern_real_fs_probe,
	.fs_mount_fd = vn_kern_real_fs_mount_fd,
};
