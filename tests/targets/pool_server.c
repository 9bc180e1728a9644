// SPDX-License-Identifier: MIT
/*
 * A thread pool of known size, driven closed-loop by client threads of the
 * same process, for the model's end-to-end tests (tests/e2e/test_model.py).
 *
 *   pool_server [-t WORKERS] [-n CLIENTS] [-c CPU_US] [-s SLEEP_US]
 *               [-z THINK_US] [-d SECONDS] [-i IDLE] [-w]
 *
 * CLIENTS threads each put a request on a queue, wait for its answer, think
 * THINK_US (default 0) and go again, for SECONDS (default 4). WORKERS threads
 * (default 4) take requests from the queue: a request waits there while every
 * worker is busy, so the pool is a station of exactly WORKERS servers. Each
 * request runs handle_request() (the flow's entry), which calls compute()
 * (CPU_US of this thread's CPU time, spinning: longer in wall time when the
 * CPUs are shared) and then wait_io() (SLEEP_US asleep, off the CPU). With many clients and mostly sleep the pool saturates; with mostly
 * CPU and more workers than CPUs the CPUs do. The workers are named
 * "pool-worker"; -i IDLE starts IDLE more of that name that wait for work of
 * their own that never comes (as memcached's workers wait on connections
 * bound to them: a load of fewer connections leaves some idle).
 *
 * At exit, one JSON line (target.h) with the handlers as timed by the
 * workers and the throughput the clients saw:
 *   {"target":"pool_server","pid":P,"handlers":{"handle_request":{...}},
 *    "workers":W,"clients":N,"completed":C,"elapsed_ns":E,
 *    "throughput_per_s":X,"cpu_ns":U}
 * cpu_ns is the process's CPU time (user + system) over the run.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "target.h"

#define MAX_THREADS 1024

static uint64_t cpu_us = 100, sleep_us = 4000, think_us;
static atomic_bool stop_clients;
static bool stop_workers;
static pthread_cond_t idle_stop = PTHREAD_COND_INITIALIZER; /* -i's workers */

/* the queue: indices of clients with a request waiting */
static int queue[MAX_THREADS];
static unsigned int q_head, q_len;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_ready = PTHREAD_COND_INITIALIZER;

struct client {
	pthread_t thread;
	sem_t done;
	uint64_t completed;
};

static struct client clients[MAX_THREADS];
static struct tstat handle_stats;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

HANDLER void compute(uint64_t us)
{
	spin_cpu_ns(us * 1000);
}

HANDLER void wait_io(uint64_t us)
{
	sleep_ns(us * 1000);
}

HANDLER void handle_request(uint64_t cpu, uint64_t sleep)
{
	if (cpu)
		compute(cpu);
	if (sleep)
		wait_io(sleep);
}

static void *worker(void *arg)
{
	struct tstat mine = { 0 };

	(void)arg;
	pthread_setname_np(pthread_self(), "pool-worker");
	for (;;) {
		int c;

		pthread_mutex_lock(&q_lock);
		while (!q_len && !stop_workers)
			pthread_cond_wait(&q_ready, &q_lock);
		if (!q_len) {
			pthread_mutex_unlock(&q_lock);
			break;
		}
		c = queue[q_head];
		q_head = (q_head + 1) % MAX_THREADS;
		q_len--;
		pthread_mutex_unlock(&q_lock);
		TIMED(mine, handle_request(cpu_us, sleep_us));
		sem_post(&clients[c].done);
	}
	pthread_mutex_lock(&stats_lock);
	tstat_merge(&handle_stats, &mine);
	pthread_mutex_unlock(&stats_lock);
	return NULL;
}

/* A worker whose own work never comes: it waits until the pool stops. */
static void *idle_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pool-worker");
	pthread_mutex_lock(&q_lock);
	while (!stop_workers)
		pthread_cond_wait(&idle_stop, &q_lock);
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

static void *client(void *arg)
{
	struct client *me = arg;
	int idx = (int)(me - clients);

	while (!atomic_load(&stop_clients)) {
		pthread_mutex_lock(&q_lock);
		queue[(q_head + q_len) % MAX_THREADS] = idx;
		q_len++;
		pthread_cond_signal(&q_ready);
		pthread_mutex_unlock(&q_lock);
		while (sem_wait(&me->done) && errno == EINTR)
			;
		if (!atomic_load(&stop_clients))
			me->completed++;
		if (think_us)
			sleep_ns(think_us * 1000);
	}
	return NULL;
}

static uint64_t cpu_time_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ULL +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ULL;
}

int main(int argc, char **argv)
{
	uint64_t n_workers = 4, n_clients = 16, seconds = 4, completed = 0, t0, t1, cpu0, n_idle = 0;
	pthread_t workers[MAX_THREADS], idle[MAX_THREADS];
	bool wait = false;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:c:s:z:d:i:w")) != -1) {
		switch (opt) {
		case 't': n_workers = arg_u64(optarg, 't'); break;
		case 'n': n_clients = arg_u64(optarg, 'n'); break;
		case 'c': cpu_us = arg_u64(optarg, 'c'); break;
		case 's': sleep_us = arg_u64(optarg, 's'); break;
		case 'z': think_us = arg_u64(optarg, 'z'); break;
		case 'd': seconds = arg_u64(optarg, 'd'); break;
		case 'i': n_idle = arg_u64(optarg, 'i'); break;
		case 'w': wait = true; break;
		default:
			fprintf(stderr, "usage: pool_server [-t WORKERS] [-n CLIENTS] [-c CPU_US] "
				"[-s SLEEP_US] [-z THINK_US] [-d SECONDS] [-i IDLE] [-w]\n");
			return 2;
		}
	}
	if (!n_workers || n_workers > MAX_THREADS || !n_clients || n_clients > MAX_THREADS ||
	    n_idle > MAX_THREADS) {
		fprintf(stderr, "pool_server: 1 to %d workers and clients\n", MAX_THREADS);
		return 2;
	}
	target_wait_start(wait);
	cpu0 = cpu_time_ns();
	for (uint64_t i = 0; i < n_workers; i++)
		pthread_create(&workers[i], NULL, worker, NULL);
	for (uint64_t i = 0; i < n_idle; i++)
		pthread_create(&idle[i], NULL, idle_worker, NULL);
	t0 = now_ns();
	for (uint64_t i = 0; i < n_clients; i++) {
		sem_init(&clients[i].done, 0, 0);
		pthread_create(&clients[i].thread, NULL, client, &clients[i]);
	}
	sleep_ns(seconds * 1000000000ULL);
	atomic_store(&stop_clients, true);
	t1 = now_ns();
	for (uint64_t i = 0; i < n_clients; i++) {
		pthread_join(clients[i].thread, NULL);
		completed += clients[i].completed;
	}
	pthread_mutex_lock(&q_lock);
	stop_workers = true;
	pthread_cond_broadcast(&q_ready);
	pthread_cond_broadcast(&idle_stop);
	pthread_mutex_unlock(&q_lock);
	for (uint64_t i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	for (uint64_t i = 0; i < n_idle; i++)
		pthread_join(idle[i], NULL);

	json_begin("pool_server");
	printf(",\"handlers\":{");
	json_tstat("handle_request", &handle_stats);
	printf("}");
	json_u64("workers", n_workers);
	json_u64("clients", n_clients);
	json_u64("completed", completed);
	json_u64("elapsed_ns", t1 - t0);
	printf(",\"throughput_per_s\":%.3f", (double)completed * 1e9 / (double)(t1 - t0));
	json_u64("cpu_ns", cpu_time_ns() - cpu0);
	json_end();
	return 0;
}
