// SPDX-License-Identifier: MIT
#include "collect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "flowprof.skel.h"

static int ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n > 0 ? n : 1;
}

/* Reads one per-CPU element: returns a buffer of ncpus() values of
 * value_size bytes each (kernel rounds each to 8 bytes). Caller frees. */
static void *read_percpu(const struct bpf_map *map, const void *key, size_t *stride)
{
	size_t sz = (bpf_map__value_size(map) + 7) & ~(size_t)7;
	void *buf = xcalloc((size_t)ncpus(), sz);

	if (bpf_map_lookup_elem(bpf_map__fd(map), key, buf)) {
		free(buf);
		return NULL;
	}
	*stride = sz;
	return buf;
}

int collect_handler(struct recorder *r, uint32_t hid, struct handler_stats *out)
{
	size_t stride;
	char *buf = read_percpu(r->skel->maps.handler_stats, &hid, &stride);

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -errno;
	for (int c = 0; c < ncpus(); c++) {
		const struct handler_stats *hs = (const void *)(buf + (size_t)c * stride);
		uint64_t lo;

		out->entries += hs->entries;
		out->calls += hs->calls;
		out->incomplete += hs->incomplete;
		out->total_ns += hs->total_ns;
		out->self_ns += hs->self_ns;
		out->oncpu_ns += hs->oncpu_ns;
		if (hs->min_ns && (!out->min_ns || hs->min_ns < out->min_ns))
			out->min_ns = hs->min_ns;
		if (hs->max_ns > out->max_ns)
			out->max_ns = hs->max_ns;
		lo = out->sumsq_lo + hs->sumsq_lo;
		out->sumsq_hi += hs->sumsq_hi + (lo < out->sumsq_lo);
		out->sumsq_lo = lo;
		for (int b = 0; b < HIST_BUCKETS; b++)
			out->hist[b] += hs->hist[b];
	}
	free(buf);
	return 0;
}

int collect_inflight(struct recorder *r, int n_handlers, uint64_t *inflight)
{
	struct handler_stats *hs = xmalloc(sizeof(*hs));

	for (int h = 0; h < n_handlers; h++) {
		inflight[h] = 0;
		if (collect_handler(r, (uint32_t)h, hs))
			continue;
		if (hs->entries > hs->calls + hs->incomplete)
			inflight[h] = hs->entries - hs->calls - hs->incomplete;
	}
	free(hs);
	return 0;
}

static uint64_t sum_u64(const char *buf, size_t stride)
{
	uint64_t s = 0;

	for (int c = 0; c < ncpus(); c++)
		s += *(const uint64_t *)(buf + (size_t)c * stride);
	return s;
}

enum site_class handler_site_class(const struct resolution *res, int h)
{
	enum site_class worst = SITE_UNKNOWN;

	/* the enum is in order of cost */
	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];

		if (s->handler == h && s->kind != PROBE_PYTHON_LINE_GATE && s->cls > worst)
			worst = s->cls;
	}
	return worst;
}

/* Joins the distinct symbols a handler resolved to ("price_a,price_b");
 * its classes, the dearest and all of them when they differ. */
static void describe_sites(const struct resolution *res, int h, struct snap_handler *sh)
{
	unsigned int classes = 0;
	size_t len = 0;
	char *syms = NULL;

	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];
		const char *name = s->symbol ? s->symbol : "?";
		bool dup = false;

		if (s->handler != h)
			continue;
		if (!sh->binary)
			sh->binary = xstrdup(s->binary);
		if (s->kind != PROBE_PYTHON_LINE_GATE && s->cls != SITE_UNKNOWN)
			classes |= 1u << s->cls;
		/* one entry per symbol, however many processes it was attached in */
		for (size_t j = 0; j < i && !dup; j++)
			dup = res->sites[j].handler == h && res->sites[j].symbol &&
			      !strcmp(res->sites[j].symbol, name);
		if (dup)
			continue;
		syms = xrealloc(syms, len + strlen(name) + 2);
		if (len)
			syms[len++] = ',';
		strcpy(syms + len, name);
		len += strlen(name);
	}
	sh->symbol = syms ? syms : xstrdup("");
	if (!sh->binary)
		sh->binary = xstrdup("");
	sh->site_class = xstrdup(site_class_name(handler_site_class(res, h)));
	sh->site_classes = snapshot_site_classes(classes);
}

