// SPDX-License-Identifier: MIT
/*
 * One scrape target's series, read into its snapshot of the window
 * (fleet_int.h; fleet_window.c finishes it): each series of
 * the exposition (report/metrics.c, report/metrics_model.c) goes back to the
 * snapshot field it came from. Counters are the window's increase (end less
 * start; a counter that went down was reset and counts from zero), gauges
 * are the end's. The names are the exposition's contract, listed in
 * flowprof(1), section METRICS.
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "fleet_int.h"

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *fleet_series_key(const struct prom_sample *s)
{
	const char *keys[64];
	int n = 0;
	char *key = NULL;
	size_t len = 0;
	FILE *m;

	json_object_object_foreach(s->labels, k, v) {
		(void)v;
		if (strcmp(k, "job") && strcmp(k, "instance") && n < (int)ARRAY_SIZE(keys))
			keys[n++] = k;
	}
	qsort(keys, (size_t)n, sizeof(*keys), cmp_label);
	m = xopen_memstream(&key, &len);
	for (int i = 0; i < n; i++)
		fprintf(m, "%s\x1f%s\x1e", keys[i], prom_label(s, keys[i]));
	fclose(m);
	return key;
}

/* ---- values ------------------------------------------------------------------ */

/* The window's increase of a counter. */
static double increase(const struct fleet_build *b, const struct prom_sample *x)
{
	json_object *v;
	char *key;
	double start = 0;

	if (!b->t->start)
		return x->value;
	key = fleet_series_key(x);
	if (json_object_object_get_ex(b->t->start, key, &v))
		start = json_object_get_double(v);
	free(key);
	return x->value >= start ? x->value - start : x->value;
}

/* The gauge at the start (0 without a start). */
double fleet_at_start(const struct fleet_build *b, const struct prom_sample *x)
{
	json_object *v;
	char *key;
	double start = 0;

	if (!b->t->start)
		return 0;
	key = fleet_series_key(x);
	if (json_object_object_get_ex(b->t->start, key, &v))
		start = json_object_get_double(v);
	free(key);
	return start;
}

/* Counts and times as the snapshot holds them: a value a server on the
 * network gives may be anything, so what no counter reaches (2^62) is
 * clamped rather than converted out of range. */
#define VALUE_MAX 4.6e18

static uint64_t count_of(double v)
{
	return v > 0 ? (uint64_t)llround(fmin(v, VALUE_MAX)) : 0; /* NaN: 0 */
}

static int int_of(double v)
{
	return v > 0 ? (int)lround(fmin(v, INT_MAX)) : 0;
}

static uint64_t ns_of(double seconds)
{
	return seconds > 0 ? (uint64_t)llroundl(fminl((long double)seconds * 1e9L, VALUE_MAX)) : 0;
}

const char *fleet_label(const struct prom_sample *x, const char *key)
{
	const char *v = prom_label(x, key);

	return v ? v : "";
}

/* ---- the snapshot's parts ----------------------------------------------------- */

static struct snap_handler *handler_for(struct fleet_build *b, const struct prom_sample *x)
{
	const char *id = fleet_label(x, "handler"), *bundle = fleet_label(x, "bundle");
	struct snapshot *s = b->s;
	json_object *ix;

	if (json_object_object_get_ex(b->handler_ix, id, &ix))
		return &s->handlers[json_object_get_int(ix)];
	if ((size_t)s->n_handlers + 1 > b->cap_handlers) {
		size_t old = b->cap_handlers;

		grow_array((void **)&s->handlers, &b->cap_handlers, (size_t)s->n_handlers + 1,
			   sizeof(*s->handlers));
		b->classic = xrealloc(b->classic, b->cap_handlers * sizeof(*b->classic));
		memset(b->classic + old, 0, (b->cap_handlers - old) * sizeof(*b->classic));
	}
	memset(&s->handlers[s->n_handlers], 0, sizeof(*s->handlers));
	s->handlers[s->n_handlers].id = xstrdup(id);
	s->handlers[s->n_handlers].bundle = xstrdup(bundle);
	/* on-CPU and probe sums: measured only where their series say so */
	json_object_object_add(b->handler_ix, id, json_object_new_int(s->n_handlers));
	return &s->handlers[s->n_handlers++];
}

