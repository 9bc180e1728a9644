// SPDX-License-Identifier: MIT
/*
 * The metrics exposition (user/report/metrics.c): the OpenMetrics text of a
 * small snapshot, byte for byte, and how the Prometheus text format of the
 * same snapshot differs from it (counter families named with _total, no
 * # UNIT, no # EOF). The snapshot's labels need every escape a label value
 * has (\, ", newline, a byte that is not UTF-8); its histogram puts calls on
 * both sides of a classic bucket bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "report/report.h"
#include "snapshot/snapshot.h"

/* One bundle of two processes, one handler with an id that needs escaping,
 * one flow, one edge, a calibrated probe cost and a kernel event. */
static void small_snapshot(struct snapshot *s)
{
	struct snap_handler *h;

	memset(s, 0, sizeof(*s));
	s->version = SNAPSHOT_VERSION;
	s->host = xstrdup("web-1");
	s->duration_s = 2.5;
	s->probe_cost[2] = (struct snap_probe_cost){ true, 400.0, 350.5 };
	s->unmatched_returns = 3;

	s->n_handlers = 1;
	s->handlers = h = xcalloc(1, sizeof(*h));
	h->id = xstrdup("shop.\"odd\"\\name\n\xff");
	h->bundle = xstrdup("shop");
	h->entries = 12;
	h->calls = 10;
	h->incomplete = 1;
	h->total_ns = 15000000;
	h->self_ns = 9000000;
	h->oncpu_ns = 3000000;
	h->oncpu_measured = true;
	h->hist[hist_bucket(700)] = 4;		/* below the 1024 ns bound */
	h->hist[hist_bucket(1500)] = 5;		/* below 2048 ns */
	h->hist[hist_bucket(3000000)] = 1;	/* 3 ms */
	h->n_instances = 2;
	h->instances = xcalloc(2, sizeof(*h->instances));
	h->instances[0] = (struct snap_instance_stats){ 4242, 6, 9000000, NULL };
	h->instances[1] = (struct snap_instance_stats){ 4243, 4, 6000000, NULL };

	s->n_edges = 1;
	s->edges = xcalloc(1, sizeof(*s->edges));
	s->edges[0].from = xstrdup(h->id);
	s->edges[0].to = xstrdup(h->id);
	s->edges[0].calls = 2;

	s->n_flows = 1;
	s->flows = xcalloc(1, sizeof(*s->flows));
	s->flows[0].name = xstrdup("checkout");
	s->flows[0].entry = xstrdup(h->id);
	s->flows[0].invocations = 10;
	s->flows[0].n_visits = 1;
	s->flows[0].visits = xcalloc(1, sizeof(*s->flows[0].visits));
	s->flows[0].visits[0].handler = xstrdup(h->id);
	s->flows[0].visits[0].calls = 10;

	s->n_bundles = 1;
	s->bundles = xcalloc(1, sizeof(*s->bundles));
	s->bundles[0].name = xstrdup("shop");
	s->bundles[0].n_pids = 2;
	s->bundles[0].pids = xcalloc(2, sizeof(int));
	s->bundles[0].pids[0] = 4242;
	s->bundles[0].pids[1] = 4243;
	s->bundles[0].threads = 4;
}

/* The model's figures for the stations, as metrics_window_model() makes them. */
static void small_extra(struct metrics_extra *x)
{
	memset(x, 0, sizeof(*x));
	x->n_stations = 2;
	x->stations = xcalloc(2, sizeof(*x->stations));
	x->stations[0] = (struct metrics_station){ xstrdup("shop"), xstrdup("shop"), 4, 0.25 };
	x->stations[1] = (struct metrics_station){ xstrdup("cpu"), NULL, 2, 0.5 };
	x->bottleneck = xstrdup("cpu");
}

#define HANDLER "bundle=\"shop\",handler=\"shop.\\\"odd\\\"\\\\name\\n\xef\xbf\xbd\""

