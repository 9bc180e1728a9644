// SPDX-License-Identifier: MIT
/*
 * resolve_flowfile() on handlers probed through USDT notes: usdt pairs
 * (sites, ref_ctr_offset) and their errors, Python sites and the line gate,
 * Python without probes, Java's option check (command line and
 * JAVA_TOOL_OPTIONS) and libjvm.so without a JVM running. The probes
 * fixture (tests/fixtures/probes.c) is built at run time
 * (resolve_fixtures.h); each test's reference is the note itself.
 */
#include "resolve_fixtures.h"

static struct ff_handler *add_usdt(struct test_ff *t, int bundle, const char *name,
				   const char *entry, const char *ret, int line)
{
	struct ff_handler *h = add_handler(t, bundle, name, NULL, NULL, line, 7);

	h->kind = FF_PROBE_USDT;
	h->usdt = (char *)entry;
	h->usdt_return = (char *)ret;
	return h;
}

static struct ff_handler *add_lang(struct test_ff *t, int bundle, const char *name,
				   enum ff_probe_kind kind, const char *pattern, int line)
{
	struct ff_handler *h = add_handler(t, bundle, name, NULL, NULL, line, 7);

	h->kind = kind;
	h->pattern = (char *)pattern;
	return h;
}

/* The note of provider:name in a binary (the test's reference). */
static struct usdt_note note_of(const char *binary, const char *provider, const char *name)
{
	const struct usdt_note *n;
	struct elf_file *ef = elf_file_open(binary, NULL, 0);
	struct usdt_note copy;

	assert_non_null(ef);
	assert_int_equal(usdt_find(ef, provider, name, &n, 1), 1);
	copy = *n;
	copy.provider = copy.name = copy.args = NULL;
	elf_file_close(ef);
	return copy;
}

static void test_usdt_pair(void **state)
{
	struct usdt_note start = note_of(p("%s/probes", dir), "shop", "order__start");
	struct usdt_note done = note_of(p("%s/probes", dir), "shop", "order__done");
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/probes", dir), NULL, NULL, 0, 2, 3);
	add_usdt(&t, 0, "order", "shop:order__start", "shop:order__done", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].kind, PROBE_USDT_ENTRY);
	assert_string_equal(res.sites[0].symbol, "shop:order__start");
	assert_int_equal(res.sites[0].offset, start.offset);
	assert_int_equal(res.sites[0].ref_ctr_offset, start.sema_offset);
	assert_int_not_equal(res.sites[0].ref_ctr_offset, 0);
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].usdt_args, "-4@-4(%rbp) -8@-16(%rbp) -4@$42");
	assert_int_equal(res.sites[1].kind, PROBE_USDT_RETURN);
	assert_string_equal(res.sites[1].symbol, "shop:order__done");
	assert_int_equal(res.sites[1].offset, done.offset);
	assert_int_equal(res.sites[1].ref_ctr_offset, done.sema_offset);
	resolution_free(&res);
}

static void test_usdt_errors(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/probes", dir), NULL, NULL, 0, 2, 3);
	add_usdt(&t, 0, "order", "shop:order__stert", "shop:order__done", 4);
	add_usdt(&t, 0, "tick", "shop:tick", "shop:tick", 5);
	add_bundle(&t, "plain", p("%s/shop", dir), NULL, NULL, 0, 7, 3);
	add_usdt(&t, 1, "q", "db:query__start", "db:query__done", 8);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_errors, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: shop.order: USDT probe shop:order__stert not found in "
			      "%s/probes; it has 3 USDT probes, closest: shop:order__start, "
			      "shop:order__done", dir));
	assert_string_equal(res.problems[1],
			    "flows.yaml:5:7: shop.tick: usdt and return name the same probe shop:tick: "
			    "a call needs one probe where it starts and another where it ends");
	assert_string_equal(res.problems[2],
			    p("flows.yaml:8:7: plain.q: USDT probe db:query__start not found in %s/shop; "
			      "it has no USDT probes (no .note.stapsdt section)", dir));
	/* shop.order's return probe exists, but half a pair is not attached. */
	assert_int_equal(res.n_sites, 0);
	resolution_free(&res);
}

static void test_python_handler(void **state)
{
	struct usdt_note entry, ret, line, park;
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	if (access("/usr/bin/python3.11", R_OK) != 0)
		skip(); /* Debian 12's python3 */
	entry = note_of("/usr/bin/python3.11", "python", "function__entry");
	ret = note_of("/usr/bin/python3.11", "python", "function__return");
	line = note_of("/usr/bin/python3.11", "python", "line");
	park = note_of("/usr/bin/python3.11", "python", "import__find__load__done");
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "app", "/usr/bin/python3.11", NULL, NULL, 0, 2, 3);
	add_lang(&t, 0, "view", FF_PROBE_PYTHON, "*/views.py:checkout", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 3);
	assert_int_equal(res.sites[0].kind, PROBE_PYTHON_ENTRY);
	assert_string_equal(res.sites[0].symbol, "python:function__entry");
	assert_int_equal(res.sites[0].offset, entry.offset);
	assert_int_equal(res.sites[0].ref_ctr_offset, entry.sema_offset);
	assert_string_equal(res.sites[0].usdt_args, "8@%rbp 8@%r12 -4@%eax");
	assert_int_equal(res.sites[1].kind, PROBE_PYTHON_RETURN);
	assert_int_equal(res.sites[1].offset, ret.offset);
	assert_int_equal(res.sites[1].ref_ctr_offset, ret.sema_offset);
	/* 3.11: line's semaphore held up from a probe that never runs. */
	assert_int_equal(res.sites[2].kind, PROBE_PYTHON_LINE_GATE);
	assert_string_equal(res.sites[2].symbol, "python:line");
	assert_int_equal(res.sites[2].offset, park.offset);
	assert_int_equal(res.sites[2].ref_ctr_offset, line.sema_offset);
	resolution_free(&res);
}

