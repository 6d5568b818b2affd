// SPDX-License-Identifier: GPL-2.0
/* The daemon context: database, kernel interface, probe and agent calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "evict.h"
#include "volume.h"
#include "vnoded.h"

static void nolog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

int vn_ctx_init(struct vn_ctx *ctx, const char *dbpath, const char *sysroot,
		const struct vn_cluster *cluster, struct vn_err *err)
{
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->reply_fd = -1;
	vn_watch_init(&ctx->watch);
	vn_sql_limits_default(&ctx->sql_limits);
	ret = vn_kern_init(&ctx->kern, sysroot, err);
	if (ret)
		return ret;
	if (vn_path(ctx->dbpath, sizeof(ctx->dbpath), "%s", dbpath))
		return vn_seterr(err, ENAMETOOLONG, "state path too long");
	vn_kern_identity(&ctx->kern, ctx->host, sizeof(ctx->host));
	ret = vn_db_open(dbpath, ctx->host, &ctx->db, err);
	if (ret)
		return ret;
	/* vnoded loads its presets files after this; tests use these */
	ctx->presets = calloc(1, sizeof(*ctx->presets));
	if (!ctx->presets)
		return vn_seterr(err, ENOMEM, "out of memory");
	ret = vn_fabric_presets_load("", false, ctx->presets, err);
	if (ret)
		return ret;
	if (cluster) {
		ctx->cluster = *cluster;
	} else {
		struct vn_conf c;

		vn_conf_defaults(&c);
		ctx->cluster = c.cluster;
	}
	if (vn_kern_fake(&ctx->kern)) {
		vn_probe_fake_root(ctx->kern.root);
		ctx->probe = vn_probe_fake;
		ctx->agent = vn_agent_fake;
	} else {
		ctx->probe = vn_probe_rdma;
		ctx->agent = vn_agent_tcp;
	}
	snprintf(ctx->fake_peer, sizeof(ctx->fake_peer), "10.0.0.1");
	ctx->interval_ms = 10000;
	ctx->detach_timeout_ms = 10000;
	ctx->kill_timeout_ms = 5000;
	ctx->log = nolog;
	return 0;
}

void vn_ctx_fini(struct vn_ctx *ctx)
{
	vn_evict_stop_all(ctx);
	json_object_put(ctx->leases.event);
	ctx->leases.event = NULL;
	free(ctx->presets);
	ctx->presets = NULL;
	if (ctx->db)
		vsql_close(ctx->db);
	ctx->db = NULL;
	if (ctx->reply_fd >= 0)
		close(ctx->reply_fd);
	ctx->reply_fd = -1;
	vn_watch_fini(&ctx->watch);
	vn_sql_limits_default(&ctx->sql_limits);
}
