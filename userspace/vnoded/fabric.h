/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fabric emulation, the user's side (docs/fabric.md, "Setting a fabric").
 *
 * vnode_xprt emulates a fabric on the process host with one *link* per
 * remote host (configfs vnode_xprt/fabric/NAME, kern.h): time added to
 * every data operation to that host and bandwidth caps.  vnoded keeps one
 * link per host (address) as cluster state (the `fabric` table) and sets
 * it from what the user asks for:
 *
 *  - raw settings (`vnodectl component set m1 --delay 20us --bw 3GB/s`),
 *    added as given;
 *  - a preset (`--fabric rdma-rack`, fabrics.conf), which says what a
 *    fabric *is*: the round trip of a 4 KiB one-sided read.  The link then
 *    adds target - floor, where the floor is the measured wire time to
 *    that host (the link's own read_wire_us / read_ops, else wire_us /
 *    ops, once it has carried VN_FABRIC_MIN_OPS of them, else the probe's
 *    round trip); a target
 *    below the floor cannot be reached here and adds nothing (bandwidth
 *    and jitter still apply).
 *
 * fabric.c: the presets (built into vnoded from vnoded/fabrics.conf, then
 * /etc/vnode/fabrics.conf and /etc/vnode/fabrics.d/ *.conf), the checks
 * and the floor rule, all without the daemon's context.  fabric_link.c:
 * the links as cluster state (database, kernel, requests, reconcile).
 */
#ifndef VN_FABRIC_H
#define VN_FABRIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "util.h"

#define VN_FABRIC_CONF		"/etc/vnode/fabrics.conf"
#define VN_FABRIC_DIR		"fabrics.d"	/* beside the file */
#define VN_FABRIC_MAX_PRESETS	64

/* The kernel's ranges (vnode_xprt's FABRIC_MAX_*). */
#define VN_FABRIC_MAX_NS	1000000000ULL	/* delay, jitter: 1 s */
#define VN_FABRIC_MAX_KIB_NS	1000000ULL	/* per KiB: 1 ms */
#define VN_FABRIC_MIN_BPS	1000000ULL	/* a cap: 1 MB/s (whole MB/s) */
#define VN_FABRIC_MAX_BPS	1000000000000ULL	/* 10^6 MB/s */
/* Operations a link carries before its wire time counts as the floor. */
#define VN_FABRIC_MIN_OPS	16

/* The built-in presets: vnoded/fabrics.conf (a generated file). */
extern const char vn_fabric_builtin[];

/* A link's settings, as asked: a preset's (preset, target) or raw (delay). */
struct vn_fabric_set {
	char preset[32];	/* "" = raw settings */
	uint64_t target_ns;	/* preset: round trip of a 4 KiB read */
	uint64_t delay_ns;	/* raw: added as given */
	uint64_t per_kib_ns;
	uint64_t jitter_ns;
	char jitter_dist[8];	/* uniform | normal */
	uint64_t read_bps, write_bps;	/* bytes/s, 0 = no cap */
};

struct vn_fabric_preset {
	struct vn_fabric_set set;	/* preset = the name */
	char description[256];
	char source[768];
	char origin[160];	/* "built-in" or "FILE:LINE" */
};

struct vn_fabric_presets {
	int n;
	struct vn_fabric_preset p[VN_FABRIC_MAX_PRESETS];
};

/*
 * Parse one presets file into ps: a section replaces a preset of the same
 * name already there (an earlier file's), or adds one.  On error ps may
 * hold part of the file; err says "FILE:LINE: what is wrong".
 */
int vn_fabric_presets_parse(FILE *f, const char *fname,
			    struct vn_fabric_presets *ps, struct vn_err *err);
/*
 * The presets vnoded uses, in this order: the built-in ones, file (NULL:
 * VN_FABRIC_CONF; a missing file is an error only if explicit), then
 * every *.conf of VN_FABRIC_DIR beside it, by name; file "": the built-in
 * ones alone.  Nothing is returned on error.
 */
int vn_fabric_presets_load(const char *file, bool explicit_file,
			   struct vn_fabric_presets *ps, struct vn_err *err);
const struct vn_fabric_preset *vn_fabric_preset_find(const struct vn_fabric_presets *ps,
						     const char *name);
/* [{name, latency_ns, per_kib_ns, jitter_ns, jitter_dist, read_bps,
 * write_bps, description, source, origin}, ...] */
json_object *vn_fabric_presets_json(const struct vn_fabric_presets *ps);

/*
 * The checks every setting goes through (a preset's in its file, a
 * request's in vnoded), each naming what in the message: 0 or -EINVAL
 * "--delay 2s is more than the kernel's 1s".
 */
int vn_fabric_check_time(uint64_t ns, uint64_t max, const char *what,
			 struct vn_err *err);
int vn_fabric_check_rate(uint64_t bps, const char *what, struct vn_err *err);
int vn_fabric_check_dist(const char *dist, const char *what, struct vn_err *err);

/* Equal settings (what a host's link was asked for). */
bool vn_fabric_set_equal(const struct vn_fabric_set *a, const struct vn_fabric_set *b);
/* "fabric 'rdma-rack' (latency 3us, bw 12.5GB/s)" or "delay 20us, ..." */
void vn_fabric_set_describe(const struct vn_fabric_set *s, char *buf, size_t len);

/* What the link gets (the kernel's units) and why. */
enum vn_fabric_reach {
	VN_FABRIC_RAW,		/* raw settings: as given */
	VN_FABRIC_REACHED,	/* preset: target - floor added */
	VN_FABRIC_BELOW,	/* preset: target below the floor, nothing added */
	VN_FABRIC_NO_FLOOR,	/* preset: the floor is not known yet */
};

struct vn_fabric_plan {
	enum vn_fabric_reach reach;
	uint32_t delay_us, per_kib_ns, jitter_us, read_mbps, write_mbps;
	char jitter[8];
};

/*
 * The floor rule.  Raw settings: as given (rounded to whole us and MB/s).
 * A preset with a known floor (floor_ns > 0) below its target: the link
 * adds target - floor to a 4 KiB read, as the preset's per-KiB term (at
 * most a quarter of it per KiB) and the rest as the delay; at or above
 * the target, or not known: no delay and no per-KiB term.  Jitter and
 * bandwidth caps apply in every case.
 */
void vn_fabric_plan(const struct vn_fabric_set *s, uint64_t floor_ns,
		    struct vn_fabric_plan *pl);

#endif /* VN_FABRIC_H */
