// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_stor backing store: a directory (one sparse file per volume) or a
 * block device (one extent per volume).  Either way a small volume table
 * records name, client, owner, offset and size of every volume so that
 * volumes survive a storage-host restart:
 *   directory:    <dir>/vnode_stor.tab, data in <dir>/<name>.vol
 *   block device: table in the first STOR_TAB_BYTES, data from 1 MiB on
 * A volume that is created (no table entry) is zeroed first, so it never
 * shows a previous tenant's data: a new sparse file, or ZERO_RANGE (or
 * written zeroes) over the extent.
 */
#include "stor.h"

#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/uio.h>
#include <linux/namei.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/string.h>

#define STOR_TAB_MAGIC		0x3162617452545356ULL	/* "VSTRTab1" */
#define STOR_TAB_MAX		64
#define STOR_TAB_BYTES		8192
#define STOR_DATA_START		(1ULL << 20)
#define STOR_EXTENT_ALIGN	(1ULL << 20)

/**
 * struct stor_tab_ent - one volume in the on-disk table (128 bytes)
 * @name: NUL-padded volume name; empty = free entry
 * @client: NUL-padded client address as configured
 * @offset: byte offset of the data in the block device (0 for files)
 * @size: bytes
 * @volume_id: random id of this volume instance
 * @owner: NUL-padded identity the volume belongs to; empty = not yet
 *	claimed (tables written before owners were recorded have zeroes here)
 * @reserved: zero
 */
struct stor_tab_ent {
	char	name[VNODE_STOR_NAME_LEN];
	char	client[STOR_CLIENT_LEN];
	__le64	offset;
	__le64	size;
	__le64	volume_id;
	char	owner[VNODE_AUTH_IDENT_LEN];
	u8	reserved[8];
};

/**
 * struct stor_tab - the on-disk volume table
 * @magic: STOR_TAB_MAGIC
 * @nr: entries (always STOR_TAB_MAX)
 * @reserved: zero
 * @ent: entries
 */
struct stor_tab {
	__le64	magic;
	__le32	nr;
	u8	reserved[52];
	struct stor_tab_ent ent[STOR_TAB_MAX];
};

static DEFINE_MUTEX(stor_tab_lock);
static struct stor_tab *stor_tab;
static struct file *stor_tab_file;	/* table file, or the block device */
static struct file *stor_dir;		/* directory backing: the directory */
static char *stor_dir_path;
static u64 stor_capacity;
bool stor_is_bdev;

static int stor_tab_write(void)
{
	loff_t pos = 0;
	ssize_t n;

	n = kernel_write(stor_tab_file, stor_tab, sizeof(*stor_tab), &pos);
	if (n != sizeof(*stor_tab))
		return n < 0 ? n : -EIO;
	return vfs_fsync(stor_tab_file, 0);
}

static int stor_tab_read(void)
{
	loff_t pos = 0;
	ssize_t n;

	n = kernel_read(stor_tab_file, stor_tab, sizeof(*stor_tab), &pos);
	if (n < 0)
		return n;
	if (n == sizeof(*stor_tab) &&
	    le64_to_cpu(stor_tab->magic) == STOR_TAB_MAGIC &&
	    le32_to_cpu(stor_tab->nr) == STOR_TAB_MAX)
		return 0;
	if (n && stor_is_bdev && memchr_inv(stor_tab, 0, n)) {
		pr_err("block device has data but no vnode_stor volume table: refusing to format it (zero its first %d bytes to allow)\n",
		       STOR_TAB_BYTES);
		return -EINVAL;
	}
	memset(stor_tab, 0, sizeof(*stor_tab));
	stor_tab->magic = cpu_to_le64(STOR_TAB_MAGIC);
	stor_tab->nr = cpu_to_le32(STOR_TAB_MAX);
	return stor_tab_write();
}

static struct stor_tab_ent *stor_tab_find(const char *name)
{
	int i;

	for (i = 0; i < STOR_TAB_MAX; i++)
		if (!strncmp(stor_tab->ent[i].name, name, VNODE_STOR_NAME_LEN))
			return &stor_tab->ent[i];
	return NULL;
}

