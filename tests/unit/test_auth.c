// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster key and the protocol 1.3 handshake's MACs (vnoded/auth.c):
 * key file parsing, and known answers for smac, cmac and amac.
 */
#include <endian.h>

#include "unit.h"
#include "auth.h"

#define KEY32_HEX "000102030405060708090a0b0c0d0e0f" \
		  "101112131415161718191a1b1c1d1e1f"

static int parse(const char *text, struct vn_key *key, struct vn_err *err)
{
	return vn_key_parse(text, strlen(text), key, err);
}

static void key_good(void **state)
{
	struct vn_key key;
	struct vn_err err;
	char hex[129];
	int i;

	(void)state;
	assert_int_equal(parse(KEY32_HEX, &key, &err), 0);
	assert_int_equal(key.len, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(key.bytes[i], i);
	/* one newline, upper case */
	assert_int_equal(parse("000102030405060708090A0B0C0D0E0F\n", &key, &err), 0);
	assert_int_equal(key.len, 16);
	assert_int_equal(key.bytes[15], 0x0f);
	/* the longest: 128 digits */
	for (i = 0; i < 128; i++)
		hex[i] = "0123456789abcdef"[i % 16];
	hex[128] = '\0';
	assert_int_equal(parse(hex, &key, &err), 0);
	assert_int_equal(key.len, 64);
	assert_int_equal(key.bytes[63], 0xef);
}

static void key_identity(void **state)
{
	static const char *const bad[] = {
		" " KEY32_HEX,				/* no identity */
		"p/1 " KEY32_HEX,			/* not [A-Za-z0-9._-] */
		"0123456789abcdef " KEY32_HEX,		/* 16 characters */
		"p1 " KEY32_HEX " ",
		"p1  " KEY32_HEX,
		"p1 00",				/* too short */
	};
	struct vn_key key;
	struct vn_err err;
	size_t i;

	(void)state;
	assert_int_equal(parse("p1 " KEY32_HEX "\n", &key, &err), 0);
	assert_int_equal(key.len, 32);
	assert_string_equal(key.ident, "p1");
	assert_int_equal(parse("node-7.lab_a " KEY32_HEX, &key, &err), 0);
	assert_string_equal(key.ident, "node-7.lab_a");
	/* a cluster key has no identity */
	assert_int_equal(parse(KEY32_HEX, &key, &err), 0);
	assert_int_equal(key.ident[0], 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		key.len = 99;
		if (parse(bad[i], &key, &err) != -EINVAL)
			fail_msg("accepted bad identity key %zu '%s'", i, bad[i]);
		assert_int_equal(key.len, 0);
	}
	assert_true(vn_valid_identity("p1", 2));
	assert_false(vn_valid_identity("", 0));
	assert_false(vn_valid_identity("a b", 3));
}

static void key_bad(void **state)
{
	static const char *const bad[] = {
		"",					/* empty */
		"\n",
		"000102030405060708090a0b0c0d0e",	/* 30 digits: too short */
		"000102030405060708090a0b0c0d0e0f1",	/* odd */
		"000102030405060708090a0b0c0d0eXY",	/* not hex */
		"0x0102030405060708090a0b0c0d0e0f",
		"00010203 405060708090a0b0c0d0e0f0",	/* an identity and a short key */
		KEY32_HEX "\n\n",			/* two newlines */
		KEY32_HEX "\r\n",
		KEY32_HEX " ",				/* trailing garbage */
		KEY32_HEX "\nzz",
		"\n" KEY32_HEX,
	};
	struct vn_key key;
	struct vn_err err;
	char hex[132];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		key.len = 99;
		if (parse(bad[i], &key, &err) != -EINVAL)
			fail_msg("accepted bad key %zu '%s'", i, bad[i]);
		assert_int_equal(key.len, 0);
		assert_true(strstr(err.msg, "not a cluster key") ||
			    strstr(err.msg, "not an identity key"));
	}
	/* 130 digits: too long */
	memset(hex, 'a', 130);
	hex[130] = '\0';
	assert_int_equal(parse(hex, &key, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "130 hex digits"));
	/* a NUL inside */
	assert_int_equal(vn_key_parse(KEY32_HEX "\0", sizeof(KEY32_HEX), &key, &err),
			 -EINVAL);
	/* the message never shows the key */
	assert_int_equal(parse(KEY32_HEX "!", &key, &err), -EINVAL);
	assert_null(strstr(err.msg, "0001020304"));
}

