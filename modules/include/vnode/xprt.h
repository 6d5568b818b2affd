/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnode_xprt: the RDMA transport shared by every vnode role.
 *
 * A small opaque API in the style of rtrs: a *client* (struct vnode_xprt_clt)
 * is a set of RC queue pairs to one server, with control RPCs (SEND/RECV)
 * and one-sided RDMA READ/WRITE of pages; a *server*
 * (struct vnode_xprt_srv) listens with rdma_cm and hands decoded control
 * requests to its owner.  Connection loss is handled inside: a client
 * reconnects with bounded retries and reports state changes; after
 * loss_timeout_ms without success it goes DEAD and fails new I/O.
 *
 * Contexts:
 *  - vnode_xprt_clt_open/close/call and vnode_xprt_srv_* may sleep.
 *  - vnode_xprt_clt_rdma() may be called from any context (blk-mq
 *    queue_rq included); it never sleeps.
 *  - io->done() runs in CQ context (softirq); it must not sleep.
 *  - ops->state_change() runs from a workqueue; it may sleep briefly but
 *    must not call vnode_xprt_clt_close() on the same client.
 *
 * Fabric emulation: a link in configfs (vnode_xprt/fabric/NAME) whose addr
 * is a client's server host adds latency, jitter and a bandwidth cap to
 * that client's data path (RDMA READ/WRITE and commands; control calls
 * are not delayed).  A completion is held until it is due (one soft
 * hrtimer per client) and then reported as usual, in softirq context;
 * vnode_xprt_clt_close() reports every held one at once.
 */
#ifndef VNODE_XPRT_H
#define VNODE_XPRT_H

#include <linux/bvec.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <rdma/ib_verbs.h>
#include <vnode/common.h>
#include <vnode/proto.h>

/**
 * enum vnode_xprt_state - life cycle of a client connection set
 *
 * Legal transitions (any other is refused by the transport):
 * CONNECTING -> LIVE, LIVE -> RECONNECTING, RECONNECTING -> LIVE,
 * RECONNECTING -> DEAD, and every state but CLOSED -> CLOSED.
 *
 * @VNODE_XPRT_CONNECTING: first connect in progress
 * @VNODE_XPRT_LIVE: every queue is connected; I/O flows
 * @VNODE_XPRT_RECONNECTING: a queue was lost; I/O is refused with -EAGAIN
 *	while the transport reconnects
 * @VNODE_XPRT_DEAD: reconnect gave up (loss timeout); I/O fails with
 *	-ENOTCONN.  Terminal until close.
 * @VNODE_XPRT_CLOSED: closed by the owner.  Terminal.
 */
enum vnode_xprt_state {
	VNODE_XPRT_CONNECTING,
	VNODE_XPRT_LIVE,
	VNODE_XPRT_RECONNECTING,
	VNODE_XPRT_DEAD,
	VNODE_XPRT_CLOSED,
};

#define vnode_xprt_state_name(s)				\
	__print_symbolic(s,					\
		{ VNODE_XPRT_CONNECTING,	"CONNECTING" },	\
		{ VNODE_XPRT_LIVE,		"LIVE" },	\
		{ VNODE_XPRT_RECONNECTING,	"RECONNECTING" },\
		{ VNODE_XPRT_DEAD,		"DEAD" },	\
		{ VNODE_XPRT_CLOSED,		"CLOSED" })

const char *vnode_xprt_state_str(enum vnode_xprt_state s);

