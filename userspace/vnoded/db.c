// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <sqlite3.h>

#include "db.h"
#include "vnoded.h"

/*
 * Migration N takes the database from version N-1 to N.  Never edit a
 * step once released; add a new one.
 *
 * Each step is a pair: the change in SQLite's SQL and in PostgreSQL's.
 * PostgreSQL came with version 13: a new PostgreSQL database gets
 * pg_schema (the whole schema of version VN_DB_PG_BASE) at once, so the
 * steps up to it have no PostgreSQL text; every step after it has both
 * (the same tables and columns: INTEGER is BIGINT there, REAL DOUBLE
 * PRECISION, an INTEGER PRIMARY KEY an identity column, 0/1 flags stay
 * integers with their CHECKs).
 */
struct vn_migration {
	const char *sqlite;
	const char *pg;
};

#define VN_DB_PG_BASE 13

/* explore_runs' columns but host, as step 11 made them (step 14 adds host) */
#define EXPLORE_RUNS_COLS \
	"  id INTEGER PRIMARY KEY," \
	"  explore_id TEXT NOT NULL," \
	"  started INTEGER NOT NULL," \
	"  owner_uid INTEGER NOT NULL," \
	"  command TEXT NOT NULL," \
	"  seq INTEGER NOT NULL CHECK (seq >= 1)," \
	"  mem INTEGER NOT NULL CHECK (mem > 0)," \
	"  cache TEXT NOT NULL," \
	"  cache_bytes INTEGER NOT NULL CHECK (cache_bytes >= 0)," \
	"  protect TEXT NOT NULL CHECK (protect IN ('none', 'crc', 'aead'))," \
	"  replicas INTEGER CHECK (replicas IS NULL OR replicas BETWEEN 1 AND 2)," \
	"  storage INTEGER CHECK (storage IS NULL OR storage > 0)," \
	"  storage_protect TEXT CHECK (storage_protect IS NULL OR" \
	"    storage_protect IN ('none', 'integrity', 'crypt'))," \
	"  budget REAL NOT NULL," \
	"  metric_regex TEXT," \
	"  seconds REAL," \
	"  metric REAL," \
	"  slowdown REAL," \
	"  rank INTEGER NOT NULL CHECK (rank >= 0)," \
	"  recommended INTEGER NOT NULL CHECK (recommended IN (0, 1))," \
	"  ok INTEGER NOT NULL CHECK (ok IN (0, 1))," \
	"  exit INTEGER NOT NULL,"

static const struct vn_migration migrations[] = {
	{ NULL, NULL },
	/* 1: base schema */
	{ .sqlite =
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
	  "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;" },
	/* 2: storage volumes (used later) and throw-away vNodes */
	{ .sqlite =
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
	  "ALTER TABLE vnodes ADD COLUMN creator_pid INTEGER NOT NULL DEFAULT 0;" },
	/*
	 * 3: vNode volumes in use.  The v2 placeholder had no constraints
	 * worth keeping, so the table is rebuilt (SQLite cannot add CHECKs):
	 * one volume per vNode, an owner, the keep flag, the attached disk.
	 */
	{ .sqlite =
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
	  "ALTER TABLE volumes_v3 RENAME TO volumes;" },
	/*
	 * 4: a volume whose data is gone from its storage host is 'lost'
	 * (kept so, never replaced by an empty one); volume_id is the id
	 * vnode_stor gave its data, which a re-open must find again.
	 */
	{ .sqlite =
	  "CREATE TABLE volumes_v4 ("
	  "  id INTEGER PRIMARY KEY,"
	  "  name TEXT NOT NULL UNIQUE,"
	  "  component_id INTEGER NOT NULL REFERENCES components(id),"
	  "  size INTEGER NOT NULL CHECK (size > 0),"
	  "  vnode_id INTEGER UNIQUE REFERENCES vnodes(id) ON DELETE SET NULL,"
	  "  mountpoint TEXT,"
	  "  state TEXT NOT NULL DEFAULT 'detached'"
	  "    CHECK (state IN ('attached', 'detached', 'deleting', 'broken', 'lost')),"
	  "  created INTEGER NOT NULL,"
	  "  owner_uid INTEGER NOT NULL DEFAULT 0,"
	  "  keep INTEGER NOT NULL DEFAULT 0 CHECK (keep IN (0, 1)),"
	  "  dev TEXT,"
	  "  fs TEXT,"
	  "  last_error TEXT,"
	  "  volume_id TEXT);"
	  "INSERT INTO volumes_v4 (id, name, component_id, size, vnode_id, mountpoint, state,"
	  "    created, owner_uid, keep, dev, fs, last_error)"
	  "  SELECT id, name, component_id, size, vnode_id, mountpoint, state,"
	  "    created, owner_uid, keep, dev, fs, last_error FROM volumes;"
	  "DROP TABLE volumes;"
	  "ALTER TABLE volumes_v4 RENAME TO volumes;" },
	/* 5: a memory host being emptied for maintenance, or emptied */
	{ .sqlite =
	  "ALTER TABLE components ADD COLUMN drain TEXT"
	  "  CHECK (drain IS NULL OR drain IN ('draining', 'drained'));" },
	/* 6: the vNode's eviction headroom: NULL = the cluster's, -1 auto,
	 * 0 off, else bytes */
	{ .sqlite =
	  "ALTER TABLE vnodes ADD COLUMN headroom INTEGER"
	  "  CHECK (headroom IS NULL OR headroom >= -1);" },
	/*
	 * 7: fabric emulation (fabric.h): the probe's STATS round trip of a
	 * memory host (NULL: not known), and one link per remote host, by
	 * address: what was asked (a preset's name and target, or a raw
	 * delay; the rest either way), the floor it was computed against and
	 * what the kernel's link got
	 */
	{ .sqlite =
	  "ALTER TABLE components ADD COLUMN op_rtt_ns INTEGER"
	  "  CHECK (op_rtt_ns IS NULL OR op_rtt_ns > 0);"
	  "CREATE TABLE fabric_links ("
	  "  id INTEGER PRIMARY KEY,"
	  "  addr TEXT NOT NULL UNIQUE,"
	  "  preset TEXT,"
	  "  target_ns INTEGER CHECK (target_ns IS NULL OR target_ns > 0),"
	  "  delay_ns INTEGER NOT NULL DEFAULT 0 CHECK (delay_ns >= 0),"
	  "  per_kib_ns INTEGER NOT NULL DEFAULT 0 CHECK (per_kib_ns >= 0),"
	  "  jitter_ns INTEGER NOT NULL DEFAULT 0 CHECK (jitter_ns >= 0),"
	  "  jitter_dist TEXT NOT NULL DEFAULT 'uniform'"
	  "    CHECK (jitter_dist IN ('uniform', 'normal')),"
	  "  read_bps INTEGER NOT NULL DEFAULT 0 CHECK (read_bps >= 0),"
	  "  write_bps INTEGER NOT NULL DEFAULT 0 CHECK (write_bps >= 0),"
	  "  floor_ns INTEGER CHECK (floor_ns IS NULL OR floor_ns > 0),"
	  "  floor_src TEXT CHECK (floor_src IS NULL OR floor_src IN ('link', 'probe')),"
	  "  link_delay_us INTEGER NOT NULL DEFAULT 0,"
	  "  link_per_kib_ns INTEGER NOT NULL DEFAULT 0,"
	  "  created INTEGER NOT NULL,"
	  "  updated INTEGER NOT NULL,"
	  "  CHECK ((preset IS NULL) = (target_ns IS NULL)));" },
	/* 8: prefetching of the vNode's swap-ins (vnode_proc's
	 * vnodes/<name>/prefetch), off for the old rows */
	{ .sqlite =
	  "ALTER TABLE vnodes ADD COLUMN prefetch INTEGER NOT NULL DEFAULT 0"
	  "  CHECK (prefetch IN (0, 1));" },
	/* 9: the vNode's memory protection profile (vnode_proc's
	 * vnodes/<name>/protect), none for the old rows */
	{ .sqlite =
	  "ALTER TABLE vnodes ADD COLUMN protect TEXT NOT NULL DEFAULT 'none'"
	  "  CHECK (protect IN ('none', 'crc', 'aead'));" },
	/* 10: a volume's protection profile (dm-integrity, dm-crypt under
	 * its file system: volume.h), none for the old rows */
	{ .sqlite =
	  "ALTER TABLE volumes ADD COLUMN protect TEXT NOT NULL DEFAULT 'none'"
	  "  CHECK (protect IN ('none', 'integrity', 'crypt'));" },
	/* 11: vnodectl explore's results, one row per configuration of an
	 * exploration (explore.record) */
	{ .sqlite =
	  "CREATE TABLE explore_runs ("
	  EXPLORE_RUNS_COLS
	  "  CHECK (ok = 1 OR recommended = 0),"
	  "  UNIQUE (explore_id, seq));"
	  "CREATE INDEX explore_runs_started ON explore_runs (started);" },
	/* 12: the releases of leases that failed (the memory host could not
	 * be reached), tried again by every reconcile until the host answers
	 * (lease.c); since: ms since epoch of the first failure, lease_id
	 * in hex */
	{ .sqlite =
	  "CREATE TABLE lease_releases ("
	  "  component_id INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,"
	  "  vnode TEXT NOT NULL,"
	  "  lease_id TEXT NOT NULL CHECK (length(lease_id) = 16),"
	  "  since INTEGER NOT NULL,"
	  "  last_error TEXT,"
	  "  PRIMARY KEY (component_id, vnode));" },
	/*
	 * 13: one state database for a cluster of process hosts ([cluster]
	 * database): every row a vnoded owns names its process host (its
	 * kernel identity; vn_db_open() gives the rows of a database from
	 * before, host '', to the vnoded that opens it).  A host's fabric
	 * links and its failed lease releases are its own: unique per host
	 * (SQLite rebuilds those two tables for it).  vNode and volume names
	 * stay unique in the cluster; components are shared.
	 */
	{ .sqlite =
	  "ALTER TABLE vnodes ADD COLUMN host TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE volumes ADD COLUMN host TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE events ADD COLUMN host TEXT NOT NULL DEFAULT '';"
	  "ALTER TABLE explore_runs ADD COLUMN host TEXT NOT NULL DEFAULT '';"
	  "CREATE TABLE fabric_links_v13 ("
	  "  id INTEGER PRIMARY KEY,"
	  "  addr TEXT NOT NULL,"
	  "  preset TEXT,"
	  "  target_ns INTEGER CHECK (target_ns IS NULL OR target_ns > 0),"
	  "  delay_ns INTEGER NOT NULL DEFAULT 0 CHECK (delay_ns >= 0),"
	  "  per_kib_ns INTEGER NOT NULL DEFAULT 0 CHECK (per_kib_ns >= 0),"
	  "  jitter_ns INTEGER NOT NULL DEFAULT 0 CHECK (jitter_ns >= 0),"
	  "  jitter_dist TEXT NOT NULL DEFAULT 'uniform'"
	  "    CHECK (jitter_dist IN ('uniform', 'normal')),"
	  "  read_bps INTEGER NOT NULL DEFAULT 0 CHECK (read_bps >= 0),"
	  "  write_bps INTEGER NOT NULL DEFAULT 0 CHECK (write_bps >= 0),"
	  "  floor_ns INTEGER CHECK (floor_ns IS NULL OR floor_ns > 0),"
	  "  floor_src TEXT CHECK (floor_src IS NULL OR floor_src IN ('link', 'probe')),"
	  "  link_delay_us INTEGER NOT NULL DEFAULT 0,"
	  "  link_per_kib_ns INTEGER NOT NULL DEFAULT 0,"
	  "  created INTEGER NOT NULL,"
	  "  updated INTEGER NOT NULL,"
	  "  host TEXT NOT NULL DEFAULT '',"
	  "  CHECK ((preset IS NULL) = (target_ns IS NULL)),"
	  "  UNIQUE (host, addr));"
	  "INSERT INTO fabric_links_v13 (id, addr, preset, target_ns, delay_ns, per_kib_ns,"
	  "    jitter_ns, jitter_dist, read_bps, write_bps, floor_ns, floor_src, link_delay_us,"
	  "    link_per_kib_ns, created, updated)"
	  "  SELECT id, addr, preset, target_ns, delay_ns, per_kib_ns, jitter_ns, jitter_dist,"
	  "    read_bps, write_bps, floor_ns, floor_src, link_delay_us, link_per_kib_ns,"
	  "    created, updated FROM fabric_links;"
	  "DROP TABLE fabric_links;"
	  "ALTER TABLE fabric_links_v13 RENAME TO fabric_links;"
	  "CREATE TABLE lease_releases_v13 ("
	  "  component_id INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,"
	  "  vnode TEXT NOT NULL,"
	  "  lease_id TEXT NOT NULL CHECK (length(lease_id) = 16),"
	  "  since INTEGER NOT NULL,"
	  "  last_error TEXT,"
	  "  host TEXT NOT NULL DEFAULT '',"
	  "  PRIMARY KEY (host, component_id, vnode));"
	  "INSERT INTO lease_releases_v13 (component_id, vnode, lease_id, since, last_error)"
	  "  SELECT component_id, vnode, lease_id, since, last_error FROM lease_releases;"
	  "DROP TABLE lease_releases;"
	  "ALTER TABLE lease_releases_v13 RENAME TO lease_releases;"
	  "CREATE INDEX vnodes_host ON vnodes (host);"
	  "CREATE INDEX events_host ON events (host, id);" },
	/*
	 * 14: an exploration's id (a timestamp and vnodectl's pid) is unique
	 * per process host, not in the cluster: two hosts may record the
	 * same one.  SQLite rebuilds the table for it; PostgreSQL swaps the
	 * constraint (pg_schema's, as PostgreSQL named it).
	 */
	{ .sqlite =
	  "CREATE TABLE explore_runs_v14 ("
	  EXPLORE_RUNS_COLS
	  "  host TEXT NOT NULL DEFAULT '',"
	  "  CHECK (ok = 1 OR recommended = 0),"
	  "  UNIQUE (host, explore_id, seq));"
	  "INSERT INTO explore_runs_v14 SELECT id, explore_id, started, owner_uid, command, seq,"
	  "    mem, cache, cache_bytes, protect, replicas, storage, storage_protect, budget,"
	  "    metric_regex, seconds, metric, slowdown, rank, recommended, ok, exit, host"
	  "  FROM explore_runs;"
	  "DROP TABLE explore_runs;"
	  "ALTER TABLE explore_runs_v14 RENAME TO explore_runs;"
	  "CREATE INDEX explore_runs_started ON explore_runs (started);",
	  .pg =
	  "ALTER TABLE explore_runs DROP CONSTRAINT explore_runs_explore_id_seq_key;"
	  "ALTER TABLE explore_runs ADD CONSTRAINT explore_runs_host_explore_id_seq_key"
	  "  UNIQUE (host, explore_id, seq);" },
};

