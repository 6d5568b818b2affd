// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsing for vnodectl commands, through the one table-driven
 * parser (lib/opts.c).  Reentrant (unit tests call it repeatedly).  Only
 * syntax is checked here; vnoded checks what the values mean.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "size.h"
#include "vnodectl.h"

/* Parse argv[1..] (argv[0] is the verb) by tbl into dst; exactly one
 * positional NAME, else usage.  *args: a new {"name": NAME}. */
static int parse_named(const struct vn_opt *tbl, void *dst, int argc,
		       char **argv, const char *usage, json_object **args,
		       struct vn_err *err)
{
	const char *name = NULL;
	int n, ret;

	*args = NULL;
	ret = vn_opts_parse(tbl, 0, dst, argc - 1, argv + 1, &name, 1, &n, err);
	if (ret < 0)
		return ret;
	if (n != 1)
		return vn_seterr(err, EINVAL, "usage: %s", usage);
	*args = json_object_new_object();
	json_object_object_add(*args, "name", json_object_new_string(name));
	return 0;
}

/* ret != 0: drop args; else hand it out */
static int done(int ret, json_object *args, json_object **out)
{
	if (ret)
		json_object_put(args);
	else
		*out = args;
	return ret;
}

static void add_str(json_object *args, const char *key, const char *val)
{
	if (val)
		json_object_object_add(args, key, json_object_new_string(val));
}

static void add_flag(json_object *args, const char *key, bool val)
{
	if (val)
		json_object_object_add(args, key, json_object_new_boolean(1));
}

/* the options and their order are in vc_cmd's help; --fabric is not
 * vnode-run's: a host's link outlives a throw-away vNode */
struct vnode_create {
	struct vn_create_opts c;
	const char *owner, *fabric;
	bool keep_storage;
};

static const struct vn_opt vnode_create_opts[] = {
	VN_OPT_T(vn_create_opt_table, struct vnode_create, c),
	VN_OPT_S("--owner", NULL, struct vnode_create, owner),
	VN_OPT_F("--keep-storage", NULL, struct vnode_create, keep_storage),
	VN_OPT_S("--fabric", NULL, struct vnode_create, fabric),
	VN_OPT_END_
};

int vc_parse_vnode_create(int argc, char **argv, json_object **out,
			  struct vn_err *err)
{
	struct vnode_create o = { 0 };
	json_object *args;
	int ret;

	*out = NULL;
	ret = parse_named(vnode_create_opts, &o, argc, argv,
			  "vnode create NAME " VC_CREATE_USAGE, &args, err);
	if (ret)
		return ret;
	ret = vn_create_args(&o.c, args, err);
	add_str(args, "owner", o.owner);
	add_str(args, "fabric", o.fabric);
	add_flag(args, "keep_storage", o.keep_storage);
	return done(ret, args, out);
}

struct volume_create {
	const char *size, *stor_host, *owner, *storage_protect;
};

static const struct vn_opt volume_create_opts[] = {
	VN_OPT_S("--size", NULL, struct volume_create, size),
	VN_OPT_S("--stor-host", NULL, struct volume_create, stor_host),
	VN_OPT_S("--owner", NULL, struct volume_create, owner),
	VN_OPT_S("--storage-protect", NULL, struct volume_create, storage_protect),
	VN_OPT_END_
};

#define VOLUME_CREATE_USAGE "volume create NAME --size SIZE [--stor-host HOST] [--owner USER]" \
	" [--storage-protect " VN_VOL_PROTECT_WORDS "]"

int vc_parse_volume_create(int argc, char **argv, json_object **out,
			   struct vn_err *err)
{
	struct volume_create o = { 0 };
	json_object *args;
	struct vn_err e;
	uint64_t bytes;
	int ret;

