// SPDX-License-Identifier: MIT
/*
 * Stage 1: the flow definition file (docs/flow-file.md) into struct flowfile.
 *
 * Two passes. libyaml's events are first read into a small tree that keeps
 * every node's start mark, so any element can be named by line and column;
 * anchors, aliases and tags are refused right there, since a flow file has
 * no use for them and they would hide where a value came from. The tree is
 * then walked in document order, checking the grammar as it goes, so the
 * first error reported is the first one in the file. Flow entries and calls
 * name handlers that may be defined further down, so they are checked last,
 * once every bundle is known: handler names, duplicate calls, reachability
 * from the entry, then cycles among synchronous calls.
 *
 * Every error is one message "<path>:<line>:<col>: <what>[; <hint>]".
 */
#include "flowfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <yaml.h>

#include "base/base.h"
#include "flowprof.h"

/* Deeper than any flow file needs; bounds the recursion that frees the tree. */
#define MAX_NESTING 64
/* Linux pid_max can be raised to at most 2^22. */
#define PID_MAX_LIMIT 4194304
/* TASK_COMM_LEN is 16 with the NUL: the kernel keeps 15 bytes of a name. */
#define COMM_MAX 15
/* Names longer than this get no "did you mean" (edit distance is quadratic). */
#define SUGGEST_MAX_LEN 256
/* Candidates listed in an "expected one of" hint. */
#define HINT_MAX_NAMES 10
/* Handlers named in a cycle message; longer cycles show both ends. */
#define CYCLE_SHOW 8

static const char *const top_keys[] = { "bundles", "flows" };
static const char *const bundle_keys[] = { "exe", "pid", "comm", "handlers",
					   "instances", "workers", "serial" };
static const char *const handler_keys[] = { "symbol", "library", "serial", "usdt",
					    "return", "python", "java" };
static const char *const flow_keys[] = { "entry", "calls" };
/* Indices into the key lists above. */
enum top_key { TK_BUNDLES, TK_FLOWS };
enum bundle_key { BK_EXE, BK_PID, BK_COMM, BK_HANDLERS, BK_INSTANCES, BK_WORKERS, BK_SERIAL };
enum handler_key { HK_SYMBOL, HK_LIBRARY, HK_SERIAL, HK_USDT, HK_RETURN, HK_PYTHON, HK_JAVA };
enum flow_key { FK_ENTRY, FK_CALLS };

enum ynode_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum ynode_type type;
	struct ff_loc loc;	/* start mark, 1-based */
	struct ff_loc end;	/* end mark, 1-based */
	char *str;		/* YN_SCALAR: the value */
	bool plain;		/* YN_SCALAR: unquoted (only plain scalars can be null, ints, bools) */
	bool quoted;		/* YN_SCALAR: single or double quoted */
	struct ynode **kids;	/* YN_SEQ: items; YN_MAP: key, value, key, value... */
	size_t n_kids;
	size_t cap_kids;
};

/* What pass 2 needs of each flow: the nodes of its entry and calls. */
struct flow_refs {
	struct ynode *entry;
	struct ynode *calls;	/* NULL: no calls */
};

struct parser {
	const char *path;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	struct flowfile *ff;
	size_t cap_bundles, cap_handlers, cap_flows;
	struct flow_refs refs[MAX_FLOWS]; /* one per ff->flows */
};

static int fail(struct parser *p, struct ff_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, struct ff_loc loc, const char *fmt, ...)
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

static void ynode_free(struct ynode *n)
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
		return fail(p, (struct ff_loc){ 1, 1 }, "out of memory while reading YAML");
	case YAML_READER_ERROR:
		loc = offset_loc(p->buf, p->len, yp->problem_offset);
		if (yp->problem_value >= 0)
			return fail(p, loc, "invalid YAML: %s (byte 0x%02x); the file must be UTF-8 text",
				    problem, (unsigned int)yp->problem_value & 0xff);
		return fail(p, loc, "invalid YAML: %s", problem);
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

		return fail(p, loc, "invalid YAML: %s (%s at %d:%d)%s", problem, yp->context,
			    c.line, c.col, hint);
	}
	return fail(p, loc, "invalid YAML: %s%s", problem, hint);
}

