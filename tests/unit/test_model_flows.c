// SPDX-License-Identifier: MIT
/*
 * The model's flows, self-checks and closed workload (user/model/
 * model_flows.c, model_checks.c, model_closed.c) on snapshots built by
 * hand: recursion of an entry, an entry that also runs inside another
 * flow, flows that never ran, calls outside every flow (background that
 * scales with --scale), asynchronous chains and callers that never ran,
 * each self-check's note, and the closed workload's populations and the
 * stations off the users' path that cap it.
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

static bool has_note(const struct model *m, const char *want)
{
	for (int i = 0; i < m->n_notes; i++)
		if (!strcmp(m->notes[i], want))
			return true;
	for (int i = 0; i < m->n_notes; i++)
		print_error("note: %s\n", m->notes[i]);
	print_error("wanted: %s\n", want);
	return false;
}

/* ---- visit ratios and rates --------------------------------------------------- */

/* s.r calls itself: 200 of its 1000 calls ran inside another of its calls.
 * Those belong to the outer call: 800 arrivals (80/s), each with 1.25 calls
 * of s.r, which the pool sees as one visit (the nested ones hold the same
 * worker). */
static void test_recursive_entry(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	const struct model_station *st;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.r", 1000, 1e6, 0.8e6, 0, 1);
	add_edge(&s, "s.r", "s.r", 200);
	f = add_flow(&s, "rec", "s.r", 1000);
	add_visit(f, "s.r", 200);
	build(&s, &m);
	rel(m.flows[0].measured_rate_per_s, 80, 1e-12);
	rel(m.flows[0].visits[0], 1.25, 1e-12);
	st = station(&m, "s");
	rel(st->visits[0], 1, 1e-12);
	rel(st->demand_ns[0], 1.25 * 0.8e6, 1e-9);
	near(m.handlers[0].unattributed_calls, 0, 1e-9);
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	snapshot_free(&s);
}

/* Flow B's entry s.b also runs inside flow A (once per A): of its 1500
 * calls only 500 are B's own arrivals. */
static void test_entry_inside_another_flow(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.a", 1000, 3e6, 1e6, 0, 1);
	add_handler(&s, "s.b", 1500, 2e6, 2e6, 0, 1);
	add_edge(&s, "s.a", "s.b", 1000);
	f = add_flow(&s, "A", "s.a", 1000);
	add_visit(f, "s.b", 1000);
	add_flow(&s, "B", "s.b", 1500);
	build(&s, &m);
	rel(m.flows[0].measured_rate_per_s, 100, 1e-12);
	rel(m.flows[1].measured_rate_per_s, 50, 1e-12);
	/* what the report's entry-elsewhere flag counts */
	near(m.flows[0].entry_calls_elsewhere, 0, 1e-9);
	rel(m.flows[1].entry_calls_elsewhere, 1000, 1e-12);
	near(m.handlers[1].unattributed_calls, 0, 1e-9);
	rel(station(&m, "s")->busy_model, 0.4, 1e-9);
	assert_int_equal(m.n_notes, 1);
	assert_true(has_note(&m, "flow B: its entry s.b also runs inside flow A (1000 calls); its "
			     "rate counts only its 500 own arrivals"));
	model_free(&m);
	snapshot_free(&s);
}

/* h's probes corrected per call, and of its calls, n recorded as a flow's own
 * arrivals, each taking each_ns, all of it its own (self). */
static void set_arrivals(struct snap_handler *h, uint64_t n, uint64_t each_ns)
{
	h->probe_measured = h->arrival_measured = true;
	h->arrival = (struct snap_arrivals){ .calls = n, .ns = n * each_ns, .self_ns = n * each_ns };
}

/* As above, with B's own arrivals recorded: 500 calls of 5 ms at the top;
 * its 1000 calls inside A took 0.5 ms. The handler's mean over all its calls
 * is 2 ms; B's mean is its arrivals', and A holds s.b for 0.5 ms a visit:
 * in the flows' responses, their demands on the pool and the closed model. */
