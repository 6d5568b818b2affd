/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * vnode wire protocol, version 1.4.
 *
 * Shared by the kernel modules and by userspace (vnoded probes memory and
 * storage hosts with librdmacm), so it only uses <linux/types.h> types.
 * Every multi-byte field is little endian.  Structures have explicit
 * reserved bytes so that minor versions can grow them compatibly; senders
 * zero reserved bytes and receivers ignore them.
 *
 * Connection setup (rdma_cm):
 *   client: rdma_connect() with private data struct vnode_hello
 *   server: rdma_accept() with private data struct vnode_accept, or
 *           rdma_reject() with private data struct vnode_reject
 * A major version mismatch is rejected with VNODE_ST_VERSION.
 *
 * Versions: there is one, VNODE_PROTO_MAJOR.VNODE_PROTO_MINOR, for every
 * role and message.  It is exchanged in the hello and the accept (or
 * reject); the major must match, the minor says which features a peer
 * has, and a server refuses a request its client's minor does not cover
 * with VNODE_ST_VERSION:
 *   1.0  memory hosts (slabs, one-sided RDMA by the client)
 *   1.1  storage hosts: STOR_OPEN/STOR_IO with server-initiated RDMA
 *        (VNODE_STOR_MIN_MINOR), asynchronous commands, RESUMED
 *   1.2  STOR_OPEN's version field is no longer checked: the storage
 *        host checks the minor of the client's hello instead
 *   1.3  mutual authentication at connect (below); the hello grows to
 *        56 bytes (its name shrinks to 16), the accept to 56
 *   1.4  reservations held by memory hosts (RESERVE, RELEASE, RENEW,
 *        LEASES, below); the STATS reply grows to 80 bytes
 *
 * Authentication (1.3), a challenge and response with HMAC-SHA256, in the
 * spirit of NVMe-oF's DH-HMAC-CHAP (without the DH part), carried in
 * rdma_cm private data so that an unauthenticated peer never gets a queue
 * pair, let alone a PD, slab, rkey, volume or capacity figure.  The
 * client's identity I is the hello's name (1..15 of [A-Za-z0-9._-],
 * NUL-padded to 16 bytes), and K below is I's identity key
 *   K = HMAC(KC, "vnode-1.3 ident " | I)
 * derived from the cluster key KC.  Servers hold KC; a client may hold
 * only its own K.  What a client owns on a server (a memory session, a
 * volume) belongs to I.  Every queue does it:
 *   1. client: connect with hello.auth = VNODE_AUTH_INIT and a fresh
 *      random 16-byte client nonce Nc in hello.auth_data
 *   2. server: reject with VNODE_ST_AUTH, VNODE_REJECT_F_CHALLENGE and
 *      struct vnode_auth_challenge:
 *      a fresh random 32-byte server nonce Ns and
 *      smac = HMAC(K, "vnode-1.3 server" | H | Nc | Ns), once with its
 *      current key and once with its previous key (zeros if none).  It
 *      remembers (client_id, queue_id, address, Nc, Ns) for
 *      VNODE_AUTH_CHALLENGE_MS.
 *   3. client: checks one smac against its current or previous key (the
 *      server is authenticated), then connects again on a new id with
 *      hello.auth = VNODE_AUTH_RESPONSE and, in hello.auth_data,
 *      cmac = HMAC(K, "vnode-1.3 client" | H | Nc | Ns), truncated to 16
 *      bytes, with the key that matched
 *   4. server: finds the challenge of (client_id, queue_id, address),
 *      forgets it (one use: no replay), checks cmac against its current
 *      and previous key, and only then runs the usual accept, whose
 *      struct vnode_accept carries VNODE_ACCEPT_F_AUTH and
 *      amac = HMAC(K, "vnode-1.3 accept" | Nc | Ns | A), truncated to
 *      16 bytes, which the client checks before it uses the connection.
 * H is the first 24 bytes of the hello (magic to client_id) with its auth
 * byte zero, A the first 40 bytes of the accept; the labels are the 16
 * ASCII bytes shown, without a NUL.  A failure anywhere is
 * VNODE_ST_AUTH (a reject without a challenge) on the server and
 * -EKEYREJECTED on the client; neither says which step failed to the
 * peer.  A host without a key refuses to serve and to connect unless
 * vnode_xprt was loaded with insecure=1; then it sends hello.auth =
 * VNODE_AUTH_NONE and accepts clients that do the same.
 *
 * Control messages then flow as two-sided SEND/RECV: one request, one
 * response, matched by tag.  Each message starts with struct vnode_msg_hdr.
 * Remote memory: page data never uses SEND; the client moves it with
 * one-sided RDMA READ/WRITE against slabs the server registered for that
 * connection.  Remote storage (1.1): the *server* moves the data with
 * RDMA READ/WRITE against a buffer the client registered for one command
 * (struct vnode_sgl), as NVMe-oF and SRP do; small writes may carry their
 * data inline after the request.
 */
