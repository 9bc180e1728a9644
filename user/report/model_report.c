// SPDX-License-Identifier: MIT
/* The model as tables and as the document's "model" object: see model_report.h. */
#include "model_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static char *dur(double ns, bool ascii)
{
	char buf[UNITS_BUF];

	if (!isfinite(ns))
		return xstrdup("-");
	return xstrdup(units_duration(buf, sizeof(buf), ns, ascii));
}

static char *rate(double per_s)
{
	char buf[UNITS_BUF];

	if (isinf(per_s))
		return xstrdup("unlimited");
	return xstrdup(units_rate(buf, sizeof(buf), per_s));
}

/* A utilization: "82%", and past 100% the real figure ("130%"), which
 * units_percent() caps. */
static char *util(double u)
{
	char buf[UNITS_BUF];

	if (!isfinite(u))
		return xstrdup(u > 0 ? "saturated" : "-");
	if (u >= 1)
		return xasprintf("%.0f%%", u * 100);
	return xstrdup(units_percent(buf, sizeof(buf), u));
}

static char *num(double v)
{
	if (!isfinite(v))
		return xstrdup("-");
	return fabs(v) >= 100 ? xasprintf("%.0f", v) : fabs(v) >= 1 ? xasprintf("%.2f", v)
							  : xasprintf("%.3g", v);
}

const char *station_kind_name(enum model_station_kind k)
{
	switch (k) {
	case STATION_POOL: return "pool";
	case STATION_SERIAL: return "serial";
	case STATION_LOCK: return "serial handler";
	case STATION_CPU: return "cpu";
	}
	return "?";
}

int station_shown_for_handler(const struct model *m, int h)
{
	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_LOCK && m->stations[k].handler == h)
			return k;
	return m->handlers[h].station;
}

static char *servers_str(const struct model_station *st, bool ascii)
{
	const char *src = !st->servers_basis ? st->servers_source
			: !strcmp(st->servers_basis, "concurrency") ? "observed: most in its handlers at once"
			: !strcmp(st->servers_basis, "live threads")
				? "observed: threads that ran its handlers, alive at once"
				: st->servers_source;

	/* observed threads need not split evenly over the processes: 5 over 2
	 * is not 2 x 3 */
	if (st->kind == STATION_POOL && st->servers != st->instances * st->workers)
		return xasprintf("%d over %d instances (%s)", st->servers, st->instances, src);
	if (st->kind == STATION_POOL)
		return xasprintf("%d = %d %s %d (%s)", st->servers, st->instances, ascii ? "x" : "×",
				 st->workers, src);
	if (st->kind == STATION_CPU && st->cpus > 0 && fabs(st->cpus - st->servers) > 1e-9)
		return xasprintf("%.2f CPUs (%s)", st->cpus, st->servers_source);
	return xasprintf("%d (%s)", st->servers, st->servers_source);
}

static char *need_str(const struct model_station *st, double limit)
{
	char l[UNITS_BUF];

	units_percent(l, sizeof(l), limit);
	switch (st->kind) {
	case STATION_POOL:
		if (st->required_servers <= st->servers)
			return xasprintf("ok (%d enough)", st->required_servers);
		return xasprintf("%d: %d instances or %d workers", st->required_servers,
				 st->required_instances, st->required_workers);
	case STATION_CPU:
		if (st->required_servers <= st->servers)
			return xasprintf("ok (%d enough)", st->required_servers);
		return xasprintf("%d CPUs", st->required_servers);
	default:
		if (st->required_servers)
			return xstrdup("ok");
		return xasprintf("one server: cut its demand by %.0f%%",
				 100 * (1 - limit / fmax(st->utilization, st->utilization_loaded)));
	}
}

static char *top_str(const struct model *m, const struct model_station *st, int n)
{
	char *s = xstrdup("");
	double total = 0;

	for (int i = 0; i < st->n_top; i++)
		total += st->top[i].busy;
	for (int i = 0; i < st->n_top && i < n; i++) {
		const struct model_contrib *c = &st->top[i];
		char *id = term_escape(m->handlers[c->handler].id), *tmp;
		char share[UNITS_BUF], cpu[UNITS_BUF], wait[UNITS_BUF];

		units_percent(share, sizeof(share), total > 0 ? c->busy / total : 0);
		if (st->kind == STATION_CPU || !isfinite(c->oncpu_share))
			tmp = xasprintf("%s%s%s %s", s, i ? ", " : "", id, share);
		else
			tmp = xasprintf("%s%s%s %s (%s on-CPU, %s waiting)", s, i ? ", " : "", id, share,
					units_percent(cpu, sizeof(cpu), c->oncpu_share),
					units_percent(wait, sizeof(wait), 1 - c->oncpu_share));
		free(s);
		free(id);
		s = tmp;
	}
	if (!*s) {
		free(s);
		s = xstrdup("-");
	}
	return s;
}