/* Refuses the YAML features a flow file has no use for. */
static int check_node_event(struct parser *p, const yaml_event_t *ev, const yaml_char_t *anchor,
			    const yaml_char_t *tag)
{
	struct ff_loc loc = mark_loc(ev->start_mark);

	if (anchor)
		return fail(p, loc, "YAML anchors are not supported ('&%s'); write the value out in full",
			    (const char *)anchor);
	if (tag) {
		static const char yaml_prefix[] = "tag:yaml.org,2002:";
		const char *t = (const char *)tag;
		bool core = !strncmp(t, yaml_prefix, sizeof(yaml_prefix) - 1);

		/* libyaml expands "!!str" to "tag:yaml.org,2002:str": show it as written. */
		return fail(p, loc, "YAML tags are not supported ('%s%s'); remove the tag",
			    core ? "!!" : "", core ? t + sizeof(yaml_prefix) - 1 : t);
	}
	return 0;
}

/*
 * Reads the whole stream into a tree. *root is NULL for a stream with no
 * document (an empty file, or only comments). On error the partial tree is
 * freed and *root is NULL.
 */
static int read_tree(struct parser *p, struct ynode **root)
{
	struct ynode *stack[MAX_NESTING];
	yaml_parser_t yp;
	yaml_event_t ev;
	int depth = 0, docs = 0, err = -1;
	bool done = false;

	*root = NULL;
	if (!yaml_parser_initialize(&yp))
		return fail(p, (struct ff_loc){ 1, 1 }, "out of memory while reading YAML");
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
				fail(p, mark_loc(ev.start_mark),
				     "only one YAML document is allowed in a flow file");
				goto bad_event;
			}
			break;
		case YAML_ALIAS_EVENT:
			fail(p, mark_loc(ev.start_mark),
			     "YAML aliases are not supported ('*%s'); write the value out in full",
			     (const char *)ev.data.alias.anchor);
			goto bad_event;
		case YAML_SCALAR_EVENT:
			if (check_node_event(p, &ev, ev.data.scalar.anchor, ev.data.scalar.tag))
				goto bad_event;
			if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
				fail(p, mark_loc(ev.start_mark), "strings must not contain NUL characters");
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
					fail(p, n->loc, "YAML nested deeper than %d levels", MAX_NESTING);
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

static bool is_null(const struct ynode *n)
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
static bool scalar_int(const struct ynode *n, long long *out)
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

static bool scalar_bool(const struct ynode *n, bool *out)
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

/* A non-null, non-empty scalar, copied into *out. */
static int get_string(struct parser *p, const struct ynode *n, const char *key, char **out)
{
	if (n->type != YN_SCALAR || is_null(n))
		return fail(p, n->loc, "%s must be a string", key);
	if (!n->str[0])
		return fail(p, n->loc, "%s must not be empty", key);
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int get_positive(struct parser *p, const struct ynode *n, const char *key, int *out)
{
	long long v;

	if (!scalar_int(n, &v) || v < 1 || v > INT_MAX)
		return fail(p, n->loc, "%s must be a positive integer", key);
	*out = (int)v;
	return 0;
}

static int get_bool(struct parser *p, const struct ynode *n, const char *key, bool *out)
{
	if (!scalar_bool(n, out))
		return fail(p, n->loc, "%s must be true or false", key);
	return 0;
}

/* Bundle, handler and flow names end up in "bundle.handler" ids, CLI
 * arguments (--target checkout=800/s) and reports. */
static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
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
static char *suggest(const char *word, const char *const *cands, size_t n)
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

static int unknown_key(struct parser *p, const struct ynode *key, const char *where,
		       const char *const *known, size_t n)
{
	char *hint = suggest(key->str, known, n);

	fail(p, key->loc, "unknown key '%s'%s; %s", key->str, where, hint);
	free(hint);
	return -1;
}

/* ------------------------------------------------------------- mappings */

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
static size_t *first_occurrences(const struct ynode *map)
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

/*
 * Checks key i of a mapping: a string, not seen before in this mapping.
 * noun names the kind of key in the duplicate message ("key", "bundle"...),
 * prefix is prepended to the name there ("shop." for handlers).
 */
static int check_key(struct parser *p, const struct ynode *map, const size_t *first, size_t i,
		     const char *noun, const char *prefix)
{
	const struct ynode *key = map->kids[2 * i];

	if (key->type != YN_SCALAR)
		return fail(p, key->loc, "%s names must be strings", noun);
	if (first[i] != i) {
		struct ff_loc at = map->kids[2 * first[i]]->loc;

		return fail(p, key->loc, "duplicate %s '%s%s' (first at %d:%d)", noun, prefix,
			    key->str, at.line, at.col);
	}
	return 0;
}

static int known_key(const char *s, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, keys[i]))
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------- handlers */