#define VN_NR_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])) - 1)

/*
 * PostgreSQL's schema of version VN_DB_PG_BASE, the same tables and
 * columns as SQLite's after migration 13 (in the same order), in
 * PostgreSQL's types; the version in vnode_schema, one row.  The events'
 * append-only rule is a trigger function.
 */
static const char pg_schema[] =
	"CREATE TABLE components ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('memory','storage')),"
	"  addr TEXT NOT NULL,"
	"  port BIGINT NOT NULL CHECK (port BETWEEN 1 AND 65535),"
	"  source TEXT NOT NULL DEFAULT 'cli',"
	"  state TEXT NOT NULL DEFAULT 'unknown',"
	"  capacity BIGINT NOT NULL DEFAULT 0,"
	"  used BIGINT NOT NULL DEFAULT 0,"
	"  slab_shift BIGINT NOT NULL DEFAULT 0,"
	"  last_probe BIGINT,"
	"  last_error TEXT,"
	"  created BIGINT NOT NULL,"
	"  drain TEXT CHECK (drain IS NULL OR drain IN ('draining', 'drained')),"
	"  op_rtt_ns BIGINT CHECK (op_rtt_ns IS NULL OR op_rtt_ns > 0),"
	"  UNIQUE (addr, port));"
	"CREATE TABLE vnodes ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  mem BIGINT NOT NULL CHECK (mem > 0),"
	"  cache BIGINT NOT NULL CHECK (cache > 0 AND cache <= mem),"
	"  replicas BIGINT NOT NULL CHECK (replicas IN (1,2)),"
	"  cpus TEXT,"
	"  owner_uid BIGINT NOT NULL,"
	"  cgroup TEXT NOT NULL,"
	"  cgroup_id BIGINT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'active',"
	"  created BIGINT NOT NULL,"
	"  ephemeral BIGINT NOT NULL DEFAULT 0,"
	"  creator_pid BIGINT NOT NULL DEFAULT 0,"
	"  headroom BIGINT CHECK (headroom IS NULL OR headroom >= -1),"
	"  prefetch BIGINT NOT NULL DEFAULT 0 CHECK (prefetch IN (0, 1)),"
	"  protect TEXT NOT NULL DEFAULT 'none' CHECK (protect IN ('none', 'crc', 'aead')),"
	"  host TEXT NOT NULL);"
	"CREATE INDEX vnodes_host ON vnodes (host);"
	"CREATE TABLE allocations ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  vnode_id BIGINT NOT NULL REFERENCES vnodes(id) ON DELETE CASCADE,"
	"  component_id BIGINT NOT NULL REFERENCES components(id),"
	"  bytes BIGINT NOT NULL CHECK (bytes >= 0));"
	"CREATE TABLE events ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  ts BIGINT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  name TEXT,"
	"  detail TEXT NOT NULL DEFAULT '{}',"
	"  host TEXT NOT NULL);"
	"CREATE INDEX events_name ON events (object, name, ts);"
	"CREATE INDEX events_host ON events (host, id);"
	/* append-only: as SQLite's RAISE(ABORT), a constraint error */
	"CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	"  $$BEGIN RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation'; END$$;"
	"CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events"
	"  FOR EACH ROW EXECUTE FUNCTION events_append_only();"
	"CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
	"  FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();"
	"CREATE TABLE volumes ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  component_id BIGINT NOT NULL REFERENCES components(id),"
	"  size BIGINT NOT NULL CHECK (size > 0),"
	"  vnode_id BIGINT UNIQUE REFERENCES vnodes(id) ON DELETE SET NULL,"
	"  mountpoint TEXT,"
	"  state TEXT NOT NULL DEFAULT 'detached'"
	"    CHECK (state IN ('attached', 'detached', 'deleting', 'broken', 'lost')),"
	"  created BIGINT NOT NULL,"
	"  owner_uid BIGINT NOT NULL DEFAULT 0,"
	"  keep BIGINT NOT NULL DEFAULT 0 CHECK (keep IN (0, 1)),"
	"  dev TEXT,"
	"  fs TEXT,"
	"  last_error TEXT,"
	"  volume_id TEXT,"
	"  protect TEXT NOT NULL DEFAULT 'none' CHECK (protect IN ('none', 'integrity', 'crypt')),"
	"  host TEXT NOT NULL);"
	"CREATE TABLE fabric_links ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  addr TEXT NOT NULL,"
	"  preset TEXT,"
	"  target_ns BIGINT CHECK (target_ns IS NULL OR target_ns > 0),"
	"  delay_ns BIGINT NOT NULL DEFAULT 0 CHECK (delay_ns >= 0),"
	"  per_kib_ns BIGINT NOT NULL DEFAULT 0 CHECK (per_kib_ns >= 0),"
	"  jitter_ns BIGINT NOT NULL DEFAULT 0 CHECK (jitter_ns >= 0),"
	"  jitter_dist TEXT NOT NULL DEFAULT 'uniform'"
	"    CHECK (jitter_dist IN ('uniform', 'normal')),"
	"  read_bps BIGINT NOT NULL DEFAULT 0 CHECK (read_bps >= 0),"
	"  write_bps BIGINT NOT NULL DEFAULT 0 CHECK (write_bps >= 0),"
	"  floor_ns BIGINT CHECK (floor_ns IS NULL OR floor_ns > 0),"
	"  floor_src TEXT CHECK (floor_src IS NULL OR floor_src IN ('link', 'probe')),"
	"  link_delay_us BIGINT NOT NULL DEFAULT 0,"
	"  link_per_kib_ns BIGINT NOT NULL DEFAULT 0,"
	"  created BIGINT NOT NULL,"
	"  updated BIGINT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  CHECK ((preset IS NULL) = (target_ns IS NULL)),"
	"  UNIQUE (host, addr));"
	"CREATE TABLE explore_runs ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  explore_id TEXT NOT NULL,"
	"  started BIGINT NOT NULL,"
	"  owner_uid BIGINT NOT NULL,"
	"  command TEXT NOT NULL,"
	"  seq BIGINT NOT NULL CHECK (seq >= 1),"
	"  mem BIGINT NOT NULL CHECK (mem > 0),"
	"  cache TEXT NOT NULL,"
	"  cache_bytes BIGINT NOT NULL CHECK (cache_bytes >= 0),"
	"  protect TEXT NOT NULL CHECK (protect IN ('none', 'crc', 'aead')),"
	"  replicas BIGINT CHECK (replicas IS NULL OR replicas BETWEEN 1 AND 2),"
	"  storage BIGINT CHECK (storage IS NULL OR storage > 0),"
	"  storage_protect TEXT CHECK (storage_protect IS NULL OR"
	"    storage_protect IN ('none', 'integrity', 'crypt')),"
	"  budget DOUBLE PRECISION NOT NULL,"
	"  metric_regex TEXT,"
	"  seconds DOUBLE PRECISION,"
	"  metric DOUBLE PRECISION,"
	"  slowdown DOUBLE PRECISION,"
	"  rank BIGINT NOT NULL CHECK (rank >= 0),"
	"  recommended BIGINT NOT NULL CHECK (recommended IN (0, 1)),"
	"  ok BIGINT NOT NULL CHECK (ok IN (0, 1)),"
	"  exit BIGINT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  CHECK (ok = 1 OR recommended = 0),"
	"  UNIQUE (explore_id, seq));"
	"CREATE INDEX explore_runs_started ON explore_runs (started);"
	"CREATE TABLE lease_releases ("
	"  component_id BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,"
	"  vnode TEXT NOT NULL,"
	"  lease_id TEXT NOT NULL CHECK (length(lease_id) = 16),"
	"  since BIGINT NOT NULL,"
	"  last_error TEXT,"
	"  host TEXT NOT NULL,"
	"  PRIMARY KEY (host, component_id, vnode));"
	"CREATE TABLE vnode_schema (version INTEGER NOT NULL);";

