// SPDX-License-Identifier: MIT
/*
 * The reader of the model input text (wasm.h): the snapshot as the HTML
 * page hands it to the WebAssembly model, written by
 * user/report/html_model_input.c in the format html_report.h describes.
 * Plain C: built into the WebAssembly model, and natively for
 * tests/unit/test_model_input.c, which holds writer and reader to each
 * other.
 */
#include "wasm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

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

int model_input_read(char *text, struct snapshot *s, char *err, size_t errlen)
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
