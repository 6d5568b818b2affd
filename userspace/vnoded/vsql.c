// SPDX-License-Identifier: GPL-2.0
/*
 * vsql: one SQL connection to vnoded's state, SQLite or PostgreSQL, behind
 * SQLite-shaped calls (vsql.h has the contract).
 *
 * SQLite is a thin wrapper: the statement is a sqlite3_stmt and the
 * errors are mapped.  PostgreSQL has no cursor-style stepping worth the
 * round trips for the daemon's small queries, so a statement keeps its SQL
 * (parameters turned into $N), a text copy of every bound value, and on
 * its first step runs PQexecParams and keeps the whole PGresult; later
 * steps only walk its rows.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "vsql.h"

/* pg_type OIDs (catalog/pg_type_d.h is a server header, not in libpq-dev) */
#define PG_BOOLOID	16
#define PG_BYTEAOID	17
#define PG_INT8OID	20
#define PG_INT2OID	21
#define PG_INT4OID	23
#define PG_TEXTOID	25
#define PG_OIDOID	26
#define PG_FLOAT4OID	700
#define PG_FLOAT8OID	701
#define PG_NUMERICOID	1700

/* SQLite's own default limit on a parameter number (SQLITE_MAX_VARIABLE_NUMBER) */
#define VSQL_MAX_PARAMS	32766

/* the busy handler's patience before SQLITE_BUSY (-EAGAIN) reaches the caller */
#define VSQL_BUSY_MS	5000

struct vsql {
	enum vsql_kind kind;
	bool readonly;
	sqlite3 *lite;
	PGconn *pg;
	int64_t changes;	/* PostgreSQL: the last INSERT/UPDATE/DELETE's count */
	char err[512];
	/* PostgreSQL: the error that aborted the current transaction (its
	 * COMMIT then reports it instead of PostgreSQL's silent ROLLBACK) */
	int tx_rc;
	char tx_err[512];
	char sqlstate[6];	/* PostgreSQL: the last error's SQLSTATE ("" if none) */
};

struct vsql_st {
	struct vsql *db;
	sqlite3_stmt *lite;
	/* PostgreSQL */
	char *sql;		/* with $N */
	int nparams;
	char **vals;		/* [nparams], text copies; NULL = SQL NULL */
	Oid *types;		/* [nparams]: text for one the SQL leaves out, else
				 * 0 (the server infers it); NULL if it has all */
	PGresult *res;		/* after the first step, until reset/finalize */
	int row;		/* the current row of res */
};

/* ---- errors ---- */

static void set_err(struct vsql *db, const char *msg)
{
	size_t n;

	snprintf(db->err, sizeof(db->err), "%s", msg && *msg ? msg : "unknown error");
	/* libpq's messages end in a newline (or several lines: keep them, not the last \n) */
	n = strlen(db->err);
	while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

static int lite_err(struct vsql *db, int rc)
{
	set_err(db, sqlite3_errmsg(db->lite));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EAGAIN;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	/* SQLITE_ERROR: the SQL did not compile (no such table, syntax, ...) */
	case SQLITE_ERROR:
	case SQLITE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * A failed PostgreSQL command: the message (primary and detail only, as
 * terse as SQLite's) and the errno of its SQLSTATE.  res may be NULL (libpq
 * out of memory, or the connection is gone).
 */
static int pg_err(struct vsql *db, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	bool lost = PQstatus(db->pg) != CONNECTION_OK;
	int rc;

	if (prim && detail)
		snprintf(db->err, sizeof(db->err), "%s (%s)", prim, detail);
	else if (prim)
		set_err(db, prim);
	else if (res && *PQresultErrorMessage(res))
		set_err(db, PQresultErrorMessage(res));
	else
		set_err(db, PQerrorMessage(db->pg));
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	/* the backend may say why it went (57P01) before libpq notices the EOF */
	if (lost || (state && (!strncmp(state, "08", 2) || !strncmp(state, "57P0", 4))))
		rc = -ENOTCONN;
	else if (!res)
		rc = -ENOMEM;
	else if (!state)
		rc = -EIO;
	else if (!strncmp(state, "23", 2))
		rc = -EEXIST;
	else if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		rc = -EAGAIN;
	/* syntax error or access rule violation: no such table/column, bad SQL */
	else if (!strncmp(state, "42", 2) && strcmp(state, "42501"))
		rc = -EINVAL;
	else if (!strcmp(state, "53200"))
		rc = -ENOMEM;
	else
		rc = -EIO;
	/* the first error of a transaction is the one that aborted it */
	if (!db->tx_rc && PQtransactionStatus(db->pg) == PQTRANS_INERROR) {
		db->tx_rc = rc;
		snprintf(db->tx_err, sizeof(db->tx_err), "%s", db->err);
	}
	return rc;
}

/* ---- connection ---- */

bool vsql_target_is_pg(const char *target)
{
	static const char *const pfx[] = {
		"postgresql://", "postgres://", "host=", "dbname=", "service=",
	};
	size_t i;

	if (!target)
		return false;
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (!strncmp(target, pfx[i], strlen(pfx[i])))
			return true;
	return false;
}

/* the daemon logs its own errors: the server's notices would only be noise on stderr */
static void pg_drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int pg_cmd(struct vsql *db, const char *sql)
{
	PGresult *res = PQexec(db->pg, sql);
	int rc = 0;

	if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK &&
		     PQresultStatus(res) != PGRES_TUPLES_OK))
		rc = pg_err(db, res);
	PQclear(res);
	return rc;
}

