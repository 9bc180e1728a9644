// SPDX-License-Identifier: MIT
/*
 * The snapshot's writers (snapshot_to_json, snapshot_write) print each
 * handler while the document is serialized instead of building the whole
 * json-c tree first (user/snapshot/snapshot_write.c, lazy_handler): their
 * text must be the tree's, byte for byte, pretty and compact. On the
 * fixture tests/snapshots/basic.json (run from the repository root), alone
 * and merged across two hosts (instances and processes with hosts, a hosts
 * list), and with no handlers at all.
 *
 * And load -> write gives the file back byte for byte: basic.json, and
 * tests/snapshots/full.json, which carries every key that is written only
 * when set (calibration slots, site_classes, unwound, probe_ns,
 * self_probe_ns, nested_calls, entry_site, exit_site, exits_fallback, a
 * null oncpu_ns, waits, concurrency, cpu_s, cpus, cpus_source). full.json
 * is basic.json with those keys added, as `flowprof merge full.json -o`
 * writes it; keep it in that canonical form.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "cost_slot.h"
#include "snapshot/snapshot.h"

#define FIXTURE "tests/snapshots/basic.json"
#define FULL "tests/snapshots/full.json"

static void load_file(const char *path, struct snapshot *s)
{
	char err[512];

	if (snapshot_load(path, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

static void load_fixture(struct snapshot *s)
{
	load_file(FIXTURE, s);
}

/* The text from the whole json-c tree, as before. */
static char *tree_text(const struct snapshot *s, bool pretty)
{
	json_object *o = snapshot_to_json_object(s);
	char *text = jo_to_string(o, pretty);

	json_object_put(o);
	return text;
}

static void same_text(const struct snapshot *s)
{
	char dir[] = "/tmp/flowprof-test-XXXXXX", *path, *file;
	size_t len;

	for (int pretty = 0; pretty <= 1; pretty++) {
		char *a = tree_text(s, pretty), *b = snapshot_to_json(s, pretty);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/snap.json", dir);
	assert_int_equal(snapshot_write(s, path), 0);
	file = read_file(path, &len);
	assert_non_null(file);
	{
		char *a = tree_text(s, true);

		assert_int_equal(len, strlen(a));
		assert_memory_equal(file, a, len);
		free(a);
	}
	free(file);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_fixture(void **state)
{
	struct snapshot s;

	(void)state;
	load_fixture(&s);
	assert_true(s.n_handlers > 1);
	same_text(&s);
	snapshot_free(&s);
}

static void test_merged_hosts(void **state)
{
	struct snapshot a, b, m = { 0 };
	char err[256];

	(void)state;
	load_fixture(&a);
	load_fixture(&b);
	free(b.host);
	b.host = xstrdup("other-host");
	assert_int_equal(snapshot_merge(&m, &a, err, sizeof(err)), 0);
	assert_int_equal(snapshot_merge(&m, &b, err, sizeof(err)), 0);
	assert_int_equal(m.n_hosts, 2);
	same_text(&m);
	snapshot_free(&m);
	snapshot_free(&a);
	snapshot_free(&b);
}

static void test_no_handlers(void **state)
{
	struct snapshot s = { 0 };

	(void)state;
	s.host = xstrdup("h");
	same_text(&s);
	snapshot_free(&s);
}

/* text loaded and written again: text itself. */
static void writes_back(const char *text, bool pretty)
{
	struct snapshot s;
	char err[512], *again;

	if (snapshot_parse("again.json", text, strlen(text), &s, err, sizeof(err)))
		fail_msg("%s", err);
	again = snapshot_to_json(&s, pretty);
	assert_string_equal(again, text);
	free(again);
	snapshot_free(&s);
}

/* The file, loaded and written (pretty), is the file; written compact, it
 * loads to the same snapshot, and that compact text writes back too. */
static void round_trip_file(const char *path)
{
	struct snapshot s, back;
	char *file, *compact, err[512];
	size_t len;

	file = read_file(path, &len);
	assert_non_null(file);
	assert_int_equal(strlen(file), len);
	load_file(path, &s);
	same_text(&s);
	writes_back(file, true);
	compact = snapshot_to_json(&s, false);
	if (snapshot_parse("compact.json", compact, strlen(compact), &back, err, sizeof(err)))
		fail_msg("%s", err);
	if (!snapshot_equal(&s, &back, err, sizeof(err)))
		fail_msg("compact: %s", err);
	writes_back(compact, false);
	free(compact);
	free(file);
	snapshot_free(&back);
	snapshot_free(&s);
}

static void test_basic_round_trip(void **state)
{
	(void)state;
	round_trip_file(FIXTURE);
}

static void test_full_round_trip(void **state)
{
	struct snapshot s;

	(void)state;
	round_trip_file(FULL);
	/* the keys that are written only when set are all there */
	load_file(FULL, &s);
	assert_int_equal(s.calib_rounds, 9);
	assert_true(s.probe_slots[9].measured); /* "ret" */
	assert_true(s.probe_slots[9].in_window_ns == -12.5);
	/* a slot of an older form has no in-window jitter: not known, not 0 */
	assert_true(isnan(s.probe_slots[9].in_window_jitter_ns));
	assert_true(s.probe_slots[SLOT_ENTRY_PUSH].in_window_jitter_ns == 1.5);
	assert_int_equal(s.handlers[0].site_classes, (1u << 1) | (1u << 3));
	assert_true(s.handlers[0].probe_measured);
	assert_string_equal(s.handlers[0].entry_site, "nop5");
	assert_string_equal(s.handlers[1].exits_fallback, "a jump out of the function");
	assert_int_equal(s.handlers[1].unwound, 2);
	assert_false(s.handlers[5].oncpu_measured);
	assert_true(s.edges[4].waits);
	assert_true(s.flows[1].declared[2].waits);
	assert_true(s.bundles[0].conc_measured);
	assert_int_equal(s.bundles[0].live_ns[8], 29997900);
	assert_true(s.bundles[0].cpu_measured);
	assert_true(s.bundles[0].cpus == 1.5);
	assert_false(s.bundles[1].cpu_measured);
	assert_string_equal(s.bundles[1].cpus_source, "affinity");
	snapshot_free(&s);
}

/* Merged across hosts (hosts[], instance and process hosts, the newer
 * keys merged): written, loaded and written again, byte for byte. */
static void test_full_merged_hosts_round_trip(void **state)
{
	struct snapshot a, b, m = { 0 };
	char err[256], *pretty, *compact;

	(void)state;
	load_file(FULL, &a);
	load_file(FULL, &b);
	free(b.host);
	b.host = xstrdup("web-2");
	assert_int_equal(snapshot_merge(&m, &a, err, sizeof(err)), 0);
	assert_int_equal(snapshot_merge(&m, &b, err, sizeof(err)), 0);
	assert_int_equal(m.n_hosts, 2);
	same_text(&m);
	pretty = snapshot_to_json(&m, true);
	compact = snapshot_to_json(&m, false);
	writes_back(pretty, true);
	writes_back(compact, false);
	free(pretty);
	free(compact);
	snapshot_free(&m);
	snapshot_free(&a);
	snapshot_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_merged_hosts),
		cmocka_unit_test(test_no_handlers),
		cmocka_unit_test(test_basic_round_trip),
		cmocka_unit_test(test_full_round_trip),
		cmocka_unit_test(test_full_merged_hosts_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
