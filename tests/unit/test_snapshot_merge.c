// SPDX-License-Identifier: MIT
/*
 * The merge (user/snapshot/snapshot_merge.c) on the fixtures: associative
 * in every grouping, to the field and to the byte of the written document;
 * a merge into nothing is a copy; the rules of the keys that are written
 * only when set (tests/snapshots/full.json: calibration slots, probe
 * corrections, entry and exit sites, unwound calls, waits, concurrency,
 * CPU time and CPUs), on one host and across hosts, also with a document
 * that lacks them (tests/snapshots/basic.json); the earliest start as a
 * time; and a refused merge leaving the first snapshot as it was. The
 * rules themselves are in docs/snapshot.md, "Merging". Run from the
 * repository root.
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

#define BASIC "tests/snapshots/basic.json"
#define FULL "tests/snapshots/full.json"

static void load(const char *path, struct snapshot *s)
{
	char err[512];

	if (snapshot_load(path, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

static void merge_ok(struct snapshot *dst, const struct snapshot *src)
{
	char err[256];

	if (snapshot_merge(dst, src, err, sizeof(err)))
		fail_msg("merge failed: %s", err);
}

static void copy_of(struct snapshot *dst, const struct snapshot *src)
{
	memset(dst, 0, sizeof(*dst));
	merge_ok(dst, src);
}

/* In-flight means add up as floating point, the one rule that is exact
 * only up to rounding (docs/snapshot.md): exact binary fractions keep the
 * sums exact in any order. */
static void exact_inflight(struct snapshot *s, int seed)
{
	for (int i = 0; i < s->n_handlers; i++)
		s->handlers[i].inflight_mean = (double)((i + seed) % 5) / 4;
}

/* Four recordings: full.json on web-1; full.json on web-2, later, with
 * other concurrency and CPU time; basic.json (no newer keys) on web-1; and
 * full.json on web-3 whose start, in another time zone, is the earliest. */
static void fleet(struct snapshot s[4])
{
	load(FULL, &s[0]);
	load(FULL, &s[1]);
	set_str(&s[1].host, "web-2");
	set_str(&s[1].started_at, "2026-11-23T00:41:59Z");
	s[1].bundles[0].cpu_s = 3.5;
	s[1].bundles[0].live_ns[9] = 7;
	s[1].bundles[0].live_max = 9;
	s[1].handlers[1].unwound = 1;
	load(BASIC, &s[2]);
	load(FULL, &s[3]);
	set_str(&s[3].host, "web-3");
	set_str(&s[3].kernel, "6.12.0");
	set_str(&s[3].started_at, "2026-11-23T00:00:00+01:00"); /* 23:00Z on the 22nd */
	s[3].bundles[1].cpus = 2;
	for (int i = 0; i < 4; i++)
		exact_inflight(&s[i], i);
}

static void free_fleet(struct snapshot s[4])
{
	for (int i = 0; i < 4; i++)
		snapshot_free(&s[i]);
}

/* x + y as a new snapshot. */
static struct snapshot sum(const struct snapshot *x, const struct snapshot *y)
{
	struct snapshot m;

	copy_of(&m, x);
	merge_ok(&m, y);
	return m;
}

static void assert_same(const struct snapshot *x, const struct snapshot *y, const char *what)
{
	char diff[512], *tx, *ty;

	if (!snapshot_equal(x, y, diff, sizeof(diff)))
		fail_msg("%s: %s", what, diff);
	for (int pretty = 0; pretty <= 1; pretty++) {
		tx = snapshot_to_json(x, pretty);
		ty = snapshot_to_json(y, pretty);
		if (strcmp(tx, ty))
			fail_msg("%s: same snapshot, other text", what);
		free(tx);
		free(ty);
	}
}

static void test_associative(void **state)
{
	struct snapshot s[4], ab, bc, cd, abc1, abc2, r1, r2, r3, t;

	(void)state;
	fleet(s);
	/* three at a time, every three of the four */
	for (int i = 0; i < 4; i++) {
		const struct snapshot *a = &s[i], *b = &s[(i + 1) % 4], *c = &s[(i + 2) % 4];

		ab = sum(a, b);
		bc = sum(b, c);
		abc1 = sum(&ab, c);
		abc2 = sum(a, &bc);
		assert_same(&abc1, &abc2, "(a+b)+c != a+(b+c)");
		snapshot_free(&ab);
		snapshot_free(&bc);
		snapshot_free(&abc1);
		snapshot_free(&abc2);
	}
	/* four: ((a+b)+c)+d, a+(b+(c+d)), (a+b)+(c+d) */
	ab = sum(&s[0], &s[1]);
	t = sum(&ab, &s[2]);
	r1 = sum(&t, &s[3]);
	snapshot_free(&t);
	cd = sum(&s[2], &s[3]);
	t = sum(&s[1], &cd);
	r2 = sum(&s[0], &t);
	snapshot_free(&t);
	r3 = sum(&ab, &cd);
	assert_same(&r1, &r2, "((a+b)+c)+d != a+(b+(c+d))");
	assert_same(&r1, &r3, "((a+b)+c)+d != (a+b)+(c+d)");
	assert_int_equal(r1.n_hosts, 3);
	assert_string_equal(r1.host, "web-1,web-2,web-3");
	assert_string_equal(r1.started_at, "2026-11-23T00:00:00+01:00");
	snapshot_free(&ab);
	snapshot_free(&cd);
	snapshot_free(&r1);
	snapshot_free(&r2);
	snapshot_free(&r3);
	free_fleet(s);
}

