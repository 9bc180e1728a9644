// SPDX-License-Identifier: MIT
/*
 * The HTML report and the DOT flow graph: see html_report.h.
 *
 * The page is built here from the snapshot and the model at the command
 * line's settings; its script (user/report/assets/report.js), style
 * (user/report/assets/report.css) and the model compiled to WebAssembly are
 * embedded at build time (Makefile, "HTML report assets"), so everything
 * that uses them stays in this file. The graph (flow_graph.c) is laid out
 * by Graphviz (libgvc), the same DOT text that --dot writes; the model's
 * input is written by html_model_input.c; the escaping is html_page.c's.
 */
#include "html_report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/model_wasm.h"
#include "assets/report_css.h"
#include "assets/report_js.h"
#include "assets/report_js_sha256.h"
#include "base/base.h"
#include "flow_graph.h"
#include "html_page.h"
#include "model_report.h"
#include "report.h"

/* ---- the page ------------------------------------------------------------------ */

/* Only the page's own script runs (by its hash) and compiles the model it
 * carries ('wasm-unsafe-eval'); nothing is fetched; styles stay inline. */
#define REPORT_CSP "default-src 'none'; script-src 'sha256-" ASSET_REPORT_JS_SHA256 "' " \
		   "'wasm-unsafe-eval'; style-src 'unsafe-inline'; base-uri 'none'; " \
		   "form-action 'none'"

void html_page_start(FILE *o, const char *kind, const char *title, const char *csp,
		     const char *state)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n", o);
	if (csp)
		fprintf(o, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", csp);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"flowprof\">\n<title>", o);
	fputs(kind, o);
	html_text(o, title);
	fputs("</title>\n<style>\n", o);
	fwrite(asset_report_css, 1, sizeof(asset_report_css), o);
	fprintf(o, "</style></head>\n<body data-state=\"%s\">\n", state);
}

static void put_header(FILE *o, const struct snapshot *s)
{
	char d[UNITS_BUF];

	fputs("<header><h1>flowprof report</h1><p class=\"meta\">", o);
	fputs(s->n_hosts > 1 ? "hosts " : "host ", o);
	html_text(o, s->host);
	if (s->nproc > 0)
		fprintf(o, " (%d CPUs)", s->nproc);
	fputs(" &middot; kernel ", o);
	html_text(o, s->kernel);
	fputs(" &middot; recorded ", o);
	html_text(o, s->started_at);
	fprintf(o, " for %s", units_duration(d, sizeof(d), s->duration_s * 1e9, false));
	if (s->attach_mode) {
		fputs(" &middot; attach mode ", o);
		html_text(o, s->attach_mode);
	}
	if (s->flow_file) {
		fputs(" &middot; flow file ", o);
		html_text(o, s->flow_file);
	}
	fputs("</p></header>\n", o);
}

static void put_settings(FILE *o)
{
	fputs("<section id=\"settings\"><h2>Throughput settings</h2>\n"
	      "<p class=\"hint\">Move a slider, or type a value: the page reruns flowprof's own "
	      "model (user/model/model.c, compiled to WebAssembly) and updates the utilizations, "
	      "the bottleneck, the graph and the predicted response times. The same numbers come "
	      "from <code id=\"cmdline\"></code></p>\n"
	      "<div class=\"controls\"><fieldset id=\"flow-controls\"><legend>Flow rates "
	      "(per second)</legend></fieldset>\n"
	      "<fieldset id=\"bundle-controls\"><legend>Instances &times; workers per bundle"
	      "</legend></fieldset></div>\n"
	      "<p><button type=\"button\" id=\"reset\">Back to the measured load</button> "
	      "<span id=\"status\">loading the model&hellip;</span></p>\n"
	      "<p id=\"model-error\" class=\"error\" hidden></p>\n</section>\n"
	      "<section id=\"summary\"><h2>Bottleneck</h2><div id=\"summary-body\"></div>"
	      "</section>\n", o);
}