static void collect_handlers(struct recorder *r, const struct flowfile *ff,
			     const struct resolution *res, struct snapshot *s)
{
	struct handler_stats *hs = xmalloc(sizeof(*hs));

	s->n_handlers = ff->n_handlers;
	s->handlers = xcalloc((size_t)ff->n_handlers, sizeof(*s->handlers));
	for (int h = 0; h < ff->n_handlers; h++) {
		const struct ff_handler *fh = &ff->handlers[h];
		struct snap_handler *sh = &s->handlers[h];

		sh->id = xstrdup(fh->id);
		sh->bundle = xstrdup(ff->bundles[fh->bundle].name);
		sh->serial = fh->serial;
		describe_sites(res, h, sh);
		sh->oncpu_measured = r->oncpu;
		if (collect_handler(r, (uint32_t)h, hs))
			continue;
		sh->entries = hs->entries;
		sh->calls = hs->calls;
		sh->incomplete = hs->incomplete;
		sh->min_ns = hs->min_ns;
		sh->max_ns = hs->max_ns;
		sh->total_ns = hs->total_ns;
		sh->self_ns = hs->self_ns;
		sh->oncpu_ns = hs->oncpu_ns;
		sh->sumsq_ns2 = (long double)hs->sumsq_hi * 18446744073709551616.0L +
				(long double)hs->sumsq_lo;
		memcpy(sh->hist, hs->hist, sizeof(sh->hist));
	}
	free(hs);
}

static const struct ff_call *declared_call(const struct flowfile *ff, int from, int to)
{
	for (int f = 0; f < ff->n_flows; f++)
		for (int c = 0; c < ff->flows[f].n_calls; c++)
			if (ff->flows[f].calls[c].from == from && ff->flows[f].calls[c].to == to)
				return &ff->flows[f].calls[c];
	return NULL;
}

static void collect_edges(struct recorder *r, const struct flowfile *ff, struct snapshot *s)
{
	const struct bpf_map *map = r->skel->maps.edges;
	uint64_t key, next, *pkey = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(bpf_map__fd(map), pkey, &next)) {
		uint32_t from = (uint32_t)(next >> 32), to = (uint32_t)next;
		const struct ff_call *decl;
		struct snap_edge *e;
		size_t stride;
		char *buf;

		key = next;
		pkey = &key;
		if (from >= (uint32_t)ff->n_handlers || to >= (uint32_t)ff->n_handlers)
			continue; /* calibration sites */
		buf = read_percpu(map, &key, &stride);
		if (!buf)
			continue;
		grow_array((void **)&s->edges, &cap, (size_t)s->n_edges + 1, sizeof(*s->edges));
		e = &s->edges[s->n_edges++];
		e->from = xstrdup(ff->handlers[from].id);
		e->to = xstrdup(ff->handlers[to].id);
		e->calls = sum_u64(buf, stride);
		decl = declared_call(ff, (int)from, (int)to);
		e->declared = decl != NULL;
		e->async = decl && decl->async;
		e->waits = decl && decl->waits;
		free(buf);
	}
}

static void collect_flows(struct recorder *r, const struct flowfile *ff, struct snapshot *s)
{
	const struct bpf_map *map = r->skel->maps.flow_visits;

	s->n_flows = ff->n_flows;
	s->flows = xcalloc((size_t)ff->n_flows, sizeof(*s->flows));
	for (int f = 0; f < ff->n_flows; f++) {
		const struct ff_flow *ffl = &ff->flows[f];
		struct snap_flow *sf = &s->flows[f];

		sf->name = xstrdup(ffl->name);
		sf->entry = xstrdup(ff->handlers[ffl->entry].id);
		sf->invocations = s->handlers[ffl->entry].calls;
		sf->visits = xcalloc((size_t)ff->n_handlers, sizeof(*sf->visits));
		for (int h = 0; h < ff->n_handlers; h++) {
			uint32_t key = (uint32_t)(f * r->n_handlers + h);
			size_t stride;
			char *buf = read_percpu(map, &key, &stride);
			uint64_t n;

			if (!buf)
				continue;
			n = sum_u64(buf, stride);
			free(buf);
			if (!n)
				continue;
			sf->visits[sf->n_visits].handler = xstrdup(ff->handlers[h].id);
			sf->visits[sf->n_visits].calls = n;
			sf->n_visits++;
		}
		sf->declared = xcalloc((size_t)ffl->n_calls, sizeof(*sf->declared));
		sf->n_declared = ffl->n_calls;
		for (int c = 0; c < ffl->n_calls; c++) {
			sf->declared[c].from = xstrdup(ff->handlers[ffl->calls[c].from].id);
			sf->declared[c].to = xstrdup(ff->handlers[ffl->calls[c].to].id);
			sf->declared[c].async = ffl->calls[c].async;
			sf->declared[c].waits = ffl->calls[c].waits;
			sf->declared[c].declared = true;
		}
	}
}

/* Adds a process to a bundle (once), with the threads it ran handlers on. */
static void add_pid(struct snap_bundle *b, int pid, int threads)
{
	for (int i = 0; i < b->n_pids; i++) {
		if (b->pids[i] == pid) {
			b->pid_threads[i] += threads;
			return;
		}
	}
	b->pids = xrealloc(b->pids, (size_t)(b->n_pids + 1) * sizeof(int));
	b->pid_threads = xrealloc(b->pid_threads, (size_t)(b->n_pids + 1) * sizeof(int));
	b->pids[b->n_pids] = pid;
	b->pid_threads[b->n_pids] = threads;
	b->n_pids++;
}

