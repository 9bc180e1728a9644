// SPDX-License-Identifier: MIT
/*
 * threads: T worker threads run the same request loop at the same time.
 *
 *   worker: R times req(); then, with -e, exit_in_call() (the thread exits
 *           inside that handler: its return is never seen)
 *   req:    work_cpu() (spins), then work_sleep() (nanosleep)
 *
 * The main thread runs no handler, so exactly T threads run handlers. The
 * workers start together (a barrier) once the start signal arrived.
 *
 *   threads [-t T] [-r R] [-c CPU_US] [-s SLEEP_US] [-e] [-w] [-l]
 *
 * Report (target.h): handlers summed over the threads (req, work_cpu,
 * work_sleep; exit_in_call counts entries only, in "entries"), and
 * "threads": [{"tid", "handlers": {...}}] per worker.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "target.h"

enum { H_REQ, H_CPU, H_SLEEP, H_COUNT };
static const char *const handler_names[H_COUNT] = { "req", "work_cpu", "work_sleep" };

struct worker {
	pthread_t thread;
	int tid;
	struct tstat stats[H_COUNT];
};

static uint64_t opt_requests = 100, opt_cpu_us = 100, opt_sleep_us = 100;
static bool opt_exit_in_call;
static pthread_barrier_t start_line;

HANDLER void work_cpu(uint64_t us)
{
	spin_ns(us * 1000);
}

HANDLER void work_sleep(uint64_t us)
{
	sleep_ns(us * 1000);
}

HANDLER void req(struct worker *w)
{
	TIMED(w->stats[H_CPU], work_cpu(opt_cpu_us));
	TIMED(w->stats[H_SLEEP], work_sleep(opt_sleep_us));
}

/* Never returns: the thread ends inside this handler. */
HANDLER void exit_in_call(void)
{
	pthread_exit(NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&start_line);
	for (uint64_t i = 0; i < opt_requests; i++)
		TIMED(w->stats[H_REQ], req(w));
	if (opt_exit_in_call)
		exit_in_call();
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t n_threads = 4;
	bool wait = false, linger = false;
	struct tstat total[H_COUNT] = { { 0 } };
	struct worker *workers;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:c:s:ewl")) != -1) {
		switch (opt) {
		case 't': n_threads = arg_u64(optarg, 't'); break;
		case 'r': opt_requests = arg_u64(optarg, 'r'); break;
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		case 's': opt_sleep_us = arg_u64(optarg, 's'); break;
		case 'e': opt_exit_in_call = true; break;
		case 'w': wait = true; break;
		case 'l': linger = true; break;
		default:
			fprintf(stderr, "usage: threads [-t T] [-r R] [-c CPU_US] [-s SLEEP_US] [-e] "
				"[-w] [-l]\n");
			return 2;
		}
	}
	if (n_threads < 1 || n_threads > 1024) {
		fprintf(stderr, "-t: expected 1 to 1024 threads\n");
		return 2;
	}
	workers = calloc(n_threads, sizeof(*workers));
	if (!workers || pthread_barrier_init(&start_line, NULL, (unsigned)n_threads + 1)) {
		perror("threads: set-up");
		return 1;
	}
	for (uint64_t i = 0; i < n_threads; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i])) {
			perror("threads: pthread_create");
			return 1;
		}
	}
	target_wait_start(wait);
	pthread_barrier_wait(&start_line);
	for (uint64_t i = 0; i < n_threads; i++)
		pthread_join(workers[i].thread, NULL);

	for (uint64_t i = 0; i < n_threads; i++)
		for (int h = 0; h < H_COUNT; h++)
			tstat_merge(&total[h], &workers[i].stats[h]);
	json_begin("threads");
	json_tstats("handlers", handler_names, total, H_COUNT);
	json_u64("n_threads", n_threads);
	json_u64("requests_per_thread", opt_requests);
	printf(",\"entries\":{\"exit_in_call\":%" PRIu64 "}", opt_exit_in_call ? n_threads : 0);
	printf(",\"threads\":[");
	for (uint64_t i = 0; i < n_threads; i++) {
		printf("%s{\"tid\":%d", i ? "," : "", workers[i].tid);
		json_tstats("handlers", handler_names, workers[i].stats, H_COUNT);
		putchar('}');
	}
	putchar(']');
	json_end();
	free(workers);
	target_linger(linger);
	return 0;
}
