// SPDX-License-Identifier: MIT
/*
 * How far each of a handler's corrected times may be from the truth
 * (model.h: struct model_uncertainty), at about 95 %. Three parts add up,
 * as bounds rather than independent errors:
 *
 *   sample   the calls seen stand for the service's: a mean is off by
 *            1.96 sigma / sqrt(n); a percentile by the spread of the
 *            histogram between the ranks p +- 1.96 sqrt(p (1 - p) / n);
 *   bucket   a percentile is read inside its histogram bucket (1/16 of an
 *            octave wide): half that bucket's width;
 *   probe    the correction per call is off by the calibration's jitter per
 *            probe pair, times the pairs in a call (probe_unc_ns).
 *
 * min and max are exact as measured: only the probe part applies. Self and
 * on-CPU times have no histogram: their sample part is the inclusive mean's,
 * scaled to their size.
 */
#include <math.h>

#include "base/base.h"
#include "model_int.h"

#define Z95 1.96

/* The p-th percentile's error from the sample size and the bucket. */
static double percentile_error(const struct snap_handler *h, double p)
{
	double n = (double)h->calls, q = p / 100, d, at, lo, hi;

	at = hist_percentile(h->hist, p, h->min_ns, h->max_ns);
	if (!isfinite(at))
		return 0;
	d = 100 * Z95 * sqrt(q * (1 - q) / n);
	lo = hist_percentile(h->hist, p - d, h->min_ns, h->max_ns);
	hi = hist_percentile(h->hist, p + d, h->min_ns, h->max_ns);
	return fmax(at - lo, hi - at) + hist_half_bucket(at);
}

/* A mean over n of the handler's calls (all of them: its own mean; a flow's
 * own arrivals: that flow's): the spread of all its calls (a subset's own
 * is not recorded, and the calls of one context spread less than those of
 * all) over n's square root, and the probes' part. */
double model_mean_uncertainty(const struct model_handler *mh, double n)
{
	double probe = isfinite(mh->probe_unc_ns) ? mh->probe_unc_ns : 0;

	if (!(n > 1) || !isfinite(mh->stddev_ns))
		return probe;
	return Z95 * mh->stddev_ns / sqrt(n) + probe;
}

void model_handler_uncertainty(const struct snap_handler *h, struct model_handler *mh)
{
	struct model_uncertainty *u = &mh->unc;
	double probe = isfinite(mh->probe_unc_ns) ? mh->probe_unc_ns : 0;
	double rel_se;

	if (!h->calls)
		return;
	rel_se = mh->raw_mean_ns > 0 && h->calls > 1
		? Z95 * mh->stddev_ns / sqrt((double)h->calls) / mh->raw_mean_ns : 0;
	u->mean_ns = model_mean_uncertainty(mh, (double)h->calls);
	u->self_ns = rel_se * mh->raw_self_ns + probe;
	u->oncpu_ns = isfinite(mh->oncpu_ns) ? rel_se * mh->raw_oncpu_ns + probe : NAN;
	u->min_ns = probe;
	u->max_ns = probe;
	u->p50_ns = percentile_error(h, 50) + probe;
	u->p90_ns = percentile_error(h, 90) + probe;
	u->p99_ns = percentile_error(h, 99) + probe;
}
