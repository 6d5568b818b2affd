/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnodectl OBJECT COMMAND [ARGS]: a table of objects (vc_objects, main.c),
 * one file per object, each with a table of { "show", fn } commands
 * (iproute2 `rdma` style).  Every object that can be removed has the verb
 * "delete"; older verbs (destroy, remove) stay as aliases.  Every command
 * prints through one struct vn_printer, so text and -j JSON come from the
 * same code.
 */
#ifndef VNODECTL_H
#define VNODECTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "opts.h"
#include "print.h"
#include "util.h"

/* exit codes */
#define VC_OK		0
#define VC_ERR		1	/* the operation failed */
#define VC_USAGE	2	/* bad command line */

struct vc {
	bool json;
	bool pretty;
	const char *sock;
	struct vn_printer p;
};

/* One entry of a dispatch table: a command (fn) or an object (sub, its
 * own table of commands).  fn gets argv[0] = the word that selected it. */
struct vc_cmd {
	const char *name;
	const char *alias;		/* an old or short name, or NULL */
	int (*fn)(struct vc *vc, int argc, char **argv);
	const struct vc_cmd *sub;
	const char *help;
};

/* The entry of tbl named (or aliased) word, or NULL. */
const struct vc_cmd *vc_find(const struct vc_cmd *tbl, const char *word);
/* Run argv[0] from tbl (obj's commands); "help" or no command prints the
 * table. */
int vc_dispatch(struct vc *vc, const char *obj, const struct vc_cmd *tbl,
		int argc, char **argv);
/* Run OBJECT COMMAND [ARGS] (argv[0] = OBJECT) from vc_objects. */
int vc_run(struct vc *vc, int argc, char **argv);
/* Print "component add|list|show|delete" style lines of vc_objects. */
void vc_objects_help(FILE *f);
/* Print "vnodectl: error: msg" and return VC_ERR/VC_USAGE. */
int vc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Call the daemon; on error print it and return VC_ERR. */
int vc_call(struct vc *vc, const char *cmd, json_object *args,
	    json_object **data);

/* Field-table printing of one JSON object. */
enum vc_kind { F_STR, F_U64, F_I64, F_SIZE, F_BOOL, F_USER, F_TIME, F_HIST,
	       F_NS, F_US, F_RATE, F_ONOFF, F_RATIO };
struct vc_field {
	const char *key;	/* key in the daemon's JSON */
	const char *label;	/* key printed (text; JSON adds the unit:
				 * F_SIZE NAME_bytes, F_TIME NAME_ms, F_NS
				 * NAME_ns, F_US NAME_us, F_RATE NAME_bytes_s;
				 * text: 256M, a date, 412.5us, 12.5GB/s;
				 * F_ONOFF: text on/off, JSON a boolean;
				 * F_RATIO: text 75.0%, JSON 0.750; null: -) */
	enum vc_kind kind;
};
void vc_print_fields(struct vc *vc, json_object *obj,
		     const struct vc_field *fields);

#define VC_CREATE_USAGE "--mem SIZE --cache SIZE|PCT [--replicas N] [--cpus LIST] [--owner USER]\n" \
	"    [--storage SIZE [--stor-host HOST] | --volume NAME] [--mount PATH] [--keep-storage]\n" \
	"    [--headroom auto|off|SIZE] [--fabric PRESET] [--prefetch]\n" \
	"    [--protect " VN_PROTECT_WORDS "] [--storage-protect " VN_VOL_PROTECT_WORDS "]"

#define VC_COMPONENT_SET_USAGE "component set NAME [--fabric PRESET] [--delay TIME] [--per-kib TIME]\n" \
	"    [--jitter TIME[:uniform|normal]] [--bw RATE] [--read-bw RATE] [--write-bw RATE]\n" \
	"    | component set NAME --clear"

/* Option parsing shared by the object files and unit-tested. */
int vc_parse_volume_create(int argc, char **argv, json_object **args,
			   struct vn_err *err);
int vc_parse_vnode_create(int argc, char **argv, json_object **args,
			  struct vn_err *err);
int vc_parse_component_add(int argc, char **argv, json_object **args,
			   struct vn_err *err);
