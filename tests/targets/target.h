/* SPDX-License-Identifier: MIT */
/*
 * Shared by the end-to-end test targets (tests/targets/): a clock, real
 * work (spinning, sleeping), self-timing of handler calls, the start
 * handshake and the one-line JSON report. See tests/targets/README.md.
 *
 * Everything here is `static inline` so that each target uses what it needs
 * without unused-function warnings; the Makefile builds with -fno-inline, so
 * these stay ordinary (unprobed) functions. Handlers are defined in the
 * targets with HANDLER: real, global, never inlined or cloned, so that each
 * has its own ELF symbol and a frame-pointer prologue (`push %rbp`).
 */
#ifndef FLOWPROF_TEST_TARGET_H
#define FLOWPROF_TEST_TARGET_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
#define HANDLER extern "C" __attribute__((noinline, noipa))
#else
#define HANDLER __attribute__((noinline, noipa))
#endif

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread (a system call, ~0.7 us on the test VM). */
static inline uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* On the CPU the whole time: reads the clock until ns have passed. */
static inline void spin_ns(uint64_t ns)
{
	uint64_t start = now_ns();

	while (now_ns() - start < ns)
		;
}

/* Off the CPU: nanosleep, resumed after signals. */
static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A handler's calls as its caller measured them. */
struct tstat {
	uint64_t calls;
	uint64_t total_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t oncpu_ns; /* the thread's CPU time during the calls */
};

static inline void tstat_add(struct tstat *st, uint64_t ns, uint64_t oncpu_ns)
{
	st->calls++;
	st->total_ns += ns;
	st->oncpu_ns += oncpu_ns;
	if (!st->min_ns || ns < st->min_ns)
		st->min_ns = ns;
	if (ns > st->max_ns)
		st->max_ns = ns;
}

static inline void tstat_merge(struct tstat *into, const struct tstat *from)
{
	into->calls += from->calls;
	into->total_ns += from->total_ns;
	into->oncpu_ns += from->oncpu_ns;
	if (from->min_ns && (!into->min_ns || from->min_ns < into->min_ns))
		into->min_ns = from->min_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

/*
 * Times one call in the caller, as a user would see it (the probes' cost
 * included): the wall clock, and the thread's CPU clock just outside it.
 * The value of TIMED() is the wall time in ns.
 */
#define TIMED(st, call)                                                      \
	({                                                                   \
		uint64_t c0_ = thread_cpu_ns(), t0_ = now_ns(), d_;          \
		call;                                                        \
		d_ = now_ns() - t0_;                                         \
		tstat_add(&(st), d_, thread_cpu_ns() - c0_);                 \
		d_;                                                          \
	})

/* Parses a non-negative decimal option value or exits 2. */
static inline uint64_t arg_u64(const char *s, char opt)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "-%c %s: expected a non-negative integer\n", opt, s);
		exit(2);
	}
	return (uint64_t)v;
}

/*
 * The start handshake (-w): say "ready PID" on stdout, then wait for one byte
 * on stdin, so that the test can attach the recorder before any handler runs.
 * EOF before the byte means the test gave up: exit without running.
 */
static inline void target_wait_start(bool wait)
{
	char c;

	if (!wait)
		return;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (read(STDIN_FILENO, &c, 1) != 1)
		exit(3);
}

/* Linger (-l): after the report, stay alive until a byte or EOF on stdin. */
static inline void target_linger(bool linger)
{
	char c;

	if (!linger)
		return;
	while (read(STDIN_FILENO, &c, 1) < 0 && errno == EINTR)
		;
}

/*
 * The report: one JSON line on stdout,
 *   {"target": NAME, "pid": PID, "handlers": {H: {"calls", "total_ns",
 *    "min_ns", "max_ns", "oncpu_ns"}, ...}, ...extra keys}
 * written with json_begin(), json_handlers(), json_u64()... json_end().
 */
static inline void json_begin(const char *target)
{
	printf("{\"target\":\"%s\",\"pid\":%d", target, (int)getpid());
}

static inline void json_tstat(const char *name, const struct tstat *st)
{
	printf("\"%s\":{\"calls\":%" PRIu64 ",\"total_ns\":%" PRIu64 ",\"min_ns\":%" PRIu64
	       ",\"max_ns\":%" PRIu64 ",\"oncpu_ns\":%" PRIu64 "}",
	       name, st->calls, st->total_ns, st->min_ns, st->max_ns, st->oncpu_ns);
}

/* "key": {name[0]: stats[0], ...} */
static inline void json_tstats(const char *key, const char *const *names,
			       const struct tstat *stats, int n)
{
	printf(",\"%s\":{", key);
	for (int i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_tstat(names[i], &stats[i]);
	}
	putchar('}');
}

static inline void json_u64(const char *key, uint64_t v)
{
	printf(",\"%s\":%" PRIu64, key, v);
}

static inline void json_end(void)
{
	printf("}\n");
	fflush(stdout);
}

#endif /* FLOWPROF_TEST_TARGET_H */
