// SPDX-License-Identifier: GPL-2.0
/* vnodectl argument parsing and vnode-top arithmetic (userspace/vnodectl). */
#include "unit.h"
#include "vnodectl.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(fn, out, err, ...) fn(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), out, err)

static uint64_t ju(json_object *o, const char *k)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_uint64(v);
}

static void create_ok(void **state)
{
	json_object *a;
	struct vn_err err;

	(void)state;
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "web",
			       "--mem", "1G", "--cache", "25%"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "web");
	assert_true(ju(a, "mem") == 1ULL << 30);
	assert_true(ju(a, "cache") == 256ULL << 20);
	assert_false(json_object_object_get_ex(a, "replicas", NULL));
	json_object_put(a);

	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "--mem=512M",
			       "--cache=128M", "db", "--replicas", "2", "--cpus", "0-1",
			       "--owner", "alice"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "db");
	assert_true(ju(a, "cache") == 128ULL << 20);
	assert_true(ju(a, "replicas") == 2);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "cpus")), "0-1");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "owner")), "alice");
	json_object_put(a);
}

static void create_storage(void **state)
{
	json_object *a;
	struct vn_err err;

	(void)state;
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "web", "--mem", "1G",
			       "--cache", "25%", "--storage", "4G", "--stor-host", "s1",
			       "--mount=/data", "--keep-storage"), 0);
	assert_true(ju(a, "storage") == 4ULL << 30);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "stor_host")), "s1");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "mount")), "/data");
	assert_true(json_object_get_boolean(json_object_object_get(a, "keep_storage")));
	assert_false(json_object_object_get_ex(a, "volume", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "web", "--mem", "1G",
			       "--cache", "25%", "--volume", "old"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "volume")), "old");
	assert_false(json_object_object_get_ex(a, "storage", NULL));
	json_object_put(a);

	assert_int_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v", "--size", "1G",
			       "--owner", "bob"), 0);
	assert_true(ju(a, "size") == 1ULL << 30);
	json_object_put(a);
	assert_int_not_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v"), 0);
	assert_non_null(strstr(err.msg, "usage: volume create NAME --size SIZE"));
	assert_int_not_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v.x", "--size", "1G"), 0);
	assert_non_null(strstr(err.msg, "invalid volume name"));
	assert_int_not_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v", "--size", "5000"), 0);
	assert_non_null(strstr(err.msg, "multiple of 4K"));
}

static void create_bad(void **state)
{
	static const struct { char *argv[12]; const char *msg; } t[] = {
		{ { "create", NULL }, "usage: vnode create NAME" },
		{ { "create", "x", "--cache", "1G", NULL }, "--mem SIZE is required" },
		{ { "create", "x", "--mem", "1G", NULL }, "--cache SIZE|PCT is required" },
		{ { "create", "x", "--mem", NULL }, "--mem needs a value" },
		{ { "create", "x", "--mem", "0", "--cache", "1M", NULL }, "--mem must be > 0" },
		{ { "create", "x", "--mem", "-1G", "--cache", "1M", NULL }, "--mem: negative size" },
		{ { "create", "x", "--mem", "1Q", "--cache", "1M", NULL }, "--mem: invalid size '1Q'" },
		{ { "create", "x", "--mem", "1G", "--cache", "0", NULL }, "--cache must be > 0" },
		{ { "create", "x", "--mem", "1G", "--cache", "0%", NULL }, "--cache: invalid percentage" },
		{ { "create", "x", "--mem", "1G", "--cache", "150%", NULL }, "--cache: invalid percentage" },
		{ { "create", "x", "--mem", "1G", "--cache", "2G", NULL }, "--cache (2G) is larger than --mem (1G)" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--replicas", "3", NULL }, "--replicas must be 1 or 2" },
		{ { "create", "x", "y", "--mem", "1G", "--cache", "1M", NULL }, "unexpected argument 'y'" },
		{ { "create", "x", "--memory", "1G", NULL }, "unknown option '--memory'" },
		{ { "create", "bad/name", "--mem", "1G", "--cache", "1M", NULL }, "invalid vNode name" },
		{ { "create", "-x", NULL }, "unknown option '-x'" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "0", NULL }, "--storage must be > 0" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "12Q", NULL }, "--storage: invalid size '12Q'" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "1000", NULL }, "--storage must be a multiple of 4K" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--volume", "a.b", NULL }, "invalid volume name 'a.b'" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "1G", "--mount", "rel", NULL }, "--mount needs an absolute path" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--keep-storage", NULL }, "need --storage SIZE or --volume NAME" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--stor-host", "s1", NULL }, "need --storage SIZE or --volume NAME" },
	};
	struct vn_err err;
	json_object *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int argc = 0;

		while (t[i].argv[argc])
			argc++;
		a = NULL;
		err.msg[0] = '\0';
		assert_int_not_equal(vc_parse_vnode_create(argc, (char **)t[i].argv, &a, &err), 0);
		assert_null(a);
		if (!strstr(err.msg, t[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, t[i].msg);
	}
}

