// SPDX-License-Identifier: GPL-2.0
/*
 * One printing path (lib/print.c): the same calls give valid JSON with
 * -j and "key value" text without; and the daemon's JSON request
 * protocol (vnoded/request.c vn_handle_request, lib/ipc.c framing) including its error replies.
 */
#include <poll.h>
#include <sys/socket.h>

#include "unit.h"
#include "unit_req.h"
#include "db.h"
#include "ipc.h"
#include "print.h"
#include "vnodectl.h"
#include "vnoded.h"

static char *capture(bool json, bool table, void (*fn)(struct vn_printer *p))
{
	struct vn_printer p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vp_init(&p, f, json);
	p.pretty = false;
	if (table)
		vp_set_table(&p, true);
	fn(&p);
	vp_finish(&p);
	fclose(f);
	return buf;
}

static void emit_list(struct vn_printer *p)
{
	int i;

	vp_arr_begin(p, NULL);
	for (i = 0; i < 2; i++) {
		vp_obj_begin(p, NULL);
		vp_str(p, "name", i ? "b" : "a \"quoted\"");
		vp_size(p, "mem", (uint64_t)(i + 1) << 30);
		vp_u64(p, "procs", (uint64_t)i);
		vp_bool(p, "throwaway", i);
		vp_null(p, "cpus");
		vp_str(p, "dev", "");
		vp_obj_begin(p, "counters");
		vp_u64(p, "faults", 7);
		vp_obj_end(p);
		vp_arr_begin(p, "allocations");
		vp_obj_begin(p, NULL);
		vp_str(p, "host", "m1");
		vp_size(p, "reserved", 64ULL << 20);
		vp_obj_end(p);
		vp_arr_end(p);
		vp_obj_end(p);
	}
	vp_arr_end(p);
}

static void json_out(void **state)
{
	char *s = capture(true, false, emit_list);
	json_object *o = json_tokener_parse(s), *e, *v;

	(void)state;
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_array));
	assert_int_equal(json_object_array_length(o), 2);
	e = json_object_array_get_idx(o, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "name")),
			    "a \"quoted\"");
	/* sizes are plain byte counts in JSON, the unit in the name */
	assert_true(json_object_get_uint64(json_object_object_get(e, "mem_bytes")) == 1ULL << 30);
	assert_false(json_object_object_get_ex(e, "mem", NULL));
	assert_true(json_object_object_get_ex(e, "cpus", &v) && v == NULL);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "dev")), "");
	assert_false(json_object_get_boolean(json_object_object_get(e, "throwaway")));
	assert_int_equal(json_object_get_int(json_object_object_get(
		json_object_object_get(e, "counters"), "faults")), 7);
	v = json_object_object_get(e, "allocations");
	assert_int_equal(json_object_array_length(v), 1);
	assert_true(json_object_get_uint64(json_object_object_get(
		json_object_array_get_idx(v, 0), "reserved_bytes")) == 64ULL << 20);
	e = json_object_array_get_idx(o, 1);
	assert_true(json_object_get_boolean(json_object_object_get(e, "throwaway")));
	json_object_put(o);
	free(s);
}

static void text_out(void **state)
{
	char *s = capture(false, false, emit_list);

	(void)state;
	assert_string_equal(s,
		"name a \"quoted\" mem 1G procs 0 throwaway no cpus - dev -\n"
		"counters:\n"
		"  faults 7\n"
		"allocations:\n"
		"  host m1 reserved 64M\n"
		"name b mem 2G procs 1 throwaway yes cpus - dev -\n"
		"counters:\n"
		"  faults 7\n"
		"allocations:\n"
		"  host m1 reserved 64M\n");
	free(s);
}

static void emit_rows(struct vn_printer *p)
{
	json_object *rows = json_tokener_parse(
		"[{\"id\":1,\"type\":\"vnode.create\",\"x\":null},"
		"{\"id\":2,\"type\":\"vnode.destroy\",\"x\":1.5}]");

	vp_arr_begin(p, NULL);
	vp_json(p, NULL, json_object_array_get_idx(rows, 0), NULL);
	vp_json(p, NULL, json_object_array_get_idx(rows, 1), NULL);
	vp_arr_end(p);
	json_object_put(rows);
}

