// SPDX-License-Identifier: GPL-2.0
/* vnodectl argument parsing and vnode-top arithmetic (userspace/vnodectl). */
#include "unit.h"
#include "vnodectl.h"
#include "kern.h"

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
	assert_int_not_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v", "--size", "5Q"), 0);
	assert_non_null(strstr(err.msg, "--size: invalid size '5Q'"));
	assert_int_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v", "--size", "1G",
			       "--storage-protect", "crypt"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "storage_protect")),
			    "crypt");
	json_object_put(a);
	assert_int_not_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v", "--size", "1G",
				   "--storage-protect", "rot13"), 0);
	assert_non_null(strstr(err.msg, "--storage-protect"));
	/* meaning is vnoded's (test_json.c: meaning) */
	assert_int_equal(PARSE(vc_parse_volume_create, &a, &err, "create", "v.x", "--size", "5000"), 0);
	assert_true(ju(a, "size") == 5000);
	json_object_put(a);
}

/*
 * The client checks syntax only (msg: the error); what the values mean is
 * vnoded's to say (key: passed on, test_json.c checks the daemon's answer).
 */
static void create_syntax(void **state)
{
	static const struct { char *argv[12]; const char *msg, *key; } t[] = {
		{ { "create", NULL }, "usage: vnode create NAME", NULL },
		{ { "create", "x", "--cache", "1G", NULL }, "--mem SIZE is required", NULL },
		{ { "create", "x", "--mem", "1G", NULL }, "--cache SIZE|PCT is required", NULL },
		{ { "create", "x", "--mem", NULL }, "--mem needs a value", NULL },
		{ { "create", "x", "--mem", "-1G", "--cache", "1M", NULL }, "--mem: negative size", NULL },
		{ { "create", "x", "--mem", "1Q", "--cache", "1M", NULL }, "--mem: invalid size '1Q'", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "0%", NULL }, "--cache: invalid percentage", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "150%", NULL }, "--cache: invalid percentage", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--replicas", "two", NULL }, "--replicas must be a number, got 'two'", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--replicas", "-1", NULL }, "--replicas must be a number, got '-1'", NULL },
		{ { "create", "x", "y", "--mem", "1G", "--cache", "1M", NULL }, "unexpected argument 'y'", NULL },
		{ { "create", "x", "--memory", "1G", NULL }, "unknown option '--memory'", NULL },
		{ { "create", "-x", NULL }, "unknown option '-x'", NULL },
		{ { "create", "x", "--mem", "1G", "--mem", "2G", "--cache", "1M", NULL }, "--mem given twice", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--keep-storage=1", NULL }, "--keep-storage takes no value", NULL },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "12Q", NULL }, "--storage: invalid size '12Q'", NULL },
		{ { "create", "x", "--mem", "0", "--cache", "1M", NULL }, NULL, "mem" },
		{ { "create", "x", "--mem", "1G", "--cache", "2G", NULL }, NULL, "cache" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--replicas", "3", NULL }, NULL, "replicas" },
		{ { "create", "bad/name", "--mem", "1G", "--cache", "1M", NULL }, NULL, "name" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "0", NULL }, NULL, "storage" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--volume", "a.b", NULL }, NULL, "volume" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--storage", "1G", "--mount", "rel", NULL }, NULL, "mount" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--keep-storage", NULL }, NULL, "keep_storage" },
		{ { "create", "x", "--mem", "1G", "--cache", "1M", "--cpus", "0-x", NULL }, NULL, "cpus" },
	};
	struct vn_err err;
	json_object *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int argc = argv_len((char **)t[i].argv), ret;

		a = NULL;
		err.msg[0] = '\0';
		ret = vc_parse_vnode_create(argc, (char **)t[i].argv, &a, &err);
		if (t[i].key) {
			if (ret)
				fail_msg("case %zu: %s", i, err.msg);
			assert_true(json_object_object_get_ex(a, t[i].key, NULL));
			json_object_put(a);
			continue;
		}
		assert_int_not_equal(ret, 0);
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

	/* type, address and port range are vnoded's; the port's syntax ours */
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "gpu", "--addr", "host.example", "--port", "70000"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "type")), "gpu");
	assert_true(ju(a, "port") == 70000);
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "memory", "--addr", "10.0.0.2", "--port", "http"), -EINVAL);
	assert_non_null(strstr(err.msg, "--port must be a number, got 'http'"));
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1"), -EINVAL);
	assert_non_null(strstr(err.msg, "usage: component add"));
	assert_int_equal(PARSE(vc_parse_component_add, &a, &err, "add", "m1", "--type",
			       "memory", "--addr"), -EINVAL);
	assert_non_null(strstr(err.msg, "--addr needs a value"));
}

