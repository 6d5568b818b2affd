/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One printing path for text and JSON (iproute2 json_print style).
 *
 * Callers describe their output once with vp_obj_begin/vp_arr_begin/
 * vp_str/vp_u64/...; in JSON mode a json-c tree is built and printed by
 * vp_finish(), in text mode "key value" pairs are written as they come:
 * every object that is a top-level value or an array element starts a new
 * line; nested arrays/objects go on indented lines below.  In table mode
 * (vp_set_table) array elements print as tab-separated values under one
 * header line (used by `vnodectl sql`).
 */
#ifndef VN_PRINT_H
#define VN_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#define VP_MAX_DEPTH 16

struct vn_printer {
	bool json;
	bool table;
	bool pretty;
	FILE *out;
	int depth;
	json_object *stack[VP_MAX_DEPTH];
	json_object *root;
	int indent;		/* text: current indent level */
	bool line_open;		/* text: something printed on this line */
	bool header_done;	/* table: header line printed */
	int ncols;		/* table: columns in current row */
};

void vp_init(struct vn_printer *p, FILE *out, bool json);
void vp_set_table(struct vn_printer *p, bool on);
void vp_obj_begin(struct vn_printer *p, const char *key);
void vp_obj_end(struct vn_printer *p);
void vp_arr_begin(struct vn_printer *p, const char *key);
void vp_arr_end(struct vn_printer *p);
void vp_str(struct vn_printer *p, const char *key, const char *val);
void vp_u64(struct vn_printer *p, const char *key, uint64_t val);
void vp_i64(struct vn_printer *p, const char *key, int64_t val);
void vp_bool(struct vn_printer *p, const char *key, bool val);
void vp_null(struct vn_printer *p, const char *key);
/* JSON: number with 3 decimals; text: printf(fmt). */
void vp_double(struct vn_printer *p, const char *key, double val,
	       const char *fmt);
/* JSON: "KEY_bytes": bytes as a number; text: "KEY 512M". */
void vp_size(struct vn_printer *p, const char *key, uint64_t bytes);
/* JSON: "KEY_ns": nanoseconds; text: "KEY 412.5us". */
void vp_time(struct vn_printer *p, const char *key, uint64_t ns);
/* JSON: "KEY_bytes_s": bytes per second; text: "KEY 12.5GB/s". */
void vp_rate(struct vn_printer *p, const char *key, uint64_t bytes_s);
/* A string on a line of its own below the current one (text: indented
 * one level more; JSON: as vp_str), for long free text. */
void vp_str_line(struct vn_printer *p, const char *key, const char *val);
/* Print an arbitrary json-c value (object/array/scalars) recursively.
 * Keys listed in size_keys (NULL-terminated) print as sizes in text. */
void vp_json(struct vn_printer *p, const char *key, json_object *val,
	     const char *const *size_keys);
/* Finish: JSON mode prints the tree; text mode ends the open line. */
void vp_finish(struct vn_printer *p);

#endif /* VN_PRINT_H */
