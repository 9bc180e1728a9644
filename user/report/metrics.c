// SPDX-License-Identifier: MIT
/*
 * The OpenMetrics / Prometheus text exposition of a snapshot: see
 * metrics.h. Both formats come from one walk over the snapshot; they differ
 * only in the metadata lines (counter family names, # UNIT, # EOF).
 */
#include "metrics.h"
#include "metrics_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

const uint64_t metrics_bucket_ns[METRICS_BUCKETS] = {
	1ULL << 9,  1ULL << 10, 1ULL << 11, 1ULL << 12, 1ULL << 13, 1ULL << 14, 1ULL << 15,
	1ULL << 16, 1ULL << 17, 1ULL << 18, 1ULL << 19, 1ULL << 20, 1ULL << 21, 1ULL << 22,
	1ULL << 23, 1ULL << 24, 1ULL << 25, 1ULL << 26, 1ULL << 27, 1ULL << 28, 1ULL << 29,
	1ULL << 30, 1ULL << 31, 1ULL << 32, 1ULL << 33, 1ULL << 34,
};

const char *metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					: "text/plain; version=0.0.4; charset=utf-8";
}

enum metrics_format metrics_negotiate(const char *accept)
{
	/* Prometheus asks for OpenMetrics first when it accepts it. */
	return accept && strstr(accept, "application/openmetrics-text") ? METRICS_OPENMETRICS
									 : METRICS_PROMETHEUS;
}

uint64_t metrics_calls_below(const struct snap_handler *h, uint64_t bound_ns)
{
	int end = hist_boundary_index(bound_ns);
	uint64_t n = 0;

	if (end < 0)
		return 0; /* not a boundary: never asked for (metrics_bucket_ns are) */
	for (int b = 0; b < end; b++)
		n += h->hist[b];
	return n;
}

/* ---- families ---------------------------------------------------------------- */

static void handler_labels(const struct snap_handler *h, struct metrics_label *l)
{
	l[0] = (struct metrics_label){ "bundle", h->bundle };
	l[1] = (struct metrics_label){ "handler", h->id };
}

static void handler_counters(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[2];

	metrics_family(o, "flowprof_handler_calls", "counter", NULL,
		       "Calls of the handler that returned (inclusive of nested handlers).");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_u64(o, "flowprof_handler_calls", "_total", l, 2, s->handlers[i].calls);
	}
	metrics_family(o, "flowprof_handler_incomplete_calls", "counter", NULL,
		       "Calls whose return was never seen (longjmp, exception, exit, depth).");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_u64(o, "flowprof_handler_incomplete_calls", "_total", l, 2,
			    s->handlers[i].incomplete);
	}
	metrics_family(o, "flowprof_handler_active_calls", "gauge", NULL,
		       "Calls of the handler in progress now.");
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];
		uint64_t done = h->calls + h->incomplete;

		handler_labels(h, l);
		metrics_u64(o, "flowprof_handler_active_calls", "", l, 2,
			    h->entries > done ? h->entries - done : 0);
	}
}

static void handler_histograms(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[3];

	metrics_family(o, "flowprof_handler_duration_seconds", "histogram", "seconds",
		       "Inclusive duration of the handler's calls, probe cost included.");
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];
		char le[32];

		handler_labels(h, l);
		for (int b = 0; b < METRICS_BUCKETS; b++) {
			metrics_seconds_text(le, metrics_bucket_ns[b]);
			l[2] = (struct metrics_label){ "le", le };
			metrics_u64(o, "flowprof_handler_duration_seconds", "_bucket", l, 3,
				    metrics_calls_below(h, metrics_bucket_ns[b]));
		}
		l[2] = (struct metrics_label){ "le", "+Inf" };
		metrics_u64(o, "flowprof_handler_duration_seconds", "_bucket", l, 3,
			    hist_count(h->hist));
		metrics_u64(o, "flowprof_handler_duration_seconds", "_count", l, 2,
			    hist_count(h->hist));
		metrics_seconds(o, "flowprof_handler_duration_seconds", "_sum", l, 2, h->total_ns);
	}
}

