// SPDX-License-Identifier: MIT
/*
 * The attach stage (user/attach/attach.h) on real processes: a child forked
 * from this binary calls handler functions of it (bpf_child.h) while the
 * recorder's BPF programs are attached to it, in each attach mode the
 * kernel offers, with exits at the functions' ret sites and by uretprobes.
 * The maps are read through recorder_map_fd() and checked against the
 * child's own record: exact counts, durations between the child's inner and
 * outer clocks. Then what the recorder says of itself (recorder_info: mode,
 * probes, calibration), its options (no_oncpu, max_instances, progress,
 * root_tgid), recalibration, detach (the child goes on, its counts stop),
 * the counters, and the errors: a site the kernel refuses
 * (the fallback between modes), a missing symbol, a dead process, a
 * missing binary. Every test leaves no BPF object open (ut_bpf_fds).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach/attach.h"
#include "bpf_child.h"
#include "flowprof.h"

#define LEAF_NS 20000
#define K 2

static struct ut_rec R;
static struct ut_child C, D;

static int teardown(void **state)
{
	(void)state;
	ut_rec_free(&R);
	ut_children_cleanup();
	return 0;
}

/* A handler's counters, summed over CPUs, read straight from the map. */
struct sums {
	uint64_t entries, calls, incomplete, total_ns, min_ns, max_ns, hist, probe_wait_ns;
};

static struct sums read_sums(const struct recorder *rec, int hid)
{
	int ncpu = libbpf_num_possible_cpus();
	struct handler_stats *v = calloc((size_t)ncpu, sizeof(*v));
	uint32_t key = (uint32_t)hid;
	struct sums s = { 0 };

	assert_non_null(v);
	assert_int_equal(sizeof(*v) % 8, 0);
	assert_int_equal(bpf_map_lookup_elem(recorder_map_fd(rec, RMAP_HANDLER_STATS), &key, v), 0);
	for (int c = 0; c < ncpu; c++) {
		s.entries += v[c].entries;
		s.calls += v[c].calls;
		s.incomplete += v[c].incomplete;
		s.total_ns += v[c].total_ns;
		s.probe_wait_ns += v[c].probe_wait_ns;
		if (v[c].min_ns && (!s.min_ns || v[c].min_ns < s.min_ns))
			s.min_ns = v[c].min_ns;
		if (v[c].max_ns > s.max_ns)
			s.max_ns = v[c].max_ns;
		for (int b = 0; b < HIST_BUCKETS; b++)
			s.hist += v[c].hist[b];
	}
	free(v);
	return s;
}

static const char *const ids[UT_NH] = { "ut.req", "ut.parse", "ut.leaf", "ut.hold" };

/* Every handler against the child's record: each call it made, entered and
 * completed; the probes' window of each call between the body's own clock
 * and its caller's, less the waits inside probes taken out of it (the
 * body's clock holds its children's). */
static void assert_truth(const struct ut_rec *r, const struct ut_shared *sh)
{
	for (int h = 0; h < UT_NH; h++) {
		struct sums s = read_sums(r->rec, ut_hid(r, ids[h]));
		const struct ut_truth *t = &sh->h[h];

		print_message("# %s: %lu calls (child: %lu), %lu ns in [%lu - %lu, %lu]\n", ids[h],
			      (unsigned long)s.calls, (unsigned long)t->calls,
			      (unsigned long)s.total_ns, (unsigned long)t->inner_ns,
			      (unsigned long)s.probe_wait_ns, (unsigned long)t->outer_ns);
		assert_int_equal(s.calls, t->calls);
		assert_int_equal(s.entries, t->calls);
		assert_int_equal(s.incomplete, 0);
		assert_int_equal(s.hist, t->calls);
		if (!t->calls)
			continue;
		assert_in_range(s.total_ns, ut_least_total(t->inner_ns, s.probe_wait_ns), t->outer_ns);
		/* a leaf's body holds no probe: none of its waits were taken out */
		assert_true(s.min_ns + s.probe_wait_ns >= t->inner_min);
		if (h == UT_LEAF)
			assert_true(s.min_ns >= t->inner_min);
		assert_true(s.max_ns <= t->outer_max);
	}
}

