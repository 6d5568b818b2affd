// SPDX-License-Identifier: GPL-2.0
/*
 * Fabric links as vnoded keeps them (vnoded/fabric_link.c), through the
 * request protocol (vn_handle_request) against a fake sysroot: component
 * set with raw settings and presets (the floor rule, from the probe or
 * from the link's own counters), what vnodectl passes on and vnoded
 * refuses with nothing changed, --clear, vnode create --fabric and its
 * conflicts, component delete, reconciliation after a restart or a
 * module reload, and of a link whose component is gone.
 */
#include "unit.h"
#include "unit_req.h"
#include "db.h"
#include "fabric_link.h"
#include "kern_ops.h"
#include "vnodectl.h"
#include "vnoded.h"

#define FAB "sys/kernel/config/vnode_xprt/fabric/"

struct fx {
	char dir[256];
	char root[300];
	char db[300];
	struct vn_ctx ctx;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_cluster cl = { .replicas = 1, .disk = "vnmem", .probe_timeout_ms = 100,
				 .agent_port = 7472 };
	struct vn_conf_comp c[] = {
		{ .name = "m1", .kind = VN_COMP_MEMORY, .addr = "10.0.0.2", .port = 7470 },
		{ .name = "m2", .kind = VN_COMP_MEMORY, .addr = "10.0.0.3", .port = 7470 },
		{ .name = "s1", .kind = VN_COMP_STORAGE, .addr = "10.0.0.9", .port = 7471 },
	};
	struct vn_err err;
	size_t i;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/state.db", fx->dir);
	write_at(fx->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	write_at(fx->root, "sys/kernel/config/vnode/mem/.keep", "");
	write_at(fx->root, "sys/kernel/config/vnode/vnodes/.keep", "");
	write_at(fx->root, "sys/kernel/config/vnode_stor/volumes/.keep", "");
	write_at(fx->root, "sys/kernel/config/vnode_vol/.keep", "");
	write_at(fx->root, FAB ".keep", "");
	write_at(fx->root, "proc/.keep", "");
	write_at(fx->root, "agent/10.0.0.9", "");
	/* the lab: 412 us to m1; a real NIC's 2.5 us to m2 */
	write_at(fx->root, "probe/10.0.0.2:7470", "256M 0 20 412us\n");
	write_at(fx->root, "probe/10.0.0.3:7470", "256M 0 20 2.5us\n");
	if (vn_ctx_init(&fx->ctx, fx->db, fx->root, &cl, &err))
		return -1;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(vn_component_add(&fx->ctx, &c[i], "test", i < 2, NULL, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vn_ctx_fini(&fx->ctx);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

#define req(fx, line, uid) unit_req(&(fx)->ctx, line, uid)
#define expect_err(fx, line, uid, code, msg) unit_expect_err(&(fx)->ctx, line, uid, code, msg)

/* the answer's data (the request must succeed); the caller puts it */
#define ok(fx, line) unit_ok(&(fx)->ctx, line)


static uint64_t attr(struct fx *fx, const char *link, const char *a)
{
	char rel[128], buf[64];

	snprintf(rel, sizeof(rel), FAB "%s/%s", link, a);
	assert_int_equal(read_at(fx->root, rel, buf, sizeof(buf)), 0);
	return strtoull(buf, NULL, 10);
}

/* the link's attributes and the fabric rows/events, to see nothing changed */
static void sig(struct fx *fx, const char *link, char *buf, size_t len)
{
	char rel[128], v[7][32];
	static const char *const a[] = { "addr", "delay_us", "per_kib_ns", "jitter_us",
					 "jitter", "read_mbps", "write_mbps" };
	int i;

	for (i = 0; i < 7; i++) {
		snprintf(rel, sizeof(rel), FAB "%s/%s", link, a[i]);
		if (read_at(fx->root, rel, v[i], sizeof(v[i])))
			strcpy(v[i], "none");
	}
	snprintf(buf, len, "%s/%s/%s/%s/%s/%s/%s rows %" PRId64 " events %" PRId64 " vnodes %" PRId64,
		 v[0], v[1], v[2], v[3], v[4], v[5], v[6],
		 db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"),
		 db_int(fx->ctx.db, "SELECT count(*) FROM events"),
		 db_int(fx->ctx.db, "SELECT count(*) FROM vnodes"));
}

static const char *warning(json_object *d, int i)
{
	json_object *w;

	if (!json_object_object_get_ex(d, "warnings", &w) || !w ||
	    (int)json_object_array_length(w) <= i)
		return "";
	return json_object_get_string(json_object_array_get_idx(w, i));
}

/* vnodectl's parser, then the request: what a user's command line does
 * (the whole answer, *ret 0 or -errno) */
static json_object *cli(struct fx *fx, char **argv, int *ret)
{
	json_object *args, *rq = json_object_new_object(), *o;
	struct vn_err err;

	if (vc_parse_component_set(argv_len(argv), argv, &args, &err))
		fail_msg("the client refused it: %s", err.msg);
	json_object_object_add(rq, "cmd", json_object_new_string("component.set"));
	json_object_object_add(rq, "args", args);
	o = req(fx, json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN), 0);
	json_object_put(rq);
	*ret = json_object_get_boolean(json_object_object_get(o, "ok")) ? 0 :
	       -json_object_get_int(json_object_object_get(o, "errno"));
	return o;
}

/* the same, when it must succeed: the answer's data */
static json_object *cli_ok(struct fx *fx, char **argv)
{
	json_object *o, *d;
	int ret;

	o = cli(fx, argv, &ret);
	if (ret)
		fail_msg("%s %s: %s", argv[0], argv[1],
			 json_object_get_string(json_object_object_get(o, "error")));
	d = json_object_get(json_object_object_get(o, "data"));
	json_object_put(o);
	return d;
}

static void presets_list(void **state)
{
	struct fx *fx = *state;
	json_object *d = ok(fx, "{\"cmd\":\"fabric.list\"}");

	assert_int_equal(json_object_array_length(d), 4);
	assert_string_equal(vn_jstr(json_object_array_get_idx(d, 0), "name"), "rdma-rack");
	assert_non_null(vn_jstr(json_object_array_get_idx(d, 0), "source"));
	json_object_put(d);
}

/* raw settings: added as given, in the kernel's units */
static void raw(void **state)
{
	struct fx *fx = *state;
	json_object *d, *f;

	d = cli_ok(fx, (char *[]){ "set", "m1", "--delay", "20us", "--per-kib", "80ns",
				   "--jitter", "5us:normal", "--bw", "3GB/s", "--write-bw=1Gb/s",
				   NULL });
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.2", "delay_us"), 20);
	assert_int_equal(attr(fx, "10.0.0.2", "per_kib_ns"), 80);
	assert_int_equal(attr(fx, "10.0.0.2", "jitter_us"), 5);
	assert_int_equal(attr(fx, "10.0.0.2", "read_mbps"), 3000);
	assert_int_equal(attr(fx, "10.0.0.2", "write_mbps"), 125);
	assert_int_equal(count_lines_at(fx->root, FAB "10.0.0.2/jitter", "normal"), 1);
	assert_int_equal(count_lines_at(fx->root, FAB "10.0.0.2/addr", "10.0.0.2"), 1);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links WHERE addr = '10.0.0.2' "
				"AND preset IS NULL AND delay_ns = 20000 AND link_delay_us = 20"), 1);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.set' "
				"AND name = '10.0.0.2' AND json_extract(detail, '$.component') = 'm1'"), 1);

	/* set changes what it is given, keeps the rest */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"delay_ns\":1500}}");
	assert_non_null(strstr(warning(d, 0), "--delay 1.5us: the kernel adds whole microseconds, 2us"));
	f = json_object_object_get(d, "fabric_link");
	assert_string_equal(vn_jstr(d, "fabric"), "custom");
	assert_string_equal(vn_jstr(f, "reach"), "raw");
	assert_int_equal(vn_jint(f, "link_delay_us"), 2);
	assert_int_equal(vn_jint(f, "read_bps"), 3000000000LL);
	assert_true(json_object_get_boolean(json_object_object_get(f, "in_kernel")));
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.2", "delay_us"), 2);
	assert_int_equal(attr(fx, "10.0.0.2", "read_mbps"), 3000);

	/* component show: the link and its counters, the wire per op */
	write_at(fx->root, FAB "10.0.0.2/stats", "clients 1\nops 1000\nheld 1000\nread_bytes 4096000\n"
		 "write_bytes 0\nwire_us 412000\nadded_us 2000\nlate_us 5\nearly_us 1\n");
	d = ok(fx, "{\"cmd\":\"component.show\",\"args\":{\"name\":\"m1\"}}");
	f = json_object_object_get(json_object_object_get(d, "fabric_link"), "stats");
	assert_int_equal(vn_jint(f, "wire_per_op_ns"), 412000);
	assert_int_equal(vn_jint(f, "added_per_op_ns"), 2000);
	assert_int_equal(vn_jint(f, "held"), 1000);
	json_object_put(d);
	/* component list names it */
	d = ok(fx, "{\"cmd\":\"component.list\"}");
	assert_string_equal(vn_jstr(json_object_array_get_idx(d, 0), "fabric"), "custom");
	assert_null(vn_jstr(json_object_array_get_idx(d, 1), "fabric"));
	assert_false(json_object_object_get_ex(json_object_array_get_idx(d, 0), "fabric_link", NULL));
	json_object_put(d);
}