u64 stor_backing_used(void)
{
	u64 used = 0;
	int i;

	mutex_lock(&stor_tab_lock);
	for (i = 0; i < STOR_TAB_MAX; i++)
		if (stor_tab->ent[i].name[0])
			used += le64_to_cpu(stor_tab->ent[i].size);
	mutex_unlock(&stor_tab_lock);
	return used;
}

u64 stor_backing_capacity(void)
{
	return stor_capacity;
}

/* First fit of @size bytes in the block device; 0 if none. */
static u64 stor_extent_alloc(u64 size)
{
	u64 start = STOR_DATA_START;
	bool moved;
	int i;

	size = round_up(size, STOR_EXTENT_ALIGN);
	do {
		moved = false;
		for (i = 0; i < STOR_TAB_MAX; i++) {
			struct stor_tab_ent *e = &stor_tab->ent[i];
			u64 o = le64_to_cpu(e->offset);
			u64 end = o + round_up(le64_to_cpu(e->size),
					       STOR_EXTENT_ALIGN);

			if (!e->name[0] || end <= start || o >= start + size)
				continue;
			start = end;
			moved = true;
		}
	} while (moved);
	return start + size <= stor_capacity + STOR_DATA_START ? start : 0;
}

static struct file *stor_vol_file_open(const char *name, int flags)
{
	char *path;
	struct file *f;

	path = kasprintf(GFP_KERNEL, "%s/%s.vol", stor_dir_path, name);
	if (!path)
		return ERR_PTR(-ENOMEM);
	f = filp_open(path, flags | O_RDWR | O_LARGEFILE, 0600);
	kfree(path);
	return f;
}

/* Write zeroes over [off, off+len) of @f. */
static int stor_write_zeroes(struct file *f, u64 off, u64 len)
{
	void *zero = page_address(ZERO_PAGE(0));
	loff_t pos = off;

	while (len) {
		size_t n = min_t(u64, len, PAGE_SIZE);
		ssize_t ret = kernel_write(f, zero, n, &pos);

		if (ret < 0)
			return ret;
		if (!ret)
			return -EIO;
		len -= ret;
		cond_resched();
	}
	return 0;
}

/* The entry of @vol (same name and instance), or NULL. */
static struct stor_tab_ent *stor_tab_find_vol(const struct stor_vol *vol)
{
	struct stor_tab_ent *e = stor_tab_find(vol->name);

	return e && le64_to_cpu(e->volume_id) == vol->volume_id ? e : NULL;
}

/*
 * An existing entry's owner against the configured one (vol->owner, set
 * by the admin or the agent while disabled): the same, or one of them
 * empty.  A configured owner is recorded if the entry has none.
 */
static int stor_tab_check_owner(struct stor_vol *vol, struct stor_tab_ent *e,
				char owner[STOR_OWNER_LEN])
{
	int ret;

	if (!vol->owner[0] || !strncmp(e->owner, vol->owner,
				       VNODE_AUTH_IDENT_LEN)) {
		/* the table is on disk: never trust it to be terminated */
		memcpy(owner, e->owner, VNODE_AUTH_IDENT_LEN);
		owner[VNODE_AUTH_IDENT_LEN] = '\0';
		if (owner[0] &&
		    !vnode_valid_identity(owner, strlen(owner))) {
			vlog(err, vol, "the volume table's owner is not an identity: ignored, the next opener claims the volume\n");
			owner[0] = '\0';
		}
		return 0;
	}
	if (e->owner[0]) {
		vlog(err, vol, "belongs to identity %.*s on the backing store: refusing to reopen it for %s (leave owner empty, or delete the volume first)\n",
		     VNODE_AUTH_IDENT_LEN, e->owner, vol->owner);
		return -EEXIST;
	}
	strscpy_pad(e->owner, vol->owner, VNODE_AUTH_IDENT_LEN);
	ret = stor_tab_write();
	if (ret) {
		memset(e->owner, 0, VNODE_AUTH_IDENT_LEN);
		vlog(err, vol, "cannot write the volume table: %d\n", ret);
		return ret;
	}
	owner[0] = '\0';
	return 0;
}

