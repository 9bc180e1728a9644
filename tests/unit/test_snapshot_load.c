// SPDX-License-Identifier: MIT
/*
 * The snapshot loader (user/snapshot/snapshot_load.c): its three entry
 * points (a file, text, a document json-c has already parsed) load the
 * same snapshot and fail the same way, leaving the snapshot zeroed; the
 * keys written only when set (tests/snapshots/full.json) load into their
 * fields, and each error names the file and the field. A sweep document's
 * steps load their snapshots with the same loader. Run from the repository
 * root (tests/run-tests.sh does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "base/base.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

#define FULL "tests/snapshots/full.json"
#define NAME "snap.json"
#define REMOVE ((json_object *)-1)

static json_object *full_doc(void)
{
	json_object *doc = json_object_from_file(FULL);

	if (!doc)
		fail_msg("cannot read %s (run from the repository root)", FULL);
	return doc;
}

static void assert_zeroed(const struct snapshot *s)
{
	struct snapshot zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(s, &zero, sizeof(zero));
}

/* full.json with the value at the JSON pointer path replaced (REMOVE: the
 * member removed). */
static json_object *changed(const char *path, json_object *value)
{
	json_object *doc = full_doc();

	if (value == REMOVE) {
		char *parent = xstrdup(path), *slash = strrchr(parent, '/');
		json_object *p;

		*slash = '\0';
		assert_int_equal(json_pointer_get(doc, parent, &p), 0);
		assert_true(json_object_object_get_ex(p, slash + 1, NULL));
		json_object_object_del(p, slash + 1);
		free(parent);
	} else {
		assert_int_equal(json_pointer_set(&doc, path, value), 0);
	}
	return doc;
}

