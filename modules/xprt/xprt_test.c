// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt_test: exercises vnode_xprt's client against a memory host.
 * Loaded only by the lab tests.  The test runs in module init; a failure
 * makes insmod fail (the reason is in dmesg and, on success, in the
 * read-only "result" parameter).
 *
 *   insmod vnode_xprt_test.ko server=10.0.0.2[:7470] mode=MODE [nr_slabs=N]
 *
 * Modes:
 *   rdma       allocate nr_slabs slabs, check fresh slabs read as zeroes,
 *              RDMA WRITE a pattern to every page, READ it back and verify,
 *              check STATS, free, check usage went back
 *   probe      connect as ROLE_PROBE: STATS works, ALLOC_SLAB is refused
 *   bad_major  connect with protocol major 99: must fail with -EPROTO
 *   fill       allocate until the server says FULL, check the count against
 *              STATS, check a second client is refused with -ENOSPC, free
 *   malformed  unknown op, short requests, foreign handles are answered
 *              with errors and the connection keeps working
 *   stor_malformed  (against a storage host, server=addr:7471,
 *              volume=NAME exported to this host) an OPEN from a client
 *              whose hello says protocol 1.0 is refused with VERSION; malformed STOR_IO commands (out of range,
 *              misaligned, oversized, bad buffer descriptor, inline
 *              without data, unknown command, short) get INVALID and
 *              the connection keeps working (FLUSH succeeds)
 *   foreign    a victim client writes the pattern to nr_slabs slabs; a
 *              second client (its own PD on the server) READs and WRITEs
 *              with the victim's rkey and address on its own QP: both
 *              must fail with an access error, and the victim's data is
 *              intact.  Then the victim frees its slabs and the second
 *              client allocates as many: they read as zeroes
 *   close_held allocate a slab and READ XT_BATCH of its pages (fresh: zeroes)
 *              without waiting; 100 ms later close the client.  With a
 *              fabric link that delays them (vnode_xprt/fabric), they are
 *              held then: close must report every one, successfully and
 *              at once; "result" gives close_ms
 *   lease      (protocol 1.4 reservations; run it on a fresh memory host
 *              with client_share=50) a MEM client's RESERVE gets PERM, a
 *              1.3 probe's VERSION and a 56-byte STATS; zero ids and
 *              sizes and short bodies INVALID; past the quota QUOTA with
 *              avail = limit; a lease is rounded up to whole slabs, grows,
 *              shrinks, is listed by LEASES and renewed by RENEW; a slab
 *              of a MEM client of our identity is charged to it;
 *              RELEASE of an unknown lease NOENT.  Lease 1 (two slabs) is
 *              left for the test to watch expire.
 *   hold       allocate nr_slabs, write the pattern and stay connected;
 *              "state" shows the connection state, writing 1 to "verify"
 *              reads everything back (result in "result"), unload closes
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <vnode/xprt.h>
#include <vnode/version.h>

static char *server;
module_param(server, charp, 0444);
MODULE_PARM_DESC(server, "Memory host address[:port] (required; default port 7470)");

static char *mode = "rdma";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "rdma|probe|bad_major|fill|malformed|stor_malformed|foreign|lease|hold|close_held (default rdma)");

static char *volume = "";
module_param(volume, charp, 0444);
MODULE_PARM_DESC(volume, "Volume to open in stor_malformed mode (default none)");

static uint nr_slabs = 4;
module_param(nr_slabs, uint, 0444);
MODULE_PARM_DESC(nr_slabs, "Slabs to allocate in rdma/hold modes (default 4)");

static uint nr_queues;
module_param(nr_queues, uint, 0444);
MODULE_PARM_DESC(nr_queues, "Queues to open (default 0 = transport default)");

static uint queue_depth;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "RDMA ops in flight per queue (default 0 = transport default); below 32 exercises -EAGAIN");

static atomic_t nr_eagain = ATOMIC_INIT(0);

static uint seed = 1;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "Pattern seed (default 1)");

static uint loss_timeout_ms;
module_param(loss_timeout_ms, uint, 0444);
MODULE_PARM_DESC(loss_timeout_ms, "Client loss timeout (default 0 = transport default)");

static uint connect_timeout_ms = 2000;
module_param(connect_timeout_ms, uint, 0444);
MODULE_PARM_DESC(connect_timeout_ms,
		 "One connect attempt in ms (default 2000; a lost CM packet is resent after ~4 s)");

static char result[160] = "none";
module_param_string(result, result, sizeof(result), 0444);
MODULE_PARM_DESC(result, "Outcome of the last run (read-only)");

static atomic_t nr_state_changes = ATOMIC_INIT(0);

struct xt_slab {
	u64	handle;
	u64	addr;
	u64	len;
	u32	rkey;
};

static struct vnode_xprt_clt *hold_clt;
static struct xt_slab *hold_slabs;
static unsigned int hold_nr;
static unsigned int slab_bytes;

#define XT_BATCH	32

struct xt_batch {
	atomic_t		pending;
	atomic_t		errors;
	struct completion	done;
	struct vnode_xprt_io	io[XT_BATCH];
};

static void xt_io_done(struct vnode_xprt_io *io, int error)
{
	struct xt_batch *b = io->priv;

	if (error)
		atomic_inc(&b->errors);
	if (atomic_dec_and_test(&b->pending))
		complete(&b->done);
}

/*
 * Post @n (<= XT_BATCH) RDMA ops of @b, retrying a full queue for a
 * while; @b->pending counts them (plus the caller's 1).  0, or the first
 * post error (the ops before it are in flight).
 */
static int xt_batch_post(struct vnode_xprt_clt *clt, struct xt_batch *b,
			 bool write, struct page **pages, const u64 *raddr,
			 u32 rkey, unsigned int n)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		int tries = 0;

		b->io[i].done = xt_io_done;
		b->io[i].priv = b;
		atomic_inc(&b->pending);
		for (;;) {
			ret = vnode_xprt_clt_rdma(clt, write, pages[i], 0,
						  PAGE_SIZE, raddr[i], rkey,
						  &b->io[i]);
			if (ret != -EAGAIN || ++tries > 5000)
				break;
			atomic_inc(&nr_eagain);
			usleep_range(100, 200);
		}
		if (ret) {
			pr_err("post %s %u failed: %d\n",
			       write ? "WRITE" : "READ", i, ret);
			atomic_dec(&b->pending);
			break;
		}
	}
	return ret;
}

