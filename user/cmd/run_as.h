/* SPDX-License-Identifier: MIT */
/*
 * Who a command that flowprof starts runs as (`record -- CMD`, `sweep
 * --load`). flowprof needs root to attach its probes; the command it starts
 * does not, and runs as the user who asked for it: --user USER[:GROUP], else
 * the user who ran sudo (SUDO_UID, SUDO_GID, SUDO_USER), else flowprof's
 * own user (as root: said in one line, run_as_note()).
 */
#ifndef FLOWPROF_RUN_AS_H
#define FLOWPROF_RUN_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct run_as {
	bool drop;		/* switch to uid/gid in the child; false: run as flowprof */
	bool root_by_default;	/* runs as root because no one named a user */
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, as initgroups(name, gid) sets them */
	int n_groups;
	char *label;		/* "alice", "alice:staff": for messages */
	char **envp;		/* flowprof's environment with the user's HOME, USER, LOGNAME */
};

/* Decides who commands run as; spec is --user's argument, or NULL for the
 * default. Looks users and groups up now, in the parent, since the child
 * of a process with threads may only make system calls. Returns 0, or -1
 * with err = "--user bob: no such user" (nothing to free then). */
int run_as_resolve(struct run_as *ra, const char *spec, char *err, size_t errlen);

/* When the command runs as root by default: one line that says so, naming
 * what runs ("./shop", "the load command") and how to change it. */
void run_as_note(const struct run_as *ra, const char *what);

/* What failed in run_as_enter(), 0 when nothing did. */
enum run_as_step {
	RUN_AS_OK,
	RUN_AS_SETGROUPS,
	RUN_AS_SETGID,
	RUN_AS_SETUID,
	RUN_AS_REGAINED,	/* root could be had back: never exec then */
};

/* In the child, between fork and exec: marks every descriptor above
 * stderr close-on-exec (flowprof's own are no business of the user's
 * command), sets the supplementary groups, the gid and the uid, in that
 * order, and checks that none of them can be set back. System calls only.
 * Returns RUN_AS_OK, or the step that failed with errno set. */
int run_as_enter(const struct run_as *ra);

/* The environment to exec with: ra's when it switches users, else flowprof's. */
char **run_as_environ(const struct run_as *ra);

/* "as alice: setuid: Operation not permitted" for a failed step (err: its
 * errno). Caller frees. */
char *run_as_failure(const struct run_as *ra, int step, int err);

void run_as_free(struct run_as *ra);

#endif
