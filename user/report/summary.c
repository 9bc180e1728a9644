// SPDX-License-Identifier: MIT
/*
 * The report's first screen (report.h): what it cannot vouch for, then the
 * answer in a few lines (the bottleneck, headroom, each flow's throughput and
 * latency, the dearest handlers).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cost_slot.h"
#include "model_report.h"
#include "report.h"

#define FEW_CALLS 100		/* below this, percentiles rest on few samples */
#define DRIFT_SHARE 0.25	/* a probe cost that moved this much while recording */
#define DRIFT_NS 200		/* ... and by at least this, to matter */
#define NAMES_LISTED 5		/* handlers named per flag, then "and N more" */

struct flag {
	const char *kind;	/* "probe-dominated", "over-corrected", "single-step", "calibration-drift",
				   "calibration-contradicted", "probe-cost-disagrees", "probe-heavy-cpu",
				   "extrapolated", "entry-elsewhere", "self-check-gap", "few-calls",
				   "not-corrected" */
	char **subjects;	/* handler ids or probe kinds (owned) */
	int n_subjects;
	char *notes[NAMES_LISTED]; /* the first subjects' notes, or NULL (owned) */
	char *text;		/* one sentence for the reader (owned, not escaped) */
};

struct flags {
	struct flag *v;
	int n;
	size_t cap;
};

static struct flag *flag_new(struct flags *f, const char *kind)
{
	struct flag *x;