/* presets: target - floor, or nothing below the floor (saying so) */
static void floor_rule(void **state)
{
	struct fx *fx = *state;
	json_object *d, *f;

	/* m1 is 412 us away (the probe): rdma-rack cannot be reached */
	d = cli_ok(fx, (char *[]){ "set", "m1", "--fabric", "rdma-rack", NULL });
	assert_non_null(strstr(warning(d, 0),
			       "rdma-rack: 3us per 4 KiB read is below this lab's wire time to m1 "
			       "(about 412us, the probe's round trip): this fabric cannot be reached here, "
			       "the link adds no latency; its bandwidth cap (12.5GB/s) still applies"));
	f = json_object_object_get(d, "fabric_link");
	assert_string_equal(vn_jstr(f, "reach"), "below_floor");
	assert_string_equal(vn_jstr(f, "floor_src"), "probe");
	assert_int_equal(vn_jint(f, "floor_ns"), 412000);
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.2", "delay_us"), 0);
	assert_int_equal(attr(fx, "10.0.0.2", "read_mbps"), 12500);
	assert_int_equal(attr(fx, "10.0.0.2", "write_mbps"), 12500);

	/* m2 is 2.5 us away: cross-rack (10 us) adds 7.5, to the whole us */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"cross-rack\"}}");
	assert_string_equal(warning(d, 0), "");
	assert_string_equal(vn_jstr(json_object_object_get(d, "fabric_link"), "reach"), "reached");
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 8);
	assert_int_equal(attr(fx, "10.0.0.3", "jitter_us"), 2);
	assert_int_equal(attr(fx, "10.0.0.3", "read_mbps"), 3125);
	/* a preset with a change: its name stays, the bandwidth is the user's */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"cross-rack\","
	       "\"write_bps\":1000000000}}");
	assert_string_equal(vn_jstr(d, "fabric"), "cross-rack");
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.3", "write_mbps"), 1000);
	assert_int_equal(attr(fx, "10.0.0.3", "read_mbps"), 3125);

	/* the link's own counters beat the probe: 5 us per op measured */
	write_at(fx->root, FAB "10.0.0.3/stats", "clients 1\nops 200\nheld 200\nread_bytes 0\n"
		 "write_bytes 0\nwire_us 1000\nadded_us 0\nlate_us 0\nearly_us 0\n");
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"legoos\"}}");
	f = json_object_object_get(d, "fabric_link");
	assert_string_equal(vn_jstr(f, "floor_src"), "link");
	assert_int_equal(vn_jint(f, "floor_ns"), 5000);
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 0);	/* 5 us - 5 us */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"cross-rack\"}}");
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 5);
	/* reads, what a preset is about, beat both directions: 3 us each */
	write_at(fx->root, FAB "10.0.0.3/stats", "clients 1\nops 200\nread_ops 100\n"
		 "wire_us 1000\nread_wire_us 300\n");
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"cross-rack\"}}");
	f = json_object_object_get(d, "fabric_link");
	assert_int_equal(vn_jint(f, "floor_ns"), 3000);
	assert_int_equal(vn_jint(json_object_object_get(f, "stats"), "wire_per_read_ns"), 3000);
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 7);
	/* too few operations: the probe again */
	write_at(fx->root, FAB "10.0.0.3/stats", "ops 3\nwire_us 9000\n");
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"fabric\":\"cross-rack\"}}");
	assert_string_equal(vn_jstr(json_object_object_get(d, "fabric_link"), "floor_src"), "probe");
	json_object_put(d);

	/* a storage host is not probed: nothing added until the link has
	 * measured the wire; reconcile then sets it */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"s1\",\"fabric\":\"cross-rack\"}}");
	assert_non_null(strstr(warning(d, 0), "cross-rack: the wire time to s1 is not known yet "
			       "(storage hosts are not probed, and its link has carried no traffic)"));
	assert_string_equal(vn_jstr(json_object_object_get(d, "fabric_link"), "reach"),
			    "floor_unknown");
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.9", "delay_us"), 0);
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(attr(fx, "10.0.0.9", "delay_us"), 0);
	write_at(fx->root, FAB "10.0.0.9/stats", "clients 1\nops 100\nwire_us 400\n");
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(attr(fx, "10.0.0.9", "delay_us"), 6);	/* 10 - 4 */
	assert_int_equal(db_int(fx->ctx.db, "SELECT floor_ns FROM fabric_links WHERE addr = '10.0.0.9' "
				"AND floor_src = 'link' AND link_delay_us = 6"), 4000);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.reconcile' "
				"AND json_extract(detail, '$.reason') = 'the wire time is measured'"), 1);
	/* once measured on the link, it stays (set measures anew) */
	write_at(fx->root, FAB "10.0.0.9/stats", "clients 1\nops 100\nwire_us 100\n");
	vn_reconcile(&fx->ctx, false);
	assert_int_equal(attr(fx, "10.0.0.9", "delay_us"), 6);
}

