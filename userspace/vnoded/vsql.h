/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsql: one SQL connection to vnoded's state, SQLite (the embedded
 * default, one process host) or PostgreSQL (one database for a cluster of
 * process hosts: [cluster] database = postgresql://...).
 *
 * The calls mirror SQLite's C API, so the daemon's queries read the same
 * for both.  SQL text uses SQLite's parameters, ? and ?N; on PostgreSQL
 * they become $N (outside quotes), and a number the SQL leaves out (?1
 * and ?3 only) may be bound, as SQLite allows.  Every query the daemon
 * runs is written in the SQL both engines accept.
 *
 * Statements run one at a time on a connection: step a statement to
 * VSQL_DONE (or finalize it) before the next is stepped.  On PostgreSQL
 * the first step sends the statement with its parameters (as text) and
 * fetches every row; later steps walk them.
 *
 * Errors are negative errnos with the engine's message in vsql_errmsg():
 *   -EEXIST     a constraint failed (unique, check, foreign key)
 *   -EAGAIN     the transaction lost a race (SQLite busy, PostgreSQL
 *               serialization failure or deadlock): run it again
 *   -ENOTCONN   the connection to the database is lost (PostgreSQL;
 *               vsql_reconnect() tries it again)
 *   -EINVAL     the SQL does not compile (PostgreSQL: SQLSTATE class 42,
 *               found at the first step, not at prepare); no such parameter
 *   -ENOMEM     out of memory
 *   -EIO        anything else (a write on a read-only connection, ...)
 */
#ifndef VN_VSQL_H
#define VN_VSQL_H

#include <stdbool.h>
#include <stdint.h>

enum vsql_kind {
	VSQL_SQLITE,
	VSQL_PG,
};

/* vsql_step() */
#define VSQL_ROW	100
#define VSQL_DONE	101

/* vsql_column_type() */
enum vsql_type {
	VSQL_INTEGER = 1,
	VSQL_FLOAT,
	VSQL_TEXT,
	VSQL_BLOB,
	VSQL_NULL,
};

struct vsql;
struct vsql_st;
struct sqlite3;

/*
 * Open a connection.  target is a file path (SQLite, created if missing,
 * opened read-write; readonly: opened read-only, never created) or a
 * postgresql:// or postgres:// URI, or a libpq "key=value" string that
 * starts with "host=", "dbname=" or "service=" (PostgreSQL).  On failure
 * *db is NULL and msg (if not NULL) gets the reason.
 */
int vsql_open(const char *target, bool readonly, struct vsql **db,
	      char *msg, size_t msglen);
void vsql_close(struct vsql *db);
/* Whether target names a PostgreSQL database (see vsql_open). */
bool vsql_target_is_pg(const char *target);

enum vsql_kind vsql_kind(struct vsql *db);
/* The SQLite handle (NULL on PostgreSQL): SQLite-only features such as
 * vnodectl sql's authorizer and heap limit. */
struct sqlite3 *vsql_sqlite(struct vsql *db);
/* The last error's message (never NULL). */
const char *vsql_errmsg(struct vsql *db);
/* PostgreSQL: the last error's SQLSTATE ("57014", ...); "" on SQLite or
 * if it had none. */
const char *vsql_sqlstate(struct vsql *db);

/* Run one or more statements without results (schema, BEGIN, ...).
 * PostgreSQL: COMMIT of a transaction that a statement aborted fails with
 * that statement's error (and rolls back). */
int vsql_exec(struct vsql *db, const char *sql);
/* Inside an explicit transaction (BEGIN ... COMMIT/ROLLBACK)? */
bool vsql_in_tx(struct vsql *db);
/* Rows changed by the last INSERT/UPDATE/DELETE. */
int64_t vsql_changes(struct vsql *db);
/*
 * PostgreSQL only: a lost connection is opened again (0), or -ENOTCONN.
 * SQLite: always 0.
 */
int vsql_reconnect(struct vsql *db);
/* Whether the connection is up (always true for SQLite). */
bool vsql_connected(struct vsql *db);

/* Compile one statement (sql must stay valid until finalize). */
int vsql_prepare(struct vsql *db, const char *sql, struct vsql_st **st);
/* Parameters count from 1; text is copied. */
int vsql_bind_int64(struct vsql_st *st, int i, int64_t v);
int vsql_bind_double(struct vsql_st *st, int i, double v);
int vsql_bind_text(struct vsql_st *st, int i, const char *s);
int vsql_bind_null(struct vsql_st *st, int i);
/* VSQL_ROW, VSQL_DONE or -errno (see above). */
int vsql_step(struct vsql_st *st);
/* Back to before the first step; the bindings stay. */
int vsql_reset(struct vsql_st *st);
int vsql_finalize(struct vsql_st *st);

/* Columns of the current row, counted from 0. */
int vsql_column_count(struct vsql_st *st);
const char *vsql_column_name(struct vsql_st *st, int i);
enum vsql_type vsql_column_type(struct vsql_st *st, int i);
int64_t vsql_column_int64(struct vsql_st *st, int i);
double vsql_column_double(struct vsql_st *st, int i);
/*
 * NULL for SQL NULL; valid until the next step or finalize.  PostgreSQL's
 * types read as SQLite's would: a boolean is an integer ("1"/"0"), a
 * numeric a float, a bytea a blob (its text is the \x hex form).
 */
const char *vsql_column_text(struct vsql_st *st, int i);

/*
 * Translate SQLite-style parameters (? and ?N) to PostgreSQL's $N,
 * leaving quoted strings, quoted identifiers and comments alone.  Returns
 * a malloc'ed string or NULL (out of memory); *nparams gets the highest
 * parameter number.  (Exposed for the unit tests.)
 */
char *vsql_pg_params(const char *sql, int *nparams);

#endif /* VN_VSQL_H */