/* ---- sections ----------------------------------------------------------------- */

/* ", where STATION fills first": said where the station that sets the
 * ceiling is not the bottleneck of the line above (the busiest at the
 * target, by its own work only): a pool whose workers wait on calls to a
 * busy CPU fills before that CPU does. "" otherwise. */
static char *ceiling_clause(const struct model *m)
{
	char *name, *out;

	if (m->ceiling_station < 0)
		return xstrdup("");
	/* the same station, under 100% by its own work yet over capacity: its
	 * waits fill it (said, or "at 97%" and "EXCEEDS" read as a contradiction) */
	if (m->ceiling_station == m->bottleneck &&
	    !(m->headroom < 1 && m->stations[m->bottleneck].utilization < 1))
		return xstrdup("");
	name = term_escape(m->stations[m->ceiling_station].name);
	out = xasprintf(", where %s fills first (with the waits predicted there)", name);
	free(name);
	return out;
}

void model_print_summary(FILE *out, const struct model *m, bool ascii)
{
	char lim[UNITS_BUF];

	(void)ascii;
	fprintf(out, "\nModel at %s (sizing for utilization <= %s; docs/model.md)\n",
		m->targeted ? "the target" : "the measured rates",
		units_percent(lim, sizeof(lim), m->util_limit));
	if (m->targeted && !m->n_flows) {
		fprintf(out, "  target: the measured load x %g (--scale)\n", m->scale);
	} else if (m->targeted) {
		fputs("  target:", out);
		for (int f = 0; f < m->n_flows; f++) {
			char *name = term_escape(m->flows[f].name), *r = rate(m->flows[f].rate_per_s);

			fprintf(out, "%s %s %s (%s)", f ? "," : "", name, r,
				m->flows[f].targeted ? "--target" : m->scale != 1 ? "measured, scaled"
										 : "measured");
			free(name);
			free(r);
		}
		if (m->scale != 1)
			fprintf(out, "; --scale %g", m->scale);
		fputc('\n', out);
	}
	if (m->bottleneck < 0) {
		fputs("  no load: nothing to model\n", out);
		return;
	}
	{
		const struct model_station *st = &m->stations[m->bottleneck];
		char *name = term_escape(st->name), *u = util(st->utilization);

		fprintf(out, "  bottleneck: %s (%s, %d server%s) at %s", name, station_kind_name(st->kind),
			st->servers, st->servers == 1 ? "" : "s", u);
		if (m->bottleneck_handler >= 0) {
			char *h = term_escape(m->handlers[m->bottleneck_handler].id);

			fprintf(out, ", mostly %s", h);
			free(h);
		} else if (m->bottleneck_others > 0) {
			char *o = util(m->bottleneck_others);

			fprintf(out, ", mostly other processes (%s)", o);
			free(o);
		}
		fputc('\n', out);
		free(name);
		free(u);
	}
	{
		char *x = rate(m->max_throughput_per_s), *now = rate(m->throughput_per_s);
		char *full = ceiling_clause(m);

		if (!(m->throughput_per_s > 0))
			fprintf(out, "  headroom: the load (outside any flow) can grow %.2fx before a "
				"station saturates\n", m->headroom);
		else if (m->headroom >= 1)
			fprintf(out, "  headroom: the mix fits %.2fx its %s rate: %s in all%s\n",
				m->headroom, m->targeted ? "target" : "measured", x, full);
		else
			fprintf(out, "  the %s mix (%s) EXCEEDS CAPACITY: at most %s (%.0f%% of it)%s\n",
				m->targeted ? "target" : "measured", now, x, 100 * m->headroom, full);
		free(full);
		free(x);
		free(now);
	}
}

/* A station's U; at the CPU with the share other processes keep busy,
 * which U counts and MEASURED U (the handlers' own) does not: "31% (18%
 * others)". */
static char *util_with_others(const struct model_station *st)
{
	char *u = util(st->utilization), *o, *out;
	double others = model_others_share(st);

	if (st->kind != STATION_CPU || !(others >= 0.005))
		return u;
	o = util(others);
	out = xasprintf("%s (%s others)", u, o);
	free(u);
	free(o);
	return out;
}