static void test_flow_mean_from_arrivals(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	struct snap_handler *h;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.a", 1000, 3e6, 1e6, 0, 1)->probe_measured = true;
	h = add_handler(&s, "s.b", 1500, 2e6, 2e6, 0, 1);
	set_arrivals(h, 500, 5000000);
	h->sumsq_ns2 = 500 * 25e12L + 1000 * 0.25e12L; /* 5 ms and 0.5 ms calls */
	add_edge(&s, "s.a", "s.b", 1000);
	f = add_flow(&s, "A", "s.a", 1000);
	add_visit(f, "s.b", 1000);
	add_flow(&s, "B", "s.b", 1500);
	build(&s, &m);
	rel(m.flows[1].measured_rate_per_s, 50, 1e-12);
	assert_true(m.flows[1].mean_from_arrivals);
	rel(m.flows[1].measured_mean_ns, 5e6, 1e-12);
	rel(m.flows[1].measured_mean_raw_ns, 5e6, 1e-12);
	rel(m.flows[1].predicted_service_measured_ns, 5e6, 1e-9);
	/* B's mean is one of 500 calls, not 1500: sqrt(3) times as uncertain
	 * as the handler's (no probe part: no calibration here) */
	assert_true(m.handlers[1].unc.mean_ns > 0);
	near(m.handlers[1].probe_unc_ns, 0, 0);
	rel(m.flows[1].measured_mean_unc_ns, m.handlers[1].unc.mean_ns * sqrt(3), 1e-9);
	rel(m.flows[0].measured_mean_unc_ns, m.handlers[0].unc.mean_ns, 1e-12);
	/* A: its own 1 ms and one 0.5 ms call of s.b, not the 2 ms mean */
	assert_false(m.flows[0].mean_from_arrivals);
	rel(m.flows[0].predicted_service_measured_ns, 1.5e6, 1e-9);
	/* the pool still holds a worker 2 ms a call of s.b */
	rel(station(&m, "s")->busy_model, 0.4, 1e-9);
	/* each flow's demand on the pool is its own: B 5 ms a request, A 1 ms
	 * and 0.5 ms of s.b (at another mix than the measured one, the pool's
	 * load follows the flows' own times) */
	rel(station(&m, "s")->demand_ns[1], 5e6, 1e-9);
	rel(station(&m, "s")->demand_ns[0], 1.5e6, 1e-9);
	model_free(&m);
	/* B alone: a closed user holds the pool 5 ms a request, the open
	 * model's pool is busy 5 ms a call of B */
	opt("--target", "A=0/s");
	opt("--target", "B=100/s");
	build(&s, &m);
	rel(m.closed.demand_ns, 5e6, 1e-9);
	rel(station(&m, "s")->utilization, 100 * 5e-3 / 4, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/* Two flows whose entries also run inside flow A: B's mean is its own
 * arrivals', C's (none recorded) its entry's over all its calls. The
 * report's flag says which is which. */
static void test_entry_elsewhere_means_told_apart(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.a", 1000, 4e6, 1e6, 0, 1)->probe_measured = true;
	set_arrivals(add_handler(&s, "s.b", 1500, 2e6, 2e6, 0, 1), 500, 5000000);
	add_handler(&s, "s.c", 1200, 1e6, 1e6, 0, 1)->probe_measured = true;
	add_edge(&s, "s.a", "s.b", 1000);
	add_edge(&s, "s.a", "s.c", 1000);
	f = add_flow(&s, "A", "s.a", 1000);
	add_visit(f, "s.b", 1000);
	add_visit(f, "s.c", 1000);
	add_flow(&s, "B", "s.b", 1500);
	add_flow(&s, "C", "s.c", 1200);
	build(&s, &m);
	assert_true(m.flows[1].mean_from_arrivals);
	assert_false(m.flows[2].mean_from_arrivals);
	out = open_memstream(&text, &len);
	report_print(out, &s, &m, &(struct report_opts){ .ascii = true });
	fclose(out);
	if (!strstr(text, "  ! flows whose entry also runs inside other flows: B (s.b: 1000 of 1500 "
			  "calls; its mean is its own arrivals'), C (s.c: 1000 of 1200 calls): a "
			  "flow's rate counts its own arrivals only (and its mean, where said), but "
			  "its percentiles, and the other means, are its entry handler's, over all "
			  "its calls\n"))
		fail_msg("the flag, in:\n%s", text);
	free(text);
	model_free(&m);
	snapshot_free(&s);
}

static void test_flows_that_never_ran(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_flow *idle;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.work", 1000, 1e6, 1e6, 0, 1);
	add_handler(&s, "s.idle", 0, 0, 0, 0, 1);
	add_flow(&s, "work", "s.work", 1000);
	add_flow(&s, "idle", "s.idle", 0);
	add_flow(&s, "gone", "s.missing", 0);
	opt("--target", "idle=5");
	build(&s, &m);
	assert_true(has_note(&m, "flow idle: its entry s.idle never ran during the recording: no "
			     "rate and no demands"));
	assert_true(has_note(&m, "flow gone: its entry s.missing never ran during the recording: "
			     "no rate and no demands"));
	assert_true(has_note(&m, "flow idle: --target given, but the flow never ran: no demands "
			     "to scale"));
	assert_int_equal(m.flows[2].entry_handler, -1);
	idle = &m.flows[1];
	assert_true(idle->targeted);
	near(idle->measured_rate_per_s, 0, 0);
	assert_false(idle->exceeds_capacity);
	assert_true(isnan(idle->predicted_mean_ns));
	assert_true(isnan(idle->max_rate_alone_per_s));
	assert_int_equal(idle->alone_bottleneck, -1);
	assert_true(isnan(idle->measured_mean_ns));
	/* the flow that ran is modelled as usual */
	rel(m.flows[0].rate_per_s, 100, 1e-12);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * pool_snapshot's web.handle (1000/s of 2 ms on 4 workers) and web.cron,
 * 2000 calls of 2 ms in no flow: 0.4 servers of background, which grows
 * with --scale like the flows do.
 */
static void test_background(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "web", 1, 4);
	add_handler(&s, "web.handle", 10000, 2e6, 2e6, 0.2e6, 1);
	add_handler(&s, "web.cron", 2000, 2e6, 2e6, 0, 1);
	add_flow(&s, "req", "web.handle", 10000);
	build(&s, &m);
	web = station(&m, "web");
	near(m.handlers[1].unattributed_calls, 2000, 1e-9);
	rel(web->background, 0.1, 1e-9);
	rel(web->utilization, 0.6, 1e-9);
	rel(web->busy_measured, 2.4, 1e-9);
	rel(web->busy_model, 2.0, 1e-9);
	assert_true(has_note(&m, "web: the flows explain 83% of its measured busy time (2.00 of "
			     "2.40 servers busy); the rest is outside every flow, kept as "
			     "background load"));
	model_free(&m);

	opt("--scale", "1.5");
	build(&s, &m);
	web = station(&m, "web");
	rel(web->background, 0.15, 1e-9);
	rel(web->utilization, 0.9, 1e-9);
	assert_int_equal(web->n_top, 2);
	assert_string_equal(m.handlers[web->top[0].handler].id, "web.handle");
	rel(web->top[0].busy, 3.0, 1e-9);
	rel(web->top[1].busy, 0.6, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/* ---- asynchronous attribution -------------------------------------------------- */

/* g.a ~> m.b ~> n.c: m.b ran 500 times for 1000 g.a, n.c 1000 times: 0.5
 * and 1 per invocation, found by iterating the chain. */
static void test_async_chain(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "g", 1, 4);
	add_bundle(&s, "m", 1, 2);
	add_bundle(&s, "n", 1, 2);
	add_handler(&s, "g.a", 1000, 1e6, 1e6, 0, 1);
	add_handler(&s, "m.b", 500, 2e6, 2e6, 0, 1);
	add_handler(&s, "n.c", 1000, 1e6, 1e6, 0, 1);
	f = add_flow(&s, "F", "g.a", 1000);
	add_declared(f, "g.a", "m.b", true);
	add_declared(f, "m.b", "n.c", true);
	build(&s, &m);
	rel(m.flows[0].visits[1], 0.5, 1e-12);
	rel(m.flows[0].visits[2], 1.0, 1e-12);
	rel(m.flows[0].visits_async[2], 1.0, 1e-12);
	near(m.flows[0].visits_async[0], 0, 0);
	assert_false(m.flows[0].least_squares);
	near(m.handlers[1].unattributed_calls, 0, 1e-9);
	near(m.handlers[2].unattributed_calls, 0, 1e-9);
	rel(station(&m, "m")->demand_ns[0], 1e6, 1e-9);
	rel(station(&m, "n")->demand_ns[0], 1e6, 1e-9);
	/* messages: the flow's response is g's alone */
	rel(m.flows[0].predicted_service_ns, 1e6, 1e-9);
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	snapshot_free(&s);
}

/* Flow F hands each of its requests' m.b calls to another thread, where no
 * flow is open: the kernel counts them with flow B's own arrivals (B's
 * entry is m.b), while by the counts they are F's (1.5 a request). B's rate
 * counts none of them, and a note says that its mean is theirs. */
static void test_entry_handed_calls_asynchronously(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	struct snap_handler *h;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "g", 1, 4);
	add_bundle(&s, "m", 1, 2);
	add_handler(&s, "g.a", 1000, 1e6, 1e6, 0, 1);
	h = add_handler(&s, "m.b", 1500, 2e6, 2e6, 0, 1);
	set_arrivals(h, 1500, 2000000);
	f = add_flow(&s, "F", "g.a", 1000);
	add_declared(f, "g.a", "m.b", true);
	add_flow(&s, "B", "m.b", 1500);
	build(&s, &m);
	rel(m.flows[0].visits_async[1], 1.5, 1e-12);
	near(m.flows[1].measured_rate_per_s, 0, 1e-12);
	assert_true(has_note(&m, "flow B: its measured mean and percentiles include the 1500 calls "
			     "other flows handed to its entry m.b asynchronously (on their thread "
			     "they arrive inside no flow)"));
	model_free(&m);
	snapshot_free(&s);
}

static void test_async_caller_never_ran(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "g", 1, 4);
	add_bundle(&s, "m", 1, 2);
	add_handler(&s, "g.a", 1000, 1e6, 1e6, 0, 1);
	add_handler(&s, "g.x", 0, 0, 0, 0, 1);
	add_handler(&s, "m.b", 100, 2e6, 2e6, 0, 1);
	f = add_flow(&s, "F", "g.a", 1000);
	add_declared(f, "g.x", "m.b", true);
	build(&s, &m);
	near(m.flows[0].visits[2], 0, 0);
	near(m.handlers[2].unattributed_calls, 100, 1e-9);
	assert_true(has_note(&m, "m.b: 100 calls not attributed: its declared asynchronous caller "
			     "g.x never ran in flows F"));
	model_free(&m);
	snapshot_free(&s);
}

/* ---- self-checks ------------------------------------------------------------------ */

/* The visit counts claim two s.b per invocation, but s.b ran once per
 * invocation: the model puts the pool over capacity where it was not. */
static void test_over_attributed(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 1);
	add_handler(&s, "s.a", 1000, 1e6, 1e6, 0, 1);
	add_handler(&s, "s.b", 1000, 5e6, 5e6, 0, 1);
	f = add_flow(&s, "F", "s.a", 1000);
	add_visit(f, "s.b", 2000);
	build(&s, &m);
	assert_true(has_note(&m, "s.b: the flows account for 2000 calls but it made 1000; its "
			     "visit ratios are over-estimated"));
	assert_true(has_note(&m, "flow F: at the measured rate the model puts s over capacity, "
			     "which the recording contradicts: a demand is over-estimated"));
	assert_true(has_note(&m, "s: the flows explain 183% of its measured busy time (1.10 of "
			     "0.60 servers busy); the rest is over-attributed, kept as background "
			     "load"));
	assert_true(m.flows[0].exceeds_capacity);
	model_free(&m);
	snapshot_free(&s);
}