	grow_array((void **)&f->v, &f->cap, (size_t)f->n + 1, sizeof(*f->v));
	x = &f->v[f->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	return x;
}

static void flag_subject(struct flag *x, const char *name)
{
	x->subjects = xrealloc(x->subjects, (size_t)(x->n_subjects + 1) * sizeof(*x->subjects));
	x->subjects[x->n_subjects++] = xstrdup(name ? name : "");
}

/* x, or a new flag of kind: subject added, with its note (owned, freed
 * when past the NAMES_LISTED that are listed with theirs). */
static struct flag *flag_noted(struct flags *f, struct flag *x, const char *kind,
			       const char *subject, char *note)
{
	if (!x)
		x = flag_new(f, kind);
	if (x->n_subjects < NAMES_LISTED)
		x->notes[x->n_subjects] = note;
	else
		free(note);
	flag_subject(x, subject);
	return x;
}

static void flags_free(struct flags *f)
{
	for (int i = 0; i < f->n; i++) {
		for (int k = 0; k < f->v[i].n_subjects; k++)
			free(f->v[i].subjects[k]);
		for (int k = 0; k < NAMES_LISTED; k++)
			free(f->v[i].notes[k]);
		free(f->v[i].subjects);
		free(f->v[i].text);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

/* "a, b, c" (up to NAMES_LISTED, then "and N more"), with each name's note. */
static char *listing(const struct flag *x)
{
	char *out = xstrdup("");

	for (int i = 0; i < x->n_subjects && i < NAMES_LISTED; i++) {
		char *tmp = xasprintf("%s%s%s%s%s%s", out, i ? ", " : "", x->subjects[i],
				      x->notes[i] ? " (" : "", x->notes[i] ? x->notes[i] : "",
				      x->notes[i] ? ")" : "");

		free(out);
		out = tmp;
	}
	if (x->n_subjects > NAMES_LISTED) {
		char *tmp = xasprintf("%s and %d more", out, x->n_subjects - NAMES_LISTED);

		free(out);
		out = tmp;
	}
	return out;
}

/* x's text, where there is a flag: "WHAT: its subjects listed: THEN". */
static void flag_say(struct flag *x, const char *what, const char *then)
{
	char *list;

	if (!x)
		return;
	list = listing(x);
	x->text = xasprintf("%s: %s: %s", what, list, then);
	free(list);
}

static void flag_probe_dominated(struct flags *f, const struct model *m, bool ascii)
{
	struct flag *x = NULL;

	for (int h = 0; h < m->n_handlers; h++) {
		const struct model_handler *mh = &m->handlers[h];
		char raw[UNITS_BUF], cor[UNITS_BUF], pm[UNITS_BUF];

		if (!mh->calls || !mh->probe_dominated)
			continue;
		x = flag_noted(f, x, "probe-dominated", mh->id,
			       xasprintf("%s raw, %s %s corrected",
					 units_duration(raw, sizeof(raw), mh->raw_mean_ns, ascii),
					 units_duration(cor, sizeof(cor), mh->mean_ns, ascii),
					 units_uncertainty(pm, sizeof(pm), mh->mean_ns,
							   mh->unc.mean_ns, ascii)));
	}
	flag_say(x, "probe-dominated", "the probe's own cost is over a quarter of the raw time, so "
		 "the corrected time leans on the calibration");
}

/*
 * A handler whose corrected time a call is less than that of the handlers
 * nested in it (each at its calls per call of this one): a call cannot take
 * less than the calls inside it, so the probes' cost taken out was more than
 * they cost here (a calibration slowed by other load, say). Not clamped:
 * said, with the raw times, which bound the truth from above.
 */
static void flag_over_corrected(struct flags *f, const struct snapshot *s,
				const struct model *m, bool ascii)
{
	struct flag *x = NULL;

	for (int p = 0; p < m->n_handlers; p++) {
		const struct model_handler *mp = &m->handlers[p];
		char own[UNITS_BUF], in[UNITS_BUF], raw[UNITS_BUF];
		double nested = 0;

		if (!mp->calls)
			continue;
		for (int e = 0; e < s->n_edges; e++) {
			const struct snap_edge *ed = &s->edges[e];
			int c;

			if (ed->async || !ed->from || strcmp(ed->from, mp->id) || !ed->calls)
				continue;
			c = model_handler_index(m, ed->to);
			if (c >= 0 && c != p && isfinite(m->handlers[c].mean_ns))
				nested += (double)ed->calls / (double)mp->calls * m->handlers[c].mean_ns;
		}
		/* a nanosecond's rounding is not a contradiction */
		if (!(nested > mp->mean_ns + fmax(1, 0.01 * nested)))
			continue;
		x = flag_noted(f, x, "over-corrected", mp->id,
			       xasprintf("%s a call, %s in the handlers nested in it; %s raw",
					 units_duration(own, sizeof(own), mp->mean_ns, ascii),
					 units_duration(in, sizeof(in), nested, ascii),
					 units_duration(raw, sizeof(raw), mp->raw_mean_ns, ascii)));
	}
	flag_say(x, "over-corrected", "a call took less than the calls nested in it, so the "
		 "probes' cost taken out was more than they cost here (was the host busy while "
		 "flowprof calibrated?); the raw times are upper bounds");
}

static void flag_single_step(struct flags *f, const struct snapshot *s, bool ascii)
{
	const struct snap_probe_cost *step = &s->probe_cost[3], *nop = &s->probe_cost[1];
	struct flag *x = NULL;
	char *list;

	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		if (!(h->site_class && !strcmp(h->site_class, "single-step")) &&
		    !(h->site_classes & (1u << 3)))
			continue;
		if (!x)
			x = flag_new(f, "single-step");
		flag_subject(x, h->id);
	}
	if (!x)
		return;
	list = listing(x);
	if (step->measured && nop->measured) {
		char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];

		x->text = xasprintf(
			"single-stepped probe sites: %s: each call there costs the service about "
			"%s (%s at a nop5 site), %s of it inside the raw times", list,
			units_duration(a, sizeof(a), step->per_call_ns, ascii),
			units_duration(b, sizeof(b), nop->per_call_ns, ascii),
			units_duration(c, sizeof(c), step->in_window_ns, ascii));
	} else {
		x->text = xasprintf("single-stepped probe sites: %s: each call there pays a trap "
				    "and a single step, about 10x the cost of a nop5 site", list);
	}
	free(list);
}

static void flag_drift(struct flags *f, const struct snapshot *s, bool ascii)
{
	struct flag *x = NULL;
	char *list;

	for (int k = 0; k < SNAP_SLOTS; k++) {
		const struct snap_slot_cost *c = &s->probe_slots[k];
		char a[UNITS_BUF], b[UNITS_BUF];

		if (!c->measured || !(c->first_hit_ns > 0) ||
		    fabs(c->hit_ns - c->first_hit_ns) < DRIFT_SHARE * c->first_hit_ns ||
		    fabs(c->hit_ns - c->first_hit_ns) < DRIFT_NS)
			continue;
		x = flag_noted(f, x, "calibration-drift", cost_slot_name((enum cost_slot)k),
			       xasprintf("%s to %s a hit",
					 units_duration(a, sizeof(a), c->first_hit_ns, ascii),
					 units_duration(b, sizeof(b), c->hit_ns, ascii)));
	}
	if (!x)
		return;
	list = listing(x);
	x->text = xasprintf("the probe cost drifted while recording (the host's load changed?): "
			    "%s; each call was corrected with the cost measured nearest to it",
			    list);
	free(list);
}

/* A bundle whose probes the calibration prices above the CPU time its
 * processes used (model_cpu.c): its CPU demand rests on the warm end. */
static void flag_contradicted(struct flags *f, const struct model *m)
{
	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];
		struct flag *x;

