// SPDX-License-Identifier: MIT
/*
 * What the CPU station is asked for (docs/model.md, "Stations", cpu): each
 * handler's demand on the CPUs the bundles may use, and what other
 * processes kept busy of them. model_stations.c builds the station itself.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* The snapshot's probe slot named key ("push", "ret"...), or NULL. */
static const struct snap_slot_cost *slot_named(const struct snapshot *s, const char *key)
{
	for (int k = 0; key && k < SNAP_SLOTS; k++)
		if (snapshot_slot_key[k] && s->probe_slots[k].measured &&
		    !strcmp(snapshot_slot_key[k], key))
			return &s->probe_slots[k];
	return NULL;
}

void model_handler_slots(const struct snapshot *s, const struct snap_handler *h,
			 const struct snap_slot_cost **entry, const struct snap_slot_cost **exit)
{
	static const struct { const char *site, *key; } names[] = {
		{ "nop5", "nop5" }, { "nop", "nop" }, { "push", "push" }, { "branch", "branch" },
		{ "other", "step" }, { "usdt", "usdt" }, { "uretprobe", "uretprobe" },
		{ "ret", "ret" }, { "tail-call jmp", "jmp" }, { "canary jcc", "canary_jcc" },
	};

	*entry = *exit = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (h->entry_site && !strcmp(h->entry_site, names[i].site))
			*entry = slot_named(s, names[i].key);
		if (h->exit_site && !strcmp(h->exit_site, names[i].site))
			*exit = slot_named(s, names[i].key);
	}
	if (h->exit_site && !strcmp(h->exit_site, "usdt"))
		*exit = slot_named(s, "usdt_return");
}

/* What a handler's own probes took of its threads: as the kernel summed
 * them, call by call at the costs of the moment; for older snapshots, its
 * calls at the slot costs the snapshot kept (0 when unknown). warm: at the
 * low end of the calibration instead, the cost in a tight loop (hit less
 * its jitter, which spans the cold and the warm figures). */
static double probes_cpu_ns(const struct snapshot *s, const struct snap_handler *h, bool warm)
{
	const struct snap_slot_cost *e, *x;
	double mid, low;

	model_handler_slots(s, h, &e, &x);
	mid = (e ? e->hit_ns : 0) + (x ? x->hit_ns : 0);
	low = (e ? fmax(0, e->hit_ns - e->jitter_ns) : 0) + (x ? fmax(0, x->hit_ns - x->jitter_ns) : 0);
	if (h->probe_cpu_measured) /* summed per call, each between warm and cold */
		return warm ? fmin((double)h->probe_cpu_ns, (double)h->calls * low)
			    : (double)h->probe_cpu_ns;
	return (double)h->calls * (warm ? low : mid);
}

double model_probe_doubt(const struct snapshot *s, const char **bundle)
{
	double most = 0;

	*bundle = NULL;
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *sb = &s->bundles[i];
		double probes = 0, doubt = 0, left, share;

		if (!sb->cpu_measured || !(sb->cpu_s > 0) || !sb->name)
			continue;
		for (int k = 0; k < s->n_handlers; k++) {
			const struct snap_handler *h = &s->handlers[k];
			const struct snap_slot_cost *e, *x;

			if (!h->calls || !h->bundle || strcmp(h->bundle, sb->name))
				continue;
			model_handler_slots(s, h, &e, &x);
			probes += probes_cpu_ns(s, h, false);
			doubt += (double)h->calls * ((e ? e->jitter_ns : 0) + (x ? x->jitter_ns : 0));
		}
		left = sb->cpu_s * NS - probes;
		share = left > 0 ? doubt / left : doubt > 0 ? INFINITY : 0;
		if (share > most) {
			most = share;
			*bundle = sb->name;
		}
	}
	return most;
}

/* A late part whose rate differs from the window's more than this: the
 * load was not steady, which the per-call figure is meant to absorb, and
 * a note says so. */
#define UNPROBED_RATE_DRIFT 0.25
/* Calls counted without the probes this much faster or slower than the
 * recording's last part: the load did not keep its rate once they went
 * (clients that wait for each answer), and the CPU time a call comes from
 * the counted calls. A steady load's count stays within a few %. */
#define UNPROBED_RATE_HELD 0.10

/* The counted half's rate of all the bundle's handler calls (its counted
 * handlers' scaled by the window's mix); 0 where not counted. */
static double counted_rate(const struct snap_bundle *sb, double calls)
{
	if (!sb->counted_calls || !sb->counted_window_calls || !(sb->counted_s > 0) || !(calls > 0))
		return 0;
	return (double)sb->counted_calls / sb->counted_s * calls / (double)sb->counted_window_calls;
}

