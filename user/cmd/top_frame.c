// SPDX-License-Identifier: MIT
/*
 * One frame of `flowprof top` (top.h): the interval's cells, computed from
 * two cumulative snapshots, sorted, and laid out as lines of text that the
 * plain blocks print and the full-screen view draws.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "report/report.h"
#include "top.h"

const struct top_column top_columns[NCOLS] = {
	[COL_NAME] = { "HANDLER", 'n', false, true },
	[COL_CALLS] = { "CALLS/S", 'c', true, false },
	[COL_MEAN] = { "MEAN", 'm', true, false },
	[COL_P99] = { "P99", '9', true, false },
	[COL_SELF] = { "SELF", 's', true, false },
	[COL_ONCPU] = { "ON-CPU", 'o', true, false },
	[COL_LOAD] = { "LOAD", 'l', true, false },
	[COL_UTIL] = { "UTIL", 'u', true, false },
};

static double ratio_or_nan(double num, double den)
{
	return den > 0 ? num / den : NAN;
}

static char *fmt_cell(enum column c, double v, bool ascii)
{
	char buf[UNITS_BUF];

	if (!isfinite(v))
		return xstrdup("-");
	switch (c) {
	case COL_CALLS:
		return xstrdup(units_rate(buf, sizeof(buf), v));
	case COL_MEAN:
	case COL_P99:
		return xstrdup(units_duration(buf, sizeof(buf), v, ascii));
	case COL_SELF:
	case COL_ONCPU:
		return xstrdup(units_percent(buf, sizeof(buf), v));
	case COL_LOAD:
		return xasprintf("%.2f", v);
	case COL_UTIL: /* past 100%: how far beyond capacity */
		return v >= 1 ? xasprintf("%.0f%%", v * 100) : xstrdup(units_percent(buf, sizeof(buf), v));
	default:
		return xstrdup("");
	}
}

void top_frame_free(struct top_frame *f)
{
	for (int r = 0; r < f->n_rows; r++)
		for (int c = 0; c < NCOLS; c++)
			free(f->rows[r].cell[c]);
	free(f->rows);
	for (int i = 0; i < f->n_flows * 4; i++)
		free(f->flow_cells[i]);
	free(f->flow_cells);
	free(f->bottleneck);
	snapshot_free(&f->delta);
	memset(f, 0, sizeof(*f));
}

static void widen(size_t *w, const char *s)
{
	size_t n = display_width(s);

	if (n > *w)
		*w = n;
}

/* UTIL and the bottleneck: the queueing model of the interval alone. */
static void frame_model(struct top_frame *f)
{
	struct model m;
	char err[512], u[UNITS_BUF];

	for (int i = 0; i < f->n_rows; i++)
		f->rows[i].value[COL_UTIL] = NAN;
	if (f->delta.duration_s <= 0 || model_build(&f->delta, NULL, &m, err, sizeof(err)))
		return;
	for (int i = 0; i < f->n_rows && i < m.n_handlers; i++) {
		int k = station_shown_for_handler(&m, i);

		f->rows[i].value[COL_UTIL] = k >= 0 ? m.stations[k].utilization : NAN;
		f->rows[i].bottleneck = i == m.bottleneck_handler;
	}
	if (m.bottleneck >= 0) {
		char *st = term_escape(m.stations[m.bottleneck].name);
		char *hd = term_escape(m.bottleneck_handler >= 0 ? m.handlers[m.bottleneck_handler].id
					: m.bottleneck_others > 0 ? "other processes" : NULL);

		f->bottleneck = xasprintf("bottleneck: %s%s%s%s at %s utilization", st,
					  *hd ? " (" : "", hd, *hd ? ")" : "",
					  units_percent(u, sizeof(u), m.stations[m.bottleneck].utilization));
		free(st);
		free(hd);
	}
	model_free(&m);
}

