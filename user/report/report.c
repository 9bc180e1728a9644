// SPDX-License-Identifier: MIT
/* The readable report of a snapshot: see report.h. */
#include "report.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* ---- helpers ------------------------------------------------------------ */

static char *dur(double ns, const struct report_opts *o)
{
	char buf[UNITS_BUF];

	return xstrdup(units_duration(buf, sizeof(buf), ns, o->ascii));
}

static char *rate(double per_s)
{
	char buf[UNITS_BUF];

	return xstrdup(units_rate(buf, sizeof(buf), per_s));
}

static char *pct(double share)
{
	char buf[UNITS_BUF];

	return xstrdup(units_percent(buf, sizeof(buf), share));
}

/* Visits per invocation: two decimals, more digits only for small ratios. */
static char *ratio(double v)
{
	if (v == 0)
		return xstrdup("0");
	return v >= 0.1 ? xasprintf("%.2f", v) : xasprintf("%.2g", v);
}

static double per_second(uint64_t n, double duration_s)
{
	return duration_s > 0 ? (double)n / duration_s : NAN;
}

/* ---- sections ----------------------------------------------------------- */

/* The calibrated cost of a call's two probes per site class, what they cost
 * the service and the share of it inside the call's measured time: "13.0 µs
 * per call at nop5 sites (3.48 µs of it inside the measured time), 21.8 µs
 * at emulated (4.50 µs inside), ..."; false when none was measured. */
static bool print_probe_costs(FILE *out, const struct snapshot *s, const struct report_opts *o)
{
	char all[UNITS_BUF], in[UNITS_BUF];
	int n = 0;

	for (int c = 0; c < SNAP_SITE_CLASSES; c++) {
		const struct snap_probe_cost *pc = &s->probe_cost[c];

		if (!pc->measured)
			continue;
		if (!n)
			fputs("the probe's own cost, calibrated on the recording host:\n  ", out);
		units_duration(in, sizeof(in), pc->in_window_ns, o->ascii);
		if (pc->per_call_ns > 0)
			fprintf(out, "%s%s %s%s%s (%s%s)", n ? ", " : "",
				units_duration(all, sizeof(all), pc->per_call_ns, o->ascii),
				n ? "at " : "per call at ", snapshot_site_class_key[c],
				n ? "" : " sites", in,
				n ? " inside" : " of it inside the measured time");
		else /* an older snapshot: the share inside only */
			fprintf(out, "%s%s %s%s%s", n ? ", " : "", in,
				n ? "at " : "inside the measured time per call at ",
				snapshot_site_class_key[c], n ? "" : " sites");
		n++;
	}
	if (n)
		fputc('\n', out);
	return n > 0;
}

static void print_header(FILE *out, const struct snapshot *s, const struct report_opts *o)
{
	char *host = term_escape(s->host), *kernel = term_escape(s->kernel);
	char *started = term_escape(s->started_at), *mode = term_escape(s->attach_mode);
	char *flows = term_escape(s->flow_file);
	char d[UNITS_BUF], cost[UNITS_BUF];

	fprintf(out, "flowprof snapshot: %s %s", s->n_hosts > 1 ? "hosts" : "host", host);
	if (s->nproc > 0)
		fprintf(out, " (%d CPU%s%s)", s->nproc, s->nproc == 1 ? "" : "s",
			s->n_hosts > 1 ? " in all" : "");
	if (*kernel)
		fprintf(out, ", kernel %s", kernel);
	fprintf(out, "\nrecorded %s for %s", *started ? started : "(start time unknown)",
		units_duration(d, sizeof(d), s->duration_s * 1e9, o->ascii));
	if (*mode)
		fprintf(out, ", attach mode %s", mode);
	if (*flows)
		fprintf(out, ", flow file %s", flows);
	fputc('\n', out);
	/* Per site class when calibrated that way, else the one overall figure. */
	if (print_probe_costs(out, s, o))
		goto cleanup;
	if (s->probe_cost_ns > 0)
		fprintf(out, "the probe's own cost: about %s per call "
			"(calibrated on the recording host)\n",
			units_duration(cost, sizeof(cost), s->probe_cost_ns, o->ascii));
	else
		fputs("the probe's own cost: not calibrated in this recording (times include it)\n",
		      out);
cleanup:
	free(host);
	free(kernel);
	free(started);
	free(mode);
	free(flows);
}

