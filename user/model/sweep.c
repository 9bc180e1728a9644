// SPDX-License-Identifier: MIT
/* The capacity sweep's document, analysis and table: see sweep.h. */
#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/base.h"
#include "model.h"

const char *sweep_variable_name(enum sweep_variable v)
{
	return v == SWEEP_RATE ? "rate" : "users";
}

const char *sweep_step_status_name(enum sweep_step_status s)
{
	switch (s) {
	case STEP_OK:
		return "ok";
	case STEP_FAILED:
		return "failed";
	case STEP_INTERRUPTED:
		return "interrupted";
	}
	return "?";
}

/* "8", or "2.5" for a level that is not whole. */
static char *level_text(double level)
{
	if (level == floor(level) && fabs(level) < 1e15)
		return xasprintf("%.0f", level);
	return xasprintf("%g", level);
}

char *sweep_level_phrase(enum sweep_variable v, double level)
{
	char *n = level_text(level), *out;

	if (v == SWEEP_RATE)
		out = xasprintf("%s/s", n);
	else
		out = xasprintf("%s user%s", n, level == 1 ? "" : "s");
	free(n);
	return out;
}

char *sweep_expand(const char *load, enum sweep_variable v, double level)
{
	const char *key = v == SWEEP_RATE ? "{rate}" : "{users}";
	size_t klen = strlen(key), len = 0, cap = 0;
	char *val = level_text(level), *out = NULL;
	size_t vlen = strlen(val);

	for (const char *p = load;;) {
		const char *hit = strstr(p, key);
		size_t n = hit ? (size_t)(hit - p) : strlen(p);

		grow_array((void **)&out, &cap, len + n + vlen + 1, 1);
		memcpy(out + len, p, n);
		len += n;
		if (!hit)
			break;
		memcpy(out + len, val, vlen);
		len += vlen;
		p = hit + klen;
	}
	out[len] = '\0';
	free(val);
	return out;
}

/* ---- measured figures of a step ---------------------------------------- */

void sweep_step_measure(struct sweep_step *st, enum sweep_variable v, double think_s)
{
	const struct snapshot *s = &st->snap;
	double weighted_mean = 0;

	for (int i = 0; i < st->n_flows; i++)
		free(st->flows[i].name);
	free(st->flows);
	st->n_flows = s->n_flows;
	st->flows = xcalloc((size_t)s->n_flows, sizeof(*st->flows));
	st->throughput_per_s = 0;
	for (int f = 0; f < s->n_flows; f++) {
		const struct snap_flow *sf = &s->flows[f];
		const struct snap_handler *h = snapshot_handler(s, sf->entry);
		struct sweep_flow *fl = &st->flows[f];
		struct handler_summary sum;

		fl->name = xstrdup(sf->name);
		fl->rate_per_s = st->window_s > 0 ? (double)sf->invocations / st->window_s : 0;
		fl->mean_ns = fl->p50_ns = fl->p99_ns = NAN;
		fl->pred_rate_per_s = fl->pred_response_ns = NAN;
		if (h && h->calls) {
			snapshot_summarize(h, &sum);
			fl->mean_ns = sum.mean_ns;
			fl->p50_ns = sum.p50_ns;
			fl->p99_ns = sum.p99_ns;
			weighted_mean += fl->rate_per_s * sum.mean_ns;
		}
		st->throughput_per_s += fl->rate_per_s;
	}
	st->response_ns = NAN;
	if (st->throughput_per_s <= 0)
		return;
	if (v == SWEEP_USERS)
		/* the interactive response-time law: what N users saw, queues included */
		st->response_ns = (st->level / st->throughput_per_s - think_s) * 1e9;
	else
		st->response_ns = weighted_mean / st->throughput_per_s;
}

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

