// SPDX-License-Identifier: MIT
/*
 * The merge (user/snapshot/snapshot_merge.c) on snapshots built here, one
 * per seed and host (mk_snapshot): associative for every grouping of
 * hosts; a merge into nothing is a copy; on one host counts add and a
 * process seen twice counts once; across hosts the same pid is another
 * process; conflicting flow files are refused; and the fixture
 * tests/snapshots/basic.json merged with itself doubles every count. The
 * merge of the fixtures' newer keys is in test_snapshot_merge.c. Run from
 * the repository root (tests/run-tests.sh does).
 */
#include "snapshot_fixtures.h"

static uint64_t mk_seed;

static uint64_t next_rand(void)
{
	mk_seed = mk_seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return mk_seed >> 33;
}

static void mk_handler(struct snap_handler *h, const char *id, int n_calls, const int *pids, int n_pids)
{
	h->id = xstrdup(id);
	h->bundle = xstrdup("s");
	h->symbol = xstrdup(id + 2);
	h->binary = xstrdup("/srv/s");
	h->site_class = xstrdup((next_rand() & 3) == 0 ? "single-step" : "nop5");
	h->oncpu_measured = true;
	h->inflight_mean = (double)(next_rand() % 16) / 8.0; /* exact binary fractions */
	h->probe_cost_ns = next_rand() % 2 ? 640.25 : 0;
	h->instances = xcalloc((size_t)n_pids, sizeof(*h->instances));
	h->n_instances = n_pids;
	for (int i = 0; i < n_pids; i++)
		h->instances[i].pid = pids[i];
	for (int i = 0; i < n_calls; i++) {
		uint64_t d = 1000 + next_rand() % 5000000;

		add_call(h, d);
		h->instances[i % n_pids].calls++;
		h->instances[i % n_pids].total_ns += d;
	}
	h->incomplete = next_rand() % 3;
	h->entries += h->incomplete;
}

static void mk_edge(struct snap_edge *e, const char *from, const char *to, uint64_t calls, bool declared)
{
	e->from = xstrdup(from);
	e->to = xstrdup(to);
	e->calls = calls;
	e->declared = declared;
}

/* A snapshot of bundle s on host, different for every seed: handlers s.a
 * and s.b always, s.c<seed> only here; pids partly shared between seeds. */
static void mk_snapshot(struct snapshot *s, const char *host, int seed, const char *started)
{
	int pids[3] = { 100, 100 + seed, 200 + seed % 2 };
	char extra[16];
	struct snap_flow *f;
	struct snap_bundle *b;

	mk_seed = (uint64_t)seed * 7919;
	memset(s, 0, sizeof(*s));
	s->version = 1;
	s->host = xstrdup(host);
	s->kernel = xstrdup(seed % 2 ? "6.1.0" : "6.18.0");
	s->started_at = xstrdup(started);
	s->duration_s = 10.0 + seed;
	s->nproc = 2 * seed;
	s->probe_cost_ns = 600.0 + seed;
	s->attach_mode = xstrdup(seed == 1 ? "uprobe.session" : "uprobe");
	s->attach_ms = 1.5 * seed;
	s->detach_ms = 40 - seed;
	s->probe_cost[1] = (struct snap_probe_cost){ true, 800.0 + seed, 600.0 + seed };
	if (seed == 2)
		s->probe_cost[3] = (struct snap_probe_cost){ true, 11000, 10500 };
	s->flow_file = seed == 1 ? NULL : xstrdup("flows.yaml");
	s->unmatched_returns = (uint64_t)seed;
	s->exited_in_call = 10ULL * (uint64_t)seed;

	snprintf(extra, sizeof(extra), "s.c%d", seed);
	s->n_handlers = 3;
	s->handlers = xcalloc(3, sizeof(*s->handlers));
	mk_handler(&s->handlers[0], seed == 2 ? "s.b" : "s.a", 50 + seed, pids, 3);
	mk_handler(&s->handlers[1], seed == 2 ? "s.a" : "s.b", 20 * seed, pids, 2);
	mk_handler(&s->handlers[2], extra, 5, pids + 1, 1);
	if (seed == 3)
		s->handlers[1].oncpu_measured = false;

	s->n_edges = 2;
	s->edges = xcalloc(2, sizeof(*s->edges));
	mk_edge(&s->edges[0], "s.a", "s.b", 7ULL * (uint64_t)seed, true);
	mk_edge(&s->edges[1], seed == 3 ? "s.b" : "s.a", extra, 3, false);

	s->n_flows = 1;
	s->flows = f = xcalloc(1, sizeof(*s->flows));
	f->name = xstrdup("f");
	f->entry = xstrdup("s.a");
	f->invocations = 50ULL + (uint64_t)seed;
	f->n_visits = 2;
	f->visits = xcalloc(2, sizeof(*f->visits));
	f->visits[0].handler = xstrdup("s.b");
	f->visits[0].calls = 7ULL * (uint64_t)seed;
	f->visits[1].handler = xstrdup(extra);
	f->visits[1].calls = 3;
	f->n_declared = 1 + (seed == 2);
	f->declared = xcalloc((size_t)f->n_declared, sizeof(*f->declared));
	mk_edge(&f->declared[0], "s.a", "s.b", 0, true);
	if (seed == 2) {
		mk_edge(&f->declared[1], "s.a", extra, 0, true);
		f->declared[1].async = true;
	}

	s->n_bundles = 1;
	s->bundles = b = xcalloc(1, sizeof(*s->bundles));
	b->name = xstrdup("s");
	b->n_pids = 3;
	b->pids = xcalloc(3, sizeof(int));
	b->pid_threads = xcalloc(3, sizeof(int));
	for (int i = 0; i < 3; i++) {
		b->pids[i] = pids[i];
		b->pid_threads[i] = 2 + (seed + i) % 3;
		b->threads += b->pid_threads[i];
	}
	b->workers = seed == 2 ? 8 : 0;
	b->serial = seed == 3;
}

