// SPDX-License-Identifier: MIT
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int parse_pid_list(const char *s, int **pids, int *n, char *err, size_t errlen)
{
	const char *p = s;

	if (!*p) {
		snprintf(err, errlen, "expected PID[,PID...]");
		return -1;
	}
	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > 4194304 || (*end && *end != ',')) {
			snprintf(err, errlen, "'%.*s' is not a process id", (int)strcspn(p, ","), p);
			return -1;
		}
		*pids = xrealloc(*pids, (size_t)(*n + 1) * sizeof(int));
		(*pids)[(*n)++] = (int)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		;
	else if (!strcmp(end, "ms"))
		v /= 1e3;
	else if (!strcmp(end, "us"))
		v /= 1e6;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else
		return -1;
	*out = v;
	return 0;
}