#ifndef VNODE_PROTO_H
#define VNODE_PROTO_H

#include <linux/types.h>

#define VNODE_MAGIC		0x564e4f44	/* "VNOD" */
#define VNODE_PROTO_MAJOR	1
#define VNODE_PROTO_MINOR	4
/* First minor with reservations (RESERVE, RELEASE, RENEW, LEASES). */
#define VNODE_LEASE_MIN_MINOR	4
/* First minor with the storage command set below (STOR_OPEN, STOR_IO). */
#define VNODE_STOR_MIN_MINOR	1

#define VNODE_MEM_PORT		7470	/* default memory-host port */
#define VNODE_STOR_PORT		7471	/* default storage-host port */

/* Largest control message, header included.  RECV buffers are this size. */
#define VNODE_MSG_MAX		256

/**
 * enum vnode_role - what a connecting client wants from the server
 * @VNODE_ROLE_MEM: a process host's remote-memory disk (slab alloc + RDMA)
 * @VNODE_ROLE_PROBE: a monitoring client (vnoded): STATS only, no slabs
 * @VNODE_ROLE_STOR: a process host's remote volume
 */
enum vnode_role {
	VNODE_ROLE_MEM		= 1,
	VNODE_ROLE_PROBE	= 2,
	VNODE_ROLE_STOR		= 3,
};

/**
 * enum vnode_status - result codes carried in replies and rejects
 * @VNODE_ST_OK: success
 * @VNODE_ST_FULL: the server has no capacity left
 * @VNODE_ST_INVALID: malformed or out-of-range request
 * @VNODE_ST_NOENT: unknown handle or object
 * @VNODE_ST_VERSION: unsupported protocol major version or bad magic, or
 *	a request the client's protocol minor version does not cover
 * @VNODE_ST_SHUTDOWN: server is going away
 * @VNODE_ST_PERM: the object does not belong to this client
 * @VNODE_ST_IO: backing store I/O error
 * @VNODE_ST_NOMEM: server could not allocate memory for the request
 * @VNODE_ST_AUTH: authentication required (a reject that carries a
 *	struct vnode_auth_challenge) or failed (one that does not)
 * @VNODE_ST_QUOTA: the asking identity's quota on the server is reached
 * @VNODE_ST_BUSY: a reconnecting client's previous queues still have
 *	commands being committed; try again shortly (1.3)
 */
enum vnode_status {
	VNODE_ST_OK		= 0,
	VNODE_ST_FULL		= 1,
	VNODE_ST_INVALID	= 2,
	VNODE_ST_NOENT		= 3,
	VNODE_ST_VERSION	= 4,
	VNODE_ST_SHUTDOWN	= 5,
	VNODE_ST_PERM		= 6,
	VNODE_ST_IO		= 7,
	VNODE_ST_NOMEM		= 8,
	VNODE_ST_AUTH		= 9,
	VNODE_ST_BUSY		= 10,
	VNODE_ST_QUOTA		= 11,
};

