// SPDX-License-Identifier: MIT
/*
 * `flowprof top`: a live view of a recording, refreshed every interval, like
 * top(1). Each frame shows the interval just ended: the rate of every flow,
 * and per handler calls/s, mean, p99, self and on-CPU share and load.
 *
 * On a terminal it is a full-screen ncurses view (ncurses knows every
 * terminal's escape sequences, keys and resizes; we do not re-derive that);
 * otherwise, or with -b, it prints one plain block per interval, for logs
 * and pipes. Both are built from the same cells.
 */
#include <argp.h>
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "collect/collect.h"
#include "commands.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

struct top_args {
	struct live_opts live;
	int *pids;
	double interval_s;
	const char *output;	/* written by w, at q, and at the end */
	long count;		/* frames before quitting; 0 = until q or a signal */
	bool batch;		/* plain blocks even on a terminal */
};

static const struct argp_option top_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow definition file (YAML; see flowprof(1))", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Watch only these processes", 0 },
	{ "interval", 'i', "SECONDS", 0, "Refresh every SECONDS (default 1; 500ms, 2s, ...)", 0 },
	{ "output", 'o', "FILE", 0,
	  "Snapshot file written by the w key, at q, and when top ends (JSON, as record -o)", 0 },
	{ "iterations", 'n', "COUNT", 0, "Quit after COUNT refreshes", 0 },
	{ "batch", 'b', NULL, 0, "Plain text blocks even on a terminal (as without one)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more (repeat for libbpf debug output)", 0 },
	{ 0 },
};

static const struct argp_child top_children[] = {
	{ &live_attach_argp, 0, "How to attach:", 1 },
	{ 0 },
};

static error_t parse_top(int key, char *arg, struct argp_state *state)
{
	struct top_args *a = state->input;
	char err[256];

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->live;
		break;
	case 'f':
		a->live.flow_path = arg;
		break;
	case 'p':
		if (parse_pid_list(arg, &a->pids, &a->live.n_pids, err, sizeof(err)))
			argp_error(state, "-p %s: %s", arg, err);
		a->live.pids = a->pids;
		break;
	case 'i':
		if (parse_seconds(arg, &a->interval_s) || a->interval_s < 0.1)
			argp_error(state, "-i %s: expected seconds, at least 0.1", arg);
		break;
	case 'o':
		a->output = arg;
		a->live.output = arg;
		break;
	case 'n': {
		char *end;

		a->count = strtol(arg, &end, 10);
		if (*end || a->count < 1)
			argp_error(state, "-n %s: expected a positive number of refreshes", arg);
		break;
	}
	case 'b':
		a->batch = true;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (top watches running processes: -p PID)",
			   arg);
		break;
	case ARGP_KEY_END:
		if (!a->live.flow_path)
			argp_error(state, "no flow file: use -f FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char top_doc[] =
	"Watch the handlers of running processes live, refreshed every interval.\v"
	"Each refresh shows the interval just ended: per flow the rate of invocations; "
	"per handler CALLS/S, MEAN and P99 latency, SELF (share of its time not spent in "
	"nested handlers), ON-CPU (share of its time on a CPU rather than waiting), "
	"LOAD (calls in progress on average: calls/s x mean) and UTIL (the utilization of "
	"its station, from the queueing model of the interval). The bottleneck is named "
	"at the top and its row highlighted.\n"
	"\n"
	"Keys: < and > (or the column's letter: n c m 9 s o l u) choose the sort column, "
	"r reverses it, space or p pauses, w writes a snapshot now (to -o FILE, else to "
	"flowprof-top-DATE-TIME.json), arrows and PgUp/PgDn scroll, q quits and writes the "
	"snapshot (to -o FILE, else to a new flowprof-top-DATE-TIME.json).\n"
	"\n"
	"Without a terminal on stdout (or with -b) one plain block is printed per "
	"interval; a plain run writes its snapshot at the end only with -o.\n"
	"\n"
	"Examples:\n"
	"  sudo flowprof top -f flows.yaml\n"
	"      every process of the bundles' executables, refreshed every second\n"
	"  sudo flowprof top -f flows.yaml -p 4242 -i 2 -o snap.json\n"
	"      process 4242 every 2 s; q writes everything since the start to snap.json\n"
	"  sudo flowprof top -f flows.yaml -b -n 5 > top.log\n"
	"      five plain blocks, one per second, then quit\n"
	"\nExit status: 0 when quit with q, -n, Ctrl-C or SIGTERM; 1 on an error; 2 on a "
	"bad command line. See flowprof(1).";

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* ---- one frame: cells computed from an interval snapshot ------------------ */

enum column {
	COL_NAME, COL_CALLS, COL_MEAN, COL_P99, COL_SELF, COL_ONCPU, COL_LOAD, COL_UTIL, NCOLS
};

static const struct {
	const char *title;
	char key;
	bool right;
	bool ascending;	/* natural order of the column */
} columns[NCOLS] = {
	[COL_NAME] = { "HANDLER", 'n', false, true },
	[COL_CALLS] = { "CALLS/S", 'c', true, false },
	[COL_MEAN] = { "MEAN", 'm', true, false },
	[COL_P99] = { "P99", '9', true, false },
	[COL_SELF] = { "SELF", 's', true, false },
	[COL_ONCPU] = { "ON-CPU", 'o', true, false },
	[COL_LOAD] = { "LOAD", 'l', true, false },
	[COL_UTIL] = { "UTIL", 'u', true, false },
};

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

static void frame_free(struct top_frame *f)
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

/* The station whose utilization a handler shows: its serial-handler
 * station, else its bundle's. */
static int station_of(const struct model *m, int h)
{
	for (int k = 0; k < m->n_stations; k++)
		if (m->stations[k].kind == STATION_LOCK && m->stations[k].handler == h)
			return k;
	return m->handlers[h].station;
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
		int k = station_of(&m, i);

		f->rows[i].value[COL_UTIL] = k >= 0 ? m.stations[k].utilization : NAN;
		f->rows[i].bottleneck = i == m.bottleneck_handler;
	}
	if (m.bottleneck >= 0) {
		char *st = term_escape(m.stations[m.bottleneck].name);
		char *hd = term_escape(m.bottleneck_handler >= 0 ? m.handlers[m.bottleneck_handler].id
								: NULL);

		f->bottleneck = xasprintf("bottleneck: %s%s%s%s at %s utilization", st,
					  *hd ? " (" : "", hd, *hd ? ")" : "",
					  units_percent(u, sizeof(u), m.stations[m.bottleneck].utilization));
		free(st);
		free(hd);
	}
	model_free(&m);
}

