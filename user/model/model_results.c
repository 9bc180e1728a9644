// SPDX-License-Identifier: MIT
/*
 * The model's results at the target (docs/model.md, "Formulas"): each
 * station's largest contributors, the stations ranked and the bottleneck,
 * the servers each needs for the utilization limit, the demands that no
 * other station counts (what the JMVA export takes), and the ceilings of
 * the mix and of each flow alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* ---- contributions and ranking ---------------------------------------------- */

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

void model_contributions(struct build *b, const double *rates)
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
			t = model_station_time(b, k, h, true);
			if (!(per_s * t > 0))
				continue;
			st->top[st->n_top].handler = h;
			st->top[st->n_top].busy = per_s * t / NS;
			st->top[st->n_top].oncpu_share =
				!b->cpu_known ? NAN : st->kind == STATION_CPU ? 1
					: clamp(model_station_oncpu(b, k, h) / t, 0, 1);
			st->n_top++;
		}
		qsort(st->top, (size_t)st->n_top, sizeof(*st->top), cmp_contrib);
	}
}

/* By utilization at the target, largest first; the bottleneck is the first
 * station that is loaded at all. */
void model_rank_stations(struct build *b)
{
	struct model *m = b->m;

	m->ranking = xcalloc((size_t)m->n_stations + 1, sizeof(int));
	for (int k = 0; k < m->n_stations; k++)
		m->ranking[k] = k;
	qsort_r(m->ranking, (size_t)m->n_stations, sizeof(int), cmp_rank, m);
	if (m->n_stations && m->stations[m->ranking[0]].utilization > 0) {
		const struct model_station *st = &m->stations[m->ranking[0]];
		double others = model_others_share(st);

		m->bottleneck = m->ranking[0];
		/* the handlers' share of a CPU that other processes keep busier:
		 * naming the largest would blame it for what they do */
		if (st->kind == STATION_CPU && others > 0 && others >= st->utilization - others)
			m->bottleneck_others = others;
		else if (st->n_top)
			m->bottleneck_handler = st->top[0].handler;
	}
}

/* ---- sizing, exclusive demands, ceilings ---------------------------------------- */

/* Servers needed for U <= util_limit. A pool counts the waits below it
 * (CPU, serial handlers) at the target, unless one of those is itself over
 * the limit: it must be resized first, and then the pool's own work is
 * what remains. */
void model_sizing(struct build *b, const struct eval *ev)
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
void model_exclusive_demands(struct build *b)
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

/* Ceilings with the same test as "exceeds capacity": the mix scaled until a
 * station, with the waits below it, is full; each flow alone likewise. */
void model_ceilings(struct build *b, const double *rates)
{
	struct model *m = b->m;
	double total = 0, x, *alone = xcalloc((size_t)b->F + 1, sizeof(double));
	struct eval ev;
	int limit;

	model_eval_alloc(b, &ev);
	x = model_feasible_scale(b, rates, m->scale, &ev, &limit);
	m->headroom = x;
	m->ceiling_station = isfinite(x) ? limit : -1;
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
		mf->max_rate_alone_per_s = model_feasible_scale(b, alone, 0, &ev,
								&mf->alone_bottleneck);
	}
	m->throughput_per_s = total;
	m->max_throughput_per_s = isfinite(x) ? total * x : INFINITY;
	model_eval_free(&ev);
	free(alone);
}
