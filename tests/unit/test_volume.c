// SPDX-License-Identifier: GPL-2.0
/*
 * vNode volumes (vnoded/volume.c, vnoded/agent.c, vnoded/kern_vol.c)
 * against a fake sysroot: the storage host's configfs and the process
 * host's are in the same tree, and the agent runs in-process
 * (an agent answers for ADDR when DIR/agent/ADDR exists).
 */
#include <sys/utsname.h>

#include "kern_ops.h"
#include "unit.h"
#include "agent.h"
#include "db.h"
#include "ipc.h"
#include "vnoded.h"
#include "volume.h"

#define M (1ULL << 20)
#define STOR "sys/kernel/config/vnode_stor/volumes/"
#define VOL "sys/kernel/config/vnode_vol/"

struct fx {
	char dir[256];
	char root[300];
	char db[300];
	struct vn_ctx ctx;
	struct vn_caller root_user;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct vn_cluster cl = { .replicas = 1, .disk = "vnmem", .probe_timeout_ms = 100,
				 .agent_port = 7472 };
	struct vn_conf_comp s1 = { .name = "s1", .kind = VN_COMP_STORAGE,
				   .addr = "10.0.0.9", .port = 7471 };
	struct vn_err err;

	make_tmpdir(fx->dir, sizeof(fx->dir));
	snprintf(fx->root, sizeof(fx->root), "%s/root", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/state.db", fx->dir);
	write_at(fx->root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	write_at(fx->root, "sys/kernel/config/vnode/mem/.keep", "");
	write_at(fx->root, "sys/kernel/config/vnode/vnodes/.keep", "");
	write_at(fx->root, STOR ".keep", "");
	write_at(fx->root, VOL ".keep", "");
	write_at(fx->root, "proc/.keep", "");
	write_at(fx->root, "agent/10.0.0.9", "");
	if (vn_ctx_init(&fx->ctx, fx->db, fx->root, &cl, &err)) {
		fprintf(stderr, "ctx: %s\n", err.msg);
		return -1;
	}
	fx->ctx.detach_timeout_ms = 200;
	assert_int_equal(vn_component_add(&fx->ctx, &s1, "test", false, NULL, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	vn_ctx_fini(&fx->ctx);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static int64_t q_int(struct fx *fx, const char *sql)
{
	return db_int(fx->ctx.db, sql);
}

/* vnode create NAME --mem 64M --cache 64M + storage options */
static int create(struct fx *fx, const char *name, uint64_t storage,
		  const char *volume, const char *host, bool keep,
		  struct vn_err *err)
{
	struct vn_vnode_req r = { .mem = 64 * M, .cache = 64 * M, .storage = storage,
				  .keep_storage = keep };

	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.volume, sizeof(r.volume), "%s", volume ? volume : "");
	snprintf(r.stor_host, sizeof(r.stor_host), "%s", host ? host : "");
	return vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, err);
}

/* the same with --storage-protect prot (-1: none given) */
static int create_prot(struct fx *fx, const char *name, uint64_t storage,
		       const char *volume, bool keep, int prot, struct vn_err *err)
{
	struct vn_vnode_req r = { .mem = 64 * M, .cache = 64 * M, .storage = storage,
				  .keep_storage = keep, .has_storage_protect = prot >= 0,
				  .storage_protect = prot >= 0 ? (enum vn_vol_protect)prot :
							 VN_VOL_PROTECT_NONE };

	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.volume, sizeof(r.volume), "%s", volume ? volume : "");
	return vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, err);
}

/* rows of vnodes/volumes/events + stor and vol configfs entries */
static void state_sig(struct fx *fx, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 "/%" PRId64 "/%" PRId64 "/%d%d%d",
		 q_int(fx, "SELECT count(*) FROM vnodes"),
		 q_int(fx, "SELECT count(*) FROM volumes"),
		 q_int(fx, "SELECT count(*) FROM events"),
		 exists_at(fx->root, STOR "x"), exists_at(fx->root, VOL "x"),
		 exists_at(fx->root, "sys/fs/cgroup/vnode/x"));
}