static struct snap_flow *flow_for(struct snapshot *s, const char *name)
{
	struct snap_flow *f = snapshot_flow(s, name);

	if (f)
		return f;
	s->flows = xrealloc(s->flows, (size_t)(s->n_flows + 1) * sizeof(*s->flows));
	f = &s->flows[s->n_flows++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	return f;
}

static struct snap_bundle *bundle_for(struct snapshot *s, const char *name)
{
	struct snap_bundle *bd = snapshot_bundle(s, name);

	if (bd)
		return bd;
	s->bundles = xrealloc(s->bundles, (size_t)(s->n_bundles + 1) * sizeof(*s->bundles));
	bd = &s->bundles[s->n_bundles++];
	memset(bd, 0, sizeof(*bd));
	bd->name = xstrdup(name);
	return bd;
}

static void add_edge(struct snap_edge **arr, int *n, const char *from, const char *to,
		     uint64_t calls)
{
	*arr = xrealloc(*arr, (size_t)(*n + 1) * sizeof(**arr));
	memset(&(*arr)[*n], 0, sizeof(**arr));
	(*arr)[*n].from = xstrdup(from);
	(*arr)[*n].to = xstrdup(to);
	(*arr)[(*n)++].calls = calls;
}

/* ---- one series each -------------------------------------------------------------- */

typedef int (*series_fn)(struct fleet_build *b, const struct prom_sample *x);

static unsigned int class_mask(const char *list)
{
	unsigned int m = 0;

	for (int c = 1; c < SNAP_SITE_CLASSES; c++) {
		const char *p = strstr(list, snapshot_site_class_key[c]);
		size_t len = strlen(snapshot_site_class_key[c]);

		if (p && (p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			m |= 1u << c;
	}
	return snapshot_site_classes(m);
}

static int on_handler_info(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	free(h->site_class);
	h->site_class = xstrdup(fleet_label(x, "site_class"));
	h->site_classes = class_mask(fleet_label(x, "site_classes"));
	free(h->entry_site);
	h->entry_site = *fleet_label(x, "entry_site") ? xstrdup(fleet_label(x, "entry_site")) : NULL;
	free(h->exit_site);
	h->exit_site = *fleet_label(x, "exit_site") ? xstrdup(fleet_label(x, "exit_site")) : NULL;
	h->serial = !strcmp(fleet_label(x, "serial"), "true");
	b->have_info = true;
	return 0;
}

static int on_calls(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->calls = count_of(increase(b, x));
	return 0;
}

static int on_incomplete(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->incomplete = count_of(increase(b, x));
	return 0;
}

/* entries = calls + incomplete + in progress: its increase is the calls'
 * and the incomplete ones' plus the change of those in progress, added
 * once every series is in (finish()). */
static int on_active(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	b->classic[h - b->s->handlers].active_change = x->value - fleet_at_start(b, x);
	return 0;
}

static int on_bucket(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);
	struct fleet_classic *c = &b->classic[h - b->s->handlers];
	const char *le = fleet_label(x, "le");
	char *end;
	double bound = strtod(le, &end);

	if (c->n >= FLEET_MAX_CLASSIC)
		return 0;
	if (!strcmp(le, "+Inf")) {
		c->bound_ns[c->n] = UINT64_MAX;
	} else if (end == le || *end || !(bound > 0) ||
		   hist_boundary_index(ns_of(bound)) < 0) {
		snprintf(b->err, b->errlen, "%s: le=\"%s\" is not a bound of flowprof's histogram",
			 fleet_label(x, "__name__"), le);
		return -1;
	} else {
		c->bound_ns[c->n] = ns_of(bound);
	}
	c->cum[c->n++] = count_of(increase(b, x));
	return 0;
}

static int on_sum(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->total_ns = ns_of(increase(b, x));
	return 0;
}

static int on_self(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->self_ns = ns_of(increase(b, x));
	return 0;
}

static int on_oncpu(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	h->oncpu_ns = ns_of(increase(b, x));
	h->oncpu_measured = true;
	return 0;
}

static int on_squares(struct fleet_build *b, const struct prom_sample *x)
{
	double v = increase(b, x);

	handler_for(b, x)->sumsq_ns2 = v > 0 ? (long double)v * 1e18L : 0;
	return 0;
}

static int on_unwound(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->unwound = count_of(increase(b, x));
	return 0;
}

static int on_probe(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	h->probe_ns = ns_of(increase(b, x));
	h->probe_measured = true;
	return 0;
}

static int on_self_probe(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->self_probe_ns = ns_of(increase(b, x));
	return 0;
}

static int on_probe_cpu(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	h->probe_cpu_ns = ns_of(increase(b, x));
	h->probe_cpu_measured = true;
	return 0;
}

/* A flow entry's own arrivals: a field of snap_arrivals each. */
static struct snap_arrivals *arrivals_for(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);

	h->arrival_measured = true;
	return &h->arrival;
}

static int on_arrival_calls(struct fleet_build *b, const struct prom_sample *x)
{
	arrivals_for(b, x)->calls = count_of(increase(b, x));
	return 0;
}

static int on_arrival_time(struct fleet_build *b, const struct prom_sample *x)
{
	arrivals_for(b, x)->ns = ns_of(increase(b, x));
	return 0;
}

static int on_arrival_probe(struct fleet_build *b, const struct prom_sample *x)
{
	arrivals_for(b, x)->probe_ns = ns_of(increase(b, x));
	return 0;
}

static int on_arrival_self(struct fleet_build *b, const struct prom_sample *x)
{
	arrivals_for(b, x)->self_ns = ns_of(increase(b, x));
	return 0;
}

static int on_arrival_self_probe(struct fleet_build *b, const struct prom_sample *x)
{
	arrivals_for(b, x)->self_probe_ns = ns_of(increase(b, x));
	return 0;
}

static int on_nested(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->nested_calls = count_of(increase(b, x));
	return 0;
}

static int on_probe_cost(struct fleet_build *b, const struct prom_sample *x)
{
	handler_for(b, x)->probe_cost_ns = x->value * 1e9;
	return 0;
}

static struct snap_instance_stats *instance_for(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_handler *h = handler_for(b, x);
	int pid = atoi(fleet_label(x, "exported_instance"));

	for (int i = 0; i < h->n_instances; i++)
		if (h->instances[i].pid == pid)
			return &h->instances[i];
	h->instances = xrealloc(h->instances, (size_t)(h->n_instances + 1) * sizeof(*h->instances));
	memset(&h->instances[h->n_instances], 0, sizeof(*h->instances));
	h->instances[h->n_instances].pid = pid;
	return &h->instances[h->n_instances++];
}

static int on_instance_calls(struct fleet_build *b, const struct prom_sample *x)
{
	instance_for(b, x)->calls = count_of(increase(b, x));
	return 0;
}

static int on_instance_time(struct fleet_build *b, const struct prom_sample *x)
{
	instance_for(b, x)->total_ns = ns_of(increase(b, x));
	return 0;
}

static int on_invocations(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_flow *f = flow_for(b->s, fleet_label(x, "flow"));

	free(f->entry);
	f->entry = xstrdup(fleet_label(x, "handler"));
	f->invocations = count_of(increase(b, x));
	return 0;
}

static int on_visits(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_flow *f = flow_for(b->s, fleet_label(x, "flow"));

	f->visits = xrealloc(f->visits, (size_t)(f->n_visits + 1) * sizeof(*f->visits));
	f->visits[f->n_visits].handler = xstrdup(fleet_label(x, "handler"));
	f->visits[f->n_visits++].calls = count_of(increase(b, x));
	return 0;
}

static int on_declared(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_flow *f = flow_for(b->s, fleet_label(x, "flow"));
	const char *arrow = fleet_label(x, "call");
	struct snap_edge *e;

	add_edge(&f->declared, &f->n_declared, fleet_label(x, "caller"), fleet_label(x, "callee"), 0);
	e = &f->declared[f->n_declared - 1];
	e->declared = true;
	e->waits = !strcmp(arrow, "=>");
	e->async = e->waits || !strcmp(arrow, "~>");
	return 0;
}

static int on_edge(struct fleet_build *b, const struct prom_sample *x)
{
	add_edge(&b->s->edges, &b->s->n_edges, fleet_label(x, "caller"), fleet_label(x, "callee"),
		 count_of(increase(b, x)));
	return 0;
}

static int on_bundle_info(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));

	bd->instances = atoi(fleet_label(x, "instances"));
	bd->workers = atoi(fleet_label(x, "workers"));
	bd->serial = !strcmp(fleet_label(x, "serial"), "true");
	return 0;
}

