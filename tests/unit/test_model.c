// SPDX-License-Identifier: MIT
/*
 * The capacity model (user/model/, user/report/model_report.c) on snapshots built
 * by hand, with figures worked out on paper: utilizations, the bottleneck
 * (pool versus CPU), ceilings, sizing, M/M/c response times, "exceeds
 * capacity", --workers and --instances, exact and fitted visit ratios,
 * probe-cost correction, the closed workload, option errors and the JSON
 * object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "model/model.h"
#include "report/report.h"

#include "model_snapshots.h"

/*
 * A thread pool that saturates before the CPU: 10 s, 8 CPUs, bundle web of
 * one process whose 4 threads ran handlers. web.handle: 10000 calls (1000/s),
 * 2 ms each (exponential: scv 1), 0.2 ms of it on a CPU, the rest asleep.
 *   pool: U = 1000/s x 2 ms / 4 = 0.5;   CPU: U = 1000/s x 0.2 ms / 8 = 0.025
 *   ceiling: 4 / 2 ms = 2000/s (headroom 2); CPU alone would allow 40000/s
 *   sizing at U <= 0.7: ceil(2 / 0.7) = 3 workers
 *   M/M/4 at A = 2: C = 4/23, R = S (1 + C / (c - A)) = 2 ms x 25/23
 */
static void pool_snapshot(struct snapshot *s)
{
	snap_init(s, 10, 8);
	add_bundle(s, "web", 1, 4);
	add_handler(s, "web.handle", 10000, 2e6, 2e6, 0.2e6, 1);
	add_flow(s, "req", "web.handle", 10000);
}

static void test_pool_bottleneck(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web, *cpu;
	const struct model_flow *req;

	(void)state;
	pool_snapshot(&s);
	build(&s, &m);
	web = station(&m, "web");
	cpu = station(&m, "cpu");
	req = &m.flows[0];
	assert_int_equal(web->kind, STATION_POOL);
	assert_int_equal(web->servers, 4);
	assert_string_equal(web->servers_source, "observed");
	assert_int_equal(cpu->servers, 8);
	rel(req->measured_rate_per_s, 1000, 1e-12);
	rel(web->demand_ns[0], 2e6, 1e-9);
	rel(cpu->demand_ns[0], 0.2e6, 1e-9);
	rel(web->utilization, 0.5, 1e-9);
	rel(cpu->utilization, 0.025, 1e-9);
	assert_string_equal(m.stations[m.bottleneck].name, "web");
	assert_string_equal(m.handlers[m.bottleneck_handler].id, "web.handle");
	assert_string_equal(m.stations[m.ranking[1]].name, "cpu");
	rel(m.headroom, 2, 1e-9);
	rel(req->max_rate_per_s, 2000, 1e-9);
	rel(req->max_rate_alone_per_s, 2000, 1e-9);
	assert_string_equal(m.stations[req->alone_bottleneck].name, "web");
	assert_int_equal(web->required_servers, 3);
	assert_int_equal(cpu->required_servers, 1);
	/* M/M/4, A = 2, S = 2 ms, exponential service */
	assert_false(req->exceeds_capacity);
	rel(web->pwait, 4.0 / 23.0, 1e-9);
	rel(req->predicted_mean_ns, 2e6 * 25.0 / 23.0, 1e-9);
	/* at the measured rate: the time inside the entry is the measured 2 ms */
	rel(req->predicted_service_measured_ns, 2e6, 1e-9);
	rel(req->predicted_mean_measured_ns, 2e6 * 25.0 / 23.0, 1e-9);
	rel(req->predicted_p99_ns, mmc_response_percentile(4, 2.0, 2e6, 0.99), 0.01);
	rel(req->predicted_p95_ns, mmc_response_percentile(4, 2.0, 2e6, 0.95), 0.01);
	/* self-checks agree: busy time is exactly explained by the flow */
	rel(web->busy_measured, 2.0, 1e-9);
	rel(web->busy_model, 2.0, 1e-9);
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	snapshot_free(&s);
}

static char *print_to_string(const struct model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	model_print(f, m, true);
	fclose(f);
	return buf;
}

/* Observed servers that do not split evenly: 5 threads over 2 processes
 * is said as such, not as 2 x 3. */
