/* SPDX-License-Identifier: MIT */
/*
 * The snapshot: everything one recording measured, in memory and as the
 * JSON document of docs/snapshot.md ("flowprof_snapshot": 1). Written
 * atomically (0600), loaded back by `report` and `merge` without root.
 *
 * In memory we keep the raw sums (exactly mergeable); the derived figures
 * of the document (mean, stddev, percentiles) are computed when written.
 */
#ifndef FLOWPROF_SNAPSHOT_H
#define FLOWPROF_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

#define SNAPSHOT_VERSION 1
/* Probe slots (include/flowprof.h, SLOT_COUNT). */
#define SNAP_SLOTS 16

/* The document's key of each probe slot, NULL for unused slots. */
extern const char *const snapshot_slot_key[SNAP_SLOTS];

/* The name of each probe-site class, as "probe_cost" keys and site_class
 * values: indexed like enum site_class (probe/site_class.h), cheapest real
 * class first, "unknown" at 0. */
#define SNAP_SITE_CLASSES 4
extern const char *const snapshot_site_class_key[SNAP_SITE_CLASSES];

/* The kernel's event counters (struct snapshot, "counters" in the
 * document): each name and where its uint64_t sits in struct snapshot. */
#define SNAP_COUNTERS 9
struct snap_counter {
	const char *name;
	size_t off;
};
extern const struct snap_counter snapshot_counters[SNAP_COUNTERS];

struct snap_instance_stats {
	int pid;
	uint64_t calls;
	uint64_t total_ns;
	char *host;	/* NULL: the snapshot's host (set once hosts are merged) */
};

/* A handler's calls that were a flow's own arrivals (struct snap_handler). */
struct snap_arrivals {
	uint64_t calls, ns, probe_ns, self_ns, self_probe_ns;
};

struct snap_handler {
	char *id;	  /* "shop.checkout" */
	char *bundle;	  /* "shop" */
	char *symbol;	  /* matched symbol(s), comma-separated when a glob matched several */
	char *binary;	  /* file the probes sit in */
	char *site_class; /* "nop5", "emulated", "single-step", "unknown" (dearest probe site) */
	unsigned int site_classes; /* probe points of several classes: bit 1 << c for each
				      class c, numbered as probe_cost[]; 0 when they are
				      all of site_class (document key "site_classes") */
	double probe_cost_ns; /* in-window probe cost of this site class (0 = unknown) */
	double inflight_mean; /* calls in progress, mean of the per-interval samples (document key "inflight_mean") */
	bool serial;
	uint64_t entries;
	uint64_t calls;
	uint64_t incomplete;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t total_ns;
	uint64_t self_ns;
	uint64_t oncpu_ns;
	bool oncpu_measured;   /* false when the kernel refused the sched_switch program */
	long double sumsq_ns2; /* sum of squared durations */
	uint64_t hist[HIST_BUCKETS];
	struct snap_instance_stats *instances;
	int n_instances;
	/* Calls closed by the stack pointer (an exception, a longjmp): part of
	 * incomplete. Document key "unwound". */
	uint64_t unwound;
	/* The probes' own time inside the measured sums, subtracted per call by
	 * the kernel with the costs measured at that moment (docs/model.md):
	 * probe_ns inside total_ns (and oncpu_ns), self_probe_ns inside self_ns;
	 * nested_calls, the probed calls nested in them. probe_measured is false
	 * for older snapshots, which lack the keys. */
	bool probe_measured;
	uint64_t probe_ns;
	uint64_t self_probe_ns;
	uint64_t nested_calls;
	/* What its own two probes took of the thread, whole hits at the costs
	 * of the moment, summed over its calls: the probes' share of the
	 * bundle's CPU time (model_cpu.c). Document key "probe_cpu_ns", absent
	 * in older snapshots (probe_cpu_measured false). */
	bool probe_cpu_measured;
	uint64_t probe_cpu_ns;
	/* Waits inside probes the kernel took out of its calls' times (already
	 * out of total_ns): what flowprof removed beside the probes' own cost.
	 * Key "probe_wait_ns", 0 where absent. */
	uint64_t probe_wait_ns;
	/* Of its calls' time off the CPU, the waits to run (switched out still
	 * runnable: preempted; probe waits aside): contention for the CPUs,
	 * which the model's CPU station holds, not the handler's own wait.
	 * Key "runq_ns", absent where not measured (runq_measured false: no
	 * on-CPU tracking, or a sched_switch program that cannot tell). */
	bool runq_measured;
	uint64_t runq_ns;
	/* Of its calls, a flow's own arrivals: it is a flow's entry, called
	 * inside no flow on its thread (the flow's rate and mean are these, not
	 * its calls inside other flows). Raw sums as above; keys "arrival_calls",
	 * "arrival_ns", "arrival_probe_ns", "arrival_self_ns",
	 * "arrival_self_probe_ns", for flows' entries only; absent in older
	 * snapshots (arrival_measured false). */
	bool arrival_measured;
	struct snap_arrivals arrival;
	char *entry_site;	/* kind of its entry probe ("push", "nop5", "other"...) */
	char *exit_site;	/* how its exits are seen ("ret", "uretprobe", ...) */
	char *exits_fallback;	/* why some of its exits are a uretprobe, or NULL */
};

