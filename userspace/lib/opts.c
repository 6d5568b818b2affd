// SPDX-License-Identifier: GPL-2.0
/* The one command-line option parser of vnodectl and vnode-run (opts.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "size.h"

/* The entry of tbl (or of a table it includes) that a names; *base gets
 * the offset of the struct the entry's own off is relative to.  *vlen:
 * length of the option name when a is "--name=VALUE", else 0. */
static const struct vn_opt *opt_find(const struct vn_opt *tbl, const char *a,
				     size_t base, size_t *at, size_t *vlen)
{
	const struct vn_opt *o, *f;
	size_t l;

	for (o = tbl; o->type != VN_OPT_END; o++) {
		if (o->type == VN_OPT_TABLE) {
			f = opt_find(o->table, a, base + o->off, at, vlen);
			if (f)
				return f;
			continue;
		}
		if (o->alias && !strcmp(a, o->alias)) {
			*at = base + o->off;
			*vlen = 0;
			return o;
		}
		l = strlen(o->name);
		if (!strncmp(a, o->name, l) && (!a[l] || a[l] == '=')) {
			*at = base + o->off;
			*vlen = a[l] ? l : 0;
			return o;
		}
	}
	return NULL;
}

int vn_opts_parse(const struct vn_opt *tbl, unsigned int flags, void *dst,
		  int argc, char **argv, const char **pos, int max_pos,
		  int *npos, struct vn_err *err)
{
	const struct vn_opt *o;
	bool opts_done = false;
	size_t at, vlen;
	const char *a;
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (!opts_done && !strcmp(a, "--")) {
			opts_done = true;
			continue;
		}
		if (opts_done || a[0] != '-' || !a[1]) {
			if (flags & VN_OPTS_POSIX)
				break;
			if (n >= max_pos)
				return vn_seterr(err, EINVAL, "unexpected argument '%s'", a);
			pos[n++] = a;
			continue;
		}
		o = opt_find(tbl, a, 0, &at, &vlen);
		if (!o)
			return vn_seterr(err, EINVAL, "unknown option '%s'", a);
		if (o->type == VN_OPT_FLAG || o->type == VN_OPT_FLAG1) {
			bool *f = (bool *)((char *)dst + at);

			if (vlen)
				return vn_seterr(err, EINVAL, "%s takes no value", o->name);
			if (*f && o->type == VN_OPT_FLAG1)
				return vn_seterr(err, EINVAL, "%s given twice", o->name);
			*f = true;
			continue;
		}
		{
			const char **v = (const char **)(void *)((char *)dst + at);

			if (*v)
				return vn_seterr(err, EINVAL, "%s given twice", o->name);
			if (vlen) {
				*v = a + vlen + 1;
			} else {
				if (i + 1 >= argc)
					return vn_seterr(err, EINVAL, "%s needs a value", a);
				*v = argv[++i];
			}
		}
	}
	if (npos)
		*npos = n;
	return i;
}

int vn_opt_uint(const char *name, const char *val, uint64_t max,
		uint64_t *out, struct vn_err *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (val[0] < '0' || val[0] > '9' || *end || errno || v > max)
		return vn_seterr(err, EINVAL, "%s must be a number, got '%s'", name, val);
	*out = v;
	return 0;
}

const struct vn_opt vn_create_opt_table[] = {
	VN_OPT_S("--mem", NULL, struct vn_create_opts, mem),
	VN_OPT_S("--cache", NULL, struct vn_create_opts, cache),
	VN_OPT_S("--replicas", NULL, struct vn_create_opts, replicas),
	VN_OPT_S("--cpus", NULL, struct vn_create_opts, cpus),
	VN_OPT_S("--storage", NULL, struct vn_create_opts, storage),
	VN_OPT_S("--stor-host", NULL, struct vn_create_opts, stor_host),
	VN_OPT_S("--volume", NULL, struct vn_create_opts, volume),
	VN_OPT_S("--mount", NULL, struct vn_create_opts, mount),
	VN_OPT_S("--headroom", NULL, struct vn_create_opts, headroom),
	VN_OPT_F("--prefetch", NULL, struct vn_create_opts, prefetch),
	VN_OPT_S("--protect", NULL, struct vn_create_opts, protect),
	VN_OPT_S("--storage-protect", NULL, struct vn_create_opts, storage_protect),
	VN_OPT_END_
};

