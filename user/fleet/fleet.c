// SPDX-License-Identifier: MIT
/*
 * The fleet's snapshot (fleet.h): three instant queries, per scrape target a
 * snapshot of the window (fleet_target.c), then the exact merge.
 *
 * Why not increase() over the window: Prometheus extrapolates it to the
 * window's edges from the samples inside, by a factor that differs between
 * series (a counter is never extrapolated below zero), so the sums of one
 * target would no longer belong to one interval: a mean (sum / count) or a
 * visit ratio would mix two lengths of time. Instead each target's series
 * are read at the window's end and at its start, as they were scraped, and
 * subtracted: the result covers exactly the time between the two scrapes,
 * which the target's own flowprof_recording_duration_seconds measures. It is
 * what `flowprof record` would have written for that interval, with two
 * exceptions (docs/fleet.md): percentiles come from the exposition's 26
 * classic buckets, and min and max from the buckets' bounds.
 */
#include "fleet.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "fleet_int.h"

int fleet_parse_time(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end != s && !*end && !errno && isfinite(v) && v > 0 && s[0] >= '0' && s[0] <= '9') {
		*out = v;
		return 0;
	}
	return snapshot_parse_time(s, out);
}

/* "2026-11-22T23:41:59Z" for messages. */
static const char *time_text(double t, char buf[32])
{
	time_t secs = (time_t)t;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* A PromQL string literal's inside: " and \ escaped. Caller frees. */
static char *promql_string(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 1), *o = out;

	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* The jobs that have flowprof endpoints, for the error of a job without. */
static char *jobs_with_series(const char *base, double at)
{
	struct prom_vector v;
	char err[256], *list = xstrdup(""), *t;

	if (prom_query(base, "count by (job) (flowprof_recording_duration_seconds)", at, &v, err,
		       sizeof(err)))
		return list;
	for (int i = 0; i < v.n; i++) {
		const char *job = prom_label(&v.v[i], "job");

		t = xasprintf("%s%s%s", list, *list ? ", " : "", job ? job : "?");
		free(list);
		list = t;
	}
	prom_vector_free(&v);
	return list;
}

static struct fleet_target *target_of(struct fleet_target **ts, int *n, const char *instance)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp((*ts)[i].instance, instance))
			return &(*ts)[i];
	*ts = xrealloc(*ts, (size_t)(*n + 1) * sizeof(**ts));
	memset(&(*ts)[*n], 0, sizeof(**ts));
	(*ts)[*n].instance = xstrdup(instance);
	return &(*ts)[(*n)++];
}

static void targets_free(struct fleet_target *ts, int n)
{
	for (int i = 0; i < n; i++) {
		free(ts[i].instance);
		free(ts[i].end);
		json_object_put(ts[i].start);
		json_object_put(ts[i].active);
	}
	free(ts);
}

/* The end's series, one target each (Prometheus's instance label). A
 * per-process series without exported_instance means the job sets
 * honor_labels: the pid then replaced the target's label, and the series
 * of a target can no longer be told apart. */
static int group_end(const struct prom_vector *end, struct fleet_target **ts, int *n,
		     const char *job, char *err, size_t errlen)
{
	for (int i = 0; i < end->n; i++) {
		const struct prom_sample *s = &end->v[i];
		const char *inst = prom_label(s, "instance"), *name = prom_label(s, "__name__");
		struct fleet_target *t;

		if (name && !strncmp(name, "flowprof_instance_", 18) &&
		    !prom_label(s, "exported_instance")) {
			snprintf(err, errlen, "job '%s' keeps the endpoints' own instance "
				 "label (the pid; honor_labels: true): set honor_labels: false, "
				 "so that Prometheus's instance names the scrape target", job);
			return -1;
		}
		t = target_of(ts, n, inst ? inst : "");
		t->end = xrealloc(t->end, (size_t)(t->n_end + 1) * sizeof(*t->end));
		t->end[t->n_end++] = (struct prom_sample *)s;
	}
	return 0;
}

static double value_of(json_object *map, const char *key, double otherwise)
{
	json_object *v;

	return map && json_object_object_get_ex(map, key, &v) ? json_object_get_double(v)
							      : otherwise;
}

/* The value at the start of the target's series named name (-1: none). */
static double start_value(const struct fleet_target *t, const char *name)
{
	double v = -1;

	for (int i = 0; i < t->n_end; i++) {
		char *key;

		if (strcmp(prom_label(t->end[i], "__name__"), name))
			continue;
		key = fleet_series_key(t->end[i]);
		v = value_of(t->start, key, -1);
		free(key);
	}
	return v;
}

static double end_value(const struct fleet_target *t, const char *name)
{
	for (int i = 0; i < t->n_end; i++)
		if (!strcmp(prom_label(t->end[i], "__name__"), name))
			return t->end[i]->value;
	return -1;
}

