// SPDX-License-Identifier: GPL-2.0
/*
 * rogue: a vnode client that attacks a memory or storage host's connect
 * handshake (protocol 1.3, see proto.h).  Runs as any user: rdma_cm is
 * open to all once rdma_ucm is loaded, which is the point.
 *
 *   rogue -a ADDR [-p PORT] -m MODE [-k KEYFILE] [-i IDENTITY]
 *         [-c CLIENT_ID] [-R ROLE] [-q QUEUE -Q NR_QUEUES] [-n COUNT]
 *         [-x HELLO_HEX]
 *
 * MODE
 *   none    a hello without authentication (an old or keyless client)
 *   guess   ask for a challenge, answer it with a random MAC
 *   auth    the real handshake with the key in KEYFILE; prints
 *           "rogue: response HEX", the hello that answered the challenge
 *   replay  send the hello HEX given with -x as it is (a recorded
 *           response: its challenge was used up)
 * KEYFILE holds a cluster key or an identity key ("IDENTITY HEX").
 * IDENTITY is the hello's name: default the identity key's, else "rogue".
 * CLIENT_ID (hex) is the hello's client_id (default random), e.g. a
 * victim's; ROLE 1 memory (default), 2 probe, 3 storage; QUEUE and
 * NR_QUEUES the hello's queue_id and nr_queues (0 and 1).  With -n, mode
 * none is tried COUNT times as fast as possible (a connect flood) and
 * one line counts the outcomes: "rogue: flood N: accepted A busy B
 * auth C other D".
 *
 * Prints one line "rogue: accepted flags=0xF amac=ok|bad|none" or
 * "rogue: rejected status=N" (or "rogue: refused ..."), and exits 0 when
 * the server accepted, 1 when it refused, 2 on a usage or local error.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <rdma/rdma_cma.h>

#include <vnode/proto.h>

/* The key file and the MACs, as vnoded's probe does them. */
#include "auth.h"

static struct vn_key key;
static char ident[VNODE_AUTH_IDENT_LEN];

struct conn {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
};

static struct rdma_cm_event *wait_event(struct conn *c)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(c->ec, &ev)) {
		perror("rogue: rdma_get_cm_event");
		exit(2);
	}
	return ev;
}

static void conn_close(struct conn *c)
{
	if (c->id) {
		if (c->id->qp)
			rdma_destroy_qp(c->id);
		rdma_destroy_id(c->id);
	}
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	rdma_destroy_event_channel(c->ec);
	memset(c, 0, sizeof(*c));
}

/* Connect with @h; returns the event (ESTABLISHED, REJECTED, ...). */
static struct rdma_cm_event *conn_try(struct conn *c, struct rdma_addrinfo *ai,
				      const struct vnode_hello *h)
{
	struct rdma_conn_param cp = { 0 };
	struct ibv_qp_init_attr qa = { 0 };
	struct rdma_cm_event *ev;

	c->ec = rdma_create_event_channel();
	if (!c->ec || rdma_create_id(c->ec, &c->id, NULL, RDMA_PS_TCP) ||
	    rdma_resolve_addr(c->id, NULL, ai->ai_dst_addr, 3000)) {
		perror("rogue: resolve");
		exit(2);
	}
	ev = wait_event(c);
	if (ev->event != RDMA_CM_EVENT_ADDR_RESOLVED ||
	    rdma_ack_cm_event(ev) || rdma_resolve_route(c->id, 3000)) {
		fprintf(stderr, "rogue: address not resolved\n");
		exit(2);
	}
	ev = wait_event(c);
	if (ev->event != RDMA_CM_EVENT_ROUTE_RESOLVED) {
		fprintf(stderr, "rogue: route not resolved\n");
		exit(2);
	}
	rdma_ack_cm_event(ev);
	c->pd = ibv_alloc_pd(c->id->verbs);
	c->cq = c->pd ? ibv_create_cq(c->id->verbs, 8, NULL, NULL, 0) : NULL;
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 4;
	qa.cap.max_recv_wr = 4;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (!c->cq || rdma_create_qp(c->id, c->pd, &qa)) {
		perror("rogue: qp");
		exit(2);
	}
	cp.private_data = h;
	cp.private_data_len = sizeof(*h);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 3;
	cp.rnr_retry_count = 3;
	if (rdma_connect(c->id, &cp)) {
		perror("rogue: rdma_connect");
		exit(2);
	}
	return wait_event(c);
}

