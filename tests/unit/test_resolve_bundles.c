// SPDX-License-Identifier: MIT
/*
 * resolve_flowfile() on real binaries and real processes: which processes
 * and binaries a bundle's handlers are looked up in (exe: by inode, also
 * through a symlink or from another mount namespace, pid:, comm:, -p), the
 * libraries they map or the dynamic linker would find, each binary opened
 * once, and the exact message when any of it is missing. The shop fixture
 * is built at run time and started as a child where a test needs a running
 * process (resolve_fixtures.h).
 */
#include "resolve_fixtures.h"

static uint64_t offset_of(const char *binary, const char *symbol)
{
	struct elf_file *ef = elf_file_open(binary, NULL, 0);
	const struct elf_sym **m;
	uint64_t off;

	assert_non_null(ef);
	assert_int_equal(elf_find_symbols(ef, symbol, &m), 1);
	off = m[0]->offset;
	free(m);
	elf_file_close(ef);
	return off;
}

static void test_exe_bundle_is_every_process(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, ffpath);
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "price", "price_*", NULL, 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 3);
	qsort(res.sites, res.n_sites, sizeof(*res.sites), site_cmp);
	assert_int_equal(res.sites[0].handler, 0);
	assert_string_equal(res.sites[0].symbol, "shop_browse");
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	assert_int_equal(res.sites[0].offset, offset_of(p("%s/shop", dir), "shop_browse"));
	assert_null(res.sites[0].demangled);
	assert_int_not_equal(res.sites[0].cls, SITE_UNKNOWN);
	assert_int_equal(res.sites[1].handler, 1);
	assert_string_equal(res.sites[1].symbol, "price_base");
	assert_int_equal(res.sites[1].offset, offset_of(p("%s/shop", dir), "price_base"));
	assert_string_equal(res.sites[2].symbol, "price_discount");
	assert_int_equal(res.sites[2].pid, -1);
	assert_int_equal(res.n_bundles, 1);
	assert_int_equal(res.bundles[0].n_pids, 0);
	assert_string_equal(res.bundles[0].binary, p("%s/shop", dir));
	resolution_free(&res);
}

static void test_missing_exe(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", "/srv/shop/bin/shop", NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "flows.yaml:3:10: bundle shop: exe /srv/shop/bin/shop: "
				 "No such file or directory");
}

static void test_exe_not_elf(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", fixture_src_dir(), NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": Is a directory"));
	ff_init(&t, ffpath);
	add_bundle(&t, "shop", "libshopdb.c", NULL, NULL, 0, 3, 10);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(fx_system("cp '%s/libshopdb.c' '%s/'", fixture_src_dir(), dir), 0);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("%s:3:10: bundle shop: exe %s/libshopdb.c: not an ELF file",
				   ffpath, dir));
}

/* A pid that existed and does not any more. */
static int dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	assert_int_equal(kill(pid, 0), -1);
	return pid;
}

static void test_pid_that_does_not_exist(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1] = { dead_pid() };

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:2:3: pid %d (bundle shop): no such process", pids[0]));
}

static void test_pid_bundle(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1];

	(void)state;
	pids[0] = fx_start_waiting(p("%s/shop", dir));
	assert_true(pids[0] > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 7, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, pids[0]);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], pids[0]);
	resolution_free(&res);
}

static void test_exe_by_symlink_finds_the_same_processes(void **state)
{
	const char *spellings[] = { "shop", "shop-link", "./shop", "../%s/shop" };
	struct resolution res;
	struct test_ff t;
	char err[1024], up[PATH_MAX + 8];
	pid_t child;
	size_t i;

	(void)state;
	child = fx_start_waiting(p("%s/shop-link", dir));
	assert_true(child > 0);
	snprintf(up, sizeof(up), "../%s/shop", strrchr(dir, '/') + 1);
	spellings[3] = up;
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		/* Relative to the flow file's directory, whatever the spelling. */
		ff_init(&t, ffpath);
		add_bundle(&t, "shop", spellings[i], NULL, NULL, 0, 2, 3);
		add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
		assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
		assert_int_equal(res.bundles[0].n_pids, 1);
		assert_int_equal(res.bundles[0].pids[0], child);
		assert_string_equal(res.bundles[0].binary, p("%s/shop", dir));
		assert_int_equal(res.n_sites, 1);
		assert_int_equal(res.sites[0].pid, -1);
		resolution_free(&res);
	}
	fx_stop(child);
}

static void test_p_restricts_every_bundle(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int self = getpid();
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_bundle(&t, "idle", p("%s/shop-idle", dir), NULL, NULL, 0, 8, 3);
	add_handler(&t, 1, "browse", "shop_browse", NULL, 10, 7);
	opts.pids = &child;
	opts.n_pids = 1;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].handler, 0);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/shop", dir));
	/* check says "left out", not "unresolved", for idle's handlers */
	assert_false(res.bundles[0].excluded);
	assert_true(res.bundles[1].excluded);
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:8:3: warning: bundle idle: none of its processes is among "
			      "-p %d; its handlers are not attached", child));
	assert_int_equal(res.problem_kinds[0], PROBLEM_WARNING);
	resolution_free(&res);

	/* Nothing left at all: an error. */
	opts.pids = &self;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	{
		char exe[PATH_MAX], comm[32] = "";
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		FILE *f = fopen("/proc/self/comm", "r");

		assert_true(n > 0 && f && fgets(comm, sizeof(comm), f));
		fclose(f);
		exe[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		/* what the process is, so that the user sees why */
		assert_string_equal(err, p("-p %d: none of these processes belongs to a bundle of "
					   "flows.yaml (%d runs %s as %s)", self, self, exe, comm));
	}
	self = dead_pid();
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("-p %d: no such process", self));
	fx_stop(child);
}

