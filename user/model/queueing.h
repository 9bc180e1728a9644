/* SPDX-License-Identifier: MIT */
/*
 * Queueing formulas for the model (user/model/model*.c): open M/M/1 and M/M/c
 * stations with Erlang C, the Allen-Cunneen correction for general service
 * times, response-time percentiles, and closed networks solved by exact
 * mean value analysis (MVA) with multi-server and load-dependent stations.
 * Pure math: no snapshot, no I/O. Time is in any one unit (the model uses
 * ns); rates are per that unit. References: Kleinrock, Queueing Systems I;
 * Lazowska et al., Quantitative System Performance (QSP), ch. 5-6 and 20;
 * Menasce and Almeida, Capacity Planning for Web Services.
 *
 * Unstable stations (offered load A >= c servers) give INFINITY for waits
 * and response times; callers say "exceeds capacity" instead of printing it.
 */
#ifndef FLOWPROF_QUEUEING_H
#define FLOWPROF_QUEUEING_H

#include <stdbool.h>

/* ---- open stations ------------------------------------------------------ */

/* M/M/1 mean response time S / (1 - rho), rho = lambda * S; INFINITY when
 * rho >= 1. */
double mm1_response(double lambda, double S);

/* Erlang B (loss probability) for c servers and offered load A = lambda * S
 * erlangs, by the recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)):
 * no factorials or powers, stable for any c. 0 when A <= 0. */
double erlang_b(int c, double A);

/* Erlang C: the probability that an arrival waits at an M/M/c station,
 * C = B / (1 - rho (1 - B)) with rho = A / c. 1 when A >= c. */
double erlang_c(int c, double A);

/* M/M/c mean wait in queue C(c, A) S / (c - A); 0 when A <= 0, INFINITY
 * when A >= c. */
double mmc_wait(int c, double A, double S);

/* G/G/c mean wait by Allen-Cunneen: the M/M/c wait times (ca2 + cs2) / 2,
 * ca2 and cs2 the squared coefficients of variation of interarrival and
 * service times. Exact for M/M/c (ca2 = cs2 = 1) and M/G/1 (Pollaczek-
 * Khinchine, ca2 = 1); for c = 1 it is Kingman's G/G/1 formula. */
double ggc_wait(int c, double A, double S, double ca2, double cs2);

/* Kingman's G/G/1 approximation rho / (1 - rho) (ca2 + cs2) / 2 S (the same
 * as ggc_wait(1, ...)), INFINITY when rho >= 1. */
double kingman_wait(double rho, double S, double ca2, double cs2);

/* Stretch factor R / S of an M/M/c station, 1 + C / (c - A): how much
 * longer a visit takes than its service. Also the mean slowdown at a
 * c-processor processor-sharing station to a first approximation, which is
 * how the model uses it for the host's CPUs. INFINITY when A >= c. */
double mmc_stretch(int c, double A);

/* ---- response-time distribution ----------------------------------------- */

/* P(R > t) for the response time R = W + S of an M/M/c FCFS station (mean
 * service S): exact. W is 0 with probability 1 - C and, given a wait,
 * exponential with rate (c - A) / S; S is exponential with mean S. */
double mmc_response_tail(int c, double A, double S, double t);

/* The p-quantile (0 < p < 1) of the M/M/c response time: t with
 * P(R > t) = 1 - p, found by bisection. INFINITY when A >= c. */
double mmc_response_percentile(int c, double A, double S, double p);

/* The p-quantile of the M/M/c wait in queue: 0 when p <= 1 - C, else
 * ln(C / (1 - p)) S / (c - A). */
double mmc_wait_percentile(int c, double A, double S, double p);

/*
 * A service-time distribution given as n pieces, each a uniform
 * distribution on [lo[i], hi[i]] (a point mass when lo == hi) with weight
 * w[i] (weights need not sum to 1). This is how a measured log-linear
 * histogram is read: each bucket uniform between its bounds.
 */
struct pw_uniform {
	const double *lo;
	const double *hi;
	const double *w;
	int n;
};

/*
 * P(W + scale * S > t), S from svc (scaled by scale > 0), and W independent:
 * 0 with probability 1 - pwait, else exponential with mean wait_mean (the
 * mean wait of those who wait). For an M/M/c station pwait = C and
 * wait_mean = S / (c - A): exact. With Allen-Cunneen the model keeps the
 * probability of waiting C and scales the conditional mean by
 * (ca2 + cs2) / 2 - the approximation behind the model's percentiles.
 */
double wait_service_tail(double pwait, double wait_mean, const struct pw_uniform *svc,
			 double scale, double t);

/* Its p-quantile, by bisection; NAN when svc has no weight. */
double wait_service_percentile(double pwait, double wait_mean, const struct pw_uniform *svc,
			       double scale, double p);

/* ---- closed networks ----------------------------------------------------- */

enum mva_kind {
	MVA_DELAY,	/* infinite servers: no queueing (think time, sleeps) */
	MVA_QUEUE,	/* c identical servers (c = 1: the textbook queueing station) */
	MVA_LD,		/* load-dependent: completion rates given per population */
};

struct mva_station {
	enum mva_kind kind;
	/* DELAY, QUEUE: the demand D = visits x service time per cycle. */
	double demand;
	/* QUEUE: servers c >= 1. With seidmann false, c > 1 is solved exactly
	 * as a load-dependent station (rate min(j, c) / D); with seidmann true,
	 * by Seidmann's approximation: a queue of demand D / c in series with a
	 * delay of D (c - 1) / c (cheaper for large populations). */
	int servers;
	bool seidmann;
	/* LD: rate[j - 1] = cycles completed per time unit with j customers at
	 * the station (j = 1..n_rate); rate[n_rate - 1] holds beyond. Used for
	 * flow-equivalent servers (model_closed.c): a worker pool whose throughput
	 * with j requests in service was itself solved by MVA. */
	const double *rate;
	int n_rate;
};

/*
 * Exact MVA for a closed single-class network: stations st[0..k-1], think
 * time Z (a delay outside the stations), populations 1..nmax. Writes, for
 * n = 1..nmax, the throughput x[n - 1] (cycles per time unit) and the
 * response time r[n - 1] (time at the stations, without Z). q, when not
 * NULL, gets the mean queue length of each station at nmax (k values).
 *
 * Load-dependent stations use the marginal probabilities p(j | n) (QSP
 * ch. 20): R(n) = sum_j j / rate(j) p(j - 1 | n - 1). p(0 | n) is computed
 * as 1 - sum p(j | n), which loses precision near saturation; it is clamped
 * at 0 and the marginals renormalized. Cost O(nmax^2) per load-dependent
 * station, O(nmax) per other station.
 *
 * Returns 0, or -1 for invalid input (no population, a negative demand,
 * c < 1, an LD station without rates or with a rate <= 0).
 */
int mva_solve(const struct mva_station *st, int k, double Z, int nmax, double *x, double *r,
	      double *q);

/*
 * Asymptotic bounds of a closed network (QSP ch. 5): with D the total
 * demand (the response time of a lone customer), Dmax the largest demand
 * per server (D_k / c_k) and think time Z,
 *   X(N) <= min(N / (D + Z), 1 / Dmax),  R(N) >= max(D, N Dmax - Z),
 * and the knee N* = (D + Z) / Dmax where the two throughput bounds meet.
 */
double bound_throughput(double D, double Dmax, double Z, double N);
double bound_response(double D, double Dmax, double Z, double N);
double knee_population(double D, double Dmax, double Z);

#endif
