// SPDX-License-Identifier: GPL-2.0
/* The one option parser of vnodectl and vnode-run (userspace/lib/opts.c). */
#include "unit.h"
#include "opts.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

struct inner {
	const char *size;
};

struct o {
	const char *name, *sock;
	bool force, quiet;
	struct inner in;
};

static const struct vn_opt inner_tbl[] = {
	VN_OPT_S("--size", NULL, struct inner, size),
	VN_OPT_END_
};

static const struct vn_opt tbl[] = {
	VN_OPT_S("--name", NULL, struct o, name),
	VN_OPT_S("--socket", "-s", struct o, sock),
	VN_OPT_F("--force", "-f", struct o, force),
	VN_OPT_F("--quiet", NULL, struct o, quiet),
	VN_OPT_T(inner_tbl, struct o, in),
	VN_OPT_END_
};

/* parse argv (no program name) with up to 2 positionals */
#define P(flags, o, pos, npos, err, ...) \
	vn_opts_parse(tbl, flags, o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), pos, 2, npos, err)

static void forms(void **state)
{
	const char *pos[2];
	struct vn_err err;
	struct o o = { 0 };
	int n;

	(void)state;
	/* --opt val, --opt=val, alias, flag, included table, positionals anywhere */
	assert_int_equal(P(0, &o, pos, &n, &err, "a", "--name", "x", "-s", "/s",
			   "--size=4K", "-f", "b"), 8);
	assert_string_equal(o.name, "x");
	assert_string_equal(o.sock, "/s");
	assert_string_equal(o.in.size, "4K");
	assert_true(o.force);
	assert_false(o.quiet);
	assert_int_equal(n, 2);
	assert_string_equal(pos[0], "a");
	assert_string_equal(pos[1], "b");

	/* a value may start with '-' and may be empty; "=" only splits once */
	memset(&o, 0, sizeof(o));
	assert_int_equal(P(0, &o, pos, &n, &err, "--name", "-1G", "--socket=a=b",
			   "--size="), 4);
	assert_string_equal(o.name, "-1G");
	assert_string_equal(o.sock, "a=b");
	assert_string_equal(o.in.size, "");
	assert_int_equal(n, 0);

	/* a flag may be repeated; "-" alone is an argument */
	memset(&o, 0, sizeof(o));
	assert_int_equal(P(0, &o, pos, &n, &err, "-f", "--force", "-"), 3);
	assert_true(o.force);
	assert_int_equal(n, 1);
	assert_string_equal(pos[0], "-");

	/* "--": the rest is positional */
	memset(&o, 0, sizeof(o));
	assert_int_equal(P(0, &o, pos, &n, &err, "--", "--force"), 2);
	assert_false(o.force);
	assert_int_equal(n, 1);
	assert_string_equal(pos[0], "--force");

	/* nothing at all */
	assert_int_equal(vn_opts_parse(tbl, 0, &o, 0, ARGV(NULL), NULL, 0, NULL, &err), 0);
}

static void stops(void **state)
{
	struct vn_err err;
	struct o o = { 0 };
	char **argv;

	(void)state;
	/* POSIX: the first non-option ends parsing (vnodectl's globals) */
	argv = ARGV("-f", "vnode", "list", "--quiet");
	assert_int_equal(vn_opts_parse(tbl, VN_OPTS_POSIX, &o, 4, argv, NULL, 0, NULL,
				       &err), 1);
	assert_true(o.force);
	assert_false(o.quiet);
	memset(&o, 0, sizeof(o));
	argv = ARGV("-s", "x", "--", "vnode");
	assert_int_equal(vn_opts_parse(tbl, VN_OPTS_POSIX, &o, 4, argv, NULL, 0, NULL,
				       &err), 3);
	/* POSIX as vnode-run parses: a "--" first is skipped, a later one is
	 * the command's */
	memset(&o, 0, sizeof(o));
	argv = ARGV("--quiet", "w", "--", "ls");
	assert_int_equal(vn_opts_parse(tbl, VN_OPTS_POSIX, &o, 4, argv, NULL, 0, NULL,
				       &err), 1);
	assert_true(o.quiet);
	memset(&o, 0, sizeof(o));
	argv = ARGV("--size=1", "--", "-l");
	assert_int_equal(vn_opts_parse(tbl, VN_OPTS_POSIX, &o, 3, argv, NULL, 0, NULL,
				       &err), 2);
	assert_string_equal(o.in.size, "1");
}

