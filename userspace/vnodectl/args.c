// SPDX-License-Identifier: GPL-2.0
/* Option parsing for vnodectl commands: reentrant (unit tests call it
 * repeatedly), "--opt VALUE" and "--opt=VALUE" forms. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "size.h"
#include "opts.h"
#include "vnodectl.h"

/* In a loop over i: "--name VALUE" / "--name=VALUE" -> var, next arg. */
#define OPT(name, var) {						\
		const char *v_ = NULL;					\
		int r_ = opt_val(argc, argv, &i, name, &v_, err);	\
		if (r_ < 0)						\
			return r_;					\
		if (r_) {						\
			var = v_;					\
			continue;	/* the caller's for loop */	\
		}							\
	}

/* If argv[*i] is --name (or --name=V), set *val and advance. */
static int opt_val(int argc, char **argv, int *i, const char *name,
		   const char **val, struct vn_err *err)
{
	size_t l = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, l))
		return 0;
	if (a[l] == '=') {
		*val = a + l + 1;
		return 1;
	}
	if (a[l])
		return 0;
	if (*i + 1 >= argc)
		return vn_seterr(err, EINVAL, "%s needs a value", name);
	*val = argv[++*i];
	return 1;
}

int vc_parse_vnode_create(int argc, char **argv, json_object **out,
			  struct vn_err *err)
{
	const char *name = NULL, *mem = NULL, *cache = NULL, *rep = NULL,
		   *cpus = NULL, *owner = NULL, *storage = NULL, *stor_host = NULL,
		   *volume = NULL, *mount = NULL;
	uint64_t mem_b, cache_b, stor_b = 0;
	bool keep = false;
	json_object *args;
	struct vn_err e;
	int i, ret;

	for (i = 1; i < argc; i++) {
		OPT("--mem", mem);
		OPT("--cache", cache);
		OPT("--replicas", rep);
		OPT("--cpus", cpus);
		OPT("--owner", owner);
		OPT("--storage", storage);
		OPT("--stor-host", stor_host);
		OPT("--volume", volume);
		OPT("--mount", mount);
		if (!strcmp(argv[i], "--keep-storage")) {
			keep = true;
			continue;
		}
		if (argv[i][0] == '-')
			return vn_seterr(err, EINVAL, "unknown option '%s'", argv[i]);
		if (name)
			return vn_seterr(err, EINVAL, "unexpected argument '%s'", argv[i]);
		name = argv[i];
	}
	if (!name)
		return vn_seterr(err, EINVAL, "usage: vnode create NAME " VC_CREATE_USAGE);
	if (!vn_name_valid(name))
		return vn_seterr(err, EINVAL,
				 "invalid vNode name '%s' (letters, digits, _ . -; max 31)",
				 name);
	if (!mem)
		return vn_seterr(err, EINVAL, "--mem SIZE is required");
	if (!cache)
		return vn_seterr(err, EINVAL, "--cache SIZE|PCT is required");
	ret = vn_parse_size(mem, &mem_b, &e);
	if (ret)
		return vn_seterr(err, -ret, "--mem: %s", e.msg);
	if (!mem_b)
		return vn_seterr(err, EINVAL, "--mem must be > 0");
	ret = vn_parse_size_or_pct(cache, mem_b, &cache_b, &e);
	if (ret)
		return vn_seterr(err, -ret, "--cache: %s", e.msg);
	if (!cache_b)
		return vn_seterr(err, EINVAL, "--cache must be > 0");
	if (cache_b > mem_b)
		return vn_seterr(err, EINVAL, "--cache (%s) is larger than --mem (%s)",
				 cache, mem);
	ret = vn_parse_storage_opts(storage, stor_host, volume, mount, keep, &stor_b, err);
	if (ret)
		return ret;
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "mem", json_object_new_uint64(mem_b));
	json_object_object_add(args, "cache", json_object_new_uint64(cache_b));
	if (rep) {
		if (strcmp(rep, "1") && strcmp(rep, "2")) {
			json_object_put(args);
			return vn_seterr(err, EINVAL, "--replicas must be 1 or 2, got '%s'",
					 rep);
		}
		json_object_object_add(args, "replicas", json_object_new_int(atoi(rep)));
	}
	if (cpus)
		json_object_object_add(args, "cpus", json_object_new_string(cpus));
	if (owner)
		json_object_object_add(args, "owner", json_object_new_string(owner));
	vn_storage_args(args, stor_b, stor_host, volume, mount, keep);
	*out = args;
	return 0;
}