/* Probe points of several classes (snapshot.h: site_classes)? */
static bool mixed_sites(const struct snap_handler *h)
{
	unsigned int m = h->site_classes & 0xeu;

	return (m & (m - 1)) != 0;
}

/* How the kernel was measured to treat a handler's exit, where that is a
 * site class other than its entry's: "single-step" for `ret` exits behind an
 * emulated `push` (the record's warning names them; SITE says the entry's
 * class). NULL for a uretprobe exit, an unmeasured slot, or the same class. */
static const char *exit_class_apart(const struct snapshot *s, const struct snap_handler *h)
{
	const struct snap_slot_cost *entry, *exit;
	const char *as;

	model_handler_slots(s, h, &entry, &exit);
	as = exit ? exit->behaves_as : NULL;
	if (!as || !strcmp(as, "uretprobe") || (h->site_class && !strcmp(as, h->site_class)))
		return NULL;
	return as;
}

static char *site_cell(const struct snapshot *s, const struct snap_handler *h)
{
	const char *exit = exit_class_apart(s, h);
	char *entry = mixed_sites(h) ? xstrdup("mixed")
				     : term_escape(h->site_class ? h->site_class : "unknown");
	char *cell;

	if (!exit)
		return entry;
	cell = xasprintf("%s, %s exit", entry, exit);
	free(entry);
	return cell;
}

/* The index of handler id in s, -1 if none. */
static int handler_index(const struct snapshot *s, const char *id)
{
	const struct snap_handler *h = snapshot_handler(s, id);

	return h ? (int)(h - s->handlers) : -1;
}

/*
 * Under the table: handlers that call themselves, through the nested calls
 * seen (nginx's ngx_http_handler, again through ngx_http_core_run_phases
 * on an internal redirect). An inclusive time holds its nested calls', so
 * such a handler's TOTAL counts a nested call's time again in the call
 * that holds it, and it can exceed its caller's.
 */
static void print_recursive(FILE *out, const struct snapshot *s)
{
	int n = s->n_handlers, listed = 0, more = 0;
	int *start = xcalloc((size_t)n + 2, sizeof(int)), *adj, *from = NULL, *to = NULL;
	int *parent = xcalloc((size_t)n + 1, sizeof(int)), *queue = xcalloc((size_t)n + 1, sizeof(int));

	from = xcalloc((size_t)s->n_edges + 1, sizeof(int));
	to = xcalloc((size_t)s->n_edges + 1, sizeof(int));
	for (int e = 0; e < s->n_edges; e++) {
		const struct snap_edge *ed = &s->edges[e];

		from[e] = ed->async || !ed->calls ? -1 : handler_index(s, ed->from);
		to[e] = from[e] < 0 ? -1 : handler_index(s, ed->to);
		if (from[e] >= 0 && to[e] >= 0)
			start[from[e] + 1]++;
	}
	for (int i = 0; i < n; i++)
		start[i + 1] += start[i];
	adj = xcalloc((size_t)start[n] + 1, sizeof(int));
	{
		int *fill = xcalloc((size_t)n + 1, sizeof(int));

		for (int e = 0; e < s->n_edges; e++)
			if (from[e] >= 0 && to[e] >= 0)
				adj[start[from[e]] + fill[from[e]]++] = to[e];
		free(fill);
	}
	for (int h = 0; h < n; h++) {
		int head = 0, tail = 0, back = -1;

		/* breadth first from h's callees until h comes back */
		for (int i = 0; i < n; i++)
			parent[i] = -2;
		for (int k = start[h]; k < start[h + 1] && back < 0; k++) {
			int c = adj[k];

			if (c == h)
				back = h;
			else if (parent[c] == -2)
				parent[c] = -1, queue[tail++] = c;
		}
		while (head < tail && back < 0) {
			int u = queue[head++];

			for (int k = start[u]; k < start[u + 1]; k++) {
				int c = adj[k];

				if (c == h) {
					back = u;
					break;
				}
				if (parent[c] == -2)
					parent[c] = u, queue[tail++] = c;
			}
		}
		if (back < 0)
			continue;
		if (listed == 5) {
			more++;
			continue;
		}
		if (!listed++)
			fputs("Recursive (a nested call's time counts again, in TOTAL, in the call that "
			      "holds it):", out);
		{
			char *id = term_escape(s->handlers[h].id);

			fprintf(out, "%s %s", listed > 1 ? "," : "", id);
			free(id);
		}
		if (back == h) {
			fputs(" (directly)", out);
		} else {
			/* the way back, outermost first: h -> ... -> back -> h */
			int path[16], np = 0;

			for (int u = back; u >= 0 && np < 16; u = parent[u])
				path[np++] = u;
			fputs(" (through", out);
			for (int i = np - 1; i >= 0; i--) {
				char *id = term_escape(s->handlers[path[i]].id);

				fprintf(out, " %s%s", id, i ? "," : "");
				free(id);
			}
			fputc(')', out);
		}
	}
	if (more)
		fprintf(out, " and %d more", more);
	if (listed)
		fputc('\n', out);
	free(start);
	free(adj);
	free(from);
	free(to);
	free(parent);
	free(queue);
}