/* Run @n (<= XT_BATCH) RDMA ops concurrently; 0 or -EIO. */
static int xt_rdma_batch(struct vnode_xprt_clt *clt, bool write,
			 struct page **pages, const u64 *raddr, u32 rkey,
			 unsigned int n)
{
	struct xt_batch *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	init_completion(&b->done);
	atomic_set(&b->pending, 1);
	ret = xt_batch_post(clt, b, write, pages, raddr, rkey, n);
	if (!atomic_dec_and_test(&b->pending) &&
	    !wait_for_completion_timeout(&b->done, 60 * HZ)) {
		/*
		 * Never hang the test: report it.  The ops still reference
		 * @b (leaked on purpose); closing the client flushes them.
		 */
		pr_err("%d RDMA %s ops did not complete within 60 s\n",
		       atomic_read(&b->pending), write ? "WRITE" : "READ");
		return -ETIMEDOUT;
	}
	if (!ret && atomic_read(&b->errors))
		ret = -EIO;
	kfree(b);
	return ret;
}

static u32 xt_word(unsigned int slab, unsigned int page, unsigned int w)
{
	return (seed * 2654435761U) ^ (slab << 20) ^ (page << 10) ^ w;
}

static void xt_fill(struct page *p, unsigned int slab, unsigned int page)
{
	u32 *v = kmap_local_page(p);
	unsigned int w;

	for (w = 0; w < PAGE_SIZE / 4; w++)
		v[w] = xt_word(slab, page, w);
	kunmap_local(v);
}

static bool xt_check(struct page *p, unsigned int slab, unsigned int page,
		     bool zero)
{
	u32 *v = kmap_local_page(p);
	unsigned int w;
	bool ok = true;

	for (w = 0; w < PAGE_SIZE / 4; w++) {
		u32 want = zero ? 0 : xt_word(slab, page, w);

		if (v[w] != want) {
			pr_err("slab %u page %u word %u: %08x, expected %08x\n",
			       slab, page, w, v[w], want);
			ok = false;
			break;
		}
	}
	kunmap_local(v);
	return ok;
}

static void xt_state_change(struct vnode_xprt_clt *clt,
			    enum vnode_xprt_state old,
			    enum vnode_xprt_state new, bool lost, void *priv)
{
	atomic_inc(&nr_state_changes);
	pr_info("state %s -> %s (server_id %016llx)%s\n",
		vnode_xprt_state_str(old), vnode_xprt_state_str(new),
		vnode_xprt_clt_server_id(clt), lost ? ": server state lost" : "");
}

static const struct vnode_xprt_clt_ops xt_ops = {
	.state_change = xt_state_change,
};

/* @major 0: this checkout's protocol version; else @major.@minor. */
static struct vnode_xprt_clt *xt_open(enum vnode_role role, u16 major,
				      u16 minor, struct vnode_accept *acc)
{
	struct vnode_xprt_cfg cfg = {};

	if (vnode_xprt_parse_addr(server, VNODE_MEM_PORT, &cfg.addr))
		return ERR_PTR(-EINVAL);
	cfg.role = role;
	cfg.name = "xprt_test";
	cfg.nr_queues = nr_queues;
	cfg.queue_depth = queue_depth;
	cfg.proto_major = major;
	cfg.proto_minor = minor;
	cfg.loss_timeout_ms = loss_timeout_ms;
	cfg.connect_timeout_ms = connect_timeout_ms;
	return vnode_xprt_clt_open(&cfg, &xt_ops, NULL, acc);
}

static int xt_stats(struct vnode_xprt_clt *clt, struct vnode_stats_rsp *rsp)
{
	struct vnode_msg_hdr req = { .op = VNODE_OP_STATS };
	int ret;

	memset(rsp, 0, sizeof(*rsp));
	ret = vnode_xprt_clt_call(clt, &req, sizeof(req), &rsp->hdr,
				  sizeof(*rsp), 5000);
	if (ret)
		return ret;
	return le16_to_cpu(rsp->hdr.status) ? -EIO : 0;
}

/* Returns the vnode_status (>= 0) or -errno. */
static int xt_alloc(struct vnode_xprt_clt *clt, u64 index, struct xt_slab *s)
{
	struct vnode_alloc_req req = {};
	struct vnode_alloc_rsp rsp = {};
	int ret;

	req.hdr.op = VNODE_OP_ALLOC_SLAB;
	req.slab_index = cpu_to_le64(index);
	ret = vnode_xprt_clt_call(clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), 10000);
	if (ret)
		return ret;
	s->handle = le64_to_cpu(rsp.handle);
	s->addr = le64_to_cpu(rsp.addr);
	s->len = le64_to_cpu(rsp.len);
	s->rkey = le32_to_cpu(rsp.rkey);
	return le16_to_cpu(rsp.hdr.status);
}

static int xt_free(struct vnode_xprt_clt *clt, u64 handle, size_t len)
{
	struct vnode_free_req req = {};
	struct vnode_status_rsp rsp = {};
	int ret;

	req.hdr.op = VNODE_OP_FREE_SLAB;
	req.handle = cpu_to_le64(handle);
	ret = vnode_xprt_clt_call(clt, &req.hdr, len, &rsp.hdr, sizeof(rsp),
				  5000);
	if (ret)
		return ret;
	return le16_to_cpu(rsp.hdr.status);
}

static void xt_free_pages(struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (pages[i])
			__free_page(pages[i]);
}

/*
 * Move every page of @slabs: @write fills and WRITEs the pattern,
 * otherwise READ and verify (zeroes when @zero).  0 or -errno.
 */
