// SPDX-License-Identifier: MIT
/*
 * The flow file parser (user/flowfile/): the exact full message of every
 * error (YAML, the document's shape, keys, types, values, duplicates,
 * unknown handlers, call syntax, cycles, unreachable calls, which error
 * comes first, unreadable files), and every tests/flowfiles/bad-*.yaml;
 * tests/e2e/test_flowfile_errors.py checks the same through the CLI. Run
 * from the repository root (tests/run-tests.sh does).
 */
#include <glob.h>

#include "flowfile_fixtures.h"

/* --------------------------------------------------------------- errors */

static void test_err_yaml(void **state)
{
	(void)state;
	expect_error("bundles:\n  shop: exe: x\n",
		     "flows.yaml:2:12: invalid YAML: mapping values are not allowed in this context; a value with ': ' in it needs quotes (\"a: b\"), or a key is indented too far");
	expect_error("bundles: [a, b\n",
		     "flows.yaml:2:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at 1:10); a [ ] or { } list is not closed, or its items lack a comma");
	expect_error("bundles:\n  shop:\n    exe: x\n   handlers: {}\n",
		     "flows.yaml:4:4: invalid YAML: did not find expected key (while parsing a block mapping at 2:3); check the indentation: keys of one mapping (items of one list) start in the same column");
	expect_error("bundles:\n\tshop:\n",
		     "flows.yaml:2:1: invalid YAML: found character that cannot start any token; indent with spaces, YAML does not allow tabs");
	expect_error("bundles: \"abc\n",
		     "flows.yaml:2:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at 1:10); a quote or bracket is not closed");
	expect_error("bundles:\n  x: \xc3\xa9\xff\n",
		     "flows.yaml:2:7: invalid YAML: invalid leading UTF-8 octet (byte 0xff); the file must be UTF-8 text");
	expect_error("bundles:\n  x: a\x01\n",
		     "flows.yaml:2:7: invalid YAML: control characters are not allowed (byte 0x01); the file must be UTF-8 text");
	expect_error("a: 1\n---\nb: 2\n", "flows.yaml:2:1: only one YAML document is allowed in a flow file");
	expect_error("bundles: \"a\\0b\"\n", "flows.yaml:1:10: strings must not contain NUL characters");
}

static void test_err_yaml_features(void **state)
{
	(void)state;
	expect_error(HANDLER_HEAD "      a: &x fa\n      b: *x\n",
		     "flows.yaml:5:10: YAML anchors are not supported ('&x'); write the value out in full");
	expect_error(HANDLER_HEAD "      a: *x\n",
		     "flows.yaml:5:10: YAML aliases are not supported ('*x'); write the value out in full");
	expect_error("base: &b { comm: x }\nbundles:\n  s:\n    <<: *b\n",
		     "flows.yaml:1:7: YAML anchors are not supported ('&b'); write the value out in full");
	expect_error(HANDLER_HEAD "      a: !!str fa\n",
		     "flows.yaml:5:10: YAML tags are not supported ('!!str'); remove the tag");
	expect_error("bundles: !shop\n", "flows.yaml:1:10: YAML tags are not supported ('!shop'); remove the tag");
	expect_error("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		     "flows.yaml:1:67: YAML nested deeper than 64 levels");
}

static void test_err_empty_and_root(void **state)
{
	(void)state;
	expect_error("", "flows.yaml:1:1: empty flow file; expected a mapping with 'bundles:' and optional 'flows:'");
	expect_error("# nothing\n\n",
		     "flows.yaml:1:1: empty flow file; expected a mapping with 'bundles:' and optional 'flows:'");
	expect_error("---\n", "flows.yaml:2:1: empty flow file; expected a mapping with 'bundles:' and optional 'flows:'");
	expect_error("- bundles\n",
		     "flows.yaml:1:1: the flow file must be a mapping with 'bundles:' and optional 'flows:'");
	expect_error("bundles\n",
		     "flows.yaml:1:1: the flow file must be a mapping with 'bundles:' and optional 'flows:'");
	expect_error("flows:\n  f: { entry: s.a }\n",
		     "flows.yaml:1:1: missing key 'bundles'; a flow file defines bundles (processes) and their handlers");
}

static void test_err_unknown_keys(void **state)
{
	(void)state;
	expect_error("bundels:\n", "flows.yaml:1:1: unknown key 'bundels'; did you mean 'bundles'?");
	expect_error("processes:\n", "flows.yaml:1:1: unknown key 'processes'; expected one of: bundles, flows");
	expect_error("bundles:\n  s:\n    exee: x\n",
		     "flows.yaml:3:5: unknown key 'exee' in bundle 's'; did you mean 'exe'?");
	expect_error("bundles:\n  s:\n    command: x\n",
		     "flows.yaml:3:5: unknown key 'command' in bundle 's'; expected one of: exe, pid, comm, handlers, instances, workers, serial");
	expect_error("bundles:\n  s:\n    comm: x\n    hanlders: { a: b }\n",
		     "flows.yaml:4:5: unknown key 'hanlders' in bundle 's'; did you mean 'handlers'?");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, lib: libx.so }\n",
		     "flows.yaml:5:24: unknown key 'lib' in handler 's.a'; expected one of: symbol, library, serial, usdt, return, python, java");
	expect_error(HANDLER_HEAD "      a: { symbl: fa }\n",
		     "flows.yaml:5:12: unknown key 'symbl' in handler 's.a'; did you mean 'symbol'?");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    serial: true\n",
		     "flows.yaml:13:5: unknown key 'serial' in flow 'f'; expected one of: entry, calls");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    call: [ 's.a -> s.b' ]\n",
		     "flows.yaml:13:5: unknown key 'call' in flow 'f'; did you mean 'calls'?");
}