static void put_graph(FILE *o, const char *svg, const char *why)
{
	fputs("<section id=\"graph\"><h2>Flow graph</h2>\n"
	      "<p class=\"hint\">Handlers grouped by bundle; each edge shows the calls of the callee "
	      "per call of the caller, as measured; nodes are coloured by the utilization of their "
	      "station at the settings above; the bottleneck has a thick red border.</p>\n"
	      "<div class=\"svg-box\">", o);
	if (svg)
		fputs(svg, o); /* Graphviz escaped every label (&, <, >) */
	else {
		fputs("<p class=\"error\">", o);
		html_text(o, why);
		fputs("; the DOT text is in flowprof report --dot.</p>", o);
	}
	fputs("</div>\n<p class=\"legend\">"
	      "<span style=\"background:#c8e6c9\">&lt; 50%</span>"
	      "<span style=\"background:#fff59d\">50&ndash;70%</span>"
	      "<span style=\"background:#ffe082\">70&ndash;90%</span>"
	      "<span style=\"background:#ffab91\">90&ndash;100%</span>"
	      "<span style=\"background:#e57373\">over capacity</span>"
	      "<span class=\"bn\">bottleneck</span></p>\n</section>\n", o);
}

static void put_dynamic_tables(FILE *o)
{
	fputs("<section id=\"stations\"><h2>Stations</h2>\n<table id=\"stations-table\"><thead><tr>"
	      "<th>station</th><th>kind</th><th>servers</th><th>utilization</th><th>wait per visit"
	      "</th><th>servers for the limit</th></tr></thead><tbody></tbody></table></section>\n"
	      "<section id=\"flows\"><h2>Flows at the settings</h2>\n<table id=\"flows-table\"><thead>"
	      "<tr><th>flow</th><th>rate</th><th>max rate (this mix)</th><th>max rate (alone)</th>"
	      "<th>predicted mean</th><th>p95</th><th>p99</th><th></th></tr></thead><tbody></tbody>"
	      "</table></section>\n", o);
}

static void put_handlers_table(FILE *o, const struct snapshot *s, const struct model *m)
{
	char c[8][UNITS_BUF];

	fputs("<section id=\"handlers\"><h2>Handlers, as measured</h2>\n<table><thead><tr>"
	      "<th>handler</th><th>calls</th><th>rate</th><th>mean</th><th>p50</th><th>p99</th>"
	      "<th>max</th><th>self mean</th><th>on-CPU</th><th>mean without probe cost</th>"
	      "<th>probe site</th></tr></thead><tbody>\n", o);
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *hd = &s->handlers[i];
		struct handler_summary sum;
		bool any = hd->calls > 0;

		snapshot_summarize(hd, &sum);
		fputs("<tr><td class=\"name\" title=\"", o);
		html_text(o, hd->symbol);
		fputs(" in ", o);
		html_text(o, hd->binary);
		fputs("\">", o);
		html_text(o, hd->id);
		fprintf(o, "</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			"<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
			(unsigned long long)hd->calls,
			units_rate(c[0], sizeof(c[0]), s->duration_s > 0 ? (double)hd->calls /
								     s->duration_s : NAN),
			units_duration(c[1], sizeof(c[1]), any ? sum.mean_ns : NAN, false),
			units_duration(c[2], sizeof(c[2]), any ? sum.p50_ns : NAN, false),
			units_duration(c[3], sizeof(c[3]), any ? sum.p99_ns : NAN, false),
			units_duration(c[4], sizeof(c[4]), any ? (double)hd->max_ns : NAN, false),
			units_duration(c[5], sizeof(c[5]), any ? sum.self_mean_ns : NAN, false),
			units_percent(c[6], sizeof(c[6]), any && sum.mean_ns > 0
						  ? sum.oncpu_mean_ns / sum.mean_ns : NAN),
			units_duration(c[7], sizeof(c[7]), any && i < m->n_handlers
						   ? m->handlers[i].mean_ns : NAN, false));
		html_text(o, hd->site_class);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table></section>\n", o);
}

/* One handler's latency histogram: a bar per log-linear bucket on a log2
 * time axis, with the p50 and p99 marked. */