/* "provider:name": exactly one colon, something on each side, no blanks. */
static bool valid_usdt(const char *s)
{
	const char *colon = strchr(s, ':');

	return colon && colon != s && colon[1] && !strchr(colon + 1, ':') && !strpbrk(s, " \t");
}

/* "file-glob:function" */
static bool valid_python(const char *s)
{
	const char *colon = strrchr(s, ':');

	return colon && colon != s && colon[1];
}

/* "package.Class::method" */
static bool valid_java(const char *s)
{
	const char *sep = strstr(s, "::");

	return sep && sep != s && sep[2] && !strchr(sep + 2, ':') && !strpbrk(s, " \t");
}

static struct ff_handler *new_handler(struct parser *p, const struct ynode *key, int bundle)
{
	struct flowfile *ff = p->ff;
	struct ff_handler *h;

	if (ff->n_handlers >= MAX_HANDLERS) {
		fail(p, key->loc, "too many handlers: the limit is %d", MAX_HANDLERS);
		return NULL;
	}
	grow_array((void **)&ff->handlers, &p->cap_handlers, (size_t)ff->n_handlers + 1,
		   sizeof(*ff->handlers));
	h = &ff->handlers[ff->n_handlers++];
	h->name = xstrdup(key->str);
	h->id = xasprintf("%s.%s", ff->bundles[bundle].name, key->str);
	h->bundle = bundle;
	h->loc = key->loc;
	return h;
}

/* A symbol handler: exact, or a glob when it has glob characters. */
static void set_symbol(struct ff_handler *h)
{
	h->is_glob = strpbrk(h->symbol, "*?[") != NULL;
	h->kind = FF_PROBE_SYMBOL;
}

