// SPDX-License-Identifier: MIT
/*
 * Field-by-field equality (user/snapshot/snapshot_equal.c): every stored
 * field counts, the first difference is the one named, NULL and "" are the
 * same string, and the diff buffer is optional and never overrun. On
 * tests/snapshots/full.json, which carries every field (run from the
 * repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "snapshot/snapshot.h"

#define FULL "tests/snapshots/full.json"

struct pair {
	struct snapshot a, b;
};

static int load_pair(void **state)
{
	struct pair *p = xcalloc(1, sizeof(*p));
	char err[512];

	if (snapshot_load(FULL, &p->a, err, sizeof(err)) ||
	    snapshot_load(FULL, &p->b, err, sizeof(err))) {
		fprintf(stderr, "%s (run from the repository root)\n", err);
		return -1;
	}
	*state = p;
	return 0;
}

static int free_pair(void **state)
{
	struct pair *p = *state;

	snapshot_free(&p->a);
	snapshot_free(&p->b);
	free(p);
	return 0;
}

static void differs(const struct pair *p, const char *want)
{
	char diff[256];

	assert_false(snapshot_equal(&p->a, &p->b, diff, sizeof(diff)));
	assert_string_equal(diff, want);
}

static void test_equal_clears_diff(void **state)
{
	struct pair *p = *state;
	char diff[64] = "stale";

	assert_true(snapshot_equal(&p->a, &p->b, diff, sizeof(diff)));
	assert_string_equal(diff, "");
	assert_true(snapshot_equal(&p->a, &p->a, NULL, 0));
}

/* One change at a time, each named with its values. */
static void test_each_field_named(void **state)
{
	struct pair *p = *state;
	struct snapshot *b = &p->b;
	char *saved;

	b->duration_s = 31;
	differs(p, "snapshot.duration_s: 30 != 31");
	b->duration_s = 30;

	b->probe_cost[2].per_call_ns = 1051;
	differs(p, "probe_cost[emulated].per_call_ns: 1050 != 1051");
	b->probe_cost[2].per_call_ns = 1050;

	b->probe_slots[9].in_window_ns = -12;
	differs(p, "calibration.slots[9].in_window_ns: -12.5 != -12");
	b->probe_slots[9].in_window_ns = -12.5;

	saved = b->probe_slots[3].behaves_as;
	b->probe_slots[3].behaves_as = xstrdup("single-step");
	differs(p, "calibration.slots[3].behaves_as: 'emulated' != 'single-step'");
	free(b->probe_slots[3].behaves_as);
	b->probe_slots[3].behaves_as = saved;

	b->handlers[1].unwound = 3;
	differs(p, "handlers[1].unwound: 2 != 3");
	b->handlers[1].unwound = 2;

	b->handlers[0].nested_calls++;
	differs(p, "handlers[0].nested_calls: 3612 != 3613");
	b->handlers[0].nested_calls--;

	b->handlers[0].site_classes = 0;
	differs(p, "handlers[0].site_classes: 10 != 0");
	b->handlers[0].site_classes = (1u << 1) | (1u << 3);

	saved = b->handlers[0].exit_site;
	b->handlers[0].exit_site = xstrdup("jmp");
	differs(p, "handlers[0].exit_site: 'ret' != 'jmp'");
	free(b->handlers[0].exit_site);
	b->handlers[0].exit_site = saved;

	b->handlers[5].oncpu_measured = true;
	differs(p, "handlers[5].oncpu_measured: 0 != 1");
	b->handlers[5].oncpu_measured = false;

	b->handlers[2].instances[1].total_ns++;
	differs(p, "handlers[2].instances[1].total_ns: 194720963 != 194720964");
	b->handlers[2].instances[1].total_ns--;

	b->edges[4].waits = false;
	differs(p, "edges[4].waits: 1 != 0");
	b->edges[4].waits = true;

	b->flows[1].declared[2].waits = false;
	differs(p, "flows[1].declared[2].waits: 1 != 0");
	b->flows[1].declared[2].waits = true;

	b->bundles[0].inflight_ns[3]++;
	differs(p, "bundles[0].concurrency level 3: 0/2500000000 != 0/2500000001");
	b->bundles[0].inflight_ns[3]--;

	b->bundles[0].cpu_s = 41.5;
	differs(p, "bundles[0].cpu_s: 41.25 != 41.5");
	b->bundles[0].cpu_s = 41.25;

	b->bundles[1].pid_threads[0] = 2;
	differs(p, "bundles[1].pid_threads[0]: 1 != 2");
	b->bundles[1].pid_threads[0] = 1;

	assert_true(snapshot_equal(&p->a, b, NULL, 0));
}

