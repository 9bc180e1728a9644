// SPDX-License-Identifier: MIT
/*
 * The flow file parser (user/flowfile/): valid flow files. The example of
 * issue 2 field by field, every handler form, bundle settings, calls,
 * paths relative to the flow file, lookups by id, and the limits on flows
 * and handlers. Run from the repository root (tests/run-tests.sh does):
 * some tests read tests/flowfiles/.
 */
#include "flowfile_fixtures.h"

/* ------------------------------------------------------------ positive */

static void test_issue_example(void **state)
{
	struct flowfile ff;
	char err[512];
	const struct ff_handler *h;
	const struct ff_flow *f;

	(void)state;
	assert_int_equal(flowfile_load("tests/flowfiles/shop.yaml", &ff, err, sizeof(err)), 0);
	assert_string_equal(ff.path, "tests/flowfiles/shop.yaml");

	assert_int_equal(ff.n_bundles, 1);
	assert_string_equal(ff.bundles[0].name, "shop");
	assert_string_equal(ff.bundles[0].exe, "/srv/shop/bin/shop");
	assert_null(ff.bundles[0].comm);
	assert_null(ff.bundles[0].pids);
	assert_int_equal(ff.bundles[0].n_pids, 0);
	assert_int_equal(ff.bundles[0].instances, 0);
	assert_int_equal(ff.bundles[0].workers, 0);
	assert_false(ff.bundles[0].serial);
	assert_int_equal(ff.bundles[0].first_handler, 0);
	assert_int_equal(ff.bundles[0].n_handlers, 4);
	assert_int_equal(ff.bundles[0].loc.line, 2);
	assert_int_equal(ff.bundles[0].loc.col, 3);
	/* exe:'s value, where an unreadable executable is reported */
	assert_int_equal(ff.bundles[0].exe_loc.line, 3);
	assert_int_equal(ff.bundles[0].exe_loc.col, 10);

	assert_int_equal(ff.n_handlers, 4);
	h = &ff.handlers[0];
	assert_string_equal(h->name, "browse");
	assert_string_equal(h->id, "shop.browse");
	assert_int_equal(h->bundle, 0);
	assert_int_equal(h->kind, FF_PROBE_SYMBOL);
	assert_string_equal(h->symbol, "shop_browse");
	assert_false(h->is_glob);
	assert_null(h->library);
	assert_null(h->usdt);
	assert_null(h->usdt_return);
	assert_null(h->pattern);
	assert_false(h->serial);
	assert_int_equal(h->loc.line, 5);
	assert_int_equal(h->loc.col, 7);

	h = &ff.handlers[1];
	assert_string_equal(h->id, "shop.checkout");
	assert_string_equal(h->symbol, "shop_checkout");
	assert_false(h->is_glob);
	assert_int_equal(h->loc.line, 6);

	h = &ff.handlers[2];
	assert_string_equal(h->id, "shop.price");
	assert_int_equal(h->kind, FF_PROBE_SYMBOL);
	assert_string_equal(h->symbol, "price_*");
	assert_true(h->is_glob);
	assert_null(h->library);
	assert_int_equal(h->loc.line, 7);

	h = &ff.handlers[3];
	assert_string_equal(h->name, "persist");
	assert_string_equal(h->id, "shop.persist");
	assert_int_equal(h->kind, FF_PROBE_SYMBOL);
	assert_string_equal(h->symbol, "db_persist");
	assert_false(h->is_glob);
	assert_string_equal(h->library, "libshopdb.so");
	assert_int_equal(h->loc.line, 8);
	assert_int_equal(h->loc.col, 7);

	assert_int_equal(ff.n_flows, 2);
	f = &ff.flows[0];
	assert_string_equal(f->name, "browse");
	assert_int_equal(f->entry, 0);
	assert_int_equal(f->loc.line, 10);
	assert_int_equal(f->loc.col, 3);
	assert_int_equal(f->n_calls, 1);
	assert_int_equal(f->calls[0].from, 0);
	assert_int_equal(f->calls[0].to, 2);
	assert_false(f->calls[0].async);
	assert_int_equal(f->calls[0].loc.line, 13);
	assert_int_equal(f->calls[0].loc.col, 9);

	f = &ff.flows[1];
	assert_string_equal(f->name, "checkout");
	assert_int_equal(f->entry, 1);
	assert_int_equal(f->n_calls, 2);
	assert_int_equal(f->calls[0].from, 1);
	assert_int_equal(f->calls[0].to, 2);
	assert_false(f->calls[0].async);
	assert_int_equal(f->calls[1].from, 1);
	assert_int_equal(f->calls[1].to, 3);
	assert_false(f->calls[1].async);
	assert_int_equal(f->calls[1].loc.line, 18);

	assert_int_equal(flowfile_handler_index(&ff, "shop.persist"), 3);
	assert_int_equal(flowfile_handler_index(&ff, "shop.browse"), 0);
	assert_int_equal(flowfile_handler_index(&ff, "shop.nope"), -1);
	assert_int_equal(flowfile_handler_index(&ff, "browse"), -1);
	assert_int_equal(flowfile_bundle_index(&ff, "shop"), 0);
	assert_int_equal(flowfile_bundle_index(&ff, "shop.browse"), -1);
	flowfile_free(&ff);
	assert_null(ff.handlers);
	flowfile_free(&ff); /* idempotent */
}

