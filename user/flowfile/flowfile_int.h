/* SPDX-License-Identifier: MIT */
/*
 * Private to the flow-file stage: what its files share while one flow file
 * is read. Outside user/flowfile/, include flowfile/flowfile.h only.
 *
 *   yaml_tree.c    libyaml's events into a tree of nodes that keep their
 *                  file positions; what a scalar means (null, integer, bool)
 *   grammar.c      pass 1: the tree's shape into struct flowfile (bundles,
 *                  handlers, flows as written)
 *   flow_check.c   pass 2: the flows' handler names, calls, reachability
 *                  and cycles, once every bundle is known
 *   messages.c     the one error message and its hints
 *   flowfile.c     the public API (flowfile.h)
 *
 * Only yaml_tree.c sees libyaml: the tree is all the other passes read.
 */
#ifndef FLOWPROF_FLOWFILE_INT_H
#define FLOWPROF_FLOWFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "flowfile.h"
#include "flowprof.h" /* MAX_FLOWS, MAX_HANDLERS */

/* Deeper than any flow file needs; bounds the recursion that frees the tree. */
#define MAX_NESTING 64

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

/* One flow file being read: its text, where the error goes, what is built. */
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

/* ------------------------------------------------------------ messages.c */

/* Writes "<path>:<line>:<col>: <what>" into p->err; returns -1, for
 * "return ff_fail(...)" at the first problem. */
int ff_fail(struct parser *p, struct ff_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "did you mean 'x'?" or "expected one of: a, b, c" (caller frees). */
char *ff_suggest(const char *word, const char *const *cands, size_t n);

/* "unknown key 'k'<where>; <hint>" at the key; returns -1. */
int ff_unknown_key(struct parser *p, const struct ynode *key, const char *where,
		   const char *const *known, size_t n);

/* "unknown handler 'id'; <hint>" at loc; returns -1. */
int ff_unknown_handler(struct parser *p, struct ff_loc loc, const char *id);

/* ----------------------------------------------------------- yaml_tree.c */

/*
 * Reads the whole stream into a tree. *root is NULL for a stream with no
 * document (an empty file, or only comments). On error (invalid YAML, or
 * YAML a flow file has no use for: anchors, aliases, tags, a second
 * document) the message is in p->err, the partial tree is freed and *root
 * is NULL.
 */
int ff_read_tree(struct parser *p, struct ynode **root);

void ynode_free(struct ynode *n);

/* A plain null: empty, ~, null, Null, NULL. */
bool ynode_is_null(const struct ynode *n);

/* A plain decimal integer; values past INT_MAX come back larger than
 * INT_MAX, negative ones as -1 (out of every range the file accepts). */
bool ynode_int(const struct ynode *n, long long *out);

/* A plain true / false (True, TRUE, False, FALSE); not yes / no. */
bool ynode_bool(const struct ynode *n, bool *out);

/* Where the substring at byte off of a scalar starts in the file, when the
 * scalar is written on one line as is; else the scalar's start. */
struct ff_loc ynode_sub_loc(const struct ynode *n, size_t off);

/*
 * For each key of a mapping, the index (in pairs) of the first key with the
 * same text: itself when it is the first. Caller frees.
 */
size_t *ynode_first_occurrences(const struct ynode *map);

/* ------------------------------------------------------------- grammar.c */

/* Pass 1: the document's bundles, handlers and flows, in document order,
 * each with its position; the flows' entries and calls are only kept as
 * nodes (p->refs) for pass 2. -1 at the first problem. */
int ff_parse_document(struct parser *p, const struct ynode *root);

/* ---------------------------------------------------------- flow_check.c */

/* ff->handler_order, which flowfile_handler_index() searches. */
void ff_build_handler_order(struct flowfile *ff);

/* Pass 2 for flow fi: its entry and calls as handler indices, then the
 * rules of docs/flow-file.md (no repeated pair, every call reachable from
 * the entry, no cycle of synchronous calls). -1 at the first problem. */
int ff_resolve_flow(struct parser *p, int fi);

#endif
