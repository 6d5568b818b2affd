// SPDX-License-Identifier: GPL-2.0
/*
 * vnodectl explore: the FlexOS idea (issue 17 §3) for vNodes.  CMD runs
 * once per configuration (memory profile x replicas x volume profile x
 * ExCache size) in a throw-away vNode, and the safest configurations
 * within a performance budget are recommended.
 *
 * Each run is vnode-run's: the vnode-run binary is executed with the
 * configuration's options (it has no library entry point: its vNode,
 * signal forwarding, mount namespace and clean-up live in its main, and
 * the user's own tool is the one measured).  To leave the vNode's
 * creation and destruction (a volume's format and wipe) out of the
 * measure, vnode-run runs `vnodectl __explore-time FILE CMD...` inside
 * the vNode, which times CMD alone.
 *
 * Safety is a partial order (FlexOS): a configuration is safer than
 * another when it is at least as safe in every dimension (memory aead >
 * crc > none, replicas 2 > 1, volume crypt > integrity > none) and safer
 * in one.  The recommended ones are the maximal elements among the
 * configurations that ran and are within the budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "size.h"
#include "vnodectl.h"

#define EX_USAGE "explore [--budget PCT] [--mem SIZE] [--cache LIST] [--protect LIST]\n" \
	"    [--replicas LIST] [--storage SIZE] [--storage-protect LIST] [--repeat N]\n" \
	"    [--metric REGEX] [-j] [--plot FILE.png] -- CMD [ARGS]"
#define EX_OUT_MAX	(1 << 20)	/* CMD's stdout kept for --metric */
#define EX_CMD_MAX	1000		/* the command as recorded */

struct ex_opts {
	const char *budget, *mem, *cache, *protect, *replicas, *storage,
		   *storage_protect, *repeat, *metric, *plot;
	bool json;
};

static const struct vn_opt ex_opts[] = {
	VN_OPT_S("--budget", NULL, struct ex_opts, budget),
	VN_OPT_S("--mem", NULL, struct ex_opts, mem),
	VN_OPT_S("--cache", NULL, struct ex_opts, cache),
	VN_OPT_S("--protect", NULL, struct ex_opts, protect),
	VN_OPT_S("--replicas", NULL, struct ex_opts, replicas),
	VN_OPT_S("--storage", NULL, struct ex_opts, storage),
	VN_OPT_S("--storage-protect", NULL, struct ex_opts, storage_protect),
	VN_OPT_S("--repeat", NULL, struct ex_opts, repeat),
	VN_OPT_S("--metric", NULL, struct ex_opts, metric),
	VN_OPT_S("--plot", NULL, struct ex_opts, plot),
	VN_OPT_F("--json", "-j", struct ex_opts, json),
	VN_OPT_END_
};

int vc_ex_split(char *s, const char *opt, char **words, int max, int *n,
		struct vn_err *err)
{
	char *w, *save = NULL;
	int i;

	*n = 0;
	if (!*s || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return vn_seterr(err, EINVAL, "%s: an empty word in the list '%s'", opt, s);
	for (w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < *n; i++)
			if (!strcmp(words[i], w))
				return vn_seterr(err, EINVAL, "%s: '%s' given twice", opt, w);
		if (*n >= max)
			return vn_seterr(err, EINVAL, "%s: at most %d words", opt, max);
		words[(*n)++] = w;
	}
	return 0;
}

int vc_ex_budget(const char *s, double *bound, struct vn_err *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!errno && end != s && s[0] >= '0' && s[0] <= '9') {
		if (!strcmp(end, "%") && v <= 1000) {
			*bound = 1.0 + v / 100.0;
			return 0;
		}
		if (!strcmp(end, "x") && v >= 1.0 && v <= 11.0) {
			*bound = v;
			return 0;
		}
	}
	return vn_seterr(err, EINVAL,
			 "--budget must be a percentage 0%%..1000%% (20%%) or a slowdown 1x..11x (1.2x), got '%s'",
			 s);
}

/* the list of opt (or def), each word checked by check into the space */
typedef int (*ex_check_fn)(const char *opt, const char *w, int *v, void *priv,
			   struct vn_err *err);

static int ex_list(const char *opt, const char *val, const char *def,
		   ex_check_fn check, void *priv, char *buf, size_t len,
		   char **words, int *vals, int *n, struct vn_err *err)
{
	int i, ret;

	snprintf(buf, len, "%s", val ? val : def);
	ret = vc_ex_split(buf, opt, words, VC_EX_LIST_MAX, n, err);
	for (i = 0; !ret && i < *n; i++)
		ret = check(opt, words[i], &vals[i], priv, err);
	return ret;
}

