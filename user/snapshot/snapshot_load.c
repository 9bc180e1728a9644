// SPDX-License-Identifier: MIT
/*
 * Loading the snapshot document (docs/snapshot.md): json-c parses the text
 * (strict, UTF-8 checked), then each key goes into its field of struct
 * snapshot. The loader trusts nothing it reads: every value goes through a
 * reader of snapshot_validate.c, which checks it and names the field in
 * the error. What ties an item's values together (unwound within
 * incomplete, min_ns within max_ns, processes parallel to pids) and names
 * that must be unique are checked here, as each item is read. Derived
 * figures and keys this flowprof does not know are ignored. A failed load
 * leaves the snapshot zeroed.
 */
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_int.h"

static int load_instances(struct loader *ld, json_object *o, const char *hctx,
			  struct snap_handler *h)
{
	json_object *arr;
	char ctx[96];
	int r = doc_get_typed(ld, o, hctx, "instances", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (doc_array_len(ld, arr, hctx, "instances", &h->n_instances))
		return -1;
	h->instances = xcalloc((size_t)h->n_instances, sizeof(*h->instances));
	for (int i = 0; i < h->n_instances; i++) {
		struct snap_instance_stats *is = &h->instances[i];
		json_object *io = json_object_array_get_idx(arr, i);

		snprintf(ctx, sizeof(ctx), "%s.instances[%d]", hctx, i);
		if (doc_expect_object(ld, io, ctx) ||
		    doc_get_int(ld, io, ctx, "pid", true, &is->pid) ||
		    doc_get_str(ld, io, ctx, "host", false, true, false, &is->host) ||
		    doc_get_u64(ld, io, ctx, "calls", true, &is->calls) ||
		    doc_get_u64(ld, io, ctx, "total_ns", true, &is->total_ns))
			return -1;
	}
	return 0;
}

/* "site_classes": ["nop5", "single-step"], the classes of a handler's probe
 * points when they differ. */
static int load_site_classes(struct loader *ld, json_object *o, const char *ctx,
			     struct snap_handler *h)
{
	json_object *arr;
	int n, r = doc_get_typed(ld, o, ctx, "site_classes", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (doc_array_len(ld, arr, ctx, "site_classes", &n))
		return -1;
	for (int i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *name = json_object_is_type(v, json_type_string)
					   ? json_object_get_string(v) : NULL;
		unsigned int c = 1;

		while (name && c < ARRAY_SIZE(snapshot_site_class_key) &&
		       strcmp(name, snapshot_site_class_key[c]))
			c++;
		if (!name || c == ARRAY_SIZE(snapshot_site_class_key))
			return doc_fail(ld, ctx, "site_classes", "expected nop5, emulated or "
					"single-step (element %d)", i);
		h->site_classes |= 1u << c;
	}
	return 0;
}

static int load_handler(struct loader *ld, json_object *o, const char *ctx,
			struct snap_handler *h)
{
	json_object *v;
	bool has_entries, has_self;