/* site_classes as stored from a mask of classes (bit 1 << c, c numbered as
 * probe_cost[], the three real classes only): 0 unless it holds two or more. */
static inline unsigned int snapshot_site_classes(unsigned int mask)
{
	mask &= 0xeu;
	return mask & (mask - 1) ? mask : 0;
}

struct snap_edge {
	char *from;
	char *to;
	uint64_t calls;
	bool declared;	/* in the flow file */
	bool async;	/* declared as "a ~> b" or "a => b": not nested on one thread */
	bool waits;	/* declared as "a => b": the caller waits for the reply */
};

struct snap_visit {
	char *handler;
	uint64_t calls; /* calls of handler nested under the flow's entry */
};

struct snap_flow {
	char *name;
	char *entry;
	uint64_t invocations;	/* calls of the entry handler */
	struct snap_visit *visits;
	int n_visits;
	/* declared structure, so the model works from the snapshot alone */
	struct snap_edge *declared;
	int n_declared;
};

/* Levels of a bundle's concurrency histograms (the last holds all above). */
#define SNAP_CONC_LEVELS 64
/* A bundle's wake-ups, by calls completed in them (the last: that many or more). */
#define SNAP_WAKE_BUCKETS 9

/* Wake-ups of a bundle's threads, summed over its processes: each a
 * thread's stretch from waking outside any handler to sleeping outside one
 * again, kept by the top-level calls it completed (index k, the last
 * holding k and more): how many, their calls, their time on a CPU and what
 * their calls' probes took of it. Document key "wakeups". */
struct snap_wakeups {
	bool measured;
	uint64_t periods[SNAP_WAKE_BUCKETS];
	uint64_t calls[SNAP_WAKE_BUCKETS];
	uint64_t cpu_ns[SNAP_WAKE_BUCKETS];
	uint64_t probe_ns[SNAP_WAKE_BUCKETS];
};

struct snap_bundle {
	char *name;
	int *pids;
	int n_pids;
	int threads;	/* distinct threads that ran handlers */
	/* The name (comm) of the first thread of its first process to run a
	 * handler, and how many threads of its processes bore that name at
	 * the end: a pool names its workers alike, and workers that ran no
	 * handler while recorded are not among the servers seen (the model's
	 * note). Keys "worker_name", "named_threads"; NULL and 0: unknown. */
	char *worker_name;
	int named_threads;
	/* Concurrency, per process: time spent with k threads live (they ran a
	 * handler and have not exited) and with k threads inside a handler,
	 * summed over the bundle's processes; the largest k seen. Document key
	 * "concurrency". */
	bool conc_measured;
	int live_max, inflight_max;
	uint64_t live_ns[SNAP_CONC_LEVELS];
	uint64_t inflight_ns[SNAP_CONC_LEVELS];
	struct snap_wakeups wake;
	/* CPU time its processes used in the window (every thread, in handlers
	 * or not) and the CPUs they may use (affinity, cpuset, quota), with
	 * where that came from ("affinity", "cgroup cpu.max", ...). */
	bool cpu_measured;
	double cpu_s;
	double cpus;
	char *cpus_source;
	/* The times its processes' live threads went to sleep in the window
	 * (voluntary context switches; with cpu_s; 0: not known). Document key
	 * "sleeps". */
	uint64_t sleeps;
	/* A window without probes right after the recording (record
	 * --unprobed): its seconds and the CPU time the processes used in it,
	 * and the calls of the bundle's handlers in the recording's last
	 * late_s seconds, the rate it is taken to have run at. Document key
	 * "unprobed" (absent: not measured). */
	bool unprobed_measured;
	double unprobed_s;
	double unprobed_cpu_s;
	uint64_t unprobed_sleeps; /* their threads' sleeps then (0: not known) */
	uint64_t late_calls;
	double late_s;
	/* A second span right after it (unprobed.counted_s), where an entry
	 * probe on some handlers counts their calls: its CPU time
	 * (counted_cpu_s), the calls counted (counted_calls), those handlers'
	 * calls in the recording's window (counted_window_calls), and what the
	 * counting probes cost, as calibrated (counted_probe_s): the CPU time a
	 * call where the load did not keep its rate. 0: not counted. */
	uint64_t counted_calls, counted_window_calls;
	double counted_s, counted_cpu_s, counted_probe_s;
	int instances;	/* from the flow file, 0 = observe */
	int workers;	/* from the flow file, 0 = observe */
	bool serial;
	/* Optional, parallel to pids: the threads of each process that ran
	 * handlers (NULL = not known), and the host of each process (NULL, or
	 * a NULL entry = the snapshot's host). With pid_threads, a merge keeps
	 * threads exact: a process seen twice counts once. */
	int *pid_threads;
	char **pid_hosts;
};

