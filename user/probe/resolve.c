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
#include "exit_sites.h"

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

#include "base/base.h"
#include "elf_symbols.h"
#include "procs.h"
#include "usdt.h"

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

static void push_problem(struct ctx *c, char *msg, enum problem_kind kind)
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
	grow_array((void **)&res->problem_kinds, &c->kinds_cap, (size_t)res->n_problems + 1,
		   sizeof(*res->problem_kinds));
	res->problem_kinds[res->n_problems] = kind;
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
	push_problem(c, msg, PROBLEM_ERROR);
	return 0;
}

static void note_at(struct ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void note_at(struct ctx *c, const struct ff_loc *loc, const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	push_problem(c, vformat_at(c, loc, kind, fmt, ap),
		     strcmp(kind, "note: ") ? PROBLEM_WARNING : PROBLEM_NOTE);
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
		add_target(t, n, &cap, lib, -1);
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
		add_target(t, n, &cap, proc_path_from_ours(pid, lib), pid);
		free(lib);
	}
	return 0;
}

/*
 * The function's first instruction and its exits (user/exit_sites.c),
 * decoded once per (file, symbol) however many processes run it.
 */
static void decode_exits(struct ctx *c, struct probe_site *s, const struct elf_file *ef,
			 const struct elf_sym *sym)
{
	struct decoded *d = NULL;

	for (size_t i = 0; i < c->n_decoded; i++)
		if (c->decoded[i].dev == ef->dev && c->decoded[i].ino == ef->ino &&
		    c->decoded[i].offset == sym->offset)
			d = &c->decoded[i];
	if (!d) {
		grow_array((void **)&c->decoded, &c->decoded_cap, c->n_decoded + 1,
			   sizeof(*c->decoded));
		d = &c->decoded[c->n_decoded++];
		d->dev = ef->dev;
		d->ino = ef->ino;
		d->offset = sym->offset;
		d->ok = function_code_decode(ef, sym, &d->fc) == 0;
	}
	s->entry_slot = d->fc.entry_slot ? d->fc.entry_slot : SLOT_ENTRY_STEP;
	s->alt_entry_offset = d->fc.alt_entry_offset;
	s->alt_entry_skip = d->fc.alt_entry_skip;
	s->alt_entry_slot = d->fc.alt_entry_slot;
	s->go = ef->go;
	if (!d->ok)
		s->exits_unknown = xstrdup(d->fc.reason[0] ? d->fc.reason : "its code could not be decoded");
	s->n_exits = d->fc.n_exits;
	s->exits = xmemdup(d->fc.exits, d->fc.n_exits * sizeof(*d->fc.exits));
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
	decode_exits(c, s, ef, sym);
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
	n = glob ? elf_closest_to_glob(ef, h->symbol, closest, MAX_CLOSEST)
		 : elf_closest_names(ef, h->symbol, closest, MAX_CLOSEST);
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

/* ------------------------------------------------------ runtime probes */

const char *probe_site_kind_name(enum probe_site_kind k)
{
	switch (k) {
	case PROBE_FUNCTION: return "function";
	case PROBE_USDT_ENTRY: return "usdt entry";
	case PROBE_USDT_RETURN: return "usdt return";
	case PROBE_PYTHON_ENTRY: return "python entry";
	case PROBE_PYTHON_RETURN: return "python return";
	case PROBE_PYTHON_LINE_GATE: return "python line semaphore";
	case PROBE_JAVA_ENTRY: return "java entry";
	case PROBE_JAVA_RETURN: return "java return";
	default: return "?";
	}
}

static char *dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static const char *pid_suffix(const struct target *t, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->pid > 0)
		snprintf(buf, len, " (pid %d)", t->pid);
	return buf;
}

/* A USDT probe point of a handler. Not subject to the alias check of
 * functions: a Python or Java probe point is shared by every handler of the
 * bundle on purpose (user/attach/attach_usdt.c attaches it once). */
