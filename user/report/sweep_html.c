// SPDX-License-Identifier: MIT
/*
 * `flowprof report SWEEP.json --html FILE`: the sweep's page (html_report.h).
 *
 * One self-contained file, no script at all (its Content-Security-Policy
 * allows nothing but its own style): two SVG charts against the step's
 * level (users, or the offered rate), throughput and response time, each
 * with the measured steps as points and the model's predictions as a line,
 * the knee and the saturation marked; then the fit, the run's figures and
 * a table per step. The page skeleton, the escaping and the style sheet are
 * html_report.c's.
 *
 * Every figure a test or a script may want to read back carries its exact
 * value: a point's data-level and data-value, the line's data-levels and
 * data-values (one per vertex), a cell's data-field (its key in the step of
 * `report --json`, e.g. "measured.throughput_per_s") and data-value
 * ("null" when the document has none). A chart's data-x-*, data-y-* and
 * data-plot-* attributes give its scales, so coordinates can be checked.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "html_report.h"
#include "model/model.h"

/* Nothing runs and nothing loads: only the page's own <style>. */
#define SWEEP_CSP "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; " \
		  "form-action 'none'"

/* Chart geometry, in SVG user units (the viewBox). */
#define CW 560.0
#define CH 360.0
#define PL 64.0		/* plot area: left, right, top, bottom */
#define PR (CW - 16.0)
#define PT 16.0
#define PB (CH - 48.0)

static void h(FILE *o, const char *s)
{
	html_text(o, s);
}

/* ` name="V"`: v exactly (shortest form), or "null". */
static void num_attr(FILE *o, const char *name, double v)
{
	char *t;

	if (!isfinite(v)) {
		fprintf(o, " %s=\"null\"", name);
		return;
	}
	t = html_shortest(v);
	fprintf(o, " %s=\"%s\"", name, t);
	free(t);
}

/* A level as a tick says it: "8", "250", "2.5". */
static char *level_num(double level)
{
	return xasprintf("%g", level);
}

static bool measured(const struct sweep_step *st)
{
	return st->status == STEP_OK;
}

/* ---- charts ------------------------------------------------------------------ */

enum chart_kind { CHART_THROUGHPUT, CHART_RESPONSE };

struct scale {
	double lo, hi;		/* domain (data units) */
	bool log;		/* log2 axis (levels only) */
	double p0, p1;		/* range (SVG units) */
};

static double map(const struct scale *s, double v)
{
	double a = s->log ? log2(s->lo) : s->lo, b = s->log ? log2(s->hi) : s->hi;
	double x = s->log ? log2(v) : v;

	return s->p0 + (x - a) / (b - a) * (s->p1 - s->p0);
}

