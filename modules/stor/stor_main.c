// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_stor: storage host.
 *
 *   insmod vnode_stor.ko backing=/srv/vols [addr=0.0.0.0] [port=7471]
 *   mkdir /sys/kernel/config/vnode_stor/volumes/v0
 *   echo 256M > .../v0/size; echo 10.0.0.1 > .../v0/client
 *   echo 1 > .../v0/enable
 *
 * A process host's vnode_vol connects (role VNODE_ROLE_STOR) and opens
 * the volume by name; only the configured client address may.  Data
 * moves like NVMe-oF: the client registers its buffer per command and
 * this host RDMA READs (writes) or RDMA WRITEs (reads) it, many commands
 * of a client at once (docs/storage.md).
 */
#include "stor.h"

#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/inet.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <vnode/version.h>

static char *stor_addr = "0.0.0.0";
module_param_named(addr, stor_addr, charp, 0444);
MODULE_PARM_DESC(addr, "Listen address (default 0.0.0.0)");

static ushort stor_port = VNODE_STOR_PORT;
module_param_named(port, stor_port, ushort, 0444);
MODULE_PARM_DESC(port, "Listen port (default 7471)");

static char *stor_backing_path;
module_param_named(backing, stor_backing_path, charp, 0444);
MODULE_PARM_DESC(backing,
		 "Backing store: a directory (one file per volume) or a block device (one extent per volume); required (default none)");

static unsigned int stor_depth = 64;
module_param_named(queue_depth, stor_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth,
		 "I/O commands in flight per client queue (default 64, at most 128)");

static unsigned int stor_orphan_ms = 10000;
module_param_named(orphan_timeout_ms, stor_orphan_ms, uint, 0444);
MODULE_PARM_DESC(orphan_timeout_ms,
		 "Keep the open volume of a client lost without GOODBYE this long so it can reconnect to it (default 10000)");

static bool stor_keep_on_rmdir;
module_param_named(keep_on_rmdir, stor_keep_on_rmdir, bool, 0644);
MODULE_PARM_DESC(keep_on_rmdir,
		 "rmdir of a volume keeps its data on the backing store, e.g. for a planned module reload; the same name, client and size reopen it (default N: rmdir deletes the volume)");

DEFINE_MUTEX(stor_lock);
static LIST_HEAD(stor_vols);
static struct vnode_xprt_srv *stor_srv;
static struct workqueue_struct *stor_wq;

/* ------------------------------------------------------------------ */
/* Server callbacks                                                    */
/* ------------------------------------------------------------------ */

static struct stor_vol *stor_vol_find(const char *name)
{
	struct stor_vol *vol;

	list_for_each_entry(vol, &stor_vols, entry)
		if (!strcmp(vol->name, name))
			return vol;
	return NULL;
}

static int stor_accept(struct vnode_xprt_peer *peer,
		       const struct vnode_hello *hello, void **peer_priv)
{
	const char *addr = vnode_xprt_peer_addr(peer);
	struct stor_peer *sp;

	if (hello->role != VNODE_ROLE_STOR && hello->role != VNODE_ROLE_PROBE) {
		vnode_log(warn, addr,
			  "rejected: role %u is not served by a storage host\n",
			  hello->role);
		return VNODE_ST_INVALID;
	}
	sp = vnode_fault(kzalloc(sizeof(*sp), GFP_KERNEL));
	if (!sp)
		return VNODE_ST_NOMEM;
	sp->peer = peer;
	if (vnode_xprt_parse_addr(addr, 0, &sp->client)) {
		vnode_log(warn, addr, "rejected: cannot parse its address\n");
		kfree(sp);
		return VNODE_ST_INVALID;
	}
	*peer_priv = sp;
	return VNODE_ST_OK;
}

static u16 stor_open(struct stor_peer *sp, const struct vnode_stor_open_req *req,
		     struct vnode_stor_open_rsp *rsp)
{
	char name[VNODE_STOR_NAME_LEN];
	struct stor_vol *vol;
	u16 st = VNODE_ST_OK;
	unsigned int i;