static void add_usdt_site(struct ctx *c, int hi, const struct target *t, const struct elf_file *ef,
			  const struct usdt_note *note, enum probe_site_kind kind)
{
	struct resolution *res = c->res;
	struct probe_site *s;

	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *o = &res->sites[i];

		if (o->handler == hi && o->kind == kind && o->offset == note->offset &&
		    o->pid == t->pid && !strcmp(o->binary, t->binary))
			return; /* the same process reached twice (a bundle listing it twice) */
	}
	grow_array((void **)&res->sites, &c->sites_cap, res->n_sites + 1, sizeof(*res->sites));
	grow_array((void **)&c->keys, &c->keys_cap, res->n_sites + 1, sizeof(*c->keys));
	/* offset 0 never matches a function site's key */
	c->keys[res->n_sites] = (struct site_key){ ef->dev, ef->ino, 0, t->pid };
	s = &res->sites[res->n_sites++];
	s->kind = kind;
	s->handler = hi;
	s->pid = t->pid;
	s->binary = xstrdup(t->binary);
	s->symbol = xasprintf("%s:%s", note->provider, note->name);
	s->demangled = NULL;
	s->offset = note->offset;
	s->ref_ctr_offset = note->sema ? note->sema_offset : 0;
	s->usdt_args = xstrdup(note->args);
	s->cls = elf_site_class(ef, note->offset);
}

/* "provider:name" -> its two halves (xmalloc'ed). */
static void split_probe(const char *probe, char **provider, char **name)
{
	const char *colon = strchr(probe, ':');

	*provider = colon ? dup_n(probe, (size_t)(colon - probe)) : xstrdup(probe);
	*name = xstrdup(colon ? colon + 1 : "");
}

/* The probes of ef closest to "provider:name", as "; closest: a:b, c:d", or
 * "; it has no USDT probes" (xmalloc'ed). */
static char *usdt_hint(struct elf_file *ef, const char *probe)
{
	const struct usdt_note *notes;
	size_t limit = strlen(probe) / 3, best_d[MAX_CLOSEST];
	char *best[MAX_CLOSEST] = { 0 }, *hint;
	int n = usdt_notes(ef, &notes, NULL, 0), k = 0;

	if (n <= 0)
		return xstrdup("; it has no USDT probes (no .note.stapsdt section)");
	if (limit < 2)
		limit = 2;
	for (int i = 0; i < n; i++) {
		char *full = xasprintf("%s:%s", notes[i].provider, notes[i].name);
		size_t d = edit_distance(probe, full);
		bool dup = false;
		int j;

		for (j = 0; j < k; j++)
			dup |= !strcmp(best[j], full);
		if (d > limit || dup) {
			free(full);
			continue;
		}
		for (j = k; j > 0 && (best_d[j - 1] > d ||
				      (best_d[j - 1] == d && strcmp(best[j - 1], full) > 0)); j--) {
			if (j < MAX_CLOSEST) {
				best[j] = best[j - 1];
				best_d[j] = best_d[j - 1];
			} else {
				free(best[j - 1]);
			}
		}
		if (j < MAX_CLOSEST) {
			best[j] = full;
			best_d[j] = d;
			if (k < MAX_CLOSEST)
				k++;
		} else {
			free(full);
		}
	}
	hint = xasprintf("; it has %d USDT probe%s", n, n == 1 ? "" : "s");
	for (int j = 0; j < k; j++) {
		char *tmp = xasprintf("%s%s%s", hint, j ? ", " : ", closest: ", best[j]);

		free(hint);
		free(best[j]);
		hint = tmp;
	}
	return hint;
}

/* The notes of one probe in ef as sites of kind; 0, or -1 to stop. *found
 * tells whether any note matched. */
