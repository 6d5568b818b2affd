// SPDX-License-Identifier: GPL-2.0
/* vnodectl component add|list|show|drain|undrain|set|delete (delete was
 * "remove") */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "opts.h"
#include "vnodectl.h"

static const struct vc_field comp_brief[] = {
	{ "name", "name", F_STR },
	{ "kind", "type", F_STR },
	{ "addr", "addr", F_STR },
	{ "port", "port", F_U64 },
	{ "state", "state", F_STR },
	{ "capacity", "capacity", F_SIZE },
	{ "used", "used", F_SIZE },
	{ "reserved", "reserved", F_SIZE },
	{ "source", "source", F_STR },
	{ "last_error", "error", F_STR },
	{ "drain", "drain", F_STR },
	{ "fabric", "fabric", F_STR },
	{ NULL, NULL, 0 }
};

static const struct vc_field comp_detail[] = {
	{ "disk_state", "disk_state", F_STR },
	{ "disk_slabs", "disk_slabs", F_I64 },
	{ "disk_drain", "disk_drain", F_STR },
	{ "slab_shift", "slab_shift", F_U64 },
	{ "nr_clients", "clients", F_U64 },
	{ "leased", "leased", F_SIZE },
	{ "committed", "committed", F_SIZE },
	{ "client_leased", "self_leased", F_SIZE },
	{ "server_id", "server_id", F_U64 },
	{ "rtt_us", "connect_us", F_U64 },
	{ "op_rtt_ns", "op_rtt", F_NS },
	{ "last_probe", "last_probe", F_TIME },
	{ "created", "created", F_TIME },
	{ NULL, NULL, 0 }
};

/* the fabric link of its host: what was asked, the floor, what the
 * kernel's link adds, its counters */
static const struct vc_field link_fields[] = {
	{ "link", "link", F_STR },
	{ "by_hand", "by_hand", F_BOOL },
	{ "preset", "preset", F_STR },
	{ "target_ns", "latency", F_NS },
	{ "delay_ns", "delay", F_NS },
	{ "per_kib_ns", "per_kib", F_NS },
	{ "jitter_ns", "jitter", F_NS },
	{ "jitter_dist", "dist", F_STR },
	{ "read_bps", "read_bw", F_RATE },
	{ "write_bps", "write_bw", F_RATE },
	{ "floor_ns", "floor", F_NS },
	{ "floor_src", "floor_from", F_STR },
	{ "reach", "reach", F_STR },
	{ "link_delay_us", "adds_delay", F_US },
	{ "link_per_kib_ns", "adds_per_kib", F_NS },
	{ "in_kernel", "in_kernel", F_BOOL },
	{ NULL, NULL, 0 }
};

static const struct vc_field link_stats[] = {
	{ "clients", "clients", F_U64 },
	{ "ops", "ops", F_U64 },
	{ "held", "held", F_U64 },
	{ "wire_per_op_ns", "wire_per_op", F_NS },
	{ "added_per_op_ns", "added_per_op", F_NS },
	{ "reads", "reads", F_U64 },
	{ "wire_per_read_ns", "wire_per_read", F_NS },
	{ "read_bytes", "read", F_SIZE },
	{ "write_bytes", "written", F_SIZE },
	{ "late_us", "late", F_US },
	{ "early_us", "early", F_US },
	{ NULL, NULL, 0 }
};

static void print_comp(struct vc *vc, json_object *c, bool detail)
{
	json_object *f, *st;

	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, c, comp_brief);
	if (detail)
		vc_print_fields(vc, c, comp_detail);
	if (detail && json_object_object_get_ex(c, "fabric_link", &f) && f) {
		vp_obj_begin(&vc->p, "fabric_link");
		vc_print_fields(vc, f, link_fields);
		if (json_object_object_get_ex(f, "stats", &st) && st) {
			vp_obj_begin(&vc->p, "stats");
			vc_print_fields(vc, st, link_stats);
			vp_obj_end(&vc->p);
		}
		vp_obj_end(&vc->p);
	}
	vc_print_warnings(vc, c);
	vp_obj_end(&vc->p);
}

static int comp_add(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_component_add(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "component.add", args, print_comp, true);
}

struct comp_list {
	bool probe;
};

static const struct vn_opt comp_list_opts[] = {
	VN_OPT_F("--probe", NULL, struct comp_list, probe),
	VN_OPT_END_
};

static int comp_list(struct vc *vc, int argc, char **argv)
{
	struct comp_list o = { 0 };
	json_object *args;
	struct vn_err err;

	if (vn_opts_parse(comp_list_opts, 0, &o, argc - 1, argv + 1, NULL, 0, NULL,
			  &err) < 0)
		return vc_fail(VC_USAGE, "%s (usage: component list [--probe])", err.msg);
	args = json_object_new_object();
	if (o.probe)
		json_object_object_add(args, "probe", json_object_new_boolean(1));
	return vc_call_print(vc, "component.list", args, print_comp, false);
}

