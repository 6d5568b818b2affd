// SPDX-License-Identifier: GPL-2.0
/*
 * vNode assembly and teardown (vnoded/vnode.c, component.c, placement.c,
 * lease.c, reconcile.c + kern.c) against a fake
 * sysroot: a directory tree standing in for /sys/fs/cgroup,
 * /sys/kernel/config/vnode and /proc, plus fake probe answers.
 */
#include <inttypes.h>

#include "unit_req.h"
#include "db.h"
#include "evict.h"
#include "lease.h"
#include "vnodectl.h"

#define M (1ULL << 20)

struct fx {
	char dir[256];
	char root[300];
	char db[300];
	struct vn_ctx ctx;
	struct vn_caller root_user;
};

#define CG "sys/fs/cgroup/vnode/"
#define CFS "sys/kernel/config/vnode/"

static void fake_host(struct fx *fx, const char *addr, const char *answer)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "probe/%s:7470", addr);
	if (answer)
		write_at(fx->root, rel, answer);
	else {
		char p[512];

		snprintf(p, sizeof(p), "%s/%s", fx->root, rel);
		unlink(p);
	}
}

/* Does memory host addr's fake lease file hold vNode name's lease of
 * bytes (0: none of it)? */
static bool has_lease(struct fx *fx, const char *addr, const char *name, uint64_t bytes)
{
	char rel[64], want[96];

	snprintf(rel, sizeof(rel), "probe/%s:7470.leases", addr);
	snprintf(want, sizeof(want), "p1 %016" PRIx64 " %" PRIu64 " ", vn_lease_id(name), bytes);
	if (bytes)
		return count_lines_at(fx->root, rel, want) == 1;
	snprintf(want, sizeof(want), "p1 %016" PRIx64 " ", vn_lease_id(name));
	return count_lines_at(fx->root, rel, want) != 0;
}

static void fake_identity(struct fx *fx)
{
	write_at(fx->root, "sys/kernel/config/vnode_xprt/identity", "p1\n");
}

static void add_host(struct fx *fx, const char *name, const char *addr,
		     const char *answer)
{
	struct vn_conf_comp c = { .kind = VN_COMP_MEMORY, .port = 7470 };
	struct vn_err err;

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	fake_host(fx, addr, answer);
	assert_int_equal(vn_component_add(&fx->ctx, &c, "test", false, NULL, &err), 0);
}

static int setup_n(void **state, int replicas)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_cluster cl = { .replicas = replicas, .disk = "vnmem",
				 .probe_timeout_ms = 100 };
	struct vn_err err;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/state.db", fx->dir);
	write_at(fx->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	write_at(fx->root, CFS "mem/.keep", "");
	write_at(fx->root, CFS "vnodes/.keep", "");
	write_at(fx->root, "proc/.keep", "");
	if (vn_ctx_init(&fx->ctx, fx->db, fx->root, &cl, &err)) {
		fprintf(stderr, "ctx: %s\n", err.msg);
		return -1;
	}
	fx->ctx.kill_timeout_ms = 500;
	*state = fx;
	return 0;
}

static int setup1(void **state)
{
	return setup_n(state, 1);
}

static int setup2(void **state)
{
	return setup_n(state, 2);
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vn_ctx_fini(&fx->ctx);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static int create(struct fx *fx, const char *name, uint64_t mem, uint64_t cache,
		  int replicas, struct vn_err *err)
{
	struct vn_vnode_req r = { .mem = mem, .cache = cache, .replicas = replicas };

	snprintf(r.name, sizeof(r.name), "%s", name);
	return vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, err);
}

static int64_t q_int(struct fx *fx, const char *sql)
{
	return db_int(fx->ctx.db, sql);
}

static uint64_t file_u64(struct fx *fx, const char *rel)
{
	char buf[64];

	assert_int_equal(read_at(fx->root, rel, buf, sizeof(buf)), 0);
	return strtoull(buf, NULL, 10);
}

static void create_destroy(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char buf[256], p[512];
	struct stat st;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	assert_int_equal(create(fx, "a", 256 * M, 64 * M, 0, &err), 0);

	/* cgroup v2 limits: memory.max = cache, memory.swap.max = remote quota */
	assert_true(file_u64(fx, CG "a/memory.max") == 64 * M);
	assert_true(file_u64(fx, CG "a/memory.swap.max") == 192 * M);
	assert_int_equal(read_at(fx->root, "sys/fs/cgroup/cgroup.subtree_control", buf,
				 sizeof(buf)), 0);
	assert_non_null(strstr(buf, "memory"));
	assert_int_equal(read_at(fx->root, CG "cgroup.subtree_control", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "memory"));
	/* accounting object keyed by the cgroup's inode */
	snprintf(p, sizeof(p), "%s/" CG "a", fx->root);
	assert_int_equal(stat(p, &st), 0);
	assert_true(file_u64(fx, CFS "vnodes/a/cgroup_id") == st.st_ino);
	assert_int_equal(q_int(fx, "SELECT cgroup_id FROM vnodes WHERE name='a'"), (int64_t)st.st_ino);
	/* the shared swap disk */
	assert_int_equal(read_at(fx->root, CFS "mem/vnmem/hosts", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.2:7470");
	assert_true(file_u64(fx, CFS "mem/vnmem/size") == 256 * M);
	assert_true(file_u64(fx, CFS "mem/vnmem/replicas") == 1);
	assert_true(file_u64(fx, CFS "mem/vnmem/enable") == 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkswap -f /dev/vnmem0"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"swapon --discard=pages -p 100 /dev/vnmem0"), 1);
	/* reservations + event */
	assert_int_equal(q_int(fx, "SELECT sum(bytes) FROM allocations"), 192 * M);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.create' AND name='a'"), 1);

	/* a second vNode reuses the disk: no second mkswap */
	assert_int_equal(create(fx, "b", 32 * M, 16 * M, 0, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkswap"), 1);

	/* destroy removes cgroup, accounting object, rows */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_false(exists_at(fx->root, CG "a"));
	assert_false(exists_at(fx->root, CFS "vnodes/a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='a'"), 0);
	assert_int_equal(q_int(fx, "SELECT sum(bytes) FROM allocations"), 16 * M);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.destroy'"), 1);
	/* past states stay queryable */
	assert_int_equal(q_int(fx, "SELECT json_extract(detail, '$.mem') FROM events "
			       "WHERE type='vnode.create' AND name='a'"), 256 * M);
	assert_true(exists_at(fx->root, CG "b"));

	/* unknown vNode */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "unknown vNode 'a'"));
}

static void bad_input(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	assert_int_equal(create(fx, "a", 64 * M, 128 * M, 0, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--cache (128M) is larger than --mem (64M)"));
	assert_int_equal(create(fx, "a", 0, 0, 0, &err), -EINVAL);
	assert_int_equal(create(fx, "a", 64 * M, 0, 0, &err), -EINVAL);
	assert_int_equal(create(fx, "bad/name", 64 * M, 32 * M, 0, &err), -EINVAL);
	assert_int_equal(create(fx, "", 64 * M, 32 * M, 0, &err), -EINVAL);
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 3, &err), -EINVAL);
	/* cluster keeps 1 replica: asking for 2 is refused, honestly */
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "swap is global"));
	{
		struct vn_vnode_req r = { .name = "a", .mem = 64 * M, .cache = 32 * M };

		strcpy(r.cpus, "0-1,x");
		assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err),
				 -EINVAL);
		strcpy(r.cpus, "");
		strcpy(r.owner, "no-such-user-xyz");
		assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "unknown user"));
	}
	/* nothing was created by any of that */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
	assert_false(exists_at(fx->root, CG "a"));
	assert_false(exists_at(fx->root, CFS "mem/vnmem"));

	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), 0);
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 1);
}

