/* SPDX-License-Identifier: MIT */
/*
 * A recording that stays attached while someone watches it: the pipeline of
 * `flowprof record` (flow file -> resolve -> attach -> calibrate), then a
 * full snapshot whenever a view asks for one (`flowprof top` once per
 * interval, `flowprof serve` once per scrape). Snapshots count from the
 * start; snapshot_delta() (snapshot_delta.h) turns two of them into the
 * snapshot of the interval between them.
 */
#ifndef FLOWPROF_LIVE_H
#define FLOWPROF_LIVE_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <argp.h>

#include "attach/attach.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"
#include "snapshot/snapshot.h"

struct live_opts {
	const char *cmd;	/* "top", "serve": named in messages */
	const char *flow_path;
	const int *pids;	/* -p; NULL = every process of the bundles */
	int n_pids;
	enum attach_mode mode;
	enum exits_choice exits;
	bool entry_first;	/* --entry first */
	bool no_oncpu;
	int max_instances;
	const char *output;	/* -o: written when the recording ends; checked first
				   (check_writable_atomic) so that a file that cannot be
				   written fails before anything is attached */
	int command_pid;	/* record -- CMD: the started command (paused until the probes
				   are in place): the bundles' only process, and only it and
				   its descendants are counted */
	/* The command's permission check, run once the flow file has loaded
	 * and before anything touches BPF: 0 to go on (NULL: none). */
	int (*permitted)(const char *cmd);
};

struct live {
	struct flowfile ff;
	struct resolution res;
	struct recorder *rec;
	struct snapshot_start base; /* the maps when the window opened (after calibration) */
	const char *flow_path;
	time_t started;
	uint64_t t_start;	/* now_ns() when the probes were in place */
	uint64_t t_end;		/* now_ns() when the window closed (live_disarm), or 0 */
	int processes;		/* resolved at start */
	uint64_t t_calibrated;	/* now_ns() of the last calibration round */
	uint64_t t_cpu_sampled;	/* now_ns() of the last reading of the processes' CPU time */
	/* live_mark(): each flow-file bundle's handler calls so far, and when,
	 * where the window's late part starts [0] and where it closes [1] */
	uint64_t *mark_calls[2];
	uint64_t t_mark[2];
	/* The CPUs the bundles' processes may run on (live_collect adds those
	 * of processes that came later), and each CPU's busy time and
	 * flowprof's own CPU time when the window opened: what others kept
	 * busy of the bundles' CPUs (snapshot bundle_cpus_busy_s). */
	cpu_set_t bundle_cpus;
	double *cpu_busy_start;	/* CPU_SETSIZE of them */
	double own_cpu_start;
};

/* The options every recording command shares: --mode, --no-oncpu and
 * --max-instances, parsed into the struct live_opts given as this argp
 * child's input (state->child_inputs[i] in the parent's ARGP_KEY_INIT). */
extern const struct argp live_attach_argp;

/* Loads the flow file, checks capabilities and that o->output can be
 * written, resolves, attaches and calibrates. Prints resolution notes and
 * errors on stderr. Returns 0, or -1 after printing why (nothing stays
 * attached). */
int live_start(struct live *l, const struct live_opts *o);

/* The maps now, cumulative since attach, as a snapshot with its header
 * (host, times, probe costs): what live_collect() subtracts from. s must
 * be zeroed; free it with snapshot_free. Returns 0 or -1. */
int live_read(struct live *l, struct snapshot *s);

/* Keeps each bundle's handler calls so far, and the time, as mark `which`:
 * 0 where the window's late part starts, 1 where the window closes. */
void live_mark(struct live *l, int which);

/*
 * After the detach (record --unprobed): the CPU time each bundle of s used
 * over `seconds` without probes, with the calls and seconds between marks 0
 * and 1, into its unprobed fields. stop() returning true ends the wait
 * early, and s is left as it was. Returns 0 when measured.
 */
int live_unprobed(struct live *l, struct snapshot *s, double seconds, bool (*stop)(void));

/* The largest share of a bundle's CPU time in s that its probes took, at
 * their calibrated cost (probe_cpu_ns against cpu_s); 0 when unknown. */
double live_probe_share(const struct snapshot *s, const char **bundle);

/* Everything measured since live_start, as record would write it now
 * (header, handlers, edges, flows, bundles, probe costs): the maps now
 * minus the maps when the window opened. s must be zeroed;
 * free it with snapshot_free. Returns 0 or -1. Safe to call from one
 * thread while another only reads l. */
int live_collect(struct live *l, struct snapshot *s);

/* Once per interval while recording: a round of probe-cost calibration
 * every LIVE_CALIB_PERIOD_S, so that the costs the kernel subtracts follow
 * the host's load. Cheap to call more often. */
#define LIVE_CALIB_PERIOD_S 5
#define LIVE_CALIB_EARLY_ROUNDS 9
void live_tick(struct live *l);

/* Stops counting calls (recorder_disarm), before the last reading. */
void live_disarm(struct live *l);
/* Removes the probes (timed); what they measured stays readable. */
void live_detach(struct live *l);

/* What the recording attached: mode, probe points, times, costs. */
const struct recorder_info *live_info(const struct live *l);

/* Detaches (timed) and frees everything. */
void live_stop(struct live *l);

#endif
