// SPDX-License-Identifier: GPL-2.0
/* The cluster key and the handshake's MACs (auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void vn_hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char dig[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = dig[b[i] >> 4];
		out[2 * i + 1] = dig[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int vn_hex_decode(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < 2 * n; i++)
		if (hexval(s[i]) < 0)
			return -EINVAL;
	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return 0;
}

bool vn_valid_identity(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= VNODE_AUTH_IDENT_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
			return false;
	return true;
}

int vn_key_parse(const char *text, size_t len, struct vn_key *key,
		 struct vn_err *err)
{
	const char *sp;
	size_t i;

	key->len = 0;
	memset(key->ident, 0, sizeof(key->ident));
	if (len && text[len - 1] == '\n')
		len--;
	sp = memchr(text, ' ', len);
	if (sp) {
		/* "IDENTITY HEX": an identity key */
		if (!vn_valid_identity(text, (size_t)(sp - text)))
			return vn_seterr(err, EINVAL,
					 "not an identity key: \"IDENTITY HEX\" expected, IDENTITY 1 to %d of [A-Za-z0-9._-]",
					 VNODE_AUTH_IDENT_LEN - 1);
		memcpy(key->ident, text, (size_t)(sp - text));
		len -= (size_t)(sp + 1 - text);
		text = sp + 1;
	}
	for (i = 0; i < len; i++)
		if (hexval(text[i]) < 0)
			return vn_seterr(err, EINVAL,
					 "not a cluster key: byte %zu is not a hex digit (expected %d to %d hex digits and at most one newline)",
					 i + 1, 2 * VN_KEY_MIN, 2 * VN_KEY_MAX);
	if (len < 2 * VN_KEY_MIN || len > 2 * VN_KEY_MAX)
		return vn_seterr(err, EINVAL,
				 "not a cluster key: %zu hex digits, expected %d to %d (a %d- to %d-byte key)",
				 len, 2 * VN_KEY_MIN, 2 * VN_KEY_MAX, VN_KEY_MIN,
				 VN_KEY_MAX);
	if (len % 2)
		return vn_seterr(err, EINVAL,
				 "not a cluster key: an odd number of hex digits (%zu)",
				 len);
	vn_hex_decode(text, key->bytes, len / 2);
	key->len = len / 2;
	return 0;
}

int vn_key_load(const char *path, struct vn_key *key, bool *loose,
		struct vn_err *err)
{
	/* one byte more than the longest key file, to see a longer one */
	char buf[VNODE_AUTH_IDENT_LEN + 2 * VN_KEY_MAX + 2];
	struct vn_err e;
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd, ret;

