// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt core: module init/exit, the client-side device cache, the
 * ib_client that handles device removal.
 */
#include "xprt_priv.h"

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <vnode/version.h>

struct workqueue_struct *vnode_xprt_wq;
struct workqueue_struct *vnode_xprt_exec_wq;
struct workqueue_struct *vnode_xprt_teardown_wq;

unsigned int vnode_xprt_keepalive_ms = 2000;
module_param_named(keepalive_ms, vnode_xprt_keepalive_ms, uint, 0444);
MODULE_PARM_DESC(keepalive_ms, "Interval of keepalive probes on idle connections, 0 disables (default 2000)");

/*
 * Local ACK timeout exponent: 4.096 us * 2^17 = 0.54 s per try; with
 * VNODE_XPRT_RETRY_COUNT retries a dead peer is noticed in about 4 s.
 */
unsigned int vnode_xprt_ack_timeout = 17;
module_param_named(ack_timeout, vnode_xprt_ack_timeout, uint, 0444);
MODULE_PARM_DESC(ack_timeout, "RC local ACK timeout exponent, 4.096us * 2^N, 8..30 (default 17 = 0.54 s)");

unsigned int vnode_xprt_max_peers = 128;
module_param_named(max_peers, vnode_xprt_max_peers, uint, 0644);
MODULE_PARM_DESC(max_peers, "Client objects (client_ids) one server serves at once; more are refused with VNODE_ST_BUSY (default 128)");

unsigned int vnode_xprt_connect_rate = 50;
module_param_named(connect_rate, vnode_xprt_connect_rate, uint, 0644);
MODULE_PARM_DESC(connect_rate, "Connect requests per second one server takes from one address, bursts of twice that; more are refused with VNODE_ST_BUSY before any check; 0 = no limit (default 50)");

static LIST_HEAD(vnode_xprt_dev_list);
static DEFINE_MUTEX(vnode_xprt_dev_mutex);

/* Devices present (ib_client add/remove), for vnode_xprt_max_fr_pages(). */
struct vnode_xprt_ibdev {
	struct list_head	entry;
	struct ib_device	*ibdev;
};

static LIST_HEAD(vnode_xprt_ibdev_list);
static DEFINE_MUTEX(vnode_xprt_ibdev_mutex);

static const char *const vnode_xprt_state_names[] = {
	[VNODE_XPRT_CONNECTING]		= "CONNECTING",
	[VNODE_XPRT_LIVE]		= "LIVE",
	[VNODE_XPRT_RECONNECTING]	= "RECONNECTING",
	[VNODE_XPRT_DEAD]		= "DEAD",
	[VNODE_XPRT_CLOSED]		= "CLOSED",
};

const char *vnode_xprt_state_str(enum vnode_xprt_state s)
{
	if ((unsigned int)s >= ARRAY_SIZE(vnode_xprt_state_names))
		return "UNKNOWN";
	return vnode_xprt_state_names[s];
}
EXPORT_SYMBOL_GPL(vnode_xprt_state_str);

const char *vnode_xprt_status_str(u16 status)
{
	switch (status) {
	case VNODE_ST_OK:	return "ok";
	case VNODE_ST_FULL:	return "server full";
	case VNODE_ST_INVALID:	return "invalid request";
	case VNODE_ST_NOENT:	return "no such object";
	case VNODE_ST_VERSION:	return "protocol version mismatch";
	case VNODE_ST_SHUTDOWN:	return "server shutting down";
	case VNODE_ST_PERM:	return "permission denied";
	case VNODE_ST_IO:	return "I/O error";
	case VNODE_ST_NOMEM:	return "server out of memory";
	case VNODE_ST_AUTH:	return "authentication failed";
	case VNODE_ST_BUSY:	return "busy: the previous connection is still being fenced";
	case VNODE_ST_QUOTA:	return "quota reached";
	default:		return "unknown status";
	}
}

