// SPDX-License-Identifier: GPL-2.0
/* Fabric presets (fabrics.conf), the checks of a link's settings and the
 * floor rule (fabric.h); nothing here needs the daemon's context. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "fabric.h"
#include "size.h"

/* ---- checks --------------------------------------------------------------- */

int vn_fabric_check_time(uint64_t ns, uint64_t max, const char *what,
			 struct vn_err *err)
{
	char v[32], m[32];

	if (ns <= max)
		return 0;
	vn_fmt_time(ns, v, sizeof(v));
	vn_fmt_time(max, m, sizeof(m));
	return vn_seterr(err, EINVAL, "%s %s is more than the kernel's %s", what, v, m);
}

int vn_fabric_check_rate(uint64_t bps, const char *what, struct vn_err *err)
{
	char v[32];

	vn_fmt_rate(bps, v, sizeof(v));
	if (bps && bps < VN_FABRIC_MIN_BPS)
		return vn_seterr(err, EINVAL,
				 "%s %s is below 1MB/s, the smallest cap the kernel takes (0 removes the cap)",
				 what, v);
	if (bps > VN_FABRIC_MAX_BPS)
		return vn_seterr(err, EINVAL, "%s %s is more than the kernel's 1TB/s",
				 what, v);
	return 0;
}

int vn_fabric_check_dist(const char *dist, const char *what, struct vn_err *err)
{
	if (!strcmp(dist, "uniform") || !strcmp(dist, "normal"))
		return 0;
	return vn_seterr(err, EINVAL,
			 "%s: the distribution is uniform or normal, not '%s'", what, dist);
}

bool vn_fabric_set_equal(const struct vn_fabric_set *a, const struct vn_fabric_set *b)
{
	return !strcmp(a->preset, b->preset) && a->target_ns == b->target_ns &&
	       a->delay_ns == b->delay_ns && a->per_kib_ns == b->per_kib_ns &&
	       a->jitter_ns == b->jitter_ns && a->read_bps == b->read_bps &&
	       a->write_bps == b->write_bps &&
	       (!a->jitter_ns || !strcmp(a->jitter_dist, b->jitter_dist));
}

void vn_fabric_set_describe(const struct vn_fabric_set *s, char *buf, size_t len)
{
	char t[32], r[32];
	size_t off = 0;

#define ADD(...) do { \
		int n_ = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
		if (n_ > 0) \
			off += (size_t)n_; \
	} while (0)
	buf[0] = '\0';
	if (s->preset[0]) {
		vn_fmt_time(s->target_ns, t, sizeof(t));
		ADD("fabric '%s' (latency %s", s->preset, t);
	} else {
		vn_fmt_time(s->delay_ns, t, sizeof(t));
		ADD("(delay %s", t);
	}
	if (s->per_kib_ns) {
		vn_fmt_time(s->per_kib_ns, t, sizeof(t));
		ADD(", per KiB %s", t);
	}
	if (s->jitter_ns) {
		vn_fmt_time(s->jitter_ns, t, sizeof(t));
		ADD(", jitter %s:%s", t, s->jitter_dist);
	}
	if (s->read_bps && s->read_bps == s->write_bps) {
		vn_fmt_rate(s->read_bps, r, sizeof(r));
		ADD(", bw %s", r);
	} else {
		if (s->read_bps) {
			vn_fmt_rate(s->read_bps, r, sizeof(r));
			ADD(", read bw %s", r);
		}
		if (s->write_bps) {
			vn_fmt_rate(s->write_bps, r, sizeof(r));
			ADD(", write bw %s", r);
		}
	}
	ADD(")");
#undef ADD
}

/* ---- the floor rule ------------------------------------------------------- */

static uint32_t div_round(uint64_t v, uint64_t d)
{
	return (uint32_t)((v + d / 2) / d);
}

void vn_fabric_plan(const struct vn_fabric_set *s, uint64_t floor_ns,
		    struct vn_fabric_plan *pl)
{
	uint64_t room, pk;

