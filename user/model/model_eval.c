// SPDX-License-Identifier: MIT
/*
 * The model at a set of rates (docs/model.md, "Formulas"): the CPU's
 * stretch and the waits for serial handlers first, since they lengthen the
 * time the workers above them are held; then each pool's utilization with
 * and without those waits, its wait for a worker (Allen-Cunneen), remote
 * calls until their responses settle; then each flow's response time and
 * percentiles, or the station that puts it over capacity. And the largest
 * factor by which a mix of rates still fits, which the ceilings use.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"
#include "queueing.h"

/* ---- waits below the pools ------------------------------------------------- */

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
double model_cpu_stretch(const struct build *b, int cpu, double A, bool observed)
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
double model_lock_wait(const struct build *b, int st, double A, bool observed)
{
	const struct model_station *S = &b->m->stations[st];
	const struct model_handler *mh = &b->m->handlers[S->handler];
	int others = pool_servers(b, mh->station, observed) - 1;
	double cap = others > 0 ? others * mh->mean_ns : 0;
	double scv = mh->mean_ns > 0 ? mh->stddev_ns * mh->stddev_ns / (mh->mean_ns * mh->mean_ns) : 1;

	return fmin(ggc_wait(1, A, mh->mean_ns, 1, scv), cap);
}

/* ---- evaluation at a set of rates ------------------------------------------ */

void model_eval_alloc(struct build *b, struct eval *ev)
{
	int K = b->m->n_stations;

	memset(ev, 0, sizeof(*ev));
	ev->held = xcalloc((size_t)b->H + 1, sizeof(double));
	ev->lock_w = xcalloc((size_t)K + 1, sizeof(double));
	ev->u = xcalloc((size_t)K + 1, sizeof(double));
	ev->u_loaded = xcalloc((size_t)K + 1, sizeof(double));
	ev->u_fill = xcalloc((size_t)K + 1, sizeof(double));
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

void model_eval_free(struct eval *ev)
{
	free(ev->held);
	free(ev->lock_w);
	free(ev->u);
	free(ev->u_loaded);
	free(ev->u_fill);
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
void model_entry_shape(struct build *b, int f)
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

void model_evaluate(struct build *b, const double *rates, double bg_scale, bool percentiles,
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
		double Aw = 0;

		for (int f = 0; f < b->F; f++) {
			A += rates[f] * st->demand_ns[f] / NS;
			Aw += rates[f] * st->wake_ns[f] / NS;
		}
		ev->u_fill[k] = (A - Aw) / st->servers;
		A = model_offered_waking(b, k, A, Aw);
		ev->u[k] = ev->u_loaded[k] = A / st->servers;
		if (st->kind == STATION_CPU) {
			ev->stretch = model_cpu_stretch(b, k, A, false);
		} else {
			ev->lock_w[k] = model_lock_wait(b, k, A, false);
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
			/* its waits for a CPU at this load for those measured */
			double held = mh->held_ns - mh->cpu_wait0_ns +
				      mh->held_oncpu_ns * (ev->stretch - 1);

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
			double Aout = 0, Aw = 0, extra = 0;

			if (st->kind != STATION_POOL && st->kind != STATION_SERIAL)
				continue;
			for (int f = 0; f < b->F; f++) {
				A0 += rates[f] * st->demand_ns[f] / NS;
				Aout += rates[f] * st->outside_ns[f] / NS;
				Aw += rates[f] * st->wake_ns[f] / NS;
				visits += rates[f] * st->visits[f];
			}
			/* threads that fill before the CPUs also do the work outside
			 * the handlers, and wake: that waking falls as they fill */
			if (Aout + Aw > 0)
				extra = model_offered_waking(b, k, A0 + Aout + Aw, Aw) - A0;
			for (int i = 0; i < p->n_handlers; i++) {
				int h = p->handlers[i];
				double calls_per_s = m->handlers[h].unattributed_calls / b->s->duration_s *
						     bg_scale;

				for (int f = 0; f < b->F; f++)
					calls_per_s += rates[f] * V(b, f, h);
				AL += calls_per_s * ev->held[h] / NS;
			}
			AL += extra;
			ev->u_fill[k] = (A0 + Aout) / st->servers;
			ev->u[k] = (A0 + extra) / st->servers;
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
		double service = 0, worst_u = 0, wait, pw, outside = 0;

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
			double v = AT(b->vs, b, f, h);

			/* a flow's entry whose own arrivals were recorded: the
			 * flow's arrival at theirs, its other calls at theirs */
			service += v * ev->held[h] + flow_visits_extra_ns(b, f, h, v);
		}
		service = fmax(0, service);
		if (b->lock_station[e] >= 0) /* a serial entry: its wait is before it starts */
			service += ev->lock_w[b->lock_station[e]];
		wait = ev->wait[B];
		pw = ev->pwait[B];
		/* the work outside the handlers (a server parses, reads its
		 * socket, runs its framework there) waits for the CPU as theirs
		 * does: the response grows by that wait's change too */
		for (int h = 0; h < b->H; h++)
			outside += V(b, f, h) * m->handlers[h].cpu_outside_ns *
				   (ev->stretch - b->stretch_meas);
		ev->mean[f] = wait + service + outside;
		ev->service_f[f] = service;
		if (percentiles && service > 0) {
			struct pw_uniform svc = { b->plo[f], b->phi[f], b->pw[f], b->pn[f] };
			double wait_mean = pw > 0 ? wait / pw : 0;

			ev->p95[f] = wait_service_percentile(pw, wait_mean, &svc, service, 0.95) + outside;
			ev->p99[f] = wait_service_percentile(pw, wait_mean, &svc, service, 0.99) + outside;
		} else if (percentiles) {
			ev->p95[f] = ev->p99[f] = wait + outside;
		}
	}
}

/* ---- how far a mix of rates fits ------------------------------------------- */

/* The fullest station at these rates, counting the predicted waits below
 * each pool (U+WAITS) as "exceeds capacity" does; *worst names it. */
static double max_load(struct build *b, const double *rates, double bg_scale, struct eval *ev,
		       int *worst)
{
	double top = 0;

	model_evaluate(b, rates, bg_scale, false, ev);
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
double model_feasible_scale(struct build *b, const double *rates, double bg_scale,
			     struct eval *ev, int *limit)
{
	double *scaled = xcalloc((size_t)b->F + 1, sizeof(double));
	double own = 0, lo = 0, hi, x;
	int worst;

	*limit = -1;
	model_evaluate(b, rates, bg_scale, false, ev);
	/* U(x) = fixed + x (U(1) - fixed): the fixed part (other processes on
	 * the CPUs) does not grow with the load */
	hi = INFINITY;
	for (int k = 0; k < b->m->n_stations; k++) {
		const struct model_station *st = &b->m->stations[k];
		double fixed = model_others_share(st);
		double grows = ev->u_fill[k] - fixed;

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
