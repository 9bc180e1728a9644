// SPDX-License-Identifier: MIT
/*
 * The exact merge of snapshots from several recordings or hosts
 * (`flowprof merge`; the rules are in docs/snapshot.md, "Merging").
 *
 * Every rule below is associative, so a fleet can be merged in any grouping:
 * sums; min and max; "the first one that is set" (dst before src, which
 * keeps the order of the operands); unions that keep first-appearance order;
 * and a worst-of for site classes.
 */
#include "snapshot.h"

#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_int.h"

static void set_first(char **dst, const char *src)
{
	if ((!*dst || !**dst) && src && *src) {
		free(*dst);
		*dst = xstrdup(src);
	}
}

/* How much a probe site costs: the report warns about the dearest. The
 * classes are cheapest first. */
static int site_rank(const char *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(snapshot_site_class_key); i++)
		if (same_str(c, snapshot_site_class_key[i]))
			return (int)i;
	return 0;
}

/* The host a process or instance of snapshot s ran on. */
static const char *host_of(const char *item_host, const struct snapshot *s)
{
	return item_host ? item_host : str_or_empty(s->host);
}

static void copy_instance(struct snap_instance_stats *d, const struct snap_instance_stats *s,
			  const char *host)
{
	*d = *s;
	d->host = dup_or_null(host);
}

static void copy_handler(struct snap_handler *d, const struct snap_handler *s,
			 const struct snapshot *from, bool explicit_hosts)
{
	*d = *s;
	d->id = dup_or_null(s->id);
	d->bundle = dup_or_null(s->bundle);
	d->symbol = dup_or_null(s->symbol);
	d->binary = dup_or_null(s->binary);
	d->site_class = dup_or_null(s->site_class);
	d->entry_site = dup_or_null(s->entry_site);
	d->exit_site = dup_or_null(s->exit_site);
	d->exits_fallback = dup_or_null(s->exits_fallback);
	d->instances = xcalloc((size_t)s->n_instances, sizeof(*d->instances));
	for (int i = 0; i < s->n_instances; i++)
		copy_instance(&d->instances[i], &s->instances[i],
			      explicit_hosts ? host_of(s->instances[i].host, from)
					     : s->instances[i].host);
}

static void copy_edge(struct snap_edge *d, const struct snap_edge *s)
{
	*d = *s;
	d->from = dup_or_null(s->from);
	d->to = dup_or_null(s->to);
}

static void copy_flow(struct snap_flow *d, const struct snap_flow *s)
{
	*d = *s;
	d->name = dup_or_null(s->name);
	d->entry = dup_or_null(s->entry);
	d->visits = xcalloc((size_t)s->n_visits, sizeof(*d->visits));
	for (int i = 0; i < s->n_visits; i++) {
		d->visits[i] = s->visits[i];
		d->visits[i].handler = dup_or_null(s->visits[i].handler);
	}
	d->declared = xcalloc((size_t)s->n_declared, sizeof(*d->declared));
	for (int i = 0; i < s->n_declared; i++)
		copy_edge(&d->declared[i], &s->declared[i]);
}

static void copy_bundle(struct snap_bundle *d, const struct snap_bundle *s,
			const struct snapshot *from, bool explicit_hosts)
{
	*d = *s;
	d->name = dup_or_null(s->name);
	d->cpus_source = dup_or_null(s->cpus_source);
	d->worker_name = dup_or_null(s->worker_name);
	d->pids = xcalloc((size_t)s->n_pids, sizeof(*d->pids));
	memcpy(d->pids, s->pids, (size_t)s->n_pids * sizeof(*d->pids));
	d->pid_threads = NULL;
	if (s->pid_threads) {
		d->pid_threads = xcalloc((size_t)s->n_pids, sizeof(*d->pid_threads));
		memcpy(d->pid_threads, s->pid_threads, (size_t)s->n_pids * sizeof(int));
	}
	d->pid_hosts = NULL;
	if (s->pid_hosts || explicit_hosts) {
		d->pid_hosts = xcalloc((size_t)s->n_pids, sizeof(*d->pid_hosts));
		for (int i = 0; i < s->n_pids; i++) {
			const char *h = s->pid_hosts ? s->pid_hosts[i] : NULL;

			d->pid_hosts[i] = dup_or_null(explicit_hosts ? host_of(h, from) : h);
		}
	}
}

