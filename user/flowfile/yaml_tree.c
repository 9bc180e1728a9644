// SPDX-License-Identifier: MIT
/*
 * Reading a flow file: libyaml's events into a small tree that keeps
 * every node's start and end marks, so that any element can be named by
 * line and column. Anchors, aliases and tags are refused right here, since
 * a flow file has no use for them and they would hide where a value came
 * from; so are a second document, NUL in strings, and nesting past
 * MAX_NESTING. libyaml's own errors get a hint for the usual mistakes
 * (tabs, ': ' in a value, indentation, unclosed quotes and brackets).
 *
 * Also what a scalar means (null, integer, boolean: the YAML core schema
 * narrowed to what docs/flow-file.md allows), where a substring of a scalar
 * sits in the file, and which keys of a mapping repeat an earlier one.
 */
#include "flowfile_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/base.h"

static struct ff_loc mark_loc(yaml_mark_t m)
{
	return (struct ff_loc){ .line = (int)m.line + 1, .col = (int)m.column + 1 };
}

/* Characters (not bytes) in a UTF-8 string, as libyaml counts columns. */
static size_t utf8_chars(const char *s, size_t n)
{
	size_t i, chars = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	return chars;
}

/* Line and column of a byte offset (libyaml's reader errors have only that). */
static struct ff_loc offset_loc(const char *buf, size_t len, size_t off)
{
	struct ff_loc loc = { 1, 1 };
	size_t i, line_start = 0;

	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			loc.line++;
			line_start = i + 1;
		}
	}
	loc.col = (int)utf8_chars(buf + line_start, off - line_start) + 1;
	return loc;
}

/* The byte at a 0-based libyaml mark, or -1 when outside the buffer. */
static int byte_at_mark(const char *buf, size_t len, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < len && line < m.line) {
		if (buf[i++] == '\n')
			line++;
	}
	while (i < len && buf[i] != '\n' && col < m.column) {
		i++;
		while (i < len && ((unsigned char)buf[i] & 0xc0) == 0x80)
			i++;
		col++;
	}
	return i < len ? (unsigned char)buf[i] : -1;
}

/* ---------------------------------------------------------------- tree */

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_kids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct ynode *ynode_new(enum ynode_type type, const yaml_event_t *ev)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->loc = mark_loc(ev->start_mark);
	n->end = mark_loc(ev->end_mark);
	return n;
}

static void ynode_add(struct ynode *parent, struct ynode *kid)
{
	grow_array((void **)&parent->kids, &parent->cap_kids, parent->n_kids + 1,
		   sizeof(*parent->kids));
	parent->kids[parent->n_kids++] = kid;
}

static int yaml_fail(struct parser *p, const yaml_parser_t *yp)
{
	struct ff_loc loc = mark_loc(yp->problem_mark);
	const char *problem = yp->problem ? yp->problem : "unknown error";
	const char *hint = "";

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		return ff_fail(p, (struct ff_loc){ 1, 1 }, "out of memory while reading YAML");
	case YAML_READER_ERROR:
		loc = offset_loc(p->buf, p->len, yp->problem_offset);
		if (yp->problem_value >= 0)
			return ff_fail(p, loc, "invalid YAML: %s (byte 0x%02x); the file must be UTF-8 text",
				       problem, (unsigned int)yp->problem_value & 0xff);
		return ff_fail(p, loc, "invalid YAML: %s", problem);
	default:
		break;
	}
	if (byte_at_mark(p->buf, p->len, yp->problem_mark) == '\t')
		hint = "; indent with spaces, YAML does not allow tabs";
	else if (strstr(problem, "mapping values are not allowed"))
		hint = "; a value with ': ' in it needs quotes (\"a: b\"), or a key is indented "
		       "too far";
	else if (strstr(problem, "did not find expected key") ||
		 strstr(problem, "did not find expected '-' indicator"))
		hint = "; check the indentation: keys of one mapping (items of one list) start "
		       "in the same column";
	else if (strstr(problem, "found unexpected end of stream") ||
		 strstr(problem, "found unexpected end"))
		hint = "; a quote or bracket is not closed";
	else if (strstr(problem, "did not find expected ',' or"))
		hint = "; a [ ] or { } list is not closed, or its items lack a comma";
	else if (strstr(problem, "did not find expected <document start>"))
		hint = "; the file must be one mapping ('bundles:' ...), not text after it";
	if (yp->context && (yp->context_mark.line != yp->problem_mark.line ||
			    yp->context_mark.column != yp->problem_mark.column)) {
		struct ff_loc c = mark_loc(yp->context_mark);

		return ff_fail(p, loc, "invalid YAML: %s (%s at %d:%d)%s", problem, yp->context,
			       c.line, c.col, hint);
	}
	return ff_fail(p, loc, "invalid YAML: %s%s", problem, hint);
}

/* Refuses the YAML features a flow file has no use for. */
static int check_node_event(struct parser *p, const yaml_event_t *ev, const yaml_char_t *anchor,
			    const yaml_char_t *tag)
{
	struct ff_loc loc = mark_loc(ev->start_mark);

	if (anchor)
		return ff_fail(p, loc, "YAML anchors are not supported ('&%s'); write the value out in full",
			       (const char *)anchor);
	if (tag) {
		static const char yaml_prefix[] = "tag:yaml.org,2002:";
		const char *t = (const char *)tag;
		bool core = !strncmp(t, yaml_prefix, sizeof(yaml_prefix) - 1);

		/* libyaml expands "!!str" to "tag:yaml.org,2002:str": show it as written. */
		return ff_fail(p, loc, "YAML tags are not supported ('%s%s'); remove the tag",
			       core ? "!!" : "", core ? t + sizeof(yaml_prefix) - 1 : t);
	}
	return 0;
}

