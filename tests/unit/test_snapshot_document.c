// SPDX-License-Identifier: MIT
/*
 * The snapshot document (user/snapshot/): the fixture loads field by field
 * and writes back byte for byte; write -> load is exact, also compact, and
 * a change anywhere is named; derived figures; a minimal document's
 * defaults; escaping; site_classes written, read, checked and merged; and
 * lookups by name. Run from the repository root (tests/run-tests.sh does):
 * reads tests/snapshots/basic.json (snapshot_fixtures.h).
 */
#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_fixtures.h"

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
		cmocka_unit_test(test_minimal_document),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_site_classes),
		cmocka_unit_test(test_lookups_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