/* Under the table: the classes of each handler whose SITE is "mixed". */
static void print_mixed_sites(FILE *out, const struct snap_handler *const *order, int n)
{
	bool any = false;

	for (int i = 0; i < n; i++) {
		const struct snap_handler *h = order[i];
		char *id;

		if (!mixed_sites(h))
			continue;
		if (!any)
			fputs("mixed: probe points of several site classes (each call is corrected by "
			      "the cost of the probes it met)\n", out);
		any = true;
		id = term_escape(h->id);
		fprintf(out, "  %s:", id);
		for (int c = 1, k = 0; c < SNAP_SITE_CLASSES; c++)
			if (h->site_classes & (1u << c))
				fprintf(out, "%s %s", k++ ? "," : "", snapshot_site_class_key[c]);
		fputc('\n', out);
		free(id);
	}
}

/* A time with its uncertainty when the model gives one: "3.27 ms ±1.2%". */
static char *dur_unc(double ns, double err, const struct report_opts *o)
{
	char d[UNITS_BUF], u[UNITS_BUF];

	units_duration(d, sizeof(d), ns, o->ascii);
	if (!isfinite(err))
		return xstrdup(d);
	return xasprintf("%s %s", d, units_uncertainty(u, sizeof(u), ns, err, o->ascii));
}

/* Sort key of the handler table: total time, corrected when m is given. */
struct handler_row {
	const struct snap_handler *h;
	const struct model_handler *mh; /* NULL: raw times */
	double total_ns;
};

static int by_total(const void *a, const void *b)
{
	const struct handler_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return strcmp(x->h->id ? x->h->id : "", y->h->id ? y->h->id : "");
}

