// SPDX-License-Identifier: GPL-2.0
/* Fabric links as cluster state: the fabric_links table, vnode_xprt's
 * links, component set/show, vnode create --fabric, reconciliation
 * (fabric_link.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "conf.h"
#include "db.h"
#include "fabric_link.h"
#include "size.h"

/* ---- rows ------------------------------------------------------------------ */

#define LINK_COLS "addr, preset, target_ns, delay_ns, per_kib_ns, jitter_ns, " \
		  "jitter_dist, read_bps, write_bps, floor_ns, floor_src, " \
		  "link_delay_us, link_per_kib_ns, created, updated"

/* The row of host addr's link, NULL (*out) if none. */
static int row_get(struct vn_ctx *ctx, const char *addr, json_object **out,
		   struct vn_err *err)
{
	const char *b[] = { ctx->host, addr, NULL };

	return vn_q_one(ctx, "SELECT " LINK_COLS " FROM fabric_links WHERE host = ?1 AND addr = ?2",
			b, out, err);
}

static void set_of_row(json_object *row, struct vn_fabric_set *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->preset, sizeof(s->preset), "%s",
		 vn_jstr(row, "preset") ? vn_jstr(row, "preset") : "");
	s->target_ns = (uint64_t)vn_jint(row, "target_ns");
	s->delay_ns = (uint64_t)vn_jint(row, "delay_ns");
	s->per_kib_ns = (uint64_t)vn_jint(row, "per_kib_ns");
	s->jitter_ns = (uint64_t)vn_jint(row, "jitter_ns");
	snprintf(s->jitter_dist, sizeof(s->jitter_dist), "%s",
		 vn_jstr(row, "jitter_dist") ? vn_jstr(row, "jitter_dist") : "uniform");
	s->read_bps = (uint64_t)vn_jint(row, "read_bps");
	s->write_bps = (uint64_t)vn_jint(row, "write_bps");
}

/* Insert or replace host addr's row (inside the caller's transaction). */
static int row_put(struct vn_ctx *ctx, const char *addr,
		   const struct vn_fabric_set *s, uint64_t floor_ns,
		   const char *floor_src, const struct vn_fabric_plan *pl,
		   struct vn_err *err)
{
	struct vsql_st *st;
	int64_t now = vn_now_ms();
	int ret;

	ret = vn_prep(ctx, "INSERT INTO fabric_links (" LINK_COLS ", host) VALUES "
		      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15) "
		      "ON CONFLICT (host, addr) DO UPDATE SET preset = ?2, target_ns = ?3, "
		      "delay_ns = ?4, per_kib_ns = ?5, jitter_ns = ?6, jitter_dist = ?7, "
		      "read_bps = ?8, write_bps = ?9, floor_ns = ?10, floor_src = ?11, "
		      "link_delay_us = ?12, link_per_kib_ns = ?13, updated = ?14",
		      &st, err);
	if (ret)
		return ret;
	vsql_bind_text(st, 1, addr);
	if (s->preset[0]) {
		vsql_bind_text(st, 2, s->preset);
		vsql_bind_int64(st, 3, (int64_t)s->target_ns);
	}
	vsql_bind_int64(st, 4, s->preset[0] ? 0 : (int64_t)s->delay_ns);
	vsql_bind_int64(st, 5, (int64_t)s->per_kib_ns);
	vsql_bind_int64(st, 6, (int64_t)s->jitter_ns);
	vsql_bind_text(st, 7, pl->jitter);
	vsql_bind_int64(st, 8, (int64_t)s->read_bps);
	vsql_bind_int64(st, 9, (int64_t)s->write_bps);
	if (floor_ns) {
		vsql_bind_int64(st, 10, (int64_t)floor_ns);
		vsql_bind_text(st, 11, floor_src);
	}
	vsql_bind_int64(st, 12, pl->delay_us);
	vsql_bind_int64(st, 13, pl->per_kib_ns);
	vsql_bind_int64(st, 14, now);
	vsql_bind_text(st, 15, ctx->host);
	return vn_step_done(ctx, st, err);
}

static int row_delete(struct vn_ctx *ctx, const char *addr, struct vn_err *err)
{
	struct vsql_st *st;
	int ret;

	ret = vn_prep(ctx, "DELETE FROM fabric_links WHERE host = ? AND addr = ?", &st, err);
	if (ret)
		return ret;
	vsql_bind_text(st, 1, ctx->host);
	vsql_bind_text(st, 2, addr);
	return vn_step_done(ctx, st, err);
}

/* An event about host addr's link: its row now (or the old one, for a
 * clear), the component it was set through, why. */
static void link_event(struct vn_ctx *ctx, const char *type, const char *addr,
		       json_object *old_row, const char *comp, const char *why)
{
	json_object *d = NULL;

	if (!old_row)
		row_get(ctx, addr, &d, NULL);
	else
		d = json_object_get(old_row);
	if (!d)
		d = json_object_new_object();
	if (comp)
		json_object_object_add(d, "component", json_object_new_string(comp));
	if (why)
		json_object_object_add(d, "reason", json_object_new_string(why));
	vn_event(ctx, type, "fabric", addr, d, NULL);
	json_object_put(d);
}

