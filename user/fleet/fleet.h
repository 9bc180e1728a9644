/* SPDX-License-Identifier: MIT */
/*
 * The fleet: a snapshot of many hosts built from the Prometheus server that
 * scrapes their flowprof endpoints (`flowprof report --prometheus URL --job
 * NAME --window 5m`), so that the normal report and model run on a whole
 * fleet. For each scrape target of the job, the counters at the window's
 * end less those at its start make the snapshot that endpoint would have
 * written for the window; the targets' snapshots are then merged as
 * `flowprof merge` merges hosts (docs/fleet.md).
 *
 * Prometheus is asked over its HTTP API with libcurl, loaded when a query
 * is made (as libmicrohttpd is for serve): the recording agent never maps it.
 */
#ifndef FLOWPROF_FLEET_H
#define FLOWPROF_FLEET_H

#include <stddef.h>

#include "snapshot/snapshot.h"

struct fleet_query {
	const char *url;	/* Prometheus: "http://prom:9090" (a path prefix is kept) */
	const char *job;	/* the scrape job of the flowprof endpoints */
	double window_s;	/* the window, s (> 0) */
	double end;		/* its end, Unix time; 0 = now */
};

/*
 * Builds the fleet's snapshot of the window into *out (zeroed; free with
 * snapshot_free). Returns 0, or -1 with one message in err, e.g.
 * "http://prom:9090: no flowprof series of job 'shop' at 2026-11-22T23:41:59Z
 * (is the job name right? jobs with flowprof series: flowprof)".
 */
int fleet_snapshot(const struct fleet_query *q, struct snapshot *out, char *err, size_t errlen);

/*
 * The same for one endpoint without Prometheus, from the text of two of its
 * expositions (GET /metrics, either format): at the window's end, and at
 * its start (NULL: from the recording's start). The round trip snapshot ->
 * exposition -> snapshot is tested with it (tests/unit/test_fleet.c).
 * Returns 0, or -1 with err set.
 */
int fleet_snapshot_from_text(const char *end, const char *start, struct snapshot *out,
			     char *err, size_t errlen);

/*
 * "1700000000", "1700000000.5" or RFC 3339 ("2026-11-22T23:41:59Z",
 * "2026-11-22T23:41:59.250+01:00"): Unix time. Returns 0 or -1.
 */
int fleet_parse_time(const char *s, double *out);

#endif
