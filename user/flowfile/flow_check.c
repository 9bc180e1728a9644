// SPDX-License-Identifier: MIT
/*
 * Pass 2 of a flow file: each flow's entry and calls, which may name
 * handlers defined anywhere in the file, checked once every bundle is
 * known. Flow by flow: the entry's handler, each call's syntax and
 * handlers (an unknown name gets a hint), then the same pair of handlers
 * twice, calls that the entry does not reach, and cycles among synchronous
 * calls.
 */
#include "flowfile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Handlers named in a cycle message; longer cycles show both ends. */
#define CYCLE_SHOW 8

static int cmp_handler_id(const void *a, const void *b, void *arg)
{
	const struct flowfile *ff = arg;

	return strcmp(ff->handlers[*(const int *)a].id, ff->handlers[*(const int *)b].id);
}

void ff_build_handler_order(struct flowfile *ff)
{
	int i;

	free(ff->handler_order);
	ff->handler_order = xcalloc((size_t)ff->n_handlers, sizeof(*ff->handler_order));
	for (i = 0; i < ff->n_handlers; i++)
		ff->handler_order[i] = i;
	qsort_r(ff->handler_order, (size_t)ff->n_handlers, sizeof(*ff->handler_order),
		cmp_handler_id, ff);
}

static int lookup_handler(struct parser *p, const char *id, struct ff_loc loc)
{
	int h = flowfile_handler_index(p->ff, id);

	if (h < 0)
		ff_unknown_handler(p, loc, id);
	return h;
}

/* Splits "a -> b" / "a => b" / "a ~> b" into the flow's call c. */
static int parse_call(struct parser *p, const struct ynode *n, struct ff_call *c)
{
	const char *s = n->str, *arrow = NULL, *q;
	size_t from_off, from_len, to_off, to_len;
	int arrows = 0;
	char *from = NULL, *to = NULL;
	int err = -1;

	for (q = s; q[0] && q[1]; q++) {
		if ((q[0] == '-' || q[0] == '~' || q[0] == '=') && q[1] == '>') {
			arrow = q;
			arrows++;
		}
	}
	from_off = strspn(s, " \t");
	from_len = arrow ? (size_t)(arrow - s) - from_off : 0;
	while (from_len && strchr(" \t", s[from_off + from_len - 1]))
		from_len--;
	to_off = arrow ? (size_t)(arrow + 2 - s) : 0;
	to_off += strspn(s + to_off, " \t");
	to_len = strlen(s + to_off);
	while (to_len && strchr(" \t", s[to_off + to_len - 1]))
		to_len--;
	if (arrows != 1 || !from_len || !to_len || memchr(s + from_off, ' ', from_len) ||
	    memchr(s + to_off, ' ', to_len) || memchr(s + from_off, '\t', from_len) ||
	    memchr(s + to_off, '\t', to_len))
		return ff_fail(p, n->loc,
			       "invalid call '%s'; write 'bundle.handler -> bundle.handler' (synchronous, same thread), 'bundle.handler => bundle.handler' (synchronous, another process) or 'bundle.handler ~> bundle.handler' (asynchronous)",
			       s);
	from = strndup(s + from_off, from_len);
	to = strndup(s + to_off, to_len);
	if (!from || !to) {
		ff_fail(p, n->loc, "out of memory");
		goto cleanup;
	}
	c->loc = n->loc;
	c->async = arrow[0] != '-';
	c->waits = arrow[0] == '=';
	c->from = lookup_handler(p, from, ynode_sub_loc(n, from_off));
	if (c->from < 0)
		goto cleanup;
	c->to = lookup_handler(p, to, ynode_sub_loc(n, to_off));
	if (c->to < 0)
		goto cleanup;
	err = 0;
cleanup:
	free(from);
	free(to);
	return err;
}

static int cmp_call(const void *a, const void *b, void *arg)
{
	const struct ff_call *calls = arg;
	const struct ff_call *x = &calls[*(const int *)a], *y = &calls[*(const int *)b];

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return *(const int *)a < *(const int *)b ? -1 : *(const int *)a > *(const int *)b;
}

/* Calls of f sorted by (from, to, position): duplicates are then neighbours,
 * and each from's calls are contiguous for the graph walks. Caller frees. */
static int *sorted_calls(const struct ff_flow *f)
{
	int *order = xcalloc((size_t)f->n_calls, sizeof(*order)), i;

	for (i = 0; i < f->n_calls; i++)
		order[i] = i;
	qsort_r(order, (size_t)f->n_calls, sizeof(*order), cmp_call, f->calls);
	return order;
}

/* The same pair twice, whether -> or ~>: report the earliest repeat. */
static int check_duplicate_calls(struct parser *p, const struct ff_flow *f, const int *order)
{
	const struct flowfile *ff = p->ff;
	int i, worst = -1, worst_first = -1, group = 0;

	for (i = 1; i < f->n_calls; i++) {
		const struct ff_call *a = &f->calls[order[i - 1]], *b = &f->calls[order[i]];

		if (a->from != b->from || a->to != b->to) {
			group = i;
			continue;
		}
		if (worst < 0 || order[i] < worst) {
			worst = order[i];
			worst_first = order[group];
		}
	}
	if (worst < 0)
		return 0;
	return ff_fail(p, f->calls[worst].loc, "duplicate call from '%s' to '%s' (first at %d:%d)",
		       ff->handlers[f->calls[worst].from].id, ff->handlers[f->calls[worst].to].id,
		       f->calls[worst_first].loc.line, f->calls[worst_first].loc.col);
}

