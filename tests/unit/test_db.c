// SPDX-License-Identifier: GPL-2.0
/* State database: schema, migration, append-only event log, and the
 * read-only SQL guard behind `vnodectl sql` (vnoded/db.c). */
#include "unit.h"
#include "unit_req.h"
#include "db.h"
#include "vnoded.h"

struct fx {
	char dir[256];
	char path[PATH_MAX];
	struct vsql *db;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_err err;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/state.db", fx->dir);
	if (vn_db_open(fx->path, "h", &fx->db, &err))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vsql_close(fx->db);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static int64_t one_int(struct vsql *db, const char *sql)
{
	struct vsql_st *st;
	int64_t v = -1;

	assert_int_equal(vsql_prepare(db, sql, &st), 0);
	if (vsql_step(st) == VSQL_ROW)
		v = vsql_column_int64(st, 0);
	vsql_finalize(st);
	return v;
}

static void schema(void **state)
{
	struct fx *fx = *state;
	static const char *const tables[] = {
		"components", "vnodes", "allocations", "volumes", "events", "fabric_links",
		"explore_runs", "lease_releases",
	};
	char sql[128];
	size_t i;

	assert_int_equal(vn_db_version(fx->db), VN_DB_VERSION);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
			 tables[i]);
		assert_int_equal(one_int(fx->db, sql), 1);
	}
	/* constraints: cache <= mem, replicas 1..2 */
	assert_int_not_equal(vsql_exec(fx->db,
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('x', 100, 200, 1, 0, '/x', 1, 0)"), 0);
	assert_int_not_equal(vsql_exec(fx->db,
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('x', 100, 50, 3, 0, '/x', 1, 0)"), 0);
	assert_int_equal(vsql_exec(fx->db,
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('x', 100, 50, 2, 0, '/x', 1, 0)"), 0);
	/* reopen is idempotent */
	vsql_close(fx->db);
	{
		struct vn_err err;

		assert_int_equal(vn_db_open(fx->path, "h", &fx->db, &err), 0);
	}
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM vnodes"), 1);
}

/* A database of schema version v, fx->dir/name (its path into path),
 * holding rows (SQL run on it); left open for checks of the old schema. */
static struct vsql *old_db(struct fx *fx, int v, const char *name, const char *rows,
			   char *path, size_t len)
{
	struct vn_err err;
	struct vsql *db;

	snprintf(path, len, "%s/%s", fx->dir, name);
	assert_int_equal(vsql_open(path, false, &db, NULL, 0), 0);
	assert_int_equal(vn_db_migrate(db, v, &err), 0);
	assert_int_equal(vn_db_version(db), v);
	assert_int_equal(vsql_exec(db, rows), 0);
	return db;
}

/* old closed and opened again as vnoded opens it: migrated */
static struct vsql *migrated(struct vsql *old, const char *path)
{
	struct vn_err err;
	struct vsql *db;

	vsql_close(old);
	assert_int_equal(vn_db_open(path, "h", &db, &err), 0);
	assert_int_equal(vn_db_version(db), VN_DB_VERSION);
	return db;
}

static void migrate_v1(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 1, "old.db",
		    "INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		    "VALUES ('old', 1000, 500, 1, 0, '/x', 7, 1)", path, sizeof(path));
	/* a v1 database has no volumes and no vnodes.ephemeral */
	assert_int_equal(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name='volumes'"), 0);
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name='volumes'"), 1);
	assert_int_equal(one_int(db, "SELECT cgroup_id FROM vnodes WHERE name='old'"), 7);
	assert_int_equal(one_int(db, "SELECT ephemeral FROM vnodes WHERE name='old'"), 0);
	vsql_close(db);
}

/* v2 -> v3: the volumes placeholder is rebuilt with constraints, its rows
 * (none were ever written, but a hand-made one) survive. */
static void migrate_v2(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 2, "v2.db",
		"INSERT INTO components (name, kind, addr, port, created) VALUES ('s1', 'storage', '10.0.0.9', 7471, 1);"
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('v', 1000, 500, 1, 0, '/x', 7, 1);"
		"INSERT INTO volumes (name, component_id, size, vnode_id, mountpoint, state, created) "
		"VALUES ('v', 1, 4096, 1, '/data', 'weird', 5)", path, sizeof(path));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE name = 'v' AND "
				 "vnode_id = 1 AND mountpoint = '/data' AND state = 'detached' AND "
				 "keep = 0 AND owner_uid = 0 AND created = 5"), 1);
	/* the new constraints hold */
	assert_int_not_equal(vsql_exec(db, "UPDATE volumes SET state = 'bogus'"), 0);
	assert_int_not_equal(vsql_exec(db,
		"INSERT INTO volumes (name, component_id, size, vnode_id, created) "
		"VALUES ('w', 1, 4096, 1, 1)"), 0);	/* one per vNode */
	assert_int_not_equal(vsql_exec(db,
		"INSERT INTO volumes (name, component_id, size, created) VALUES ('w', 1, 0, 1)"), 0);
	/* destroying the vNode row unbinds (not deletes) its volume */
	assert_int_equal(vsql_exec(db, "DELETE FROM vnodes"), 0);
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE vnode_id IS NULL"), 1);
	vsql_close(db);
}

/* v3 -> v4: volumes rebuilt with the 'lost' state and volume_id; an
 * attached volume keeps every field. */
static void migrate_v3(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 3, "v3.db",
		"INSERT INTO components (name, kind, addr, port, created) VALUES ('s1', 'storage', '10.0.0.9', 7471, 1);"
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('v', 1000, 500, 1, 0, '/x', 7, 1);"
		"INSERT INTO volumes (name, component_id, size, vnode_id, mountpoint, state, created, "
		"owner_uid, keep, dev, fs, last_error) "
		"VALUES ('v', 1, 4096, 1, '/data', 'broken', 5, 1000, 1, 'vnblk0', 'ext4', 'gone')",
		path, sizeof(path));
	assert_int_not_equal(vsql_exec(db, "UPDATE volumes SET state = 'lost'"), 0);
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE name = 'v' AND "
				 "vnode_id = 1 AND mountpoint = '/data' AND state = 'broken' AND "
				 "owner_uid = 1000 AND keep = 1 AND dev = 'vnblk0' AND fs = 'ext4' AND "
				 "last_error = 'gone' AND created = 5 AND volume_id IS NULL"), 1);
	assert_int_equal(vsql_exec(db, "UPDATE volumes SET state = 'lost', volume_id = 'ab'"), 0);
	assert_int_not_equal(vsql_exec(db, "UPDATE volumes SET state = 'bogus'"), 0);
	/* 5: components' drain, NULL for the old rows */
	assert_int_equal(one_int(db, "SELECT count(*) FROM components WHERE drain IS NULL"), 1);
	assert_int_equal(vsql_exec(db, "UPDATE components SET drain = 'draining'"), 0);
	assert_int_not_equal(vsql_exec(db, "UPDATE components SET drain = 'gone'"), 0);
	/* 6: vNodes' headroom, NULL (the cluster's) for the old rows */
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE headroom IS NULL"), 1);
	assert_int_equal(vsql_exec(db, "UPDATE vnodes SET headroom = -1"), 0);
	assert_int_not_equal(vsql_exec(db, "UPDATE vnodes SET headroom = -2"), 0);
	/* 7: the probe's op round trip (unknown for the old rows), fabric links */
	assert_int_equal(one_int(db, "SELECT count(*) FROM components WHERE op_rtt_ns IS NULL"), 1);
	assert_int_equal(vsql_exec(db,
		"INSERT INTO fabric_links (addr, preset, target_ns, read_bps, write_bps, created, updated) "
		"VALUES ('10.0.0.9', 'rdma-rack', 3000, 1, 1, 1, 1);"
		"INSERT INTO fabric_links (addr, delay_ns, created, updated) "
		"VALUES ('10.0.0.8', 20000, 1, 1)"), 0);
	assert_int_not_equal(vsql_exec(db,		/* one per host */
		"INSERT INTO fabric_links (addr, created, updated) VALUES ('10.0.0.9', 1, 1)"), 0);
	assert_int_not_equal(vsql_exec(db,		/* a preset has a target */
		"INSERT INTO fabric_links (addr, preset, created, updated) VALUES ('10.0.0.7', 'x', 1, 1)"),
		0);
	assert_int_not_equal(vsql_exec(db, "UPDATE fabric_links SET jitter_dist = 'gaussian'"), 0);
	assert_int_equal(one_int(db, "SELECT count(*) FROM fabric_links WHERE jitter_dist = 'uniform' "
				 "AND floor_ns IS NULL AND link_delay_us = 0"), 2);
	vsql_close(db);
}

