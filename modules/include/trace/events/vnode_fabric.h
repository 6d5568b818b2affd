/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode fabric-emulation tracepoint (TRACE_SYSTEM vnode), defined by
 * vnode_xprt.ko.
 *
 *   vnode:fabric_op  one data operation to a host with an emulated fabric
 *                    link completed on the wire: its wire time and the
 *                    time the link adds (held until due)
 *
 * Example: bpftrace -e 'tracepoint:vnode:fabric_op { @wire =
 *          hist(args->wire_ns / 1000); @added = hist(args->added_ns / 1000); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vnode

#if !defined(_TRACE_VNODE_FABRIC_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VNODE_FABRIC_H

#include <linux/tracepoint.h>
#include <vnode/compat.h>

TRACE_EVENT(fabric_op,
	TP_PROTO(const char *link, const char *client, bool write, u32 bytes,
		 u64 wire_ns, u64 added_ns),
	TP_ARGS(link, client, write, bytes, wire_ns, added_ns),

	TP_STRUCT__entry(
		__string(link, link)
		__string(client, client)
		__field(bool, write)
		__field(u32, bytes)
		__field(u64, wire_ns)
		__field(u64, added_ns)
	),

	TP_fast_assign(
		vnode_assign_str(link, link);
		vnode_assign_str(client, client);
		__entry->write = write;
		__entry->bytes = bytes;
		__entry->wire_ns = wire_ns;
		__entry->added_ns = added_ns;
	),

	TP_printk("link=%s client=%s dir=%s bytes=%u wire_ns=%llu added_ns=%llu",
		  __get_str(link), __get_str(client),
		  __entry->write ? "write" : "read", __entry->bytes,
		  __entry->wire_ns, __entry->added_ns)
);

#endif /* _TRACE_VNODE_FABRIC_H */

#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vnode_fabric
#include <trace/define_trace.h>
