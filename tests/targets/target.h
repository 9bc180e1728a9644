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
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
#define HANDLER extern "C" __attribute__((noinline, noipa))
#else
#define HANDLER __attribute__((noinline, noipa))
#endif

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of the calling thread (a system call, ~0.7 us on the test VM). */
static inline uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

#ifndef RUSAGE_THREAD
#define RUSAGE_THREAD 1 /* Linux's; <sys/resource.h> names it with _GNU_SOURCE */
#endif

/* The calling thread's context switches so far (getrusage, a system call):
 * voluntary (it slept or blocked) and involuntary (it was preempted). */
struct switches {
	long vol, invol;
};

static inline struct switches thread_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return (struct switches){ 0, 0 };
	return (struct switches){ ru.ru_nvcsw, ru.ru_nivcsw };
}

/* CPU time of the whole process, its exited threads included. */
static inline uint64_t process_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* On the CPU the whole time: reads the clock until ns have passed. */
static inline void spin_ns(uint64_t ns)
{
	uint64_t start = now_ns();

	while (now_ns() - start < ns)
		;
}

/* A fixed amount of work: spins until the thread's own CPU time has grown
 * by ns, however long it is preempted or its cgroup throttled meanwhile
 * (spin_ns would finish a throttled spin for free). */
static inline void spin_cpu_ns(uint64_t ns)
{
	uint64_t start = thread_cpu_ns();

	while (thread_cpu_ns() - start < ns)
		;
}

/* Off the CPU: nanosleep, resumed after signals. */
static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * A handler's calls as its caller measured them (calls ... oncpu_ns, the
 * probes' cost included), and, in truth, as they would take without the
 * probes: see TIMED() and BODY().
 */
#define TRUTH_VOL 8 /* voluntary switches in a call, counted up to TRUTH_VOL - 1 */
#define TRUTH_EACH 512 /* calls whose probes' time is kept one by one */

struct truth {
	uint64_t calls;
	uint64_t total_ns;	/* inclusive, without any probe's time */
	uint64_t self_ns;	/* without nested timed calls and the probes */
	uint64_t oncpu_ns;	/* the thread's CPU time, without the probes' */
	uint64_t min_ns, max_ns;
	uint64_t probe_ns;	/* what the probes added, the call's own and nested ones */
	/* how much oncpu_ns may be low by (see truth_pop): preempted calls'
	 * probe time, and by the voluntary switches a call made (the calls with
	 * the fewest made none beyond their body's) */
	uint64_t slack_preempted_ns;
	uint64_t slack_by_vol_ns[TRUTH_VOL];
	uint64_t vol_min_plus1;	/* the fewest voluntary switches in a call, + 1 (0: none yet) */
	/* the first TRUTH_EACH calls' probe time, one by one: a profiler
	 * subtracts a probe's typical cost, so a call whose probes ran long
	 * with no switch it could see (an interrupt, the host stopping the
	 * vCPU, a lock in the kernel's probe handling) is that much longer to
	 * it, in wall-clock and CPU time alike, and a test must know */
	uint32_t probe_each[TRUTH_EACH];
	uint32_t n_each;
};

struct tstat {
	uint64_t calls;
	uint64_t total_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t oncpu_ns; /* the thread's CPU time during the calls */
	struct truth truth;
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
	into->truth.calls += from->truth.calls;
	into->truth.total_ns += from->truth.total_ns;
	into->truth.self_ns += from->truth.self_ns;
	into->truth.oncpu_ns += from->truth.oncpu_ns;
	into->truth.probe_ns += from->truth.probe_ns;
	into->truth.slack_preempted_ns += from->truth.slack_preempted_ns;
	for (int v = 0; v < TRUTH_VOL; v++)
		into->truth.slack_by_vol_ns[v] += from->truth.slack_by_vol_ns[v];
	if (from->truth.vol_min_plus1 &&
	    (!into->truth.vol_min_plus1 || from->truth.vol_min_plus1 < into->truth.vol_min_plus1))
		into->truth.vol_min_plus1 = from->truth.vol_min_plus1;
	for (uint32_t i = 0; i < from->truth.n_each && into->truth.n_each < TRUTH_EACH; i++)
		into->truth.probe_each[into->truth.n_each++] = from->truth.probe_each[i];
	if (from->truth.min_ns && (!into->truth.min_ns || from->truth.min_ns < into->truth.min_ns))
		into->truth.min_ns = from->truth.min_ns;
	if (from->truth.max_ns > into->truth.max_ns)
		into->truth.max_ns = from->truth.max_ns;
}

