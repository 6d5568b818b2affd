// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "vnodectl.h"

int vc_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vnodectl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int vc_call(struct vc *vc, const char *cmd, json_object *args,
	    json_object **data)
{
	struct vn_err err;

	if (vn_call(vc->sock, cmd, args, data, &err))
		return vc_fail(VC_ERR, "%s", err.msg);
	return VC_OK;
}

int vc_call_print(struct vc *vc, const char *cmd, json_object *args,
		  void (*print)(struct vc *vc, json_object *o, bool detail),
		  bool detail)
{
	json_object *data = NULL;
	size_t i;
	int ret;

	ret = vc_call(vc, cmd, args, &data);
	if (ret)
		return ret;
	if (json_object_is_type(data, json_type_array)) {
		vp_arr_begin(&vc->p, NULL);
		for (i = 0; i < json_object_array_length(data); i++)
			print(vc, json_object_array_get_idx(data, i), detail);
		vp_arr_end(&vc->p);
	} else {
		print(vc, data, detail);
	}
	vp_finish(&vc->p);
	/* after what was done, what it means */
	if (!vc->p.json && json_object_is_type(data, json_type_object)) {
		json_object *w;

		if (json_object_object_get_ex(data, "warnings", &w) &&
		    json_object_is_type(w, json_type_array))
			for (i = 0; i < json_object_array_length(w); i++)
				fprintf(stderr, "vnodectl: warning: %s\n",
					json_object_get_string(json_object_array_get_idx(w, i)));
	}
	json_object_put(data);
	return VC_OK;
}

void vc_print_warnings(struct vc *vc, json_object *o)
{
	json_object *w;

	if (vc->p.json && json_object_object_get_ex(o, "warnings", &w) && w)
		vp_json(&vc->p, "warnings", w, NULL);
}

/* The objects: vnodectl OBJECT COMMAND (iproute2 rdma.c's cmds[]). */
const struct vc_cmd vc_objects[] = {
	{ "component", "comp", NULL, vc_component_cmds, "memory and storage hosts" },
	{ "vnode", NULL, NULL, vc_vnode_cmds, "vNodes: cgroup + remote memory (+ a volume)" },
	{ "volume", "vol", NULL, vc_volume_cmds, "vNode volumes on storage hosts" },
	{ "disk", NULL, NULL, vc_disk_cmds, "the shared remote-memory swap disk" },
	{ "cluster", NULL, NULL, vc_cluster_cmds, "every host's capacity and reservations" },
	{ "fabric", NULL, NULL, vc_fabric_cmds, "fabric presets (component set --fabric)" },
	{ "sql", NULL, vc_sql, NULL, "\"SELECT ...\": read-only query of vnoded's state" },
	{ "monitor", NULL, vc_monitor, NULL, "[-n COUNT] [--all-hosts]: events as they happen (one per line)" },
	{ "explore", NULL, vc_explore, NULL,
	  "[OPTIONS] -- CMD: run CMD per protection configuration, recommend the safest" },
	{ NULL, NULL, NULL, NULL, NULL }
};

const struct vc_cmd *vc_find(const struct vc_cmd *tbl, const char *word)
{
	const struct vc_cmd *c;

	for (c = tbl; c->name; c++)
		if (!strcmp(c->name, word) || (c->alias && !strcmp(c->alias, word)))
			return c;
	return NULL;
}

static bool is_help(const char *w)
{
	return !strcmp(w, "help") || !strcmp(w, "-h") || !strcmp(w, "--help");
}

/* Run command c (argv[0] is its name) of object obj (NULL: a top-level
 * command); -h or --help among its arguments prints its usage instead. */
static int run(struct vc *vc, const char *obj, const struct vc_cmd *c, int argc,
	       char **argv)
{
	int i;

	if (c->sub)
		return vc_dispatch(vc, c->name, c->sub, argc - 1, argv + 1);
	/* (not in a command after "--": vnodectl explore -- CMD --help) */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: vnodectl %s%s%s %s\n", obj ? obj : "", obj ? " " : "",
			       c->name, c->help);
			return VC_OK;
		}
	return c->fn(vc, argc, argv);
}

int vc_dispatch(struct vc *vc, const char *obj, const struct vc_cmd *tbl,
		int argc, char **argv)
{
	const struct vc_cmd *c;

	if (argc < 1 || is_help(argv[0])) {
		FILE *f = argc < 1 ? stderr : stdout;

		fprintf(f, "Usage: vnodectl [-j] %s COMMAND\n", obj);
		for (c = tbl; c->name; c++) {
			fprintf(f, "  %s %s\n", c->name, c->help);
			if (c->alias)
				fprintf(f, "    ('%s' also works)\n", c->alias);
		}
		return argc < 1 ? VC_USAGE : VC_OK;
	}
	c = vc_find(tbl, argv[0]);
	if (c)
		return run(vc, obj, c, argc, argv);
	return vc_fail(VC_USAGE, "unknown command '%s %s' (try 'vnodectl %s help')",
		       obj, argv[0], obj);
}