/* Two differences: the one met first, in the document's order. */
static void test_first_difference(void **state)
{
	struct pair *p = *state;
	struct snapshot *b = &p->b;

	b->handlers[3].calls++;
	b->edges[0].calls++;
	b->threads_dropped = 1;
	differs(p, "snapshot.threads_dropped: 0 != 1");
	b->threads_dropped = 0;
	differs(p, "handlers[3].calls: 1212 != 1213");
	b->handlers[3].calls--;
	differs(p, "edges[0].calls: 3600 != 3601");
	b->edges[0].calls--;
	/* within a handler: its histogram before its processes */
	b->handlers[0].hist[hist_bucket(400000)]++;
	b->handlers[0].instances[0].calls++;
	differs(p, "handlers[0].hist[248] (393216 ns): 189 != 190");
	b->handlers[0].hist[hist_bucket(400000)]--;
	differs(p, "handlers[0].instances[0].calls: 2400 != 2401");
	b->handlers[0].instances[0].calls--;
	assert_true(snapshot_equal(&p->a, b, NULL, 0));
}

/* NULL and "" are the same string; a missing site class is "unknown". */
static void test_null_is_empty(void **state)
{
	struct pair *p = *state;
	struct snapshot *b = &p->b;

	free(p->a.attach_mode);
	p->a.attach_mode = NULL;
	free(b->attach_mode);
	b->attach_mode = xstrdup("");
	free(p->a.handlers[4].site_class);
	p->a.handlers[4].site_class = NULL;
	assert_string_equal(b->handlers[4].site_class, "unknown");
	assert_true(snapshot_equal(&p->a, b, NULL, 0));
	free(b->attach_mode);
	b->attach_mode = xstrdup("uprobe");
	differs(p, "snapshot.attach_mode: '' != 'uprobe'");
}

/* Counts that differ are named before the items they would index. */
static void test_counts(void **state)
{
	struct pair *p = *state;
	struct snapshot *b = &p->b;

	b->n_edges--;
	differs(p, "snapshot.n_edges: 5 != 4");
	b->n_edges++;
	b->handlers[0].n_instances--;
	differs(p, "handlers[0].n_instances: 2 != 1");
	b->handlers[0].n_instances++;
	b->bundles[0].n_pids--;
	differs(p, "bundles[0].n_pids: 2 != 1");
	b->bundles[0].n_pids++;
	assert_true(snapshot_equal(&p->a, b, NULL, 0));
}

/* The diff is cut to its buffer, terminated. */
static void test_short_diff_buffer(void **state)
{
	struct pair *p = *state;
	char diff[16];

	memset(diff, 'X', sizeof(diff));
	p->b.nproc = 5;
	assert_false(snapshot_equal(&p->a, &p->b, diff, 9));
	assert_string_equal(diff, "snapshot");
	assert_int_equal(diff[9], 'X');
	assert_false(snapshot_equal(&p->a, &p->b, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_equal_clears_diff, load_pair, free_pair),
		cmocka_unit_test_setup_teardown(test_each_field_named, load_pair, free_pair),
		cmocka_unit_test_setup_teardown(test_first_difference, load_pair, free_pair),
		cmocka_unit_test_setup_teardown(test_null_is_empty, load_pair, free_pair),
		cmocka_unit_test_setup_teardown(test_counts, load_pair, free_pair),
		cmocka_unit_test_setup_teardown(test_short_diff_buffer, load_pair, free_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