static void test_merge_into_nothing_is_a_copy(void **state)
{
	struct snapshot a, m;

	(void)state;
	load(FULL, &a);
	copy_of(&m, &a);
	assert_same(&a, &m, "copy");
	assert_ptr_not_equal(m.probe_slots[1].behaves_as, a.probe_slots[1].behaves_as);
	assert_ptr_not_equal(m.bundles[0].cpus_source, a.bundles[0].cpus_source);
	assert_ptr_not_equal(m.handlers[1].exits_fallback, a.handlers[1].exits_fallback);
	snapshot_free(&a);
	snapshot_free(&m);
}

/* The same host recorded twice: times at each concurrency level and CPU
 * time add up; its CPUs are the same CPUs. */
static void test_newer_keys_same_host(void **state)
{
	struct snapshot a, m;
	const struct snap_bundle *b;
	const struct snap_handler *h;

	(void)state;
	load(FULL, &a);
	copy_of(&m, &a);
	merge_ok(&m, &a);
	b = &m.bundles[0];
	assert_true(b->conc_measured);
	assert_int_equal(b->live_max, 8);
	assert_int_equal(b->inflight_max, 5);
	assert_int_equal(b->live_ns[8], 2 * 29997900);
	assert_int_equal(b->inflight_ns[0], 2 * 12000000000ULL);
	assert_true(b->cpu_measured);
	assert_true(b->cpu_s == 82.5);
	assert_true(b->cpus == 1.5);
	assert_string_equal(b->cpus_source, "cgroup cpu.max");
	assert_false(m.bundles[1].cpu_measured);
	assert_true(m.bundles[1].cpus == 4);
	h = snapshot_handler(&m, "shop.checkout");
	assert_int_equal(h->unwound, 4);
	assert_true(h->probe_measured);
	assert_int_equal(h->probe_ns, 2 * 996300);
	assert_int_equal(h->self_probe_ns, 2 * 498000);
	assert_int_equal(h->nested_calls, 2 * 3600);
	assert_true(h->probe_cpu_measured);
	assert_int_equal(h->probe_cpu_ns, 2 * 7200000);
	assert_string_equal(h->exits_fallback, "a jump out of the function");
	/* browse's own arrivals (a flow's entry) add up; checkout has none */
	assert_false(h->arrival_measured);
	h = snapshot_handler(&m, "shop.browse");
	assert_true(h->arrival_measured);
	assert_int_equal(h->arrival.calls, 2 * 3000);
	assert_int_equal(h->arrival.ns, 2 * 1390319298ULL);
	assert_int_equal(h->arrival.probe_ns, 2 * 1920750);
	assert_int_equal(h->arrival.self_ns, 2 * 556126296ULL);
	assert_int_equal(h->arrival.self_probe_ns, 2 * 960000);
	/* with a snapshot that lacks them, none: a part would read as all */
	{
		struct snapshot old, mixed;

		load(FULL, &old);
		snapshot_handler(&old, "shop.browse")->arrival_measured = false;
		copy_of(&mixed, &a);
		merge_ok(&mixed, &old);
		assert_false(snapshot_handler(&mixed, "shop.browse")->arrival_measured);
		assert_int_equal(snapshot_handler(&mixed, "shop.browse")->arrival.calls, 0);
		snapshot_free(&old);
		snapshot_free(&mixed);
	}
	assert_int_equal(m.calib_rounds, 9);
	assert_true(m.probe_slots[9].in_window_ns == -12.5);
	assert_int_equal(m.n_hosts, 0);
	snapshot_free(&a);
	snapshot_free(&m);
}

