// SPDX-License-Identifier: MIT
/*
 * Queueing formulas (user/queueing.c) against textbook values: M/M/1,
 * Erlang B and C tables, Allen-Cunneen and Kingman reductions, response
 * time percentiles, exact MVA against a hand computation, load-dependent
 * MVA against the exact birth-death chain of the machine-repairman model,
 * and the asymptotic bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/model.h"

#define near(got, want, tol)                                                              \
	do {                                                                              \
		double g_ = (got), w_ = (want);                                           \
		if (!(fabs(g_ - w_) <= (tol))) {                                          \
			print_error("%s = %.15g, want %.15g (tolerance %g)\n", #got, g_, w_, \
				    (double)(tol));                                       \
			fail();                                                           \
		}                                                                         \
	} while (0)

static void test_mm1(void **state)
{
	(void)state;
	/* rho = 0.5: R = S / (1 - rho) = 2 S */
	near(mm1_response(0.5, 1.0), 2.0, 1e-12);
	near(mm1_response(250.0, 0.002), 0.004, 1e-15);
	/* rho = 0.9: 10 S */
	near(mm1_response(0.9, 1.0), 10.0, 1e-9);
	assert_true(isinf(mm1_response(1.0, 1.0)));
	assert_true(isinf(mm1_response(2.0, 1.0)));
	/* the M/M/c formulas agree at c = 1 */
	near(mmc_wait(1, 0.5, 1.0) + 1.0, 2.0, 1e-12);
	near(mmc_stretch(1, 0.5), 2.0, 1e-12);
}

static void test_erlang_b(void **state)
{
	(void)state;
	/* B(1, A) = A / (1 + A); B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2 */
	near(erlang_b(1, 1.0), 0.5, 1e-12);
	near(erlang_b(2, 1.0), 0.2, 1e-12);
	/* B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19 */
	near(erlang_b(3, 2.0), 4.0 / 19.0, 1e-12);
	near(erlang_b(5, 0.0), 0.0, 0);
}