static void put_histogram(FILE *o, const struct snap_handler *hd)
{
	const double W = 360, H = 110, L = 8, R = 8, T = 8, B = 30;
	unsigned int first, last;
	uint64_t top = 0;
	double x0, x1, xs;
	struct handler_summary sum;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];

	fputs("<figure class=\"hist\"><figcaption>", o);
	html_text(o, hd->id);
	if (!hist_range(hd->hist, &first, &last)) {
		fputs(" &middot; no calls</figcaption></figure>\n", o);
		return;
	}
	snapshot_summarize(hd, &sum);
	fprintf(o, " &middot; %llu calls &middot; p50 %s &middot; p99 %s</figcaption>\n",
		(unsigned long long)hd->calls, units_duration(a, sizeof(a), sum.p50_ns, false),
		units_duration(b, sizeof(b), sum.p99_ns, false));
	for (unsigned int k = first; k <= last; k++)
		if (hd->hist[k] > top)
			top = hd->hist[k];
	x0 = log2((double)(hist_bucket_lower(first) ? hist_bucket_lower(first) : 1));
	x1 = log2((double)hist_bucket_upper(last));
	xs = (W - L - R) / (x1 > x0 ? x1 - x0 : 1);
	fprintf(o, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n",
		W, H, W, H);
	for (unsigned int k = first; k <= last; k++) {
		double lo = log2((double)(hist_bucket_lower(k) ? hist_bucket_lower(k) : 1));
		double hi = log2((double)hist_bucket_upper(k));
		double bh = top ? (H - T - B) * (double)hd->hist[k] / (double)top : 0;

		if (!hd->hist[k])
			continue;
		fprintf(o, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><title>%s to %s: "
			"%llu calls</title></rect>\n", L + (lo - x0) * xs, H - B - bh,
			fmax(0.8, (hi - lo) * xs - 0.3), bh,
			units_duration(a, sizeof(a), (double)hist_bucket_lower(k), false),
			units_duration(c, sizeof(c), (double)hist_bucket_upper(k), false),
			(unsigned long long)hd->hist[k]);
	}
	for (int q = 0; q < 2; q++) {
		double v = q ? sum.p99_ns : sum.p50_ns;
		double x = L + (log2(fmax(v, 1)) - x0) * xs;

		fprintf(o, "<line class=\"%s\" x1=\"%.2f\" x2=\"%.2f\" y1=\"%.0f\" y2=\"%.0f\"/>"
			"<text x=\"%.2f\" y=\"%.0f\" class=\"%s\">%s</text>\n", q ? "p99" : "p50",
			x, x, T, H - B, x + 2, T + 8 + q * 10, q ? "p99" : "p50", q ? "p99" : "p50");
	}
	fprintf(o, "<line class=\"axis\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\"/>"
		"<text x=\"%.0f\" y=\"%.0f\">%s</text><text x=\"%.0f\" y=\"%.0f\" "
		"text-anchor=\"end\">%s</text></svg></figure>\n", L, W - R, H - B, H - B, L,
		H - B + 14, units_duration(a, sizeof(a), (double)hist_bucket_lower(first), false),
		W - R, H - B + 14, units_duration(b, sizeof(b), (double)hist_bucket_upper(last),
						  false));
}

/* The first screen of `flowprof report` (what it cannot vouch for, then the
 * answer), at the command line's settings: the page opens with it. */
static void put_summary(FILE *o, const struct snapshot *s, const struct model *m)
{
	struct report_opts ro = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *t = xopen_memstream(&text, &len);

	report_print_flags(t, s, m, &ro);
	report_print_summary(t, m, &ro);
	fclose(t);
	fputs("<section id=\"summary\"><h2>Summary</h2><pre>", o);
	html_pre_text(o, text[0] == '\n' ? text + 1 : text);
	fputs("</pre></section>\n", o);
	free(text);
}

/* The model as `flowprof report` prints it, for readers without JavaScript. */
static void put_noscript(FILE *o, const struct model *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *t = xopen_memstream(&text, &len);

	model_print(t, m, false);
	fclose(t);
	fputs("<noscript><section><h2>The model at the command line's settings</h2>"
	      "<p>The sliders need JavaScript; this is what flowprof report prints.</p><pre>", o);
	html_pre_text(o, text);
	fputs("</pre></section></noscript>\n", o);
	free(text);
}

/* "h3", "b0", "f1": the id of a node of the graph, as a JSON string. */
static json_object *node_id(char prefix, int i)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%c%d", prefix, i);
	return jo_str(buf);
}

/* A model option line "name value" (caller frees). */
static json_object *option_line(const char *name, double v)
{
	char *num = html_shortest(v), *line = xasprintf("%s %s", name, num);
	json_object *o = jo_str(line);

	free(num);
	free(line);
	return o;
}

