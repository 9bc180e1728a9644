// SPDX-License-Identifier: MIT
/*
 * The reader of the model input text (wasm.h): the snapshot as the HTML
 * page hands it to the WebAssembly model, written by
 * user/report/html_model_input.c, whose header comment describes the
 * format (version MODEL_INPUT_VERSION). Plain C: built into the WebAssembly
 * model, and natively for tests/unit/test_model_input.c, which holds writer
 * and reader to each other and to the model.
 */
#include "wasm.h"

#include <ctype.h>
#include <limits.h>
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
	/* digits only: strtoull would take a sign or spaces and wrap "-1" */
	if (!isdigit((unsigned char)*t))
		return fail(r, "bad integer");
	*out = strtoull(t, &end, 10);
	return *end ? fail(r, "bad integer") : 0;
}

/* The writer's ints are all counts, sizes or flags: 0..INT_MAX, never
 * truncated silently. */
static int get_int(struct reader *r, int *out)
{
	uint64_t v;

	if (get_u64(r, &v))
		return -1;
	if (v > INT_MAX)
		return fail(r, "integer out of range");
	*out = (int)v;
	return 0;
}

/* A count of items that follow on the line: each takes at least two bytes
 * (a space and a character), so a damaged count cannot ask for more memory
 * than the text itself holds. *out is set only when the count is good:
 * snapshot_free() walks the arrays it sizes. */
