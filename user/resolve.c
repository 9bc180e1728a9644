// SPDX-License-Identifier: MIT
/*
 * Stage 2: flow-file handlers -> probe sites (binary, file offset, pid).
 *
 * Per bundle: its processes (exe: by inode, pid: list, comm:), narrowed by
 * -p. Per handler: the binaries it lives in (the executable, or the shared
 * library each process maps), the symbols matching it in each, and one site
 * per (symbol, process) -- or per symbol with pid -1 for an exe: bundle
 * without -p, so that processes started later are probed too. Every ELF
 * file is opened once, shared by all handlers and processes that use it.
 */
#include "resolve.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "procs.h"
#include "util.h"

#define MAX_CLOSEST 3

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

struct bundle_state {
	char *exe;		/* realpath of exe:, NULL if not given */
	dev_t dev;
	ino_t ino;
	int *pids;
	int n_pids;
	bool skip;		/* an error, or no process left after -p */
};

/* Identity of a site for the alias check: same file, offset and process. */
struct site_key {
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	int pid;
};

struct ctx {
	const struct flowfile *ff;
	const struct resolve_opts *opts;
	struct resolution *res;
	struct elf_file **elfs;	/* opened once each, by (dev, ino) */
	size_t n_elfs, elfs_cap;
	struct site_key *keys;	/* parallel to res->sites */
	size_t sites_cap, keys_cap, problems_cap;
	char *error;		/* the first error, when not collecting */
};

static void push_problem(struct ctx *c, char *msg)
{
	struct resolution *res = c->res;
	int i;

	for (i = 0; i < res->n_problems; i++) {
		if (strcmp(res->problems[i], msg) == 0) {
			free(msg);
			return;
		}
	}
	grow_array((void **)&res->problems, &c->problems_cap, (size_t)res->n_problems + 1,
		   sizeof(*res->problems));
	res->problems[res->n_problems++] = msg;
}

static char *vformat_at(struct ctx *c, const struct ff_loc *loc, const char *kind,
			const char *fmt, va_list ap)
{
	char *body, *msg;

	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	if (loc)
		msg = xasprintf("%s:%d:%d: %s%s", c->ff->path, loc->line, loc->col, kind,
				body ? body : "?");
	else	/* about the command line, not the file */
		msg = xasprintf("%s%s", kind, body ? body : "?");
	free(body);
	return msg;
}

/* An error: the first one stops resolution, unless opts.allow_missing.
 * Returns -1 to stop, 0 to go on. */
static int fail_at(struct ctx *c, const struct ff_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct ctx *c, const struct ff_loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat_at(c, loc, "", fmt, ap);
	va_end(ap);
	if (!c->opts->allow_missing) {
		if (!c->error)
			c->error = msg;
		else
			free(msg);
		return -1;
	}
	c->res->n_errors++;
	push_problem(c, msg);
	return 0;
}

static void note_at(struct ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note_at(struct ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	push_problem(c, vformat_at(c, loc, kind, fmt, ap));
	va_end(ap);
}

/* The ELF file at path, opened once per (dev, ino). NULL with err set. */
static struct elf_file *open_elf(struct ctx *c, const char *path, char *err, size_t errlen)
{
	struct elf_file *ef;
	struct stat st;
	size_t i;

	if (stat(path, &st) == 0) {
		for (i = 0; i < c->n_elfs; i++) {
			if (c->elfs[i]->dev == st.st_dev && c->elfs[i]->ino == st.st_ino)
				return c->elfs[i];
		}
	}
	ef = elf_file_open(path, err, errlen);
	if (!ef)
		return NULL;
	grow_array((void **)&c->elfs, &c->elfs_cap, c->n_elfs + 1, sizeof(*c->elfs));
	c->elfs[c->n_elfs++] = ef;
	return ef;
}

static bool pid_in(const int *pids, int n, int pid)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pids[i] == pid)
			return true;
	}
	return false;
}