static void bad(void **state)
{
	static const struct { char *argv[6]; const char *msg; } t[] = {
		{ { "--nope", NULL }, "unknown option '--nope'" },
		{ { "--names", "x", NULL }, "unknown option '--names'" },
		{ { "-x", NULL }, "unknown option '-x'" },
		{ { "-f=1", NULL }, "unknown option '-f=1'" },	/* '=' only for long names */
		{ { "--name", NULL }, "--name needs a value" },
		{ { "a", "-s", NULL }, "-s needs a value" },
		{ { "--size", NULL }, "--size needs a value" },
		{ { "--force=yes", NULL }, "--force takes no value" },
		{ { "--quiet=", NULL }, "--quiet takes no value" },
		{ { "--name", "a", "--name", "b", NULL }, "--name given twice" },
		{ { "--name=a", "--name", "a", NULL }, "--name given twice" },
		{ { "-s", "a", "--socket=b", NULL }, "--socket given twice" },
		{ { "--size=1", "--size=1", NULL }, "--size given twice" },
		{ { "a", "b", "c", NULL }, "unexpected argument 'c'" },
		{ { "--", "a", "b", "c", NULL }, "unexpected argument 'c'" },
	};
	const char *pos[2];
	struct vn_err err;
	struct o o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int argc = argv_len((char **)t[i].argv), n;

		memset(&o, 0, sizeof(o));
		err.msg[0] = '\0';
		assert_int_equal(vn_opts_parse(tbl, 0, &o, argc, (char **)t[i].argv, pos, 2,
					       &n, &err), -EINVAL);
		if (strcmp(err.msg, t[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, t[i].msg);
	}
}

static void uint_syntax(void **state)
{
	struct vn_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(vn_opt_uint("--port", "7470", 65535, &v, &err), 0);
	assert_true(v == 7470);
	assert_int_equal(vn_opt_uint("--port", "0", 65535, &v, &err), 0);
	assert_true(v == 0);
	assert_int_equal(vn_opt_uint("--port", "", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", "-1", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", "+1", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", " 1", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", "1x", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", "65536", 65535, &v, &err), -EINVAL);
	assert_int_equal(vn_opt_uint("--port", "99999999999999999999999", UINT64_MAX, &v,
				     &err), -EINVAL);
	assert_string_equal(err.msg, "--port must be a number, got '99999999999999999999999'");
}

/* vnode-run and vnodectl vnode create share these */
static void create_args(void **state)
{
	struct vn_create_opts c = { 0 };
	json_object *a = json_object_new_object(), *v;
	struct vn_err err;
	char **argv = ARGV("--mem=1G", "--cache", "50%", "--cpus", "0-1,3", "--replicas=2",
			   "--storage", "64M", "--stor-host", "s1", "--mount=/data");

	(void)state;
	assert_int_equal(vn_opts_parse(vn_create_opt_table, 0, &c, 11, argv, NULL, 0,
				       NULL, &err), 11);
	assert_int_equal(vn_create_args(&c, a, &err), 0);
	assert_true(json_object_get_uint64(json_object_object_get(a, "mem")) == 1ULL << 30);
	assert_true(json_object_get_uint64(json_object_object_get(a, "cache")) == 512ULL << 20);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "cpus")), "0-1,3");
	assert_int_equal(json_object_get_int(json_object_object_get(a, "replicas")), 2);
	assert_true(json_object_get_uint64(json_object_object_get(a, "storage")) == 64ULL << 20);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "stor_host")), "s1");
	assert_string_equal(json_object_get_string(json_object_object_get(a, "mount")), "/data");
	assert_false(json_object_object_get_ex(a, "volume", &v));
	json_object_put(a);

	/* no --cpus, no key: the vNode gets every CPU */
	memset(&c, 0, sizeof(c));
	c.mem = "64M";
	c.cache = "64M";
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), 0);
	assert_false(json_object_object_get_ex(a, "cpus", &v));
	assert_false(json_object_object_get_ex(a, "replicas", &v));
	json_object_put(a);

	c.cache = NULL;
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), -EINVAL);
	assert_string_equal(err.msg, "--cache SIZE|PCT is required");
	json_object_put(a);

	/* --protect: its words passed on, anything else refused here */
	c.cache = "64M";
	c.protect = "aead";
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "protect")), "aead");
	json_object_put(a);
	c.protect = "crc32";
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), -EINVAL);
	assert_string_equal(err.msg, "--protect must be none, crc or aead, got 'crc32'");
	json_object_put(a);
}

/* the protection profile's words, one wording for every caller */
static void protect_words(void **state)
{
	static const char *const words[] = { "none", "crc", "aead" };
	enum vn_protect p;
	struct vn_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		assert_int_equal(vn_protect_parse("--protect", words[i], &p, &err), 0);
		assert_int_equal(p, (enum vn_protect)i);
		assert_string_equal(vn_protect_name(p), words[i]);
	}
	assert_int_equal(VN_PROTECT_NONE, 0);
	assert_int_equal(vn_protect_parse("protect", "None", &p, &err), -EINVAL);
	assert_string_equal(err.msg, "protect must be none, crc or aead, got 'None'");
	assert_int_equal(vn_protect_parse("protect", "crc ", &p, &err), -EINVAL);
	assert_int_equal(vn_protect_parse("protect", "", &p, NULL), -EINVAL);
	assert_string_equal(vn_protect_name((enum vn_protect)7), "none");
}

/* the volume profile's words, and --storage-protect into the arguments */
static void vol_protect_words(void **state)
{
	static const char *const words[] = { "none", "integrity", "crypt" };
	struct vn_create_opts c = { .mem = "64M", .cache = "64M", .storage = "1G" };
	enum vn_vol_protect p;
	struct vn_err err;
	json_object *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		assert_int_equal(vn_vol_protect_parse("--storage-protect", words[i], &p, &err), 0);
		assert_int_equal(p, (enum vn_vol_protect)i);
		assert_string_equal(vn_vol_protect_name(p), words[i]);
	}
	assert_int_equal(vn_vol_protect_parse("--storage-protect", "luks", &p, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "--storage-protect must be none, integrity or crypt, got 'luks'");
	assert_string_equal(vn_vol_protect_name((enum vn_vol_protect)9), "none");

	c.storage_protect = "crypt";
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(a, "storage_protect")),
			    "crypt");
	json_object_put(a);
	c.storage_protect = "aead";
	a = json_object_new_object();
	assert_int_equal(vn_create_args(&c, a, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "--storage-protect must be none, integrity or crypt, got 'aead'");
	json_object_put(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms),
		cmocka_unit_test(stops),
		cmocka_unit_test(bad),
		cmocka_unit_test(uint_syntax),
		cmocka_unit_test(create_args),
		cmocka_unit_test(protect_words),
		cmocka_unit_test(vol_protect_words),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