#define VNODE_AUTH_NONCE_LEN	16	/* client nonce Nc; hello.auth_data */
#define VNODE_AUTH_SNONCE_LEN	32	/* server nonce Ns */
#define VNODE_AUTH_HMAC_LEN	32	/* HMAC-SHA256 */
#define VNODE_AUTH_MAC_LEN	16	/* truncated HMAC: cmac, amac */
#define VNODE_AUTH_CORE_LEN	24	/* H: hello bytes covered by MACs */
#define VNODE_AUTH_CHALLENGE_MS	10000	/* a challenge's lifetime */
#define VNODE_AUTH_LABEL_LEN	16
#define VNODE_AUTH_LABEL_SERVER	"vnode-1.3 server"
#define VNODE_AUTH_LABEL_CLIENT	"vnode-1.3 client"
#define VNODE_AUTH_LABEL_ACCEPT	"vnode-1.3 accept"
#define VNODE_AUTH_LABEL_IDENT	"vnode-1.3 ident "
/* An identity: hello.name, 1..15 of [A-Za-z0-9._-], NUL-padded. */
#define VNODE_AUTH_IDENT_LEN	16

/**
 * enum vnode_auth_step - struct vnode_hello.auth
 * @VNODE_AUTH_NONE: no authentication (insecure hosts; before 1.3)
 * @VNODE_AUTH_INIT: asks for a challenge; auth_data is Nc
 * @VNODE_AUTH_RESPONSE: answers one; auth_data is cmac
 */
enum vnode_auth_step {
	VNODE_AUTH_NONE		= 0,
	VNODE_AUTH_INIT		= 1,
	VNODE_AUTH_RESPONSE	= 2,
};

/**
 * struct vnode_hello - rdma_cm connect private data (56 bytes; 48 before
 *	1.3, whose name was 24 bytes)
 * @magic: VNODE_MAGIC
 * @major: protocol major version of the client
 * @minor: protocol minor version of the client
 * @role: enum vnode_role
 * @auth: enum vnode_auth_step (1.3; zero before)
 * @reserved0: zero
 * @queue_id: index of this connection among the client's queues
 * @nr_queues: number of queues the client opens to this server
 * @client_id: random id shared by all queues of one client object
 * @name: the client's identity, NUL-padded (see the top): its host name
 *	by default; the server names the client by it in logs and sysfs,
 *	sanitised
 * @auth_data: VNODE_AUTH_INIT: Nc; VNODE_AUTH_RESPONSE: cmac; else zero
 */
struct vnode_hello {
	__le32	magic;
	__le16	major;
	__le16	minor;
	__u8	role;
	__u8	auth;
	__u8	reserved0[2];
	__le16	queue_id;
	__le16	nr_queues;
	__le64	client_id;
	char	name[16];
	__u8	auth_data[VNODE_AUTH_NONCE_LEN];
};

/**
 * struct vnode_accept - rdma_cm accept private data (56 bytes; 40 before
 *	1.3)
 * @magic: VNODE_MAGIC
 * @major: protocol major version of the server
 * @minor: protocol minor version of the server
 * @slab_shift: log2 of the slab size the server hands out
 * @max_inflight: messages the client may have outstanding per queue
 *	(RECVs the server posts per queue; 16 for a memory host)
 * @flags: VNODE_ACCEPT_F_*; zero from a server that sets none
 * @server_id: random id chosen when the server module loaded; a client
 *	that reconnects and sees a different id knows its slabs are gone
 *	(and so does one whose reconnect lacks VNODE_ACCEPT_F_RESUMED)
 * @capacity: bytes the server exports in total
 * @used: bytes currently allocated to all clients
 * @amac: with VNODE_ACCEPT_F_AUTH, the accept MAC (see the top); else zero
 */
struct vnode_accept {
	__le32	magic;
	__le16	major;
	__le16	minor;
	__le16	slab_shift;
	__le16	max_inflight;
	__le32	flags;
	__le64	server_id;
	__le64	capacity;
	__le64	used;
	__u8	amac[VNODE_AUTH_MAC_LEN];
};

/* Bytes of struct vnode_accept covered by amac (A). */
#define VNODE_ACCEPT_MAC_OFF	40