static void test_err_missing_keys(void **state)
{
	(void)state;
	expect_error("bundles:\n  s:\n    exe: /bin/s\n",
		     "flows.yaml:3:5: missing key 'handlers' in bundle 's'");
	expect_error("bundles:\n  s:\n    handlers: { a: fa }\n",
		     "flows.yaml:3:5: bundle 's' selects no processes; add exe, pid or comm");
	expect_error("bundles:\n  s: {}\n", "flows.yaml:2:6: bundle 's' selects no processes; add exe, pid or comm");
	expect_error(BUNDLE_S "  f:\n    calls: [ 's.a -> s.b' ]\n",
		     "flows.yaml:12:5: missing key 'entry' in flow 'f'; name the handler that starts it, e.g. entry: shop.checkout");
	expect_error(HANDLER_HEAD "      a:\n        usdt: 'p:start'\n",
		     "flows.yaml:6:9: missing key 'return' in handler 's.a'; usdt needs the probe that marks the return, as return: provider:name");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, return: 'p:done' }\n",
		     "flows.yaml:5:24: return is only valid with usdt in handler 's.a'");
	expect_error(HANDLER_HEAD "      a: { library: libx.so, serial: true }\n",
		     "flows.yaml:5:10: handler 's.a' has no probe point; give one of: symbol, usdt, python, java");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, java: 'a.B::c' }\n",
		     "flows.yaml:5:24: handler 's.a' has both symbol and java; give exactly one of: symbol, usdt, python, java");
	expect_error(HANDLER_HEAD "      a: { python: 'x.py:f', usdt: 'p:n', return: 'p:r' }\n",
		     "flows.yaml:5:30: handler 's.a' has both python and usdt; give exactly one of: symbol, usdt, python, java");
}

