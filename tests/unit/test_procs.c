// SPDX-License-Identifier: MIT
/*
 * Processes from /proc (user/probe/procs.c): a child running a copy of
 * sleep(1) under a name longer than the kernel keeps, with an environment
 * and arguments of our choosing, is found by file, by comm, by library;
 * then killed and left a zombie, which counts as gone. Library names are
 * matched as docs/flow-file.md says.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "../fixtures/fixture_build.h"
#include "probe/probe.h"

/* The kernel keeps the first 15 bytes of it as the process's comm. */
#define SLEEPER_NAME "fp-sleeper-long-name"
#define SLEEPER_COMM "fp-sleeper-long"

static char dir[PATH_MAX];
static char sleeper[PATH_MAX + 32];
/* The running sleeper, killed after each test even when an assertion
 * failed halfway; 0 when there is none. */
static pid_t sleeper_pid;

static int setup(void **state)
{
	char tmp[64];

	(void)state;
	if (fx_mkdtemp(tmp, sizeof(tmp)) < 0 || !realpath(tmp, dir))
		return -1;
	snprintf(sleeper, sizeof(sleeper), "%s/%s", dir, SLEEPER_NAME);
	return fx_system("cp /bin/sleep '%s'", sleeper);
}

static int teardown(void **state)
{
	(void)state;
	fx_rmrf(dir);
	return 0;
}

static bool has_pid(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* The state letter of /proc/PID/stat ('R', 'S'...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], stat[512], *end, state = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	/* "pid (comm) S ...": the comm may hold ')' itself, the last one ends it */
	end = strrchr(stat, ')');
	if (end && end[1] == ' ')
		state = end[2];
	return state;
}

/* The sleeper, once it sleeps in its own executable: exec has happened and
 * the dynamic linker has mapped its libraries (which it does after exec,
 * in the new process). */
static pid_t start_sleeper(void)
{
	char *const argv[] = { sleeper, "30", NULL };
	char *const envp[] = { "FLOWPROF_TEST_VAR=hello", "FLOWPROF_TEST_VAR_LONGER=no", NULL };
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execve(sleeper, argv, envp);
		_exit(127);
	}
	sleeper_pid = pid;
	for (int i = 0; i < 500; i++) {
		char *exe = proc_exe(pid);
		bool ready = exe && !strcmp(exe, sleeper) && proc_state(pid) == 'S';

		free(exe);
		if (ready)
			return pid;
		nanosleep(&pause, NULL);
	}
	fail_msg("the sleeper did not start");
	return -1;
}

static int stop_sleeper(void **state)
{
	(void)state;
	if (sleeper_pid > 0) {
		kill(sleeper_pid, SIGKILL);
		waitpid(sleeper_pid, NULL, 0);
	}
	sleeper_pid = 0;
	return 0;
}

static void test_a_running_process(void **state)
{
	pid_t pid = start_sleeper();
	char comm[64], *exe, *path, **argv;
	struct stat want, st;
	int *pids, n, argc;

	(void)state;
	assert_true(proc_exists(pid));
	assert_int_equal(proc_comm(pid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, SLEEPER_COMM);

	exe = proc_exe(pid);
	assert_string_equal(exe, sleeper);
	free(exe);
	exe = proc_exe_from_ours(pid);
	assert_string_equal(exe, sleeper);
	free(exe);
	assert_false(proc_other_mntns(pid));
	path = proc_path_from_ours(pid, "/etc/passwd");
	assert_string_equal(path, "/etc/passwd");
	free(path);

	/* by file: the copy's inode, whatever path named it */
	assert_int_equal(stat(sleeper, &want), 0);
	assert_int_equal(proc_exe_stat(pid, &st), 0);
	assert_true(st.st_dev == want.st_dev && st.st_ino == want.st_ino);
	n = procs_by_file(want.st_dev, want.st_ino, &pids);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], pid);
	free(pids);

	argc = proc_cmdline(pid, &argv);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[0], sleeper);
	assert_string_equal(argv[1], "30");
	proc_cmdline_free(argv, argc);

	path = proc_getenv(pid, "FLOWPROF_TEST_VAR");
	assert_string_equal(path, "hello");
	free(path);
	assert_null(proc_getenv(pid, "FLOWPROF_TEST"));
	assert_null(proc_getenv(pid, "PATH"));

	assert_true(proc_cpu_seconds(pid) >= 0);
	n = proc_list(&pids);
	assert_true(has_pid(pids, n, pid) && has_pid(pids, n, getpid()));
	for (int i = 1; i < n; i++)
		assert_true(pids[i - 1] < pids[i]);
	free(pids);
}