static void test_features_file(void **state)
{
	struct flowfile ff;
	char err[512];
	const struct ff_bundle *b;
	const struct ff_handler *h;
	const struct ff_flow *f;
	char *p;

	(void)state;
	assert_int_equal(flowfile_load("tests/flowfiles/features.yaml", &ff, err, sizeof(err)), 0);
	assert_int_equal(ff.n_bundles, 4);
	assert_int_equal(ff.n_handlers, 7);

	b = &ff.bundles[0];
	assert_string_equal(b->name, "gateway");
	assert_string_equal(b->exe, "bin/gateway"); /* kept as written */
	assert_int_equal(b->instances, 2);
	assert_int_equal(b->workers, 16);
	assert_false(b->serial);
	assert_int_equal(b->first_handler, 0);
	assert_int_equal(b->n_handlers, 3);
	p = flowfile_path_relative(&ff, b->exe);
	assert_string_equal(p, "tests/flowfiles/bin/gateway");
	free(p);

	h = &ff.handlers[1];
	assert_string_equal(h->id, "gateway.route");
	assert_int_equal(h->kind, FF_PROBE_SYMBOL);
	assert_string_equal(h->symbol, "Gateway::Router::*");
	assert_true(h->is_glob);
	assert_true(h->serial);

	h = &ff.handlers[2];
	assert_string_equal(h->id, "gateway.publish");
	assert_int_equal(h->kind, FF_PROBE_USDT);
	assert_string_equal(h->usdt, "gateway:publish__start");
	assert_string_equal(h->usdt_return, "gateway:publish__done");
	assert_null(h->symbol);
	assert_null(h->pattern);

	b = &ff.bundles[1];
	assert_string_equal(b->name, "api");
	assert_null(b->exe);
	assert_string_equal(b->comm, "api-server");
	assert_true(b->serial);
	assert_int_equal(b->first_handler, 3);
	assert_int_equal(b->n_handlers, 2);

	h = &ff.handlers[3];
	assert_string_equal(h->id, "api.view");
	assert_int_equal(h->kind, FF_PROBE_PYTHON);
	assert_string_equal(h->pattern, "*/views.py:checkout");
	assert_null(h->symbol);
	assert_int_equal(h->bundle, 1);

	h = &ff.handlers[4];
	assert_string_equal(h->id, "api.lib_call");
	assert_string_equal(h->symbol, "tls_*");
	assert_true(h->is_glob);
	assert_string_equal(h->library, "libssl.so.3");

	b = &ff.bundles[2];
	assert_string_equal(b->name, "orders");
	assert_int_equal(b->n_pids, 3);
	assert_int_equal(b->pids[0], 101);
	assert_int_equal(b->pids[1], 202);
	assert_int_equal(b->pids[2], 303);

	h = &ff.handlers[5];
	assert_string_equal(h->id, "orders.place");
	assert_int_equal(h->kind, FF_PROBE_JAVA);
	assert_string_equal(h->pattern, "com.example.Orders::place");

	b = &ff.bundles[3];
	assert_int_equal(b->n_pids, 1);
	assert_int_equal(b->pids[0], 4242);
	h = &ff.handlers[6];
	assert_string_equal(h->library, "/usr/lib/libwork.so");

	assert_int_equal(ff.n_flows, 2);
	f = &ff.flows[0];
	assert_string_equal(f->name, "order");
	assert_int_equal(f->entry, 0);
	assert_int_equal(f->n_calls, 7);
	assert_false(f->calls[0].async); /* accept -> route */
	assert_int_equal(f->calls[1].from, 1); /* route -> route */
	assert_int_equal(f->calls[1].to, 1);
	assert_true(f->calls[2].async); /* route ~> api.view */
	assert_int_equal(f->calls[2].to, 3);
	assert_false(f->calls[3].async);
	assert_true(f->calls[4].async);
	assert_true(f->calls[5].async);
	assert_false(f->calls[6].async); /* publish -> accept */
	assert_int_equal(f->calls[6].from, 2);
	assert_int_equal(f->calls[6].to, 0);
	f = &ff.flows[1];
	assert_string_equal(f->name, "work");
	assert_int_equal(f->entry, 6);
	assert_int_equal(f->n_calls, 0);
	assert_null(f->calls);
	flowfile_free(&ff);
}