		if (!(st->probes_over_cpu_s > 0))
			continue;
		x = flag_new(f, "calibration-contradicted");
		flag_subject(x, st->name);
		x->text = xasprintf(
			"the probes' calibrated cost (%.3g s) is more than the CPU time %s's processes "
			"used (%.3g s): the calibration overstates what a probe costs them; %s",
			st->probes_over_cpu_s, st->name, st->cpu_used_s,
			st->probes_warm_s < st->cpu_used_s
				? "its CPU demand takes the calibration's warm end"
				: "its CPU demand is not known");
	}
}

/*
 * The calibration against the service's own CPU time (record --unprobed):
 * what the probes cost its processes is their CPU time while recorded less
 * what the same calls took without the probes right after, plus the waking
 * the probes spared them by keeping their threads busy (model_wake.c). The
 * probes' calibrated cost, which the handlers' times were corrected by,
 * should be that. Off by more than PROBE_COST_AGREES either way, it says
 * how the corrected times lean. (redis under a steady load, on the test VM:
 * 0.96-1.12 of it with a quiet calibration; 1.41 with one disturbed by
 * another load.)
 */
#define PROBE_COST_AGREES 0.25

static void flag_probe_cost_check(struct flags *f, const struct model *m)
{
	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];
		double cost = st->probes_measured_s + st->probes_wake_saved_s, ratio;
		char spared[96] = "";
		struct flag *x;

		if (!isfinite(st->probes_measured_s) || !(cost > 0) || !(st->probes_cpu_s > 0) ||
		    st->probes_over_cpu_s > 0)
			continue; /* over it all: calibration-contradicted says so */
		ratio = st->probes_cpu_s / cost;
		if (fabs(ratio - 1) <= PROBE_COST_AGREES)
			continue;
		if (st->probes_wake_saved_s > 0)
			snprintf(spared, sizeof(spared), ", %.3g s of it the waking they spared them",
				 st->probes_wake_saved_s);
		x = flag_new(f, "probe-cost-disagrees");
		flag_subject(x, st->name);
		x->text = xasprintf(
			"the probes' calibrated cost (%.3g s) is %.0f%% %s than what they cost %s's "
			"processes as measured without them after the recording (%.3g s%s): its "
			"handlers' corrected times are likely too %s%s", st->probes_cpu_s,
			100 * fabs(ratio - 1), ratio > 1 ? "more" : "less", st->name, cost, spared,
			ratio > 1 ? "low" : "high",
			ratio > 1 ? " (their raw times bound them from above)" : "");
	}
}