static void copy_snapshot(struct snapshot *d, const struct snapshot *s)
{
	*d = *s;
	d->host = dup_or_null(s->host);
	d->kernel = dup_or_null(s->kernel);
	d->started_at = dup_or_null(s->started_at);
	d->attach_mode = dup_or_null(s->attach_mode);
	d->flow_file = dup_or_null(s->flow_file);
	for (int k = 0; k < SNAP_SLOTS; k++)
		d->probe_slots[k].behaves_as = dup_or_null(s->probe_slots[k].behaves_as);
	d->hosts = xcalloc((size_t)s->n_hosts, sizeof(*d->hosts));
	for (int i = 0; i < s->n_hosts; i++) {
		d->hosts[i] = s->hosts[i];
		d->hosts[i].name = dup_or_null(s->hosts[i].name);
		d->hosts[i].kernel = dup_or_null(s->hosts[i].kernel);
	}
	d->handlers = xcalloc((size_t)s->n_handlers, sizeof(*d->handlers));
	for (int i = 0; i < s->n_handlers; i++)
		copy_handler(&d->handlers[i], &s->handlers[i], s, false);
	d->edges = xcalloc((size_t)s->n_edges, sizeof(*d->edges));
	for (int i = 0; i < s->n_edges; i++)
		copy_edge(&d->edges[i], &s->edges[i]);
	d->flows = xcalloc((size_t)s->n_flows, sizeof(*d->flows));
	for (int i = 0; i < s->n_flows; i++)
		copy_flow(&d->flows[i], &s->flows[i]);
	d->bundles = xcalloc((size_t)s->n_bundles, sizeof(*d->bundles));
	for (int i = 0; i < s->n_bundles; i++)
		copy_bundle(&d->bundles[i], &s->bundles[i], s, false);
}

static bool snapshot_is_empty(const struct snapshot *s)
{
	return !s->version && !s->host && !s->n_handlers && !s->n_flows && !s->n_bundles &&
	       !s->n_edges && !s->n_hosts;
}

/* What merge would refuse, checked before anything in dst changes. */
static int merge_conflicts(const struct snapshot *dst, const struct snapshot *src, char *err,
			   size_t errlen)
{
	struct lh_table *idx = snap_index_new(dst->n_handlers);

	for (int i = 0; i < dst->n_handlers; i++)
		snap_index_put(idx, str_or_empty(dst->handlers[i].id), i);
	for (int i = 0; i < src->n_handlers; i++) {
		int j = snap_index_get(idx, str_or_empty(src->handlers[i].id));
		const struct snap_handler *a = j >= 0 ? &dst->handlers[j] : NULL;

		if (a && !same_str(a->bundle, src->handlers[i].bundle)) {
			snprintf(err, errlen, "handler %s is in bundle %s in one snapshot and in "
				 "bundle %s in the other", str_or_empty(a->id),
				 str_or_empty(a->bundle), str_or_empty(src->handlers[i].bundle));
			lh_table_free(idx);
			return -1;
		}
	}
	lh_table_free(idx);
	for (int i = 0; i < src->n_flows; i++) {
		const struct snap_flow *a = snapshot_flow(dst, src->flows[i].name);

		if (a && !same_str(a->entry, src->flows[i].entry)) {
			snprintf(err, errlen, "flow %s has entry %s in one snapshot and %s in the "
				 "other (recorded with different flow files?)", str_or_empty(a->name),
				 str_or_empty(a->entry), str_or_empty(src->flows[i].entry));
			return -1;
		}
	}
	return 0;
}

