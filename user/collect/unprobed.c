// SPDX-License-Identifier: MIT
/*
 * record --unprobed (live.h, live_unprobed): each bundle's CPU time over a
 * few seconds after the recording, with its probes gone, for the model's
 * CPU demand (docs/model.md, "Measured without probes").
 *
 * The CPU time a call then needs the calls made then. The window has two
 * halves. In the first, nothing is probed: its CPU time at the rate of the
 * recording's last part is the figure where the load kept that rate (an
 * independent or open load does). In the second, one entry probe a call on
 * each bundle's flow entries counts the calls (count_entry), charging each
 * hit's cost as a recorded call's probes are: a load that waits for each
 * answer sends more once the probes go, and then the second half's CPU time
 * less that charge, over its counted calls, is the figure (the model takes
 * whichever applies: user/model/model_cpu.c). The charge is the calibrated
 * cost, which on a host whose traps cost about what a call does is the
 * figure's main uncertainty; hence the first half where it is not needed.
 * (A second probe a call, to measure that cost in place, read it low: with
 * dearer calls, redis served larger batches, each call cheaper.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach.h"
#include "base/base.h"
#include "collect.h"
#include "live.h"
#include "snapshot/snapshot.h"

/* The window's calls of flow-file handler h (the snapshot's, by id). The
 * collection keeps the flow file's order, so its place is looked at first:
 * the handlers' loops here stay linear. */
static uint64_t window_calls(const struct live *l, const struct snapshot *s, int h)
{
	const struct snap_handler *same = h < s->n_handlers ? &s->handlers[h] : NULL;

	if (same && same->id && !strcmp(same->id, l->ff.handlers[h].id))
		return same->calls;
	for (int i = 0; i < s->n_handlers; i++)
		if (s->handlers[i].id && !strcmp(s->handlers[i].id, l->ff.handlers[h].id))
			return s->handlers[i].calls;
	return 0;
}

/* The window's calls of all of bundle fb's handlers. */
static uint64_t window_calls_of_bundle(const struct live *l, const struct snapshot *s, int fb)
{
	uint64_t n = 0;

	for (int h = 0; h < l->ff.n_handlers; h++)
		if (l->ff.handlers[h].bundle == fb)
			n += window_calls(l, s, h);
	return n;
}

/* The handlers whose calls are counted without the probes: in each bundle,
 * the entries of its flows that ran (a call each a request), else its
 * handler called most. */
static bool *handlers_to_count(const struct live *l, const struct snapshot *s)
{
	bool *count = xcalloc((size_t)l->ff.n_handlers + 1, sizeof(bool));

	for (int b = 0; b < l->ff.n_bundles; b++) {
		int most = -1;
		bool any = false;

		for (int f = 0; f < l->ff.n_flows; f++) {
			int h = l->ff.flows[f].entry;

			if (h >= 0 && l->ff.handlers[h].bundle == b && window_calls(l, s, h))
				count[h] = any = true;
		}
		for (int h = 0; h < l->ff.n_handlers && !any; h++)
			if (l->ff.handlers[h].bundle == b && window_calls(l, s, h) &&
			    (most < 0 || window_calls(l, s, h) > window_calls(l, s, most)))
				most = h;
		if (!any && most >= 0)
			count[most] = true;
	}
	return count;
}

/* What the window reads at the start and end of each half: each snapshot bundle's CPU time
 * and sleeps, each counted handler's counts. */
struct reading {
	uint64_t t;
	double *cpu;
	uint64_t *slept;
	struct counted *c;
};

static void read_now(struct live *l, const struct snapshot *s, const bool *count,
		     struct reading *r)
{
	r->cpu = r->cpu ? r->cpu : xcalloc((size_t)s->n_bundles + 1, sizeof(double));
	r->slept = r->slept ? r->slept : xcalloc((size_t)s->n_bundles + 1, sizeof(uint64_t));
	r->c = r->c ? r->c : xcalloc((size_t)l->ff.n_handlers + 1, sizeof(*r->c));
	for (int h = 0; h < l->ff.n_handlers; h++)
		if (count[h])
			recorder_counted(l->rec, h, &r->c[h]);
	for (int i = 0; i < s->n_bundles; i++) {
		r->cpu[i] = collect_bundle_cpu(&s->bundles[i]);
		r->slept[i] = collect_bundle_sleeps(&s->bundles[i]);
	}
	r->t = now_ns();
}

static void reading_free(struct reading *r)
{
	free(r->cpu);
	free(r->slept);
	free(r->c);
}

/* Waits; false when stop() said to stop. */
static bool wait_for(double seconds, bool (*stop)(void))
{
	uint64_t t0 = now_ns();

	while (now_ns() - t0 < (uint64_t)(seconds * 1e9)) {
		if (stop && stop())
			return false;
		usleep(20000);
	}
	return true;
}