/* v7 -> v8: vNodes' prefetch, off for the old rows; the rest kept */
static void migrate_v7(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 7, "v7.db",
		"INSERT INTO components (name, kind, addr, port, created, op_rtt_ns) "
		"VALUES ('m1', 'memory', '10.0.0.2', 7470, 1, 350000);"
		"INSERT INTO vnodes (name, mem, cache, replicas, cpus, owner_uid, cgroup, cgroup_id, "
		"state, ephemeral, creator_pid, created, headroom) "
		"VALUES ('v', 1000, 500, 1, '0-1', 1000, '/x', 7, 'active', 1, 42, 5, 4096);"
		"INSERT INTO allocations (vnode_id, component_id, bytes) VALUES (1, 1, 500);"
		"INSERT INTO fabric_links (addr, delay_ns, created, updated) "
		"VALUES ('10.0.0.2', 20000, 1, 1)", path, sizeof(path));
	assert_int_not_equal(vsql_exec(db, "UPDATE vnodes SET prefetch = 1"), 0);
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE name = 'v' AND mem = 1000 "
				 "AND cache = 500 AND cpus = '0-1' AND owner_uid = 1000 AND "
				 "cgroup_id = 7 AND ephemeral = 1 AND creator_pid = 42 AND "
				 "created = 5 AND headroom = 4096 AND prefetch = 0"), 1);
	assert_int_equal(one_int(db, "SELECT bytes FROM allocations WHERE vnode_id = 1"), 500);
	assert_int_equal(one_int(db, "SELECT op_rtt_ns FROM components WHERE name = 'm1'"), 350000);
	assert_int_equal(one_int(db, "SELECT delay_ns FROM fabric_links WHERE addr = '10.0.0.2'"),
			 20000);
	/* 0 or 1 only */
	assert_int_equal(vsql_exec(db, "UPDATE vnodes SET prefetch = 1"), 0);
	assert_int_not_equal(vsql_exec(db, "UPDATE vnodes SET prefetch = 2"), 0);
	assert_int_not_equal(vsql_exec(db, "UPDATE vnodes SET prefetch = NULL"), 0);
	assert_int_equal(one_int(db, "SELECT prefetch FROM vnodes WHERE name = 'v'"), 1);
	vsql_close(db);
}

