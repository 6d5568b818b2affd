// SPDX-License-Identifier: GPL-2.0
/*
 * vnoded/vsql.c: the state database's connection, on SQLite (a temp file)
 * and on PostgreSQL (a throwaway server of our own, started once for the
 * group: initdb in a temp dir, listening only on a unix socket there,
 * stopped and removed at the end).  The same round trip runs on both, so
 * the daemon's queries can rely on one behaviour.
 */
#include "unit.h"
#include "vsql.h"

#include "pg_server.h"

static struct vsql *pg_open(bool readonly)
{
	struct vsql *db;
	char msg[256];
	int rc;

	if (!pg.up)
		fail_msg("no PostgreSQL server: %s", pg.err);
	rc = vsql_open(pg.conninfo, readonly, &db, msg, sizeof(msg));
	if (rc)
		fail_msg("vsql_open %s: %d %s", pg.conninfo, rc, msg);
	assert_int_equal(vsql_kind(db), VSQL_PG);
	assert_null(vsql_sqlite(db));
	return db;
}

/* ---- SQLite fixture ---- */

struct fx {
	char dir[256];
	char path[PATH_MAX];
	struct vsql *db;
};

static int lite_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char msg[256];

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/state.db", fx->dir);
	assert_int_equal(vsql_open(fx->path, false, &fx->db, msg, sizeof(msg)), 0);
	assert_int_equal(vsql_kind(fx->db), VSQL_SQLITE);
	assert_non_null(vsql_sqlite(fx->db));
	*state = fx;
	return 0;
}

