// SPDX-License-Identifier: MIT
/*
 * Context switches per second, for the host-wide cost of flowprof's
 * sched_switch program: two processes pass one byte back and forth through
 * two pipes, both pinned to one CPU, so that each pass is one switch from
 * the writer, which then blocks reading, to the reader.
 *
 *   pingpong SECONDS [CPU]
 *
 * CPU defaults to the last one online. Prints
 *   "passes N seconds S switches K"
 * K: the voluntary and involuntary context switches of both processes
 * (getrusage), which should be about N.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int xread(int fd, char *c)
{
	ssize_t n;

	while ((n = read(fd, c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

static int xwrite(int fd, char c)
{
	ssize_t n;

	while ((n = write(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int ping[2], pong[2], status;
	long cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	uint64_t budget, t0, elapsed = 0, passes = 0;
	struct rusage self, kids;
	cpu_set_t set;
	pid_t child;
	char c = 'x';

	if (argc < 2 || argc > 3 || atof(argv[1]) <= 0) {
		fprintf(stderr, "usage: pingpong SECONDS [CPU]\n");
		return 2;
	}
	budget = (uint64_t)(atof(argv[1]) * 1e9);
	if (argc == 3)
		cpu = atol(argv[2]);
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("pingpong: sched_setaffinity");
		return 1;
	}
	if (pipe(ping) || pipe(pong)) {
		perror("pingpong: pipe");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("pingpong: fork");
		return 1;
	}
	if (!child) {
		close(ping[1]);
		close(pong[0]);
		while (!xread(ping[0], &c))
			if (xwrite(pong[1], c))
				_exit(1);
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	t0 = now_ns();
	while (elapsed < budget) {
		for (int i = 0; i < 256; i++) {
			if (xwrite(ping[1], c) || xread(pong[0], &c)) {
				fprintf(stderr, "pingpong: the other process went away\n");
				return 1;
			}
		}
		passes += 512;
		elapsed = now_ns() - t0;
	}
	close(ping[1]);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "pingpong: the other process failed\n");
		return 1;
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("passes %llu seconds %.6f switches %ld\n", (unsigned long long)passes,
	       (double)elapsed / 1e9,
	       self.ru_nvcsw + self.ru_nivcsw + kids.ru_nvcsw + kids.ru_nivcsw);
	return 0;
}
