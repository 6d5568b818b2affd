// SPDX-License-Identifier: GPL-2.0
/* vnodectl vnode create|list|show|set|delete|top (delete was "destroy") */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnodectl.h"

static const struct vc_field vnode_brief[] = {
	{ "name", "name", F_STR },
	{ "mem", "mem", F_SIZE },
	{ "cache", "cache", F_SIZE },
	{ "quota", "remote", F_SIZE },
	{ "replicas", "replicas", F_U64 },
	{ "owner_uid", "owner", F_USER },
	{ "cpus", "cpus", F_STR },
	{ "nprocs", "procs", F_U64 },
	{ "state", "state", F_STR },
	{ "ephemeral", "throwaway", F_BOOL },
	{ "protect", "protect", F_STR },
	{ NULL, NULL, 0 }
};

static const struct vc_field vnode_detail[] = {
	{ "cgroup", "cgroup", F_STR },
	{ "cgroup_id", "cgroup_id", F_U64 },
	{ "memory_current", "local_used", F_SIZE },
	{ "swap_current", "remote_used", F_SIZE },
	{ "redundancy", "redundancy", F_STR },
	{ "slabs_at_risk", "slabs_at_risk", F_U64 },
	{ "heal_bytes", "healed", F_SIZE },
	{ "heal_ms", "heal_ms", F_U64 },
	{ "headroom", "headroom", F_STR },
	{ "headroom_now", "headroom_now", F_SIZE },
	{ "prefetch", "prefetch", F_ONOFF },
	{ "evicted", "evicted", F_SIZE },
	{ "direct_reclaim", "direct_reclaim", F_U64 },
	{ "created", "created", F_TIME },
	{ NULL, NULL, 0 }
};

static const struct vc_field counter_fields[] = {
	{ "faults", "faults", F_U64 },
	{ "pages_in", "pages_in", F_U64 },
	{ "pages_out", "pages_out", F_U64 },
	{ "bytes_in", "bytes_in", F_U64 },
	{ "bytes_out", "bytes_out", F_U64 },
	{ "resident_pages", "resident_pages", F_U64 },
	{ "lat_hist_us", "lat_hist_us", F_HIST },
	{ NULL, NULL, 0 }
};

/* what prefetching did (vnoded's prefetch_stats; pages but wasted_bytes) */
static const struct vc_field prefetch_fields[] = {
	{ "issued_pages", "issued_pages", F_U64 },
	{ "hit_pages", "hit_pages", F_U64 },
	{ "wasted_pages", "wasted_pages", F_U64 },
	{ "hit_rate", "hit_rate", F_RATIO },
	{ "wasted_bytes", "wasted", F_SIZE },
	{ NULL, NULL, 0 }
};

/* what the protection profile caught (vnoded's protect_stats) */
static const struct vc_field protect_fields[] = {
	{ "errors", "errors", F_U64 },
	{ "failed", "failed", F_U64 },
	{ NULL, NULL, 0 }
};

/* v's sub-object key, if it has one, printed by fields */
static void print_sub(struct vc *vc, json_object *v, const char *key,
		      const struct vc_field *fields)
{
	json_object *o;

	if (!json_object_object_get_ex(v, key, &o) || !o)
		return;
	vp_obj_begin(&vc->p, key);
	vc_print_fields(vc, o, fields);
	vp_obj_end(&vc->p);
}

static const struct vc_field alloc_fields[] = {
	{ "host", "host", F_STR },
	{ "addr", "addr", F_STR },
	{ "bytes", "reserved", F_SIZE },
	{ NULL, NULL, 0 }
};

void vc_print_vnode(struct vc *vc, json_object *v, bool detail)
{
	json_object *o;
	size_t i;

	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, v, vnode_brief);
	if (detail) {
		vc_print_fields(vc, v, vnode_detail);
		print_sub(vc, v, "volume", vc_volume_brief);
		print_sub(vc, v, "counters", counter_fields);
		print_sub(vc, v, "prefetch_stats", prefetch_fields);
		print_sub(vc, v, "protect_stats", protect_fields);
		if (json_object_object_get_ex(v, "allocations", &o) && o) {
			vp_arr_begin(&vc->p, "allocations");
			for (i = 0; i < json_object_array_length(o); i++) {
				vp_obj_begin(&vc->p, NULL);
				vc_print_fields(vc, json_object_array_get_idx(o, i),
						alloc_fields);
				vp_obj_end(&vc->p);
			}
			vp_arr_end(&vc->p);
		}
	}
	vc_print_warnings(vc, v);
	vp_obj_end(&vc->p);
}

