/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded state: one SQLite database (default /var/lib/vnode/state.db), or
 * one PostgreSQL database for a cluster of process hosts ([cluster]
 * database), reached through vsql (vsql.h).  The same schema on both;
 * every row a vnoded owns names its process host (the column host: the
 * kernel's identity, ctx->host), and its queries only see and change its
 * own (components and the reservations on them are shared).
 * Schema version is PRAGMA user_version (SQLite) or vnode_schema
 * (PostgreSQL); vn_db_open() migrates older databases step by step inside
 * one transaction and refuses newer ones.
 */
#ifndef VN_DB_H
#define VN_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "opts.h"
#include "util.h"
#include "vsql.h"

#define VN_DB_VERSION 14

/*
 * Open target (a file path, or a PostgreSQL URI/conninfo: vsql_open),
 * creating the schema if needed, and migrate to VN_DB_VERSION.  SQLite:
 * every row becomes host's (one process host's state; a database from
 * before version 13, or written under another identity), unless host is
 * NULL.  A PostgreSQL server that cannot be reached: -ENOTCONN.
 */
int vn_db_open(const char *target, const char *host, struct vsql **db,
	       struct vn_err *err);
/* Apply migrations up to `to` (tests use it to build old databases). */
int vn_db_migrate(struct vsql *db, int to, struct vn_err *err);
int vn_db_version(struct vsql *db);
/* The first column of the first row of one statement: 0, or -1 when it
 * fails or has no row. */
int vn_db_int(struct vsql *db, const char *sql, int64_t *out);

/* rc, a failed vsql call's: err says why; -ENOTCONN "state database
 * unreachable (...): try again when it is back", -EAGAIN (PostgreSQL: a
 * lost race, run the transaction again), else -EIO. */
int vn_db_err(struct vsql *db, int rc, struct vn_err *err);
int vn_db_exec(struct vsql *db, const char *sql, struct vn_err *err);
/* BEGIN IMMEDIATE (SQLite), BEGIN ISOLATION LEVEL SERIALIZABLE
 * (PostgreSQL: any statement or the COMMIT may then fail with -EAGAIN). */
int vn_db_begin(struct vsql *db, struct vn_err *err);
int vn_db_commit(struct vsql *db, struct vn_err *err);
void vn_db_rollback(struct vsql *db);

/*
 * Append one row to the events table.  type is e.g. "vnode.create",
 * object "vnode"/"component"/"disk"/"daemon", detail a JSON object with
 * the full new state of the object (NULL -> "{}").  Takes no ownership.
 */
int vn_db_event(struct vsql *db, const char *host, const char *type,
		const char *object, const char *name, json_object *detail,
		struct vn_err *err);
/* The same, as ctx's process host. */
struct vn_ctx;
int vn_event(struct vn_ctx *ctx, const char *type, const char *object,
	     const char *name, json_object *detail, struct vn_err *err);

/*
 * Run one statement and return its rows as a JSON array of objects
 * (column name -> typed value).  Binds are strings (NULL-terminated
 * list; NULL entries are allowed only as the terminator).
 */
int vn_db_query_json(struct vsql *db, const char *sql, const char *const *binds,
		     json_object **rows, struct vn_err *err);

/*
 * Limits of one `vnodectl sql` query (0 = none): wall-clock time (a
 * progress handler every 1000 VM steps), rows, SQLite heap on top of what
 * the daemon already uses (sqlite3_hard_heap_limit64 while the query
 * runs), and the size of the JSON result (also the longest string or blob
 * SQLite may build, SQLITE_LIMIT_LENGTH).  Each stops the query with its
 * own message: "sql: interrupted after 2000 ms (time limit)",
 * "sql: stopped at the row limit 10000 (add a LIMIT)", ...
 */
#define VN_SQL_TIME_MS		2000
#define VN_SQL_MAX_ROWS		10000
#define VN_SQL_MAX_MEM		(64LL << 20)
#define VN_SQL_MAX_JSON		(4U << 20)

struct vn_sql_limits {
	int time_ms;
	int64_t max_rows;
	int64_t max_mem;
	size_t max_json;
};

void vn_sql_limits_default(struct vn_sql_limits *lim);

/*
 * Read-only SQL for `vnodectl sql`: opens its own SQLITE_OPEN_READONLY
 * connection, installs an authorizer that only allows SELECT/READ/
 * FUNCTION, compiles exactly one statement and checks
 * sqlite3_stmt_readonly().  Writes fail with -EPERM and a clear message.
 * lim NULL: the defaults above.  Over a limit: -ETIMEDOUT (time), -E2BIG
 * (rows, JSON), -ENOMEM (memory).  SQLite only (the raw handle of
 * vsql_sqlite()); PostgreSQL will enforce the same rules with a
 * read-only role (not done yet).
 */
int vn_sql_readonly(const char *dbpath, const char *sql, const struct vn_sql_limits *lim,
		    json_object **rows, struct vn_err *err);
/* Same check on an open connection (unit tests). */
int vn_sql_readonly_db(struct vsql *db, const char *sql, const struct vn_sql_limits *lim,
		       json_object **rows, struct vn_err *err);

/*
 * The daemon's queries, on its context's connection (ctx->db).  Every SQL
 * statement of components, placement, vNodes and reconciliation is here;
 * volumes (volume.c) and fabric links (fabric_link.c) keep theirs.
 */
struct vn_ctx;
struct vn_conf_comp;
struct vn_vnode_req;

/* The connection is up (SQLite: always), or opened again: 0; else
 * -ENOTCONN "state database unreachable (...): try again when it is back".
 * Logs once when it is lost and once when it is back. */
int vn_db_reach(struct vn_ctx *ctx, struct vn_err *err);
/* First row of a query as a JSON object, or NULL (*out) if none. */
int vn_q_one(struct vn_ctx *ctx, const char *sql, const char *const *binds,
	     json_object **out, struct vn_err *err);
/* Members of a row: 0 / NULL when absent. */
int64_t vn_jint(json_object *o, const char *key);
const char *vn_jstr(json_object *o, const char *key);
/* Step a prepared statement to completion and finalize it (a constraint
 * failure is -EEXIST). */
int vn_step_done(struct vn_ctx *ctx, struct vsql_st *st, struct vn_err *err);
int vn_prep(struct vn_ctx *ctx, const char *sql, struct vsql_st **st,
	    struct vn_err *err);
/* One component / vNode row by name; -ENOENT "unknown ..." if none. */
int vn_get_component(struct vn_ctx *ctx, const char *name, json_object **out,
		     struct vn_err *err);
int vn_get_vnode(struct vn_ctx *ctx, const char *name, json_object **out,
		 struct vn_err *err);
/* Whether a row of table (vnodes, volumes) named name belongs to another
 * process host (names are unique in the cluster): 1 and its host, or 0. */
int vn_db_name_elsewhere(struct vn_ctx *ctx, const char *table, const char *name,
			 char *host, size_t len);

/* components */
bool vn_db_comp_exists(struct vn_ctx *ctx, const char *name);
int vn_db_comp_insert(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		      const char *source, struct vn_err *err);
int vn_db_comp_delete(struct vn_ctx *ctx, int64_t id, struct vn_err *err);
/* A probe's outcome (last_error NULL when it is up; op_rtt_ns <= 0: the
 * last known one stays); -errno only if the statement could not be
 * prepared. */
int vn_db_comp_set_probe(struct vn_ctx *ctx, int64_t id, const char *state,
			  int64_t capacity, int64_t used, int slab_shift,
			  int64_t op_rtt_ns, const char *last_error);
/* Allocations and volumes that name component id. */
int vn_db_comp_users(struct vn_ctx *ctx, int64_t id);
/* Bytes reserved on component id; 0 = *bytes set. */
int vn_db_comp_reserved(struct vn_ctx *ctx, int64_t id, int64_t *bytes);
/* drain: NULL, "draining" or "drained". */
int vn_db_comp_set_drain(struct vn_ctx *ctx, int64_t id, const char *drain,
			 struct vn_err *err);
/* The reservations held on component id: vnode_id, name, bytes, quota. */
int vn_db_comp_allocs(struct vn_ctx *ctx, int64_t id, json_object **rows,
		      struct vn_err *err);
/* Bytes vNode vnode_id holds on component comp_id. */
int64_t vn_db_alloc_bytes(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id);
/* Reserve bytes more for vnode_id on comp_id (one row per pair). */
int vn_db_alloc_add(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id,
		    uint64_t bytes, struct vn_err *err);
/* Forget every reservation on comp_id. */
int vn_db_alloc_drop_comp(struct vn_ctx *ctx, int64_t comp_id,
			  struct vn_err *err);
/* All components with their reserved bytes, by name. */
int vn_db_comp_list(struct vn_ctx *ctx, json_object **rows,
		    struct vn_err *err);
/* Components that came from cluster.conf. */
int vn_db_comp_from_config(struct vn_ctx *ctx, json_object **rows,
			   struct vn_err *err);
/* Memory hosts by name; with_reserved adds each one's reserved bytes. */
int vn_db_memory_hosts(struct vn_ctx *ctx, bool with_reserved,
		       json_object **rows, struct vn_err *err);
/* The memory hosts where some vNode holds bytes (lease.c): component
 * rows with nr_vnodes and bytes, by name. */
int vn_db_lease_hosts(struct vn_ctx *ctx, json_object **rows,
		      struct vn_err *err);
/* The memory hosts where vNode vnode_id holds bytes: component rows with
 * bytes, by name. */
int vn_db_vnode_hosts(struct vn_ctx *ctx, int64_t vnode_id, json_object **rows,
		      struct vn_err *err);

/* releases of leases that failed (lease.c), one row per memory host and
 * vNode name */
/* Keep one (why: the error; lease_id: vn_lease_id() of vnode): a new row
 * since now, an existing one gets the new error. */
int vn_db_release_add(struct vn_ctx *ctx, int64_t comp_id, const char *vnode,
		      uint64_t lease_id, const char *why, struct vn_err *err);
/* No longer pending: released, or reserved again for a vNode of the same
 * name. */
int vn_db_release_del(struct vn_ctx *ctx, int64_t comp_id, const char *vnode,
		      struct vn_err *err);
/* The memory hosts with releases pending: component rows, by name. */
int vn_db_release_hosts(struct vn_ctx *ctx, json_object **rows,
			struct vn_err *err);
/* The releases pending on comp_id: the vNode's name, and vnode_id of the
 * vNode of that name that exists now (NULL: none), by name. */
int vn_db_releases(struct vn_ctx *ctx, int64_t comp_id, json_object **rows,
		   struct vn_err *err);

/* vNodes */
/* Sum of this host's vNodes' remote quotas (mem - cache): they share its
 * swap disk. */
int64_t vn_db_quota_total(struct vn_ctx *ctx);
/* replicas and protect: what the vNode gets (the request's or the
 * cluster's) */
int vn_db_vnode_insert(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		       int replicas, enum vn_protect protect, uid_t owner,
		       uint64_t cgid, int64_t *id, struct vn_err *err);
int vn_db_alloc_insert(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id,
		       uint64_t bytes, struct vn_err *err);
int vn_db_vnode_delete(struct vn_ctx *ctx, int64_t id, struct vn_err *err);
/* The vNode's own eviction headroom (evict.h). */
int vn_db_vnode_set_headroom(struct vn_ctx *ctx, int64_t id, int64_t headroom,
			     struct vn_err *err);
/* Whether the vNode's swap-ins are prefetched (vnodes.prefetch). */
int vn_db_vnode_set_prefetch(struct vn_ctx *ctx, int64_t id, bool on,
			     struct vn_err *err);
/* The vNode's memory protection profile (vnodes.protect). */
int vn_db_vnode_set_protect(struct vn_ctx *ctx, int64_t id, enum vn_protect p,
			    struct vn_err *err);
/* detail.total of the last event `type` of vNode name (since its
 * vnode.create), 0 if it has none (the protect counters' events:
 * reconcile.c). */
int64_t vn_db_vnode_event_total(struct vn_ctx *ctx, const char *name,
				const char *type);
/* Every vNode row, by name. */
int vn_db_vnode_list(struct vn_ctx *ctx, json_object **rows,
		     struct vn_err *err);
/* name, mem, cache, prefetch of every vNode, by name (vnode top). */
int vn_db_vnode_sizes(struct vn_ctx *ctx, json_object **rows,
		      struct vn_err *err);
/* {host, addr, bytes} of a vNode's allocations, by host. */
int vn_db_vnode_allocs(struct vn_ctx *ctx, int64_t id, json_object **rows);
/* -errno only if the statement could not be prepared. */
int vn_db_vnode_set_state(struct vn_ctx *ctx, int64_t id, const char *state);
void vn_db_vnode_set_cgid(struct vn_ctx *ctx, int64_t id, uint64_t cgid);

/* vnodectl explore's rows (explore.record: args checked by the handler)
 * into explore_runs, in one transaction; a row the table's checks refuse
 * is -EINVAL and nothing is kept. */
int vn_db_explore_insert(struct vn_ctx *ctx, json_object *args, uid_t owner,
			 struct vn_err *err);

#endif /* VN_DB_H */