static void component_args(void **state)
{
	json_object *a;
	struct vn_err err;

	(void)state;
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "memory", "--addr", "10.0.0.2"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "type")), "memory");
	assert_false(json_object_object_get_ex(a, "port", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "s1", "--type=storage",
			       "--addr=fd00::1", "--port=9999", "--no-probe"), 0);
	assert_true(ju(a, "port") == 9999);
	assert_true(json_object_get_boolean(json_object_object_get(a, "no_probe")));
	json_object_put(a);

	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "gpu", "--addr", "10.0.0.2"), -EINVAL);
	assert_non_null(strstr(err.msg, "--type must be memory or storage"));
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "memory", "--addr", "host.example"), -EINVAL);
	assert_non_null(strstr(err.msg, "--addr must be an IP"));
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "memory", "--addr", "10.0.0.2", "--port", "70000"), -EINVAL);
	assert_non_null(strstr(err.msg, "--port must be 1..65535"));
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1"), -EINVAL);
	assert_non_null(strstr(err.msg, "usage: component add"));
}

static void top_args(void **state)
{
	struct vn_err err;
	double d;
	int n;

	(void)state;
	assert_int_equal(vc_parse_top(1, ARGV("top"), &n, &d, &err), 0);
	assert_int_equal(n, 0);
	assert_true(d == 1.0);
	assert_int_equal(vc_parse_top(5, ARGV("top", "-n", "3", "-d", "0.5"), &n, &d, &err), 0);
	assert_int_equal(n, 3);
	assert_true(d == 0.5);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-n", "0"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-n", "x"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-d", "0"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(2, ARGV("top", "-d"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(2, ARGV("top", "extra"), &n, &d, &err), -EINVAL);
}

static void hist(void **state)
{
	(void)state;
	/* 10 new samples in (100,200]us -> 150us */
	assert_true(vc_hist_avg_us("<=100us:5 <=200us:0 <=400us:1",
				   "<=100us:5 <=200us:10 <=400us:1") == 150.0);
	/* from zero: 2 in (0,100] (50us) and 2 in (200,400] (300us) */
	assert_true(vc_hist_avg_us(NULL, "<=100us:2 <=200us:0 <=400us:2") == 175.0);
	/* nothing new */
	assert_true(vc_hist_avg_us("<=100us:2", "<=100us:2") == 0.0);
	/* open top bucket */
	assert_true(vc_hist_avg_us(NULL, "<=100us:0 >100us:2") == 150.0);
	assert_true(vc_hist_avg_us(NULL, "") == 0.0);
	assert_true(vc_hist_avg_us(NULL, NULL) == 0.0);
}

static void rates(void **state)
{
	const char *p = "{\"ts_ms\":1000,\"vnodes\":[{\"name\":\"a\",\"counters\":"
		"{\"faults\":100,\"bytes_in\":0,\"bytes_out\":0,\"lat_hist\":\"<=100us:0 <=200us:0\"}}]}";
	const char *c = "{\"ts_ms\":3000,\"vnodes\":[{\"name\":\"a\",\"memory_current\":4096,"
		"\"counters\":{\"faults\":300,\"bytes_in\":4194304,\"bytes_out\":2097152,"
		"\"resident_pages\":7,\"lat_hist\":\"<=100us:0 <=200us:200\"}},"
		"{\"name\":\"new\",\"counters\":{\"faults\":10}}]}";
	json_object *prev = json_tokener_parse(p), *cur = json_tokener_parse(c);
	struct vc_top_row rows[4];

	(void)state;
	assert_int_equal(vc_top_rates(prev, cur, 2.0, rows, 4), 2);
	assert_string_equal(rows[0].name, "a");
	assert_true(rows[0].faults_s == 100.0);
	assert_true(rows[0].in_mib_s == 2.0);
	assert_true(rows[0].out_mib_s == 1.0);
	assert_true(rows[0].avg_lat_us == 150.0);
	assert_true(rows[0].resident_pages == 7);
	assert_true(rows[0].memory_current == 4096);
	/* a vNode that appeared since the last sample counts from zero */
	assert_string_equal(rows[1].name, "new");
	assert_true(rows[1].faults_s == 5.0);
	json_object_put(prev);
	json_object_put(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_ok),
		cmocka_unit_test(create_storage),
		cmocka_unit_test(create_bad),
		cmocka_unit_test(component_args),
		cmocka_unit_test(top_args),
		cmocka_unit_test(hist),
		cmocka_unit_test(rates),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
