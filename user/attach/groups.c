// SPDX-License-Identifier: MIT
/*
 * Where each handler's probes go: its entry (its first instruction, or a
 * cheaper place after it), and its exits (at their sites, or a uretprobe
 * where nothing unwinds and that is measured cheaper), grouped by (binary,
 * process) for attach.c's links, one link per group.
 */
#include "attach.h"
#include "attach_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "flowprof.h"

/* ---- probe-site groups ---------------------------------------------------- */

struct site_group *group_for(struct group_list *gl, const char *binary, const char *display,
			     int pid)
{
	for (size_t i = 0; i < gl->n; i++)
		if (gl->g[i].pid == pid && !strcmp(gl->g[i].binary, binary))
			return &gl->g[i];
	grow_array((void **)&gl->g, &gl->cap, gl->n + 1, sizeof(*gl->g));
	memset(&gl->g[gl->n], 0, sizeof(gl->g[gl->n]));
	gl->g[gl->n].binary = binary;
	gl->g[gl->n].display = display ? display : binary;
	gl->g[gl->n].pid = pid;
	return &gl->g[gl->n++];
}

void site_list_add(struct site_list *l, uint64_t offset, uint64_t ref_ctr, uint64_t cookie)
{
	l->offsets = xrealloc(l->offsets, (l->cnt + 1) * sizeof(uint64_t));
	l->cookies = xrealloc(l->cookies, (l->cnt + 1) * sizeof(uint64_t));
	if (ref_ctr && !l->ref_ctrs)
		l->ref_ctrs = xcalloc(l->cnt + 1, sizeof(uint64_t));
	if (l->ref_ctrs) {
		l->ref_ctrs = xrealloc(l->ref_ctrs, (l->cnt + 1) * sizeof(uint64_t));
		l->ref_ctrs[l->cnt] = ref_ctr;
	}
	l->offsets[l->cnt] = offset;
	l->cookies[l->cnt] = cookie;
	l->cnt++;
}

bool site_list_has(const struct site_list *l, uint64_t offset)
{
	for (uint32_t i = 0; i < l->cnt; i++)
		if (l->offsets[i] == offset)
			return true;
	return false;
}

void site_list_free(struct site_list *l)
{
	free(l->offsets);
	free(l->cookies);
	free(l->ref_ctrs);
}

void groups_free(struct group_list *gl)
{
	for (size_t i = 0; i < gl->n; i++) {
		site_list_free(&gl->g[i].entries);
		site_list_free(&gl->g[i].exits);
		site_list_free(&gl->g[i].returns);
	}
	free(gl->g);
	memset(gl, 0, sizeof(*gl));
}

/* ---- exits: at the sites, or a uretprobe --------------------------------- */

/*
 * What a hit of a slot costs for choosing between two places or kinds of
 * probe: its warm figure, measured in a tight loop, where the calibration
 * is least moved by other load (beside a busy redis, the middle figures
 * once put a single-stepped `ret` below a uretprobe, and every request paid
 * for it); the middle one where there is no warm row. < 0 when not measured.
 */
static double choice_cost(const struct recorder *r, enum cost_slot slot)
{
	const struct slot_cost *c = &r->info.costs[slot & (SLOT_COUNT - 1)];
	double warm = r->cal.warm_hit_ns[slot & (SLOT_COUNT - 1)];

	if (!c->measured)
		return -1;
	return isfinite(warm) ? fmax(0, warm) : c->hit_ns;
}

/* Whether exit e's probe goes ahead of its epilogue (exit_sites.h): where
 * that place is measured cheaper here than the exit instruction. */
static bool exit_moved(const struct recorder *r, const struct exit_site *e)
{
	double here, there;

	if (!e->alt_offset || r->entry_first)
		return false;
	here = choice_cost(r, e->slot);
	there = choice_cost(r, e->alt_slot);
	return there >= 0 && (here < 0 || there < here);
}

struct exit_place {
	uint64_t offset;
	enum cost_slot slot;
	uint32_t sp_below;
};

/* Where an exit's probe goes: its file offset, its slot, and how far its
 * stack pointer is below the entry's (the cookie's COOKIE_EXIT_SP). */
