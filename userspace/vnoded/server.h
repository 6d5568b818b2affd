/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The accept-and-read loop of vnoded and of its storage agent: many
 * clients at once, one request each.
 *
 * Model: every connection is non-blocking and has its own buffer; one
 * poll() loop accepts and reads all of them as data comes, so a slow or
 * stalled client (slowloris) delays nobody else.  Each connection has an
 * overall deadline from accept to its full request line (request_ms,
 * default 5 s); when it passes, the connection is dropped and logged with
 * the peer.  At most max_conns (64) connections are open at once; the
 * next one is answered {"ok":false,"errno":EBUSY,...} and closed.  Only
 * the *execution* of a complete request is serialized: the handler runs
 * in the loop, one request at a time, so the daemon's state has a single
 * writer without locks.  The reply is written blocking, bounded by
 * SO_SNDTIMEO (request_ms).
 */
#ifndef VN_SERVER_H
#define VN_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VN_CONN_MAX		64
#define VN_REQUEST_MS		5000

struct vn_server;

struct vn_conn {
	int fd;			/* -1: free slot */
	int64_t deadline_ms;	/* accept + request_ms */
	char *buf;		/* VN_REQ_MAX + 1 */
	size_t len;
	char peer[96];		/* for logs: "uid 1000 pid 42" or an address */
	uid_t uid;		/* unix sockets: SO_PEERCRED */
	gid_t gid;
	pid_t pid;
	uint8_t nonce[16];	/* the agent's greeting nonce (agent.h) */
};

struct vn_server {
	int listen_fd;
	int max_conns;		/* <= VN_CONN_MAX */
	int request_ms;
	int nconns;
	struct vn_conn conns[VN_CONN_MAX];
	/* fill c->peer (and uid...) for a new connection; nonzero drops it */
	int (*on_accept)(struct vn_server *s, struct vn_conn *c);
	/* run one complete request line and write the reply on c->fd */
	void (*on_request)(struct vn_server *s, struct vn_conn *c, char *line);
	void *priv;
	void (*log)(int prio, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

/* listen_fd must be non-blocking; max_conns/request_ms 0 = defaults. */
void vn_server_init(struct vn_server *s, int listen_fd, int max_conns,
		    int request_ms);
/* Close every open connection (not the listening socket). */
void vn_server_fini(struct vn_server *s);
/* The pollfds to watch (the listening socket first); returns how many
 * (at most 1 + VN_CONN_MAX). */
int vn_server_pollfds(const struct vn_server *s, struct pollfd *p);
/* timeout_ms shortened to the next request deadline (-1 = none). */
int vn_server_timeout(const struct vn_server *s, int timeout_ms);
/* After poll(): accept, read, run complete requests, drop late ones. */
void vn_server_events(struct vn_server *s, const struct pollfd *p, int n);
/* poll() on the server's own descriptors for at most timeout_ms, then
 * vn_server_events (tests, and loops with nothing else to watch). */
int vn_server_step(struct vn_server *s, int timeout_ms);

#endif /* VN_SERVER_H */
