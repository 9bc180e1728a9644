// SPDX-License-Identifier: MIT
/*
 * The model's options (user/model/model_options.c): every accepted spelling
 * of each value and the one-line error for each malformed one; repeated
 * options; and the flow and bundle names checked against the snapshot by
 * model_build(), including an error buffer too small for the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "model/model.h"

#include "model_snapshots.h"

static void expect_error(const char *name, const char *value, const char *want)
{
	char err[256] = "";

	assert_int_equal(model_parse_option(&opts, name, value, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

/* The rate of a --target given as value, for a fresh flow name each time. */
static double rate_of(const char *value)
{
	char *arg = xasprintf("f%d=%s", opts.n_targets, value);

	opt("--target", arg);
	free(arg);
	return opts.targets[opts.n_targets - 1].rate_per_s;
}

static void test_rates(void **state)
{
	(void)state;
	near(rate_of("800"), 800, 0);
	near(rate_of("800/s"), 800, 0);
	near(rate_of("2.4k/s"), 2400, 1e-9);
	near(rate_of("1.5M"), 1.5e6, 0);
	near(rate_of("48000/min"), 800, 1e-9);
	near(rate_of("120/m"), 2, 1e-12);
	near(rate_of("3600/h"), 1, 1e-12);
	near(rate_of("1e3"), 1000, 0);
	near(rate_of("0"), 0, 0); /* a flow switched off */
	assert_string_equal(opts.targets[0].flow, "f0");

	static const char *const bad[] = { "5/sec", "+5", "-5", "k", "", "nan", "inf", "5 /s",
					   "5k/ms", "5/s/s" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *arg = xasprintf("x=%s", bad[i]);
		char *want = xasprintf("--target 'x=%s': '%s' is not a rate; write e.g. 800, 800/s, "
				       "2.4k/s, 48000/min or 30/h", bad[i], bad[i]);

		/* "x=" has no rate at all: that is the FLOW=RATE error */
		if (!*bad[i]) {
			free(want);
			want = xstrdup("--target 'x=': expected FLOW=RATE, e.g. checkout=800/s");
		}
		expect_error("--target", arg, want);
		free(arg);
		free(want);
	}
}

static void test_target_shape(void **state)
{
	(void)state;
	expect_error("--target", "=5", "--target '=5': expected FLOW=RATE, e.g. checkout=800/s");
	expect_error("target", "checkout", "--target 'checkout': expected FLOW=RATE, e.g. "
		     "checkout=800/s");
	/* no value at all reads as an empty one */
	expect_error("--target", NULL, "--target '': expected FLOW=RATE, e.g. checkout=800/s");
	/* the flow name ends at the first '=' */
	expect_error("--target", "a=b=5", "--target 'a=b=5': 'b=5' is not a rate; write e.g. 800, "
		     "800/s, 2.4k/s, 48000/min or 30/h");
	opt("--target", "checkout=1");
	expect_error("--target", "checkout=2", "--target: flow 'checkout' given twice");
	assert_int_equal(opts.n_targets, 1);
	near(opts.targets[0].rate_per_s, 1, 0);
}

static void test_scale_and_limit(void **state)
{
	(void)state;
	opt("--scale", "2");
	near(opts.scale, 2, 0);
	opt("scale", "0.25x");
	near(opts.scale, 0.25, 0);
	static const char *const bad_scale[] = { "x", "0", "-1", "inf", "2xx", "3X", "", "two" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_scale); i++) {
		char *want = xasprintf("--scale '%s': expected a positive number, e.g. 2 or 1.5x",
				       bad_scale[i]);

		expect_error("--scale", bad_scale[i], want);
		free(want);
	}
	near(opts.scale, 0.25, 0); /* an error leaves the last good value */

	opt("--util-limit", "1");
	near(opts.util_limit, 1, 0);
	opt("--util-limit", "100%");
	near(opts.util_limit, 1, 1e-15);
	opt("--util-limit", "0.5%");
	near(opts.util_limit, 0.005, 1e-15);
	opt("--util-limit", "0.7");
	near(opts.util_limit, 0.7, 0);
	static const char *const bad_limit[] = { "0", "0%", "101%", "1.01", "%", "-0.5", "70 %" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_limit); i++) {
		char *want = xasprintf("--util-limit '%s': expected a fraction in (0, 1] or a "
				       "percentage, e.g. 0.7 or 70%%", bad_limit[i]);

		expect_error("--util-limit", bad_limit[i], want);
		free(want);
	}
}