int vc_parse_volume_create(int argc, char **argv, json_object **out,
			   struct vn_err *err)
{
	const char *name = NULL, *size = NULL, *stor_host = NULL, *owner = NULL;
	json_object *args;
	struct vn_err e;
	uint64_t bytes;
	int i, ret;

	for (i = 1; i < argc; i++) {
		OPT("--size", size);
		OPT("--stor-host", stor_host);
		OPT("--owner", owner);
		if (argv[i][0] == '-')
			return vn_seterr(err, EINVAL, "unknown option '%s'", argv[i]);
		if (name)
			return vn_seterr(err, EINVAL, "unexpected argument '%s'", argv[i]);
		name = argv[i];
	}
	if (!name || !size)
		return vn_seterr(err, EINVAL,
				 "usage: volume create NAME --size SIZE [--stor-host HOST] [--owner USER]");
	if (!vn_volume_name_valid(name))
		return vn_seterr(err, EINVAL,
				 "invalid volume name '%s' (letters, digits, _ -; max 31)", name);
	ret = vn_parse_size(size, &bytes, &e);
	if (ret)
		return vn_seterr(err, -ret, "--size: %s", e.msg);
	if (!bytes || bytes % 4096)
		return vn_seterr(err, EINVAL, "--size must be a positive multiple of 4K");
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "size", json_object_new_uint64(bytes));
	if (stor_host)
		json_object_object_add(args, "stor_host", json_object_new_string(stor_host));
	if (owner)
		json_object_object_add(args, "owner", json_object_new_string(owner));
	*out = args;
	return 0;
}

int vc_parse_component_add(int argc, char **argv, json_object **out,
			   struct vn_err *err)
{
	const char *name = NULL, *type = NULL, *addr = NULL, *port = NULL;
	enum vn_comp_kind kind;
	bool no_probe = false;
	json_object *args;
	char *end;
	long p = 0;
	int i;

	for (i = 1; i < argc; i++) {
		OPT("--type", type);
		OPT("--addr", addr);
		OPT("--port", port);
		if (!strcmp(argv[i], "--no-probe")) {
			no_probe = true;
			continue;
		}
		if (argv[i][0] == '-')
			return vn_seterr(err, EINVAL, "unknown option '%s'", argv[i]);
		if (name)
			return vn_seterr(err, EINVAL, "unexpected argument '%s'", argv[i]);
		name = argv[i];
	}
	if (!name || !type || !addr)
		return vn_seterr(err, EINVAL,
				 "usage: component add NAME --type memory|storage --addr IP [--port N] [--no-probe]");
	if (!vn_name_valid(name))
		return vn_seterr(err, EINVAL, "invalid component name '%s'", name);
	if (vn_kind_parse(type, &kind))
		return vn_seterr(err, EINVAL, "--type must be memory or storage, got '%s'",
				 type);
	if (!vn_addr_valid(addr))
		return vn_seterr(err, EINVAL, "--addr must be an IP address, got '%s'",
				 addr);
	if (port) {
		errno = 0;
		p = strtol(port, &end, 10);
		if (errno || *end || p < 1 || p > 65535)
			return vn_seterr(err, EINVAL, "--port must be 1..65535, got '%s'",
					 port);
	}
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "type", json_object_new_string(vn_kind_name(kind)));
	json_object_object_add(args, "addr", json_object_new_string(addr));
	if (port)
		json_object_object_add(args, "port", json_object_new_int((int)p));
	if (no_probe)
		json_object_object_add(args, "no_probe", json_object_new_boolean(1));
	*out = args;
	return 0;
}

int vc_parse_top(int argc, char **argv, int *count, double *delay,
		 struct vn_err *err)
{
	char *end;
	int i;

	*count = 0;
	*delay = 1.0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--count")) {
			if (i + 1 >= argc)
				return vn_seterr(err, EINVAL, "%s needs a value", argv[i]);
			errno = 0;
			*count = (int)strtol(argv[++i], &end, 10);
			if (errno || *end || *count < 1)
				return vn_seterr(err, EINVAL, "-n must be a positive count, got '%s'",
						 argv[i]);
		} else if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--delay")) {
			if (i + 1 >= argc)
				return vn_seterr(err, EINVAL, "%s needs a value", argv[i]);
			errno = 0;
			*delay = strtod(argv[++i], &end);
			if (errno || *end || !(*delay >= 0.1 && *delay <= 3600))
				return vn_seterr(err, EINVAL,
						 "-d must be 0.1..3600 seconds, got '%s'", argv[i]);
		} else {
			return vn_seterr(err, EINVAL, "unknown argument '%s' (vnode top [-n COUNT] [-d SECS])",
					 argv[i]);
		}
	}
	return 0;
}
