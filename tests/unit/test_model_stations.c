// SPDX-License-Identifier: MIT
/*
 * The model's stations (user/model/model_stations.c, model_cpu.c) on
 * snapshots built by hand: a pool's servers from the kernel's concurrency
 * counts, from the flow file, from the command line, with a note when the
 * recording cannot tell; serial bundles; and the CPU station: its demand
 * with the processes' CPU time outside the handlers, a CPU quota as slower
 * CPUs, the CPUs other processes kept busy, and when there is none.
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

/* ---- pools ---------------------------------------------------------------------- */

/*
 * web: 2 processes, 50 threads seen, but at most 3 inside its handlers at
 * once in a process (the kernel's concurrency histogram: level 0 for 1 s,
 * 1 for 1 s, 2 for 2 s: 1.25 at once on average), while 10 stayed alive:
 * a pool of 10 workers a process, 2 x 10 = 20 servers, 2.5 busy on average,
 * which is what its handlers' times say too (25000 calls of 1 ms in 10 s).
 */
static void concurrency_snapshot(struct snapshot *s)
{
	struct snap_bundle *b;

	snap_init(s, 10, 8);
	b = add_bundle(s, "web", 2, 50);
	b->conc_measured = true;
	b->inflight_max = 3;
	b->live_max = 10;
	b->inflight_ns[0] = 1000000000;
	b->inflight_ns[1] = 1000000000;
	b->inflight_ns[2] = 2000000000;
	b->live_ns[10] = 4000000000;
	add_handler(s, "web.handle", 25000, 1e6, 1e6, 0.1e6, 1);
	add_flow(s, "req", "web.handle", 25000);
}

static void test_pool_from_concurrency(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web;

	(void)state;
	concurrency_snapshot(&s);
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->kind, STATION_POOL);
	assert_int_equal(web->servers, 20);
	assert_int_equal(web->instances, 2);
	assert_int_equal(web->workers, 10);
	assert_string_equal(web->servers_source, "observed");
	assert_string_equal(web->servers_basis, "live threads");
	assert_int_equal(web->concurrency_max, 3);
	rel(web->concurrency_mean, 2.5, 1e-12);
	/* the kernel's count is the sampled figure of the self-check */
	rel(web->busy_sampled, 2.5, 1e-12);
	rel(web->busy_measured, 2.5, 1e-9);
	assert_int_equal(m.n_notes, 1);
	assert_string_equal(m.notes[0],
			    "web: counted 10 workers a process: threads that ran its handlers "
			    "stayed alive, 10 at once on average, though at most 3 ran them at a "
			    "time; if fewer can serve at once, say workers: N in the flow file (or "
			    "--workers)");
	model_free(&m);

	/* a thread per request: they die after it, so about as many are alive
	 * as run at once (2 for 3.6 s, 3 for 0.4 s while one exits): the most
	 * inside the handlers at once, 3 a process */
	memset(s.bundles[0].live_ns, 0, sizeof(s.bundles[0].live_ns));
	s.bundles[0].live_ns[2] = 3600000000;
	s.bundles[0].live_ns[3] = 400000000;
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 6);
	assert_int_equal(web->workers, 3);
	assert_string_equal(web->servers_basis, "concurrency");
	assert_int_equal(m.n_notes, 0);
	model_free(&m);
	s.bundles[0].live_ns[2] = 0;
	s.bundles[0].live_ns[3] = 0;
	s.bundles[0].live_ns[10] = 4000000000;

	/* told how many workers there are: no note, and the given size */
	opt("--workers", "web=5");
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 10);
	assert_int_equal(web->instances, 2);
	assert_string_equal(web->servers_source, "command line");
	assert_null(note(&m, "web: counted"));
	model_free(&m);
	snapshot_free(&s);
}

