// SPDX-License-Identifier: GPL-2.0
/* Size and percentage parsing/formatting (lib/size.c). */
#include "unit.h"
#include "size.h"

static void parse_ok(void **state)
{
	static const struct { const char *in; uint64_t out; } t[] = {
		{ "0", 0 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 },
		{ "64M", 64ULL << 20 }, { "512m", 512ULL << 20 },
		{ "2G", 2ULL << 30 }, { "1T", 1ULL << 40 }, { "3MB", 3ULL << 20 },
		{ "3MiB", 3ULL << 20 }, { "7B", 7 }, { "16777215T", 16777215ULL << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};
	struct vn_err err;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		assert_int_equal(vn_parse_size(t[i].in, &v, &err), 0);
		assert_true(v == t[i].out);
	}
}

static void parse_bad(void **state)
{
	static const struct { const char *in; int err; const char *msg; } t[] = {
		{ "", -EINVAL, "empty" },
		{ "-1G", -EINVAL, "negative" },
		{ "-0", -EINVAL, "negative" },
		{ "G", -EINVAL, "invalid size 'G'" },
		{ "12Q", -EINVAL, "invalid size '12Q'" },
		{ "1.5G", -EINVAL, "invalid size" },
		{ "1GG", -EINVAL, "invalid size" },
		{ "1 G", -EINVAL, "invalid size" },
		{ "0x10", -EINVAL, "invalid size" },
		{ "18446744073709551616", -ERANGE, "too large" },
		{ "16777216T", -ERANGE, "too large" },
		{ "99999999999T", -ERANGE, "too large" },
	};
	struct vn_err err;
	uint64_t v = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(vn_parse_size(t[i].in, &v, &err), t[i].err);
		assert_non_null(strstr(err.msg, t[i].msg));
		assert_true(v == 42);	/* untouched on error */
	}
	assert_int_equal(vn_parse_size(NULL, &v, &err), -EINVAL);
}

static void pct(void **state)
{
	struct vn_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(vn_parse_size_or_pct("25%", 1ULL << 30, &v, &err), 0);
	assert_true(v == 256ULL << 20);
	assert_int_equal(vn_parse_size_or_pct("100%", 1000, &v, &err), 0);
	assert_true(v == 1000);
	assert_int_equal(vn_parse_size_or_pct("1%", 1000, &v, &err), 0);
	assert_true(v == 10);
	/* no overflow for huge bases */
	assert_int_equal(vn_parse_size_or_pct("50%", UINT64_MAX, &v, &err), 0);
	assert_true(v == UINT64_MAX / 2);
	/* sizes still work */
	assert_int_equal(vn_parse_size_or_pct("128M", 1ULL << 30, &v, &err), 0);
	assert_true(v == 128ULL << 20);

	assert_int_equal(vn_parse_size_or_pct("0%", 1000, &v, &err), -EINVAL);
	assert_int_equal(vn_parse_size_or_pct("101%", 1000, &v, &err), -EINVAL);
	assert_int_equal(vn_parse_size_or_pct("-5%", 1000, &v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "negative"));
	assert_int_equal(vn_parse_size_or_pct("abc%", 1000, &v, &err), -EINVAL);
	assert_int_equal(vn_parse_size_or_pct("5.5%", 1000, &v, &err), -EINVAL);
	assert_int_equal(vn_parse_size_or_pct("%", 1000, &v, &err), -EINVAL);
}

static void fmt(void **state)
{
	char b[32];

	(void)state;
	vn_fmt_size(0, b, sizeof(b));
	assert_string_equal(b, "0");
	vn_fmt_size(1023, b, sizeof(b));
	assert_string_equal(b, "1023");
	vn_fmt_size(1024, b, sizeof(b));
	assert_string_equal(b, "1K");
	vn_fmt_size(1536ULL << 20, b, sizeof(b));
	assert_string_equal(b, "1536M");
	vn_fmt_size(2ULL << 30, b, sizeof(b));
	assert_string_equal(b, "2G");
	vn_fmt_size(4097, b, sizeof(b));
	assert_string_equal(b, "4097");
}

static void roundtrip(void **state)
{
	uint64_t vals[] = { 1, 4096, 3 << 20, 5ULL << 30, 12345678, 7ULL << 40 };
	struct vn_err err;
	char b[32];
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		vn_fmt_size(vals[i], b, sizeof(b));
		assert_int_equal(vn_parse_size(b, &v, &err), 0);
		assert_true(v == vals[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(pct),
		cmocka_unit_test(fmt),
		cmocka_unit_test(roundtrip),
	};

	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