static double station_demand(const struct model *m, int k, const double *share)
{
	return mix_demand(m, m->stations[k].demand_ns, share);
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
/* ---- analysis: fit on the lowest step, predict the others ------------- */

static void fit_free(struct sweep_fit *f)
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
	fit_free(&sw->fit);
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

/* ---- the document ------------------------------------------------------- */

/* Every figure exactly as computed: `report` reprints the same table. */
static json_object *num_or_null(double v)
{
	return isfinite(v) ? jo_num_exact(v) : NULL;
}

static json_object *flows_measured_json(const struct sweep_step *st)
{
	json_object *arr = json_object_new_array();

	for (int f = 0; f < st->n_flows; f++) {
		const struct sweep_flow *fl = &st->flows[f];
		json_object *o = json_object_new_object();

		jo_add(o, "name", jo_str(fl->name));
		jo_add(o, "rate_per_s", num_or_null(fl->rate_per_s));
		jo_add(o, "mean_ns", num_or_null(fl->mean_ns));
		jo_add(o, "p50_ns", num_or_null(fl->p50_ns));
		jo_add(o, "p99_ns", num_or_null(fl->p99_ns));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *flows_predicted_json(const struct sweep_step *st)
{
	json_object *arr = json_object_new_array();

	for (int f = 0; f < st->n_flows; f++) {
		const struct sweep_flow *fl = &st->flows[f];
		json_object *o = json_object_new_object();

		jo_add(o, "name", jo_str(fl->name));
		jo_add(o, "rate_per_s", num_or_null(fl->pred_rate_per_s));
		jo_add(o, "response_ns", num_or_null(fl->pred_response_ns));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *step_json(const struct sweep *sw, const struct sweep_step *st)
{
	json_object *o = json_object_new_object(), *m, *p = NULL, *e = NULL;

	jo_add(o, sweep_variable_name(sw->variable), jo_num_exact(st->level));
	jo_add(o, "command", jo_str(st->command));
	jo_add(o, "status", jo_str(sweep_step_status_name(st->status)));
	jo_add(o, "exit_status", jo_int(st->exit_status));
	jo_add(o, "signal", jo_int(st->signal));
	jo_add(o, "stopped_by_sweep", json_object_new_boolean(st->stopped_by_sweep));
	jo_add(o, "reason", jo_str(st->reason));
	jo_add(o, "output_tail", jo_str(st->output_tail));
	jo_add(o, "started_at", jo_str(st->started_at));
	jo_add(o, "window_s", st->status == STEP_OK ? jo_num_exact(st->window_s) : NULL);
	if (st->status == STEP_OK) {
		m = json_object_new_object();
		jo_add(m, "throughput_per_s", num_or_null(st->throughput_per_s));
		jo_add(m, "response_ns", num_or_null(st->response_ns));
		jo_add(m, "flows", flows_measured_json(st));
		jo_add(o, "measured", m);
	} else {
		jo_add(o, "measured", NULL);
	}
	if (st->predicted) {
		json_object *b = json_object_new_object();

		p = json_object_new_object();
		jo_add(p, "throughput_per_s", num_or_null(st->pred_throughput_per_s));
		jo_add(p, "response_ns", num_or_null(st->pred_response_ns));
		jo_add(b, "station", jo_str(st->pred_bottleneck));
		jo_add(b, "utilization", num_or_null(st->pred_bottleneck_utilization));
		jo_add(p, "bottleneck", b);
		jo_add(p, "flows", flows_predicted_json(st));
		e = json_object_new_object();
		jo_add(e, "throughput", num_or_null(st->err_throughput));
		jo_add(e, "response", num_or_null(st->err_response));
	}
	jo_add(o, "predicted", p);
	jo_add(o, "error", e);
	jo_add(o, "snapshot", st->status == STEP_OK ? snapshot_to_json_object(&st->snap) : NULL);
	return o;
}

static json_object *fit_json(const struct sweep *sw)
{
	const struct sweep_fit *f = &sw->fit;
	json_object *o, *st = json_object_new_array(), *mix = json_object_new_object();

	if (!sw->fitted)
		return NULL;
	o = json_object_new_object();
	jo_add(o, "step", jo_int(f->step));
	jo_add(o, sweep_variable_name(sw->variable), jo_num_exact(sw->steps[f->step].level));
	jo_add(o, "think_s", jo_num_exact(f->think_s));
	jo_add(o, "think_fitted", json_object_new_boolean(f->think_fitted));
	jo_add(o, "demand_ns", num_or_null(f->demand_ns));
	jo_add(o, "max_throughput_per_s", num_or_null(f->max_throughput_per_s));
	jo_add(o, "knee_users", num_or_null(f->knee_users));
	jo_add(o, "bottleneck", jo_str(f->bottleneck));
	for (int k = 0; k < f->n_stations; k++) {
		json_object *s = json_object_new_object();

		jo_add(s, "name", jo_str(f->stations[k].name));
		jo_add(s, "servers", jo_int(f->stations[k].servers));
		jo_add(s, "demand_ns", num_or_null(f->stations[k].demand_ns));
		jo_add(s, "demand_exclusive_ns", num_or_null(f->stations[k].demand_exclusive_ns));
		json_object_array_add(st, s);
	}
	jo_add(o, "stations", st);
	for (int i = 0; i < f->n_flows; i++)
		jo_add(mix, f->flow_names[i], num_or_null(f->flow_share[i]));
	jo_add(o, "mix", mix);
	return o;
}

static json_object *summary_json(const struct sweep *sw)
{
	const struct sweep_summary *s = &sw->summary;
	json_object *o;

	if (!s->valid)
		return NULL;
	o = json_object_new_object();
	jo_add(o, "measured_saturation_per_s", num_or_null(s->measured_saturation_per_s));
	jo_add(o, "measured_saturation_at", jo_num_exact(s->measured_saturation_level));
	jo_add(o, "saturated", json_object_new_boolean(s->saturated));
	jo_add(o, "predicted_saturation_per_s",
	       num_or_null(s->predicted_saturation_per_s));
	jo_add(o, "saturation_error", num_or_null(s->saturation_error));
	jo_add(o, "measured_knee_users", num_or_null(s->measured_knee_users));
	jo_add(o, "predicted_knee_users", num_or_null(s->predicted_knee_users));
	jo_add(o, "measured_knee_step", s->measured_knee_step >= 0 ? jo_int(s->measured_knee_step)
								  : NULL);
	jo_add(o, "predicted_knee_step",
	       s->predicted_knee_step >= 0 ? jo_int(s->predicted_knee_step) : NULL);
	jo_add(o, "max_abs_error_throughput", num_or_null(s->max_abs_err_throughput));
	jo_add(o, "max_abs_error_response", num_or_null(s->max_abs_err_response));
	return o;
}

char *sweep_to_json(const struct sweep *sw, bool pretty)
{
	json_object *top = json_object_new_object(), *lv = json_object_new_array(),
		    *steps = json_object_new_array();
	char *doc;

	jo_add(top, "flowprof_sweep", jo_int(SWEEP_VERSION));
	jo_add(top, "host", jo_str(sw->host));
	jo_add(top, "kernel", jo_str(sw->kernel));
	jo_add(top, "started_at", jo_str(sw->started_at));
	jo_add(top, "flow_file", jo_str(sw->flow_file));
	jo_add(top, "load", jo_str(sw->load));
	jo_add(top, "variable", jo_str(sweep_variable_name(sw->variable)));
	for (int i = 0; i < sw->n_levels; i++)
		json_object_array_add(lv, jo_num_exact(sw->levels[i]));
	jo_add(top, "levels", jo_inline_array(lv));
	jo_add(top, "settle_s", jo_num_exact(sw->settle_s));
	jo_add(top, "think_s", isfinite(sw->think_s) ? jo_num_exact(sw->think_s) : NULL);
	jo_add(top, "max_window_s", jo_num_exact(sw->max_window_s));
	jo_add(top, "partial", json_object_new_boolean(sw->partial));
	jo_add(top, "interrupted", json_object_new_boolean(sw->interrupted));
	jo_add(top, "stop_reason", jo_str(sw->stop_reason));
	jo_add(top, "fit", fit_json(sw));
	jo_add(top, "fit_error", jo_str(sw->fit_error));
	jo_add(top, "summary", summary_json(sw));
	for (int i = 0; i < sw->n_steps; i++)
		json_object_array_add(steps, step_json(sw, &sw->steps[i]));
	jo_add(top, "steps", steps);
	doc = jo_to_string(top, pretty);
	json_object_put(top);
	return doc;
}

int sweep_write(const struct sweep *sw, const char *path)
{
	char *doc = sweep_to_json(sw, true);
	int rc = write_file_atomic(path, doc, strlen(doc), 0600);
	int saved = errno;

	free(doc);
	errno = saved;
	return rc;
}

/* ---- loading ------------------------------------------------------------ */

bool sweep_is_document(const char *buf, size_t len)
{
	size_t i = 0;
	static const char key[] = "\"flowprof_sweep\"";

	/* The writer puts the key first: look at the first member only. */
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i >= len || buf[i] != '{')
		return false;
	i++;
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	return len - i >= sizeof(key) - 1 && !memcmp(buf + i, key, sizeof(key) - 1);
}

struct sloader {
	const char *path;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
sfail(struct sloader *ld, const char *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->err && ld->errlen)
		snprintf(ld->err, ld->errlen, "%s: %s%s%s", ld->path, ctx ? ctx : "",
			 ctx ? ": " : "", msg);
	return -1;
}

/* A number member; NAN for null or absent when optional. */
static int get_num(struct sloader *ld, json_object *o, const char *ctx, const char *key,
		   bool optional, double *out)
{
	json_object *v = NULL;

	*out = NAN;
	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (optional)
			return 0;
		return sfail(ld, ctx, "missing \"%s\"", key);
	}
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return sfail(ld, ctx, "\"%s\" must be a number", key);
	*out = json_object_get_double(v);
	return 0;
}

static int get_string(struct sloader *ld, json_object *o, const char *ctx, const char *key,
		      char **out)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return sfail(ld, ctx, "\"%s\" must be a string", key);
	*out = xstrdup(json_object_get_string(v));
	return 0;
}

static bool get_boolean(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v && json_object_get_boolean(v);
}

static json_object *get_obj(json_object *o, const char *key, json_type type)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static int load_flows(struct sloader *ld, json_object *measured, json_object *predicted,
		      const char *ctx, struct sweep_step *st)
{
	json_object *arr = get_obj(measured, "flows", json_type_array);
	json_object *parr = predicted ? get_obj(predicted, "flows", json_type_array) : NULL;
	size_t n = arr ? json_object_array_length(arr) : 0;

	st->flows = xcalloc(n ? n : 1, sizeof(*st->flows));
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(arr, i);
		struct sweep_flow *fl = &st->flows[st->n_flows++];

		if (get_string(ld, f, ctx, "name", &fl->name) ||
		    get_num(ld, f, ctx, "rate_per_s", false, &fl->rate_per_s) ||
		    get_num(ld, f, ctx, "mean_ns", true, &fl->mean_ns) ||
		    get_num(ld, f, ctx, "p50_ns", true, &fl->p50_ns) ||
		    get_num(ld, f, ctx, "p99_ns", true, &fl->p99_ns))
			return -1;
		fl->pred_rate_per_s = fl->pred_response_ns = NAN;
		if (parr && i < json_object_array_length(parr)) {
			json_object *p = json_object_array_get_idx(parr, i);

			if (get_num(ld, p, ctx, "rate_per_s", true, &fl->pred_rate_per_s) ||
			    get_num(ld, p, ctx, "response_ns", true, &fl->pred_response_ns))
				return -1;
		}
	}
	return 0;
}

static int load_step(struct sloader *ld, json_object *o, int idx, struct sweep *sw,
		     struct sweep_step *st)
{
	char ctx[64], *status = NULL;
	json_object *m, *p, *e, *snap;
	double v;
	int rc = -1;

	snprintf(ctx, sizeof(ctx), "steps[%d]", idx);
	if (!json_object_is_type(o, json_type_object))
		return sfail(ld, ctx, "must be an object");
	if (get_num(ld, o, ctx, sweep_variable_name(sw->variable), false, &st->level) ||
	    get_string(ld, o, ctx, "command", &st->command) ||
	    get_string(ld, o, ctx, "status", &status) ||
	    get_string(ld, o, ctx, "reason", &st->reason) ||
	    get_string(ld, o, ctx, "output_tail", &st->output_tail) ||
	    get_string(ld, o, ctx, "started_at", &st->started_at))
		goto cleanup;
	if (!status || (strcmp(status, "ok") && strcmp(status, "failed") &&
			strcmp(status, "interrupted"))) {
		sfail(ld, ctx, "\"status\" must be \"ok\", \"failed\" or \"interrupted\"");
		goto cleanup;
	}
	st->status = !strcmp(status, "ok") ? STEP_OK : !strcmp(status, "failed")
						     ? STEP_FAILED : STEP_INTERRUPTED;
	if (get_num(ld, o, ctx, "exit_status", true, &v))
		goto cleanup;
	st->exit_status = isfinite(v) ? (int)v : 0;
	if (get_num(ld, o, ctx, "signal", true, &v))
		goto cleanup;
	st->signal = isfinite(v) ? (int)v : 0;
	st->stopped_by_sweep = get_boolean(o, "stopped_by_sweep");
	st->throughput_per_s = st->response_ns = NAN;
	st->pred_throughput_per_s = st->pred_response_ns = NAN;
	st->err_throughput = st->err_response = NAN;
	if (st->status != STEP_OK) {
		rc = 0;
		goto cleanup;
	}
	if (get_num(ld, o, ctx, "window_s", false, &st->window_s))
		goto cleanup;
	m = get_obj(o, "measured", json_type_object);
	p = get_obj(o, "predicted", json_type_object);
	e = get_obj(o, "error", json_type_object);
	if (!m) {
		sfail(ld, ctx, "a step with status \"ok\" needs a \"measured\" object");
		goto cleanup;
	}
	if (get_num(ld, m, ctx, "throughput_per_s", false, &st->throughput_per_s) ||
	    get_num(ld, m, ctx, "response_ns", true, &st->response_ns) ||
	    load_flows(ld, m, p, ctx, st))
		goto cleanup;
	if (p) {
		json_object *b = get_obj(p, "bottleneck", json_type_object);

		st->predicted = true;
		if (get_num(ld, p, ctx, "throughput_per_s", true, &st->pred_throughput_per_s) ||
		    get_num(ld, p, ctx, "response_ns", true, &st->pred_response_ns))
			goto cleanup;
		if (b && (get_string(ld, b, ctx, "station", &st->pred_bottleneck) ||
			  get_num(ld, b, ctx, "utilization", true,
				  &st->pred_bottleneck_utilization)))
			goto cleanup;
	}
	if (e && (get_num(ld, e, ctx, "throughput", true, &st->err_throughput) ||
		  get_num(ld, e, ctx, "response", true, &st->err_response)))
		goto cleanup;
	snap = get_obj(o, "snapshot", json_type_object);
	if (snap) {
		/* The snapshot stage's one loader, on the object as parsed (no
		 * second print and parse); its errors name the step:
		 * "<path>: steps[2].snapshot: handlers[0].calls: missing". */
		char sctx[300];

		snprintf(sctx, sizeof(sctx), "%s: %s.snapshot", ld->path, ctx);
		if (snapshot_from_json_object(sctx, snap, &st->snap, ld->err, ld->errlen))
			goto cleanup;
	}
	rc = 0;
cleanup:
	free(status);
	return rc;
}

static int load_fit(struct sloader *ld, json_object *o, struct sweep *sw)
{
	struct sweep_fit *f = &sw->fit;
	json_object *st = get_obj(o, "stations", json_type_array);
	json_object *mix = get_obj(o, "mix", json_type_object);
	double v;

	if (get_num(ld, o, "fit", "step", false, &v))
		return -1;
	if (v < 0 || v >= sw->n_steps)
		return sfail(ld, "fit", "\"step\" %g is not a step of the document", v);
	f->step = (int)v;
	f->think_fitted = get_boolean(o, "think_fitted");
	if (get_num(ld, o, "fit", "think_s", false, &f->think_s) ||
	    get_num(ld, o, "fit", "demand_ns", true, &f->demand_ns) ||
	    get_num(ld, o, "fit", "max_throughput_per_s", true, &f->max_throughput_per_s) ||
	    get_num(ld, o, "fit", "knee_users", true, &f->knee_users) ||
	    get_string(ld, o, "fit", "bottleneck", &f->bottleneck))
		return -1;
	f->n_stations = st ? (int)json_object_array_length(st) : 0;
	f->stations = xcalloc((size_t)f->n_stations + 1, sizeof(*f->stations));
	for (int k = 0; k < f->n_stations; k++) {
		json_object *s = json_object_array_get_idx(st, (size_t)k);

		if (get_string(ld, s, "fit.stations", "name", &f->stations[k].name) ||
		    get_num(ld, s, "fit.stations", "servers", false, &v) ||
		    get_num(ld, s, "fit.stations", "demand_ns", true, &f->stations[k].demand_ns) ||
		    get_num(ld, s, "fit.stations", "demand_exclusive_ns", true,
			    &f->stations[k].demand_exclusive_ns))
			return -1;
		f->stations[k].servers = (int)v;
	}
	if (mix) {
		int n = json_object_object_length(mix), i = 0;

		f->flow_names = xcalloc((size_t)n + 1, sizeof(char *));
		f->flow_share = xcalloc((size_t)n + 1, sizeof(double));
		json_object_object_foreach(mix, key, val) {
			f->flow_names[i] = xstrdup(key);
			f->flow_share[i] = val ? json_object_get_double(val) : NAN;
			i++;
		}
		f->n_flows = i;
	}
	sw->fitted = true;
	return 0;
}

static int load_summary(struct sloader *ld, json_object *o, struct sweep *sw)
{
	struct sweep_summary *s = &sw->summary;
	double v;

	s->valid = true;
	s->saturated = get_boolean(o, "saturated");
	if (get_num(ld, o, "summary", "measured_saturation_per_s", true,
		    &s->measured_saturation_per_s) ||
	    get_num(ld, o, "summary", "measured_saturation_at", true,
		    &s->measured_saturation_level) ||
	    get_num(ld, o, "summary", "predicted_saturation_per_s", true,
		    &s->predicted_saturation_per_s) ||
	    get_num(ld, o, "summary", "saturation_error", true, &s->saturation_error) ||
	    get_num(ld, o, "summary", "measured_knee_users", true, &s->measured_knee_users) ||
	    get_num(ld, o, "summary", "predicted_knee_users", true, &s->predicted_knee_users) ||
	    get_num(ld, o, "summary", "max_abs_error_throughput", true,
		    &s->max_abs_err_throughput) ||
	    get_num(ld, o, "summary", "max_abs_error_response", true, &s->max_abs_err_response))
		return -1;
	if (get_num(ld, o, "summary", "measured_knee_step", true, &v))
		return -1;
	s->measured_knee_step = isfinite(v) ? (int)v : -1;
	if (get_num(ld, o, "summary", "predicted_knee_step", true, &v))
		return -1;
	s->predicted_knee_step = isfinite(v) ? (int)v : -1;
	return 0;
}

static int load_doc(struct sloader *ld, json_object *top, struct sweep *sw)
{
	json_object *steps, *lv, *o;
	char *var = NULL;
	double v;

	if (!json_object_is_type(top, json_type_object))
		return sfail(ld, NULL, "not a flowprof sweep document (not a JSON object)");
	if (get_num(ld, top, NULL, "flowprof_sweep", false, &v))
		return -1;
	if (v != SWEEP_VERSION)
		return sfail(ld, NULL, "sweep document version %g; this flowprof reads version %d",
			     v, SWEEP_VERSION);
	sw->version = SWEEP_VERSION;
	if (get_string(ld, top, NULL, "host", &sw->host) ||
	    get_string(ld, top, NULL, "kernel", &sw->kernel) ||
	    get_string(ld, top, NULL, "started_at", &sw->started_at) ||
	    get_string(ld, top, NULL, "flow_file", &sw->flow_file) ||
	    get_string(ld, top, NULL, "load", &sw->load) ||
	    get_string(ld, top, NULL, "stop_reason", &sw->stop_reason) ||
	    get_string(ld, top, NULL, "fit_error", &sw->fit_error) ||
	    get_string(ld, top, NULL, "variable", &var))
		return -1;
	if (!var || (strcmp(var, "users") && strcmp(var, "rate"))) {
		free(var);
		return sfail(ld, NULL, "\"variable\" must be \"users\" or \"rate\"");
	}
	sw->variable = !strcmp(var, "rate") ? SWEEP_RATE : SWEEP_USERS;
	free(var);
	if (get_num(ld, top, NULL, "settle_s", true, &sw->settle_s) ||
	    get_num(ld, top, NULL, "think_s", true, &sw->think_s) ||
	    get_num(ld, top, NULL, "max_window_s", true, &sw->max_window_s))
		return -1;
	sw->partial = get_boolean(top, "partial");
	sw->interrupted = get_boolean(top, "interrupted");
	lv = get_obj(top, "levels", json_type_array);
	sw->n_levels = lv ? (int)json_object_array_length(lv) : 0;
	sw->levels = xcalloc((size_t)sw->n_levels + 1, sizeof(double));
	for (int i = 0; i < sw->n_levels; i++)
		sw->levels[i] = json_object_get_double(json_object_array_get_idx(lv, (size_t)i));
	steps = get_obj(top, "steps", json_type_array);
	if (!steps)
		return sfail(ld, NULL, "missing \"steps\" array");
	sw->n_steps = 0;
	sw->steps = xcalloc(json_object_array_length(steps) + 1, sizeof(*sw->steps));
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		if (load_step(ld, json_object_array_get_idx(steps, i), (int)i, sw,
			      &sw->steps[sw->n_steps++]))
			return -1;
	}
	o = get_obj(top, "fit", json_type_object);
	if (o && load_fit(ld, o, sw))
		return -1;
	o = get_obj(top, "summary", json_type_object);
	if (o && load_summary(ld, o, sw))
		return -1;
	return 0;
}