/* what vnodectl lets through and vnoded refuses: nothing changes */
static void refused(void **state)
{
	static const struct { char *argv[8]; const char *msg; } t[] = {
		{ { "set", "m1", "--delay", "2s", NULL }, "--delay 2s is more than the kernel's 1s" },
		{ { "set", "m1", "--jitter", "1001ms", NULL }, "--jitter 1.001s is more than the kernel's 1s" },
		{ { "set", "m1", "--per-kib", "2ms", NULL }, "--per-kib 2ms is more than the kernel's 1ms" },
		{ { "set", "m1", "--bw", "500KB/s", NULL }, "--bw 500KB/s is below 1MB/s" },
		{ { "set", "m1", "--read-bw", "8Mb/s", "--write-bw", "2TB/s", NULL },
		  "--write-bw 2TB/s is more than the kernel's 1TB/s" },
		{ { "set", "m1", "--jitter", "2us:gaussian", NULL },
		  "--jitter: the distribution is uniform or normal, not 'gaussian'" },
		{ { "set", "m1", "--fabric", "nvlink", NULL }, "unknown fabric 'nvlink'" },
		{ { "set", "m1", "--fabric", "legoos", "--delay", "2us", NULL },
		  "--fabric legoos says what the latency is; --delay adds a raw one" },
		{ { "set", "m1", "--clear", "--bw", "1GB/s", NULL }, "--clear takes no other option" },
		{ { "set", "m9", "--bw", "1GB/s", NULL }, "unknown component 'm9'" },
	};
	struct fx *fx = *state;
	char before[512], after[512];
	json_object *d;
	size_t i;
	int ret;

	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"delay_ns\":20000,"
	       "\"bw_bps\":3000000000}}");
	json_object_put(d);
	sig(fx, "10.0.0.2", before, sizeof(before));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		d = cli(fx, (char **)t[i].argv, &ret);
		if (ret != -EINVAL && ret != -ENOENT)
			fail_msg("case %zu: %d", i, ret);
		if (!strstr(json_object_get_string(json_object_object_get(d, "error")), t[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i,
				 json_object_get_string(json_object_object_get(d, "error")), t[i].msg);
		json_object_put(d);
		sig(fx, "10.0.0.2", after, sizeof(after));
		assert_string_equal(before, after);
	}
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"delay_ns\":1}}", 1000,
		   EPERM, "only root may set a component's fabric");
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\"}}", 0, EINVAL,
		   "nothing to set");
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"delay_ns\":\"20us\"}}",
		   0, EINVAL, "invalid 'delay_ns'");
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"delay_ns\":1}}", 0, EINVAL,
		   "missing 'name'");
	/* another link to the host, made by hand: named, nothing changes */
	assert_int_equal(mkdir(strcat(strcpy(before, fx->root), "/" FAB "hand"), 0755), 0);
	vn_kern_fake_ops.after_fabric_mkdir(&fx->ctx.kern, "hand");
	write_at(fx->root, FAB "hand/addr", "10.0.0.3");
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"delay_ns\":1000}}",
		   0, EEXIST, "another fabric link, hand, already emulates the fabric to 10.0.0.3");
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links WHERE addr = '10.0.0.3'"), 0);
	/* shown, never touched */
	d = ok(fx, "{\"cmd\":\"component.show\",\"args\":{\"name\":\"m2\"}}");
	assert_string_equal(vn_jstr(d, "fabric"), "by hand");
	assert_string_equal(vn_jstr(json_object_object_get(d, "fabric_link"), "link"), "hand");
	json_object_put(d);
	/* vnoded without vnode_xprt's fabric group */
	rm_rf(strcat(strcpy(before, fx->root), "/" FAB));
	expect_err(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"s1\",\"delay_ns\":1000}}",
		   0, ENODEV, "vnode_xprt is not loaded, or has no fabric emulation");
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links WHERE addr = '10.0.0.9'"), 0);
}

