// SPDX-License-Identifier: MIT
/*
 * The sweep's table (sweep_print_table): per step, measured against
 * predicted; per flow when there are several; the fit, the saturation and
 * the knee. And `flowprof report SWEEP.json` (sweep_report): the table, or
 * the document as loaded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "sweep_int.h"

static void cell(FILE *out, const char *s, size_t width, bool right)
{
	fputs("  ", out);
	print_padded(out, s, width, right);
}

static void print_steps(FILE *out, const struct sweep *sw, bool ascii)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF],
		f[UNITS_BUF], g[UNITS_BUF];

	print_padded(out, sweep_variable_name(sw->variable), 6, true);
	cell(out, "status", 6, false);
	cell(out, "X measured", 10, true);
	cell(out, "X model", 9, true);
	cell(out, "error", 6, true);
	cell(out, "R measured", 10, true);
	cell(out, "R model", 9, true);
	cell(out, "error", 6, true);
	fputs("  bottleneck (U)\n", out);
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];
		char *lvl = sweep_level_text(st->level), *bn = NULL, *esc;

		print_padded(out, lvl, 6, true);
		free(lvl);
		cell(out, sweep_step_status_name(st->status), 6, false);
		if (st->status != STEP_OK) {
			esc = term_escape(st->reason ? st->reason : "not measured");
			fprintf(out, "  %s\n", esc);
			free(esc);
			continue;
		}
		cell(out, units_rate(a, sizeof(a), st->throughput_per_s), 10, true);
		cell(out, st->predicted ? units_rate(b, sizeof(b), st->pred_throughput_per_s) : "-",
		     9, true);
		cell(out, i == sw->fit.step && sw->fitted
			  ? "fit" : units_relative_error(c, sizeof(c), st->err_throughput),
		     6, true);
		cell(out, units_duration(d, sizeof(d), st->response_ns, ascii), 10, true);
		cell(out, !st->predicted ? "-" : isfinite(st->pred_response_ns)
			  ? units_duration(e, sizeof(e), st->pred_response_ns, ascii) : "overload",
		     9, true);
		cell(out, i == sw->fit.step && sw->fitted
			  ? "fit" : units_relative_error(f, sizeof(f), st->err_response),
		     6, true);
		if (st->predicted && st->pred_bottleneck) {
			esc = term_escape(st->pred_bottleneck);
			bn = xasprintf("%s (%s)", esc, units_percent(g, sizeof(g),
					st->pred_bottleneck_utilization));
			free(esc);
		}
		fprintf(out, "  %s\n", bn ? bn : "-");
		free(bn);
	}
}

static void print_flows(FILE *out, const struct sweep *sw, bool ascii)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], d[UNITS_BUF];

	fprintf(out, "\nPer flow (entry handler time is the server's own; queueing before "
		     "it is not in it):\n");
	print_padded(out, sweep_variable_name(sw->variable), 6, true);
	cell(out, "flow", 12, false);
	cell(out, "X measured", 10, true);
	cell(out, "X model", 9, true);
	cell(out, "entry mean", 10, true);
	cell(out, "entry p99", 9, true);
	fputs("  R model\n", out);
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];

		if (st->status != STEP_OK)
			continue;
		for (int k = 0; k < st->n_flows; k++) {
			const struct sweep_flow *fl = &st->flows[k];
			char *lvl = sweep_level_text(st->level), *name = term_escape(fl->name);

			print_padded(out, k ? "" : lvl, 6, true);
			cell(out, name, 12, false);
			cell(out, units_rate(a, sizeof(a), fl->rate_per_s), 10, true);
			cell(out, units_rate(b, sizeof(b), fl->pred_rate_per_s), 9, true);
			cell(out, units_duration(c, sizeof(c), fl->mean_ns, ascii), 10, true);
			cell(out, units_duration(d, sizeof(d), fl->p99_ns, ascii), 9, true);
			fprintf(out, "  %s\n",
				units_duration(a, sizeof(a), fl->pred_response_ns, ascii));
			free(lvl);
			free(name);
		}
	}
}

static void print_knee(FILE *out, const struct sweep *sw)
{
	const struct sweep_summary *s = &sw->summary;
	char *m = s->measured_knee_step >= 0 ? sweep_level_text(sw->levels[s->measured_knee_step])
					     : xstrdup("past the last step");
	char *p = s->predicted_knee_step >= 0 ? sweep_level_text(sw->levels[s->predicted_knee_step])
					      : xstrdup("past the last step");
	int diff = s->measured_knee_step >= 0 && s->predicted_knee_step >= 0
			   ? abs(s->measured_knee_step - s->predicted_knee_step) : -1;

	fprintf(out, "Knee N*: measured %.1f users (step %s), model %.1f users (step %s)",
		s->measured_knee_users, m, s->predicted_knee_users, p);
	if (diff == 0)
		fprintf(out, ": the same step\n");
	else if (diff > 0)
		fprintf(out, ": %d step%s apart\n", diff, diff == 1 ? "" : "s");
	else
		fputc('\n', out);
	free(m);
	free(p);
}

void sweep_print_table(FILE *out, const struct sweep *sw, bool ascii)
{
	const struct sweep_summary *s = &sw->summary;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	char *load = term_escape(sw->load), *ff = term_escape(sw->flow_file);
	bool many_flows = false;

	fprintf(out, "Capacity sweep of %s%s\nload: %s\n", ff,
		sw->partial ? " (PARTIAL: not every step was measured)" : "", load);
	free(load);
	free(ff);
	if (sw->stop_reason) {
		char *r = term_escape(sw->stop_reason);

		fprintf(out, "stopped: %s\n", r);
		free(r);
	}
	if (sw->fitted) {
		const struct sweep_fit *f = &sw->fit;
		char *lvl = sweep_level_phrase(sw->variable, sw->steps[f->step].level);
		char *bn = term_escape(f->bottleneck), *think;

		if (sw->variable == SWEEP_RATE)
			think = xstrdup("open load, no think time");
		else
			think = xasprintf("think time %s (%s)",
					  units_duration(a, sizeof(a), f->think_s * 1e9, ascii),
					  f->think_fitted ? "fitted there as N/X - R" : "--think");
		fprintf(out, "model: fitted on the step at %s; %s; demand %s per request; "
			"bottleneck %s\n", lvl, think,
			units_duration(b, sizeof(b), f->demand_ns, ascii), bn ? bn : "none");
		free(think);
		free(lvl);
		free(bn);
		fprintf(out, "stations:");
		for (int k = 0; k < f->n_stations; k++) {
			char *n = term_escape(f->stations[k].name);

			fprintf(out, "%s %s (%d server%s, %s)", k ? "," : "", n,
				f->stations[k].servers, f->stations[k].servers == 1 ? "" : "s",
				units_duration(c, sizeof(c), f->stations[k].demand_ns, ascii));
			free(n);
		}
		fputc('\n', out);
	} else if (sw->fit_error) {
		char *e = term_escape(sw->fit_error);

		fprintf(out, "model: not fitted: %s\n", e);
		free(e);
	}
	fputc('\n', out);
	print_steps(out, sw, ascii);
	for (int i = 0; i < sw->n_steps; i++)
		many_flows |= sw->steps[i].status == STEP_OK && sw->steps[i].n_flows > 1;
	if (many_flows)
		print_flows(out, sw, ascii);
	if (!s->valid)
		return;
	fputc('\n', out);
	{
		char *at = sweep_level_phrase(sw->variable, s->measured_saturation_level);

		fprintf(out, "Saturation: measured %s (at %s%s), model X_max %s: error %s\n",
			units_rate(a, sizeof(a), s->measured_saturation_per_s), at,
			s->saturated ? "" : sw->variable == SWEEP_RATE
				? "; every offered rate was served"
				: "; throughput was still growing at the last step",
			units_rate(b, sizeof(b), s->predicted_saturation_per_s),
			units_relative_error(c, sizeof(c), s->saturation_error));
		free(at);
	}
	if (sw->variable == SWEEP_USERS)
		print_knee(out, sw);
	fprintf(out, "Largest error over the predicted steps: throughput %.1f%%, "
		"response time %.1f%%\n", s->max_abs_err_throughput * 100,
		s->max_abs_err_response * 100);
}

/* ---- `flowprof report` ----------------------------------------------------- */

int sweep_report(const char *path, bool json, FILE *out)
{
	struct sweep sw;
	char err[1024];

	if (sweep_load(path, &sw, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (json) {
		char *doc = sweep_to_json(&sw, true);

		fputs(doc, out);
		free(doc);
	} else {
		sweep_print_table(out, &sw, !locale_is_utf8());
	}
	sweep_free(&sw);
	return 0;
}