/* The hosts of s as a table (one entry made from the top level when s is
 * from one host). Entries point into s. */
static int hosts_view(const struct snapshot *s, struct snap_host *one, const struct snap_host **out)
{
	if (s->n_hosts > 0) {
		*out = s->hosts;
		return s->n_hosts;
	}
	one->name = s->host;
	one->kernel = s->kernel;
	one->nproc = s->nproc;
	one->probe_cost_ns = s->probe_cost_ns;
	*out = one;
	return 1;
}

/* Merges the host tables; returns the merged table (owned) and its size. */
static struct snap_host *merge_host_tables(const struct snapshot *dst, const struct snapshot *src,
					   int *n_out)
{
	struct snap_host one_d, one_s, *table;
	const struct snap_host *hd, *hs;
	int nd = hosts_view(dst, &one_d, &hd), ns = hosts_view(src, &one_s, &hs), n = 0;

	table = xcalloc((size_t)(nd + ns), sizeof(*table));
	for (int pass = 0; pass < 2; pass++) {
		const struct snap_host *from = pass ? hs : hd;

		for (int i = 0; i < (pass ? ns : nd); i++) {
			int j;

			for (j = 0; j < n; j++)
				if (same_str(table[j].name, from[i].name))
					break;
			if (j == n) {
				table[n].name = xstrdup(str_or_empty(from[i].name));
				table[n].kernel = dup_or_null(from[i].kernel);
				table[n].nproc = from[i].nproc;
				table[n].probe_cost_ns = from[i].probe_cost_ns;
				n++;
				continue;
			}
			/* The same host recorded twice: same CPUs, the first calibration. */
			if (from[i].nproc > table[j].nproc)
				table[j].nproc = from[i].nproc;
			if (!table[j].probe_cost_ns)
				table[j].probe_cost_ns = from[i].probe_cost_ns;
			set_first(&table[j].kernel, from[i].kernel);
		}
	}
	*n_out = n;
	return table;
}

/* Top-level host fields from the host table: names and distinct kernels
 * joined with ",", CPUs summed, the mean of the known probe costs. */
static void apply_host_table(struct snapshot *dst, struct snap_host *table, int n)
{
	char *host = xstrdup(""), *kernel = xstrdup(""), *t;
	double cost = 0;
	int nproc = 0, known = 0;

	for (int i = 0; i < n; i++) {
		bool seen = false;

		t = xasprintf("%s%s%s", host, i ? "," : "", table[i].name);
		free(host);
		host = t;
		for (int j = 0; j < i; j++)
			seen |= same_str(table[j].kernel, table[i].kernel);
		if (!seen && table[i].kernel && *table[i].kernel) {
			t = xasprintf("%s%s%s", kernel, *kernel ? "," : "", table[i].kernel);
			free(kernel);
			kernel = t;
		}
		nproc += table[i].nproc;
		if (table[i].probe_cost_ns > 0) {
			cost += table[i].probe_cost_ns;
			known++;
		}
	}
	for (int i = 0; i < dst->n_hosts; i++)
		snap_free_host(&dst->hosts[i]);
	free(dst->hosts);
	free(dst->host);
	free(dst->kernel);
	if (n == 1) {
		/* Still one host: the top level says it all. */
		dst->host = host;
		dst->kernel = dup_or_null(table[0].kernel);
		dst->nproc = table[0].nproc;
		dst->probe_cost_ns = table[0].probe_cost_ns;
		free(kernel);
		snap_free_host(&table[0]);
		free(table);
		dst->hosts = NULL;
		dst->n_hosts = 0;
		return;
	}
	dst->host = host;
	dst->kernel = kernel;
	dst->nproc = nproc;
	dst->probe_cost_ns = known ? cost / known : 0;
	dst->hosts = table;
	dst->n_hosts = n;
}

