// SPDX-License-Identifier: MIT
/*
 * Wake-ups (user/model/model_wake.c) on snapshots built by hand and worked
 * out on paper: a one-thread loop on one CPU, 5,000 calls a second for
 * 10 s; each call costs 45 us of CPU and each wake-up 25 us (the lines
 * through the wake-ups of 1, 2 and 3 calls). Its CPU demand per call at the
 * recording is 61.5 us, of which 25 us x 33,000 wake-ups is waking (26.8 %);
 * the ceiling is what the calls alone allow, 1 / 45 us, not 1 / 61.5 us.
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

#include "model_snapshots.h"

#define CALL_NS 45000.0
#define WAKE_NS 25000.0

/* k-call wake-ups: periods of them, with probe_ns of probes each. */
static void wakeups(struct snap_bundle *b, int k, uint64_t periods, double probe_ns)
{
	b->wake.periods[k] = periods;
	b->wake.calls[k] = periods * (uint64_t)k;
	b->wake.probe_ns[k] = (uint64_t)llround((double)periods * probe_ns);
	b->wake.cpu_ns[k] = (uint64_t)llround((double)periods * (WAKE_NS + k * CALL_NS) +
					       (double)periods * probe_ns);
}

/* loop: 50,000 calls of 40 us on the CPU in 33,000 wake-ups (20,000 of one
 * call, 10,000 of two, 2,000 of three, 1,000 of four). */
static struct snap_bundle *loop_snapshot(struct snapshot *s)
{
	struct snap_bundle *b;

	snap_init(s, 10, 1);
	b = add_bundle(s, "loop", 1, 1);
	b->cpu_measured = true;
	b->cpu_s = (33000 * WAKE_NS + 50000 * CALL_NS) / 1e9;
	b->wake.measured = true;
	wakeups(b, 1, 20000, 0);
	wakeups(b, 2, 10000, 0);
	wakeups(b, 3, 2000, 0);
	wakeups(b, 4, 1000, 0);
	add_handler(s, "loop.req", 50000, 40e3, 40e3, 40e3, 1);
	add_flow(s, "req", "loop.req", 50000);
	return b;
}

static const struct model_flow *flow(const struct model *m)
{
	assert_int_equal(m->n_flows, 1);
	return &m->flows[0];
}

static void test_ceiling_from_the_calls_alone(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *loop, *cpu;

	(void)state;
	loop_snapshot(&s);
	build(&s, &m);
	loop = station(&m, "loop");
	cpu = station(&m, "cpu");
	rel(loop->wake_each_ns, WAKE_NS, 1e-9);
	rel(loop->wake_share, 33000 * WAKE_NS / (33000 * WAKE_NS + 50000 * CALL_NS), 1e-9);
	rel(loop->wake_call_ns, CALL_NS, 1e-9);
	rel(m.handlers[0].cpu_demand_ns, 61.5e3, 1e-9);
	/* at the recording, the CPU is as busy as measured: 5,000 x 61.5 us */
	rel(cpu->utilization, 0.3075, 1e-9);
	rel(flow(&m)->max_rate_per_s, 1e9 / CALL_NS, 1e-6);
	model_free(&m);

	/* twice the rate: the waking scaled by (1 - u) / (1 - 0.3075), u solved:
	 * the calls' 0.45 of a CPU, and 0.165 / 0.6925 x (1 - u) of waking */
	opt("--scale", "2");
	build(&s, &m);
	{
		double W = 0.165 / 0.6925;

		rel(station(&m, "cpu")->utilization, (0.45 + W) / (1 + W), 1e-9);
	}
	model_free(&m);
	snapshot_free(&s);
}

/* The probes' charge is taken out of each wake-up before the fit: the same
 * line, and the same share of a CPU demand that already left them out. */
static void test_probes_taken_out(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b = loop_snapshot(&s);

	(void)state;
	for (int k = 1; k <= 4; k++)
		wakeups(b, k, b->wake.periods[k], k * 3000.0);
	build(&s, &m);
	rel(station(&m, "loop")->wake_each_ns, WAKE_NS, 1e-9);
	rel(flow(&m)->max_rate_per_s, 1e9 / CALL_NS, 1e-6);
	model_free(&m);
	snapshot_free(&s);
}