	memcpy(name, req->volume, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	/* It goes to the log: printable ASCII only (no such volume then). */
	for (i = 0; name[i]; i++)
		if (!isprint(name[i]))
			name[i] = '?';
	if (vnode_xprt_peer_role(sp->peer) != VNODE_ROLE_STOR)
		return VNODE_ST_PERM;
	/* One version scheme: the client's hello says what it speaks. */
	if (vnode_xprt_peer_proto_minor(sp->peer) < VNODE_STOR_MIN_MINOR) {
		vnode_log(warn, vnode_xprt_peer_addr(sp->peer),
			  "OPEN %s refused: client speaks protocol %u.%u, storage needs %u.%u or later\n",
			  name, VNODE_PROTO_MAJOR,
			  vnode_xprt_peer_proto_minor(sp->peer),
			  VNODE_PROTO_MAJOR, VNODE_STOR_MIN_MINOR);
		return VNODE_ST_VERSION;
	}

	mutex_lock(&stor_lock);
	vol = stor_vol_find(name);
	if (!vol || !READ_ONCE(vol->enabled)) {
		vnode_log(warn, vnode_xprt_peer_addr(sp->peer),
			  "OPEN %s: no such enabled volume\n", name);
		st = VNODE_ST_NOENT;
		goto out_unlock;
	}
	if (!vnode_addr_same_host(&vol->client, &sp->client)) {
		vlog(warn, vol, "OPEN from %s refused: exported to %s only\n",
		     vnode_xprt_peer_addr(sp->peer), vol->client_str);
		st = VNODE_ST_PERM;
		goto out_unlock;
	}
	/*
	 * The volume belongs to an identity: the one its admin set, or
	 * else the first to open it.  A takeover needs the same identity.
	 */
	if (!vol->owner[0]) {
		strscpy(vol->owner, vnode_xprt_peer_name(sp->peer),
			sizeof(vol->owner));
		vlog(info, vol, "owned by identity %s from now on (its first opener)\n",
		     vol->owner);
		if (stor_backing_set_owner(vol))
			vlog(err, vol, "cannot record owner %s in the volume table: a storage host reload lets the next opener claim it\n",
			     vol->owner);
	} else if (strcmp(vol->owner, vnode_xprt_peer_name(sp->peer))) {
		vlog(warn, vol, "OPEN from %s refused: identity %s, the volume belongs to %s\n",
		     vnode_xprt_peer_addr(sp->peer),
		     vnode_xprt_peer_name(sp->peer), vol->owner);
		st = VNODE_ST_PERM;
		goto out_unlock;
	}
	if (sp->vol && sp->vol != vol) {
		st = VNODE_ST_INVALID;
		goto out_unlock;
	}
	if (vol->peer && vol->peer != sp) {
		/*
		 * Only the owner gets here: its previous connection set
		 * is going away (GOODBYE still in progress) or was lost
		 * (the process host restarted).  The new one takes over; the
		 * old one's commands fail with VNODE_ST_NOENT from now on.
		 */
		vlog(info, vol, "%s (%s) takes over from %s (%s)\n",
		     vnode_xprt_peer_addr(sp->peer),
		     vnode_xprt_peer_name(sp->peer),
		     vnode_xprt_peer_addr(vol->peer->peer),
		     vnode_xprt_peer_name(vol->peer->peer));
		WRITE_ONCE(vol->peer->vol, NULL);
		vol->peer = NULL;
		/*
		 * Fence: the old connection's commands still running may
		 * not land after the new owner's.  Wait until they are all
		 * done (only the enable reference is left).
		 */
		if (!wait_event_timeout(vol->io_wait,
					atomic_read(&vol->io_ref) <= 1,
					STOR_FENCE_TIMEOUT)) {
			vlog(warn, vol, "takeover by %s: the old connection's commands are still running, try again\n",
			     vnode_xprt_peer_addr(sp->peer));
			st = VNODE_ST_SHUTDOWN;
			goto out_unlock;
		}
	}
	if (!sp->vol)
		vlog(info, vol, "opened by %s (%s), queue depth %u\n",
		     vnode_xprt_peer_addr(sp->peer),
		     vnode_xprt_peer_name(sp->peer), stor_depth);
	WRITE_ONCE(sp->vol, vol);
	vol->peer = sp;
	rsp->size = cpu_to_le64(vol->size);
	rsp->max_io = cpu_to_le32(STOR_MAX_IO);
	rsp->queue_depth = cpu_to_le16(stor_depth);
	rsp->block_size = cpu_to_le16(STOR_BLOCK_SIZE);
	rsp->flags = cpu_to_le32(VNODE_STOR_F_FLUSH | VNODE_STOR_F_FUA |
				 VNODE_STOR_F_DISCARD | VNODE_STOR_F_SRV_RDMA);
	rsp->max_discard = cpu_to_le32(STOR_MAX_DISCARD);
	rsp->inline_max = cpu_to_le32(STOR_INLINE_MAX);
	rsp->volume_id = cpu_to_le64(vol->volume_id);
out_unlock:
	mutex_unlock(&stor_lock);
	return st;
}

/*
 * Every command holds a reference on its volume (vol->io_ref, which
 * enable sets to 1): disable and a takeover wait for them.  NULL when
 * the peer has no volume open or it is being disabled.
 */
static struct stor_vol *stor_vol_io_get(struct stor_peer *sp)
{
	struct stor_vol *vol;

