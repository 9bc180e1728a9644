// SPDX-License-Identifier: MIT
/*
 * The calls in flight per handler over a window, sampled (snapshot
 * inflight_mean): a time average, each interval between two samples taken
 * at the mean of its ends (the trapezoid rule), from the window's start to
 * its end. Samples come when the recording loop gets to them, and it also
 * runs the calibration's rounds: at a window's start a few back to back
 * (tens of ms each, more on a busy host), while a target may still be idle.
 * A plain mean of the samples gives such a stretch one sample's weight
 * instead of its length. The sampler keeps its own schedule
 * (inflight_sampler_tick): one sample an interval, and one more as soon as
 * a round overran the next.
 */
#include <stdlib.h>

#include "base/base.h"
#include "collect.h"

struct inflight_sampler {
	struct recorder *rec;
	int n;
	uint64_t *now;	/* the last sample's counts */
	uint64_t *counts; /* this sample's */
	double *sum;	/* count x ns */
	uint64_t t_last, t_first;
	uint64_t interval_ns, next_ns;
	bool any;
};

struct inflight_sampler *inflight_sampler_new(struct recorder *r, int n_handlers,
					      uint64_t interval_ns)
{
	struct inflight_sampler *s = xcalloc(1, sizeof(*s));

	s->rec = r;
	s->interval_ns = interval_ns;
	s->n = n_handlers;
	s->now = xcalloc((size_t)n_handlers + 1, sizeof(*s->now));
	s->counts = xcalloc((size_t)n_handlers + 1, sizeof(*s->counts));
	s->sum = xcalloc((size_t)n_handlers + 1, sizeof(*s->sum));
	return s;
}

void inflight_sampler_take(struct inflight_sampler *s, uint64_t now_ns)
{
	uint64_t *counts = s->counts;

	collect_inflight(s->rec, s->n, counts);
	if (s->any && now_ns > s->t_last) {
		double dt = (double)(now_ns - s->t_last);

		for (int h = 0; h < s->n; h++)
			s->sum[h] += ((double)s->now[h] + (double)counts[h]) / 2 * dt;
	}
	if (!s->any)
		s->t_first = now_ns;
	s->counts = s->now; /* the last sample's buffer takes the next */
	s->now = counts;
	s->t_last = now_ns;
	s->any = true;
	if (s->next_ns <= now_ns)
		s->next_ns = now_ns + s->interval_ns;
}

void inflight_sampler_tick(struct inflight_sampler *s, uint64_t now_ns)
{
	if (now_ns >= s->next_ns)
		inflight_sampler_take(s, now_ns);
}

uint64_t inflight_sampler_next(const struct inflight_sampler *s)
{
	return s->next_ns;
}

bool inflight_sampler_mean(const struct inflight_sampler *s, int h, double *mean)
{
	if (!s->any || h < 0 || h >= s->n)
		return false;
	if (s->t_last > s->t_first)
		*mean = s->sum[h] / (double)(s->t_last - s->t_first);
	else
		*mean = (double)s->now[h]; /* one sample */
	return true;
}

void inflight_sampler_free(struct inflight_sampler *s)
{
	if (!s)
		return;
	free(s->now);
	free(s->counts);
	free(s->sum);
	free(s);
}
