/* SPDX-License-Identifier: MIT */
/*
 * `flowprof top` in three parts: the frame, the data of one refresh
 * (top_frame.c: the interval's cells, sorted, as lines of text); the
 * full-screen view that draws frames with ncurses and takes keys
 * (top_screen.c); and the command (cmd_top.c: options, snapshots, plain
 * blocks, the refresh loop).
 */
#ifndef FLOWPROF_TOP_H
#define FLOWPROF_TOP_H

#include <stdbool.h>
#include <stddef.h>

#include "collect/collect.h"
#include "snapshot/snapshot.h"

/* ---- the frame (top_frame.c) ------------------------------------------------ */

enum column {
	COL_NAME, COL_CALLS, COL_MEAN, COL_P99, COL_SELF, COL_ONCPU, COL_LOAD, COL_UTIL, NCOLS
};

struct top_column {
	const char *title;
	char key;	/* sorts by the column in the full-screen view */
	bool right;
	bool ascending;	/* natural order of the column */
};

extern const struct top_column top_columns[NCOLS];

struct row {
	const char *id;		/* the handler's id, for name sorting */
	bool bottleneck;	/* the model's bottleneck handler in this interval */
	double value[NCOLS];	/* NAN: no value (no calls in the interval) */
	char *cell[NCOLS];
};

struct top_frame {
	struct snapshot delta;	/* the interval */
	struct row *rows;
	int n_rows;
	char **flow_cells;	/* n_flows * 4: FLOW RATE MEAN P99 (of the entry handler) */
	int n_flows;
	size_t width[NCOLS];
	size_t flow_width[4];
	char *bottleneck;	/* "bottleneck: shop (shop.checkout) at 87% utilization" */
};

struct sort_key {
	enum column col;
	bool reverse;
};

/* Builds the cells of the interval between prev and cur (both counted from
 * the start; prev NULL: since the start). Returns 0, or -1 after saying
 * why. */
int top_frame_build(struct top_frame *f, const struct snapshot *cur,
		    const struct snapshot *prev, bool ascii);
void top_frame_sort(struct top_frame *f, const struct sort_key *k);
void top_frame_free(struct top_frame *f);

/* The frame's lines, each padded to the columns' widths, without trailing
 * blanks; i = -1 is the flows' title line. Caller frees. */
char *top_header_line(const struct top_frame *f);
char *top_row_line(const struct top_frame *f, int r);
char *top_flow_line(const struct top_frame *f, int i);

/* ---- the command (cmd_top.c) ------------------------------------------------ */

struct top_args {
	struct live_opts live;
	int *pids;
	double interval_s;
	const char *output;	/* written by w, at q, and at the end */
	long count;		/* frames before quitting; 0 = until q or a signal */
	bool batch;		/* plain blocks even on a terminal */
};

struct top_state {
	struct top_args *a;
	struct live *live;
	struct snapshot prev;	/* cumulative, at the last refresh */
	bool have_prev;
	struct top_frame frame;
	long frames;
	bool quit_key;		/* ended with q: the snapshot is written even without -o */
};

/* Collects now and rebuilds the frame for the interval since the last one. */
void top_refresh(struct top_state *st, bool ascii, const struct sort_key *k);

/* "flowprof-top-DATE-TIME.json", for w and q without -o. Caller frees. */
char *top_default_snapshot_name(void);

/* Writes everything recorded so far; with detach, detaches first thing
 * after reading the maps (the window ends there, as record's does).
 * Returns a message for the status line (caller frees). */
char *top_write_snapshot(struct live *l, const char *path, bool detach);

/* ---- the full-screen view (top_screen.c) -------------------------------------- */

/* Refreshes and draws every interval and answers keys until q, -n frames
 * or a stop signal. Returns 0. */
int top_run_screen(struct top_state *st);

#endif