/* Handlers whose corrected times leave nothing (their probes' calibrated
 * cost is all of their measured time): the CPU time is spread over the
 * calls alike, and its waking is found all the same, from the wake-ups'
 * own table (redis in one bench run: the waking unseen, its ceiling 40 %
 * low). */
static void test_probe_dominated_handlers(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *loop;

	(void)state;
	loop_snapshot(&s);
	s.handlers[0].probe_measured = true;
	s.handlers[0].probe_ns = s.handlers[0].self_probe_ns = s.handlers[0].total_ns;
	build(&s, &m);
	loop = station(&m, "loop");
	assert_true(m.handlers[0].oncpu_self_ns <= 0);
	rel(loop->wake_each_ns, WAKE_NS, 1e-9);
	rel(loop->wake_share, 33000 * WAKE_NS / (33000 * WAKE_NS + 50000 * CALL_NS), 1e-9);
	rel(flow(&m)->max_rate_per_s, 1e9 / CALL_NS, 1e-6);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * The CPU demand measured without probes after the recording (record
 * --unprobed: 60 us a call at the same rate), where the probes had kept the
 * thread busier: its wake-ups then come from its threads' sleeps, 3,000 in
 * that second against 5,000 calls (0.6 a call, where the recording saw
 * 0.66). Waking: 25 us x 0.6 x 50,000 = 0.75 s of the 3.0 s; a call 45 us.
 * Half of its sleeps inside calls (twice as many sleeps as wake-ups while
 * recording) changes nothing: only the wake-ups' share of them counts.
 */
static void test_wakeups_without_probes(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b = loop_snapshot(&s);

	(void)state;
	b->unprobed_measured = true;
	b->unprobed_s = 1;
	b->unprobed_cpu_s = 0.30;
	b->late_calls = 5000;
	b->late_s = 1;
	b->sleeps = 33000;
	b->unprobed_sleeps = 3000;
	build(&s, &m);
	rel(station(&m, "loop")->wake_share, 0.25, 1e-9);
	rel(station(&m, "loop")->wake_call_ns, CALL_NS, 1e-9);
	rel(flow(&m)->max_rate_per_s, 1e9 / CALL_NS, 1e-6);
	model_free(&m);

	b->sleeps = 66000;
	b->unprobed_sleeps = 6000;
	build(&s, &m);
	rel(station(&m, "loop")->wake_share, 0.25, 1e-9);
	model_free(&m);

	/* sleeps not counted: the recording's wake-ups, 33,000 for the calls */
	b->unprobed_sleeps = 0;
	build(&s, &m);
	rel(station(&m, "loop")->wake_share, 33000 * WAKE_NS / 3.0e9, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/* An unprobed window of 1 s with cpu_s of CPU time in its first half,
 * after a late part of 5,000 calls a second; its second half counted
 * 5,200 of the window's 50,000 calls (the rate held: 4 % off), their
 * probe charged 0.035 s. */
static void unprobed_counted(struct snap_bundle *b, double cpu_s)
{
	b->unprobed_measured = true;
	b->unprobed_s = 1;
	b->unprobed_cpu_s = cpu_s;
	b->late_calls = 5000;
	b->late_s = 1;
	b->counted_s = 1;
	b->counted_window_calls = 50000;
	b->counted_calls = 5200;
	b->counted_cpu_s = 0.9; /* not used while the rate held */
	b->counted_probe_s = 0.035;
}

/*
 * The calls counted in the second half of the unprobed window: at the
 * recording's rate (4 % off), the first half's CPU time at that rate stands
 * (60 us a call: 3.0 of the 3.075 s, the probes 0.075 s); 40 % faster (a
 * load that waits for each answer), the counted half's CPU time less the
 * counting probe's charge, over its calls ((0.385 - 0.035) / 7,000 = 50 us:
 * 2.5 s, the probes 0.575 s), with a note.
 */
static void test_unprobed_calls_counted(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b = loop_snapshot(&s);
	bool said = false;

	(void)state;
	unprobed_counted(b, 0.30);
	build(&s, &m);
	rel(station(&m, "loop")->probes_measured_s, 0.075, 1e-9);
	model_free(&m);

	b->counted_calls = 7000;
	b->counted_cpu_s = 0.385;
	build(&s, &m);
	rel(station(&m, "loop")->probes_measured_s, 0.575, 1e-9);
	for (int i = 0; i < m.n_notes; i++)
		said |= strstr(m.notes[i], "once the probes went (the handlers counted: 7000 "
				       "calls/s then, 5000/s at the end") != NULL;
	assert_true(said);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Without probes, more CPU time a call than with them (66 us against
 * 61.5): at the same rate (the calls counted 4 % off), the probes' delay let
 * each wake-up serve more calls, and the measurement is the demand (3.3 s:
 * the probes "took" -0.225 s), with a note; at a rate 40 % off, the load
 * changed, and the calibrated demand stands.
 */
static void test_unprobed_more_than_with_probes(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b = loop_snapshot(&s);
	bool said = false;

	(void)state;
	unprobed_counted(b, 0.33);
	build(&s, &m);
	rel(station(&m, "loop")->probes_measured_s, -0.225, 1e-9);
	for (int i = 0; i < m.n_notes; i++)
		said |= strstr(m.notes[i], "at the same rate: the probes' delay let each wake-up "
				       "serve more calls") != NULL;
	assert_true(said);
	model_free(&m);

	b->counted_calls = 7000;
	b->counted_cpu_s = 0.5;
	build(&s, &m);
	assert_false(isfinite(station(&m, "loop")->probes_measured_s));
	model_free(&m);
	snapshot_free(&s);
}

/* A call per wake-up only (a thread per request, a client that waits for
 * each answer): no line, no waking, the demand the same at any load. And a
 * snapshot without wake-ups (older, or merged with one) is as before. */
static void test_nothing_to_fit(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b = loop_snapshot(&s);

	(void)state;
	for (int k = 2; k <= 4; k++)
		wakeups(b, k, 0, 0);
	build(&s, &m);
	near(station(&m, "loop")->wake_share, 0, 0);
	rel(flow(&m)->max_rate_per_s, 1e9 / 61.5e3, 1e-6);
	model_free(&m);

	/* calls that shared wake-ups, but none of 1 to 3 calls (the probes
	 * kept the thread busy): a note says why nothing was fitted */
	wakeups(b, 1, 0, 0);
	b->wake.periods[8] = 100;
	b->wake.calls[8] = 50000;
	build(&s, &m);
	near(station(&m, "loop")->wake_share, 0, 0);
	assert_non_null(note(&m, "loop: its threads woke once in 500 calls while recorded: too "
			      "few wake-ups of 1 to 3 calls"));
	model_free(&m);

	b->wake.measured = false;
	build(&s, &m);
	near(station(&m, "loop")->wake_share, 0, 0);
	rel(flow(&m)->max_rate_per_s, 1e9 / 61.5e3, 1e-6);
	model_free(&m);
	snapshot_free(&s);
}

/* One thread on two CPUs: the thread fills before the CPUs do, and the
 * waking stays per-call demand (the ceiling: what one thread can do is not
 * the CPU station's to say). */
static void test_one_thread_on_two_cpus(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *loop;

	(void)state;
	loop_snapshot(&s);
	s.nproc = 2;
	build(&s, &m);
	/* the thread fills first: it is held for the calls' 40 us, and for the
	 * 21.5 us a call of the loop's CPU time outside them: 16.5 us of that
	 * is waking (25 us x 33,000 / 50,000), which falls as it fills; 5 us is
	 * not. Its ceiling is 1 / 45 us, as on one CPU; the CPUs keep their
	 * demand per call */
	loop = station(&m, "loop");
	rel(loop->wake_share, 33000 * WAKE_NS / (33000 * WAKE_NS + 50000 * CALL_NS), 1e-9);
	rel(loop->outside_call_ns, 5000, 1e-9);
	rel(loop->outside_ns[0], 5000, 1e-9);
	rel(loop->wake_ns[0], 16500, 1e-9);
	rel(loop->wake_u0, 0.3075, 1e-9);
	rel(loop->utilization, 0.3075, 1e-9);
	near(station(&m, "cpu")->wake_ns[0], 0, 0);
	near(m.handlers[0].cpu_wake_ns, 0, 0);
	rel(flow(&m)->max_rate_per_s, 1e9 / CALL_NS, 1e-6);
	{
		const char *n = note(&m, "loop: waking its threads took 27% of its CPU demand");

		assert_non_null(n);
		assert_non_null(strstr(n, "but its 1 thread cannot keep the 2 CPUs busy and fills "
					  "first"));
		assert_non_null(strstr(n, "(5 us a call, waking aside)"));
	}
	model_free(&m);

	/* twice the rate: the thread's waking scaled by (1 - u) / (1 - 0.3075),
	 * as the CPU's is where the CPUs fill first */
	opt("--scale", "2");
	build(&s, &m);
	{
		double W = 0.165 / 0.6925;

		rel(station(&m, "loop")->utilization, (0.45 + W) / (1 + W), 1e-9);
	}
	model_free(&m);
	reset_opts(NULL);

	/* the thread 96 % busy while recording (the same work in 3.2 s): too
	 * few calls find it asleep to scale from, so it is held for the
	 * waking as it was, 21.5 us a call outside the handler */
	s.duration_s = 3.2;
	s.flows[0].invocations = 50000;
	build(&s, &m);
	loop = station(&m, "loop");
	rel(loop->wake_u0, 15625 * 61.5e-6, 1e-9);
	near(loop->wake_ns[0], 0, 0);
	rel(loop->outside_ns[0], 21500, 1e-9);
	rel(loop->outside_call_ns, 21500, 1e-9);
	rel(flow(&m)->max_rate_per_s, 1e9 / 61.5e3, 1e-6);
	assert_non_null(note(&m, "loop: waking its threads took 27% of its CPU demand"));
	assert_non_null(strstr(note(&m, "loop: waking its threads took 27% of its CPU demand"),
			       "(21.5 us a call, waking included: it was 96% busy while recording"));
	model_free(&m);
	s.duration_s = 10;

	/* two CPUs, and two threads that served at once: the CPUs fill first */
	s.bundles[0].conc_measured = true;
	s.bundles[0].inflight_max = 2;
	s.bundles[0].threads = 2;
	s.bundles[0].inflight_ns[2] = 1000000000;
	build(&s, &m);
	rel(station(&m, "loop")->wake_share, 33000 * WAKE_NS / (33000 * WAKE_NS + 50000 * CALL_NS),
	    1e-9);
	near(station(&m, "loop")->outside_call_ns, 0, 0);
	model_free(&m);
	snapshot_free(&s);
}

/* Recorded with the CPU nearly full: too few calls find the thread asleep
 * to scale from; the demand stays, and a note says why. */
static void test_cpu_full_while_recording(void **state)
{
	struct snapshot s;
	struct model m;
	bool said = false;

	(void)state;
	loop_snapshot(&s);
	s.duration_s = 3.2; /* the same work in 3.2 s: the CPU 96 % busy */
	s.flows[0].invocations = 50000;
	build(&s, &m);
	rel(flow(&m)->max_rate_per_s, 1e9 / 61.5e3, 1e-6);
	for (int i = 0; i < m.n_notes; i++)
		said |= strstr(m.notes[i], "taken as the same at any load") != NULL;
	assert_true(said);
	model_free(&m);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ceiling_from_the_calls_alone, reset_opts),
		cmocka_unit_test_teardown(test_probes_taken_out, reset_opts),
		cmocka_unit_test_teardown(test_probe_dominated_handlers, reset_opts),
		cmocka_unit_test_teardown(test_wakeups_without_probes, reset_opts),
		cmocka_unit_test_teardown(test_unprobed_calls_counted, reset_opts),
		cmocka_unit_test_teardown(test_unprobed_more_than_with_probes, reset_opts),
		cmocka_unit_test_teardown(test_nothing_to_fit, reset_opts),
		cmocka_unit_test_teardown(test_cpu_full_while_recording, reset_opts),
		cmocka_unit_test_teardown(test_one_thread_on_two_cpus, reset_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
