// SPDX-License-Identifier: MIT
/*
 * Histogram math (user/histogram.c) over the kernel's log-linear layout
 * (include/histogram.h): bucket boundaries, counts, and percentiles against
 * the exact sorted values of known distributions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

#define SAMPLES 100000

/* xorshift64*: the same samples on every run. */
static uint64_t rng_state;

static double uniform01(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static double normal(void)
{
	double u = uniform01(), v = uniform01();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* A distribution as samples (ns) plus its histogram, min and max. */
static uint64_t samples[SAMPLES];

struct dist {
	uint64_t *v;
	uint64_t hist[HIST_BUCKETS];
	uint64_t min, max;
};

static void dist_add(struct dist *d, size_t i, uint64_t v)
{
	d->v[i] = v;
	d->hist[hist_bucket(v)]++;
	if (!i || v < d->min)
		d->min = v;
	if (v > d->max)
		d->max = v;
}

/* Every percentile within 6% of the exact nearest-rank value. */
static void check_percentiles(struct dist *d, const char *name)
{
	static const double ps[] = { 0, 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100 };
	double worst = 0;

	qsort(d->v, SAMPLES, sizeof(*d->v), cmp_u64);
	for (size_t i = 0; i < ARRAY_SIZE(ps); i++) {
		size_t rank = (size_t)ceil(ps[i] / 100.0 * SAMPLES);
		double exact = (double)d->v[rank ? rank - 1 : 0];
		double est = hist_percentile(d->hist, ps[i], d->min, d->max);
		double err = fabs(est - exact) / exact;

		if (err > 0.06)
			fail_msg("%s p%g: %.1f ns, exact %.0f ns (%.2f%% off)", name, ps[i], est,
				 exact, err * 100);
		if (err > worst)
			worst = err;
	}
	print_message("# %s: worst percentile error %.3f%%\n", name, worst * 100);
	/* Interpolation must do clearly better than reading bucket bounds (6.25%). */
	assert_true(worst < 0.03);
	/* p0 and p100 are the exact extremes. */
	assert_true(hist_percentile(d->hist, 0, d->min, d->max) == (double)d->min);
	assert_true(hist_percentile(d->hist, 100, d->min, d->max) == (double)d->max);
}

static void test_percentiles_lognormal(void **state)
{
	struct dist d = { .v = samples };

	(void)state;
	rng_state = 0x9E3779B97F4A7C15ULL;
	/* median 100 µs, a long tail (sigma 1): 5 µs .. 10 ms */
	for (size_t i = 0; i < SAMPLES; i++)
		dist_add(&d, i, (uint64_t)(100000.0 * exp(normal())) + 1);
	check_percentiles(&d, "lognormal");
}

static void test_percentiles_uniform(void **state)
{
	struct dist d = { .v = samples };

	(void)state;
	rng_state = 0x0123456789ABCDEFULL;
	for (size_t i = 0; i < SAMPLES; i++)
		dist_add(&d, i, 1000 + (uint64_t)(uniform01() * 999000.0));
	check_percentiles(&d, "uniform 1 µs .. 1 ms");
}

static void test_percentiles_small_and_bimodal(void **state)
{
	struct dist d = { .v = samples };

	(void)state;
	rng_state = 42;
	/* Tiny integer values (one-ns buckets) next to a second mode at 50 ms. */
	for (size_t i = 0; i < SAMPLES; i++)
		dist_add(&d, i, uniform01() < 0.7 ? 1 + (uint64_t)(uniform01() * 40)
						  : (uint64_t)(50e6 * exp(0.1 * normal())));
	check_percentiles(&d, "bimodal 1..40 ns and 50 ms");
}

static void test_percentile_exact_small_values(void **state)
{
	uint64_t hist[HIST_BUCKETS] = { 0 };

	(void)state;
	/* 1..10 ns: every bucket is one ns wide, so percentiles are exact. */
	for (uint64_t v = 1; v <= 10; v++)
		hist[hist_bucket(v)]++;
	assert_true(hist_percentile(hist, 50, 1, 10) == 5.0);
	assert_true(hist_percentile(hist, 90, 1, 10) == 9.0);
	assert_true(hist_percentile(hist, 91, 1, 10) == 10.0);
	assert_true(hist_percentile(hist, 0, 1, 10) == 1.0);
	/* Outside [0, 100] is clamped. */
	assert_true(hist_percentile(hist, -5, 1, 10) == 1.0);
	assert_true(hist_percentile(hist, 250, 1, 10) == 10.0);
}

static void test_percentile_interpolation(void **state)
{
	uint64_t hist[HIST_BUCKETS] = { 0 };

	(void)state;
	/* {100, 200, 300, 400} ns: 200 sits in [200, 208), one value: its middle. */
	hist[hist_bucket(100)]++;
	hist[hist_bucket(200)]++;
	hist[hist_bucket(300)]++;
	hist[hist_bucket(400)]++;
	assert_int_equal(hist_bucket_lower(hist_bucket(200)), 200);
	assert_int_equal(hist_bucket_upper(hist_bucket(200)), 208);
	assert_true(hist_percentile(hist, 50, 100, 400) == 204.0);
	/* 400 is in [400, 416): the middle would be 408, clamped to the max. */
	assert_true(hist_percentile(hist, 99, 100, 400) == 400.0);
	/* Without known extremes there is no clamp. */
	assert_true(hist_percentile(hist, 99, 0, 0) == 408.0);
	/* Four values in one bucket [1024, 1088) (64 wide): 8, 24, 40, 56 in. */
	memset(hist, 0, sizeof(hist));
	hist[hist_bucket(1024)] = 4;
	assert_true(hist_percentile(hist, 25, 0, 0) == 1032.0);
	assert_true(hist_percentile(hist, 50, 0, 0) == 1048.0);
	assert_true(hist_percentile(hist, 75, 0, 0) == 1064.0);
	assert_true(hist_percentile(hist, 100, 0, 0) == 1080.0);
}

static void test_percentile_single_value_and_empty(void **state)
{
	uint64_t hist[HIST_BUCKETS] = { 0 };

	(void)state;
	assert_true(isnan(hist_percentile(hist, 50, 0, 0)));
	hist[hist_bucket(123456)] = 1000;
	/* All calls took 123456 ns: min and max pin every percentile. */
	assert_true(hist_percentile(hist, 1, 123456, 123456) == 123456.0);
	assert_true(hist_percentile(hist, 99.9, 123456, 123456) == 123456.0);
	assert_true(isnan(hist_percentile(hist, NAN, 0, 0)));
}

static void test_percentile_last_bucket(void **state)
{
	uint64_t hist[HIST_BUCKETS] = { 0 };
	uint64_t huge = 1ULL << 42; /* ~73 min: past the layout's end (2^40 ns) */

	(void)state;
	assert_int_equal(hist_bucket(huge), HIST_BUCKETS - 1);
	hist[HIST_BUCKETS - 1] = 1;
	/* The open last bucket reaches the max; the one value is clamped to it. */
	assert_true(hist_percentile(hist, 50, huge, huge) == (double)huge);
}

static void test_boundaries(void **state)
{
	(void)state;
	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_lower(b), hi = hist_bucket_upper(b);

		assert_int_equal(hist_boundary_index(lo), b);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(hi - 1), b);
		assert_true(hi > lo);
		/* A bucket is at most 1/16 of its lower bound wide (above 16 ns). */
		if (lo >= HIST_SUB)
			assert_true((hi - lo) * 16 <= lo);
		if (hi - lo > 1)
			assert_int_equal(hist_boundary_index(lo + 1), -1);
	}
	assert_int_equal(hist_boundary_index(hist_bucket_lower(HIST_BUCKETS)), HIST_BUCKETS);
	assert_int_equal(hist_bucket_lower(HIST_BUCKETS), 1ULL << HIST_MAX_POW);
	assert_int_equal(hist_boundary_index((1ULL << HIST_MAX_POW) + 1), -1);
	assert_int_equal(hist_boundary_index(UINT64_MAX), -1);
	assert_int_equal(hist_boundary_index(1000), -1);
	assert_int_equal(hist_boundary_index(992), hist_bucket(992));
}

