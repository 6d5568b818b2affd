/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vNode volumes on the process host: a volume is created on a storage
 * host by its agent (vnoded --agent, agent.c), attached here through
 * vnode_vol's configfs (/dev/vnblkN), formatted ext4 on first use, and
 * handed to vnode-run as a detached mount (fsmount) that the program's
 * private mount namespace mounts at the vNode's mount point.  State rows
 * live in the `volumes` table (schema v3).
 *
 * A volume's protection profile (volumes.protect, schema v10; fixed when
 * it is made): none, or a device-mapper target between /dev/vnblkN and
 * the ext4 (vol_protect.c): dm-integrity or LUKS2 authenticated
 * dm-crypt, /dev/mapper/vnode-<vNode>-<volume>, whose name is then the
 * volume's `dev` ("mapper/...").
 */
#ifndef VN_VOLUME_H
#define VN_VOLUME_H

#include "vnoded.h"

#define VN_MOUNT_DEFAULT	"/vnode"
#define VN_VOL_MIN		(8ULL << 20)
#define VN_VOL_MAX		(1ULL << 50)

/* What vNode create will do about storage; filled by vn_volume_prepare(). */
struct vn_vol_plan {
	bool active;		/* the vNode gets a volume */
	bool is_new;		/* created now (else an existing kept one) */
	char name[32];
	uint64_t size;
	int64_t comp_id;
	char host[64];		/* storage host address */
	int port;		/* its vnode_stor port */
	char comp_name[32];
	char mountpoint[256];
	bool keep;
	uid_t owner;
	bool formatted;		/* an existing one that holds our ext4 */
	char volume_id[24];	/* its data's id on the storage host, "" unknown */
	enum vn_vol_protect protect;	/* new: asked for; kept: its own */
	char vnode[32];		/* the vNode it is attached to (mapping name) */
	char dev[96];		/* after setup: what holds the ext4 */
	bool remote_done, local_done;
};

/* Validate the request's storage options (no side effects). */
int vn_volume_prepare(struct vn_ctx *ctx, const struct vn_vnode_req *req,
		      uid_t owner, const struct vn_caller *who,
		      struct vn_vol_plan *plan, struct vn_err *err);
/* Create on the storage host (new), attach, format if blank, mount point. */
int vn_volume_setup(struct vn_ctx *ctx, struct vn_vol_plan *plan,
		    struct vn_err *err);
/* Undo vn_volume_setup (best effort). */
void vn_volume_unwind(struct vn_ctx *ctx, struct vn_vol_plan *plan);
/* Record the volume for vNode vnode_id (inside the caller's transaction). */
int vn_volume_commit(struct vn_ctx *ctx, const struct vn_vol_plan *plan,
		     int64_t vnode_id, const char *vnode, struct vn_err *err);

/* vNode destroy, step 1: detach the vNode's volume (refused while it is
 * still mounted).  *vol gets its row (NULL if none). */
int vn_volume_detach_vnode(struct vn_ctx *ctx, json_object *vn,
			   json_object **vol, struct vn_err *err);
/* step 2, inside the destroy transaction: keep (detached) or mark for
 * deletion. */
int vn_volume_release(struct vn_ctx *ctx, json_object *vol, bool keep,
		      struct vn_err *err);
/* step 3, after commit: delete a released volume on its storage host
 * (failures leave it 'deleting'; reconciliation retries). */
void vn_volume_finish(struct vn_ctx *ctx, json_object *vol);

/* The vNode's volume as JSON (NULL if none). */
json_object *vn_volume_of_vnode(struct vn_ctx *ctx, int64_t vnode_id);

/* vnodectl volume ... */
/* A new volume's size: a positive multiple of 4K, at least VN_VOL_MIN;
 * opt names it in the error ("--storage", "--size"). */
int vn_volume_check_size(uint64_t size, const char *opt, struct vn_err *err);
/* prot: its protection profile, put on it where it is attached (the
 * layer made at its first attach) */
int vn_volume_create(struct vn_ctx *ctx, const char *name, uint64_t size,
		     const char *stor_host, const char *owner,
		     enum vn_vol_protect prot, const struct vn_caller *who,
		     json_object **out, struct vn_err *err);
int vn_volume_delete(struct vn_ctx *ctx, const char *name,
		     const struct vn_caller *who, struct vn_err *err);
int vn_volume_list(struct vn_ctx *ctx, json_object **out, struct vn_err *err);
int vn_volume_show(struct vn_ctx *ctx, const char *name, json_object **out,
		   struct vn_err *err);

/* vnode-run: a detached mount of the vNode's volume in ctx->reply_fd and
 * {volume, mountpoint, dev, nosuid} in *out ({} if it has none). */
int vn_vnode_mount(struct vn_ctx *ctx, const char *vnode,
		   const struct vn_caller *who, json_object **out,
		   struct vn_err *err);

/* Re-attach attached volumes whose disk is gone, re-open them on a
 * restarted storage host, retry pending deletions.  Returns the number
 * of volumes it could not repair. */
int vn_volume_reconcile(struct vn_ctx *ctx);

/* vol_protect.c: the device-mapper layer of a protected volume */
/* NAME of the mapping of volume vol attached to vnode: vnode-VNODE-VOL */
void vn_vprot_mapping(const char *vnode, const char *vol, char *buf, size_t len);
/* /dev/mapper/MAP exists (below the sysroot) */
bool vn_vprot_mapped(const struct vn_ctx *ctx, const char *map);
/* Put profile p on the attached volume vol (/dev/<dev>): format it first
 * if format (a new volume; crypt: a new key file), then open
 * vnode-VNODE-VOL; dev becomes "mapper/vnode-VNODE-VOL".  None: nothing.
 * A failure leaves no mapping (and no key file it made); its message
 * names the tool, the device and what the tool said. */
int vn_vprot_open(struct vn_ctx *ctx, enum vn_vol_protect p, const char *vol,
		  const char *vnode, bool format, char *dev, size_t devlen,
		  struct vn_err *err);
/* Close mapping map if it exists, retrying a busy one for timeout_ms. */
int vn_vprot_close(struct vn_ctx *ctx, enum vn_vol_protect p, const char *map,
		   int timeout_ms, struct vn_err *err);
/* KEYDIR/<vol>.key (KEYDIR: volume-keys next to the database). */
int vn_vprot_key_path(struct vn_ctx *ctx, const char *vol, char *buf, size_t len);
/* Overwrite and unlink volume vol's key file, if it has one. */
void vn_vprot_key_destroy(struct vn_ctx *ctx, const char *vol);

/* The real agent call (TCP) and the fake one (sysroot, in-process). */
int vn_agent_tcp(struct vn_ctx *ctx, const char *addr, const char *cmd,
		 json_object *args, json_object **data, struct vn_err *err);
int vn_agent_fake(struct vn_ctx *ctx, const char *addr, const char *cmd,
		  json_object *args, json_object **data, struct vn_err *err);

#endif /* VN_VOLUME_H */