static void table_out(void **state)
{
	char *t = capture(false, true, emit_rows);
	char *j = capture(true, true, emit_rows);
	json_object *o = json_tokener_parse(j);

	(void)state;
	assert_string_equal(t, "id\ttype\tx\n1\tvnode.create\t-\n2\tvnode.destroy\t1.500\n");
	assert_non_null(o);
	assert_int_equal(json_object_array_length(o), 2);
	json_object_put(o);
	free(t);
	free(j);
}

/* ---- request protocol -------------------------------------------------- */

struct fx {
	char dir[256];
	char root[300];
	char db[300];
	struct vn_ctx ctx;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_err err;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/state.db", fx->dir);
	write_at(fx->root, "sys/fs/cgroup/cgroup.controllers", "memory\n");
	write_at(fx->root, "sys/kernel/config/vnode/mem/.keep", "");
	write_at(fx->root, "sys/kernel/config/vnode/vnodes/.keep", "");
	write_at(fx->root, "probe/10.0.0.2:7470", "128M 0 20\n");
	if (vn_ctx_init(&fx->ctx, fx->db, fx->root, NULL, &err))
		return -1;
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

static void protocol(void **state)
{
	struct fx *fx = *state;
	json_object *o, *d;

	o = req(fx, "{\"cmd\":\"ping\"}", 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	d = json_object_object_get(o, "data");
	assert_int_equal(json_object_get_int(json_object_object_get(d, "db_version")), VN_DB_VERSION);
	json_object_put(o);

	expect_err(fx, "not json", 0, EINVAL, "malformed request");
	expect_err(fx, "[1,2]", 0, EINVAL, "malformed request");
	expect_err(fx, "{\"args\":{}}", 0, EINVAL, "no 'cmd'");
	expect_err(fx, "{\"cmd\":\"reboot\"}", 0, ENOSYS, "unknown command 'reboot'");
	expect_err(fx, "{\"cmd\":\"vnode.show\",\"args\":{\"name\":\"x\"}}", 0, ENOENT,
		   "unknown vNode 'x'");
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"x\",\"mem\":-5,\"cache\":1}}",
		   0, EINVAL, "invalid 'mem'");
	expect_err(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"x\",\"mem\":\"1G\",\"cache\":1}}",
		   0, EINVAL, "invalid 'mem'");
	expect_err(fx, "{\"cmd\":\"component.add\",\"args\":{\"name\":\"m1\",\"type\":\"memory\","
		   "\"addr\":\"10.0.0.2\"}}", 1000, EPERM, "only root");
	expect_err(fx, "{\"cmd\":\"sql\",\"args\":{\"query\":\"DELETE FROM vnodes\"}}", 0, EPERM,
		   "read-only");

	/* a whole round: add a host, create, list, attach, destroy */
	o = req(fx, "{\"cmd\":\"component.add\",\"args\":{\"name\":\"m1\",\"type\":\"memory\","
		"\"addr\":\"10.0.0.2\"}}", 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
	o = req(fx, "{\"cmd\":\"vnode.create\",\"args\":{\"name\":\"v\",\"mem\":67108864,"
		"\"cache\":33554432}}", 1000);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	d = json_object_object_get(o, "data");
	assert_int_equal(json_object_get_int(json_object_object_get(d, "owner_uid")), 1000);
	assert_int_equal(json_object_get_int64(json_object_object_get(d, "quota")), 32 << 20);
	json_object_put(o);
	/* sql: root and the socket's group only (SO_PEERGROUPS) */
	expect_err(fx, "{\"cmd\":\"sql\",\"args\":{\"query\":\"SELECT 1\"}}", 1000, EPERM,
		   "sql is for root and the group 'vnode' only");
	o = req(fx, "{\"cmd\":\"sql\",\"args\":{\"query\":\"SELECT name, mem FROM vnodes\"}}", 0);
	d = json_object_object_get(o, "data");
	assert_int_equal(json_object_array_length(d), 1);
	assert_int_equal(json_object_get_int64(json_object_object_get(
		json_object_array_get_idx(d, 0), "mem")), 64 << 20);
	json_object_put(o);
	/* attach moves the *caller's* pid (SO_PEERCRED), whatever args say */
	o = req(fx, "{\"cmd\":\"vnode.attach\",\"args\":{\"name\":\"v\",\"pid\":1}}", 1000);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
	{
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		assert_int_equal(count_lines_at(fx->root, "sys/fs/cgroup/vnode/v/cgroup.procs", pid), 1);
		/* and nothing else (not pid 1 from the args) */
		assert_int_equal(count_lines_at(fx->root, "sys/fs/cgroup/vnode/v/cgroup.procs", ""), 1);
	}
	expect_err(fx, "{\"cmd\":\"vnode.destroy\",\"args\":{\"name\":\"v\"}}", 2000, EPERM,
		   "permission denied");
	expect_err(fx, "{\"cmd\":\"vnode.destroy\",\"args\":{\"name\":\"v\"}}", 1000, EBUSY,
		   "still runs 1 process");
	o = req(fx, "{\"cmd\":\"vnode.destroy\",\"args\":{\"name\":\"v\",\"force\":true}}", 1000);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	json_object_put(o);
}

/*
 * Clients check syntax only; the daemon checks meaning, with one wording.
 * What vnodectl's parser lets through, vnoded refuses with the message the
 * lab tests and users see.
 */
static void meaning(void **state)
{
	static const struct {
		const char *cmd;
		int (*parse)(int argc, char **argv, json_object **args,
			     struct vn_err *err);
		char *argv[10];
		const char *msg;
	} t[] = {
#define VC vc_parse_vnode_create
#define VO vc_parse_volume_create
#define CA vc_parse_component_add
		{ "vnode.create", VC, { "create", "x", "--mem", "0", "--cache", "0", NULL },
		  "--mem must be > 0" },
		{ "vnode.create", VC, { "create", "x", "--mem", "64M", "--cache", "0", NULL },
		  "--cache must be > 0" },
		{ "vnode.create", VC, { "create", "x", "--mem", "64M", "--cache", "128M", NULL },
		  "--cache (128M) is larger than --mem (64M)" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--replicas=3", NULL },
		  "--replicas must be 1 or 2" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--replicas=0", NULL },
		  "--replicas must be 1 or 2" },
		{ "vnode.create", VC, { "create", "a/b", "--mem=64M", "--cache=1M", NULL },
		  "invalid vNode name 'a/b'" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--cpus", "0-x", NULL },
		  "invalid cpu list '0-x'" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--storage", "0", NULL },
		  "--storage must be a positive multiple of 4K" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--storage", "1000", NULL },
		  "--storage must be a positive multiple of 4K" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--volume", "a.b", NULL },
		  "invalid volume name 'a.b'" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--storage=16M",
					"--mount", "rel", NULL },
		  "invalid mount point 'rel' (an absolute path other than /)" },
		{ "vnode.create", VC, { "create", "x", "--mem=64M", "--cache=1M", "--keep-storage", NULL },
		  "need --storage SIZE or --volume NAME" },
		{ "volume.create", VO, { "create", "v", "--size", "5000", NULL },
		  "--size must be a positive multiple of 4K" },
		{ "volume.create", VO, { "create", "v.x", "--size", "16M", NULL },
		  "invalid volume name 'v.x'" },
		{ "component.add", CA, { "add", "m2", "--type", "gpu", "--addr", "10.0.0.3", NULL },
		  "--type must be memory or storage, got 'gpu'" },
		{ "component.add", CA, { "add", "m2", "--type=memory", "--addr=m.example", NULL },
		  "invalid address 'm.example'" },
		{ "component.add", CA, { "add", "m2", "--type=memory", "--addr=10.0.0.3", "--port=70000", NULL },
		  "invalid port 70000 (1..65535)" },
		{ "component.add", CA, { "add", "m2", "--type=memory", "--addr=10.0.0.3", "--port=0", NULL },
		  "invalid port 0 (1..65535)" },
		{ "component.add", CA, { "add", "m.2/", "--type=memory", "--addr=10.0.0.3", NULL },
		  "invalid component name" },
#undef VC
#undef VO
#undef CA
	};
	struct fx *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_object *args, *rq = json_object_new_object();
		struct vn_err err;
		int argc = argv_len((char **)t[i].argv);

		if (t[i].parse(argc, (char **)t[i].argv, &args, &err))
			fail_msg("case %zu: the client refused it: %s", i, err.msg);
		json_object_object_add(rq, "cmd", json_object_new_string(t[i].cmd));
		json_object_object_add(rq, "args", args);
		expect_err(fx, json_object_to_json_string_ext(rq, JSON_C_TO_STRING_PLAIN), 0,
			   EINVAL, t[i].msg);
		json_object_put(rq);
	}
	/* nothing was created by any of that */
	{
		json_object *o = req(fx, "{\"cmd\":\"sql\",\"args\":{\"query\":"
				     "\"SELECT (SELECT count(*) FROM vnodes) + "
				     "(SELECT count(*) FROM components) AS n\"}}", 0);
		json_object *d = json_object_object_get(o, "data");

		assert_int_equal(json_object_get_int(json_object_object_get(
			json_object_array_get_idx(d, 0), "n")), 0);
		json_object_put(o);
	}
}

