// SPDX-License-Identifier: MIT
/*
 * snapshot_delta (user/snapshot_delta.c): a window's snapshot is the
 * reading at its end minus the reading at its start, exactly. Built on the
 * fixture tests/snapshots/basic.json (run from the repository root).
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

#define FIXTURE "tests/snapshots/basic.json"

static void load_fixture(struct snapshot *s)
{
	char err[512];

	if (snapshot_load(FIXTURE, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

static void copy(struct snapshot *dst, const struct snapshot *src)
{
	char err[256];

	memset(dst, 0, sizeof(*dst));
	assert_int_equal(snapshot_merge(dst, src, err, sizeof(err)), 0);
}

/* An earlier reading: every count of s scaled down to about a third. */
static void earlier(struct snapshot *e, const struct snapshot *s)
{
	copy(e, s);
	for (int i = 0; i < e->n_handlers; i++) {
		struct snap_handler *h = &e->handlers[i];

		h->entries /= 3;
		h->calls /= 3;
		h->incomplete /= 3;
		h->total_ns /= 3;
		h->self_ns /= 3;
		h->oncpu_ns /= 3;
		h->sumsq_ns2 /= 3;
		for (int b = 0; b < HIST_BUCKETS; b++)
			h->hist[b] /= 3;
		for (int k = 0; k < h->n_instances; k++) {
			h->instances[k].calls /= 3;
			h->instances[k].total_ns /= 3;
		}
	}
	for (int i = 0; i < e->n_edges; i++)
		e->edges[i].calls /= 3;
	for (int i = 0; i < e->n_flows; i++) {
		e->flows[i].invocations /= 3;
		for (int v = 0; v < e->flows[i].n_visits; v++)
			e->flows[i].visits[v].calls /= 3;
	}
	e->unmatched_returns /= 3;
}