/*
 * A bundle whose probes took most of its processes' CPU time: its CPU
 * demand is what is left, a small difference of two large figures, and a
 * probe cost off by a fifth moves it several-fold (redis with its exits at
 * single-stepped `ret`s: 29 of 31 us a request, a ceiling 3x too high).
 * Over MODEL_PROBE_HEAVY of it, as measured where record measured it.
 */
static void flag_probe_heavy(struct flags *f, const struct model *m)
{
	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];
		bool measured = isfinite(st->probes_measured_s);
		double took = measured ? st->probes_measured_s : st->probes_cpu_s;
		struct flag *x;

		if (st->probes_over_cpu_s > 0 || !(st->cpu_used_s > 0) ||
		    took < MODEL_PROBE_HEAVY * st->cpu_used_s)
			continue; /* above it all: calibration-contradicted says so */
		x = flag_new(f, "probe-heavy-cpu");
		flag_subject(x, st->name);
		if (measured) {
			x->text = xasprintf(
				"the probes took %.0f%% of %s's CPU time, as measured without them "
				"right after the recording (%.0f%% at their calibrated cost): its CPU "
				"demand is that measurement, which assumes the load kept its rate once "
				"they went", 100 * took / st->cpu_used_s, st->name,
				100 * st->probes_cpu_s / st->cpu_used_s);
			continue;
		}
		x->text = xasprintf(
			"the probes took %.0f%% of %s's CPU time (%.3g of %.3g s, at their calibrated "
			"cost): its CPU demand is what is left, and a ceiling the CPU sets rests on "
			"that small difference (fewer handlers per request leave more)",
			100 * st->probes_cpu_s / st->cpu_used_s, st->name, st->probes_cpu_s,
			st->cpu_used_s);
	}
}

/*
 * The ceiling extrapolated far beyond the recorded load: the model takes a
 * request to cost what it cost while recorded. Real servers do not keep to
 * that (docs/model.md: redis and PostgreSQL needed 2-3x less CPU a request
 * near their maximum than at a fifth of it), so the report says how far.
 */
#define EXTRAPOLATED 2.0	/* a ceiling this many times the recorded load */

static void flag_short_window(struct flags *f, const struct model *m)
{
	struct flag *x;

	if (!m->cpu_window_short)
		return;
	x = flag_new(f, "short-window");
	x->text = xasprintf("the window lasted %.3g ms, too short for the processes' CPU time "
			    "(read just before it opened and after it closed): the CPU demand is "
			    "the handlers' own time on a CPU, and the rates rest on the calls of "
			    "that moment; record for a second or more", m->duration_s * 1e3);
}

static void flag_extrapolated(struct flags *f, const struct model *m)
{
	/* the station that sets the ceiling: not always the busiest */
	int at = m->ceiling_station >= 0 ? m->ceiling_station : m->bottleneck;
	double measured = 0, far;
	bool waking = false;
	struct flag *x;

	if (at < 0 || at >= m->n_stations)
		return;
	for (int i = 0; i < m->n_flows; i++)
		measured += m->flows[i].measured_rate_per_s;
	far = m->max_throughput_per_s / measured;
	if (!(measured > 0) || !isfinite(far) || far < EXTRAPOLATED)
		return;
	for (int k = 0; k < m->n_stations; k++)
		waking |= m->stations[k].wake_share > 0;
	x = flag_new(f, "extrapolated");
	flag_subject(x, m->stations[at].name);
	x->text = xasprintf(
		"the maximum throughput is %.*fx the recorded load (where %s fills first): %s",
		far < 10 ? 1 : 0, far, m->stations[at].name,
		waking ? "besides the waking it found, which it takes to fall as the CPUs (or a "
			 "loop's threads) fill, it "
			 "assumes a request costs what it cost at this load, where a server that "
			 "batches requests needs less near its maximum, and contended locks more "
			 "(docs/model.md); record nearer the load you ask about"
		       : "it assumes a request costs what it cost at this load, where a server "
			 "that batches requests or wakes an idle CPU less often needs less near its "
			 "maximum, and contended locks more (docs/model.md); record nearer the load "
			 "you ask about");
}