/* ---- the host, its floor, its link -------------------------------------- */

/* Components whose host is addr (canonical): id, name, kind, op_rtt_ns. */
static json_object *comps_at(struct vn_ctx *ctx, const char *addr)
{
	json_object *rows, *out = json_object_new_array();
	char c[64];
	size_t i;

	if (vn_db_query_json(ctx->db, "SELECT id, name, kind, addr, op_rtt_ns "
			     "FROM components ORDER BY name", NULL, &rows, NULL))
		return out;
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		if (!vn_addr_canon(vn_jstr(r, "addr"), c, sizeof(c)) && !strcmp(c, addr))
			json_object_array_add(out, json_object_get(r));
	}
	json_object_put(rows);
	return out;
}

/*
 * The wire time to addr: what the link measured once it has carried
 * VN_FABRIC_MIN_OPS operations ("link": read_wire_us / read_ops, the
 * reads a preset's latency is about, else wire_us / ops of both
 * directions), else the probe's round trip of a memory host there
 * ("probe"), else 0 (not known).  *ops: how many it was measured over.
 */
static uint64_t measure_floor(struct vn_ctx *ctx, const char *addr,
			      const char **src, int64_t *ops)
{
	struct vn_fabric_stats st;
	json_object *cs;
	uint64_t floor = 0;
	size_t i;

	*src = NULL;
	*ops = 0;
	if (!vn_fabric_stats(&ctx->kern, addr, &st)) {
		if (st.read_ops >= VN_FABRIC_MIN_OPS && st.read_wire_us > 0) {
			*ops = st.read_ops;
			floor = (uint64_t)(st.read_wire_us * 1000 / st.read_ops);
		} else if (st.ops >= VN_FABRIC_MIN_OPS && st.wire_us > 0) {
			*ops = st.ops;
			floor = (uint64_t)(st.wire_us * 1000 / st.ops);
		}
		if (floor) {
			*src = "link";
			return floor;
		}
	}
	cs = comps_at(ctx, addr);
	for (i = 0; i < json_object_array_length(cs) && !floor; i++)
		floor = (uint64_t)vn_jint(json_object_array_get_idx(cs, i), "op_rtt_ns");
	json_object_put(cs);
	if (floor)
		*src = "probe";
	return floor;
}

static void link_of(const char *addr, const struct vn_fabric_plan *pl,
		    struct vn_fabric_link *l)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->addr, sizeof(l->addr), "%s", addr);
	l->delay_us = pl->delay_us;
	l->per_kib_ns = pl->per_kib_ns;
	l->jitter_us = pl->jitter_us;
	l->read_mbps = pl->read_mbps;
	l->write_mbps = pl->write_mbps;
	snprintf(l->jitter, sizeof(l->jitter), "%s", pl->jitter);
}

static bool link_same(const struct vn_fabric_link *a, const struct vn_fabric_link *b)
{
	char ca[64], cb[64];

	return !vn_addr_canon(a->addr, ca, sizeof(ca)) &&
	       !vn_addr_canon(b->addr, cb, sizeof(cb)) && !strcmp(ca, cb) &&
	       a->delay_us == b->delay_us && a->per_kib_ns == b->per_kib_ns &&
	       a->jitter_us == b->jitter_us && a->read_mbps == b->read_mbps &&
	       a->write_mbps == b->write_mbps && !strcmp(a->jitter, b->jitter);
}

/* Set the kernel's link of addr to what row asks (it has floor and plan). */
static int link_put_row(struct vn_ctx *ctx, json_object *row, struct vn_err *err)
{
	struct vn_fabric_set s;
	struct vn_fabric_plan pl;
	struct vn_fabric_link l;

	set_of_row(row, &s);
	vn_fabric_plan(&s, (uint64_t)vn_jint(row, "floor_ns"), &pl);
	link_of(vn_jstr(row, "addr"), &pl, &l);
	return vn_fabric_put(&ctx->kern, vn_jstr(row, "addr"), &l, err);
}

/* ---- what vnodectl is told ---------------------------------------------- */

