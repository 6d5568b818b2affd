// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_proc: protection profiles (docs/protection.md).  A page is
 * protected as its own vNode says when it is written, and the slot keeps
 * that profile and what its check needs, here on the process host:
 *
 *   crc   a CRC32C of the page
 *   aead  the page leaves encrypted and authenticated with AES-256-GCM
 *         under its vNode's key, made here and never sent anywhere; the
 *         nonce is the vNode's write counter (never repeats for a key) and
 *         the slot number is authenticated with it, so a page that was
 *         changed, replayed (an older nonce) or moved to another slot fails
 *
 * When a swap-in lands, each page is checked (aead: decrypted in place)
 * before the request completes; proc_io.c handles one that fails.
 *
 * The AEAD transform is synchronous (CRYPTO_ALG_ASYNC masked out): pages
 * are sealed in queue_rq and opened in the RDMA completion, where waiting
 * for an asynchronous one is not possible.
 */
#include "proc.h"

#include <crypto/aead.h>
#include <linux/crc32c.h>
#include <linux/highmem.h>
#include <linux/mempool.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#define VNODE_AEAD_ALG		"gcm(aes)"
#define VNODE_AEAD_KEY		32	/* AES-256 */
#define VNODE_AEAD_IV		12

static u32 vnmem_page_crc(struct page *page)
{
	void *p = kmap_local_page(page);
	u32 crc = crc32c(~0U, p, VNMEM_SLOT_SIZE);

	kunmap_local(p);
	return crc;
}

/* ------------------------------------------------------------------ */
/* aead                                                                */
/* ------------------------------------------------------------------ */

/* A vNode's key and transform: made once, kept until the vNode goes. */
int vnode_acct_aead_init(struct vnode_acct *a)
{
	struct crypto_aead *tfm;
	u8 key[VNODE_AEAD_KEY];
	int ret;

	if (a->aead)
		return 0;
	tfm = vnode_fault_err(crypto_alloc_aead(VNODE_AEAD_ALG, 0,
						CRYPTO_ALG_ASYNC));
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	get_random_bytes(key, sizeof(key));
	ret = crypto_aead_setkey(tfm, key, sizeof(key));
	memzero_explicit(key, sizeof(key));
	if (!ret)
		ret = crypto_aead_setauthsize(tfm, VNMEM_AEAD_TAG);
	if (ret) {
		crypto_free_aead(tfm);
		return ret;
	}
	pr_info("vnodes/%s: aead: AES-256-GCM (%s), key made on this host\n",
		config_item_name(&a->item),
		crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm)));
	/* pairs with smp_load_acquire() in vnmem_seal(), vnmem_check_page() */
	smp_store_release(&a->aead, tfm);
	return 0;
}

/* The vNode is gone: no lookup finds it any more.  Process context. */
void vnode_acct_aead_exit(struct vnode_acct *a)
{
	if (!a->aead)
		return;
	synchronize_rcu();	/* completions still using the transform */
	crypto_free_aead(a->aead);	/* zeroes the key schedule */
	a->aead = NULL;
}

struct vnmem_aead_op {
	__le64			ad_src;
	__le64			ad_dst;
	u8			iv[VNODE_AEAD_IV];
	u8			tag[VNMEM_AEAD_TAG];
	struct scatterlist	src[3];
	struct scatterlist	dst[3];
	struct aead_request	req;	/* followed by the transform's context */
};

/*
 * Seal @src into @dst (@tag out), or open @src in place (@dst == @src,
 * @tag in).  Any context.  Returns 0, -EBADMSG when the page fails
 * authentication, or -ENOMEM.
 */