/* Earlier of two start times: parsed times first, in time order; then text. */
static bool starts_before(const char *a, const char *b)
{
	double ta, tb;
	bool pa = a && !snap_parse_rfc3339(a, &ta), pb = b && !snap_parse_rfc3339(b, &tb);

	if (pa != pb)
		return pa;
	if (pa && ta != tb)
		return ta < tb;
	return strcmp(str_or_empty(a), str_or_empty(b)) < 0;
}

static void merge_instances(struct snap_handler *d, const struct snap_handler *s,
			    const char *dst_host, const struct snapshot *src_snap,
			    bool explicit_hosts)
{
	struct lh_table *idx = snap_index_new(d->n_instances + s->n_instances);
	size_t cap = (size_t)d->n_instances;

	for (int i = 0; i < d->n_instances; i++) {
		char *key = snap_proc_key(d->instances[i].host ? d->instances[i].host : dst_host,
					  d->instances[i].pid);

		snap_index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < s->n_instances; i++) {
		const struct snap_instance_stats *si = &s->instances[i];
		const char *h = host_of(si->host, src_snap);
		char *key = snap_proc_key(h, si->pid);
		int j = snap_index_get(idx, key);

		if (j >= 0) {
			d->instances[j].calls += si->calls;
			d->instances[j].total_ns += si->total_ns;
		} else {
			grow_array((void **)&d->instances, &cap, (size_t)d->n_instances + 1,
				   sizeof(*d->instances));
			copy_instance(&d->instances[d->n_instances], si,
				      explicit_hosts ? h : si->host);
			snap_index_put(idx, key, d->n_instances++);
		}
		free(key);
	}
	lh_table_free(idx);
}

static void merge_handler(struct snap_handler *d, const struct snap_handler *s,
			  const char *dst_host, const struct snapshot *src_snap,
			  bool explicit_hosts)
{
	set_first(&d->symbol, s->symbol);
	set_first(&d->binary, s->binary);
	d->site_classes = snapshot_site_classes(snap_site_mask(d) | snap_site_mask(s));
	if (site_rank(s->site_class) > site_rank(d->site_class)) {
		free(d->site_class);
		d->site_class = dup_or_null(s->site_class);
	}
	if (!d->probe_cost_ns)
		d->probe_cost_ns = s->probe_cost_ns;
	/* Recordings side by side (the fleet case): calls in progress add up. */
	d->inflight_mean += s->inflight_mean;
	d->serial |= s->serial;
	d->entries += s->entries;
	d->calls += s->calls;
	d->incomplete += s->incomplete;
	d->total_ns += s->total_ns;
	d->self_ns += s->self_ns;
	/* On-CPU sums only mean something when every recording measured them. */
	d->oncpu_measured = d->oncpu_measured && s->oncpu_measured;
	d->oncpu_ns = d->oncpu_measured ? d->oncpu_ns + s->oncpu_ns : 0;
	if (s->min_ns && (!d->min_ns || s->min_ns < d->min_ns))
		d->min_ns = s->min_ns;
	if (s->max_ns > d->max_ns)
		d->max_ns = s->max_ns;
	d->sumsq_ns2 += s->sumsq_ns2;
	hist_add(d->hist, s->hist);
	d->unwound += s->unwound;
	/* corrections only mean something when every recording made them */
	d->probe_measured = d->probe_measured && s->probe_measured;
	d->probe_ns = d->probe_measured ? d->probe_ns + s->probe_ns : 0;
	d->self_probe_ns = d->probe_measured ? d->self_probe_ns + s->self_probe_ns : 0;
	d->nested_calls = d->probe_measured ? d->nested_calls + s->nested_calls : 0;
	d->probe_cpu_measured = d->probe_cpu_measured && s->probe_cpu_measured;
	d->probe_cpu_ns = d->probe_cpu_measured ? d->probe_cpu_ns + s->probe_cpu_ns : 0;
	d->probe_wait_ns += s->probe_wait_ns;
	d->runq_measured = d->runq_measured && s->runq_measured;
	d->runq_ns = d->runq_measured ? d->runq_ns + s->runq_ns : 0;
	/* every recording's arrivals, or none: a part would read as all */
	d->arrival_measured = d->arrival_measured && s->arrival_measured;
	if (d->arrival_measured) {
		d->arrival.calls += s->arrival.calls;
		d->arrival.ns += s->arrival.ns;
		d->arrival.probe_ns += s->arrival.probe_ns;
		d->arrival.self_ns += s->arrival.self_ns;
		d->arrival.self_probe_ns += s->arrival.self_probe_ns;
	} else {
		memset(&d->arrival, 0, sizeof(d->arrival));
	}
	set_first(&d->entry_site, s->entry_site);
	set_first(&d->exit_site, s->exit_site);
	set_first(&d->exits_fallback, s->exits_fallback);
	merge_instances(d, s, dst_host, src_snap, explicit_hosts);
}

