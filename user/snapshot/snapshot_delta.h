/* SPDX-License-Identifier: MIT */
/*
 * What happened between two snapshots of one recording: the maps read at
 * the end of a window minus the maps read at its start. `flowprof sweep`
 * attaches once for the whole sweep and measures each load step as such a
 * difference, so no step pays for an attach or a detach.
 */
#ifndef FLOWPROF_SNAPSHOT_DELTA_H
#define FLOWPROF_SNAPSHOT_DELTA_H

#include <stddef.h>

#include "snapshot.h"

/*
 * out = end - start: every counter, sum and histogram bucket of end minus
 * the same item of start (matched by handler id, edge, flow and pid; items
 * start does not have count from zero). Header fields, bundles (processes
 * and thread counts) and probe costs are end's. min_ns and max_ns cannot
 * be subtracted: they become the bounds of the window's lowest and highest
 * histogram buckets, kept within end's exact extremes. *out must be zeroed;
 * free it with snapshot_free(). Returns 0, or -1 with the reason in err when
 * start is not an earlier reading of the same recording (a counter of start
 * is larger than end's).
 */
int snapshot_delta(const struct snapshot *end, const struct snapshot *start,
		   struct snapshot *out, char *err, size_t errlen);

/*
 * The same in place, without a copy: *end becomes end - start. On error
 * (-1, the reason in err) *end is partly subtracted: free it.
 */
int snapshot_subtract(struct snapshot *end, const struct snapshot *start, char *err,
		      size_t errlen);

/*
 * A start kept for later subtraction in little memory: a snapshot's
 * handlers hold a 592-bucket histogram each (4.7 KiB; 4.7 MiB at 1000
 * handlers), of which a start uses a few buckets. Only what the
 * subtraction reads is kept: the sums, the histogram's used range and the
 * per-process counts.
 */
struct snapshot_start {
	struct snapshot rest;	/* the snapshot without its handlers */
	struct start_handler *handlers;
	int n_handlers;
};

/* Moves s into *st (zeroed first); s is freed and zeroed. */
void snapshot_start_take(struct snapshot_start *st, struct snapshot *s);

/* snapshot_subtract() with such a start: the same result, to the byte. */
int snapshot_subtract_start(struct snapshot *end, const struct snapshot_start *st, char *err,
			    size_t errlen);

void snapshot_start_free(struct snapshot_start *st);

#endif