/* 1, 2 or 5 times a power of ten, about range / n. */
static double nice_step(double range, int n)
{
	double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The levels: every level asked for, measured or not. Linear from 0, or
 * log2 when they span a factor of 8 or more (1, 2, 4, ... 32 users). */
static struct scale x_scale(const struct sweep *sw)
{
	struct scale s = { .lo = INFINITY, .hi = -INFINITY, .p0 = PL, .p1 = PR };

	for (int i = 0; i < sw->n_levels; i++) {
		s.lo = fmin(s.lo, sw->levels[i]);
		s.hi = fmax(s.hi, sw->levels[i]);
	}
	for (int i = 0; i < sw->n_steps; i++) {
		s.lo = fmin(s.lo, sw->steps[i].level);
		s.hi = fmax(s.hi, sw->steps[i].level);
	}
	if (!isfinite(s.lo) || !isfinite(s.hi)) {
		s.lo = 0;
		s.hi = 1;
		return s;
	}
	if (s.lo > 0 && s.hi / s.lo >= 8) {
		s.log = true;
		s.lo /= pow(2, 0.3);	/* room for the first and last points */
		s.hi *= pow(2, 0.3);
		return s;
	}
	s.lo = 0;
	s.hi = s.hi > 0 ? s.hi * 1.06 : 1;
	return s;
}

/* A step's value and prediction on this chart (NAN: none). */
static double value_of(const struct sweep_step *st, enum chart_kind k)
{
	if (!measured(st))
		return NAN;
	return k == CHART_THROUGHPUT ? st->throughput_per_s : st->response_ns;
}

static double predicted_of(const struct sweep_step *st, enum chart_kind k)
{
	double v;

	if (!measured(st) || !st->predicted)
		return NAN;
	v = k == CHART_THROUGHPUT ? st->pred_throughput_per_s : st->pred_response_ns;
	return isfinite(v) ? v : NAN;
}

/* The response-time axis's unit: the one its largest value reads best in. */
static void time_unit(double max_ns, const char **unit, double *div)
{
	if (max_ns >= 1e9) {
		*unit = "s";
		*div = 1e9;
	} else if (max_ns >= 1e6) {
		*unit = "ms";
		*div = 1e6;
	} else if (max_ns >= 1e3) {
		*unit = "\xc2\xb5s";
		*div = 1e3;
	} else {
		*unit = "ns";
		*div = 1;
	}
}

/* A throughput tick: "0", "500", "1.5k", "2M" (the axis says 1/s). */
static char *rate_tick(double v)
{
	if (fabs(v) >= 1e6)
		return xasprintf("%gM", v / 1e6);
	if (fabs(v) >= 1e3)
		return xasprintf("%gk", v / 1e3);
	return xasprintf("%g", v);
}

/* The marks of the run: the saturation (throughput chart) and the knee
 * (users sweeps, both charts). */
struct mark {
	const char *cls;	/* "measured" or "model" */
	const char *what;	/* data-mark: "saturation", "x-max", "knee", "n-star" */
	double v;
	char label[96];
};

static int chart_marks(const struct sweep *sw, enum chart_kind k, struct mark *mk, bool vertical)
{
	const struct sweep_summary *s = &sw->summary;
	char a[UNITS_BUF];
	int n = 0;

	if (!s->valid)
		return 0;
	if (!vertical && k == CHART_THROUGHPUT) {
		if (isfinite(s->measured_saturation_per_s) && s->measured_saturation_per_s >= 0) {
			mk[n] = (struct mark){ "measured", "saturation", s->measured_saturation_per_s,
					       "" };
			snprintf(mk[n].label, sizeof(mk[n].label), "measured saturation %s",
				 units_rate(a, sizeof(a), s->measured_saturation_per_s));
			n++;
		}
		if (isfinite(s->predicted_saturation_per_s)) {
			mk[n] = (struct mark){ "model", "x-max", s->predicted_saturation_per_s, "" };
			snprintf(mk[n].label, sizeof(mk[n].label), "model X_max %s",
				 units_rate(a, sizeof(a), s->predicted_saturation_per_s));
			n++;
		}
	}
	if (vertical && sw->variable == SWEEP_USERS) {
		if (isfinite(s->measured_knee_users)) {
			mk[n] = (struct mark){ "measured", "knee", s->measured_knee_users, "" };
			snprintf(mk[n].label, sizeof(mk[n].label), "measured knee %.1f",
				 s->measured_knee_users);
			n++;
		}
		if (isfinite(s->predicted_knee_users)) {
			mk[n] = (struct mark){ "model", "n-star", s->predicted_knee_users, "" };
			snprintf(mk[n].label, sizeof(mk[n].label), "model N* %.1f",
				 s->predicted_knee_users);
			n++;
		}
	}
	return n;
}

static void put_chart(FILE *o, const struct sweep *sw, enum chart_kind k)
{
	struct scale xs = x_scale(sw), ys = { .p0 = PB, .p1 = PT };
	struct mark hm[2], vm[2];
	int nh = chart_marks(sw, k, hm, false), nv = chart_marks(sw, k, vm, true);
	const char *unit = "1/s", *id = k == CHART_THROUGHPUT ? "throughput" : "response";
	double div = 1, lo = 0, hi = -INFINITY, top = -INFINITY, step;
	char a[UNITS_BUF], b[UNITS_BUF];
	double last_label = -1e9;
	int n_pred = 0, n_points = 0;
	bool hidden[2] = { false, false };

	for (int i = 0; i < sw->n_steps; i++) {
		double v = value_of(&sw->steps[i], k), p = predicted_of(&sw->steps[i], k);

		if (isfinite(v)) {
			top = fmax(top, v);
			lo = fmin(lo, v);
		}
		if (isfinite(p)) {
			top = fmax(top, p);
			lo = fmin(lo, p);
		}
	}
	hi = top;
	/* a ceiling far above everything measured would flatten the curves:
	 * said in the caption instead */
	for (int m = 0; m < nh; m++) {
		if (!isfinite(top) || hm[m].v <= 3 * top)
			hi = fmax(hi, hm[m].v);
		else
			hidden[m] = true;
	}
	if (!isfinite(hi) || hi <= lo)
		hi = lo + 1;
	step = nice_step(hi - lo, 5);
	ys.hi = ceil(hi * 1.04 / step) * step;
	ys.lo = floor(lo / step) * step;
	if (k == CHART_RESPONSE)
		time_unit(fmax(fabs(ys.hi), fabs(ys.lo)), &unit, &div);

	fprintf(o, "<figure class=\"chart\" id=\"%s-figure\"><figcaption>%s against %s</figcaption>\n"
		"<svg class=\"chart\" id=\"%s-chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
		"height=\"%.0f\" role=\"img\" data-x-scale=\"%s\"", id,
		k == CHART_THROUGHPUT ? "Throughput" : "Response time",
		sw->variable == SWEEP_RATE ? "the offered rate" : "users", id, CW, CH, CW, CH,
		xs.log ? "log" : "linear");
	num_attr(o, "data-x-min", xs.lo);
	num_attr(o, "data-x-max", xs.hi);
	num_attr(o, "data-y-min", ys.lo);
	num_attr(o, "data-y-max", ys.hi);
	fprintf(o, " data-plot-left=\"%g\" data-plot-right=\"%g\" data-plot-top=\"%g\" "
		"data-plot-bottom=\"%g\" data-y-unit=\"%s\">\n", PL, PR, PT, PB,
		k == CHART_THROUGHPUT ? "1/s" : "ns");

	/* grid and y ticks */
	for (double v = ys.lo; v <= ys.hi + step / 2; v += step) {
		double y = map(&ys, v);
		char *t = k == CHART_THROUGHPUT ? rate_tick(v) : xasprintf("%g", v / div);

		fprintf(o, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.2f\" y2=\"%.2f\"/>"
			"<text class=\"tick\" x=\"%.0f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
			PL, PR, y, y, PL - 6, y + 4, t);
		free(t);
	}
	/* x ticks: one per level asked for, labelled when there is room */
	for (int i = 0; i < sw->n_levels; i++) {
		double x = map(&xs, sw->levels[i]);
		char *t = level_num(sw->levels[i]);

		fprintf(o, "<line class=\"axis\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%.0f\" y2=\"%.0f\"/>",
			x, x, PB, PB + 4);
		if (x - last_label >= 26) {
			fprintf(o, "<text class=\"tick\" x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">"
				"%s</text>", x, PB + 17, t);
			last_label = x;
		}
		fputc('\n', o);
		free(t);
	}
	fprintf(o, "<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
		"<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>\n",
		PL, PR, PB, PB, PL, PL, PT, PB);
	fprintf(o, "<text class=\"axis-title\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s%s"
		"</text>\n", (PL + PR) / 2, CH - 8,
		sw->variable == SWEEP_RATE ? "offered rate (1/s)" : "users (N)",
		xs.log ? ", log scale" : "");
	fprintf(o, "<text class=\"axis-title\" transform=\"translate(14 %.0f) rotate(-90)\" "
		"text-anchor=\"middle\">%s (%s)</text>\n", (PT + PB) / 2,
		k == CHART_THROUGHPUT ? "throughput" : "response time", unit);

	/* the run's marks, behind the data */
	for (int m = 0; m < nh; m++) {
		double y = map(&ys, hm[m].v);
		bool left = !strcmp(hm[m].cls, "measured");

		if (hidden[m])
			continue;
		fprintf(o, "<g class=\"mark %s\" data-mark=\"%s\"", hm[m].cls, hm[m].what);
		num_attr(o, "data-value", hm[m].v);
		fprintf(o, "><line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.2f\" y2=\"%.2f\"/><text x=\"%.0f\" "
			"y=\"%.2f\" text-anchor=\"%s\">%s</text></g>\n", PL, PR, y, y,
			left ? PL + 4 : PR - 4, y - 4, left ? "start" : "end", hm[m].label);
	}
	for (int m = 0; m < nv; m++) {
		double x;

		if (vm[m].v < xs.lo || vm[m].v > xs.hi)
			continue; /* past the last step: the figures below say so */
		x = map(&xs, vm[m].v);
		fprintf(o, "<g class=\"mark %s\" data-mark=\"%s\"", vm[m].cls, vm[m].what);
		num_attr(o, "data-value", vm[m].v);
		/* labels where the curve is not: low on the throughput chart (it
		 * has risen by the knee), high on the response chart */
		fprintf(o, "><line x1=\"%.2f\" x2=\"%.2f\" y1=\"%.0f\" y2=\"%.0f\"/><text x=\"%.2f\" "
			"y=\"%.0f\">%s</text></g>\n", x, x, PT, PB, x + 3,
			k == CHART_THROUGHPUT ? PB - 22 + 12 * m : PT + 10 + 12 * m, vm[m].label);
	}

	/* the model: one vertex per predicted step */
	for (int i = 0; i < sw->n_steps; i++)
		n_pred += isfinite(predicted_of(&sw->steps[i], k));
	if (n_pred) {
		fputs("<polyline class=\"predicted\" points=\"", o);
		for (int i = 0, j = 0; i < sw->n_steps; i++) {
			double p = predicted_of(&sw->steps[i], k);

			if (isfinite(p))
				fprintf(o, "%s%.2f,%.2f", j++ ? " " : "", map(&xs, sw->steps[i].level),
					map(&ys, p));
		}
		fputs("\" data-levels=\"", o);
		for (int i = 0, j = 0; i < sw->n_steps; i++) {
			if (isfinite(predicted_of(&sw->steps[i], k))) {
				char *t = html_shortest(sw->steps[i].level);

				fprintf(o, "%s%s", j++ ? " " : "", t);
				free(t);
			}
		}
		fputs("\" data-values=\"", o);
		for (int i = 0, j = 0; i < sw->n_steps; i++) {
			double p = predicted_of(&sw->steps[i], k);

			if (isfinite(p)) {
				char *t = html_shortest(p);

				fprintf(o, "%s%s", j++ ? " " : "", t);
				free(t);
			}
		}
		fputs("\"/>\n", o);
		for (int i = 0; i < sw->n_steps; i++) {
			double p = predicted_of(&sw->steps[i], k);

			if (isfinite(p))
				fprintf(o, "<circle class=\"vertex\" cx=\"%.2f\" cy=\"%.2f\" r=\"2\"/>\n",
					map(&xs, sw->steps[i].level), map(&ys, p));
		}
	}

	/* the measurements: one point per measured step */
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];
		double v = value_of(st, k), p = predicted_of(st, k);
		char *lvl = sweep_level_phrase(sw->variable, st->level);

		if (!measured(st)) {
			/* a step that was not measured: a cross on the axis */
			fprintf(o, "<g class=\"unmeasured\" data-status=\"%s\"",
				sweep_step_status_name(st->status));
			num_attr(o, "data-level", st->level);
			fprintf(o, "><text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">\xc3\x97</text>"
				"<title>%s: %s: ", map(&xs, st->level), PB - 3, lvl,
				sweep_step_status_name(st->status));
			h(o, st->reason ? st->reason : "not measured");
			fputs("</title></g>\n", o);
			free(lvl);
			continue;
		}
		if (!isfinite(v)) {
			free(lvl);
			continue;
		}
		n_points++;
		fprintf(o, "<circle class=\"measured\" cx=\"%.2f\" cy=\"%.2f\" r=\"4.5\" data-step=\"%d\"",
			map(&xs, st->level), map(&ys, v), i);
		num_attr(o, "data-level", st->level);
		num_attr(o, "data-value", v);
		if (k == CHART_THROUGHPUT) {
			units_rate(a, sizeof(a), v);
			units_rate(b, sizeof(b), p);
		} else {
			units_duration(a, sizeof(a), v, false);
			units_duration(b, sizeof(b), p, false);
		}
		fprintf(o, "><title>%s: measured %s, model %s</title></circle>\n", lvl, a,
			isfinite(p) ? b : st->predicted && k == CHART_RESPONSE ? "overload" : "-");
		free(lvl);
	}
	fputs("</svg>\n<p class=\"legend chart-legend\"><span class=\"pt\">measured</span>"
	      "<span class=\"ln\">model</span>", o);
	if (nh || nv)
		fprintf(o, "<span class=\"mk-measured\">measured %s</span>"
			"<span class=\"mk-model\">model %s</span>",
			nh && nv ? "saturation, knee" : nh ? "saturation" : "knee",
			nh && nv ? "X_max, N*" : nh ? "X_max" : "N*");
	fputs("</p>\n", o);
	for (int m = 0; m < nh; m++)
		if (hidden[m])
			fprintf(o, "<p class=\"hint\">%s: above this chart (more than 3 times the "
				"highest value drawn).</p>\n", hm[m].label);
	for (int m = 0; m < nv; m++)
		if (vm[m].v < xs.lo || vm[m].v > xs.hi)
			fprintf(o, "<p class=\"hint\">%s users: past the last step, not drawn.</p>\n",
				vm[m].label);
	if (!n_points)
		fputs("<p class=\"error\">No step was measured.</p>\n", o);
	fputs("</figure>\n", o);
}