static void warn(json_object *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(json_object *w, const char *fmt, ...)
{
	char buf[VN_ERR_MAX];
	va_list ap;

	if (!w)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(w, json_object_new_string(buf));
}

/* "412us, measured over 1000 operations" */
static void floor_desc(uint64_t floor, const char *src, int64_t ops, char *buf,
		       size_t len)
{
	char f[32];

	vn_fmt_time(floor, f, sizeof(f));
	if (src && !strcmp(src, "link") && ops)
		snprintf(buf, len, "%s, measured over %" PRId64 " operations", f, ops);
	else if (src && !strcmp(src, "link"))
		snprintf(buf, len, "%s, measured on its link", f);
	else
		snprintf(buf, len, "about %s, the probe's round trip", f);
}

/* What the plan means for the user: a preset it cannot reach, a floor not
 * known yet, values rounded to the kernel's units. */
static void plan_warnings(const struct vn_fabric_set *s, const struct vn_fabric_plan *pl,
			  const char *comp, bool storage, uint64_t floor,
			  const char *src, int64_t ops, json_object *w)
{
	char t[32], fd[96], rest[160] = "", caps[64] = "", jit[64] = "", r[32];

	vn_fmt_time(s->target_ns, t, sizeof(t));
	/* what applies whatever the floor */
	if (s->read_bps && s->read_bps == s->write_bps) {
		vn_fmt_rate(s->read_bps, r, sizeof(r));
		snprintf(caps, sizeof(caps), "its bandwidth cap (%s)", r);
	} else if (s->read_bps || s->write_bps) {
		snprintf(caps, sizeof(caps), "its bandwidth caps");
	}
	if (s->jitter_ns) {
		vn_fmt_time(s->jitter_ns, r, sizeof(r));
		snprintf(jit, sizeof(jit), "its jitter (%s %s)", r, s->jitter_dist);
	}
	if (caps[0] || jit[0])
		snprintf(rest, sizeof(rest), "; %s%s%s still appl%s", caps,
			 caps[0] && jit[0] ? " and " : "", jit, caps[0] && jit[0] ? "y" : "ies");
	switch (pl->reach) {
	case VN_FABRIC_BELOW:
		floor_desc(floor, src, ops, fd, sizeof(fd));
		warn(w, "%s: %s per 4 KiB read is below this lab's wire time to %s (%s): this fabric cannot be reached here, the link adds no latency%s",
		     s->preset, t, comp, fd, rest);
		break;
	case VN_FABRIC_NO_FLOOR:
		warn(w, "%s: the wire time to %s is not known yet (%s, and its link has carried no traffic): the link adds no latency until it has carried %d operations; then vnoded adds %s minus the measured wire time%s",
		     s->preset, comp, storage ? "storage hosts are not probed" :
		     "the probe did not time a round trip", VN_FABRIC_MIN_OPS, t, rest);
		break;
	case VN_FABRIC_RAW:
		if ((uint64_t)pl->delay_us * 1000 != s->delay_ns) {
			vn_fmt_time(s->delay_ns, t, sizeof(t));
			warn(w, "--delay %s: the kernel adds whole microseconds, %" PRIu32 "us",
			     t, pl->delay_us);
		}
		/* fall through */
	case VN_FABRIC_REACHED:
		break;
	}
	if ((uint64_t)pl->jitter_us * 1000 != s->jitter_ns) {
		vn_fmt_time(s->jitter_ns, t, sizeof(t));
		warn(w, "jitter %s: the kernel takes whole microseconds, %" PRIu32 "us",
		     t, pl->jitter_us);
	}
	if ((uint64_t)pl->read_mbps * 1000000 != s->read_bps ||
	    (uint64_t)pl->write_mbps * 1000000 != s->write_bps)
		warn(w, "bandwidth: the kernel caps in whole MB/s: read %" PRIu32 "MB/s, write %" PRIu32 "MB/s",
		     pl->read_mbps, pl->write_mbps);
}

/* ---- requests --------------------------------------------------------------- */

int vn_fabric_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err)
{
	(void)err;
	*out = ctx->presets ? vn_fabric_presets_json(ctx->presets) : json_object_new_array();
	return 0;
}

static const char *reach_name(enum vn_fabric_reach r)
{
	static const char *const n[] = {
		[VN_FABRIC_RAW] = "raw", [VN_FABRIC_REACHED] = "reached",
		[VN_FABRIC_BELOW] = "below_floor", [VN_FABRIC_NO_FLOOR] = "floor_unknown",
	};

	return n[r];
}

static void add_stats(struct vn_ctx *ctx, const char *link, json_object *f)
{
	struct vn_fabric_stats st;
	json_object *o;

	if (vn_fabric_stats(&ctx->kern, link, &st)) {
		json_object_object_add(f, "in_kernel", json_object_new_boolean(0));
		return;
	}
	json_object_object_add(f, "in_kernel", json_object_new_boolean(1));
	o = json_object_new_object();
	json_object_object_add(o, "clients", json_object_new_int64(st.clients));
	json_object_object_add(o, "ops", json_object_new_int64(st.ops));
	json_object_object_add(o, "held", json_object_new_int64(st.held));
	json_object_object_add(o, "read_bytes", json_object_new_int64(st.read_bytes));
	json_object_object_add(o, "write_bytes", json_object_new_int64(st.write_bytes));
	/* per operation: the wire (the floor) and what the link added */
	json_object_object_add(o, "wire_per_op_ns",
			       json_object_new_int64(st.ops ? st.wire_us * 1000 / st.ops : 0));
	json_object_object_add(o, "added_per_op_ns",
			       json_object_new_int64(st.ops ? st.added_us * 1000 / st.ops : 0));
	json_object_object_add(o, "reads", json_object_new_int64(st.read_ops));
	json_object_object_add(o, "wire_per_read_ns",
			       json_object_new_int64(st.read_ops ? st.read_wire_us * 1000 /
						     st.read_ops : 0));
	json_object_object_add(o, "late_us", json_object_new_int64(st.late_us));
	json_object_object_add(o, "early_us", json_object_new_int64(st.early_us));
	json_object_object_add(f, "stats", o);
}

