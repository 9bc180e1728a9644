// SPDX-License-Identifier: MIT
/*
 * What resolution has to say, as one line each, at the flow-file position
 * of the bundle or handler concerned (docs/flow-file.md): errors stop it at
 * the first, unless opts.allow_missing collects them all (`flowprof
 * check`); warnings and notes never stop it. A message said twice (one per
 * process of a bundle, say) is kept once.
 */
#include "resolve_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "procs.h"

static void push_problem(struct resolve_ctx *c, char *msg, enum problem_kind kind)
{
	struct resolution *res = c->res;
	int i;

	for (i = 0; i < res->n_problems; i++) {
		if (strcmp(res->problems[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	grow_array((void **)&res->problems, &c->problems_cap, (size_t)res->n_problems + 1,
		   sizeof(*res->problems));
	grow_array((void **)&res->problem_kinds, &c->kinds_cap, (size_t)res->n_problems + 1,
		   sizeof(*res->problem_kinds));
	res->problem_kinds[res->n_problems] = kind;
	res->problems[res->n_problems++] = msg;
}

static char *vformat_at(struct resolve_ctx *c, const struct ff_loc *loc, const char *kind,
			const char *fmt, va_list ap)
{
	char *body, *msg;

	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	if (loc)
		msg = xasprintf("%s:%d:%d: %s%s", c->ff->path, loc->line, loc->col, kind,
				body ? body : "?");
	else	/* about the command line, not the file */
		msg = xasprintf("%s%s", kind, body ? body : "?");
	free(body);
	return msg;
}

/* An error: the first one stops resolution, unless opts.allow_missing.
 * Returns -1 to stop, 0 to go on. */
int fail_at(struct resolve_ctx *c, const struct ff_loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat_at(c, loc, "", fmt, ap);
	va_end(ap);
	if (!c->opts->allow_missing) {
		if (!c->error)
			c->error = msg;
		else
			free(msg);
		return -1;
	}
	c->res->n_errors++;
	push_problem(c, msg, PROBLEM_ERROR);
	return 0;
}

void note_at(struct resolve_ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	push_problem(c, vformat_at(c, loc, kind, fmt, ap),
		     strcmp(kind, "note: ") ? PROBLEM_WARNING : PROBLEM_NOTE);
	va_end(ap);
}

char *pid_list_str(const int *pids, int n)
{
	char *s = xstrdup(""), *t;
	int i;

	for (i = 0; i < n; i++) {
		t = xasprintf("%s%s%d", s, i ? "," : "", pids[i]);
		free(s);
		s = t;
	}
	return s;
}

char *pid_list_described(const int *pids, int n)
{
	char *s = xstrdup(""), *t;

	for (int i = 0; i < n; i++) {
		char comm[32] = "";
		char *exe = proc_exe(pids[i]);
		bool named = proc_comm(pids[i], comm, sizeof(comm)) == 0;

		if (exe)
			t = xasprintf("%s%s%d runs %s%s%s", s, i ? ", " : "", pids[i], exe,
				      named ? " as " : "", named ? comm : "");
		else
			t = xasprintf("%s%s%d is %s", s, i ? ", " : "", pids[i],
				      named ? comm : "gone");
		free(exe);
		free(s);
		s = t;
	}
	return s;
}

const char *pid_suffix(const struct target *t, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->pid > 0)
		snprintf(buf, len, " (pid %d)", t->pid);
	return buf;
}