static int vnode_create(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_vnode_create(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "vnode.create", args, vc_print_vnode, true);
}

static int vnode_list(struct vc *vc, int argc, char **argv)
{
	int ret = vc_parse_none(argc, argv, "vnode list");

	if (ret)
		return ret;
	return vc_call_print(vc, "vnode.list", NULL, vc_print_vnode, false);
}

static int vnode_show(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "vnode show NAME");

	return args ? vc_call_print(vc, "vnode.show", args, vc_print_vnode, true) : VC_USAGE;
}

static int vnode_set(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_vnode_set(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "vnode.set", args, vc_print_vnode, true);
}

static int vnode_delete(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_vnode_delete(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call(vc, "vnode.destroy", args, NULL);
}

/* ---- top ----------------------------------------------------------------- */

double vc_hist_avg_us(json_object *prev, json_object *cur)
{
	double sum = 0, lo = 0, bound, mid;
	uint64_t n = 0, c, pc;
	json_object *pv;
	char *end;

	if (!cur || !json_object_is_type(cur, json_type_object))
		return 0;
	/* {"le_50": N, ..., "gt_500000": N}, in order (vnoded's vn_hist_parse) */
	json_object_object_foreach(cur, k, v) {
		bool over = !strncmp(k, "gt_", 3);

		if (!over && strncmp(k, "le_", 3))
			continue;
		bound = strtod(k + 3, &end);
		if (*end)
			continue;
		c = json_object_get_uint64(v);
		pc = prev && json_object_object_get_ex(prev, k, &pv) ?
			json_object_get_uint64(pv) : 0;
		if (c > pc) {
			/* midpoint of the bucket; open-ended top bucket: 1.5x */
			mid = over ? bound * 1.5 : (lo + bound) / 2;
			sum += mid * (double)(c - pc);
			n += c - pc;
		}
		lo = bound;
	}
	return n ? sum / (double)n : 0;
}

static json_object *find_vnode(json_object *stats, const char *name)
{
	json_object *arr, *v, *n;
	size_t i;

	if (!stats || !json_object_object_get_ex(stats, "vnodes", &arr))
		return NULL;
	for (i = 0; i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(v, "name", &n) &&
		    !strcmp(json_object_get_string(n), name))
			return v;
	}
	return NULL;
}

static uint64_t ctr(json_object *v, const char *key)
{
	json_object *c, *x;

	if (!v || !json_object_object_get_ex(v, "counters", &c) ||
	    !json_object_object_get_ex(c, key, &x))
		return 0;
	return json_object_get_uint64(x);
}

static json_object *ctr_obj(json_object *v, const char *key)
{
	json_object *c, *x;

	if (!v || !json_object_object_get_ex(v, "counters", &c) ||
	    !json_object_object_get_ex(c, key, &x))
		return NULL;
	return x;
}

static uint64_t u64_of(json_object *v, const char *key)
{
	json_object *x;

	return json_object_object_get_ex(v, key, &x) ? json_object_get_uint64(x) : 0;
}

static double rate(uint64_t now, uint64_t before, double secs)
{
	return now >= before && secs > 0 ? (double)(now - before) / secs : 0;
}

int vc_top_rates(json_object *prev, json_object *cur, double secs,
		 struct vc_top_row *rows, int max)
{
	json_object *arr, *v, *n, *p;
	double issued;
	int nr = 0;
	size_t i;

	if (!json_object_object_get_ex(cur, "vnodes", &arr))
		return 0;
	for (i = 0; i < json_object_array_length(arr) && nr < max; i++) {
		struct vc_top_row *r = &rows[nr++];

		v = json_object_array_get_idx(arr, i);
		memset(r, 0, sizeof(*r));
		if (json_object_object_get_ex(v, "name", &n))
			snprintf(r->name, sizeof(r->name), "%s", json_object_get_string(n));
		p = find_vnode(prev, r->name);
		r->faults_s = rate(ctr(v, "faults"), ctr(p, "faults"), secs);
		r->in_mib_s = rate(ctr(v, "bytes_in"), ctr(p, "bytes_in"), secs) / 1048576.0;
		r->out_mib_s = rate(ctr(v, "bytes_out"), ctr(p, "bytes_out"), secs) / 1048576.0;
		r->avg_lat_us = vc_hist_avg_us(ctr_obj(p, "lat_hist_us"),
					       ctr_obj(v, "lat_hist_us"));
		issued = rate(ctr(v, "prefetch_issued"), ctr(p, "prefetch_issued"), secs);
		r->pf_hit_rate = issued > 0 ?
			rate(ctr(v, "prefetch_hits"), ctr(p, "prefetch_hits"), secs) / issued : -1;
		r->pf_wasted_mib_s = rate(ctr(v, "prefetch_wasted"), ctr(p, "prefetch_wasted"),
					  secs) * 4096 / 1048576.0;
		r->resident_pages = ctr(v, "resident_pages");
		r->memory_current = u64_of(v, "memory_current");
		r->swap_current = u64_of(v, "swap_current");
	}
	return nr;
}

