// SPDX-License-Identifier: MIT
/*
 * USDT, Python and Java probe sites (see attach_usdt.h and
 * docs/real-services.md).
 *
 * usdt: pairs: every site carries its handler in the cookie
 *   (MAKE_COOKIE(hid, entry flows), plus RT_USDT_RETURN_BIT on return
 *   sites) and runs usdt_pair.
 * python: / java: every handler of a bundle shares the runtime's two probe
 *   points, attached once per (binary, process, bundle); the cookie holds
 *   the point's argument spec and the bundle (RT_COOKIE), and the BPF side
 *   finds the handler from the function name (rt_names) and the file or
 *   class glob (rt_globs).
 */
#include "attach_usdt.h"
#include "attach_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "flowprof.h"
#include "flowprof.skel.h"
#include "flowprof_rt.h"
#include "probe/probe.h"
#include "uprobe_multi_link.h"

enum rt_prog { PROG_USDT, PROG_PYTHON, PROG_JAVA, PROG_COUNT };

/* One link's worth of sites. */
struct rt_group {
	const char *binary;
	int pid;
	enum rt_prog prog;
	uint64_t *offsets, *ref_ctrs, *cookies;
	const char **probes;	/* "provider:name" per site, for messages */
	uint32_t cnt;
};

struct rt_plan {
	struct rt_group *groups;
	size_t n_groups, cap_groups;
	struct rt_site_spec *specs;	/* one per distinct (binary, offset) of python/java sites */
	const char **spec_binary;
	uint64_t *spec_offset;
	size_t n_specs, cap_specs;
	struct rt_name_key *keys;
	struct rt_name_val *vals;
	size_t n_names, cap_names;
	struct rt_glob *globs;
	size_t n_globs, cap_globs;
	bool used[PROG_COUNT];
};

static enum rt_prog prog_of(enum probe_site_kind k)
{
	switch (k) {
	case PROBE_PYTHON_ENTRY:
	case PROBE_PYTHON_RETURN:
	case PROBE_PYTHON_LINE_GATE: return PROG_PYTHON;
	case PROBE_JAVA_ENTRY:
	case PROBE_JAVA_RETURN: return PROG_JAVA;
	default: return PROG_USDT;
	}
}

static bool is_return(enum probe_site_kind k)
{
	return k == PROBE_USDT_RETURN || k == PROBE_PYTHON_RETURN || k == PROBE_JAVA_RETURN;
}

static struct rt_group *rt_group_for(struct rt_plan *p, const char *binary, int pid, enum rt_prog prog)
{
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i].pid == pid && p->groups[i].prog == prog &&
		    !strcmp(p->groups[i].binary, binary))
			return &p->groups[i];
	grow_array((void **)&p->groups, &p->cap_groups, p->n_groups + 1, sizeof(*p->groups));
	p->groups[p->n_groups] = (struct rt_group){ .binary = binary, .pid = pid, .prog = prog };
	return &p->groups[p->n_groups++];
}

static void group_add(struct rt_group *g, uint64_t offset, uint64_t ref_ctr, uint64_t cookie,
		      const char *probe)
{
	for (uint32_t i = 0; i < g->cnt; i++)
		if (g->offsets[i] == offset && g->cookies[i] == cookie)
			return; /* a python/java point shared by several handlers */
	g->offsets = xrealloc(g->offsets, (g->cnt + 1) * sizeof(uint64_t));
	g->ref_ctrs = xrealloc(g->ref_ctrs, (g->cnt + 1) * sizeof(uint64_t));
	g->cookies = xrealloc(g->cookies, (g->cnt + 1) * sizeof(uint64_t));
	g->probes = xrealloc(g->probes, (g->cnt + 1) * sizeof(char *));
	g->offsets[g->cnt] = offset;
	g->ref_ctrs[g->cnt] = ref_ctr;
	g->cookies[g->cnt] = cookie;
	g->probes[g->cnt] = probe;
	g->cnt++;
}

