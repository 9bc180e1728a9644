// SPDX-License-Identifier: MIT
/*
 * The capacity model of a snapshot: see model.h, and docs/model.md for the
 * formulas and the assumptions behind them.
 *
 * Stages: options -> handlers (probe-cost correction, held times) -> flows
 * (visit ratios: exact for nested calls, fitted from handler counts for
 * asynchronous ones) -> stations (servers, demands per flow, waits the
 * measurement already contains) -> evaluation at the target and at the
 * measured rates -> ceilings, sizing, closed workload, self-checks.
 */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "probe/site_class.h"
#include "queueing.h"

#define NS 1e9 /* ns per s */

/* ---- options ------------------------------------------------------------ */

/* "FLOW=REST": the name (caller frees) and REST; -1 if malformed. */
static int split_assignment(const char *value, char **name, const char **rest)
{
	const char *eq = strchr(value, '=');

	if (!eq || eq == value || !eq[1])
		return -1;
	*name = xasprintf("%.*s", (int)(eq - value), value);
	*rest = eq + 1;
	return 0;
}

/* "800", "800/s", "2.4k/s", "48000/min", "3/h": events per second. */
static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0 || *s == '+' || *s == '-')
		return -1;
	if (*end == 'k')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	if (!*end || !strcmp(end, "/s"))
		;
	else if (!strcmp(end, "/min") || !strcmp(end, "/m"))
		v /= 60;
	else if (!strcmp(end, "/h"))
		v /= 3600;
	else
		return -1;
	*out = v;
	return 0;
}

static int parse_positive_int(const char *s, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < 1 || v > max || *s == '+' || *s == ' ')
		return -1;
	*out = (int)v;
	return 0;
}

static int add_servers(struct model_servers **arr, int *n, const char *opt, const char *value,
		       char *err, size_t errlen)
{
	char *name = NULL;
	const char *rest;
	int v;

	if (split_assignment(value, &name, &rest) || parse_positive_int(rest, 1000000, &v)) {
		snprintf(err, errlen, "--%s '%s': expected BUNDLE=N with N a positive integer, e.g. shop=%s",
			 opt, value, strcmp(opt, "workers") ? "3" : "16");
		free(name);
		return -1;
	}
	for (int i = 0; i < *n; i++) {
		if (!strcmp((*arr)[i].bundle, name)) {
			snprintf(err, errlen, "--%s: bundle '%s' given twice", opt, name);
			free(name);
			return -1;
		}
	}
	*arr = xrealloc(*arr, (size_t)(*n + 1) * sizeof(**arr));
	(*arr)[*n].bundle = name;
	(*arr)[*n].value = v;
	(*n)++;
	return 0;
}

int model_parse_option(struct model_opts *o, const char *opt, const char *value, char *err,
		       size_t errlen)
{
	const char *name = opt;

	while (*name == '-')
		name++;
	if (!value)
		value = "";
	if (!strcmp(name, "target")) {
		char *flow = NULL;
		const char *rest;
		double rate;

		if (split_assignment(value, &flow, &rest)) {
			snprintf(err, errlen, "--target '%s': expected FLOW=RATE, e.g. checkout=800/s",
				 value);
			free(flow);
			return -1;
		}
		if (parse_rate(rest, &rate)) {
			snprintf(err, errlen,
				 "--target '%s': '%s' is not a rate; write e.g. 800, 800/s, 2.4k/s, "
				 "48000/min or 30/h", value, rest);
			free(flow);
			return -1;
		}
		for (int i = 0; i < o->n_targets; i++) {
			if (!strcmp(o->targets[i].flow, flow)) {
				snprintf(err, errlen, "--target: flow '%s' given twice", flow);
				free(flow);
				return -1;
			}
		}
		o->targets = xrealloc(o->targets, (size_t)(o->n_targets + 1) * sizeof(*o->targets));
		o->targets[o->n_targets].flow = flow;
		o->targets[o->n_targets].rate_per_s = rate;
		o->n_targets++;
		return 0;
	}
	if (!strcmp(name, "scale")) {
		char *end;
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (end != value && *end == 'x')
			end++;
		if (end == value || *end || errno || !isfinite(v) || !(v > 0)) {
			snprintf(err, errlen, "--scale '%s': expected a positive number, e.g. 2 or 1.5x",
				 value);
			return -1;
		}
		o->scale = v;
		return 0;
	}
	if (!strcmp(name, "instances"))
		return add_servers(&o->instances, &o->n_instances, "instances", value, err, errlen);
	if (!strcmp(name, "workers"))
		return add_servers(&o->workers, &o->n_workers, "workers", value, err, errlen);
	if (!strcmp(name, "util-limit")) {
		char *end;
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (end != value && !strcmp(end, "%"))
			v /= 100, end++;
		if (end == value || *end || errno || !(v > 0) || v > 1) {
			snprintf(err, errlen,
				 "--util-limit '%s': expected a fraction in (0, 1] or a percentage, "
				 "e.g. 0.7 or 70%%", value);
			return -1;
		}
		o->util_limit = v;
		return 0;
	}
	if (!strcmp(name, "users")) {
		const char *p = value;
		int *users = NULL, n = 0;

		do {
			size_t len = strcspn(p, ",");
			char *item = xasprintf("%.*s", (int)len, p);
			int v;

			if (parse_positive_int(item, MODEL_MAX_USERS, &v)) {
				snprintf(err, errlen,
					 "--users '%s': '%s' is not a number of users (1 to %d)",
					 value, item, MODEL_MAX_USERS);
				free(item);
				free(users);
				return -1;
			}
			free(item);
			users = xrealloc(users, (size_t)(n + 1) * sizeof(*users));
			users[n++] = v;
			p += len;
		} while (*p++ == ',');
		free(o->users);
		o->users = users;
		o->n_users = n;
		return 0;
	}
	if (!strcmp(name, "think")) {
		double v;

		if (parse_seconds(value, &v)) {
			snprintf(err, errlen, "--think '%s': expected seconds, e.g. 1, 500ms or 2s",
				 value);
			return -1;
		}
		o->think_s = v;
		return 0;
	}
	snprintf(err, errlen, "unknown model option '--%s'; expected one of: --target, --scale, "
		 "--instances, --workers, --util-limit, --users, --think", name);
	return -1;
}

void model_opts_free(struct model_opts *o)
{
	for (int i = 0; i < o->n_targets; i++)
		free(o->targets[i].flow);
	free(o->targets);
	for (int i = 0; i < o->n_instances; i++)
		free(o->instances[i].bundle);
	free(o->instances);
	for (int i = 0; i < o->n_workers; i++)
		free(o->workers[i].bundle);
	free(o->workers);
	free(o->users);
	memset(o, 0, sizeof(*o));
}

/* ---- build context ------------------------------------------------------ */

struct edge_ix {
	int from, to;
	double calls;
};

struct async_edge {
	int from, to;
	bool waits;	/* "a => b": a waits for b's reply */
	bool *flows;	/* declared by these flows */
};

/* A synchronous call to another thread or process ("a => b"): a holds its
 * worker for b's whole response, the wait for b's workers included. */
struct remote_call {
	int from, to;
	double per_call;	/* calls of b per call of a */
};

/* What a station needs beyond the public struct, at the measured load. */
struct station_priv {
	double bg0;	/* busy servers from calls outside flows, own work */
	double bgm;	/* the same, as measured */
	double bg_visits; /* visits per s from calls outside flows */
	int *handlers;	/* handlers whose time the station counts */
	int n_handlers;
	int observed;	/* servers while recording (before any override) */
};

struct build {
	const struct snapshot *s;
	const struct model_opts *o;
	struct model *m;
	int H, F;
	int *bundle_of;		/* handler -> station index of its bundle */
	struct edge_ix *edges;	/* observed, by from (CSR) */
	int n_edges;
	int *out_start;		/* H + 1 offsets into edges */
	double *nested_any;	/* calls of h nested under any handler */
	double *pc_in, *pc_call;
	double *vs, *va;	/* [F][H] visits per invocation: synchronous, asynchronous */
	double *vc;		/* [F][H] visit_calls from the snapshot */
	double *outer;		/* per flow: outermost entry calls */
	bool cpu_known;
	int cpu_station;
	double stretch_meas;	/* CPU stretch attributed to the measured load */
	double *lock_wait_meas;	/* per handler (serial): wait per call at the measured load */
	int *lock_station;	/* per handler: its LOCK station or -1 */
	struct station_priv *sp;
	struct remote_call *remote;
	int n_remote;
	/* at the measured rates, once evaluated there: what a remote call's
	 * response changes from */
	double *wait_meas;	/* per station: the wait for a worker */
	double *held_meas;	/* per handler: the held time */
	/* normalized service distribution of each flow's entry (mean 1) */
	double **plo, **phi, **pw;
	int *pn;
};

#define V(b, f, h) ((b)->vs[(size_t)(f) * (size_t)(b)->H + (size_t)(h)] + \
		    (b)->va[(size_t)(f) * (size_t)(b)->H + (size_t)(h)])
#define AT(arr, b, f, h) ((arr)[(size_t)(f) * (size_t)(b)->H + (size_t)(h)])