static void print_stations(FILE *out, const struct model *m, bool ascii)
{
	static const char *const headers[] = { "STATION", "KIND", "SERVERS", "U", "U+WAITS",
					       "MEASURED U", "NEEDED", "TOP HANDLERS (share of busy time)" };
	static const bool right[] = { false, false, false, true, true, true, false, false };
	struct table t = { .indent = 2, .ncols = ARRAY_SIZE(headers), .headers = headers,
			    .right = right };

	fputs("\nStations by utilization at the target (U: own work, and at the CPU what other "
	      "processes keep busy, in brackets; U+WAITS: with the predicted waits for the CPU and "
	      "serial handlers; MEASURED U: own work at the measured rates, from the recording's "
	      "sums)\n", out);
	for (int i = 0; i < m->n_stations; i++) {
		const struct model_station *st = &m->stations[m->ranking[i]];
		char *row[ARRAY_SIZE(headers)];

		row[0] = term_escape(st->name);
		row[1] = xstrdup(station_kind_name(st->kind));
		row[2] = servers_str(st, ascii);
		row[3] = util_with_others(st);
		row[4] = st->kind == STATION_POOL || st->kind == STATION_SERIAL
				 ? util(st->utilization_loaded) : xstrdup("-");
		row[5] = util(st->utilization_measured);
		row[6] = need_str(st, m->util_limit);
		row[7] = top_str(m, st, 3);
		table_add(&t, row);
	}
	if (m->n_stations)
		table_print(out, &t);
	table_free(&t);
}

static void print_demands(FILE *out, const struct model *m, bool ascii)
{
	const char **headers;
	bool *right;
	struct table t;

	if (!m->n_flows || !m->n_stations)
		return;
	headers = xcalloc((size_t)m->n_flows + 1, sizeof(*headers));
	right = xcalloc((size_t)m->n_flows + 1, sizeof(*right));
	headers[0] = "STATION";
	for (int f = 0; f < m->n_flows; f++) {
		headers[f + 1] = m->flows[f].name;
		right[f + 1] = true;
	}
	t = (struct table){ .indent = 2, .ncols = m->n_flows + 1, .headers = headers,
			    .right = right };
	fputs("\nDemand per invocation (own work; as measured, with waits, in brackets when "
	      "different)\n", out);
	for (int i = 0; i < m->n_stations; i++) {
		const struct model_station *st = &m->stations[m->ranking[i]];
		char **row = xcalloc((size_t)m->n_flows + 1, sizeof(*row));

		row[0] = term_escape(st->name);
		for (int f = 0; f < m->n_flows; f++) {
			double d = st->demand_ns[f], dm = st->demand_measured_ns[f];
			char *a = dur(d, ascii);

			if (d <= 0 && dm <= 0) {
				free(a);
				row[f + 1] = xstrdup("-");
			} else if (fabs(dm - d) > 0.005 * dm) {
				char *b = dur(dm, ascii);

				row[f + 1] = xasprintf("%s (%s)", a, b);
				free(a);
				free(b);
			} else {
				row[f + 1] = a;
			}
		}
		table_add(&t, row);
		free(row);
	}
	table_print(out, &t);
	table_free(&t);
	free(headers);
	free(right);
}

static void print_flows(FILE *out, const struct model *m, bool ascii)
{
	static const char *const headers[] = { "FLOW", "RATE", "MEASURED", "MAX (MIX)",
					       "MAX ALONE", "MEAN", "P95", "P99", "MEAN NOW" };
	static const bool right[] = { false, true, true, true, false, true, true, true, true };
	struct table t = { .indent = 2, .ncols = ARRAY_SIZE(headers), .headers = headers,
			    .right = right };
	int exceeding = 0;

	if (!m->n_flows)
		return;
	fputs("\nFlows at the target (response times: M/M/c with Erlang C, Allen-Cunneen for the "
	      "measured variance; MEAN NOW: the entry's corrected mean as measured)\n", out);
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];
		char *row[ARRAY_SIZE(headers)];

		row[0] = term_escape(mf->name);
		if (mf->least_squares) {
			char *tmp = xasprintf("%s*", row[0]);

			free(row[0]);
			row[0] = tmp;
		}
		row[1] = rate(mf->rate_per_s);
		row[2] = rate(mf->measured_rate_per_s);
		row[3] = mf->rate_per_s > 0 ? rate(mf->max_rate_per_s) : xstrdup("-");
		if (isfinite(mf->max_rate_alone_per_s) && mf->alone_bottleneck >= 0) {
			char *r = rate(mf->max_rate_alone_per_s);
			char *st = term_escape(m->stations[mf->alone_bottleneck].name);

			row[4] = xasprintf("%s (%s)", r, st);
			free(r);
			free(st);
		} else {
			row[4] = xstrdup("-");
		}
		if (mf->exceeds_capacity) {
			exceeding++;
			row[5] = xstrdup("exceeds capacity");
			row[6] = xstrdup("-");
			row[7] = xstrdup("-");
		} else {
			row[5] = dur(mf->predicted_mean_ns, ascii);
			row[6] = dur(mf->predicted_p95_ns, ascii);
			row[7] = dur(mf->predicted_p99_ns, ascii);
		}
		row[8] = dur(mf->measured_mean_ns, ascii);
		table_add(&t, row);
	}
	table_print(out, &t);
	table_free(&t);
	model_print_exceeding(out, m);
	for (int f = 0; f < m->n_flows; f++) {
		if (m->flows[f].least_squares) {
			fputs("  * visits fitted by least squares (see the notes)\n", out);
			break;
		}
	}
	(void)exceeding;
}