	rcu_read_lock();
	vol = READ_ONCE(sp->vol);
	if (vol && !atomic_inc_not_zero(&vol->io_ref))
		vol = NULL;
	rcu_read_unlock();
	return vol;
}

static void stor_vol_io_put(struct stor_vol *vol)
{
	if (atomic_dec_return(&vol->io_ref) <= 1)
		wake_up_all(&vol->io_wait);
}

static void stor_cmd_free(struct stor_cmd *c)
{
	unsigned int i;

	for (i = 0; i < c->nr_pages; i++)
		__free_page(c->bvec[i].bv_page);
	kfree(c);
}

static void stor_reply_done(struct vnode_xprt_sreq *sreq)
{
	if (sreq->priv)
		stor_cmd_free(sreq->priv);
}

#ifdef VNODE_TEST_HOOKS
static unsigned int stor_drop_replies;
module_param_named(drop_replies, stor_drop_replies, uint, 0644);
MODULE_PARM_DESC(drop_replies,
		 "Testing only (VNODE_TEST_HOOKS builds): do not answer the next N I/O commands (executed, reply dropped), so clients must time them out and recover (default 0)");

/*
 * drop_replies: if this reply is to go (one less to drop), drop it as if
 * it were lost on the wire and return true.
 */
static bool stor_test_drop_reply(struct vnode_xprt_sreq *sreq, u16 st)
{
	const struct vnode_stor_io_req *req = (const void *)sreq->req;
	unsigned int n = READ_ONCE(stor_drop_replies), old;

	while (n) {
		old = cmpxchg(&stor_drop_replies, n, n - 1);
		if (old == n)
			break;
		n = old;
	}
	if (likely(!n))
		return false;
	pr_warn("testing (drop_replies): not answering cmd %u at %llu+%u from %s (status %u)\n",
		req->cmd, le64_to_cpu(req->offset), le32_to_cpu(req->len),
		vnode_xprt_peer_addr(sreq->peer), st);
	vnode_xprt_sreq_drop(sreq);
	return true;
}

static unsigned int stor_stall_writes;
module_param_named(stall_writes, stor_stall_writes, uint, 0644);
MODULE_PARM_DESC(stall_writes,
		 "Testing only (VNODE_TEST_HOOKS builds): hold the next N WRITE commands, their data received, before they are committed, for as long as stall_hold is 1 (default 0)");
static bool stor_stall_hold;
module_param_named(stall_hold, stor_stall_hold, bool, 0644);
MODULE_PARM_DESC(stall_hold, "Testing only: see stall_writes");

/* stall_writes: hold this write while stall_hold says so.  Sleeps. */
static void stor_test_stall_write(struct stor_cmd *c)
{
	unsigned int n = READ_ONCE(stor_stall_writes), old;

	while (n) {
		old = cmpxchg(&stor_stall_writes, n, n - 1);
		if (old == n)
			break;
		n = old;
	}
	if (likely(!n))
		return;
	pr_warn("testing (stall_writes): holding write at %llu+%u from %s\n",
		c->off, c->len, vnode_xprt_peer_addr(c->sreq->peer));
	while (READ_ONCE(stor_stall_hold))
		msleep(20);
	pr_warn("testing (stall_writes): released write at %llu+%u\n",
		c->off, c->len);
}
#else
static inline bool stor_test_drop_reply(struct vnode_xprt_sreq *sreq, u16 st)
{
	return false;
}

static inline void stor_test_stall_write(struct stor_cmd *c)
{
}
#endif

/* Reply to STOR_IO; a successful READ sends its data first. */
static void stor_io_reply(struct vnode_xprt_sreq *sreq, u16 st, u32 inv_rkey)
{
	const struct vnode_stor_io_req *req = (const void *)sreq->req;
	struct vnode_stor_io_rsp *rsp = (void *)sreq->rsp;
	struct stor_cmd *c = sreq->priv;
	bool data = c && st == VNODE_ST_OK && c->cmd == VNODE_STOR_READ;

	if (stor_test_drop_reply(sreq, st))
		return;

	rsp->hdr.status = cpu_to_le16(st);
	if (st == VNODE_ST_OK)
		rsp->len = req->len;
	/* Errors leave the invalidation to the client (its rkey may be bad). */
	vnode_xprt_sreq_reply(sreq, sizeof(*rsp),
			      st == VNODE_ST_OK ? inv_rkey : 0,
			      data ? c->sgl : NULL, data ? c->nr_pages : 0,
			      data ? c->raddr : 0, data ? c->rkey : 0);
}

/* A failed command, as the backing store's error ("FLUSH failed: -5"). */
static void stor_log_failed(struct stor_vol *vol, u8 cmd, u64 off, u32 len,
			    int ret)
{
	static const char * const names[] = {
		[VNODE_STOR_READ] = "READ",
		[VNODE_STOR_WRITE] = "WRITE",
		[VNODE_STOR_FLUSH] = "FLUSH",
		[VNODE_STOR_DISCARD] = "DISCARD",
		[VNODE_STOR_WRITE_ZEROES] = "WRITE_ZEROES",
	};
	const char *name = cmd < ARRAY_SIZE(names) ? names[cmd] : "command";

	atomic64_inc(&vol->errors);
	if (cmd == VNODE_STOR_FLUSH)	/* no range */
		vlog(err, vol, "%s failed: %d\n", name, ret);
	else
		vlog(err, vol, "%s of %u bytes at %llu failed: %d\n", name,
		     len, off, ret);
}

static u16 stor_io_status(struct stor_vol *vol, struct stor_cmd *c, int ret)
{
	if (!ret)
		return VNODE_ST_OK;
	stor_log_failed(vol, c->cmd, c->off, c->len, ret);
	return VNODE_ST_IO;
}

/* Data of a WRITE is here (inline or RDMA READ): store it.  Sleeps. */
static void stor_write_finish(struct stor_cmd *c, const void *inline_data)
{
	struct vnode_xprt_sreq *sreq = c->sreq;
	struct stor_vol *vol = c->vol;
	int ret;

	stor_test_stall_write(c);
	/* Fencing: a write of a queue the client gave up on never lands. */
	if (!vnode_xprt_sreq_begin_commit(sreq)) {
		atomic64_inc(&vol->fenced);
		stor_io_reply(sreq, VNODE_ST_IO, 0);	/* dropped */
		stor_vol_io_put(vol);
		return;
	}
	if (inline_data)
		ret = stor_rw(vol, true, (void *)inline_data, c->off, c->len);
	else
		ret = stor_rw_pages(vol, true, c->bvec, c->nr_pages, c->off,
				    c->len);
	vnode_xprt_sreq_end_commit(sreq);
	atomic64_inc(&vol->writes);
	if (!ret)
		atomic64_add(c->len, &vol->bytes_written);
	if (!ret && (c->flags & VNODE_STOR_IO_F_FUA)) {
		ret = stor_flush(vol, c->off, c->len, true);
		atomic64_inc(&vol->flushes);
	}
	stor_io_reply(sreq, stor_io_status(vol, c, ret), c->rkey);
	stor_vol_io_put(vol);
}

static void stor_write_work(struct work_struct *work)
{
	stor_write_finish(container_of(work, struct stor_cmd, work), NULL);
}

/* RDMA READ of a WRITE's data completed (CQ context). */
static void stor_rdma_read_done(struct vnode_xprt_sreq *sreq, int error)
{
	struct stor_cmd *c = sreq->priv;
	struct stor_vol *vol = c->vol;

	if (error) {
		/* The queue is gone: this reply is dropped (and c freed). */
		stor_io_reply(sreq, VNODE_ST_IO, 0);
		stor_vol_io_put(vol);
		return;
	}
	atomic64_add(c->len, &c->vol->rdma_read_bytes);
	queue_work(stor_wq, &c->work);
}

static struct stor_cmd *stor_cmd_alloc(u32 len)
{
	unsigned int i, n = DIV_ROUND_UP(len, PAGE_SIZE);
	struct stor_cmd *c;