static void test_handler_forms(void **state)
{
	struct flowfile ff;

	(void)state;
	parse_ok(HANDLER_HEAD
		 "      u: { usdt: 'redis:cmd__start', return: 'redis:cmd__done', library: libredis.so }\n"
		 "      p:\n"
		 "        python: \"/srv/app/*.py:handle_request\"\n"
		 "        serial: false\n"
		 "      j: { java: 'com.example.shop.Orders::place*' }\n"
		 "      g1: \"Shop::Cart::*\"\n"
		 "      g2: \"get?\"\n"
		 "      g3: \"[ab]_handler\"\n"
		 "      x: { symbol: exact_name, serial: true }\n",
		 &ff);
	assert_int_equal(ff.n_handlers, 7);
	assert_int_equal(ff.handlers[0].kind, FF_PROBE_USDT);
	assert_string_equal(ff.handlers[0].usdt, "redis:cmd__start");
	assert_string_equal(ff.handlers[0].usdt_return, "redis:cmd__done");
	assert_string_equal(ff.handlers[0].library, "libredis.so");
	assert_int_equal(ff.handlers[1].kind, FF_PROBE_PYTHON);
	assert_string_equal(ff.handlers[1].pattern, "/srv/app/*.py:handle_request");
	assert_false(ff.handlers[1].serial);
	assert_int_equal(ff.handlers[2].kind, FF_PROBE_JAVA);
	assert_string_equal(ff.handlers[2].pattern, "com.example.shop.Orders::place*");
	assert_true(ff.handlers[3].is_glob);
	assert_true(ff.handlers[4].is_glob);
	assert_true(ff.handlers[5].is_glob);
	assert_int_equal(ff.handlers[6].kind, FF_PROBE_SYMBOL);
	assert_false(ff.handlers[6].is_glob);
	assert_true(ff.handlers[6].serial);
	assert_int_equal(ff.n_flows, 0);
	assert_null(ff.flows);
	flowfile_free(&ff);
}

static void test_bundle_settings(void **state)
{
	struct flowfile ff;

	(void)state;
	parse_ok("bundles:\n"
		 "  a:\n"
		 "    pid: 17\n"
		 "    exe: ./bin/a\n"
		 "    comm: a-worker\n"
		 "    instances: 3\n"
		 "    workers: 1\n"
		 "    serial: true\n"
		 "    handlers: { h: f }\n"
		 "  b:\n"
		 "    pid: [ 1, 4194304 ]\n"
		 "    serial: False\n"
		 "    handlers: { h: f }\n"
		 "flows:\n",
		 &ff);
	assert_int_equal(ff.n_bundles, 2);
	assert_int_equal(ff.bundles[0].n_pids, 1);
	assert_int_equal(ff.bundles[0].pids[0], 17);
	assert_string_equal(ff.bundles[0].exe, "./bin/a");
	assert_string_equal(ff.bundles[0].comm, "a-worker");
	assert_int_equal(ff.bundles[0].instances, 3);
	assert_int_equal(ff.bundles[0].workers, 1);
	assert_true(ff.bundles[0].serial);
	assert_int_equal(ff.bundles[1].n_pids, 2);
	assert_int_equal(ff.bundles[1].pids[1], 4194304);
	assert_false(ff.bundles[1].serial);
	assert_int_equal(ff.bundles[1].first_handler, 1);
	assert_string_equal(ff.handlers[1].id, "b.h");
	assert_int_equal(ff.n_flows, 0);
	flowfile_free(&ff);
}

