// SPDX-License-Identifier: MIT
/*
 * A thread-pool server on loopback for the sweep tests
 * (tests/e2e/test_sweep.py), driven by pool_loadgen: one dispatcher thread
 * waits (epoll) on every connection and queues the readable ones; WORKERS
 * threads take them from the queue, serve one request line each and reply
 * "ok\n". A request waits in the queue while every worker is busy, so the
 * pool is a multi-server station of exactly WORKERS servers.
 *
 *   sweep_server [-w WORKERS] [-s SERVICE_US] [-k sleep|spin] [-p PORT]
 *
 * Prints "ready PORT" once it listens (-p 0, the default, picks a port),
 * then serves until killed. Each request runs handle_request() (the flow's
 * entry), which calls do_work(): SERVICE_US microseconds asleep (off-CPU:
 * the pool saturates, not the CPU) or spinning (-k spin).
 *
 * Its own clock: on SIGUSR1 it prints one JSON line, {"by_clients":
 * [{"clients", "requests", "service_ns"}...]}: the requests served and the
 * time handle_request took them, by how many clients were connected when
 * each began (a closed-loop load of N users keeps N connected), so the
 * service time of each load level is the server's, not a profiler's.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 256
#define QUEUE_CAP 65536
#define MAX_CLIENTS 1024

static int epfd;
static long service_us = 2000;
static bool spin;
static volatile unsigned long sink;

static int queue[QUEUE_CAP];
static unsigned int q_head, q_len;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_ready = PTHREAD_COND_INITIALIZER;

static int clients; /* connected now */
static struct { uint64_t requests, service_ns; } by_clients[MAX_CLIENTS + 1];
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t report_asked;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) void do_work(long us)
{
	if (spin) {
		uint64_t end = now_ns() + (uint64_t)us * 1000;

		while (now_ns() < end)
			sink++;
	} else {
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

/* One request line: false when the client has gone. */
__attribute__((noinline)) bool handle_request(int fd)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return false;
	do_work(service_us);
	return write(fd, "ok\n", 3) == 3;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
		int fd, level;
		uint64_t t0;

		pthread_mutex_lock(&q_lock);
		while (!q_len)
			pthread_cond_wait(&q_ready, &q_lock);
		fd = queue[q_head];
		q_head = (q_head + 1) % QUEUE_CAP;
		q_len--;
		pthread_mutex_unlock(&q_lock);

		level = __atomic_load_n(&clients, __ATOMIC_RELAXED);
		level = level < 0 ? 0 : level > MAX_CLIENTS ? MAX_CLIENTS : level;
		t0 = now_ns();
		if (!handle_request(fd)) {
			__atomic_sub_fetch(&clients, 1, __ATOMIC_RELAXED);
			close(fd);
			continue;
		}
		pthread_mutex_lock(&clock_lock);
		by_clients[level].requests++;
		by_clients[level].service_ns += now_ns() - t0;
		pthread_mutex_unlock(&clock_lock);
		ev.data.fd = fd;
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev); /* next request of this client */
	}
	return NULL;
}

static void enqueue(int fd)
{
	pthread_mutex_lock(&q_lock);
	if (q_len < QUEUE_CAP) {
		queue[(q_head + q_len) % QUEUE_CAP] = fd;
		q_len++;
		pthread_cond_signal(&q_ready);
	} else {
		__atomic_sub_fetch(&clients, 1, __ATOMIC_RELAXED);
		close(fd);
	}
	pthread_mutex_unlock(&q_lock);
}

static void ask_report(int sig)
{
	(void)sig;
	report_asked = 1;
}

static void report(void)
{
	const char *sep = "";

	pthread_mutex_lock(&clock_lock);
	printf("{\"by_clients\":[");
	for (int c = 0; c <= MAX_CLIENTS; c++)
		if (by_clients[c].requests) {
			printf("%s{\"clients\":%d,\"requests\":%llu,\"service_ns\":%llu}", sep, c,
			       (unsigned long long)by_clients[c].requests,
			       (unsigned long long)by_clients[c].service_ns);
			sep = ",";
		}
	printf("]}\n");
	fflush(stdout);
	pthread_mutex_unlock(&clock_lock);
}

int main(int argc, char **argv)
{
	int workers = 4, port = 0, opt, lfd, one = 1;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	pthread_t tids[MAX_WORKERS];

	while ((opt = getopt(argc, argv, "w:s:k:p:")) != -1) {
		switch (opt) {
		case 'w':
			workers = atoi(optarg);
			break;
		case 's':
			service_us = atol(optarg);
			break;
		case 'k':
			spin = !strcmp(optarg, "spin");
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: sweep_server [-w WORKERS] [-s SERVICE_US] "
					"[-k sleep|spin] [-p PORT]\n");
			return 2;
		}
	}
	if (workers < 1 || workers > MAX_WORKERS || service_us < 0)
		return 2;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 4096)) {
		perror("sweep_server: bind/listen");
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&addr, &alen);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	{
		sigset_t usr1;

		/* the workers leave SIGUSR1 to the main thread, whose epoll_wait it ends */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
		for (int i = 0; i < workers; i++)
			pthread_create(&tids[i], NULL, worker, NULL);
		pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };

		epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	}
	{
		struct sigaction sa = { .sa_handler = ask_report };

		sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: epoll_wait returns */
	}
	printf("ready %d\n", ntohs(addr.sin_port));
	fflush(stdout);

	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(epfd, evs, 256, -1);

		if (report_asked) {
			report_asked = 0;
			report();
		}

		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };

				if (cfd < 0)
					continue;
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				__atomic_add_fetch(&clients, 1, __ATOMIC_RELAXED);
				ev.data.fd = cfd;
				epoll_ctl(epfd, EPOLL_CTL_ADD, cfd, &ev);
			} else {
				enqueue(evs[i].data.fd);
			}
		}
	}
}
