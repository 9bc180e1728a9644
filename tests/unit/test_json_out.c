// SPDX-License-Identifier: MIT
/*
 * The JSON writer (user/base/json_out.c): strings made valid UTF-8, exact
 * integers, rounded and exact doubles, long doubles, inline arrays, pretty
 * and compact text; and the two writers without json-c that the HTML page
 * and its WebAssembly model use (a document inside <script>, a string
 * literal, a rounded number), which must read back as json-c reads them
 * and print numbers as jo_num() does.
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

/* The compact text of a value, without the final newline. Puts v. */
static char *text_of(json_object *v)
{
	char *t = jo_to_string(v, false);

	json_object_put(v);
	t[strlen(t) - 1] = '\0';
	return t;
}

static void check(json_object *v, const char *want)
{
	char *got = text_of(v);

	assert_string_equal(got, want);
	free(got);
}

static void test_strings(void **state)
{
	(void)state;
	assert_null(jo_str(NULL)); /* json-c's null */
	check(jo_str(NULL), "null");
	check(jo_str(""), "\"\"");
	check(jo_str("shop.checkout"), "\"shop.checkout\"");
	check(jo_str("caf\xc3\xa9 \xc2\xb5s"), "\"caf\xc3\xa9 \xc2\xb5s\""); /* UTF-8 kept */
	check(jo_str("a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");		 /* not UTF-8: U+FFFD */
	check(jo_str("\xc3"), "\"\xef\xbf\xbd\"");			 /* truncated */
	check(jo_str("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""); /* surrogate */
	check(jo_str("q\"b\\n\n\x01"), "\"q\\\"b\\\\n\\n\\u0001\"");
	check(jo_str("/usr/bin/shop"), "\"/usr/bin/shop\""); /* '/' never escaped */
	check(jo_str("</script>"), "\"</script>\"");	   /* json-c's text: see below */
}

static void test_integers(void **state)
{
	(void)state;
	check(jo_u64(0), "0");
	check(jo_u64(UINT64_MAX), "18446744073709551615");
	check(jo_int(-42), "-42");
	check(jo_int(INT64_MIN), "-9223372036854775808");
}

static void test_rounded_numbers(void **state)
{
	(void)state;
	check(jo_num(1234.5, 3), "1234.5");
	check(jo_num(2, 3), "2.0");
	check(jo_num(0.123456, 4), "0.1235");
	check(jo_num(2.46, 0), "2.5"); /* at least one decimal */
	check(jo_num(-0.00001, 2), "0.0"); /* no "-0.0" */
	check(jo_num(-1.25, 1), "-1.2");
	assert_null(jo_num(NAN, 2));
	assert_null(jo_num(INFINITY, 2));
}

static void test_exact_numbers(void **state)
{
	(void)state;
	check(jo_num_exact(30), "30.0");
	check(jo_num_exact(0.1), "0.1");
	check(jo_num_exact(812.5), "812.5");
	check(jo_num_exact(1.0 / 3), "0.3333333333333333");
	check(jo_num_exact(1e-7), "1e-07");
	check(jo_num_exact(1e20), "1e+20");
	check(jo_num_exact(-2.5), "-2.5");
	assert_null(jo_num_exact(NAN));
	{
		/* read back, the same double */
		double v = 0.1 + 0.2;
		char *t = text_of(jo_num_exact(v));

		assert_true(strtod(t, NULL) == v);
		free(t);
	}
}

static void test_long_doubles(void **state)
{
	(void)state;
	check(jo_long_double(0), "0");
	check(jo_long_double(1e18L), "1000000000000000000");
	check(jo_long_double(18446744073709551615.0L), "18446744073709551615");
	check(jo_long_double(0.5L), "5.00000000000000000000e-01");
	check(jo_long_double(-3), "-3.00000000000000000000e+00");
	assert_null(jo_long_double(NAN));
}

static void test_documents(void **state)
{
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	char *pretty, *compact;
	const char *text;
	size_t len = 0;

	(void)state;
	for (int i = 1; i <= 3; i++)
		json_object_array_add(arr, jo_u64((uint64_t)i));
	jo_add(doc, "name", jo_str("a/b"));
	jo_add(doc, "hist", jo_inline_array(arr));
	jo_add(doc, "none", NULL);
	jo_add(doc, "name", jo_str("c")); /* replaces */
	pretty = jo_to_string(doc, true);
	compact = jo_to_string(doc, false);
	assert_string_equal(pretty, "{\n  \"name\": \"c\",\n  \"hist\": [1, 2, 3],\n"
				    "  \"none\": null\n}\n");
	assert_string_equal(compact, "{\"name\":\"c\",\"hist\":[1, 2, 3],\"none\":null}\n");
	text = jo_text(doc, false, &len);
	assert_int_equal(len, strlen(compact) - 1);
	assert_memory_equal(text, compact, len);
	free(pretty);
	free(compact);
	json_object_put(doc);
}

/* What a FILE writer printed. Caller frees. */
static char *written(void (*put)(FILE *, const char *), const char *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	put(f, arg);
	fclose(f);
	return text;
}

/* The page embeds json-c's text in <script>: nothing in it may close the
 * element or open a comment, and it must read back as the same document. */
static void test_script_safe(void **state)
{
	json_object *doc = json_object_new_object(), *back;
	char *json, *safe;

	(void)state;
	jo_add(doc, "name", jo_str("</script><!-- a & b > c"));
	json = jo_to_string(doc, false);
	safe = written(json_put_script_safe, json);
	assert_string_equal(safe, "{\"name\":\"\\u003c/script\\u003e\\u003c!-- a \\u0026 b "
				  "\\u003e c\"}\n");
	back = json_tokener_parse(safe);
	assert_non_null(back);
	assert_string_equal(json_object_get_string(json_object_object_get(back, "name")),
			    "</script><!-- a & b > c");
	json_object_put(back);
	free(safe);
	free(json);
	json_object_put(doc);
}

/* The WebAssembly model's strings: script-safe, and the same text json-c
 * reads back. */
static void test_string_literals(void **state)
{
	static const char *const cases[] = {
		"shop.checkout", "q\"b\\n", "tab\there\nnl\x01\x7f", "<b>&amp;", "caf\xc3\xa9",
	};
	char *t;

	(void)state;
	t = written(json_put_string, NULL);
	assert_string_equal(t, "null");
	free(t);
	t = written(json_put_string, "a\"\\<\x7f");
	assert_string_equal(t, "\"a\\\"\\\\\\u003c\\u007f\"");
	free(t);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_object *back;

		t = written(json_put_string, cases[i]);
		assert_null(strpbrk(t, "<>&"));
		back = json_tokener_parse(t);
		assert_non_null(back);
		assert_string_equal(json_object_get_string(back), cases[i]);
		json_object_put(back);
		free(t);
	}
}

/* The WebAssembly model's numbers print as the CLI's (jo_num). */
static void test_number_text_is_jo_num(void **state)
{
	static const double values[] = { 0, 2, 1234.5, 0.123456, -0.00001, -1.25, 1e15, 3.999999,
					 0.05, 1.0 / 3 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		for (int dec = 1; dec <= 4; dec++) {
			char buf[JSON_NUMBER_BUF], *want = text_of(jo_num(values[i], dec));

			assert_string_equal(json_number_text(buf, values[i], dec), want);
			free(want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_rounded_numbers),
		cmocka_unit_test(test_exact_numbers),
		cmocka_unit_test(test_long_doubles),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_script_safe),
		cmocka_unit_test(test_string_literals),
		cmocka_unit_test(test_number_text_is_jo_num),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
