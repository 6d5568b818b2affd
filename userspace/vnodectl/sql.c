// SPDX-License-Identifier: GPL-2.0
/* vnodectl sql "SELECT ...": read-only queries of vnoded's state */
#include <string.h>

#include "vnodectl.h"

int vc_sql(struct vc *vc, int argc, char **argv)
{
	json_object *args, *rows = NULL;
	size_t i;
	int ret;

	if (argc != 2)
		return vc_fail(VC_USAGE, "usage: vnodectl sql \"SELECT ...\" (one quoted statement)");
	args = json_object_new_object();
	json_object_object_add(args, "query", json_object_new_string(argv[1]));
	ret = vc_call(vc, "sql", args, &rows);
	if (ret)
		return ret;
	/* text: a header line, then tab-separated rows (like sqlite3 -header) */
	vp_set_table(&vc->p, true);
	vp_arr_begin(&vc->p, NULL);
	for (i = 0; i < json_object_array_length(rows); i++)
		vp_json(&vc->p, NULL, json_object_array_get_idx(rows, i), NULL);
	vp_arr_end(&vc->p);
	vp_finish(&vc->p);
	json_object_put(rows);
	return VC_OK;
}
