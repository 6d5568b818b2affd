/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by lib/core.c (vNodes) and lib/volume.c (volumes). */
#ifndef VN_CORE_PRIV_H
#define VN_CORE_PRIV_H

#include "core.h"

/* First row of a query as a JSON object, or NULL (*out) if none. */
int vn_q_one(struct vn_ctx *ctx, const char *sql, const char *const *binds,
	     json_object **out, struct vn_err *err);
int64_t vn_jint(json_object *o, const char *key);
const char *vn_jstr(json_object *o, const char *key);
/* Step a prepared statement to completion and finalize it. */
int vn_step_done(struct vn_ctx *ctx, sqlite3_stmt *st, struct vn_err *err);
int vn_prep(struct vn_ctx *ctx, const char *sql, sqlite3_stmt **st,
	    struct vn_err *err);
int vn_get_component(struct vn_ctx *ctx, const char *name, json_object **out,
		     struct vn_err *err);
int vn_get_vnode(struct vn_ctx *ctx, const char *name, json_object **out,
		 struct vn_err *err);
/* "" = the caller; a non-root caller can only name itself. */
int vn_resolve_owner(const char *owner, const struct vn_caller *who,
		     uid_t *uid, struct vn_err *err);
/* root or the vNode's owner */
int vn_check_perm(json_object *vn, const struct vn_caller *who,
		  const char *what, struct vn_err *err);

#endif /* VN_CORE_PRIV_H */