static void create_keep_reattach(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char buf[128];

	assert_int_equal(create(fx, "a", 64 * M, NULL, NULL, false, &err), 0);
	/* storage host: a volume exported to us only; process host: a disk */
	assert_int_equal(read_at(fx->root, STOR "a/client", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.1");
	assert_int_equal(read_at(fx->root, STOR "a/size", buf, sizeof(buf)), 0);
	assert_int_equal(strtoull(buf, NULL, 10), 64 * M);
	assert_int_equal(read_at(fx->root, VOL "a/host", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.9:7471");
	assert_int_equal(read_at(fx->root, VOL "a/volume", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a");
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"mkfs.ext4 -q -F -L a -E nodiscard,root_owner=0:0 /dev/vnblk0"), 1);
	assert_true(exists_at(fx->root, "vnode"));	/* the default mount point */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes v JOIN vnodes n ON n.id = v.vnode_id "
			       "WHERE v.name = 'a' AND n.name = 'a' AND v.state = 'attached' AND "
			       "v.dev = 'vnblk0' AND v.keep = 0 AND v.mountpoint = '/vnode'"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE object = 'volume'"), 2);

	/* vnode-run's mount: a descriptor handed back with the answer */
	{
		json_object *d = NULL;

		assert_int_equal(vn_vnode_mount(&fx->ctx, "a", &fx->root_user, &d, &err), 0);
		assert_true(fx->ctx.reply_fd >= 0);
		assert_string_equal(json_object_get_string(json_object_object_get(d, "mountpoint")),
				    "/vnode");
		json_object_put(d);
		close(fx->ctx.reply_fd);
		fx->ctx.reply_fd = -1;
	}

	/* destroy --keep-storage: detached here, kept there */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, true, &fx->root_user, &err), 0);
	assert_false(exists_at(fx->root, VOL "a"));
	assert_true(exists_at(fx->root, STOR "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE name = 'a' AND "
			       "vnode_id IS NULL AND state = 'detached' AND keep = 1 AND dev IS NULL"), 1);

	/* re-attach to a new vNode: no second mkfs */
	assert_int_equal(create(fx, "b", 0, "a", NULL, false, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 1);
	assert_true(exists_at(fx->root, VOL "a"));
	/* a volume brought with --volume outlives its vNode */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "b", false, false, &fx->root_user, &err), 0);
	assert_true(exists_at(fx->root, STOR "a"));
	assert_int_equal(q_int(fx, "SELECT keep FROM volumes WHERE name = 'a'"), 1);
	/* volume delete removes it on the storage host */
	assert_int_equal(vn_volume_delete(&fx->ctx, "a", &fx->root_user, &err), 0);
	assert_false(exists_at(fx->root, STOR "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes"), 0);

	/* without --keep-storage destroy deletes the volume there too */
	assert_int_equal(create(fx, "c", 64 * M, NULL, NULL, false, &err), 0);
	assert_true(exists_at(fx->root, STOR "c"));
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "c", false, false, &fx->root_user, &err), 0);
	assert_false(exists_at(fx->root, STOR "c"));
	assert_false(exists_at(fx->root, VOL "c"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes"), 0);
	/* --keep-storage at create keeps it at destroy */
	assert_int_equal(create(fx, "d", 64 * M, NULL, NULL, true, &err), 0);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "d", false, false, &fx->root_user, &err), 0);
	assert_true(exists_at(fx->root, STOR "d"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE state = 'detached'"), 1);
}

static void bad_input(void **state)
{
	struct fx *fx = *state;
	char before[128], after[128];
	struct vn_err err;

	assert_int_equal(create(fx, "held", 64 * M, NULL, NULL, false, &err), 0);
	state_sig(fx, before, sizeof(before));
	assert_int_equal(create(fx, "x", 64 * M, NULL, "nope", false, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "unknown storage host 'nope'"));
	assert_int_equal(create(fx, "x", 64 * M, "held", NULL, false, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "volume 'held' already exists"));
	assert_int_equal(create(fx, "x", 0, "held", NULL, false, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "attached to vNode 'held'"));
	assert_int_equal(create(fx, "x", 0, "ghost", NULL, false, &err), -ENOENT);
	assert_int_equal(create(fx, "x", 64 * M + 512, NULL, NULL, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "multiple of 4K"));
	assert_int_equal(create(fx, "x", 1 * M, NULL, NULL, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "at least 8M"));
	assert_int_equal(create(fx, "x.y", 64 * M, NULL, NULL, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--volume NAME"));
	{
		struct vn_vnode_req r = { .name = "x", .mem = 64 * M, .cache = 64 * M,
					  .storage = 64 * M, .mountpoint = "/a/../etc" };

		assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "invalid mount point"));
		r.storage = 0;
		strcpy(r.mountpoint, "/data");
		assert_int_equal(vn_vnode_create(&fx->ctx, &r, &fx->root_user, NULL, &err),
				 -EINVAL);
	}
	/* a memory host is no storage host */
	{
		struct vn_conf_comp m1 = { .name = "m1", .kind = VN_COMP_MEMORY,
					   .addr = "10.0.0.2", .port = 7470 };

		assert_int_equal(vn_component_add(&fx->ctx, &m1, "test", false, NULL, &err), 0);
		state_sig(fx, before, sizeof(before));
		assert_int_equal(create(fx, "x", 64 * M, NULL, "m1", false, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "not a storage host"));
	}
	/* the storage host's agent does not answer: nothing is left behind */
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/agent/10.0.0.9", fx->root);
		unlink(p);
	}
	assert_int_equal(create(fx, "x", 64 * M, NULL, NULL, false, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "storage host s1"));
	write_at(fx->root, "agent/10.0.0.9", "");
	/* attaching fails (no vnode_stor answer): the new volume is deleted again */
	write_at(fx->root, "fake/vol_enable_errno", "111\n");
	assert_int_equal(create(fx, "x", 64 * M, NULL, NULL, false, &err), -ECONNREFUSED);
	assert_non_null(strstr(err.msg, "does not answer"));
	state_sig(fx, after, sizeof(after));
	assert_string_equal(before, after);
	/* component in use */
	assert_int_equal(vn_component_remove(&fx->ctx, "s1", &err), -EBUSY);
}

static void two_storage_hosts(void **state)
{
	struct fx *fx = *state;
	struct vn_conf_comp s2 = { .name = "s2", .kind = VN_COMP_STORAGE,
				   .addr = "10.0.0.10", .port = 7471 };
	struct vn_err err;

	assert_int_equal(vn_component_add(&fx->ctx, &s2, "test", false, NULL, &err), 0);
	assert_int_equal(create(fx, "x", 64 * M, NULL, NULL, false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "several storage hosts (s1, s2)"));
	assert_int_equal(create(fx, "x", 64 * M, NULL, "s1", false, &err), 0);
}

static void expect_reply(struct vn_agent *a, const char *line, const char *peer,
			 const char *want)
{
	static const uint8_t na[VN_AGENT_NONCE_LEN];
	char *r = vn_agent_handle(a, na, line, peer);

	if (!strstr(r, want))
		fail_msg("agent answered '%s' to '%s', want '%s'", r, line, want);
	free(r);
}

/* The agent only serves the peer's own volumes (an agent without a key:
 * plain requests; the authentication is agent_auth's). */
