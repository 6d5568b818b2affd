// SPDX-License-Identifier: GPL-2.0
/* vnoded's control socket: its mode and group (see sock.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock.h"

int vn_sock_mode_parse(const char *s, mode_t *mode)
{
	char *end;
	unsigned long m;

	errno = 0;
	m = strtoul(s, &end, 8);
	if (errno || end == s || *end || (m != 0600 && m != 0660 && m != 0666))
		return -EINVAL;
	*mode = (mode_t)m;
	return 0;
}

int vn_sock_decide(const char *group, bool found, gid_t gid, mode_t mode,
		   bool fake, struct vn_sock_perm *out, struct vn_err *err)
{
	memset(out, 0, sizeof(*out));
	out->mode = mode;
	if (found) {
		out->chown = true;
		out->gid = gid;
		return 0;
	}
	/* no group: only an explicitly open socket, or the fake kernel */
	if (mode == 0666 || fake) {
		out->mode = 0666;
		out->warn = true;
		return 0;
	}
	if (mode == 0600)	/* root only: no group needed */
		return 0;
	return vn_seterr(err, ENOENT,
			 "group '%s' does not exist: the control socket would be open to nobody but root; "
			 "create it with 'groupadd --system %s' (and add the users who may use vNodes), "
			 "or name another group with --group GROUP",
			 group, group);
}