/* Builds the cells of the interval between prev and cur (both counted from
 * the start; prev NULL: since the start). */
static int frame_build(struct top_frame *f, const struct snapshot *cur, const struct snapshot *prev,
		       bool ascii)
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
		f->width[c] = strlen(columns[c].title);
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

struct sort_key {
	enum column col;
	bool reverse;
};

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
		if (!columns[k->col].ascending)
			r = -r;
		if (!r)
			r = strcmp(a->id, b->id);
	}
	return k->reverse ? -r : r;
}

static void frame_sort(struct top_frame *f, const struct sort_key *k)
{
	qsort_r(f->rows, (size_t)f->n_rows, sizeof(*f->rows), cmp_rows, (void *)k);
}

/* One line of cells, each padded to its width, two spaces apart; no
 * trailing blanks. Caller frees. */
static char *format_line(char *const *cells, const size_t *width, const bool *right, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	for (int c = 0; c < n; c++) {
		bool last = c + 1 == n;

		if (c)
			fputs("  ", m);
		print_padded(m, cells[c], last && !right[c] ? 0 : width[c], right[c]);
	}
	fclose(m);
	return buf;
}

static char *header_line(const struct top_frame *f)
{
	char *titles[NCOLS];
	bool right[NCOLS];

	for (int c = 0; c < NCOLS; c++) {
		titles[c] = (char *)columns[c].title;
		right[c] = columns[c].right;
	}
	return format_line(titles, f->width, right, NCOLS);
}

