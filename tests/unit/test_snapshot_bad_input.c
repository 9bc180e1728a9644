// SPDX-License-Identifier: MIT
/*
 * Bad snapshot documents (user/snapshot/): the exact message of every kind
 * of bad input (not JSON, truncated, a wrong version, a missing or mistyped
 * field, a histogram off flowprof's layout, a dangling or duplicate name, a
 * missing file), each leaving the snapshot zeroed; and a fuzz smoke pass:
 * mutated documents never crash, and whatever loads writes and loads again.
 * The limits of each value are in test_snapshot_validate.c. Run from the
 * repository root (tests/run-tests.sh does): reads
 * tests/snapshots/basic.json (snapshot_fixtures.h).
 */
#include "snapshot_fixtures.h"

/* ---- bad input: exact messages ------------------------------------------ */

static void test_error_version(void **state)
{
	(void)state;
	expect_error_after("/flowprof_snapshot", json_object_new_int(2),
			   "snap.json: unsupported flowprof_snapshot version 2 "
			   "(this flowprof reads version 1)");
	expect_error_after("/flowprof_snapshot", json_object_new_string("1"),
			   "snap.json: flowprof_snapshot: expected an integer");
	expect_error_after("/flowprof_snapshot", REMOVE,
			   "snap.json: flowprof_snapshot: missing (not a flowprof snapshot?)");
}

static void test_error_not_json(void **state)
{
	size_t len;
	char *text = fixture(&len), *bad, *want;

	(void)state;
	expect_text_error(text, 100, "snap.json: truncated JSON: the document ends at byte "
				     "offset 100 before it is complete");
	want = xasprintf("snap.json: truncated JSON: the document ends at byte offset %zu "
			 "before it is complete", len - 2);
	expect_text_error(text, len - 2, want);
	free(want);
	expect_text_error("", 0, "snap.json: empty file (not a flowprof snapshot)");
	expect_text_error(" \n\t", 3, "snap.json: empty file (not a flowprof snapshot)");
	expect_text_error("[1, 2]", 6, "snap.json: not a flowprof snapshot (expected a JSON object)");
	expect_text_error("{\"flowprof_snapshot\": 1,}", 25,
			  "snap.json: invalid JSON at byte offset 24 (line 1, column 25): "
			  "unexpected character");
	expect_text_error("{\"a\": 1}\n x", 11,
			  "snap.json: invalid JSON at byte offset 10 (line 2, column 2): "
			  "unexpected character");
	expect_text_error("{\"a\":\n\n \"\xff\"}", 12,
			  "snap.json: invalid JSON at byte offset 9 (line 3, column 3): "
			  "invalid utf-8 string");
	expect_text_error("{\"a\": 1}\0{", 10,
			  "snap.json: unexpected data after the JSON document at byte offset 8");
	expect_text_error("{\"a\": 1}\n\0", 10,
			  "snap.json: unexpected data after the JSON document at byte offset 9");
	bad = xstrdup(text);
	memcpy(strstr(bad, "30.0,"), "NaN, ", 5);
	expect_text_error(bad, len, "snap.json: duration_s: expected a finite number");
	free(bad);
	free(text);
}

static void test_error_missing_and_types(void **state)
{
	(void)state;
	expect_error_after("/handlers/3/calls", REMOVE, "snap.json: handlers[3].calls: missing");
	expect_error_after("/handlers/3/calls", json_object_new_string("12"),
			   "snap.json: handlers[3].calls: expected an integer");
	expect_error_after("/handlers/3/calls", json_object_new_double(1.5),
			   "snap.json: handlers[3].calls: expected an integer");
	expect_error_after("/handlers/3/calls", NULL,
			   "snap.json: handlers[3].calls: expected an integer");
	expect_error_after("/handlers/3/calls", json_object_new_int(-1),
			   "snap.json: handlers[3].calls: expected a non-negative integer");
	expect_error_after("/handlers/0/id", json_object_new_string(""),
			   "snap.json: handlers[0].id: expected a non-empty string");
	expect_error_after("/handlers/0/serial", json_object_new_int(1),
			   "snap.json: handlers[0].serial: expected true or false");
	expect_error_after("/handlers/0/sumsq_ns2", json_object_new_string("7"),
			   "snap.json: handlers[0].sumsq_ns2: expected a number");
	expect_error_after("/handlers/0/sumsq_ns2", json_object_new_int(-7),
			   "snap.json: handlers[0].sumsq_ns2: expected a non-negative number");
	expect_error_after("/handlers/0/min_ns", json_object_new_int(2000000),
			   "snap.json: handlers[0].min_ns: 2000000 is greater than max_ns (1109317)");
	expect_error_after("/handlers/2", json_object_new_int(5),
			   "snap.json: handlers[2]: expected an object");
	expect_error_after("/handlers", json_object_new_object(),
			   "snap.json: handlers: expected an array");
	expect_error_after("/duration_s", json_object_new_string("30"),
			   "snap.json: duration_s: expected a number");
	expect_error_after("/duration_s", json_object_new_int(-3),
			   "snap.json: duration_s: expected a non-negative number");
	expect_error_after("/host", REMOVE, "snap.json: host: missing");
	expect_error_after("/nproc", json_object_new_int64(1LL << 40),
			   "snap.json: nproc: 1099511627776 is too large (at most 2147483647)");
	expect_error_after("/counters/edges_dropped", json_object_new_boolean(1),
			   "snap.json: counters.edges_dropped: expected an integer");
	expect_error_after("/started_at", json_object_new_string("yesterday"),
			   "snap.json: started_at: 'yesterday' is not an RFC 3339 time "
			   "(e.g. 2026-11-22T23:41:59Z)");
	expect_error_after("/started_at", json_object_new_string("2026-11-22T23:41"),
			   "snap.json: started_at: '2026-11-22T23:41' is not an RFC 3339 time "
			   "(e.g. 2026-11-22T23:41:59Z)");
	expect_error_after("/probe_cost/nop5/in_window_ns", REMOVE,
			   "snap.json: probe_cost.nop5.in_window_ns: missing");
	expect_error_after("/bundles/0/pids/1", json_object_new_string("4243"),
			   "snap.json: bundles[0].pids[1]: expected an integer");
	expect_error_after("/bundles/0/processes/1/pid", json_object_new_int(1),
			   "snap.json: bundles[0].processes[1].pid: 1 does not match pids[1] (4243)");
	expect_error_after("/handlers/0/instances/1/pid", REMOVE,
			   "snap.json: handlers[0].instances[1].pid: missing");
	expect_error_after("/flows/1/visit_calls/shop.price", json_object_new_double(2.5),
			   "snap.json: flows[1].visit_calls.shop.price: expected an integer");
}