/* Every error counter is 0; CNT_SWITCH_IN_UNSEEN and CNT_PROBE_WAITS count
 * how the host scheduled (switch-ins it left unstamped, preemptions inside
 * probes, under load), not errors. */
static void assert_no_counters(const struct recorder *rec)
{
	for (int c = 0; c < CNT_MAX; c++)
		if (c != CNT_SWITCH_IN_UNSEEN && c != CNT_PROBE_WAITS)
			assert_int_equal(recorder_counters(rec)[c], 0);
}

/* The probes each handler got: its one site, entered at its first
 * instruction (a push, read here from the code itself), left at its ret
 * sites or by a uretprobe; n_probes counts entries and exit sites. */
static void assert_probes(const struct recorder_info *ri, bool sites)
{
	size_t points = 0;

	assert_int_equal(*(const volatile uint8_t *)ut_req, 0x55); /* push %rbp */
	assert_int_equal(*(const volatile uint8_t *)ut_leaf, 0x55);
	assert_int_equal(ri->n_handlers, UT_NH);
	for (int h = 0; h < ri->n_handlers; h++) {
		const struct handler_probes *hp = &ri->handlers[h];

		assert_int_equal(hp->n_sites, 1);
		assert_int_equal(hp->entry, SLOT_ENTRY_PUSH);
		assert_int_equal(hp->n_fallback, 0);
		assert_null(hp->fallback);
		assert_int_equal(hp->n_moved, 0);
		if (sites) {
			assert_true(hp->n_exit_sites >= 1);
			assert_true(hp->exit == SLOT_EXIT_RET || hp->exit == SLOT_EXIT_JMP);
		} else {
			assert_int_equal(hp->n_exit_sites, 0);
			assert_int_equal(hp->exit, SLOT_EXIT_URETPROBE);
		}
		points += (size_t)(hp->n_sites + hp->n_exit_sites);
	}
	assert_int_equal(ri->n_probes, points);
}

static void start_child_and_resolve(const char *extra)
{
	char yaml[2048];

	assert_int_equal(ut_child_spawn(&C, K, LEAF_NS), 0);
	ut_yaml(yaml, sizeof(yaml), &C.pid, 1, extra);
	assert_int_equal(ut_rec_resolve(&R, yaml), 0);
}

static void test_names(void **state)
{
	(void)state;
	for (int m = ATTACH_AUTO; m < ATTACH_MODE_COUNT; m++)
		assert_int_equal(attach_mode_parse(attach_mode_name((enum attach_mode)m)), m);
	assert_string_equal(attach_mode_name(ATTACH_SESSION), "uprobe.session");
	assert_int_equal(attach_mode_parse("multi"), ATTACH_MULTI);
	assert_int_equal(attach_mode_parse("single"), ATTACH_SINGLE);
	assert_int_equal(attach_mode_parse("sessions"), -2);
	for (int e = EXITS_AUTO; e <= EXITS_URETPROBE; e++)
		assert_int_equal(exits_choice_parse(exits_choice_name((enum exits_choice)e)), e);
	assert_int_equal(exits_choice_parse("ret"), -1);
}

/* One forced mode, with each way of seeing exits: exact counts, or, where
 * the kernel lacks the mode, -1 with nothing attached. */
