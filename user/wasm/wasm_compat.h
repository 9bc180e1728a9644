/* SPDX-License-Identifier: MIT */
/*
 * Included first in every file of the WebAssembly model (Makefile,
 * "HTML report assets"): what wasi-libc lacks that the model's sources use.
 * The definitions are in user/wasm/wasm_shim.c.
 */
#ifndef FLOWPROF_WASM_COMPAT_H
#define FLOWPROF_WASM_COMPAT_H

#include <stddef.h>

#include <sys/types.h>

/* util.c's write_file_atomic(), never called by the model: stubs fail
 * with ENOSYS. */
int mkstemp(char *templ);
int fchmod(int fd, mode_t mode);

void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
	     void *ctx);

#endif
