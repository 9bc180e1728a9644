// SPDX-License-Identifier: MIT
/*
 * The exposition as the fleet model's input (user/report/metrics*.c out,
 * user/fleet/ back in): tests/snapshots/full.json, which carries every field
 * the model reads (a flow entry's own arrivals among them), rendered as `serve` renders it and read back as
 * `report --prometheus` reads each scrape target, gives back every field
 * but the histogram's resolution (its 26 classic buckets stay exact), and
 * the same model. Two readings give their difference, as a window of
 * Prometheus's does. Run from the repository root.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "fleet/fleet.h"
#include "model/model.h"
#include "report/report.h"
#include "snapshot/snapshot.h"

#define FULL "tests/snapshots/full.json"

static void load(struct snapshot *s)
{
	char err[512];

	if (snapshot_load(FULL, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

/* s as serve exposes it, read back (start: an earlier reading, or NULL). */
static void round_trip(const struct snapshot *s, const struct snapshot *start,
		       enum metrics_format f, struct snapshot *out)
{
	char *end_text = metrics_render(s, NULL, f), *start_text = NULL, err[512];

	if (start)
		start_text = metrics_render(start, NULL, f);
	if (fleet_snapshot_from_text(end_text, start_text, out, err, sizeof(err)))
		fail_msg("%s", err);
	free(end_text);
	free(start_text);
}