static void test_delta_is_end_minus_start(void **state)
{
	struct snapshot end, start, d = { 0 };
	char err[256] = "";

	(void)state;
	load_fixture(&end);
	earlier(&start, &end);
	assert_int_equal(snapshot_delta(&end, &start, &d, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(d.n_handlers, end.n_handlers);
	for (int i = 0; i < d.n_handlers; i++) {
		const struct snap_handler *a = &end.handlers[i], *b = &start.handlers[i];
		const struct snap_handler *h = &d.handlers[i];

		assert_string_equal(h->id, a->id);
		assert_int_equal(h->calls, a->calls - b->calls);
		assert_int_equal(h->entries, a->entries - b->entries);
		assert_int_equal(h->total_ns, a->total_ns - b->total_ns);
		assert_int_equal(h->self_ns, a->self_ns - b->self_ns);
		assert_int_equal(h->oncpu_ns, a->oncpu_ns - b->oncpu_ns);
		for (int k = 0; k < HIST_BUCKETS; k++)
			assert_int_equal(h->hist[k], a->hist[k] - b->hist[k]);
		assert_int_equal(hist_count(h->hist), hist_count(a->hist) - hist_count(b->hist));
		for (int k = 0; k < h->n_instances; k++)
			assert_int_equal(h->instances[k].calls,
					 a->instances[k].calls - b->instances[k].calls);
		/* extremes: inside the recording's, on the window's buckets */
		if (h->calls) {
			assert_true(h->min_ns >= a->min_ns && h->max_ns <= a->max_ns);
			assert_true(h->min_ns <= h->max_ns);
		} else {
			assert_int_equal(h->min_ns, 0);
			assert_int_equal(h->max_ns, 0);
		}
	}
	for (int i = 0; i < d.n_edges; i++)
		assert_int_equal(d.edges[i].calls, end.edges[i].calls - start.edges[i].calls);
	for (int i = 0; i < d.n_flows; i++) {
		assert_int_equal(d.flows[i].invocations,
				 end.flows[i].invocations - start.flows[i].invocations);
		for (int v = 0; v < d.flows[i].n_visits; v++)
			assert_int_equal(d.flows[i].visits[v].calls,
					 end.flows[i].visits[v].calls -
						 start.flows[i].visits[v].calls);
	}
	assert_int_equal(d.unmatched_returns, end.unmatched_returns - start.unmatched_returns);
	/* bundles and header are end's */
	assert_int_equal(d.n_bundles, end.n_bundles);
	assert_int_equal(d.bundles[0].threads, end.bundles[0].threads);
	assert_string_equal(d.host, end.host);
	snapshot_free(&d);
	snapshot_free(&start);
	snapshot_free(&end);
}

static void test_delta_of_itself_is_empty(void **state)
{
	struct snapshot s, d = { 0 };
	char err[256];

	(void)state;
	load_fixture(&s);
	assert_int_equal(snapshot_delta(&s, &s, &d, err, sizeof(err)), 0);
	for (int i = 0; i < d.n_handlers; i++) {
		assert_int_equal(d.handlers[i].calls, 0);
		assert_int_equal(d.handlers[i].total_ns, 0);
		assert_int_equal(hist_count(d.handlers[i].hist), 0);
		assert_int_equal(d.handlers[i].min_ns, 0);
		assert_int_equal(d.handlers[i].max_ns, 0);
	}
	for (int i = 0; i < d.n_flows; i++)
		assert_int_equal(d.flows[i].invocations, 0);
	snapshot_free(&d);
	snapshot_free(&s);
}

/* Against an empty start (nothing recorded yet), the delta is end itself. */
static void test_delta_from_nothing(void **state)
{
	struct snapshot s, empty = { 0 }, d = { 0 };
	char err[256], diff[256] = "";

	(void)state;
	load_fixture(&s);
	assert_int_equal(snapshot_delta(&s, &empty, &d, err, sizeof(err)), 0);
	/* only the extremes may move, to bucket bounds inside the exact ones */
	for (int i = 0; i < d.n_handlers; i++) {
		assert_true(d.handlers[i].min_ns >= s.handlers[i].min_ns);
		d.handlers[i].min_ns = s.handlers[i].min_ns;
		d.handlers[i].max_ns = s.handlers[i].max_ns;
	}
	if (!snapshot_equal(&d, &s, diff, sizeof(diff)))
		fail_msg("delta from nothing differs: %s", diff);
	snapshot_free(&d);
	snapshot_free(&s);
}

static void test_delta_refuses_a_later_start(void **state)
{
	struct snapshot end, start, d = { 0 };
	char err[256];

	(void)state;
	load_fixture(&end);
	earlier(&start, &end);
	/* swapped: the "start" has more calls than the "end" */
	assert_int_equal(snapshot_delta(&start, &end, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "entries of shop.browse went down from 3600 to 1200: the two "
				 "snapshots are not readings of one recording in order");
	assert_null(d.handlers);
	snapshot_free(&start);
	snapshot_free(&end);
}

/* A level's concurrency time read while the BPF programs move the level can
 * read less than before (snapshot_delta.c, sub_clamped): the window has none
 * there, and the delta goes on. */
static void test_delta_concurrency_read_mid_change(void **state)
{
	struct snapshot end, start, d = { 0 };
	char err[256] = "";

	(void)state;
	load_fixture(&end);
	earlier(&start, &end);
	end.bundles[0].conc_measured = start.bundles[0].conc_measured = true;
	end.bundles[0].live_ns[0] = 3000;
	start.bundles[0].live_ns[0] = 1000;
	end.bundles[0].live_ns[1] = 1000;
	start.bundles[0].live_ns[1] = 1500;
	assert_int_equal(snapshot_delta(&end, &start, &d, err, sizeof(err)), 0);
	assert_int_equal(d.bundles[0].live_ns[0], 2000);
	assert_int_equal(d.bundles[0].live_ns[1], 0);
	snapshot_free(&d);
	snapshot_free(&start);
	snapshot_free(&end);
}

/* In place (what live_collect does) is the copy's result, to the byte. */
static void test_subtract_in_place_is_delta(void **state)
{
	struct snapshot end, start, d = { 0 };
	char err[256] = "";
	char *a, *b;

	(void)state;
	load_fixture(&end);
	earlier(&start, &end);
	assert_int_equal(snapshot_delta(&end, &start, &d, err, sizeof(err)), 0);
	assert_int_equal(snapshot_subtract(&end, &start, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	a = snapshot_to_json(&d, true);
	b = snapshot_to_json(&end, true);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* a later start is refused in place too */
	assert_int_equal(snapshot_subtract(&start, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not readings of one recording in order"));
	snapshot_free(&d);
	snapshot_free(&start);
	snapshot_free(&end);
}

/* A start kept compact (what live.c keeps while recording) subtracts to the
 * same bytes, and refuses a later start with the same words. */
static void test_compact_start_is_the_start(void **state)
{
	struct snapshot end, start, a, b, tmp;
	struct snapshot_start st, st_end;
	char err[256] = "", err2[256] = "";
	char *ja, *jb;

	(void)state;
	load_fixture(&end);
	earlier(&start, &end);
	copy(&a, &end);
	copy(&b, &end);
	assert_int_equal(snapshot_subtract(&a, &start, err, sizeof(err)), 0);
	copy(&tmp, &start);
	snapshot_start_take(&st, &tmp);
	assert_null(tmp.handlers);
	assert_int_equal(snapshot_subtract_start(&b, &st, err, sizeof(err)), 0);
	ja = snapshot_to_json(&a, true);
	jb = snapshot_to_json(&b, true);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	snapshot_free(&a);
	snapshot_free(&b);
	/* the end as a start of the start: refused, as snapshot_subtract says it */
	copy(&a, &start);
	copy(&b, &start);
	copy(&tmp, &end);
	snapshot_start_take(&st_end, &tmp);
	assert_int_equal(snapshot_subtract(&a, &end, err, sizeof(err)), -1);
	assert_int_equal(snapshot_subtract_start(&b, &st_end, err2, sizeof(err2)), -1);
	assert_string_equal(err, err2);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_start_free(&st_end);
	snapshot_start_free(&st);
	snapshot_free(&start);
	snapshot_free(&end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_is_end_minus_start),
		cmocka_unit_test(test_delta_of_itself_is_empty),
		cmocka_unit_test(test_delta_from_nothing),
		cmocka_unit_test(test_delta_refuses_a_later_start),
		cmocka_unit_test(test_delta_concurrency_read_mid_change),
		cmocka_unit_test(test_subtract_in_place_is_delta),
		cmocka_unit_test(test_compact_start_is_the_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
