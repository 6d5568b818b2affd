// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt authentication: the cluster key and the HMAC-SHA256 of the
 * connect handshake (protocol 1.3, see the top of proto.h).
 *
 * The key lives in configfs, as nvmet keeps its host secrets there:
 *   /sys/kernel/config/vnode_xprt/key              write-only: hex, 16..64 bytes
 *   /sys/kernel/config/vnode_xprt/retire_previous  write 1: forget the old key
 *   /sys/kernel/config/vnode_xprt/status           root only: key ids, mode
 * Writing a new key keeps the one it replaces as the previous key, which
 * both sides still accept, so that a cluster rotates its key host by host
 * without a restart (docs/security.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/hash.h>
#include <crypto/algapi.h>
#include <linux/configfs.h>
#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "xprt_priv.h"

static bool vnode_xprt_insecure;
module_param_named(insecure, vnode_xprt_insecure, bool, 0444);
MODULE_PARM_DESC(insecure,
		 "serve and connect without a cluster key (no authentication; for tests of old peers only)");

#define AUTH_KEY_MIN	16
#define AUTH_KEY_MAX	64

struct auth_key {
	u8	bytes[AUTH_KEY_MAX];
	u8	len;
};

/* Protects the keys and the tfm (whose key is set per computation). */
static DEFINE_MUTEX(auth_lock);
static struct auth_key auth_keys[VNODE_AUTH_NR_SLOTS];
static struct crypto_shash *auth_tfm;

bool vnode_auth_insecure(void)
{
	return vnode_xprt_insecure;
}

bool vnode_auth_has_key(void)
{
	return vnode_auth_key_slot_used(VNODE_AUTH_CURRENT);
}

/*
 * HMAC-SHA256 with the key in @slot over @label (VNODE_AUTH_LABEL_LEN
 * bytes) and then @nr parts.  -ENOKEY when the slot is empty.
 */
int vnode_auth_hmac(unsigned int slot, const char *label,
		    const struct kvec *parts, unsigned int nr,
		    u8 out[VNODE_AUTH_HMAC_LEN])
{
	SHASH_DESC_ON_STACK(desc, auth_tfm);
	unsigned int i;
	int ret;

	mutex_lock(&auth_lock);
	if (slot >= VNODE_AUTH_NR_SLOTS || !auth_keys[slot].len) {
		ret = -ENOKEY;
		goto out;
	}
	ret = crypto_shash_setkey(auth_tfm, auth_keys[slot].bytes,
				  auth_keys[slot].len);
	if (ret)
		goto out;
	desc->tfm = auth_tfm;
	ret = crypto_shash_init(desc);
	if (!ret)
		ret = crypto_shash_update(desc, label, VNODE_AUTH_LABEL_LEN);
	for (i = 0; !ret && i < nr; i++)
		ret = crypto_shash_update(desc, parts[i].iov_base,
					  parts[i].iov_len);
	if (!ret)
		ret = crypto_shash_final(desc, out);
	shash_desc_zero(desc);
out:
	mutex_unlock(&auth_lock);
	return ret;
}

/* H: the hello's first 24 bytes, with its auth byte zero. */
static void auth_core(const struct vnode_hello *hello,
		      u8 core[VNODE_AUTH_CORE_LEN])
{
	struct vnode_hello h;

	memcpy(&h, hello, VNODE_AUTH_CORE_LEN);
	h.auth = 0;
	memcpy(core, &h, VNODE_AUTH_CORE_LEN);
}

int vnode_auth_hello_mac(unsigned int slot, const char *label,
			 const struct vnode_hello *hello, const u8 *cnonce,
			 const u8 *snonce, u8 out[VNODE_AUTH_HMAC_LEN])
{
	u8 core[VNODE_AUTH_CORE_LEN];
	struct kvec parts[] = {
		{ core, sizeof(core) },
		{ (void *)cnonce, VNODE_AUTH_NONCE_LEN },
		{ (void *)snonce, VNODE_AUTH_SNONCE_LEN },
	};

	auth_core(hello, core);
	return vnode_auth_hmac(slot, label, parts, ARRAY_SIZE(parts), out);
}

int vnode_auth_accept_mac(unsigned int slot, const struct vnode_accept *acc,
			  const u8 *cnonce, const u8 *snonce,
			  u8 out[VNODE_AUTH_MAC_LEN])
{
	u8 mac[VNODE_AUTH_HMAC_LEN];
	struct kvec parts[] = {
		{ (void *)cnonce, VNODE_AUTH_NONCE_LEN },
		{ (void *)snonce, VNODE_AUTH_SNONCE_LEN },
		{ (void *)acc, VNODE_ACCEPT_MAC_OFF },
	};
	int ret;

	ret = vnode_auth_hmac(slot, VNODE_AUTH_LABEL_ACCEPT, parts,
			      ARRAY_SIZE(parts), mac);
	if (!ret)
		memcpy(out, mac, VNODE_AUTH_MAC_LEN);
	memzero_explicit(mac, sizeof(mac));
	return ret;
}

/*
 * A short public id of a key, for `status` and logs: the first 4 bytes
 * of HMAC(K, "vnode-1.3 key id"), so that an admin can tell whether two
 * hosts hold the same key without showing it.
 */
static int auth_key_id(unsigned int slot, u8 id[4])
{
	u8 mac[VNODE_AUTH_HMAC_LEN];
	int ret;

	ret = vnode_auth_hmac(slot, "vnode-1.3 key id", NULL, 0, mac);
	if (!ret)
		memcpy(id, mac, 4);
	return ret;
}

/* ------------------------------------------------------------------ */
/* configfs                                                            */
/* ------------------------------------------------------------------ */

static ssize_t auth_key_store(struct config_item *item, const char *page,
			      size_t count)
{
	struct auth_key key = {};
	size_t len = count;
	u8 id[4];

	if (len && page[len - 1] == '\n')
		len--;
	if (len % 2 || len < 2 * AUTH_KEY_MIN || len > 2 * AUTH_KEY_MAX) {
		pr_err("key: %d to %d hex digits expected\n",
		       2 * AUTH_KEY_MIN, 2 * AUTH_KEY_MAX);
		return -EINVAL;
	}
	if (hex2bin(key.bytes, page, len / 2)) {
		pr_err("key: not a hex string\n");
		return -EINVAL;
	}
	key.len = len / 2;

	mutex_lock(&auth_lock);
	if (auth_keys[VNODE_AUTH_CURRENT].len == key.len &&
	    !crypto_memneq(auth_keys[VNODE_AUTH_CURRENT].bytes, key.bytes,
			   key.len)) {
		/* The same key again (e.g. a second load): nothing rotates. */
		mutex_unlock(&auth_lock);
		memzero_explicit(&key, sizeof(key));
		return count;
	}
	auth_keys[VNODE_AUTH_PREVIOUS] = auth_keys[VNODE_AUTH_CURRENT];
	auth_keys[VNODE_AUTH_CURRENT] = key;
	mutex_unlock(&auth_lock);
	memzero_explicit(&key, sizeof(key));

	if (!auth_key_id(VNODE_AUTH_CURRENT, id))
		pr_info("cluster key %4phN loaded%s\n", id,
			vnode_auth_key_slot_used(VNODE_AUTH_PREVIOUS) ?
			" (the previous one is still accepted)" : "");
	return count;
}

static ssize_t auth_retire_previous_store(struct config_item *item,
					  const char *page, size_t count)
{
	bool v;

	if (kstrtobool(page, &v) || !v)
		return -EINVAL;
	mutex_lock(&auth_lock);
	memzero_explicit(&auth_keys[VNODE_AUTH_PREVIOUS],
			 sizeof(auth_keys[VNODE_AUTH_PREVIOUS]));
	mutex_unlock(&auth_lock);
	pr_info("previous cluster key retired\n");
	return count;
}

bool vnode_auth_key_slot_used(unsigned int slot)
{
	bool ret;

	mutex_lock(&auth_lock);
	ret = slot < VNODE_AUTH_NR_SLOTS && auth_keys[slot].len;
	mutex_unlock(&auth_lock);
	return ret;
}

static ssize_t auth_status_show(struct config_item *item, char *page)
{
	static const char * const what[] = { "key", "previous" };
	ssize_t len = 0;
	unsigned int i;
	u8 id[4];

	for (i = 0; i < VNODE_AUTH_NR_SLOTS; i++) {
		if (auth_key_id(i, id))
			len += sysfs_emit_at(page, len, "%s: none\n", what[i]);
		else
			len += sysfs_emit_at(page, len, "%s: %4phN\n", what[i],
					     id);
	}
	len += sysfs_emit_at(page, len, "insecure: %d\n", vnode_xprt_insecure);
	return len;
}

CONFIGFS_ATTR_WO(auth_, key);
CONFIGFS_ATTR_WO(auth_, retire_previous);
CONFIGFS_ATTR_RO(auth_, status);

static struct configfs_attribute *auth_attrs[] = {
	&auth_attr_key,
	&auth_attr_retire_previous,
	&auth_attr_status,
	NULL,
};

static const struct config_item_type auth_type = {
	.ct_attrs	= auth_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem auth_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "vnode_xprt",
			.ci_type	= &auth_type,
		},
	},
};

int vnode_auth_init(void)
{
	int ret;

	/* Only root reads the key ids; the key itself is never shown. */
	auth_attr_status.ca_mode = 0400;
	auth_tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(auth_tfm)) {
		pr_err("cannot allocate hmac(sha256): %ld\n",
		       PTR_ERR(auth_tfm));
		return PTR_ERR(auth_tfm);
	}
	config_group_init(&auth_subsys.su_group);
	mutex_init(&auth_subsys.su_mutex);
	ret = configfs_register_subsystem(&auth_subsys);
	if (ret) {
		pr_err("cannot register configfs subsystem: %d\n", ret);
		crypto_free_shash(auth_tfm);
		return ret;
	}
	if (vnode_xprt_insecure)
		pr_warn("INSECURE mode: peers without a cluster key are served and trusted\n");
	return 0;
}

void vnode_auth_exit(void)
{
	configfs_unregister_subsystem(&auth_subsys);
	crypto_free_shash(auth_tfm);
	memzero_explicit(auth_keys, sizeof(auth_keys));
}
