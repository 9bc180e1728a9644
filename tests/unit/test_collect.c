// SPDX-License-Identifier: MIT
/*
 * The collect stage (user/collect/collect.h, live.h) on real processes:
 * children forked from this binary call its handler functions
 * (bpf_child.h) under real probes, and keep their own record of every
 * call. collect_snapshot() must give back that record: each handler's
 * calls exactly, durations between the child's inner and outer clocks,
 * the edges and flow visits its call structure implies, each process and
 * thread, the pool past --max-instances, calls in flight and calls a
 * process ended inside, CPU time against the child's own clock. Then the
 * live facade: start, tick (calibration rounds), windows whose deltas add
 * up to the child's counts, detach (counts stop), stop, and its refusals.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"
#include "bpf_child.h"
#include "collect/collect.h"
#include "snapshot/snapshot.h"

#define LEAF_NS 20000
#define K 2

static struct ut_rec R;
static struct ut_child C[3];
static struct snapshot S, S2;

static int teardown(void **state)
{
	(void)state;
	snapshot_free(&S);
	snapshot_free(&S2);
	memset(&S, 0, sizeof(S));
	memset(&S2, 0, sizeof(S2));
	ut_rec_free(&R);
	ut_children_cleanup();
	return 0;
}

/* Children 0..n-1, a flow file over them, resolved. */
static void start_children(int n, uint64_t leaf_ns, const char *extra)
{
	pid_t pids[3];
	char yaml[2048];

	if (!ut_is_root())
		skip();
	for (int i = 0; i < n; i++) {
		assert_int_equal(ut_child_spawn(&C[i], K, leaf_ns), 0);
		pids[i] = C[i].pid;
	}
	ut_yaml(yaml, sizeof(yaml), pids, n, extra);
	assert_int_equal(ut_rec_resolve(&R, yaml), 0);
}

static void take(struct snapshot *s)
{
	snapshot_free(s);
	memset(s, 0, sizeof(*s));
	assert_int_equal(collect_snapshot(R.rec, &R.ff, &R.res, s), 0);
}

static const char *const ids[UT_NH] = { "ut.req", "ut.parse", "ut.leaf", "ut.hold" };

/* A handler's calls against the child's record (truth: calls and clocks). */
static void assert_handler(const struct snap_handler *h, const struct ut_truth *t)
{
	uint64_t hist = 0;

	assert_non_null(h);
	for (int b = 0; b < HIST_BUCKETS; b++)
		hist += h->hist[b];
	assert_int_equal(h->calls, t->calls);
	assert_int_equal(h->entries, t->calls);
	assert_int_equal(h->incomplete, 0);
	assert_int_equal(hist, t->calls);
	if (!t->calls)
		return;
	assert_in_range(h->total_ns, ut_least_total(t->inner_ns, h->probe_wait_ns), t->outer_ns);
	assert_true(h->min_ns + h->probe_wait_ns >= t->inner_min && h->max_ns <= t->outer_max);
	assert_true(h->self_ns <= h->total_ns && h->oncpu_ns <= h->total_ns);
}

static const struct snap_edge *edge(const struct snapshot *s, const char *from, const char *to)
{
	for (int i = 0; i < s->n_edges; i++)
		if (!strcmp(s->edges[i].from, from) && !strcmp(s->edges[i].to, to))
			return &s->edges[i];
	return NULL;
}

static uint64_t visits(const struct snapshot *s, const char *flow, const char *handler)
{
	const struct snap_flow *f = snapshot_flow(s, flow);

	assert_non_null(f);
	for (int i = 0; i < f->n_visits; i++)
		if (!strcmp(f->visits[i].handler, handler))
			return f->visits[i].calls;
	return 0;
}

static const struct snap_instance_stats *instance(const struct snap_handler *h, int pid)
{
	for (int i = 0; i < h->n_instances; i++)
		if (h->instances[i].pid == pid)
			return &h->instances[i];
	return NULL;
}

