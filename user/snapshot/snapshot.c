// SPDX-License-Identifier: MIT
/*
 * The snapshot (docs/snapshot.md): derived figures, lookups, freeing, and
 * the helpers the stage's other files share (snapshot_int.h). The document
 * is written by snapshot_write.c, loaded by snapshot_load.c (each value
 * checked by snapshot_validate.c), compared by snapshot_equal.c and merged
 * by snapshot_merge.c.
 *
 * In memory a snapshot keeps raw sums only; every derived figure of the
 * document (mean, stddev, percentiles, rates, visit ratios) is computed
 * when written and ignored when read, so load -> write -> load is exact.
 */
#include "snapshot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_int.h"

const char *const snapshot_slot_key[SNAP_SLOTS] = {
	[1] = "nop5", [2] = "nop", [3] = "push", [4] = "branch", [5] = "step", [6] = "usdt",
	[8] = "uretprobe", [9] = "ret", [10] = "jmp", [11] = "jmp_indirect", [12] = "usdt_return",
	[13] = "canary_jcc",
};

const char *const snapshot_site_class_key[SNAP_SITE_CLASSES] = { "unknown", "nop5", "emulated",
								  "single-step" };

const struct snap_counter snapshot_counters[SNAP_COUNTERS] = {
	{ "unmatched_returns", offsetof(struct snapshot, unmatched_returns) },
	{ "depth_overflows", offsetof(struct snapshot, depth_overflows) },
	{ "abandoned_frames", offsetof(struct snapshot, abandoned_frames) },
	{ "exited_in_call", offsetof(struct snapshot, exited_in_call) },
	{ "edges_dropped", offsetof(struct snapshot, edges_dropped) },
	{ "instances_dropped", offsetof(struct snapshot, instances_dropped) },
	{ "threads_dropped", offsetof(struct snapshot, threads_dropped) },
	{ "switch_ins_estimated", offsetof(struct snapshot, switch_ins_estimated) },
	{ "probe_waits", offsetof(struct snapshot, probe_waits) },
};

unsigned int snap_site_mask(const struct snap_handler *h)
{
	unsigned int m = h->site_classes & SITE_CLASS_BITS;

	for (unsigned int c = 1; c < ARRAY_SIZE(snapshot_site_class_key); c++)
		if (same_str(h->site_class, snapshot_site_class_key[c]))
			m |= 1u << c;
	return m;
}

int snapshot_parse_time(const char *s, double *out)
{
	return s ? snap_parse_rfc3339(s, out) : -1;
}

/* ---- derived figures ---------------------------------------------------- */

void snapshot_summarize(const struct snap_handler *h, struct handler_summary *out)
{
	long double n, mean, var;

	memset(out, 0, sizeof(*out));
	out->oncpu_mean_ns = h->oncpu_measured ? 0 : NAN;
	if (!h->calls)
		return;
	n = (long double)h->calls;
	mean = (long double)h->total_ns / n;
	out->mean_ns = (double)mean;
	if (h->calls >= 2) {
		/* Population variance; rounding can make it a hair negative. */
		var = h->sumsq_ns2 / n - mean * mean;
		out->stddev_ns = var > 0 ? (double)sqrtl(var) : 0;
	}
	out->p50_ns = hist_percentile(h->hist, 50, h->min_ns, h->max_ns);
	out->p90_ns = hist_percentile(h->hist, 90, h->min_ns, h->max_ns);
	out->p95_ns = hist_percentile(h->hist, 95, h->min_ns, h->max_ns);
	out->p99_ns = hist_percentile(h->hist, 99, h->min_ns, h->max_ns);
	out->self_mean_ns = (double)((long double)h->self_ns / n);
	if (h->oncpu_measured)
		out->oncpu_mean_ns = (double)((long double)h->oncpu_ns / n);
}

/* ---- name indexes (json-c's hash table) --------------------------------- */