static void capacity(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;

	add_host(fx, "m1", "10.0.0.2", "100M 0 20");
	add_host(fx, "m2", "10.0.0.3", "50M 0 20");
	add_host(fx, "m3", "10.0.0.4", NULL);	/* down */

	/* 160M remote > 150M up */
	assert_int_equal(create(fx, "big", 200 * M, 40 * M, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "not enough remote memory"));
	assert_non_null(strstr(err.msg, "m3 down"));
	assert_false(exists_at(fx->root, CG "big"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE state='down'"), 1);

	/* 140M fits: spread over m1 (100M) and m2 (40M) */
	assert_int_equal(create(fx, "a", 150 * M, 10 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT a.bytes FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name='m1'"), 100 * M);
	assert_int_equal(q_int(fx, "SELECT a.bytes FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name='m2'"), 40 * M);
	/* now only 10M is left */
	assert_int_equal(create(fx, "b", 30 * M, 10 * M, 0, &err), -ENOSPC);
	assert_int_equal(create(fx, "b", 20 * M, 10 * M, 0, &err), 0);
	/* the memory host reports others' usage: that counts too */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "b", false, false, &fx->root_user, &err), 0);
	fake_host(fx, "10.0.0.3", "50M 50M 20");
	assert_int_equal(create(fx, "b", 20 * M, 10 * M, 0, &err), -ENOSPC);
	/* a vNode with no remote part needs no host at all */
	assert_int_equal(create(fx, "local", 20 * M, 20 * M, 0, &err), 0);
	/* used components cannot be removed */
	assert_int_equal(vn_component_remove(&fx->ctx, "m1", &err), -EBUSY);
	assert_int_equal(vn_component_remove(&fx->ctx, "m3", &err), 0);
}

static void no_hosts(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;

	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no memory hosts configured"));
	add_host(fx, "m1", "10.0.0.2", NULL);
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "m1 down"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
}

static void replicas2(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char dev[32], p[128];

	add_host(fx, "m1", "10.0.0.2", "100M 0 20");
	/* two copies need two hosts */
	assert_int_equal(create(fx, "a", 60 * M, 20 * M, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "2 x 40M on distinct memory hosts"));
	add_host(fx, "m2", "10.0.0.3", "100M 0 20");
	assert_int_equal(create(fx, "a", 60 * M, 20 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations WHERE bytes = 40 * 1048576"), 2);
	assert_true(file_u64(fx, CFS "mem/vnmem/replicas") == 2);
	/* disk size = capacity / replicas */
	assert_true(file_u64(fx, CFS "mem/vnmem/size") == 100 * M);
	/* a 1-replica vNode still gets the disk's 2 copies */
	assert_int_equal(create(fx, "b", 20 * M, 10 * M, 1, &err), 0);
	assert_int_equal(q_int(fx, "SELECT replicas FROM vnodes WHERE name='b'"), 2);
	/* m2 came back after the disk gave up on it (DEAD): up to a probe,
	 * yet no page of the disk goes there, so 2 copies are not promised */
	assert_int_equal(read_at(fx->root, CFS "mem/vnmem/dev", dev, sizeof(dev)), 0);
	snprintf(p, sizeof(p), "sys/block/%s/vnode/hosts", dev);
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 3\n1 10.0.0.3:7470 DEAD 0\n");
	assert_int_equal(create(fx, "c", 20 * M, 10 * M, 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "2 x 10M on distinct memory hosts"));
	assert_non_null(strstr(err.msg, "m2 given up by the swap disk"));
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 3\n1 10.0.0.3:7470 LIVE 0\n");
	assert_int_equal(create(fx, "c", 20 * M, 10 * M, 0, &err), 0);
	/* vnode show says how redundant the pages are now */
	write_at(fx->root, CFS "mem/vnmem/state", "healing\n");
	snprintf(p, sizeof(p), "sys/block/%s/vnode/at_risk", dev);
	write_at(fx->root, p, "7\n");
	{
		json_object *v;

		assert_int_equal(vn_vnode_show(&fx->ctx, "c", &v, &err), 0);
		assert_string_equal(vn_jstr(v, "redundancy"), "healing");
		assert_int_equal(vn_jint(v, "slabs_at_risk"), 7);
		json_object_put(v);
	}
	/* no new 2-copy promise while slabs have one copy */
	assert_int_equal(create(fx, "d", 20 * M, 10 * M, 0, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "is healing: 7 slab(s) have fewer than 2 copies"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='d'"), 0);
	/* reconcile turns the disk's health changes into events */
	snprintf(p, sizeof(p), "sys/block/%s/vnode/hosts", dev);
	vn_reconcile(&fx->ctx, false);
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 3\n1 10.0.0.3:7470 DEAD 0\n");
	write_at(fx->root, CFS "mem/vnmem/state", "degraded\n");
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='disk.host_lost' AND json_extract(detail, '$.host')='10.0.0.3:7470'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='disk.state' AND json_extract(detail, '$.from')='healing' AND json_extract(detail, '$.to')='degraded'"), 1);
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type LIKE 'disk.%' AND type != 'disk.enable'"), 2);
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 3\n1 10.0.0.3:7470 LIVE 0\n");
	write_at(fx->root, CFS "mem/vnmem/state", "live\n");
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='disk.host_rejoined'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='disk.state' AND json_extract(detail, '$.to')='live'"), 1);
}

static void busy_and_force(void **state)
{
	struct fx *fx = *state;
	struct vn_caller other = { .uid = 4242, .pid = 1 };
	struct vn_vnode_req r = { .name = "u", .mem = 64 * M, .cache = 32 * M };
	struct vn_err err;
	char pid[32];

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), 0);
	/* a live process in the vNode (our own pid, in the fake cgroup) */
	assert_int_equal(vn_vnode_attach(&fx->ctx, "a", getpid(), &fx->root_user, &err), 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	assert_int_equal(count_lines_at(fx->root, CG "a/cgroup.procs", pid), 1);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "still runs 1 process"));
	assert_true(exists_at(fx->root, CG "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 1);

	/* permissions: a stranger can neither destroy nor join */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", true, false, &other, &err), -EPERM);
	assert_int_equal(vn_vnode_attach(&fx->ctx, "a", 1, &other, &err), -EPERM);
	/* ... nor create for someone else, but may create their own */
	strcpy(r.owner, "0");
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &other, NULL, &err), -EPERM);
	r.owner[0] = '\0';
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &other, NULL, &err), 0);
	assert_int_equal(q_int(fx, "SELECT owner_uid FROM vnodes WHERE name='u'"), 4242);
	assert_int_equal(vn_vnode_attach(&fx->ctx, "u", 1, &other, &err), 0);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "u", true, false, &other, &err), 0);

	/* --force: cgroup.kill (the fake kernel empties cgroup.procs) */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", true, false, &fx->root_user, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "sys/fs/cgroup/vnode/a/cgroup.kill", "1"), 0);
	assert_false(exists_at(fx->root, CG "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
}

static void rollback(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char p[512];

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	/* vnode_proc not loaded: configfs vnodes/ missing */
	snprintf(p, sizeof(p), "%s/" CFS "vnodes", fx->root);
	rm_rf(p);
	assert_int_equal(create(fx, "a", 64 * M, 64 * M, 0, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "vnode_proc loaded"));
	/* the cgroup made before the failure is gone again */
	assert_false(exists_at(fx->root, CG "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
	/* no configfs mem/ either: disk setup fails first */
	snprintf(p, sizeof(p), "%s/" CFS "mem", fx->root);
	rm_rf(p);
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), -ENODEV);
	assert_false(exists_at(fx->root, CG "a"));
	/* no cgroup v2 */
	write_at(fx->root, CFS "mem/.keep", "");
	write_at(fx->root, CFS "vnodes/.keep", "");
	snprintf(p, sizeof(p), "%s/sys/fs/cgroup/cgroup.controllers", fx->root);
	unlink(p);
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "cgroup v2"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
}

static void reconcile(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req r = { .name = "e", .mem = 64 * M, .cache = 32 * M,
				  .ephemeral = true };
	struct vn_err err;
	uint64_t old_id;
	char p[512];
	pid_t child;
	int status;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	assert_int_equal(create(fx, "a", 64 * M, 32 * M, 0, &err), 0);
	old_id = file_u64(fx, CFS "vnodes/a/cgroup_id");
	/* nothing to fix */
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.reconcile'"), 0);

	/* reboot-like loss of kernel state: cgroup, accounting, swap */
	snprintf(p, sizeof(p), "%s/" CG "a", fx->root);
	rm_rf(p);
	snprintf(p, sizeof(p), "%s/" CFS "vnodes/a", fx->root);
	rm_rf(p);
	snprintf(p, sizeof(p), "%s/proc/swaps", fx->root);
	unlink(p);
	/* the daemon restarts: a new context on the same db */
	vn_ctx_fini(&fx->ctx);
	{
		struct vn_cluster cl = { .replicas = 1, .disk = "vnmem", .probe_timeout_ms = 100 };

		assert_int_equal(vn_ctx_init(&fx->ctx, fx->db, fx->root, &cl, &err), 0);
	}
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_true(exists_at(fx->root, CG "a/memory.max"));
	assert_true(file_u64(fx, CG "a/memory.swap.max") == 32 * M);
	assert_true(file_u64(fx, CFS "vnodes/a/cgroup_id") ==
		    (uint64_t)q_int(fx, "SELECT cgroup_id FROM vnodes WHERE name='a'"));
	(void)old_id;
	assert_int_equal(count_lines_at(fx->root, "proc/swaps", "/dev/vnmem0"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.reconcile'"), 1);

	/* throw-away vNode whose vnode-run died: reaped */
	child = fork();
	if (!child)
		_exit(0);
	waitpid(child, &status, 0);
	r.creator_pid = child;
	{
		struct vn_caller who = { .uid = 0, .pid = child };

		assert_int_equal(vn_vnode_create(&fx->ctx, &r, &who, NULL, &err), 0);
	}
	vsql_exec(fx->ctx.db, "UPDATE vnodes SET creator_pid = 0 WHERE 0");
	{
		char sql[128];

		snprintf(sql, sizeof(sql), "UPDATE vnodes SET creator_pid = %d WHERE name = 'e'",
			 (int)child);
		assert_int_equal(vsql_exec(fx->ctx.db, sql), 0);
	}
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='e'"), 0);
	assert_false(exists_at(fx->root, CG "e"));
	/* a non-throw-away vNode is never reaped */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='a'"), 1);
}

static void components(void **state)
{
	struct fx *fx = *state;
	struct vn_conf_comp c = { .name = "m1", .kind = VN_COMP_MEMORY, .addr = "10.0.0.2",
				  .port = 7470 };
	struct vn_conf conf;
	json_object *o;
	struct vn_err err;
	int64_t ups;

	/* probing: unreachable host is refused with the reason */
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", true, NULL, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "not adding m1"));
	fake_host(fx, "10.0.0.2", "reject full");
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", true, NULL, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "server full"));
	fake_host(fx, "10.0.0.2", "1G 10M 20");
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", true, &o, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "state")), "up");
	assert_true(json_object_get_uint64(json_object_object_get(o, "capacity")) == 1ULL << 30);
	json_object_put(o);
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", false, NULL, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	strcpy(c.name, "m9");
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", false, NULL, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already uses 10.0.0.2 port 7470"));
	strcpy(c.addr, "not-an-ip");
	assert_int_equal(vn_component_add(&fx->ctx, &c, "cli", false, NULL, &err), -EINVAL);
	assert_int_equal(vn_component_remove(&fx->ctx, "nope", &err), -ENOENT);

	/* background probe: one missed answer is asked again, not "down" */
	ups = q_int(fx, "SELECT count(*) FROM events WHERE type='component.up'");
	fake_host(fx, "10.0.0.2", "miss-once 1G 20M 20");
	assert_int_equal(vn_probe_all(&fx->ctx, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='m1' AND state='up'"), 1);
	assert_int_equal(q_int(fx, "SELECT used FROM components WHERE name='m1'"), 20 * M);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='component.down'"), 0);
	/* no answer twice: down, with the reason and one event */
	fake_host(fx, "10.0.0.2", NULL);
	assert_int_equal(vn_probe_all(&fx->ctx, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='m1' AND state='down'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='component.down'"), 1);
	/* a down host is asked once: its one answer brings it up */
	fake_host(fx, "10.0.0.2", "miss-once 1G 10M 20");
	assert_int_equal(vn_probe_all(&fx->ctx, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='m1' AND state='down'"), 1);
	assert_int_equal(vn_probe_all(&fx->ctx, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='m1' AND state='up'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='component.up'"), ups + 1);

	/* cluster.conf sync: adds, then drops config entries that went away */
	vn_conf_defaults(&conf);
	conf.nr_comps = 2;
	conf.comps[0] = (struct vn_conf_comp){ .name = "c1", .kind = VN_COMP_MEMORY,
					       .addr = "10.0.1.1", .port = 7470 };
	conf.comps[1] = (struct vn_conf_comp){ .name = "c2", .kind = VN_COMP_STORAGE,
					       .addr = "10.0.1.2", .port = 7471 };
	assert_int_equal(vn_config_sync(&fx->ctx, &conf, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components"), 3);
	assert_int_equal(vn_config_sync(&fx->ctx, &conf, &err), 0);	/* idempotent */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components"), 3);
	/* a new definition: the old row and the new one swap in one step */
	strcpy(conf.comps[1].addr, "10.0.1.5");
	conf.comps[1].port = 7480;
	assert_int_equal(vn_config_sync(&fx->ctx, &conf, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='c2' AND "
			       "addr='10.0.1.5' AND port=7480 AND source='config'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components"), 3);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='component.remove' "
			       "AND name='c2' AND json_extract(detail, '$.reason') = "
			       "'changed in cluster.conf'"), 1);
	/* a bad one is refused and changes nothing */
	conf.comps[1].port = 0;
	assert_int_equal(vn_config_sync(&fx->ctx, &conf, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cluster.conf: invalid port"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='c2' AND port=7480"), 1);
	conf.comps[1].port = 7480;
	conf.nr_comps = 1;
	assert_int_equal(vn_config_sync(&fx->ctx, &conf, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='c2'"), 0);
	/* CLI-added components are not touched by the config */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name='m1'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='component.remove'"), 2);
}

/* Drain (#15): reservations move, the disk is told, delete waits for it. */
static json_object *show(struct fx *fx, const char *name)
{
	json_object *v = NULL;
	struct vn_err err;

	assert_int_equal(vn_vnode_show(&fx->ctx, name, &v, &err), 0);
	return v;
}

static int set_headroom(struct fx *fx, const char *name, int64_t headroom,
			const struct vn_caller *who, json_object **out, struct vn_err *err)
{
	struct vn_vnode_set_req rq = { .has_headroom = true, .headroom = headroom };

	return vn_vnode_set(&fx->ctx, name, &rq, who, out, err);
}

/* vnode create --headroom, vnode set, the cluster's default, reconcile */
static void headroom(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req r = { .mem = 64 * M, .cache = 16 * M };
	struct vn_caller other = { .uid = 1234, .gid = 1234, .pid = 1 };
	json_object *v = NULL;
	struct vn_err err;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	fx->ctx.cluster.headroom = VN_HEADROOM_AUTO;	/* cluster.conf's default */
	/* the cluster's default, stored as NULL */
	assert_int_equal(create(fx, "a", 64 * M, 16 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='a' AND headroom IS NULL"), 1);
	v = show(fx, "a");
	assert_string_equal(vn_jstr(v, "headroom"), "auto");
	json_object_put(v);
	/* its own */
	snprintf(r.name, sizeof(r.name), "b");
	r.has_headroom = true;
	r.headroom = 8 * M;
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	assert_int_equal(q_int(fx, "SELECT headroom FROM vnodes WHERE name='b'"), 8 * M);
	v = show(fx, "b");
	assert_string_equal(vn_jstr(v, "headroom"), "8M");
	json_object_put(v);
	/* set: owner or root only; stored, applied, an event */
	assert_int_equal(set_headroom(fx, "b", VN_HEADROOM_OFF, &other, &v, &err), -EPERM);
	assert_int_equal(q_int(fx, "SELECT headroom FROM vnodes WHERE name='b'"), 8 * M);
	assert_int_equal(set_headroom(fx, "b", VN_HEADROOM_OFF, &fx->root_user, &v, &err), 0);
	assert_string_equal(vn_jstr(v, "headroom"), "off");
	json_object_put(v);
	assert_int_equal(q_int(fx, "SELECT headroom FROM vnodes WHERE name='b'"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.set' AND name='b' "
			       "AND json_extract(detail, '$.headroom') = 'off'"), 1);
	assert_int_equal(set_headroom(fx, "nope", VN_HEADROOM_AUTO, &fx->root_user, &v, &err),
			 -ENOENT);
	/* a new default reaches the vNodes without their own on reconcile */
	fx->ctx.cluster.headroom = 2 * M;
	vn_reconcile(&fx->ctx, false);
	v = show(fx, "a");
	assert_string_equal(vn_jstr(v, "headroom"), "2M");
	json_object_put(v);
	v = show(fx, "b");
	assert_string_equal(vn_jstr(v, "headroom"), "off");
	json_object_put(v);
	/* without remote memory there is nothing to evict */
	assert_int_equal(create(fx, "c", 16 * M, 16 * M, 0, &err), 0);
	v = show(fx, "c");
	assert_string_equal(vn_jstr(v, "headroom"), "off");
	json_object_put(v);
	/* destroy forgets it */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_int_equal(set_headroom(fx, "a", VN_HEADROOM_AUTO, &fx->root_user, &v, &err),
			 -ENOENT);
}

/* vnodectl's vnode show of vNode name, text or -j JSON */
static char *show_out(struct fx *fx, const char *name, bool json)
{
	json_object *v = show(fx, name);
	struct vc vc = { .json = json };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	vp_init(&vc.p, f, json);
	vc.p.pretty = false;
	vc_print_vnode(&vc, v, true);
	vp_finish(&vc.p);
	fclose(f);
	json_object_put(v);
	return buf;
}

/* no trace of vNode name: no row, no cgroup, no accounting object */
static void expect_gone(struct fx *fx, const char *name)
{
	char sql[128], rel[64];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM vnodes WHERE name='%s'", name);
	assert_int_equal(q_int(fx, sql), 0);
	snprintf(rel, sizeof(rel), CG "%s", name);
	assert_false(exists_at(fx->root, rel));
	snprintf(rel, sizeof(rel), CFS "vnodes/%s", name);
	assert_false(exists_at(fx->root, rel));
}

static void rm_acct(struct fx *fx, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/" CFS "vnodes/%s", fx->root, name);
	rm_rf(p);
}

/* vnode set rq of vNode name, its answer dropped */
static int set_rq(struct fx *fx, const char *name, const struct vn_vnode_set_req *rq,
		  const struct vn_caller *who, struct vn_err *err)
{
	json_object *v = NULL;
	int ret;

	ret = vn_vnode_set(&fx->ctx, name, rq, who, &v, err);
	json_object_put(v);
	return ret;
}

static int set_prefetch(struct fx *fx, const char *name, bool on,
			const struct vn_caller *who, struct vn_err *err)
{
	struct vn_vnode_set_req rq = { .has_prefetch = true, .prefetch = on };

	return set_rq(fx, name, &rq, who, err);
}

/* the accounting object's attr and the row's column of that name are val */
static void expect_attr(struct fx *fx, const char *name, const char *attr, const char *val)
{
	char buf[32], rel[64], sql[160];

	snprintf(rel, sizeof(rel), CFS "vnodes/%s/%s", name, attr);
	assert_int_equal(read_at(fx->root, rel, buf, sizeof(buf)), 0);
	assert_string_equal(buf, val);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM vnodes WHERE name = '%s' AND %s = '%s'",
		 name, attr, val);
	assert_int_equal(q_int(fx, sql), 1);
}

/* vnode set of vNode name's attr to word as vnodectl sends it (with more
 * arguments: extra, e.g. ",\"headroom\":\"8M\""): done, and the kernel's
 * attr and the row's are kernel */
static void set_word(struct fx *fx, const char *name, const char *attr, const char *word,
		     const char *extra, const char *kernel)
{
	char line[256];
	json_object *o;

	snprintf(line, sizeof(line), "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"%s\","
		 "\"%s\":\"%s\"%s}}", name, attr, word, extra);
	o = unit_req(&fx->ctx, line, 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
	expect_attr(fx, name, attr, kernel);
}

/* log lines that hold log_needle, and the last one logged */
static const char *log_needle = "";
static int log_hits;
static char log_last[1024];

static void count_log(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(log_last, sizeof(log_last), fmt, ap);
	va_end(ap);
	if (strstr(log_last, log_needle))
		log_hits++;
}

/* vnoded restarts: a new context on the same database and kernel, its
 * log counted by count_log */
static void restart(struct fx *fx)
{
	struct vn_cluster cl = { .replicas = 1, .disk = "vnmem", .probe_timeout_ms = 100 };
	struct vn_err err;

	vn_ctx_fini(&fx->ctx);
	assert_int_equal(vn_ctx_init(&fx->ctx, fx->db, fx->root, &cl, &err), 0);
	fx->ctx.log = count_log;
	log_hits = 0;
}

/* vNode a, whose attr is val, gets its accounting object made again by a
 * vnode_proc without attr (DIR/fake/no_ATTR present): reconcile cannot
 * restore it (a problem every time, once in the log), a stays active and
 * show warns (warning); then by a vnode_proc with attr again: restored,
 * nothing more logged, no warning */
static void lost_and_restored(struct fx *fx, const char *attr, const char *val,
			      const char *warning)
{
	char sql[160], off[512];
	json_object *v;

	rm_acct(fx, "a");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 1);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 1);
	assert_int_equal(log_hits, 1);
	assert_true(exists_at(fx->root, CFS "vnodes/a/cgroup_id"));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM vnodes WHERE name='a' AND "
		 "state='active' AND %s = '%s'", attr, val);
	assert_int_equal(q_int(fx, sql), 1);
	v = show(fx, "a");
	assert_non_null(strstr(json_object_to_json_string(json_object_object_get(v, "warnings")),
			       warning));
	json_object_put(v);
	snprintf(off, sizeof(off), "%s/fake/no_%s", fx->root, attr);
	unlink(off);
	rm_acct(fx, "a");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_attr(fx, "a", attr, val);
	assert_int_equal(log_hits, 1);
	v = show(fx, "a");
	assert_false(json_object_object_get_ex(v, "warnings", NULL));
	json_object_put(v);
}

/* vnode create --prefetch, vnode set --prefetch, show and its counters,
 * refused values, a vnode_proc without prefetching, reconcile */
static void prefetch(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req r = { .name = "a", .mem = 64 * M, .cache = 16 * M, .prefetch = true };
	struct vn_caller other = { .uid = 1234, .gid = 1234, .pid = 1 };
	json_object *v, *o, *st;
	struct vn_err err;
	char *out, p[512];

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	/* create --prefetch: stored, written to the accounting object */
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	expect_attr(fx, "a", "prefetch", "1");
	/* off by default: the kernel's default left alone */
	assert_int_equal(create(fx, "b", 64 * M, 16 * M, 0, &err), 0);
	expect_attr(fx, "b", "prefetch", "0");

	/* show: on, nothing read ahead yet: no hit rate */
	v = show(fx, "a");
	assert_int_equal(vn_jint(v, "prefetch"), 1);
	assert_true(json_object_object_get_ex(v, "prefetch_stats", &st));
	assert_int_equal(vn_jint(st, "issued_pages"), 0);
	assert_true(json_object_object_get_ex(st, "hit_rate", &o));
	assert_null(o);
	assert_false(json_object_object_get_ex(v, "warnings", NULL));
	json_object_put(v);
	out = show_out(fx, "a", false);
	assert_non_null(strstr(out, " prefetch on "));
	assert_non_null(strstr(out, "hit_rate - wasted 0"));
	free(out);
	/* the kernel's counters: 1000 read ahead, 750 hit, 100 wasted */
	write_at(fx->root, CFS "vnodes/a/prefetch_issued", "1000\n");
	write_at(fx->root, CFS "vnodes/a/prefetch_hits", "750\n");
	write_at(fx->root, CFS "vnodes/a/prefetch_wasted", "100\n");
	v = show(fx, "a");
	assert_true(json_object_object_get_ex(v, "prefetch_stats", &st));
	assert_int_equal(vn_jint(st, "issued_pages"), 1000);
	assert_int_equal(vn_jint(st, "hit_pages"), 750);
	assert_int_equal(vn_jint(st, "wasted_pages"), 100);
	assert_true(json_object_get_double(json_object_object_get(st, "hit_rate")) == 0.75);
	assert_int_equal(vn_jint(st, "wasted_bytes"), 409600);
	json_object_put(v);
	out = show_out(fx, "a", false);
	assert_non_null(strstr(out, "prefetch_stats:\n  issued_pages 1000 hit_pages 750 "
			       "wasted_pages 100 hit_rate 75.0% wasted 400K\n"));
	free(out);
	out = show_out(fx, "a", true);
	v = json_tokener_parse(out);
	assert_non_null(v);
	assert_true(json_object_get_boolean(json_object_object_get(v, "prefetch")));
	st = json_object_object_get(v, "prefetch_stats");
	assert_true(json_object_get_double(json_object_object_get(st, "hit_rate")) == 0.75);
	assert_int_equal(vn_jint(st, "wasted_bytes"), 409600);
	json_object_put(v);
	free(out);
	out = show_out(fx, "b", false);
	assert_non_null(strstr(out, " prefetch off "));
	free(out);

	/* set: off, on again; an event each */
	assert_int_equal(set_prefetch(fx, "a", false, &fx->root_user, &err), 0);
	expect_attr(fx, "a", "prefetch", "0");
	assert_int_equal(set_prefetch(fx, "a", true, &fx->root_user, &err), 0);
	expect_attr(fx, "a", "prefetch", "1");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.set' AND name='a' "
			       "AND json_extract(detail, '$.prefetch') IN ('on', 'off') "
			       "AND json_extract(detail, '$.headroom') IS NULL"), 2);
	/* as vnodectl sends it, with headroom in the same request */
	set_word(fx, "b", "prefetch", "on", ",\"headroom\":\"8M\"", "1");
	assert_int_equal(q_int(fx, "SELECT headroom FROM vnodes WHERE name='b'"), 8 * M);

	/* refused, nothing changed: a bad word, a bad headroom beside a good
	 * prefetch, nothing at all, somebody else's vNode, an unknown one */
	unit_expect_err(&fx->ctx, "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\","
			"\"prefetch\":\"maybe\"}}", 0, EINVAL,
			"--prefetch must be on or off, got 'maybe'");
	unit_expect_err(&fx->ctx, "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\","
			"\"prefetch\":1}}", 0, EINVAL, "--prefetch must be on or off, got ''");
	unit_expect_err(&fx->ctx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"c\","
			"\"mem\":67108864,\"cache\":16777216,\"prefetch\":\"yes\"}}", 0, EINVAL,
			"--prefetch must be on or off, got 'yes'");
	unit_expect_err(&fx->ctx, "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\","
			"\"prefetch\":\"off\",\"headroom\":\"lots\"}}", 0, EINVAL, "lots");
	unit_expect_err(&fx->ctx, "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\"}}", 0,
			EINVAL, "nothing to set (--headroom, --prefetch, --protect)");
	assert_int_equal(set_prefetch(fx, "a", false, &other, &err), -EPERM);
	assert_int_equal(set_prefetch(fx, "nope", false, &fx->root_user, &err), -ENOENT);
	expect_attr(fx, "a", "prefetch", "1");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='c'"), 0);
	assert_false(exists_at(fx->root, CG "c"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.set'"), 3);

	/* reconcile: changed behind vnoded's back, or the object lost (the
	 * module reloaded): set again, an event */
	write_at(fx->root, CFS "vnodes/a/prefetch", "0\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_attr(fx, "a", "prefetch", "1");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.reconcile' "
			       "AND name='a'"), 1);
	snprintf(p, sizeof(p), "%s/" CFS "vnodes/a", fx->root);
	rm_rf(p);
	snprintf(p, sizeof(p), "%s/" CFS "vnodes/b", fx->root);
	rm_rf(p);
	/* no object: the row alone changes */
	assert_int_equal(set_prefetch(fx, "b", false, &fx->root_user, &err), 0);
	assert_int_equal(q_int(fx, "SELECT prefetch FROM vnodes WHERE name='b'"), 0);
	/* vnoded restarts: its first reconcile makes the kernel so */
	log_needle = "cannot turn its prefetching on";
	restart(fx);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	expect_attr(fx, "a", "prefetch", "1");
	expect_attr(fx, "b", "prefetch", "0");

	/* a vnode_proc without prefetching: on is refused, nothing made or
	 * changed; off works; show says the kernel does not do it */
	write_at(fx->root, "fake/no_prefetch", "");
	r.name[0] = 'c';
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "this vnode_proc cannot prefetch"));
	expect_gone(fx, "c");
	assert_int_equal(create(fx, "c", 64 * M, 16 * M, 0, &err), 0);
	assert_false(exists_at(fx->root, CFS "vnodes/c/prefetch"));
	assert_int_equal(set_prefetch(fx, "c", true, &fx->root_user, &err), -EOPNOTSUPP);
	assert_int_equal(q_int(fx, "SELECT prefetch FROM vnodes WHERE name='c'"), 0);
	assert_int_equal(set_prefetch(fx, "c", false, &fx->root_user, &err), 0);
	v = show(fx, "c");
	assert_false(json_object_object_get_ex(v, "prefetch_stats", NULL));
	json_object_put(v);
	/* a's object made again by such a module, then by one that prefetches */
	lost_and_restored(fx, "prefetch", "1", "this vnode_proc has none");
}

static int set_protect(struct fx *fx, const char *name, enum vn_protect prot,
		       const struct vn_caller *who, struct vn_err *err)
{
	struct vn_vnode_set_req rq = { .has_protect = true, .protect = prot };

	return set_rq(fx, name, &rq, who, err);
}

/* vnode create --protect and the cluster's default, vnode set --protect,
 * show and its counters, refused values (aead, which vnode_proc refuses
 * today), a vnode_proc without protection, reconcile after a restart */
static void protect(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req r = { .name = "a", .mem = 64 * M, .cache = 16 * M,
				  .has_protect = true, .protect = VN_PROTECT_CRC };
	struct vn_vnode_set_req both = { .has_prefetch = true, .prefetch = true,
					 .has_protect = true, .protect = VN_PROTECT_AEAD };
	static const struct { const char *line, *msg; } refused[] = {
		{ "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\",\"protect\":\"sha\"}}",
		  "--protect must be none, crc or aead, got 'sha'" },
		{ "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\",\"protect\":1}}",
		  "--protect must be none, crc or aead, got ''" },
		{ "{\"cmd\":\"vnode.set\",\"args\":{\"name\":\"a\",\"protect\":\"aead\"}}",
		  "vnode_proc refused protect 'aead' (dmesg on the process host says why)" },
		{ "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"f\",\"mem\":67108864,"
		  "\"cache\":16777216,\"protect\":\"aead\"}}",
		  "vnode_proc refused protect 'aead' (dmesg on the process host says why)" },
		{ "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"f\",\"mem\":67108864,"
		  "\"cache\":16777216,\"protect\":\"on\"}}",
		  "--protect must be none, crc or aead, got 'on'" },
	};
	struct vn_caller other = { .uid = 1234, .gid = 1234, .pid = 1 };
	json_object *v, *o, *st;
	struct vn_err err;
	size_t i;
	char *out;

	add_host(fx, "m1", "10.0.0.2", "1G 0 20");
	/* create --protect crc: stored, written to the accounting object */
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	expect_attr(fx, "a", "protect", "crc");
	/* none by default (the cluster's) */
	assert_int_equal(create(fx, "b", 64 * M, 16 * M, 0, &err), 0);
	expect_attr(fx, "b", "protect", "none");
	/* the cluster's default (cluster.conf's protect) */
	fx->ctx.cluster.protect = VN_PROTECT_CRC;
	assert_int_equal(create(fx, "c", 64 * M, 16 * M, 0, &err), 0);
	expect_attr(fx, "c", "protect", "crc");
	/* ... that the request's overrides */
	r.name[0] = 'd';
	r.protect = VN_PROTECT_NONE;
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	expect_attr(fx, "d", "protect", "none");
	fx->ctx.cluster.protect = VN_PROTECT_NONE;
	o = unit_req(&fx->ctx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"e\","
		     "\"mem\":67108864,\"cache\":16777216,\"protect\":\"crc\"}}", 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	assert_string_equal(vn_jstr(json_object_object_get(o, "data"), "protect"), "crc");
	json_object_put(o);
	expect_attr(fx, "e", "protect", "crc");

	/* show: the profile, nothing caught yet */
	v = show(fx, "a");
	assert_string_equal(vn_jstr(v, "protect"), "crc");
	assert_true(json_object_object_get_ex(v, "protect_stats", &st));
	assert_int_equal(vn_jint(st, "errors"), 0);
	assert_int_equal(vn_jint(st, "failed"), 0);
	assert_false(json_object_object_get_ex(v, "warnings", NULL));
	json_object_put(v);
	/* the kernel's counters: 3 pages failed on a copy, 1 swap-in failed */
	write_at(fx->root, CFS "vnodes/a/protect_errors", "3\n");
	write_at(fx->root, CFS "vnodes/a/protect_failed", "1\n");
	out = show_out(fx, "a", false);
	assert_non_null(strstr(out, " throwaway no protect crc cgroup "));
	assert_non_null(strstr(out, "protect_stats:\n  errors 3 failed 1\n"));
	free(out);
	out = show_out(fx, "a", true);
	v = json_tokener_parse(out);
	assert_non_null(v);
	assert_string_equal(vn_jstr(v, "protect"), "crc");
	st = json_object_object_get(v, "protect_stats");
	assert_int_equal(vn_jint(st, "errors"), 3);
	assert_int_equal(vn_jint(st, "failed"), 1);
	json_object_put(v);
	free(out);
	out = show_out(fx, "b", false);
	assert_non_null(strstr(out, " protect none "));
	assert_non_null(strstr(out, "protect_stats:\n  errors 0 failed 0\n"));
	free(out);
	/* list: every vNode's profile */
	assert_int_equal(vn_vnode_list(&fx->ctx, &v, &err), 0);
	assert_string_equal(vn_jstr(json_object_array_get_idx(v, 0), "protect"), "crc");
	assert_string_equal(vn_jstr(json_object_array_get_idx(v, 1), "protect"), "none");
	json_object_put(v);

	/* set: none, crc again (the C call and the request); an event each */
	assert_int_equal(set_protect(fx, "a", VN_PROTECT_NONE, &fx->root_user, &err), 0);
	expect_attr(fx, "a", "protect", "none");
	set_word(fx, "a", "protect", "crc", "", "crc");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.set' AND name='a' "
			       "AND json_extract(detail, '$.protect') IN ('none', 'crc') "
			       "AND json_extract(detail, '$.prefetch') IS NULL"), 2);
	/* with headroom in the same request */
	set_word(fx, "b", "protect", "crc", ",\"headroom\":\"8M\"", "crc");
	assert_int_equal(q_int(fx, "SELECT headroom FROM vnodes WHERE name='b'"), 8 * M);

	/* refused, nothing changed: a bad word, not a word, aead (vnode_proc
	 * refuses it) alone or beside prefetch on, somebody else's vNode, an
	 * unknown one; a create asking for aead or a bad word makes nothing */
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		unit_expect_err(&fx->ctx, refused[i].line, 0, EINVAL, refused[i].msg);
	assert_int_equal(set_rq(fx, "d", &both, &fx->root_user, &err), -EINVAL);
	expect_attr(fx, "d", "prefetch", "0");
	expect_attr(fx, "d", "protect", "none");
	assert_int_equal(set_protect(fx, "a", VN_PROTECT_NONE, &other, &err), -EPERM);
	assert_int_equal(set_protect(fx, "nope", VN_PROTECT_NONE, &fx->root_user, &err), -ENOENT);
	expect_attr(fx, "a", "protect", "crc");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.set'"), 3);
	fx->ctx.cluster.protect = VN_PROTECT_AEAD;
	assert_int_equal(create(fx, "f", 64 * M, 16 * M, 0, &err), -EINVAL);
	fx->ctx.cluster.protect = VN_PROTECT_NONE;
	expect_gone(fx, "f");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE name='f'"), 0);

	/* reconcile: changed behind vnoded's back, or the object lost: set
	 * again, an event */
	write_at(fx->root, CFS "vnodes/a/protect", "none\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_attr(fx, "a", "protect", "crc");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.reconcile' "
			       "AND name='a'"), 1);
	/* no object: the row alone changes */
	rm_acct(fx, "a");
	rm_acct(fx, "b");
	assert_int_equal(set_protect(fx, "b", VN_PROTECT_NONE, &fx->root_user, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='b' AND protect='none'"), 1);
	/* vnoded restarts: its first reconcile makes the kernel so */
	log_needle = "cannot set its protection profile to crc";
	restart(fx);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	expect_attr(fx, "a", "protect", "crc");
	expect_attr(fx, "b", "protect", "none");
	expect_attr(fx, "c", "protect", "crc");

	/* a vnode_proc without protection: crc is refused with its reason,
	 * nothing made or changed; none works as before */
	write_at(fx->root, "fake/no_protect", "");
	r.name[0] = 'g';
	r.protect = VN_PROTECT_CRC;
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), -EOPNOTSUPP);
	assert_string_equal(err.msg, "this vnode_proc cannot protect pages (its accounting objects have no protect attribute): load a vnode_proc that can");
	expect_gone(fx, "g");
	assert_int_equal(create(fx, "g", 64 * M, 16 * M, 0, &err), 0);
	assert_false(exists_at(fx->root, CFS "vnodes/g/protect"));
	assert_int_equal(set_protect(fx, "g", VN_PROTECT_CRC, &fx->root_user, &err), -EOPNOTSUPP);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes WHERE name='g' AND protect='none'"), 1);
	assert_int_equal(set_protect(fx, "g", VN_PROTECT_NONE, &fx->root_user, &err), 0);
	v = show(fx, "g");
	assert_false(json_object_object_get_ex(v, "protect_stats", NULL));
	assert_false(json_object_object_get_ex(v, "warnings", NULL));
	json_object_put(v);
	/* a's object made again by such a module, then by one that protects */
	lost_and_restored(fx, "protect", "crc",
			  "the vNode asks for protect crc, but this vnode_proc has no protection");
	/* the kernel's profile not the row's: show warns until reconcile */
	write_at(fx->root, CFS "vnodes/a/protect", "none\n");
	v = show(fx, "a");
	assert_non_null(strstr(json_object_to_json_string(json_object_object_get(v, "warnings")),
			       "its accounting object has protect none"));
	json_object_put(v);
}

/* vNode name's events of type */
static int64_t count_events(struct fx *fx, const char *name, const char *type)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE object='vnode' AND "
		 "name='%s' AND type='%s'", name, type);
	return q_int(fx, sql);
}

/* the detail of vNode name's last event type: its message, its increase
 * and total */
static void expect_protect_event(struct fx *fx, const char *name, const char *type,
				 int64_t increase, int64_t total, const char *msg)
{
	char sql[384];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE id = (SELECT max(id) FROM "
		 "events WHERE name='%s' AND type='%s') AND json_extract(detail, '$.increase') = %"
		 PRId64 " AND json_extract(detail, '$.total') = %" PRId64 " AND "
		 "json_extract(detail, '$.message') = '%s'", name, type, increase, total, msg);
	if (q_int(fx, sql) != 1)
		fail_msg("no %s event of %s with +%" PRId64 " =%" PRId64 " '%s'", type, name,
			 increase, total, msg);
	assert_string_equal(log_last, msg);
}

/* a vNode's protect_errors and protect_failed growing: an event row each
 * time (and a log line), none while they stand still, none twice after a
 * restart, counted again when the object or the vNode is made again */
static void protect_events(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req r = { .name = "v1", .mem = 64 * M, .cache = 16 * M,
				  .has_protect = true, .protect = VN_PROTECT_CRC };
	struct vn_err err;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	fx->ctx.log = count_log;
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	assert_int_equal(create(fx, "v2", 64 * M, 16 * M, 0, &err), 0);
	/* nothing counted: nothing recorded */
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 0);
	/* 3 pages failed their check on a copy */
	write_at(fx->root, CFS "vnodes/v1/protect_errors", "3\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 1);
	expect_protect_event(fx, "v1", "vnode.protect_error", 3, 3,
			     "vnode v1: 3 pages failed their crc check on a copy (served from another copy)");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.protect_error' "
			       "AND json_extract(detail, '$.counter') = 'protect_errors' AND "
			       "json_extract(detail, '$.protect') = 'crc'"), 1);
	/* standing still: nothing more */
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 1);
	/* one more, and a swap-in no copy of which passed */
	write_at(fx->root, CFS "vnodes/v1/protect_errors", "4\n");
	write_at(fx->root, CFS "vnodes/v1/protect_failed", "1\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 2);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_failed"), 1);
	expect_protect_event(fx, "v1", "vnode.protect_failed", 1, 1,
			     "vnode v1: 1 swap-in failed: no copy passed its crc check (SIGBUS)");
	assert_int_equal(q_int(fx, "SELECT json_extract(detail, '$.increase') FROM events WHERE "
			       "type='vnode.protect_error' ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='vnode.protect_error' "
			       "AND json_extract(detail, '$.message') = 'vnode v1: 1 page failed its "
			       "crc check on a copy (served from another copy)'"), 1);
	/* vnoded restarts: nothing twice; what grew while it was down, once */
	restart(fx);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 2);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_failed"), 1);
	write_at(fx->root, CFS "vnodes/v1/protect_failed", "3\n");
	restart(fx);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_failed"), 2);
	expect_protect_event(fx, "v1", "vnode.protect_failed", 2, 3,
			     "vnode v1: 2 swap-ins failed: no copy passed its crc check (SIGBUS)");
	/* the object made again (its counters from 0): counted from 0 */
	rm_acct(fx, "v1");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 2);
	write_at(fx->root, CFS "vnodes/v1/protect_errors", "2\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_protect_event(fx, "v1", "vnode.protect_error", 2, 2,
			     "vnode v1: 2 pages failed their crc check on a copy (served from another copy)");
	/* another vNode's counters are its own */
	write_at(fx->root, CFS "vnodes/v2/protect_errors", "1\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_protect_event(fx, "v2", "vnode.protect_error", 1, 1,
			     "vnode v2: 1 page failed its integrity check on a copy (served from another copy)");
	assert_int_equal(count_events(fx, "v1", "vnode.protect_error"), 3);
	/* a new vNode of the same name counts from its creation */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "v1", false, false, &fx->root_user, &err), 0);
	assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err), 0);
	write_at(fx->root, CFS "vnodes/v1/protect_errors", "1\n");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	expect_protect_event(fx, "v1", "vnode.protect_error", 1, 1,
			     "vnode v1: 1 page failed its crc check on a copy (served from another copy)");
	/* a vnode_proc without the counters: nothing to record */
	write_at(fx->root, "fake/no_protect", "");
	create(fx, "v3", 64 * M, 16 * M, 0, &err);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(count_events(fx, "v3", "vnode.protect_error"), 0);
	assert_int_equal(count_events(fx, "v3", "vnode.protect_failed"), 0);
}