static char *row_line(const struct top_frame *f, int r)
{
	bool right[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		right[c] = columns[c].right;
	return format_line(f->rows[r].cell, f->width, right, NCOLS);
}

static char *flow_line(const struct top_frame *f, int i)
{
	static char *titles[4] = { "FLOW", "RATE", "MEAN", "P99" };
	static const bool right[4] = { false, true, true, true };

	return format_line(i < 0 ? titles : &f->flow_cells[i * 4], f->flow_width, right, 4);
}

/* ---- snapshots ---------------------------------------------------------------- */

static char *default_snapshot_name(void)
{
	char when[32];
	time_t t = time(NULL);

	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", localtime(&t));
	return xasprintf("flowprof-top-%s.json", when);
}

/* Writes everything recorded so far; with detach, detaches first thing
 * after reading the maps (the window ends there, as record's does).
 * Returns a message for the status line (caller frees). */
static char *write_snapshot(struct live *l, const char *path, bool detach)
{
	struct snapshot s = { 0 };
	uint64_t calls = 0;
	char *msg, *p = term_escape(path);

	if (live_collect(l, &s)) {
		msg = xasprintf("cannot read the BPF maps");
		goto out;
	}
	if (detach) {
		live_detach(l);
		s.detach_ms = live_info(l)->detach_ms;
	}
	if (snapshot_write(&s, path)) {
		msg = xasprintf("cannot write snapshot %s: %s", p, strerror(errno));
		goto out;
	}
	for (int h = 0; h < s.n_handlers; h++)
		calls += s.handlers[h].calls;
	msg = xasprintf("wrote %s: %d handlers, %llu calls in %.1f s", p, s.n_handlers,
			(unsigned long long)calls, s.duration_s);
out:
	free(p);
	snapshot_free(&s);
	return msg;
}

/* ---- plain blocks ------------------------------------------------------------ */

static void print_block(FILE *out, const struct top_frame *f, const struct snapshot *cur)
{
	char *line;

	fprintf(out, "flowprof top: %.1f s since start, interval %.2f s\n", cur->duration_s,
		f->delta.duration_s);
	if (f->bottleneck)
		fprintf(out, "%s\n", f->bottleneck);
	for (int i = -1; i < f->n_flows; i++) {
		line = flow_line(f, i);
		fprintf(out, "%s\n", line);
		free(line);
	}
	fputc('\n', out);
	line = header_line(f);
	fprintf(out, "%s\n", line);
	free(line);
	for (int r = 0; r < f->n_rows; r++) {
		line = row_line(f, r);
		fprintf(out, "%s\n", line);
		free(line);
	}
	fputc('\n', out);
	fflush(out);
}

/* ---- the full-screen view ------------------------------------------------------ */

struct screen {
	struct sort_key sort;
	bool paused;
	int scroll;
	char *status;		/* last message (snapshot written, ...) */
	const char *host;
	int n_handlers, processes;
	const char *mode;
	double interval_s;
};

/* Bytes of s that fit in cols terminal columns. */
static size_t fit_bytes(const char *s, int cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	for (int w = 0; i < n && w < cols; w++) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp);

		i += len ? len : 1;
	}
	return i;
}

/* Draws s (already a display-safe string) at row y, cut to the screen
 * width (curses would wrap it), with the rest of the row cleared. */
