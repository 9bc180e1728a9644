// SPDX-License-Identifier: MIT
/* Starting a command from the command line: see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* In the child: says what failed on the status pipe, and exits as a shell
 * would for it. */
static __attribute__((noreturn)) void child_fail(int status_fd, int step, int err)
{
	struct spawn_failure f = { step, err };

	if (write(status_fd, &f, sizeof(f)) != sizeof(f))
		_exit(127);
	_exit(step == SPAWN_EXEC && (err == ENOENT || err == ENOTDIR) ? 127 : 126);
}

/* The child, from fork to exec. flowprof may have threads by now (the
 * metrics server): system calls only, no allocation. */
static __attribute__((noreturn)) void child(char *const argv[], const struct spawn_opts *o,
					    int go_fd, int status_fd)
{
	int step;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (o->own_group)
		setpgid(0, 0); /* Ctrl-C reaches flowprof, which stops the command itself */
	if (o->null_stdin) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0 && devnull != STDIN_FILENO) {
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
	}
	if (o->output_fd >= 0) {
		dup2(o->output_fd, STDOUT_FILENO);
		dup2(o->output_fd, STDERR_FILENO);
	}
	if (o->paused) {
		char go;

		if (read(go_fd, &go, 1) != 1)
			_exit(127); /* flowprof failed: never run the command unprofiled */
	}
	step = run_as_enter(o->as);
	if (step != RUN_AS_OK)
		child_fail(status_fd, step, errno);
	execvpe(o->file ? o->file : argv[0], argv, run_as_environ(o->as));
	child_fail(status_fd, SPAWN_EXEC, errno);
}

int spawn_start(struct spawn *sp, char *const argv[], const struct spawn_opts *o)
{
	int go[2] = { -1, -1 }, status[2];
	int e;

	sp->pid = -1;
	sp->go_fd = sp->status_fd = -1;
	if (o->paused && pipe2(go, O_CLOEXEC))
		return -1;
	if (pipe2(status, O_CLOEXEC))
		goto fail;
	fflush(NULL); /* nothing buffered is written twice */
	sp->pid = fork();
	if (sp->pid < 0) {
		e = errno;
		close(status[0]);
		close(status[1]);
		errno = e;
		goto fail;
	}
	if (sp->pid == 0) {
		if (go[1] >= 0)
			close(go[1]);
		close(status[0]);
		child(argv, o, go[0], status[1]);
	}
	if (o->own_group)
		setpgid(sp->pid, sp->pid); /* also here: no window where a kill(-pid) misses */
	if (go[0] >= 0)
		close(go[0]);
	close(status[1]);
	sp->go_fd = go[1];
	sp->status_fd = status[0];
	return 0;

fail:
	e = errno;
	if (go[0] >= 0) {
		close(go[0]);
		close(go[1]);
	}
	errno = e;
	return -1;
}

int spawn_release(struct spawn *sp)
{
	int rc = 0;

	if (sp->go_fd < 0)
		return 0;
	if (write(sp->go_fd, "g", 1) != 1)
		rc = -1;
	close(sp->go_fd);
	sp->go_fd = -1;
	return rc;
}

int spawn_ran(struct spawn *sp, struct spawn_failure *f)
{
	ssize_t n;

	if (sp->status_fd < 0)
		return 0;
	do
		n = read(sp->status_fd, f, sizeof(*f));
	while (n < 0 && errno == EINTR);
	close(sp->status_fd);
	sp->status_fd = -1;
	return n == sizeof(*f) ? -1 : 0;
}

void spawn_close(struct spawn *sp)
{
	if (sp->go_fd >= 0)
		close(sp->go_fd);
	if (sp->status_fd >= 0)
		close(sp->status_fd);
	sp->go_fd = sp->status_fd = -1;
}