static void check_associative(const char *h0, const char *h1, const char *h2)
{
	struct snapshot a, b, c, left, bc, right;
	char diff[512];

	mk_snapshot(&a, h0, 1, "2026-11-22T23:41:59Z");
	mk_snapshot(&b, h1, 2, "2026-11-22T22:00:00-03:00");
	mk_snapshot(&c, h2, 3, "2026-11-23T00:30:00.5+02:00");
	/* (a + b) + c */
	copy_of(&left, &a);
	merge_ok(&left, &b);
	merge_ok(&left, &c);
	/* a + (b + c) */
	copy_of(&bc, &b);
	merge_ok(&bc, &c);
	copy_of(&right, &a);
	merge_ok(&right, &bc);
	if (!snapshot_equal(&left, &right, diff, sizeof(diff)))
		fail_msg("hosts %s,%s,%s: (a+b)+c != a+(b+c): %s", h0, h1, h2, diff);
	assert_round_trips(&left);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&c);
	snapshot_free(&left);
	snapshot_free(&bc);
	snapshot_free(&right);
}

static void test_merge_associative(void **state)
{
	(void)state;
	check_associative("x", "x", "x");
	check_associative("x", "x", "y");
	check_associative("x", "y", "y");
	check_associative("x", "y", "x");
	check_associative("x", "y", "z");
}

static void test_merge_copy(void **state)
{
	struct snapshot a, copy;
	char diff[256];

	(void)state;
	mk_snapshot(&a, "x", 1, "2026-11-22T23:41:59Z");
	copy_of(&copy, &a);
	assert_true(snapshot_equal(&a, &copy, diff, sizeof(diff)));
	assert_ptr_not_equal(copy.handlers, a.handlers);
	assert_ptr_not_equal(copy.handlers[0].id, a.handlers[0].id);
	snapshot_free(&a);
	snapshot_free(&copy);
}