static int xt_pass(struct vnode_xprt_clt *clt, struct xt_slab *slabs,
		   unsigned int n, bool write, bool zero)
{
	struct page *pages[XT_BATCH] = {};
	u64 raddr[XT_BATCH];
	unsigned int s, p, i, per = slab_bytes >> PAGE_SHIFT;
	int ret = 0;

	for (i = 0; i < XT_BATCH; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (s = 0; s < n && !ret; s++) {
		for (p = 0; p < per && !ret; p += XT_BATCH) {
			unsigned int cnt = min_t(unsigned int, XT_BATCH,
						 per - p);

			for (i = 0; i < cnt; i++) {
				raddr[i] = slabs[s].addr +
					   (u64)(p + i) * PAGE_SIZE;
				if (write)
					xt_fill(pages[i], s, p + i);
				else
					memset(page_address(pages[i]), 0x5a,
					       PAGE_SIZE);
			}
			ret = xt_rdma_batch(clt, write, pages, raddr,
					    slabs[s].rkey, cnt);
			if (ret == -ETIMEDOUT)
				return ret;	/* pages still in use: leak */
			if (ret) {
				pr_err("slab %u pages %u+%u: RDMA %s failed: %d\n",
				       s, p, cnt, write ? "WRITE" : "READ",
				       ret);
				break;
			}
			for (i = 0; !write && i < cnt; i++) {
				if (!xt_check(pages[i], s, p + i, zero)) {
					ret = -EILSEQ;
					break;
				}
			}
		}
	}
out:
	xt_free_pages(pages, XT_BATCH);
	return ret;
}

#define xt_fail(fmt, ...) do {						\
	snprintf(result, sizeof(result), "FAIL: " fmt, ##__VA_ARGS__);	\
	pr_err("%s\n", result);						\
} while (0)

static int xt_alloc_n(struct vnode_xprt_clt *clt, struct xt_slab *slabs,
		      unsigned int n)
{
	unsigned int i;
	int st;

	for (i = 0; i < n; i++) {
		st = xt_alloc(clt, i, &slabs[i]);
		if (st) {
			xt_fail("ALLOC_SLAB %u: %d", i, st);
			return -EIO;
		}
		if (slabs[i].len != slab_bytes) {
			xt_fail("slab %u has length %llu, expected %u", i,
				slabs[i].len, slab_bytes);
			return -EIO;
		}
	}
	return 0;
}

/* FREE_SLAB every slab of @slabs; 0, or -EIO and the result says which. */
static int xt_free_n(struct vnode_xprt_clt *clt, struct xt_slab *slabs,
		     unsigned int n)
{
	unsigned int i;
	int st;

	for (i = 0; i < n; i++) {
		st = xt_free(clt, slabs[i].handle,
			     sizeof(struct vnode_free_req));
		if (st) {
			xt_fail("FREE_SLAB %u: %d", i, st);
			return -EIO;
		}
	}
	return 0;
}

static int xt_mode_rdma(void)
{
	struct vnode_stats_rsp st0, st;
	struct vnode_accept acc;
	struct vnode_xprt_clt *clt;
	struct xt_slab *slabs;
	int ret;

	clt = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	slab_bytes = 1U << le16_to_cpu(acc.slab_shift);
	slabs = kcalloc(nr_slabs, sizeof(*slabs), GFP_KERNEL);
	ret = -ENOMEM;
	if (!slabs)
		goto out_close;

	ret = xt_stats(clt, &st0);
	if (ret) {
		xt_fail("STATS: %d", ret);
		goto out_free;
	}
	ret = xt_alloc_n(clt, slabs, nr_slabs);
	if (ret)
		goto out_free;

	ret = xt_pass(clt, slabs, nr_slabs, false, true);
	if (ret) {
		xt_fail("fresh slabs do not read as zeroes: %d", ret);
		goto out_free;
	}
	ret = xt_pass(clt, slabs, nr_slabs, true, false);
	if (!ret)
		ret = xt_pass(clt, slabs, nr_slabs, false, false);
	if (ret) {
		xt_fail("write/read-back verify: %d", ret);
		goto out_free;
	}

	ret = xt_stats(clt, &st);
	if (ret || le64_to_cpu(st.client_used) != (u64)nr_slabs * slab_bytes ||
	    le64_to_cpu(st.used) != le64_to_cpu(st0.used) +
	    (u64)nr_slabs * slab_bytes) {
		xt_fail("STATS after alloc: ret %d client_used %llu used %llu (before %llu)",
			ret, le64_to_cpu(st.client_used), le64_to_cpu(st.used),
			le64_to_cpu(st0.used));
		ret = -EIO;
		goto out_free;
	}

	ret = xt_free(clt, 0xfffffff0ULL, sizeof(struct vnode_free_req));
	if (ret != VNODE_ST_NOENT) {
		xt_fail("FREE_SLAB of a bogus handle returned %d, expected NOENT",
			ret);
		ret = -EIO;
		goto out_free;
	}
	ret = xt_free_n(clt, slabs, nr_slabs);
	if (ret)
		goto out_free;
	ret = xt_stats(clt, &st);
	if (ret || st.client_used || st.used != st0.used) {
		xt_fail("STATS after free: client_used %llu used %llu",
			le64_to_cpu(st.client_used), le64_to_cpu(st.used));
		ret = -EIO;
		goto out_free;
	}
	snprintf(result, sizeof(result),
		 "PASS rdma slabs=%u pages=%u slab=%u server=%016llx eagain=%d",
		 nr_slabs, nr_slabs * (slab_bytes >> PAGE_SHIFT), slab_bytes,
		 vnode_xprt_clt_server_id(clt), atomic_read(&nr_eagain));
	ret = 0;
out_free:
	kfree(slabs);
out_close:
	vnode_xprt_clt_close(clt);
	return ret;
}

static int xt_mode_close_held(void)
{
	struct page *pages[XT_BATCH] = {};
	u64 raddr[XT_BATCH];
	struct vnode_xprt_clt *clt;
	struct vnode_accept acc;
	struct xt_batch *b;
	struct xt_slab slab;
	unsigned int i, ok = 0;
	int ret, st;
	u64 t0, close_ms;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	init_completion(&b->done);
	for (i = 0; i < XT_BATCH; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i]) {
			ret = -ENOMEM;
			goto out_pages;
		}
		memset(page_address(pages[i]), 0x5a, PAGE_SIZE);
	}
	clt = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		ret = PTR_ERR(clt);
		goto out_pages;
	}
	slab_bytes = 1U << le16_to_cpu(acc.slab_shift);
	st = xt_alloc(clt, 0, &slab);
	if (st) {
		xt_fail("ALLOC_SLAB: %d", st);
		vnode_xprt_clt_close(clt);
		ret = -EIO;
		goto out_pages;
	}
	for (i = 0; i < XT_BATCH; i++)
		raddr[i] = slab.addr + (u64)i * PAGE_SIZE;
	atomic_set(&b->pending, 1);
	ret = xt_batch_post(clt, b, false, pages, raddr, slab.rkey, XT_BATCH);
	/* Their wire completions are in: the fabric holds them. */
	msleep(100);
	t0 = ktime_get_ns();
	vnode_xprt_clt_close(clt);
	close_ms = div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC);
	/* The pages stay ours only if every op was reported. */
	if (atomic_read(&b->pending) != 1) {
		xt_fail("%d READs not reported when close returned",
			atomic_read(&b->pending) - 1);
		return -EIO;	/* @b and the pages leak on purpose */
	}
	if (ret) {
		xt_fail("post READ: %d", ret);
		goto out_pages;
	}
	for (i = 0; i < XT_BATCH; i++)
		ok += memchr_inv(page_address(pages[i]), 0, PAGE_SIZE) == NULL;
	if (atomic_read(&b->errors) || ok != XT_BATCH) {
		xt_fail("close_held: %d errors, %u of %u pages read as zeroes",
			atomic_read(&b->errors), ok, XT_BATCH);
		ret = -EIO;
		goto out_pages;
	}
	snprintf(result, sizeof(result),
		 "PASS close_held ops=%u ok=%u close_ms=%llu", XT_BATCH, ok,
		 close_ms);
	ret = 0;