static void merge_edge_list(struct snap_edge **arr, int *n, const struct snap_edge *src, int ns)
{
	struct lh_table *idx = snap_index_new(*n + ns);
	size_t cap = (size_t)*n;

	for (int i = 0; i < *n; i++) {
		char *key = snap_pair_key((*arr)[i].from, (*arr)[i].to);

		snap_index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < ns; i++) {
		char *key = snap_pair_key(src[i].from, src[i].to);
		int j = snap_index_get(idx, key);

		if (j >= 0) {
			(*arr)[j].calls += src[i].calls;
			(*arr)[j].declared |= src[i].declared;
			(*arr)[j].async |= src[i].async;
			(*arr)[j].waits |= src[i].waits;
		} else {
			grow_array((void **)arr, &cap, (size_t)*n + 1, sizeof(**arr));
			copy_edge(&(*arr)[*n], &src[i]);
			snap_index_put(idx, key, (*n)++);
		}
		free(key);
	}
	lh_table_free(idx);
}

static void merge_flow(struct snap_flow *d, const struct snap_flow *s)
{
	struct lh_table *idx = snap_index_new(d->n_visits + s->n_visits);
	size_t cap = (size_t)d->n_visits;

	d->invocations += s->invocations;
	for (int j = 0; j < d->n_visits; j++)
		snap_index_put(idx, str_or_empty(d->visits[j].handler), j);
	for (int i = 0; i < s->n_visits; i++) {
		int j = snap_index_get(idx, str_or_empty(s->visits[i].handler));

		if (j < 0) {
			grow_array((void **)&d->visits, &cap, (size_t)d->n_visits + 1,
				   sizeof(*d->visits));
			j = d->n_visits++;
			d->visits[j].handler = dup_or_null(s->visits[i].handler);
			snap_index_put(idx, str_or_empty(d->visits[j].handler), j);
		}
		d->visits[j].calls += s->visits[i].calls;
	}
	lh_table_free(idx);
	merge_edge_list(&d->declared, &d->n_declared, s->declared, s->n_declared);
}