/*
 * vnode_accept.flags: this connection joined state the server still holds
 * for the hello's client_id (its other queues, or the queues it lost less
 * than the server's grace period ago): slabs and rkeys are still valid.
 */
#define VNODE_ACCEPT_F_RESUMED	0x01
/* The client authenticated and amac is valid (1.3). */
#define VNODE_ACCEPT_F_AUTH	0x02

/**
 * struct vnode_reject - rdma_cm reject private data (16 bytes)
 * @magic: VNODE_MAGIC
 * @status: enum vnode_status, why the connection was refused
 * @major: protocol major version the server speaks
 * @minor: protocol minor version the server speaks
 * @flags: VNODE_REJECT_F_* (1.3; zero before)
 * @reserved: zero
 */
struct vnode_reject {
	__le32	magic;
	__le16	status;
	__le16	major;
	__le16	minor;
	__u8	flags;
	__u8	reserved[5];
};

/*
 * vnode_reject.flags: a struct vnode_auth_challenge follows (status
 * VNODE_ST_AUTH).  Needed because a transport may pad reject private
 * data (rxe delivers 148 bytes whatever was sent).
 */
#define VNODE_REJECT_F_CHALLENGE	0x01

/**
 * struct vnode_auth_challenge - reject private data of step 2 (112 bytes)
 * @rej: status VNODE_ST_AUTH
 * @snonce: Ns
 * @smac: HMAC(K, "vnode-1.3 server" | H | Nc | Ns) with the server's
 *	current key
 * @smac_prev: the same with its previous key, zero when it has none
 */
struct vnode_auth_challenge {
	struct vnode_reject rej;
	__u8	snonce[VNODE_AUTH_SNONCE_LEN];
	__u8	smac[VNODE_AUTH_HMAC_LEN];
	__u8	smac_prev[VNODE_AUTH_HMAC_LEN];
};

/**
 * enum vnode_op - control message opcodes
 * @VNODE_OP_ALLOC_SLAB: allocate one zeroed slab for this client
 * @VNODE_OP_FREE_SLAB: release a slab
 * @VNODE_OP_STATS: capacity and usage of the server
 * @VNODE_OP_GOODBYE: orderly disconnect; server frees the client's slabs
 * @VNODE_OP_RESERVE: set one lease of the asking identity (1.4)
 * @VNODE_OP_RELEASE: end one lease of the asking identity (1.4)
 * @VNODE_OP_RENEW: renew every lease of the asking identity (1.4)
 * @VNODE_OP_LEASES: list reservations and usage by identity (1.4)
 * @VNODE_OP_STOR_OPEN: open a volume (struct vnode_stor_open_req)
 * @VNODE_OP_STOR_IO: one volume I/O (struct vnode_stor_io_req)
 */
enum vnode_op {
	VNODE_OP_ALLOC_SLAB	= 1,
	VNODE_OP_FREE_SLAB	= 2,
	VNODE_OP_STATS		= 3,
	VNODE_OP_GOODBYE	= 4,
	VNODE_OP_RESERVE	= 5,
	VNODE_OP_RELEASE	= 6,
	VNODE_OP_RENEW		= 7,
	VNODE_OP_LEASES		= 8,
	VNODE_OP_STOR_OPEN	= 16,
	VNODE_OP_STOR_IO	= 17,
};

#define VNODE_MSG_F_REPLY	0x01	/* message is a response */

/**
 * struct vnode_msg_hdr - header of every control message (16 bytes)
 * @magic: VNODE_MAGIC
 * @op: enum vnode_op
 * @flags: VNODE_MSG_F_*
 * @status: enum vnode_status (responses; zero in requests)
 * @tag: client-chosen id echoed in the response
 * @len: total message length in bytes, header included
 */
struct vnode_msg_hdr {
	__le32	magic;
	__u8	op;
	__u8	flags;
	__le16	status;
	__le32	tag;
	__le32	len;
};