static void test_snapshot_matches_target(void **state)
{
	const int n = 40, x = 9, cls = 11;
	struct handler_stats *hs = calloc(1, sizeof(*hs));
	const struct snap_handler *req, *parse, *leaf, *c;
	uint64_t inflight[8];

	(void)state;
	start_children(1, LEAF_NS, "      cls: \"ut_cls_*\"\n");
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, n, 0, 0, cls), 0);
	take(&S);

	assert_int_equal(S.n_handlers, R.ff.n_handlers);
	for (int h = 0; h < UT_NH; h++) {
		const struct snap_handler *sh = snapshot_handler(&S, ids[h]);
		int hid = ut_hid(&R, ids[h]);

		assert_handler(sh, &C[0].sh->h[h]);
		assert_string_equal(sh->bundle, "ut");
		assert_string_equal(sh->binary, R.res.sites[0].binary);
		assert_int_equal(recorder_read_handler(R.rec, (uint32_t)hid, hs), 0);
		assert_int_equal(hs->calls, sh->calls);
		assert_int_equal(hs->total_ns, sh->total_ns);
		assert_int_equal(handler_site_class(&R.res, hid), SITE_EMULATED); /* push */
		assert_string_equal(sh->entry_site, "push");
		assert_int_equal(sh->oncpu_measured, recorder_info(R.rec)->oncpu);
	}
	req = snapshot_handler(&S, "ut.req");
	parse = snapshot_handler(&S, "ut.parse");
	leaf = snapshot_handler(&S, "ut.leaf");
	assert_string_equal(req->symbol, "ut_req");
	assert_int_equal(req->calls, n);
	assert_int_equal(leaf->calls, n * (K + 1));
	/* nesting: every leaf is inside a request, parse inside req */
	assert_int_equal(req->nested_calls, n * (K + 2));
	assert_int_equal(parse->nested_calls, n);
	assert_int_equal(leaf->nested_calls, 0);
	assert_int_equal(leaf->self_ns, leaf->total_ns);
	assert_int_equal(req->self_ns + parse->self_ns + leaf->total_ns, req->total_ns);
	if (recorder_info(R.rec)->oncpu)
		assert_true(leaf->oncpu_ns > 0);

	/* one glob, two symbols of two classes: the dearer is the handler's */
	c = snapshot_handler(&S, "ut.cls");
	assert_int_equal(c->calls, 2 * cls);
	assert_int_equal(c->entries, 2 * cls);
	assert_non_null(strstr(c->symbol, "ut_cls_nop5"));
	assert_non_null(strstr(c->symbol, "ut_cls_push"));
	assert_int_equal(handler_site_class(&R.res, ut_hid(&R, "ut.cls")), SITE_EMULATED);
	assert_int_equal(c->site_classes, (1u << SITE_NOP5) | (1u << SITE_EMULATED));
	assert_int_equal(handler_site_class(&R.res, R.ff.n_handlers), SITE_UNKNOWN);

	assert_int_equal(S.n_edges, 3);
	assert_int_equal(edge(&S, "ut.req", "ut.parse")->calls, n);
	assert_true(edge(&S, "ut.req", "ut.parse")->declared);
	assert_int_equal(edge(&S, "ut.parse", "ut.leaf")->calls, n);
	assert_int_equal(edge(&S, "ut.req", "ut.leaf")->calls, n * K);
	assert_false(edge(&S, "ut.req", "ut.leaf")->declared);
	assert_int_equal(snapshot_flow(&S, "request")->invocations, n);
	assert_int_equal(visits(&S, "request", "ut.parse"), n);
	assert_int_equal(visits(&S, "request", "ut.leaf"), n * (K + 1));
	assert_int_equal(visits(&S, "request", "ut.req"), 0);
	assert_int_equal(snapshot_flow(&S, "parsing")->invocations, n);
	assert_int_equal(visits(&S, "parsing", "ut.leaf"), n);
	assert_int_equal(snapshot_flow(&S, "parsing")->n_declared, 1);

	assert_int_equal(S.n_bundles, 1);
	assert_int_equal(S.bundles[0].n_pids, 1);
	assert_int_equal(S.bundles[0].pids[0], C[0].pid);
	assert_int_equal(S.bundles[0].pid_threads[0], 1);
	assert_int_equal(S.bundles[0].threads, 1);
	assert_int_equal(req->n_instances, 1);
	assert_int_equal(instance(req, C[0].pid)->calls, n);
	assert_int_equal(instance(req, C[0].pid)->total_ns, req->total_ns);
	assert_string_equal(S.attach_mode, attach_mode_name(recorder_info(R.rec)->mode));
	assert_true(!S.unmatched_returns && !S.depth_overflows && !S.abandoned_frames &&
		    !S.exited_in_call && !S.edges_dropped && !S.instances_dropped &&
		    !S.threads_dropped);
	assert_int_equal(collect_inflight(R.rec, R.ff.n_handlers, inflight), 0);
	for (int h = 0; h < R.ff.n_handlers; h++)
		assert_int_equal(inflight[h], 0);

	/* leaves outside any request: calls, but no edge, no visit */
	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, 0, x, 0, 0), 0);
	take(&S2);
	assert_handler(snapshot_handler(&S2, "ut.leaf"), &C[0].sh->h[UT_LEAF]);
	assert_int_equal(snapshot_handler(&S2, "ut.leaf")->calls, n * (K + 1) + x);
	assert_int_equal(visits(&S2, "request", "ut.leaf"), n * (K + 1));
	assert_int_equal(edge(&S2, "ut.parse", "ut.leaf")->calls, n);
	assert_int_equal(S2.n_edges, 3);
	free(hs);
}