static void print_handlers(FILE *out, const struct snapshot *s, const struct model *m,
			   const struct report_opts *o)
{
	static const char *const headers[] = { "HANDLER", "CALLS", "RATE", "MEAN", "P50", "P99",
					       "MAX", "SELF MEAN", "ON-CPU", "TOTAL",
					       "INCOMPLETE", "SITE" };
	static const bool right[] = { false, true, true, true, true, true,
				      true, true, true, true, true, false };
	struct table t = { .ncols = ARRAY_SIZE(headers), .headers = headers, .right = right };
	struct handler_row *rows = xcalloc((size_t)s->n_handlers + 1, sizeof(*rows));
	const struct snap_handler **order = xcalloc((size_t)s->n_handlers + 1, sizeof(*order));

	for (int i = 0; i < s->n_handlers; i++) {
		rows[i].h = &s->handlers[i];
		rows[i].mh = m && i < m->n_handlers && s->handlers[i].calls ? &m->handlers[i] : NULL;
		rows[i].total_ns = rows[i].mh ? rows[i].mh->mean_ns * (double)rows[i].h->calls
					      : (double)s->handlers[i].total_ns;
	}
	qsort(rows, (size_t)s->n_handlers, sizeof(*rows), by_total);
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = rows[i].h;
		const struct model_handler *mh = rows[i].mh;
		struct handler_summary sum;
		bool any = h->calls > 0;
		char *row[ARRAY_SIZE(headers)];

		order[i] = h;
		snapshot_summarize(h, &sum);
		row[0] = term_escape(h->id);
		row[1] = xasprintf("%llu", (unsigned long long)h->calls);
		row[2] = rate(per_second(h->calls, s->duration_s));
		if (!any) {
			for (int c = 3; c <= 7; c++)
				row[c] = xstrdup("-");
		} else if (mh) {
			row[3] = dur_unc(mh->mean_ns, mh->unc.mean_ns, o);
			row[4] = dur_unc(mh->p50_ns, mh->unc.p50_ns, o);
			row[5] = dur_unc(mh->p99_ns, mh->unc.p99_ns, o);
			row[6] = dur(mh->max_ns, o);
			row[7] = dur_unc(mh->self_ns, mh->unc.self_ns, o);
		} else {
			row[3] = dur(sum.mean_ns, o);
			row[4] = dur(sum.p50_ns, o);
			row[5] = dur(sum.p99_ns, o);
			row[6] = dur((double)h->max_ns, o);
			row[7] = dur(sum.self_mean_ns, o);
		}
		if (!h->oncpu_measured)
			row[8] = xstrdup("n/a");
		else if (mh && mh->mean_ns > 0 && isfinite(mh->oncpu_ns))
			row[8] = pct(mh->oncpu_ns / mh->mean_ns);
		else
			row[8] = h->total_ns ? pct((double)h->oncpu_ns / (double)h->total_ns)
					     : xstrdup("-");
		row[9] = dur(rows[i].total_ns, o);
		row[10] = xasprintf("%llu", (unsigned long long)h->incomplete);
		row[11] = site_cell(s, h);
		table_add(&t, row);
	}
	if (m)
		fprintf(out, "\nHandlers, by total time (corrected for the probe's own cost, %s about 95 %%; "
			"mean, percentiles and max are inclusive; self excludes nested handlers)\n",
			o->ascii ? "+-" : "±");
	else
		fputs("\nHandlers, by total time (raw: with the probe's own cost; mean, percentiles "
		      "and max are inclusive; self excludes nested handlers)\n", out);
	if (s->n_handlers) {
		table_print(out, &t);
		print_mixed_sites(out, order, s->n_handlers);
		print_recursive(out, s);
	} else {
		fputs("  (no handlers)\n", out);
	}
	table_free(&t);
	free(order);
	free(rows);
}

static void print_flows(FILE *out, const struct snapshot *s)
{
	if (!s->n_flows)
		return;
	fputs("\nFlows (visits: calls of each handler per invocation of the entry)\n", out);
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_flow *f = &s->flows[i];
		char *name = term_escape(f->name), *entry = term_escape(f->entry);
		char *r = rate(per_second(f->invocations, s->duration_s));
		static const char *const headers[] = { "  VISITS", "PER INVOCATION", "CALLS" };
		static const bool right[] = { false, true, true };
		struct table t = { .ncols = 3, .headers = headers, .right = right };

		const struct snap_handler *eh = snapshot_handler(s, f->entry);

		fprintf(out, "%s: entry %s, %llu invocation%s, %s", name, entry,
			(unsigned long long)f->invocations, f->invocations == 1 ? "" : "s", r);
		/* an entry also called inside other flows: the model's rate is
		 * its own arrivals', so say both here */
		if (eh && eh->arrival_measured && eh->arrival.calls < f->invocations) {
			char *own = rate(per_second(eh->arrival.calls, s->duration_s));

			fprintf(out, "; its own arrivals (called inside no flow): %llu, %s, the "
				"rest inside other flows", (unsigned long long)eh->arrival.calls, own);
			free(own);
		}
		fputc('\n', out);
		for (int k = 0; k < f->n_visits; k++) {
			const struct snap_visit *v = &f->visits[k];
			char *h = term_escape(v->handler);
			char *row[3];

			row[0] = xasprintf("  %s", h);
			row[1] = f->invocations ? ratio((double)v->calls / (double)f->invocations)
						: xstrdup("-");
			row[2] = xasprintf("%llu", (unsigned long long)v->calls);
			table_add(&t, row);
			free(h);
		}
		if (f->n_visits)
			table_print(out, &t);
		table_free(&t);
		free(name);
		free(entry);
		free(r);
	}
}