static void test_err_types(void **state)
{
	(void)state;
	expect_error("bundles: shop\n", "flows.yaml:1:10: bundles must be a mapping of bundle names to bundles");
	expect_error("bundles:\n", "flows.yaml:1:9: bundles must not be empty; define at least one bundle");
	expect_error("bundles: {}\n", "flows.yaml:1:10: bundles must not be empty; define at least one bundle");
	expect_error("bundles:\n  s: /bin/s\n",
		     "flows.yaml:2:6: bundle 's' must be a mapping with handlers and exe, pid or comm");
	expect_error("bundles:\n  s:\n    exe: [ a, b ]\n", "flows.yaml:3:10: exe must be a string");
	expect_error("bundles:\n  s:\n    exe:\n", "flows.yaml:3:9: exe must be a string");
	expect_error("bundles:\n  s:\n    exe: ''\n", "flows.yaml:3:10: exe must not be empty");
	expect_error("bundles:\n  s:\n    comm: { a: b }\n", "flows.yaml:3:11: comm must be a string");
	expect_error("bundles:\n  s:\n    pid: shop\n",
		     "flows.yaml:3:10: pid must be an integer or a list of integers");
	expect_error("bundles:\n  s:\n    pid: [ 1, 2.5 ]\n",
		     "flows.yaml:3:15: pid must be an integer or a list of integers");
	expect_error("bundles:\n  s:\n    pid: [ 1, [2] ]\n",
		     "flows.yaml:3:15: pid must be an integer or a list of integers");
	expect_error("bundles:\n  s:\n    pid: \"4242\"\n",
		     "flows.yaml:3:10: pid must be an integer or a list of integers; write it without quotes");
	expect_error("bundles:\n  s:\n    pid: []\n", "flows.yaml:3:10: pid list must not be empty");
	expect_error("bundles:\n  s:\n    pid: 0\n", "flows.yaml:3:10: pid 0 is out of range (1 to 4194304)");
	expect_error("bundles:\n  s:\n    pid: -5\n", "flows.yaml:3:10: pid -5 is out of range (1 to 4194304)");
	expect_error("bundles:\n  s:\n    pid: 4194305\n",
		     "flows.yaml:3:10: pid 4194305 is out of range (1 to 4194304)");
	expect_error("bundles:\n  s:\n    pid: 99999999999999999999999\n",
		     "flows.yaml:3:10: pid 99999999999999999999999 is out of range (1 to 4194304)");
	expect_error("bundles:\n  s:\n    instances: 0\n", "flows.yaml:3:16: instances must be a positive integer");
	expect_error("bundles:\n  s:\n    instances: many\n",
		     "flows.yaml:3:16: instances must be a positive integer");
	expect_error("bundles:\n  s:\n    workers: 1.5\n", "flows.yaml:3:14: workers must be a positive integer");
	expect_error("bundles:\n  s:\n    workers: 3000000000\n",
		     "flows.yaml:3:14: workers must be a positive integer");
	expect_error("bundles:\n  s:\n    serial: yes\n", "flows.yaml:3:13: serial must be true or false");
	expect_error("bundles:\n  s:\n    serial: \"true\"\n", "flows.yaml:3:13: serial must be true or false");
	expect_error("bundles:\n  s:\n    comm: x\n    handlers: [ a, b ]\n",
		     "flows.yaml:4:15: handlers must be a mapping of handler names to probe points");
	expect_error("bundles:\n  s:\n    comm: x\n    handlers:\n",
		     "flows.yaml:4:14: bundle 's' has no handlers; add at least one, e.g. checkout: shop_checkout");
	expect_error(HANDLER_HEAD "      a: [ fa ]\n",
		     "flows.yaml:5:10: handler 's.a' must be a symbol name or a mapping with one of: symbol, usdt, python, java");
	expect_error(HANDLER_HEAD "      a:\n      b: fb\n",
		     "flows.yaml:5:9: handler 's.a' must be a symbol name or a mapping with one of: symbol, usdt, python, java");
	expect_error(HANDLER_HEAD "      a: { symbol: [ fa ] }\n", "flows.yaml:5:20: symbol must be a string");
	expect_error(HANDLER_HEAD "      a: { symbol: '' }\n", "flows.yaml:5:20: symbol must not be empty");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, library: }\n", "flows.yaml:5:33: library must be a string");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, serial: 1 }\n", "flows.yaml:5:32: serial must be true or false");
	expect_error(HANDLER_HEAD "      a: { usdt: start, return: 'p:r' }\n",
		     "flows.yaml:5:18: usdt must be 'provider:name', not 'start'");
	expect_error(HANDLER_HEAD "      a: { usdt: 'p:s', return: 'p:r:x' }\n",
		     "flows.yaml:5:33: return must be 'provider:name', not 'p:r:x'");
	expect_error(HANDLER_HEAD "      a: { python: views.py }\n",
		     "flows.yaml:5:20: python must be 'file-glob:function', not 'views.py'; e.g. '*/views.py:checkout'");
	expect_error(HANDLER_HEAD "      a: { java: 'com.example.Orders.place' }\n",
		     "flows.yaml:5:18: java must be 'package.Class::method', not 'com.example.Orders.place'; e.g. 'com.example.Orders::place'");
	expect_error(BUNDLE_S "  f: s.a\n", "flows.yaml:11:6: flow 'f' must be a mapping with entry and calls");
	expect_error("bundles: { s: { comm: x, handlers: { a: fa } } }\nflows: [ f ]\n",
		     "flows.yaml:2:8: flows must be a mapping of flow names to flows");
	expect_error(BUNDLE_S "  f:\n    entry: [ s.a ]\n",
		     "flows.yaml:12:12: entry must be a handler id 'bundle.handler'");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls: s.a -> s.b\n",
		     "flows.yaml:13:12: calls must be a list of 'a -> b', 'a => b' or 'a ~> b'");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - { s.a: s.b }\n",
		     "flows.yaml:14:9: a call must be a string 'bundle.handler -> bundle.handler', 'bundle.handler => bundle.handler' or 'bundle.handler ~> bundle.handler'");
}

