// SPDX-License-Identifier: MIT
/*
 * What wasi-libc lacks that the model's sources use (declared in
 * wasm_compat.h, which the Makefile includes first in every file of the
 * WebAssembly build). Only in that build: the native one takes these from
 * glibc. It needs nothing but libc, so that the model's sources depend on
 * it as they would on libc, and not on the browser entry points of
 * model_wasm.c.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

/* wasi-libc has no qsort_r; model_results.c sorts its station ranking with it. A
 * stable insertion sort, as glibc's merge sort is stable (a handful of
 * stations): each new element is swapped down past the greater ones before
 * it, so that no temporary (and no allocation that could fail) is needed. */
void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
	     void *ctx)
{
	char *a = base;

	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && cmp(a + (j - 1) * size, a + j * size, ctx) > 0; j--) {
			char *x = a + (j - 1) * size, *y = a + j * size;

			for (size_t k = 0; k < size; k++) {
				char t = x[k];

				x[k] = y[k];
				y[k] = t;
			}
		}
	}
}

/* util.c's write_file_atomic(), never called by the model: stubs fail
 * with ENOSYS. */
int mkstemp(char *templ)
{
	(void)templ;
	errno = ENOSYS;
	return -1;
}

int fchmod(int fd, mode_t mode)
{
	(void)fd;
	(void)mode;
	errno = ENOSYS;
	return -1;
}
