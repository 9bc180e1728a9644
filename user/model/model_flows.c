// SPDX-License-Identifier: MIT
/*
 * The model's flows (docs/model.md, "Visit ratios"): the calls of each
 * handler per invocation of a flow, exact for nested calls (the snapshot's
 * per-flow visit counts) and fitted from the handlers' counts for
 * asynchronous and remote ones; each flow's own arrivals (not the calls of
 * its entry made inside other flows); and the calls no flow explains, the
 * background load.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* A declared asynchronous ("a ~> b") or remote ("a => b") call. */
struct async_edge {
	int from, to;
	bool waits;	/* "a => b": a waits for b's reply */
	bool *flows;	/* declared by these flows */
};

/* ---- asynchronous attribution ---------------------------------------------- */

/* Calls of each handler nested under one call of b, at any depth, from the
 * observed edges (each edge's calls spread over all calls of its parent). */
static void nested_from_edges(struct build *b, int h, double factor, int depth, bool *on_path,
			      double *nu)
{
	if (depth > 32 || factor < 1e-12)
		return;
	on_path[h] = true;
	for (int e = b->out_start[h]; e < b->out_start[h + 1]; e++) {
		int to = b->edges[e].to;
		double per;

		if (on_path[to] || !b->m->handlers[h].calls)
			continue;
		per = factor * b->edges[e].calls / (double)b->m->handlers[h].calls;
		nu[to] += per;
		nested_from_edges(b, to, per, depth + 1, on_path, nu);
	}
	on_path[h] = false;
}

/* What runs nested under one call of handler t: exact from a flow whose entry
 * t is (its visit counts), else from the edges. */
static void nested_structure(struct build *b, int t, double *nu)
{
	const struct snapshot *s = b->s;

	for (int g = 0; g < b->F; g++) {
		if (b->m->flows[g].entry_handler == t && s->flows[g].invocations) {
			for (int h = 0; h < b->H; h++)
				if (h != t)
					nu[h] = AT(b->vc, b, g, h) / (double)s->flows[g].invocations;
			return;
		}
	}
	{
		bool *on_path = xcalloc((size_t)b->H + 1, sizeof(bool));

		nested_from_edges(b, t, 1, 0, on_path, nu);
		free(on_path);
	}
}

static int find_async_edge(struct async_edge *ae, int n, int from, int to)
{
	for (int i = 0; i < n; i++)
		if (ae[i].from == from && ae[i].to == to)
			return i;
	return -1;
}

/*
 * Asynchronous calls (a ~> b): b's calls that ran outside any handler are
 * split over the flows that declare a call into b, in proportion to the
 * calls of the declared callers in those flows, with one ratio (b calls per
 * caller call) per target. With one caller that ratio is exact. With
 * several callers there is one equation (b's count) for several ratios: the
 * model takes the least-squares solution that keeps the ratios equal, and
 * says so. Chains (a ~> b ~> c) and b's own nested calls follow; cycles
 * through ~> are iterated to a fixed point.
 */
