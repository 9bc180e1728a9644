// SPDX-License-Identifier: MIT
/*
 * Wake-ups (docs/model.md, "Wake-ups"): what a bundle's threads spend on
 * waking, and how that falls with the load. A server that sleeps when idle
 * pays, each time a call finds it asleep, for the switch, the wait's return
 * and its loop's turn; a server that finds calls waiting when it finishes
 * one does not sleep, and several calls share one turn. Its CPU time per
 * call falls as the load grows (redis: 12.6 us a command at a fifth of its
 * ceiling, 7.2 us at it), which one demand per call, read at a low load,
 * does not see.
 *
 * The kernel keeps each wake-up (bpf/sched.bpf.h) by the calls completed in
 * it; a straight line through their CPU time (less their probes') against
 * their calls gives a wake-up's own CPU time (the intercept). That times
 * the wake-ups with calls is the waking in the bundle's CPU demand at the
 * recording (wake-ups with no call, timers, stay per-call demand, as
 * before); it is taken to fall as the CPU station fills: an arrival finds
 * its thread asleep with the chance that the CPUs idle, 1 - u, scaled to
 * what the recording saw. Where the bundle's threads fill before its CPUs,
 * it falls as they fill instead (wake_where_threads_fill_cpus).
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* Wake-ups of one size needed for its point in the fit, and the sizes fitted. */
#define WAKE_MIN_PERIODS 20
#define WAKE_FIT_SIZES 3
/* Calls a wake-up, on average, from which a failed fit is worth a note. */
#define WAKE_SHARED_NOTE 4
/* A waking share below this is left as per-call demand; one above this is
 * not believed (the calls' own work cannot be that little). */
#define WAKE_MIN_SHARE 0.02
#define WAKE_MAX_SHARE 0.8
/* At or above this CPU utilization while recording, the chance that a call
 * finds its thread asleep is too small to scale from. */
#define WAKE_MAX_U0 0.9

struct wake_fit {
	double call_ns;	  /* slope: a call's own CPU time */
	double wake_ns;	  /* intercept: a wake-up's */
	int points;
};

/* Weighted least squares of a wake-up's CPU time (less its probes') on its
 * calls, over the sizes 1 to WAKE_FIT_SIZES (weights: wake-ups of that
 * size). The smallest sizes are the most numerous and the nearest to the
 * intercept; a long wake-up is likelier to hold an interrupt's or another
 * task's time, which tilted the line (on the test VM, one fit in twelve over
 * every size put a 20 us wake-up at 16 us; over 1 to 3, at 26.5 us). */
static bool fit_wakeups(const struct snap_wakeups *w, struct wake_fit *f)
{
	double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;

	memset(f, 0, sizeof(*f));
	for (int k = 1; k <= WAKE_FIT_SIZES && k < SNAP_WAKE_BUCKETS - 1; k++) {
		double p = (double)w->periods[k], x, y;

		if (w->periods[k] < WAKE_MIN_PERIODS || w->cpu_ns[k] < w->probe_ns[k])
			continue;
		x = (double)w->calls[k] / p;
		y = (double)(w->cpu_ns[k] - w->probe_ns[k]) / p;
		n += p;
		sx += p * x;
		sy += p * y;
		sxx += p * x * x;
		sxy += p * x * y;
		f->points++;
	}
	if (f->points < 2 || !(n * sxx - sx * sx > 0))
		return false;
	f->call_ns = (n * sxy - sx * sy) / (n * sxx - sx * sx);
	f->wake_ns = (sy - f->call_ns * sx) / n;
	return f->call_ns > 0 && f->wake_ns > 0;
}

/*
 * The wake-ups that the window's calls (calls of the bundle's handlers,
 * top_calls of them at the top, in wakes wake-ups while probed) would have
 * had without probes, where the CPU demand was measured so (record --unprobed): probes that keep a thread
 * busier make it sleep less often. From its threads' sleeps then (the
 * kernel's voluntary switches), as many of them wake-ups as while probed
 * (the rest are sleeps inside a call, or threads that run no handler), less
 * the wake-ups with no call. wakes as is where not measured.
 */
