// SPDX-License-Identifier: GPL-2.0
/*
 * badpeer: a fake vnode memory host that speaks the wrong protocol.
 *
 *   badpeer -a ADDR [-p PORT] -m MODE [-t SECONDS]
 *
 * MODE
 *   reject-version  reject every connect with struct vnode_reject
 *                   { status = VNODE_ST_VERSION, major = 99 }
 *   accept-major    accept with struct vnode_accept { major = 99 }
 *   reject-full     reject with VNODE_ST_FULL (a full memory host)
 *
 * Prints "badpeer: listening ADDR:PORT" once ready, then one line per
 * connect request ("badpeer: hello major=1 minor=0 role=1 queue=0/1
 * name=p1 -> rejected"), and exits after SECONDS (default 30) or
 * after the first peer went away, 0 if at least one hello was seen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rdma/rdma_cma.h>

#include "../../modules/include/vnode/proto.h"

enum mode { REJECT_VERSION, ACCEPT_MAJOR, REJECT_FULL };

static enum mode mode;
static int hellos;

static int handle_request(struct rdma_cm_id *id,
			  const struct rdma_conn_param *cp)
{
	const struct vnode_hello *h = cp->private_data;
	struct vnode_reject rj = { 0 };
	struct vnode_accept acc = { 0 };
	struct rdma_conn_param param = { 0 };
	struct ibv_qp_init_attr qa = { 0 };
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	char name[sizeof(h->name) + 1] = "";

	if (cp->private_data_len >= sizeof(*h)) {
		memcpy(name, h->name, sizeof(h->name));
		printf("badpeer: hello magic=%#x major=%u minor=%u role=%u queue=%u/%u name=%s",
		       le32toh(h->magic), le16toh(h->major),
		       le16toh(h->minor), h->role, le16toh(h->queue_id),
		       le16toh(h->nr_queues), name);
		hellos++;
	} else {
		printf("badpeer: connect request with %u bytes of private data",
		       cp->private_data_len);
	}

	if (mode != ACCEPT_MAJOR) {
		rj.magic = htole32(VNODE_MAGIC);
		rj.status = htole16(mode == REJECT_FULL ? VNODE_ST_FULL :
				    VNODE_ST_VERSION);
		rj.major = htole16(mode == REJECT_FULL ? VNODE_PROTO_MAJOR : 99);
		rj.minor = 0;
		printf(" -> rejected (%s)\n",
		       mode == REJECT_FULL ? "FULL" : "VERSION, major 99");
		fflush(stdout);
		return rdma_reject(id, &rj, sizeof(rj));
	}

	pd = ibv_alloc_pd(id->verbs);
	cq = pd ? ibv_create_cq(id->verbs, 16, NULL, NULL, 0) : NULL;
	if (!cq) {
		perror("badpeer: pd/cq");
		return rdma_reject(id, NULL, 0);
	}
	qa.send_cq = cq;
	qa.recv_cq = cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 8;
	qa.cap.max_recv_wr = 8;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, pd, &qa)) {
		perror("badpeer: rdma_create_qp");
		return rdma_reject(id, NULL, 0);
	}
	acc.magic = htole32(VNODE_MAGIC);
	acc.major = htole16(99);
	acc.minor = 0;
	acc.slab_shift = htole16(20);
	acc.max_inflight = htole16(8);
	acc.server_id = htole64(0x6261647065657221ULL);
	acc.capacity = htole64(64ULL << 20);
	param.private_data = &acc;
	param.private_data_len = sizeof(acc);
	param.responder_resources = 1;
	param.initiator_depth = 1;
	printf(" -> accepted with major 99\n");
	fflush(stdout);
	return rdma_accept(id, &param);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *port = "7470";
	struct rdma_event_channel *ec;
	struct rdma_cm_id *listen_id;
	struct rdma_addrinfo hints = { 0 }, *res;
	struct rdma_cm_event *ev;
	int seconds = 30, opt, gone = 0;
	time_t deadline;

	while ((opt = getopt(argc, argv, "a:p:m:t:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "reject-version"))
				mode = REJECT_VERSION;
			else if (!strcmp(optarg, "accept-major"))
				mode = ACCEPT_MAJOR;
			else if (!strcmp(optarg, "reject-full"))
				mode = REJECT_FULL;
			else
				goto usage;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (!addr || optind != argc)
		goto usage;

	hints.ai_flags = RAI_PASSIVE;
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(addr, port, &hints, &res)) {
		perror("badpeer: rdma_getaddrinfo");
		return 2;
	}
	ec = rdma_create_event_channel();
	if (!ec || rdma_create_id(ec, &listen_id, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen_id, res->ai_src_addr) ||
	    rdma_listen(listen_id, 8)) {
		perror("badpeer: listen");
		return 2;
	}
	printf("badpeer: listening %s:%s\n", addr, port);
	fflush(stdout);

	deadline = time(NULL) + seconds;
	while (time(NULL) < deadline && !gone) {
		struct pollfd pfd = { .fd = ec->fd, .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (rdma_get_cm_event(ec, &ev))
			break;
		switch (ev->event) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			if (handle_request(ev->id, &ev->param.conn))
				perror("badpeer: accept/reject");
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			printf("badpeer: established\n");
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
			printf("badpeer: peer disconnected\n");
			rdma_disconnect(ev->id);
			gone = 1;
			break;
		default:
			printf("badpeer: event %s\n", rdma_event_str(ev->event));
			break;
		}
		fflush(stdout);
		rdma_ack_cm_event(ev);
	}
	/* Let the last reject/disconnect reach the wire. */
	usleep(200000);
	printf("badpeer: done, %d hello(s)\n", hellos);
	return hellos ? 0 : 1;
usage:
	fprintf(stderr,
		"usage: badpeer -a ADDR [-p PORT] -m reject-version|accept-major|reject-full [-t SECONDS]\n");
	return 2;
}
