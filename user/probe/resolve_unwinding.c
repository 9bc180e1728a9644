// SPDX-License-Identifier: MIT
/*
 * Exceptions and unwinding: which function sites must not get a uretprobe.
 *
 * A uretprobe replaces the return address on the stack with the kernel's
 * trampoline. An unwinder (a C++ throw, pthread_exit's forced unwind, Go's
 * stack copying and tracebacks) that reads it finds no unwind information
 * there and ends the program. So a function that something may unwind
 * through gets its exits probed at its exit sites, never by a uretprobe
 * (bpf/flowprof.bpf.c). Something may unwind through it when its binary
 * links the unwinder, or its process has the unwinder mapped, or it is Go.
 */
#include "resolve_int.h"

#include <stdlib.h>

#include "base/base.h"
#include "elf_symbols.h"
#include "procs.h"

static bool defines(const struct elf_file *ef, const char *symbol)
{
	const struct elf_sym **syms = NULL;
	size_t n = elf_find_symbols(ef, symbol, &syms);

	free(syms);
	return n > 0;
}

static bool process_unwinds(int pid)
{
	static const char *const libs[] = { "libgcc_s.so.1", "libstdc++.so.6" };

	for (size_t i = 0; i < ARRAY_SIZE(libs); i++) {
		char *path = proc_find_library(pid, libs[i]);

		free(path);
		if (path)
			return true;
	}
	return false;
}

void resolve_unwinding(struct resolve_ctx *c)
{
	struct resolution *res = c->res;

	for (size_t i = 0; i < res->n_sites; i++) {
		struct probe_site *s = &res->sites[i];
		struct elf_file *ef;
		char err[256];

		if (s->kind != PROBE_FUNCTION)
			continue;
		ef = open_elf(c, s->attach_path ? s->attach_path : s->binary, err, sizeof(err));
		s->unwinds = s->go || (ef && (ef->needs_unwinder || ef->go ||
					      defines(ef, "_Unwind_RaiseException"))) ||
			     (s->pid > 0 && process_unwinds(s->pid));
	}
}