/* The declared call a -> b of some flow, or NULL. */
static const struct snap_edge *find_declared(const struct snapshot *s, const char *from,
					     const char *to, const char **flow)
{
	for (int i = 0; i < s->n_flows; i++)
		for (int k = 0; k < s->flows[i].n_declared; k++) {
			const struct snap_edge *e = &s->flows[i].declared[k];

			if (!strcmp(e->from ? e->from : "", from ? from : "") &&
			    !strcmp(e->to ? e->to : "", to ? to : "")) {
				if (flow)
					*flow = s->flows[i].name;
				return e;
			}
		}
	return NULL;
}

static const struct snap_edge *find_observed(const struct snapshot *s, const char *from,
					     const char *to)
{
	for (int i = 0; i < s->n_edges; i++) {
		const struct snap_edge *e = &s->edges[i];

		if (e->calls && !strcmp(e->from ? e->from : "", from ? from : "") &&
		    !strcmp(e->to ? e->to : "", to ? to : ""))
			return e;
	}
	return NULL;
}

/* Was this declared call already listed (it can appear in several flows)? */
static bool declared_before(const struct snapshot *s, int flow, int k)
{
	const struct snap_edge *e = &s->flows[flow].declared[k];

	for (int i = 0; i <= flow; i++)
		for (int j = 0; j < (i == flow ? k : s->flows[i].n_declared); j++)
			if (!strcmp(s->flows[i].declared[j].from ? s->flows[i].declared[j].from : "",
				    e->from ? e->from : "") &&
			    !strcmp(s->flows[i].declared[j].to ? s->flows[i].declared[j].to : "",
				    e->to ? e->to : ""))
				return true;
	return false;
}

static char *edge_label(const char *from, const char *to, const struct snap_edge *d)
{
	char *f = term_escape(from), *t = term_escape(to);
	char *label = xasprintf("%s %s %s", f, !d || !d->async ? "->" : d->waits ? "=>" : "~>", t);

	free(f);
	free(t);
	return label;
}

static void print_call_graph(FILE *out, const struct snapshot *s)
{
	static const char *const headers[] = { "EDGE", "CALLS", "STATUS" };
	static const bool right[] = { false, true, false };
	struct table t = { .ncols = 3, .headers = headers, .right = right };

	for (int i = 0; i < s->n_edges; i++) {
		const struct snap_edge *e = &s->edges[i];
		const struct snap_edge *d = find_declared(s, e->from, e->to, NULL);
		char *row[3];

		if (!e->calls)
			continue; /* a declared edge never seen: listed below */
		row[0] = edge_label(e->from, e->to, NULL);
		row[1] = xasprintf("%llu", (unsigned long long)e->calls);
		row[2] = xstrdup(e->declared || d ? "declared" : "observed, NOT declared");
		table_add(&t, row);
	}
	for (int i = 0; i < s->n_flows; i++)
		for (int k = 0; k < s->flows[i].n_declared; k++) {
			const struct snap_edge *d = &s->flows[i].declared[k];
			char *flow, *row[3];

			if (declared_before(s, i, k) || find_observed(s, d->from, d->to))
				continue;
			flow = term_escape(s->flows[i].name);
			row[0] = edge_label(d->from, d->to, d);
			row[1] = xstrdup(d->async ? "-" : "0");
			row[2] = d->waits
				? xasprintf("declared remote call (flow %s): another thread, counted "
					    "per handler; the caller waits for it", flow)
				: d->async
				? xasprintf("declared async (flow %s): another thread, counted per "
					    "handler", flow)
				: xasprintf("declared (flow %s), NEVER SEEN", flow);
			table_add(&t, row);
			free(flow);
		}
	if (t.nrows) {
		fputs("\nCall graph, observed against declared\n", out);
		table_print(out, &t);
	}
	table_free(&t);
}