static int on_bundle_threads(struct fleet_build *b, const struct prom_sample *x)
{
	bundle_for(b->s, fleet_label(x, "bundle"))->threads = int_of(x->value);
	return 0;
}

static int on_process_threads(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));

	bd->pids = xrealloc(bd->pids, (size_t)(bd->n_pids + 1) * sizeof(*bd->pids));
	bd->pid_threads = xrealloc(bd->pid_threads,
				   (size_t)(bd->n_pids + 1) * sizeof(*bd->pid_threads));
	bd->pids[bd->n_pids] = atoi(fleet_label(x, "exported_instance"));
	bd->pid_threads[bd->n_pids++] = int_of(x->value);
	return 0;
}

static int on_concurrency(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));
	int k = atoi(fleet_label(x, "threads"));
	uint64_t ns = ns_of(increase(b, x));

	if (k < 0 || k >= SNAP_CONC_LEVELS)
		return 0;
	bd->conc_measured = true;
	if (!strcmp(fleet_label(x, "state"), "inflight"))
		bd->inflight_ns[k] = ns;
	else
		bd->live_ns[k] = ns;
	return 0;
}

static int on_bundle_cpu(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));

	bd->cpu_s = fmax(0, increase(b, x));
	bd->cpu_measured = true;
	return 0;
}