/**
 * struct vnode_xprt_cfg - how to open a client or a server
 * @addr: server address (client) or listen address (server); IPv4 or IPv6
 * @role: enum vnode_role sent in the hello (client only)
 * @client_id: id shared by every queue of this client (client only)
 * @name: object name for logs and the hello, e.g. "vnmem0"
 * @nr_queues: queue pairs to open; 0 picks min(num_online_cpus(), 4)
 * @queue_depth: RDMA operations in flight per queue; 0 picks 128
 * @connect_timeout_ms: one connect attempt; 0 picks 3000
 * @reconnect_delay_ms: delay between reconnect attempts; 0 picks 500
 * @loss_timeout_ms: give up reconnecting after this long; 0 picks 10000.
 *	Server: how long a peer whose queues were all lost without GOODBYE
 *	keeps its PD (and the owner its state, e.g. slabs) so that the same
 *	client_id can reconnect and find them; 0 picks 10000.
 * @proto_major: testing only (VNODE_TEST_HOOKS builds): with
 *	@proto_minor, the protocol version sent in the hello; 0 picks
 *	VNODE_PROTO_MAJOR.VNODE_PROTO_MINOR (client only)
 * @proto_minor: testing only: see @proto_major
 * @cmd_depth: client: asynchronous commands (vnode_xprt_clt_submit())
 *	per queue, 0 for none; capped by what the server accepts
 *	(vnode_accept.max_inflight - VNODE_XPRT_CTRL_DEPTH).  Server:
 *	requests in flight per queue on top of the control depth, i.e.
 *	RECVs posted per queue = VNODE_XPRT_CTRL_DEPTH + @cmd_depth.
 * @max_fr_pages: client: pages one command's data buffer may span (an
 *	FRWR MR of that size per command); 0 without data buffers
 * @inline_size: server: data bytes a request may carry after its
 *	VNODE_MSG_MAX header area (RECV buffers grow by this); client:
 *	ignored (the owner decides, up to the server's value)
 * @rw_split: client: RDMA READs (vnode_xprt_clt_rdma_pages() reads) go on
 *	the first half of the queues and WRITEs on the second, so a swap-in
 *	never waits in a send queue behind a write-back; @nr_queues 0 then
 *	picks twice the default, and an explicit @nr_queues must be >= 2
 */
struct vnode_xprt_cfg {
	struct sockaddr_storage	addr;
	enum vnode_role		role;
	u64			client_id;
	const char		*name;
	unsigned int		nr_queues;
	unsigned int		queue_depth;
	unsigned int		connect_timeout_ms;
	unsigned int		reconnect_delay_ms;
	unsigned int		loss_timeout_ms;
#ifdef VNODE_TEST_HOOKS
	u16			proto_major;
	u16			proto_minor;
#endif
	unsigned int		cmd_depth;
	unsigned int		max_fr_pages;
	unsigned int		inline_size;
	bool			rw_split;
};

/* Most queues of one client (nr_queues). */
#define VNODE_XPRT_MAX_QUEUES	16
/* Largest server inline_size. */
#define VNODE_XPRT_MAX_INLINE	(16 * 1024)
/* Largest cmd_depth (client and server). */
#define VNODE_XPRT_MAX_CMD_DEPTH	256
/* Data segments a command may send inline (after its header). */
#define VNODE_XPRT_INLINE_SGES	3

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

struct vnode_xprt_clt;
struct vnode_xprt_queue;

/**
 * struct vnode_xprt_clt_ops - owner callbacks of a client
 * @state_change: the state moved from @old to @new (changes that happened
 *	in quick succession may be reported as one).  @lost is true only
 *	with @new LIVE, after a reconnect to a server that no longer holds
 *	this client's state: it restarted (another server_id), or it dropped
 *	the client because it stayed away longer than the server's grace
 *	period.  Every slab, open volume or other object the owner had on
 *	that server is gone and must be set up again.  Each loss is
 *	reported once, with the first LIVE after it.
 */
struct vnode_xprt_clt_ops {
	void (*state_change)(struct vnode_xprt_clt *clt,
			     enum vnode_xprt_state old,
			     enum vnode_xprt_state new, bool lost,
			     void *priv);
};

/*
 * Open every queue to the server and wait until all are LIVE or the
 * connect timeout passes.  Returns the client or an ERR_PTR:
 *   -ETIMEDOUT / -EHOSTUNREACH / -ECONNREFUSED  server not reachable
 *   -EPROTO        server speaks another protocol major version
 *   -ENOSPC        server rejected us because it is full
 *   -EINVAL        bad cfg
 * On rejection the reason is also logged.  @acc receives the server's
 * accept data (capacity, slab_shift, server_id) and may be NULL.
 */
struct vnode_xprt_clt *vnode_xprt_clt_open(const struct vnode_xprt_cfg *cfg,
					   const struct vnode_xprt_clt_ops *ops,
					   void *priv,
					   struct vnode_accept *acc);