/* Errno for a rejected connection. */
int vnode_xprt_status_errno(u16 status)
{
	switch (status) {
	case VNODE_ST_VERSION:	return -EPROTO;
	case VNODE_ST_FULL:	return -ENOSPC;
	case VNODE_ST_AUTH:	return -EKEYREJECTED;
	case VNODE_ST_BUSY:	return -EBUSY;
	default:		return -ECONNREFUSED;
	}
}

static void vnode_xprt_dev_free(struct kref *ref)
{
	struct vnode_xprt_dev *dev = container_of(ref, struct vnode_xprt_dev,
						  ref);

	list_del(&dev->entry);
	mutex_unlock(&vnode_xprt_dev_mutex);
	ib_dealloc_pd(dev->pd);
	kfree(dev);
}

/* Get (or create) the cache entry of @ibdev.  Sleeps. */
struct vnode_xprt_dev *vnode_xprt_dev_get(struct ib_device *ibdev)
{
	struct vnode_xprt_dev *dev;

	mutex_lock(&vnode_xprt_dev_mutex);
	list_for_each_entry(dev, &vnode_xprt_dev_list, entry) {
		if (dev->ibdev == ibdev && kref_get_unless_zero(&dev->ref))
			goto out_unlock;
	}

	dev = vnode_fault(kzalloc(sizeof(*dev), GFP_KERNEL));
	if (!dev)
		goto out_unlock;
	dev->ibdev = ibdev;
	/* Flags 0: the client needs local_dma_lkey only, no global rkey. */
	dev->pd = vnode_fault_err(ib_alloc_pd(ibdev, 0));
	if (IS_ERR(dev->pd)) {
		pr_err("%s: ib_alloc_pd failed: %ld\n", dev_name(&ibdev->dev),
		       PTR_ERR(dev->pd));
		kfree(dev);
		dev = NULL;
		goto out_unlock;
	}
	kref_init(&dev->ref);
	list_add(&dev->entry, &vnode_xprt_dev_list);
out_unlock:
	mutex_unlock(&vnode_xprt_dev_mutex);
	return dev;
}

void vnode_xprt_dev_put(struct vnode_xprt_dev *dev)
{
	kref_put_mutex(&dev->ref, vnode_xprt_dev_free, &vnode_xprt_dev_mutex);
}

void vnode_xprt_zero_write_wr(struct ib_rdma_wr *wr, struct ib_cqe *cqe)
{
	memset(wr, 0, sizeof(*wr));
	wr->wr.opcode = IB_WR_RDMA_WRITE;
	wr->wr.send_flags = IB_SEND_SIGNALED;
	wr->wr.wr_cqe = cqe;
	wr->wr.num_sge = 0;
}

int vnode_xprt_post_keepalive(struct ib_qp *qp, struct ib_cqe *cqe)
{
	struct ib_rdma_wr wr;

	vnode_xprt_zero_write_wr(&wr, cqe);
	return ib_post_send(qp, &wr.wr, NULL);
}

unsigned int vnode_xprt_max_fr_pages(void)
{
	struct vnode_xprt_ibdev *d;
	unsigned int n = 0;

	mutex_lock(&vnode_xprt_ibdev_mutex);
	list_for_each_entry(d, &vnode_xprt_ibdev_list, entry) {
		unsigned int len = d->ibdev->attrs.max_fast_reg_page_list_len;

		if (!n || len < n)
			n = len;
	}
	mutex_unlock(&vnode_xprt_ibdev_mutex);
	return n;
}
EXPORT_SYMBOL_GPL(vnode_xprt_max_fr_pages);

static int vnode_xprt_add_one(struct ib_device *ibdev)
{
	struct vnode_xprt_ibdev *d;

	d = vnode_fault(kzalloc(sizeof(*d), GFP_KERNEL));
	if (!d)
		return -ENOMEM;
	d->ibdev = ibdev;
	mutex_lock(&vnode_xprt_ibdev_mutex);
	list_add(&d->entry, &vnode_xprt_ibdev_list);
	mutex_unlock(&vnode_xprt_ibdev_mutex);
	return 0;
}

/*
 * The device goes away (e.g. "rdma link del rxe0").  We registered after
 * rdma_cm, so we are called before it: tear down everything we built on
 * @ibdev ourselves.  Clients go RECONNECTING (and retry until their loss
 * timeout), servers drop the peers on that device.
 */