/* Merging the same host twice: counts add, processes seen twice count once. */
static void test_merge_same_host_adds_up(void **state)
{
	struct snapshot a, b, m;
	const struct snap_handler *ha, *hb, *hm;
	uint64_t hist[HIST_BUCKETS];

	(void)state;
	mk_snapshot(&a, "x", 1, "2026-11-22T23:41:59Z");
	mk_snapshot(&b, "x", 3, "2026-11-23T00:30:00.5+02:00");
	copy_of(&m, &a);
	merge_ok(&m, &b);

	ha = snapshot_handler(&a, "s.a");
	hb = snapshot_handler(&b, "s.a");
	hm = snapshot_handler(&m, "s.a");
	assert_int_equal(hm->calls, ha->calls + hb->calls);
	assert_int_equal(hm->entries, ha->entries + hb->entries);
	assert_int_equal(hm->incomplete, ha->incomplete + hb->incomplete);
	assert_int_equal(hm->total_ns, ha->total_ns + hb->total_ns);
	assert_int_equal(hm->self_ns, ha->self_ns + hb->self_ns);
	assert_int_equal(hm->oncpu_ns, ha->oncpu_ns + hb->oncpu_ns);
	assert_int_equal(hm->min_ns, ha->min_ns < hb->min_ns ? ha->min_ns : hb->min_ns);
	assert_int_equal(hm->max_ns, ha->max_ns > hb->max_ns ? ha->max_ns : hb->max_ns);
	assert_true(hm->sumsq_ns2 == ha->sumsq_ns2 + hb->sumsq_ns2);
	memcpy(hist, ha->hist, sizeof(hist));
	hist_add(hist, hb->hist);
	assert_memory_equal(hm->hist, hist, sizeof(hist));
	assert_int_equal(hist_count(hm->hist), hm->calls);
	assert_true(hm->inflight_mean == ha->inflight_mean + hb->inflight_mean);
	/* pids {100, 101, 201} and {100, 103, 201}: 100 and 201 are the same processes */
	assert_int_equal(hm->n_instances, 4);
	assert_int_equal(hm->instances[0].pid, 100);
	assert_int_equal(hm->instances[0].calls, ha->instances[0].calls + hb->instances[0].calls);
	assert_int_equal(hm->instances[3].pid, 103);
	assert_null(hm->instances[3].host);
	assert_int_equal(m.bundles[0].n_pids, 4);
	assert_int_equal(m.bundles[0].pids[3], 103);
	/* threads per process: a {3,4,2}, b {2,3,4} (pid 201 is a's [2] and b's [2]) */
	assert_int_equal(m.bundles[0].pid_threads[0], 3);
	assert_int_equal(m.bundles[0].pid_threads[2], 4);
	assert_int_equal(m.bundles[0].threads, 3 + 4 + 4 + 3);
	assert_null(m.bundles[0].pid_hosts);
	assert_true(m.bundles[0].serial);
	/* s.b was not on-CPU measured in b: the merged sum would be partial */
	assert_false(snapshot_handler(&m, "s.b")->oncpu_measured);
	assert_int_equal(snapshot_handler(&m, "s.b")->oncpu_ns, 0);
	/* handlers, edges, visits and declared calls of both */
	assert_int_equal(m.n_handlers, 4);
	assert_string_equal(m.handlers[3].id, "s.c3");
	assert_int_equal(m.n_edges, 3);
	assert_int_equal(m.edges[0].calls, 7 + 21);
	assert_string_equal(m.edges[2].from, "s.b");
	assert_int_equal(m.flows[0].invocations, 51 + 53);
	assert_int_equal(m.flows[0].n_visits, 3);
	assert_int_equal(m.flows[0].visits[0].calls, 7 + 21);
	assert_int_equal(m.flows[0].n_declared, 1);
	/* counters add; the longest duration; the earliest start (22:30Z) */
	assert_int_equal(m.unmatched_returns, 1 + 3);
	assert_int_equal(m.exited_in_call, 10 + 30);
	assert_true(m.duration_s == 13.0);
	assert_string_equal(m.started_at, "2026-11-23T00:30:00.5+02:00");
	assert_true(m.attach_ms == 4.5);
	assert_true(m.detach_ms == 39.0);
	/* one host still: its CPUs, the first calibration, first attach mode */
	assert_string_equal(m.host, "x");
	assert_int_equal(m.n_hosts, 0);
	assert_int_equal(m.nproc, 6);
	assert_true(m.probe_cost_ns == 601.0);
	assert_true(m.probe_cost[1].in_window_ns == 601.0);
	assert_string_equal(m.attach_mode, "uprobe.session");
	assert_string_equal(m.flow_file, "flows.yaml");
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&m);
}

/* Across hosts, the same pid is another process: kept apart by host. */
static void test_merge_across_hosts(void **state)
{
	struct snapshot a, b, c, m;
	const struct snap_handler *h;

	(void)state;
	mk_snapshot(&a, "web-1", 1, "2026-11-22T23:41:59Z");
	mk_snapshot(&b, "web-2", 3, "2026-11-22T23:41:58Z");
	mk_snapshot(&c, "web-1", 5, "2026-11-22T23:45:00Z");
	copy_of(&m, &a);
	merge_ok(&m, &b);
	merge_ok(&m, &c);
	assert_string_equal(m.host, "web-1,web-2");
	assert_string_equal(m.kernel, "6.1.0");
	assert_int_equal(m.n_hosts, 2);
	assert_string_equal(m.hosts[0].name, "web-1");
	assert_int_equal(m.hosts[0].nproc, 10);	/* same host twice: its CPUs once */
	assert_true(m.hosts[0].probe_cost_ns == 601.0);
	assert_string_equal(m.hosts[1].name, "web-2");
	assert_int_equal(m.hosts[1].nproc, 6);
	assert_int_equal(m.nproc, 16);
	assert_true(m.probe_cost_ns == (601.0 + 603.0) / 2);
	assert_string_equal(m.started_at, "2026-11-22T23:41:58Z");
	/* pids: web-1 {100, 101, 201, 105}, web-2 {100, 103, 201} */
	h = snapshot_handler(&m, "s.a");
	assert_int_equal(h->n_instances, 7);
	assert_int_equal(h->instances[0].pid, 100);
	assert_string_equal(h->instances[0].host, "web-1");
	assert_int_equal(h->instances[3].pid, 100);
	assert_string_equal(h->instances[3].host, "web-2");
	assert_int_equal(h->instances[6].pid, 105);
	assert_string_equal(h->instances[6].host, "web-1");
	assert_int_equal(m.bundles[0].n_pids, 7);
	assert_string_equal(m.bundles[0].pid_hosts[4], "web-2");
	assert_int_equal(m.bundles[0].pids[4], 103);
	assert_round_trips(&m);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&c);
	snapshot_free(&m);
}

