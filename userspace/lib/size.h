/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Quantities on the command line and in config files: sizes ("4096",
 * "64K", "512M", "2G", "1T": binary units, optional B/iB), times ("20us",
 * "1.5ms", "300ns") and rates ("3GB/s", "100Gb/s": decimal units, bytes
 * or bits).
 */
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

/*
 * A time: a decimal number (a fraction allowed) and a unit, ns, us (or
 * µs), ms or s; "0" needs none.  To nanoseconds, rounded to the nearest.
 * Rejects empty, negative, unknown units and overflow with -EINVAL/-ERANGE
 * and a message naming the bad input.
 */
int vn_parse_time(const char *s, uint64_t *ns, struct vn_err *err);
/* "0", "300ns", "3us", "412.5us", "1.5ms", "2s" (at most 3 decimals). */
void vn_fmt_time(uint64_t ns, char *buf, size_t len);

/*
 * A rate: a decimal number and a unit of bytes, B/s, KB/s, MB/s, GB/s,
 * TB/s (powers of 1000; KiB/s, MiB/s, GiB/s powers of 1024), or of bits,
 * b/s, Kb/s, Mb/s, Gb/s, Tb/s (also Kbit/s... and Kbps...); "0" needs
 * none.  To bytes per second, rounded to the nearest.
 */
int vn_parse_rate(const char *s, uint64_t *bytes_s, struct vn_err *err);
/* "0", "512B/s", "375MB/s", "12.5GB/s" (decimal units, at most 3 decimals). */
void vn_fmt_rate(uint64_t bytes_s, char *buf, size_t len);

/*
 * TIME[:WORD] (a jitter: "2us", "2us:normal"): the time as
 * vn_parse_time, WORD (letters, "" if absent) into word.  What the word
 * may be is the caller's to check.
 */
int vn_parse_time_word(const char *s, uint64_t *ns, char *word, size_t wlen,
		       struct vn_err *err);

#endif /* VN_SIZE_H */