/* Send GOODBYE when LIVE, drain every queue, free.  Sleeps. */
void vnode_xprt_clt_close(struct vnode_xprt_clt *clt);

enum vnode_xprt_state vnode_xprt_clt_state(struct vnode_xprt_clt *clt);
/* "addr:port" of the server, stable for the client's lifetime. */
const char *vnode_xprt_clt_peer(struct vnode_xprt_clt *clt);
/*
 * server_id of the last accept, for logs and display.  Whether the server
 * kept this client's state is reported by ops->state_change (@lost).
 */
u64 vnode_xprt_clt_server_id(struct vnode_xprt_clt *clt);

/*
 * Control RPC: fills in req->magic, tag and len, sends @req (req_len
 * bytes, <= VNODE_MSG_MAX), waits for the reply with the same tag and
 * copies at most rsp_len bytes into @rsp.  Returns 0 when a reply
 * arrived (its hdr.status is the server's verdict), -ETIMEDOUT,
 * -ENOTCONN, -EPROTO (malformed reply) or -EINTR.  Sleeps.
 */
int vnode_xprt_clt_call(struct vnode_xprt_clt *clt, struct vnode_msg_hdr *req,
			size_t req_len, struct vnode_msg_hdr *rsp,
			size_t rsp_len, unsigned int timeout_ms);

/* Most pages (bio_vecs) one vnode_xprt_clt_rdma_pages() op moves. */
#define VNODE_XPRT_IO_MAX_PAGES	16

/**
 * struct vnode_xprt_hold - private to vnode_xprt: a completion that an
 *	emulated fabric (configfs vnode_xprt/fabric, xprt_fabric.c) holds
 *	back until it is due
 * @entry: in the client's list of held completions
 * @fire: completes the owner's object (successfully: failures are not held)
 * @post_ns: when the operation was posted
 * @bw_done_ns: when the link's bandwidth cap lets its data through
 * @lat_ns: added latency (delay, per-KiB term and jitter)
 * @due_ns: when it is reported
 * @bytes: data moved
 * @on: a fabric applied when the operation was posted
 * @write: data went to the server
 */
struct vnode_xprt_hold {
	struct list_head	entry;
	void			(*fire)(struct vnode_xprt_hold *h);
	u64			post_ns;
	u64			bw_done_ns;
	u64			lat_ns;
	u64			due_ns;
	u32			bytes;
	bool			on;
	bool			write;
};

/**
 * struct vnode_xprt_io - one in-flight RDMA READ or WRITE of a page range
 * @done: completion callback, CQ (softirq) context; @error is 0 or -EIO
 *	(-ENOTCONN if the queue was torn down before the op completed).
 * @priv: owner's cookie
 *
 * The remaining fields are the transport's; the owner embeds this struct
 * (e.g. in its blk-mq pdu) and must not touch it until @done ran.
 */
struct vnode_xprt_io {
	void			(*done)(struct vnode_xprt_io *io, int error);
	void			*priv;
	/* private to vnode_xprt */
	struct ib_cqe		cqe;
	struct vnode_xprt_queue	*queue;
	enum dma_data_direction	dma_dir;
	unsigned int		nr_sge;
	struct ib_sge		sge[VNODE_XPRT_IO_MAX_PAGES];
	struct vnode_xprt_hold	hold;
};

/*
 * Post one RDMA READ (@write false: remote -> pages) or WRITE (@write
 * true: pages -> remote) between the @nr buffers of @bv, in order, and
 * the contiguous remote range at @raddr/@rkey: one work request with one
 * SGE per buffer, so @nr must not exceed vnode_xprt_clt_max_pages().
 * The queue is chosen by the current CPU.  Never sleeps.  Returns 0 (then
 * io->done is called exactly once), -EAGAIN (queue full or reconnecting:
 * retry later), -ENOTCONN (DEAD/CLOSED), -EINVAL (more buffers than the
 * device takes) or -EIO (DMA mapping failed).
 */