/* component set: TIME and RATE to numbers, TIME[:WORD] split; the ranges,
 * the word and the preset are vnoded's (test_fabric_link.c) */
static void component_set_args(void **state)
{
	static const struct { char *argv[10]; const char *msg; } bad[] = {
		{ { "set", "m1", NULL }, "usage: component set NAME" },
		{ { "set", "--delay", "20us", NULL }, "usage: component set NAME" },
		{ { "set", "m1", "--delay", NULL }, "--delay needs a value" },
		{ { "set", "m1", "--delay", "20", NULL }, "--delay: time '20' needs a unit" },
		{ { "set", "m1", "--delay", "-20us", NULL }, "--delay: negative time '-20us'" },
		{ { "set", "m1", "--delay", "20 minutes", NULL }, "--delay: invalid time '20 minutes': unknown unit 'minutes'" },
		{ { "set", "m1", "--per-kib", "fast", NULL }, "--per-kib: invalid time 'fast'" },
		{ { "set", "m1", "--jitter", "2us:", NULL }, "--jitter: invalid '2us:'" },
		{ { "set", "m1", "--jitter", "2:normal", NULL }, "--jitter: time '2' needs a unit" },
		{ { "set", "m1", "--bw", "3GB", NULL }, "--bw: invalid rate '3GB': unknown unit 'GB'" },
		{ { "set", "m1", "--read-bw", "-1MB/s", NULL }, "--read-bw: negative rate" },
		{ { "set", "m1", "--write-bw", "3gb/s", NULL }, "--write-bw: invalid rate '3gb/s'" },
		{ { "set", "m1", "--bw", "1GB/s", "--bw", "2GB/s", NULL }, "--bw given twice" },
		{ { "set", "m1", "--clear=yes", NULL }, "--clear takes no value" },
		{ { "set", "m1", "--latency", "3us", NULL }, "unknown option '--latency'" },
		{ { "set", "m1", "m2", "--bw", "1GB/s", NULL }, "unexpected argument 'm2'" },
	};
	json_object *a;
	struct vn_err err;
	size_t i;

	(void)state;
	assert_int_equal(PARSE(vc_parse_component_set, &a, &err, "set", "m1", "--delay", "20us",
			       "--per-kib=80ns", "--jitter", "1.5us:normal", "--bw", "3GB/s",
			       "--read-bw", "100Gb/s", "--write-bw", "12.5GB/s"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "m1");
	assert_true(ju(a, "delay_ns") == 20000);
	assert_true(ju(a, "per_kib_ns") == 80);
	assert_true(ju(a, "jitter_ns") == 1500);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "jitter_dist")), "normal");
	assert_true(ju(a, "bw_bps") == 3000000000ULL);
	assert_true(ju(a, "read_bps") == 12500000000ULL);
	assert_true(ju(a, "write_bps") == 12500000000ULL);
	assert_false(json_object_object_get_ex(a, "fabric", NULL));
	assert_false(json_object_object_get_ex(a, "clear", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_component_set, &a, &err, "set", "--fabric", "rdma-rack", "m1",
			       "--jitter", "2us"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "fabric")), "rdma-rack");
	assert_false(json_object_object_get_ex(a, "jitter_dist", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_component_set, &a, &err, "set", "s1", "--clear"), 0);
	assert_true(json_object_get_boolean(json_object_object_get(a, "clear")));
	json_object_put(a);
	/* passed on for vnoded to judge: the word, the range, the preset, the mix */
	assert_int_equal(PARSE(vc_parse_component_set, &a, &err, "set", "m1", "--jitter", "2us:gauss",
			       "--delay", "5s", "--fabric", "nvlink", "--clear"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "jitter_dist")), "gauss");
	json_object_put(a);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = NULL;
		err.msg[0] = '\0';
		assert_int_equal(vc_parse_component_set(argv_len((char **)bad[i].argv), (char **)bad[i].argv, &a, &err),
				 -EINVAL);
		assert_null(a);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, bad[i].msg);
	}
	/* vnode create --fabric passes the preset's name on */
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v", "--mem", "1G",
			       "--cache", "25%", "--fabric", "cxl-pool"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "fabric")), "cxl-pool");
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v", "--mem", "1G",
			       "--cache", "25%", "--fabric"), -EINVAL);
	assert_non_null(strstr(err.msg, "--fabric needs a value"));
}

