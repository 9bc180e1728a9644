// SPDX-License-Identifier: MIT
/*
 * Pass 1 of a flow file: the tree (yaml_tree.c) walked in document order
 * into struct flowfile, checking the grammar of docs/flow-file.md as it
 * goes, so that the first error reported is the first one in the file:
 * known keys, no key twice, names, value types and ranges, the probe point
 * of each handler. A flow's entry and calls name handlers that may be
 * defined further down: they are only kept as nodes here, for pass 2
 * (flow_check.c).
 */
#include "flowfile_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Linux pid_max can be raised to at most 2^22. */
#define PID_MAX_LIMIT 4194304
/* TASK_COMM_LEN is 16 with the NUL: the kernel keeps 15 bytes of a name. */
#define COMM_MAX 15

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

/* -------------------------------------------------------------- values */

/* A non-null, non-empty scalar, copied into *out. */
static int get_string(struct parser *p, const struct ynode *n, const char *key, char **out)
{
	if (n->type != YN_SCALAR || ynode_is_null(n))
		return ff_fail(p, n->loc, "%s must be a string", key);
	if (!n->str[0])
		return ff_fail(p, n->loc, "%s must not be empty", key);
	free(*out);
	*out = xstrdup(n->str);
	return 0;
}

static int get_positive(struct parser *p, const struct ynode *n, const char *key, int *out)
{
	long long v;

	if (!ynode_int(n, &v) || v < 1 || v > INT_MAX)
		return ff_fail(p, n->loc, "%s must be a positive integer", key);
	*out = (int)v;
	return 0;
}

