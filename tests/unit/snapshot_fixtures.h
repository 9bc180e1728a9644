/* SPDX-License-Identifier: MIT */
/*
 * What the snapshot unit tests on the fixture tests/snapshots/basic.json
 * share (test_snapshot_document.c, test_snapshot_bad_input.c,
 * test_snapshot_merge_synthetic.c): reading the fixture, loading text that
 * must load, text and one-change fixtures that must fail with an exact
 * message, adding a call to a handler by hand, and merging (a merge into
 * nothing is a copy; whatever is merged writes and loads back the same).
 * Header-only: each test_*.c is linked on its own. Run from the repository
 * root (tests/run-tests.sh does).
 */
#ifndef FLOWPROF_TEST_SNAPSHOT_FIXTURES_H
#define FLOWPROF_TEST_SNAPSHOT_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "base/base.h"
#include "snapshot/snapshot.h"

#define FIXTURE "tests/snapshots/basic.json"
#define NAME "snap.json"

static __attribute__((unused)) char *fixture(size_t *len)
{
	char *text = read_file(FIXTURE, len);

	if (!text)
		fail_msg("cannot read %s (run from the repository root)", FIXTURE);
	return text;
}

static __attribute__((unused)) void load_ok(const char *text, size_t len, struct snapshot *s)
{
	char err[512] = "";
	int r = snapshot_parse(NAME, text, len, s, err, sizeof(err));

	if (r)
		fail_msg("unexpected error: %s", err);
	assert_string_equal(err, "");
}

static __attribute__((unused)) void expect_text_error(const char *text, size_t len,
						      const char *want)
{
	struct snapshot s;
	char err[512];

	memset(&s, 0xa5, sizeof(s)); /* must come back zeroed */
	assert_int_equal(snapshot_parse(NAME, text, len, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_null(s.handlers);
	assert_null(s.host);
	assert_int_equal(s.n_handlers, 0);
}

/* The fixture with one change made through a JSON pointer: value replaces
 * what is at path (NULL value: the member is removed). */
#define REMOVE ((json_object *)-1)

static __attribute__((unused)) void expect_error_after(const char *path, json_object *value,
						       const char *want)
{
	size_t len;
	char *text = fixture(&len);
	json_object *top = json_tokener_parse(text);
	const char *out;

	assert_non_null(top);
	if (value == REMOVE) {
		char *parent = xstrdup(path), *slash = strrchr(parent, '/');
		json_object *p;

		*slash = '\0';
		assert_int_equal(json_pointer_get(top, parent, &p), 0);
		assert_true(json_object_object_get_ex(p, slash + 1, NULL));
		json_object_object_del(p, slash + 1);
		free(parent);
	} else {
		assert_int_equal(json_pointer_set(&top, path, value), 0);
	}
	out = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
	expect_text_error(out, strlen(out), want);
	json_object_put(top);
	free(text);
}

/* One call of d ns, as the collector adds it up. */
static __attribute__((unused)) void add_call(struct snap_handler *h, uint64_t d)
{
	h->calls++;
	h->entries++;
	h->total_ns += d;
	h->self_ns += d / 2;
	h->oncpu_ns += d / 4;
	if (!h->min_ns || d < h->min_ns)
		h->min_ns = d;
	if (d > h->max_ns)
		h->max_ns = d;
	h->sumsq_ns2 += (long double)d * d;
	h->hist[hist_bucket(d)]++;
}

static __attribute__((unused)) void merge_ok(struct snapshot *dst, const struct snapshot *src)
{
	char err[256];

	if (snapshot_merge(dst, src, err, sizeof(err)))
		fail_msg("merge failed: %s", err);
}

static __attribute__((unused)) void copy_of(struct snapshot *dst, const struct snapshot *src)
{
	memset(dst, 0, sizeof(*dst));
	merge_ok(dst, src);
}

/* Written and loaded back, a merged snapshot is still the same. */
static __attribute__((unused)) void assert_round_trips(const struct snapshot *s)
{
	char *json = snapshot_to_json(s, true), err[512];
	struct snapshot back;

	if (snapshot_parse(NAME, json, strlen(json), &back, err, sizeof(err)))
		fail_msg("merged snapshot does not load: %s", err);
	if (!snapshot_equal(s, &back, err, sizeof(err)))
		fail_msg("merged snapshot round trip: %s", err);
	snapshot_free(&back);
	free(json);
}

#endif
