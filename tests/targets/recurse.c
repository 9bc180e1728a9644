// SPDX-License-Identifier: MIT
/*
 * recurse: recursion deeper than the kernel keeps return probes for (64
 * active uretprobes per thread), between two ordinary handlers.
 *
 *   main: N times iter()
 *   iter: before(); rec(D); after()
 *   rec(d): rec(d - 1) while d > 0, so D + 1 nested calls of rec
 *
 * before and after spin on the CPU; rec does a little arithmetic after its
 * nested call (so the compiler cannot turn it into a loop or a tail call).
 * Each call of rec is timed in its caller; "entries" counts every call.
 *
 *   recurse [-n N] [-D DEPTH] [-c CPU_US] [-w] [-l]
 *
 * Report (target.h): handlers iter, before, after, rec; "entries" {rec}.
 */
#include "target.h"

enum { H_ITER, H_BEFORE, H_AFTER, H_REC, H_COUNT };
static const char *const handler_names[H_COUNT] = { "iter", "before", "after", "rec" };
static struct tstat stats[H_COUNT];
static uint64_t rec_entries, opt_depth = 100, opt_cpu_us = 50;

HANDLER void before(void)
{
	spin_ns(opt_cpu_us * 1000);
}

HANDLER void after(void)
{
	spin_ns(opt_cpu_us * 1000);
}

HANDLER uint64_t rec(uint64_t d)
{
	uint64_t below = 0;

	rec_entries++;
	if (d > 0)
		TIMED(stats[H_REC], below = rec(d - 1));
	return below * 3 + d;
}

HANDLER void iter(void)
{
	TIMED(stats[H_BEFORE], before());
	TIMED(stats[H_REC], rec(opt_depth));
	TIMED(stats[H_AFTER], after());
}

int main(int argc, char **argv)
{
	uint64_t iterations = 20;
	bool wait = false, linger = false;
	int opt;

	while ((opt = getopt(argc, argv, "n:D:c:wl")) != -1) {
		switch (opt) {
		case 'n': iterations = arg_u64(optarg, 'n'); break;
		case 'D': opt_depth = arg_u64(optarg, 'D'); break;
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		case 'w': wait = true; break;
		case 'l': linger = true; break;
		default:
			fprintf(stderr, "usage: recurse [-n N] [-D DEPTH] [-c CPU_US] [-w] [-l]\n");
			return 2;
		}
	}
	target_wait_start(wait);
	for (uint64_t i = 0; i < iterations; i++)
		TIMED(stats[H_ITER], iter());

	json_begin("recurse");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	printf(",\"entries\":{\"rec\":%" PRIu64 "}", rec_entries);
	json_u64("iterations", iterations);
	json_u64("depth", opt_depth);
	json_end();
	target_linger(linger);
	return 0;
}