static int get_count(struct reader *r, int *out)
{
	int n;

	if (get_int(r, &n))
		return -1;
	if ((size_t)n > (r->save ? strlen(r->save) : 0) / 2 + 1)
		return fail(r, "count larger than its line");
	*out = n;
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

/* FROM TO CALLS DECLARED ASYNC WAITS: observed edges and declared calls. */
static int read_edge(struct reader *r, struct snap_edge *e)
{
	if (get_str(r, &e->from) || get_str(r, &e->to) || get_u64(r, &e->calls) ||
	    get_bool(r, &e->declared) || get_bool(r, &e->async) || get_bool(r, &e->waits))
		return -1;
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
	    get_ld(r, &h->sumsq_ns2) || get_u64(r, &h->unwound) ||
	    get_bool(r, &h->probe_measured) || get_u64(r, &h->probe_ns) ||
	    get_u64(r, &h->self_probe_ns) || get_u64(r, &h->nested_calls) ||
	    get_bool(r, &h->probe_cpu_measured) || get_u64(r, &h->probe_cpu_ns) ||
	    get_bool(r, &h->arrival_measured) || get_u64(r, &h->arrival.calls) ||
	    get_u64(r, &h->arrival.ns) || get_u64(r, &h->arrival.probe_ns) ||
	    get_u64(r, &h->arrival.self_ns) || get_u64(r, &h->arrival.self_probe_ns) ||
	    get_str(r, &h->entry_site) || get_str(r, &h->exit_site) || get_count(r, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		int b;
		uint64_t c;

		if (get_int(r, &b) || get_u64(r, &c))
			return -1;
		if (b >= HIST_BUCKETS)
			return fail(r, "bucket out of range");
		h->hist[b] = c;
	}
	return 0;
}

static int read_flow(struct reader *r, struct snap_flow *f)
{
	if (get_str(r, &f->name) || get_str(r, &f->entry) || get_u64(r, &f->invocations) ||
	    get_count(r, &f->n_visits))
		return -1;
	f->visits = xcalloc((size_t)f->n_visits + 1, sizeof(*f->visits));
	for (int i = 0; i < f->n_visits; i++)
		if (get_str(r, &f->visits[i].handler) || get_u64(r, &f->visits[i].calls))
			return -1;
	if (get_count(r, &f->n_declared))
		return -1;
	f->declared = xcalloc((size_t)f->n_declared + 1, sizeof(*f->declared));
	for (int i = 0; i < f->n_declared; i++)
		if (read_edge(r, &f->declared[i]))
			return -1;
	return 0;
}

static int read_bundle(struct reader *r, struct snap_bundle *b)
{
	int n;

	if (get_str(r, &b->name) || get_count(r, &b->n_pids))
		return -1;
	/* the pids themselves do not travel (the model counts them only) */
	b->pids = xcalloc((size_t)b->n_pids + 1, sizeof(int));
	if (get_int(r, &b->threads) || get_int(r, &b->instances) || get_int(r, &b->workers) ||
	    get_bool(r, &b->serial) || get_bool(r, &b->cpu_measured) || get_double(r, &b->cpu_s) ||
	    get_double(r, &b->cpus) || get_str(r, &b->cpus_source) ||
	    get_bool(r, &b->unprobed_measured) || get_double(r, &b->unprobed_s) ||
	    get_double(r, &b->unprobed_cpu_s) || get_u64(r, &b->late_calls) ||
	    get_double(r, &b->late_s) || get_u64(r, &b->counted_calls) ||
	    get_u64(r, &b->counted_window_calls) || get_double(r, &b->counted_s) ||
	    get_double(r, &b->counted_cpu_s) || get_double(r, &b->counted_probe_s) ||
	    get_bool(r, &b->conc_measured) || get_int(r, &b->live_max) ||
	    get_int(r, &b->inflight_max) || get_count(r, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		int k;

		if (get_int(r, &k))
			return -1;
		if (k >= SNAP_CONC_LEVELS)
			return fail(r, "concurrency level out of range");
		if (get_u64(r, &b->live_ns[k]) || get_u64(r, &b->inflight_ns[k]))
			return -1;
	}
	/* the threads of each process that ran handlers: which processes serve */
	if (get_int(r, &n))
		return -1;
	if (n != 0 && n != 1)
		return fail(r, "PID_THREADS is 0 or 1");
	if (n) {
		b->pid_threads = xcalloc((size_t)b->n_pids + 1, sizeof(int));
		for (int i = 0; i < b->n_pids; i++)
			if (get_int(r, &b->pid_threads[i]))
				return -1;
	}
	/* the wake-ups (user/model/model_wake.c) */
	if (get_u64(r, &b->sleeps) || get_u64(r, &b->unprobed_sleeps) ||
	    get_bool(r, &b->wake.measured))
		return -1;
	for (int k = 0; b->wake.measured && k < SNAP_WAKE_BUCKETS; k++)
		if (get_u64(r, &b->wake.periods[k]) || get_u64(r, &b->wake.calls[k]) ||
		    get_u64(r, &b->wake.cpu_ns[k]) || get_u64(r, &b->wake.probe_ns[k]))
			return -1;
	return 0;
}

static int read_snapshot(struct reader *r, struct snapshot *s)
{
	int n_hosts;

	if (get_double(r, &s->duration_s) || get_int(r, &s->nproc) ||
	    get_double(r, &s->probe_cost_ns) || get_int(r, &n_hosts) ||
	    get_bool(r, &s->host_cpu_measured) || get_double(r, &s->host_cpu_s) ||
	    get_int(r, &s->calib_rounds) || get_bool(r, &s->bundle_cpus_busy_measured) ||
	    get_double(r, &s->bundle_cpus_busy_s))
		return -1;
	/* the hosts' details do not travel (the model counts them only); the
	 * bound keeps a damaged count from asking for gigabytes, far above any
	 * fleet a merge joins. n_hosts is set with its array, which
	 * snapshot_free() walks. */
	if (n_hosts > 1 << 20)
		return fail(r, "integer out of range");
	free(s->hosts); /* a second snapshot record; the reader sets no host's strings */
	s->hosts = xcalloc((size_t)n_hosts + 1, sizeof(*s->hosts));
	s->n_hosts = n_hosts;
	return 0;
}

static int read_slot(struct reader *r, struct snapshot *s)
{
	struct snap_slot_cost *c;
	int k;

	if (get_int(r, &k))
		return -1;
	if (k >= SNAP_SLOTS)
		return fail(r, "bad probe slot");
	c = &s->probe_slots[k];
	free(c->behaves_as); /* a slot written twice: the last one counts */
	c->behaves_as = NULL;
	if (get_bool(r, &c->measured) || get_double(r, &c->hit_ns) ||
	    get_double(r, &c->in_window_ns) || get_double(r, &c->jitter_ns) ||
	    get_double(r, &c->first_hit_ns) || get_double(r, &c->in_window_jitter_ns) ||
	    get_str(r, &c->behaves_as))
		return -1;
	return 0;
}

int model_input_read(char *text, struct snapshot *s, char *err, size_t errlen)
{
	struct reader r = { .line = 0 };
	char *line_save = NULL, *line;
	bool header = false;
	int rc = -1;

	for (line = strtok_r(text, "\n", &line_save); line;
	     line = strtok_r(NULL, "\n", &line_save)) {
		char *kind = strtok_r(line, " ", &r.save);

		r.line++;
		if (!kind)
			continue;
		/* the version comes first: a text of another version would be read
		 * field by field into the wrong places, and the page would show a
		 * model that silently disagrees with the CLI's */
		if (!header) {
			int v;

			if (strcmp(kind, "flowprof-model-input")) {
				fail(&r, "not a model input (no flowprof-model-input line)");
				goto out;
			}
			if (get_int(&r, &v))
				goto out;
			if (v != MODEL_INPUT_VERSION) {
				char what[96];

				snprintf(what, sizeof(what),
					 "unsupported version %d (this model reads version %d)", v,
					 MODEL_INPUT_VERSION);
				fail(&r, what);
				goto out;
			}
			header = true;
		} else if (!strcmp(kind, "snapshot")) {
			if (read_snapshot(&r, s))
				goto out;
		} else if (!strcmp(kind, "probe_cost")) {
			int c;

			if (get_int(&r, &c) || c > 3) {
				fail(&r, "bad site class");
				goto out;
			}
			if (get_bool(&r, &s->probe_cost[c].measured) ||
			    get_double(&r, &s->probe_cost[c].per_call_ns) ||
			    get_double(&r, &s->probe_cost[c].in_window_ns))
				goto out;
		} else if (!strcmp(kind, "probe_slot")) {
			if (read_slot(&r, s))
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
			if (read_edge(&r, e))
				goto out;
		} else if (!strcmp(kind, "flow")) {
			s->flows = xrealloc(s->flows, (size_t)(s->n_flows + 1) * sizeof(*s->flows));
			memset(&s->flows[s->n_flows], 0, sizeof(*s->flows));
			if (read_flow(&r, &s->flows[s->n_flows++]))
				goto out;
		} else if (!strcmp(kind, "bundle")) {
			s->bundles = xrealloc(s->bundles, (size_t)(s->n_bundles + 1) *
								  sizeof(*s->bundles));
			memset(&s->bundles[s->n_bundles], 0, sizeof(*s->bundles));
			if (read_bundle(&r, &s->bundles[s->n_bundles++]))
				goto out;
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