/* Options of the command line that are not sliders, as model option lines. */
static json_object *base_options(const struct model_opts *o)
{
	json_object *arr = json_object_new_array();

	if (!o)
		return arr;
	if (o->scale > 0)
		json_object_array_add(arr, option_line("scale", o->scale));
	if (o->util_limit > 0)
		json_object_array_add(arr, option_line("util-limit", o->util_limit));
	if (o->n_users) {
		char *v = xstrdup("users "), *t;

		for (int i = 0; i < o->n_users; i++) {
			t = xasprintf("%s%s%d", v, i ? "," : "", o->users[i]);
			free(v);
			v = t;
		}
		json_object_array_add(arr, jo_str(v));
		free(v);
	}
	if (o->think_s > 0)
		json_object_array_add(arr, option_line("think", o->think_s));
	return arr;
}

/* What the script needs: names, node ids, the measured load, the starting
 * settings and the model input. */
static json_object *page_data(const struct snapshot *s, const struct model_opts *o,
			      const struct model *m, const struct model *plain,
			      const char *snapshot_name)
{
	json_object *d = json_object_new_object(), *arr, *init = json_object_new_object();
	json_object *tg = json_object_new_object(), *in = json_object_new_object();
	json_object *wk = json_object_new_object();
	char *input = html_model_input(s);
	int cpu = cpu_station(m);

	jo_add(d, "snapshot", jo_str(snapshot_name));
	jo_add(d, "model_input", jo_str(input));
	free(input);
	jo_add(d, "base_options", base_options(o));
	for (int i = 0; o && i < o->n_targets; i++)
		jo_add(tg, o->targets[i].flow, jo_num_exact(o->targets[i].rate_per_s));
	for (int i = 0; o && i < o->n_instances; i++)
		jo_add(in, o->instances[i].bundle, jo_int(o->instances[i].value));
	for (int i = 0; o && i < o->n_workers; i++)
		jo_add(wk, o->workers[i].bundle, jo_int(o->workers[i].value));
	jo_add(init, "target", tg);
	jo_add(init, "instances", in);
	jo_add(init, "workers", wk);
	jo_add(d, "initial", init);

	arr = json_object_new_array();
	for (int f = 0; f < m->n_flows; f++) {
		json_object *fo = json_object_new_object();

		jo_add(fo, "name", jo_str(m->flows[f].name));
		jo_add(fo, "node", node_id('f', f));
		jo_add(fo, "measured_rate_per_s", jo_num_exact(plain->flows[f].measured_rate_per_s));
		jo_add(fo, "max_rate_per_s", jo_num_exact(plain->flows[f].max_rate_per_s));
		json_object_array_add(arr, fo);
	}
	jo_add(d, "flows", arr);

	arr = json_object_new_array();
	for (int k = 0; k < plain->n_stations; k++) {
		const struct model_station *st = &plain->stations[k];
		json_object *bo;

		if (st->kind != STATION_POOL)
			continue;
		bo = json_object_new_object();
		jo_add(bo, "name", jo_str(st->name));
		jo_add(bo, "node", st->bundle >= 0 ? node_id('b', st->bundle) : NULL);
		jo_add(bo, "instances", jo_int(st->instances));
		jo_add(bo, "workers", jo_int(st->workers));
		jo_add(bo, "source", jo_str(st->servers_source));
		json_object_array_add(arr, bo);
	}
	jo_add(d, "bundles", arr);

	arr = json_object_new_array();
	for (int i = 0; i < m->n_handlers; i++) {
		json_object *ho = json_object_new_object();
		int k = station_shown_for_handler(m, i);

		jo_add(ho, "id", jo_str(m->handlers[i].id));
		jo_add(ho, "node", node_id('h', i));
		jo_add(ho, "station", k >= 0 ? jo_str(m->stations[k].name) : NULL);
		jo_add(ho, "station_kind",
		       k >= 0 ? jo_str(station_kind_name(m->stations[k].kind)) : NULL);
		json_object_array_add(arr, ho);
	}
	jo_add(d, "handlers", arr);

	arr = json_object_new_array();
	for (int b = 0; b < s->n_bundles; b++) {
		json_object *co = json_object_new_object();

		jo_add(co, "name", jo_str(s->bundles[b].name));
		jo_add(co, "node", node_id('b', b));
		json_object_array_add(arr, co);
	}
	jo_add(d, "clusters", arr);
	jo_add(d, "cpu", cpu >= 0 ? jo_str(m->stations[cpu].name) : NULL);
	return d;
}

