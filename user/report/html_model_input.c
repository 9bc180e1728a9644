// SPDX-License-Identifier: MIT
/*
 * The model input text: the snapshot as the HTML page hands it to its
 * WebAssembly model, whose reader is user/wasm/model_input_reader.c. It
 * carries every field of the snapshot that user/model/ reads, so that the
 * page's figures equal `report --json`'s for the same settings;
 * tests/unit/test_model_input.c holds the writer and the reader to each
 * other and to the model.
 *
 * Version 6 (version 1 lacked the per-call probe correction, the CPU
 * station's inputs, the concurrency histograms and remote waits, so the
 * page's model silently disagreed with the CLI's; 5 adds the flows' own
 * arrivals, 6 the bundles' wake-ups; user/wasm/wasm.h's
 * MODEL_INPUT_VERSION). One record per line,
 * fields separated by one space, strings %-encoded (bytes <= 0x20, '%',
 * >= 0x7f; "%N" is NULL, and "" travels as NULL), doubles in C's exact
 * hexadecimal form (%a), the sum of squares as a long double (%La):
 *
 *   flowprof-model-input 8                                        (first line)
 *   snapshot DURATION_S NPROC PROBE_COST_NS N_HOSTS HOST_CPU_MEASURED HOST_CPU_S
 *            CALIB_ROUNDS BUNDLE_CPUS_BUSY_MEASURED BUNDLE_CPUS_BUSY_S
 *   probe_cost CLASS MEASURED PER_CALL_NS IN_WINDOW_NS             (CLASS 0..3)
 *   probe_slot SLOT MEASURED HIT_NS IN_WINDOW_NS JITTER_NS FIRST_HIT_NS
 *              IN_WINDOW_JITTER_NS BEHAVES_AS                     (SLOT 0..15)
 *   handler ID BUNDLE SYMBOL BINARY SITE_CLASS SERIAL ENTRIES CALLS INCOMPLETE
 *           MIN_NS MAX_NS TOTAL_NS SELF_NS ONCPU_NS ONCPU_MEASURED
 *           PROBE_COST_NS INFLIGHT_MEAN SUMSQ_NS2 UNWOUND PROBE_MEASURED
 *           PROBE_NS SELF_PROBE_NS NESTED_CALLS PROBE_CPU_MEASURED
 *           PROBE_CPU_NS ARRIVAL_MEASURED ARRIVAL_CALLS ARRIVAL_NS
 *           ARRIVAL_PROBE_NS ARRIVAL_SELF_NS ARRIVAL_SELF_PROBE_NS
 *           ENTRY_SITE EXIT_SITE
 *           N [BUCKET COUNT]...
 *   edge EDGE
 *   flow NAME ENTRY INVOCATIONS N [HANDLER CALLS]... M [EDGE]...
 *   bundle NAME N_PIDS THREADS INSTANCES WORKERS SERIAL CPU_MEASURED CPU_S
 *          CPUS CPUS_SOURCE UNPROBED_MEASURED UNPROBED_S UNPROBED_CPU_S
 *          LATE_CALLS LATE_S COUNTED_CALLS COUNTED_WINDOW_CALLS COUNTED_S
 *          COUNTED_CPU_S COUNTED_PROBE_S
 *          CONC_MEASURED LIVE_MAX INFLIGHT_MAX
 *          N [LEVEL LIVE_NS INFLIGHT_NS]... PID_THREADS [THREADS]...
 *          SLEEPS UNPROBED_SLEEPS WAKE_MEASURED [PERIODS CALLS CPU_NS PROBE_NS]...
 *          (PID_THREADS 0: not known, else N_PIDS counts follow;
 *          WAKE_MEASURED 1: SNAP_WAKE_BUCKETS groups of four follow)
 *   end
 *
 * where EDGE is FROM TO CALLS DECLARED ASYNC WAITS, for observed edges and
 * a flow's declared calls alike. Histograms (N [BUCKET COUNT]) and
 * concurrency levels are sparse: only the non-zero ones travel.
 *
 * What does not travel, because the model does not read it: the version,
 * host, kernel, start time, attach mode and times, flow file, kernel
 * counters, the hosts' details (their count travels), per-process
 * instances, a bundle's pids (their count travels) and per-process hosts, a handler's site_classes and exits_fallback. The test strips
 * exactly these before comparing, so a new field must be carried or named
 * there.
 */
#include "html_report.h"

#include <stdio.h>

#include "base/base.h"
#include "wasm/wasm.h"

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

/* One edge, the same for observed edges and a flow's declared calls, so
 * that what one carries the other does too (the model reads waits from
 * both). */
static void wire_edge(FILE *o, const struct snap_edge *e)
{
	wire_name(o, e->from);
	wire_name(o, e->to);
	fprintf(o, " %llu %d %d %d", (unsigned long long)e->calls, e->declared, e->async,
		e->waits);
}

