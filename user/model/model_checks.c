// SPDX-License-Identifier: MIT
/*
 * What the reader must know (model.notes): every stage adds its notes here.
 * And the self-checks (docs/model.md, "Self-checks"): the busy servers of
 * each station from the kernel's time sums, from its count of threads
 * inside the handlers, and from the model; Little's law per flow. A gap
 * becomes a note that says which figure the model uses.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "model_int.h"

/* ---- notes -------------------------------------------------------------------- */

void model_note(struct model *m, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		fprintf(stderr, "flowprof: out of memory\n");
		exit(1);
	}
	m->notes = xrealloc(m->notes, (size_t)(m->n_notes + 1) * sizeof(*m->notes));
	m->notes[m->n_notes++] = msg;
}

/* ---- self-checks --------------------------------------------------------------- */

void model_self_checks(struct build *b, const struct eval *meas)
{
	struct model *m = b->m;

	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];
		double bm = st->busy_measured, bx = st->busy_model;

		if (bm > 0.01 && fabs(bm - bx) > 0.1 * bm)
			model_note(m, "%s: the flows explain %.0f%% of its measured busy time (%.2f of "
				   "%.2f servers busy); the rest is %s, kept as background load",
				   st->name, 100 * bx / bm, bx, bm,
				   bx < bm ? "outside every flow" : "over-attributed");
		/* the in-flight counts hold the probes' time inside the calls:
		 * against the raw times, so that a large correction is no gap */
		if (isfinite(st->busy_sampled) && fmax(st->busy_raw, st->busy_sampled) > 0.05 &&
		    fabs(st->busy_raw - st->busy_sampled) > 0.25 * fmax(st->busy_raw, st->busy_sampled)) {
			st->count_gap = true;
			model_note(m, "%s: %.2f threads were inside its handlers at once on average, "
				   "but its handlers' times as measured (the probes' in them) add up to "
				   "%.2f busy; the model uses the times, corrected. Such a gap comes from "
				   "calls that never returned (INCOMPLETE), or from one thread's calls "
				   "counted in two of its handlers that are not declared as nested",
				   st->name, st->busy_sampled, st->busy_raw);
		}
	}
	for (int f = 0; f < b->F; f++) {
		struct model_flow *mf = &m->flows[f];
		double lam = mf->measured_rate_per_s, lr;

		mf->predicted_mean_measured_ns = meas->mean[f];
		mf->predicted_service_measured_ns = meas->service_f[f];
		if (!b->outer[f] || !(lam > 0))
			continue;
		if (meas->exceeds[f]) {
			model_note(m, "flow %s: at the measured rate the model puts %s over capacity, "
				   "which the recording contradicts: a demand is over-estimated", mf->name,
				   m->stations[meas->saturated[f]].name);
			continue;
		}
		/* The entry's time starts when a worker takes the request: compare
		 * the model's time inside it, not the wait for a worker before it. */
		lr = lam * meas->service_f[f] / NS;
		if (fabs(meas->service_f[f] - mf->measured_mean_ns) > 0.25 * mf->measured_mean_ns &&
		    fabs(meas->service_f[f] - mf->measured_mean_ns) > 1000) {
			char model_r[UNITS_BUF], real_r[UNITS_BUF];

			mf->little_gap = true;
			/* notes go to JSON too: ASCII units */
			model_note(m, "flow %s: at the measured rate the model puts %s inside its entry "
				   "against %s measured (Little: %.3g in flight by the model, %.3g "
				   "measured); a handler shared by flows may take different times in each",
				   mf->name, units_duration(model_r, sizeof(model_r), meas->service_f[f], true),
				   units_duration(real_r, sizeof(real_r), mf->measured_mean_ns, true), lr,
				   mf->inflight_kernel);
		}
	}
}
