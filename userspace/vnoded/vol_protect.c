// SPDX-License-Identifier: GPL-2.0
/*
 * Volume protection profiles (volume.h): the kernel's own device-mapper
 * targets between a volume's /dev/vnblkN and its ext4, set up with
 * Debian's tools (cryptsetup-bin), run by vn_run without a shell:
 *
 *   integrity  integritysetup format --batch-mode --integrity crc32c
 *                --sector-size 4096 /dev/vnblkN            (a new volume)
 *              integritysetup open --integrity crc32c /dev/vnblkN NAME
 *   crypt      cryptsetup luksFormat --type luks2 --cipher aes-xts-plain64
 *                --integrity hmac-sha256 --sector-size 4096 --pbkdf pbkdf2
 *                --pbkdf-force-iterations 1000 --batch-mode
 *                --key-file KEY /dev/vnblkN                (a new volume)
 *              cryptsetup open --type luks2 --key-file KEY /dev/vnblkN NAME
 *
 * NAME is vnode-<vNode>-<volume>; the file system is on /dev/mapper/NAME.
 * Both formats wipe the volume (no --integrity-no-wipe): every sector then
 * has a valid tag and reads as zeroes, as a new volume does without a
 * profile, at the price of writing the whole volume once.  The key (64
 * random bytes: 512 bits of aes-xts key material, the hmac key besides is
 * LUKS2's own) is a file on this host only, KEYDIR/<volume>.key, 0600 in
 * a 0700 KEYDIR next to vnoded's database; a key that random needs no
 * slow PBKDF, so the keyslot uses pbkdf2 at its minimum instead of
 * argon2id's 1 GiB (which a small process host may not have).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "volume.h"
#include "vnoded.h"

#define KEY_BYTES		64
#define KEY_DIR			"volume-keys"
/* a format writes the whole volume (tags, and encrypts it for crypt) */
#define FORMAT_TIMEOUT_MS	600000

void vn_vprot_mapping(const char *vnode, const char *vol, char *buf, size_t len)
{
	snprintf(buf, len, "vnode-%s-%s", vnode, vol);
}

/* KEYDIR (made 0700 if missing, made 0700 again if it is not) */
static int key_dir(struct vn_ctx *ctx, char *buf, size_t len, bool make,
		   struct vn_err *err)
{
	const char *slash = strrchr(ctx->dbpath, '/');
	struct stat st;

	if (snprintf(buf, len, "%.*s/" KEY_DIR, slash ? (int)(slash - ctx->dbpath) : 1,
		     slash ? ctx->dbpath : ".") >= (int)len)
		return vn_seterr(err, ENAMETOOLONG, "key directory path too long");
	if (!make)
		return 0;
	if (mkdir(buf, 0700) && errno != EEXIST)
		return vn_seterr(err, errno, "mkdir %s: %s", buf, strerror(errno));
	if (lstat(buf, &st) || !S_ISDIR(st.st_mode))
		return vn_seterr(err, ENOTDIR, "%s is not a directory", buf);
	if ((st.st_mode & 07777) != 0700 && chmod(buf, 0700))
		return vn_seterr(err, errno, "chmod 0700 %s: %s", buf, strerror(errno));
	return 0;
}

