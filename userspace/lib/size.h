/* SPDX-License-Identifier: GPL-2.0 */
/* Sizes: "4096", "64K", "512M", "2G", "1T" (binary units, optional B/iB). */
#ifndef VN_SIZE_H
#define VN_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Parse a size.  Rejects empty, negative, fractional, unknown suffixes and
 * overflow with -EINVAL/-ERANGE and a message naming the bad input. */
int vn_parse_size(const char *s, uint64_t *out, struct vn_err *err);

/* As vn_parse_size, or "N%" (1..100) of base. */
int vn_parse_size_or_pct(const char *s, uint64_t base, uint64_t *out,
			 struct vn_err *err);

/* Shortest exact form: "1G", "1536M", "4097" (bytes). */
void vn_fmt_size(uint64_t v, char *buf, size_t len);

#endif /* VN_SIZE_H */
