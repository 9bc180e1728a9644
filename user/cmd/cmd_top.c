// SPDX-License-Identifier: MIT
/*
 * `flowprof top`: a live view of a recording, refreshed every interval, like
 * top(1). Each frame shows the interval just ended: the rate of every flow,
 * and per handler calls/s, mean, p99, self and on-CPU share and load.
 *
 * On a terminal it is a full-screen ncurses view (top_screen.c); otherwise,
 * or with -b, it prints one plain block per interval, for logs and pipes.
 * Both are built from the same frame (top_frame.c; see top.h).
 */
#include <argp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "collect/collect.h"
#include "commands.h"
#include "snapshot/snapshot.h"
#include "subcommand.h"
#include "top.h"

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

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->live;
		break;
	case 'f':
		a->live.flow_path = arg;
		break;
	case 'p':
		parse_pid_option(state, arg, &a->pids, &a->live.n_pids);
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

/* ---- snapshots ---------------------------------------------------------------- */

char *top_default_snapshot_name(void)
{
	char when[32];
	time_t t = time(NULL);

	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", localtime(&t));
	return xasprintf("flowprof-top-%s.json", when);
}

char *top_write_snapshot(struct live *l, const char *path, bool detach)
{
	struct snapshot s = { 0 };
	uint64_t calls = 0;
	char *msg, *p = term_escape(path);

	if (detach)
		live_disarm(l); /* the last reading: every handler over one span */
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
		line = top_flow_line(f, i);
		fprintf(out, "%s\n", line);
		free(line);
	}
	fputc('\n', out);
	line = top_header_line(f);
	fprintf(out, "%s\n", line);
	free(line);
	for (int r = 0; r < f->n_rows; r++) {
		line = top_row_line(f, r);
		fprintf(out, "%s\n", line);
		free(line);
	}
	fputc('\n', out);
	fflush(out);
}

/* ---- the loop ------------------------------------------------------------------ */

void top_refresh(struct top_state *st, bool ascii, const struct sort_key *k)
{
	struct snapshot cur = { 0 };

	if (live_collect(st->live, &cur)) {
		snapshot_free(&cur);
		return;
	}
	top_frame_free(&st->frame);
	if (top_frame_build(&st->frame, &cur, st->have_prev ? &st->prev : NULL, ascii)) {
		top_frame_free(&st->frame);
		snapshot_free(&cur);
		return;
	}
	top_frame_sort(&st->frame, k);
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

	while (!stop_signal_caught()) {
		uint64_t now;

		/* a recalibration here takes part of the interval, not more:
		 * the clock is read after it */
		live_tick(st->live);
		now = now_ns();
		next += (uint64_t)(st->a->interval_s * 1e9);
		if (next > now)
			usleep((useconds_t)((next - now) / 1000));
		if (stop_signal_caught())
			break;
		top_refresh(st, ascii, &k);
		print_block(stdout, &st->frame, &st->prev);
		if (st->a->count && st->frames >= st->a->count)
			break;
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top_args a = { .interval_s = 1.0, .live = { .cmd = "top", .mode = ATTACH_AUTO,
				.permitted = require_bpf_capabilities } };
	struct argp argp = { top_options, parse_top, NULL, top_doc, top_children, NULL, NULL };
	struct live live;
	struct top_state st = { .a = &a, .live = &live };
	bool started = false, screen;
	int rc = EXIT_ERROR;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	screen = !a.batch && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);

	catch_stop_signals();
	if (live_start(&live, &a.live))
		goto cleanup;
	started = true;
	if (!screen)
		print_recording_started(&live, "watching", true, "", NULL);

	if (screen)
		top_run_screen(&st);
	else
		run_plain(&st);

	if (a.output || st.quit_key) {
		char *path = a.output ? xstrdup(a.output) : top_default_snapshot_name();
		char *msg;

		msg = top_write_snapshot(&live, path, true);
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
	top_frame_free(&st.frame);
	snapshot_free(&st.prev);
	free(a.pids);
	return rc;
}