	memset(pl, 0, sizeof(*pl));
	pl->jitter_us = div_round(s->jitter_ns, 1000);
	snprintf(pl->jitter, sizeof(pl->jitter), "%s",
		 s->jitter_dist[0] ? s->jitter_dist : "uniform");
	pl->read_mbps = div_round(s->read_bps, 1000000);
	pl->write_mbps = div_round(s->write_bps, 1000000);
	if (!s->preset[0]) {
		pl->reach = VN_FABRIC_RAW;
		pl->delay_us = div_round(s->delay_ns, 1000);
		pl->per_kib_ns = (uint32_t)s->per_kib_ns;
		return;
	}
	if (!floor_ns) {
		pl->reach = VN_FABRIC_NO_FLOOR;
		return;
	}
	if (s->target_ns < floor_ns) {
		pl->reach = VN_FABRIC_BELOW;
		return;
	}
	/* a 4 KiB read gets room more: 4 x per KiB + delay */
	pl->reach = VN_FABRIC_REACHED;
	room = s->target_ns - floor_ns;
	pk = s->per_kib_ns < room / 4 ? s->per_kib_ns : room / 4;
	pl->per_kib_ns = (uint32_t)pk;
	pl->delay_us = div_round(room - 4 * pk, 1000);
}

/* ---- presets -------------------------------------------------------------- */

const struct vn_fabric_preset *vn_fabric_preset_find(const struct vn_fabric_presets *ps,
						     const char *name)
{
	int i;

	for (i = 0; ps && name && i < ps->n; i++)
		if (!strcmp(ps->p[i].set.preset, name))
			return &ps->p[i];
	return NULL;
}

/* The keys of a section, each given at most once. */
enum {
	K_LATENCY, K_PER_KIB, K_JITTER, K_BW, K_READ_BW, K_WRITE_BW,
	K_DESCRIPTION, K_SOURCE, K_MAX
};
static const char *const keys[K_MAX] = {
	"latency", "per_kib", "jitter", "bw", "read_bw", "write_bw",
	"description", "source",
};

/* A finished section: complete, and in ps (replacing a namesake). */
static int preset_done(struct vn_fabric_presets *ps, struct vn_fabric_preset *p,
		       const bool *seen, const char *fname, struct vn_err *err)
{
	struct vn_fabric_preset *old;

	if (!seen[K_LATENCY])
		return vn_seterr(err, EINVAL, "%s: [%s] has no latency", fname,
				 p->set.preset);
	old = (struct vn_fabric_preset *)vn_fabric_preset_find(ps, p->set.preset);
	if (old) {
		*old = *p;
		return 0;
	}
	if (ps->n == VN_FABRIC_MAX_PRESETS)
		return vn_seterr(err, EINVAL, "%s: too many presets (max %d)", fname,
				 VN_FABRIC_MAX_PRESETS);
	ps->p[ps->n++] = *p;
	return 0;
}

/* One key of a section into p; e: the error (without FILE:LINE). */
static int preset_key(struct vn_fabric_preset *p, int k, const char *val,
		      struct vn_err *e)
{
	uint64_t v;
	char word[16];
	int ret = 0;