	key->len = 0;
	if (loose)
		*loose = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vn_seterr(err, errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return vn_seterr(err, EINVAL, "%s: not a regular file", path);
	}
	if (loose)
		*loose = st.st_mode & (S_IRGRP | S_IROTH);
	while (off < sizeof(buf)) {
		n = read(fd, buf + off, sizeof(buf) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = vn_seterr(err, errno, "%s: %s", path, strerror(errno));
			close(fd);
			OPENSSL_cleanse(buf, sizeof(buf));
			return ret;
		}
		if (!n)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (off == sizeof(buf)) {
		ret = vn_seterr(err, EINVAL,
				"%s: not a key: longer than an identity, %d hex digits and a newline",
				path, 2 * VN_KEY_MAX);
	} else {
		ret = vn_key_parse(buf, off, key, &e);
		if (ret)
			vn_seterr(err, EINVAL, "%s: %s", path, e.msg);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

int vn_auth_key(const struct vn_auth_conf *conf, struct vn_key *key,
		struct vn_err *err)
{
	struct vn_err e;
	int ret;

	ret = vn_key_load(conf->key_file, key, NULL, &e);
	if (!ret)
		return 0;
	if (ret == -EINVAL)	/* there, but not a key: never insecure */
		return vn_seterr(err, EINVAL, "%s", e.msg);
	if (conf->insecure)
		return 0;
	return vn_seterr(err, ENOKEY,
			 "no cluster key: %s (install the cluster's key there, or set key_file in [cluster] of cluster.conf; insecure = true probes without authentication)",
			 e.msg);
}

void vn_key_clear(struct vn_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

struct mac_part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256(K, label | parts...); the label without its NUL (the
 * handshake's are VNODE_AUTH_LABEL_LEN long). */
static int hmac(const struct vn_key *key, const char *label,
		const struct mac_part *parts, size_t nr,
		uint8_t out[VNODE_AUTH_HMAC_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx = NULL;
	size_t i, outlen = 0;
	int ok;

	if (!key->len)
		return -ENOKEY;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac)
		ctx = EVP_MAC_CTX_new(mac);
	ok = ctx && EVP_MAC_init(ctx, key->bytes, key->len, params) &&
	     EVP_MAC_update(ctx, (const unsigned char *)label, strlen(label));
	for (i = 0; ok && i < nr; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len);
	ok = ok && EVP_MAC_final(ctx, out, &outlen, VNODE_AUTH_HMAC_LEN) &&
	     outlen == VNODE_AUTH_HMAC_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

/* The identity key of ident (VNODE_AUTH_IDENT_LEN bytes) into *ki. */
static int ident_key(const struct vn_key *key, const char *ident,
		     struct vn_key *ki)
{
	const struct mac_part part = { ident, VNODE_AUTH_IDENT_LEN };
	int ret;

	if (!key->len)
		return -ENOKEY;
	if (key->ident[0]) {
		if (memcmp(key->ident, ident, VNODE_AUTH_IDENT_LEN))
			return -ENOKEY;
		*ki = *key;
		return 0;
	}
	memset(ki, 0, sizeof(*ki));
	ret = hmac(key, VNODE_AUTH_LABEL_IDENT, &part, 1, ki->bytes);
	if (!ret) {
		ki->len = VNODE_AUTH_HMAC_LEN;
		memcpy(ki->ident, ident, VNODE_AUTH_IDENT_LEN);
	}
	return ret;
}

int vn_identity_key(const struct vn_key *key, const char *name,
		    struct vn_key *out, struct vn_err *err)
{
	char ident[VNODE_AUTH_IDENT_LEN] = { 0 };
	size_t len = strlen(name);

	if (!vn_valid_identity(name, len))
		return vn_seterr(err, EINVAL,
				 "'%s' is not an identity: 1 to %d of [A-Za-z0-9._-]",
				 name, VNODE_AUTH_IDENT_LEN - 1);
	if (key->ident[0])
		return vn_seterr(err, EINVAL,
				 "an identity key derives no other: the cluster key is needed");
	memcpy(ident, name, len);
	if (ident_key(key, ident, out))
		return vn_seterr(err, EIO, "cannot compute the identity key");
	return 0;
}

void vn_auth_core(const struct vnode_hello *hello,
		  uint8_t core[VNODE_AUTH_CORE_LEN])
{
	memcpy(core, hello, VNODE_AUTH_CORE_LEN);
	core[offsetof(struct vnode_hello, auth)] = 0;
}

int vn_auth_hello_mac(const struct vn_key *key, const char *label,
		      const struct vnode_hello *hello,
		      const uint8_t cnonce[VNODE_AUTH_NONCE_LEN],
		      const uint8_t snonce[VNODE_AUTH_SNONCE_LEN],
		      uint8_t out[VNODE_AUTH_HMAC_LEN])
{
	uint8_t core[VNODE_AUTH_CORE_LEN];
	const struct mac_part parts[] = {
		{ core, sizeof(core) },
		{ cnonce, VNODE_AUTH_NONCE_LEN },
		{ snonce, VNODE_AUTH_SNONCE_LEN },
	};

	struct vn_key ki;
	int ret;

	vn_auth_core(hello, core);
	ret = ident_key(key, hello->name, &ki);
	if (!ret)
		ret = hmac(&ki, label, parts, sizeof(parts) / sizeof(parts[0]),
			   out);
	vn_key_clear(&ki);
	return ret;
}

int vn_auth_accept_mac(const struct vn_key *key, const char *ident,
		       const struct vnode_accept *acc,
		       const uint8_t cnonce[VNODE_AUTH_NONCE_LEN],
		       const uint8_t snonce[VNODE_AUTH_SNONCE_LEN],
		       uint8_t out[VNODE_AUTH_MAC_LEN])
{
	uint8_t mac[VNODE_AUTH_HMAC_LEN];
	const struct mac_part parts[] = {
		{ cnonce, VNODE_AUTH_NONCE_LEN },
		{ snonce, VNODE_AUTH_SNONCE_LEN },
		{ acc, VNODE_ACCEPT_MAC_OFF },
	};
	struct vn_key ki;
	int ret;

	ret = ident_key(key, ident, &ki);
	if (!ret)
		ret = hmac(&ki, VNODE_AUTH_LABEL_ACCEPT, parts,
			   sizeof(parts) / sizeof(parts[0]), mac);
	if (!ret)
		memcpy(out, mac, VNODE_AUTH_MAC_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	vn_key_clear(&ki);
	return ret;
}

int vn_auth_agent_mac(const struct vn_key *key, const char *label,
		      const uint8_t na[VN_AGENT_NONCE_LEN],
		      const uint8_t nc[VN_AGENT_NONCE_LEN],
		      const uint8_t *rqmac, const char *line, size_t len,
		      uint8_t out[VNODE_AUTH_HMAC_LEN])
{
	const struct mac_part parts[] = {
		{ na, VN_AGENT_NONCE_LEN },
		{ nc, VN_AGENT_NONCE_LEN },
		{ rqmac, rqmac ? VNODE_AUTH_HMAC_LEN : 0 },
		{ line, len },
	};

	return hmac(key, label, parts, sizeof(parts) / sizeof(parts[0]), out);
}

bool vn_auth_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int vn_auth_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
