// SPDX-License-Identifier: MIT
/*
 * Where a bundle's handlers are looked up. A bundle's processes: exe:
 * (every process running that file, by device and inode, so a symlink or
 * another path to it finds the same ones), pid: (checked to exist and to
 * run exe: when both are given), comm:, narrowed by comm: and by -p. A
 * handler's binaries: the executable, or the library each process maps;
 * with no process running, the library is found on disk the way the
 * dynamic linker would (RUNPATH/RPATH, the executable's directory, the
 * standard directories), and a JVM's libjvm.so next to bin/java.
 */
#include "resolve_int.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "elf_symbols.h"
#include "procs.h"

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#define MULTIARCH ""
#endif

/* Where the dynamic linker looks when nothing else says (after the
 * executable's RUNPATH/RPATH and its own directory). */
static const char *const standard_lib_dirs[] = {
	"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64",
	"/lib", "/usr/lib", "/usr/local/lib",
};

static bool pid_in(const int *pids, int n, int pid)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pids[i] == pid)
			return true;
	}
	return false;
}

/* Processes of a bundle that -p left out, named in a note: a server's
 * master process given alone (nginx, PostgreSQL, gunicorn) has its workers,
 * which handle the requests, left out, and the recording counts nothing. */
#define MAX_LEFT_OUT 8

static void note_left_out(struct resolve_ctx *c, const struct ff_bundle *b, const int *pids,
			  int n)
{
	char list[128] = "";
	size_t len = 0;

	for (int i = 0; i < n && i < MAX_LEFT_OUT && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", i ? ", " : "",
					pids[i]);
	note_at(c, &b->loc, "note: ",
		"bundle %s: -p leaves out %d other process%s that run%s it (pid %s%s); "
		"their calls are not recorded: name them in -p too, or leave -p out",
		b->name, n, n == 1 ? "" : "es", n == 1 ? "s" : "", list,
		n > MAX_LEFT_OUT ? ", ..." : "");
}

static int select_processes(struct resolve_ctx *c, const struct ff_bundle *b,
			    struct bundle_state *bs)
{
	int *pids = NULL, n = 0, i, out, left_out[MAX_LEFT_OUT], n_left_out = 0;
	size_t cap = 0;

	if (b->n_pids > 0) {
		for (i = 0; i < b->n_pids; i++) {
			int pid = b->pids[i];
			struct stat st;

			if (!proc_exists(pid)) {
				if (fail_at(c, b->pid_loc.line ? &b->pid_loc : &b->loc,
					    "pid %d (bundle %s): no such process", pid, b->name) < 0)
					goto stop;
				continue;
			}
			if (bs->exe && (proc_exe_stat(pid, &st) < 0 || st.st_dev != bs->dev ||
					st.st_ino != bs->ino)) {
				char *exe = proc_exe(pid);

				if (fail_at(c, b->pid_loc.line ? &b->pid_loc : &b->loc,
					    "pid %d (bundle %s): runs %s, not exe %s", pid,
					    b->name, exe ? exe : "(unknown)", bs->exe) < 0) {
					free(exe);
					goto stop;
				}
				free(exe);
				continue;
			}
			grow_array((void **)&pids, &cap, (size_t)n + 1, sizeof(*pids));
			pids[n++] = pid;
		}
	} else if (bs->exe) {
		n = procs_by_file(bs->dev, bs->ino, &pids);
	} else if (b->comm) {
		n = procs_by_comm(b->comm, &pids);
	} else {
		if (fail_at(c, &b->loc, "bundle %s: no exe:, pid: or comm: selects its processes",
			    b->name) < 0)
			goto stop;
		bs->skip = true;
		return 0;
	}

	/* comm: together with exe: or pid: narrows them; -p narrows everything. */
	for (i = 0, out = 0; i < n; i++) {
		char comm[64];

		if (b->comm && (b->n_pids > 0 || bs->exe) &&
		    (proc_comm(pids[i], comm, sizeof(comm)) < 0 || strncmp(comm, b->comm, 15) != 0))
			continue;
		if (c->opts->pids && !pid_in(c->opts->pids, c->opts->n_pids, pids[i])) {
			if (n_left_out < MAX_LEFT_OUT)
				left_out[n_left_out] = pids[i];
			n_left_out++;
			continue;
		}
		pids[out++] = pids[i];
	}
	bs->pids = pids;
	bs->n_pids = out;
	if (out > 0 && n_left_out)
		note_left_out(c, b, left_out, n_left_out);

