// SPDX-License-Identifier: GPL-2.0
/* vnoded's control socket (vnoded/sock.c): its mode and group. */
#include "unit.h"
#include "sock.h"

static void sock_mode(void **state)
{
	mode_t m = 0;

	(void)state;
	assert_int_equal(vn_sock_mode_parse("0660", &m), 0);
	assert_int_equal(m, 0660);
	assert_int_equal(vn_sock_mode_parse("666", &m), 0);
	assert_int_equal(m, 0666);
	assert_int_equal(vn_sock_mode_parse("0600", &m), 0);
	assert_int_equal(vn_sock_mode_parse("0777", &m), -EINVAL);
	assert_int_equal(vn_sock_mode_parse("0644", &m), -EINVAL);
	assert_int_equal(vn_sock_mode_parse("rw", &m), -EINVAL);
	assert_int_equal(vn_sock_mode_parse("", &m), -EINVAL);
}

static void sock_group(void **state)
{
	struct vn_sock_perm p;
	struct vn_err err = { "" };

	(void)state;
	/* the group exists: 0660 root:group */
	assert_int_equal(vn_sock_decide("vnode", true, 998, 0660, false, &p, &err), 0);
	assert_int_equal(p.mode, 0660);
	assert_true(p.chown);
	assert_int_equal(p.gid, 998);
	assert_false(p.warn);
	/* ... also when the mode was opened on purpose */
	assert_int_equal(vn_sock_decide("vnode", true, 998, 0666, false, &p, &err), 0);
	assert_int_equal(p.mode, 0666);
	assert_true(p.chown);

	/* missing group, real kernel, default mode: refuse to start */
	assert_int_equal(vn_sock_decide("vnode", false, 0, 0660, false, &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "group 'vnode' does not exist"));
	assert_non_null(strstr(err.msg, "groupadd --system vnode"));
	assert_non_null(strstr(err.msg, "--group GROUP"));
	assert_int_equal(vn_sock_decide("ops", false, 0, 0660, false, &p, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "groupadd --system ops"));

	/* missing group: --socket-mode 0666 (labs) or the fake kernel: 0666, said */
	assert_int_equal(vn_sock_decide("vnode", false, 0, 0666, false, &p, &err), 0);
	assert_int_equal(p.mode, 0666);
	assert_false(p.chown);
	assert_true(p.warn);
	assert_int_equal(vn_sock_decide("vnode", false, 0, 0660, true, &p, &err), 0);
	assert_int_equal(p.mode, 0666);
	assert_true(p.warn);
	/* --socket-mode 0600: root only, no group needed */
	assert_int_equal(vn_sock_decide("vnode", false, 0, 0600, false, &p, &err), 0);
	assert_int_equal(p.mode, 0600);
	assert_false(p.chown);
	assert_false(p.warn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sock_mode),
		cmocka_unit_test(sock_group),
	};

	return cmocka_run_group_tests_name("sock", tests, NULL, NULL);
}