static double unprobed_wakes(const struct build *b, const struct snap_bundle *sb, int st,
			     double calls, double top_calls, double wakes)
{
	const struct snap_wakeups *w = &sb->wake;
	double periods = 0, share, idle_rate, rate, top_rate;

	if (!isfinite(b->m->stations[st].probes_measured_s) || !sb->sleeps || !sb->unprobed_sleeps ||
	    !(model_unprobed_rate(sb, calls) > 0) || !(calls > 0) || !(b->s->duration_s > 0))
		return wakes;
	for (int k = 0; k < SNAP_WAKE_BUCKETS; k++)
		periods += (double)w->periods[k];
	share = fmin(1, periods / (double)sb->sleeps);
	idle_rate = (double)w->periods[0] / b->s->duration_s;
	rate = fmax(0, share * (double)sb->unprobed_sleeps / sb->unprobed_s - idle_rate);
	top_rate = model_unprobed_rate(sb, calls) * top_calls / calls;
	return top_rate > 0 ? rate / top_rate * top_calls : wakes;
}

/*
 * Of bundle sb's CPU demand at the recording (work ns in the window for its
 * handlers' calls, its station st), the share that is waking: set on its
 * handlers (cpu_wake_ns) and its station; a note says why where nothing was
 * fitted (the finding's own, wake_where_threads_fill_cpus).
 */
void model_wake_share(struct build *b, const struct snap_bundle *sb, int st, double work,
		      double calls)
{
	const struct snap_wakeups *w = &sb->wake;
	struct model *m = b->m;
	struct wake_fit f;
	double top_calls = 0, wakes = 0, probed_wakes, share;

	if (!w->measured || !(work > 0))
		return;
	for (int k = 1; k < SNAP_WAKE_BUCKETS; k++) {
		top_calls += (double)w->calls[k];
		wakes += (double)w->periods[k];
	}
	probed_wakes = wakes;
	wakes = unprobed_wakes(b, sb, st, calls, top_calls, wakes);
	if (!fit_wakeups(w, &f)) {
		/* one size of wake-up only (a call per wake-up: no sharing to
		 * see), or too few small ones: say so where calls did share */
		char without[64] = "";

		if (!(probed_wakes > 0 && top_calls / probed_wakes >= WAKE_SHARED_NOTE))
			return;
		if (wakes != probed_wakes && wakes > 0)
			snprintf(without, sizeof(without), ", once in %.1f without the probes",
				 top_calls / wakes);
		model_note(m, "%s: its threads woke once in %.0f calls while recorded%s: too few "
			   "wake-ups of 1 to %d calls to tell what waking costs; its CPU demand per "
			   "call is taken as the same at any load", sb->name, top_calls / probed_wakes,
			   without, WAKE_FIT_SIZES);
		return;
	}
	/* the intercept, not the slope: a bias in the probes' charge per call
	 * moves the slope by as much, and leaves the intercept */
	share = f.wake_ns * wakes / work;
	if (!(share >= WAKE_MIN_SHARE) || !(share <= WAKE_MAX_SHARE)) {
		if (share > WAKE_MAX_SHARE)
			model_note(m, "%s: its wake-ups would be %.0f%% of its CPU demand (a wake-up "
				   "%.3g us): not believed, its CPU demand per call is taken as the "
				   "same at any load", sb->name, 100 * share, f.wake_ns / 1e3);
		return;
	}
	m->stations[st].wake_share = share;
	m->stations[st].wake_call_ns = (work - f.wake_ns * wakes) / top_calls;
	m->stations[st].wake_each_ns = f.wake_ns;
	m->stations[st].wake_calls_each = top_calls / wakes;
	m->stations[st].wake_unprobed = wakes != probed_wakes;
	/* a probed thread that slept less did not wake as often: the waking it
	 * was spared is part of what its probes cost (report: probe-cost-check) */
	if (wakes > probed_wakes)
		m->stations[st].probes_wake_saved_s = (wakes - probed_wakes) * f.wake_ns / NS;
	for (int h = 0; h < b->H; h++)
		if (b->bundle_of[h] == st)
			m->handlers[h].cpu_wake_ns = m->handlers[h].cpu_demand_ns * share;
	/* said once the CPU station is known (wake_where_threads_fill_cpus) */
}

