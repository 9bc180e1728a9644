// SPDX-License-Identifier: MIT
/*
 * Writing the snapshot document (docs/snapshot.md): the json-c tree of a
 * snapshot, its text, and the atomic write (mode 0600). The derived figures
 * (means, percentiles, rates, visit ratios) are computed here for readers;
 * the loader ignores them. Two things keep a large recording's peak memory
 * low: histogram arrays print straight from the snapshot's counts, and each
 * handler becomes JSON only while the document is printed.
 */
#include "snapshot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_int.h"

/* Decimals of derived figures: ns values to 0.1 ns, rates to 0.001/s. */
#define NS_DECIMALS 1
#define RATE_DECIMALS 3
#define VISIT_DECIMALS 6

/*
 * Histogram arrays are printed straight from the snapshot's counts when the
 * document is serialized: a json-c node per bucket costs ~100 bytes, tens of
 * MB for a thousand handlers. So the snapshot must outlive the JSON object,
 * and the arrays look empty to json-c's accessors (only their text is real).
 */
struct hist_view {
	const uint64_t *hist;	/* NULL: empty histogram */
	unsigned int first, last;
	bool bounds;		/* bucket edges (last + 2 values) rather than counts */
};

static int hist_view_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct hist_view *v = json_object_get_userdata(jso);
	char num[32];

	(void)level;
	(void)flags;
	printbuf_strappend(pb, "[");
	for (unsigned int b = v->first; v->hist && b <= v->last; b++) {
		unsigned long long x = v->bounds ? hist_bucket_lower(b) : v->hist[b];

		snprintf(num, sizeof(num), "%s%llu", b == v->first ? "" : ", ", x);
		printbuf_memappend(pb, num, (int)strlen(num));
	}
	if (v->hist && v->bounds) {
		snprintf(num, sizeof(num), ", %llu", (unsigned long long)hist_bucket_upper(v->last));
		printbuf_memappend(pb, num, (int)strlen(num));
	}
	printbuf_strappend(pb, "]");
	return 0;
}

static json_object *hist_array(const uint64_t *hist, unsigned int first, unsigned int last,
			       bool bounds)
{
	json_object *arr = json_object_new_array();
	struct hist_view *v = xmalloc(sizeof(*v));

	v->hist = hist;
	v->first = first;
	v->last = last;
	v->bounds = bounds;
	json_object_set_serializer(arr, hist_view_to_string, v, json_object_free_userdata);
	return arr;
}

static json_object *histogram_json(const uint64_t hist[HIST_BUCKETS])
{
	json_object *o = json_object_new_object();
	unsigned int first = 0, last = 0;
	const uint64_t *h = hist_range(hist, &first, &last) ? hist : NULL;

	jo_add(o, "bounds_ns", hist_array(h, first, last, true));
	jo_add(o, "counts", hist_array(h, first, last, false));
	return o;
}

