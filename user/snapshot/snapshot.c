// SPDX-License-Identifier: MIT
/*
 * The snapshot document (docs/snapshot.md): derived figures, JSON writer,
 * a loader that trusts nothing it reads, field-by-field equality, and the
 * exact merge of snapshots from several recordings or hosts.
 *
 * In memory a snapshot keeps raw sums only; every derived figure of the
 * document (mean, stddev, percentiles, rates, visit ratios) is computed
 * when written and ignored when read, so load -> write -> load is exact.
 */
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base/base.h"

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(str_or_empty(a), str_or_empty(b)) == 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

const char *const snapshot_slot_key[SNAP_SLOTS] = {
	[1] = "nop5", [2] = "nop", [3] = "push", [4] = "branch", [5] = "step", [6] = "usdt",
	[8] = "uretprobe", [9] = "ret", [10] = "jmp", [11] = "jmp_indirect", [12] = "usdt_return",
};

/* Keys of the "probe_cost" object, indexed like enum site_class (resolve.h). */
static const char *const site_class_key[4] = { "unknown", "nop5", "emulated", "single-step" };

/* Bits of snap_handler.site_classes: the three classes, not "unknown". */
#define SITE_CLASS_BITS 0xeu

/* A handler's classes as a mask: its site_class, and site_classes if set. */
static unsigned int site_mask(const struct snap_handler *h)
{
	unsigned int m = h->site_classes & SITE_CLASS_BITS;

	for (unsigned int c = 1; c < ARRAY_SIZE(site_class_key); c++)
		if (same_str(h->site_class, site_class_key[c]))
			m |= 1u << c;
	return m;
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

/* ---- writing ------------------------------------------------------------ */

/* Decimals of derived figures: ns values to 0.1 ns, rates to 0.001/s. */
#define NS_DECIMALS 1
#define RATE_DECIMALS 3
#define VISIT_DECIMALS 6

/*
 * Histogram arrays are printed straight from the snapshot's counts when the
 * document is serialized: a json-c node per bucket costs ~100 bytes, tens of
 * MB for a thousand handlers. So the snapshot must outlive the JSON object,
 * and the arrays look empty to json-c's accessors (only their text is real).
 */
struct hist_view {
	const uint64_t *hist;	/* NULL: empty histogram */
	unsigned int first, last;
	bool bounds;		/* bucket edges (last + 2 values) rather than counts */
};

static int hist_view_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct hist_view *v = json_object_get_userdata(jso);
	char num[32];

	(void)level;
	(void)flags;
	printbuf_strappend(pb, "[");
	for (unsigned int b = v->first; v->hist && b <= v->last; b++) {
		unsigned long long x = v->bounds ? hist_bucket_lower(b) : v->hist[b];

		snprintf(num, sizeof(num), "%s%llu", b == v->first ? "" : ", ", x);
		printbuf_memappend(pb, num, (int)strlen(num));
	}
	if (v->hist && v->bounds) {
		snprintf(num, sizeof(num), ", %llu", (unsigned long long)hist_bucket_upper(v->last));
		printbuf_memappend(pb, num, (int)strlen(num));
	}
	printbuf_strappend(pb, "]");
	return 0;
}

static json_object *hist_array(const uint64_t *hist, unsigned int first, unsigned int last,
			       bool bounds)
{
	json_object *arr = json_object_new_array();
	struct hist_view *v = xmalloc(sizeof(*v));

	v->hist = hist;
	v->first = first;
	v->last = last;
	v->bounds = bounds;
	json_object_set_serializer(arr, hist_view_to_string, v, json_object_free_userdata);
	return arr;
}

static json_object *histogram_json(const uint64_t hist[HIST_BUCKETS])
{
	json_object *o = json_object_new_object();
	unsigned int first = 0, last = 0;
	const uint64_t *h = hist_range(hist, &first, &last) ? hist : NULL;

	jo_add(o, "bounds_ns", hist_array(h, first, last, true));
	jo_add(o, "counts", hist_array(h, first, last, false));
	return o;
}