/* component set NAME: times to *_ns, rates to *_bps (--bw: bw_bps), the
 * jitter's distribution as given (jitter_dist), fabric, clear. */
int vc_parse_component_set(int argc, char **argv, json_object **args,
			   struct vn_err *err);
int vc_parse_vnode_delete(int argc, char **argv, json_object **args,
			  struct vn_err *err);
int vc_parse_vnode_set(int argc, char **argv, json_object **args,
		       struct vn_err *err);
/* A command without options or arguments: VC_OK or VC_USAGE (printed). */
int vc_parse_none(int argc, char **argv, const char *usage);
int vc_parse_top(int argc, char **argv, int *count, double *delay,
		 struct vn_err *err);

extern const struct vc_cmd vc_objects[];
extern const struct vc_cmd vc_component_cmds[];
extern const struct vc_cmd vc_vnode_cmds[];
extern const struct vc_cmd vc_disk_cmds[];
extern const struct vc_cmd vc_cluster_cmds[];
/* cluster show's answer (unit tests too). */
void vc_print_cluster(struct vc *vc, json_object *c);
extern const struct vc_cmd vc_fabric_cmds[];
extern const struct vc_cmd vc_volume_cmds[];
extern const struct vc_field vc_volume_brief[];
/* One vNode as vnode show (detail) or list prints it (unit tests too). */
void vc_print_vnode(struct vc *vc, json_object *v, bool detail);

/* "OBJ CMD NAME": {"name": NAME} or NULL (usage error printed). */
json_object *vc_name_arg(int argc, char **argv, const char *usage);
/* component drain NAME [--no-wait] [--timeout SECONDS] (0 = none) */
int vc_parse_component_drain(int argc, char **argv, json_object **out,
			     bool *wait, unsigned int *timeout_s,
			     struct vn_err *err);
/* Call cmd and print the answer (an object, or an array of objects) with
 * print; args is taken.  The answer's "warnings" (an array of strings) go
 * to stderr after it as "vnodectl: warning: ..." (text; with -j they are
 * in the JSON, where print puts them). */
int vc_call_print(struct vc *vc, const char *cmd, json_object *args,
		  void (*print)(struct vc *vc, json_object *o, bool detail),
		  bool detail);
/* In JSON, the answer's "warnings" (print functions call it). */
void vc_print_warnings(struct vc *vc, json_object *o);
int vc_sql(struct vc *vc, int argc, char **argv);
/* vnodectl monitor [-n COUNT] [--all-hosts]: events as vnoded logs them
 * (like ip monitor); --all-hosts: every process host's (cluster mode) */
int vc_parse_monitor(int argc, char **argv, int *count, bool *all_hosts,
		     struct vn_err *err);
int vc_monitor(struct vc *vc, int argc, char **argv);

/* vnode top: one sample -> rates (exposed for unit tests). */
struct vc_top_row {
	char name[32];
	double faults_s, in_mib_s, out_mib_s, avg_lat_us;
	/* prefetched pages hit per page read ahead in the interval (< 0:
	 * none read ahead), pages read ahead for nothing in MiB/s */
	double pf_hit_rate, pf_wasted_mib_s;
	uint64_t resident_pages, memory_current, swap_current;
};
int vc_top_rates(json_object *prev, json_object *cur, double secs,
		 struct vc_top_row *rows, int max);
/* Two lat_hist_us objects ({"le_50": N, ..., "gt_500000": N}; prev may be
 * NULL) -> the average latency of the delta in us, estimated. */
double vc_hist_avg_us(json_object *prev, json_object *cur);

/*
 * vnodectl explore (explore.c): runs CMD once per configuration (memory
 * profile x replicas x volume profile x ExCache size) in throw-away
 * vNodes through vnode-run and recommends the safest configurations
 * within a performance budget.  The core is unit-tested: parsing, the
 * partial order and the recommendation, the table, the JSON, the rows
 * sent to vnoded (explore.record).
 */
#define VC_EX_MAX		100	/* configurations of one exploration */
#define VC_EX_LIST_MAX		8	/* words of one LIST */
/* the hidden first argument of vnodectl that times CMD inside the vNode
 * (vnodectl __explore-time FILE CMD...: CMD's seconds into FILE) */
