// SPDX-License-Identifier: GPL-2.0
/* Size, percentage, time and rate parsing/formatting (lib/size.c). */
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

static void times(void **state)
{
	static const struct { const char *in; uint64_t ns; } ok[] = {
		{ "0", 0 }, { "0us", 0 }, { "300ns", 300 }, { "20us", 20000 },
		{ "20 us", 20000 }, { "3\xc2\xb5s", 3000 }, { "3\xce\xbcs", 3000 },
		{ "1.5ms", 1500000 }, { "0.3us", 300 }, { "2s", 2000000000 },
		{ "1.0005us", 1001 },		/* rounded to the nearest ns */
		{ "0.4ns", 0 }, { "412.345us", 412345 },
		{ "18446744073709551615ns", UINT64_MAX },
	};
	static const struct { const char *in; int err; const char *msg; } bad[] = {
		{ "", -EINVAL, "empty time" },
		{ "-1us", -EINVAL, "negative time '-1us'" },
		{ "20", -EINVAL, "time '20' needs a unit" },
		{ "20usec", -EINVAL, "unknown unit 'usec'" },
		{ "20 min", -EINVAL, "unknown unit 'min'" },
		{ "us", -EINVAL, "invalid time 'us'" },
		{ "1.us", -EINVAL, "invalid time '1.us'" },
		{ ".5us", -EINVAL, "invalid time '.5us'" },
		{ "1.0000000001s", -EINVAL, "at most 9 decimals" },
		{ "1e3us", -EINVAL, "unknown unit 'e3us'" },
		{ "18446744073709551616ns", -ERANGE, "too large" },
		{ "18446744073709551615s", -ERANGE, "too large" },
	};
	struct vn_err err;
	char word[16];
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (vn_parse_time(ok[i].in, &v, &err))
			fail_msg("'%s': %s", ok[i].in, err.msg);
		if (v != ok[i].ns)
			fail_msg("'%s': %llu, want %llu", ok[i].in,
				 (unsigned long long)v, (unsigned long long)ok[i].ns);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		err.msg[0] = '\0';
		assert_int_equal(vn_parse_time(bad[i].in, &v, &err), bad[i].err);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err.msg, bad[i].msg);
		assert_true(v == 42);
	}
	assert_int_equal(vn_parse_time(NULL, &v, &err), -EINVAL);

	/* TIME[:WORD], a jitter */
	assert_int_equal(vn_parse_time_word("2us:normal", &v, word, sizeof(word), &err), 0);
	assert_true(v == 2000);
	assert_string_equal(word, "normal");
	assert_int_equal(vn_parse_time_word("500ns", &v, word, sizeof(word), &err), 0);
	assert_true(v == 500);
	assert_string_equal(word, "");
	assert_int_equal(vn_parse_time_word("2us:", &v, word, sizeof(word), &err), -EINVAL);
	assert_int_equal(vn_parse_time_word("2us:n0rmal", &v, word, sizeof(word), &err), -EINVAL);
	assert_int_equal(vn_parse_time_word("2us:averyveryverylongword", &v, word, sizeof(word),
					    &err), -EINVAL);
	assert_int_equal(vn_parse_time_word("2:normal", &v, word, sizeof(word), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "needs a unit"));
	assert_int_equal(vn_parse_time_word("-2us:uniform", &v, word, sizeof(word), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "negative time"));
}

static void rates(void **state)
{
	static const struct { const char *in; uint64_t bps; } ok[] = {
		{ "0", 0 }, { "0GB/s", 0 }, { "512B/s", 512 }, { "1KB/s", 1000 },
		{ "1kB/s", 1000 }, { "3MB/s", 3000000 }, { "3GB/s", 3000000000ULL },
		{ "12.5GB/s", 12500000000ULL }, { "1TB/s", 1000000000000ULL },
		{ "1KiB/s", 1024 }, { "2MiB/s", 2097152 }, { "1GiB/s", 1073741824 },
		{ "8b/s", 1 }, { "100Gb/s", 12500000000ULL }, { "40Gbit/s", 5000000000ULL },
		{ "25Gbps", 3125000000ULL }, { "1Mb/s", 125000 }, { "1Kb/s", 125 },
		{ "3 Gb/s", 375000000 }, { "1.5MB/s", 1500000 },
	};
	static const struct { const char *in; const char *msg; } bad[] = {
		{ "", "empty rate" },
		{ "-3GB/s", "negative rate" },
		{ "3", "rate '3' needs a unit" },
		{ "3GB", "unknown unit 'GB'" },
		{ "3gb/s", "unknown unit 'gb/s'" },
		{ "3GBps", "unknown unit 'GBps'" },
		{ "fast", "invalid rate 'fast'" },
	};
	struct vn_err err;
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (vn_parse_rate(ok[i].in, &v, &err))
			fail_msg("'%s': %s", ok[i].in, err.msg);
		if (v != ok[i].bps)
			fail_msg("'%s': %llu, want %llu", ok[i].in,
				 (unsigned long long)v, (unsigned long long)ok[i].bps);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vn_parse_rate(bad[i].in, &v, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err.msg, bad[i].msg);
	}
	assert_int_equal(vn_parse_rate("99999999999TB/s", &v, &err), -ERANGE);
}

static void fmt_units(void **state)
{
	static const struct { uint64_t v; const char *time, *rate; } t[] = {
		{ 0, "0", "0" },
		{ 300, "300ns", "300B/s" },
		{ 3000, "3us", "3KB/s" },
		{ 412345, "412.345us", "412.345KB/s" },
		{ 412345678, "412.346ms", "412.346MB/s" },
		{ 1500000, "1.5ms", "1.5MB/s" },
		{ 12500000000ULL, "12.5s", "12.5GB/s" },
		{ 9999999, "10ms", "10MB/s" },		/* 9.999999: rounded up */
	};
	struct vn_err err;
	char b[32];
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		vn_fmt_time(t[i].v, b, sizeof(b));
		assert_string_equal(b, t[i].time);
		vn_fmt_rate(t[i].v, b, sizeof(b));
		assert_string_equal(b, t[i].rate);
	}
	/* what is printed parses back (exactly, with at most 3 decimals) */
	vn_fmt_time(1500, b, sizeof(b));
	assert_int_equal(vn_parse_time(b, &v, &err), 0);
	assert_true(v == 1500);
	vn_fmt_rate(375000000, b, sizeof(b));
	assert_string_equal(b, "375MB/s");
	assert_int_equal(vn_parse_rate(b, &v, &err), 0);
	assert_true(v == 375000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(pct),
		cmocka_unit_test(fmt),
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(times),
		cmocka_unit_test(rates),
		cmocka_unit_test(fmt_units),
	};

	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