static void add_note(struct model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_note(struct model *m, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		fprintf(stderr, "flowprof: out of memory\n");
		exit(1);
	}
	m->notes = xrealloc(m->notes, (size_t)(m->n_notes + 1) * sizeof(*m->notes));
	m->notes[m->n_notes++] = msg;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int model_handler_index(const struct model *m, const char *id)
{
	for (int i = 0; id && i < m->n_handlers; i++)
		if (!strcmp(m->handlers[i].id, id))
			return i;
	return -1;
}

int model_station_index(const struct model *m, const char *name)
{
	for (int i = 0; name && i < m->n_stations; i++)
		if (!strcmp(m->stations[i].name, name))
			return i;
	return -1;
}

int model_flow_index(const struct model *m, const char *name)
{
	for (int i = 0; name && i < m->n_flows; i++)
		if (!strcmp(m->flows[i].name, name))
			return i;
	return -1;
}

/* "unknown flow 'x'; did you mean 'y'?" or "...; flows are: a, b". */
static void unknown_name(char *err, size_t errlen, const char *opt, const char *what,
			 const char *name, const char *const *names, int n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t used;

	for (int i = 0; i < n; i++) {
		size_t d = edit_distance(name, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	if (best && best_d <= 2 && best_d < strlen(name)) {
		snprintf(err, errlen, "--%s: unknown %s '%s'; did you mean '%s'?", opt, what, name,
			 best);
		return;
	}
	used = (size_t)snprintf(err, errlen, "--%s: unknown %s '%s'; ", opt, what, name);
	if (!n) {
		snprintf(err + (used < errlen ? used : errlen), used < errlen ? errlen - used : 0,
			 "the snapshot has no %ss", what);
		return;
	}
	used += (size_t)snprintf(err + (used < errlen ? used : errlen),
				 used < errlen ? errlen - used : 0, "%ss are: ", what);
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(err + (used < errlen ? used : errlen),
					 used < errlen ? errlen - used : 0, "%s%s", i ? ", " : "",
					 names[i]);
}

static int check_names(const struct snapshot *s, const struct model_opts *o, char *err,
		       size_t errlen)
{
	const char **flows = xcalloc((size_t)s->n_flows + 1, sizeof(*flows));
	const char **bundles = xcalloc((size_t)s->n_bundles + 1, sizeof(*bundles));
	int rc = -1;

	for (int i = 0; i < s->n_flows; i++)
		flows[i] = s->flows[i].name ? s->flows[i].name : "";
	for (int i = 0; i < s->n_bundles; i++)
		bundles[i] = s->bundles[i].name ? s->bundles[i].name : "";
	for (int i = 0; i < o->n_targets; i++) {
		if (!snapshot_flow(s, o->targets[i].flow)) {
			unknown_name(err, errlen, "target", "flow", o->targets[i].flow, flows,
				     s->n_flows);
			goto cleanup;
		}
	}
	for (int i = 0; i < o->n_instances; i++) {
		if (!snapshot_bundle(s, o->instances[i].bundle)) {
			unknown_name(err, errlen, "instances", "bundle", o->instances[i].bundle,
				     bundles, s->n_bundles);
			goto cleanup;
		}
	}
	for (int i = 0; i < o->n_workers; i++) {
		if (!snapshot_bundle(s, o->workers[i].bundle)) {
			unknown_name(err, errlen, "workers", "bundle", o->workers[i].bundle, bundles,
				     s->n_bundles);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	free(flows);
	free(bundles);
	return rc;
}

/* ---- handlers ------------------------------------------------------------ */

static int handler_ix(const struct snapshot *s, const char *id)
{
	const struct snap_handler *h = snapshot_handler(s, id);

	return h ? (int)(h - s->handlers) : -1;
}

static int cmp_edge_from(const void *a, const void *b)
{
	const struct edge_ix *x = a, *y = b;

	return (x->from > y->from) - (x->from < y->from);
}

static void index_edges(struct build *b)
{
	const struct snapshot *s = b->s;

	b->edges = xcalloc((size_t)s->n_edges + 1, sizeof(*b->edges));
	b->out_start = xcalloc((size_t)b->H + 1, sizeof(*b->out_start));
	b->nested_any = xcalloc((size_t)b->H + 1, sizeof(*b->nested_any));
	for (int i = 0; i < s->n_edges; i++) {
		int from = handler_ix(s, s->edges[i].from), to = handler_ix(s, s->edges[i].to);

		if (from < 0 || to < 0 || !s->edges[i].calls)
			continue;
		b->edges[b->n_edges++] = (struct edge_ix){ from, to, (double)s->edges[i].calls };
		b->nested_any[to] += (double)s->edges[i].calls;
	}
	qsort(b->edges, (size_t)b->n_edges, sizeof(*b->edges), cmp_edge_from);
	for (int i = 0, e = 0; i <= b->H; i++) {
		while (e < b->n_edges && b->edges[e].from < i)
			e++;
		b->out_start[i] = e;
	}
}

/*
 * How far off a handler's per-call correction may be: each of its own two
 * probes and each probe pair nested in it (2 * nested calls per call) is off
 * by up to its slot's jitter; the dearest jitter measured stands for all.
 */
static double probe_uncertainty(const struct snapshot *s, const struct snap_handler *h)
{
	double jitter = 0, pairs;

	for (int k = 0; k < SNAP_SLOTS; k++)
		if (s->probe_slots[k].measured && s->probe_slots[k].jitter_ns > jitter)
			jitter = s->probe_slots[k].jitter_ns;
	pairs = 1 + (h->calls ? (double)h->nested_calls / (double)h->calls : 0);
	return 2 * jitter * pairs;
}

/* Index of a handler's site class in snapshot.probe_cost, 0 if unknown. */
static int site_class_index(const char *name)
{
	for (int c = SITE_NOP5; c <= SITE_SINGLESTEP; c++)
		if (name && !strcmp(name, site_class_name((enum site_class)c)))
			return c;
	return 0;
}

/* Stations of the bundles first, so that handlers can point at them. */
static int bundle_station(struct model *m, const char *bundle)
{
	for (int i = 0; i < m->n_stations; i++)
		if ((m->stations[i].kind == STATION_POOL || m->stations[i].kind == STATION_SERIAL) &&
		    !strcmp(m->stations[i].name, bundle))
			return i;
	return -1;
}

static struct model_station *new_station(struct build *b, const char *name,
					 enum model_station_kind kind)
{
	struct model *m = b->m;
	struct model_station *st;

	m->stations = xrealloc(m->stations, (size_t)(m->n_stations + 1) * sizeof(*m->stations));
	b->sp = xrealloc(b->sp, (size_t)(m->n_stations + 1) * sizeof(*b->sp));
	memset(&b->sp[m->n_stations], 0, sizeof(*b->sp));
	st = &m->stations[m->n_stations++];
	memset(st, 0, sizeof(*st));
	st->name = xstrdup(name);
	st->kind = kind;
	st->bundle = -1;
	st->handler = -1;
	st->demand_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->demand_measured_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->demand_exclusive_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->oncpu_ns = xcalloc((size_t)b->F + 1, sizeof(double));
	st->visits = xcalloc((size_t)b->F + 1, sizeof(double));
	st->busy_sampled = NAN;
	return st;
}

static const struct model_servers *find_servers(const struct model_servers *arr, int n,
						const char *bundle)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(arr[i].bundle, bundle))
			return &arr[i];
	return NULL;
}

/* The level under which a share q of the recorded time was spent, from a
 * time-weighted histogram of concurrency (snapshot bundle "concurrency"). */
static double conc_quantile(const uint64_t *levels, double q)
{
	double total = 0, cum = 0;

	for (int k = 0; k < SNAP_CONC_LEVELS; k++)
		total += (double)levels[k];
	if (total <= 0)
		return 0;
	for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
		cum += (double)levels[k];
		if (cum >= q * total)
			return k;
	}
	return SNAP_CONC_LEVELS - 1;
}

static double conc_mean(const uint64_t *levels)
{
	double total = 0, sum = 0;

	for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
		total += (double)levels[k];
		sum += (double)k * (double)levels[k];
	}
	return total > 0 ? sum / total : NAN;
}

/* A bundle's servers: command line > flow file > observed (docs/model.md). */
static void size_pool(struct build *b, struct model_station *st, const struct snap_bundle *sb)
{
	const struct model_servers *ci = find_servers(b->o->instances, b->o->n_instances, st->name);
	const struct model_servers *cw = find_servers(b->o->workers, b->o->n_workers, st->name);
	int pids = sb && sb->n_pids > 0 ? sb->n_pids : 1;
	int threads = sb ? sb->threads : 0;
	int inst = ci ? ci->value : sb && sb->instances > 0 ? sb->instances : 0;
	int work = cw ? cw->value : sb && sb->workers > 0 ? sb->workers : 0;
	bool conc_source = false;

	st->concurrency_mean = NAN;
	if (sb && sb->conc_measured && sb->inflight_max > 0) {
		/* what ran at once: the most threads inside its handlers at once,
		 * per process, not every thread ever seen (a thread-per-request
		 * server starts thousands) */
		double live = conc_quantile(sb->live_ns, 0.99);

		threads = sb->inflight_max * pids;
		conc_source = true;
		st->concurrency_mean = conc_mean(sb->inflight_ns) * pids;
		st->concurrency_max = sb->inflight_max;
		if (!inst && !work && live > sb->inflight_max + 1)
			add_note(b->m, "%s: %.0f threads that ran its handlers stayed alive at once, but "
				 "at most %d ran them at a time: the pool counts %d; if its workers are "
				 "a pool of %.0f, say workers: %.0f in the flow file (or --workers)",
				 st->name, live, sb->inflight_max, sb->inflight_max, live, live);
	}
	b->sp[st - b->m->stations].observed = sb && sb->serial ? 1 : threads > 0 ? threads : pids;
	if (sb && sb->serial) {
		st->kind = STATION_SERIAL;
		st->servers = st->instances = st->workers = 1;
		st->servers_source = "serial";
		return;
	}
	if (!inst && !work) {
		st->servers = threads > 0 ? threads : pids;
		st->instances = pids;
		st->workers = (st->servers + pids - 1) / pids;
		st->servers_source = "observed";
		st->servers_basis = conc_source ? "concurrency" : "threads";
		if (threads <= 0)
			add_note(b->m, "%s: no thread count in the snapshot; assuming one worker per "
				 "process (set workers: in the flow file or --workers)", st->name);
		return;
	}
	if (!inst)
		inst = pids;
	if (!work)
		work = threads > 0 ? (int)lround((double)threads / pids) : 1;
	if (work < 1)
		work = 1;
	st->instances = inst;
	st->workers = work;
	st->servers = inst * work;
	st->servers_source = ci || cw ? "command line" : "flow file";
}

static void build_handlers(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	bool any_oncpu = false, all_oncpu = true;

	m->n_handlers = b->H;
	m->handlers = xcalloc((size_t)b->H + 1, sizeof(*m->handlers));
	b->bundle_of = xcalloc((size_t)b->H + 1, sizeof(*b->bundle_of));
	b->pc_in = xcalloc((size_t)b->H + 1, sizeof(double));
	b->pc_call = xcalloc((size_t)b->H + 1, sizeof(double));

	/* the bundles' stations, in the snapshot's order, then any bundle a
	 * handler names that the snapshot does not list */
	for (int i = 0; i < s->n_bundles; i++) {
		struct model_station *st = new_station(b, s->bundles[i].name ? s->bundles[i].name : "",
						       STATION_POOL);

		st->bundle = i;
		size_pool(b, st, &s->bundles[i]);
	}
	for (int i = 0; i < b->H; i++) {
		const struct snap_handler *h = &s->handlers[i];
		const char *bn = h->bundle ? h->bundle : "";
		int st = bundle_station(m, bn);

		if (st < 0) {
			struct model_station *ns = new_station(b, bn, STATION_POOL);

			size_pool(b, ns, NULL);
			st = m->n_stations - 1;
		}
		b->bundle_of[i] = st;
		if (h->calls) {
			any_oncpu |= h->oncpu_measured;
			all_oncpu &= h->oncpu_measured;
		}
	}
	b->cpu_known = any_oncpu && all_oncpu;

	for (int i = 0; i < b->H; i++) {
		const struct snap_handler *h = &s->handlers[i];
		int cls = site_class_index(h->site_class);

		b->pc_in[i] = h->probe_cost_ns > 0 ? h->probe_cost_ns
			    : s->probe_cost_ns > 0 ? s->probe_cost_ns : 0;
		b->pc_call[i] = cls && s->probe_cost[cls].measured &&
					s->probe_cost[cls].per_call_ns >= b->pc_in[i]
				? s->probe_cost[cls].per_call_ns : b->pc_in[i];
	}
	/* per-call means, corrected for the probes inside each measured window */
	for (int i = 0; i < b->H; i++) {
		const struct snap_handler *h = &s->handlers[i];
		struct model_handler *mh = &m->handlers[i];
		struct handler_summary sum;
		double calls = (double)h->calls, kids = 0, kids_out = 0;

		mh->id = xstrdup(h->id ? h->id : "");
		mh->bundle = xstrdup(h->bundle ? h->bundle : "");
		mh->station = b->bundle_of[i];
		mh->calls = h->calls;
		mh->serial = h->serial;
		mh->raw_oncpu_ns = mh->oncpu_ns = NAN;
		if (!h->calls)
			continue;
		for (int e = b->out_start[i]; e < b->out_start[i + 1]; e++) {
			int to = b->edges[e].to;

			kids += b->edges[e].calls / calls * b->pc_call[to];
			kids_out += b->edges[e].calls / calls * (b->pc_call[to] - b->pc_in[to]);
		}
		snapshot_summarize(h, &sum);
		mh->raw_mean_ns = (double)h->total_ns / calls;
		mh->raw_self_ns = (double)h->self_ns / calls;
		if (h->probe_measured) {
			/* the kernel subtracted each call's own probes and those of
			 * every probed call nested in it, at the costs of the moment */
			mh->probe_per_call = true;
			mh->probe_ns = (double)h->probe_ns / calls;
			mh->probe_self_ns = (double)h->self_probe_ns / calls;
			mh->probe_unc_ns = probe_uncertainty(s, h);
		} else {
			mh->probe_ns = b->pc_in[i] + kids;
			mh->probe_self_ns = b->pc_in[i] + kids_out;
		}
		mh->probe_dominated = mh->probe_ns > 0.25 * mh->raw_mean_ns;
		mh->min_ns = fmax(0, (double)h->min_ns - mh->probe_ns);
		mh->p50_ns = fmax(0, sum.p50_ns - mh->probe_ns);
		mh->p90_ns = fmax(0, sum.p90_ns - mh->probe_ns);
		mh->p99_ns = fmax(0, sum.p99_ns - mh->probe_ns);
		mh->max_ns = fmax(0, (double)h->max_ns - mh->probe_ns);
		/* not clamped at the raw figure's share: an over-correction shows */
		mh->mean_ns = fmax(0, mh->raw_mean_ns - mh->probe_ns);
		mh->self_ns = clamp(mh->raw_self_ns - mh->probe_self_ns, 0, mh->mean_ns);
		mh->stddev_ns = sum.stddev_ns;
		if (h->oncpu_measured) {
			/* a probe's work is on the CPU, in the thread */
			mh->raw_oncpu_ns = (double)h->oncpu_ns / calls;
			mh->oncpu_ns = clamp(mh->raw_oncpu_ns - mh->probe_ns, 0, mh->mean_ns);
		}
	}
	/* on-CPU outside nested handlers, held times, top-level shares */
	{
		double *nested_same = xcalloc((size_t)b->H + 1, sizeof(double));

		for (int e = 0; e < b->n_edges; e++)
			if (b->bundle_of[b->edges[e].from] == b->bundle_of[b->edges[e].to])
				nested_same[b->edges[e].to] += b->edges[e].calls;
		for (int i = 0; i < b->H; i++) {
			struct model_handler *mh = &m->handlers[i];
			double calls = (double)mh->calls, kid_cpu = 0;

			if (!mh->calls)
				continue;
			mh->held_ns = mh->self_ns;
			mh->held_oncpu_ns = 0;
			for (int e = b->out_start[i]; e < b->out_start[i + 1]; e++) {
				const struct model_handler *c = &m->handlers[b->edges[e].to];
				double per = b->edges[e].calls / calls;

				if (isfinite(c->oncpu_ns))
					kid_cpu += per * c->oncpu_ns;
				/* LQNS: a synchronous caller holds its worker while a callee of
				 * another bundle runs; the callee's station gets its own time */
				if (b->bundle_of[b->edges[e].to] != b->bundle_of[i]) {
					mh->held_ns += per * c->mean_ns;
					if (isfinite(c->oncpu_ns))
						mh->held_oncpu_ns += per * c->oncpu_ns;
				}
			}
			if (isfinite(mh->oncpu_ns))
				mh->oncpu_self_ns = clamp(mh->oncpu_ns - kid_cpu, 0, mh->self_ns);
			mh->held_oncpu_ns = b->cpu_known ? fmin(mh->held_oncpu_ns + mh->oncpu_self_ns,
								mh->held_ns) : 0;
			mh->top_share = clamp(1 - nested_same[i] / calls, 0, 1);
			mh->held0_ns = mh->held_ns;
		}
		free(nested_same);
	}
	if (!b->cpu_known && any_oncpu)
		add_note(m, "on-CPU time was measured for some handlers only: the model has no CPU "
			 "station");
	else if (!b->cpu_known)
		add_note(m, "on-CPU time was not measured (--no-oncpu, or the kernel refused the "
			 "sched_switch probe): the model has no CPU station");
}

/* ---- flows: visit ratios -------------------------------------------------- */

/* Calls of each handler nested under one call of b, at any depth, from the
 * observed edges (each edge's calls spread over all calls of its parent). */
static void nested_from_edges(struct build *b, int h, double factor, int depth, bool *on_path,
			      double *nu)
{
	if (depth > 32 || factor < 1e-12)
		return;
	on_path[h] = true;
	for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
		int to = b->edges[e].to;
		double per;

		if (on_path[to] || !b->m->handlers[h].calls)
			continue;
		per = factor * b->edges[e].calls / (double)b->m->handlers[h].calls;
		nu[to] += per;
		nested_from_edges(b, to, per, depth + 1, on_path, nu);
	}
	on_path[h] = false;
}