	if (doc_expect_object(ld, o, ctx) ||
	    doc_get_str(ld, o, ctx, "id", true, false, true, &h->id) ||
	    doc_get_str(ld, o, ctx, "bundle", true, false, true, &h->bundle) ||
	    doc_get_str(ld, o, ctx, "symbol", true, true, false, &h->symbol) ||
	    doc_get_str(ld, o, ctx, "binary", true, true, false, &h->binary) ||
	    doc_get_str(ld, o, ctx, "site_class", false, true, false, &h->site_class) ||
	    load_site_classes(ld, o, ctx, h) ||
	    doc_get_number(ld, o, ctx, "probe_cost_ns", false, &h->probe_cost_ns) ||
	    doc_get_number(ld, o, ctx, "inflight_mean", false, &h->inflight_mean) ||
	    doc_get_bool(ld, o, ctx, "serial", &h->serial) ||
	    doc_get_u64(ld, o, ctx, "calls", true, &h->calls) ||
	    doc_get_u64(ld, o, ctx, "incomplete", true, &h->incomplete) ||
	    doc_get_u64(ld, o, ctx, "min_ns", true, &h->min_ns) ||
	    doc_get_u64(ld, o, ctx, "max_ns", true, &h->max_ns) ||
	    doc_get_u64(ld, o, ctx, "total_ns", true, &h->total_ns) ||
	    doc_get_sumsq(ld, o, ctx, &h->sumsq_ns2) ||
	    doc_get_histogram(ld, o, ctx, h->hist) ||
	    load_instances(ld, o, ctx, h))
		return -1;
	has_entries = json_object_object_get_ex(o, "entries", NULL);
	has_self = json_object_object_get_ex(o, "self_ns", NULL);
	if (doc_get_u64(ld, o, ctx, "entries", false, &h->entries) ||
	    doc_get_u64(ld, o, ctx, "self_ns", false, &h->self_ns))
		return -1;
	if (!has_entries)
		h->entries = h->calls + h->incomplete;
	if (!has_self)
		h->self_ns = h->total_ns;
	h->probe_measured = json_object_object_get_ex(o, "probe_ns", NULL);
	h->probe_cpu_measured = json_object_object_get_ex(o, "probe_cpu_ns", NULL);
	h->arrival_measured = json_object_object_get_ex(o, "arrival_calls", NULL);
	h->runq_measured = json_object_object_get_ex(o, "runq_ns", NULL);
	if (doc_get_u64(ld, o, ctx, "unwound", false, &h->unwound) ||
	    doc_get_u64(ld, o, ctx, "probe_ns", false, &h->probe_ns) ||
	    doc_get_u64(ld, o, ctx, "self_probe_ns", false, &h->self_probe_ns) ||
	    doc_get_u64(ld, o, ctx, "nested_calls", false, &h->nested_calls) ||
	    doc_get_u64(ld, o, ctx, "probe_cpu_ns", false, &h->probe_cpu_ns) ||
	    doc_get_u64(ld, o, ctx, "probe_wait_ns", false, &h->probe_wait_ns) ||
	    doc_get_u64(ld, o, ctx, "runq_ns", false, &h->runq_ns) ||
	    doc_get_u64(ld, o, ctx, "arrival_calls", false, &h->arrival.calls) ||
	    doc_get_u64(ld, o, ctx, "arrival_ns", false, &h->arrival.ns) ||
	    doc_get_u64(ld, o, ctx, "arrival_probe_ns", false, &h->arrival.probe_ns) ||
	    doc_get_u64(ld, o, ctx, "arrival_self_ns", false, &h->arrival.self_ns) ||
	    doc_get_u64(ld, o, ctx, "arrival_self_probe_ns", false, &h->arrival.self_probe_ns) ||
	    doc_get_str(ld, o, ctx, "entry_site", false, true, false, &h->entry_site) ||
	    doc_get_str(ld, o, ctx, "exit_site", false, true, false, &h->exit_site) ||
	    doc_get_str(ld, o, ctx, "exits_fallback", false, true, false, &h->exits_fallback))
		return -1;
	if (h->unwound > h->incomplete)
		return doc_fail(ld, ctx, "unwound", "%llu is greater than incomplete (%llu)",
				(unsigned long long)h->unwound, (unsigned long long)h->incomplete);
	/* oncpu_ns: null or absent when the kernel did not let us measure it. */
	if (doc_lookup(ld, o, ctx, "oncpu_ns", false, &v) > 0 && v) {
		if (doc_as_u64(ld, v, ctx, "oncpu_ns", &h->oncpu_ns))
			return -1;
		h->oncpu_measured = true;
	}
	if (!h->site_class)
		h->site_class = xstrdup("unknown");
	h->site_classes = snapshot_site_classes(snap_site_mask(h));
	if (h->calls && h->min_ns > h->max_ns)
		return doc_fail(ld, ctx, "min_ns", "%llu is greater than max_ns (%llu)",
				(unsigned long long)h->min_ns, (unsigned long long)h->max_ns);
	return 0;
}

static int load_edge(struct loader *ld, json_object *o, const char *ctx, struct lh_table *handlers,
		     bool with_calls, struct snap_edge *e)
{
	if (doc_expect_object(ld, o, ctx) ||
	    doc_get_str(ld, o, ctx, "from", true, false, true, &e->from) ||
	    doc_get_str(ld, o, ctx, "to", true, false, true, &e->to) ||
	    (with_calls && doc_get_u64(ld, o, ctx, "calls", true, &e->calls)) ||
	    (with_calls && doc_get_bool(ld, o, ctx, "declared", &e->declared)) ||
	    doc_get_bool(ld, o, ctx, "async", &e->async) ||
	    doc_get_bool(ld, o, ctx, "waits", &e->waits) ||
	    doc_check_handler_ref(ld, handlers, ctx, "from", e->from) ||
	    doc_check_handler_ref(ld, handlers, ctx, "to", e->to))
		return -1;
	return 0;
}

/* visit_calls {handler: count} when present; else the counts are rebuilt
 * from visits {handler: mean} x invocations (documents from other tools). */
static int load_visits(struct loader *ld, json_object *o, const char *ctx,
		       struct lh_table *handlers, struct snap_flow *f)
{
	json_object *visits, *calls, *src;
	char vctx[160];
	int i = 0;