static void test_pool_sizes(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *web;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "web", 3, 0);
	add_handler(&s, "web.handle", 1000, 1e6, 1e6, 0.1e6, 1);
	add_flow(&s, "req", "web.handle", 1000);
	/* no thread count: one worker per process, and a note saying so */
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 3);
	assert_int_equal(web->instances, 3);
	assert_int_equal(web->workers, 1);
	assert_string_equal(web->servers_basis, "threads");
	assert_non_null(note(&m, "web: no thread count in the snapshot; assuming one worker per "
			     "process (set workers: in the flow file or --workers)"));
	model_free(&m);

	/* the flow file's instances, with the threads seen per process */
	s.bundles[0].n_pids = 2;
	s.bundles[0].threads = 8;
	s.bundles[0].instances = 3;
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->instances, 3);
	assert_int_equal(web->workers, 4);
	assert_int_equal(web->servers, 12);
	assert_string_equal(web->servers_source, "flow file");
	assert_null(web->servers_basis);
	model_free(&m);

	/* the flow file's workers, at the processes seen */
	s.bundles[0].instances = 0;
	s.bundles[0].workers = 6;
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 12);
	assert_int_equal(web->instances, 2);
	assert_int_equal(web->workers, 6);
	model_free(&m);

	/* the command line over the flow file */
	opt("--instances", "web=3");
	build(&s, &m);
	web = station(&m, "web");
	assert_int_equal(web->servers, 18);
	assert_string_equal(web->servers_source, "command line");
	model_free(&m);
	snapshot_free(&s);
}

/* A serial bundle is one server whatever it is told; a handler of a bundle
 * the snapshot does not list still gets a pool, of one. */
