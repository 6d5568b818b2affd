// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt authentication: the cluster key, this host's identity and the
 * HMAC-SHA256 of the connect handshake (protocol 1.3, see the top of
 * proto.h).
 *
 * Every connection is authenticated with the identity key of the client's
 * identity I (the hello's name): KI = HMAC(K, "vnode-1.3 ident " | I), K
 * the cluster key.  Servers hold K and so every identity's key; a process
 * host may hold only its own KI, and then cannot pass for another host.
 * The keys live in configfs, as nvmet keeps its host secrets there:
 *   /sys/kernel/config/vnode_xprt/key              write-only: hex K, 16..64 bytes
 *   /sys/kernel/config/vnode_xprt/identity_key     write-only: "I hex-KI"
 *   /sys/kernel/config/vnode_xprt/identity         this host's identity I
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
#include <linux/utsname.h>

#include "xprt_priv.h"

static bool vnode_xprt_insecure;
module_param_named(insecure, vnode_xprt_insecure, bool, 0444);
MODULE_PARM_DESC(insecure,
		 "serve and connect without a cluster key (no authentication; for tests of old peers only)");

#define AUTH_KEY_MIN	16
#define AUTH_KEY_MAX	64

/* @ident: an identity key (KI of auth_identity), not the cluster key */
struct auth_key {
	u8	bytes[AUTH_KEY_MAX];
	u8	len;
	bool	ident;
};

/*
 * Protects the keys, the identity and the tfm (whose key is set per
 * computation).
 */
static DEFINE_MUTEX(auth_lock);
static struct auth_key auth_keys[VNODE_AUTH_NR_SLOTS];
static char auth_identity[VNODE_AUTH_IDENT_LEN];
static struct crypto_shash *auth_tfm;

bool vnode_auth_insecure(void)
{
	return vnode_xprt_insecure;
}

/* A client's key: the cluster key or our identity key. */
bool vnode_auth_has_key(void)
{
	return vnode_auth_key_slot_used(VNODE_AUTH_CURRENT);
}

/* A server's key: the cluster key (it derives every identity's). */
bool vnode_auth_can_serve(void)
{
	bool ret;

	mutex_lock(&auth_lock);
	ret = auth_keys[VNODE_AUTH_CURRENT].len &&
		!auth_keys[VNODE_AUTH_CURRENT].ident;
	mutex_unlock(&auth_lock);
	return ret;
}

/* This host's identity, as the hello's name carries it (NUL-padded). */
void vnode_auth_identity(char ident[VNODE_AUTH_IDENT_LEN])
{
	mutex_lock(&auth_lock);
	memcpy(ident, auth_identity, VNODE_AUTH_IDENT_LEN);
	mutex_unlock(&auth_lock);
}

/* HMAC-SHA256 keyed with @key over @label and then @nr parts. */
static int auth_hmac_raw(const u8 *key, unsigned int keylen,
			 const char *label, const struct kvec *parts,
			 unsigned int nr, u8 out[VNODE_AUTH_HMAC_LEN])
{
	SHASH_DESC_ON_STACK(desc, auth_tfm);
	unsigned int i;
	int ret;

	lockdep_assert_held(&auth_lock);
	ret = crypto_shash_setkey(auth_tfm, key, keylen);
	if (ret)
		return ret;
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
	return ret;
}

/*
 * HMAC-SHA256 over @label (VNODE_AUTH_LABEL_LEN bytes) and then @nr parts,
 * keyed with the key in @slot itself if @ident is NULL (key ids), else
 * with the identity key of @ident (VNODE_AUTH_IDENT_LEN bytes): derived from the cluster
 * key, or the slot's identity key if it is @ident's.  -ENOKEY when the
 * slot is empty or holds another identity's key.
 */
int vnode_auth_hmac(unsigned int slot, const char *ident, const char *label,
		    const struct kvec *parts, unsigned int nr,
		    u8 out[VNODE_AUTH_HMAC_LEN])
{
	u8 ki[VNODE_AUTH_HMAC_LEN];
	struct kvec id = { (void *)ident, VNODE_AUTH_IDENT_LEN };
	struct auth_key *k;
	int ret;

	mutex_lock(&auth_lock);
	k = slot < VNODE_AUTH_NR_SLOTS ? &auth_keys[slot] : NULL;
	if (!k || !k->len ||
	    (k->ident && ident && memcmp(ident, auth_identity,
					   VNODE_AUTH_IDENT_LEN))) {
		ret = -ENOKEY;
	} else if (!ident || k->ident) {
		ret = auth_hmac_raw(k->bytes, k->len, label, parts, nr, out);
	} else {
		ret = auth_hmac_raw(k->bytes, k->len, VNODE_AUTH_LABEL_IDENT,
				    &id, 1, ki);
		if (!ret)
			ret = auth_hmac_raw(ki, sizeof(ki), label, parts, nr,
					    out);
		memzero_explicit(ki, sizeof(ki));
	}
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
	return vnode_auth_hmac(slot, hello->name, label, parts,
			       ARRAY_SIZE(parts), out);
}

int vnode_auth_accept_mac(unsigned int slot, const char *ident,
			  const struct vnode_accept *acc,
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

	ret = vnode_auth_hmac(slot, ident, VNODE_AUTH_LABEL_ACCEPT, parts,
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

	ret = vnode_auth_hmac(slot, NULL, "vnode-1.3 key id", NULL, 0, mac);
	if (!ret)
		memcpy(id, mac, 4);
	return ret;
}

/* ------------------------------------------------------------------ */
/* configfs                                                            */
/* ------------------------------------------------------------------ */

/*
 * Parse @len bytes of hex at @page into @key; -EINVAL (logged as @what)
 * unless 16..64 bytes.
 */
static int auth_parse_key(const char *what, const char *page, size_t len,
			  struct auth_key *key)
{
	if (len % 2 || len < 2 * AUTH_KEY_MIN || len > 2 * AUTH_KEY_MAX) {
		pr_err("%s: %d to %d hex digits expected\n", what,
		       2 * AUTH_KEY_MIN, 2 * AUTH_KEY_MAX);
		return -EINVAL;
	}
	if (hex2bin(key->bytes, page, len / 2)) {
		pr_err("%s: not a hex string\n", what);
		return -EINVAL;
	}
	key->len = len / 2;
	return 0;
}

/* Make @key (and, for an identity key, @ident) current.  Zeroes @key. */
static void auth_install(struct auth_key *key, const char *ident)
{
	struct auth_key *cur = &auth_keys[VNODE_AUTH_CURRENT];
	bool same;
	u8 id[4];

	mutex_lock(&auth_lock);
	same = cur->len == key->len && cur->ident == key->ident &&
		!crypto_memneq(cur->bytes, key->bytes, key->len) &&
		(!ident || !memcmp(ident, auth_identity, VNODE_AUTH_IDENT_LEN));
	if (!same) {
		auth_keys[VNODE_AUTH_PREVIOUS] = *cur;
		*cur = *key;
		if (ident)
			memcpy(auth_identity, ident, VNODE_AUTH_IDENT_LEN);
	}
	mutex_unlock(&auth_lock);
	memzero_explicit(key, sizeof(*key));
	/* The same key again (e.g. a second load): nothing rotates. */
	if (same || auth_key_id(VNODE_AUTH_CURRENT, id))
		return;
	pr_info("%s %4phN loaded%s\n", ident ? "identity key" : "cluster key",
		id, vnode_auth_key_slot_used(VNODE_AUTH_PREVIOUS) ?
		" (the previous one is still accepted)" : "");
}

static ssize_t auth_key_store(struct config_item *item, const char *page,
			      size_t count)
{
	struct auth_key key = {};
	size_t len = count;

	if (len && page[len - 1] == '\n')
		len--;
	if (auth_parse_key("key", page, len, &key))
		return -EINVAL;
	auth_install(&key, NULL);
	return count;
}

/*
 * An identity: 1..15 of [A-Za-z0-9._-], into @ident NUL-padded.  It goes
 * into hellos, logs and sysfs of other hosts, so nothing else.
 */
static int auth_parse_identity(const char *s, size_t len,
			       char ident[VNODE_AUTH_IDENT_LEN])
{
	if (!vnode_valid_identity(s, len))
		return -EINVAL;
	memset(ident, 0, VNODE_AUTH_IDENT_LEN);
	memcpy(ident, s, len);
	return 0;
}

/* A hello's name is a valid identity (NUL-padded). */
bool vnode_auth_valid_identity(const char ident[VNODE_AUTH_IDENT_LEN])
{
	char tmp[VNODE_AUTH_IDENT_LEN];
	size_t len = strnlen(ident, VNODE_AUTH_IDENT_LEN);

	return !auth_parse_identity(ident, len, tmp) &&
		!memcmp(tmp, ident, VNODE_AUTH_IDENT_LEN);
}

/* "IDENTITY HEX": this host's identity and its identity key. */
static ssize_t auth_identity_key_store(struct config_item *item,
				       const char *page, size_t count)
{
	char ident[VNODE_AUTH_IDENT_LEN];
	struct auth_key key = { .ident = true };
	const char *sp = strnchr(page, count, ' ');
	size_t len = count;

	if (len && page[len - 1] == '\n')
		len--;
	if (!sp || auth_parse_identity(page, sp - page, ident)) {
		pr_err("identity_key: \"IDENTITY HEX\" expected, IDENTITY 1 to %d of [A-Za-z0-9._-]\n",
		       VNODE_AUTH_IDENT_LEN - 1);
		return -EINVAL;
	}
	if (auth_parse_key("identity_key", sp + 1, page + len - sp - 1, &key))
		return -EINVAL;
	auth_install(&key, ident);
	return count;
}

static ssize_t auth_identity_show(struct config_item *item, char *page)
{
	char ident[VNODE_AUTH_IDENT_LEN];

	vnode_auth_identity(ident);
	return sysfs_emit(page, "%.*s\n", VNODE_AUTH_IDENT_LEN, ident);
}

static ssize_t auth_identity_store(struct config_item *item,
				   const char *page, size_t count)
{
	char ident[VNODE_AUTH_IDENT_LEN];
	size_t len = count;
	unsigned int i;
	int ret = 0;

	if (len && page[len - 1] == '\n')
		len--;
	if (auth_parse_identity(page, len, ident)) {
		pr_err("identity: 1 to %d of [A-Za-z0-9._-] expected\n",
		       VNODE_AUTH_IDENT_LEN - 1);
		return -EINVAL;
	}
	mutex_lock(&auth_lock);
	/* An identity key is the key of one identity only. */
	for (i = 0; i < VNODE_AUTH_NR_SLOTS; i++)
		if (auth_keys[i].len && auth_keys[i].ident &&
		    memcmp(ident, auth_identity, VNODE_AUTH_IDENT_LEN))
			ret = -EBUSY;
	if (!ret)
		memcpy(auth_identity, ident, VNODE_AUTH_IDENT_LEN);
	mutex_unlock(&auth_lock);
	if (ret)
		pr_err("identity: fixed by the identity key loaded (write identity_key instead)\n");
	return ret ?: count;
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
	bool ident;
	u8 id[4];

	for (i = 0; i < VNODE_AUTH_NR_SLOTS; i++) {
		mutex_lock(&auth_lock);
		ident = auth_keys[i].ident;
		mutex_unlock(&auth_lock);
		if (auth_key_id(i, id))
			len += sysfs_emit_at(page, len, "%s: none\n", what[i]);
		else
			len += sysfs_emit_at(page, len, "%s: %4phN%s\n",
					     what[i], id,
					     ident ? " (identity key)" : "");
	}
	len += sysfs_emit_at(page, len, "insecure: %d\n", vnode_xprt_insecure);
	return len;
}

CONFIGFS_ATTR_WO(auth_, key);
CONFIGFS_ATTR_WO(auth_, identity_key);
CONFIGFS_ATTR(auth_, identity);
CONFIGFS_ATTR_WO(auth_, retire_previous);
CONFIGFS_ATTR_RO(auth_, status);

static struct configfs_attribute *auth_attrs[] = {
	&auth_attr_key,
	&auth_attr_identity_key,
	&auth_attr_identity,
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
	/* The default identity: the node name, if it is a valid one. */
	if (auth_parse_identity(utsname()->nodename,
				strnlen(utsname()->nodename,
					VNODE_AUTH_IDENT_LEN),
				auth_identity))
		strscpy_pad(auth_identity, "vnode", sizeof(auth_identity));
	auth_tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(auth_tfm)) {
		pr_err("cannot allocate hmac(sha256): %ld\n",
		       PTR_ERR(auth_tfm));
		return PTR_ERR(auth_tfm);
	}
	config_group_init(&auth_subsys.su_group);
	configfs_add_default_group(vnode_fabric_group(), &auth_subsys.su_group);
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
