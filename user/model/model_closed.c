// SPDX-License-Identifier: MIT
/*
 * The closed workload (docs/model.md, "Closed workload"; model.closed):
 * asymptotic bounds, the knee, and the exact MVA curve over N users.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"
#include "queueing.h"

/*
 * N users, each thinking Z then sending one request of the target mix. The
 * users wait only for the bundle of the flow's entry; that bundle is a
 * flow-equivalent server (QSP ch. 8): with j requests in it, its throughput
 * is that of an inner network of min(j, workers) requests over the CPUs
 * (queue, nproc servers), the serial handlers (queues) and the rest of the
 * held time (delay), solved by MVA. Every other station (asynchronous work,
 * the CPU as a whole) caps the throughput at its ceiling.
 */
void model_closed_workload(struct build *b, const double *rates)
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
				/* each kind of an entry's calls at its own time,
				 * as model_evaluate takes them; and its share of the
				 * CPU time its bundle spends outside the handlers
				 * (reading, parsing, replying), which the user
				 * waits for too: on the CPU */
				svc += p[f] * (vis * (mh->held0_ns + mh->cpu_outside_ns) +
					       flow_visits_extra_ns(b, f, h, vis));
				cpu += p[f] * vis * mh->cpu_outside_ns;
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
		/* the CPUs a quota slows (model_cpu.c): the measured on-CPU time
		 * ran at a whole CPU's speed, the station serves at its share */
		if (b->cpu_station >= 0 && cpu > 0) {
			const struct model_station *cs = &m->stations[b->cpu_station];
			double speed = cs->cpus > 0 && cs->cpus < cs->servers ? cs->servers / cs->cpus
									      : 1;

			svc += cpu * (speed - 1);
			cpu *= speed;
		}
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