/*
 * The ground truth (tests/targets/README.md). A timed call is measured
 * twice by the target's own clock: outside, by its caller (TIMED), and
 * inside, from the first to the last statement of its body (BODY). What
 * lies between the two is the call's instrumentation (the clock reads, the
 * call and return) and its probes. The instrumentation alone is measured
 * once on an unprobed function (truth_calibrate), so each call's probes cost
 * outer - inner - instrumentation. Then, per call:
 *   total  = inner - the probes of every timed call nested in it
 *   self   = inner - the inner time and the probes of its direct children
 *   oncpu  = the CPU time around the call - its probes' time - the
 *            instrumentation's CPU time
 * The probes' time is read off the wall clock, so time off the CPU while
 * they ran (a preemption at their return to user space, where the kernel
 * preempts; a wait in the kernel's probe handling) makes the call's oncpu
 * too low, by up to their time. So a call the thread was preempted in, or
 * that switched voluntarily more often than the calls with the fewest such
 * switches (the body's own: a sleep), adds its probes' time to the slack
 * (truth_oncpu_slack).
 * A shadow stack per thread carries the nested calls' figures up.
 */
struct tframe {
	uint64_t in0, in1;	/* BODY's clock */
	uint64_t kids_inner;	/* direct children: inner time */
	uint64_t kids_probe;	/* direct children: their own probes */
	uint64_t desc_probe;	/* every nested call: its probes */
	bool body;
};

#define TSTACK_DEPTH 128
static __thread struct tframe tstack[TSTACK_DEPTH];
static __thread int tdepth;
static uint64_t truth_instr_ns, truth_instr_cpu_ns;
static __thread uint64_t truth_last_ns; /* the last timed call's truth.total */

static inline void truth_push(void)
{
	if (tdepth < TSTACK_DEPTH)
		memset(&tstack[tdepth], 0, sizeof(tstack[0]));
	tdepth++;
}

static inline uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static inline void truth_pop(struct tstat *st, uint64_t outer, uint64_t outer_cpu,
			     struct switches sw)
{
	struct tframe f;
	struct truth *t = &st->truth;
	uint64_t inner, probe, total;

	tdepth--;
	if (tdepth >= TSTACK_DEPTH)
		return;
	f = tstack[tdepth];
	inner = f.body ? f.in1 - f.in0 : sub0(outer, truth_instr_ns);
	probe = sub0(outer, inner + truth_instr_ns);
	total = sub0(inner, f.desc_probe);
	t->calls++;
	t->total_ns += total;
	t->self_ns += sub0(inner, f.kids_inner + f.kids_probe);
	t->oncpu_ns += sub0(outer_cpu, probe + f.desc_probe + truth_instr_cpu_ns);
	t->probe_ns += probe + f.desc_probe;
	if (t->n_each < TRUTH_EACH)
		t->probe_each[t->n_each++] =
			probe + f.desc_probe > UINT32_MAX ? UINT32_MAX : (uint32_t)(probe + f.desc_probe);
	if (sw.invol > 0) {
		t->slack_preempted_ns += probe + f.desc_probe;
	} else {
		uint64_t v = sw.vol < 0 ? 0 : (uint64_t)sw.vol;

		t->slack_by_vol_ns[v < TRUTH_VOL ? v : TRUTH_VOL - 1] += probe + f.desc_probe;
		if (!t->vol_min_plus1 || v + 1 < t->vol_min_plus1)
			t->vol_min_plus1 = v + 1;
	}
	if (!t->min_ns || total < t->min_ns)
		t->min_ns = total;
	if (total > t->max_ns)
		t->max_ns = total;
	truth_last_ns = total;
	if (tdepth > 0 && tdepth <= TSTACK_DEPTH) {
		struct tframe *p = &tstack[tdepth - 1];

		p->kids_inner += inner;
		p->kids_probe += probe;
		p->desc_probe += probe + f.desc_probe;
	}
}