/* s.a takes 10 ms, of which the model explains 2 ms (its own 1 ms and s.b's
 * 1 ms): Little's law does not hold between the two. Then the sampled
 * in-flight count disagrees with the handlers' times. */
static void test_little_and_sampled(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "s", 1, 4);
	add_handler(&s, "s.a", 1000, 10e6, 1e6, 0, 1);
	add_handler(&s, "s.b", 1000, 1e6, 1e6, 0, 1);
	add_edge(&s, "s.a", "s.b", 1000);
	f = add_flow(&s, "X", "s.a", 1000);
	add_visit(f, "s.b", 1000);
	build(&s, &m);
	rel(m.flows[0].predicted_service_measured_ns, 2e6, 1e-9);
	rel(m.flows[0].inflight_kernel, 1, 1e-12);
	assert_int_equal(m.n_notes, 1);
	assert_true(has_note(&m, "flow X: at the measured rate the model puts 2.00 ms inside its "
			     "entry against 10.0 ms measured (Little: 0.2 in flight by the model, "
			     "1 measured); a handler shared by flows may take different times in "
			     "each"));
	assert_true(m.flows[0].little_gap);
	assert_false(station(&m, "s")->count_gap);
	model_free(&m);

	s.handlers[0].inflight_mean = 2.0;
	build(&s, &m);
	rel(station(&m, "s")->busy_sampled, 2.0, 1e-12);
	rel(m.flows[0].inflight_sampled, 2.0, 1e-12);
	assert_true(has_note(&m, "s: 2.00 threads were inside its handlers at once on average, "
			     "but its handlers' times as measured (the probes' in them) add up to "
			     "1.00 busy; the model uses the times, corrected. Such a gap comes from "
			     "calls that never returned (INCOMPLETE), or from one thread's calls "
			     "counted in two of its handlers that are not declared as nested"));
	assert_true(station(&m, "s")->count_gap);
	model_free(&m);

	/* one thread inside for the raw 10 ms of each call: no gap, however
	 * much of it the correction takes out (the probes' time is in both) */
	s.handlers[0].inflight_mean = 1.0;
	build(&s, &m);
	for (int i = 0; i < m.n_notes; i++)
		assert_null(strstr(m.notes[i], "threads were inside its handlers"));
	assert_false(station(&m, "s")->count_gap);
	model_free(&m);
	snapshot_free(&s);
}