static void check_mode(enum attach_mode m)
{
	static const enum exits_choice exits[] = { EXITS_SITES, EXITS_URETPROBE };
	struct kernel_features f;
	int fds = ut_bpf_fds();
	bool supported;

	if (!ut_is_root())
		skip();
	detect_kernel_features(&f);
	supported = m == ATTACH_SINGLE || (m == ATTACH_MULTI ? f.uprobe_multi : f.uprobe_session);
	start_child_and_resolve(NULL);
	for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		const struct recorder_info *ri;
		int rc = ut_rec_start(&R, m, exits[i]);

		if (!supported) {
			assert_int_equal(rc, -1);
			assert_null(R.rec);
			assert_non_null(strstr(R.err, attach_mode_name(m)));
			assert_int_equal(ut_bpf_fds(), fds);
			continue;
		}
		assert_int_equal(rc, 0);
		ri = recorder_info(R.rec);
		assert_int_equal(ri->mode, m);
		assert_probes(ri, exits[i] == EXITS_SITES);
		memset(C.sh->h, 0, sizeof(C.sh->h)); /* the child is idle */
		assert_int_equal(ut_child_cmd(&C, UT_RUN, 50, 7, 0, 0), 0);
		assert_int_equal(C.sh->h[UT_REQ].calls, 50);
		assert_truth(&R, C.sh);
		assert_no_counters(R.rec);
		recorder_free(R.rec);
		R.rec = NULL;
		assert_int_equal(ut_bpf_fds(), fds);
	}
	assert_int_equal(ut_child_send(&C, UT_QUIT, 0, 0, 0, 0), 0);
	assert_int_equal(ut_child_reap(&C, NULL), 0);
}

static void test_mode_session(void **state)
{
	(void)state;
	check_mode(ATTACH_SESSION);
}

static void test_mode_multi(void **state)
{
	(void)state;
	check_mode(ATTACH_MULTI);
}

static void test_mode_single(void **state)
{
	(void)state;
	check_mode(ATTACH_SINGLE);
}

/* Each map, sized as the recorder says: handlers (the flow file's, then the
 * calibration's), and max_instances slots plus the pool. */
static void assert_maps(const struct recorder *rec)
{
	uint32_t nh = (uint32_t)recorder_bpf_handlers(rec), mi = (uint32_t)recorder_max_instances(rec);
	const uint32_t want[RMAP_COUNT] = {
		[RMAP_HANDLER_STATS] = nh,	 [RMAP_EDGES] = 0,	/* a hash: any size */
		[RMAP_FLOW_VISITS] = 2 * nh,	 [RMAP_INSTANCES] = mi,
		[RMAP_INSTANCE_INFO] = mi + 1, [RMAP_INSTANCE_STATS] = (mi + 1) * nh,
	};

	for (int m = 0; m < RMAP_COUNT; m++) {
		struct bpf_map_info info = { 0 };
		uint32_t len = sizeof(info);
		int fd = recorder_map_fd(rec, (enum recorder_map)m);

		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		if (want[m])
			assert_int_equal(info.max_entries, want[m]);
	}
	assert_int_equal(recorder_map_fd(rec, RMAP_COUNT), -1);
}

/* The slots the calibration's stubs measure (user/attach/calibrate.c). */
/* The USDT slots are measured only where a handler uses the USDT or a
 * runtime's program (not these flows: test_usdt and the e2e USDT tests). */
static const enum cost_slot calibrated[] = {
	SLOT_ENTRY_NOP5, SLOT_ENTRY_NOP, SLOT_ENTRY_PUSH, SLOT_ENTRY_BRANCH, SLOT_ENTRY_STEP,
	SLOT_EXIT_URETPROBE, SLOT_EXIT_RET, SLOT_EXIT_JMP,
};
#define N_CALIBRATED (sizeof(calibrated) / sizeof(calibrated[0]))

/* attach_opts.progress: done of total, as probe points get attached. */
static size_t progress_calls, progress_done, progress_total;

static void progress(void *ctx, size_t done, size_t total)
{
	assert_ptr_equal(ctx, &progress_calls);
	assert_true(done >= progress_done && done <= total);
	progress_calls++;
	progress_done = done;
	progress_total = total;
}