static struct exit_place exit_place(const struct recorder *r, const struct exit_site *e)
{
	if (exit_moved(r, e))
		return (struct exit_place){ e->alt_offset, e->alt_slot, e->alt_sp_below };
	return (struct exit_place){ e->offset, e->slot, 0 };
}

/* What one hit of the site's exits costs (the dearest of its exits, each
 * where it goes), with that exit's slot when dearest is given; < 0 when
 * not measured. */
static double exit_sites_cost(const struct recorder *r, const struct probe_site *s,
			      enum cost_slot *dearest)
{
	double worst = 0;

	if (dearest)
		*dearest = SLOT_EXIT_RET;
	for (size_t k = 0; k < s->n_exits; k++) {
		struct exit_place p = exit_place(r, &s->exits[k]);
		double c = choice_cost(r, p.slot);

		if (c < 0)
			return -1;
		if (dearest && (!k || c > worst))
			*dearest = p.slot;
		worst = fmax(worst, c);
	}
	return worst;
}

/*
 * Exit sites or a uretprobe for one function site: exit sites where
 * something unwinds (a uretprobe would end the program) or where asked;
 * else the one measured cheaper here. *why: what the choice gives up, or
 * NULL: where some exit could not be found, a uretprobe (exact) where
 * nothing unwinds, else the exits that were found (safe; a call that
 * leaves another way is counted incomplete).
 */
static bool use_exit_sites(const struct recorder *r, const struct probe_site *s,
			   enum exits_choice want, const char **why)
{
	double uret = choice_cost(r, SLOT_EXIT_URETPROBE), sites;

	*why = NULL;
	if (s->exits_unknown) {
		if (s->unwinds || s->go || want == EXITS_SITES) {
			*why = s->exits_unknown;
			return s->unwinds || s->go || s->n_exits;
		}
		return false;
	}
	if (want == EXITS_URETPROBE && !s->go)
		return false;
	if (want == EXITS_SITES || s->unwinds || s->go)
		return true;
	sites = exit_sites_cost(r, s, NULL);
	return uret >= 0 && sites >= 0 && sites < uret;
}

/* Is the entry's later place (probe/exit_sites.h) measured cheaper here? */
static bool cheaper_entry(const struct recorder *r, const struct probe_site *s)
{
	double first = choice_cost(r, (enum cost_slot)s->entry_slot);
	double alt = choice_cost(r, (enum cost_slot)s->alt_entry_slot);

	return s->alt_entry_offset && first >= 0 && alt >= 0 && alt < first;
}

uint64_t site_entry(const struct recorder *r, const struct probe_site *s, enum cost_slot *slot)
{
	if (!r->entry_first && cheaper_entry(r, s)) {
		*slot = (enum cost_slot)s->alt_entry_slot;
		return s->alt_entry_offset;
	}
	*slot = (enum cost_slot)s->entry_slot;
	return s->offset;
}

static void note_probes(struct handler_probes *hp, enum cost_slot entry, enum cost_slot exit,
			bool sites, const char *why, const struct probe_site *s)
{
	hp->n_sites++;
	if (entry > hp->entry)
		hp->entry = entry;
	if (!hp->exit || (exit != hp->exit && exit == SLOT_EXIT_URETPROBE) ||
	    (exit > hp->exit && hp->exit != SLOT_EXIT_URETPROBE))
		hp->exit = exit;
	if (sites)
		hp->n_exit_sites += (int)s->n_exits;
	if (why && !sites) {
		hp->n_fallback++;
		if (!hp->fallback)
			hp->fallback = xasprintf("%s in %s: %s", s->demangled ? s->demangled : s->symbol,
						 s->binary, why);
	} else if (why) {
		hp->n_partial++;
		if (!hp->partial)
			hp->partial = xasprintf("%s in %s: %s", s->demangled ? s->demangled : s->symbol,
						s->binary, why);
	}
}