static void test_servers(void **state)
{
	(void)state;
	opt("--workers", "shop=1000000");
	opt("--workers", "db=1");
	opt("--instances", "shop=2");
	assert_int_equal(opts.n_workers, 2);
	assert_string_equal(opts.workers[0].bundle, "shop");
	assert_int_equal(opts.workers[0].value, 1000000);
	assert_int_equal(opts.workers[1].value, 1);
	assert_int_equal(opts.n_instances, 1);
	assert_int_equal(opts.instances[0].value, 2);
	/* the same bundle in both options is two different settings */
	expect_error("--instances", "shop=3", "--instances: bundle 'shop' given twice");

	static const char *const bad[] = { "web=1000001", "web=+3", "web= 3", "web=3 ", "=3", "web=",
					   "web=0", "web=-2", "web=2.5", "web" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *want = xasprintf("--workers '%s': expected BUNDLE=N with N a positive integer, "
				       "e.g. shop=16", bad[i]);

		expect_error("--workers", bad[i], want);
		free(want);
		want = xasprintf("--instances '%s': expected BUNDLE=N with N a positive integer, "
				 "e.g. shop=3", bad[i]);
		expect_error("--instances", bad[i], want);
		free(want);
	}
	assert_int_equal(opts.n_workers, 2);
	assert_int_equal(opts.n_instances, 1);
}

static void test_users_and_think(void **state)
{
	(void)state;
	opt("--users", "7");
	assert_int_equal(opts.n_users, 1);
	assert_int_equal(opts.users[0], 7);
	/* a second --users replaces the first list */
	opt("--users", "1,20000,3");
	assert_int_equal(opts.n_users, 3);
	assert_int_equal(opts.users[0], 1);
	assert_int_equal(opts.users[1], 20000);
	assert_int_equal(opts.users[2], 3);
	expect_error("--users", "1,,2", "--users '1,,2': '' is not a number of users (1 to 20000)");
	expect_error("--users", "3,", "--users '3,': '' is not a number of users (1 to 20000)");
	expect_error("--users", "", "--users '': '' is not a number of users (1 to 20000)");
	expect_error("--users", "0", "--users '0': '0' is not a number of users (1 to 20000)");
	expect_error("--users", "20001",
		     "--users '20001': '20001' is not a number of users (1 to 20000)");
	/* an error keeps the last good list */
	assert_int_equal(opts.n_users, 3);
	assert_int_equal(opts.users[1], 20000);

	opt("--think", "0");
	near(opts.think_s, 0, 0);
	opt("--think", "1.5");
	near(opts.think_s, 1.5, 0);
	opt("--think", "250ms");
	near(opts.think_s, 0.25, 1e-15);
	opt("--think", "2s");
	near(opts.think_s, 2, 0);
	expect_error("--think", "-1", "--think '-1': expected seconds, e.g. 1, 500ms or 2s");
	expect_error("--think", "1 s", "--think '1 s': expected seconds, e.g. 1, 500ms or 2s");
}

static void test_option_names(void **state)
{
	(void)state;
	/* with or without the dashes */
	opt("users", "2");
	opt("-users", "3");
	opt("---users", "4");
	assert_int_equal(opts.users[0], 4);
	expect_error("--user", "2", "unknown model option '--user'; expected one of: --target, "
		     "--scale, --instances, --workers, --util-limit, --users, --think");
	expect_error("", "2", "unknown model option '--'; expected one of: --target, --scale, "
		     "--instances, --workers, --util-limit, --users, --think");
}

