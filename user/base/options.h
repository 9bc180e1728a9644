/* SPDX-License-Identifier: MIT */
/* Parsers for command-line values shared by the subcommands. */
#ifndef FLOWPROF_OPTIONS_H
#define FLOWPROF_OPTIONS_H

#include <stddef.h>

/* "4242" or "4242,4243": positive pids, appended to *pids. */
int parse_pid_list(const char *s, int **pids, int *n, char *err, size_t errlen);

/* "30", "2.5", "500ms", "1m": seconds. Returns 0 or -1. */
int parse_seconds(const char *s, double *out);

#endif
