// SPDX-License-Identifier: MIT
/*
 * jumper: handlers left by longjmp, their returns never run.
 *
 * Each of N iterations does, depending on -m (default both):
 *   inner: catcher(), which setjmp()s and calls jump_mid() -> jump_throw(),
 *          which longjmp()s back into catcher; catcher then calls leaf()
 *          and returns normally. jump_mid and jump_throw never return.
 *   outer: main setjmp()s and calls escape() -> jump_throw(), which
 *          longjmp()s back to main, outside every handler; main then calls
 *          leaf(). escape and jump_throw never return.
 * leaf spins on the CPU for -c microseconds; catcher and leaf are timed in
 * their callers. After the N iterations main calls leaf() -a more times,
 * to show that the stack has recovered.
 *
 *   jumper [-n N] [-m inner|outer|both] [-c CPU_US] [-a AFTER] [-w] [-l]
 *
 * Report (target.h): handlers catcher, leaf; "entries" {jump_mid,
 * jump_throw, escape}: calls that never returned; "self_ns" {catcher}:
 * catcher's total minus the time of the leaf() calls it made.
 */
#include <setjmp.h>

#include "target.h"

enum { H_CATCHER, H_LEAF, H_COUNT };
static const char *const handler_names[H_COUNT] = { "catcher", "leaf" };
static struct tstat stats[H_COUNT];
static uint64_t entries_mid, entries_throw, entries_escape, opt_cpu_us = 100;
static uint64_t catcher_child_ns; /* time of the leaf() calls made by catcher() */
static jmp_buf inner_env, outer_env;

HANDLER void leaf(void)
{
	spin_ns(opt_cpu_us * 1000);
}

HANDLER void jump_throw(jmp_buf *env)
{
	entries_throw++;
	longjmp(*env, 1);
}

HANDLER void jump_mid(jmp_buf *env)
{
	entries_mid++;
	jump_throw(env);
}

HANDLER void catcher(void)
{
	if (setjmp(inner_env) == 0)
		jump_mid(&inner_env);
	catcher_child_ns += TIMED(stats[H_LEAF], leaf());
}

HANDLER void escape(void)
{
	entries_escape++;
	jump_throw(&outer_env);
}

/* Not a handler: the landing place of escape()'s longjmp. */
static void outer_once(void)
{
	if (setjmp(outer_env) == 0)
		escape();
	TIMED(stats[H_LEAF], leaf());
}

int main(int argc, char **argv)
{
	uint64_t iterations = 100, after = 50;
	bool wait = false, linger = false, inner = true, outer = true;
	int opt;

	while ((opt = getopt(argc, argv, "n:m:c:a:wl")) != -1) {
		switch (opt) {
		case 'n': iterations = arg_u64(optarg, 'n'); break;
		case 'm':
			inner = !strcmp(optarg, "inner") || !strcmp(optarg, "both");
			outer = !strcmp(optarg, "outer") || !strcmp(optarg, "both");
			if (!inner && !outer) {
				fprintf(stderr, "-m %s: expected inner, outer or both\n", optarg);
				return 2;
			}
			break;
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		case 'a': after = arg_u64(optarg, 'a'); break;
		case 'w': wait = true; break;
		case 'l': linger = true; break;
		default:
			fprintf(stderr, "usage: jumper [-n N] [-m inner|outer|both] [-c CPU_US] [-a AFTER] "
				"[-w] [-l]\n");
			return 2;
		}
	}
	target_wait_start(wait);
	for (uint64_t i = 0; i < iterations; i++) {
		if (inner)
			TIMED(stats[H_CATCHER], catcher());
		if (outer)
			outer_once();
	}
	for (uint64_t i = 0; i < after; i++)
		TIMED(stats[H_LEAF], leaf());

	json_begin("jumper");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	printf(",\"entries\":{\"jump_mid\":%" PRIu64 ",\"jump_throw\":%" PRIu64
	       ",\"escape\":%" PRIu64 "}",
	       entries_mid, entries_throw, entries_escape);
	printf(",\"self_ns\":{\"catcher\":%" PRIu64 "}", stats[H_CATCHER].total_ns - catcher_child_ns);
	json_u64("iterations", iterations);
	json_end();
	target_linger(linger);
	return 0;
}