static void test_python_errors(void **state)
{
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "app", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_lang(&t, 0, "view", FF_PROBE_PYTHON, "*/views.py:checkout", 4);
	add_lang(&t, 0, "many", FF_PROBE_PYTHON, "views.py:check*", 5);
	add_lang(&t, 0, "brackets", FF_PROBE_PYTHON, "[vw]iews.py:checkout", 6);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_errors, 3);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: app.view: %s/shop has no CPython USDT probes "
			      "(python:function__entry): this Python was built without --with-dtrace "
			      "(Debian's /usr/bin/python3 has them)", dir));
	assert_string_equal(res.problems[1],
			    "flows.yaml:5:7: app.many: python function name 'check*' must be an exact "
			    "name (only the file part may be a glob)");
	assert_string_equal(res.problems[2],
			    "flows.yaml:6:7: app.brackets: file pattern '[vw]iews.py': only * and ? are "
			    "supported, not [...]");
	resolution_free(&res);
}

static void test_java_needs_the_flag(void **state)
{
	char *plain[] = { p("%s/shop", dir), "wait", NULL };
	char *flagged[] = { p("%s/shop", dir), "wait", "-XX:+ExtendedDTraceProbes", NULL };
	struct resolve_opts opts = { .allow_missing = true };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[3];

	(void)state;
	pids[0] = fx_start_argv(plain);
	pids[1] = fx_start_argv(flagged);
	setenv("JAVA_TOOL_OPTIONS", "-Xmx64m -XX:+DTraceMethodProbes", 1);
	pids[2] = fx_start_argv(plain);
	unsetenv("JAVA_TOOL_OPTIONS");
	assert_true(pids[0] > 0 && pids[1] > 0 && pids[2] > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "orders", NULL, NULL, pids, 3, 2, 3);
	add_lang(&t, 0, "place", FF_PROBE_JAVA, "com.example.Orders::place", 4);
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	fx_stop(pids[1]);
	fx_stop(pids[2]);
	/* Only the first lacks the option; none of these processes is a JVM. */
	assert_int_equal(res.n_errors, 4);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:4:7: orders.place: pid %d (%s/shop) runs without "
			      "-XX:+ExtendedDTraceProbes: HotSpot fires its method__entry/method__return "
			      "probes only when the JVM starts with that option (or "
			      "-XX:+DTraceMethodProbes); restart it with the option, e.g. in "
			      "JAVA_TOOL_OPTIONS", pids[0], dir));
	for (int i = 0; i < 3; i++)
		assert_string_equal(res.problems[1 + i],
				    p("flows.yaml:4:7: orders.place: library libjvm.so is not mapped "
				      "by pid %d (%s/shop)", pids[i], dir));
	resolution_free(&res);
}

static void test_java_jvm_without_process(void **state)
{
	const char *java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	if (access(java, X_OK) != 0)
		skip(); /* openjdk-17-jre-headless */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "orders", java, "no-such-comm", NULL, 0, 2, 3);
	add_lang(&t, 0, "place", FF_PROBE_JAVA, "com.example.Orders::place", 4);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_int_equal(res.sites[0].kind, PROBE_JAVA_ENTRY);
	assert_string_equal(res.sites[0].symbol, "hotspot:method__entry");
	assert_string_equal(res.sites[0].binary,
			    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so");
	assert_int_equal(res.sites[0].ref_ctr_offset, 0);
	assert_int_equal(res.sites[1].kind, PROBE_JAVA_RETURN);
	assert_int_equal(res.n_problems, 2);
	assert_string_equal(res.problems[0],
			    "flows.yaml:4:7: note: orders.place: no JVM of bundle orders is running: it "
			    "must start with -XX:+ExtendedDTraceProbes for its methods to be seen");
	assert_string_equal(res.problems[1],
			    "flows.yaml:4:7: note: orders.place: no process of bundle orders is "
			    "running: /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so is probed "
			    "in every process that uses it");
	resolution_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usdt_pair),
		cmocka_unit_test(test_usdt_errors),
		cmocka_unit_test(test_python_handler),
		cmocka_unit_test(test_python_errors),
		cmocka_unit_test(test_java_needs_the_flag),
		cmocka_unit_test(test_java_jvm_without_process),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
