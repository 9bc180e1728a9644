// SPDX-License-Identifier: MIT
/*
 * two_contexts: one handler called at the top of a request and again,
 * shorter, inside another handler: a flow's own arrivals against all its
 * entry's calls (tests/e2e/test_flows.py).
 *
 *   main: N times { handle(LONG); outer() }
 *   outer: handle(SHORT)
 *
 * handle spins on the CPU for its argument. Each call is timed in its
 * caller (target.h), the top-level calls of handle apart from the nested
 * ones.
 *
 *   two_contexts [-n N] [-L LONG_US] [-S SHORT_US] [-w] [-l]
 *
 * Report (target.h): handlers top (handle at the top), nested (handle
 * inside outer), outer.
 */
#include "target.h"

enum { H_TOP, H_NESTED, H_OUTER, H_COUNT };
static const char *const handler_names[H_COUNT] = { "top", "nested", "outer" };
static struct tstat stats[H_COUNT];
static uint64_t opt_long_us = 100, opt_short_us = 20;

HANDLER void handle(uint64_t us)
{
	BODY(spin_ns(us * 1000));
}

HANDLER void outer(void)
{
	BODY(TIMED(stats[H_NESTED], handle(opt_short_us)));
}

int main(int argc, char **argv)
{
	uint64_t n = 2000;
	bool wait = false, linger = false;
	int opt;

	while ((opt = getopt(argc, argv, "n:L:S:wl")) != -1) {
		switch (opt) {
		case 'n': n = arg_u64(optarg, 'n'); break;
		case 'L': opt_long_us = arg_u64(optarg, 'L'); break;
		case 'S': opt_short_us = arg_u64(optarg, 'S'); break;
		case 'w': wait = true; break;
		case 'l': linger = true; break;
		default:
			fprintf(stderr, "usage: two_contexts [-n N] [-L LONG_US] [-S SHORT_US] [-w] "
				"[-l]\n");
			return 2;
		}
	}
	truth_calibrate();
	target_wait_start(wait);
	for (uint64_t i = 0; i < n; i++) {
		TIMED(stats[H_TOP], handle(opt_long_us));
		TIMED(stats[H_OUTER], outer());
	}
	json_begin("two_contexts");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	json_u64("calls", n);
	json_end();
	target_linger(linger);
	return 0;
}
