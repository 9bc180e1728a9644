// SPDX-License-Identifier: MIT
/*
 * Field-by-field equality of two snapshots: everything a snapshot stores,
 * in the order of the document, stopping at the first difference and
 * naming it ("handlers[2].calls: 10 != 11"). NULL and "" strings are the
 * same; derived figures are not stored, so not compared. The tests and the
 * fuzz target hold load -> write -> load and merges to it.
 */
#include "snapshot.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "snapshot_int.h"

struct differ {
	char *buf;
	size_t len;
};

static bool __attribute__((format(printf, 2, 3))) differ(struct differ *d, const char *fmt, ...)
{
	va_list ap;

	if (d->buf && d->len) {
		va_start(ap, fmt);
		vsnprintf(d->buf, d->len, fmt, ap);
		va_end(ap);
	}
	return false;
}

#define EQ_U64(d, where, a, b, field)                                                       \
	do {                                                                                \
		if ((a)->field != (b)->field)                                               \
			return differ(d, "%s." #field ": %llu != %llu", where,               \
				      (unsigned long long)(a)->field,                       \
				      (unsigned long long)(b)->field);                      \
	} while (0)
/* two NaNs (a figure not known) are the same */
#define EQ_DBL(d, where, a, b, field)                                                       \
	do {                                                                                \
		if ((a)->field != (b)->field && !(isnan((a)->field) && isnan((b)->field)))  \
			return differ(d, "%s." #field ": %.21Lg != %.21Lg", where,           \
				      (long double)(a)->field, (long double)(b)->field);    \
	} while (0)
#define EQ_STR(d, where, a, b, field)                                                       \
	do {                                                                                \
		if (!same_str((a)->field, (b)->field))                                      \
			return differ(d, "%s." #field ": '%s' != '%s'", where,               \
				      str_or_empty((a)->field), str_or_empty((b)->field));  \
	} while (0)
#define EQ_N(d, where, a, b, field)                                                         \
	do {                                                                                \
		if ((a)->field != (b)->field)                                               \
			return differ(d, "%s." #field ": %d != %d", where, (int)(a)->field,   \
				      (int)(b)->field);                                     \
	} while (0)

static bool edge_equal(struct differ *d, const char *w, const struct snap_edge *a,
		       const struct snap_edge *b)
{
	EQ_STR(d, w, a, b, from);
	EQ_STR(d, w, a, b, to);
	EQ_U64(d, w, a, b, calls);
	EQ_N(d, w, a, b, declared);
	EQ_N(d, w, a, b, async);
	EQ_N(d, w, a, b, waits);
	return true;
}

static const char *site_class_of(const struct snap_handler *h)
{
	return h->site_class ? h->site_class : "unknown";
}

static bool handler_equal(struct differ *d, const char *w, const struct snap_handler *a,
			  const struct snap_handler *b)
{
	char iw[96];

	EQ_STR(d, w, a, b, id);
	EQ_STR(d, w, a, b, bundle);
	EQ_STR(d, w, a, b, symbol);
	EQ_STR(d, w, a, b, binary);
	if (!same_str(site_class_of(a), site_class_of(b)))
		return differ(d, "%s.site_class: '%s' != '%s'", w, site_class_of(a),
			      site_class_of(b));
	EQ_N(d, w, a, b, site_classes);
	EQ_DBL(d, w, a, b, probe_cost_ns);
	EQ_DBL(d, w, a, b, inflight_mean);
	EQ_N(d, w, a, b, serial);
	EQ_U64(d, w, a, b, entries);
	EQ_U64(d, w, a, b, calls);
	EQ_U64(d, w, a, b, incomplete);
	EQ_U64(d, w, a, b, min_ns);
	EQ_U64(d, w, a, b, max_ns);
	EQ_U64(d, w, a, b, total_ns);
	EQ_U64(d, w, a, b, self_ns);
	EQ_N(d, w, a, b, oncpu_measured);
	EQ_U64(d, w, a, b, oncpu_ns);
	EQ_DBL(d, w, a, b, sumsq_ns2);
	EQ_U64(d, w, a, b, unwound);
	EQ_N(d, w, a, b, probe_measured);
	EQ_U64(d, w, a, b, probe_ns);
	EQ_U64(d, w, a, b, self_probe_ns);
	EQ_U64(d, w, a, b, nested_calls);
	EQ_N(d, w, a, b, probe_cpu_measured);
	EQ_U64(d, w, a, b, probe_cpu_ns);
	EQ_U64(d, w, a, b, probe_wait_ns);
	EQ_N(d, w, a, b, runq_measured);
	EQ_U64(d, w, a, b, runq_ns);
	EQ_N(d, w, a, b, arrival_measured);
	EQ_U64(d, w, a, b, arrival.calls);
	EQ_U64(d, w, a, b, arrival.ns);
	EQ_U64(d, w, a, b, arrival.probe_ns);
	EQ_U64(d, w, a, b, arrival.self_ns);
	EQ_U64(d, w, a, b, arrival.self_probe_ns);
	EQ_STR(d, w, a, b, entry_site);
	EQ_STR(d, w, a, b, exit_site);
	EQ_STR(d, w, a, b, exits_fallback);
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		if (a->hist[i] != b->hist[i])
			return differ(d, "%s.hist[%u] (%llu ns): %llu != %llu", w, i,
				      (unsigned long long)hist_bucket_lower(i),
				      (unsigned long long)a->hist[i],
				      (unsigned long long)b->hist[i]);
	EQ_N(d, w, a, b, n_instances);
	for (int i = 0; i < a->n_instances; i++) {
		snprintf(iw, sizeof(iw), "%s.instances[%d]", w, i);
		EQ_N(d, iw, &a->instances[i], &b->instances[i], pid);
		EQ_STR(d, iw, &a->instances[i], &b->instances[i], host);
		EQ_U64(d, iw, &a->instances[i], &b->instances[i], calls);
		EQ_U64(d, iw, &a->instances[i], &b->instances[i], total_ns);
	}
	return true;
}

