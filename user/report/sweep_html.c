// SPDX-License-Identifier: MIT
/*
 * `flowprof report SWEEP.json --html FILE`: the sweep's page (html_report.h).
 *
 * One self-contained file, no script at all (its Content-Security-Policy
 * allows nothing but its own style): two SVG charts against the step's
 * level (users, or the offered rate), throughput and response time, each
 * with the measured steps as points and the model's predictions as a line,
 * the knee and the saturation marked; then the fit, the run's figures and
 * a table per step. The charts are sweep_chart.c's; the page skeleton, the
 * escaping and the style sheet are html_page.c's and html_report.c's.
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
#include "html_page.h"
#include "html_report.h"
#include "model/model.h"
#include "sweep_html.h"

/* Nothing runs and nothing loads: only the page's own <style>. */
#define SWEEP_CSP "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; " \
		  "form-action 'none'"

/* ---- text ------------------------------------------------------------------------ */

/* Multi-line text (a load command's output) in a <pre>: each line escaped,
 * the line breaks kept. */
static void h_lines(FILE *o, const char *s)
{
	const char *p = s ? s : "";

	for (;;) {
		const char *nl = strchr(p, '\n');
		char *line = xasprintf("%.*s", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);

		html_text(o, line);
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
	html_number_attr(o, "data-value", v);
	fputc('>', o);
	html_text(o, shown);
	fputs("</td>", o);
}

static void td_str(FILE *o, const char *field, const char *v, const char *cls)
{
	fprintf(o, "<td class=\"%s\" data-field=\"%s\" data-value=\"", cls ? cls : "name", field);
	if (v)
		html_text(o, v);
	else
		fputs("null", o);
	fputs("\">", o);
	html_text(o, v ? v : "-");
	fputs("</td>", o);
}

static void put_header(FILE *o, const struct sweep *sw, const char *sweep_path)
{
	char a[UNITS_BUF];
	char *z;

	fputs("<header><h1>flowprof capacity sweep</h1><p class=\"meta\">host ", o);
	html_text(o, sw->host);
	fputs(" &middot; kernel ", o);
	html_text(o, sw->kernel);
	fputs(" &middot; started ", o);
	html_text(o, sw->started_at);
	fputs(" &middot; flow file ", o);
	html_text(o, sw->flow_file);
	fputs(" &middot; document ", o);
	html_text(o, sweep_path);
	fputs("</p>\n<p class=\"meta\">load <code id=\"load\">", o);
	html_text(o, sw->load);
	fprintf(o, "</code> &middot; %s ", sweep_variable_name(sw->variable));
	for (int i = 0; i < sw->n_levels; i++) {
		char *t = sweep_level_text(sw->levels[i]);

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
			html_text(o, sw->stop_reason);
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
		html_text(o, sw->fit_error ? sw->fit_error : "no step was measured");
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
	html_text(o, f->bottleneck ? f->bottleneck : "none");
	fputs("</b>.</p>\n<table id=\"stations-table\"><thead><tr><th>station</th><th>servers</th>"
	      "<th>demand per request</th></tr></thead><tbody>\n", o);
	for (int k = 0; k < f->n_stations; k++) {
		fprintf(o, "<tr%s>", f->bottleneck && !strcmp(f->bottleneck, f->stations[k].name)
					     ? " class=\"bottleneck\"" : "");
		td_str(o, "name", f->stations[k].name, NULL);
		fprintf(o, "<td>%d</td>", f->stations[k].servers);
		td_num(o, "demand_ns", f->stations[k].demand_ns,
		       units_duration(a, sizeof(a), f->stations[k].demand_ns, false), NULL);
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
	       units_rate(a, sizeof(a), s->measured_saturation_per_s), NULL);
	td_num(o, "predicted_saturation_per_s", s->predicted_saturation_per_s,
	       units_rate(b, sizeof(b), s->predicted_saturation_per_s), NULL);
	td_num(o, "saturation_error", s->saturation_error,
	       units_relative_error(c, sizeof(c), s->saturation_error), NULL);
	at = sweep_level_phrase(sw->variable, s->measured_saturation_level);
	fprintf(o, "</tr>\n<tr><td class=\"name\">measured at</td><td data-field="
		"\"measured_saturation_at\"");
	html_number_attr(o, "data-value", s->measured_saturation_level);
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
		bool ok = step_measured(st), fit = sw->fitted && i == sw->fit.step;
		bool pr = ok && st->predicted;
		char *t = sweep_level_text(st->level), *ex = exit_text(st);

		fprintf(o, "<tr data-step=\"%d\" class=\"%s\"><td class=\"level\" data-field=\"%s\"",
			i, !ok ? "failed" : fit ? "fit" : "ok", var);
		html_number_attr(o, "data-value", st->level);
		fputs(" title=\"", o);
		html_text(o, st->command);
		fprintf(o, "\">%s</td>", t);
		free(t);
		td_str(o, "status", sweep_step_status_name(st->status), "kind");
		td_num(o, "measured.throughput_per_s", ok ? st->throughput_per_s : NAN,
		       ok ? units_rate(a, sizeof(a), st->throughput_per_s) : "-", NULL);
		td_num(o, "predicted.throughput_per_s", pr ? st->pred_throughput_per_s : NAN,
		       pr ? units_rate(a, sizeof(a), st->pred_throughput_per_s) : "-", NULL);
		td_num(o, "error.throughput", pr ? st->err_throughput : NAN,
		       fit  ? "fit"
		       : pr ? units_relative_error(a, sizeof(a), st->err_throughput)
			    : "-", NULL);
		td_num(o, "measured.response_ns", ok ? st->response_ns : NAN,
		       ok ? units_duration(a, sizeof(a), st->response_ns, false) : "-", NULL);
		td_num(o, "predicted.response_ns", pr ? st->pred_response_ns : NAN,
		       !pr ? "-"
		       : isfinite(st->pred_response_ns)
			   ? units_duration(a, sizeof(a), st->pred_response_ns, false)
			   : "overload", NULL);
		td_num(o, "error.response", pr ? st->err_response : NAN,
		       fit  ? "fit"
		       : pr ? units_relative_error(a, sizeof(a), st->err_response)
			    : "-", NULL);
		td_str(o, "predicted.bottleneck.station", pr ? st->pred_bottleneck : NULL, NULL);
		td_num(o, "predicted.bottleneck.utilization",
		       pr ? st->pred_bottleneck_utilization : NAN,
		       pr && isfinite(st->pred_bottleneck_utilization)
			       ? units_percent(a, sizeof(a), st->pred_bottleneck_utilization) : "-",
		       NULL);
		fprintf(o, "<td data-field=\"exit_status\" data-value=\"%d\" data-signal=\"%d\">",
			st->exit_status, st->signal);
		html_text(o, ex);
		fputs("</td>", o);
		free(ex);
		td_num(o, "window_s", ok ? st->window_s : NAN,
		       ok ? units_duration(b, sizeof(b), st->window_s * 1e9, false) : "-", NULL);
		fputs("<td class=\"note\">", o);
		if (!ok) {
			fputs("<b>not measured</b>: ", o);
			html_text(o, st->reason ? st->reason : sweep_step_status_name(st->status));
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
			"load command's output at %s</summary><pre>", i, step_measured(st) ? "" : " open",
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
		many |= step_measured(&sw->steps[i]) && sw->steps[i].n_flows > 1;
	if (!many)
		return;
	fprintf(o, "<section id=\"flows\"><h2>Per flow</h2>\n<p class=\"hint\">The entry "
		"handler's time is the server's own: queueing before it is not in it.</p>\n"
		"<table id=\"flows-table\"><thead><tr><th>%s</th><th>flow</th><th>X measured</th>"
		"<th>X model</th><th>entry mean</th><th>entry p99</th><th>R model</th></tr>"
		"</thead><tbody>\n", sw->variable == SWEEP_RATE ? "rate (1/s)" : "users");
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];

		if (!step_measured(st))
			continue;
		for (int k = 0; k < st->n_flows; k++) {
			const struct sweep_flow *fl = &st->flows[k];
			char *t = sweep_level_text(st->level);

			fprintf(o, "<tr data-step=\"%d\" data-flow=\"%d\"><td>%s</td>", i, k,
				k ? "" : t);
			free(t);
			td_str(o, "name", fl->name, NULL);
			td_num(o, "measured.rate_per_s", fl->rate_per_s,
			       units_rate(a, sizeof(a), fl->rate_per_s), NULL);
			td_num(o, "predicted.rate_per_s", fl->pred_rate_per_s,
			       units_rate(a, sizeof(a), fl->pred_rate_per_s), NULL);
			td_num(o, "measured.mean_ns", fl->mean_ns,
			       units_duration(a, sizeof(a), fl->mean_ns, false), NULL);
			td_num(o, "measured.p99_ns", fl->p99_ns,
			       units_duration(a, sizeof(a), fl->p99_ns, false), NULL);
			td_num(o, "predicted.response_ns", fl->pred_response_ns,
			       units_duration(a, sizeof(a), fl->pred_response_ns, false), NULL);
			fputs("</tr>\n", o);
		}
	}
	fputs("</tbody></table></section>\n", o);
}

static char *sweep_page(const struct sweep *sw, const char *sweep_path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = xopen_memstream(&buf, &len);

	html_page_start(o, "flowprof sweep: ", sw->host, SWEEP_CSP, "ready");
	put_header(o, sw, sweep_path);
	fputs("<section id=\"charts\"><h2>Measured against the model</h2>\n<p class=\"hint\">"
	      "Each point is a measured step; the line joins the model's predictions at the "
	      "same levels, from the fit on the lowest step. Dashed: the run's saturation and "
	      "knee, measured (orange) and the model's (blue). Hover a point for its figures."
	      "</p>\n<div class=\"charts\">\n", o);
	sweep_chart_write(o, sw, CHART_THROUGHPUT);
	sweep_chart_write(o, sw, CHART_RESPONSE);
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