/**
 * struct vnode_alloc_req - VNODE_OP_ALLOC_SLAB request
 * @hdr: header
 * @slab_index: client's logical slab number (for the server's logs/sysfs)
 */
struct vnode_alloc_req {
	struct vnode_msg_hdr hdr;
	__le64	slab_index;
};

/**
 * struct vnode_alloc_rsp - VNODE_OP_ALLOC_SLAB response
 * @hdr: header (status VNODE_ST_FULL when no capacity is left)
 * @handle: server's id for this slab, used to free it
 * @addr: remote virtual address of the slab for RDMA READ/WRITE
 * @len: slab length in bytes
 * @rkey: remote key, valid only on this client's connections
 * @reserved: zero
 */
struct vnode_alloc_rsp {
	struct vnode_msg_hdr hdr;
	__le64	handle;
	__le64	addr;
	__le64	len;
	__le32	rkey;
	__le32	reserved;
};

/**
 * struct vnode_free_req - VNODE_OP_FREE_SLAB request
 * @hdr: header
 * @handle: handle from struct vnode_alloc_rsp
 */
struct vnode_free_req {
	struct vnode_msg_hdr hdr;
	__le64	handle;
};

/**
 * struct vnode_stats_rsp - VNODE_OP_STATS response
 * @hdr: header
 * @capacity: bytes exported in total
 * @used: bytes allocated to all clients
 * @client_used: bytes allocated to the asking client
 * @nr_clients: connected clients (objects, not queues)
 * @slab_shift: log2 of the slab size
 * @reserved: zero
 * @leased: bytes reserved by every identity's leases (1.4)
 * @committed: bytes promised: the sum over identities of the larger of
 *	what an identity reserved and what its clients hold (1.4)
 * @client_leased: bytes reserved by the asking identity (1.4)
 *
 * A server before 1.4 sends 56 bytes; the reply's hdr.len says which.
 */
struct vnode_stats_rsp {
	struct vnode_msg_hdr hdr;
	__le64	capacity;
	__le64	used;
	__le64	client_used;
	__le32	nr_clients;
	__le16	slab_shift;
	__u8	reserved[10];
	__le64	leased;
	__le64	committed;
	__le64	client_leased;
};

/* Length of struct vnode_stats_rsp before 1.4. */
#define VNODE_STATS_RSP_LEN_1_3	56

/*
 * Reservations (1.4).  A memory host promises capacity to identities (the
 * hello's authenticated name: a process host), not to connections.  An
 * identity holds leases, each named by a 64-bit id it chooses (vnoded: one
 * per vNode), through a VNODE_ROLE_PROBE connection:
 *   RESERVE  sets lease @lease_id to @bytes (creating it, growing or
 *            shrinking it), all or nothing;
 *   RELEASE  ends lease @lease_id;
 *   RENEW    renews every lease of the identity.
 * Each of the three renews all of the identity's leases; a lease not
 * renewed for the server's lease time (struct vnode_lease_rsp.lease_ms)
 * ends on its own.  The server promises no more than its capacity:
 * committed = sum over identities of max(leased, held by its clients)
 * stays <= capacity, so a RESERVE that would pass it fails with
 * VNODE_ST_FULL, and one past the identity's quota with VNODE_ST_QUOTA.
 * ALLOC_SLAB of a client is charged to its identity: within the
 * identity's leases it always has room; beyond them it takes unpromised
 * capacity only.
 */

/**
 * struct vnode_reserve_req - VNODE_OP_RESERVE request (32 bytes)
 * @hdr: header
 * @lease_id: the lease, chosen by the identity (not 0)
 * @bytes: what it should now reserve (not 0: RELEASE ends a lease)
 */
struct vnode_reserve_req {
	struct vnode_msg_hdr hdr;
	__le64	lease_id;
	__le64	bytes;
};

/**
 * struct vnode_release_req - VNODE_OP_RELEASE request (24 bytes)
 * @hdr: header (status VNODE_ST_NOENT in the reply: no such lease)
 * @lease_id: the lease
 */
struct vnode_release_req {
	struct vnode_msg_hdr hdr;
	__le64	lease_id;
};