static int vnode_top(struct vc *vc, int argc, char **argv)
{
	struct vc_top_row rows[256];
	json_object *prev = NULL, *cur = NULL;
	struct vn_err err;
	int count, done = 0, n, i, ret;
	double delay, secs;

	if (vc_parse_top(argc, argv, &count, &delay, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	vc->p.pretty = false;	/* JSON: one document per interval */
	ret = vc_call(vc, "vnode.stats", NULL, &prev);
	if (ret)
		return ret;
	while (!count || done < count) {
		struct timespec ts = {
			.tv_sec = (time_t)delay,
			.tv_nsec = (long)((delay - floor(delay)) * 1e9),
		};

		nanosleep(&ts, NULL);
		ret = vc_call(vc, "vnode.stats", NULL, &cur);
		if (ret)
			break;
		secs = delay;
		{
			json_object *a, *b;

			if (json_object_object_get_ex(cur, "ts_ms", &a) &&
			    json_object_object_get_ex(prev, "ts_ms", &b))
				secs = (double)(json_object_get_int64(a) -
						json_object_get_int64(b)) / 1000.0;
			if (secs <= 0)
				secs = delay;
		}
		n = vc_top_rates(prev, cur, secs, rows, 256);
		vp_obj_begin(&vc->p, NULL);
		vp_double(&vc->p, vc->p.json ? "interval_s" : "interval", secs, "%.1fs");
		vp_arr_begin(&vc->p, "vnodes");
		for (i = 0; i < n; i++) {
			vp_obj_begin(&vc->p, NULL);
			vp_str(&vc->p, "name", rows[i].name);
			vp_double(&vc->p, "faults_s", rows[i].faults_s, "%.1f");
			vp_double(&vc->p, "in_mib_s", rows[i].in_mib_s, "%.2f");
			vp_double(&vc->p, "out_mib_s", rows[i].out_mib_s, "%.2f");
			vp_double(&vc->p, "lat_us", rows[i].avg_lat_us, "%.0f");
			if (rows[i].pf_hit_rate < 0)
				vp_null(&vc->p, "pf_hit_rate");
			else if (vc->p.json)
				vp_double(&vc->p, "pf_hit_rate", rows[i].pf_hit_rate, "%.3f");
			else
				vp_double(&vc->p, "pf_hit_rate", rows[i].pf_hit_rate * 100, "%.0f%%");
			vp_double(&vc->p, "pf_wasted_mib_s", rows[i].pf_wasted_mib_s, "%.2f");
			vp_u64(&vc->p, "resident_pages", rows[i].resident_pages);
			vp_size(&vc->p, "local", rows[i].memory_current);
			vp_size(&vc->p, "remote", rows[i].swap_current);
			vp_obj_end(&vc->p);
		}
		vp_arr_end(&vc->p);
		vp_obj_end(&vc->p);
		vp_finish(&vc->p);
		json_object_put(prev);
		prev = cur;
		cur = NULL;
		done++;
	}
	json_object_put(prev);
	json_object_put(cur);
	return ret;
}

const struct vc_cmd vc_vnode_cmds[] = {
	{ "create", NULL, vnode_create, NULL, "NAME " VC_CREATE_USAGE },
	{ "list", NULL, vnode_list, NULL, "" },
	{ "show", NULL, vnode_show, NULL, "NAME" },
	{ "set", NULL, vnode_set, NULL,
	  "NAME [--headroom auto|off|SIZE] [--prefetch on|off] [--protect " VN_PROTECT_WORDS "]\n"
	  "    (free room kept below the ExCache by asynchronous eviction; prefetching of\n"
	  "    its swap-ins; the check of its pages' copies)" },
	{ "delete", "destroy", vnode_delete, NULL,
	  "NAME [--force] [--keep-storage]   (--force kills its processes; its volume is\n"
	  "    deleted unless kept)" },
	{ "top", NULL, vnode_top, NULL,
	  "[-n COUNT] [-d SECS]   live faults/s, remote MiB/s, latency, prefetch\n"
	  "    hit rate and wasted MiB/s" },
	{ NULL, NULL, NULL, NULL, NULL }
};