void vn_fabric_show(struct vn_ctx *ctx, json_object *comp, bool detail)
{
	json_object *row = NULL, *f;
	struct vn_fabric_set s;
	struct vn_fabric_plan pl;
	char addr[64], hand[64];

	if (vn_addr_canon(vn_jstr(comp, "addr"), addr, sizeof(addr)) ||
	    row_get(ctx, addr, &row, NULL))
		return;
	if (!row) {
		struct vn_fabric_link l;

		/* a link somebody made by hand: shown, never touched */
		if (!detail || vn_fabric_find(&ctx->kern, addr, NULL, hand, sizeof(hand)) ||
		    vn_fabric_get(&ctx->kern, hand, &l))
			return;
		f = json_object_new_object();
		json_object_object_add(f, "link", json_object_new_string(hand));
		json_object_object_add(f, "by_hand", json_object_new_boolean(1));
		json_object_object_add(f, "link_delay_us", json_object_new_int64(l.delay_us));
		json_object_object_add(f, "link_per_kib_ns", json_object_new_int64(l.per_kib_ns));
		json_object_object_add(f, "jitter_ns", json_object_new_int64(l.jitter_us * 1000LL));
		json_object_object_add(f, "jitter_dist", json_object_new_string(l.jitter));
		json_object_object_add(f, "read_bps", json_object_new_int64(l.read_mbps * 1000000LL));
		json_object_object_add(f, "write_bps", json_object_new_int64(l.write_mbps * 1000000LL));
		add_stats(ctx, hand, f);
		json_object_object_add(comp, "fabric", json_object_new_string("by hand"));
		json_object_object_add(comp, "fabric_link", f);
		return;
	}
	set_of_row(row, &s);
	json_object_object_add(comp, "fabric", json_object_new_string(s.preset[0] ? s.preset :
								      "custom"));
	if (!detail) {
		json_object_put(row);
		return;
	}
	vn_fabric_plan(&s, (uint64_t)vn_jint(row, "floor_ns"), &pl);
	/* the row, as it is, and what it means; a preset has no raw delay,
	 * raw settings no target */
	f = row;
	json_object_object_del(f, s.preset[0] ? "delay_ns" : "target_ns");
	json_object_object_add(f, "link", json_object_new_string(addr));
	json_object_object_add(f, "reach", json_object_new_string(reach_name(pl.reach)));
	add_stats(ctx, addr, f);
	json_object_object_add(comp, "fabric_link", f);
}

/* Undo a link change whose recording failed: the old row's link back, or
 * none. */
static void link_restore(struct vn_ctx *ctx, const char *addr, json_object *old)
{
	struct vn_err e;

	if (old ? link_put_row(ctx, old, &e) : vn_fabric_remove(&ctx->kern, addr, &e))
		ctx->log(LOG_ERR, "fabric link %s: cannot undo a change: %s", addr, e.msg);
}

static int set_clear(struct vn_ctx *ctx, const char *name, const char *addr,
		     struct vn_err *err)
{
	json_object *old = NULL;
	int ret;

	ret = row_get(ctx, addr, &old, err);
	if (ret || !old)
		return ret;	/* nothing to clear */
	ret = vn_fabric_remove(&ctx->kern, addr, err);
	if (ret)
		goto out;
	ret = vn_db_begin(ctx->db, err);
	if (!ret)
		ret = row_delete(ctx, addr, err);
	if (!ret) {
		link_event(ctx, "fabric.clear", addr, old, name, "cleared by user");
		ret = vn_db_commit(ctx->db, err);
	}
	if (ret) {
		vn_db_rollback(ctx->db);
		link_restore(ctx, addr, old);
		goto out;
	}
	ctx->log(LOG_INFO, "component %s: fabric link %s removed", name, addr);
out:
	json_object_put(old);
	return ret;
}

/* The settings rq asks for on top of cur (checked). */
static int set_build(struct vn_ctx *ctx, const struct vn_fabric_req *rq,
		     struct vn_fabric_set *s, struct vn_err *err)
{
	const struct vn_fabric_preset *p;
	int ret;

	if (rq->preset) {
		p = vn_fabric_preset_find(ctx->presets, rq->preset);
		if (!p)
			return vn_seterr(err, EINVAL,
					 "unknown fabric '%s' (`vnodectl fabric list` shows the presets)",
					 rq->preset);
		*s = p->set;
	}
	if (rq->has_delay) {
		s->preset[0] = '\0';
		s->target_ns = 0;
		s->delay_ns = rq->delay_ns;
	}
	if (rq->has_per_kib)
		s->per_kib_ns = rq->per_kib_ns;
	if (rq->has_jitter) {
		const char *d = rq->jitter_dist && *rq->jitter_dist ? rq->jitter_dist :
				"uniform";

		ret = vn_fabric_check_dist(d, "--jitter", err);
		if (ret)
			return ret;
		s->jitter_ns = rq->jitter_ns;
		snprintf(s->jitter_dist, sizeof(s->jitter_dist), "%s", d);
	}
	if (rq->has_read)
		s->read_bps = rq->read_bps;
	if (rq->has_write)
		s->write_bps = rq->write_bps;
	ret = vn_fabric_check_time(s->delay_ns, VN_FABRIC_MAX_NS, "--delay", err);
	if (!ret)
		ret = vn_fabric_check_time(s->per_kib_ns, VN_FABRIC_MAX_KIB_NS, "--per-kib", err);
	if (!ret)
		ret = vn_fabric_check_time(s->jitter_ns, VN_FABRIC_MAX_NS, "--jitter", err);
	if (!ret)
		ret = vn_fabric_check_rate(s->read_bps, !rq->has_read ? "read bandwidth" :
					   rq->read_opt ? rq->read_opt : "--read-bw", err);
	if (!ret)
		ret = vn_fabric_check_rate(s->write_bps, !rq->has_write ? "write bandwidth" :
					   rq->write_opt ? rq->write_opt : "--write-bw", err);
	return ret;
}