/* The kernel keeps 15 bytes of a name: a longer comm: is compared on
 * those, a shorter one must be the whole name. */
static void test_by_comm(void **state)
{
	pid_t pid = start_sleeper();
	int *pids, n;

	(void)state;
	n = procs_by_comm(SLEEPER_COMM, &pids);
	assert_true(has_pid(pids, n, pid));
	free(pids);
	n = procs_by_comm(SLEEPER_NAME, &pids);
	assert_true(has_pid(pids, n, pid));
	free(pids);
	n = procs_by_comm("fp-sleeper-lon", &pids);
	assert_false(has_pid(pids, n, pid));
	free(pids);
}

static void test_mapped_libraries(void **state)
{
	pid_t pid = start_sleeper();
	char *lib;

	(void)state;
	lib = proc_find_library(pid, "libc.so.6");
	assert_non_null(lib);
	assert_string_equal(strrchr(lib, '/'), "/libc.so.6");
	free(lib);
	lib = proc_find_library(pid, "libc.so"); /* libc.so.6 is a version of it */
	assert_non_null(lib);
	free(lib);
	lib = proc_find_library_prefix(pid, "libc");
	assert_non_null(lib);
	free(lib);
	assert_null(proc_find_library(pid, "libflowprof-nothere.so"));
	assert_null(proc_find_library_prefix(pid, "libflowprof-nothere"));
}

/* A zombie has exited: nothing of it can be probed any more. */
static void test_zombie_is_gone(void **state)
{
	pid_t pid = start_sleeper();
	int pidfd = proc_open_pidfd(pid);
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	(void)state;
	assert_false(proc_has_exited(pid, pidfd));
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (i = 0; i < 500 && proc_exists(pid); i++)
		nanosleep(&pause, NULL);
	assert_false(proc_exists(pid));
	assert_true(proc_has_exited(pid, pidfd));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	sleeper_pid = 0;
	if (pidfd >= 0)
		close(pidfd);
	assert_false(proc_exists(pid));
	assert_false(proc_exists(0));
	assert_false(proc_exists(-1));
}

static void test_cpu_limit_of_self(void **state)
{
	char source[128], group[256];
	double cpus = 0;

	(void)state;
	assert_int_equal(proc_cpu_limit(getpid(), &cpus, source, sizeof(source), group,
					 sizeof(group)), 0);
	assert_true(cpus > 0 && cpus <= sysconf(_SC_NPROCESSORS_CONF));
	assert_true(source[0] != '\0');
}

static void test_library_name_matches(void **state)
{
	static const struct {
		const char *base, *name;
		bool want;
	} cases[] = {
		{ "libshopdb.so", "libshopdb.so", true },
		{ "libshopdb.so.1.2", "libshopdb.so", true },	/* a version of it */
		{ "libshopdb-2.1.so", "libshopdb.so", true },	/* libtool's -release */
		{ "libshopdb-2.1.so.0", "libshopdb.so", true },
		{ "libshopdbx.so", "libshopdb.so", false },
		{ "libshop.so", "libshopdb.so", false },
		{ "libshopdb.so", "libshop.so", false },
		{ "libshopdb-2.1.so", "libshopdb.so.2", false }, /* a versioned name is exact */
		{ "libc.so.6", "libc.so.6", true },
		{ "libc.so.6", "libc", true },		/* "libc." starts it */
		{ "libcrypt.so.1", "libc.so", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s ~ %s\n", cases[i].base, cases[i].name);
		assert_int_equal(library_name_matches(cases[i].base, cases[i].name), cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_running_process, stop_sleeper),
		cmocka_unit_test_teardown(test_by_comm, stop_sleeper),
		cmocka_unit_test_teardown(test_mapped_libraries, stop_sleeper),
		cmocka_unit_test_teardown(test_zombie_is_gone, stop_sleeper),
		cmocka_unit_test(test_cpu_limit_of_self),
		cmocka_unit_test(test_library_name_matches),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