	if (out == 0 && c->opts->pids) {
		char *p = pid_list_str(c->opts->pids, c->opts->n_pids);

		note_at(c, &b->loc, "warning: ",
			"bundle %s: none of its processes is among -p %s; its handlers are not attached",
			b->name, p);
		free(p);
		bs->skip = bs->excluded = true;
	} else if (out == 0 && !bs->exe) {
		if (b->n_pids == 0 &&
		    fail_at(c, &b->loc, "bundle %s: no running process has comm '%s'", b->name,
			    b->comm) < 0)
			return -1;
		bs->skip = true;
	}
	return 0;

stop:
	free(pids);
	return -1;
}

int resolve_bundle(struct resolve_ctx *c, int bi, struct bundle_state *bs)
{
	const struct ff_bundle *b = &c->ff->bundles[bi];
	struct resolved_bundle *rb = &c->res->bundles[bi];
	char err[512];

	if (b->exe) {
		/* exe:'s value where the parser saw it (a flow file built in
		 * code has the bundle's place only) */
		const struct ff_loc *exe_at = b->exe_loc.line ? &b->exe_loc : &b->loc;
		char *path = flowfile_path_relative(c->ff, b->exe);
		char real[PATH_MAX];
		struct elf_file *ef;
		struct stat st;

		if (!realpath(path, real) || stat(real, &st) < 0) {
			int r = fail_at(c, exe_at, "bundle %s: exe %s: %s", b->name, path,
					strerror(errno));

			free(path);
			bs->skip = true;
			return r;
		}
		free(path);
		ef = open_elf(c, real, err, sizeof(err));
		if (!ef) {
			bs->skip = true;
			return fail_at(c, exe_at, "bundle %s: exe %s", b->name, err);
		}
		bs->exe = xstrdup(real);
		bs->dev = st.st_dev;
		bs->ino = st.st_ino;
	}
	if (select_processes(c, b, bs) < 0)
		return -1;
	if (bs->n_pids > 0) {
		rb->pids = xmalloc((size_t)bs->n_pids * sizeof(*rb->pids));
		memcpy(rb->pids, bs->pids, (size_t)bs->n_pids * sizeof(*rb->pids));
		rb->n_pids = bs->n_pids;
	}
	rb->excluded = bs->excluded;
	if (bs->exe)
		rb->binary = xstrdup(bs->exe);
	else if (bs->n_pids > 0)
		rb->binary = proc_exe_from_ours(bs->pids[0]);
	return 0;
}

static void add_target(struct target **t, int *n, size_t *cap, char *binary, char *open, int pid)
{
	grow_array((void **)t, cap, (size_t)*n + 1, sizeof(**t));
	(*t)[*n].binary = binary;
	(*t)[*n].open = open;
	(*t)[(*n)++].pid = pid;
}

