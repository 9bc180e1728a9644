// SPDX-License-Identifier: MIT
/*
 * The flow file's one error message, "<path>:<line>:<col>: <what>[; <hint>]"
 * (docs/flow-file.md, "Errors"), and the hints for unknown names: "did you
 * mean" when one known name is a likely typo, else the names allowed.
 */
#include "flowfile_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Names longer than this get no "did you mean" (edit distance is quadratic). */
#define SUGGEST_MAX_LEN 256
/* Candidates listed in an "expected one of" hint. */
#define HINT_MAX_NAMES 10

int ff_fail(struct parser *p, struct ff_loc loc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%d:%d: ", p->path, loc.line, loc.col);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---------------------------------------------------------------- hints */

/* The candidate closest to word, when close enough to be a likely typo. */
static const char *closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, i;
	bool tie = false;

	if (strlen(word) > SUGGEST_MAX_LEN)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t d;

		if (strlen(cands[i]) > SUGGEST_MAX_LEN)
			continue;
		d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
			tie = false;
		} else if (d == best_d) {
			tie = true;
		}
	}
	/* A guess only when one name stands out: no hint beats a wrong one. */
	if (best && !tie && best_d <= 2 && best_d * 2 < strlen(best))
		return best;
	return NULL;
}

/* "did you mean 'x'?" or "expected one of: a, b, c" (caller frees). */
char *ff_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = closest(word, cands, n);
	char *s = NULL;
	size_t size = 0, i;
	FILE *f;

	if (best)
		return xasprintf("did you mean '%s'?", best);
	f = open_memstream(&s, &size);
	if (!f)
		return xstrdup("");
	fputs("expected one of: ", f);
	for (i = 0; i < n && i < HINT_MAX_NAMES; i++)
		fprintf(f, "%s%s", i ? ", " : "", cands[i]);
	if (n > HINT_MAX_NAMES)
		fputs(", ...", f);
	fclose(f);
	return s ? s : xstrdup("");
}

int ff_unknown_key(struct parser *p, const struct ynode *key, const char *where,
		   const char *const *known, size_t n)
{
	char *hint = ff_suggest(key->str, known, n);

	ff_fail(p, key->loc, "unknown key '%s'%s; %s", key->str, where, hint);
	free(hint);
	return -1;
}

int ff_unknown_handler(struct parser *p, struct ff_loc loc, const char *id)
{
	const struct flowfile *ff = p->ff;
	const char **ids = xcalloc((size_t)ff->n_handlers, sizeof(*ids));
	const char *dot = strchr(id, '.'), *match = NULL;
	char *hint = NULL;
	int i;

	for (i = 0; i < ff->n_handlers; i++) {
		ids[i] = ff->handlers[i].id;
		if (!dot && !strcmp(ff->handlers[i].name, id))
			match = match ? "" : ids[i]; /* "" when ambiguous */
	}
	if (match && *match)
		hint = xasprintf("handlers are named 'bundle.handler': did you mean '%s'?", match);
	else
		hint = ff_suggest(id, ids, (size_t)ff->n_handlers);
	ff_fail(p, loc, "unknown handler '%s'; %s", id, hint);
	free(hint);
	free(ids);
	return -1;
}