static void put_line(int y, const char *s, attr_t attr)
{
	if (y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	attron(attr);
	addnstr(s, (int)fit_bytes(s, COLS));
	if (attr & A_REVERSE) /* a bar across the whole width */
		for (int x = (int)display_width(s); x < COLS; x++)
			addch(' ');
	attroff(attr);
}

/* The header row, with the sort column's title underlined. */
static void put_header(int y, const struct top_frame *f, const struct sort_key *k)
{
	char *line = header_line(f);
	int x = 0;

	put_line(y, line, A_REVERSE);
	free(line);
	for (int c = 0; c < (int)k->col; c++)
		x += (int)f->width[c] + 2;
	if (columns[k->col].right)
		x += (int)(f->width[k->col] - strlen(columns[k->col].title));
	if (y >= LINES || x >= COLS)
		return;
	attron(A_REVERSE | A_UNDERLINE | A_BOLD);
	mvaddnstr(y, x, columns[k->col].title, COLS - x);
	attroff(A_REVERSE | A_UNDERLINE | A_BOLD);
}

/* The bottleneck stands out: bold red where the terminal has colours. */
static attr_t bottleneck_attr(void)
{
	return A_BOLD | (has_colors() ? COLOR_PAIR(1) : A_UNDERLINE);
}

static void draw(const struct screen *sc, const struct top_frame *f, const struct snapshot *cur)
{
	char *line;
	int y = 0, body, shown;

	erase();
	line = xasprintf("flowprof top - %s - %d handler%s in %d process%s (%s) - every %.1f s - "
			 "%.0f s recorded%s",
			 sc->host, sc->n_handlers, sc->n_handlers == 1 ? "" : "s", sc->processes,
			 sc->processes == 1 ? "" : "es", sc->mode, sc->interval_s,
			 cur ? cur->duration_s : 0.0, sc->paused ? " - PAUSED" : "");
	put_line(y++, line, A_BOLD);
	free(line);
	if (f->bottleneck)
		put_line(y, f->bottleneck, bottleneck_attr());
	y++;
	if (!f->rows) {
		put_line(y++, "collecting the first interval...", 0);
	} else {
		for (int i = -1; i < f->n_flows; i++) {
			line = flow_line(f, i);
			put_line(y++, line, i < 0 ? A_BOLD : 0);
			free(line);
		}
		y++;
		put_header(y++, f, &sc->sort);
		body = LINES - y - 1;
		shown = 0;
		for (int r = sc->scroll; r < f->n_rows && shown < body; r++, shown++) {
			line = row_line(f, r);
			put_line(y++, line, f->rows[r].bottleneck ? bottleneck_attr() : 0);
			free(line);
		}
		if (sc->scroll + shown < f->n_rows && LINES > 1) {
			line = xasprintf("... %d more (arrows, PgDn)", f->n_rows - sc->scroll - shown);
			put_line(LINES - 2, line, A_DIM);
			free(line);
		}
	}
	line = xasprintf("%s", sc->status ? sc->status
			 : "q quit  p pause  w write snapshot  < > sort  r reverse  "
			   "n c m 9 s o l u sort by column");
	put_line(LINES - 1, line, A_REVERSE);
	free(line);
	refresh();
}

/* While curses owns the terminal, stderr goes to a memory file and is
 * copied back once the screen is restored, so no message is lost. */
static int divert_stderr(int *saved)
{
	int fd = memfd_create("flowprof-top-stderr", MFD_CLOEXEC);

	*saved = -1;
	if (fd < 0)
		return -1;
	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	return fd;
}

static void restore_stderr(int fd, int saved)
{
	char buf[4096];
	ssize_t n;

	if (fd < 0 || saved < 0)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) != n)
			break;
	close(fd);
}

static enum column column_for_key(int ch)
{
	for (int c = 0; c < NCOLS; c++)
		if (columns[c].key == ch)
			return (enum column)c;
	return NCOLS;
}

/* ---- the loop ------------------------------------------------------------------ */

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
static void refresh_frame(struct top_state *st, bool ascii, const struct sort_key *k)
{
	struct snapshot cur = { 0 };

	if (live_collect(st->live, &cur)) {
		snapshot_free(&cur);
		return;
	}
	frame_free(&st->frame);
	if (frame_build(&st->frame, &cur, st->have_prev ? &st->prev : NULL, ascii)) {
		frame_free(&st->frame);
		snapshot_free(&cur);
		return;
	}
	frame_sort(&st->frame, k);
	snapshot_free(&st->prev);
	st->prev = cur;
	st->have_prev = true;
	st->frames++;
}

static int run_plain(struct top_state *st)
{
	struct sort_key k = { COL_LOAD, false };
	uint64_t next = st->live->t_start;
	bool ascii = !locale_is_utf8();

	while (!stop_signal) {
		uint64_t now = now_ns();

		live_tick(st->live);
		next += (uint64_t)(st->a->interval_s * 1e9);
		if (next > now)
			usleep((useconds_t)((next - now) / 1000));
		if (stop_signal)
			break;
		refresh_frame(st, ascii, &k);
		print_block(stdout, &st->frame, &st->prev);
		if (st->a->count && st->frames >= st->a->count)
			break;
	}
	return 0;
}

