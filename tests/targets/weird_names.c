// SPDX-License-Identifier: MIT
/*
 * A target whose handler gets a hostile symbol name (tests/e2e/
 * test_bad_input.py): the test copies this binary and overwrites the name
 * weird_name_placeholder_0123456789 in its symbol table with control
 * characters, an OSC terminal sequence, a newline, a bidirectional override
 * and bytes that are not UTF-8, then profiles the copy. Every flowprof output
 * must show that name escaped.
 *
 * Prints "ready PID", waits for a line on stdin, calls the handler 10 times,
 * prints "done".
 */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) int weird_name_placeholder_0123456789(int x)
{
	return x * 2;
}

int main(void)
{
	char line[8];
	int sum = 0;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < 10; i++)
		sum += weird_name_placeholder_0123456789(i);
	printf("done %d\n", sum);
	return 0;
}
