/* SPDX-License-Identifier: MIT */
/*
 * The readable report of a snapshot (`flowprof report`): handlers by total
 * time, flows with their visit ratios, the observed call graph against the
 * declared one, and the kernel's event counters explained. Units are always
 * printed (units.h); every name from the target is terminal-escaped.
 */
#ifndef FLOWPROF_REPORT_H
#define FLOWPROF_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "snapshot/snapshot.h"

struct report_opts {
	bool ascii;	/* "us" instead of "µs" (terminals without UTF-8) */
	bool verbose;	/* every section: flows' visits, the call graph, the model's details */
	bool closed;	/* the closed workload (--users, --think) even without verbose */
	bool no_model;	/* the model only corrects the handlers' times: none of its sections */
};

struct model;

/*
 * Prints the report: the header; what it cannot vouch for (report_print_flags);
 * with a model, its answer (bottleneck, headroom, flows, the dearest
 * handlers); the handlers, corrected with their uncertainty when m is given
 * (raw otherwise); the call graph's mismatches and the kernel's events; with
 * verbose, the flows' visits, the whole call graph and the model's details.
 * o may be NULL (verbose).
 */
void report_print(FILE *out, const struct snapshot *s, const struct model *m,
		  const struct report_opts *o);

/* report_print() without a model. */
void report_print_table(FILE *out, const struct snapshot *s, const struct report_opts *o);

/* "Accuracy: ..." and one line per flag: probe-dominated handlers (with m),
 * single-stepped sites, a probe cost that drifted while recording, handlers
 * with fewer than 100 calls. */
void report_print_flags(FILE *out, const struct snapshot *s, const struct model *m,
			const struct report_opts *o);

/* The same flags for the document: [{"kind", "subjects": [...], "text"}]. */
struct json_object;
struct json_object *report_flags_json(const struct snapshot *s, const struct model *m);

/* The model's first lines, each flow's rate, ceiling, mean and p99 with
 * their uncertainty, and the three dearest handlers. */
void report_print_summary(FILE *out, const struct model *m, const struct report_opts *o);

/* The rest of the stage's interface: this is user/report/'s public header, the
 * only one code outside the folder includes. */
#include "html_report.h"
#include "metrics.h"
#include "model_report.h"

#endif
