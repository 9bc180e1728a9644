/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram shared by the BPF programs and userspace.
 *
 * Values below 16 ns get a bucket each. Above that, every power of two is
 * split into HIST_SUB equal sub-buckets, so a bucket is at most 1/16 of its
 * lower bound wide: a percentile read at the bucket midpoint is within 3.2%
 * (the issue asks for 6%). Values of 2^HIST_MAX_POW ns (~18 min) and more
 * land in the last bucket.
 */
#ifndef FLOWPROF_HISTOGRAM_H
#define FLOWPROF_HISTOGRAM_H

#define HIST_SUB_BITS 4
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_POW 40
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_POW - HIST_SUB_BITS) * HIST_SUB)

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* floor(log2(v)) for v > 0, branch-light so the BPF verifier sees no loop. */
static __always_inline unsigned int hist_log2(unsigned long long v)
{
	unsigned int r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline unsigned int hist_bucket(unsigned long long v)
{
	unsigned int k;

	if (v < HIST_SUB)
		return (unsigned int)v;
	k = hist_log2(v);
	if (k >= HIST_MAX_POW)
		return HIST_BUCKETS - 1;
	return HIST_SUB + (k - HIST_SUB_BITS) * HIST_SUB +
	       (unsigned int)((v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Smallest value that falls into bucket b (b may equal HIST_BUCKETS: the end). */
static __always_inline unsigned long long hist_bucket_lower(unsigned int b)
{
	unsigned int k, sub;

	if (b < HIST_SUB)
		return b;
	k = (b - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (b - HIST_SUB) % HIST_SUB;
	return (unsigned long long)(HIST_SUB + sub) << (k - HIST_SUB_BITS);
}

#endif /* FLOWPROF_HISTOGRAM_H */