/* sql runs on db, or is refused */
static bool sql_ok(struct vsql *db, const char *sql)
{
	return vsql_exec(db, sql) == 0;
}

/* v8 -> v9: vNodes' protect, none for the old rows; the rest kept */
static void migrate_v8(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 8, "v8.db",
		"INSERT INTO components (name, kind, addr, port, created, op_rtt_ns) "
		"VALUES ('m1', 'memory', '10.0.0.2', 7470, 1, 350000);"
		"INSERT INTO vnodes (name, mem, cache, replicas, cpus, owner_uid, cgroup, cgroup_id, "
		"state, ephemeral, creator_pid, created, headroom, prefetch) "
		"VALUES ('v', 1000, 500, 1, '0-1', 1000, '/x', 7, 'active', 1, 42, 5, 4096, 1);"
		"INSERT INTO allocations (vnode_id, component_id, bytes) VALUES (1, 1, 500);"
		"INSERT INTO events (ts, type, object, name, detail) "
		"VALUES (6, 'vnode.set', 'vnode', 'v', '{\"prefetch\":\"on\"}')",
		path, sizeof(path));
	assert_false(sql_ok(db, "UPDATE vnodes SET protect = 'crc'"));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE name = 'v' AND mem = 1000 "
				 "AND cache = 500 AND cpus = '0-1' AND owner_uid = 1000 AND "
				 "cgroup_id = 7 AND ephemeral = 1 AND creator_pid = 42 AND "
				 "created = 5 AND headroom = 4096 AND prefetch = 1 AND "
				 "protect = 'none'"), 1);
	assert_int_equal(one_int(db, "SELECT bytes FROM allocations WHERE vnode_id = 1"), 500);
	assert_int_equal(one_int(db, "SELECT op_rtt_ns FROM components WHERE name = 'm1'"), 350000);
	assert_int_equal(one_int(db, "SELECT count(*) FROM events WHERE type = 'vnode.set' "
				 "AND json_extract(detail, '$.prefetch') = 'on'"), 1);
	/* none, crc or aead only */
	assert_true(sql_ok(db, "UPDATE vnodes SET protect = 'crc'"));
	assert_true(sql_ok(db, "UPDATE vnodes SET protect = 'aead'"));
	assert_false(sql_ok(db, "UPDATE vnodes SET protect = 'CRC'"));
	assert_false(sql_ok(db, "UPDATE vnodes SET protect = NULL"));
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE protect = 'aead'"), 1);
	vsql_close(db);
}