/**
 * struct vnode_lease_rsp - reply to RESERVE, RELEASE and RENEW (56 bytes)
 * @hdr: header
 * @leased: bytes the identity's leases now reserve
 * @held: bytes the identity's clients hold
 * @avail: the most this RESERVE could have asked (failed or not): the
 *	lease's bytes plus what is neither promised nor past the quota
 * @limit: the identity's quota on this server
 * @lease_ms: the server's lease time
 * @nr_leases: the identity's leases
 */
struct vnode_lease_rsp {
	struct vnode_msg_hdr hdr;
	__le64	leased;
	__le64	held;
	__le64	avail;
	__le64	limit;
	__le32	lease_ms;
	__le32	nr_leases;
};

/**
 * struct vnode_leases_req - VNODE_OP_LEASES request (24 bytes)
 * @hdr: header
 * @cursor: 0, then the reply's @next, until it is 0
 * @reserved: zero
 */
struct vnode_leases_req {
	struct vnode_msg_hdr hdr;
	__le32	cursor;
	__le32	reserved;
};

/**
 * struct vnode_lease_ent - one identity in a LEASES reply (40 bytes)
 * @ident: the identity, NUL-padded
 * @leased: bytes its leases reserve
 * @held: bytes its clients hold
 * @nr_clients: its connected memory clients
 * @nr_leases: its leases
 */
struct vnode_lease_ent {
	char	ident[16];
	__le64	leased;
	__le64	held;
	__le32	nr_clients;
	__le32	nr_leases;
};

#define VNODE_LEASES_PER_MSG	5

/**
 * struct vnode_leases_rsp - VNODE_OP_LEASES reply (24 + 40 * nr bytes)
 * @hdr: header
 * @total: identities the server knows (with a lease or a client)
 * @next: cursor of the next page, 0 after the last
 * @nr: entries in @ent
 * @reserved: zero
 * @ent: identities, in the server's order
 */
struct vnode_leases_rsp {
	struct vnode_msg_hdr hdr;
	__le16	total;
	__le16	next;
	__le16	nr;
	__le16	reserved;
	struct vnode_lease_ent ent[VNODE_LEASES_PER_MSG];
};

/**
 * struct vnode_sgl - a client buffer registered for one command (16 bytes)
 * @addr: remote address (iova of the client's MR)
 * @rkey: rkey, valid until the command's reply (which invalidates it)
 * @len: bytes
 */
struct vnode_sgl {
	__le64	addr;
	__le32	rkey;
	__le32	len;
};

/* Generic response carrying only a status (FREE_SLAB, GOODBYE). */
struct vnode_status_rsp {
	struct vnode_msg_hdr hdr;
};

/* ------------------------------------------------------------------ */
/* Storage protocol (ops 16+): a process host's remote volume          */
/* ------------------------------------------------------------------ */

/*
 * A volume client (role VNODE_ROLE_STOR) sends STOR_OPEN once per
 * connection set; the storage host checks that the client's hello said
 * protocol 1.VNODE_STOR_MIN_MINOR or later (else VNODE_ST_VERSION) and
 * that the volume is exported to the client's address, and answers with
 * the volume geometry.  Each I/O is then one STOR_IO command on any of
 * the client's queues, many in flight per queue:
 *   write: the client registers its pages (FRWR) and sends their
 *          vnode_sgl; the storage host RDMA READs them, writes the backing
 *          store and replies (SEND with invalidate of the rkey).  Writes
 *          up to inline_max bytes carry the data after the request
 *          instead (VNODE_STOR_IO_F_INLINE, no registration).
 *   read:  the client registers its pages and sends their vnode_sgl; the
 *          storage host reads the backing store, RDMA WRITEs the data and
 *          replies (posted together; SEND with invalidate).
 */
#define VNODE_STOR_NAME_LEN	32	/* volume name, NUL included */
/*
 * What a client puts in vnode_stor_open_req.compat_version: protocol 1.1
 * storage hosts refuse any other value; 1.2 ones ignore the field.
 */