static void near(double got, double want, double rel, const char *what)
{
	if (fabs(got - want) > rel * fabs(want) + 1e-9)
		fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

static void same_str(const char *got, const char *want, const char *what)
{
	if (strcmp(got ? got : "", want ? want : ""))
		fail_msg("%s: got '%s', want '%s'", what, got ? got : "", want ? want : "");
}

static void check_handler(const struct snap_handler *g, const struct snap_handler *w)
{
	assert_int_equal(g->calls, w->calls);
	assert_int_equal(g->incomplete, w->incomplete);
	assert_int_equal(g->entries, w->entries);
	assert_int_equal(g->total_ns, w->total_ns);
	assert_int_equal(g->self_ns, w->self_ns);
	assert_int_equal(g->oncpu_measured, w->oncpu_measured);
	assert_int_equal(g->oncpu_ns, w->oncpu_ns);
	near((double)g->sumsq_ns2, (double)w->sumsq_ns2, 1e-12, w->id);
	assert_int_equal(g->unwound, w->unwound);
	assert_int_equal(g->probe_measured, w->probe_measured);
	assert_int_equal(g->probe_ns, w->probe_ns);
	assert_int_equal(g->self_probe_ns, w->self_probe_ns);
	assert_int_equal(g->nested_calls, w->nested_calls);
	assert_int_equal(g->probe_cpu_measured, w->probe_cpu_measured);
	assert_int_equal(g->probe_cpu_ns, w->probe_cpu_ns);
	/* a flow entry's own arrivals (full.json has them for shop.browse) */
	assert_int_equal(g->arrival_measured, w->arrival_measured);
	assert_int_equal(g->arrival.calls, w->arrival.calls);
	assert_int_equal(g->arrival.ns, w->arrival.ns);
	assert_int_equal(g->arrival.probe_ns, w->arrival.probe_ns);
	assert_int_equal(g->arrival.self_ns, w->arrival.self_ns);
	assert_int_equal(g->arrival.self_probe_ns, w->arrival.self_probe_ns);
	near(g->probe_cost_ns, w->probe_cost_ns, 1e-12, w->id);
	same_str(g->bundle, w->bundle, w->id);
	same_str(g->site_class, w->site_class, w->id);
	assert_int_equal(g->site_classes, w->site_classes);
	same_str(g->entry_site, w->entry_site, w->id);
	same_str(g->exit_site, w->exit_site, w->id);
	assert_int_equal(g->serial, w->serial);
	/* the classic buckets are exact, and every call is in one */
	for (int b = 0; b < METRICS_BUCKETS; b++)
		assert_int_equal(metrics_calls_below(g, metrics_bucket_ns[b]),
				 metrics_calls_below(w, metrics_bucket_ns[b]));
	assert_int_equal(hist_count(g->hist), hist_count(w->hist));
	assert_int_equal(g->n_instances, w->n_instances);
	for (int k = 0; k < w->n_instances; k++) {
		int j;

		for (j = 0; j < g->n_instances; j++)
			if (g->instances[j].pid == w->instances[k].pid)
				break;
		assert_true(j < g->n_instances);
		assert_int_equal(g->instances[j].calls, w->instances[k].calls);
		assert_int_equal(g->instances[j].total_ns, w->instances[k].total_ns);
	}
}

static void check_bundle(const struct snap_bundle *g, const struct snap_bundle *w)
{
	assert_int_equal(g->n_pids, w->n_pids);
	for (int k = 0; k < w->n_pids; k++) {
		int j;

		for (j = 0; j < g->n_pids; j++)
			if (g->pids[j] == w->pids[k])
				break;
		assert_true(j < g->n_pids);
		assert_int_equal(g->pid_threads[j], w->pid_threads ? w->pid_threads[k] : 0);
	}
	assert_int_equal(g->threads, w->threads);
	assert_int_equal(g->instances, w->instances);
	assert_int_equal(g->workers, w->workers);
	assert_int_equal(g->serial, w->serial);
	assert_int_equal(g->conc_measured, w->conc_measured);
	assert_int_equal(g->live_max, w->live_max);
	assert_int_equal(g->inflight_max, w->inflight_max);
	assert_memory_equal(g->live_ns, w->live_ns, sizeof(w->live_ns));
	assert_memory_equal(g->inflight_ns, w->inflight_ns, sizeof(w->inflight_ns));
	assert_int_equal(g->cpu_measured, w->cpu_measured);
	near(g->cpu_s, w->cpu_s, 1e-12, w->name);
	near(g->cpus, w->cpus, 1e-12, w->name);
	same_str(g->cpus_source, w->cpus_source, w->name);
}

static void check_edges(const struct snap_edge *g, int ng, const struct snap_edge *w, int nw)
{
	assert_int_equal(ng, nw);
	for (int k = 0; k < nw; k++) {
		int j;

		for (j = 0; j < ng; j++)
			if (!strcmp(g[j].from, w[k].from) && !strcmp(g[j].to, w[k].to))
				break;
		assert_true(j < ng);
		assert_int_equal(g[j].calls, w[k].calls);
		assert_int_equal(g[j].declared, w[k].declared);
		assert_int_equal(g[j].async, w[k].async);
		assert_int_equal(g[j].waits, w[k].waits);
	}
}

static void check_snapshot(const struct snapshot *g, const struct snapshot *w)
{
	same_str(g->host, w->host, "host");
	same_str(g->kernel, w->kernel, "kernel");
	same_str(g->attach_mode, w->attach_mode, "attach_mode");
	near(g->duration_s, w->duration_s, 1e-12, "duration_s");
	assert_int_equal(g->nproc, w->nproc);
	assert_int_equal(g->host_cpu_measured, w->host_cpu_measured);
	near(g->host_cpu_s, w->host_cpu_s, 1e-12, "host_cpu_s");
	for (int c = 1; c < 4; c++) {
		assert_int_equal(g->probe_cost[c].measured, w->probe_cost[c].measured);
		near(g->probe_cost[c].per_call_ns, w->probe_cost[c].per_call_ns, 1e-12, "per call");
		near(g->probe_cost[c].in_window_ns, w->probe_cost[c].in_window_ns, 1e-12, "in window");
	}
	for (int k = 0; k < SNAP_SLOTS; k++) {
		assert_int_equal(g->probe_slots[k].measured, w->probe_slots[k].measured);
		near(g->probe_slots[k].hit_ns, w->probe_slots[k].hit_ns, 1e-12, "slot hit");
		near(g->probe_slots[k].in_window_ns, w->probe_slots[k].in_window_ns, 1e-12, "slot");
		near(g->probe_slots[k].jitter_ns, w->probe_slots[k].jitter_ns, 1e-12, "jitter");
		if (isnan(w->probe_slots[k].in_window_jitter_ns))
			assert_true(!w->probe_slots[k].measured ||
				    isnan(g->probe_slots[k].in_window_jitter_ns));
		else
			near(g->probe_slots[k].in_window_jitter_ns,
			     w->probe_slots[k].in_window_jitter_ns, 1e-12, "in-window jitter");
		near(g->probe_slots[k].first_hit_ns, w->probe_slots[k].first_hit_ns, 1e-12, "first");
		if (w->probe_slots[k].measured)
			same_str(g->probe_slots[k].behaves_as,
				 w->probe_slots[k].behaves_as ? w->probe_slots[k].behaves_as
							      : "unknown", "behaves_as");
	}
	assert_int_equal(g->calib_rounds, w->calib_rounds);
	assert_int_equal(g->unmatched_returns, w->unmatched_returns);
	assert_int_equal(g->depth_overflows, w->depth_overflows);
	assert_int_equal(g->abandoned_frames, w->abandoned_frames);
	assert_int_equal(g->exited_in_call, w->exited_in_call);
	assert_int_equal(g->edges_dropped, w->edges_dropped);
	assert_int_equal(g->instances_dropped, w->instances_dropped);
	assert_int_equal(g->threads_dropped, w->threads_dropped);
	assert_int_equal(g->n_handlers, w->n_handlers);
	for (int i = 0; i < w->n_handlers; i++) {
		const struct snap_handler *h = snapshot_handler(g, w->handlers[i].id);

		if (!h)
			fail_msg("handler %s lost", w->handlers[i].id);
		check_handler(h, &w->handlers[i]);
	}
	check_edges(g->edges, g->n_edges, w->edges, w->n_edges);
	assert_int_equal(g->n_flows, w->n_flows);
	for (int i = 0; i < w->n_flows; i++) {
		const struct snap_flow *f = snapshot_flow(g, w->flows[i].name), *wf = &w->flows[i];

		assert_non_null(f);
		same_str(f->entry, wf->entry, wf->name);
		assert_int_equal(f->invocations, wf->invocations);
		assert_int_equal(f->n_visits, wf->n_visits);
		for (int v = 0; v < wf->n_visits; v++)
			for (int j = 0; j < f->n_visits; j++)
				if (!strcmp(f->visits[j].handler, wf->visits[v].handler))
					assert_int_equal(f->visits[j].calls, wf->visits[v].calls);
		check_edges(f->declared, f->n_declared, wf->declared, wf->n_declared);
	}
	assert_int_equal(g->n_bundles, w->n_bundles);
	for (int i = 0; i < w->n_bundles; i++) {
		const struct snap_bundle *b = snapshot_bundle(g, w->bundles[i].name);

		assert_non_null(b);
		check_bundle(b, &w->bundles[i]);
	}
}

/* What the model makes of both: the same stations, ceilings and means. */
static void check_model(const struct snapshot *g, const struct snapshot *w)
{
	struct model mg, mw;
	char err[512];

	if (model_build(g, NULL, &mg, err, sizeof(err)) || model_build(w, NULL, &mw, err, sizeof(err)))
		fail_msg("model: %s", err);
	assert_int_equal(mg.n_stations, mw.n_stations);
	for (int k = 0; k < mw.n_stations; k++) {
		int j = model_station_index(&mg, mw.stations[k].name);

		assert_true(j >= 0);
		assert_int_equal(mg.stations[j].servers, mw.stations[k].servers);
		near(mg.stations[j].utilization, mw.stations[k].utilization, 1e-9,
		     mw.stations[k].name);
	}
	for (int f = 0; f < mw.n_flows; f++) {
		int j = model_flow_index(&mg, mw.flows[f].name);

		assert_true(j >= 0);
		near(mg.flows[j].max_rate_per_s, mw.flows[f].max_rate_per_s, 1e-9, mw.flows[f].name);
		near(mg.flows[j].measured_rate_per_s, mw.flows[f].measured_rate_per_s, 1e-9,
		     mw.flows[f].name);
	}
	for (int h = 0; h < mw.n_handlers; h++) {
		int j = model_handler_index(&mg, mw.handlers[h].id);

		assert_true(j >= 0);
		near(mg.handlers[j].mean_ns, mw.handlers[h].mean_ns, 1e-9, mw.handlers[h].id);
		near(mg.handlers[j].self_ns, mw.handlers[h].self_ns, 1e-9, mw.handlers[h].id);
	}
	assert_string_equal(mg.stations[mg.bottleneck].name, mw.stations[mw.bottleneck].name);
	model_free(&mg);
	model_free(&mw);
}

static void test_every_model_input_comes_back(void **state)
{
	struct snapshot s, back;

	(void)state;
	load(&s);
	for (int f = 0; f < 2; f++) { /* both formats */
		round_trip(&s, NULL, f ? METRICS_OPENMETRICS : METRICS_PROMETHEUS, &back);
		check_snapshot(&back, &s);
		check_model(&back, &s);
		snapshot_free(&back);
	}
	snapshot_free(&s);
}

/* A reading at twice every count less one at the counts: the counts. */
static void test_a_window_is_the_difference_of_two_readings(void **state)
{
	struct snapshot s, end = { 0 }, back;
	char err[256];

	(void)state;
	load(&s);
	assert_int_equal(snapshot_merge(&end, &s, err, sizeof(err)), 0);
	assert_int_equal(snapshot_merge(&end, &s, err, sizeof(err)), 0);
	end.duration_s = 2 * s.duration_s; /* side by side, merge keeps the longer */
	end.host_cpu_s = 2 * s.host_cpu_s;
	for (int i = 0; i < end.n_bundles; i++) /* the same processes, counted once */
		for (int k = 0; k < end.bundles[i].n_pids; k++)
			end.bundles[i].pid_threads[k] = snapshot_bundle(&s, end.bundles[i].name)
							       ->pid_threads[k];
	round_trip(&end, &s, METRICS_OPENMETRICS, &back);
	check_snapshot(&back, &s);
	check_model(&back, &s);
	snapshot_free(&back);
	snapshot_free(&end);
	snapshot_free(&s);
}

/* A counter that went down was reset (the endpoint restarted): from zero. */
static void test_a_reset_counts_from_zero(void **state)
{
	struct snapshot s, later = { 0 }, back;
	char err[256];

	(void)state;
	load(&s);
	assert_int_equal(snapshot_merge(&later, &s, err, sizeof(err)), 0);
	later.handlers[0].calls += 1000;
	round_trip(&s, &later, METRICS_PROMETHEUS, &back);
	assert_int_equal(snapshot_handler(&back, s.handlers[0].id)->calls, s.handlers[0].calls);
	snapshot_free(&back);
	snapshot_free(&later);
	snapshot_free(&s);
}

static void test_bad_text_is_refused(void **state)
{
	struct snapshot back;
	char err[256];

	(void)state;
	assert_int_equal(fleet_snapshot_from_text("flowprof_x{a=\"b} 1\n", NULL, &back, err,
						  sizeof(err)), -1);
	assert_non_null(strstr(err, "not a sample line"));
	assert_int_equal(fleet_snapshot_from_text("flowprof_recording_duration_seconds{host=\"h\"}"
						  " 2\n", NULL, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no flowprof_handler_info"));
	assert_int_equal(fleet_snapshot_from_text(
				 "flowprof_recording_duration_seconds{host=\"h\"} 2\n"
				 "flowprof_handler_info{host=\"h\",bundle=\"b\",handler=\"b.x\"} 1\n"
				 "flowprof_handler_duration_seconds_bucket{host=\"h\",bundle=\"b\","
				 "handler=\"b.x\",le=\"0.3\"} 1\n", NULL, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "le=\"0.3\" is not a bound of flowprof's histogram"));
}

static void test_times(void **state)
{
	double t;

	(void)state;
	assert_int_equal(fleet_parse_time("1700000000.5", &t), 0);
	near(t, 1700000000.5, 0, "unix");
	assert_int_equal(fleet_parse_time("2023-11-14T22:13:20Z", &t), 0);
	near(t, 1700000000, 0, "rfc3339");
	assert_int_equal(fleet_parse_time("2023-11-14T23:13:20+01:00", &t), 0);
	near(t, 1700000000, 0, "rfc3339 with an offset");
	assert_int_equal(fleet_parse_time("yesterday", &t), -1);
	assert_int_equal(fleet_parse_time("-5", &t), -1);
	assert_int_equal(fleet_parse_time("", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_model_input_comes_back),
		cmocka_unit_test(test_a_window_is_the_difference_of_two_readings),
		cmocka_unit_test(test_a_reset_counts_from_zero),
		cmocka_unit_test(test_bad_text_is_refused),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
