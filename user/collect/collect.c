// SPDX-License-Identifier: MIT
#include "collect.h"
#include "collect_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/base.h"
#include "probe/probe.h"

static int ncpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n > 0 ? n : 1;
}

/* Reads one per-CPU element of a map of values of value_size bytes: returns
 * a buffer of ncpus() values (the kernel rounds each to 8 bytes). Caller frees. */
static void *read_percpu(int fd, size_t value_size, const void *key, size_t *stride)
{
	size_t sz = (value_size + 7) & ~(size_t)7;
	void *buf = xcalloc((size_t)ncpus(), sz);

	if (bpf_map_lookup_elem(fd, key, buf)) {
		free(buf);
		return NULL;
	}
	*stride = sz;
	return buf;
}

/*
 * Consecutive keys of a per-CPU array, read in batches (BPF_MAP_LOOKUP_BATCH,
 * 5.6): one syscall for a flow's or a process's handlers instead of one per
 * key (1,000 handlers in 32 flows were 32,000 lookups). Where the kernel
 * refuses batches, keys are read one by one.
 */
struct percpu_run {
	char *buf;		/* n keys x ncpus() values from first; NULL: none */
	size_t stride;		/* bytes per CPU's value */
	uint32_t first, n;
	char *one;		/* the last key read alone */
	bool refused;		/* the kernel refused a batch: no more are asked for */
};

/* Frees what the run holds; whether batches are refused stays known. */
static void percpu_run_free(struct percpu_run *pr)
{
	bool refused = pr->refused;

	free(pr->buf);
	free(pr->one);
	memset(pr, 0, sizeof(*pr));
	pr->refused = refused;
}

static void percpu_run_read(struct percpu_run *pr, int fd, size_t value_size, uint32_t first,
			    uint32_t n)
{
	size_t sz = (value_size + 7) & ~(size_t)7, per = sz * (size_t)ncpus();
	uint32_t *keys, done = 0, prev, next;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	percpu_run_free(pr);
	if (pr->refused)
		return;
	keys = xcalloc((size_t)n + 1, sizeof(*keys));
	pr->buf = xcalloc((size_t)n + 1, per);
	while (done < n) {
		__u32 count = n - done;
		/* a batch starts after in_batch's key; none: at key 0 */
		int e;

		prev = first + done - 1;
		e = bpf_map_lookup_batch(fd, first + done ? &prev : NULL, &next, keys,
					 pr->buf + (size_t)done * per, &count, &opts);
		pr->refused = e && errno != ENOENT;
		if (pr->refused || !count || keys[0] != first + done)
			break;
		done += count;
		if (e)
			break; /* the map's end */
	}
	free(keys);
	if (done < n) {
		free(pr->buf);
		pr->buf = NULL;
		return;
	}
	pr->stride = sz;
	pr->first = first;
	pr->n = n;
}

/* The key's ncpus() values, stride apart: from the run, or read alone. */
static const char *percpu_run_get(struct percpu_run *pr, int fd, size_t value_size, uint32_t key,
				  size_t *stride)
{
	if (pr->buf && key >= pr->first && key - pr->first < pr->n) {
		*stride = pr->stride;
		return pr->buf + (size_t)(key - pr->first) * pr->stride * (size_t)ncpus();
	}
	free(pr->one);
	pr->one = read_percpu(fd, value_size, &key, stride);
	return pr->one;
}

/*
 * Handler hid of n, from run: handlers are read in order, a batch of about
 * 1 MiB at a time (a handler's figures are 4.9 KB per CPU).
 */
static int handler_in_run(struct recorder *r, struct percpu_run *run, uint32_t hid, uint32_t n,
			  struct handler_stats *out)
{
	int fd = recorder_map_fd(r, RMAP_HANDLER_STATS);
	size_t per = sizeof(struct handler_stats) * (size_t)ncpus(), stride;
	uint32_t batch = (uint32_t)((1u << 20) / per) + 1;
	const char *buf;

	if (!run->buf || hid < run->first || hid - run->first >= run->n)
		percpu_run_read(run, fd, sizeof(struct handler_stats), hid,
				n - hid < batch ? n - hid : batch);
	buf = percpu_run_get(run, fd, sizeof(struct handler_stats), hid, &stride);
	if (!buf) {
		memset(out, 0, sizeof(*out));
		return -errno;
	}
	handler_stats_sum(buf, stride, ncpus(), out);
	return 0;
}

/* Each handler's completed calls and calls in flight (either may be NULL),
 * read in batches. */