/* Whether the load kept the recording's rate once the probes went (or
 * nothing says otherwise: not counted). */
static bool rate_held(const struct snap_bundle *sb, double calls)
{
	double late = sb->late_s > 0 ? (double)sb->late_calls / sb->late_s : 0, c;

	c = counted_rate(sb, calls);
	return !(c > 0) || !(late > 0) || fabs(c / late - 1) <= UNPROBED_RATE_HELD;
}

double model_unprobed_rate(const struct snap_bundle *sb, double calls)
{
	if (!sb->unprobed_measured || !(sb->unprobed_s > 0))
		return 0;
	if (!rate_held(sb, calls))
		return counted_rate(sb, calls);
	return sb->late_s > 0 && sb->late_calls ? (double)sb->late_calls / sb->late_s : 0;
}

/*
 * The CPU time a bundle's processes would have spent in the window
 * without probes, from the unprobed measurement after it (record
 * --unprobed): its CPU time per call then (less what the probes that
 * counted the calls took), times the window's calls. The calls then are
 * counted (model_unprobed_rate); a snapshot that did not count them takes
 * the rate of the window's late part, as the load is then assumed to have
 * kept. False when not measured, or when it reads more than the window used
 * with its probes (the load changed once they went), with a note.
 */
static bool unprobed_work_ns(struct build *b, const struct snap_bundle *sb, double calls,
			     double used, double *work)
{
	const struct snapshot *s = b->s;
	double unprobed_rate, rate, per_call;

	unprobed_rate = model_unprobed_rate(sb, calls);
	rate = s->duration_s > 0 ? calls / s->duration_s : 0;
	if (!(unprobed_rate > 0) || !(calls > 0) || !(rate > 0))
		return false;
	if (rate_held(sb, calls)) {
		per_call = sb->unprobed_cpu_s * NS / sb->unprobed_s / unprobed_rate;
	} else {
		per_call = fmax(0, sb->counted_cpu_s - sb->counted_probe_s) * NS / sb->counted_s /
			   unprobed_rate;
		/* the rates of the handlers counted (its flows' entries), as
		 * record's own line gives them */
		double counted = (double)sb->counted_window_calls / calls;

		model_note(b->m, "%s: the rate of its calls %s by %.0f%% once the probes went (the "
			   "handlers counted: %.0f calls/s then, %.0f/s at the end of the recording: "
			   "clients that wait for each answer?); its CPU demand is the CPU time a "
			   "call counted then, less the counting probe's calibrated cost", sb->name,
			   unprobed_rate * sb->late_s > (double)sb->late_calls ? "rose" : "fell",
			   100 * fabs(unprobed_rate * sb->late_s / (double)sb->late_calls - 1),
			   unprobed_rate * counted, (double)sb->late_calls / sb->late_s * counted);
	}
	*work = per_call * calls;
	if (*work > used && !rate_held(sb, calls)) {
		model_note(b->m, "%s: without probes, after the recording, its processes used more "
			   "CPU time a call (%.3g us) than with them (%.3g us): the load changed, and "
			   "the CPU demand is the calibrated one", sb->name, per_call / 1e3,
			   used / calls / 1e3);
		return false;
	}
	/* at the same rate: the probes' delay let each wake-up serve more
	 * calls (redis at 10k/s: 8.3 us a command with them, 8.6-9.3 us by its
	 * own clock without), which the measurement has right */
	if (*work > used)
		model_note(b->m, "%s: without probes, after the recording, its processes used more "
			   "CPU time a call (%.3g us) than with them (%.3g us) at the same rate: the "
			   "probes' delay let each wake-up serve more calls; its CPU demand is the "
			   "measurement", sb->name, per_call / 1e3, used / calls / 1e3);
	if (rate_held(sb, calls) && fabs(unprobed_rate / rate - 1) > UNPROBED_RATE_DRIFT)
		model_note(b->m, "%s: its calls' rate at the end of the recording (%.0f/s) was not "
			   "the window's (%.0f/s): the CPU demand measured without probes after it "
			   "assumes each call cost the same at both", sb->name, unprobed_rate, rate);
	return true;
}

/*
 * The CPU time a bundle's processes spent besides the probes (calls: its
 * handlers' calls in the window): measured without them where the
 * recording did (unprobed_work_ns). When the probes' calibrated cost is
 * more than they used at all, the calibration is contradicted (a handler
 * called in a tight loop keeps the probe's path in the caches, and pays
 * less than the calibration's middle figure): the warm end is taken if the
 * CPU time allows it. 0 when nothing is left.
 */
