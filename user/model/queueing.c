// SPDX-License-Identifier: MIT
/* Queueing formulas: see queueing.h. */
#include "queueing.h"

#include <math.h>
#include <stdlib.h>

#include "base/base.h"

/* ---- open stations ------------------------------------------------------ */

double mm1_response(double lambda, double S)
{
	double rho = lambda * S;

	if (rho >= 1)
		return INFINITY;
	return S / (1 - rho);
}

double erlang_b(int c, double A)
{
	double b = 1;

	if (A <= 0)
		return 0;
	for (int k = 1; k <= c; k++)
		b = A * b / (k + A * b);
	return b;
}

double erlang_c(int c, double A)
{
	double b, rho;

	if (A <= 0)
		return 0;
	if (c < 1 || A >= c)
		return 1;
	b = erlang_b(c, A);
	rho = A / c;
	return b / (1 - rho * (1 - b));
}

double mmc_wait(int c, double A, double S)
{
	if (A <= 0)
		return 0;
	if (c < 1 || A >= c)
		return INFINITY;
	return erlang_c(c, A) * S / (c - A);
}

double ggc_wait(int c, double A, double S, double ca2, double cs2)
{
	double w = mmc_wait(c, A, S);

	return isfinite(w) ? w * (ca2 + cs2) / 2 : w;
}

double kingman_wait(double rho, double S, double ca2, double cs2)
{
	if (rho <= 0)
		return 0;
	if (rho >= 1)
		return INFINITY;
	return rho / (1 - rho) * (ca2 + cs2) / 2 * S;
}

double mmc_stretch(int c, double A)
{
	if (A <= 0)
		return 1;
	if (c < 1 || A >= c)
		return INFINITY;
	return 1 + erlang_c(c, A) / (c - A);
}

/* ---- response-time distribution ----------------------------------------- */

/* (1 - e^-x) / x, continuous at 0 and accurate for tiny x. */
static double one_minus_exp_over(double x)
{
	return x == 0 ? 1 : -expm1(-x) / x;
}

double mmc_response_tail(int c, double A, double S, double t)
{
	double C, mu, theta, delta, hypo;

	if (t <= 0)
		return 1;
	if (S <= 0)
		return 0;
	if (c < 1 || A >= c)
		return 1;
	C = erlang_c(c, A);
	mu = 1 / S;
	theta = (c - A) / S; /* rate of the wait, given a wait: c mu - lambda */
	delta = theta - mu;
	/* P(Exp(theta) + Exp(mu) > t) = (theta e^-mu t - mu e^-theta t) / (theta - mu),
	 * written so that theta == mu (and nearly so) is exact too. */
	hypo = exp(-mu * t) * (1 + mu * t * one_minus_exp_over(delta * t));
	return (1 - C) * exp(-mu * t) + C * hypo;
}