static void key_file(void **state)
{
	struct vn_auth_conf conf = { .insecure = false };
	char dir[128], path[200];
	struct vn_key key;
	struct vn_err err;
	bool loose = true;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/cluster.key", dir);
	write_at(dir, "cluster.key", KEY32_HEX "\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(vn_key_load(path, &key, &loose, &err), 0);
	assert_int_equal(key.len, 32);
	assert_false(loose);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(vn_key_load(path, &key, &loose, &err), 0);
	assert_true(loose);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(vn_key_load(path, &key, &loose, &err), 0);
	assert_true(loose);
	vn_key_clear(&key);
	assert_int_equal(key.len, 0);

	/* longer than any key file */
	write_at(dir, "long.key", KEY32_HEX KEY32_HEX KEY32_HEX KEY32_HEX KEY32_HEX);
	snprintf(path, sizeof(path), "%s/long.key", dir);
	assert_int_equal(vn_key_load(path, &key, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, path));
	/* a directory */
	assert_int_equal(vn_key_load(dir, &key, NULL, &err), -EINVAL);

	/* what the probe uses: no key file */
	snprintf(conf.key_file, sizeof(conf.key_file), "%s/missing.key", dir);
	assert_int_equal(vn_auth_key(&conf, &key, &err), -ENOKEY);
	assert_non_null(strstr(err.msg, conf.key_file));
	assert_non_null(strstr(err.msg, "insecure"));
	conf.insecure = true;
	key.len = 5;
	assert_int_equal(vn_auth_key(&conf, &key, &err), 0);
	assert_int_equal(key.len, 0);
	/* a bad key file is an error even when insecure */
	write_at(dir, "bad.key", "xyz\n");
	snprintf(conf.key_file, sizeof(conf.key_file), "%s/bad.key", dir);
	assert_int_equal(vn_auth_key(&conf, &key, &err), -EINVAL);
	/* a good one is used when insecure too */
	snprintf(conf.key_file, sizeof(conf.key_file), "%s/cluster.key", dir);
	assert_int_equal(vn_auth_key(&conf, &key, &err), 0);
	assert_int_equal(key.len, 32);
	rm_rf(dir);
}

/*
 * Known answers.  Inputs: K = bytes 0x00..0x1f (KEY32_HEX), Nc = bytes
 * 0xa0..0xaf, Ns = bytes 0xc0..0xdf, the hello and accept built by
 * fixture_hello()/fixture_accept().  The expected values were computed
 * independently with Python 3's hmac and hashlib, straight from the spec
 * at the top of proto.h:
 *
 *   import hmac, hashlib, struct
 *   key = bytes(range(32)); nc = bytes(range(0xa0, 0xb0))
 *   ns = bytes(range(0xc0, 0xe0))
 *   hello = struct.pack('<IHHBB2sHHQ16s16s', 0x564e4f44, 1, 3, 2, 1,
 *                       b'\0\0', 0, 1, 0x0123456789abcdef,
 *                       b'vnoded-probe', nc)
 *   H = bytearray(hello[:24]); H[9] = 0; H = bytes(H)
 *   ki = hmac.new(key, b'vnode-1.3 ident ' + b'vnoded-probe'.ljust(16,
 *                 b'\0'), hashlib.sha256).digest()     # the identity key
 *   smac = hmac.new(ki, b'vnode-1.3 server' + H + nc + ns,
 *                   hashlib.sha256).digest()
 *   cmac = hmac.new(ki, b'vnode-1.3 client' + H + nc + ns,
 *                   hashlib.sha256).digest()[:16]
 *   acc = struct.pack('<IHHHHIQQQ16s', 0x564e4f44, 1, 3, 20, 16, 2,
 *                     0x1122334455667788, 64 << 20, 2 << 20, bytes(16))
 *   amac = hmac.new(ki, b'vnode-1.3 accept' + nc + ns + acc[:40],
 *                   hashlib.sha256).digest()[:16]
 *   key64 = bytes(range(0x40, 0x80))   # smac64: smac with this cluster key
 */
static const uint8_t kat_h[VNODE_AUTH_CORE_LEN] = {
	0x44, 0x4f, 0x4e, 0x56, 0x01, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
};
static const uint8_t kat_ki[VNODE_AUTH_HMAC_LEN] = {
	0x0b, 0xe1, 0xb0, 0xb3, 0xf6, 0x89, 0x52, 0x78, 0x44, 0x5c, 0x88, 0xbf,
	0x9b, 0x6c, 0x21, 0xa5, 0x17, 0x97, 0xcd, 0x8c, 0x81, 0x5c, 0x20, 0xe0,
	0x85, 0x37, 0xf8, 0x02, 0xc4, 0x5f, 0x00, 0x22,
};
static const uint8_t kat_smac[VNODE_AUTH_HMAC_LEN] = {
	0x15, 0xce, 0xd6, 0xf2, 0xc0, 0x29, 0x94, 0x25, 0xdf, 0x38, 0xb7, 0x04,
	0x79, 0x6a, 0x5d, 0x0c, 0x0a, 0x4e, 0x41, 0x49, 0x14, 0xda, 0x22, 0x20,
	0x5c, 0x60, 0x62, 0xf0, 0xea, 0x54, 0x2d, 0xca,
};
static const uint8_t kat_cmac[VNODE_AUTH_MAC_LEN] = {
	0x79, 0x31, 0x75, 0xdb, 0xb0, 0x26, 0x26, 0x2f, 0x1e, 0x78, 0x47, 0xc4,
	0x44, 0x0c, 0x72, 0xc0,
};
static const uint8_t kat_amac[VNODE_AUTH_MAC_LEN] = {
	0x5d, 0x64, 0xff, 0x93, 0x25, 0x85, 0x4c, 0xd6, 0x2d, 0x9e, 0x0f, 0x80,
	0x69, 0xdb, 0x6e, 0x3f,
};
static const uint8_t kat_smac64[VNODE_AUTH_HMAC_LEN] = {
	0xdd, 0x70, 0x3d, 0x5d, 0x62, 0x39, 0xb0, 0xce, 0xb8, 0xeb, 0x5a, 0x60,
	0x30, 0x04, 0xcc, 0x5e, 0xd9, 0x62, 0xed, 0x0a, 0x3a, 0x06, 0x52, 0x3e,
	0xa8, 0xbf, 0x6b, 0x5c, 0xea, 0x36, 0xa2, 0xbf,
};

static void fixture(struct vn_key *key, uint8_t *nc, uint8_t *ns)
{
	int i;

	memset(key, 0, sizeof(*key));
	key->len = 32;
	for (i = 0; i < 32; i++)
		key->bytes[i] = (uint8_t)i;
	for (i = 0; i < VNODE_AUTH_NONCE_LEN; i++)
		nc[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < VNODE_AUTH_SNONCE_LEN; i++)
		ns[i] = (uint8_t)(0xc0 + i);
}

static void fixture_hello(struct vnode_hello *h, const uint8_t *nc)
{
	memset(h, 0, sizeof(*h));
	h->magic = htole32(VNODE_MAGIC);
	h->major = htole16(1);
	h->minor = htole16(3);
	h->role = VNODE_ROLE_PROBE;
	h->auth = VNODE_AUTH_INIT;
	h->queue_id = htole16(0);
	h->nr_queues = htole16(1);
	h->client_id = htole64(0x0123456789abcdefULL);
	strcpy(h->name, "vnoded-probe");
	memcpy(h->auth_data, nc, VNODE_AUTH_NONCE_LEN);
}

static void mac_known_answers(void **state)
{
	uint8_t nc[VNODE_AUTH_NONCE_LEN], ns[VNODE_AUTH_SNONCE_LEN];
	uint8_t core[VNODE_AUTH_CORE_LEN], mac[VNODE_AUTH_HMAC_LEN];
	struct vnode_hello h;
	struct vn_key key, key64, idk;
	int i;

	(void)state;
	assert_int_equal(sizeof(struct vnode_hello), 56);
	assert_int_equal(sizeof(struct vnode_auth_challenge), 112);
	fixture(&key, nc, ns);
	fixture_hello(&h, nc);
	vn_auth_core(&h, core);
	assert_memory_equal(core, kat_h, sizeof(core));

	assert_int_equal(vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_SERVER, &h,
					   nc, ns, mac), 0);
	assert_memory_equal(mac, kat_smac, sizeof(kat_smac));
	assert_true(vn_auth_equal(mac, kat_smac, sizeof(kat_smac)));
	/* H has the auth byte zero, and nothing after client_id: the
	 * response's hello (auth 2, cmac in auth_data) gives the same MAC */
	h.auth = VNODE_AUTH_RESPONSE;
	memset(h.auth_data, 0x55, sizeof(h.auth_data));
	assert_int_equal(vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_CLIENT, &h,
					   nc, ns, mac), 0);
	assert_memory_equal(mac, kat_cmac, sizeof(kat_cmac));
	/* the identity key alone gives the same MACs for its identity ... */
	memset(&idk, 0, sizeof(idk));
	memcpy(idk.bytes, kat_ki, sizeof(kat_ki));
	idk.len = sizeof(kat_ki);
	strcpy(idk.ident, "vnoded-probe");
	assert_int_equal(vn_auth_hello_mac(&idk, VNODE_AUTH_LABEL_CLIENT, &h,
					   nc, ns, mac), 0);
	assert_memory_equal(mac, kat_cmac, sizeof(kat_cmac));
	/* ... and none for another, whose key the cluster key derives */
	strcpy(h.name, "other");
	assert_int_equal(vn_auth_hello_mac(&idk, VNODE_AUTH_LABEL_CLIENT, &h,
					   nc, ns, mac), -ENOKEY);
	assert_int_equal(vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_CLIENT, &h,
					   nc, ns, mac), 0);
	assert_false(vn_auth_equal(mac, kat_cmac, sizeof(kat_cmac)));
	strcpy(h.name, "vnoded-probe");
	/* ... but the client_id is covered */
	h.client_id ^= htole64(1);
	assert_int_equal(vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_CLIENT, &h,
					   nc, ns, mac), 0);
	assert_false(vn_auth_equal(mac, kat_cmac, sizeof(kat_cmac)));

	memset(&key64, 0, sizeof(key64));
	key64.len = 64;
	for (i = 0; i < 64; i++)
		key64.bytes[i] = (uint8_t)(0x40 + i);
	fixture_hello(&h, nc);
	assert_int_equal(vn_auth_hello_mac(&key64, VNODE_AUTH_LABEL_SERVER, &h,
					   nc, ns, mac), 0);
	assert_memory_equal(mac, kat_smac64, sizeof(kat_smac64));
	assert_false(vn_auth_equal(mac, kat_smac, sizeof(kat_smac)));

	/* no key: no MAC */
	key.len = 0;
	assert_int_equal(vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_SERVER, &h,
					   nc, ns, mac), -ENOKEY);
}

