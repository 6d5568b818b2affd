// SPDX-License-Identifier: GPL-2.0
/*
 * One PostgreSQL state database for a cluster of process hosts ([cluster]
 * database): two daemon contexts with different kernel identities on one
 * database of a throwaway server (pg_server.h), each with the fake kernel
 * (one sysroot: the fake probe's answers are process-wide).  Each sees
 * only its own vNodes; placement counts both hosts' reservations; names
 * are the cluster's; `vnodectl sql` sees everything through the read-only
 * role and writes nothing; two placements at once leave one; a lost
 * connection comes back.  Volumes, fabric links and explore runs go
 * through PostgreSQL's SQL too, each host's its own (a volume's name the
 * cluster's, an exploration's id the host's); a link whose component
 * another host deleted goes at the next reconcile; a database of schema
 * 13 is migrated.  A monitor of every host's events sees the others'.
 */
#include "unit_req.h"
#include "db.h"
#include "placement.h"

#include "pg_server.h"

#define M (1ULL << 20)
#define CG "sys/fs/cgroup/vnode/"
#define CFS "sys/kernel/config/vnode/"
#define STOR "sys/kernel/config/vnode_stor/volumes/"
#define VOL "sys/kernel/config/vnode_vol/"
#define FAB "sys/kernel/config/vnode_xprt/fabric/"

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

/* how many rows ctx's list request cmd has (want: one, of that name) */
static size_t nr_of(struct vn_ctx *ctx, const char *cmd, const char *want)
{
	json_object *rows;
	char line[96];
	size_t n;

	snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", cmd);
	rows = unit_ok(ctx, line);
	n = json_object_array_length(rows);
	if (want) {
		assert_int_equal(n, 1);
		assert_string_equal(vn_jstr(json_object_array_get_idx(rows, 0), "name"), want);
	}
	json_object_put(rows);
	return n;
}