/* What runs nested under one call of handler t: exact from a flow whose entry
 * t is (its visit counts), else from the edges. */
static void nested_structure(struct build *b, int t, double *nu)
{
	const struct snapshot *s = b->s;

	for (int g = 0; g < b->F; g++) {
		if (b->m->flows[g].entry_handler == t && s->flows[g].invocations) {
			for (int h = 0; h < b->H; h++)
				if (h != t)
					nu[h] = AT(b->vc, b, g, h) / (double)s->flows[g].invocations;
			return;
		}
	}
	{
		bool *on_path = xcalloc((size_t)b->H + 1, sizeof(bool));

		nested_from_edges(b, t, 1, 0, on_path, nu);
		free(on_path);
	}
}

static int find_async_edge(struct async_edge *ae, int n, int from, int to)
{
	for (int i = 0; i < n; i++)
		if (ae[i].from == from && ae[i].to == to)
			return i;
	return -1;
}

/*
 * Asynchronous calls (a ~> b): b's calls that ran outside any handler are
 * split over the flows that declare a call into b, in proportion to the
 * calls of the declared callers in those flows, with one ratio (b calls per
 * caller call) per target. With one caller that ratio is exact. With
 * several callers there is one equation (b's count) for several ratios: the
 * model takes the least-squares solution that keeps the ratios equal, and
 * says so. Chains (a ~> b ~> c) and b's own nested calls follow; cycles
 * through ~> are iterated to a fixed point.
 */
static void attribute_async(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	struct async_edge *ae = NULL;
	int n_ae = 0, *targets = NULL, n_targets = 0, round;
	double **nu = NULL, *resid = NULL, *ratio = NULL, *next = NULL;
	size_t cells = (size_t)b->F * (size_t)b->H;

	for (int f = 0; f < b->F; f++) {
		const struct snap_flow *sf = &s->flows[f];

		for (int d = 0; d < sf->n_declared; d++) {
			int from, to, k;

			if (!sf->declared[d].async)
				continue;
			from = handler_ix(s, sf->declared[d].from);
			to = handler_ix(s, sf->declared[d].to);
			if (from < 0 || to < 0)
				continue;
			k = find_async_edge(ae, n_ae, from, to);
			if (k < 0) {
				ae = xrealloc(ae, (size_t)(n_ae + 1) * sizeof(*ae));
				ae[n_ae].from = from;
				ae[n_ae].to = to;
				ae[n_ae].waits = false;
				ae[n_ae].flows = xcalloc((size_t)b->F + 1, sizeof(bool));
				k = n_ae++;
				{
					bool seen = false;

					for (int t = 0; t < n_targets; t++)
						seen |= targets[t] == to;
					if (!seen) {
						targets = xrealloc(targets, (size_t)(n_targets + 1) *
									    sizeof(*targets));
						targets[n_targets++] = to;
					}
				}
			}
			ae[k].flows[f] = true;
			ae[k].waits |= sf->declared[d].waits;
		}
	}
	if (!n_ae)
		return;
	nu = xcalloc((size_t)n_targets, sizeof(*nu));
	resid = xcalloc((size_t)n_targets, sizeof(*resid));
	ratio = xcalloc((size_t)n_targets, sizeof(*ratio));
	next = xcalloc(cells + 1, sizeof(*next));
	for (int t = 0; t < n_targets; t++) {
		int h = targets[t];

		nu[t] = xcalloc((size_t)b->H + 1, sizeof(double));
		nested_structure(b, h, nu[t]);
		resid[t] = fmax(0, (double)m->handlers[h].calls - b->nested_any[h]);
	}
	for (round = 0; round < 200; round++) {
		double diff = 0, scale = 1;

		memset(next, 0, cells * sizeof(*next));
		for (int t = 0; t < n_targets; t++) {
			double sum = 0;

			for (int k = 0; k < n_ae; k++) {
				if (ae[k].to != targets[t])
					continue;
				for (int f = 0; f < b->F; f++)
					if (ae[k].flows[f])
						sum += b->outer[f] * V(b, f, ae[k].from);
			}
			ratio[t] = sum > 0 ? resid[t] / sum : 0;
			for (int k = 0; k < n_ae; k++) {
				if (ae[k].to != targets[t])
					continue;
				for (int f = 0; f < b->F; f++) {
					double add;

					if (!ae[k].flows[f])
						continue;
					add = ratio[t] * V(b, f, ae[k].from);
					AT(next, b, f, targets[t]) += add;
					for (int h = 0; h < b->H; h++)
						if (nu[t][h] > 0)
							AT(next, b, f, h) += add * nu[t][h];
				}
			}
		}
		for (size_t i = 0; i < cells; i++) {
			diff = fmax(diff, fabs(next[i] - b->va[i]));
			scale = fmax(scale, fabs(next[i]));
		}
		memcpy(b->va, next, cells * sizeof(*next));
		if (diff <= 1e-12 * scale)
			break;
	}
	if (round == 200)
		add_note(m, "asynchronous calls form a cycle whose visit ratios did not settle; the "
			 "visits of its handlers are approximate");
	for (int k = 0; k < n_ae; k++) {
		if (!ae[k].waits)
			continue;
		for (int t = 0; t < n_targets; t++) {
			if (targets[t] != ae[k].to || !(ratio[t] > 0))
				continue;
			b->remote = xrealloc(b->remote, (size_t)(b->n_remote + 1) * sizeof(*b->remote));
			b->remote[b->n_remote++] = (struct remote_call){ ae[k].from, ae[k].to, ratio[t] };
		}
	}
	/* say what was fitted */
	for (int t = 0; t < n_targets; t++) {
		int h = targets[t], callers = 0;
		char *list = xstrdup(""), *flows = xstrdup("");

		for (int k = 0; k < n_ae; k++) {
			char *tmp;

			if (ae[k].to != h)
				continue;
			callers++;
			tmp = xasprintf("%s%s%s", list, *list ? ", " : "", m->handlers[ae[k].from].id);
			free(list);
			list = tmp;
			for (int f = 0; f < b->F; f++) {
				if (!ae[k].flows[f] || strstr(flows, m->flows[f].name))
					continue;
				tmp = xasprintf("%s%s%s", flows, *flows ? ", " : "", m->flows[f].name);
				free(flows);
				flows = tmp;
			}
		}
		if (callers > 1) {
			for (int k = 0; k < n_ae; k++)
				for (int f = 0; f < b->F; f++)
					if (ae[k].to == h && ae[k].flows[f])
						m->flows[f].least_squares = true;
			add_note(m, "%s: %.0f calls from %d asynchronous callers (%s): their split "
				 "between flows %s is under-determined; fitted by least squares with one "
				 "ratio for all callers (%.3g calls per caller call)",
				 m->handlers[h].id, resid[t], callers, list, flows, ratio[t]);
		} else if (resid[t] > 0 && ratio[t] == 0) {
			add_note(m, "%s: %.0f calls not attributed: its declared asynchronous caller "
				 "%s never ran in flows %s", m->handlers[h].id, resid[t], list, flows);
		}
		free(list);
		free(flows);
	}
	for (int t = 0; t < n_targets; t++)
		free(nu[t]);
	for (int k = 0; k < n_ae; k++)
		free(ae[k].flows);
	free(nu);
	free(ae);
	free(targets);
	free(resid);
	free(ratio);
	free(next);
}

