// SPDX-License-Identifier: MIT
/*
 * The snapshot's writers (snapshot_to_json, snapshot_write) print each
 * handler while the document is serialized instead of building the whole
 * json-c tree first (user/snapshot.c, lazy_handler): their text must be
 * the tree's, byte for byte, pretty and compact. On the fixture
 * tests/snapshots/basic.json (run from the repository root), alone and
 * merged across two hosts (instances and processes with hosts, a hosts
 * list), and with no handlers at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "snapshot/snapshot.h"

#define FIXTURE "tests/snapshots/basic.json"

static void load_fixture(struct snapshot *s)
{
	char err[512];

	if (snapshot_load(FIXTURE, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

/* The text from the whole json-c tree, as before. */
static char *tree_text(const struct snapshot *s, bool pretty)
{
	json_object *o = snapshot_to_json_object(s);
	char *text = jo_to_string(o, pretty);

	json_object_put(o);
	return text;
}

static void same_text(const struct snapshot *s)
{
	char dir[] = "/tmp/flowprof-test-XXXXXX", *path, *file;
	size_t len;

	for (int pretty = 0; pretty <= 1; pretty++) {
		char *a = tree_text(s, pretty), *b = snapshot_to_json(s, pretty);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/snap.json", dir);
	assert_int_equal(snapshot_write(s, path), 0);
	file = read_file(path, &len);
	assert_non_null(file);
	{
		char *a = tree_text(s, true);

		assert_int_equal(len, strlen(a));
		assert_memory_equal(file, a, len);
		free(a);
	}
	free(file);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_fixture(void **state)
{
	struct snapshot s;

	(void)state;
	load_fixture(&s);
	assert_true(s.n_handlers > 1);
	same_text(&s);
	snapshot_free(&s);
}

static void test_merged_hosts(void **state)
{
	struct snapshot a, b, m = { 0 };
	char err[256];

	(void)state;
	load_fixture(&a);
	load_fixture(&b);
	free(b.host);
	b.host = xstrdup("other-host");
	assert_int_equal(snapshot_merge(&m, &a, err, sizeof(err)), 0);
	assert_int_equal(snapshot_merge(&m, &b, err, sizeof(err)), 0);
	assert_int_equal(m.n_hosts, 2);
	same_text(&m);
	snapshot_free(&m);
	snapshot_free(&a);
	snapshot_free(&b);
}

static void test_no_handlers(void **state)
{
	struct snapshot s = { 0 };

	(void)state;
	s.host = xstrdup("h");
	same_text(&s);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_merged_hosts),
		cmocka_unit_test(test_no_handlers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