static int add_probe_sites(struct ctx *c, int hi, const struct target *t, struct elf_file *ef,
			   const char *probe, enum probe_site_kind kind, int min_args,
			   bool *found)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct usdt_note **notes = NULL;
	char *provider, *name, err[512], pid[32];
	int n, i, r = 0;

	split_probe(probe, &provider, &name);
	n = usdt_find(ef, provider, name, NULL, 0);
	*found = n > 0;
	if (n > 0) {
		notes = xcalloc((size_t)n, sizeof(*notes));
		usdt_find(ef, provider, name, notes, n);
	}
	for (i = 0; i < n && r == 0; i++) {
		struct rt_arg args[USDT_MAX_ARGS];
		int na;

		if (!notes[i]->offset) {
			note_at(c, &h->loc, "warning: ",
				"%s: USDT probe %s at 0x%llx in %s is outside every loaded segment: "
				"skipped", h->id, probe, (unsigned long long)notes[i]->pc, t->binary);
			continue;
		}
		if (min_args) {
			na = usdt_parse_args(notes[i]->args, args, USDT_MAX_ARGS, err, sizeof(err));
			if (na < 0 || na < min_args) {
				if (na >= 0)
					snprintf(err, sizeof(err), "%d arguments ('%s'), expected %d or more",
						 na, notes[i]->args, min_args);
				r = fail_at(c, &h->loc, "%s: USDT probe %s in %s%s: %s", h->id, probe,
					    t->binary, pid_suffix(t, pid, sizeof(pid)), err);
				break;
			}
		}
		add_usdt_site(c, hi, t, ef, notes[i], kind);
	}
	free(notes);
	free(provider);
	free(name);
	return r;
}

/* usdt: provider:name with return: provider:name. */
static int resolve_usdt(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	struct target *t = NULL;
	int n_t = 0, i, r = 0;

	if (!h->usdt || !h->usdt_return)
		return fail_at(c, &h->loc, "%s: usdt needs both the entry and the return probe", h->id);
	if (!strcmp(h->usdt, h->usdt_return))
		return fail_at(c, &h->loc, "%s: usdt and return name the same probe %s: a call "
			       "needs one probe where it starts and another where it ends",
			       h->id, h->usdt);
	if (handler_targets(c, hi, bs, h->library, &t, &n_t) < 0)
		return -1;
	for (i = 0; i < n_t && r == 0; i++) {
		const char *probes[2] = { h->usdt, h->usdt_return };
		enum probe_site_kind kinds[2] = { PROBE_USDT_ENTRY, PROBE_USDT_RETURN };
		char err[512], pid[32];
		struct elf_file *ef = open_elf(c, t[i].binary, err, sizeof(err));

		if (!ef) {
			r = fail_at(c, &h->loc, "%s: %s%s", h->id, err, pid_suffix(&t[i], pid, sizeof(pid)));
			continue;
		}
		int missing = -1;

		/* Both probes or neither: half a pair would only count unmatched events. */
		for (int k = 1; k >= 0; k--) {
			char *provider, *name;

			split_probe(probes[k], &provider, &name);
			if (usdt_find(ef, provider, name, NULL, 0) == 0)
				missing = k;
			free(provider);
			free(name);
		}
		if (missing >= 0) {
			char *hint = usdt_hint(ef, probes[missing]);

			r = fail_at(c, &h->loc, "%s: USDT probe %s not found in %s%s%s", h->id,
				    probes[missing], t[i].binary, pid_suffix(&t[i], pid, sizeof(pid)),
				    hint);
			free(hint);
			continue;
		}
		for (int k = 0; k < 2 && r == 0; k++) {
			bool found;

			r = add_probe_sites(c, hi, &t[i], ef, probes[k], kinds[k], 0, &found);
		}
	}
	for (i = 0; i < n_t; i++)
		free(t[i].binary);
	free(t);
	return r;
}

/* The checks the BPF side relies on for a language handler's pattern. */
static int check_lang_pattern(struct ctx *c, const struct ff_handler *h, const char *what,
			      const char *func, const char *scope_what, const char *scope)
{
	if (!*func || strpbrk(func, "*?[")) {
		return fail_at(c, &h->loc, "%s: %s name '%s' must be an exact name (only the %s "
			       "part may be a glob)", h->id, what, func, scope_what);
	}
	if (strlen(func) > RT_NAME_LEN - 2)
		return fail_at(c, &h->loc, "%s: %s name '%s' is longer than %d characters", h->id,
			       what, func, RT_NAME_LEN - 2);
	if (strchr(scope, '['))
		return fail_at(c, &h->loc, "%s: %s pattern '%s': only * and ? are supported, not "
			       "[...]", h->id, scope_what, scope);
	if (strlen(scope) >= RT_SCOPE_LEN)
		return fail_at(c, &h->loc, "%s: %s pattern '%s' is longer than %d characters", h->id,
			       scope_what, scope, RT_SCOPE_LEN - 1);
	return 1;
}