static json_object *handler_json(const struct snap_handler *h)
{
	json_object *o = json_object_new_object(), *inst = json_object_new_array();
	struct handler_summary sum;

	snapshot_summarize(h, &sum);
	jo_add(o, "id", jo_str(str_or_empty(h->id)));
	jo_add(o, "bundle", jo_str(str_or_empty(h->bundle)));
	jo_add(o, "symbol", jo_str(h->symbol));
	jo_add(o, "binary", jo_str(h->binary));
	jo_add(o, "site_class", jo_str(h->site_class ? h->site_class : "unknown"));
	if (snapshot_site_classes(h->site_classes)) { /* only then: older documents stay as they were */
		json_object *cls = json_object_new_array();

		for (unsigned int c = 1; c < ARRAY_SIZE(snapshot_site_class_key); c++)
			if (h->site_classes & (1u << c))
				json_object_array_add(cls, jo_str(snapshot_site_class_key[c]));
		jo_add(o, "site_classes", cls);
	}
	jo_add(o, "probe_cost_ns", jo_num_exact(h->probe_cost_ns));
	jo_add(o, "serial", json_object_new_boolean(h->serial));
	jo_add(o, "calls", jo_u64(h->calls));
	jo_add(o, "incomplete", jo_u64(h->incomplete));
	jo_add(o, "entries", jo_u64(h->entries));
	jo_add(o, "inflight_mean", jo_num_exact(h->inflight_mean));
	/* Derived (ignored when loaded): null when there is nothing to average. */
	jo_add(o, "mean_ns", h->calls ? jo_num(sum.mean_ns, NS_DECIMALS) : NULL);
	jo_add(o, "min_ns", jo_u64(h->min_ns));
	jo_add(o, "max_ns", jo_u64(h->max_ns));
	jo_add(o, "stddev_ns", h->calls ? jo_num(sum.stddev_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p50_ns", h->calls ? jo_num(sum.p50_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p90_ns", h->calls ? jo_num(sum.p90_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p95_ns", h->calls ? jo_num(sum.p95_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p99_ns", h->calls ? jo_num(sum.p99_ns, NS_DECIMALS) : NULL);
	jo_add(o, "self_mean_ns", h->calls ? jo_num(sum.self_mean_ns, NS_DECIMALS) : NULL);
	jo_add(o, "oncpu_mean_ns",
	       h->calls && h->oncpu_measured ? jo_num(sum.oncpu_mean_ns, NS_DECIMALS) : NULL);
	/* Raw sums: what load, merge and the model use. */
	jo_add(o, "total_ns", jo_u64(h->total_ns));
	jo_add(o, "self_ns", jo_u64(h->self_ns));
	jo_add(o, "oncpu_ns", h->oncpu_measured ? jo_u64(h->oncpu_ns) : NULL);
	jo_add(o, "sumsq_ns2", jo_long_double(h->sumsq_ns2));
	jo_add(o, "histogram", histogram_json(h->hist));
	jo_add(o, "unwound", jo_u64(h->unwound));
	if (h->probe_measured) {
		jo_add(o, "probe_ns", jo_u64(h->probe_ns));
		jo_add(o, "self_probe_ns", jo_u64(h->self_probe_ns));
		jo_add(o, "nested_calls", jo_u64(h->nested_calls));
	}
	if (h->probe_cpu_measured)
		jo_add(o, "probe_cpu_ns", jo_u64(h->probe_cpu_ns));
	if (h->probe_wait_ns)
		jo_add(o, "probe_wait_ns", jo_u64(h->probe_wait_ns));
	if (h->runq_measured)
		jo_add(o, "runq_ns", jo_u64(h->runq_ns));
	if (h->arrival_measured) {
		jo_add(o, "arrival_calls", jo_u64(h->arrival.calls));
		jo_add(o, "arrival_ns", jo_u64(h->arrival.ns));
		jo_add(o, "arrival_probe_ns", jo_u64(h->arrival.probe_ns));
		jo_add(o, "arrival_self_ns", jo_u64(h->arrival.self_ns));
		jo_add(o, "arrival_self_probe_ns", jo_u64(h->arrival.self_probe_ns));
	}
	if (h->entry_site)
		jo_add(o, "entry_site", jo_str(h->entry_site));
	if (h->exit_site)
		jo_add(o, "exit_site", jo_str(h->exit_site));
	if (h->exits_fallback)
		jo_add(o, "exits_fallback", jo_str(h->exits_fallback));
	for (int i = 0; i < h->n_instances; i++) {
		const struct snap_instance_stats *is = &h->instances[i];
		json_object *io = json_object_new_object();

		jo_add(io, "pid", jo_int(is->pid));
		if (is->host)
			jo_add(io, "host", jo_str(is->host));
		jo_add(io, "calls", jo_u64(is->calls));
		jo_add(io, "total_ns", jo_u64(is->total_ns));
		json_object_array_add(inst, io);
	}
	jo_add(o, "instances", inst);
	return o;
}

static json_object *edge_json(const struct snap_edge *e, bool with_calls)
{
	json_object *o = json_object_new_object();

	jo_add(o, "from", jo_str(str_or_empty(e->from)));
	jo_add(o, "to", jo_str(str_or_empty(e->to)));
	if (with_calls) {
		jo_add(o, "calls", jo_u64(e->calls));
		jo_add(o, "declared", json_object_new_boolean(e->declared));
	}
	jo_add(o, "async", json_object_new_boolean(e->async));
	if (e->waits) /* only then: older documents stay as they were */
		jo_add(o, "waits", json_object_new_boolean(true));
	return o;
}

static json_object *flow_json(const struct snapshot *s, const struct snap_flow *f)
{
	json_object *o = json_object_new_object(), *visits = json_object_new_object();
	json_object *calls = json_object_new_object(), *declared = json_object_new_array();

	jo_add(o, "name", jo_str(str_or_empty(f->name)));
	jo_add(o, "entry", jo_str(str_or_empty(f->entry)));
	jo_add(o, "invocations", jo_u64(f->invocations));
	jo_add(o, "rate_per_s", s->duration_s > 0
			? jo_num((double)f->invocations / s->duration_s, RATE_DECIMALS) : NULL);
	for (int i = 0; i < f->n_visits; i++) {
		const struct snap_visit *v = &f->visits[i];
		double mean = f->invocations ? (double)v->calls / (double)f->invocations : 0;

		jo_add(visits, str_or_empty(v->handler), jo_num(mean, VISIT_DECIMALS));
		jo_add(calls, str_or_empty(v->handler), jo_u64(v->calls));
	}
	jo_add(o, "visits", visits);
	jo_add(o, "visit_calls", calls);
	for (int i = 0; i < f->n_declared; i++)
		json_object_array_add(declared, edge_json(&f->declared[i], false));
	jo_add(o, "declared_calls", declared);
	return o;
}

/* Time at each concurrency level, up to the highest one used. */
static json_object *conc_array(const uint64_t *levels)
{
	json_object *a = jo_inline_array(json_object_new_array());
	int last = SNAP_CONC_LEVELS - 1;

	while (last > 0 && !levels[last])
		last--;
	for (int k = 0; k <= last; k++)
		json_object_array_add(a, jo_u64(levels[k]));
	return a;
}

static json_object *wake_array(const uint64_t *v)
{
	json_object *a = jo_inline_array(json_object_new_array());

	for (int k = 0; k < SNAP_WAKE_BUCKETS; k++)
		json_object_array_add(a, jo_u64(v[k]));
	return a;
}

static json_object *bundle_json(const struct snap_bundle *b)
{
	json_object *o = json_object_new_object();
	json_object *pids = jo_inline_array(json_object_new_array());

	jo_add(o, "name", jo_str(str_or_empty(b->name)));
	for (int i = 0; i < b->n_pids; i++)
		json_object_array_add(pids, jo_int(b->pids[i]));
	jo_add(o, "pids", pids);
	jo_add(o, "threads", jo_int(b->threads));
	if (b->worker_name) {
		jo_add(o, "worker_name", jo_str(b->worker_name));
		jo_add(o, "named_threads", jo_int(b->named_threads));
	}
	jo_add(o, "instances", jo_int(b->instances));
	jo_add(o, "workers", jo_int(b->workers));
	jo_add(o, "serial", json_object_new_boolean(b->serial));
	if (b->conc_measured) {
		json_object *c = json_object_new_object();

		jo_add(c, "live_max", jo_int(b->live_max));
		jo_add(c, "inflight_max", jo_int(b->inflight_max));
		jo_add(c, "live_ns", conc_array(b->live_ns));
		jo_add(c, "inflight_ns", conc_array(b->inflight_ns));
		jo_add(o, "concurrency", c);
	}
	if (b->wake.measured) {
		json_object *w = json_object_new_object();

		jo_add(w, "periods", wake_array(b->wake.periods));
		jo_add(w, "calls", wake_array(b->wake.calls));
		jo_add(w, "cpu_ns", wake_array(b->wake.cpu_ns));
		jo_add(w, "probe_ns", wake_array(b->wake.probe_ns));
		jo_add(o, "wakeups", w);
	}
	if (b->cpu_measured)
		jo_add(o, "cpu_s", jo_num_exact(b->cpu_s));
	if (b->cpu_measured && b->sleeps)
		jo_add(o, "sleeps", jo_u64(b->sleeps));
	if (b->unprobed_measured) {
		json_object *u = json_object_new_object();

		jo_add(u, "seconds", jo_num_exact(b->unprobed_s));
		jo_add(u, "cpu_s", jo_num_exact(b->unprobed_cpu_s));
		jo_add(u, "late_calls", jo_u64(b->late_calls));
		jo_add(u, "late_s", jo_num_exact(b->late_s));
		if (b->unprobed_sleeps)
			jo_add(u, "sleeps", jo_u64(b->unprobed_sleeps));
		if (b->counted_calls) {
			jo_add(u, "counted_calls", jo_u64(b->counted_calls));
			jo_add(u, "counted_window_calls", jo_u64(b->counted_window_calls));
			jo_add(u, "counted_s", jo_num_exact(b->counted_s));
			jo_add(u, "counted_cpu_s", jo_num_exact(b->counted_cpu_s));
			jo_add(u, "counted_probe_s", jo_num_exact(b->counted_probe_s));
		}
		jo_add(o, "unprobed", u);
	}
	if (b->cpus > 0) {
		jo_add(o, "cpus", jo_num_exact(b->cpus));
		jo_add(o, "cpus_source", jo_str(b->cpus_source ? b->cpus_source : ""));
	}
	if (b->pid_threads || b->pid_hosts) {
		json_object *procs = json_object_new_array();

		for (int i = 0; i < b->n_pids; i++) {
			json_object *p = json_object_new_object();

			jo_add(p, "pid", jo_int(b->pids[i]));
			if (b->pid_hosts && b->pid_hosts[i])
				jo_add(p, "host", jo_str(b->pid_hosts[i]));
			if (b->pid_threads)
				jo_add(p, "threads", jo_int(b->pid_threads[i]));
			json_object_array_add(procs, p);
		}
		jo_add(o, "processes", procs);
	}
	return o;
}

/*
 * A handler that becomes its JSON only while the document is serialized:
 * built, printed into json-c's buffer at the array's indentation and freed,
 * one handler at a time. The whole tree of 1000 handlers with their
 * histograms is 7 MiB of json-c objects; their text is 2 MiB.
 */
static int lazy_handler_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	json_object *o = handler_json(json_object_get_userdata(jso));
	size_t len;
	const char *text = json_object_to_json_string_length(o, flags, &len);
	const char *p = text, *end = text + len;

	if (!text) {
		json_object_put(o);
		return -1;
	}
	/* text is at level 0: pretty output indents each line after the
	 * first by level more steps (json-c's indent()); strings hold no raw
	 * newline (escaped) */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl + 1 : end;

		printbuf_memappend(pb, p, (int)(stop - p));
		if (nl && (flags & JSON_C_TO_STRING_PRETTY)) {
			if (flags & JSON_C_TO_STRING_PRETTY_TAB)
				printbuf_memset(pb, -1, '\t', level);
			else
				printbuf_memset(pb, -1, ' ', level * 2);
		}
		p = stop;
	}
	json_object_put(o);
	return 0;
}

