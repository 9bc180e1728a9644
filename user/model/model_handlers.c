// SPDX-License-Identifier: MIT
/*
 * The model's handlers (docs/model.md, "Service times" and "Holding a
 * worker"): the observed call edges indexed by caller; each handler's
 * per-call times corrected for the probes' own cost (per call by the
 * kernel, or from its site class and its direct children in older
 * snapshots); its on-CPU time outside nested handlers; and the time each
 * call holds a worker of its bundle (LQNS: self time plus nested calls into
 * other bundles). The bundles' stations are created here first, so that
 * each handler can point at its own.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cost_slot.h"
#include "model_int.h"
#include "probe/site_class.h"

/* ---- the call edges ------------------------------------------------------ */

static int cmp_edge_from(const void *a, const void *b)
{
	const struct edge_ix *x = a, *y = b;

	return (x->from > y->from) - (x->from < y->from);
}

void model_index_edges(struct build *b)
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

/* ---- per-call times ------------------------------------------------------ */

/*
 * How far off a handler's per-call correction may be. Its own pair is
 * taken out by its share inside the measured time, so by that share's
 * uncertainty (in_window_jitter_ns: from a tight loop to cold caches, and
 * over the calibration's rounds); a snapshot without it, by the whole
 * hit's (jitter_ns), which is larger. Each probe pair nested in a call lies
 * whole inside its time: by the dearest entry's and exit's hit jitter.
 */
static double window_jitter(const struct snap_slot_cost *c)
{
	return isfinite(c->in_window_jitter_ns) ? c->in_window_jitter_ns : c->jitter_ns;
}

static double probe_uncertainty(const struct snapshot *s, const struct snap_handler *h)
{
	const struct snap_slot_cost *e, *x;
	double entry = 0, exit = 0, entry_in = 0, exit_in = 0, own, nested;

	for (int k = 0; k < SNAP_SLOTS; k++) {
		const struct snap_slot_cost *c = &s->probe_slots[k];

		if (!c->measured)
			continue;
		if (k < SLOT_EXIT_URETPROBE) {
			entry = fmax(entry, c->jitter_ns);
			entry_in = fmax(entry_in, window_jitter(c));
		} else {
			exit = fmax(exit, c->jitter_ns);
			exit_in = fmax(exit_in, window_jitter(c));
		}
	}
	model_handler_slots(s, h, &e, &x);
	own = e && x ? window_jitter(e) + window_jitter(x) : entry_in + exit_in;
	nested = h->calls ? (double)h->nested_calls / (double)h->calls : 0;
	return own + nested * (entry + exit);
}

/* Index of a handler's site class in snapshot.probe_cost, 0 if unknown. */
static int site_class_index(const char *name)
{
	for (int c = SITE_NOP5; c <= SITE_SINGLESTEP; c++)
		if (name && !strcmp(name, site_class_name((enum site_class)c)))
			return c;
	return 0;
}

void model_build_handlers(struct build *b)
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
		struct model_station *st =
			model_new_station(b, s->bundles[i].name ? s->bundles[i].name : "",
					  STATION_POOL);

		st->bundle = i;
		model_size_pool(b, st, &s->bundles[i]);
	}
	for (int i = 0; i < b->H; i++) {
		const struct snap_handler *h = &s->handlers[i];
		const char *bn = h->bundle ? h->bundle : "";
		int st = model_bundle_station(m, bn);

		if (st < 0) {
			struct model_station *ns = model_new_station(b, bn, STATION_POOL);

			model_size_pool(b, ns, NULL);
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
		mh->runq_ns = h->runq_measured ? (double)h->runq_ns / calls : NAN;
		if (h->oncpu_measured) {
			/* a probe's work is on the CPU, in the thread */
			mh->raw_oncpu_ns = (double)h->oncpu_ns / calls;
			mh->oncpu_ns = clamp(mh->raw_oncpu_ns - mh->probe_ns, 0, mh->mean_ns);
		}
		model_handler_uncertainty(h, mh);
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
			/* the waits to run in its own time (a nested call of its
			 * bundle holds a worker of its own), and in its calls
			 * into other bundles (waited for) */
			mh->held_runq_ns = mh->runq_ns;
			for (int e = b->out_start[i]; e < b->out_start[i + 1]; e++) {
				const struct model_handler *c = &m->handlers[b->edges[e].to];
				double per = b->edges[e].calls / calls;
				bool same = b->bundle_of[b->edges[e].to] == b->bundle_of[i];

				if (isfinite(c->oncpu_ns))
					kid_cpu += per * c->oncpu_ns;
				mh->held_runq_ns += (same ? -per : per) * c->runq_ns;
				/* LQNS: a synchronous caller holds its worker while a callee of
				 * another bundle runs; the callee's station gets its own time */
				if (!same) {
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
			if (isfinite(mh->held_runq_ns))
				mh->held_runq_ns = clamp(mh->held_runq_ns, 0,
							 mh->held_ns - mh->held_oncpu_ns);
		}
		free(nested_same);
	}
	if (!b->cpu_known && any_oncpu)
		model_note(m, "on-CPU time was measured for some handlers only: the model has no CPU "
			   "station");
	else if (!b->cpu_known)
		model_note(m, "on-CPU time was not measured (--no-oncpu, or the kernel refused the "
			   "sched_switch probe): the model has no CPU station");
}