/* One bundle's counted calls between two readings, and their charge (ns). */
struct counted_span {
	uint64_t n;
	double ns;
};

static struct counted_span counted_between(const struct live *l, const bool *count, int fb,
					   const struct reading *a, const struct reading *b)
{
	struct counted_span x = { 0 };

	for (int h = 0; h < l->ff.n_handlers; h++) {
		if (!count[h] || l->ff.handlers[h].bundle != fb)
			continue;
		/* a count that went back was not read: nothing counted */
		if (b->c[h].entries < a->c[h].entries || b->c[h].entry_ns < a->c[h].entry_ns)
			return (struct counted_span){ 0 };
		x.n += b->c[h].entries - a->c[h].entries;
		x.ns += (double)(b->c[h].entry_ns - a->c[h].entry_ns);
	}
	return x;
}

int live_unprobed(struct live *l, struct snapshot *s, double seconds, bool (*stop)(void))
{
	struct reading r0 = { 0 }, r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
	bool *count = NULL, counting = false;
	double late_s;
	char err[512] = "no function handler of a bundle was called";
	int rc = -1;

	if (!l->mark_calls[0] || !l->mark_calls[1] || l->t_mark[1] <= l->t_mark[0])
		goto out;
	late_s = (double)(l->t_mark[1] - l->t_mark[0]) / 1e9;
	count = handlers_to_count(l, s);
	read_now(l, s, count, &r0);
	if (!wait_for(seconds / 2, stop))
		goto out;
	read_now(l, s, count, &r1);
	counting = recorder_count_calls(l->rec, &l->res, count, err, sizeof(err)) > 0;
	if (!counting)
		log_info("calls not counted without the probes (%s): the CPU time a call then "
			 "assumes the recording's rate", err);
	read_now(l, s, count, &r2);
	if (!wait_for(seconds / 2, stop))
		goto out;
	read_now(l, s, count, &r3);
	for (int i = 0; i < s->n_bundles; i++) {
		struct snap_bundle *b = &s->bundles[i];
		struct counted_span c;
		int fb = -1;

		for (int k = 0; k < l->ff.n_bundles && fb < 0; k++)
			if (b->name && !strcmp(b->name, l->ff.bundles[k].name))
				fb = k;
		if (fb < 0 || !b->cpu_measured)
			continue;
		b->unprobed_measured = true;
		b->unprobed_s = (double)(r1.t - r0.t) / 1e9;
		b->unprobed_cpu_s = fmax(0, r1.cpu[i] - r0.cpu[i]);
		/* for the model's wake-ups (model_wake.c): how often a call
		 * finds its thread asleep once the probes are gone */
		b->unprobed_sleeps = r0.slept[i] && r1.slept[i] > r0.slept[i]
			? r1.slept[i] - r0.slept[i] : 0; /* a process gone takes its sleeps along */
		b->late_calls = l->mark_calls[1][fb] - l->mark_calls[0][fb];
		b->late_s = late_s;
		b->counted_calls = b->counted_window_calls = 0;
		b->counted_s = b->counted_cpu_s = b->counted_probe_s = 0;
		c = counted_between(l, count, fb, &r2, &r3);
		if (!counting || !c.n)
			continue;
		for (int h = 0; h < l->ff.n_handlers; h++)
			if (count[h] && l->ff.handlers[h].bundle == fb)
				b->counted_window_calls += window_calls(l, s, h);
		if (!b->counted_window_calls)
			continue;
		b->counted_s = (double)(r3.t - r2.t) / 1e9;
		b->counted_cpu_s = fmax(0, r3.cpu[i] - r2.cpu[i]);
		b->counted_calls = c.n;
		b->counted_probe_s = c.ns / 1e9;
		log_info("%s without the probes: %.3g s of CPU time in %.2f s; then %.3g s and %llu "
			 "calls counted (%.0f/s; the recording's last part: %.0f/s), the counting "
			 "probe charged %.3g s (%.0f ns a hit)", b->name ? b->name : "",
			 b->unprobed_cpu_s, b->unprobed_s, b->counted_cpu_s,
			 (unsigned long long)c.n, (double)c.n / b->counted_s,
			 (double)b->late_calls / late_s * (double)b->counted_window_calls /
				 fmax(1, (double)window_calls_of_bundle(l, s, fb)),
			 b->counted_probe_s, c.ns / (double)c.n);
	}
	rc = 0;
out:
	/* the target pays for every hit while they stay: gone now */
	if (counting)
		recorder_stop_counting(l->rec);
	reading_free(&r0);
	reading_free(&r1);
	reading_free(&r2);
	reading_free(&r3);
	free(count);
	return rc;
}