static const struct vnode_reject *reject_of(struct rdma_cm_event *ev,
					    uint8_t *len)
{
	const struct vnode_reject *r = ev->param.conn.private_data;

	*len = ev->param.conn.private_data_len;
	if (ev->event != RDMA_CM_EVENT_REJECTED || !r || *len < sizeof(*r) ||
	    le32toh(r->magic) != VNODE_MAGIC)
		return NULL;
	return r;
}

/* Print how @ev ended the attempt and ack it; exit status. */
static int outcome(struct rdma_cm_event *ev, const unsigned char *cnonce,
		   const unsigned char *snonce)
{
	const struct vnode_accept *acc = ev->param.conn.private_data;
	const struct vnode_reject *r;
	unsigned char m[VNODE_AUTH_MAC_LEN];
	uint8_t len;

	if (ev->event == RDMA_CM_EVENT_ESTABLISHED) {
		const char *am = "none";

		if (acc && ev->param.conn.private_data_len >= sizeof(*acc) &&
		    (le32toh(acc->flags) & VNODE_ACCEPT_F_AUTH)) {
			am = "bad";
			if (key.len && snonce &&
			    !vn_auth_accept_mac(&key, ident, acc, cnonce,
						snonce, m) &&
			    !CRYPTO_memcmp(m, acc->amac, VNODE_AUTH_MAC_LEN))
				am = "ok";
		}
		printf("rogue: accepted flags=%#x amac=%s capacity=%llu\n",
		       acc ? le32toh(acc->flags) : 0, am,
		       acc ? (unsigned long long)le64toh(acc->capacity) : 0);
		rdma_ack_cm_event(ev);
		return 0;
	}
	r = reject_of(ev, &len);
	if (r)
		printf("rogue: rejected status=%u len=%u\n",
		       le16toh(r->status), len);
	else
		printf("rogue: refused (%s, status %d)\n",
		       rdma_event_str(ev->event), ev->status);
	rdma_ack_cm_event(ev);
	return 1;
}

/* -n: COUNT keyless connects back to back; counts how each ended. */
static int flood(struct rdma_addrinfo *ai, struct vnode_hello *h, int count)
{
	int i, acc = 0, busy = 0, auth = 0, other = 0;

	h->auth = VNODE_AUTH_NONE;
	for (i = 0; i < count; i++) {
		struct conn c = { 0 };
		struct rdma_cm_event *ev = conn_try(&c, ai, h);
		const struct vnode_reject *r;
		uint8_t len;

		r = reject_of(ev, &len);
		if (ev->event == RDMA_CM_EVENT_ESTABLISHED)
			acc++;
		else if (r && le16toh(r->status) == VNODE_ST_BUSY)
			busy++;
		else if (r && le16toh(r->status) == VNODE_ST_AUTH)
			auth++;
		else
			other++;
		rdma_ack_cm_event(ev);
		conn_close(&c);
	}
	printf("rogue: flood %d: accepted %d busy %d auth %d other %d\n",
	       count, acc, busy, auth, other);
	return acc ? 0 : 1;
}