static void test_uneven_observed_servers(void **state)
{
	struct snapshot s;
	struct model m;
	char *text;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "web", 2, 5);
	add_handler(&s, "web.handle", 1000, 1e6, 1e6, 0.1e6, 1);
	add_flow(&s, "req", "web.handle", 1000);
	build(&s, &m);
	assert_int_equal(station(&m, "web")->servers, 5);
	text = print_to_string(&m);
	assert_non_null(strstr(text, "5 over 2 instances (observed)"));
	assert_null(strstr(text, "5 = 2 x 3"));
	free(text);
	model_free(&m);
	snapshot_free(&s);
}

static void test_target_beyond_capacity(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web;
	const struct model_flow *req;
	char *text, *doc;
	json_object *j;

	(void)state;
	pool_snapshot(&s);
	opt("--target", "req=3000/s");
	build(&s, &m);
	web = station(&m, "web");
	req = &m.flows[0];
	assert_true(m.targeted);
	assert_true(req->targeted);
	rel(req->rate_per_s, 3000, 1e-12);
	rel(web->utilization, 1.5, 1e-9);
	assert_true(req->exceeds_capacity);
	assert_string_equal(m.stations[req->saturated_station].name, "web");
	assert_true(isinf(req->predicted_mean_ns));
	rel(m.headroom, 2.0 / 3.0, 1e-9);
	rel(req->max_rate_per_s, 2000, 1e-9);
	/* 3000/s x 2 ms = 6 busy: ceil(6 / 0.7) = 9 workers, or 3 instances of 4 */
	assert_int_equal(web->required_servers, 9);
	assert_int_equal(web->required_instances, 3);
	assert_int_equal(web->required_workers, 9);
	text = print_to_string(&m);
	assert_non_null(strstr(text, "req exceeds capacity: web would need 150% of its 4 servers"));
	assert_non_null(strstr(text, "EXCEEDS CAPACITY: at most 2.0k/s (67% of it)"));
	assert_non_null(strstr(text, "9: 3 instances or 9 workers"));
	assert_null(strstr(text, "inf"));
	assert_null(strstr(text, "-0"));
	free(text);
	j = model_to_json(&m);
	doc = jo_to_string(j, false);
	assert_non_null(strstr(doc, "\"exceeds_capacity\":true"));
	assert_non_null(strstr(doc, "\"predicted_mean_ns\":null"));
	assert_non_null(strstr(doc, "\"predicted_p99_ns\":null"));
	free(doc);
	json_object_put(j);
	model_free(&m);
	snapshot_free(&s);
}

static void test_workers_double_the_ceiling(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web;

	(void)state;
	pool_snapshot(&s);
	opt("--workers", "web=8");
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 8);
	assert_int_equal(web->instances, 1);
	assert_string_equal(web->servers_source, "command line");
	rel(m.flows[0].max_rate_alone_per_s, 4000, 1e-9);
	rel(m.flows[0].max_rate_per_s, 4000, 1e-9);
	rel(web->utilization, 0.25, 1e-9);
	model_free(&m);
	model_opts_free(&opts);

	/* --instances: 3 processes of the observed 4 workers each */
	opt("--instances", "web=3");
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 12);
	/* 6000/s, less a hair: at the ceiling the CPU (M/M/8 at A = 1.2) makes
	 * the held time 6e-7 longer than at the measured load */
	rel(m.flows[0].max_rate_alone_per_s, 6000, 1e-6);
	model_free(&m);
	model_opts_free(&opts);

	/* the flow file's workers: used unless the command line says otherwise */
	s.bundles[0].workers = 6;
	build(&s, &m);
	assert_int_equal(station(&m, "web")->servers, 6);
	assert_string_equal(station(&m, "web")->servers_source, "flow file");
	model_free(&m);
	snapshot_free(&s);
}

/*
 * The same pool with CPU work instead: 2 CPUs, 8 workers, 950/s of 2 ms of
 * which 1.9 ms on a CPU. CPU: U = 950 x 1.9 ms / 2 = 0.9025, the bottleneck;
 * ceiling 2 / 1.9 ms = 1052.6/s. The pool's own work is 1.9 ms (the rest is
 * taken as waiting for a CPU): U = 950 x 1.9 ms / 8 = 0.2256.
 */
