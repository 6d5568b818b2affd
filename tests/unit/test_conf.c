// SPDX-License-Identifier: GPL-2.0
/* cluster.conf parsing (vnoded/conf.c): good files and malformed ones. */
#include "unit.h"
#include "conf.h"
#include "evict.h"

static int parse_str(const char *text, struct vn_conf *conf, struct vn_err *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = vn_conf_parse(f, "cluster.conf", conf, err);
	fclose(f);
	return ret;
}

static void good(void **state)
{
	const char *text =
		"# vnode cluster\n"
		"[cluster]\n"
		"replicas = 2\n"
		"disk = vnm\n"
		"disk_size = 1G   ; trailing comment\n"
		"probe_timeout_ms=500\n"
		"headroom = 2M\n"
		"protect = crc\n"
		"storage_protect = integrity\n"
		"\n"
		"[memory m1]\n"
		"  addr = 10.0.0.2\n"
		"[memory   m2]\n"
		"addr = 10.0.0.3\n"
		"port = 9000\n"
		"[storage s1]\n"
		"addr = fd00::4\n";
	struct vn_conf c;
	struct vn_err err;

	(void)state;
	assert_int_equal(parse_str(text, &c, &err), 0);
	assert_int_equal(c.cluster.replicas, 2);
	assert_string_equal(c.cluster.disk, "vnm");
	assert_true(c.cluster.disk_size == 1ULL << 30);
	assert_int_equal(c.cluster.probe_timeout_ms, 500);
	assert_int_equal(c.cluster.headroom, 2 << 20);
	assert_int_equal(c.cluster.protect, VN_PROTECT_CRC);
	assert_int_equal(c.cluster.storage_protect, VN_VOL_PROTECT_INTEGRITY);
	assert_int_equal(c.nr_comps, 3);
	assert_string_equal(c.comps[0].name, "m1");
	assert_int_equal(c.comps[0].kind, VN_COMP_MEMORY);
	assert_string_equal(c.comps[0].addr, "10.0.0.2");
	assert_int_equal(c.comps[0].port, 7470);
	assert_string_equal(c.comps[1].name, "m2");
	assert_int_equal(c.comps[1].port, 9000);
	assert_int_equal(c.comps[2].kind, VN_COMP_STORAGE);
	assert_int_equal(c.comps[2].port, 7471);
	assert_string_equal(c.comps[2].addr, "fd00::4");
}

static void agent(void **state)
{
	struct vn_conf c;
	struct vn_err err;
	char a[64];
	int port;

	(void)state;
	assert_int_equal(parse_str("", &c, &err), 0);
	assert_string_equal(c.agent.listen, "0.0.0.0:7472");
	assert_int_equal(c.cluster.agent_port, 7472);
	assert_int_equal(parse_str("[cluster]\nagent_port = 9000\n"
				   "[agent]\nlisten = [fd00::1]:7000\n", &c, &err), 0);
	assert_int_equal(c.cluster.agent_port, 9000);
	assert_string_equal(c.agent.listen, "[fd00::1]:7000");
	/* the clear-text tokens are gone: the cluster key replaces them */
	assert_int_equal(parse_str("[cluster]\nagent_token = abc\n", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "agent_token is replaced by key_file"));
	assert_int_equal(parse_str("[agent]\ntoken = abc\n", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "token is replaced by key_file in [cluster]"));
	assert_int_equal(vn_hostport_parse(":7000", 1, a, sizeof(a), &port), 0);
	assert_string_equal(a, "0.0.0.0");
	assert_int_equal(port, 7000);
	assert_int_equal(vn_hostport_parse("10.0.0.1", 7472, a, sizeof(a), &port), 0);
	assert_int_equal(port, 7472);
	assert_int_equal(vn_hostport_parse("fd00::2", 7472, a, sizeof(a), &port), 0);
	assert_string_equal(a, "fd00::2");
	assert_int_not_equal(vn_hostport_parse("[fd00::2", 1, a, sizeof(a), &port), 0);
}