out_pages:
	xt_free_pages(pages, XT_BATCH);
	kfree(b);
	return ret;
}

static int xt_mode_probe(void)
{
	struct vnode_stats_rsp st;
	struct vnode_xprt_clt *clt;
	struct xt_slab s;
	int ret;

	clt = xt_open(VNODE_ROLE_PROBE, 0, 0, NULL);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	ret = xt_stats(clt, &st);
	if (ret) {
		xt_fail("STATS: %d", ret);
		goto out;
	}
	ret = xt_alloc(clt, 0, &s);
	if (ret != VNODE_ST_PERM) {
		xt_fail("probe ALLOC_SLAB returned %d, expected PERM", ret);
		ret = -EIO;
		goto out;
	}
	snprintf(result, sizeof(result),
		 "PASS probe capacity=%llu used=%llu clients=%u",
		 le64_to_cpu(st.capacity), le64_to_cpu(st.used),
		 le32_to_cpu(st.nr_clients));
	ret = 0;
out:
	vnode_xprt_clt_close(clt);
	return ret;
}

static int xt_mode_bad_major(void)
{
	struct vnode_xprt_clt *clt = xt_open(VNODE_ROLE_MEM, 99,
						 VNODE_PROTO_MINOR, NULL);

	if (!IS_ERR(clt)) {
		vnode_xprt_clt_close(clt);
		xt_fail("server accepted protocol major 99");
		return -EIO;
	}
	if (PTR_ERR(clt) != -EPROTO) {
		xt_fail("open with major 99: %ld, expected -EPROTO",
			PTR_ERR(clt));
		return -EIO;
	}
	snprintf(result, sizeof(result), "PASS bad_major rejected -EPROTO");
	return 0;
}

static int xt_mode_fill(void)
{
	struct vnode_stats_rsp st0, st;
	struct vnode_xprt_clt *clt, *clt2;
	struct vnode_accept acc;
	struct xt_slab *slabs = NULL;
	unsigned int n = 0, max;
	int ret;

	clt = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	slab_bytes = 1U << le16_to_cpu(acc.slab_shift);
	ret = xt_stats(clt, &st0);
	if (ret) {
		xt_fail("STATS: %d", ret);
		goto out;
	}
	max = (le64_to_cpu(st0.capacity) - le64_to_cpu(st0.used)) /
	      slab_bytes;
	slabs = kcalloc(max + 1, sizeof(*slabs), GFP_KERNEL);
	ret = -ENOMEM;
	if (!slabs)
		goto out;
	for (;;) {
		ret = xt_alloc(clt, n, &slabs[n]);
		if (ret == VNODE_ST_FULL)
			break;
		if (ret) {
			xt_fail("ALLOC_SLAB %u: %d", n, ret);
			ret = -EIO;
			goto out;
		}
		if (++n > max) {
			xt_fail("server handed out more than its capacity (%u slabs)",
				n);
			ret = -EIO;
			goto out;
		}
	}
	if (n != max) {
		xt_fail("FULL after %u slabs, expected %u", n, max);
		ret = -EIO;
		goto out;
	}

	clt2 = xt_open(VNODE_ROLE_MEM, 0, 0, NULL);
	if (!IS_ERR(clt2)) {
		vnode_xprt_clt_close(clt2);
		xt_fail("a new client was accepted by a full server");
		ret = -EIO;
		goto out;
	}
	if (PTR_ERR(clt2) != -ENOSPC) {
		xt_fail("new client on a full server: %ld, expected -ENOSPC",
			PTR_ERR(clt2));
		ret = -EIO;
		goto out;
	}
	/* A probe still gets in: it needs no memory. */
	clt2 = xt_open(VNODE_ROLE_PROBE, 0, 0, NULL);
	if (IS_ERR(clt2)) {
		xt_fail("probe refused by a full server: %ld", PTR_ERR(clt2));
		ret = -EIO;
		goto out;
	}
	vnode_xprt_clt_close(clt2);

	ret = xt_free_n(clt, slabs, n);
	if (ret)
		goto out;
	n = 0;
	ret = xt_stats(clt, &st);
	if (ret || st.used != st0.used) {
		xt_fail("used %llu after freeing everything, was %llu",
			le64_to_cpu(st.used), le64_to_cpu(st0.used));
		ret = -EIO;
		goto out;
	}
	snprintf(result, sizeof(result), "PASS fill slabs=%u capacity=%llu",
		 max, le64_to_cpu(st0.capacity));
	ret = 0;
out:
	kfree(slabs);
	vnode_xprt_clt_close(clt);
	return ret;
}