	*out = NULL;
	ret = parse_named(volume_create_opts, &o, argc, argv, VOLUME_CREATE_USAGE,
			  &args, err);
	if (ret)
		return ret;
	if (!o.size) {
		ret = vn_seterr(err, EINVAL, "usage: " VOLUME_CREATE_USAGE);
	} else {
		ret = vn_parse_size(o.size, &bytes, &e);
		if (ret)
			vn_seterr(err, -ret, "--size: %s", e.msg);
		else
			json_object_object_add(args, "size", json_object_new_uint64(bytes));
	}
	if (!ret && o.storage_protect) {
		enum vn_vol_protect p;

		ret = vn_vol_protect_parse("--storage-protect", o.storage_protect, &p, err);
	}
	add_str(args, "stor_host", o.stor_host);
	add_str(args, "owner", o.owner);
	add_str(args, "storage_protect", o.storage_protect);
	return done(ret, args, out);
}

struct component_add {
	const char *type, *addr, *port;
	bool no_probe;
};

static const struct vn_opt component_add_opts[] = {
	VN_OPT_S("--type", NULL, struct component_add, type),
	VN_OPT_S("--addr", NULL, struct component_add, addr),
	VN_OPT_S("--port", NULL, struct component_add, port),
	VN_OPT_F("--no-probe", NULL, struct component_add, no_probe),
	VN_OPT_END_
};

#define COMPONENT_ADD_USAGE \
	"component add NAME --type memory|storage --addr IP [--port N] [--no-probe]"

int vc_parse_component_add(int argc, char **argv, json_object **out,
			   struct vn_err *err)
{
	struct component_add o = { 0 };
	json_object *args;
	uint64_t port;
	int ret;

	*out = NULL;
	ret = parse_named(component_add_opts, &o, argc, argv, COMPONENT_ADD_USAGE,
			  &args, err);
	if (ret)
		return ret;
	if (!o.type || !o.addr)
		ret = vn_seterr(err, EINVAL, "usage: " COMPONENT_ADD_USAGE);
	else if (o.port && !(ret = vn_opt_uint("--port", o.port, INT32_MAX, &port, err)))
		json_object_object_add(args, "port", json_object_new_int((int)port));
	add_str(args, "type", o.type);
	add_str(args, "addr", o.addr);
	add_flag(args, "no_probe", o.no_probe);
	return done(ret, args, out);
}

struct component_set {
	const char *fabric, *delay, *per_kib, *jitter, *bw, *read_bw, *write_bw;
	bool clear;
};

static const struct vn_opt component_set_opts[] = {
	VN_OPT_S("--fabric", NULL, struct component_set, fabric),
	VN_OPT_S("--delay", NULL, struct component_set, delay),
	VN_OPT_S("--per-kib", NULL, struct component_set, per_kib),
	VN_OPT_S("--jitter", NULL, struct component_set, jitter),
	VN_OPT_S("--bw", NULL, struct component_set, bw),
	VN_OPT_S("--read-bw", NULL, struct component_set, read_bw),
	VN_OPT_S("--write-bw", NULL, struct component_set, write_bw),
	VN_OPT_F("--clear", NULL, struct component_set, clear),
	VN_OPT_END_
};

/* opt's TIME (or RATE) value into args[key]; "--delay: invalid time ..." */
static int add_quantity(json_object *args, const char *opt, const char *val,
			const char *key, bool rate, struct vn_err *err)
{
	struct vn_err e;
	uint64_t v;
	int ret;

	if (!val)
		return 0;
	ret = rate ? vn_parse_rate(val, &v, &e) : vn_parse_time(val, &v, &e);
	if (ret)
		return vn_seterr(err, -ret, "%s: %s", opt, e.msg);
	json_object_object_add(args, key, json_object_new_uint64(v));
	return 0;
}

int vc_parse_component_set(int argc, char **argv, json_object **out,
			   struct vn_err *err)
{
	struct component_set o = { 0 };
	json_object *args;
	struct vn_err e;
	char dist[16];
	uint64_t v;
	int ret;

