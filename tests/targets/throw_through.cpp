// SPDX-License-Identifier: MIT
/*
 * C++ exceptions thrown through handlers (tests/e2e/test_faults_exceptions.py
 * builds this with g++ at test time). The unwinder skips the returns of every frame
 * it crosses, so flowprof sees entries without returns: those calls must be
 * counted incomplete, the other handlers' counts must stay exact, and the
 * per-thread stack must recover.
 *
 *   throw_through N      prints "ready PID", waits for a line on stdin, then:
 *
 *   1. N times: serve(i) -> parse(i) -> validate(i); validate throws when
 *      i % 4 == 0, through validate and parse, caught in serve; serve then
 *      calls finish(i). serve and finish always return.
 *   2. N times: top_throw(i) throws, caught in main (no handler below it).
 *   3. N times: serve(i * 4 + 1), which never throws.
 *
 * prints "done N" and exits at the next line on stdin (so that a recording
 * can end while the thread, and whatever is left on its stack, still lives).
 */
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

static volatile unsigned long sink;

extern "C" {

__attribute__((noinline)) int validate(int i)
{
	sink += (unsigned long)i;
	if (i % 4 == 0)
		throw std::runtime_error("invalid");
	return i;
}

__attribute__((noinline)) int parse(int i)
{
	return validate(i) + 1;
}

__attribute__((noinline)) int finish(int i)
{
	sink ^= (unsigned long)i;
	return i;
}

__attribute__((noinline)) int serve(int i)
{
	int r = 0;

	try {
		r = parse(i);
	} catch (const std::runtime_error &) {
		r = -1;
	}
	return r + finish(i);
}

__attribute__((noinline)) int top_throw(int i)
{
	sink += (unsigned long)i;
	throw std::logic_error("top");
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
	for (int i = 0; i < n; i++)
		serve(i);
	for (int i = 0; i < n; i++) {
		try {
			top_throw(i);
		} catch (const std::logic_error &) {
			caught++;
		}
	}
	for (int i = 0; i < n; i++)
		serve(i * 4 + 1);
	printf("done %d\n", caught);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	return 0;
}