/* Sorts a bundle's processes by pid, keeping pid_threads parallel. */
static void sort_pids(struct snap_bundle *b)
{
	for (int i = 1; i < b->n_pids; i++) {
		int pid = b->pids[i], th = b->pid_threads[i], j = i;

		for (; j > 0 && b->pids[j - 1] > pid; j--) {
			b->pids[j] = b->pids[j - 1];
			b->pid_threads[j] = b->pid_threads[j - 1];
		}
		b->pids[j] = pid;
		b->pid_threads[j] = th;
	}
}

/* One instance slot's per-handler figures into the snapshot; pid 0 is the
 * slot pooling the processes past --max-instances. */
static void collect_slot(struct recorder *r, const struct flowfile *ff, struct snapshot *s,
			 uint32_t slot, const struct inst_info *info)
{
	const struct bpf_map *stats = r->skel->maps.instance_stats;
	bool *in_bundle = xcalloc((size_t)ff->n_bundles, sizeof(bool));

	for (int h = 0; h < ff->n_handlers; h++) {
		uint32_t k = slot * (uint32_t)r->n_handlers + (uint32_t)h;
		struct snap_handler *sh = &s->handlers[h];
		struct snap_instance_stats *is;
		uint64_t calls = 0, total = 0;
		size_t stride;
		char *buf = read_percpu(stats, &k, &stride);

		if (!buf)
			continue;
		for (int c = 0; c < ncpus(); c++) {
			const struct inst_stats *v = (const void *)(buf + (size_t)c * stride);

			calls += v->calls;
			total += v->total_ns;
		}
		free(buf);
		if (!calls)
			continue;
		sh->instances = xrealloc(sh->instances, (size_t)(sh->n_instances + 1) * sizeof(*is));
		is = &sh->instances[sh->n_instances++];
		memset(is, 0, sizeof(*is));
		is->pid = (int)info->tgid;
		is->calls = calls;
		is->total_ns = total;
		in_bundle[ff->handlers[h].bundle] = true;
	}
	for (int b = 0; b < ff->n_bundles; b++) {
		if (!in_bundle[b])
			continue;
		if (info->tgid)
			add_pid(&s->bundles[b], (int)info->tgid, (int)info->threads);
		s->bundles[b].threads += (int)info->threads;
	}
	free(in_bundle);
}

/* Per-process figures: each process got an instance slot on its first call. */
static void collect_instances(struct recorder *r, const struct flowfile *ff,
			      const struct resolution *res, struct snapshot *s)
{
	const struct bpf_map *slots = r->skel->maps.instances;
	uint32_t key, next, *pkey = NULL, pool = (uint32_t)r->max_instances;
	struct inst_info info;

	s->n_bundles = ff->n_bundles;
	s->bundles = xcalloc((size_t)ff->n_bundles, sizeof(*s->bundles));
	for (int b = 0; b < ff->n_bundles; b++) {
		s->bundles[b].name = xstrdup(ff->bundles[b].name);
		s->bundles[b].instances = ff->bundles[b].instances;
		s->bundles[b].workers = ff->bundles[b].workers;
		s->bundles[b].serial = ff->bundles[b].serial;
		if (b < res->n_bundles)
			for (int i = 0; i < res->bundles[b].n_pids; i++)
				add_pid(&s->bundles[b], res->bundles[b].pids[i], 0);
	}
	while (!bpf_map_get_next_key(bpf_map__fd(slots), pkey, &next)) {
		uint32_t slot;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(bpf_map__fd(slots), &key, &slot) ||
		    bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.instance_info), &slot, &info))
			continue;
		collect_slot(r, ff, s, slot, &info);
	}
	if (!bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.instance_info), &pool, &info)) {
		info.tgid = 0;
		collect_slot(r, ff, s, pool, &info);
	}
	for (int b = 0; b < ff->n_bundles; b++)
		sort_pids(&s->bundles[b]);
}

int collect_snapshot(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		     struct snapshot *s)
{
	const __u64 *cnt = r->skel->bss->counters;

	collect_handlers(r, ff, res, s);
	collect_edges(r, ff, s);
	collect_flows(r, ff, s);
	collect_instances(r, ff, res, s);
	s->unmatched_returns = cnt[CNT_UNMATCHED_RETURN];
	s->depth_overflows = cnt[CNT_DEPTH_OVERFLOW];
	s->abandoned_frames = cnt[CNT_ABANDONED];
	s->exited_in_call = cnt[CNT_EXITED_IN_CALL];
	s->edges_dropped = cnt[CNT_EDGES_FULL];
	s->instances_dropped = cnt[CNT_INSTANCES_FULL];
	s->threads_dropped = cnt[CNT_STATE_FULL];
	s->attach_mode = xstrdup(attach_mode_name(r->mode));
	return 0;
}