static int lite_teardown(void **state)
{
	struct fx *fx = *state;

	vsql_close(fx->db);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* ---- the same checks on both ---- */

static void exec_ok(struct vsql *db, const char *sql)
{
	int rc = vsql_exec(db, sql);

	if (rc)
		fail_msg("%s: %d %s", sql, rc, vsql_errmsg(db));
}

static struct vsql_st *prep(struct vsql *db, const char *sql)
{
	struct vsql_st *st;
	int rc = vsql_prepare(db, sql, &st);

	if (rc)
		fail_msg("prepare %s: %d %s", sql, rc, vsql_errmsg(db));
	return st;
}

/* one integer from a query (-1: no row) */
static int64_t one_int(struct vsql *db, const char *sql)
{
	struct vsql_st *st = prep(db, sql);
	int64_t v = -1;
	int rc = vsql_step(st);

	if (rc == VSQL_ROW)
		v = vsql_column_int64(st, 0);
	else if (rc != VSQL_DONE)
		fail_msg("%s: %d %s", sql, rc, vsql_errmsg(db));
	vsql_finalize(st);
	return v;
}

/* table t: insert with ? and ?N, read back types, values, names, changes */
static void roundtrip(struct vsql *db)
{
	struct vsql_st *st;
	char buf[32];

	exec_ok(db, "DROP TABLE IF EXISTS t; "
		    "CREATE TABLE t (id BIGINT PRIMARY KEY, x DOUBLE PRECISION, s TEXT, n TEXT)");
	st = prep(db, "INSERT INTO t (id, x, s, n) VALUES (?, ?, ?, ?)");
	assert_int_equal(vsql_bind_int64(st, 1, INT64_C(1) << 40), 0);
	assert_int_equal(vsql_bind_double(st, 2, 2.5), 0);
	/* the text is copied: the buffer changes before the step */
	snprintf(buf, sizeof(buf), "it's $1 ?");
	assert_int_equal(vsql_bind_text(st, 3, buf), 0);
	snprintf(buf, sizeof(buf), "clobbered");
	assert_int_equal(vsql_bind_null(st, 4), 0);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	assert_int_equal(vsql_changes(db), 1);
	vsql_finalize(st);
	/* ?N in any order, and ? after ?N counts on from the highest */
	st = prep(db, "INSERT INTO t (s, id, x, n) VALUES (?3, ?1, ?2, ?)");
	assert_int_equal(vsql_bind_int64(st, 1, -7), 0);
	assert_int_equal(vsql_bind_double(st, 2, -0.125), 0);
	assert_int_equal(vsql_bind_text(st, 3, "two"), 0);
	assert_int_equal(vsql_bind_text(st, 4, "four"), 0);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	vsql_finalize(st);

	st = prep(db, "UPDATE t SET x = x * 2 WHERE id > ?");
	assert_int_equal(vsql_bind_int64(st, 1, -100), 0);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	assert_int_equal(vsql_changes(db), 2);
	vsql_finalize(st);

	st = prep(db, "SELECT id, x, s, n FROM t ORDER BY id");
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_count(st), 4);
	assert_string_equal(vsql_column_name(st, 0), "id");
	assert_string_equal(vsql_column_name(st, 3), "n");
	assert_int_equal(vsql_column_type(st, 0), VSQL_INTEGER);
	assert_int_equal(vsql_column_int64(st, 0), -7);
	assert_int_equal(vsql_column_type(st, 1), VSQL_FLOAT);
	assert_true(vsql_column_double(st, 1) == -0.25);
	assert_int_equal(vsql_column_type(st, 2), VSQL_TEXT);
	assert_string_equal(vsql_column_text(st, 2), "two");
	assert_string_equal(vsql_column_text(st, 3), "four");
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_int64(st, 0), INT64_C(1) << 40);
	assert_true(vsql_column_double(st, 1) == 5.0);
	assert_string_equal(vsql_column_text(st, 2), "it's $1 ?");
	assert_int_equal(vsql_column_type(st, 3), VSQL_NULL);
	assert_null(vsql_column_text(st, 3));
	assert_int_equal(vsql_column_int64(st, 3), 0);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	vsql_finalize(st);

	/* quotes and comments keep their ?; count(*) is an integer */
	st = prep(db, "SELECT count(*) AS c, '?' AS q FROM t /* ? */ WHERE s <> ? -- ?\n");
	assert_int_equal(vsql_bind_text(st, 1, "two"), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_string_equal(vsql_column_name(st, 0), "c");
	assert_int_equal(vsql_column_type(st, 0), VSQL_INTEGER);
	assert_int_equal(vsql_column_int64(st, 0), 1);
	assert_string_equal(vsql_column_text(st, 1), "?");
	assert_int_equal(vsql_step(st), VSQL_DONE);
	vsql_finalize(st);
	assert_int_equal(one_int(db, "SELECT id FROM t WHERE id = 12345"), -1);

	/* a parameter the SQL leaves out (2, 4) is bound all the same */
	st = prep(db, "UPDATE t SET s = ?3 WHERE id = ?1");
	assert_int_equal(vsql_bind_int64(st, 1, INT64_C(1) << 40), 0);
	assert_int_equal(vsql_bind_int64(st, 2, 7), 0);
	assert_int_equal(vsql_bind_text(st, 3, "three"), 0);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	assert_int_equal(vsql_changes(db), 1);
	vsql_finalize(st);
	st = prep(db, "SELECT s FROM t WHERE id = ?5");
	assert_int_equal(vsql_bind_int64(st, 5, INT64_C(1) << 40), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_string_equal(vsql_column_text(st, 0), "three");
	vsql_finalize(st);
}

/* constraint, bad SQL, transactions, reset */
static void errors(struct vsql *db)
{
	struct vsql_st *st;
	int rc;

	exec_ok(db, "DROP TABLE IF EXISTS u; CREATE TABLE u (k TEXT PRIMARY KEY, v INTEGER)");
	exec_ok(db, "INSERT INTO u (k, v) VALUES ('a', 1)");
	st = prep(db, "INSERT INTO u (k, v) VALUES (?, ?)");
	assert_int_equal(vsql_bind_text(st, 1, "a"), 0);
	assert_int_equal(vsql_bind_int64(st, 2, 2), 0);
	assert_int_equal(vsql_step(st), -EEXIST);
	assert_true(strlen(vsql_errmsg(db)) > 0);
	vsql_finalize(st);
	assert_int_equal(vsql_exec(db, "INSERT INTO u (k, v) VALUES ('a', 3)"), -EEXIST);

	/* SQLite finds it at prepare, PostgreSQL at the first step */
	rc = vsql_prepare(db, "SELEC k FROM u", &st);
	if (!rc) {
		rc = vsql_step(st);
		vsql_finalize(st);
	}
	assert_true(rc == -EINVAL || rc == -EIO);
	assert_non_null(strstr(vsql_errmsg(db), "syntax error"));
	assert_true(vsql_errmsg(db)[strlen(vsql_errmsg(db)) - 1] != '\n');
	rc = vsql_prepare(db, "SELECT k FROM nosuch", &st);
	if (!rc) {
		rc = vsql_step(st);
		vsql_finalize(st);
	}
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(vsql_errmsg(db), "nosuch"));

	/* transactions */
	assert_false(vsql_in_tx(db));
	exec_ok(db, "BEGIN");
	assert_true(vsql_in_tx(db));
	exec_ok(db, "UPDATE u SET v = 10");
	assert_int_equal(vsql_changes(db), 1);
	exec_ok(db, "COMMIT");
	assert_false(vsql_in_tx(db));
	exec_ok(db, "BEGIN");
	assert_true(vsql_exec(db, "INSERT INTO u (k) VALUES ('a')") < 0);
	/* a failed statement leaves the transaction to be rolled back */
	assert_true(vsql_in_tx(db));
	exec_ok(db, "ROLLBACK");
	assert_false(vsql_in_tx(db));
	assert_int_equal(one_int(db, "SELECT v FROM u WHERE k = 'a'"), 10);

	/* reset: the same binds run again, or new ones */
	st = prep(db, "SELECT v + ? FROM u WHERE k = ?");
	assert_int_equal(vsql_bind_int64(st, 1, 5), 0);
	assert_int_equal(vsql_bind_text(st, 2, "a"), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_int64(st, 0), 15);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	assert_int_equal(vsql_reset(st), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_int64(st, 0), 15);
	assert_int_equal(vsql_reset(st), 0);
	assert_int_equal(vsql_bind_int64(st, 1, 7), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_int64(st, 0), 17);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	/* no parameter 3 */
	assert_int_equal(vsql_reset(st), 0);
	assert_int_equal(vsql_bind_int64(st, 3, 1), -EINVAL);
	vsql_finalize(st);
}

