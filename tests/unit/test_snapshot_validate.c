// SPDX-License-Identifier: MIT
/*
 * What each value of a snapshot document must be
 * (user/snapshot/snapshot_validate.c), through the loader: the limits of
 * integers, numbers that may and may not be negative, nullable strings,
 * RFC 3339 times, sums of squares read at long double precision, and the
 * first error in document order being the one reported. The exact message
 * of every other kind of bad input is in test_snapshot_bad_input.c.
 */
#include <limits.h>
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
#include "snapshot/snapshot.h"

#define NAME "snap.json"

/* A document with one handler "b.x", then the members in top and in
 * handler: a member given twice is the last one (json-c), so they replace
 * the document's own. */
static char *doc(const char *top, const char *handler)
{
	return xasprintf(
		"{\"flowprof_snapshot\": 1, \"host\": \"h\", \"kernel\": \"k\","
		" \"started_at\": \"2026-11-22T23:41:59Z\", \"duration_s\": 1,"
		" \"bundles\": [{\"name\": \"b\", \"pids\": [7], \"threads\": 1}],"
		" \"handlers\": [{\"id\": \"b.x\", \"bundle\": \"b\", \"symbol\": null,"
		" \"binary\": null, \"calls\": 1, \"incomplete\": 0, \"min_ns\": 5, \"max_ns\": 5,"
		" \"total_ns\": 5, \"sumsq_ns2\": 25,"
		" \"histogram\": {\"bounds_ns\": [5, 6], \"counts\": [1]}%s}],"
		" \"edges\": [], \"flows\": []%s}", handler, top);
}

static void load_ok(const char *top, const char *handler, struct snapshot *s)
{
	char *text = doc(top, handler), err[512];

	if (snapshot_parse(NAME, text, strlen(text), s, err, sizeof(err)))
		fail_msg("%s", err);
	free(text);
}

