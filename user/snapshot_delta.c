// SPDX-License-Identifier: MIT
#include "snapshot_delta.h"

#include <stdio.h>
#include <string.h>

#include "histogram_math.h"
#include "util.h"

/* *dst -= v, refusing to go below zero (start is not earlier than end). */
static int sub_u64(uint64_t *dst, uint64_t v, const char *what, const char *name, char *err,
		   size_t errlen)
{
	if (v > *dst) {
		snprintf(err, errlen, "%s of %s went down from %llu to %llu: the two snapshots "
			 "are not readings of one recording in order", what, name,
			 (unsigned long long)v, (unsigned long long)*dst);
		return -1;
	}
	*dst -= v;
	return 0;
}

static const struct snap_instance_stats *find_instance(const struct snap_handler *h, int pid)
{
	for (int i = 0; i < h->n_instances; i++)
		if (h->instances[i].pid == pid)
			return &h->instances[i];
	return NULL;
}

/* min and max of the window: the bounds of its outermost buckets, inside
 * the recording's exact extremes so far. */
static void window_extremes(struct snap_handler *d)
{
	unsigned int first, last;
	uint64_t lo, hi;

	if (!hist_range(d->hist, &first, &last) || !d->calls) {
		d->min_ns = d->max_ns = 0;
		return;
	}
	lo = hist_bucket_lower(first);
	hi = hist_bucket_upper(last) - 1;
	if (lo < d->min_ns)
		lo = d->min_ns;
	if (hi > d->max_ns)
		hi = d->max_ns;
	d->min_ns = lo;
	d->max_ns = hi < lo ? lo : hi;
}

static int handler_delta(struct snap_handler *d, const struct snap_handler *s, char *err,
			 size_t errlen)
{
	const char *n = d->id ? d->id : "?";

	if (sub_u64(&d->entries, s->entries, "entries", n, err, errlen) ||
	    sub_u64(&d->calls, s->calls, "calls", n, err, errlen) ||
	    sub_u64(&d->incomplete, s->incomplete, "incomplete calls", n, err, errlen) ||
	    sub_u64(&d->total_ns, s->total_ns, "total time", n, err, errlen) ||
	    sub_u64(&d->self_ns, s->self_ns, "self time", n, err, errlen) ||
	    sub_u64(&d->oncpu_ns, s->oncpu_ns, "on-CPU time", n, err, errlen))
		return -1;
	d->sumsq_ns2 = d->sumsq_ns2 > s->sumsq_ns2 ? d->sumsq_ns2 - s->sumsq_ns2 : 0;
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (sub_u64(&d->hist[b], s->hist[b], "a histogram bucket", n, err, errlen))
			return -1;
	for (int i = 0; i < d->n_instances; i++) {
		const struct snap_instance_stats *si = find_instance(s, d->instances[i].pid);

		if (si && (sub_u64(&d->instances[i].calls, si->calls, "process calls", n, err,
				   errlen) ||
			   sub_u64(&d->instances[i].total_ns, si->total_ns, "process time", n, err,
				   errlen)))
			return -1;
	}
	/* Nothing completed before the window: end's extremes are the window's. */
	if (s->calls)
		window_extremes(d);
	return 0;
}

static const struct snap_edge *find_edge(const struct snapshot *s, const struct snap_edge *e)
{
	for (int i = 0; i < s->n_edges; i++)
		if (!strcmp(s->edges[i].from, e->from) && !strcmp(s->edges[i].to, e->to))
			return &s->edges[i];
	return NULL;
}

static int flow_delta(struct snap_flow *d, const struct snap_flow *s, char *err, size_t errlen)
{
	if (sub_u64(&d->invocations, s->invocations, "invocations", d->name, err, errlen))
		return -1;
	for (int i = 0; i < d->n_visits; i++) {
		for (int j = 0; j < s->n_visits; j++) {
			if (strcmp(d->visits[i].handler, s->visits[j].handler))
				continue;
			if (sub_u64(&d->visits[i].calls, s->visits[j].calls, "visits",
				    d->visits[i].handler, err, errlen))
				return -1;
			break;
		}
	}
	return 0;
}

int snapshot_subtract(struct snapshot *d, const struct snapshot *start, char *err,
		      size_t errlen)
{
	for (int i = 0; i < d->n_handlers; i++) {
		const struct snap_handler *s = snapshot_handler(start, d->handlers[i].id);

		if (s && handler_delta(&d->handlers[i], s, err, errlen))
			return -1;
	}
	for (int i = 0; i < d->n_edges; i++) {
		const struct snap_edge *s = find_edge(start, &d->edges[i]);
		char name[256];

		snprintf(name, sizeof(name), "%s -> %s", d->edges[i].from, d->edges[i].to);
		if (s && sub_u64(&d->edges[i].calls, s->calls, "calls", name, err, errlen))
			return -1;
	}
	for (int i = 0; i < d->n_flows; i++) {
		const struct snap_flow *s = snapshot_flow(start, d->flows[i].name);

		if (s && flow_delta(&d->flows[i], s, err, errlen))
			return -1;
	}
#define SUB_COUNTER(f) \
	if (sub_u64(&d->f, start->f, "counter", #f, err, errlen)) \
		return -1
	SUB_COUNTER(unmatched_returns);
	SUB_COUNTER(depth_overflows);
	SUB_COUNTER(abandoned_frames);
	SUB_COUNTER(exited_in_call);
	SUB_COUNTER(edges_dropped);
	SUB_COUNTER(instances_dropped);
	SUB_COUNTER(threads_dropped);
#undef SUB_COUNTER
	d->version = SNAPSHOT_VERSION; /* as snapshot_merge's copy has it */
	return 0;
}

int snapshot_delta(const struct snapshot *end, const struct snapshot *start,
		   struct snapshot *out, char *err, size_t errlen)
{
	struct snapshot d = { 0 };

	if (snapshot_merge(&d, end, err, errlen))
		return -1;
	if (snapshot_subtract(&d, start, err, errlen)) {
		snapshot_free(&d);
		return -1;
	}
	*out = d;
	return 0;
}
