// SPDX-License-Identifier: MIT
/*
 * The one atomic writer every output goes through (user/base/util.c:
 * snapshots, merge, export --jmt, sweep documents, HTML pages): the file
 * is complete, of mode 0600 whatever the umask, replaces the old one and
 * leaves no temporary file; a failure leaves the old file as it was; and
 * the order of the system calls that make it survive a crash: the file's
 * fsync, the rename, then the directory's fsync (fsync and rename are
 * interposed here to see them).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"

/* ---- the system calls, as util.c makes them ------------------------------ */

#define MAX_EVENTS 16
static char events[MAX_EVENTS][PATH_MAX + 16];
static int n_events;

static void event(const char *fmt, const char *a, const char *b)
{
	if (n_events < MAX_EVENTS)
		snprintf(events[n_events++], sizeof(events[0]), fmt, a, b);
}

/* "fsync DIR" or "fsync FILE": what the descriptor is open on. */
int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	event(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? "fsync dir %s%s" : "fsync file %s%s",
	      path, "");
	return real(fd);
}

int rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *) =
		(int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");

	event("rename %s %s", strrchr(from, '/') ? strrchr(from, '/') + 1 : from, to);
	return real(from, to);
}

/* ---- helpers ----------------------------------------------------------- */

static char *make_dir(void)
{
	char *d = xstrdup("/tmp/flowprof-test-util.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p = xasprintf("%s/%s", dir, e->d_name);

		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

/* ---- tests --------------------------------------------------------------- */

static void test_whole_file_mode_and_no_leftovers(void **state)
{
	char *dir = make_dir(), *path = xasprintf("%s/out.json", dir), *got;
	size_t len = 3 * 1024 * 1024 + 17, got_len = 0; /* several write() calls' worth */
	char *buf = xmalloc(len);
	mode_t old_umask = umask(0);
	struct stat st;

	(void)state;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 23);
	assert_int_equal(write_file_atomic(path, "old\n", 4, 0644), 0);
	assert_int_equal(write_file_atomic(path, buf, len, 0600), 0);
	umask(old_umask);
	got = read_file(path, &got_len);
	assert_non_null(got);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, buf, len);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left */
	free(got);
	free(buf);
	free(path);
	remove_dir(dir);
}

static void test_parts_in_order(void **state)
{
	char *dir = make_dir(), *path = xasprintf("%s/doc.txt", dir), *got;
	const struct write_part parts[] = { { "{\"a\": 1}", 8 }, { "", 0 }, { "\n", 1 } };

	(void)state;
	assert_int_equal(write_file_atomic_parts(path, parts, 3, 0600), 0);
	got = read_file(path, NULL);
	assert_string_equal(got, "{\"a\": 1}\n");
	free(got);
	free(path);
	remove_dir(dir);
}

/* The file reaches the disk before its name, and the name before the
 * writer returns: fsync(file), rename, fsync(directory). */
static void test_syncs_file_then_renames_then_syncs_directory(void **state)
{
	char *dir = make_dir(), *path = xasprintf("%s/snap.json", dir);
	char want_dir[PATH_MAX + 16];

	(void)state;
	n_events = 0;
	assert_int_equal(write_file_atomic(path, "{}\n", 3, 0600), 0);
	assert_int_equal(n_events, 3);
	assert_true(!strncmp(events[0], "fsync file ", 11));
	assert_non_null(strstr(events[0], "/.snap.json."));
	assert_true(!strncmp(events[1], "rename .snap.json.", 18));
	assert_non_null(strstr(events[1], path));
	snprintf(want_dir, sizeof(want_dir), "fsync dir %s", dir);
	assert_string_equal(events[2], want_dir);
	free(path);
	remove_dir(dir);
}

/* A rename that fails (the name is a directory): -1 and errno, the
 * temporary file gone, no directory sync of a name that did not change. */
static void test_failure_keeps_old_and_leaves_nothing(void **state)
{
	char *dir = make_dir(), *sub = xasprintf("%s/taken", dir);
	char *missing = xasprintf("%s/no-such-dir/x.json", dir);

	(void)state;
	assert_int_equal(mkdir(sub, 0700), 0);
	n_events = 0;
	errno = 0;
	assert_int_equal(write_file_atomic(sub, "x", 1, 0600), -1);
	assert_true(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	assert_int_equal(n_events, 2); /* fsync file, rename: no directory sync */
	assert_int_equal(count_entries(dir), 1);
	errno = 0;
	assert_int_equal(write_file_atomic(missing, "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(sub);
	free(sub);
	free(missing);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_file_mode_and_no_leftovers),
		cmocka_unit_test(test_parts_in_order),
		cmocka_unit_test(test_syncs_file_then_renames_then_syncs_directory),
		cmocka_unit_test(test_failure_keeps_old_and_leaves_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