int vnode_xprt_clt_rdma_pages(struct vnode_xprt_clt *clt, bool write,
			      const struct bio_vec *bv, unsigned int nr,
			      u64 raddr, u32 rkey, struct vnode_xprt_io *io);

/* The same for one buffer: @len bytes at @page+@offset. */
int vnode_xprt_clt_rdma(struct vnode_xprt_clt *clt, bool write,
			struct page *page, unsigned int offset,
			unsigned int len, u64 raddr, u32 rkey,
			struct vnode_xprt_io *io);

/*
 * Buffers one vnode_xprt_clt_rdma_pages() takes on this connection:
 * VNODE_XPRT_IO_MAX_PAGES, or fewer when the RDMA device's max_send_sge
 * is smaller.  Valid once the client was LIVE.
 */
unsigned int vnode_xprt_clt_max_pages(struct vnode_xprt_clt *clt);

/**
 * struct vnode_xprt_cmd - one asynchronous command (request + reply) with
 *	an optional data buffer that the *server* reads or writes with RDMA
 * @done: the reply arrived (@error 0, the reply is in @rsp, at most
 *	@rsp_len bytes, and the data buffer is no longer accessible to the
 *	server), or the command failed: -ENOTCONN (queue lost before a
 *	reply; the owner may resubmit later), -EIO.  CQ (softirq) context.
 * @priv: owner's cookie
 * @rsp: reply buffer (owner's)
 * @rsp_len: its size
 * @sgl: data buffer, or NULL; DMA-mapped by the transport
 * @nents: entries of @sgl
 * @to_server: the server reads the buffer (a write command); else it
 *	writes it
 * @inline_data: send the buffer inside the request message instead of
 *	registering it (at most the server's inline size, at most
 *	VNODE_XPRT_INLINE_SGES entries; @to_server only)
 * @hold: private to vnode_xprt
 */
struct vnode_xprt_cmd {
	void			(*done)(struct vnode_xprt_cmd *cmd, int error);
	void			*priv;
	struct vnode_msg_hdr	*rsp;
	size_t			rsp_len;
	struct scatterlist	*sgl;
	int			nents;
	bool			to_server;
	bool			inline_data;
	struct vnode_xprt_hold	hold;
};

/*
 * Send @req (@req_len <= VNODE_MSG_MAX bytes) as command @tag (unique
 * among the commands in flight on queue @qid, < vnode_xprt_clt_cmd_depth())
 * on queue @qid.  When @cmd has a registered data buffer, the transport
 * registers it (FRWR, a fresh rkey), writes its address, rkey and length
 * to @desc (which must point into @req) before sending, and makes sure it
 * is invalidated (by the server's SEND with invalidate, or a local
 * invalidate) before cmd->done runs.  Never sleeps.  Returns 0 (then
 * cmd->done is called exactly once), -EAGAIN (reconnecting), -ENOTCONN
 * (DEAD/CLOSED), -EINVAL or -EIO (mapping failed).
 */
int vnode_xprt_clt_submit(struct vnode_xprt_clt *clt, unsigned int qid,
			  unsigned int tag, struct vnode_xprt_cmd *cmd,
			  struct vnode_msg_hdr *req, size_t req_len,
			  struct vnode_sgl *desc);
/*
 * Error recovery, as nvme-rdma resets its controller: the owner saw
 * queue @qid misbehave on a LIVE connection (e.g. a command without a
 * reply past its timeout).  The queue is failed as if the connection had
 * been lost, so every queue is torn down: commands in flight complete
 * with -ENOTCONN (the owner resubmits them after the reconnect), control
 * calls fail, the state goes RECONNECTING and the client reconnects (to
 * the same server state if the server kept it, else ops->state_change
 * reports LIVE with @lost), bounded by the loss timeout as after any
 * loss.  @why is logged.
 * Returns true if this started a recovery, false if the client was not
 * LIVE (one is already running, or it is DEAD/CLOSED).  Any context.
 */
bool vnode_xprt_clt_reset_queue(struct vnode_xprt_clt *clt, unsigned int qid,
				const char *why);
/* Commands per queue (0 when the client has none or is not connected). */
unsigned int vnode_xprt_clt_cmd_depth(struct vnode_xprt_clt *clt);
unsigned int vnode_xprt_clt_nr_queues(struct vnode_xprt_clt *clt);