static json_object *handler_json(const struct snap_handler *h)
{
	json_object *o = json_object_new_object(), *inst = json_object_new_array();
	struct handler_summary sum;

	snapshot_summarize(h, &sum);
	jo_add(o, "id", jo_str(str_or_empty(h->id)));
	jo_add(o, "bundle", jo_str(str_or_empty(h->bundle)));
	jo_add(o, "symbol", jo_str(h->symbol));
	jo_add(o, "binary", jo_str(h->binary));
	jo_add(o, "site_class", jo_str(h->site_class ? h->site_class : "unknown"));
	if (snapshot_site_classes(h->site_classes)) { /* only then: older documents stay as they were */
		json_object *cls = json_object_new_array();

		for (unsigned int c = 1; c < ARRAY_SIZE(site_class_key); c++)
			if (h->site_classes & (1u << c))
				json_object_array_add(cls, jo_str(site_class_key[c]));
		jo_add(o, "site_classes", cls);
	}
	jo_add(o, "probe_cost_ns", jo_num_exact(h->probe_cost_ns));
	jo_add(o, "serial", json_object_new_boolean(h->serial));
	jo_add(o, "calls", jo_u64(h->calls));
	jo_add(o, "incomplete", jo_u64(h->incomplete));
	jo_add(o, "entries", jo_u64(h->entries));
	jo_add(o, "inflight_mean", jo_num_exact(h->inflight_mean));
	/* Derived (ignored when loaded): null when there is nothing to average. */
	jo_add(o, "mean_ns", h->calls ? jo_num(sum.mean_ns, NS_DECIMALS) : NULL);
	jo_add(o, "min_ns", jo_u64(h->min_ns));
	jo_add(o, "max_ns", jo_u64(h->max_ns));
	jo_add(o, "stddev_ns", h->calls ? jo_num(sum.stddev_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p50_ns", h->calls ? jo_num(sum.p50_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p90_ns", h->calls ? jo_num(sum.p90_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p95_ns", h->calls ? jo_num(sum.p95_ns, NS_DECIMALS) : NULL);
	jo_add(o, "p99_ns", h->calls ? jo_num(sum.p99_ns, NS_DECIMALS) : NULL);
	jo_add(o, "self_mean_ns", h->calls ? jo_num(sum.self_mean_ns, NS_DECIMALS) : NULL);
	jo_add(o, "oncpu_mean_ns",
	       h->calls && h->oncpu_measured ? jo_num(sum.oncpu_mean_ns, NS_DECIMALS) : NULL);
	/* Raw sums: what load, merge and the model use. */
	jo_add(o, "total_ns", jo_u64(h->total_ns));
	jo_add(o, "self_ns", jo_u64(h->self_ns));
	jo_add(o, "oncpu_ns", h->oncpu_measured ? jo_u64(h->oncpu_ns) : NULL);
	jo_add(o, "sumsq_ns2", jo_long_double(h->sumsq_ns2));
	jo_add(o, "histogram", histogram_json(h->hist));
	jo_add(o, "unwound", jo_u64(h->unwound));
	if (h->probe_measured) {
		jo_add(o, "probe_ns", jo_u64(h->probe_ns));
		jo_add(o, "self_probe_ns", jo_u64(h->self_probe_ns));
		jo_add(o, "nested_calls", jo_u64(h->nested_calls));
	}
	if (h->entry_site)
		jo_add(o, "entry_site", jo_str(h->entry_site));
	if (h->exit_site)
		jo_add(o, "exit_site", jo_str(h->exit_site));
	if (h->exits_fallback)
		jo_add(o, "exits_fallback", jo_str(h->exits_fallback));
	for (int i = 0; i < h->n_instances; i++) {
		const struct snap_instance_stats *is = &h->instances[i];
		json_object *io = json_object_new_object();

		jo_add(io, "pid", jo_int(is->pid));
		if (is->host)
			jo_add(io, "host", jo_str(is->host));
		jo_add(io, "calls", jo_u64(is->calls));
		jo_add(io, "total_ns", jo_u64(is->total_ns));
		json_object_array_add(inst, io);
	}
	jo_add(o, "instances", inst);
	return o;
}

static json_object *edge_json(const struct snap_edge *e, bool with_calls)
{
	json_object *o = json_object_new_object();

	jo_add(o, "from", jo_str(str_or_empty(e->from)));
	jo_add(o, "to", jo_str(str_or_empty(e->to)));
	if (with_calls) {
		jo_add(o, "calls", jo_u64(e->calls));
		jo_add(o, "declared", json_object_new_boolean(e->declared));
	}
	jo_add(o, "async", json_object_new_boolean(e->async));
	if (e->waits) /* only then: older documents stay as they were */
		jo_add(o, "waits", json_object_new_boolean(true));
	return o;
}

static json_object *flow_json(const struct snapshot *s, const struct snap_flow *f)
{
	json_object *o = json_object_new_object(), *visits = json_object_new_object();
	json_object *calls = json_object_new_object(), *declared = json_object_new_array();

	jo_add(o, "name", jo_str(str_or_empty(f->name)));
	jo_add(o, "entry", jo_str(str_or_empty(f->entry)));
	jo_add(o, "invocations", jo_u64(f->invocations));
	jo_add(o, "rate_per_s", s->duration_s > 0
			? jo_num((double)f->invocations / s->duration_s, RATE_DECIMALS) : NULL);
	for (int i = 0; i < f->n_visits; i++) {
		const struct snap_visit *v = &f->visits[i];
		double mean = f->invocations ? (double)v->calls / (double)f->invocations : 0;

		jo_add(visits, str_or_empty(v->handler), jo_num(mean, VISIT_DECIMALS));
		jo_add(calls, str_or_empty(v->handler), jo_u64(v->calls));
	}
	jo_add(o, "visits", visits);
	jo_add(o, "visit_calls", calls);
	for (int i = 0; i < f->n_declared; i++)
		json_object_array_add(declared, edge_json(&f->declared[i], false));
	jo_add(o, "declared_calls", declared);
	return o;
}

/* Time at each concurrency level, up to the highest one used. */
static json_object *conc_array(const uint64_t *levels)
{
	json_object *a = jo_inline_array(json_object_new_array());
	int last = SNAP_CONC_LEVELS - 1;

	while (last > 0 && !levels[last])
		last--;
	for (int k = 0; k <= last; k++)
		json_object_array_add(a, jo_u64(levels[k]));
	return a;
}

static json_object *bundle_json(const struct snap_bundle *b)
{
	json_object *o = json_object_new_object();
	json_object *pids = jo_inline_array(json_object_new_array());

	jo_add(o, "name", jo_str(str_or_empty(b->name)));
	for (int i = 0; i < b->n_pids; i++)
		json_object_array_add(pids, jo_int(b->pids[i]));
	jo_add(o, "pids", pids);
	jo_add(o, "threads", jo_int(b->threads));
	jo_add(o, "instances", jo_int(b->instances));
	jo_add(o, "workers", jo_int(b->workers));
	jo_add(o, "serial", json_object_new_boolean(b->serial));
	if (b->conc_measured) {
		json_object *c = json_object_new_object();

		jo_add(c, "live_max", jo_int(b->live_max));
		jo_add(c, "inflight_max", jo_int(b->inflight_max));
		jo_add(c, "live_ns", conc_array(b->live_ns));
		jo_add(c, "inflight_ns", conc_array(b->inflight_ns));
		jo_add(o, "concurrency", c);
	}
	if (b->cpu_measured)
		jo_add(o, "cpu_s", jo_num_exact(b->cpu_s));
	if (b->cpus > 0) {
		jo_add(o, "cpus", jo_num_exact(b->cpus));
		jo_add(o, "cpus_source", jo_str(b->cpus_source ? b->cpus_source : ""));
	}
	if (b->pid_threads || b->pid_hosts) {
		json_object *procs = json_object_new_array();

		for (int i = 0; i < b->n_pids; i++) {
			json_object *p = json_object_new_object();

			jo_add(p, "pid", jo_int(b->pids[i]));
			if (b->pid_hosts && b->pid_hosts[i])
				jo_add(p, "host", jo_str(b->pid_hosts[i]));
			if (b->pid_threads)
				jo_add(p, "threads", jo_int(b->pid_threads[i]));
			json_object_array_add(procs, p);
		}
		jo_add(o, "processes", procs);
	}
	return o;
}

/*
 * A handler that becomes its JSON only while the document is serialized:
 * built, printed into json-c's buffer at the array's indentation and freed,
 * one handler at a time. The whole tree of 1000 handlers with their
 * histograms is 7 MiB of json-c objects; their text is 2 MiB.
 */
static int lazy_handler_to_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
	json_object *o = handler_json(json_object_get_userdata(jso));
	size_t len;
	const char *text = json_object_to_json_string_length(o, flags, &len);
	const char *p = text, *end = text + len;

	if (!text) {
		json_object_put(o);
		return -1;
	}
	/* text is at level 0: pretty output indents each line after the
	 * first by level more steps (json-c's indent()); strings hold no raw
	 * newline (escaped) */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl + 1 : end;

		printbuf_memappend(pb, p, (int)(stop - p));
		if (nl && (flags & JSON_C_TO_STRING_PRETTY)) {
			if (flags & JSON_C_TO_STRING_PRETTY_TAB)
				printbuf_memset(pb, -1, '\t', level);
			else
				printbuf_memset(pb, -1, ' ', level * 2);
		}
		p = stop;
	}
	json_object_put(o);
	return 0;
}

static json_object *lazy_handler(const struct snap_handler *h)
{
	json_object *o = json_object_new_boolean(0); /* the smallest json-c object */

	json_object_set_serializer(o, lazy_handler_to_string, (void *)h, NULL);
	return o;
}

/* lazy: the handlers as lazy_handler()s, for a document that is printed
 * at once while s stays as it is (snapshot_to_json, snapshot_write). */
static json_object *snapshot_json(const struct snapshot *s, bool lazy)
{
	json_object *o = json_object_new_object(), *arr, *cnt = json_object_new_object();

	jo_add(o, "flowprof_snapshot", jo_int(SNAPSHOT_VERSION));
	jo_add(o, "host", jo_str(str_or_empty(s->host)));
	if (s->n_hosts > 0) {
		arr = json_object_new_array();
		for (int i = 0; i < s->n_hosts; i++) {
			const struct snap_host *h = &s->hosts[i];
			json_object *ho = json_object_new_object();

			jo_add(ho, "name", jo_str(str_or_empty(h->name)));
			jo_add(ho, "kernel", jo_str(str_or_empty(h->kernel)));
			jo_add(ho, "nproc", jo_int(h->nproc));
			jo_add(ho, "probe_cost_ns", jo_num_exact(h->probe_cost_ns));
			json_object_array_add(arr, ho);
		}
		jo_add(o, "hosts", arr);
	}
	jo_add(o, "kernel", jo_str(str_or_empty(s->kernel)));
	jo_add(o, "started_at", jo_str(str_or_empty(s->started_at)));
	jo_add(o, "duration_s", jo_num_exact(s->duration_s));
	jo_add(o, "nproc", jo_int(s->nproc));
	if (s->host_cpu_measured)
		jo_add(o, "host_cpu_s", jo_num_exact(s->host_cpu_s));
	jo_add(o, "probe_cost_ns", jo_num_exact(s->probe_cost_ns));
	arr = json_object_new_object();
	for (size_t c = 0; c < ARRAY_SIZE(s->probe_cost); c++) {
		json_object *pc;

		if (!s->probe_cost[c].measured)
			continue;
		pc = json_object_new_object();
		jo_add(pc, "per_call_ns", jo_num_exact(s->probe_cost[c].per_call_ns));
		jo_add(pc, "in_window_ns", jo_num_exact(s->probe_cost[c].in_window_ns));
		jo_add(arr, site_class_key[c], pc);
	}
	jo_add(o, "probe_cost", arr);
	if (s->calib_rounds) {
		json_object *cal = json_object_new_object(), *slots = json_object_new_object();

		jo_add(cal, "rounds", jo_int(s->calib_rounds));
		for (int k = 0; k < SNAP_SLOTS; k++) {
			const struct snap_slot_cost *c = &s->probe_slots[k];
			json_object *so;

			if (!c->measured || !snapshot_slot_key[k])
				continue;
			so = json_object_new_object();
			jo_add(so, "hit_ns", jo_num_exact(c->hit_ns));
			jo_add(so, "in_window_ns", jo_num_exact(c->in_window_ns));
			jo_add(so, "jitter_ns", jo_num_exact(c->jitter_ns));
			jo_add(so, "first_hit_ns", jo_num_exact(c->first_hit_ns));
			jo_add(so, "behaves_as", jo_str(c->behaves_as ? c->behaves_as : "unknown"));
			jo_add(slots, snapshot_slot_key[k], so);
		}
		jo_add(cal, "slots", slots);
		jo_add(o, "calibration", cal);
	}
	jo_add(o, "attach_mode", jo_str(s->attach_mode));
	jo_add(o, "attach_ms", jo_num_exact(s->attach_ms));
	jo_add(o, "detach_ms", jo_num_exact(s->detach_ms));
	jo_add(o, "flow_file", jo_str(s->flow_file));
	jo_add(cnt, "unmatched_returns", jo_u64(s->unmatched_returns));
	jo_add(cnt, "depth_overflows", jo_u64(s->depth_overflows));
	jo_add(cnt, "abandoned_frames", jo_u64(s->abandoned_frames));
	jo_add(cnt, "exited_in_call", jo_u64(s->exited_in_call));
	jo_add(cnt, "edges_dropped", jo_u64(s->edges_dropped));
	jo_add(cnt, "instances_dropped", jo_u64(s->instances_dropped));
	jo_add(cnt, "threads_dropped", jo_u64(s->threads_dropped));
	jo_add(o, "counters", cnt);

	arr = json_object_new_array();
	for (int i = 0; i < s->n_handlers; i++)
		json_object_array_add(arr, lazy ? lazy_handler(&s->handlers[i])
						: handler_json(&s->handlers[i]));
	jo_add(o, "handlers", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_edges; i++)
		json_object_array_add(arr, edge_json(&s->edges[i], true));
	jo_add(o, "edges", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_flows; i++)
		json_object_array_add(arr, flow_json(s, &s->flows[i]));
	jo_add(o, "flows", arr);
	arr = json_object_new_array();
	for (int i = 0; i < s->n_bundles; i++)
		json_object_array_add(arr, bundle_json(&s->bundles[i]));
	jo_add(o, "bundles", arr);
	return o;
}

json_object *snapshot_to_json_object(const struct snapshot *s)
{
	return snapshot_json(s, false);
}

char *snapshot_to_json(const struct snapshot *s, bool pretty)
{
	json_object *o = snapshot_json(s, true);
	char *text = jo_to_string(o, pretty);

	json_object_put(o);
	return text;
}

int snapshot_write(const struct snapshot *s, const char *path)
{
	json_object *o = snapshot_json(s, true);
	struct write_part parts[2] = { { NULL, 0 }, { "\n", 1 } };
	int r, e;

	/* json-c's text as it is, not a copy with the newline appended: at
	 * 1000 handlers that copy is 2.5 MiB more at the recording's peak. */
	parts[0].buf = jo_text(o, true, &parts[0].len);
	if (!parts[0].buf) { /* json-c failed: never a file of one newline over the old one */
		json_object_put(o);
		errno = ENOMEM;
		return -1;
	}
	r = write_file_atomic_parts(path, parts, 2, 0600);
	e = errno;
	json_object_put(o);
	errno = e;
	return r;
}

/* ---- name indexes (json-c's hash table) --------------------------------- */

static void free_key(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static struct lh_table *index_new(int n)
{
	struct lh_table *t = lh_kchar_table_new(n > 16 ? n : 16, free_key);

	if (!t) {
		fprintf(stderr, "flowprof: error: out of memory\n");
		exit(1);
	}
	return t;
}

/* Remembers key -> i; returns false if key was already there. */
static bool index_put(struct lh_table *t, const char *key, int i)
{
	if (lh_table_lookup_ex(t, key, NULL))
		return false;
	if (lh_table_insert(t, xstrdup(key), (void *)(intptr_t)(i + 1))) {
		fprintf(stderr, "flowprof: error: out of memory\n");
		exit(1);
	}
	return true;
}

static int index_get(struct lh_table *t, const char *key)
{
	void *v;

	return lh_table_lookup_ex(t, key, &v) ? (int)(intptr_t)v - 1 : -1;
}

/* Unambiguous keys made of two strings, or a string and a pid. */
static char *pair_key(const char *a, const char *b)
{
	a = str_or_empty(a);
	return xasprintf("%zu:%s>%s", strlen(a), a, str_or_empty(b));
}

static char *proc_key(const char *host, int pid)
{
	host = str_or_empty(host);
	return xasprintf("%zu:%s/%d", strlen(host), host, pid);
}

/* ---- loading ------------------------------------------------------------ */

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

/* "<path>: <ctx>.<key>: <what>", leaving out the parts that are empty. */
static int __attribute__((format(printf, 4, 5)))
fail(struct loader *ld, const char *ctx, const char *key, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ld->err || !ld->errlen)
		return -1;
	ctx = str_or_empty(ctx);
	key = str_or_empty(key);
	if (*ctx || *key)
		snprintf(ld->err, ld->errlen, "%s: %s%s%s: %s", ld->path, ctx,
			 *ctx && *key ? "." : "", key, what);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, what);
	return -1;
}

