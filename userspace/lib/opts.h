/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line storage options shared by vnodectl and vnode-run. */
#ifndef VN_OPTS_H
#define VN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

/* --storage SIZE / --stor-host / --volume / --mount / --keep-storage:
 * *bytes = 0 without --storage. */
int vn_parse_storage_opts(const char *storage, const char *stor_host,
			  const char *volume, const char *mount, bool keep,
			  uint64_t *bytes, struct vn_err *err);
/* The same into vnode.create request arguments. */
void vn_storage_args(json_object *args, uint64_t bytes, const char *stor_host,
		     const char *volume, const char *mount, bool keep);

#endif /* VN_OPTS_H */
