/* SPDX-License-Identifier: MIT */
/*
 * Stage 3: load the BPF programs, measure what a probe costs on this host,
 * and attach every resolved probe site. One opaque object, the recorder:
 *
 *   recorder_start()        load, calibrate, attach (falling back between modes)
 *   recorder_recalibrate()  one more round of the probe-cost measurement
 *   recorder_detach()       remove every probe (the maps stay readable)
 *   recorder_free()         detach if needed, free everything
 *
 * Attach modes, the cheapest the kernel offers first:
 *   uprobe.session  one link per (binary, process), one program both ways
 *   uprobe_multi    up to three links per (binary, process)
 *   uprobe          perf-event links per probe point (libbpf's own API)
 * libbpf 1.1 knows neither of the first two: their links are created with a
 * raw BPF_LINK_CREATE (include/uprobe_multi_link.h).
 *
 * A call's exit is seen at the function's exit sites (uprobes on its `ret`s
 * and tail-call `jmp`s) or by a uretprobe (docs/internals.md). Exit sites
 * are the only choice where something unwinds the stack (C++, Go); where
 * nothing does, the cheaper of the two as measured here is used.
 */
#ifndef FLOWPROF_ATTACH_H
#define FLOWPROF_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cost_slot.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"

enum attach_mode {
	ATTACH_AUTO = -1,
	ATTACH_SESSION = 0,
	ATTACH_MULTI,
	ATTACH_SINGLE,
	ATTACH_MODE_COUNT,
};

const char *attach_mode_name(enum attach_mode m);
/* Parses "session", "multi", "single" (or "auto"); -2 if unknown. */
int attach_mode_parse(const char *s);

/* How calls' exits are seen (--exits). */
enum exits_choice {
	EXITS_AUTO = 0,		/* exit sites where something unwinds, else the cheaper */
	EXITS_SITES,		/* exit sites wherever the code could be decoded */
	EXITS_URETPROBE,	/* uretprobes (refused in Go; unsafe where C++ throws) */
};

const char *exits_choice_name(enum exits_choice e);
/* Parses "auto", "sites", "uretprobe"; -1 if unknown. */
int exits_choice_parse(const char *s);

struct attach_opts {
	enum attach_mode mode;	/* ATTACH_AUTO: best available */
	enum exits_choice exits;
	bool entry_first;	/* entry probes at the functions' first instruction, never
				   moved to a cheaper one past it (--entry first) */
	bool no_oncpu;		/* do not load the sched_switch program */
	int max_instances;	/* processes tracked individually */
	int root_tgid;		/* > 0: count only this process and its descendants */
	/* load, calibrate and decide every site's probes (recorder_info's
	 * handlers and costs), but attach none to the targets (check --measure) */
	bool plan_only;
	/* Called as probe points get attached (done of total), e.g. for a
	 * progress line on a terminal; NULL for none. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

struct kernel_features {
	bool uprobe_session;	/* BPF_TRACE_UPROBE_SESSION + bpf_session_* kfuncs */
	bool uprobe_multi;	/* BPF_TRACE_UPROBE_MULTI */
	bool task_storage;	/* task local storage from tracing programs */
	bool raw_tp;		/* raw tracepoints (sched_switch, exit, exec) */
	bool tp_btf;		/* BTF tracepoints load and attach (some kernels refuse them) */
};

/* Detects kernel features (no side effects beyond probe loads). */
void detect_kernel_features(struct kernel_features *f);

/*
 * What one probe slot (include/flowprof.h, enum cost_slot) costs on this
 * host, as measured on flowprof's own functions: rounds of calls, probed and
 * unprobed, in the thread's CPU time; the robust figure is the median over
 * rounds, jitter half their spread.
 */
struct slot_cost {
	bool measured;
	double hit_ns;		/* one hit, in all */
	double in_window_ns;	/* its share inside a call's measured time */
	double jitter_ns;	/* hit_ns's uncertainty: half the spread of the rounds,
				 * or of its warm and cold figures if more */
	double in_window_jitter_ns; /* in_window_ns's, the same way */
	double first_hit_ns;	/* hit_ns as the first rounds measured it */
	/* what the kernel was seen to do there: "optimized", "emulated",
	 * "single-step" (measured, not read off the instruction) */
	const char *behaves_as;
};