static void collect_counts(struct recorder *r, int n_handlers, uint64_t *calls,
			   uint64_t *inflight)
{
	struct handler_stats *hs = xmalloc(sizeof(*hs));
	struct percpu_run run = { 0 };

	for (int h = 0; h < n_handlers; h++) {
		bool ok = !handler_in_run(r, &run, (uint32_t)h, (uint32_t)n_handlers, hs);

		if (calls)
			calls[h] = ok ? hs->calls : 0;
		if (inflight)
			inflight[h] = ok && hs->entries > hs->calls + hs->incomplete
					      ? hs->entries - hs->calls - hs->incomplete : 0;
	}
	percpu_run_free(&run);
	free(hs);
}

int collect_inflight(struct recorder *r, int n_handlers, uint64_t *inflight)
{
	collect_counts(r, n_handlers, NULL, inflight);
	return 0;
}

void collect_calls(struct recorder *r, int n_handlers, uint64_t *calls)
{
	collect_counts(r, n_handlers, calls, NULL);
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

/* The measured behaviour of a slot, in the snapshot's site-class words. */
static const char *behaviour_class(const struct slot_cost *c)
{
	if (!c->measured || !c->behaves_as)
		return NULL;
	if (!strcmp(c->behaves_as, "optimized"))
		return "nop5";
	if (!strcmp(c->behaves_as, "emulated") || !strcmp(c->behaves_as, "single-step"))
		return c->behaves_as;
	return NULL;
}

/* The handler's probes as attached: entry kind, how its exits are seen,
 * and its site class as the kernel was measured to treat its entry. */
static void describe_probes(const struct recorder_info *ri, int h, struct snap_handler *sh)
{
	const struct handler_probes *hp;
	const char *cls;

	if (h >= ri->n_handlers || !ri->handlers[h].n_sites)
		return;
	hp = &ri->handlers[h];
	sh->entry_site = xstrdup(cost_slot_name(hp->entry));
	sh->exit_site = xstrdup(hp->n_fallback && hp->n_fallback < hp->n_sites ? "mixed"
				: cost_slot_name(hp->exit));
	if (hp->fallback)
		sh->exits_fallback = xasprintf("uretprobe: %s", hp->fallback);
	else if (hp->partial)
		sh->exits_fallback = xasprintf("partial: %s", hp->partial);
	cls = behaviour_class(&ri->costs[hp->entry & (SLOT_COUNT - 1)]);
	if (cls) {
		free(sh->site_class);
		sh->site_class = xstrdup(cls);
	}
}

static bool handler_is_go(const struct resolution *res, int h)
{
	for (size_t i = 0; i < res->n_sites; i++)
		if (res->sites[i].handler == h && res->sites[i].kind == PROBE_FUNCTION)
			return res->sites[i].go;
	return false;
}

/* Handler h is some flow's entry: its arrivals are recorded. */
static bool is_flow_entry(const struct flowfile *ff, int h)
{
	for (int f = 0; f < ff->n_flows; f++)
		if (ff->flows[f].entry == h)
			return true;
	return false;
}

static void collect_handlers(struct recorder *r, const struct flowfile *ff,
			     const struct resolution *res, struct snapshot *s)
{
	struct handler_stats *hs = xmalloc(sizeof(*hs));
	struct percpu_run run = { 0 };

	s->n_handlers = ff->n_handlers;
	s->handlers = xcalloc((size_t)ff->n_handlers, sizeof(*s->handlers));
	for (int h = 0; h < ff->n_handlers; h++) {
		const struct ff_handler *fh = &ff->handlers[h];
		struct snap_handler *sh = &s->handlers[h];

		sh->id = xstrdup(fh->id);
		sh->bundle = xstrdup(ff->bundles[fh->bundle].name);
		sh->serial = fh->serial;
		describe_sites(res, h, sh);
		describe_probes(recorder_info(r), h, sh);
		if (fh->kind == FF_PROBE_PYTHON || fh->kind == FF_PROBE_JAVA) {
			/* the interpreter's own probes, not corrected (report flags) */
			free(sh->entry_site);
			free(sh->exit_site);
			sh->entry_site = xstrdup(fh->kind == FF_PROBE_JAVA ? "java" : "python");
			sh->exit_site = xstrdup(sh->entry_site);
		}
		/* a goroutine's on-CPU time is not the thread's */
		sh->oncpu_measured = recorder_info(r)->oncpu && !handler_is_go(res, h);
		sh->probe_measured = true;
		if (handler_in_run(r, &run, (uint32_t)h, (uint32_t)ff->n_handlers, hs))
			continue;
		sh->unwound = hs->unwound;
		sh->probe_ns = hs->probe_ns;
		sh->self_probe_ns = hs->self_probe_ns;
		sh->nested_calls = hs->nested_calls;
		sh->probe_cpu_ns = hs->probe_cpu_ns;
		sh->probe_cpu_measured = true;
		sh->probe_wait_ns = hs->probe_wait_ns;
		/* a wait to run is told apart where the switch's task is known */
		sh->runq_measured = sh->oncpu_measured && recorder_info(r)->wakeups;
		sh->runq_ns = sh->runq_measured ? hs->runq_ns : 0;
		sh->arrival_measured = is_flow_entry(ff, h);
		if (sh->arrival_measured)
			sh->arrival = (struct snap_arrivals){ hs->arrival_calls, hs->arrival_ns,
							      hs->arrival_probe_ns, hs->arrival_self_ns,
							      hs->arrival_self_probe_ns };
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
	percpu_run_free(&run);
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
	int fd = recorder_map_fd(r, RMAP_EDGES);
	uint64_t key, next, *pkey = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		uint32_t from = (uint32_t)(next >> 32), to = (uint32_t)next;
		const struct ff_call *decl;
		struct snap_edge *e;
		size_t stride;
		char *buf;

		key = next;
		pkey = &key;
		if (from >= (uint32_t)ff->n_handlers || to >= (uint32_t)ff->n_handlers)
			continue; /* calibration sites */
		buf = read_percpu(fd, sizeof(uint64_t), &key, &stride);
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
	int fd = recorder_map_fd(r, RMAP_FLOW_VISITS);
	uint32_t nh = (uint32_t)recorder_bpf_handlers(r);
	struct percpu_run run = { 0 };

	s->n_flows = ff->n_flows;
	s->flows = xcalloc((size_t)ff->n_flows, sizeof(*s->flows));
	for (int f = 0; f < ff->n_flows; f++) {
		const struct ff_flow *ffl = &ff->flows[f];
		struct snap_flow *sf = &s->flows[f];

		sf->name = xstrdup(ffl->name);
		sf->entry = xstrdup(ff->handlers[ffl->entry].id);
		sf->invocations = s->handlers[ffl->entry].calls;
		sf->visits = xcalloc((size_t)ff->n_handlers, sizeof(*sf->visits));
		percpu_run_read(&run, fd, sizeof(uint64_t), (uint32_t)f * nh, (uint32_t)ff->n_handlers);
		for (int h = 0; h < ff->n_handlers; h++) {
			size_t stride;
			const char *buf = percpu_run_get(&run, fd, sizeof(uint64_t),
							 (uint32_t)f * nh + (uint32_t)h, &stride);
			uint64_t n;

			if (!buf)
				continue;
			n = sum_u64(buf, stride);
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
	percpu_run_free(&run);
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

static uint64_t ktime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A process's time at each level of concurrency, up to now. */
static void add_concurrency(struct snap_bundle *b, const struct inst_info *info)
{
	uint64_t now = ktime_ns();
	uint64_t live_span = info->live_at && now > info->live_at ? now - info->live_at : 0;
	uint64_t inflight_span = info->inflight_at && now > info->inflight_at
				 ? now - info->inflight_at : 0;

	for (int k = 0; k < SNAP_CONC_LEVELS && k < CONC_LEVELS; k++) {
		b->live_ns[k] += info->live_ns[k];
		b->inflight_ns[k] += info->inflight_ns[k];
	}
	b->live_ns[info->live < SNAP_CONC_LEVELS ? info->live : SNAP_CONC_LEVELS - 1] += live_span;
	b->inflight_ns[info->inflight < SNAP_CONC_LEVELS ? info->inflight : SNAP_CONC_LEVELS - 1] +=
		inflight_span;
	if ((int)info->live_max > b->live_max)
		b->live_max = (int)info->live_max;
	if ((int)info->inflight_max > b->inflight_max)
		b->inflight_max = (int)info->inflight_max;
	b->conc_measured = true;
}

/* The threads of the process named as its first to run a handler: a pool's
 * workers, named alike, that ran none are not among the servers seen. */
static void add_named_threads(struct snap_bundle *b, const struct inst_info *info)
{
	char name[sizeof(info->first_comm) + 1], own[sizeof(name)];
	int n;

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(info->first_comm), info->first_comm);
	if (!info->tgid || !name[0] || (b->worker_name && strcmp(b->worker_name, name)))
		return; /* another process's workers are named otherwise: the first's stand */
	/* threads not named apart bear the process's name, and say nothing */
	if (proc_comm((int)info->tgid, own, sizeof(own)) || !strcmp(own, name))
		return;
	n = proc_threads_named((int)info->tgid, name);
	if (n <= 0)
		return; /* gone */
	if (!b->worker_name)
		b->worker_name = xstrdup(name);
	b->named_threads += n;
}

/* A process's wake-ups (bpf/sched.bpf.h wake_ended). */
static void add_wakeups(struct snap_wakeups *w, const struct inst_info *info)
{
	for (int k = 0; k < SNAP_WAKE_BUCKETS && k < WAKE_BUCKETS; k++) {
		w->periods[k] += info->wake_periods[k];
		w->calls[k] += info->wake_calls[k];
		w->cpu_ns[k] += info->wake_cpu_ns[k];
		w->probe_ns[k] += info->wake_probe_ns[k];
	}
	w->measured = true;
}

/* One instance slot's per-handler figures into the snapshot; pid 0 is the
 * slot pooling the processes past --max-instances. */
static void collect_slot(struct recorder *r, const struct flowfile *ff,
			 const struct resolution *res, struct snapshot *s, uint32_t slot,
			 const struct inst_info *info)
{
	bool any = false;

	int fd = recorder_map_fd(r, RMAP_INSTANCE_STATS);
	uint32_t nh = (uint32_t)recorder_bpf_handlers(r);
	bool *in_bundle = xcalloc((size_t)ff->n_bundles, sizeof(bool));
	struct percpu_run run = { 0 };

	percpu_run_read(&run, fd, sizeof(struct inst_stats), slot * nh, (uint32_t)ff->n_handlers);
	for (int h = 0; h < ff->n_handlers; h++) {
		struct snap_handler *sh = &s->handlers[h];
		struct snap_instance_stats *is;
		uint64_t calls = 0, total = 0;
		size_t stride;
		const char *buf = percpu_run_get(&run, fd, sizeof(struct inst_stats),
						 slot * nh + (uint32_t)h, &stride);

		if (!buf)
			continue;
		for (int c = 0; c < ncpus(); c++) {
			const struct inst_stats *v = (const void *)(buf + (size_t)c * stride);

			calls += v->calls;
			total += v->total_ns;
		}
		if (!calls)
			continue;
		sh->instances = xrealloc(sh->instances, (size_t)(sh->n_instances + 1) * sizeof(*is));
		is = &sh->instances[sh->n_instances++];
		memset(is, 0, sizeof(*is));
		is->pid = (int)info->tgid;
		is->calls = calls;
		is->total_ns = total;
		in_bundle[ff->handlers[h].bundle] = true;
		any = true;
	}
	/* a process whose calls are all still running (or never returned)
	 * has no completed call to say its bundle: the bundle it was found in */
	for (int b = 0; !any && info->tgid && info->threads && res && b < res->n_bundles; b++)
		for (int i = 0; i < res->bundles[b].n_pids; i++)
			if (res->bundles[b].pids[i] == (int)info->tgid)
				in_bundle[b] = true;
	for (int b = 0; b < ff->n_bundles; b++) {
		if (!in_bundle[b])
			continue;
		if (info->tgid)
			add_pid(&s->bundles[b], (int)info->tgid, (int)info->threads);
		add_named_threads(&s->bundles[b], info);
		s->bundles[b].threads += (int)info->threads;
		add_concurrency(&s->bundles[b], info);
		if (recorder_info(r)->wakeups)
			add_wakeups(&s->bundles[b].wake, info);
	}
	percpu_run_free(&run);
	free(in_bundle);
}

/* Per-process figures: each process got an instance slot on its first call. */
static void collect_instances(struct recorder *r, const struct flowfile *ff,
			      const struct resolution *res, struct snapshot *s)
{
	int slots = recorder_map_fd(r, RMAP_INSTANCES), infos = recorder_map_fd(r, RMAP_INSTANCE_INFO);
	uint32_t key, next, *pkey = NULL, pool = (uint32_t)recorder_max_instances(r);
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
	while (!bpf_map_get_next_key(slots, pkey, &next)) {
		uint32_t slot;

		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(slots, &key, &slot) ||
		    bpf_map_lookup_elem(infos, &slot, &info))
			continue;
		collect_exit_cpu(r, slot, &info);
		collect_slot(r, ff, res, s, slot, &info);
	}
	if (!bpf_map_lookup_elem(infos, &pool, &info)) {
		info.tgid = 0;
		collect_slot(r, ff, res, s, pool, &info);
	}
	for (int b = 0; b < ff->n_bundles; b++) {
		sort_pids(&s->bundles[b]);
		collect_bundle_cpus(&s->bundles[b], (int)sysconf(_SC_NPROCESSORS_ONLN));
	}
}

int collect_snapshot(struct recorder *r, const struct flowfile *ff, const struct resolution *res,
		     struct snapshot *s)
{
	const uint64_t *cnt = recorder_counters(r);

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
	s->switch_ins_estimated = cnt[CNT_SWITCH_IN_UNSEEN];
	s->probe_waits = cnt[CNT_PROBE_WAITS];
	s->attach_mode = xstrdup(attach_mode_name(recorder_info(r)->mode));
	return 0;
}