/* A failed statement's error: a lost connection says so plainly, a lost
 * race is -EAGAIN (run the transaction again), the rest -EIO. */
int vn_db_err(struct vsql *db, int rc, struct vn_err *err)
{
	if (rc == -ENOTCONN)
		return vn_seterr(err, ENOTCONN,
				 "state database unreachable (%s): try again when it is back",
				 vsql_errmsg(db));
	if (rc == -EAGAIN && vsql_kind(db) == VSQL_PG)
		return vn_seterr(err, EAGAIN,
				 "database: %s (another process host changed the same state at once: run the command again)",
				 vsql_errmsg(db));
	vn_seterr(err, EIO, "database: %s", vsql_errmsg(db));
	return -EIO;
}

int vn_db_exec(struct vsql *db, const char *sql, struct vn_err *err)
{
	int rc = vsql_exec(db, sql);

	return rc ? vn_db_err(db, rc, err) : 0;
}

int vn_db_begin(struct vsql *db, struct vn_err *err)
{
	/* PostgreSQL: several process hosts write at once; a transaction
	 * that lost a race fails (-EAGAIN) and is run again */
	return vn_db_exec(db, vsql_kind(db) == VSQL_PG ? "BEGIN ISOLATION LEVEL SERIALIZABLE" :
			  "BEGIN IMMEDIATE", err);
}

int vn_db_commit(struct vsql *db, struct vn_err *err)
{
	return vn_db_exec(db, "COMMIT", err);
}

void vn_db_rollback(struct vsql *db)
{
	if (vsql_in_tx(db))
		vsql_exec(db, "ROLLBACK");
}

int vn_db_int(struct vsql *db, const char *sql, int64_t *out)
{
	struct vsql_st *st;
	int ret = -1;

	if (vsql_prepare(db, sql, &st))
		return -1;
	if (vsql_step(st) == VSQL_ROW) {
		*out = vsql_column_int64(st, 0);
		ret = 0;
	}
	vsql_finalize(st);
	return ret;
}

int vn_db_version(struct vsql *db)
{
	int64_t v;

	if (vsql_kind(db) == VSQL_SQLITE)
		return vn_db_int(db, "PRAGMA user_version", &v) ? -1 : (int)v;
	/* no vnode_schema yet: an empty database */
	if (vn_db_int(db, "SELECT CASE WHEN to_regclass('vnode_schema') IS NULL THEN 0 "
		      "ELSE 1 END", &v))
		return -1;
	if (!v)
		return 0;
	return vn_db_int(db, "SELECT coalesce(max(version), 0) FROM vnode_schema", &v) ?
	       -1 : (int)v;
}

/* Steps v+1..to on PostgreSQL: pg_schema first if the database is empty. */
static int pg_migrate(struct vsql *db, int v, int to, struct vn_err *err)
{
	char sql[96];
	int ret;

	if (!v) {
		if (to < VN_DB_PG_BASE)
			return vn_seterr(err, EINVAL,
					 "PostgreSQL state databases start at schema version %d",
					 VN_DB_PG_BASE);
		ret = vn_db_exec(db, pg_schema, err);
		if (!ret)
			ret = vn_db_exec(db, "INSERT INTO vnode_schema (version) VALUES (0)", err);
		if (ret)
			return ret;
		v = VN_DB_PG_BASE;
	}
	for (v = v + 1; v <= to; v++) {
		ret = vn_db_exec(db, migrations[v].pg, err);
		if (ret)
			return ret;
	}
	snprintf(sql, sizeof(sql), "UPDATE vnode_schema SET version = %d", to);
	return vn_db_exec(db, sql, err);
}

int vn_db_migrate(struct vsql *db, int to, struct vn_err *err)
{
	bool pg = vsql_kind(db) == VSQL_PG;
	int v, ret;
	char sql[64];

	if (to > VN_NR_MIGRATIONS)
		return vn_seterr(err, EINVAL, "no schema version %d", to);
	/*
	 * PostgreSQL: the version is read inside the transaction, under a
	 * lock every vnoded takes first, so two starting at once do not both
	 * create the schema (the second waits, then finds it)
	 */
	if (pg) {
		ret = vn_db_begin(db, err);
		if (!ret)
			ret = vn_db_exec(db, "SELECT pg_advisory_xact_lock(7470013)", err);
		if (ret)
			goto fail;
	}
	v = vn_db_version(db);
	if (v < 0) {
		ret = vn_seterr(err, EIO, "cannot read schema version: %s", vsql_errmsg(db));
		goto fail;
	}
	if (v > VN_DB_VERSION) {
		ret = vn_seterr(err, EPROTO,
				"state database has schema version %d, this vnoded only knows %d (newer vnoded wrote it?)",
				v, VN_DB_VERSION);
		goto fail;
	}
	if (v >= to) {
		if (pg)
			return vn_db_commit(db, err);
		return 0;
	}
	if (pg) {
		ret = pg_migrate(db, v, to, err);
		if (ret)
			goto fail;
		return vn_db_commit(db, err);
	}
	ret = vn_db_begin(db, err);
	if (ret)
		return ret;
	for (v = v + 1; v <= to; v++) {
		ret = vn_db_exec(db, migrations[v].sqlite, err);
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

/* sql with host for ?1: 0, or the error; *n (if not NULL) the first
 * column of its row */
static int host_stmt(struct vsql *db, const char *sql, const char *host,
		     int64_t *n, struct vn_err *err)
{
	struct vsql_st *st;
	int rc;

	rc = vsql_prepare(db, sql, &st);
	if (!rc)
		rc = vsql_bind_text(st, 1, host);
	if (!rc) {
		rc = vsql_step(st);
		if (rc == VSQL_ROW && n)
			*n = vsql_column_int64(st, 0);
		rc = rc == VSQL_ROW || rc == VSQL_DONE ? 0 : rc < 0 ? rc : -EIO;
	}
	vsql_finalize(st);
	return rc ? vn_db_err(db, rc, err) : 0;
}

/*
 * SQLite holds one process host's state: every row is this vnoded's.
 * The rows of a database from before version 13 (host '') and those
 * written under another identity (the kernel's identity changed) become
 * host's, in one transaction.  The events are append-only: their rule is
 * lifted for this one update and put back as it was.
 */
static int claim_rows(struct vsql *db, const char *host, struct vn_err *err)
{
	static const char *const tables[] = {
		"vnodes", "volumes", "fabric_links", "lease_releases", "explore_runs",
	};
	char sql[96];
	int64_t n = 0;
	size_t i;
	int ret;

	ret = vn_db_begin(db, err);
	if (ret)
		return ret;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]) && !ret; i++) {
		snprintf(sql, sizeof(sql), "UPDATE %s SET host = ?1 WHERE host <> ?1", tables[i]);
		ret = host_stmt(db, sql, host, NULL, err);
	}
	if (!ret)
		ret = host_stmt(db, "SELECT count(*) FROM events WHERE host <> ?1", host, &n, err);
	if (!ret && n) {
		ret = vn_db_exec(db, "DROP TRIGGER events_no_update", err);
		if (!ret)
			ret = host_stmt(db, "UPDATE events SET host = ?1 WHERE host <> ?1", host,
					NULL, err);
		if (!ret)
			ret = vn_db_exec(db, "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
					 "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
					 err);
	}
	if (!ret)
		return vn_db_commit(db, err);
	vn_db_rollback(db);
	return ret;
}