static const char openmetrics[] =
	"# HELP flowprof_handler_calls Calls of the handler that returned (inclusive of nested handlers).\n"
	"# TYPE flowprof_handler_calls counter\n"
	"flowprof_handler_calls_total{host=\"web-1\"," HANDLER "} 10\n"
	"# HELP flowprof_handler_incomplete_calls Calls whose return was never seen (longjmp, exception, exit, depth).\n"
	"# TYPE flowprof_handler_incomplete_calls counter\n"
	"flowprof_handler_incomplete_calls_total{host=\"web-1\"," HANDLER "} 1\n"
	"# HELP flowprof_handler_active_calls Calls of the handler in progress now.\n"
	"# TYPE flowprof_handler_active_calls gauge\n"
	"flowprof_handler_active_calls{host=\"web-1\"," HANDLER "} 1\n"
	"# HELP flowprof_handler_duration_seconds Inclusive duration of the handler's calls, probe cost included.\n"
	"# TYPE flowprof_handler_duration_seconds histogram\n"
	"# UNIT flowprof_handler_duration_seconds seconds\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000000512\"} 0\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000001024\"} 4\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000002048\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000004096\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000008192\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000016384\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000032768\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000065536\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000131072\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000262144\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.000524288\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.001048576\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.002097152\"} 9\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.004194304\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.008388608\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.016777216\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.033554432\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.067108864\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.134217728\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.268435456\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"0.536870912\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"1.073741824\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"2.147483648\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"4.294967296\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"8.589934592\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"17.179869184\"} 10\n"
	"flowprof_handler_duration_seconds_bucket{host=\"web-1\"," HANDLER ",le=\"+Inf\"} 10\n"
	"flowprof_handler_duration_seconds_count{host=\"web-1\"," HANDLER "} 10\n"
	"flowprof_handler_duration_seconds_sum{host=\"web-1\"," HANDLER "} 0.015\n"
	"# HELP flowprof_handler_self_seconds Time in the handler itself, without nested declared handlers.\n"
	"# TYPE flowprof_handler_self_seconds counter\n"
	"# UNIT flowprof_handler_self_seconds seconds\n"
	"flowprof_handler_self_seconds_total{host=\"web-1\"," HANDLER "} 0.009\n"
	"# HELP flowprof_handler_oncpu_seconds Time the handler's thread spent on a CPU during its calls.\n"
	"# TYPE flowprof_handler_oncpu_seconds counter\n"
	"# UNIT flowprof_handler_oncpu_seconds seconds\n"
	"flowprof_handler_oncpu_seconds_total{host=\"web-1\"," HANDLER "} 0.003\n"
	"# HELP flowprof_instance_handler_calls Calls of the handler in one process (instance: the pid; 0 pools the processes past --max-instances).\n"
	"# TYPE flowprof_instance_handler_calls counter\n"
	"flowprof_instance_handler_calls_total{host=\"web-1\"," HANDLER ",instance=\"4242\"} 6\n"
	"flowprof_instance_handler_calls_total{host=\"web-1\"," HANDLER ",instance=\"4243\"} 4\n"
	"# HELP flowprof_instance_handler_duration_seconds Inclusive time of the handler's calls in one process.\n"
	"# TYPE flowprof_instance_handler_duration_seconds counter\n"
	"# UNIT flowprof_instance_handler_duration_seconds seconds\n"
	"flowprof_instance_handler_duration_seconds_total{host=\"web-1\"," HANDLER ",instance=\"4242\"} 0.009\n"
	"flowprof_instance_handler_duration_seconds_total{host=\"web-1\"," HANDLER ",instance=\"4243\"} 0.006\n"
	"# HELP flowprof_flow_invocations Invocations of the flow: calls of its entry handler.\n"
	"# TYPE flowprof_flow_invocations counter\n"
	"flowprof_flow_invocations_total{host=\"web-1\",flow=\"checkout\"," HANDLER "} 10\n"
	"# HELP flowprof_flow_handler_calls Calls of the handler nested under the flow's entry on the same thread (visit ratio = rate of this / rate of flowprof_flow_invocations_total).\n"
	"# TYPE flowprof_flow_handler_calls counter\n"
	"flowprof_flow_handler_calls_total{host=\"web-1\",flow=\"checkout\"," HANDLER "} 10\n"
	"# HELP flowprof_edge_calls Calls of handler callee nested directly inside handler caller.\n"
	"# TYPE flowprof_edge_calls counter\n"
	"flowprof_edge_calls_total{host=\"web-1\",caller=\"shop.\\\"odd\\\"\\\\name\\n\xef\xbf\xbd\","
	"callee=\"shop.\\\"odd\\\"\\\\name\\n\xef\xbf\xbd\"} 2\n"
	"# HELP flowprof_bundle_processes Processes of the bundle being recorded.\n"
	"# TYPE flowprof_bundle_processes gauge\n"
	"flowprof_bundle_processes{host=\"web-1\",bundle=\"shop\"} 2\n"
	"# HELP flowprof_bundle_threads Distinct threads of the bundle that ran handlers.\n"
	"# TYPE flowprof_bundle_threads gauge\n"
	"flowprof_bundle_threads{host=\"web-1\",bundle=\"shop\"} 4\n"
	"# HELP flowprof_station_utilization_ratio Utilization of the station (bundle, serial handler, or the host's CPUs) from the queueing model, over the time since the previous scrape.\n"
	"# TYPE flowprof_station_utilization_ratio gauge\n"
	"# UNIT flowprof_station_utilization_ratio ratio\n"
	"flowprof_station_utilization_ratio{host=\"web-1\",station=\"shop\",bundle=\"shop\"} 0.25\n"
	"flowprof_station_utilization_ratio{host=\"web-1\",station=\"cpu\"} 0.5\n"
	"# HELP flowprof_station_servers Servers of the station in the model (instances x workers, or CPUs).\n"
	"# TYPE flowprof_station_servers gauge\n"
	"flowprof_station_servers{host=\"web-1\",station=\"shop\",bundle=\"shop\"} 4\n"
	"flowprof_station_servers{host=\"web-1\",station=\"cpu\"} 2\n"
	"# HELP flowprof_station_bottleneck 1 for the station the model names as the bottleneck, 0 for the others.\n"
	"# TYPE flowprof_station_bottleneck gauge\n"
	"flowprof_station_bottleneck{host=\"web-1\",station=\"shop\",bundle=\"shop\"} 0\n"
	"flowprof_station_bottleneck{host=\"web-1\",station=\"cpu\"} 1\n"
	"# HELP flowprof_recording_duration_seconds Time since the probes were attached.\n"
	"# TYPE flowprof_recording_duration_seconds gauge\n"
	"# UNIT flowprof_recording_duration_seconds seconds\n"
	"flowprof_recording_duration_seconds{host=\"web-1\"} 2.5\n"
	"# HELP flowprof_probe_cost_seconds Calibrated probe cost inside each measured call, by probe site class.\n"
	"# TYPE flowprof_probe_cost_seconds gauge\n"
	"# UNIT flowprof_probe_cost_seconds seconds\n"
	"flowprof_probe_cost_seconds{host=\"web-1\",site_class=\"emulated\"} 3.5050000000000002e-07\n"
	"# HELP flowprof_kernel_events Kernel-side events that explain missing data (see docs/snapshot.md).\n"
	"# TYPE flowprof_kernel_events counter\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"unmatched_returns\"} 3\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"depth_overflows\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"abandoned_frames\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"exited_in_call\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"edges_dropped\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"instances_dropped\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"threads_dropped\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"switch_ins_estimated\"} 0\n"
	"flowprof_kernel_events_total{host=\"web-1\",event=\"probe_waits\"} 0\n"
	"# HELP flowprof_handler_info 1 for each handler: its probe site class (site_classes when its probe points differ), entry and exit probe kinds, and whether it is one server (serial).\n"
	"# TYPE flowprof_handler_info gauge\n"
	"flowprof_handler_info{host=\"web-1\"," HANDLER ",site_class=\"\",site_classes=\"\",entry_site=\"\",exit_site=\"\",serial=\"false\"} 1\n"
	"# HELP flowprof_handler_probe_cost_seconds Calibrated probe cost inside one measured call of the handler (its entry and exit probes).\n"
	"# TYPE flowprof_handler_probe_cost_seconds gauge\n"
	"# UNIT flowprof_handler_probe_cost_seconds seconds\n"
	"flowprof_handler_probe_cost_seconds{host=\"web-1\"," HANDLER "} 0\n"
	"# HELP flowprof_handler_duration_seconds_squared Sum of the squares of the calls' inclusive durations, in s^2 (with _sum and _count of flowprof_handler_duration_seconds: the standard deviation).\n"
	"# TYPE flowprof_handler_duration_seconds_squared counter\n"
	"flowprof_handler_duration_seconds_squared_total{host=\"web-1\"," HANDLER "} 0\n"
	"# HELP flowprof_handler_unwound_calls Of the incomplete calls, those closed by the stack pointer (an exception, a longjmp).\n"
	"# TYPE flowprof_handler_unwound_calls counter\n"
	"flowprof_handler_unwound_calls_total{host=\"web-1\"," HANDLER "} 0\n"
	"# HELP flowprof_flow_call_info 1 for each call the flow file declares in a flow: call is its arrow (-> nested, => waits for the reply, ~> does not).\n"
	"# TYPE flowprof_flow_call_info gauge\n"
	"# HELP flowprof_bundle_info 1 for each bundle, with the flow file's instances and workers (0: observed) and whether the whole bundle is one server (serial).\n"
	"# TYPE flowprof_bundle_info gauge\n"
	"flowprof_bundle_info{host=\"web-1\",bundle=\"shop\",instances=\"0\",workers=\"0\",serial=\"false\"} 1\n"
	"# HELP flowprof_process_threads Threads of one process of the bundle that ran handlers (instance: the pid).\n"
	"# TYPE flowprof_process_threads gauge\n"
	"# HELP flowprof_bundle_concurrency_seconds Time the bundle's processes spent with threads=K of their threads live (they ran a handler and have not exited) or inflight (inside a handler), summed over its processes; the last level holds every level above it.\n"
	"# TYPE flowprof_bundle_concurrency_seconds counter\n"
	"# UNIT flowprof_bundle_concurrency_seconds seconds\n"
	"# HELP flowprof_bundle_cpu_seconds CPU time of the bundle's processes, every thread, in handlers or not.\n"
	"# TYPE flowprof_bundle_cpu_seconds counter\n"
	"# UNIT flowprof_bundle_cpu_seconds seconds\n"
	"# HELP flowprof_bundle_cpus CPUs the bundle's processes may use, and what limits them (source: affinity, a cgroup's cpu.max, ...).\n"
	"# TYPE flowprof_bundle_cpus gauge\n"
	"# HELP flowprof_host_cpus CPUs of the host online.\n"
	"# TYPE flowprof_host_cpus gauge\n"
	"flowprof_host_cpus{host=\"web-1\"} 0\n"
	"# HELP flowprof_bundle_wakeups Times a thread of the bundle woke outside any handler and slept outside one again, by the top-level calls it completed meanwhile (calls: 0-7, 8+).\n"
	"# TYPE flowprof_bundle_wakeups counter\n"
	"# HELP flowprof_bundle_wakeup_calls Top-level calls completed in those wake-ups.\n"
	"# TYPE flowprof_bundle_wakeup_calls counter\n"
	"# HELP flowprof_bundle_wakeup_cpu_seconds CPU time of those wake-ups, probes included.\n"
	"# TYPE flowprof_bundle_wakeup_cpu_seconds counter\n"
	"# UNIT flowprof_bundle_wakeup_cpu_seconds seconds\n"
	"# HELP flowprof_bundle_wakeup_probe_seconds What the probes of their calls took of it, as calibrated.\n"
	"# TYPE flowprof_bundle_wakeup_probe_seconds counter\n"
	"# UNIT flowprof_bundle_wakeup_probe_seconds seconds\n"
	"# HELP flowprof_bundle_sleeps Times the live threads of the bundle's processes went to sleep (voluntary context switches), in handlers or not.\n"
	"# TYPE flowprof_bundle_sleeps counter\n"
	"# HELP flowprof_probe_cost_per_call_seconds Calibrated cost of one probed call to its caller (entry and return probes), by probe site class.\n"
	"# TYPE flowprof_probe_cost_per_call_seconds gauge\n"
	"# UNIT flowprof_probe_cost_per_call_seconds seconds\n"
	"flowprof_probe_cost_per_call_seconds{host=\"web-1\",site_class=\"emulated\"} 3.9999999999999998e-07\n"
	"# HELP flowprof_probe_slot_cost_seconds Calibration of each kind of probe (slot): what one hit costs the thread (hit), the part inside a measured duration (in_window), their spreads (jitter, in_window_jitter) and a cold hit (first_hit); behaves_as: how the kernel was measured to treat it.\n"
	"# TYPE flowprof_probe_slot_cost_seconds gauge\n"
	"# UNIT flowprof_probe_slot_cost_seconds seconds\n"
	"# HELP flowprof_probe_calibration_rounds Rounds of probe-cost calibration the figures above come from.\n"
	"# TYPE flowprof_probe_calibration_rounds gauge\n"
	"flowprof_probe_calibration_rounds{host=\"web-1\"} 0\n"
	"# HELP flowprof_recording_info 1, with the recording host's kernel and the attach mode.\n"
	"# TYPE flowprof_recording_info gauge\n"
	"flowprof_recording_info{host=\"web-1\",kernel=\"\",attach_mode=\"\"} 1\n"
	"# EOF\n";