static void handler_times(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[2];
	bool any_oncpu = false;

	metrics_family(o, "flowprof_handler_self_seconds", "counter", "seconds",
		       "Time in the handler itself, without nested declared handlers.");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_seconds(o, "flowprof_handler_self_seconds", "_total", l, 2,
				s->handlers[i].self_ns);
		any_oncpu |= s->handlers[i].oncpu_measured;
	}
	if (!any_oncpu)
		return; /* the kernel did not allow measuring it: no family at all */
	metrics_family(o, "flowprof_handler_oncpu_seconds", "counter", "seconds",
		       "Time the handler's thread spent on a CPU during its calls.");
	for (int i = 0; i < s->n_handlers; i++) {
		if (!s->handlers[i].oncpu_measured)
			continue;
		handler_labels(&s->handlers[i], l);
		metrics_seconds(o, "flowprof_handler_oncpu_seconds", "_total", l, 2,
				s->handlers[i].oncpu_ns);
	}
}

static void instance_counters(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[3];
	char pid[16];

	metrics_family(o, "flowprof_instance_handler_calls", "counter", NULL,
		       "Calls of the handler in one process (instance: the pid; 0 pools the "
		       "processes past --max-instances).");
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		handler_labels(h, l);
		for (int k = 0; k < h->n_instances; k++) {
			snprintf(pid, sizeof(pid), "%d", h->instances[k].pid);
			l[2] = (struct metrics_label){ "instance", pid };
			metrics_u64(o, "flowprof_instance_handler_calls", "_total", l, 3,
				    h->instances[k].calls);
		}
	}
	metrics_family(o, "flowprof_instance_handler_duration_seconds", "counter", "seconds",
		       "Inclusive time of the handler's calls in one process.");
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		handler_labels(h, l);
		for (int k = 0; k < h->n_instances; k++) {
			snprintf(pid, sizeof(pid), "%d", h->instances[k].pid);
			l[2] = (struct metrics_label){ "instance", pid };
			metrics_seconds(o, "flowprof_instance_handler_duration_seconds", "_total",
					l, 3, h->instances[k].total_ns);
		}
	}
}

static void flow_counters(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[3];

	metrics_family(o, "flowprof_flow_invocations", "counter", NULL,
		       "Invocations of the flow: calls of its entry handler.");
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_handler *entry = snapshot_handler(s, s->flows[i].entry);

		l[0] = (struct metrics_label){ "flow", s->flows[i].name };
		l[1] = (struct metrics_label){ "bundle",
					       entry && entry->bundle ? entry->bundle : "" };
		l[2] = (struct metrics_label){ "handler", s->flows[i].entry };
		metrics_u64(o, "flowprof_flow_invocations", "_total", l, 3, s->flows[i].invocations);
	}
	metrics_family(o, "flowprof_flow_handler_calls", "counter", NULL,
		       "Calls of the handler nested under the flow's entry on the same thread "
		       "(visit ratio = rate of this / rate of flowprof_flow_invocations_total).");
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_flow *f = &s->flows[i];

		for (int v = 0; v < f->n_visits; v++) {
			const struct snap_handler *h = snapshot_handler(s, f->visits[v].handler);

			l[0] = (struct metrics_label){ "flow", f->name };
			l[1] = (struct metrics_label){ "bundle", h ? h->bundle : "" };
			l[2] = (struct metrics_label){ "handler", f->visits[v].handler };
			metrics_u64(o, "flowprof_flow_handler_calls", "_total", l, 3,
				    f->visits[v].calls);
		}
	}
	metrics_family(o, "flowprof_edge_calls", "counter", NULL,
		       "Calls of handler callee nested directly inside handler caller.");
	for (int i = 0; i < s->n_edges; i++) {
		l[0] = (struct metrics_label){ "caller", s->edges[i].from };
		l[1] = (struct metrics_label){ "callee", s->edges[i].to };
		metrics_u64(o, "flowprof_edge_calls", "_total", l, 2, s->edges[i].calls);
	}
}

