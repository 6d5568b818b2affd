// SPDX-License-Identifier: GPL-2.0
/*
 * vnode_xprt: input helpers shared by every vnode module (vnode/common.h):
 * configfs strings, sizes, addresses.
 */
#include "xprt_priv.h"

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/export.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/string.h>
#include <net/ipv6.h>

int vnode_cfs_get_str(const char *page, size_t count, char *buf, size_t size)
{
	if (count && page[count - 1] == '\n')
		count--;
	if (!count || count >= size || memchr(page, '\0', count))
		return -EINVAL;
	memcpy(buf, page, count);
	buf[count] = '\0';
	return 0;
}
EXPORT_SYMBOL_GPL(vnode_cfs_get_str);

int vnode_parse_size(const char *str, u64 *out)
{
	unsigned int shift = 0;
	const char *s = str;
	u64 v = 0;

	if (!s || !isdigit(*s))
		return -EINVAL;
	for (; isdigit(*s); s++) {
		if (check_mul_overflow(v, 10ULL, &v) ||
		    check_add_overflow(v, (u64)(*s - '0'), &v))
			return -EINVAL;
	}
	switch (toupper(*s)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift && *++s)
		return -EINVAL;
	if (check_shl_overflow(v, shift, out))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(vnode_parse_size);

/* The address forms are in vnode/common.h. */
int vnode_xprt_parse_addr(const char *str, u16 default_port,
			  struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char buf[VNODE_XPRT_PEER_LEN];
	const char *host, *port = NULL, *end;
	size_t len;
	u16 p = default_port;

	if (!str || !ss)
		return -EINVAL;
	len = strlen(str);
	if (len && str[len - 1] == '\n')
		len--;
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof(*ss));

	if (buf[0] == '[') {
		char *rb = strchr(buf, ']');

		if (!rb)
			return -EINVAL;
		*rb = '\0';
		host = buf + 1;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -EINVAL;
		if (!in6_pton(host, -1, sin6->sin6_addr.s6_addr, '\0', &end) ||
		    *end)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
	} else {
		char *c = strchr(buf, ':');

		if (c && strchr(c + 1, ':')) {
			/* Two or more colons: a bare IPv6 address. */
			if (!in6_pton(buf, -1, sin6->sin6_addr.s6_addr, '\0',
				      &end) || *end)
				return -EINVAL;
			sin6->sin6_family = AF_INET6;
		} else {
			if (c) {
				*c = '\0';
				port = c + 1;
			}
			if (!in4_pton(buf, -1, (u8 *)&sin->sin_addr.s_addr,
				      '\0', &end) || *end)
				return -EINVAL;
			sin->sin_family = AF_INET;
		}
	}

	if (port && (kstrtou16(port, 10, &p) || !p))
		return -EINVAL;
	if (!p)
		return -EINVAL;
	if (ss->ss_family == AF_INET)
		sin->sin_port = htons(p);
	else
		sin6->sin6_port = htons(p);
	return 0;
}
EXPORT_SYMBOL_GPL(vnode_xprt_parse_addr);

bool vnode_addr_same_host(const struct sockaddr_storage *a,
			  const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	switch (a->ss_family) {
	case AF_INET:
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	case AF_INET6:
		return ipv6_addr_equal(&((const struct sockaddr_in6 *)a)->sin6_addr,
				       &((const struct sockaddr_in6 *)b)->sin6_addr);
	default:
		return false;
	}
}
EXPORT_SYMBOL_GPL(vnode_addr_same_host);

bool vnode_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	if (!vnode_addr_same_host(a, b))
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
		       ((const struct sockaddr_in *)b)->sin_port;
	return ((const struct sockaddr_in6 *)a)->sin6_port ==
	       ((const struct sockaddr_in6 *)b)->sin6_port;
}
EXPORT_SYMBOL_GPL(vnode_addr_equal);

bool vnode_valid_identity(const char *s, size_t len)
{
	size_t i;

	if (!len || len >= VNODE_AUTH_IDENT_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}
EXPORT_SYMBOL_GPL(vnode_valid_identity);

#ifdef VNODE_FAULT_INJECTION
/* Testing only: vnode_fault() and its kin (common.h). */
static DECLARE_FAULT_ATTR(vnode_fail_attr);
static struct dentry *vnode_fail_dir;

bool vnode_should_fail(void)
{
	return should_fail(&vnode_fail_attr, 1);
}
EXPORT_SYMBOL_GPL(vnode_should_fail);

void vnode_fault_init(void)
{
	vnode_fail_dir = fault_create_debugfs_attr("fail_vnode", NULL,
						   &vnode_fail_attr);
	if (IS_ERR(vnode_fail_dir)) {
		pr_warn("no fail_vnode in debugfs: %ld\n",
			PTR_ERR(vnode_fail_dir));
		vnode_fail_dir = NULL;
	}
}

void vnode_fault_exit(void)
{
	debugfs_remove_recursive(vnode_fail_dir);
}
#endif