/* The first line where two texts differ, to make a failure readable. */
static void assert_same_text(const char *got, const char *want)
{
	const char *g = got, *w = want;
	int line = 1;

	while (*g && *g == *w) {
		line += *g == '\n';
		g++, w++;
	}
	if (*g || *w) {
		const char *gl = g, *wl = w;

		while (gl > got && gl[-1] != '\n')
			gl--;
		while (wl > want && wl[-1] != '\n')
			wl--;
		fail_msg("line %d differs:\n got: %.*s\nwant: %.*s", line,
			 (int)strcspn(gl, "\n"), gl, (int)strcspn(wl, "\n"), wl);
	}
}

static void test_openmetrics_text(void **state)
{
	struct snapshot s;
	struct metrics_extra x;
	char *text;

	(void)state;
	small_snapshot(&s);
	small_extra(&x);
	text = metrics_render(&s, &x, METRICS_OPENMETRICS);
	assert_same_text(text, openmetrics);
	free(text);
	metrics_extra_free(&x);
	snapshot_free(&s);
}

/* The Prometheus text: the same samples; counter families named as their
 * samples (with _total); no # UNIT lines and no # EOF. */
static void test_prometheus_text_differs_only_in_metadata(void **state)
{
	struct snapshot s;
	struct metrics_extra x;
	char *prom, *om, *pl, *ol, *psave = NULL, *osave = NULL;

	(void)state;
	small_snapshot(&s);
	small_extra(&x);
	prom = metrics_render(&s, &x, METRICS_PROMETHEUS);
	om = metrics_render(&s, &x, METRICS_OPENMETRICS);
	assert_null(strstr(prom, "# UNIT"));
	assert_null(strstr(prom, "# EOF"));
	assert_non_null(strstr(prom, "# TYPE flowprof_handler_calls_total counter\n"));
	assert_non_null(strstr(prom, "# HELP flowprof_kernel_events_total Kernel-side"));
	assert_non_null(strstr(prom, "# TYPE flowprof_handler_active_calls gauge\n"));
	/* sample lines, in order, are the same */
	pl = strtok_r(prom, "\n", &psave);
	ol = strtok_r(om, "\n", &osave);
	while (pl || ol) {
		while (pl && pl[0] == '#')
			pl = strtok_r(NULL, "\n", &psave);
		while (ol && ol[0] == '#')
			ol = strtok_r(NULL, "\n", &osave);
		if (!pl || !ol)
			break;
		assert_string_equal(pl, ol);
		pl = strtok_r(NULL, "\n", &psave);
		ol = strtok_r(NULL, "\n", &osave);
	}
	assert_null(pl);
	assert_null(ol);
	free(prom);
	free(om);
	metrics_extra_free(&x);
	snapshot_free(&s);
}

