// SPDX-License-Identifier: MIT
/*
 * A load generator for redis-server (tests/e2e/saturation.py's Redis, run
 * by the bench's saturation section): SET and GET in turn on random keys,
 * over CONNS connections, speaking RESP on plain sockets, one thread and
 * poll().
 *
 *   redis_load (-s SOCKET | -p PORT) [-c CONNS] [-r RATE] [-d SECONDS]
 *              [-w WARMUP_S] [-k KEYS]
 *
 Each connection has at most one request outstanding (no pipelining: the
 * server reads and answers one request at a time, as under redis-benchmark
 * without -P, or pgbench).
 *
 * -r RATE: open loop, like pgbench -R. Requests fall due at Poisson times
 * (exponential gaps of mean 1/RATE s); each is written when due on a
 * connection that has none outstanding, or, when every connection waits for
 * a reply, on the first to get one. Its response time runs from when it fell
 * due, so a wait for a free connection counts too.
 * Without -r (or -r 0): closed loop. Each connection sends its next request
 * as soon as the reply to the last comes.
 *
 * -p PORT connects to 127.0.0.1. Counts the replies that arrive during the
 * SECONDS (default 5) after WARMUP_S (default 1) and prints one line:
 *
 *   conns 8 rate 20000 requests 100123 seconds 5.000 throughput 20024.6 mean_ns 41234.5 late_ns 812.3 errors 0
 *
 * late_ns: the mean lag of a write behind its due time (open loop; 0 for a
 * closed loop). Exit status: 0; 1 when a connection fails, the server
 * replies with an error or over a million requests wait for a connection;
 * 2 on a bad command line.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_WAITING (1 << 20) /* requests due with no free connection, a power of two */
#define OUT_SIZE 256
#define IN_SIZE (1 << 16)
#define VALUE_LEN 32

struct conn {
	int fd;
	char out[OUT_SIZE];
	size_t out_len;
	char *in;
	size_t in_len;
	int busy;     /* a request outstanding */
	uint64_t due; /* its due time */
	unsigned long sent;
};