/*
 * A bundle whose threads cannot fill the CPUs (a one-thread loop on two
 * CPUs) fills its threads first. Those threads do more than the handlers'
 * time that holds them: they read and parse requests, write replies and
 * wake, outside any handler. So where its waking was found (the rest of
 * its CPU time outside the handlers is then known to be per-call work), the
 * pool holds them for that too (outside_ns, from the handlers' shares of
 * the CPU time outside them), and its waking falls as the threads fill,
 * not as the CPUs do (wake_ns of the pool, scaled from its utilization at
 * the recording: wake_u0). On the CPUs the waking stays per-call demand.
 * Where no waking was found, the pool holds the handlers' time only: how
 * much of the rest is waking that falls with the load is not known.
 */
static void hold_threads_for_outside_work(struct build *b, int st)
{
	struct model *m = b->m;
	struct model_station *pool = &m->stations[st];
	double top_calls = 0, outside = 0;

	for (int h = 0; h < b->H; h++) {
		struct model_handler *mh = &m->handlers[h];
		/* as measured: cpu_demand_ns is at the CPU station's speed; the
		 * waking is CPU time outside the handlers */
		double wake = fmin(mh->cpu_outside_ns,
				   pool->wake_share * (mh->oncpu_self_ns + mh->cpu_outside_ns));
		double out = fmax(0, mh->cpu_outside_ns - wake);

		if (b->bundle_of[h] != st || !mh->calls)
			continue;
		for (int f = 0; f < b->F; f++) {
			pool->outside_ns[f] += V(b, f, h) * out;
			pool->wake_ns[f] += V(b, f, h) * wake;
		}
		top_calls += (double)mh->calls * mh->top_share;
		outside += (double)mh->calls * out;
		mh->cpu_wake_ns = 0;
	}
	pool->outside_call_ns = top_calls > 0 ? outside / top_calls : 0;
}

/* A pool with waking found whose threads fill before the CPU station. */
static bool threads_fill_first(const struct build *b, const struct model_station *pool)
{
	return pool->kind == STATION_POOL && pool->wake_share > 0 &&
	       pool->servers < b->m->stations[b->cpu_station].servers;
}

/* The pools whose threads fill before the CPUs hold them for their outside
 * work; the CPU station's waking per flow is summed again from the bundles
 * that keep it there. */
static void wake_where_threads_fill_cpus(struct build *b)
{
	struct model *m = b->m;
	struct model_station *cpu = &m->stations[b->cpu_station];

	for (int st = 0; st < m->n_stations; st++)
		if (threads_fill_first(b, &m->stations[st]))
			hold_threads_for_outside_work(b, st);
	for (int f = 0; f < b->F; f++) {
		cpu->wake_ns[f] = 0;
		for (int h = 0; h < b->H; h++)
			cpu->wake_ns[f] += V(b, f, h) * m->handlers[h].cpu_wake_ns;
	}
}

/* Station k's utilization at the measured rates (A busy servers of those it
 * had while recording, Aw of them waking), which its waking was read at:
 * false where it was too busy for the chance of a sleep to scale from; its
 * waking then stays as it was (a pool's, as outside work). */
static bool wake_baseline_of(struct build *b, int k, double A, double Aw)
{
	struct model_station *st = &b->m->stations[k];
	int servers = b->sp[k].observed > 0 ? b->sp[k].observed : st->servers;
	double calls = 0;

	st->wake_u0 = servers > 0 ? A / servers : 0;
	if (!(Aw > 0) || st->wake_u0 < WAKE_MAX_U0)
		return true;
	for (int f = 0; f < b->F; f++) {
		if (st->kind == STATION_POOL)
			st->outside_ns[f] += st->wake_ns[f];
		st->wake_ns[f] = 0;
	}
	if (st->kind == STATION_POOL && st->outside_call_ns > 0) {
		for (int f = 0; f < b->F; f++)
			calls += b->m->flows[f].measured_rate_per_s;
		st->outside_call_ns += calls > 0 ? Aw * NS / calls : 0;
	}
	return false;
}

