// SPDX-License-Identifier: MIT
/*
 * Symbol handlers: the ELF symbols matching a handler (exact, glob, C++
 * demangled) in each of its binaries, one site per (symbol, process). Two
 * symbols at one address (aliases, or two handlers on one function) are
 * attached once, with a note. Each function's first instruction and exits
 * are decoded once, however many processes run it (exit_sites.c). A symbol
 * that is not found comes with the closest names the binary has.
 */
#include "resolve_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "elf_symbols.h"

/* A function's code (exit_sites.c), decoded once per (file, symbol). The
 * pointer lasts until the next call. */
static const struct decoded *decoded(struct resolve_ctx *c, const struct elf_file *ef,
				     const struct elf_sym *sym)
{
	struct decoded *d;

	for (size_t i = 0; i < c->n_decoded; i++)
		if (c->decoded[i].dev == ef->dev && c->decoded[i].ino == ef->ino &&
		    c->decoded[i].offset == sym->offset)
			return &c->decoded[i];
	grow_array((void **)&c->decoded, &c->decoded_cap, c->n_decoded + 1, sizeof(*c->decoded));
	d = &c->decoded[c->n_decoded++];
	d->dev = ef->dev;
	d->ino = ef->ino;
	d->offset = sym->offset;
	d->ok = function_code_decode(ef, sym, &d->fc) == 0;
	return d;
}

/*
 * A function that is one tail call (its first instruction jumps to another
 * function: redis's getCommand is `jmp getGenericCommand`) has its only exit
 * where its entry is, and one place takes one probe. Its call ends when the
 * function it jumps to returns, with the stack pointer of its entry: that
 * function's exits are its exits (marked foreign: other callers reach them
 * too). Where that function's exits are not all known, the exit stays where
 * it was (build_groups leaves it unprobed, or takes a uretprobe where
 * nothing unwinds).
 */
static void follow_entry_tail_call(struct resolve_ctx *c, struct probe_site *s,
				   const struct elf_file *ef, const struct elf_sym *sym)
{
	const struct elf_sym *to;
	const struct decoded *d;
	struct exit_site *exits;
	size_t n = 0;
	bool starts = false;

	if (s->n_exits != 1 || s->exits[0].offset != sym->offset || !s->exits[0].jmp_target)
		return;
	to = elf_symbol_at(ef, s->exits[0].jmp_target, &starts);
	if (!to || !starts || to->offset == sym->offset)
		return;
	d = decoded(c, ef, to);
	if (!d->ok || !d->fc.n_exits)
		return;
	exits = xcalloc(d->fc.n_exits, sizeof(*exits));
	for (size_t i = 0; i < d->fc.n_exits; i++) {
		if (d->fc.exits[i].offset == to->offset)
			continue; /* one tail call more: not followed */
		exits[n] = d->fc.exits[i];
		exits[n++].foreign = true;
	}
	if (!n) {
		free(exits);
		return;
	}
	free(s->exits);
	s->exits = exits;
	s->n_exits = n;
}

/*
 * The function's first instruction and its exits (exit_sites.c),
 * decoded once per (file, symbol) however many processes run it.
 */
static void decode_exits(struct resolve_ctx *c, struct probe_site *s, const struct elf_file *ef,
			 const struct elf_sym *sym)
{
	const struct decoded *d = decoded(c, ef, sym);

	s->entry_slot = d->fc.entry_slot ? d->fc.entry_slot : SLOT_ENTRY_STEP;
	s->alt_entry_offset = d->fc.alt_entry_offset;
	s->alt_entry_skip = d->fc.alt_entry_skip;
	s->alt_entry_slot = d->fc.alt_entry_slot;
	s->go = ef->go;
	if (!d->ok)
		s->exits_unknown = xstrdup(d->fc.reason[0] ? d->fc.reason : "its code could not be decoded");
	s->n_exits = d->fc.n_exits;
	s->exits = xmemdup(d->fc.exits, d->fc.n_exits * sizeof(*d->fc.exits));
	if (d->ok)
		follow_entry_tail_call(c, s, ef, sym);
}

static void add_site(struct resolve_ctx *c, int hi, const struct target *t,
		     const struct elf_file *ef, const struct elf_sym *sym)
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
	s->attach_path = t->open ? xstrdup(t->open) : NULL;
	s->symbol = xstrdup(sym->name);
	s->demangled = sym->demangled ? xstrdup(sym->demangled) : NULL;
	s->offset = sym->offset;
	s->ref_ctr_offset = 0;
	s->cls = elf_site_class(ef, sym->offset);
	decode_exits(c, s, ef, sym);
}

static int report_missing(struct resolve_ctx *c, const struct ff_handler *h, const struct target *t,
			  const struct elf_file *ef, bool glob)
{
	const struct ff_bundle *b = &c->ff->bundles[h->bundle];
	const char *closest[MAX_CLOSEST];
	char pid[32] = "", *hint = xstrdup(""), *tmp;
	int n = 0, i, r;

	if (t->pid > 0)
		snprintf(pid, sizeof(pid), " (pid %d)", t->pid);
	if (b->exe) {
		/* the file is named as opened: say where the flow file's name led
		 * (Debian's redis-server is a link to redis-check-rdb) */
		char *written = flowfile_path_relative(c->ff, b->exe), real[PATH_MAX];

		if (strcmp(written, t->binary) && realpath(written, real) &&
		    !strcmp(real, t->binary)) {
			tmp = xasprintf(" (exe: %s is a link to it)%s", written, hint);
			free(hint);
			hint = tmp;
		}
		free(written);
	}
	if (ef->stripped) {
		tmp = xasprintf("%s, which is stripped: only .dynsym was searched (no separate "
				"debug symbols were found: its -dbgsym package puts them in "
				"/usr/lib/debug)", hint);
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
	/* where the name was written, which is what is wrong */
	if (glob)
		r = fail_at(c, h->symbol_loc.line ? &h->symbol_loc : &h->loc,
			    "%s: no symbol matches '%s' in %s%s%s", h->id, h->symbol, t->binary, pid,
			    hint);
	else
		r = fail_at(c, h->symbol_loc.line ? &h->symbol_loc : &h->loc,
			    "%s: symbol '%s' not found in %s%s%s", h->id, h->symbol, t->binary, pid,
			    hint);
	free(hint);
	return r;
}

/* An ELF symbol (exact, glob, C++ demangled) in the executable or a library. */
int resolve_function(struct resolve_ctx *c, int hi, const struct bundle_state *bs)
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

		ef = open_target(c, &t[i], err, sizeof(err));
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
	free_targets(t, n_t);
	free(failed);
	return r;
}
