/* SPDX-License-Identifier: MIT */
/*
 * What the flow file parser's unit tests share (test_flowfile_valid.c,
 * test_flowfile_errors.c): parsing text that must be valid, or that must
 * fail with exactly one message and leave the flow file zeroed, and the
 * YAML heads the tests build their documents on. Header-only: each
 * test_*.c is linked on its own.
 */
#ifndef FLOWPROF_TEST_FLOWFILE_FIXTURES_H
#define FLOWPROF_TEST_FLOWFILE_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "flowfile/flowfile.h"

#define PATH "flows.yaml"

/* Parses text that must be valid. */
static __attribute__((unused)) void parse_ok(const char *yaml, struct flowfile *ff)
{
	char err[512] = "";
	int r = flowfile_parse(PATH, yaml, strlen(yaml), ff, err, sizeof(err));

	if (r)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(err, "");
}

/* Parses text that must fail with exactly this message. */
static __attribute__((unused)) void expect_error(const char *yaml, const char *want)
{
	struct flowfile ff;
	char err[1024];
	int r;

	memset(&ff, 0xa5, sizeof(ff)); /* must come back zeroed */
	r = flowfile_parse(PATH, yaml, strlen(yaml), &ff, err, sizeof(err));
	assert_int_equal(r, -1);
	assert_string_equal(err, want);
	assert_null(ff.bundles);
	assert_null(ff.handlers);
	assert_null(ff.flows);
	assert_null(ff.path);
	assert_int_equal(ff.n_bundles, 0);
	assert_int_equal(ff.n_handlers, 0);
	assert_int_equal(ff.n_flows, 0);
}

/* A valid bundle to put flows under: s.a .. s.e */
#define BUNDLE_S                  \
	"bundles:\n"              \
	"  s:\n"                  \
	"    comm: svc\n"         \
	"    handlers:\n"         \
	"      a: fa\n"           \
	"      b: fb\n"           \
	"      c: fc\n"           \
	"      d: fd\n"           \
	"      e: fe\n"           \
	"flows:\n"
/* The first line of a flow under BUNDLE_S is line 11. */

/* The same bundle header with a handler value to fill in (line 5). */
#define HANDLER_HEAD      \
	"bundles:\n"      \
	"  s:\n"          \
	"    comm: svc\n" \
	"    handlers:\n"

#endif