int vc_run(struct vc *vc, int argc, char **argv)
{
	const struct vc_cmd *c = vc_find(vc_objects, argv[0]);
	char names[256] = "";
	size_t l = 0;

	if (c)
		return run(vc, NULL, c, argc, argv);
	for (c = vc_objects; c->name && l < sizeof(names); c++)
		l += (size_t)snprintf(names + l, sizeof(names) - l, "%s%s",
				      l ? ", " : "", c->name);
	return vc_fail(VC_USAGE, "unknown object '%s' (%s)", argv[0], names);
}

void vc_objects_help(FILE *f)
{
	const struct vc_cmd *o, *c;
	int w;

	for (o = vc_objects; o->name; o++) {
		w = fprintf(f, "  %s ", o->name);
		for (c = o->sub; c && c->name; c++)
			w += fprintf(f, "%s%s", c == o->sub ? "" : "|", c->name);
		fprintf(f, "%*s%s\n", w < 37 ? 37 - w : 1, "", o->help);
	}
}

void vc_print_fields(struct vc *vc, json_object *obj,
		     const struct vc_field *f)
{
	for (; f->key; f++) {
		json_object *v;

		if (!json_object_object_get_ex(obj, f->key, &v))
			continue;
		if (!v) {
			char key[64];

			/* a time that is not set: null under the same name (+_ms) */
			snprintf(key, sizeof(key), vc->p.json && f->kind == F_TIME ?
				 "%s_ms" : "%s", f->label);
			if (f->kind == F_STR || f->kind == F_TIME || f->kind == F_RATIO)
				vp_null(&vc->p, key);
			continue;
		}
		switch (f->kind) {
		case F_STR:
			vp_str(&vc->p, f->label, json_object_get_string(v));
			break;
		case F_U64:
			vp_u64(&vc->p, f->label, json_object_get_uint64(v));
			break;
		case F_I64:
			vp_i64(&vc->p, f->label, json_object_get_int64(v));
			break;
		case F_NS:
			vp_time(&vc->p, f->label, json_object_get_uint64(v));
			break;
		case F_US:
			if (vc->p.json) {
				char key[64];

				snprintf(key, sizeof(key), "%s_us", f->label);
				vp_u64(&vc->p, key, json_object_get_uint64(v));
			} else {
				vp_time(&vc->p, f->label, json_object_get_uint64(v) * 1000);
			}
			break;
		case F_RATE:
			vp_rate(&vc->p, f->label, json_object_get_uint64(v));
			break;
		case F_SIZE:
			vp_size(&vc->p, f->label, json_object_get_uint64(v));
			break;
		case F_BOOL:
			vp_bool(&vc->p, f->label, json_object_get_int64(v) != 0 ||
				json_object_get_boolean(v));
			break;
		case F_ONOFF: {
			bool on = json_object_get_int64(v) != 0 || json_object_get_boolean(v);

			if (vc->p.json)
				vp_bool(&vc->p, f->label, on);
			else
				vp_str(&vc->p, f->label, on ? "on" : "off");
			break;
		}
		case F_RATIO:
			if (vc->p.json)
				vp_double(&vc->p, f->label, json_object_get_double(v), "%.3f");
			else
				vp_double(&vc->p, f->label, json_object_get_double(v) * 100, "%.1f%%");
			break;
		case F_USER: {
			uid_t uid = (uid_t)json_object_get_int64(v);
			struct passwd *pw = getpwuid(uid);

			if (vc->p.json)
				vp_u64(&vc->p, f->label, uid);
			else if (pw)
				vp_str(&vc->p, f->label, pw->pw_name);
			else
				vp_u64(&vc->p, f->label, uid);
			break;
		}
		case F_HIST:
			if (vc->p.json) {
				vp_json(&vc->p, f->label, v, NULL);
			} else {
				/* one line, as vnode_proc writes it */
				char buf[1024];
				size_t len = 0;

				buf[0] = '\0';
				json_object_object_foreach(v, k, c) {
					const char *b = k + 3;

					len += (size_t)snprintf(buf + len, len < sizeof(buf) ?
						sizeof(buf) - len : 0, "%s%s%sus:%" PRIu64,
						len ? " " : "", strncmp(k, "gt_", 3) ? "<=" : ">",
						b, json_object_get_uint64(c));
					if (len >= sizeof(buf))
						break;
				}
				vp_str(&vc->p, f->label, buf);
			}
			break;
		case F_TIME: {
			time_t t = (time_t)(json_object_get_int64(v) / 1000);
			char buf[32];

			if (vc->p.json) {
				char key[64];

				snprintf(key, sizeof(key), "%s_ms", f->label);
				vp_i64(&vc->p, key, json_object_get_int64(v));
			} else {
				strftime(buf, sizeof(buf), "%FT%T", localtime(&t));
				vp_str(&vc->p, f->label, buf);
			}
			break;
		}
		}
	}
}