/*
 * Times one call in the caller, as a user would see it (the probes' cost
 * included): the wall clock, and the thread's CPU clock just outside it.
 * The value of TIMED() is the wall time in ns; truth_last_ns is the call's
 * time without probes.
 */
#define TIMED(st, call)                                                      \
	({                                                                   \
		struct switches s0_ = thread_switches();                     \
		uint64_t c0_ = thread_cpu_ns(), t0_ = now_ns(), d_;          \
		truth_push();                                                \
		call;                                                        \
		d_ = now_ns() - t0_;                                         \
		{                                                            \
			uint64_t dc_ = thread_cpu_ns() - c0_;                \
			struct switches s1_ = thread_switches();             \
			truth_pop(&(st), d_, dc_, (struct switches){         \
				  s1_.vol - s0_.vol, s1_.invol - s0_.invol });\
			tstat_add(&(st), d_, dc_);                           \
		}                                                            \
		d_;                                                          \
	})

/* A handler's body, timed from inside (see above). */
#define BODY(stmt)                                                           \
	do {                                                                 \
		struct tframe *f_ = tdepth > 0 && tdepth <= TSTACK_DEPTH     \
					    ? &tstack[tdepth - 1] : NULL;    \
		uint64_t b0_ = now_ns();                                     \
		stmt;                                                        \
		if (f_) {                                                    \
			f_->in1 = now_ns();                                  \
			f_->in0 = b0_;                                       \
			f_->body = true;                                     \
		}                                                            \
	} while (0)

/* An unprobed function shaped as a handler, for truth_calibrate(). */
__attribute__((noinline, noipa)) static void truth_empty(void)
{
	BODY(;);
}

static inline int cmp_u64_(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The instrumentation's own cost (median of many unprobed calls): call
 * before the probes can matter, from the thread that times calls. */
static inline void truth_calibrate(void)
{
	enum { N = 2001 };
	static uint64_t w[N], c[N];
	struct tstat scratch;

	for (int i = 0; i < N; i++) {
		uint64_t c0 = thread_cpu_ns(), t0 = now_ns(), d, dc, in;

		truth_push();
		truth_empty();
		d = now_ns() - t0;
		dc = thread_cpu_ns() - c0;
		in = tstack[tdepth - 1].in1 - tstack[tdepth - 1].in0;
		tdepth--;
		w[i] = d > in ? d - in : 0;
		c[i] = dc;
	}
	qsort(w, N, sizeof(w[0]), cmp_u64_);
	qsort(c, N, sizeof(c[0]), cmp_u64_);
	truth_instr_ns = w[N / 2];
	truth_instr_cpu_ns = c[N / 2];
	memset(&scratch, 0, sizeof(scratch));
	(void)scratch;
}

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

/* How much a handler's oncpu_ns may be low by (see truth_pop). */
static inline uint64_t truth_oncpu_slack(const struct truth *t)
{
	uint64_t ns = t->slack_preempted_ns;

	for (uint64_t v = t->vol_min_plus1; v && v < TRUTH_VOL; v++)
		ns += t->slack_by_vol_ns[v];
	return ns;
}

static inline void json_tstat(const char *name, const struct tstat *st)
{
	const struct truth *t = &st->truth;

	printf("\"%s\":{\"calls\":%" PRIu64 ",\"total_ns\":%" PRIu64 ",\"min_ns\":%" PRIu64
	       ",\"max_ns\":%" PRIu64 ",\"oncpu_ns\":%" PRIu64,
	       name, st->calls, st->total_ns, st->min_ns, st->max_ns, st->oncpu_ns);
	printf(",\"truth\":{\"calls\":%" PRIu64 ",\"total_ns\":%" PRIu64 ",\"self_ns\":%" PRIu64
	       ",\"oncpu_ns\":%" PRIu64 ",\"min_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
	       ",\"probe_ns\":%" PRIu64 ",\"oncpu_slack_ns\":%" PRIu64
	       ",\"instrumentation_ns\":%" PRIu64 ",\"probe_ns_each\":[",
	       t->calls, t->total_ns, t->self_ns, t->oncpu_ns, t->min_ns, t->max_ns, t->probe_ns,
	       truth_oncpu_slack(t), truth_instr_ns);
	for (uint32_t i = 0; i < t->n_each; i++)
		printf("%s%" PRIu32, i ? "," : "", t->probe_each[i]);
	printf("]}}");
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