static int xt_mode_malformed(void)
{
	struct vnode_xprt_clt *clt;
	struct vnode_msg_hdr req = {}, rsp = {};
	struct vnode_alloc_req areq = {};
	struct vnode_alloc_rsp arsp = {};
	struct vnode_stats_rsp st;
	int ret;

	clt = xt_open(VNODE_ROLE_MEM, 0, 0, NULL);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	req.op = 200;
	ret = vnode_xprt_clt_call(clt, &req, sizeof(req), &rsp, sizeof(rsp),
				  5000);
	if (ret || le16_to_cpu(rsp.status) != VNODE_ST_INVALID) {
		xt_fail("unknown op: ret %d status %u", ret,
			le16_to_cpu(rsp.status));
		ret = -EIO;
		goto out;
	}
	/* FREE_SLAB without its body. */
	ret = xt_free(clt, 1, sizeof(struct vnode_msg_hdr));
	if (ret != VNODE_ST_INVALID) {
		xt_fail("short FREE_SLAB: %d, expected INVALID", ret);
		ret = -EIO;
		goto out;
	}
	/* ALLOC_SLAB without its body. */
	areq.hdr.op = VNODE_OP_ALLOC_SLAB;
	ret = vnode_xprt_clt_call(clt, &areq.hdr, sizeof(areq.hdr), &arsp.hdr,
				  sizeof(arsp), 5000);
	if (ret || le16_to_cpu(arsp.hdr.status) != VNODE_ST_INVALID) {
		xt_fail("short ALLOC_SLAB: ret %d status %u", ret,
			le16_to_cpu(arsp.hdr.status));
		ret = -EIO;
		goto out;
	}
	ret = xt_free(clt, 0x7fffffff, sizeof(struct vnode_free_req));
	if (ret != VNODE_ST_NOENT) {
		xt_fail("FREE_SLAB of an unknown handle: %d, expected NOENT",
			ret);
		ret = -EIO;
		goto out;
	}
	ret = xt_free(clt, 1ULL << 40, sizeof(struct vnode_free_req));
	if (ret != VNODE_ST_NOENT) {
		xt_fail("FREE_SLAB of a huge handle: %d, expected NOENT", ret);
		ret = -EIO;
		goto out;
	}
	ret = xt_stats(clt, &st);
	if (ret) {
		xt_fail("connection unusable after malformed requests: %d",
			ret);
		goto out;
	}
	snprintf(result, sizeof(result), "PASS malformed");
	ret = 0;
out:
	vnode_xprt_clt_close(clt);
	return ret;
}

/* One STOR_OPEN; returns the status or -errno. */
static int xt_stor_open(struct vnode_xprt_clt *clt, u16 compat_version,
			u64 *size)
{
	struct vnode_stor_open_req req = { .hdr.op = VNODE_OP_STOR_OPEN };
	struct vnode_stor_open_rsp rsp = {};
	int ret;

	strscpy_pad(req.volume, volume, sizeof(req.volume));
	req.compat_version = cpu_to_le16(compat_version);
	ret = vnode_xprt_clt_call(clt, &req.hdr, sizeof(req), &rsp.hdr,
				  sizeof(rsp), 5000);
	if (ret)
		return ret;
	if (!le16_to_cpu(rsp.hdr.status) &&
	    !(le32_to_cpu(rsp.flags) & VNODE_STOR_F_SRV_RDMA))
		return -EPROTO;
	*size = le64_to_cpu(rsp.size);
	return le16_to_cpu(rsp.hdr.status);
}

/* One STOR_IO of @len bytes of @req as a control call; status or -errno. */
static int xt_stor_io(struct vnode_xprt_clt *clt,
		      struct vnode_stor_io_req *req, size_t len)
{
	struct vnode_stor_io_rsp rsp = {};
	int ret;

	req->hdr.op = VNODE_OP_STOR_IO;
	ret = vnode_xprt_clt_call(clt, &req->hdr, len, &rsp.hdr, sizeof(rsp),
				  5000);
	return ret ?: le16_to_cpu(rsp.hdr.status);
}