static void attribute_async(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	struct async_edge *ae = NULL;
	int n_ae = 0, *targets = NULL, n_targets = 0, round;
	double **nu = NULL, *resid = NULL, *ratio = NULL, *next = NULL;
	size_t cells = (size_t)b->F * (size_t)b->H;

	for (int f = 0; f < b->F; f++) {
		const struct snap_flow *sf = &s->flows[f];

		for (int d = 0; d < sf->n_declared; d++) {
			int from, to, k;

			if (!sf->declared[d].async)
				continue;
			from = handler_ix(s, sf->declared[d].from);
			to = handler_ix(s, sf->declared[d].to);
			if (from < 0 || to < 0)
				continue;
			k = find_async_edge(ae, n_ae, from, to);
			if (k < 0) {
				ae = xrealloc(ae, (size_t)(n_ae + 1) * sizeof(*ae));
				ae[n_ae].from = from;
				ae[n_ae].to = to;
				ae[n_ae].waits = false;
				ae[n_ae].flows = xcalloc((size_t)b->F + 1, sizeof(bool));
				k = n_ae++;
				{
					bool seen = false;

					for (int t = 0; t < n_targets; t++)
						seen |= targets[t] == to;
					if (!seen) {
						targets = xrealloc(targets, (size_t)(n_targets + 1) *
									    sizeof(*targets));
						targets[n_targets++] = to;
					}
				}
			}
			ae[k].flows[f] = true;
			ae[k].waits |= sf->declared[d].waits;
		}
	}
	if (!n_ae)
		return;
	nu = xcalloc((size_t)n_targets, sizeof(*nu));
	resid = xcalloc((size_t)n_targets, sizeof(*resid));
	ratio = xcalloc((size_t)n_targets, sizeof(*ratio));
	next = xcalloc(cells + 1, sizeof(*next));
	for (int t = 0; t < n_targets; t++) {
		int h = targets[t];

		nu[t] = xcalloc((size_t)b->H + 1, sizeof(double));
		nested_structure(b, h, nu[t]);
		resid[t] = fmax(0, (double)m->handlers[h].calls - b->nested_any[h]);
	}
	for (round = 0; round < 200; round++) {
		double diff = 0, scale = 1;

		memset(next, 0, cells * sizeof(*next));
		for (int t = 0; t < n_targets; t++) {
			double sum = 0;

			for (int k = 0; k < n_ae; k++) {
				if (ae[k].to != targets[t])
					continue;
				for (int f = 0; f < b->F; f++)
					if (ae[k].flows[f])
						sum += b->outer[f] * V(b, f, ae[k].from);
			}
			ratio[t] = sum > 0 ? resid[t] / sum : 0;
			for (int k = 0; k < n_ae; k++) {
				if (ae[k].to != targets[t])
					continue;
				for (int f = 0; f < b->F; f++) {
					double add;

					if (!ae[k].flows[f])
						continue;
					add = ratio[t] * V(b, f, ae[k].from);
					AT(next, b, f, targets[t]) += add;
					for (int h = 0; h < b->H; h++)
						if (nu[t][h] > 0)
							AT(next, b, f, h) += add * nu[t][h];
				}
			}
		}
		for (size_t i = 0; i < cells; i++) {
			diff = fmax(diff, fabs(next[i] - b->va[i]));
			scale = fmax(scale, fabs(next[i]));
		}
		memcpy(b->va, next, cells * sizeof(*next));
		if (diff <= 1e-12 * scale)
			break;
	}
	if (round == 200)
		model_note(m, "asynchronous calls form a cycle whose visit ratios did not settle; the "
			   "visits of its handlers are approximate");
	for (int k = 0; k < n_ae; k++) {
		if (!ae[k].waits)
			continue;
		for (int t = 0; t < n_targets; t++) {
			if (targets[t] != ae[k].to || !(ratio[t] > 0))
				continue;
			b->remote = xrealloc(b->remote, (size_t)(b->n_remote + 1) * sizeof(*b->remote));
			b->remote[b->n_remote++] = (struct remote_call){ ae[k].from, ae[k].to, ratio[t] };
		}
	}
	/* say what was fitted */
	for (int t = 0; t < n_targets; t++) {
		int h = targets[t], callers = 0;
		char *list = xstrdup(""), *flows = xstrdup("");

		for (int k = 0; k < n_ae; k++) {
			char *tmp;

			if (ae[k].to != h)
				continue;
			callers++;
			tmp = xasprintf("%s%s%s", list, *list ? ", " : "", m->handlers[ae[k].from].id);
			free(list);
			list = tmp;
			for (int f = 0; f < b->F; f++) {
				if (!ae[k].flows[f] || strstr(flows, m->flows[f].name))
					continue;
				tmp = xasprintf("%s%s%s", flows, *flows ? ", " : "", m->flows[f].name);
				free(flows);
				flows = tmp;
			}
		}
		if (callers > 1) {
			for (int k = 0; k < n_ae; k++)
				for (int f = 0; f < b->F; f++)
					if (ae[k].to == h && ae[k].flows[f])
						m->flows[f].least_squares = true;
			model_note(m, "%s: %.0f calls from %d asynchronous callers (%s): their split "
				   "between flows %s is under-determined; fitted by least squares with one "
				   "ratio for all callers (%.3g calls per caller call)",
				   m->handlers[h].id, resid[t], callers, list, flows, ratio[t]);
		} else if (resid[t] > 0 && ratio[t] == 0) {
			model_note(m, "%s: %.0f calls not attributed: its declared asynchronous caller "
				   "%s never ran in flows %s", m->handlers[h].id, resid[t], list, flows);
		}
		free(list);
		free(flows);
	}
	for (int t = 0; t < n_targets; t++)
		free(nu[t]);
	for (int k = 0; k < n_ae; k++)
		free(ae[k].flows);
	free(nu);
	free(ae);
	free(targets);
	free(resid);
	free(ratio);
	free(next);
}