void model_print_exceeding(FILE *out, const struct model *m)
{
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];

		if (mf->exceeds_capacity && mf->saturated_station >= 0) {
			const struct model_station *st = &m->stations[mf->saturated_station];
			char *name = term_escape(mf->name), *sn = term_escape(st->name);
			/* its own work, when that alone is more than it has; else
			 * with the waits on what it calls, which past a point grow
			 * without end: no finite figure is what it would need */
			double need = isfinite(st->utilization) && st->utilization >= 1
				? st->utilization : fmax(st->utilization, st->utilization_loaded);
			char *u = util(need);

			if (isfinite(need))
				fprintf(out, "  %s exceeds capacity: %s would need %s of its %d server%s\n",
					name, sn, u, st->servers, st->servers == 1 ? "" : "s");
			else
				fprintf(out, "  %s exceeds capacity: %s saturates: its %d server%s, held "
					"while they wait on the calls they make, cannot keep up\n",
					name, sn, st->servers, st->servers == 1 ? "" : "s");
			free(name);
			free(sn);
			free(u);
		}
	}
}

static void print_closed(FILE *out, const struct model *m, bool ascii)
{
	static const char *const headers[] = { "USERS", "THROUGHPUT", "BOUND", "RESPONSE",
					       "BOUND", "LIMITED BY" };
	static const bool right[] = { true, true, true, true, true, false };
	const struct model_closed *c = &m->closed;
	struct table t = { .indent = 2, .ncols = ARRAY_SIZE(headers), .headers = headers,
			    .right = right };
	char *z = dur(c->think_ns, ascii), *d = dur(c->demand_ns, ascii);
	char *dmax = dur(c->max_demand_ns, ascii);
	char *ms = c->max_station >= 0 ? term_escape(m->stations[c->max_station].name) : xstrdup("-");

	if (!c->n)
		goto cleanup;
	if (c->think_ns > 0)
		fprintf(out, "\nClosed workload: N users of the target mix, think time %s (exact "
			"MVA; --users, --think)\n", z);
	else
		fprintf(out, "\nClosed workload: N users of the target mix, no think time (exact "
			"MVA; --users, --think)\n");
	fprintf(out, "  D = %s per request, Dmax = %s per server at %s; knee N* = (D + Z) / Dmax = ",
		d, dmax, ms);
	if (isfinite(c->knee))
		fprintf(out, "%.1f users\n", c->knee);
	else
		fputs("- (no load)\n", out);
	for (int i = 0; i < c->n; i++) {
		char *row[ARRAY_SIZE(headers)];

		row[0] = xasprintf("%d", c->users[i]);
		row[1] = rate(c->throughput_per_s[i]);
		row[2] = rate(c->bound_throughput_per_s[i]);
		row[3] = dur(c->response_ns[i], ascii);
		row[4] = dur(c->bound_response_ns[i], ascii);
		row[5] = c->limited_by[i] >= 0 ? term_escape(m->stations[c->limited_by[i]].name)
					       : xstrdup("-");
		table_add(&t, row);
	}
	table_print(out, &t);
	table_free(&t);
cleanup:
	free(z);
	free(d);
	free(dmax);
	free(ms);
}