/* ---- closed workload ---------------------------------------------------------------- */

/* Without --users: 1, 2, 4 ... up to twice the knee, at least 8. The pool
 * of 4 at 2 ms has its knee at 4 users without think time, at 2004 with
 * 1 s of it. */
static void test_closed_populations(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "web", 1, 4);
	add_handler(&s, "web.handle", 10000, 2e6, 2e6, 0.2e6, 1);
	add_flow(&s, "req", "web.handle", 10000);
	build(&s, &m);
	rel(m.closed.knee, 4, 1e-6);
	assert_int_equal(m.closed.n, 4);
	assert_int_equal(m.closed.users[3], 8);
	model_free(&m);

	opt("--think", "1");
	build(&s, &m);
	rel(m.closed.knee, 2004, 1e-6);
	assert_int_equal(m.closed.n, 12);
	assert_int_equal(m.closed.users[11], 2048);
	for (int i = 0; i < m.closed.n; i++) {
		assert_int_equal(m.closed.users[i], 1 << i);
		assert_int_equal(m.closed.limited_by[i], -1);
	}
	model_free(&m);
	snapshot_free(&s);
}

/*
 * The users wait for gw (4 workers, 1 ms a request) only; mail (1 worker)
 * does 0.5 x 2.5 ms of asynchronous work per request: 800/s at most. The
 * curve is capped there, from the first user on, and the response is what
 * that throughput leaves: N / X.
 */
