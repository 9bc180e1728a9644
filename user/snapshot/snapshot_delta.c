// SPDX-License-Identifier: MIT
#include "snapshot_delta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

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

/*
 * *dst -= v, at least 0. Concurrency time is read while the BPF programs
 * move it (bpf/state.bpf.h level_change: the level and its start change
 * before the time at the old level is added), and a reading adds the open
 * span at the level it sees: one taken in between lacks the old level's
 * last span, which the reading before counted, and a level's time can read
 * less than it did (a window stopped as it opened showed it). Such a
 * level's time in the window is taken as 0.
 */
static void sub_clamped(uint64_t *dst, uint64_t v)
{
	*dst = *dst > v ? *dst - v : 0;
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
	    sub_u64(&d->oncpu_ns, s->oncpu_ns, "on-CPU time", n, err, errlen) ||
	    sub_u64(&d->unwound, s->unwound, "unwound calls", n, err, errlen) ||
	    sub_u64(&d->probe_ns, s->probe_ns, "probe time", n, err, errlen) ||
	    sub_u64(&d->self_probe_ns, s->self_probe_ns, "probe time in self", n, err, errlen) ||
	    sub_u64(&d->nested_calls, s->nested_calls, "nested calls", n, err, errlen) ||
	    sub_u64(&d->probe_cpu_ns, s->probe_cpu_ns, "probes' CPU time", n, err, errlen) ||
	    sub_u64(&d->probe_wait_ns, s->probe_wait_ns, "waits in probes", n, err, errlen) ||
	    sub_u64(&d->runq_ns, s->runq_ns, "waits to run", n, err, errlen))
		return -1;
	d->arrival_measured = d->arrival_measured && s->arrival_measured;
	if (d->arrival_measured &&
	    (sub_u64(&d->arrival.calls, s->arrival.calls, "arrivals", n, err, errlen) ||
	     sub_u64(&d->arrival.ns, s->arrival.ns, "arrivals' time", n, err, errlen) ||
	     sub_u64(&d->arrival.probe_ns, s->arrival.probe_ns, "probe time in arrivals", n, err,
		     errlen) ||
	     sub_u64(&d->arrival.self_ns, s->arrival.self_ns, "arrivals' self time", n, err,
		     errlen) ||
	     sub_u64(&d->arrival.self_probe_ns, s->arrival.self_probe_ns,
		     "probe time in arrivals' self time", n, err, errlen)))
		return -1;
	if (!d->arrival_measured)
		memset(&d->arrival, 0, sizeof(d->arrival));
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

/* Concurrency time and CPU time of the window; its largest levels are the
 * highest ones with time in the window. */
static int bundle_delta(struct snap_bundle *d, const struct snap_bundle *s, char *err,
			size_t errlen)
{
	const char *n = d->name ? d->name : "?";

	if (d->conc_measured && s->conc_measured) {
		d->live_max = d->inflight_max = 0;
		for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
			sub_clamped(&d->live_ns[k], s->live_ns[k]);
			sub_clamped(&d->inflight_ns[k], s->inflight_ns[k]);
			if (d->live_ns[k])
				d->live_max = k;
			if (d->inflight_ns[k])
				d->inflight_max = k;
		}
	}
	if (d->wake.measured && s->wake.measured)
		for (int k = 0; k < SNAP_WAKE_BUCKETS; k++)
			if (sub_u64(&d->wake.periods[k], s->wake.periods[k], "wake-ups", n, err, errlen) ||
			    sub_u64(&d->wake.calls[k], s->wake.calls[k], "wake-ups", n, err, errlen) ||
			    sub_u64(&d->wake.cpu_ns[k], s->wake.cpu_ns[k], "wake-ups", n, err, errlen) ||
			    sub_u64(&d->wake.probe_ns[k], s->wake.probe_ns[k], "wake-ups", n, err,
				    errlen))
				return -1;
	if (d->cpu_measured && s->cpu_measured) {
		d->cpu_s = d->cpu_s > s->cpu_s ? d->cpu_s - s->cpu_s : 0;
		/* live threads' counts: one that exits takes its own along */
		d->sleeps = d->sleeps > s->sleeps && s->sleeps ? d->sleeps - s->sleeps : 0;
	}
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
	for (int k = 0; k < SNAP_COUNTERS; k++)
		if (sub_u64(snapshot_counter(d, k), snapshot_counter_value(start, k), "counter",
			    snapshot_counters[k].name, err, errlen))
			return -1;
	if (d->host_cpu_measured && start->host_cpu_measured)
		d->host_cpu_s = d->host_cpu_s > start->host_cpu_s ? d->host_cpu_s - start->host_cpu_s : 0;
	for (int i = 0; i < d->n_bundles; i++) {
		const struct snap_bundle *s = snapshot_bundle(start, d->bundles[i].name);

		if (s && bundle_delta(&d->bundles[i], s, err, errlen))
			return -1;
	}
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