static int xt_mode_stor_malformed(void)
{
	struct {
		const char *what;
		u8 cmd, flags;
		u64 off;
		u32 len, sgl_len, rkey;
		size_t req_len;
	} cases[] = {
		{ "read past the end", VNODE_STOR_READ, 0, ~0ULL - 4095, 4096,
		  4096, 1, 0 },
		{ "read beyond the size", VNODE_STOR_READ, 0, 0, 4096, 4096,
		  1, 0 },	/* off = size, set below */
		{ "misaligned offset", VNODE_STOR_READ, 0, 100, 4096, 4096,
		  1, 0 },
		{ "zero length", VNODE_STOR_WRITE, 0, 0, 0, 0, 1, 0 },
		{ "oversized", VNODE_STOR_WRITE, 0, 0, 1 << 20, 1 << 20, 1, 0 },
		{ "buffer shorter than the I/O", VNODE_STOR_READ, 0, 0, 8192,
		  4096, 1, 0 },
		{ "no rkey", VNODE_STOR_WRITE, 0, 0, 4096, 4096, 0, 0 },
		{ "inline without its data", VNODE_STOR_WRITE,
		  VNODE_STOR_IO_F_INLINE, 0, 4096, 0, 0, 0 },
		{ "inline read", VNODE_STOR_READ, VNODE_STOR_IO_F_INLINE, 0,
		  512, 0, 0, 0 },
		{ "unknown command", 99, 0, 0, 4096, 4096, 1, 0 },
		{ "short request", VNODE_STOR_READ, 0, 0, 4096, 4096, 1,
		  sizeof(struct vnode_msg_hdr) + 4 },
	};
	struct vnode_stor_io_req req;
	struct vnode_xprt_clt *clt;
	unsigned int i;
	u64 size = 0;
	int ret;

	/* A 1.0 client (as 1.0 clients did, it sends compat_version 0). */
	clt = xt_open(VNODE_ROLE_STOR, 1, 0, NULL);
	if (IS_ERR(clt)) {
		xt_fail("open as a 1.0 client: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	ret = xt_stor_open(clt, 0, &size);
	vnode_xprt_clt_close(clt);
	if (ret != VNODE_ST_VERSION) {
		xt_fail("OPEN from a protocol 1.0 client: %d, expected VERSION",
			ret);
		return -EIO;
	}

	clt = xt_open(VNODE_ROLE_STOR, 0, 0, NULL);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	ret = xt_stor_open(clt, VNODE_STOR_COMPAT_VERSION, &size);
	if (ret) {
		xt_fail("OPEN %s: %d", volume, ret);
		ret = -EIO;
		goto out;
	}
	cases[1].off = size;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&req, 0, sizeof(req));
		req.cmd = cases[i].cmd;
		req.flags = cases[i].flags;
		req.offset = cpu_to_le64(cases[i].off);
		req.len = cpu_to_le32(cases[i].len);
		req.sgl.addr = cpu_to_le64(0x1000);
		req.sgl.len = cpu_to_le32(cases[i].sgl_len);
		req.sgl.rkey = cpu_to_le32(cases[i].rkey);
		ret = xt_stor_io(clt, &req, cases[i].req_len ?: sizeof(req));
		if (ret != VNODE_ST_INVALID) {
			xt_fail("STOR_IO %s: %d, expected INVALID",
				cases[i].what, ret);
			ret = -EIO;
			goto out;
		}
	}
	memset(&req, 0, sizeof(req));
	req.cmd = VNODE_STOR_FLUSH;
	ret = xt_stor_io(clt, &req, sizeof(req));
	if (ret) {
		xt_fail("connection unusable after malformed STOR_IO: %d", ret);
		ret = -EIO;
		goto out;
	}
	snprintf(result, sizeof(result), "PASS stor_malformed %zu cases",
		 ARRAY_SIZE(cases));
	ret = 0;
out:
	vnode_xprt_clt_close(clt);
	return ret;
}

/* Wait up to 30 s for @clt to be LIVE (after a queue error). */
static bool xt_wait_live(struct vnode_xprt_clt *clt)
{
	unsigned int i;

	for (i = 0; i < 300; i++) {
		if (vnode_xprt_clt_state(clt) == VNODE_XPRT_LIVE)
			return true;
		msleep(100);
	}
	return false;
}

static int xt_mode_foreign(void)
{
	struct vnode_xprt_clt *victim, *thief = NULL;
	struct page *page = NULL;
	struct vnode_accept acc;
	struct xt_slab *vs, *ts;
	unsigned int w;
	int ret;

	victim = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(victim)) {
		xt_fail("open victim: %ld", PTR_ERR(victim));
		return PTR_ERR(victim);
	}
	slab_bytes = 1U << le16_to_cpu(acc.slab_shift);
	ret = -ENOMEM;
	vs = kcalloc(2 * nr_slabs, sizeof(*vs), GFP_KERNEL);
	page = alloc_page(GFP_KERNEL);
	if (!vs || !page)
		goto out;
	ts = vs + nr_slabs;
	ret = xt_alloc_n(victim, vs, nr_slabs);
	if (!ret)
		ret = xt_pass(victim, vs, nr_slabs, true, false);
	if (ret) {
		xt_fail("victim write: %d", ret);
		goto out;
	}
	thief = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(thief)) {
		ret = PTR_ERR(thief);
		thief = NULL;
		xt_fail("open thief: %d", ret);
		goto out;
	}
	/* The victim's last slab, READ then WRITE, on the thief's QP. */
	for (w = 0; w < 2; w++) {
		u64 raddr = vs[nr_slabs - 1].addr;

		memset(page_address(page), 0x5a, PAGE_SIZE);
		ret = xt_rdma_batch(thief, w, &page, &raddr,
				    vs[nr_slabs - 1].rkey, 1);
		if (ret != -EIO) {
			xt_fail("thief's %s with the victim's rkey: %d, expected an access error",
				w ? "WRITE" : "READ", ret);
			ret = -EIO;
			goto out;
		}
		if (!xt_wait_live(thief)) {
			xt_fail("thief not LIVE again after its access error");
			ret = -EIO;
			goto out;
		}
	}
	ret = xt_pass(victim, vs, nr_slabs, false, false);
	if (ret) {
		xt_fail("victim's data after the thief's attempts: %d", ret);
		goto out;
	}
	/* Freed memory handed to another client reads as zeroes. */
	ret = xt_free_n(victim, vs, nr_slabs);
	if (ret)
		goto out;
	ret = xt_alloc_n(thief, ts, nr_slabs);
	if (!ret)
		ret = xt_pass(thief, ts, nr_slabs, false, true);
	if (ret) {
		xt_fail("the victim's freed memory, handed to the thief, is not zero: %d",
			ret);
		goto out;
	}
	ret = xt_free_n(thief, ts, nr_slabs);
	if (ret)
		goto out;
	snprintf(result, sizeof(result),
		 "PASS foreign slabs=%u: READ and WRITE with the victim's rkey failed, victim intact, freed memory reads zero",
		 nr_slabs);
	ret = 0;
out:
	if (thief)
		vnode_xprt_clt_close(thief);
	vnode_xprt_clt_close(victim);
	if (page)
		__free_page(page);
	kfree(vs);
	return ret;
}

/* One lease op (RESERVE with @bytes, RELEASE, RENEW); status or -errno. */
static int xt_lease(struct vnode_xprt_clt *clt, u8 op, u64 id, u64 bytes,
		    size_t len, struct vnode_lease_rsp *rsp)
{
	struct vnode_reserve_req req = { .hdr.op = op };
	int ret;

	req.lease_id = cpu_to_le64(id);
	req.bytes = cpu_to_le64(bytes);
	memset(rsp, 0, sizeof(*rsp));
	ret = vnode_xprt_clt_call(clt, &req.hdr, len, &rsp->hdr, sizeof(*rsp),
				  5000);
	return ret ?: le16_to_cpu(rsp->hdr.status);
}

