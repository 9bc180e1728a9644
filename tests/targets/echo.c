// SPDX-License-Identifier: MIT
/*
 * echo: a tiny line server, to check that a target keeps answering while
 * flowprof attaches, records, is interrupted and detaches.
 *
 *   for each line on stdin: serve(line), which calls work_cpu() (spins) and
 *   returns the line's length; main then answers "ok N LENGTH\n" (N counts
 *   from 1) on stdout, after serve() returned.
 *   at EOF: the report, exit 0.
 *
 *   echo [-c CPU_US]
 *
 * Report (target.h): handlers serve, work_cpu.
 */
#include "target.h"

enum { H_SERVE, H_CPU, H_COUNT };
static const char *const handler_names[H_COUNT] = { "serve", "work_cpu" };
static struct tstat stats[H_COUNT];
static uint64_t opt_cpu_us = 100;

HANDLER void work_cpu(uint64_t us)
{
	spin_ns(us * 1000);
}

HANDLER size_t serve(const char *line)
{
	TIMED(stats[H_CPU], work_cpu(opt_cpu_us));
	return strcspn(line, "\n");
}

int main(int argc, char **argv)
{
	char line[4096];
	uint64_t served = 0;
	int opt;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		switch (opt) {
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		default:
			fprintf(stderr, "usage: echo [-c CPU_US]\n");
			return 2;
		}
	}
	while (fgets(line, sizeof(line), stdin)) {
		size_t len = 0;

		TIMED(stats[H_SERVE], len = serve(line));
		printf("ok %" PRIu64 " %zu\n", ++served, len);
		fflush(stdout);
	}
	json_begin("echo");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	json_end();
	return 0;
}
