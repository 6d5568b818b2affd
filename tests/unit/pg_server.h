/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A throwaway PostgreSQL server for the unit tests (test_vsql, test_cluster):
 * initdb in a temp dir, listening only on a unix socket there (no TCP),
 * started once for a test group and stopped and removed at its end.  As
 * root, the postgres user runs it (initdb refuses root).  A server that
 * does not start fails the PostgreSQL cases (pg.err says why), not the
 * others.
 */
#ifndef VN_PG_SERVER_H
#define VN_PG_SERVER_H

#include "unit.h"

#include <fcntl.h>
#include <glob.h>
#include <pwd.h>

static __attribute__((unused)) struct {
	char dir[128];		/* socket, data/, logs */
	char bin[PATH_MAX];	/* /usr/lib/postgresql/N/bin */
	char conninfo[256];
	char err[1024];		/* why it is not up ("" = it is) */
	bool up;
	struct passwd *pw;	/* root: the postgres user runs the server */
} pg;

/*
 * Run the server's tool argv (bin/argv[0]) to its end, as the postgres user
 * when we are root (initdb refuses root), its output appended to
 * <dir>/setup.log.  0 or -1 (with pg.err set).
 */
static inline int pg_tool(char **argv)
{
	char path[PATH_MAX + 64], log[256];
	char *full[24];
	int n = 0, i, st, fd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", pg.bin, argv[0]);
	snprintf(log, sizeof(log), "%s/setup.log", pg.dir);
	if (pg.pw) {
		full[n++] = "runuser";
		full[n++] = "-u";
		full[n++] = "postgres";
		full[n++] = "--";
	}
	full[n++] = path;
	for (i = 1; argv[i] && n < 23; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* a cwd the postgres user can enter (not root's home) */
		if (chdir(pg.dir))
			_exit(126);
		execvp(full[0], full);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		char out[600] = "";

		read_at(pg.dir, "setup.log", out, sizeof(out));
		snprintf(pg.err, sizeof(pg.err), "%s failed: %s", argv[0], out);
		return -1;
	}
	return 0;
}

static inline int pg_start(void)
{
	char data[256], conf[512];
	glob_t g;
	FILE *f;

	/* the newest installed server */
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) || !g.gl_pathc) {
		snprintf(pg.err, sizeof(pg.err), "PostgreSQL server not installed "
			 "(/usr/lib/postgresql/*/bin/initdb): run scripts/install-deps");
		return -1;
	}
	snprintf(pg.bin, sizeof(pg.bin), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	*strrchr(pg.bin, '/') = '\0';
	if (!geteuid()) {
		pg.pw = getpwnam("postgres");
		if (!pg.pw) {
			snprintf(pg.err, sizeof(pg.err),
				 "no postgres user to run the server: run scripts/install-deps");
			return -1;
		}
	}
	/*
	 * /tmp, not $TMPDIR: the socket's path must fit in sun_path and the
	 * postgres user must reach it
	 */
	snprintf(pg.dir, sizeof(pg.dir), "/tmp/vnode-pg-XXXXXX");
	if (!mkdtemp(pg.dir)) {
		snprintf(pg.err, sizeof(pg.err), "mkdtemp: %s", strerror(errno));
		pg.dir[0] = '\0';
		return -1;
	}
	if (pg.pw && chown(pg.dir, pg.pw->pw_uid, pg.pw->pw_gid)) {
		snprintf(pg.err, sizeof(pg.err), "chown %s: %s", pg.dir, strerror(errno));
		return -1;
	}
	snprintf(data, sizeof(data), "%s/data", pg.dir);
	if (pg_tool((char *[]){ "initdb", "-D", data, "-U", "postgres", "--auth=trust",
				"--no-sync", "--no-locale", "-E", "UTF8", NULL }))
		return -1;
	/* no TCP at all, only the socket in our dir; a test server needs no fsync */
	snprintf(conf, sizeof(conf), "%s/postgresql.conf", data);
	f = fopen(conf, "a");
	if (!f) {
		snprintf(pg.err, sizeof(pg.err), "%s: %s", conf, strerror(errno));
		return -1;
	}
	fprintf(f, "listen_addresses = ''\nunix_socket_directories = '%s'\n"
		"fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n", pg.dir);
	fclose(f);
	snprintf(conf, sizeof(conf), "%s/server.log", pg.dir);
	if (pg_tool((char *[]){ "pg_ctl", "-D", data, "-l", conf, "-w", "-t", "30",
				"start", NULL }))
		return -1;
	pg.up = true;
	snprintf(pg.conninfo, sizeof(pg.conninfo), "host=%s dbname=postgres user=postgres",
		 pg.dir);
	return 0;
}

static inline int pg_group_setup(void **state)
{
	(void)state;
	/* a server that does not start fails the PostgreSQL cases, not the SQLite ones */
	pg_start();
	return 0;
}

static inline int pg_group_teardown(void **state)
{
	char data[256];

	(void)state;
	if (pg.up) {
		snprintf(data, sizeof(data), "%s/data", pg.dir);
		pg_tool((char *[]){ "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", NULL });
		pg.up = false;
	}
	if (pg.dir[0])
		rm_rf(pg.dir);
	return 0;
}

/* A connection to database dbname of the server (as user, NULL: postgres). */
static inline void pg_conninfo(char *buf, size_t len, const char *dbname, const char *user)
{
	snprintf(buf, len, "host=%s dbname=%s user=%s", pg.dir, dbname, user ? user : "postgres");
}

#endif /* VN_PG_SERVER_H */