static void print_events(FILE *out, const struct snapshot *s)
{
	static const struct {
		size_t offset;
		const char *what;
	} counters[] = {
		{ offsetof(struct snapshot, unmatched_returns),
		  "returns had no matching entry (calls in progress when recording started)" },
		{ offsetof(struct snapshot, depth_overflows),
		  "calls were nested deeper than 64 handlers: not timed, counted incomplete" },
		{ offsetof(struct snapshot, abandoned_frames),
		  "calls never returned normally (longjmp or exception): counted incomplete" },
		{ offsetof(struct snapshot, exited_in_call),
		  "calls were in progress when their thread exited or exec'd: counted incomplete" },
		{ offsetof(struct snapshot, edges_dropped),
		  "nested calls were not counted as edges: the edge map was full" },
		{ offsetof(struct snapshot, instances_dropped),
		  "processes past the instance limit were pooled into one instance" },
		{ offsetof(struct snapshot, threads_dropped),
		  "calls found no per-thread state (thread map full): counted incomplete" },
		{ offsetof(struct snapshot, switch_ins_estimated),
		  "returns to the CPU had no switch stamp: dated by the scheduler's account "
		  "(their on-CPU times may be off by up to a tick)" },
	};
	uint64_t running = 0;
	bool any = false;

	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		if (h->entries > h->calls + h->incomplete)
			running += h->entries - h->calls - h->incomplete;
	}
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		uint64_t n = *(const uint64_t *)((const char *)s + counters[i].offset);

		if (!n)
			continue;
		if (!any)
			fputs("\nEvents\n", out);
		any = true;
		fprintf(out, "  %llu %s\n", (unsigned long long)n, counters[i].what);
	}
	if (running) {
		if (!any)
			fputs("\nEvents\n", out);
		fprintf(out, "  %llu call%s still running when the recording ended (not timed)\n",
			(unsigned long long)running, running == 1 ? " was" : "s were");
	}
}

/* Without -v: the call graph in one line, when it differs from the flow file. */
static void print_call_graph_line(FILE *out, const struct snapshot *s)
{
	int undeclared = 0, unseen = 0;

	for (int i = 0; i < s->n_edges; i++)
		undeclared += s->edges[i].calls && !s->edges[i].declared &&
			      !find_declared(s, s->edges[i].from, s->edges[i].to, NULL);
	for (int i = 0; i < s->n_flows; i++)
		for (int k = 0; k < s->flows[i].n_declared; k++) {
			const struct snap_edge *d = &s->flows[i].declared[k];

			unseen += !d->async && !declared_before(s, i, k) &&
				  !find_observed(s, d->from, d->to);
		}
	if (undeclared || unseen)
		fprintf(out, "\nCall graph: %d caller-callee pair%s observed but not declared, %d "
			"declared but never seen (-v lists them)\n", undeclared,
			undeclared == 1 ? "" : "s", unseen);
}

void report_print(FILE *out, const struct snapshot *s, const struct model *m,
		  const struct report_opts *o)
{
	static const struct report_opts defaults = { .verbose = true };

	if (!o)
		o = &defaults;
	print_header(out, s, o);
	report_print_flags(out, s, m, o);
	if (m && !o->no_model)
		report_print_summary(out, m, o);
	print_handlers(out, s, m, o);
	if (o->verbose) {
		print_flows(out, s);
		print_call_graph(out, s);
	} else {
		print_call_graph_line(out, s);
	}
	print_events(out, s);
	if (!m || o->no_model)
		return;
	if (o->verbose)
		model_print_details(out, m, o->ascii);
	else {
		if (o->closed) /* asked for by name: shown without -v */
			model_print_closed(out, m, o->ascii);
		fputs("\nMore with -v: the flows' visits, the call graph, every station, the demands, "
		      "predicted response times, the closed workload and the self-checks\n", out);
	}
}

void report_print_table(FILE *out, const struct snapshot *s, const struct report_opts *o)
{
	report_print(out, s, NULL, o);
}
