// SPDX-License-Identifier: GPL-2.0
/*
 * One PostgreSQL state database for a cluster of process hosts ([cluster]
 * database): two daemon contexts with different kernel identities on one
 * database of a throwaway server (pg_server.h), each with the fake kernel
 * (one sysroot: the fake probe's answers are process-wide).  Each sees
 * only its own vNodes; placement counts both hosts' reservations; names
 * are the cluster's; `vnodectl sql` sees everything through the read-only
 * role and writes nothing; two placements at once leave one; a lost
 * connection comes back.
 */
#include "unit_req.h"
#include "db.h"
#include "placement.h"

#include "pg_server.h"

#define M (1ULL << 20)
#define CG "sys/fs/cgroup/vnode/"
#define CFS "sys/kernel/config/vnode/"

struct fx {
	char dir[256];
	char root[300];
	char rw[256], ro[256];	/* conninfo: the owner, the read-only role */
	struct vn_ctx a, b;	/* process hosts pa and pb */
	bool b_up;
	struct vn_caller root_user;
};

static struct vsql *admin(const char *dbname)
{
	char ci[256], msg[256];
	struct vsql *db;

	if (!pg.up)
		fail_msg("no PostgreSQL server: %s", pg.err);
	pg_conninfo(ci, sizeof(ci), dbname, NULL);
	if (vsql_open(ci, false, &db, msg, sizeof(msg)))
		fail_msg("%s: %s", ci, msg);
	return db;
}

static void exec_ok(struct vsql *db, const char *sql)
{
	if (vsql_exec(db, sql))
		fail_msg("%s: %s", sql, vsql_errmsg(db));
}

static void ctx_as(struct fx *fx, struct vn_ctx *ctx, const char *host)
{
	struct vn_cluster cl = { .replicas = 1, .disk = "vnmem", .probe_timeout_ms = 100 };
	struct vn_err err;

	snprintf(cl.database, sizeof(cl.database), "%s", fx->rw);
	snprintf(cl.database_ro, sizeof(cl.database_ro), "%s", fx->ro);
	write_at(fx->root, "sys/kernel/config/vnode_xprt/identity", host);
	if (vn_ctx_init(ctx, fx->rw, fx->root, &cl, &err))
		fail_msg("ctx %s: %s", host, err.msg);
	assert_string_equal(ctx->host, host);
	ctx->kill_timeout_ms = 500;
}

