// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: the remote-memory disk's swap-in spin (poll_us) and write
 * staging (write_defer_us), both called from the submission path
 * (proc_io.c).
 */
#include "proc.h"

#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <trace/events/vnode.h>

/*
 * Under a hypervisor the swap-in spin does not PAUSE: there a PAUSE can
 * take the vCPU out of the guest (QEMU's TCG leaves its translated code
 * and takes the global lock for every one; KVM's pause-loop exiting
 * may deschedule the vCPU), which delays the very packet the spin waits
 * for: in the lab it made swap-ins markedly slower (docs/benchmarks.md).
 * On bare metal the spin relaxes.
 */
static inline void vnmem_spin_relax(void)
{
#ifdef CONFIG_X86
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return;
#endif
	cpu_relax();
}

/*
 * Spin (interrupts on: the CQ's softirq runs the completion on this CPU or
 * another) until the read we just posted completed, for at most poll_us.
 * A swap-in is synchronous for the faulting task anyway; spinning saves
 * the sleep and wakeup, which cost as much as the network under TCG.
 * After a timeout the completion proceeds as usual.  Returns whether the
 * completion came within the spin.
 */
bool vnmem_poll_wait(struct vnmem_cmd *cmd, int *done, u64 start)
{
	u64 limit = (u64)READ_ONCE(vnode_poll_us) * NSEC_PER_USEC;

	for (;;) {
		/*
		 * Run pending softirqs (the post's transmit tasklet, the
		 * completion) here: ksoftirqd cannot run on this CPU while
		 * we spin.
		 */
		local_bh_disable();
		local_bh_enable();
		/* pairs with smp_store_release() in vnmem_poll_signal() */
		if (smp_load_acquire(done))
			return true;
		/*
		 * Stop at the time limit, when another task should run or is
		 * waiting for this CPU, or when softirqs were left to
		 * ksoftirqd: they only run once we stop.  A waiting task may
		 * be the very completion: rxe runs its tasks in a workqueue
		 * from 6.4 on, and a 6.12 guest's one vCPU spun until
		 * poll_us every time (as KVM's halt polling stops on
		 * !single_task_running()).
		 */
		if (ktime_get_ns() - start > limit || need_resched() ||
		    !single_task_running() || local_softirq_pending()) {
			/* Still ours?  Then the completion won't touch @done. */
			if (cmpxchg(&cmd->poll_done, done, NULL) == done)
				return false;
			/* The completion claimed it and is about to set it. */
			while (!smp_load_acquire(done))
				cpu_relax();
			return true;
		}
		vnmem_spin_relax();
	}
}

bool vnmem_should_poll(struct vnmem_disk *d)
{
	u64 limit = (u64)READ_ONCE(vnode_poll_us) * NSEC_PER_USEC;

	return limit && READ_ONCE(d->read_ewma_ns) <= limit;
}

/*
 * Write staging.  A fault under memory pressure first reclaims (page-outs
 * are submitted) and then reads its page: posted in that order, the
 * swap-in's RDMA READ waits behind the writes in the send queue, on the
 * wire and at the memory host.  So writes are held for up to
 * write_defer_us and posted right after the next read, while the
 * faulting task waits for it anyway; the timer posts them when no read
 * comes.  At most VNMEM_STAGE_MAX are held.
 */
#define VNMEM_STAGE_MAX		32

void vnmem_flush_staged(struct vnmem_disk *d)
{
	struct vnmem_cmd *cmd, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	if (!READ_ONCE(d->nr_staged))
		return;
	spin_lock_irqsave(&d->stage_lock, flags);
	list_splice_init(&d->staged, &list);
	d->nr_staged = 0;
	spin_unlock_irqrestore(&d->stage_lock, flags);
	list_for_each_entry_safe(cmd, tmp, &list, node) {
		list_del_init(&cmd->node);
		vnmem_submit(d, blk_mq_rq_from_pdu(cmd), false);
	}
}

enum hrtimer_restart vnmem_stage_timer(struct hrtimer *t)
{
	vnmem_flush_staged(container_of(t, struct vnmem_disk, stage_timer));
	return HRTIMER_NORESTART;
}

/* Hold write @cmd; false if staging is off (post it now). */
bool vnmem_stage(struct vnmem_disk *d, struct vnmem_cmd *cmd)
{
	unsigned int us = READ_ONCE(vnode_write_defer_us);
	unsigned long flags;
	unsigned int n;

	if (!us)
		return false;
	spin_lock_irqsave(&d->stage_lock, flags);
	list_add_tail(&cmd->node, &d->staged);
	n = ++d->nr_staged;
	spin_unlock_irqrestore(&d->stage_lock, flags);
	if (n >= VNMEM_STAGE_MAX)
		vnmem_flush_staged(d);
	else if (n == 1)
		hrtimer_start(&d->stage_timer, us * NSEC_PER_USEC,
			      HRTIMER_MODE_REL_SOFT);
	return true;
}