static void agent_ownership(void **state)
{
	struct fx *fx = *state;
	struct vn_agent a = { .kern = fx->ctx.kern, .delete_timeout_ms = 100,
			      .log = NULL };
	struct vn_agent_peer other = { "10.0.0.66", "" };
	json_object *args, *d = NULL;
	struct vn_err err;

	assert_int_equal(create(fx, "mine", 64 * M, NULL, NULL, false, &err), 0);
	a.log = fx->ctx.log;
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string("mine"));
	assert_int_equal(vn_agent_exec(&a, "volume.delete", args, &other, &d, &err),
			 -EPERM);
	assert_non_null(strstr(err.msg, "belongs to host 10.0.0.1"));
	assert_true(exists_at(fx->root, STOR "mine"));
	json_object_put(args);
	/* a list shows only the caller's volumes */
	expect_reply(&a, "{\"cmd\":\"volume.list\"}", "10.0.0.66", "\"data\":[]");
	expect_reply(&a, "{\"cmd\":\"volume.list\"}", "10.0.0.1", "\"name\":\"mine\"");
	/* creating an existing name is refused for anybody */
	expect_reply(&a, "{\"cmd\":\"volume.create\",\"args\":{\"name\":\"mine\",\"size\":8388608}}",
		     "10.0.0.66", "already exists on this storage host (another host's)");
	expect_reply(&a, "{\"cmd\":\"volume.create\",\"args\":{\"name\":\"n\",\"size\":1000}}",
		     "10.0.0.66", "multiple of 4K");
}

static void set_key(struct vn_key *k, uint8_t fill)
{
	memset(k->bytes, fill, 32);
	k->len = 32;
}

/* One exchange with the agent: greeting, signed request, signed answer
 * (args taken). */
static int exchange_args(struct vn_agent *a, struct vn_agent_session *s,
			 const char *cmd, json_object *args, json_object **data,
			 struct vn_err *err, char **line_out, char **reply_out)
{
	uint8_t na[VN_AGENT_NONCE_LEN];
	char hello[128], *line = NULL, *reply;
	int ret;

	assert_int_equal(vn_agent_hello(a, na, hello, sizeof(hello)), 0);
	ret = vn_agent_request(s, hello, "agent", cmd, args, &line, err);
	if (ret)
		return ret;
	reply = vn_agent_handle(a, na, line, "10.0.0.1");
	ret = vn_agent_reply(s, "agent", reply, data, err);
	if (line_out)
		*line_out = line;
	else
		free(line);
	if (reply_out)
		*reply_out = reply;
	else
		free(reply);
	return ret;
}

static int exchange(struct vn_agent *a, struct vn_agent_session *s, const char *cmd,
		    json_object **data, struct vn_err *err, char **line_out,
		    char **reply_out)
{
	return exchange_args(a, s, cmd, NULL, data, err, line_out, reply_out);
}

/* The agent's authentication: the MACs both ways, replays, wrong keys. */
static void agent_auth(void **state)
{
	struct fx *fx = *state;
	struct vn_agent a = { .kern = fx->ctx.kern, .delete_timeout_ms = 100,
			      .log = fx->ctx.log };
	struct vn_agent_session s = { 0 }, s2 = { 0 };
	uint8_t na[VN_AGENT_NONCE_LEN];
	char hello[128], *line, *reply, *r;
	json_object *d = NULL;
	struct vn_err err;

	set_key(&a.key, 0x5a);
	set_key(&s.key, 0x5a);
	/* the same key: served, the answer verified */
	assert_int_equal(exchange(&a, &s, "ping", &d, &err, &line, &reply), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(d, "peer")),
			    "10.0.0.1");
	json_object_put(d);
	assert_int_equal(line[64], ' ');
	assert_non_null(strstr(line, "\"nonce\":\""));
	assert_int_equal(reply[64], ' ');

	/* replay of the recorded request on a new connection (new Na) */
	assert_int_equal(vn_agent_hello(&a, na, hello, sizeof(hello)), 0);
	r = vn_agent_handle(&a, na, line, "10.0.0.1");
	assert_non_null(strstr(r, "authentication failed"));
	assert_non_null(strstr(r, "\"ok\":false"));
	free(r);
	/* a tampered request (same MAC, other command) */
	{
		char *t = strdup(line), *c = strstr(t, "ping");

		memcpy(c, "pong", 4);
		assert_int_equal(vn_agent_hello(&a, na, hello, sizeof(hello)), 0);
		r = vn_agent_handle(&a, na, t, "10.0.0.1");
		assert_non_null(strstr(r, "authentication failed"));
		free(r);
		free(t);
	}
	/* replay of the recorded answer to a new request (new Nc) */
	assert_int_equal(vn_agent_hello(&a, na, hello, sizeof(hello)), 0);
	free(line);
	assert_int_equal(vn_agent_request(&s, hello, "agent", "ping", NULL, &line, &err), 0);
	assert_int_equal(vn_agent_reply(&s, "agent", reply, &d, &err), -EACCES);
	assert_non_null(strstr(err.msg, "did not authenticate its answer"));
	free(line);
	free(reply);

	/* a plain (keyless) request to an agent with a key */
	r = vn_agent_handle(&a, na, "{\"cmd\":\"ping\"}", "10.0.0.1");
	assert_non_null(strstr(r, "request not authenticated"));
	free(r);

	/* wrong key on the client: refused by the agent, and the client says so */
	set_key(&s2.key, 0x33);
	assert_int_equal(exchange(&a, &s2, "ping", &d, &err, NULL, NULL), -EACCES);
	assert_non_null(strstr(err.msg, "authentication failed: wrong cluster key"));
	/* an agent with another key: its answer does not verify */
	set_key(&a.key, 0x33);
	set_key(&s2.key, 0x5a);
	assert_int_equal(exchange(&a, &s2, "volume.list", &d, &err, NULL, NULL), -EACCES);

	/* an agent without a key (insecure): a client with a key refuses it */
	memset(&a.key, 0, sizeof(a.key));
	assert_int_equal(exchange(&a, &s, "ping", &d, &err, NULL, NULL), -EACCES);
	assert_non_null(strstr(err.msg, "has no cluster key (insecure)"));
	/* ... a keyless client is served (insecure = true on both sides) */
	memset(&s2, 0, sizeof(s2));
	assert_int_equal(exchange(&a, &s2, "ping", &d, &err, NULL, NULL), 0);
	json_object_put(d);
	/* and a keyed agent answers unsigned errors only: a keyless client
	 * sees them, an "ok" without a MAC is refused by a keyed client */
	set_key(&a.key, 0x5a);
	assert_int_equal(exchange(&a, &s2, "ping", &d, &err, NULL, NULL), -EACCES);
	assert_non_null(strstr(err.msg, "request not authenticated"));
	assert_int_equal(vn_agent_request(&s, "{\"agent\":\"vnode-1.3\",\"nonce\":"
					  "\"00000000000000000000000000000000\"}", "agent", "ping",
					  NULL, &line, &err), 0);
	free(line);
	assert_int_equal(vn_agent_reply(&s, "agent", "{\"ok\":true,\"data\":{}}", &d, &err),
			 -EACCES);
	assert_non_null(strstr(err.msg, "without proving the cluster key"));
	/* a greeting without a nonce: an old agent */
	assert_int_equal(vn_agent_request(&s, "{\"cmd\":\"x\"}", "agent", "ping", NULL,
					  &line, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "did not greet with a nonce"));
}