static int chk_protect(const char *opt, const char *w, int *v, void *priv,
		       struct vn_err *err)
{
	enum vn_protect p;
	int ret = vn_protect_parse(opt, w, &p, err);

	(void)priv;
	*v = (int)p;
	return ret;
}

static int chk_vprotect(const char *opt, const char *w, int *v, void *priv,
			struct vn_err *err)
{
	enum vn_vol_protect p;
	int ret = vn_vol_protect_parse(opt, w, &p, err);

	(void)priv;
	*v = (int)p;
	return ret;
}

static int chk_replicas(const char *opt, const char *w, int *v, void *priv,
			struct vn_err *err)
{
	(void)priv;
	if (strcmp(w, "1") && strcmp(w, "2"))
		return vn_seterr(err, EINVAL, "%s must be 1 or 2, got '%s'", opt, w);
	*v = w[0] - '0';
	return 0;
}

static int chk_cache(const char *opt, const char *w, int *v, void *priv,
		     struct vn_err *err)
{
	const uint64_t *mem = priv;
	struct vn_err e;
	uint64_t b;

	*v = 0;
	if (strlen(w) >= sizeof(((struct vc_ex_conf *)NULL)->cache))
		return vn_seterr(err, EINVAL, "%s: '%s' too long", opt, w);
	if (vn_parse_size_or_pct(w, *mem, &b, &e))
		return vn_seterr(err, EINVAL, "%s: %s", opt, e.msg);
	return 0;
}

int vc_explore_parse(int argc, char **argv, int max_replicas,
		     struct vc_explore *ex, struct vn_err *err)
{
	char pbuf[128], rbuf[64], vbuf[128], cbuf[256];
	char *pw[VC_EX_LIST_MAX], *rw[VC_EX_LIST_MAX], *vw[VC_EX_LIST_MAX],
	     *cw[VC_EX_LIST_MAX];
	int pv[VC_EX_LIST_MAX], rv[VC_EX_LIST_MAX], vv[VC_EX_LIST_MAX],
	    cv[VC_EX_LIST_MAX];
	int np, nr, nv = 1, nc, i, a, b, c, d, ret;
	struct ex_opts o = { 0 };
	struct vn_err e;
	uint64_t v;
	regex_t re;