/* Smallest t with tail(t) <= 1 - p, by doubling then bisection. */
static double quantile_by_bisection(double (*tail)(double t, const void *ctx), const void *ctx,
				    double p, double hint)
{
	double lo = 0, hi = hint > 0 ? hint : 1, target = 1 - p;
	int i;

	for (i = 0; i < 2000 && tail(hi, ctx) > target; i++) {
		lo = hi;
		hi *= 2;
	}
	if (i == 2000)
		return INFINITY;
	for (i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = (lo + hi) / 2;

		if (tail(mid, ctx) > target)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

struct mmc_ctx {
	int c;
	double A, S;
};

static double mmc_tail_cb(double t, const void *ctx)
{
	const struct mmc_ctx *m = ctx;

	return mmc_response_tail(m->c, m->A, m->S, t);
}

double mmc_response_percentile(int c, double A, double S, double p)
{
	struct mmc_ctx m = { c, A, S };

	if (c < 1 || A >= c)
		return INFINITY;
	if (S <= 0)
		return 0;
	return quantile_by_bisection(mmc_tail_cb, &m, p, S);
}

double mmc_wait_percentile(int c, double A, double S, double p)
{
	double C;

	if (c < 1 || A >= c)
		return INFINITY;
	C = erlang_c(c, A);
	if (p <= 1 - C || C <= 0)
		return 0;
	return log(C / (1 - p)) * S / (c - A);
}

/* For S uniform on [a, b]: P(S > t) and E[P(W' > t - S)], W' ~ Exp(theta). */
static void uniform_piece(double a, double b, double theta, double t, double *surv,
			  double *wait_tail)
{
	if (b <= a) { /* a point mass */
		*surv = t < a ? 1 : 0;
		*wait_tail = t <= a ? 1 : exp(-theta * (t - a));
		return;
	}
	*surv = t < a ? 1 : t >= b ? 0 : (b - t) / (b - a);
	{
		/* Where s >= t the wait need not exceed anything: probability 1;
		 * below t, integrate e^-theta (t - s) over [a, min(b, t)]. */
		double above = b > t ? b - (a > t ? a : t) : 0;
		double below = 0;

		if (a < t) {
			double top = b < t ? b : t;

			below = theta > 0 ? (exp(-theta * (t - top)) - exp(-theta * (t - a))) / theta
					  : top - a;
		}
		*wait_tail = (above + below) / (b - a);
	}
}

double wait_service_tail(double pwait, double wait_mean, const struct pw_uniform *svc,
			 double scale, double t)
{
	/* No wait at all when nobody waits or waits take no time. */
	bool waits = pwait > 0 && wait_mean > 0;
	double theta = waits ? 1 / wait_mean : 0;
	double total = 0, surv = 0, wt = 0;

	for (int i = 0; i < svc->n; i++) {
		double s, w;

		if (!(svc->w[i] > 0))
			continue;
		uniform_piece(svc->lo[i] * scale, svc->hi[i] * scale, theta, t, &s, &w);
		total += svc->w[i];
		surv += svc->w[i] * s;
		wt += svc->w[i] * w;
	}
	if (total <= 0)
		return NAN;
	if (!waits)
		return surv / total;
	return (1 - pwait) * surv / total + pwait * wt / total;
}

struct ws_ctx {
	double pwait, wait_mean, scale;
	const struct pw_uniform *svc;
};

static double ws_tail_cb(double t, const void *ctx)
{
	const struct ws_ctx *w = ctx;

	return wait_service_tail(w->pwait, w->wait_mean, w->svc, w->scale, t);
}

double wait_service_percentile(double pwait, double wait_mean, const struct pw_uniform *svc,
			       double scale, double p)
{
	struct ws_ctx w = { pwait, wait_mean, scale, svc };
	double top = 0, total = 0;

	for (int i = 0; i < svc->n; i++) {
		if (svc->w[i] > 0) {
			total += svc->w[i];
			if (svc->hi[i] * scale > top)
				top = svc->hi[i] * scale;
		}
	}
	if (total <= 0)
		return NAN;
	if (!isfinite(wait_mean))
		return INFINITY;
	return quantile_by_bisection(ws_tail_cb, &w, p, top + wait_mean);
}

/* ---- closed networks ----------------------------------------------------- */

static bool station_valid(const struct mva_station *s)
{
	switch (s->kind) {
	case MVA_DELAY:
		return s->demand >= 0 && isfinite(s->demand);
	case MVA_QUEUE:
		return s->demand >= 0 && isfinite(s->demand) && s->servers >= 1;
	case MVA_LD:
		if (!s->rate || s->n_rate < 1)
			return false;
		for (int j = 0; j < s->n_rate; j++)
			if (!(s->rate[j] > 0) || !isfinite(s->rate[j]))
				return false;
		return true;
	}
	return false;
}

/* Completion rate of an exactly solved load-dependent station with j
 * customers, or 0 when it is not one. */
static double ld_rate(const struct mva_station *s, int j)
{
	if (s->kind == MVA_LD)
		return s->rate[(j < s->n_rate ? j : s->n_rate) - 1];
	if (s->kind == MVA_QUEUE && s->servers > 1 && !s->seidmann && s->demand > 0)
		return (j < s->servers ? j : s->servers) / s->demand;
	return 0;
}

static bool is_ld(const struct mva_station *s)
{
	return ld_rate(s, 1) > 0;
}

int mva_solve(const struct mva_station *st, int k, double Z, int nmax, double *x, double *r,
	      double *q)
{
	double *queue_len = NULL, *resp = NULL, **prob = NULL, *next = NULL;
	int rc = -1;

	if (nmax < 1 || k < 0 || Z < 0 || !x || !r)
		return -1;
	for (int s = 0; s < k; s++)
		if (!station_valid(&st[s]))
			return -1;
	queue_len = xcalloc((size_t)(k ? k : 1), sizeof(*queue_len));
	resp = xcalloc((size_t)(k ? k : 1), sizeof(*resp));
	prob = xcalloc((size_t)(k ? k : 1), sizeof(*prob));
	next = xcalloc((size_t)nmax + 1, sizeof(*next));
	for (int s = 0; s < k; s++) {
		if (is_ld(&st[s])) {
			prob[s] = xcalloc((size_t)nmax + 1, sizeof(**prob));
			prob[s][0] = 1; /* p(0 | 0) */
		}
	}
	for (int n = 1; n <= nmax; n++) {
		double total = 0, X;

		for (int s = 0; s < k; s++) {
			const struct mva_station *m = &st[s];

			if (prob[s]) {
				double sum = 0;

				for (int j = 1; j <= n; j++)
					sum += j / ld_rate(m, j) * prob[s][j - 1];
				resp[s] = sum;
			} else if (m->kind == MVA_DELAY) {
				resp[s] = m->demand;
			} else {
				/* single server, or Seidmann: queue D/c plus delay D(c-1)/c;
				 * queue_len holds the queue part's length */
				double c = m->servers;

				resp[s] = m->demand / c * (1 + queue_len[s]) + m->demand * (c - 1) / c;
			}
			total += resp[s];
		}
		X = n / (Z + total);
		x[n - 1] = X;
		r[n - 1] = total;
		for (int s = 0; s < k; s++) {
			const struct mva_station *m = &st[s];

			if (prob[s]) {
				double sum = 0;

				for (int j = 1; j <= n; j++) {
					next[j] = X / ld_rate(m, j) * prob[s][j - 1];
					sum += next[j];
				}
				next[0] = 1 - sum;
				if (next[0] < 0) {
					/* rounding near saturation: renormalize */
					next[0] = 0;
					for (int j = 1; j <= n; j++)
						next[j] /= sum;
				}
				for (int j = 0; j <= n; j++)
					prob[s][j] = next[j];
			} else if (m->kind == MVA_QUEUE) {
				double c = m->servers;

				queue_len[s] = X * m->demand / c * (1 + queue_len[s]);
			}
		}
	}
	if (q) {
		double X = x[nmax - 1];

		for (int s = 0; s < k; s++) {
			const struct mva_station *m = &st[s];

			if (prob[s]) {
				q[s] = 0;
				for (int j = 1; j <= nmax; j++)
					q[s] += j * prob[s][j];
			} else if (m->kind == MVA_DELAY) {
				q[s] = X * m->demand;
			} else {
				double c = m->servers;

				q[s] = queue_len[s] + X * m->demand * (c - 1) / c;
			}
		}
	}
	rc = 0;
	for (int s = 0; s < k; s++)
		free(prob[s]);
	free(prob);
	free(next);
	free(resp);
	free(queue_len);
	return rc;
}

double bound_throughput(double D, double Dmax, double Z, double N)
{
	double light = D + Z > 0 ? N / (D + Z) : INFINITY;
	double heavy = Dmax > 0 ? 1 / Dmax : INFINITY;

	return light < heavy ? light : heavy;
}

double bound_response(double D, double Dmax, double Z, double N)
{
	double heavy = N * Dmax - Z;

	return heavy > D ? heavy : D;
}

double knee_population(double D, double Dmax, double Z)
{
	return Dmax > 0 ? (D + Z) / Dmax : INFINITY;
}