/* Make host addr's link what s asks (floor measured now) and record it;
 * on failure nothing has changed. */
static int set_apply(struct vn_ctx *ctx, const char *comp, bool storage,
		     const char *addr, const struct vn_fabric_set *s, json_object *old,
		     json_object *warnings, struct vn_err *err)
{
	struct vn_fabric_plan pl;
	struct vn_fabric_link l;
	const char *src;
	uint64_t floor;
	int64_t ops;
	int ret;

	floor = measure_floor(ctx, addr, &src, &ops);
	vn_fabric_plan(s, floor, &pl);
	plan_warnings(s, &pl, comp, storage, floor, src, ops, warnings);
	link_of(addr, &pl, &l);
	ret = vn_fabric_put(&ctx->kern, addr, &l, err);
	if (ret)
		return ret;
	ret = vn_db_begin(ctx->db, err);
	if (!ret)
		ret = row_put(ctx, addr, s, floor, src, &pl, err);
	if (!ret) {
		link_event(ctx, "fabric.set", addr, NULL, comp, NULL);
		ret = vn_db_commit(ctx->db, err);
	}
	if (ret) {
		vn_db_rollback(ctx->db);
		link_restore(ctx, addr, old);
		return ret;
	}
	ctx->log(LOG_INFO, "component %s: fabric link %s: delay %" PRIu32 "us, per KiB %" PRIu32
		 "ns, jitter %" PRIu32 "us %s, read %" PRIu32 "MB/s, write %" PRIu32 "MB/s%s%s",
		 comp, addr, pl.delay_us, pl.per_kib_ns, pl.jitter_us, pl.jitter,
		 pl.read_mbps, pl.write_mbps, s->preset[0] ? ", fabric " : "", s->preset);
	return 0;
}

int vn_fabric_set_comp(struct vn_ctx *ctx, const char *name,
		       const struct vn_fabric_req *rq, json_object **out,
		       struct vn_err *err)
{
	bool any = rq->preset || rq->has_delay || rq->has_per_kib || rq->has_jitter ||
		   rq->has_read || rq->has_write;
	json_object *comp = NULL, *old = NULL, *warnings = NULL;
	struct vn_fabric_set s = { .jitter_dist = "uniform" };
	struct vn_probe_result pr;
	char addr[64];
	int ret;

	ret = vn_get_component(ctx, name, &comp, err);
	if (ret)
		return ret;
	if (vn_addr_canon(vn_jstr(comp, "addr"), addr, sizeof(addr))) {
		ret = vn_seterr(err, EINVAL, "component '%s' has no valid address", name);
		goto out;
	}
	if (rq->clear && any) {
		ret = vn_seterr(err, EINVAL, "--clear takes no other option");
		goto out;
	}
	if (rq->clear) {
		ret = set_clear(ctx, name, addr, err);
		goto show;
	}
	if (!any) {
		ret = vn_seterr(err, EINVAL,
				"nothing to set (--fabric, --delay, --per-kib, --jitter, --bw, --read-bw, --write-bw, or --clear)");
		goto out;
	}
	if (rq->preset && rq->has_delay) {
		ret = vn_seterr(err, EINVAL,
				"--fabric %s says what the latency is; --delay adds a raw one: give one of them",
				rq->preset);
		goto out;
	}
	ret = row_get(ctx, addr, &old, err);
	if (ret)
		goto out;
	if (old)
		set_of_row(old, &s);
	ret = set_build(ctx, rq, &s, err);
	if (ret)
		goto out;
	/* a fresh round trip when the link has not measured the wire */
	if (s.preset[0] && !strcmp(vn_jstr(comp, "kind"), "memory"))
		vn_probe_comp(ctx, comp, &pr, NULL, 0, NULL);
	warnings = json_object_new_array();
	ret = set_apply(ctx, name, !strcmp(vn_jstr(comp, "kind"), "storage"), addr, &s, old,
			warnings, err);
show:
	if (!ret)
		ret = vn_component_show(ctx, name, false, out, err);
	if (!ret && warnings && json_object_array_length(warnings))
		json_object_object_add(*out, "warnings", json_object_get(warnings));
out:
	json_object_put(warnings);
	json_object_put(old);
	json_object_put(comp);
	return ret;
}

/* ---- vnode create --fabric -------------------------------------------------- */

int vn_fabric_vnode_prepare(struct vn_ctx *ctx, const char *preset,
			    struct vn_fabric_vnode *fv, struct vn_err *err)
{
	memset(fv, 0, sizeof(*fv));
	if (!preset || !*preset)
		return 0;
	fv->preset = vn_fabric_preset_find(ctx->presets, preset);
	if (!fv->preset)
		return vn_seterr(err, EINVAL,
				 "unknown fabric '%s' (`vnodectl fabric list` shows the presets)",
				 preset);
	return 0;
}