/* v9 -> v10: volumes' protect, none for the old rows; the rest kept */
static void migrate_v9(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 9, "v9.db",
		"INSERT INTO components (name, kind, addr, port, created) "
		"VALUES ('s1', 'storage', '10.0.0.9', 7471, 1);"
		"INSERT INTO volumes (name, component_id, size, state, created, owner_uid, keep, "
		"volume_id) VALUES ('d', 1, 8388608, 'detached', 2, 1000, 1, '0123456789abcdef')",
		path, sizeof(path));
	assert_false(sql_ok(db, "UPDATE volumes SET protect = 'crypt'"));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE name = 'd' AND "
				 "size = 8388608 AND state = 'detached' AND owner_uid = 1000 AND "
				 "keep = 1 AND volume_id = '0123456789abcdef' AND protect = 'none'"), 1);
	/* none, integrity or crypt only */
	assert_true(sql_ok(db, "UPDATE volumes SET protect = 'integrity'"));
	assert_true(sql_ok(db, "UPDATE volumes SET protect = 'crypt'"));
	assert_false(sql_ok(db, "UPDATE volumes SET protect = 'aead'"));
	assert_false(sql_ok(db, "UPDATE volumes SET protect = NULL"));
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE protect = 'crypt'"), 1);
	vsql_close(db);
}

/* v10 -> v11: explore_runs, empty; the rest kept */
static void migrate_v10(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 10, "v10.db",
		"INSERT INTO components (name, kind, addr, port, created) "
		"VALUES ('m1', 'memory', '10.0.0.8', 7470, 1)", path, sizeof(path));
	assert_false(sql_ok(db, "SELECT * FROM explore_runs"));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM components WHERE name = 'm1'"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM explore_runs"), 0);
	assert_true(sql_ok(db, "INSERT INTO explore_runs (explore_id, started, owner_uid, command, "
			   "seq, mem, cache, cache_bytes, protect, replicas, budget, seconds, "
			   "slowdown, rank, recommended, ok, exit) VALUES ('e', 1, 0, 'true', 1, "
			   "1024, '25%', 256, 'aead', 2, 1.2, 0.5, 1.0, 3, 1, 1, 0)"));
	/* the checks: words, replicas, a failed run is never recommended, one seq */
	assert_false(sql_ok(db, "UPDATE explore_runs SET protect = 'crypt'"));
	assert_false(sql_ok(db, "UPDATE explore_runs SET replicas = 3"));
	assert_false(sql_ok(db, "UPDATE explore_runs SET storage_protect = 'aead'"));
	assert_false(sql_ok(db, "UPDATE explore_runs SET ok = 0"));
	assert_false(sql_ok(db, "INSERT INTO explore_runs SELECT NULL, explore_id, started, "
			    "owner_uid, command, seq, mem, cache, cache_bytes, protect, replicas, "
			    "storage, storage_protect, budget, metric_regex, seconds, metric, "
			    "slowdown, rank, recommended, ok, exit FROM explore_runs"));
	vsql_close(db);
}

/* v11 -> v12: lease_releases, empty; a row per memory host and vNode
 * name, gone with its host; the rest kept */
static void migrate_v11(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 11, "v11.db",
		"INSERT INTO components (name, kind, addr, port, created) "
		"VALUES ('m1', 'memory', '10.0.0.8', 7470, 1)", path, sizeof(path));
	assert_false(sql_ok(db, "SELECT * FROM lease_releases"));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM components WHERE name = 'm1'"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM lease_releases"), 0);
	assert_true(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since, "
			   "last_error) VALUES (1, 'a', 'af63dc4c8601ec8c', 5, 'no answer')"));
	/* one per host and vNode, a lease id of 16 hex digits, a known host */
	assert_false(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since) "
			    "VALUES (1, 'a', 'af63dc4c8601ec8c', 6)"));
	assert_false(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since) "
			    "VALUES (1, 'b', 'af63', 6)"));
	assert_false(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since) "
			    "VALUES (2, 'b', 'af63dc4c8601ec8c', 6)"));
	assert_true(sql_ok(db, "DELETE FROM components WHERE name = 'm1'"));
	assert_int_equal(one_int(db, "SELECT count(*) FROM lease_releases"), 0);
	vsql_close(db);
}

/* 13: every row names its process host; a database from before becomes
 * the host's that opens it (and then that of the next identity: SQLite is
 * one process host's); links and pending releases are per host */
