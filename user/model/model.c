// SPDX-License-Identifier: MIT
/*
 * The capacity model of a snapshot: see model.h, and docs/model.md for the
 * formulas and the assumptions behind them. This file runs the stages in
 * order (model_int.h names the file of each):
 *
 *   options checked -> handlers (probe-cost correction, held times) -> flows
 *   (visit ratios: exact for nested calls, fitted from handler counts for
 *   asynchronous ones) -> stations (servers, demands per flow, waits the
 *   measurement already contains) -> evaluation at the measured rates and at
 *   the target -> contributions, sizing, ceilings, ranking, closed workload,
 *   self-checks.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model_int.h"

/* ---- lookups -------------------------------------------------------------------- */

double model_others_share(const struct model_station *st)
{
	return st->servers ? st->others_busy / st->servers : 0;
}

int model_handler_index(const struct model *m, const char *id)
{
	for (int i = 0; id && i < m->n_handlers; i++)
		if (!strcmp(m->handlers[i].id, id))
			return i;
	return -1;
}

int model_station_index(const struct model *m, const char *name)
{
	for (int i = 0; name && i < m->n_stations; i++)
		if (!strcmp(m->stations[i].name, name))
			return i;
	return -1;
}

int model_flow_index(const struct model *m, const char *name)
{
	for (int i = 0; name && i < m->n_flows; i++)
		if (!strcmp(m->flows[i].name, name))
			return i;
	return -1;
}

/* ---- build ------------------------------------------------------------------------ */

static void build_free(struct build *b)
{
	free(b->bundle_of);
	free(b->edges);
	free(b->out_start);
	free(b->nested_any);
	free(b->pc_in);
	free(b->pc_call);
	free(b->vs);
	free(b->va);
	free(b->vc);
	free(b->outer);
	free(b->own_extra);
	free(b->elsewhere_extra);
	free(b->lock_wait_meas);
	free(b->lock_station);
	free(b->remote);
	free(b->wait_meas);
	free(b->held_meas);
	if (b->sp)
		for (int k = 0; k < b->m->n_stations; k++)
			free(b->sp[k].handlers);
	free(b->sp);
	for (int f = 0; b->plo && f < b->F; f++) {
		free(b->plo[f]);
		free(b->phi[f]);
		free(b->pw[f]);
	}
	free(b->plo);
	free(b->phi);
	free(b->pw);
	free(b->pn);
}

