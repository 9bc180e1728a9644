// SPDX-License-Identifier: MIT
/*
 * event_loop: a one-thread server that sleeps when idle and pays for each
 * wake-up, like redis's event loop (tests/e2e/test_capacity.py).
 *
 *   event_loop [-r RATE | -n INFLIGHT] [-d SECONDS] [-k WAKE_US] [-s SPIN_US]
 *              [-o OUTSIDE_US] [-u] [-w]
 *
 * The process forks its client. The server (this process, pinned to the
 * last CPU; with -u, free to run on any) reads requests from a pipe, all
 * that are waiting at once, and serves each: OUTSIDE_US of CPU time outside
 * any handler (what a real loop spends parsing a request; default 0),
 * handle_request() (SPIN_US of its own CPU time) and one reply write.
 * When none is waiting it sleeps in poll(), and each time it wakes it does
 * WAKE_US of CPU work outside any handler (what waking costs a real
 * loop: its timers, its bookkeeping). Requests that arrive while it works
 * are served without a sleep, so near its ceiling a request costs little
 * more than SPIN_US.
 *
 * The client (pinned to CPU 0) sends requests for SECONDS (default 4): -r
 * RATE: at Poisson times (open loop; spinning out short waits, or with -u
 * asleep: client()); -n INFLIGHT: INFLIGHT outstanding at all times
 * (closed loop: the server runs at its ceiling). Then it closes
 * the pipe and the server reports, as one JSON line: {"target", "pid",
 * "requests", "elapsed_ns" (first request to last reply), "throughput_per_s",
 * "wakeups" (sleeps it woke from to serve), "cpu_ns" (the server's CPU time
 * over that span)}.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "target.h"

static uint64_t opt_spin_us = 40, opt_wake_us = 20, opt_outside_us;

HANDLER void handle_request(void)
{
	spin_cpu_ns(opt_spin_us * 1000);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("event_loop: sched_setaffinity");
}

static void write_all(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len) {
		perror("event_loop: write");
		exit(1);
	}
}

/* Exponential gap of mean 1 / rate seconds, in ns. */
static uint64_t poisson_gap_ns(double rate, unsigned int *seed)
{
	double u = (rand_r(seed) + 1.0) / ((double)RAND_MAX + 2.0);

	return (uint64_t)(-log(u) / rate * 1e9);
}

/*
 * Pinned, the client spins out waits under a millisecond: it stays awake,
 * so a reply never has to wake it (on the test VM that costs the server
 * ~15 us a reply at a low load, and none at its ceiling), and its CPU is
 * not the server's. Unpinned (sleeps), its spinning would be load on the
 * server's CPUs: it sleeps until the next request is due.
 */
static void client(int req_fd, int rep_fd, double rate, unsigned inflight, double seconds,
		   bool sleeps)
{
	uint64_t token = 1, reply, end = now_ns() + (uint64_t)(seconds * 1e9), due = now_ns();
	unsigned int seed = (unsigned int)getpid();
	struct pollfd p = { .fd = rep_fd, .events = POLLIN };

	for (unsigned i = 0; !rate && i < inflight; i++)
		write_all(req_fd, &token, sizeof(token));
	while (now_ns() < end) {
		uint64_t now = now_ns(), wait_ns = rate ? (due > now ? due - now : 0) : 100000000;
		struct timespec ts = { (time_t)(wait_ns / 1000000000ULL),
				       (long)(wait_ns % 1000000000ULL) };
		int ready;

		if (rate && now >= due) {
			write_all(req_fd, &token, sizeof(token));
			due += poisson_gap_ns(rate, &seed);
			continue;
		}
		if (!sleeps && wait_ns < 1000000) {
			ready = poll(&p, 1, 0);
			if (!ready)
				continue; /* spun until a reply or the next request */
		} else {
			ready = ppoll(&p, 1, &ts, NULL);
		}
		if (ready > 0) {
			if (read(rep_fd, &reply, sizeof(reply)) != sizeof(reply))
				break;
			if (!rate)
				write_all(req_fd, &token, sizeof(token));
		}
	}
	close(req_fd);
	while (read(rep_fd, &reply, sizeof(reply)) == sizeof(reply))
		; /* the server's last replies, until it closes */
}

int main(int argc, char **argv)
{
	uint64_t requests = 0, wakeups = 0, first = 0, last = 0, cpu0 = 0, buf[64];
	unsigned inflight = 0;
	double rate = 0, seconds = 4;
	int req[2], rep[2], opt, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	bool wait = false, pinned = true;
	pid_t child;
	ssize_t n;

	while ((opt = getopt(argc, argv, "r:n:d:k:s:o:uw")) != -1) {
		switch (opt) {
		case 'r': rate = (double)arg_u64(optarg, 'r'); break;
		case 'n': inflight = (unsigned)arg_u64(optarg, 'n'); break;
		case 'd': seconds = (double)arg_u64(optarg, 'd'); break;
		case 'k': opt_wake_us = arg_u64(optarg, 'k'); break;
		case 's': opt_spin_us = arg_u64(optarg, 's'); break;
		case 'o': opt_outside_us = arg_u64(optarg, 'o'); break;
		case 'u': pinned = false; break;
		case 'w': wait = true; break;
		default:
			fprintf(stderr, "usage: event_loop [-r RATE | -n INFLIGHT] [-d SECONDS] "
					"[-k WAKE_US] [-s SPIN_US] [-o OUTSIDE_US] [-u] [-w]\n");
			return 2;
		}
	}
	if (!rate == !inflight || inflight > 64) {
		fprintf(stderr, "event_loop: give one of -r RATE and -n INFLIGHT (at most 64)\n");
		return 2;
	}
	if (pipe(req) || pipe(rep)) {
		perror("event_loop: pipe");
		return 1;
	}
	/* pinned before the start, where a recorder reads what it may use; the
	 * client inherits it and moves to CPU 0 */
	if (pinned)
		pin(ncpu - 1);
	target_wait_start(wait);
	child = fork();
	if (child < 0) {
		perror("event_loop: fork");
		return 1;
	}
	if (!child) {
		close(req[0]);
		close(rep[1]);
		pin(0);
		client(req[1], rep[0], rate, inflight, seconds, !pinned);
		_exit(0);
	}
	close(req[1]);
	close(rep[0]);
	/* a turn: every request that is waiting (a read takes them all); when
	 * none is, sleep until one comes and pay for waking */
	for (;;) {
		struct pollfd p = { .fd = req[0], .events = POLLIN };
		bool slept = poll(&p, 1, 0) == 0;

		if (slept && poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		n = read(req[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (!first) {
			first = now_ns();
			cpu0 = process_cpu_ns();
		}
		if (slept) {
			spin_cpu_ns(opt_wake_us * 1000);
			wakeups++;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(buf[0]); i++) {
			if (opt_outside_us)
				spin_cpu_ns(opt_outside_us * 1000);
			handle_request();
			write_all(rep[1], &buf[i], sizeof(buf[i]));
			requests++;
		}
		last = now_ns();
	}
	close(rep[1]);
	waitpid(child, NULL, 0);
	json_begin("event_loop");
	json_u64("requests", requests);
	json_u64("elapsed_ns", last - first);
	printf(",\"throughput_per_s\":%.3f", (double)requests / ((double)(last - first) / 1e9));
	json_u64("wakeups", wakeups);
	json_u64("cpu_ns", process_cpu_ns() - cpu0);
	json_end();
	return 0;
}
