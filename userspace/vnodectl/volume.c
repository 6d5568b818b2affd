// SPDX-License-Identifier: GPL-2.0
/* vnodectl volume create|list|show|delete: vNode volumes on storage hosts */
#include <string.h>

#include "vnodectl.h"

const struct vc_field vc_volume_brief[] = {
	{ "name", "name", F_STR },
	{ "size", "size", F_SIZE },
	{ "host", "host", F_STR },
	{ "vnode", "vnode", F_STR },
	{ "mountpoint", "mount", F_STR },
	{ "state", "state", F_STR },
	{ "keep", "keep", F_BOOL },
	{ "owner_uid", "owner", F_USER },
	{ "protect", "protect", F_STR },
	{ "dev", "dev", F_STR },
	{ "disk", "disk", F_STR },
	{ "last_error", "error", F_STR },
	{ NULL, NULL, 0 }
};

static const struct vc_field volume_detail[] = {
	{ "host_addr", "host_addr", F_STR },
	{ "fs", "fs", F_STR },
	{ "created", "created", F_TIME },
	{ NULL, NULL, 0 }
};

static const struct vc_field remote_fields[] = {
	{ "client", "client", F_STR },
	{ "state", "state", F_STR },
	{ "stats", "stats", F_STR },
	{ NULL, NULL, 0 }
};

static void print_volume(struct vc *vc, json_object *v, bool detail)
{
	json_object *o;

	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, v, vc_volume_brief);
	if (detail) {
		vc_print_fields(vc, v, volume_detail);
		if (json_object_object_get_ex(v, "remote", &o) && o) {
			vp_obj_begin(&vc->p, "remote");
			vc_print_fields(vc, o, remote_fields);
			vp_obj_end(&vc->p);
		}
	}
	vp_obj_end(&vc->p);
}

static int volume_create(struct vc *vc, int argc, char **argv)
{
	json_object *args;
	struct vn_err err;

	if (vc_parse_volume_create(argc, argv, &args, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	return vc_call_print(vc, "volume.create", args, print_volume, true);
}

static int volume_list(struct vc *vc, int argc, char **argv)
{
	int ret = vc_parse_none(argc, argv, "volume list");

	if (ret)
		return ret;
	return vc_call_print(vc, "volume.list", NULL, print_volume, false);
}

static int volume_show(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "volume show NAME");

	return args ? vc_call_print(vc, "volume.show", args, print_volume, true) :
		      VC_USAGE;
}

static int volume_delete(struct vc *vc, int argc, char **argv)
{
	json_object *args = vc_name_arg(argc, argv, "volume delete NAME");

	return args ? vc_call(vc, "volume.delete", args, NULL) : VC_USAGE;
}

const struct vc_cmd vc_volume_cmds[] = {
	{ "create", NULL, volume_create, NULL,
	  "NAME --size SIZE [--stor-host HOST] [--owner USER]   a volume for a later vNode" },
	{ "list", NULL, volume_list, NULL, "" },
	{ "show", NULL, volume_show, NULL, "NAME            (+ the storage host's view)" },
	{ "delete", NULL, volume_delete, NULL, "NAME          (not while a vNode has it)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