/* The start's series of each target, unless its recording restarted
 * inside the window (another start time, or a duration that went down):
 * it then counts from zero. A target with series at the start only is
 * said to be left out. */
static void attach_start(const struct prom_vector *start, struct fleet_target *ts, int n)
{
	json_object *gone = json_object_new_object();

	for (int i = 0; i < start->n; i++) {
		const char *inst = prom_label(&start->v[i], "instance");
		char *key;

		int k;

		for (k = 0; k < n; k++) {
			if (!inst || strcmp(ts[k].instance, inst))
				continue;
			if (!ts[k].start)
				ts[k].start = json_object_new_object();
			key = fleet_series_key(&start->v[i]);
			json_object_object_add(ts[k].start, key,
					       json_object_new_double(start->v[i].value));
			free(key);
			break;
		}
		if (k == n && inst && !json_object_object_get_ex(gone, inst, NULL)) {
			log_warn("target %s has series at the window's start but none at its end "
				 "(it stopped, or Prometheus lost it): left out", inst);
			json_object_object_add(gone, inst, NULL);
		}
	}
	json_object_put(gone);
	for (int k = 0; k < n; k++) {
		const char *since = "flowprof_recording_start_time_seconds";
		const char *dur = "flowprof_recording_duration_seconds";
		double t0 = start_value(&ts[k], since), t1 = end_value(&ts[k], since);
		double d0 = start_value(&ts[k], dur), d1 = end_value(&ts[k], dur);

		if (ts[k].start && (d0 < 0 || d1 < d0 || (t0 >= 0 && t1 >= 0 && t0 != t1))) {
			log_info("%s: its recording restarted inside the window: counted from the "
				 "restart", ts[k].instance);
			json_object_put(ts[k].start);
			ts[k].start = NULL;
		}
	}
}

static void attach_active(const struct prom_vector *active, struct fleet_target *ts, int n)
{
	for (int i = 0; i < active->n; i++) {
		const char *inst = prom_label(&active->v[i], "instance");
		const char *b = prom_label(&active->v[i], "bundle");
		const char *h = prom_label(&active->v[i], "handler");
		char *key;

		for (int k = 0; inst && b && h && k < n; k++) {
			if (strcmp(ts[k].instance, inst))
				continue;
			if (!ts[k].active)
				ts[k].active = json_object_new_object();
			key = xasprintf("%s\x1f%s", b, h);
			json_object_object_add(ts[k].active, key,
					       json_object_new_double(active->v[i].value));
			free(key);
		}
	}
}

int fleet_snapshot(const struct fleet_query *q, struct snapshot *out, char *err, size_t errlen)
{
	struct prom_vector end = { 0 }, start = { 0 }, active = { 0 };
	struct fleet_target *ts = NULL;
	struct timespec now;
	char *job = promql_string(q->job), *sel = NULL, *avg = NULL, when[32], why[512];
	double t_end = q->end, t_start;
	int n = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (t_end <= 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		t_end = (double)now.tv_sec + now.tv_nsec / 1e9;
	}
	t_start = t_end - q->window_s;
	sel = xasprintf("{job=\"%s\",__name__=~\"flowprof_.+\"}", job);
	avg = xasprintf("avg_over_time(flowprof_handler_active_calls{job=\"%s\"}[%lldms])", job,
			(long long)llround(q->window_s * 1000));
	if (prom_query(q->url, sel, t_end, &end, err, errlen) ||
	    prom_query(q->url, sel, t_start, &start, err, errlen) ||
	    prom_query(q->url, avg, t_end, &active, err, errlen))
		goto cleanup;
	if (!end.n) {
		char *jobs = jobs_with_series(q->url, t_end);

		snprintf(err, errlen, "%s: no flowprof series of job '%s' at %s (is the job name "
			 "right? jobs with flowprof series then: %s)", q->url, q->job,
			 time_text(t_end, when), *jobs ? jobs : "none");
		free(jobs);
		goto cleanup;
	}
	if (group_end(&end, &ts, &n, q->job, err, errlen))
		goto cleanup;
	attach_start(&start, ts, n);
	attach_active(&active, ts, n);
	for (int k = 0; k < n; k++) {
		struct snapshot one = { 0 };
		int e = fleet_target_snapshot(&ts[k], t_end, &one, why, sizeof(why));

		if (!e)
			e = snapshot_merge(out, &one, why, sizeof(why));
		snapshot_free(&one);
		if (e) {
			snprintf(err, errlen, "%s, target %s: %s", q->url, ts[k].instance, why);
			snapshot_free(out);
			goto cleanup;
		}
		log_info("%s: target %s", q->url, ts[k].instance);
	}
	rc = 0;
cleanup:
	targets_free(ts, n);
	prom_vector_free(&end);
	prom_vector_free(&start);
	prom_vector_free(&active);
	free(job);
	free(sel);
	free(avg);
	return rc;
}