static int vnmem_aead_crypt(struct crypto_aead *tfm, bool seal, u64 slot,
			    u64 seq, struct page *src, struct page *dst,
			    u8 *tag)
{
	struct vnmem_aead_op *op;
	int ret;

	op = kzalloc(sizeof(*op) + crypto_aead_reqsize(tfm), GFP_ATOMIC);
	if (!op)
		return -ENOMEM;
	op->ad_src = cpu_to_le64(slot);
	op->ad_dst = cpu_to_le64(seq);	/* the nonce: 64-bit counter, 0 */
	memcpy(op->iv, &op->ad_dst, sizeof(op->ad_dst));
	op->ad_dst = op->ad_src;
	sg_init_table(op->src, 3);
	sg_set_buf(&op->src[0], &op->ad_src, sizeof(op->ad_src));
	sg_set_page(&op->src[1], src, VNMEM_SLOT_SIZE, 0);
	sg_set_buf(&op->src[2], op->tag, VNMEM_AEAD_TAG);
	aead_request_set_tfm(&op->req, tfm);
	aead_request_set_callback(&op->req, 0, NULL, NULL);
	aead_request_set_ad(&op->req, sizeof(op->ad_src));
	if (seal) {
		sg_init_table(op->dst, 3);
		sg_set_buf(&op->dst[0], &op->ad_dst, sizeof(op->ad_dst));
		sg_set_page(&op->dst[1], dst, VNMEM_SLOT_SIZE, 0);
		sg_set_buf(&op->dst[2], op->tag, VNMEM_AEAD_TAG);
		aead_request_set_crypt(&op->req, op->src, op->dst,
				       VNMEM_SLOT_SIZE, op->iv);
		ret = crypto_aead_encrypt(&op->req);
		if (!ret)
			memcpy(tag, op->tag, VNMEM_AEAD_TAG);
	} else {
		memcpy(op->tag, tag, VNMEM_AEAD_TAG);
		aead_request_set_crypt(&op->req, op->src, op->src,
				       VNMEM_SLOT_SIZE + VNMEM_AEAD_TAG, op->iv);
		ret = crypto_aead_decrypt(&op->req);
	}
	kfree_sensitive(op);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

/*
 * A write starts: note how each page is protected (each page's own vNode
 * decides: a request may, rarely, mix memory cgroups) and take the CRCs.
 * aead pages are sealed by vnmem_seal().  RCU read side.
 */
void vnmem_protect_write(struct vnmem_cmd *cmd, struct vnode_acct *a)
{
	unsigned int i;
	u64 cgid;

	cmd->crc_mask = 0;
	cmd->aead_mask = 0;
	cmd->sealed = false;
	for (i = 0; i < cmd->nr_pages; i++) {
		if (i)
			a = vnode_acct_find(cmd->bv[i].bv_page, &cgid);
		if (!a)
			continue;
		switch (READ_ONCE(a->protect)) {
		case VNODE_PROTECT_CRC:
			cmd->crc_mask |= 1U << i;
			cmd->crc[i] = vnmem_page_crc(cmd->bv[i].bv_page);
			break;
		case VNODE_PROTECT_AEAD:
			cmd->aead_mask |= 1U << i;
			cmd->key[i] = a->id;
			break;
		}
	}
}

/* Give back the pages vnmem_seal() took and put the write's own back. */
void vnmem_unseal(struct vnmem_disk *d, struct vnmem_cmd *cmd)
{
	unsigned int i;

	for (i = 0; i < cmd->nr_pages; i++) {
		if (!(cmd->bounce_mask & (1U << i)))
			continue;
		mempool_free(cmd->bv[i].bv_page, d->bounce);
		cmd->bv[i].bv_page = cmd->orig[i];
	}
	cmd->bounce_mask = 0;
	cmd->sealed = false;
}

/*
 * Seal the write's aead pages into pages of the disk's bounce pool, which
 * then go on the wire in their place (the page being swapped out must not
 * change: the swap cache may still serve it).  Returns 0, -ENOMEM (try
 * again later) or -ENOKEY (the vNode and its key are gone).
 */
int vnmem_seal(struct vnmem_disk *d, struct vnmem_cmd *cmd)
{
	u64 slot = blk_rq_pos(blk_mq_rq_from_pdu(cmd)) / VNMEM_SECT_PER_SLOT;
	struct crypto_aead *tfm;
	struct vnode_acct *a;
	struct page *bounce;
	unsigned int i;
	int ret = 0;

	/*
	 * Every disk has its aead state before a vNode becomes aead
	 * (vnmem_aead_prepare()), so this refusal is only a guard.
	 * Pairs with smp_store_release() in vnmem_aead_alloc(): @bounce too.
	 */
	if (!smp_load_acquire(&d->aead))
		return -ENOKEY;
	rcu_read_lock();
	for (i = 0; i < cmd->nr_pages && !ret; i++) {
		if (!(cmd->aead_mask & (1U << i)))
			continue;
		a = vnode_acct_by_id(cmd->key[i]);
		/* pairs with smp_store_release() in vnode_acct_aead_init() */
		tfm = a ? smp_load_acquire(&a->aead) : NULL;
		if (!tfm) {
			ret = -ENOKEY;
			break;
		}
		bounce = mempool_alloc(d->bounce, GFP_NOWAIT | __GFP_NOWARN);
		if (!bounce) {
			ret = -ENOMEM;
			break;
		}
		cmd->seq[i] = atomic64_inc_return(&a->aead_seq);
		ret = vnmem_aead_crypt(tfm, true, slot + i, cmd->seq[i],
				       cmd->bv[i].bv_page, bounce, cmd->tag[i]);
		if (ret) {
			mempool_free(bounce, d->bounce);
			break;
		}
		cmd->orig[i] = cmd->bv[i].bv_page;
		cmd->bv[i].bv_page = bounce;
		cmd->bounce_mask |= 1U << i;
	}
	rcu_read_unlock();
	if (ret) {
		vnmem_unseal(d, cmd);	/* the next attempt starts over */
		return ret;
	}
	cmd->sealed = true;
	return 0;
}

/*
 * The write landed on at least one copy: the slots now hold what it wrote.
 * map_lock held.
 */
void vnmem_protect_commit(struct vnmem_disk *d, struct vnmem_cmd *cmd,
			  u64 slot)
{
	unsigned int i;
	u8 p;

	for (i = 0; i < cmd->nr_pages; i++) {
		p = VNODE_PROTECT_NONE;
		if (cmd->crc_mask & (1U << i)) {
			p = VNODE_PROTECT_CRC;
			WRITE_ONCE(d->crc[slot + i], cmd->crc[i]);
		} else if (cmd->aead_mask & (1U << i)) {
			struct vnmem_aead_meta *m = &d->aead[slot + i];

			p = VNODE_PROTECT_AEAD;
			m->seq = cmd->seq[i];
			m->key = cmd->key[i];
			memcpy(m->tag, cmd->tag[i], VNMEM_AEAD_TAG);
		}
		WRITE_ONCE(d->protect[slot + i], p);
	}
}

/* ------------------------------------------------------------------ */
/* Reads                                                               */
/* ------------------------------------------------------------------ */

/*
 * @page holds what was read for @slot: check it against what its last
 * write recorded (aead: open it in place).  Any context.  Returns 0,
 * -EBADMSG when it fails, -ENOMEM when it could not be checked now.
 */
int vnmem_check_page(struct vnmem_disk *d, u64 slot, struct page *page)
{
	struct vnmem_aead_meta m;
	struct crypto_aead *tfm;
	struct vnode_acct *a;
	int ret;

	switch (READ_ONCE(d->protect[slot])) {
	case VNODE_PROTECT_CRC:
		return vnmem_page_crc(page) == READ_ONCE(d->crc[slot]) ?
		       0 : -EBADMSG;
	case VNODE_PROTECT_AEAD:
		m = d->aead[slot];
		rcu_read_lock();
		a = vnode_acct_by_id(m.key);
		/* pairs with smp_store_release() in vnode_acct_aead_init() */
		tfm = a ? smp_load_acquire(&a->aead) : NULL;
		/* no key (the vNode is gone): the page cannot be opened */
		ret = tfm ? vnmem_aead_crypt(tfm, false, slot, m.seq, page,
					     page, m.tag) : -EBADMSG;
		rcu_read_unlock();
		return ret == -ENOMEM ? ret : ret ? -EBADMSG : 0;
	default:
		return 0;
	}
}
