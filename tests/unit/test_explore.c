// SPDX-License-Identifier: GPL-2.0
/* vnodectl explore (userspace/vnodectl/explore.c): parsing, the partial
 * order and the recommendation, the table and JSON, the explore.record
 * rows, and a whole exploration against a fake vnode-run. */
#include <math.h>
#include <time.h>

#include "unit.h"
#include "vnodectl.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(ex, maxr, err, ...) \
	vc_explore_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), maxr, ex, err)

static struct vc_explore ex;

static void parse_space(void **state)
{
	struct vn_err err;

	(void)state;
	/* defaults: none,crc,aead x the cluster's 1,2; no volume; 25% */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--", "true"), 0);
	assert_int_equal(ex.nconf, 6);
	assert_true(ex.budget > 1.199 && ex.budget < 1.201);
	assert_string_equal(ex.mem, "1G");
	assert_int_equal(ex.conf[0].protect, VN_PROTECT_NONE);
	assert_int_equal(ex.conf[0].replicas, 1);
	assert_int_equal(ex.conf[1].replicas, 2);
	assert_int_equal(ex.conf[5].protect, VN_PROTECT_AEAD);
	assert_string_equal(ex.conf[5].cache, "25%");
	assert_false(ex.conf[0].storage);
	assert_int_equal(ex.ncmd, 1);
	/* one memory host: 1; vnoded not reachable: its default only */
	assert_int_equal(PARSE(&ex, 1, &err, "explore", "--", "true"), 0);
	assert_int_equal(ex.nconf, 3);
	assert_int_equal(PARSE(&ex, 0, &err, "explore", "--", "true"), 0);
	assert_int_equal(ex.conf[0].replicas, 0);
	/* volume profiles, caches, everything given */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--budget", "5%", "--mem=512M",
			       "--cache", "25%,50%,128M", "--protect", "crc,aead", "--replicas", "2",
			       "--storage", "1G", "--repeat", "3", "--metric", "([0-9]+) ops",
			       "-j", "--", "sh", "-c", "echo 1 ops"), 0);
	assert_int_equal(ex.nconf, 2 * 1 * 3 * 3);
	assert_true(ex.budget > 1.049 && ex.budget < 1.051);
	assert_int_equal(ex.repeat, 3);
	assert_true(ex.json);
	assert_true(ex.conf[0].storage);
	assert_int_equal(ex.conf[0].vprotect, VN_VOL_PROTECT_NONE);
	assert_string_equal(ex.conf[2].cache, "128M");
	assert_int_equal(ex.conf[3].vprotect, VN_VOL_PROTECT_INTEGRITY);
	assert_int_equal(ex.conf[17].protect, VN_PROTECT_AEAD);
	assert_int_equal(ex.conf[17].vprotect, VN_VOL_PROTECT_CRYPT);
	assert_int_equal(ex.ncmd, 3);
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--budget", "1.5x", "--storage", "1G",
			       "--storage-protect", "crypt", "--", "true"), 0);
	assert_int_equal(ex.nconf, 6);
	assert_true(ex.budget > 1.499 && ex.budget < 1.501);
}