	*out = NULL;
	ret = parse_named(component_set_opts, &o, argc, argv, VC_COMPONENT_SET_USAGE, &args,
			  err);
	if (ret)
		return ret;
	if (!o.fabric && !o.delay && !o.per_kib && !o.jitter && !o.bw && !o.read_bw &&
	    !o.write_bw && !o.clear)
		ret = vn_seterr(err, EINVAL, "usage: " VC_COMPONENT_SET_USAGE);
	if (!ret)
		ret = add_quantity(args, "--delay", o.delay, "delay_ns", false, err);
	if (!ret)
		ret = add_quantity(args, "--per-kib", o.per_kib, "per_kib_ns", false, err);
	if (!ret)
		ret = add_quantity(args, "--bw", o.bw, "bw_bps", true, err);
	if (!ret)
		ret = add_quantity(args, "--read-bw", o.read_bw, "read_bps", true, err);
	if (!ret)
		ret = add_quantity(args, "--write-bw", o.write_bw, "write_bps", true, err);
	if (!ret && o.jitter) {
		/* TIME[:uniform|normal]; the word is vnoded's to check */
		ret = vn_parse_time_word(o.jitter, &v, dist, sizeof(dist), &e);
		if (ret) {
			vn_seterr(err, -ret, "--jitter: %s", e.msg);
		} else {
			json_object_object_add(args, "jitter_ns", json_object_new_uint64(v));
			add_str(args, "jitter_dist", dist[0] ? dist : NULL);
		}
	}
	add_str(args, "fabric", o.fabric);
	add_flag(args, "clear", o.clear);
	return done(ret, args, out);
}

struct component_drain {
	const char *timeout;
	bool no_wait;
};

static const struct vn_opt component_drain_opts[] = {
	VN_OPT_F("--no-wait", NULL, struct component_drain, no_wait),
	VN_OPT_S("--timeout", NULL, struct component_drain, timeout),
	VN_OPT_END_
};

int vc_parse_component_drain(int argc, char **argv, json_object **out,
			     bool *wait, unsigned int *timeout_s,
			     struct vn_err *err)
{
	struct component_drain o = { 0 };
	json_object *args;
	uint64_t t = 0;
	int ret;

	*out = NULL;
	ret = parse_named(component_drain_opts, &o, argc, argv,
			  "component drain NAME [--no-wait] [--timeout SECONDS]",
			  &args, err);
	if (ret)
		return ret;
	if (o.timeout)
		ret = vn_opt_uint("--timeout", o.timeout, 86400 * 7, &t, err);
	*wait = !o.no_wait;
	*timeout_s = (unsigned int)t;
	return done(ret, args, out);
}

struct vnode_delete {
	bool force, keep_storage;
};

static const struct vn_opt vnode_delete_opts[] = {
	VN_OPT_F("--force", "-f", struct vnode_delete, force),
	VN_OPT_F("--keep-storage", NULL, struct vnode_delete, keep_storage),
	VN_OPT_END_
};

int vc_parse_vnode_delete(int argc, char **argv, json_object **out,
			  struct vn_err *err)
{
	struct vnode_delete o = { 0 };
	json_object *args;
	int ret;

	*out = NULL;
	ret = parse_named(vnode_delete_opts, &o, argc, argv,
			  "vnode delete NAME [--force] [--keep-storage]", &args, err);
	if (ret)
		return ret;
	add_flag(args, "force", o.force);
	add_flag(args, "keep_storage", o.keep_storage);
	return done(0, args, out);
}

struct vnode_set {
	const char *headroom, *prefetch, *protect;
};

static const struct vn_opt vnode_set_opts[] = {
	VN_OPT_S("--headroom", NULL, struct vnode_set, headroom),
	VN_OPT_S("--prefetch", NULL, struct vnode_set, prefetch),
	VN_OPT_S("--protect", NULL, struct vnode_set, protect),
	VN_OPT_END_
};

#define VNODE_SET_USAGE "vnode set NAME [--headroom auto|off|SIZE] [--prefetch on|off]\n" \
	"    [--protect " VN_PROTECT_WORDS "]"

int vc_parse_vnode_set(int argc, char **argv, json_object **out,
		       struct vn_err *err)
{
	struct vnode_set o = { 0 };
	enum vn_protect p;
	json_object *args;
	int ret;