static void test_info_and_calibration(void **state)
{
	struct kernel_features f;
	const struct recorder_info *ri;
	struct attach_opts o = { .mode = ATTACH_AUTO, .no_oncpu = true, .max_instances = 5,
				 .progress = progress, .progress_ctx = &progress_calls };
	double first[N_CALIBRATED];
	int fds = ut_bpf_fds(), rounds;

	(void)state;
	if (!ut_is_root())
		skip();
	detect_kernel_features(&f);
	start_child_and_resolve(NULL);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	ri = recorder_info(R.rec);
	/* the cheapest mode the kernel offers */
	assert_int_equal(ri->mode, f.uprobe_session ? ATTACH_SESSION
				   : f.uprobe_multi ? ATTACH_MULTI : ATTACH_SINGLE);
	assert_memory_equal(&ri->feat, &f, sizeof(f));
	assert_int_equal(ri->oncpu, f.raw_tp);
	/* this binary links the unwinder (libstdc++): exits at the ret sites */
	assert_probes(ri, true);
	assert_int_equal(recorder_n_handlers(R.rec), R.ff.n_handlers);
	assert_true(recorder_bpf_handlers(R.rec) > R.ff.n_handlers);
	/* every probe is filtered to the child (-p): one process slot, not the default */
	assert_int_equal(recorder_max_instances(R.rec), 1);
	assert_maps(R.rec);

	assert_true(ri->load_ms > 0 && ri->calib_ms > 0);
	assert_true(ri->load_ms + ri->calib_ms <= ri->attach_ms);
	assert_true(ri->detach_ms == 0);
	assert_true(ri->calib_rounds >= 1);
	for (size_t i = 0; i < N_CALIBRATED; i++) {
		const struct slot_cost *c = &ri->costs[calibrated[i]];

		print_message("# %-10s %8.0f ns a hit, %8.0f in the window, %s\n",
			      cost_slot_name(calibrated[i]), c->hit_ns, c->in_window_ns, c->behaves_as);
		assert_true(c->measured);
		assert_true(isfinite(c->hit_ns) && c->hit_ns >= 0 && isfinite(c->in_window_ns));
		assert_true(c->first_hit_ns == c->hit_ns);
		assert_non_null(c->behaves_as);
		/* an entry with its exit costs the call something */
		if (calibrated[i] < SLOT_EXIT_URETPROBE)
			assert_true(c->hit_ns + ri->costs[SLOT_EXIT_URETPROBE].hit_ns > 0);
		first[i] = c->first_hit_ns;
	}
	assert_true(ri->costs[SLOT_ENTRY_NOP5].hit_ns > 0);
	assert_true(ri->costs[SLOT_EXIT_URETPROBE].hit_ns > 0);
	/* no USDT handler: the USDT program is not loaded, its slots unmeasured */
	assert_false(ri->costs[SLOT_ENTRY_USDT].measured);
	assert_false(ri->costs[SLOT_EXIT_USDT].measured);
	/* lea with a RIP-relative operand cannot be emulated */
	assert_string_equal(ri->costs[SLOT_ENTRY_STEP].behaves_as, "single-step");
	/* its hit alone may read 0: a slot's hit is what its stub adds to the
	 * uretprobe's half of the nop5 pair, split evenly, and on one of our
	 * hosts (a trap ~3 us wherever it is) the single-step entry's read 0 to
	 * 700 ns. Its pair with the uretprobe is checked in the loop above. */
	assert_string_equal(ri->costs[SLOT_EXIT_URETPROBE].behaves_as, "uretprobe");
	assert_true(ri->costs[SLOT_NONE].measured == false);

	rounds = ri->calib_rounds;
	recorder_recalibrate(R.rec);
	recorder_recalibrate(R.rec);
	assert_int_equal(ri->calib_rounds, rounds + 2);
	for (size_t i = 0; i < N_CALIBRATED; i++) {
		assert_true(ri->costs[calibrated[i]].measured);
		assert_true(ri->costs[calibrated[i]].first_hit_ns == first[i]);
	}
	/* the probes still count exactly after the rounds */
	assert_int_equal(ut_child_cmd(&C, UT_RUN, 20, 3, 0, 0), 0);
	assert_truth(&R, C.sh);
	recorder_free(R.rec);
	R.rec = NULL;
	assert_int_equal(ut_bpf_fds(), fds);

	/* no sched_switch program, five process slots, progress */
	assert_int_equal(recorder_start(&R.rec, &R.ff, &R.res, &o, R.err, sizeof(R.err)), 0);
	assert_false(recorder_info(R.rec)->oncpu);
	assert_true(progress_calls >= 1);
	assert_int_equal(progress_done, recorder_info(R.rec)->n_probes);
	assert_int_equal(progress_total, recorder_info(R.rec)->n_probes);
	assert_int_equal(recorder_max_instances(R.rec), 5);
	assert_maps(R.rec);
	recorder_free(R.rec);
	R.rec = NULL;
	recorder_free(NULL);
	assert_int_equal(ut_bpf_fds(), fds);
}