	c = vnode_fault(kzalloc(sizeof(*c), GFP_KERNEL));
	if (!c)
		return NULL;
	INIT_WORK(&c->work, stor_write_work);
	sg_init_table(c->sgl, n);
	for (i = 0; i < n; i++) {
		u32 chunk = min_t(u32, len - i * PAGE_SIZE, PAGE_SIZE);
		struct page *page = vnode_fault(alloc_page(GFP_KERNEL));

		if (!page) {
			stor_cmd_free(c);
			return NULL;
		}
		c->nr_pages++;
		bvec_set_page(&c->bvec[i], page, chunk, 0);
		sg_set_page(&c->sgl[i], page, chunk, 0);
	}
	return c;
}

/*
 * Check a STOR_IO: VNODE_ST_OK, or the status to answer.  Lengths,
 * offsets and the buffer descriptor come from the client: never trust.
 */
static u16 stor_io_check(struct stor_vol *vol,
			 const struct vnode_stor_io_req *req, size_t req_len)
{
	u64 off = le64_to_cpu(req->offset);
	u32 len = le32_to_cpu(req->len);
	bool inl = req->flags & VNODE_STOR_IO_F_INLINE;

	if (req->cmd != VNODE_STOR_FLUSH &&
	    (!len || !IS_ALIGNED(off | len, STOR_BLOCK_SIZE) ||
	     off > vol->size || len > vol->size - off))
		return VNODE_ST_INVALID;
	switch (req->cmd) {
	case VNODE_STOR_READ:
	case VNODE_STOR_WRITE:
		if (len > STOR_MAX_IO)
			return VNODE_ST_INVALID;
		if (inl)
			return req->cmd == VNODE_STOR_WRITE &&
			       len <= STOR_INLINE_MAX &&
			       req_len == sizeof(*req) + len ?
			       VNODE_ST_OK : VNODE_ST_INVALID;
		if (le32_to_cpu(req->sgl.len) != len || !req->sgl.rkey)
			return VNODE_ST_INVALID;
		return VNODE_ST_OK;
	case VNODE_STOR_DISCARD:
	case VNODE_STOR_WRITE_ZEROES:
		return len > STOR_MAX_DISCARD ? VNODE_ST_INVALID : VNODE_ST_OK;
	case VNODE_STOR_FLUSH:
		return VNODE_ST_OK;
	default:
		return VNODE_ST_INVALID;
	}
}

/* One STOR_IO; process context.  Every path ends in one reply. */
static void stor_io(struct stor_peer *sp, struct vnode_xprt_sreq *sreq)
{
	const struct vnode_stor_io_req *req = (const void *)sreq->req;
	struct stor_vol *vol;
	struct stor_cmd *c;
	u16 st;
	int ret;

	if (sreq->req_len < sizeof(*req)) {
		stor_io_reply(sreq, VNODE_ST_INVALID, 0);
		return;
	}
	vol = stor_vol_io_get(sp);
	if (!vol) {
		stor_io_reply(sreq, VNODE_ST_NOENT, 0);
		return;
	}
	st = stor_io_check(vol, req, sreq->req_len);
	if (st != VNODE_ST_OK) {
		vlog(warn, vol, "malformed STOR_IO from %s: cmd %u flags %#x at %llu+%u, buffer %u bytes\n",
		     vnode_xprt_peer_addr(sp->peer), req->cmd, req->flags,
		     le64_to_cpu(req->offset), le32_to_cpu(req->len),
		     le32_to_cpu(req->sgl.len));
		stor_io_reply(sreq, st, 0);
		stor_vol_io_put(vol);
		return;
	}

	if (req->cmd != VNODE_STOR_READ && req->cmd != VNODE_STOR_WRITE) {
		u64 off = le64_to_cpu(req->offset);
		u32 len = le32_to_cpu(req->len);

		if (req->cmd == VNODE_STOR_FLUSH) {
			ret = stor_flush(vol, 0, 0, false);
			atomic64_inc(&vol->flushes);
		} else if (vnode_xprt_sreq_begin_commit(sreq)) {
			ret = stor_zero(vol, off, len,
					req->cmd == VNODE_STOR_DISCARD);
			vnode_xprt_sreq_end_commit(sreq);
		} else {
			/* Fenced: the reply is dropped with its queue. */
			atomic64_inc(&vol->fenced);
			ret = 0;
		}
		if (ret)
			stor_log_failed(vol, req->cmd, off, len, ret);
		stor_io_reply(sreq, ret ? VNODE_ST_IO : VNODE_ST_OK, 0);
		stor_vol_io_put(vol);
		return;
	}

	if (req->flags & VNODE_STOR_IO_F_INLINE) {
		struct stor_cmd ic = {
			.sreq = sreq, .vol = vol, .cmd = req->cmd,
			.flags = req->flags, .off = le64_to_cpu(req->offset),
			.len = le32_to_cpu(req->len),
		};

		atomic64_add(ic.len, &vol->inline_bytes);
		stor_write_finish(&ic, req + 1);	/* puts vol */
		return;
	}

	c = stor_cmd_alloc(le32_to_cpu(req->len));
	if (!c) {
		stor_io_reply(sreq, VNODE_ST_NOMEM, 0);
		stor_vol_io_put(vol);
		return;
	}
	c->sreq = sreq;
	c->vol = vol;
	c->cmd = req->cmd;
	c->flags = req->flags;
	c->off = le64_to_cpu(req->offset);
	c->len = le32_to_cpu(req->len);
	c->raddr = le64_to_cpu(req->sgl.addr);
	c->rkey = le32_to_cpu(req->sgl.rkey);
	sreq->priv = c;

	if (c->cmd == VNODE_STOR_WRITE) {
		sreq->rdma_done = stor_rdma_read_done;
		ret = vnode_xprt_sreq_rdma_read(sreq, c->sgl, c->nr_pages,
						c->raddr, c->rkey);
		if (ret) {
			stor_io_reply(sreq, VNODE_ST_IO, 0);
			stor_vol_io_put(vol);
		}
		return;
	}
	ret = stor_rw_pages(vol, false, c->bvec, c->nr_pages, c->off, c->len);
	atomic64_inc(&vol->reads);
	if (!ret) {
		atomic64_add(c->len, &vol->bytes_read);
		atomic64_add(c->len, &vol->rdma_write_bytes);
	}
	stor_io_reply(sreq, stor_io_status(vol, c, ret), c->rkey);
	stor_vol_io_put(vol);
}

static void stor_request(struct vnode_xprt_peer *peer, void *peer_priv,
			 const struct vnode_msg_hdr *req, size_t req_len,
			 struct vnode_msg_hdr *rsp, size_t *rsp_len)
{
	struct stor_peer *sp = peer_priv;
	u16 st;

