// SPDX-License-Identifier: MIT
/* Histogram arithmetic over the include/histogram.h layout. */
#include "histogram_math.h"

#include <math.h>

uint64_t hist_count(const uint64_t hist[HIST_BUCKETS])
{
	uint64_t n = 0;

	for (unsigned int b = 0; b < HIST_BUCKETS; b++)
		n += hist[b];
	return n;
}

bool hist_range(const uint64_t hist[HIST_BUCKETS], unsigned int *first, unsigned int *last)
{
	unsigned int lo = 0, hi = HIST_BUCKETS;

	while (lo < HIST_BUCKETS && !hist[lo])
		lo++;
	if (lo == HIST_BUCKETS)
		return false;
	while (!hist[hi - 1])
		hi--;
	*first = lo;
	*last = hi - 1;
	return true;
}

void hist_add(uint64_t dst[HIST_BUCKETS], const uint64_t src[HIST_BUCKETS])
{
	for (unsigned int b = 0; b < HIST_BUCKETS; b++)
		dst[b] += src[b];
}

int hist_boundary_index(uint64_t v)
{
	unsigned int b;

	if (v == hist_bucket_lower(HIST_BUCKETS))
		return HIST_BUCKETS;
	if (v > hist_bucket_lower(HIST_BUCKETS))
		return -1;
	b = hist_bucket(v);
	return hist_bucket_lower(b) == v ? (int)b : -1;
}

double hist_percentile(const uint64_t hist[HIST_BUCKETS], double p, uint64_t min_ns,
		       uint64_t max_ns)
{
	uint64_t n = hist_count(hist), cum = 0, rank;
	double est = NAN;

	if (n == 0 || !isfinite(p))
		return NAN;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	/* Nearest rank: the smallest value with at least p% of all at or below it. */
	rank = (uint64_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	/* The smallest and the largest value are known exactly. */
	if (max_ns && min_ns <= max_ns && (rank == 1 || rank == n))
		return (double)(rank == 1 ? min_ns : max_ns);
	for (unsigned int b = 0; b < HIST_BUCKETS; b++) {
		uint64_t c = hist[b];
		double lower, upper;

		if (cum + c < rank) {
			cum += c;
			continue;
		}
		lower = (double)hist_bucket_lower(b);
		upper = (double)hist_bucket_upper(b);
		/* The last bucket is open-ended: it reaches the largest value seen. */
		if (b == HIST_BUCKETS - 1 && (double)max_ns + 1 > upper)
			upper = (double)max_ns + 1;
		if (upper - lower <= 1)
			est = lower; /* one integer value: exact */
		else	/* the k-th of c values, spread evenly: the middle of its share */
			est = lower + (upper - lower) * ((double)(rank - cum) - 0.5) / (double)c;
		break;
	}
	if (max_ns && min_ns <= max_ns) {
		if (est < (double)min_ns)
			est = (double)min_ns;
		if (est > (double)max_ns)
			est = (double)max_ns;
	}
	return est;
}

/* count values spread over buckets [lo, hi) in proportion to their widths */
static void spread(uint64_t *hist, unsigned int lo, unsigned int hi, uint64_t count)
{
	uint64_t width = hist_bucket_lower(hi) - hist_bucket_lower(lo), given = 0;

	if (!count || hi <= lo || !width)
		return;
	for (unsigned int k = lo; k < hi; k++) {
		uint64_t w = hist_bucket_lower(k + 1) - hist_bucket_lower(k);
		uint64_t share = (uint64_t)((unsigned __int128)count * w / width);

		hist[k] += share;
		given += share;
	}
	for (unsigned int k = lo; given < count; k++, given++)
		hist[k]++;
}

void hist_from_cumulative(uint64_t hist[HIST_BUCKETS], uint64_t *bound_ns, uint64_t *cum, int n)
{
	unsigned int lo = 1; /* no call lasts 0 ns */
	uint64_t prev = 0;

	for (int i = 1; i < n; i++) { /* by bound: Prometheus's order is not ours */
		for (int j = i; j > 0 && bound_ns[j - 1] > bound_ns[j]; j--) {
			uint64_t tb = bound_ns[j], tc = cum[j];

			bound_ns[j] = bound_ns[j - 1];
			cum[j] = cum[j - 1];
			bound_ns[j - 1] = tb;
			cum[j - 1] = tc;
		}
	}
	for (int i = 0; i < n; i++) {
		unsigned int hi = bound_ns[i] == UINT64_MAX ? lo + HIST_SUB
				  : (unsigned int)hist_boundary_index(bound_ns[i]);

		if (hi > HIST_BUCKETS)
			hi = HIST_BUCKETS;
		if (cum[i] > prev) {
			spread(hist, lo, hi, cum[i] - prev);
			prev = cum[i];
		}
		lo = hi;
	}
}
