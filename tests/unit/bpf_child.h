/* SPDX-License-Identifier: MIT */
/*
 * For the unit tests that attach real BPF programs (test_attach.c,
 * test_collect.c): a child process forked from the test binary, driven
 * through a pipe, that calls handler functions of the test binary itself
 * and counts and times every call on its own clock, in memory shared with
 * the parent. That record is the tests' ground truth.
 *
 *   ut_req:   ut_parse(), then K times ut_leaf()
 *   ut_parse: ut_leaf() once
 *   ut_leaf:  spins LEAF_NS on the CPU
 *   ut_hold:  blocks until the parent releases it (calls in flight)
 *   ut_cls_nop5, ut_cls_push: empty, starting with a 5-byte nop and a push
 *   ut_refused: starts with int3, which the kernel will not probe (never called)
 *
 * Each C handler times its own body (inner) and its caller times the call
 * (outer): a probe's measured window lies between the two. Header-only:
 * each test_*.c is linked on its own.
 */
#ifndef FLOWPROF_TEST_BPF_CHILD_H
#define FLOWPROF_TEST_BPF_CHILD_H

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/attach.h"
#include "flowfile/flowfile.h"
#include "probe/probe.h"

enum { UT_REQ, UT_PARSE, UT_LEAF, UT_HOLD, UT_NH };

struct ut_truth {
	uint64_t calls, inner_ns, outer_ns, inner_min, outer_max;
};

/*
 * The least a handler's recorded total may be: the body's own clock, less
 * the waits inside probes flowprof took out of its calls (the body's clock
 * holds its children's probes and so their waits; a leaf's holds none).
 */
static inline uint64_t ut_least_total(uint64_t inner_ns, uint64_t probe_wait_ns)
{
	return inner_ns > probe_wait_ns ? inner_ns - probe_wait_ns : 0;
}

/* One page shared by a child and the parent: the child writes, the parent reads. */
struct ut_shared {
	struct ut_truth h[UT_NH];
	uint64_t cls_calls;	/* of each of ut_cls_nop5 and ut_cls_push */
	uint64_t loops;		/* UT_LOOP: requests made so far */
	int stop;		/* UT_LOOP: set by the parent */
	int held;		/* threads inside ut_hold */
	uint64_t cpu_ns;	/* the child's CPU time when it last answered */
	int k;			/* leaves per request */
	uint64_t leaf_ns;
};

enum ut_op { UT_RUN = 1, UT_LOOP, UT_HOLD_THREADS, UT_RELEASE, UT_EXIT_HELD, UT_QUIT };

struct ut_cmd {
	int op;
	int n_req;	/* UT_RUN: requests per thread */
	int n_out;	/* UT_RUN: ut_leaf calls outside any request */
	int threads;	/* UT_RUN: 0 = the main thread; UT_HOLD_THREADS: how many */
	int n_cls;	/* UT_RUN: calls of each ut_cls_* */
};

struct ut_child {
	pid_t pid;
	int cmd_fd, ack_fd;
	struct ut_shared *sh;
};

/* ---- in the child ---------------------------------------------------------- */

static struct ut_shared *ut_sh;
static int ut_hold_fd[2];