	switch (req->op) {
	case VNODE_OP_STOR_OPEN:
		if (req_len < sizeof(struct vnode_stor_open_req)) {
			st = VNODE_ST_INVALID;
			break;
		}
		st = stor_open(sp, (const void *)req, (void *)rsp);
		*rsp_len = sizeof(struct vnode_stor_open_rsp);
		break;
	case VNODE_OP_STATS: {
		struct vnode_stats_rsp *s = (void *)rsp;

		s->capacity = cpu_to_le64(stor_backing_capacity());
		s->used = cpu_to_le64(stor_backing_used());
		s->client_used = cpu_to_le64(sp->vol ? sp->vol->size : 0);
		/* no reservations here: the reply without their figures */
		*rsp_len = VNODE_STATS_RSP_LEN_1_3;
		st = VNODE_ST_OK;
		break;
	}
	case VNODE_OP_GOODBYE:
		st = VNODE_ST_OK;
		break;
	default:
		st = VNODE_ST_INVALID;
		break;
	}
	rsp->status = cpu_to_le16(st);
}

static void stor_submit(struct vnode_xprt_peer *peer, void *peer_priv,
			struct vnode_xprt_sreq *sreq)
{
	size_t rsp_len = sizeof(*sreq->rsp);

	sreq->reply_done = stor_reply_done;
	if (sreq->req->op == VNODE_OP_STOR_IO) {
		stor_io(peer_priv, sreq);
		return;
	}
	stor_request(peer, peer_priv, sreq->req, sreq->req_len, sreq->rsp,
		     &rsp_len);
	vnode_xprt_sreq_reply(sreq, rsp_len, 0, NULL, 0, 0, 0);
}

static void stor_disconnect(struct vnode_xprt_peer *peer, void *peer_priv,
			    bool orderly)
{
	struct stor_peer *sp = peer_priv;

	mutex_lock(&stor_lock);
	if (sp->vol) {
		vlog(info, sp->vol, "closed by %s (%s)\n",
		     vnode_xprt_peer_addr(peer),
		     orderly ? "goodbye" : "connection lost");
		if (sp->vol->peer == sp)
			sp->vol->peer = NULL;
		/* Make everything the client wrote stable. */
		stor_flush(sp->vol, 0, 0, false);
	}
	sp->vol = NULL;
	mutex_unlock(&stor_lock);
	kfree(sp);
}

static const struct vnode_xprt_srv_ops stor_srv_ops = {
	.accept		= stor_accept,
	.submit		= stor_submit,
	.disconnect	= stor_disconnect,
};

/* ------------------------------------------------------------------ */
/* configfs: volumes/<name>                                            */
/* ------------------------------------------------------------------ */

static struct configfs_subsystem stor_cfs_subsys;

static inline struct stor_vol *to_stor_vol(struct config_item *item)
{
	return container_of(item, struct stor_vol, item);
}

static ssize_t stor_vol_size_show(struct config_item *item, char *page)
{
	return sprintf(page, "%llu\n", READ_ONCE(to_stor_vol(item)->size));
}

static ssize_t stor_vol_size_store(struct config_item *item, const char *page,
				   size_t count)
{
	struct stor_vol *vol = to_stor_vol(item);
	char buf[32];
	u64 size;

	if (vnode_cfs_get_str(page, count, buf, sizeof(buf)) ||
	    vnode_parse_size(buf, &size))
		return -EINVAL;
	if (!size || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	if (size > stor_backing_capacity())
		return -ENOSPC;
	return vnode_cfs_store_disabled(&vol->lock, vol->enabled, count,
					WRITE_ONCE(vol->size, size));
}

static ssize_t stor_vol_client_show(struct config_item *item, char *page)
{
	struct stor_vol *vol = to_stor_vol(item);
	ssize_t ret;

	mutex_lock(&vol->lock);
	ret = sprintf(page, "%s\n", vol->client_str);
	mutex_unlock(&vol->lock);
	return ret;
}

static ssize_t stor_vol_client_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct stor_vol *vol = to_stor_vol(item);
	char buf[STOR_CLIENT_LEN];
	struct sockaddr_storage ss;

	if (vnode_cfs_get_str(page, count, buf, sizeof(buf)))
		return -EINVAL;
	/* An address, no port: "10.0.0.1" or "fe80::1" / "[fe80::1]". */
	if (vnode_xprt_parse_addr(buf, 1, &ss) ||
	    (ss.ss_family == AF_INET &&
	     ntohs(((struct sockaddr_in *)&ss)->sin_port) != 1))
		return -EINVAL;
	return vnode_cfs_store_disabled(&vol->lock, vol->enabled, count, ({
		vol->client = ss;
		strscpy(vol->client_str, buf, sizeof(vol->client_str));
	}));
}

static ssize_t stor_vol_owner_show(struct config_item *item, char *page)
{
	struct stor_vol *vol = to_stor_vol(item);
	ssize_t ret;

	mutex_lock(&stor_lock);
	ret = sprintf(page, "%s\n", vol->owner);
	mutex_unlock(&stor_lock);
	return ret;
}

/*
 * An identity, or "" (an empty write): then the owner the volume table
 * records, or else the first opener, at the next enable.
 */
static ssize_t stor_vol_owner_store(struct config_item *item,
				    const char *page, size_t count)
{
	struct stor_vol *vol = to_stor_vol(item);
	char buf[STOR_OWNER_LEN];
	size_t len = strnlen(page, count);

	if (len && page[len - 1] == '\n')
		len--;
	if (len && !vnode_valid_identity(page, len))
		return -EINVAL;
	memcpy(buf, page, len);
	buf[len] = '\0';
	return vnode_cfs_store_disabled(&vol->lock, vol->enabled, count, ({
		mutex_lock(&stor_lock);
		strscpy(vol->owner, buf, sizeof(vol->owner));
		mutex_unlock(&stor_lock);
	}));
}

static ssize_t stor_vol_enable_show(struct config_item *item, char *page)
{
	return sprintf(page, "%d\n", READ_ONCE(to_stor_vol(item)->enabled));
}

static ssize_t stor_vol_enable_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct stor_vol *vol = to_stor_vol(item);
	char owner[STOR_OWNER_LEN];
	bool on;
	int ret;

