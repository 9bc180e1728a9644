/* SPDX-License-Identifier: MIT */
/*
 * The capacity model of a snapshot (docs/model.md): visit ratios per flow,
 * service times corrected for the probe's cost, stations (each bundle's
 * workers, serial handlers, the host's CPUs), utilizations and the
 * bottleneck, maximum throughput, headroom and required servers at a target
 * load, predicted response times (M/M/c, Erlang C, Allen-Cunneen), a closed
 * workload (asymptotic bounds, MVA curve, knee) and self-checks against the
 * measurements. Pure computation over a struct snapshot: user/report/model_report.c
 * prints it and turns it into the document's "model" object.
 *
 * Units: times in ns, rates per second, utilizations as fractions.
 */
#ifndef FLOWPROF_MODEL_H
#define FLOWPROF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"

#define MODEL_UTIL_LIMIT 0.7	/* default target utilization for sizing */
/* Over this share of a bundle's CPU time in probes, its CPU demand is a
 * small difference of two large figures: the report flags it
 * (probe-heavy-cpu), and record -d measures it without them by default. */
#define MODEL_PROBE_HEAVY 0.5
/* Over this share of what a bundle's CPU time leaves after its probes, the
 * probes' calibrated cost is uncertain (its jitter: from a tight loop to
 * cold caches, 0.4 to 11 us a pair on one of our hosts), and record -d
 * measures the CPU time without them by default (model_probe_doubt). */
#define MODEL_PROBE_DOUBT 0.10
#define MODEL_MAX_USERS 20000	/* largest closed population (MVA is O(N^2)) */

/* ---- options: what `flowprof report` passes from its command line -------- */

struct model_target {
	char *flow;
	double rate_per_s;
};

struct model_servers {
	char *bundle;
	int value;
};

struct model_opts {
	struct model_target *targets;	/* --target FLOW=RATE: replaces the measured rate */
	int n_targets;
	double scale;			/* --scale: multiplies the measured rates (0 = 1) */
	struct model_servers *instances; /* --instances BUNDLE=N */
	int n_instances;
	struct model_servers *workers;	/* --workers BUNDLE=N (per instance) */
	int n_workers;
	double util_limit;		/* --util-limit: sizing target (0 = MODEL_UTIL_LIMIT) */
	int *users;			/* --users N[,N...]: closed populations (NULL = automatic) */
	int n_users;
	double think_s;			/* --think: closed think time Z, s */
};

/*
 * Parses one command-line option into o. opt is the long name with or
 * without its dashes: "target", "scale", "instances", "workers",
 * "util-limit", "users", "think". Values:
 *   target     FLOW=RATE, RATE a positive number with an optional k or M
 *              and an optional /s, /min or /h ("checkout=800/s", "browse=2.4k/s")
 *   scale      a positive number, optionally followed by x ("2", "1.5x")
 *   instances, workers   BUNDLE=N, N a positive integer
 *   util-limit a fraction in (0, 1] or a percentage ("0.7", "70%")
 *   users      N[,N...], each 1..MODEL_MAX_USERS
 *   think      seconds as parse_seconds() reads them ("1", "500ms", "2s")
 * Flow and bundle names are checked by model_build(), which has the
 * snapshot. Returns 0, or -1 with a message naming the option in err, e.g.
 * "--target 'checkout': expected FLOW=RATE, e.g. checkout=800/s".
 */
int model_parse_option(struct model_opts *o, const char *opt, const char *value, char *err,
		       size_t errlen);

void model_opts_free(struct model_opts *o);

/* ---- the model ---------------------------------------------------------- */

/* How far a handler's corrected times may be from the truth, +- in ns at
 * about 95 % (sample size, histogram bucket, probe-cost jitter; see
 * model/uncertainty.c). NAN where the time itself is unknown. */
struct model_uncertainty {
	double mean_ns, self_ns, oncpu_ns;
	double min_ns, p50_ns, p90_ns, p99_ns, max_ns;
};

/* A handler's per-call times: raw as measured, and corrected for the
 * probe's own cost (the in-window cost of its probes and the full cost of
 * each nested probed call). */
