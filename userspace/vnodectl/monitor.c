// SPDX-License-Identifier: GPL-2.0
/*
 * vnodectl monitor [-n COUNT] [--all-hosts]: vnoded's events as they are
 * logged, one per line, like `ip monitor` (vnoded/watch.h).  Text: the
 * time, the type, the object and its name, then the detail as JSON; -j:
 * each event as one JSON object per line.  --all-hosts: every process
 * host's events (cluster mode), the host after the time (-j: "host").
 * Runs until interrupted, COUNT events, or vnoded stops.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "ipc.h"
#include "vnodectl.h"

struct mon {
	struct vc *vc;
	int left;		/* events still wanted; 0 = no end */
	bool all_hosts;
};

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "-";
}

static int one_event(json_object *ev, void *priv)
{
	struct mon *m = priv;
	json_object *v;

	if (m->vc->json) {
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		int64_t ms = json_object_object_get_ex(ev, "ts_ms", &v) ?
			     json_object_get_int64(v) : 0;
		time_t t = (time_t)(ms / 1000);
		char ts[32];

		strftime(ts, sizeof(ts), "%FT%T", localtime(&t));
		printf("%s.%03d ", ts, (int)(ms % 1000));
		if (m->all_hosts)
			printf("%s ", jstr(ev, "host"));
		printf("%s %s %s %s\n", jstr(ev, "type"),
		       jstr(ev, "object"), jstr(ev, "name"),
		       json_object_object_get_ex(ev, "detail", &v) ?
		       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE) : "{}");
	}
	fflush(stdout);
	return m->left && !--m->left;
}

int vc_monitor(struct vc *vc, int argc, char **argv)
{
	struct mon m = { vc, 0, false };
	json_object *args = NULL;
	struct vn_err err;

	if (vc_parse_monitor(argc, argv, &m.left, &m.all_hosts, &err))
		return vc_fail(VC_USAGE, "%s", err.msg);
	if (m.all_hosts) {
		args = json_object_new_object();
		json_object_object_add(args, "all_hosts", json_object_new_boolean(1));
	}
	if (vn_stream(vc->sock, "events.watch", args, one_event, &m, &err))
		return vc_fail(VC_ERR, "%s", err.msg);
	return VC_OK;
}
