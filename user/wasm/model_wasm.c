// SPDX-License-Identifier: MIT
/*
 * The capacity model (user/model/model.c) compiled to WebAssembly for the HTML
 * report's sliders: the page runs the very code `flowprof report` runs, so
 * its numbers equal `report --target ... --json` for the same settings.
 * Built by the Makefile's "HTML report assets" section (clang --target=
 * wasm32-wasi), never into the flowprof binary.
 *
 * In:  the snapshot as the model input text that html_report.c writes
 *      (html_report.h, "model input"), and options, one per line:
 *      "target checkout=800", "instances shop=3", "workers shop=16".
 * Out: a JSON object with the figures of the document's "model" object
 *      that the page shows, rounded as model_report.c rounds them
 *      (docs/model.md), or {"error": "..."}.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

__attribute__((export_name("fp_alloc"))) void *fp_alloc(size_t n)
{
	return xmalloc(n ? n : 1);
}

__attribute__((export_name("fp_free"))) void fp_free(void *p)
{
	free(p);
}

/* ---- the model input text (written by html_report.c) ----------------------- */

struct reader {
	char *save;	/* strtok_r state within the current line */
	int line;
	char err[160];
};

/* The next space-separated field of the current line, or NULL. */
static char *token(struct reader *r)
{
	return strtok_r(NULL, " ", &r->save);
}

static int fail(struct reader *r, const char *what)
{
	if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "model input line %d: %s", r->line, what);
	return -1;
}

/* A %-encoded string ("%N" is NULL). */
static int get_str(struct reader *r, char **out)
{
	char *t = token(r), *o;

	if (!t)
		return fail(r, "missing string");
	if (!strcmp(t, "%N")) {
		*out = NULL;
		return 0;
	}
	*out = o = xmalloc(strlen(t) + 1);
	for (; *t; t++) {
		if (*t == '%' && isxdigit((unsigned char)t[1]) && isxdigit((unsigned char)t[2])) {
			char hex[3] = { t[1], t[2], 0 };

			*o++ = (char)strtol(hex, NULL, 16);
			t += 2;
		} else {
			*o++ = *t;
		}
	}
	*o = '\0';
	return 0;
}

static int get_double(struct reader *r, double *out)
{
	char *t = token(r), *end;

	if (!t)
		return fail(r, "missing number");
	*out = strtod(t, &end);
	return *end ? fail(r, "bad number") : 0;
}

static int get_ld(struct reader *r, long double *out)
{
	char *t = token(r), *end;

	if (!t)
		return fail(r, "missing number");
	*out = strtold(t, &end);
	return *end ? fail(r, "bad number") : 0;
}

static int get_u64(struct reader *r, uint64_t *out)
{
	char *t = token(r), *end;

	if (!t)
		return fail(r, "missing integer");
	*out = strtoull(t, &end, 10);
	return *end ? fail(r, "bad integer") : 0;
}