static void test_err_values(void **state)
{
	(void)state;
	expect_error("bundles:\n  s:\n    comm: my-long-service-name\n",
		     "flows.yaml:3:11: comm 'my-long-service-name' is longer than 15 bytes, which the kernel never reports; write 'my-long-service'");
	expect_error("bundles:\n  s.x:\n", "flows.yaml:2:3: invalid bundle name 's.x'; use letters, digits, '_' and '-'");
	expect_error("bundles:\n  '':\n", "flows.yaml:2:3: invalid bundle name ''; use letters, digits, '_' and '-'");
	expect_error(HANDLER_HEAD "      a b: fa\n",
		     "flows.yaml:5:7: invalid handler name 'a b'; use letters, digits, '_' and '-'");
	expect_error(BUNDLE_S "  check/out: { entry: s.a }\n",
		     "flows.yaml:11:3: invalid flow name 'check/out'; use letters, digits, '_' and '-'");
	expect_error("bundles:\n  [ s ]: x\n", "flows.yaml:2:3: bundle names must be strings");
	expect_error("? [ bundles ]\n: x\n", "flows.yaml:1:3: key names must be strings");
}

static void test_err_duplicates(void **state)
{
	(void)state;
	expect_error("bundles:\n  s: { comm: x, handlers: { a: fa } }\nbundles: {}\n",
		     "flows.yaml:3:1: duplicate key 'bundles' (first at 1:1)");
	expect_error("bundles:\n  s:\n    comm: x\n    handlers: { a: fa }\n  t: { comm: y, handlers: { a: fa } }\n  s:\n    comm: z\n",
		     "flows.yaml:6:3: duplicate bundle 's' (first at 2:3)");
	expect_error("bundles:\n  s:\n    exe: /bin/a\n    exe: /bin/b\n",
		     "flows.yaml:4:5: duplicate key 'exe' (first at 3:5)");
	expect_error(HANDLER_HEAD "      a: fa\n      b: fb\n      a: fa2\n",
		     "flows.yaml:7:7: duplicate handler 's.a' (first at 5:7)");
	expect_error(HANDLER_HEAD "      a: { symbol: fa, serial: true, symbol: fb }\n",
		     "flows.yaml:5:38: duplicate key 'symbol' (first at 5:12)");
	expect_error(BUNDLE_S "  f: { entry: s.a }\n  g: { entry: s.b }\n  f: { entry: s.c }\n",
		     "flows.yaml:13:3: duplicate flow 'f' (first at 11:3)");
	expect_error(BUNDLE_S "  f: { entry: s.a, entry: s.b }\n",
		     "flows.yaml:11:20: duplicate key 'entry' (first at 11:8)");
	expect_error("bundles:\n  s:\n    pid: [ 7, 8, 7 ]\n", "flows.yaml:3:18: duplicate pid 7 (first at 3:12)");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a -> s.b\n      - s.a -> s.c\n      - s.a -> s.b\n",
		     "flows.yaml:16:9: duplicate call from 's.a' to 's.b' (first at 14:9)");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a -> s.b\n      - s.a ~> s.b\n",
		     "flows.yaml:15:9: duplicate call from 's.a' to 's.b' (first at 14:9)");
	/* The same key text may be reused at different levels and in other flows. */
	{
		struct flowfile ff;

		parse_ok(BUNDLE_S "  a: { entry: s.a, calls: [ 's.a -> s.b' ] }\n  b: { entry: s.a, calls: [ 's.a -> s.b' ] }\n",
			 &ff);
		flowfile_free(&ff);
	}
}