static void build_flows(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	size_t cells = (size_t)b->F * (size_t)b->H;

	m->n_flows = b->F;
	m->flows = xcalloc((size_t)b->F + 1, sizeof(*m->flows));
	b->vs = xcalloc(cells + 1, sizeof(double));
	b->va = xcalloc(cells + 1, sizeof(double));
	b->vc = xcalloc(cells + 1, sizeof(double));
	b->outer = xcalloc((size_t)b->F + 1, sizeof(double));
	for (int f = 0; f < b->F; f++) {
		const struct snap_flow *sf = &s->flows[f];
		struct model_flow *mf = &m->flows[f];
		int e = handler_ix(s, sf->entry);
		double inv = (double)sf->invocations, rec;

		mf->name = xstrdup(sf->name ? sf->name : "");
		mf->entry = xstrdup(sf->entry ? sf->entry : "");
		mf->entry_handler = e;
		mf->alone_bottleneck = mf->saturated_station = -1;
		mf->visits = xcalloc((size_t)b->H + 1, sizeof(double));
		mf->visits_async = xcalloc((size_t)b->H + 1, sizeof(double));
		mf->inflight_sampled = mf->inflight_kernel = NAN;
		mf->measured_mean_ns = mf->measured_mean_raw_ns = NAN;
		for (int v = 0; v < sf->n_visits; v++) {
			int h = handler_ix(s, sf->visits[v].handler);

			if (h >= 0)
				AT(b->vc, b, f, h) = (double)sf->visits[v].calls;
		}
		if (e < 0 || !inv) {
			add_note(m, "flow %s: its entry %s never ran during the recording: no rate and "
				 "no demands", mf->name, mf->entry);
			continue;
		}
		/* recursion: entry calls nested in the entry belong to the outer call */
		rec = AT(b->vc, b, f, e);
		b->outer[f] = rec < inv ? inv - rec : inv;
		for (int h = 0; h < b->H; h++)
			AT(b->vs, b, f, h) = AT(b->vc, b, f, h) / b->outer[f];
		AT(b->vs, b, f, e) = inv / b->outer[f];
		mf->measured_mean_raw_ns = m->handlers[e].raw_mean_ns;
		mf->measured_mean_ns = m->handlers[e].mean_ns;
		mf->inflight_sampled = s->handlers[e].inflight_mean;
		mf->inflight_kernel = (double)s->handlers[e].total_ns / (s->duration_s * NS);
	}
	attribute_async(b);
	/* independent arrivals: not the entry calls made inside other flows */
	for (int f = 0; f < b->F; f++) {
		struct model_flow *mf = &m->flows[f];
		int e = mf->entry_handler;
		double inside = 0, arrivals;
		char *others;

		if (!b->outer[f])
			continue;
		others = xstrdup("");
		for (int g = 0; g < b->F; g++) {
			double n;

			if (g == f)
				continue;
			n = AT(b->vc, b, g, e) * b->outer[f] / (double)s->flows[f].invocations +
			    b->outer[g] * AT(b->va, b, g, e);
			if (n > 0.5) {
				char *tmp = xasprintf("%s%s%s", others, *others ? ", " : "", m->flows[g].name);

				free(others);
				others = tmp;
			}
			inside += n;
		}
		arrivals = fmax(0, b->outer[f] - inside);
		if (inside > 0.5)
			add_note(m, "flow %s: its entry %s also runs inside flow%s %s (%.0f calls); its "
				 "rate counts only its %.0f own arrivals", mf->name, mf->entry,
				 strchr(others, ',') ? "s" : "", others, fmin(inside, b->outer[f]),
				 arrivals);
		free(others);
		mf->measured_rate_per_s = arrivals / s->duration_s;
		for (int h = 0; h < b->H; h++) {
			mf->visits[h] = V(b, f, h);
			mf->visits_async[h] = AT(b->va, b, f, h);
		}
	}
	/* calls no flow explains: background load */
	for (int h = 0; h < b->H; h++) {
		struct model_handler *mh = &m->handlers[h];
		double attributed = 0, calls = (double)mh->calls;

		for (int f = 0; f < b->F; f++)
			attributed += m->flows[f].measured_rate_per_s * s->duration_s * V(b, f, h);
		if (attributed > calls * 1.01 + 1)
			add_note(m, "%s: the flows account for %.0f calls but it made %.0f; its "
				 "visit ratios are over-estimated", mh->id, attributed, calls);
		mh->unattributed_calls = fmax(0, calls - attributed);
	}
}

/* ---- stations -------------------------------------------------------------- */

static void station_add_handler(struct build *b, int st, int h)
{
	struct station_priv *p = &b->sp[st];

	p->handlers = xrealloc(p->handlers, (size_t)(p->n_handlers + 1) * sizeof(*p->handlers));
	p->handlers[p->n_handlers++] = h;
}

/* Time of handler h that station st counts, per call: own work (intrinsic)
 * or as measured. */
static double station_time(const struct build *b, int st, int h, bool intrinsic)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[h];

	switch (S->kind) {
	case STATION_CPU:
		return mh->cpu_demand_ns;
	case STATION_LOCK:
		return mh->mean_ns;
	default:
		return intrinsic ? mh->held0_ns : mh->held_ns;
	}
}

static double station_oncpu(const struct build *b, int st, int h)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[h];

	switch (S->kind) {
	case STATION_CPU:
		return mh->cpu_demand_ns;
	case STATION_LOCK:
		return isfinite(mh->oncpu_ns) ? mh->oncpu_ns : 0;
	default:
		return mh->held_oncpu_ns;
	}
}

/* Servers of a pool while recording (observed) or as configured. */
static int pool_servers(const struct build *b, int k, bool observed)
{
	return observed ? b->sp[k].observed : b->m->stations[k].servers;
}

static int total_workers(const struct build *b, bool observed)
{
	const struct model *m = b->m;
	int w = 0;

	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_POOL || m->stations[k].kind == STATION_SERIAL)
			w += pool_servers(b, k, observed);
	return w;
}

/* The CPU stretch at offered load A, capped: the run queue never holds more
 * threads than there are workers to run handlers (as recorded, or as
 * configured for a prediction). */
static double cpu_stretch(const struct build *b, int cpu, double A, bool observed)
{
	double cap, st;

	if (cpu < 0)
		return 1;
	cap = fmax(1, (double)total_workers(b, observed) / b->m->stations[cpu].servers);
	st = mmc_stretch(b->m->stations[cpu].servers, A);
	return fmin(st, cap);
}

/* Wait for a serial handler at offered load A, capped: at most every other
 * worker of its bundle is ahead. */
static double lock_wait(const struct build *b, int st, double A, bool observed)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[S->handler];
	int others = pool_servers(b, mh->station, observed) - 1;
	double cap = others > 0 ? others * mh->mean_ns : 0;
	double scv = mh->mean_ns > 0 ? mh->stddev_ns * mh->stddev_ns / (mh->mean_ns * mh->mean_ns) : 1;

	return fmin(ggc_wait(1, A, mh->mean_ns, 1, scv), cap);
}

/* The snapshot's probe slot named key ("push", "ret"...), or NULL. */
static const struct snap_slot_cost *slot_named(const struct snapshot *s, const char *key)
{
	for (int k = 0; key && k < SNAP_SLOTS; k++)
		if (snapshot_slot_key[k] && s->probe_slots[k].measured &&
		    !strcmp(snapshot_slot_key[k], key))
			return &s->probe_slots[k];
	return NULL;
}

/* What one call's own two probes cost the thread, from its entry and exit
 * kinds (snapshot entry_site/exit_site), 0 when unknown. */
static double pair_hit_ns(const struct snapshot *s, const struct snap_handler *h)
{
	static const struct { const char *site, *key; } names[] = {
		{ "nop5", "nop5" }, { "nop", "nop" }, { "push", "push" }, { "branch", "branch" },
		{ "other", "step" }, { "usdt", "usdt" }, { "uretprobe", "uretprobe" },
		{ "ret", "ret" }, { "tail-call jmp", "jmp" },
	};
	const struct snap_slot_cost *e = NULL, *x = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (h->entry_site && !strcmp(h->entry_site, names[i].site))
			e = slot_named(s, names[i].key);
		if (h->exit_site && !strcmp(h->exit_site, names[i].site))
			x = slot_named(s, names[i].key);
	}
	if (h->exit_site && !strcmp(h->exit_site, "usdt"))
		x = slot_named(s, "usdt_return");
	return (e ? e->hit_ns : 0) + (x ? x->hit_ns : 0);
}

/*
 * The CPU station's demand. Capacity counts every CPU-second a bundle's
 * processes spend, in the named handlers or not (a server parses, reads
 * sockets and runs its framework outside them): the time its processes
 * used in the window (snapshot bundle cpu_s), less what the probes took
 * there, is spread over its handlers in proportion to their own on-CPU
 * time. And a bundle that may use fewer CPUs than the host has (affinity,
 * cpuset, a quota: bundle cpus) gets CPUs of that speed: the station has
 * ceil(cpus) servers, each doing cpus / ceil(cpus) of a CPU's work.
 */
static void cpu_demands(struct build *b, double *cpus_out, const char **source_out)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	double cpus = 0;
	const char *source = NULL;
	bool limited = false;

	for (int h = 0; h < b->H; h++)
		m->handlers[h].cpu_demand_ns = m->handlers[h].oncpu_self_ns;
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *sb = &s->bundles[i];
		double handler_cpu = 0, probes = 0, outside, scale;
		int st = bundle_station(m, sb->name ? sb->name : "");

		if (sb->cpus > 0) {
			cpus += sb->cpus;
			limited |= sb->cpus < s->nproc - 1e-9;
			source = sb->cpus_source;
		}
		if (!sb->cpu_measured || st < 0 || s->duration_s <= 0)
			continue;
		for (int h = 0; h < b->H; h++) {
			if (b->bundle_of[h] != st || !m->handlers[h].calls)
				continue;
			handler_cpu += (double)m->handlers[h].calls * m->handlers[h].oncpu_self_ns;
			probes += (double)m->handlers[h].calls * pair_hit_ns(s, &s->handlers[h]);
		}
		outside = sb->cpu_s * NS - probes - handler_cpu;
		if (handler_cpu <= 0 || outside <= 0)
			continue;
		scale = 1 + outside / handler_cpu;
		m->stations[st].cpu_outside_share = outside / (outside + handler_cpu);
		for (int h = 0; h < b->H; h++)
			if (b->bundle_of[h] == st)
				m->handlers[h].cpu_demand_ns *= scale;
	}
	if (limited && cpus > 0 && cpus < s->nproc) {
		double speed = ceil(cpus - 1e-9) / cpus;

		for (int h = 0; h < b->H; h++)
			m->handlers[h].cpu_demand_ns *= speed;
		*cpus_out = cpus;
		*source_out = source;
	} else {
		*cpus_out = s->nproc;
		*source_out = "nproc";
	}
}