/*
 * Reads the whole stream into a tree. *root is NULL for a stream with no
 * document (an empty file, or only comments). On error the partial tree is
 * freed and *root is NULL.
 */
int ff_read_tree(struct parser *p, struct ynode **root)
{
	struct ynode *stack[MAX_NESTING];
	yaml_parser_t yp;
	yaml_event_t ev;
	int depth = 0, docs = 0, err = -1;
	bool done = false;

	*root = NULL;
	if (!yaml_parser_initialize(&yp))
		return ff_fail(p, (struct ff_loc){ 1, 1 }, "out of memory while reading YAML");
	yaml_parser_set_input_string(&yp, (const unsigned char *)p->buf, p->len);
	while (!done) {
		struct ynode *n = NULL;

		if (!yaml_parser_parse(&yp, &ev)) {
			yaml_fail(p, &yp);
			goto cleanup;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				ff_fail(p, mark_loc(ev.start_mark),
					"only one YAML document is allowed in a flow file");
				goto bad_event;
			}
			break;
		case YAML_ALIAS_EVENT:
			ff_fail(p, mark_loc(ev.start_mark),
				"YAML aliases are not supported ('*%s'); write the value out in full",
				(const char *)ev.data.alias.anchor);
			goto bad_event;
		case YAML_SCALAR_EVENT:
			if (check_node_event(p, &ev, ev.data.scalar.anchor, ev.data.scalar.tag))
				goto bad_event;
			if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
				ff_fail(p, mark_loc(ev.start_mark), "strings must not contain NUL characters");
				goto bad_event;
			}
			n = ynode_new(YN_SCALAR, &ev);
			n->str = xstrdup((const char *)ev.data.scalar.value);
			n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				    ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
			break;
		case YAML_SEQUENCE_START_EVENT:
			if (check_node_event(p, &ev, ev.data.sequence_start.anchor,
					     ev.data.sequence_start.tag))
				goto bad_event;
			n = ynode_new(YN_SEQ, &ev);
			break;
		case YAML_MAPPING_START_EVENT:
			if (check_node_event(p, &ev, ev.data.mapping_start.anchor,
					     ev.data.mapping_start.tag))
				goto bad_event;
			n = ynode_new(YN_MAP, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				stack[--depth]->end = mark_loc(ev.end_mark);
			break;
		default:
			break;
		}
		if (n) {
			/* Attach first, so that the tree owns the node on every path. */
			if (depth > 0)
				ynode_add(stack[depth - 1], n);
			else if (!*root)
				*root = n;
			else
				ynode_free(n); /* unreachable: one document, one root */
			if (n->type != YN_SCALAR) {
				if (depth == MAX_NESTING) {
					ff_fail(p, n->loc, "YAML nested deeper than %d levels", MAX_NESTING);
					goto bad_event;
				}
				stack[depth++] = n;
			}
		}
		yaml_event_delete(&ev);
	}
	err = 0;
	goto cleanup;
bad_event:
	yaml_event_delete(&ev);
cleanup:
	yaml_parser_delete(&yp);
	if (err) {
		ynode_free(*root);
		*root = NULL;
	}
	return err;
}

/* ------------------------------------------------------------- scalars */

bool ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YN_SCALAR || !n->plain)
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(n->str, nulls[i]))
			return true;
	return false;
}

/* A plain decimal integer that fits an int. */
bool ynode_int(const struct ynode *n, long long *out)
{
	const char *s;
	long long v = 0;

	if (n->type != YN_SCALAR || !n->plain)
		return false;
	s = n->str;
	if (*s == '+')
		s++;
	if (*s == '-') {
		s++;
		if (!*s)
			return false;
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return false;
		}
		*out = -1; /* negative: out of every range we accept */
		return true;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v <= INT_MAX)
			v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

bool ynode_bool(const struct ynode *n, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t i;

	if (n->type != YN_SCALAR || !n->plain)
		return false;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(n->str, yes[i]))
			return (*out = true);
		if (!strcmp(n->str, no[i]))
			return !(*out = false);
	}
	return false;
}

/* ----------------------------------------------------- where and which */

/* Where a substring of a scalar starts, when the scalar is written on one line
 * as is (plain, or quoted without escapes); else the scalar's start. */
struct ff_loc ynode_sub_loc(const struct ynode *n, size_t off)
{
	size_t chars = utf8_chars(n->str, strlen(n->str));
	int quote = n->quoted ? 1 : 0;
	struct ff_loc loc = n->loc;

	if ((n->plain || n->quoted) && n->end.line == n->loc.line &&
	    (size_t)(n->end.col - n->loc.col) == chars + 2 * (size_t)quote)
		loc.col += quote + (int)utf8_chars(n->str, off);
	return loc;
}

struct key_ref {
	const char *text;
	size_t index;
};

static int cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * For each key of a mapping, the index (in pairs) of the first key with the
 * same text: itself when it is the first. Sorting keeps this O(n log n) for
 * bundles with tens of thousands of handlers. Caller frees.
 */
size_t *ynode_first_occurrences(const struct ynode *map)
{
	size_t n = map->n_kids / 2, i, *first = xcalloc(n, sizeof(*first));
	struct key_ref *refs = xcalloc(n, sizeof(*refs));
	size_t m = 0;

	for (i = 0; i < n; i++) {
		const struct ynode *k = map->kids[2 * i];

		first[i] = i;
		if (k->type == YN_SCALAR)
			refs[m++] = (struct key_ref){ k->str, i };
	}
	qsort(refs, m, sizeof(*refs), cmp_key_ref);
	for (i = 1; i < m; i++) {
		if (!strcmp(refs[i].text, refs[i - 1].text))
			first[refs[i].index] = first[refs[i - 1].index];
	}
	free(refs);
	return first;
}