/* One recording host, once snapshots of several hosts are merged. */
struct snap_host {
	char *name;
	char *kernel;
	int nproc;
	double probe_cost_ns;
};

struct snapshot {
	int version;
	char *host;
	char *kernel;
	char *started_at;	/* RFC 3339, UTC */
	double duration_s;
	int nproc;		/* CPUs of the recording host */
	/* Busy CPU time of the whole host (every process, flowprof included):
	 * since boot in a reading, over the window in a recording. Document key
	 * "host_cpu_s" (absent: not measured). */
	bool host_cpu_measured;
	double host_cpu_s;
	/* Busy CPU time over the window of the CPUs the bundles' processes may
	 * run on (their affinity, which a cpuset bounds), every process's
	 * (tasks' time: interrupts, mostly the service's own I/O, left out),
	 * when those are fewer than the host's: what others kept busy of the
	 * CPUs the bundles have. Document key "bundle_cpus_busy_s" (absent:
	 * not measured, or the bundles may run on every CPU). */
	bool bundle_cpus_busy_measured;
	double bundle_cpus_busy_s;
	double probe_cost_ns;	/* in-window probe cost at the handlers' most common site class, 0 = unknown */
	/* Calibrated per site class, indexed like enum site_class (resolve.h):
	 * [1] nop5, [2] emulated, [3] single-step. Document key "probe_cost": {
	 * "nop5": {"per_call_ns", "in_window_ns"}, ...}. per_call_ns: what one
	 * probed call costs its caller; in_window_ns: the part of it inside a
	 * measured duration (subtract from each call's duration). */
	struct snap_probe_cost {
		bool measured;
		double per_call_ns;
		double in_window_ns;
	} probe_cost[SNAP_SITE_CLASSES];
	/* What each kind of probe (include/flowprof.h, enum cost_slot) costs on
	 * the recording host, measured in calib_rounds rounds. Document key
	 * "calibration": {"rounds", "slots": {"nop5": {...}, "ret": {...}}}. */
	struct snap_slot_cost {
		bool measured;
		double hit_ns, in_window_ns, jitter_ns, first_hit_ns;
		/* in_window_ns's own uncertainty (jitter_ns is hit_ns's); NAN
		 * where not known (older snapshots): the model then takes
		 * jitter_ns. Key "in_window_jitter_ns". */
		double in_window_jitter_ns;
		char *behaves_as;
	} probe_slots[SNAP_SLOTS];
	int calib_rounds;
	char *attach_mode;	/* "uprobe.session", "uprobe_multi", "uprobe" */
	double attach_ms;	/* time to attach every probe (document key "attach_ms") */
	double detach_ms;	/* time to detach them (document key "detach_ms") */
	char *flow_file;
	struct snap_handler *handlers;
	int n_handlers;
	struct snap_edge *edges;	/* observed */
	int n_edges;
	struct snap_flow *flows;
	int n_flows;
	struct snap_bundle *bundles;
	int n_bundles;
	/* kernel-side event counters (names from include/flowprof.h enum fp_counter) */
	uint64_t unmatched_returns;
	uint64_t depth_overflows;
	uint64_t abandoned_frames;
	uint64_t exited_in_call;
	uint64_t edges_dropped;
	uint64_t instances_dropped;
	uint64_t threads_dropped;
	uint64_t switch_ins_estimated;
	uint64_t probe_waits;
	/* Empty (n_hosts = 0) for one host, described by host, kernel, nproc and
	 * probe_cost_ns. After a merge across hosts, one entry per host; host is
	 * then "a,b", nproc their sum and probe_cost_ns the mean of the known
	 * costs (docs/snapshot.md, "Merging"). */
	struct snap_host *hosts;
	int n_hosts;
};