/*
 * CPython 3.11 fires function__entry only on its tracing path, which it
 * takes when the line probe's semaphore is up (ceval.c: DISPATCH() ors the
 * line semaphore into the opcode; DO_TRACING fires function__entry on
 * RESUME). 3.10 and older fire it on every call. Versions are read from
 * the file name (python3.X, libpython3.X.so); unknown means "raise it".
 */
static bool python_needs_line_semaphore(const char *binary)
{
	const char *base = strrchr(binary, '/'), *v;
	int major = 0, minor = 0;

	base = base ? base + 1 : binary;
	v = strstr(base, "python");
	if (v && sscanf(v, "python%d.%d", &major, &minor) == 2)
		return major > 3 || (major == 3 && minor >= 11);
	return true;
}

/*
 * The kernel raises a semaphore for as long as a uprobe carrying it as its
 * ref_ctr_offset is attached. To raise line's without trapping on every
 * line, that uprobe sits on another gated CPython probe whose own semaphore
 * nobody raises (an import or GC probe): its nop is never reached.
 */
static int add_python_line_gate(struct ctx *c, int hi, const struct target *t, struct elf_file *ef)
{
	static const char *const parking[] = { "import__find__load__done", "import__find__load__start",
					       "gc__done", "gc__start", "audit" };
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct usdt_note *line = NULL, *park = NULL;
	struct usdt_note gate;

	if (usdt_find(ef, "python", "line", &line, 1) < 1 || !line->sema || !line->sema_offset) {
		note_at(c, &h->loc, "warning: ",
			"%s: %s has no python:line semaphore: CPython 3.11+ may not fire "
			"function__entry", h->id, t->binary);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(parking) && !park; i++)
		if (usdt_find(ef, "python", parking[i], &park, 1) < 1 || !park->sema || !park->offset)
			park = NULL;
	if (!park) {
		note_at(c, &h->loc, "warning: ",
			"%s: %s has no gated probe to hold python:line's semaphore on: CPython "
			"3.11+ will not fire function__entry", h->id, t->binary);
		return 0;
	}
	gate = *line;
	gate.offset = park->offset;
	add_usdt_site(c, hi, t, ef, &gate, PROBE_PYTHON_LINE_GATE);
	return 0;
}

/*
 * python: "file-glob:function". CPython's probes are in the executable
 * (Debian's python3.X is linked statically) or in a libpython it maps.
 */
static int resolve_python(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const char *colon = h->pattern ? strrchr(h->pattern, ':') : NULL;
	struct target *t = NULL;
	int n_t = 0, i, r;
	char *file;

	if (!colon)
		return fail_at(c, &h->loc, "%s: python must be 'file-glob:function'", h->id);
	file = dup_n(h->pattern, (size_t)(colon - h->pattern));
	r = check_lang_pattern(c, h, "python function", colon + 1, "file", file);
	free(file);
	if (r <= 0)
		return r;
	r = 0;
	if (handler_targets(c, hi, bs, h->library, &t, &n_t) < 0)
		return -1;
	for (i = 0; i < n_t && r == 0; i++) {
		char err[512], pid[32];
		struct elf_file *ef = open_elf(c, t[i].binary, err, sizeof(err));
		bool found = false;
		int lib_pid = t[i].pid > 0 ? t[i].pid : bs->n_pids > 0 ? bs->pids[0] : -1;

		if (!ef) {
			r = fail_at(c, &h->loc, "%s: %s%s", h->id, err, pid_suffix(&t[i], pid, sizeof(pid)));
			continue;
		}
		if (!h->library && usdt_find(ef, "python", "function__entry", NULL, 0) == 0 &&
		    lib_pid > 0) {
			/* A Python linked with a shared libpython: its probes are there. */
			char *lib = proc_find_library_prefix(lib_pid, "libpython");
			struct elf_file *lef;

			if (lib) {
				char *ours = proc_path_from_ours(lib_pid, lib);

				lef = open_elf(c, ours, err, sizeof(err));
				if (lef && usdt_find(lef, "python", "function__entry", NULL, 0) > 0) {
					free(t[i].binary);
					t[i].binary = ours;
					ef = lef;
				} else {
					free(ours);
				}
				free(lib);
			}
		}
		r = add_probe_sites(c, hi, &t[i], ef, "python:function__entry", PROBE_PYTHON_ENTRY,
				    2, &found);
		if (r == 0 && !found) {
			r = fail_at(c, &h->loc,
				    "%s: %s%s has no CPython USDT probes (python:function__entry): this "
				    "Python was built without --with-dtrace (Debian's /usr/bin/python3 "
				    "has them)", h->id, t[i].binary, pid_suffix(&t[i], pid, sizeof(pid)));
			continue;
		}
		if (r == 0)
			r = add_probe_sites(c, hi, &t[i], ef, "python:function__return",
					    PROBE_PYTHON_RETURN, 2, &found);
		if (r == 0 && !found)
			r = fail_at(c, &h->loc, "%s: %s%s has python:function__entry but no "
				    "python:function__return probe", h->id, t[i].binary,
				    pid_suffix(&t[i], pid, sizeof(pid)));
		if (r == 0 && python_needs_line_semaphore(t[i].binary))
			r = add_python_line_gate(c, hi, &t[i], ef);
	}
	for (i = 0; i < n_t; i++)
		free(t[i].binary);
	free(t);
	return r;
}

