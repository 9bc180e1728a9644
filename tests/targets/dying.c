// SPDX-License-Identifier: MIT
/*
 * dying: a process that ends in the middle of a handler call.
 *
 *   main: R times req(), then die_in_call()
 *   req:  work_cpu() (spins)
 *   die_in_call: prints the report, then ends the process from inside the
 *          handler: exit(0) (-m exit, default) or SIGKILL (-m kill).
 *
 *   dying [-r R] [-c CPU_US] [-m exit|kill] [-w]
 *
 * Report (target.h): handlers req, work_cpu; "entries" {die_in_call: 1}.
 */
#include <signal.h>

#include "target.h"

enum { H_REQ, H_CPU, H_COUNT };
static const char *const handler_names[H_COUNT] = { "req", "work_cpu" };
static struct tstat stats[H_COUNT];
static uint64_t opt_cpu_us = 100;
static bool opt_kill;

HANDLER void work_cpu(uint64_t us)
{
	spin_ns(us * 1000);
}

HANDLER void req(void)
{
	TIMED(stats[H_CPU], work_cpu(opt_cpu_us));
}

HANDLER void die_in_call(void)
{
	json_begin("dying");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	printf(",\"entries\":{\"die_in_call\":1}");
	json_end();
	if (opt_kill)
		raise(SIGKILL);
	exit(0);
}

int main(int argc, char **argv)
{
	uint64_t requests = 100;
	bool wait = false;
	int opt;

	while ((opt = getopt(argc, argv, "r:c:m:w")) != -1) {
		switch (opt) {
		case 'r': requests = arg_u64(optarg, 'r'); break;
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		case 'm':
			if (strcmp(optarg, "exit") && strcmp(optarg, "kill")) {
				fprintf(stderr, "-m %s: expected exit or kill\n", optarg);
				return 2;
			}
			opt_kill = !strcmp(optarg, "kill");
			break;
		case 'w': wait = true; break;
		default:
			fprintf(stderr, "usage: dying [-r R] [-c CPU_US] [-m exit|kill] [-w]\n");
			return 2;
		}
	}
	target_wait_start(wait);
	for (uint64_t i = 0; i < requests; i++)
		TIMED(stats[H_REQ], req());
	die_in_call();
	return 1; /* not reached */
}
