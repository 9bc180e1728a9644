// SPDX-License-Identifier: MIT
/*
 * The flow graph of the HTML report, and of --dot: see flow_graph.h. The
 * DOT text is built here; Graphviz (libgvc, loaded by graphviz_lazy.c)
 * lays it out as SVG.
 */
#include "flow_graph.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <graphviz/gvc.h>

#include "base/base.h"
#include "html_page.h"
#include "model_report.h"

/* Utilization classes, as the page's legend and script colour them. */
static const char *util_fill(double u)
{
	if (!isfinite(u))
		return "#eeeeee";
	if (u >= 1)
		return "#e57373";
	if (u >= 0.9)
		return "#ffab91";
	if (u >= 0.7)
		return "#ffe082";
	if (u >= 0.5)
		return "#fff59d";
	return "#c8e6c9";
}

int cpu_station(const struct model *m)
{
	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_CPU)
			return k;
	return -1;
}

/* Calls of the callee per call of the caller, as a label. */
static char *ratio_label(double v)
{
	if (!isfinite(v))
		return xstrdup("?");
	return v >= 0.1 ? xasprintf("%.2f", v) : xasprintf("%.2g", v);
}

static bool edge_observed(const struct snapshot *s, const char *from, const char *to)
{
	for (int i = 0; i < s->n_edges; i++)
		if (s->edges[i].calls && !strcmp(s->edges[i].from, from) && !strcmp(s->edges[i].to, to))
			return true;
	return false;
}