static int parse_handler_map(struct parser *p, struct ff_handler *h, const struct ynode *map)
{
	size_t *first = first_occurrences(map);
	const struct ynode *kind_key = NULL, *usdt = NULL, *ret = NULL;
	size_t i;
	int err = -1;

	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i], *val = map->kids[2 * i + 1];
		int k;

		if (check_key(p, map, first, i, "key", ""))
			goto cleanup;
		k = known_key(key->str, handler_keys, ARRAY_SIZE(handler_keys));
		if (k < 0) {
			char *where = xasprintf(" in handler '%s'", h->id);

			unknown_key(p, key, where, handler_keys, ARRAY_SIZE(handler_keys));
			free(where);
			goto cleanup;
		}
		if (k == HK_SYMBOL || k == HK_USDT || k == HK_PYTHON || k == HK_JAVA) {
			if (kind_key) {
				fail(p, key->loc,
				     "handler '%s' has both %s and %s; give exactly one of: symbol, usdt, python, java",
				     h->id, kind_key->str, key->str);
				goto cleanup;
			}
			kind_key = key;
		}
		switch (k) {
		case HK_SYMBOL:
			if (get_string(p, val, "symbol", &h->symbol))
				goto cleanup;
			set_symbol(h);
			break;
		case HK_LIBRARY:
			if (get_string(p, val, "library", &h->library))
				goto cleanup;
			break;
		case HK_SERIAL:
			if (get_bool(p, val, "serial", &h->serial))
				goto cleanup;
			break;
		case HK_USDT:
		case HK_RETURN:
			if (get_string(p, val, key->str, k == HK_USDT ? &h->usdt : &h->usdt_return))
				goto cleanup;
			if (!valid_usdt(val->str)) {
				fail(p, val->loc, "%s must be 'provider:name', not '%s'", key->str,
				     val->str);
				goto cleanup;
			}
			if (k == HK_USDT) {
				usdt = key;
				h->kind = FF_PROBE_USDT;
			} else {
				ret = key;
			}
			break;
		case HK_PYTHON:
			if (get_string(p, val, "python", &h->pattern))
				goto cleanup;
			if (!valid_python(val->str)) {
				fail(p, val->loc, "python must be 'file-glob:function', not '%s'; e.g. '*/views.py:checkout'",
				     val->str);
				goto cleanup;
			}
			h->kind = FF_PROBE_PYTHON;
			break;
		case HK_JAVA:
			if (get_string(p, val, "java", &h->pattern))
				goto cleanup;
			if (!valid_java(val->str)) {
				fail(p, val->loc, "java must be 'package.Class::method', not '%s'; e.g. 'com.example.Orders::place'",
				     val->str);
				goto cleanup;
			}
			h->kind = FF_PROBE_JAVA;
			break;
		}
	}
	if (ret && !usdt) {
		fail(p, ret->loc, "return is only valid with usdt in handler '%s'", h->id);
		goto cleanup;
	}
	if (!kind_key) {
		fail(p, map->loc, "handler '%s' has no probe point; give one of: symbol, usdt, python, java",
		     h->id);
		goto cleanup;
	}
	if (usdt && !ret) {
		fail(p, map->loc, "missing key 'return' in handler '%s'; usdt needs the probe that marks the return, as return: provider:name",
		     h->id);
		goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}

static int parse_handlers(struct parser *p, int bundle, const struct ynode *map)
{
	struct ff_bundle *b = &p->ff->bundles[bundle];
	char *prefix = xasprintf("%s.", b->name);
	size_t *first = NULL, i;
	int err = -1;

	if (map->type != YN_MAP && !is_null(map)) {
		fail(p, map->loc, "handlers must be a mapping of handler names to probe points");
		goto cleanup;
	}
	if (map->type != YN_MAP || map->n_kids == 0) {
		fail(p, map->loc, "bundle '%s' has no handlers; add at least one, e.g. checkout: shop_checkout",
		     b->name);
		goto cleanup;
	}
	first = first_occurrences(map);
	b->first_handler = p->ff->n_handlers;
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i], *val = map->kids[2 * i + 1];
		struct ff_handler *h;

		if (check_key(p, map, first, i, "handler", prefix))
			goto cleanup;
		if (!valid_name(key->str)) {
			fail(p, key->loc, "invalid handler name '%s'; use letters, digits, '_' and '-'",
			     key->str);
			goto cleanup;
		}
		h = new_handler(p, key, bundle);
		if (!h)
			goto cleanup;
		b->n_handlers++; /* new_handler grows handlers, never bundles: b stays valid */
		if (val->type == YN_MAP) {
			if (parse_handler_map(p, h, val))
				goto cleanup;
		} else if (val->type == YN_SCALAR && !is_null(val) && val->str[0]) {
			h->symbol = xstrdup(val->str);
			set_symbol(h);
		} else {
			fail(p, val->loc, "handler '%s' must be a symbol name or a mapping with one of: symbol, usdt, python, java",
			     h->id);
			goto cleanup;
		}
	}
	err = 0;
cleanup:
	free(first);
	free(prefix);
	return err;
}

/* -------------------------------------------------------------- bundles */

