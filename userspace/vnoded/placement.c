// SPDX-License-Identifier: GPL-2.0
/* Placement of a vNode's remote quota on memory hosts, and the shared
 * remote-memory swap disk they back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "db.h"
#include "placement.h"
#include "size.h"

static bool host_in_list(const char *list, const char *hp)
{
	size_t l = strlen(hp);
	const char *p = list;

	while ((p = strstr(p, hp))) {
		if ((p == list || p[-1] == ',') && (p[l] == ',' || !p[l]))
			return true;
		p += l;
	}
	return false;
}

uint64_t vn_probe_free(const struct vn_probe_result *r, uint64_t reserved)
{
	uint64_t busy = r->has_leases ? r->committed :
			reserved > r->used ? reserved : r->used;

	return r->capacity > busy ? r->capacity - busy : 0;
}

int vn_load_hosts(struct vn_ctx *ctx, const struct vn_disk_info *di,
		  struct vn_host *hosts, int max, struct vn_err *err)
{
	struct vn_probe_result r;
	json_object *rows;
	size_t i, n;
	int nh = 0, ret;

	ret = vn_db_memory_hosts(ctx, true, &rows, err);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	for (i = 0; i < n && nh < max; i++) {
		json_object *c = json_object_array_get_idx(rows, i);
		struct vn_host *h = &hosts[nh++];
		struct vn_err e = { "" };

		memset(h, 0, sizeof(*h));
		h->id = vn_jint(c, "id");
		snprintf(h->name, sizeof(h->name), "%s", vn_jstr(c, "name"));
		snprintf(h->addr, sizeof(h->addr), "%s:%" PRId64, vn_jstr(c, "addr"),
			 vn_jint(c, "port"));
		h->reserved = (uint64_t)vn_jint(c, "reserved");
		h->gone = di->enabled && host_in_list(di->gone, h->addr);
		h->in_disk = !di->enabled || (host_in_list(di->hosts, h->addr) && !h->gone);
		h->draining = vn_jstr(c, "drain") != NULL;
		if (h->draining)
			h->in_disk = false;
		if (vn_probe_comp(ctx, c, &r, NULL, 0, &e)) {
			snprintf(h->err, sizeof(h->err), "%s", e.msg);
			continue;
		}
		h->up = true;
		h->capacity = r.capacity;
		h->used = r.used;
		h->slab_shift = r.slab_shift;
		h->free = vn_probe_free(&r, h->reserved);
	}
	json_object_put(rows);
	return nh;
}

int vn_place_check(struct vn_ctx *ctx, const struct vn_host *hosts, int nh,
		   const char *name, struct vn_err *err)
{
	struct vsql_st *st;
	int i, rc;

	for (i = 0; i < nh; i++) {
		const struct vn_host *h = &hosts[i];
		uint64_t now = 0, grown;
		char g[32], t[32];

		if (!h->take)
			continue;
		rc = vn_prep(ctx, "SELECT coalesce(sum(bytes), 0) FROM allocations "
			     "WHERE component_id = ?", &st, err);
		if (rc)
			return rc;
		vsql_bind_int64(st, 1, h->id);
		rc = vsql_step(st);
		if (rc == VSQL_ROW)
			now = (uint64_t)vsql_column_int64(st, 0);
		vsql_finalize(st);
		if (rc != VSQL_ROW)
			return vn_db_err(ctx->db, rc < 0 ? rc : -EIO, err);
		if (now <= h->reserved)
			continue;
		grown = now - h->reserved;
		if (grown <= h->free && h->take <= h->free - grown)
			continue;
		vn_fmt_size(grown, g, sizeof(g));
		vn_fmt_size(h->take, t, sizeof(t));
		return vn_seterr(err, ENOSPC,
				 "not enough remote memory: while vNode '%s' was placed, other vNodes reserved %s more on memory host %s, which no longer has the %s it needs: try again",
				 name, g, h->name, t);
	}
	return 0;
}

int vn_place(struct vn_host *hosts, int nh, uint64_t quota, int r,
	     uint64_t *avail)
{
	uint64_t need = quota * (uint64_t)r, sum = 0;
	int i, j, order[VN_MAX_COMPONENTS];

	for (i = 0; i < nh; i++) {
		hosts[i].take = 0;
		order[i] = i;
		if (hosts[i].up && hosts[i].in_disk)
			sum += hosts[i].free < quota ? hosts[i].free : quota;
	}
	*avail = sum;
	if (sum < need)
		return -ENOSPC;
	for (i = 1; i < nh; i++)	/* insertion sort by free, descending */
		for (j = i; j > 0 && hosts[order[j]].free > hosts[order[j - 1]].free; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < nh && need; i++) {
		struct vn_host *h = &hosts[order[i]];
		uint64_t t;

		if (!h->up || !h->in_disk)
			continue;
		t = h->free < quota ? h->free : quota;
		if (t > need)
			t = need;
		h->take = t;
		need -= t;
	}
	return 0;
}

