/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /etc/vnode/cluster.conf: INI-ish, '#' or ';' comments, one
 * "key = value" per line.
 *
 *   [cluster]
 *   replicas = 1          # copies of every remote page (1 or 2)
 *   disk = vnmem          # configfs name of the shared swap disk
 *   disk_size = auto      # or a size; auto = sum of memory-host capacity / replicas
 *   probe_timeout_ms = 3000
 *   key_file = /etc/vnode/cluster.key   # the cluster key (auth.h)
 *   insecure = false      # true: without a key file, probe unauthenticated
 *   headroom = off        # vNodes' eviction headroom: auto, off or a size
 *   protect = none        # vNodes' memory protection profile: none, crc, aead
 *   storage_protect = none  # new volumes' profile: none, integrity, crypt
 *   database = postgresql://vnode@db.example/vnode?passfile=/etc/vnode/pgpass
 *                         # one state database for the cluster (default:
 *                         # SQLite, <statedir>/state.db, this host only)
 *   database_readonly = postgresql://vnode_ro@db.example/vnode?passfile=...
 *                         # the read-only role of `vnodectl sql` (required
 *                         # with database)
 *   database_wait = 60    # seconds vnoded waits at start for the database
 *
 *   [memory m1]
 *   addr = 10.0.0.2
 *   port = 7470           # optional, default 7470 (7471 for storage)
 *
 *   [storage s1]
 *   addr = 10.0.0.4
 *
 *   [agent]               # only read by vnoded --agent (storage host)
 *   listen = 0.0.0.0:7472
 */
#ifndef VN_CONF_H
#define VN_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth.h"
#include "opts.h"
#include "util.h"

#define VN_MAX_COMPONENTS	64
#define VN_ADDR_MAX		64

enum vn_comp_kind {
	VN_COMP_MEMORY = 1,
	VN_COMP_STORAGE = 2,
};

struct vn_conf_comp {
	char name[32];
	enum vn_comp_kind kind;
	char addr[VN_ADDR_MAX];
	int port;
};

#define VN_AGENT_PORT		7472

struct vn_cluster {
	int replicas;			/* 1 or 2 */
	char disk[32];			/* configfs mem/<disk> */
	uint64_t disk_size;		/* 0 = auto */
	int probe_timeout_ms;
	int agent_port;			/* storage agents (vnoded --agent) */
	int64_t headroom;		/* vNodes' default: evict.h (-1 auto, 0 off) */
	enum vn_protect protect;	/* vNodes' default (vnode create --protect) */
	/* new volumes' default (vnode create --storage-protect) */
	enum vn_vol_protect storage_protect;
	struct vn_auth_conf auth;	/* key_file, insecure */
	/* PostgreSQL (vsql_target_is_pg), "" = SQLite in the state dir;
	 * never with a password (passfile= or ~/.pgpass) */
	char database[512];
	char database_ro[512];		/* database_readonly: `vnodectl sql` */
	int database_wait_s;		/* at start, for an unreachable database */
};

/* [agent]: vnoded --agent on a storage host */
struct vn_agent_conf {
	char listen[VN_ADDR_MAX + 8];	/* ADDR[:PORT], default 0.0.0.0:7472 */
};

struct vn_conf {
	struct vn_cluster cluster;
	struct vn_agent_conf agent;
	int nr_comps;
	struct vn_conf_comp comps[VN_MAX_COMPONENTS];
};

void vn_conf_defaults(struct vn_conf *conf);
const char *vn_kind_name(enum vn_comp_kind kind);
int vn_kind_parse(const char *s, enum vn_comp_kind *kind);
int vn_default_port(enum vn_comp_kind kind);
/* Valid IPv4/IPv6 literal. */
int vn_addr_valid(const char *addr);
/* The literal's one spelling (inet_ntop of what it parses to: "fd00::2"
 * for "fd00:0::02"); -EINVAL if it is none. */
int vn_addr_canon(const char *addr, char *out, size_t len);
/* "ADDR", "ADDR:PORT", "[V6]:PORT" or ":PORT" -> addr (default 0.0.0.0),
 * port (default def_port). */
int vn_hostport_parse(const char *s, int def_port, char *addr, size_t alen,
		      int *port);

/*
 * The lines of an INI-ish file (cluster.conf, fabrics.conf): blank lines
 * and comments are skipped; each other line is a section header "[...]"
 * (section: what is between the brackets, trimmed) or "key = value" (key,
 * val: trimmed, neither empty).  A comment starts with '#' or ';' at the
 * start of a line, or anywhere with inline_comments (cluster.conf: values
 * there never hold those characters; fabrics.conf's free text may).
 */
struct vn_ini {
	FILE *f;
	const char *fname;
	bool inline_comments;
	int lineno;
	char line[1024];
	char *section;		/* a header, else NULL */
	char *key, *val;	/* key = value, else NULL */
};

/* The next line: 1, or 0 at the end, or -errno with err "FILE:LINE: what
 * is wrong" (a line too long, a malformed header, no '=', no key, no
 * value; a read error: "FILE: read error"). */
int vn_ini_next(struct vn_ini *ini, struct vn_err *err);

/* Parse a whole file/stream; on error nothing is returned and err says
 * "FILE:LINE: what is wrong". */
int vn_conf_parse(FILE *f, const char *fname, struct vn_conf *conf,
		  struct vn_err *err);
int vn_conf_load(const char *path, struct vn_conf *conf, struct vn_err *err);

/* A database URI's passfile (libpq's passfile=), if it names one, must be
 * a regular file that neither group nor others may read: 0, or -errno with
 * the reason. */
int vn_conf_check_passfile(const char *conninfo, struct vn_err *err);

#endif /* VN_CONF_H */
