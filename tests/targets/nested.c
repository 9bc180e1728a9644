// SPDX-License-Identifier: MIT
/*
 * nested: one thread, a known call structure, real work.
 *
 *   main: work_cpu() X times outside any request, work_var() V times, then
 *         R times req()
 *   req:  parse(); K times work_cpu(); work_sleep(); work_block() (if -b > 0)
 *   parse: work_cpu() once
 *
 * So, per request: work_cpu runs K + 1 times nested under req (K directly,
 * one through parse), and X more calls of work_cpu are outside every request.
 * work_cpu spins on the CPU, work_sleep sleeps in nanosleep, work_block
 * blocks reading a pipe that a helper thread (which runs no handler) writes
 * to after the given time. work_var spins for a spread of durations (call i:
 * (1 + (37 i mod 100)) * CPU_US / 20), and the target reports the nearest-rank
 * percentiles of what it measured, to check flowprof's histogram.
 *
 *   nested [-r R] [-k K] [-x X] [-c CPU_US] [-s SLEEP_US] [-b BLOCK_US] [-v V] [-o OWN_US] [-m CHURN_KIB] [-w] [-l]
 *
 * -o: req and parse also spin OWN_US in their own code (self time).
 * -m: work_cpu first reads CHURN_KIB of memory, a cache line at a time, so
 *     that the probes around the next call meet cold caches.
 *
 * Prints the JSON report (target.h) at the end; handlers: req, parse,
 * work_cpu, work_sleep, work_block, work_var, each timed in its caller;
 * "outside": the X work_cpu calls outside req ({"calls", "total_ns"});
 * "self_ns": {"req", "parse"}: their total minus the time of the calls they
 * timed; "percentiles": {"work_var": {"p50_ns", "p90_ns", "p99_ns"}} and
 * "sorted_ns": {"work_var": [every duration, ascending]}; durations and
 * percentiles are the truth (target.h: without the probes' time), and each
 * handler's "truth" object has its calls as they would take unprobed.
 */
#include <pthread.h>

#include "target.h"

enum { H_REQ, H_PARSE, H_CPU, H_SLEEP, H_BLOCK, H_VAR, H_COUNT };
static const char *const handler_names[H_COUNT] = {
	"req", "parse", "work_cpu", "work_sleep", "work_block", "work_var",
};
static struct tstat stats[H_COUNT];
static uint64_t outside_ns, req_child_ns, parse_child_ns;


static uint64_t opt_k = 3, opt_cpu_us = 200, opt_sleep_us = 300, opt_block_us = 300, opt_own_us;
static volatile unsigned char *churn;
static uint64_t churn_bytes;
static int wake_req[2], wake_resp[2]; /* work_block -> helper, helper -> work_block */

static void churn_caches(void)
{
	unsigned char sink = 0;

	if (!churn_bytes)
		return;
	for (uint64_t i = 0; i < churn_bytes; i += 64)
		sink ^= churn[i];
	churn[0] = sink;
}

HANDLER void work_cpu(uint64_t us)
{
	BODY({
		churn_caches();
		spin_ns(us * 1000);
	});
}

HANDLER void work_sleep(uint64_t us)
{
	BODY(sleep_ns(us * 1000));
}

HANDLER void work_block(uint64_t us)
{
	char c;

	BODY(if (write(wake_req[1], &us, sizeof(us)) != sizeof(us) ||
		 read(wake_resp[0], &c, 1) != 1) {
		perror("nested: work_block");
		exit(1);
	});
}

HANDLER void work_var(uint64_t ns)
{
	BODY(spin_ns(ns));
}

HANDLER void parse(void)
{
	BODY({
		spin_ns(opt_own_us * 1000);
		parse_child_ns += TIMED(stats[H_CPU], work_cpu(opt_cpu_us));
	});
}