/* Across hosts the CPUs add up too. */
static void test_newer_keys_across_hosts(void **state)
{
	struct snapshot a, b, m;

	(void)state;
	load(FULL, &a);
	load(FULL, &b);
	set_str(&b.host, "web-2");
	set_str(&b.bundles[0].cpus_source, "affinity");
	m = sum(&a, &b);
	assert_true(m.bundles[0].cpus == 3);
	assert_string_equal(m.bundles[0].cpus_source, "cgroup cpu.max");
	assert_true(m.bundles[1].cpus == 8);
	assert_true(m.bundles[0].cpu_s == 82.5);
	assert_int_equal(m.bundles[0].live_ns[8], 2 * 29997900);
	assert_string_equal(m.bundles[0].pid_hosts[2], "web-2");
	assert_string_equal(snapshot_handler(&m, "shop.browse")->instances[2].host, "web-2");
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&m);
}

/* A recording without the newer keys first, then one with them: what only
 * one measured is not a measurement of both (probe corrections, CPU time);
 * what one of them knows is kept (calibration, sites, concurrency, CPUs);
 * site classes and waits gather both sides'. */
static void test_older_recording_first(void **state)
{
	struct snapshot old, full, m;
	const struct snap_handler *h;
	const struct snap_flow *f;

	(void)state;
	load(BASIC, &old);
	load(FULL, &full);
	m = sum(&old, &full);
	h = snapshot_handler(&m, "shop.browse");
	assert_false(h->probe_measured);
	assert_int_equal(h->probe_ns, 0);
	assert_int_equal(h->self_probe_ns, 0);
	assert_int_equal(h->nested_calls, 0);
	assert_string_equal(h->entry_site, "nop5");
	assert_string_equal(h->exit_site, "ret");
	assert_string_equal(h->site_class, "single-step");
	assert_int_equal(h->site_classes, (1u << 1) | (1u << 3));
	assert_int_equal(snapshot_handler(&m, "shop.checkout")->unwound, 2);
	assert_false(snapshot_handler(&m, "mail.send")->oncpu_measured);
	assert_int_equal(m.calib_rounds, 9);
	assert_true(m.probe_slots[1].measured);
	assert_string_equal(m.probe_slots[3].behaves_as, "emulated");
	assert_true(m.bundles[0].conc_measured);
	assert_int_equal(m.bundles[0].live_ns[8], 29997900);
	assert_false(m.bundles[0].cpu_measured);
	assert_true(m.bundles[0].cpu_s == 0);
	assert_true(m.bundles[0].cpus == 1.5);
	assert_int_equal(m.n_edges, 5);
	assert_true(m.edges[4].waits);
	f = snapshot_flow(&m, "checkout");
	assert_true(f->declared[2].async);
	assert_true(f->declared[2].waits);
	snapshot_free(&old);
	snapshot_free(&full);
	snapshot_free(&m);
}

/* started_at is the earliest as a time, whatever the zone; a time that
 * does not parse comes after every one that does. */
static void test_earliest_start(void **state)
{
	struct snapshot a, b, m;

	(void)state;
	load(BASIC, &a);
	load(BASIC, &b);
	set_str(&b.started_at, "2026-11-23T00:30:00+02:00"); /* 22:30Z */
	m = sum(&a, &b);
	assert_string_equal(m.started_at, "2026-11-23T00:30:00+02:00");
	snapshot_free(&m);
	set_str(&a.started_at, "");
	m = sum(&a, &b);
	assert_string_equal(m.started_at, "2026-11-23T00:30:00+02:00");
	snapshot_free(&m);
	m = sum(&b, &a);
	assert_string_equal(m.started_at, "2026-11-23T00:30:00+02:00");
	snapshot_free(&m);
	snapshot_free(&a);
	snapshot_free(&b);
}

static void test_refused_merge_changes_nothing(void **state)
{
	struct snapshot a, b, before;
	char err[256];

	(void)state;
	load(FULL, &a);
	load(FULL, &b);
	set_str(&b.host, "web-2");
	set_str(&b.handlers[5].bundle, "shop");
	copy_of(&before, &a);
	assert_int_equal(snapshot_merge(&a, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "handler mail.send is in bundle mail in one snapshot and in "
				 "bundle shop in the other");
	assert_same(&a, &before, "after a refused merge");
	assert_int_equal(snapshot_merge(&a, &b, NULL, 0), -1);
	assert_same(&a, &before, "after a refused merge");
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_associative),
		cmocka_unit_test(test_merge_into_nothing_is_a_copy),
		cmocka_unit_test(test_newer_keys_same_host),
		cmocka_unit_test(test_newer_keys_across_hosts),
		cmocka_unit_test(test_older_recording_first),
		cmocka_unit_test(test_earliest_start),
		cmocka_unit_test(test_refused_merge_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