/* Two processes, one of them with four threads that are all live at once. */
static void test_instances_and_threads(void **state)
{
	const int na = 30, nb = 10, t = 4;
	const struct snap_handler *req;
	const struct snap_bundle *b;
	uint64_t sum = 0;

	(void)state;
	start_children(2, LEAF_NS, NULL);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, na, 0, 0, 0), 0);
	assert_int_equal(ut_child_cmd(&C[1], UT_RUN, nb, 0, t, 0), 0);
	take(&S);
	req = snapshot_handler(&S, "ut.req");
	assert_int_equal(req->calls, na + t * nb);
	assert_int_equal(req->n_instances, 2);
	assert_int_equal(instance(req, C[0].pid)->calls, na);
	assert_int_equal(instance(req, C[1].pid)->calls, t * nb);
	for (int h = 0; h < UT_NH; h++) {
		const struct snap_handler *sh = snapshot_handler(&S, ids[h]);
		struct ut_truth both = C[0].sh->h[h];

		both.calls += C[1].sh->h[h].calls;
		both.inner_ns += C[1].sh->h[h].inner_ns;
		both.outer_ns += C[1].sh->h[h].outer_ns;
		both.inner_min = C[1].sh->h[h].inner_min < both.inner_min ? C[1].sh->h[h].inner_min
									     : both.inner_min;
		both.outer_max = C[1].sh->h[h].outer_max > both.outer_max ? C[1].sh->h[h].outer_max
									     : both.outer_max;
		assert_handler(sh, &both);
		sum = 0;
		for (int i = 0; i < sh->n_instances; i++)
			sum += sh->instances[i].total_ns;
		assert_int_equal(sum, sh->total_ns);
	}
	b = snapshot_bundle(&S, "ut");
	assert_int_equal(b->n_pids, 2);
	assert_true(b->pids[0] < b->pids[1]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(b->pid_threads[i], b->pids[i] == C[0].pid ? 1 : t);
	assert_int_equal(b->threads, 1 + t);
	assert_true(b->conc_measured);
	assert_int_equal(b->live_max, t);
	assert_in_range(b->inflight_max, 1, t);
}