static void drain_args(void **state)
{
	unsigned int t;
	json_object *a;
	struct vn_err err;
	bool wait;

	(void)state;
	assert_int_equal(vc_parse_component_drain(ARGC("drain", "m1"), ARGV("drain", "m1"),
						  &a, &wait, &t, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "m1");
	assert_true(wait);
	assert_int_equal(t, 0);
	json_object_put(a);
	assert_int_equal(vc_parse_component_drain(ARGC("drain", "--no-wait", "--timeout", "90", "m2"),
						  ARGV("drain", "--no-wait", "--timeout", "90", "m2"),
						  &a, &wait, &t, &err), 0);
	assert_false(wait);
	assert_int_equal(t, 90);
	json_object_put(a);
	assert_int_equal(vc_parse_component_drain(ARGC("drain", "m1", "--timeout", "soon"),
						  ARGV("drain", "m1", "--timeout", "soon"),
						  &a, &wait, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--timeout must be a number"));
	assert_null(a);
	assert_int_equal(vc_parse_component_drain(ARGC("drain"), ARGV("drain"),
						  &a, &wait, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "usage: component drain NAME"));
}

static void set_args(void **state)
{
	json_object *a;
	struct vn_err err;

	(void)state;
	assert_int_equal(vc_parse_vnode_set(ARGC("set", "v1", "--headroom", "4M"),
					    ARGV("set", "v1", "--headroom", "4M"), &a, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "v1");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "headroom")), "4M");
	json_object_put(a);
	assert_int_equal(vc_parse_vnode_set(ARGC("set", "v1"), ARGV("set", "v1"), &a, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg,
			       "usage: vnode set NAME [--headroom auto|off|SIZE] [--prefetch on|off]\n"
			       "    [--protect none|crc|aead] (at least one)"));
	assert_null(a);
	/* --prefetch: the word is vnoded's to check (test_vnode.c: prefetch) */
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--prefetch", "on"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "prefetch")), "on");
	assert_false(json_object_object_get_ex(a, "headroom", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--prefetch=maybe",
			       "--headroom", "off"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "prefetch")), "maybe");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "headroom")), "off");
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--prefetch"), -EINVAL);
	assert_non_null(strstr(err.msg, "--prefetch needs a value"));
	assert_null(a);
	/* --protect: one of its words, checked here (and by vnoded) */
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--protect", "crc"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "protect")), "crc");
	assert_false(json_object_object_get_ex(a, "headroom", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--protect=aead",
			       "--prefetch", "on"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "protect")), "aead");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "prefetch")), "on");
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--protect", "none"), 0);
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--protect", "CRC"),
			 -EINVAL);
	assert_string_equal(err.msg, "--protect must be none, crc or aead, got 'CRC'");
	assert_null(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--headroom", "off",
			       "--protect="), -EINVAL);
	assert_string_equal(err.msg, "--protect must be none, crc or aead, got ''");
	assert_null(a);
	assert_int_equal(PARSE(vc_parse_vnode_set, &a, &err, "set", "v1", "--protect"), -EINVAL);
	assert_non_null(strstr(err.msg, "--protect needs a value"));
	assert_null(a);
	assert_int_equal(vc_parse_vnode_set(ARGC("set", "--headroom", "auto"),
					    ARGV("set", "--headroom", "auto"), &a, &err), -EINVAL);
	assert_null(a);
	/* create passes it on for vnoded to check */
	assert_int_equal(vc_parse_vnode_create(ARGC("create", "v1", "--mem", "1G", "--cache", "25%",
						    "--headroom", "auto"),
					       ARGV("create", "v1", "--mem", "1G", "--cache", "25%",
						    "--headroom", "auto"), &a, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "headroom")), "auto");
	assert_false(json_object_object_get_ex(a, "prefetch", NULL));
	json_object_put(a);
	/* create --prefetch: a flag, off unless given */
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%", "--prefetch"), 0);
	assert_true(json_object_get_boolean(json_object_object_get(a, "prefetch")));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%", "--prefetch=on"), -EINVAL);
	assert_non_null(strstr(err.msg, "--prefetch takes no value"));
	assert_null(a);
	/* create --protect: a word, absent unless given (the cluster's) */
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%", "--protect", "crc"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "protect")), "crc");
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%"), 0);
	assert_false(json_object_object_get_ex(a, "protect", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%", "--protect=sha"), -EINVAL);
	assert_string_equal(err.msg, "--protect must be none, crc or aead, got 'sha'");
	assert_null(a);
	assert_int_equal(PARSE(vc_parse_vnode_create, &a, &err, "create", "v1", "--mem", "1G",
			       "--cache", "25%", "--protect"), -EINVAL);
	assert_non_null(strstr(err.msg, "--protect needs a value"));
	assert_null(a);
}

static void delete_args(void **state)
{
	json_object *a;
	struct vn_err err;

	(void)state;
	assert_int_equal(PARSE(vc_parse_vnode_delete, &a, &err, "delete", "-f", "w",
			       "--keep-storage"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "name")), "w");
	assert_true(json_object_get_boolean(json_object_object_get(a, "force")));
	assert_true(json_object_get_boolean(json_object_object_get(a, "keep_storage")));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_delete, &a, &err, "destroy", "w"), 0);
	assert_false(json_object_object_get_ex(a, "force", NULL));
	json_object_put(a);
	assert_int_equal(PARSE(vc_parse_vnode_delete, &a, &err, "delete", "--force"), -EINVAL);
	assert_non_null(strstr(err.msg, "usage: vnode delete NAME"));
	assert_int_equal(PARSE(vc_parse_vnode_delete, &a, &err, "delete", "w", "--kill"), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option '--kill'"));
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
	assert_int_equal(vc_parse_top(3, ARGV("top", "--count=2", "--delay=2"), &n, &d, &err), 0);
	assert_int_equal(n, 2);
	assert_true(d == 2.0);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-n", "0"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-n", "x"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(3, ARGV("top", "-d", "0"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(2, ARGV("top", "-d"), &n, &d, &err), -EINVAL);
	assert_int_equal(vc_parse_top(2, ARGV("top", "extra"), &n, &d, &err), -EINVAL);
}

/* monitor [-n COUNT] [--all-hosts] */
static void monitor_args(void **state)
{
	static const struct {
		const char *argv[5];
		const char *msg;
	} bad[] = {
		{ { "monitor", "--all-hosts", "--all-hosts" }, "--all-hosts given twice" },
		{ { "monitor", "--all-hosts=1" }, "--all-hosts takes no value" },
		{ { "monitor", "--all" }, "unknown option '--all'" },
		{ { "monitor", "-n", "0", "--all-hosts" }, "-n must be a positive count" },
	};
	struct vn_err err;
	bool all = true;
	size_t i;
	int n;

	(void)state;
	assert_int_equal(vc_parse_monitor(1, ARGV("monitor"), &n, &all, &err), 0);
	assert_int_equal(n, 0);
	assert_false(all);
	assert_int_equal(vc_parse_monitor(4, ARGV("monitor", "--all-hosts", "-n", "2"), &n,
					  &all, &err), 0);
	assert_int_equal(n, 2);
	assert_true(all);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0;

		while (bad[i].argv[argc])
			argc++;
		assert_int_equal(vc_parse_monitor(argc, (char **)bad[i].argv, &n, &all, &err),
				 -EINVAL);
		/* the option errors with the usage */
		if (!strstr(err.msg, bad[i].msg) ||
		    (i < 3 && !strstr(err.msg, "(vnodectl monitor [-n COUNT] [--all-hosts])")))
			fail_msg("%zu: '%s', want '%s'", i, err.msg, bad[i].msg);
	}
}