static int on_bundle_cpus(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));

	bd->cpus = x->value;
	free(bd->cpus_source);
	bd->cpus_source = xstrdup(fleet_label(x, "source"));
	return 0;
}

/* flowprof_bundle_wakeup*_total{calls="K"} (K 0-7, or "8+"): which of
 * the wake-up counters, by the series. */
static int on_wakeups(struct fleet_build *b, const struct prom_sample *x)
{
	struct snap_bundle *bd = bundle_for(b->s, fleet_label(x, "bundle"));
	const char *name = fleet_label(x, "__name__"), *calls = fleet_label(x, "calls");
	struct snap_wakeups *w = &bd->wake;
	char *end;
	long k = strtol(calls, &end, 10);

	if (!isdigit((unsigned char)calls[0]) || (calls[0] == '0' && calls[1]) || end == calls ||
	    k < 0 || k >= SNAP_WAKE_BUCKETS ||
	    strcmp(end, k == SNAP_WAKE_BUCKETS - 1 ? "+" : "")) {
		snprintf(b->err, b->errlen, "%s has calls=\"%s\": not 0 to %d, or %d+", name, calls,
			 SNAP_WAKE_BUCKETS - 2, SNAP_WAKE_BUCKETS - 1);
		return -1;
	}
	w->measured = true;
	if (!strcmp(name, "flowprof_bundle_wakeups_total"))
		w->periods[k] = count_of(increase(b, x));
	else if (!strcmp(name, "flowprof_bundle_wakeup_calls_total"))
		w->calls[k] = count_of(increase(b, x));
	else if (!strcmp(name, "flowprof_bundle_wakeup_cpu_seconds_total"))
		w->cpu_ns[k] = ns_of(increase(b, x));
	else
		w->probe_ns[k] = ns_of(increase(b, x));
	return 0;
}