/* Past max_instances, processes share the pool, reported as pid 0. */
static void test_instances_past_max_pooled(void **state)
{
	struct attach_opts o = { .mode = ATTACH_AUTO, .max_instances = 2 };
	const struct snap_handler *req;

	(void)state;
	start_children(3, LEAF_NS, NULL);
	assert_int_equal(recorder_start(&R.rec, &R.ff, &R.res, &o, R.err, sizeof(R.err)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ut_child_cmd(&C[i], UT_RUN, 5 + i, 0, 0, 0), 0);
	take(&S);
	req = snapshot_handler(&S, "ut.req");
	assert_int_equal(req->calls, 5 + 6 + 7);
	assert_int_equal(req->n_instances, 3);
	assert_int_equal(instance(req, C[0].pid)->calls, 5);
	assert_int_equal(instance(req, C[1].pid)->calls, 6);
	assert_null(instance(req, C[2].pid));
	assert_int_equal(instance(req, 0)->calls, 7);
	assert_int_equal(S.instances_dropped, 1);
	assert_int_equal(S.bundles[0].n_pids, 3); /* every resolved process */
	assert_int_equal(S.bundles[0].threads, 3);
}

/* Calls in flight, then ended by the process's exit. */
static void test_inflight_and_exit_in_call(void **state)
{
	const int t = 3;
	int hold;
	uint64_t inflight[8];
	const struct snap_handler *h;

	(void)state;
	start_children(1, LEAF_NS, NULL);
	hold = ut_hid(&R, "ut.hold");
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	assert_int_equal(ut_child_cmd(&C[0], UT_HOLD_THREADS, 0, 0, t, 0), 0);
	assert_int_equal(collect_inflight(R.rec, R.ff.n_handlers, inflight), 0);
	for (int i = 0; i < R.ff.n_handlers; i++)
		assert_int_equal(inflight[i], i == hold ? (uint64_t)t : 0);
	take(&S);
	h = snapshot_handler(&S, "ut.hold");
	assert_true(h->entries == (uint64_t)t && h->calls == 0 && h->incomplete == 0);
	/* its process serves its bundle though no call of it has returned yet */
	assert_int_equal(S.bundles[0].n_pids, 1);
	assert_int_equal(S.bundles[0].threads, t);
	assert_int_equal(S.bundles[0].inflight_max, t);

	assert_int_equal(ut_child_send(&C[0], UT_EXIT_HELD, 0, 0, 0, 0), 0);
	assert_int_equal(ut_child_reap(&C[0], NULL), 0);
	if (!recorder_info(R.rec)->feat.raw_tp) {
		print_message("# no raw tracepoints: thread exits are not seen\n");
		return;
	}
	take(&S);
	h = snapshot_handler(&S, "ut.hold");
	assert_true(h->entries == (uint64_t)t && h->calls == 0 && h->incomplete == (uint64_t)t);
	assert_int_equal(S.exited_in_call, t);
	assert_int_equal(recorder_counters(R.rec)[CNT_EXITED_IN_CALL], t);
	assert_int_equal(collect_inflight(R.rec, R.ff.n_handlers, inflight), 0);
	assert_int_equal(inflight[hold], 0);
}

/* A process's CPU time: sampled while it runs, kept once it is gone; exact
 * once given. /proc counts utime and stime in whole clock ticks. */
static void test_cpu_time(void **state)
{
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK), truth, final;
	struct rusage ru;
	pid_t pid;

	(void)state;
	start_children(1, 100000, NULL);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, 2, 1000, 0, 0), 0);
	truth = (double)C[0].sh->cpu_ns / 1e9;
	pid = C[0].pid;
	collect_cpu_sample(R.rec);
	assert_int_equal(ut_child_send(&C[0], UT_QUIT, 0, 0, 0, 0), 0);
	assert_int_equal(ut_child_reap(&C[0], &ru), 0);
	final = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	print_message("# child's CPU: %.4f s when sampled, %.4f s at exit\n", truth, final);
	assert_true(truth >= 0.1); /* 1000 leaves of 100 us */
	take(&S);
	assert_true(S.bundles[0].cpu_measured);
	print_message("# sampled: %.4f s\n", S.bundles[0].cpu_s);
	/* a sample taken while it ran, or its CPU time as the kernel freed it
	 * (ns): rusage truncates user and system time to a microsecond each */
	assert_true(S.bundles[0].cpu_s >= truth - 2 * tick && S.bundles[0].cpu_s <= final + 2e-6);
	if (recorder_info(R.rec)->exit_cpu) /* then to its end, not to the last sample */
		assert_true(S.bundles[0].cpu_s >= final);
	assert_true(S.bundles[0].cpus > 0 && S.bundles[0].cpus <= sysconf(_SC_NPROCESSORS_ONLN));
	assert_non_null(S.bundles[0].cpus_source);
	collect_cpu_final(pid, final);
	take(&S2);
	assert_true(S2.bundles[0].cpu_s == final);
}