static void parse_errors(void **state)
{
	static const struct {
		const char *opt, *val, *msg;
	} bad[] = {
		{ "--budget", "20", "--budget must be a percentage" },
		{ "--budget", "-5%", "--budget must be" },
		{ "--budget", "0.5x", "--budget must be" },
		{ "--budget", "2000%", "--budget must be" },
		{ "--protect", "none,rot13", "--protect must be none, crc or aead, got 'rot13'" },
		{ "--protect", "crc,,aead", "--protect: an empty word" },
		{ "--protect", "crc,", "--protect: an empty word" },
		{ "--protect", "crc,crc", "--protect: 'crc' given twice" },
		{ "--replicas", "3", "--replicas must be 1 or 2, got '3'" },
		{ "--mem", "12Q", "--mem: " },
		{ "--cache", "25%,200%", "--cache: " },
		{ "--storage", "-1G", "--storage: " },
		{ "--repeat", "0", "--repeat must be 1..100" },
		{ "--metric", "[0-9", "--metric: invalid regular expression" },
		{ "--metric", "[0-9]+", "has no group" },
		{ "--plot", "it's.png", "--plot: a file name without" },
		{ "--storage-protect", "crypt", "--storage-protect goes with --storage" },
		{ "--frobnicate", "1", "unknown option '--frobnicate'" },
	};
	struct vn_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *av[] = { "explore", (char *)bad[i].opt, (char *)bad[i].val, "--", "true",
			       NULL };

		if (vc_explore_parse(5, av, 2, &ex, &err) != -EINVAL || !strstr(err.msg, bad[i].msg))
			fail_msg("%s %s: '%s', want '%s'", bad[i].opt, bad[i].val, err.msg,
				 bad[i].msg);
	}
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--protect", "crc"), -EINVAL);
	assert_non_null(strstr(err.msg, "no command: '-- CMD [ARGS]'"));
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--protect", "crc", "--"), -EINVAL);
	assert_non_null(strstr(err.msg, "no command"));
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "make", "test"), -EINVAL);
	assert_non_null(strstr(err.msg, "the command goes after '--'"));
	/* 3 x 2 x 3 x 8 > VC_EX_MAX */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--storage", "1G", "--cache",
			       "1%,2%,3%,4%,5%,6%,7%,8%", "--", "true"), -EINVAL);
	assert_non_null(strstr(err.msg, "144 configurations: at most 100"));
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--cache", "1%,2%,3%,4%,5%,6%,7%,8%,9%",
			       "--", "true"), -EINVAL);
	assert_non_null(strstr(err.msg, "at most 8 words"));
}

static struct vc_ex_conf conf(enum vn_protect p, int r, int v)
{
	struct vc_ex_conf c = { .protect = p, .replicas = r, .storage = v >= 0,
				.vprotect = v > 0 ? (enum vn_vol_protect)v : VN_VOL_PROTECT_NONE,
				.cache = "25%" };

	return c;
}

static void order(void **state)
{
	struct vc_ex_conf a = conf(VN_PROTECT_AEAD, 1, -1), c = conf(VN_PROTECT_CRC, 2, -1),
			  n1 = conf(VN_PROTECT_NONE, 1, -1), a2 = conf(VN_PROTECT_AEAD, 2, -1),
			  ci = conf(VN_PROTECT_CRC, 1, 1), cc = conf(VN_PROTECT_CRC, 1, 2),
			  d = conf(VN_PROTECT_CRC, 0, -1), dn = conf(VN_PROTECT_NONE, 0, -1);

	(void)state;
	assert_true(vc_ex_safer(&a, &n1));
	assert_false(vc_ex_safer(&n1, &a));
	assert_false(vc_ex_safer(&a, &a));		/* not strictly */
	assert_false(vc_ex_safer(&a, &c));		/* incomparable */
	assert_false(vc_ex_safer(&c, &a));
	assert_true(vc_ex_safer(&a2, &a));
	assert_true(vc_ex_safer(&a2, &c));
	assert_true(vc_ex_safer(&cc, &ci));
	assert_false(vc_ex_safer(&a2, &ci));		/* ci's volume is safer */
	assert_true(vc_ex_safer(&d, &dn));
	assert_int_equal(vc_ex_rank(&n1), 0);
	assert_int_equal(vc_ex_rank(&a), 2);
	assert_int_equal(vc_ex_rank(&c), 2);
	assert_int_equal(vc_ex_rank(&a2), 3);
	assert_int_equal(vc_ex_rank(&cc), 3);
	assert_int_equal(vc_ex_rank(&d), 1);
}

/* results: seconds per configuration, < 0 failed */
static void results(const double *secs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		ex.conf[i].ok = secs[i] >= 0;
		ex.conf[i].code = secs[i] >= 0 ? 0 : 1;
		ex.conf[i].seconds = secs[i];
	}
}

