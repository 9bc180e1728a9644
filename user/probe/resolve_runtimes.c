// SPDX-License-Identifier: MIT
/*
 * Handlers probed through USDT notes (docs/real-services.md): usdt: (a pair
 * of the program's own probes, entry and return), python: (CPython's
 * function__entry / function__return, with the line semaphore CPython 3.11+
 * needs) and java: (HotSpot's method__entry / method__return in libjvm.so,
 * which fire only in a JVM started with -XX:+ExtendedDTraceProbes). For
 * python: and java:, the function or method is picked in BPF from the
 * probe's arguments: here each binary only gets its probe points.
 */
#include "resolve_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "elf_symbols.h"
#include "procs.h"
#include "usdt.h"

static char *dup_n(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* A USDT probe point of a handler. Not subject to the alias check of
 * functions: a Python or Java probe point is shared by every handler of the
 * bundle on purpose (user/attach/attach_usdt.c attaches it once). */
static void add_usdt_site(struct resolve_ctx *c, int hi, const struct target *t,
			  const struct elf_file *ef, const struct usdt_note *note,
			  enum probe_site_kind kind)
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
	s->attach_path = t->open ? xstrdup(t->open) : NULL;
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
static int add_probe_sites(struct resolve_ctx *c, int hi, const struct target *t,
			   struct elf_file *ef, const char *probe, enum probe_site_kind kind,
			   int min_args, bool *found)
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
int resolve_usdt(struct resolve_ctx *c, int hi, const struct bundle_state *bs)
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
		struct elf_file *ef = open_target(c, &t[i], err, sizeof(err));

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
	free_targets(t, n_t);
	return r;
}

/* The checks the BPF side relies on for a language handler's pattern. */
static int check_lang_pattern(struct resolve_ctx *c, const struct ff_handler *h, const char *what,
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
static int add_python_line_gate(struct resolve_ctx *c, int hi, const struct target *t,
				struct elf_file *ef)
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
int resolve_python(struct resolve_ctx *c, int hi, const struct bundle_state *bs)
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
		struct elf_file *ef = open_target(c, &t[i], err, sizeof(err));
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
					free(t[i].open);
					t[i].binary = ours;
					t[i].open = proc_mapping_handle(lib_pid, lib);
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
	free_targets(t, n_t);
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
int resolve_java(struct resolve_ctx *c, int hi, const struct bundle_state *bs)
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
		struct elf_file *ef = open_target(c, &t[i], err, sizeof(err));
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
	free_targets(t, n_t);
	return r;
}