int sweep_parse(const char *path, const char *buf, size_t len, struct sweep *sw, char *err,
		size_t errlen)
{
	struct sloader ld = { .path = path ? path : "sweep", .err = err, .errlen = errlen };
	struct json_tokener *tok;
	json_object *top;
	enum json_tokener_error jerr;
	int rc = -1;

	memset(sw, 0, sizeof(*sw));
	if (len > INT_MAX)
		return sfail(&ld, NULL, "too large (%zu bytes)", len);
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	top = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		sfail(&ld, NULL, "invalid JSON at byte offset %zu: %s",
		      json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		goto cleanup;
	}
	rc = load_doc(&ld, top, sw);
cleanup:
	if (rc)
		sweep_free(sw);
	json_object_put(top);
	json_tokener_free(tok);
	return rc;
}

int sweep_load(const char *path, struct sweep *sw, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_file(path, &len);
	int rc;

	if (!buf) {
		memset(sw, 0, sizeof(*sw));
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	rc = sweep_parse(path, buf, len, sw, err, errlen);
	free(buf);
	return rc;
}

/* ---- the table ---------------------------------------------------------- */

static const char *fmt_rate(char *buf, double v)
{
	return isfinite(v) ? units_rate(buf, UNITS_BUF, v) : "-";
}

static const char *fmt_dur(char *buf, double ns, bool ascii)
{
	return isfinite(ns) ? units_duration(buf, UNITS_BUF, ns, ascii) : "-";
}

/* A signed relative error: "+4.2%", "-12%", "-". */
static const char *fmt_err(char *buf, double e)
{
	if (!isfinite(e))
		return "-";
	if (fabs(e) < 0.1)
		snprintf(buf, UNITS_BUF, "%+.1f%%", e * 100);
	else
		snprintf(buf, UNITS_BUF, "%+.0f%%", e * 100);
	return buf;
}

static void cell(FILE *out, const char *s, size_t width, bool right)
{
	fputs("  ", out);
	print_padded(out, s, width, right);
}

static void print_steps(FILE *out, const struct sweep *sw, bool ascii)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], d[UNITS_BUF], e[UNITS_BUF],
		f[UNITS_BUF], g[UNITS_BUF];

	print_padded(out, sweep_variable_name(sw->variable), 6, true);
	cell(out, "status", 6, false);
	cell(out, "X measured", 10, true);
	cell(out, "X model", 9, true);
	cell(out, "error", 6, true);
	cell(out, "R measured", 10, true);
	cell(out, "R model", 9, true);
	cell(out, "error", 6, true);
	fputs("  bottleneck (U)\n", out);
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];
		char *lvl = level_text(st->level), *bn = NULL, *esc;

		print_padded(out, lvl, 6, true);
		free(lvl);
		cell(out, sweep_step_status_name(st->status), 6, false);
		if (st->status != STEP_OK) {
			esc = term_escape(st->reason ? st->reason : "not measured");
			fprintf(out, "  %s\n", esc);
			free(esc);
			continue;
		}
		cell(out, fmt_rate(a, st->throughput_per_s), 10, true);
		cell(out, st->predicted ? fmt_rate(b, st->pred_throughput_per_s) : "-", 9, true);
		cell(out, i == sw->fit.step && sw->fitted ? "fit" : fmt_err(c, st->err_throughput),
		     6, true);
		cell(out, fmt_dur(d, st->response_ns, ascii), 10, true);
		cell(out, !st->predicted ? "-" : isfinite(st->pred_response_ns)
			  ? fmt_dur(e, st->pred_response_ns, ascii) : "overload", 9, true);
		cell(out, i == sw->fit.step && sw->fitted ? "fit" : fmt_err(f, st->err_response),
		     6, true);
		if (st->predicted && st->pred_bottleneck) {
			esc = term_escape(st->pred_bottleneck);
			bn = xasprintf("%s (%s)", esc, units_percent(g, sizeof(g),
					st->pred_bottleneck_utilization));
			free(esc);
		}
		fprintf(out, "  %s\n", bn ? bn : "-");
		free(bn);
	}
}