struct model_handler {
	char *id;
	char *bundle;
	int station;		/* its bundle's station (index into model.stations) */
	uint64_t calls;
	double raw_mean_ns, raw_self_ns, raw_oncpu_ns; /* oncpu: inclusive, NAN if not measured */
	double mean_ns;		/* corrected inclusive */
	double self_ns;		/* corrected exclusive */
	double oncpu_ns;	/* corrected inclusive on-CPU (NAN if not measured) */
	double oncpu_self_ns;	/* on-CPU time outside nested handlers (0 if not measured) */
	double cpu_demand_ns;	/* what it asks of the CPU station per call: oncpu_self_ns and
				   its share of its bundle's CPU time outside the handlers,
				   at the speed of the CPUs the bundle may use */
	double cpu_outside_ns;	/* its share of its bundle's CPU time outside the handlers,
				   per call, as measured (0: none or not measured) */
	double cpu_wake_ns;	/* of cpu_demand_ns, the part that is waking its threads at
				   the recording's load (model_wake.c; 0: none found) */
	double stddev_ns;	/* of inclusive durations */
	double probe_ns;	/* subtracted from the inclusive mean */
	double probe_self_ns;	/* subtracted from the self mean */
	double probe_unc_ns;	/* the correction's uncertainty, per call (probe-cost jitter) */
	bool probe_dominated;	/* the correction is over 25% of the raw mean */
	bool probe_per_call;	/* corrected per call by the kernel (snapshot probe_ns) */
	/* inclusive durations' extremes and percentiles, less the mean
	 * correction per call (a leaf's is the same for every call) */
	double min_ns, p50_ns, p90_ns, p99_ns, max_ns;
	struct model_uncertainty unc; /* of each of the corrected times above */
	double held_ns;		/* time a worker of its bundle is held per call (LQNS):
				   self time plus nested calls into other bundles */
	double held_oncpu_ns;	/* the on-CPU part of held_ns */
	double held0_ns;	/* held_ns without the waits for the CPU and for serial
				   handlers that the model attributes to the measured load */
	double runq_ns;		/* a call's waits to run (snapshot runq_ns), NAN: unknown */
	double held_runq_ns;	/* of held_ns, the waits to run, measured (NAN: unknown) */
	double cpu_wait0_ns;	/* of held_ns, the waits for a CPU at the measured load:
				   estimated (M/M/c), plus the probes' share of
				   held_runq_ns where measured (model_stations.c) */
	double top_share;	/* share of calls not nested in a handler of the same bundle */
	double unattributed_calls; /* calls not explained by any flow */
	bool serial;
};

enum model_station_kind {
	STATION_POOL,	/* a bundle's workers: c = instances x workers */
	STATION_SERIAL,	/* a bundle marked serial: one server */
	STATION_LOCK,	/* a handler marked serial: one server inside its bundle */
	STATION_CPU,	/* the host's CPUs: nproc servers, on-CPU time only */
};

/* A handler's share of a station's busy time at the target. */
struct model_contrib {
	int handler;
	double busy;		/* servers kept busy (utilization x servers) */
	double oncpu_share;	/* part of that time on a CPU (NAN when unknown) */
};