static void test_err_unknown_handler(void **state)
{
	(void)state;
	expect_error(BUNDLE_S "  f:\n    entry: s.x\n",
		     "flows.yaml:12:12: unknown handler 's.x'; expected one of: s.a, s.b, s.c, s.d, s.e");
	expect_error(BUNDLE_S "  f:\n    entry: t.a\n",
		     "flows.yaml:12:12: unknown handler 't.a'; did you mean 's.a'?");
	expect_error(BUNDLE_S "  f:\n    entry: d\n",
		     "flows.yaml:12:12: unknown handler 'd'; handlers are named 'bundle.handler': did you mean 's.d'?");
	expect_error("bundles:\n  shop:\n    comm: shop\n    handlers: { checkout: c, price: p }\n"
		     "flows:\n  f:\n    entry: shop.chekout\n",
		     "flows.yaml:7:12: unknown handler 'shop.chekout'; did you mean 'shop.checkout'?");
	expect_error("bundles:\n  shop:\n    comm: shop\n    handlers: { checkout: c, price: p }\n"
		     "flows:\n  f:\n    entry: shop.checkout\n    calls:\n      - shop.checkout -> shop.prices\n",
		     "flows.yaml:9:26: unknown handler 'shop.prices'; did you mean 'shop.price'?");
	expect_error("bundles:\n  shop:\n    comm: shop\n    handlers: { checkout: c, price: p }\n"
		     "flows:\n  f:\n    entry: shop.checkout\n    calls:\n      - \"shop.checkot -> shop.price\"\n",
		     "flows.yaml:9:10: unknown handler 'shop.checkot'; did you mean 'shop.checkout'?");
	/* Quoted with an escape: the column is the string's start. */
	expect_error("bundles:\n  shop:\n    comm: shop\n    handlers: { checkout: c, price: p }\n"
		     "flows:\n  f:\n    entry: shop.checkout\n    calls:\n      - \"shop.checkout -\\x3e shop.x\"\n",
		     "flows.yaml:9:9: unknown handler 'shop.x'; expected one of: shop.checkout, shop.price");
}

static void test_err_call_syntax(void **state)
{
	static const char *const bad[] = { "s.a >> s.b", "s.a - > s.b", "s.a", "-> s.b", "s.a ->",
					   "s.a -> s.b -> s.c", "s.a ~> s.b ~> s.c", "s.a => s.b -> s.c",
					   "s.a s.c -> s.b", "s.a -> s.b s.c", "s.a = > s.b" };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *yaml = xasprintf(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - '%s'\n", bad[i]);
		char *want = xasprintf("flows.yaml:14:9: invalid call '%s'; write 'bundle.handler -> bundle.handler' (synchronous, same thread), 'bundle.handler => bundle.handler' (synchronous, another process) or 'bundle.handler ~> bundle.handler' (asynchronous)",
				       bad[i]);

		expect_error(yaml, want);
		free(want);
		free(yaml);
	}
}

static void test_err_cycles(void **state)
{
	(void)state;
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a -> s.b\n      - s.b -> s.a\n",
		     "flows.yaml:15:9: synchronous calls form a cycle: s.a -> s.b -> s.a; only a handler calling itself (recursion) is allowed");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a -> s.b\n      - s.b -> s.c\n"
			      "      - s.c -> s.d\n      - s.d -> s.b\n      - s.d -> s.e\n",
		     "flows.yaml:17:9: synchronous calls form a cycle: s.b -> s.c -> s.d -> s.b; only a handler calling itself (recursion) is allowed");
	/* A long cycle names both ends and how many handlers it leaves out. */
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		int i;

		assert_non_null(f);
		fputs("bundles:\n  b:\n    comm: x\n    handlers:\n", f);
		for (i = 0; i < 20; i++)
			fprintf(f, "      h%d: f%d\n", i, i);
		fputs("flows:\n  f:\n    entry: b.h0\n    calls:\n", f);
		for (i = 0; i < 20; i++)
			fprintf(f, "      - b.h%d -> b.h%d\n", i, (i + 1) % 20);
		fclose(f);
		expect_error(buf, "flows.yaml:48:9: synchronous calls form a cycle: b.h0 -> b.h1 -> b.h2 -> b.h3 -> ... (12 more) -> b.h16 -> b.h17 -> b.h18 -> b.h19 -> b.h0; only a handler calling itself (recursion) is allowed");
		free(buf);
	}
	/* A cycle reached only through an asynchronous call is still found. */
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a ~> s.b\n      - s.c -> s.b\n      - s.b -> s.c\n",
		     "flows.yaml:16:9: synchronous calls form a cycle: s.c -> s.b -> s.c; only a handler calling itself (recursion) is allowed");
}