/* ---- visit ratios ------------------------------------------------------------ */

/*
 * The flow's mean from its own arrivals where they were recorded (its entry
 * called inside no flow), not from all its entry's calls: those it makes
 * inside other flows can take another time (a handler called at the top and
 * again, shorter, from inside another flow). The model's time for a flow
 * takes each kind of call at its own self time (model_evaluate).
 */
static void flow_own_arrivals(struct build *b, int f, const struct snap_handler *sh)
{
	struct model_flow *mf = &b->m->flows[f];
	int e = mf->entry_handler;
	const struct model_handler *mh = &b->m->handlers[e];
	double n = (double)sh->arrival.calls, rest = (double)sh->calls - n, mean, self;

	if (!sh->arrival_measured || !sh->probe_measured || !sh->arrival.calls || !(rest > 0))
		return; /* none, or the entry's calls are all arrivals */
	mf->measured_mean_raw_ns = (double)sh->arrival.ns / n;
	mean = fmax(0, mf->measured_mean_raw_ns - (double)sh->arrival.probe_ns / n);
	self = clamp(((double)sh->arrival.self_ns - (double)sh->arrival.self_probe_ns) / n, 0, mean);
	mf->measured_mean_ns = mean;
	mf->measured_mean_unc_ns = model_mean_uncertainty(mh, n);
	mf->mean_from_arrivals = true;
	b->own_extra[e] = self - mh->self_ns;
	/* the rest of its calls' self time: all of it less the arrivals' */
	b->elsewhere_extra[e] = fmax(0, (mh->self_ns * (double)sh->calls - self * n) / rest) -
				mh->self_ns;
}

/* What the flow's v visits of handler h hold beyond v times its mean self
 * time over all its calls (flow_own_arrivals): the flow's own entry is one
 * arrival and v - 1 calls of the other kind; any other handler's calls are
 * of the other kind. 0 where no arrivals were recorded. */
double flow_visits_extra_ns(const struct build *b, int f, int h, double v)
{
	if (h == b->m->flows[f].entry_handler)
		return b->own_extra[h] + (v - 1) * b->elsewhere_extra[h];
	return v * b->elsewhere_extra[h];
}