/* @got is @want, else the test fails saying @what. */
static bool xt_expect(const char *what, s64 got, s64 want)
{
	if (got == want)
		return true;
	xt_fail("%s: %lld, expected %lld", what, got, want);
	return false;
}

#define XT_RES	sizeof(struct vnode_reserve_req)
#define XT_REL	sizeof(struct vnode_release_req)
#define XT_HDR	sizeof(struct vnode_msg_hdr)

static int xt_mode_lease(void)
{
	struct vnode_xprt_clt *clt, *mem = NULL, *old = NULL;
	struct vnode_leases_req lreq = { .hdr.op = VNODE_OP_LEASES };
	struct vnode_leases_rsp lrsp;
	struct vnode_stats_rsp st;
	struct vnode_lease_rsp r;
	u64 cap, slab, limit;
	struct xt_slab s;
	int ret;

	clt = xt_open(VNODE_ROLE_PROBE, 0, 0, NULL);
	if (IS_ERR(clt)) {
		xt_fail("open: %ld", PTR_ERR(clt));
		return PTR_ERR(clt);
	}
	ret = xt_stats(clt, &st);
	if (!xt_expect("STATS", ret, 0) ||
	    !xt_expect("STATS length", le32_to_cpu(st.hdr.len), sizeof(st)) ||
	    !xt_expect("leased on a fresh host", le64_to_cpu(st.leased), 0))
		goto fail;
	cap = le64_to_cpu(st.capacity);
	slab = 1ULL << le16_to_cpu(st.slab_shift);

	ret = xt_lease(clt, VNODE_OP_RESERVE, 0, slab, XT_RES, &r);
	if (!xt_expect("RESERVE id 0", ret, VNODE_ST_INVALID))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RESERVE, 1, 0, XT_RES, &r);
	if (!xt_expect("RESERVE 0 bytes", ret, VNODE_ST_INVALID))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RESERVE, 1, slab, XT_HDR, &r);
	if (!xt_expect("short RESERVE", ret, VNODE_ST_INVALID))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RELEASE, 1, 0, XT_HDR, &r);
	if (!xt_expect("short RELEASE", ret, VNODE_ST_INVALID))
		goto fail;

	/* client_share=50: the quota binds before the capacity */
	ret = xt_lease(clt, VNODE_OP_RESERVE, 1, cap, XT_RES, &r);
	limit = le64_to_cpu(r.limit);
	if (!xt_expect("RESERVE past the quota", ret, VNODE_ST_QUOTA) ||
	    !xt_expect("quota", limit, cap / 2) ||
	    !xt_expect("avail past the quota", le64_to_cpu(r.avail), limit) ||
	    !xt_expect("leases after a refusal", le32_to_cpu(r.nr_leases), 0))
		goto fail;

	/* rounded up to whole slabs; then grown, then shrunk */
	ret = xt_lease(clt, VNODE_OP_RESERVE, 1, slab + 1, XT_RES, &r);
	if (!xt_expect("RESERVE slab+1", ret, VNODE_ST_OK) ||
	    !xt_expect("leased, rounded up", le64_to_cpu(r.leased), 2 * slab))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RESERVE, 2, limit - 2 * slab, XT_RES, &r);
	if (!xt_expect("RESERVE lease 2", ret, VNODE_ST_OK) ||
	    !xt_expect("leased at the quota", le64_to_cpu(r.leased), limit) ||
	    !xt_expect("leases", le32_to_cpu(r.nr_leases), 2))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RESERVE, 3, slab, XT_RES, &r);
	if (!xt_expect("RESERVE lease 3", ret, VNODE_ST_QUOTA) ||
	    !xt_expect("avail at the quota", le64_to_cpu(r.avail), 0))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RESERVE, 2, slab, XT_RES, &r);
	if (!xt_expect("shrink lease 2", ret, VNODE_ST_OK) ||
	    !xt_expect("leased after it", le64_to_cpu(r.leased), 3 * slab))
		goto fail;

	/* a slab of our identity's memory client is charged to us */
	mem = xt_open(VNODE_ROLE_MEM, 0, 0, NULL);
	if (IS_ERR(mem)) {
		xt_fail("open MEM: %ld", PTR_ERR(mem));
		ret = PTR_ERR(mem);
		mem = NULL;
		goto out;
	}
	ret = xt_lease(mem, VNODE_OP_RESERVE, 9, slab, XT_RES, &r);
	if (!xt_expect("RESERVE from a MEM client", ret, VNODE_ST_PERM) ||
	    !xt_expect("ALLOC_SLAB", xt_alloc(mem, 0, &s), VNODE_ST_OK))
		goto fail;
	ret = xt_stats(clt, &st);
	if (!xt_expect("STATS", ret, 0) ||
	    !xt_expect("committed", le64_to_cpu(st.committed), 3 * slab) ||
	    !xt_expect("client_leased", le64_to_cpu(st.client_leased),
		       3 * slab))
		goto fail;
	ret = vnode_xprt_clt_call(clt, &lreq.hdr, sizeof(lreq), &lrsp.hdr,
				  sizeof(lrsp), 5000);
	if (!xt_expect("LEASES", ret ?: le16_to_cpu(lrsp.hdr.status), 0) ||
	    !xt_expect("LEASES total", le16_to_cpu(lrsp.total), 1) ||
	    !xt_expect("LEASES next", le16_to_cpu(lrsp.next), 0) ||
	    !xt_expect("its leased", le64_to_cpu(lrsp.ent[0].leased),
		       3 * slab) ||
	    !xt_expect("its held", le64_to_cpu(lrsp.ent[0].held), slab) ||
	    !xt_expect("its clients", le32_to_cpu(lrsp.ent[0].nr_clients), 1) ||
	    !xt_expect("its leases", le32_to_cpu(lrsp.ent[0].nr_leases), 2) ||
	    !xt_expect("FREE_SLAB", xt_free(mem, s.handle,
					    sizeof(struct vnode_free_req)),
		       VNODE_ST_OK))
		goto fail;

	ret = xt_lease(clt, VNODE_OP_RELEASE, 2, 0, XT_REL, &r);
	if (!xt_expect("RELEASE lease 2", ret, VNODE_ST_OK))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RELEASE, 2, 0, XT_REL, &r);
	if (!xt_expect("RELEASE it again", ret, VNODE_ST_NOENT))
		goto fail;
	ret = xt_lease(clt, VNODE_OP_RENEW, 0, 0, XT_HDR, &r);
	if (!xt_expect("RENEW", ret, VNODE_ST_OK) ||
	    !xt_expect("leases after it", le32_to_cpu(r.nr_leases), 1) ||
	    !xt_expect("leased after it", le64_to_cpu(r.leased), 2 * slab) ||
	    !xt_expect("lease_ms set", !!le32_to_cpu(r.lease_ms), 1))
		goto fail;

	/* a 1.3 probe: no leases, the old STATS */
	old = xt_open(VNODE_ROLE_PROBE, VNODE_PROTO_MAJOR, 3, NULL);
	if (IS_ERR(old)) {
		xt_fail("open 1.3: %ld", PTR_ERR(old));
		ret = PTR_ERR(old);
		old = NULL;
		goto out;
	}
	ret = xt_lease(old, VNODE_OP_RENEW, 0, 0, XT_HDR, &r);
	if (!xt_expect("RENEW from 1.3", ret, VNODE_ST_VERSION))
		goto fail;
	ret = xt_stats(old, &st);
	if (!xt_expect("STATS 1.3", ret, 0) ||
	    !xt_expect("its length", le32_to_cpu(st.hdr.len),
		       VNODE_STATS_RSP_LEN_1_3))
		goto fail;
	snprintf(result, sizeof(result), "PASS lease slab=%llu limit=%llu",
		 slab, limit);
	ret = 0;
	goto out;
