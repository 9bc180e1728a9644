/* SPDX-License-Identifier: MIT */
/*
 * Probe-cost calibration on the recording host. flowprof probes three tiny
 * functions of its own, one per probe-site class (nop5, emulated,
 * single-step), with the same programs and attach mode as the handlers, and
 * measures:
 *   per_call_ns   what a probed call costs its caller, minus the unprobed call
 *   in_window_ns  how much of that lands inside a measured duration (the
 *                 mean measured duration of an empty function)
 * The model subtracts them to estimate service times without profiling.
 */
#ifndef FLOWPROF_CALIBRATE_H
#define FLOWPROF_CALIBRATE_H

#include <stdbool.h>

#include "attach.h"
#include "probe/probe.h"

struct probe_cost {
	bool measured;
	double per_call_ns;
	double in_window_ns;
};

struct calibration {
	int n_sites;			/* extra sites in use (0 when unsupported) */
	struct extra_site sites[3];
	enum site_class cls[3];
	double baseline_ns[3];		/* unprobed call */
	struct probe_cost cost[4];	/* indexed by enum site_class */
};

/* Finds flowprof's own calibration functions; first_hid is the first
 * handler slot after the flow file's handlers. Times the unprobed calls. */
void calibrate_prepare(struct calibration *c, int first_hid);

/* After attach: times the probed calls. */
void calibrate_run(struct calibration *c);

/* After the recording: reads the in-window cost from the maps. */
void calibrate_finish(struct calibration *c, struct recorder *r);

/* After calibrate_finish: one warning naming each handler probed at a site
 * the kernel must single-step (symbol, binary), with what each call there
 * costs the service (per_call_ns of that class). Nothing when none is. */
void calibrate_warn_singlestep(const struct calibration *c, const struct flowfile *ff,
			       const struct resolution *res);

#endif
