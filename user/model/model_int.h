/* SPDX-License-Identifier: MIT */
/*
 * Private to user/model/: what the files of the capacity model share while
 * model_build() runs. Code outside the folder includes model/model.h only
 * (scripts/check-layout.py).
 *
 * model_build() runs the stages in this order, one file each:
 *
 *   model_options.c   the command line's strings into struct model_opts, and
 *                     their flow and bundle names checked against the snapshot
 *   model_handlers.c  the observed call edges; per-call times corrected for
 *                     the probes' cost; the time each call holds its worker
 *   model_flows.c     visit ratios: exact for nested calls, fitted from the
 *                     handlers' counts for asynchronous ones; flow rates and
 *                     the calls no flow explains
 *   model_stations.c  pools, serial bundles, serial handlers; the waits the
 *                     measured times contain; demands per flow
 *   model_cpu.c       the CPU station's demand and the CPUs others kept busy
 *   model_eval.c      the model at a set of rates: waits, CPU stretch,
 *                     response times, the largest feasible scale
 *   model_results.c   at the target: contributions, ranking, sizing,
 *                     exclusive demands, ceilings
 *   model_closed.c    the closed workload (MVA over flow-equivalent servers)
 *   model_checks.c    the notes, and the self-checks against the measurement
 *   model.c           model_build() itself, lookups, freeing
 */
#ifndef FLOWPROF_MODEL_INT_H
#define FLOWPROF_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define NS 1e9 /* ns per s */

/* ---- the build context -------------------------------------------------- */

struct edge_ix {
	int from, to;
	double calls;
};

/* A synchronous call to another thread or process ("a => b"): a holds its
 * worker for b's whole response, the wait for b's workers included. */
struct remote_call {
	int from, to;
	double per_call;	/* calls of b per call of a */
};

/* What a station needs beyond the public struct, at the measured load. */
struct station_priv {
	double bg0;	/* busy servers from calls outside flows, own work */
	double bgm;	/* the same, as measured */
	double bg_visits; /* visits per s from calls outside flows */
	int *handlers;	/* handlers whose time the station counts */
	int n_handlers;
	int observed;	/* servers while recording (before any override) */
};

struct build {
	const struct snapshot *s;
	const struct model_opts *o;
	struct model *m;
	int H, F;
	int *bundle_of;		/* handler -> station index of its bundle */
	struct edge_ix *edges;	/* observed, by from (CSR) */
	int n_edges;
	int *out_start;		/* H + 1 offsets into edges */
	double *nested_any;	/* calls of h nested under any handler */
	double *pc_in, *pc_call;
	double *vs, *va;	/* [F][H] visits per invocation: synchronous, asynchronous */
	double *vc;		/* [F][H] visit_calls from the snapshot */
	double *outer;		/* per flow: outermost entry calls */
	/* per handler, a flow's entry whose own arrivals were recorded: their
	 * self time, and that of its other calls, less its mean over all its
	 * calls (0 where not recorded) */
	double *own_extra, *elsewhere_extra;
	bool cpu_known;
	int cpu_station;
	double stretch_meas;	/* CPU stretch attributed to the measured load */
	double probed_wait_share; /* of the waits to run measured while recording, the
				     share the probes' own CPU time caused (model_stations.c) */
	double *lock_wait_meas;	/* per handler (serial): wait per call at the measured load */
	int *lock_station;	/* per handler: its LOCK station or -1 */
	struct station_priv *sp;
	struct remote_call *remote;
	int n_remote;
	/* at the measured rates, once evaluated there: what a remote call's
	 * response changes from */
	double *wait_meas;	/* per station: the wait for a worker */
	double *held_meas;	/* per handler: the held time */
	/* normalized service distribution of each flow's entry (mean 1) */
	double **plo, **phi, **pw;
	int *pn;
};

/* Visits of handler h per invocation of flow f, synchronous and asynchronous;
 * AT: cell [f][h] of one of the build's [F][H] arrays. */
#define V(b, f, h) ((b)->vs[(size_t)(f) * (size_t)(b)->H + (size_t)(h)] + \
		    (b)->va[(size_t)(f) * (size_t)(b)->H + (size_t)(h)])
#define AT(arr, b, f, h) ((arr)[(size_t)(f) * (size_t)(b)->H + (size_t)(h)])

static inline double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A handler's index in the snapshot (and the model), -1 if absent. */
static inline int handler_ix(const struct snapshot *s, const char *id)
{
	const struct snap_handler *h = snapshot_handler(s, id);

	return h ? (int)(h - s->handlers) : -1;
}

/* ---- the model at a set of rates (model_eval.c) ------------------------- */

struct eval {
	double *held;		/* per handler: held time at these rates */
	double *lock_w;		/* per station: LOCK wait per visit */
	double stretch;
	double *u, *u_loaded, *service, *pwait, *wait;
	double *u_fill;		/* per station: the part of u that fills it, linear in the
				   rates (u less the CPU's waking, which falls as it fills) */
	double *mean, *p95, *p99; /* per flow */
	double *service_f;	/* per flow: time inside the entry's bundle, without the wait */
	bool *exceeds;
	int *saturated;
};