static bool flow_equal(struct differ *d, const char *w, const struct snap_flow *a,
		       const struct snap_flow *b)
{
	char vw[96];

	EQ_STR(d, w, a, b, name);
	EQ_STR(d, w, a, b, entry);
	EQ_U64(d, w, a, b, invocations);
	EQ_N(d, w, a, b, n_visits);
	for (int i = 0; i < a->n_visits; i++) {
		snprintf(vw, sizeof(vw), "%s.visits[%d]", w, i);
		EQ_STR(d, vw, &a->visits[i], &b->visits[i], handler);
		EQ_U64(d, vw, &a->visits[i], &b->visits[i], calls);
	}
	EQ_N(d, w, a, b, n_declared);
	for (int i = 0; i < a->n_declared; i++) {
		snprintf(vw, sizeof(vw), "%s.declared[%d]", w, i);
		if (!edge_equal(d, vw, &a->declared[i], &b->declared[i]))
			return false;
	}
	return true;
}

static bool bundle_equal(struct differ *d, const char *w, const struct snap_bundle *a,
			 const struct snap_bundle *b)
{
	EQ_STR(d, w, a, b, name);
	EQ_N(d, w, a, b, threads);
	EQ_N(d, w, a, b, named_threads);
	EQ_STR(d, w, a, b, worker_name);
	EQ_N(d, w, a, b, instances);
	EQ_N(d, w, a, b, workers);
	EQ_N(d, w, a, b, serial);
	EQ_N(d, w, a, b, conc_measured);
	EQ_N(d, w, a, b, live_max);
	EQ_N(d, w, a, b, inflight_max);
	for (int k = 0; k < SNAP_CONC_LEVELS; k++)
		if (a->live_ns[k] != b->live_ns[k] || a->inflight_ns[k] != b->inflight_ns[k])
			return differ(d, "%s.concurrency level %d: %llu/%llu != %llu/%llu", w, k,
				      (unsigned long long)a->live_ns[k],
				      (unsigned long long)a->inflight_ns[k],
				      (unsigned long long)b->live_ns[k],
				      (unsigned long long)b->inflight_ns[k]);
	EQ_N(d, w, a, b, wake.measured);
	for (int k = 0; k < SNAP_WAKE_BUCKETS; k++)
		if (a->wake.periods[k] != b->wake.periods[k] || a->wake.calls[k] != b->wake.calls[k] ||
		    a->wake.cpu_ns[k] != b->wake.cpu_ns[k] || a->wake.probe_ns[k] != b->wake.probe_ns[k])
			return differ(d, "%s.wakeups[%d] differ", w, k);
	EQ_N(d, w, a, b, cpu_measured);
	EQ_DBL(d, w, a, b, cpu_s);
	EQ_N(d, w, a, b, sleeps);
	EQ_N(d, w, a, b, unprobed_sleeps);
	EQ_N(d, w, a, b, unprobed_measured);
	EQ_DBL(d, w, a, b, unprobed_s);
	EQ_DBL(d, w, a, b, unprobed_cpu_s);
	EQ_N(d, w, a, b, late_calls);
	EQ_DBL(d, w, a, b, late_s);
	EQ_N(d, w, a, b, counted_calls);
	EQ_N(d, w, a, b, counted_window_calls);
	EQ_DBL(d, w, a, b, counted_probe_s);
	EQ_DBL(d, w, a, b, counted_s);
	EQ_DBL(d, w, a, b, counted_cpu_s);
	EQ_DBL(d, w, a, b, cpus);
	EQ_STR(d, w, a, b, cpus_source);
	EQ_N(d, w, a, b, n_pids);
	if (!a->pid_threads != !b->pid_threads)
		return differ(d, "%s.pid_threads: %s != %s", w, a->pid_threads ? "known" : "NULL",
			      b->pid_threads ? "known" : "NULL");
	for (int i = 0; i < a->n_pids; i++) {
		if (a->pids[i] != b->pids[i])
			return differ(d, "%s.pids[%d]: %d != %d", w, i, a->pids[i], b->pids[i]);
		if (a->pid_threads && a->pid_threads[i] != b->pid_threads[i])
			return differ(d, "%s.pid_threads[%d]: %d != %d", w, i, a->pid_threads[i],
				      b->pid_threads[i]);
		if (!same_str(a->pid_hosts ? a->pid_hosts[i] : NULL,
			      b->pid_hosts ? b->pid_hosts[i] : NULL))
			return differ(d, "%s.pid_hosts[%d]: '%s' != '%s'", w, i,
				      str_or_empty(a->pid_hosts ? a->pid_hosts[i] : NULL),
				      str_or_empty(b->pid_hosts ? b->pid_hosts[i] : NULL));
	}
	return true;
}