int model_build(const struct snapshot *s, const struct model_opts *o, struct model *m, char *err,
		size_t errlen)
{
	static const struct model_opts defaults;
	struct build b = { 0 };
	struct eval at_target, at_measured;
	double *rates, *measured;

	memset(m, 0, sizeof(*m));
	if (!o)
		o = &defaults;
	if (!(s->duration_s > 0)) {
		snprintf(err, errlen, "the snapshot has no duration: rates cannot be computed");
		return -1;
	}
	if (model_check_names(s, o, err, errlen))
		return -1;
	b.s = s;
	b.o = o;
	b.m = m;
	b.H = s->n_handlers;
	b.F = s->n_flows;
	m->duration_s = s->duration_s;
	m->nproc = s->nproc;
	m->scale = o->scale > 0 ? o->scale : 1;
	m->util_limit = o->util_limit > 0 ? o->util_limit : MODEL_UTIL_LIMIT;
	m->targeted = o->n_targets > 0 || m->scale != 1;
	m->bottleneck = m->bottleneck_handler = m->ceiling_station = -1;

	model_index_edges(&b);
	model_build_handlers(&b);
	model_build_flows(&b);
	model_build_stations(&b);

	rates = xcalloc((size_t)b.F + 1, sizeof(double));
	measured = xcalloc((size_t)b.F + 1, sizeof(double));
	for (int f = 0; f < b.F; f++) {
		struct model_flow *mf = &m->flows[f];

		measured[f] = mf->measured_rate_per_s;
		rates[f] = measured[f] * m->scale;
		for (int t = 0; t < o->n_targets; t++) {
			if (!strcmp(o->targets[t].flow, mf->name)) {
				rates[f] = o->targets[t].rate_per_s;
				mf->targeted = true;
			}
		}
		mf->rate_per_s = rates[f];
		if (mf->targeted && !b.outer[f] && rates[f] > 0)
			model_note(m, "flow %s: --target given, but the flow never ran: no demands to "
				   "scale", mf->name);
	}
	b.plo = xcalloc((size_t)b.F + 1, sizeof(*b.plo));
	b.phi = xcalloc((size_t)b.F + 1, sizeof(*b.phi));
	b.pw = xcalloc((size_t)b.F + 1, sizeof(*b.pw));
	b.pn = xcalloc((size_t)b.F + 1, sizeof(*b.pn));
	for (int f = 0; f < b.F; f++)
		if (b.outer[f])
			model_entry_shape(&b, f);

	model_eval_alloc(&b, &at_target);
	model_eval_alloc(&b, &at_measured);
	model_evaluate(&b, measured, 1, false, &at_measured);
	if (b.n_remote) {
		b.wait_meas = xcalloc((size_t)m->n_stations + 1, sizeof(double));
		b.held_meas = xcalloc((size_t)b.H + 1, sizeof(double));
		memcpy(b.wait_meas, at_measured.wait, (size_t)m->n_stations * sizeof(double));
		memcpy(b.held_meas, at_measured.held, (size_t)b.H * sizeof(double));
	}
	model_exclusive_demands(&b);
	model_evaluate(&b, rates, m->scale, true, &at_target);
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];

		st->utilization = at_target.u[k];
		st->utilization_loaded = at_target.u_loaded[k];
		st->background = b.sp[k].bg0 * m->scale / st->servers;
		st->service_ns = at_target.service[k];
		st->pwait = at_target.pwait[k];
		st->wait_ns = at_target.wait[k];
	}
	for (int f = 0; f < b.F; f++) {
		struct model_flow *mf = &m->flows[f];

		mf->predicted_mean_ns = at_target.mean[f];
		mf->predicted_p95_ns = at_target.p95[f];
		mf->predicted_p99_ns = at_target.p99[f];
		mf->predicted_service_ns = at_target.service_f[f];
		mf->exceeds_capacity = at_target.exceeds[f];
		mf->saturated_station = at_target.saturated[f];
	}
	model_contributions(&b, rates);
	model_sizing(&b, &at_target);
	model_ceilings(&b, rates);
	model_rank_stations(&b);
	model_closed_workload(&b, rates);
	model_self_checks(&b, &at_measured);

	model_eval_free(&at_target);
	model_eval_free(&at_measured);
	free(rates);
	free(measured);
	build_free(&b);
	return 0;
}

void model_free(struct model *m)
{
	for (int i = 0; i < m->n_handlers; i++) {
		free(m->handlers[i].id);
		free(m->handlers[i].bundle);
	}
	free(m->handlers);
	for (int i = 0; i < m->n_flows; i++) {
		free(m->flows[i].name);
		free(m->flows[i].entry);
		free(m->flows[i].visits);
		free(m->flows[i].visits_async);
	}
	free(m->flows);
	for (int k = 0; k < m->n_stations; k++) {
		struct model_station *st = &m->stations[k];

		free(st->name);
		free(st->demand_ns);
		free(st->demand_measured_ns);
		free(st->demand_exclusive_ns);
		free(st->oncpu_ns);
		free(st->wake_ns);
		free(st->outside_ns);
		free(st->visits);
		free(st->top);
	}
	free(m->stations);
	free(m->ranking);
	free(m->closed.users);
	free(m->closed.throughput_per_s);
	free(m->closed.response_ns);
	free(m->closed.bound_throughput_per_s);
	free(m->closed.bound_response_ns);
	free(m->closed.limited_by);
	for (int i = 0; i < m->n_notes; i++)
		free(m->notes[i]);
	free(m->notes);
	memset(m, 0, sizeof(*m));
}