static void test_calls(void **state)
{
	struct flowfile ff;

	(void)state;
	/* Recursion, async back edges, a diamond, several flows sharing handlers
	 * and an entry that is also another flow's callee. */
	parse_ok(BUNDLE_S
		 "  one:\n"
		 "    entry: s.a\n"
		 "    calls:\n"
		 "      - s.c -> s.d\n" /* order does not matter: c is reached below */
		 "      - s.a -> s.b\n"
		 "      - s.b -> s.b\n"
		 "      - s.a->s.c\n"
		 "      - \"  s.b   ->   s.d \"\n"
		 "      - s.d ~> s.a\n"
		 "      - s.d ~> s.d\n"
		 "  two:\n"
		 "    entry: s.c\n"
		 "    calls: [ 's.c ~> s.e', 's.e -> s.c' ]\n"
		 "  three: { entry: s.e, calls: [] }\n"
		 "  four: { entry: s.e, calls: }\n",
		 &ff);
	assert_int_equal(ff.n_flows, 4);
	assert_int_equal(ff.flows[0].n_calls, 7);
	assert_int_equal(ff.flows[0].calls[0].from, 2);
	assert_int_equal(ff.flows[0].calls[0].to, 3);
	assert_int_equal(ff.flows[0].calls[3].from, 0);
	assert_int_equal(ff.flows[0].calls[3].to, 2);
	assert_int_equal(ff.flows[0].calls[4].from, 1);
	assert_int_equal(ff.flows[0].calls[4].to, 3);
	assert_false(ff.flows[0].calls[4].async);
	assert_true(ff.flows[0].calls[5].async);
	assert_int_equal(ff.flows[1].entry, 2);
	assert_true(ff.flows[1].calls[0].async);
	assert_false(ff.flows[1].calls[1].async);
	assert_int_equal(ff.flows[1].calls[1].loc.line, 23);
	assert_int_equal(ff.flows[2].n_calls, 0);
	assert_int_equal(ff.flows[3].n_calls, 0);
	flowfile_free(&ff);
}

static void test_path_relative(void **state)
{
	struct flowfile ff = { 0 };
	char *p;

	(void)state;
	ff.path = "conf/flows.yaml";
	p = flowfile_path_relative(&ff, "bin/shop");
	assert_string_equal(p, "conf/bin/shop");
	free(p);
	p = flowfile_path_relative(&ff, "/usr/bin/shop");
	assert_string_equal(p, "/usr/bin/shop");
	free(p);
	ff.path = "flows.yaml";
	p = flowfile_path_relative(&ff, "bin/shop");
	assert_string_equal(p, "bin/shop");
	free(p);
	ff.path = "/flows.yaml";
	p = flowfile_path_relative(&ff, "bin/shop");
	assert_string_equal(p, "/bin/shop");
	free(p);
}

static void test_hand_built_lookup(void **state)
{
	/* Another stage's test may build a flowfile by hand: no handler_order. */
	struct ff_handler hs[2] = { { .id = "a.x" }, { .id = "a.y" } };
	struct flowfile ff = { .handlers = hs, .n_handlers = 2 };

	(void)state;
	assert_int_equal(flowfile_handler_index(&ff, "a.y"), 1);
	assert_int_equal(flowfile_handler_index(&ff, "a.z"), -1);
}

/* --------------------------------------------------------------- limits */

static char *many_flows(int n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int i;

	assert_non_null(f);
	fputs(BUNDLE_S, f);
	for (i = 0; i < n; i++)
		fprintf(f, "  f%d: { entry: s.a }\n", i);
	fclose(f);
	return buf;
}

/* n handlers in total, split over two bundles. */
static char *many_handlers(int n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int i;

	assert_non_null(f);
	fputs("bundles:\n  one:\n    comm: one\n    handlers:\n", f);
	for (i = 0; i < n; i++) {
		if (i == 40000)
			fputs("  two:\n    comm: two\n    handlers:\n", f);
		fprintf(f, "      h%d: f%d\n", i, i);
	}
	fputs("flows:\n  last:\n    entry: two.h", f);
	fprintf(f, "%d\n", n - 1);
	fclose(f);
	return buf;
}

static void test_limits(void **state)
{
	struct flowfile ff;
	char *yaml;

	(void)state;
	yaml = many_flows(32);
	parse_ok(yaml, &ff);
	assert_int_equal(ff.n_flows, 32);
	flowfile_free(&ff);
	free(yaml);

	yaml = many_flows(33);
	expect_error(yaml, "flows.yaml:43:3: too many flows: the limit is 32");
	free(yaml);

	yaml = many_handlers(65536);
	parse_ok(yaml, &ff);
	assert_int_equal(ff.n_handlers, 65536);
	assert_int_equal(ff.bundles[1].first_handler, 40000);
	assert_int_equal(ff.bundles[1].n_handlers, 25536);
	assert_int_equal(ff.flows[0].entry, 65535);
	assert_int_equal(flowfile_handler_index(&ff, "one.h39999"), 39999);
	assert_int_equal(flowfile_handler_index(&ff, "two.h40000"), 40000);
	assert_int_equal(flowfile_handler_index(&ff, "one.h40000"), -1);
	flowfile_free(&ff);
	free(yaml);

	/* Handler 65537 is on line 4 + 65536 + 3 (the second bundle's header) + 1. */
	yaml = many_handlers(65537);
	expect_error(yaml, "flows.yaml:65544:7: too many handlers: the limit is 65536");
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_features_file),
		cmocka_unit_test(test_handler_forms),
		cmocka_unit_test(test_bundle_settings),
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_path_relative),
		cmocka_unit_test(test_hand_built_lookup),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