static void print_hex(const char *what, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	printf("rogue: %s ", what);
	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *port = "7470", *mode = NULL, *hex = NULL;
	unsigned char cnonce[VNODE_AUTH_NONCE_LEN];
	unsigned char m[VNODE_AUTH_HMAC_LEN];
	struct vn_err err;
	struct rdma_addrinfo hints = { 0 }, *ai;
	const struct vnode_auth_challenge *ch;
	struct vnode_hello h = { 0 };
	struct rdma_cm_event *ev;
	struct conn c = { 0 };
	uint64_t client_id;
	int opt, role = VNODE_ROLE_MEM, ret, qid = 0, nrq = 1, count = 0;
	uint8_t len;

	if (getrandom(&client_id, sizeof(client_id), 0) != sizeof(client_id) ||
	    getrandom(cnonce, sizeof(cnonce), 0) != sizeof(cnonce))
		return 2;
	while ((opt = getopt(argc, argv, "a:p:m:k:i:c:R:x:q:Q:n:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = optarg; break;
		case 'm': mode = optarg; break;
		case 'k':
			if (vn_key_load(optarg, &key, NULL, &err)) {
				fprintf(stderr, "rogue: %s\n", err.msg);
				return 2;
			}
			break;
		case 'i':
			if (strlen(optarg) >= sizeof(ident))
				goto usage;
			snprintf(ident, sizeof(ident), "%s", optarg);
			break;
		case 'c': client_id = strtoull(optarg, NULL, 16); break;
		case 'R': role = atoi(optarg); break;
		case 'x': hex = optarg; break;
		case 'q': qid = atoi(optarg); break;
		case 'Q': nrq = atoi(optarg); break;
		case 'n': count = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!addr || !mode || optind != argc)
		goto usage;
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(addr, port, &hints, &ai)) {
		perror("rogue: rdma_getaddrinfo");
		return 2;
	}

	h.magic = htole32(VNODE_MAGIC);
	h.major = htole16(VNODE_PROTO_MAJOR);
	h.minor = htole16(VNODE_PROTO_MINOR);
	h.role = role;
	h.queue_id = htole16(qid);
	h.nr_queues = htole16(nrq);
	h.client_id = htole64(client_id);
	if (!ident[0])
		snprintf(ident, sizeof(ident), "%.*s",
			 (int)sizeof(ident) - 1,
			 key.ident[0] ? key.ident : "rogue");
	memcpy(h.name, ident, sizeof(h.name));
	if (key.ident[0] && memcmp(key.ident, ident, sizeof(ident))) {
		/* Another identity's key, passed off as this one's. */
		printf("rogue: using %s's identity key as %s's\n", key.ident,
		       ident);
		memcpy(key.ident, ident, sizeof(ident));
	}

	if (!strcmp(mode, "replay")) {
		if (!hex || strlen(hex) != 2 * sizeof(h) ||
		    vn_hex_decode(hex, (uint8_t *)&h, sizeof(h)))
			goto usage;
		ret = outcome(conn_try(&c, ai, &h), NULL, NULL);
		conn_close(&c);
		return ret;
	}
	if (!strcmp(mode, "none") && count > 0)
		return flood(ai, &h, count);
	if (!strcmp(mode, "none")) {
		h.auth = VNODE_AUTH_NONE;
		ret = outcome(conn_try(&c, ai, &h), NULL, NULL);
		conn_close(&c);
		return ret;
	}
	if (strcmp(mode, "guess") && strcmp(mode, "auth"))
		goto usage;
	if (!strcmp(mode, "auth") && !key.len)
		goto usage;

	/* Step 1: ask for a challenge. */
	h.auth = VNODE_AUTH_INIT;
	memcpy(h.auth_data, cnonce, sizeof(cnonce));
	ev = conn_try(&c, ai, &h);
	ch = (const void *)reject_of(ev, &len);
	if (!ch || le16toh(ch->rej.status) != VNODE_ST_AUTH ||
	    !(ch->rej.flags & VNODE_REJECT_F_CHALLENGE) || len < sizeof(*ch)) {
		printf("rogue: no challenge\n");
		ret = outcome(ev, cnonce, NULL);
		conn_close(&c);
		return ret;
	}
	printf("rogue: challenge received (%u bytes)\n", len);
	{
		struct vnode_auth_challenge chal;

		memcpy(&chal, ch, sizeof(chal));
		rdma_ack_cm_event(ev);
		conn_close(&c);

		/* Step 3: answer it. */
		if (key.len) {
			if (vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_SERVER, &h,
					      cnonce, chal.snonce, m))
				return 2;
			printf("rogue: server proof %s\n",
			       CRYPTO_memcmp(m, chal.smac, sizeof(m)) ?
			       "BAD" : "ok");
		}
		h.auth = VNODE_AUTH_RESPONSE;
		if (!strcmp(mode, "auth")) {
			if (vn_auth_hello_mac(&key, VNODE_AUTH_LABEL_CLIENT, &h,
					      cnonce, chal.snonce, m))
				return 2;
			memcpy(h.auth_data, m, VNODE_AUTH_MAC_LEN);
			print_hex("response", &h, sizeof(h));
		} else if (getrandom(h.auth_data, VNODE_AUTH_MAC_LEN, 0) !=
			   VNODE_AUTH_MAC_LEN) {
			return 2;
		}
		fflush(stdout);
		ev = conn_try(&c, ai, &h);
		ret = outcome(ev, cnonce, chal.snonce);
	}
	if (!ret)
		rdma_disconnect(c.id);
	conn_close(&c);
	return ret;
usage:
	fprintf(stderr,
		"usage: rogue -a ADDR [-p PORT] -m none|guess|auth|replay [-k KEYFILE] [-i IDENTITY] [-c CLIENT_ID] [-R ROLE] [-q QUEUE -Q NR_QUEUES] [-n COUNT] [-x HELLO_HEX]\n");
	return 2;
}