static int parse_pids(struct parser *p, struct ff_bundle *b, const struct ynode *val)
{
	const struct ynode *single[1] = { val };
	const struct ynode *const *items = single;
	unsigned char *seen = NULL; /* bitmap over every possible pid: lists can be long */
	size_t n = 1, i, j;
	int err = -1;

	if (val->type == YN_SEQ) {
		items = (const struct ynode *const *)val->kids;
		n = val->n_kids;
		if (n == 0)
			return fail(p, val->loc, "pid list must not be empty");
	}
	free(b->pids);
	b->pids = xcalloc(n, sizeof(*b->pids));
	b->n_pids = 0;
	seen = xcalloc(PID_MAX_LIMIT / 8 + 1, 1);
	for (i = 0; i < n; i++) {
		long long v;

		if (!scalar_int(items[i], &v)) {
			bool quoted_number = items[i]->quoted && items[i]->str[0] &&
					     strspn(items[i]->str, "0123456789") == strlen(items[i]->str);

			fail(p, items[i]->loc, "pid must be an integer or a list of integers%s",
			     quoted_number ? "; write it without quotes" : "");
			goto cleanup;
		}
		if (v < 1 || v > PID_MAX_LIMIT) {
			fail(p, items[i]->loc, "pid %s is out of range (1 to %d)", items[i]->str,
			     PID_MAX_LIMIT);
			goto cleanup;
		}
		if (seen[v / 8] & (1u << (v % 8))) {
			for (j = 0; b->pids[j] != (int)v; j++)
				;
			fail(p, items[i]->loc, "duplicate pid %lld (first at %d:%d)", v,
			     items[j]->loc.line, items[j]->loc.col);
			goto cleanup;
		}
		seen[v / 8] |= (unsigned char)(1u << (v % 8));
		b->pids[b->n_pids++] = (int)v;
	}
	err = 0;
cleanup:
	free(seen);
	return err;
}

static int parse_bundle(struct parser *p, const struct ynode *key, const struct ynode *map)
{
	struct flowfile *ff = p->ff;
	const struct ynode *handlers = NULL;
	struct ff_bundle *b;
	size_t *first = NULL, i;
	int bi = ff->n_bundles, err = -1;

	grow_array((void **)&ff->bundles, &p->cap_bundles, (size_t)ff->n_bundles + 1,
		   sizeof(*ff->bundles));
	b = &ff->bundles[ff->n_bundles++];
	b->name = xstrdup(key->str);
	b->loc = key->loc;
	b->first_handler = ff->n_handlers;
	if (map->type != YN_MAP)
		return fail(p, map->loc, "bundle '%s' must be a mapping with handlers and exe, pid or comm",
			    b->name);
	first = first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *k = map->kids[2 * i], *val = map->kids[2 * i + 1];
		char *where;

		if (check_key(p, map, first, i, "key", ""))
			goto cleanup;
		switch (known_key(k->str, bundle_keys, ARRAY_SIZE(bundle_keys))) {
		case BK_EXE:
			if (get_string(p, val, "exe", &b->exe))
				goto cleanup;
			break;
		case BK_PID:
			if (parse_pids(p, b, val))
				goto cleanup;
			break;
		case BK_COMM:
			if (get_string(p, val, "comm", &b->comm))
				goto cleanup;
			if (strlen(b->comm) > COMM_MAX) {
				fail(p, val->loc, "comm '%s' is longer than %d bytes, which the kernel never reports; write '%.*s'",
				     b->comm, COMM_MAX, COMM_MAX, b->comm);
				goto cleanup;
			}
			break;
		case BK_HANDLERS: /* parsed last, once the bundle's own keys are checked */
			handlers = val;
			break;
		case BK_INSTANCES:
			if (get_positive(p, val, "instances", &b->instances))
				goto cleanup;
			break;
		case BK_WORKERS:
			if (get_positive(p, val, "workers", &b->workers))
				goto cleanup;
			break;
		case BK_SERIAL:
			if (get_bool(p, val, "serial", &b->serial))
				goto cleanup;
			break;
		default:
			where = xasprintf(" in bundle '%s'", b->name);
			unknown_key(p, k, where, bundle_keys, ARRAY_SIZE(bundle_keys));
			free(where);
			goto cleanup;
		}
	}
	if (!b->exe && !b->pids && !b->comm) {
		fail(p, map->loc, "bundle '%s' selects no processes; add exe, pid or comm", b->name);
		goto cleanup;
	}
	if (!handlers) {
		fail(p, map->loc, "missing key 'handlers' in bundle '%s'", b->name);
		goto cleanup;
	}
	err = parse_handlers(p, bi, handlers);