/* Waits until the child's loop has made at least n requests in all. */
static void wait_loops(uint64_t n)
{
	for (int i = 0; i < 60000 && __atomic_load_n(&C.sh->loops, __ATOMIC_SEQ_CST) < n; i++)
		usleep(1000);
	assert_true(__atomic_load_n(&C.sh->loops, __ATOMIC_SEQ_CST) >= n);
}

static void test_detach_leaves_target_running(void **state)
{
	const struct recorder_info *ri;
	int fds = ut_bpf_fds(), req, rounds;
	uint64_t a, b, at;

	(void)state;
	if (!ut_is_root())
		skip();
	start_child_and_resolve(NULL);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), 0);
	ri = recorder_info(R.rec);
	req = ut_hid(&R, "ut.req");
	assert_int_equal(ut_child_send(&C, UT_LOOP, 0, 0, 0, 0), 0);
	wait_loops(20);
	a = read_sums(R.rec, req).calls;
	wait_loops(C.sh->loops + 20);
	b = read_sums(R.rec, req).calls;
	assert_true(a > 0 && b > a); /* probed, counting */

	recorder_detach(R.rec);
	assert_true(ri->detach_ms > 0);
	a = read_sums(R.rec, req).calls; /* the maps stay readable */
	at = C.sh->loops;
	assert_true(a <= at + 1); /* + the request between its ret and loops++ */
	wait_loops(at + 200);
	assert_int_equal(read_sums(R.rec, req).calls, a);
	assert_int_equal(kill(C.pid, 0), 0);
	/* nothing left to measure a round on */
	rounds = ri->calib_rounds;
	recorder_recalibrate(R.rec);
	assert_int_equal(ri->calib_rounds, rounds);
	recorder_detach(R.rec); /* twice is fine */

	recorder_free(R.rec);
	R.rec = NULL;
	assert_int_equal(ut_bpf_fds(), fds);
	wait_loops(C.sh->loops + 20); /* and it goes on after free */
	__atomic_store_n(&C.sh->stop, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(ut_child_wait(&C), 0);
	assert_int_equal(ut_child_send(&C, UT_QUIT, 0, 0, 0, 0), 0);
	assert_int_equal(ut_child_reap(&C, NULL), 0);
}

/* With root_tgid, the other processes' calls are not counted. */
static void test_root_tgid(void **state)
{
	struct attach_opts o = { .mode = ATTACH_AUTO };
	pid_t pids[2];
	char yaml[2048];
	int fds = ut_bpf_fds();

	(void)state;
	if (!ut_is_root())
		skip();
	assert_int_equal(ut_child_spawn(&C, K, LEAF_NS), 0);
	assert_int_equal(ut_child_spawn(&D, K, LEAF_NS), 0);
	pids[0] = C.pid;
	pids[1] = D.pid;
	ut_yaml(yaml, sizeof(yaml), pids, 2, NULL);
	assert_int_equal(ut_rec_resolve(&R, yaml), 0);
	o.root_tgid = D.pid;
	assert_int_equal(recorder_start(&R.rec, &R.ff, &R.res, &o, R.err, sizeof(R.err)), 0);
	assert_int_equal(ut_child_cmd(&C, UT_RUN, 10, 2, 0, 0), 0);
	assert_int_equal(ut_child_cmd(&D, UT_RUN, 7, 1, 0, 0), 0);
	assert_int_equal(C.sh->h[UT_REQ].calls, 10);
	assert_truth(&R, D.sh);
	assert_no_counters(R.rec);
	recorder_free(R.rec);
	R.rec = NULL;
	assert_int_equal(ut_bpf_fds(), fds);
}