static double bundle_work_ns(struct build *b, const struct snap_bundle *sb, int st, double calls)
{
	const struct snapshot *s = b->s;
	double used = sb->cpu_s * NS, probes = 0, warm = 0, measured;

	for (int h = 0; h < b->H; h++)
		if (b->bundle_of[h] == st && s->handlers[h].calls) {
			probes += probes_cpu_ns(s, &s->handlers[h], false);
			warm += probes_cpu_ns(s, &s->handlers[h], true);
		}
	b->m->stations[st].cpu_used_s = used / NS;
	b->m->stations[st].probes_cpu_s = probes / NS;
	b->m->stations[st].probes_measured_s = NAN;
	b->m->stations[st].probes_wake_saved_s = 0;
	if (unprobed_work_ns(b, sb, calls, used, &measured)) {
		b->m->stations[st].probes_measured_s = (used - measured) / NS;
		return measured;
	}
	if (used > probes)
		return used - probes;
	b->m->stations[st].probes_over_cpu_s = probes / NS;
	b->m->stations[st].probes_warm_s = warm / NS;
	if (used > warm) {
		model_note(b->m, "%s: its probes' calibrated cost (%.3g s) is more than the CPU time "
			   "its processes used (%.3g s); the CPU demand takes the calibration's warm "
			   "end (%.3g s), what a probe costs in a tight loop", sb->name, probes / NS,
			   used / NS, warm / NS);
		return used - warm;
	}
	model_note(b->m, "%s: even at the calibration's warm end its probes (%.3g s) cost more than "
		   "the CPU time its processes used (%.3g s): its CPU demand is not known, and is "
		   "left out", sb->name, warm / NS, used / NS);
	return 0;
}

/*
 * The CPU station's demand. Capacity counts every CPU-second a bundle's
 * processes spend, in the named handlers or not (a server parses, reads
 * sockets and runs its framework outside them): the time its processes
 * used in the window (snapshot bundle cpu_s), less what the probes took
 * there, is spread over its handlers in proportion to their own on-CPU
 * time. And a bundle that may use fewer CPUs than the host has (affinity,
 * cpuset, a quota: bundle cpus) gets CPUs of that speed: the station has
 * ceil(cpus) servers, each doing cpus / ceil(cpus) of a CPU's work.
 */
/* The processes' CPU time is read just before the window opens and just
 * after it closes (with the maps: a few ms each on the test VM). Over a
 * window not many times longer, that time is not the window's: an 0.8 ms
 * window cut short by Ctrl-C read 9.2 ms of CPU, 11 CPUs busy on one. */
#define CPU_READ_MIN_WINDOW_S 0.1

static bool cpu_read_over_window(const struct snapshot *s)
{
	return s->duration_s >= CPU_READ_MIN_WINDOW_S;
}