static void clear_and_delete(void **state)
{
	struct fx *fx = *state;
	struct vn_conf_comp m3 = { .name = "m3", .kind = VN_COMP_STORAGE, .addr = "10.0.0.2",
				   .port = 9999 };
	struct vn_err err;
	json_object *d;

	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"fabric\":\"legoos\"}}");
	json_object_put(d);
	assert_true(exists_at(fx->root, FAB "10.0.0.2"));
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"clear\":true}}");
	assert_false(json_object_object_get_ex(d, "fabric_link", NULL));
	json_object_put(d);
	assert_false(exists_at(fx->root, FAB "10.0.0.2"));
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"), 0);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.clear' "
				"AND json_extract(detail, '$.reason') = 'cleared by user' "
				"AND json_extract(detail, '$.preset') = 'legoos'"), 1);
	/* nothing to clear: fine */
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"clear\":true}}");
	json_object_put(d);

	/* a host of two components keeps its link until the last one goes */
	assert_int_equal(vn_component_add(&fx->ctx, &m3, "test", false, NULL, &err), 0);
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m3\",\"bw_bps\":1000000000}}");
	json_object_put(d);
	d = ok(fx, "{\"cmd\":\"component.show\",\"args\":{\"name\":\"m1\"}}");
	assert_string_equal(vn_jstr(d, "fabric"), "custom");	/* the same host */
	json_object_put(d);
	assert_int_equal(vn_component_remove(&fx->ctx, "m1", &err), 0);
	assert_true(exists_at(fx->root, FAB "10.0.0.2"));
	/* the kernel link cannot be removed now: the delete goes on, the
	 * link is removed at a later reconcile */
	rm_rf(path_at(fx->root, FAB "10.0.0.2"));
	write_at(fx->root, FAB "10.0.0.2", "");
	assert_int_equal(vn_component_remove(&fx->ctx, "m3", &err), 0);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"), 0);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.clear' "
				"AND json_extract(detail, '$.reason') = 'component m3 deleted'"), 1);
	assert_int_equal(fx->ctx.nr_fabric_unlink, 1);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 1);	/* still there */
	assert_int_equal(unlink(path_at(fx->root, FAB "10.0.0.2")), 0);
	write_at(fx->root, FAB "10.0.0.2/addr", "10.0.0.2");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.2"));
	assert_int_equal(fx->ctx.nr_fabric_unlink, 0);
}

