/* SPDX-License-Identifier: MIT */
/*
 * Inside user/fleet/: the Prometheus client (prom_http.c: libcurl, loaded
 * lazily; prom_query.c: the query API's JSON) and the snapshot of one
 * scrape target (fleet_target.c), which fleet.c merges. Private.
 */
#ifndef FLOWPROF_FLEET_INT_H
#define FLOWPROF_FLEET_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "snapshot/snapshot.h"

/* ---- prom_http.c ----------------------------------------------------------- */

/* GET url: the body (NUL-terminated, caller frees) and the HTTP status in
 * *status; NULL with err = "URL: why" when no answer came. */
char *prom_http_get(const char *url, long *status, char *err, size_t errlen);

/* query escaped for a URL's query string (caller frees). */
char *prom_url_escape(const char *s);

/* ---- prom_query.c ---------------------------------------------------------- */

/* One series of an instant vector: its labels (a JSON object of strings,
 * "__name__" included) and its value. */
struct prom_sample {
	json_object *labels;
	double value;
};

struct prom_vector {
	json_object *doc;	/* the answer, which owns the labels */
	struct prom_sample *v;
	int n;
};

/* Evaluates the PromQL expression query at Unix time at (an instant vector)
 * on the server base. Returns 0, or -1 with err set (Prometheus's own
 * error when it gave one). */
int prom_query(const char *base, const char *query, double at, struct prom_vector *out,
	       char *err, size_t errlen);

void prom_vector_free(struct prom_vector *v);

/* A label's value, NULL when the series lacks it. */
const char *prom_label(const struct prom_sample *s, const char *key);

/* ---- fleet_target.c ---------------------------------------------------------- */

/* What Prometheus holds of one scrape target: its series at the window's
 * end and at its start (none when the recording began inside the window or
 * restarted), and the mean of each handler's active calls over the window. */
struct fleet_target {
	char *instance;		/* Prometheus's target label */
	struct prom_sample **end;
	int n_end;
	json_object *start;	/* series key -> value at the start (NULL: none) */
	json_object *active;	/* "bundle\x1fhandler" -> mean active calls */
};

/* The identity of a series across the two readings: its name and labels
 * but job and instance, in Prometheus's label order. Caller frees. */
char *fleet_series_key(const struct prom_sample *s);

/* ---- fleet_window.c ------------------------------------------------------------ */

/* The snapshot target t would have written for the window ending at end
 * (Unix time): counters are end - start, gauges end's. Returns 0, or -1
 * with err set (a series that makes no sense, e.g. an unknown histogram
 * bound). */
int fleet_target_snapshot(const struct fleet_target *t, double end, struct snapshot *s,
			  char *err, size_t errlen);

/* ---- fleet_target.c and fleet_window.c: building that snapshot ---------------- */

/* What a handler's series leave for the end: its classic histogram as
 * read (cumulative counts by bound) and the change of its calls in
 * progress. */
#define FLEET_MAX_CLASSIC 64
struct fleet_classic {
	int n;
	uint64_t bound_ns[FLEET_MAX_CLASSIC];	/* UINT64_MAX: +Inf */
	uint64_t cum[FLEET_MAX_CLASSIC];
	double active_change;
};

struct fleet_build {
	const struct fleet_target *t;
	struct snapshot *s;
	json_object *handler_ix;	/* id -> index into s->handlers */
	struct fleet_classic *classic;	/* parallel to s->handlers */
	size_t cap_handlers;
	bool have_info;			/* flowprof_handler_info seen */
	char *err;
	size_t errlen;
};

/* Reads series x into b's snapshot, if it is one flowprof writes (others
 * are left alone): 0, or -1 with b->err set. */
int fleet_series_apply(struct fleet_build *b, const struct prom_sample *x);
/* A label's value, "" when the series lacks it. */
const char *fleet_label(const struct prom_sample *x, const char *key);
/* A series' value at the window's start (0 without a start). */
double fleet_at_start(const struct fleet_build *b, const struct prom_sample *x);

#endif