static void migrate_v12(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct vn_err err;
	struct vsql *db;

	db = old_db(fx, 12, "v12.db",
		"INSERT INTO components (name, kind, addr, port, created) "
		"VALUES ('m1', 'memory', '10.0.0.8', 7470, 1);"
		"INSERT INTO components (name, kind, addr, port, created) "
		"VALUES ('s1', 'storage', '10.0.0.9', 7471, 1);"
		"INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, cgroup_id, created) "
		"VALUES ('old', 1000, 500, 1, 0, '/x', 7, 1);"
		"INSERT INTO allocations (vnode_id, component_id, bytes) VALUES (1, 1, 500);"
		"INSERT INTO volumes (name, component_id, size, vnode_id, created) "
		"VALUES ('vol', 2, 4096, 1, 1);"
		"INSERT INTO events (ts, type, object, name) VALUES (1, 'vnode.create', 'vnode', 'old');"
		"INSERT INTO fabric_links (addr, delay_ns, created, updated) VALUES ('10.0.0.8', 5, 1, 1);"
		"INSERT INTO lease_releases (component_id, vnode, lease_id, since) "
		"VALUES (1, 'gone', 'af63dc4c8601ec8c', 5)", path, sizeof(path));
	assert_false(sql_ok(db, "SELECT host FROM vnodes"));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE host = 'h' AND name = 'old' "
				 "AND cgroup_id = 7"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM volumes WHERE host = 'h'"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM events WHERE host = 'h'"), 1);
	assert_int_equal(one_int(db, "SELECT delay_ns FROM fabric_links WHERE host = 'h' AND "
				 "addr = '10.0.0.8'"), 5);
	assert_int_equal(one_int(db, "SELECT count(*) FROM lease_releases WHERE host = 'h'"), 1);
	assert_int_equal(one_int(db, "SELECT bytes FROM allocations"), 500);
	/* still append-only; per host: the same link and release for another */
	assert_false(sql_ok(db, "UPDATE events SET host = 'x'"));
	assert_false(sql_ok(db, "DELETE FROM events"));
	assert_false(sql_ok(db, "INSERT INTO fabric_links (addr, created, updated, host) "
			    "VALUES ('10.0.0.8', 1, 1, 'h')"));
	assert_true(sql_ok(db, "INSERT INTO fabric_links (addr, created, updated, host) "
			   "VALUES ('10.0.0.8', 1, 1, 'h2')"));
	assert_true(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since, "
			   "host) VALUES (1, 'gone', 'af63dc4c8601ec8c', 5, 'h2')"));
	assert_false(sql_ok(db, "INSERT INTO lease_releases (component_id, vnode, lease_id, since, "
			    "host) VALUES (1, 'gone', 'af63dc4c8601ec8c', 5, 'h2')"));
	assert_true(sql_ok(db, "DELETE FROM fabric_links WHERE host = 'h2'"));
	assert_true(sql_ok(db, "DELETE FROM lease_releases WHERE host = 'h2'"));
	/* a vNode name is still the cluster's */
	assert_false(sql_ok(db, "INSERT INTO vnodes (name, mem, cache, replicas, owner_uid, cgroup, "
			    "cgroup_id, created, host) VALUES ('old', 1000, 500, 1, 0, '/x', 7, 1, 'h2')"));
	/* opened under another identity: still this one host's state */
	vsql_close(db);
	assert_int_equal(vn_db_open(path, "h3", &db, &err), 0);
	assert_int_equal(one_int(db, "SELECT count(*) FROM vnodes WHERE host = 'h3'"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM events WHERE host = 'h3'"), 1);
	assert_int_equal(one_int(db, "SELECT count(*) FROM fabric_links WHERE host = 'h3'"), 1);
	assert_false(sql_ok(db, "DELETE FROM events"));
	vsql_close(db);
}

#define EXPLORE_ROW(id, seq, host) "INSERT INTO explore_runs (explore_id, started, " \
	"owner_uid, command, seq, mem, cache, cache_bytes, protect, budget, rank, recommended, " \
	"ok, exit, host) VALUES ('" id "', 1, 1000, 'true', " #seq ", 1024, '25%', 256, 'crc', " \
	"1.2, 0, 0, 1, 0, '" host "')"

/* 14: an exploration's id is unique per process host: the rows kept, the
 * same id and seq for another host taken, twice for one refused */
static void migrate_v13(void **state)
{
	char path[PATH_MAX];
	struct vsql *db;

	db = old_db(*state, 13, "v13.db", EXPLORE_ROW("e1", 1, "") ";" EXPLORE_ROW("e1", 2, ""),
		    path, sizeof(path));
	assert_false(sql_ok(db, EXPLORE_ROW("e1", 1, "h2")));
	db = migrated(db, path);
	assert_int_equal(one_int(db, "SELECT count(*) FROM explore_runs WHERE host = 'h' AND "
				 "explore_id = 'e1' AND owner_uid = 1000 AND protect = 'crc'"), 2);
	assert_int_equal(one_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
				 "AND name = 'explore_runs_started'"), 1);
	assert_true(sql_ok(db, EXPLORE_ROW("e1", 1, "h2")));
	assert_false(sql_ok(db, EXPLORE_ROW("e1", 2, "h")));
	assert_false(sql_ok(db, "UPDATE explore_runs SET protect = 'crypt'"));
	assert_int_equal(one_int(db, "SELECT count(*) FROM explore_runs"), 3);
	vsql_close(db);
}

