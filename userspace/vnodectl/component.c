// SPDX-License-Identifier: GPL-2.0
/* vnodectl component add|list|show|delete (delete was "remove") */
#include <string.h>

#include "opts.h"
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

struct comp_list {
	bool probe;
};

static const struct vn_opt comp_list_opts[] = {
	VN_OPT_F("--probe", NULL, struct comp_list, probe),
	VN_OPT_END_
};

static int comp_list(struct vc *vc, int argc, char **argv)
{
	struct comp_list o = { 0 };
	json_object *args;
	struct vn_err err;

	if (vn_opts_parse(comp_list_opts, 0, &o, argc - 1, argv + 1, NULL, 0, NULL,
			  &err) < 0)
		return vc_fail(VC_USAGE, "%s (usage: component list [--probe])", err.msg);
	args = json_object_new_object();
	if (o.probe)
		json_object_object_add(args, "probe", json_object_new_boolean(1));
	return vc_call_print(vc, "component.list", args, print_comp, false);
}

static int comp_show(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component show NAME");

	return args ? vc_call_print(vc, "component.show", args, print_comp, true) :
		      VC_USAGE;
}

static int comp_delete(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "component delete NAME");

	return args ? vc_call(vc, "component.remove", args, NULL) : VC_USAGE;
}

const struct vc_cmd vc_component_cmds[] = {
	{ "add", NULL, comp_add, NULL,
	  "NAME --type memory|storage --addr IP [--port N] [--no-probe]" },
	{ "list", NULL, comp_list, NULL, "[--probe]" },
	{ "show", NULL, comp_show, NULL, "NAME            (probes the host now)" },
	{ "delete", "remove", comp_delete, NULL, "NAME          (not while it holds reservations)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