static void test_cpu_bottleneck(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 2);
	add_bundle(&s, "web", 1, 8);
	add_handler(&s, "web.handle", 9500, 2e6, 2e6, 1.9e6, 0.1);
	add_flow(&s, "req", "web.handle", 9500);
	build(&s, &m);
	assert_string_equal(m.stations[m.bottleneck].name, "cpu");
	assert_string_equal(m.handlers[m.bottleneck_handler].id, "web.handle");
	rel(station(&m, "cpu")->utilization, 0.9025, 1e-9);
	rel(station(&m, "web")->utilization, 950 * 1.9e-3 / 8, 1e-9);
	rel(m.handlers[0].held0_ns, 1.9e6, 1e-9);
	rel(m.flows[0].max_rate_per_s, 2 / 1.9e-3, 1e-9);
	assert_string_equal(m.stations[m.flows[0].alone_bottleneck].name, "cpu");
	/* 2 CPUs at U <= 0.7 need ceil(1.805 / 0.7) = 3 */
	assert_int_equal(station(&m, "cpu")->required_servers, 3);
	assert_int_equal(m.n_notes, 1);
	assert_non_null(strstr(m.notes[0], "the bundles kept their CPUs 90% busy"));
	model_free(&m);
	snapshot_free(&s);
}

/*
 * CPU-bound as a real recording shows it: 8 workers spinning 2 ms each on 2
 * CPUs at 990/s are held 8 ms per request (each runs a quarter of the time).
 * The model takes the 6 ms of waiting for a CPU out of the pool's own work
 * (the run queue holds at most the 8 workers: stretch capped at 8 / 2 = 4),
 * so the CPU is the bottleneck, not the pool that looks full, and 16 workers
 * do not move the ceiling of 2 / 2 ms = 1000/s.
 */
static void test_cpu_bound_pool_waits(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 2);
	add_bundle(&s, "web", 1, 8);
	add_handler(&s, "web.handle", 9900, 8e6, 8e6, 2e6, 0.05);
	add_flow(&s, "req", "web.handle", 9900);
	build(&s, &m);
	rel(station(&m, "web")->utilization_measured, 990 * 8e-3 / 8, 1e-9);
	rel(m.handlers[0].held0_ns, 2e6, 1e-9);
	assert_string_equal(m.stations[m.bottleneck].name, "cpu");
	rel(m.flows[0].max_rate_per_s, 1000, 1e-9);
	/* sizing: the CPUs need ceil(1.98 / 0.7) = 3; the pool, sized on its own
	 * work once the CPUs are, ceil(990 x 2 ms / 0.7) = 3 */
	assert_int_equal(station(&m, "cpu")->required_servers, 3);
	assert_int_equal(station(&m, "web")->required_servers, 3);
	model_free(&m);
	opt("--workers", "web=16");
	build(&s, &m);
	assert_int_equal(station(&m, "web")->servers, 16);
	rel(m.handlers[0].held0_ns, 2e6, 1e-9);
	assert_string_equal(m.stations[m.bottleneck].name, "cpu");
	rel(m.flows[0].max_rate_per_s, 1000, 1e-9);
	model_free(&m);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Waits to run that the probes caused: 4 workers held 3 ms a request at
 * 200/s on 2 CPUs, 2 ms of it on a CPU, 0.8 ms waiting to run (the kernel's
 * runq_ns). Their own work keeps the CPUs 20% busy (M/M/2: a stretch of
 * 1.04, 0.083 ms of waiting taken out as before). With the probes' 1.8 s a
 * second more, the CPUs were full: the 0.8 ms are theirs, and go too
 * (model_stations.c, probed_wait_share); without probes' time, they stay.
 */