static int comp_show(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component show NAME");

	return args ? vc_call_print(vc, "component.show", args, print_comp, true) :
		      VC_USAGE;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
	       json_object_get_string(v) : NULL;
}

static long long jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
	       (long long)json_object_get_int64(v) : -1;
}

/*
 * Wait until the swap disk holds nothing on the host: progress on stderr,
 * the final state on stdout.  Gives up (the drain goes on) after 30 s in
 * which no slab could be moved, or after timeout_s.
 */
static int comp_drain_wait(struct vc *vc, const char *name,
			   unsigned int timeout_s)
{
	long long last = -2;
	int stuck = 0, secs = 0, ret;

	for (;;) {
		struct timespec ts = { 1, 0 };
		json_object *args = json_object_new_object(), *c = NULL;
		const char *drain, *kd;
		long long slabs;

		json_object_object_add(args, "name", json_object_new_string(name));
		ret = vc_call(vc, "component.show", args, &c);
		if (ret)
			return ret;
		drain = jstr(c, "drain");
		kd = jstr(c, "disk_drain");
		slabs = jint(c, "disk_slabs");
		if (!drain) {
			json_object_put(c);
			return vc_fail(VC_ERR, "the drain of %s was cancelled", name);
		}
		if (!strcmp(drain, "drained") || (kd && !strcmp(kd, "drained"))) {
			json_object_put(c);
			if (!vc->p.json)
				printf("%s is drained: it holds no slab of the swap disk and no reservation; `vnodectl component delete %s` removes it\n",
				       name, name);
			else
				printf("{\"name\":\"%s\",\"drain\":\"drained\"}\n", name);
			return VC_OK;
		}
		if (slabs != last && !vc->p.json)
			fprintf(stderr, "%s: %lld slab(s) left to move\n", name,
				slabs < 0 ? 0 : slabs);
		stuck = kd && !strcmp(kd, "stuck") && slabs == last ? stuck + 1 : 0;
		last = slabs;
		json_object_put(c);
		if (stuck >= 30)
			return vc_fail(VC_ERR,
				       "the drain of %s cannot finish: no other memory host can take its last %lld slab(s). %s keeps serving them, nothing is lost; the drain goes on once another host has room (or cancel it: vnodectl component undrain %s)",
				       name, slabs, name, name);
		if (timeout_s && ++secs > (int)timeout_s)
			return vc_fail(VC_ERR,
				       "%s still holds %lld slab(s) after %u s; the drain goes on (vnodectl component show %s)",
				       name, slabs, timeout_s, name);
		nanosleep(&ts, NULL);
	}
}

static int comp_drain(struct vc *vc, int argc, char **argv)
{
	unsigned int timeout_s;
	json_object *args, *c = NULL;
	char name[64];
	struct vn_err err;
	bool wait;
	int ret;

	if (vc_parse_component_drain(argc, argv, &args, &wait, &timeout_s, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	if (!wait)
		return vc_call_print(vc, "component.drain", args, print_comp, true);
	snprintf(name, sizeof(name), "%s", jstr(args, "name"));
	ret = vc_call(vc, "component.drain", args, &c);
	json_object_put(c);
	return ret ? ret : comp_drain_wait(vc, name, timeout_s);
}

static int comp_set(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_component_set(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "component.set", args, print_comp, true);
}

static int comp_undrain(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component undrain NAME");

	return args ? vc_call_print(vc, "component.undrain", args, print_comp, true) :
		      VC_USAGE;
}

static int comp_delete(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component delete NAME");

	return args ? vc_call(vc, "component.remove", args, NULL) : VC_USAGE;
}

const struct vc_cmd vc_component_cmds[] = {
	{ "add", NULL, comp_add, NULL,
	  "NAME --type memory|storage --addr IP [--port N] [--no-probe]" },
	{ "list", NULL, comp_list, NULL, "[--probe]" },
	{ "show", NULL, comp_show, NULL, "NAME            (probes the host now)" },
	{ "drain", NULL, comp_drain, NULL,
	  "NAME [--no-wait] [--timeout SECONDS]  (move its slabs and reservations elsewhere)" },
	{ "undrain", NULL, comp_undrain, NULL, "NAME         (cancel a drain, or take a drained host back)" },
	{ "set", NULL, comp_set, NULL,
	  "NAME [--fabric PRESET] [--delay TIME] [--per-kib TIME]\n"
	  "    [--jitter TIME[:uniform|normal]] [--bw RATE] [--read-bw RATE] [--write-bw RATE]\n"
	  "    | set NAME --clear   (the emulated fabric to its host; vnodectl fabric list)" },
	{ "delete", "remove", comp_delete, NULL, "NAME          (not while it holds slabs or reservations)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
