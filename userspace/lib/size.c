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

/* Decimal digits at *p into *v (*p moves past them); -ERANGE on overflow,
 * *ndigits their number. */
static int scan_digits(const char **p, uint64_t *v, unsigned int *ndigits)
{
	unsigned int n = 0;

	*v = 0;
	for (; isdigit((unsigned char)**p); (*p)++, n++) {
		unsigned int d = (unsigned int)(**p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		*v = *v * 10 + d;
	}
	*ndigits = n;
	return 0;
}

/* Past leading blanks: "" (NULL), '-', or no digit are the caller's
 * "empty", "negative" and "invalid" cases: -ENODATA, -EDOM, -EINVAL. */
static int number_start(const char *s, const char **p)
{
	if (!s || !*s)
		return -ENODATA;
	for (*p = s; isspace((unsigned char)**p); (*p)++)
		;
	if (**p == '-')
		return -EDOM;
	return isdigit((unsigned char)**p) ? 0 : -EINVAL;
}

int vn_parse_size(const char *s, uint64_t *out, struct vn_err *err)
{
	const char *p;
	unsigned int shift, nd;
	uint64_t v = 0;
	int ret = number_start(s, &p);

	if (ret == -ENODATA)
		return vn_seterr(err, EINVAL, "empty size");
	if (ret == -EDOM)
		return vn_seterr(err, EINVAL, "negative size '%s'", s);
	if (ret)
		return vn_seterr(err, EINVAL, "invalid size '%s'", s);
	if (scan_digits(&p, &v, &nd))
		return vn_seterr(err, ERANGE, "size '%s' is too large", s);
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

/* ---- times and rates ---------------------------------------------------- */

/* A unit: value = number * mul / div. */
struct unit {
	const char *name;
	uint64_t mul, div;
};

static const struct unit time_units[] = {
	{ "ns", 1, 1 },
	{ "us", 1000, 1 },
	{ "\xc2\xb5s", 1000, 1 },	/* µs, MICRO SIGN */
	{ "\xce\xbcs", 1000, 1 },	/* μs, GREEK SMALL LETTER MU */
	{ "ms", 1000000, 1 },
	{ "s", 1000000000, 1 },
	{ NULL, 0, 0 }
};

static const struct unit rate_units[] = {
	{ "B/s", 1, 1 },
	{ "KB/s", 1000, 1 }, { "kB/s", 1000, 1 },
	{ "MB/s", 1000000, 1 },
	{ "GB/s", 1000000000, 1 },
	{ "TB/s", 1000000000000ULL, 1 },
	{ "KiB/s", 1ULL << 10, 1 },
	{ "MiB/s", 1ULL << 20, 1 },
	{ "GiB/s", 1ULL << 30, 1 },
	{ "b/s", 1, 8 }, { "bit/s", 1, 8 }, { "bps", 1, 8 },
	{ "Kb/s", 1000, 8 }, { "kb/s", 1000, 8 }, { "Kbit/s", 1000, 8 },
	{ "kbit/s", 1000, 8 }, { "Kbps", 1000, 8 }, { "kbps", 1000, 8 },
	{ "Mb/s", 1000000, 8 }, { "Mbit/s", 1000000, 8 }, { "Mbps", 1000000, 8 },
	{ "Gb/s", 1000000000, 8 }, { "Gbit/s", 1000000000, 8 },
	{ "Gbps", 1000000000, 8 },
	{ "Tb/s", 1000000000000ULL, 8 }, { "Tbit/s", 1000000000000ULL, 8 },
	{ "Tbps", 1000000000000ULL, 8 },
	{ NULL, 0, 0 }
};

/*
 * "NUMBER[.FRACTION] [UNIT]" by units, rounded to the nearest; what names
 * the quantity in messages ("time", "rate"), use the units for them.
 */
static int parse_scaled(const char *s, const struct unit *units,
			const char *what, const char *use, uint64_t *out,
			struct vn_err *err)
{
	unsigned __int128 num, den = 1, v;
	const struct unit *u;
	unsigned int nd, nf = 0;
	uint64_t ip, fp = 0;
	const char *p;
	int ret = number_start(s, &p);

	if (ret == -ENODATA)
		return vn_seterr(err, EINVAL, "empty %s", what);
	if (ret == -EDOM)
		return vn_seterr(err, EINVAL, "negative %s '%s'", what, s);
	if (ret)
		return vn_seterr(err, EINVAL, "invalid %s '%s' (%s)", what, s, use);
	if (scan_digits(&p, &ip, &nd))
		return vn_seterr(err, ERANGE, "%s '%s' is too large", what, s);
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return vn_seterr(err, EINVAL, "invalid %s '%s' (%s)", what, s, use);
		/* more than 9 decimals say nothing these units can hold */
		if (scan_digits(&p, &fp, &nf) || nf > 9)
			return vn_seterr(err, EINVAL,
					 "invalid %s '%s' (at most 9 decimals)", what, s);
	}
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		if (ip || fp)
			return vn_seterr(err, EINVAL, "%s '%s' needs a unit (%s)",
					 what, s, use);
		*out = 0;
		return 0;
	}
	for (u = units; u->name && strcmp(u->name, p); u++)
		;
	if (!u->name)
		return vn_seterr(err, EINVAL, "invalid %s '%s': unknown unit '%s' (%s)",
				 what, s, p, use);
	num = (unsigned __int128)ip * u->mul;
	if (num / u->div > UINT64_MAX)
		return vn_seterr(err, ERANGE, "%s '%s' is too large", what, s);
	while (nf--)
		den *= 10;
	/* ip.fp * mul / div, with ip.fp = (ip * den + fp) / den */
	num = num * den + (unsigned __int128)fp * u->mul;
	den *= u->div;
	v = (num + den / 2) / den;
	if (v > UINT64_MAX)
		return vn_seterr(err, ERANGE, "%s '%s' is too large", what, s);
	*out = (uint64_t)v;
	return 0;
}