static void print_flows(FILE *out, const struct sweep *sw, bool ascii)
{
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF], d[UNITS_BUF];

	fprintf(out, "\nPer flow (entry handler time is the server's own; queueing before "
		     "it is not in it):\n");
	print_padded(out, sweep_variable_name(sw->variable), 6, true);
	cell(out, "flow", 12, false);
	cell(out, "X measured", 10, true);
	cell(out, "X model", 9, true);
	cell(out, "entry mean", 10, true);
	cell(out, "entry p99", 9, true);
	fputs("  R model\n", out);
	for (int i = 0; i < sw->n_steps; i++) {
		const struct sweep_step *st = &sw->steps[i];

		if (st->status != STEP_OK)
			continue;
		for (int k = 0; k < st->n_flows; k++) {
			const struct sweep_flow *fl = &st->flows[k];
			char *lvl = level_text(st->level), *name = term_escape(fl->name);

			print_padded(out, k ? "" : lvl, 6, true);
			cell(out, name, 12, false);
			cell(out, fmt_rate(a, fl->rate_per_s), 10, true);
			cell(out, fmt_rate(b, fl->pred_rate_per_s), 9, true);
			cell(out, fmt_dur(c, fl->mean_ns, ascii), 10, true);
			cell(out, fmt_dur(d, fl->p99_ns, ascii), 9, true);
			fprintf(out, "  %s\n", fmt_dur(a, fl->pred_response_ns, ascii));
			free(lvl);
			free(name);
		}
	}
}