static int on_sleeps(struct fleet_build *b, const struct prom_sample *x)
{
	bundle_for(b->s, fleet_label(x, "bundle"))->sleeps = count_of(increase(b, x));
	return 0;
}

static int on_host_cpus(struct fleet_build *b, const struct prom_sample *x)
{
	b->s->nproc = int_of(x->value);
	return 0;
}

static int on_host_busy(struct fleet_build *b, const struct prom_sample *x)
{
	b->s->host_cpu_s = fmax(0, increase(b, x));
	b->s->host_cpu_measured = true;
	return 0;
}

static int on_bundle_cpus_busy(struct fleet_build *b, const struct prom_sample *x)
{
	b->s->bundle_cpus_busy_s = fmax(0, increase(b, x));
	b->s->bundle_cpus_busy_measured = true;
	return 0;
}

static int site_class_ix(const char *name)
{
	for (int c = 1; c < SNAP_SITE_CLASSES; c++)
		if (!strcmp(name, snapshot_site_class_key[c]))
			return c;
	return 0;
}

static int on_class_cost(struct fleet_build *b, const struct prom_sample *x)
{
	int c = site_class_ix(fleet_label(x, "site_class"));

	if (c) {
		b->s->probe_cost[c].measured = true;
		b->s->probe_cost[c].in_window_ns = x->value * 1e9;
	}
	return 0;
}

static int on_class_call_cost(struct fleet_build *b, const struct prom_sample *x)
{
	int c = site_class_ix(fleet_label(x, "site_class"));

	if (c)
		b->s->probe_cost[c].per_call_ns = x->value * 1e9;
	return 0;
}

static int on_slot_cost(struct fleet_build *b, const struct prom_sample *x)
{
	const char *slot = fleet_label(x, "slot"), *fig = fleet_label(x, "figure");

	for (int k = 0; k < SNAP_SLOTS; k++) {
		struct snap_slot_cost *c = &b->s->probe_slots[k];

		if (!snapshot_slot_key[k] || strcmp(snapshot_slot_key[k], slot))
			continue;
		if (!c->measured)
			c->in_window_jitter_ns = NAN; /* not in an older exposition */
		c->measured = true;
		if (!c->behaves_as && prom_label(x, "behaves_as"))
			c->behaves_as = xstrdup(fleet_label(x, "behaves_as"));
		if (!strcmp(fig, "hit"))
			c->hit_ns = x->value * 1e9;
		else if (!strcmp(fig, "in_window"))
			c->in_window_ns = x->value * 1e9;
		else if (!strcmp(fig, "jitter"))
			c->jitter_ns = x->value * 1e9;
		else if (!strcmp(fig, "in_window_jitter"))
			c->in_window_jitter_ns = x->value * 1e9;
		else if (!strcmp(fig, "first_hit"))
			c->first_hit_ns = x->value * 1e9;
	}
	return 0;
}

static int on_calib_rounds(struct fleet_build *b, const struct prom_sample *x)
{
	b->s->calib_rounds = int_of(x->value);
	return 0;
}

static int on_recording_info(struct fleet_build *b, const struct prom_sample *x)
{
	free(b->s->kernel);
	b->s->kernel = xstrdup(fleet_label(x, "kernel"));
	free(b->s->attach_mode);
	b->s->attach_mode = *fleet_label(x, "attach_mode") ? xstrdup(fleet_label(x, "attach_mode")) : NULL;
	return 0;
}