static void defaults(void **state)
{
	struct vn_conf c;
	struct vn_err err;

	(void)state;
	assert_int_equal(parse_str("", &c, &err), 0);
	assert_int_equal(c.cluster.replicas, 1);
	assert_string_equal(c.cluster.disk, "vnmem");
	assert_true(c.cluster.disk_size == 0);
	assert_int_equal(c.nr_comps, 0);
	assert_int_equal(parse_str("[cluster]\ndisk_size = auto\n", &c, &err), 0);
	assert_true(c.cluster.disk_size == 0);
	assert_string_equal(c.cluster.auth.key_file, "/etc/vnode/cluster.key");
	assert_false(c.cluster.auth.insecure);
	assert_int_equal(c.cluster.headroom, VN_HEADROOM_OFF);
	assert_int_equal(parse_str("[cluster]\nheadroom = auto\n", &c, &err), 0);
	assert_int_equal(c.cluster.headroom, VN_HEADROOM_AUTO);
	assert_int_equal(c.cluster.protect, VN_PROTECT_NONE);
	/* aead passes here: whether vnode_proc offers it is vnoded's to find */
	assert_int_equal(parse_str("[cluster]\nprotect = aead\n", &c, &err), 0);
	assert_int_equal(c.cluster.protect, VN_PROTECT_AEAD);
	assert_int_equal(parse_str("[cluster]\nprotect = none  # the default\n", &c, &err), 0);
	assert_int_equal(c.cluster.protect, VN_PROTECT_NONE);
	assert_int_equal(c.cluster.storage_protect, VN_VOL_PROTECT_NONE);
	assert_int_equal(parse_str("[cluster]\nstorage_protect = crypt\n", &c, &err), 0);
	assert_int_equal(c.cluster.storage_protect, VN_VOL_PROTECT_CRYPT);
}

/* The probe's authentication: [cluster] key_file and insecure. */
static void auth(void **state)
{
	static const struct { const char *text; const char *msg; } bad[] = {
		{ "[cluster]\nkey_file = cluster.key\n",
		  "cluster.conf:2: key_file must be an absolute path" },
		{ "[cluster]\ninsecure = yes\n", "cluster.conf:2: insecure must be true or false, got 'yes'" },
		{ "[cluster]\ninsecure = 1\n", "cluster.conf:2: insecure must be true or false" },
		{ "[cluster]\ninsecure = TRUE\n", "cluster.conf:2: insecure must be true or false" },
		{ "[cluster]\ninsecure =\n", "cluster.conf:2: missing value for 'insecure'" },
		{ "[memory m1]\naddr = 1.2.3.4\ninsecure = true\n",
		  "cluster.conf:3: unknown key 'insecure' in [memory m1]" },
		{ "[agent]\nkey_file = /k\n", "cluster.conf:2: unknown key 'key_file' in [agent]" },
	};
	char text[400];
	struct vn_conf c;
	struct vn_err err;
	size_t i;

	(void)state;
	assert_int_equal(parse_str("[cluster]\nkey_file = /srv/vnode/k.hex  # lab key\n"
				   "insecure = true\n", &c, &err), 0);
	assert_string_equal(c.cluster.auth.key_file, "/srv/vnode/k.hex");
	assert_true(c.cluster.auth.insecure);
	assert_int_equal(parse_str("[cluster]\ninsecure = false\n", &c, &err), 0);
	assert_false(c.cluster.auth.insecure);
	assert_string_equal(c.cluster.auth.key_file, "/etc/vnode/cluster.key");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(parse_str(bad[i].text, &c, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, bad[i].msg);
	}
	/* a path that does not fit */
	snprintf(text, sizeof(text), "[cluster]\nkey_file = /%0300d\n", 0);
	assert_int_equal(parse_str(text, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "key_file must be an absolute path shorter than"));
}

/* [cluster] database: PostgreSQL for a cluster, with its read-only role,
 * no password in the file, a passfile only its owner reads */
