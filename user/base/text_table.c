// SPDX-License-Identifier: MIT
#include "text_table.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

void table_add(struct table *t, char **row)
{
	grow_array((void **)&t->cells, &t->cap, (size_t)(t->nrows + 1) * (size_t)t->ncols,
		   sizeof(*t->cells));
	memcpy(&t->cells[(size_t)t->nrows * (size_t)t->ncols], row,
	       (size_t)t->ncols * sizeof(*row));
	t->nrows++;
}

void table_print_row(FILE *out, const char *const *cells, const size_t *width,
		     const bool *right, int n)
{
	for (int c = 0; c < n; c++) {
		bool last = c + 1 == n;

		if (c)
			fputs("  ", out);
		/* No padding after a left-aligned last column: no trailing blanks. */
		print_padded(out, cells[c], last && !right[c] ? 0 : width[c], right[c]);
	}
}

static void print_row(FILE *out, const struct table *t, const char *const *cells,
		      const size_t *width)
{
	fprintf(out, "%*s", t->indent, "");
	table_print_row(out, cells, width, t->right, t->ncols);
	fputc('\n', out);
}

void table_print(FILE *out, const struct table *t)
{
	size_t *width = xcalloc((size_t)t->ncols, sizeof(*width));

	for (int c = 0; c < t->ncols; c++) {
		width[c] = display_width(t->headers[c]);
		for (int r = 0; r < t->nrows; r++) {
			size_t w = display_width(t->cells[(size_t)r * (size_t)t->ncols + (size_t)c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	print_row(out, t, t->headers, width);
	for (int r = 0; r < t->nrows; r++)
		print_row(out, t, (const char *const *)&t->cells[(size_t)r * (size_t)t->ncols],
			  width);
	free(width);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}
