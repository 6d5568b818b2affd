/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode tracepoints (TRACE_SYSTEM vnode), defined by vnode_proc.ko.
 *
 *   vnode:page_read   one remote page READ completed (swap-in)
 *   vnode:page_write  one remote page WRITE completed (swap-out), one
 *                     event per replica written
 *   vnode:conn_state  a memory-host connection of a disk changed state
 *   vnode:page_check  a swapped-in page failed its protection check
 *
 * Example: bpftrace -e 'tracepoint:vnode:page_read { @[args->host] =
 *          hist(args->latency_ns / 1000); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vnode

#if !defined(_TRACE_VNODE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VNODE_H

#include <linux/tracepoint.h>
#include <vnode/compat.h>
#include <vnode/xprt.h>

DECLARE_EVENT_CLASS(vnode_page_class,
	TP_PROTO(u64 cgroup_id, int pid, const char *comm, const char *disk,
		 u64 offset, u32 host_id, const char *host, u32 bytes,
		 u64 latency_ns, int error),
	TP_ARGS(cgroup_id, pid, comm, disk, offset, host_id, host, bytes,
		latency_ns, error),

	TP_STRUCT__entry(
		__field(u64, cgroup_id)
		__field(int, pid)
		__array(char, comm, TASK_COMM_LEN)
		__string(disk, disk)
		__field(u64, offset)
		__field(u32, host_id)
		__string(host, host)
		__field(u32, bytes)
		__field(u64, latency_ns)
		__field(int, error)
	),

	TP_fast_assign(
		__entry->cgroup_id = cgroup_id;
		__entry->pid = pid;
		memcpy(__entry->comm, comm, TASK_COMM_LEN);
		vnode_assign_str(disk, disk);
		__entry->offset = offset;
		__entry->host_id = host_id;
		vnode_assign_str(host, host);
		__entry->bytes = bytes;
		__entry->latency_ns = latency_ns;
		__entry->error = error;
	),

	TP_printk("%s off=%llu host=%u(%s) bytes=%u lat=%lluns err=%d cgroup=%llu pid=%d comm=%s",
		  __get_str(disk), __entry->offset, __entry->host_id,
		  __get_str(host), __entry->bytes, __entry->latency_ns,
		  __entry->error, __entry->cgroup_id, __entry->pid,
		  __entry->comm)
);

DEFINE_EVENT(vnode_page_class, page_read,
	TP_PROTO(u64 cgroup_id, int pid, const char *comm, const char *disk,
		 u64 offset, u32 host_id, const char *host, u32 bytes,
		 u64 latency_ns, int error),
	TP_ARGS(cgroup_id, pid, comm, disk, offset, host_id, host, bytes,
		latency_ns, error));

DEFINE_EVENT(vnode_page_class, page_write,
	TP_PROTO(u64 cgroup_id, int pid, const char *comm, const char *disk,
		 u64 offset, u32 host_id, const char *host, u32 bytes,
		 u64 latency_ns, int error),
	TP_ARGS(cgroup_id, pid, comm, disk, offset, host_id, host, bytes,
		latency_ns, error));

TRACE_EVENT(conn_state,
	TP_PROTO(const char *name, const char *peer, int old_state,
		 int new_state),
	TP_ARGS(name, peer, old_state, new_state),

	TP_STRUCT__entry(
		__string(name, name)
		__string(peer, peer)
		__field(int, old_state)
		__field(int, new_state)
	),

	TP_fast_assign(
		vnode_assign_str(name, name);
		vnode_assign_str(peer, peer);
		__entry->old_state = old_state;
		__entry->new_state = new_state;
	),

	TP_printk("%s@%s %s -> %s", __get_str(name), __get_str(peer),
		  vnode_xprt_state_name(__entry->old_state),
		  vnode_xprt_state_name(__entry->new_state))
);

/*
 * Re-replication: slab @slab got a new copy on host @host_id, and @left
 * other slabs still had too few copies when it was taken.  A record with
 * @done set ends a heal: the disk's redundancy is restored.
 */
TRACE_EVENT(heal,
	TP_PROTO(const char *disk, u32 slab, u32 host_id, u32 left, bool done),
	TP_ARGS(disk, slab, host_id, left, done),

	TP_STRUCT__entry(
		__string(disk, disk)
		__field(u32, slab)
		__field(u32, host_id)
		__field(u32, left)
		__field(bool, done)
	),

	TP_fast_assign(
		vnode_assign_str(disk, disk);
		__entry->slab = slab;
		__entry->host_id = host_id;
		__entry->left = left;
		__entry->done = done;
	),

	TP_printk("%s %s slab %u -> host %u, %u left", __get_str(disk),
		  __entry->done ? "restored" : "copied", __entry->slab,
		  __entry->host_id, __entry->left)
);

/*
 * A page read from the copy on host @host_id failed its check (the vNode's
 * protection profile, e.g. crc): @left other copies can still serve it;
 * with none left the swap-in fails (the process gets SIGBUS).
 */
TRACE_EVENT(page_check,
	TP_PROTO(u64 cgroup_id, const char *disk, u64 offset, u32 host_id,
		 const char *host, const char *profile, u32 left),
	TP_ARGS(cgroup_id, disk, offset, host_id, host, profile, left),

	TP_STRUCT__entry(
		__field(u64, cgroup_id)
		__string(disk, disk)
		__field(u64, offset)
		__field(u32, host_id)
		__string(host, host)
		__string(profile, profile)
		__field(u32, left)
	),

	TP_fast_assign(
		__entry->cgroup_id = cgroup_id;
		vnode_assign_str(disk, disk);
		__entry->offset = offset;
		__entry->host_id = host_id;
		vnode_assign_str(host, host);
		vnode_assign_str(profile, profile);
		__entry->left = left;
	),

	TP_printk("%s off=%llu host=%u(%s) %s check failed, %u other copies, cgroup=%llu",
		  __get_str(disk), __entry->offset, __entry->host_id,
		  __get_str(host), __get_str(profile), __entry->left,
		  __entry->cgroup_id)
);

#endif /* _TRACE_VNODE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