fail:
	ret = -EIO;
out:
	if (old)
		vnode_xprt_clt_close(old);
	if (mem)
		vnode_xprt_clt_close(mem);
	vnode_xprt_clt_close(clt);
	return ret;
}

static int xt_mode_hold(void)
{
	struct vnode_accept acc;
	int ret;

	hold_clt = xt_open(VNODE_ROLE_MEM, 0, 0, &acc);
	if (IS_ERR(hold_clt)) {
		ret = PTR_ERR(hold_clt);
		hold_clt = NULL;
		xt_fail("open: %d", ret);
		return ret;
	}
	slab_bytes = 1U << le16_to_cpu(acc.slab_shift);
	hold_slabs = kcalloc(nr_slabs, sizeof(*hold_slabs), GFP_KERNEL);
	ret = -ENOMEM;
	if (!hold_slabs)
		goto out_close;
	ret = xt_alloc_n(hold_clt, hold_slabs, nr_slabs);
	if (ret)
		goto out_close;
	hold_nr = nr_slabs;
	ret = xt_pass(hold_clt, hold_slabs, hold_nr, true, false);
	if (ret) {
		xt_fail("write: %d", ret);
		goto out_close;
	}
	snprintf(result, sizeof(result), "HOLD slabs=%u server=%016llx",
		 hold_nr, vnode_xprt_clt_server_id(hold_clt));
	return 0;

out_close:
	kfree(hold_slabs);
	hold_slabs = NULL;
	vnode_xprt_clt_close(hold_clt);
	hold_clt = NULL;
	return ret;
}

static int xt_verify_set(const char *val, const struct kernel_param *kp)
{
	int ret;

	if (!hold_clt)
		return -ENOTCONN;
	ret = xt_pass(hold_clt, hold_slabs, hold_nr, false, false);
	if (ret)
		xt_fail("verify: %d (state %s)", ret,
			vnode_xprt_state_str(vnode_xprt_clt_state(hold_clt)));
	else
		snprintf(result, sizeof(result),
			 "PASS verify slabs=%u server=%016llx", hold_nr,
			 vnode_xprt_clt_server_id(hold_clt));
	return ret;
}

static const struct kernel_param_ops xt_verify_ops = {
	.set = xt_verify_set,
};
module_param_cb(verify, &xt_verify_ops, NULL, 0200);
MODULE_PARM_DESC(verify, "hold mode: write 1 to read back and verify every page");

static int xt_state_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s %d\n", hold_clt ?
			  vnode_xprt_state_str(vnode_xprt_clt_state(hold_clt)) :
			  "NONE", atomic_read(&nr_state_changes));
}

static const struct kernel_param_ops xt_state_ops = {
	.get = xt_state_get,
};
module_param_cb(state, &xt_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "hold mode: connection state and number of state changes");

static int __init xt_init(void)
{
	int ret;

	if (!server) {
		pr_err("server= is required\n");
		return -EINVAL;
	}
	if (!strcmp(mode, "rdma"))
		ret = xt_mode_rdma();
	else if (!strcmp(mode, "probe"))
		ret = xt_mode_probe();
	else if (!strcmp(mode, "bad_major"))
		ret = xt_mode_bad_major();
	else if (!strcmp(mode, "fill"))
		ret = xt_mode_fill();
	else if (!strcmp(mode, "malformed"))
		ret = xt_mode_malformed();
	else if (!strcmp(mode, "stor_malformed"))
		ret = xt_mode_stor_malformed();
	else if (!strcmp(mode, "foreign"))
		ret = xt_mode_foreign();
	else if (!strcmp(mode, "lease"))
		ret = xt_mode_lease();
	else if (!strcmp(mode, "hold"))
		ret = xt_mode_hold();
	else if (!strcmp(mode, "close_held"))
		ret = xt_mode_close_held();
	else
		ret = -EINVAL;
	if (ret == -EINVAL && !strcmp(result, "none"))
		pr_err("unknown mode '%s'\n", mode);
	if (!ret)
		pr_info("%s\n", result);
	return ret;
}

static void __exit xt_exit(void)
{
	if (hold_clt) {
		vnode_xprt_clt_close(hold_clt);
		kfree(hold_slabs);
	}
}

module_init(xt_init);
module_exit(xt_exit);

MODULE_DESCRIPTION("vnode_xprt self-test client (lab tests only)");
MODULE_LICENSE("GPL");
MODULE_VERSION(VNODE_VERSION);