static void drain(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	json_object *o;
	char dev[32], p[128], buf[64];

	fake_identity(fx);
	add_host(fx, "m1", "10.0.0.2", "100M 0 20");
	add_host(fx, "m2", "10.0.0.3", "100M 0 20");
	assert_int_equal(create(fx, "a", 60 * M, 20 * M, 0, &err), 0);
	assert_int_equal(read_at(fx->root, CFS "mem/vnmem/dev", dev, sizeof(dev)), 0);
	snprintf(p, sizeof(p), "sys/block/%s/vnode/hosts", dev);
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 5 -\n1 10.0.0.3:7470 LIVE 5 -\n");
	/* 2 copies, 2 hosts: nowhere to go, nothing changes */
	assert_int_equal(vn_component_drain(&fx->ctx, "m1", true, &o, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "only 1 other memory host(s) would be left"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE drain IS NOT NULL"), 0);
	/* delete refused while the disk has slabs there */
	assert_int_equal(vn_component_remove(&fx->ctx, "m1", &err), -EBUSY);
	assert_non_null(strstr(err.msg, "holds 5 slab(s) of the swap disk"));
	/* a third host too small for a's 40M there: refused, nothing moved */
	add_host(fx, "m3", "10.0.0.4", "30M 0 20");
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 5 -\n1 10.0.0.3:7470 LIVE 5 -\n"
		 "2 10.0.0.4:7470 LIVE 0 -\n");
	assert_int_equal(vn_component_drain(&fx->ctx, "m1", true, &o, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no room elsewhere"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name = 'm1'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE drain IS NOT NULL"), 0);
	/* room on m4 for all of it, but not within our quota there: refused
	 * by m4, nothing moved, the leases as they were */
	vn_component_remove(&fx->ctx, "m3", &err);
	add_host(fx, "m4", "10.0.0.5", "100M 0 20 quota=30M");
	write_at(fx->root, p, "0 10.0.0.2:7470 LIVE 5 -\n1 10.0.0.3:7470 LIVE 5 -\n"
		 "2 10.0.0.5:7470 LIVE 0 -\n");
	write_at(fx->root, CFS "mem/vnmem/hosts", "10.0.0.2:7470,10.0.0.3:7470,10.0.0.5:7470\n");
	assert_int_equal(vn_component_drain(&fx->ctx, "m1", true, &o, &err), -EDQUOT);
	assert_string_equal(err.msg, "cannot drain m1: m4 (10.0.0.5:7470): cannot reserve 40M for vNode 'a': 30M available (quota of identity p1 reached: 30M)");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE drain IS NOT NULL"), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 40 * M));
	assert_false(has_lease(fx, "10.0.0.5", "a", 0));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='lease.refused' AND name='m4'"), 1);
	/* room on m4 for all of it: moved, and the disk is told */
	fake_host(fx, "10.0.0.5", "100M 0 20");
	assert_int_equal(vn_component_drain(&fx->ctx, "m1", true, &o, &err), 0);
	assert_string_equal(vn_jstr(o, "drain"), "draining");
	json_object_put(o);
	assert_int_equal(read_at(fx->root, CFS "mem/vnmem/drain", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.2:7470");
	assert_int_equal(q_int(fx, "SELECT sum(bytes) FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name = 'm4'"), 40 * M);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name = 'm1'"), 0);
	/* the hosts' leases moved with them */
	assert_true(has_lease(fx, "10.0.0.5", "a", 40 * M) && has_lease(fx, "10.0.0.3", "a", 40 * M));
	assert_false(has_lease(fx, "10.0.0.2", "a", 0));
	/* no new reservation on a draining host */
	assert_int_equal(create(fx, "b", 30 * M, 10 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations a JOIN components c "
			       "ON c.id = a.component_id WHERE c.name = 'm1'"), 0);
	assert_int_equal(vn_component_remove(&fx->ctx, "m1", &err), -EBUSY);
	/* the disk finished: reconcile records it, delete works */
	write_at(fx->root, p, "0 10.0.0.2:7470 CLOSED 0 drained\n1 10.0.0.3:7470 LIVE 5 -\n"
		 "2 10.0.0.5:7470 LIVE 5 -\n");
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM components WHERE name = 'm1' AND drain = 'drained'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type IN ('drain.start', 'drain.finish') AND name = 'm1'"), 2);
	assert_int_equal(vn_component_remove(&fx->ctx, "m1", &err), 0);
	/* added again: the disk takes the drained address back */
	write_at(fx->root, CFS "mem/vnmem/drain", "");
	add_host(fx, "m1", "10.0.0.2", "100M 0 20");
	assert_int_equal(read_at(fx->root, CFS "mem/vnmem/drain", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-10.0.0.2:7470");
}

/* Reservations held by the memory hosts (1.4): reserved at create, all or
 * nothing; a refusal names the host, what was asked and what is there;
 * released at destroy (if the host was down, later by reconcile, after a
 * restart too); what a host lost reserved again by reconcile */
static void leases(void **state)
{
	struct fx *fx = *state;
	struct vn_host race = { .name = "m1", .take = 200 * M };
	struct vn_err err;
	int64_t since;
	char p[512];

	fake_identity(fx);
	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	add_host(fx, "m2", "10.0.0.3", "256M 0 20 quota=64M");
	assert_int_equal(create(fx, "a", 128 * M, 32 * M, 0, &err), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M));
	/* 400M: 256M on m2 (its quota 64M), 144M on m1: m2 refuses, m1's
	 * lease goes again, nothing is made */
	assert_int_equal(create(fx, "big", 432 * M, 32 * M, 0, &err), -EDQUOT);
	assert_string_equal(err.msg, "m2 (10.0.0.3:7470): cannot reserve 256M for vNode 'big': 64M available (quota of identity p1 reached: 64M)");
	assert_false(has_lease(fx, "10.0.0.2", "big", 0));
	assert_false(has_lease(fx, "10.0.0.3", "big", 0));
	expect_gone(fx, "big");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='lease.refused' AND "
			       "name='m2' AND json_extract(detail, '$.vnode')='big'"), 1);
	/* the host is the arbiter: another process host took 64M after our
	 * placement saw 160M free */
	write_at(fx->root, "probe/10.0.0.2:7470.leases", "p1 af63dc4c8601ec8c 96M\np2 1 64M\n");
	assert_int_equal(vn_lease_reserve(&fx->ctx, "late", &race, 1, &err), -ENOSPC);
	assert_string_equal(err.msg, "m1 (10.0.0.2:7470): cannot reserve 200M for vNode 'late': 96M available (host full; quota 256M)");
	/* m1 has 96M free now, m2 256M */
	assert_int_equal(create(fx, "b", 64 * M, 32 * M, 0, &err), 0);
	assert_true(has_lease(fx, "10.0.0.3", "b", 32 * M));

	/* m1 restarted: its leases are gone; the first reconcile after a
	 * start reserves them all, the next ones renew and reserve again
	 * what was lost */
	fx->ctx.log = count_log;
	snprintf(p, sizeof(p), "%s/probe/10.0.0.2:7470.leases", fx->root);
	unlink(p);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M));
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	unlink(p);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M) && has_lease(fx, "10.0.0.3", "b", 32 * M));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='lease.restore' AND "
			       "name='m1' AND json_extract(detail, '$.had_leases') = 0 AND "
			       "json_extract(detail, '$.vnodes') = 1"), 2);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type='lease.restore'"), 2);

	/* destroy releases; a host down then: kept in lease_releases, tried
	 * again by every reconcile, after a restart of vnoded too */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "b", false, false, &fx->root_user, &err), 0);
	assert_false(has_lease(fx, "10.0.0.3", "b", 0));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases"), 0);
	fake_host(fx, "10.0.0.2", NULL);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_non_null(strstr(log_last, "m1 (10.0.0.2:7470): cannot release the lease of vNode 'a': 10.0.0.2:7470: no answer"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases r JOIN components c ON "
			       "c.id = r.component_id WHERE c.name = 'm1' AND r.vnode = 'a' AND "
			       "r.lease_id = 'af63dc4c8601ec8c' AND "
			       "r.last_error LIKE '10.0.0.2:7470: no answer%'"), 1);
	since = q_int(fx, "SELECT since FROM lease_releases");
	restart(fx);
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases WHERE vnode = 'a'"), 1);
	assert_int_equal(q_int(fx, "SELECT since FROM lease_releases"), since);
	fake_host(fx, "10.0.0.2", "256M 0 20");
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M));
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_false(has_lease(fx, "10.0.0.2", "a", 0));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases"), 0);

	/* a vNode made again under the same name before its release went
	 * through: reserving its lease there ends the pending release */
	fake_host(fx, "10.0.0.3", NULL);	/* a on m1 */
	assert_int_equal(create(fx, "a", 128 * M, 32 * M, 0, &err), 0);
	fake_host(fx, "10.0.0.2", NULL);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases WHERE vnode = 'a'"), 1);
	fake_host(fx, "10.0.0.2", "256M 0 20");
	assert_int_equal(create(fx, "a", 128 * M, 32 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases"), 0);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M));
	/* one left over all the same: the database's lease there, reserved */
	assert_int_equal(vsql_exec(fx->ctx.db, "INSERT INTO lease_releases (component_id, "
				   "vnode, lease_id, since, host) SELECT id, 'a', 'af63dc4c8601ec8c', 1, "
				   "(SELECT host FROM vnodes WHERE name = 'a') "
				   "FROM components WHERE name = 'm1'"), 0);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_true(has_lease(fx, "10.0.0.2", "a", 96 * M));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM lease_releases"), 0);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_false(has_lease(fx, "10.0.0.2", "a", 0));

	/* a host before 1.4: no lease, today's bookkeeping, said once */
	fake_host(fx, "10.0.0.3", "256M 0 20 minor=3");
	log_needle = "speaks protocol 1.3, without reservations";
	log_hits = 0;
	assert_int_equal(create(fx, "d", 288 * M, 16 * M, 0, &err), 0);
	assert_true(has_lease(fx, "10.0.0.2", "d", 256 * M));
	assert_false(has_lease(fx, "10.0.0.3", "d", 0));
	assert_int_equal(create(fx, "e", 32 * M, 16 * M, 0, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM allocations a JOIN components c ON "
			       "c.id = a.component_id WHERE c.name = 'm2'"), 2);
	assert_int_equal(log_hits, 1);
}

/* vnodectl cluster show of fx's hosts, text or -j JSON */
static char *cluster_out(struct fx *fx, bool json)
{
	json_object *o = unit_req(&fx->ctx, "{\"cmd\":\"cluster.show\"}", 1000), *data;
	struct vc vc = { .json = json };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	data = json_object_object_get(o, "data");
	vp_init(&vc.p, f, json);
	vc.p.pretty = false;
	vc_print_cluster(&vc, data);
	fclose(f);
	json_object_put(o);
	return buf;
}

static void cluster_show(void **state)
{
	struct fx *fx = *state;
	struct vn_conf_comp s1 = { .name = "s1", .kind = VN_COMP_STORAGE, .addr = "10.0.0.4",
				   .port = 7471 };
	struct vn_err err;
	char *out;

	fake_identity(fx);
	add_host(fx, "m1", "10.0.0.2", "256M 0 20");
	add_host(fx, "m2", "10.0.0.3", NULL);
	assert_int_equal(vn_component_add(&fx->ctx, &s1, "test", false, NULL, &err), 0);
	write_at(fx->root, "probe/10.0.0.4:7471", "1G 100M 20");
	assert_int_equal(create(fx, "a", 128 * M, 32 * M, 0, &err), 0);
	write_at(fx->root, "probe/10.0.0.2:7470.leases", "p1 af63dc4c8601ec8c 96M\np2 1 64M\n");
	out = cluster_out(fx, false);
	assert_non_null(strstr(out, "identity p1\nhosts:\n"
		"  name m1 kind memory addr 10.0.0.2 port 7470 state up protocol 1.4 capacity 256M "
		"used 0 leased 160M committed 160M free 96M clients 0 reserved 96M\n"
		"  reservations:\n"
		"    identity p1 self yes leased 96M held 0 clients 0 leases 1\n"
		"    identity p2 self no leased 64M held 0 clients 0 leases 1\n"
		"  name m2 kind memory addr 10.0.0.3 port 7470 state down error 10.0.0.3:7470: no answer"));
	assert_non_null(strstr(out, "  name s1 kind storage addr 10.0.0.4 port 7471 state up "
			       "protocol 1.4 capacity 1G used 100M free 924M\n"));
	free(out);
	out = cluster_out(fx, true);
	assert_non_null(strstr(out, "{\"identity\":\"p1\",\"hosts\":[{\"name\":\"m1\",\"kind\":\"memory\","
		"\"addr\":\"10.0.0.2\",\"port\":7470,\"state\":\"up\",\"protocol\":\"1.4\","
		"\"capacity_bytes\":268435456,\"used_bytes\":0,\"leased_bytes\":167772160,"
		"\"committed_bytes\":167772160,\"free_bytes\":100663296,\"clients\":0,"
		"\"reserved_bytes\":100663296,\"reservations\":[{\"identity\":\"p1\",\"self\":true,"
		"\"leased_bytes\":100663296,\"held_bytes\":0,\"clients\":0,\"leases\":1},"));
	assert_non_null(strstr(out, "{\"name\":\"m2\",\"kind\":\"memory\",\"addr\":\"10.0.0.3\","
			       "\"port\":7470,\"state\":\"down\",\"error\":"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_destroy, setup1, teardown),
		cmocka_unit_test_setup_teardown(bad_input, setup1, teardown),
		cmocka_unit_test_setup_teardown(capacity, setup1, teardown),
		cmocka_unit_test_setup_teardown(no_hosts, setup1, teardown),
		cmocka_unit_test_setup_teardown(replicas2, setup2, teardown),
		cmocka_unit_test_setup_teardown(busy_and_force, setup1, teardown),
		cmocka_unit_test_setup_teardown(rollback, setup1, teardown),
		cmocka_unit_test_setup_teardown(reconcile, setup1, teardown),
		cmocka_unit_test_setup_teardown(components, setup1, teardown),
		cmocka_unit_test_setup_teardown(drain, setup2, teardown),
		cmocka_unit_test_setup_teardown(headroom, setup1, teardown),
		cmocka_unit_test_setup_teardown(prefetch, setup1, teardown),
		cmocka_unit_test_setup_teardown(protect, setup1, teardown),
		cmocka_unit_test_setup_teardown(protect_events, setup1, teardown),
		cmocka_unit_test_setup_teardown(leases, setup1, teardown),
		cmocka_unit_test_setup_teardown(cluster_show, setup1, teardown),
	};

	return cmocka_run_group_tests_name("vnode", tests, NULL, NULL);
}