/* ---- the live facade ------------------------------------------------------- */

static char dir[64], flow_path[128];

static void write_flow(const char *extra)
{
	char yaml[2048];
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/flowprof-test-XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(flow_path, sizeof(flow_path), "%s/ut.yaml", dir);
	ut_yaml(yaml, sizeof(yaml), &C[0].pid, 1, extra);
	f = fopen(flow_path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
}

static int live_teardown(void **state)
{
	if (dir[0]) {
		unlink(flow_path);
		rmdir(dir);
		dir[0] = '\0';
	}
	return teardown(state);
}

/* a + b == c, for every counter and sum of every handler, edge, visit and process. */
static void assert_adds_up(const struct snapshot *a, const struct snapshot *b,
			   const struct snapshot *c)
{
	for (int i = 0; i < c->n_handlers; i++) {
		const struct snap_handler *x = &a->handlers[i], *y = &b->handlers[i], *z = &c->handlers[i];

		assert_string_equal(x->id, z->id);
		assert_int_equal(x->calls + y->calls, z->calls);
		assert_int_equal(x->entries + y->entries, z->entries);
		assert_int_equal(x->total_ns + y->total_ns, z->total_ns);
		assert_int_equal(x->self_ns + y->self_ns, z->self_ns);
		assert_int_equal(x->oncpu_ns + y->oncpu_ns, z->oncpu_ns);
		assert_int_equal(x->nested_calls + y->nested_calls, z->nested_calls);
		assert_int_equal(x->probe_ns + y->probe_ns, z->probe_ns);
		for (int k = 0; k < HIST_BUCKETS; k++)
			assert_int_equal(x->hist[k] + y->hist[k], z->hist[k]);
		for (int k = 0; k < z->n_instances; k++) {
			const struct snap_instance_stats *p = instance(x, z->instances[k].pid),
							 *q = instance(y, z->instances[k].pid);

			assert_int_equal((p ? p->calls : 0) + (q ? q->calls : 0), z->instances[k].calls);
		}
	}
	for (int i = 0; i < c->n_edges; i++) {
		const struct snap_edge *p = edge(a, c->edges[i].from, c->edges[i].to),
				       *q = edge(b, c->edges[i].from, c->edges[i].to);

		assert_int_equal((p ? p->calls : 0) + (q ? q->calls : 0), c->edges[i].calls);
	}
	assert_int_equal(visits(a, "request", "ut.leaf") + visits(b, "request", "ut.leaf"),
			 visits(c, "request", "ut.leaf"));
}

static void test_live_windows_add_up(void **state)
{
	struct live L;
	struct live_opts o = { .cmd = "test", .mode = ATTACH_AUTO, .exits = EXITS_AUTO };
	struct snapshot w1 = { 0 }, w2 = { 0 }, w3 = { 0 }, r1 = { 0 }, r2 = { 0 }, d = { 0 },
			dr = { 0 };
	struct ut_truth t1[UT_NH], t2[UT_NH];
	int fds = ut_bpf_fds(), rounds;
	char err[256];

	(void)state;
	if (!ut_is_root())
		skip();
	assert_int_equal(ut_child_spawn(&C[0], K, LEAF_NS), 0);
	write_flow(NULL);
	o.flow_path = flow_path;
	assert_int_equal(live_start(&L, &o), 0);
	assert_int_equal(L.processes, 1);
	assert_ptr_equal(live_info(&L), recorder_info(L.rec));
	assert_true(live_info(&L)->n_probes > 0);

	/* a calibration round per tick for the first rounds, then one per period */
	while ((rounds = live_info(&L)->calib_rounds) < LIVE_CALIB_EARLY_ROUNDS) {
		live_tick(&L);
		assert_int_equal(live_info(&L)->calib_rounds, rounds + 1);
	}
	if (now_ns() - L.t_calibrated < (LIVE_CALIB_PERIOD_S - 1) * 1000000000ULL) {
		live_tick(&L);
		assert_int_equal(live_info(&L)->calib_rounds, rounds);
	}

	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, 30, 4, 0, 0), 0);
	memcpy(t1, C[0].sh->h, sizeof(t1));
	assert_int_equal(live_collect(&L, &w1), 0);
	assert_int_equal(live_read(&L, &r1), 0);
	for (int h = 0; h < UT_NH; h++)
		assert_handler(snapshot_handler(&w1, ids[h]), &t1[h]);
	assert_int_equal(snapshot_handler(&r1, "ut.req")->calls, 30);
	assert_true(w1.duration_s > 0 && w1.host && w1.kernel && w1.started_at);
	assert_string_equal(w1.flow_file, flow_path);
	assert_int_equal(w1.calib_rounds, live_info(&L)->calib_rounds);
	assert_true(w1.probe_slots[SLOT_ENTRY_PUSH].measured);

	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, 20, 3, 0, 0), 0);
	memcpy(t2, C[0].sh->h, sizeof(t2));
	assert_int_equal(live_collect(&L, &w2), 0);
	assert_int_equal(live_read(&L, &r2), 0);
	assert_int_equal(snapshot_delta(&w2, &w1, &d, err, sizeof(err)), 0);
	assert_int_equal(snapshot_delta(&r2, &r1, &dr, err, sizeof(err)), 0);
	for (int h = 0; h < UT_NH; h++) {
		struct ut_truth between = {
			.calls = t2[h].calls - t1[h].calls,
			.inner_ns = t2[h].inner_ns - t1[h].inner_ns,
			.outer_ns = t2[h].outer_ns - t1[h].outer_ns,
		};
		const struct snap_handler *x = snapshot_handler(&d, ids[h]);

		assert_int_equal(x->calls, between.calls);
		if (between.calls)
			assert_in_range(x->total_ns, ut_least_total(between.inner_ns, x->probe_wait_ns),
					between.outer_ns);
		assert_handler(snapshot_handler(&w2, ids[h]), &t2[h]);
		assert_int_equal(snapshot_handler(&dr, ids[h])->calls, x->calls);
		assert_int_equal(snapshot_handler(&dr, ids[h])->total_ns, x->total_ns);
	}
	assert_int_equal(snapshot_handler(&d, "ut.req")->calls, 20);
	assert_adds_up(&w1, &d, &w2);

	live_detach(&L);
	assert_true(live_info(&L)->detach_ms > 0);
	assert_int_equal(ut_child_cmd(&C[0], UT_RUN, 10, 0, 0, 0), 0);
	assert_int_equal(C[0].sh->h[UT_REQ].calls, 60);
	assert_int_equal(live_collect(&L, &w3), 0);
	assert_int_equal(snapshot_handler(&w3, "ut.req")->calls, 50);
	assert_int_equal(snapshot_handler(&w3, "ut.leaf")->calls,
			 snapshot_handler(&w2, "ut.leaf")->calls);
	live_stop(&L);
	assert_null(L.rec);
	assert_int_equal(ut_bpf_fds(), fds);
	assert_int_equal(kill(C[0].pid, 0), 0);
	snapshot_free(&w1);
	snapshot_free(&w2);
	snapshot_free(&w3);
	snapshot_free(&r1);
	snapshot_free(&r2);
	snapshot_free(&d);
	snapshot_free(&dr);
}