	ret = kstrtobool(page, &on);
	if (ret)
		return ret;
	mutex_lock(&vol->lock);
	if (on == vol->enabled)
		goto out;
	if (on) {
		if (!vol->size || !vol->client_str[0]) {
			vlog(err, vol, "set size and client before enable\n");
			ret = -EINVAL;
			goto out;
		}
		/* While enabled, rmdir of this item fails with -EBUSY. */
		ret = configfs_depend_item_unlocked(&stor_cfs_subsys,
						    &vol->item);
		if (ret)
			goto out;
		ret = stor_backing_open(vol, owner);
		if (ret) {
			configfs_undepend_item(&vol->item);
			goto out;
		}
		mutex_lock(&stor_lock);
		if (!vol->owner[0] && owner[0])
			strscpy(vol->owner, owner, sizeof(vol->owner));
		atomic_set(&vol->io_ref, 1);
		WRITE_ONCE(vol->enabled, true);
		mutex_unlock(&stor_lock);
	} else {
		mutex_lock(&stor_lock);
		if (vol->peer) {
			vlog(info, vol, "open by %s: not disabling\n",
			     vnode_xprt_peer_addr(vol->peer->peer));
			ret = -EBUSY;
		} else {
			WRITE_ONCE(vol->enabled, false);
		}
		mutex_unlock(&stor_lock);
		if (ret)
			goto out;
		/* Commands of a connection that was taken over or is gone. */
		stor_vol_io_put(vol);
		while (!wait_event_timeout(vol->io_wait,
					   !atomic_read(&vol->io_ref),
					   STOR_DRAIN_WARN))
			vlog(warn, vol, "disable: waiting for %d commands still on the backing store (hung?)\n",
			     atomic_read(&vol->io_ref));
		stor_backing_close(vol);
		configfs_undepend_item(&vol->item);
	}
out:
	mutex_unlock(&vol->lock);
	return ret ? ret : count;
}