/* The whole page, in memory. */
static char *page(const struct snapshot *s, const struct model_opts *o, const struct model *m,
		  const struct model *plain, const char *snapshot_name)
{
	char *buf = NULL, *dot_text, *svg;
	size_t len = 0;
	FILE *out = xopen_memstream(&buf, &len);
	char why[256] = "";
	json_object *data;

	dot_text = flow_graph_dot(s, m);
	svg = flow_graph_svg(dot_text, why, sizeof(why));
	free(dot_text);

	html_page_start(out, "flowprof report: ", s->host, REPORT_CSP, "loading");
	put_header(out, s);
	put_summary(out, s, m);
	put_settings(out);
	put_graph(out, svg, why);
	put_dynamic_tables(out);
	fputs("<section id=\"notes\"><h2>What the model says about itself</h2>"
	      "<ul id=\"notes-list\"></ul></section>\n", out);
	put_handlers_table(out, s, m);
	fputs("<section id=\"histograms\"><h2>Latency histograms</h2>\n<p class=\"hint\">Inclusive "
	      "durations, probe cost included, on a logarithmic time axis: one bar per bucket of "
	      "flowprof's log-linear histogram (16 per power of two).</p><div class=\"hists\">\n",
	      out);
	for (int i = 0; i < s->n_handlers; i++)
		put_histogram(out, &s->handlers[i]);
	fputs("</div></section>\n<details id=\"model-json-box\"><summary>The model's numbers as "
	      "JSON (the fields of report --json's \"model\")</summary><pre id=\"model-json\"></pre>"
	      "</details>\n", out);
	put_noscript(out, m);

	data = page_data(s, o, m, plain, snapshot_name);
	fputs("<script type=\"application/json\" id=\"fp-data\">", out);
	{
		char *json = jo_to_string(data, false);

		json_put_script_safe(out, json);
		free(json);
	}
	json_object_put(data);
	fputs("</script>\n<script type=\"text/plain\" id=\"fp-wasm\">", out);
	{
		static const char tab[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const unsigned char *p = asset_model_wasm;
		size_t n = sizeof(asset_model_wasm);

		for (size_t i = 0; i < n; i += 3) {
			unsigned int v = (unsigned int)p[i] << 16 |
					 (i + 1 < n ? (unsigned int)p[i + 1] << 8 : 0) |
					 (i + 2 < n ? p[i + 2] : 0);

			fputc(tab[v >> 18 & 63], out);
			fputc(tab[v >> 12 & 63], out);
			fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', out);
			fputc(i + 2 < n ? tab[v & 63] : '=', out);
			if (i % 57 == 54)
				fputc('\n', out);
		}
	}
	/* nothing between the tags but the script: its hash is in the CSP */
	fputs("</script>\n<script>", out);
	fwrite(asset_report_js, 1, sizeof(asset_report_js), out);
	fputs("</script>\n</body></html>\n", out);
	fclose(out);
	free(svg);
	return buf;
}

int html_report_write(const struct snapshot *s, const struct model_opts *o,
		      const char *snapshot_path, const char *path, char *err, size_t errlen)
{
	struct model m, plain;
	struct model_opts none = { 0 };
	char *doc;
	int rc = -1;

	if (model_build(s, o, &m, err, errlen))
		return -1;
	if (model_build(s, &none, &plain, err, errlen)) {
		model_free(&m);
		return -1;
	}
	doc = page(s, o, &m, &plain, snapshot_path ? snapshot_path : "SNAPSHOT");
	if (write_file_atomic(path, doc, strlen(doc), 0600))
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	else
		rc = 0;
	free(doc);
	model_free(&plain);
	model_free(&m);
	return rc;
}

int dot_write(const struct snapshot *s, const struct model_opts *o, const char *path, char *err,
	      size_t errlen)
{
	struct model m;
	char *text;
	int rc = -1;

	if (model_build(s, o, &m, err, errlen))
		return -1;
	text = flow_graph_dot(s, &m);
	if (write_file_atomic(path, text, strlen(text), 0600))
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	else
		rc = 0;
	free(text);
	model_free(&m);
	return rc;
}