/* Whether a JVM's options enable HotSpot's method probes: the last of
 * -XX:[+-]ExtendedDTraceProbes / -XX:[+-]DTraceMethodProbes wins, in the
 * order HotSpot reads them (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, the command
 * line, _JAVA_OPTIONS). */
static void scan_jvm_option(const char *opt, int *state)
{
	if (!strcmp(opt, "-XX:+ExtendedDTraceProbes") || !strcmp(opt, "-XX:+DTraceMethodProbes"))
		*state = 1;
	else if (!strcmp(opt, "-XX:-ExtendedDTraceProbes") || !strcmp(opt, "-XX:-DTraceMethodProbes"))
		*state = 0;
}

static void scan_jvm_env(int pid, const char *var, int *state)
{
	char *v = proc_getenv(pid, var), *save = NULL, *tok;

	if (!v)
		return;
	for (tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		scan_jvm_option(tok, state);
	free(v);
}

/* 1: method probes on, 0: off, -1: the process is gone. */
static int jvm_method_probes(int pid)
{
	char **argv;
	int argc = proc_cmdline(pid, &argv), state = 0;

	if (argc < 0)
		return -1;
	scan_jvm_env(pid, "JAVA_TOOL_OPTIONS", &state);
	scan_jvm_env(pid, "JDK_JAVA_OPTIONS", &state);
	for (int i = 1; i < argc; i++)
		scan_jvm_option(argv[i], &state);
	scan_jvm_env(pid, "_JAVA_OPTIONS", &state);
	proc_cmdline_free(argv, argc);
	return state;
}

/* java: "package.Class::method", through libjvm.so's hotspot probes. */
static int resolve_java(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const char *sep = h->pattern ? strstr(h->pattern, "::") : NULL;
	struct target *t = NULL;
	int n_t = 0, i, r;
	char *cls;

	if (!sep)
		return fail_at(c, &h->loc, "%s: java must be 'package.Class::method'", h->id);
	cls = dup_n(h->pattern, (size_t)(sep - h->pattern));
	r = check_lang_pattern(c, h, "java method", sep + 2, "class", cls);
	free(cls);
	if (r <= 0)
		return r;
	r = 0;
	for (i = 0; i < bs->n_pids && r == 0; i++) {
		if (jvm_method_probes(bs->pids[i]) == 0) {
			char *exe = proc_exe(bs->pids[i]);

			r = fail_at(c, &h->loc,
				    "%s: pid %d (%s) runs without -XX:+ExtendedDTraceProbes: HotSpot "
				    "fires its method__entry/method__return probes only when the JVM "
				    "starts with that option (or -XX:+DTraceMethodProbes); restart it "
				    "with the option, e.g. in JAVA_TOOL_OPTIONS", h->id, bs->pids[i],
				    exe ? exe : "?");
			free(exe);
		}
	}
	if (r < 0)
		return r;
	if (bs->n_pids == 0)
		note_at(c, &h->loc, "note: ",
			"%s: no JVM of bundle %s is running: it must start with "
			"-XX:+ExtendedDTraceProbes for its methods to be seen", h->id,
			c->ff->bundles[h->bundle].name);
	if (handler_targets(c, hi, bs, h->library ? h->library : "libjvm.so", &t, &n_t) < 0)
		return -1;
	for (i = 0; i < n_t && r == 0; i++) {
		char err[512], pid[32];
		struct elf_file *ef = open_elf(c, t[i].binary, err, sizeof(err));
		bool found = false;

		if (!ef) {
			r = fail_at(c, &h->loc, "%s: %s%s", h->id, err, pid_suffix(&t[i], pid, sizeof(pid)));
			continue;
		}
		r = add_probe_sites(c, hi, &t[i], ef, "hotspot:method__entry", PROBE_JAVA_ENTRY, 5,
				    &found);
		if (r == 0 && found)
			r = add_probe_sites(c, hi, &t[i], ef, "hotspot:method__return",
					    PROBE_JAVA_RETURN, 5, &found);
		if (r == 0 && !found)
			r = fail_at(c, &h->loc, "%s: %s%s has no HotSpot method probes "
				    "(hotspot:method__entry, hotspot:method__return)", h->id,
				    t[i].binary, pid_suffix(&t[i], pid, sizeof(pid)));
	}
	for (i = 0; i < n_t; i++)
		free(t[i].binary);
	free(t);
	return r;
}

static int resolve_function(struct ctx *c, int hi, const struct bundle_state *bs);

static int resolve_handler(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];

	switch (h->kind) {
	case FF_PROBE_SYMBOL: return resolve_function(c, hi, bs);
	case FF_PROBE_USDT: return resolve_usdt(c, hi, bs);
	case FF_PROBE_PYTHON: return resolve_python(c, hi, bs);
	case FF_PROBE_JAVA: return resolve_java(c, hi, bs);
	default:
		return fail_at(c, &h->loc, "%s: %s handlers are not supported", h->id,
			       probe_kind_name(h->kind));
	}
}

