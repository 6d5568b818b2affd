// SPDX-License-Identifier: GPL-2.0
/* Reconciliation, at start and every interval: make the kernel match the
 * database (cgroups, accounting objects, the swap disk, volumes) and reap
 * throw-away vNodes whose vnode-run is gone. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "placement.h"
#include "volume.h"

static void set_state(struct vn_ctx *ctx, json_object *v, const char *state,
		      const char *why)
{
	if (!strcmp(vn_jstr(v, "state"), state))
		return;
	if (vn_db_vnode_set_state(ctx, vn_jint(v, "id"), state))
		return;
	json_object_object_add(v, "state", json_object_new_string(state));
	json_object_object_add(v, "reason", json_object_new_string(why));
	vn_event(ctx->db, "vnode.state", "vnode", vn_jstr(v, "name"), v, NULL);
}

static int reconcile_one(struct vn_ctx *ctx, json_object *v)
{
	const char *name = vn_jstr(v, "name");
	uint64_t cgid = 0, kid = 0;
	struct vn_err e = { "" };
	const char *cpus = vn_jstr(v, "cpus");
	int fixed = 0, ret;

	if (!vn_cg_exists(&ctx->kern, name)) {
		ret = vn_cg_create(&ctx->kern, name, &e);
		if (ret)
			goto bad;
		fixed++;
	}
	ret = vn_cg_set_limits(&ctx->kern, name, (uint64_t)vn_jint(v, "cache"),
			       (uint64_t)vn_jint(v, "quota"), cpus, &e);
	if (ret)
		goto bad;
	ret = vn_cg_id(&ctx->kern, name, &cgid);
	if (ret) {
		vn_seterr(&e, -ret, "cannot stat cgroup");
		goto bad;
	}
	if (!vn_acct_exists(&ctx->kern, name) ||
	    vn_acct_get_cgid(&ctx->kern, name, &kid) || kid != cgid) {
		ret = vn_acct_create(&ctx->kern, name, cgid, &e);
		if (ret)
			goto bad;
		fixed++;
	}
	if ((int64_t)cgid != vn_jint(v, "cgroup_id")) {
		vn_db_vnode_set_cgid(ctx, vn_jint(v, "id"), cgid);
		json_object_object_add(v, "cgroup_id", json_object_new_int64((int64_t)cgid));
		fixed++;
	}
	if (fixed) {
		ctx->log(LOG_NOTICE, "vNode %s: restored kernel state (%d fix(es))",
			 name, fixed);
		vn_event(ctx->db, "vnode.reconcile", "vnode", name, v, NULL);
	}
	set_state(ctx, v, "active", "reconciled");
	return 0;
bad:
	ctx->log(LOG_ERR, "vNode %s: cannot restore kernel state: %s", name, e.msg);
	set_state(ctx, v, "broken", e.msg);
	return 1;
}

int vn_reconcile(struct vn_ctx *ctx, bool reap)
{
	struct vn_host hosts[VN_MAX_COMPONENTS];
	struct vn_disk_info di;
	json_object *rows;
	int bad = 0, nh;
	size_t i, n;

	if (vn_db_vnode_list(ctx, &rows, NULL))
		return 1;
	n = json_object_array_length(rows);
	if (vn_db_quota_total(ctx) > 0 && !vn_disk_info(&ctx->kern, ctx->cluster.disk, &di) &&
	    !(di.enabled && di.swap_active)) {
		struct vn_err e = { "" };

		nh = vn_load_hosts(ctx, &di, hosts, VN_MAX_COMPONENTS, &e);
		if (nh < 0 || vn_ensure_disk(ctx, &di, hosts, nh, &e)) {
			ctx->log(LOG_ERR, "cannot restore the remote-memory swap disk: %s",
				 e.msg);
			bad++;
		}
	}
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(rows, i);

		if (reap && vn_jint(v, "ephemeral")) {
			pid_t cp = (pid_t)vn_jint(v, "creator_pid");
			bool alive = cp > 0 && (!kill(cp, 0) || errno == EPERM);

			if (!alive && vn_cg_nprocs(&ctx->kern, vn_jstr(v, "name")) <= 0) {
				struct vn_err e;

				if (!vn_vnode_teardown(ctx, v, false, false,
						    "throw-away vNode whose vnode-run is gone", &e))
					continue;
			}
		}
		bad += reconcile_one(ctx, v);
	}
	json_object_put(rows);
	return bad + vn_volume_reconcile(ctx);
}
