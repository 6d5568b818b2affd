/* SPDX-License-Identifier: GPL-2.0 */
/* Requests to vnoded's handlers (vnoded/request.c) from a unit test, as
 * a client on the socket would send them. */
#ifndef VN_UNIT_REQ_H
#define VN_UNIT_REQ_H

#include <sys/socket.h>

#include "unit.h"
#include "vnoded.h"

/* The whole answer of line, sent by uid (caller puts it). */
static inline json_object *unit_req(struct vn_ctx *ctx, const char *line, uid_t uid)
{
	struct vn_caller who = { .uid = uid, .pid = getpid() };
	char *r = vn_handle_request(ctx, line, &who);
	json_object *o = json_tokener_parse(r);

	assert_non_null(o);
	free(r);
	return o;
}

/* The answer's data of line, sent by root, which must succeed (caller
 * puts it). */
static inline json_object *unit_ok(struct vn_ctx *ctx, const char *line)
{
	json_object *o = unit_req(ctx, line, 0), *d;

	if (!json_object_get_boolean(json_object_object_get(o, "ok")))
		fail_msg("'%s': %s", line, json_object_get_string(json_object_object_get(o, "error")));
	d = json_object_get(json_object_object_get(o, "data"));
	json_object_put(o);
	return d;
}

/* line is refused with errno code and an error that holds msg. */
static inline void unit_expect_err(struct vn_ctx *ctx, const char *line, uid_t uid,
				   int code, const char *msg)
{
	json_object *o = unit_req(ctx, line, uid);
	const char *e;

	assert_false(json_object_get_boolean(json_object_object_get(o, "ok")));
	e = json_object_get_string(json_object_object_get(o, "error"));
	if (json_object_get_int(json_object_object_get(o, "errno")) != code || !strstr(e, msg))
		fail_msg("'%s': got %d '%s', want %d '%s'", line,
			 json_object_get_int(json_object_object_get(o, "errno")), e, code, msg);
	json_object_put(o);
}

/* A monitor: the events.watch request line answered (as root) and its
 * connection adopted; returns the client's end (caller closes), *since
 * (if not NULL) the answer's since. */
static inline int unit_watch(struct vn_ctx *ctx, const char *line, int64_t *since)
{
	json_object *d = unit_ok(ctx, line);
	int sv[2];

	if (since)
		*since = json_object_get_int64(json_object_object_get(d, "since"));
	json_object_put(d);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	vn_watch_adopt(ctx, sv[0]);
	close(sv[0]);
	return sv[1];
}

/* The next event (one line) a monitor's client end has, or NULL if none
 * (caller puts it). */
static inline json_object *unit_watch_next(int fd)
{
	char buf[4096], *nl;
	ssize_t got = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT | MSG_PEEK);
	json_object *o;

	if (got < 0 && errno == EAGAIN)
		return NULL;
	assert_true(got > 0);
	buf[got] = '\0';
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_int_equal(recv(fd, buf, (size_t)(nl - buf + 1), 0), nl - buf + 1);
	*nl = '\0';
	o = json_tokener_parse(buf);
	assert_non_null(o);
	return o;
}

#endif /* VN_UNIT_REQ_H */