static uint64_t ut_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void ut_min(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while ((!old || v < old) &&
	       !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void ut_max(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > old &&
	       !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The body's end: one call of h, its own time since t0. */
static void ut_inner(int h, uint64_t t0)
{
	uint64_t d = ut_now() - t0;

	__atomic_fetch_add(&ut_sh->h[h].calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ut_sh->h[h].inner_ns, d, __ATOMIC_RELAXED);
	ut_min(&ut_sh->h[h].inner_min, d);
}

/* A call of h timed by its caller. */
#define UT_TIMED(hid, call)                                                        \
	do {                                                                       \
		uint64_t t0_ = ut_now(), d_;                                       \
		call;                                                              \
		d_ = ut_now() - t0_;                                               \
		__atomic_fetch_add(&ut_sh->h[hid].outer_ns, d_, __ATOMIC_RELAXED); \
		ut_max(&ut_sh->h[hid].outer_max, d_);                              \
	} while (0)

/* The handlers: global symbols, never inlined, cloned or merged. */
void ut_leaf(void);
void ut_parse(void);
void ut_req(void);
void ut_hold(void);
void ut_cls_nop5(void);
void ut_cls_push(void);
void ut_refused(void);

__attribute__((noipa, used)) void ut_leaf(void)
{
	uint64_t t0 = ut_now();

	while (ut_now() - t0 < ut_sh->leaf_ns)
		;
	ut_inner(UT_LEAF, t0);
}

__attribute__((noipa, used)) void ut_parse(void)
{
	uint64_t t0 = ut_now();

	UT_TIMED(UT_LEAF, ut_leaf());
	ut_inner(UT_PARSE, t0);
}

__attribute__((noipa, used)) void ut_req(void)
{
	uint64_t t0 = ut_now();

	UT_TIMED(UT_PARSE, ut_parse());
	for (int i = 0; i < ut_sh->k; i++)
		UT_TIMED(UT_LEAF, ut_leaf());
	ut_inner(UT_REQ, t0);
}

__attribute__((noipa, used)) void ut_hold(void)
{
	uint64_t t0 = ut_now();
	char c;

	__atomic_fetch_add(&ut_sh->held, 1, __ATOMIC_SEQ_CST);
	if (read(ut_hold_fd[0], &c, 1) != 1)
		_exit(3);
	ut_inner(UT_HOLD, t0);
}

/* The first instruction decides the probe site's class (probe/site_class.h). */
__asm__(".text\n"
	".globl ut_cls_nop5\n.type ut_cls_nop5,@function\n.p2align 4\nut_cls_nop5:\n"
	"\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tret\n.size ut_cls_nop5, .-ut_cls_nop5\n"
	".globl ut_cls_push\n.type ut_cls_push,@function\n.p2align 4\nut_cls_push:\n"
	"\tpush %rbp\n\tpop %rbp\n\tret\n.size ut_cls_push, .-ut_cls_push\n"
	".globl ut_refused\n.type ut_refused,@function\n.p2align 4\nut_refused:\n"
	"\tint3\n\tret\n.size ut_refused, .-ut_refused\n");

static pthread_barrier_t ut_barrier;

static void ut_requests(int n)
{
	for (int i = 0; i < n; i++)
		UT_TIMED(UT_REQ, ut_req());
}

static void *ut_worker(void *arg)
{
	ut_requests((int)(intptr_t)arg);
	/* every worker is live (has run a handler, not exited) at once */
	pthread_barrier_wait(&ut_barrier);
	return NULL;
}

static void *ut_holder(void *arg)
{
	(void)arg;
	UT_TIMED(UT_HOLD, ut_hold());
	return NULL;
}

static void ut_start_threads(pthread_t *th, int n, void *(*fn)(void *), void *arg)
{
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, fn, arg))
			_exit(4);
}

static __attribute__((noreturn)) void ut_child_main(int cmd_fd, int ack_fd)
{
	pthread_t th[64];
	int n_held = 0;
	struct ut_cmd c;

	while (read(cmd_fd, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
		struct timespec ts;

		switch (c.op) {
		case UT_RUN:
			for (int i = 0; i < c.n_out; i++)
				UT_TIMED(UT_LEAF, ut_leaf());
			for (int i = 0; i < c.n_cls; i++) {
				ut_cls_nop5();
				ut_cls_push();
				ut_sh->cls_calls++;
			}
			if (!c.threads) {
				ut_requests(c.n_req);
				break;
			}
			pthread_barrier_init(&ut_barrier, NULL, (unsigned)c.threads);
			ut_start_threads(th, c.threads, ut_worker, (void *)(intptr_t)c.n_req);
			for (int i = 0; i < c.threads; i++)
				pthread_join(th[i], NULL);
			pthread_barrier_destroy(&ut_barrier);
			break;
		case UT_LOOP:
			while (!__atomic_load_n(&ut_sh->stop, __ATOMIC_SEQ_CST)) {
				UT_TIMED(UT_REQ, ut_req());
				__atomic_fetch_add(&ut_sh->loops, 1, __ATOMIC_SEQ_CST);
			}
			break;
		case UT_HOLD_THREADS:
			if (pipe(ut_hold_fd))
				_exit(5);
			n_held = c.threads;
			ut_start_threads(th, n_held, ut_holder, NULL);
			while (__atomic_load_n(&ut_sh->held, __ATOMIC_SEQ_CST) < n_held)
				usleep(1000);
			break;
		case UT_RELEASE:
			for (int i = 0; i < n_held; i++)
				if (write(ut_hold_fd[1], "x", 1) != 1)
					_exit(6);
			for (int i = 0; i < n_held; i++)
				pthread_join(th[i], NULL);
			close(ut_hold_fd[0]);
			close(ut_hold_fd[1]);
			n_held = 0;
			break;
		case UT_EXIT_HELD: /* the held threads end inside ut_hold */
		case UT_QUIT:
			_exit(0);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		ut_sh->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		if (write(ack_fd, "k", 1) != 1)
			_exit(7);
	}
	_exit(0); /* the parent is gone */
}

/* ---- in the parent ---------------------------------------------------------- */

#define UT_MAX_CHILDREN 8
static struct ut_child *ut_children[UT_MAX_CHILDREN];

/* Forks a child that waits for commands: 0, or -1. */
static __attribute__((unused)) int ut_child_spawn(struct ut_child *c, int k, uint64_t leaf_ns)
{
	int cmd[2], ack[2];

	memset(c, 0, sizeof(*c));
	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->sh == MAP_FAILED || pipe(cmd) || pipe(ack))
		return -1;
	c->sh->k = k;
	c->sh->leaf_ns = leaf_ns;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		/* only its two pipes: a BPF link the parent holds must go when the
		 * parent closes it */
		if (dup2(cmd[0], 100) < 0 || dup2(ack[1], 101) < 0)
			_exit(8);
		close_range(3, 99, 0);
		close_range(102, ~0U, 0);
		ut_sh = c->sh;
		ut_child_main(100, 101);
	}
	close(cmd[0]);
	close(ack[1]);
	c->cmd_fd = cmd[1];
	c->ack_fd = ack[0];
	for (int i = 0; i < UT_MAX_CHILDREN; i++)
		if (!ut_children[i]) {
			ut_children[i] = c;
			break;
		}
	return 0;
}

static __attribute__((unused)) int ut_child_send(struct ut_child *c, int op, int n_req, int n_out,
						 int threads, int n_cls)
{
	struct ut_cmd cmd = { op, n_req, n_out, threads, n_cls };

	return write(c->cmd_fd, &cmd, sizeof(cmd)) == (ssize_t)sizeof(cmd) ? 0 : -1;
}

/* The child's answer to the last command: 0, or -1 after two minutes. */
static __attribute__((unused)) int ut_child_wait(struct ut_child *c)
{
	struct pollfd p = { .fd = c->ack_fd, .events = POLLIN };
	char b;

	if (poll(&p, 1, 120000) != 1 || read(c->ack_fd, &b, 1) != 1)
		return -1;
	return 0;
}

static __attribute__((unused)) int ut_child_cmd(struct ut_child *c, int op, int n_req, int n_out,
						int threads, int n_cls)
{
	return ut_child_send(c, op, n_req, n_out, threads, n_cls) ? -1 : ut_child_wait(c);
}

/* Reaps a child that was told to end (UT_QUIT, UT_EXIT_HELD): its wait
 * status, or -1; its resource usage in *ru when ru is not NULL. */
static __attribute__((unused)) int ut_child_reap(struct ut_child *c, struct rusage *ru)
{
	struct rusage r;
	int st;

	if (c->pid <= 0 || wait4(c->pid, &st, 0, ru ? ru : &r) != c->pid)
		return -1;
	c->pid = 0;
	return st;
}

/* Ends whatever is left of the children (after a failed assertion too). */
static __attribute__((unused)) void ut_children_cleanup(void)
{
	for (int i = 0; i < UT_MAX_CHILDREN; i++) {
		struct ut_child *c = ut_children[i];

		if (!c)
			continue;
		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
		}
		if (c->cmd_fd > 0)
			close(c->cmd_fd);
		if (c->ack_fd > 0)
			close(c->ack_fd);
		if (c->sh && c->sh != MAP_FAILED)
			munmap(c->sh, sizeof(*c->sh));
		memset(c, 0, sizeof(*c));
		ut_children[i] = NULL;
	}
}

