// SPDX-License-Identifier: GPL-2.0
/* vnode_vol: the one place that instantiates the vnode:vol_rq tracepoint. */
#define CREATE_TRACE_POINTS
#include <trace/events/vnode_vol.h>
