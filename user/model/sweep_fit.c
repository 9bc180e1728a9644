// SPDX-License-Identifier: MIT
/*
 * The sweep's analysis (sweep.h: sweep_analyze): the queueing model
 * (model.h) fitted on the lowest measured step, each other step predicted
 * (closed: exact MVA at its users; open: the mix scaled to its rate), the
 * errors against the measurement, and the run's saturation and knee.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model.h"
#include "sweep_int.h"

/* ---- the model the sweep fits --------------------------------------------- */

/*
 * The sweep asks model.h: the fitted step's snapshot, with each bundle's
 * servers as observed over the whole sweep, modelled at the step levels.
 * One closed class: a user's request is a flow drawn from the measured mix.
 */
struct sweep_prediction {
	double throughput_per_s;
	double response_ns;
	int bottleneck;
	double bottleneck_utilization;
	double *flow_response_ns;
};

static void sweep_prediction_free(struct sweep_prediction *p)
{
	free(p->flow_response_ns);
	p->flow_response_ns = NULL;
}

/* The fitted step's snapshot with the threads seen at any load: the lowest
 * step may not have kept every worker of a pool busy even once. */
static int fit_snapshot(const struct snapshot *fit, const struct snapshot *servers_from,
			struct snapshot *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (snapshot_merge(out, fit, err, errlen))
		return -1;
	out->duration_s = fit->duration_s;
	for (int b = 0; servers_from && b < out->n_bundles; b++) {
		const struct snap_bundle *seen = snapshot_bundle(servers_from, out->bundles[b].name);

		if (seen && seen->threads > out->bundles[b].threads)
			out->bundles[b].threads = seen->threads;
		/* a pool's size: the most at once over the whole sweep, not at
		 * the fitted step's low load only */
		if (seen && seen->conc_measured && seen->inflight_max > out->bundles[b].inflight_max)
			out->bundles[b].inflight_max = seen->inflight_max;
		if (seen && seen->conc_measured && seen->live_max > out->bundles[b].live_max)
			out->bundles[b].live_max = seen->live_max;
	}
	return 0;
}

/* The measured mix, and each station's demand per request of it. */
static double *mix_shares(const struct model *m)
{
	double total = 0, *share = xcalloc((size_t)m->n_flows + 1, sizeof(double));

	for (int f = 0; f < m->n_flows; f++)
		total += m->flows[f].measured_rate_per_s;
	for (int f = 0; f < m->n_flows; f++)
		share[f] = total > 0 ? m->flows[f].measured_rate_per_s / total : 0;
	return share;
}

/* A per-flow demand of the model (model.h) for one request of the mix. */
static double mix_demand(const struct model *m, const double *per_flow, const double *share)
{
	double d = 0;

	for (int f = 0; f < m->n_flows; f++)
		d += share[f] * per_flow[f];
	return d;
}

/* A pool that holds its threads for their work outside the handlers too
 * (model_wake.c) fills by that as well; its waking falls to nothing at its
 * ceiling. */
static double station_demand(const struct model *m, int k, const double *share)
{
	return mix_demand(m, m->stations[k].demand_ns, share) +
	       mix_demand(m, m->stations[k].outside_ns, share);
}

/* Utilizations at throughput x: the busiest station names the bottleneck. */
static void name_bottleneck(const struct model *m, const double *share, double x_per_s,
			    struct sweep_prediction *p)
{
	p->bottleneck = -1;
	p->bottleneck_utilization = -1;
	for (int k = 0; k < m->n_stations; k++) {
		double u = x_per_s * station_demand(m, k, share) / 1e9 / m->stations[k].servers;

		if (u > p->bottleneck_utilization) {
			p->bottleneck_utilization = u;
			p->bottleneck = k;
		}
	}
}

/* A flow's share of the response time: its entry's own time against the
 * mix's (the model's closed curve is for the mix as a whole). */
static void flow_responses(const struct model *m, const double *share,
			   struct sweep_prediction *p)
{
	double mix = 0;

