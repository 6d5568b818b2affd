// SPDX-License-Identifier: GPL-2.0
/* Asynchronous eviction's controller and settings (vnoded/evict.c). */
#include "unit.h"
#include "evict.h"

#define K (1ULL << 10)
#define M (1ULL << 20)

static void parse(void **state)
{
	struct vn_err err;
	char b[32];
	int64_t h;

	(void)state;
	assert_int_equal(vn_headroom_parse("auto", &h, &err), 0);
	assert_int_equal(h, VN_HEADROOM_AUTO);
	assert_int_equal(vn_headroom_parse("off", &h, &err), 0);
	assert_int_equal(h, VN_HEADROOM_OFF);
	assert_int_equal(vn_headroom_parse("0", &h, &err), 0);
	assert_int_equal(h, VN_HEADROOM_OFF);
	assert_int_equal(vn_headroom_parse("4M", &h, &err), 0);
	assert_int_equal(h, 4 * M);
	assert_int_equal(vn_headroom_parse("", &h, &err), -EINVAL);
	assert_int_equal(vn_headroom_parse("-1", &h, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "invalid headroom '-1'"));
	assert_int_equal(vn_headroom_parse("lots", &h, &err), -EINVAL);
	assert_int_equal(vn_headroom_parse("2T", &h, &err), -ERANGE);
	vn_headroom_fmt(VN_HEADROOM_AUTO, b, sizeof(b));
	assert_string_equal(b, "auto");
	vn_headroom_fmt(0, b, sizeof(b));
	assert_string_equal(b, "off");
	vn_headroom_fmt(3 * M, b, sizeof(b));
	assert_string_equal(b, "3M");
}

/* a fixed headroom: nothing while the room is enough, then refill to
 * 1.5x in chunks of at most VN_EVICT_CHUNK; never above half the limit */
static void fixed(void **state)
{
	struct vn_evict_ctl c;

	(void)state;
	vn_evict_init(&c, 4 * M, 64 * M);
	assert_true(c.headroom == 4 * M);
	assert_true(vn_evict_want(&c, 64 * M, 32 * M) == 0);
	assert_true(vn_evict_want(&c, 64 * M, 60 * M) == 0);
	assert_true(vn_evict_want(&c, 64 * M, 63 * M + 512 * K) == VN_EVICT_CHUNK);
	vn_evict_init(&c, 512 * K, 64 * M);
	assert_true(vn_evict_want(&c, 64 * M, 64 * M - 256 * K) == 512 * K);
	vn_evict_init(&c, 4 * M, 64 * M);
	assert_true(vn_evict_want(&c, 64 * M, 64 * M) == VN_EVICT_CHUNK);
	assert_true(vn_evict_want(&c, 64 * M, 70 * M) == VN_EVICT_CHUNK);
	/* tiny shortfall: at least 64 KiB per pass */
	vn_evict_init(&c, 128 * K, 64 * M);
	assert_true(vn_evict_want(&c, 64 * M, 64 * M - 127 * K) == 65 * K);
	/* a fixed one does not adapt, but follows the limit */
	vn_evict_init(&c, 4 * M, 64 * M);
	vn_evict_adapt(&c, 64 * M, 100 * M, 100, 50);
	assert_true(c.headroom == 4 * M);
	vn_evict_adapt(&c, 6 * M, 0, 100, 0);
	assert_true(c.headroom == 3 * M);
	/* off: never */
	vn_evict_init(&c, VN_HEADROOM_OFF, 64 * M);
	assert_true(vn_evict_want(&c, 64 * M, 64 * M) == 0);
}

/* auto: doubles on direct reclaim, decays by 1/8 without, covers 20 ms
 * of demand, stays within limit/128 (>= 256 KiB) .. limit/8 */
static void adaptive(void **state)
{
	struct vn_evict_ctl c;
	uint64_t h;
	int i;

	(void)state;
	vn_evict_init(&c, VN_HEADROOM_AUTO, 64 * M);
	assert_true(c.headroom == 2 * M);
	vn_evict_adapt(&c, 64 * M, 0, 100, 3);
	assert_true(c.headroom == 4 * M);
	vn_evict_adapt(&c, 64 * M, 0, 100, 1);
	vn_evict_adapt(&c, 64 * M, 0, 100, 1);
	assert_true(c.headroom == 8 * M);	/* limit / 8 */
	h = c.headroom;
	vn_evict_adapt(&c, 64 * M, 0, 100, 0);
	assert_true(c.headroom == h - h / 8);
	for (i = 0; i < 100; i++)
		vn_evict_adapt(&c, 64 * M, 0, 100, 0);
	assert_true(c.headroom == 512 * K);	/* limit / 128 */
	/* 100 MiB/s of demand: 20 ms of it = 2 MiB, without any direct reclaim */
	vn_evict_adapt(&c, 64 * M, 10 * M, 100, 0);
	assert_true(c.headroom == 10 * M / 100 * 20);
	/* a small limit: the 256 KiB floor */
	vn_evict_init(&c, VN_HEADROOM_AUTO, 8 * M);
	for (i = 0; i < 100; i++)
		vn_evict_adapt(&c, 8 * M, 0, 100, 0);
	assert_true(c.headroom == 256 * K);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse),
		cmocka_unit_test(fixed),
		cmocka_unit_test(adaptive),
	};

	return cmocka_run_group_tests_name("evict", tests, NULL, NULL);
}
