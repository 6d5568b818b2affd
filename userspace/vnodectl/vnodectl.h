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
/* vnodectl monitor [-n COUNT]: events as vnoded logs them (like ip monitor) */
int vc_parse_monitor(int argc, char **argv, int *count, struct vn_err *err);
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

#endif /* VNODECTL_H */