/* What handler_delta() reads of a start handler. */
struct start_handler {
	char *id;
	uint64_t entries, calls, incomplete, total_ns, self_ns, oncpu_ns;
	uint64_t unwound, probe_ns, self_probe_ns, nested_calls, probe_cpu_ns, probe_wait_ns;
	uint64_t runq_ns;
	bool arrival_measured;
	struct snap_arrivals arrival;
	long double sumsq_ns2;
	unsigned int first;	/* hist[first .. first + n_hist) */
	unsigned int n_hist;
	uint64_t *hist;
	struct snap_instance_stats *instances;
	int n_instances;
};

void snapshot_start_take(struct snapshot_start *st, struct snapshot *s)
{
	memset(st, 0, sizeof(*st));
	st->n_handlers = s->n_handlers;
	st->handlers = xcalloc((size_t)s->n_handlers, sizeof(*st->handlers));
	for (int i = 0; i < s->n_handlers; i++) {
		struct snap_handler *h = &s->handlers[i];
		struct start_handler *c = &st->handlers[i];
		unsigned int first, last;

		c->id = h->id;
		h->id = NULL;
		c->entries = h->entries;
		c->calls = h->calls;
		c->incomplete = h->incomplete;
		c->total_ns = h->total_ns;
		c->self_ns = h->self_ns;
		c->oncpu_ns = h->oncpu_ns;
		c->unwound = h->unwound;
		c->probe_ns = h->probe_ns;
		c->self_probe_ns = h->self_probe_ns;
		c->nested_calls = h->nested_calls;
		c->probe_cpu_ns = h->probe_cpu_ns;
		c->probe_wait_ns = h->probe_wait_ns;
		c->runq_ns = h->runq_ns;
		c->arrival_measured = h->arrival_measured;
		c->arrival = h->arrival;
		c->sumsq_ns2 = h->sumsq_ns2;
		if (hist_range(h->hist, &first, &last)) {
			c->first = first;
			c->n_hist = last - first + 1;
			c->hist = xmalloc(c->n_hist * sizeof(uint64_t));
			memcpy(c->hist, h->hist + first, c->n_hist * sizeof(uint64_t));
		}
		c->instances = h->instances;
		c->n_instances = h->n_instances;
		h->instances = NULL;
		h->n_instances = 0;
	}
	/* the handlers' other strings (bundle, symbol, ...) go */
	snapshot_free(&(struct snapshot){ .handlers = s->handlers, .n_handlers = s->n_handlers });
	st->rest = *s;
	st->rest.handlers = NULL;
	st->rest.n_handlers = 0;
	memset(s, 0, sizeof(*s));
}

static const struct start_handler *start_handler(const struct snapshot_start *st, int i,
						  const char *id)
{
	if (i < st->n_handlers && !strcmp(st->handlers[i].id, id))
		return &st->handlers[i]; /* one recording: the same order */
	for (int k = 0; k < st->n_handlers; k++)
		if (!strcmp(st->handlers[k].id, id))
			return &st->handlers[k];
	return NULL;
}

int snapshot_subtract_start(struct snapshot *end, const struct snapshot_start *st, char *err,
			    size_t errlen)
{
	struct snap_handler *s = xmalloc(sizeof(*s)); /* one at a time, expanded */
	int rc = 0;

	for (int i = 0; i < end->n_handlers && !rc; i++) {
		const struct start_handler *c = start_handler(st, i, end->handlers[i].id);

		if (!c)
			continue;
		memset(s, 0, sizeof(*s));
		s->id = c->id;
		s->entries = c->entries;
		s->calls = c->calls;
		s->incomplete = c->incomplete;
		s->total_ns = c->total_ns;
		s->self_ns = c->self_ns;
		s->oncpu_ns = c->oncpu_ns;
		s->unwound = c->unwound;
		s->probe_ns = c->probe_ns;
		s->self_probe_ns = c->self_probe_ns;
		s->nested_calls = c->nested_calls;
		s->probe_cpu_ns = c->probe_cpu_ns;
		s->probe_wait_ns = c->probe_wait_ns;
		s->runq_ns = c->runq_ns;
		s->arrival_measured = c->arrival_measured;
		s->arrival = c->arrival;
		s->sumsq_ns2 = c->sumsq_ns2;
		if (c->n_hist)
			memcpy(s->hist + c->first, c->hist, c->n_hist * sizeof(uint64_t));
		s->instances = c->instances;
		s->n_instances = c->n_instances;
		rc = handler_delta(&end->handlers[i], s, err, errlen);
	}
	free(s);
	/* no handlers in the rest: edges, flows and counters */
	return rc ? rc : snapshot_subtract(end, &st->rest, err, errlen);
}

void snapshot_start_free(struct snapshot_start *st)
{
	for (int i = 0; i < st->n_handlers; i++) {
		struct start_handler *c = &st->handlers[i];

		free(c->id);
		free(c->hist);
		for (int k = 0; k < c->n_instances; k++)
			free(c->instances[k].host);
		free(c->instances);
	}
	free(st->handlers);
	snapshot_free(&st->rest);
	memset(st, 0, sizeof(*st));
}