static void print_checks(FILE *out, const struct model *m, bool ascii)
{
	static const char *const sh[] = { "STATION", "BUSY (KERNEL SUMS)", "BUSY (SAMPLED)",
					  "X·D (MODEL)" };
	static const bool sr[] = { false, true, true, true };
	static const char *const fh[] = { "FLOW", "IN FLIGHT (SAMPLED)", "λ·R MEASURED",
					  "λ·R MODEL", "MEAN MEASURED", "MEAN MODEL" };
	static const char *const fh_ascii[] = { "FLOW", "IN FLIGHT (SAMPLED)", "X*R MEASURED",
						"X*R MODEL", "MEAN MEASURED", "MEAN MODEL" };
	static const char *const sh_ascii[] = { "STATION", "BUSY (KERNEL SUMS)", "BUSY (SAMPLED)",
						"X*D (MODEL)" };
	static const bool fr[] = { false, true, true, true, true, true };
	struct table ts = { .indent = 2, .ncols = 4, .headers = ascii ? sh_ascii : sh, .right = sr };
	struct table tf = { .indent = 2, .ncols = 6, .headers = ascii ? fh_ascii : fh, .right = fr };

	fprintf(out, "\nSelf-checks at the measured rates (servers busy; Little's law L = %s per "
		"flow, R the time inside the entry handler: a wait for a worker comes before it)\n",
		ascii ? "X*R" : "λ·R");
	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];
		char *row[4];

		row[0] = term_escape(st->name);
		row[1] = num(st->busy_measured);
		row[2] = num(st->busy_sampled);
		row[3] = num(st->busy_model);
		table_add(&ts, row);
	}
	if (m->n_stations)
		table_print(out, &ts);
	table_free(&ts);
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];
		char *row[6];

		if (!(mf->measured_rate_per_s > 0))
			continue;
		row[0] = term_escape(mf->name);
		row[1] = num(mf->inflight_sampled);
		row[2] = num(mf->inflight_kernel);
		row[3] = num(mf->measured_rate_per_s * mf->predicted_service_measured_ns / 1e9);
		row[4] = dur(mf->measured_mean_ns, ascii);
		row[5] = isinf(mf->predicted_service_measured_ns)
				 ? xstrdup("exceeds capacity")
				 : dur(mf->predicted_service_measured_ns, ascii);
		table_add(&tf, row);
	}
	if (tf.nrows) {
		fputc('\n', out);
		table_print(out, &tf);
	}
	table_free(&tf);
}

static void print_handlers(FILE *out, const struct model *m, bool ascii)
{
	static const char *const headers[] = { "HANDLER", "PROBE COST", "MEAN RAW", "MEAN",
					       "SELF", "ON-CPU SELF", "HELD", "OWN WORK",
					       "OUTSIDE FLOWS" };
	static const bool right[] = { false, true, true, true, true, true, true, true, true };
	struct table t = { .indent = 2, .ncols = ARRAY_SIZE(headers), .headers = headers,
			    .right = right };

	fputs("\nService times per call, corrected for the probe's cost (HELD: a worker's time, "
	      "with calls into other bundles; OWN WORK: without the estimated waits)\n", out);
	for (int h = 0; h < m->n_handlers; h++) {
		const struct model_handler *mh = &m->handlers[h];
		char *row[ARRAY_SIZE(headers)];

		if (!mh->calls)
			continue;
		row[0] = term_escape(mh->id);
		row[1] = dur(mh->probe_ns, ascii);
		row[2] = dur(mh->raw_mean_ns, ascii);
		row[3] = dur(mh->mean_ns, ascii);
		row[4] = dur(mh->self_ns, ascii);
		row[5] = isfinite(mh->oncpu_ns) ? dur(mh->oncpu_self_ns, ascii) : xstrdup("n/a");
		row[6] = dur(mh->held_ns, ascii);
		row[7] = dur(mh->held0_ns, ascii);
		row[8] = mh->unattributed_calls >= 0.5 ? xasprintf("%.0f calls", mh->unattributed_calls)
						       : xstrdup("-");
		table_add(&t, row);
	}
	if (t.nrows)
		table_print(out, &t);
	table_free(&t);
}

void model_print_closed(FILE *out, const struct model *m, bool ascii)
{
	print_closed(out, m, ascii);
}

void model_print(FILE *out, const struct model *m, bool ascii)
{
	model_print_summary(out, m, ascii);
	model_print_details(out, m, ascii);
}

void model_print_details(FILE *out, const struct model *m, bool ascii)
{
	print_stations(out, m, ascii);
	print_demands(out, m, ascii);
	print_flows(out, m, ascii);
	print_closed(out, m, ascii);
	print_checks(out, m, ascii);
	print_handlers(out, m, ascii);
	if (m->n_notes) {
		fputs("\nNotes\n", out);
		for (int i = 0; i < m->n_notes; i++) {
			char *n = term_escape(m->notes[i]);

			fprintf(out, "  - %s\n", n);
			free(n);
		}
	}
}