/* The agent's last log line (its warnings name the peer and the claim). */
static char last_log[1024];

static void keep_log(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
}

/* {"name": name, "size": size[, "reopen": true]} */
static json_object *vol_args(const char *name, uint64_t size, bool reopen)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(name));
	if (size)
		json_object_object_add(o, "size", json_object_new_uint64(size));
	if (reopen)
		json_object_object_add(o, "reopen", json_object_new_boolean(true));
	return o;
}

/* A session that proves key (for kident, with a cluster key). */
static void session(struct vn_agent_session *s, const struct vn_key *key,
		    const char *kident)
{
	struct vn_err err;

	memset(s, 0, sizeof(*s));
	if (vn_agent_session_key(s, key, kident, &err))
		fail_msg("session for '%s': %s", kident, err.msg);
}

/* The names volume.list gives the session, "a,b" */
static void list_names(struct vn_agent *a, struct vn_agent_session *s, char *buf,
		       size_t len)
{
	json_object *d = NULL;
	struct vn_err err;
	size_t i, off = 0;

	buf[0] = '\0';
	assert_int_equal(exchange(a, s, "volume.list", &d, &err, NULL, NULL), 0);
	for (i = 0; i < json_object_array_length(d); i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					json_object_get_string(json_object_object_get(
						json_object_array_get_idx(d, i), "name")));
	json_object_put(d);
}

/* A re-open names the data it had (volume_id): after a storage-host
 * restart it gets it back; when the backing store lost it, the agent
 * refuses (ESTALE) and leaves no empty volume in its place. */
static void agent_lost(void **state)
{
	struct fx *fx = *state;
	struct vn_agent a = { .kern = fx->ctx.kern, .delete_timeout_ms = 100,
			      .log = keep_log };
	struct vn_agent_session s;
	struct vn_key ck = { .len = 0 };
	char id[24], tab[PATH_MAX];
	json_object *d = NULL, *args;
	struct vn_err err;

	set_key(&a.key, 0x5a);
	set_key(&ck, 0x5a);
	session(&s, &ck, "");
	assert_int_equal(exchange_args(&a, &s, "volume.create", vol_args("v", 8 * M, false),
				       &d, &err, NULL, NULL), 0);
	snprintf(id, sizeof(id), "%s", json_object_get_string(json_object_object_get(d, "volume_id")));
	json_object_put(d);
	assert_int_equal(strlen(id), 16);

	/* restart: the item is gone, the table keeps the data */
	assert_int_equal(vn_kern_ops_of(&fx->ctx.kern)->rmdir(path_at(fx->root, STOR "v")), 0);
	args = vol_args("v", 8 * M, true);
	json_object_object_add(args, "volume_id", json_object_new_string(id));
	assert_int_equal(exchange_args(&a, &s, "volume.create", args, &d, &err, NULL, NULL), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(d, "volume_id")), id);
	assert_true(json_object_get_boolean(json_object_object_get(d, "reopened")));
	json_object_put(d);

	/* another id on the existing item: not ours */
	args = vol_args("v", 8 * M, true);
	json_object_object_add(args, "volume_id", json_object_new_string("00000000000000ff"));
	assert_int_equal(exchange_args(&a, &s, "volume.create", args, &d, &err, NULL, NULL),
			 -ESTALE);
	assert_non_null(strstr(err.msg, "volume 'v' is lost: this storage host has no data of id 00000000000000ff"));
	assert_true(exists_at(fx->root, STOR "v"));

	/* restart with the backing store wiped: refused, nothing made */
	assert_int_equal(vn_kern_ops_of(&fx->ctx.kern)->rmdir(path_at(fx->root, STOR "v")), 0);
	snprintf(tab, sizeof(tab), "%s/stor-table-v", fx->root);
	assert_int_equal(unlink(tab), 0);
	args = vol_args("v", 8 * M, true);
	json_object_object_add(args, "volume_id", json_object_new_string(id));
	last_log[0] = '\0';
	assert_int_equal(exchange_args(&a, &s, "volume.create", args, &d, &err, NULL, NULL),
			 -ESTALE);
	assert_non_null(strstr(err.msg, "not replacing it with an empty one"));
	assert_non_null(strstr(last_log, "volume v of 10.0.0.1 is lost"));
	assert_false(exists_at(fx->root, STOR "v"));
	/* a re-open that names no id (an older vnoded) is served as before */
	assert_int_equal(exchange_args(&a, &s, "volume.create", vol_args("v", 8 * M, true),
				       &d, &err, NULL, NULL), 0);
	json_object_put(d);
	assert_true(exists_at(fx->root, STOR "v"));
}

/* Requests by identity: the identity's key proves them, a new volume is
 * the identity's, another identity from the same address gets nothing
 * of it; the cluster key alone keeps the address check. */
