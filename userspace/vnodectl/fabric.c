// SPDX-License-Identifier: GPL-2.0
/* vnodectl fabric list: the fabric presets vnoded knows (fabrics.conf) */
#include "vnodectl.h"

static const struct vc_field preset_fields[] = {
	{ "name", "name", F_STR },
	{ "latency_ns", "latency", F_NS },
	{ "per_kib_ns", "per_kib", F_NS },
	{ "jitter_ns", "jitter", F_NS },
	{ "jitter_dist", "dist", F_STR },
	{ "read_bps", "read_bw", F_RATE },
	{ "write_bps", "write_bw", F_RATE },
	{ "origin", "from", F_STR },
	{ NULL, NULL, 0 }
};

/* one line of figures, then the description and the source below it */
static void print_preset(struct vc *vc, json_object *o, bool detail)
{
	json_object *v;

	(void)detail;
	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, o, preset_fields);
	if (json_object_object_get_ex(o, "description", &v))
		vp_str_line(&vc->p, "description", json_object_get_string(v));
	if (json_object_object_get_ex(o, "source", &v))
		vp_str_line(&vc->p, "source", json_object_get_string(v));
	vp_obj_end(&vc->p);
}

static int fabric_list(struct vc *vc, int argc, char **argv)
{
	int ret = vc_parse_none(argc, argv, "fabric list");

	return ret ? ret : vc_call_print(vc, "fabric.list", NULL, print_preset, false);
}

const struct vc_cmd vc_fabric_cmds[] = {
	{ "list", NULL, fabric_list, NULL,
	  "      (the presets: figures, description, source; component set --fabric)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
