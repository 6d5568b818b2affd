// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <string.h>

#include "print.h"
#include "size.h"

void vp_init(struct vn_printer *p, FILE *out, bool json)
{
	memset(p, 0, sizeof(*p));
	p->json = json;
	p->out = out;
	p->pretty = true;
}

void vp_set_table(struct vn_printer *p, bool on)
{
	p->table = on;
	p->header_done = false;
}

/* ---- JSON side -------------------------------------------------------- */

static void j_add(struct vn_printer *p, const char *key, json_object *v)
{
	json_object *top;

	if (!p->depth) {
		json_object_put(p->root);
		p->root = v;
		return;
	}
	top = p->stack[p->depth - 1];
	if (json_object_is_type(top, json_type_array))
		json_object_array_add(top, v);
	else
		json_object_object_add(top, key ? key : "", v);
}

static void j_push(struct vn_printer *p, const char *key, json_object *v)
{
	j_add(p, key, v);
	if (p->depth < VP_MAX_DEPTH)
		p->stack[p->depth++] = v;
}

/* ---- text side -------------------------------------------------------- */

static bool t_in_array(struct vn_printer *p)
{
	return p->depth && p->stack[p->depth - 1] &&
	       json_object_is_type(p->stack[p->depth - 1], json_type_array);
}

static void t_newline(struct vn_printer *p)
{
	if (p->line_open)
		fputc('\n', p->out);
	p->line_open = false;
}

/* Lines are indented lazily, when their first item is printed. */
static void t_begin_item(struct vn_printer *p)
{
	int i;

	if (p->line_open) {
		fputc(' ', p->out);
		return;
	}
	for (i = 0; i < p->indent; i++)
		fputs("  ", p->out);
	p->line_open = true;
}

static void t_kv(struct vn_printer *p, const char *key, const char *val)
{
	if (p->table) {
		if (p->ncols++)
			fputc('\t', p->out);
		fputs(val, p->out);
		p->line_open = true;
		return;
	}
	t_begin_item(p);
	if (key && *key)	/* "key -" for an empty value keeps the pairs */
		fprintf(p->out, "%s %s", key, *val ? val : "-");
	else
		fputs(val, p->out);
}

/* "key:" on its own line; what follows is indented one level more. */
static void t_heading(struct vn_printer *p, const char *key)
{
	t_newline(p);
	t_begin_item(p);
	fprintf(p->out, "%s:", key ? key : "");
	t_newline(p);
	p->indent++;
}

/*
 * Text mode keeps a shadow stack of empty json arrays/objects only to know
 * whether we are inside an array; no values are stored in it.
 */
static void t_push(struct vn_printer *p, json_object *marker)
{
	if (p->depth < VP_MAX_DEPTH)
		p->stack[p->depth++] = marker;
	else
		json_object_put(marker);
}

static void t_pop(struct vn_printer *p)
{
	if (p->depth)
		json_object_put(p->stack[--p->depth]);
}

/* ---- API -------------------------------------------------------------- */

/*
 * Text layout: a top-level object or an array element starts a new line
 * (elements of nested arrays one level deeper); a nested object or array
 * gets a "key:" heading and its content indented below it.
 */
void vp_obj_begin(struct vn_printer *p, const char *key)
{
	if (p->json) {
		j_push(p, key, json_object_new_object());
		return;
	}
	if (p->table) {
		p->ncols = 0;
		t_newline(p);
		t_push(p, json_object_new_object());
		return;
	}
	if (!p->depth || t_in_array(p))
		t_newline(p);
	else
		t_heading(p, key);
	t_push(p, json_object_new_object());
}

void vp_obj_end(struct vn_printer *p)
{
	bool nested;

	if (p->json) {
		if (p->depth)
			p->depth--;
		return;
	}
	t_pop(p);
	nested = p->depth && !t_in_array(p);
	t_newline(p);
	if (nested && !p->table && p->indent)
		p->indent--;
}

void vp_arr_begin(struct vn_printer *p, const char *key)
{
	if (p->json) {
		j_push(p, key, json_object_new_array());
		return;
	}
	if (p->depth && !p->table)
		t_heading(p, key);
	t_push(p, json_object_new_array());
}

void vp_arr_end(struct vn_printer *p)
{
	if (p->json) {
		if (p->depth)
			p->depth--;
		return;
	}
	t_pop(p);
	t_newline(p);
	if (p->depth && !p->table && p->indent)
		p->indent--;
}

void vp_str(struct vn_printer *p, const char *key, const char *val)
{
	if (p->json) {
		j_add(p, key, val ? json_object_new_string(val) : NULL);
		return;
	}
	t_kv(p, key, val ? val : "-");
}