/* live_start with what cannot work: -1, said on stderr, nothing attached. */
static void check_refused(const struct live_opts *o, const char *says)
{
	struct ut_capture cap;
	struct live L;
	char *log;
	int fds = ut_bpf_fds();

	ut_capture_begin(&cap);
	assert_int_equal(live_start(&L, o), -1);
	log = ut_capture_end(&cap);
	assert_null(L.rec);
	assert_int_equal(ut_bpf_fds(), fds);
	if (!strstr(log, says))
		fail_msg("expected '%s' in: %s", says, log);
	free(log);
}

static void test_live_start_refuses(void **state)
{
	struct live_opts o = { .cmd = "test", .mode = ATTACH_AUTO };

	(void)state;
	if (!ut_is_root())
		skip();
	assert_int_equal(ut_child_spawn(&C[0], K, LEAF_NS), 0);
	write_flow("      nosuch: ut_no_such_fn\n");
	o.flow_path = flow_path;
	check_refused(&o, "ut.nosuch: symbol 'ut_no_such_fn' not found");
	o.flow_path = "/tmp/flowprof-test-none/ut.yaml";
	check_refused(&o, "/tmp/flowprof-test-none/ut.yaml");
	write_flow(NULL);
	o.flow_path = flow_path;
	o.output = "/proc/flowprof-test-none/snap.json";
	check_refused(&o, "cannot write /proc/flowprof-test-none/snap.json");
	assert_int_equal(kill(C[0].pid, 0), 0);
}