	memset(ex, 0, sizeof(*ex));
	i = vn_opts_parse(ex_opts, VN_OPTS_POSIX, &o, argc - 1, argv + 1, NULL, 0, NULL, &e);
	if (i < 0)
		return vn_seterr(err, EINVAL, "%s (usage: vnodectl " EX_USAGE ")", e.msg);
	i++;
	if (i >= argc || strcmp(argv[i - 1], "--"))
		return vn_seterr(err, EINVAL, "%s (usage: vnodectl " EX_USAGE ")",
				 i < argc ? "the command goes after '--'" : "no command: '-- CMD [ARGS]'");
	ex->cmd = argv + i;
	ex->ncmd = argc - i;
	ex->json = o.json;
	ex->plot = o.plot;
	ex->metric = o.metric;
	ex->budget_word = o.budget ? o.budget : "20%";
	ret = vc_ex_budget(ex->budget_word, &ex->budget, err);
	if (ret)
		return ret;
	ex->mem = o.mem ? o.mem : "1G";
	if (vn_parse_size(ex->mem, &ex->mem_bytes, &e))
		return vn_seterr(err, EINVAL, "--mem: %s", e.msg);
	ex->repeat = 1;
	if (o.repeat) {
		if (vn_opt_uint("--repeat", o.repeat, 100, &v, err) || !v)
			return vn_seterr(err, EINVAL, "--repeat must be 1..100, got '%s'", o.repeat);
		ex->repeat = (unsigned int)v;
	}
	if (o.metric) {
		size_t groups;

		if (regcomp(&re, o.metric, REG_EXTENDED))
			return vn_seterr(err, EINVAL, "--metric: invalid regular expression '%s'",
					 o.metric);
		groups = re.re_nsub;
		regfree(&re);
		if (!groups)
			return vn_seterr(err, EINVAL,
					 "--metric: '%s' has no group: the number is group 1's, e.g. '([0-9.]+) ops/s'",
					 o.metric);
	}
	if (o.plot && (strchr(o.plot, '\'') || !*o.plot))
		return vn_seterr(err, EINVAL, "--plot: a file name without \"'\", got '%s'", o.plot);
	if (o.storage_protect && !o.storage)
		return vn_seterr(err, EINVAL, "--storage-protect goes with --storage SIZE");
	if (o.storage && vn_parse_size(o.storage, &ex->storage_bytes, &e))
		return vn_seterr(err, EINVAL, "--storage: %s", e.msg);
	ex->storage = o.storage;
	ret = ex_list("--protect", o.protect, "none,crc,aead", chk_protect, NULL, pbuf,
		      sizeof(pbuf), pw, pv, &np, err);
	if (!ret && o.storage)
		ret = ex_list("--storage-protect", o.storage_protect, "none,integrity,crypt",
			      chk_vprotect, NULL, vbuf, sizeof(vbuf), vw, vv, &nv, err);
	else
		vv[0] = 0;
	if (!ret)
		ret = ex_list("--cache", o.cache, "25%", chk_cache, &ex->mem_bytes, cbuf,
			      sizeof(cbuf), cw, cv, &nc, err);
	if (ret)
		return ret;
	ex->replicas_given = o.replicas;
	if (o.replicas) {
		ret = ex_list("--replicas", o.replicas, "", chk_replicas, NULL, rbuf,
			      sizeof(rbuf), rw, rv, &nr, err);
		if (ret)
			return ret;
	} else {
		nr = max_replicas >= 2 ? 2 : 1;
		rv[0] = max_replicas >= 1 ? 1 : 0;
		rv[1] = 2;
	}
	if (np * nr * nv * nc > VC_EX_MAX)
		return vn_seterr(err, EINVAL, "%d configurations: at most %d",
				 np * nr * nv * nc, VC_EX_MAX);
	for (a = 0; a < np; a++)
		for (b = 0; b < nr; b++)
			for (c = 0; c < nv; c++)
				for (d = 0; d < nc; d++) {
					struct vc_ex_conf *x = &ex->conf[ex->nconf++];

					x->protect = (enum vn_protect)pv[a];
					x->replicas = rv[b];
					x->storage = o.storage;
					x->vprotect = (enum vn_vol_protect)vv[c];
					snprintf(x->cache, sizeof(x->cache), "%s", cw[d]);
				}
	return 0;
}

/* the levels of the three safety dimensions */
static void levels(const struct vc_ex_conf *c, int l[3])
{
	l[0] = (int)c->protect;
	l[1] = c->replicas > 1 ? c->replicas - 1 : 0;
	l[2] = c->storage ? (int)c->vprotect : 0;
}

bool vc_ex_safer(const struct vc_ex_conf *a, const struct vc_ex_conf *b)
{
	int la[3], lb[3], i;
	bool more = false;

	levels(a, la);
	levels(b, lb);
	for (i = 0; i < 3; i++) {
		if (la[i] < lb[i])
			return false;
		more |= la[i] > lb[i];
	}
	return more;
}

int vc_ex_rank(const struct vc_ex_conf *c)
{
	int l[3];

	levels(c, l);
	return l[0] + l[1] + l[2];
}

int vc_ex_recommend(struct vc_explore *ex)
{
	double best = 0;
	bool within[VC_EX_MAX];
	int i, j, n = 0;

	for (i = 0; i < ex->nconf; i++) {
		struct vc_ex_conf *c = &ex->conf[i];
		double m = ex->metric ? c->metric : c->seconds;

		c->rank = vc_ex_rank(c);
		c->recommended = false;
		if (c->ok && (!best || (ex->metric ? m > best : m < best)))
			best = m;
	}
	for (i = 0; i < ex->nconf; i++) {
		struct vc_ex_conf *c = &ex->conf[i];

		if (!c->ok || best <= 0)
			c->slowdown = 1.0;
		else
			c->slowdown = ex->metric ? best / c->metric : c->seconds / best;
		within[i] = c->ok && c->slowdown <= ex->budget + 1e-9;
	}
	for (i = 0; i < ex->nconf; i++) {
		if (!within[i])
			continue;
		for (j = 0; j < ex->nconf; j++)
			if (within[j] && vc_ex_safer(&ex->conf[j], &ex->conf[i]))
				break;
		if (j == ex->nconf) {
			ex->conf[i].recommended = true;
			n++;
		}
	}
	return n;
}

static const char *replicas_word(const struct vc_ex_conf *c, char *buf, size_t len)
{
	if (!c->replicas)
		return "default";
	snprintf(buf, len, "%d", c->replicas);
	return buf;
}