static int setup(void **state)
{
	static int nr;
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vsql *db;
	char sql[256], name[32];

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	write_at(fx->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	write_at(fx->root, CFS "mem/.keep", "");
	write_at(fx->root, CFS "vnodes/.keep", "");
	write_at(fx->root, "proc/.keep", "");
	/* a database of its own for each test */
	snprintf(name, sizeof(name), "cluster%d", ++nr);
	db = admin("postgres");
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	exec_ok(db, sql);
	/* the role vnodectl sql connects as (docs/userspace.md), once */
	vsql_exec(db, "CREATE ROLE vnode_ro LOGIN");
	vsql_close(db);
	pg_conninfo(fx->rw, sizeof(fx->rw), name, NULL);
	pg_conninfo(fx->ro, sizeof(fx->ro), name, "vnode_ro");
	ctx_as(fx, &fx->a, "pa");
	db = admin(name);
	exec_ok(db, "GRANT USAGE ON SCHEMA public TO vnode_ro;"
		    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO vnode_ro");
	vsql_close(db);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vn_ctx_fini(&fx->a);
	if (fx->b_up)
		vn_ctx_fini(&fx->b);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void two(struct fx *fx)
{
	ctx_as(fx, &fx->b, "pb");
	fx->b_up = true;
}

/* a memory host both process hosts reach: before protocol 1.4, so the
 * database's reservations are all placement has */
static void add_host(struct fx *fx, const char *name, const char *addr, const char *answer)
{
	struct vn_conf_comp c = { .kind = VN_COMP_MEMORY, .port = 7470 };
	struct vn_err err;
	char rel[64];

	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.addr, sizeof(c.addr), "%s", addr);
	snprintf(rel, sizeof(rel), "probe/%s:7470", addr);
	write_at(fx->root, rel, answer);
	assert_int_equal(vn_component_add(&fx->a, &c, "test", false, NULL, &err), 0);
}

static int create(struct fx *fx, struct vn_ctx *ctx, const char *name, uint64_t mem,
		  uint64_t cache, struct vn_err *err)
{
	struct vn_vnode_req r = { .mem = mem, .cache = cache };

	snprintf(r.name, sizeof(r.name), "%s", name);
	return vn_vnode_create(ctx, &r, &fx->root_user, NULL, err);
}

static size_t nr_listed(struct vn_ctx *ctx, const char *want)
{
	json_object *rows;
	struct vn_err err;
	size_t n;

	assert_int_equal(vn_vnode_list(ctx, &rows, &err), 0);
	n = json_object_array_length(rows);
	if (want) {
		assert_int_equal(n, 1);
		assert_string_equal(vn_jstr(json_object_array_get_idx(rows, 0), "name"), want);
	}
	json_object_put(rows);
	return n;
}

/* `vnodectl sql` of fx's cluster: 0 and the rows, or the error */
static int sql(struct fx *fx, const char *q, const struct vn_sql_limits *lim,
	       json_object **rows, struct vn_err *err)
{
	*rows = NULL;
	return vn_sql_readonly(fx->ro, q, lim, rows, err);
}

static void two_hosts(void **state)
{
	struct fx *fx = *state;
	struct vn_sql_limits lim;
	struct vn_err err;
	json_object *rows, *d;

	two(fx);
	add_host(fx, "m1", "10.0.0.2", "256M 0 20 minor=3");
	assert_int_equal(create(fx, &fx->a, "va", 160 * M, 32 * M, &err), 0);
	/* each host its own */
	assert_int_equal(nr_listed(&fx->a, "va"), 1);
	assert_int_equal(nr_listed(&fx->b, NULL), 0);
	assert_int_equal(vn_get_vnode(&fx->b, "va", &rows, &err), -ENOENT);
	/* a name is the cluster's */
	assert_int_equal(create(fx, &fx->b, "va", 64 * M, 32 * M, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "already exists on process host 'pa'"));
	/* m1's 256M: 128M are pa's, 128M left for pb, then none */
	assert_int_equal(create(fx, &fx->b, "vb", 160 * M, 32 * M, &err), 0);
	assert_int_equal(nr_listed(&fx->b, "vb"), 1);
	assert_int_equal(create(fx, &fx->b, "vc", 64 * M, 32 * M, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "not enough remote memory"));
	assert_int_equal(create(fx, &fx->a, "vc", 64 * M, 32 * M, &err), -ENOSPC);

	/* the JSON query that is PostgreSQL's own */
	d = json_object_new_object();
	json_object_object_add(d, "total", json_object_new_int64(5));
	assert_int_equal(vn_event(&fx->a, "vnode.protect_fail", "vnode", "va", d, &err), 0);
	json_object_put(d);
	assert_int_equal(vn_db_vnode_event_total(&fx->a, "va", "vnode.protect_fail"), 5);

	/* vnodectl sql: the cluster's vNodes, hosts, reservations, events */
	assert_int_equal(sql(fx, "SELECT v.name, v.host, a.bytes FROM vnodes v JOIN allocations a "
			     "ON a.vnode_id = v.id ORDER BY v.name;", NULL, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 2);
	assert_string_equal(vn_jstr(json_object_array_get_idx(rows, 0), "host"), "pa");
	assert_string_equal(vn_jstr(json_object_array_get_idx(rows, 1), "host"), "pb");
	assert_int_equal(vn_jint(json_object_array_get_idx(rows, 1), "bytes"), 128 * M);
	json_object_put(rows);
	assert_int_equal(sql(fx, "SELECT host, count(*) AS n FROM events WHERE type = 'vnode.create' "
			     "GROUP BY host ORDER BY host", NULL, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 2);
	assert_int_equal(vn_jint(json_object_array_get_idx(rows, 0), "n"), 1);
	json_object_put(rows);

	/* and writes nothing */
	assert_int_equal(sql(fx, "DELETE FROM events", NULL, &rows, &err), -EPERM);
	assert_non_null(strstr(err.msg, "refused: only read-only queries (SELECT) are allowed"));
	assert_int_equal(sql(fx, "UPDATE vnodes SET mem = 1", NULL, &rows, &err), -EPERM);
	assert_int_equal(sql(fx, "WITH d AS (DELETE FROM vnodes RETURNING id) SELECT * FROM d",
			     NULL, &rows, &err), -EPERM);
	assert_int_equal(sql(fx, "SELECT 1; DELETE FROM vnodes", NULL, &rows, &err), -EINVAL);
	assert_string_equal(err.msg, "only one SQL statement at a time");
	assert_int_equal(sql(fx, "COMMIT", NULL, &rows, &err), 0);
	json_object_put(rows);
	assert_int_equal(sql(fx, "SELECT nope FROM vnodes", NULL, &rows, &err), -EINVAL);
	/* the limits, with their SQLite messages */
	vn_sql_limits_default(&lim);
	lim.max_rows = 150;
	assert_int_equal(sql(fx, "SELECT * FROM generate_series(1, 1000)", &lim, &rows, &err),
			 -E2BIG);
	assert_string_equal(err.msg, "sql: stopped at the row limit 150 (add a LIMIT)");
	assert_int_equal(sql(fx, "SELECT * FROM generate_series(1, 150) AS g", &lim, &rows, &err), 0);
	assert_int_equal(json_object_array_length(rows), 150);
	json_object_put(rows);
	lim.max_json = 1000;
	assert_int_equal(sql(fx, "SELECT repeat('x', 2000) AS x", &lim, &rows, &err), -E2BIG);
	lim.time_ms = 200;
	assert_int_equal(sql(fx, "SELECT pg_sleep(5)", &lim, &rows, &err), -ETIMEDOUT);
	assert_string_equal(err.msg, "sql: interrupted after 200 ms (time limit)");
	/* the request, on either host, as the daemon runs it */
	unit_expect_err(&fx->b, "{\"cmd\":\"sql\",\"args\":{\"query\":\"DROP TABLE events\"}}",
			0, EPERM, "refused");
	assert_int_equal(vsql_exec(fx->a.db, "SELECT count(*) FROM events"), 0);

	/* one host's destroy is its own */
	assert_int_equal(vn_vnode_destroy(&fx->a, "va", false, false, &fx->root_user, &err), 0);
	assert_int_equal(nr_listed(&fx->b, "vb"), 1);
	assert_int_equal(vn_vnode_destroy(&fx->a, "vb", false, false, &fx->root_user, &err),
			 -ENOENT);
	/* pa's 128M free again: pa and pb can take them */
	assert_int_equal(create(fx, &fx->b, "vc", 64 * M, 32 * M, &err), 0);
}

/* The read-only role cannot write however it asks: no READ ONLY
 * transaction, its own statements, several at once. */
static void ro_role(void **state)
{
	struct fx *fx = *state;
	struct vsql *ro;
	char msg[256];

	assert_int_equal(vsql_open(fx->ro, false, &ro, msg, sizeof(msg)), 0);
	assert_int_equal(vsql_exec(ro, "SELECT count(*) FROM vnodes"), 0);
	assert_int_equal(vsql_exec(ro, "BEGIN READ WRITE; DELETE FROM events; COMMIT"), -EIO);
	assert_non_null(strstr(vsql_errmsg(ro), "permission denied"));
	vn_db_rollback(ro);
	assert_int_not_equal(vsql_exec(ro, "INSERT INTO vnode_schema VALUES (99)"), 0);
	assert_int_not_equal(vsql_exec(ro, "CREATE TABLE mine (x INTEGER)"), 0);
	assert_int_not_equal(vsql_exec(ro, "TRUNCATE events"), 0);
	assert_int_not_equal(vsql_exec(ro, "ALTER TABLE vnodes DROP COLUMN host"), 0);
	vsql_close(ro);
	assert_int_equal(vn_db_version(fx->a.db), VN_DB_VERSION);
	/* the owner cannot rewrite the history either */
	assert_int_equal(vn_event(&fx->a, "test.one", "daemon", NULL, NULL, NULL), 0);
	assert_int_equal(vsql_exec(fx->a.db, "DELETE FROM events"), -EEXIST);
	assert_non_null(strstr(vsql_errmsg(fx->a.db), "append-only"));
	assert_int_equal(vsql_exec(fx->a.db, "UPDATE events SET host = 'x'"), -EEXIST);
	assert_int_equal(vsql_exec(fx->a.db, "TRUNCATE events"), -EEXIST);
	assert_non_null(strstr(vsql_errmsg(fx->a.db), "append-only"));
}

/* Two process hosts place on the same memory host at once, each in its
 * SERIALIZABLE transaction: one commits, the other runs again and finds
 * the room gone. */
static void race(void **state)
{
	struct fx *fx = *state;
	struct vn_vnode_req ra = { .name = "ra", .mem = 224 * M, .cache = 32 * M };
	struct vn_vnode_req rb = { .name = "rb", .mem = 224 * M, .cache = 32 * M };
	struct vn_host ha[4], hb[4];
	struct vn_disk_info di = { 0 };
	struct vn_err err;
	uint64_t avail;
	int64_t ida, idb;
	int na, nb, rc;

	two(fx);
	add_host(fx, "m1", "10.0.0.2", "256M 0 20 minor=3");
	na = vn_load_hosts(&fx->a, &di, ha, 4, &err);
	nb = vn_load_hosts(&fx->b, &di, hb, 4, &err);
	assert_int_equal(na, 1);
	assert_int_equal(nb, 1);
	assert_int_equal(vn_place(ha, na, 192 * M, 1, &avail), 0);
	assert_int_equal(vn_place(hb, nb, 192 * M, 1, &avail), 0);

	assert_int_equal(vn_db_begin(fx->a.db, &err), 0);
	assert_int_equal(vn_db_begin(fx->b.db, &err), 0);
	assert_int_equal(vn_place_check(&fx->a, ha, na, "ra", &err), 0);
	assert_int_equal(vn_place_check(&fx->b, hb, nb, "rb", &err), 0);
	assert_int_equal(vn_db_vnode_insert(&fx->a, &ra, 1, VN_PROTECT_NONE, 0, 1, &ida, &err), 0);
	assert_int_equal(vn_db_alloc_insert(&fx->a, ida, ha[0].id, ha[0].take, &err), 0);
	assert_int_equal(vn_db_vnode_insert(&fx->b, &rb, 1, VN_PROTECT_NONE, 0, 2, &idb, &err), 0);
	rc = vn_db_alloc_insert(&fx->b, idb, hb[0].id, hb[0].take, &err);
	assert_int_equal(vn_db_commit(fx->a.db, &err), 0);
	if (!rc)
		rc = vn_db_commit(fx->b.db, &err);
	assert_int_equal(rc, -EAGAIN);
	vn_db_rollback(fx->b.db);
	/* run again: the check sees pa's reservation */
	assert_int_equal(vn_db_begin(fx->b.db, &err), 0);
	assert_int_equal(vn_place_check(&fx->b, hb, nb, "rb", &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "other vNodes reserved 192M more on memory host m1"));
	vn_db_rollback(fx->b.db);
	assert_int_equal(db_int(fx->a.db, "SELECT count(*) FROM vnodes"), 1);
	assert_int_equal(db_int(fx->a.db, "SELECT sum(bytes) FROM allocations"), 192 * M);
}

/* The server ends the daemon's connection: the request that finds out
 * fails saying so, the next one reconnects; reconcile as well. */
static void lost(void **state)
{
	struct fx *fx = *state;
	struct vsql *adm = admin("postgres");
	struct vsql_st *st;
	struct vn_err err;
	int64_t pid = db_int(fx->a.db, "SELECT pg_backend_pid()");
	json_object *o;

	add_host(fx, "m1", "10.0.0.2", "256M 0 20 minor=3");
	assert_int_equal(create(fx, &fx->a, "va", 64 * M, 32 * M, &err), 0);
	assert_int_equal(vsql_prepare(adm, "SELECT pg_terminate_backend(?, 5000)", &st), 0);
	vsql_bind_int64(st, 1, pid);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	vsql_finalize(st);
	vsql_close(adm);

	unit_expect_err(&fx->a, "{\"cmd\":\"vnode.list\"}", 0, ENOTCONN,
			"): try again when it is back");
	assert_false(vsql_connected(fx->a.db));
	/* the next request reconnects */
	o = unit_req(&fx->a, "{\"cmd\":\"vnode.list\"}", 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
	assert_int_equal(nr_listed(&fx->a, "va"), 1);
	assert_true(db_int(fx->a.db, "SELECT pg_backend_pid()") != pid);
	/* the vNode was never touched */
	assert_int_equal(vn_reconcile(&fx->a, true), 0);
	assert_int_equal(nr_listed(&fx->a, "va"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(two_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(ro_role, setup, teardown),
		cmocka_unit_test_setup_teardown(race, setup, teardown),
		cmocka_unit_test_setup_teardown(lost, setup, teardown),
	};

	return cmocka_run_group_tests_name("cluster", tests, pg_group_setup, pg_group_teardown);
}