static error_t parse_parent(int key, char *arg, struct argp_state *st)
{
	(void)arg;
	if (key == ARGP_KEY_INIT)
		st->child_inputs[0] = st->input;
	return ARGP_ERR_UNKNOWN;
}

/* The options every recording command shares, as they parse them. */
static void test_live_attach_options(void **state)
{
	char *argv[] = { "test", "--mode", "multi", "--exits", "sites", "--no-oncpu",
			 "--max-instances", "7", NULL };
	const struct argp_child children[] = { { &live_attach_argp, 0, NULL, 0 }, { 0 } };
	const struct argp parent = { .parser = parse_parent, .children = children };
	struct live_opts o = { 0 };

	(void)state;
	assert_int_equal(argp_parse(&parent, 8, argv, ARGP_NO_EXIT | ARGP_NO_HELP, NULL, &o), 0);
	assert_int_equal(o.mode, ATTACH_MULTI);
	assert_int_equal(o.exits, EXITS_SITES);
	assert_true(o.no_oncpu);
	assert_int_equal(o.max_instances, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_snapshot_matches_target, teardown),
		cmocka_unit_test_teardown(test_instances_and_threads, teardown),
		cmocka_unit_test_teardown(test_instances_past_max_pooled, teardown),
		cmocka_unit_test_teardown(test_inflight_and_exit_in_call, teardown),
		cmocka_unit_test_teardown(test_cpu_time, teardown),
		cmocka_unit_test_teardown(test_live_windows_add_up, live_teardown),
		cmocka_unit_test_teardown(test_live_start_refuses, live_teardown),
		cmocka_unit_test(test_live_attach_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
