// SPDX-License-Identifier: MIT
/*
 * A target driven line by line from stdin, for the fault tests
 * (tests/e2e/test_faults_*.py): a test attaches flowprof, then tells the
 * puppet exactly what to do, so every expected count is known.
 *
 *   puppet [THREADS]      prints "ready PID", then reads commands:
 *
 *   run N          every thread calls request() N times; prints "done N"
 *   loop           every thread calls request() until "stop"; prints "looping"
 *   stop           ends a loop; prints "stopped CALLS" (calls made by the loop)
 *   fork K N       forks K children that call request() N times each and
 *                  exit; waits for them; prints "forked K"
 *   exec           execs itself again (same pid; prints "ready PID" anew)
 *   exec-in-call   the same, from inside request_exec() (a handler)
 *   exit-in-call   exits with status 3 from inside request_exit() (a handler)
 *   abort          dies of SIGABRT (as a C++ program does on an uncaught exception)
 *   quit           exits 0
 *
 * Handlers: request() calls work() (nested), so edges request -> work = calls.
 * Output is flushed after every line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64

static volatile unsigned long sink;
static const char *self_path;
static char threads_arg[16];

__attribute__((noinline)) unsigned long work(unsigned long x)
{
	for (int i = 0; i < 20; i++)
		sink += x * (unsigned long)i;
	return sink;
}

__attribute__((noinline)) unsigned long request(unsigned long x)
{
	return work(x) + 1;
}

__attribute__((noinline)) void request_exit(void)
{
	fflush(stdout);
	exit(3);
}

__attribute__((noinline)) void request_exec(void)
{
	char *argv[] = { (char *)self_path, threads_arg, NULL };

	fflush(stdout);
	execv(self_path, argv);
	perror("puppet: execv");
	exit(127);
}

struct job {
	pthread_t tid;
	unsigned long n;	/* calls to make; 0 = until stop */
	unsigned long made;
};

static atomic_int stop_loop;

static void *run_calls(void *arg)
{
	struct job *j = arg;

	for (j->made = 0; j->n ? j->made < j->n : !atomic_load(&stop_loop); j->made++)
		request(j->made);
	return NULL;
}

static void start_jobs(struct job *jobs, int threads, unsigned long n)
{
	atomic_store(&stop_loop, 0);
	for (int t = 0; t < threads; t++) {
		jobs[t].n = n;
		if (pthread_create(&jobs[t].tid, NULL, run_calls, &jobs[t])) {
			perror("puppet: pthread_create");
			exit(1);
		}
	}
}

static unsigned long join_jobs(struct job *jobs, int threads)
{
	unsigned long made = 0;

	for (int t = 0; t < threads; t++) {
		pthread_join(jobs[t].tid, NULL);
		made += jobs[t].made;
	}
	return made;
}

static void fork_children(int k, unsigned long n)
{
	for (int i = 0; i < k; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("puppet: fork");
			exit(1);
		}
		if (pid == 0) {
			for (unsigned long c = 0; c < n; c++)
				request(c);
			_exit(0);
		}
	}
	for (int i = 0; i < k; i++)
		wait(NULL);
}

int main(int argc, char **argv)
{
	struct job jobs[MAX_THREADS];
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	bool looping = false;
	char line[128];

	if (threads < 1 || threads > MAX_THREADS) {
		fprintf(stderr, "puppet: THREADS must be 1..%d\n", MAX_THREADS);
		return 2;
	}
	self_path = "/proc/self/exe";
	snprintf(threads_arg, sizeof(threads_arg), "%d", threads);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long n = 0;
		int k = 0;

		if (sscanf(line, "run %lu", &n) == 1) {
			start_jobs(jobs, threads, n);
			join_jobs(jobs, threads);
			printf("done %lu\n", n);
		} else if (!strcmp(line, "loop\n") && !looping) {
			start_jobs(jobs, threads, 0);
			looping = true;
			printf("looping\n");
		} else if (!strcmp(line, "stop\n") && looping) {
			atomic_store(&stop_loop, 1);
			looping = false;
			printf("stopped %lu\n", join_jobs(jobs, threads));
		} else if (sscanf(line, "fork %d %lu", &k, &n) == 2) {
			fork_children(k, n);
			printf("forked %d\n", k);
		} else if (!strcmp(line, "exec\n")) {
			fflush(stdout);
			execv(self_path, (char *[]){ (char *)self_path, threads_arg, NULL });
			perror("puppet: execv");
			return 127;
		} else if (!strcmp(line, "exec-in-call\n")) {
			request_exec();
		} else if (!strcmp(line, "exit-in-call\n")) {
			request_exit();
		} else if (!strcmp(line, "abort\n")) {
			abort();
		} else if (!strcmp(line, "quit\n")) {
			return 0;
		} else {
			fprintf(stderr, "puppet: unknown command: %s", line);
			return 2;
		}
		fflush(stdout);
	}
	return 0;
}