cleanup:
	free(first);
	return err;
}

static int parse_bundles(struct parser *p, const struct ynode *map)
{
	size_t *first, i;
	int err = -1;

	if (map->type != YN_MAP && !is_null(map))
		return fail(p, map->loc, "bundles must be a mapping of bundle names to bundles");
	if (map->type != YN_MAP || map->n_kids == 0)
		return fail(p, map->loc, "bundles must not be empty; define at least one bundle");
	first = first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i];

		if (check_key(p, map, first, i, "bundle", ""))
			goto cleanup;
		if (!valid_name(key->str)) {
			fail(p, key->loc, "invalid bundle name '%s'; use letters, digits, '_' and '-'",
			     key->str);
			goto cleanup;
		}
		if (parse_bundle(p, key, map->kids[2 * i + 1]))
			goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}

/* ---------------------------------------------------------------- flows */

/* Pass 1: the flow's shape. Handler names are checked in pass 2. */
static int parse_flow(struct parser *p, const struct ynode *key, const struct ynode *map)
{
	struct flowfile *ff = p->ff;
	struct flow_refs *refs;
	struct ff_flow *f;
	size_t *first = NULL, i;
	int err = -1;

	if (ff->n_flows >= MAX_FLOWS)
		return fail(p, key->loc, "too many flows: the limit is %d", MAX_FLOWS);
	grow_array((void **)&ff->flows, &p->cap_flows, (size_t)ff->n_flows + 1, sizeof(*ff->flows));
	f = &ff->flows[ff->n_flows];
	refs = &p->refs[ff->n_flows];
	ff->n_flows++;
	f->name = xstrdup(key->str);
	f->loc = key->loc;
	f->entry = -1;
	if (map->type != YN_MAP)
		return fail(p, map->loc, "flow '%s' must be a mapping with entry and calls", f->name);
	first = first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *k = map->kids[2 * i], *val = map->kids[2 * i + 1];
		size_t j;

		if (check_key(p, map, first, i, "key", ""))
			goto cleanup;
		switch (known_key(k->str, flow_keys, ARRAY_SIZE(flow_keys))) {
		case FK_ENTRY:
			if (val->type != YN_SCALAR || is_null(val) || !val->str[0]) {
				fail(p, val->loc, "entry must be a handler id 'bundle.handler'");
				goto cleanup;
			}
			refs->entry = (struct ynode *)val;
			break;
		case FK_CALLS:
			if (is_null(val))
				break;
			if (val->type != YN_SEQ) {
				fail(p, val->loc, "calls must be a list of 'a -> b', 'a => b' or 'a ~> b'");
				goto cleanup;
			}
			for (j = 0; j < val->n_kids; j++) {
				if (val->kids[j]->type != YN_SCALAR || is_null(val->kids[j])) {
					fail(p, val->kids[j]->loc,
					     "a call must be a string 'bundle.handler -> bundle.handler', 'bundle.handler => bundle.handler' or 'bundle.handler ~> bundle.handler'");
					goto cleanup;
				}
			}
			refs->calls = (struct ynode *)val;
			break;
		default: {
			char *where = xasprintf(" in flow '%s'", f->name);

			unknown_key(p, k, where, flow_keys, ARRAY_SIZE(flow_keys));
			free(where);
			goto cleanup;
		}
		}
	}
	if (!refs->entry) {
		fail(p, map->loc, "missing key 'entry' in flow '%s'; name the handler that starts it, e.g. entry: shop.checkout",
		     f->name);
		goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}