int vn_db_open(const char *target, const char *host, struct vsql **dbp,
	       struct vn_err *err)
{
	char msg[VN_ERR_MAX];
	struct vsql *db;
	int ret;

	/* vsql_open() sets the busy timeout */
	ret = vsql_open(target, false, &db, msg, sizeof(msg));
	if (ret == -ENOTCONN)
		return vn_seterr(err, ENOTCONN, "state database unreachable (%s)", msg);
	if (ret)
		return vn_seterr(err, EIO, "cannot open %s: %s", target, msg);
	/* WAL: readers (vnodectl sql) never block the daemon */
	if (vsql_kind(db) == VSQL_SQLITE)
		ret = vn_db_exec(db, "PRAGMA journal_mode = WAL;"
				 "PRAGMA synchronous = NORMAL;"
				 "PRAGMA foreign_keys = ON;", err);
	if (!ret)
		ret = vn_db_migrate(db, VN_DB_VERSION, err);
	if (!ret && host && vsql_kind(db) == VSQL_SQLITE)
		ret = claim_rows(db, host, err);
	if (ret) {
		vsql_close(db);
		return ret;
	}
	*dbp = db;
	return 0;
}

int vn_db_event(struct vsql *db, const char *host, const char *type,
		const char *object, const char *name, json_object *detail,
		struct vn_err *err)
{
	struct vsql_st *st;
	int rc;

	rc = vsql_prepare(db,
		"INSERT INTO events (ts, type, object, name, detail, host) VALUES (?, ?, ?, ?, ?, ?)",
		&st);
	if (rc)
		return vn_db_err(db, rc, err);
	vsql_bind_int64(st, 1, vn_now_ms());
	vsql_bind_text(st, 2, type);
	vsql_bind_text(st, 3, object);
	if (name)
		vsql_bind_text(st, 4, name);
	vsql_bind_text(st, 5, detail ?
		       json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN) :
		       "{}");
	vsql_bind_text(st, 6, host);
	rc = vsql_step(st);
	if (rc != VSQL_DONE)
		rc = vn_db_err(db, rc < 0 ? rc : -EIO, err);
	else
		rc = 0;
	vsql_finalize(st);
	return rc;
}

int vn_event(struct vn_ctx *ctx, const char *type, const char *object,
	     const char *name, json_object *detail, struct vn_err *err)
{
	return vn_db_event(ctx->db, ctx->host, type, object, name, detail, err);
}

static json_object *column_json(struct vsql_st *st, int i)
{
	switch (vsql_column_type(st, i)) {
	case VSQL_INTEGER:
		return json_object_new_int64(vsql_column_int64(st, i));
	case VSQL_FLOAT:
		return json_object_new_double(vsql_column_double(st, i));
	case VSQL_NULL:
		return NULL;
	case VSQL_BLOB:
		return json_object_new_string("<blob>");
	default:
		return json_object_new_string(vsql_column_text(st, i));
	}
}

/* Every row of st as a JSON array of objects. */
static int rows_json(struct vsql *db, struct vsql_st *st, json_object **rows,
		     struct vn_err *err)
{
	json_object *arr = json_object_new_array();
	int rc, i, n = -1;

	while ((rc = vsql_step(st)) == VSQL_ROW) {
		json_object *row = json_object_new_object();

		/* PostgreSQL knows them once the first step ran the statement */
		if (n < 0)
			n = vsql_column_count(st);
		for (i = 0; i < n; i++)
			json_object_object_add(row, vsql_column_name(st, i),
					       column_json(st, i));
		json_object_array_add(arr, row);
	}
	if (rc != VSQL_DONE) {
		json_object_put(arr);
		return vn_db_err(db, rc < 0 ? rc : -EIO, err);
	}
	*rows = arr;
	return 0;
}

int vn_db_query_json(struct vsql *db, const char *sql, const char *const *binds,
		     json_object **rows, struct vn_err *err)
{
	struct vsql_st *st;
	int i, ret;

	ret = vsql_prepare(db, sql, &st);
	if (ret)
		return vn_db_err(db, ret, err);
	for (i = 0; binds && binds[i]; i++)
		vsql_bind_text(st, i + 1, binds[i]);
	ret = rows_json(db, st, rows, err);
	vsql_finalize(st);
	return ret;
}

/*
 * `vnodectl sql`.  SQLite: on the raw handle (vsql_sqlite()), for its
 * authorizer, progress handler, heap limit and SQLITE_LIMIT_LENGTH.
 * PostgreSQL: the read-only role, in a READ ONLY transaction
 * (pg_sql_readonly()).  Both under the same row and JSON limits.
 */

static json_object *ro_column_json(sqlite3_stmt *st, int i)
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

/* What a read-only query is still allowed to produce (NULL: no limits). */
struct rows_cap {
	int64_t max_rows;
	size_t max_json;
	size_t json;		/* bytes so far */
	bool over_rows, over_json;
};

/* Before another row joins arr: false (and over_rows) at the row limit. */
static bool cap_row(struct rows_cap *cap, json_object *arr)
{
	if (cap && cap->max_rows &&
	    (int64_t)json_object_array_length(arr) >= cap->max_rows) {
		cap->over_rows = true;
		return false;
	}
	return true;
}

/* After row joined: false (and over_json) past the JSON limit, counting
 * the row as it goes on the wire, plus its comma. */
static bool cap_json(struct rows_cap *cap, json_object *row)
{
	if (!cap || !cap->max_json)
		return true;
	cap->json += strlen(json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN)) + 1;
	if (cap->json > cap->max_json) {
		cap->over_json = true;
		return false;
	}
	return true;
}

static int ro_rows_json(sqlite3 *db, sqlite3_stmt *st, struct rows_cap *cap,
			json_object **rows, struct vn_err *err)
{
	json_object *arr = json_object_new_array();
	int rc, i, n = sqlite3_column_count(st);

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *row;

		if (!cap_row(cap, arr))
			break;
		row = json_object_new_object();
		for (i = 0; i < n; i++)
			json_object_object_add(row, sqlite3_column_name(st, i),
					       ro_column_json(st, i));
		json_object_array_add(arr, row);
		if (!cap_json(cap, row))
			break;
	}
	if (cap && (cap->over_rows || cap->over_json)) {
		json_object_put(arr);
		return -E2BIG;
	}
	if (rc != SQLITE_DONE) {
		json_object_put(arr);
		return vn_seterr(err, EIO, "database: %s", sqlite3_errmsg(db));
	}
	*rows = arr;
	return 0;
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

/* The progress handler of `vnodectl sql`: stop at the deadline. */
struct sql_watch {
	int64_t deadline_ms;
	bool timed_out;
};

static int sql_progress(void *ud)
{
	struct sql_watch *w = ud;

	if (vn_mono_ms() < w->deadline_ms)
		return 0;
	w->timed_out = true;
	return 1;
}

void vn_sql_limits_default(struct vn_sql_limits *lim)
{
	lim->time_ms = VN_SQL_TIME_MS;
	lim->max_rows = VN_SQL_MAX_ROWS;
	lim->max_mem = VN_SQL_MAX_MEM;
	lim->max_json = VN_SQL_MAX_JSON;
}