static void bundle_gauges(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[1];

	metrics_family(o, "flowprof_bundle_processes", "gauge", NULL,
		       "Processes of the bundle being recorded.");
	for (int i = 0; i < s->n_bundles; i++) {
		l[0] = (struct metrics_label){ "bundle", s->bundles[i].name };
		metrics_u64(o, "flowprof_bundle_processes", "", l, 1, (uint64_t)s->bundles[i].n_pids);
	}
	metrics_family(o, "flowprof_bundle_threads", "gauge", NULL,
		       "Distinct threads of the bundle that ran handlers.");
	for (int i = 0; i < s->n_bundles; i++) {
		l[0] = (struct metrics_label){ "bundle", s->bundles[i].name };
		metrics_u64(o, "flowprof_bundle_threads", "", l, 1,
			    (uint64_t)(s->bundles[i].threads > 0 ? s->bundles[i].threads : 0));
	}
}

/* station="...", and bundle="..." for a bundle's pool or serial handler
 * (not for the host's CPUs): the number of labels. */
static int station_labels(const struct metrics_station *st, struct metrics_label *l)
{
	l[0] = (struct metrics_label){ "station", st->name };
	if (!st->bundle)
		return 1;
	l[1] = (struct metrics_label){ "bundle", st->bundle };
	return 2;
}

static void station_gauges(struct metrics_out *o, const struct metrics_extra *x)
{
	struct metrics_label l[2];

	if (!x || !x->n_stations)
		return;
	metrics_family(o, "flowprof_station_utilization_ratio", "gauge", "ratio",
		       "Utilization of the station (bundle, serial handler, or the host's CPUs) from the "
		       "queueing model, over the time since the previous scrape.");
	for (int i = 0; i < x->n_stations; i++) {
		metrics_double(o, "flowprof_station_utilization_ratio", "", l,
			       station_labels(&x->stations[i], l), x->stations[i].utilization);
	}
	metrics_family(o, "flowprof_station_servers", "gauge", NULL,
		       "Servers of the station in the model (instances x workers, or CPUs).");
	for (int i = 0; i < x->n_stations; i++) {
		metrics_double(o, "flowprof_station_servers", "", l, station_labels(&x->stations[i], l),
			       x->stations[i].servers);
	}
	if (!x->bottleneck)
		return;
	metrics_family(o, "flowprof_station_bottleneck", "gauge", NULL,
		       "1 for the station the model names as the bottleneck, 0 for the others.");
	for (int i = 0; i < x->n_stations; i++) {
		metrics_u64(o, "flowprof_station_bottleneck", "", l, station_labels(&x->stations[i], l),
			    !strcmp(x->stations[i].name, x->bottleneck));
	}
}

static void recording_info(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[1];

	metrics_family(o, "flowprof_recording_duration_seconds", "gauge", "seconds",
		       "Time since the probes were attached.");
	metrics_double(o, "flowprof_recording_duration_seconds", "", NULL, 0, s->duration_s);
	metrics_family(o, "flowprof_probe_cost_seconds", "gauge", "seconds",
		       "Calibrated probe cost inside each measured call, by probe site class.");
	for (int c = 1; c < SNAP_SITE_CLASSES; c++) {
		if (!s->probe_cost[c].measured)
			continue;
		l[0] = (struct metrics_label){ "site_class", snapshot_site_class_key[c] };
		metrics_double(o, "flowprof_probe_cost_seconds", "", l, 1,
			       s->probe_cost[c].in_window_ns / 1e9);
	}
	metrics_family(o, "flowprof_kernel_events", "counter", NULL,
		       "Kernel-side events that explain missing data (see docs/snapshot.md).");
	for (int k = 0; k < SNAP_COUNTERS; k++) {
		l[0] = (struct metrics_label){ "event", snapshot_counters[k].name };
		metrics_u64(o, "flowprof_kernel_events", "_total", l, 1,
			    snapshot_counter_value(s, k));
	}
}