/* vnode create --fabric: every host the vNode uses, one fabric per host */
static void vnode_fabric(void **state)
{
	struct fx *fx = *state;
	char before[512], after[512];
	json_object *d;

	/* the disk's hosts (m1, m2) and the volume's (s1) */
	d = ok(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"a\",\"mem\":67108864,"
	       "\"cache\":16777216,\"storage\":16777216,\"fabric\":\"legoos\"}}");
	assert_non_null(strstr(warning(d, 0), "legoos: 5us per 4 KiB read is below this lab's wire time to m1"));
	assert_non_null(strstr(warning(d, 1), "legoos: the wire time to s1 is not known yet"));
	json_object_put(d);
	assert_int_equal(attr(fx, "10.0.0.2", "delay_us"), 0);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 3);	/* 5 - 2.5, rounded */
	assert_int_equal(attr(fx, "10.0.0.9", "read_mbps"), 5000);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links WHERE preset = 'legoos'"), 3);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.set' "
				"AND json_extract(detail, '$.reason') = 'vnode create --fabric'"), 3);

	/* the same fabric again: nothing to do */
	d = ok(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"b\",\"mem\":67108864,"
	       "\"cache\":16777216,\"fabric\":\"legoos\"}}");
	json_object_put(d);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.set'"), 3);

	/* another: refused before anything changes, naming host and setting */
	sig(fx, "10.0.0.2", before, sizeof(before));
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"c\",\"mem\":67108864,"
		   "\"cache\":16777216,\"fabric\":\"rdma-rack\"}}", 0, EEXIST,
		   "m1 (10.0.0.2) already has fabric 'legoos' (latency 5us, bw 5GB/s), this vNode asks "
		   "for fabric 'rdma-rack' (latency 3us, bw 12.5GB/s), and a host has one fabric for "
		   "every vNode that uses it: create it with --fabric legoos, or change m1 for all of "
		   "them with `vnodectl component set m1 --fabric rdma-rack`");
	/* raw settings on a host count as another fabric too */
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM vnodes WHERE name = 'c'"), 0);
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"delay_ns\":20000}}");
	json_object_put(d);
	sig(fx, "10.0.0.2", before, sizeof(before));
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"c\",\"mem\":67108864,"
		   "\"cache\":16777216,\"fabric\":\"legoos\"}}", 0, EEXIST,
		   "m2 (10.0.0.3) already has raw settings (delay 20us, bw 5GB/s)");
	sig(fx, "10.0.0.2", after, sizeof(after));
	assert_string_equal(before, after);
	assert_false(exists_at(fx->root, "sys/fs/cgroup/vnode/c"));
	/* without --fabric: whatever the hosts have */
	d = ok(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"c\",\"mem\":67108864,"
	       "\"cache\":16777216}}");
	json_object_put(d);

	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"d\",\"mem\":67108864,"
		   "\"cache\":16777216,\"fabric\":\"nvlink\"}}", 0, EINVAL, "unknown fabric 'nvlink'");
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"d\",\"mem\":67108864,"
		   "\"cache\":67108864,\"fabric\":\"legoos\"}}", 0, EINVAL,
		   "--fabric legoos: vNode 'd' uses no memory or storage host");
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM vnodes WHERE name = 'd'"), 0);

	/* the links outlive the vNodes (a host's, not a vNode's) */
	d = ok(fx, "{\"cmd\":\"vnode.destroy\",\"args\":{\"name\":\"b\"}}");
	json_object_put(d);
	assert_true(exists_at(fx->root, FAB "10.0.0.2"));
}