/*
 * What other processes kept busy of the CPUs the bundles use, while
 * recording: the host's busy time less the bundles' own (snapshot
 * host_cpu_s, bundle cpu_s). It does not grow with the service's load. Only
 * when the bundles use the host's CPUs: others cannot take a cgroup's quota,
 * and whether they ran inside a cpuset is not known.
 */
static double others_cpu_busy(const struct build *b, double cpus)
{
	const struct snapshot *s = b->s;
	double own = 0;

	if (!s->host_cpu_measured || s->duration_s <= 0 || cpus < s->nproc - 1e-9)
		return 0;
	for (int i = 0; i < s->n_bundles; i++) {
		if (!s->bundles[i].cpu_measured)
			return 0;
		own += s->bundles[i].cpu_s;
	}
	return fmax(0, (s->host_cpu_s - own) / s->duration_s);
}

static void build_stations(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	double dur = s->duration_s;

	b->cpu_station = -1;
	b->lock_station = xcalloc((size_t)b->H + 1, sizeof(int));
	b->lock_wait_meas = xcalloc((size_t)b->H + 1, sizeof(double));
	for (int h = 0; h < b->H; h++) {
		b->lock_station[h] = -1;
		station_add_handler(b, b->bundle_of[h], h);
	}
	/* a serial handler inside a parallel bundle: a one-server station */
	for (int h = 0; h < b->H; h++) {
		struct model_station *st;

		if (!m->handlers[h].serial || m->stations[b->bundle_of[h]].kind == STATION_SERIAL)
			continue;
		st = new_station(b, m->handlers[h].id, STATION_LOCK);
		st->handler = h;
		st->bundle = m->stations[b->bundle_of[h]].bundle;
		st->servers = st->instances = st->workers = 1;
		st->servers_source = "serial";
		b->sp[m->n_stations - 1].observed = 1;
		b->lock_station[h] = m->n_stations - 1;
		station_add_handler(b, m->n_stations - 1, h);
	}
	if (b->cpu_known) {
		double cpus = s->nproc;
		const char *source = "nproc";

		cpu_demands(b, &cpus, &source);
		if (s->nproc > 0) {
			const char *name = model_station_index(m, "cpu") < 0 ? "cpu" : "host-cpu";
			struct model_station *st = new_station(b, name, STATION_CPU);

			st->servers = (int)ceil(cpus - 1e-9);
			st->cpus = cpus;
			st->servers_source = source;
			st->others_busy = others_cpu_busy(b, cpus);
			b->sp[m->n_stations - 1].observed = st->servers;
			b->cpu_station = m->n_stations - 1;
			for (int h = 0; h < b->H; h++)
				station_add_handler(b, b->cpu_station, h);
			if (s->n_hosts > 1)
				add_note(m, "%s: the CPUs of %d hosts pooled as one station of %d",
					 name, s->n_hosts, s->nproc);
		} else {
			add_note(m, "the snapshot does not say how many CPUs the host has: no CPU "
				 "station");
		}
	}
	/* waits that the measured held times contain: for the CPU and for serial
	 * handlers (their callers wait for them) */
	{
		double cpu_busy = 0, servers = b->cpu_station >= 0
						  ? m->stations[b->cpu_station].servers : s->nproc;

		/* in units of the station's servers (a quota's slower CPUs) */
		for (int h = 0; h < b->H; h++)
			cpu_busy += (double)m->handlers[h].calls * m->handlers[h].cpu_demand_ns;
		cpu_busy /= dur * NS;
		b->stretch_meas = cpu_stretch(b, b->cpu_station, cpu_busy, true);
		if (b->cpu_station >= 0 && servers > 0 && cpu_busy / servers > 0.8)
			add_note(m, "the bundles kept their CPUs %.0f%% busy while recording: the waits "
				 "for a CPU inside their times are estimated (M/M/c, capped by the "
				 "workers that exist) and taken out of the pools' own demand",
				 100 * cpu_busy / servers);
	}
	for (int h = 0; h < b->H; h++) {
		int l = b->lock_station[h];
		double A;

		if (l < 0)
			continue;
		A = (double)m->handlers[h].calls * m->handlers[h].mean_ns / (dur * NS);
		b->lock_wait_meas[h] = lock_wait(b, l, A, true);
		if (A > 1.02)
			add_note(m, "%s: serial, yet busy %.0f%% of the time, more than one server can "
				 "be: its time includes waiting for itself; probe only the serialized "
				 "part", m->handlers[h].id, 100 * A);
	}
	for (int h = 0; h < b->H; h++) {
		struct model_handler *mh = &m->handlers[h];
		double wait = mh->held_oncpu_ns * (b->stretch_meas - 1), calls = (double)mh->calls;

		if (!mh->calls)
			continue;
		for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
			int to = b->edges[e].to;

			if (b->lock_station[to] >= 0 && b->bundle_of[to] == b->bundle_of[h])
				wait += b->edges[e].calls / calls * b->lock_wait_meas[to];
		}
		mh->held0_ns = mh->held_ns - fmin(mh->held_ns - mh->held_oncpu_ns, wait);
	}
	/* demands per flow, background, busy checks, service variability */
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];
		struct station_priv *p = &b->sp[k];
		double w_sum = 0, m1 = 0, m2 = 0, sampled = 0;

		for (int i = 0; i < p->n_handlers; i++) {
			int h = p->handlers[i];
			const struct model_handler *mh = &m->handlers[h];
			double t0 = station_time(b, k, h, true), tm = station_time(b, k, h, false);
			double calls = (double)mh->calls, share = st->kind == STATION_POOL ||
					st->kind == STATION_SERIAL ? mh->top_share : 1;

			if (!mh->calls)
				continue;
			for (int f = 0; f < b->F; f++) {
				double v = V(b, f, h);

				st->demand_ns[f] += v * t0;
				st->demand_measured_ns[f] += v * tm;
				st->oncpu_ns[f] += v * station_oncpu(b, k, h);
				st->visits[f] += v * share;
			}
			p->bg0 += mh->unattributed_calls * t0 / (dur * NS);
			p->bgm += mh->unattributed_calls * tm / (dur * NS);
			p->bg_visits += mh->unattributed_calls * share / dur;
			st->busy_measured += calls * tm / (dur * NS);
			sampled += s->handlers[h].inflight_mean * share;
			if (st->kind != STATION_CPU) {
				double w = calls * share;

				w_sum += w;
				m1 += w * mh->mean_ns;
				m2 += w * (mh->stddev_ns * mh->stddev_ns + mh->mean_ns * mh->mean_ns);
			}
		}
		if (st->kind != STATION_CPU && (sampled > 0 || st->busy_measured == 0))
			st->busy_sampled = sampled;
		/* the kernel's own count of threads inside the bundle's handlers,
		 * time-weighted: exact where the samples were a handful */
		if (st->kind == STATION_POOL && isfinite(st->concurrency_mean))
			st->busy_sampled = st->concurrency_mean;
		st->utilization_measured = st->servers ? st->busy_measured / st->servers : 0;
		st->scv = 1;
		if (st->kind != STATION_CPU && w_sum > 0 && m1 > 0) {
			m1 /= w_sum;
			m2 /= w_sum;
			st->scv = fmax(0, m2 / (m1 * m1) - 1);
		}
		for (int f = 0; f < b->F; f++)
			st->busy_model += m->flows[f].measured_rate_per_s * st->demand_measured_ns[f] / NS;
	}
}

/* ---- evaluation at a set of rates ------------------------------------------ */

struct eval {
	double *held;		/* per handler: held time at these rates */
	double *lock_w;		/* per station: LOCK wait per visit */
	double stretch;
	double *u, *u_loaded, *service, *pwait, *wait;
	double *mean, *p95, *p99; /* per flow */
	double *service_f;	/* per flow: time inside the entry's bundle, without the wait */
	bool *exceeds;
	int *saturated;
};

static void eval_alloc(struct build *b, struct eval *ev)
{
	int K = b->m->n_stations;

	memset(ev, 0, sizeof(*ev));
	ev->held = xcalloc((size_t)b->H + 1, sizeof(double));
	ev->lock_w = xcalloc((size_t)K + 1, sizeof(double));
	ev->u = xcalloc((size_t)K + 1, sizeof(double));
	ev->u_loaded = xcalloc((size_t)K + 1, sizeof(double));
	ev->service = xcalloc((size_t)K + 1, sizeof(double));
	ev->pwait = xcalloc((size_t)K + 1, sizeof(double));
	ev->wait = xcalloc((size_t)K + 1, sizeof(double));
	ev->mean = xcalloc((size_t)b->F + 1, sizeof(double));
	ev->p95 = xcalloc((size_t)b->F + 1, sizeof(double));
	ev->p99 = xcalloc((size_t)b->F + 1, sizeof(double));
	ev->service_f = xcalloc((size_t)b->F + 1, sizeof(double));
	ev->exceeds = xcalloc((size_t)b->F + 1, sizeof(bool));
	ev->saturated = xcalloc((size_t)b->F + 1, sizeof(int));
}

static void eval_free(struct eval *ev)
{
	free(ev->held);
	free(ev->lock_w);
	free(ev->u);
	free(ev->u_loaded);
	free(ev->service);
	free(ev->pwait);
	free(ev->wait);
	free(ev->mean);
	free(ev->p95);
	free(ev->p99);
	free(ev->service_f);
	free(ev->exceeds);
	free(ev->saturated);
}

/* The entry's measured duration distribution, shifted by the probe's cost
 * and normalized to mean 1: the shape of a flow's service time. Without a
 * histogram, an exponential. */
static void entry_shape(struct build *b, int f)
{
	const struct model_flow *mf = &b->m->flows[f];
	int n = 0, cap = 0;
	double *lo = NULL, *hi = NULL, *w = NULL, mean = 0, total = 0;

	if (mf->entry_handler >= 0) {
		const struct snap_handler *h = &b->s->handlers[mf->entry_handler];
		double ov = b->m->handlers[mf->entry_handler].probe_ns;

		for (unsigned int k = 0; k < HIST_BUCKETS; k++) {
			double l, u;

			if (!h->hist[k])
				continue;
			l = (double)hist_bucket_lower(k);
			u = k + 1 < HIST_BUCKETS ? (double)hist_bucket_upper(k) : fmax(l, (double)h->max_ns);
			if (h->min_ns && l < (double)h->min_ns)
				l = fmin((double)h->min_ns, u);
			if (h->max_ns && u > (double)h->max_ns + 1)
				u = fmax(l, (double)h->max_ns + 1);
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				lo = xrealloc(lo, (size_t)cap * sizeof(double));
				hi = xrealloc(hi, (size_t)cap * sizeof(double));
				w = xrealloc(w, (size_t)cap * sizeof(double));
			}
			lo[n] = fmax(0, l - ov);
			hi[n] = fmax(0, u - ov);
			w[n] = (double)h->hist[k];
			mean += w[n] * (lo[n] + hi[n]) / 2;
			total += w[n];
			n++;
		}
	}
	if (!n || !(mean > 0)) {
		/* exponential, mean 1: 400 pieces up to 20 means */
		n = 400;
		lo = xrealloc(lo, (size_t)n * sizeof(double));
		hi = xrealloc(hi, (size_t)n * sizeof(double));
		w = xrealloc(w, (size_t)n * sizeof(double));
		for (int i = 0; i < n; i++) {
			lo[i] = i * 0.05;
			hi[i] = (i + 1) * 0.05;
			w[i] = exp(-lo[i]) - exp(-hi[i]);
		}
		b->plo[f] = lo;
		b->phi[f] = hi;
		b->pw[f] = w;
		b->pn[f] = n;
		return;
	}
	mean /= total;
	for (int i = 0; i < n; i++) {
		lo[i] /= mean;
		hi[i] /= mean;
	}
	b->plo[f] = lo;
	b->phi[f] = hi;
	b->pw[f] = w;
	b->pn[f] = n;
}

