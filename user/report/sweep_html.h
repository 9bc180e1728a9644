/* SPDX-License-Identifier: MIT */
/* The sweep's page (sweep_html.c) and its two charts (sweep_chart.c). */
#ifndef FLOWPROF_SWEEP_HTML_H
#define FLOWPROF_SWEEP_HTML_H

#include <stdbool.h>
#include <stdio.h>

#include "base/base.h"
#include "model/model.h"

enum chart_kind { CHART_THROUGHPUT, CHART_RESPONSE };

/* One chart against the step's level, as an SVG <figure>: the measured
 * steps as points, the model's predictions as a line, the run's marks. */
void sweep_chart_write(FILE *o, const struct sweep *sw, enum chart_kind k);

/* A level as a tick says it: "8", "250", "2.5". Caller frees. */
static inline char *sweep_level_text(double level)
{
	return xasprintf("%g", level);
}

/* Whether the step has figures to show (the others only say why not). */
static inline bool step_measured(const struct sweep_step *st)
{
	return st->status == STEP_OK;
}

#endif