/* ---- dispatch tables ---------------------------------------------------- */

static int calls;
static const char *called_as;

static int fake_cmd(struct vc *vc, int argc, char **argv)
{
	(void)vc;
	(void)argc;
	calls++;
	called_as = argv[0];
	return 42;
}

static const struct vc_cmd fake_sub[] = {
	{ "delete", "destroy", fake_cmd, NULL, "NAME" },
	{ "list", NULL, fake_cmd, NULL, "" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct vc_cmd fake_top[] = {
	{ "thing", "th", NULL, fake_sub, "things" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static void dispatch(void **state)
{
	struct vc vc = { 0 };

	(void)state;
	calls = 0;
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 3, ARGV("th", "destroy", "n")), 42);
	assert_string_equal(called_as, "destroy");
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 3, ARGV("thing", "delete", "n")), 42);
	assert_string_equal(called_as, "delete");
	assert_int_equal(calls, 2);
	/* unknown words, help and a missing command call nothing */
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 2, ARGV("thing", "remove")), VC_USAGE);
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 1, ARGV("nothing")), VC_USAGE);
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 1, ARGV("thing")), VC_USAGE);
	assert_int_equal(vc_dispatch(&vc, "x", fake_top, 2, ARGV("thing", "help")), VC_OK);
	assert_int_equal(vc_dispatch(&vc, "x", fake_sub, 1, ARGV("--help")), VC_OK);
	assert_int_equal(calls, 2);
	assert_null(vc_find(fake_sub, "del"));
	assert_ptr_equal(vc_find(fake_sub, "destroy"), &fake_sub[0]);
}