static void recommend(void **state)
{
	struct vn_err err;

	(void)state;
	/* none/1 none/2 crc/1 crc/2 aead/1 aead/2 */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--", "true"), 0);
	results((const double[]){ 10, 11, 10.5, 11.8, 12.5, 14 }, 6);
	assert_int_equal(vc_ex_recommend(&ex), 1);
	assert_true(ex.conf[3].recommended);		/* crc/2: 1.18x */
	assert_true(ex.conf[3].slowdown > 1.179 && ex.conf[3].slowdown < 1.181);
	assert_true(ex.conf[0].slowdown == 1.0);
	/* incomparable maximal elements: both */
	results((const double[]){ 10, 11, 10.5, 11.8, 11.9, 14 }, 6);
	assert_int_equal(vc_ex_recommend(&ex), 2);
	assert_true(ex.conf[3].recommended && ex.conf[4].recommended);
	/* exactly on the budget counts; a failed safest one does not */
	results((const double[]){ 10, 11, 10.5, 11.8, 12, -1 }, 6);
	assert_int_equal(vc_ex_recommend(&ex), 2);
	assert_true(ex.conf[4].recommended);
	assert_false(ex.conf[5].recommended);
	/* the fastest failed: the slowdown is against the fastest that ran */
	results((const double[]){ -1, 20, 20, 20, 20, 20 }, 6);
	assert_int_equal(vc_ex_recommend(&ex), 1);
	assert_true(ex.conf[5].recommended);
	assert_true(ex.conf[5].slowdown == 1.0);
	/* nothing ran */
	results((const double[]){ -1, -1, -1, -1, -1, -1 }, 6);
	assert_int_equal(vc_ex_recommend(&ex), 0);
	/* ties: equal safety, two caches: both */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--protect", "aead", "--replicas", "2",
			       "--cache", "25%,50%", "--", "true"), 0);
	results((const double[]){ 10, 9 }, 2);
	assert_int_equal(vc_ex_recommend(&ex), 2);
	/* a metric: higher is better */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--metric", "([0-9]+)", "--protect",
			       "none,aead", "--replicas", "1", "--", "true"), 0);
	ex.conf[0].ok = ex.conf[1].ok = true;
	ex.conf[0].metric = 1000;
	ex.conf[1].metric = 800;
	ex.budget = 1.3;
	assert_int_equal(vc_ex_recommend(&ex), 1);
	assert_true(ex.conf[1].recommended);
	assert_true(ex.conf[1].slowdown > 1.249 && ex.conf[1].slowdown < 1.251);
	ex.budget = 1.2;
	assert_int_equal(vc_ex_recommend(&ex), 1);
	assert_true(ex.conf[0].recommended);
}

static void metric(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(vc_ex_metric("throughput: ([0-9.]+)", "x\nthroughput: 12.5 ops/s\n", &v), 0);
	assert_true(v == 12.5);
	assert_int_equal(vc_ex_metric("ops=(.*)$", "ops= 42\n", &v), 0);
	assert_true(v == 42);
	assert_int_equal(vc_ex_metric("ops=([0-9]+)", "nothing\n", &v), -ENOENT);
	assert_int_equal(vc_ex_metric("ops=([a-z]+)", "ops=abc\n", &v), -ENOENT);
}

/* the text or JSON of ex on a printer into a string (caller frees) */
static char *printed(bool json)
{
	struct vc vc = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	vp_init(&vc.p, f, json);
	vc_ex_print(&vc, &ex);
	fclose(f);
	return buf;
}