static void test_waits_to_run_the_probes_caused(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_handler *h;
	/* M/M/2 at A = 0.4: a stretch of 1 + C(2, 0.4) / 1.6, Erlang C = 1/15 */
	double est = 2e6 * (1.0 / 15 / 1.6);

	(void)state;
	snap_init(&s, 10, 2);
	add_bundle(&s, "web", 1, 4);
	h = add_handler(&s, "web.handle", 2000, 3e6, 3e6, 2e6, 0.05);
	h->runq_measured = true;
	h->runq_ns = (uint64_t)(2000 * 0.8e6);
	add_flow(&s, "req", "web.handle", 2000);
	build(&s, &m);
	rel(m.handlers[0].held_runq_ns, 0.8e6, 1e-9);
	rel(m.handlers[0].held0_ns, 3e6 - est, 1e-9);
	model_free(&m);
	s.bundles[0].cpu_measured = true;
	s.bundles[0].cpu_s = 22;
	h->probe_cpu_measured = true;
	h->probe_cpu_ns = (uint64_t)18e9;
	build(&s, &m);
	rel(m.handlers[0].held0_ns, 3e6 - est - 0.8e6, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/* A serial bundle (one event loop) at rho = 0.5 with exponential service:
 * M/M/1 gives R = 2 S. */
static void test_serial_mm1(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *loop;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "loop", 1, 1)->serial = true;
	add_handler(&s, "loop.tick", 5000, 1e6, 1e6, 0, 1); /* waits off the CPU */
	add_flow(&s, "tick", "loop.tick", 5000);
	build(&s, &m);
	loop = station(&m, "loop");
	assert_int_equal(loop->kind, STATION_SERIAL);
	assert_int_equal(loop->servers, 1);
	rel(loop->utilization, 0.5, 1e-9);
	rel(m.flows[0].predicted_mean_ns, 2e6, 1e-9);
	assert_int_equal(loop->required_servers, 1);
	model_free(&m);
	model_opts_free(&opts);

	/* at 900/s it would need 90% of one server: it cannot be given more */
	opt("target", "tick=900");
	build(&s, &m);
	loop = station(&m, "loop");
	assert_int_equal(loop->required_servers, 0);
	rel(m.flows[0].predicted_mean_ns, 1e6 / (1 - 0.9), 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * A serial handler (a lock) inside a pool of 8: web.handle (1 ms on the CPU)
 * calls web.lock, a 1 ms critical section (deterministic: scv 0), once per
 * request at 500/s. The lock is one server at U = 0.5; M/D/1 gives a wait
 * of rho / (1 - rho) x (1 + 0) / 2 x S = 0.5 ms, which the recording shows
 * inside web.handle's self time (1.5 ms) and the model takes out of the
 * pool's own work. At 1500/s the lock, not the pool, is over capacity.
 */
static void test_serial_handler_station(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *lock;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 16);
	add_bundle(&s, "web", 1, 8);
	add_handler(&s, "web.handle", 5000, 2.5e6, 1.5e6, 2e6, 0.1);
	add_handler(&s, "web.lock", 5000, 1e6, 1e6, 1e6, 0)->serial = true;
	add_edge(&s, "web.handle", "web.lock", 5000);
	f = add_flow(&s, "req", "web.handle", 5000);
	add_visit(f, "web.lock", 5000);
	build(&s, &m);
	lock = station(&m, "web.lock");
	assert_int_equal(lock->kind, STATION_LOCK);
	assert_int_equal(lock->servers, 1);
	rel(lock->utilization, 0.5, 1e-9);
	rel(lock->wait_ns, 0.5e6, 1e-9);
	/* web.handle's own work: its 1.5 ms self time less the 0.5 ms lock wait */
	rel(m.handlers[0].held0_ns, 1e6, 1e-4);
	rel(station(&m, "web")->demand_measured_ns[0], 2.5e6, 1e-9);
	rel(station(&m, "web")->demand_ns[0], 2e6, 1e-4);
	assert_int_equal(lock->required_servers, 1);
	model_free(&m);

	opt("--target", "req=1500/s");
	build(&s, &m);
	assert_true(m.flows[0].exceeds_capacity);
	assert_string_equal(m.stations[m.flows[0].saturated_station].name, "web.lock");
	assert_string_equal(m.stations[m.bottleneck].name, "web.lock");
	assert_int_equal(station(&m, "web.lock")->required_servers, 0);
	/* The ceiling is where the pool, counting the lock's wait, fills: the
	 * same test as "exceeds capacity". At rate x (per ms) the lock is at
	 * rho = x, its M/D/1 wait x / (1 - x) / 2 ms, and the 8 workers are
	 * full when x (2 + x / (2 (1 - x))) = 8, i.e. 3x^2 - 20x + 16 = 0:
	 * x = (20 - sqrt(208)) / 6, 929.6/s, before the lock's own 1000/s. */
	rel(m.flows[0].max_rate_per_s, (20 - sqrt(208)) / 6 * 1000, 1e-6);
	assert_string_equal(m.stations[m.flows[0].alone_bottleneck].name, "web");
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Nested calls: flow X (100/s) runs s.x (1 ms of its own) which calls s.y
 * twice; flow Z (200/s) runs s.z (1 ms) which calls s.y once; s.y takes
 * 1 ms. Demands at bundle s: X = 1 + 2 = 3 ms, Z = 1 + 1 = 2 ms; with 10
 * workers U = (100 x 3 ms + 200 x 2 ms) / 10 = 0.07.
 */
static void test_nested_visits_exact(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	const struct model_station *st;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 10);
	add_handler(&s, "s.x", 1000, 3e6, 1e6, 3e6, 0);
	add_handler(&s, "s.z", 2000, 2e6, 1e6, 2e6, 0);
	add_handler(&s, "s.y", 4000, 1e6, 1e6, 1e6, 0);
	add_edge(&s, "s.x", "s.y", 2000);
	add_edge(&s, "s.z", "s.y", 2000);
	f = add_flow(&s, "X", "s.x", 1000);
	add_visit(f, "s.y", 2000);
	add_declared(f, "s.x", "s.y", false);
	f = add_flow(&s, "Z", "s.z", 2000);
	add_visit(f, "s.y", 2000);
	add_declared(f, "s.z", "s.y", false);
	build(&s, &m);
	rel(m.flows[0].visits[2], 2, 1e-12);
	rel(m.flows[1].visits[2], 1, 1e-12);
	rel(m.flows[0].visits[0], 1, 1e-12);
	st = station(&m, "s");
	rel(st->demand_ns[0], 3e6, 1e-9);
	rel(st->demand_ns[1], 2e6, 1e-9);
	rel(st->utilization, 0.07, 1e-9);
	near(m.handlers[2].unattributed_calls, 0, 1e-9);
	rel(station(&m, "cpu")->demand_ns[0], 3e6, 1e-9);
	assert_false(m.flows[0].least_squares);
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Asynchronous calls. Flows a (100/s) and b (300/s) both hand work to
 * mail.send (200/s): two callers, one count: under-determined, fitted with
 * one ratio 2000 / (1000 + 3000) = 0.5 mail.send per caller call.
 */
static void test_async_least_squares(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	char *doc;
	json_object *j;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "gw", 1, 4);
	add_bundle(&s, "mail", 1, 1);
	add_handler(&s, "gw.a", 1000, 1e6, 1e6, 0.5e6, 1);
	add_handler(&s, "gw.b", 3000, 1e6, 1e6, 0.5e6, 1);
	add_handler(&s, "mail.send", 2000, 2e6, 2e6, 0.1e6, 1);
	f = add_flow(&s, "a", "gw.a", 1000);
	add_declared(f, "gw.a", "mail.send", true);
	f = add_flow(&s, "b", "gw.b", 3000);
	add_declared(f, "gw.b", "mail.send", true);
	build(&s, &m);
	rel(m.flows[0].visits[2], 0.5, 1e-12);
	rel(m.flows[1].visits[2], 0.5, 1e-12);
	rel(m.flows[0].visits_async[2], 0.5, 1e-12);
	assert_true(m.flows[0].least_squares);
	assert_true(m.flows[1].least_squares);
	assert_int_equal(m.n_notes, 1);
	assert_string_equal(m.notes[0],
			    "mail.send: 2000 calls from 2 asynchronous callers (gw.a, gw.b): their "
			    "split between flows a, b is under-determined; fitted by least squares "
			    "with one ratio for all callers (0.5 calls per caller call)");
	/* mail: 1 worker, (100 + 300) x 0.5 x 2 ms = 0.4 (less the waits for a CPU
	 * the model attributes to the measured load: negligible at 6% busy CPUs) */
	rel(station(&m, "mail")->utilization, 0.4, 1e-5);
	assert_true(station(&m, "mail")->utilization < 0.4);
	/* async work loads mail but is not part of the response: a's response is gw's */
	rel(m.flows[0].predicted_mean_ns,
	    1e6 * (1 + erlang_c(4, 0.4) / (4 - 0.4)), 1e-9);
	j = model_to_json(&m);
	doc = jo_to_string(j, false);
	assert_non_null(strstr(doc, "\"attribution\":\"least-squares\""));
	free(doc);
	json_object_put(j);
	model_free(&m);
	snapshot_free(&s);
}

/* One asynchronous caller: exact ratio, and the callee's nested calls
 * follow it (mail.send calls mail.smtp twice). */
static void test_async_single_caller(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "gw", 1, 4);
	add_bundle(&s, "mail", 1, 2);
	add_handler(&s, "gw.a", 1000, 1e6, 1e6, 0.5e6, 1);
	add_handler(&s, "mail.send", 1500, 3e6, 1e6, 0.1e6, 1);
	add_handler(&s, "mail.smtp", 3000, 1e6, 1e6, 0.1e6, 1);
	add_edge(&s, "mail.send", "mail.smtp", 3000);
	f = add_flow(&s, "a", "gw.a", 1000);
	add_declared(f, "gw.a", "mail.send", true);
	build(&s, &m);
	rel(m.flows[0].visits[1], 1.5, 1e-12);
	rel(m.flows[0].visits[2], 3.0, 1e-12);
	assert_false(m.flows[0].least_squares);
	/* mail's demand per a: 1.5 x (1 ms + 2 x 1 ms) = 4.5 ms */
	rel(station(&m, "mail")->demand_ns[0], 4.5e6, 1e-5);
	rel(station(&m, "mail")->demand_measured_ns[0], 4.5e6, 1e-9);
	near(m.handlers[2].unattributed_calls, 0, 1e-9);
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * A remote call (web.handle => db.query): web's 4 workers each wait for one
 * query on db's single worker (1 ms, exponential). At the measured 500/s db
 * is at rho = 0.5 and its M/M/1 wait is 1 ms, so web.handle measures 2 ms
 * (all of it waiting for the reply). At 700/s, rho = 0.7 and the wait is
 * 0.7 / 0.3 ms: web holds its worker 2 + (7/3 - 1) = 10/3 ms, so its pool
 * is at U+WAITS = 700/s x 10/3 ms / 4 = 7/12 while its own work stays at
 * 700/s x 2 ms / 4 = 0.35. In general web holds 1 / (1 - rho) ms, and its
 * 4 workers fill at rho / (1 - rho) = 4 ... i.e. 800/s, before db's 1000/s.
 * Declared as "~>" (no wait), the held time would not grow.
 */
static void test_remote_call_holds_the_worker(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	const struct model_station *web;

	(void)state;
	snap_init(&s, 10, 64);
	add_bundle(&s, "web", 1, 4);
	add_bundle(&s, "db", 1, 1);
	add_handler(&s, "web.handle", 5000, 2e6, 2e6, 0, 1);
	add_handler(&s, "db.query", 5000, 1e6, 1e6, 0, 1);
	f = add_flow(&s, "req", "web.handle", 5000);
	add_declared(f, "web.handle", "db.query", true);
	f->declared[0].waits = true;
	opt("--target", "req=700/s");
	build(&s, &m);
	web = station(&m, "web");
	rel(m.flows[0].visits[1], 1, 1e-12);
	rel(web->utilization, 0.35, 1e-9);
	rel(web->utilization_loaded, 7.0 / 12, 1e-6);
	rel(station(&m, "db")->utilization, 0.7, 1e-9);
	rel(m.flows[0].max_rate_per_s, 800, 1e-6);
	assert_string_equal(m.stations[m.flows[0].alone_bottleneck].name, "web");
	assert_false(m.flows[0].exceeds_capacity);
	model_free(&m);
	model_opts_free(&opts);

	/* at 800/s the workers are all waiting on db: over capacity */
	opt("--target", "req=810/s");
	build(&s, &m);
	assert_true(m.flows[0].exceeds_capacity);
	assert_string_equal(m.stations[m.flows[0].saturated_station].name, "web");
	model_free(&m);
	model_opts_free(&opts);

	/* a message (~>): web does not wait, so its pool stays at its own work */
	f->declared[0].waits = false;
	opt("--target", "req=700/s");
	build(&s, &m);
	rel(station(&m, "web")->utilization_loaded, 0.35, 1e-9);
	rel(m.flows[0].max_rate_per_s, 1000, 1e-6);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Probe cost: nop5 sites cost their caller 1000 ns per call, 800 ns of it
 * inside the measured window. p.outer (20 us raw, 8 us self) calls p.inner
 * (6 us raw) twice:
 *   inner: 6000 - 800 = 5200 ns
 *   outer: 20000 - 800 - 2 x 1000 = 17200 ns; self 8000 - 800 - 2 x 200 = 6800
 *   (6800 + 2 x 5200 = 17200: consistent)
 */
static void test_probe_cost_correction(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 4);
	s.probe_cost_ns = 800;
	s.probe_cost[1] = (struct snap_probe_cost){ true, 1000, 800 };
	add_bundle(&s, "p", 1, 1);
	add_handler(&s, "p.outer", 1000, 20000, 8000, 20000, 0)->probe_cost_ns = 800;
	add_handler(&s, "p.inner", 2000, 6000, 6000, 6000, 0)->probe_cost_ns = 800;
	add_edge(&s, "p.outer", "p.inner", 2000);
	add_flow(&s, "f", "p.outer", 1000);
	build(&s, &m);
	rel(m.handlers[1].raw_mean_ns, 6000, 1e-12);
	rel(m.handlers[1].mean_ns, 5200, 1e-12);
	rel(m.handlers[0].raw_mean_ns, 20000, 1e-12);
	rel(m.handlers[0].mean_ns, 17200, 1e-12);
	rel(m.handlers[0].self_ns, 6800, 1e-12);
	rel(m.handlers[0].probe_ns, 2800, 1e-12);
	rel(m.flows[0].measured_mean_raw_ns, 20000, 1e-12);
	rel(m.flows[0].measured_mean_ns, 17200, 1e-12);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Closed workload on the pool snapshot with Z = 1 s: D = 2 ms (a lone
 * user), Dmax = 2 ms / 4 = 0.5 ms, knee N* = (0.002 + 1) / 0.0005 = 2004.
 * One user: X = 1 / (Z + D). Far past the knee: X -> 4 / 2 ms = 2000/s.
 */
static void test_closed_workload(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_closed *c;

	(void)state;
	pool_snapshot(&s);
	opt("--users", "1,100,8000");
	opt("--think", "1s");
	build(&s, &m);
	c = &m.closed;
	rel(c->demand_ns, 2e6, 1e-9);
	rel(c->max_demand_ns, 0.5e6, 1e-9);
	assert_string_equal(m.stations[c->max_station].name, "web");
	rel(c->knee, 2004, 1e-9);
	assert_int_equal(c->n, 3);
	rel(c->throughput_per_s[0], 1 / 1.002, 1e-9);
	rel(c->response_ns[0], 2e6, 1e-9);
	rel(c->bound_throughput_per_s[0], 1 / 1.002, 1e-9);
	/* 100 users, far below the knee: hardly any queueing */
	rel(c->throughput_per_s[1], 100 / 1.002, 0.001);
	/* 8000 users: saturated at the pool */
	rel(c->throughput_per_s[2], 2000, 1e-6);
	rel(c->bound_throughput_per_s[2], 2000, 1e-12);
	rel(c->bound_response_ns[2], 8000 * 0.5e6 - 1e9, 1e-12);
	for (int i = 0; i < c->n; i++) {
		assert_true(c->throughput_per_s[i] <= c->bound_throughput_per_s[i] * (1 + 1e-9));
		assert_true(c->response_ns[i] >= c->bound_response_ns[i] * (1 - 1e-9));
	}
	model_free(&m);
	snapshot_free(&s);
}

static void expect_option_error(const char *name, const char *value, const char *want)
{
	char err[256] = "";

	assert_int_equal(model_parse_option(&opts, name, value, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_option_parsing(void **state)
{
	(void)state;
	opt("--target", "checkout=2.4k/s");
	opt("target", "browse=48000/min");
	assert_int_equal(opts.n_targets, 2);
	assert_string_equal(opts.targets[0].flow, "checkout");
	near(opts.targets[0].rate_per_s, 2400, 1e-9);
	near(opts.targets[1].rate_per_s, 800, 1e-9);
	opt("--scale", "1.5x");
	near(opts.scale, 1.5, 0);
	opt("--instances", "shop=3");
	opt("--workers", "shop=16");
	assert_int_equal(opts.workers[0].value, 16);
	opt("--util-limit", "80%");
	near(opts.util_limit, 0.8, 1e-12);
	opt("--users", "1,2,4");
	assert_int_equal(opts.n_users, 3);
	assert_int_equal(opts.users[2], 4);
	opt("--think", "500ms");
	near(opts.think_s, 0.5, 1e-12);

	expect_option_error("--target", "checkout",
			    "--target 'checkout': expected FLOW=RATE, e.g. checkout=800/s");
	expect_option_error("--target", "checkout=fast",
			    "--target 'checkout=fast': 'fast' is not a rate; write e.g. 800, 800/s, "
			    "2.4k/s, 48000/min or 30/h");
	expect_option_error("--target", "checkout=-5/s",
			    "--target 'checkout=-5/s': '-5/s' is not a rate; write e.g. 800, 800/s, "
			    "2.4k/s, 48000/min or 30/h");
	expect_option_error("--target", "checkout=5", "--target: flow 'checkout' given twice");
	expect_option_error("--scale", "0", "--scale '0': expected a positive number, e.g. 2 or 1.5x");
	expect_option_error("--workers", "shop=0",
			    "--workers 'shop=0': expected BUNDLE=N with N a positive integer, e.g. shop=16");
	expect_option_error("--instances", "shop",
			    "--instances 'shop': expected BUNDLE=N with N a positive integer, e.g. shop=3");
	expect_option_error("--workers", "shop=8", "--workers: bundle 'shop' given twice");
	expect_option_error("--util-limit", "1.5",
			    "--util-limit '1.5': expected a fraction in (0, 1] or a percentage, e.g. "
			    "0.7 or 70%");
	expect_option_error("--users", "1,2,x", "--users '1,2,x': 'x' is not a number of users (1 to 20000)");
	expect_option_error("--users", "50000",
			    "--users '50000': '50000' is not a number of users (1 to 20000)");
	expect_option_error("--think", "soon", "--think 'soon': expected seconds, e.g. 1, 500ms or 2s");
	expect_option_error("--bogus", "1",
			    "unknown model option '--bogus'; expected one of: --target, --scale, "
			    "--instances, --workers, --util-limit, --users, --think");
}

static void expect_build_error(const struct snapshot *s, const char *want)
{
	struct model m;
	char err[256] = "";

	assert_int_equal(model_build(s, &opts, &m, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_unknown_names(void **state)
{
	struct snapshot s;

	(void)state;
	pool_snapshot(&s);
	opt("--target", "reg=10");
	expect_build_error(&s, "--target: unknown flow 'reg'; did you mean 'req'?");
	model_opts_free(&opts);
	opt("--workers", "database=4");
	expect_build_error(&s, "--workers: unknown bundle 'database'; bundles are: web");
	model_opts_free(&opts);
	opt("--instances", "wbe=2");
	expect_build_error(&s, "--instances: unknown bundle 'wbe'; did you mean 'web'?");
	model_opts_free(&opts);
	s.duration_s = 0;
	expect_build_error(&s, "the snapshot has no duration: rates cannot be computed");
	snapshot_free(&s);
}

static void test_json_object(void **state)
{
	struct snapshot s;
	struct model m;
	json_object *j, *v, *st, *fl;

	(void)state;
	pool_snapshot(&s);
	build(&s, &m);
	j = model_to_json(&m);
	assert_true(json_object_object_get_ex(j, "bottleneck", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v, "station")), "web");
	assert_string_equal(json_object_get_string(json_object_object_get(v, "handler")),
			    "web.handle");
	near(json_object_get_double(json_object_object_get(v, "utilization")), 0.5, 1e-9);
	assert_true(json_object_object_get_ex(j, "stations", &v));
	st = json_object_array_get_idx(v, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(st, "name")), "web");
	assert_int_equal(json_object_get_int(json_object_object_get(st, "servers")), 4);
	near(json_object_get_double(json_object_object_get(st, "utilization")), 0.5, 1e-9);
	near(json_object_get_double(json_object_object_get(json_object_object_get(st, "demand_ns"),
							    "req")), 2e6, 0.1);
	assert_true(json_object_object_get_ex(j, "flows", &v));
	fl = json_object_array_get_idx(v, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(fl, "name")), "req");
	near(json_object_get_double(json_object_object_get(fl, "rate_per_s")), 1000, 1e-9);
	near(json_object_get_double(json_object_object_get(fl, "max_rate_per_s")), 2000, 1e-3);
	near(json_object_get_double(json_object_object_get(fl, "predicted_mean_ns")),
	     2e6 * 25 / 23, 0.1);
	assert_true(json_object_get_double(json_object_object_get(fl, "predicted_p99_ns")) >
		    2e6 * 25 / 23);
	json_object_put(j);
	model_free(&m);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pool_bottleneck, reset_opts),
		cmocka_unit_test_teardown(test_target_beyond_capacity, reset_opts),
		cmocka_unit_test_teardown(test_workers_double_the_ceiling, reset_opts),
		cmocka_unit_test_teardown(test_cpu_bottleneck, reset_opts),
		cmocka_unit_test_teardown(test_cpu_bound_pool_waits, reset_opts),
		cmocka_unit_test_teardown(test_waits_to_run_the_probes_caused, reset_opts),
		cmocka_unit_test_teardown(test_serial_mm1, reset_opts),
		cmocka_unit_test_teardown(test_serial_handler_station, reset_opts),
		cmocka_unit_test_teardown(test_nested_visits_exact, reset_opts),
		cmocka_unit_test_teardown(test_async_least_squares, reset_opts),
		cmocka_unit_test_teardown(test_async_single_caller, reset_opts),
		cmocka_unit_test_teardown(test_remote_call_holds_the_worker, reset_opts),
		cmocka_unit_test_teardown(test_uneven_observed_servers, reset_opts),
		cmocka_unit_test_teardown(test_probe_cost_correction, reset_opts),
		cmocka_unit_test_teardown(test_closed_workload, reset_opts),
		cmocka_unit_test_teardown(test_option_parsing, reset_opts),
		cmocka_unit_test_teardown(test_unknown_names, reset_opts),
		cmocka_unit_test_teardown(test_json_object, reset_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