	if (doc_get_typed(ld, o, ctx, "visits", true, json_type_object, &visits) < 0 ||
	    doc_get_typed(ld, o, ctx, "visit_calls", false, json_type_object, &calls) < 0)
		return -1;
	src = calls ? calls : visits;
	f->n_visits = json_object_object_length(src);
	f->visits = xcalloc((size_t)f->n_visits, sizeof(*f->visits));
	json_object_object_foreach(src, key, val) {
		struct snap_visit *v = &f->visits[i++];

		snprintf(vctx, sizeof(vctx), "%s.%s", ctx, calls ? "visit_calls" : "visits");
		v->handler = xstrdup(key);
		if (doc_check_handler_ref(ld, handlers, vctx, key, key))
			return -1;
		if (calls) {
			if (doc_as_u64(ld, val, vctx, key, &v->calls))
				return -1;
		} else {
			double mean;

			if (doc_as_number(ld, val, vctx, key, &mean))
				return -1;
			if (mean * (double)f->invocations >= 18446744073709551615.0)
				return doc_fail(ld, vctx, key, "too large");
			v->calls = (uint64_t)llround(mean * (double)f->invocations);
		}
	}
	return 0;
}

static int load_flow(struct loader *ld, json_object *o, const char *ctx, struct lh_table *handlers,
		     struct snap_flow *f)
{
	json_object *declared;
	char dctx[128];
	int r;

	if (doc_expect_object(ld, o, ctx) ||
	    doc_get_str(ld, o, ctx, "name", true, false, true, &f->name) ||
	    doc_get_str(ld, o, ctx, "entry", true, false, true, &f->entry) ||
	    doc_check_handler_ref(ld, handlers, ctx, "entry", f->entry) ||
	    doc_get_u64(ld, o, ctx, "invocations", true, &f->invocations) ||
	    load_visits(ld, o, ctx, handlers, f))
		return -1;
	r = doc_get_typed(ld, o, ctx, "declared_calls", false, json_type_array, &declared);
	if (r <= 0)
		return r;
	if (doc_array_len(ld, declared, ctx, "declared_calls", &f->n_declared))
		return -1;
	f->declared = xcalloc((size_t)f->n_declared, sizeof(*f->declared));
	for (int i = 0; i < f->n_declared; i++) {
		snprintf(dctx, sizeof(dctx), "%s.declared_calls[%d]", ctx, i);
		f->declared[i].declared = true;
		if (load_edge(ld, json_object_array_get_idx(declared, i), dctx, handlers, false,
			      &f->declared[i]))
			return -1;
	}
	return 0;
}

static int load_processes(struct loader *ld, json_object *o, const char *bctx,
			  struct snap_bundle *b)
{
	json_object *arr;
	char ctx[96];
	int n = 0, with_threads = 0, with_hosts = 0, r;

