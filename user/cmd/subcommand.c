// SPDX-License-Identifier: MIT
/* What the subcommands do alike: see subcommand.h. */
#include "subcommand.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/base.h"
#include "commands.h"

static volatile sig_atomic_t stop_signal;

/* The first asks to stop; a second, while flowprof still attaches or
 * writes, ends it at once (its probes go with it: nothing of the target's
 * is left changed). */
static void on_stop_signal(int sig)
{
	static const char msg[] = "flowprof: a second signal: stopped at once, nothing written\n";

	if (stop_signal) {
		/* write(2), not stdio: a signal handler may call only what is
		 * async-signal-safe */
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)n; /* nothing to do if stderr is gone */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	stop_signal = sig;
}

void catch_stop_signals(void)
{
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	signal(SIGPIPE, SIG_IGN);
}

int stop_signal_caught(void)
{
	return stop_signal;
}

int exit_status_after_stop(int otherwise)
{
	return stop_signal == SIGINT ? EXIT_SIGINT : stop_signal == SIGTERM ? EXIT_SIGTERM
									  : otherwise;
}

void print_recording_started(const struct live *l, const char *verb, bool with_processes,
			     const char *after, const char *tail)
{
	const struct recorder_info *ri = live_info(l);
	char *line = NULL;
	size_t len = 0;
	FILE *o = xopen_memstream(&line, &len);

	fprintf(o, "flowprof: %s %d handlers (%zu probe points, %s)", verb, l->ff.n_handlers,
		ri->n_probes, attach_mode_name(ri->mode));
	if (with_processes)
		fprintf(o, " in %d process%s", l->processes, l->processes == 1 ? "" : "es");
	fprintf(o, "%s; attach took %.1f ms", after, ri->attach_ms);
	if (tail)
		fprintf(o, "; %s", tail);
	fputc('\n', o);
	fclose(o);
	/* one write: a reader waiting for the line never sees half of it */
	fputs(line, stderr);
	free(line);
}

void parse_pid_option(struct argp_state *state, const char *arg, int **pids, int *n)
{
	char err[256];

	if (parse_pid_list(arg, pids, n, err, sizeof(err)))
		argp_error(state, "-p %s: %s", arg, err);
}