/* The handlers of the children as a flow file: bundle "ut" over pids, the
 * flow "request" (entry ut.req; ut.req -> ut.leaf left undeclared) and the
 * flow "parsing" (entry ut.parse); with extra, more handlers ("name: symbol"
 * lines). */
static __attribute__((unused)) void ut_yaml(char *buf, size_t len, const pid_t *pids, int n,
					    const char *extra)
{
	size_t o = (size_t)snprintf(buf, len, "bundles:\n  ut:\n    pid: [");

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? ", " : "", (int)pids[i]);
	snprintf(buf + o, len - o,
		 "]\n    handlers:\n      req: ut_req\n      parse: ut_parse\n"
		 "      leaf: ut_leaf\n      hold: ut_hold\n%s"
		 "flows:\n  request:\n    entry: ut.req\n    calls:\n"
		 "      - ut.req -> ut.parse\n      - ut.parse -> ut.leaf\n"
		 "  parsing:\n    entry: ut.parse\n    calls:\n      - ut.parse -> ut.leaf\n",
		 extra ? extra : "");
}

/* Flow file, resolution and recorder, freed together. */
struct ut_rec {
	struct flowfile ff;
	struct resolution res;
	struct recorder *rec;
	bool parsed, resolved;
	char err[2048];
};

/* Parses and resolves: 0, or -1 with err set. */
static __attribute__((unused)) int ut_rec_resolve(struct ut_rec *r, const char *yaml)
{
	struct resolve_opts ro = { 0 };

	if (flowfile_parse("ut.yaml", yaml, strlen(yaml), &r->ff, r->err, sizeof(r->err)))
		return -1;
	r->parsed = true;
	if (resolve_flowfile(&r->ff, &ro, &r->res, r->err, sizeof(r->err)))
		return -1;
	r->resolved = true;
	return 0;
}