	r = doc_get_typed(ld, o, bctx, "processes", false, json_type_array, &arr);
	if (r <= 0)
		return r;
	if (doc_array_len(ld, arr, bctx, "processes", &n))
		return -1;
	if (n != b->n_pids)
		return doc_fail(ld, bctx, "processes", "%d entries for %d pids (one per pid "
				"expected)", n, b->n_pids);
	b->pid_threads = xcalloc((size_t)n, sizeof(*b->pid_threads));
	b->pid_hosts = xcalloc((size_t)n, sizeof(*b->pid_hosts));
	for (int i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		int pid = -1;

		snprintf(ctx, sizeof(ctx), "%s.processes[%d]", bctx, i);
		if (doc_expect_object(ld, p, ctx) || doc_get_int(ld, p, ctx, "pid", true, &pid) ||
		    doc_get_str(ld, p, ctx, "host", false, true, false, &b->pid_hosts[i]))
			return -1;
		if (pid != b->pids[i])
			return doc_fail(ld, ctx, "pid", "%d does not match pids[%d] (%d)", pid, i,
					b->pids[i]);
		b->pid_threads[i] = -1;
		if (doc_get_int(ld, p, ctx, "threads", false, &b->pid_threads[i]))
			return -1;
		with_threads += b->pid_threads[i] >= 0;
		with_hosts += b->pid_hosts[i] != NULL;
	}
	/* Per-process threads are all known, or not used at all. */
	if (with_threads != n) {
		free(b->pid_threads);
		b->pid_threads = NULL;
	}
	if (!with_hosts) {
		free(b->pid_hosts);
		b->pid_hosts = NULL;
	}
	return 0;
}

static int load_counts(struct loader *ld, json_object *c, const char *ctx, const char *key,
		       uint64_t *levels, int max)
{
	json_object *arr;
	char ectx[96];
	int n, r = doc_get_typed(ld, c, ctx, key, true, json_type_array, &arr);

	if (r < 0 || doc_array_len(ld, arr, ctx, key, &n))
		return -1;
	if (n > max)
		return doc_fail(ld, ctx, key, "more than %d levels", max);
	for (int k = 0; k < n; k++) {
		snprintf(ectx, sizeof(ectx), "%s.%s[%d]", ctx, key, k);
		if (doc_as_u64(ld, json_object_array_get_idx(arr, k), ectx, NULL, &levels[k]))
			return -1;
	}
	return 0;
}

/* "concurrency": {"live_max", "inflight_max", "live_ns": [...], "inflight_ns": [...]} */
static int load_concurrency(struct loader *ld, json_object *o, const char *bctx,
			    struct snap_bundle *b)
{
	json_object *c;
	char ctx[96];
	int r = doc_get_typed(ld, o, bctx, "concurrency", false, json_type_object, &c);

	if (r <= 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s.concurrency", bctx);
	if (doc_get_int(ld, c, ctx, "live_max", true, &b->live_max) ||
	    doc_get_int(ld, c, ctx, "inflight_max", true, &b->inflight_max) ||
	    load_counts(ld, c, ctx, "live_ns", b->live_ns, SNAP_CONC_LEVELS) ||
	    load_counts(ld, c, ctx, "inflight_ns", b->inflight_ns, SNAP_CONC_LEVELS))
		return -1;
	b->conc_measured = true;
	return 0;
}

/* "wakeups": {"periods", "calls", "cpu_ns", "probe_ns": [...]} */
static int load_wakeups(struct loader *ld, json_object *o, const char *bctx,
			struct snap_bundle *b)
{
	json_object *w;
	char ctx[96];
	int r = doc_get_typed(ld, o, bctx, "wakeups", false, json_type_object, &w);

	if (r <= 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s.wakeups", bctx);
	if (load_counts(ld, w, ctx, "periods", b->wake.periods, SNAP_WAKE_BUCKETS) ||
	    load_counts(ld, w, ctx, "calls", b->wake.calls, SNAP_WAKE_BUCKETS) ||
	    load_counts(ld, w, ctx, "cpu_ns", b->wake.cpu_ns, SNAP_WAKE_BUCKETS) ||
	    load_counts(ld, w, ctx, "probe_ns", b->wake.probe_ns, SNAP_WAKE_BUCKETS))
		return -1;
	b->wake.measured = true;
	return 0;
}

static int load_unprobed(struct loader *ld, json_object *o, const char *bctx,
			 struct snap_bundle *b)
{
	json_object *u;
	char ctx[96];
	int r = doc_get_typed(ld, o, bctx, "unprobed", false, json_type_object, &u);