static void agent_identity(void **state)
{
	struct fx *fx = *state;
	struct vn_agent a = { .kern = fx->ctx.kern, .delete_timeout_ms = 100,
			      .log = keep_log };
	struct vn_key ck = { .len = 0 }, k1, k2, k3, none = { .len = 0 };
	struct vn_agent_session s1, s2, sc;
	uint8_t na[VN_AGENT_NONCE_LEN];
	char buf[256], hello[128], *line, *r;
	json_object *d = NULL;
	struct vn_err err;

	set_key(&a.key, 0x5a);
	set_key(&ck, 0x5a);
	assert_int_equal(vn_identity_key(&ck, "p1", &k1, &err), 0);
	assert_int_equal(vn_identity_key(&ck, "p2", &k2, &err), 0);
	assert_int_equal(vn_identity_key(&ck, "p3", &k3, &err), 0);

	/* p1 on its identity key alone: that identity, whatever the kernel says */
	session(&s1, &k1, "p9");
	assert_string_equal(s1.ident, "p1");
	assert_int_equal(exchange_args(&a, &s1, "volume.create", vol_args("v", 8 * M, false),
				       &d, &err, &line, NULL), 0);
	assert_non_null(strstr(line, "\"identity\":\"p1\""));
	assert_string_equal(json_object_get_string(json_object_object_get(d, "owner")), "p1");
	json_object_put(d);
	assert_int_equal(read_at(fx->root, STOR "v/owner", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "p1");
	assert_int_equal(read_at(fx->root, STOR "v/client", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.1");
	assert_non_null(strstr(last_log, "volume v (8M) created for 10.0.0.1 (identity p1)"));
	assert_int_equal(exchange(&a, &s1, "ping", &d, &err, NULL, NULL), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(d, "identity")), "p1");
	json_object_put(d);

	/* p2 from the same address: refused, and it does not see v */
	session(&s2, &k2, "");
	assert_int_equal(exchange_args(&a, &s2, "volume.show", vol_args("v", 0, false),
				       &d, &err, NULL, NULL), -EPERM);
	assert_non_null(strstr(err.msg, "volume 'v' belongs to identity p1, not to p2"));
	assert_int_equal(exchange_args(&a, &s2, "volume.delete", vol_args("v", 0, false),
				       &d, &err, NULL, NULL), -EPERM);
	assert_non_null(strstr(err.msg, "belongs to identity p1, not to p2"));
	assert_true(exists_at(fx->root, STOR "v"));
	assert_int_equal(exchange_args(&a, &s2, "volume.create", vol_args("v", 8 * M, true),
				       &d, &err, NULL, NULL), -EPERM);
	assert_non_null(strstr(err.msg, "belongs to identity p1, not to p2"));
	assert_int_equal(exchange_args(&a, &s2, "volume.create", vol_args("v", 8 * M, false),
				       &d, &err, NULL, NULL), -EEXIST);
	assert_non_null(strstr(err.msg, "(another identity's)"));
	list_names(&a, &s2, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* p1 does, and may re-open it */
	list_names(&a, &s1, buf, sizeof(buf));
	assert_string_equal(buf, "v");
	assert_int_equal(exchange_args(&a, &s1, "volume.create", vol_args("v", 8 * M, true),
				       &d, &err, NULL, NULL), 0);
	json_object_put(d);

	/* a claim of p1 signed with p2's key: refused, logged with the claim */
	strcpy(s2.ident, "p1");
	last_log[0] = '\0';
	assert_int_equal(exchange_args(&a, &s2, "volume.delete", vol_args("v", 0, false),
				       &d, &err, NULL, NULL), -EACCES);
	assert_non_null(strstr(err.msg, "authentication failed for identity p1: wrong key"));
	assert_non_null(strstr(last_log, "request from 10.0.0.1 claiming identity p1 refused"));
	assert_true(exists_at(fx->root, STOR "v"));
	/* p1's own request on another connection (another Na): refused */
	assert_int_equal(vn_agent_hello(&a, na, hello, sizeof(hello)), 0);
	r = vn_agent_handle(&a, na, line, "10.0.0.1");
	assert_non_null(strstr(r, "authentication failed for identity p1"));
	assert_non_null(strstr(r, "\"errno\":13"));
	free(r);
	free(line);
	/* a claim that is no identity, whatever the MAC */
	r = vn_agent_handle(&a, na, "0000000000000000000000000000000000000000000000000000000000000000 "
			    "{\"cmd\":\"ping\",\"nonce\":\"00000000000000000000000000000000\","
			    "\"identity\":\"p 1\"}", "10.0.0.1");
	assert_non_null(strstr(r, "identity is not one"));
	assert_non_null(strstr(r, "\"errno\":13"));
	free(r);

	/* the cluster key without an identity: the address check, as before */
	session(&sc, &ck, "");
	assert_string_equal(sc.ident, "");
	assert_int_equal(exchange_args(&a, &sc, "volume.show", vol_args("v", 0, false),
				       &d, &err, &line, NULL), 0);
	assert_null(strstr(line, "identity"));
	free(line);
	json_object_put(d);
	list_names(&a, &sc, buf, sizeof(buf));
	assert_string_equal(buf, "v");
	/* the cluster key for the kernel's identity p3: p3's key signs, p3 owns */
	session(&sc, &ck, "p3");
	assert_string_equal(sc.ident, "p3");
	assert_memory_equal(sc.key.bytes, k3.bytes, k3.len);
	assert_int_equal(exchange_args(&a, &sc, "volume.create", vol_args("w", 8 * M, false),
				       &d, &err, NULL, NULL), 0);
	json_object_put(d);
	assert_int_equal(read_at(fx->root, STOR "w/owner", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "p3");
	assert_int_equal(exchange_args(&a, &sc, "volume.delete", vol_args("v", 0, false),
				       &d, &err, NULL, NULL), -EPERM);
	list_names(&a, &s1, buf, sizeof(buf));
	assert_string_equal(buf, "v");
	assert_int_equal(exchange_args(&a, &s1, "volume.delete", vol_args("v", 0, false),
				       &d, &err, NULL, NULL), 0);
	assert_false(exists_at(fx->root, STOR "v"));
	/* no identity from a kernel identity that is none */
	assert_int_equal(vn_agent_session_key(&sc, &ck, "p/3", &err), -EINVAL);

	/* an agent without a key (insecure): the claim as is */
	memset(&a.key, 0, sizeof(a.key));
	session(&s2, &none, "p2");
	assert_int_equal(s2.key.len, 0);
	assert_int_equal(exchange_args(&a, &s2, "volume.show", vol_args("w", 0, false),
				       &d, &err, NULL, NULL), -EPERM);
	assert_non_null(strstr(err.msg, "belongs to identity p3, not to p2"));
	session(&s2, &none, "p3");
	assert_int_equal(exchange_args(&a, &s2, "volume.show", vol_args("w", 0, false),
				       &d, &err, NULL, NULL), 0);
	json_object_put(d);
	vn_key_clear(&k1);
	vn_key_clear(&k2);
	vn_key_clear(&k3);
}

#define CK_HEX "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

/* vnoded's key_file: DIR/file */
static void use_key(struct fx *fx, const char *file)
{
	char *kf = fx->ctx.cluster.auth.key_file;
	size_t len = sizeof(fx->ctx.cluster.auth.key_file);

	if ((size_t)snprintf(kf, len, "%s/%s", fx->dir, file) >= len)
		fail_msg("key file path too long");
}

/* vnoded's side: the identity it sends (the kernel's, with the cluster
 * key; its key's, with an identity key) is the new volume's owner. */
static void identity_owner(void **state)
{
	struct fx *fx = *state;
	struct vn_key ck, k8;
	struct vn_err err;
	struct utsname u;
	char buf[256], hex[2 * VNODE_AUTH_HMAC_LEN + 1], want[16] = "vnode";
	char path[PATH_MAX];

	/* an agent with the cluster key; we hold it too */
	write_at(fx->root, "agent/10.0.0.9", CK_HEX "\n");
	write_at(fx->dir, "cluster.key", CK_HEX "\n");
	use_key(fx, "cluster.key");
	write_at(fx->root, "sys/kernel/config/vnode_xprt/identity", "p7\n");
	assert_int_equal(create(fx, "k1", 64 * M, NULL, NULL, true, &err), 0);
	assert_int_equal(read_at(fx->root, STOR "k1/owner", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "p7");
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "k1", false, true, &fx->root_user, &err), 0);

	/* a process host with p8's identity key only: p8 */
	assert_int_equal(vn_key_parse(CK_HEX, strlen(CK_HEX), &ck, &err), 0);
	assert_int_equal(vn_identity_key(&ck, "p8", &k8, &err), 0);
	vn_hex_encode(k8.bytes, k8.len, hex);
	snprintf(buf, sizeof(buf), "p8 %s\n", hex);
	write_at(fx->dir, "identity.key", buf);
	use_key(fx, "identity.key");
	assert_int_equal(create(fx, "k2", 64 * M, NULL, NULL, false, &err), 0);
	assert_int_equal(read_at(fx->root, STOR "k2/owner", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "p8");
	/* ... and p7's volume is not p8's to delete */
	assert_int_equal(vn_volume_delete(&fx->ctx, "k1", &fx->root_user, &err), -EPERM);
	assert_non_null(strstr(err.msg, "volume 'k1' belongs to identity p7, not to p8"));
	assert_true(exists_at(fx->root, STOR "k1"));

	/* an agent with another cluster key: refused, our identity named */
	write_at(fx->root, "agent/10.0.0.9", "33333333333333333333333333333333\n");
	assert_int_equal(create(fx, "k3", 64 * M, NULL, NULL, false, &err), -EACCES);
	assert_non_null(strstr(err.msg, "authentication failed for identity p8"));
	assert_false(exists_at(fx->root, STOR "k3"));

	/* the cluster key and no vnode_xprt: the kernel's default, the node name */
	write_at(fx->root, "agent/10.0.0.9", CK_HEX "\n");
	use_key(fx, "cluster.key");
	snprintf(path, sizeof(path), "%s/sys/kernel/config/vnode_xprt/identity", fx->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(uname(&u), 0);
	if (vn_valid_identity(u.nodename, strlen(u.nodename)))
		snprintf(want, sizeof(want), "%s", u.nodename);
	assert_int_equal(create(fx, "k3", 64 * M, NULL, NULL, false, &err), 0);
	assert_int_equal(read_at(fx->root, STOR "k3/owner", buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* the cluster key proves any identity: p7's volume, deleted as p7 */
	write_at(fx->root, "sys/kernel/config/vnode_xprt/identity", "p7\n");
	assert_int_equal(vn_volume_delete(&fx->ctx, "k1", &fx->root_user, &err), 0);
	assert_false(exists_at(fx->root, STOR "k1"));
	vn_key_clear(&ck);
	vn_key_clear(&k8);
}

/* Reconciliation re-attaches a lost disk and retries pending deletions. */

/* vnode-run's mount of vNode vnode: the device it mounted */
static void mount_dev(struct fx *fx, const char *vnode, const char *want)
{
	json_object *d = NULL;
	struct vn_err err;

	assert_int_equal(vn_vnode_mount(&fx->ctx, vnode, &fx->root_user, &d, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(d, "dev")), want);
	json_object_put(d);
	close(fx->ctx.reply_fd);
	fx->ctx.reply_fd = -1;
}

/* --storage-protect integrity: dm-integrity between the disk and the
 * ext4, set up before mkfs, used by the mount, closed before the detach */
static void protect_integrity(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	json_object *v;

	assert_int_equal(create_prot(fx, "a", 64 * M, NULL, false, VN_VOL_PROTECT_INTEGRITY,
				     &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"integritysetup format --batch-mode --integrity crc32c "
					"--sector-size 4096 /dev/vnblk0"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"integritysetup open --integrity crc32c /dev/vnblk0 vnode-a-a"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"mkfs.ext4 -q -F -L a -E nodiscard,root_owner=0:0 "
					"/dev/mapper/vnode-a-a"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 1);
	assert_true(exists_at(fx->root, "dev/mapper/vnode-a-a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE name = 'a' AND "
			       "protect = 'integrity' AND dev = 'mapper/vnode-a-a'"), 1);
	/* vnode show: the volume's profile and device */
	assert_int_equal(vn_vnode_show(&fx->ctx, "a", &v, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(v, "volume"), "protect")), "integrity");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(v, "volume"), "dev")), "mapper/vnode-a-a");
	json_object_put(v);
	mount_dev(fx, "a", "mapper/vnode-a-a");
	/* no key: integrity keeps none */
	assert_false(exists_at(fx->dir, "volume-keys/a.key"));

	/* the mapping goes first, then the disk, then the volume */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"integritysetup close vnode-a-a"), 1);
	assert_false(exists_at(fx->root, "dev/mapper/vnode-a-a"));
	assert_false(exists_at(fx->root, VOL "a"));
	assert_false(exists_at(fx->root, STOR "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes"), 0);
	/* a profile without a volume is refused */
	assert_int_equal(create_prot(fx, "b", 0, NULL, false, VN_VOL_PROTECT_CRYPT, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "--stor-host, --mount, --keep-storage and --storage-protect "
			    "need --storage SIZE or --volume NAME");
}

/* crypt (the cluster's default here): a key file per volume, 0600 in a
 * 0700 directory, kept with a kept volume, destroyed with it */
static void protect_crypt(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char key[512], line[1024];
	struct stat st;

	fx->ctx.cluster.storage_protect = VN_VOL_PROTECT_CRYPT;
	assert_int_equal(create_prot(fx, "a", 64 * M, NULL, true, -1, &err), 0);
	snprintf(key, sizeof(key), "%s/volume-keys/a.key", fx->dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 64);
	assert_int_equal(stat(path_at(fx->dir, "volume-keys"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(line, sizeof(line), "cryptsetup luksFormat --type luks2 --cipher aes-xts-plain64 "
		 "--integrity hmac-sha256 --sector-size 4096 --pbkdf pbkdf2 "
		 "--pbkdf-force-iterations 1000 --batch-mode --key-file %s /dev/vnblk0", key);
	assert_int_equal(count_lines_at(fx->root, "commands.log", line), 1);
	snprintf(line, sizeof(line), "cryptsetup open --type luks2 --key-file %s /dev/vnblk0 "
		 "vnode-a-a", key);
	assert_int_equal(count_lines_at(fx->root, "commands.log", line), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"mkfs.ext4 -q -F -L a -E nodiscard,root_owner=0:0 "
					"/dev/mapper/vnode-a-a"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE protect = 'crypt'"), 1);

	/* kept: detached with its key; re-attached to b, opened, not formatted */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, true, &fx->root_user, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "cryptsetup close vnode-a-a"), 1);
	assert_false(exists_at(fx->root, "dev/mapper/vnode-a-a"));
	assert_int_equal(stat(key, &st), 0);
	/* its profile is its own: another one is refused, none given is fine */
	assert_int_equal(create_prot(fx, "b", 0, "a", false, VN_VOL_PROTECT_INTEGRITY, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "volume 'a' has storage protection crypt, not integrity "
			    "(a volume's profile is fixed when it is made)");
	fx->ctx.cluster.storage_protect = VN_VOL_PROTECT_NONE;
	assert_int_equal(create_prot(fx, "b", 0, "a", false, -1, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "luksFormat"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 1);
	snprintf(line, sizeof(line), "cryptsetup open --type luks2 --key-file %s /dev/vnblk0 "
		 "vnode-b-a", key);
	assert_int_equal(count_lines_at(fx->root, "commands.log", line), 1);
	mount_dev(fx, "b", "mapper/vnode-b-a");
	/* the mapping closed by hand: reconcile opens it again */
	unlink(path_at(fx->root, "dev/mapper/vnode-b-a"));
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_true(exists_at(fx->root, "dev/mapper/vnode-b-a"));
	assert_int_equal(count_lines_at(fx->root, "commands.log", line), 2);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "b", false, false, &fx->root_user, &err), 0);
	assert_int_equal(stat(key, &st), 0);

	/* its key gone, a kept volume cannot be opened: refused, nothing left */
	assert_int_equal(rename(key, path_at(fx->dir, "a.key.saved")), 0);
	assert_int_equal(create_prot(fx, "c", 0, "a", false, -1, &err), -ENOKEY);
	assert_non_null(strstr(err.msg, "its key file"));
	assert_false(exists_at(fx->root, VOL "a"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM vnodes"), 0);
	assert_int_equal(rename(path_at(fx->dir, "a.key.saved"), key), 0);

	/* volume delete destroys the key */
	assert_int_equal(vn_volume_delete(&fx->ctx, "a", &fx->root_user, &err), 0);
	assert_false(exists_at(fx->dir, "volume-keys/a.key"));
	assert_true(exists_at(fx->dir, "volume-keys"));
}

/* volume create --storage-protect crypt: the profile is stored, and its
 * layer (key, LUKS2) made at the first attach, then kept; the cluster's
 * default applies when none is given */
static void protect_volume_create(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char key[512], line[1024];

	assert_int_equal(vn_volume_create(&fx->ctx, "v", 64 * M, NULL, NULL, VN_VOL_PROTECT_CRYPT,
					  &fx->root_user, NULL, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE name = 'v' AND "
			       "protect = 'crypt' AND state = 'detached'"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "luksFormat"), 0);
	/* another profile at attach: refused */
	assert_int_equal(create_prot(fx, "a", 0, "v", false, VN_VOL_PROTECT_INTEGRITY, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "has storage protection crypt, not integrity"));
	assert_int_equal(create_prot(fx, "a", 0, "v", false, -1, &err), 0);
	snprintf(key, sizeof(key), "%s/volume-keys/v.key", fx->dir);
	assert_true(exists_at(fx->dir, "volume-keys/v.key"));
	snprintf(line, sizeof(line), "cryptsetup luksFormat --type luks2 --cipher aes-xts-plain64 "
		 "--integrity hmac-sha256 --sector-size 4096 --pbkdf pbkdf2 "
		 "--pbkdf-force-iterations 1000 --batch-mode --key-file %s /dev/vnblk0", key);
	assert_int_equal(count_lines_at(fx->root, "commands.log", line), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log",
					"mkfs.ext4 -q -F -L v -E nodiscard,root_owner=0:0 "
					"/dev/mapper/vnode-a-v"), 1);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "a", false, false, &fx->root_user, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE name = 'v' AND "
			       "protect = 'crypt' AND state = 'detached' AND fs = 'ext4'"), 1);
	/* re-attached: opened, not formatted again */
	assert_int_equal(create_prot(fx, "b", 0, "v", false, -1, &err), 0);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "luksFormat"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 1);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "b", false, false, &fx->root_user, &err), 0);
	assert_int_equal(vn_volume_delete(&fx->ctx, "v", &fx->root_user, &err), 0);
	assert_false(exists_at(fx->dir, "volume-keys/v.key"));
}

/* a tool that fails: its name, the device and what it said in the error,
 * and nothing left behind (mapping, key file, rows, volume) */
static void protect_fail(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char before[128], after[128];

	state_sig(fx, before, sizeof(before));
	write_at(fx->root, "fake/fail-cryptsetup-open", "Cannot initialize device-mapper.");
	assert_int_equal(create_prot(fx, "x", 64 * M, NULL, false, VN_VOL_PROTECT_CRYPT, &err),
			 -EIO);
	assert_string_equal(err.msg, "cryptsetup open /dev/vnblk0: cryptsetup failed (exit 1): "
			    "Cannot initialize device-mapper.");
	assert_int_equal(count_lines_at(fx->root, "commands.log", "luksFormat"), 1);
	assert_false(exists_at(fx->dir, "volume-keys/x.key"));
	assert_false(exists_at(fx->root, "dev/mapper/vnode-x-x"));
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 0);
	state_sig(fx, after, sizeof(after));
	assert_string_equal(before, after);

	/* mkfs fails after the mapping is up: it is closed, the key goes */
	unlink(path_at(fx->root, "fake/fail-cryptsetup-open"));
	write_at(fx->root, "fake/fail-mkfs.ext4--q", "no space");
	assert_int_equal(create_prot(fx, "x", 64 * M, NULL, false, VN_VOL_PROTECT_CRYPT, &err),
			 -EIO);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "cryptsetup close vnode-x-x"), 1);
	assert_false(exists_at(fx->root, "dev/mapper/vnode-x-x"));
	assert_false(exists_at(fx->dir, "volume-keys/x.key"));
	state_sig(fx, after, sizeof(after));
	assert_string_equal(before, after);
	unlink(path_at(fx->root, "fake/fail-mkfs.ext4--q"));

	write_at(fx->root, "fake/fail-integritysetup-format", "Device /dev/vnblk0 is too small.");
	assert_int_equal(create_prot(fx, "x", 64 * M, NULL, false, VN_VOL_PROTECT_INTEGRITY,
				     &err), -EIO);
	assert_string_equal(err.msg, "integritysetup format /dev/vnblk0: integritysetup failed "
			    "(exit 1): Device /dev/vnblk0 is too small.");
	assert_int_equal(count_lines_at(fx->root, "commands.log", "integritysetup open"), 0);
	state_sig(fx, after, sizeof(after));
	assert_string_equal(before, after);
}