void model_build_flows(struct build *b)
{
	const struct snapshot *s = b->s;
	struct model *m = b->m;
	size_t cells = (size_t)b->F * (size_t)b->H;

	m->n_flows = b->F;
	m->flows = xcalloc((size_t)b->F + 1, sizeof(*m->flows));
	b->vs = xcalloc(cells + 1, sizeof(double));
	b->va = xcalloc(cells + 1, sizeof(double));
	b->vc = xcalloc(cells + 1, sizeof(double));
	b->outer = xcalloc((size_t)b->F + 1, sizeof(double));
	b->own_extra = xcalloc((size_t)b->H + 1, sizeof(double));
	b->elsewhere_extra = xcalloc((size_t)b->H + 1, sizeof(double));
	for (int f = 0; f < b->F; f++) {
		const struct snap_flow *sf = &s->flows[f];
		struct model_flow *mf = &m->flows[f];
		int e = handler_ix(s, sf->entry);
		double inv = (double)sf->invocations, rec;

		mf->name = xstrdup(sf->name ? sf->name : "");
		mf->entry = xstrdup(sf->entry ? sf->entry : "");
		mf->entry_handler = e;
		mf->alone_bottleneck = mf->saturated_station = -1;
		mf->visits = xcalloc((size_t)b->H + 1, sizeof(double));
		mf->visits_async = xcalloc((size_t)b->H + 1, sizeof(double));
		mf->inflight_sampled = mf->inflight_kernel = NAN;
		mf->measured_mean_ns = mf->measured_mean_raw_ns = mf->measured_mean_unc_ns = NAN;
		for (int v = 0; v < sf->n_visits; v++) {
			int h = handler_ix(s, sf->visits[v].handler);

			if (h >= 0)
				AT(b->vc, b, f, h) = (double)sf->visits[v].calls;
		}
		if (e < 0 || !inv) {
			model_note(m, "flow %s: its entry %s never ran during the recording: no rate and "
				   "no demands", mf->name, mf->entry);
			continue;
		}
		/* recursion: entry calls nested in the entry belong to the outer call */
		rec = AT(b->vc, b, f, e);
		b->outer[f] = rec < inv ? inv - rec : inv;
		for (int h = 0; h < b->H; h++)
			AT(b->vs, b, f, h) = AT(b->vc, b, f, h) / b->outer[f];
		AT(b->vs, b, f, e) = inv / b->outer[f];
		mf->measured_mean_raw_ns = m->handlers[e].raw_mean_ns;
		mf->measured_mean_ns = m->handlers[e].mean_ns;
		mf->measured_mean_unc_ns = m->handlers[e].unc.mean_ns;
		flow_own_arrivals(b, f, &s->handlers[e]);
		mf->inflight_sampled = s->handlers[e].inflight_mean;
		mf->inflight_kernel = (double)s->handlers[e].total_ns / (s->duration_s * NS);
	}
	attribute_async(b);
	/* independent arrivals: not the entry calls made inside other flows */
	for (int f = 0; f < b->F; f++) {
		struct model_flow *mf = &m->flows[f];
		int e = mf->entry_handler;
		double inside = 0, handed = 0, arrivals;
		char *others;

		if (!b->outer[f])
			continue;
		others = xstrdup("");
		for (int g = 0; g < b->F; g++) {
			double async, n;

			if (g == f)
				continue;
			async = b->outer[g] * AT(b->va, b, g, e);
			n = AT(b->vc, b, g, e) * b->outer[f] / (double)s->flows[f].invocations + async;
			handed += async;
			if (n > 0.5) {
				char *tmp = xasprintf("%s%s%s", others, *others ? ", " : "", m->flows[g].name);

				free(others);
				others = tmp;
			}
			inside += n;
		}
		arrivals = fmax(0, b->outer[f] - inside);
		mf->entry_calls_elsewhere = fmin(inside, b->outer[f]);
		if (inside > 0.5)
			model_note(m, "flow %s: its entry %s also runs inside flow%s %s (%.0f calls); its "
				   "rate counts only its %.0f own arrivals", mf->name, mf->entry,
				   strchr(others, ',') ? "s" : "", others, fmin(inside, b->outer[f]),
				   arrivals);
		/* a call handed to another thread arrives there inside no
		 * flow: the kernel counts it with the flow's own arrivals */
		if (handed > 0.5)
			model_note(m, "flow %s: its measured mean and percentiles include the %.0f "
				   "calls other flows handed to its entry %s asynchronously (on their "
				   "thread they arrive inside no flow)", mf->name, handed, mf->entry);
		free(others);
		mf->measured_rate_per_s = arrivals / s->duration_s;
		for (int h = 0; h < b->H; h++) {
			mf->visits[h] = V(b, f, h);
			mf->visits_async[h] = AT(b->va, b, f, h);
		}
	}
	/* calls no flow explains: background load */
	for (int h = 0; h < b->H; h++) {
		struct model_handler *mh = &m->handlers[h];
		double attributed = 0, calls = (double)mh->calls;

		for (int f = 0; f < b->F; f++)
			attributed += m->flows[f].measured_rate_per_s * s->duration_s * V(b, f, h);
		if (attributed > calls * 1.01 + 1)
			model_note(m, "%s: the flows account for %.0f calls but it made %.0f; its "
				   "visit ratios are over-estimated", mh->id, attributed, calls);
		mh->unattributed_calls = fmax(0, calls - attributed);
	}
}