static void test_comm_bundle(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop-idle", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, "shop-idle", NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(child);
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], child);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/shop-idle", dir));
	resolution_free(&res);

	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "flows.yaml:2:3: bundle shop: no running process has comm "
				 "'shop-idle'");
}

static void test_library_of_running_process(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];
	pid_t child;

	(void)state;
	child = fx_start_waiting(p("%s/shop", dir));
	assert_true(child > 0);
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 9, 7);
	add_handler(&t, 0, "nolib", "db_persist", "libnothere.so", 10, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), -1);
	assert_string_equal(err, p("flows.yaml:10:7: shop.nolib: library libnothere.so is not mapped "
				   "by pid %d (%s/shop)", child, dir));
	t.ff.n_handlers = 1;
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(child);
	assert_int_equal(res.n_problems, 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, child);
	assert_string_equal(res.sites[0].binary, p("%s/libshopdb.so", dir));
	assert_string_equal(res.sites[0].symbol, "db_persist");
	assert_int_equal(res.sites[0].offset, offset_of(p("%s/libshopdb.so", dir), "db_persist"));
	resolution_free(&res);
}

static void test_library_without_process_uses_runpath(void **state)
{
	struct resolution res;
	struct test_ff t;
	char err[1024];

	(void)state;
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop-idle", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 9, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 1);
	assert_int_equal(res.sites[0].pid, -1);
	assert_string_equal(res.sites[0].binary, p("%s/libshopdb.so", dir));
	assert_int_equal(res.n_errors, 0);
	assert_int_equal(res.n_problems, 1);
	assert_string_equal(res.problems[0],
			    p("flows.yaml:9:7: note: shop.persist: no process of bundle shop is "
			      "running: %s/libshopdb.so is probed in every process that uses it", dir));
	resolution_free(&res);
}

static void test_binary_opened_once(void **state)
{
	struct resolve_opts opts = { 0 };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	unsigned long opened;
	pid_t kids[3];
	int i;

	(void)state;
	/* Three processes of one executable, two handlers: six sites, one binary. */
	for (i = 0; i < 3; i++) {
		kids[i] = fx_start_waiting(p("%s/shop", dir));
		assert_true(kids[i] > 0);
	}
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "checkout", "shop_checkout", NULL, 5, 7);
	opts.pids = kids;
	opts.n_pids = 3;
	opened = elf_files_opened;
	assert_int_equal(resolve_flowfile(&t.ff, &opts, &res, err, sizeof(err)), 0);
	assert_int_equal(elf_files_opened - opened, 1);
	for (i = 0; i < 3; i++)
		fx_stop(kids[i]);
	assert_int_equal(res.n_sites, 6);
	assert_int_equal(res.bundles[0].n_pids, 3);
	for (i = 0; i < 6; i++) {
		assert_true(res.sites[i].pid == kids[0] || res.sites[i].pid == kids[1] ||
			    res.sites[i].pid == kids[2]);
		assert_string_equal(res.sites[i].binary, p("%s/shop", dir));
	}
	resolution_free(&res);
}

static void test_other_mount_namespace(void **state)
{
	char *argv[] = { "unshare", "-m", "--propagation", "private", p("%s/shop", dir), "wait", NULL };
	struct resolution res;
	struct test_ff t;
	char err[1024];
	int pids[1];

	(void)state;
	pids[0] = fx_start_argv(argv);
	if (pids[0] <= 0)
		skip(); /* no CAP_SYS_ADMIN for a new mount namespace here */
	/* A pid bundle: its files are reached through /proc/PID/root. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", NULL, NULL, pids, 1, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	add_handler(&t, 0, "persist", "db_persist", "libshopdb.so", 5, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	assert_int_equal(res.n_sites, 2);
	assert_string_equal(res.sites[0].binary, p("/proc/%d/root%s/shop", pids[0], dir));
	assert_int_equal(res.sites[0].pid, pids[0]);
	assert_string_equal(res.sites[1].binary, p("/proc/%d/root%s/libshopdb.so", pids[0], dir));
	assert_string_equal(res.bundles[0].binary, p("/proc/%d/root%s/shop", pids[0], dir));
	resolution_free(&res);

	/* An exe bundle finds it by inode, whatever its mount namespace. */
	ff_init(&t, "flows.yaml");
	add_bundle(&t, "shop", p("%s/shop", dir), NULL, NULL, 0, 2, 3);
	add_handler(&t, 0, "browse", "shop_browse", NULL, 4, 7);
	assert_int_equal(resolve_flowfile(&t.ff, NULL, &res, err, sizeof(err)), 0);
	fx_stop(pids[0]);
	assert_int_equal(res.bundles[0].n_pids, 1);
	assert_int_equal(res.bundles[0].pids[0], pids[0]);
	resolution_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_bundle_is_every_process),
		cmocka_unit_test(test_missing_exe),
		cmocka_unit_test(test_exe_not_elf),
		cmocka_unit_test(test_pid_that_does_not_exist),
		cmocka_unit_test(test_pid_bundle),
		cmocka_unit_test(test_exe_by_symlink_finds_the_same_processes),
		cmocka_unit_test(test_p_restricts_every_bundle),
		cmocka_unit_test(test_comm_bundle),
		cmocka_unit_test(test_library_of_running_process),
		cmocka_unit_test(test_library_without_process_uses_runpath),
		cmocka_unit_test(test_binary_opened_once),
		cmocka_unit_test(test_other_mount_namespace),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