static void test_err_unreachable(void **state)
{
	(void)state;
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.b -> s.c\n",
		     "flows.yaml:14:9: call from 's.b' is not reachable from entry 's.a' of flow 'f'; each call must start at the entry or at a handler it calls");
	expect_error(BUNDLE_S "  f:\n    entry: s.a\n    calls:\n      - s.a -> s.b\n      - s.b ~> s.c\n      - s.d -> s.e\n      - s.e -> s.a\n",
		     "flows.yaml:16:9: call from 's.d' is not reachable from entry 's.a' of flow 'f'; each call must start at the entry or at a handler it calls");
	/* Only the flow's own calls count, not another flow's. */
	expect_error(BUNDLE_S "  f: { entry: s.a, calls: [ 's.a -> s.b' ] }\n  g: { entry: s.c, calls: [ 's.b -> s.d' ] }\n",
		     "flows.yaml:12:29: call from 's.b' is not reachable from entry 's.c' of flow 'g'; each call must start at the entry or at a handler it calls");
}

static void test_err_order(void **state)
{
	(void)state;
	/* The first error in the file wins, flows before bundles included. */
	expect_error("flows:\n  f: { entri: s.a }\nbundles:\n  s: { exee: x }\n",
		     "flows.yaml:2:8: unknown key 'entri' in flow 'f'; did you mean 'entry'?");
	/* Handler names in flows are checked once every bundle is known. */
	expect_error("flows:\n  f: { entry: s.b }\nbundles:\n  s: { comm: x, handlers: { a: fa } }\n",
		     "flows.yaml:2:15: unknown handler 's.b'; did you mean 's.a'?");
}

static void test_err_load(void **state)
{
	struct flowfile ff;
	char err[256], small[16];

	(void)state;
	assert_int_equal(flowfile_load("tests/flowfiles/does-not-exist.yaml", &ff, err, sizeof(err)), -1);
	assert_string_equal(err, "tests/flowfiles/does-not-exist.yaml: cannot read: No such file or directory");
	assert_null(ff.path);
	assert_int_equal(flowfile_load("tests/flowfiles", &ff, err, sizeof(err)), -1);
	assert_string_equal(err, "tests/flowfiles: cannot read: Is a directory");

	/* A short buffer gets a truncated, terminated message. */
	assert_int_equal(flowfile_parse("flows.yaml", "", 0, &ff, small, sizeof(small)), -1);
	assert_string_equal(small, "flows.yaml:1:1:");
	assert_int_equal(flowfile_parse("a-very-long-path.yaml", "", 0, &ff, small, sizeof(small)), -1);
	assert_string_equal(small, "a-very-long-pat");
	/* No buffer at all is allowed. */
	assert_int_equal(flowfile_parse("flows.yaml", "", 0, &ff, NULL, 0), -1);
}

/* Every tests/flowfiles/bad-*.yaml says on its first line what it must fail
 * with; tests/e2e/test_flowfile_errors.py checks the same through the CLI. */
static void test_bad_files(void **state)
{
	glob_t g;
	size_t i;

	(void)state;
	assert_int_equal(glob("tests/flowfiles/bad-*.yaml", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 10);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		char *text = read_file(path, NULL), *nl, *want;
		struct flowfile ff;
		char err[1024];

		assert_non_null(text);
		assert_int_equal(strncmp(text, "# expect: ", 10), 0);
		nl = strchr(text, '\n');
		assert_non_null(nl);
		*nl = '\0';
		want = xasprintf("%s:%s", path, text + 10);
		assert_int_equal(flowfile_load(path, &ff, err, sizeof(err)), -1);
		if (strcmp(err, want))
			print_error("%s\n", path);
		assert_string_equal(err, want);
		free(want);
		free(text);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_yaml),
		cmocka_unit_test(test_err_yaml_features),
		cmocka_unit_test(test_err_empty_and_root),
		cmocka_unit_test(test_err_unknown_keys),
		cmocka_unit_test(test_err_missing_keys),
		cmocka_unit_test(test_err_types),
		cmocka_unit_test(test_err_values),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_unknown_handler),
		cmocka_unit_test(test_err_call_syntax),
		cmocka_unit_test(test_err_cycles),
		cmocka_unit_test(test_err_unreachable),
		cmocka_unit_test(test_err_order),
		cmocka_unit_test(test_err_load),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
