// SPDX-License-Identifier: MIT
/*
 * hold_throw: a C++ exception through probed calls, whatever happened to
 * flowprof meanwhile (tests/e2e/test_faults_survival.py builds it with g++).
 *
 *   hold_throw    prints "inside" from within outer_call -> inner_call
 *                 (handlers), waits for a line on stdin, throws from
 *                 inner_call through both frames, catches it in main, prints
 *                 "caught" and exits 0.
 */
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

extern "C" __attribute__((noinline)) void inner_call()
{
	char line[32];

	printf("inside\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(3);
	throw std::runtime_error("through");
}

extern "C" __attribute__((noinline)) void outer_call()
{
	inner_call();
	printf("not reached\n");
}

int main()
{
	try {
		outer_call();
	} catch (const std::exception &) {
		printf("caught\n");
		return 0;
	}
	return 1;
}
