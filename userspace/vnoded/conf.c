// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "conf.h"
#include "evict.h"
#include "size.h"
#include "vsql.h"

void vn_conf_defaults(struct vn_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->cluster.replicas = 1;
	strcpy(conf->cluster.disk, "vnmem");
	conf->cluster.disk_size = 0;
	conf->cluster.probe_timeout_ms = 3000;
	conf->cluster.agent_port = VN_AGENT_PORT;
	conf->cluster.headroom = VN_HEADROOM_OFF;
	conf->cluster.protect = VN_PROTECT_NONE;
	conf->cluster.storage_protect = VN_VOL_PROTECT_NONE;
	strcpy(conf->cluster.auth.key_file, VN_KEY_FILE);
	conf->cluster.auth.insecure = false;
	conf->cluster.database_wait_s = 60;
	snprintf(conf->agent.listen, sizeof(conf->agent.listen), "0.0.0.0:%d",
		 VN_AGENT_PORT);
}

const char *vn_kind_name(enum vn_comp_kind kind)
{
	return kind == VN_COMP_MEMORY ? "memory" :
	       kind == VN_COMP_STORAGE ? "storage" : "unknown";
}

int vn_kind_parse(const char *s, enum vn_comp_kind *kind)
{
	if (!strcmp(s, "memory") || !strcmp(s, "mem")) {
		*kind = VN_COMP_MEMORY;
		return 0;
	}
	if (!strcmp(s, "storage") || !strcmp(s, "stor")) {
		*kind = VN_COMP_STORAGE;
		return 0;
	}
	return -EINVAL;
}

int vn_default_port(enum vn_comp_kind kind)
{
	return kind == VN_COMP_STORAGE ? 7471 : 7470;
}

/*
 * [cluster] database, database_readonly: a PostgreSQL URI or conninfo that
 * libpq parses, without a password (cluster.conf may be world-readable).
 * NULL if it is fine, else what is wrong (static or into buf).
 */
static const char *db_uri_problem(const char *val, char *buf, size_t len)
{
	PQconninfoOption *opts, *o;
	const char *bad = NULL;
	char *msg = NULL;

	if (!vsql_target_is_pg(val))
		return "must be a postgresql:// or postgres:// URI, or a libpq conninfo "
		       "starting with host=, dbname= or service= (SQLite, the default, "
		       "needs no key)";
	opts = PQconninfoParse(val, &msg);
	if (!opts) {
		snprintf(buf, len, "is not a valid PostgreSQL connection string: %s",
			 msg ? msg : "out of memory");
		/* libpq ends its messages with a newline */
		if (strlen(buf) && buf[strlen(buf) - 1] == '\n')
			buf[strlen(buf) - 1] = '\0';
		PQfreemem(msg);
		return buf;
	}
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			bad = "must not hold a password (cluster.conf may be readable by all): "
			      "name a passfile= that only root reads, or use ~/.pgpass";
	PQconninfoFree(opts);
	return bad;
}

int vn_conf_check_passfile(const char *conninfo, struct vn_err *err)
{
	PQconninfoOption *opts, *o;
	struct stat st;
	int ret = 0;

	if (!conninfo || !*conninfo)
		return 0;
	opts = PQconninfoParse(conninfo, NULL);
	if (!opts)
		return vn_seterr(err, EINVAL, "invalid PostgreSQL connection string");
	for (o = opts; o->keyword && !ret; o++) {
		if (strcmp(o->keyword, "passfile") || !o->val || !*o->val)
			continue;
		if (stat(o->val, &st))
			ret = vn_seterr(err, errno, "passfile %s: %s", o->val, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			ret = vn_seterr(err, EINVAL, "passfile %s is not a regular file", o->val);
		else if (st.st_mode & 077)
			ret = vn_seterr(err, EPERM,
					"passfile %s may be read by group or others (mode %04o): "
					"chmod 600 it",
					o->val, (unsigned int)(st.st_mode & 07777));
	}
	PQconninfoFree(opts);
	return ret;
}

int vn_addr_valid(const char *addr)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, addr, buf) == 1 ||
	       inet_pton(AF_INET6, addr, buf) == 1;
}

