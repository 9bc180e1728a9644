/* SPDX-License-Identifier: MIT */
/*
 * demo.h: the plumbing the demo shop's programs share. Each service is a
 * pre-threaded server on a unix socket: a fixed pool of worker threads that
 * all block in accept(), and each request is one connection carrying one
 * text line in each direction. Nothing here is profiled; the handlers live
 * in the .c files.
 */
#ifndef DEMO_H
#define DEMO_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* accept4, strsignal */
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A handler is a real function with its own ELF symbol, which a uprobe can
 * find: never inlined, and (GCC) never cloned into a .isra/.constprop copy
 * that callers would use instead of the symbol. */
#if defined(__clang__)
#define OPAQUE __attribute__((noinline))
#else
#define OPAQUE __attribute__((noipa))
#endif
#define HANDLER OPAQUE

#define LINE_MAX_LEN 256
#define IO_TIMEOUT_S 5

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

__attribute__((format(printf, 2, 3), noreturn))
static inline void die(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline int parse_positive(const char *prog, const char *opt, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v <= 0 || v > 1000000)
		die(prog, "%s: expected a positive integer, got '%s'", opt, s);
	return (int)v;
}

static inline int unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Requests and replies must not hang a worker forever if the peer dies. */
static inline void set_io_timeout(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static inline int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_address(path, &sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	set_io_timeout(fd);
	return fd;
}

/* Sends one line (the '\n' is added). 0, or -1 with errno. */
static inline int send_line(int fd, const char *line)
{
	char buf[LINE_MAX_LEN + 1];
	size_t len = strlen(line), off = 0;

	if (len >= LINE_MAX_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Reads one line, without its '\n'. 0, or -1 on EOF, error or overlong line. */
static inline int recv_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
	}
	errno = EMSGSIZE;
	return -1;
}

/* One request/response round trip on a fresh connection: the RPC of the
 * demo. 0, or -1 when the service cannot be reached or does not answer. */
static inline int call_service(const char *path, const char *request, char *reply, size_t size)
{
	int fd = connect_unix(path), rc = -1;

	if (fd < 0)
		return -1;
	if (send_line(fd, request) == 0 && recv_line(fd, reply, size) == 0)
		rc = 0;
	close(fd);
	return rc;
}

/* ---- the pre-threaded server ------------------------------------------ */

/* Answers one request line with one reply line. */
typedef void (*request_fn)(const char *request, char *reply, size_t size);

struct server {
	const char *prog;
	const char *path;
	int workers;
	request_fn serve;
	int listen_fd;
	atomic_bool stopping;
	atomic_ulong served;
};

static inline void *server_worker(void *arg)
{
	struct server *srv = arg;
	char request[LINE_MAX_LEN], reply[LINE_MAX_LEN];

	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (srv->stopping)
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {   /* wait for a free fd */
				sleep_ns(1000000);
				continue;
			}
			fprintf(stderr, "%s: accept: %s\n", srv->prog, strerror(errno));
			break;
		}
		set_io_timeout(fd);
		if (recv_line(fd, request, sizeof(request)) == 0) {
			srv->serve(request, reply, sizeof(reply));
			send_line(fd, reply);
			srv->served++;
		}
		close(fd);
	}
	return NULL;
}

/* Listens on srv->path, serves with srv->workers threads until SIGTERM or
 * SIGINT, then lets the workers finish their request, removes the socket
 * and returns 0. Prints "listening" once ready, for scripts to wait on. */
static inline int server_run(struct server *srv)
{
	struct sockaddr_un sa;
	struct stat st;
	pthread_t *threads;
	sigset_t stop_signals;
	int sig, i;

	if (unix_address(srv->path, &sa) < 0)
		die(srv->prog, "%s: socket path too long", srv->path);
	if (stat(srv->path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(srv->path);   /* a stale socket from a killed run */
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(srv->listen_fd, 1024) < 0)
		die(srv->prog, "%s: %s", srv->path, strerror(errno));

	/* Only this thread takes the stop signals: the workers inherit the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

	threads = calloc((size_t)srv->workers, sizeof(*threads));
	if (!threads)
		die(srv->prog, "out of memory");
	for (i = 0; i < srv->workers; i++)
		if (pthread_create(&threads[i], NULL, server_worker, srv) != 0)
			die(srv->prog, "cannot start worker %d", i);
	printf("%s: listening on %s, %d workers, pid %d\n", srv->prog, srv->path, srv->workers,
	       (int)getpid());
	fflush(stdout);

	sigwait(&stop_signals, &sig);
	srv->stopping = true;
	/* On Linux, shutdown() of a listening socket wakes every blocked accept(). */
	shutdown(srv->listen_fd, SHUT_RDWR);
	for (i = 0; i < srv->workers; i++)
		pthread_join(threads[i], NULL);
	close(srv->listen_fd);
	unlink(srv->path);
	free(threads);
	printf("%s: stopped (%s) after %lu requests\n", srv->prog, strsignal(sig), (unsigned long)srv->served);
	return 0;
}

/* The value of "key=" in a request line of space-separated key=value words,
 * copied into buf. 0, or -1 when the key is absent. */
static inline int field(const char *line, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t len = strcspn(p + klen + 1, " ");

			if (len >= size)
				return -1;
			memcpy(buf, p + klen + 1, len);
			buf[len] = '\0';
			return 0;
		}
		p += klen;
	}
	return -1;
}

static inline long field_long(const char *line, const char *key, long fallback)
{
	char buf[32], *end;
	long v;

	if (field(line, key, buf, sizeof(buf)) < 0)
		return fallback;
	v = strtol(buf, &end, 10);
	return (*buf && !*end) ? v : fallback;
}

#endif /* DEMO_H */