static __attribute__((unused)) int ut_rec_start(struct ut_rec *r, enum attach_mode mode,
						enum exits_choice exits)
{
	struct attach_opts o = { .mode = mode, .exits = exits };

	return recorder_start(&r->rec, &r->ff, &r->res, &o, r->err, sizeof(r->err));
}

static __attribute__((unused)) void ut_rec_free(struct ut_rec *r)
{
	recorder_free(r->rec);
	if (r->resolved)
		resolution_free(&r->res);
	if (r->parsed)
		flowfile_free(&r->ff);
	memset(r, 0, sizeof(*r));
}

static __attribute__((unused)) int ut_hid(const struct ut_rec *r, const char *id)
{
	return flowfile_handler_index(&r->ff, id);
}

/* File descriptors of this process that hold BPF objects or perf events:
 * while one is open, a program or a probe may still be in place. */
static __attribute__((unused)) int ut_bpf_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char link[256];
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);

		if (len <= 0)
			continue;
		link[len] = '\0';
		if (!strncmp(link, "anon_inode:bpf", 14) || !strncmp(link, "anon_inode:btf", 14) ||
		    !strcmp(link, "anon_inode:[perf_event]"))
			n++;
	}
	closedir(d);
	return n;
}

/* What the code under test writes on stderr between begin and end (also
 * copied to the real stderr, for the log). */
struct ut_capture {
	int saved;
	FILE *f;
};

static __attribute__((unused)) void ut_capture_begin(struct ut_capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	c->saved = dup(STDERR_FILENO);
	if (c->f)
		dup2(fileno(c->f), STDERR_FILENO);
}

/* The text (malloc'ed, "" when nothing). */
static __attribute__((unused)) char *ut_capture_end(struct ut_capture *c)
{
	char *buf = calloc(1, 65536);
	size_t n = 0;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	if (c->f) {
		rewind(c->f);
		n = fread(buf, 1, 65535, c->f);
		fclose(c->f);
	}
	buf[n] = '\0';
	fputs(buf, stderr);
	return buf;
}

static __attribute__((unused)) bool ut_is_root(void)
{
	return geteuid() == 0;
}

#endif
