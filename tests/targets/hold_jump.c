// SPDX-License-Identifier: MIT
/*
 * hold_jump: a C call left by longjmp, whatever happened to flowprof
 * meanwhile (tests/e2e/test_faults_survival.py, the 1,000-run tests).
 *
 *   hold_jump     prints "inside" from within outer_call -> inner_call
 *                 (handlers), waits for a line on stdin, longjmps from
 *                 inner_call back to main over both frames, then calls
 *                 outer_call once more (it returns normally this time) and
 *                 prints "jumped" and exits 0.
 */
#include <setjmp.h>

#include "target.h"

static jmp_buf env;
static int rounds;

HANDLER void inner_call(void)
{
	char line[32];

	if (rounds++)
		return;
	printf("inside\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		exit(3);
	longjmp(env, 1);
}

HANDLER void outer_call(void)
{
	inner_call();
}

int main(void)
{
	if (!setjmp(env))
		outer_call();
	outer_call();
	printf("jumped\n");
	return 0;
}
