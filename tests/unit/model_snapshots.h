/* SPDX-License-Identifier: MIT */
/*
 * Snapshots built by hand for the model's unit tests (test_model*.c): a
 * handler with given per-call means, bundles, observed edges, flows with
 * their visit counts and declared calls; near()/rel() for figures worked
 * out on paper; and the model under test: options (opt, reset_opts as a
 * teardown), build and station (cmocka's fail(): include after <cmocka.h>).
 * Everything is static inline: each test uses some.
 */
#ifndef FLOWPROF_TEST_MODEL_SNAPSHOTS_H
#define FLOWPROF_TEST_MODEL_SNAPSHOTS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

#define near(got, want, tol)                                                              \
	do {                                                                              \
		double g_ = (got), w_ = (want);                                           \
		if (!(fabs(g_ - w_) <= (tol))) {                                          \
			print_error("%s = %.12g, want %.12g (tolerance %g)\n", #got, g_, w_, \
				    (double)(tol));                                       \
			fail();                                                           \
		}                                                                         \
	} while (0)
#define rel(got, want, r) near(got, want, fabs((double)(want)) * (r))

/* ---- building snapshots by hand ---------------------------------------------- */

static inline void snap_init(struct snapshot *s, double duration_s, int nproc)
{
	memset(s, 0, sizeof(*s));
	s->version = SNAPSHOT_VERSION;
	s->host = xstrdup("test");
	s->duration_s = duration_s;
	s->nproc = nproc;
}

/* A handler "bundle.name" with per-call means (ns); scv sets the sum of
 * squares: var = scv x mean^2. */
static inline struct snap_handler *add_handler(struct snapshot *s, const char *id,
					       uint64_t calls, double mean, double self,
					       double oncpu, double scv)
{
	struct snap_handler *h;

	s->handlers = xrealloc(s->handlers, (size_t)(s->n_handlers + 1) * sizeof(*s->handlers));
	h = &s->handlers[s->n_handlers++];
	memset(h, 0, sizeof(*h));
	h->id = xstrdup(id);
	h->bundle = xasprintf("%.*s", (int)strcspn(id, "."), id);
	h->site_class = xstrdup("nop5");
	h->calls = h->entries = calls;
	h->total_ns = (uint64_t)llround(calls * mean);
	h->self_ns = (uint64_t)llround(calls * self);
	h->oncpu_ns = (uint64_t)llround(calls * oncpu);
	h->oncpu_measured = true;
	h->min_ns = h->max_ns = (uint64_t)mean;
	h->sumsq_ns2 = (long double)calls * (scv + 1) * mean * mean;
	return h;
}

static inline struct snap_bundle *add_bundle(struct snapshot *s, const char *name, int pids,
					     int threads)
{
	struct snap_bundle *b;

	s->bundles = xrealloc(s->bundles, (size_t)(s->n_bundles + 1) * sizeof(*s->bundles));
	b = &s->bundles[s->n_bundles++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	b->n_pids = pids;
	b->pids = xcalloc((size_t)pids, sizeof(int));
	for (int i = 0; i < pids; i++)
		b->pids[i] = 1000 + i;
	b->threads = threads;
	return b;
}

static inline void add_edge(struct snapshot *s, const char *from, const char *to, uint64_t calls)
{
	struct snap_edge *e;

	s->edges = xrealloc(s->edges, (size_t)(s->n_edges + 1) * sizeof(*s->edges));
	e = &s->edges[s->n_edges++];
	memset(e, 0, sizeof(*e));
	e->from = xstrdup(from);
	e->to = xstrdup(to);
	e->calls = calls;
	e->declared = true;
}

static inline struct snap_flow *add_flow(struct snapshot *s, const char *name,
					 const char *entry, uint64_t invocations)
{
	struct snap_flow *f;

	s->flows = xrealloc(s->flows, (size_t)(s->n_flows + 1) * sizeof(*s->flows));
	f = &s->flows[s->n_flows++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->entry = xstrdup(entry);
	f->invocations = invocations;
	return f;
}

static inline void add_visit(struct snap_flow *f, const char *handler, uint64_t calls)
{
	f->visits = xrealloc(f->visits, (size_t)(f->n_visits + 1) * sizeof(*f->visits));
	f->visits[f->n_visits].handler = xstrdup(handler);
	f->visits[f->n_visits].calls = calls;
	f->n_visits++;
}

static inline void add_declared(struct snap_flow *f, const char *from, const char *to,
				bool async)
{
	struct snap_edge *e;

	f->declared = xrealloc(f->declared, (size_t)(f->n_declared + 1) * sizeof(*f->declared));
	e = &f->declared[f->n_declared++];
	memset(e, 0, sizeof(*e));
	e->from = xstrdup(from);
	e->to = xstrdup(to);
	e->declared = true;
	e->async = async;
}

/* ---- the model under test ----------------------------------------------------- */

static struct model_opts opts;

static inline int reset_opts(void **state)
{
	(void)state;
	model_opts_free(&opts);
	return 0;
}

static inline void opt(const char *name, const char *value)
{
	char err[256] = "";

	if (model_parse_option(&opts, name, value, err, sizeof(err))) {
		print_error("%s %s: %s\n", name, value, err);
		fail();
	}
}

static inline void build(const struct snapshot *s, struct model *m)
{
	char err[512] = "";

	if (model_build(s, &opts, m, err, sizeof(err))) {
		print_error("model_build: %s\n", err);
		fail();
	}
}

/* The one note of m that starts with prefix, NULL if none. */
static inline const char *note(const struct model *m, const char *prefix)
{
	for (int i = 0; i < m->n_notes; i++)
		if (!strncmp(m->notes[i], prefix, strlen(prefix)))
			return m->notes[i];
	return NULL;
}

static inline const struct model_station *station(const struct model *m, const char *name)
{
	int k = model_station_index(m, name);

	if (k < 0) {
		print_error("no station %s\n", name);
		fail();
	}
	return &m->stations[k];
}

#endif
