// SPDX-License-Identifier: MIT
/*
 * A closed-loop load generator for the sweep tests (tests/e2e/test_sweep.py):
 * USERS threads, each with its own TCP connection, each sending one request
 * line, waiting for the one-line reply, thinking, and sending the next, for
 * a fixed time. Like wrk or Locust, but small, and shipped with the tests so
 * that a sweep needs nothing from outside.
 *
 *   pool_loadgen -c USERS -d SECONDS [-z THINK_MS] [-r RATE] [-m REQUEST] [HOST:]PORT
 *
 * With -r the load is open instead: RATE requests per second in all, on a
 * fixed schedule spread over the USERS connections (user i sends its k-th
 * request at (k * USERS + i) / RATE s); a user whose reply comes late sends
 * its next request at once, so past saturation it behaves as a closed user.
 *
 * The request line is REQUEST (default "req") followed by '\n'. At the end it
 * prints one line of its own measurements:
 *
 *   users 8 requests 16042 seconds 4.000 throughput 4010.5 mean_ms 1.994
 *
 * Exit status: 0; 1 when a connection fails or the server closes one (the
 * sweep then marks the step failed); 2 on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS 4096

struct user {
	pthread_t thread;
	int index;
	int fd;
	uint64_t requests;
	uint64_t latency_ns;
	bool failed;
};

static const char *request = "req";
static double think_ms;
static double rate;		/* -r: requests per second in all, 0 = closed */
static int n_users;
static uint64_t start_ns;
static atomic_bool stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, rc;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "pool_loadgen: %s:%s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "pool_loadgen: cannot connect to %s:%s: %s\n", host, port,
			strerror(errno));
	else
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	freeaddrinfo(res);
	return fd;
}

/* Reads until the reply's '\n'; false when the connection broke. */
static bool read_reply(int fd)
{
	char buf[256];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		if (memchr(buf, '\n', (size_t)n))
			return true;
	}
}

static void *user_loop(void *arg)
{
	struct user *u = arg;
	size_t len = strlen(request);
	char *line = malloc(len + 2);

	memcpy(line, request, len);
	line[len] = '\n';
	line[len + 1] = 0;
	for (uint64_t k = 0; !atomic_load(&stop); k++) {
		uint64_t t0;

		if (rate > 0) {
			uint64_t due = start_ns + (uint64_t)((double)(k * (uint64_t)n_users +
								      (uint64_t)u->index) /
							     rate * 1e9);
			struct timespec ts = { (time_t)(due / 1000000000ull),
					       (long)(due % 1000000000ull) };

			if (due > now_ns())
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			if (atomic_load(&stop))
				break;
		}
		t0 = now_ns();

		if (write(u->fd, line, len + 1) != (ssize_t)(len + 1) || !read_reply(u->fd)) {
			if (!atomic_load(&stop)) {
				fprintf(stderr, "pool_loadgen: connection closed by the server\n");
				u->failed = true;
			}
			break;
		}
		u->latency_ns += now_ns() - t0;
		u->requests++;
		if (think_ms > 0) {
			struct timespec ts = { (time_t)(think_ms / 1000),
					       (long)(think_ms * 1e6) % 1000000000L };

			nanosleep(&ts, NULL);
		}
	}
	free(line);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: pool_loadgen -c USERS -d SECONDS [-z THINK_MS] [-r RATE] "
			"[-m REQUEST] [HOST:]PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int users = 0, opt, rc = 0;
	double seconds = 0;
	char host[256] = "127.0.0.1";
	const char *port;
	struct user *u;
	uint64_t t0, t1, requests = 0, latency = 0;

	while ((opt = getopt(argc, argv, "c:d:z:r:m:")) != -1) {
		switch (opt) {
		case 'c':
			users = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'z':
			think_ms = atof(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'm':
			request = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || users < 1 || users > MAX_USERS || seconds <= 0 || think_ms < 0 ||
	    rate < 0)
		usage();
	n_users = users;
	port = strrchr(argv[optind], ':');
	if (port) {
		snprintf(host, sizeof(host), "%.*s", (int)(port - argv[optind]), argv[optind]);
		port++;
	} else {
		port = argv[optind];
	}

	u = calloc((size_t)users, sizeof(*u));
	for (int i = 0; i < users; i++) {
		u[i].fd = connect_to(host, port);
		if (u[i].fd < 0)
			return 1;
	}
	t0 = start_ns = now_ns();
	for (int i = 0; i < users; i++) {
		u[i].index = i;
		pthread_create(&u[i].thread, NULL, user_loop, &u[i]);
	}
	while (now_ns() - t0 < (uint64_t)(seconds * 1e9)) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	/* a user blocked in read() wakes when its connection is shut down */
	for (int i = 0; i < users; i++)
		shutdown(u[i].fd, SHUT_RDWR);
	for (int i = 0; i < users; i++) {
		pthread_join(u[i].thread, NULL);
		close(u[i].fd);
		requests += u[i].requests;
		latency += u[i].latency_ns;
		if (u[i].failed)
			rc = 1;
	}
	t1 = now_ns();
	printf("users %d requests %llu seconds %.3f throughput %.1f mean_ms %.3f\n", users,
	       (unsigned long long)requests, (double)(t1 - t0) / 1e9,
	       (double)requests / ((double)(t1 - t0) / 1e9),
	       requests ? (double)latency / (double)requests / 1e6 : 0.0);
	free(u);
	return rc;
}