int stor_backing_open(struct stor_vol *vol, char owner[STOR_OWNER_LEN])
{
	struct stor_tab_ent *e, *free_e = NULL;
	struct file *f;
	u64 off = 0, used = 0;
	int i, ret;

	owner[0] = '\0';
	mutex_lock(&stor_tab_lock);
	e = stor_tab_find(vol->name);
	if (e) {
		if (strncmp(e->client, vol->client_str, STOR_CLIENT_LEN) ||
		    le64_to_cpu(e->size) != vol->size) {
			vlog(err, vol, "exists on the backing store for client %.*s, %llu bytes: refusing to reuse it for %s, %llu bytes (delete it with that configuration first)\n",
			     STOR_CLIENT_LEN, e->client, le64_to_cpu(e->size),
			     vol->client_str, vol->size);
			ret = -EEXIST;
			goto out_unlock;
		}
		ret = stor_tab_check_owner(vol, e, owner);
		if (ret)
			goto out_unlock;
		if (stor_is_bdev) {
			f = stor_tab_file;
			get_file(f);
		} else {
			f = stor_vol_file_open(vol->name, 0);
			if (IS_ERR(f)) {
				ret = PTR_ERR(f);
				vlog(err, vol, "cannot open its file: %d\n", ret);
				goto out_unlock;
			}
		}
		vol->file = f;
		vol->base = le64_to_cpu(e->offset);
		vol->volume_id = le64_to_cpu(e->volume_id);
		vlog(info, vol, "reopened existing volume (%llu bytes at %llu, owner %s)\n",
		     vol->size, vol->base,
		     vol->owner[0] ? vol->owner : owner[0] ? owner : "none yet");
		ret = 0;
		goto out_unlock;
	}

	for (i = 0; i < STOR_TAB_MAX; i++) {
		if (stor_tab->ent[i].name[0])
			used += le64_to_cpu(stor_tab->ent[i].size);
		else if (!free_e)
			free_e = &stor_tab->ent[i];
	}
	if (!free_e) {
		vlog(err, vol, "volume table full (%d volumes)\n", STOR_TAB_MAX);
		ret = -ENOSPC;
		goto out_unlock;
	}
	if (used + vol->size > stor_capacity) {
		vlog(err, vol, "%llu bytes do not fit: capacity %llu, %llu in use\n",
		     vol->size, stor_capacity, used);
		ret = -ENOSPC;
		goto out_unlock;
	}

	if (stor_is_bdev) {
		off = stor_extent_alloc(vol->size);
		if (!off) {
			vlog(err, vol, "no free extent of %llu bytes\n",
			     vol->size);
			ret = -ENOSPC;
			goto out_unlock;
		}
		f = stor_tab_file;
		get_file(f);
		/* Never show a previous tenant's data. */
		ret = vfs_fallocate(f, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				    off, vol->size);
		if (ret)
			ret = stor_write_zeroes(f, off, vol->size);
		if (!ret)
			ret = vfs_fsync_range(f, off, off + vol->size - 1, 1);
	} else {
		/* A new sparse file reads back as zeroes. */
		f = stor_vol_file_open(vol->name, O_CREAT | O_TRUNC);
		if (IS_ERR(f)) {
			ret = PTR_ERR(f);
			vlog(err, vol, "cannot create its file: %d\n", ret);
			goto out_unlock;
		}
		ret = vfs_truncate(&f->f_path, vol->size);
		if (!ret)
			ret = vfs_fsync(f, 0);
	}
	if (ret) {
		vlog(err, vol, "cannot prepare %llu bytes: %d\n", vol->size, ret);
		fput(f);
		goto out_unlock;
	}

	memset(free_e, 0, sizeof(*free_e));
	strscpy(free_e->name, vol->name, sizeof(free_e->name));
	strscpy(free_e->client, vol->client_str, sizeof(free_e->client));
	free_e->offset = cpu_to_le64(off);
	free_e->size = cpu_to_le64(vol->size);
	free_e->volume_id = cpu_to_le64(get_random_u64());
	strscpy_pad(free_e->owner, vol->owner, VNODE_AUTH_IDENT_LEN);
	ret = stor_tab_write();
	if (ret) {
		vlog(err, vol, "cannot write the volume table: %d\n", ret);
		memset(free_e, 0, sizeof(*free_e));
		fput(f);
		goto out_unlock;
	}
	vol->file = f;
	vol->base = off;
	vol->volume_id = le64_to_cpu(free_e->volume_id);
	vlog(info, vol, "created %llu bytes at %llu for %s\n", vol->size, off,
	     vol->client_str);
out_unlock:
	mutex_unlock(&stor_tab_lock);
	return ret;
}

