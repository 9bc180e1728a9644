// SPDX-License-Identifier: MIT
#include "util.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <libgen.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int log_verbosity;

/* Messages carry names taken from targets (symbols, paths): escaped, so a
 * hostile name cannot drive the terminal. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL, *safe;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	safe = term_escape(msg);
	fprintf(stderr, "flowprof: %s%s\n", prefix, safe);
	free(safe);
	free(msg);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbosity < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

static void *check_alloc(void *p)
{
	if (!p) {
		fprintf(stderr, "flowprof: error: out of memory\n");
		exit(1);
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check_alloc(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check_alloc(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return check_alloc(realloc(p, n ? n : 1));
}

void *xmemdup(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s ? s : ""));
}

FILE *xopen_memstream(char **buf, size_t *len)
{
	return check_alloc(open_memstream(buf, len));
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return check_alloc(r < 0 ? NULL : s);
}

void grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	*arr = xrealloc(*arr, n * elem);
	memset((char *)*arr + *cap * elem, 0, (n - *cap) * elem);
	*cap = n;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The temporary file write_file_atomic() creates next to path, as a
 * mkstemp() template: "DIR/.NAME.XXXXXX". */
static char *atomic_tmp_template(const char *path)
{
	char *dir_copy = xstrdup(path), *base_copy = xstrdup(path);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dirname(dir_copy), basename(base_copy));

	free(dir_copy);
	free(base_copy);
	return tmp;
}

int check_writable_atomic(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *tmp, *dir;
	int fd, e;

	if (!*path) {
		snprintf(err, errlen, "an empty file name");
		errno = ENOENT;
		return -1;
	}
	/* lstat: the rename replaces a symbolic link itself, not what it points to */
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
			errno = EISDIR;
			return -1;
		}
		if (!S_ISREG(st.st_mode)) { /* the rename would replace a device or FIFO */
			snprintf(err, errlen, "%s: not a regular file (it would be replaced)", path);
			errno = EINVAL;
			return -1;
		}
	} else if (errno != ENOENT || path[strlen(path) - 1] == '/') {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	tmp = atomic_tmp_template(path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		dir = xstrdup(path);
		snprintf(err, errlen, "%s: directory %s: %s", path, dirname(dir),
			 strerror(e));
		free(dir);
		free(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}

/* After the rename: the new name is an entry of path's directory, on disk
 * only once that directory is synced (rename(2) does not do it). Without
 * this a crash can leave the old file under the name, or no file at all on
 * some filesystems, though write_file_atomic() had returned. The new file
 * is in place by now: a failure is said, not returned, since callers take
 * an error to mean that the old file is still there. */
static void sync_directory_of(const char *path)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		err = errno;
	else if (fsync(fd) < 0 && errno != EINVAL) /* EINVAL: cannot sync a directory */
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		log_warn("wrote %s, but cannot sync its directory %s: %s (a crash now may lose "
			 "the new file)", path, dir, strerror(err));
	free(copy);
}

int write_file_atomic(const char *path, const void *buf, size_t len, unsigned int mode)
{
	const struct write_part part = { buf, len };

	return write_file_atomic_parts(path, &part, 1, mode);
}

int write_file_atomic_parts(const char *path, const struct write_part *parts, int n_parts,
			    unsigned int mode)
{
	char *tmp = atomic_tmp_template(path);
	int fd, err = 0;

	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if (fchmod(fd, mode) < 0)
		err = errno;
	for (int i = 0; !err && i < n_parts; i++) {
		const char *p = parts[i].buf;
		size_t len = parts[i].len;

		while (!err && len > 0) {
			ssize_t w = write(fd, p, len);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				err = errno;
				break;
			}
			p += w;
			len -= (size_t)w;
		}
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err)
		unlink(tmp);
	else
		sync_directory_of(path);
out:
	free(tmp);
	errno = err;
	return err ? -1 : 0;
}

char *read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (n + 1 < cap) {
			if (ferror(f)) {
				int e = errno;

				fclose(f);
				free(buf);
				errno = e ? e : EIO;
				return NULL;
			}
			break;
		}
		cap *= 2;
		buf = xrealloc(buf, cap);
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *read_file_said(const char *path, size_t *len, char *err, size_t errlen)
{
	char *buf = read_file(path, len);

	if (!buf && err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	return buf;
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, *row, d;

	row = xcalloc(lb + 1, sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];

			row[j] = edit_step(diag, up, row[j - 1], a[i - 1] == b[j - 1]);
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

bool locale_is_utf8(void)
{
	static int utf8 = -1;

	if (utf8 < 0) {
		setlocale(LC_CTYPE, "");
		utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	}
	return utf8;
}