static void add_str(json_object *args, const char *key, const char *val)
{
	if (val)
		json_object_object_add(args, key, json_object_new_string(val));
}

static const char *const protect_names[] = {
	[VN_PROTECT_NONE] = "none",
	[VN_PROTECT_CRC] = "crc",
	[VN_PROTECT_AEAD] = "aead",
};

static const char *const vol_protect_names[] = {
	[VN_VOL_PROTECT_NONE] = "none",
	[VN_VOL_PROTECT_INTEGRITY] = "integrity",
	[VN_VOL_PROTECT_CRYPT] = "crypt",
};

#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))

/* s's index in the n words, or -EINVAL: "WHAT must be A, B or C, got 'S'" */
static int word_parse(const char *const *words, size_t n, const char *what,
		      const char *s, int *idx, struct vn_err *err)
{
	char list[96] = "";
	size_t i, l;

	for (i = 0; i < n; i++)
		if (!strcmp(s, words[i])) {
			*idx = (int)i;
			return 0;
		}
	for (i = 0; i < n; i++) {
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? (i + 1 < n ? ", " : " or ") : "",
			 words[i]);
	}
	return vn_seterr(err, EINVAL, "%s must be %s, got '%s'", what, list, s);
}

int vn_protect_parse(const char *what, const char *s, enum vn_protect *p,
		     struct vn_err *err)
{
	int i, ret;

	ret = word_parse(protect_names, NWORDS(protect_names), what, s, &i, err);
	if (!ret)
		*p = (enum vn_protect)i;
	return ret;
}

const char *vn_protect_name(enum vn_protect p)
{
	return (size_t)p < NWORDS(protect_names) ? protect_names[p] : "none";
}

int vn_vol_protect_parse(const char *what, const char *s, enum vn_vol_protect *p,
			 struct vn_err *err)
{
	int i, ret;

	ret = word_parse(vol_protect_names, NWORDS(vol_protect_names), what, s, &i, err);
	if (!ret)
		*p = (enum vn_vol_protect)i;
	return ret;
}

const char *vn_vol_protect_name(enum vn_vol_protect p)
{
	return (size_t)p < NWORDS(vol_protect_names) ? vol_protect_names[p] : "none";
}

int vn_create_args(const struct vn_create_opts *o, json_object *args,
		   struct vn_err *err)
{
	enum vn_vol_protect vprot;
	enum vn_protect prot;
	uint64_t mem, cache, v;
	struct vn_err e;
	int ret;

	if (!o->mem)
		return vn_seterr(err, EINVAL, "--mem SIZE is required");
	if (!o->cache)
		return vn_seterr(err, EINVAL, "--cache SIZE|PCT is required");
	ret = vn_parse_size(o->mem, &mem, &e);
	if (ret)
		return vn_seterr(err, -ret, "--mem: %s", e.msg);
	ret = vn_parse_size_or_pct(o->cache, mem, &cache, &e);
	if (ret)
		return vn_seterr(err, -ret, "--cache: %s", e.msg);
	json_object_object_add(args, "mem", json_object_new_uint64(mem));
	json_object_object_add(args, "cache", json_object_new_uint64(cache));
	if (o->replicas) {
		ret = vn_opt_uint("--replicas", o->replicas, INT32_MAX, &v, err);
		if (ret)
			return ret;
		json_object_object_add(args, "replicas", json_object_new_int((int)v));
	}
	if (o->storage) {
		ret = vn_parse_size(o->storage, &v, &e);
		if (ret)
			return vn_seterr(err, -ret, "--storage: %s", e.msg);
		json_object_object_add(args, "storage", json_object_new_uint64(v));
	}
	add_str(args, "cpus", o->cpus);
	add_str(args, "stor_host", o->stor_host);
	add_str(args, "volume", o->volume);
	add_str(args, "mount", o->mount);
	add_str(args, "headroom", o->headroom);
	if (o->prefetch)
		json_object_object_add(args, "prefetch", json_object_new_boolean(1));
	if (o->protect) {
		ret = vn_protect_parse("--protect", o->protect, &prot, err);
		if (ret)
			return ret;
		add_str(args, "protect", o->protect);
	}
	if (o->storage_protect) {
		ret = vn_vol_protect_parse("--storage-protect", o->storage_protect, &vprot, err);
		if (ret)
			return ret;
		add_str(args, "storage_protect", o->storage_protect);
	}
	return 0;
}