static void test_count_range_add(void **state)
{
	uint64_t a[HIST_BUCKETS] = { 0 }, b[HIST_BUCKETS] = { 0 };
	unsigned int first = 99, last = 99;

	(void)state;
	assert_false(hist_range(a, &first, &last));
	assert_int_equal(first, 99);
	assert_int_equal(hist_count(a), 0);
	a[5] = 2;
	a[300] = 3;
	b[0] = 1;
	b[HIST_BUCKETS - 1] = 4;
	assert_true(hist_range(a, &first, &last));
	assert_int_equal(first, 5);
	assert_int_equal(last, 300);
	hist_add(a, b);
	assert_int_equal(hist_count(a), 10);
	assert_true(hist_range(a, &first, &last));
	assert_int_equal(first, 0);
	assert_int_equal(last, HIST_BUCKETS - 1);
	assert_int_equal(a[5], 2);
	assert_int_equal(a[HIST_BUCKETS - 1], 4);
}

/*
 * A classic histogram read back (the fleet reader): 10 values <= 1 us, 30
 * more <= 8 us, 5 past it (+Inf), given out of order. Every value lands
 * between the bounds of its classic bucket, spread by width (8 us is 8x as
 * wide a span as 1 us from bucket 1, so the 30 fall mostly above 1 us).
 */
static void test_from_cumulative(void **state)
{
	uint64_t hist[HIST_BUCKETS] = { 0 };
	uint64_t bound[3] = { UINT64_MAX, 8192, 1024 }, cum[3] = { 45, 40, 10 };
	uint64_t below_1us = 0, below_8us = 0;
	int b1 = hist_boundary_index(1024), b8 = hist_boundary_index(8192);

	(void)state;
	assert_true(b1 > 0 && b8 > b1);
	hist_from_cumulative(hist, bound, cum, 3);
	assert_int_equal(hist_count(hist), 45);
	for (int k = 0; k < b1; k++)
		below_1us += hist[k];
	for (int k = 0; k < b8; k++)
		below_8us += hist[k];
	assert_int_equal(below_1us, 10);
	assert_int_equal(below_8us, 40);
	assert_int_equal(hist[0], 0); /* no call lasts 0 ns */
	/* sorted in place by bound */
	assert_true(bound[0] == 1024 && bound[1] == 8192 && bound[2] == UINT64_MAX);
	assert_true(cum[0] == 10 && cum[1] == 40 && cum[2] == 45);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_count_range_add),
		cmocka_unit_test(test_from_cumulative),
		cmocka_unit_test(test_percentile_exact_small_values),
		cmocka_unit_test(test_percentile_interpolation),
		cmocka_unit_test(test_percentile_single_value_and_empty),
		cmocka_unit_test(test_percentile_last_bucket),
		cmocka_unit_test(test_percentiles_lognormal),
		cmocka_unit_test(test_percentiles_uniform),
		cmocka_unit_test(test_percentiles_small_and_bimodal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