/* ---- text ------------------------------------------------------------------------ */

static const char *fmt_rate(char *buf, double v)
{
	return isfinite(v) ? units_rate(buf, UNITS_BUF, v) : "-";
}

static const char *fmt_dur(char *buf, double ns)
{
	return isfinite(ns) ? units_duration(buf, UNITS_BUF, ns, false) : "-";
}

/* A signed relative error, as the table prints it: "+4.2%", "-12%", "-". */
static const char *fmt_err(char *buf, double e)
{
	if (!isfinite(e))
		return "-";
	snprintf(buf, UNITS_BUF, fabs(e) < 0.1 ? "%+.1f%%" : "%+.0f%%", e * 100);
	return buf;
}

/* Multi-line text (a load command's output) in a <pre>: each line escaped,
 * the line breaks kept. */
static void h_lines(FILE *o, const char *s)
{
	const char *p = s ? s : "";

	for (;;) {
		const char *nl = strchr(p, '\n');
		char *line = xasprintf("%.*s", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);

		h(o, line);
		free(line);
		if (!nl)
			break;
		fputc('\n', o);
		p = nl + 1;
	}
}

/* <td data-field="FIELD" data-value="V">SHOWN</td> */
static void td_num(FILE *o, const char *field, double v, const char *shown, const char *cls)
{
	fprintf(o, "<td%s%s%s data-field=\"%s\"", cls ? " class=\"" : "", cls ? cls : "",
		cls ? "\"" : "", field);
	num_attr(o, "data-value", v);
	fputc('>', o);
	h(o, shown);
	fputs("</td>", o);
}