void model_cpu_demands(struct build *b, double *cpus_out, const char **source_out)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	double cpus = 0;
	const char *source = NULL;
	bool limited = false;

	for (int h = 0; h < b->H; h++)
		m->handlers[h].cpu_demand_ns = m->handlers[h].oncpu_self_ns;
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *sb = &s->bundles[i];
		double handler_cpu = 0, calls = 0, work, outside, scale;
		int st = model_bundle_station(m, sb->name ? sb->name : "");

		if (sb->cpus > 0) {
			cpus += sb->cpus;
			limited |= sb->cpus < s->nproc - 1e-9;
			source = sb->cpus_source;
		}
		if (!sb->cpu_measured || st < 0 || s->duration_s <= 0)
			continue;
		if (!cpu_read_over_window(s)) {
			m->cpu_window_short = true;
			model_note(m, "%s: the window lasted %.3g ms, too short for its processes' CPU "
				   "time, which is read just before it opens and after it closes: its "
				   "CPU demand is its handlers' own time on a CPU; record for a second "
				   "or more", sb->name, s->duration_s * 1e3);
			continue;
		}
		for (int h = 0; h < b->H; h++) {
			if (b->bundle_of[h] != st || !m->handlers[h].calls)
				continue;
			handler_cpu += (double)m->handlers[h].calls * m->handlers[h].oncpu_self_ns;
			calls += (double)m->handlers[h].calls;
		}
		work = bundle_work_ns(b, sb, st, calls);
		if (handler_cpu <= 0 && work > 0 && calls > 0) {
			/* every handler's corrected time is nothing (probe-dominated):
			 * what the processes did is spread over the calls alike */
			model_note(m, "%s: its handlers' times corrected for the probes leave "
				   "nothing; its CPU time is spread over their calls alike",
				   sb->name);
			m->stations[st].cpu_outside_share = 1;
			for (int h = 0; h < b->H; h++)
				if (b->bundle_of[h] == st && m->handlers[h].calls)
					m->handlers[h].cpu_demand_ns = m->handlers[h].cpu_outside_ns =
						work / calls;
		} else {
			outside = work - handler_cpu;
			if (handler_cpu <= 0 || outside <= 0)
				continue;
			scale = 1 + outside / handler_cpu;
			m->stations[st].cpu_outside_share = outside / (outside + handler_cpu);
			for (int h = 0; h < b->H; h++)
				if (b->bundle_of[h] == st) {
					m->handlers[h].cpu_demand_ns *= scale;
					m->handlers[h].cpu_outside_ns =
						m->handlers[h].oncpu_self_ns * (scale - 1);
				}
		}
		/* the waking in it, from the wake-ups' own table: whatever the
		 * handlers' corrected times left (redis's, probe-dominated under
		 * load, once left nothing, and its waking went unseen: its ceiling
		 * read 40 % low where the runs beside it read 8-23 %) */
		model_wake_share(b, sb, st, work, calls);
	}
	if (limited && cpus > 0 && cpus < s->nproc) {
		double speed = ceil(cpus - 1e-9) / cpus;

		for (int h = 0; h < b->H; h++) {
			m->handlers[h].cpu_demand_ns *= speed;
			m->handlers[h].cpu_wake_ns *= speed;
		}
		*cpus_out = cpus;
		*source_out = source;
	} else {
		*cpus_out = s->nproc;
		*source_out = "nproc";
	}
}

/* Others' share of the bundles' CPUs worth a note when, with the bundles',
 * it left them this busy */
#define OTHERS_NOTED 0.2
#define CPUS_FULL 0.95

/* Whether every bundle's CPUs are set by its affinity or a cpuset, which
 * others may run on too (proc_cpu_limit's sources). Not where a quota sets
 * them (cgroup v2 cpu.max or v1 cpu.cfs_quota_us): others cannot take a
 * quota, whatever CPUs they run on; nor where several limits mix. */
static bool others_share_the_cpus(const struct snapshot *s)
{
	for (int i = 0; i < s->n_bundles; i++) {
		const char *src = s->bundles[i].cpus_source;

		if (s->bundles[i].cpus > 0 && (!src || (strcmp(src, "affinity") &&
							strncmp(src, "cgroup cpuset ", 14))))
			return false;
	}
	return true;
}

/*
 * What other processes kept busy of the CPUs the bundles use, while
 * recording: the busy time of those CPUs less the bundles' own (snapshot
 * host_cpu_s where they may use every CPU, bundle_cpus_busy_s where their
 * affinity or cpuset gives them fewer; bundle cpu_s). It does not grow with
 * the service's load. Not under a quota: others cannot take a cgroup's
 * quota. A CPU hog pinned beside redis once put its ceiling 56-81 % above
 * what it served, when the CPUs its affinity gave it were taken as its own.
 */
double model_others_cpu_busy(const struct build *b, double cpus)
{
	const struct snapshot *s = b->s;
	double own = 0, busy, others;

	if (!cpu_read_over_window(s))
		return 0;
	if (cpus < s->nproc - 1e-9) {
		if (!s->bundle_cpus_busy_measured || !others_share_the_cpus(s))
			return 0;
		busy = s->bundle_cpus_busy_s;
	} else {
		if (!s->host_cpu_measured)
			return 0;
		busy = s->host_cpu_s;
	}
	for (int i = 0; i < s->n_bundles; i++) {
		if (!s->bundles[i].cpu_measured)
			return 0;
		own += s->bundles[i].cpu_s;
	}
	others = fmin(cpus, fmax(0, (busy - own) / s->duration_s));
	/* others that took all the time the bundles left: CPU-bound, perhaps,
	 * and then they yield as the service's load grows */
	if (others >= OTHERS_NOTED * cpus && own / s->duration_s + others >= CPUS_FULL * cpus)
		model_note(b->m, "other processes kept %.0f%% of the %.3g CPUs the bundles may use "
			   "busy, all the time the bundles left them: the model takes their load as "
			   "it was, but if they are CPU-bound they yield as the service's load grows "
			   "(one at the same priority leaves a single-threaded server about half a "
			   "CPU), and the ceiling is then low", 100 * others / cpus, cpus);
	return others;
}