HANDLER void req(void)
{
	BODY({
		spin_ns(opt_own_us * 1000);
		req_child_ns += TIMED(stats[H_PARSE], parse());
		for (uint64_t i = 0; i < opt_k; i++)
			req_child_ns += TIMED(stats[H_CPU], work_cpu(opt_cpu_us));
		req_child_ns += TIMED(stats[H_SLEEP], work_sleep(opt_sleep_us));
		if (opt_block_us)
			req_child_ns += TIMED(stats[H_BLOCK], work_block(opt_block_us));
	});
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the ceil(p/100 * n)-th smallest. */
static uint64_t percentile(const uint64_t *sorted, uint64_t n, unsigned p)
{
	uint64_t rank = (p * n + 99) / 100;

	return n ? sorted[rank ? rank - 1 : 0] : 0;
}

/* Answers each work_block() after the time it asks for. */
static void *waker(void *arg)
{
	uint64_t us;

	(void)arg;
	while (read(wake_req[0], &us, sizeof(us)) == sizeof(us)) {
		sleep_ns(us * 1000);
		if (write(wake_resp[1], "x", 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t requests = 200, outside = 5, n_var = 100, *var_ns;
	bool wait = false, linger = false;
	pthread_t helper;
	int opt;

	while ((opt = getopt(argc, argv, "r:k:x:c:s:b:v:o:m:wl")) != -1) {
		switch (opt) {
		case 'r': requests = arg_u64(optarg, 'r'); break;
		case 'k': opt_k = arg_u64(optarg, 'k'); break;
		case 'x': outside = arg_u64(optarg, 'x'); break;
		case 'c': opt_cpu_us = arg_u64(optarg, 'c'); break;
		case 's': opt_sleep_us = arg_u64(optarg, 's'); break;
		case 'b': opt_block_us = arg_u64(optarg, 'b'); break;
		case 'v': n_var = arg_u64(optarg, 'v'); break;
		case 'o': opt_own_us = arg_u64(optarg, 'o'); break;
		case 'm': churn_bytes = arg_u64(optarg, 'm') * 1024; break;
		case 'w': wait = true; break;
		case 'l': linger = true; break;
		default:
			fprintf(stderr, "usage: nested [-r R] [-k K] [-x X] [-c CPU_US] [-s SLEEP_US] "
				"[-b BLOCK_US] [-v V] [-o OWN_US] [-m CHURN_KIB] [-w] [-l]\n");
			return 2;
		}
	}
	var_ns = calloc(n_var + 1, sizeof(*var_ns));
	churn = churn_bytes ? calloc(churn_bytes, 1) : NULL;
	if (churn_bytes && !churn) {
		perror("nested: churn buffer");
		return 1;
	}
	for (uint64_t i = 0; i < churn_bytes; i += 4096)
		churn[i] = 1; /* its pages, in before the calls are timed */
	if (!var_ns || pipe(wake_req) || pipe(wake_resp) || pthread_create(&helper, NULL, waker, NULL)) {
		perror("nested: set-up");
		return 1;
	}
	truth_calibrate();
	target_wait_start(wait);

	for (uint64_t i = 0; i < outside; i++)
		outside_ns += TIMED(stats[H_CPU], work_cpu(opt_cpu_us));
	for (uint64_t i = 0; i < n_var; i++) {
		TIMED(stats[H_VAR], work_var((1 + (37 * i) % 100) * opt_cpu_us * 1000 / 20));
		var_ns[i] = truth_last_ns; /* without the probes */
	}
	for (uint64_t i = 0; i < requests; i++)
		TIMED(stats[H_REQ], req());

	close(wake_req[1]);
	pthread_join(helper, NULL);
	json_begin("nested");
	json_tstats("handlers", handler_names, stats, H_COUNT);
	json_u64("requests", requests);
	json_u64("k", opt_k);
	printf(",\"outside\":{\"calls\":%" PRIu64 ",\"total_ns\":%" PRIu64 "}", outside, outside_ns);
	printf(",\"self_ns\":{\"req\":%" PRIu64 ",\"parse\":%" PRIu64 "}",
	       stats[H_REQ].total_ns - req_child_ns, stats[H_PARSE].total_ns - parse_child_ns);
	qsort(var_ns, n_var, sizeof(*var_ns), cmp_u64);
	printf(",\"percentiles\":{\"work_var\":{\"p50_ns\":%" PRIu64 ",\"p90_ns\":%" PRIu64
	       ",\"p99_ns\":%" PRIu64 "}}",
	       percentile(var_ns, n_var, 50), percentile(var_ns, n_var, 90),
	       percentile(var_ns, n_var, 99));
	printf(",\"sorted_ns\":{\"work_var\":[");
	for (uint64_t i = 0; i < n_var; i++)
		printf("%s%" PRIu64, i ? "," : "", var_ns[i]);
	printf("]}");
	json_end();
	free(var_ns);
	target_linger(linger);
	return 0;
}
