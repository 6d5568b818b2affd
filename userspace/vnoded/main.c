// SPDX-License-Identifier: GPL-2.0
/*
 * vnoded - the process-host daemon that assembles vNodes.
 *
 * One control block (struct vnoded), one explicit state, paired
 * setup/unwind (rping style).  Single-threaded: a poll loop over the
 * control socket, every client connection (server.c: read concurrently,
 * each with a deadline) and a signalfd; complete requests are executed
 * one at a time, so the daemon is the only writer of its state without
 * any locking beyond an flock on the state directory against a second
 * daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "conf.h"
#include <systemd/sd-daemon.h>

#include "db.h"
#include "evict.h"
#include "ipc.h"
#include "server.h"
#include "size.h"
#include "sock.h"
#include "vnoded.h"

enum vnoded_state {
	VNODED_INIT,
	VNODED_RUNNING,
	VNODED_STOPPING,
};

struct vnoded {
	enum vnoded_state state;
	const char *config;
	bool config_explicit;
	const char *fabrics;	/* fabric presets file (fabric.h) */
	bool fabrics_explicit;
	struct vn_fabric_presets *presets;
	const char *statedir;
	const char *sock;
	const char *sysroot;
	const char *group;
	gid_t gid;		/* the group's, when have_gid */
	bool have_gid;
	mode_t sock_mode;	/* --socket-mode */
	struct vn_sock_perm perm;
	int interval_s;
	bool foreground;
	bool verbose;
	bool agent;		/* storage-host agent mode */
	const char *listen;	/* agent: ADDR[:PORT] (overrides [agent] listen) */
	const char *identity_key;	/* --identity-key NAME */
	const char *cgroup;	/* --cgroup PATH: the vNodes' parent */
	const char *evict;	/* --evict DIR: only evict for that cgroup */
	int64_t headroom;	/* --headroom, with --evict */
	struct vn_agent ag;
	struct vn_server srv;
	struct vn_conf conf;
	struct vn_ctx ctx;
	int lock_fd;
	int listen_fd;
	int sig_fd;
};

static bool use_journal_prefix;
static bool verbose_log;