static void database(void **state)
{
	static const struct { const char *text; const char *msg; } bad[] = {
		{ "[cluster]\ndatabase = /var/lib/vnode/state.db\n",
		  "cluster.conf:2: database must be a postgresql:// or postgres:// URI" },
		{ "[cluster]\ndatabase = postgresql://vnode:secret@db/vnode\n"
		  "database_readonly = postgresql://ro@db/vnode\n",
		  "cluster.conf:2: database must not hold a password" },
		{ "[cluster]\ndatabase = host=db password=x dbname=vnode\n",
		  "cluster.conf:2: database must not hold a password" },
		{ "[cluster]\ndatabase = host=db dbname='vnode\n",
		  "cluster.conf:2: database is not a valid PostgreSQL connection string" },
		{ "[cluster]\ndatabase = postgresql://vnode@db/vnode\n",
		  "cluster.conf: [cluster] database needs database_readonly too" },
		{ "[cluster]\ndatabase_readonly = postgresql://ro@db/vnode\n",
		  "cluster.conf: [cluster] database_readonly without database" },
		{ "[cluster]\ndatabase_wait = forever\n",
		  "cluster.conf:2: database_wait must be 0..3600 seconds" },
	};
	char dir[256], pf[300], uri[400];
	struct vn_conf c;
	struct vn_err err;
	size_t i;

	(void)state;
	assert_int_equal(parse_str("[cluster]\nreplicas = 1\n", &c, &err), 0);
	assert_string_equal(c.cluster.database, "");
	assert_int_equal(c.cluster.database_wait_s, 60);
	assert_int_equal(parse_str("[cluster]\n"
				   "database = postgresql://vnode@db.example/vnode?passfile=/etc/vnode/pgpass\n"
				   "database_readonly = host=db.example dbname=vnode user=vnode_ro\n"
				   "database_wait = 5\n", &c, &err), 0);
	assert_string_equal(c.cluster.database,
			    "postgresql://vnode@db.example/vnode?passfile=/etc/vnode/pgpass");
	assert_string_equal(c.cluster.database_ro, "host=db.example dbname=vnode user=vnode_ro");
	assert_int_equal(c.cluster.database_wait_s, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(parse_str(bad[i].text, &c, &err), 0);
		if (strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err.msg, bad[i].msg);
	}
	/* the passfile: only its owner may read it */
	make_tmpdir(dir, sizeof(dir));
	snprintf(pf, sizeof(pf), "%s/pgpass", dir);
	write_at(dir, "pgpass", "db:5432:vnode:vnode:secret\n");
	snprintf(uri, sizeof(uri), "postgresql://vnode@db/vnode?passfile=%s", pf);
	assert_int_equal(chmod(pf, 0644), 0);
	assert_int_equal(vn_conf_check_passfile(uri, &err), -EPERM);
	assert_non_null(strstr(err.msg, "may be read by group or others (mode 0644)"));
	assert_int_equal(chmod(pf, 0600), 0);
	assert_int_equal(vn_conf_check_passfile(uri, &err), 0);
	assert_int_equal(vn_conf_check_passfile("host=db dbname=vnode", &err), 0);
	snprintf(uri, sizeof(uri), "host=db passfile=%s/none", dir);
	assert_int_equal(vn_conf_check_passfile(uri, &err), -ENOENT);
	rm_rf(dir);
}