/* A flow whose entry handler also ran inside other flows (half a call or more). */
static bool entry_runs_elsewhere(const struct model_flow *mf)
{
	return mf->entry_handler >= 0 && mf->entry_calls_elsewhere >= 0.5;
}

/* A flow whose entry handler also runs inside other flows: its rate counts
 * its own arrivals only, but the handler's times are those of all its calls
 * (its percentiles; its mean too where the snapshot has no arrivals). */
static void flag_entry_elsewhere(struct flags *f, const struct model *m)
{
	struct flag *x = NULL;
	char *list;
	bool all_means = true, any_means = false; /* flagged flows' means from their arrivals */

	for (int i = 0; i < m->n_flows; i++)
		if (entry_runs_elsewhere(&m->flows[i])) {
			all_means = all_means && m->flows[i].mean_from_arrivals;
			any_means = any_means || m->flows[i].mean_from_arrivals;
		}
	for (int i = 0; i < m->n_flows; i++) {
		const struct model_flow *mf = &m->flows[i];
		const struct model_handler *mh;

		if (!entry_runs_elsewhere(mf))
			continue;
		mh = &m->handlers[mf->entry_handler];
		/* where some flows' means are their arrivals' and others' not,
		 * each says which (--json: mean_from_arrivals) */
		x = flag_noted(f, x, "entry-elsewhere", mf->name,
			       xasprintf("%s: %.0f of %llu calls%s", mf->entry,
					 mf->entry_calls_elsewhere, (unsigned long long)mh->calls,
					 any_means && !all_means && mf->mean_from_arrivals
						 ? "; its mean is its own arrivals'" : ""));
	}
	if (!x)
		return;
	list = listing(x);
	x->text = xasprintf("flows whose entry also runs inside other flows: %s: a flow's %s, "
			    "but its %s its entry handler's, over all its calls", list,
			    all_means ? "rate and mean are its own arrivals'"
			    : any_means ? "rate counts its own arrivals only (and its mean, where said)"
					: "rate counts its own arrivals only",
			    all_means ? "percentiles are"
			    : any_means ? "percentiles, and the other means, are"
					: "mean and percentiles are");
	free(list);
}

static void flag_few_calls(struct flags *f, const struct snapshot *s)
{
	struct flag *x = NULL;
	char what[64];

	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		if (!h->calls || h->calls >= FEW_CALLS)
			continue;
		x = flag_noted(f, x, "few-calls", h->id,
			       xasprintf("%llu", (unsigned long long)h->calls));
	}
	snprintf(what, sizeof(what), "fewer than %d calls", FEW_CALLS);
	flag_say(x, what, "their percentiles rest on few samples (record longer or under more "
		 "load)");
}

/* Python and Java handlers: every function the interpreter runs inside them
 * passes its probe (filtered in the kernel), and their own probes' cost is
 * not calibrated: nothing is subtracted. */
static void flag_runtime(struct flags *f, const struct snapshot *s)
{
	struct flag *x = NULL;

	for (int i = 0; i < s->n_handlers; i++) {
		const char *e = s->handlers[i].entry_site;

		if (!s->handlers[i].calls || !e || (strcmp(e, "python") && strcmp(e, "java")))
			continue;
		if (!x)
			x = flag_new(f, "not-corrected");
		flag_subject(x, s->handlers[i].id);
	}
	flag_say(x, "not corrected for the probe's cost", "a Python or Java handler's time "
		 "includes the interpreter's probe at every function it runs (each one a trap, "
		 "filtered in the kernel)");
}