static int on_event(struct fleet_build *b, const struct prom_sample *x)
{
	for (int k = 0; k < SNAP_COUNTERS; k++)
		if (!strcmp(fleet_label(x, "event"), snapshot_counters[k].name))
			*snapshot_counter(b->s, k) = count_of(increase(b, x));
	return 0;
}

static const struct {
	const char *name;
	series_fn fn;
} series_table[] = {
	{ "flowprof_handler_info", on_handler_info },
	{ "flowprof_handler_calls_total", on_calls },
	{ "flowprof_handler_incomplete_calls_total", on_incomplete },
	{ "flowprof_handler_active_calls", on_active },
	{ "flowprof_handler_duration_seconds_bucket", on_bucket },
	{ "flowprof_handler_duration_seconds_sum", on_sum },
	{ "flowprof_handler_self_seconds_total", on_self },
	{ "flowprof_handler_oncpu_seconds_total", on_oncpu },
	{ "flowprof_handler_duration_seconds_squared_total", on_squares },
	{ "flowprof_handler_unwound_calls_total", on_unwound },
	{ "flowprof_handler_probe_seconds_total", on_probe },
	{ "flowprof_handler_self_probe_seconds_total", on_self_probe },
	{ "flowprof_handler_nested_calls_total", on_nested },
	{ "flowprof_handler_probe_cpu_seconds_total", on_probe_cpu },
	{ "flowprof_handler_arrival_calls_total", on_arrival_calls },
	{ "flowprof_handler_arrival_seconds_total", on_arrival_time },
	{ "flowprof_handler_arrival_probe_seconds_total", on_arrival_probe },
	{ "flowprof_handler_arrival_self_seconds_total", on_arrival_self },
	{ "flowprof_handler_arrival_self_probe_seconds_total", on_arrival_self_probe },
	{ "flowprof_handler_probe_cost_seconds", on_probe_cost },
	{ "flowprof_instance_handler_calls_total", on_instance_calls },
	{ "flowprof_instance_handler_duration_seconds_total", on_instance_time },
	{ "flowprof_flow_invocations_total", on_invocations },
	{ "flowprof_flow_handler_calls_total", on_visits },
	{ "flowprof_flow_call_info", on_declared },
	{ "flowprof_edge_calls_total", on_edge },
	{ "flowprof_bundle_info", on_bundle_info },
	{ "flowprof_bundle_threads", on_bundle_threads },
	{ "flowprof_process_threads", on_process_threads },
	{ "flowprof_bundle_concurrency_seconds_total", on_concurrency },
	{ "flowprof_bundle_cpu_seconds_total", on_bundle_cpu },
	{ "flowprof_bundle_cpus", on_bundle_cpus },
	{ "flowprof_bundle_wakeups_total", on_wakeups },
	{ "flowprof_bundle_wakeup_calls_total", on_wakeups },
	{ "flowprof_bundle_wakeup_cpu_seconds_total", on_wakeups },
	{ "flowprof_bundle_wakeup_probe_seconds_total", on_wakeups },
	{ "flowprof_bundle_sleeps_total", on_sleeps },
	{ "flowprof_host_cpus", on_host_cpus },
	{ "flowprof_host_cpu_busy_seconds_total", on_host_busy },
	{ "flowprof_bundle_cpus_busy_seconds_total", on_bundle_cpus_busy },
	{ "flowprof_probe_cost_seconds", on_class_cost },
	{ "flowprof_probe_cost_per_call_seconds", on_class_call_cost },
	{ "flowprof_probe_slot_cost_seconds", on_slot_cost },
	{ "flowprof_probe_calibration_rounds", on_calib_rounds },
	{ "flowprof_recording_info", on_recording_info },
	{ "flowprof_kernel_events_total", on_event },
};

int fleet_series_apply(struct fleet_build *b, const struct prom_sample *x)
{
	const char *name = fleet_label(x, "__name__");

	for (size_t k = 0; k < ARRAY_SIZE(series_table); k++)
		if (!strcmp(name, series_table[k].name))
			return series_table[k].fn(b, x);
	return 0;
}