static void malformed(void **state)
{
	static const struct { const char *text; const char *msg; } t[] = {
		{ "addr = 1.2.3.4\n", "cluster.conf:1: 'addr' outside of any section" },
		{ "[memory m1]\naddr = 1.2.3.4\n[memory m1]\naddr = 1.2.3.5\n",
		  "cluster.conf:3: duplicate component 'm1'" },
		{ "[memory]\n", "cluster.conf:1: [memory] needs a name" },
		{ "[gpu g1]\n", "cluster.conf:1: unknown section '[gpu]'" },
		{ "[memory m1\n", "cluster.conf:1: malformed section header" },
		{ "[memory m1]\naddr 1.2.3.4\n", "cluster.conf:2: expected 'key = value'" },
		{ "[memory m1]\naddr = 1.2.3.999\n", "cluster.conf:2: invalid address '1.2.3.999'" },
		{ "[memory m1]\naddr = m1.example\n", "cluster.conf:2: invalid address" },
		{ "[memory m1]\naddr = 1.2.3.4\nport = 99999\n", "cluster.conf:3: invalid port '99999'" },
		{ "[memory m1]\naddr = 1.2.3.4\nport = 0\n", "cluster.conf:3: invalid port" },
		{ "[memory m1]\naddr = 1.2.3.4\nport = 12ab\n", "cluster.conf:3: invalid port" },
		{ "[memory m1]\nadr = 1.2.3.4\n", "cluster.conf:2: unknown key 'adr' in [memory m1]" },
		{ "[memory m1]\naddr =\n", "cluster.conf:2: missing value for 'addr'" },
		{ "[memory m1]\n= 5\n", "cluster.conf:2: missing key" },
		{ "[memory m1]\nport = 7470\n", "cluster.conf: [memory m1] has no addr" },
		{ "[cluster]\nreplicas = 3\n", "cluster.conf:2: replicas must be 1 or 2" },
		{ "[cluster]\nreplicas = one\n", "cluster.conf:2: replicas must be 1 or 2" },
		{ "[cluster]\ndisk_size = 12Q\n", "cluster.conf:2: disk_size: invalid size '12Q'" },
		{ "[cluster]\ndisk_size = 0\n", "cluster.conf:2: disk_size must be > 0" },
		{ "[cluster]\nprobe_timeout_ms = 5\n", "cluster.conf:2: probe_timeout_ms" },
		{ "[cluster]\ncolour = blue\n", "cluster.conf:2: unknown key 'colour' in [cluster]" },
		{ "[cluster x]\n", "cluster.conf:1: [cluster] takes no name" },
		{ "[memory bad/name]\n", "cluster.conf:1: invalid component name" },
		{ "[agent x]\n", "cluster.conf:1: [agent] takes no name" },
		{ "[agent]\nlisten = 1.2.3.4:0\n", "cluster.conf:2: listen must be ADDR[:PORT]" },
		{ "[agent]\nlisten = host:7472\n", "cluster.conf:2: listen must be ADDR[:PORT]" },
		{ "[agent]\nport = 7472\n", "cluster.conf:2: unknown key 'port' in [agent]" },
		{ "[cluster]\nagent_port = 70000\n", "cluster.conf:2: agent_port must be 1..65535" },
		{ "[cluster]\nheadroom = some\n", "cluster.conf:2: invalid headroom 'some'" },
		{ "[cluster]\nprotect = sha256\n",
		  "cluster.conf:2: protect must be none, crc or aead, got 'sha256'" },
		{ "[cluster]\nprotect = on\n", "cluster.conf:2: protect must be none, crc or aead" },
		{ "[cluster]\nstorage_protect = luks\n",
		  "cluster.conf:2: storage_protect must be none, integrity or crypt, got 'luks'" },
		{ "[memory m1]\naddr = 1.2.3.4\nprotect = crc\n",
		  "cluster.conf:3: unknown key 'protect' in [memory m1]" },
	};
	struct vn_conf c;
	struct vn_err err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		err.msg[0] = '\0';
		assert_int_equal(parse_str(t[i].text, &c, &err), -EINVAL);
		if (!strstr(err.msg, t[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, t[i].msg);
		/* nothing is returned on error */
		assert_int_equal(c.nr_comps, 0x5a5a5a5a);
	}
}

static void long_line(void **state)
{
	char text[2100];
	struct vn_conf c;
	struct vn_err err;

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "[cluster]\n# ", 12);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse_str(text, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cluster.conf:2: line too long"));
}

static void load_missing(void **state)
{
	struct vn_conf c;
	struct vn_err err;

	(void)state;
	assert_int_equal(vn_conf_load("/nonexistent/cluster.conf", &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/cluster.conf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good),
		cmocka_unit_test(defaults),
		cmocka_unit_test(auth),
		cmocka_unit_test(agent),
		cmocka_unit_test(database),
		cmocka_unit_test(malformed),
		cmocka_unit_test(long_line),
		cmocka_unit_test(load_missing),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
