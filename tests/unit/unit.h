/* SPDX-License-Identifier: GPL-2.0 */
/* Shared helpers for the cmocka unit tests (fake sysroot, temp dirs). */
#ifndef VN_UNIT_H
#define VN_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "vsql.h"

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

/* the number of words of a NULL-terminated argv */
static inline int argv_len(char *const *argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp under $TMPDIR or /tmp; returns a static-lifetime string. */
static inline char *make_tmpdir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/vnode-unit-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(buf));
	return buf;
}

static inline void write_at(const char *dir, const char *rel, const char *val)
{
	char p[PATH_MAX], d[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	vn_mkdirs(d, 0, 0755);		/* mkdir -p dirname */
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(val, f);
	fclose(f);
}

/* dir/rel, in a buffer the next call reuses */
static inline const char *path_at(const char *dir, const char *rel)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return p;
}

static inline int read_at(const char *dir, const char *rel, char *buf, size_t len)
{
	char p[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	fclose(f);
	return 0;
}

static inline int exists_at(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return !stat(p, &st);
}

/* Count lines of a file containing needle. */
static inline int count_lines_at(const char *dir, const char *rel,
				 const char *needle)
{
	char p[PATH_MAX], line[1024];
	int n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* One integer from a query (-1 if no row). */
static inline int64_t db_int(struct vsql *db, const char *sql)
{
	struct vsql_st *st;
	int64_t v = -1;

	assert_int_equal(vsql_prepare(db, sql, &st), 0);
	if (vsql_step(st) == VSQL_ROW)
		v = vsql_column_int64(st, 0);
	vsql_finalize(st);
	return v;
}

#endif /* VN_UNIT_H */