static void test_error_histogram(void **state)
{
	(void)state;
	/* 1000 ns is inside [992, 1024): not a boundary. */
	expect_error_after("/handlers/0/histogram/bounds_ns/0", json_object_new_int(1000),
			   "snap.json: handlers[0].histogram.bounds_ns[0]: 1000 ns is not a bucket "
			   "boundary of flowprof's histogram layout");
	/* Bounds 2 and 3 of browse are 172032 and 180224; 188416 skips a bucket. */
	expect_error_after("/handlers/0/histogram/bounds_ns/3", json_object_new_int(188416),
			   "snap.json: handlers[0].histogram.bounds_ns[3]: 188416 ns is not the "
			   "next bucket boundary (180224 ns): buckets must be contiguous");
	expect_error_after("/handlers/0/histogram/bounds_ns/3", json_object_new_int(180225),
			   "snap.json: handlers[0].histogram.bounds_ns[3]: 180225 ns is not a "
			   "bucket boundary of flowprof's histogram layout");
	expect_error_after("/handlers/0/histogram/counts/0", NULL,
			   "snap.json: handlers[0].histogram.counts[0]: expected an integer");
	expect_error_after("/handlers/0/histogram/bounds_ns", json_object_new_array(),
			   "snap.json: handlers[0].histogram.bounds_ns: 0 edges for 46 counts "
			   "(expected 47: the lower bound of each bucket, then the upper end of "
			   "the last)");
	expect_error_after("/handlers/0/histogram/counts", REMOVE,
			   "snap.json: handlers[0].histogram.counts: missing");
	expect_error_after("/handlers/0/histogram", REMOVE, "snap.json: handlers[0].histogram: missing");
}

/* The last bucket boundary of the layout, and one past it. */
static void test_error_histogram_layout_end(void **state)
{
	char doc[1024], err[512];
	struct snapshot s;
	const char *fmt =
		"{\"flowprof_snapshot\": 1, \"host\": \"h\", \"kernel\": \"k\", \"started_at\": \"\","
		" \"duration_s\": 1, \"bundles\": [{\"name\": \"b\", \"pids\": [], \"threads\": 0}],"
		" \"handlers\": [{\"id\": \"b.x\", \"bundle\": \"b\", \"symbol\": null, \"binary\": null,"
		" \"calls\": 1, \"incomplete\": 0, \"min_ns\": 5, \"max_ns\": 5, \"total_ns\": 5,"
		" \"sumsq_ns2\": 25, \"histogram\": {\"bounds_ns\": [%s], \"counts\": [%s]}}],"
		" \"edges\": [], \"flows\": []}";

	(void)state;
	/* The last bucket, up to the end of the layout: fine. */
	snprintf(doc, sizeof(doc), fmt, "1065151889408, 1099511627776", "1");
	assert_int_equal(snapshot_parse(NAME, doc, strlen(doc), &s, err, sizeof(err)), 0);
	assert_int_equal(s.handlers[0].hist[HIST_BUCKETS - 1], 1);
	snapshot_free(&s);
	/* One bucket more than the layout has. */
	snprintf(doc, sizeof(doc), fmt, "1065151889408, 1099511627776, 1168231104512", "1, 1");
	expect_text_error(doc, strlen(doc),
			  "snap.json: handlers[0].histogram.bounds_ns[2]: more buckets than "
			  "flowprof's histogram layout has (592)");
	/* The end of the layout cannot start a histogram. */
	snprintf(doc, sizeof(doc), fmt, "1099511627776, 1168231104512", "1");
	expect_text_error(doc, strlen(doc),
			  "snap.json: handlers[0].histogram.bounds_ns[0]: 1099511627776 ns is not a "
			  "bucket boundary of flowprof's histogram layout");
}