#define EXPLORE_REC(id, row2) "{\"cmd\": \"explore.record\", \"args\": {\"id\": \"" id "\", " \
	"\"started\": 1700000000000, \"command\": \"stress -m 1\", \"mem\": 1073741824, " \
	"\"storage\": null, \"budget\": 1.2, \"metric_regex\": null, \"rows\": [" \
	"{\"seq\": 1, \"protect\": \"none\", \"replicas\": 1, \"storage_protect\": null, " \
	"\"cache\": \"25%\", \"cache_bytes\": 268435456, \"ok\": true, \"exit\": 0, " \
	"\"seconds\": 1.5, \"metric\": null, \"slowdown\": 1.0, \"rank\": 0, " \
	"\"recommended\": false}, " row2 "]}}"

/* explore.record (vnodectl explore): rows in one transaction, readable
 * by vnodectl sql */
static void explore_record(void **state)
{
	struct fx *fx = *state;
	struct vn_ctx ctx = { .db = fx->db, .reply_fd = -1 };
	json_object *o, *rows = NULL;
	struct vn_err err;

	o = unit_req(&ctx, EXPLORE_REC("e1",
		"{\"seq\": 2, \"protect\": \"aead\", \"replicas\": 2, \"storage_protect\": null, "
		"\"cache\": \"25%\", \"cache_bytes\": 268435456, \"ok\": true, \"exit\": 0, "
		"\"seconds\": 1.7, \"metric\": null, \"slowdown\": 1.133, \"rank\": 3, "
		"\"recommended\": true}"), 1000);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM explore_runs WHERE explore_id = 'e1' "
				 "AND owner_uid = 1000 AND command = 'stress -m 1' AND storage IS NULL"), 2);
	assert_int_equal(one_int(fx->db, "SELECT seq FROM explore_runs WHERE recommended = 1 AND "
				 "protect = 'aead' AND replicas = 2 AND rank = 3 AND "
				 "abs(slowdown - 1.133) < 1e-9"), 2);
	/* a bad second row: nothing of the exploration is kept */
	unit_expect_err(&ctx, EXPLORE_REC("e2",
		"{\"seq\": 2, \"protect\": \"rot13\", \"cache\": \"25%\", \"cache_bytes\": 1, "
		"\"ok\": true, \"exit\": 0, \"rank\": 0, \"recommended\": false}"), 1000,
		EINVAL, "explore.record: constraint failed");
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM explore_runs WHERE explore_id = 'e2'"), 0);
	/* a value of another type: SQLite would keep it, PostgreSQL would not */
	unit_expect_err(&ctx, EXPLORE_REC("e2",
		"{\"seq\": \"two\", \"protect\": \"crc\", \"cache\": \"25%\", \"cache_bytes\": 1, "
		"\"ok\": true, \"exit\": 0, \"rank\": 1, \"recommended\": false}"), 1000,
		EINVAL, "explore.record: row 2: 'seq' must be an integer");
	unit_expect_err(&ctx, "{\"cmd\": \"explore.record\", \"args\": {\"id\": \"e2\", "
			"\"command\": \"x\", \"started\": 1, \"mem\": 1, \"budget\": \"20%\", "
			"\"rows\": [{\"seq\": 1}]}}", 0, EINVAL,
			"explore.record: 'budget' must be a number");
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM explore_runs WHERE explore_id = 'e2'"), 0);
	/* the same exploration twice */
	unit_expect_err(&ctx, EXPLORE_REC("e1", "{\"seq\": 3, \"protect\": \"crc\", "
		"\"cache\": \"25%\", \"cache_bytes\": 1, \"ok\": false, \"exit\": 1, "
		"\"rank\": 1, \"recommended\": false}"), 0, EINVAL, "constraint failed");
	unit_expect_err(&ctx, "{\"cmd\": \"explore.record\", \"args\": {\"id\": \"e3\", "
			"\"command\": \"x\", \"started\": 1, \"mem\": 1, \"rows\": []}}", 0,
			EINVAL, "'rows' must be an array");
	unit_expect_err(&ctx, "{\"cmd\": \"explore.record\", \"args\": {\"command\": \"x\"}}",
			0, EINVAL, "missing or invalid 'id'");
	/* vnodectl sql reads them */
	assert_int_equal(vn_sql_readonly_db(fx->db, "select * from explore_runs", NULL, &rows,
					    &err), 0);
	assert_int_equal(json_object_array_length(rows), 2);
	json_object_put(rows);
}