static void test_opts_free(void **state)
{
	static const struct model_opts zero;

	(void)state;
	opt("--target", "a=1");
	opt("--workers", "w=2");
	opt("--instances", "w=3");
	opt("--users", "1,2");
	opt("--scale", "2");
	model_opts_free(&opts);
	assert_memory_equal(&opts, &zero, sizeof(opts));
	/* freeing twice is harmless: everything was reset */
	model_opts_free(&opts);
}

/* ---- names, checked when the model is built ----------------------------------- */

static void expect_build_error(const struct snapshot *s, size_t errlen, const char *want)
{
	struct model m;
	char err[512];

	memset(err, 'X', sizeof(err));
	assert_true(errlen <= sizeof(err));
	assert_int_equal(model_build(s, &opts, &m, err, errlen), -1);
	if (errlen) {
		assert_true(strlen(err) < errlen);
		assert_string_equal(err, want);
	}
	/* nothing written past errlen */
	for (size_t i = errlen; i < sizeof(err); i++)
		assert_int_equal(err[i], 'X');
}

static void names_snapshot(struct snapshot *s)
{
	snap_init(s, 10, 4);
	add_bundle(s, "frontend", 1, 4);
	add_bundle(s, "backend", 1, 4);
	add_handler(s, "frontend.get", 100, 1e6, 1e6, 0, 1);
	add_handler(s, "frontend.put", 100, 1e6, 1e6, 0, 1);
	add_flow(s, "get", "frontend.get", 100);
	add_flow(s, "put", "frontend.put", 100);
}

static void test_unknown_names_listed(void **state)
{
	struct snapshot s;
	const char *all = "--target: unknown flow 'zz'; flows are: get, put";

	(void)state;
	names_snapshot(&s);
	/* too far from every name: the list */
	opt("--target", "zz=5");
	expect_build_error(&s, 512, all);
	/* one edit from a name, and shorter than the name itself: a suggestion */
	model_opts_free(&opts);
	opt("--target", "ge=5");
	expect_build_error(&s, 512, "--target: unknown flow 'ge'; did you mean 'get'?");
	model_opts_free(&opts);
	opt("--workers", "backnd=2");
	expect_build_error(&s, 512, "--workers: unknown bundle 'backnd'; did you mean 'backend'?");
	model_opts_free(&opts);
	opt("--instances", "db=2");
	expect_build_error(&s, 512, "--instances: unknown bundle 'db'; bundles are: frontend, "
			   "backend");
	/* the message cut to the buffer, at every length, and never past it */
	model_opts_free(&opts);
	opt("--target", "zz=5");
	for (size_t n = 0; n <= strlen(all) + 1; n++) {
		char *want = xasprintf("%.*s", n ? (int)n - 1 : 0, all);

		expect_build_error(&s, n, want);
		free(want);
	}
	snapshot_free(&s);
}

static void test_no_flows_or_bundles(void **state)
{
	struct snapshot s;

	(void)state;
	snap_init(&s, 10, 4);
	add_handler(&s, "lone.h", 100, 1e6, 1e6, 0, 1);
	opt("--target", "get=5");
	expect_build_error(&s, 512, "--target: unknown flow 'get'; the snapshot has no flows");
	model_opts_free(&opts);
	opt("--workers", "lone=5");
	expect_build_error(&s, 512, "--workers: unknown bundle 'lone'; the snapshot has no bundles");
	expect_build_error(&s, 20, "--workers: unknown ");
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rates, reset_opts),
		cmocka_unit_test_teardown(test_target_shape, reset_opts),
		cmocka_unit_test_teardown(test_scale_and_limit, reset_opts),
		cmocka_unit_test_teardown(test_servers, reset_opts),
		cmocka_unit_test_teardown(test_users_and_think, reset_opts),
		cmocka_unit_test_teardown(test_option_names, reset_opts),
		cmocka_unit_test_teardown(test_opts_free, reset_opts),
		cmocka_unit_test_teardown(test_unknown_names_listed, reset_opts),
		cmocka_unit_test_teardown(test_no_flows_or_bundles, reset_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