static void reconcile(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char p[512];

	assert_int_equal(create(fx, "r", 64 * M, NULL, NULL, false, &err), 0);
	/* process host rebooted: vnode_vol's objects are gone; the volume
	 * was recorded before ids were kept: its id is recorded now */
	snprintf(p, sizeof(p), "%s/" VOL "r", fx->root);
	rm_rf(p);
	assert_int_equal(vsql_exec(fx->ctx.db, "UPDATE volumes SET volume_id = NULL"), 0);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_true(exists_at(fx->root, VOL "r/dev"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE length(volume_id) = 16"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type = 'volume.reconcile'"), 1);
	assert_int_equal(count_lines_at(fx->root, "commands.log", "mkfs.ext4"), 1);

	/* destroy while the storage host's agent is down: 'deleting', retried */
	snprintf(p, sizeof(p), "%s/agent/10.0.0.9", fx->root);
	unlink(p);
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "r", false, false, &fx->root_user, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE state = 'deleting' AND "
			       "last_error LIKE '%cannot reach%'"), 1);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 1);
	write_at(fx->root, "agent/10.0.0.9", "");
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes"), 0);
	assert_false(exists_at(fx->root, STOR "r"));
}

/* A volume whose data the storage host lost (its backing store wiped
 * while it was down) is marked lost, once, and never replaced. */
