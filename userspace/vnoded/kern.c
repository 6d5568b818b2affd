// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kern_ops.h"
#include "size.h"

static const char *const acct_attrs[] = {
	"faults", "pages_in", "pages_out", "bytes_in", "bytes_out",
	"resident_pages", NULL,
};

int vn_kern_init(struct vn_kern *k, const char *sysroot, struct vn_err *err)
{
	memset(k, 0, sizeof(*k));
	k->ops = &vn_kern_real_ops;
	if (!sysroot || !*sysroot || !strcmp(sysroot, "/"))
		return 0;
	if (!realpath(sysroot, k->root))
		return vn_seterr(err, errno, "sysroot %s: %s", sysroot,
				 strerror(errno));
	k->ops = &vn_kern_fake_ops;
	return 0;
}

/* A vn_kern that was only zeroed is the real system, as before ops. */
static const struct vn_kern_ops *ops(const struct vn_kern *k)
{
	return k->ops ? k->ops : &vn_kern_real_ops;
}

bool vn_kern_fake(const struct vn_kern *k)
{
	return ops(k) != &vn_kern_real_ops;
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

static int kwrite(const struct vn_kern *k, const char *path, const char *val)
{
	return ops(k)->write(k, path, val);
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
	ret = kwrite(k, path, val);
	if (ret)
		return vn_seterr(err, -ret, "write '%s' to %s: %s", val, rel,
				 strerror(-ret));
	return 0;
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
	char path[PATH_MAX], buf[512] = "";

	vn_kpath(k, path, sizeof(path), "%s/cgroup.subtree_control", rel);
	if (!vn_read_file(path, buf, sizeof(buf)) && word_in(buf, ctl))
		return 0;
	return ops(k)->subtree_enable(k, rel, buf, ctl, err);
}

int vn_cg_create(const struct vn_kern *k, const char *name,
		 struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	ret = vn_cg_check(k, false, err);
	if (ret)
		return ret;
	ret = enable_controller(k, VN_CGROOT, "memory", err);
	if (ret)
		return ret;
	vn_kpath(k, path, sizeof(path), VN_CGROOT "/" VN_CGPARENT);
	if (mkdir(path, 0755) && errno != EEXIST)
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	ret = enable_controller(k, VN_CGROOT "/" VN_CGPARENT, "memory", err);
	if (ret)
		return ret;
	vn_kpath(k, path, sizeof(path), VN_CGROOT "/" VN_CGPARENT "/%s", name);
	if (mkdir(path, 0755)) {
		if (errno == EEXIST)
			return vn_seterr(err, EEXIST,
					 "cgroup %s already exists (left over? remove it or pick another name)",
					 path);
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	}
	return 0;
}

/* BASE/<item> is a directory (a configfs item, a cgroup). */
static bool item_exists(const struct vn_kern *k, const char *base,
			const char *item)
{
	char path[PATH_MAX];
	struct stat st;

	return !vn_kpath(k, path, sizeof(path), "%s/%s", base, item) &&
	       !stat(path, &st) && S_ISDIR(st.st_mode);
}

int vn_cg_exists(const struct vn_kern *k, const char *name)
{
	return item_exists(k, VN_CGROOT "/" VN_CGPARENT, name);
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
	const char *cg = VN_CGROOT "/" VN_CGPARENT;
	char val[32];
	int ret;

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
			ret = enable_controller(k, VN_CGROOT, "cpuset", err);
		if (!ret)
			ret = enable_controller(k, cg, "cpuset", err);
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

	vn_kpath(k, path, sizeof(path), VN_CGROOT "/" VN_CGPARENT "/%s", name);
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

	vn_kpath(k, path, sizeof(path),
		 VN_CGROOT "/" VN_CGPARENT "/%s/cgroup.procs", name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] < '0' || line[0] > '9')
			continue;
		if (!ops(k)->member_alive((pid_t)atoi(line)))
			continue;
		n++;
	}
	fclose(f);
	return n;
}

int vn_cg_kill(const struct vn_kern *k, const char *name, int timeout_ms,
	       struct vn_err *err)
{
	const char *cg = VN_CGROOT "/" VN_CGPARENT;
	int64_t end = vn_mono_ms() + timeout_ms;
	int ret, n;

	ret = vn_kwritef(k, err, "1", "%s/%s/cgroup.kill", cg, name);
	if (ret)
		return ret;
	if (ops(k)->after_cg_kill)
		ops(k)->after_cg_kill(k, name);
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