static int get_bool(struct parser *p, const struct ynode *n, const char *key, bool *out)
{
	if (!ynode_bool(n, out))
		return ff_fail(p, n->loc, "%s must be true or false", key);
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

/* ------------------------------------------------------------- mappings */

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
		return ff_fail(p, key->loc, "%s names must be strings", noun);
	if (first[i] != i) {
		struct ff_loc at = map->kids[2 * first[i]]->loc;

		return ff_fail(p, key->loc, "duplicate %s '%s%s' (first at %d:%d)", noun, prefix,
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
		ff_fail(p, key->loc, "too many handlers: the limit is %d", MAX_HANDLERS);
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
	size_t *first = ynode_first_occurrences(map);
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

			ff_unknown_key(p, key, where, handler_keys, ARRAY_SIZE(handler_keys));
			free(where);
			goto cleanup;
		}
		if (k == HK_SYMBOL || k == HK_USDT || k == HK_PYTHON || k == HK_JAVA) {
			if (kind_key) {
				ff_fail(p, key->loc,
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
			h->symbol_loc = val->loc;
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
				ff_fail(p, val->loc, "%s must be 'provider:name', not '%s'", key->str,
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
				ff_fail(p, val->loc, "python must be 'file-glob:function', not '%s'; e.g. '*/views.py:checkout'",
					val->str);
				goto cleanup;
			}
			h->kind = FF_PROBE_PYTHON;
			break;
		case HK_JAVA:
			if (get_string(p, val, "java", &h->pattern))
				goto cleanup;
			if (!valid_java(val->str)) {
				ff_fail(p, val->loc, "java must be 'package.Class::method', not '%s'; e.g. 'com.example.Orders::place'",
					val->str);
				goto cleanup;
			}
			h->kind = FF_PROBE_JAVA;
			break;
		}
	}
	if (ret && !usdt) {
		ff_fail(p, ret->loc, "return is only valid with usdt in handler '%s'", h->id);
		goto cleanup;
	}
	if (!kind_key) {
		ff_fail(p, map->loc, "handler '%s' has no probe point; give one of: symbol, usdt, python, java",
			h->id);
		goto cleanup;
	}
	if (usdt && !ret) {
		ff_fail(p, map->loc, "missing key 'return' in handler '%s'; usdt needs the probe that marks the return, as return: provider:name",
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

	if (map->type != YN_MAP && !ynode_is_null(map)) {
		ff_fail(p, map->loc, "handlers must be a mapping of handler names to probe points");
		goto cleanup;
	}
	if (map->type != YN_MAP || map->n_kids == 0) {
		ff_fail(p, map->loc, "bundle '%s' has no handlers; add at least one, e.g. checkout: shop_checkout",
			b->name);
		goto cleanup;
	}
	first = ynode_first_occurrences(map);
	b->first_handler = p->ff->n_handlers;
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i], *val = map->kids[2 * i + 1];
		struct ff_handler *h;

		if (check_key(p, map, first, i, "handler", prefix))
			goto cleanup;
		if (!valid_name(key->str)) {
			ff_fail(p, key->loc, "invalid handler name '%s'; use letters, digits, '_' and '-'",
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
		} else if (val->type == YN_SCALAR && !ynode_is_null(val) && val->str[0]) {
			h->symbol = xstrdup(val->str);
			h->symbol_loc = val->loc;
			set_symbol(h);
		} else {
			ff_fail(p, val->loc, "handler '%s' must be a symbol name or a mapping with one of: symbol, usdt, python, java",
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
			return ff_fail(p, val->loc, "pid list must not be empty");
	}
	free(b->pids);
	b->pids = xcalloc(n, sizeof(*b->pids));
	b->n_pids = 0;
	seen = xcalloc(PID_MAX_LIMIT / 8 + 1, 1);
	for (i = 0; i < n; i++) {
		long long v;

		if (!ynode_int(items[i], &v)) {
			bool quoted_number = items[i]->quoted && items[i]->str[0] &&
					     strspn(items[i]->str, "0123456789") == strlen(items[i]->str);

			ff_fail(p, items[i]->loc, "pid must be an integer or a list of integers%s",
				quoted_number ? "; write it without quotes" : "");
			goto cleanup;
		}
		if (v < 1 || v > PID_MAX_LIMIT) {
			ff_fail(p, items[i]->loc, "pid %s is out of range (1 to %d)", items[i]->str,
				PID_MAX_LIMIT);
			goto cleanup;
		}
		if (seen[v / 8] & (1u << (v % 8))) {
			for (j = 0; b->pids[j] != (int)v; j++)
				;
			ff_fail(p, items[i]->loc, "duplicate pid %lld (first at %d:%d)", v,
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
		return ff_fail(p, map->loc, "bundle '%s' must be a mapping with handlers and exe, pid or comm",
			       b->name);
	first = ynode_first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *k = map->kids[2 * i], *val = map->kids[2 * i + 1];
		char *where;

		if (check_key(p, map, first, i, "key", ""))
			goto cleanup;
		switch (known_key(k->str, bundle_keys, ARRAY_SIZE(bundle_keys))) {
		case BK_EXE:
			if (get_string(p, val, "exe", &b->exe))
				goto cleanup;
			b->exe_loc = val->loc;
			break;
		case BK_PID:
			if (parse_pids(p, b, val))
				goto cleanup;
			b->pid_loc = val->loc;
			break;
		case BK_COMM:
			if (get_string(p, val, "comm", &b->comm))
				goto cleanup;
			if (strlen(b->comm) > COMM_MAX) {
				ff_fail(p, val->loc, "comm '%s' is longer than %d bytes, which the kernel never reports; write '%.*s'",
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
			ff_unknown_key(p, k, where, bundle_keys, ARRAY_SIZE(bundle_keys));
			free(where);
			goto cleanup;
		}
	}
	if (!b->exe && !b->pids && !b->comm) {
		ff_fail(p, map->loc, "bundle '%s' selects no processes; add exe, pid or comm", b->name);
		goto cleanup;
	}
	if (!handlers) {
		ff_fail(p, map->loc, "missing key 'handlers' in bundle '%s'", b->name);
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

	if (map->type != YN_MAP && !ynode_is_null(map))
		return ff_fail(p, map->loc, "bundles must be a mapping of bundle names to bundles");
	if (map->type != YN_MAP || map->n_kids == 0)
		return ff_fail(p, map->loc, "bundles must not be empty; define at least one bundle");
	first = ynode_first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i];

		if (check_key(p, map, first, i, "bundle", ""))
			goto cleanup;
		if (!valid_name(key->str)) {
			ff_fail(p, key->loc, "invalid bundle name '%s'; use letters, digits, '_' and '-'",
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
		return ff_fail(p, key->loc, "too many flows: the limit is %d", MAX_FLOWS);
	grow_array((void **)&ff->flows, &p->cap_flows, (size_t)ff->n_flows + 1, sizeof(*ff->flows));
	f = &ff->flows[ff->n_flows];
	refs = &p->refs[ff->n_flows];
	ff->n_flows++;
	f->name = xstrdup(key->str);
	f->loc = key->loc;
	f->entry = -1;
	if (map->type != YN_MAP)
		return ff_fail(p, map->loc, "flow '%s' must be a mapping with entry and calls", f->name);
	first = ynode_first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *k = map->kids[2 * i], *val = map->kids[2 * i + 1];
		size_t j;

		if (check_key(p, map, first, i, "key", ""))
			goto cleanup;
		switch (known_key(k->str, flow_keys, ARRAY_SIZE(flow_keys))) {
		case FK_ENTRY:
			if (val->type != YN_SCALAR || ynode_is_null(val) || !val->str[0]) {
				ff_fail(p, val->loc, "entry must be a handler id 'bundle.handler'");
				goto cleanup;
			}
			refs->entry = (struct ynode *)val;
			break;
		case FK_CALLS:
			if (ynode_is_null(val))
				break;
			if (val->type != YN_SEQ) {
				ff_fail(p, val->loc, "calls must be a list of 'a -> b', 'a => b' or 'a ~> b'");
				goto cleanup;
			}
			for (j = 0; j < val->n_kids; j++) {
				if (val->kids[j]->type != YN_SCALAR || ynode_is_null(val->kids[j])) {
					ff_fail(p, val->kids[j]->loc,
						"a call must be a string 'bundle.handler -> bundle.handler', 'bundle.handler => bundle.handler' or 'bundle.handler ~> bundle.handler'");
					goto cleanup;
				}
			}
			refs->calls = (struct ynode *)val;
			break;
		default: {
			char *where = xasprintf(" in flow '%s'", f->name);

			ff_unknown_key(p, k, where, flow_keys, ARRAY_SIZE(flow_keys));
			free(where);
			goto cleanup;
		}
		}
	}
	if (!refs->entry) {
		ff_fail(p, map->loc, "missing key 'entry' in flow '%s'; name the handler that starts it, e.g. entry: shop.checkout",
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

	if (ynode_is_null(map))
		return 0;
	if (map->type != YN_MAP)
		return ff_fail(p, map->loc, "flows must be a mapping of flow names to flows");
	first = ynode_first_occurrences(map);
	for (i = 0; i < map->n_kids / 2; i++) {
		const struct ynode *key = map->kids[2 * i];

		if (check_key(p, map, first, i, "flow", ""))
			goto cleanup;
		if (!valid_name(key->str)) {
			ff_fail(p, key->loc, "invalid flow name '%s'; use letters, digits, '_' and '-'",
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

/* ----------------------------------------------------------------- root */

int ff_parse_document(struct parser *p, const struct ynode *root)
{
	const struct ynode *bundles = NULL;
	size_t *first = NULL, i;
	int err = -1;

	if (!root || ynode_is_null(root))
		return ff_fail(p, root ? root->loc : (struct ff_loc){ 1, 1 },
			       "empty flow file; expected a mapping with 'bundles:' and optional 'flows:'");
	if (root->type != YN_MAP)
		return ff_fail(p, root->loc,
			       "the flow file must be a mapping with 'bundles:' and optional 'flows:'");
	first = ynode_first_occurrences(root);
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
			ff_unknown_key(p, key, "", top_keys, ARRAY_SIZE(top_keys));
			goto cleanup;
		}
	}
	if (!bundles) {
		ff_fail(p, root->loc, "missing key 'bundles'; a flow file defines bundles (processes) and their handlers");
		goto cleanup;
	}
	err = 0;
cleanup:
	free(first);
	return err;
}
