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
 *
 * This file runs the steps; resolve_int.h says which file does what.
 */
#include "resolve_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "elf_symbols.h"
#include "procs.h"

/* The ELF file at path, opened once per (dev, ino). NULL with err set. */
struct elf_file *open_elf_as(struct resolve_ctx *c, const char *path, const char *display,
			     char *err, size_t errlen)
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
	/* messages name the file as the user knows it, not /proc/PID/exe */
	if (display && strcmp(display, path)) {
		free(ef->path);
		ef->path = xstrdup(display);
	}
	grow_array((void **)&c->elfs, &c->elfs_cap, c->n_elfs + 1, sizeof(*c->elfs));
	c->elfs[c->n_elfs++] = ef;
	return ef;
}

struct elf_file *open_elf(struct resolve_ctx *c, const char *path, char *err, size_t errlen)
{
	return open_elf_as(c, path, NULL, err, errlen);
}

/* A target's file: opened through the process when it can be, named by
 * its path; an error names the path too. */
struct elf_file *open_target(struct resolve_ctx *c, const struct target *t, char *err,
			     size_t errlen)
{
	struct elf_file *ef = open_elf_as(c, target_path(t), t->binary, err, errlen);
	size_t n = t->open ? strlen(t->open) : 0;

	if (!ef && n && !strncmp(err, t->open, n)) {
		char *rest = xstrdup(err + n);

		snprintf(err, errlen, "%s%s", t->binary, rest);
		free(rest);
	}
	return ef;
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

static int resolve_handler(struct resolve_ctx *c, int hi, const struct bundle_state *bs)
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

int resolve_flowfile(const struct flowfile *ff, const struct resolve_opts *opts,
		     struct resolution *res, char *err, size_t errlen)
{
	static const struct resolve_opts no_opts;
	struct bundle_state *bs = NULL;
	struct resolve_ctx c = { .ff = ff, .opts = opts ? opts : &no_opts, .res = res };
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
		char *what = pid_list_described(c.opts->pids, c.opts->n_pids);
		int r = fail_at(&c, NULL, "-p %s: none of these processes belongs to a bundle of %s "
				"(%s)", p, ff->path, what);

		free(what);
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
		free(res->sites[i].attach_path);
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