/* Step the statement under the limits; errors say which limit stopped it. */
static int sql_run(sqlite3 *db, sqlite3_stmt *st, const struct vn_sql_limits *lim,
		   json_object **rows, struct vn_err *err)
{
	struct rows_cap cap = { .max_rows = lim->max_rows, .max_json = lim->max_json };
	struct sql_watch w = { .deadline_ms = vn_mono_ms() + lim->time_ms };
	sqlite3_int64 old_heap = 0;
	int ret, errc;

	if (lim->time_ms > 0)
		sqlite3_progress_handler(db, 1000, sql_progress, &w);
	/*
	 * The heap limit is process-wide: the daemon's own connection counts
	 * too, so the cap is on top of what SQLite uses now; vnoded is
	 * single-threaded while a request runs, and the old limit comes back.
	 */
	if (lim->max_mem > 0)
		old_heap = sqlite3_hard_heap_limit64(sqlite3_memory_used() + lim->max_mem);
	ret = ro_rows_json(db, st, &cap, rows, err);
	errc = sqlite3_errcode(db);
	if (lim->max_mem > 0)
		sqlite3_hard_heap_limit64(old_heap);
	sqlite3_progress_handler(db, 0, NULL, NULL);
	if (cap.over_rows)
		return vn_seterr(err, E2BIG, "sql: stopped at the row limit %lld (add a LIMIT)",
				 (long long)lim->max_rows);
	if (cap.over_json)
		return vn_seterr(err, E2BIG, "sql: result larger than the limit of %zu bytes of JSON (fewer columns or a LIMIT)",
				 lim->max_json);
	if (ret && w.timed_out)
		return vn_seterr(err, ETIMEDOUT, "sql: interrupted after %d ms (time limit)",
				 lim->time_ms);
	if (ret && (errc == SQLITE_NOMEM || errc == SQLITE_TOOBIG))
		return vn_seterr(err, ENOMEM, "sql: interrupted at the memory limit of %lld %s (%s)",
				 (long long)(lim->max_mem >> (lim->max_mem & 0xfffff ? 10 : 20)),
				 lim->max_mem & 0xfffff ? "KiB" : "MiB", sqlite3_errstr(errc));
	return ret;
}

/* ---- `vnodectl sql` on PostgreSQL ------------------------------------------ */

/*
 * The guard is the read-only role's privileges (SELECT only: docs/
 * userspace.md), and the connection's transactions are READ ONLY on top
 * (vsql_open(readonly)).  One statement (PQexecParams refuses several),
 * under statement_timeout; a query is read through a cursor a hundred rows
 * at a time, so the row and JSON limits stop it before the whole result
 * is in memory.  No memory limit of its own: the server's work_mem.
 */

#define PG_SQL_BATCH	100

/* sql's first word, lowercased, into w ("" if none) */
static void first_word(const char *sql, char *w, size_t len)
{
	size_t n = 0;

	for (;;) {
		while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
			sql++;
		if (sql[0] == '-' && sql[1] == '-')
			sql += strcspn(sql, "\n");
		else if (sql[0] == '/' && sql[1] == '*' && strstr(sql + 2, "*/"))
			sql = strstr(sql + 2, "*/") + 2;
		else
			break;
	}
	while (n + 1 < len && ((*sql >= 'a' && *sql <= 'z') || (*sql >= 'A' && *sql <= 'Z')))
		w[n++] = (char)(*sql++ | 0x20);
	w[n] = '\0';
}

/* The error of a step of the user's statement on PostgreSQL. */
static int pg_sql_err(struct vsql *db, int rc, const struct vn_sql_limits *lim,
		      struct vn_err *err)
{
	const char *state = vsql_sqlstate(db);

	if (rc == -ENOTCONN)
		return vn_db_err(db, rc, err);
	if (!strcmp(state, "57014"))
		return vn_seterr(err, ETIMEDOUT, "sql: interrupted after %d ms (time limit)",
				 lim->time_ms);
	/* a write in a read-only transaction, a table the role may not
	 * touch, a data-modifying WITH under a cursor */
	if (!strcmp(state, "25006") || !strcmp(state, "42501") || !strcmp(state, "0A000"))
		return vn_seterr(err, EPERM,
				 "refused: only read-only queries (SELECT) are allowed (%s)",
				 vsql_errmsg(db));
	if (strstr(vsql_errmsg(db), "multiple commands"))
		return vn_seterr(err, EINVAL, "only one SQL statement at a time");
	if (!strcmp(state, "53200"))
		return vn_seterr(err, ENOMEM, "sql: out of memory (%s)", vsql_errmsg(db));
	return vn_seterr(err, EINVAL, "SQL error: %s", vsql_errmsg(db));
}

/* The rows of st (rc: its first step's) into arr under cap: 0 (*done: it
 * had none), -E2BIG, or the step's error. */
static int pg_rows(struct vsql *db, struct vsql_st *st, int rc, struct rows_cap *cap,
		   json_object *arr, bool *done, const struct vn_sql_limits *lim,
		   struct vn_err *err)
{
	int i, n = -1, got = 0;

	for (; rc == VSQL_ROW; rc = vsql_step(st)) {
		json_object *row;

		if (n < 0)
			n = vsql_column_count(st);
		if (!cap_row(cap, arr))
			return -E2BIG;
		row = json_object_new_object();
		for (i = 0; i < n; i++)
			json_object_object_add(row, vsql_column_name(st, i), column_json(st, i));
		json_object_array_add(arr, row);
		got++;
		if (!cap_json(cap, row))
			return -E2BIG;
	}
	if (rc != VSQL_DONE)
		return pg_sql_err(db, rc, lim, err);
	*done = got == 0;
	return 0;
}