/* The change fails to load with want, as text and as a parsed object. */
static void expect_error(const char *path, json_object *value, const char *want)
{
	json_object *doc = changed(path, value);
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	struct snapshot s;
	char err[512];

	memset(&s, 0xa5, sizeof(s));
	assert_int_equal(snapshot_parse(NAME, text, strlen(text), &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_zeroed(&s);
	memset(&s, 0xa5, sizeof(s));
	memset(err, 0, sizeof(err));
	assert_int_equal(snapshot_from_json_object(NAME, doc, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_zeroed(&s);
	json_object_put(doc);
}

/* A file, its text, and its parsed document load the same snapshot; the
 * document is left as it was. */
static void test_three_entry_points_agree(void **state)
{
	struct snapshot from_file, from_text, from_object;
	json_object *doc = full_doc();
	char *before = xstrdup(json_object_to_json_string(doc)), err[512] = "x";
	size_t len;
	char *text = read_file(FULL, &len);

	(void)state;
	assert_non_null(text);
	assert_int_equal(snapshot_load(FULL, &from_file, err, sizeof(err)), 0);
	assert_int_equal(snapshot_parse(FULL, text, len, &from_text, err, sizeof(err)), 0);
	strcpy(err, "stale");
	assert_int_equal(snapshot_from_json_object(FULL, doc, &from_object, err, sizeof(err)), 0);
	assert_string_equal(err, ""); /* cleared on success */
	if (!snapshot_equal(&from_file, &from_text, err, sizeof(err)))
		fail_msg("file != text: %s", err);
	if (!snapshot_equal(&from_file, &from_object, err, sizeof(err)))
		fail_msg("file != object: %s", err);
	assert_string_equal(json_object_to_json_string(doc), before);
	/* the object's strings are copied, not borrowed */
	json_object_put(doc);
	assert_string_equal(from_object.handlers[0].id, "shop.browse");
	snapshot_free(&from_file);
	snapshot_free(&from_text);
	snapshot_free(&from_object);
	free(before);
	free(text);
}

/* An embedded document's errors are named by the path given, as `report`
 * names a sweep's steps. */
static void test_object_errors_named_by_path(void **state)
{
	json_object *doc = changed("/handlers/0/calls", REMOVE), *arr;
	struct snapshot s;
	char err[512];

	(void)state;
	assert_int_equal(snapshot_from_json_object("sweep.json: steps[2].snapshot", doc, &s, err,
						   sizeof(err)), -1);
	assert_string_equal(err, "sweep.json: steps[2].snapshot: handlers[0].calls: missing");
	assert_int_equal(snapshot_from_json_object(NULL, doc, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "snapshot: handlers[0].calls: missing");
	/* no room for the error: still -1 */
	assert_int_equal(snapshot_from_json_object(NAME, doc, &s, NULL, 0), -1);
	assert_zeroed(&s);
	json_object_put(doc);
	arr = json_object_new_array();
	assert_int_equal(snapshot_from_json_object(NAME, arr, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "snap.json: not a flowprof snapshot (expected a JSON object)");
	assert_int_equal(snapshot_from_json_object(NAME, NULL, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "snap.json: not a flowprof snapshot (expected a JSON object)");
	json_object_put(arr);
}

/* The keys written only when set: a bad value of each is named. */
static void test_newer_keys_errors(void **state)
{
	json_object *levels = json_object_new_array();

	(void)state;
	expect_error("/calibration/rounds", json_object_new_string("x"),
		     "snap.json: calibration.rounds: expected an integer");
	expect_error("/calibration/slots", REMOVE, "snap.json: calibration.slots: missing");
	expect_error("/calibration/slots/ret/in_window_ns", json_object_new_string("x"),
		     "snap.json: calibration.slots.ret.in_window_ns: expected a finite number");
	expect_error("/calibration/slots/nop5/jitter_ns", json_object_new_int(-1),
		     "snap.json: calibration.slots.nop5.jitter_ns: expected a non-negative number");
	expect_error("/calibration/slots/nop5/behaves_as", json_object_new_int(5),
		     "snap.json: calibration.slots.nop5.behaves_as: expected a string");
	expect_error("/handlers/0/site_classes/1", json_object_new_string("fast"),
		     "snap.json: handlers[0].site_classes: expected nop5, emulated or "
		     "single-step (element 1)");
	expect_error("/handlers/0/probe_ns", json_object_new_double(1.5),
		     "snap.json: handlers[0].probe_ns: expected an integer");
	expect_error("/handlers/0/nested_calls", json_object_new_int(-3),
		     "snap.json: handlers[0].nested_calls: expected a non-negative integer");
	expect_error("/handlers/0/entry_site", json_object_new_int(1),
		     "snap.json: handlers[0].entry_site: expected a string");
	expect_error("/handlers/1/exits_fallback", json_object_new_boolean(1),
		     "snap.json: handlers[1].exits_fallback: expected a string");
	expect_error("/handlers/1/unwound", json_object_new_int(4),
		     "snap.json: handlers[1].unwound: 4 is greater than incomplete (3)");
	expect_error("/handlers/0/instances/0/host", json_object_new_int(5),
		     "snap.json: handlers[0].instances[0].host: expected a string");
	expect_error("/edges/4/waits", json_object_new_string("yes"),
		     "snap.json: edges[4].waits: expected true or false");
	expect_error("/flows/1/declared_calls/2/waits", json_object_new_int(1),
		     "snap.json: flows[1].declared_calls[2].waits: expected true or false");
	expect_error("/bundles/0/concurrency", json_object_new_array(),
		     "snap.json: bundles[0].concurrency: expected an object");
	expect_error("/bundles/0/concurrency/live_max", json_object_new_string("x"),
		     "snap.json: bundles[0].concurrency.live_max: expected an integer");
	expect_error("/bundles/0/concurrency/inflight_ns", REMOVE,
		     "snap.json: bundles[0].concurrency.inflight_ns: missing");
	expect_error("/bundles/0/concurrency/live_ns/2", json_object_new_int(-1),
		     "snap.json: bundles[0].concurrency.live_ns[2]: expected a non-negative "
		     "integer");
	for (int k = 0; k <= SNAP_CONC_LEVELS; k++)
		json_object_array_add(levels, json_object_new_int(0));
	expect_error("/bundles/0/concurrency/live_ns", levels,
		     "snap.json: bundles[0].concurrency.live_ns: more than 64 levels");
	expect_error("/bundles/0/cpu_s", json_object_new_int(-1),
		     "snap.json: bundles[0].cpu_s: expected a non-negative number");
	expect_error("/bundles/0/cpus", json_object_new_string("x"),
		     "snap.json: bundles[0].cpus: expected a number");
	expect_error("/bundles/0/cpus_source", json_object_new_int(1),
		     "snap.json: bundles[0].cpus_source: expected a string");
	expect_error("/bundles/0/processes/1/pid", json_object_new_int(1),
		     "snap.json: bundles[0].processes[1].pid: 1 does not match pids[1] (4243)");
	expect_error("/bundles/1/processes/0/host", json_object_new_int(1),
		     "snap.json: bundles[1].processes[0].host: expected a string");
}

/* What an older document lacks is filled as the writer would have it. */
static void test_older_documents(void **state)
{
	json_object *doc = full_doc(), *h, *b;
	struct snapshot s;
	char err[512];

	(void)state;
	assert_int_equal(json_pointer_get(doc, "/handlers/1", &h), 0);
	json_object_object_del(h, "entries");
	json_object_object_del(h, "self_ns");
	json_object_object_del(h, "site_class");
	json_object_object_del(h, "probe_ns");
	json_object_object_del(h, "oncpu_ns");
	assert_int_equal(json_pointer_get(doc, "/bundles/0", &b), 0);
	json_object_object_del(b, "processes");
	json_object_object_del(b, "concurrency");
	json_object_object_del(b, "cpu_s");
	json_object_object_del(doc, "calibration");
	if (snapshot_from_json_object(NAME, doc, &s, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(s.handlers[1].entries, s.handlers[1].calls + s.handlers[1].incomplete);
	assert_int_equal(s.handlers[1].self_ns, s.handlers[1].total_ns);
	assert_string_equal(s.handlers[1].site_class, "unknown");
	assert_false(s.handlers[1].probe_measured);
	assert_false(s.handlers[1].oncpu_measured);
	assert_null(s.bundles[0].pid_threads);
	assert_null(s.bundles[0].pid_hosts);
	assert_false(s.bundles[0].conc_measured);
	assert_false(s.bundles[0].cpu_measured);
	assert_true(s.bundles[0].cpus == 1.5);
	assert_int_equal(s.calib_rounds, 0);
	assert_false(s.probe_slots[1].measured);
	snapshot_free(&s);
	json_object_put(doc);
}

/* A sweep document (user/model/sweep_write.c) with doc as its one step's snapshot. */
static char *sweep_with(json_object *doc)
{
	return xasprintf(
		"{\"flowprof_sweep\": 1, \"variable\": \"users\", \"settle_s\": 0,"
		" \"think_s\": null, \"max_window_s\": 0, \"levels\": [1],"
		" \"steps\": [{\"users\": 1, \"status\": \"ok\", \"exit_status\": 0,"
		" \"signal\": null, \"window_s\": 1, \"measured\": {\"throughput_per_s\": 1,"
		" \"response_ns\": 5, \"flows\": []}, \"snapshot\": %s}]}",
		json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
}

/* A sweep's steps: the snapshot loader's snapshot, and its errors, named
 * after the step. */
static void test_sweep_steps_use_the_loader(void **state)
{
	json_object *doc = full_doc();
	struct snapshot s;
	struct sweep sw;
	char *text, err[512];

	(void)state;
	text = sweep_with(doc);
	if (sweep_parse("sweep.json", text, strlen(text), &sw, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(snapshot_load(FULL, &s, err, sizeof(err)), 0);
	if (!snapshot_equal(&s, &sw.steps[0].snap, err, sizeof(err)))
		fail_msg("step snapshot: %s", err);
	snapshot_free(&s);
	sweep_free(&sw);
	free(text);
	json_object_put(doc);

	doc = changed("/bundles/0/concurrency/live_ns/2", json_object_new_int(-1));
	text = sweep_with(doc);
	assert_int_equal(sweep_parse("sweep.json", text, strlen(text), &sw, err, sizeof(err)), -1);
	assert_string_equal(err, "sweep.json: steps[0].snapshot: bundles[0].concurrency."
				 "live_ns[2]: expected a non-negative integer");
	free(text);
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_entry_points_agree),
		cmocka_unit_test(test_object_errors_named_by_path),
		cmocka_unit_test(test_newer_keys_errors),
		cmocka_unit_test(test_older_documents),
		cmocka_unit_test(test_sweep_steps_use_the_loader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
