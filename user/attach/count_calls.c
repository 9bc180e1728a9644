// SPDX-License-Identifier: MIT
/*
 * Counting calls without timing them, after the recording (record
 * --unprobed): once the recording's probes are gone, the bundles' CPU time
 * is measured again, and the CPU time a call costs needs the calls made
 * meanwhile. A load that waits for each answer sends more once the probes
 * go, so the recording's rate does not tell them. One entry probe per
 * counted handler (bpf/flowprof.bpf.c, count_entry) counts them, at the cost
 * of one hit a call, which is taken out again at its calibrated cost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach_int.h"
#include "base/base.h"
#include "flowprof.h"

int recorder_count_calls(struct recorder *r, const struct resolution *res, const bool *count,
			 char *err, size_t errlen)
{
	struct group_list gl = { 0 };
	int n = 0, e = 0;

	if (!r || !r->skel || !bpf_program__autoload(r->skel->progs.count_entry)) {
		snprintf(err, errlen, "no counting program loaded");
		return -EINVAL;
	}
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];
		enum cost_slot slot;
		uint64_t at;

		if (s->kind != PROBE_FUNCTION || s->handler < 0 ||
		    s->handler >= r->n_flow_handlers || !count[s->handler])
			continue;
		at = site_entry(r, s, &slot);
		site_list_add(&group_for(&gl, s->attach_path ? s->attach_path : s->binary, s->binary,
					 s->pid)->entries,
			      at, 0, COOKIE_WITH_SLOT(MAKE_COOKIE(s->handler, 0), slot));
		n++;
	}
	for (size_t i = 0; i < gl.n && !e; i++)
		e = attach_entries_with(r, r->skel->progs.count_entry, &gl.g[i], err, errlen);
	groups_free(&gl);
	return e ? e : n;
}

void recorder_stop_counting(struct recorder *r)
{
	if (r && r->skel)
		detach_all(r); /* the recording's own went before the counting began */
}

int recorder_counted(const struct recorder *r, int handler, struct counted *out)
{
	struct handler_stats *hs = xmalloc(sizeof(*hs));
	int e = handler < 0 ? -EINVAL : recorder_read_handler(r, (uint32_t)handler, hs);

	out->entries = e ? 0 : hs->entries;
	out->entry_ns = e ? 0 : hs->probe_cpu_ns;
	free(hs);
	return e ? -1 : 0;
}