struct model_station {
	char *name;
	enum model_station_kind kind;
	int bundle;		/* snapshot bundle index, -1 for the CPU */
	int handler;		/* STATION_LOCK: handler index; else -1 */
	int servers;
	int instances, workers;	/* POOL: the factors of servers */
	const char *servers_source; /* "observed", "flow file", "command line", "serial", "nproc",
				       "affinity", "cgroup ..." */
	const char *servers_basis;  /* observed: "concurrency" (the most in its handlers at
				       once), "live threads" (more threads that ran its handlers
				       stayed alive at once: a pool's idle workers), "threads"
				       (older snapshots: every thread seen) */
	bool servers_live;	/* POOL: sized by its live threads, above its concurrency */
	double cpus;		/* CPU: the CPUs (a quota may make it fractional); servers is its
				   ceiling, each at cpus / servers of a CPU's speed */
	double cpu_outside_share; /* POOL: of its processes' CPU time, the share outside the
				     handlers (0: not measured) */
	double probes_over_cpu_s; /* POOL: the probes' calibrated cost, where it is more than
				     its processes' CPU time (cpu_used_s); else 0 */
	double probes_warm_s;	/* and at the calibration's warm end */
	double wake_share;	/* POOL: of its CPU demand at the recording, the share that is
				   waking its threads, which falls as the CPUs fill, or as its
				   threads do where they fill first (0: none) */
	double wake_each_ns;	/* POOL: a wake-up's CPU time, where wake_share is set */
	double wake_call_ns;	/* POOL: a call's own CPU time, where wake_share is set */
	double wake_calls_each;	/* POOL: top-level calls a wake-up at the recording's load
				   (without the probes where record --unprobed measured it) */
	bool wake_unprobed;	/* POOL: wake_calls_each is from the window without probes */
	double wake_u0;		/* the utilization the waking in wake_ns was read at (the
				   measured rates'); it is scaled by (1 - u) / (1 - wake_u0) */
	double outside_call_ns;	/* POOL: outside_ns per top-level call (0: not held for it) */
	double cpu_used_s;	/* POOL: its processes' CPU time in the window (0: not measured) */
	double probes_cpu_s;	/* POOL: what its probes took of it, as the kernel summed them */
	double probes_measured_s; /* POOL: what they took as measured: cpu_used_s less the
				     CPU time the processes used per call without probes
				     right after the recording (record --unprobed), times
				     its calls; NAN when not measured or not used */
	double probes_wake_saved_s; /* POOL: of the waking it would have done without them,
				       what the probes spared it by keeping its threads busy
				       (fewer wake-ups while recorded, at wake_each_ns): part
				       of what they cost; 0 when not known */
	double others_busy;	/* CPU: CPUs kept busy by other processes while recording,
				   held constant at any load (0: none or unknown) */
	double concurrency_mean; /* POOL: threads inside its handlers at once, mean (NAN: unknown) */
	int concurrency_max;	/* POOL: the most at once (0: unknown) */
	/* per flow (model.n_flows), ns per invocation of the flow: */
	double *demand_ns;	/* own work, the station's intrinsic demand */
	double *demand_measured_ns; /* as measured (includes waits below it) */
	double *demand_exclusive_ns; /* the part no other station counts: a pool's
				      off-CPU own work without its calls into other
				      bundles, the CPU's on-CPU time, a serial
				      handler's off-CPU time. What a product-form
				      network (the JMVA export) takes: the demands of
				      a flow add up to its time at zero load */
	double *oncpu_ns;	/* the on-CPU part of the demand */
	double *wake_ns;	/* CPU: of demand_ns, the waking at the recording's load; POOL:
				   the waking its threads do besides demand_ns, where they fill
				   before the CPUs (model_wake.c) */
	double *outside_ns;	/* POOL: the work its threads do outside the handlers besides
				   demand_ns (a loop's reading and parsing), waking aside,
				   where they fill before the CPUs; else 0 */
	double *visits;		/* separate visits (queueing points) per invocation */
	double background;	/* utilization by calls outside every flow, at the target */
	double utilization;	/* at the target: sum rate x demand / servers + background */
	double utilization_loaded; /* including the predicted waits below it (POOL/SERIAL) */
	double utilization_measured; /* measured: busy (kernel sums) / servers */
	double busy_measured;	/* servers busy per the kernel sums, all calls */
	double busy_sampled;	/* servers busy per the sampled in-flight counts (NAN if none) */
	double busy_raw;	/* the same from the handlers' raw times (the probes' in
				 * them, as in the in-flight counts): the self-check's */
	double busy_model;	/* servers busy per the model at the measured rates */
	bool count_gap;		/* self-check: busy_sampled and busy_raw over a quarter apart */
	double scv;		/* squared coefficient of variation of a visit's service */
	double service_ns;	/* mean service per visit at the target */
	double pwait;		/* probability that a visit waits (Erlang C) */
	double wait_ns;		/* mean wait per visit at the target (Allen-Cunneen) */
	int required_servers;	/* for utilization <= util_limit at the target (0: cannot) */
	int required_instances, required_workers;
	struct model_contrib *top;	/* by busy time, largest first */
	int n_top;
};

struct model_flow {
	char *name;
	char *entry;
	int entry_handler;	/* -1 when the entry is not in the snapshot */
	double measured_rate_per_s; /* independent arrivals (not counting calls made
				      from inside other flows) */
	double rate_per_s;	/* at the target */
	bool targeted;		/* rate from --target */
	double max_rate_per_s;	/* the target mix scaled up to its ceiling */
	double max_rate_alone_per_s; /* this flow alone */
	int alone_bottleneck;	/* station that limits it alone, -1 if none */
	double *visits;		/* per handler, per invocation: synchronous + asynchronous */
	double *visits_async;	/* the asynchronous part (from handler counts) */
	bool least_squares;	/* an asynchronous split was under-determined */
	double measured_mean_ns, measured_mean_raw_ns; /* entry, corrected and raw */
	double measured_mean_unc_ns; /* how far measured_mean_ns may be off (struct
					model_uncertainty's mean, of the calls it averages) */
	double predicted_mean_ns, predicted_p95_ns, predicted_p99_ns; /* at the target */
	double predicted_mean_measured_ns; /* at the measured rates (self-check) */
	double predicted_service_ns; /* at the target: the part inside the entry handler,
					without the wait for a worker (what a probe on the
					entry measures) */
	double predicted_service_measured_ns; /* the part inside the entry handler, without
						 the wait for a worker (self-check) */
	bool exceeds_capacity;	/* at the target */
	int saturated_station;	/* the station that is over capacity, or -1 */
	double inflight_sampled; /* entry's sampled in-flight mean (NAN if none) */
	double inflight_kernel;	/* entry total time / duration: lambda x R measured */
	double entry_calls_elsewhere; /* the entry's calls made inside other flows: its
					 percentiles count them too, and its measured mean
					 unless mean_from_arrivals */
	bool mean_from_arrivals; /* measured_mean_* from the flow's own arrivals only */
	bool little_gap;	/* self-check: the model's time inside the entry at the
				   measured rate over a quarter off the measured one */
};