bool snapshot_equal(const struct snapshot *a, const struct snapshot *b, char *diff,
		    size_t difflen)
{
	struct differ dd = { diff, difflen }, *d = &dd;
	char w[64];

	EQ_N(d, "snapshot", a, b, version);
	EQ_STR(d, "snapshot", a, b, host);
	EQ_STR(d, "snapshot", a, b, kernel);
	EQ_STR(d, "snapshot", a, b, started_at);
	EQ_DBL(d, "snapshot", a, b, duration_s);
	EQ_N(d, "snapshot", a, b, nproc);
	EQ_DBL(d, "snapshot", a, b, probe_cost_ns);
	EQ_STR(d, "snapshot", a, b, attach_mode);
	EQ_DBL(d, "snapshot", a, b, attach_ms);
	EQ_DBL(d, "snapshot", a, b, detach_ms);
	for (size_t c = 0; c < ARRAY_SIZE(a->probe_cost); c++) {
		snprintf(w, sizeof(w), "probe_cost[%s]", snapshot_site_class_key[c]);
		EQ_N(d, w, &a->probe_cost[c], &b->probe_cost[c], measured);
		EQ_DBL(d, w, &a->probe_cost[c], &b->probe_cost[c], per_call_ns);
		EQ_DBL(d, w, &a->probe_cost[c], &b->probe_cost[c], in_window_ns);
	}
	EQ_N(d, "snapshot", a, b, calib_rounds);
	EQ_N(d, "snapshot", a, b, host_cpu_measured);
	EQ_DBL(d, "snapshot", a, b, host_cpu_s);
	EQ_N(d, "snapshot", a, b, bundle_cpus_busy_measured);
	EQ_DBL(d, "snapshot", a, b, bundle_cpus_busy_s);
	for (int k = 0; k < SNAP_SLOTS; k++) {
		snprintf(w, sizeof(w), "calibration.slots[%d]", k);
		EQ_N(d, w, &a->probe_slots[k], &b->probe_slots[k], measured);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], hit_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], in_window_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], jitter_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], in_window_jitter_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], first_hit_ns);
		EQ_STR(d, w, &a->probe_slots[k], &b->probe_slots[k], behaves_as);
	}
	EQ_STR(d, "snapshot", a, b, flow_file);
	EQ_U64(d, "snapshot", a, b, unmatched_returns);
	EQ_U64(d, "snapshot", a, b, depth_overflows);
	EQ_U64(d, "snapshot", a, b, abandoned_frames);
	EQ_U64(d, "snapshot", a, b, exited_in_call);
	EQ_U64(d, "snapshot", a, b, edges_dropped);
	EQ_U64(d, "snapshot", a, b, instances_dropped);
	EQ_U64(d, "snapshot", a, b, threads_dropped);
	EQ_U64(d, "snapshot", a, b, switch_ins_estimated);
	EQ_U64(d, "snapshot", a, b, probe_waits);
	EQ_N(d, "snapshot", a, b, n_hosts);
	for (int i = 0; i < a->n_hosts; i++) {
		snprintf(w, sizeof(w), "hosts[%d]", i);
		EQ_STR(d, w, &a->hosts[i], &b->hosts[i], name);
		EQ_STR(d, w, &a->hosts[i], &b->hosts[i], kernel);
		EQ_N(d, w, &a->hosts[i], &b->hosts[i], nproc);
		EQ_DBL(d, w, &a->hosts[i], &b->hosts[i], probe_cost_ns);
	}
	EQ_N(d, "snapshot", a, b, n_handlers);
	for (int i = 0; i < a->n_handlers; i++) {
		snprintf(w, sizeof(w), "handlers[%d]", i);
		if (!handler_equal(d, w, &a->handlers[i], &b->handlers[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_edges);
	for (int i = 0; i < a->n_edges; i++) {
		snprintf(w, sizeof(w), "edges[%d]", i);
		if (!edge_equal(d, w, &a->edges[i], &b->edges[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_flows);
	for (int i = 0; i < a->n_flows; i++) {
		snprintf(w, sizeof(w), "flows[%d]", i);
		if (!flow_equal(d, w, &a->flows[i], &b->flows[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_bundles);
	for (int i = 0; i < a->n_bundles; i++) {
		snprintf(w, sizeof(w), "bundles[%d]", i);
		if (!bundle_equal(d, w, &a->bundles[i], &b->bundles[i]))
			return false;
	}
	if (diff && difflen)
		diff[0] = '\0';
	return true;
}