/* 1: present (*out may be NULL for JSON null), 0: absent and optional,
 * -1: absent and required. */
static int lookup(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		  bool required, json_object **out)
{
	*out = NULL;
	if (json_object_object_get_ex(obj, key, out))
		return 1;
	return required ? fail(ld, ctx, key, "missing") : 0;
}

static int as_u64(struct loader *ld, json_object *v, const char *ctx, const char *key,
		  uint64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return fail(ld, ctx, key, "expected an integer");
	if (json_object_get_int64(v) < 0)
		return fail(ld, ctx, key, "expected a non-negative integer");
	*out = json_object_get_uint64(v);
	/* json-c 0.16 saturates integers past 2^64 - 1 to UINT64_MAX instead of
	 * failing: take that value as what it almost surely is, an overflow. */
	if (*out == UINT64_MAX)
		return fail(ld, ctx, key, "out of range (at most %llu)",
			    (unsigned long long)(UINT64_MAX - 1));
	return 0;
}

static int as_int(struct loader *ld, json_object *v, const char *ctx, const char *key, int *out)
{
	uint64_t u;

	if (as_u64(ld, v, ctx, key, &u))
		return -1;
	if (u > INT_MAX)
		return fail(ld, ctx, key, "%llu is too large (at most %d)",
			    (unsigned long long)u, INT_MAX);
	*out = (int)u;
	return 0;
}

static int as_number(struct loader *ld, json_object *v, const char *ctx, const char *key,
		     double *out)
{
	double d;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return fail(ld, ctx, key, "expected a number");
	d = json_object_get_double(v);
	if (!isfinite(d))
		return fail(ld, ctx, key, "expected a finite number");
	if (d < 0)
		return fail(ld, ctx, key, "expected a non-negative number");
	*out = d;
	return 0;
}

static int get_u64(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, uint64_t *out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : as_u64(ld, v, ctx, key, out);
}

static int get_int(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, int *out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : as_int(ld, v, ctx, key, out);
}

static int get_number(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		      bool required, double *out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, required, &v);

	return r <= 0 ? r : as_number(ld, v, ctx, key, out);
}

/* A finite number that may be negative (a probe slot's share of a pair). */
static int get_signed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		      bool required, double *out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, required, &v);

	if (r <= 0)
		return r;
	if ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
	    !isfinite(json_object_get_double(v)))
		return fail(ld, ctx, key, "expected a finite number");
	*out = json_object_get_double(v);
	return 0;
}