	vn_kpath(k, path, sizeof(path), VN_CGROOT "/" VN_CGPARENT "/%s", name);
	ret = ops(k)->rmdir(path);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

int vn_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
		 struct vn_err *err)
{
	return ops(k)->cg_attach(k, name, pid, err);
}

static int real_cg_attach(const struct vn_kern *k, const char *name, pid_t pid,
			  struct vn_err *err)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	return vn_kwritef(k, err, val, VN_CGROOT "/" VN_CGPARENT "/%s/cgroup.procs",
			  name);
}

int vn_cg_read_u64(const struct vn_kern *k, const char *name,
		   const char *file, uint64_t *val)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_CGROOT "/" VN_CGPARENT "/%s/%s",
		 name, file);
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
	if (mkdir(path, 0755) && errno != EEXIST)
		return vn_seterr(err, errno, "mkdir %s: %s", path, strerror(errno));
	snprintf(val, sizeof(val), "%" PRIu64, cgroup_id);
	return vn_kwritef(k, err, val, VN_CFS "/vnodes/%s/cgroup_id", name);
}

int vn_acct_exists(const struct vn_kern *k, const char *name)
{
	return item_exists(k, VN_CFS "/vnodes", name);
}

int vn_acct_get_cgid(const struct vn_kern *k, const char *name, uint64_t *id)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s/cgroup_id", name);
	return vn_read_u64(path, id);
}

int vn_acct_remove(const struct vn_kern *k, const char *name,
		   struct vn_err *err)
{
	char path[PATH_MAX];
	int ret;

	vn_kpath(k, path, sizeof(path), VN_CFS "/vnodes/%s", name);
	ret = ops(k)->rmdir(path);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
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
		json_object_object_add(obj, "lat_hist", json_object_new_string(buf));
	return 0;
}

/* ---- configfs: mem/<disk> + swap ------------------------------------------ */

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
	if (di->enabled && di->dev[0])
		di->swap_active = vn_swap_active(k, di->dev);
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
static int real_devnode(const struct vn_kern *k, const char *dev,
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
	if (ops(k)->after_disk_enable)
		ops(k)->after_disk_enable(k, disk);
	vn_disk_info(k, disk, di);
	if (!di->dev[0]) {
		ret = vn_seterr(err, ENODEV, "disk %s enabled but has no dev", disk);
		goto out_disable;
	}
	ret = ops(k)->devnode(k, di->dev, err);
	if (ret)
		goto out_disable;
	return 0;

out_disable:
	vn_kwritef(k, NULL, "0", "%s/%s/enable", base, disk);
out_rmdir:
	vn_kpath(k, path, sizeof(path), "%s/%s", base, disk);
	ops(k)->rmdir(path);
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
	if (ops(k)->after_swapon)
		ops(k)->after_swapon(k, path);
	return 0;
}

int vn_run(const struct vn_kern *k, char *const argv[], struct vn_err *err)
{
	return ops(k)->run(k, argv, err);
}

static int real_run(const struct vn_kern *k, char *const argv[],
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
	end = vn_mono_ms() + VN_RUN_TIMEOUT_MS;
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
					 argv[0], VN_RUN_TIMEOUT_MS / 1000);
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

/* ---- remote volumes: vnode_stor (storage host) ------------------------------ */

/* BASE/<item>/<attr> as a string ("" if unreadable) or a number (0). */
static void item_str(const struct vn_kern *k, const char *base, const char *item,
		     const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (!vn_kpath(k, path, sizeof(path), "%s/%s/%s", base, item, attr))
		vn_read_file(path, buf, len);
}