/* events.watch (vnodectl monitor): who may, what a watcher gets, and that
 * a gone or stalled one is dropped without blocking the daemon */
static void watch(void **state)
{
	struct fx *fx = *state;
	struct vn_watchers *w = &fx->ctx.watch;
	struct pollfd p[VN_WATCH_MAX];
	char buf[65536], big[2048];
	json_object *o, *ev;
	int sv[2], i, n, sndbuf = 4096;
	int64_t since;
	ssize_t got;

	expect_err(fx, "{\"cmd\":\"events.watch\"}", 1000, EPERM,
		   "events.watch is for root and the group");
	assert_int_equal(w->pending, -1);
	o = req(fx, "{\"cmd\":\"events.watch\"}", 0);
	assert_true(json_object_get_boolean(json_object_object_get(o, "ok")));
	since = json_object_get_int64(json_object_object_get(
		json_object_object_get(o, "data"), "since"));
	json_object_put(o);
	assert_int_equal(w->pending, since);

	/* the answered connection is kept (a duplicate: the server closes its own) */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	vn_watch_adopt(&fx->ctx, sv[0]);
	close(sv[0]);
	assert_int_equal(w->n, 1);
	assert_int_equal(w->pending, -1);
	vn_watch_adopt(&fx->ctx, sv[0]);	/* nothing pending: nothing kept */
	assert_int_equal(w->n, 1);

	assert_int_equal(vn_event(&fx->ctx, "test.one", "vnode", "x/y", NULL, NULL), 0);
	vn_watch_flush(&fx->ctx);
	got = recv(sv[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(got > 0 && buf[got - 1] == '\n');
	buf[got] = '\0';
	assert_true(strchr(buf, '\n') == buf + got - 1);	/* one line */
	ev = json_tokener_parse(buf);
	assert_int_equal(json_object_get_int64(json_object_object_get(ev, "id")), since + 1);
	assert_string_equal(json_object_get_string(json_object_object_get(ev, "type")), "test.one");
	assert_string_equal(json_object_get_string(json_object_object_get(ev, "name")), "x/y");
	assert_true(json_object_is_type(json_object_object_get(ev, "detail"), json_type_object));
	assert_non_null(strstr(buf, "\"x/y\""));	/* no "x\/y" */
	json_object_put(ev);
	vn_watch_flush(&fx->ctx);		/* nothing new: nothing sent */
	assert_true(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);

	/* a client that hangs up is dropped at the next poll */
	close(sv[1]);
	n = vn_watch_pollfds(w, p);
	assert_int_equal(n, 1);
	assert_int_equal(poll(p, (nfds_t)n, 0), 1);
	vn_watch_events(&fx->ctx, p, n);
	assert_int_equal(w->n, 0);

	/* a client that stops reading is dropped, never waited for */
	o = req(fx, "{\"cmd\":\"events.watch\"}", 0);
	json_object_put(o);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	vn_watch_adopt(&fx->ctx, sv[0]);
	close(sv[0]);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 400 && w->n; i++) {
		assert_int_equal(vn_event(&fx->ctx, "test.big", "vnode", big, NULL, NULL), 0);
		vn_watch_flush(&fx->ctx);
	}
	assert_int_equal(w->n, 0);
	close(sv[1]);

	/* at most VN_WATCH_MAX */
	for (i = 0; i < VN_WATCH_MAX; i++) {
		o = req(fx, "{\"cmd\":\"events.watch\"}", 0);
		json_object_put(o);
		vn_watch_adopt(&fx->ctx, 0);
	}
	assert_int_equal(w->n, VN_WATCH_MAX);
	expect_err(fx, "{\"cmd\":\"events.watch\"}", 0, EBUSY, "too many monitors (16)");
	vn_watch_fini(w);
	assert_int_equal(w->n, 0);
}

#define WATCH_ALL "{\"cmd\":\"events.watch\",\"args\":{\"all_hosts\":true}}"

/* event id of fx's host committed now, whatever ids came before */
static void event_at(struct fx *fx, int64_t id)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "INSERT INTO events (id, ts, type, object, host) "
		 "VALUES (%lld, 0, 'test.late', 'vnode', '%s')", (long long)id, fx->ctx.host);
	assert_int_equal(vsql_exec(fx->ctx.db, sql), 0);
	vn_watch_flush(&fx->ctx);
}

