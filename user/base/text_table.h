/* SPDX-License-Identifier: MIT */
/* A plain text table for the reports and `flowprof top`: columns sized to
 * their widest cell (display width, so µs and escaped names line up),
 * numbers right-aligned. */
#ifndef FLOWPROF_TEXT_TABLE_H
#define FLOWPROF_TEXT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct table {
	int indent;		/* spaces before every row */
	int ncols;
	const char *const *headers;
	const bool *right;	/* right-align this column (numbers) */
	char **cells;		/* nrows * ncols, owned */
	int nrows;
	size_t cap;
};

/* Adds a row of ncols cells, taking ownership of each. */
void table_add(struct table *t, char **row);

/* The header row and every row, each on its line. */
void table_print(FILE *out, const struct table *t);

void table_free(struct table *t);

/* One row of n cells without indent nor newline: each padded to its
 * column's width (right-aligned where right[c]), two spaces apart, and no
 * trailing blanks. What table_print() prints per row; `flowprof top` draws
 * its rows with it. */
void table_print_row(FILE *out, const char *const *cells, const size_t *width,
		     const bool *right, int n);

#endif