static void td_str(FILE *o, const char *field, const char *v, const char *cls)
{
	fprintf(o, "<td class=\"%s\" data-field=\"%s\" data-value=\"", cls ? cls : "name", field);
	if (v)
		h(o, v);
	else
		fputs("null", o);
	fputs("\">", o);
	h(o, v ? v : "-");
	fputs("</td>", o);
}

static void put_header(FILE *o, const struct sweep *sw, const char *sweep_path)
{
	char a[UNITS_BUF];
	char *z;

	fputs("<header><h1>flowprof capacity sweep</h1><p class=\"meta\">host ", o);
	h(o, sw->host);
	fputs(" &middot; kernel ", o);
	h(o, sw->kernel);
	fputs(" &middot; started ", o);
	h(o, sw->started_at);
	fputs(" &middot; flow file ", o);
	h(o, sw->flow_file);
	fputs(" &middot; document ", o);
	h(o, sweep_path);
	fputs("</p>\n<p class=\"meta\">load <code id=\"load\">", o);
	h(o, sw->load);
	fprintf(o, "</code> &middot; %s ", sweep_variable_name(sw->variable));
	for (int i = 0; i < sw->n_levels; i++) {
		char *t = level_num(sw->levels[i]);

		fprintf(o, "%s%s", i ? ", " : "", t);
		free(t);
	}
	fprintf(o, " &middot; settle %s", units_duration(a, sizeof(a), sw->settle_s * 1e9, false));
	if (sw->max_window_s > 0)
		fprintf(o, " &middot; window at most %s",
			units_duration(a, sizeof(a), sw->max_window_s * 1e9, false));
	else
		fputs(" &middot; window until the load ends", o);
	if (sw->variable == SWEEP_USERS) {
		z = isfinite(sw->think_s)
			    ? xasprintf("--think %s", units_duration(a, sizeof(a), sw->think_s * 1e9,
								    false))
			    : xstrdup("think time fitted");
		fprintf(o, " &middot; %s", z);
		free(z);
	}
	fputs("</p></header>\n", o);
	if (sw->partial) {
		fputs("<p class=\"partial\" id=\"partial\">PARTIAL: not every step was measured", o);
		if (sw->stop_reason) {
			fputs(": ", o);
			h(o, sw->stop_reason);
		}
		fputs(". The steps measured before it are kept, and the model is fitted on them."
		      "</p>\n", o);
	}
}