int vn_fabric_vnode_add(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			const char *comp, const char *addr, struct vn_err *err)
{
	struct vn_fabric_set cur;
	json_object *row = NULL;
	char a[64], have[256], want[256], hand[64];
	int i, ret;

	if (!fv->preset)
		return 0;
	if (vn_addr_canon(addr, a, sizeof(a)))
		return vn_seterr(err, EINVAL, "component '%s' has no valid address", comp);
	for (i = 0; i < fv->n; i++)
		if (!strcmp(fv->h[i].addr, a))
			return 0;	/* a host of two components */
	if (fv->n == (int)(sizeof(fv->h) / sizeof(fv->h[0])))
		return vn_seterr(err, E2BIG, "--fabric: too many hosts");
	ret = row_get(ctx, a, &row, err);
	if (ret)
		return ret;
	if (row) {
		set_of_row(row, &cur);
		json_object_put(row);
		if (!vn_fabric_set_equal(&cur, &fv->preset->set)) {
			vn_fabric_set_describe(&cur, have, sizeof(have));
			vn_fabric_set_describe(&fv->preset->set, want, sizeof(want));
			return vn_seterr(err, EEXIST,
					 "%s (%s) already has %s%s, this vNode asks for %s, and a host has one fabric for every vNode that uses it: create it with %s%s, or change %s for all of them with `vnodectl component set %s --fabric %s`",
					 comp, a, cur.preset[0] ? "" : "raw settings ", have, want,
					 cur.preset[0] ? "--fabric " : "no --fabric",
					 cur.preset[0] ? cur.preset : "", comp, comp,
					 fv->preset->set.preset);
		}
	} else if (!vn_fabric_find(&ctx->kern, a, a, hand, sizeof(hand))) {
		return vn_seterr(err, EEXIST,
				 "%s (%s) has a fabric link made by hand, %s: rmdir %s/%s first (or create the vNode without --fabric)",
				 comp, a, hand, VN_FABRIC_CFS, hand);
	}
	snprintf(fv->h[fv->n].comp, sizeof(fv->h[fv->n].comp), "%s", comp);
	snprintf(fv->h[fv->n].addr, sizeof(fv->h[fv->n].addr), "%s", a);
	fv->h[fv->n].is_new = !row;
	fv->n++;
	return 0;
}

int vn_fabric_vnode_setup(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			  struct vn_err *err)
{
	const struct vn_fabric_set *s;
	struct vn_fabric_plan pl;
	struct vn_fabric_link l;
	int64_t ops;
	int i, ret;

	if (!fv->preset)
		return 0;
	s = &fv->preset->set;
	for (i = 0; i < fv->n; i++) {
		json_object *cs;
		bool storage = false;

		if (!fv->h[i].is_new)
			continue;
		fv->h[i].floor_ns = measure_floor(ctx, fv->h[i].addr, &fv->h[i].floor_src, &ops);
		vn_fabric_plan(s, fv->h[i].floor_ns, &pl);
		cs = comps_at(ctx, fv->h[i].addr);
		if (json_object_array_length(cs))
			storage = !strcmp(vn_jstr(json_object_array_get_idx(cs, 0), "kind"),
					  "storage");
		json_object_put(cs);
		plan_warnings(s, &pl, fv->h[i].comp, storage, fv->h[i].floor_ns,
			      fv->h[i].floor_src, ops, fv->warnings);
		link_of(fv->h[i].addr, &pl, &l);
		ret = vn_fabric_put(&ctx->kern, fv->h[i].addr, &l, err);
		if (ret) {
			vn_fabric_vnode_unwind(ctx, fv);
			return ret;
		}
		fv->h[i].made = true;
	}
	return 0;
}

int vn_fabric_vnode_commit(struct vn_ctx *ctx, struct vn_fabric_vnode *fv,
			   struct vn_err *err)
{
	struct vn_fabric_plan pl;
	int i, ret;

	for (i = 0; fv->preset && i < fv->n; i++) {
		if (!fv->h[i].made)
			continue;
		vn_fabric_plan(&fv->preset->set, fv->h[i].floor_ns, &pl);
		ret = row_put(ctx, fv->h[i].addr, &fv->preset->set, fv->h[i].floor_ns,
			      fv->h[i].floor_src, &pl, err);
		if (ret)
			return ret;
		link_event(ctx, "fabric.set", fv->h[i].addr, NULL, fv->h[i].comp,
			   "vnode create --fabric");
	}
	return 0;
}

void vn_fabric_vnode_unwind(struct vn_ctx *ctx, struct vn_fabric_vnode *fv)
{
	int i;

	for (i = 0; i < fv->n; i++)
		if (fv->h[i].made) {
			vn_fabric_remove(&ctx->kern, fv->h[i].addr, NULL);
			fv->h[i].made = false;
		}
}

/* ---- component delete ----------------------------------------------------- */