/* what every session needs, after connecting and after a reset (a new backend) */
static int pg_session(struct vsql *db)
{
	int rc;

	PQsetNoticeProcessor(db->pg, pg_drop_notice, NULL);
	rc = pg_cmd(db, "SET client_min_messages = warning");
	if (!rc && db->readonly)
		rc = pg_cmd(db, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
	return rc;
}

static int open_pg(struct vsql *db, const char *target)
{
	db->pg = PQconnectdb(target);
	if (!db->pg) {
		set_err(db, "out of memory");
		return -ENOMEM;
	}
	if (PQstatus(db->pg) != CONNECTION_OK) {
		set_err(db, PQerrorMessage(db->pg));
		return -ENOTCONN;
	}
	return pg_session(db);
}

static int open_lite(struct vsql *db, const char *target)
{
	int flags = SQLITE_OPEN_FULLMUTEX;
	int rc;

	flags |= db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	/* the pragmas (WAL, foreign keys, ...) are db.c's: it knows the schema */
	rc = sqlite3_open_v2(target, &db->lite, flags, NULL);
	if (rc != SQLITE_OK) {
		int sys = db->lite ? sqlite3_system_errno(db->lite) : 0;

		if (!db->lite) {
			set_err(db, "out of memory");
			return -ENOMEM;
		}
		rc = lite_err(db, rc);
		/* cannot open: the system's reason (ENOENT, EACCES) says more than EIO */
		return sys > 0 ? -sys : rc;
	}
	sqlite3_busy_timeout(db->lite, VSQL_BUSY_MS);
	return 0;
}

int vsql_open(const char *target, bool readonly, struct vsql **dbp,
	      char *msg, size_t msglen)
{
	struct vsql *db;
	int rc;

	*dbp = NULL;
	db = calloc(1, sizeof(*db));
	if (!db) {
		if (msg && msglen)
			snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	db->readonly = readonly;
	db->kind = vsql_target_is_pg(target) ? VSQL_PG : VSQL_SQLITE;
	rc = db->kind == VSQL_PG ? open_pg(db, target) : open_lite(db, target);
	if (rc) {
		if (msg && msglen)
			snprintf(msg, msglen, "%s", db->err);
		vsql_close(db);
		return rc;
	}
	*dbp = db;
	return 0;
}

void vsql_close(struct vsql *db)
{
	if (!db)
		return;
	if (db->pg)
		PQfinish(db->pg);
	/* _v2: a statement the caller still holds does not keep the file open forever */
	if (db->lite)
		sqlite3_close_v2(db->lite);
	free(db);
}

enum vsql_kind vsql_kind(struct vsql *db)
{
	return db->kind;
}

struct sqlite3 *vsql_sqlite(struct vsql *db)
{
	return db->kind == VSQL_SQLITE ? db->lite : NULL;
}

const char *vsql_errmsg(struct vsql *db)
{
	return db ? db->err : "no database connection";
}

const char *vsql_sqlstate(struct vsql *db)
{
	return db && db->kind == VSQL_PG ? db->sqlstate : "";
}

bool vsql_connected(struct vsql *db)
{
	return db->kind == VSQL_SQLITE || PQstatus(db->pg) == CONNECTION_OK;
}

int vsql_reconnect(struct vsql *db)
{
	if (db->kind == VSQL_SQLITE || PQstatus(db->pg) == CONNECTION_OK)
		return 0;
	PQreset(db->pg);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		set_err(db, PQerrorMessage(db->pg));
		return -ENOTCONN;
	}
	/* a new backend: the session settings are gone with the old one */
	return pg_session(db) ? -ENOTCONN : 0;
}

/* INSERT/UPDATE/DELETE (and MERGE) only, as sqlite3_changes() counts */
static void pg_note_changes(struct vsql *db, PGresult *res)
{
	const char *tag = PQcmdStatus(res);

	if (!strncmp(tag, "INSERT ", 7) || !strncmp(tag, "UPDATE ", 7) ||
	    !strncmp(tag, "DELETE ", 7) || !strncmp(tag, "MERGE ", 6))
		db->changes = strtoll(PQcmdTuples(res), NULL, 10);
}

int vsql_exec(struct vsql *db, const char *sql)
{
	PGresult *res;
	char *err = NULL;
	int rc;

	if (db->kind == VSQL_SQLITE) {
		rc = sqlite3_exec(db->lite, sql, NULL, NULL, &err);
		if (rc == SQLITE_OK)
			return 0;
		rc = lite_err(db, rc);
		if (err)
			set_err(db, err);
		sqlite3_free(err);
		return rc;
	}
	if (PQstatus(db->pg) != CONNECTION_OK) {
		set_err(db, "the connection to the database is lost");
		return -ENOTCONN;
	}
	if (PQtransactionStatus(db->pg) == PQTRANS_IDLE)
		db->tx_rc = 0;
	/*
	 * COMMIT of a transaction a statement aborted: PostgreSQL rolls back
	 * and says "ROLLBACK", no error; the caller gets that statement's
	 * error, as SQLite's COMMIT would have had nothing to commit either
	 */
	if (!strcasecmp(sql, "COMMIT") && PQtransactionStatus(db->pg) == PQTRANS_INERROR) {
		rc = db->tx_rc ? db->tx_rc : -EIO;
		snprintf(db->err, sizeof(db->err), "the transaction failed: %.480s",
			 db->tx_rc ? db->tx_err : "an earlier statement failed");
		pg_cmd(db, "ROLLBACK");
		db->tx_rc = 0;
		return rc;
	}
	/* the simple query protocol: several ;-separated statements, the last result */
	res = PQexec(db->pg, sql);
	if (res && (PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_EMPTY_QUERY)) {
		pg_note_changes(db, res);
		PQclear(res);
		return 0;
	}
	rc = pg_err(db, res);
	PQclear(res);
	return rc;
}

bool vsql_in_tx(struct vsql *db)
{
	if (db->kind == VSQL_SQLITE)
		return !sqlite3_get_autocommit(db->lite);
	switch (PQtransactionStatus(db->pg)) {
	case PQTRANS_ACTIVE:
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:	/* failed, still to be rolled back */
		return true;
	default:
		return false;
	}
}

int64_t vsql_changes(struct vsql *db)
{
	return db->kind == VSQL_SQLITE ? sqlite3_changes64(db->lite) : db->changes;
}

/* ---- parameters ---- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static bool sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 64) * 2;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p)
			return false;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

/* the length of the quoted run at s (s[0] the quote): to its closing quote or the end */
static size_t quoted_len(const char *s, char q)
{
	size_t i = 1;

	for (;;) {
		if (!s[i])
			return i;
		if (s[i++] == q) {
			/* '' (or "") is the quote itself, not the end */
			if (s[i] != q)
				return i;
			i++;
		}
	}
}

/* (*used)[v - 1] = true, *used grown to *n >= v flags: false if out of memory */
static bool mark_used(bool **used, int *n, long v)
{
	bool *p;

	if (v > *n) {
		p = realloc(*used, v * sizeof(*p));
		if (!p)
			return false;
		memset(p + *n, 0, (v - *n) * sizeof(*p));
		*used = p;
		*n = (int)v;
	}
	(*used)[v - 1] = true;
	return true;
}

/* vsql_pg_params(); *used (if not NULL) gets the numbers sql refers to,
 * flags of 1..*nused (malloc'ed, NULL if none) */
static char *pg_params(const char *sql, int *nparams, bool **used, int *nused)
{
	struct sbuf b = { 0 };
	const char *p = sql;
	int max = 0;

	if (!sb_put(&b, "", 0))
		return NULL;
	while (*p) {
		size_t n = 0;

		if (*p == '\'' || *p == '"') {
			n = quoted_len(p, *p);
		} else if (p[0] == '-' && p[1] == '-') {
			n = strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			n = end ? (size_t)(end + 2 - p) : strlen(p);
		} else if (*p == '?') {
			char num[24];
			long v = 0;

			p++;
			if (isdigit((unsigned char)*p)) {
				/* ?N: SQLite's explicit number (capped: too big fails in prepare) */
				while (isdigit((unsigned char)*p)) {
					if (v <= VSQL_MAX_PARAMS)
						v = v * 10 + (*p - '0');
					p++;
				}
			} else {
				/* ?: one past the highest number so far, as SQLite numbers them */
				v = max + 1;
			}
			if (v > max)
				max = (int)v;
			/* beyond the limit the statement fails anyway */
			if (used && v >= 1 && v <= VSQL_MAX_PARAMS && !mark_used(used, nused, v))
				goto nomem;
			snprintf(num, sizeof(num), "$%ld", v);
			if (!sb_put(&b, num, strlen(num)))
				goto nomem;
			continue;
		} else {
			/* a run of plain text up to the next character of interest */
			n = strcspn(p + 1, "'\"-/?") + 1;
		}
		if (!sb_put(&b, p, n))
			goto nomem;
		p += n;
	}
	if (nparams)
		*nparams = max;
	return b.s;
nomem:
	free(b.s);
	if (used) {
		free(*used);
		*used = NULL;
	}
	return NULL;
}

char *vsql_pg_params(const char *sql, int *nparams)
{
	return pg_params(sql, nparams, NULL, NULL);
}

/*
 * A parameter the SQL does not refer to (?1 and ?3 only, with 2 bound as
 * SQLite allows) would fail as "could not determine data type of
 * parameter $2": it is sent as text, which nothing reads.
 */
static int pg_types(struct vsql_st *st, const bool *used, int nused)
{
	int i;

	for (i = 0; i < st->nparams && i < nused && used[i]; i++)
		;
	if (i == st->nparams)
		return 0;
	st->types = calloc(st->nparams, sizeof(*st->types));
	if (!st->types)
		return -ENOMEM;
	for (i = 0; i < st->nparams; i++)
		st->types[i] = i < nused && used[i] ? 0 : PG_TEXTOID;
	return 0;
}

/* ---- statements ---- */

int vsql_prepare(struct vsql *db, const char *sql, struct vsql_st **stp)
{
	struct vsql_st *st;
	bool *used = NULL;
	int rc, nused = 0;

	*stp = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		goto nomem;
	st->db = db;
	st->row = -1;
	if (db->kind == VSQL_SQLITE) {
		rc = sqlite3_prepare_v2(db->lite, sql, -1, &st->lite, NULL);
		if (rc != SQLITE_OK) {
			free(st);
			return lite_err(db, rc);
		}
		if (!st->lite) {
			/* only blanks or comments: nothing to step */
			free(st);
			set_err(db, "empty statement");
			return -EINVAL;
		}
		*stp = st;
		return 0;
	}
	/* PostgreSQL: nothing reaches the server before the first step */
	st->sql = pg_params(sql, &st->nparams, &used, &nused);
	if (!st->sql)
		goto nomem;
	if (st->nparams > VSQL_MAX_PARAMS) {
		free(used);
		set_err(db, "too many SQL variables");
		vsql_finalize(st);
		return -EINVAL;
	}
	if (st->nparams) {
		st->vals = calloc(st->nparams, sizeof(*st->vals));
		if (!st->vals || pg_types(st, used, nused))
			goto nomem;
	}
	free(used);
	*stp = st;
	return 0;
nomem:
	free(used);
	vsql_finalize(st);
	set_err(db, "out of memory");
	return -ENOMEM;
}

int vsql_finalize(struct vsql_st *st)
{
	int i;

	if (!st)
		return 0;
	sqlite3_finalize(st->lite);
	PQclear(st->res);
	for (i = 0; st->vals && i < st->nparams; i++)
		free(st->vals[i]);
	free(st->vals);
	free(st->types);
	free(st->sql);
	free(st);
	return 0;
}

/* PostgreSQL: parameter i takes the text v (copied; NULL = SQL NULL) */
static int pg_bind(struct vsql_st *st, int i, const char *v)
{
	char *copy;

	if (i < 1 || i > st->nparams) {
		/* SQLite's words for SQLITE_RANGE */
		set_err(st->db, "column index out of range");
		return -EINVAL;
	}
	copy = v ? strdup(v) : NULL;
	if (v && !copy) {
		set_err(st->db, "out of memory");
		return -ENOMEM;
	}
	free(st->vals[i - 1]);
	st->vals[i - 1] = copy;
	return 0;
}

static int lite_bind_rc(struct vsql_st *st, int rc)
{
	return rc == SQLITE_OK ? 0 : lite_err(st->db, rc);
}

int vsql_bind_int64(struct vsql_st *st, int i, int64_t v)
{
	char buf[32];

	if (st->lite)
		return lite_bind_rc(st, sqlite3_bind_int64(st->lite, i, v));
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return pg_bind(st, i, buf);
}

int vsql_bind_double(struct vsql_st *st, int i, double v)
{
	char buf[40];

	if (st->lite)
		return lite_bind_rc(st, sqlite3_bind_double(st->lite, i, v));
	/* 17 digits: the double comes back exactly (float8in reads inf/nan too) */
	snprintf(buf, sizeof(buf), "%.17g", v);
	return pg_bind(st, i, buf);
}

int vsql_bind_text(struct vsql_st *st, int i, const char *s)
{
	if (st->lite)
		return lite_bind_rc(st, s ? sqlite3_bind_text(st->lite, i, s, -1, SQLITE_TRANSIENT)
					  : sqlite3_bind_null(st->lite, i));
	return pg_bind(st, i, s);
}

int vsql_bind_null(struct vsql_st *st, int i)
{
	if (st->lite)
		return lite_bind_rc(st, sqlite3_bind_null(st->lite, i));
	return pg_bind(st, i, NULL);
}

static int pg_run(struct vsql_st *st)
{
	struct vsql *db = st->db;
	PGresult *res;
	int rc;

	if (PQstatus(db->pg) != CONNECTION_OK) {
		set_err(db, "the connection to the database is lost");
		return -ENOTCONN;
	}
	/* text parameters; their types the server infers from the SQL */
	res = PQexecParams(db->pg, st->sql, st->nparams, st->types,
			   (const char *const *)st->vals, NULL, NULL, 0);
	if (res && (PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK)) {
		pg_note_changes(db, res);
		st->res = res;
		st->row = -1;
		return 0;
	}
	if (res && PQresultStatus(res) == PGRES_EMPTY_QUERY) {
		PQclear(res);
		set_err(db, "empty statement");
		return -EINVAL;
	}
	rc = pg_err(db, res);
	PQclear(res);
	return rc;
}

int vsql_step(struct vsql_st *st)
{
	int rc;

	if (st->lite) {
		rc = sqlite3_step(st->lite);
		if (rc == SQLITE_ROW)
			return VSQL_ROW;
		if (rc == SQLITE_DONE)
			return VSQL_DONE;
		return lite_err(st->db, rc);
	}
	if (!st->res) {
		rc = pg_run(st);
		if (rc)
			return rc;
	}
	if (st->row < PQntuples(st->res))
		st->row++;
	return st->row < PQntuples(st->res) ? VSQL_ROW : VSQL_DONE;
}

int vsql_reset(struct vsql_st *st)
{
	if (st->lite) {
		/* sqlite3_reset() repeats the last step's error: that step reported it */
		sqlite3_reset(st->lite);
		return 0;
	}
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	return 0;
}

/* ---- columns ---- */

/* PostgreSQL: the current row has column i */
static bool pg_has(struct vsql_st *st, int i)
{
	return st->res && i >= 0 && i < PQnfields(st->res) &&
	       st->row >= 0 && st->row < PQntuples(st->res);
}

int vsql_column_count(struct vsql_st *st)
{
	if (st->lite)
		return sqlite3_column_count(st->lite);
	/* known once the first step ran the statement */
	return st->res ? PQnfields(st->res) : 0;
}

const char *vsql_column_name(struct vsql_st *st, int i)
{
	if (st->lite)
		return sqlite3_column_name(st->lite, i);
	return st->res && i >= 0 && i < PQnfields(st->res) ? PQfname(st->res, i) : NULL;
}

enum vsql_type vsql_column_type(struct vsql_st *st, int i)
{
	if (st->lite) {
		switch (sqlite3_column_type(st->lite, i)) {
		case SQLITE_INTEGER:
			return VSQL_INTEGER;
		case SQLITE_FLOAT:
			return VSQL_FLOAT;
		case SQLITE_TEXT:
			return VSQL_TEXT;
		case SQLITE_BLOB:
			return VSQL_BLOB;
		default:
			return VSQL_NULL;
		}
	}
	if (!pg_has(st, i) || PQgetisnull(st->res, st->row, i))
		return VSQL_NULL;
	switch (PQftype(st->res, i)) {
	case PG_INT2OID:
	case PG_INT4OID:
	case PG_INT8OID:
	case PG_OIDOID:
	case PG_BOOLOID:	/* SQLite has no boolean: 0 or 1 */
		return VSQL_INTEGER;
	case PG_NUMERICOID:
		/* sum() of integers is a numeric: an integer, as SQLite gives it */
		if (!strpbrk(PQgetvalue(st->res, st->row, i), ".eEN"))
			return VSQL_INTEGER;
		return VSQL_FLOAT;
	case PG_FLOAT4OID:
	case PG_FLOAT8OID:
		return VSQL_FLOAT;
	case PG_BYTEAOID:
		return VSQL_BLOB;
	default:
		return VSQL_TEXT;
	}
}

const char *vsql_column_text(struct vsql_st *st, int i)
{
	const char *v;

	if (st->lite)
		return (const char *)sqlite3_column_text(st->lite, i);
	if (!pg_has(st, i) || PQgetisnull(st->res, st->row, i))
		return NULL;
	v = PQgetvalue(st->res, st->row, i);
	/* a boolean reads as the integer it is typed as (t/f is PostgreSQL's spelling) */
	if (PQftype(st->res, i) == PG_BOOLOID)
		return *v == 't' ? "1" : "0";
	return v;
}

int64_t vsql_column_int64(struct vsql_st *st, int i)
{
	const char *v;

	if (st->lite)
		return sqlite3_column_int64(st->lite, i);
	v = vsql_column_text(st, i);
	if (!v)
		return 0;
	switch (PQftype(st->res, i)) {
	case PG_FLOAT4OID:
	case PG_FLOAT8OID:
	case PG_NUMERICOID:
		/* truncated, as SQLite converts a REAL */
		return (int64_t)strtod(v, NULL);
	default:
		return strtoll(v, NULL, 10);
	}
}

double vsql_column_double(struct vsql_st *st, int i)
{
	const char *v;

	if (st->lite)
		return sqlite3_column_double(st->lite, i);
	v = vsql_column_text(st, i);
	return v ? strtod(v, NULL) : 0.0;
}