static void put_fit(FILE *o, const struct sweep *sw)
{
	const struct sweep_fit *f = &sw->fit;
	char a[UNITS_BUF], b[UNITS_BUF];
	char *lvl;

	fputs("<section id=\"fit\"><h2>The model</h2>\n", o);
	if (!sw->fitted) {
		fputs("<p class=\"error\">Not fitted: ", o);
		h(o, sw->fit_error ? sw->fit_error : "no step was measured");
		fputs("</p></section>\n", o);
		return;
	}
	lvl = sweep_level_phrase(sw->variable, sw->steps[f->step].level);
	fprintf(o, "<p>Fitted on the step at %s", lvl);
	free(lvl);
	if (sw->variable == SWEEP_RATE)
		fputs(" (open load, no think time)", o);
	else
		fprintf(o, "; think time Z %s (%s)", units_duration(a, sizeof(a), f->think_s * 1e9,
								   false),
			f->think_fitted ? "fitted there as N/X &minus; R" : "--think");
	fprintf(o, "; demand D %s per request; bottleneck <b>",
		units_duration(b, sizeof(b), f->demand_ns, false));
	h(o, f->bottleneck ? f->bottleneck : "none");
	fputs("</b>.</p>\n<table id=\"stations-table\"><thead><tr><th>station</th><th>servers</th>"
	      "<th>demand per request</th></tr></thead><tbody>\n", o);
	for (int k = 0; k < f->n_stations; k++) {
		fprintf(o, "<tr%s>", f->bottleneck && !strcmp(f->bottleneck, f->stations[k].name)
					     ? " class=\"bottleneck\"" : "");
		td_str(o, "name", f->stations[k].name, NULL);
		fprintf(o, "<td>%d</td>", f->stations[k].servers);
		td_num(o, "demand_ns", f->stations[k].demand_ns,
		       fmt_dur(a, f->stations[k].demand_ns), NULL);
		fputs("</tr>\n", o);
	}
	fputs("</tbody></table></section>\n", o);
}

