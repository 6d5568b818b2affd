/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe a memory/storage host with the module control protocol
 * (modules/include/vnode/proto.h): rdma_cm connect with a vnode_hello of
 * role VNODE_ROLE_PROBE, read vnode_accept from the ESTABLISHED event,
 * ask VNODE_OP_STATS and (1.4) reservation requests, disconnect.
 * Protocol 1.3: with the cluster key (read from auth->key_file at every
 * probe, so that a rotated key needs no restart) the probe first asks for
 * a challenge, checks that the host knows the key, connects again with
 * its response and checks the accept's MAC; without a key it refuses
 * unless auth->insecure.
 */
#ifndef VN_PROBE_H
#define VN_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "util.h"

struct vn_probe_result {
	uint64_t capacity;	/* bytes exported */
	uint64_t used;		/* bytes allocated to all clients */
	uint64_t server_id;
	int slab_shift;
	int major, minor;
	int nr_clients;		/* from STATS, -1 if STATS failed */
	int64_t rtt_us;		/* connect round trip */
	int64_t op_rtt_ns;	/* STATS round trip (a SEND and its answer): an
				 * estimate of the wire time, 0 if unknown */
	/* STATS of 1.4 (the server's minor >= VNODE_LEASE_MIN_MINOR and a
	 * reply long enough): has_leases, and bytes reserved by every
	 * identity, promised (sum over identities of max(leased, held)),
	 * reserved by ours */
	bool has_leases;
	uint64_t leased, committed, client_leased;
};

/* One identity of a LEASES reply. */
struct vn_lease_ident {
	char ident[VNODE_AUTH_IDENT_LEN];
	uint64_t leased, held;
	uint32_t nr_clients, nr_leases;
};

/*
 * A reservation request (1.4) sent on the probe's connection after STATS:
 * op VNODE_OP_RESERVE (lease_id, bytes), VNODE_OP_RELEASE (lease_id),
 * VNODE_OP_RENEW or VNODE_OP_LEASES (every page: idents, malloc'd, free
 * with vn_lease_ops_free).  The probe sets status to the reply's
 * VNODE_ST_*, or leaves it -1 when the request was not sent (a server
 * before 1.4: res->minor says so); the rest is struct vnode_lease_rsp's.
 */
struct vn_lease_op {
	int op;
	uint64_t lease_id, bytes;
	int status;
	uint64_t leased, held, avail, limit;
	uint32_t lease_ms, nr_leases;
	struct vn_lease_ident *idents;
	int nr_idents;
};

/* n ops: status -1, idents freed. */
void vn_lease_ops_reset(struct vn_lease_op *ops, int n);
void vn_lease_ops_free(struct vn_lease_op *ops, int n);

/* Connect (the hello's name: auth->ident, or an identity key's), read the
 * accept, ask STATS (a failure is not fatal: nr_clients -1), then run the
 * n lease ops in order; a transport failure of one is the probe's error. */
typedef int (*vn_probe_fn)(const char *addr, int port, int timeout_ms,
			   const struct vn_auth_conf *auth,
			   struct vn_lease_op *ops, int n,
			   struct vn_probe_result *res, struct vn_err *err);

/* The real thing: librdmacm/libibverbs. */
int vn_probe_rdma(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth, struct vn_lease_op *ops,
		  int n, struct vn_probe_result *res, struct vn_err *err);

/*
 * Test stand-in (vnoded --sysroot): reads SYSROOT/probe/ADDR:PORT with
 * "capacity used [slab_shift [op_rtt]] [minor=N] [quota=SIZE]
 * [lease_ms=MS]" (sizes accept K/M/G; op_rtt a time, "412us"; minor the
 * server's, default ours; quota every identity's, default the capacity;
 * lease_ms default 30000), absent = unreachable, "reject full" = a
 * VNODE_ST_FULL reject.  Its leases are SYSROOT/probe/ADDR:PORT.leases,
 * one a line: "IDENTITY LEASE_ID BYTES [EXPIRES]" (LEASE_ID hex, BYTES a
 * size, EXPIRES ms since the epoch, absent or 0: never), rewritten by
 * every RESERVE, RELEASE and RENEW as the kernel would (committed = used
 * + every lease; the identity's leases renewed together).  Set root with
 * vn_probe_fake_root.  auth only gives the identity.
 */
void vn_probe_fake_root(const char *root);
int vn_probe_fake(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth, struct vn_lease_op *ops,
		  int n, struct vn_probe_result *res, struct vn_err *err);

const char *vn_status_str(int status);

#endif /* VN_PROBE_H */
