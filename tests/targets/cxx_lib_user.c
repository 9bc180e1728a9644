// SPDX-License-Identifier: MIT
/*
 * A C program whose own binary does not need the C++ runtime: a library it
 * needs does (tests/targets/cxx_lib_user_lib.cpp, as redis needs libjemalloc,
 * which needs libstdc++). Exceptions from that library unwind through this
 * program's functions (built with -fexceptions; the Makefile builds both).
 * test_faults_exceptions.py profiles it.
 *
 *   cxx_lib_user N    prints "ready PID", waits for a line on stdin, then
 *                     runs handle(i) for i < N inside the library's
 *                     cxx_lib_run(), which catches what handle() lets
 *                     through: handle(i) calls cxx_lib_throw() when i is
 *                     even, so N/2 calls end by an exception; prints
 *                     "done N caught C" and exits at the next line on stdin.
 *                     The library calls handle() through pass_on(), a
 *                     function that is one tail call: its only exit is its
 *                     first instruction, where its entry is probed too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void cxx_lib_throw(void);
int cxx_lib_run(void (*fn)(int), int arg);

static volatile unsigned long sink;

__attribute__((noinline)) void handle(int i)
{
	sink += (unsigned long)i;
	if (i % 2 == 0)
		cxx_lib_throw();
	sink ^= (unsigned long)i;
}

/* jmp handle: written in assembly, so that no compiler option adds a frame */
void pass_on(int i);
__asm__(".text\n"
	".globl pass_on\n"
	".type pass_on, @function\n"
	"pass_on:\n"
	"\tjmp handle\n"
	".size pass_on, .-pass_on\n");

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, caught = 0;
	char line[16];

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++)
		caught += cxx_lib_run(pass_on, i);
	printf("done %d caught %d\n", n, caught);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	return 0;
}