static uint64_t item_u64(const struct vn_kern *k, const char *base,
			 const char *item, const char *attr)
{
	char buf[32];

	item_str(k, base, item, attr, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

/* Write val to VN_STOR_CFS/<name>/<attr>; -errno. */
static int stor_write(const struct vn_kern *k, const char *name,
		      const char *attr, const char *val)
{
	char path[PATH_MAX];

	if (vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s/%s", name, attr))
		return -ENAMETOOLONG;
	return kwrite(k, path, val);
}

static int stor_rmdir(const struct vn_kern *k, const char *name)
{
	char path[PATH_MAX];

	vn_kpath(k, path, sizeof(path), VN_STOR_CFS "/%s", name);
	return ops(k)->rmdir(path);
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

	if (!ret && ops(k)->after_stor_enable)
		ops(k)->after_stor_enable(k, name);
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
		   const char *client, struct vn_err *err)
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
	if (!item_exists(k, VN_STOR_CFS, name))
		return -ENOENT;
	v->size = item_u64(k, VN_STOR_CFS, name, "size");
	v->enabled = item_u64(k, VN_STOR_CFS, name, "enable") != 0;
	item_str(k, VN_STOR_CFS, name, "client", v->client, sizeof(v->client));
	item_str(k, VN_STOR_CFS, name, "state", v->state, sizeof(v->state));
	item_str(k, VN_STOR_CFS, name, "stats", v->stats, sizeof(v->stats));
	return 0;
}

/* Retry a write that fails with EBUSY (a disk still open) until timeout. */
static int write_retry_busy(const struct vn_kern *k, const char *path,
			    const char *val, int timeout_ms)
{
	int64_t end = vn_mono_ms() + timeout_ms;
	int ret;

	while ((ret = kwrite(k, path, val)) == -EBUSY && vn_mono_ms() < end) {
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
	json_object_array_sort(*names, NULL);
	return 0;
}

/* ---- remote volumes: vnode_vol (process host) ------------------------------ */

int vn_vol_info(const struct vn_kern *k, const char *item,
		struct vn_vol_info *vi)
{
	memset(vi, 0, sizeof(*vi));
	if (!item_exists(k, VN_VOL_CFS, item))
		return 0;
	vi->exists = true;
	vi->enabled = item_u64(k, VN_VOL_CFS, item, "enable") != 0;
	vi->size = item_u64(k, VN_VOL_CFS, item, "size");
	item_str(k, VN_VOL_CFS, item, "dev", vi->dev, sizeof(vi->dev));
	item_str(k, VN_VOL_CFS, item, "state", vi->state, sizeof(vi->state));
	item_str(k, VN_VOL_CFS, item, "host", vi->host, sizeof(vi->host));
	item_str(k, VN_VOL_CFS, item, "volume", vi->volume, sizeof(vi->volume));
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
	ret = ops(k)->vol_enable(k, item, err);
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
	ret = ops(k)->devnode(k, vi.dev, err);
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
		if (ops(k)->after_vol_disable)
			ops(k)->after_vol_disable(k, item);
	}
	vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s", item);
	ret = ops(k)->rmdir(path);
	if (ret && ret != -ENOENT)
		return vn_seterr(err, -ret, "rmdir %s: %s", path, strerror(-ret));
	return 0;
}

int vn_fs_probe(const struct vn_kern *k, const char *item, const char *dev)
{
	return ops(k)->fs_probe(k, item, dev);
}

static int real_fs_probe(const struct vn_kern *k, const char *item,
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
	if (!ret && ops(k)->after_mkfs)
		ops(k)->after_mkfs(k, item);
	return ret;
}

int vn_fs_mount_fd(const struct vn_kern *k, const char *dev, bool nosuid,
		   int *fd, struct vn_err *err)
{
	return ops(k)->fs_mount_fd(k, dev, nosuid, fd, err);
}

static int real_fs_mount_fd(const struct vn_kern *k, const char *dev,
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

static int real_subtree_enable(const struct vn_kern *k, const char *rel,
			       const char *cur, const char *ctl,
			       struct vn_err *err)
{
	char val[560];

	(void)cur;
	snprintf(val, sizeof(val), "+%s", ctl);
	return vn_kwritef(k, err, val, "%s/cgroup.subtree_control", rel);
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

static int real_vol_enable(const struct vn_kern *k, const char *item,
			   struct vn_err *err)
{
	char path[PATH_MAX];

	(void)err;
	vn_kpath(k, path, sizeof(path), VN_VOL_CFS "/%s/enable", item);
	return kwrite(k, path, "1");
}

const struct vn_kern_ops vn_kern_real_ops = {
	.name = "kernel",
	.write = real_write,
	.subtree_enable = real_subtree_enable,
	.member_alive = real_member_alive,
	.cg_attach = real_cg_attach,
	.rmdir = real_rmdir,
	.devnode = real_devnode,
	.run = real_run,
	.vol_enable = real_vol_enable,
	.fs_probe = real_fs_probe,
	.fs_mount_fd = real_fs_mount_fd,
};
