// SPDX-License-Identifier: GPL-2.0
/*
 * vnodectl - command-line client of vnoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "vnodectl.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnodectl [OPTIONS] OBJECT COMMAND [ARGS]\n"
"  -j, --json          JSON output (every read command)\n"
"  -p, --pretty        pretty JSON (default with -j when stdout is a tty)\n"
"  -s, --socket PATH   vnoded socket (default $VNODE_SOCKET or " VN_SOCK_DEFAULT ")\n"
"Objects:\n"
"  component add|list|show|remove   memory and storage hosts\n"
"  vnode create|list|show|destroy|top\n"
"  volume create|list|show|delete   vNode volumes on storage hosts\n"
"  disk show                        the shared remote-memory swap disk\n"
"  sql \"SELECT ...\"                 read-only query of vnoded's state\n"
"Sizes take K/M/G/T suffixes; --cache also takes a percentage of --mem.\n");
}

int main(int argc, char **argv)
{
	struct vc vc = { 0 };
	const char *sock = NULL;
	int i, ret;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			vc.json = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			vc.pretty = true;
		} else if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) {
			if (++i == argc)
				return vc_fail(VC_USAGE, "%s needs a path", argv[i - 1]);
			sock = argv[i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return VC_OK;
		} else {
			return vc_fail(VC_USAGE, "unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		usage(stderr);
		return VC_USAGE;
	}
	vc.sock = vn_sock_path(sock);
	vp_init(&vc.p, stdout, vc.json);
	vc.p.pretty = vc.pretty;
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "component") || !strcmp(argv[0], "comp"))
		ret = vc_dispatch(&vc, "component", vc_component_cmds, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "vnode"))
		ret = vc_dispatch(&vc, "vnode", vc_vnode_cmds, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "volume") || !strcmp(argv[0], "vol"))
		ret = vc_dispatch(&vc, "volume", vc_volume_cmds, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "disk"))
		ret = vc_dispatch(&vc, "disk", vc_disk_cmds, argc - 1, argv + 1);
	else if (!strcmp(argv[0], "sql"))
		ret = vc_sql(&vc, argc, argv);
	else if (!strcmp(argv[0], "help"))
		usage(stdout), ret = VC_OK;
	else
		ret = vc_fail(VC_USAGE, "unknown object '%s' (component, vnode, volume, disk, sql)",
			      argv[0]);
	return ret;
}