/*
 * The model's self-checks that failed (model_checks.c, each a note with the
 * figures): the threads counted inside a pool's handlers against their
 * times, and Little's law on a flow's entry. Either gap is a figure the
 * model rests on that the recording does not bear out.
 */
static void flag_self_checks(struct flags *f, const struct model *m, bool ascii)
{
	struct flag *x = NULL;

	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];

		if (!st->count_gap)
			continue;
		x = flag_noted(f, x, "self-check-gap", st->name,
			       xasprintf("%.2f threads inside its handlers at once, their times "
					 "%.2f busy", st->busy_sampled, st->busy_raw));
	}
	for (int i = 0; i < m->n_flows; i++) {
		const struct model_flow *mf = &m->flows[i];
		char a[UNITS_BUF], b[UNITS_BUF];

		if (!mf->little_gap)
			continue;
		x = flag_noted(f, x, "self-check-gap", mf->name,
			       xasprintf("the model's %s inside its entry, %s measured",
					 units_duration(a, sizeof(a),
							mf->predicted_service_measured_ns, ascii),
					 units_duration(b, sizeof(b), mf->measured_mean_ns, ascii)));
	}
	flag_say(x, "self-checks that fail", "the model rests on figures the recording does not "
		 "bear out (calls that never returned, nesting not declared, or a handler taking "
		 "different times in different flows: see the Notes)");
}

/* model_flags: the flags on the model's CPU demands and ceiling too (not
 * for report --no-model, whose model only corrects the handlers' times). */
static void collect(struct flags *f, const struct snapshot *s, const struct model *m, bool ascii,
		    bool model_flags)
{
	if (m) {
		flag_probe_dominated(f, m, ascii);
		flag_over_corrected(f, s, m, ascii);
	}
	if (m && model_flags) {
		flag_entry_elsewhere(f, m);
		flag_contradicted(f, m);
		flag_probe_cost_check(f, m);
		flag_probe_heavy(f, m);
		flag_extrapolated(f, m);
		flag_short_window(f, m);
		flag_self_checks(f, m, ascii);
	}
	flag_single_step(f, s, ascii);
	flag_drift(f, s, ascii);
	flag_few_calls(f, s);
	flag_runtime(f, s);
}

void report_print_flags(FILE *out, const struct snapshot *s, const struct model *m,
			const struct report_opts *o)
{
	struct flags f = { 0 };

	collect(&f, s, m, o->ascii, !o->no_model);
	if (!f.n)
		fprintf(out, "\nAccuracy: nothing flagged; %s\n",
			m ? "times are corrected for the probe's own cost, " "with their uncertainty "
			    "(about 95 %: sample size, histogram bucket, probe-cost jitter)"
			  : "times include the probe's own cost (raw: no model was built)");
	else
		fprintf(out, "\nAccuracy: %d thing%s this report cannot fully vouch for\n", f.n,
			f.n == 1 ? "" : "s");
	for (int i = 0; i < f.n; i++) {
		char *t = term_escape(f.v[i].text);

		fprintf(out, "  ! %s\n", t);
		free(t);
	}
	flags_free(&f);
}

json_object *report_flags_json(const struct snapshot *s, const struct model *m)
{
	struct flags f = { 0 };
	json_object *arr = json_object_new_array();

	collect(&f, s, m, true, true);
	for (int i = 0; i < f.n; i++) {
		json_object *o = json_object_new_object(), *subj = json_object_new_array();

		for (int k = 0; k < f.v[i].n_subjects; k++)
			json_object_array_add(subj, jo_str(f.v[i].subjects[k]));
		jo_add(o, "kind", jo_str(f.v[i].kind));
		jo_add(o, "subjects", subj);
		jo_add(o, "text", jo_str(f.v[i].text));
		json_object_array_add(arr, o);
	}
	flags_free(&f);
	return arr;
}

/* ---- the answer ---------------------------------------------------------- */