/* The knee and the saturation: measured against the model. */
static void put_summary(FILE *o, const struct sweep *sw)
{
	const struct sweep_summary *s = &sw->summary;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	char *at;

	if (!s->valid)
		return;
	fputs("<section id=\"run\"><h2>Saturation and knee</h2>\n<table id=\"summary-table\">"
	      "<thead><tr><th></th><th>measured</th><th>model</th><th>error</th></tr></thead>"
	      "<tbody>\n<tr><td class=\"name\">saturation throughput</td>", o);
	td_num(o, "measured_saturation_per_s", s->measured_saturation_per_s,
	       fmt_rate(a, s->measured_saturation_per_s), NULL);
	td_num(o, "predicted_saturation_per_s", s->predicted_saturation_per_s,
	       fmt_rate(b, s->predicted_saturation_per_s), NULL);
	td_num(o, "saturation_error", s->saturation_error, fmt_err(c, s->saturation_error), NULL);
	at = sweep_level_phrase(sw->variable, s->measured_saturation_level);
	fprintf(o, "</tr>\n<tr><td class=\"name\">measured at</td><td data-field="
		"\"measured_saturation_at\"");
	num_attr(o, "data-value", s->measured_saturation_level);
	fprintf(o, ">%s%s</td><td>X_max</td><td></td></tr>\n", at,
		s->saturated ? "" : sw->variable == SWEEP_RATE ? " (every offered rate was served)"
							       : " (still growing at the last step)");
	free(at);
	if (sw->variable == SWEEP_USERS) {
		char *m, *p;

		fputs("<tr><td class=\"name\">knee N* (users)</td>", o);
		snprintf(a, sizeof(a), "%.1f", s->measured_knee_users);
		snprintf(b, sizeof(b), "%.1f", s->predicted_knee_users);
		td_num(o, "measured_knee_users", s->measured_knee_users,
		       isfinite(s->measured_knee_users) ? a : "-", NULL);
		td_num(o, "predicted_knee_users", s->predicted_knee_users,
		       isfinite(s->predicted_knee_users) ? b : "-", NULL);
		fputs("<td></td></tr>\n<tr><td class=\"name\">knee step</td>", o);
		m = s->measured_knee_step >= 0 && s->measured_knee_step < sw->n_levels
			    ? sweep_level_phrase(sw->variable, sw->levels[s->measured_knee_step])
			    : xstrdup("past the last step");
		p = s->predicted_knee_step >= 0 && s->predicted_knee_step < sw->n_levels
			    ? sweep_level_phrase(sw->variable, sw->levels[s->predicted_knee_step])
			    : xstrdup("past the last step");
		td_num(o, "measured_knee_step", s->measured_knee_step >= 0 ? s->measured_knee_step
									   : NAN, m, NULL);
		td_num(o, "predicted_knee_step", s->predicted_knee_step >= 0 ? s->predicted_knee_step
									     : NAN, p, NULL);
		if (s->measured_knee_step >= 0 && s->predicted_knee_step >= 0) {
			int d = abs(s->measured_knee_step - s->predicted_knee_step);

			if (d)
				fprintf(o, "<td>%d step%s apart</td>", d, d == 1 ? "" : "s");
			else
				fputs("<td>the same step</td>", o);
		} else {
			fputs("<td></td>", o);
		}
		fputs("</tr>\n", o);
		free(m);
		free(p);
	}
	fputs("<tr><td class=\"name\">largest error over the predicted steps</td>"
	      "<td colspan=\"2\">throughput</td>", o);
	snprintf(a, sizeof(a), "%.1f%%", s->max_abs_err_throughput * 100);
	snprintf(b, sizeof(b), "%.1f%%", s->max_abs_err_response * 100);
	td_num(o, "max_abs_error_throughput", s->max_abs_err_throughput, a, NULL);
	fputs("</tr>\n<tr><td class=\"name\"></td><td colspan=\"2\">response time</td>", o);
	td_num(o, "max_abs_error_response", s->max_abs_err_response, b, NULL);
	fputs("</tr>\n</tbody></table></section>\n", o);
}

