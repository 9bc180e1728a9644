// SPDX-License-Identifier: MIT
/*
 * thread_per_request: a server that starts a new thread for every request
 * and lets at most C of them run at once (tests/e2e/test_capacity.py).
 *
 *   thread_per_request [-n N] [-c C] [-s SPIN_US] [-w]
 *
 * Serves N requests as fast as C slots allow: each is a new thread running
 * the handler serve() (spins SPIN_US of its own CPU time: the same work
 * however often it is preempted or throttled), which exits after it. Prints its own
 * figures as one JSON line: {"target", "pid", "requests", "elapsed_ns",
 * "throughput_per_s", "service_mean_ns" (serve's own clock), "inflight_mean"
 * (throughput x mean service: Little's law), "inflight_max", "threads",
 * "cpu_ns" (the CPU time its threads used while serving)}.
 */
#include <pthread.h>
#include <semaphore.h>

#include "target.h"

static sem_t slots;
static uint64_t opt_spin_us = 300;
static uint64_t busy_ns, in_flight, max_in_flight;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

HANDLER void serve(void)
{
	uint64_t t0 = now_ns();

	spin_cpu_ns(opt_spin_us * 1000);
	pthread_mutex_lock(&lock);
	busy_ns += now_ns() - t0;
	pthread_mutex_unlock(&lock);
}

static void *request(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	if (++in_flight > max_in_flight)
		max_in_flight = in_flight;
	pthread_mutex_unlock(&lock);
	serve();
	pthread_mutex_lock(&lock);
	in_flight--;
	pthread_mutex_unlock(&lock);
	sem_post(&slots);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t n = 2000, c = 2, t0, elapsed, cpu0;
	bool wait = false;
	pthread_attr_t attr;
	int opt;

	while ((opt = getopt(argc, argv, "n:c:s:w")) != -1) {
		switch (opt) {
		case 'n': n = arg_u64(optarg, 'n'); break;
		case 'c': c = arg_u64(optarg, 'c'); break;
		case 's': opt_spin_us = arg_u64(optarg, 's'); break;
		case 'w': wait = true; break;
		default:
			fprintf(stderr, "usage: thread_per_request [-n N] [-c C] [-s SPIN_US] [-w]\n");
			return 2;
		}
	}
	sem_init(&slots, 0, (unsigned)c);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	target_wait_start(wait);
	t0 = now_ns();
	cpu0 = process_cpu_ns();
	for (uint64_t i = 0; i < n; i++) {
		pthread_t t;

		sem_wait(&slots);
		if (pthread_create(&t, &attr, request, NULL)) {
			perror("thread_per_request: pthread_create");
			return 1;
		}
	}
	for (uint64_t i = 0; i < c; i++)
		sem_wait(&slots);
	elapsed = now_ns() - t0;
	json_begin("thread_per_request");
	json_u64("requests", n);
	json_u64("elapsed_ns", elapsed);
	printf(",\"throughput_per_s\":%.3f", (double)n / ((double)elapsed / 1e9));
	printf(",\"service_mean_ns\":%.1f", (double)busy_ns / (double)n);
	printf(",\"inflight_mean\":%.4f", (double)busy_ns / (double)elapsed);
	json_u64("inflight_max", max_in_flight);
	json_u64("threads", n);
	json_u64("cpu_ns", process_cpu_ns() - cpu0);
	json_end();
	return 0;
}