static void print_knee(FILE *out, const struct sweep *sw)
{
	const struct sweep_summary *s = &sw->summary;
	char *m = s->measured_knee_step >= 0 ? level_text(sw->levels[s->measured_knee_step])
					     : xstrdup("past the last step");
	char *p = s->predicted_knee_step >= 0 ? level_text(sw->levels[s->predicted_knee_step])
					      : xstrdup("past the last step");
	int diff = s->measured_knee_step >= 0 && s->predicted_knee_step >= 0
			   ? abs(s->measured_knee_step - s->predicted_knee_step) : -1;

	fprintf(out, "Knee N*: measured %.1f users (step %s), model %.1f users (step %s)",
		s->measured_knee_users, m, s->predicted_knee_users, p);
	if (diff == 0)
		fprintf(out, ": the same step\n");
	else if (diff > 0)
		fprintf(out, ": %d step%s apart\n", diff, diff == 1 ? "" : "s");
	else
		fputc('\n', out);
	free(m);
	free(p);
}

void sweep_print_table(FILE *out, const struct sweep *sw, bool ascii)
{
	const struct sweep_summary *s = &sw->summary;
	char a[UNITS_BUF], b[UNITS_BUF], c[UNITS_BUF];
	char *load = term_escape(sw->load), *ff = term_escape(sw->flow_file);
	bool many_flows = false;

	fprintf(out, "Capacity sweep of %s%s\nload: %s\n", ff,
		sw->partial ? " (PARTIAL: not every step was measured)" : "", load);
	free(load);
	free(ff);
	if (sw->stop_reason) {
		char *r = term_escape(sw->stop_reason);

		fprintf(out, "stopped: %s\n", r);
		free(r);
	}
	if (sw->fitted) {
		const struct sweep_fit *f = &sw->fit;
		char *lvl = sweep_level_phrase(sw->variable, sw->steps[f->step].level);
		char *bn = term_escape(f->bottleneck), *think;

		if (sw->variable == SWEEP_RATE)
			think = xstrdup("open load, no think time");
		else
			think = xasprintf("think time %s (%s)",
					  units_duration(a, sizeof(a), f->think_s * 1e9, ascii),
					  f->think_fitted ? "fitted there as N/X - R" : "--think");
		fprintf(out, "model: fitted on the step at %s; %s; demand %s per request; "
			"bottleneck %s\n", lvl, think,
			units_duration(b, sizeof(b), f->demand_ns, ascii), bn ? bn : "none");
		free(think);
		free(lvl);
		free(bn);
		fprintf(out, "stations:");
		for (int k = 0; k < f->n_stations; k++) {
			char *n = term_escape(f->stations[k].name);

			fprintf(out, "%s %s (%d server%s, %s)", k ? "," : "", n,
				f->stations[k].servers, f->stations[k].servers == 1 ? "" : "s",
				units_duration(c, sizeof(c), f->stations[k].demand_ns, ascii));
			free(n);
		}
		fputc('\n', out);
	} else if (sw->fit_error) {
		char *e = term_escape(sw->fit_error);

		fprintf(out, "model: not fitted: %s\n", e);
		free(e);
	}
	fputc('\n', out);
	print_steps(out, sw, ascii);
	for (int i = 0; i < sw->n_steps; i++)
		many_flows |= sw->steps[i].status == STEP_OK && sw->steps[i].n_flows > 1;
	if (many_flows)
		print_flows(out, sw, ascii);
	if (!s->valid)
		return;
	fputc('\n', out);
	{
		char *at = sweep_level_phrase(sw->variable, s->measured_saturation_level);

		fprintf(out, "Saturation: measured %s (at %s%s), model X_max %s: error %s\n",
			fmt_rate(a, s->measured_saturation_per_s), at,
			s->saturated ? "" : sw->variable == SWEEP_RATE
				? "; every offered rate was served"
				: "; throughput was still growing at the last step",
			fmt_rate(b, s->predicted_saturation_per_s),
			fmt_err(c, s->saturation_error));
		free(at);
	}
	if (sw->variable == SWEEP_USERS)
		print_knee(out, sw);
	fprintf(out, "Largest error over the predicted steps: throughput %.1f%%, "
		"response time %.1f%%\n", s->max_abs_err_throughput * 100,
		s->max_abs_err_response * 100);
}