/* The argument spec of a python/java probe point: its index, or -1. */
static int spec_for(struct rt_plan *p, const struct probe_site *s, char *err, size_t errlen)
{
	struct rt_arg args[USDT_MAX_ARGS];
	struct rt_site_spec *spec;
	char why[256];
	int n;

	for (size_t i = 0; i < p->n_specs; i++)
		if (p->spec_offset[i] == s->offset && !strcmp(p->spec_binary[i], s->binary))
			return (int)i;
	n = usdt_parse_args(s->usdt_args ? s->usdt_args : "", args, USDT_MAX_ARGS, why, sizeof(why));
	if (n < 0 || n < (prog_of(s->kind) == PROG_JAVA ? 5 : 2)) {
		snprintf(err, errlen, "USDT probe %s in %s: %s", s->symbol, s->binary,
			 n < 0 ? why : "too few arguments");
		return -1;
	}
	if (p->n_specs >= RT_SPEC_NONE) {
		snprintf(err, errlen, "too many Python/Java probe points");
		return -1;
	}
	grow_array((void **)&p->specs, &p->cap_specs, p->n_specs + 1, sizeof(*p->specs));
	p->spec_binary = xrealloc(p->spec_binary, (p->n_specs + 1) * sizeof(char *));
	p->spec_offset = xrealloc(p->spec_offset, (p->n_specs + 1) * sizeof(uint64_t));
	spec = &p->specs[p->n_specs];
	memset(spec, 0, sizeof(*spec));
	if (prog_of(s->kind) == PROG_JAVA) {
		/* method__entry(thread id, class, class length, method, method length, ...) */
		spec->args[RT_SLOT_SCOPE] = args[1];
		spec->args[RT_SLOT_SCOPE_LEN] = args[2];
		spec->args[RT_SLOT_NAME] = args[3];
		spec->args[RT_SLOT_NAME_LEN] = args[4];
	} else {
		/* function__entry(file name, function name, line) */
		spec->args[RT_SLOT_SCOPE] = args[0];
		spec->args[RT_SLOT_NAME] = args[1];
	}
	p->spec_binary[p->n_specs] = s->binary;
	p->spec_offset[p->n_specs] = s->offset;
	return (int)p->n_specs++;
}

static uint32_t glob_for(struct rt_plan *p, const char *pat)
{
	struct rt_glob g = { 0 };

	if (!strcmp(pat, "*"))
		return RT_GLOB_ANY;
	g.len = (uint32_t)strlen(pat);
	memcpy(g.pat, pat, g.len < RT_SCOPE_LEN ? g.len : RT_SCOPE_LEN - 1);
	for (size_t i = 0; i < p->n_globs; i++)
		if (!strcmp(p->globs[i].pat, g.pat))
			return (uint32_t)i;
	grow_array((void **)&p->globs, &p->cap_globs, p->n_globs + 1, sizeof(*p->globs));
	p->globs[p->n_globs] = g;
	return (uint32_t)p->n_globs++;
}

/* A python/java handler as (function name, scope glob): "*\/app.py:handle"
 * or "com.example.Orders::place" (the class in HotSpot's form, com/example/Orders). */
static void split_pattern(const struct ff_handler *h, char **name, char **scope)
{
	const char *sep;

	if (h->kind == FF_PROBE_JAVA) {
		sep = strstr(h->pattern, "::");
		*scope = strndup(h->pattern, (size_t)(sep - h->pattern));
		for (char *c = *scope; *c; c++)
			if (*c == '.')
				*c = '/';
		*name = xstrdup(sep + 2);
	} else {
		sep = strrchr(h->pattern, ':');
		*scope = strndup(h->pattern, (size_t)(sep - h->pattern));
		*name = xstrdup(sep + 1);
	}
}

static int add_name(struct rt_plan *p, const struct flowfile *ff, int hid, const uint32_t *flows,
		    char *err, size_t errlen)
{
	const struct ff_handler *h = &ff->handlers[hid];
	struct rt_name_key key = { 0 };
	struct rt_name_val *v = NULL;
	char *name, *scope;
	size_t i;

	split_pattern(h, &name, &scope);
	key.bundle = (uint16_t)h->bundle;
	key.lang = h->kind == FF_PROBE_JAVA ? RT_LANG_JAVA : RT_LANG_PYTHON;
	snprintf(key.name, sizeof(key.name), "%s", name);
	for (i = 0; i < p->n_names && !v; i++)
		if (!memcmp(&p->keys[i], &key, sizeof(key)))
			v = &p->vals[i];
	if (!v) {
		grow_array((void **)&p->keys, &p->cap_names, p->n_names + 1, sizeof(*p->keys));
		p->vals = xrealloc(p->vals, p->cap_names * sizeof(*p->vals));
		p->keys[p->n_names] = key;
		v = &p->vals[p->n_names++];
		memset(v, 0, sizeof(*v));
	}
	if (v->n >= RT_MAX_CANDIDATES) {
		snprintf(err, errlen, "%s: more than %d handlers of bundle %s are named '%s'", h->id,
			 RT_MAX_CANDIDATES, ff->bundles[h->bundle].name, name);
		free(name);
		free(scope);
		return -EINVAL;
	}
	v->c[v->n++] = (struct rt_candidate){
		.hid = (uint32_t)hid, .entry_flows = flows[hid], .glob = glob_for(p, scope),
	};
	free(name);
	free(scope);
	return 0;
}