static int parse_flows(struct parser *p, const struct ynode *map)
{
	size_t *first, i;
	int err = -1;

	if (is_null(map))
		return 0;
	if (map->type != YN_MAP)
		return fail(p, map->loc, "flows must be a mapping of flow names to flows");
	first = first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i];

		if (check_key(p, map, first, i, "flow", ""))
			goto cleanup;
		if (!valid_name(key->str)) {
			fail(p, key->loc, "invalid flow name '%s'; use letters, digits, '_' and '-'",
			     key->str);
			goto cleanup;
		}
		if (parse_flow(p, key, map->kids[2 * i + 1]))
			goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}

/* --------------------------------------------------- pass 2: references */

static int cmp_handler_id(const void *a, const void *b, void *arg)
{
	const struct flowfile *ff = arg;

	return strcmp(ff->handlers[*(const int *)a].id, ff->handlers[*(const int *)b].id);
}

static void build_handler_order(struct flowfile *ff)
{
	int i;

	free(ff->handler_order);
	ff->handler_order = xcalloc((size_t)ff->n_handlers, sizeof(*ff->handler_order));
	for (i = 0; i < ff->n_handlers; i++)
		ff->handler_order[i] = i;
	qsort_r(ff->handler_order, (size_t)ff->n_handlers, sizeof(*ff->handler_order),
		cmp_handler_id, ff);
}

/* Where a substring of a scalar starts, when the scalar is written on one line
 * as is (plain, or quoted without escapes); else the scalar's start. */
static struct ff_loc sub_loc(const struct ynode *n, size_t off)
{
	size_t chars = utf8_chars(n->str, strlen(n->str));
	int quote = n->quoted ? 1 : 0;
	struct ff_loc loc = n->loc;

	if ((n->plain || n->quoted) && n->end.line == n->loc.line &&
	    (size_t)(n->end.col - n->loc.col) == chars + 2 * (size_t)quote)
		loc.col += quote + (int)utf8_chars(n->str, off);
	return loc;
}

static int unknown_handler(struct parser *p, struct ff_loc loc, const char *id)
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
		hint = suggest(id, ids, (size_t)ff->n_handlers);
	fail(p, loc, "unknown handler '%s'; %s", id, hint);
	free(hint);
	free(ids);
	return -1;
}

