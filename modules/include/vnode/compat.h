/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Version shims.  This is the ONLY file in vnode that may test
 * LINUX_VERSION_CODE: every difference between the supported kernels
 * (Debian 12's 6.1 and 6.12) is wrapped here behind one name.
 */
#ifndef VNODE_COMPAT_H
#define VNODE_COMPAT_H

#include <linux/version.h>

#endif /* VNODE_COMPAT_H */
