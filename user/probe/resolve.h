/* SPDX-License-Identifier: MIT */
/*
 * Stage 2: resolve every handler of a flow file to probe points: which
 * processes each bundle is, which binary (executable or shared library)
 * each handler lives in, and the file offset of each matching symbol.
 * ELF files are read once each (user/probe/elf_symbols.c), never per symbol.
 */
#ifndef FLOWPROF_RESOLVE_H
#define FLOWPROF_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowfile/flowfile.h"
#include "site_class.h"

struct exit_site; /* exit_sites.h */

/*
 * What a probe site is. A function site gets an entry probe and exit probes
 * (uprobes on its exit sites, or a uretprobe) in user/attach/attach.c; the
 * others are USDT probe points, each an entry-style uprobe of its own,
 * attached by user/attach/attach_usdt.c (see docs/real-services.md).
 */
enum probe_site_kind {
	PROBE_FUNCTION = 0,	/* a function's entry and its return */
	PROBE_USDT_ENTRY,	/* usdt: the probe that opens a call of the handler */
	PROBE_USDT_RETURN,	/* return: the probe that closes it */
	PROBE_PYTHON_ENTRY,	/* CPython's function__entry: the handler is chosen in BPF */
	PROBE_PYTHON_RETURN,	/* CPython's function__return */
	PROBE_PYTHON_LINE_GATE,	/* holds CPython 3.11's line semaphore up: parked on a
				   gated probe that never runs (docs/real-services.md) */
	PROBE_JAVA_ENTRY,	/* HotSpot's method__entry */
	PROBE_JAVA_RETURN,	/* HotSpot's method__return */
};

const char *probe_site_kind_name(enum probe_site_kind k);

struct probe_site {
	enum probe_site_kind kind;
	int handler;		/* index into flowfile.handlers */
	int pid;		/* only this process; -1: every process running the binary */
	char *binary;		/* the file's path from our mount namespace, as messages and the
				   snapshot name it */
	char *attach_path;	/* what to open and attach to when it is not binary: the
				   file the process maps, /proc/PID/exe or
				   /proc/PID/map_files/... (a replaced binary, a symlink in a
				   container's root cannot redirect it); NULL: binary */
	char *symbol;		/* symbol as in the ELF file (mangled for C++), or the
				   USDT probe as "provider:name" */
	char *demangled;	/* NULL when not a C++ name */
	uint64_t offset;	/* file offset of the probe */
	uint64_t ref_ctr_offset; /* USDT semaphore file offset, 0 if none */
	char *usdt_args;	/* python/java sites: the note's argument string */
	enum site_class cls;
	/* PROBE_FUNCTION only: */
	int entry_slot;		/* enum cost_slot of the first instruction */
	uint64_t alt_entry_offset; /* a cheaper place for the entry probe (exit_sites.h), 0: none */
	uint64_t alt_entry_skip;   /* bytes between the function's start and it */
	int alt_entry_slot;
	struct exit_site *exits; /* its exit sites (user/probe/exit_sites.h), when decoded */
	size_t n_exits;
	char *exits_unknown;	/* why the exits could not be found (a uretprobe is used), or NULL */
	bool unwinds;		/* something unwinds through it (C++ exceptions, Go's stack
				   copying): its exits must not be a uretprobe */
	bool go;		/* a Go function: frames belong to goroutines */
};

struct resolved_bundle {
	int *pids;		/* processes found now (may be empty for exe: bundles) */
	int n_pids;
	char *binary;		/* the executable, from our mount namespace; NULL if unknown */
	bool excluded;		/* none of its processes is among -p: left out, not an error */
};

/* What one of resolution.problems is. */
enum problem_kind {
	PROBLEM_ERROR,		/* a handler or bundle left unresolved (check exits 1) */
	PROBLEM_WARNING,	/* "...: warning: ...": resolved, but something is off */
	PROBLEM_NOTE,		/* "...: note: ...": information */
};

struct resolution {
	struct probe_site *sites;
	size_t n_sites;
	struct resolved_bundle *bundles; /* one per flowfile bundle, same order */
	int n_bundles;
	/* Problems that did not stop resolution (a handler that matched nothing
	 * when opts.allow_missing is set): one message per line. */
	char **problems;
	enum problem_kind *problem_kinds; /* parallel to problems */
	int n_problems;
	/* How many of problems are errors (opts.allow_missing); the others are
	 * "<file>:<line>:<col>: note: ..." or "...: warning: ..." lines (an alias
	 * attached once, a library probed in every process, a bundle left out
	 * by -p): problem_kinds tells which is which. */
	int n_errors;
};

struct resolve_opts {
	const int *pids;	/* -p: restrict to these processes; NULL = no restriction */
	int n_pids;
	bool allow_missing;	/* `check`: collect every problem instead of stopping at the first */
};

/*
 * Resolves every handler. On error returns -1 with one message in err that
 * names the flow file position, the pid and binary, and the symbol, e.g.
 *   flows.yaml:7:7: shop.checkout: symbol 'shop_checkot' not found in
 *   /srv/shop/bin/shop (pid 4242); closest: shop_checkout, shop_check
 */
int resolve_flowfile(const struct flowfile *ff, const struct resolve_opts *opts,
		     struct resolution *res, char *err, size_t errlen);

void resolution_free(struct resolution *res);

#endif