/* requests due that wait for a free connection */
static uint64_t *waiting;
static unsigned wait_head, wait_tail;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* uniform in [0, 1) */
static double uniform(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static void die(const char *what)
{
	fprintf(stderr, "redis_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_to(const char *path, int port)
{
	int fd, one = 1;

	if (path) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		if (strlen(path) >= sizeof(a.sun_path)) {
			fprintf(stderr, "redis_load: socket path too long\n");
			exit(2);
		}
		strcpy(a.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
			die(path);
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
			die("connect 127.0.0.1");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK");
	return fd;
}

static void flush_out(struct conn *c)
{
	while (c->out_len) {
		ssize_t n = write(c->fd, c->out, c->out_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			die("write");
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

/* Sends c the next request (SET, then GET, in turn), due at `due`. */
static void send_request(struct conn *c, uint64_t due, unsigned keys)
{
	static const char value[VALUE_LEN + 1] = "0123456789abcdef0123456789abcdef";
	char key[16];
	int n;

	snprintf(key, sizeof(key), "key:%06u", (unsigned)(rng() % keys));
	if (c->sent % 2 == 0)
		n = snprintf(c->out, OUT_SIZE, "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%d\r\n%s\r\n",
			     strlen(key), key, VALUE_LEN, value);
	else
		n = snprintf(c->out, OUT_SIZE, "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", strlen(key),
			     key);
	c->out_len = (size_t)n;
	c->busy = 1;
	c->due = due;
	c->sent++;
	flush_out(c);
}

/* The length of the one complete reply at buf, 0 if incomplete; *err set
 * for an error reply. Replies to SET and GET: +OK, $-1, $N and N bytes. */
static size_t reply_len(const char *buf, size_t len, int *err)
{
	const char *crlf = memmem(buf, len, "\r\n", 2);
	size_t head;
	long n;

	if (!crlf)
		return 0;
	head = (size_t)(crlf - buf) + 2;
	switch (buf[0]) {
	case '+':
	case ':':
		return head;
	case '-':
		*err = 1;
		return head;
	case '$':
		n = strtol(buf + 1, NULL, 10);
		if (n < 0)
			return head;
		return len >= head + (size_t)n + 2 ? head + (size_t)n + 2 : 0;
	default:
		fprintf(stderr, "redis_load: unexpected reply '%c'\n", buf[0]);
		exit(1);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: redis_load (-s SOCKET | -p PORT) [-c CONNS] [-r RATE] "
			"[-d SECONDS] [-w WARMUP_S] [-k KEYS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int port = 0, nconns = 1, opt;
	double rate = 0, seconds = 5, warmup = 1;
	unsigned keys = 10000;
	struct conn *conns;
	struct pollfd *pfd;
	uint64_t t0, win_start, win_end, next_due, count = 0, sum_ns = 0, late_sum = 0;
	uint64_t late_n = 0, errors = 0;

	while ((opt = getopt(argc, argv, "s:p:c:r:d:w:k:")) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'k': keys = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if ((!path) == (port <= 0) || optind != argc || nconns < 1 || nconns > MAX_CONNS ||
	    rate < 0 || seconds <= 0 || warmup < 0 || keys < 1)
		usage();
	/* wake at the due time, not up to 50 us after it */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rng_state ^= now_ns();
	conns = calloc((size_t)nconns, sizeof(*conns));
	pfd = calloc((size_t)nconns, sizeof(*pfd));
	waiting = malloc(MAX_WAITING * sizeof(uint64_t));
	if (!conns || !pfd || !waiting)
		die("calloc");
	for (int i = 0; i < nconns; i++) {
		conns[i].fd = connect_to(path, port);
		conns[i].in = malloc(IN_SIZE);
		if (!conns[i].in)
			die("malloc");
		pfd[i].fd = conns[i].fd;
	}
	t0 = now_ns();
	win_start = t0 + (uint64_t)(warmup * 1e9);
	win_end = win_start + (uint64_t)(seconds * 1e9);
	next_due = t0;
	if (rate == 0)
		for (int i = 0; i < nconns; i++)
			send_request(&conns[i], t0, keys);
	for (;;) {
		uint64_t now = now_ns(), until;
		struct timespec ts;

		if (now >= win_end)
			break;
		/* the requests due: on a free connection, else they wait for one */
		while (rate > 0 && next_due <= now) {
			if (wait_tail - wait_head >= MAX_WAITING) {
				fprintf(stderr, "redis_load: over %d requests wait for a connection\n",
					MAX_WAITING);
				exit(1);
			}
			waiting[wait_tail++ % MAX_WAITING] = next_due;
			next_due += (uint64_t)(-log(1 - uniform()) / rate * 1e9);
		}
		for (int i = 0; i < nconns && wait_head != wait_tail; i++) {
			if (conns[i].busy)
				continue;
			send_request(&conns[i], waiting[wait_head % MAX_WAITING], keys);
			if (conns[i].due >= win_start) {
				late_sum += now - conns[i].due;
				late_n++;
			}
			wait_head++;
		}
		for (int i = 0; i < nconns; i++)
			pfd[i].events = POLLIN | (conns[i].out_len ? POLLOUT : 0);
		until = rate > 0 && next_due < win_end ? next_due : win_end;
		now = now_ns();
		until = until > now ? until - now : 0;
		ts.tv_sec = (time_t)(until / 1000000000ULL);
		ts.tv_nsec = (long)(until % 1000000000ULL);
		if (ppoll(pfd, (nfds_t)nconns, &ts, NULL) < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll");
		}
		for (int i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];
			size_t len;
			ssize_t n;
			int err = 0;

			if (pfd[i].revents & POLLOUT)
				flush_out(c);
			if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			n = read(c->fd, c->in + c->in_len, IN_SIZE - c->in_len);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = ECONNRESET;
				die("read");
			}
			c->in_len += (size_t)n;
			len = reply_len(c->in, c->in_len, &err);
			if (!len) {
				if (c->in_len == IN_SIZE) {
					fprintf(stderr, "redis_load: a reply over %d bytes\n", IN_SIZE);
					exit(1);
				}
				continue;
			}
			if (!c->busy || len != c->in_len) {
				fprintf(stderr, "redis_load: a reply to no request\n");
				exit(1);
			}
			now = now_ns();
			c->in_len = 0;
			c->busy = 0;
			errors += (uint64_t)err;
			if (now >= win_start && now < win_end) {
				count++;
				sum_ns += now - c->due;
			}
			if (rate == 0) {
				send_request(c, now, keys);
			} else if (wait_head != wait_tail) {
				send_request(c, waiting[wait_head++ % MAX_WAITING], keys);
				if (c->due >= win_start) {
					late_sum += now - c->due;
					late_n++;
				}
			}
		}
	}
	printf("conns %d rate %.0f requests %llu seconds %.3f throughput %.1f mean_ns %.1f "
	       "late_ns %.1f errors %llu\n", nconns, rate, (unsigned long long)count, seconds,
	       count / seconds, count ? (double)sum_ns / count : 0.0,
	       late_n ? (double)late_sum / late_n : 0.0, (unsigned long long)errors);
	for (int i = 0; i < nconns; i++)
		close(conns[i].fd);
	return errors ? 1 : 0;
}