/*
 * Adjacency in CSR form over handler indices: with order from sorted_calls,
 * the calls leaving h are order[start[h] .. start[h + 1]). Caller frees.
 */
static int *call_starts(const struct flowfile *ff, const struct ff_flow *f)
{
	int *start = xcalloc((size_t)ff->n_handlers + 1, sizeof(*start)), i;

	for (i = 0; i < f->n_calls; i++)
		start[f->calls[i].from + 1]++;
	for (i = 0; i < ff->n_handlers; i++)
		start[i + 1] += start[i];
	return start;
}

/* Every call must leave a handler that the entry reaches through calls. */
static int check_reachable(struct parser *p, const struct ff_flow *f, const int *order,
			   const int *start)
{
	const struct flowfile *ff = p->ff;
	bool *seen = xcalloc((size_t)ff->n_handlers, sizeof(*seen));
	int *queue = xcalloc((size_t)ff->n_handlers, sizeof(*queue));
	int head = 0, tail = 0, i, err = 0;

	seen[f->entry] = true;
	queue[tail++] = f->entry;
	while (head < tail) {
		int h = queue[head++];

		for (i = start[h]; i < start[h + 1]; i++) {
			int to = f->calls[order[i]].to;

			if (!seen[to]) {
				seen[to] = true;
				queue[tail++] = to;
			}
		}
	}
	for (i = 0; i < f->n_calls; i++) {
		if (!seen[f->calls[i].from]) {
			err = ff_fail(p, f->calls[i].loc,
				      "call from '%s' is not reachable from entry '%s' of flow '%s'; each call must start at the entry or at a handler it calls",
				      ff->handlers[f->calls[i].from].id, ff->handlers[f->entry].id, f->name);
			break;
		}
	}
	free(queue);
	free(seen);
	return err;
}

/*
 * Synchronous calls nest on one thread, so they cannot go round in a circle,
 * except a handler calling itself (recursion). Depth-first search over the
 * synchronous calls; a call back into the current path closes a cycle.
 */
static int check_cycles(struct parser *p, const struct ff_flow *f, const int *order,
			const int *start)
{
	const struct flowfile *ff = p->ff;
	unsigned char *state = xcalloc((size_t)ff->n_handlers, 1); /* 0 new, 1 on path, 2 done */
	int *path = xcalloc((size_t)ff->n_handlers, sizeof(*path));
	int *next = xcalloc((size_t)ff->n_handlers, sizeof(*next));
	int depth = 0, r, i, err = 0;

	/* Roots: the entry first, then each call's caller in file order. */
	for (r = -1; r < f->n_calls && !err; r++) {
		int root = r < 0 ? f->entry : f->calls[r].from;

		if (state[root])
			continue;
		state[root] = 1;
		next[root] = start[root];
		path[depth++] = root;
		while (depth > 0 && !err) {
			int h = path[depth - 1];
			const struct ff_call *c;

			if (next[h] == start[h + 1]) {
				state[h] = 2;
				depth--;
				continue;
			}
			c = &f->calls[order[next[h]++]];
			if (c->async || c->to == h)
				continue;
			if (state[c->to] == 1) {
				char *msg = NULL;
				size_t size = 0;
				FILE *m = open_memstream(&msg, &size);

				if (m) {
					int from;

					for (from = 0; path[from] != c->to; from++)
						;
					/* Keep one readable line: elide the middle of long cycles. */
					for (i = from; i < depth; i++) {
						if (depth - from > CYCLE_SHOW && i == from + CYCLE_SHOW / 2) {
							fprintf(m, "... (%d more) -> ",
								depth - from - CYCLE_SHOW);
							i = depth - CYCLE_SHOW / 2 - 1;
							continue;
						}
						fprintf(m, "%s -> ", ff->handlers[path[i]].id);
					}
					fputs(ff->handlers[c->to].id, m);
					fclose(m);
				}
				err = ff_fail(p, c->loc,
					      "synchronous calls form a cycle: %s; only a handler calling itself (recursion) is allowed",
					      msg ? msg : "?");
				free(msg);
			} else if (state[c->to] == 0) {
				state[c->to] = 1;
				next[c->to] = start[c->to];
				path[depth++] = c->to;
			}
		}
	}
	free(next);
	free(path);
	free(state);
	return err;
}

int ff_resolve_flow(struct parser *p, int fi)
{
	struct flowfile *ff = p->ff;
	struct ff_flow *f = &ff->flows[fi];
	const struct flow_refs *refs = &p->refs[fi];
	int *order = NULL, *start = NULL, err = -1;
	size_t i;

	f->entry = lookup_handler(p, refs->entry->str, refs->entry->loc);
	if (f->entry < 0)
		return -1;
	if (!refs->calls)
		return 0;
	f->calls = xcalloc(refs->calls->n_kids, sizeof(*f->calls));
	for (i = 0; i < refs->calls->n_kids; i++) {
		if (parse_call(p, refs->calls->kids[i], &f->calls[i]))
			return -1;
		f->n_calls++;
	}
	order = sorted_calls(f);
	start = call_starts(ff, f);
	if (check_duplicate_calls(p, f, order) || check_reachable(p, f, order, start) ||
	    check_cycles(p, f, order, start))
		goto cleanup;
	err = 0;
cleanup:
	free(start);
	free(order);
	return err;
}