void vc_ex_label(const struct vc_explore *ex, const struct vc_ex_conf *c,
		 char *buf, size_t len)
{
	char r[16], s[32] = "";

	if (c->storage)
		snprintf(s, sizeof(s), " storage=%s", vn_vol_protect_name(c->vprotect));
	snprintf(buf, len, "protect=%s replicas=%s%s cache=%s", vn_protect_name(c->protect),
		 replicas_word(c, r, sizeof(r)), s, c->cache);
	(void)ex;
}

/* One configuration and its result: the JSON output's element and the
 * explore_runs row alike. */
static json_object *conf_obj(const struct vc_explore *ex, const struct vc_ex_conf *c,
			     int seq)
{
	json_object *o = json_object_new_object();
	struct vn_err e;
	uint64_t cb = 0;

	vn_parse_size_or_pct(c->cache, ex->mem_bytes, &cb, &e);
	json_object_object_add(o, "seq", json_object_new_int(seq));
	json_object_object_add(o, "protect", json_object_new_string(vn_protect_name(c->protect)));
	json_object_object_add(o, "replicas", c->replicas ? json_object_new_int(c->replicas) : NULL);
	json_object_object_add(o, "storage_protect", c->storage ?
			       json_object_new_string(vn_vol_protect_name(c->vprotect)) : NULL);
	json_object_object_add(o, "cache", json_object_new_string(c->cache));
	json_object_object_add(o, "cache_bytes", json_object_new_uint64(cb));
	json_object_object_add(o, "ok", json_object_new_boolean(c->ok));
	json_object_object_add(o, "exit", json_object_new_int(c->code));
	json_object_object_add(o, "seconds", c->ok ? json_object_new_double(c->seconds) : NULL);
	json_object_object_add(o, "metric", c->ok && ex->metric ?
			       json_object_new_double(c->metric) : NULL);
	json_object_object_add(o, "slowdown", c->ok ? json_object_new_double(c->slowdown) : NULL);
	json_object_object_add(o, "rank", json_object_new_int(c->rank));
	json_object_object_add(o, "recommended", json_object_new_boolean(c->recommended));
	return o;
}

static json_object *confs_arr(const struct vc_explore *ex)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < ex->nconf; i++)
		json_object_array_add(a, conf_obj(ex, &ex->conf[i], i + 1));
	return a;
}

/* the command as one line (recorded, printed; at most EX_CMD_MAX) */
static void cmd_line(const struct vc_explore *ex, char *buf, size_t len)
{
	size_t l = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < ex->ncmd && l + 1 < len; i++) {
		snprintf(buf + l, len - l, "%s%s", i ? " " : "", ex->cmd[i]);
		l = strlen(buf);
	}
}

json_object *vc_ex_record_args(const struct vc_explore *ex)
{
	json_object *a = json_object_new_object();
	char cmd[EX_CMD_MAX + 1];

	cmd_line(ex, cmd, sizeof(cmd));
	json_object_object_add(a, "id", json_object_new_string(ex->id));
	json_object_object_add(a, "started", json_object_new_int64(ex->started_ms));
	json_object_object_add(a, "command", json_object_new_string(cmd));
	json_object_object_add(a, "mem", json_object_new_uint64(ex->mem_bytes));
	json_object_object_add(a, "storage", ex->storage ?
			       json_object_new_uint64(ex->storage_bytes) : NULL);
	json_object_object_add(a, "budget", json_object_new_double(ex->budget));
	json_object_object_add(a, "metric_regex", ex->metric ?
			       json_object_new_string(ex->metric) : NULL);
	json_object_object_add(a, "rows", confs_arr(ex));
	return a;
}

static void print_json(struct vc *vc, const struct vc_explore *ex)
{
	json_object *a = vc_ex_record_args(ex), *rec = json_object_new_array(), *rows;
	char label[160];
	int i;

	for (i = 0; i < ex->nconf; i++)
		if (ex->conf[i].recommended) {
			vc_ex_label(ex, &ex->conf[i], label, sizeof(label));
			json_object_array_add(rec, json_object_new_string(label));
		}
	json_object_object_add(a, "measure", json_object_new_string(ex->metric ? "metric" : "seconds"));
	json_object_object_add(a, "repeat", json_object_new_int((int)ex->repeat));
	/* "configurations" rather than the request's "rows" */
	rows = json_object_get(json_object_object_get(a, "rows"));
	json_object_object_del(a, "rows");
	json_object_object_add(a, "configurations", rows);
	json_object_object_add(a, "recommended", rec);
	vp_json(&vc->p, NULL, a, NULL);
	vp_finish(&vc->p);
	json_object_put(a);
}

