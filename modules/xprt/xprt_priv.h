/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_xprt private structures.  Every .c file of the module includes
 * this header first, so pr_fmt is set once here.
 */
#ifndef VNODE_XPRT_PRIV_H
#define VNODE_XPRT_PRIV_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>
#include <rdma/ib_cm.h>
#include <rdma/rdma_cm.h>
#include <rdma/rw.h>
#include <vnode/compat.h>
#include <vnode/xprt.h>

/*
 * Control messages in flight: per client (all on queue 0), and RECV
 * buffers pre-posted per queue on both sides.  Advertised to clients as
 * vnode_accept.max_inflight.
 */
#define VNODE_XPRT_CTRL_DEPTH		16
#define VNODE_XPRT_MAX_QUEUE_DEPTH	1024

#define VNODE_XPRT_DEF_QUEUES		4
#define VNODE_XPRT_DEF_QUEUE_DEPTH	128
#define VNODE_XPRT_DEF_CONNECT_MS	3000
#define VNODE_XPRT_DEF_RECONNECT_MS	500
#define VNODE_XPRT_DEF_LOSS_MS		10000

/* Longest "addr:port" string, IPv6 in brackets included. */
#define VNODE_XPRT_PEER_LEN		64
/* Object name: vnode_hello.name plus a NUL. */
#define VNODE_XPRT_NAME_LEN		(sizeof(((struct vnode_hello *)0)->name) + 1)

/*
 * Three queues, so that no work waits for another of its own queue (all
 * are WQ_MEM_RECLAIM: a rescuer waiting for work queued behind it would
 * deadlock under memory pressure):
 *   vnode_xprt_wq        clients' reconnect, error and keepalive works,
 *                        servers' keepalive and orphan works;
 *   vnode_xprt_exec_wq   servers' requests: a queue's asynchronous ones
 *                        (unbound, many at once) and a peer's control
 *                        requests (req_work);
 *   vnode_xprt_teardown_wq  a server queue's release, which waits for
 *                        its peer's requests and orphan work.
 */
extern struct workqueue_struct *vnode_xprt_wq;
extern struct workqueue_struct *vnode_xprt_exec_wq;
extern struct workqueue_struct *vnode_xprt_teardown_wq;
extern unsigned int vnode_xprt_keepalive_ms;
extern unsigned int vnode_xprt_ack_timeout;

/* RC transport retries; rxe treats 7 as "retry forever". */
#define VNODE_XPRT_RETRY_COUNT		6

/*
 * Keepalive: a signaled zero-length RDMA WRITE (no rkey is checked for
 * zero bytes, IBTA C9-88).  If the other side is gone, the RC retries run
 * out and the WR completes in error, which starts the normal loss path.
 */
int vnode_xprt_post_keepalive(struct ib_qp *qp, struct ib_cqe *cqe);
/* Fill @wr with that zero-byte signaled WRITE, completing to @cqe. */
void vnode_xprt_zero_write_wr(struct ib_rdma_wr *wr, struct ib_cqe *cqe);

/*
 * Post with bottom halves off.  rxe transmits a kernel QP's work
 * requests from a tasklet when more than one is queued (an RDMA WRITE +
 * reply; a command's REG_MR, whose completion posts its SEND from the CQ's
 * softirq, always runs in one on 6.1).  Raised in process context, that
 * tasklet waits for ksoftirqd, i.e. a context switch; with bottom halves
 * off it runs right in the poster when they are turned back on.  Returns
 * whether vnode_xprt_post_end() must turn them back on.
 */
static inline bool vnode_xprt_post_begin(void)
{
	if (in_interrupt() || irqs_disabled())
		return false;
	local_bh_disable();
	return true;
}