static void accept_known_answer(void **state)
{
	uint8_t nc[VNODE_AUTH_NONCE_LEN], ns[VNODE_AUTH_SNONCE_LEN];
	uint8_t mac[VNODE_AUTH_MAC_LEN];
	struct vnode_accept acc = { 0 };
	struct vn_key key;

	(void)state;
	assert_int_equal(sizeof(acc), 56);
	fixture(&key, nc, ns);
	acc.magic = htole32(VNODE_MAGIC);
	acc.major = htole16(1);
	acc.minor = htole16(3);
	acc.slab_shift = htole16(20);
	acc.max_inflight = htole16(16);
	acc.flags = htole32(VNODE_ACCEPT_F_AUTH);
	acc.server_id = htole64(0x1122334455667788ULL);
	acc.capacity = htole64(64ULL << 20);
	acc.used = htole64(2ULL << 20);
	assert_int_equal(vn_auth_accept_mac(&key, "vnoded-probe\0\0\0", &acc, nc, ns, mac), 0);
	assert_memory_equal(mac, kat_amac, sizeof(kat_amac));
	/* amac itself is not covered; the rest of A is */
	memcpy(acc.amac, mac, sizeof(mac));
	assert_int_equal(vn_auth_accept_mac(&key, "vnoded-probe\0\0\0", &acc, nc, ns, mac), 0);
	assert_memory_equal(mac, kat_amac, sizeof(kat_amac));
	acc.capacity = htole64(128ULL << 20);
	assert_int_equal(vn_auth_accept_mac(&key, "vnoded-probe\0\0\0", &acc, nc, ns, mac), 0);
	assert_false(vn_auth_equal(mac, kat_amac, sizeof(kat_amac)));
}

static void random_bytes(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

	(void)state;
	assert_int_equal(vn_auth_random(a, sizeof(a)), 0);
	assert_int_equal(vn_auth_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_good),
		cmocka_unit_test(key_bad),
		cmocka_unit_test(key_identity),
		cmocka_unit_test(key_file),
		cmocka_unit_test(mac_known_answers),
		cmocka_unit_test(accept_known_answer),
		cmocka_unit_test(random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