static size_t nr_listed(struct vn_ctx *ctx, const char *want)
{
	return nr_of(ctx, "vnode.list", want);
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
	assert_non_null(strstr(err.msg, "another process host changed the same state at once: "
			       "run the command again"));
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

/* a storage host both process hosts reach (its agent in-process, fake
 * kernel), and the volume configfs of both */
static void add_storage(struct fx *fx)
{
	struct vn_conf_comp c = { .name = "s1", .kind = VN_COMP_STORAGE, .addr = "10.0.0.9",
				  .port = 7471 };
	struct vn_err err;

	write_at(fx->root, STOR ".keep", "");
	write_at(fx->root, VOL ".keep", "");
	write_at(fx->root, "agent/10.0.0.9", "");
	assert_int_equal(vn_component_add(&fx->a, &c, "test", false, NULL, &err), 0);
	fx->a.detach_timeout_ms = 200;
	fx->b.detach_timeout_ms = 200;
}

/* fx's `vnodectl sql` q answers want: its rows in one line, "a,b;c,d"
 * (NULL as "-") */
static void sql_is(struct fx *fx, const char *q, const char *want)
{
	json_object *rows;
	struct vn_err err;
	char got[512] = "";
	size_t i, l;

	if (sql(fx, q, NULL, &rows, &err))
		fail_msg("%s: %s", q, err.msg);
	for (i = 0; i < json_object_array_length(rows); i++) {
		const char *sep = i ? ";" : "";

		json_object_object_foreach(json_object_array_get_idx(rows, i), k, v) {
			(void)k;
			l = strlen(got);
			snprintf(got + l, sizeof(got) - l, "%s%s", sep,
				 v ? json_object_get_string(v) : "-");
			sep = ",";
		}
	}
	json_object_put(rows);
	assert_string_equal(got, want);
}

/* ctx's request line (as root) is refused with errno code, saying msg */
static void refused(struct vn_ctx *ctx, const char *line, int code, const char *msg)
{
	unit_expect_err(ctx, line, 0, code, msg);
}

/* ctx's request line must succeed (its data dropped) */
static void req_ok(struct vn_ctx *ctx, const char *line)
{
	json_object_put(unit_ok(ctx, line));
}

#define VCREATE(name, more) "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"" name "\"," \
	"\"mem\":67108864,\"cache\":67108864," more "}}"
#define VDESTROY(name) "{\"cmd\":\"vnode.destroy\",\"args\":{\"name\":\"" name "\"}}"
#define VOLREQ(cmd, name) "{\"cmd\":\"volume." cmd "\",\"args\":{\"name\":\"" name "\"," \
	"\"size\":67108864}}"

/*
 * Volumes on PostgreSQL: each host lists, shows, attaches, detaches and
 * deletes its own; a name is the cluster's; reconcile re-attaches a lost
 * disk and finishes a pending delete, each host only its own.
 */
static void volumes(void **state)
{
	struct fx *fx = *state;
	json_object *d;

	two(fx);
	add_storage(fx);
	d = unit_ok(&fx->a, VOLREQ("create", "va"));
	assert_string_equal(vn_jstr(d, "state"), "detached");
	assert_int_equal(vn_jint(d, "keep"), 1);
	json_object_put(d);
	assert_int_equal(nr_of(&fx->a, "volume.list", "va"), 1);
	assert_int_equal(nr_of(&fx->b, "volume.list", NULL), 0);
	/* pa's, whatever pb asks */
	refused(&fx->b, VOLREQ("show", "va"), EEXIST, "volume 'va' belongs to process host 'pa'");
	refused(&fx->b, VOLREQ("create", "va"), EEXIST, "volume 'va' belongs to process host 'pa'");
	refused(&fx->b, VOLREQ("delete", "va"), EEXIST, "volume 'va' belongs to process host 'pa'");
	refused(&fx->b, VCREATE("b0", "\"volume\":\"va\""), EEXIST,
		"volume 'va' belongs to process host 'pa'");
	refused(&fx->b, VCREATE("va", "\"storage\":67108864"), EEXIST,
		"volume 'va' belongs to process host 'pa'");
	assert_int_equal(nr_listed(&fx->b, NULL), 0);
	assert_false(exists_at(fx->root, STOR "b0"));

	/* attached: pa's vNode a1 with va, pb's b1 with a new one */
	req_ok(&fx->a, VCREATE("a1", "\"volume\":\"va\""));
	req_ok(&fx->b, VCREATE("b1", "\"storage\":67108864,\"storage_protect\":\"integrity\""));
	d = unit_ok(&fx->a, "{\"cmd\":\"vnode.show\",\"args\":{\"name\":\"a1\"}}");
	assert_string_equal(vn_jstr(json_object_object_get(d, "volume"), "name"), "va");
	json_object_put(d);
	d = unit_ok(&fx->b, "{\"cmd\":\"volume.show\",\"args\":{\"name\":\"b1\"}}");
	assert_string_equal(vn_jstr(d, "vnode"), "b1");
	assert_string_equal(vn_jstr(d, "state"), "attached");
	assert_string_equal(vn_jstr(d, "protect"), "integrity");
	assert_int_equal(vn_jint(d, "keep"), 0);
	json_object_put(d);
	assert_int_equal(nr_of(&fx->a, "volume.list", "va"), 1);
	assert_int_equal(nr_of(&fx->b, "volume.list", "b1"), 1);
	sql_is(fx, "SELECT v.name, v.host, v.state, n.name AS vnode, v.keep FROM volumes v "
	       "LEFT JOIN vnodes n ON n.id = v.vnode_id ORDER BY v.name",
	       "b1,pb,attached,b1,0;va,pa,attached,a1,1");

	/* reconcile: pb's disk and mapping gone (a reboot) and its id not
	 * recorded: pb puts them back, pa leaves them */
	rm_rf(path_at(fx->root, VOL "b1"));
	assert_int_equal(unlink(path_at(fx->root, "dev/mapper/vnode-b1-b1")), 0);
	assert_int_equal(vsql_exec(fx->b.db, "UPDATE volumes SET volume_id = NULL "
				   "WHERE name = 'b1'"), 0);
	assert_int_equal(vn_reconcile(&fx->a, true), 0);
	assert_false(exists_at(fx->root, VOL "b1"));
	assert_int_equal(vn_reconcile(&fx->b, true), 0);
	assert_true(exists_at(fx->root, VOL "b1/dev"));
	assert_true(exists_at(fx->root, "dev/mapper/vnode-b1-b1"));
	sql_is(fx, "SELECT name, length(volume_id) AS n, dev FROM volumes ORDER BY name",
	       "b1,16,mapper/vnode-b1-b1;va,16,vnblk0");
	sql_is(fx, "SELECT host, name FROM events WHERE type = 'volume.reconcile'", "pb,b1");

	/* detached: va stays pa's (brought with --volume); b1 goes with b1 */
	req_ok(&fx->a, VDESTROY("a1"));
	req_ok(&fx->b, VDESTROY("b1"));
	assert_false(exists_at(fx->root, STOR "b1"));
	sql_is(fx, "SELECT name, host, state, vnode_id, keep, dev FROM volumes",
	       "va,pa,detached,-,1,-");
	req_ok(&fx->a, VOLREQ("delete", "va"));
	assert_false(exists_at(fx->root, STOR "va"));
	assert_int_equal(nr_of(&fx->a, "volume.list", NULL), 0);

	/* a delete the storage host missed: pending, pb's reconcile does it */
	req_ok(&fx->b, VCREATE("b2", "\"storage\":67108864"));
	assert_int_equal(unlink(path_at(fx->root, "agent/10.0.0.9")), 0);
	req_ok(&fx->b, VDESTROY("b2"));
	sql_is(fx, "SELECT name, host, state, last_error LIKE '%cannot reach%' AS e FROM volumes",
	       "b2,pb,deleting,1");
	assert_int_equal(vn_reconcile(&fx->b, true), 1);
	write_at(fx->root, "agent/10.0.0.9", "");
	assert_int_equal(vn_reconcile(&fx->a, true), 0);
	assert_true(exists_at(fx->root, STOR "b2"));
	assert_int_equal(vn_reconcile(&fx->b, true), 0);
	assert_false(exists_at(fx->root, STOR "b2"));
	sql_is(fx, "SELECT count(*) AS n FROM volumes", "0");
	sql_is(fx, "SELECT host, type, count(*) AS n FROM events WHERE object = 'volume' "
	       "GROUP BY host, type ORDER BY host, type",
	       "pa,volume.attach,1;pa,volume.create,1;pa,volume.delete,1;pa,volume.detach,1;"
	       "pb,volume.attach,2;pb,volume.create,2;pb,volume.delete,2;pb,volume.detach,2;"
	       "pb,volume.reconcile,1");
}

#define SET(name, args) "{\"cmd\":\"component.set\",\"args\":{\"name\":\"" name "\"," args "}}"

/* the fabric of each component in ctx's component list: "m1 custom,m2 -" */
static void fabrics_are(struct vn_ctx *ctx, const char *want)
{
	json_object *d = unit_ok(ctx, "{\"cmd\":\"component.list\"}"), *c;
	char got[256] = "";
	size_t i, l;

	for (i = 0; i < json_object_array_length(d); i++) {
		c = json_object_array_get_idx(d, i);
		l = strlen(got);
		snprintf(got + l, sizeof(got) - l, "%s%s %s", i ? "," : "", vn_jstr(c, "name"),
			 vn_jstr(c, "fabric") ? vn_jstr(c, "fabric") : "-");
	}
	json_object_put(d);
	assert_string_equal(got, want);
}

static uint64_t link_attr(struct fx *fx, const char *link, const char *a)
{
	char rel[128], buf[64];

	snprintf(rel, sizeof(rel), FAB "%s/%s", link, a);
	assert_int_equal(read_at(fx->root, rel, buf, sizeof(buf)), 0);
	return strtoull(buf, NULL, 10);
}

/*
 * Fabric links on PostgreSQL: a host's own, one per (host, addr); set,
 * changed, listed, reconciled and cleared by the host whose row it is.
 * (One sysroot: both hosts' links are the same directory here, so a host
 * that sets another's link changes it for both, as no real cluster does.)
 */
static void fabric_links(void **state)
{
	struct fx *fx = *state;
	json_object *d, *f;

	two(fx);
	write_at(fx->root, FAB ".keep", "");
	add_host(fx, "m1", "10.0.0.2", "256M 0 20 412us");
	add_host(fx, "m2", "10.0.0.3", "256M 0 20 2.5us");
	/* pa: raw settings to m1; pb: a preset to m2, then changed */
	req_ok(&fx->a, SET("m1", "\"delay_ns\":20000,\"bw_bps\":3000000000"));
	d = unit_ok(&fx->b, SET("m2", "\"fabric\":\"cross-rack\""));
	f = json_object_object_get(d, "fabric_link");
	assert_string_equal(vn_jstr(f, "reach"), "reached");
	assert_string_equal(vn_jstr(f, "floor_src"), "probe");
	assert_int_equal(vn_jint(f, "floor_ns"), 2500);
	json_object_put(d);
	req_ok(&fx->b, SET("m2", "\"write_bps\":1000000000"));
	assert_int_equal(link_attr(fx, "10.0.0.2", "delay_us"), 20);
	assert_int_equal(link_attr(fx, "10.0.0.3", "delay_us"), 8);
	assert_int_equal(link_attr(fx, "10.0.0.3", "write_mbps"), 1000);
	fabrics_are(&fx->a, "m1 custom,m2 -");
	fabrics_are(&fx->b, "m1 -,m2 cross-rack");
	d = unit_ok(&fx->b, "{\"cmd\":\"component.show\",\"args\":{\"name\":\"m2\"}}");
	assert_int_equal(vn_jint(json_object_object_get(d, "fabric_link"), "write_bps"), 1000000000);
	json_object_put(d);

	/* pa's own link to m2: a second row for the address */
	req_ok(&fx->a, SET("m2", "\"fabric\":\"legoos\""));
	fabrics_are(&fx->a, "m1 custom,m2 legoos");
	fabrics_are(&fx->b, "m1 -,m2 cross-rack");
	sql_is(fx, "SELECT host, addr, preset, target_ns, delay_ns, read_bps, write_bps, floor_ns, "
	       "floor_src, link_delay_us FROM fabric_links ORDER BY host, addr",
	       "pa,10.0.0.2,-,-,20000,3000000000,3000000000,-,-,20;"
	       "pa,10.0.0.3,legoos,5000,0,5000000000,5000000000,2500,probe,3;"
	       "pb,10.0.0.3,cross-rack,10000,0,3125000000,1000000000,2500,probe,8");
	/* reconcile: each host puts back its own row's link */
	assert_int_equal(vn_reconcile(&fx->a, false), 0);
	assert_int_equal(link_attr(fx, "10.0.0.3", "delay_us"), 3);
	assert_int_equal(vn_reconcile(&fx->b, false), 0);
	assert_int_equal(link_attr(fx, "10.0.0.3", "delay_us"), 8);

	/* clear: pa's rows go, pb's stays (and its reconcile makes it again) */
	req_ok(&fx->a, SET("m1", "\"clear\":true"));
	req_ok(&fx->a, SET("m2", "\"clear\":true"));
	assert_false(exists_at(fx->root, FAB "10.0.0.2"));
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	fabrics_are(&fx->a, "m1 -,m2 -");
	fabrics_are(&fx->b, "m1 -,m2 cross-rack");
	assert_int_equal(vn_reconcile(&fx->a, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(vn_reconcile(&fx->b, false), 0);
	assert_int_equal(link_attr(fx, "10.0.0.3", "delay_us"), 8);
	sql_is(fx, "SELECT host, addr, preset FROM fabric_links", "pb,10.0.0.3,cross-rack");
	sql_is(fx, "SELECT host, type, name FROM events WHERE object = 'fabric' ORDER BY id",
	       "pa,fabric.set,10.0.0.2;pb,fabric.set,10.0.0.3;pb,fabric.set,10.0.0.3;"
	       "pa,fabric.set,10.0.0.3;pb,fabric.reconcile,10.0.0.3;pa,fabric.clear,10.0.0.2;"
	       "pa,fabric.clear,10.0.0.3;pb,fabric.reconcile,10.0.0.3");
}

/*
 * A component pa deletes while pa and pb both have a link to it: pa's
 * delete clears pa's; pb's reconcile finds its own row's host without a
 * component and removes link and row (pb's other link stays), saying why.
 */
static void fabric_orphans(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;

	two(fx);
	write_at(fx->root, FAB ".keep", "");
	add_host(fx, "m1", "10.0.0.2", "256M 0 20 412us");
	add_host(fx, "m2", "10.0.0.3", "256M 0 20 2.5us");
	req_ok(&fx->a, SET("m2", "\"delay_ns\":20000"));
	req_ok(&fx->b, SET("m2", "\"fabric\":\"cross-rack\""));
	req_ok(&fx->b, SET("m1", "\"delay_ns\":5000"));
	assert_int_equal(vn_component_remove(&fx->a, "m2", &err), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	sql_is(fx, "SELECT host, addr FROM fabric_links ORDER BY addr", "pb,10.0.0.2;pb,10.0.0.3");
	/* pb's kernel still has its link (one sysroot here: made again) */
	write_at(fx->root, FAB "10.0.0.3/addr", "10.0.0.3");
	assert_int_equal(vn_reconcile(&fx->a, false), 0);
	assert_true(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(vn_reconcile(&fx->b, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(link_attr(fx, "10.0.0.2", "delay_us"), 5);
	sql_is(fx, "SELECT host, addr FROM fabric_links", "pb,10.0.0.2");
	assert_int_equal(vn_reconcile(&fx->b, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	sql_is(fx, "SELECT host, name, detail::json->>'preset' AS p, detail::json->>'reason' AS r "
	       "FROM events WHERE type = 'fabric.clear' ORDER BY id",
	       "pa,10.0.0.3,-,component m2 deleted;"
	       "pb,10.0.0.3,cross-rack,no component at this host any more");
}

#define EXPLORE(id, rows) "{\"cmd\":\"explore.record\",\"args\":{\"id\":\"" id "\"," \
	"\"started\":1700000000000,\"command\":\"fio job.fio\",\"mem\":1073741824," \
	"\"storage\":null,\"budget\":1.25,\"metric_regex\":null,\"rows\":[" rows "]}}"
#define EXROW(seq, more) "{\"seq\":" #seq ",\"cache\":\"25%\",\"cache_bytes\":268435456," \
	"\"storage_protect\":null,\"metric\":null," more "}"
#define EX_OK(seq) EXROW(seq, "\"protect\":\"none\",\"replicas\":1,\"ok\":true,\"exit\":0," \
	"\"seconds\":10.5,\"slowdown\":1,\"rank\":0,\"recommended\":true")
#define EX_FAILED(seq) EXROW(seq, "\"protect\":\"aead\",\"replicas\":null,\"ok\":false," \
	"\"exit\":137,\"seconds\":null,\"slowdown\":null,\"rank\":2,\"recommended\":false")

/*
 * explore.record on PostgreSQL: the rows as vnodectl explore sends them,
 * each host's under its name; a row the table refuses (a bad word, a seq
 * twice, a value of the wrong type) is EINVAL and nothing of it is kept.
 */
static void explore_runs(void **state)
{
	struct fx *fx = *state;

	two(fx);
	req_ok(&fx->a, EXPLORE("x1", EX_OK(1) "," EX_FAILED(2)));
	req_ok(&fx->b, EXPLORE("y1", EX_OK(1)));
	sql_is(fx, "SELECT explore_id, host, owner_uid, seq, protect, replicas, storage, budget, "
	       "seconds, metric, slowdown, rank, recommended, ok, exit FROM explore_runs ORDER BY id",
	       "x1,pa,0,1,none,1,-,1.25,10.5,-,1.0,0,1,1,0;"
	       "x1,pa,0,2,aead,-,-,1.25,-,-,-,2,0,0,137;"
	       "y1,pb,0,1,none,1,-,1.25,10.5,-,1.0,0,1,1,0");
	refused(&fx->a, EXPLORE("x2", EX_OK(1) "," EX_OK(1)), EINVAL,
		"explore.record: constraint failed");
	refused(&fx->b, EXPLORE("x2", EX_OK(1) "," EXROW(2, "\"protect\":\"rot13\",\"ok\":true,"
							 "\"exit\":0,\"rank\":0,\"recommended\":false")),
		EINVAL, "explore.record: constraint failed");
	refused(&fx->b, EXPLORE("x2", EXROW(1, "\"protect\":\"crc\",\"ok\":false,\"exit\":1,"
					    "\"rank\":1,\"recommended\":true")),
		EINVAL, "explore.record: constraint failed");
	refused(&fx->a, EXPLORE("x2", EX_OK(1) "," EXROW("two", "\"protect\":\"crc\",\"ok\":true,"
							 "\"exit\":0,\"rank\":1,\"recommended\":false")),
		EINVAL, "explore.record: row 2: 'seq' must be an integer");
	sql_is(fx, "SELECT count(*) AS n FROM explore_runs", "3");

	/* an id is unique per host (schema 14): pb records pa's x1 too, each
	 * host's rows under its name; x1 twice on one host is refused */
	req_ok(&fx->b, EXPLORE("x1", EX_OK(1)));
	refused(&fx->b, EXPLORE("x1", EX_OK(1)), EINVAL, "explore.record: constraint failed");
	sql_is(fx, "SELECT host, seq FROM explore_runs WHERE explore_id = 'x1' ORDER BY host, seq",
	       "pa,1;pa,2;pb,1");
	sql_is(fx, "SELECT conname FROM pg_constraint WHERE conrelid = 'explore_runs'::regclass "
	       "AND contype = 'u'", "explore_runs_host_explore_id_seq_key");
}

/* A cluster database of schema 13 holding explore runs: the vnoded that
 * opens it migrates it to 14 (the constraint swapped), the rows kept. */
/* the next event on fd is of type, from host */
static void event_is(int fd, const char *type, const char *host)
{
	json_object *ev = unit_watch_next(fd);

	assert_non_null(ev);
	assert_string_equal(vn_jstr(ev, "type"), type);
	assert_string_equal(vn_jstr(ev, "host"), host);
	json_object_put(ev);
}

/*
 * vnodectl monitor --all-hosts: pa's monitor of every host's events gets
 * pb's (written by pb's daemon, never through pa's) with pb's name, from
 * pa's own reads of the table (every tick while it watches); pa's default
 * monitor does not.  An id whose transaction commits after a higher one's
 * still comes.
 */
static void monitor_all(void **state)
{
	struct fx *fx = *state;
	struct vsql *late;
	char msg[256];
	int all, one;

	two(fx);
	all = unit_watch(&fx->a, "{\"cmd\":\"events.watch\",\"args\":{\"all_hosts\":true}}",
			 NULL);
	one = unit_watch(&fx->a, "{\"cmd\":\"events.watch\"}", NULL);
	assert_int_equal(vn_watch_timeout(&fx->a, 60000), VN_WATCH_TICK_MS);
	assert_int_equal(vn_watch_timeout(&fx->b, 60000), 60000);
	assert_int_equal(vn_event(&fx->b, "test.b", "vnode", "vb", NULL, NULL), 0);
	vn_watch_flush(&fx->a);
	event_is(all, "test.b", "pb");
	assert_null(unit_watch_next(one));

	/* a transaction that took its id first commits last */
	if (vsql_open(fx->rw, false, &late, msg, sizeof(msg)))
		fail_msg("%s", msg);
	exec_ok(late, "BEGIN");
	exec_ok(late, "INSERT INTO events (ts, type, object, host) VALUES (0, 'test.late', 'vnode', 'pc')");
	assert_int_equal(vn_event(&fx->b, "test.b2", "vnode", "vb", NULL, NULL), 0);
	vn_watch_flush(&fx->a);
	event_is(all, "test.b2", "pb");
	exec_ok(late, "COMMIT");
	vsql_close(late);
	vn_watch_flush(&fx->a);
	event_is(all, "test.late", "pc");
	vn_watch_flush(&fx->a);
	assert_null(unit_watch_next(all));
	assert_null(unit_watch_next(one));
	close(all);
	close(one);
}

static void migrate_v13(void **state)
{
	struct vsql *db = admin("postgres");
	struct vn_err err;
	char ci[256];

	(void)state;
	exec_ok(db, "CREATE DATABASE cluster_v13");
	vsql_close(db);
	db = admin("cluster_v13");
	assert_int_equal(vn_db_migrate(db, 13, &err), 0);
	exec_ok(db, "INSERT INTO explore_runs (explore_id, started, owner_uid, command, seq, mem, "
		    "cache, cache_bytes, protect, budget, rank, recommended, ok, exit, host) "
		    "VALUES ('x1', 1, 0, 'true', 1, 1024, '25%', 256, 'crc', 1.2, 0, 0, 1, 0, 'pa')");
	vsql_close(db);
	pg_conninfo(ci, sizeof(ci), "cluster_v13", NULL);
	assert_int_equal(vn_db_open(ci, "pb", &db, &err), 0);
	assert_int_equal(vn_db_version(db), 14);
	assert_int_equal(db_int(db, "SELECT count(*) FROM explore_runs WHERE host = 'pa' AND "
				"explore_id = 'x1' AND protect = 'crc'"), 1);
	exec_ok(db, "INSERT INTO explore_runs (explore_id, started, owner_uid, command, seq, mem, "
		    "cache, cache_bytes, protect, budget, rank, recommended, ok, exit, host) "
		    "SELECT explore_id, started, owner_uid, command, seq, mem, cache, cache_bytes, "
		    "protect, budget, rank, recommended, ok, exit, 'pb' FROM explore_runs");
	assert_int_equal(vsql_exec(db, "INSERT INTO explore_runs (explore_id, started, owner_uid, "
				   "command, seq, mem, cache, cache_bytes, protect, budget, rank, "
				   "recommended, ok, exit, host) SELECT explore_id, started, owner_uid, "
				   "command, seq, mem, cache, cache_bytes, protect, budget, rank, "
				   "recommended, ok, exit, host FROM explore_runs WHERE host = 'pa'"),
			 -EEXIST);
	vsql_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(two_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(ro_role, setup, teardown),
		cmocka_unit_test_setup_teardown(race, setup, teardown),
		cmocka_unit_test_setup_teardown(lost, setup, teardown),
		cmocka_unit_test_setup_teardown(volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(fabric_links, setup, teardown),
		cmocka_unit_test_setup_teardown(fabric_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(explore_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(monitor_all, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_v13, setup, teardown),
	};

	return cmocka_run_group_tests_name("cluster", tests, pg_group_setup, pg_group_teardown);
}