static void reconcile_lost(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char p[512];

	assert_int_equal(create(fx, "r", 64 * M, NULL, NULL, false, &err), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE length(volume_id) = 16"), 1);
	rm_rf(path_at(fx->root, VOL "r"));
	rm_rf(path_at(fx->root, STOR "r"));
	snprintf(p, sizeof(p), "%s/stor-table-r", fx->root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE state = 'lost' AND "
			       "last_error LIKE '%volume ''r'' is lost%'"), 1);
	assert_false(exists_at(fx->root, STOR "r"));
	assert_false(exists_at(fx->root, VOL "r/dev"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM events WHERE type = 'volume.state' "
			       "AND json_extract(detail, '$.state') = 'lost'"), 1);
	/* it stays lost: no retry, nothing made on the storage host */
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_false(exists_at(fx->root, STOR "r"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes WHERE state = 'lost'"), 1);
	/* the vNode goes, its lost volume with it */
	assert_int_equal(vn_vnode_destroy(&fx->ctx, "r", false, false, &fx->root_user, &err), 0);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM volumes"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_keep_reattach, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(two_storage_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(identity_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(protect_integrity, setup, teardown),
		cmocka_unit_test_setup_teardown(protect_crypt, setup, teardown),
		cmocka_unit_test_setup_teardown(protect_volume_create, setup, teardown),
		cmocka_unit_test_setup_teardown(protect_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile_lost, setup, teardown),
	};

	return cmocka_run_group_tests_name("volume", tests, NULL, NULL);
}