#define VNODE_STOR_COMPAT_VERSION	2

/* struct vnode_stor_open_rsp.flags: what the export supports */
#define VNODE_STOR_F_FLUSH	0x01	/* volatile cache: FLUSH/FUA honoured */
#define VNODE_STOR_F_FUA	0x02
#define VNODE_STOR_F_DISCARD	0x04	/* DISCARD and WRITE_ZEROES */
#define VNODE_STOR_F_SRV_RDMA	0x08	/* server-initiated RDMA (1.1) */

/**
 * struct vnode_stor_open_req - VNODE_OP_STOR_OPEN request (64 bytes)
 * @hdr: header
 * @volume: NUL-padded volume name on the storage host
 * @compat_version: VNODE_STOR_COMPAT_VERSION, for protocol 1.1 storage
 *	hosts, which check it (1.0 clients sent 0); ignored since 1.2, where
 *	the protocol version of the hello decides
 * @reserved: zero
 */
struct vnode_stor_open_req {
	struct vnode_msg_hdr hdr;
	char	volume[VNODE_STOR_NAME_LEN];
	__le16	compat_version;
	__u8	reserved[14];
};

/**
 * struct vnode_stor_open_rsp - VNODE_OP_STOR_OPEN response (80 bytes)
 * @hdr: header (VNODE_ST_NOENT unknown or disabled volume, VNODE_ST_PERM
 *	not exported to this client, VNODE_ST_VERSION the client's protocol
 *	minor is below VNODE_STOR_MIN_MINOR).
 *	A second OPEN of the same volume from the owner host takes it over:
 *	the previous connection set's commands then fail with VNODE_ST_NOENT.
 * @size: volume size in bytes
 * @reserved1: zero (1.0: bounce area address)
 * @reserved2: zero (1.0: bounce area rkey)
 * @max_io: largest READ/WRITE in bytes
 * @queue_depth: STOR_IO commands the client may have in flight per queue
 * @block_size: logical block size of the export (offsets and lengths
 *	are multiples of it)
 * @flags: VNODE_STOR_F_*
 * @max_discard: largest DISCARD/WRITE_ZEROES in bytes (0: none)
 * @inline_max: largest write sent inline (VNODE_STOR_IO_F_INLINE)
 * @volume_id: random id of this volume instance; changes when the
 *	volume is deleted and created again
 * @reserved: zero
 */
struct vnode_stor_open_rsp {
	struct vnode_msg_hdr hdr;
	__le64	size;
	__le64	reserved1;
	__le32	reserved2;
	__le32	max_io;
	__le16	queue_depth;
	__le16	block_size;
	__le32	flags;
	__le32	max_discard;
	__le32	inline_max;
	__le64	volume_id;
	__u8	reserved[16];
};

/**
 * enum vnode_stor_cmd - struct vnode_stor_io_req.cmd
 * @VNODE_STOR_READ: backing store -> client buffer
 * @VNODE_STOR_WRITE: client buffer (or inline data) -> backing store
 * @VNODE_STOR_FLUSH: make every acknowledged write stable
 * @VNODE_STOR_DISCARD: deallocate a range (reads back zeroes)
 * @VNODE_STOR_WRITE_ZEROES: zero a range
 */
enum vnode_stor_cmd {
	VNODE_STOR_READ		= 0,
	VNODE_STOR_WRITE	= 1,
	VNODE_STOR_FLUSH	= 2,
	VNODE_STOR_DISCARD	= 3,
	VNODE_STOR_WRITE_ZEROES	= 4,
};

#define VNODE_STOR_IO_F_FUA	0x01	/* write: stable before the reply */
#define VNODE_STOR_IO_F_INLINE	0x02	/* write: data follows the request */

/**
 * struct vnode_stor_io_req - VNODE_OP_STOR_IO request (48 bytes, then
 *	@len bytes of data with VNODE_STOR_IO_F_INLINE)
 * @hdr: header
 * @cmd: enum vnode_stor_cmd
 * @flags: VNODE_STOR_IO_F_*
 * @reserved0: zero
 * @len: bytes; at most max_io for READ/WRITE, max_discard otherwise
 * @offset: byte offset in the volume
 * @sgl: the client's buffer for READ and (not inline) WRITE; its len
 *	must equal @len
 */