	switch (k) {
	case K_LATENCY:
		ret = vn_parse_time(val, &p->set.target_ns, e);
		if (!ret && !p->set.target_ns)
			ret = vn_seterr(e, EINVAL, "latency must be more than 0");
		if (!ret)
			ret = vn_fabric_check_time(p->set.target_ns, VN_FABRIC_MAX_NS,
						   "latency", e);
		break;
	case K_PER_KIB:
		ret = vn_parse_time(val, &p->set.per_kib_ns, e);
		if (!ret)
			ret = vn_fabric_check_time(p->set.per_kib_ns, VN_FABRIC_MAX_KIB_NS,
						   "per_kib", e);
		break;
	case K_JITTER:
		ret = vn_parse_time_word(val, &p->set.jitter_ns, word, sizeof(word), e);
		if (!ret && word[0])
			ret = vn_fabric_check_dist(word, "jitter", e);
		if (!ret)
			ret = vn_fabric_check_time(p->set.jitter_ns, VN_FABRIC_MAX_NS,
						   "jitter", e);
		if (!ret)	/* checked: uniform or normal */
			strcpy(p->set.jitter_dist, word[0] ? word : "uniform");
		break;
	case K_BW:
	case K_READ_BW:
	case K_WRITE_BW:
		ret = vn_parse_rate(val, &v, e);
		if (!ret)
			ret = vn_fabric_check_rate(v, keys[k], e);
		if (ret)
			break;
		if (k != K_WRITE_BW)
			p->set.read_bps = v;
		if (k != K_READ_BW)
			p->set.write_bps = v;
		break;
	case K_DESCRIPTION:
	case K_SOURCE: {
		char *dst = k == K_SOURCE ? p->source : p->description;
		size_t max = k == K_SOURCE ? sizeof(p->source) : sizeof(p->description);

		if (strlen(val) >= max)
			return vn_seterr(e, EINVAL, "%s is longer than %zu characters",
					 keys[k], max - 1);
		strcpy(dst, val);
		break;
	}
	}
	return ret;
}

int vn_fabric_presets_parse(FILE *f, const char *fname,
			    struct vn_fabric_presets *ps, struct vn_err *err)
{
#define PERR(fmt, ...) \
	vn_seterr(err, EINVAL, "%s:%d: " fmt, fname, ini.lineno, ##__VA_ARGS__)
	struct vn_ini ini = { .f = f, .fname = fname };
	struct vn_fabric_preset *p;
	char names[VN_FABRIC_MAX_PRESETS][32];
	bool seen[K_MAX], in = false;
	int ret, nnames = 0, i, k;

	p = calloc(1, sizeof(*p));
	if (!p)
		return vn_seterr(err, ENOMEM, "out of memory");
	while ((ret = vn_ini_next(&ini, err)) > 0) {
		struct vn_err e;

		if (ini.section) {
			if (in && (ret = preset_done(ps, p, seen, fname, err)))
				break;
			if (!vn_name_valid(ini.section)) {
				ret = PERR("invalid fabric name '%s' (letters, digits, _ . -; max 31)",
					   ini.section);
				break;
			}
			for (i = 0; i < nnames; i++)
				if (!strcmp(names[i], ini.section))
					break;
			if (i < nnames) {
				ret = PERR("duplicate fabric '%s'", ini.section);
				break;
			}
			if (nnames == VN_FABRIC_MAX_PRESETS) {
				ret = PERR("too many presets (max %d)", VN_FABRIC_MAX_PRESETS);
				break;
			}
			strcpy(names[nnames++], ini.section);
			memset(p, 0, sizeof(*p));
			memset(seen, 0, sizeof(seen));
			strcpy(p->set.preset, ini.section);
			strcpy(p->set.jitter_dist, "uniform");
			snprintf(p->origin, sizeof(p->origin), "%s:%d", fname, ini.lineno);
			in = true;
			continue;
		}
		if (!in) {
			ret = PERR("'%s' outside of any [fabric] section", ini.key);
			break;
		}
		for (k = 0; k < K_MAX && strcmp(keys[k], ini.key); k++)
			;
		if (k == K_MAX) {
			ret = PERR("unknown key '%s' in [%s] (latency, per_kib, jitter, bw, read_bw, write_bw, description, source)",
				   ini.key, p->set.preset);
			break;
		}
		if (seen[k]) {
			ret = PERR("'%s' given twice in [%s]", ini.key, p->set.preset);
			break;
		}
		seen[k] = true;
		/* read_bw and write_bw override bw, in whatever order */
		if (k == K_BW && (seen[K_READ_BW] || seen[K_WRITE_BW])) {
			struct vn_fabric_set keep = p->set;

			ret = preset_key(p, k, ini.val, &e);
			if (seen[K_READ_BW])
				p->set.read_bps = keep.read_bps;
			if (seen[K_WRITE_BW])
				p->set.write_bps = keep.write_bps;
		} else {
			ret = preset_key(p, k, ini.val, &e);
		}
		if (ret) {
			ret = PERR("[%s] %s", p->set.preset, e.msg);
			break;
		}
	}
	if (!ret && in)
		ret = preset_done(ps, p, seen, fname, err);
	free(p);
	return ret < 0 ? ret : 0;
#undef PERR
}

static int parse_file(const char *path, struct vn_fabric_presets *ps,
		      struct vn_err *err)
{
	FILE *f = fopen(path, "re");
	int ret;