static void test_erlang_c_table(void **state)
{
	/* Computed exactly (rational arithmetic, the textbook sum formula
	 * C = (A^c/c! c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! c/(c-A))). */
	static const struct {
		int c;
		double A, C;
	} table[] = {
		{ 1, 0.5, 0.5 },
		{ 2, 1.0, 1.0 / 3.0 },
		{ 3, 2.0, 4.0 / 9.0 },
		{ 5, 4.0, 128.0 / 231.0 },
		{ 10, 8.0, 0.40918015079644354 },
		{ 20, 17.5, 0.46315603559322355 },
		{ 50, 45.0, 0.3638644672069884 },
		{ 100, 95.0, 0.5064568539130206 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		near(erlang_c(table[i].c, table[i].A), table[i].C, 1e-6);
	/* M/M/1: C = rho */
	near(erlang_c(1, 0.7), 0.7, 1e-12);
	/* saturated and empty stations */
	near(erlang_c(4, 4.0), 1.0, 0);
	near(erlang_c(4, 9.0), 1.0, 0);
	near(erlang_c(4, 0.0), 0.0, 0);
	/* stable for huge pools where factorials overflow */
	{
		double c = erlang_c(10000, 9900.0);

		assert_true(c > 0 && c < 1);
	}
}

static void test_mmc_wait_and_stretch(void **state)
{
	(void)state;
	/* c = 2, A = 1, S = 1: C = 1/3, Wq = C S / (c - A) = 1/3 */
	near(mmc_wait(2, 1.0, 1.0), 1.0 / 3.0, 1e-12);
	near(mmc_stretch(2, 1.0), 4.0 / 3.0, 1e-12);
	/* c = 5, A = 4, S = 2 ms: Wq = 128/231 * 2 / 1 */
	near(mmc_wait(5, 4.0, 2.0), 256.0 / 231.0, 1e-12);
	assert_true(isinf(mmc_wait(2, 2.0, 1.0)));
	assert_true(isinf(mmc_stretch(2, 2.5)));
	near(mmc_wait(3, 0.0, 1.0), 0.0, 0);
}

static void test_allen_cunneen_and_kingman(void **state)
{
	(void)state;
	/* cv = 1 (ca2 = cs2 = 1): exactly M/M/c */
	near(ggc_wait(2, 1.0, 1.0, 1.0, 1.0), mmc_wait(2, 1.0, 1.0), 1e-15);
	near(ggc_wait(10, 8.0, 3.0, 1.0, 1.0), mmc_wait(10, 8.0, 3.0), 1e-15);
	/* M/D/1 (cs2 = 0): Pollaczek-Khinchine rho S / (2 (1 - rho)) */
	near(ggc_wait(1, 0.5, 1.0, 1.0, 0.0), 0.5, 1e-12);
	/* Kingman is the c = 1 case */
	near(kingman_wait(0.8, 2.0, 1.0, 2.5), ggc_wait(1, 0.8, 2.0, 1.0, 2.5), 1e-12);
	near(kingman_wait(0.8, 2.0, 1.0, 2.5), 0.8 / 0.2 * 1.75 * 2.0, 1e-12);
	assert_true(isinf(ggc_wait(3, 3.0, 1.0, 1.0, 0.5)));
	assert_true(isinf(kingman_wait(1.0, 1.0, 1.0, 1.0)));
}

static void test_response_percentiles(void **state)
{
	(void)state;
	/* M/M/1: R is exponential with rate mu - lambda; S = 1, rho = 0.5:
	 * p99 = ln(100) / 0.5, p95 = ln(20) / 0.5, median ln 2 / 0.5 */
	near(mmc_response_percentile(1, 0.5, 1.0, 0.99), 2 * log(100.0), 1e-9);
	near(mmc_response_percentile(1, 0.5, 1.0, 0.95), 2 * log(20.0), 1e-9);
	near(mmc_response_percentile(1, 0.5, 1.0, 0.5), 2 * log(2.0), 1e-9);
	/* c = 2, A = 1, S = 1: the wait rate c mu - lambda equals mu, the
	 * Erlang-2 case: P(R > t) = (2/3) e^-t + (1/3) e^-t (1 + t) */
	near(mmc_response_tail(2, 1.0, 1.0, 2.0), exp(-2.0) * (2.0 / 3.0 + 3.0 / 3.0), 1e-12);
	/* the generic formula at theta != mu: c = 3, A = 1, S = 1: theta = 2,
	 * C = 1/11 (rational: (1/6 * 3/2) / (1 + 1 + 1/2 + 1/4)) */
	near(erlang_c(3, 1.0), 1.0 / 11.0, 1e-12);
	near(mmc_response_tail(3, 1.0, 1.0, 1.5),
	     (10.0 / 11.0) * exp(-1.5) + (1.0 / 11.0) * (2 * exp(-1.5) - exp(-3.0)), 1e-12);
	/* the wait alone: P(W > t) = C e^-(c - A) t / S */
	near(mmc_wait_percentile(2, 1.0, 1.0, 0.5), 0.0, 0);
	near(mmc_wait_percentile(2, 1.0, 1.0, 0.99), log((1.0 / 3.0) / 0.01), 1e-12);
	assert_true(isinf(mmc_response_percentile(2, 2.0, 1.0, 0.99)));
}

/* An exponential service time (mean 1) as 4000 uniform pieces of 0.01 on
 * [0, 40]: wait_service_* must then reproduce the exact M/M/c results. */
#define PIECES 4000
static double lo[PIECES], hi[PIECES], wt[PIECES];

static void test_wait_service_matches_mmc(void **state)
{
	struct pw_uniform svc = { lo, hi, wt, PIECES };
	int c = 4;
	double A = 3.0, C;

	(void)state;
	for (int i = 0; i < PIECES; i++) {
		lo[i] = i * 0.01;
		hi[i] = (i + 1) * 0.01;
		wt[i] = exp(-lo[i]) - exp(-hi[i]);
	}
	C = erlang_c(c, A);
	for (double t = 0.5; t < 10; t += 1.5)
		near(wait_service_tail(C, 1.0 / (c - A), &svc, 1.0, t),
		     mmc_response_tail(c, A, 1.0, t), 1e-4);
	near(wait_service_percentile(C, 1.0 / (c - A), &svc, 1.0, 0.99),
	     mmc_response_percentile(c, A, 1.0, 0.99), 1e-3);
	/* scaling the service by 2 ms scales the M/M/c response with S = 2 */
	near(wait_service_percentile(C, 2.0 / (c - A), &svc, 2.0, 0.95),
	     mmc_response_percentile(c, A, 2.0, 0.95), 2e-3);
	/* no wait: the service distribution alone */
	near(wait_service_percentile(0, 0, &svc, 1.0, 0.5), log(2.0), 1e-3);
	/* a point mass: a deterministic service of 3 with nobody waiting */
	{
		double l = 3, h = 3, w = 1;
		struct pw_uniform point = { &l, &h, &w, 1 };

		near(wait_service_tail(0, 0, &point, 1.0, 2.9), 1.0, 0);
		near(wait_service_tail(0, 0, &point, 1.0, 3.0), 0.0, 0);
		/* with a wait: 0 w.p. 1/2, else Exp(mean 1): P(R > 4) = e^-1 / 2 */
		near(wait_service_tail(0.5, 1.0, &point, 1.0, 4.0), exp(-1.0) / 2, 1e-12);
	}
}

/*
 * Exact MVA, hand computation (QSP ch. 6): two queueing stations with
 * demands D1 = 0.2 s and D2 = 0.1 s, think time Z = 1 s.
 *   N = 1: R1 = 0.2, R2 = 0.1, R = 0.3;   X = 1 / 1.3 = 10/13
 *          Q1 = 10/13 * 0.2 = 2/13, Q2 = 1/13
 *   N = 2: R1 = 0.2 (1 + 2/13) = 3/13, R2 = 0.1 (1 + 1/13) = 7/65,
 *          R = 22/65;  X = 2 / (1 + 22/65) = 130/87
 *          Q1 = 130/87 * 3/13 = 10/29, Q2 = 130/87 * 7/65 = 14/87
 *   N = 3: R1 = 0.2 (1 + 10/29) = 39/145, R2 = 0.1 (1 + 14/87) = 101/870,
 *          R = 67/174;  X = 3 / (1 + 67/174) = 522/241
 *          Q1 = 522/241 * 39/145 = 702/1205, Q2 = 522/241 * 101/870 = 303/1205
 */
static void test_mva_exact_hand_example(void **state)
{
	struct mva_station st[2] = {
		{ .kind = MVA_QUEUE, .demand = 0.2, .servers = 1 },
		{ .kind = MVA_QUEUE, .demand = 0.1, .servers = 1 },
	};
	double x[3], r[3], q[2];

	(void)state;
	assert_int_equal(mva_solve(st, 2, 1.0, 3, x, r, q), 0);
	near(x[0], 10.0 / 13.0, 1e-12);
	near(x[1], 130.0 / 87.0, 1e-12);
	near(x[2], 522.0 / 241.0, 1e-12);
	near(r[0], 0.3, 1e-12);
	near(r[1], 22.0 / 65.0, 1e-12);
	near(r[2], 67.0 / 174.0, 1e-12);
	near(q[0], 702.0 / 1205.0, 1e-12);
	near(q[1], 303.0 / 1205.0, 1e-12);
	/* a delay station just adds its demand */
	{
		struct mva_station d[3] = {
			st[0], st[1], { .kind = MVA_DELAY, .demand = 0.5 },
		};
		double x2[3], r2[3];

		assert_int_equal(mva_solve(d, 3, 0.5, 3, x2, r2, NULL), 0);
		near(x2[2], x[2], 1e-12);
		near(r2[2], r[2] + 0.5, 1e-12);
	}
}

/*
 * The machine-repairman model (finite-source M/M/c): N customers think for
 * Z, then queue for c servers of mean service S. Its birth-death chain has
 * p(j) proportional to prod_{i<j} ((N - i) / Z) / (min(i + 1, c) / S), and
 * X = sum_j p(j) min(j, c) / S. Load-dependent MVA must agree exactly.
 */
static void repairman(int N, double Z, int c, double S, double *X, double *R)
{
	double p[64], sum = 0, x = 0;

	p[0] = 1;
	for (int j = 1; j <= N; j++)
		p[j] = p[j - 1] * ((N - j + 1) / Z) / ((j < c ? j : c) / S);
	for (int j = 0; j <= N; j++)
		sum += p[j];
	for (int j = 1; j <= N; j++)
		x += p[j] / sum * (j < c ? j : c) / S;
	*X = x;
	*R = N / x - Z;
}

static void test_mva_multiserver_exact(void **state)
{
	static const struct {
		int c;
		double S, Z;
	} cases[] = { { 2, 1.0, 2.0 }, { 4, 0.01, 0.005 }, { 8, 3.0, 0.0 }, { 3, 0.5, 10.0 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mva_station st = { .kind = MVA_QUEUE, .demand = cases[i].S,
					  .servers = cases[i].c };
		double x[40], r[40];

		assert_int_equal(mva_solve(&st, 1, cases[i].Z, 40, x, r, NULL), 0);
		for (int n = 1; n <= 40; n++) {
			double X, R;

			if (cases[i].Z > 0) {
				repairman(n, cases[i].Z, cases[i].c, cases[i].S, &X, &R);
			} else { /* no thinking: all n at the station */
				X = (n < cases[i].c ? n : cases[i].c) / cases[i].S;
				R = n / X;
			}
			near(x[n - 1], X, 1e-9 * X);
			near(r[n - 1], R, 1e-9 * R);
		}
	}
}

static void test_mva_ld_rates_and_seidmann(void **state)
{
	/* An LD station with rates min(j, 3) / D is the 3-server queue. */
	double rates[3] = { 1 / 0.6, 2 / 0.6, 3 / 0.6 };
	struct mva_station ld[2] = {
		{ .kind = MVA_LD, .rate = rates, .n_rate = 3 },
		{ .kind = MVA_QUEUE, .demand = 0.1, .servers = 1 },
	};
	struct mva_station mq[2] = {
		{ .kind = MVA_QUEUE, .demand = 0.6, .servers = 3 },
		{ .kind = MVA_QUEUE, .demand = 0.1, .servers = 1 },
	};
	struct mva_station seid[2] = {
		{ .kind = MVA_QUEUE, .demand = 0.6, .servers = 3, .seidmann = true },
		{ .kind = MVA_QUEUE, .demand = 0.1, .servers = 1 },
	};
	double x1[30], r1[30], x2[30], r2[30], x3[30], r3[30];

	(void)state;
	assert_int_equal(mva_solve(ld, 2, 1.0, 30, x1, r1, NULL), 0);
	assert_int_equal(mva_solve(mq, 2, 1.0, 30, x2, r2, NULL), 0);
	assert_int_equal(mva_solve(seid, 2, 1.0, 30, x3, r3, NULL), 0);
	for (int n = 0; n < 30; n++) {
		near(x1[n], x2[n], 1e-12);
		near(r1[n], r2[n], 1e-12);
		/* Seidmann: exact at N = 1 and at saturation, close between */
		near(x3[n], x2[n], 0.06 * x2[n]);
	}
	near(x3[0], x2[0], 1e-12);
	/* both saturate at the bottleneck: 3 / 0.6 = 5 per s */
	near(x2[29], 5.0, 1e-3);
	near(x3[29], 5.0, 1e-3);
	/* Seidmann with c = 1 is the exact single-server station */
	{
		struct mva_station a = { .kind = MVA_QUEUE, .demand = 0.3, .servers = 1 };
		struct mva_station b = { .kind = MVA_QUEUE, .demand = 0.3, .servers = 1,
					 .seidmann = true };
		double xa[5], ra[5], xb[5], rb[5];

		assert_int_equal(mva_solve(&a, 1, 0.2, 5, xa, ra, NULL), 0);
		assert_int_equal(mva_solve(&b, 1, 0.2, 5, xb, rb, NULL), 0);
		for (int n = 0; n < 5; n++)
			near(xa[n], xb[n], 1e-15);
	}
}

static void test_mva_invalid_input(void **state)
{
	struct mva_station bad = { .kind = MVA_QUEUE, .demand = 1.0, .servers = 0 };
	struct mva_station noload = { .kind = MVA_LD, .rate = NULL, .n_rate = 0 };
	struct mva_station ok = { .kind = MVA_QUEUE, .demand = 1.0, .servers = 1 };
	double x[2], r[2];

	(void)state;
	assert_int_equal(mva_solve(&bad, 1, 0, 2, x, r, NULL), -1);
	assert_int_equal(mva_solve(&noload, 1, 0, 2, x, r, NULL), -1);
	assert_int_equal(mva_solve(&ok, 1, 0, 0, x, r, NULL), -1);
	assert_int_equal(mva_solve(&ok, 1, -1, 2, x, r, NULL), -1);
}

static void test_bounds_and_knee(void **state)
{
	struct mva_station st[3] = {
		{ .kind = MVA_QUEUE, .demand = 0.2, .servers = 1 },
		{ .kind = MVA_QUEUE, .demand = 0.1, .servers = 1 },
		{ .kind = MVA_QUEUE, .demand = 0.4, .servers = 4 },
	};
	/* D = 0.7, Dmax = max(0.2, 0.1, 0.4 / 4) = 0.2, Z = 1 */
	double D = 0.7, Dmax = 0.2, Z = 1.0, x[50], r[50];

	(void)state;
	near(knee_population(D, Dmax, Z), 8.5, 1e-12);
	near(bound_throughput(D, Dmax, Z, 1), 1 / 1.7, 1e-12);
	near(bound_throughput(D, Dmax, Z, 20), 5.0, 1e-12);
	near(bound_response(D, Dmax, Z, 1), 0.7, 1e-12);
	near(bound_response(D, Dmax, Z, 20), 3.0, 1e-12);
	assert_true(isinf(knee_population(D, 0, Z)));
	/* exact MVA respects the bounds at every population */
	assert_int_equal(mva_solve(st, 3, Z, 50, x, r, NULL), 0);
	for (int n = 1; n <= 50; n++) {
		assert_true(x[n - 1] <= bound_throughput(D, Dmax, Z, n) * (1 + 1e-12));
		assert_true(r[n - 1] >= bound_response(D, Dmax, Z, n) * (1 - 1e-12));
	}
	near(r[0], D, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mm1),
		cmocka_unit_test(test_erlang_b),
		cmocka_unit_test(test_erlang_c_table),
		cmocka_unit_test(test_mmc_wait_and_stretch),
		cmocka_unit_test(test_allen_cunneen_and_kingman),
		cmocka_unit_test(test_response_percentiles),
		cmocka_unit_test(test_wait_service_matches_mmc),
		cmocka_unit_test(test_mva_exact_hand_example),
		cmocka_unit_test(test_mva_multiserver_exact),
		cmocka_unit_test(test_mva_ld_rates_and_seidmann),
		cmocka_unit_test(test_mva_invalid_input),
		cmocka_unit_test(test_bounds_and_knee),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
