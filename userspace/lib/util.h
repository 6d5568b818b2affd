/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by vnoded, vnodectl and vnode-run: error buffers
 * and file access below an optional fake root ("sysroot", for tests).
 */
#ifndef VN_UTIL_H
#define VN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VN_ERR_MAX 512

/* A human-readable error message travelling with a negative errno. */
struct vn_err {
	char msg[VN_ERR_MAX];
};

/* Set err->msg (if err is non-NULL) and return -code (code is an errno). */
int vn_seterr(struct vn_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole small file (<= len-1 bytes), strip one trailing newline. */
int vn_read_file(const char *path, char *buf, size_t len);
/* Write a string to a file (O_WRONLY, no O_CREAT unless create). */
int vn_write_file(const char *path, const char *val, bool create);
int vn_read_u64(const char *path, uint64_t *val);

/* mkdir -p: create dir and its missing parents, the first 'from' bytes of
 * dir (an existing prefix, e.g. a fake root) excepted.  0 or -errno. */
int vn_mkdirs(const char *dir, size_t from, mode_t mode);

/* snprintf that returns -ENAMETOOLONG on truncation. */
int vn_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Valid object name: [A-Za-z0-9][A-Za-z0-9_.-]{0,30}. */
bool vn_name_valid(const char *name);

/* Valid volume name (vnode_stor refuses '.'): [A-Za-z0-9][A-Za-z0-9_-]{0,30}. */
bool vn_volume_name_valid(const char *name);

/* Milliseconds since the epoch (CLOCK_REALTIME) and monotonic. */
/* -V: "PROG (vnode) VERSION" on stdout (modules/include/vnode/version.h) */
void vn_print_version(const char *prog);

int64_t vn_now_ms(void);
int64_t vn_mono_ms(void);

#endif /* VN_UTIL_H */
