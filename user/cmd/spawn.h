/* SPDX-License-Identifier: MIT */
/*
 * Starting a command from the command line (`record -- CMD`, each step of
 * `sweep --load`): fork, then in the child reset the stop signals, wait
 * until flowprof lets it go (its probes attached), become the user it runs
 * as (run_as.h) and exec. A pipe tells the parent whether the exec
 * happened, or which step failed and why.
 */
#ifndef FLOWPROF_SPAWN_H
#define FLOWPROF_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "run_as.h"

struct spawn_opts {
	const char *file;	/* the program; NULL: argv[0] */
	const struct run_as *as;	/* who it runs as; NULL: as flowprof */
	bool paused;		/* waits for spawn_release() before it execs */
	bool own_group;		/* in a process group of its own (setpgid) */
	bool null_stdin;	/* stdin from /dev/null */
	int output_fd;		/* its stdout and stderr; -1: flowprof's */
};

struct spawn {
	pid_t pid;
	int go_fd;		/* paused: spawn_release() writes one byte */
	int status_fd;		/* EOF once it runs, else a struct spawn_failure */
};

/* What kept the command from running: a run_as_enter() step (run_as.h),
 * or SPAWN_EXEC, each with its errno. */
enum { SPAWN_EXEC = 100 };
struct spawn_failure {
	int step;
	int err;
};

/* Starts argv (the program searched in PATH when its name has no '/').
 * Returns 0, or -1 with errno set (nothing started). The child exits with
 * 127 when it is never released, 127 or 126 when the exec fails (not
 * found, cannot run), 126 when it cannot become its user. */
int spawn_start(struct spawn *sp, char *const argv[], const struct spawn_opts *o);

/* Lets a paused command go on to its exec. 0, or -1 with errno set. */
int spawn_release(struct spawn *sp);

/* Waits until the command runs (its exec succeeded): 0; or -1 and *f says
 * what failed, and the child has exited (still to be reaped). */
int spawn_ran(struct spawn *sp, struct spawn_failure *f);

/* Closes flowprof's ends of the pipes: a paused command that was never
 * released exits without running. The process itself is the caller's. */
void spawn_close(struct spawn *sp);

#endif
