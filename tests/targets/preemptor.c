// SPDX-License-Identifier: MIT
/*
 * preemptor: a real-time thread that takes a CPU at a steady beat, so that
 * whatever runs there is preempted often and anywhere, inside the probes
 * too (tests/e2e/test_accuracy.py, accuracy_preempted_in_probes).
 *
 *   preemptor CPU PERIOD_US SPIN_US
 *
 * Pins itself to CPU, becomes SCHED_FIFO (priority 1), says "ready", and
 * then every PERIOD_US (absolute deadlines) spins for SPIN_US, until it is
 * killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long arg(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "preemptor: %s: not a number: %s\n", what, s);
		exit(2);
	}
	return v;
}

static long long ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 1 };
	unsigned long cpu, period_us, spin_us;
	struct timespec next;
	cpu_set_t set;

	if (argc != 4) {
		fprintf(stderr, "usage: preemptor CPU PERIOD_US SPIN_US\n");
		return 2;
	}
	cpu = arg(argv[1], "CPU");
	period_us = arg(argv[2], "PERIOD_US");
	spin_us = arg(argv[3], "SPIN_US");
	if (!period_us || spin_us >= period_us) {
		fprintf(stderr, "preemptor: SPIN_US must be less than PERIOD_US (> 0)\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || sched_setscheduler(0, SCHED_FIFO, &sp)) {
		fprintf(stderr, "preemptor: CPU %lu, SCHED_FIFO: %s\n", cpu, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		long long until;

		next.tv_nsec += (long)period_us * 1000;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		until = ns() + (long long)spin_us * 1000;
		while (ns() < until)
			;
	}
}