/* vnodectl's own tables: objects by name and alias, one delete verb for
 * every object that can be removed, the old verbs as aliases */
static void objects(void **state)
{
	static const struct { const char *obj, *verb, *same_as; } t[] = {
		{ "component", "delete", "delete" },
		{ "comp", "remove", "delete" },
		{ "vnode", "destroy", "delete" },
		{ "volume", "delete", "delete" },
		{ "vol", "show", "show" },
		{ "vnode", "top", "top" },
		{ "comp", "set", "set" },
		{ "fabric", "list", "list" },
		{ "cluster", "show", "show" },
	};
	const struct vc_cmd *o, *c;
	struct vc vc = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		o = vc_find(vc_objects, t[i].obj);
		assert_non_null(o);
		assert_non_null(o->sub);
		c = vc_find(o->sub, t[i].verb);
		assert_non_null(c);
		assert_ptr_equal(c, vc_find(o->sub, t[i].same_as));
	}
	assert_ptr_equal(vc_find(vc_objects, "vol"), vc_find(vc_objects, "volume"));
	o = vc_find(vc_objects, "sql");
	assert_non_null(o);
	assert_ptr_equal(o->fn, vc_sql);
	assert_null(vc_find(vc_objects, "frobnicate"));
	/* every entry runs something; every delete verb is one entry */
	for (o = vc_objects; o->name; o++) {
		assert_true(!o->fn != !o->sub);
		for (c = o->sub; c && c->name; c++)
			assert_non_null(c->fn);
	}
	/* usage errors never reach the daemon (no socket here) */
	vc.sock = "/nonexistent/vnoded.sock";
	vp_init(&vc.p, stdout, false);
	assert_int_equal(vc_run(&vc, 1, ARGV("frobnicate")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 2, ARGV("vnode", "frobnicate")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 3, ARGV("vnode", "list", "extra")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 2, ARGV("vnode", "delete")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 3, ARGV("comp", "remove", "--x")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 2, ARGV("vol", "help")), VC_OK);
	assert_int_equal(vc_run(&vc, 3, ARGV("fabric", "list", "x")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 3, ARGV("cluster", "show", "x")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 3, ARGV("comp", "set", "m1")), VC_USAGE);
	assert_int_equal(vc_run(&vc, 5, ARGV("comp", "set", "m1", "--delay", "3")), VC_USAGE);
	/* -h/--help after a command: its usage, no daemon */
	assert_int_equal(vc_run(&vc, 3, ARGV("vnode", "create", "--help")), VC_OK);
	assert_int_equal(vc_run(&vc, 2, ARGV("monitor", "-h")), VC_OK);
	/* a well-formed command does: it fails to connect */
	assert_int_equal(vc_run(&vc, 3, ARGV("vnode", "destroy", "w")), VC_ERR);
}