static int lookup_handler(struct parser *p, const char *id, struct ff_loc loc)
{
	int h = flowfile_handler_index(p->ff, id);

	if (h < 0)
		unknown_handler(p, loc, id);
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
		return fail(p, n->loc,
			    "invalid call '%s'; write 'bundle.handler -> bundle.handler' (synchronous, same thread), 'bundle.handler => bundle.handler' (synchronous, another process) or 'bundle.handler ~> bundle.handler' (asynchronous)",
			    s);
	from = strndup(s + from_off, from_len);
	to = strndup(s + to_off, to_len);
	if (!from || !to) {
		fail(p, n->loc, "out of memory");
		goto cleanup;
	}
	c->loc = n->loc;
	c->async = arrow[0] != '-';
	c->waits = arrow[0] == '=';
	c->from = lookup_handler(p, from, sub_loc(n, from_off));
	if (c->from < 0)
		goto cleanup;
	c->to = lookup_handler(p, to, sub_loc(n, to_off));
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
	return fail(p, f->calls[worst].loc, "duplicate call from '%s' to '%s' (first at %d:%d)",
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
			err = fail(p, f->calls[i].loc,
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
				err = fail(p, c->loc,
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

static int resolve_flow(struct parser *p, int fi)
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

/* ----------------------------------------------------------------- root */

static int parse_root(struct parser *p, const struct ynode *root)
{
	const struct ynode *bundles = NULL;
	size_t *first = NULL, i;
	int err = -1, fi;

	if (!root || is_null(root))
		return fail(p, root ? root->loc : (struct ff_loc){ 1, 1 },
			    "empty flow file; expected a mapping with 'bundles:' and optional 'flows:'");
	if (root->type != YN_MAP)
		return fail(p, root->loc,
			    "the flow file must be a mapping with 'bundles:' and optional 'flows:'");
	first = first_occurrences(root);
	for (i = 0; i < root->n_kids / 2; i++) {
		const struct ynode *key = root->kids[2 * i], *val = root->kids[2 * i + 1];

		if (check_key(p, root, first, i, "key", ""))
			goto cleanup;
		switch (known_key(key->str, top_keys, ARRAY_SIZE(top_keys))) {
		case TK_BUNDLES:
			bundles = val;
			if (parse_bundles(p, val))
				goto cleanup;
			break;
		case TK_FLOWS:
			if (parse_flows(p, val))
				goto cleanup;
			break;
		default:
			unknown_key(p, key, "", top_keys, ARRAY_SIZE(top_keys));
			goto cleanup;
		}
	}
	if (!bundles) {
		fail(p, root->loc, "missing key 'bundles'; a flow file defines bundles (processes) and their handlers");
		goto cleanup;
	}
	build_handler_order(p->ff);
	for (fi = 0; fi < p->ff->n_flows; fi++) {
		if (resolve_flow(p, fi))
			goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}

/* ------------------------------------------------------------------ API */

int flowfile_parse(const char *path, const char *buf, size_t len, struct flowfile *ff, char *err,
		   size_t errlen)
{
	struct parser p = {
		.path = path ? path : "<flow file>",
		.buf = buf,
		.len = len,
		.err = err,
		.errlen = errlen,
		.ff = ff,
	};
	struct ynode *root = NULL;
	int ret = -1;

	memset(ff, 0, sizeof(*ff));
	if (err && errlen)
		err[0] = '\0';
	ff->path = xstrdup(p.path);
	if (read_tree(&p, &root))
		goto cleanup;
	if (parse_root(&p, root))
		goto cleanup;
	ret = 0;
cleanup:
	ynode_free(root);
	if (ret)
		flowfile_free(ff);
	return ret;
}

int flowfile_load(const char *path, struct flowfile *ff, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file(path, &len);
	int ret;

	if (!buf) {
		memset(ff, 0, sizeof(*ff));
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	ret = flowfile_parse(path, buf, len, ff, err, errlen);
	free(buf);
	return ret;
}

void flowfile_free(struct flowfile *ff)
{
	int i;

	if (!ff)
		return;
	for (i = 0; i < ff->n_handlers; i++) {
		struct ff_handler *h = &ff->handlers[i];

		free(h->name);
		free(h->id);
		free(h->symbol);
		free(h->library);
		free(h->usdt);
		free(h->usdt_return);
		free(h->pattern);
	}
	for (i = 0; i < ff->n_bundles; i++) {
		free(ff->bundles[i].name);
		free(ff->bundles[i].exe);
		free(ff->bundles[i].comm);
		free(ff->bundles[i].pids);
	}
	for (i = 0; i < ff->n_flows; i++) {
		free(ff->flows[i].name);
		free(ff->flows[i].calls);
	}
	free(ff->handlers);
	free(ff->bundles);
	free(ff->flows);
	free(ff->handler_order);
	free(ff->path);
	memset(ff, 0, sizeof(*ff));
}

int flowfile_handler_index(const struct flowfile *ff, const char *id)
{
	int lo = 0, hi, i;

	if (!ff->handler_order) {
		for (i = 0; i < ff->n_handlers; i++)
			if (!strcmp(ff->handlers[i].id, id))
				return i;
		return -1;
	}
	hi = ff->n_handlers - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, h = ff->handler_order[mid];
		int c = strcmp(ff->handlers[h].id, id);

		if (!c)
			return h;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

int flowfile_bundle_index(const struct flowfile *ff, const char *name)
{
	int i;

	for (i = 0; i < ff->n_bundles; i++)
		if (!strcmp(ff->bundles[i].name, name))
			return i;
	return -1;
}

char *flowfile_path_relative(const struct flowfile *ff, const char *path)
{
	const char *slash;

	if (!path)
		return NULL;
	if (path[0] == '/' || !ff->path)
		return xstrdup(path);
	slash = strrchr(ff->path, '/');
	if (!slash)
		return xstrdup(path);
	if (slash == ff->path)
		return xasprintf("/%s", path);
	return xasprintf("%.*s/%s", (int)(slash - ff->path), ff->path, path);
}
