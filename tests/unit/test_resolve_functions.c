// SPDX-License-Identifier: MIT
/*
 * resolve_flowfile() on symbol handlers in real binaries: a symbol that is
 * not found comes with the closest names (and says when the library is
 * stripped), aliases are attached once with a note, C++ globs match
 * demangled names, an IFUNC warns, and with allow_missing every problem is
 * collected. Messages are checked exactly. The shop and cart fixtures are
 * built at run time (resolve_fixtures.h).
 */
#include "resolve_fixtures.h"

static void test_missing_symbol_names_closest(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkot", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:7:7: shop.checkout: symbol 'shop_checkot' not found "
				   "in %s/shop; closest: shop_checkout, shop_check", dir));
	assert_int_equal(res.n_sites, 0);

	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	opts.pids = &child;
	opts.n_pids = 1;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	fx_stop(child);
	assert_string_equal(err, p("flows.yaml:7:7: shop.checkout: symbol 'shop_checkot' not found "
				   "in %s/shop (pid %d); closest: shop_checkout, shop_check", dir,
				   child));
}

static void test_stripped_library_says_so(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop-idle", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_static_helpr", p("%s/libshopdb-stripped.so", dir), 9, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:9:7: shop.persist: symbol 'db_static_helpr' not found "
				   "in %s/libshopdb-stripped.so, which is stripped: only .dynsym was "
				   "searched (no separate debug symbols were found: its -dbgsym "
				   "package puts them in /usr/lib/debug)", dir));
	/* The same library unstripped has it. */
	t.handlers[0].library = p("%s/libshopdb.so", dir);
	t.handlers[0].symbol = "db_static_helper";
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	resolution_free(&res);
}

static void test_aliases_attached_once(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 8, 7);
	add_handler(&t, 0, "pay", "shop_checkout_alias", NULL, 9, 7);
	add_handler(&t, 0, "all", "shop_check*", NULL, 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].handler, 0);
	assert_string_equal(res.sites[0].symbol, "shop_checkout");
	assert_int_equal(res.sites[1].handler, 2);
	assert_string_equal(res.sites[1].symbol, "shop_check");
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:9:7: note: shop.pay: symbol 'shop_checkout_alias' is at the "
			      "same address as 'shop_checkout' of shop.checkout in %s/shop: attached "
			      "once, counted as shop.checkout", dir));
	assert_string_equal(res.problems[1],
			    p("flows.yaml:10:7: note: shop.all: symbol 'shop_checkout' is at the "
			      "same address as 'shop_checkout' of shop.checkout in %s/shop: attached "
			      "once, counted as shop.checkout", dir));
	assert_string_equal(res.problems[2],
			    p("flows.yaml:10:7: note: shop.all: symbol 'shop_checkout_alias' is at "
			      "the same address as 'shop_checkout' of shop.checkout in %s/shop: "
			      "attached once, counted as shop.checkout", dir));
	for (int i = 0; i < 3; i++) /* notes: `check` does not count them as problems */
		assert_int_equal(res.problem_kinds[i], PROBLEM_NOTE);
	resolution_free(&res);

	/* Within one handler: a glob over a symbol and its alias. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout*", NULL, 8, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_string_equal(res.sites[0].symbol, "shop_checkout");
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:8:7: note: shop.checkout: symbol 'shop_checkout_alias' is "
			      "an alias of 'shop_checkout' in %s/shop: attached once", dir));
	resolution_free(&res);
}

static void test_cxx_glob(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "cart", p("%s/cart", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "cart", "Shop::Cart::*", NULL, 4, 7);
	add_handler(&t, 0, "place", "Shop::Order::place", NULL, 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 3);
	qsort(res.sites, res.n_sites, sizeof(*res.sites), site_cmp);
	assert_string_equal(res.sites[0].symbol, "_ZN4Shop4Cart3addEi");
	assert_string_equal(res.sites[0].demangled, "Shop::Cart::add(int)");
	assert_string_equal(res.sites[1].symbol, "_ZNK4Shop4Cart5totalEv");
	assert_string_equal(res.sites[1].demangled, "Shop::Cart::total() const");
	assert_int_equal(res.sites[2].handler, 1);
	assert_string_equal(res.sites[2].demangled, "Shop::Order::place(Shop::Cart const&)");
	resolution_free(&res);
}

static void test_allow_missing_collects_everything(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	struct ff_handler *h;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkot", NULL, 4, 7);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 5, 7);
	add_handler(&t, 0, "price", "prize_*", NULL, 6, 7);
	h = add_handler(&t, 0, "py", NULL, NULL, 7, 7);
	h->kind = FF_PROBE_PYTHON;
	h->pattern = "app.py:run";
	add_bundle(&t, "gone", "/nonexistent/gone", NULL, NULL, 0, 9, 3);
	add_handler(&t, 1, "x", "x", NULL, 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_string_equal(res.sites[0].symbol, "shop_browse");
	assert_int_equal(res.n_errors, 4);
	assert_int_equal(res.n_problems, 4);
	assert_string_equal(res.problems[0], "flows.yaml:9:3: bundle gone: exe /nonexistent/gone: "
					     "No such file or directory");
	assert_string_equal(res.problems[1],
			    p("flows.yaml:4:7: shop.checkout: symbol 'shop_checkot' not found in "
			      "%s/shop; closest: shop_checkout, shop_check", dir));
	assert_string_equal(res.problems[2],
			    p("flows.yaml:6:7: shop.price: no symbol matches 'prize_*' in %s/shop; "
			      "closest: price_base, price_discount", dir));
	assert_string_equal(res.problems[3],
			    p("flows.yaml:7:7: shop.py: %s/shop has no CPython USDT probes "
			      "(python:function__entry): this Python was built without --with-dtrace "
			      "(Debian's /usr/bin/python3 has them)", dir));
	for (int i = 0; i < 4; i++)
		assert_int_equal(res.problem_kinds[i], PROBLEM_ERROR);
	resolution_free(&res);
}

static void test_ifunc_warns(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "pick", "shop_pick", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: warning: shop.pick: 'shop_pick' in %s/shop is an IFUNC: "
			      "the probe sits on its resolver, which runs once at load, not on the "
			      "implementation it picks", dir));
	resolution_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_symbol_names_closest),
		cmocka_unit_test(test_stripped_library_says_so),
		cmocka_unit_test(test_aliases_attached_once),
		cmocka_unit_test(test_cxx_glob),
		cmocka_unit_test(test_allow_missing_collects_everything),
		cmocka_unit_test(test_ifunc_warns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
