// SPDX-License-Identifier: GPL-2.0
/* vnodectl component add|list|show|remove */
#include <string.h>

#include "vnodectl.h"

static const struct vc_field comp_brief[] = {
	{ "name", "name", F_STR },
	{ "kind", "type", F_STR },
	{ "addr", "addr", F_STR },
	{ "port", "port", F_U64 },
	{ "state", "state", F_STR },
	{ "capacity", "capacity", F_SIZE },
	{ "used", "used", F_SIZE },
	{ "reserved", "reserved", F_SIZE },
	{ "source", "source", F_STR },
	{ "last_error", "error", F_STR },
	{ NULL, NULL, 0 }
};

static const struct vc_field comp_detail[] = {
	{ "slab_shift", "slab_shift", F_U64 },
	{ "nr_clients", "clients", F_U64 },
	{ "server_id", "server_id", F_U64 },
	{ "rtt_us", "connect_us", F_U64 },
	{ "last_probe", "last_probe", F_TIME },
	{ "created", "created", F_TIME },
	{ NULL, NULL, 0 }
};

static void print_comp(struct vc *vc, json_object *c, bool detail)
{
	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, c, comp_brief);
	if (detail)
		vc_print_fields(vc, c, comp_detail);
	vp_obj_end(&vc->p);
}

static int comp_add(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_component_add(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "component.add", args, print_comp, true);
}

static int comp_list(struct vc *vc, int argc, char **argv)
{
	json_object *args = json_object_new_object();

	if (argc > 1 && !strcmp(argv[1], "--probe"))
		json_object_object_add(args, "probe", json_object_new_boolean(1));
	else if (argc > 1) {
		json_object_put(args);
		return vc_fail(VC_USAGE, "usage: component list [--probe]");
	}
	return vc_call_print(vc, "component.list", args, print_comp, false);
}

static int comp_show(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component show NAME");

	return args ? vc_call_print(vc, "component.show", args, print_comp, true) :
		      VC_USAGE;
}

static int comp_remove(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component remove NAME");

	return args ? vc_call(vc, "component.remove", args, NULL) : VC_USAGE;
}

const struct vc_cmd vc_component_cmds[] = {
	{ "add", comp_add, "NAME --type memory|storage --addr IP [--port N] [--no-probe]" },
	{ "list", comp_list, "[--probe]" },
	{ "show", comp_show, "NAME            (probes the host now)" },
	{ "remove", comp_remove, "NAME" },
	{ NULL, NULL, NULL }
};