int top_frame_build(struct top_frame *f, const struct snapshot *cur,
		    const struct snapshot *prev, bool ascii)
{
	static const char *const flow_titles[4] = { "FLOW", "RATE", "MEAN", "P99" };
	static const struct snapshot none;
	const struct snapshot *d = &f->delta;
	double secs;
	char err[512];

	if (snapshot_delta(cur, prev ? prev : &none, &f->delta, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	f->delta.duration_s = cur->duration_s - (prev ? prev->duration_s : 0);
	secs = d->duration_s;
	f->n_rows = d->n_handlers;
	f->rows = xcalloc((size_t)d->n_handlers, sizeof(*f->rows));
	for (int c = 0; c < NCOLS; c++)
		f->width[c] = strlen(top_columns[c].title);
	for (int i = 0; i < d->n_handlers; i++) {
		const struct snap_handler *h = &d->handlers[i];
		struct row *r = &f->rows[i];
		double calls = (double)h->calls, total = (double)h->total_ns;

		r->id = h->id;
		r->value[COL_NAME] = NAN;
		r->value[COL_CALLS] = secs > 0 ? calls / secs : NAN;
		r->value[COL_MEAN] = ratio_or_nan(total, calls);
		r->value[COL_P99] = h->calls ? hist_percentile(h->hist, 99, 0, 0) : NAN;
		r->value[COL_SELF] = ratio_or_nan((double)h->self_ns, total);
		r->value[COL_ONCPU] =
			h->oncpu_measured ? ratio_or_nan((double)h->oncpu_ns, total) : NAN;
		r->value[COL_LOAD] = secs > 0 ? total / (secs * 1e9) : NAN;
	}
	frame_model(f);
	for (int i = 0; i < d->n_handlers; i++) {
		struct row *r = &f->rows[i];

		r->cell[COL_NAME] = term_escape(r->id);
		for (int c = COL_NAME + 1; c < NCOLS; c++)
			r->cell[c] = fmt_cell((enum column)c, r->value[c], ascii);
		for (int c = 0; c < NCOLS; c++)
			widen(&f->width[c], r->cell[c]);
	}

	f->n_flows = d->n_flows;
	f->flow_cells = xcalloc((size_t)d->n_flows * 4 + 1, sizeof(char *));
	for (int c = 0; c < 4; c++)
		f->flow_width[c] = strlen(flow_titles[c]);
	for (int i = 0; i < d->n_flows; i++) {
		const struct snap_flow *fl = &d->flows[i];
		const struct snap_handler *e = snapshot_handler(d, fl->entry);
		char **cells = &f->flow_cells[i * 4];

		cells[0] = term_escape(fl->name);
		cells[1] = fmt_cell(COL_CALLS, secs > 0 ? (double)fl->invocations / secs : NAN,
				    ascii);
		cells[2] = fmt_cell(COL_MEAN, e ? ratio_or_nan((double)e->total_ns,
							     (double)e->calls) : NAN, ascii);
		cells[3] = fmt_cell(COL_P99, e && e->calls ? hist_percentile(e->hist, 99, 0, 0)
							   : NAN, ascii);
		for (int c = 0; c < 4; c++)
			widen(&f->flow_width[c], cells[c]);
	}
	return 0;
}

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
	const struct row *a = pa, *b = pb;
	const struct sort_key *k = ctx;
	int r;

	if (k->col == COL_NAME) {
		r = strcmp(a->id, b->id);
	} else {
		double x = a->value[k->col], y = b->value[k->col];

		/* Rows without a value stay at the bottom either way. */
		if (isnan(x) || isnan(y))
			return isnan(x) - isnan(y);
		r = x < y ? -1 : x > y;
		if (!top_columns[k->col].ascending)
			r = -r;
		if (!r)
			r = strcmp(a->id, b->id);
	}
	return k->reverse ? -r : r;
}

void top_frame_sort(struct top_frame *f, const struct sort_key *k)
{
	qsort_r(f->rows, (size_t)f->n_rows, sizeof(*f->rows), cmp_rows, (void *)k);
}

/* One line of cells, as text tables print their rows. Caller frees. */
static char *format_line(char *const *cells, const size_t *width, const bool *right, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = xopen_memstream(&buf, &len);

	table_print_row(m, (const char *const *)cells, width, right, n);
	fclose(m);
	return buf;
}

char *top_header_line(const struct top_frame *f)
{
	char *titles[NCOLS];
	bool right[NCOLS];

	for (int c = 0; c < NCOLS; c++) {
		titles[c] = (char *)top_columns[c].title;
		right[c] = top_columns[c].right;
	}
	return format_line(titles, f->width, right, NCOLS);
}

char *top_row_line(const struct top_frame *f, int r)
{
	bool right[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		right[c] = top_columns[c].right;
	return format_line(f->rows[r].cell, f->width, right, NCOLS);
}

char *top_flow_line(const struct top_frame *f, int i)
{
	static char *titles[4] = { "FLOW", "RATE", "MEAN", "P99" };
	static const bool right[4] = { false, true, true, true };

	return format_line(i < 0 ? titles : &f->flow_cells[i * 4], f->flow_width, right, 4);
}