static inline void vnode_xprt_post_end(bool bh)
{
	if (bh)
		local_bh_enable();
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/**
 * struct vnode_xprt_dev - client-side per-ib_device cache
 * @ref: one reference per connected client queue
 * @entry: in vnode_xprt_dev_list
 * @ibdev: the RDMA device
 * @pd: protection domain shared by every client queue on @ibdev
 *	(allocated with flags 0: only local_dma_lkey, never a global rkey)
 */
struct vnode_xprt_dev {
	struct kref		ref;
	struct list_head	entry;
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
};

/* Client queue flags (bit numbers in vnode_xprt_queue.flags). */
enum {
	VQ_CONNECTED,	/* ESTABLISHED seen: QP reached RTS, drain on stop */
	VQ_LIVE,	/* accepts new RDMA / control posts */
	VQ_KA_PENDING,	/* a keepalive WRITE is posted */
	VQ_REG_RTS,	/* @reg_qp reached RTS: drain it on stop */
};

/**
 * struct vnode_xprt_rx - one pre-posted RECV buffer of a client queue
 * @cqe: completion entry (.done = clt_recv_done)
 * @queue: owning queue
 * @idx: index in the queue's receive ring
 */
struct vnode_xprt_rx {
	struct ib_cqe		cqe;
	struct vnode_xprt_queue	*queue;
	unsigned int		idx;
};

/**
 * struct vnode_xprt_queue - one RC QP of a client
 * @clt: owner
 * @idx: queue_id sent in the hello
 * @flags: VQ_* bits
 * @cm_id: rdma_cm id of the current connection (NULL between attempts)
 * @qp: the QP (owned by us: destroyed with ib_destroy_qp)
 * @reg_qp: registration QP of the commands (NULL without command MRs):
 *	same PD and CQ as @qp, moved to RTS with @qp's connection
 *	attributes, but only REG_MR and LOCAL_INV are ever posted on it, so
 *	it never transmits and never retransmits (see clt_reg_qp_create())
 * @cq: send+recv CQ of @qp and @reg_qp, IB_POLL_SOFTIRQ
 * @dev: device cache entry (PD)
 * @cm_done: completed by the CM handler when a connect attempt ends
 * @cm_error: result of the attempt (0 when ESTABLISHED)
 * @acc: accept data received on this queue
 * @inflight: RDMA operations posted and not yet completed
 * @posting: threads between the VQ_LIVE check and ib_post_send()
 * @rx_buf: @nr_rx receive buffers of VNODE_MSG_MAX bytes
 * @rx_dma: DMA address of @rx_buf (0 when unmapped)
 * @nr_rx: RECVs posted: VNODE_XPRT_CTRL_DEPTH + cfg.cmd_depth
 * @rx: receive ring descriptors
 * @ka_cqe: completion of the keepalive (zero-length RDMA WRITE)
 * @ka_posted: jiffies when the pending keepalive was posted
 * @ctags: cfg.cmd_depth asynchronous command contexts
 * @req_buf: their request buffers (VNODE_MSG_MAX each)
 * @req_dma: DMA address of @req_buf (0 when unmapped)
 */
struct vnode_xprt_queue {
	struct vnode_xprt_clt	*clt;
	unsigned int		idx;
	unsigned long		flags;
	struct rdma_cm_id	*cm_id;
	struct ib_qp		*qp;
	struct ib_qp		*reg_qp;
	struct ib_cq		*cq;
	struct vnode_xprt_dev	*dev;
	struct completion	cm_done;
	int			cm_error;
	struct vnode_accept	acc;
	u8			auth_step;
	u8			auth_slot;
	char			auth_ident[VNODE_AUTH_IDENT_LEN];
	u8			auth_cnonce[VNODE_AUTH_NONCE_LEN];
	u8			auth_snonce[VNODE_AUTH_SNONCE_LEN];
	atomic_t		inflight;
	atomic_t		posting;
	unsigned int		rdma_sge;
	void			*rx_buf;
	u64			rx_dma;
	unsigned int		nr_rx;
	struct vnode_xprt_rx	*rx;
	struct ib_cqe		ka_cqe;
	unsigned long		ka_posted;
	struct vnode_xprt_ctag	*ctags;
	void			*req_buf;
	u64			req_dma;
};

/* vnode_xprt_ctag.flags */
enum {
	CT_REPLY,	/* waiting for the reply (its reference is held) */
	CT_MR,		/* the data buffer is registered with @mr */
};

/* Tags of asynchronous commands have this bit; control calls never. */
#define VNODE_XPRT_CMD_TAG	0x80000000u

/**
 * struct vnode_xprt_ctag - one asynchronous command slot of a client queue
 * @queue: owner
 * @cmd: the owner's command while in flight, else NULL
 * @flags: CT_* bits
 * @ref: SEND completion (held by the REG_MR until it posts the SEND)
 *	+ reply (+ local invalidate)
 * @status: result for cmd->done
 * @mr: FRWR MR of this slot (NULL without data buffers)
 * @nents: DMA-mapped entries of cmd->sgl (0: none mapped)
 * @reg_cqe: REG_MR completion (on the registration QP): posts the SEND
 * @send_cqe: SEND completion
 * @inv_cqe: LOCAL_INV completion (on the registration QP)
 * @sge: SEND gather list: request header + inline data
 */
struct vnode_xprt_ctag {
	struct vnode_xprt_queue	*queue;
	struct vnode_xprt_cmd	*cmd;
	unsigned long		flags;
	atomic_t		ref;
	int			status;
	struct ib_mr		*mr;
	int			nents;
	struct ib_cqe		reg_cqe;
	struct ib_cqe		send_cqe;
	struct ib_cqe		inv_cqe;
	struct ib_sge		sge[1 + VNODE_XPRT_INLINE_SGES];
};

/**
 * struct vnode_xprt_slot - one control RPC in flight
 * @cqe: SEND completion entry
 * @clt: owner
 * @ref: 2 while the SEND is posted (caller + completion), then 1
 * @tag: tag of the current call (low bits are the slot index)
 * @waiting: the caller waits for a reply with @tag
 * @status: 0 when a reply arrived, else -errno
 * @done: completed when @waiting is cleared
 * @ibdev: device @dma belongs to
 * @dma: DMA address of @req while the SEND is posted
 * @req_len: bytes in @req
 * @rsp_len: bytes of the reply copied into @rsp
 * @req: request buffer
 * @rsp: reply buffer
 */
struct vnode_xprt_slot {
	struct ib_cqe		cqe;
	struct vnode_xprt_clt	*clt;
	atomic_t		ref;
	u32			tag;
	bool			waiting;
	int			status;
	struct completion	done;
	struct ib_device	*ibdev;
	u64			dma;
	size_t			req_len;
	size_t			rsp_len;
	u8			req[VNODE_MSG_MAX];
	u8			rsp[VNODE_MSG_MAX];
};

/**
 * struct vnode_xprt_clt - a set of queues to one server
 * @entry: in vnode_xprt_clt_list (ib_client removal walks it)
 * @lock: serializes connect, teardown, reconnect and close
 * @state_lock: protects @state, @reported, @state_lost and @loss_start
 * @state: enum vnode_xprt_state; changed by clt_change_state() only
 * @reported: last state passed to ops->state_change
 * @state_lost: a reconnect found the server without our state; passed to
 *	ops->state_change with the next LIVE, then cleared
 * @closing: close started: works must not re-arm
 * @ops: owner callbacks
 * @priv: owner cookie
 * @cfg: copy of the configuration with defaults filled in
 * @name: object name
 * @peer: "addr:port" of the server
 * @server_id: server_id in the last accept (logs, vnode_xprt_clt_server_id())
 * @acc: accept data of the current connection
 * @loss_start: jiffies when the connection was lost
 * @err_work: tears the queues down after a loss
 * @reconnect_work: one reconnect attempt
 * @ka_work: posts keepalives so an idle connection notices a dead server
 * @ctrl_sem: free control slots
 * @ctrl_lock: protects slot allocation and reply matching
 * @ctrl_map: busy slots
 * @tag_gen: generation counter mixed into tags
 * @slots: control RPC slots
 * @cmd_depth: asynchronous commands per queue on this connection
 * @fabric: the emulated fabric link of the server's host, or NULL
 *	(RCU; set by xprt_fabric.c under its mutex)
 * @held_lock: protects @held and @held_flush
 * @held: completions the fabric holds, in the order they are due
 * @held_timer: fires when the first of @held is due (less @held_slack_ns)
 * @held_slack_ns: how late the timer's callback runs, its running median:
 *	the timer is armed that much early
 * @held_armed_ns: when the timer was last armed to expire (held_lock)
 * @held_flush: close started: nothing more is held
 * @nr_queues: queues
 * @queues: the queues
 */
struct vnode_fabric_link;

struct vnode_xprt_clt {
	struct list_head	entry;
	struct mutex		lock;
	spinlock_t		state_lock;
	enum vnode_xprt_state	state;
	enum vnode_xprt_state	reported;
	bool			state_lost;
	bool			closing;
	const struct vnode_xprt_clt_ops *ops;
	void			*priv;
	struct vnode_xprt_cfg	cfg;
	char			name[VNODE_XPRT_NAME_LEN];
	char			peer[VNODE_XPRT_PEER_LEN];
	u64			server_id;
	struct vnode_accept	acc;
	unsigned long		loss_start;
	struct work_struct	err_work;
	struct delayed_work	reconnect_work;
	struct delayed_work	ka_work;
	struct semaphore	ctrl_sem;
	spinlock_t		ctrl_lock;
	unsigned long		ctrl_map;
	u32			tag_gen;
	struct vnode_xprt_slot	slots[VNODE_XPRT_CTRL_DEPTH];
	unsigned int		cmd_depth;
	struct vnode_fabric_link __rcu *fabric;
	spinlock_t		held_lock;
	struct list_head	held;
	struct hrtimer		held_timer;
	u64			held_slack_ns;
	u64			held_armed_ns;
	bool			held_flush;
	unsigned int		nr_queues;
	struct vnode_xprt_queue	queues[];
};

#define clt_log(lvl, clt, fmt, ...)					\
	vnode_log_peer(lvl, (clt)->name, (clt)->peer, fmt, ##__VA_ARGS__)

/* Protocol version sent in the hello (a test may ask for another one). */
static inline void clt_proto_version(const struct vnode_xprt_clt *clt,
				     u16 *major, u16 *minor)
{
	*major = VNODE_PROTO_MAJOR;
	*minor = VNODE_PROTO_MINOR;
#ifdef VNODE_TEST_HOOKS
	if (clt->cfg.proto_major) {
		*major = clt->cfg.proto_major;
		*minor = clt->cfg.proto_minor;
	}
#endif
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/* Server queue flags. */
enum {
	SQ_LIVE,	/* accepted: responses and REG_MR may be posted */
	SQ_RELEASING,	/* release work queued */
	SQ_KA_PENDING,	/* a keepalive WRITE is posted */
	SQ_REG,		/* a REG_MR owns the send queue: no keepalives */
};

/**
 * struct vnode_xprt_srx - one RECV buffer of a server queue and the
 *	response buffer paired with it
 * @cqe: RECV completion
 * @send_cqe: completion of the response SEND; reposts the RECV
 * @rw_cqe: completion of an RDMA READ for the owner
 * @queue: owning queue
 * @entry: in peer->req_list while the request waits for req_work
 * @work: runs ops->submit (asynchronous servers)
 * @byte_len: bytes received
 * @idx: index in the ring
 * @buf: receive area (srv->rx_size) followed by the response area
 * @dma: DMA address of @buf (bidirectional)
 * @rw: RDMA READ/WRITE context of the owner's data
 * @rw_sgl: the data's scatterlist while @rw is in use
 * @rw_nents: its entries (0: @rw unused)
 * @rw_dir: its direction
 * @sreq: the owner's view (asynchronous servers)
 */
struct vnode_xprt_srx {
	struct ib_cqe		cqe;
	struct ib_cqe		send_cqe;
	struct ib_cqe		rw_cqe;
	struct vnode_xprt_squeue *queue;
	struct list_head	entry;
	struct work_struct	work;
	u32			byte_len;
	unsigned int		idx;
	void			*buf;
	u64			dma;
	struct rdma_rw_ctx	rw;
	struct scatterlist	*rw_sgl;
	int			rw_nents;
	enum dma_data_direction	rw_dir;
	struct vnode_xprt_sreq	sreq;
};

/**
 * struct vnode_xprt_squeue - one accepted QP
 * @peer: the client it belongs to
 * @cm_id: its rdma_cm id
 * @qp: QP in the peer's PD
 * @cq: CQ (IB_POLL_SOFTIRQ)
 * @flags: SQ_* bits
 * @posting: threads between the SQ_LIVE check and ib_post_*()
 * @entry: in peer->queues
 * @release_work: disconnect, drain, free
 * @queue_id: from the hello
 * @port_num: port of @cm_id (RDMA READ/WRITE contexts)
 * @active: requests handed to ops->submit and not yet replied to
 * @nr_rx: RECVs (srv->depth)
 * @rx: ring descriptors, each with its buffers
 * @ka_cqe: completion of the keepalive (zero-length RDMA WRITE)
 */
struct vnode_xprt_squeue {
	struct vnode_xprt_peer	*peer;
	struct rdma_cm_id	*cm_id;
	struct ib_qp		*qp;
	struct ib_cq		*cq;
	unsigned long		flags;
	atomic_t		posting;
	struct list_head	entry;
	struct work_struct	release_work;
	u16			queue_id;
	u32			port_num;
	atomic_t		active;
	unsigned int		nr_rx;
	struct vnode_xprt_srx	*rx;
	struct ib_cqe		ka_cqe;
};

/**
 * struct vnode_xprt_peer - every queue of one client_id on a server
 * @srv: server
 * @entry: in srv->peers
 * @client_id: from the hello
 * @role: from the hello
 * @minor: protocol minor version, from the hello
 * @name: the client's identity, from the hello (valid: see
 *	vnode_auth_valid_identity())
 * @ident: the same, as the hello carries it (NUL-padded)
 * @addr: "addr:port" of the client
 * @ibdev: device all of its queues use
 * @pd: the peer's own PD: its slab MRs are usable by its queues only
 * @priv: owner's cookie from ops->accept
 * @queues: struct vnode_xprt_squeue list (under srv->lock)
 * @orderly: a GOODBYE went through
 * @dying: device removal or server stop: drop when the queues are gone
 * @dropped: removed from srv->peers; being freed
 * @req_lock: protects @req_list
 * @req_list: received requests waiting for @req_work
 * @req_work: calls ops->request, one request at a time
 * @orphan_work: drops a peer whose queues were lost and did not come back
 * @reg_lock: serializes REG_MR (one REG_MR in flight per peer)
 */
struct vnode_xprt_peer {
	struct vnode_xprt_srv	*srv;
	struct list_head	entry;
	u64			client_id;
	u8			role;
	u16			minor;
	char			name[VNODE_XPRT_NAME_LEN];
	char			ident[VNODE_AUTH_IDENT_LEN];
	char			addr[VNODE_XPRT_PEER_LEN];
	struct ib_device	*ibdev;
	struct ib_pd		*pd;
	void			*priv;
	struct list_head	queues;
	bool			orderly;
	bool			dying;
	bool			dropped;
	spinlock_t		req_lock;
	struct list_head	req_list;
	struct work_struct	req_work;
	struct delayed_work	orphan_work;
	struct mutex		reg_lock;
	struct rw_semaphore	fence;
	u16			nr_queues;
};

/**
 * struct vnode_xprt_srv - a listener and its peers
 * @entry: in vnode_xprt_srv_list
 * @listen_id: listening rdma_cm id (NULL once destroyed)
 * @ops: owner callbacks
 * @priv: owner cookie
 * @name: owner name, for logs
 * @addr: "addr:port" we listen on
 * @lock: protects @peers, peer->queues, @stopping
 * @peers: struct vnode_xprt_peer list
 * @stopping: vnode_xprt_srv_stop() started
 * @wait: woken when a peer is freed
 * @acc_lock: protects @acc
 * @acc: accept data template
 * @orphan_ms: how long a lost peer keeps its PD and the owner's state
 * @ka_work: posts keepalives so the server notices a dead client
 * @depth: RECVs per queue: CTRL_DEPTH + cfg.cmd_depth
 * @rx_size: receive area per RECV: VNODE_MSG_MAX + cfg.inline_size
 */
/*
 * A challenge the server sent (step 2 of the handshake) and waits to see
 * answered, by the same client_id and queue from the same address.
 */
struct srv_challenge {
	struct sockaddr_storage	addr;
	u64			client_id;
	u16			queue_id;
	char			ident[VNODE_AUTH_IDENT_LEN];
	bool			used;
	unsigned long		expires;
	u8			cnonce[VNODE_AUTH_NONCE_LEN];
	u8			snonce[VNODE_AUTH_SNONCE_LEN];
};

/* Challenges outstanding per server; the oldest makes room. */
#define SRV_NR_CHALLENGES	64

/* Connect-rate buckets per server (one per source address, LRU). */
#define SRV_NR_BUCKETS		32
struct srv_bucket {
	struct sockaddr_storage	addr;
	unsigned long		last;		/* jiffies of the last refill */
	unsigned int		tokens;		/* connects left, x HZ */
	bool			used;
};

extern unsigned int vnode_xprt_max_peers;
extern unsigned int vnode_xprt_connect_rate;

struct vnode_xprt_srv {
	struct list_head	entry;
	struct rdma_cm_id	*listen_id;
	const struct vnode_xprt_srv_ops *ops;
	void			*priv;
	char			name[VNODE_XPRT_NAME_LEN];
	char			addr[VNODE_XPRT_PEER_LEN];
	struct mutex		lock;
	struct list_head	peers;
	/* Peers taken off @peers whose srv_peer_free() has not returned. */
	atomic_t		freeing;
	bool			stopping;
	wait_queue_head_t	wait;
	spinlock_t		acc_lock;
	struct vnode_accept	acc;
	unsigned int		orphan_ms;
	struct delayed_work	ka_work;
	unsigned int		depth;
	unsigned int		rx_size;
	struct srv_challenge	chal[SRV_NR_CHALLENGES];
	struct srv_bucket	bucket[SRV_NR_BUCKETS];
};

#define peer_log(lvl, p, fmt, ...)					\
	vnode_log_peer(lvl, (p)->name, (p)->addr, fmt, ##__VA_ARGS__)

/* core */
#ifdef VNODE_FAULT_INJECTION	/* fail_vnode in debugfs (common.h) */
void vnode_fault_init(void);
void vnode_fault_exit(void);
#else
static inline void vnode_fault_init(void) {}
static inline void vnode_fault_exit(void) {}
#endif
struct vnode_xprt_dev *vnode_xprt_dev_get(struct ib_device *ibdev);
void vnode_xprt_dev_put(struct vnode_xprt_dev *dev);
int vnode_xprt_status_errno(u16 status);
const char *vnode_xprt_status_str(u16 status);

/* xprt_auth.c: the cluster key and the handshake's MACs */
#define VNODE_AUTH_CURRENT	0
#define VNODE_AUTH_PREVIOUS	1
#define VNODE_AUTH_NR_SLOTS	2
int vnode_auth_init(void);
void vnode_auth_exit(void);
bool vnode_auth_insecure(void);
bool vnode_auth_has_key(void);
bool vnode_auth_can_serve(void);
void vnode_auth_identity(char ident[VNODE_AUTH_IDENT_LEN]);
bool vnode_auth_valid_identity(const char ident[VNODE_AUTH_IDENT_LEN]);
bool vnode_auth_key_slot_used(unsigned int slot);
int vnode_auth_hmac(unsigned int slot, const char *ident, const char *label,
		    const struct kvec *parts, unsigned int nr,
		    u8 out[VNODE_AUTH_HMAC_LEN]);
int vnode_auth_hello_mac(unsigned int slot, const char *label,
			 const struct vnode_hello *hello, const u8 *cnonce,
			 const u8 *snonce, u8 out[VNODE_AUTH_HMAC_LEN]);
int vnode_auth_accept_mac(unsigned int slot, const char *ident,
			  const struct vnode_accept *acc,
			  const u8 *cnonce, const u8 *snonce,
			  u8 out[VNODE_AUTH_MAC_LEN]);

/* client */
int vnode_xprt_clt_init(void);
void vnode_xprt_clt_exit(void);
void vnode_xprt_clt_remove_dev(struct ib_device *ibdev);

/* xprt_clt.c, for the command path */
bool clt_queue_error(struct vnode_xprt_queue *q, const char *why);

/* xprt_clt_cmd.c: the asynchronous command path */
int clt_cmds_alloc(struct vnode_xprt_queue *q);
int clt_cmds_init_ib(struct vnode_xprt_queue *q);
void clt_cmds_free_ib(struct vnode_xprt_queue *q);
void clt_set_cmd_depth(struct vnode_xprt_clt *clt);
void clt_cmd_reply(struct vnode_xprt_queue *q, struct ib_wc *wc,
		   const struct vnode_msg_hdr *hdr, u32 len);
void clt_cmds_abort(struct vnode_xprt_queue *q);

/* server */
/* Fabric emulation (xprt_fabric.c). */
struct config_group;
struct config_group *vnode_fabric_group(void);
void vnode_xprt_clt_for_each(void (*fn)(struct vnode_xprt_clt *clt, void *arg),
			     void *arg);
void vnode_fabric_clt_init(struct vnode_xprt_clt *clt);
void vnode_fabric_bind(struct vnode_xprt_clt *clt);
void __vnode_fabric_post(struct vnode_xprt_clt *clt, struct vnode_xprt_hold *h,
			 bool write, u32 bytes);
bool __vnode_fabric_hold(struct vnode_xprt_clt *clt, struct vnode_xprt_hold *h,
			 int error, void (*fire)(struct vnode_xprt_hold *h));
void vnode_fabric_flush(struct vnode_xprt_clt *clt);

/* A fabric link applies to @clt now. */
static inline bool vnode_fabric_on(struct vnode_xprt_clt *clt)
{
	return unlikely(rcu_access_pointer(clt->fabric));
}

/*
 * Before posting an operation of @bytes: what the fabric adds to it.
 * h->on must be false when no link applies (a caller whose @bytes costs
 * something to count tests vnode_fabric_on() first).
 */
static inline void vnode_fabric_post(struct vnode_xprt_clt *clt,
				     struct vnode_xprt_hold *h, bool write,
				     u32 bytes)
{
	h->on = false;
	if (vnode_fabric_on(clt))
		__vnode_fabric_post(clt, h, write, bytes);
}

/*
 * At its completion with @error: true when the fabric holds it (h->fire
 * reports it, successful, later), false when the caller completes it now
 * (failures always).
 */
static inline bool vnode_fabric_hold(struct vnode_xprt_clt *clt,
				     struct vnode_xprt_hold *h, int error,
				     void (*fire)(struct vnode_xprt_hold *h))
{
	if (likely(!h->on))
		return false;
	return __vnode_fabric_hold(clt, h, error, fire);
}

int vnode_xprt_srv_init(void);
void vnode_xprt_srv_exit(void);
void vnode_xprt_srv_remove_dev(struct ib_device *ibdev);

#endif /* VNODE_XPRT_PRIV_H */