static void vnode_xprt_remove_one(struct ib_device *ibdev, void *client_data)
{
	struct vnode_xprt_ibdev *d, *tmp;

	pr_info("%s: device removed, dropping its connections\n",
		dev_name(&ibdev->dev));
	vnode_xprt_clt_remove_dev(ibdev);
	vnode_xprt_srv_remove_dev(ibdev);

	mutex_lock(&vnode_xprt_ibdev_mutex);
	list_for_each_entry_safe(d, tmp, &vnode_xprt_ibdev_list, entry) {
		if (d->ibdev == ibdev) {
			list_del(&d->entry);
			kfree(d);
		}
	}
	mutex_unlock(&vnode_xprt_ibdev_mutex);
}

static struct ib_client vnode_xprt_ib_client = {
	.name	= "vnode_xprt",
	.add	= vnode_xprt_add_one,
	.remove	= vnode_xprt_remove_one,
};

static int __init vnode_xprt_init(void)
{
	int ret;

	vnode_proto_check_sizes();
	if (vnode_xprt_ack_timeout < 8 || vnode_xprt_ack_timeout > 30) {
		pr_err("ack_timeout=%u: must be 8..30\n", vnode_xprt_ack_timeout);
		return -EINVAL;
	}
	vnode_fault_init();
	/* Reconnect and slab work sits on the swap path: WQ_MEM_RECLAIM. */
	vnode_xprt_wq = alloc_workqueue("vnode_xprt",
					WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!vnode_xprt_wq) {
		ret = -ENOMEM;
		goto out_fault_exit;
	}
	/* Storage requests block on their backing store: many at once. */
	vnode_xprt_exec_wq = alloc_workqueue("vnode_xprt_exec",
					     WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!vnode_xprt_exec_wq) {
		ret = -ENOMEM;
		goto out_destroy_xprt_wq;
	}
	/*
	 * A server queue's release waits for works of the other two (a
	 * work must not wait for one of its own WQ_MEM_RECLAIM queue: under
	 * memory pressure its rescuer would wait for itself).
	 */
	vnode_xprt_teardown_wq = alloc_workqueue("vnode_xprt_teardown",
						 WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!vnode_xprt_teardown_wq) {
		ret = -ENOMEM;
		goto out_destroy_exec_wq;
	}

	ret = vnode_auth_init();
	if (ret)
		goto out_destroy_wq;
	ret = vnode_xprt_clt_init();
	if (ret)
		goto out_auth_exit;
	ret = vnode_xprt_srv_init();
	if (ret)
		goto out_clt_exit;
	ret = ib_register_client(&vnode_xprt_ib_client);
	if (ret)
		goto out_srv_exit;
	pr_info("protocol %d.%d loaded\n", VNODE_PROTO_MAJOR,
		VNODE_PROTO_MINOR);
	return 0;

out_srv_exit:
	vnode_xprt_srv_exit();
out_clt_exit:
	vnode_xprt_clt_exit();
out_auth_exit:
	vnode_auth_exit();
out_destroy_wq:
	destroy_workqueue(vnode_xprt_teardown_wq);
out_destroy_exec_wq:
	destroy_workqueue(vnode_xprt_exec_wq);
out_destroy_xprt_wq:
	destroy_workqueue(vnode_xprt_wq);
out_fault_exit:
	vnode_fault_exit();
	return ret;
}

static void __exit vnode_xprt_exit(void)
{
	ib_unregister_client(&vnode_xprt_ib_client);
	vnode_xprt_srv_exit();
	vnode_xprt_clt_exit();
	vnode_auth_exit();
	destroy_workqueue(vnode_xprt_teardown_wq);
	destroy_workqueue(vnode_xprt_exec_wq);
	destroy_workqueue(vnode_xprt_wq);
	vnode_fault_exit();
	WARN_ON(!list_empty(&vnode_xprt_dev_list));
}

module_init(vnode_xprt_init);
module_exit(vnode_xprt_exit);

MODULE_DESCRIPTION("vnode RDMA transport");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