struct model_closed {
	double think_ns;
	double demand_ns;	/* D: a lone user's response time */
	double max_demand_ns;	/* Dmax: the largest demand per server */
	int max_station;	/* the station with Dmax, -1 if none */
	double knee;		/* N* = (D + Z) / Dmax */
	int n;			/* populations */
	int *users;
	double *throughput_per_s; /* MVA */
	double *response_ns;
	double *bound_throughput_per_s;
	double *bound_response_ns;
	int *limited_by;	/* station whose ceiling caps the MVA throughput, or -1 */
};

struct model {
	double duration_s;
	double scale;
	double util_limit;
	bool targeted;		/* any --target or --scale */
	bool cpu_window_short;	/* too short a window for the processes' CPU time (model_cpu.c) */
	int nproc;
	struct model_handler *handlers;
	int n_handlers;
	struct model_flow *flows;
	int n_flows;
	struct model_station *stations;
	int n_stations;
	int *ranking;		/* station indices by utilization at the target, largest first */
	int bottleneck;		/* station index, -1 when nothing is loaded */
	int bottleneck_handler;	/* its largest contributor, -1 if none */
	double bottleneck_others; /* a CPU kept busier by other processes than by the
				     bundles: their share of it (then no handler is
				     named); 0 otherwise */
	double headroom;	/* ceiling / target: > 1 fits, < 1 exceeds (INFINITY if unloaded) */
	int ceiling_station;	/* the station full at the ceiling (with the waits below
				   it): not always the bottleneck by utilization; -1 if none */
	double max_throughput_per_s; /* the target mix at its ceiling, all flows */
	double throughput_per_s;     /* the target mix, all flows */
	struct model_closed closed;
	char **notes;		/* what the reader must know: fits, gaps, disagreements */
	int n_notes;
};

/*
 * Builds the model of s with options o (NULL: the defaults). On error (a
 * snapshot without duration, an option naming an unknown flow or bundle)
 * returns -1 with one message in err, e.g. "--target: unknown flow
 * 'chekout'; did you mean 'checkout'?", and m needs no model_free().
 * The model copies what it keeps: s may be freed afterwards.
 */
int model_build(const struct snapshot *s, const struct model_opts *o, struct model *m, char *err,
		size_t errlen);

void model_free(struct model *m);

/* The share of a station's servers that other processes keep busy (the
 * CPU's others_busy per CPU; 0 elsewhere). */
double model_others_share(const struct model_station *st);

/* How far a bundle's CPU demand may be off for its probes' calibrated cost
 * alone, as a share of the CPU time left after them: its handlers' calls
 * times their probes' calibration jitter (entry and exit), over the
 * bundle's CPU time less the probes' cost. The largest of s's bundles, and
 * its name in *bundle; 0 when unknown. */
double model_probe_doubt(const struct snapshot *s, const char **bundle);

/* A handler's entry and exit probe kinds as measured (snapshot entry_site,
 * exit_site), NULL where unknown or not calibrated (model_cpu.c). */
void model_handler_slots(const struct snapshot *s, const struct snap_handler *h,
			 const struct snap_slot_cost **entry, const struct snap_slot_cost **exit);

/* Lookups by name; -1 if absent. */
int model_station_index(const struct model *m, const char *name);
int model_flow_index(const struct model *m, const char *name);
int model_handler_index(const struct model *m, const char *id);

/* The rest of the stage's interface: this is user/model/'s public header, the
 * only one code outside the folder includes. */
#include "jmva.h"
#include "queueing.h"
#include "sweep.h"

#endif
