/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one command-line option parser of vnodectl and vnode-run.
 *
 * A NULL-terminated table of struct vn_opt says which options a command
 * takes and where each lands: a `const char *` (an option with a value)
 * or a `bool` (a flag; VN_OPT_F1: one that may be given once) at an
 * offset in the caller's struct.  A table may include another
 * (VN_OPT_TABLE), so vnodectl's `vnode create` and vnode-run share the
 * options of a new vNode.
 *
 * Accepted: `--opt VALUE`, `--opt=VALUE` (long options only), `-o VALUE`
 * for an alias.  The word after an option that takes a value is its value
 * even when it starts with '-' (`--mem -1G` then fails as a size).  Errors
 * (the only ones; -EINVAL with err set):
 *   unknown option '-x'
 *   --mem needs a value
 *   --force takes no value            (--force=1)
 *   --mem given twice                 (a flag may be repeated, but a
 *                                     VN_OPT_F1 one: --all-hosts given twice)
 *   unexpected argument 'y'           (more positional arguments than max_pos)
 *
 * Clients check syntax only: whether an option is known, has its value,
 * and whether a size or number is written correctly.  What the values
 * mean (cache <= mem, replicas 1..2, names, ranges) is checked by vnoded
 * alone, so every such error has one wording.  A closed list of words
 * (--protect) is checked by both, with one function (vn_protect_parse).
 */
#ifndef VN_OPTS_H
#define VN_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

enum vn_opt_type {
	VN_OPT_END = 0,
	VN_OPT_STR,		/* takes a value: const char * at off */
	VN_OPT_FLAG,		/* no value: bool at off */
	VN_OPT_FLAG1,		/* the same, given at most once */
	VN_OPT_TABLE,		/* the options of table, its struct at off */
};

struct vn_opt {
	const char *name;		/* "--mem" */
	const char *alias;		/* "-m" or NULL */
	enum vn_opt_type type;
	size_t off;
	const struct vn_opt *table;	/* VN_OPT_TABLE */
};

#define VN_OPT_S(name, alias, type, field) \
	{ name, alias, VN_OPT_STR, offsetof(type, field), NULL }
#define VN_OPT_F(name, alias, type, field) \
	{ name, alias, VN_OPT_FLAG, offsetof(type, field), NULL }
#define VN_OPT_F1(name, alias, type, field) \
	{ name, alias, VN_OPT_FLAG1, offsetof(type, field), NULL }
#define VN_OPT_T(tbl, type, field) \
	{ NULL, NULL, VN_OPT_TABLE, offsetof(type, field), tbl }
#define VN_OPT_END_ { NULL, NULL, VN_OPT_END, 0, NULL }

/* flags */
#define VN_OPTS_POSIX	0x1	/* the first non-option argument ends parsing
				 * (getopt's '+': vnodectl's globals, vnode-run) */

/*
 * Parse argv[0..argc) (argv[0] is an argument, not the program or verb)
 * by tbl into dst.  Non-option arguments go to pos[0..max_pos), their
 * number to *npos (pos and npos may be NULL when max_pos is 0).  Returns
 * the index of the first argument not parsed (argc; with VN_OPTS_POSIX
 * the first non-option, after a "--" if one came first), or -EINVAL.
 */
int vn_opts_parse(const struct vn_opt *tbl, unsigned int flags, void *dst,
		  int argc, char **argv, const char **pos, int max_pos,
		  int *npos, struct vn_err *err);

/* VAL of option NAME as an unsigned decimal number <= max ("--port must be
 * a number, got 'x'"); the range that matters is the daemon's to check. */
int vn_opt_uint(const char *name, const char *val, uint64_t max,
		uint64_t *out, struct vn_err *err);

/* The options of a new vNode that vnodectl `vnode create` and vnode-run
 * share. */
struct vn_create_opts {
	const char *mem, *cache, *replicas, *cpus;
	const char *storage, *stor_host, *volume, *mount;
	const char *headroom, *protect, *storage_protect;
	bool prefetch;
};
extern const struct vn_opt vn_create_opt_table[];

/* Their syntax into vnode.create arguments: sizes to bytes (--cache may be
 * a percentage of --mem), --replicas to a number, --prefetch to true,
 * --protect and --storage-protect checked to be one of their words.  --mem and --cache are
 * required.  Every other check is vnoded's. */
int vn_create_args(const struct vn_create_opts *o, json_object *args,
		   struct vn_err *err);

/*
 * A vNode's memory protection profile (vnode_proc's vnodes/<name>/protect):
 * none, crc (each copy of a page checked on swap-in) or aead.  The words
 * are checked alike by the clients, cluster.conf and vnoded (one
 * wording); whether the kernel offers the profile is vnoded's to find.
 */
enum vn_protect {
	VN_PROTECT_NONE = 0,
	VN_PROTECT_CRC,
	VN_PROTECT_AEAD,
};

#define VN_PROTECT_WORDS "none|crc|aead"

/* s into *p, or -EINVAL: "WHAT must be none, crc or aead, got 'S'". */
int vn_protect_parse(const char *what, const char *s, enum vn_protect *p,
		     struct vn_err *err);
const char *vn_protect_name(enum vn_protect p);

/*
 * A vNode volume's protection profile (vnode create --storage-protect):
 * none, integrity (dm-integrity, crc32c tags: a corrupted block reads as
 * EIO) or crypt (LUKS2 dm-crypt with authenticated encryption, its key on
 * the process host only).  Fixed when the volume is made (volumes.protect).
 */
enum vn_vol_protect {
	VN_VOL_PROTECT_NONE = 0,
	VN_VOL_PROTECT_INTEGRITY,
	VN_VOL_PROTECT_CRYPT,
};

#define VN_VOL_PROTECT_WORDS "none|integrity|crypt"

/* s into *p, or -EINVAL: "WHAT must be none, integrity or crypt, got 'S'". */
int vn_vol_protect_parse(const char *what, const char *s, enum vn_vol_protect *p,
			 struct vn_err *err);
const char *vn_vol_protect_name(enum vn_vol_protect p);

#endif /* VN_OPTS_H */