static int run_screen(struct top_state *st)
{
	struct screen sc = { .sort = { COL_LOAD, false }, .interval_s = st->a->interval_s };
	uint64_t interval = (uint64_t)(st->a->interval_s * 1e9), next;
	bool ascii;
	int err_fd, saved_err;

	sc.n_handlers = st->live->ff.n_handlers;
	sc.processes = st->live->processes;
	sc.mode = attach_mode_name(live_info(st->live)->mode);
	setlocale(LC_CTYPE, "");
	ascii = !locale_is_utf8();
	err_fd = divert_stderr(&saved_err);
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
	}
	{
		static char host[256];

		if (gethostname(host, sizeof(host) - 1))
			strcpy(host, "?");
		sc.host = host;
	}
	next = st->live->t_start + interval;
	draw(&sc, &st->frame, NULL);
	while (!stop_signal) {
		uint64_t now = now_ns();
		int ch, wait_ms;
		enum column col;

		if (now >= next) {
			live_tick(st->live);
			refresh_frame(st, ascii, &sc.sort);
			next += interval;
			if (next <= now) /* fell behind (a slow collection): skip ahead */
				next = now + interval;
			if (!sc.paused)
				draw(&sc, &st->frame, &st->prev);
			if (st->a->count && st->frames >= st->a->count)
				break;
			continue;
		}
		wait_ms = (int)((next - now + 999999) / 1000000);
		timeout(wait_ms);
		ch = getch();
		if (ch == ERR)
			continue;
		switch (ch) {
		case 'q':
		case 'Q':
			st->quit_key = true;
			goto done;
		case ' ':
		case 'p':
		case 'P':
			sc.paused = !sc.paused;
			break;
		case 'w':
		case 'W': {
			char *path = st->a->output ? xstrdup(st->a->output) : default_snapshot_name();

			free(sc.status);
			sc.status = write_snapshot(st->live, path, false);
			free(path);
			break;
		}
		case '<':
			sc.sort.col = (enum column)((sc.sort.col + NCOLS - 1) % NCOLS);
			break;
		case '>':
			sc.sort.col = (enum column)((sc.sort.col + 1) % NCOLS);
			break;
		case 'r':
		case 'R':
			sc.sort.reverse = !sc.sort.reverse;
			break;
		case KEY_DOWN:
		case 'j':
			sc.scroll++;
			break;
		case KEY_UP:
		case 'k':
			sc.scroll--;
			break;
		case KEY_NPAGE:
			sc.scroll += LINES / 2;
			break;
		case KEY_PPAGE:
			sc.scroll -= LINES / 2;
			break;
		case KEY_HOME:
			sc.scroll = 0;
			break;
		case KEY_RESIZE:
			break;
		default:
			col = column_for_key(ch);
			if (col == NCOLS)
				continue;
			if (sc.sort.col == col)
				sc.sort.reverse = !sc.sort.reverse;
			else
				sc.sort = (struct sort_key){ col, false };
			break;
		}
		if (sc.scroll > st->frame.n_rows - 1)
			sc.scroll = st->frame.n_rows - 1;
		if (sc.scroll < 0)
			sc.scroll = 0;
		if (st->frame.rows)
			frame_sort(&st->frame, &sc.sort);
		draw(&sc, &st->frame, st->have_prev ? &st->prev : NULL);
	}
done:
	endwin();
	restore_stderr(err_fd, saved_err);
	free(sc.status);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .interval_s = 1.0, .live = { .cmd = "top", .mode = ATTACH_AUTO } };
	struct argp argp = { top_options, parse_top, NULL, top_doc, top_children, NULL, NULL };
	struct live live;
	struct top_state st = { .a = &a, .live = &live };
	bool started = false, screen;
	int rc = EXIT_ERROR;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	screen = !a.batch && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);

	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	signal(SIGPIPE, SIG_IGN);
	if (live_start(&live, &a.live))
		goto cleanup;
	started = true;
	if (!screen)
		fprintf(stderr, "flowprof: watching %d handlers (%zu probe points, %s) in %d "
			"process%s; attach took %.1f ms\n",
			live.ff.n_handlers, live_info(&live)->n_probes,
			attach_mode_name(live_info(&live)->mode), live.processes,
			live.processes == 1 ? "" : "es", live_info(&live)->attach_ms);

	if (screen)
		run_screen(&st);
	else
		run_plain(&st);

	if (a.output || st.quit_key) {
		char *path = a.output ? xstrdup(a.output) : default_snapshot_name();
		char *msg;

		msg = write_snapshot(&live, path, true);
		fprintf(stderr, "flowprof: %s (detach %.1f ms)\n", msg, live_info(&live)->detach_ms);
		rc = strncmp(msg, "wrote ", 6) ? EXIT_ERROR : EXIT_OK;
		free(msg);
		free(path);
	} else {
		rc = EXIT_OK;
	}

cleanup:
	if (started)
		live_stop(&live);
	frame_free(&st.frame);
	snapshot_free(&st.prev);
	free(a.pids);
	return rc;
}
