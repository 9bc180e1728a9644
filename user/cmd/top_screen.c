// SPDX-License-Identifier: MIT
/*
 * The full-screen view of `flowprof top` (top.h): ncurses draws the frames
 * (ncurses knows every terminal's escape sequences, keys and resizes; we do
 * not re-derive that) and takes the keys that sort, pause, scroll, write a
 * snapshot and quit.
 */
#include <curses.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"
#include "collect/collect.h"
#include "subcommand.h"
#include "top.h"

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

/* Draws s (already a display-safe string) at row y, cut to the screen
 * width (curses would wrap it), with the rest of the row cleared. */
static void put_line(int y, const char *s, attr_t attr)
{
	if (y >= LINES)
		return;
	move(y, 0);
	clrtoeol();
	attron(attr);
	addnstr(s, (int)display_prefix(s, (size_t)COLS));
	if (attr & A_REVERSE) /* a bar across the whole width */
		for (int x = (int)display_width(s); x < COLS; x++)
			addch(' ');
	attroff(attr);
}

/* The header row, with the sort column's title underlined. */
static void put_header(int y, const struct top_frame *f, const struct sort_key *k)
{
	char *line = top_header_line(f);
	int x = 0;

	put_line(y, line, A_REVERSE);
	free(line);
	for (int c = 0; c < (int)k->col; c++)
		x += (int)f->width[c] + 2;
	if (top_columns[k->col].right)
		x += (int)(f->width[k->col] - strlen(top_columns[k->col].title));
	if (y >= LINES || x >= COLS)
		return;
	attron(A_REVERSE | A_UNDERLINE | A_BOLD);
	mvaddnstr(y, x, top_columns[k->col].title, COLS - x);
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
			line = top_flow_line(f, i);
			put_line(y++, line, i < 0 ? A_BOLD : 0);
			free(line);
		}
		y++;
		put_header(y++, f, &sc->sort);
		body = LINES - y - 1;
		shown = 0;
		for (int r = sc->scroll; r < f->n_rows && shown < body; r++, shown++) {
			line = top_row_line(f, r);
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
		if (top_columns[c].key == ch)
			return (enum column)c;
	return NCOLS;
}

int top_run_screen(struct top_state *st)
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
	while (!stop_signal_caught()) {
		uint64_t now = now_ns();
		int ch, wait_ms;
		enum column col;

		if (now >= next) {
			/* the frame is read on time; a recalibration goes after it */
			top_refresh(st, ascii, &sc.sort);
			live_tick(st->live);
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
			char *path = st->a->output ? xstrdup(st->a->output) : top_default_snapshot_name();

			free(sc.status);
			sc.status = top_write_snapshot(st->live, path, false);
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
			top_frame_sort(&st->frame, &sc.sort);
		draw(&sc, &st->frame, st->have_prev ? &st->prev : NULL);
	}
done:
	endwin();
	restore_stderr(err_fd, saved_err);
	free(sc.status);
	return 0;
}