static void plan_free(struct rt_plan *p)
{
	for (size_t i = 0; i < p->n_groups; i++) {
		free(p->groups[i].offsets);
		free(p->groups[i].ref_ctrs);
		free(p->groups[i].cookies);
		free(p->groups[i].probes);
	}
	free(p->groups);
	free(p->specs);
	free(p->spec_binary);
	free(p->spec_offset);
	free(p->keys);
	free(p->vals);
	free(p->globs);
	memset(p, 0, sizeof(*p));
}

static int build_plan(struct rt_plan *p, const struct flowfile *ff, const struct resolution *res,
		      char *err, size_t errlen)
{
	uint32_t *flows = xcalloc((size_t)ff->n_handlers + 1, sizeof(uint32_t));
	bool *named = xcalloc((size_t)ff->n_handlers + 1, sizeof(bool));
	int e = 0;

	for (int f = 0; f < ff->n_flows && f < MAX_FLOWS; f++)
		flows[ff->flows[f].entry] |= 1U << f;
	for (size_t i = 0; i < res->n_sites && !e; i++) {
		const struct probe_site *s = &res->sites[i];
		enum rt_prog prog = prog_of(s->kind);
		uint64_t cookie;
		int spec;

		if (!site_is_usdt(s))
			continue;
		p->used[prog] = true;
		if (prog == PROG_USDT) {
			cookie = MAKE_COOKIE(s->handler, flows[s->handler]);
			if (is_return(s->kind))
				cookie |= RT_USDT_RETURN_BIT;
		} else if (s->kind == PROBE_PYTHON_LINE_GATE) {
			/* never runs; if it did, no spec has this index: the program returns */
			cookie = RT_COOKIE(RT_SPEC_NONE, ff->handlers[s->handler].bundle, 0);
		} else {
			spec = spec_for(p, s, err, errlen);
			if (spec < 0) {
				e = -EINVAL;
				break;
			}
			cookie = RT_COOKIE(spec, ff->handlers[s->handler].bundle, is_return(s->kind));
			if (!named[s->handler]) {
				named[s->handler] = true;
				e = add_name(p, ff, s->handler, flows, err, errlen);
			}
		}
		group_add(rt_group_for(p, s->attach_path ? s->attach_path : s->binary, s->pid, prog),
			  s->offset, s->ref_ctr_offset,
			  cookie, s->symbol);
	}
	free(flows);
	free(named);
	return e;
}

static struct bpf_program *prog_ptr(struct flowprof_bpf *skel, enum rt_prog p)
{
	switch (p) {
	case PROG_PYTHON: return skel->progs.python_probe;
	case PROG_JAVA: return skel->progs.java_probe;
	default: return skel->progs.usdt_pair;
	}
}

/* uprobe_multi when the kernel has it and the user did not ask for single links. */
static bool use_multi(const struct recorder *r)
{
	return r->info.feat.uprobe_multi && r->info.mode != ATTACH_SINGLE;
}

static size_t max1(size_t n)
{
	return n ? n : 1;
}