/* ---- `flowprof report` ----------------------------------------------------- */

bool sweep_file_is_document(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return sweep_is_document(buf, n);
}

int sweep_report(const char *path, bool json, FILE *out)
{
	struct sweep sw;
	char err[1024];

	if (sweep_load(path, &sw, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	if (json) {
		char *doc = sweep_to_json(&sw, true);

		fputs(doc, out);
		free(doc);
	} else {
		sweep_print_table(out, &sw, !locale_is_utf8());
	}
	sweep_free(&sw);
	return 0;
}

/* ---- freeing ------------------------------------------------------------ */

static void step_free(struct sweep_step *st)
{
	free(st->command);
	free(st->reason);
	free(st->output_tail);
	free(st->started_at);
	free(st->pred_bottleneck);
	snapshot_free(&st->snap);
	for (int i = 0; i < st->n_flows; i++)
		free(st->flows[i].name);
	free(st->flows);
}

void sweep_free(struct sweep *sw)
{
	free(sw->host);
	free(sw->kernel);
	free(sw->started_at);
	free(sw->flow_file);
	free(sw->load);
	free(sw->stop_reason);
	free(sw->fit_error);
	free(sw->levels);
	for (int i = 0; i < sw->n_steps; i++)
		step_free(&sw->steps[i]);
	free(sw->steps);
	fit_free(&sw->fit);
	memset(sw, 0, sizeof(*sw));
}