/* Per handler, the probes it got. */
struct handler_probes {
	enum cost_slot entry;	/* the dearest entry slot among its sites */
	enum cost_slot exit;	/* the dearest exit slot (SLOT_EXIT_URETPROBE...) */
	int n_sites, n_exit_sites, n_fallback, n_partial;
	int n_moved;		/* sites whose entry probe went past a single-stepped
				   first instruction to a cheaper one */
	char *fallback;		/* why some sites use a uretprobe (exits unknown), or NULL */
	char *partial;		/* why some exits may be missed (exit sites in code
				   that unwinds, where some exit is uncertain), or NULL */
};

struct recorder_info {
	enum attach_mode mode;
	struct kernel_features feat;
	bool oncpu;		/* sched_switch accounting is running */
	bool exit_cpu;		/* a process's CPU time at its end is kept (inst_info) */
	bool wakeups;		/* threads' wake-ups are kept (inst_info; the BTF sched_switch) */
	size_t n_probes;	/* probe points attached for the handlers */
	double attach_ms;	/* load, calibration and attach */
	double load_ms;		/* of which BPF load and verification */
	double calib_ms;	/* and the probe-cost calibration's first rounds */
	double detach_ms;
	int calib_rounds;
	struct slot_cost costs[SLOT_COUNT];
	struct handler_probes *handlers; /* one per flow-file handler */
	int n_handlers;
};

struct recorder;

/*
 * Loads, calibrates and attaches. ATTACH_AUTO tries the best mode and falls
 * back to the next one when the kernel refuses it, logging why; a mode asked
 * for is that mode or an error. On failure returns -1 with a message in
 * err, and *out is NULL with nothing attached.
 */
int recorder_start(struct recorder **out, const struct flowfile *ff,
		   const struct resolution *res, const struct attach_opts *o, char *err,
		   size_t errlen);

/* One more round of the probe-cost measurement (a few ms of CPU); the
 * costs the BPF programs subtract follow the median of recent rounds.
 * Nothing once detached. */
void recorder_recalibrate(struct recorder *r);

/* Stops counting the flow's handlers, their probes still attached (they
 * are counted from the end of recorder_start): a reading of the maps then
 * holds every handler over the same span, where one taken while calls go on
 * would hold calls in one map that another does not. recorder_arm counts
 * them again. */
void recorder_disarm(struct recorder *r);
void recorder_arm(struct recorder *r);

/* Detaches every probe (timed in detach_ms); the maps stay readable. */
void recorder_detach(struct recorder *r);

/* Detaches if still attached and frees everything. NULL is fine. */
void recorder_free(struct recorder *r);

/*
 * After recorder_detach() (count_calls.c): an entry probe that only counts
 * calls on every site of each handler marked in count (indexed like the
 * flow file's handlers), and charges each hit's cost, as a recorded call's
 * probes are. recorder_counted() reads a handler's totals so far (summed
 * over CPUs; the recording's own are in them too: take differences).
 * Returns the probe points attached, or -errno with err set;
 * recorder_free() detaches them.
 */
int recorder_count_calls(struct recorder *r, const struct resolution *res, const bool *count,
			 char *err, size_t errlen);
struct counted {
	uint64_t entries;	/* hits of the counting probes */
	uint64_t entry_ns;	/* their calibrated cost, charged hit by hit */
};
int recorder_counted(const struct recorder *r, int handler, struct counted *out);
/* Detaches the counting probes (the recording's are gone by then). */
void recorder_stop_counting(struct recorder *r);

struct handler_stats;
/* One handler's figures summed over the CPUs (user/attach/read_stats.c): read
 * from the map, or from ncpu values stride bytes apart. */
int recorder_read_handler(const struct recorder *r, uint32_t hid, struct handler_stats *out);
void handler_stats_sum(const void *percpu, size_t stride, int ncpu, struct handler_stats *out);

const struct recorder_info *recorder_info(const struct recorder *r);

/* The maps collect/ reads. */
enum recorder_map {
	RMAP_HANDLER_STATS,
	RMAP_EDGES,
	RMAP_FLOW_VISITS,
	RMAP_INSTANCES,
	RMAP_INSTANCE_INFO,
	RMAP_INSTANCE_STATS,
	RMAP_COUNT,
};

int recorder_map_fd(const struct recorder *r, enum recorder_map m);
/* Global event counters (enum fp_counter), live. */
const uint64_t *recorder_counters(const struct recorder *r);
int recorder_n_handlers(const struct recorder *r);	/* flow-file handlers */
int recorder_bpf_handlers(const struct recorder *r);	/* and the calibration's, after them */
int recorder_max_instances(const struct recorder *r);

/* The rest of the stage's interface: this is user/attach/'s public header, the
 * only one code outside the folder includes. */
#include "kernel_btf.h"

#endif