/* Counter k of snapshot_counters in s. */
static inline uint64_t *snapshot_counter(struct snapshot *s, int k)
{
	return (uint64_t *)((char *)s + snapshot_counters[k].off);
}

static inline uint64_t snapshot_counter_value(const struct snapshot *s, int k)
{
	return *(const uint64_t *)((const char *)s + snapshot_counters[k].off);
}

/* Derived figures of one handler, as the document shows them. */
struct handler_summary {
	double mean_ns, stddev_ns, p50_ns, p90_ns, p95_ns, p99_ns;
	double self_mean_ns, oncpu_mean_ns;
};

/* mean = total/calls; stddev from sumsq (population, 0 below 2 calls);
 * percentiles from the histogram (hist_percentile, clamped to min..max).
 * All 0 when the handler has no calls; oncpu_mean_ns is NAN when on-CPU
 * time was not measured. */
void snapshot_summarize(const struct snap_handler *h, struct handler_summary *out);

/* Serialize to the JSON document (pretty when pretty is true). Caller frees. */
char *snapshot_to_json(const struct snapshot *s, bool pretty);

/* The same document as a json-c object, for writers that add to it (e.g.
 * the model's "model" object); print it with jo_to_string() (json_out.h).
 * Caller puts it with json_object_put(). */
struct json_object;
struct json_object *snapshot_to_json_object(const struct snapshot *s);

/* Atomic write with mode 0600. Returns 0, or -1 with errno set. */
int snapshot_write(const struct snapshot *s, const char *path);

/* Load a document: from a file, from text, or from a document json-c has
 * already parsed (one embedded in another document, as each step of a
 * sweep is; doc is not changed). The same checks and errors either way.
 * On error returns -1, leaves *s zeroed and writes "<path>: <what>" into
 * err: path names the document in errors. */
int snapshot_load(const char *path, struct snapshot *s, char *err, size_t errlen);
int snapshot_parse(const char *path, const char *buf, size_t len, struct snapshot *s,
		   char *err, size_t errlen);
int snapshot_from_json_object(const char *path, struct json_object *doc, struct snapshot *s,
			      char *err, size_t errlen);

void snapshot_free(struct snapshot *s);

/* Field-by-field comparison of everything a snapshot stores (NULL and ""
 * strings are the same; derived figures are not stored, so not compared).
 * Returns true when equal; otherwise writes the first difference, e.g.
 * "handlers[2].calls: 10 != 11", into diff (may be NULL). */
bool snapshot_equal(const struct snapshot *a, const struct snapshot *b, char *diff,
		    size_t difflen);

/* An RFC 3339 time ("2026-11-22T23:41:59Z", "...59.25+01:00"), as the
 * document's started_at is read, into Unix time. Returns 0 or -1. */
int snapshot_parse_time(const char *s, double *out);

/* Lookups by name; NULL if absent. */
struct snap_handler *snapshot_handler(const struct snapshot *s, const char *id);
struct snap_bundle *snapshot_bundle(const struct snapshot *s, const char *name);
struct snap_flow *snapshot_flow(const struct snapshot *s, const char *name);

/* Exact merge of src into dst (counts, sums, histograms, instances);
 * duration is the longer of the two, started_at the earlier. Associative:
 * merge(a, merge(b, c)) equals merge(merge(a, b), c) field by field. A
 * zeroed dst becomes a copy of src. On a conflict (a flow whose entry
 * differs, a handler in another bundle) returns -1 with the reason in err
 * and leaves dst unchanged. The rules are in docs/snapshot.md. */
int snapshot_merge(struct snapshot *dst, const struct snapshot *src, char *err, size_t errlen);

/* The rest of the stage's interface: this is user/snapshot/'s public header, the
 * only one code outside the folder includes. */
#include "snapshot_delta.h"

#endif