static int pg_sql_readonly(struct vsql *db, const char *sql, const struct vn_sql_limits *lim,
			   json_object **rows, struct vn_err *err)
{
	struct rows_cap cap = { .max_rows = lim->max_rows, .max_json = lim->max_json };
	json_object *arr = json_object_new_array();
	struct vsql_st *st = NULL;
	char set[64], word[16], *q = NULL, *text = NULL;
	size_t len;
	bool done = false, cursor;
	int rc, ret;

	/* the statement alone: blanks and ';' after it go */
	q = strdup(sql);
	if (!q) {
		ret = vn_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	len = strlen(q);
	while (len && (q[len - 1] == ';' || q[len - 1] == ' ' || q[len - 1] == '\n' ||
		       q[len - 1] == '\t' || q[len - 1] == '\r'))
		q[--len] = '\0';
	if (!len) {
		ret = vn_seterr(err, EINVAL, "empty SQL query");
		goto out;
	}
	snprintf(set, sizeof(set), "SET statement_timeout = %d", lim->time_ms > 0 ? lim->time_ms : 0);
	ret = vn_db_exec(db, set, err);
	if (!ret)
		ret = vn_db_exec(db, "BEGIN READ ONLY", err);
	if (ret)
		goto out;
	first_word(q, word, sizeof(word));
	cursor = !strcmp(word, "select") || !strcmp(word, "with") || !strcmp(word, "values") ||
		 !strcmp(word, "table");
	if (cursor) {
		text = malloc(len + 64);
		if (!text) {
			ret = vn_seterr(err, ENOMEM, "out of memory");
			goto out;
		}
		snprintf(text, len + 64, "DECLARE vnode_sql NO SCROLL CURSOR FOR %s", q);
	}
	/* PQexecParams: exactly one statement */
	rc = vsql_prepare(db, cursor ? text : q, &st);
	if (!rc) {
		rc = vsql_step(st);
		if (rc == VSQL_ROW && !cursor) {
			/* SHOW, EXPLAIN, ...: their rows, all there already */
			ret = pg_rows(db, st, rc, &cap, arr, &done, lim, err);
			goto out;
		}
		rc = rc == VSQL_DONE ? 0 : rc;
	}
	vsql_finalize(st);
	st = NULL;
	if (rc) {
		ret = pg_sql_err(db, rc, lim, err);
		goto out;
	}
	if (!cursor)
		goto out;
	snprintf(set, sizeof(set), "FETCH FORWARD %d FROM vnode_sql", PG_SQL_BATCH);
	while (!done && !ret) {
		rc = vsql_prepare(db, set, &st);
		if (rc) {
			ret = vn_db_err(db, rc, err);
			break;
		}
		ret = pg_rows(db, st, vsql_step(st), &cap, arr, &done, lim, err);
		vsql_finalize(st);
		st = NULL;
	}
out:
	vsql_finalize(st);
	vn_db_rollback(db);
	free(text);
	free(q);
	if (cap.over_rows)
		ret = vn_seterr(err, E2BIG, "sql: stopped at the row limit %lld (add a LIMIT)",
				(long long)lim->max_rows);
	else if (cap.over_json)
		ret = vn_seterr(err, E2BIG, "sql: result larger than the limit of %zu bytes of JSON (fewer columns or a LIMIT)",
				lim->max_json);
	if (ret) {
		json_object_put(arr);
		return ret;
	}
	*rows = arr;
	return 0;
}

int vn_sql_readonly_db(struct vsql *vdb, const char *sql, const struct vn_sql_limits *lim,
		       json_object **rows, struct vn_err *err)
{
	sqlite3 *db = vsql_sqlite(vdb);
	struct vn_sql_limits def;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc, ret;

	if (!lim) {
		vn_sql_limits_default(&def);
		lim = &def;
	}
	if (!sql || !*sql)
		return vn_seterr(err, EINVAL, "empty SQL query");
	if (!db)
		return pg_sql_readonly(vdb, sql, lim, rows, err);
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
	ret = sql_run(db, st, lim, rows, err);
	sqlite3_finalize(st);
	return ret;
}

int vn_sql_readonly(const char *dbpath, const char *sql, const struct vn_sql_limits *lim,
		    json_object **rows, struct vn_err *err)
{
	char msg[VN_ERR_MAX];
	struct vsql *vdb;
	sqlite3 *db;
	int ret;

	ret = vsql_open(dbpath, true, &vdb, msg, sizeof(msg));
	if (ret == -ENOTCONN)
		return vn_seterr(err, ENOTCONN,
				 "state database unreachable (%s): try again when it is back", msg);
	if (ret)
		return vn_seterr(err, EIO, "cannot open %s read-only: %s", dbpath, msg);
	db = vsql_sqlite(vdb);
	if (db) {
		sqlite3_busy_timeout(db, 2000);
		/* no single string or blob (randomblob(1e9)...) beyond the JSON cap */
		if (lim && lim->max_json)
			sqlite3_limit(db, SQLITE_LIMIT_LENGTH,
				      lim->max_json > INT_MAX ? INT_MAX : (int)lim->max_json);
		else if (!lim)
			sqlite3_limit(db, SQLITE_LIMIT_LENGTH, VN_SQL_MAX_JSON);
	}
	ret = vn_sql_readonly_db(vdb, sql, lim, rows, err);
	vsql_close(vdb);
	return ret;
}

/* ---- the daemon's queries ------------------------------------------------ */

int vn_db_reach(struct vn_ctx *ctx, struct vn_err *err)
{
	if (vsql_connected(ctx->db))
		return 0;
	if (!vsql_reconnect(ctx->db)) {
		ctx->log(LOG_NOTICE, "state database reachable again%s",
			 ctx->db_lost ? "" : " (its connection was lost)");
		ctx->db_lost = false;
		return 0;
	}
	if (!ctx->db_lost)
		ctx->log(LOG_ERR, "state database unreachable (%s): running vNodes keep running, "
			 "changes that need it fail until it is back", vsql_errmsg(ctx->db));
	ctx->db_lost = true;
	return vn_seterr(err, ENOTCONN,
			 "state database unreachable (%s): try again when it is back",
			 vsql_errmsg(ctx->db));
}

int vn_q_one(struct vn_ctx *ctx, const char *sql,
		     const char *const *binds, json_object **out,
		     struct vn_err *err)
{
	json_object *rows;
	int ret;

	*out = NULL;
	ret = vn_db_query_json(ctx->db, sql, binds, &rows, err);
	if (ret)
		return ret;
	if (json_object_array_length(rows))
		*out = json_object_get(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	return 0;
}

int64_t vn_jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

const char *vn_jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
	       json_object_get_string(v) : NULL;
}

/* rc of a step that should have been the last: 0 (done), or the error
 * (the message is read before the statement is finalized) */
static int step_err(struct vn_ctx *ctx, int rc, struct vn_err *err)
{
	if (rc == -EEXIST)
		return vn_seterr(err, EEXIST, "constraint failed: %s",
				 vsql_errmsg(ctx->db));
	if (rc != VSQL_DONE)
		return vn_db_err(ctx->db, rc < 0 ? rc : -EIO, err);
	return 0;
}

int vn_step_done(struct vn_ctx *ctx, struct vsql_st *st, struct vn_err *err)
{
	int ret = step_err(ctx, vsql_step(st), err);

	vsql_finalize(st);
	return ret;
}

int vn_prep(struct vn_ctx *ctx, const char *sql, struct vsql_st **st,
		struct vn_err *err)
{
	int rc = vsql_prepare(ctx->db, sql, st);

	return rc ? vn_db_err(ctx->db, rc, err) : 0;
}

#define COMP_COLS "id, name, kind, addr, port, source, state, capacity, used, " \
		  "slab_shift, last_probe, last_error, created, drain, op_rtt_ns"
#define VNODE_COLS "id, name, mem, cache, mem - cache AS quota, replicas, cpus, " \
		   "owner_uid, cgroup, cgroup_id, state, ephemeral, creator_pid, created, headroom, " \
		   "prefetch, protect"

int vn_get_component(struct vn_ctx *ctx, const char *name,
			 json_object **out, struct vn_err *err)
{
	const char *b[] = { name, NULL };
	int ret;

	ret = vn_q_one(ctx, "SELECT " COMP_COLS " FROM components WHERE name = ?",
			b, out, err);
	if (!ret && !*out)
		return vn_seterr(err, ENOENT, "unknown component '%s'", name);
	return ret;
}

int vn_get_vnode(struct vn_ctx *ctx, const char *name, json_object **out,
		     struct vn_err *err)
{
	const char *b[] = { ctx->host, name, NULL };
	int ret;

	ret = vn_q_one(ctx, "SELECT " VNODE_COLS " FROM vnodes WHERE host = ?1 AND name = ?2",
			b, out, err);
	if (!ret && !*out)
		return vn_seterr(err, ENOENT, "unknown vNode '%s'", name);
	return ret;
}

int vn_db_name_elsewhere(struct vn_ctx *ctx, const char *table, const char *name,
			 char *host, size_t len)
{
	const char *b[] = { ctx->host, name, NULL };
	json_object *o = NULL;
	char sql[96];

	host[0] = '\0';
	snprintf(sql, sizeof(sql), "SELECT host FROM %s WHERE host <> ?1 AND name = ?2", table);
	if (vn_q_one(ctx, sql, b, &o, NULL) || !o)
		return 0;
	snprintf(host, len, "%s", vn_jstr(o, "host") ? vn_jstr(o, "host") : "");
	json_object_put(o);
	return 1;
}

/* The rows of sql, whose one parameter is id. */
static int rows_by_id(struct vn_ctx *ctx, const char *sql, int64_t id,
		      json_object **rows, struct vn_err *err)
{
	char s[32];
	const char *b[] = { s, NULL };

	snprintf(s, sizeof(s), "%" PRId64, id);
	return vn_db_query_json(ctx->db, sql, b, rows, err);
}

/* The rows of sql, whose parameters are id (?1) and this host (?2). */
static int rows_by_id_host(struct vn_ctx *ctx, const char *sql, int64_t id,
			   json_object **rows, struct vn_err *err)
{
	char s[32];
	const char *b[] = { s, ctx->host, NULL };

	snprintf(s, sizeof(s), "%" PRId64, id);
	return vn_db_query_json(ctx->db, sql, b, rows, err);
}

/* ---- components ----------------------------------------------------------- */

bool vn_db_comp_exists(struct vn_ctx *ctx, const char *name)
{
	const char *b[] = { name, NULL };
	json_object *o = NULL;

	vn_q_one(ctx, "SELECT name FROM components WHERE name = ?", b, &o, NULL);
	if (!o)
		return false;
	json_object_put(o);
	return true;
}

int vn_db_comp_insert(struct vn_ctx *ctx, const struct vn_conf_comp *c,
		      const char *source, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "INSERT INTO components (name, kind, addr, port, source, created) "
		   "VALUES (?, ?, ?, ?, ?, ?)", &st, err);
	if (ret)
		return ret;
	vsql_bind_text(st, 1, c->name);
	vsql_bind_text(st, 2, vn_kind_name(c->kind));
	vsql_bind_text(st, 3, c->addr);
	vsql_bind_int64(st, 4, c->port);
	vsql_bind_text(st, 5, source);
	vsql_bind_int64(st, 6, vn_now_ms());
	return vn_step_done(ctx, st, err);
}

int vn_db_comp_delete(struct vn_ctx *ctx, int64_t id, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "DELETE FROM components WHERE id = ?", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, id);
	return vn_step_done(ctx, st, err);
}

int vn_db_comp_set_probe(struct vn_ctx *ctx, int64_t id, const char *state,
			 int64_t capacity, int64_t used, int slab_shift,
			 int64_t op_rtt_ns, const char *last_error)
{
	struct vsql_st *st;

	if (vn_prep(ctx, "UPDATE components SET state = ?, capacity = ?, used = ?, "
		 "slab_shift = ?, last_probe = ?, last_error = ?, op_rtt_ns = CASE WHEN "
		 "CAST(?8 AS BIGINT) > 0 THEN CAST(?8 AS BIGINT) ELSE op_rtt_ns END WHERE id = ?7",
		 &st, NULL))
		return -EIO;
	vsql_bind_text(st, 1, state);
	vsql_bind_int64(st, 2, capacity);
	vsql_bind_int64(st, 3, used);
	vsql_bind_int64(st, 4, slab_shift);
	vsql_bind_int64(st, 5, vn_now_ms());
	if (last_error)
		vsql_bind_text(st, 6, last_error);
	vsql_bind_int64(st, 7, id);
	vsql_bind_int64(st, 8, op_rtt_ns);
	vn_step_done(ctx, st, NULL);
	return 0;
}

int vn_db_comp_users(struct vn_ctx *ctx, int64_t comp_id)
{
	char id[32];
	const char *b[] = { id, NULL };
	json_object *o;
	int n = 0;

	snprintf(id, sizeof(id), "%" PRId64, comp_id);
	if (!vn_q_one(ctx, "SELECT (SELECT count(*) FROM allocations WHERE component_id = ?1) + "
		      "(SELECT count(*) FROM volumes WHERE component_id = ?1) AS n",
		       b, &o, NULL) && o) {
		n = (int)vn_jint(o, "n");
		json_object_put(o);
	}
	return n;
}

int vn_db_comp_reserved(struct vn_ctx *ctx, int64_t comp_id, int64_t *bytes)
{
	char id[32];
	const char *b[] = { id, NULL };
	json_object *o;

	snprintf(id, sizeof(id), "%" PRId64, comp_id);
	if (vn_q_one(ctx, "SELECT coalesce(sum(bytes), 0) AS r FROM allocations "
		     "WHERE component_id = ?", b, &o, NULL) || !o)
		return -ENOENT;
	*bytes = vn_jint(o, "r");
	json_object_put(o);
	return 0;
}

