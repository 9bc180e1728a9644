// SPDX-License-Identifier: MIT
/*
 * The snapshot document (user/snapshot/): the fixture loads field by field
 * and writes back byte for byte; write -> load is exact; derived figures;
 * the exact message of every kind of bad input; escaping; a fuzz smoke pass;
 * and merge: associative, exact, and across hosts.
 * Run from the repository root (tests/run-tests.sh does): reads
 * tests/snapshots/basic.json.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "base/base.h"
#include "snapshot/snapshot.h"

#define FIXTURE "tests/snapshots/basic.json"
#define NAME "snap.json"

static char *fixture(size_t *len)
{
	char *text = read_file(FIXTURE, len);

	if (!text)
		fail_msg("cannot read %s (run from the repository root)", FIXTURE);
	return text;
}

static void load_ok(const char *text, size_t len, struct snapshot *s)
{
	char err[512] = "";
	int r = snapshot_parse(NAME, text, len, s, err, sizeof(err));

	if (r)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(err, "");
}

static void expect_text_error(const char *text, size_t len, const char *want)
{
	struct snapshot s;
	char err[512];

	memset(&s, 0xa5, sizeof(s)); /* must come back zeroed */
	assert_int_equal(snapshot_parse(NAME, text, len, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(s.handlers);
	assert_null(s.host);
	assert_int_equal(s.n_handlers, 0);
}

/* The fixture with one change made through a JSON pointer: value replaces
 * what is at path (NULL value: the member is removed). */
#define REMOVE ((json_object *)-1)

static void expect_error_after(const char *path, json_object *value, const char *want)
{
	size_t len;
	char *text = fixture(&len);
	json_object *top = json_tokener_parse(text);
	const char *out;

	assert_non_null(top);
	if (value == REMOVE) {
		char *parent = xstrdup(path), *slash = strrchr(parent, '/');
		json_object *p;

		*slash = '\0';
		assert_int_equal(json_pointer_get(top, parent, &p), 0);
		assert_true(json_object_object_get_ex(p, slash + 1, NULL));
		json_object_object_del(p, slash + 1);
		free(parent);
	} else {
		assert_int_equal(json_pointer_set(&top, path, value), 0);
	}
	out = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
	expect_text_error(out, strlen(out), want);
	json_object_put(top);
	free(text);
}

/* ---- the fixture -------------------------------------------------------- */

static void test_fixture_fields(void **state)
{
	struct snapshot s;
	const struct snap_handler *h;
	const struct snap_flow *f;
	const struct snap_bundle *b;
	size_t len;
	char *text = fixture(&len);

	(void)state;
	load_ok(text, len, &s);
	assert_int_equal(s.version, 1);
	assert_string_equal(s.host, "web-1");
	assert_string_equal(s.kernel, "6.1.0-18-amd64");
	assert_string_equal(s.started_at, "2026-11-22T23:41:59Z");
	assert_true(s.duration_s == 30.0);
	assert_int_equal(s.nproc, 4);
	assert_true(s.probe_cost_ns == 640.25);
	assert_false(s.probe_cost[0].measured);
	assert_true(s.probe_cost[1].measured);
	assert_true(s.probe_cost[1].per_call_ns == 812.5);
	assert_true(s.probe_cost[3].in_window_ns == 11020.75);
	assert_string_equal(s.attach_mode, "uprobe.session");
	assert_true(s.attach_ms == 12.25);
	assert_true(s.detach_ms == 48.5);
	assert_string_equal(s.flow_file, "examples/shop/flows.yaml");
	assert_int_equal(s.unmatched_returns, 12);
	assert_int_equal(s.abandoned_frames, 3);
	assert_int_equal(s.threads_dropped, 0);
	assert_int_equal(s.n_hosts, 0);

	assert_int_equal(s.n_handlers, 6);
	h = snapshot_handler(&s, "shop.checkout");
	assert_ptr_equal(h, &s.handlers[1]);
	assert_string_equal(h->bundle, "shop");
	assert_string_equal(h->symbol, "shop_checkout");
	assert_string_equal(h->site_class, "emulated");
	assert_true(h->probe_cost_ns == 830.5);
	assert_int_equal(h->calls, 1200);
	assert_int_equal(h->incomplete, 3);
	assert_int_equal(h->entries, 1205);
	assert_true(h->oncpu_measured);
	assert_int_equal(hist_count(h->hist), 1200);
	assert_int_equal(h->n_instances, 2);
	assert_int_equal(h->instances[0].pid, 4242);
	assert_int_equal(h->instances[0].calls + h->instances[1].calls, 1200);
	assert_int_equal(h->instances[0].total_ns + h->instances[1].total_ns, h->total_ns);
	assert_null(h->instances[0].host);
	h = snapshot_handler(&s, "shop.price");
	assert_string_equal(h->symbol, "price_base,price_tax");
	assert_string_equal(h->site_class, "single-step");
	h = snapshot_handler(&s, "shop.cache");
	assert_int_equal(h->calls, 0);
	assert_int_equal(h->min_ns, 0);
	assert_int_equal(hist_count(h->hist), 0);
	assert_int_equal(h->n_instances, 0);
	assert_null(snapshot_handler(&s, "shop.nope"));

	assert_int_equal(s.n_edges, 4);
	assert_string_equal(s.edges[3].from, "shop.browse");
	assert_string_equal(s.edges[3].to, "shop.persist");
	assert_int_equal(s.edges[3].calls, 12);
	assert_false(s.edges[3].declared);

	f = snapshot_flow(&s, "checkout");
	assert_non_null(f);
	assert_string_equal(f->entry, "shop.checkout");
	assert_int_equal(f->invocations, 1200);
	assert_int_equal(f->n_visits, 2);
	assert_string_equal(f->visits[0].handler, "shop.price");
	assert_int_equal(f->visits[0].calls, 2400);
	assert_int_equal(f->n_declared, 3);
	assert_string_equal(f->declared[2].to, "mail.send");
	assert_true(f->declared[2].async);
	assert_true(f->declared[2].declared);

	b = snapshot_bundle(&s, "mail");
	assert_non_null(b);
	assert_int_equal(b->n_pids, 2);
	assert_int_equal(b->pids[1], 5002);
	assert_int_equal(b->threads, 2);
	assert_int_equal(b->workers, 1);
	assert_true(b->serial);
	assert_non_null(b->pid_threads);
	assert_int_equal(b->pid_threads[0], 1);
	assert_null(b->pid_hosts);
	snapshot_free(&s);
	assert_null(s.handlers);
	free(text);
}

/* The fixture is in canonical form: loading and writing it gives it back. */
static void test_fixture_writes_back_byte_for_byte(void **state)
{
	struct snapshot s;
	size_t len;
	char *text = fixture(&len), *again;

	(void)state;
	load_ok(text, len, &s);
	again = snapshot_to_json(&s, true);
	assert_string_equal(again, text);
	free(again);
	snapshot_free(&s);
	free(text);
}

static void test_write_load_round_trip(void **state)
{
	char dir[] = "/tmp/flowprof-test-XXXXXX", *path, *compact, err[512];
	struct snapshot a, b, c;
	struct stat st;
	size_t len;
	char *text = fixture(&len);

	(void)state;
	load_ok(text, len, &a);
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/snap.json", dir);
	assert_int_equal(snapshot_write(&a, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(snapshot_load(path, &b, err, sizeof(err)), 0);
	assert_true(snapshot_equal(&a, &b, err, sizeof(err)));
	assert_string_equal(err, "");
	/* The compact form reads back the same too. */
	compact = snapshot_to_json(&a, false);
	assert_ptr_equal(strchr(compact, '\n'), compact + strlen(compact) - 1); /* one line */
	load_ok(compact, strlen(compact), &c);
	if (!snapshot_equal(&a, &c, err, sizeof(err)))
		fail_msg("compact round trip: %s", err);
	/* A change anywhere is seen, and named. */
	c.handlers[2].hist[hist_bucket(100000)]++;
	assert_false(snapshot_equal(&a, &c, err, sizeof(err)));
	assert_string_equal(err, "handlers[2].hist[216] (98304 ns): 460 != 461");
	c.handlers[2].hist[hist_bucket(100000)]--;
	c.bundles[0].pid_threads[1] = 9;
	assert_false(snapshot_equal(&a, &c, err, sizeof(err)));
	assert_string_equal(err, "bundles[0].pid_threads[1]: 8 != 9");
	unlink(path);
	rmdir(dir);
	free(path);
	free(compact);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&c);
	free(text);
}

static void test_write_failure_keeps_errno(void **state)
{
	struct snapshot s = { 0 };

	(void)state;
	s.host = xstrdup("h");
	assert_int_equal(snapshot_write(&s, "/nonexistent-dir/snap.json"), -1);
	assert_int_equal(errno, ENOENT);
	snapshot_free(&s);
}

/* ---- derived figures ---------------------------------------------------- */

static void add_call(struct snap_handler *h, uint64_t d)
{
	h->calls++;
	h->entries++;
	h->total_ns += d;
	h->self_ns += d / 2;
	h->oncpu_ns += d / 4;
	if (!h->min_ns || d < h->min_ns)
		h->min_ns = d;
	if (d > h->max_ns)
		h->max_ns = d;
	h->sumsq_ns2 += (long double)d * d;
	h->hist[hist_bucket(d)]++;
}

static void test_summarize(void **state)
{
	struct snap_handler h = { 0 };
	struct handler_summary sum;

	(void)state;
	snapshot_summarize(&h, &sum);
	assert_true(sum.mean_ns == 0 && sum.stddev_ns == 0 && sum.p99_ns == 0);
	assert_true(isnan(sum.oncpu_mean_ns));

	add_call(&h, 100);
	snapshot_summarize(&h, &sum);
	assert_true(sum.mean_ns == 100.0);
	assert_true(sum.stddev_ns == 0.0); /* one call: no spread */

	add_call(&h, 200);
	add_call(&h, 300);
	add_call(&h, 400);
	h.oncpu_measured = true;
	snapshot_summarize(&h, &sum);
	assert_true(sum.mean_ns == 250.0);
	assert_float_equal(sum.stddev_ns, sqrt(12500.0), 1e-9); /* population */
	assert_true(sum.p50_ns == 204.0);			   /* middle of [200, 208) */
	assert_true(sum.p90_ns == 400.0);			   /* the max, exactly */
	assert_true(sum.p99_ns == 400.0);
	assert_true(sum.self_mean_ns == 125.0);
	assert_true(sum.oncpu_mean_ns == 62.5);

	/* Rounding can leave sumsq a hair under total^2/n: never a NaN. */
	h.sumsq_ns2 = 250000 - 1e-6L; /* total 1000 over 4 calls */
	snapshot_summarize(&h, &sum);
	assert_true(sum.stddev_ns == 0.0);
}

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

/* Only what is needed: defaults for the rest, visit counts from the means. */
static void test_minimal_document(void **state)
{
	static const char doc[] =
		"{\"flowprof_snapshot\": 1, \"host\": \"h\", \"kernel\": \"k\","
		" \"started_at\": \"2026-01-02T03:04:05.250+01:00\", \"duration_s\": 2,"
		" \"handlers\": [{\"id\": \"b.e\", \"bundle\": \"b\", \"symbol\": \"e\","
		"   \"binary\": \"/bin/e\", \"calls\": 4, \"incomplete\": 1, \"min_ns\": 10,"
		"   \"max_ns\": 40, \"total_ns\": 100, \"sumsq_ns2\": 3000,"
		"   \"histogram\": {\"bounds_ns\": [], \"counts\": []}},"
		"  {\"id\": \"b.c\", \"bundle\": \"b\", \"symbol\": null, \"binary\": null,"
		"   \"calls\": 6, \"incomplete\": 0, \"min_ns\": 1, \"max_ns\": 1, \"total_ns\": 6,"
		"   \"sumsq_ns2\": 6.0, \"oncpu_ns\": 3,"
		"   \"histogram\": {\"bounds_ns\": [1, 2], \"counts\": [6]}}],"
		" \"edges\": [{\"from\": \"b.e\", \"to\": \"b.c\", \"calls\": 6}],"
		" \"flows\": [{\"name\": \"f\", \"entry\": \"b.e\", \"invocations\": 4,"
		"   \"visits\": {\"b.c\": 1.5}}],"
		" \"bundles\": [{\"name\": \"b\", \"pids\": [7], \"threads\": 2}],"
		" \"model\": {\"anything\": [1, 2, 3]}}";
	struct snapshot s;
	const struct snap_handler *e, *c;

	(void)state;
	load_ok(doc, strlen(doc), &s);
	e = &s.handlers[0];
	c = &s.handlers[1];
	assert_int_equal(e->entries, 5);	/* calls + incomplete */
	assert_int_equal(e->self_ns, 100);	/* all of it self */
	assert_false(e->oncpu_measured);	/* absent: not measured */
	assert_string_equal(e->site_class, "unknown");
	assert_null(c->symbol);
	assert_true(c->oncpu_measured);
	assert_int_equal(c->oncpu_ns, 3);
	assert_int_equal(c->hist[1], 6);
	assert_true(c->sumsq_ns2 == 6.0L);
	assert_int_equal(s.flows[0].n_visits, 1);
	assert_int_equal(s.flows[0].visits[0].calls, 6); /* 1.5 x 4 */
	assert_int_equal(s.flows[0].n_declared, 0);
	assert_int_equal(s.nproc, 0);
	assert_null(s.attach_mode);
	assert_null(s.bundles[0].pid_threads);
	assert_false(s.edges[0].declared);
	snapshot_free(&s);
}

/* ---- escaping ----------------------------------------------------------- */

static void test_strings_are_escaped(void **state)
{
	struct snapshot s = { 0 }, back;
	char *json, err[256];

	(void)state;
	s.host = xstrdup("h");
	s.n_bundles = 1;
	s.bundles = xcalloc(1, sizeof(*s.bundles));
	s.bundles[0].name = xstrdup("b");
	s.n_handlers = 1;
	s.handlers = xcalloc(1, sizeof(*s.handlers));
	s.handlers[0].id = xstrdup("b.x");
	s.handlers[0].bundle = xstrdup("b");
	/* quote, backslash, newline, ESC, DEL, a stray byte, a slash, UTF-8 */
	s.handlers[0].symbol = xstrdup("a\"b\\c\nd\x1b[2J\x7f\xff/\xc3\xa9");
	s.handlers[0].binary = xstrdup("/srv/bin/x");
	json = snapshot_to_json(&s, false);
	assert_non_null(strstr(json, "\"symbol\":\"a\\\"b\\\\c\\nd\\u001b[2J\x7f\xef\xbf\xbd/\xc3\xa9\""));
	assert_non_null(strstr(json, "\"binary\":\"/srv/bin/x\""));
	assert_int_equal(snapshot_parse(NAME, json, strlen(json), &back, err, sizeof(err)), 0);
	/* Everything survives but the invalid byte, which became U+FFFD. */
	assert_string_equal(back.handlers[0].symbol, "a\"b\\c\nd\x1b[2J\x7f\xef\xbf\xbd/\xc3\xa9");
	free(json);
	snapshot_free(&back);
	snapshot_free(&s);
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

/* ---- merge -------------------------------------------------------------- */

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

/* Written and loaded back, a merged snapshot is still the same. */
static void assert_round_trips(const struct snapshot *s)
{
	char *json = snapshot_to_json(s, true), err[512];
	struct snapshot back;

	if (snapshot_parse(NAME, json, strlen(json), &back, err, sizeof(err)))
		fail_msg("merged snapshot does not load: %s", err);
	if (!snapshot_equal(s, &back, err, sizeof(err)))
		fail_msg("merged snapshot round trip: %s", err);
	snapshot_free(&back);
	free(json);
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

/* site_classes: written only for a handler whose probe points differ in
 * class, read back, checked, and united by merge. */
static void test_site_classes(void **state)
{
	struct snapshot a, b, m;
	json_object *arr;
	size_t len;
	char *text = fixture(&len), *json;

	(void)state;
	load_ok(text, len, &a);
	for (int i = 0; i < a.n_handlers; i++)
		assert_int_equal(a.handlers[i].site_classes, 0);
	assert_null(strstr(text, "site_classes"));
	/* shop.price (single-step): price_base a nop5 site */
	a.handlers[2].site_classes = 1u << 1 | 1u << 3;
	json = snapshot_to_json(&a, false);
	assert_non_null(strstr(json, "\"site_class\":\"single-step\",\"site_classes\":[\"nop5\","
				     "\"single-step\"]"));
	load_ok(json, strlen(json), &b);
	assert_int_equal(b.handlers[2].site_classes, 1u << 1 | 1u << 3);
	assert_int_equal(b.handlers[0].site_classes, 0);
	free(json);
	snapshot_free(&b);
	/* one class is no mixture: not written */
	a.handlers[2].site_classes = 1u << 3;
	json = snapshot_to_json(&a, false);
	assert_null(strstr(json, "site_classes"));
	free(json);
	/* merge: shop.browse nop5 here, emulated there */
	a.handlers[2].site_classes = 0;
	load_ok(text, len, &b);
	free(b.handlers[0].site_class);
	b.handlers[0].site_class = xstrdup("emulated");
	copy_of(&m, &a);
	merge_ok(&m, &b);
	assert_string_equal(m.handlers[0].site_class, "emulated");
	assert_int_equal(m.handlers[0].site_classes, 1u << 1 | 1u << 2);
	assert_int_equal(m.handlers[1].site_classes, 0);
	assert_round_trips(&m);
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&m);
	free(text);

	expect_error_after("/handlers/2/site_classes", json_object_new_string("nop5"),
			   "snap.json: handlers[2].site_classes: expected an array");
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("nop5"));
	json_object_array_add(arr, json_object_new_string("fast"));
	expect_error_after("/handlers/2/site_classes", arr,
			   "snap.json: handlers[2].site_classes: expected nop5, emulated or "
			   "single-step (element 1)");
}

/* Lookups by name (user/snapshot/snapshot.c); freeing twice, or nothing. */
static void test_lookups_and_free(void **state)
{
	struct snapshot s;
	size_t len;
	char *text = fixture(&len);

	(void)state;
	load_ok(text, len, &s);
	assert_ptr_equal(snapshot_handler(&s, "shop.persist"), &s.handlers[3]);
	assert_ptr_equal(snapshot_bundle(&s, "mail"), &s.bundles[1]);
	assert_ptr_equal(snapshot_flow(&s, "checkout"), &s.flows[1]);
	assert_null(snapshot_handler(&s, "shop"));
	assert_null(snapshot_handler(&s, NULL));
	assert_null(snapshot_bundle(&s, "shop.browse"));
	assert_null(snapshot_flow(&s, ""));
	snapshot_free(&s);
	assert_null(s.handlers);
	assert_int_equal(s.n_handlers, 0);
	snapshot_free(&s);
	snapshot_free(NULL);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_fields),
		cmocka_unit_test(test_fixture_writes_back_byte_for_byte),
		cmocka_unit_test(test_write_load_round_trip),
		cmocka_unit_test(test_write_failure_keeps_errno),
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_error_version),
		cmocka_unit_test(test_error_not_json),
		cmocka_unit_test(test_error_missing_and_types),
		cmocka_unit_test(test_error_histogram),
		cmocka_unit_test(test_error_histogram_layout_end),
		cmocka_unit_test(test_error_references),
		cmocka_unit_test(test_error_missing_file),
		cmocka_unit_test(test_minimal_document),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_fuzz_smoke),
		cmocka_unit_test(test_merge_copy),
		cmocka_unit_test(test_merge_associative),
		cmocka_unit_test(test_merge_same_host_adds_up),
		cmocka_unit_test(test_merge_across_hosts),
		cmocka_unit_test(test_merge_conflicts),
		cmocka_unit_test(test_merge_fixture_with_itself),
		cmocka_unit_test(test_site_classes),
		cmocka_unit_test(test_lookups_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
