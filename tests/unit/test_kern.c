// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel interface's ops table (vnoded/kern_ops.h): which table
 * vn_kern_init() picks, that both tables are complete, and the fake
 * kernel (tests/unit/fake_kern.c) operation by operation, as the other
 * tests rely on it: cgroups, accounting objects, the swap disk, helpers,
 * the storage host's volumes, vnode_vol items and their file system,
 * vnode_xprt's fabric links.
 */
#include <sys/utsname.h>

#include "unit.h"
#include "auth.h"
#include "kern_ops.h"

#define CG "sys/fs/cgroup/vnode/"
#define CFS "sys/kernel/config/vnode/"
#define STOR "sys/kernel/config/vnode_stor/volumes/"
#define VOL "sys/kernel/config/vnode_vol/"
#define FAB "sys/kernel/config/vnode_xprt/fabric/"

struct fx {
	char dir[256];
	struct vn_kern k;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_err err;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	write_at(fx->dir, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	write_at(fx->dir, CFS "mem/.keep", "");
	write_at(fx->dir, CFS "vnodes/.keep", "");
	write_at(fx->dir, STOR ".keep", "");
	write_at(fx->dir, VOL ".keep", "");
	write_at(fx->dir, "proc/.keep", "");
	if (vn_kern_init(&fx->k, fx->dir, &err)) {
		fprintf(stderr, "kern: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void selection(void **state)
{
	struct vn_kern k, zero;
	struct vn_err err;
	char dir[256];

	(void)state;
	assert_int_equal(vn_kern_init(&k, NULL, &err), 0);
	assert_ptr_equal(k.ops, &vn_kern_real_ops);
	assert_false(vn_kern_fake(&k));
	assert_string_equal(k.root, "");
	assert_int_equal(vn_kern_init(&k, "", &err), 0);
	assert_false(vn_kern_fake(&k));
	assert_int_equal(vn_kern_init(&k, "/", &err), 0);
	assert_false(vn_kern_fake(&k));
	/* a zeroed vn_kern is the real kernel, as before the table */
	memset(&zero, 0, sizeof(zero));
	assert_false(vn_kern_fake(&zero));
	assert_ptr_equal(vn_kern_ops_of(&zero), &vn_kern_real_ops);

	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(vn_kern_init(&k, dir, &err), 0);
	assert_ptr_equal(k.ops, &vn_kern_fake_ops);
	assert_true(vn_kern_fake(&k));
	assert_string_equal(k.root, dir);	/* realpath of a mkdtemp dir */
	rm_rf(dir);
	assert_int_equal(vn_kern_init(&k, dir, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "sysroot"));
}

static void tables_complete(void **state)
{
	const struct vn_kern_ops *t[] = { &vn_kern_real_ops, &vn_kern_fake_ops };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_non_null(t[i]->name);
		assert_non_null(t[i]->write);
		assert_non_null(t[i]->subtree_val);
		assert_non_null(t[i]->member_alive);
		assert_non_null(t[i]->cg_attach);
		assert_non_null(t[i]->rmdir);
		assert_non_null(t[i]->devnode);
		assert_non_null(t[i]->run);
		assert_non_null(t[i]->vol_enable);
		assert_non_null(t[i]->fs_probe);
		assert_non_null(t[i]->fs_mount_fd);
	}
	/* the kernel does these itself */
	assert_null(vn_kern_real_ops.after_cg_kill);
	assert_null(vn_kern_real_ops.after_disk_enable);
	assert_null(vn_kern_real_ops.after_swapon);
	assert_null(vn_kern_real_ops.after_stor_enable);
	assert_null(vn_kern_real_ops.after_vol_disable);
	assert_null(vn_kern_real_ops.after_mkfs);
	assert_null(vn_kern_real_ops.after_fabric_mkdir);
	assert_null(vn_kern_real_ops.after_acct_mkdir);
	assert_true(vn_kern_real_ops.member_alive(999999));
	/* the fake imitates all of them */
	assert_non_null(vn_kern_fake_ops.after_cg_kill);
	assert_non_null(vn_kern_fake_ops.after_disk_enable);
	assert_non_null(vn_kern_fake_ops.after_swapon);
	assert_non_null(vn_kern_fake_ops.after_stor_enable);
	assert_non_null(vn_kern_fake_ops.after_vol_disable);
	assert_non_null(vn_kern_fake_ops.after_mkfs);
	assert_non_null(vn_kern_fake_ops.after_fabric_mkdir);
	assert_non_null(vn_kern_fake_ops.after_acct_mkdir);
}

static void fake_cgroup(void **state)
{
	struct fx *fx = *state;
	char buf[256];
	struct vn_err err;
	uint64_t id;
	bool on;
	pid_t child;

	assert_int_equal(vn_cg_create(&fx->k, "a", &err), 0);
	assert_int_equal(read_at(fx->dir, "sys/fs/cgroup/cgroup.subtree_control",
				 buf, sizeof(buf)), 0);
	assert_string_equal(buf, "memory");
	assert_true(vn_cg_exists(&fx->k, "a"));
	assert_int_equal(vn_cg_set_limits(&fx->k, "a", 8 << 20, 16 << 20, "0-1", &err), 0);
	/* the fake's subtree_control reads back as a word list */
	assert_int_equal(read_at(fx->dir, "sys/fs/cgroup/cgroup.subtree_control",
				 buf, sizeof(buf)), 0);
	assert_string_equal(buf, "memory cpuset");
	assert_int_equal(read_at(fx->dir, CG "a/memory.max", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "8388608");
	assert_int_equal(read_at(fx->dir, CG "a/cpuset.cpus", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-1");
	assert_int_equal(vn_cg_id(&fx->k, "a", &id), 0);

	/* attach appends; a pid that exited no longer counts */
	assert_int_equal(vn_cg_nprocs(&fx->k, "a"), 0);
	assert_int_equal(vn_cg_attach(&fx->k, "a", getpid(), &err), 0);
	child = fork();
	if (!child)
		_exit(0);
	waitpid(child, NULL, 0);
	assert_int_equal(vn_cg_attach(&fx->k, "a", child, &err), 0);
	assert_int_equal(count_lines_at(fx->dir, CG "a/cgroup.procs", ""), 2);
	assert_int_equal(vn_cg_nprocs(&fx->k, "a"), 1);
	/* cgroup.kill: everybody is gone at once */
	assert_int_equal(vn_cg_kill(&fx->k, "a", 100, &err), 0);
	assert_int_equal(vn_cg_nprocs(&fx->k, "a"), 0);
	/* a fake cgroup directory holds files: removed all the same */
	assert_int_equal(vn_cg_remove(&fx->k, "a", &err), 0);
	assert_false(vn_cg_exists(&fx->k, "a"));
	assert_int_equal(vn_cg_remove(&fx->k, "a", &err), 0);

	/* accounting object: vnode_proc's attributes, counters at zero */
	assert_int_equal(vn_acct_create(&fx->k, "a", 42, &err), 0);
	assert_true(vn_acct_exists(&fx->k, "a"));
	assert_int_equal(vn_acct_get_cgid(&fx->k, "a", &id), 0);
	assert_int_equal(id, 42);
	{
		json_object *c = json_object_new_object(), *h;

		assert_int_equal(vn_acct_read(&fx->k, "a", c), 0);
		assert_int_equal(json_object_object_length(c), 12);
		assert_int_equal(json_object_get_int(json_object_object_get(c, "prefetch_hits")), 0);
		assert_int_equal(json_object_get_int(json_object_object_get(c, "protect_failed")), 0);
		assert_true(json_object_object_get_ex(c, "lat_hist_us", &h));
		assert_int_equal(json_object_object_length(h), 14);
		json_object_put(c);
	}
	/* prefetch: off at first; 0 or 1 */
	assert_int_equal(vn_acct_get_prefetch(&fx->k, "a", &on), 0);
	assert_false(on);
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "a", false, &err), 0);
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "a", true, &err), 1);
	assert_int_equal(read_at(fx->dir, CFS "vnodes/a/prefetch", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1");
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "a", true, &err), 0);
	assert_int_equal(vn_kwritef(&fx->k, &err, "0\n", VN_CFS "/vnodes/a/prefetch"), 0);
	assert_int_equal(vn_acct_get_prefetch(&fx->k, "a", &on), 0);
	assert_false(on);
	assert_int_equal(vn_kwritef(&fx->k, &err, "1", VN_CFS "/vnodes/a/prefetch"), 0);
	assert_int_equal(vn_acct_get_prefetch(&fx->k, "a", &on), 0);
	assert_true(on);
	assert_int_equal(vn_kwritef(&fx->k, &err, "2", VN_CFS "/vnodes/a/prefetch"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "on", VN_CFS "/vnodes/a/prefetch"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "5", VN_CFS "/vnodes/a/prefetch_hits"), -EACCES);
	assert_int_equal(vn_kwritef(&fx->k, &err, "1", VN_CFS "/vnodes/a/bogus"), -ENOENT);
	assert_false(exists_at(fx->dir, CFS "vnodes/a/bogus"));
	assert_int_equal(vn_acct_get_prefetch(&fx->k, "a", &on), 0);
	assert_true(on);
	/* protect: none at first; none or crc, with or without a newline;
	 * aead refused as vnode_proc refuses it today */
	assert_int_equal(vn_acct_get_protect(&fx->k, "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "none");
	assert_int_equal(vn_acct_set_protect(&fx->k, "a", VN_PROTECT_NONE, &err), 0);
	assert_int_equal(vn_acct_set_protect(&fx->k, "a", VN_PROTECT_CRC, &err), 1);
	assert_int_equal(read_at(fx->dir, CFS "vnodes/a/protect", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "crc");
	assert_int_equal(vn_acct_set_protect(&fx->k, "a", VN_PROTECT_CRC, &err), 0);
	assert_int_equal(vn_acct_set_protect(&fx->k, "a", VN_PROTECT_AEAD, &err), -EINVAL);
	assert_string_equal(err.msg, "vnode_proc refused protect 'aead' (dmesg on the process host says why)");
	assert_int_equal(vn_acct_get_protect(&fx->k, "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "crc");
	assert_int_equal(vn_kwritef(&fx->k, &err, "none\n", VN_CFS "/vnodes/a/protect"), 0);
	assert_int_equal(vn_acct_get_protect(&fx->k, "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "none");
	assert_int_equal(vn_kwritef(&fx->k, &err, "crc", VN_CFS "/vnodes/a/protect"), 0);
	assert_int_equal(vn_kwritef(&fx->k, &err, "aead\n", VN_CFS "/vnodes/a/protect"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "cr", VN_CFS "/vnodes/a/protect"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "crc\n\n", VN_CFS "/vnodes/a/protect"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "CRC", VN_CFS "/vnodes/a/protect"), -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "1", VN_CFS "/vnodes/a/protect_errors"), -EACCES);
	assert_int_equal(vn_kwritef(&fx->k, &err, "1", VN_CFS "/vnodes/a/protect_failed"), -EACCES);
	assert_int_equal(vn_acct_get_protect(&fx->k, "a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "crc");
	assert_int_equal(vn_acct_remove(&fx->k, "a", &err), 0);
	assert_false(vn_acct_exists(&fx->k, "a"));
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "a", false, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "has no accounting object"));
	/* a vnode_proc without prefetching: off is nothing to do, on refused */
	write_at(fx->dir, "fake/no_prefetch", "");
	assert_int_equal(vn_acct_create(&fx->k, "b", 43, &err), 0);
	assert_int_equal(vn_acct_get_prefetch(&fx->k, "b", &on), -ENOENT);
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "b", false, &err), 0);
	assert_int_equal(vn_acct_set_prefetch(&fx->k, "b", true, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "this vnode_proc cannot prefetch"));
	assert_false(exists_at(fx->dir, CFS "vnodes/b/prefetch"));
	assert_int_equal(vn_acct_get_protect(&fx->k, "b", buf, sizeof(buf)), 0);
	assert_int_equal(vn_acct_remove(&fx->k, "b", &err), 0);
	/* nor protection: none is nothing to do, crc and aead refused */
	write_at(fx->dir, "fake/no_protect", "");
	assert_int_equal(vn_acct_create(&fx->k, "c", 44, &err), 0);
	assert_int_equal(vn_acct_get_protect(&fx->k, "c", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(vn_acct_set_protect(&fx->k, "c", VN_PROTECT_NONE, &err), 0);
	assert_int_equal(vn_acct_set_protect(&fx->k, "c", VN_PROTECT_CRC, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "this vnode_proc cannot protect pages (its accounting objects have no protect attribute): load a vnode_proc that can");
	assert_int_equal(vn_acct_set_protect(&fx->k, "c", VN_PROTECT_AEAD, &err), -EOPNOTSUPP);
	assert_false(exists_at(fx->dir, CFS "vnodes/c/protect"));
	assert_false(exists_at(fx->dir, CFS "vnodes/c/protect_errors"));
	{
		json_object *c = json_object_new_object();

		assert_int_equal(vn_acct_read(&fx->k, "c", c), 0);
		assert_int_equal(json_object_object_length(c), 7);
		json_object_put(c);
	}
	assert_int_equal(vn_acct_remove(&fx->k, "c", &err), 0);
	assert_int_equal(vn_acct_set_protect(&fx->k, "c", VN_PROTECT_NONE, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "has no accounting object"));
}

/* A parent systemd delegates (vnoded --cgroup): nothing above it is
 * written; a missing parent or one without the controller is refused
 * with what to do; bad paths are refused. */
static void delegated_cgroup(void **state)
{
	struct fx *fx = *state;
	const char *dp = "sys/fs/cgroup/vnode.slice/vnode-vnodes.service/";
	static const char *const bad[] = {
		"", "/vnode", "vnode/", "a//b", "..", "a/../b", "a/..", "./a",
		"a/./b", "a b", "a\nb", "a$b",
	};
	char buf[256], path[256];
	struct vn_err err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vn_kern_set_cgparent(&fx->k, bad[i], &err), -EINVAL);
	assert_string_equal(fx->k.cgparent, "vnode");
	assert_int_equal(vn_kern_set_cgparent(&fx->k,
					      "vnode.slice/vnode-vnodes.service", &err), 0);
	assert_int_equal(vn_cg_create(&fx->k, "a", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "vnode-vnodes.service started"));
	write_at(fx->dir, "sys/fs/cgroup/vnode.slice/vnode-vnodes.service/cgroup.controllers",
		 "cpu pids\n");
	assert_int_equal(vn_cg_create(&fx->k, "a", &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "Delegate=memory"));
	write_at(fx->dir, "sys/fs/cgroup/vnode.slice/vnode-vnodes.service/cgroup.controllers",
		 "cpuset cpu memory pids\n");
	assert_int_equal(vn_cg_create(&fx->k, "a", &err), 0);
	assert_int_equal(vn_cg_set_limits(&fx->k, "a", 8 << 20, 16 << 20, "0", &err), 0);
	snprintf(buf, sizeof(buf), "%sa/memory.max", dp);
	assert_int_equal(exists_at(fx->dir, buf), 1);
	snprintf(path, sizeof(path), "%scgroup.subtree_control", dp);
	assert_int_equal(read_at(fx->dir, path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "memory cpuset");
	/* systemd's part of the tree is not written, nor the old parent */
	assert_int_equal(exists_at(fx->dir, "sys/fs/cgroup/cgroup.subtree_control"), 0);
	assert_int_equal(exists_at(fx->dir, "sys/fs/cgroup/vnode.slice/cgroup.subtree_control"), 0);
	assert_int_equal(exists_at(fx->dir, "sys/fs/cgroup/vnode"), 0);
	assert_true(vn_cg_exists(&fx->k, "a"));
	assert_int_equal(vn_cg_attach(&fx->k, "a", getpid(), &err), 0);
	snprintf(buf, sizeof(buf), "%sa/cgroup.procs", dp);
	assert_int_equal(count_lines_at(fx->dir, buf, ""), 1);
	assert_int_equal(vn_cg_kill(&fx->k, "a", 100, &err), 0);
	assert_int_equal(vn_cg_remove(&fx->k, "a", &err), 0);
	assert_false(vn_cg_exists(&fx->k, "a"));
}

static void fake_disk_swap(void **state)
{
	struct fx *fx = *state;
	struct vn_disk_info di;
	struct vn_err err;
	char buf[64];

	assert_int_equal(vn_disk_setup(&fx->k, "vnmem", "10.0.0.2:7470", 64 << 20, 1,
				       &di, &err), 0);
	/* enable=1 made the disk appear */
	assert_string_equal(di.dev, "vnmem0");
	assert_string_equal(di.state, "live");
	assert_true(di.enabled);
	assert_false(di.swap_active);
	assert_int_equal(vn_swap_on(&fx->k, di.dev, true, &err), 0);
	/* helpers logged, not run; /proc/swaps lists the device */
	assert_int_equal(count_lines_at(fx->dir, "commands.log", "mkswap -f /dev/vnmem0"), 1);
	assert_int_equal(count_lines_at(fx->dir, "commands.log",
					 "swapon --discard=pages -p 100 /dev/vnmem0"), 1);
	assert_true(vn_swap_active(&fx->k, "vnmem0"));
	assert_int_equal(vn_disk_info(&fx->k, "vnmem", &di), 0);
	assert_true(di.swap_active);
	assert_int_equal(read_at(fx->dir, CFS "mem/vnmem/hosts", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.2:7470");
}

static void fake_volumes(void **state)
{
	struct fx *fx = *state;
	struct vn_stor_vol v;
	struct vn_vol_info vi;
	struct vn_err err;
	char dev[32];
	int fd;

	/* storage host */
	assert_int_equal(vn_stor_check(&fx->k, &err), 0);
	assert_int_equal(vn_stor_create(&fx->k, "v0", 64 << 20, "10.0.0.1", "p1", &err), 0);
	assert_int_equal(vn_stor_get(&fx->k, "v0", &v), 0);
	assert_true(v.enabled);
	assert_string_equal(v.state, "enabled");
	assert_string_equal(v.client, "10.0.0.1");
	assert_string_equal(v.owner, "p1");
	assert_int_equal(v.size, 64 << 20);

	/* process host: attach gets the lowest free vnblkN */
	assert_int_equal(vn_vol_attach(&fx->k, "v0", "10.0.0.3", 7471, "v0", dev,
				       sizeof(dev), &err), 0);
	assert_string_equal(dev, "vnblk0");
	assert_int_equal(vn_vol_info(&fx->k, "v0", &vi), 0);
	assert_string_equal(vi.state, "live");
	assert_string_equal(vi.host, "10.0.0.3:7471");
	/* blank until mkfs, ext4 after */
	assert_int_equal(vn_fs_probe(&fx->k, "v0", dev), 0);
	assert_int_equal(vn_mkfs(&fx->k, "v0", dev, 1000, 1000, &err), 0);
	assert_int_equal(count_lines_at(fx->dir, "commands.log",
					 "mkfs.ext4 -q -F -L v0 -E nodiscard,root_owner=1000:1000 /dev/vnblk0"), 1);
	assert_int_equal(vn_fs_probe(&fx->k, "v0", dev), 1);
	assert_true(exists_at(fx->dir, STOR "v0/fake_fs"));
	/* a directory stands in for the mount */
	assert_int_equal(vn_fs_mount_fd(&fx->k, dev, true, &fd, &err), 0);
	assert_true(fd >= 0);
	close(fd);
	assert_true(exists_at(fx->dir, "mnt/vnblk0"));
	/* detach clears dev and removes the item */
	assert_int_equal(vn_vol_detach(&fx->k, "v0", 0, &err), 0);
	assert_int_equal(vn_vol_info(&fx->k, "v0", &vi), 0);
	assert_false(vi.exists);

	/* enable fails with the errno the test asks for, and is undone */
	write_at(fx->dir, "fake/vol_enable_errno", "111");	/* ECONNREFUSED */
	assert_int_equal(vn_vol_attach(&fx->k, "v0", "10.0.0.3", 7471, "v0", dev,
				       sizeof(dev), &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "does not answer"));
	assert_int_equal(vn_vol_info(&fx->k, "v0", &vi), 0);
	assert_false(vi.exists);

	/* several volumes: their names sorted; no owner: none written */
	assert_int_equal(vn_stor_create(&fx->k, "b", 8 << 20, "10.0.0.2", "", &err), 0);
	assert_false(exists_at(fx->dir, STOR "b/owner"));
	assert_int_equal(vn_stor_get(&fx->k, "b", &v), 0);
	assert_string_equal(v.owner, "");
	assert_int_equal(vn_stor_create(&fx->k, "a", 8 << 20, "10.0.0.2", "p2", &err), 0);
	{
		json_object *names = NULL;

		assert_int_equal(vn_stor_names(&fx->k, &names), 0);
		assert_string_equal(json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN),
				    "[\"a\",\"b\",\"v0\"]");
		json_object_put(names);
	}

	assert_int_equal(vn_stor_delete(&fx->k, "v0", 0, &err), 0);
	assert_int_equal(vn_stor_get(&fx->k, "v0", &v), -ENOENT);
}

/* The kernel's identity: vnode_xprt's, else its default (the node name). */
/* fabric links: made with the kernel's defaults, checked as the kernel
 * checks, one per host, undone on failure */
static void fake_fabric(void **state)
{
	struct vn_fabric_link l = { .addr = "10.0.0.2", .delay_us = 20, .per_kib_ns = 80,
				    .jitter_us = 5, .jitter = "normal", .read_mbps = 3000,
				    .write_mbps = 1000 }, got;
	struct vn_fabric_stats st;
	struct fx *fx = *state;
	struct vn_err err;
	char buf[64], name[64];

	/* vnode_xprt without fabric emulation (or not loaded) */
	assert_int_equal(vn_fabric_put(&fx->k, "10.0.0.2", &l, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "vnode_xprt is not loaded, or has no fabric emulation"));
	write_at(fx->dir, FAB ".keep", "");
	assert_int_equal(vn_fabric_get(&fx->k, "10.0.0.2", &got), -ENOENT);
	assert_int_equal(vn_fabric_put(&fx->k, "10.0.0.2", &l, &err), 0);
	assert_int_equal(vn_fabric_get(&fx->k, "10.0.0.2", &got), 0);
	assert_string_equal(got.addr, "10.0.0.2");
	assert_int_equal(got.delay_us, 20);
	assert_int_equal(got.per_kib_ns, 80);
	assert_int_equal(got.jitter_us, 5);
	assert_string_equal(got.jitter, "normal");
	assert_int_equal(got.read_mbps, 3000);
	assert_int_equal(got.write_mbps, 1000);
	assert_int_equal(vn_fabric_stats(&fx->k, "10.0.0.2", &st), 0);
	assert_true(st.ops == 0 && st.wire_us == 0);
	/* traffic, as a test stands for it */
	write_at(fx->dir, FAB "10.0.0.2/stats", "clients 2\nops 1000\nheld 40\nread_ops 900\n"
		 "write_ops 100\nread_bytes 4096000\nwrite_bytes 0\nwire_us 412000\n"
		 "read_wire_us 380000\nwrite_wire_us 32000\nadded_us 80\nlate_us 3\n"
		 "early_us 1\nnew_key 9\n");
	assert_int_equal(vn_fabric_stats(&fx->k, "10.0.0.2", &st), 0);
	assert_true(st.clients == 2 && st.ops == 1000 && st.held == 40 &&
		    st.read_bytes == 4096000 && st.wire_us == 412000 && st.added_us == 80 &&
		    st.late_us == 3 && st.early_us == 1 && st.read_ops == 900 &&
		    st.write_ops == 100 && st.read_wire_us == 380000 && st.write_wire_us == 32000);

	/* the kernel's checks: nothing changes */
	assert_int_equal(vn_kwritef(&fx->k, &err, "1000001", VN_FABRIC_CFS "/10.0.0.2/delay_us"),
			 -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "-1", VN_FABRIC_CFS "/10.0.0.2/read_mbps"),
			 -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "gaussian", VN_FABRIC_CFS "/10.0.0.2/jitter"),
			 -EINVAL);
	assert_int_equal(vn_kwritef(&fx->k, &err, "0", VN_FABRIC_CFS "/10.0.0.2/stats"), -EACCES);
	assert_int_equal(vn_kwritef(&fx->k, &err, "m1.example", VN_FABRIC_CFS "/10.0.0.2/addr"),
			 -EINVAL);
	assert_int_equal(read_at(fx->dir, FAB "10.0.0.2/delay_us", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "20");
	/* the port is ignored; the address reads back as the kernel prints it */
	assert_int_equal(vn_kwritef(&fx->k, &err, "[fd00:0::2]:7470", VN_FABRIC_CFS "/10.0.0.2/addr"),
			 0);
	assert_int_equal(read_at(fx->dir, FAB "10.0.0.2/addr", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd00::2");
	assert_int_equal(vn_kwritef(&fx->k, &err, "10.0.0.2:7470", VN_FABRIC_CFS "/10.0.0.2/addr"),
			 0);

	/* a second link to the same host, made by hand: -EEXIST naming it;
	 * a link made for it is gone again */
	assert_int_equal(mkdir(strcat(strcpy(buf, fx->dir), "/" FAB "hand"), 0755), 0);
	vn_kern_fake_ops.after_fabric_mkdir(&fx->k, "hand");
	assert_int_equal(vn_fabric_find(&fx->k, "10.0.0.2", "hand", name, sizeof(name)), 0);
	assert_string_equal(name, "10.0.0.2");
	assert_int_equal(vn_fabric_find(&fx->k, "10.0.0.2", "10.0.0.2", name, sizeof(name)),
			 -ENOENT);
	l.read_mbps = 50;
	assert_int_equal(vn_fabric_put(&fx->k, "hand", &l, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "another fabric link, 10.0.0.2, already emulates the fabric to 10.0.0.2"));
	assert_int_equal(read_at(fx->dir, FAB "hand/read_mbps", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0");	/* an old link keeps its values */
	assert_int_equal(vn_fabric_put(&fx->k, "other", &l, &err), -EEXIST);
	assert_false(exists_at(fx->dir, FAB "other"));	/* a new one is removed */
	/* an update that fails half-way is undone */
	l.read_mbps = 1000001;
	assert_int_equal(vn_fabric_put(&fx->k, "10.0.0.2", &l, &err), -EINVAL);
	assert_int_equal(vn_fabric_get(&fx->k, "10.0.0.2", &got), 0);
	assert_int_equal(got.read_mbps, 3000);
	assert_int_equal(got.delay_us, 20);

	assert_int_equal(vn_fabric_remove(&fx->k, "10.0.0.2", &err), 0);
	assert_false(exists_at(fx->dir, FAB "10.0.0.2"));
	assert_int_equal(vn_fabric_remove(&fx->k, "10.0.0.2", &err), 0);
	assert_int_equal(vn_fabric_stats(&fx->k, "10.0.0.2", &st), -ENOENT);
}

static void fake_identity(void **state)
{
	struct fx *fx = *state;
	char id[16], want[16] = "vnode";
	struct utsname u;

	write_at(fx->dir, "sys/kernel/config/vnode_xprt/identity", "p1\n");
	vn_kern_identity(&fx->k, id, sizeof(id));
	assert_string_equal(id, "p1");
	write_at(fx->dir, "sys/kernel/config/vnode_xprt/identity", "");
	assert_int_equal(uname(&u), 0);
	if (vn_valid_identity(u.nodename, strlen(u.nodename)))
		snprintf(want, sizeof(want), "%s", u.nodename);
	vn_kern_identity(&fx->k, id, sizeof(id));
	assert_string_equal(id, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(selection),
		cmocka_unit_test(tables_complete),
		cmocka_unit_test_setup_teardown(fake_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(delegated_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_disk_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_fabric, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_identity, setup, teardown),
	};

	return cmocka_run_group_tests_name("kern", tests, NULL, NULL);
}
