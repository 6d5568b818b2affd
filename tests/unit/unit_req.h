/* SPDX-License-Identifier: GPL-2.0 */
/* Requests to vnoded's handlers (vnoded/request.c) from a unit test, as
 * a client on the socket would send them. */
#ifndef VN_UNIT_REQ_H
#define VN_UNIT_REQ_H

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

#endif /* VN_UNIT_REQ_H */