int vn_fabric_forget(struct vn_ctx *ctx, const char *addr, const char *why,
		     bool *gone, struct vn_err *err)
{
	json_object *row = NULL, *cs;
	char a[64];
	int ret;

	*gone = false;
	if (vn_addr_canon(addr, a, sizeof(a)))
		return 0;
	cs = comps_at(ctx, a);
	ret = json_object_array_length(cs) ? 0 : row_get(ctx, a, &row, err);
	json_object_put(cs);
	if (ret || !row)
		return ret;
	ret = row_delete(ctx, a, err);
	if (!ret) {
		link_event(ctx, "fabric.clear", a, row, NULL, why);
		*gone = true;
	}
	json_object_put(row);
	return ret;
}

/* Remember canonical addr's link for unlink_retry(). */
static void unlink_later(struct vn_ctx *ctx, const char *a)
{
	int i, n = ctx->nr_fabric_unlink;

	for (i = 0; i < n; i++)
		if (!strcmp(ctx->fabric_unlink[i], a))
			return;
	if (n == (int)(sizeof(ctx->fabric_unlink) / sizeof(ctx->fabric_unlink[0]))) {
		ctx->log(LOG_ERR, "fabric link %s: too many links left to remove; remove it by hand (rmdir)",
			 a);
		return;
	}
	snprintf(ctx->fabric_unlink[n], sizeof(ctx->fabric_unlink[n]), "%s", a);
	ctx->nr_fabric_unlink++;
}

void vn_fabric_forget_link(struct vn_ctx *ctx, const char *addr)
{
	struct vn_err e;
	char a[64];

	if (vn_addr_canon(addr, a, sizeof(a)))
		return;
	if (vn_fabric_remove(&ctx->kern, a, &e)) {
		ctx->log(LOG_WARNING, "fabric link %s: %s (tried again at each reconcile)", a,
			 e.msg);
		unlink_later(ctx, a);
	} else {
		ctx->log(LOG_INFO, "fabric link %s removed with its last component", a);
	}
}

/*
 * The links component deletes could not remove from the kernel: each is
 * removed now unless a link was set for its host again since (a row of
 * ours).  Returns how many are still left.
 */
static int unlink_retry(struct vn_ctx *ctx)
{
	int i = 0, left = 0;

	while (i < ctx->nr_fabric_unlink) {
		const char *a = ctx->fabric_unlink[i];
		json_object *row = NULL;
		struct vn_err e = { "" };

		if (row_get(ctx, a, &row, NULL)) {
			i++;	/* cannot tell now: next pass */
			left++;
			continue;
		}
		if (!row && vn_fabric_remove(&ctx->kern, a, &e)) {
			i++;
			left++;
			continue;
		}
		if (!row)
			ctx->log(LOG_INFO, "fabric link %s removed (its component was deleted earlier)",
				 a);
		json_object_put(row);
		memmove(ctx->fabric_unlink[i], ctx->fabric_unlink[i + 1],
			(size_t)(ctx->nr_fabric_unlink - i - 1) * sizeof(ctx->fabric_unlink[0]));
		ctx->nr_fabric_unlink--;
	}
	return left;
}

/* ---- reconcile -------------------------------------------------------------- */

/*
 * A preset's floor only gets better: none -> the probe's -> the link's
 * own (which never changes after; `component set` measures anew).  Row
 * row gets the new floor and plan when one is found: true.
 */
static bool refloor(struct vn_ctx *ctx, json_object *row)
{
	const char *src, *old = vn_jstr(row, "floor_src");
	const char *addr = vn_jstr(row, "addr");
	struct vn_fabric_set s;
	struct vn_fabric_plan pl;
	uint64_t floor;
	int64_t ops;
	char t[32], fd[96];

	if (!vn_jstr(row, "preset") || (old && !strcmp(old, "link")))
		return false;
	floor = measure_floor(ctx, addr, &src, &ops);
	if (!src || (old && !strcmp(src, old)))
		return false;
	set_of_row(row, &s);
	vn_fabric_plan(&s, floor, &pl);
	if (vn_db_begin(ctx->db, NULL))
		return false;
	if (row_put(ctx, addr, &s, floor, src, &pl, NULL) || vn_db_commit(ctx->db, NULL)) {
		vn_db_rollback(ctx->db);
		return false;
	}
	json_object_object_add(row, "floor_ns", json_object_new_int64((int64_t)floor));
	floor_desc(floor, src, ops, fd, sizeof(fd));
	vn_fmt_time(s.target_ns, t, sizeof(t));
	ctx->log(LOG_NOTICE, "fabric link %s (%s, %s): the wire takes %s: the link adds %" PRIu32
		 "us and %" PRIu32 "ns per KiB%s", addr, s.preset, t, fd,
		 pl.delay_us, pl.per_kib_ns,
		 pl.reach == VN_FABRIC_BELOW ? " (the fabric is below this wire time)" : "");
	link_event(ctx, "fabric.reconcile", addr, NULL, NULL, "the wire time is measured");
	return true;
}

/* The components' addresses, for addr_in(). */
static int comp_addrs(struct vn_ctx *ctx, json_object **rows, struct vn_err *err)
{
	return vn_db_query_json(ctx->db, "SELECT addr FROM components", NULL, rows, err);
}