static void merge_bundle(struct snap_bundle *d, const struct snap_bundle *s,
			 const char *dst_host, const struct snapshot *src_snap, bool explicit_hosts)
{
	struct lh_table *idx = snap_index_new(d->n_pids + s->n_pids);
	bool known = d->pid_threads && s->pid_threads;
	int n0 = d->n_pids, n = d->n_pids, sum = 0;

	d->pids = xrealloc(d->pids, (size_t)(n0 + s->n_pids) * sizeof(*d->pids));
	if (d->pid_threads)
		d->pid_threads = xrealloc(d->pid_threads,
					  (size_t)(n0 + s->n_pids) * sizeof(*d->pid_threads));
	if (d->pid_hosts || s->pid_hosts || explicit_hosts) {
		char **hosts = xcalloc((size_t)(n0 + s->n_pids), sizeof(*hosts));

		if (d->pid_hosts)
			memcpy(hosts, d->pid_hosts, (size_t)n0 * sizeof(*hosts));
		free(d->pid_hosts);
		d->pid_hosts = hosts;
	}
	for (int i = 0; i < n0; i++) {
		const char *h = d->pid_hosts && d->pid_hosts[i] ? d->pid_hosts[i] : dst_host;
		char *key = snap_proc_key(h, d->pids[i]);

		snap_index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < s->n_pids; i++) {
		const char *h = host_of(s->pid_hosts ? s->pid_hosts[i] : NULL, src_snap);
		char *key = snap_proc_key(h, s->pids[i]);
		int j = snap_index_get(idx, key);

		if (j < 0) {
			j = n++;
			d->pids[j] = s->pids[i];
			if (d->pid_threads)
				d->pid_threads[j] = 0;
			if (d->pid_hosts)
				d->pid_hosts[j] = dup_or_null(
					explicit_hosts ? h : s->pid_hosts ? s->pid_hosts[i] : NULL);
			snap_index_put(idx, key, j);
		}
		/* A process seen in two recordings: its pool did not grow. */
		if (known && s->pid_threads[i] > d->pid_threads[j])
			d->pid_threads[j] = s->pid_threads[i];
		free(key);
	}
	d->n_pids = n;
	lh_table_free(idx);
	if (known) {
		for (int i = 0; i < n; i++)
			sum += d->pid_threads[i];
		d->threads = sum;
	} else {
		free(d->pid_threads);
		d->pid_threads = NULL;
		d->threads += s->threads;
	}
	/* workers named alike: the most seen (a process recorded twice does
	 * not double its pool); unknown where the names differ */
	if (d->worker_name && s->worker_name && !strcmp(d->worker_name, s->worker_name)) {
		if (s->named_threads > d->named_threads)
			d->named_threads = s->named_threads;
	} else {
		free(d->worker_name);
		d->worker_name = NULL;
		d->named_threads = 0;
	}
	if (!d->instances)
		d->instances = s->instances;
	if (!d->workers)
		d->workers = s->workers;
	d->serial |= s->serial;
	/* processes side by side: time at each level adds up (per process) */
	if (s->conc_measured) {
		for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
			d->live_ns[k] += s->live_ns[k];
			d->inflight_ns[k] += s->inflight_ns[k];
		}
		if (s->live_max > d->live_max)
			d->live_max = s->live_max;
		if (s->inflight_max > d->inflight_max)
			d->inflight_max = s->inflight_max;
		d->conc_measured = true;
	}
	/* processes side by side: their wake-ups add up; kept only where
	 * both sides have them (a part would be read as the whole) */
	if (d->wake.measured && s->wake.measured) {
		for (int k = 0; k < SNAP_WAKE_BUCKETS; k++) {
			d->wake.periods[k] += s->wake.periods[k];
			d->wake.calls[k] += s->wake.calls[k];
			d->wake.cpu_ns[k] += s->wake.cpu_ns[k];
			d->wake.probe_ns[k] += s->wake.probe_ns[k];
		}
	} else {
		memset(&d->wake, 0, sizeof(d->wake));
	}
	d->cpu_measured = d->cpu_measured && s->cpu_measured;
	d->cpu_s = d->cpu_measured ? d->cpu_s + s->cpu_s : 0;
	d->sleeps = d->cpu_measured && d->sleeps && s->sleeps ? d->sleeps + s->sleeps : 0;
	/* side by side, as the windows are: their rates add, over the longer
	 * of the two lengths (a rate over a shorter window stays that rate) */
	d->unprobed_measured = d->unprobed_measured && s->unprobed_measured &&
			       d->unprobed_s > 0 && s->unprobed_s > 0 && d->late_s > 0 && s->late_s > 0;
	if (d->unprobed_measured) {
		double u = fmax(d->unprobed_s, s->unprobed_s), l = fmax(d->late_s, s->late_s);

		d->unprobed_cpu_s = u * (d->unprobed_cpu_s / d->unprobed_s +
					 s->unprobed_cpu_s / s->unprobed_s);
		d->unprobed_sleeps = d->unprobed_sleeps && s->unprobed_sleeps
			? (uint64_t)llround(u * ((double)d->unprobed_sleeps / d->unprobed_s +
						 (double)s->unprobed_sleeps / s->unprobed_s)) : 0;
		d->late_calls = (uint64_t)llround(l * ((double)d->late_calls / d->late_s +
						       (double)s->late_calls / s->late_s));
		/* counted in both: the counts' rates add as the CPU time's do,
		 * the windows' calls add */
		if (d->counted_calls && s->counted_calls && d->counted_s > 0 && s->counted_s > 0) {
			double c = fmax(d->counted_s, s->counted_s);

			d->counted_cpu_s = c * (d->counted_cpu_s / d->counted_s +
						s->counted_cpu_s / s->counted_s);
			d->counted_probe_s = c * (d->counted_probe_s / d->counted_s +
						  s->counted_probe_s / s->counted_s);
			d->counted_calls = (uint64_t)llround(
				c * ((double)d->counted_calls / d->counted_s +
				     (double)s->counted_calls / s->counted_s));
			d->counted_window_calls += s->counted_window_calls;
			d->counted_s = c;
		} else {
			d->counted_calls = d->counted_window_calls = 0;
			d->counted_s = d->counted_cpu_s = d->counted_probe_s = 0;
		}
		d->unprobed_s = u;
		d->late_s = l;
	} else {
		d->unprobed_s = d->unprobed_cpu_s = d->late_s = 0;
		d->late_calls = d->unprobed_sleeps = 0;
		d->counted_calls = d->counted_window_calls = 0;
		d->counted_s = d->counted_cpu_s = d->counted_probe_s = 0;
	}
	/* the CPUs of another host add up; of the same host they are the same */
	if (s->cpus > 0 && (!same_str(dst_host, host_of(NULL, src_snap)) || s->cpus > d->cpus)) {
		d->cpus = same_str(dst_host, host_of(NULL, src_snap)) ? s->cpus : d->cpus + s->cpus;
		set_first(&d->cpus_source, s->cpus_source);
	}
}

