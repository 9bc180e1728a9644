/* SPDX-License-Identifier: MIT */
/*
 * Reading the kernel's log-linear histograms (include/histogram.h layout):
 * counts, percentiles, and the bucket boundaries the snapshot document
 * stores. Shared by the snapshot, the report and the model.
 */
#ifndef FLOWPROF_HISTOGRAM_MATH_H
#define FLOWPROF_HISTOGRAM_MATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

/* Upper end (exclusive) of bucket b: the lower bound of the next one. The
 * last bucket also holds everything past hist_bucket_lower(HIST_BUCKETS). */
static inline uint64_t hist_bucket_upper(unsigned int b)
{
	return hist_bucket_lower(b + 1);
}

/* Half the width of the bucket v falls in: how far a figure read from the
 * histogram may be from the value it stands for (0 where buckets are 1 ns
 * wide, and for anything not a number or below 0). */
static inline double hist_half_bucket(double v)
{
	unsigned int b;

	if (!(v >= 0) || v >= 1e18)
		return 0;
	b = hist_bucket((unsigned long long)(v + 0.5));
	return ((double)hist_bucket_upper(b) - (double)hist_bucket_lower(b) - 1) / 2;
}

/* Number of values in the histogram. */
uint64_t hist_count(const uint64_t hist[HIST_BUCKETS]);

/* First and last non-empty bucket; false when the histogram is empty. */
bool hist_range(const uint64_t hist[HIST_BUCKETS], unsigned int *first, unsigned int *last);

/* dst += src, bucket by bucket. */
void hist_add(uint64_t dst[HIST_BUCKETS], const uint64_t src[HIST_BUCKETS]);

/* The bucket whose lower bound is exactly v, HIST_BUCKETS when v is the end
 * of the layout (hist_bucket_lower(HIST_BUCKETS)), or -1 when v is not a
 * bucket boundary. */
int hist_boundary_index(uint64_t v);

/*
 * hist += a classic (Prometheus) histogram: n cumulative counts cum[i] of
 * values <= bound_ns[i] (UINT64_MAX: +Inf), in any order (sorted here, in
 * place). Each bucket's calls are spread over the log-linear buckets it
 * covers in proportion to their widths (a uniform density, as
 * histogram_quantile assumes; the rounding's remainder one each to the
 * first). A bound that is not a bucket boundary is not expected (flowprof's
 * exposition writes boundaries only); +Inf ends a sub-bucket past the last.
 */
void hist_from_cumulative(uint64_t hist[HIST_BUCKETS], uint64_t *bound_ns, uint64_t *cum, int n);

/*
 * The p-th percentile (p in [0, 100]) of the values in hist, in ns, by
 * nearest rank (the k-th smallest value, k = ceil(p/100 * count)): found in
 * its bucket by linear interpolation (the k-th of the bucket's c values is
 * put at the middle of its 1/c share), then clamped to [min_ns, max_ns], the
 * exact extremes (pass 0, 0 when unknown; when known, the first and the last
 * rank are exactly min_ns and max_ns). Buckets one ns wide give the
 * exact value; otherwise the error is under one bucket width (1/16 of the
 * value) and, for values spread over a bucket, about a quarter of that.
 * NAN when hist is empty.
 */
double hist_percentile(const uint64_t hist[HIST_BUCKETS], double p, uint64_t min_ns,
		       uint64_t max_ns);

#endif