int stor_backing_set_owner(struct stor_vol *vol)
{
	struct stor_tab_ent *e;
	int ret = -ENOENT;

	mutex_lock(&stor_tab_lock);
	e = stor_tab_find_vol(vol);
	if (e) {
		strscpy_pad(e->owner, vol->owner, VNODE_AUTH_IDENT_LEN);
		ret = stor_tab_write();
	}
	mutex_unlock(&stor_tab_lock);
	return ret;
}

void stor_backing_close(struct stor_vol *vol)
{
	if (!vol->file)
		return;
	vfs_fsync(vol->file, 0);
	fput(vol->file);
	vol->file = NULL;
}

void stor_backing_delete(struct stor_vol *vol)
{
	struct stor_tab_ent *e;
	struct file *f;

	mutex_lock(&stor_tab_lock);
	e = stor_tab_find_vol(vol);
	if (!e) {
		mutex_unlock(&stor_tab_lock);
		return;
	}
	memset(e, 0, sizeof(*e));
	if (stor_tab_write())
		vlog(err, vol, "cannot write the volume table\n");
	if (!stor_is_bdev) {
		/* Free the space; the next create truncates it anyway. */
		f = stor_vol_file_open(vol->name, 0);
		if (!IS_ERR(f)) {
			vfs_truncate(&f->f_path, 0);
			fput(f);
		}
	}
	mutex_unlock(&stor_tab_lock);
	vlog(info, vol, "deleted\n");
}