int vn_vprot_key_path(struct vn_ctx *ctx, const char *vol, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (key_dir(ctx, dir, sizeof(dir), false, NULL) ||
	    snprintf(buf, len, "%s/%s.key", dir, vol) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

void vn_vprot_key_destroy(struct vn_ctx *ctx, const char *vol)
{
	static const unsigned char zero[KEY_BYTES];
	char path[PATH_MAX];
	struct stat st;
	off_t off;
	int fd;

	if (vn_vprot_key_path(ctx, vol, path, sizeof(path)))
		return;
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	/* overwritten before it goes: no copy in the freed blocks */
	if (!fstat(fd, &st))
		for (off = 0; off < st.st_size; off += KEY_BYTES)
			if (pwrite(fd, zero, KEY_BYTES, off) < 0)
				break;
	fsync(fd);
	close(fd);
	if (!unlink(path))
		ctx->log(LOG_INFO, "volume %s: key file %s destroyed", vol, path);
}

/* A new key for a new volume: one left by a volume of that name that is
 * gone (no row has the name: vn_volume_prepare) is replaced. */
static int key_create(struct vn_ctx *ctx, const char *vol, char *path, size_t len,
		      struct vn_err *err)
{
	unsigned char key[KEY_BYTES];
	char dir[PATH_MAX];
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	ret = key_dir(ctx, dir, sizeof(dir), true, err);
	if (ret)
		return ret;
	if (vn_vprot_key_path(ctx, vol, path, len))
		return vn_seterr(err, ENAMETOOLONG, "key file path too long");
	vn_vprot_key_destroy(ctx, vol);
	while (got < sizeof(key)) {
		n = getrandom(key + got, sizeof(key) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vn_seterr(err, errno, "getrandom: %s", strerror(errno));
		got += (size_t)n;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = vn_seterr(err, errno, "create %s: %s", path, strerror(errno));
	} else {
		if (fchmod(fd, 0600) || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
		    fsync(fd))
			ret = vn_seterr(err, errno ? errno : EIO, "write %s: %s", path,
					strerror(errno ? errno : EIO));
		close(fd);
		if (ret)
			unlink(path);
	}
	explicit_bzero(key, sizeof(key));
	return ret;
}

bool vn_vprot_mapped(const struct vn_ctx *ctx, const char *map)
{
	char path[PATH_MAX];
	struct stat st;

	return !vn_kpath(&ctx->kern, path, sizeof(path), "/dev/mapper/%s", map) &&
	       !stat(path, &st);
}

static const char *tool(enum vn_vol_protect p)
{
	return p == VN_VOL_PROTECT_CRYPT ? "cryptsetup" : "integritysetup";
}

/* run argv; a failure's message names what it did to which device */
static int run(struct vn_ctx *ctx, char *const argv[], int timeout_ms,
	       const char *what, const char *dev, struct vn_err *err)
{
	struct vn_err e = { "" };
	int ret;

	ret = vn_run_timeout(&ctx->kern, argv, timeout_ms, &e);
	if (ret)
		return vn_seterr(err, -ret, "%s %s %s: %s", argv[0], what, dev, e.msg);
	return 0;
}

int vn_vprot_open(struct vn_ctx *ctx, enum vn_vol_protect p, const char *vol,
		  const char *vnode, bool format, char *dev, size_t devlen,
		  struct vn_err *err)
{
	char raw[64], map[96], key[PATH_MAX];
	char *ifmt[] = { "integritysetup", "format", "--batch-mode", "--integrity", "crc32c",
			 "--sector-size", "4096", raw, NULL };
	char *iopen[] = { "integritysetup", "open", "--integrity", "crc32c", raw, map, NULL };
	char *cfmt[] = { "cryptsetup", "luksFormat", "--type", "luks2", "--cipher",
			 "aes-xts-plain64", "--integrity", "hmac-sha256", "--sector-size",
			 "4096", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
			 "--batch-mode", "--key-file", key, raw, NULL };
	char *copen[] = { "cryptsetup", "open", "--type", "luks2", "--key-file", key, raw,
			  map, NULL };
	bool crypt = p == VN_VOL_PROTECT_CRYPT;
	struct stat st;
	int ret;

	if (p == VN_VOL_PROTECT_NONE)
		return 0;
	snprintf(raw, sizeof(raw), "/dev/%s", dev);
	vn_vprot_mapping(vnode, vol, map, sizeof(map));
	if (vn_vprot_mapped(ctx, map))
		return vn_seterr(err, EEXIST,
				 "/dev/mapper/%s exists already (%s close %s, if nothing uses it)",
				 map, tool(p), map);
	if (crypt && format) {
		ret = key_create(ctx, vol, key, sizeof(key), err);
		if (ret)
			return ret;
	} else if (crypt && (vn_vprot_key_path(ctx, vol, key, sizeof(key)) || stat(key, &st))) {
		return vn_seterr(err, ENOKEY,
				 "volume '%s' is encrypted and its key file %s is missing on this host: its data cannot be read here",
				 vol, key);
	}
	ret = 0;
	if (format)
		ret = run(ctx, crypt ? cfmt : ifmt, FORMAT_TIMEOUT_MS,
			  crypt ? "luksFormat" : "format", raw, err);
	if (!ret)
		ret = run(ctx, crypt ? copen : iopen, VN_RUN_TIMEOUT_MS, "open", raw, err);
	if (!ret && !vn_vprot_mapped(ctx, map)) {
		ret = vn_seterr(err, ENODEV, "%s open %s: no /dev/mapper/%s afterwards",
				tool(p), raw, map);
		vn_vprot_close(ctx, p, map, 0, NULL);
	}
	if (ret) {
		if (crypt && format)
			vn_vprot_key_destroy(ctx, vol);
		return ret;
	}
	ctx->log(LOG_INFO, "volume %s: %s%s /dev/mapper/%s on %s", vol,
		 format ? "formatted and opened " : "opened ",
		 crypt ? "dm-crypt (luks2, hmac-sha256)" : "dm-integrity (crc32c)", map, raw);
	snprintf(dev, devlen, "mapper/%s", map);
	return 0;
}

int vn_vprot_close(struct vn_ctx *ctx, enum vn_vol_protect p, const char *map,
		   int timeout_ms, struct vn_err *err)
{
	char *argv[] = { (char *)tool(p), "close", (char *)map, NULL };
	int64_t end = vn_mono_ms() + timeout_ms;
	int ret;

	if (p == VN_VOL_PROTECT_NONE)
		return 0;
	/* busy while dying processes still hold its mount */
	while (vn_vprot_mapped(ctx, map)) {
		ret = run(ctx, argv, VN_RUN_TIMEOUT_MS, "close", map, err);
		if (!ret || vn_mono_ms() >= end)
			return ret;
		usleep(100000);
	}
	return 0;
}