static void output(void **state)
{
	json_object *o, *a, *c;
	struct vn_err err;
	char *s;

	(void)state;
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--", "stress", "-m", "1"), 0);
	results((const double[]){ 10, 11, 10.5, 11.8, -1, 14 }, 6);
	ex.conf[4].code = 137;
	vc_ex_recommend(&ex);
	snprintf(ex.id, sizeof(ex.id), "x1");
	s = printed(false);
	assert_non_null(strstr(s, "#   protect  replicas cache  seconds "));
	assert_non_null(strstr(s, "slowdown rank recommended\n"));
	assert_non_null(strstr(s, "\n1   none     1        25%    10.000                 1.00x    0    \n"));
	assert_non_null(strstr(s, "\n4   crc      2        25%    11.800                 1.18x    2    *\n"));
	assert_non_null(strstr(s, "\n5   aead     1        25%    failed (exit 137)      -        2    \n"));
	assert_non_null(strstr(s, "rank: the sum of the protection levels"));
	assert_non_null(strstr(s, "recommended: protect=crc replicas=2 cache=25% (1.18x, rank 2)\n"));
	free(s);

	s = printed(true);
	o = json_tokener_parse(s);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "command")),
			    "stress -m 1");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "measure")), "seconds");
	a = json_object_object_get(o, "configurations");
	assert_int_equal(json_object_array_length(a), 6);
	c = json_object_array_get_idx(a, 4);
	assert_false(json_object_get_boolean(json_object_object_get(c, "ok")));
	assert_int_equal(json_object_get_int(json_object_object_get(c, "exit")), 137);
	assert_null(json_object_object_get(c, "slowdown"));
	c = json_object_array_get_idx(a, 3);
	assert_true(json_object_get_boolean(json_object_object_get(c, "recommended")));
	assert_int_equal(json_object_get_int(json_object_object_get(c, "replicas")), 2);
	assert_int_equal(json_object_get_int64(json_object_object_get(c, "cache_bytes")), 256 << 20);
	a = json_object_object_get(o, "recommended");
	assert_int_equal(json_object_array_length(a), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)),
			    "protect=crc replicas=2 cache=25%");
	json_object_put(o);
	free(s);

	/* explore.record's rows */
	o = vc_ex_record_args(&ex);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "id")), "x1");
	a = json_object_object_get(o, "rows");
	assert_int_equal(json_object_array_length(a), 6);
	assert_int_equal(json_object_get_int(json_object_object_get(json_object_array_get_idx(a, 5),
								      "seq")), 6);
	json_object_put(o);
}

/* A fake vnode-run: logs its options, runs what follows "--"; aead with
 * 2 replicas fails, crc is slower. */
static const char fake_run[] =
	"#!/bin/sh\n"
	"echo \"$*\" >>\"$FAKE_LOG\"\n"
	"p=; r=\n"
	"while [ \"$1\" != -- ]; do\n"
	"  case $1 in --protect) p=$2 ;; --replicas) r=$2 ;; esac; shift\n"
	"done\n"
	"shift\n"
	"[ \"$p$r\" = aead2 ] && exit 3\n"
	"export FAKE_P=$p\n"
	"exec \"$@\"\n";

/* dir: a new directory with the fake vnode-run (VNODE_EXPLORE_RUN), its
 * log (FAKE_LOG) and outp, the path for the table */
static void fake_setup(char *dir, size_t dlen, char *outp, size_t olen)
{
	char run[PATH_MAX], log[PATH_MAX];

	make_tmpdir(dir, dlen);
	write_at(dir, "vnode-run", fake_run);
	snprintf(run, sizeof(run), "%s/vnode-run", dir);
	chmod(run, 0755);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(outp, olen, "%s/out", dir);
	setenv(VC_EXPLORE_RUN_ENV, run, 1);
	setenv("FAKE_LOG", log, 1);
}