	*out = NULL;
	ret = parse_named(vnode_set_opts, &o, argc, argv, VNODE_SET_USAGE, &args, err);
	if (ret)
		return ret;
	if (!o.headroom && !o.prefetch && !o.protect)
		ret = vn_seterr(err, EINVAL, "usage: " VNODE_SET_USAGE " (at least one)");
	else if (o.protect)
		ret = vn_protect_parse("--protect", o.protect, &p, err);
	add_str(args, "headroom", o.headroom);
	add_str(args, "prefetch", o.prefetch);
	add_str(args, "protect", o.protect);
	return done(ret, args, out);
}

static const struct vn_opt no_opts[] = { VN_OPT_END_ };

json_object *vc_name_arg(int argc, char **argv, const char *usage)
{
	json_object *args;
	struct vn_err err;
	char dummy;

	if (parse_named(no_opts, &dummy, argc, argv, usage, &args, &err))
		vc_fail(VC_USAGE, "%s", err.msg);
	return args;
}

int vc_parse_none(int argc, char **argv, const char *usage)
{
	struct vn_err err;
	char dummy;

	if (vn_opts_parse(no_opts, 0, &dummy, argc - 1, argv + 1, NULL, 0, NULL,
			  &err) < 0)
		return vc_fail(VC_USAGE, "%s (usage: %s)", err.msg, usage);
	return VC_OK;
}

struct top {
	const char *count, *delay;
};

static const struct vn_opt top_opts[] = {
	VN_OPT_S("--count", "-n", struct top, count),
	VN_OPT_S("--delay", "-d", struct top, delay),
	VN_OPT_END_
};

/* The count and delay are the client's own: their range is checked here. */
int vc_parse_top(int argc, char **argv, int *count, double *delay,
		 struct vn_err *err)
{
	struct top o = { 0 };
	struct vn_err e;
	uint64_t n;
	char *end;
	int ret;

	*count = 0;
	*delay = 1.0;
	ret = vn_opts_parse(top_opts, 0, &o, argc - 1, argv + 1, NULL, 0, NULL, &e);
	if (ret < 0)
		return vn_seterr(err, EINVAL, "%s (vnode top [-n COUNT] [-d SECS])",
				 e.msg);
	if (o.count) {
		if (vn_opt_uint("-n", o.count, 1000000000, &n, &e) || !n)
			return vn_seterr(err, EINVAL, "-n must be a positive count, got '%s'",
					 o.count);
		*count = (int)n;
	}
	if (o.delay) {
		errno = 0;
		*delay = strtod(o.delay, &end);
		if (errno || *end || end == o.delay || !(*delay >= 0.1 && *delay <= 3600))
			return vn_seterr(err, EINVAL,
					 "-d must be 0.1..3600 seconds, got '%s'", o.delay);
	}
	return 0;
}

struct monitor {
	const char *count;
	bool all_hosts;
};

static const struct vn_opt monitor_opts[] = {
	VN_OPT_S("--count", "-n", struct monitor, count),
	VN_OPT_F1("--all-hosts", NULL, struct monitor, all_hosts),
	VN_OPT_END_
};

int vc_parse_monitor(int argc, char **argv, int *count, bool *all_hosts,
		     struct vn_err *err)
{
	struct monitor o = { 0 };
	struct vn_err e;
	uint64_t n;

	*count = 0;
	if (vn_opts_parse(monitor_opts, 0, &o, argc - 1, argv + 1, NULL, 0, NULL, &e) < 0)
		return vn_seterr(err, EINVAL, "%s (vnodectl monitor [-n COUNT] [--all-hosts])",
				 e.msg);
	*all_hosts = o.all_hosts;
	if (o.count) {
		if (vn_opt_uint("-n", o.count, 1000000000, &n, &e) || !n)
			return vn_seterr(err, EINVAL, "-n must be a positive count, got '%s'",
					 o.count);
		*count = (int)n;
	}
	return 0;
}