void rt_prepare_load(struct recorder *r, const struct flowfile *ff, const struct resolution *res)
{
	struct flowprof_bpf *skel = r->skel;
	struct rt_plan p = { 0 };
	char err[256];

	bool any = false;

	/* Errors in the plan come back from rt_attach(); sizes are all that matter here. */
	build_plan(&p, ff, res, err, sizeof(err));
	for (int i = 0; i < PROG_COUNT; i++)
		any |= p.used[i];
	/* The USDT pair program where any handler needs a runtime's program:
	 * the calibration measures it then (its stub) and the verifier checks
	 * it (~20 ms here); without, neither. */
	r->cal.n_stubs = any ? CALIB_STUBS : CALIB_STUB_USDT;
	for (int i = 0; i < PROG_COUNT; i++) {
		struct bpf_program *prog = prog_ptr(skel, (enum rt_prog)i);
		bool used = p.used[i] || (any && prog == skel->progs.usdt_pair);

		bpf_program__set_autoload(prog, used);
		if (used && use_multi(r))
			bpf_program__set_expected_attach_type(
				prog, (enum bpf_attach_type)FP_BPF_TRACE_UPROBE_MULTI);
	}
	bpf_map__set_max_entries(skel->maps.rt_specs, (uint32_t)max1(p.n_specs));
	bpf_map__set_max_entries(skel->maps.rt_names, (uint32_t)max1(p.n_names));
	bpf_map__set_max_entries(skel->maps.rt_globs, (uint32_t)max1(p.n_globs));
	plan_free(&p);
}

/* The prefilter bit of a function name (flowprof_rt.h; the BPF side reads
 * the same 8 bytes from the probed process). */
static uint32_t prefix_bit(const char *name)
{
	uint64_t v = 0;
	size_t n = strnlen(name, 8);

	memcpy(&v, name, n); /* little-endian, as the BPF side loads it */
	return RT_PREFIX_HASH(v);
}

static int fill_maps(struct recorder *r, const struct rt_plan *p, char *err, size_t errlen)
{
	struct flowprof_bpf *skel = r->skel;

	for (size_t i = 0; i < p->n_names; i++) {
		uint32_t bit = prefix_bit(p->keys[i].name);

		skel->bss->rt_prefix_bits[bit / 64] |= 1ULL << (bit % 64);
	}

	for (uint32_t i = 0; i < p->n_specs; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.rt_specs), &i, &p->specs[i], 0))
			goto fail;
	for (uint32_t i = 0; i < p->n_globs; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.rt_globs), &i, &p->globs[i], 0))
			goto fail;
	for (size_t i = 0; i < p->n_names; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.rt_names), &p->keys[i], &p->vals[i], 0))
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "fill the USDT name tables: %s", strerror(errno));
	return -errno;
}

static int attach_group(struct recorder *r, const struct rt_group *g, char *err, size_t errlen)
{
	struct bpf_program *prog = prog_ptr(r->skel, g->prog);
	char who[32];
	int fd, e;

	if (g->pid > 0)
		snprintf(who, sizeof(who), "pid %d", g->pid);
	else
		snprintf(who, sizeof(who), "all processes");
	if (use_multi(r)) {
		fd = create_multi_link(bpf_program__fd(prog), FP_BPF_TRACE_UPROBE_MULTI, 0, g->binary,
				       g->offsets, g->ref_ctrs, g->cookies, g->cnt, g->pid);
		if (fd < 0) {
			snprintf(err, errlen, "uprobe_multi link for USDT probe %s%s in %s (%s): %s",
				 g->probes[0], g->cnt > 1 ? " and others" : "", g->binary, who,
				 strerror(-fd));
			return fd;
		}
		recorder_keep_fd(r, fd);
		r->info.n_probes += g->cnt;
		return 0;
	}
	for (uint32_t i = 0; i < g->cnt; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = g->cookies[i],
			    .ref_ctr_offset = g->ref_ctrs[i]);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(
			prog, g->pid > 0 ? g->pid : -1, g->binary, (size_t)g->offsets[i], &uo);

		if (!l) {
			e = errno;
			snprintf(err, errlen, "attach USDT probe %s to %s offset 0x%llx (%s): %s",
				 g->probes[i], g->binary, (unsigned long long)g->offsets[i], who,
				 strerror(e));
			return -e;
		}
		recorder_keep_link(r, l);
		r->info.n_probes++;
	}
	return 0;
}

int rt_attach(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
	      char *err, size_t errlen)
{
	struct rt_plan p = { 0 };
	int e;

	e = build_plan(&p, ff, res, err, errlen);
	if (!e && p.n_groups)
		e = fill_maps(r, &p, err, errlen);
	for (size_t i = 0; !e && i < p.n_groups; i++)
		e = attach_group(r, &p.groups[i], err, errlen);
	plan_free(&p);
	return e;
}
