/* SPDX-License-Identifier: MIT */
/*
 * Private to user/snapshot/: what the stage's files share. Code outside the
 * folder includes snapshot/snapshot.h only (scripts/check-layout.py).
 *
 *   snapshot.c           derived figures, lookups, freeing, and the helpers below
 *   snapshot_write.c     the document: built with json-c, printed, written atomically
 *   snapshot_load.c      the document's keys into struct snapshot
 *   snapshot_validate.c  what each value must be, and the error that names it
 *   snapshot_equal.c     field-by-field equality
 *   snapshot_merge.c     the exact, associative merge
 *   snapshot_delta.c     window subtraction (snapshot_delta.h)
 */
#ifndef FLOWPROF_SNAPSHOT_INT_H
#define FLOWPROF_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "base/base.h"
#include "snapshot.h"

static inline const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* NULL and "" are the same string. */
static inline bool same_str(const char *a, const char *b)
{
	return strcmp(str_or_empty(a), str_or_empty(b)) == 0;
}

static inline char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Bits of snap_handler.site_classes: the three classes, not "unknown". */
#define SITE_CLASS_BITS 0xeu

/* A handler's classes as a mask: its site_class, and site_classes if set. */
unsigned int snap_site_mask(const struct snap_handler *h);

/* Name indexes: json-c's hash table from a name to an array index. */
struct lh_table *snap_index_new(int n);
/* Remembers key -> i; returns false if key was already there. */
bool snap_index_put(struct lh_table *t, const char *key, int i);
/* i, or -1 when key is not there. */
int snap_index_get(struct lh_table *t, const char *key);
/* Unambiguous keys made of two strings (an edge), or a host and a pid (a
 * process). Caller frees. */
char *snap_pair_key(const char *a, const char *b);
char *snap_proc_key(const char *host, int pid);

/* Seconds since the epoch of an RFC 3339 time ("2026-11-22T23:41:59Z",
 * optional fraction, Z or a +hh:mm offset). Returns 0, or -1 when s is not
 * one. */
int snap_parse_rfc3339(const char *s, double *out);

void snap_free_host(struct snap_host *h);

/* ---- reading a document (snapshot_validate.c, for snapshot_load.c) ------ */

/*
 * Every reader checks the value it reads (type, sign, range, format) and on
 * failure writes "<path>: <ctx>.<key>: <what>" and returns -1. ctx names
 * the enclosing item ("handlers[3]", "bundles[0].concurrency"; NULL at the
 * top level) and key the member (NULL when ctx names the value itself).
 */
struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

int __attribute__((format(printf, 4, 5)))
doc_fail(struct loader *ld, const char *ctx, const char *key, const char *fmt, ...);

/* 1: present (*out may be NULL for JSON null), 0: absent and optional,
 * -1: absent and required. */
int doc_lookup(struct loader *ld, json_object *obj, const char *ctx, const char *key,
	       bool required, json_object **out);

/* A value itself: 0, or -1 with the error. */
int doc_as_u64(struct loader *ld, json_object *v, const char *ctx, const char *key,
	       uint64_t *out);
int doc_as_int(struct loader *ld, json_object *v, const char *ctx, const char *key, int *out);
/* A finite non-negative number. */
int doc_as_number(struct loader *ld, json_object *v, const char *ctx, const char *key,
		  double *out);
int doc_expect_object(struct loader *ld, json_object *v, const char *ctx);

/* A member of obj: 0 (read, or absent and optional: *out unchanged), or -1
 * with the error. */
int doc_get_u64(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, uint64_t *out);
int doc_get_int(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, int *out);
int doc_get_number(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, double *out);
/* A finite number that may be negative (a probe slot's share of a pair). */
int doc_get_signed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, double *out);
int doc_get_bool(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		 bool *out);
/* A string (copied into *out). nullable: JSON null gives NULL; non_empty:
 * "" is refused (names that others look up). */
int doc_get_str(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		bool required, bool nullable, bool non_empty, char **out);
/* An array or an object: 1 (present), 0 (absent and optional), -1. */
int doc_get_typed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		  bool required, enum json_type type, json_object **out);
/* Array length as an int count, refusing absurd sizes. */
int doc_array_len(struct loader *ld, json_object *arr, const char *ctx, const char *key, int *n);

/* "sumsq_ns2", read at long double precision. */
int doc_get_sumsq(struct loader *ld, json_object *o, const char *ctx, long double *out);
/* "histogram": {bounds_ns, counts}, each bound the next boundary of
 * flowprof's layout (docs/snapshot.md). */
int doc_get_histogram(struct loader *ld, json_object *h, const char *hctx,
		      uint64_t hist[HIST_BUCKETS]);
/* An RFC 3339 time, or "" (not known). */
int doc_check_time(struct loader *ld, const char *ctx, const char *key, const char *value);
/* A handler id that must exist (an edge end, a flow entry, a visit). */
int doc_check_handler_ref(struct loader *ld, struct lh_table *handlers, const char *ctx,
			  const char *key, const char *id);

#endif