void vn_hosts_summary(const struct vn_host *hosts, int nh, char *buf,
		      size_t len)
{
	size_t off = 0;
	char sz[32];
	int i;

	buf[0] = '\0';
	for (i = 0; i < nh && off < len; i++) {
		const struct vn_host *h = &hosts[i];
		int n;

		if (h->draining)
			n = snprintf(buf + off, len - off, "%s%s drained for maintenance",
				     off ? ", " : "", h->name);
		else if (!h->up)
			n = snprintf(buf + off, len - off, "%s%s down", off ? ", " : "",
				     h->name);
		else if (h->gone)
			n = snprintf(buf + off, len - off,
				     "%s%s given up by the swap disk (unreachable past its loss timeout; it counts again once the disk has reached it anew)",
				     off ? ", " : "", h->name);
		else if (!h->in_disk)
			n = snprintf(buf + off, len - off, "%s%s not in the swap disk",
				     off ? ", " : "", h->name);
		else {
			vn_fmt_size(h->free, sz, sizeof(sz));
			n = snprintf(buf + off, len - off, "%s%s %s free", off ? ", " : "",
				     h->name, sz);
		}
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!nh)
		snprintf(buf, len, "no memory hosts configured");
}

/* ---- the shared swap disk ----------------------------------------------- */