static void vlog(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vlog(int prio, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	char ts[32];
	time_t now;
	va_list ap;

	if (prio == LOG_DEBUG && !verbose_log)
		return;
	if (use_journal_prefix) {
		fprintf(stderr, "<%d>", prio);
	} else {
		now = time(NULL);
		strftime(ts, sizeof(ts), "%F %T", localtime(&now));
		fprintf(stderr, "%s vnoded[%d] %s: ", ts, getpid(), names[prio & 7]);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnoded [OPTIONS]\n"
"  -f, --foreground         stay in the foreground (systemd uses this)\n"
"  -c, --config FILE        cluster config (default " VN_CONF_DEFAULT ")\n"
"  -F, --fabrics FILE       fabric presets beside the built-in ones (default\n"
"                           " VN_FABRIC_CONF ", and " VN_FABRIC_DIR "/ *.conf beside it)\n"
"  -s, --state DIR          state directory with state.db (default " VN_STATE_DEFAULT ")\n"
"  -S, --socket PATH        control socket (default " VN_SOCK_DEFAULT ")\n"
"  -g, --group NAME         group allowed on the socket (default vnode; must exist)\n"
"      --socket-mode MODE   0660 (default), 0600 (root only) or 0666 (labs:\n"
"                           any local user; the group may then be missing)\n"
"  -r, --sysroot DIR        prefix for /sys, /proc paths; fake kernel (tests)\n"
"  -i, --interval SECS      reconcile/reap interval (default 10)\n"
"      --cgroup PATH        the vNodes' parent cgroup, below /sys/fs/cgroup\n"
"                           (default vnode; vnoded.service: the cgroup systemd\n"
"                           delegates, vnode.slice/vnode-vnodes.service)\n"
"  -A, --agent              storage-host agent: create/delete vnode_stor volumes\n"
"                           for process hosts over TCP (no database, no vNodes)\n"
"  -l, --listen ADDR[:PORT] agent address (default [agent] listen, 0.0.0.0:7472)\n"
"  -n, --check-config       parse the config, print it, exit\n"
"      --evict DIR          only keep the cgroup v2 group DIR (a directory)\n"
"                           --headroom below its memory.max, until SIGTERM\n"
"      --headroom H         with --evict: auto (default) or a size\n"
"      --identity-key NAME  print NAME's identity key file (\"NAME HEX\"), derived\n"
"                           from the cluster key ([cluster] key_file), and exit\n"
"  -v, --verbose            debug logging\n"
"  -V, --version            print the version and exit\n"
"  -h, --help\n");
}

static int parse_args(struct vnoded *d, int argc, char **argv, bool *check)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "fabrics", required_argument, NULL, 'F' },
		{ "state", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "socket-mode", required_argument, NULL, 'M' },
		{ "sysroot", required_argument, NULL, 'r' },
		{ "interval", required_argument, NULL, 'i' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "agent", no_argument, NULL, 'A' },
		{ "listen", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "identity-key", required_argument, NULL, 'K' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "evict", required_argument, NULL, 'E' },
		{ "headroom", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	d->config = VN_CONF_DEFAULT;
	d->statedir = VN_STATE_DEFAULT;
	d->sock = vn_sock_path(NULL);
	d->group = "vnode";
	d->sock_mode = VN_SOCK_MODE_DEFAULT;
	d->sysroot = getenv("VNODE_SYSROOT");
	d->interval_s = 10;
	d->headroom = VN_HEADROOM_AUTO;
	while ((c = getopt_long(argc, argv, "fc:F:s:S:g:M:r:i:nvhVAl:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': d->foreground = true; break;
		case 'c': d->config = optarg; d->config_explicit = true; break;
		case 'F': d->fabrics = optarg; d->fabrics_explicit = true; break;
		case 's': d->statedir = optarg; break;
		case 'S': d->sock = optarg; break;
		case 'g': d->group = optarg; break;
		case 'M':
			if (vn_sock_mode_parse(optarg, &d->sock_mode)) {
				fprintf(stderr, "vnoded: --socket-mode must be 0600, 0660 or 0666\n");
				return 2;
			}
			break;
		case 'r': d->sysroot = optarg; break;
		case 'i': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			d->interval_s = !errno && end != optarg && !*end &&
					v >= 1 && v <= 3600 ? (int)v : 0;
			if (!d->interval_s) {
				fprintf(stderr, "vnoded: --interval must be 1..3600, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'n': *check = true; break;
		case 'A': d->agent = true; break;
		case 'C': {
			struct vn_kern tk = { 0 };
			struct vn_err e = { 0 };

			if (vn_kern_set_cgparent(&tk, optarg, &e)) {
				fprintf(stderr, "vnoded: --cgroup: %s\n", e.msg);
				return 2;
			}
			d->cgroup = optarg;
			break;
		}
		case 'l': d->listen = optarg; break;
		case 'E': d->evict = optarg; break;
		case 'H': {
			struct vn_err e = { 0 };

			if (vn_headroom_parse(optarg, &d->headroom, &e)) {
				fprintf(stderr, "vnoded: %s\n", e.msg);
				return 2;
			}
			break;
		}
		case 'v': d->verbose = true; break;
		case 'K': d->identity_key = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': vn_print_version("vnoded"); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vnoded: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int load_config(struct vnoded *d, struct vn_conf *conf)
{
	struct vn_err err;
	struct stat st;

	if (!d->config_explicit && stat(d->config, &st) && errno == ENOENT) {
		vn_conf_defaults(conf);
		vlog(LOG_WARNING, "%s not found: no components configured (use vnodectl component add)",
		     d->config);
		return 0;
	}
	if (vn_conf_load(d->config, conf, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		return -1;
	}
	return 0;
}

/* The fabric presets (fabric.h) into d->presets; on error they stay. */
static int load_fabrics(struct vnoded *d)
{
	struct vn_err err;

	if (!d->presets)
		d->presets = calloc(1, sizeof(*d->presets));
	if (!d->presets) {
		vlog(LOG_ERR, "out of memory");
		return -1;
	}
	if (vn_fabric_presets_load(d->fabrics, d->fabrics_explicit, d->presets, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		return -1;
	}
	return 0;
}

/*
 * The probe reads the key file each time (a rotated key needs no
 * restart); say at load what is wrong with it, and if others may read it.
 */
static void check_key(const struct vn_cluster *cl)
{
	const struct vn_auth_conf *a = &cl->auth;
	struct vn_key key;
	struct vn_err err;
	bool loose;
	int ret;

	ret = vn_key_load(a->key_file, &key, &loose, &err);
	vn_key_clear(&key);
	if (!ret && loose)
		vlog(LOG_WARNING, "cluster key %s is readable by group or other: chmod 0600 %s",
		     a->key_file, a->key_file);
	else if (ret == -EINVAL)
		vlog(LOG_ERR, "%s: memory hosts cannot be probed", err.msg);
	else if (ret && a->insecure)
		vlog(LOG_WARNING, "no cluster key (%s): probing memory hosts without authentication (insecure = true)",
		     err.msg);
	else if (ret)
		vlog(LOG_ERR, "no cluster key (%s): memory hosts cannot be probed until it is there (or insecure = true in [cluster])",
		     err.msg);
}

/*
 * [cluster] database: its passfiles only root reads, and the server
 * reachable; one that is down is waited for (every 2 s, database_wait
 * seconds), so a vnoded started before it comes up once it is there.
 */
static int wait_database(const struct vn_cluster *cl)
{
	int64_t end = vn_mono_ms() + (int64_t)cl->database_wait_s * 1000;
	char msg[VN_ERR_MAX];
	struct vn_err err;
	struct vsql *db;
	bool said = false;
	int rc;

	if (vn_conf_check_passfile(cl->database, &err) ||
	    vn_conf_check_passfile(cl->database_ro, &err)) {
		vlog(LOG_ERR, "[cluster] database: %s", err.msg);
		return -1;
	}
	for (;;) {
		rc = vsql_open(cl->database, false, &db, msg, sizeof(msg));
		if (!rc) {
			vsql_close(db);
			if (said)
				vlog(LOG_NOTICE, "state database reachable");
			return 0;
		}
		if (rc != -ENOTCONN || vn_mono_ms() >= end) {
			vlog(LOG_ERR, "state database unreachable (%s)%s", msg,
			     rc == -ENOTCONN && cl->database_wait_s ?
			     ": gave up after database_wait seconds" : "");
			return -1;
		}
		if (!said) {
			vlog(LOG_WARNING, "state database unreachable (%s): trying again every 2 s for up to %d s (database_wait)",
			     msg, cl->database_wait_s);
			sd_notifyf(0, "STATUS=waiting for the state database");
		}
		said = true;
		sleep(2);
	}
}

/*
 * Before anything is touched: the socket's group must exist (or the
 * socket be explicitly 0666 or 0600, or the kernel the fake one).
 */
static int check_group(struct vnoded *d)
{
	struct group *gr = getgrnam(d->group);
	struct vn_err err;
	bool fake = d->sysroot && *d->sysroot && strcmp(d->sysroot, "/");

	if (gr) {
		d->gid = gr->gr_gid;
		d->have_gid = true;
	}
	if (vn_sock_decide(d->group, gr != NULL, gr ? gr->gr_gid : 0, d->sock_mode,
			   fake, &d->perm, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int setup_socket(struct vnoded *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash;
	int fd, probe, ret = 0;

	if (strlen(d->sock) >= sizeof(sa.sun_path)) {
		vlog(LOG_ERR, "socket path too long: %s", d->sock);
		return -1;
	}
	strcpy(sa.sun_path, d->sock);
	snprintf(dir, sizeof(dir), "%s", d->sock);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((ret = vn_mkdirs(dir, 0, 0755))) {
			vlog(LOG_ERR, "cannot create %s: %s", dir, strerror(-ret));
			return -1;
		}
	}
	/* a live daemon answers; a stale socket file does not */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
		close(probe);
		vlog(LOG_ERR, "another vnoded is already listening on %s", d->sock);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(d->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		/* no moment with a wider mode than the final one */
		mode_t um = umask(0177);

		ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(um);
	}
	if (fd < 0 || ret || listen(fd, 128)) {
		vlog(LOG_ERR, "cannot listen on %s: %s", d->sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/*
	 * Privilege model: the socket is 0660 root:<group> (check_group
	 * decided), and every request is then authorised by SO_PEERCRED
	 * (see docs/userspace.md).  bind() made it under umask 0177.
	 */
	if (d->perm.chown && chown(d->sock, (uid_t)-1, d->perm.gid)) {
		vlog(LOG_ERR, "cannot give %s to group '%s': %s", d->sock, d->group,
		     strerror(errno));
		close(fd);
		unlink(d->sock);
		return -1;
	}
	if (chmod(d->sock, d->perm.mode)) {
		vlog(LOG_ERR, "chmod %s: %s", d->sock, strerror(errno));
		close(fd);
		unlink(d->sock);
		return -1;
	}
	if (d->perm.warn)
		vlog(LOG_WARNING, "group '%s' not found: socket %s is 0666 (any local user may connect), requests are authorised by peer uid only",
		     d->group, d->sock);
	d->listen_fd = fd;
	return 0;
}

static int setup_signals(struct vnoded *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig_fd < 0 ? -1 : 0;
}

/*
 * The agent's key: it does not start (or keeps its old key on SIGHUP)
 * without a readable key file, unless insecure = true; warn when others
 * may read the file.
 */
static int agent_key(const struct vn_conf *conf, struct vn_key *out)
{
	const struct vn_auth_conf *a = &conf->cluster.auth;
	struct vn_key key;
	struct vn_err err;
	bool loose;
	int ret;

	ret = vn_key_load(a->key_file, &key, &loose, &err);
	if (!ret && loose)
		vlog(LOG_WARNING, "cluster key %s is readable by group or other: chmod 0600 %s",
		     a->key_file, a->key_file);
	if (ret == -EINVAL || (ret && !a->insecure)) {
		vlog(LOG_ERR, "no usable cluster key (%s): the storage agent needs it to authenticate requests (install the cluster key, key_file in [cluster], or insecure = true)",
		     err.msg);
		return -1;
	}
	if (!ret && key.ident[0]) {
		vlog(LOG_ERR, "%s holds the identity key of %.*s, not the cluster key: the storage agent serves every identity, so it needs the cluster key (as memory and storage hosts do)",
		     a->key_file, (int)sizeof(key.ident), key.ident);
		vn_key_clear(&key);
		return -1;
	}
	if (ret)
		vlog(LOG_WARNING, "no cluster key (%s): serving requests WITHOUT authentication (insecure = true)",
		     err.msg);
	vn_key_clear(out);
	*out = key;
	vn_key_clear(&key);
	return 0;
}

static void reload(struct vnoded *d)
{
	struct vn_conf conf;
	struct vn_err err;

	if (load_config(d, &conf)) {
		vlog(LOG_ERR, "SIGHUP: keeping the old configuration");
		return;
	}
	if (d->agent) {
		if (agent_key(&conf, &d->ag.key)) {
			vlog(LOG_ERR, "SIGHUP: keeping the old configuration and key");
			return;
		}
		d->conf = conf;
		vlog(LOG_INFO, "configuration reloaded from %s (listen address unchanged)",
		     d->config);
		return;
	}
	if (load_fabrics(d))
		vlog(LOG_ERR, "SIGHUP: keeping the old fabric presets");
	else
		*d->ctx.presets = *d->presets;
	if (vn_config_sync(&d->ctx, &conf, &err)) {
		vlog(LOG_ERR, "SIGHUP: %s", err.msg);
		return;
	}
	d->conf = conf;
	if (!vn_kern_fake(&d->ctx.kern))
		check_key(&conf.cluster);
	vlog(LOG_INFO, "configuration reloaded from %s", d->config);
}

/* Is the peer of fd in group gid (primary or supplementary)? */
static bool peer_in_group(int fd, gid_t primary, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool in;

	if (primary == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		if (errno != ERANGE || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			free(groups);
			return false;
		}
	}
	in = vn_gid_member(gid, primary, groups, (int)(len / sizeof(gid_t)));
	if (groups != small)
		free(groups);
	return in;
}

/* A new client of the control socket: who it is (SO_PEERCRED). */
static int accept_local(struct vn_server *s, struct vn_conn *c)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	(void)s;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl))
		return -1;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	snprintf(c->peer, sizeof(c->peer), "uid %u pid %d", (unsigned)cred.uid, (int)cred.pid);
	return 0;
}

static void serve_local(struct vn_server *s, struct vn_conn *c, char *buf)
{
	struct vnoded *d = s->priv;
	struct vn_caller who = { .uid = c->uid, .gid = c->gid, .pid = c->pid };
	char *resp;

	who.in_group = d->have_gid && peer_in_group(c->fd, c->gid, d->gid);
	vlog(LOG_DEBUG, "request from uid %u pid %d: %s", who.uid, who.pid, buf);
	resp = vn_handle_request(&d->ctx, buf, &who);
	if (resp) {
		if (vn_write_reply(c->fd, resp, d->ctx.reply_fd))
			vlog(LOG_DEBUG, "client went away");
		else
			vn_watch_adopt(&d->ctx, c->fd);	/* events.watch */
		free(resp);
	}
	d->ctx.watch.pending = -1;
	if (d->ctx.reply_fd >= 0)
		close(d->ctx.reply_fd);
	d->ctx.reply_fd = -1;
}

/* A new client of the agent: its address (v4 for a v4-mapped v6 one). */
static int accept_agent(struct vn_server *s, struct vn_conn *c)
{
	struct vnoded *d = s->priv;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char hello[128];
	size_t len;

	if (getpeername(c->fd, (struct sockaddr *)&ss, &sl))
		return -1;
	/* the greeting with our nonce: small, a fresh socket takes it */
	if (vn_agent_hello(&d->ag, c->nonce, hello, sizeof(hello)))
		return -1;
	len = strlen(hello);
	if (send(c->fd, hello, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		/* a v4 client of a dual-stack socket is its v4 address */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], c->peer, sizeof(c->peer));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof(c->peer));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer,
			  sizeof(c->peer));
	}
	return 0;
}

static void serve_agent(struct vn_server *s, struct vn_conn *c, char *buf)
{
	struct vnoded *d = s->priv;
	char *resp;

	vlog(LOG_DEBUG, "agent request from %s: %s", c->peer, buf);
	resp = vn_agent_handle(&d->ag, c->nonce, buf, c->peer);
	if (resp && vn_write_reply(c->fd, resp, -1))
		vlog(LOG_DEBUG, "client %s went away", c->peer);
	free(resp);
}

static int setup_agent(struct vnoded *d)
{
	struct sockaddr_storage ss = { 0 };
	char addr[VN_ADDR_MAX];
	socklen_t len;
	int fd, port, one = 1;
	const char *l = d->listen ? d->listen : d->conf.agent.listen;

	if (vn_hostport_parse(l, VN_AGENT_PORT, addr, sizeof(addr), &port)) {
		vlog(LOG_ERR, "invalid agent address '%s' (ADDR[:PORT])", l);
		return -1;
	}
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
		vlog(LOG_ERR, "cannot listen on %s port %d: %s", addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->listen_fd = fd;
	vlog(LOG_INFO, "storage agent listening on %s port %d%s", addr, port,
	     d->ag.key.len ? " (requests authenticated with the cluster key or an identity's key)" :
	     " (INSECURE: no cluster key, requests are not authenticated)");
	return 0;
}

static void run(struct vnoded *d)
{
	struct pollfd pfd[2 + VN_CONN_MAX + VN_WATCH_MAX];
	int64_t next = d->agent ? INT64_MAX : vn_mono_ms() + d->interval_s * 1000;

	vn_server_init(&d->srv, d->listen_fd, VN_CONN_MAX, VN_REQUEST_MS);
	d->srv.priv = d;
	d->srv.log = vlog;
	d->srv.on_accept = d->agent ? accept_agent : accept_local;
	d->srv.on_request = d->agent ? serve_agent : serve_local;
	d->state = VNODED_RUNNING;
	while (d->state == VNODED_RUNNING) {
		int64_t left = next - vn_mono_ms();
		int n, nw, ret;

		if (left > 3600 * 1000)
			left = 3600 * 1000;
		if (left <= 0) {
			vn_reap_children();
			vn_reconcile(&d->ctx, true);
			vn_watch_flush(&d->ctx);
			next = vn_mono_ms() + d->interval_s * 1000;
			continue;
		}
		pfd[0] = (struct pollfd){ .fd = d->sig_fd, .events = POLLIN };
		n = 1 + vn_server_pollfds(&d->srv, pfd + 1);
		nw = vn_watch_pollfds(&d->ctx.watch, pfd + n);
		/* monitors of every host's events read the others' in time */
		ret = poll(pfd, (nfds_t)(n + nw),
			   vn_watch_timeout(&d->ctx, vn_server_timeout(&d->srv, (int)left)));
		if (ret < 0 && errno != EINTR) {
			vlog(LOG_ERR, "poll: %s", strerror(errno));
			break;
		}
		if (ret < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload(d);
				} else {
					vlog(LOG_INFO, "signal %d: stopping (vNodes keep running)",
					     si.ssi_signo);
					d->state = VNODED_STOPPING;
				}
			}
		}
		/* accepts and reads every client, runs complete requests one
		 * at a time, drops those past their deadline */
		vn_server_events(&d->srv, pfd + 1, n - 1);
		/* monitors: the gone ones go, the rest get what the requests
		 * just logged */
		vn_watch_events(&d->ctx, pfd + n, nw);
		vn_watch_flush(&d->ctx);
	}
	vn_server_fini(&d->srv);
}

static void print_config(const struct vn_conf *conf,
			 const struct vn_fabric_presets *ps)
{
	char h[32], t[4][32];
	int i;

	vn_headroom_fmt(conf->cluster.headroom, h, sizeof(h));
	printf("cluster replicas %d disk %s disk_size %llu probe_timeout_ms %d agent_port %d key_file %s insecure %s headroom %s protect %s storage_protect %s\n",
	       conf->cluster.replicas, conf->cluster.disk,
	       (unsigned long long)conf->cluster.disk_size,
	       conf->cluster.probe_timeout_ms, conf->cluster.agent_port,
	       conf->cluster.auth.key_file,
	       conf->cluster.auth.insecure ? "true" : "false", h,
	       vn_protect_name(conf->cluster.protect),
	       vn_vol_protect_name(conf->cluster.storage_protect));
	if (conf->cluster.database[0])
		printf("database %s database_readonly %s database_wait %d\n",
		       conf->cluster.database, conf->cluster.database_ro,
		       conf->cluster.database_wait_s);
	printf("agent listen %s\n", conf->agent.listen);
	for (i = 0; i < conf->nr_comps; i++)
		printf("%s %s addr %s port %d\n", vn_kind_name(conf->comps[i].kind),
		       conf->comps[i].name, conf->comps[i].addr, conf->comps[i].port);
	for (i = 0; ps && i < ps->n; i++) {
		const struct vn_fabric_set *f = &ps->p[i].set;

		vn_fmt_time(f->target_ns, t[0], sizeof(t[0]));
		vn_fmt_time(f->jitter_ns, t[1], sizeof(t[1]));
		vn_fmt_rate(f->read_bps, t[2], sizeof(t[2]));
		vn_fmt_rate(f->write_bps, t[3], sizeof(t[3]));
		printf("fabric %s latency %s jitter %s:%s read_bw %s write_bw %s from %s\n",
		       f->preset, t[0], t[1], f->jitter_dist, t[2], t[3], ps->p[i].origin);
	}
}

/* vnoded --agent: no state, no socket, just vnode_stor volumes over TCP. */
static int agent_main(struct vnoded *d)
{
	struct vn_err err;

	if (vn_kern_init(&d->ag.kern, d->sysroot, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		return 1;
	}
	if (agent_key(&d->conf, &d->ag.key))
		return 1;
	d->ag.delete_timeout_ms = 10000;
	d->ag.log = vlog;
	if (vn_stor_check(&d->ag.kern, &err))
		vlog(LOG_WARNING, "%s: volume requests fail until it is", err.msg);
	if (setup_signals(d) || setup_agent(d))
		return 1;
	if (!d->foreground && daemon(0, 1)) {
		vlog(LOG_ERR, "daemon: %s", strerror(errno));
		return 1;
	}
	sd_notify(0, "READY=1\nSTATUS=serving storage requests");
	run(d);
	sd_notify(0, "STOPPING=1");
	close(d->listen_fd);
	close(d->sig_fd);
	return 0;
}

/* --identity-key NAME: "NAME HEX", for NAME's /etc/vnode/identity.key. */
static int print_identity_key(const struct vn_auth_conf *a, const char *name)
{
	struct vn_key key, ki;
	struct vn_err err;
	char hex[2 * VN_KEY_MAX + 1];
	int ret;

	ret = vn_key_load(a->key_file, &key, NULL, &err);
	if (!ret)
		ret = vn_identity_key(&key, name, &ki, &err);
	vn_key_clear(&key);
	if (ret) {
		fprintf(stderr, "vnoded: %s\n", err.msg);
		return 1;
	}
	vn_hex_encode(ki.bytes, ki.len, hex);
	printf("%s %s\n", ki.ident, hex);
	vn_key_clear(&ki);
	OPENSSL_cleanse(hex, sizeof(hex));
	return 0;
}

int main(int argc, char **argv)
{
	struct vnoded d = { .lock_fd = -1, .listen_fd = -1, .sig_fd = -1 };
	char dbpath[PATH_MAX], lockpath[PATH_MAX];
	struct vn_err err;
	bool check = false;
	int ret, bad;

	use_journal_prefix = getenv("JOURNAL_STREAM") != NULL;
	ret = parse_args(&d, argc, argv, &check);
	if (ret)
		return ret;
	verbose_log = d.verbose;
	if (d.evict)
		return vn_evict_foreground(d.evict, d.headroom);

	/* a malformed config stops us before any state is touched */
	if (load_config(&d, &d.conf))
		return 1;
	if (!d.agent && !d.identity_key && load_fabrics(&d))
		return 1;
	if (check) {
		print_config(&d.conf, d.presets);
		return 0;
	}
	if (d.identity_key)
		return print_identity_key(&d.conf.cluster.auth, d.identity_key);
	if (d.agent)
		return agent_main(&d);
	if (check_group(&d))
		return 1;
	if ((ret = vn_mkdirs(d.statedir, 0, 0755))) {
		vlog(LOG_ERR, "cannot create state dir %s: %s", d.statedir, strerror(-ret));
		return 1;
	}
	if (vn_path(dbpath, sizeof(dbpath), "%s/state.db", d.statedir) ||
	    vn_path(lockpath, sizeof(lockpath), "%s/vnoded.lock", d.statedir)) {
		vlog(LOG_ERR, "state dir path too long");
		return 1;
	}
	d.lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d.lock_fd < 0 || flock(d.lock_fd, LOCK_EX | LOCK_NB)) {
		vlog(LOG_ERR, "state dir %s is in use by another vnoded", d.statedir);
		return 1;
	}
	if (!d.foreground && daemon(0, 1)) {
		vlog(LOG_ERR, "daemon: %s", strerror(errno));
		return 1;
	}

	if (d.conf.cluster.database[0] && wait_database(&d.conf.cluster)) {
		ret = 1;
		goto out_lock;
	}
	if (vn_ctx_init(&d.ctx, d.conf.cluster.database[0] ? d.conf.cluster.database : dbpath,
			d.sysroot, &d.conf.cluster, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		ret = 1;
		goto out_lock;
	}
	d.ctx.log = vlog;
	d.ctx.group = d.group;
	d.ctx.interval_ms = d.interval_s * 1000;
	*d.ctx.presets = *d.presets;
	if (d.cgroup && vn_kern_set_cgparent(&d.ctx.kern, d.cgroup, &err)) {
		vlog(LOG_ERR, "--cgroup: %s", err.msg);
		ret = 1;
		goto out_ctx;
	}
	if (vn_kern_fake(&d.ctx.kern))
		vlog(LOG_NOTICE, "fake kernel under sysroot %s", d.ctx.kern.root);
	else
		check_key(&d.conf.cluster);
	if (vn_config_sync(&d.ctx, &d.conf, &err)) {
		vlog(LOG_ERR, "%s", err.msg);
		ret = 1;
		goto out_ctx;
	}
	if (setup_signals(&d) || setup_socket(&d)) {
		ret = 1;
		goto out_sig;
	}
	vn_event(&d.ctx, "daemon.start", "daemon", NULL, NULL, NULL);
	vn_probe_all(&d.ctx, NULL);
	bad = vn_reconcile(&d.ctx, true);
	vlog(bad ? LOG_WARNING : LOG_INFO, "listening on %s, state %s%s%s", d.sock,
	     d.conf.cluster.database[0] ? "in the cluster's PostgreSQL database as process host " :
	     "", d.conf.cluster.database[0] ? d.ctx.host : dbpath,
	     bad ? " (some vNodes could not be restored, see above)" : "");
	/* Type=notify: ready once the hosts are probed and the vNodes
	 * reconciled, so units ordered after vnoded find them */
	sd_notifyf(0, "READY=1\nSTATUS=%s", bad ? "serving; some vNodes could not be restored" :
		   "serving");

	run(&d);

	sd_notify(0, "STOPPING=1");
	vn_event(&d.ctx, "daemon.stop", "daemon", NULL, NULL, NULL);
	vn_watch_flush(&d.ctx);	/* monitors see it before the end */
	ret = 0;
	close(d.listen_fd);
	unlink(d.sock);
out_sig:
	if (d.sig_fd >= 0)
		close(d.sig_fd);
out_ctx:
	vn_ctx_fini(&d.ctx);
out_lock:
	close(d.lock_fd);
	free(d.presets);
	return ret;
}
