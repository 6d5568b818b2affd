// SPDX-License-Identifier: GPL-2.0
/*
 * Fabric presets (vnoded/fabric.c): the built-in fabrics.conf, good and
 * malformed files with their line numbers, the order files override each
 * other in (built-in, FILE, fabrics.d/), the checks of a link's settings,
 * and the floor rule.
 */
#include "unit.h"
#include "fabric.h"

static int parse_str(const char *text, struct vn_fabric_presets *ps,
		     struct vn_err *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = vn_fabric_presets_parse(f, "fabrics.conf", ps, err);
	fclose(f);
	return ret;
}

static void builtin(void **state)
{
	static const char *const names[] = { "rdma-rack", "cxl-pool", "cross-rack", "legoos" };
	struct vn_fabric_presets *ps = calloc(1, sizeof(*ps));
	const struct vn_fabric_preset *p;
	struct vn_err err;
	size_t i;

	(void)state;
	/* no file, none beside it: the built-in ones alone */
	assert_int_equal(vn_fabric_presets_load("/nonexistent/fabrics.conf", false, ps, &err), 0);
	assert_int_equal(ps->n, 4);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p = vn_fabric_preset_find(ps, names[i]);
		assert_non_null(p);
		assert_true(p->set.target_ns > 0);
		assert_true(p->description[0] && p->source[0]);
		assert_string_equal(p->origin, "built-in");
	}
	p = vn_fabric_preset_find(ps, "rdma-rack");
	assert_true(p->set.target_ns == 3000);
	assert_true(p->set.read_bps == 12500000000ULL && p->set.write_bps == 12500000000ULL);
	assert_non_null(strstr(p->source, "OSDI'16"));
	p = vn_fabric_preset_find(ps, "cxl-pool");
	assert_true(p->set.target_ns == 300);
	assert_non_null(strstr(p->source, "ASPLOS'23"));
	p = vn_fabric_preset_find(ps, "cross-rack");
	assert_true(p->set.jitter_ns == 2000);
	assert_string_equal(p->set.jitter_dist, "normal");
	assert_true(p->set.read_bps == 3125000000ULL);
	p = vn_fabric_preset_find(ps, "legoos");
	assert_true(p->set.read_bps == 5000000000ULL);
	assert_non_null(strstr(p->source, "ConnectX-3"));
	assert_null(vn_fabric_preset_find(ps, "nvlink"));
	/* an explicit file must exist */
	assert_int_equal(vn_fabric_presets_load("/nonexistent/fabrics.conf", true, ps, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/fabrics.conf"));
	assert_int_equal(ps->n, 4);	/* untouched on error */
	free(ps);
}

static void good(void **state)
{
	const char *text =
		"# mine\n"
		"; also a comment\n"
		"[slow-link]\n"
		"description = a test; with # and ; inside\n"
		"latency = 1.5ms\n"
		"per_kib = 100ns\n"
		"jitter = 20us:normal\n"
		"bw = 1Gb/s\n"
		"write_bw = 50MB/s\n"
		"\n"
		"[Plain_1]\n"
		"  latency=40 us\n"
		"read_bw = 2GB/s\n"
		"bw = 1GB/s\n"		/* read_bw still wins, whatever the order */
		"source = none\n";
	struct vn_fabric_presets *ps = calloc(1, sizeof(*ps));
	const struct vn_fabric_preset *p;
	struct vn_err err;

	(void)state;
	assert_int_equal(parse_str(text, ps, &err), 0);
	assert_int_equal(ps->n, 2);
	p = vn_fabric_preset_find(ps, "slow-link");
	assert_string_equal(p->description, "a test; with # and ; inside");
	assert_true(p->set.target_ns == 1500000);
	assert_true(p->set.per_kib_ns == 100);
	assert_true(p->set.jitter_ns == 20000);
	assert_string_equal(p->set.jitter_dist, "normal");
	assert_true(p->set.read_bps == 125000000);
	assert_true(p->set.write_bps == 50000000);
	assert_string_equal(p->origin, "fabrics.conf:3");
	p = vn_fabric_preset_find(ps, "Plain_1");
	assert_true(p->set.target_ns == 40000);
	assert_true(p->set.read_bps == 2000000000ULL);
	assert_true(p->set.write_bps == 1000000000ULL);
	assert_true(p->set.jitter_ns == 0);
	assert_string_equal(p->set.jitter_dist, "uniform");
	assert_string_equal(p->description, "");

	/* a later file replaces a preset of the same name */
	assert_int_equal(parse_str("[slow-link]\nlatency = 2ms\n", ps, &err), 0);
	assert_int_equal(ps->n, 2);
	p = vn_fabric_preset_find(ps, "slow-link");
	assert_true(p->set.target_ns == 2000000);
	assert_true(p->set.read_bps == 0 && p->set.per_kib_ns == 0);
	assert_int_equal(parse_str("", ps, &err), 0);
	assert_int_equal(ps->n, 2);
	free(ps);
}

static void malformed(void **state)
{
	static const struct { const char *text, *msg; } t[] = {
		{ "latency = 3us\n", "fabrics.conf:1: 'latency' outside of any [fabric] section" },
		{ "[a]\nlatency = 3us\n[a]\nlatency = 4us\n", "fabrics.conf:3: duplicate fabric 'a'" },
		{ "[bad/name]\n", "fabrics.conf:1: invalid fabric name 'bad/name'" },
		{ "[]\n", "fabrics.conf:1: invalid fabric name ''" },
		{ "[a\n", "fabrics.conf:1: malformed section header" },
		{ "[a]\nlatency 3us\n", "fabrics.conf:2: expected 'key = value'" },
		{ "[a]\nlatency =\n", "fabrics.conf:2: missing value for 'latency'" },
		{ "[a]\n= 3us\n", "fabrics.conf:2: missing key" },
		{ "[a]\nlatncy = 3us\n", "fabrics.conf:2: unknown key 'latncy' in [a]" },
		{ "[a]\nlatency = 3us\nlatency = 4us\n", "fabrics.conf:3: 'latency' given twice in [a]" },
		{ "[a]\nbw = 1GB/s\n", "fabrics.conf: [a] has no latency" },
		{ "[a]\nlatency = 3us\n[b]\n", "fabrics.conf: [b] has no latency" },
		{ "[a]\nlatency = 3\n", "fabrics.conf:2: [a] time '3' needs a unit" },
		{ "[a]\nlatency = 3 parsecs\n", "fabrics.conf:2: [a] invalid time '3 parsecs': unknown unit 'parsecs'" },
		{ "[a]\nlatency = -3us\n", "fabrics.conf:2: [a] negative time" },
		{ "[a]\nlatency = 0us\n", "fabrics.conf:2: [a] latency must be more than 0" },
		{ "[a]\nlatency = 2s\n", "fabrics.conf:2: [a] latency 2s is more than the kernel's 1s" },
		{ "[a]\nlatency = 1us\nper_kib = 2ms\n", "fabrics.conf:3: [a] per_kib 2ms is more than the kernel's 1ms" },
		{ "[a]\nlatency = 1us\njitter = 2us:gaussian\n",
		  "fabrics.conf:3: [a] jitter: the distribution is uniform or normal, not 'gaussian'" },
		{ "[a]\nlatency = 1us\njitter = 2us:\n", "fabrics.conf:3: [a] invalid '2us:'" },
		{ "[a]\nlatency = 1us\nbw = 500KB/s\n",
		  "fabrics.conf:3: [a] bw 500KB/s is below 1MB/s" },
		{ "[a]\nlatency = 1us\nread_bw = 2TB/s\n",
		  "fabrics.conf:3: [a] read_bw 2TB/s is more than the kernel's 1TB/s" },
		{ "[a]\nlatency = 1us\nwrite_bw = 3GB\n", "fabrics.conf:3: [a] invalid rate '3GB': unknown unit 'GB'" },
		{ "[a]\nlatency = 1us\n\n\n[b]\nlatency = 1us\nfrobnicate = yes\n",
		  "fabrics.conf:7: unknown key 'frobnicate' in [b]" },
	};
	struct vn_fabric_presets *ps = calloc(1, sizeof(*ps));
	struct vn_err err;
	char big[1400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(ps, 0, sizeof(*ps));
		err.msg[0] = '\0';
		assert_int_equal(parse_str(t[i].text, ps, &err), -EINVAL);
		if (!strstr(err.msg, t[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, t[i].msg);
	}
	/* a line longer than the reader's buffer; free text longer than its field */
	snprintf(big, sizeof(big), "[a]\nlatency = 1us\ndescription = %01100d\n", 0);
	assert_int_equal(parse_str(big, ps, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fabrics.conf:3: line too long"));
	snprintf(big, sizeof(big), "[a]\nlatency = 1us\ndescription = %0300d\n", 0);
	assert_int_equal(parse_str(big, ps, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fabrics.conf:3: [a] description is longer than 255"));
	free(ps);
}

/* FILE then fabrics.d/ *.conf beside it, by name; a bad one fails the
 * whole load, naming itself */
static void load_order(void **state)
{
	struct vn_fabric_presets *ps = calloc(1, sizeof(*ps));
	const struct vn_fabric_preset *p;
	char dir[256], file[320];
	struct vn_err err;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/fabrics.conf", dir);
	write_at(dir, "fabrics.conf", "[rdma-rack]\nlatency = 2us\n[mine]\nlatency = 7us\n");
	write_at(dir, "fabrics.d/20-b.conf", "[mine]\nlatency = 9us\n");
	write_at(dir, "fabrics.d/10-a.conf", "[mine]\nlatency = 8us\n[extra]\nlatency = 1ms\n");
	write_at(dir, "fabrics.d/README", "not a preset file\n");
	assert_int_equal(vn_fabric_presets_load(file, true, ps, &err), 0);
	assert_int_equal(ps->n, 6);
	p = vn_fabric_preset_find(ps, "rdma-rack");
	assert_true(p->set.target_ns == 2000);
	assert_non_null(strstr(p->origin, "/fabrics.conf:1"));
	assert_true(vn_fabric_preset_find(ps, "mine")->set.target_ns == 9000);
	assert_non_null(strstr(vn_fabric_preset_find(ps, "mine")->origin, "20-b.conf:1"));
	assert_true(vn_fabric_preset_find(ps, "extra")->set.target_ns == 1000000);
	assert_non_null(vn_fabric_preset_find(ps, "legoos"));
	/* JSON for fabric.list */
	{
		json_object *a = vn_fabric_presets_json(ps), *o = json_object_array_get_idx(a, 0);

		assert_int_equal(json_object_array_length(a), 6);
		assert_string_equal(json_object_get_string(json_object_object_get(o, "name")),
				    "rdma-rack");
		assert_int_equal(json_object_get_int64(json_object_object_get(o, "latency_ns")), 2000);
		json_object_put(a);
	}
	write_at(dir, "fabrics.d/30-c.conf", "[broken]\n");
	assert_int_equal(vn_fabric_presets_load(file, true, ps, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "30-c.conf: [broken] has no latency"));
	rm_rf(dir);
	free(ps);
}

static void checks(void **state)
{
	struct vn_fabric_set a = { .preset = "rdma-rack", .target_ns = 3000,
				   .jitter_dist = "uniform", .read_bps = 12500000000ULL,
				   .write_bps = 12500000000ULL };
	struct vn_fabric_set b = a;
	struct vn_err err;
	char d[256];

	(void)state;
	assert_int_equal(vn_fabric_check_time(1000000000, VN_FABRIC_MAX_NS, "--delay", &err), 0);
	assert_int_equal(vn_fabric_check_time(1000000001, VN_FABRIC_MAX_NS, "--delay", &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "--delay 1s is more than the kernel's 1s"));
	assert_int_equal(vn_fabric_check_rate(0, "--bw", &err), 0);
	assert_int_equal(vn_fabric_check_rate(1000000, "--bw", &err), 0);
	assert_int_equal(vn_fabric_check_rate(999999, "--bw", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--bw 999.999KB/s is below 1MB/s"));
	assert_int_equal(vn_fabric_check_dist("normal", "--jitter", &err), 0);
	assert_int_equal(vn_fabric_check_dist("", "--jitter", &err), -EINVAL);

	assert_true(vn_fabric_set_equal(&a, &b));
	b.write_bps = 1000000000;
	assert_false(vn_fabric_set_equal(&a, &b));
	b = a;
	strcpy(b.jitter_dist, "normal");	/* no jitter: its distribution does not matter */
	assert_true(vn_fabric_set_equal(&a, &b));
	vn_fabric_set_describe(&a, d, sizeof(d));
	assert_string_equal(d, "fabric 'rdma-rack' (latency 3us, bw 12.5GB/s)");
	b = (struct vn_fabric_set){ .delay_ns = 20000, .jitter_ns = 5000, .jitter_dist = "normal",
				    .write_bps = 3000000000ULL, .per_kib_ns = 80 };
	vn_fabric_set_describe(&b, d, sizeof(d));
	assert_string_equal(d, "(delay 20us, per KiB 80ns, jitter 5us:normal, write bw 3GB/s)");
}

/* target - floor, split between the per-KiB term and the delay; nothing
 * below the floor or without one; raw settings as given */
static void floor_rule(void **state)
{
	struct vn_fabric_set p = { .preset = "x", .target_ns = 10000, .per_kib_ns = 500,
				   .jitter_ns = 2400, .jitter_dist = "normal",
				   .read_bps = 12500000000ULL, .write_bps = 1500000 };
	struct vn_fabric_set r = { .delay_ns = 20400, .per_kib_ns = 80, .jitter_dist = "" };
	struct vn_fabric_plan pl;

	(void)state;
	/* 10 us target, 4 us floor: 6 us more for 4 KiB = 4 x 500 ns + 4 us */
	vn_fabric_plan(&p, 4000, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_REACHED);
	assert_int_equal(pl.per_kib_ns, 500);
	assert_int_equal(pl.delay_us, 4);
	assert_int_equal(pl.jitter_us, 2);
	assert_string_equal(pl.jitter, "normal");
	assert_int_equal(pl.read_mbps, 12500);
	assert_int_equal(pl.write_mbps, 2);	/* 1.5 MB/s: whole MB/s, rounded */
	/* little room: the per-KiB term takes all of it */
	vn_fabric_plan(&p, 9000, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_REACHED);
	assert_int_equal(pl.per_kib_ns, 250);
	assert_int_equal(pl.delay_us, 0);
	/* exactly the floor: reached, nothing to add */
	vn_fabric_plan(&p, 10000, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_REACHED);
	assert_int_equal(pl.delay_us + pl.per_kib_ns, 0);
	/* the lab: 412 us of wire for a 10 us fabric */
	vn_fabric_plan(&p, 412000, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_BELOW);
	assert_int_equal(pl.delay_us, 0);
	assert_int_equal(pl.per_kib_ns, 0);
	assert_int_equal(pl.jitter_us, 2);	/* still */
	assert_int_equal(pl.read_mbps, 12500);
	vn_fabric_plan(&p, 0, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_NO_FLOOR);
	assert_int_equal(pl.delay_us + pl.per_kib_ns, 0);
	assert_int_equal(pl.write_mbps, 2);
	/* raw: on top of the wire, whatever it is */
	vn_fabric_plan(&r, 412000, &pl);
	assert_int_equal(pl.reach, VN_FABRIC_RAW);
	assert_int_equal(pl.delay_us, 20);
	assert_int_equal(pl.per_kib_ns, 80);
	assert_string_equal(pl.jitter, "uniform");
	assert_int_equal(pl.read_mbps, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin),
		cmocka_unit_test(good),
		cmocka_unit_test(malformed),
		cmocka_unit_test(load_order),
		cmocka_unit_test(checks),
		cmocka_unit_test(floor_rule),
	};

	return cmocka_run_group_tests_name("fabric", tests, NULL, NULL);
}