/* Is a component of rows (comp_addrs) at host addr (canonical)? */
static bool addr_in(json_object *rows, const char *addr)
{
	char c[64];
	size_t i;

	for (i = 0; i < json_object_array_length(rows); i++)
		if (!vn_addr_canon(vn_jstr(json_object_array_get_idx(rows, i), "addr"), c,
				   sizeof(c)) && !strcmp(c, addr))
			return true;
	return false;
}

/* 1 if a component is at host addr (canonical), 0 if none, or the error
 * (components that cannot be read are no reason to drop a link). */
static int addr_used(struct vn_ctx *ctx, const char *addr, struct vn_err *err)
{
	json_object *rows;
	int ret;

	ret = comp_addrs(ctx, &rows, err);
	if (ret)
		return ret;
	ret = addr_in(rows, addr);
	json_object_put(rows);
	return ret;
}

#define ORPHAN_WHY "no component at this host any more"

/*
 * Row's link when no component is at its host any more: the last one was
 * deleted on another process host, whose delete clears only its own link
 * (and `component set --clear` cannot name it now).  Removed from the
 * kernel as a clear does, then its row (checked again in the transaction:
 * a component added there meanwhile keeps it), with a fabric.clear event.
 * false: a component is there, the row is reconciled as usual; true: the
 * row is done with (gone, or a failure counted in *bad and the removal
 * tried again next pass).
 */
static bool orphan_clear(struct vn_ctx *ctx, json_object *comps, json_object *row,
			 int *bad)
{
	const char *addr = vn_jstr(row, "addr");
	struct vn_err e = { "" };
	int ret;

	/* the pass's read of the components (NULL: it failed, keep the row) */
	if (!comps || addr_in(comps, addr))
		return false;
	ret = vn_fabric_remove(&ctx->kern, addr, &e);
	if (ret)
		goto bad;
	ret = vn_db_begin(ctx->db, &e);
	if (!ret)
		ret = addr_used(ctx, addr, &e);
	if (!ret)
		ret = row_delete(ctx, addr, &e);
	if (!ret) {
		link_event(ctx, "fabric.clear", addr, row, NULL, ORPHAN_WHY);
		ret = vn_db_commit(ctx->db, &e);
	}
	if (ret) {
		vn_db_rollback(ctx->db);
		link_restore(ctx, addr, row);
		if (ret > 0)
			return false;	/* a component came meanwhile */
		goto bad;
	}
	ctx->fabric_err[0] = '\0';
	ctx->log(LOG_NOTICE, "fabric link %s removed with its settings: " ORPHAN_WHY
		 " (deleted on another process host)", addr);
	return true;
bad:
	/* once per cause, not every interval */
	if (strcmp(ctx->fabric_err, e.msg))
		ctx->log(LOG_ERR, "fabric link %s: " ORPHAN_WHY ", cannot remove it: %s", addr,
			 e.msg);
	snprintf(ctx->fabric_err, sizeof(ctx->fabric_err), "%s", e.msg);
	(*bad)++;
	return true;
}

int vn_fabric_reconcile(struct vn_ctx *ctx)
{
	json_object *rows, *comps = NULL;
	int bad = 0;
	size_t i;

	bad += unlink_retry(ctx);
	if (vn_db_query_json(ctx->db, "SELECT " LINK_COLS " FROM fabric_links WHERE host = ? "
			     "ORDER BY addr", (const char *const[]){ ctx->host, NULL }, &rows, NULL))
		return 1;
	/* read once for the pass; each removal checks again in its transaction */
	if (json_object_array_length(rows) && comp_addrs(ctx, &comps, NULL))
		bad++;
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		const char *addr = vn_jstr(row, "addr");
		struct vn_fabric_set s;
		struct vn_fabric_plan pl;
		struct vn_fabric_link want, have;
		struct vn_err e = { "" };
		bool missing, refloored;

		if (orphan_clear(ctx, comps, row, &bad))
			continue;
		refloored = refloor(ctx, row);
		set_of_row(row, &s);
		vn_fabric_plan(&s, (uint64_t)vn_jint(row, "floor_ns"), &pl);
		link_of(addr, &pl, &want);
		missing = vn_fabric_get(&ctx->kern, addr, &have) != 0;
		if (!missing && link_same(&want, &have))
			continue;
		if (vn_fabric_put(&ctx->kern, addr, &want, &e)) {
			/* once per cause, not every interval */
			if (strcmp(ctx->fabric_err, e.msg))
				ctx->log(LOG_ERR, "fabric link %s: cannot restore it: %s", addr, e.msg);
			snprintf(ctx->fabric_err, sizeof(ctx->fabric_err), "%s", e.msg);
			bad++;
			continue;
		}
		ctx->fabric_err[0] = '\0';
		if (refloored && !missing)
			continue;	/* said so */
		ctx->log(LOG_NOTICE, "fabric link %s: %s", addr,
			 missing ? "restored (vnode_xprt reloaded or the host rebooted)" :
			 "set back to the stored settings");
		link_event(ctx, "fabric.reconcile", addr, NULL, NULL,
			   missing ? "restored" : "set back");
	}
	json_object_put(comps);
	json_object_put(rows);
	return bad;
}