/* record --unprobed windows side by side: their rates add over the longer
 * length; without one on either side, none. */
static void test_merge_unprobed_rates(void **state)
{
	struct snapshot a, b, m;
	struct snap_bundle *x;

	(void)state;
	mk_snapshot(&a, "web-1", 1, "2026-11-22T23:41:59Z");
	mk_snapshot(&b, "web-2", 3, "2026-11-22T23:41:58Z");
	a.bundles[0].unprobed_measured = b.bundles[0].unprobed_measured = true;
	a.bundles[0].unprobed_s = 0.5, a.bundles[0].unprobed_cpu_s = 0.1;	/* 0.2 CPU/s */
	b.bundles[0].unprobed_s = 2.0, b.bundles[0].unprobed_cpu_s = 0.6;	/* 0.3 CPU/s */
	a.bundles[0].late_s = 0.5, a.bundles[0].late_calls = 500;		/* 1000/s */
	b.bundles[0].late_s = 1.0, b.bundles[0].late_calls = 3000;		/* 3000/s */
	copy_of(&m, &a);
	merge_ok(&m, &b);
	x = &m.bundles[0];
	assert_true(x->unprobed_measured);
	assert_float_equal(x->unprobed_s, 2.0, 1e-12);
	assert_float_equal(x->unprobed_cpu_s, 2.0 * 0.5, 1e-12);
	assert_float_equal(x->late_s, 1.0, 1e-12);
	assert_int_equal(x->late_calls, 4000);
	assert_round_trips(&m);
	snapshot_free(&m);
	b.bundles[0].unprobed_measured = false;
	copy_of(&m, &a);
	merge_ok(&m, &b);
	assert_false(m.bundles[0].unprobed_measured);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&m);
}

static void test_merge_conflicts(void **state)
{
	struct snapshot a, b, before;
	char err[256], diff[256];

	(void)state;
	mk_snapshot(&a, "x", 1, "2026-11-22T23:41:59Z");
	mk_snapshot(&b, "x", 3, "2026-11-22T23:41:59Z");
	copy_of(&before, &a);
	free(b.flows[0].entry);
	b.flows[0].entry = xstrdup("s.b");
	assert_int_equal(snapshot_merge(&a, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "flow f has entry s.a in one snapshot and s.b in the other "
				 "(recorded with different flow files?)");
	assert_true(snapshot_equal(&a, &before, diff, sizeof(diff)));
	free(b.flows[0].entry);
	b.flows[0].entry = xstrdup("s.a");
	free(b.handlers[1].bundle);
	b.handlers[1].bundle = xstrdup("t");
	assert_int_equal(snapshot_merge(&a, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "handler s.b is in bundle s in one snapshot and in bundle t in "
				 "the other");
	assert_true(snapshot_equal(&a, &before, diff, sizeof(diff)));
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&before);
}

/* The fixture merged with itself: every count doubles, nothing else moves. */
static void test_merge_fixture_with_itself(void **state)
{
	struct snapshot a, m;
	size_t len;
	char *text = fixture(&len);

	(void)state;
	load_ok(text, len, &a);
	copy_of(&m, &a);
	merge_ok(&m, &a);
	for (int i = 0; i < a.n_handlers; i++) {
		assert_int_equal(m.handlers[i].calls, 2 * a.handlers[i].calls);
		assert_int_equal(m.handlers[i].min_ns, a.handlers[i].min_ns);
		assert_int_equal(m.handlers[i].n_instances, a.handlers[i].n_instances);
		assert_int_equal(hist_count(m.handlers[i].hist), 2 * hist_count(a.handlers[i].hist));
	}
	assert_int_equal(m.bundles[0].threads, a.bundles[0].threads);
	assert_int_equal(m.bundles[0].n_pids, 2);
	assert_true(m.duration_s == a.duration_s);
	assert_int_equal(m.edges[3].calls, 24);
	assert_round_trips(&m);
	snapshot_free(&a);
	snapshot_free(&m);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_copy),
		cmocka_unit_test(test_merge_associative),
		cmocka_unit_test(test_merge_same_host_adds_up),
		cmocka_unit_test(test_merge_across_hosts),
		cmocka_unit_test(test_merge_unprobed_rates),
		cmocka_unit_test(test_merge_conflicts),
		cmocka_unit_test(test_merge_fixture_with_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
