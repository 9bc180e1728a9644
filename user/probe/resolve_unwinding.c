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
 * links the unwinder, itself or through a library it needs (redis needs
 * libjemalloc, which needs libstdc++), or its process has the unwinder
 * mapped, or it is Go.
 */
#include "resolve_int.h"

#include <stdlib.h>
#include <string.h>

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

/* A binary that needs more libraries than this, all told, is taken to
 * unwind: past it the walk costs more than the answer is worth. */
#define MAX_LIBS_WALKED 256

static bool is_unwinder(const char *name)
{
	/* GNU's C++ runtime and unwinder; LLVM's (libc++abi) and libunwind */
	return !strncmp(name, "libstdc++", 9) || !strncmp(name, "libgcc_s", 8) ||
	       !strncmp(name, "libc++abi", 9) || !strncmp(name, "libunwind", 9);
}

/*
 * Whether the binary at path or a library it needs, at any depth, is the
 * unwinder, walking the libraries as the dynamic linker would find them on
 * disk. A library that cannot be found or read counts as the unwinder: it
 * may be, and exit sites are safe either way. (A library loaded later with
 * dlopen is not seen here; a running process's maps are asked apart.)
 */
static bool links_unwinder(const char *path)
{
	char **queue = xcalloc(1, sizeof(*queue)), **seen = NULL, err[256];
	size_t n_queue = 1, cap_queue = 1, n_seen = 0, cap_seen = 0;
	bool unwinds = false;

	queue[0] = xstrdup(path);
	while (n_queue && !unwinds) {
		char *lib = queue[--n_queue];
		struct elf_file *ef = NULL;
		bool known = false;

		for (size_t i = 0; i < n_seen && !known; i++)
			known = !strcmp(seen[i], lib);
		if (known) {
			free(lib);
			continue;
		}
		grow_array((void **)&seen, &cap_seen, n_seen + 1, sizeof(*seen));
		seen[n_seen++] = lib;
		ef = n_seen <= MAX_LIBS_WALKED ? elf_file_open_dynamic(lib, err, sizeof(err)) : NULL;
		unwinds = !ef || ef->needs_unwinder || is_unwinder(basename(lib));
		for (size_t i = 0; ef && !unwinds && i < ef->n_needed; i++) {
			char *found = find_library_on_disk(ef, lib, ef->needed[i]);

			unwinds = !found || is_unwinder(ef->needed[i]);
			if (found) {
				grow_array((void **)&queue, &cap_queue, n_queue + 1, sizeof(*queue));
				queue[n_queue++] = found;
			}
		}
		elf_file_close(ef);
	}
	for (size_t i = 0; i < n_queue; i++)
		free(queue[i]);
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(queue);
	free(seen);
	return unwinds;
}

/* links_unwinder() once per binary. */
struct path_unwinds {
	char *path;
	bool unwinds;
};

static bool links_unwinder_once(struct path_unwinds **seen, size_t *n, size_t *cap,
				const char *path)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*seen)[i].path, path))
			return (*seen)[i].unwinds;
	grow_array((void **)seen, cap, *n + 1, sizeof(**seen));
	(*seen)[*n] = (struct path_unwinds){ xstrdup(path), links_unwinder(path) };
	return (*seen)[(*n)++].unwinds;
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
	struct path_unwinds *linked = NULL;
	size_t n_seen = 0, cap = 0, n_linked = 0, cap_linked = 0;

	for (size_t i = 0; i < res->n_sites; i++) {
		struct probe_site *s = &res->sites[i];
		const char *path = s->attach_path ? s->attach_path : s->binary, *exe = NULL;
		struct elf_file *ef;
		char err[256];

		if (s->kind != PROBE_FUNCTION)
			continue;
		if (s->handler >= 0 && s->handler < c->ff->n_handlers &&
		    c->ff->handlers[s->handler].bundle < res->n_bundles)
			exe = res->bundles[c->ff->handlers[s->handler].bundle].binary;
		ef = open_elf(c, path, err, sizeof(err));
		s->unwinds = s->go || (ef && (ef->needs_unwinder || ef->go ||
					      defines(ef, "_Unwind_RaiseException"))) ||
			     (s->pid > 0 && process_unwinds_once(&seen, &n_seen, &cap, s->pid)) ||
			     /* no process to ask: its libraries, as found on this
			      * host (a process's maps say what it has, and a walk
			      * by path could lead out of its mount namespace) */
			     (s->pid <= 0 && (links_unwinder_once(&linked, &n_linked, &cap_linked, path) ||
					      /* a library's function runs in the
					       * executable's process */
					      (exe && strcmp(exe, path) &&
					       links_unwinder_once(&linked, &n_linked, &cap_linked,
								   exe))));
	}
	free(seen);
	for (size_t i = 0; i < n_linked; i++)
		free(linked[i].path);
	free(linked);
}