static void full(void **state)
{
	char dir[256], log[PATH_MAX], outp[PATH_MAX];
	struct vc vc = { .sock = "/nonexistent/vnoded.sock" };
	struct vn_err err;
	char **av = ARGV("explore", "--replicas", "1,2", "--metric", "rate=([0-9]+)", "--",
			 "sh", "-c", "case $FAKE_P in crc) sleep 0.2; echo rate=800 ;; "
			 "*) echo rate=1000 ;; esac");
	FILE *f;
	int ret;

	(void)state;
	fake_setup(dir, sizeof(dir), outp, sizeof(outp));
	assert_int_equal(vc_explore_parse(argv_len(av), av, 0, &ex, &err), 0);
	f = fopen(outp, "w");
	assert_non_null(f);
	vp_init(&vc.p, f, false);
	ret = vc_explore_run(&vc, &ex);
	fclose(f);
	assert_int_equal(ret, VC_OK);
	assert_true(ex.conf[0].ok && ex.conf[0].metric == 1000);	/* none/1 */
	assert_true(ex.conf[2].ok && ex.conf[2].metric == 800);		/* crc/1 */
	assert_true(ex.conf[2].seconds >= 0.2);
	assert_false(ex.conf[5].ok);					/* aead/2 */
	assert_int_equal(ex.conf[5].code, 3);
	assert_true(ex.conf[4].recommended);				/* aead/1 */
	assert_false(ex.conf[3].recommended);				/* crc/2: 1.25x */
	assert_int_equal(read_at(dir, "log", log, sizeof(log)), 0);
	assert_non_null(strstr(log, "-s /nonexistent/vnoded.sock --mem 1G --cache 25% --protect none --replicas 1 -- "));
	assert_non_null(strstr(log, "--protect aead --replicas 2 -- "));
	assert_non_null(strstr(log, " " VC_EXPLORE_TIMER " /tmp/vnode-explore-"));
	assert_int_equal(read_at(dir, "out", outp, sizeof(outp)), 0);
	assert_non_null(strstr(outp, "metric (higher better)"));
	assert_non_null(strstr(outp, "failed (exit 3)"));
	assert_non_null(strstr(outp, "recommended: protect=aead replicas=1 cache=25% (1.00x, rank 2)"));
	unsetenv(VC_EXPLORE_RUN_ENV);
	rm_rf(dir);
}

/* A configuration far over the budget is stopped, not waited for: the
 * limit, then a whole exploration where crc would take 60 s. */
static void stop_over_budget(void **state)
{
	char dir[256], outp[PATH_MAX];
	struct vc vc = { .sock = "/nonexistent/vnoded.sock" };
	struct vn_err err;
	char **av = ARGV("explore", "--replicas", "1", "--protect", "none,crc,aead", "--",
			 "sh", "-c", "case $FAKE_P in crc) exec sleep 60 ;; *) sleep 0.1 ;; esac");
	struct timespec t0, t1;
	FILE *f;
	int ret;

	(void)state;
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--budget", "20%", "--", "true"), 0);
	assert_true(vc_ex_limit(&ex, 0, 1, 10) == 0);		/* no best yet */
	assert_true(fabs(vc_ex_limit(&ex, 10, 2, 10) - 26) < 1e-9);	/* 12 + 2 * 2 + 10 */
	assert_int_equal(PARSE(&ex, 2, &err, "explore", "--metric", "([0-9]+)", "--", "true"), 0);
	assert_true(vc_ex_limit(&ex, 10, 2, 10) == 0);		/* a metric: never */

	fake_setup(dir, sizeof(dir), outp, sizeof(outp));
	setenv(VC_EXPLORE_GRACE_ENV, "2", 1);
	assert_int_equal(vc_explore_parse(argv_len(av), av, 0, &ex, &err), 0);
	f = fopen(outp, "w");
	assert_non_null(f);
	vp_init(&vc.p, f, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vc_explore_run(&vc, &ex);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(f);
	assert_int_equal(ret, VC_OK);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	assert_true(ex.conf[0].ok && ex.conf[2].ok);		/* none, aead */
	assert_false(ex.conf[1].ok);				/* crc */
	assert_int_equal(ex.conf[1].code, VC_EX_STOPPED);
	assert_false(ex.conf[1].recommended);
	assert_true(ex.conf[2].recommended);
	assert_int_equal(read_at(dir, "out", outp, sizeof(outp)), 0);
	assert_non_null(strstr(outp, "over budget, stopped"));
	unsetenv(VC_EXPLORE_RUN_ENV);
	unsetenv(VC_EXPLORE_GRACE_ENV);
	rm_rf(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_space),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(order),
		cmocka_unit_test(recommend),
		cmocka_unit_test(metric),
		cmocka_unit_test(output),
		cmocka_unit_test(full),
		cmocka_unit_test(stop_over_budget),
	};

	/* the fake vnode-run runs us as vnodectl's timer */
	if (argc > 1 && !strcmp(argv[1], VC_EXPLORE_TIMER))
		return vc_explore_timer(argc - 2, argv + 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
