// SPDX-License-Identifier: GPL-2.0
/*
 * vnodectl - command-line client of vnoded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "opts.h"
#include "vnodectl.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnodectl [OPTIONS] OBJECT COMMAND [ARGS]\n"
"  -j, --json          JSON output (every read command)\n"
"  -p, --pretty        pretty JSON (default with -j when stdout is a tty)\n"
"  -s, --socket PATH   vnoded socket (default $VNODE_SOCKET or " VN_SOCK_DEFAULT ")\n"
"  -V, --version       print the version and exit\n"
"Objects (vnodectl OBJECT help lists the commands):\n");
	vc_objects_help(f);
	fprintf(f,
"Every object that can be removed has 'delete' (vnode destroy and component\n"
"remove still work).  Options take '--opt VALUE' or '--opt=VALUE'.\n"
"Sizes take K/M/G/T suffixes; --cache also takes a percentage of --mem.\n"
"Times take ns, us, ms or s (20us, 1.5ms); rates B/s, KB/s, MB/s, GB/s or bits,\n"
"Kb/s, Mb/s, Gb/s (3GB/s, 100Gb/s).\n");
}

struct globals {
	bool json, pretty, help, version;
	const char *sock;
};

static const struct vn_opt global_opts[] = {
	VN_OPT_F("--json", "-j", struct globals, json),
	VN_OPT_F("--pretty", "-p", struct globals, pretty),
	VN_OPT_S("--socket", "-s", struct globals, sock),
	VN_OPT_F("--help", "-h", struct globals, help),
	VN_OPT_F("--version", "-V", struct globals, version),
	VN_OPT_END_
};

int main(int argc, char **argv)
{
	struct globals g = { 0 };
	struct vc vc = { 0 };
	struct vn_err err;
	int i;

	/* inside an exploration's vNode (explore.c): time CMD */
	if (argc > 1 && !strcmp(argv[1], VC_EXPLORE_TIMER))
		return vc_explore_timer(argc - 2, argv + 2);
	i = vn_opts_parse(global_opts, VN_OPTS_POSIX, &g, argc - 1, argv + 1, NULL, 0,
			  NULL, &err);
	if (i < 0)
		return vc_fail(VC_USAGE, "%s", err.msg);
	if (g.help) {
		usage(stdout);
		return VC_OK;
	}
	if (g.version) {
		vn_print_version("vnodectl");
		return VC_OK;
	}
	i++;			/* argv[0] is the program */
	if (i == argc) {
		usage(stderr);
		return VC_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return VC_OK;
	}
	vc.json = g.json;
	/* -j: one line per document into a pipe, indented on a terminal */
	vc.pretty = g.pretty || isatty(STDOUT_FILENO);
	vc.sock = vn_sock_path(g.sock);
	vp_init(&vc.p, stdout, vc.json);
	vc.p.pretty = vc.pretty;
	return vc_run(&vc, argc - i, argv + i);
}