static char *pid_list_str(const int *pids, int n)
{
	char *s = xstrdup(""), *t;
	int i;

	for (i = 0; i < n; i++) {
		t = xasprintf("%s%s%d", s, i ? "," : "", pids[i]);
		free(s);
		s = t;
	}
	return s;
}

/* A path from the flow file: relative ones are relative to its directory. */
static char *flowfile_relative(const struct flowfile *ff, const char *path)
{
	char *copy, *out;

	if (path[0] == '/')
		return xstrdup(path);
	copy = xstrdup(ff->path);
	out = xasprintf("%s/%s", dirname(copy), path);
	free(copy);
	return out;
}

static int select_processes(struct ctx *c, const struct ff_bundle *b, struct bundle_state *bs)
{
	int *pids = NULL, n = 0, i, out;
	size_t cap = 0;

	if (b->n_pids > 0) {
		for (i = 0; i < b->n_pids; i++) {
			int pid = b->pids[i];
			struct stat st;

			if (!proc_exists(pid)) {
				if (fail_at(c, &b->loc, "pid %d (bundle %s): no such process", pid,
					    b->name) < 0)
					goto stop;
				continue;
			}
			if (bs->exe && (proc_exe_stat(pid, &st) < 0 || st.st_dev != bs->dev ||
					st.st_ino != bs->ino)) {
				char *exe = proc_exe(pid);

				if (fail_at(c, &b->loc, "pid %d (bundle %s): runs %s, not exe %s", pid,
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
		if (c->opts->pids && !pid_in(c->opts->pids, c->opts->n_pids, pids[i]))
			continue;
		pids[out++] = pids[i];
	}
	bs->pids = pids;
	bs->n_pids = out;

	if (out == 0 && c->opts->pids) {
		char *p = pid_list_str(c->opts->pids, c->opts->n_pids);

		note_at(c, &b->loc, "warning: ",
			"bundle %s: none of its processes is among -p %s; its handlers are not attached",
			b->name, p);
		free(p);
		bs->skip = true;
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

static int resolve_bundle(struct ctx *c, int bi, struct bundle_state *bs)
{
	const struct ff_bundle *b = &c->ff->bundles[bi];
	struct resolved_bundle *rb = &c->res->bundles[bi];
	char err[512];

	if (b->exe) {
		char *path = flowfile_relative(c->ff, b->exe);
		char real[PATH_MAX];
		struct elf_file *ef;
		struct stat st;

		if (!realpath(path, real) || stat(real, &st) < 0) {
			int r = fail_at(c, &b->loc, "bundle %s: exe %s: %s", b->name, path,
					strerror(errno));

			free(path);
			bs->skip = true;
			return r;
		}
		free(path);
		ef = open_elf(c, real, err, sizeof(err));
		if (!ef) {
			bs->skip = true;
			return fail_at(c, &b->loc, "bundle %s: exe %s", b->name, err);
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
	if (bs->exe)
		rb->binary = xstrdup(bs->exe);
	else if (bs->n_pids > 0)
		rb->binary = proc_exe_from_ours(bs->pids[0]);
	return 0;
}

/* One place a handler's symbols are looked up: a binary, in one process or
 * (pid -1) in every process that maps it. */
struct target {
	char *binary;
	int pid;
};

static void add_target(struct target **t, int *n, size_t *cap, char *binary, int pid)
{
	grow_array((void **)t, cap, (size_t)*n + 1, sizeof(**t));
	(*t)[*n].binary = binary;
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

/*
 * A shared library of an executable found on disk, when no process of the
 * bundle runs to tell us through its maps: the executable's DT_RUNPATH (or
 * DT_RPATH), its own directory, then the standard directories.
 */
static char *find_library_on_disk(const struct elf_file *exe, const char *exe_path, const char *name)
{
	const char *paths = exe->runpath ? exe->runpath : exe->rpath;
	char *dir_copy = xstrdup(exe_path), *origin = dirname(dir_copy), *found = NULL;
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

static const char *probe_kind_name(enum ff_probe_kind k)
{
	switch (k) {
	case FF_PROBE_SYMBOL: return "symbol";
	case FF_PROBE_USDT: return "usdt";
	case FF_PROBE_PYTHON: return "python";
	case FF_PROBE_JAVA: return "java";
	default: return "this kind of";
	}
}

/* The binaries (and processes) a handler's symbol is looked up in. Returns
 * -1 to stop, else 0 with *n targets (possibly 0 after collected errors). */
static int handler_targets(struct ctx *c, int hi, const struct bundle_state *bs,
			   struct target **t, int *n)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct ff_bundle *b = &c->ff->bundles[h->bundle];
	size_t cap = 0;
	int i;

	*t = NULL;
	*n = 0;
	if (!h->library) {
		if (bs->exe && !c->opts->pids) {
			add_target(t, n, &cap, xstrdup(bs->exe), -1);
			return 0;
		}
		for (i = 0; i < bs->n_pids; i++) {
			char *bin = bs->exe ? xstrdup(bs->exe) : proc_exe_from_ours(bs->pids[i]);

			if (bin) /* NULL: the process has just exited */
				add_target(t, n, &cap, bin, bs->pids[i]);
		}
		return 0;
	}
	if (bs->n_pids == 0) {
		struct elf_file *exe;
		char err[512], *lib;

		if (!bs->exe)
			return 0;

		exe = open_elf(c, bs->exe, err, sizeof(err));
		lib = exe ? find_library_on_disk(exe, bs->exe, h->library) : NULL;
		if (!lib)
			return fail_at(c, &h->loc,
				       "%s: library %s not found: no process of bundle %s is running, "
				       "and it is not in the RUNPATH of %s, its directory or the "
				       "standard library directories",
				       h->id, h->library, b->name, bs->exe);
		note_at(c, &h->loc, "note: ",
			"%s: no process of bundle %s is running: %s is probed in every process "
			"that uses it", h->id, b->name, lib);
		add_target(t, n, &cap, lib, -1);
		return 0;
	}
	for (i = 0; i < bs->n_pids; i++) {
		int pid = bs->pids[i];
		char *lib = proc_find_library(pid, h->library);

		if (!lib) {
			char *exe;

			if (!proc_exists(pid))
				continue;
			exe = proc_exe(pid);
			if (fail_at(c, &h->loc, "%s: library %s is not mapped by pid %d (%s)", h->id,
				    h->library, pid, exe ? exe : "?") < 0) {
				free(exe);
				return -1;
			}
			free(exe);
			continue;
		}
		add_target(t, n, &cap, proc_path_from_ours(pid, lib), pid);
		free(lib);
	}
	return 0;
}

static void add_site(struct ctx *c, int hi, const struct target *t, const struct elf_file *ef,
		     const struct elf_sym *sym)
{
	struct resolution *res = c->res;
	const struct ff_handler *h = &c->ff->handlers[hi];
	struct probe_site *s;
	size_t i;

	for (i = 0; i < res->n_sites; i++) {
		const struct site_key *k = &c->keys[i];
		const struct probe_site *o = &res->sites[i];

		if (k->dev != ef->dev || k->ino != ef->ino || k->offset != sym->offset ||
		    k->pid != t->pid)
			continue;
		if (strcmp(o->symbol, sym->name) == 0 && o->handler == hi)
			return; /* the same symbol again (a glob matching both spellings) */
		if (o->handler == hi)
			note_at(c, &h->loc, "note: ",
				"%s: symbol '%s' is an alias of '%s' in %s: attached once", h->id,
				sym->name, o->symbol, t->binary);
		else
			note_at(c, &h->loc, "note: ",
				"%s: symbol '%s' is at the same address as '%s' of %s in %s: "
				"attached once, counted as %s", h->id, sym->name, o->symbol,
				c->ff->handlers[o->handler].id, t->binary,
				c->ff->handlers[o->handler].id);
		return;
	}
	if (sym->ifunc)
		note_at(c, &h->loc, "warning: ",
			"%s: '%s' in %s is an IFUNC: the probe sits on its resolver, which runs "
			"once at load, not on the implementation it picks", h->id, sym->name,
			t->binary);
	grow_array((void **)&res->sites, &c->sites_cap, res->n_sites + 1, sizeof(*res->sites));
	grow_array((void **)&c->keys, &c->keys_cap, res->n_sites + 1, sizeof(*c->keys));
	c->keys[res->n_sites] = (struct site_key){ ef->dev, ef->ino, sym->offset, t->pid };
	s = &res->sites[res->n_sites++];
	s->handler = hi;
	s->pid = t->pid;
	s->binary = xstrdup(t->binary);
	s->symbol = xstrdup(sym->name);
	s->demangled = sym->demangled ? xstrdup(sym->demangled) : NULL;
	s->offset = sym->offset;
	s->ref_ctr_offset = 0;
	s->cls = elf_site_class(ef, sym->offset);
}

static int report_missing(struct ctx *c, const struct ff_handler *h, const struct target *t,
			  const struct elf_file *ef, bool glob)
{
	const char *closest[MAX_CLOSEST];
	char pid[32] = "", *hint = xstrdup(""), *tmp;
	int n = 0, i, r;

	if (t->pid > 0)
		snprintf(pid, sizeof(pid), " (pid %d)", t->pid);
	if (ef->stripped) {
		tmp = xasprintf("%s, which is stripped: only .dynsym was searched", hint);
		free(hint);
		hint = tmp;
	}
	if (!glob)
		n = elf_closest_names(ef, h->symbol, closest, MAX_CLOSEST);
	for (i = 0; i < n; i++) {
		tmp = xasprintf("%s%s%s", hint, i ? ", " : "; closest: ", closest[i]);
		free(hint);
		hint = tmp;
	}
	if (glob)
		r = fail_at(c, &h->loc, "%s: no symbol matches '%s' in %s%s%s", h->id, h->symbol,
			    t->binary, pid, hint);
	else
		r = fail_at(c, &h->loc, "%s: symbol '%s' not found in %s%s%s", h->id, h->symbol,
			    t->binary, pid, hint);
	free(hint);
	return r;
}

static int resolve_handler(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct elf_file **failed = NULL;
	struct target *t = NULL;
	int n_t = 0, n_failed = 0, i, r = 0;
	bool glob;

	if (h->kind != FF_PROBE_SYMBOL)
		return fail_at(c, &h->loc, "%s: %s handlers are not supported yet", h->id,
			       probe_kind_name(h->kind));
	if (!h->symbol || !*h->symbol)
		return fail_at(c, &h->loc, "%s: no symbol given", h->id);
	glob = h->is_glob || strpbrk(h->symbol, "*?[") != NULL;
	if (handler_targets(c, hi, bs, &t, &n_t) < 0)
		return -1;
	failed = xcalloc((size_t)n_t + 1, sizeof(*failed));
	for (i = 0; i < n_t; i++) {
		const struct elf_sym **syms = NULL;
		struct elf_file *ef;
		char err[512];
		size_t n, k;
		int j;
		bool seen = false;

		ef = open_elf(c, t[i].binary, err, sizeof(err));
		if (!ef) {
			char pid[32] = "";

			if (t[i].pid > 0)
				snprintf(pid, sizeof(pid), " (pid %d)", t[i].pid);
			if ((r = fail_at(c, &h->loc, "%s: %s%s", h->id, err, pid)) < 0)
				break;
			continue;
		}
		n = glob ? elf_glob_symbols(ef, h->symbol, &syms) : elf_find_symbols(ef, h->symbol, &syms);
		if (n == 0) {
			/* One message per binary, not per process running it. */
			for (j = 0; j < n_failed; j++)
				seen |= failed[j] == ef;
			if (!seen) {
				failed[n_failed++] = ef;
				if ((r = report_missing(c, h, &t[i], ef, glob)) < 0)
					break;
			}
			continue;
		}
		for (k = 0; k < n; k++) {
			if (syms[k]->offset == 0) {
				note_at(c, &h->loc, "warning: ",
					"%s: symbol '%s' in %s is outside every loaded segment: skipped",
					h->id, syms[k]->name, t[i].binary);
				continue;
			}
			add_site(c, hi, &t[i], ef, syms[k]);
		}
		free(syms);
	}
	for (i = 0; i < n_t; i++)
		free(t[i].binary);
	free(t);
	free(failed);
	return r;
}

int resolve_flowfile(const struct flowfile *ff, const struct resolve_opts *opts,
		     struct resolution *res, char *err, size_t errlen)
{
	static const struct resolve_opts no_opts;
	struct bundle_state *bs = NULL;
	struct ctx c = { .ff = ff, .opts = opts ? opts : &no_opts, .res = res };
	int i, used = 0, ret = -1;

	memset(res, 0, sizeof(*res));
	if (err && errlen)
		err[0] = '\0';
	res->n_bundles = ff->n_bundles;
	res->bundles = xcalloc((size_t)ff->n_bundles + 1, sizeof(*res->bundles));
	bs = xcalloc((size_t)ff->n_bundles + 1, sizeof(*bs));

	for (i = 0; c.opts->pids && i < c.opts->n_pids; i++) {
		if (!proc_exists(c.opts->pids[i]) &&
		    fail_at(&c, NULL, "-p %d: no such process", c.opts->pids[i]) < 0)
			goto cleanup;
	}
	for (i = 0; i < ff->n_bundles; i++) {
		if (resolve_bundle(&c, i, &bs[i]) < 0)
			goto cleanup;
		used += !bs[i].skip;
	}
	if (c.opts->pids && used == 0 && res->n_errors == 0) {
		char *p = pid_list_str(c.opts->pids, c.opts->n_pids);
		int r = fail_at(&c, NULL, "-p %s: none of these processes belongs to a bundle of %s",
				p, ff->path);

		free(p);
		if (r < 0)
			goto cleanup;
	}
	for (i = 0; i < ff->n_handlers; i++) {
		const struct ff_handler *h = &ff->handlers[i];

		if (h->bundle < 0 || h->bundle >= ff->n_bundles || bs[h->bundle].skip)
			continue;
		if (resolve_handler(&c, i, &bs[h->bundle]) < 0)
			goto cleanup;
	}
	ret = 0;

cleanup:
	if (ret < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", c.error ? c.error : "resolution failed");
		resolution_free(res);
	}
	free(c.error);
	for (i = 0; i < ff->n_bundles; i++) {
		free(bs[i].exe);
		free(bs[i].pids);
	}
	free(bs);
	for (size_t k = 0; k < c.n_elfs; k++)
		elf_file_close(c.elfs[k]);
	free(c.elfs);
	free(c.keys);
	return ret;
}

void resolution_free(struct resolution *res)
{
	size_t i;
	int j;

	if (!res)
		return;
	for (i = 0; i < res->n_sites; i++) {
		free(res->sites[i].binary);
		free(res->sites[i].symbol);
		free(res->sites[i].demangled);
	}
	free(res->sites);
	for (j = 0; j < res->n_bundles; j++) {
		free(res->bundles[j].pids);
		free(res->bundles[j].binary);
	}
	free(res->bundles);
	for (j = 0; j < res->n_problems; j++)
		free(res->problems[j]);
	free(res->problems);
	memset(res, 0, sizeof(*res));
}