void vp_u64(struct vn_printer *p, const char *key, uint64_t val)
{
	char buf[32];

	if (p->json) {
		j_add(p, key, json_object_new_uint64(val));
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	t_kv(p, key, buf);
}

void vp_i64(struct vn_printer *p, const char *key, int64_t val)
{
	char buf[32];

	if (p->json) {
		j_add(p, key, json_object_new_int64(val));
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, val);
	t_kv(p, key, buf);
}

void vp_bool(struct vn_printer *p, const char *key, bool val)
{
	if (p->json) {
		j_add(p, key, json_object_new_boolean(val));
		return;
	}
	t_kv(p, key, val ? "yes" : "no");
}

void vp_null(struct vn_printer *p, const char *key)
{
	if (p->json) {
		j_add(p, key, NULL);
		return;
	}
	t_kv(p, key, "-");
}

void vp_double(struct vn_printer *p, const char *key, double val,
	       const char *fmt)
{
	char buf[64];

	if (p->json) {
		snprintf(buf, sizeof(buf), "%.3f", val);
		j_add(p, key, json_object_new_double_s(val, buf));
		return;
	}
	snprintf(buf, sizeof(buf), fmt, val);
	t_kv(p, key, buf);
}


/* A number whose unit goes into its JSON name; text: fmt's form. */
static void unit_num(struct vn_printer *p, const char *key, uint64_t v,
		     const char *suffix, void (*fmt)(uint64_t, char *, size_t))
{
	char buf[64];

	if (p->json) {
		snprintf(buf, sizeof(buf), "%s%s", key ? key : "", suffix);
		j_add(p, key ? buf : NULL, json_object_new_uint64(v));
		return;
	}
	fmt(v, buf, sizeof(buf));
	t_kv(p, key, buf);
}

void vp_time(struct vn_printer *p, const char *key, uint64_t ns)
{
	unit_num(p, key, ns, "_ns", vn_fmt_time);
}

void vp_rate(struct vn_printer *p, const char *key, uint64_t bytes_s)
{
	unit_num(p, key, bytes_s, "_bytes_s", vn_fmt_rate);
}

/* the unit in the name: "mem_bytes" */
void vp_size(struct vn_printer *p, const char *key, uint64_t bytes)
{
	unit_num(p, key, bytes, "_bytes", vn_fmt_size);
}

void vp_str_line(struct vn_printer *p, const char *key, const char *val)
{
	if (p->json || p->table) {
		vp_str(p, key, val);
		return;
	}
	t_newline(p);
	p->indent++;
	t_kv(p, key, val ? val : "-");
	t_newline(p);
	p->indent--;
}

static bool is_size_key(const char *key, const char *const *size_keys)
{
	for (; key && size_keys && *size_keys; size_keys++)
		if (!strcmp(key, *size_keys))
			return true;
	return false;
}

void vp_json(struct vn_printer *p, const char *key, json_object *val,
	     const char *const *size_keys)
{
	size_t i, n;

	switch (json_object_get_type(val)) {
	case json_type_null:
		vp_null(p, key);
		break;
	case json_type_boolean:
		vp_bool(p, key, json_object_get_boolean(val));
		break;
	case json_type_double:
		vp_double(p, key, json_object_get_double(val), "%.3f");
		break;
	case json_type_int:
		if (is_size_key(key, size_keys))
			vp_size(p, key, json_object_get_uint64(val));
		else if (json_object_get_int64(val) < 0)
			vp_i64(p, key, json_object_get_int64(val));
		else
			vp_u64(p, key, json_object_get_uint64(val));
		break;
	case json_type_string:
		vp_str(p, key, json_object_get_string(val));
		break;
	case json_type_array:
		vp_arr_begin(p, key);
		n = json_object_array_length(val);
		for (i = 0; i < n; i++)
			vp_json(p, NULL, json_object_array_get_idx(val, i),
				size_keys);
		vp_arr_end(p);
		break;
	case json_type_object:
		if (p->table && !p->json && !p->header_done) {
			bool first = true;

			t_newline(p);
			json_object_object_foreach(val, k, v) {
				(void)v;
				fprintf(p->out, "%s%s", first ? "" : "\t", k);
				first = false;
			}
			fputc('\n', p->out);
			p->header_done = true;
		}
		vp_obj_begin(p, key);
		{
			json_object_object_foreach(val, k, v)
				vp_json(p, k, v, size_keys);
		}
		vp_obj_end(p);
		break;
	}
}

void vp_finish(struct vn_printer *p)
{
	if (p->json) {
		if (p->root) {
			fprintf(p->out, "%s\n",
				json_object_to_json_string_ext(p->root,
					p->pretty ? JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_SPACED :
						    JSON_C_TO_STRING_PLAIN));
			json_object_put(p->root);
			p->root = NULL;
		}
		p->depth = 0;
		fflush(p->out);
		return;
	}
	while (p->depth)
		t_pop(p);
	t_newline(p);
	fflush(p->out);
}