	p->flow_response_ns = xcalloc((size_t)m->n_flows + 1, sizeof(double));
	for (int f = 0; f < m->n_flows; f++)
		if (isfinite(m->flows[f].measured_mean_ns))
			mix += share[f] * m->flows[f].measured_mean_ns;
	for (int f = 0; f < m->n_flows; f++)
		p->flow_response_ns[f] = mix > 0 && isfinite(m->flows[f].measured_mean_ns)
			? p->response_ns * m->flows[f].measured_mean_ns / mix : NAN;
}

/* The model of s for closed populations users[0..n) with think time z. */
static int model_closed_at(const struct snapshot *s, int *users, int n, double think_s,
			   struct model *m, char *err, size_t errlen)
{
	struct model_opts o = { .users = users, .n_users = n, .think_s = think_s };

	return model_build(s, &o, m, err, errlen);
}

/* Z such that the model reproduces the fitted step's throughput: the
 * interactive response-time law Z = N / X - R(N), R from the model at N
 * (which moves a little with Z when N > 1: a few fixed-point rounds). */
static double fit_think(const struct snapshot *s, double users, double x_per_s)
{
	int n = (int)users;
	double z = 0;

	for (int i = 0; i < 8; i++) {
		struct model m;
		char err[256];
		double next;

		if (model_closed_at(s, &n, 1, z, &m, err, sizeof(err)))
			break;
		next = users / x_per_s - m.closed.response_ns[0] / 1e9;
		model_free(&m);
		if (next < 0)
			next = 0;
		if (fabs(next - z) < 1e-9) {
			z = next;
			break;
		}
		z = next;
	}
	return z;
}

/* An open step: the measured mix scaled to the step's rate. */
static int predict_open(const struct snapshot *s, double fit_rate, double rate,
			struct sweep_prediction *p)
{
	struct model_opts o = { .scale = rate / fit_rate };
	struct model m;
	double *share, r = 0, x = 0;
	char err[256];

	memset(p, 0, sizeof(*p));
	if (!(fit_rate > 0) || model_build(s, &o, &m, err, sizeof(err)))
		return -1;
	/* R as the measurement sees it: the time inside the entry handler (the
	 * wait for a worker comes before it, where no probe is) */
	share = mix_shares(&m);
	for (int f = 0; f < m.n_flows; f++) {
		x += m.flows[f].rate_per_s;
		r += share[f] * m.flows[f].predicted_service_ns;
	}
	p->throughput_per_s = m.max_throughput_per_s < x ? m.max_throughput_per_s : x;
	p->response_ns = r; /* INFINITY past capacity: the table says "-" */
	name_bottleneck(&m, share, p->throughput_per_s, p);
	p->flow_response_ns = xcalloc((size_t)m.n_flows + 1, sizeof(double));
	for (int f = 0; f < m.n_flows; f++)
		p->flow_response_ns[f] = m.flows[f].predicted_service_ns;
	free(share);
	model_free(&m);
	return 0;
}

/* ---- analysis: fit on the lowest step, predict the others ------------- */

void sweep_fit_free(struct sweep_fit *f)
{
	free(f->bottleneck);
	for (int i = 0; i < f->n_stations; i++)
		free(f->stations[i].name);
	free(f->stations);
	for (int i = 0; i < f->n_flows; i++)
		free(f->flow_names[i]);
	free(f->flow_names);
	free(f->flow_share);
	memset(f, 0, sizeof(*f));
}

static double rel_err(double predicted, double measured)
{
	if (!isfinite(predicted) || !isfinite(measured) || measured == 0)
		return NAN;
	return (predicted - measured) / measured;
}

/* The first asked level at or above n (index into levels); -1 past the last. */
static int knee_step(const struct sweep *sw, double n)
{
	if (!isfinite(n))
		return -1;
	for (int i = 0; i < sw->n_levels; i++)
		if (sw->levels[i] >= n - 1e-9)
			return i;
	return -1;
}

