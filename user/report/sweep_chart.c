// SPDX-License-Identifier: MIT
/*
 * The sweep page's charts (sweep_html.h): throughput and response time
 * against the step's level, as SVG. A chart's data-x-*, data-y-* and
 * data-plot-* attributes give its scales, and each point and line vertex
 * carries its exact value, so a test can check coordinates.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "html_page.h"
#include "sweep_html.h"

/* Chart geometry, in SVG user units (the viewBox). */
#define CW 560.0
#define CH 360.0
#define PL 64.0		/* plot area: left, right, top, bottom */
#define PR (CW - 16.0)
#define PT 16.0
#define PB (CH - 48.0)

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
	if (!step_measured(st))
		return NAN;
	return k == CHART_THROUGHPUT ? st->throughput_per_s : st->response_ns;
}

static double predicted_of(const struct sweep_step *st, enum chart_kind k)
{
	double v;

	if (!step_measured(st) || !st->predicted)
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

void sweep_chart_write(FILE *o, const struct sweep *sw, enum chart_kind k)
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
	html_number_attr(o, "data-x-min", xs.lo);
	html_number_attr(o, "data-x-max", xs.hi);
	html_number_attr(o, "data-y-min", ys.lo);
	html_number_attr(o, "data-y-max", ys.hi);
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
		char *t = sweep_level_text(sw->levels[i]);

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
		html_number_attr(o, "data-value", hm[m].v);
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
		html_number_attr(o, "data-value", vm[m].v);
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

		if (!step_measured(st)) {
			/* a step that was not measured: a cross on the axis */
			fprintf(o, "<g class=\"unmeasured\" data-status=\"%s\"",
				sweep_step_status_name(st->status));
			html_number_attr(o, "data-level", st->level);
			fprintf(o, "><text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">\xc3\x97</text>"
				"<title>%s: %s: ", map(&xs, st->level), PB - 3, lvl,
				sweep_step_status_name(st->status));
			html_text(o, st->reason ? st->reason : "not measured");
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
		html_number_attr(o, "data-level", st->level);
		html_number_attr(o, "data-value", v);
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