static char *with_unc(double ns, double err, bool ascii)
{
	char d[UNITS_BUF], u[UNITS_BUF];

	if (!isfinite(ns))
		return xstrdup("-");
	units_duration(d, sizeof(d), ns, ascii);
	if (!isfinite(err))
		return xstrdup(d);
	return xasprintf("%s %s", d, units_uncertainty(u, sizeof(u), ns, err, ascii));
}

static void print_flow_lines(FILE *out, const struct model *m, bool ascii)
{
	static const char *const headers[] = { "FLOW", "RATE", "MAX (MIX)", "MEAN NOW", "P99 NOW",
					       "MEAN AT TARGET" };
	static const bool right[] = { false, true, true, true, true, true };
	struct table t = { .indent = 2, .ncols = m->targeted ? 6 : 5, .headers = headers,
			    .right = right };
	char buf[UNITS_BUF];

	if (!m->n_flows)
		return;
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];
		const struct model_handler *e =
			mf->entry_handler >= 0 ? &m->handlers[mf->entry_handler] : NULL;
		char *row[6];

		row[0] = term_escape(mf->name);
		row[1] = xstrdup(units_rate(buf, sizeof(buf), mf->rate_per_s));
		row[2] = mf->rate_per_s > 0 && isfinite(mf->max_rate_per_s)
				 ? xstrdup(units_rate(buf, sizeof(buf), mf->max_rate_per_s))
				 : xstrdup("-");
		/* the flow's own arrivals' mean where recorded (not its entry's
		 * calls inside other flows), with the uncertainty of a mean of
		 * that many calls */
		row[3] = e && e->calls ? with_unc(mf->measured_mean_ns, mf->measured_mean_unc_ns, ascii)
				       : xstrdup("-");
		row[4] = e && e->calls ? with_unc(e->p99_ns, e->unc.p99_ns, ascii) : xstrdup("-");
		row[5] = mf->exceeds_capacity ? xstrdup("exceeds capacity")
			: xstrdup(units_duration(buf, sizeof(buf), mf->predicted_mean_ns, ascii));
		if (!m->targeted)
			free(row[5]);
		table_add(&t, row);
	}
	table_print(out, &t);
	table_free(&t);
	model_print_exceeding(out, m);
}

/* The three handlers that take the most time in all, corrected. */
static void print_dearest(FILE *out, const struct model *m, bool ascii)
{
	int top[3] = { -1, -1, -1 };

	for (int h = 0; h < m->n_handlers; h++) {
		double v = m->handlers[h].mean_ns * (double)m->handlers[h].calls;

		if (!m->handlers[h].calls || !(v > 0))
			continue;
		for (int k = 0; k < 3; k++) {
			int o = top[k];

			if (o < 0 || v > m->handlers[o].mean_ns * (double)m->handlers[o].calls) {
				memmove(&top[k + 1], &top[k], (size_t)(2 - k) * sizeof(int));
				top[k] = h;
				break;
			}
		}
	}
	if (top[0] < 0)
		return;
	fputs("  dearest handlers (time in all):", out);
	for (int k = 0; k < 3 && top[k] >= 0; k++) {
		const struct model_handler *mh = &m->handlers[top[k]];
		char *id = term_escape(mh->id), *mean = with_unc(mh->mean_ns, mh->unc.mean_ns, ascii);
		char all[UNITS_BUF];

		fprintf(out, "%s\n    %s %s (%s a call, %llu calls)", k ? "," : "", id,
			units_duration(all, sizeof(all), mh->mean_ns * (double)mh->calls, ascii),
			mean, (unsigned long long)mh->calls);
		free(id);
		free(mean);
	}
	fputc('\n', out);
}

void report_print_summary(FILE *out, const struct model *m, const struct report_opts *o)
{
	model_print_summary(out, m, o->ascii);
	if (m->bottleneck < 0)
		return;
	print_flow_lines(out, m, o->ascii);
	print_dearest(out, m, o->ascii);
}