/* vnode create --fabric fails half-way through its hosts: the links it
 * made are gone again, and so is everything else */
static void vnode_unwind(void **state)
{
	struct fx *fx = *state;

	/* s1's link cannot be made (something that is not a link is there) */
	write_at(fx->root, FAB "10.0.0.9", "");
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"a\",\"mem\":67108864,"
		   "\"cache\":16777216,\"storage\":16777216,\"fabric\":\"legoos\"}}", 0, EEXIST,
		   "10.0.0.9: File exists");
	assert_false(exists_at(fx->root, FAB "10.0.0.2"));
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"), 0);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM vnodes"), 0);
	assert_false(exists_at(fx->root, "sys/fs/cgroup/vnode/a"));
	assert_false(exists_at(fx->root, "sys/kernel/config/vnode_vol/a"));
}

/* reconcile (at start, every interval): the kernel as stored */
static void reconcile(void **state)
{
	struct fx *fx = *state;
	json_object *d;

	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"delay_ns\":20000,"
	       "\"jitter_ns\":3000,\"jitter_dist\":\"normal\"}}");
	json_object_put(d);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.reconcile'"), 0);
	/* vnode_xprt reloaded (or the host rebooted): the link is back */
	rm_rf(strcat(strcpy((char[512]){ 0 }, fx->root), "/" FAB "10.0.0.3"));
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 20);
	assert_int_equal(attr(fx, "10.0.0.3", "jitter_us"), 3);
	assert_int_equal(count_lines_at(fx->root, FAB "10.0.0.3/jitter", "normal"), 1);
	/* changed by hand: set back */
	write_at(fx->root, FAB "10.0.0.3/delay_us", "999");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 20);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.reconcile'"), 2);
	/* no fabric group (an old vnode_xprt): one failure, counted */
	rm_rf(strcat(strcpy((char[512]){ 0 }, fx->root), "/" FAB));
	assert_int_equal(vn_reconcile(&fx->ctx, false), 1);
	assert_non_null(strstr(fx->ctx.fabric_err, "no fabric emulation"));
	write_at(fx->root, FAB ".keep", "");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_int_equal(attr(fx, "10.0.0.3", "delay_us"), 20);
}

