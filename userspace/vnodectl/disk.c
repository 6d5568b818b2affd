// SPDX-License-Identifier: GPL-2.0
/* vnodectl disk show: the shared remote-memory swap disk */
#include "vnodectl.h"

static const struct vc_field disk_fields[] = {
	{ "disk", "disk", F_STR },
	{ "dev", "dev", F_STR },
	{ "exists", "exists", F_BOOL },
	{ "enabled", "enabled", F_BOOL },
	{ "state", "state", F_STR },
	{ "slabs_at_risk", "slabs_at_risk", F_U64 },
	{ "heal_bytes", "healed", F_SIZE },
	{ "heal_ms", "heal_ms", F_U64 },
	{ "swap_active", "swap", F_BOOL },
	{ "size", "size", F_SIZE },
	{ "replicas", "replicas", F_U64 },
	{ "cluster_replicas", "cluster_replicas", F_U64 },
	{ "quota_total", "quota_total", F_SIZE },
	{ "hosts", "hosts", F_STR },
	{ NULL, NULL, 0 }
};

static int disk_show(struct vc *vc, int argc, char **argv)
{
	json_object *data = NULL;
	int ret;

	ret = vc_parse_none(argc, argv, "disk show");
	if (ret)
		return ret;
	ret = vc_call(vc, "disk.show", NULL, &data);
	if (ret)
		return ret;
	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, data, disk_fields);
	vp_obj_end(&vc->p);
	vp_finish(&vc->p);
	json_object_put(data);
	return VC_OK;
}

const struct vc_cmd vc_disk_cmds[] = {
	{ "show", NULL, disk_show, NULL, "" },
	{ NULL, NULL, NULL, NULL, NULL }
};