/* How the load command ended: "0", "3", "signal 9", "SIGTERM from flowprof". */
static char *exit_text(const struct sweep_step *st)
{
	if (st->signal && st->stopped_by_sweep)
		return xasprintf("signal %d, sent by flowprof", st->signal);
	if (st->signal)
		return xasprintf("signal %d", st->signal);
	if (st->stopped_by_sweep)
		return xasprintf("%d (stopped by flowprof)", st->exit_status);
	return xasprintf("%d", st->exit_status);
}

static void put_steps(FILE *o, const struct sweep *sw)
{
	char a[UNITS_BUF], b[UNITS_BUF];
	const char *var = sweep_variable_name(sw->variable);
	bool any_tail = false;

	fprintf(o, "<section id=\"steps\"><h2>Steps</h2>\n<p class=\"hint\">X: completed entry "
		"calls of all flows per second in the step's window. R: %s. Error: (model "
		"&minus; measured) / measured. The bottleneck is the station the model saturates "
		"first at the step's load, with its utilization.</p>\n<table id=\"steps-table\">"
		"<thead><tr><th>%s</th><th>status</th><th>X measured</th><th>X model</th>"
		"<th>error</th><th>R measured</th><th>R model</th><th>error</th>"
		"<th>bottleneck</th><th>U</th><th>load exit</th><th>window</th><th class=\"note\">note</th>"
		"</tr></thead><tbody>\n",
		sw->variable == SWEEP_RATE ? "the entry handler's mean time"
					   : "the users' view, N / X &minus; Z",
		sw->variable == SWEEP_RATE ? "rate (1/s)" : "users");
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];
		bool ok = measured(st), fit = sw->fitted && i == sw->fit.step;
		bool pr = ok && st->predicted;
		char *t = level_num(st->level), *ex = exit_text(st);

		fprintf(o, "<tr data-step=\"%d\" class=\"%s\"><td class=\"level\" data-field=\"%s\"",
			i, !ok ? "failed" : fit ? "fit" : "ok", var);
		num_attr(o, "data-value", st->level);
		fputs(" title=\"", o);
		h(o, st->command);
		fprintf(o, "\">%s</td>", t);
		free(t);
		td_str(o, "status", sweep_step_status_name(st->status), "kind");
		td_num(o, "measured.throughput_per_s", ok ? st->throughput_per_s : NAN,
		       ok ? fmt_rate(a, st->throughput_per_s) : "-", NULL);
		td_num(o, "predicted.throughput_per_s", pr ? st->pred_throughput_per_s : NAN,
		       pr ? fmt_rate(a, st->pred_throughput_per_s) : "-", NULL);
		td_num(o, "error.throughput", pr ? st->err_throughput : NAN,
		       fit ? "fit" : pr ? fmt_err(a, st->err_throughput) : "-", NULL);
		td_num(o, "measured.response_ns", ok ? st->response_ns : NAN,
		       ok ? fmt_dur(a, st->response_ns) : "-", NULL);
		td_num(o, "predicted.response_ns", pr ? st->pred_response_ns : NAN,
		       !pr ? "-" : isfinite(st->pred_response_ns) ? fmt_dur(a, st->pred_response_ns)
								 : "overload", NULL);
		td_num(o, "error.response", pr ? st->err_response : NAN,
		       fit ? "fit" : pr ? fmt_err(a, st->err_response) : "-", NULL);
		td_str(o, "predicted.bottleneck.station", pr ? st->pred_bottleneck : NULL, NULL);
		td_num(o, "predicted.bottleneck.utilization",
		       pr ? st->pred_bottleneck_utilization : NAN,
		       pr && isfinite(st->pred_bottleneck_utilization)
			       ? units_percent(a, sizeof(a), st->pred_bottleneck_utilization) : "-",
		       NULL);
		fprintf(o, "<td data-field=\"exit_status\" data-value=\"%d\" data-signal=\"%d\">",
			st->exit_status, st->signal);
		h(o, ex);
		fputs("</td>", o);
		free(ex);
		td_num(o, "window_s", ok ? st->window_s : NAN,
		       ok ? units_duration(b, sizeof(b), st->window_s * 1e9, false) : "-", NULL);
		fputs("<td class=\"note\">", o);
		if (!ok) {
			fputs("<b>not measured</b>: ", o);
			h(o, st->reason ? st->reason : sweep_step_status_name(st->status));
		} else if (fit) {
			fputs("the model was fitted here", o);
		}
		fputs("</td></tr>\n", o);
		any_tail |= st->output_tail && *st->output_tail;
	}
	fputs("</tbody></table>\n", o);
	for (int i = 0; any_tail && i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];
		char *lvl;

		if (!st->output_tail || !*st->output_tail)
			continue;
		lvl = sweep_level_phrase(sw->variable, st->level);
		fprintf(o, "<details class=\"output\" data-step=\"%d\"%s><summary>The end of the "
			"load command's output at %s</summary><pre>", i, measured(st) ? "" : " open",
			lvl);
		h_lines(o, st->output_tail);
		fputs("</pre></details>\n", o);
		free(lvl);
	}
	fputs("</section>\n", o);
}

