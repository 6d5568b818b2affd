// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

/*
 * Migration N takes the database from version N-1 to N.  Never edit a
 * step once released; add a new one.
 */
static const char *const migrations[] = {
	NULL,
	/* 1: base schema */
	"CREATE TABLE components ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('memory','storage')),"
	"  addr TEXT NOT NULL,"
	"  port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	"  source TEXT NOT NULL DEFAULT 'cli',"
	"  state TEXT NOT NULL DEFAULT 'unknown',"
	"  capacity INTEGER NOT NULL DEFAULT 0,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  slab_shift INTEGER NOT NULL DEFAULT 0,"
	"  last_probe INTEGER,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (addr, port));"
	"CREATE TABLE vnodes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  mem INTEGER NOT NULL CHECK (mem > 0),"
	"  cache INTEGER NOT NULL CHECK (cache > 0 AND cache <= mem),"
	"  replicas INTEGER NOT NULL CHECK (replicas IN (1,2)),"
	"  cpus TEXT,"
	"  owner_uid INTEGER NOT NULL,"
	"  cgroup TEXT NOT NULL,"
	"  cgroup_id INTEGER NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'active',"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE allocations ("
	"  id INTEGER PRIMARY KEY,"
	"  vnode_id INTEGER NOT NULL REFERENCES vnodes(id) ON DELETE CASCADE,"
	"  component_id INTEGER NOT NULL REFERENCES components(id),"
	"  bytes INTEGER NOT NULL CHECK (bytes >= 0));"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  name TEXT,"
	"  detail TEXT NOT NULL DEFAULT '{}');"
	"CREATE INDEX events_name ON events(object, name, ts);"
	/* append-only: the daemon never updates or deletes events */
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	"  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
	/* 2: storage volumes (used later) and throw-away vNodes */
	"CREATE TABLE volumes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  component_id INTEGER NOT NULL REFERENCES components(id),"
	"  size INTEGER NOT NULL CHECK (size > 0),"
	"  vnode_id INTEGER REFERENCES vnodes(id) ON DELETE SET NULL,"
	"  mountpoint TEXT,"
	"  state TEXT NOT NULL DEFAULT 'detached',"
	"  created INTEGER NOT NULL);"
	"ALTER TABLE vnodes ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE vnodes ADD COLUMN creator_pid INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 3: vNode volumes in use.  The v2 placeholder had no constraints
	 * worth keeping, so the table is rebuilt (SQLite cannot add CHECKs):
	 * one volume per vNode, an owner, the keep flag, the attached disk.
	 */
	"CREATE TABLE volumes_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  component_id INTEGER NOT NULL REFERENCES components(id),"
	"  size INTEGER NOT NULL CHECK (size > 0),"
	"  vnode_id INTEGER UNIQUE REFERENCES vnodes(id) ON DELETE SET NULL,"
	"  mountpoint TEXT,"
	"  state TEXT NOT NULL DEFAULT 'detached'"
	"    CHECK (state IN ('attached', 'detached', 'deleting', 'broken')),"
	"  created INTEGER NOT NULL,"
	"  owner_uid INTEGER NOT NULL DEFAULT 0,"
	"  keep INTEGER NOT NULL DEFAULT 0 CHECK (keep IN (0, 1)),"
	"  dev TEXT,"
	"  fs TEXT,"
	"  last_error TEXT);"
	"INSERT INTO volumes_v3 (id, name, component_id, size, vnode_id, mountpoint, state, created)"
	"  SELECT id, name, component_id, size, vnode_id, mountpoint,"
	"    CASE WHEN state IN ('attached', 'detached', 'deleting', 'broken')"
	"      THEN state ELSE 'detached' END, created FROM volumes;"
	"DROP TABLE volumes;"
	"ALTER TABLE volumes_v3 RENAME TO volumes;",
};

int vn_db_exec(sqlite3 *db, const char *sql, struct vn_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		vn_seterr(err, EIO, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int vn_db_begin(sqlite3 *db, struct vn_err *err)
{
	return vn_db_exec(db, "BEGIN IMMEDIATE", err);
}

int vn_db_commit(sqlite3 *db, struct vn_err *err)
{
	return vn_db_exec(db, "COMMIT", err);
}

void vn_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int vn_db_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL))
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int vn_db_migrate(sqlite3 *db, int to, struct vn_err *err)
{
	int v = vn_db_version(db), ret;
	char sql[64];

	if (v < 0)
		return vn_seterr(err, EIO, "cannot read schema version: %s",
				 sqlite3_errmsg(db));
	if (v > VN_DB_VERSION)
		return vn_seterr(err, EPROTO,
				 "state database has schema version %d, this vnoded only knows %d (newer vnoded wrote it?)",
				 v, VN_DB_VERSION);
	if (v >= to)
		return 0;
	ret = vn_db_begin(db, err);
	if (ret)
		return ret;
	for (v = v + 1; v <= to; v++) {
		ret = vn_db_exec(db, migrations[v], err);
		if (ret)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", to);
	ret = vn_db_exec(db, sql, err);
	if (ret)
		goto fail;
	return vn_db_commit(db, err);
fail:
	vn_db_rollback(db);
	return ret;
}

int vn_db_open(const char *path, sqlite3 **dbp, struct vn_err *err)
{
	sqlite3 *db;
	int ret;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		vn_seterr(err, EIO, "cannot open %s: %s", path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	/* WAL: readers (vnodectl sql) never block the daemon */
	ret = vn_db_exec(db, "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = NORMAL;"
			 "PRAGMA foreign_keys = ON;", err);
	if (!ret)
		ret = vn_db_migrate(db, VN_DB_VERSION, err);
	if (ret) {
		sqlite3_close(db);
		return ret;
	}
	*dbp = db;
	return 0;
}

int vn_event(sqlite3 *db, const char *type, const char *object,
	     const char *name, json_object *detail, struct vn_err *err)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db,
		"INSERT INTO events (ts, type, object, name, detail) VALUES (?, ?, ?, ?, ?)",
		-1, &st, NULL);
	if (rc)
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, vn_now_ms());
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, object, -1, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail ?
			  json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN) :
			  "{}", -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(db));
	return 0;
}

