/* SPDX-License-Identifier: MIT */
/* Small helpers every stage uses: logging, checked allocation, timing. */
#ifndef FLOWPROF_UTIL_H
#define FLOWPROF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 0 = errors and warnings only, 1 = -v, 2 = -vv (libbpf debug too). */
extern int log_verbosity;

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Always printed, without a level: messages that carry their own ("note:"). */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that exits with a message on failure: flowprof cannot go on
 * without memory, and every caller checking would hide the real logic. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A copy of n bytes at p (NULL when n is 0). */
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A text built in memory with stdio (open_memstream): *buf is the text once
 * the stream is closed. */
FILE *xopen_memstream(char **buf, size_t *len);

/* Grows *arr (of *cap elements of size elem) to hold at least need elements. */
void grow_array(void **arr, size_t *cap, size_t need, size_t elem);

/* CLOCK_MONOTONIC in ns. */
uint64_t now_ns(void);

/* Writes a whole buffer to path atomically and durably: a temporary file in
 * the same directory, fsync, rename, fsync of the directory. mode is applied
 * to the new file. On failure the old file is intact, errno is set and -1
 * returned; a directory that cannot be synced after the rename is only
 * warned of (the new file is in place). */
int write_file_atomic(const char *path, const void *buf, size_t len, unsigned int mode);

/* The same for a file made of several buffers, written one after the other
 * (a large text and its final newline, without joining them first). */
struct write_part {
	const void *buf;
	size_t len;
};
int write_file_atomic_parts(const char *path, const struct write_part *parts, int n_parts,
			    unsigned int mode);

/* Whether write_file_atomic() could write path now: path is not a directory
 * nor another kind of non-regular file, and a temporary file of the same
 * name can be created (and is removed again) in its directory. For outputs
 * written at the end of a recording: checked before anything is measured.
 * Returns 0, or -1 with errno set and err = "PATH: why". */
int check_writable_atomic(const char *path, char *err, size_t errlen);

/* Reads a whole file (NUL-terminated). Returns NULL and sets errno on failure. */
char *read_file(const char *path, size_t *len);

/* read_file() for a loader: on failure err = "PATH: cannot read: why". */
char *read_file_said(const char *path, size_t *len, char *err, size_t errlen);

/* True when the user's locale (LC_CTYPE) is UTF-8: µs may be printed. */
bool locale_is_utf8(void);

/* Levenshtein distance, for "did you mean" hints. */
size_t edit_distance(const char *a, const char *b);

/* One cell of the edit-distance table: the cheapest of substituting (free
 * when the characters are the same), deleting and inserting. */
static inline size_t edit_step(size_t diag, size_t up, size_t left, bool same)
{
	size_t best = diag + !same;

	if (up + 1 < best)
		best = up + 1;
	if (left + 1 < best)
		best = left + 1;
	return best;
}

#endif