static ssize_t stor_vol_state_show(struct config_item *item, char *page)
{
	struct stor_vol *vol = to_stor_vol(item);
	ssize_t ret;

	mutex_lock(&stor_lock);
	if (!vol->enabled)
		ret = sprintf(page, "disabled\n");
	else if (vol->peer)
		ret = sprintf(page, "open %s@%s\n",
			      vnode_xprt_peer_name(vol->peer->peer),
			      vnode_xprt_peer_addr(vol->peer->peer));
	else
		ret = sprintf(page, "enabled\n");
	mutex_unlock(&stor_lock);
	return ret;
}

/*
 * The id of the data behind the volume: random, chosen when its extent
 * was made, kept in the volume table; 0 before the first enable.  A client
 * that knows it can tell its data from a new, empty volume of the same
 * name (after a backing store was lost).
 */
static ssize_t stor_vol_volume_id_show(struct config_item *item, char *page)
{
	struct stor_vol *vol = to_stor_vol(item);
	ssize_t ret;

	mutex_lock(&vol->lock);
	ret = sprintf(page, "%016llx\n", vol->volume_id);
	mutex_unlock(&vol->lock);
	return ret;
}

static ssize_t stor_vol_stats_show(struct config_item *item, char *page)
{
	struct stor_vol *vol = to_stor_vol(item);

	return sprintf(page, "reads %lld writes %lld flushes %lld errors %lld bytes_read %lld bytes_written %lld rdma_read_bytes %lld rdma_write_bytes %lld inline_bytes %lld fenced %lld\n",
		       atomic64_read(&vol->reads), atomic64_read(&vol->writes),
		       atomic64_read(&vol->flushes),
		       atomic64_read(&vol->errors),
		       atomic64_read(&vol->bytes_read),
		       atomic64_read(&vol->bytes_written),
		       atomic64_read(&vol->rdma_read_bytes),
		       atomic64_read(&vol->rdma_write_bytes),
		       atomic64_read(&vol->inline_bytes),
		       atomic64_read(&vol->fenced));
}

CONFIGFS_ATTR(stor_vol_, size);
CONFIGFS_ATTR(stor_vol_, client);
CONFIGFS_ATTR(stor_vol_, owner);
CONFIGFS_ATTR(stor_vol_, enable);
CONFIGFS_ATTR_RO(stor_vol_, state);
CONFIGFS_ATTR_RO(stor_vol_, stats);
CONFIGFS_ATTR_RO(stor_vol_, volume_id);

static struct configfs_attribute *stor_vol_attrs[] = {
	&stor_vol_attr_size,
	&stor_vol_attr_client,
	&stor_vol_attr_owner,
	&stor_vol_attr_enable,
	&stor_vol_attr_state,
	&stor_vol_attr_stats,
	&stor_vol_attr_volume_id,
	NULL,
};

static void stor_vol_release(struct config_item *item)
{
	struct stor_vol *vol = to_stor_vol(item);

	/* stor_vol_io_get() may still look at it under RCU. */
	kfree_rcu(vol, rcu);
}

static struct configfs_item_operations stor_vol_item_ops = {
	.release	= stor_vol_release,
};

