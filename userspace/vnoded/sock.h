/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnoded's control socket: who may connect (mode and group of the socket
 * file).  The socket is 0660 root:GROUP (default group `vnode`); when the
 * group does not exist vnoded refuses to start, unless the mode was asked
 * to be 0666 (`--socket-mode 0666`, labs) or the kernel is the fake one
 * of --sysroot (tests).  Requests are authorised by SO_PEERCRED whatever
 * the mode.
 */
#ifndef VN_SOCK_H
#define VN_SOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

#define VN_SOCK_MODE_DEFAULT	0660

/* What to do with the socket file. */
struct vn_sock_perm {
	mode_t mode;
	bool chown;		/* chown root:gid */
	gid_t gid;
	bool warn;		/* the group is missing: say so (mode 0666) */
};

/*
 * Decide the socket's mode and group: group (its name), found/gid (what
 * getgrnam said), mode (0660 default, 0600, or 0666), fake (--sysroot).
 * 0, or -ENOENT with a message naming the group and how to create it.
 */
int vn_sock_decide(const char *group, bool found, gid_t gid, mode_t mode,
		   bool fake, struct vn_sock_perm *out, struct vn_err *err);

/* "0660" etc.: 0 or -EINVAL (only 0600, 0660, 0666 are accepted). */
int vn_sock_mode_parse(const char *s, mode_t *mode);

#endif /* VN_SOCK_H */
