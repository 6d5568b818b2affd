// SPDX-License-Identifier: GPL-2.0
/*
 * vNode volumes (vnoded/volume.c, vnoded/agent.c, vnoded/kern_vol.c)
 * against a fake sysroot: the storage host's configfs and the process
 * host's are in the same tree, and the agent runs in-process
 * (an agent answers for ADDR when DIR/agent/ADDR exists).
 */
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
	json_object *args, *d = NULL;
	struct vn_err err;

	assert_int_equal(create(fx, "mine", 64 * M, NULL, NULL, false, &err), 0);
	a.log = fx->ctx.log;
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string("mine"));
	assert_int_equal(vn_agent_exec(&a, "volume.delete", args, "10.0.0.66", &d, &err),
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

/* One exchange with the agent: greeting, signed request, signed answer. */
static int exchange(struct vn_agent *a, struct vn_agent_session *s, const char *cmd,
		    json_object **data, struct vn_err *err, char **line_out,
		    char **reply_out)
{
	uint8_t na[VN_AGENT_NONCE_LEN];
	char hello[128], *line = NULL, *reply;
	int ret;

	assert_int_equal(vn_agent_hello(a, na, hello, sizeof(hello)), 0);
	ret = vn_agent_request(s, hello, "agent", cmd, NULL, &line, err);
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

/* Reconciliation re-attaches a lost disk and retries pending deletions. */
static void reconcile(void **state)
{
	struct fx *fx = *state;
	struct vn_err err;
	char p[512];

	assert_int_equal(create(fx, "r", 64 * M, NULL, NULL, false, &err), 0);
	/* process host rebooted: vnode_vol's objects are gone */
	snprintf(p, sizeof(p), "%s/" VOL "r", fx->root);
	rm_rf(p);
	assert_int_equal(vn_reconcile(&fx->ctx, true), 0);
	assert_true(exists_at(fx->root, VOL "r/dev"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_keep_reattach, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(two_storage_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_ownership, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(reconcile, setup, teardown),
	};

	return cmocka_run_group_tests_name("volume", tests, NULL, NULL);
}