static void evaluate(struct build *b, const double *rates, double bg_scale, bool percentiles,
		     struct eval *ev)
{
	struct model *m = b->m;
	int K = m->n_stations;

	/* the CPU and the serial handlers first: their waits lengthen the time
	 * the workers above them are held */
	ev->stretch = 1;
	for (int k = 0; k < K; k++) {
		struct model_station *st = &m->stations[k];
		double A = b->sp[k].bg0 * bg_scale + st->others_busy;

		if (st->kind != STATION_CPU && st->kind != STATION_LOCK)
			continue;
		for (int f = 0; f < b->F; f++)
			A += rates[f] * st->demand_ns[f] / NS;
		ev->u[k] = ev->u_loaded[k] = A / st->servers;
		if (st->kind == STATION_CPU) {
			ev->stretch = cpu_stretch(b, k, A, false);
		} else {
			ev->lock_w[k] = lock_wait(b, k, A, false);
			ev->wait[k] = ev->lock_w[k];
			ev->pwait[k] = fmin(1, A);
			ev->service[k] = m->handlers[st->handler].mean_ns;
		}
	}
	/* anchored on the measurement: the measured held time plus the change of
	 * the waits below between the measured load and these rates, never less
	 * than the handler's own work. A remote call ("a => b") adds the change
	 * of b's response (its held time and the wait for b's workers), which in
	 * turn depends on b's pool: repeated until it settles (a chain of n
	 * remote calls settles in n passes). */
	bool remote = b->n_remote && b->wait_meas;
	double *prev_wait = remote ? xcalloc((size_t)K + 1, sizeof(double)) : NULL;
	double *prev_held = remote ? xcalloc((size_t)b->H + 1, sizeof(double)) : NULL;
	double *more = remote ? xcalloc((size_t)b->H + 1, sizeof(double)) : NULL;

	if (remote) {
		memcpy(prev_wait, b->wait_meas, (size_t)K * sizeof(double));
		memcpy(prev_held, b->held_meas, (size_t)b->H * sizeof(double));
	}
	for (int pass = 0;; pass++) {
		double change = 0;

		/* what each caller's remote calls add: the change of their responses */
		for (int r = 0; remote && r < b->n_remote; r++) {
			const struct remote_call *rc = &b->remote[r];
			int B = b->bundle_of[rc->to];

			if (!r)
				memset(more, 0, (size_t)b->H * sizeof(double));
			more[rc->from] += rc->per_call * (prev_wait[B] - b->wait_meas[B] +
							  prev_held[rc->to] - b->held_meas[rc->to]);
		}
		for (int h = 0; h < b->H; h++) {
			const struct model_handler *mh = &m->handlers[h];
			double held = mh->held_ns + mh->held_oncpu_ns * (ev->stretch - b->stretch_meas);

			if (!mh->calls)
				continue;
			for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
				int to = b->edges[e].to;

				if (b->lock_station[to] >= 0 && b->bundle_of[to] == b->bundle_of[h])
					held += b->edges[e].calls / (double)mh->calls *
						(ev->lock_w[b->lock_station[to]] - b->lock_wait_meas[to]);
			}
			if (remote)
				held += more[h];
			ev->held[h] = fmax(held, mh->held0_ns);
		}
		for (int k = 0; k < K; k++) {
			struct model_station *st = &m->stations[k];
			struct station_priv *p = &b->sp[k];
			double A0 = p->bg0 * bg_scale, AL = 0, visits = p->bg_visits * bg_scale;

			if (st->kind != STATION_POOL && st->kind != STATION_SERIAL)
				continue;
			for (int f = 0; f < b->F; f++) {
				A0 += rates[f] * st->demand_ns[f] / NS;
				visits += rates[f] * st->visits[f];
			}
			for (int i = 0; i < p->n_handlers; i++) {
				int h = p->handlers[i];
				double calls_per_s = m->handlers[h].unattributed_calls / b->s->duration_s *
						     bg_scale;

				for (int f = 0; f < b->F; f++)
					calls_per_s += rates[f] * V(b, f, h);
				AL += calls_per_s * ev->held[h] / NS;
			}
			ev->u[k] = A0 / st->servers;
			ev->u_loaded[k] = AL / st->servers;
			ev->service[k] = visits > 0 ? AL * NS / visits : 0;
			ev->pwait[k] = erlang_c(st->servers, AL);
			ev->wait[k] = ggc_wait(st->servers, AL, ev->service[k], 1, st->scv);
		}
		if (!remote || pass == 63)
			break;
		for (int k = 0; k < K; k++)
			change = fmax(change, fabs(ev->wait[k] - prev_wait[k]));
		for (int h = 0; h < b->H; h++)
			change = fmax(change, fabs(ev->held[h] - prev_held[h]));
		if (!(change > 1e-6)) /* ns; also stops once a callee's pool is full */
			break;
		memcpy(prev_wait, ev->wait, (size_t)K * sizeof(double));
		memcpy(prev_held, ev->held, (size_t)b->H * sizeof(double));
	}
	free(prev_wait);
	free(prev_held);
	free(more);
	/* per flow: the wait for a worker of the entry's bundle plus the time the
	 * flow holds it (its synchronous work, with the waits below at these rates) */
	for (int f = 0; f < b->F; f++) {
		const struct model_flow *mf = &m->flows[f];
		int e = mf->entry_handler, B, worst = -1;
		double service = 0, worst_u = 0, wait, pw;

		ev->mean[f] = ev->p95[f] = ev->p99[f] = ev->service_f[f] = NAN;
		ev->exceeds[f] = false;
		ev->saturated[f] = -1;
		if (e < 0 || !b->outer[f])
			continue;
		/* name the cause: a station over capacity by its own work first, and
		 * only then one that the waits below it fill up */
		for (int pass = 0; pass < 2 && worst < 0; pass++) {
			for (int k = 0; k < K; k++) {
				double u = pass ? ev->u_loaded[k] : ev->u[k];

				if (m->stations[k].demand_ns[f] <= 0 &&
				    m->stations[k].demand_measured_ns[f] <= 0)
					continue;
				if (u >= 1 && u > worst_u) {
					worst_u = u;
					worst = k;
				}
			}
		}
		if (worst >= 0) {
			ev->exceeds[f] = true;
			ev->saturated[f] = worst;
			ev->mean[f] = ev->p95[f] = ev->p99[f] = ev->service_f[f] = INFINITY;
			continue;
		}
		B = b->bundle_of[e];
		for (int i = 0; i < b->sp[B].n_handlers; i++) {
			int h = b->sp[B].handlers[i];

			service += AT(b->vs, b, f, h) * ev->held[h];
		}
		if (b->lock_station[e] >= 0) /* a serial entry: its wait is before it starts */
			service += ev->lock_w[b->lock_station[e]];
		wait = ev->wait[B];
		pw = ev->pwait[B];
		ev->mean[f] = wait + service;
		ev->service_f[f] = service;
		if (percentiles && service > 0) {
			struct pw_uniform svc = { b->plo[f], b->phi[f], b->pw[f], b->pn[f] };
			double wait_mean = pw > 0 ? wait / pw : 0;

			ev->p95[f] = wait_service_percentile(pw, wait_mean, &svc, service, 0.95);
			ev->p99[f] = wait_service_percentile(pw, wait_mean, &svc, service, 0.99);
		} else if (percentiles) {
			ev->p95[f] = ev->p99[f] = wait;
		}
	}
}

/* ---- results at the target --------------------------------------------------- */

static int cmp_contrib(const void *a, const void *b)
{
	const struct model_contrib *x = a, *y = b;

	return (x->busy < y->busy) - (x->busy > y->busy);
}

static int cmp_rank(const void *a, const void *b, void *ctx)
{
	const struct model *m = ctx;
	const struct model_station *x = &m->stations[*(const int *)a];
	const struct model_station *y = &m->stations[*(const int *)b];

	if (fabs(x->utilization - y->utilization) > 1e-12)
		return x->utilization < y->utilization ? 1 : -1;
	/* a tie goes to the lower layer: the CPU or a lock that the pool waits on */
	if ((x->kind == STATION_POOL) != (y->kind == STATION_POOL))
		return x->kind == STATION_POOL ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void contributions(struct build *b, const double *rates)
{
	struct model *m = b->m;

	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];
		struct station_priv *p = &b->sp[k];

		st->top = xcalloc((size_t)p->n_handlers + 1, sizeof(*st->top));
		for (int i = 0; i < p->n_handlers; i++) {
			int h = p->handlers[i];
			const struct model_handler *mh = &m->handlers[h];
			double per_s = mh->unattributed_calls / b->s->duration_s * m->scale, t;

			for (int f = 0; f < b->F; f++)
				per_s += rates[f] * V(b, f, h);
			t = station_time(b, k, h, true);
			if (!(per_s * t > 0))
				continue;
			st->top[st->n_top].handler = h;
			st->top[st->n_top].busy = per_s * t / NS;
			st->top[st->n_top].oncpu_share =
				!b->cpu_known ? NAN : st->kind == STATION_CPU ? 1
					: clamp(station_oncpu(b, k, h) / t, 0, 1);
			st->n_top++;
		}
		qsort(st->top, (size_t)st->n_top, sizeof(*st->top), cmp_contrib);
	}
}

/* Servers needed for U <= util_limit. A pool counts the waits below it
 * (CPU, serial handlers) at the target, unless one of those is itself over
 * the limit: it must be resized first, and then the pool's own work is
 * what remains. */
static void sizing(struct build *b, const struct eval *ev)
{
	struct model *m = b->m;
	bool lower_over = false;

	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_CPU || m->stations[k].kind == STATION_LOCK)
			lower_over |= ev->u[k] > m->util_limit;
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];
		bool loaded = !lower_over && isfinite(ev->u_loaded[k]) &&
			      (st->kind == STATION_POOL || st->kind == STATION_SERIAL);
		double A = (loaded ? fmax(ev->u[k], ev->u_loaded[k]) : ev->u[k]) * st->servers;
		double need = ceil(A / m->util_limit - 1e-9);

		if (need < 1)
			need = 1;
		switch (st->kind) {
		case STATION_POOL:
			st->required_servers = (int)fmin(need, 1e9);
			st->required_instances = (int)ceil(need / (st->workers ? st->workers : 1));
			st->required_workers = (int)ceil(need / (st->instances ? st->instances : 1));
			break;
		case STATION_CPU:
			st->required_servers = (int)fmin(need, 1e9);
			break;
		default: /* one server by nature: fits or not */
			st->required_servers = need <= 1 ? 1 : 0;
			st->required_instances = st->required_workers = st->required_servers;
			break;
		}
	}
}

