/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe a memory/storage host with the module control protocol
 * (modules/include/vnode/proto.h): rdma_cm connect with a vnode_hello of
 * role VNODE_ROLE_PROBE, read vnode_accept from the ESTABLISHED event,
 * ask VNODE_OP_STATS, disconnect.  Protocol 1.3: with the cluster key
 * (read from auth->key_file at every probe, so that a rotated key needs
 * no restart) the probe first asks for a challenge, checks that the host
 * knows the key, connects again with its response and checks the
 * accept's MAC; without a key it refuses unless auth->insecure.
 */
#ifndef VN_PROBE_H
#define VN_PROBE_H

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
};

typedef int (*vn_probe_fn)(const char *addr, int port, int timeout_ms,
			   const struct vn_auth_conf *auth,
			   struct vn_probe_result *res, struct vn_err *err);

/* The real thing: librdmacm/libibverbs. */
int vn_probe_rdma(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth,
		  struct vn_probe_result *res, struct vn_err *err);

/* Test stand-in (vnoded --sysroot): reads SYSROOT/probe/ADDR:PORT with
 * "capacity used slab_shift [op_rtt]" (sizes accept K/M/G; op_rtt a time,
 * "412us"), absent = unreachable,
 * "reject full" = a VNODE_ST_FULL reject.  Set root with vn_probe_fake_root.
 * auth is not used. */
void vn_probe_fake_root(const char *root);
int vn_probe_fake(const char *addr, int port, int timeout_ms,
		  const struct vn_auth_conf *auth,
		  struct vn_probe_result *res, struct vn_err *err);

const char *vn_status_str(int status);

#endif /* VN_PROBE_H */