static void wire_handler(FILE *o, const struct snap_handler *hd)
{
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
	fprintf(o, " %llu %d %llu %llu %llu %d %llu", (unsigned long long)hd->unwound,
		hd->probe_measured, (unsigned long long)hd->probe_ns,
		(unsigned long long)hd->self_probe_ns, (unsigned long long)hd->nested_calls,
		hd->probe_cpu_measured, (unsigned long long)hd->probe_cpu_ns);
	fprintf(o, " %d %llu %llu %llu %llu %llu", hd->arrival_measured,
		(unsigned long long)hd->arrival.calls, (unsigned long long)hd->arrival.ns,
		(unsigned long long)hd->arrival.probe_ns, (unsigned long long)hd->arrival.self_ns,
		(unsigned long long)hd->arrival.self_probe_ns);
	wire_name(o, hd->entry_site);
	wire_name(o, hd->exit_site);
	for (int b = 0; b < HIST_BUCKETS; b++)
		n += hd->hist[b] != 0;
	fprintf(o, " %d", n);
	for (int b = 0; b < HIST_BUCKETS; b++)
		if (hd->hist[b])
			fprintf(o, " %d %llu", b, (unsigned long long)hd->hist[b]);
	fputc('\n', o);
}

static void wire_bundle(FILE *o, const struct snap_bundle *b)
{
	int n = 0;

	fputs("bundle", o);
	wire_name(o, b->name);
	fprintf(o, " %d %d %d %d %d %d %a %a", b->n_pids, b->threads, b->instances, b->workers,
		b->serial, b->cpu_measured, b->cpu_s, b->cpus);
	wire_name(o, b->cpus_source);
	fprintf(o, " %d %a %a %llu %a %llu %llu %a %a %a", b->unprobed_measured, b->unprobed_s,
		b->unprobed_cpu_s, (unsigned long long)b->late_calls, b->late_s,
		(unsigned long long)b->counted_calls, (unsigned long long)b->counted_window_calls,
		b->counted_s, b->counted_cpu_s, b->counted_probe_s);
	fprintf(o, " %d %d %d", b->conc_measured, b->live_max, b->inflight_max);
	for (int k = 0; k < SNAP_CONC_LEVELS; k++)
		n += b->live_ns[k] || b->inflight_ns[k];
	fprintf(o, " %d", n);
	for (int k = 0; k < SNAP_CONC_LEVELS; k++)
		if (b->live_ns[k] || b->inflight_ns[k])
			fprintf(o, " %d %llu %llu", k, (unsigned long long)b->live_ns[k],
				(unsigned long long)b->inflight_ns[k]);
	fprintf(o, " %d", b->pid_threads ? 1 : 0);
	for (int i = 0; b->pid_threads && i < b->n_pids; i++)
		fprintf(o, " %d", b->pid_threads[i]);
	fprintf(o, " %llu %llu %d", (unsigned long long)b->sleeps,
		(unsigned long long)b->unprobed_sleeps, b->wake.measured);
	for (int k = 0; b->wake.measured && k < SNAP_WAKE_BUCKETS; k++)
		fprintf(o, " %llu %llu %llu %llu", (unsigned long long)b->wake.periods[k],
			(unsigned long long)b->wake.calls[k], (unsigned long long)b->wake.cpu_ns[k],
			(unsigned long long)b->wake.probe_ns[k]);
	fputc('\n', o);
}

char *html_model_input(const struct snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = xopen_memstream(&buf, &len);

	fprintf(o, "flowprof-model-input %d\n", MODEL_INPUT_VERSION);
	fprintf(o, "snapshot %a %d %a %d %d %a %d %d %a\n", s->duration_s, s->nproc,
		s->probe_cost_ns, s->n_hosts, s->host_cpu_measured, s->host_cpu_s, s->calib_rounds,
		s->bundle_cpus_busy_measured, s->bundle_cpus_busy_s);
	for (int c = 0; c < SNAP_SITE_CLASSES; c++)
		fprintf(o, "probe_cost %d %d %a %a\n", c, s->probe_cost[c].measured,
			s->probe_cost[c].per_call_ns, s->probe_cost[c].in_window_ns);
	/* every slot, used or not, so that the page's calibration is the
	 * snapshot's whatever a slot holds */
	for (int k = 0; k < SNAP_SLOTS; k++) {
		const struct snap_slot_cost *c = &s->probe_slots[k];

		fprintf(o, "probe_slot %d %d %a %a %a %a %a", k, c->measured, c->hit_ns,
			c->in_window_ns, c->jitter_ns, c->first_hit_ns, c->in_window_jitter_ns);
		wire_name(o, c->behaves_as);
		fputc('\n', o);
	}
	for (int i = 0; i < s->n_handlers; i++)
		wire_handler(o, &s->handlers[i]);
	for (int i = 0; i < s->n_edges; i++) {
		fputs("edge", o);
		wire_edge(o, &s->edges[i]);
		fputc('\n', o);
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
		for (int d = 0; d < f->n_declared; d++)
			wire_edge(o, &f->declared[d]);
		fputc('\n', o);
	}
	for (int i = 0; i < s->n_bundles; i++)
		wire_bundle(o, &s->bundles[i]);
	fputs("end\n", o);
	fclose(o);
	return buf;
}
