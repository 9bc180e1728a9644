/* SPDX-License-Identifier: MIT */
/*
 * What the subcommands do alike: stop on Ctrl-C and SIGTERM and still
 * write what they measured; say that a recording runs in one line of the
 * same shape; parse -p PID[,PID...].
 */
#ifndef FLOWPROF_SUBCOMMAND_H
#define FLOWPROF_SUBCOMMAND_H

#include <argp.h>
#include <stdbool.h>

#include "collect/collect.h"

/* From now on Ctrl-C (SIGINT) and SIGTERM only ask the command to stop
 * (stop_signal_caught()), so that it ends its recording and writes it
 * instead of dying; and SIGPIPE is ignored, so that a reader that went
 * away is a write error, not the end of flowprof. */
void catch_stop_signals(void);

/* The signal that asked to stop (SIGINT or SIGTERM), 0 while none did. */
int stop_signal_caught(void);

/* The exit status of a command stopped by a signal: 130 after SIGINT, 143
 * after SIGTERM (what a shell reports for a process those signals killed);
 * otherwise when no signal stopped it. */
int exit_status_after_stop(int otherwise);

/* The line that says a recording runs, on stderr:
 *   flowprof: VERB N handlers (P probe points, MODE)[ in N process(es)]AFTER;
 *   attach took X ms[; TAIL]
 * with_processes adds the processes' count; after (may be "") follows it,
 * e.g. " on http://...". Print it once the window is open (live_start()
 * returned): a caller that waits for the line then has every call inside. */
void print_recording_started(const struct live *l, const char *verb, bool with_processes,
			     const char *after, const char *tail);

/* The metrics endpoint's options (endpoint_options.c): --listen,
 * --allow-remote, --tls-cert, --tls-key, --token-file and --min-interval,
 * parsed into the struct metrics_endpoint (report/metrics.h) given as this
 * argp child's input. The parent sets the defaults first (serve: its
 * address; both: METRICS_MIN_INTERVAL_S). The two differ only in how
 * --help describes --listen. */
extern const struct argp serve_endpoint_argp;
extern const struct argp record_endpoint_argp;

/* -p ARG of an argp parser: appends the pids of "4242" or "4242,4243" to
 * *pids (*n of them), or fails the command line with "-p ARG: why". */
void parse_pid_option(struct argp_state *state, const char *arg, int **pids, int *n);

#endif