static void refuse_newer(void **state)
{
	struct fx *fx = *state;
	char path[PATH_MAX];
	struct vn_err err;
	struct vsql *db;

	snprintf(path, sizeof(path), "%s/new.db", fx->dir);
	assert_int_equal(vsql_open(path, false, &db, NULL, 0), 0);
	assert_int_equal(vsql_exec(db, "PRAGMA user_version = 99"), 0);
	vsql_close(db);
	assert_int_equal(vn_db_open(path, "h", &db, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "schema version 99"));
}

static void events(void **state)
{
	struct fx *fx = *state;
	json_object *d = json_object_new_object(), *rows;
	struct vn_err err;

	json_object_object_add(d, "mem", json_object_new_int(5));
	assert_int_equal(vn_db_event(fx->db, "h", "vnode.create", "vnode", "a", d, &err), 0);
	assert_int_equal(vn_db_event(fx->db, "h", "vnode.destroy", "vnode", "a", NULL, &err), 0);
	json_object_put(d);
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM events"), 2);
	assert_int_equal(vn_db_query_json(fx->db,
		"SELECT type, json_extract(detail, '$.mem') AS mem, ts FROM events ORDER BY id",
		NULL, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(rows, 0), "type")), "vnode.create");
	assert_int_equal(json_object_get_int(json_object_object_get(
		json_object_array_get_idx(rows, 0), "mem")), 5);
	assert_true(json_object_get_int64(json_object_object_get(
		json_object_array_get_idx(rows, 1), "ts")) >=
		json_object_get_int64(json_object_object_get(
		json_object_array_get_idx(rows, 0), "ts")));
	json_object_put(rows);
	/* append-only, enforced by the schema itself */
	assert_int_not_equal(vsql_exec(fx->db, "UPDATE events SET type = 'x'"), 0);
	assert_int_not_equal(vsql_exec(fx->db, "DELETE FROM events"), 0);
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM events"), 2);
}