int vn_parse_time(const char *s, uint64_t *ns, struct vn_err *err)
{
	return parse_scaled(s, time_units, "time", "use ns, us, ms or s, e.g. 20us",
			    ns, err);
}

int vn_parse_rate(const char *s, uint64_t *bytes_s, struct vn_err *err)
{
	return parse_scaled(s, rate_units, "rate",
			    "use B/s, KB/s, MB/s, GB/s or bits: Kb/s, Mb/s, Gb/s, e.g. 3GB/s",
			    bytes_s, err);
}

int vn_parse_time_word(const char *s, uint64_t *ns, char *word, size_t wlen,
		       struct vn_err *err)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	char t[64];
	size_t i;

	if (!colon) {
		if (wlen)
			word[0] = '\0';
		return vn_parse_time(s, ns, err);
	}
	if ((size_t)(colon - s) >= sizeof(t) || strlen(colon + 1) >= wlen || !colon[1])
		return vn_seterr(err, EINVAL, "invalid '%s' (TIME or TIME:WORD)", s);
	for (i = 1; colon[i]; i++)
		if (!isalpha((unsigned char)colon[i]))
			return vn_seterr(err, EINVAL, "invalid '%s' (TIME or TIME:WORD)", s);
	memcpy(t, s, (size_t)(colon - s));
	t[colon - s] = '\0';
	strcpy(word, colon + 1);
	return vn_parse_time(t, ns, err);
}

/* v in the largest unit of units (descending by mul) it reaches, with at
 * most 3 decimals (trailing zeros dropped). */
static void fmt_scaled(uint64_t v, const struct unit *units, char *buf,
		       size_t len)
{
	const struct unit *u = units;
	uint64_t whole, milli;
	char frac[8] = "";
	int i;

	if (!v) {
		snprintf(buf, len, "0");
		return;
	}
	while (u[1].name && v < u->mul)
		u++;
	whole = v / u->mul;
	/* thousandths, rounded */
	milli = (uint64_t)(((unsigned __int128)(v % u->mul) * 1000 + u->mul / 2) / u->mul);
	if (milli == 1000) {
		whole++;
		milli = 0;
	}
	if (milli) {
		snprintf(frac, sizeof(frac), ".%03u", (unsigned int)milli);
		for (i = 3; frac[i] == '0'; i--)
			frac[i] = '\0';
	}
	snprintf(buf, len, "%llu%s%s", (unsigned long long)whole, frac, u->name);
}

void vn_fmt_time(uint64_t ns, char *buf, size_t len)
{
	static const struct unit desc[] = {
		{ "s", 1000000000, 1 }, { "ms", 1000000, 1 }, { "us", 1000, 1 },
		{ "ns", 1, 1 }, { NULL, 0, 0 }
	};

	fmt_scaled(ns, desc, buf, len);
}

void vn_fmt_rate(uint64_t bytes_s, char *buf, size_t len)
{
	static const struct unit desc[] = {
		{ "TB/s", 1000000000000ULL, 1 }, { "GB/s", 1000000000, 1 },
		{ "MB/s", 1000000, 1 }, { "KB/s", 1000, 1 }, { "B/s", 1, 1 },
		{ NULL, 0, 0 }
	};

	fmt_scaled(bytes_s, desc, buf, len);
}