static void test_closed_limited_off_path(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	const struct model_closed *c;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "gw", 1, 4);
	add_bundle(&s, "mail", 1, 1);
	add_handler(&s, "gw.a", 1000, 1e6, 1e6, 0.5e6, 1);
	add_handler(&s, "gw.b", 3000, 1e6, 1e6, 0.5e6, 1);
	add_handler(&s, "mail.send", 2000, 2.5e6, 2.5e6, 0.1e6, 1);
	f = add_flow(&s, "a", "gw.a", 1000);
	add_declared(f, "gw.a", "mail.send", true);
	f = add_flow(&s, "b", "gw.b", 3000);
	add_declared(f, "gw.b", "mail.send", true);
	opt("--users", "1,64");
	build(&s, &m);
	c = &m.closed;
	assert_string_equal(m.stations[c->max_station].name, "mail");
	rel(c->max_demand_ns, 1.25e6, 1e-4);
	rel(c->demand_ns, 1e6, 1e-4);
	rel(c->knee, 0.8, 1e-4);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(m.stations[c->limited_by[i]].name, "mail");
		rel(c->throughput_per_s[i], 800, 1e-4);
		rel(c->bound_throughput_per_s[i], 800, 1e-4);
	}
	rel(c->response_ns[0], 1.25e6, 1e-4);
	rel(c->response_ns[1], 80e6, 1e-4);
	model_free(&m);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_recursive_entry, reset_opts),
		cmocka_unit_test_teardown(test_entry_inside_another_flow, reset_opts),
		cmocka_unit_test_teardown(test_flow_mean_from_arrivals, reset_opts),
		cmocka_unit_test_teardown(test_entry_elsewhere_means_told_apart, reset_opts),
		cmocka_unit_test_teardown(test_flows_that_never_ran, reset_opts),
		cmocka_unit_test_teardown(test_background, reset_opts),
		cmocka_unit_test_teardown(test_async_chain, reset_opts),
		cmocka_unit_test_teardown(test_entry_handed_calls_asynchronously, reset_opts),
		cmocka_unit_test_teardown(test_async_caller_never_ran, reset_opts),
		cmocka_unit_test_teardown(test_over_attributed, reset_opts),
		cmocka_unit_test_teardown(test_little_and_sampled, reset_opts),
		cmocka_unit_test_teardown(test_closed_populations, reset_opts),
		cmocka_unit_test_teardown(test_closed_limited_off_path, reset_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
