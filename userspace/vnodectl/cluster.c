// SPDX-License-Identifier: GPL-2.0
/* vnodectl cluster show: every memory and storage host as it sees itself
 * now, with the memory hosts' reservations by identity (process host) */
#include "vnodectl.h"

static const struct vc_field host_fields[] = {
	{ "name", "name", F_STR },
	{ "kind", "kind", F_STR },
	{ "addr", "addr", F_STR },
	{ "port", "port", F_U64 },
	{ "state", "state", F_STR },
	{ "protocol", "protocol", F_STR },
	{ "capacity", "capacity", F_SIZE },
	{ "used", "used", F_SIZE },
	{ "leased", "leased", F_SIZE },
	{ "committed", "committed", F_SIZE },
	{ "free", "free", F_SIZE },
	{ "nr_clients", "clients", F_U64 },
	{ "reserved", "reserved", F_SIZE },
	{ "error", "error", F_STR },
	{ NULL, NULL, 0 }
};

static const struct vc_field lease_fields[] = {
	{ "identity", "identity", F_STR },
	{ "self", "self", F_BOOL },
	{ "leased", "leased", F_SIZE },
	{ "held", "held", F_SIZE },
	{ "nr_clients", "clients", F_U64 },
	{ "nr_leases", "leases", F_U64 },
	{ NULL, NULL, 0 }
};

/* vp_arr of key's objects in o, each printed with fields (and sub's
 * array below it, by sub_fields) */
static void print_list(struct vc *vc, json_object *o, const char *key,
		       const struct vc_field *fields, const char *sub,
		       const struct vc_field *sub_fields)
{
	json_object *a;
	size_t i;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return;
	vp_arr_begin(&vc->p, key);
	for (i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);

		vp_obj_begin(&vc->p, NULL);
		vc_print_fields(vc, e, fields);
		if (sub)
			print_list(vc, e, sub, sub_fields, NULL, NULL);
		vp_obj_end(&vc->p);
	}
	vp_arr_end(&vc->p);
}

void vc_print_cluster(struct vc *vc, json_object *c)
{
	static const struct vc_field top[] = {
		{ "identity", "identity", F_STR },
		{ NULL, NULL, 0 }
	};

	vp_obj_begin(&vc->p, NULL);
	vc_print_fields(vc, c, top);
	print_list(vc, c, "hosts", host_fields, "reservations", lease_fields);
	vp_obj_end(&vc->p);
	vp_finish(&vc->p);
}

static int cluster_show(struct vc *vc, int argc, char **argv)
{
	json_object *data = NULL;
	int ret;

	ret = vc_parse_none(argc, argv, "cluster show");
	if (!ret)
		ret = vc_call(vc, "cluster.show", NULL, &data);
	if (!ret)
		vc_print_cluster(vc, data);
	json_object_put(data);
	return ret;
}

const struct vc_cmd vc_cluster_cmds[] = {
	{ "show", NULL, cluster_show, NULL,
	  "        (probes every host: capacity, use, reservations by process host)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