struct vnode_stor_io_req {
	struct vnode_msg_hdr hdr;
	__u8	cmd;
	__u8	flags;
	__le16	reserved0;
	__le32	len;
	__le64	offset;
	struct vnode_sgl sgl;
};

/**
 * struct vnode_stor_io_rsp - VNODE_OP_STOR_IO response (32 bytes)
 * @hdr: header (VNODE_ST_IO: the backing store failed; VNODE_ST_INVALID:
 *	out of range, misaligned, or a bad buffer descriptor; VNODE_ST_NOENT:
 *	not opened)
 * @len: bytes done
 * @reserved: zero
 */
struct vnode_stor_io_rsp {
	struct vnode_msg_hdr hdr;
	__le32	len;
	__u8	reserved[12];
};

#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/stddef.h>

/*
 * Pin the size of every wire structure, as nvme's _nvme_check_size()
 * does: a field added without taking it from the reserved bytes breaks
 * the build, not the peer.  vnode_xprt calls this once at module init.
 */
static inline void vnode_proto_check_sizes(void)
{
	BUILD_BUG_ON(sizeof(struct vnode_hello) != 56);
	BUILD_BUG_ON(sizeof(struct vnode_accept) != 56);
	BUILD_BUG_ON(sizeof(struct vnode_reject) != 16);
	BUILD_BUG_ON(sizeof(struct vnode_auth_challenge) != 112);
	BUILD_BUG_ON(sizeof(struct vnode_msg_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct vnode_alloc_req) != 24);
	BUILD_BUG_ON(sizeof(struct vnode_alloc_rsp) != 48);
	BUILD_BUG_ON(sizeof(struct vnode_free_req) != 24);
	BUILD_BUG_ON(sizeof(struct vnode_stats_rsp) != 80);
	BUILD_BUG_ON(offsetof(struct vnode_stats_rsp, leased) !=
		     VNODE_STATS_RSP_LEN_1_3);
	BUILD_BUG_ON(sizeof(struct vnode_reserve_req) != 32);
	BUILD_BUG_ON(sizeof(struct vnode_release_req) != 24);
	BUILD_BUG_ON(sizeof(struct vnode_lease_rsp) != 56);
	BUILD_BUG_ON(sizeof(struct vnode_leases_req) != 24);
	BUILD_BUG_ON(sizeof(struct vnode_lease_ent) != 40);
	BUILD_BUG_ON(sizeof(struct vnode_leases_rsp) > VNODE_MSG_MAX);
	BUILD_BUG_ON(sizeof(struct vnode_sgl) != 16);
	BUILD_BUG_ON(sizeof(struct vnode_status_rsp) != 16);
	BUILD_BUG_ON(sizeof(struct vnode_stor_open_req) != 64);
	BUILD_BUG_ON(sizeof(struct vnode_stor_open_rsp) != 80);
	BUILD_BUG_ON(sizeof(struct vnode_stor_io_req) != 48);
	BUILD_BUG_ON(sizeof(struct vnode_stor_io_rsp) != 32);
	/* rdma_cm private data: 56 bytes in a connect request (IB CM REQ) */
	BUILD_BUG_ON(sizeof(struct vnode_hello) > 56);
	/* ... 196 in an accept, 148 in a reject */
	BUILD_BUG_ON(sizeof(struct vnode_accept) > 196);
	BUILD_BUG_ON(sizeof(struct vnode_auth_challenge) > 148);
	BUILD_BUG_ON(VNODE_ACCEPT_MAC_OFF !=
		     offsetof(struct vnode_accept, amac));
	BUILD_BUG_ON(VNODE_AUTH_CORE_LEN !=
		     offsetof(struct vnode_hello, name));
}
#endif /* __KERNEL__ */

#endif /* VNODE_PROTO_H */
