// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "size.h"

static int suffix_shift(const char *s, unsigned int *shift)
{
	static const char units[] = "KMGTP";
	const char *u;

	if (!*s) {
		*shift = 0;
		return 0;
	}
	if ((*s == 'b' || *s == 'B') && !s[1]) {
		*shift = 0;
		return 0;
	}
	u = strchr(units, toupper((unsigned char)*s));
	if (!u || !*s)
		return -EINVAL;
	*shift = 10 * (unsigned int)(u - units + 1);
	s++;
	if (!*s || !strcasecmp(s, "b") || !strcasecmp(s, "ib"))
		return 0;
	return -EINVAL;
}

int vn_parse_size(const char *s, uint64_t *out, struct vn_err *err)
{
	const char *p = s;
	unsigned int shift;
	uint64_t v = 0;

	if (!s || !*s)
		return vn_seterr(err, EINVAL, "empty size");
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return vn_seterr(err, EINVAL, "negative size '%s'", s);
	if (!isdigit((unsigned char)*p))
		return vn_seterr(err, EINVAL, "invalid size '%s'", s);
	while (isdigit((unsigned char)*p)) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return vn_seterr(err, ERANGE, "size '%s' is too large", s);
		v = v * 10 + d;
		p++;
	}
	if (suffix_shift(p, &shift))
		return vn_seterr(err, EINVAL,
				 "invalid size '%s' (use a number with an optional K, M, G or T suffix)",
				 s);
	if (shift && v > (UINT64_MAX >> shift))
		return vn_seterr(err, ERANGE, "size '%s' is too large", s);
	*out = v << shift;
	return 0;
}

int vn_parse_size_or_pct(const char *s, uint64_t base, uint64_t *out,
			 struct vn_err *err)
{
	size_t len = s ? strlen(s) : 0;
	char *end;
	unsigned long pct;

	if (len && s[len - 1] == '%') {
		if (s[0] == '-')
			return vn_seterr(err, EINVAL, "negative percentage '%s'", s);
		if (!isdigit((unsigned char)s[0]))
			return vn_seterr(err, EINVAL, "invalid percentage '%s'", s);
		errno = 0;
		pct = strtoul(s, &end, 10);
		if (errno || end != s + len - 1 || pct < 1 || pct > 100)
			return vn_seterr(err, EINVAL,
					 "invalid percentage '%s' (1%%..100%%)", s);
		/* base * pct / 100 without overflow for any base */
		*out = base / 100 * pct + base % 100 * pct / 100;
		return 0;
	}
	return vn_parse_size(s, out, err);
}

void vn_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int i = -1;

	while (v && !(v & 1023) && i < 4) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, units[i]);
}