	if (!f)
		return vn_seterr(err, errno, "%s: %s", path, strerror(errno));
	ret = vn_fabric_presets_parse(f, path, ps, err);
	fclose(f);
	return ret;
}

static int conf_file(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".conf");
}

int vn_fabric_presets_load(const char *file, bool explicit_file,
			   struct vn_fabric_presets *out, struct vn_err *err)
{
	struct vn_fabric_presets *ps = calloc(1, sizeof(*ps));
	char dir[PATH_MAX], path[PATH_MAX], *slash;
	struct dirent **names = NULL;
	struct stat st;
	FILE *f;
	int n = 0, i, ret;

	if (!ps)
		return vn_seterr(err, ENOMEM, "out of memory");
	if (!file)
		file = VN_FABRIC_CONF;
	f = fmemopen((void *)vn_fabric_builtin, strlen(vn_fabric_builtin), "r");
	if (!f) {
		ret = vn_seterr(err, errno, "built-in presets: %s", strerror(errno));
		goto out;
	}
	ret = vn_fabric_presets_parse(f, "built-in", ps, err);
	fclose(f);
	for (i = 0; !ret && i < ps->n; i++)
		snprintf(ps->p[i].origin, sizeof(ps->p[i].origin), "built-in");
	if (ret || !*file)
		goto done;
	if (explicit_file || stat(file, &st) == 0 || errno != ENOENT) {
		ret = parse_file(file, ps, err);
		if (ret)
			goto out;
	}
	/* fabrics.d/ beside the file */
	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash)
		slash[1] = '\0';
	else
		dir[0] = '\0';
	if (vn_path(path, sizeof(path), "%s%s", dir, VN_FABRIC_DIR)) {
		ret = vn_seterr(err, ENAMETOOLONG, "%s: path too long", file);
		goto out;
	}
	n = scandir(path, &names, conf_file, alphasort);
	if (n < 0) {
		n = 0;
		if (errno != ENOENT && errno != ENOTDIR) {
			ret = vn_seterr(err, errno, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < n && !ret; i++) {
		char p[PATH_MAX];

		if (vn_path(p, sizeof(p), "%s/%s", path, names[i]->d_name))
			ret = vn_seterr(err, ENAMETOOLONG, "%s: path too long", path);
		else
			ret = parse_file(p, ps, err);
	}
done:
	if (!ret)
		*out = *ps;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(ps);
	return ret;
}

json_object *vn_fabric_presets_json(const struct vn_fabric_presets *ps)
{
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < ps->n; i++) {
		const struct vn_fabric_preset *p = &ps->p[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(p->set.preset));
		json_object_object_add(o, "latency_ns", json_object_new_uint64(p->set.target_ns));
		json_object_object_add(o, "per_kib_ns", json_object_new_uint64(p->set.per_kib_ns));
		json_object_object_add(o, "jitter_ns", json_object_new_uint64(p->set.jitter_ns));
		json_object_object_add(o, "jitter_dist", json_object_new_string(p->set.jitter_dist));
		json_object_object_add(o, "read_bps", json_object_new_uint64(p->set.read_bps));
		json_object_object_add(o, "write_bps", json_object_new_uint64(p->set.write_bps));
		json_object_object_add(o, "description", json_object_new_string(p->description));
		json_object_object_add(o, "source", json_object_new_string(p->source));
		json_object_object_add(o, "origin", json_object_new_string(p->origin));
		json_object_array_add(arr, o);
	}
	return arr;
}