/* a read-only connection reads (tables from a read-write one) but never writes */
static void readonly(struct vsql *rw, struct vsql *ro)
{
	exec_ok(rw, "DROP TABLE IF EXISTS r; CREATE TABLE r (k INTEGER); "
		    "INSERT INTO r (k) VALUES (42)");
	assert_int_equal(one_int(ro, "SELECT k FROM r"), 42);
	assert_int_equal(vsql_exec(ro, "INSERT INTO r (k) VALUES (1)"), -EIO);
	assert_true(strlen(vsql_errmsg(ro)) > 0);
	assert_int_equal(one_int(rw, "SELECT count(*) FROM r"), 1);
}

/* ---- SQLite ---- */

static void lite_roundtrip(void **state)
{
	struct fx *fx = *state;

	roundtrip(fx->db);
	/* always connected */
	assert_true(vsql_connected(fx->db));
	assert_int_equal(vsql_reconnect(fx->db), 0);
}

static void lite_errors(void **state)
{
	struct fx *fx = *state;

	errors(fx->db);
}

static void lite_readonly(void **state)
{
	struct fx *fx = *state;
	struct vsql *ro;
	char msg[256], path[PATH_MAX + 16];

	assert_int_equal(vsql_open(fx->path, true, &ro, msg, sizeof(msg)), 0);
	readonly(fx->db, ro);
	vsql_close(ro);
	/* read-only never creates the file */
	snprintf(path, sizeof(path), "%s/none.db", fx->dir);
	msg[0] = '\0';
	assert_true(vsql_open(path, true, &ro, msg, sizeof(msg)) < 0);
	assert_null(ro);
	assert_true(strlen(msg) > 0);
	assert_false(exists_at(fx->dir, "none.db"));
}

/* ---- parameters ---- */