	if (r <= 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s.unprobed", bctx);
	if (doc_get_number(ld, u, ctx, "seconds", true, &b->unprobed_s) ||
	    doc_get_number(ld, u, ctx, "cpu_s", true, &b->unprobed_cpu_s) ||
	    doc_get_u64(ld, u, ctx, "late_calls", true, &b->late_calls) ||
	    doc_get_number(ld, u, ctx, "late_s", true, &b->late_s) ||
	    doc_get_u64(ld, u, ctx, "sleeps", false, &b->unprobed_sleeps) ||
	    doc_get_u64(ld, u, ctx, "counted_calls", false, &b->counted_calls) ||
	    doc_get_u64(ld, u, ctx, "counted_window_calls", false, &b->counted_window_calls) ||
	    doc_get_number(ld, u, ctx, "counted_s", false, &b->counted_s) ||
	    doc_get_number(ld, u, ctx, "counted_cpu_s", false, &b->counted_cpu_s) ||
	    doc_get_number(ld, u, ctx, "counted_probe_s", false, &b->counted_probe_s))
		return -1;
	b->unprobed_measured = true;
	return 0;
}

static int load_bundle(struct loader *ld, json_object *o, const char *ctx, struct snap_bundle *b)
{
	json_object *pids;
	char pctx[96];

	if (doc_expect_object(ld, o, ctx) ||
	    doc_get_str(ld, o, ctx, "name", true, false, true, &b->name) ||
	    doc_get_typed(ld, o, ctx, "pids", true, json_type_array, &pids) < 0 ||
	    doc_array_len(ld, pids, ctx, "pids", &b->n_pids))
		return -1;
	b->pids = xcalloc((size_t)b->n_pids, sizeof(*b->pids));
	for (int i = 0; i < b->n_pids; i++) {
		snprintf(pctx, sizeof(pctx), "%s.pids[%d]", ctx, i);
		if (doc_as_int(ld, json_object_array_get_idx(pids, i), pctx, NULL, &b->pids[i]))
			return -1;
	}
	if (doc_get_int(ld, o, ctx, "threads", true, &b->threads) ||
	    doc_get_str(ld, o, ctx, "worker_name", false, true, false, &b->worker_name) ||
	    doc_get_int(ld, o, ctx, "named_threads", false, &b->named_threads) ||
	    doc_get_int(ld, o, ctx, "instances", false, &b->instances) ||
	    doc_get_int(ld, o, ctx, "workers", false, &b->workers) ||
	    doc_get_bool(ld, o, ctx, "serial", &b->serial) ||
	    load_processes(ld, o, ctx, b) ||
	    load_concurrency(ld, o, ctx, b) ||
	    load_wakeups(ld, o, ctx, b))
		return -1;
	b->cpu_measured = json_object_object_get_ex(o, "cpu_s", NULL);
	if (doc_get_number(ld, o, ctx, "cpu_s", false, &b->cpu_s) ||
	    doc_get_u64(ld, o, ctx, "sleeps", false, &b->sleeps) ||
	    doc_get_number(ld, o, ctx, "cpus", false, &b->cpus) ||
	    doc_get_str(ld, o, ctx, "cpus_source", false, true, false, &b->cpus_source))
		return -1;
	return load_unprobed(ld, o, ctx, b);
}

static int load_counters(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *c;
	int r = doc_get_typed(ld, top, NULL, "counters", false, json_type_object, &c);

	if (r <= 0)
		return r;
	for (int k = 0; k < SNAP_COUNTERS; k++)
		if (doc_get_u64(ld, c, "counters", snapshot_counters[k].name, false,
				snapshot_counter(s, k)))
			return -1;
	return 0;
}

/* "probe_cost": {"nop5": {"per_call_ns", "in_window_ns"}, ...}; classes this
 * flowprof does not know are ignored. */
static int load_probe_costs(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *pcs;
	char ctx[64];
	int r = doc_get_typed(ld, top, NULL, "probe_cost", false, json_type_object, &pcs);

	if (r <= 0)
		return r;
	for (size_t c = 0; c < ARRAY_SIZE(s->probe_cost); c++) {
		struct snap_probe_cost *pc = &s->probe_cost[c];
		json_object *o;

		snprintf(ctx, sizeof(ctx), "probe_cost.%s", snapshot_site_class_key[c]);
		r = doc_get_typed(ld, pcs, "probe_cost", snapshot_site_class_key[c], false,
				  json_type_object, &o);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (doc_get_number(ld, o, ctx, "per_call_ns", true, &pc->per_call_ns) ||
		    doc_get_number(ld, o, ctx, "in_window_ns", true, &pc->in_window_ns))
			return -1;
		pc->measured = true;
	}
	return 0;
}

/* "calibration": {"rounds": N, "slots": {"nop5": {...}, ...}}; slots this
 * flowprof does not know are ignored. */
static int load_calibration(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *cal, *slots;
	char ctx[64];
	int r = doc_get_typed(ld, top, NULL, "calibration", false, json_type_object, &cal);

	if (r <= 0)
		return r;
	if (doc_get_int(ld, cal, "calibration", "rounds", true, &s->calib_rounds) ||
	    doc_get_typed(ld, cal, "calibration", "slots", true, json_type_object, &slots) < 0)
		return -1;
	for (int k = 0; k < SNAP_SLOTS; k++) {
		struct snap_slot_cost *c = &s->probe_slots[k];
		json_object *o;

		if (!snapshot_slot_key[k])
			continue;
		snprintf(ctx, sizeof(ctx), "calibration.slots.%s", snapshot_slot_key[k]);
		r = doc_get_typed(ld, slots, "calibration.slots", snapshot_slot_key[k], false,
				  json_type_object, &o);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		c->in_window_jitter_ns = NAN;
		if (doc_get_signed(ld, o, ctx, "hit_ns", true, &c->hit_ns) ||
		    doc_get_signed(ld, o, ctx, "in_window_ns", true, &c->in_window_ns) ||
		    doc_get_number(ld, o, ctx, "jitter_ns", false, &c->jitter_ns) ||
		    doc_get_number(ld, o, ctx, "in_window_jitter_ns", false,
				   &c->in_window_jitter_ns) ||
		    doc_get_signed(ld, o, ctx, "first_hit_ns", false, &c->first_hit_ns) ||
		    doc_get_str(ld, o, ctx, "behaves_as", false, true, false, &c->behaves_as))
			return -1;
		c->measured = true;
	}
	return 0;
}

static int load_hosts(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *arr;
	char ctx[64];
	int r = doc_get_typed(ld, top, NULL, "hosts", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (doc_array_len(ld, arr, NULL, "hosts", &s->n_hosts))
		return -1;
	s->hosts = xcalloc((size_t)s->n_hosts, sizeof(*s->hosts));
	for (int i = 0; i < s->n_hosts; i++) {
		json_object *h = json_object_array_get_idx(arr, i);

		snprintf(ctx, sizeof(ctx), "hosts[%d]", i);
		if (doc_expect_object(ld, h, ctx) ||
		    doc_get_str(ld, h, ctx, "name", true, false, false, &s->hosts[i].name) ||
		    doc_get_str(ld, h, ctx, "kernel", false, true, false, &s->hosts[i].kernel) ||
		    doc_get_int(ld, h, ctx, "nproc", false, &s->hosts[i].nproc) ||
		    doc_get_number(ld, h, ctx, "probe_cost_ns", false, &s->hosts[i].probe_cost_ns))
			return -1;
	}
	return 0;
}

/* Loads one top-level array of objects with load_one, checking names are unique. */
#define LOAD_ARRAY(ld, top, key, arr_field, n_field, name_of, index, load_one, ...)            \
	({                                                                                     \
		json_object *arr_;                                                             \
		char ctx_[64];                                                                 \
		int rc_ = doc_get_typed(ld, top, NULL, key, true, json_type_array, &arr_) < 0 || \
			  doc_array_len(ld, arr_, NULL, key, &(n_field)) ? -1 : 0;             \
		if (!rc_)                                                                      \
			arr_field = xcalloc((size_t)(n_field), sizeof(*(arr_field)));          \
		for (int i_ = 0; !rc_ && i_ < (n_field); i_++) {                               \
			snprintf(ctx_, sizeof(ctx_), "%s[%d]", key, i_);                       \
			rc_ = load_one(ld, json_object_array_get_idx(arr_, i_), ctx_,          \
				       ##__VA_ARGS__, &(arr_field)[i_]);                       \
			if (!rc_ && (index) &&                                                 \
			    !snap_index_put(index, name_of(&(arr_field)[i_]), i_))             \
				rc_ = doc_fail(ld, ctx_, NULL, "duplicate name '%s'",          \
					       name_of(&(arr_field)[i_]));                     \
		}                                                                              \
		rc_;                                                                           \
	})

static const char *handler_name(const struct snap_handler *h) { return h->id; }
static const char *bundle_name(const struct snap_bundle *b) { return b->name; }
static const char *flow_name(const struct snap_flow *f) { return f->name; }
static const char *edge_name(const struct snap_edge *e) { return e->from; }

static int load_top(struct loader *ld, json_object *top, struct snapshot *s)
{
	struct lh_table *handlers = NULL, *bundles = NULL, *flows = NULL, *edges = NULL;
	json_object *v;
	int rc = -1;

	if (!json_object_is_type(top, json_type_object))
		return doc_fail(ld, NULL, NULL, "not a flowprof snapshot (expected a JSON object)");
	if (!json_object_object_get_ex(top, "flowprof_snapshot", &v))
		return doc_fail(ld, NULL, "flowprof_snapshot",
				"missing (not a flowprof snapshot?)");
	if (!json_object_is_type(v, json_type_int))
		return doc_fail(ld, NULL, "flowprof_snapshot", "expected an integer");
	if (json_object_get_int64(v) != SNAPSHOT_VERSION)
		return doc_fail(ld, NULL, NULL, "unsupported flowprof_snapshot version %lld "
				"(this flowprof reads version %d)",
				(long long)json_object_get_int64(v), SNAPSHOT_VERSION);
	s->version = SNAPSHOT_VERSION;
	if (doc_get_str(ld, top, NULL, "host", true, false, false, &s->host) ||
	    doc_get_str(ld, top, NULL, "kernel", true, false, false, &s->kernel) ||
	    doc_get_str(ld, top, NULL, "started_at", true, false, false, &s->started_at) ||
	    doc_get_number(ld, top, NULL, "duration_s", true, &s->duration_s) ||
	    doc_get_int(ld, top, NULL, "nproc", false, &s->nproc) ||
	    doc_get_number(ld, top, NULL, "probe_cost_ns", false, &s->probe_cost_ns) ||
	    doc_get_str(ld, top, NULL, "attach_mode", false, true, false, &s->attach_mode) ||
	    doc_get_number(ld, top, NULL, "attach_ms", false, &s->attach_ms) ||
	    doc_get_number(ld, top, NULL, "detach_ms", false, &s->detach_ms) ||
	    load_probe_costs(ld, top, s) ||
	    load_calibration(ld, top, s) ||
	    doc_get_number(ld, top, NULL, "host_cpu_s", false, &s->host_cpu_s) ||
	    doc_get_number(ld, top, NULL, "bundle_cpus_busy_s", false, &s->bundle_cpus_busy_s) ||
	    doc_get_str(ld, top, NULL, "flow_file", false, true, false, &s->flow_file) ||
	    load_counters(ld, top, s) || load_hosts(ld, top, s))
		return -1;
	s->host_cpu_measured = json_object_object_get_ex(top, "host_cpu_s", NULL);
	s->bundle_cpus_busy_measured = json_object_object_get_ex(top, "bundle_cpus_busy_s", NULL);
	if (doc_check_time(ld, NULL, "started_at", s->started_at))
		return -1;

	bundles = snap_index_new(16);
	handlers = snap_index_new(64);
	flows = snap_index_new(16);
	edges = snap_index_new(64);
	if (LOAD_ARRAY(ld, top, "bundles", s->bundles, s->n_bundles, bundle_name, bundles,
		       load_bundle) ||
	    LOAD_ARRAY(ld, top, "handlers", s->handlers, s->n_handlers, handler_name, handlers,
		       load_handler))
		goto cleanup;
	for (int i = 0; i < s->n_handlers; i++) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "handlers[%d]", i);
		if (snap_index_get(bundles, s->handlers[i].bundle) < 0) {
			doc_fail(ld, ctx, "bundle", "unknown bundle '%s' (not in bundles)",
				 s->handlers[i].bundle);
			goto cleanup;
		}
	}
	if (LOAD_ARRAY(ld, top, "edges", s->edges, s->n_edges, edge_name, NULL, load_edge,
		       handlers, true) ||
	    LOAD_ARRAY(ld, top, "flows", s->flows, s->n_flows, flow_name, flows, load_flow,
		       handlers))
		goto cleanup;
	for (int i = 0; i < s->n_edges; i++) {
		char *key = snap_pair_key(s->edges[i].from, s->edges[i].to), ctx[64];
		bool fresh = snap_index_put(edges, key, i);

		free(key);
		if (!fresh) {
			snprintf(ctx, sizeof(ctx), "edges[%d]", i);
			doc_fail(ld, ctx, NULL, "duplicate edge %s -> %s", s->edges[i].from,
				 s->edges[i].to);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	lh_table_free(bundles);
	lh_table_free(handlers);
	lh_table_free(flows);
	lh_table_free(edges);
	return rc;
}

int snapshot_from_json_object(const char *path, struct json_object *doc, struct snapshot *s,
			       char *err, size_t errlen)
{
	struct loader ld = { .path = path ? path : "snapshot", .err = err, .errlen = errlen };

	memset(s, 0, sizeof(*s));
	if (err && errlen)
		err[0] = '\0';
	if (!load_top(&ld, doc, s))
		return 0;
	snapshot_free(s); /* all or nothing: zeroed again */
	return -1;
}

int snapshot_parse(const char *path, const char *buf, size_t len, struct snapshot *s,
		   char *err, size_t errlen)
{
	struct loader ld = { .path = path ? path : "snapshot", .err = err, .errlen = errlen };
	struct json_tokener *tok = NULL;
	json_object *top = NULL;
	enum json_tokener_error jerr;
	size_t lead = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (err && errlen)
		err[0] = '\0';
	while (lead < len && strchr(" \t\r\n", buf[lead]))
		lead++;
	if (lead == len) {
		doc_fail(&ld, NULL, NULL, "empty file (not a flowprof snapshot)");
		goto cleanup;
	}
	if (len > INT_MAX) {
		doc_fail(&ld, NULL, NULL, "too large (%zu bytes)", len);
		goto cleanup;
	}
	tok = json_tokener_new();
	if (!tok) {
		doc_fail(&ld, NULL, NULL, "out of memory");
		goto cleanup;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	top = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		doc_fail(&ld, NULL, NULL, "truncated JSON: the document ends at byte offset %zu "
			 "before it is complete", len);
		goto cleanup;
	}
	if (jerr != json_tokener_success) {
		size_t at = json_tokener_get_parse_end(tok), line = 1, col = 1;

		/* Line and column too: what an editor can jump to. */
		for (size_t i = 0; i < at && i < len; i++, col++)
			if (buf[i] == '\n')
				line++, col = 0;
		/* not JSON from its first character on: say what a snapshot is
		 * (a flow file given where a snapshot goes is the usual slip) */
		size_t first = 0;

		while (first < len && strchr(" \t\r\n", buf[first]) && buf[first])
			first++;

		doc_fail(&ld, NULL, NULL, "invalid JSON at byte offset %zu (line %zu, column %zu): "
			 "%s%s", at, line, col, json_tokener_error_desc(jerr),
			 at == first && first < len && buf[first] != '{' && buf[first] != '['
				 ? (memmem(buf, len, "bundles:", 8)
					    ? " (this looks like a flow file: a snapshot is the JSON "
					      "that flowprof record -o writes)"
					    : " (a snapshot is the JSON that flowprof record -o writes)")
				 : "");
		goto cleanup;
	}
	/* json-c stops at a NUL byte: whatever follows must not be ignored. */
	for (size_t at = json_tokener_get_parse_end(tok); at < len; at++) {
		if (!strchr(" \t\r\n", buf[at]) || !buf[at]) {
			doc_fail(&ld, NULL, NULL, "unexpected data after the JSON document at byte "
				 "offset %zu", at);
			goto cleanup;
		}
	}
	rc = snapshot_from_json_object(ld.path, top, s, err, errlen);
cleanup:
	json_object_put(top);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

int snapshot_load(const char *path, struct snapshot *s, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file_said(path, &len, err, errlen);
	int rc;

	if (!buf) {
		memset(s, 0, sizeof(*s));
		return -1;
	}
	rc = snapshot_parse(path, buf, len, s, err, errlen);
	free(buf);
	return rc;
}