static char *find_in_dir(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *found = NULL;
	struct dirent *de;
	DIR *d;

	if (access(path, R_OK) == 0)
		return path;
	free(path);
	d = opendir(dir);
	if (!d)
		return NULL;
	while (!found && (de = readdir(d)) != NULL) {
		if (library_name_matches(de->d_name, name))
			found = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	return found;
}

/* Replaces $ORIGIN / ${ORIGIN} in a RUNPATH entry. */
static char *expand_origin(const char *entry, const char *origin)
{
	const char *p = strstr(entry, "$ORIGIN"), *q = strstr(entry, "${ORIGIN}");
	char *out;

	if (q && (!p || q < p))
		out = xasprintf("%.*s%s%s", (int)(q - entry), entry, origin, q + 9);
	else if (p)
		out = xasprintf("%.*s%s%s", (int)(p - entry), entry, origin, p + 7);
	else
		return xstrdup(entry);
	return out;
}

char *find_library_on_disk(const struct elf_file *needer, const char *needer_path,
			   const char *name)
{
	const char *paths = needer->runpath ? needer->runpath : needer->rpath;
	char *dir_copy = xstrdup(needer_path), *origin = dirname(dir_copy), *found = NULL;
	size_t i;

	if (strchr(name, '/')) {
		found = access(name, R_OK) == 0 ? xstrdup(name) : NULL;
		goto out;
	}
	if (paths) {
		char *list = xstrdup(paths), *save = NULL, *entry;

		for (entry = strtok_r(list, ":", &save); entry && !found;
		     entry = strtok_r(NULL, ":", &save)) {
			char *dir = expand_origin(entry, origin);

			found = find_in_dir(dir, name);
			free(dir);
		}
		free(list);
	}
	if (!found)
		found = find_in_dir(origin, name);
	for (i = 0; !found && i < ARRAY_SIZE(standard_lib_dirs); i++)
		found = find_in_dir(standard_lib_dirs[i], name);
out:
	free(dir_copy);
	return found;
}

/* A JDK's libjvm.so sits in lib/server/ (or lib/client/) next to bin/java;
 * java's RUNPATH does not name it (the launcher dlopens it). */
static char *find_libjvm_on_disk(const char *java)
{
	static const char *const rel[] = { "../lib/server/libjvm.so", "../lib/client/libjvm.so",
					   "../jre/lib/amd64/server/libjvm.so" };
	char *copy = xstrdup(java), *dir = dirname(copy), *found = NULL;

	for (size_t i = 0; !found && i < ARRAY_SIZE(rel); i++) {
		char *path = xasprintf("%s/%s", dir, rel[i]), real[PATH_MAX];

		if (realpath(path, real) && access(real, R_OK) == 0)
			found = xstrdup(real);
		free(path);
	}
	free(copy);
	return found;
}

/* The binaries (and processes) a handler's symbol is looked up in. Returns
 * -1 to stop, else 0 with *n targets (possibly 0 after collected errors). */
int handler_targets(struct resolve_ctx *c, int hi, const struct bundle_state *bs,
		    const char *library, struct target **t, int *n)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct ff_bundle *b = &c->ff->bundles[h->bundle];
	size_t cap = 0;
	int i;

	*t = NULL;
	*n = 0;
	if (!library) {
		if (bs->exe && !c->opts->pids) {
			add_target(t, n, &cap, xstrdup(bs->exe), NULL, -1);
			return 0;
		}
		for (i = 0; i < bs->n_pids; i++) {
			char *bin = bs->exe ? xstrdup(bs->exe) : proc_exe_from_ours(bs->pids[i]);
			char *open = proc_exe_handle(bs->pids[i]);

			if (bin && open) /* NULL: the process has just exited */
				add_target(t, n, &cap, bin, open, bs->pids[i]);
			else {
				free(bin);
				free(open);
			}
		}
		return 0;
	}
	if (bs->n_pids == 0) {
		struct elf_file *exe;
		char err[512], *lib;

		if (!bs->exe)
			return 0;

		exe = open_elf(c, bs->exe, err, sizeof(err));
		lib = exe ? find_library_on_disk(exe, bs->exe, library) : NULL;
		if (!lib && h->kind == FF_PROBE_JAVA)
			lib = find_libjvm_on_disk(bs->exe);
		if (!lib)
			return fail_at(c, &h->loc,
				       "%s: library %s not found: no process of bundle %s is running, "
				       "and it is not in the RUNPATH of %s, its directory or the "
				       "standard library directories",
				       h->id, library, b->name, bs->exe);
		note_at(c, &h->loc, "note: ",
			"%s: no process of bundle %s is running: %s is probed in every process "
			"that uses it", h->id, b->name, lib);
		add_target(t, n, &cap, lib, NULL, -1);
		return 0;
	}
	for (i = 0; i < bs->n_pids; i++) {
		int pid = bs->pids[i];
		char *lib = proc_find_library(pid, library);

		if (!lib) {
			char *exe;

			if (!proc_exists(pid))
				continue;
			exe = proc_exe(pid);
			if (fail_at(c, &h->loc, "%s: library %s is not mapped by pid %d (%s)", h->id,
				    library, pid, exe ? exe : "?") < 0) {
				free(exe);
				return -1;
			}
			free(exe);
			continue;
		}
		add_target(t, n, &cap, proc_path_from_ours(pid, lib), proc_mapping_handle(pid, lib), pid);
		free(lib);
	}
	return 0;
}

void free_targets(struct target *t, int n)
{
	for (int i = 0; i < n; i++) {
		free(t[i].binary);
		free(t[i].open);
	}
	free(t);
}
