// SPDX-License-Identifier: MIT
/*
 * Threads that start and stop at a high rate
 * (tests/e2e/test_faults_processes.py):
 * flowprof's per-thread state must be reclaimed with each thread, so that
 * any number of short-lived threads is measured exactly.
 *
 *   thread_churn TOTAL CONCURRENT CALLS
 *
 * prints "ready PID", waits for a line on stdin, then runs TOTAL threads, at
 * most CONCURRENT at a time, each calling churn_request() CALLS times
 * (churn_request calls churn_work: nested), and prints "done TOTAL".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned long sink;
static unsigned long calls_per_thread;

__attribute__((noinline)) unsigned long churn_work(unsigned long x)
{
	sink += x;
	return sink;
}

__attribute__((noinline)) unsigned long churn_request(unsigned long x)
{
	return churn_work(x) ^ x;
}

static void *thread_main(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < calls_per_thread; i++)
		churn_request(i);
	return NULL;
}

int main(int argc, char **argv)
{
	long total, concurrent;
	pthread_t *tids;
	char line[16];

	if (argc != 4 || (total = atol(argv[1])) < 1 || (concurrent = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: thread_churn TOTAL CONCURRENT CALLS\n");
		return 2;
	}
	calls_per_thread = strtoul(argv[3], NULL, 10);
	tids = calloc((size_t)concurrent, sizeof(*tids));
	if (!tids)
		return 1;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (long started = 0; started < total;) {
		long batch = total - started < concurrent ? total - started : concurrent;

		for (long i = 0; i < batch; i++) {
			if (pthread_create(&tids[i], NULL, thread_main, NULL)) {
				perror("thread_churn: pthread_create");
				return 1;
			}
		}
		for (long i = 0; i < batch; i++)
			pthread_join(tids[i], NULL);
		started += batch;
	}
	printf("done %ld\n", total);
	fflush(stdout);
	free(tids);
	return 0;
}
