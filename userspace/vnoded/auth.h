/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cluster key and the MACs of the protocol 1.3 handshake (see the top
 * of modules/include/vnode/proto.h), for vnoded's probe: parsing the key
 * file, HMAC-SHA256 (OpenSSL libcrypto) of the challenge, the response
 * and the accept, and random nonces.  No rdma here, so the unit tests
 * check it against known answers.
 *
 * Key file: hex text, 32 to 128 hex digits (a 16- to 64-byte key),
 * optionally followed by one newline, nothing else; the same text is
 * written to /sys/kernel/config/vnode_xprt/key.
 */
#ifndef VN_AUTH_H
#define VN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vnode/proto.h>

#include "util.h"

#define VN_KEY_FILE		"/etc/vnode/cluster.key"
#define VN_KEY_MIN		16	/* bytes */
#define VN_KEY_MAX		64
#define VN_KEY_PATH_MAX		256

/* [cluster] key_file and insecure: how the probe authenticates; ident:
 * its hello's name unless the key is an identity key (vnoded: the kernel's
 * identity, vn_kern_identity(), so that its leases are the process host's;
 * "" = "vnoded-probe"), NUL-padded. */
struct vn_auth_conf {
	char key_file[VN_KEY_PATH_MAX];
	bool insecure;		/* no key file: probe without authentication */
	char ident[VNODE_AUTH_IDENT_LEN];
};

/* The cluster key, or (ident set) the identity key of one identity. */
struct vn_key {
	uint8_t bytes[VN_KEY_MAX];
	size_t len;		/* 0: no key */
	char ident[VNODE_AUTH_IDENT_LEN];	/* NUL-padded; "" for the cluster key */
};

/* An identity: 1..15 of [A-Za-z0-9._-] (len bytes of s). */
bool vn_valid_identity(const char *s, size_t len);
/* Key file text (len bytes, not NUL-terminated) -> key: "HEX" for the
 * cluster key, "IDENTITY HEX" for an identity key.  -EINVAL with what is
 * wrong in err (never the key). */
int vn_key_parse(const char *text, size_t len, struct vn_key *key,
		 struct vn_err *err);
/* Read and parse a key file; *loose (if non-NULL) says whether group or
 * other may read it.  -errno and "PATH: why" in err. */
int vn_key_load(const char *path, struct vn_key *key, bool *loose,
		struct vn_err *err);
/* The identity key of name (an identity) from the cluster key in key:
 * 0, or -EINVAL/-EIO and why in err. */
int vn_identity_key(const struct vn_key *key, const char *name,
		    struct vn_key *out, struct vn_err *err);
/* What the probe uses: 0 and the key; 0 and key->len == 0 when there is
 * no readable key file and conf->insecure; else -ENOKEY and an error
 * naming the key file and the insecure option. */
int vn_auth_key(const struct vn_auth_conf *conf, struct vn_key *key,
		struct vn_err *err);
/* n bytes -> 2n hex digits and a NUL; 2n hex digits -> n bytes (0 or
 * -EINVAL). */
void vn_hex_encode(const uint8_t *b, size_t n, char *out);
int vn_hex_decode(const char *s, uint8_t *out, size_t n);
/* Wipe a key (OPENSSL_cleanse). */
void vn_key_clear(struct vn_key *key);

/* H: the hello's first VNODE_AUTH_CORE_LEN bytes, its auth byte zero. */
void vn_auth_core(const struct vnode_hello *hello,
		  uint8_t core[VNODE_AUTH_CORE_LEN]);
/* HMAC(K, label | H | Nc | Ns), K the identity key of the hello's name
 * (derived from the cluster key, or the key itself if it is that
 * identity's): label VNODE_AUTH_LABEL_SERVER gives the challenge's smac;
 * VNODE_AUTH_LABEL_CLIENT the response's cmac (its first
 * VNODE_AUTH_MAC_LEN bytes).  0, -ENOKEY (another identity's key) or
 * -EIO. */
int vn_auth_hello_mac(const struct vn_key *key, const char *label,
		      const struct vnode_hello *hello,
		      const uint8_t cnonce[VNODE_AUTH_NONCE_LEN],
		      const uint8_t snonce[VNODE_AUTH_SNONCE_LEN],
		      uint8_t out[VNODE_AUTH_HMAC_LEN]);
/* amac = HMAC(K, "vnode-1.3 accept" | Nc | Ns | A), truncated; K the
 * identity key of ident (VNODE_AUTH_IDENT_LEN bytes, the hello's name), A
 * the accept's first VNODE_ACCEPT_MAC_OFF bytes.  0, -ENOKEY or -EIO. */
int vn_auth_accept_mac(const struct vn_key *key, const char *ident,
		       const struct vnode_accept *acc,
		       const uint8_t cnonce[VNODE_AUTH_NONCE_LEN],
		       const uint8_t snonce[VNODE_AUTH_SNONCE_LEN],
		       uint8_t out[VNODE_AUTH_MAC_LEN]);
/*
 * The storage agent's requests (agent.c): the agent sends a nonce Na on
 * connect; the request line L carries the client's nonce Nc and is sent
 * as "hex(HMAC(K, VN_AGENT_LABEL_REQ | Na | Nc | L)) L"; the reply R as
 * "hex(HMAC(K, VN_AGENT_LABEL_REP | Na | Nc | request MAC | R)) R".  K
 * is the cluster key, or the identity key of the identity L names
 * ("identity"; the agent derives it with vn_identity_key()).  rqmac NULL
 * for the request's MAC.  0 or -EIO/-ENOKEY.
 */
#define VN_AGENT_NONCE_LEN	16
#define VN_AGENT_LABEL_REQ	"vnode-1.3 agentrq"
#define VN_AGENT_LABEL_REP	"vnode-1.3 agentrs"
int vn_auth_agent_mac(const struct vn_key *key, const char *label,
		      const uint8_t na[VN_AGENT_NONCE_LEN],
		      const uint8_t nc[VN_AGENT_NONCE_LEN],
		      const uint8_t *rqmac, const char *line, size_t len,
		      uint8_t out[VNODE_AUTH_HMAC_LEN]);
/* Constant-time comparison (CRYPTO_memcmp): true when equal. */
bool vn_auth_equal(const void *a, const void *b, size_t len);
/* len random bytes from getrandom(); 0 or -errno. */
int vn_auth_random(void *buf, size_t len);

#endif /* VN_AUTH_H */