/* Each handler's time split over the stations without overlap (model.h:
 * demand_exclusive_ns): on-CPU self time to the CPU; the rest of its own
 * work (without the waits for the CPU and serial handlers, the calls it
 * makes into other bundles, and the responses of its remote calls at the
 * measured load) to its bundle's pool. A serial handler's whole own work
 * goes to its station, on-CPU time included: that is what it serializes. */
static void exclusive_demands(struct build *b)
{
	struct model *m = b->m;

	for (int h = 0; h < b->H; h++) {
		const struct model_handler *mh = &m->handlers[h];
		/* a serial handler keeps its on-CPU time: what it serializes */
		bool lock = b->lock_station[h] >= 0;
		double own = mh->held0_ns, cpu = b->cpu_known && !lock ? mh->cpu_demand_ns : 0;
		int home = lock ? b->lock_station[h] : b->bundle_of[h];

		if (!mh->calls)
			continue;
		for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
			int to = b->edges[e].to;

			if (b->bundle_of[to] != b->bundle_of[h])
				own -= b->edges[e].calls / (double)mh->calls * m->handlers[to].mean_ns;
		}
		for (int r = 0; r < b->n_remote; r++) {
			const struct remote_call *rc = &b->remote[r];

			if (rc->from == h)
				own -= rc->per_call * (m->handlers[rc->to].mean_ns +
						       (b->wait_meas ? b->wait_meas[b->bundle_of[rc->to]] : 0));
		}
		if (!isfinite(cpu))
			cpu = 0;
		own = fmax(0, own - cpu);
		for (int f = 0; f < b->F; f++) {
			double v = V(b, f, h);

			if (!(v > 0))
				continue;
			m->stations[home].demand_exclusive_ns[f] += v * own;
			if (cpu > 0 && b->cpu_station >= 0)
				m->stations[b->cpu_station].demand_exclusive_ns[f] += v * cpu;
		}
	}
}

/* The fullest station at these rates, counting the predicted waits below
 * each pool (U+WAITS) as "exceeds capacity" does; *worst names it. */
static double max_load(struct build *b, const double *rates, double bg_scale, struct eval *ev,
		       int *worst)
{
	double top = 0;

	evaluate(b, rates, bg_scale, false, ev);
	*worst = -1;
	for (int k = 0; k < b->m->n_stations; k++) {
		double u = fmax(ev->u[k], ev->u_loaded[k]);

		if (u > top) {
			top = u;
			*worst = k;
		}
	}
	return top;
}

/* The largest factor x for which rates * x (and the background * x *
 * bg_scale) leaves every station under capacity. Own work grows linearly,
 * so x <= 1 / (own-work U at x = 1); the waits below the pools grow faster,
 * so the rest is a bisection on max_load. *limit: the station that fills. */
static double feasible_scale(struct build *b, const double *rates, double bg_scale,
			     struct eval *ev, int *limit)
{
	double *scaled = xcalloc((size_t)b->F + 1, sizeof(double));
	double own = 0, lo = 0, hi, x;
	int worst;

	*limit = -1;
	evaluate(b, rates, bg_scale, false, ev);
	/* U(x) = fixed + x (U(1) - fixed): the fixed part (other processes on
	 * the CPUs) does not grow with the load */
	hi = INFINITY;
	for (int k = 0; k < b->m->n_stations; k++) {
		const struct model_station *st = &b->m->stations[k];
		double fixed = st->servers ? st->others_busy / st->servers : 0;
		double grows = ev->u[k] - fixed;

		if (grows > 0 && (1 - fixed) / grows < hi) {
			hi = fmax(0, 1 - fixed) / grows;
			own = ev->u[k];
			*limit = k;
		}
	}
	if (!(own > 0) || !isfinite(hi)) {
		free(scaled);
		return INFINITY;
	}
	for (int f = 0; f < b->F; f++)
		scaled[f] = rates[f] * hi * (1 - 1e-9);
	if (max_load(b, scaled, bg_scale * hi * (1 - 1e-9), ev, &worst) < 1) {
		free(scaled);
		return hi;
	}
	for (int i = 0; i < 60 && hi - lo > 1e-9 * hi; i++) {
		x = (lo + hi) / 2;
		for (int f = 0; f < b->F; f++)
			scaled[f] = rates[f] * x;
		if (max_load(b, scaled, bg_scale * x, ev, &worst) < 1) {
			lo = x;
		} else {
			hi = x;
			*limit = worst;
		}
	}
	free(scaled);
	return lo;
}

/* Ceilings with the same test as "exceeds capacity": the mix scaled until a
 * station, with the waits below it, is full; each flow alone likewise. */
static void ceilings(struct build *b, const double *rates)
{
	struct model *m = b->m;
	double total = 0, x, *alone = xcalloc((size_t)b->F + 1, sizeof(double));
	struct eval ev;
	int limit;

	eval_alloc(b, &ev);
	x = feasible_scale(b, rates, m->scale, &ev, &limit);
	m->headroom = x;
	for (int f = 0; f < b->F; f++) {
		struct model_flow *mf = &m->flows[f];

		total += rates[f];
		mf->max_rate_per_s = isfinite(x) ? rates[f] * x : INFINITY;
		mf->max_rate_alone_per_s = NAN;
		mf->alone_bottleneck = -1;
		if (!b->outer[f])
			continue;
		memset(alone, 0, (size_t)b->F * sizeof(double));
		alone[f] = 1;
		mf->max_rate_alone_per_s = feasible_scale(b, alone, 0, &ev, &mf->alone_bottleneck);
	}
	m->throughput_per_s = total;
	m->max_throughput_per_s = isfinite(x) ? total * x : INFINITY;
	eval_free(&ev);
	free(alone);
}

/* ---- closed workload ------------------------------------------------------------ */

/*
 * N users, each thinking Z then sending one request of the target mix. The
 * users wait only for the bundle of the flow's entry; that bundle is a
 * flow-equivalent server (QSP ch. 8): with j requests in it, its throughput
 * is that of an inner network of min(j, workers) requests over the CPUs
 * (queue, nproc servers), the serial handlers (queues) and the rest of the
 * held time (delay), solved by MVA. Every other station (asynchronous work,
 * the CPU as a whole) caps the throughput at its ceiling.
 */
static void closed_workload(struct build *b, const double *rates)
{
	struct model *m = b->m;
	struct model_closed *c = &m->closed;
	double total = 0, *p = xcalloc((size_t)b->F + 1, sizeof(double)), Z;
	struct mva_station *outer = NULL;
	double **rate_arrays = NULL, *x = NULL, *r = NULL, *dreq = NULL;
	int n_outer = 0, nmax = 0, K = m->n_stations;

	c->think_ns = b->o->think_s * NS;
	c->max_station = -1;
	Z = c->think_ns;
	for (int f = 0; f < b->F; f++)
		total += rates[f];
	if (total <= 0) {
		for (int f = 0; f < b->F; f++)
			total += m->flows[f].measured_rate_per_s;
		for (int f = 0; f < b->F; f++)
			p[f] = total > 0 ? m->flows[f].measured_rate_per_s / total : 0;
	} else {
		for (int f = 0; f < b->F; f++)
			p[f] = rates[f] / total;
	}
	if (total <= 0)
		goto cleanup;
	/* demands per request of the mix */
	dreq = xcalloc((size_t)K + 1, sizeof(double));
	for (int k = 0; k < K; k++) {
		const struct model_station *st = &m->stations[k];

		for (int f = 0; f < b->F; f++)
			dreq[k] += p[f] * st->demand_ns[f];
		if (dreq[k] / st->servers > c->max_demand_ns) {
			c->max_demand_ns = dreq[k] / st->servers;
			c->max_station = k;
		}
	}
	rate_arrays = xcalloc((size_t)K + 1, sizeof(*rate_arrays));
	outer = xcalloc((size_t)K + 1, sizeof(*outer));
	for (int k = 0; k < K; k++) {
		const struct model_station *st = &m->stations[k];
		const struct station_priv *sp = &b->sp[k];
		double v = 0, svc = 0, cpu = 0, lock_total = 0;
		struct mva_station inner[64];
		int n_inner = 0, pop;
		double *ix, *ir;

		if (st->kind != STATION_POOL && st->kind != STATION_SERIAL)
			continue;
		for (int f = 0; f < b->F; f++) {
			int e = m->flows[f].entry_handler;

			if (e < 0 || b->bundle_of[e] != k || p[f] <= 0 || !b->outer[f])
				continue;
			v += p[f];
			for (int i = 0; i < sp->n_handlers; i++) {
				int h = sp->handlers[i];
				double vis = AT(b->vs, b, f, h);
				const struct model_handler *mh = &m->handlers[h];

				if (vis <= 0 || !mh->calls)
					continue;
				svc += p[f] * vis * mh->held0_ns;
				if (b->lock_station[h] >= 0 && n_inner < 62) {
					inner[n_inner++] = (struct mva_station){
						.kind = MVA_QUEUE, .demand = p[f] * vis * mh->held0_ns,
						.servers = 1 };
					lock_total += p[f] * vis * mh->held0_ns;
				} else {
					cpu += p[f] * vis * mh->held_oncpu_ns;
				}
			}
		}
		if (v <= 0 || svc <= 0)
			continue;
		c->demand_ns += svc;
		/* per visit */
		for (int i = 0; i < n_inner; i++)
			inner[i].demand /= v;
		if (b->cpu_station >= 0 && cpu > 0)
			inner[n_inner++] = (struct mva_station){
				.kind = MVA_QUEUE, .demand = cpu / v,
				.servers = m->stations[b->cpu_station].servers };
		else
			cpu = 0;
		inner[n_inner++] = (struct mva_station){
			.kind = MVA_DELAY, .demand = fmax(0, svc - cpu - lock_total) / v };
		pop = st->servers < 4096 ? st->servers : 4096;
		ix = xcalloc((size_t)pop, sizeof(double));
		ir = xcalloc((size_t)pop, sizeof(double));
		if (mva_solve(inner, n_inner, 0, pop, ix, ir, NULL) == 0) {
			rate_arrays[n_outer] = xcalloc((size_t)pop, sizeof(double));
			for (int j = 0; j < pop; j++)
				rate_arrays[n_outer][j] = ix[j] / v;
			outer[n_outer] = (struct mva_station){
				.kind = MVA_LD, .rate = rate_arrays[n_outer], .n_rate = pop };
			n_outer++;
		}
		free(ix);
		free(ir);
	}
	c->knee = knee_population(c->demand_ns, c->max_demand_ns, Z);
	/* populations: as asked, else doubling up to twice the knee */
	if (b->o->n_users) {
		c->n = b->o->n_users;
		c->users = xcalloc((size_t)c->n, sizeof(int));
		memcpy(c->users, b->o->users, (size_t)c->n * sizeof(int));
	} else {
		double top = isfinite(c->knee) ? fmin(fmax(2 * c->knee, 8), 4096) : 8;

		for (int u = 1; u <= top; u *= 2) {
			c->users = xrealloc(c->users, (size_t)(c->n + 1) * sizeof(int));
			c->users[c->n++] = u;
		}
	}
	for (int i = 0; i < c->n; i++)
		nmax = c->users[i] > nmax ? c->users[i] : nmax;
	c->throughput_per_s = xcalloc((size_t)c->n, sizeof(double));
	c->response_ns = xcalloc((size_t)c->n, sizeof(double));
	c->bound_throughput_per_s = xcalloc((size_t)c->n, sizeof(double));
	c->bound_response_ns = xcalloc((size_t)c->n, sizeof(double));
	c->limited_by = xcalloc((size_t)c->n, sizeof(int));
	x = xcalloc((size_t)nmax + 1, sizeof(double));
	r = xcalloc((size_t)nmax + 1, sizeof(double));
	if (n_outer && mva_solve(outer, n_outer, Z, nmax, x, r, NULL)) {
		n_outer = 0;
	}
	for (int i = 0; i < c->n; i++) {
		int N = c->users[i];
		double X = n_outer ? x[N - 1] : INFINITY, R = n_outer ? r[N - 1] : c->demand_ns;

		c->limited_by[i] = -1;
		/* the ceiling of every station, the asynchronous ones included */
		for (int k = 0; k < K; k++) {
			double cap = dreq[k] > 0 ? m->stations[k].servers / dreq[k] : INFINITY;

			if (cap < X * (1 - 1e-9)) {
				X = cap;
				c->limited_by[i] = k;
			}
		}
		if (c->limited_by[i] >= 0)
			R = fmax(R, N / X - Z);
		c->throughput_per_s[i] = isfinite(X) ? X * NS : NAN;
		c->response_ns[i] = R;
		c->bound_throughput_per_s[i] = bound_throughput(c->demand_ns, c->max_demand_ns, Z, N) * NS;
		c->bound_response_ns[i] = bound_response(c->demand_ns, c->max_demand_ns, Z, N);
	}
cleanup:
	if (rate_arrays)
		for (int i = 0; i < K; i++)
			free(rate_arrays[i]);
	free(rate_arrays);
	free(outer);
	free(x);
	free(r);
	free(dreq);
	free(p);
}

