// SPDX-License-Identifier: MIT
/*
 * Units formatting (user/base/units.c) at the boundaries where a value
 * moves to the next unit or changes its number of decimals, and the
 * command-line value parsers (user/base/options.c): durations ("500ms",
 * "2m") and -p PID lists with their error messages. The common cases of
 * the units are in test_report.c, next to the report that prints them.
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

static const char *dur(double ns, bool ascii)
{
	static char buf[UNITS_BUF];

	return units_duration(buf, sizeof(buf), ns, ascii);
}

static const char *rate(double per_s)
{
	static char buf[UNITS_BUF];

	return units_rate(buf, sizeof(buf), per_s);
}

static const char *pct(double share)
{
	static char buf[UNITS_BUF];

	return units_percent(buf, sizeof(buf), share);
}

/* Three significant digits, and the next unit where rounding would print
 * 1000 of this one. */
static void test_duration_boundaries(void **state)
{
	(void)state;
	assert_string_equal(dur(999.49, false), "999 ns");
	assert_string_equal(dur(999.5, false), "1.00 \xc2\xb5s");
	assert_string_equal(dur(9994, false), "9.99 \xc2\xb5s");
	assert_string_equal(dur(9995, false), "10.0 \xc2\xb5s");
	assert_string_equal(dur(99949, false), "99.9 \xc2\xb5s");
	assert_string_equal(dur(99950, false), "100 \xc2\xb5s");
	assert_string_equal(dur(999499, false), "999 \xc2\xb5s");
	assert_string_equal(dur(999500, false), "1.00 ms");
	assert_string_equal(dur(999.5e6, true), "1.00 s");
	assert_string_equal(dur(1e15, true), "1000000 s"); /* seconds are the last unit */
	assert_string_equal(dur(0.4, true), "0 ns");
	assert_string_equal(dur(-INFINITY, true), "-");
}

static void test_rate_boundaries(void **state)
{
	(void)state;
	assert_string_equal(rate(0.001), "0.00/s");
	assert_string_equal(rate(9.994), "9.99/s");
	assert_string_equal(rate(9.995), "10.0/s");
	assert_string_equal(rate(99.95), "100/s");
	assert_string_equal(rate(99949), "99.9k/s");
	assert_string_equal(rate(99950), "100k/s");
	assert_string_equal(rate(999.5e3), "1.0M/s");
	assert_string_equal(rate(999.5e6), "1.0G/s");
	assert_string_equal(rate(-1), "-");
	assert_string_equal(rate(INFINITY), "-");
}

/* A share is never shown as a misleading 0% or 100%. */
static void test_percent_boundaries(void **state)
{
	(void)state;
	assert_string_equal(pct(0.00001), "<1%");
	assert_string_equal(pct(0.0051), "1%");
	assert_string_equal(pct(0.994), "99%");
	assert_string_equal(pct(0.995), ">99%");
	assert_string_equal(pct(0.99999), ">99%");
	assert_string_equal(pct(NAN), "-");
}

static const char *error(double e)
{
	static char buf[UNITS_BUF];

	return units_relative_error(buf, sizeof(buf), e);
}

/* A prediction's relative error (the sweep's table and page): a tenth of a
 * percent within 10%, whole percents beyond, always signed. */
static void test_relative_error(void **state)
{
	(void)state;
	assert_string_equal(error(0), "+0.0%");
	assert_string_equal(error(0.042), "+4.2%");
	assert_string_equal(error(-0.0004), "-0.0%");
	assert_string_equal(error(-0.0999), "-10.0%");
	assert_string_equal(error(0.1), "+10%");
	assert_string_equal(error(-0.12), "-12%");
	assert_string_equal(error(2.5), "+250%");
	assert_string_equal(error(NAN), "-");
	assert_string_equal(error(INFINITY), "-");
	assert_string_equal(error(-INFINITY), "-");
}

static void check_seconds(const char *s, double want)
{
	double v = -1;

	if (parse_seconds(s, &v))
		fail_msg("'%s' refused", s);
	assert_true(fabs(v - want) < 1e-12 * fmax(1, want));
}

static void test_parse_seconds(void **state)
{
	double v = 7;

	(void)state;
	check_seconds("30", 30);
	check_seconds("2.5", 2.5);
	check_seconds("2.5s", 2.5);
	check_seconds("500ms", 0.5);
	check_seconds("250us", 250e-6);
	check_seconds("1m", 60);
	check_seconds("1.5min", 90);
	check_seconds("2h", 7200);
	check_seconds("0", 0);
	assert_int_equal(parse_seconds("", &v), -1);
	assert_int_equal(parse_seconds("-1", &v), -1);
	assert_int_equal(parse_seconds("5 s", &v), -1);
	assert_int_equal(parse_seconds("5d", &v), -1);
	assert_int_equal(parse_seconds("nan", &v), -1);
	assert_int_equal(parse_seconds("inf", &v), -1);
	assert_true(v == 7); /* untouched on error */
}

static void check_pids_refused(const char *s, const char *want)
{
	int *pids = NULL, n = 0;
	char err[256];

	assert_int_equal(parse_pid_list(s, &pids, &n, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	free(pids);
}

static void test_parse_pid_list(void **state)
{
	int *pids = NULL, n = 0;
	char err[256];

	(void)state;
	assert_int_equal(parse_pid_list("4242", &pids, &n, err, sizeof(err)), 0);
	assert_int_equal(parse_pid_list("1,4194304", &pids, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3); /* appended */
	assert_int_equal(pids[0], 4242);
	assert_int_equal(pids[1], 1);
	assert_int_equal(pids[2], 4194304);
	free(pids);
	check_pids_refused("", "expected PID[,PID...]");
	check_pids_refused("12x", "'12x' is not a process id");
	check_pids_refused("1,,2", "'' is not a process id");
	check_pids_refused("1,0", "'0' is not a process id");
	check_pids_refused("-5", "'-5' is not a process id");
	check_pids_refused("4194305", "'4194305' is not a process id");
	check_pids_refused("7,abc,9", "'abc' is not a process id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_boundaries),
		cmocka_unit_test(test_rate_boundaries),
		cmocka_unit_test(test_percent_boundaries),
		cmocka_unit_test(test_relative_error),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_pid_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
