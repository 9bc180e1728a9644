/* SPDX-License-Identifier: MIT */
/* The subcommands of `flowprof`, dispatched by main.c's command table. */
#ifndef FLOWPROF_COMMANDS_H
#define FLOWPROF_COMMANDS_H

/* Exit codes (documented in flowprof.1). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,		/* bad input, missing capability, attach failure */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_CMD_CANNOT_RUN = 126, /* record -- CMD: found, but it cannot be run */
	EXIT_CMD_NOT_FOUND = 127,  /* record -- CMD: not found */
	EXIT_SIGINT = 130,	/* stopped by SIGINT: the snapshot so far was written */
	EXIT_SIGTERM = 143,	/* stopped by SIGTERM: the snapshot so far was written */
};

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* main() hands over its argv, so that errors can show the exact command to retry. */
void remember_command_line(int argc, char **argv);

/* Fails with a clear message unless the process may load BPF programs and
 * attach uprobes (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN). */
int require_bpf_capabilities(const char *cmd);

#endif
