// SPDX-License-Identifier: GPL-2.0
/* Command-line storage options shared by vnodectl and vnode-run. */
#include <errno.h>
#include <string.h>

#include "opts.h"
#include "size.h"

int vn_parse_storage_opts(const char *storage, const char *stor_host,
		     const char *volume, const char *mount, bool keep,
		     uint64_t *bytes, struct vn_err *err)
{
	struct vn_err e;
	int ret;

	*bytes = 0;
	if (storage) {
		ret = vn_parse_size(storage, bytes, &e);
		if (ret)
			return vn_seterr(err, -ret, "--storage: %s", e.msg);
		if (!*bytes)
			return vn_seterr(err, EINVAL, "--storage must be > 0");
		if (*bytes % 4096)
			return vn_seterr(err, EINVAL, "--storage must be a multiple of 4K");
	}
	if (volume && !vn_volume_name_valid(volume))
		return vn_seterr(err, EINVAL,
				 "invalid volume name '%s' (letters, digits, _ -; max 31)", volume);
	if (mount && mount[0] != '/')
		return vn_seterr(err, EINVAL, "--mount needs an absolute path, got '%s'", mount);
	if (!storage && !volume && (stor_host || mount || keep))
		return vn_seterr(err, EINVAL,
				 "--stor-host, --mount and --keep-storage need --storage SIZE or --volume NAME");
	return 0;
}

void vn_storage_args(json_object *args, uint64_t bytes, const char *stor_host,
		     const char *volume, const char *mount, bool keep)
{
	if (bytes)
		json_object_object_add(args, "storage", json_object_new_uint64(bytes));
	if (stor_host)
		json_object_object_add(args, "stor_host", json_object_new_string(stor_host));
	if (volume)
		json_object_object_add(args, "volume", json_object_new_string(volume));
	if (mount)
		json_object_object_add(args, "mount", json_object_new_string(mount));
	if (keep)
		json_object_object_add(args, "keep_storage", json_object_new_boolean(1));
}
