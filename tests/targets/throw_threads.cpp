// SPDX-License-Identifier: MIT
/*
 * Many threads, each throwing once through handlers
 * (tests/e2e/test_faults_exceptions.py builds this with g++ at test time). Each exception meets flowprof's
 * unwinder hook, which must have the real return addresses put back before
 * the unwinder walks the stack, whatever the number of threads before it
 * and however loaded the machine.
 *
 *   throw_threads N   prints "ready PID", waits for a line on stdin, then
 *                     starts N threads one after another (each joined
 *                     before the next starts, so they get N thread ids).
 *                     Each thread calls outer(i) -> inner(i), which throws
 *                     through both, catches the exception, then calls
 *                     finish(i), which returns.
 *
 * prints "caught N" and exits at the next line on stdin.
 */
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <unistd.h>

static volatile unsigned long sink;

extern "C" {

__attribute__((noinline)) int inner(int i)
{
	sink += (unsigned long)i;
	throw std::runtime_error("inner");
}

__attribute__((noinline)) int outer(int i)
{
	return inner(i) + 1;
}

__attribute__((noinline)) int finish(int i)
{
	sink ^= (unsigned long)i;
	return i;
}

} /* extern "C" */

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	char line[16];
	int caught = 0;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++) {
		std::thread t([i, &caught] {
			try {
				outer(i);
			} catch (const std::runtime_error &) {
				caught++; /* one thread at a time */
			}
			finish(i);
		});
		t.join();
	}
	printf("caught %d\n", caught);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	return 0;
}
