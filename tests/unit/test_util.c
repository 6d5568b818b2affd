// SPDX-License-Identifier: GPL-2.0
/* lib/util.c: the one mkdir -p (vnoded's state and socket dirs, kern.c). */
#include "unit.h"
#include "util.h"

static bool is_dir(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static void mkdirs(void **state)
{
	char dir[256], p[512];
	size_t l;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	l = strlen(dir);
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(vn_mkdirs(p, 0, 0755), 0);
	assert_true(is_dir(dir, "a/b/c"));
	/* again: nothing to do */
	assert_int_equal(vn_mkdirs(p, 0, 0755), 0);
	/* below an existing prefix (a fake root) */
	snprintf(p, sizeof(p), "%s/a/x/y", dir);
	assert_int_equal(vn_mkdirs(p, l, 0755), 0);
	assert_true(is_dir(dir, "a/x/y"));
	/* a file in the way */
	write_at(dir, "f", "x");
	snprintf(p, sizeof(p), "%s/f/g", dir);
	assert_int_equal(vn_mkdirs(p, l, 0755), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/f", dir);
	/* EEXIST counts as done, even for a file (as before the helpers were one) */
	assert_int_equal(vn_mkdirs(p, l, 0755), 0);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mkdirs),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