static void sql_guard(void **state)
{
	static const char *const writes[] = {
		"INSERT INTO events (ts, type, object) VALUES (1, 'x', 'y')",
		"UPDATE vnodes SET mem = 1",
		"DELETE FROM components",
		"DROP TABLE vnodes",
		"CREATE TABLE t (x)",
		"ALTER TABLE vnodes ADD COLUMN z",
		"PRAGMA user_version = 5",
		"PRAGMA writable_schema = 1",
		"ATTACH DATABASE '/tmp/x.db' AS x",
		"REPLACE INTO components (name) VALUES ('a')",
		"VACUUM",
		"BEGIN",
		"WITH x AS (SELECT 1) DELETE FROM vnodes",
		"SELECT 1; DELETE FROM vnodes",
	};
	struct fx *fx = *state;
	json_object *rows;
	struct vn_err err;
	size_t i;

	assert_int_equal(vn_db_event(fx->db, "h", "t", "o", "n", NULL, &err), 0);
	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		int ret = vn_sql_readonly(fx->path, writes[i], NULL, &rows, &err);

		if (ret == 0)
			fail_msg("write allowed: %s", writes[i]);
		assert_true(ret == -EPERM || ret == -EINVAL);
		assert_true(strstr(err.msg, "read-only") ||
			    strstr(err.msg, "one SQL statement"));
	}
	assert_int_equal(one_int(fx->db, "SELECT count(*) FROM events"), 1);
	assert_int_equal(vn_db_version(fx->db), VN_DB_VERSION);

	/* reads work, including joins, CTEs and functions */
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH e AS (SELECT * FROM events) SELECT upper(type) AS t, count(*) AS n FROM e",
		NULL,
		&rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(rows, 0), "t")), "T");
	json_object_put(rows);
	assert_int_equal(vn_sql_readonly(fx->path, "SELECT 1;  ", NULL, &rows, &err), 0);
	json_object_put(rows);

	/* errors are clear */
	assert_int_equal(vn_sql_readonly(fx->path, "SELEC 1", NULL, &rows, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "SQL error"));
	assert_int_equal(vn_sql_readonly(fx->path, "", NULL, &rows, &err), -EINVAL);
	assert_int_equal(vn_sql_readonly(fx->path, "SELECT * FROM nope", NULL, &rows, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no such table"));
}

/* `vnodectl sql` limits: time, rows, JSON size, memory; normal queries pass */
static void sql_limits(void **state)
{
	struct fx *fx = *state;
	struct vn_sql_limits lim;
	struct vn_err err = { "" };
	json_object *rows = NULL;
	int64_t t0, dt;

	vn_sql_limits_default(&lim);
	assert_int_equal(lim.time_ms, 2000);
	assert_int_equal(lim.max_rows, 10000);

	/* an endless recursive CTE that yields one row: the time limit */
	lim.time_ms = 300;
	t0 = vn_mono_ms();
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
		"SELECT max(x) FROM c", &lim, &rows, &err), -ETIMEDOUT);
	dt = vn_mono_ms() - t0;
	assert_true(dt >= 300 && dt < 1300);
	assert_string_equal(err.msg, "sql: interrupted after 300 ms (time limit)");

	/* the same CTE returning its rows: the row limit, at once */
	vn_sql_limits_default(&lim);
	t0 = vn_mono_ms();
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
		"SELECT x FROM c", &lim, &rows, &err), -E2BIG);
	assert_true(vn_mono_ms() - t0 < 1000);
	assert_non_null(strstr(err.msg, "sql: stopped at the row limit 10000"));
	lim.max_rows = 5;
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 6) "
		"SELECT x FROM c", &lim, &rows, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "row limit 5"));
	/* exactly at the cap is fine */
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 5) "
		"SELECT x FROM c", &lim, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 5);
	json_object_put(rows);

	/* the JSON result size, and a single huge string */
	vn_sql_limits_default(&lim);
	lim.max_json = 1000;
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 500) "
		"SELECT x, 'some text' AS t FROM c", &lim, &rows, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "larger than the limit of 1000 bytes"));
	assert_int_not_equal(vn_sql_readonly(fx->path, "SELECT hex(zeroblob(100000)) AS h",
					     &lim, &rows, &err), 0);
	assert_non_null(strstr(err.msg, "too big"));

	/* memory: DISTINCT over big rows, held by SQLite, never sent */
	vn_sql_limits_default(&lim);
	lim.max_mem = 256 << 10;
	lim.time_ms = 5000;
	assert_int_equal(vn_sql_readonly(fx->path,
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 200000) "
		"SELECT count(DISTINCT b) AS n FROM (SELECT randomblob(1000) AS b FROM c)",
		&lim, &rows, &err), -ENOMEM);
	assert_non_null(strstr(err.msg, "sql: interrupted at the memory limit of 256 KiB"));

	/* and a normal query works, with the limits in place */
	vn_sql_limits_default(&lim);
	assert_int_equal(vn_sql_readonly(fx->path,
		"SELECT count(*) AS n FROM events", &lim, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object_put(rows);
}

/* who may run `sql`: root, members of the socket's group */
static void sql_perm(void **state)
{
	gid_t sup[] = { 27, 100, 999 };
	struct vn_caller root = { .uid = 0, .gid = 0 };
	struct vn_caller member = { .uid = 1000, .gid = 1000, .in_group = true };
	struct vn_caller other = { .uid = 1000, .gid = 1000 };
	struct vn_err err = { "" };

	(void)state;
	assert_true(vn_gid_member(999, 999, NULL, 0));
	assert_true(vn_gid_member(999, 1000, sup, 3));
	assert_false(vn_gid_member(999, 1000, sup, 2));
	assert_false(vn_gid_member(5, 1000, sup, 3));
	assert_int_equal(vn_may_read(&root, "vnode", "sql", &err), 0);
	assert_int_equal(vn_may_read(&member, "vnode", "sql", &err), 0);
	assert_int_equal(vn_may_read(&other, "ops", "sql", &err), -EPERM);
	assert_string_equal(err.msg,
		"permission denied: sql is for root and the group 'ops' only (uid 1000 is not a member)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(schema, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v7, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v8, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v9, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v10, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v11, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v12, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v13, setup, teardown),
		cmocka_unit_test_setup_teardown(explore_record, setup, teardown),
		cmocka_unit_test_setup_teardown(refuse_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(events, setup, teardown),
		cmocka_unit_test_setup_teardown(sql_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(sql_limits, setup, teardown),
		cmocka_unit_test(sql_perm),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