static void summarize(struct sweep *sw)
{
	struct sweep_summary *s = &sw->summary;
	const struct sweep_step *fit = &sw->steps[sw->fit.step];
	const struct sweep_step *last = NULL, *before_last = NULL;

	memset(s, 0, sizeof(*s));
	s->measured_saturation_per_s = -1;
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];

		if (st->status != STEP_OK)
			continue;
		before_last = last;
		last = st;
		if (st->throughput_per_s > s->measured_saturation_per_s) {
			s->measured_saturation_per_s = st->throughput_per_s;
			s->measured_saturation_level = st->level;
		}
		if (!st->predicted || st == fit)
			continue;
		if (isfinite(st->err_throughput) && fabs(st->err_throughput) > s->max_abs_err_throughput)
			s->max_abs_err_throughput = fabs(st->err_throughput);
		if (isfinite(st->err_response) && fabs(st->err_response) > s->max_abs_err_response)
			s->max_abs_err_response = fabs(st->err_response);
	}
	/* Saturated: the last step gained less than 10% over the one before it
	 * (closed), or a step served less than 90% of its offered rate (open). */
	s->saturated = last && before_last &&
		       last->throughput_per_s < 1.10 * before_last->throughput_per_s;
	for (int i = 0; sw->variable == SWEEP_RATE && i < sw->n_steps; i++)
		if (sw->steps[i].status == STEP_OK &&
		    sw->steps[i].throughput_per_s < 0.9 * sw->steps[i].level)
			s->saturated = true;
	s->predicted_saturation_per_s = sw->fit.max_throughput_per_s;
	s->saturation_error = rel_err(s->predicted_saturation_per_s, s->measured_saturation_per_s);
	/* a knee is a number of users: open sweeps have none */
	s->predicted_knee_users = sw->variable == SWEEP_USERS ? sw->fit.knee_users : NAN;
	s->measured_knee_users = NAN;
	if (sw->variable == SWEEP_USERS && fit->throughput_per_s > 0)
		/* the measured asymptotes: X = N / (R + Z) through the fitted step, and X_sat */
		s->measured_knee_users = s->measured_saturation_per_s * fit->level /
					 fit->throughput_per_s;
	s->measured_knee_step = knee_step(sw, s->measured_knee_users);
	s->predicted_knee_step = knee_step(sw, s->predicted_knee_users);
	s->valid = true;
}

/* A step's prediction, with its errors against the measurement. */
static void apply_prediction(struct sweep_step *st, const struct model *m, const double *share,
			     const struct sweep_prediction *p)
{
	st->predicted = true;
	st->pred_throughput_per_s = p->throughput_per_s;
	st->pred_response_ns = p->response_ns;
	free(st->pred_bottleneck);
	st->pred_bottleneck = p->bottleneck >= 0 ? xstrdup(m->stations[p->bottleneck].name) : NULL;
	st->pred_bottleneck_utilization = p->bottleneck >= 0 ? p->bottleneck_utilization : NAN;
	for (int f = 0; f < st->n_flows; f++) {
		int mf = model_flow_index(m, st->flows[f].name);

		if (mf < 0)
			continue;
		st->flows[f].pred_rate_per_s = p->throughput_per_s * share[mf];
		st->flows[f].pred_response_ns = p->flow_response_ns ? p->flow_response_ns[mf] : NAN;
	}
	st->err_throughput = rel_err(st->pred_throughput_per_s, st->throughput_per_s);
	st->err_response = rel_err(st->pred_response_ns, st->response_ns);
}

