/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode's release: the one place it is written.  The kernel modules report
 * it as MODULE_VERSION (modinfo), the tools with -V; dkms.conf's
 * PACKAGE_VERSION and debian/changelog must match (the unit tests check).
 */
#ifndef VNODE_VERSION_H
#define VNODE_VERSION_H

#define VNODE_VERSION "0.1"

#endif /* VNODE_VERSION_H */
