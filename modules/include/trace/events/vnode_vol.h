/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode remote-volume tracepoints (TRACE_SYSTEM vnode), defined by
 * vnode_vol.ko.
 *
 *   vnode:vol_rq  one volume request (read, write, flush, discard,
 *                 write-zeroes) completed, with its latency and result
 *
 * Example: bpftrace -e 'tracepoint:vnode:vol_rq { @[args->op] =
 *          hist(args->latency_ns / 1000); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vnode

#if !defined(_TRACE_VNODE_VOL_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VNODE_VOL_H

#include <linux/tracepoint.h>
#include <vnode/compat.h>
#include <vnode/proto.h>

#define vnode_vol_op_name(op)					\
	__print_symbolic(op,					\
		{ VNODE_STOR_READ,		"read" },	\
		{ VNODE_STOR_WRITE,		"write" },	\
		{ VNODE_STOR_FLUSH,		"flush" },	\
		{ VNODE_STOR_DISCARD,		"discard" },	\
		{ VNODE_STOR_WRITE_ZEROES,	"write_zeroes" })

TRACE_EVENT(vol_rq,
	TP_PROTO(const char *disk, int op, u64 offset, u32 bytes,
		 u64 latency_ns, int error),
	TP_ARGS(disk, op, offset, bytes, latency_ns, error),

	TP_STRUCT__entry(
		__string(disk, disk)
		__field(int, op)
		__field(u64, offset)
		__field(u32, bytes)
		__field(u64, latency_ns)
		__field(int, error)
	),

	TP_fast_assign(
		vnode_assign_str(disk, disk);
		__entry->op = op;
		__entry->offset = offset;
		__entry->bytes = bytes;
		__entry->latency_ns = latency_ns;
		__entry->error = error;
	),

	TP_printk("disk=%s op=%s offset=%llu bytes=%u latency_ns=%llu error=%d",
		  __get_str(disk), vnode_vol_op_name(__entry->op),
		  __entry->offset, __entry->bytes, __entry->latency_ns,
		  __entry->error)
);

#endif /* _TRACE_VNODE_VOL_H */

#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vnode_vol
#include <trace/define_trace.h>
