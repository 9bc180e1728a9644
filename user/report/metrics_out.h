/* SPDX-License-Identifier: MIT */
/*
 * The text exposition's writer, shared by the families of metrics.c (what
 * dashboards read) and metrics_model.c (what `report --prometheus` needs to
 * rebuild the model): family metadata, samples with the host label first,
 * label values escaped, durations as exact seconds. Private to user/report/.
 */
#ifndef FLOWPROF_METRICS_OUT_H
#define FLOWPROF_METRICS_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "metrics.h"

struct metrics_out {
	FILE *m;
	enum metrics_format fmt;
	const char *host;
};

struct metrics_label {
	const char *key;
	const char *value;
};

/* # HELP, # TYPE (and # UNIT in OpenMetrics) of one family; a counter's
 * family is named without _total in OpenMetrics and with it in the
 * Prometheus text format. unit may be NULL. */
void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *unit,
		    const char *help);

/* One sample: name+suffix{host="...",labels...} value. */
void metrics_u64(struct metrics_out *o, const char *name, const char *suffix,
		 const struct metrics_label *l, int n, uint64_t v);
/* A value in ns, printed as exact seconds (1500 -> 0.0000015). */
void metrics_seconds(struct metrics_out *o, const char *name, const char *suffix,
		     const struct metrics_label *l, int n, uint64_t ns);
/* Nothing when v is not finite. */
void metrics_double(struct metrics_out *o, const char *name, const char *suffix,
		    const struct metrics_label *l, int n, double v);

/* ns as exact seconds into buf ("0.000524288"): bucket bounds. */
const char *metrics_seconds_text(char buf[32], uint64_t ns);

/* The families for the fleet model (metrics_model.c): probe corrections,
 * sums of squares, site classes, concurrency, CPU time, the declared
 * structure, calibration. */
void metrics_model_families(struct metrics_out *o, const struct snapshot *s);

#endif
