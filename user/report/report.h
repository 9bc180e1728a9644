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
};

/* Prints the whole report; o may be NULL (defaults). */
void report_print_table(FILE *out, const struct snapshot *s, const struct report_opts *o);

/* The rest of the stage's interface: this is user/report/'s public header, the
 * only one code outside the folder includes. */
#include "html_report.h"
#include "metrics.h"
#include "model_report.h"

#endif