static json_object *lazy_handler(const struct snap_handler *h)
{
	json_object *o = json_object_new_boolean(0); /* the smallest json-c object */

	json_object_set_serializer(o, lazy_handler_to_string, (void *)h, NULL);
	return o;
}

/* lazy: the handlers as lazy_handler()s, for a document that is printed
 * at once while s stays as it is (snapshot_to_json, snapshot_write). */
static json_object *snapshot_json(const struct snapshot *s, bool lazy)
{
	json_object *o = json_object_new_object(), *arr, *cnt = json_object_new_object();

	jo_add(o, "flowprof_snapshot", jo_int(SNAPSHOT_VERSION));
	jo_add(o, "host", jo_str(str_or_empty(s->host)));
	if (s->n_hosts > 0) {
		arr = json_object_new_array();
		for (int i = 0; i < s->n_hosts; i++) {
			const struct snap_host *h = &s->hosts[i];
			json_object *ho = json_object_new_object();

			jo_add(ho, "name", jo_str(str_or_empty(h->name)));
			jo_add(ho, "kernel", jo_str(str_or_empty(h->kernel)));
			jo_add(ho, "nproc", jo_int(h->nproc));
			jo_add(ho, "probe_cost_ns", jo_num_exact(h->probe_cost_ns));
			json_object_array_add(arr, ho);
		}
		jo_add(o, "hosts", arr);
	}
	jo_add(o, "kernel", jo_str(str_or_empty(s->kernel)));
	jo_add(o, "started_at", jo_str(str_or_empty(s->started_at)));
	jo_add(o, "duration_s", jo_num_exact(s->duration_s));
	jo_add(o, "nproc", jo_int(s->nproc));
	if (s->host_cpu_measured)
		jo_add(o, "host_cpu_s", jo_num_exact(s->host_cpu_s));
	if (s->bundle_cpus_busy_measured)
		jo_add(o, "bundle_cpus_busy_s", jo_num_exact(s->bundle_cpus_busy_s));
	jo_add(o, "probe_cost_ns", jo_num_exact(s->probe_cost_ns));
	arr = json_object_new_object();
	for (size_t c = 0; c < ARRAY_SIZE(s->probe_cost); c++) {
		json_object *pc;

		if (!s->probe_cost[c].measured)
			continue;
		pc = json_object_new_object();
		jo_add(pc, "per_call_ns", jo_num_exact(s->probe_cost[c].per_call_ns));
		jo_add(pc, "in_window_ns", jo_num_exact(s->probe_cost[c].in_window_ns));
		jo_add(arr, snapshot_site_class_key[c], pc);
	}
	jo_add(o, "probe_cost", arr);
	if (s->calib_rounds) {
		json_object *cal = json_object_new_object(), *slots = json_object_new_object();

		jo_add(cal, "rounds", jo_int(s->calib_rounds));
		for (int k = 0; k < SNAP_SLOTS; k++) {
			const struct snap_slot_cost *c = &s->probe_slots[k];
			json_object *so;

			if (!c->measured || !snapshot_slot_key[k])
				continue;
			so = json_object_new_object();
			jo_add(so, "hit_ns", jo_num_exact(c->hit_ns));
			jo_add(so, "in_window_ns", jo_num_exact(c->in_window_ns));
			jo_add(so, "jitter_ns", jo_num_exact(c->jitter_ns));
			if (isfinite(c->in_window_jitter_ns))
				jo_add(so, "in_window_jitter_ns",
				       jo_num_exact(c->in_window_jitter_ns));
			jo_add(so, "first_hit_ns", jo_num_exact(c->first_hit_ns));
			jo_add(so, "behaves_as", jo_str(c->behaves_as ? c->behaves_as : "unknown"));
			jo_add(slots, snapshot_slot_key[k], so);
		}
		jo_add(cal, "slots", slots);
		jo_add(o, "calibration", cal);
	}
	jo_add(o, "attach_mode", jo_str(s->attach_mode));
	jo_add(o, "attach_ms", jo_num_exact(s->attach_ms));
	jo_add(o, "detach_ms", jo_num_exact(s->detach_ms));
	jo_add(o, "flow_file", jo_str(s->flow_file));
	for (int k = 0; k < SNAP_COUNTERS; k++)
		jo_add(cnt, snapshot_counters[k].name, jo_u64(snapshot_counter_value(s, k)));
	jo_add(o, "counters", cnt);

	arr = json_object_new_array();
	for (int i = 0; i < s->n_handlers; i++)
		json_object_array_add(arr, lazy ? lazy_handler(&s->handlers[i])
						: handler_json(&s->handlers[i]));
	jo_add(o, "handlers", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_edges; i++)
		json_object_array_add(arr, edge_json(&s->edges[i], true));
	jo_add(o, "edges", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_flows; i++)
		json_object_array_add(arr, flow_json(s, &s->flows[i]));
	jo_add(o, "flows", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_bundles; i++)
		json_object_array_add(arr, bundle_json(&s->bundles[i]));
	jo_add(o, "bundles", arr);
	return o;
}

json_object *snapshot_to_json_object(const struct snapshot *s)
{
	return snapshot_json(s, false);
}

char *snapshot_to_json(const struct snapshot *s, bool pretty)
{
	json_object *o = snapshot_json(s, true);
	char *text = jo_to_string(o, pretty);

	json_object_put(o);
	return text;
}

int snapshot_write(const struct snapshot *s, const char *path)
{
	json_object *o = snapshot_json(s, true);
	struct write_part parts[2] = { { NULL, 0 }, { "\n", 1 } };
	int r, e;

	/* json-c's text as it is, not a copy with the newline appended: at
	 * 1000 handlers that copy is 2.5 MiB more at the recording's peak. */
	parts[0].buf = jo_text(o, true, &parts[0].len);
	if (!parts[0].buf) { /* json-c failed: never a file of one newline over the old one */
		json_object_put(o);
		errno = ENOMEM;
		return -1;
	}
	r = write_file_atomic_parts(path, parts, 2, 0600);
	e = errno;
	json_object_put(o);
	errno = e;
	return r;
}