static json_object *column_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_object_new_int64(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_object_new_double(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return NULL;
	case SQLITE_BLOB:
		return json_object_new_string("<blob>");
	default:
		return json_object_new_string((const char *)sqlite3_column_text(st, i));
	}
}

static int rows_json(sqlite3 *db, sqlite3_stmt *st, json_object **rows,
		     struct vn_err *err)
{
	json_object *arr = json_object_new_array();
	int rc, i, n = sqlite3_column_count(st);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *row = json_object_new_object();

		for (i = 0; i < n; i++)
			json_object_object_add(row, sqlite3_column_name(st, i),
					       column_json(st, i));
		json_object_array_add(arr, row);
	}
	if (rc != SQLITE_DONE) {
		json_object_put(arr);
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(db));
	}
	*rows = arr;
	return 0;
}

int vn_db_query_json(sqlite3 *db, const char *sql, const char *const *binds,
		     json_object **rows, struct vn_err *err)
{
	sqlite3_stmt *st;
	int i, ret;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return vn_seterr(err, EIO, "sqlite: %s", sqlite3_errmsg(db));
	for (i = 0; binds && binds[i]; i++)
		sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	ret = rows_json(db, st, rows, err);
	sqlite3_finalize(st);
	return ret;
}

/* Only reading is allowed: SELECT, reading columns, functions, and the
 * implicit transaction SQLite uses for a SELECT.  Everything else
 * (INSERT/UPDATE/DELETE, ATTACH, PRAGMA, CREATE, ...) is denied. */
static int ro_authorizer(void *ud, int action, const char *a, const char *b,
			 const char *c, const char *d)
{
	(void)ud; (void)a; (void)b; (void)c; (void)d;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	default:
		return SQLITE_DENY;
	}
}

int vn_sql_readonly_db(sqlite3 *db, const char *sql, json_object **rows,
		       struct vn_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc, ret;

	if (!sql || !*sql)
		return vn_seterr(err, EINVAL, "empty SQL query");
	sqlite3_set_authorizer(db, ro_authorizer, NULL);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
	sqlite3_set_authorizer(db, NULL, NULL);
	if (rc == SQLITE_AUTH ||
	    (rc != SQLITE_OK && strstr(sqlite3_errmsg(db), "not authorized")))
		return vn_seterr(err, EPERM,
				 "refused: only read-only queries (SELECT) are allowed (%s)",
				 sqlite3_errmsg(db));
	if (rc != SQLITE_OK)
		return vn_seterr(err, EINVAL, "SQL error: %s", sqlite3_errmsg(db));
	if (!st)
		return vn_seterr(err, EINVAL, "empty SQL query");
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' ||
			*tail == ';'))
		tail++;
	if (tail && *tail) {
		sqlite3_finalize(st);
		return vn_seterr(err, EINVAL,
				 "only one SQL statement at a time (extra: '%.40s')",
				 tail);
	}
	if (!sqlite3_stmt_readonly(st)) {
		sqlite3_finalize(st);
		return vn_seterr(err, EPERM,
				 "refused: only read-only queries (SELECT) are allowed");
	}
	ret = rows_json(db, st, rows, err);
	sqlite3_finalize(st);
	return ret;
}

int vn_sql_readonly(const char *dbpath, const char *sql, json_object **rows,
		    struct vn_err *err)
{
	sqlite3 *db;
	int ret;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		vn_seterr(err, EIO, "cannot open %s read-only: %s", dbpath,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 2000);
	ret = vn_sql_readonly_db(db, sql, rows, err);
	sqlite3_close(db);
	return ret;
}
