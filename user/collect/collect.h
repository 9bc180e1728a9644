/* SPDX-License-Identifier: MIT */
/*
 * Stage 4: read the BPF maps (summing the per-CPU copies) into a snapshot.
 * Called once per interval and once at the end: never per call.
 */
#ifndef FLOWPROF_COLLECT_H
#define FLOWPROF_COLLECT_H

#include "attach/attach.h"
#include "flowfile/flowfile.h"
#include "flowprof.h"
#include "probe/probe.h"
#include "snapshot/snapshot.h"

/* Calls in flight per handler right now (entries - calls - incomplete),
 * summed into inflight[0..ff->n_handlers). For Little's-law checks. */
int collect_inflight(struct recorder *r, int n_handlers, uint64_t *inflight);

/*
 * The calls in flight per handler over a window, as a time average of
 * samples taken on a schedule of their own (inflight.c).
 */
struct inflight_sampler;
struct inflight_sampler *inflight_sampler_new(struct recorder *r, int n_handlers,
					      uint64_t interval_ns);
/* The first sample at now_ns, then one an interval from a thread of its
 * own; stop takes the last at now_ns (the window's end). */
void inflight_sampler_start(struct inflight_sampler *s, uint64_t now_ns);
void inflight_sampler_stop(struct inflight_sampler *s, uint64_t now_ns);
/* false when no sample was taken */
bool inflight_sampler_mean(const struct inflight_sampler *s, int h, double *mean);
void inflight_sampler_free(struct inflight_sampler *s);

/* Completed calls per handler, into calls[0..n_handlers) (0 where a
 * handler cannot be read). */
void collect_calls(struct recorder *r, int n_handlers, uint64_t *calls);

/*
 * The dearest class among handler h's probe points (single-step > emulated >
 * nop5 > unknown), what each of its calls may pay: a glob can cover symbols
 * of different classes. SITE_UNKNOWN when it has none. The python line gate
 * is left out: it is parked on a probe that never fires.
 */
enum site_class handler_site_class(const struct resolution *res, int h);

/*
 * CPU time of the recorded processes: a process may be gone when the
 * snapshot is taken, so its last reading counts. collect_cpu_sample()
 * reads every process seen in the maps now (call it a few times a second
 * while recording); collect_cpu_final() gives the exact total of a process
 * flowprof reaped itself (wait4's rusage, record -- CMD).
 */
void collect_cpu_sample(struct recorder *r);
void collect_cpu_final(int pid, double cpu_s);
/* The CPU time of b's processes so far (seconds): each one's now, or the
 * last seen once it is gone. */
double collect_bundle_cpu(const struct snap_bundle *b);
/* The times the bundle's processes' threads went to sleep so far (a process
 * that is gone: as last seen). */
uint64_t collect_bundle_sleeps(const struct snap_bundle *b);
/* Forgets every process's CPU time and limits seen (when a recording ends). */
void collect_cpu_forget(void);

/*
 * Fills handlers, edges, flows, bundles and counters of s from the maps,
 * described by the flow file and the resolution. Header fields (host, time,
 * duration, probe cost) are the caller's. A map entry that cannot be read
 * (a process that just exited) is left out. Returns 0.
 */
int collect_snapshot(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		     struct snapshot *s);

/* The rest of the stage's interface: this is user/collect/'s public header, the
 * only one code outside the folder includes. */
#include "live.h"

#endif