static int get_int(struct reader *r, int *out)
{
	uint64_t v;

	if (get_u64(r, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int get_bool(struct reader *r, bool *out)
{
	int v;

	if (get_int(r, &v))
		return -1;
	*out = v != 0;
	return 0;
}

static int read_handler(struct reader *r, struct snap_handler *h)
{
	int n;

	if (get_str(r, &h->id) || get_str(r, &h->bundle) || get_str(r, &h->symbol) ||
	    get_str(r, &h->binary) || get_str(r, &h->site_class) || get_bool(r, &h->serial) ||
	    get_u64(r, &h->entries) || get_u64(r, &h->calls) || get_u64(r, &h->incomplete) ||
	    get_u64(r, &h->min_ns) || get_u64(r, &h->max_ns) || get_u64(r, &h->total_ns) ||
	    get_u64(r, &h->self_ns) || get_u64(r, &h->oncpu_ns) || get_bool(r, &h->oncpu_measured) ||
	    get_double(r, &h->probe_cost_ns) || get_double(r, &h->inflight_mean) ||
	    get_ld(r, &h->sumsq_ns2) || get_int(r, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		int b;
		uint64_t c;

		if (get_int(r, &b) || get_u64(r, &c))
			return -1;
		if (b < 0 || b >= HIST_BUCKETS)
			return fail(r, "bucket out of range");
		h->hist[b] = c;
	}
	return 0;
}

static int read_flow(struct reader *r, struct snap_flow *f)
{
	if (get_str(r, &f->name) || get_str(r, &f->entry) || get_u64(r, &f->invocations) ||
	    get_int(r, &f->n_visits))
		return -1;
	f->visits = xcalloc((size_t)f->n_visits + 1, sizeof(*f->visits));
	for (int i = 0; i < f->n_visits; i++)
		if (get_str(r, &f->visits[i].handler) || get_u64(r, &f->visits[i].calls))
			return -1;
	if (get_int(r, &f->n_declared))
		return -1;
	f->declared = xcalloc((size_t)f->n_declared + 1, sizeof(*f->declared));
	for (int i = 0; i < f->n_declared; i++)
		if (get_str(r, &f->declared[i].from) || get_str(r, &f->declared[i].to) ||
		    get_bool(r, &f->declared[i].async))
			return -1;
	return 0;
}

static int read_input(char *text, struct snapshot *s, char *err, size_t errlen)
{
	struct reader r = { .line = 0 };
	char *line_save = NULL, *line;
	int rc = -1;

	for (line = strtok_r(text, "\n", &line_save); line;
	     line = strtok_r(NULL, "\n", &line_save)) {
		char *kind = strtok_r(line, " ", &r.save);

		r.line++;
		if (!kind)
			continue;
		if (!strcmp(kind, "flowprof-model-input")) {
			int v;

			if (get_int(&r, &v) || v != 1) {
				fail(&r, "unsupported version");
				goto out;
			}
		} else if (!strcmp(kind, "snapshot")) {
			if (get_double(&r, &s->duration_s) || get_int(&r, &s->nproc) ||
			    get_double(&r, &s->probe_cost_ns) || get_int(&r, &s->n_hosts))
				goto out;
			s->hosts = xcalloc((size_t)s->n_hosts + 1, sizeof(*s->hosts));
		} else if (!strcmp(kind, "probe_cost")) {
			int c;

			if (get_int(&r, &c) || c < 0 || c > 3) {
				fail(&r, "bad site class");
				goto out;
			}
			if (get_bool(&r, &s->probe_cost[c].measured) ||
			    get_double(&r, &s->probe_cost[c].per_call_ns) ||
			    get_double(&r, &s->probe_cost[c].in_window_ns))
				goto out;
		} else if (!strcmp(kind, "handler")) {
			s->handlers = xrealloc(s->handlers, (size_t)(s->n_handlers + 1) *
								    sizeof(*s->handlers));
			memset(&s->handlers[s->n_handlers], 0, sizeof(*s->handlers));
			if (read_handler(&r, &s->handlers[s->n_handlers++]))
				goto out;
		} else if (!strcmp(kind, "edge")) {
			struct snap_edge *e;

			s->edges = xrealloc(s->edges, (size_t)(s->n_edges + 1) * sizeof(*s->edges));
			e = &s->edges[s->n_edges++];
			memset(e, 0, sizeof(*e));
			if (get_str(&r, &e->from) || get_str(&r, &e->to) || get_u64(&r, &e->calls) ||
			    get_bool(&r, &e->declared) || get_bool(&r, &e->async))
				goto out;
		} else if (!strcmp(kind, "flow")) {
			s->flows = xrealloc(s->flows, (size_t)(s->n_flows + 1) * sizeof(*s->flows));
			memset(&s->flows[s->n_flows], 0, sizeof(*s->flows));
			if (read_flow(&r, &s->flows[s->n_flows++]))
				goto out;
		} else if (!strcmp(kind, "bundle")) {
			struct snap_bundle *b;

			s->bundles = xrealloc(s->bundles, (size_t)(s->n_bundles + 1) *
								  sizeof(*s->bundles));
			b = &s->bundles[s->n_bundles++];
			memset(b, 0, sizeof(*b));
			if (get_str(&r, &b->name) || get_int(&r, &b->n_pids) ||
			    get_int(&r, &b->threads) || get_int(&r, &b->instances) ||
			    get_int(&r, &b->workers) || get_bool(&r, &b->serial))
				goto out;
			b->pids = xcalloc((size_t)b->n_pids + 1, sizeof(int));
		} else if (!strcmp(kind, "end")) {
			rc = 0;
			goto out;
		} else {
			fail(&r, "unknown record");
			goto out;
		}
		if (token(&r)) {
			fail(&r, "extra fields");
			goto out;
		}
	}
	fail(&r, "truncated: no end record");
out:
	if (rc)
		snprintf(err, errlen, "%s", r.err[0] ? r.err : "bad model input");
	return rc;
}

/* ---- the answer ---------------------------------------------------------------- */

static void put_str(FILE *o, const char *s)
{
	if (!s) {
		fputs("null", o);
		return;
	}
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(o, "\\u%04x", *p);
		else if (*p == '<' || *p == '>' || *p == '&')
			fprintf(o, "\\u%04x", *p); /* safe inside HTML too */
		else
			fputc(*p, o);
	}
	fputc('"', o);
}

/* As json_out.c's jo_num: rounded to at most dec decimals, trailing zeros
 * dropped but one decimal kept, no "-0.0"; null when not finite. */
static void put_num(FILE *o, double v, int dec)
{
	char buf[64];
	char *dot, *end;

	if (!isfinite(v)) {
		fputs("null", o);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", dec, v);
	dot = strchr(buf, '.');
	end = buf + strlen(buf) - 1;
	while (dot && end > dot + 1 && *end == '0')
		*end-- = '\0';
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	fputs(buf, o);
}

static const char *kind_name(enum model_station_kind k)
{
	switch (k) {
	case STATION_POOL: return "pool";
	case STATION_SERIAL: return "serial";
	case STATION_LOCK: return "serial handler";
	case STATION_CPU: return "cpu";
	}
	return "?";
}

static void put_station_name(FILE *o, const struct model *m, int k)
{
	put_str(o, k >= 0 ? m->stations[k].name : NULL);
}

static void put_model(FILE *o, const struct model *m)
{
	fputs("{\"bottleneck\":", o);
	if (m->bottleneck >= 0) {
		fputs("{\"station\":", o);
		put_str(o, m->stations[m->bottleneck].name);
		fputs(",\"handler\":", o);
		put_str(o, m->bottleneck_handler >= 0 ? m->handlers[m->bottleneck_handler].id : NULL);
		fputs(",\"utilization\":", o);
		put_num(o, m->stations[m->bottleneck].utilization, 4);
		fputc('}', o);
	} else {
		fputs("null", o);
	}
	fputs(",\"headroom\":", o);
	put_num(o, m->headroom, 4);
	fputs(",\"throughput_per_s\":", o);
	put_num(o, m->throughput_per_s, 3);
	fputs(",\"max_throughput_per_s\":", o);
	put_num(o, m->max_throughput_per_s, 3);
	fputs(",\"ranking\":[", o);
	for (int i = 0; i < m->n_stations; i++) {
		if (i)
			fputc(',', o);
		put_str(o, m->stations[m->ranking[i]].name);
	}
	fputs("],\"stations\":[", o);
	for (int i = 0; i < m->n_stations; i++) {
		const struct model_station *st = &m->stations[m->ranking[i]];
		bool pool = st->kind == STATION_POOL, cpu = st->kind == STATION_CPU;

		fputs(i ? ",{\"name\":" : "{\"name\":", o);
		put_str(o, st->name);
		fputs(",\"kind\":", o);
		put_str(o, kind_name(st->kind));
		fprintf(o, ",\"servers\":%d,\"instances\":%d,\"workers\":%d", st->servers,
			st->instances, st->workers);
		fputs(",\"servers_source\":", o);
		put_str(o, st->servers_source);
		fputs(",\"utilization\":", o);
		put_num(o, st->utilization, 4);
		fputs(",\"utilization_loaded\":", o);
		if (pool || st->kind == STATION_SERIAL)
			put_num(o, st->utilization_loaded, 4);
		else
			fputs("null", o);
		fputs(",\"service_ns\":", o);
		put_num(o, cpu ? NAN : st->service_ns, 1);
		fputs(",\"wait_probability\":", o);
		put_num(o, cpu ? NAN : st->pwait, 4);
		fputs(",\"wait_ns\":", o);
		put_num(o, cpu ? NAN : st->wait_ns, 1);
		fputs(",\"required_servers\":", o);
		if (st->required_servers)
			fprintf(o, "%d", st->required_servers);
		else
			fputs("null", o);
		if (pool)
			fprintf(o, ",\"required_instances\":%d,\"required_workers\":%d",
				st->required_instances, st->required_workers);
		fputc('}', o);
	}
	fputs("],\"flows\":[", o);
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];

		fputs(f ? ",{\"name\":" : "{\"name\":", o);
		put_str(o, mf->name);
		fputs(",\"rate_per_s\":", o);
		put_num(o, mf->rate_per_s, 3);
		fputs(",\"measured_rate_per_s\":", o);
		put_num(o, mf->measured_rate_per_s, 3);
		fprintf(o, ",\"targeted\":%s", mf->targeted ? "true" : "false");
		fputs(",\"max_rate_per_s\":", o);
		put_num(o, mf->max_rate_per_s, 3);
		fputs(",\"max_rate_alone_per_s\":", o);
		put_num(o, mf->max_rate_alone_per_s, 3);
		fputs(",\"alone_bottleneck\":", o);
		put_station_name(o, m, mf->alone_bottleneck);
		fprintf(o, ",\"exceeds_capacity\":%s", mf->exceeds_capacity ? "true" : "false");
		fputs(",\"saturated_station\":", o);
		put_station_name(o, m, mf->saturated_station);
		fputs(",\"predicted_mean_ns\":", o);
		put_num(o, mf->predicted_mean_ns, 1);
		fputs(",\"predicted_p95_ns\":", o);
		put_num(o, mf->predicted_p95_ns, 1);
		fputs(",\"predicted_p99_ns\":", o);
		put_num(o, mf->predicted_p99_ns, 1);
		fputc('}', o);
	}
	fputs("],\"notes\":[", o);
	for (int i = 0; i < m->n_notes; i++) {
		if (i)
			fputc(',', o);
		put_str(o, m->notes[i]);
	}
	fputs("]}", o);
}

static char *error_json(const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	fputs("{\"error\":", o);
	put_str(o, msg);
	fputs("}", o);
	fclose(o);
	return buf;
}

/* Runs the model; returns a JSON text the caller frees with fp_free. */
__attribute__((export_name("fp_model"))) char *fp_model(char *input, char *options)
{
	struct snapshot s = { 0 };
	struct model_opts mo = { 0 };
	struct model m;
	char err[512], *out = NULL, *line, *save = NULL;
	size_t len = 0;

	if (read_input(input, &s, err, sizeof(err))) {
		out = error_json(err);
		goto cleanup;
	}
	for (line = strtok_r(options, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		if (model_parse_option(&mo, line, sp + 1, err, sizeof(err))) {
			out = error_json(err);
			goto cleanup;
		}
	}
	if (model_build(&s, &mo, &m, err, sizeof(err))) {
		out = error_json(err);
		goto cleanup;
	}
	{
		FILE *o = open_memstream(&out, &len);

		put_model(o, &m);
		fclose(o);
	}
	model_free(&m);
cleanup:
	model_opts_free(&mo);
	snapshot_free(&s);
	return out;
}