int vn_db_comp_set_drain(struct vn_ctx *ctx, int64_t id, const char *drain,
			 struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "UPDATE components SET drain = ? WHERE id = ?", &st, err);
	if (ret)
		return ret;
	if (drain)
		vsql_bind_text(st, 1, drain);
	vsql_bind_int64(st, 2, id);
	return vn_step_done(ctx, st, err);
}

int vn_db_comp_allocs(struct vn_ctx *ctx, int64_t id, json_object **rows,
		      struct vn_err *err)
{
	return rows_by_id_host(ctx, "SELECT a.vnode_id, v.name, a.bytes, "
		"v.mem - v.cache AS quota FROM allocations a JOIN vnodes v "
		"ON v.id = a.vnode_id WHERE a.component_id = ?1 AND v.host = ?2 ORDER BY v.name",
		id, rows, err);
}

int64_t vn_db_alloc_bytes(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id)
{
	struct vsql_st *st;
	int64_t v = 0;

	if (vn_prep(ctx, "SELECT coalesce(sum(bytes), 0) FROM allocations "
		    "WHERE vnode_id = ? AND component_id = ?", &st, NULL))
		return 0;
	vsql_bind_int64(st, 1, vnode_id);
	vsql_bind_int64(st, 2, comp_id);
	if (vsql_step(st) == VSQL_ROW)
		v = vsql_column_int64(st, 0);
	vsql_finalize(st);
	return v;
}

int vn_db_alloc_add(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id,
		    uint64_t bytes, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "UPDATE allocations SET bytes = bytes + ? "
		      "WHERE vnode_id = ? AND component_id = ?", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, (int64_t)bytes);
	vsql_bind_int64(st, 2, vnode_id);
	vsql_bind_int64(st, 3, comp_id);
	ret = vn_step_done(ctx, st, err);
	if (ret || vsql_changes(ctx->db))
		return ret;
	return vn_db_alloc_insert(ctx, vnode_id, comp_id, bytes, err);
}

int vn_db_alloc_drop_comp(struct vn_ctx *ctx, int64_t comp_id,
			  struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "DELETE FROM allocations WHERE component_id = ?1 AND vnode_id IN "
		      "(SELECT id FROM vnodes WHERE host = ?2)", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, comp_id);
	vsql_bind_text(st, 2, ctx->host);
	return vn_step_done(ctx, st, err);
}

int vn_db_comp_list(struct vn_ctx *ctx, json_object **rows, struct vn_err *err)
{
	return vn_db_query_json(ctx->db, "SELECT c." COMP_COLS ", "
		"(SELECT coalesce(sum(a.bytes), 0) FROM allocations a "
		" WHERE a.component_id = c.id) AS reserved "
		"FROM components c ORDER BY c.name", NULL, rows, err);
}

int vn_db_comp_from_config(struct vn_ctx *ctx, json_object **rows,
			   struct vn_err *err)
{
	return vn_db_query_json(ctx->db, "SELECT " COMP_COLS " FROM components "
				"WHERE source = 'config'", NULL, rows, err);
}

int vn_db_memory_hosts(struct vn_ctx *ctx, bool with_reserved,
		       json_object **rows, struct vn_err *err)
{
	if (!with_reserved)
		return vn_db_query_json(ctx->db, "SELECT " COMP_COLS " FROM components "
					"WHERE kind = 'memory' ORDER BY name", NULL, rows, err);
	return vn_db_query_json(ctx->db, "SELECT c." COMP_COLS ", "
		"(SELECT coalesce(sum(a.bytes), 0) FROM allocations a "
		" WHERE a.component_id = c.id) AS reserved "
		"FROM components c WHERE kind = 'memory' ORDER BY name",
		NULL, rows, err);
}

int vn_db_lease_hosts(struct vn_ctx *ctx, json_object **rows,
		      struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };

	return vn_db_query_json(ctx->db, "SELECT c." COMP_COLS ", count(*) AS nr_vnodes, "
		"sum(a.bytes) AS bytes FROM allocations a JOIN components c "
		"ON c.id = a.component_id WHERE a.bytes > 0 AND a.vnode_id IN "
		"(SELECT id FROM vnodes WHERE host = ?) GROUP BY c.id ORDER BY c.name",
		b, rows, err);
}

int vn_db_vnode_hosts(struct vn_ctx *ctx, int64_t vnode_id, json_object **rows,
		      struct vn_err *err)
{
	return rows_by_id(ctx, "SELECT c." COMP_COLS ", a.bytes FROM allocations a "
		"JOIN components c ON c.id = a.component_id WHERE a.vnode_id = ? AND a.bytes > 0 "
		"ORDER BY c.name", vnode_id, rows, err);
}

/* ---- releases of leases that failed --------------------------------------- */

int vn_db_release_add(struct vn_ctx *ctx, int64_t comp_id, const char *vnode,
		      uint64_t lease_id, const char *why, struct vn_err *err)
{
	char id[24];
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "INSERT INTO lease_releases (component_id, vnode, lease_id, since, "
		      "last_error, host) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		      "ON CONFLICT (host, component_id, vnode) DO UPDATE SET last_error = ?5",
		      &st, err);
	if (ret)
		return ret;
	snprintf(id, sizeof(id), "%016" PRIx64, lease_id);
	vsql_bind_int64(st, 1, comp_id);
	vsql_bind_text(st, 2, vnode);
	vsql_bind_text(st, 3, id);
	vsql_bind_int64(st, 4, vn_now_ms());
	if (why)
		vsql_bind_text(st, 5, why);
	vsql_bind_text(st, 6, ctx->host);
	return vn_step_done(ctx, st, err);
}

int vn_db_release_del(struct vn_ctx *ctx, int64_t comp_id, const char *vnode,
		      struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "DELETE FROM lease_releases WHERE component_id = ? AND vnode = ? "
		      "AND host = ?", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, comp_id);
	vsql_bind_text(st, 2, vnode);
	vsql_bind_text(st, 3, ctx->host);
	return vn_step_done(ctx, st, err);
}

int vn_db_release_hosts(struct vn_ctx *ctx, json_object **rows,
			struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };

	return vn_db_query_json(ctx->db, "SELECT " COMP_COLS " FROM components WHERE id IN "
				"(SELECT component_id FROM lease_releases WHERE host = ?) "
				"ORDER BY name", b, rows, err);
}

int vn_db_releases(struct vn_ctx *ctx, int64_t comp_id, json_object **rows,
		   struct vn_err *err)
{
	return rows_by_id_host(ctx, "SELECT r.vnode AS name, v.id AS vnode_id "
			       "FROM lease_releases r LEFT JOIN vnodes v ON v.name = r.vnode "
			       "AND v.host = r.host WHERE r.component_id = ?1 AND r.host = ?2 "
			       "ORDER BY r.vnode", comp_id, rows, err);
}

/* ---- vNodes --------------------------------------------------------------- */

int64_t vn_db_quota_total(struct vn_ctx *ctx)
{
	const char *b[] = { ctx->host, NULL };
	json_object *o;
	int64_t q = 0;

	/* this host's: they share its swap disk */
	if (!vn_q_one(ctx, "SELECT coalesce(sum(mem - cache), 0) AS q FROM vnodes WHERE host = ?",
		       b, &o, NULL) && o) {
		q = vn_jint(o, "q");
		json_object_put(o);
	}
	return q;
}

int vn_db_vnode_insert(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		       int replicas, enum vn_protect protect, uid_t owner,
		       uint64_t cgid, int64_t *id, struct vn_err *err)
{
	char cg[PATH_MAX];
	struct vsql_st *st;
	int64_t new_id = 0;
	int ret, rc;

	ret = vn_prep(ctx, "INSERT INTO vnodes (name, mem, cache, replicas, cpus, owner_uid, "
		   "cgroup, cgroup_id, state, ephemeral, creator_pid, created, headroom, "
		   "prefetch, protect, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, "
		   "?, ?, ?) RETURNING id", &st, err);
	if (ret)
		return ret;
	snprintf(cg, sizeof(cg), VN_CGROOT "/%s/%s", vn_cg_parent(&ctx->kern),
	 req->name);
	vsql_bind_text(st, 1, req->name);
	vsql_bind_int64(st, 2, (int64_t)req->mem);
	vsql_bind_int64(st, 3, (int64_t)req->cache);
	vsql_bind_int64(st, 4, replicas);
	if (req->cpus[0])
		vsql_bind_text(st, 5, req->cpus);
	vsql_bind_int64(st, 6, owner);
	vsql_bind_text(st, 7, cg);
	vsql_bind_int64(st, 8, (int64_t)cgid);
	vsql_bind_int64(st, 9, req->ephemeral);
	vsql_bind_int64(st, 10, req->creator_pid);
	vsql_bind_int64(st, 11, vn_now_ms());
	if (req->has_headroom)
		vsql_bind_int64(st, 12, req->headroom);
	vsql_bind_int64(st, 13, req->prefetch);
	vsql_bind_text(st, 14, vn_protect_name(protect));
	vsql_bind_text(st, 15, ctx->host);
	/* the row with its id, then done */
	rc = vsql_step(st);
	if (rc == VSQL_ROW) {
		new_id = vsql_column_int64(st, 0);
		rc = vsql_step(st);
	}
	ret = step_err(ctx, rc, err);
	vsql_finalize(st);
	if (!ret)
		*id = new_id;
	return ret;
}