int stor_rw(struct stor_vol *vol, bool write, void *buf, u64 off, u32 len)
{
	loff_t pos = vol->base + off;
	ssize_t n;

	while (len) {
		n = write ? kernel_write(vol->file, buf, len, &pos) :
			    kernel_read(vol->file, buf, len, &pos);
		if (n < 0)
			return n;
		if (!n) {
			if (write)
				return -EIO;
			/* Past the end of a short file: zeroes. */
			memset(buf, 0, len);
			return 0;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int stor_rw_pages(struct stor_vol *vol, bool write, struct bio_vec *bvec,
		  unsigned int nr, u64 off, u32 len)
{
	loff_t pos = vol->base + off;
	struct iov_iter iter;
	ssize_t n;

	/*
	 * Writes go through one contiguous buffer (kernel_write, as inline
	 * writes do): on 6.12 guests (QEMU 7.2, 9p backing file) a bvec or
	 * multi-segment kvec write of the pages never completes; the 9p
	 * requests stay unanswered.  Reads of the bvec work on both.
	 */
	if (write) {
		void *buf = vnode_fault(kvmalloc(len, GFP_KERNEL));
		unsigned int i, done = 0;
		int ret;

		if (!buf)
			return -ENOMEM;
		for (i = 0; i < nr && done < len; done += bvec[i].bv_len, i++)
			memcpy_from_bvec(buf + done, &bvec[i]);
		ret = stor_rw(vol, true, buf, off, len);
		kvfree(buf);
		return ret;
	}
	iov_iter_bvec(&iter, ITER_DEST, bvec, nr, len);
	while (iov_iter_count(&iter)) {
		n = vfs_iter_read(vol->file, &iter, &pos, 0);
		if (n < 0)
			return n;
		if (!n) {
			/* Past the end of a short file: zeroes. */
			iov_iter_zero(iov_iter_count(&iter), &iter);
			return 0;
		}
	}
	return 0;
}

int stor_flush(struct stor_vol *vol, u64 off, u64 len, bool range)
{
	if (range)
		return vfs_fsync_range(vol->file, vol->base + off,
				       vol->base + off + len - 1, 1);
	return vfs_fsync(vol->file, 0);
}

int stor_zero(struct stor_vol *vol, u64 off, u32 len, bool discard)
{
	int mode = FALLOC_FL_KEEP_SIZE |
		   (discard ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
	int ret;

	ret = vfs_fallocate(vol->file, mode, vol->base + off, len);
	if (ret == -EOPNOTSUPP && !discard)
		ret = vfs_fallocate(vol->file,
				    FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
				    vol->base + off, len);
	if (ret)
		ret = stor_write_zeroes(vol->file, vol->base + off, len);
	return ret;
}

int stor_backing_init(const char *path)
{
	struct kstatfs st;
	struct file *f;
	umode_t mode;
	char *tab;
	int ret;

	if (!path || !*path) {
		pr_err("backing= is required: a directory or a block device\n");
		return -EINVAL;
	}
	stor_tab = vnode_fault(kzalloc(sizeof(*stor_tab), GFP_KERNEL));
	if (!stor_tab)
		return -ENOMEM;

	f = filp_open(path, O_RDONLY | O_LARGEFILE, 0);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		pr_err("backing store %s: cannot open: %d\n", path, ret);
		goto out_free;
	}
	mode = file_inode(f)->i_mode;
	if (S_ISDIR(mode)) {
		stor_dir = f;
		stor_dir_path = vnode_fault(kstrdup(path, GFP_KERNEL));
		if (!stor_dir_path) {
			ret = -ENOMEM;
			goto out_put;
		}
		ret = vfs_statfs(&f->f_path, &st);
		if (ret) {
			pr_err("backing store %s: statfs failed: %d\n", path, ret);
			goto out_put;
		}
		stor_capacity = (u64)st.f_blocks * st.f_bsize;
		tab = kasprintf(GFP_KERNEL, "%s/vnode_stor.tab", path);
		if (!tab) {
			ret = -ENOMEM;
			goto out_put;
		}
		stor_tab_file = filp_open(tab, O_RDWR | O_CREAT | O_LARGEFILE,
					  0600);
		kfree(tab);
	} else if (S_ISBLK(mode)) {
		fput(f);
		stor_is_bdev = true;
		/* O_EXCL: nobody else may mount or claim the device. */
		stor_tab_file = filp_open(path, O_RDWR | O_EXCL | O_LARGEFILE,
					  0);
		if (!IS_ERR(stor_tab_file)) {
			u64 sz = i_size_read(stor_tab_file->f_mapping->host);

			if (sz <= STOR_DATA_START) {
				fput(stor_tab_file);
				stor_tab_file = ERR_PTR(-ENOSPC);
			} else {
				stor_capacity = sz - STOR_DATA_START;
			}
		}
	} else {
		pr_err("backing store %s: not a directory or block device\n",
		       path);
		fput(f);
		ret = -EINVAL;
		goto out_free;
	}
	if (IS_ERR(stor_tab_file)) {
		ret = PTR_ERR(stor_tab_file);
		stor_tab_file = NULL;
		pr_err("backing store %s: cannot open the volume table: %d\n",
		       path, ret);
		goto out_put;
	}
	ret = stor_tab_read();
	if (ret)
		goto out_put_tab;
	pr_info("backing store %s: %s, %llu bytes, %llu in use\n", path,
		stor_is_bdev ? "block device" : "directory", stor_capacity,
		stor_backing_used());
	return 0;

out_put_tab:
	fput(stor_tab_file);
	stor_tab_file = NULL;
out_put:
	if (stor_dir)
		fput(stor_dir);
	stor_dir = NULL;
	kfree(stor_dir_path);
	stor_dir_path = NULL;
out_free:
	kfree(stor_tab);
	stor_tab = NULL;
	return ret;
}

void stor_backing_exit(void)
{
	if (stor_tab_file) {
		vfs_fsync(stor_tab_file, 0);
		fput(stor_tab_file);
	}
	if (stor_dir)
		fput(stor_dir);
	kfree(stor_dir_path);
	kfree(stor_tab);
}