static void pg_params(void **state)
{
	static const struct {
		const char *in, *out;
		int n;
	} c[] = {
		{ "SELECT 1", "SELECT 1", 0 },
		{ "SELECT ?", "SELECT $1", 1 },
		{ "?, ?,?", "$1, $2,$3", 3 },
		{ "?2 = ?1", "$2 = $1", 2 },
		/* ? is one past the highest so far, as in SQLite */
		{ "?3, ?, ?1, ?", "$3, $4, $1, $5", 5 },
		{ "x = ? AND y = ?1", "x = $1 AND y = $1", 1 },
		/* strings ('' inside), identifiers, comments */
		{ "'a?''b?' || ?", "'a?''b?' || $1", 1 },
		{ "'it''s' = ? OR '$1' = ?", "'it''s' = $1 OR '$1' = $2", 2 },
		{ "\"we?rd\"\"?\" = ?", "\"we?rd\"\"?\" = $1", 1 },
		{ "-- what?\n? -- ?2", "-- what?\n$1 -- ?2", 1 },
		{ "/* ? */ ? /* ?1 */ - ? / ?", "/* ? */ $1 /* ?1 */ - $2 / $3", 3 },
		/* unterminated: left as it is */
		{ "'abc ?", "'abc ?", 0 },
		{ "/* ?", "/* ?", 0 },
		{ "", "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int n = -1;
		char *s = vsql_pg_params(c[i].in, &n);

		assert_non_null(s);
		if (strcmp(s, c[i].out) || n != c[i].n)
			fail_msg("vsql_pg_params(%s) = %s, %d; want %s, %d",
				 c[i].in, s, n, c[i].out, c[i].n);
		free(s);
	}
	assert_true(vsql_target_is_pg("postgresql://u@h/db"));
	assert_true(vsql_target_is_pg("postgres://h/db"));
	assert_true(vsql_target_is_pg("host=/run/postgresql dbname=vnode"));
	assert_true(vsql_target_is_pg("dbname=vnode"));
	assert_true(vsql_target_is_pg("service=vnode"));
	assert_false(vsql_target_is_pg("/var/lib/vnode/state.db"));
	assert_false(vsql_target_is_pg("state.db"));
	assert_false(vsql_target_is_pg("hostname.db"));
}

/* ---- PostgreSQL ---- */

static void pg_roundtrip(void **state)
{
	struct vsql *db = pg_open(false);
	struct vsql_st *st;

	(void)state;
	roundtrip(db);
	/* PostgreSQL's own types, as SQLite would give them */
	st = prep(db, "SELECT true AS y, false AS n, 1.5::numeric AS d, 2::smallint AS s, "
		      "'\\x00ff'::bytea AS b, ?::boolean AS p");
	assert_int_equal(vsql_bind_int64(st, 1, 1), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_type(st, 0), VSQL_INTEGER);
	assert_int_equal(vsql_column_int64(st, 0), 1);
	assert_string_equal(vsql_column_text(st, 0), "1");
	assert_int_equal(vsql_column_int64(st, 1), 0);
	assert_int_equal(vsql_column_type(st, 2), VSQL_FLOAT);
	assert_true(vsql_column_double(st, 2) == 1.5);
	assert_int_equal(vsql_column_int64(st, 2), 1);
	assert_int_equal(vsql_column_type(st, 3), VSQL_INTEGER);
	assert_int_equal(vsql_column_type(st, 4), VSQL_BLOB);
	assert_int_equal(vsql_column_int64(st, 5), 1);
	assert_int_equal(vsql_step(st), VSQL_DONE);
	vsql_finalize(st);
	vsql_close(db);
}

static void pg_errors(void **state)
{
	struct vsql *db = pg_open(false);

	(void)state;
	errors(db);
	vsql_close(db);
}

static void pg_readonly(void **state)
{
	struct vsql *rw = pg_open(false), *ro = pg_open(true);

	(void)state;
	readonly(rw, ro);
	/* not even inside an explicit transaction */
	exec_ok(ro, "BEGIN");
	assert_int_equal(vsql_exec(ro, "DELETE FROM r"), -EIO);
	exec_ok(ro, "ROLLBACK");
	vsql_close(ro);
	vsql_close(rw);
}

/* two SERIALIZABLE transactions update the same row: the second must run again */
static void pg_serialize(void **state)
{
	struct vsql *a = pg_open(false), *b = pg_open(false);

	(void)state;
	exec_ok(a, "DROP TABLE IF EXISTS ser; CREATE TABLE ser (k INTEGER PRIMARY KEY, v INTEGER); "
		   "INSERT INTO ser VALUES (1, 0)");
	exec_ok(a, "BEGIN ISOLATION LEVEL SERIALIZABLE");
	exec_ok(b, "BEGIN ISOLATION LEVEL SERIALIZABLE");
	assert_int_equal(one_int(a, "SELECT v FROM ser WHERE k = 1"), 0);
	assert_int_equal(one_int(b, "SELECT v FROM ser WHERE k = 1"), 0);
	exec_ok(a, "UPDATE ser SET v = v + 1 WHERE k = 1");
	exec_ok(a, "COMMIT");
	assert_int_equal(vsql_exec(b, "UPDATE ser SET v = v + 1 WHERE k = 1"), -EAGAIN);
	assert_non_null(strstr(vsql_errmsg(b), "serialize"));
	assert_true(vsql_in_tx(b));
	exec_ok(b, "ROLLBACK");
	assert_false(vsql_in_tx(b));
	/* run again, it goes through */
	exec_ok(b, "BEGIN ISOLATION LEVEL SERIALIZABLE");
	exec_ok(b, "UPDATE ser SET v = v + 1 WHERE k = 1");
	exec_ok(b, "COMMIT");
	assert_int_equal(one_int(a, "SELECT v FROM ser WHERE k = 1"), 2);
	vsql_close(b);
	vsql_close(a);
}

/* the server ends our backend: -ENOTCONN, then vsql_reconnect() brings it back */
static void pg_lost(void **state)
{
	struct vsql *a = pg_open(false), *b = pg_open(false);
	struct vsql_st *st, *kill;
	int64_t pid = one_int(a, "SELECT pg_backend_pid()");

	(void)state;
	assert_true(pid > 0);
	assert_true(vsql_connected(a));
	assert_int_equal(vsql_reconnect(a), 0);	/* up: nothing to do */
	st = prep(a, "SELECT ? + 1");
	assert_int_equal(vsql_bind_int64(st, 1, 1), 0);
	/* the timeout: returns once the backend is gone */
	kill = prep(b, "SELECT pg_terminate_backend(?, 5000)");
	assert_int_equal(vsql_bind_int64(kill, 1, pid), 0);
	assert_int_equal(vsql_step(kill), VSQL_ROW);
	assert_int_equal(vsql_column_int64(kill, 0), 1);
	vsql_finalize(kill);

	assert_int_equal(vsql_step(st), -ENOTCONN);
	assert_true(strlen(vsql_errmsg(a)) > 0);
	assert_false(vsql_connected(a));
	assert_int_equal(vsql_exec(a, "SELECT 1"), -ENOTCONN);
	assert_false(vsql_in_tx(a));

	assert_int_equal(vsql_reconnect(a), 0);
	assert_true(vsql_connected(a));
	assert_true(one_int(a, "SELECT pg_backend_pid()") != pid);
	/* the statement prepared before runs on the new connection */
	assert_int_equal(vsql_reset(st), 0);
	assert_int_equal(vsql_step(st), VSQL_ROW);
	assert_int_equal(vsql_column_int64(st, 0), 2);
	vsql_finalize(st);
	vsql_close(b);
	vsql_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lite_roundtrip, lite_setup, lite_teardown),
		cmocka_unit_test_setup_teardown(lite_errors, lite_setup, lite_teardown),
		cmocka_unit_test_setup_teardown(lite_readonly, lite_setup, lite_teardown),
		cmocka_unit_test(pg_params),
		cmocka_unit_test(pg_roundtrip),
		cmocka_unit_test(pg_errors),
		cmocka_unit_test(pg_readonly),
		cmocka_unit_test(pg_serialize),
		cmocka_unit_test(pg_lost),
	};

	return cmocka_run_group_tests_name("vsql", tests, pg_group_setup, pg_group_teardown);
}
