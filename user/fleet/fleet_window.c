// SPDX-License-Identifier: MIT
/*
 * One scrape target's snapshot of the window (fleet_int.h), once every
 * series is read (fleet_target.c): what they leave to do (histograms,
 * extremes, declared calls, the window's length) and the checks a loaded
 * document gets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "fleet_int.h"

/* The log-linear histogram from the classic one, and min and max from it. */
static void finish_histogram(struct snap_handler *h, struct fleet_classic *c)
{
	unsigned int first, last;

	hist_from_cumulative(h->hist, c->bound_ns, c->cum, c->n);
	if (hist_range(h->hist, &first, &last)) {
		h->min_ns = hist_bucket_lower(first) ? hist_bucket_lower(first) : 1;
		h->max_ns = hist_bucket_upper(last) - 1;
	}
}

/* An observed call as the flow file declares it in some flow. */
static void mark_declared(struct snapshot *s, struct snap_edge *e)
{
	for (int i = 0; i < s->n_flows; i++) {
		for (int k = 0; k < s->flows[i].n_declared; k++) {
			const struct snap_edge *d = &s->flows[i].declared[k];

			if (!strcmp(d->from, e->from) && !strcmp(d->to, e->to)) {
				e->declared = true;
				e->async = d->async;
				e->waits = d->waits;
			}
		}
	}
}

static void finish(struct fleet_build *b, const struct prom_sample *duration)
{
	struct snapshot *s = b->s;

	for (int i = 0; i < s->n_handlers; i++) {
		struct snap_handler *h = &s->handlers[i];
		json_object *v;
		char *key = xasprintf("%s\x1f%s", h->bundle, h->id);
		double entries = (double)h->calls + (double)h->incomplete +
				 b->classic[i].active_change;

		h->entries = entries > (double)(h->calls + h->incomplete)
				     ? (uint64_t)llround(entries) : h->calls + h->incomplete;
		if (b->t->active && json_object_object_get_ex(b->t->active, key, &v))
			h->inflight_mean = json_object_get_double(v);
		free(key);
		finish_histogram(h, &b->classic[i]);
		if (!h->site_class)
			h->site_class = xstrdup("unknown");
	}
	for (int i = 0; i < s->n_bundles; i++) {
		struct snap_bundle *bd = &s->bundles[i];

		/* the window's extremes, as snapshot_delta() takes them */
		for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
			if (bd->live_ns[k])
				bd->live_max = k;
			if (bd->inflight_ns[k])
				bd->inflight_max = k;
		}
	}
	for (int i = 0; i < s->n_edges; i++)
		mark_declared(s, &s->edges[i]);
	for (int k = 0; k < SNAP_SLOTS && !s->calib_rounds; k++)
		if (s->probe_slots[k].measured)
			s->calib_rounds = 1; /* a calibration there was, of unknown rounds */
	/* what live.c's fill_probe_costs() calls the snapshot's probe cost */
	s->probe_cost_ns = s->probe_cost[2].in_window_ns;
	s->version = SNAPSHOT_VERSION;
	s->host = xstrdup(fleet_label(duration, "host"));
	/* the time between the two scrapes, by the endpoint's own clock */
	s->duration_s = b->t->start ? duration->value - fleet_at_start(b, duration) : duration->value;
}

static int cmp_handler(const void *a, const void *b)
{
	return strcmp(((const struct snap_handler *)a)->id, ((const struct snap_handler *)b)->id);
}

static int cmp_flow(const void *a, const void *b)
{
	return strcmp(((const struct snap_flow *)a)->name, ((const struct snap_flow *)b)->name);
}

static int cmp_bundle(const void *a, const void *b)
{
	return strcmp(((const struct snap_bundle *)a)->name, ((const struct snap_bundle *)b)->name);
}

/* s as its document loads back: the checks of a loaded document
 * (snapshot_validate.c) on what a server on the network said, and names
 * made valid UTF-8 as the document writes them. The model then runs only
 * on snapshots that pass the checks, and `report --json` writes the very
 * snapshot it ran on, which `report` and `merge` read again. */
static int validate(struct snapshot *s, char *err, size_t errlen)
{
	char *doc = snapshot_to_json(s, false), why[512];
	struct snapshot loaded;
	int rc = snapshot_parse("the window's snapshot", doc, strlen(doc), &loaded, why,
				sizeof(why));

	if (rc) {
		snprintf(err, errlen, "the series make no valid snapshot: %s", why);
	} else {
		snapshot_free(s);
		*s = loaded;
	}
	free(doc);
	return rc;
}

int fleet_target_snapshot(const struct fleet_target *t, double end, struct snapshot *s,
			  char *err, size_t errlen)
{
	struct fleet_build b = { .t = t, .s = s, .handler_ix = json_object_new_object(), .err = err,
			   .errlen = errlen };
	const struct prom_sample *duration = NULL;
	char when[32];
	time_t start_t;
	struct tm tm;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < t->n_end; i++) {
		if (!strcmp(fleet_label(t->end[i], "__name__"), "flowprof_recording_duration_seconds"))
			duration = t->end[i];
		if (fleet_series_apply(&b, t->end[i]))
			goto cleanup;
	}
	if (!b.have_info || !duration) {
		snprintf(err, errlen, "no %s: the endpoint's flowprof is older than this one "
			 "(it lacks the series docs/fleet.md lists); upgrade it",
			 duration ? "flowprof_handler_info"
				  : "flowprof_recording_duration_seconds");
		goto cleanup;
	}
	finish(&b, duration);
	for (int i = 0; i < s->n_flows; i++) {
		if (!s->flows[i].entry) {
			snprintf(err, errlen, "flow %s has series but no "
				 "flowprof_flow_invocations_total: no entry", s->flows[i].name);
			goto cleanup;
		}
	}
	if (!(s->duration_s >= 0 && s->duration_s < 1e10) || !(end > s->duration_s && end < 1e11)) {
		snprintf(err, errlen, "flowprof_recording_duration_seconds is %g at the window's "
			 "end: not the length of a recording", duration->value);
		goto cleanup;
	}
	start_t = (time_t)floor(end - s->duration_s);
	gmtime_r(&start_t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s->started_at = xstrdup(when);
	if (s->n_handlers)
		qsort(s->handlers, (size_t)s->n_handlers, sizeof(*s->handlers), cmp_handler);
	if (s->n_flows)
		qsort(s->flows, (size_t)s->n_flows, sizeof(*s->flows), cmp_flow);
	if (s->n_bundles)
		qsort(s->bundles, (size_t)s->n_bundles, sizeof(*s->bundles), cmp_bundle);
	rc = validate(s, err, errlen);
cleanup:
	if (rc)
		snapshot_free(s);
	json_object_put(b.handler_ix);
	free(b.classic);
	return rc;
}
