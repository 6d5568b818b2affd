/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded state: one SQLite database (default /var/lib/vnode/state.db).
 * Schema version is PRAGMA user_version; vn_db_open() migrates older
 * databases step by step inside one transaction and refuses newer ones.
 */
#ifndef VN_DB_H
#define VN_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>
#include <json-c/json.h>

#include "util.h"

#define VN_DB_VERSION 3

/* Open (creating if needed) and migrate to VN_DB_VERSION. */
int vn_db_open(const char *path, sqlite3 **db, struct vn_err *err);
/* Apply migrations up to `to` (tests use it to build old databases). */
int vn_db_migrate(sqlite3 *db, int to, struct vn_err *err);
int vn_db_version(sqlite3 *db);

int vn_db_exec(sqlite3 *db, const char *sql, struct vn_err *err);
int vn_db_begin(sqlite3 *db, struct vn_err *err);
int vn_db_commit(sqlite3 *db, struct vn_err *err);
void vn_db_rollback(sqlite3 *db);

/*
 * Append one row to the events table.  type is e.g. "vnode.create",
 * object "vnode"/"component"/"disk"/"daemon", detail a JSON object with
 * the full new state of the object (NULL -> "{}").  Takes no ownership.
 */
int vn_event(sqlite3 *db, const char *type, const char *object,
	     const char *name, json_object *detail, struct vn_err *err);

/*
 * Run one statement and return its rows as a JSON array of objects
 * (column name -> typed value).  Binds are strings (NULL-terminated
 * list; NULL entries are allowed only as the terminator).
 */
int vn_db_query_json(sqlite3 *db, const char *sql, const char *const *binds,
		     json_object **rows, struct vn_err *err);

/*
 * Read-only SQL for `vnodectl sql`: opens its own SQLITE_OPEN_READONLY
 * connection, installs an authorizer that only allows SELECT/READ/
 * FUNCTION, compiles exactly one statement and checks
 * sqlite3_stmt_readonly().  Writes fail with -EPERM and a clear message.
 */
int vn_sql_readonly(const char *dbpath, const char *sql, json_object **rows,
		    struct vn_err *err);
/* Same check on an open connection (unit tests). */
int vn_sql_readonly_db(sqlite3 *db, const char *sql, json_object **rows,
		       struct vn_err *err);

#endif /* VN_DB_H */
