// SPDX-License-Identifier: MIT
/*
 * Plain text tables (user/base/text_table.c): columns as wide as their
 * widest cell in display columns (so "µs" and escaped names line up),
 * numbers right-aligned, an indent, two spaces between columns, and no
 * trailing blanks; and one row alone, as `flowprof top` draws it.
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

/* The table as printed. Caller frees. */
static char *printed(const struct table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	table_print(f, t);
	fclose(f);
	return text;
}

static void add(struct table *t, const char *a, const char *b, const char *c)
{
	char *row[3] = { xstrdup(a), xstrdup(b), xstrdup(c) };

	table_add(t, row);
}

static void test_columns_fit_their_widest_cell(void **state)
{
	static const char *const headers[] = { "HANDLER", "MEAN", "SITE" };
	static const bool right[] = { false, true, false };
	struct table t = { .indent = 2, .ncols = 3, .headers = headers, .right = right };
	char *text;

	(void)state;
	add(&t, "shop.checkout", "3.29 ms", "emulated");
	add(&t, "mail.send", "704 ns", "nop5");
	add(&t, "caf\xc3\xa9", "96.9 \xc2\xb5s", "single-step"); /* 2-byte characters: one column */
	text = printed(&t);
	assert_string_equal(text,
			    "  HANDLER           MEAN  SITE\n"
			    "  shop.checkout  3.29 ms  emulated\n"
			    "  mail.send       704 ns  nop5\n"
			    "  caf\xc3\xa9           96.9 \xc2\xb5s  single-step\n");
	free(text);
	table_free(&t);
}

/* A right-aligned last column is padded (it aligns); a left-aligned one
 * is not (no trailing blanks). A header wider than every cell sets the
 * width; an empty table is its header. */
static void test_last_column_and_headers(void **state)
{
	static const char *const headers[] = { "A", "WIDE HEADER", "N" };
	static const bool right[] = { false, false, true };
	struct table t = { .ncols = 3, .headers = headers, .right = right };
	char *text;

	(void)state;
	text = printed(&t);
	assert_string_equal(text, "A  WIDE HEADER  N\n");
	free(text);
	add(&t, "x", "y", "100");
	add(&t, "longer", "", "1");
	text = printed(&t);
	assert_string_equal(text,
			    "A       WIDE HEADER    N\n"
			    "x       y            100\n"
			    "longer                 1\n");
	free(text);
	table_free(&t);
}

static void test_one_row(void **state)
{
	const char *cells[] = { "gateway", "1.2k/s", "x" };
	const size_t width[] = { 10, 8, 5 };
	const bool right[] = { false, true, false };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	table_print_row(f, cells, width, right, 3);
	fclose(f);
	assert_string_equal(text, "gateway       1.2k/s  x");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_fit_their_widest_cell),
		cmocka_unit_test(test_last_column_and_headers),
		cmocka_unit_test(test_one_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