/* vc_hist_avg_us of two kernel lat_hist strings, through vnoded's parser */
static double avg(const char *prev, const char *cur)
{
	json_object *p = prev ? vn_hist_parse(prev) : NULL;
	json_object *c = cur ? vn_hist_parse(cur) : NULL;
	double r = vc_hist_avg_us(p, c);

	json_object_put(p);
	json_object_put(c);
	return r;
}

static void hist(void **state)
{
	json_object *h;

	(void)state;
	/* vnoded's object: in order, the last bucket named for what it counts */
	h = vn_hist_parse("<=50us:1 <=100us:0 <=1000000us:7\n");
	assert_string_equal(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN),
			    "{\"le_50\":1,\"le_100\":0,\"gt_100\":7}");
	json_object_put(h);
	h = vn_hist_parse("garbage");
	assert_int_equal(json_object_object_length(h), 0);
	json_object_put(h);

	/* 10 new samples in (100,200]us -> 150us */
	assert_true(avg("<=100us:5 <=200us:0 <=400us:1 <=800us:0",
			"<=100us:5 <=200us:10 <=400us:1 <=800us:0") == 150.0);
	/* from zero: 2 in (0,100] (50us) and 2 in (200,400] (300us) */
	assert_true(avg(NULL, "<=100us:2 <=200us:0 <=400us:2 <=800us:0") == 175.0);
	/* nothing new */
	assert_true(avg("<=100us:2 <=200us:0", "<=100us:2 <=200us:0") == 0.0);
	/* open top bucket (> 100us): 1.5x its bound */
	assert_true(avg(NULL, "<=100us:0 <=200us:2") == 150.0);
	assert_true(avg(NULL, "") == 0.0);
	assert_true(avg(NULL, NULL) == 0.0);
}

static void rates(void **state)
{
	const char *p = "{\"ts_ms\":1000,\"vnodes\":[{\"name\":\"a\",\"counters\":"
		"{\"faults\":100,\"bytes_in\":0,\"bytes_out\":0,\"lat_hist_us\":{\"le_100\":0,\"le_200\":0,\"gt_200\":0},"
		"\"prefetch_issued\":1000,\"prefetch_hits\":500,\"prefetch_wasted\":10}}]}";
	const char *c = "{\"ts_ms\":3000,\"vnodes\":[{\"name\":\"a\",\"memory_current\":4096,"
		"\"counters\":{\"faults\":300,\"bytes_in\":4194304,\"bytes_out\":2097152,"
		"\"resident_pages\":7,\"lat_hist_us\":{\"le_100\":0,\"le_200\":200,\"gt_200\":0},"
		"\"prefetch_issued\":1400,\"prefetch_hits\":800,\"prefetch_wasted\":522}},"
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
	/* prefetching in the interval: 300 of 400 pages read ahead hit, 512
	 * pages (2 MiB) wasted in 2 s */
	assert_true(rows[0].pf_hit_rate == 0.75);
	assert_true(rows[0].pf_wasted_mib_s == 1.0);
	/* a vNode that appeared since the last sample counts from zero */
	assert_string_equal(rows[1].name, "new");
	assert_true(rows[1].faults_s == 5.0);
	/* nothing read ahead: no hit rate */
	assert_true(rows[1].pf_hit_rate < 0);
	assert_true(rows[1].pf_wasted_mib_s == 0.0);
	json_object_put(prev);
	json_object_put(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_ok),
		cmocka_unit_test(create_storage),
		cmocka_unit_test(create_syntax),
		cmocka_unit_test(component_args),
		cmocka_unit_test(component_set_args),
		cmocka_unit_test(drain_args),
		cmocka_unit_test(set_args),
		cmocka_unit_test(delete_args),
		cmocka_unit_test(top_args),
		cmocka_unit_test(monitor_args),
		cmocka_unit_test(dispatch),
		cmocka_unit_test(objects),
		cmocka_unit_test(hist),
		cmocka_unit_test(rates),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
