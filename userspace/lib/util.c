// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include <vnode/version.h>

int vn_seterr(struct vn_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code > 0 ? -code : code;
}

int vn_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	size_t off = 0;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		if (!n)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if (off && buf[off - 1] == '\n')
		buf[off - 1] = '\0';
	return 0;
}

int vn_mkdirs(const char *dir, size_t from, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (vn_path(tmp, sizeof(tmp), "%s", dir))
		return -ENAMETOOLONG;
	if (from >= strlen(tmp))
		from = 0;
	for (p = tmp + from + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int vn_write_file(const char *path, const char *val, bool create)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, flags = O_WRONLY | O_CLOEXEC;

	if (create)
		flags |= O_CREAT | O_TRUNC;
	fd = open(path, flags, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vn_read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	ret = vn_read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int vn_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

bool vn_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 31 || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '_' && c != '-' && c != '.')
			return false;
	}
	return true;
}

bool vn_volume_name_valid(const char *name)
{
	return vn_name_valid(name) && !strchr(name, '.');
}

int64_t vn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vn_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vn_print_version(const char *prog)
{
	printf("%s (vnode) %s\n", prog, VNODE_VERSION);
}