#define VC_EXPLORE_TIMER	"__explore-time"
/* test hook: the vnode-run to execute (default: the one next to vnodectl,
 * else vnode-run in PATH) */
#define VC_EXPLORE_RUN_ENV	"VNODE_EXPLORE_RUN"
/* seconds a run gets past its budget before it is stopped (default 10) */
#define VC_EXPLORE_GRACE_ENV	"VNODE_EXPLORE_GRACE"
/* a run's exit status when it was stopped over the budget (timeout(1)'s) */
#define VC_EX_STOPPED		124

struct vc_ex_conf {
	enum vn_protect protect;
	int replicas;			/* 0: the cluster's default (not given) */
	bool storage;			/* has a volume (--storage) */
	enum vn_vol_protect vprotect;
	char cache[24];			/* as given: "25%", "256M" */
	/* results */
	bool ok;
	int code;			/* exit status of the last failed run */
	double seconds;			/* median of the runs' wall times */
	double metric;			/* median of the runs' metrics (--metric) */
	double slowdown;		/* against the best ok configuration */
	int rank;
	bool recommended;
};

struct vc_explore {
	double budget;			/* 1.20: slowdown <= 1.20 */
	const char *budget_word;	/* as given ("20%") */
	const char *mem, *storage, *metric;
	uint64_t mem_bytes, storage_bytes;
	unsigned int repeat;
	bool json;
	const char *plot;
	char **cmd;			/* NULL-terminated */
	int ncmd;
	bool replicas_given;		/* --replicas: else the cluster's */
	int nconf;
	struct vc_ex_conf conf[VC_EX_MAX];
	char id[48];			/* exploration id */
	int64_t started_ms;
};

/* argv[0] is "explore".  Checks every word (sizes, lists, budget, the
 * metric's regex) and builds the configuration space; replicas, when not
 * given, is max_replicas' list (1..max_replicas; 0: the cluster's default
 * only).  Nothing runs.  0 or -EINVAL with err set. */
int vc_explore_parse(int argc, char **argv, int max_replicas,
		     struct vc_explore *ex, struct vn_err *err);
/* A comma-separated LIST of words into words[0..*n) (at most max; empty
 * words and repeats refused; s is modified). */
int vc_ex_split(char *s, const char *opt, char **words, int max, int *n,
		struct vn_err *err);
/* --budget 20% (or 1.2x) into a slowdown bound (1.20). */
int vc_ex_budget(const char *s, double *bound, struct vn_err *err);
/* a is strictly safer than b (FlexOS partial order). */
bool vc_ex_safer(const struct vc_ex_conf *a, const struct vc_ex_conf *b);
/* The protection rank: the sum of the levels (docs/protection.md). */
int vc_ex_rank(const struct vc_ex_conf *c);
/* Slowdowns, ranks and the recommended configurations from the results;
 * the number recommended. */
int vc_ex_recommend(struct vc_explore *ex);
/* the next run's time limit, seconds (0: none), given the best CMD time
 * so far, the most a vNode's making and unmaking took, and the grace */
double vc_ex_limit(const struct vc_explore *ex, double best, double overhead, double grace);
/* "protect=aead replicas=2 storage=crypt cache=25%" */
void vc_ex_label(const struct vc_explore *ex, const struct vc_ex_conf *c,
		 char *buf, size_t len);
/* The table (text) or the JSON document on vc's printer. */
void vc_ex_print(struct vc *vc, const struct vc_explore *ex);
/* The explore.record request's arguments (rows for explore_runs). */
json_object *vc_ex_record_args(const struct vc_explore *ex);
/* The first number regex group 1 captures in out; -ENOENT if none. */
int vc_ex_metric(const char *regex, const char *out, double *v);
/* Run every configuration (progress on stderr), then recommend, print,
 * record and plot. */
int vc_explore_run(struct vc *vc, struct vc_explore *ex);
int vc_explore(struct vc *vc, int argc, char **argv);
/* vnodectl __explore-time FILE CMD...: runs CMD, writes its wall time in
 * seconds to FILE, exits with its status. */
int vc_explore_timer(int argc, char **argv);

#endif /* VNODECTL_H */