/* the next event on fd is id (and has its host if all) */
static void next_is(struct fx *fx, int fd, int64_t id, bool all)
{
	json_object *ev = unit_watch_next(fd);

	assert_non_null(ev);
	assert_int_equal(vn_jint(ev, "id"), id);
	if (all)
		assert_string_equal(vn_jstr(ev, "host"), fx->ctx.host);
	else
		assert_false(json_object_object_get_ex(ev, "host", NULL));
	json_object_put(ev);
}

/* events.watch of every host's events (monitor --all-hosts) on SQLite: the
 * same events as this host's, with their host; an id that commits after a
 * higher one still comes while it is waited for (VN_WATCH_GAP_MS), not
 * after */
static void watch_all(void **state)
{
	struct fx *fx = *state;
	struct vn_watchers *w = &fx->ctx.watch;
	int64_t since;
	int all, one;

	expect_err(fx, WATCH_ALL, 1000, EPERM, "events.watch is for root and the group");
	expect_err(fx, "{\"cmd\":\"events.watch\",\"args\":{\"all_hosts\":1}}", 0, EINVAL,
		   "'all_hosts' must be true or false");
	all = unit_watch(&fx->ctx, WATCH_ALL, &since);
	one = unit_watch(&fx->ctx, "{\"cmd\":\"events.watch\"}", NULL);
	assert_int_equal(vn_watch_timeout(&fx->ctx, 10000), 10000);	/* no reads of its own */
	assert_int_equal(vn_event(&fx->ctx, "test.one", "vnode", "x", NULL, NULL), 0);
	vn_watch_flush(&fx->ctx);
	next_is(fx, all, since + 1, true);
	next_is(fx, one, since + 1, false);

	event_at(fx, since + 3);
	next_is(fx, all, since + 3, true);
	assert_int_equal(w->ngaps, 1);
	event_at(fx, since + 2);
	next_is(fx, all, since + 2, true);
	vn_watch_flush(&fx->ctx);
	assert_null(unit_watch_next(all));
	assert_int_equal(w->ngaps, 0);
	event_at(fx, since + 5);
	next_is(fx, all, since + 5, true);
	w->gap[0].until_ms = 0;			/* waited for long enough */
	event_at(fx, since + 4);
	assert_null(unit_watch_next(all));
	close(all);
	close(one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_out),
		cmocka_unit_test(text_out),
		cmocka_unit_test(table_out),
		cmocka_unit_test_setup_teardown(protocol, setup, teardown),
		cmocka_unit_test_setup_teardown(meaning, setup, teardown),
		cmocka_unit_test_setup_teardown(watch, setup, teardown),
		cmocka_unit_test_setup_teardown(watch_all, setup, teardown),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