static const struct config_item_type stor_vol_type = {
	.ct_item_ops	= &stor_vol_item_ops,
	.ct_attrs	= stor_vol_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_item *stor_vol_make(struct config_group *group,
					 const char *name)
{
	struct stor_vol *vol;

	if (strlen(name) >= VNODE_STOR_NAME_LEN || strchr(name, '.'))
		return ERR_PTR(-EINVAL);
	vol = vnode_fault(kzalloc(sizeof(*vol), GFP_KERNEL));
	if (!vol)
		return ERR_PTR(-ENOMEM);
	mutex_init(&vol->lock);
	init_waitqueue_head(&vol->io_wait);
	strscpy(vol->name, name, sizeof(vol->name));
	config_item_init_type_name(&vol->item, name, &stor_vol_type);
	mutex_lock(&stor_lock);
	list_add_tail(&vol->entry, &stor_vols);
	mutex_unlock(&stor_lock);
	return &vol->item;
}

/* rmdir: the volume is deleted, its data freed (unless keep_on_rmdir). */
static void stor_vol_drop(struct config_group *group, struct config_item *item)
{
	struct stor_vol *vol = to_stor_vol(item);

	mutex_lock(&stor_lock);
	list_del(&vol->entry);
	mutex_unlock(&stor_lock);
	/* enable=1 pins the item (configfs_depend_item): disabled here. */
	if (vol->volume_id && !READ_ONCE(stor_keep_on_rmdir))
		stor_backing_delete(vol);
	else if (vol->volume_id)
		vlog(info, vol, "kept on the backing store (keep_on_rmdir)\n");
	config_item_put(item);
}

static struct configfs_group_operations stor_vols_group_ops = {
	.make_item	= stor_vol_make,
	.drop_item	= stor_vol_drop,
};

static const struct config_item_type stor_vols_type = {
	.ct_group_ops	= &stor_vols_group_ops,
	.ct_owner	= THIS_MODULE,
};

static const struct config_item_type stor_root_type = {
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem stor_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "vnode_stor",
			.ci_type	= &stor_root_type,
		},
	},
};

static struct config_group stor_vols_group;

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static int __init stor_init(void)
{
	struct vnode_xprt_cfg cfg = {
		.name			= "vnode_stor",
		.loss_timeout_ms	= stor_orphan_ms,
		.inline_size		= STOR_INLINE_MAX,
	};
	struct vnode_accept acc = {};
	int ret;

	if (!stor_depth || stor_depth > STOR_MAX_DEPTH) {
		pr_err("queue_depth must be 1..%d\n", STOR_MAX_DEPTH);
		return -EINVAL;
	}
	cfg.cmd_depth = stor_depth;
	if (!stor_orphan_ms) {
		pr_err("orphan_timeout_ms must be > 0\n");
		return -EINVAL;
	}
	ret = vnode_xprt_parse_addr(stor_addr, stor_port, &cfg.addr);
	if (ret) {
		pr_err("bad addr '%s'\n", stor_addr);
		return ret;
	}
	ret = stor_backing_init(stor_backing_path);
	if (ret)
		return ret;
	/* Backing-store writes after their RDMA READ: many at once. */
	stor_wq = vnode_fault(alloc_workqueue("vnode_stor",
					      WQ_MEM_RECLAIM | WQ_UNBOUND, 0));
	if (!stor_wq) {
		ret = -ENOMEM;
		goto out_backing;
	}

	config_group_init(&stor_cfs_subsys.su_group);
	mutex_init(&stor_cfs_subsys.su_mutex);
	config_group_init_type_name(&stor_vols_group, "volumes",
				    &stor_vols_type);
	configfs_add_default_group(&stor_vols_group,
				   &stor_cfs_subsys.su_group);
	ret = configfs_register_subsystem(&stor_cfs_subsys);
	if (ret) {
		pr_err("cannot register configfs subsystem: %d\n", ret);
		goto out_backing;
	}

	acc.slab_shift = cpu_to_le16(ilog2(STOR_MAX_IO));
	acc.server_id = cpu_to_le64(get_random_u64());
	acc.capacity = cpu_to_le64(stor_backing_capacity());
	acc.used = cpu_to_le64(stor_backing_used());
	stor_srv = vnode_xprt_srv_listen(&cfg, &stor_srv_ops, NULL, &acc);
	if (IS_ERR(stor_srv)) {
		ret = PTR_ERR(stor_srv);
		pr_err("cannot listen on %s:%u: %d\n", stor_addr, stor_port,
		       ret);
		goto out_configfs;
	}
	pr_info("listening on %s:%u\n", stor_addr, stor_port);
	return 0;

out_configfs:
	configfs_unregister_subsystem(&stor_cfs_subsys);
out_backing:
	if (stor_wq)
		destroy_workqueue(stor_wq);
	stor_backing_exit();
	return ret;
}

static void __exit stor_exit(void)
{
	vnode_xprt_srv_stop(stor_srv);
	destroy_workqueue(stor_wq);
	configfs_unregister_subsystem(&stor_cfs_subsys);
	stor_backing_exit();
}

module_init(stor_init);
module_exit(stor_exit);

MODULE_DESCRIPTION("vnode storage host: volumes over RDMA");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