int vn_ensure_disk(struct vn_ctx *ctx, struct vn_disk_info *di,
		   const struct vn_host *hosts, int nh, struct vn_err *err)
{
	char list[512] = "", sz[32];
	uint64_t total = 0, size;
	int i, shift = -1, ret;
	size_t off = 0;

	ret = vn_disk_info(&ctx->kern, ctx->cluster.disk, di);
	if (ret)
		return vn_seterr(err, -ret, "cannot read disk state");
	if (di->enabled && di->dev[0]) {
		if (di->swap_active)
			return 0;
		ret = vn_swap_on(&ctx->kern, di->dev, true, err);
		if (!ret) {
			di->swap_active = true;
			ctx->log(LOG_NOTICE, "swap re-enabled on /dev/%s", di->dev);
		}
		return ret;
	}
	for (i = 0; i < nh; i++) {
		const struct vn_host *h = &hosts[i];
		int n;

		if (!h->up || h->draining)
			continue;
		if (shift >= 0 && h->slab_shift != shift) {
			ctx->log(LOG_WARNING, "memory host %s has slab_shift %d, others %d: left out of the disk",
				 h->name, h->slab_shift, shift);
			continue;
		}
		shift = h->slab_shift;
		n = snprintf(list + off, sizeof(list) - off, "%s%s", off ? "," : "",
			     h->addr);
		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
		total += h->capacity;
	}
	if (!off)
		return vn_seterr(err, EHOSTUNREACH, "no memory host is reachable");
	size = ctx->cluster.disk_size;
	if (!size)
		size = total / (uint64_t)ctx->cluster.replicas;
	size &= ~(MIB - 1);
	if (!size)
		return vn_seterr(err, ENOSPC, "memory hosts export no capacity");
	ret = vn_disk_setup(&ctx->kern, ctx->cluster.disk, list, size,
			    ctx->cluster.replicas, di, err);
	if (ret)
		return ret;
	ret = vn_swap_on(&ctx->kern, di->dev, true, err);
	if (ret) {
		char p[PATH_MAX];

		/* leave the disk disabled, not half set up */
		vn_kpath(&ctx->kern, p, sizeof(p), VN_CFS "/mem/%s/enable",
			 ctx->cluster.disk);
		vn_write_file(p, "0", false);
		return ret;
	}
	di->swap_active = true;
	vn_disk_info(&ctx->kern, ctx->cluster.disk, di);
	vn_fmt_size(size, sz, sizeof(sz));
	ctx->log(LOG_NOTICE, "remote-memory swap disk /dev/%s: %s on %s, %d replica(s)",
		 di->dev, sz, list, ctx->cluster.replicas);
	{
		json_object *d = json_object_new_object();

		json_object_object_add(d, "disk", json_object_new_string(ctx->cluster.disk));
		json_object_object_add(d, "dev", json_object_new_string(di->dev));
		json_object_object_add(d, "hosts", json_object_new_string(list));
		json_object_object_add(d, "size", json_object_new_uint64(size));
		json_object_object_add(d, "replicas",
				       json_object_new_int(ctx->cluster.replicas));
		vn_event(ctx, "disk.enable", "disk", ctx->cluster.disk, d, NULL);
		json_object_put(d);
	}
	return 0;
}

const struct vn_disk_host *vn_disk_host_find(const struct vn_disk_host *h,
					     int n, const char *addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(h[i].addr, addr))
			return &h[i];
	return NULL;
}

int vn_place_move(struct vn_ctx *ctx, int64_t comp, struct vn_host *hosts,
		  int nh, struct vn_err *err)
{
	json_object *rows;
	size_t i, n;
	int ret;

	ret = vn_db_comp_allocs(ctx, comp, &rows, err);
	if (ret)
		return ret;
	ret = vn_db_alloc_drop_comp(ctx, comp, err);
	n = json_object_array_length(rows);
	for (i = 0; i < n && !ret; i++) {
		json_object *a = json_object_array_get_idx(rows, i);
		int64_t vid = vn_jint(a, "vnode_id");
		uint64_t need = (uint64_t)vn_jint(a, "bytes");
		uint64_t quota = (uint64_t)vn_jint(a, "quota");

		while (need && !ret) {
			struct vn_host *best = NULL;
			uint64_t room = 0, r, held;
			int j;

			for (j = 0; j < nh; j++) {
				struct vn_host *h = &hosts[j];

				if (h->id == comp || !h->up || !h->in_disk)
					continue;
				held = (uint64_t)vn_db_alloc_bytes(ctx, vid, h->id);
				r = quota > held ? quota - held : 0;
				if (r > h->free)
					r = h->free;
				if (r > room) {
					room = r;
					best = h;
				}
			}
			if (!best) {
				char sum[512], b[32], q[32];

				vn_hosts_summary(hosts, nh, sum, sizeof(sum));
				vn_fmt_size(need, b, sizeof(b));
				vn_fmt_size(quota, q, sizeof(q));
				ret = vn_seterr(err, ENOSPC,
						"no room elsewhere: vNode '%s' would still need %s placed on hosts holding less than its %s quota (%s)",
						vn_jstr(a, "name"), b, q, sum);
				break;
			}
			if (room > need)
				room = need;
			ret = vn_db_alloc_add(ctx, vid, best->id, room, err);
			best->free -= room;
			best->reserved += room;
			need -= room;
		}
	}
	json_object_put(rows);
	return ret;
}