/* Gives every instance and process of dst an explicit host, before dst's
 * top-level host becomes a list. */
static void make_hosts_explicit(struct snapshot *dst, const char *host)
{
	for (int i = 0; i < dst->n_handlers; i++)
		for (int k = 0; k < dst->handlers[i].n_instances; k++)
			if (!dst->handlers[i].instances[k].host)
				dst->handlers[i].instances[k].host = xstrdup(host);
	for (int i = 0; i < dst->n_bundles; i++) {
		struct snap_bundle *b = &dst->bundles[i];

		if (!b->pid_hosts)
			b->pid_hosts = xcalloc((size_t)b->n_pids, sizeof(*b->pid_hosts));
		for (int k = 0; k < b->n_pids; k++)
			if (!b->pid_hosts[k])
				b->pid_hosts[k] = xstrdup(host);
	}
}

int snapshot_merge(struct snapshot *dst, const struct snapshot *src, char *err, size_t errlen)
{
	struct lh_table *idx;
	struct snap_host *table;
	char *dst_host;
	size_t cap;
	int n_hosts;
	bool multi;

	if (err && errlen)
		err[0] = '\0';
	if (snapshot_is_empty(dst)) {
		copy_snapshot(dst, src);
		dst->version = SNAPSHOT_VERSION;
		return 0;
	}
	if (merge_conflicts(dst, src, err ? err : (char[1]){ 0 }, err ? errlen : 1))
		return -1;

	dst_host = xstrdup(str_or_empty(dst->host));
	table = merge_host_tables(dst, src, &n_hosts);
	multi = n_hosts > 1;
	if (multi)
		make_hosts_explicit(dst, dst_host);

	idx = snap_index_new(dst->n_handlers + src->n_handlers);
	for (int i = 0; i < dst->n_handlers; i++)
		snap_index_put(idx, str_or_empty(dst->handlers[i].id), i);
	cap = (size_t)dst->n_handlers;
	for (int i = 0; i < src->n_handlers; i++) {
		const struct snap_handler *sh = &src->handlers[i];
		int j = snap_index_get(idx, str_or_empty(sh->id));

		if (j >= 0) {
			merge_handler(&dst->handlers[j], sh, dst_host, src, multi);
			continue;
		}
		grow_array((void **)&dst->handlers, &cap, (size_t)dst->n_handlers + 1,
			   sizeof(*dst->handlers));
		copy_handler(&dst->handlers[dst->n_handlers], sh, src, multi);
		snap_index_put(idx, str_or_empty(sh->id), dst->n_handlers++);
	}
	lh_table_free(idx);

	merge_edge_list(&dst->edges, &dst->n_edges, src->edges, src->n_edges);

	cap = (size_t)dst->n_flows;
	for (int i = 0; i < src->n_flows; i++) {
		struct snap_flow *f = snapshot_flow(dst, src->flows[i].name);

		if (f) {
			merge_flow(f, &src->flows[i]);
			continue;
		}
		grow_array((void **)&dst->flows, &cap, (size_t)dst->n_flows + 1,
			   sizeof(*dst->flows));
		copy_flow(&dst->flows[dst->n_flows++], &src->flows[i]);
	}

	cap = (size_t)dst->n_bundles;
	for (int i = 0; i < src->n_bundles; i++) {
		struct snap_bundle *b = snapshot_bundle(dst, src->bundles[i].name);

		if (b) {
			merge_bundle(b, &src->bundles[i], dst_host, src, multi);
			continue;
		}
		grow_array((void **)&dst->bundles, &cap, (size_t)dst->n_bundles + 1,
			   sizeof(*dst->bundles));
		copy_bundle(&dst->bundles[dst->n_bundles++], &src->bundles[i], src, multi);
	}

	for (int k = 0; k < SNAP_COUNTERS; k++)
		*snapshot_counter(dst, k) += snapshot_counter_value(src, k);
	if (src->duration_s > dst->duration_s)
		dst->duration_s = src->duration_s;
	if (src->attach_ms > dst->attach_ms)
		dst->attach_ms = src->attach_ms;
	if (src->detach_ms > dst->detach_ms)
		dst->detach_ms = src->detach_ms;
	for (size_t c = 0; c < ARRAY_SIZE(dst->probe_cost); c++)
		if (!dst->probe_cost[c].measured)
			dst->probe_cost[c] = src->probe_cost[c];
	for (int k = 0; k < SNAP_SLOTS; k++)
		if (!dst->probe_slots[k].measured && src->probe_slots[k].measured) {
			dst->probe_slots[k] = src->probe_slots[k];
			dst->probe_slots[k].behaves_as = dup_or_null(src->probe_slots[k].behaves_as);
		}
	if (!dst->calib_rounds)
		dst->calib_rounds = src->calib_rounds;
	/* the busy time of different hosts adds up; one host's, recorded side
	 * by side, is the same */
	if (src->host_cpu_measured)
		dst->host_cpu_s = multi ? dst->host_cpu_s + src->host_cpu_s
					: fmax(dst->host_cpu_s, src->host_cpu_s);
	dst->host_cpu_measured = dst->host_cpu_measured || src->host_cpu_measured;
	if (src->bundle_cpus_busy_measured)
		dst->bundle_cpus_busy_s = multi ? dst->bundle_cpus_busy_s + src->bundle_cpus_busy_s
						: fmax(dst->bundle_cpus_busy_s, src->bundle_cpus_busy_s);
	dst->bundle_cpus_busy_measured = dst->bundle_cpus_busy_measured ||
					 src->bundle_cpus_busy_measured;
	if (starts_before(src->started_at, dst->started_at)) {
		free(dst->started_at);
		dst->started_at = dup_or_null(src->started_at);
	}
	set_first(&dst->attach_mode, src->attach_mode);
	set_first(&dst->flow_file, src->flow_file);
	apply_host_table(dst, table, n_hosts);
	dst->version = SNAPSHOT_VERSION;
	free(dst_host);
	return 0;
}