static int get_bool(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		    bool *out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, false, &v);

	if (r <= 0)
		return r;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(ld, ctx, key, "expected true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

/* A string (copied into *out). nullable: JSON null gives NULL; non_empty:
 * "" is refused (names that others look up). */
static int get_str(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		   bool required, bool nullable, bool non_empty, char **out)
{
	json_object *v;
	int r = lookup(ld, obj, ctx, key, required, &v);

	if (r <= 0)
		return r;
	if (!v && nullable)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(ld, ctx, key, "expected a string");
	if (non_empty && json_object_get_string_len(v) == 0)
		return fail(ld, ctx, key, "expected a non-empty string");
	free(*out);
	*out = xstrdup(json_object_get_string(v));
	return 0;
}

static int get_typed(struct loader *ld, json_object *obj, const char *ctx, const char *key,
		     bool required, enum json_type type, json_object **out)
{
	int r = lookup(ld, obj, ctx, key, required, out);

	if (r <= 0)
		return r;
	if (!json_object_is_type(*out, type))
		return fail(ld, ctx, key, type == json_type_array ? "expected an array"
								   : "expected an object");
	return 1;
}

/* Array length as an int count, refusing absurd sizes. */
static int array_len(struct loader *ld, json_object *arr, const char *ctx, const char *key,
		     int *n)
{
	size_t len = json_object_array_length(arr);

	if (len > INT_MAX / 2)
		return fail(ld, ctx, key, "too many elements (%zu)", len);
	*n = (int)len;
	return 0;
}

static int expect_object(struct loader *ld, json_object *v, const char *ctx)
{
	return json_object_is_type(v, json_type_object) ? 0
							: fail(ld, ctx, NULL, "expected an object");
}

/* Seconds since the epoch of an RFC 3339 time ("2026-11-22T23:41:59Z",
 * optional fraction, Z or a +hh:mm offset). */
/* s matches shape, where 'd' stands for a digit. */
static bool has_shape(const char *s, const char *shape)
{
	for (; *shape; s++, shape++)
		if (*shape == 'd' ? !(*s >= '0' && *s <= '9') : *s != *shape)
			return false;
	return true;
}

static int parse_rfc3339(const char *s, double *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, sign = 0;
	double frac = 0;
	time_t t;

	if (!has_shape(s, "dddd-dd-dd") || !s[10] || !has_shape(s + 11, "dd:dd:dd") ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
		return -1;
	s += n;
	if (*s == '.') {
		double scale = 0.1;

		if (!(s[1] >= '0' && s[1] <= '9'))
			return -1;
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!has_shape(s + 1, "dd:dd") ||
		    sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
			return -1;
		s += 1 + n;
	} else {
		return -1;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    y < 0 || h < 0 || mi < 0 || sec < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (double)t + frac - sign * (oh * 3600 + om * 60);
	return 0;
}

static int load_histogram(struct loader *ld, json_object *h, const char *hctx,
			  uint64_t hist[HIST_BUCKETS])
{
	json_object *o, *bounds, *counts;
	char ctx[96], ectx[128];
	int nb = 0, nc = 0, first = -1;

	snprintf(ctx, sizeof(ctx), "%s.histogram", hctx);
	if (get_typed(ld, h, hctx, "histogram", true, json_type_object, &o) < 0 ||
	    get_typed(ld, o, ctx, "bounds_ns", true, json_type_array, &bounds) < 0 ||
	    get_typed(ld, o, ctx, "counts", true, json_type_array, &counts) < 0 ||
	    array_len(ld, bounds, ctx, "bounds_ns", &nb) || array_len(ld, counts, ctx, "counts", &nc))
		return -1;
	if (nb == 0 && nc == 0)
		return 0;
	if (nb != nc + 1)
		return fail(ld, ctx, "bounds_ns",
			    "%d edges for %d counts (expected %d: the lower bound of each "
			    "bucket, then the upper end of the last)", nb, nc, nc + 1);
	for (int i = 0; i < nb; i++) {
		uint64_t v, want;
		int b;

		snprintf(ectx, sizeof(ectx), "%s.bounds_ns[%d]", ctx, i);
		if (as_u64(ld, json_object_array_get_idx(bounds, i), ectx, NULL, &v))
			return -1;
		b = hist_boundary_index(v);
		if (i == 0) {
			if (b < 0 || b == HIST_BUCKETS)
				return fail(ld, ectx, NULL, "%llu ns is not a bucket boundary of "
					    "flowprof's histogram layout", (unsigned long long)v);
			first = b;
			continue;
		}
		if (first + i > HIST_BUCKETS)
			return fail(ld, ectx, NULL, "more buckets than flowprof's histogram "
				    "layout has (%d)", HIST_BUCKETS);
		want = hist_bucket_lower((unsigned int)(first + i));
		if (v == want)
			continue;
		if (b < 0)
			return fail(ld, ectx, NULL, "%llu ns is not a bucket boundary of "
				    "flowprof's histogram layout", (unsigned long long)v);
		return fail(ld, ectx, NULL, "%llu ns is not the next bucket boundary (%llu ns): "
			    "buckets must be contiguous", (unsigned long long)v,
			    (unsigned long long)want);
	}
	for (int i = 0; i < nc; i++) {
		snprintf(ectx, sizeof(ectx), "%s.counts[%d]", ctx, i);
		if (as_u64(ld, json_object_array_get_idx(counts, i), ectx, NULL,
			   &hist[first + i]))
			return -1;
	}
	return 0;
}

static int load_sumsq(struct loader *ld, json_object *o, const char *ctx, long double *out)
{
	json_object *v;
	double d;
	long double ld_v;

	if (lookup(ld, o, ctx, "sumsq_ns2", true, &v) < 0 ||
	    as_number(ld, v, ctx, "sumsq_ns2", &d))
		return -1;
	/* json-c keeps the number's text: read it at long double precision. */
	errno = 0;
	ld_v = strtold(json_object_get_string(v), NULL);
	if (errno || !isfinite(ld_v) || ld_v < 0)
		return fail(ld, ctx, "sumsq_ns2", "expected a finite non-negative number");
	*out = ld_v;
	return 0;
}

static int load_instances(struct loader *ld, json_object *o, const char *hctx,
			  struct snap_handler *h)
{
	json_object *arr;
	char ctx[96];
	int r = get_typed(ld, o, hctx, "instances", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (array_len(ld, arr, hctx, "instances", &h->n_instances))
		return -1;
	h->instances = xcalloc((size_t)h->n_instances, sizeof(*h->instances));
	for (int i = 0; i < h->n_instances; i++) {
		struct snap_instance_stats *is = &h->instances[i];
		json_object *io = json_object_array_get_idx(arr, i);

		snprintf(ctx, sizeof(ctx), "%s.instances[%d]", hctx, i);
		if (expect_object(ld, io, ctx) || get_int(ld, io, ctx, "pid", true, &is->pid) ||
		    get_str(ld, io, ctx, "host", false, true, false, &is->host) ||
		    get_u64(ld, io, ctx, "calls", true, &is->calls) ||
		    get_u64(ld, io, ctx, "total_ns", true, &is->total_ns))
			return -1;
	}
	return 0;
}

/* "site_classes": ["nop5", "single-step"], the classes of a handler's probe
 * points when they differ. */
static int load_site_classes(struct loader *ld, json_object *o, const char *ctx,
			     struct snap_handler *h)
{
	json_object *arr;
	int n, r = get_typed(ld, o, ctx, "site_classes", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (array_len(ld, arr, ctx, "site_classes", &n))
		return -1;
	for (int i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		unsigned int c = 1;

		while (c < ARRAY_SIZE(site_class_key) && json_object_is_type(v, json_type_string) &&
		       strcmp(json_object_get_string(v), site_class_key[c]))
			c++;
		if (c == ARRAY_SIZE(site_class_key) || !json_object_is_type(v, json_type_string))
			return fail(ld, ctx, "site_classes", "expected nop5, emulated or single-step "
				    "(element %d)", i);
		h->site_classes |= 1u << c;
	}
	return 0;
}

static int load_handler(struct loader *ld, json_object *o, const char *ctx,
			struct snap_handler *h)
{
	json_object *v;
	bool has_entries, has_self;

	if (expect_object(ld, o, ctx) ||
	    get_str(ld, o, ctx, "id", true, false, true, &h->id) ||
	    get_str(ld, o, ctx, "bundle", true, false, true, &h->bundle) ||
	    get_str(ld, o, ctx, "symbol", true, true, false, &h->symbol) ||
	    get_str(ld, o, ctx, "binary", true, true, false, &h->binary) ||
	    get_str(ld, o, ctx, "site_class", false, true, false, &h->site_class) ||
	    load_site_classes(ld, o, ctx, h) ||
	    get_number(ld, o, ctx, "probe_cost_ns", false, &h->probe_cost_ns) ||
	    get_number(ld, o, ctx, "inflight_mean", false, &h->inflight_mean) ||
	    get_bool(ld, o, ctx, "serial", &h->serial) ||
	    get_u64(ld, o, ctx, "calls", true, &h->calls) ||
	    get_u64(ld, o, ctx, "incomplete", true, &h->incomplete) ||
	    get_u64(ld, o, ctx, "min_ns", true, &h->min_ns) ||
	    get_u64(ld, o, ctx, "max_ns", true, &h->max_ns) ||
	    get_u64(ld, o, ctx, "total_ns", true, &h->total_ns) ||
	    load_sumsq(ld, o, ctx, &h->sumsq_ns2) ||
	    load_histogram(ld, o, ctx, h->hist) ||
	    load_instances(ld, o, ctx, h))
		return -1;
	has_entries = json_object_object_get_ex(o, "entries", NULL);
	has_self = json_object_object_get_ex(o, "self_ns", NULL);
	if (get_u64(ld, o, ctx, "entries", false, &h->entries) ||
	    get_u64(ld, o, ctx, "self_ns", false, &h->self_ns))
		return -1;
	if (!has_entries)
		h->entries = h->calls + h->incomplete;
	if (!has_self)
		h->self_ns = h->total_ns;
	h->probe_measured = json_object_object_get_ex(o, "probe_ns", NULL);
	if (get_u64(ld, o, ctx, "unwound", false, &h->unwound) ||
	    get_u64(ld, o, ctx, "probe_ns", false, &h->probe_ns) ||
	    get_u64(ld, o, ctx, "self_probe_ns", false, &h->self_probe_ns) ||
	    get_u64(ld, o, ctx, "nested_calls", false, &h->nested_calls) ||
	    get_str(ld, o, ctx, "entry_site", false, true, false, &h->entry_site) ||
	    get_str(ld, o, ctx, "exit_site", false, true, false, &h->exit_site) ||
	    get_str(ld, o, ctx, "exits_fallback", false, true, false, &h->exits_fallback))
		return -1;
	if (h->unwound > h->incomplete)
		return fail(ld, ctx, "unwound", "%llu is greater than incomplete (%llu)",
			    (unsigned long long)h->unwound, (unsigned long long)h->incomplete);
	/* oncpu_ns: null or absent when the kernel did not let us measure it. */
	if (lookup(ld, o, ctx, "oncpu_ns", false, &v) > 0 && v) {
		if (as_u64(ld, v, ctx, "oncpu_ns", &h->oncpu_ns))
			return -1;
		h->oncpu_measured = true;
	}
	if (!h->site_class)
		h->site_class = xstrdup("unknown");
	h->site_classes = snapshot_site_classes(site_mask(h));
	if (h->calls && h->min_ns > h->max_ns)
		return fail(ld, ctx, "min_ns", "%llu is greater than max_ns (%llu)",
			    (unsigned long long)h->min_ns, (unsigned long long)h->max_ns);
	return 0;
}

/* A handler id that must exist (an edge end, a flow entry, a visit). */
static int check_handler_ref(struct loader *ld, struct lh_table *handlers, const char *ctx,
			     const char *key, const char *id)
{
	if (index_get(handlers, id) >= 0)
		return 0;
	return fail(ld, ctx, key, "unknown handler '%s' (not in handlers)", id);
}

static int load_edge(struct loader *ld, json_object *o, const char *ctx, struct lh_table *handlers,
		     bool with_calls, struct snap_edge *e)
{
	if (expect_object(ld, o, ctx) ||
	    get_str(ld, o, ctx, "from", true, false, true, &e->from) ||
	    get_str(ld, o, ctx, "to", true, false, true, &e->to) ||
	    (with_calls && get_u64(ld, o, ctx, "calls", true, &e->calls)) ||
	    (with_calls && get_bool(ld, o, ctx, "declared", &e->declared)) ||
	    get_bool(ld, o, ctx, "async", &e->async) ||
	    get_bool(ld, o, ctx, "waits", &e->waits) ||
	    check_handler_ref(ld, handlers, ctx, "from", e->from) ||
	    check_handler_ref(ld, handlers, ctx, "to", e->to))
		return -1;
	return 0;
}

/* visit_calls {handler: count} when present; else the counts are rebuilt
 * from visits {handler: mean} x invocations (documents from other tools). */
static int load_visits(struct loader *ld, json_object *o, const char *ctx,
		       struct lh_table *handlers, struct snap_flow *f)
{
	json_object *visits, *calls, *src;
	char vctx[160];
	int i = 0;

	if (get_typed(ld, o, ctx, "visits", true, json_type_object, &visits) < 0 ||
	    get_typed(ld, o, ctx, "visit_calls", false, json_type_object, &calls) < 0)
		return -1;
	src = calls ? calls : visits;
	f->n_visits = json_object_object_length(src);
	f->visits = xcalloc((size_t)f->n_visits, sizeof(*f->visits));
	json_object_object_foreach(src, key, val) {
		struct snap_visit *v = &f->visits[i++];

		snprintf(vctx, sizeof(vctx), "%s.%s", ctx, calls ? "visit_calls" : "visits");
		v->handler = xstrdup(key);
		if (check_handler_ref(ld, handlers, vctx, key, key))
			return -1;
		if (calls) {
			if (as_u64(ld, val, vctx, key, &v->calls))
				return -1;
		} else {
			double mean;

			if (as_number(ld, val, vctx, key, &mean))
				return -1;
			if (mean * (double)f->invocations >= 18446744073709551615.0)
				return fail(ld, vctx, key, "too large");
			v->calls = (uint64_t)llround(mean * (double)f->invocations);
		}
	}
	return 0;
}

static int load_flow(struct loader *ld, json_object *o, const char *ctx, struct lh_table *handlers,
		     struct snap_flow *f)
{
	json_object *declared;
	char dctx[128];
	int r;

	if (expect_object(ld, o, ctx) ||
	    get_str(ld, o, ctx, "name", true, false, true, &f->name) ||
	    get_str(ld, o, ctx, "entry", true, false, true, &f->entry) ||
	    check_handler_ref(ld, handlers, ctx, "entry", f->entry) ||
	    get_u64(ld, o, ctx, "invocations", true, &f->invocations) ||
	    load_visits(ld, o, ctx, handlers, f))
		return -1;
	r = get_typed(ld, o, ctx, "declared_calls", false, json_type_array, &declared);
	if (r <= 0)
		return r;
	if (array_len(ld, declared, ctx, "declared_calls", &f->n_declared))
		return -1;
	f->declared = xcalloc((size_t)f->n_declared, sizeof(*f->declared));
	for (int i = 0; i < f->n_declared; i++) {
		snprintf(dctx, sizeof(dctx), "%s.declared_calls[%d]", ctx, i);
		f->declared[i].declared = true;
		if (load_edge(ld, json_object_array_get_idx(declared, i), dctx, handlers, false,
			      &f->declared[i]))
			return -1;
	}
	return 0;
}

static int load_processes(struct loader *ld, json_object *o, const char *bctx,
			  struct snap_bundle *b)
{
	json_object *arr;
	char ctx[96];
	int n = 0, with_threads = 0, with_hosts = 0, r;

	r = get_typed(ld, o, bctx, "processes", false, json_type_array, &arr);
	if (r <= 0)
		return r;
	if (array_len(ld, arr, bctx, "processes", &n))
		return -1;
	if (n != b->n_pids)
		return fail(ld, bctx, "processes", "%d entries for %d pids (one per pid expected)",
			    n, b->n_pids);
	b->pid_threads = xcalloc((size_t)n, sizeof(*b->pid_threads));
	b->pid_hosts = xcalloc((size_t)n, sizeof(*b->pid_hosts));
	for (int i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		int pid = -1;

		snprintf(ctx, sizeof(ctx), "%s.processes[%d]", bctx, i);
		if (expect_object(ld, p, ctx) || get_int(ld, p, ctx, "pid", true, &pid) ||
		    get_str(ld, p, ctx, "host", false, true, false, &b->pid_hosts[i]))
			return -1;
		if (pid != b->pids[i])
			return fail(ld, ctx, "pid", "%d does not match pids[%d] (%d)", pid, i,
				    b->pids[i]);
		b->pid_threads[i] = -1;
		if (get_int(ld, p, ctx, "threads", false, &b->pid_threads[i]))
			return -1;
		with_threads += b->pid_threads[i] >= 0;
		with_hosts += b->pid_hosts[i] != NULL;
	}
	/* Per-process threads are all known, or not used at all. */
	if (with_threads != n) {
		free(b->pid_threads);
		b->pid_threads = NULL;
	}
	if (!with_hosts) {
		free(b->pid_hosts);
		b->pid_hosts = NULL;
	}
	return 0;
}

static int load_levels(struct loader *ld, json_object *c, const char *ctx, const char *key,
		       uint64_t *levels)
{
	json_object *arr;
	char ectx[96];
	int n, r = get_typed(ld, c, ctx, key, true, json_type_array, &arr);

	if (r < 0 || array_len(ld, arr, ctx, key, &n))
		return -1;
	if (n > SNAP_CONC_LEVELS)
		return fail(ld, ctx, key, "more than %d levels", SNAP_CONC_LEVELS);
	for (int k = 0; k < n; k++) {
		snprintf(ectx, sizeof(ectx), "%s.%s[%d]", ctx, key, k);
		if (as_u64(ld, json_object_array_get_idx(arr, k), ectx, NULL, &levels[k]))
			return -1;
	}
	return 0;
}

/* "concurrency": {"live_max", "inflight_max", "live_ns": [...], "inflight_ns": [...]} */
static int load_concurrency(struct loader *ld, json_object *o, const char *bctx,
			    struct snap_bundle *b)
{
	json_object *c;
	char ctx[96];
	int r = get_typed(ld, o, bctx, "concurrency", false, json_type_object, &c);

	if (r <= 0)
		return r;
	snprintf(ctx, sizeof(ctx), "%s.concurrency", bctx);
	if (get_int(ld, c, ctx, "live_max", true, &b->live_max) ||
	    get_int(ld, c, ctx, "inflight_max", true, &b->inflight_max) ||
	    load_levels(ld, c, ctx, "live_ns", b->live_ns) ||
	    load_levels(ld, c, ctx, "inflight_ns", b->inflight_ns))
		return -1;
	b->conc_measured = true;
	return 0;
}

static int load_bundle(struct loader *ld, json_object *o, const char *ctx, struct snap_bundle *b)
{
	json_object *pids;
	char pctx[96];

	if (expect_object(ld, o, ctx) ||
	    get_str(ld, o, ctx, "name", true, false, true, &b->name) ||
	    get_typed(ld, o, ctx, "pids", true, json_type_array, &pids) < 0 ||
	    array_len(ld, pids, ctx, "pids", &b->n_pids))
		return -1;
	b->pids = xcalloc((size_t)b->n_pids, sizeof(*b->pids));
	for (int i = 0; i < b->n_pids; i++) {
		snprintf(pctx, sizeof(pctx), "%s.pids[%d]", ctx, i);
		if (as_int(ld, json_object_array_get_idx(pids, i), pctx, NULL, &b->pids[i]))
			return -1;
	}
	if (get_int(ld, o, ctx, "threads", true, &b->threads) ||
	    get_int(ld, o, ctx, "instances", false, &b->instances) ||
	    get_int(ld, o, ctx, "workers", false, &b->workers) ||
	    get_bool(ld, o, ctx, "serial", &b->serial) ||
	    load_processes(ld, o, ctx, b) ||
	    load_concurrency(ld, o, ctx, b))
		return -1;
	b->cpu_measured = json_object_object_get_ex(o, "cpu_s", NULL);
	if (get_number(ld, o, ctx, "cpu_s", false, &b->cpu_s) ||
	    get_number(ld, o, ctx, "cpus", false, &b->cpus) ||
	    get_str(ld, o, ctx, "cpus_source", false, true, false, &b->cpus_source))
		return -1;
	return 0;
}

static int load_counters(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *c;
	int r = get_typed(ld, top, NULL, "counters", false, json_type_object, &c);

	if (r <= 0)
		return r;
	if (get_u64(ld, c, "counters", "unmatched_returns", false, &s->unmatched_returns) ||
	    get_u64(ld, c, "counters", "depth_overflows", false, &s->depth_overflows) ||
	    get_u64(ld, c, "counters", "abandoned_frames", false, &s->abandoned_frames) ||
	    get_u64(ld, c, "counters", "exited_in_call", false, &s->exited_in_call) ||
	    get_u64(ld, c, "counters", "edges_dropped", false, &s->edges_dropped) ||
	    get_u64(ld, c, "counters", "instances_dropped", false, &s->instances_dropped) ||
	    get_u64(ld, c, "counters", "threads_dropped", false, &s->threads_dropped))
		return -1;
	return 0;
}

/* "probe_cost": {"nop5": {"per_call_ns", "in_window_ns"}, ...}; classes this
 * flowprof does not know are ignored. */
static int load_probe_costs(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *pcs;
	char ctx[64];
	int r = get_typed(ld, top, NULL, "probe_cost", false, json_type_object, &pcs);

	if (r <= 0)
		return r;
	for (size_t c = 0; c < ARRAY_SIZE(s->probe_cost); c++) {
		struct snap_probe_cost *pc = &s->probe_cost[c];
		json_object *o;

		snprintf(ctx, sizeof(ctx), "probe_cost.%s", site_class_key[c]);
		r = get_typed(ld, pcs, "probe_cost", site_class_key[c], false, json_type_object, &o);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (get_number(ld, o, ctx, "per_call_ns", true, &pc->per_call_ns) ||
		    get_number(ld, o, ctx, "in_window_ns", true, &pc->in_window_ns))
			return -1;
		pc->measured = true;
	}
	return 0;
}

/* "calibration": {"rounds": N, "slots": {"nop5": {...}, ...}}; slots this
 * flowprof does not know are ignored. */
static int load_calibration(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *cal, *slots;
	char ctx[64];
	int r = get_typed(ld, top, NULL, "calibration", false, json_type_object, &cal);

	if (r <= 0)
		return r;
	if (get_int(ld, cal, "calibration", "rounds", true, &s->calib_rounds) ||
	    get_typed(ld, cal, "calibration", "slots", true, json_type_object, &slots) < 0)
		return -1;
	for (int k = 0; k < SNAP_SLOTS; k++) {
		struct snap_slot_cost *c = &s->probe_slots[k];
		json_object *o;

		if (!snapshot_slot_key[k])
			continue;
		snprintf(ctx, sizeof(ctx), "calibration.slots.%s", snapshot_slot_key[k]);
		r = get_typed(ld, slots, "calibration.slots", snapshot_slot_key[k], false,
			      json_type_object, &o);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (get_signed(ld, o, ctx, "hit_ns", true, &c->hit_ns) ||
		    get_signed(ld, o, ctx, "in_window_ns", true, &c->in_window_ns) ||
		    get_number(ld, o, ctx, "jitter_ns", false, &c->jitter_ns) ||
		    get_signed(ld, o, ctx, "first_hit_ns", false, &c->first_hit_ns) ||
		    get_str(ld, o, ctx, "behaves_as", false, true, false, &c->behaves_as))
			return -1;
		c->measured = true;
	}
	return 0;
}

static int load_hosts(struct loader *ld, json_object *top, struct snapshot *s)
{
	json_object *arr;
	char ctx[64];
	int r = get_typed(ld, top, NULL, "hosts", false, json_type_array, &arr);

	if (r <= 0)
		return r;
	if (array_len(ld, arr, NULL, "hosts", &s->n_hosts))
		return -1;
	s->hosts = xcalloc((size_t)s->n_hosts, sizeof(*s->hosts));
	for (int i = 0; i < s->n_hosts; i++) {
		json_object *h = json_object_array_get_idx(arr, i);

		snprintf(ctx, sizeof(ctx), "hosts[%d]", i);
		if (expect_object(ld, h, ctx) ||
		    get_str(ld, h, ctx, "name", true, false, false, &s->hosts[i].name) ||
		    get_str(ld, h, ctx, "kernel", false, true, false, &s->hosts[i].kernel) ||
		    get_int(ld, h, ctx, "nproc", false, &s->hosts[i].nproc) ||
		    get_number(ld, h, ctx, "probe_cost_ns", false, &s->hosts[i].probe_cost_ns))
			return -1;
	}
	return 0;
}

/* Loads one top-level array of objects with load_one, checking names are unique. */
#define LOAD_ARRAY(ld, top, key, arr_field, n_field, name_of, index, load_one, ...)            \
	({                                                                                     \
		json_object *arr_;                                                             \
		char ctx_[64];                                                                 \
		int rc_ = get_typed(ld, top, NULL, key, true, json_type_array, &arr_) < 0 ||   \
			  array_len(ld, arr_, NULL, key, &(n_field)) ? -1 : 0;                  \
		if (!rc_)                                                                      \
			arr_field = xcalloc((size_t)(n_field), sizeof(*(arr_field)));          \
		for (int i_ = 0; !rc_ && i_ < (n_field); i_++) {                               \
			snprintf(ctx_, sizeof(ctx_), "%s[%d]", key, i_);                       \
			rc_ = load_one(ld, json_object_array_get_idx(arr_, i_), ctx_,          \
				       ##__VA_ARGS__, &(arr_field)[i_]);                       \
			if (!rc_ && (index) && !index_put(index, name_of(&(arr_field)[i_]), i_)) \
				rc_ = fail(ld, ctx_, NULL, "duplicate name '%s'",             \
					   name_of(&(arr_field)[i_]));                         \
		}                                                                              \
		rc_;                                                                           \
	})

static const char *handler_name(const struct snap_handler *h) { return h->id; }
static const char *bundle_name(const struct snap_bundle *b) { return b->name; }
static const char *flow_name(const struct snap_flow *f) { return f->name; }
static const char *edge_name(const struct snap_edge *e) { return e->from; }

static int load_top(struct loader *ld, json_object *top, struct snapshot *s)
{
	struct lh_table *handlers = NULL, *bundles = NULL, *flows = NULL, *edges = NULL;
	json_object *v;
	double t;
	int rc = -1;

	if (!json_object_is_type(top, json_type_object))
		return fail(ld, NULL, NULL, "not a flowprof snapshot (expected a JSON object)");
	if (!json_object_object_get_ex(top, "flowprof_snapshot", &v))
		return fail(ld, NULL, "flowprof_snapshot", "missing (not a flowprof snapshot?)");
	if (!json_object_is_type(v, json_type_int))
		return fail(ld, NULL, "flowprof_snapshot", "expected an integer");
	if (json_object_get_int64(v) != SNAPSHOT_VERSION)
		return fail(ld, NULL, NULL, "unsupported flowprof_snapshot version %lld "
			    "(this flowprof reads version %d)",
			    (long long)json_object_get_int64(v), SNAPSHOT_VERSION);
	s->version = SNAPSHOT_VERSION;
	if (get_str(ld, top, NULL, "host", true, false, false, &s->host) ||
	    get_str(ld, top, NULL, "kernel", true, false, false, &s->kernel) ||
	    get_str(ld, top, NULL, "started_at", true, false, false, &s->started_at) ||
	    get_number(ld, top, NULL, "duration_s", true, &s->duration_s) ||
	    get_int(ld, top, NULL, "nproc", false, &s->nproc) ||
	    get_number(ld, top, NULL, "probe_cost_ns", false, &s->probe_cost_ns) ||
	    get_str(ld, top, NULL, "attach_mode", false, true, false, &s->attach_mode) ||
	    get_number(ld, top, NULL, "attach_ms", false, &s->attach_ms) ||
	    get_number(ld, top, NULL, "detach_ms", false, &s->detach_ms) ||
	    load_probe_costs(ld, top, s) ||
	    load_calibration(ld, top, s) ||
	    get_number(ld, top, NULL, "host_cpu_s", false, &s->host_cpu_s) ||
	    get_str(ld, top, NULL, "flow_file", false, true, false, &s->flow_file) ||
	    load_counters(ld, top, s) || load_hosts(ld, top, s))
		return -1;
	s->host_cpu_measured = json_object_object_get_ex(top, "host_cpu_s", NULL);
	if (*s->started_at && parse_rfc3339(s->started_at, &t))
		return fail(ld, NULL, "started_at", "'%s' is not an RFC 3339 time "
			    "(e.g. 2026-11-22T23:41:59Z)", s->started_at);

	bundles = index_new(16);
	handlers = index_new(64);
	flows = index_new(16);
	edges = index_new(64);
	if (LOAD_ARRAY(ld, top, "bundles", s->bundles, s->n_bundles, bundle_name, bundles,
		       load_bundle) ||
	    LOAD_ARRAY(ld, top, "handlers", s->handlers, s->n_handlers, handler_name, handlers,
		       load_handler))
		goto cleanup;
	for (int i = 0; i < s->n_handlers; i++) {
		char ctx[64];

		snprintf(ctx, sizeof(ctx), "handlers[%d]", i);
		if (index_get(bundles, s->handlers[i].bundle) < 0) {
			fail(ld, ctx, "bundle", "unknown bundle '%s' (not in bundles)",
			     s->handlers[i].bundle);
			goto cleanup;
		}
	}
	if (LOAD_ARRAY(ld, top, "edges", s->edges, s->n_edges, edge_name, NULL, load_edge,
		       handlers, true) ||
	    LOAD_ARRAY(ld, top, "flows", s->flows, s->n_flows, flow_name, flows, load_flow,
		       handlers))
		goto cleanup;
	for (int i = 0; i < s->n_edges; i++) {
		char *key = pair_key(s->edges[i].from, s->edges[i].to), ctx[64];
		bool fresh = index_put(edges, key, i);

		free(key);
		if (!fresh) {
			snprintf(ctx, sizeof(ctx), "edges[%d]", i);
			fail(ld, ctx, NULL, "duplicate edge %s -> %s", s->edges[i].from,
			     s->edges[i].to);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	lh_table_free(bundles);
	lh_table_free(handlers);
	lh_table_free(flows);
	lh_table_free(edges);
	return rc;
}

int snapshot_parse(const char *path, const char *buf, size_t len, struct snapshot *s,
		   char *err, size_t errlen)
{
	struct loader ld = { .path = path ? path : "snapshot", .err = err, .errlen = errlen };
	struct json_tokener *tok = NULL;
	json_object *top = NULL;
	struct snapshot tmp = { 0 };
	enum json_tokener_error jerr;
	size_t lead = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (err && errlen)
		err[0] = '\0';
	while (lead < len && strchr(" \t\r\n", buf[lead]))
		lead++;
	if (lead == len) {
		fail(&ld, NULL, NULL, "empty file (not a flowprof snapshot)");
		goto cleanup;
	}
	if (len > INT_MAX) {
		fail(&ld, NULL, NULL, "too large (%zu bytes)", len);
		goto cleanup;
	}
	tok = json_tokener_new();
	if (!tok) {
		fail(&ld, NULL, NULL, "out of memory");
		goto cleanup;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	top = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		fail(&ld, NULL, NULL, "truncated JSON: the document ends at byte offset %zu "
		     "before it is complete", len);
		goto cleanup;
	}
	if (jerr != json_tokener_success) {
		size_t at = json_tokener_get_parse_end(tok), line = 1, col = 1;

		/* Line and column too: what an editor can jump to. */
		for (size_t i = 0; i < at && i < len; i++, col++)
			if (buf[i] == '\n')
				line++, col = 0;
		fail(&ld, NULL, NULL, "invalid JSON at byte offset %zu (line %zu, column %zu): %s",
		     at, line, col, json_tokener_error_desc(jerr));
		goto cleanup;
	}
	/* json-c stops at a NUL byte: whatever follows must not be ignored. */
	for (size_t at = json_tokener_get_parse_end(tok); at < len; at++) {
		if (!strchr(" \t\r\n", buf[at]) || !buf[at]) {
			fail(&ld, NULL, NULL, "unexpected data after the JSON document at byte "
			     "offset %zu", at);
			goto cleanup;
		}
	}
	if (load_top(&ld, top, &tmp))
		goto cleanup;
	*s = tmp;
	memset(&tmp, 0, sizeof(tmp));
	rc = 0;
cleanup:
	snapshot_free(&tmp);
	json_object_put(top);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

int snapshot_load(const char *path, struct snapshot *s, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file(path, &len);
	int rc;

	if (!buf) {
		memset(s, 0, sizeof(*s));
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	rc = snapshot_parse(path, buf, len, s, err, errlen);
	free(buf);
	return rc;
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
	if (b->pid_hosts)
		for (int i = 0; i < b->n_pids; i++)
			free(b->pid_hosts[i]);
	free(b->cpus_source);
	free(b->pid_hosts);
}

static void free_host(struct snap_host *h)
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
		free_host(&s->hosts[i]);
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

/* ---- equality ----------------------------------------------------------- */

struct differ {
	char *buf;
	size_t len;
};

static bool __attribute__((format(printf, 2, 3))) differ(struct differ *d, const char *fmt, ...)
{
	va_list ap;

	if (d->buf && d->len) {
		va_start(ap, fmt);
		vsnprintf(d->buf, d->len, fmt, ap);
		va_end(ap);
	}
	return false;
}

#define EQ_U64(d, where, a, b, field)                                                       \
	do {                                                                                \
		if ((a)->field != (b)->field)                                               \
			return differ(d, "%s." #field ": %llu != %llu", where,               \
				      (unsigned long long)(a)->field,                       \
				      (unsigned long long)(b)->field);                      \
	} while (0)
#define EQ_DBL(d, where, a, b, field)                                                       \
	do {                                                                                \
		if ((a)->field != (b)->field)                                               \
			return differ(d, "%s." #field ": %.21Lg != %.21Lg", where,           \
				      (long double)(a)->field, (long double)(b)->field);    \
	} while (0)
#define EQ_STR(d, where, a, b, field)                                                       \
	do {                                                                                \
		if (!same_str((a)->field, (b)->field))                                      \
			return differ(d, "%s." #field ": '%s' != '%s'", where,               \
				      str_or_empty((a)->field), str_or_empty((b)->field));  \
	} while (0)
#define EQ_N(d, where, a, b, field)                                                         \
	do {                                                                                \
		if ((a)->field != (b)->field)                                               \
			return differ(d, "%s." #field ": %d != %d", where, (int)(a)->field,   \
				      (int)(b)->field);                                     \
	} while (0)

static bool edge_equal(struct differ *d, const char *w, const struct snap_edge *a,
		       const struct snap_edge *b)
{
	EQ_STR(d, w, a, b, from);
	EQ_STR(d, w, a, b, to);
	EQ_U64(d, w, a, b, calls);
	EQ_N(d, w, a, b, declared);
	EQ_N(d, w, a, b, async);
	EQ_N(d, w, a, b, waits);
	return true;
}

static const char *site_class_of(const struct snap_handler *h)
{
	return h->site_class ? h->site_class : "unknown";
}

static bool handler_equal(struct differ *d, const char *w, const struct snap_handler *a,
			  const struct snap_handler *b)
{
	char iw[96];

	EQ_STR(d, w, a, b, id);
	EQ_STR(d, w, a, b, bundle);
	EQ_STR(d, w, a, b, symbol);
	EQ_STR(d, w, a, b, binary);
	if (!same_str(site_class_of(a), site_class_of(b)))
		return differ(d, "%s.site_class: '%s' != '%s'", w, site_class_of(a),
			      site_class_of(b));
	EQ_N(d, w, a, b, site_classes);
	EQ_DBL(d, w, a, b, probe_cost_ns);
	EQ_DBL(d, w, a, b, inflight_mean);
	EQ_N(d, w, a, b, serial);
	EQ_U64(d, w, a, b, entries);
	EQ_U64(d, w, a, b, calls);
	EQ_U64(d, w, a, b, incomplete);
	EQ_U64(d, w, a, b, min_ns);
	EQ_U64(d, w, a, b, max_ns);
	EQ_U64(d, w, a, b, total_ns);
	EQ_U64(d, w, a, b, self_ns);
	EQ_N(d, w, a, b, oncpu_measured);
	EQ_U64(d, w, a, b, oncpu_ns);
	EQ_DBL(d, w, a, b, sumsq_ns2);
	EQ_U64(d, w, a, b, unwound);
	EQ_N(d, w, a, b, probe_measured);
	EQ_U64(d, w, a, b, probe_ns);
	EQ_U64(d, w, a, b, self_probe_ns);
	EQ_U64(d, w, a, b, nested_calls);
	EQ_STR(d, w, a, b, entry_site);
	EQ_STR(d, w, a, b, exit_site);
	EQ_STR(d, w, a, b, exits_fallback);
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		if (a->hist[i] != b->hist[i])
			return differ(d, "%s.hist[%u] (%llu ns): %llu != %llu", w, i,
				      (unsigned long long)hist_bucket_lower(i),
				      (unsigned long long)a->hist[i],
				      (unsigned long long)b->hist[i]);
	EQ_N(d, w, a, b, n_instances);
	for (int i = 0; i < a->n_instances; i++) {
		snprintf(iw, sizeof(iw), "%s.instances[%d]", w, i);
		EQ_N(d, iw, &a->instances[i], &b->instances[i], pid);
		EQ_STR(d, iw, &a->instances[i], &b->instances[i], host);
		EQ_U64(d, iw, &a->instances[i], &b->instances[i], calls);
		EQ_U64(d, iw, &a->instances[i], &b->instances[i], total_ns);
	}
	return true;
}

static bool flow_equal(struct differ *d, const char *w, const struct snap_flow *a,
		       const struct snap_flow *b)
{
	char vw[96];

	EQ_STR(d, w, a, b, name);
	EQ_STR(d, w, a, b, entry);
	EQ_U64(d, w, a, b, invocations);
	EQ_N(d, w, a, b, n_visits);
	for (int i = 0; i < a->n_visits; i++) {
		snprintf(vw, sizeof(vw), "%s.visits[%d]", w, i);
		EQ_STR(d, vw, &a->visits[i], &b->visits[i], handler);
		EQ_U64(d, vw, &a->visits[i], &b->visits[i], calls);
	}
	EQ_N(d, w, a, b, n_declared);
	for (int i = 0; i < a->n_declared; i++) {
		snprintf(vw, sizeof(vw), "%s.declared[%d]", w, i);
		if (!edge_equal(d, vw, &a->declared[i], &b->declared[i]))
			return false;
	}
	return true;
}

static bool bundle_equal(struct differ *d, const char *w, const struct snap_bundle *a,
			 const struct snap_bundle *b)
{
	EQ_STR(d, w, a, b, name);
	EQ_N(d, w, a, b, threads);
	EQ_N(d, w, a, b, instances);
	EQ_N(d, w, a, b, workers);
	EQ_N(d, w, a, b, serial);
	EQ_N(d, w, a, b, conc_measured);
	EQ_N(d, w, a, b, live_max);
	EQ_N(d, w, a, b, inflight_max);
	for (int k = 0; k < SNAP_CONC_LEVELS; k++)
		if (a->live_ns[k] != b->live_ns[k] || a->inflight_ns[k] != b->inflight_ns[k])
			return differ(d, "%s.concurrency level %d: %llu/%llu != %llu/%llu", w, k,
				      (unsigned long long)a->live_ns[k],
				      (unsigned long long)a->inflight_ns[k],
				      (unsigned long long)b->live_ns[k],
				      (unsigned long long)b->inflight_ns[k]);
	EQ_N(d, w, a, b, cpu_measured);
	EQ_DBL(d, w, a, b, cpu_s);
	EQ_DBL(d, w, a, b, cpus);
	EQ_STR(d, w, a, b, cpus_source);
	EQ_N(d, w, a, b, n_pids);
	if (!a->pid_threads != !b->pid_threads)
		return differ(d, "%s.pid_threads: %s != %s", w, a->pid_threads ? "known" : "NULL",
			      b->pid_threads ? "known" : "NULL");
	for (int i = 0; i < a->n_pids; i++) {
		if (a->pids[i] != b->pids[i])
			return differ(d, "%s.pids[%d]: %d != %d", w, i, a->pids[i], b->pids[i]);
		if (a->pid_threads && a->pid_threads[i] != b->pid_threads[i])
			return differ(d, "%s.pid_threads[%d]: %d != %d", w, i, a->pid_threads[i],
				      b->pid_threads[i]);
		if (!same_str(a->pid_hosts ? a->pid_hosts[i] : NULL,
			      b->pid_hosts ? b->pid_hosts[i] : NULL))
			return differ(d, "%s.pid_hosts[%d]: '%s' != '%s'", w, i,
				      str_or_empty(a->pid_hosts ? a->pid_hosts[i] : NULL),
				      str_or_empty(b->pid_hosts ? b->pid_hosts[i] : NULL));
	}
	return true;
}

bool snapshot_equal(const struct snapshot *a, const struct snapshot *b, char *diff,
		    size_t difflen)
{
	struct differ dd = { diff, difflen }, *d = &dd;
	char w[64];

	EQ_N(d, "snapshot", a, b, version);
	EQ_STR(d, "snapshot", a, b, host);
	EQ_STR(d, "snapshot", a, b, kernel);
	EQ_STR(d, "snapshot", a, b, started_at);
	EQ_DBL(d, "snapshot", a, b, duration_s);
	EQ_N(d, "snapshot", a, b, nproc);
	EQ_DBL(d, "snapshot", a, b, probe_cost_ns);
	EQ_STR(d, "snapshot", a, b, attach_mode);
	EQ_DBL(d, "snapshot", a, b, attach_ms);
	EQ_DBL(d, "snapshot", a, b, detach_ms);
	for (size_t c = 0; c < ARRAY_SIZE(a->probe_cost); c++) {
		snprintf(w, sizeof(w), "probe_cost[%s]", site_class_key[c]);
		EQ_N(d, w, &a->probe_cost[c], &b->probe_cost[c], measured);
		EQ_DBL(d, w, &a->probe_cost[c], &b->probe_cost[c], per_call_ns);
		EQ_DBL(d, w, &a->probe_cost[c], &b->probe_cost[c], in_window_ns);
	}
	EQ_N(d, "snapshot", a, b, calib_rounds);
	EQ_N(d, "snapshot", a, b, host_cpu_measured);
	EQ_DBL(d, "snapshot", a, b, host_cpu_s);
	for (int k = 0; k < SNAP_SLOTS; k++) {
		snprintf(w, sizeof(w), "calibration.slots[%d]", k);
		EQ_N(d, w, &a->probe_slots[k], &b->probe_slots[k], measured);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], hit_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], in_window_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], jitter_ns);
		EQ_DBL(d, w, &a->probe_slots[k], &b->probe_slots[k], first_hit_ns);
		EQ_STR(d, w, &a->probe_slots[k], &b->probe_slots[k], behaves_as);
	}
	EQ_STR(d, "snapshot", a, b, flow_file);
	EQ_U64(d, "snapshot", a, b, unmatched_returns);
	EQ_U64(d, "snapshot", a, b, depth_overflows);
	EQ_U64(d, "snapshot", a, b, abandoned_frames);
	EQ_U64(d, "snapshot", a, b, exited_in_call);
	EQ_U64(d, "snapshot", a, b, edges_dropped);
	EQ_U64(d, "snapshot", a, b, instances_dropped);
	EQ_U64(d, "snapshot", a, b, threads_dropped);
	EQ_N(d, "snapshot", a, b, n_hosts);
	for (int i = 0; i < a->n_hosts; i++) {
		snprintf(w, sizeof(w), "hosts[%d]", i);
		EQ_STR(d, w, &a->hosts[i], &b->hosts[i], name);
		EQ_STR(d, w, &a->hosts[i], &b->hosts[i], kernel);
		EQ_N(d, w, &a->hosts[i], &b->hosts[i], nproc);
		EQ_DBL(d, w, &a->hosts[i], &b->hosts[i], probe_cost_ns);
	}
	EQ_N(d, "snapshot", a, b, n_handlers);
	for (int i = 0; i < a->n_handlers; i++) {
		snprintf(w, sizeof(w), "handlers[%d]", i);
		if (!handler_equal(d, w, &a->handlers[i], &b->handlers[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_edges);
	for (int i = 0; i < a->n_edges; i++) {
		snprintf(w, sizeof(w), "edges[%d]", i);
		if (!edge_equal(d, w, &a->edges[i], &b->edges[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_flows);
	for (int i = 0; i < a->n_flows; i++) {
		snprintf(w, sizeof(w), "flows[%d]", i);
		if (!flow_equal(d, w, &a->flows[i], &b->flows[i]))
			return false;
	}
	EQ_N(d, "snapshot", a, b, n_bundles);
	for (int i = 0; i < a->n_bundles; i++) {
		snprintf(w, sizeof(w), "bundles[%d]", i);
		if (!bundle_equal(d, w, &a->bundles[i], &b->bundles[i]))
			return false;
	}
	if (diff && difflen)
		diff[0] = '\0';
	return true;
}

/* ---- merging ------------------------------------------------------------ */

/*
 * Every rule below is associative, so a fleet can be merged in any grouping:
 * sums; min and max; "the first one that is set" (dst before src, which
 * keeps the order of the operands); unions that keep first-appearance order;
 * and a worst-of for site classes.
 */

static void set_first(char **dst, const char *src)
{
	if ((!*dst || !**dst) && src && *src) {
		free(*dst);
		*dst = xstrdup(src);
	}
}

/* How much a probe site costs: the report warns about the dearest. */
static int site_rank(const char *c)
{
	static const char *const order[] = { "unknown", "nop5", "emulated", "single-step" };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (same_str(c, order[i]))
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
	struct lh_table *idx = index_new(dst->n_handlers);

	for (int i = 0; i < dst->n_handlers; i++)
		index_put(idx, str_or_empty(dst->handlers[i].id), i);
	for (int i = 0; i < src->n_handlers; i++) {
		int j = index_get(idx, str_or_empty(src->handlers[i].id));
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
		free_host(&dst->hosts[i]);
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
		free_host(&table[0]);
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
	bool pa = a && !parse_rfc3339(a, &ta), pb = b && !parse_rfc3339(b, &tb);

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
	struct lh_table *idx = index_new(d->n_instances + s->n_instances);
	size_t cap = (size_t)d->n_instances;

	for (int i = 0; i < d->n_instances; i++) {
		char *key = proc_key(d->instances[i].host ? d->instances[i].host : dst_host,
				     d->instances[i].pid);

		index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < s->n_instances; i++) {
		const struct snap_instance_stats *si = &s->instances[i];
		const char *h = host_of(si->host, src_snap);
		char *key = proc_key(h, si->pid);
		int j = index_get(idx, key);

		if (j >= 0) {
			d->instances[j].calls += si->calls;
			d->instances[j].total_ns += si->total_ns;
		} else {
			grow_array((void **)&d->instances, &cap, (size_t)d->n_instances + 1,
				   sizeof(*d->instances));
			copy_instance(&d->instances[d->n_instances], si,
				      explicit_hosts ? h : si->host);
			index_put(idx, key, d->n_instances++);
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
	d->site_classes = snapshot_site_classes(site_mask(d) | site_mask(s));
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
	set_first(&d->entry_site, s->entry_site);
	set_first(&d->exit_site, s->exit_site);
	set_first(&d->exits_fallback, s->exits_fallback);
	merge_instances(d, s, dst_host, src_snap, explicit_hosts);
}

static void merge_edge_list(struct snap_edge **arr, int *n, const struct snap_edge *src, int ns)
{
	struct lh_table *idx = index_new(*n + ns);
	size_t cap = (size_t)*n;

	for (int i = 0; i < *n; i++) {
		char *key = pair_key((*arr)[i].from, (*arr)[i].to);

		index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < ns; i++) {
		char *key = pair_key(src[i].from, src[i].to);
		int j = index_get(idx, key);

		if (j >= 0) {
			(*arr)[j].calls += src[i].calls;
			(*arr)[j].declared |= src[i].declared;
			(*arr)[j].async |= src[i].async;
			(*arr)[j].waits |= src[i].waits;
		} else {
			grow_array((void **)arr, &cap, (size_t)*n + 1, sizeof(**arr));
			copy_edge(&(*arr)[*n], &src[i]);
			index_put(idx, key, (*n)++);
		}
		free(key);
	}
	lh_table_free(idx);
}

static void merge_flow(struct snap_flow *d, const struct snap_flow *s)
{
	struct lh_table *idx = index_new(d->n_visits + s->n_visits);
	size_t cap = (size_t)d->n_visits;

	d->invocations += s->invocations;
	for (int j = 0; j < d->n_visits; j++)
		index_put(idx, str_or_empty(d->visits[j].handler), j);
	for (int i = 0; i < s->n_visits; i++) {
		int j = index_get(idx, str_or_empty(s->visits[i].handler));

		if (j < 0) {
			grow_array((void **)&d->visits, &cap, (size_t)d->n_visits + 1,
				   sizeof(*d->visits));
			j = d->n_visits++;
			d->visits[j].handler = dup_or_null(s->visits[i].handler);
			index_put(idx, str_or_empty(d->visits[j].handler), j);
		}
		d->visits[j].calls += s->visits[i].calls;
	}
	lh_table_free(idx);
	merge_edge_list(&d->declared, &d->n_declared, s->declared, s->n_declared);
}

static void merge_bundle(struct snap_bundle *d, const struct snap_bundle *s,
			 const char *dst_host, const struct snapshot *src_snap, bool explicit_hosts)
{
	struct lh_table *idx = index_new(d->n_pids + s->n_pids);
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
		char *key = proc_key(d->pid_hosts && d->pid_hosts[i] ? d->pid_hosts[i] : dst_host,
				     d->pids[i]);

		index_put(idx, key, i);
		free(key);
	}
	for (int i = 0; i < s->n_pids; i++) {
		const char *h = host_of(s->pid_hosts ? s->pid_hosts[i] : NULL, src_snap);
		char *key = proc_key(h, s->pids[i]);
		int j = index_get(idx, key);

		if (j < 0) {
			j = n++;
			d->pids[j] = s->pids[i];
			if (d->pid_threads)
				d->pid_threads[j] = 0;
			if (d->pid_hosts)
				d->pid_hosts[j] = dup_or_null(
					explicit_hosts ? h : s->pid_hosts ? s->pid_hosts[i] : NULL);
			index_put(idx, key, j);
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
	d->cpu_measured = d->cpu_measured && s->cpu_measured;
	d->cpu_s = d->cpu_measured ? d->cpu_s + s->cpu_s : 0;
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

	idx = index_new(dst->n_handlers + src->n_handlers);
	for (int i = 0; i < dst->n_handlers; i++)
		index_put(idx, str_or_empty(dst->handlers[i].id), i);
	cap = (size_t)dst->n_handlers;
	for (int i = 0; i < src->n_handlers; i++) {
		const struct snap_handler *sh = &src->handlers[i];
		int j = index_get(idx, str_or_empty(sh->id));

		if (j >= 0) {
			merge_handler(&dst->handlers[j], sh, dst_host, src, multi);
			continue;
		}
		grow_array((void **)&dst->handlers, &cap, (size_t)dst->n_handlers + 1,
			   sizeof(*dst->handlers));
		copy_handler(&dst->handlers[dst->n_handlers], sh, src, multi);
		index_put(idx, str_or_empty(sh->id), dst->n_handlers++);
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

	dst->unmatched_returns += src->unmatched_returns;
	dst->depth_overflows += src->depth_overflows;
	dst->abandoned_frames += src->abandoned_frames;
	dst->exited_in_call += src->exited_in_call;
	dst->edges_dropped += src->edges_dropped;
	dst->instances_dropped += src->instances_dropped;
	dst->threads_dropped += src->threads_dropped;
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
