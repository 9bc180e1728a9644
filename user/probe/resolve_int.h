/* SPDX-License-Identifier: MIT */
/*
 * Private to the resolution of handlers (resolve*.c): the state one
 * resolve_flowfile() call shares between its parts. Outside user/probe/,
 * include probe/probe.h only.
 *
 *   resolve.c            resolve_flowfile(): bundles, then each handler by
 *                        kind, then unwinding; the ELF files it opened
 *   resolve_bundles.c    each bundle's processes and executable; the
 *                        binaries (executable or library) a handler lives in
 *   resolve_functions.c  symbol handlers: ELF symbols and their exits
 *   resolve_runtimes.c   usdt:, python: and java: handlers (USDT notes)
 *   resolve_unwinding.c  which function sites something may unwind through
 *   resolve_problems.c   errors, warnings and notes, at a flow-file position
 */
#ifndef FLOWPROF_RESOLVE_INT_H
#define FLOWPROF_RESOLVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exit_sites.h"
#include "resolve.h"

/* Closest names offered for a symbol or USDT probe that is not found. */
#define MAX_CLOSEST 3

struct elf_file;

struct bundle_state {
	char *exe;		/* realpath of exe:, NULL if not given */
	dev_t dev;
	ino_t ino;
	int *pids;
	int n_pids;
	bool skip;		/* an error, or no process left after -p */
	bool excluded;		/* no process left after -p (skip too) */
};

/* Identity of a site for the alias check: same file, offset and process. */
struct site_key {
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	int pid;
};

struct resolve_ctx {
	const struct flowfile *ff;
	const struct resolve_opts *opts;
	struct resolution *res;
	struct elf_file **elfs;	/* opened once each, by (dev, ino) */
	size_t n_elfs, elfs_cap;
	struct site_key *keys;	/* parallel to res->sites */
	struct decoded {	/* functions decoded (decode_exits) */
		dev_t dev;
		ino_t ino;
		uint64_t offset;
		bool ok;
		struct function_code fc;
	} *decoded;
	size_t n_decoded, decoded_cap;
	size_t sites_cap, keys_cap, problems_cap, kinds_cap;
	char *error;		/* the first error, when not collecting */
};

/* One place a handler's symbols are looked up: a binary, in one process or
 * (pid -1) in every process that maps it. */
struct target {
	char *binary;	/* the path, as messages and the snapshot name it */
	char *open;	/* what to open and attach to: the file the process maps
			   (procs.h, proc_exe_handle), or NULL: binary */
	int pid;
};

/* What a target's file is opened and attached as. */
static inline const char *target_path(const struct target *t)
{
	return t->open ? t->open : t->binary;
}

/* ------------------------------------------------------------ resolve.c */

/* The ELF file at path, opened once per (dev, ino). NULL with err set. */
struct elf_file *open_elf(struct resolve_ctx *c, const char *path, char *err, size_t errlen);
/* The same, naming the file display in later messages. */
struct elf_file *open_elf_as(struct resolve_ctx *c, const char *path, const char *display,
			     char *err, size_t errlen);
struct elf_file *open_target(struct resolve_ctx *c, const struct target *t, char *err,
			     size_t errlen);

/* ---------------------------------------------------- resolve_bundles.c */

/* The bundle's executable and processes into c->res->bundles[bi] and *bs
 * (bs->skip: leave its handlers out). -1 to stop. */
int resolve_bundle(struct resolve_ctx *c, int bi, struct bundle_state *bs);

/* The binaries (and processes) a handler's symbol is looked up in: the
 * bundle's executable, or library (a name or path) as each process maps it
 * or, with no process running, as found on disk. Returns -1 to stop, else 0
 * with *n targets (possibly 0 after collected errors); free_targets()
 * frees them. */
int handler_targets(struct resolve_ctx *c, int hi, const struct bundle_state *bs,
		    const char *library, struct target **t, int *n);

void free_targets(struct target *t, int n);

/* A shared library that needer (an executable or a library, opened from
 * needer_path) names, found on disk as the dynamic linker would without a
 * process to ask: needer's DT_RUNPATH (or DT_RPATH, $ORIGIN expanded), its
 * own directory, then the standard directories. NULL: not found. */
char *find_library_on_disk(const struct elf_file *needer, const char *needer_path,
			   const char *name);

/* --------------------------------------------------- resolve_functions.c */

/* A symbol handler: an ELF symbol (exact, glob, C++ demangled) in the
 * executable or a library. 0, or -1 to stop. */
int resolve_function(struct resolve_ctx *c, int hi, const struct bundle_state *bs);

/* ---------------------------------------------------- resolve_runtimes.c */

/* usdt: provider:name with return: provider:name. 0, or -1 to stop. */
int resolve_usdt(struct resolve_ctx *c, int hi, const struct bundle_state *bs);

/* python: "file-glob:function", through CPython's USDT probes. */
int resolve_python(struct resolve_ctx *c, int hi, const struct bundle_state *bs);

/* java: "package.Class::method", through HotSpot's USDT probes. */
int resolve_java(struct resolve_ctx *c, int hi, const struct bundle_state *bs);

/* --------------------------------------------------- resolve_unwinding.c */

/* Sets probe_site.unwinds on every function site. */
void resolve_unwinding(struct resolve_ctx *c);

/* ---------------------------------------------------- resolve_problems.c */

/* An error at loc (NULL: about the command line): the first one stops
 * resolution, unless opts.allow_missing. Returns -1 to stop, 0 to go on. */
int fail_at(struct resolve_ctx *c, const struct ff_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A problem that does not stop resolution; kind is "warning: " or "note: ". */
void note_at(struct resolve_ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/* "1,2,3" (caller frees). */
char *pid_list_str(const int *pids, int n);

/* "10062 runs /usr/bin/python3 as demo-pricing, 10071 is kworker/0:1"
 * (what each process is: its executable and comm, or comm alone). */
char *pid_list_described(const int *pids, int n);

/* " (pid N)" for a target in one process, "" for every process; in buf. */
const char *pid_suffix(const struct target *t, char *buf, size_t len);

#endif
