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
	json_object *args, *data = NULL;
	struct vn_err err;
	int ret;

	if (vc_parse_component_add(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	ret = vc_call(vc, "component.add", args, &data);
	if (ret)
		return ret;
	print_comp(vc, data, true);
	vp_finish(&vc->p);
	json_object_put(data);
	return VC_OK;
}

static int comp_list(struct vc *vc, int argc, char **argv)
{
	json_object *data = NULL, *args = json_object_new_object();
	size_t i;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "--probe"))
		json_object_object_add(args, "probe", json_object_new_boolean(1));
	else if (argc > 1) {
		json_object_put(args);
		return vc_fail(VC_USAGE, "usage: component list [--probe]");
	}
	ret = vc_call(vc, "component.list", args, &data);
	if (ret)
		return ret;
	vp_arr_begin(&vc->p, NULL);
	for (i = 0; i < json_object_array_length(data); i++)
		print_comp(vc, json_object_array_get_idx(data, i), false);
	vp_arr_end(&vc->p);
	vp_finish(&vc->p);
	json_object_put(data);
	return VC_OK;
}

static int comp_show(struct vc *vc, int argc, char **argv)
{
	json_object *args, *data = NULL;
	int ret;

	if (argc != 2)
		return vc_fail(VC_USAGE, "usage: component show NAME");
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(argv[1]));
	ret = vc_call(vc, "component.show", args, &data);
	if (ret)
		return ret;
	print_comp(vc, data, true);
	vp_finish(&vc->p);
	json_object_put(data);
	return VC_OK;
}

static int comp_remove(struct vc *vc, int argc, char **argv)
{
	json_object *args;

	if (argc != 2)
		return vc_fail(VC_USAGE, "usage: component remove NAME");
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(argv[1]));
	return vc_call(vc, "component.remove", args, NULL);
}

const struct vc_cmd vc_component_cmds[] = {
	{ "add", comp_add, "NAME --type memory|storage --addr IP [--port N] [--no-probe]" },
	{ "list", comp_list, "[--probe]" },
	{ "show", comp_show, "NAME            (probes the host now)" },
	{ "remove", comp_remove, "NAME" },
	{ NULL, NULL, NULL }
};
