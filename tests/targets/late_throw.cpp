// SPDX-License-Identifier: MIT
/*
 * An exception thrown through a handler call that began while flowprof was
 * recording and ends after (tests/e2e/test_faults_exceptions.py and
 * test_faults_interference.py build this with g++).
 * The call's return address was handed to the kernel's uretprobe trampoline
 * at entry; whatever flowprof does later (detach, die, stop), an exception
 * crossing that frame must still find the real one, or the C++ runtime
 * terminates the program.
 *
 *   late_throw    prints "ready PID", waits for a line, enters long_call()
 *                 (a handler) and prints "inside"; then, at the next line:
 *                 "throw" throws out of long_call (caught in main, which
 *                 prints "caught late"), anything else returns ("returned").
 */
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

extern "C" __attribute__((noinline)) int long_call(int x)
{
	char line[32];

	printf("inside\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	if (!strcmp(line, "throw\n"))
		throw std::runtime_error("late");
	return x;
}

int main()
{
	char line[32];

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	try {
		long_call(1);
		printf("returned\n");
	} catch (const std::exception &e) {
		printf("caught %s\n", e.what());
	}
	return 0;
}