/* Per flow, when a step has several (as the table prints them). */
static void put_flows(FILE *o, const struct sweep *sw)
{
	char a[UNITS_BUF];
	bool many = false;

	for (int i = 0; i < sw->n_steps; i++)
		many |= measured(&sw->steps[i]) && sw->steps[i].n_flows > 1;
	if (!many)
		return;
	fprintf(o, "<section id=\"flows\"><h2>Per flow</h2>\n<p class=\"hint\">The entry "
		"handler's time is the server's own: queueing before it is not in it.</p>\n"
		"<table id=\"flows-table\"><thead><tr><th>%s</th><th>flow</th><th>X measured</th>"
		"<th>X model</th><th>entry mean</th><th>entry p99</th><th>R model</th></tr>"
		"</thead><tbody>\n", sw->variable == SWEEP_RATE ? "rate (1/s)" : "users");
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];

		if (!measured(st))
			continue;
		for (int k = 0; k < st->n_flows; k++) {
			const struct sweep_flow *fl = &st->flows[k];
			char *t = level_num(st->level);

			fprintf(o, "<tr data-step=\"%d\" data-flow=\"%d\"><td>%s</td>", i, k,
				k ? "" : t);
			free(t);
			td_str(o, "name", fl->name, NULL);
			td_num(o, "measured.rate_per_s", fl->rate_per_s, fmt_rate(a, fl->rate_per_s),
			       NULL);
			td_num(o, "predicted.rate_per_s", fl->pred_rate_per_s,
			       fmt_rate(a, fl->pred_rate_per_s), NULL);
			td_num(o, "measured.mean_ns", fl->mean_ns, fmt_dur(a, fl->mean_ns), NULL);
			td_num(o, "measured.p99_ns", fl->p99_ns, fmt_dur(a, fl->p99_ns), NULL);
			td_num(o, "predicted.response_ns", fl->pred_response_ns,
			       fmt_dur(a, fl->pred_response_ns), NULL);
			fputs("</tr>\n", o);
		}
	}
	fputs("</tbody></table></section>\n", o);
}

static char *sweep_page(const struct sweep *sw, const char *sweep_path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	if (!o) {
		log_error("out of memory");
		exit(1);
	}
	html_page_start(o, "flowprof sweep: ", sw->host, SWEEP_CSP, "ready");
	put_header(o, sw, sweep_path);
	fputs("<section id=\"charts\"><h2>Measured against the model</h2>\n<p class=\"hint\">"
	      "Each point is a measured step; the line joins the model's predictions at the "
	      "same levels, from the fit on the lowest step. Dashed: the run's saturation and "
	      "knee, measured (orange) and the model's (blue). Hover a point for its figures."
	      "</p>\n<div class=\"charts\">\n", o);
	put_chart(o, sw, CHART_THROUGHPUT);
	put_chart(o, sw, CHART_RESPONSE);
	fputs("</div></section>\n", o);
	put_summary(o, sw);
	put_steps(o, sw);
	put_flows(o, sw);
	put_fit(o, sw);
	fputs("</body></html>\n", o);
	fclose(o);
	return buf;
}

int sweep_html_write(const struct sweep *sw, const char *sweep_path, const char *path,
		     char *err, size_t errlen)
{
	char *doc = sweep_page(sw, sweep_path ? sweep_path : "SWEEP");
	int rc = 0;

	if (write_file_atomic(path, doc, strlen(doc), 0600)) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(doc);
	return rc;
}