static void fill_fit(struct sweep *sw, const struct model *m, const double *share)
{
	struct sweep_fit *f = &sw->fit;
	const struct model_closed *c = &m->closed;
	int b = c->max_station >= 0 ? c->max_station : m->bottleneck;

	f->demand_ns = c->demand_ns;
	/* closed: the asymptotic bound the MVA curve tends to; open: the open
	 * model's ceiling, the rate at which a station fills (waits below it
	 * counted), which is what predict_open() caps the throughput at */
	if (sw->variable == SWEEP_RATE)
		f->max_throughput_per_s = m->max_throughput_per_s;
	else
		f->max_throughput_per_s = c->max_demand_ns > 0 ? 1e9 / c->max_demand_ns : INFINITY;
	f->knee_users = sw->variable == SWEEP_USERS ? c->knee : NAN;
	f->bottleneck = b >= 0 ? xstrdup(m->stations[b].name) : NULL;
	f->n_stations = m->n_stations;
	f->stations = xcalloc((size_t)m->n_stations + 1, sizeof(*f->stations));
	for (int k = 0; k < m->n_stations; k++) {
		f->stations[k].name = xstrdup(m->stations[k].name);
		f->stations[k].servers = m->stations[k].servers;
		f->stations[k].demand_ns = station_demand(m, k, share);
		f->stations[k].demand_exclusive_ns =
			mix_demand(m, m->stations[k].demand_exclusive_ns, share);
	}
	f->n_flows = m->n_flows;
	f->flow_names = xcalloc((size_t)m->n_flows + 1, sizeof(char *));
	f->flow_share = xcalloc((size_t)m->n_flows + 1, sizeof(double));
	for (int i = 0; i < m->n_flows; i++) {
		f->flow_names[i] = xstrdup(m->flows[i].name);
		f->flow_share[i] = share[i];
	}
}

int sweep_analyze(struct sweep *sw, const struct snapshot *servers_from)
{
	struct snapshot fs = { 0 };
	struct model m = { 0 };
	struct sweep_step *fit = NULL;
	bool built = false, closed = sw->variable == SWEEP_USERS;
	double *share = NULL;
	int *users = NULL, n_users = 0;
	char err[512];
	int rc = -1;

	sw->fitted = false;
	free(sw->fit_error);
	sw->fit_error = NULL;
	sweep_fit_free(&sw->fit);
	memset(&sw->summary, 0, sizeof(sw->summary));
	users = xcalloc((size_t)sw->n_steps + 1, sizeof(int));
	for (int i = 0; i < sw->n_steps; i++) {
		struct sweep_step *st = &sw->steps[i];

		st->predicted = false;
		if (st->status != STEP_OK)
			continue;
		sweep_step_measure(st, sw->variable, 0);
		if (st->throughput_per_s > 0 && (!fit || st->level < fit->level))
			fit = st;
		if (closed && st->level >= 1 && st->level <= MODEL_MAX_USERS)
			users[n_users++] = (int)st->level;
	}
	if (!fit) {
		sw->fit_error = xstrdup("no step measured any completed request: nothing to fit "
					"the model on");
		goto cleanup;
	}
	if (fit_snapshot(&fit->snap, servers_from, &fs, err, sizeof(err)))
		goto failed;
	sw->fit.step = (int)(fit - sw->steps);
	sw->fit.think_fitted = closed && !isfinite(sw->think_s);
	sw->fit.think_s = isfinite(sw->think_s) ? sw->think_s : 0;
	if (sw->fit.think_fitted)
		sw->fit.think_s = fit_think(&fs, fit->level, fit->throughput_per_s);
	if (closed ? model_closed_at(&fs, users, n_users, sw->fit.think_s, &m, err, sizeof(err))
		   : model_build(&fs, NULL, &m, err, sizeof(err)))
		goto failed;
	built = true;
	share = mix_shares(&m);
	fill_fit(sw, &m, share);

	for (int i = 0, j = 0; i < sw->n_steps; i++) {
		struct sweep_step *st = &sw->steps[i];
		struct sweep_prediction p = { 0 };

		if (st->status != STEP_OK)
			continue;
		sweep_step_measure(st, sw->variable, sw->fit.think_s);
		if (closed) {
			if (j >= m.closed.n || m.closed.users[j] != (int)st->level)
				continue;
			p.throughput_per_s = m.closed.throughput_per_s[j];
			p.response_ns = m.closed.response_ns[j];
			j++;
			name_bottleneck(&m, share, p.throughput_per_s, &p);
			flow_responses(&m, share, &p);
		} else if (predict_open(&fs, fit->throughput_per_s, st->level, &p)) {
			continue;
		}
		apply_prediction(st, &m, share, &p);
		sweep_prediction_free(&p);
	}
	sw->fitted = true;
	summarize(sw);
	rc = 0;
	goto cleanup;
failed:
	sw->fit_error = xstrdup(err);
cleanup:
	if (built)
		model_free(&m);
	snapshot_free(&fs);
	free(share);
	free(users);
	return rc;
}