char *flow_graph_dot(const struct snapshot *s, const struct model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = xopen_memstream(&buf, &len);
	int cpu = cpu_station(m);
	char d1[UNITS_BUF], d2[UNITS_BUF];

	fputs("digraph flowprof {\n"
	      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11, nodesep=0.25, ranksep=0.55,"
	      " bgcolor=\"transparent\", pad=0.15];\n"
	      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10,"
	      " color=\"#546e7a\", fillcolor=\"#eeeeee\"];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#546e7a\"];\n", o);
	for (int b = 0; b < s->n_bundles; b++) {
		const char *bn = s->bundles[b].name ? s->bundles[b].name : "";
		int st = -1;

		for (int k = 0; k < m->n_stations; k++)
			if (m->stations[k].bundle == b && m->stations[k].kind != STATION_LOCK)
				st = k;
		fprintf(o, "  subgraph cluster_%d {\n    id=\"b%d\"; style=\"rounded\"; "
			"color=\"#90a4ae\"; fontsize=11; label=\"", b, b);
		dot_text(o, bn);
		if (st >= 0)
			fprintf(o, " \xc2\xb7 %s", units_percent(d1, sizeof(d1), m->stations[st].utilization));
		fputs("\";\n", o);
		for (int i = 0; i < s->n_handlers; i++) {
			const struct snap_handler *hd = &s->handlers[i];
			const char *id = hd->id ? hd->id : "", *name = id;
			size_t bl = strlen(bn);
			int hs = station_shown_for_handler(m, i);
			bool bottleneck = m->bottleneck_handler == i;

			if (strcmp(hd->bundle ? hd->bundle : "", bn))
				continue;
			if (!strncmp(id, bn, bl) && id[bl] == '.' && id[bl + 1])
				name = id + bl + 1;
			fprintf(o, "    h%d [id=\"h%d\", label=\"", i, i);
			dot_text(o, name);
			fprintf(o, "\\n%s \xc2\xb7 %s\", tooltip=\"",
				units_rate(d1, sizeof(d1), s->duration_s > 0
						   ? (double)hd->calls / s->duration_s : NAN),
				units_duration(d2, sizeof(d2),
					       hd->calls ? (double)hd->total_ns / (double)hd->calls : NAN,
					       false));
			dot_text(o, id);
			fprintf(o, "\", fillcolor=\"%s\"%s];\n",
				hs >= 0 ? util_fill(m->stations[hs].utilization) : "#eeeeee",
				bottleneck ? ", penwidth=3, color=\"#b71c1c\"" : "");
		}
		fputs("  }\n", o);
	}
	for (int f = 0; f < s->n_flows; f++) {
		const struct snap_flow *fl = &s->flows[f];
		int e = -1;

		for (int i = 0; i < s->n_handlers; i++)
			if (fl->entry && s->handlers[i].id && !strcmp(fl->entry, s->handlers[i].id))
				e = i;
		fprintf(o, "  f%d [id=\"f%d\", shape=cds, style=filled, fillcolor=\"#e3f2fd\", "
			"label=\"", f, f);
		dot_text(o, fl->name);
		fprintf(o, "\\n%s\"];\n", units_rate(d1, sizeof(d1), f < m->n_flows
							       ? m->flows[f].rate_per_s : NAN));
		if (e >= 0)
			fprintf(o, "  f%d -> h%d [style=dashed, arrowhead=vee];\n", f, e);
	}
	for (int i = 0; i < s->n_edges; i++) {
		const struct snap_edge *ed = &s->edges[i];
		const struct snap_handler *from = snapshot_handler(s, ed->from);
		const struct snap_handler *to = snapshot_handler(s, ed->to);
		char *r;

		if (!from || !to || !ed->calls)
			continue;
		r = ratio_label(from->calls ? (double)ed->calls / (double)from->calls : NAN);
		fprintf(o, "  h%d -> h%d [id=\"e%d\", label=\"%s%s\"%s];\n",
			(int)(from - s->handlers), (int)(to - s->handlers), i, r,
			ed->declared ? "" : " (not declared)",
			ed->declared ? "" : ", color=\"#ef6c00\", fontcolor=\"#ef6c00\"");
		free(r);
	}
	/* declared calls that never ran nested: asynchronous, or not seen */
	for (int f = 0; f < s->n_flows; f++) {
		for (int d = 0; d < s->flows[f].n_declared; d++) {
			const struct snap_edge *de = &s->flows[f].declared[d];
			const struct snap_handler *from = snapshot_handler(s, de->from);
			const struct snap_handler *to = snapshot_handler(s, de->to);
			bool dup = false;

			if (!from || !to || edge_observed(s, de->from, de->to))
				continue;
			for (int g = 0; g <= f && !dup; g++)
				for (int k = 0; k < (g == f ? d : s->flows[g].n_declared) && !dup; k++)
					dup = !strcmp(s->flows[g].declared[k].from, de->from) &&
					      !strcmp(s->flows[g].declared[k].to, de->to);
			if (dup)
				continue;
			fprintf(o, "  h%d -> h%d [style=dashed, label=\"%s\", color=\"#90a4ae\", "
				"fontcolor=\"#607d8b\"];\n", (int)(from - s->handlers),
				(int)(to - s->handlers), de->async ? "async" : "declared, not seen");
		}
	}
	if (cpu >= 0)
		fprintf(o, "  cpu [id=\"cpu\", shape=box3d, style=filled, label=\"CPUs: %d\\n%s\", "
			"fillcolor=\"%s\"%s];\n", m->stations[cpu].servers,
			units_percent(d1, sizeof(d1), m->stations[cpu].utilization),
			util_fill(m->stations[cpu].utilization),
			m->bottleneck == cpu ? ", penwidth=3, color=\"#b71c1c\"" : "");
	fputs("}\n", o);
	fclose(o);
	return buf;
}

char *flow_graph_svg(const char *dot, char *err, size_t errlen)
{
	GVC_t *gvc = gvContext();
	Agraph_t *g = NULL;
	char *data = NULL, *svg = NULL;
	unsigned int len = 0;

	agseterr(AGERR); /* warnings would only repeat what the page shows */
	g = agmemread(dot);
	if (!g || gvLayout(gvc, g, "dot")) {
		snprintf(err, errlen, "Graphviz could not lay out the flow graph");
		goto out;
	}
	if (gvRenderData(gvc, g, "svg", &data, &len) || !data) {
		snprintf(err, errlen, "Graphviz could not render SVG (is its core plugin installed?)");
		gvFreeLayout(gvc, g);
		goto out;
	}
	{
		const char *start = strstr(data, "<svg");

		svg = xstrdup(start ? start : data);
	}
	gvFreeRenderData(data);
	gvFreeLayout(gvc, g);
out:
	if (g)
		agclose(g);
	gvFreeContext(gvc);
	return svg;
}