/* ------------------------------------------------------------------ */
/* Server side                                                         */
/* ------------------------------------------------------------------ */

struct vnode_xprt_srv;
/* All queues of one client_id on one server: they share one PD. */
struct vnode_xprt_peer;
struct vnode_xprt_sreq;

/**
 * struct vnode_xprt_srv_ops - owner callbacks of a server
 * @accept: a new client (first queue of a client_id) asks to connect.
 *	Return VNODE_ST_OK to accept (and set *peer_priv), or a
 *	enum vnode_status to reject with that reason.  May sleep.
 * @request: one control request from @peer.  Fill @rsp (hdr.op, status and
 *	the body; the transport sets magic, tag, flags and len from
 *	*rsp_len) and return.  Runs in process context (workqueue), one at
 *	a time per peer.
 * @submit: optional; replaces @request: called for every request of any
 *	peer in process context (an unbound workqueue, many at once, also
 *	several of one peer).  The owner answers later, from any context,
 *	with vnode_xprt_sreq_reply(), exactly once.
 * @disconnect: every queue of @peer is gone (GOODBYE, loss, or server
 *	shutdown).  @orderly is true after GOODBYE.  After this returns the
 *	PD of the peer is released, so the owner must have deregistered
 *	every MR it made with vnode_xprt_peer_reg_mr().
 */
struct vnode_xprt_srv_ops {
	int (*accept)(struct vnode_xprt_peer *peer,
		      const struct vnode_hello *hello, void **peer_priv);
	void (*request)(struct vnode_xprt_peer *peer, void *peer_priv,
			const struct vnode_msg_hdr *req, size_t req_len,
			struct vnode_msg_hdr *rsp, size_t *rsp_len);
	void (*submit)(struct vnode_xprt_peer *peer, void *peer_priv,
		       struct vnode_xprt_sreq *sreq);
	void (*disconnect)(struct vnode_xprt_peer *peer, void *peer_priv,
			   bool orderly);
};

/*
 * Listen on cfg->addr.  @acc is the accept data template (capacity,
 * slab_shift, server_id); the transport fills magic/version.  Returns
 * the server or an ERR_PTR (-EADDRINUSE, -EADDRNOTAVAIL, -EINVAL).
 */
struct vnode_xprt_srv *vnode_xprt_srv_listen(const struct vnode_xprt_cfg *cfg,
					     const struct vnode_xprt_srv_ops *ops,
					     void *priv,
					     const struct vnode_accept *acc);
/* Update capacity/used advertised to future clients. */
void vnode_xprt_srv_set_usage(struct vnode_xprt_srv *srv, u64 capacity,
			      u64 used);
/* Disconnect every peer (their @disconnect runs), stop listening, free. */
void vnode_xprt_srv_stop(struct vnode_xprt_srv *srv);

const char *vnode_xprt_peer_addr(struct vnode_xprt_peer *peer);
u64 vnode_xprt_peer_client_id(struct vnode_xprt_peer *peer);

/*
 * Register @sgl (@nents, DMA-mapped by the transport) for remote
 * READ/WRITE by this peer only: a fast-registration MR in the peer's own
 * PD, posted on one of its queues.  Returns the MR (mr->iova, mr->length,
 * mr->rkey describe it) or an ERR_PTR.  Sleeps.
 */
struct ib_mr *vnode_xprt_peer_reg_mr(struct vnode_xprt_peer *peer,
				     struct scatterlist *sgl, int nents);
/* Invalidate and free an MR from vnode_xprt_peer_reg_mr().  Sleeps. */
void vnode_xprt_peer_dereg_mr(struct vnode_xprt_peer *peer, struct ib_mr *mr,
			      struct scatterlist *sgl, int nents);