/* Whether site s's exit k would be probed where another probe already is. */
static bool exit_shares_place(const struct recorder *r, const struct site_group *g,
			      const struct probe_site *s, size_t k)
{
	uint64_t off = exit_place(r, &s->exits[k]).offset;

	return off == s->offset || site_list_has(&g->entries, off) ||
	       site_list_has(&g->exits, off);
}

/* Whether a foreign exit's place (user/probe/resolve_functions.c) is any
 * other function site's own, in the same binary and process, whatever the
 * order: the function jumped to is a handler too. It keeps its exits; the
 * handler that jumps to it does not borrow them. */
static bool owned_elsewhere(const struct recorder *r, const struct resolution *res,
			    const struct probe_site *s, uint64_t off)
{
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *o = &res->sites[i];
		enum cost_slot slot;

		if (o == s || o->kind != PROBE_FUNCTION || o->pid != s->pid ||
		    strcmp(o->attach_path ? o->attach_path : o->binary,
			   s->attach_path ? s->attach_path : s->binary))
			continue;
		if (o->offset == off || site_entry(r, o, &slot) == off)
			return true;
		for (size_t k = 0; k < o->n_exits; k++)
			if (!o->exits[k].foreign && exit_place(r, &o->exits[k]).offset == off)
				return true;
	}
	return false;
}

void build_groups(struct recorder *r, struct group_list *gl, const struct flowfile *ff,
			 const struct resolution *res, enum exits_choice want)
{
	uint32_t *entry_flows = xcalloc((size_t)ff->n_handlers + 1, sizeof(uint32_t));

	/* The cookie tells the BPF side which flows a handler is the entry of. */
	for (int f = 0; f < ff->n_flows && f < MAX_FLOWS; f++)
		entry_flows[ff->flows[f].entry] |= 1U << f;
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];
		struct site_group *g;
		const char *why;
		uint64_t base, cookie, entry;
		enum cost_slot entry_slot, exit_slot;
		bool sites, shared = false;

		if (s->kind != PROBE_FUNCTION)
			continue; /* rt_attach() */
		g = group_for(gl, s->attach_path ? s->attach_path : s->binary, s->binary, s->pid);
		sites = use_exit_sites(r, s, want, &why);
		/* an exit at another probe's place (a function that is one tail
		 * call): the order of the two programs there is not defined. A
		 * uretprobe instead, except where something unwinds: there such
		 * exits go unprobed, and calls that leave by them end unwound */
		for (size_t k = 0; sites && k < s->n_exits; k++)
			shared |= exit_shares_place(r, g, s, k) ||
				  (s->exits[k].foreign &&
				   owned_elsewhere(r, res, s, exit_place(r, &s->exits[k]).offset));
		if (shared && !(s->unwinds || s->go))
			sites = false, why = "an exit shares its address with another probe";
		else if (shared)
			why = "an exit shares its address with another probe (left unprobed)";

		entry = site_entry(r, s, &entry_slot);
		if (entry != s->offset)
			r->info.handlers[s->handler].n_moved++;
		base = MAKE_COOKIE(s->handler, 0) | (s->go ? COOKIE_GO : 0);
		cookie = COOKIE_WITH_SLOT(base | ((uint64_t)entry_flows[s->handler] << 32),
					  entry_slot) | (sites ? COOKIE_EXITS_AT_SITES : 0);
		site_list_add(&g->entries, entry, 0, cookie);
		exit_slot = SLOT_EXIT_URETPROBE;
		if (sites) {
			exit_sites_cost(r, s, &exit_slot);
			for (size_t k = 0; k < s->n_exits; k++) {
				struct exit_place p = exit_place(r, &s->exits[k]);

				if (shared && exit_shares_place(r, g, s, k))
					continue;
				site_list_add(&g->exits, p.offset, 0,
					      COOKIE_WITH_EXIT_SP(COOKIE_WITH_SLOT(base, p.slot),
								  p.sp_below) | COOKIE_EXIT_SITE |
						      (s->exits[k].foreign ? COOKIE_EXIT_FOREIGN : 0));
			}
		} else {
			site_list_add(&g->returns, entry, 0, cookie);
		}
		note_probes(&r->info.handlers[s->handler], entry_slot, exit_slot, sites, why, s);
	}
	free(entry_flows);
}

