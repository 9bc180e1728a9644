/* SPDX-License-Identifier: MIT */
/*
 * Stage 3: load the BPF program and attach it to every resolved probe site,
 * through the cheapest mechanism the kernel offers (detected at start-up):
 *   uprobe.session  one link per (binary, process), one program both ways
 *   uprobe_multi    two links per (binary, process): entry and return
 *   uprobe          two perf-event links per probe site (libbpf's own API)
 * libbpf 1.1 knows neither of the first two: their links are created with a
 * raw BPF_LINK_CREATE (see attach.c).
 */
#ifndef FLOWPROF_ATTACH_H
#define FLOWPROF_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowfile/flowfile.h"
#include "probe/probe.h"
#include "unwind_servicer.h"

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

/* Extra probe points in flowprof's own process, attached with the rest,
 * used to calibrate the probe cost (user/attach/calibrate.c). */
struct extra_site {
	uint64_t offset;   /* file offset in /proc/self/exe */
	uint32_t hid;	   /* handler slot after the flow file's handlers */
};

struct attach_opts {
	enum attach_mode mode;	/* ATTACH_AUTO: best available */
	bool no_oncpu;		/* do not load the sched_switch program */
	int max_instances;	/* processes tracked individually */
	int root_tgid;		/* > 0: count only this process and its descendants */
	const struct extra_site *extra;
	int n_extra;
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
};

struct recorder {
	struct flowprof_bpf *skel;
	enum attach_mode mode;
	struct kernel_features feat;
	bool oncpu;		/* sched_switch accounting is running */
	int n_handlers;		/* flow-file handlers + extra sites */
	int n_flows;
	int max_instances;
	struct bpf_link **links;	/* libbpf links (single mode, tracepoints) */
	size_t n_links, cap_links;
	int *link_fds;			/* raw uprobe_multi/session links */
	size_t n_link_fds, cap_link_fds;
	size_t n_probes;		/* probe points attached */
	struct unwind_servicer unwind;	/* stack writes for exceptions (unwind_hook) */
	size_t hook_fds_from, hook_links_from; /* the unwinder hooks' links start here */
	double attach_ms;
	double detach_ms;
};

/* Detects kernel features (no side effects beyond probe loads). */
void detect_kernel_features(struct kernel_features *f);

/*
 * Loads and attaches. Tries the requested (or best) mode and falls back to
 * the next one when the kernel refuses it, logging why. On failure returns
 * -1 with a message in err and leaves nothing attached.
 */
int recorder_start(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		   const struct attach_opts *o, char *err, size_t errlen);

/* Detaches every probe (timed in detach_ms); the maps stay readable.
 * Warns when an unwinder's return-address fix-up was missed meanwhile. */
void recorder_detach(struct recorder *r);

/* Detaches if still attached and frees the BPF objects. */
void recorder_destroy(struct recorder *r);

/* The rest of the stage's interface: this is user/attach/'s public header, the
 * only one code outside the folder includes. */
#include "calibrate.h"
#include "kernel_btf.h"

#endif