static void load_fails(const char *top, const char *handler, const char *want)
{
	char *text = doc(top, handler), err[512];
	struct snapshot s;

	assert_int_equal(snapshot_parse(NAME, text, strlen(text), &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(s.handlers);
	free(text);
}

static void test_integer_limits(void **state)
{
	struct snapshot s;

	(void)state;
	/* json-c saturates past 2^64 - 1: that value is taken as an overflow */
	load_ok("", ", \"unwound\": 0, \"entries\": 18446744073709551614", &s);
	assert_true(s.handlers[0].entries == UINT64_MAX - 1);
	snapshot_free(&s);
	load_fails("", ", \"entries\": 18446744073709551615",
		   "snap.json: handlers[0].entries: out of range (at most 18446744073709551614)");
	load_fails("", ", \"entries\": 99999999999999999999999",
		   "snap.json: handlers[0].entries: out of range (at most 18446744073709551614)");
	load_fails("", ", \"entries\": -1",
		   "snap.json: handlers[0].entries: expected a non-negative integer");
	load_fails("", ", \"entries\": 1e3", "snap.json: handlers[0].entries: expected an integer");
	/* int fields: up to INT_MAX */
	load_ok(", \"nproc\": 2147483647", "", &s);
	assert_int_equal(s.nproc, INT_MAX);
	snapshot_free(&s);
	load_fails(", \"nproc\": 2147483648", "",
		   "snap.json: nproc: 2147483648 is too large (at most 2147483647)");
}

/* Costs, times and rates are never negative; a probe slot's share of a
 * pair may be (its in-window part can come out below zero). */
static void test_signed_and_unsigned_numbers(void **state)
{
	static const char slot[] =
		", \"calibration\": {\"rounds\": 3, \"slots\": {\"ret\": {\"hit_ns\": -1.5,"
		" \"in_window_ns\": -12.5, \"first_hit_ns\": -2%s}}}";
	char *top;
	struct snapshot s;

	(void)state;
	top = xasprintf(slot, "");
	load_ok(top, "", &s);
	assert_true(s.probe_slots[9].measured);
	assert_true(s.probe_slots[9].hit_ns == -1.5);
	assert_true(s.probe_slots[9].in_window_ns == -12.5);
	assert_true(s.probe_slots[9].first_hit_ns == -2);
	assert_string_equal(snapshot_slot_key[9], "ret");
	snapshot_free(&s);
	free(top);
	top = xasprintf(slot, ", \"jitter_ns\": -0.5");
	load_fails(top, "", "snap.json: calibration.slots.ret.jitter_ns: expected a "
			    "non-negative number");
	free(top);
	load_fails(", \"attach_ms\": -1", "", "snap.json: attach_ms: expected a non-negative "
					      "number");
	load_fails("", ", \"inflight_mean\": -0.25",
		   "snap.json: handlers[0].inflight_mean: expected a non-negative number");
	load_fails("", ", \"probe_cost_ns\": true",
		   "snap.json: handlers[0].probe_cost_ns: expected a number");
}

/* null: a symbol or binary not known, on-CPU time not measured; never a name. */
static void test_nulls(void **state)
{
	struct snapshot s;

	(void)state;
	load_ok(", \"attach_mode\": null, \"flow_file\": null", ", \"oncpu_ns\": null", &s);
	assert_null(s.handlers[0].symbol);
	assert_null(s.handlers[0].binary);
	assert_null(s.attach_mode);
	assert_false(s.handlers[0].oncpu_measured);
	snapshot_free(&s);
	load_ok("", ", \"oncpu_ns\": 3", &s);
	assert_true(s.handlers[0].oncpu_measured);
	assert_int_equal(s.handlers[0].oncpu_ns, 3);
	snapshot_free(&s);
	load_fails(", \"host\": null", "", "snap.json: host: expected a string");
	load_fails("", ", \"id\": null", "snap.json: handlers[0].id: expected a string");
}

static void test_rfc3339_times(void **state)
{
	static const char *const good[] = {
		"2026-11-22T23:41:59Z", "2026-11-22t23:41:59z", "2026-11-22 23:41:59Z",
		"2026-11-22T23:41:59.250Z", "2026-11-22T23:41:59+02:00",
		"2026-11-22T23:41:59-11:30",
		"2016-12-31T23:59:60Z", /* a leap second */
		"", /* not known */
	};
	static const char *const bad[] = {
		"2026-11-22", "2026-11-22T23:41", "2026-11-22T23:41:59", "2026-13-01T00:00:00Z",
		"2026-11-32T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z",
		"2026-11-22T23:41:59.Z", "2026-11-22T23:41:59+1:00", "2026-11-22T23:41:59+24:00",
		"2026-11-22T23:41:59Z ", "2026-11-22X23:41:59Z", "+2026-11-22T23:41:59Z",
	};
	struct snapshot s;
	char *text, *top, *want;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		top = xasprintf(", \"started_at\": \"%s\"", good[i]);
		text = doc(top, "");
		if (snapshot_parse(NAME, text, strlen(text), &s, NULL, 0))
			fail_msg("'%s' refused", good[i]);
		assert_string_equal(s.started_at, good[i]);
		snapshot_free(&s);
		free(text);
		free(top);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		top = xasprintf(", \"started_at\": \"%s\"", bad[i]);
		want = xasprintf("snap.json: started_at: '%s' is not an RFC 3339 time "
				 "(e.g. 2026-11-22T23:41:59Z)", bad[i]);
		load_fails(top, "", want);
		free(want);
		free(top);
	}
}

/* json-c keeps a number's text: the sum of squares is read from it at long
 * double precision, so a sum past 2^53 comes back exact. */
static void test_sumsq_long_double(void **state)
{
	struct snapshot s;

	(void)state;
	load_ok("", ", \"sumsq_ns2\": 9223372036854775809", &s); /* 2^63 + 1 */
	assert_true(s.handlers[0].sumsq_ns2 == 9223372036854775809.0L);
	assert_true((double)s.handlers[0].sumsq_ns2 == 9223372036854775808.0);
	snapshot_free(&s);
	load_ok("", ", \"sumsq_ns2\": 1.5e30", &s);
	assert_true(s.handlers[0].sumsq_ns2 == 1.5e30L);
	snapshot_free(&s);
}

/* The loader stops at the first error, in the order it reads: the header,
 * bundles, handlers, the handlers' bundles, edges, flows; an item's keys in
 * the order of its table in docs/snapshot.md. */
static void test_first_error_in_document_order(void **state)
{
	(void)state;
	load_fails(", \"nproc\": -1", ", \"calls\": -1",
		   "snap.json: nproc: expected a non-negative integer");
	load_fails("", ", \"total_ns\": -1, \"calls\": -1",
		   "snap.json: handlers[0].calls: expected a non-negative integer");
	load_fails(", \"edges\": [{\"from\": \"b.x\", \"to\": \"b.y\", \"calls\": 1}],"
		   " \"flows\": [{\"name\": \"\"}]", ", \"bundle\": \"c\"",
		   "snap.json: handlers[0].bundle: unknown bundle 'c' (not in bundles)");
	load_fails(", \"edges\": [{\"from\": \"b.x\", \"to\": \"b.y\", \"calls\": 1}],"
		   " \"flows\": [{\"name\": \"\"}]", "",
		   "snap.json: edges[0].to: unknown handler 'b.y' (not in handlers)");
}

/* A short error buffer: cut, terminated, never overrun. */
static void test_short_error_buffer(void **state)
{
	char *text = doc("", ", \"calls\": -1"), err[16];
	struct snapshot s;

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_int_equal(snapshot_parse(NAME, text, strlen(text), &s, err, 12), -1);
	assert_string_equal(err, "snap.json: ");
	assert_int_equal(err[12], 'X');
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integer_limits),
		cmocka_unit_test(test_signed_and_unsigned_numbers),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_rfc3339_times),
		cmocka_unit_test(test_sumsq_long_double),
		cmocka_unit_test(test_first_error_in_document_order),
		cmocka_unit_test(test_short_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