/* a link whose host lost its last component behind this vnoded's back
 * (another process host deleted it): reconcile removes link and row */
static void orphan(void **state)
{
	struct fx *fx = *state;
	json_object *d;

	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m2\",\"delay_ns\":20000}}");
	json_object_put(d);
	d = ok(fx, "{\"cmd\":\"component.set\",\"args\":{\"name\":\"m1\",\"delay_ns\":5000}}");
	json_object_put(d);
	assert_int_equal(vsql_exec(fx->ctx.db, "DELETE FROM components WHERE name = 'm2'"), 0);
	/* a link that cannot be removed: kept, counted, tried again */
	rm_rf(path_at(fx->root, FAB "10.0.0.3"));
	write_at(fx->root, FAB "10.0.0.3", "");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 1);
	assert_non_null(strstr(fx->ctx.fabric_err, "rmdir"));
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"), 2);
	assert_int_equal(unlink(path_at(fx->root, FAB "10.0.0.3")), 0);
	write_at(fx->root, FAB "10.0.0.3/addr", "10.0.0.3");
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
	assert_int_equal(attr(fx, "10.0.0.2", "delay_us"), 5);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links WHERE "
				"addr = '10.0.0.2'"), 1);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM fabric_links"), 1);
	assert_int_equal(db_int(fx->ctx.db, "SELECT count(*) FROM events WHERE type = 'fabric.clear' "
				"AND name = '10.0.0.3' AND json_extract(detail, '$.delay_ns') = 20000 "
				"AND json_extract(detail, '$.reason') = "
				"'no component at this host any more'"), 1);
	assert_int_equal(vn_reconcile(&fx->ctx, false), 0);
	assert_false(exists_at(fx->root, FAB "10.0.0.3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(presets_list, setup, teardown),
		cmocka_unit_test_setup_teardown(raw, setup, teardown),
		cmocka_unit_test_setup_teardown(floor_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(refused, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(vnode_fabric, setup, teardown),
		cmocka_unit_test_setup_teardown(vnode_unwind, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(orphan, setup, teardown),
	};

	return cmocka_run_group_tests_name("fabric_link", tests, NULL, NULL);
}