/* ---- model_options.c ------------------------------------------------------ */

/* Every flow and bundle o names exists in s; else -1 with "--target: unknown
 * flow 'x'; did you mean 'y'?" in err. */
int model_check_names(const struct snapshot *s, const struct model_opts *o, char *err,
		      size_t errlen);

/* ---- model_wake.c: wake-ups ------------------------------------------------ */

void model_wake_share(struct build *b, const struct snap_bundle *sb, int st, double work,
		      double calls);
void model_wake_baseline(struct build *b);
double model_offered_waking(const struct build *b, int k, double A, double Aw);

/* ---- model_checks.c ------------------------------------------------------- */

/* Adds a note for the reader (printed, and in the JSON: ASCII units). */
void model_note(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Busy servers three ways and Little's law per flow, against the model at
 * the measured rates (meas): a note for each disagreement. */
void model_self_checks(struct build *b, const struct eval *meas);

/* ---- model_handlers.c ----------------------------------------------------- */

/* The observed edges between known handlers, grouped by caller (CSR). */
void model_index_edges(struct build *b);

/* The handlers' stations (their bundles' pools, created here), per-call
 * times corrected for the probes, held times, top-level shares. */
void model_build_handlers(struct build *b);

/* ---- model_flows.c -------------------------------------------------------- */

/* Visit ratios, asynchronous attribution (and the remote calls it finds),
 * flow rates, and each handler's calls outside every flow. */
void model_build_flows(struct build *b);

/* ---- model_stations.c ----------------------------------------------------- */

/* A new station with its per-flow arrays; servers are the caller's to set. */
struct model_station *model_new_station(struct build *b, const char *name,
					enum model_station_kind kind);

/* The pool or serial station of a bundle, -1 if none. */
int model_bundle_station(struct model *m, const char *bundle);

/* A bundle's servers: command line > flow file > observed. sb may be NULL
 * (a bundle no snapshot entry describes). */
void model_size_pool(struct build *b, struct model_station *st, const struct snap_bundle *sb);

/* Serial handlers and the CPU; the waits the measured held times contain
 * (held0_ns); demands per flow, background, busy checks, variability. */
void model_build_stations(struct build *b);

/* Time of handler h that station st counts per call: own work (intrinsic)
 * or as measured; and the on-CPU part of it. */
double model_station_time(const struct build *b, int st, int h, bool intrinsic);
double model_station_oncpu(const struct build *b, int st, int h);

/* ---- model_cpu.c ---------------------------------------------------------- */

/* Each handler's cpu_demand_ns, and the CPUs the bundles may use with where
 * that figure comes from ("nproc", "affinity", "cgroup ..."). */
void model_cpu_demands(struct build *b, double *cpus_out, const char **source_out);

/* CPUs other processes kept busy while recording (0: none or unknown). */
double model_others_cpu_busy(const struct build *b, double cpus);

/* ---- model_eval.c --------------------------------------------------------- */

/* The CPU stretch at offered load A, capped by the workers that exist
 * (observed: as recorded; else as configured); 1 without a CPU station. */
double model_cpu_stretch(const struct build *b, int cpu, double A, bool observed);

/* The wait for serial handler station st at offered load A, capped. */
double model_lock_wait(const struct build *b, int st, double A, bool observed);

void model_eval_alloc(struct build *b, struct eval *ev);
void model_eval_free(struct eval *ev);

/* The shape of flow f's service time (b->plo, phi, pw, pn). */
void model_entry_shape(struct build *b, int f);

/* The model at rates (per flow) with the background scaled by bg_scale. */
void model_evaluate(struct build *b, const double *rates, double bg_scale, bool percentiles,
		    struct eval *ev);

/* The largest factor on rates (and the background) that fits; *limit: the
 * station that fills. INFINITY when nothing grows. */
double model_feasible_scale(struct build *b, const double *rates, double bg_scale,
			    struct eval *ev, int *limit);

/* ---- model_results.c ------------------------------------------------------ */

void model_contributions(struct build *b, const double *rates);
void model_sizing(struct build *b, const struct eval *ev);
void model_exclusive_demands(struct build *b);
void model_ceilings(struct build *b, const double *rates);
/* m->ranking, the bottleneck and its largest contributor. */
void model_rank_stations(struct build *b);

/* ---- model_closed.c ------------------------------------------------------- */

void model_closed_workload(struct build *b, const double *rates);

/* Fills mh->unc from h's histogram and counts and mh's corrected times and
 * probe_unc_ns (set those first); zero when h has no calls (uncertainty.c). */
void model_handler_uncertainty(const struct snap_handler *h, struct model_handler *mh);
double model_mean_uncertainty(const struct model_handler *mh, double n);
double flow_visits_extra_ns(const struct build *b, int f, int h, double v);

/* A bundle's handler calls a second once its probes were gone (record
 * --unprobed; calls: its handlers' calls in the window): counted then
 * where they were, else the rate of the window's late part, which the load
 * is taken to have kept. 0: not measured (model_cpu.c). */
double model_unprobed_rate(const struct snap_bundle *sb, double calls);

#endif