static void test_serial_and_unlisted_bundles(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *loop, *ghost;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "loop", 1, 4)->serial = true;
	add_handler(&s, "loop.tick", 1000, 1e6, 1e6, 0.1e6, 1);
	add_handler(&s, "ghost.h", 1000, 1e6, 1e6, 0.1e6, 1);
	add_flow(&s, "tick", "loop.tick", 1000);
	opt("--workers", "loop=4");
	build(&s, &m);
	loop = station(&m, "loop");
	assert_int_equal(loop->kind, STATION_SERIAL);
	assert_int_equal(loop->servers, 1);
	assert_string_equal(loop->servers_source, "serial");
	ghost = station(&m, "ghost");
	assert_int_equal(ghost->kind, STATION_POOL);
	assert_int_equal(ghost->bundle, -1);
	assert_int_equal(ghost->servers, 1);
	assert_non_null(note(&m, "ghost: no thread count in the snapshot"));
	/* ghost.h runs in no flow: all of it is background */
	near(m.handlers[1].unattributed_calls, 1000, 1e-9);
	rel(ghost->background, 0.1, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/* ---- the CPU station ------------------------------------------------------------ */

/*
 * web's processes used 3 s of CPU in 10 s; its handler's own on-CPU time
 * adds up to 10000 x 0.2 ms = 2 s. The other 1 s (parsing, the framework)
 * is spread over the handler: 0.3 ms per call. With the probes' own cost
 * (push at entry, ret at exit: 50 us a call, 0.5 s in all) taken out of
 * that 1 s first, 0.25 ms.
 */
static void test_cpu_outside_handlers(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *cpu;
	struct snap_bundle *b;
	struct snap_handler *h;

	(void)state;
	snap_init(&s, 10, 8);
	b = add_bundle(&s, "web", 1, 4);
	b->cpu_measured = true;
	b->cpu_s = 3.0;
	h = add_handler(&s, "web.handle", 10000, 2e6, 2e6, 0.2e6, 1);
	add_flow(&s, "req", "web.handle", 10000);
	build(&s, &m);
	cpu = station(&m, "cpu");
	rel(m.handlers[0].cpu_demand_ns, 0.3e6, 1e-9);
	rel(cpu->demand_ns[0], 0.3e6, 1e-9);
	rel(cpu->utilization, 1000 * 0.3e-3 / 8, 1e-9);
	rel(station(&m, "web")->cpu_outside_share, 1.0 / 3, 1e-9);
	assert_string_equal(cpu->servers_source, "nproc");
	model_free(&m);

	h->entry_site = xstrdup("push");
	h->exit_site = xstrdup("ret");
	s.probe_slots[3] = (struct snap_slot_cost){ .measured = true, .hit_ns = 30000 };
	s.probe_slots[9] = (struct snap_slot_cost){ .measured = true, .hit_ns = 20000 };
	build(&s, &m);
	rel(m.handlers[0].cpu_demand_ns, 0.25e6, 1e-9);
	rel(station(&m, "web")->cpu_outside_share, 0.2, 1e-9);
	model_free(&m);

	/* no more CPU time than the handlers' own: nothing to spread */
	b->cpu_s = 1.0;
	build(&s, &m);
	rel(m.handlers[0].cpu_demand_ns, 0.2e6, 1e-9);
	near(station(&m, "web")->cpu_outside_share, 0, 0);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * A hot handler whose probes the calibration prices above what its process
 * used (redis under load: 3.0 s of probes by the middle figure, 2.0 s of
 * CPU time used in all), and whose corrected time is nothing. The warm end
 * of the calibration (hit less jitter: 15 - 5 + 25 - 10 = 25 of 40 us a
 * call) leaves 2.0 - 1.875 s of work: 1.67 us a call of 75000, all of it
 * demand on the CPU, and the model says why. With the warm end too above
 * what was used, the demand is left out and the model says so.
 */
static void test_probes_above_the_cpu_time(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b;
	struct snap_handler *h;
	bool said = false;

	(void)state;
	snap_init(&s, 3, 2);
	b = add_bundle(&s, "redis", 1, 1);
	b->cpu_measured = true;
	b->cpu_s = 2.0;
	h = add_handler(&s, "redis.command", 75000, 0, 0, 0, 1);
	h->entry_site = xstrdup("push");
	h->exit_site = xstrdup("ret");
	h->probe_cpu_measured = true;
	h->probe_cpu_ns = 3000000000ULL;
	s.probe_slots[3] = (struct snap_slot_cost){ .measured = true, .hit_ns = 15000,
						     .jitter_ns = 5000 };
	s.probe_slots[9] = (struct snap_slot_cost){ .measured = true, .hit_ns = 25000,
						     .jitter_ns = 10000 };
	add_flow(&s, "command", "redis.command", 75000);
	build(&s, &m);
	rel(m.handlers[0].cpu_demand_ns, (2.0e9 - 3.0e9 * 25 / 40) / 75000, 1e-9);
	rel(station(&m, "cpu")->demand_ns[0], (2.0e9 - 3.0e9 * 25 / 40) / 75000, 1e-9);
	for (int i = 0; i < m.n_notes; i++)
		said |= strstr(m.notes[i], "warm end") != NULL;
	assert_true(said);
	rel(station(&m, "redis")->probes_over_cpu_s, 3.0, 1e-9);
	rel(station(&m, "redis")->probes_warm_s, 1.875, 1e-9);
	rel(station(&m, "redis")->cpu_used_s, 2.0, 1e-9);
	model_free(&m);

	b->cpu_s = 1.5;
	build(&s, &m);
	near(m.handlers[0].cpu_demand_ns, 0, 0);
	said = false;
	for (int i = 0; i < m.n_notes; i++)
		said |= strstr(m.notes[i], "not known") != NULL;
	assert_true(said);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * One CPU, a pool of 8: each request holds its worker 0.2 ms, all on the CPU,
 * and costs the CPU another 0.1 ms outside the handler (its processes used
 * 3 s in 10 s for 10000 requests). At 2500/s the CPU is 75 % busy and
 * every CPU-second of a request waits for it: the response grows by the
 * stretch's change over all 0.3 ms, not over the handler's 0.2 ms alone.
 */
static void test_cpu_wait_outside_handlers(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b;
	double at_measured, at_target, grow, pool_wait;

	(void)state;
	snap_init(&s, 10, 1);
	b = add_bundle(&s, "web", 1, 8);
	b->cpu_measured = true;
	b->cpu_s = 3.0;
	add_handler(&s, "web.handle", 10000, 0.2e6, 0.2e6, 0.2e6, 1);
	add_flow(&s, "req", "web.handle", 10000);
	build(&s, &m);
	rel(m.handlers[0].cpu_outside_ns, 0.1e6, 1e-9);
	at_measured = m.flows[0].predicted_mean_ns;
	pool_wait = station(&m, "web")->wait_ns;
	model_free(&m);
	opt("--target", "req=2500/s");
	build(&s, &m);
	at_target = m.flows[0].predicted_mean_ns;
	pool_wait = station(&m, "web")->wait_ns - pool_wait;
	grow = mmc_stretch(1, 0.75) - mmc_stretch(1, 0.3);
	/* and the wait for one of the 8 workers, held a little longer */
	assert_true(pool_wait >= 0 && pool_wait < 0.001 * 0.3e6 * grow);
	rel(at_target - at_measured - pool_wait, 0.3e6 * grow, 1e-6);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * A quota of 1.5 CPUs on an 8-CPU host: a station of 2 servers, each doing
 * three quarters of a CPU's work, so a call's 0.3 ms takes 0.4 ms of one.
 * The utilization is the same as 0.3 ms on 1.5 CPUs: 1000/s x 0.3 ms / 1.5.
 * An affinity to every CPU limits nothing.
 */
static void test_cpu_quota(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *cpu;
	struct snap_bundle *b;

	(void)state;
	snap_init(&s, 10, 8);
	b = add_bundle(&s, "web", 1, 4);
	b->cpus = 1.5;
	b->cpus_source = xstrdup("cgroup v2 cpu.max");
	add_handler(&s, "web.handle", 10000, 2e6, 2e6, 0.3e6, 1);
	add_flow(&s, "req", "web.handle", 10000);
	/* other processes' time does not count against a quota */
	s.host_cpu_measured = true;
	s.host_cpu_s = 40;
	build(&s, &m);
	cpu = station(&m, "cpu");
	assert_int_equal(cpu->servers, 2);
	near(cpu->cpus, 1.5, 0);
	assert_string_equal(cpu->servers_source, "cgroup v2 cpu.max");
	rel(m.handlers[0].cpu_demand_ns, 0.4e6, 1e-9);
	rel(cpu->utilization, 0.2, 1e-9);
	near(cpu->others_busy, 0, 0);
	model_free(&m);

	b->cpus = 8;
	free(b->cpus_source);
	b->cpus_source = xstrdup("affinity");
	s.host_cpu_measured = false;
	build(&s, &m);
	cpu = station(&m, "cpu");
	assert_int_equal(cpu->servers, 8);
	assert_string_equal(cpu->servers_source, "nproc");
	rel(m.handlers[0].cpu_demand_ns, 0.3e6, 1e-9);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * Other processes kept 2 of the 4 CPUs busy (the host was busy 30 s in
 * 10 s, web's processes 10 s of it). That load stays at any rate: the CPU
 * is at (1000/s x 1 ms + 2) / 4 = 0.75, and full at twice the rate, not
 * four times. The 64 workers are far from full there.
 */
static void test_cpu_others_busy(void **state)
{
	struct snapshot s;
	struct model m;
	const struct model_station *cpu;
	struct snap_bundle *b;

	(void)state;
	snap_init(&s, 10, 4);
	b = add_bundle(&s, "web", 1, 64);
	b->cpu_measured = true;
	b->cpu_s = 10;
	add_handler(&s, "web.handle", 10000, 1e6, 1e6, 1e6, 0.1);
	add_flow(&s, "req", "web.handle", 10000);
	s.host_cpu_measured = true;
	s.host_cpu_s = 30;
	build(&s, &m);
	cpu = station(&m, "cpu");
	rel(cpu->others_busy, 2, 1e-12);
	rel(cpu->utilization, 0.75, 1e-9);
	assert_string_equal(m.stations[m.bottleneck].name, "cpu");
	rel(m.headroom, 2, 1e-9);
	rel(m.flows[0].max_rate_per_s, 2000, 1e-9);
	rel(m.flows[0].max_rate_alone_per_s, 2000, 1e-9);
	assert_string_equal(m.stations[m.flows[0].alone_bottleneck].name, "cpu");
	/* the others keep it busier than web does (0.5 against 0.25): no
	 * handler is named for it */
	rel(m.bottleneck_others, 0.5, 1e-12);
	assert_int_equal(m.bottleneck_handler, -1);
	model_free(&m);

	/* 0.2 CPUs of others: web's 0.25 of the CPU fills it more */
	s.host_cpu_s = 12;
	build(&s, &m);
	assert_string_equal(m.stations[m.bottleneck].name, "cpu");
	near(m.bottleneck_others, 0, 0);
	assert_string_equal(m.handlers[m.bottleneck_handler].id, "web.handle");
	model_free(&m);

	/* a host busier than the bundles could make it: not negative */
	s.host_cpu_s = 5;
	build(&s, &m);
	near(station(&m, "cpu")->others_busy, 0, 0);
	model_free(&m);
	snapshot_free(&s);
}

/*
 * web may run on 1 of the 4 CPUs (its affinity), which was busy 8 s in
 * 10 s, web's processes 5 s of it: others took 0.3 of its CPU, and its
 * 1 ms calls fill the rest at 700/s. The host's busy time, other CPUs'
 * load included, does not count; nor the CPU's busy time under a quota.
 */
static void test_cpu_others_on_the_bundles_cpus(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_bundle *b;

	(void)state;
	snap_init(&s, 10, 4);
	b = add_bundle(&s, "web", 1, 64);
	b->cpu_measured = true;
	b->cpu_s = 5;
	b->cpus = 1;
	b->cpus_source = xstrdup("affinity");
	add_handler(&s, "web.handle", 5000, 1e6, 1e6, 1e6, 0.1);
	add_flow(&s, "req", "web.handle", 5000);
	s.host_cpu_measured = true;
	s.host_cpu_s = 35;
	s.bundle_cpus_busy_measured = true;
	s.bundle_cpus_busy_s = 8;
	build(&s, &m);
	rel(station(&m, "cpu")->others_busy, 0.3, 1e-12);
	rel(m.flows[0].max_rate_per_s, 700, 1e-9);
	model_free(&m);

	/* not measured (an older snapshot): the CPU is web's */
	s.bundle_cpus_busy_measured = false;
	build(&s, &m);
	near(station(&m, "cpu")->others_busy, 0, 0);
	rel(m.flows[0].max_rate_per_s, 1000, 1e-9);
	model_free(&m);

	/* others cannot take a quota, cgroup v2's or v1's */
	s.bundle_cpus_busy_measured = true;
	free(b->cpus_source);
	b->cpus_source = xstrdup("cgroup cpu.max 100000/100000");
	build(&s, &m);
	near(station(&m, "cpu")->others_busy, 0, 0);
	model_free(&m);
	free(b->cpus_source);
	b->cpus_source = xstrdup("cgroup cpu.cfs_quota_us 100000/100000");
	build(&s, &m);
	near(station(&m, "cpu")->others_busy, 0, 0);
	model_free(&m);

	/* a cpuset, as an affinity: others run there too */
	free(b->cpus_source);
	b->cpus_source = xstrdup("cgroup cpuset 1");
	build(&s, &m);
	rel(station(&m, "cpu")->others_busy, 0.3, 1e-12);
	model_free(&m);
	snapshot_free(&s);
}

static void test_no_cpu_station(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 4);
	add_bundle(&s, "web", 1, 4);
	add_handler(&s, "web.a", 1000, 1e6, 1e6, 0.1e6, 1);
	add_handler(&s, "web.b", 1000, 1e6, 1e6, 0.1e6, 1)->oncpu_measured = false;
	/* a handler that never ran says nothing either way */
	add_handler(&s, "web.c", 0, 0, 0, 0, 1)->oncpu_measured = false;
	add_flow(&s, "a", "web.a", 1000);
	build(&s, &m);
	assert_int_equal(model_station_index(&m, "cpu"), -1);
	assert_non_null(note(&m, "on-CPU time was measured for some handlers only: the model has "
			     "no CPU station"));
	model_free(&m);

	s.handlers[0].oncpu_measured = false;
	build(&s, &m);
	assert_int_equal(model_station_index(&m, "cpu"), -1);
	assert_non_null(note(&m, "on-CPU time was not measured (--no-oncpu, or the kernel refused "
			     "the sched_switch probe): the model has no CPU station"));
	assert_true(isnan(m.handlers[0].oncpu_ns));
	model_free(&m);

	s.handlers[0].oncpu_measured = s.handlers[1].oncpu_measured = true;
	s.nproc = 0;
	build(&s, &m);
	assert_int_equal(model_station_index(&m, "cpu"), -1);
	assert_non_null(note(&m, "the snapshot does not say how many CPUs the host has: no CPU "
			     "station"));
	model_free(&m);
	snapshot_free(&s);
}

/* After a merge the hosts' CPUs are one station; a bundle named "cpu" keeps
 * its name, and the CPUs take another. */
static void test_cpu_station_names(void **state)
{
	struct snapshot s;
	struct model m;

	(void)state;
	snap_init(&s, 10, 8);
	add_bundle(&s, "cpu", 1, 4);
	add_handler(&s, "cpu.burn", 1000, 1e6, 1e6, 1e6, 1);
	add_flow(&s, "burn", "cpu.burn", 1000);
	s.hosts = xcalloc(2, sizeof(*s.hosts));
	s.n_hosts = 2;
	build(&s, &m);
	assert_int_equal(station(&m, "cpu")->kind, STATION_POOL);
	assert_int_equal(station(&m, "host-cpu")->kind, STATION_CPU);
	assert_int_equal(station(&m, "host-cpu")->servers, 8);
	assert_non_null(note(&m, "host-cpu: the CPUs of 2 hosts pooled as one station of 8"));
	model_free(&m);
	snapshot_free(&s);
}

/*
 * A chain of synchronous calls, web (4 workers) => mid (1) => db (1),
 * measured at 300/s: db.query 1 ms; mid.call 0.2 ms of its own plus db's
 * reply (1 ms + an M/M/1 wait of 0.43 ms at rho 0.3); web.handle only waits
 * for mid. At 500/s db is at rho 0.5 (a 2 ms reply), so mid holds its one
 * worker 2.2 ms a call: 1.1 of it, a queue without end, and web, which
 * waits for mid, saturates on that wait, though its own work is nothing.
 * The report says so in words, not as a utilization.
 */
static void test_pool_saturated_by_its_waits(void **state)
{
	struct snapshot s;
	struct model m;
	struct snap_flow *f;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	snap_init(&s, 10, 64);
	add_bundle(&s, "web", 1, 4);
	add_bundle(&s, "mid", 1, 1);
	add_bundle(&s, "db", 1, 1);
	add_handler(&s, "web.handle", 3000, 3.2e6, 3.2e6, 0, 1);
	add_handler(&s, "mid.call", 3000, 1.63e6, 1.63e6, 0, 1);
	add_handler(&s, "db.query", 3000, 1e6, 1e6, 0, 1);
	f = add_flow(&s, "req", "web.handle", 3000);
	add_declared(f, "web.handle", "mid.call", true);
	f->declared[0].waits = true;
	add_declared(f, "mid.call", "db.query", true);
	f->declared[1].waits = true;
	opt("--target", "req=500/s");
	build(&s, &m);
	assert_true(m.flows[0].exceeds_capacity);
	assert_true(isinf(station(&m, "web")->utilization_loaded));
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	model_print_exceeding(out, &m);
	fclose(out);
	if (!strstr(buf, "req exceeds capacity: web saturates: its 4 servers, held while they "
			 "wait on the calls they make, cannot keep up") || strstr(buf, "need saturated"))
		fail_msg("the report says:\n%s", buf);
	free(buf);
	model_free(&m);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pool_from_concurrency, reset_opts),
		cmocka_unit_test_teardown(test_pool_sizes, reset_opts),
		cmocka_unit_test_teardown(test_serial_and_unlisted_bundles, reset_opts),
		cmocka_unit_test_teardown(test_cpu_outside_handlers, reset_opts),
		cmocka_unit_test_teardown(test_cpu_wait_outside_handlers, reset_opts),
		cmocka_unit_test_teardown(test_cpu_quota, reset_opts),
		cmocka_unit_test_teardown(test_cpu_others_busy, reset_opts),
		cmocka_unit_test_teardown(test_cpu_others_on_the_bundles_cpus, reset_opts),
		cmocka_unit_test_teardown(test_probes_above_the_cpu_time, reset_opts),
		cmocka_unit_test_teardown(test_no_cpu_station, reset_opts),
		cmocka_unit_test_teardown(test_cpu_station_names, reset_opts),
		cmocka_unit_test_teardown(test_pool_saturated_by_its_waits, reset_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