/* An ELF symbol (exact, glob, C++ demangled) in the executable or a library. */
static int resolve_function(struct ctx *c, int hi, const struct bundle_state *bs)
{
	const struct ff_handler *h = &c->ff->handlers[hi];
	const struct elf_file **failed = NULL;
	struct target *t = NULL;
	int n_t = 0, n_failed = 0, i, r = 0;
	bool glob;

	if (!h->symbol || !*h->symbol)
		return fail_at(c, &h->loc, "%s: no symbol given", h->id);
	glob = h->is_glob || strpbrk(h->symbol, "*?[") != NULL;
	if (handler_targets(c, hi, bs, h->library, &t, &n_t) < 0)
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

/* ------------------------------------------------- exceptions and unwinding */

/*
 * A uretprobe replaces the return address on the stack with the kernel's
 * trampoline. An unwinder (a C++ throw, pthread_exit's forced unwind, Go's
 * stack copying and tracebacks) that reads it finds no unwind information
 * there and ends the program. So a function that something may unwind
 * through gets its exits probed at its exit sites, never by a uretprobe
 * (bpf/flowprof.bpf.c). Something may unwind through it when its binary
 * links the unwinder, or its process has the unwinder mapped, or it is Go.
 */
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

static void resolve_unwinding(struct ctx *c)
{
	struct resolution *res = c->res;

	for (size_t i = 0; i < res->n_sites; i++) {
		struct probe_site *s = &res->sites[i];
		struct elf_file *ef;
		char err[256];

		if (s->kind != PROBE_FUNCTION)
			continue;
		ef = open_elf(c, s->binary, err, sizeof(err));
		s->unwinds = s->go || (ef && (ef->needs_unwinder || ef->go ||
					      defines(ef, "_Unwind_RaiseException"))) ||
			     (s->pid > 0 && process_unwinds(s->pid));
	}
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
	resolve_unwinding(&c);
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
	for (size_t k = 0; k < c.n_decoded; k++)
		function_code_free(&c.decoded[k].fc);
	free(c.decoded);
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
		free(res->sites[i].usdt_args);
		free(res->sites[i].exits);
		free(res->sites[i].exits_unknown);
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
	free(res->problem_kinds);
	memset(res, 0, sizeof(*res));
}