/* ---- self-checks --------------------------------------------------------------- */

static void self_checks(struct build *b, const struct eval *meas)
{
	struct model *m = b->m;

	for (int k = 0; k < m->n_stations; k++) {
		const struct model_station *st = &m->stations[k];
		double bm = st->busy_measured, bx = st->busy_model;

		if (bm > 0.01 && fabs(bm - bx) > 0.1 * bm)
			add_note(m, "%s: the flows explain %.0f%% of its measured busy time (%.2f of "
				 "%.2f servers busy); the rest is %s, kept as background load",
				 st->name, 100 * bx / bm, bx, bm,
				 bx < bm ? "outside every flow" : "over-attributed");
		if (isfinite(st->busy_sampled) && fmax(bm, st->busy_sampled) > 0.05 &&
		    fabs(bm - st->busy_sampled) > 0.25 * fmax(bm, st->busy_sampled))
			add_note(m, "%s: %.2f threads were inside its handlers at once on average, "
				 "but its handlers' times add up to %.2f busy; the model uses the "
				 "times. Such a gap comes from calls that never returned (INCOMPLETE), "
				 "or from one thread's calls counted in two of its handlers that are "
				 "not declared as nested", st->name, st->busy_sampled, bm);
	}
	for (int f = 0; f < b->F; f++) {
		struct model_flow *mf = &m->flows[f];
		double lam = mf->measured_rate_per_s, lr;

		mf->predicted_mean_measured_ns = meas->mean[f];
		mf->predicted_service_measured_ns = meas->service_f[f];
		if (!b->outer[f] || !(lam > 0))
			continue;
		if (meas->exceeds[f]) {
			add_note(m, "flow %s: at the measured rate the model puts %s over capacity, "
				 "which the recording contradicts: a demand is over-estimated", mf->name,
				 m->stations[meas->saturated[f]].name);
			continue;
		}
		/* The entry's time starts when a worker takes the request: compare
		 * the model's time inside it, not the wait for a worker before it. */
		lr = lam * meas->service_f[f] / NS;
		if (fabs(meas->service_f[f] - mf->measured_mean_ns) > 0.25 * mf->measured_mean_ns &&
		    fabs(meas->service_f[f] - mf->measured_mean_ns) > 1000) {
			char model_r[UNITS_BUF], real_r[UNITS_BUF];

			/* notes go to JSON too: ASCII units */
			add_note(m, "flow %s: at the measured rate the model puts %s inside its entry "
				 "against %s measured (Little: %.3g in flight by the model, %.3g "
				 "measured); a handler shared by flows may take different times in each",
				 mf->name, units_duration(model_r, sizeof(model_r), meas->service_f[f], true),
				 units_duration(real_r, sizeof(real_r), mf->measured_mean_ns, true), lr,
				 mf->inflight_kernel);
		}
	}
}

/* ---- build ------------------------------------------------------------------------ */

static void build_free(struct build *b)
{
	free(b->bundle_of);
	free(b->edges);
	free(b->out_start);
	free(b->nested_any);
	free(b->pc_in);
	free(b->pc_call);
	free(b->vs);
	free(b->va);
	free(b->vc);
	free(b->outer);
	free(b->lock_wait_meas);
	free(b->lock_station);
	free(b->remote);
	free(b->wait_meas);
	free(b->held_meas);
	if (b->sp)
		for (int k = 0; k < b->m->n_stations; k++)
			free(b->sp[k].handlers);
	free(b->sp);
	for (int f = 0; b->plo && f < b->F; f++) {
		free(b->plo[f]);
		free(b->phi[f]);
		free(b->pw[f]);
	}
	free(b->plo);
	free(b->phi);
	free(b->pw);
	free(b->pn);
}

int model_build(const struct snapshot *s, const struct model_opts *o, struct model *m, char *err,
		size_t errlen)
{
	static const struct model_opts defaults;
	struct build b = { 0 };
	struct eval at_target, at_measured;
	double *rates, *measured;

	memset(m, 0, sizeof(*m));
	if (!o)
		o = &defaults;
	if (!(s->duration_s > 0)) {
		snprintf(err, errlen, "the snapshot has no duration: rates cannot be computed");
		return -1;
	}
	if (check_names(s, o, err, errlen))
		return -1;
	b.s = s;
	b.o = o;
	b.m = m;
	b.H = s->n_handlers;
	b.F = s->n_flows;
	m->duration_s = s->duration_s;
	m->nproc = s->nproc;
	m->scale = o->scale > 0 ? o->scale : 1;
	m->util_limit = o->util_limit > 0 ? o->util_limit : MODEL_UTIL_LIMIT;
	m->targeted = o->n_targets > 0 || m->scale != 1;
	m->bottleneck = m->bottleneck_handler = -1;

	index_edges(&b);
	build_handlers(&b);
	build_flows(&b);
	build_stations(&b);

	rates = xcalloc((size_t)b.F + 1, sizeof(double));
	measured = xcalloc((size_t)b.F + 1, sizeof(double));
	for (int f = 0; f < b.F; f++) {
		struct model_flow *mf = &m->flows[f];

		measured[f] = mf->measured_rate_per_s;
		rates[f] = measured[f] * m->scale;
		for (int t = 0; t < o->n_targets; t++) {
			if (!strcmp(o->targets[t].flow, mf->name)) {
				rates[f] = o->targets[t].rate_per_s;
				mf->targeted = true;
			}
		}
		mf->rate_per_s = rates[f];
		if (mf->targeted && !b.outer[f] && rates[f] > 0)
			add_note(m, "flow %s: --target given, but the flow never ran: no demands to "
				 "scale", mf->name);
	}
	b.plo = xcalloc((size_t)b.F + 1, sizeof(*b.plo));
	b.phi = xcalloc((size_t)b.F + 1, sizeof(*b.phi));
	b.pw = xcalloc((size_t)b.F + 1, sizeof(*b.pw));
	b.pn = xcalloc((size_t)b.F + 1, sizeof(*b.pn));
	for (int f = 0; f < b.F; f++)
		if (b.outer[f])
			entry_shape(&b, f);

	eval_alloc(&b, &at_target);
	eval_alloc(&b, &at_measured);
	evaluate(&b, measured, 1, false, &at_measured);
	if (b.n_remote) {
		b.wait_meas = xcalloc((size_t)m->n_stations + 1, sizeof(double));
		b.held_meas = xcalloc((size_t)b.H + 1, sizeof(double));
		memcpy(b.wait_meas, at_measured.wait, (size_t)m->n_stations * sizeof(double));
		memcpy(b.held_meas, at_measured.held, (size_t)b.H * sizeof(double));
	}
	exclusive_demands(&b);
	evaluate(&b, rates, m->scale, true, &at_target);
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];

		st->utilization = at_target.u[k];
		st->utilization_loaded = at_target.u_loaded[k];
		st->background = b.sp[k].bg0 * m->scale / st->servers;
		st->service_ns = at_target.service[k];
		st->pwait = at_target.pwait[k];
		st->wait_ns = at_target.wait[k];
	}
	for (int f = 0; f < b.F; f++) {
		struct model_flow *mf = &m->flows[f];

		mf->predicted_mean_ns = at_target.mean[f];
		mf->predicted_p95_ns = at_target.p95[f];
		mf->predicted_p99_ns = at_target.p99[f];
		mf->predicted_service_ns = at_target.service_f[f];
		mf->exceeds_capacity = at_target.exceeds[f];
		mf->saturated_station = at_target.saturated[f];
	}
	contributions(&b, rates);
	sizing(&b, &at_target);
	ceilings(&b, rates);
	m->ranking = xcalloc((size_t)m->n_stations + 1, sizeof(int));
	for (int k = 0; k < m->n_stations; k++)
		m->ranking[k] = k;
	qsort_r(m->ranking, (size_t)m->n_stations, sizeof(int), cmp_rank, m);
	if (m->n_stations && m->stations[m->ranking[0]].utilization > 0) {
		m->bottleneck = m->ranking[0];
		if (m->stations[m->bottleneck].n_top)
			m->bottleneck_handler = m->stations[m->bottleneck].top[0].handler;
	}
	closed_workload(&b, rates);
	self_checks(&b, &at_measured);

	eval_free(&at_target);
	eval_free(&at_measured);
	free(rates);
	free(measured);
	build_free(&b);
	return 0;
}

void model_free(struct model *m)
{
	for (int i = 0; i < m->n_handlers; i++) {
		free(m->handlers[i].id);
		free(m->handlers[i].bundle);
	}
	free(m->handlers);
	for (int i = 0; i < m->n_flows; i++) {
		free(m->flows[i].name);
		free(m->flows[i].entry);
		free(m->flows[i].visits);
		free(m->flows[i].visits_async);
	}
	free(m->flows);
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];

		free(st->name);
		free(st->demand_ns);
		free(st->demand_measured_ns);
		free(st->demand_exclusive_ns);
		free(st->oncpu_ns);
		free(st->visits);
		free(st->top);
	}
	free(m->stations);
	free(m->ranking);
	free(m->closed.users);
	free(m->closed.throughput_per_s);
	free(m->closed.response_ns);
	free(m->closed.bound_throughput_per_s);
	free(m->closed.bound_response_ns);
	free(m->closed.limited_by);
	for (int i = 0; i < m->n_notes; i++)
		free(m->notes[i]);
	free(m->notes);
	memset(m, 0, sizeof(*m));
}