/* sql, an UPDATE of one row, with text (if not NULL) or else val for ?1
 * and id for ?2 */
static int update_one(struct vn_ctx *ctx, const char *sql, const char *text,
		      int64_t val, int64_t id, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, sql, &st, err);
	if (ret)
		return ret;
	if (text)
		vsql_bind_text(st, 1, text);
	else
		vsql_bind_int64(st, 1, val);
	vsql_bind_int64(st, 2, id);
	return vn_step_done(ctx, st, err);
}

int vn_db_vnode_set_headroom(struct vn_ctx *ctx, int64_t id, int64_t headroom,
			     struct vn_err *err)
{
	return update_one(ctx, "UPDATE vnodes SET headroom = ?1 WHERE id = ?2", NULL,
			  headroom, id, err);
}

int vn_db_vnode_set_prefetch(struct vn_ctx *ctx, int64_t id, bool on,
			     struct vn_err *err)
{
	return update_one(ctx, "UPDATE vnodes SET prefetch = ?1 WHERE id = ?2", NULL,
			  on, id, err);
}

int vn_db_vnode_set_protect(struct vn_ctx *ctx, int64_t id, enum vn_protect p,
			    struct vn_err *err)
{
	return update_one(ctx, "UPDATE vnodes SET protect = ?1 WHERE id = ?2",
			  vn_protect_name(p), 0, id, err);
}

int64_t vn_db_vnode_event_total(struct vn_ctx *ctx, const char *name,
				const char *type)
{
	/* the one query whose text differs: JSON is SQLite's json_extract,
	 * PostgreSQL's ->> */
	const char *col = vsql_kind(ctx->db) == VSQL_PG ?
			  "(detail::json->>'total')::bigint" : "json_extract(detail, '$.total')";
	struct vsql_st *st;
	int64_t total = 0;
	char sql[512];

	/* since its vnode.create: an older vNode of the same name had its own */
	snprintf(sql, sizeof(sql), "SELECT %s FROM events "
		 "WHERE object = 'vnode' AND name = ?1 AND type = ?2 AND id > "
		 "(SELECT coalesce(max(id), 0) FROM events WHERE object = 'vnode' "
		 "AND name = ?1 AND type = 'vnode.create') ORDER BY id DESC LIMIT 1", col);
	if (vn_prep(ctx, sql, &st, NULL))
		return 0;
	vsql_bind_text(st, 1, name);
	vsql_bind_text(st, 2, type);
	if (vsql_step(st) == VSQL_ROW)
		total = vsql_column_int64(st, 0);
	vsql_finalize(st);
	return total;
}

int vn_db_alloc_insert(struct vn_ctx *ctx, int64_t vnode_id, int64_t comp_id,
		       uint64_t bytes, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "INSERT INTO allocations (vnode_id, component_id, bytes) "
		   "VALUES (?, ?, ?)", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, vnode_id);
	vsql_bind_int64(st, 2, comp_id);
	vsql_bind_int64(st, 3, (int64_t)bytes);
	return vn_step_done(ctx, st, err);
}

int vn_db_vnode_delete(struct vn_ctx *ctx, int64_t id, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "DELETE FROM vnodes WHERE id = ?", &st, err);
	if (ret)
		return ret;
	vsql_bind_int64(st, 1, id);
	return vn_step_done(ctx, st, err);
}

int vn_db_vnode_list(struct vn_ctx *ctx, json_object **rows,
		     struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };

	return vn_db_query_json(ctx->db, "SELECT " VNODE_COLS " FROM vnodes WHERE host = ? "
				"ORDER BY name", b, rows, err);
}

int vn_db_vnode_sizes(struct vn_ctx *ctx, json_object **rows,
		      struct vn_err *err)
{
	const char *b[] = { ctx->host, NULL };

	return vn_db_query_json(ctx->db, "SELECT name, mem, cache, prefetch FROM vnodes "
				"WHERE host = ? ORDER BY name", b, rows, err);
}

int vn_db_vnode_allocs(struct vn_ctx *ctx, int64_t vnode_id, json_object **rows)
{
	return rows_by_id(ctx, "SELECT c.name AS host, c.addr || ':' || c.port AS addr, "
			  "a.bytes FROM allocations a JOIN components c "
			  "ON c.id = a.component_id WHERE a.vnode_id = ? ORDER BY c.name",
			  vnode_id, rows, NULL);
}

int vn_db_vnode_set_state(struct vn_ctx *ctx, int64_t id, const char *state)
{
	struct vsql_st *st;

	if (vn_prep(ctx, "UPDATE vnodes SET state = ? WHERE id = ?", &st, NULL))
		return -EIO;
	vsql_bind_text(st, 1, state);
	vsql_bind_int64(st, 2, id);
	vn_step_done(ctx, st, NULL);
	return 0;
}

void vn_db_vnode_set_cgid(struct vn_ctx *ctx, int64_t id, uint64_t cgid)
{
	struct vsql_st *st;

	if (!vn_prep(ctx, "UPDATE vnodes SET cgroup_id = ? WHERE id = ?", &st, NULL)) {
		vsql_bind_int64(st, 1, (int64_t)cgid);
		vsql_bind_int64(st, 2, id);
		vn_step_done(ctx, st, NULL);
	}
}

/* A member of explore.record's request and the kind of its column: 'i'
 * an integer (a boolean is 0 or 1), 'r' a number, 't' a string. */
struct ex_col {
	const char *key;
	char kind;
};

/* the exploration's, then each row's: parameters 1.., then 8.. */
static const struct ex_col ex_head[] = {
	{ "id", 't' }, { "started", 'i' }, { "command", 't' }, { "mem", 'i' },
	{ "storage", 'i' }, { "budget", 'r' }, { "metric_regex", 't' },
};
static const struct ex_col ex_row[] = {
	{ "seq", 'i' }, { "cache", 't' }, { "cache_bytes", 'i' }, { "protect", 't' },
	{ "replicas", 'i' }, { "storage_protect", 't' }, { "seconds", 'r' },
	{ "metric", 'r' }, { "slowdown", 'r' }, { "rank", 'i' }, { "recommended", 'i' },
	{ "ok", 'i' }, { "exit", 'i' },
};

/*
 * o's members cols[0..n) bound to the parameters from first on, a missing
 * one or null as SQL NULL.  A value of another kind is -EINVAL (row: its
 * number, 0 for the exploration's own): SQLite would keep "two" in an
 * INTEGER column and PostgreSQL refuses it, as a database error.
 */
static int bind_cols(struct vsql_st *st, int first, json_object *o, const struct ex_col *cols,
		     size_t n, size_t row, struct vn_err *err)
{
	char where[32] = "";
	json_object *v;
	enum json_type t;
	size_t c;
	int i;

	for (c = 0; c < n; c++) {
		v = json_object_object_get(o, cols[c].key);
		t = json_object_get_type(v);
		i = first + (int)c;
		if (!v)
			vsql_bind_null(st, i);
		else if (cols[c].kind == 't' && t == json_type_string)
			vsql_bind_text(st, i, json_object_get_string(v));
		else if (cols[c].kind != 't' && (t == json_type_int || t == json_type_boolean))
			vsql_bind_int64(st, i, json_object_get_int64(v));
		else if (cols[c].kind == 'r' && t == json_type_double)
			vsql_bind_double(st, i, json_object_get_double(v));
		else
			break;
	}
	if (c == n)
		return 0;
	if (row)
		snprintf(where, sizeof(where), "row %zu: ", row);
	return vn_seterr(err, EINVAL, "explore.record: %s'%s' must be %s", where, cols[c].key,
			 cols[c].kind == 'i' ? "an integer" : cols[c].kind == 'r' ? "a number" :
			 "a string");
}

int vn_db_explore_insert(struct vn_ctx *ctx, json_object *args, uid_t owner,
			 struct vn_err *err)
{
	const size_t nh = sizeof(ex_head) / sizeof(ex_head[0]);
	const size_t nr = sizeof(ex_row) / sizeof(ex_row[0]);
	json_object *rows = json_object_object_get(args, "rows");
	struct vsql_st *st;
	size_t i;
	int ret;

	ret = vn_db_begin(ctx->db, err);
	if (ret)
		return ret;
	for (i = 0; i < json_object_array_length(rows); i++) {
		ret = vn_prep(ctx, "INSERT INTO explore_runs (explore_id, started, command, mem, "
			      "storage, budget, metric_regex, seq, cache, cache_bytes, protect, "
			      "replicas, storage_protect, seconds, metric, slowdown, rank, "
			      "recommended, ok, exit, owner_uid, host) VALUES (?, ?, ?, ?, ?, ?, "
			      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
		if (ret)
			goto fail;
		ret = bind_cols(st, 1, args, ex_head, nh, 0, err);
		if (!ret)
			ret = bind_cols(st, 1 + (int)nh, json_object_array_get_idx(rows, i), ex_row,
					nr, i + 1, err);
		if (ret) {
			vsql_finalize(st);
			goto fail;
		}
		vsql_bind_int64(st, 1 + (int)(nh + nr), owner);
		vsql_bind_text(st, 2 + (int)(nh + nr), ctx->host);
		ret = vn_step_done(ctx, st, err);
		if (ret)
			goto fail;
	}
	return vn_db_commit(ctx->db, err);
fail:
	vn_db_rollback(ctx->db);
	if (ret == -EEXIST) {
		char msg[VN_ERR_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		ret = vn_seterr(err, EINVAL, "explore.record: %.400s", msg);
	}
	return ret;
}