/* Without the model's figures there are no station families; without
 * on-CPU time measured, no on-CPU family. */
static void test_optional_families(void **state)
{
	struct snapshot s;
	char *text;

	(void)state;
	small_snapshot(&s);
	s.handlers[0].oncpu_measured = false;
	text = metrics_render(&s, NULL, METRICS_OPENMETRICS);
	assert_null(strstr(text, "flowprof_station_"));
	assert_null(strstr(text, "flowprof_handler_oncpu_seconds"));
	assert_non_null(strstr(text, "flowprof_handler_self_seconds_total{"));
	assert_int_equal(strcmp(text + strlen(text) - 6, "# EOF\n"), 0);
	free(text);
	snapshot_free(&s);
}

static void test_negotiation(void **state)
{
	(void)state;
	assert_int_equal(metrics_negotiate(NULL), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("text/plain"), METRICS_PROMETHEUS);
	assert_int_equal(metrics_negotiate("application/openmetrics-text;version=1.0.0,"
					   "text/plain;q=0.5"),
			 METRICS_OPENMETRICS);
	assert_string_equal(metrics_content_type(METRICS_OPENMETRICS),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
	assert_string_equal(metrics_content_type(METRICS_PROMETHEUS),
			    "text/plain; version=0.0.4; charset=utf-8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openmetrics_text),
		cmocka_unit_test(test_prometheus_text_differs_only_in_metadata),
		cmocka_unit_test(test_optional_families),
		cmocka_unit_test(test_negotiation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
