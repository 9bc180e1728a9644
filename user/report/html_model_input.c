// SPDX-License-Identifier: MIT
/*
 * The model input text: the snapshot as the HTML page hands it to its
 * WebAssembly model, whose reader is user/wasm/model_input_reader.c. The
 * format is described in html_report.h; tests/unit/test_model_input.c
 * holds the writer and the reader to each other.
 */
#include "html_report.h"

#include <stdio.h>

#include "base/base.h"

/* A %-encoded string: bytes <= 0x20, '%' and >= 0x7f as %XX, so that a
 * field never holds a space or a newline; NULL as "%N". */
static void wire_str(FILE *o, const char *s)
{
	if (!s) {
		fputs(" %N", o);
		return;
	}
	fputc(' ', o);
	if (!*s)
		return; /* never happens for names; an empty field would shift the rest */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == '%' || *p >= 0x7f)
			fprintf(o, "%%%02X", *p);
		else
			fputc(*p, o);
	}
}

/* Strings are never empty on the wire: "" travels as NULL (the model treats
 * both alike). */
static void wire_name(FILE *o, const char *s)
{
	wire_str(o, s && *s ? s : NULL);
}

char *html_model_input(const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = xopen_memstream(&buf, &len);

	fprintf(o, "flowprof-model-input 1\n");
	fprintf(o, "snapshot %a %d %a %d\n", s->duration_s, s->nproc, s->probe_cost_ns, s->n_hosts);
	for (int c = 0; c < 4; c++)
		fprintf(o, "probe_cost %d %d %a %a\n", c, s->probe_cost[c].measured,
			s->probe_cost[c].per_call_ns, s->probe_cost[c].in_window_ns);
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *hd = &s->handlers[i];
		int n = 0;

		fputs("handler", o);
		wire_name(o, hd->id);
		wire_name(o, hd->bundle);
		wire_name(o, hd->symbol);
		wire_name(o, hd->binary);
		wire_name(o, hd->site_class);
		fprintf(o, " %d %llu %llu %llu %llu %llu %llu %llu %llu %d %a %a %La", hd->serial,
			(unsigned long long)hd->entries, (unsigned long long)hd->calls,
			(unsigned long long)hd->incomplete, (unsigned long long)hd->min_ns,
			(unsigned long long)hd->max_ns, (unsigned long long)hd->total_ns,
			(unsigned long long)hd->self_ns, (unsigned long long)hd->oncpu_ns,
			hd->oncpu_measured, hd->probe_cost_ns, hd->inflight_mean, hd->sumsq_ns2);
		for (int b = 0; b < HIST_BUCKETS; b++)
			n += hd->hist[b] != 0;
		fprintf(o, " %d", n);
		for (int b = 0; b < HIST_BUCKETS; b++)
			if (hd->hist[b])
				fprintf(o, " %d %llu", b, (unsigned long long)hd->hist[b]);
		fputc('\n', o);
	}
	for (int i = 0; i < s->n_edges; i++) {
		fputs("edge", o);
		wire_name(o, s->edges[i].from);
		wire_name(o, s->edges[i].to);
		fprintf(o, " %llu %d %d\n", (unsigned long long)s->edges[i].calls,
			s->edges[i].declared, s->edges[i].async);
	}
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_flow *f = &s->flows[i];

		fputs("flow", o);
		wire_name(o, f->name);
		wire_name(o, f->entry);
		fprintf(o, " %llu %d", (unsigned long long)f->invocations, f->n_visits);
		for (int v = 0; v < f->n_visits; v++) {
			wire_name(o, f->visits[v].handler);
			fprintf(o, " %llu", (unsigned long long)f->visits[v].calls);
		}
		fprintf(o, " %d", f->n_declared);
		for (int d = 0; d < f->n_declared; d++) {
			wire_name(o, f->declared[d].from);
			wire_name(o, f->declared[d].to);
			fprintf(o, " %d", f->declared[d].async);
		}
		fputc('\n', o);
	}
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];

		fputs("bundle", o);
		wire_name(o, b->name);
		fprintf(o, " %d %d %d %d %d\n", b->n_pids, b->threads, b->instances, b->workers,
			b->serial);
	}
	fputs("end\n", o);
	fclose(o);
	return buf;
}
