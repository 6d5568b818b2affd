// SPDX-License-Identifier: GPL-2.0
/* vnode_proc: the one place that instantiates the vnode tracepoints. */
#define CREATE_TRACE_POINTS
#include <trace/events/vnode.h>