static void free_key(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

struct lh_table *snap_index_new(int n)
{
	struct lh_table *t = lh_kchar_table_new(n > 16 ? n : 16, free_key);

	if (!t) {
		fprintf(stderr, "flowprof: error: out of memory\n");
		exit(1);
	}
	return t;
}

bool snap_index_put(struct lh_table *t, const char *key, int i)
{
	if (lh_table_lookup_ex(t, key, NULL))
		return false;
	if (lh_table_insert(t, xstrdup(key), (void *)(intptr_t)(i + 1))) {
		fprintf(stderr, "flowprof: error: out of memory\n");
		exit(1);
	}
	return true;
}

int snap_index_get(struct lh_table *t, const char *key)
{
	void *v;

	return lh_table_lookup_ex(t, key, &v) ? (int)(intptr_t)v - 1 : -1;
}

char *snap_pair_key(const char *a, const char *b)
{
	a = str_or_empty(a);
	return xasprintf("%zu:%s>%s", strlen(a), a, str_or_empty(b));
}

char *snap_proc_key(const char *host, int pid)
{
	host = str_or_empty(host);
	return xasprintf("%zu:%s/%d", strlen(host), host, pid);
}

/* ---- freeing and lookups ------------------------------------------------ */

static void free_edge(struct snap_edge *e)
{
	free(e->from);
	free(e->to);
}

static void free_handler(struct snap_handler *h)
{
	free(h->id);
	free(h->bundle);
	free(h->symbol);
	free(h->binary);
	free(h->site_class);
	free(h->entry_site);
	free(h->exit_site);
	free(h->exits_fallback);
	for (int i = 0; i < h->n_instances; i++)
		free(h->instances[i].host);
	free(h->instances);
}

static void free_flow(struct snap_flow *f)
{
	free(f->name);
	free(f->entry);
	for (int i = 0; i < f->n_visits; i++)
		free(f->visits[i].handler);
	free(f->visits);
	for (int i = 0; i < f->n_declared; i++)
		free_edge(&f->declared[i]);
	free(f->declared);
}

static void free_bundle(struct snap_bundle *b)
{
	free(b->name);
	free(b->pids);
	free(b->pid_threads);
	free(b->worker_name);
	if (b->pid_hosts)
		for (int i = 0; i < b->n_pids; i++)
			free(b->pid_hosts[i]);
	free(b->cpus_source);
	free(b->pid_hosts);
}

void snap_free_host(struct snap_host *h)
{
	free(h->name);
	free(h->kernel);
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->host);
	free(s->kernel);
	free(s->started_at);
	free(s->attach_mode);
	for (int k = 0; k < SNAP_SLOTS; k++)
		free(s->probe_slots[k].behaves_as);
	free(s->flow_file);
	for (int i = 0; i < s->n_handlers; i++)
		free_handler(&s->handlers[i]);
	free(s->handlers);
	for (int i = 0; i < s->n_edges; i++)
		free_edge(&s->edges[i]);
	free(s->edges);
	for (int i = 0; i < s->n_flows; i++)
		free_flow(&s->flows[i]);
	free(s->flows);
	for (int i = 0; i < s->n_bundles; i++)
		free_bundle(&s->bundles[i]);
	free(s->bundles);
	for (int i = 0; i < s->n_hosts; i++)
		snap_free_host(&s->hosts[i]);
	free(s->hosts);
	memset(s, 0, sizeof(*s));
}

struct snap_handler *snapshot_handler(const struct snapshot *s, const char *id)
{
	for (int i = 0; id && i < s->n_handlers; i++)
		if (same_str(s->handlers[i].id, id))
			return &s->handlers[i];
	return NULL;
}

struct snap_bundle *snapshot_bundle(const struct snapshot *s, const char *name)
{
	for (int i = 0; name && i < s->n_bundles; i++)
		if (same_str(s->bundles[i].name, name))
			return &s->bundles[i];
	return NULL;
}

struct snap_flow *snapshot_flow(const struct snapshot *s, const char *name)
{
	for (int i = 0; name && i < s->n_flows; i++)
		if (same_str(s->flows[i].name, name))
			return &s->flows[i];
	return NULL;
}

