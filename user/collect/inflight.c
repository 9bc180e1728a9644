// SPDX-License-Identifier: MIT
/*
 * The calls in flight per handler over a window, sampled (snapshot
 * inflight_mean): a time average, each interval between two samples taken
 * at the mean of its ends (the trapezoid rule), from the window's start to
 * its end.
 *
 * The samples come from a thread of their own, at a real-time priority
 * where the kernel allows it. Taken by the recording loop, a sample came
 * when that loop got a CPU, and where flowprof shares the target's CPUs
 * that is when the target leaves one free: the samples leaned towards its
 * threads' sleeps (pool_server's four workers pinned to one CPU: a handler
 * that sleeps read 1.92 calls in flight where its times gave 1.58; from
 * this thread, 1.70 against 1.61). A real-time thread runs when its timer
 * fires, whatever the target is doing; what is left is the samples' own
 * spread (40 of them in a 4 s window: about 0.1 of a call). It holds the CPU for the
 * read only (per-CPU counters of each handler: well under a millisecond
 * for a few handlers).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "base/base.h"
#include "collect.h"

struct inflight_sampler {
	struct recorder *rec;
	int n;
	uint64_t *now;	/* the last sample's counts */
	uint64_t *counts; /* this sample's */
	double *sum;	/* count x ns */
	uint64_t t_last, t_first;
	uint64_t interval_ns;
	bool any;
	/* the sampling thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop;
};

struct inflight_sampler *inflight_sampler_new(struct recorder *r, int n_handlers,
					      uint64_t interval_ns)
{
	struct inflight_sampler *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->rec = r;
	s->interval_ns = interval_ns;
	s->n = n_handlers;
	s->now = xcalloc((size_t)n_handlers + 1, sizeof(*s->now));
	s->counts = xcalloc((size_t)n_handlers + 1, sizeof(*s->counts));
	s->sum = xcalloc((size_t)n_handlers + 1, sizeof(*s->sum));
	pthread_mutex_init(&s->lock, NULL);
	/* timed waits on the clock now_ns() reads */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

static void take(struct inflight_sampler *s, uint64_t now_ns)
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
}

static void *sampling(void *arg)
{
	struct inflight_sampler *s = arg;
	uint64_t next = s->t_last + s->interval_ns;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		struct timespec at = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };

		if (pthread_cond_timedwait(&s->wake, &s->lock, &at) != ETIMEDOUT || s->stop)
			continue;
		take(s, now_ns());
		/* one an interval after the last; a late one does not bunch up */
		next += s->interval_ns;
		if (next <= s->t_last)
			next = s->t_last + s->interval_ns;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The thread at the lowest real-time priority, else (no CAP_SYS_NICE, a
 * container's limits) at flowprof's own, said once. The stop signals stay
 * the main thread's. */
static bool start_thread(struct inflight_sampler *s)
{
	struct sched_param sp = { .sched_priority = sched_get_priority_min(SCHED_FIFO) };
	sigset_t all, old;
	pthread_attr_t at;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setinheritsched(&at, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&at, SCHED_FIFO);
	pthread_attr_setschedparam(&at, &sp);
	e = pthread_create(&s->thread, &at, sampling, s);
	pthread_attr_destroy(&at);
	if (e == EPERM) {
		static bool said;

		if (!said)
			log_info("in-flight samples at flowprof's own priority (no real-time "
				 "thread here): where it shares the target's CPUs they lean to the "
				 "moments a CPU was free");
		said = true;
		e = pthread_create(&s->thread, NULL, sampling, s);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e == 0;
}

void inflight_sampler_start(struct inflight_sampler *s, uint64_t now_ns)
{
	take(s, now_ns);
	s->running = start_thread(s);
	if (!s->running)
		log_warn("no in-flight sampling thread: inflight_mean is the window's two ends only");
}

void inflight_sampler_stop(struct inflight_sampler *s, uint64_t now_ns)
{
	if (s->running) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
		s->running = false;
	}
	take(s, now_ns);
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
	if (s->running)
		inflight_sampler_stop(s, now_ns());
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s->now);
	free(s->counts);
	free(s->sum);
	free(s);
}