/* Calls entered before the probes were in place end at a probed ret with
 * no frame: CNT_UNMATCHED_RETURN, once each, and no call of the handler. */
static void test_counters_unmatched_returns(void **state)
{
	const int held = 3;
	int fds = ut_bpf_fds();

	(void)state;
	if (!ut_is_root())
		skip();
	start_child_and_resolve(NULL);
	assert_int_equal(ut_child_cmd(&C, UT_HOLD_THREADS, 0, 0, held, 0), 0);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_SITES), 0);
	assert_no_counters(R.rec);
	assert_int_equal(ut_child_cmd(&C, UT_RELEASE, 0, 0, 0, 0), 0);
	assert_int_equal(C.sh->h[UT_HOLD].calls, held);
	assert_int_equal(recorder_counters(R.rec)[CNT_UNMATCHED_RETURN], held);
	assert_int_equal(read_sums(R.rec, ut_hid(&R, "ut.hold")).calls, 0);
	for (int c = 0; c < CNT_MAX; c++)
		if (c != CNT_UNMATCHED_RETURN && c != CNT_SWITCH_IN_UNSEEN && c != CNT_PROBE_WAITS)
			assert_int_equal(recorder_counters(R.rec)[c], 0);
	/* the counters stay readable, and unchanged, after detach */
	recorder_detach(R.rec);
	assert_int_equal(recorder_counters(R.rec)[CNT_UNMATCHED_RETURN], held);
	recorder_free(R.rec);
	R.rec = NULL;
	assert_int_equal(ut_bpf_fds(), fds);
}

/* A first instruction the kernel will not probe (int3): auto tries each
 * mode the kernel has, saying which comes next, then fails with the
 * kernel's reason; a forced mode fails without trying another. */
static void test_refused_site_falls_back(void **state)
{
	struct attach_opts o = { .mode = ATTACH_AUTO };
	struct ut_capture cap;
	struct kernel_features f;
	char *log, want[128];
	int fds = ut_bpf_fds(), lines = 0;
	const char *p;

	(void)state;
	if (!ut_is_root())
		skip();
	detect_kernel_features(&f);
	start_child_and_resolve("      refused: ut_refused\n");
	ut_capture_begin(&cap);
	assert_int_equal(recorder_start(&R.rec, &R.ff, &R.res, &o, R.err, sizeof(R.err)), -1);
	log = ut_capture_end(&cap);
	assert_null(R.rec);
	assert_int_equal(ut_bpf_fds(), fds);
	print_message("# %s\n", R.err);
	assert_non_null(strstr(R.err, "the kernel cannot probe the instruction there (ENOTSUPP)"));
	assert_non_null(strstr(R.err, R.res.sites[0].binary));
	snprintf(want, sizeof(want), "pid %d", (int)C.pid);
	assert_non_null(strstr(R.err, want));
	for (p = log; (p = strstr(p, "falling back to ")); p++)
		lines++;
	assert_int_equal(lines, (int)f.uprobe_session + (int)f.uprobe_multi);
	if (f.uprobe_session)
		assert_non_null(strstr(log, f.uprobe_multi ? "falling back to uprobe_multi\n"
							   : "falling back to uprobe\n"));
	if (f.uprobe_multi)
		assert_non_null(strstr(log, "falling back to uprobe\n"));
	free(log);

	o.mode = f.uprobe_multi ? ATTACH_MULTI : ATTACH_SINGLE;
	ut_capture_begin(&cap);
	assert_int_equal(recorder_start(&R.rec, &R.ff, &R.res, &o, R.err, sizeof(R.err)), -1);
	log = ut_capture_end(&cap);
	assert_null(R.rec);
	assert_null(strstr(log, "falling back"));
	assert_non_null(strstr(R.err, attach_mode_name(o.mode)));
	free(log);
	assert_int_equal(ut_bpf_fds(), fds);
	/* the child never called it, and lives on */
	assert_int_equal(kill(C.pid, 0), 0);
}