static void note_found(struct build *b, const struct model_station *pool, bool held, bool falls)
{
	const struct model_station *cpu = &b->m->stations[b->cpu_station];
	char found[256];

	snprintf(found, sizeof(found), "%s: waking its threads took %.0f%% of its CPU demand at "
		 "the recording's load (%.3g us a wake-up, %.3g calls a wake-up%s)", pool->name,
		 100 * pool->wake_share, pool->wake_each_ns / 1e3, pool->wake_calls_each,
		 pool->wake_unprobed ? " without the probes" : "");
	if (!held) {
		model_note(b->m, "%s; the model takes that part to fall as its CPUs fill", found);
		return;
	}
	if (falls) {
		model_note(b->m, "%s, but its %d thread%s cannot keep the %d CPUs busy and %s "
			   "first: the model holds %s for the work done outside the handlers too "
			   "(%.3g us a call, waking aside), and takes the waking to fall as %s",
			   found, pool->servers, pool->servers == 1 ? "" : "s", cpu->servers,
			   pool->servers == 1 ? "fills" : "fill", pool->servers == 1 ? "it" : "them",
			   pool->outside_call_ns / 1e3,
			   pool->servers == 1 ? "the thread fills" : "the threads fill");
		return;
	}
	model_note(b->m, "%s, but its %d thread%s cannot keep the %d CPUs busy and %s first: "
		   "the model holds %s for the work done outside the handlers too (%.3g us a "
		   "call, waking included: %s %.0f%% busy while recording, too busy to tell how "
		   "it falls)", found, pool->servers, pool->servers == 1 ? "" : "s", cpu->servers,
		   pool->servers == 1 ? "fills" : "fill", pool->servers == 1 ? "it" : "them",
		   pool->outside_call_ns / 1e3, pool->servers == 1 ? "it was" : "they were",
		   100 * pool->wake_u0);
}

/* The utilizations the waking shares were read at (model_offered_waking
 * scales from them), and the notes on what was found. */
void model_wake_baseline(struct build *b)
{
	struct model *m = b->m;
	int k = b->cpu_station;
	double A = 0, W = 0;

	if (k < 0)
		return;
	wake_where_threads_fill_cpus(b);
	A = b->sp[k].bg0 + m->stations[k].others_busy;
	for (int f = 0; f < b->F; f++) {
		A += m->flows[f].measured_rate_per_s * m->stations[k].demand_ns[f] / NS;
		W += m->flows[f].measured_rate_per_s * m->stations[k].wake_ns[f] / NS;
	}
	for (int p = 0; p < m->n_stations; p++) {
		struct model_station *st = &m->stations[p];
		bool held = threads_fill_first(b, st), falls = true;

		if (st->kind != STATION_POOL || !(st->wake_share > 0))
			continue;
		if (held) {
			double Ap = b->sp[p].bg0, Wp = 0;

			for (int f = 0; f < b->F; f++) {
				double rate = m->flows[f].measured_rate_per_s;

				Ap += rate * (st->demand_ns[f] + st->outside_ns[f] + st->wake_ns[f]) /
				      NS;
				Wp += rate * st->wake_ns[f] / NS;
			}
			falls = wake_baseline_of(b, p, Ap, Wp);
		}
		note_found(b, st, held, falls);
	}
	if (!wake_baseline_of(b, k, A, W))
		model_note(m, "the CPUs were %.0f%% busy while recording: the waking in the "
			   "bundles' CPU demand is taken as the same at any load",
			   100 * m->stations[k].wake_u0);
}

/*
 * Station k's offered load (servers busy) at rates whose load A includes
 * the waking Aw as it was at the recording: the waking scaled by
 * (1 - u) / (1 - u0). Solved for u: u = (A - Aw + Aw / (1 - u0)) /
 * (servers + Aw / (1 - u0)); at the measured rates it is u0, and the
 * station fills only when the calls' own work does. Aw is 0 wherever the
 * waking is not to fall (model_wake_baseline).
 */
double model_offered_waking(const struct build *b, int k, double A, double Aw)
{
	const struct model_station *st = &b->m->stations[k];
	double servers = st->servers, W;

	if (!(Aw > 0))
		return A;
	W = Aw / (1 - st->wake_u0);
	return servers * (A - Aw + W) / (servers + W);
}
