// SPDX-License-Identifier: MIT
/*
 * Text from targets (user/base/text.c): the one UTF-8 walk every output
 * escapes names with, under its policies (invalid bytes as \xNN or
 * U+FFFD, spoofing code points as text passed through the output's own
 * escapes, ASCII replacements); UTF-8 decoding; display widths and where
 * to cut a line. term_escape()'s cases are in test_report.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static void check(const char *in, const struct text_escaping *how, const char *want)
{
	size_t len = 0;
	char *got = escape_text(in, how, &len);

	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(got);
}

static void test_decode(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode((const unsigned char *)"\xc2\xb5", 2, &cp), 2);
	assert_int_equal(cp, 0xb5);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xed\xbf\xbf", 3, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xc2\xb5", 1, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf8\x88\x80\x80\x80", 5, &cp), 0);
}

static void test_spoofing_code_points(void **state)
{
	static const uint32_t spoofing[] = { 0x80, 0x9b, 0x9f, 0x61c, 0x200e, 0x200f, 0x2028,
					     0x2029, 0x202a, 0x202e, 0x2066, 0x2069 };
	static const uint32_t plain[] = { 0x7f, 0xa0, 0xb5, 0x200d, 0x2027, 0x202f, 0x2065,
					  0x206a, 0xfffd };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(spoofing); i++)
		assert_true(is_spoofing_code_point(spoofing[i]));
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		assert_false(is_spoofing_code_point(plain[i]));
}

/* Only what is not UTF-8 changes: the policy of JSON strings. */
static void test_invalid_utf8_only(void **state)
{
	(void)state;
	check(NULL, &escape_invalid_utf8, "");
	check("shop\n\x1b[0m \xe2\x80\xae", &escape_invalid_utf8, "shop\n\x1b[0m \xe2\x80\xae");
	check("a\xff" "b\xc3", &escape_invalid_utf8, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	check("\xe2\x80", &escape_invalid_utf8, "\xef\xbf\xbd\xef\xbf\xbd"); /* per byte */
}

static void test_terminal_policy(void **state)
{
	char *t;

	(void)state;
	check("\x1b]0;x\x07 \xe2\x80\xae\xff\\", &escape_for_terminal,
	      "\\x1B]0;x\\x07 \\u{202E}\\xFF\\");
	t = term_escape("a\tb");
	assert_string_equal(t, "a\\tb");
	free(t);
}

/* An output's escapes apply to the text that shows a spoofing code point
 * too: a doubled backslash where backslashes are escaped. */
static const char *doubling(unsigned char c, char buf[TEXT_ESCAPE_BUF])
{
	if (c == '\\')
		return "\\\\";
	if (c == '<') {
		snprintf(buf, TEXT_ESCAPE_BUF, "&#%d;", c);
		return buf;
	}
	return NULL;
}

static void test_policy_hooks(void **state)
{
	const struct text_escaping both = { .spoofing_as_text = true, .ascii = doubling };
	const struct text_escaping hex = { .invalid_as_hex = true, .ascii = doubling };

	(void)state;
	check("<a\\b>\xe2\x80\xae", &both, "&#60;a\\\\b>\\\\u{202E}");
	check("\xc2\x9b" "x\xff", &both, "\\\\u{009B}x\xef\xbf\xbd");
	/* without spoofing_as_text the code point stays; invalid bytes as
	 * \xNN are not passed through ascii() */
	check("\xe2\x80\xae\xfe", &hex, "\xe2\x80\xae\\xFE");
}

static void test_widths(void **state)
{
	(void)state;
	assert_int_equal(display_width(NULL), 0);
	assert_int_equal(display_width(""), 0);
	assert_int_equal(display_width("caf\xc3\xa9"), 4);
	assert_int_equal(display_width("\xf0\x9f\x98\x80!"), 2);
	assert_int_equal(display_width("a\xff" "b"), 3); /* a byte that is not UTF-8: one */
	assert_int_equal(display_prefix("caf\xc3\xa9s", 4), 5);
	assert_int_equal(display_prefix("caf\xc3\xa9s", 3), 3);
	assert_int_equal(display_prefix("caf\xc3\xa9s", 0), 0);
	assert_int_equal(display_prefix("abc", 10), 3);
	assert_int_equal(display_prefix("\xff\xfe" "x", 2), 2);
}

static void test_padding(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	print_padded(f, "\xc2\xb5s", 4, true);
	fputc('|', f);
	print_padded(f, "ab", 4, false);
	fputc('|', f);
	print_padded(f, "toolong", 3, false); /* never cut */
	fputc('|', f);
	print_padded(f, NULL, 2, false);
	fclose(f);
	assert_string_equal(text, "  \xc2\xb5s|ab  |toolong|  ");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_spoofing_code_points),
		cmocka_unit_test(test_invalid_utf8_only),
		cmocka_unit_test(test_terminal_policy),
		cmocka_unit_test(test_policy_hooks),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_padding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