#define EX_RANK_DOC "rank: the sum of the protection levels (protect none 0, crc 1, aead 2; " \
	"replicas 1: 0, 2: 1; storage none 0, integrity 1, crypt 2)"

static void print_text(FILE *f, const struct vc_explore *ex)
{
	char r[16], m[48], label[160];
	int i, n = 0;

	fprintf(f, "%-3s %-8s %-8s %s%-6s %-22s %-8s %-4s %s\n", "#", "protect", "replicas",
		ex->storage ? "storage    " : "", "cache",
		ex->metric ? "metric (higher better)" : "seconds", "slowdown", "rank",
		"recommended");
	for (i = 0; i < ex->nconf; i++) {
		const struct vc_ex_conf *c = &ex->conf[i];
		char sd[16] = "-";

		if (!c->ok && c->code == VC_EX_STOPPED)
			snprintf(m, sizeof(m), "over budget, stopped");
		else if (!c->ok)
			snprintf(m, sizeof(m), "failed (exit %d)", c->code);
		else
			snprintf(m, sizeof(m), "%.3f", ex->metric ? c->metric : c->seconds);
		if (c->ok)
			snprintf(sd, sizeof(sd), "%.2fx", c->slowdown);
		fprintf(f, "%-3d %-8s %-8s ", i + 1, vn_protect_name(c->protect),
			replicas_word(c, r, sizeof(r)));
		if (ex->storage)
			fprintf(f, "%-10s ", vn_vol_protect_name(c->vprotect));
		fprintf(f, "%-6s %-22s %-8s %-4d %s\n", c->cache, m, sd, c->rank,
			c->recommended ? "*" : "");
	}
	fprintf(f, "%s\n", EX_RANK_DOC);
	for (i = 0; i < ex->nconf; i++) {
		const struct vc_ex_conf *c = &ex->conf[i];

		if (!c->recommended)
			continue;
		vc_ex_label(ex, c, label, sizeof(label));
		fprintf(f, "recommended: %s (%.2fx, rank %d)\n", label, c->slowdown, c->rank);
		n++;
	}
	if (!n)
		fprintf(f, "recommended: none (no configuration ran successfully)\n");
}

void vc_ex_print(struct vc *vc, const struct vc_explore *ex)
{
	if (vc->p.json)
		print_json(vc, ex);
	else
		print_text(vc->p.out, ex);
}

int vc_ex_metric(const char *regex, const char *out, double *v)
{
	regmatch_t m[2];
	const char *s;
	char *end, buf[64];
	regex_t re;
	size_t l;
	int ret = -ENOENT;

	if (regcomp(&re, regex, REG_EXTENDED))
		return -EINVAL;
	if (!regexec(&re, out, 2, m, 0) && m[1].rm_so >= 0) {
		l = (size_t)(m[1].rm_eo - m[1].rm_so);
		snprintf(buf, sizeof(buf), "%.*s", (int)(l < sizeof(buf) ? l : sizeof(buf) - 1),
			 out + m[1].rm_so);
		for (s = buf; *s; s++) {
			if (!strchr("0123456789.-+", *s))
				continue;
			*v = strtod(s, &end);
			if (end != s && isfinite(*v)) {
				ret = 0;
				break;
			}
		}
	}
	regfree(&re);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t timer_child;

static void timer_fwd(int sig)
{
	if (timer_child > 0)
		kill((pid_t)timer_child, sig);
}

int vc_explore_timer(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = timer_fwd, .sa_flags = SA_RESTART };
	double t0;
	int status, code;
	size_t s;
	pid_t pid;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "vnodectl: " VC_EXPLORE_TIMER " FILE CMD [ARGS]\n");
		return 125;
	}
	sigemptyset(&sa.sa_mask);
	for (s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++)
		sigaction(sigs[s], &sa, NULL);
	t0 = now_s();
	pid = fork();
	if (pid < 0)
		return 125;
	if (!pid) {
		for (s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++)
			signal(sigs[s], SIG_DFL);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "vnodectl explore: %s: %s\n", argv[1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	timer_child = pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 125;
	code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	f = fopen(argv[0], "w");
	if (f) {
		fprintf(f, "%.6f\n", now_s() - t0);
		fclose(f);
	}
	return code;
}

/* vnode-run: $VNODE_EXPLORE_RUN, the one next to this vnodectl, or PATH's */
static void run_bin(char *buf, size_t len)
{
	const char *env = getenv(VC_EXPLORE_RUN_ENV);
	char self[2048];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(buf, len, "%s/vnode-run", self);
		if (!access(buf, X_OK))
			return;
	}
	snprintf(buf, len, "vnode-run");
}