/* The endpoint's own work: how often a flood of requests made it read the
 * maps (at most once per --min-interval). */
static void endpoint_counters(struct metrics_out *o, const struct metrics_extra *x)
{
	if (!x || !x->collections)
		return;
	metrics_family(o, "flowprof_metrics_collections", "counter", NULL,
		       "Times this endpoint read the BPF maps to answer requests; requests "
		       "within --min-interval of the last reading get its answer again.");
	metrics_u64(o, "flowprof_metrics_collections", "_total", NULL, 0, x->collections);
}

/* ---- the model over a window -------------------------------------------------- */

void metrics_extra_free(struct metrics_extra *x)
{
	for (int i = 0; i < x->n_stations; i++) {
		free(x->stations[i].name);
		free(x->stations[i].bundle);
	}
	free(x->stations);
	free(x->bottleneck);
	memset(x, 0, sizeof(*x));
}

void metrics_window_model(struct metrics_window *w, const struct snapshot *s,
			  struct metrics_extra *x)
{
	static const struct snapshot none;
	struct snapshot d = { 0 };
	struct model m;
	char err[512];

	if (snapshot_delta(s, w->have_last ? &w->last : &none, &d, err, sizeof(err)))
		goto out;
	d.duration_s = s->duration_s - (w->have_last ? w->last.duration_s : 0);
	if (d.duration_s <= 0 || model_build(&d, NULL, &m, err, sizeof(err)))
		goto out;
	x->stations = xcalloc((size_t)m.n_stations + 1, sizeof(*x->stations));
	x->n_stations = m.n_stations;
	for (int k = 0; k < m.n_stations; k++) {
		x->stations[k].name = xstrdup(m.stations[k].name);
		x->stations[k].bundle = m.stations[k].kind == STATION_CPU ? NULL
					: m.stations[k].kind == STATION_LOCK
						? xstrdup(m.handlers[m.stations[k].handler].bundle)
						: xstrdup(m.stations[k].name);
		x->stations[k].servers = m.stations[k].servers;
		x->stations[k].utilization = m.stations[k].utilization;
	}
	if (m.bottleneck >= 0)
		x->bottleneck = xstrdup(m.stations[m.bottleneck].name);
	model_free(&m);
out:
	snapshot_free(&d);
	/* A window closes only once it is METRICS_MIN_WINDOW_S long: a second
	 * scraper (a curl, an HA pair) in between sees the window so far and
	 * leaves it open, instead of cutting the other's short. */
	if (w->have_last && s->duration_s - w->last.duration_s < METRICS_MIN_WINDOW_S)
		return;
	metrics_window_free(w);
	snapshot_merge(&w->last, s, err, sizeof(err)); /* into a zeroed snapshot: a copy */
	w->have_last = true;
}

void metrics_window_free(struct metrics_window *w)
{
	snapshot_free(&w->last);
	w->have_last = false;
}

char *metrics_render(const struct snapshot *s, const struct metrics_extra *extra,
		     enum metrics_format f)
{
	struct metrics_out o = { .fmt = f, .host = s->host };
	char *buf = NULL;
	size_t len = 0;

	o.m = xopen_memstream(&buf, &len);
	handler_counters(&o, s);
	handler_histograms(&o, s);
	handler_times(&o, s);
	instance_counters(&o, s);
	flow_counters(&o, s);
	bundle_gauges(&o, s);
	station_gauges(&o, extra);
	recording_info(&o, s);
	metrics_model_families(&o, s);
	endpoint_counters(&o, extra);
	if (f == METRICS_OPENMETRICS)
		fputs("# EOF\n", o.m);
	fclose(o.m);
	return buf;
}