int vn_addr_canon(const char *addr, char *out, size_t len)
{
	unsigned char buf[16];
	int af = AF_INET;

	if (inet_pton(af, addr, buf) != 1) {
		af = AF_INET6;
		if (inet_pton(af, addr, buf) != 1)
			return -EINVAL;
	}
	return inet_ntop(af, buf, out, (socklen_t)len) ? 0 : -ENAMETOOLONG;
}

int vn_hostport_parse(const char *s, int def_port, char *addr, size_t alen,
		      int *port)
{
	char buf[VN_ADDR_MAX + 8], *p, *a = buf, *end;
	long n;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*port = def_port;
	if (buf[0] == '[') {			/* [v6]:port */
		a = buf + 1;
		p = strchr(a, ']');
		if (!p || (p[1] && p[1] != ':'))
			return -EINVAL;
		*p++ = '\0';
		p = *p ? p : NULL;
	} else {
		p = strrchr(buf, ':');
		if (p && strchr(buf, ':') != p)	/* bare v6, no port */
			p = NULL;
	}
	if (p) {
		*p++ = '\0';
		errno = 0;
		n = strtol(p, &end, 10);
		if (!*p || *end || errno || n < 1 || n > 65535)
			return -EINVAL;
		*port = (int)n;
	}
	if (!*a)
		a = "0.0.0.0";
	if (!vn_addr_valid(a) || strlen(a) >= alen)
		return -EINVAL;
	strcpy(addr, a);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_int(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	if (!*v || *v == '+')
		return -EINVAL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int vn_ini_next(struct vn_ini *ini, struct vn_err *err)
{
#define IERR(fmt, ...) \
	vn_seterr(err, EINVAL, "%s:%d: " fmt, ini->fname, ini->lineno, ##__VA_ARGS__)
	char *s, *c, *eq;

	ini->section = ini->key = ini->val = NULL;
	while (fgets(ini->line, sizeof(ini->line), ini->f)) {
		ini->lineno++;
		if (!strchr(ini->line, '\n') && !feof(ini->f))
			return IERR("line too long");
		s = trim(ini->line);
		if (*s == '#' || *s == ';')
			continue;
		for (c = s; ini->inline_comments && *c; c++)
			if (*c == '#' || *c == ';') {
				*c = '\0';
				s = trim(s);
				break;
			}
		if (!*s)
			continue;
		if (*s == '[') {
			c = strchr(s, ']');
			if (!c || c[1])
				return IERR("malformed section header '%s'", s);
			*c = '\0';
			ini->section = trim(s + 1);
			return 1;
		}
		eq = strchr(s, '=');
		if (!eq)
			return IERR("expected 'key = value', got '%s'", s);
		*eq = '\0';
		ini->key = trim(s);
		ini->val = trim(eq + 1);
		if (!*ini->key)
			return IERR("missing key before '='");
		if (!*ini->val)
			return IERR("missing value for '%s'", ini->key);
		return 1;
	}
	if (ferror(ini->f))
		return vn_seterr(err, EIO, "%s: read error", ini->fname);
	return 0;
#undef IERR
}

#define PERR(fmt, ...) \
	vn_seterr(err, EINVAL, "%s:%d: " fmt, fname, ini.lineno, ##__VA_ARGS__)

int vn_conf_parse(FILE *f, const char *fname, struct vn_conf *out,
		  struct vn_err *err)
{
	enum { SEC_NONE, SEC_CLUSTER, SEC_AGENT, SEC_COMP } sec = SEC_NONE;
	struct vn_ini ini = { .f = f, .fname = fname, .inline_comments = true };
	struct vn_conf_comp *comp = NULL;
	struct vn_conf *conf;
	int i, ret = 0;

	conf = malloc(sizeof(*conf));
	if (!conf)
		return vn_seterr(err, ENOMEM, "out of memory");
	vn_conf_defaults(conf);

	while ((ret = vn_ini_next(&ini, err)) > 0) {
		char *key = ini.key, *val = ini.val;
		long n;

		if (ini.section) {
			char *kind = ini.section, *name;
			enum vn_comp_kind k;

			name = kind + strcspn(kind, " \t");
			if (*name)
				*name++ = '\0';
			name = trim(name);
			if (!strcmp(kind, "cluster")) {
				if (*name) {
					ret = PERR("[cluster] takes no name");
					goto out;
				}
				sec = SEC_CLUSTER;
				continue;
			}
			if (!strcmp(kind, "agent")) {
				if (*name) {
					ret = PERR("[agent] takes no name");
					goto out;
				}
				sec = SEC_AGENT;
				continue;
			}
			if (vn_kind_parse(kind, &k)) {
				ret = PERR("unknown section '[%s]' (expected [cluster], [agent], [memory NAME] or [storage NAME])",
					   kind);
				goto out;
			}
			if (!*name) {
				ret = PERR("[%s] needs a name, e.g. [%s m1]", kind, kind);
				goto out;
			}
			if (!vn_name_valid(name)) {
				ret = PERR("invalid component name '%s'", name);
				goto out;
			}
			for (i = 0; i < conf->nr_comps; i++)
				if (!strcmp(conf->comps[i].name, name)) {
					ret = PERR("duplicate component '%s'", name);
					goto out;
				}
			if (conf->nr_comps == VN_MAX_COMPONENTS) {
				ret = PERR("too many components (max %d)",
					   VN_MAX_COMPONENTS);
				goto out;
			}
			comp = &conf->comps[conf->nr_comps++];
			memset(comp, 0, sizeof(*comp));
			strcpy(comp->name, name);
			comp->kind = k;
			comp->port = vn_default_port(k);
			sec = SEC_COMP;
			continue;
		}

		switch (sec) {
		case SEC_NONE:
			ret = PERR("'%s' outside of any section", key);
			goto out;
		case SEC_CLUSTER:
			if (!strcmp(key, "replicas")) {
				if (parse_int(val, 1, 2, &n)) {
					ret = PERR("replicas must be 1 or 2, got '%s'", val);
					goto out;
				}
				conf->cluster.replicas = (int)n;
			} else if (!strcmp(key, "disk")) {
				if (!vn_name_valid(val)) {
					ret = PERR("invalid disk name '%s'", val);
					goto out;
				}
				snprintf(conf->cluster.disk,
					 sizeof(conf->cluster.disk), "%s", val);
			} else if (!strcmp(key, "disk_size")) {
				struct vn_err e;
				uint64_t sz = 0;

				if (!strcmp(val, "auto")) {
					conf->cluster.disk_size = 0;
				} else if (vn_parse_size(val, &sz, &e)) {
					ret = PERR("disk_size: %s", e.msg);
					goto out;
				} else if (!sz) {
					ret = PERR("disk_size must be > 0 or auto");
					goto out;
				} else {
					conf->cluster.disk_size = sz;
				}
			} else if (!strcmp(key, "probe_timeout_ms")) {
				if (parse_int(val, 100, 60000, &n)) {
					ret = PERR("probe_timeout_ms must be 100..60000, got '%s'",
						   val);
					goto out;
				}
				conf->cluster.probe_timeout_ms = (int)n;
			} else if (!strcmp(key, "agent_port")) {
				if (parse_int(val, 1, 65535, &n)) {
					ret = PERR("agent_port must be 1..65535, got '%s'", val);
					goto out;
				}
				conf->cluster.agent_port = (int)n;
			} else if (!strcmp(key, "headroom")) {
				struct vn_err e;

				if (vn_headroom_parse(val, &conf->cluster.headroom, &e)) {
					ret = PERR("%s", e.msg);
					goto out;
				}
			} else if (!strcmp(key, "protect")) {
				struct vn_err e;

				if (vn_protect_parse("protect", val, &conf->cluster.protect, &e)) {
					ret = PERR("%s", e.msg);
					goto out;
				}
			} else if (!strcmp(key, "storage_protect")) {
				struct vn_err e;

				if (vn_vol_protect_parse("storage_protect", val,
							 &conf->cluster.storage_protect, &e)) {
					ret = PERR("%s", e.msg);
					goto out;
				}
			} else if (!strcmp(key, "agent_token")) {
				ret = PERR("agent_token is replaced by key_file: agent requests now prove the cluster key (HMAC-SHA256, see docs/userspace.md); remove agent_token");
				goto out;
			} else if (!strcmp(key, "key_file")) {
				if (val[0] != '/' ||
				    strlen(val) >= sizeof(conf->cluster.auth.key_file)) {
					ret = PERR("key_file must be an absolute path shorter than %zu characters, got '%s'",
						   sizeof(conf->cluster.auth.key_file), val);
					goto out;
				}
				strcpy(conf->cluster.auth.key_file, val);
			} else if (!strcmp(key, "database") ||
				   !strcmp(key, "database_readonly")) {
				bool ro = !strcmp(key, "database_readonly");
				char *dst = ro ? conf->cluster.database_ro : conf->cluster.database;
				const char *why;
				char buf[256];

				why = db_uri_problem(val, buf, sizeof(buf));
				if (why) {
					ret = PERR("%s %s", key, why);
					goto out;
				}
				if (strlen(val) >= sizeof(conf->cluster.database)) {
					ret = PERR("%s is longer than %zu characters", key,
						   sizeof(conf->cluster.database) - 1);
					goto out;
				}
				strcpy(dst, val);
			} else if (!strcmp(key, "database_wait")) {
				if (parse_int(val, 0, 3600, &n)) {
					ret = PERR("database_wait must be 0..3600 seconds, got '%s'",
						   val);
					goto out;
				}
				conf->cluster.database_wait_s = (int)n;
			} else if (!strcmp(key, "insecure")) {
				if (strcmp(val, "true") && strcmp(val, "false")) {
					ret = PERR("insecure must be true or false, got '%s'", val);
					goto out;
				}
				conf->cluster.auth.insecure = !strcmp(val, "true");
			} else {
				ret = PERR("unknown key '%s' in [cluster]", key);
				goto out;
			}
			break;
		case SEC_AGENT:
			if (!strcmp(key, "listen")) {
				char a[VN_ADDR_MAX];
				int port;

				if (vn_hostport_parse(val, VN_AGENT_PORT, a, sizeof(a), &port)) {
					ret = PERR("listen must be ADDR[:PORT], got '%s'", val);
					goto out;
				}
				snprintf(conf->agent.listen, sizeof(conf->agent.listen),
					 strchr(a, ':') ? "[%s]:%d" : "%s:%d", a, port);
			} else if (!strcmp(key, "token")) {
				ret = PERR("token is replaced by key_file in [cluster]: agent requests now prove the cluster key (HMAC-SHA256, see docs/userspace.md); remove token");
				goto out;
			} else {
				ret = PERR("unknown key '%s' in [agent]", key);
				goto out;
			}
			break;
		case SEC_COMP:
			if (!strcmp(key, "addr")) {
				if (strlen(val) >= VN_ADDR_MAX || !vn_addr_valid(val)) {
					ret = PERR("invalid address '%s' (an IPv4 or IPv6 literal)",
						   val);
					goto out;
				}
				strcpy(comp->addr, val);
			} else if (!strcmp(key, "port")) {
				if (parse_int(val, 1, 65535, &n)) {
					ret = PERR("invalid port '%s' (1..65535)", val);
					goto out;
				}
				comp->port = (int)n;
			} else {
				ret = PERR("unknown key '%s' in [%s %s]", key,
					   vn_kind_name(comp->kind), comp->name);
				goto out;
			}
			break;
		}
	}
	if (ret < 0)
		goto out;
	if (!conf->cluster.database[0] != !conf->cluster.database_ro[0]) {
		ret = vn_seterr(err, EINVAL, conf->cluster.database[0] ?
				"%s: [cluster] database needs database_readonly too: the read-only role `vnodectl sql` connects as (docs/userspace.md)" :
				"%s: [cluster] database_readonly without database",
				fname);
		goto out;
	}
	for (i = 0; i < conf->nr_comps; i++)
		if (!conf->comps[i].addr[0]) {
			ret = vn_seterr(err, EINVAL, "%s: [%s %s] has no addr",
					fname, vn_kind_name(conf->comps[i].kind),
					conf->comps[i].name);
			goto out;
		}
	*out = *conf;
out:
	free(conf);
	return ret;
}

int vn_conf_load(const char *path, struct vn_conf *conf, struct vn_err *err)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f)
		return vn_seterr(err, errno, "%s: %s", path, strerror(errno));
	ret = vn_conf_parse(f, path, conf, err);
	fclose(f);
	return ret;
}