/*
 * CMD's stdout into *out (at most EX_OUT_MAX kept).  When @stop_at (a
 * now_s() time, 0: none) passes first, vnode-run @pid gets SIGTERM (which
 * it passes to CMD before it removes the vNode) and *@stopped is set.
 */
static void read_out(int fd, char **out, pid_t pid, double stop_at, bool *stopped)
{
	size_t len = 0, cap = 0;
	char buf[4096];
	ssize_t n;

	*out = NULL;
	*stopped = false;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int ms = -1;

		if (stop_at > 0 && !*stopped) {
			double left = stop_at - now_s();

			if (left <= 0) {
				kill(pid, SIGTERM);
				*stopped = true;
			} else {
				ms = (int)(left * 1000) + 1;
			}
		}
		n = poll(&pf, 1, ms);
		if (!n || (n < 0 && errno == EINTR))
			continue;	/* the limit, or a signal */
		if (n < 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (!n)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (len + (size_t)n > EX_OUT_MAX)
			continue;	/* drain the rest */
		if (len + (size_t)n + 1 > cap) {
			char *p;

			cap = (len + (size_t)n + 1) * 2;
			p = realloc(*out, cap);
			if (!p)
				continue;
			*out = p;
		}
		memcpy(*out + len, buf, (size_t)n);
		len += (size_t)n;
	}
	if (!*out)
		*out = calloc(1, 1);
	else
		(*out)[len] = '\0';
}

/*
 * One run of CMD in c's throw-away vNode: its exit status, *secs (CMD's
 * own time), *wall (the whole run's) and *out.  A run still going after
 * @limit seconds (0: none) is stopped: VC_EX_STOPPED.
 */
