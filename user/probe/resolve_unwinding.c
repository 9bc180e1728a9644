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

/* Whether each process unwinds, asked once per process (its maps are read
 * twice an ask: a site per handler would read them 2,000 times for 1,000
 * handlers). */
struct pid_unwinds {
	int pid;
	bool unwinds;
};

static bool process_unwinds_once(struct pid_unwinds **seen, size_t *n, size_t *cap, int pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*seen)[i].pid == pid)
			return (*seen)[i].unwinds;
	grow_array((void **)seen, cap, *n + 1, sizeof(**seen));
	(*seen)[*n] = (struct pid_unwinds){ pid, process_unwinds(pid) };
	return (*seen)[(*n)++].unwinds;
}

void resolve_unwinding(struct resolve_ctx *c)
{
	struct resolution *res = c->res;
	struct pid_unwinds *seen = NULL;
	size_t n_seen = 0, cap = 0;

	for (size_t i = 0; i < res->n_sites; i++) {
		struct probe_site *s = &res->sites[i];
		struct elf_file *ef;
		char err[256];

		if (s->kind != PROBE_FUNCTION)
			continue;
		ef = open_elf(c, s->attach_path ? s->attach_path : s->binary, err, sizeof(err));
		s->unwinds = s->go || (ef && (ef->needs_unwinder || ef->go ||
					      defines(ef, "_Unwind_RaiseException"))) ||
			     (s->pid > 0 && process_unwinds_once(&seen, &n_seen, &cap, s->pid));
	}
	free(seen);
}