/* -1, a message that names what is wrong, nothing attached. */
static void test_invalid_inputs(void **state)
{
	char yaml[2048], want[64];
	int fds = ut_bpf_fds();

	(void)state;
	if (!ut_is_root())
		skip();
	/* a symbol that does not exist stops the pipeline before attach */
	assert_int_equal(ut_child_spawn(&C, K, LEAF_NS), 0);
	ut_yaml(yaml, sizeof(yaml), &C.pid, 1, "      nosuch: ut_no_such_fn\n");
	assert_int_equal(ut_rec_resolve(&R, yaml), -1);
	assert_non_null(strstr(R.err, "ut.nosuch: symbol 'ut_no_such_fn' not found"));
	ut_rec_free(&R);

	/* a process gone between resolve and attach */
	assert_int_equal(ut_child_spawn(&D, K, LEAF_NS), 0);
	ut_yaml(yaml, sizeof(yaml), &D.pid, 1, NULL);
	assert_int_equal(ut_rec_resolve(&R, yaml), 0);
	snprintf(want, sizeof(want), "pid %d", (int)D.pid);
	assert_int_equal(ut_child_send(&D, UT_QUIT, 0, 0, 0, 0), 0);
	assert_int_equal(ut_child_reap(&D, NULL), 0);
	assert_int_equal(ut_rec_start(&R, ATTACH_AUTO, EXITS_AUTO), -1);
	print_message("# %s\n", R.err);
	assert_null(R.rec);
	assert_non_null(strstr(R.err, want));
	assert_non_null(strstr(R.err, "the process has exited"));
	assert_int_equal(ut_bpf_fds(), fds);
	ut_rec_free(&R);

	/* a binary that is not there (any more) */
	ut_yaml(yaml, sizeof(yaml), &C.pid, 1, NULL);
	assert_int_equal(ut_rec_resolve(&R, yaml), 0);
	for (size_t i = 0; i < R.res.n_sites; i++) {
		free(R.res.sites[i].binary);
		free(R.res.sites[i].attach_path);
		R.res.sites[i].binary = strdup("/tmp/flowprof-test-none/ut-gone");
		R.res.sites[i].attach_path = NULL;
	}
	for (int m = ATTACH_SESSION; m < ATTACH_MODE_COUNT; m++) {
		if (ut_rec_start(&R, (enum attach_mode)m, EXITS_AUTO) == -1 && !R.rec &&
		    strstr(R.err, "/tmp/flowprof-test-none/ut-gone") &&
		    strstr(R.err, "No such file or directory"))
			continue;
		print_message("# %s: %s\n", attach_mode_name((enum attach_mode)m), R.err);
		fail();
	}
	assert_int_equal(ut_bpf_fds(), fds);
	assert_int_equal(kill(C.pid, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_teardown(test_mode_session, teardown),
		cmocka_unit_test_teardown(test_mode_multi, teardown),
		cmocka_unit_test_teardown(test_mode_single, teardown),
		cmocka_unit_test_teardown(test_info_and_calibration, teardown),
		cmocka_unit_test_teardown(test_detach_leaves_target_running, teardown),
		cmocka_unit_test_teardown(test_root_tgid, teardown),
		cmocka_unit_test_teardown(test_counters_unmatched_returns, teardown),
		cmocka_unit_test_teardown(test_refused_site_falls_back, teardown),
		cmocka_unit_test_teardown(test_invalid_inputs, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