static int run_one(struct vc *vc, const struct vc_explore *ex, const struct vc_ex_conf *c,
		   double limit, double *secs, double *wall, char **out)
{
	char bin[4096], self[4096], tfile[] = "/tmp/vnode-explore-XXXXXX", rep[16];
	const char *av[32 + 64];
	int n = 0, i, pfd[2], status, fd;
	bool stopped = false;
	double t0;
	ssize_t l;
	pid_t pid;
	FILE *f;

	*out = NULL;
	fd = mkstemp(tfile);
	if (fd < 0)
		return 125;
	close(fd);
	run_bin(bin, sizeof(bin));
	l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[l > 0 ? l : 0] = '\0';
	av[n++] = bin;
	av[n++] = "-s";
	av[n++] = vc->sock;
	av[n++] = "--mem";
	av[n++] = ex->mem;
	av[n++] = "--cache";
	av[n++] = c->cache;
	av[n++] = "--protect";
	av[n++] = vn_protect_name(c->protect);
	if (c->replicas) {
		snprintf(rep, sizeof(rep), "%d", c->replicas);
		av[n++] = "--replicas";
		av[n++] = rep;
	}
	if (c->storage) {
		av[n++] = "--storage";
		av[n++] = ex->storage;
		av[n++] = "--storage-protect";
		av[n++] = vn_vol_protect_name(c->vprotect);
	}
	av[n++] = "--";
	av[n++] = self;
	av[n++] = VC_EXPLORE_TIMER;
	av[n++] = tfile;
	for (i = 0; i < ex->ncmd && n < (int)(sizeof(av) / sizeof(av[0])) - 1; i++)
		av[n++] = ex->cmd[i];
	av[n] = NULL;

	if (pipe2(pfd, O_CLOEXEC)) {
		unlink(tfile);
		return 125;
	}
	fflush(NULL);
	t0 = now_s();
	pid = fork();
	if (!pid) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		execvp(av[0], (char *const *)av);
		fprintf(stderr, "vnodectl: explore: %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (pid > 0)
		read_out(pfd[0], out, pid, limit > 0 ? t0 + limit : 0, &stopped);
	close(pfd[0]);
	status = 125 << 8;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*secs = *wall = now_s() - t0;
	/* CMD's own time, without the vNode's making and unmaking */
	f = fopen(tfile, "r");
	if (f) {
		double t;

		if (fscanf(f, "%lf", &t) == 1 && t >= 0)
			*secs = t;
		fclose(f);
	}
	unlink(tfile);
	if (pid < 0)
		return 125;
	if (stopped)
		return VC_EX_STOPPED;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* VNODE_EXPLORE_GRACE, seconds (default 10) */
static double grace_s(void)
{
	const char *e = getenv(VC_EXPLORE_GRACE_ENV);
	char *end;
	double g;

	if (!e || !*e)
		return 10;
	g = strtod(e, &end);
	return *end || g < 0 ? 10 : g;
}

/*
 * How long the next run may take (0: no limit): once a run has given the
 * best time so far, a run whose CMD takes over the budget on top of it can
 * never be within the budget (the best only gets better), so it is
 * stopped, with room for making the vNode (twice the most it took so far)
 * and a grace.  Not with --metric, whose measure is not the time.
 */
double vc_ex_limit(const struct vc_explore *ex, double best, double overhead, double grace)
{
	if (ex->metric || best <= 0)
		return 0;
	return best * ex->budget + 2 * overhead + grace;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* slowdown against rank, one labelled point per configuration that ran */
static int plot(const struct vc_explore *ex)
{
	char dat[] = "/tmp/vnode-explore-plot-XXXXXX", label[160], cmd[EX_CMD_MAX + 1];
	FILE *f, *g;
	int fd, i, ret;

	fd = mkstemp(dat);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return vc_fail(VC_ERR, "--plot: cannot write a temporary file: %s", strerror(errno));
	for (i = 0; i < ex->nconf; i++)
		if (ex->conf[i].ok) {
			vc_ex_label(ex, &ex->conf[i], label, sizeof(label));
			fprintf(f, "%d\t%.4f\t%s\t%d\n", ex->conf[i].rank, ex->conf[i].slowdown,
				label, ex->conf[i].recommended);
		}
	fclose(f);
	cmd_line(ex, cmd, sizeof(cmd));
	for (i = 0; cmd[i]; i++)
		if (cmd[i] == '\'')
			cmd[i] = '"';
	g = popen("gnuplot", "w");
	if (!g) {
		unlink(dat);
		return vc_fail(VC_ERR, "--plot: cannot run gnuplot: %s", strerror(errno));
	}
	fprintf(g, "set terminal png size 900,600 noenhanced\n"
		"set output '%s'\n"
		"set title 'vnodectl explore: %.80s'\n"
		"set xlabel 'protection rank (sum of levels)'\n"
		"set ylabel 'slowdown (x fastest)'\n"
		"set datafile separator '\\t'\n"
		"set key top left\nset grid\nset offsets 0.5, 0.5, 0.05, 0.05\n"
		"plot '%s' using 1:2 with points pt 7 title 'configuration', "
		"'' using 1:($4 == 1 ? $2 : 1/0) with points pt 6 ps 2.5 title 'recommended', "
		"'' using 1:2:3 with labels offset 0,1 font ',7' notitle, "
		"%.4f with lines dt 2 title 'budget'\n",
		ex->plot, cmd, dat, ex->budget);
	ret = pclose(g);
	unlink(dat);
	if (ret)
		return vc_fail(VC_ERR, "--plot: gnuplot failed (exit %d) for %s",
			       WIFEXITED(ret) ? WEXITSTATUS(ret) : -1, ex->plot);
	return VC_OK;
}

int vc_explore_run(struct vc *vc, struct vc_explore *ex)
{
	unsigned int r, total = ex->repeat * (unsigned int)ex->nconf, k = 0;
	double *t, *m, best = 0, overhead = 0, grace = grace_s();
	char label[160], *out;
	struct vn_err err;
	struct tm tm;
	time_t now = time(NULL);
	int i, code, ret = VC_OK, nok = 0;

	t = calloc(total, sizeof(*t));
	m = calloc(total, sizeof(*m));
	if (!t || !m) {
		free(t);
		free(m);
		return vc_fail(VC_ERR, "out of memory");
	}
	ex->started_ms = vn_now_ms();
	localtime_r(&now, &tm);
	snprintf(ex->id, sizeof(ex->id), "%04d%02d%02d-%02d%02d%02d-%d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
	for (i = 0; i < ex->nconf; i++)
		ex->conf[i].ok = true;
	/* rounds: every configuration once, then again (drift hits all alike) */
	for (r = 0; r < ex->repeat; r++)
		for (i = 0; i < ex->nconf; i++) {
			struct vc_ex_conf *c = &ex->conf[i];
			double secs = 0, wall = 0, *mv = &m[(unsigned int)i * ex->repeat + r];

			vc_ex_label(ex, c, label, sizeof(label));
			if (!c->ok && c->code == VC_EX_STOPPED) {
				fprintf(stderr, "[%u/%u] %s: not run again (over the budget)\n", ++k,
					total, label);
				continue;
			}
			code = run_one(vc, ex, c, vc_ex_limit(ex, best, overhead, grace), &secs,
				       &wall, &out);
			t[(unsigned int)i * ex->repeat + r] = secs;
			if (wall - secs > overhead)
				overhead = wall - secs;
			if (!code && !ex->metric && (!best || secs < best))
				best = secs;
			fprintf(stderr, "[%u/%u] %s: ", ++k, total, label);
			if (code == VC_EX_STOPPED) {
				fprintf(stderr, "over the budget: stopped after %.1f s (the best is %.1f s)\n",
					secs, best);
			} else if (code) {
				fprintf(stderr, "failed (exit %d)\n", code);
			} else if (ex->metric && (vc_ex_metric(ex->metric, out, mv) || *mv <= 0)) {
				fprintf(stderr, "failed (no positive number for --metric in its output)\n");
				code = -1;
			} else if (ex->metric) {
				fprintf(stderr, "%g (%.1f s)\n", *mv, secs);
			} else {
				fprintf(stderr, "%.1f s\n", secs);
			}
			if (code) {
				c->ok = false;
				c->code = code;
			}
			free(out);
		}
	for (i = 0; i < ex->nconf; i++) {
		struct vc_ex_conf *c = &ex->conf[i];

		c->seconds = median(&t[(unsigned int)i * ex->repeat], ex->repeat);
		c->metric = ex->metric ? median(&m[(unsigned int)i * ex->repeat], ex->repeat) : 0;
		nok += c->ok;
	}
	free(t);
	free(m);
	vc_ex_recommend(ex);
	vc_ex_print(vc, ex);
	if (vn_call(vc->sock, "explore.record", vc_ex_record_args(ex), NULL, &err))
		fprintf(stderr, "vnodectl: warning: exploration %s not recorded in vnoded's database: %s\n",
			ex->id, err.msg);
	if (ex->plot && nok)
		ret = plot(ex);
	return nok ? ret : VC_ERR;
}

/* memory hosts up: the replicas the cluster allows (0: unknown) */
static int cluster_replicas(struct vc *vc)
{
	json_object *rows = NULL, *c;
	struct vn_err err;
	const char *kind, *state;
	size_t i;
	int n = 0;

	if (vn_call(vc->sock, "component.list", NULL, &rows, &err))
		return 0;
	for (i = 0; json_object_is_type(rows, json_type_array) &&
		    i < json_object_array_length(rows); i++) {
		c = json_object_array_get_idx(rows, i);
		kind = json_object_get_string(json_object_object_get(c, "kind"));
		state = json_object_get_string(json_object_object_get(c, "state"));
		if (kind && state && !strcmp(kind, "memory") && !strcmp(state, "up") &&
		    !json_object_get_string(json_object_object_get(c, "drain")))
			n++;
	}
	json_object_put(rows);
	return n;
}

/* gnuplot in PATH (--plot is checked before anything runs) */
static bool have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char *dup, *d, *save = NULL, p[4096];
	bool found = false;

	dup = strdup(path && *path ? path : "/usr/bin:/bin");
	for (d = dup ? strtok_r(dup, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(p, sizeof(p), "%s/gnuplot", d);
		found = !access(p, X_OK);
	}
	free(dup);
	return found;
}

int vc_explore(struct vc *vc, int argc, char **argv)
{
	struct vc_explore *ex = calloc(1, sizeof(*ex));
	struct vn_err err;
	int ret, i;
	bool replicas = false;

	if (!ex)
		return vc_fail(VC_ERR, "out of memory");
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		replicas |= !strncmp(argv[i], "--replicas", 10);
	/* the cluster is asked only when --replicas does not say */
	if (vc_explore_parse(argc, argv, replicas ? 0 : cluster_replicas(vc), ex, &err)) {
		free(ex);
		return vc_fail(VC_USAGE, "%s", err.msg);
	}
	if (ex->plot && !have_gnuplot()) {
		free(ex);
		return vc_fail(VC_USAGE, "--plot needs gnuplot (scripts/install-deps installs gnuplot-nox)");
	}
	if (ex->json && !vc->p.json) {
		vp_init(&vc->p, stdout, true);
		vc->p.pretty = vc->pretty;
	}
	ret = vc_explore_run(vc, ex);
	free(ex);
	return ret;
}