static void test_error_references(void **state)
{
	(void)state;
	expect_error_after("/edges/0/to", json_object_new_string("shop.nope"),
			   "snap.json: edges[0].to: unknown handler 'shop.nope' (not in handlers)");
	expect_error_after("/edges/0/from", REMOVE, "snap.json: edges[0].from: missing");
	expect_error_after("/edges/3/to", json_object_new_string("shop.price"),
			   "snap.json: edges[3]: duplicate edge shop.browse -> shop.price");
	expect_error_after("/handlers/1/id", json_object_new_string("shop.browse"),
			   "snap.json: handlers[1]: duplicate name 'shop.browse'");
	expect_error_after("/handlers/0/bundle", json_object_new_string("nobundle"),
			   "snap.json: handlers[0].bundle: unknown bundle 'nobundle' (not in bundles)");
	expect_error_after("/flows/0/entry", json_object_new_string("x.y"),
			   "snap.json: flows[0].entry: unknown handler 'x.y' (not in handlers)");
	expect_error_after("/flows/0/visit_calls/shop.x", json_object_new_int(1),
			   "snap.json: flows[0].visit_calls.shop.x: unknown handler 'shop.x' "
			   "(not in handlers)");
	expect_error_after("/flows/1/declared_calls/0/to", json_object_new_string("a.b"),
			   "snap.json: flows[1].declared_calls[0].to: unknown handler 'a.b' "
			   "(not in handlers)");
	expect_error_after("/flows/1/name", json_object_new_string("browse"),
			   "snap.json: flows[1]: duplicate name 'browse'");
	expect_error_after("/bundles/1/name", json_object_new_string("shop"),
			   "snap.json: bundles[1]: duplicate name 'shop'");
}

static void test_error_missing_file(void **state)
{
	struct snapshot s;
	char err[512];

	(void)state;
	assert_int_equal(snapshot_load("tests/snapshots/nope.json", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "tests/snapshots/nope.json: cannot read: No such file or directory");
	assert_null(s.handlers);
	/* A tiny error buffer is never overrun; no buffer at all is fine too. */
	assert_int_equal(snapshot_load("tests/snapshots/nope.json", &s, err, 8), -1);
	assert_string_equal(err, "tests/s");
	assert_int_equal(snapshot_parse(NAME, "[]", 2, &s, NULL, 0), -1);
}

/* ---- fuzz smoke: never crash; whatever loads, writes and loads again ----- */

static void test_fuzz_smoke(void **state)
{
	static const char interesting[] = "{}[]\",:-0123456789.eE \\\x00\xff";
	uint64_t seed = 0x5DEECE66DULL;
	size_t len;
	char *text = fixture(&len), *buf = xmalloc(len + 16);
	int loaded = 0;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct snapshot s, again;
		size_t n = len, edits;
		char err[512];

		memcpy(buf, text, len);
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		edits = 1 + (seed >> 60) % 4;
		for (size_t e = 0; e < edits; e++) {
			size_t at;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			at = (size_t)(seed >> 20) % n;
			switch ((seed >> 8) % 4) {
			case 0: /* replace a byte */
				buf[at] = interesting[(seed >> 40) % (sizeof(interesting) - 1)];
				break;
			case 1: /* truncate */
				n = at + 1;
				break;
			case 2: /* delete a byte */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: /* a digit or sign that changes a number */
				buf[at] = "-9.0e"[(seed >> 40) % 5];
				break;
			}
		}
		if (snapshot_parse(NAME, buf, n, &s, err, sizeof(err))) {
			assert_memory_equal(err, NAME ": ", strlen(NAME ": "));
			continue;
		}
		loaded++;
		{
			char *json = snapshot_to_json(&s, true);

			if (snapshot_parse(NAME, json, strlen(json), &again, err, sizeof(err)))
				fail_msg("iteration %d: own output does not load: %s", iter, err);
			if (!snapshot_equal(&s, &again, err, sizeof(err)))
				fail_msg("iteration %d: round trip differs: %s", iter, err);
			free(json);
		}
		snapshot_free(&again);
		snapshot_free(&s);
	}
	print_message("# fuzz smoke: 3000 mutated documents, %d still loaded\n", loaded);
	assert_true(loaded > 0);
	free(buf);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_version),
		cmocka_unit_test(test_error_not_json),
		cmocka_unit_test(test_error_missing_and_types),
		cmocka_unit_test(test_error_histogram),
		cmocka_unit_test(test_error_histogram_layout_end),
		cmocka_unit_test(test_error_references),
		cmocka_unit_test(test_error_missing_file),
		cmocka_unit_test(test_fuzz_smoke),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