/**
 * struct vnode_xprt_sreq - one received request (asynchronous servers)
 * @peer: sender
 * @req: the request, @req_len bytes (header, body and any inline data)
 * @req_len: bytes
 * @rsp: the reply buffer (VNODE_MSG_MAX bytes, zeroed, hdr.op set); the
 *	transport fills magic, tag, flags and len
 * @priv: owner's
 * @rdma_done: completion of vnode_xprt_sreq_rdma_read(): @error 0 or
 *	-EIO/-ENOTCONN (the queue is gone: reply anyway, it is dropped).
 *	CQ (softirq) context.
 * @reply_done: the reply was sent (or dropped with its queue): every
 *	buffer given to the transport for this request is free again.
 *	CQ context or the caller's.
 */
struct vnode_xprt_sreq {
	struct vnode_xprt_peer	*peer;
	const struct vnode_msg_hdr *req;
	size_t			req_len;
	struct vnode_msg_hdr	*rsp;
	void			*priv;
	void			(*rdma_done)(struct vnode_xprt_sreq *sreq,
					     int error);
	void			(*reply_done)(struct vnode_xprt_sreq *sreq);
};

/*
 * RDMA READ the client's buffer at @raddr/@rkey into @sgl (@nents,
 * DMA-mapped by the transport; its length is the transfer's) on the queue the request came in on;
 * sreq->rdma_done runs when it completed.  Never sleeps.  0, or -ENOTCONN
 * (queue gone), -ENOMEM/-EIO (then rdma_done is not called).  A bad rkey
 * from the client fails the queue (remote access error).
 */
int vnode_xprt_sreq_rdma_read(struct vnode_xprt_sreq *sreq,
			      struct scatterlist *sgl, int nents, u64 raddr,
			      u32 rkey);
/*
 * Send the reply (@rsp_len bytes of sreq->rsp), invalidating the client's
 * @inv_rkey with it when non-zero.  With @sgl (@nents), first RDMA WRITE
 * it to @raddr/@rkey (posted together with the reply).
 * Never sleeps; sreq->reply_done runs exactly once afterwards.
 */
void vnode_xprt_sreq_reply(struct vnode_xprt_sreq *sreq, size_t rsp_len,
			   u32 inv_rkey, struct scatterlist *sgl, int nents,
			   u64 raddr, u32 rkey);

/*
 * Fencing, as NVMe's TP4129 asks of a controller: a command of a queue
 * the client has given up on (it reset or reconnected) must not change
 * anything after the client's newer commands did.  An asynchronous
 * server brackets the step that makes a command's effect durable (e.g.
 * the backing-store write) with these.  begin returns false, and the
 * owner must skip the step, when the request's queue is no longer live;
 * otherwise the transport does not let the client's reconnected queues
 * in until end ran (they are refused with VNODE_ST_BUSY and retry).
 * Sleeps; not nested.
 */
bool vnode_xprt_sreq_begin_commit(struct vnode_xprt_sreq *sreq);
void vnode_xprt_sreq_end_commit(struct vnode_xprt_sreq *sreq);

#ifdef VNODE_TEST_HOOKS
/*
 * Testing only (VNODE_TEST_HOOKS builds): answer nothing, as if the reply
 * were lost on the wire.  Instead of vnode_xprt_sreq_reply(): the
 * request's buffers are released (sreq->reply_done runs) and its receive
 * buffer takes new requests; the client waits for the reply until its own
 * timeout.  Never sleeps.
 */
void vnode_xprt_sreq_drop(struct vnode_xprt_sreq *sreq);
#endif

/* enum vnode_role from the peer's hello. */
u8 vnode_xprt_peer_role(struct vnode_xprt_peer *peer);
/*
 * Protocol minor version from the peer's hello (its major is ours: other
 * majors are rejected at connect).  What the peer may ask for depends on
 * it, e.g. storage commands need VNODE_STOR_MIN_MINOR.
 */
u16 vnode_xprt_peer_proto_minor(struct vnode_xprt_peer *peer);
/* Client object name from the peer's hello (e.g. "vnmem0"). */
const char *vnode_xprt_peer_name(struct vnode_xprt_peer *peer);

/*
 * Smallest max_fast_reg_page_list_len of the RDMA devices present, i.e.
 * the most pages one vnode_xprt_peer_reg_mr() can cover on any of them;
 * 0 when there is no device yet.
 */
unsigned int vnode_xprt_max_fr_pages(void);

#endif /* VNODE_XPRT_H */
