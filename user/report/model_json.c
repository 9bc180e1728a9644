// SPDX-License-Identifier: MIT
/* The model as the document's "model" object (model_report.h, docs/model.md
 * "JSON"); its tables are model_report.c's. */
#include "model_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static json_object *per_flow(const struct model *m, const double *v)
{
	json_object *o = json_object_new_object();

	for (int f = 0; f < m->n_flows; f++)
		jo_add(o, m->flows[f].name, jo_num(v[f], 1));
	return o;
}

static json_object *station_name(const struct model *m, int k)
{
	return k >= 0 ? jo_str(m->stations[k].name) : NULL;
}

static json_object *stations_json(const struct model *m)
{
	json_object *arr = json_object_new_array();

	for (int i = 0; i < m->n_stations; i++) {
		const struct model_station *st = &m->stations[m->ranking[i]];
		json_object *o = json_object_new_object(), *busy = json_object_new_object();
		json_object *top = json_object_new_array();

		jo_add(o, "name", jo_str(st->name));
		jo_add(o, "kind", jo_str(station_kind_name(st->kind)));
		jo_add(o, "servers", jo_int(st->servers));
		jo_add(o, "instances", jo_int(st->instances));
		jo_add(o, "workers", jo_int(st->workers));
		jo_add(o, "servers_source", jo_str(st->servers_source));
		if (st->servers_basis)
			jo_add(o, "servers_basis", jo_str(st->servers_basis));
		if (st->kind == STATION_CPU) {
			jo_add(o, "cpus", jo_num(st->cpus > 0 ? st->cpus : st->servers, 4));
			jo_add(o, "others_busy", jo_num(st->others_busy, 4));
		}
		if (st->kind == STATION_POOL) {
			jo_add(o, "concurrency_mean", isfinite(st->concurrency_mean)
						       ? jo_num(st->concurrency_mean, 3) : NULL);
			jo_add(o, "concurrency_max", st->concurrency_max ? jo_int(st->concurrency_max)
									 : NULL);
			jo_add(o, "cpu_outside_handlers", jo_num(st->cpu_outside_share, 4));
			/* waking its threads (model_wake.c), null where none was found */
			jo_add(o, "cpu_waking_share", st->wake_share > 0 ? jo_num(st->wake_share, 4)
									: NULL);
			jo_add(o, "wakeup_cpu_ns", st->wake_share > 0 ? jo_num(st->wake_each_ns, 1)
								     : NULL);
			jo_add(o, "call_cpu_ns", st->wake_share > 0 ? jo_num(st->wake_call_ns, 1)
								   : NULL);
			jo_add(o, "calls_per_wakeup", st->wake_share > 0
							? jo_num(st->wake_calls_each, 3) : NULL);
			/* a thread held for the work outside the handlers too,
			 * where its threads fill before the CPUs (model_wake.c) */
			jo_add(o, "thread_outside_ns", st->outside_call_ns > 0
							 ? jo_num(st->outside_call_ns, 1) : NULL);
			/* its processes' CPU time, and what the probes took of it:
			 * calibrated, and measured (record --unprobed) */
			if (st->cpu_used_s > 0) {
				jo_add(o, "cpu_used_s", jo_num(st->cpu_used_s, 6));
				jo_add(o, "probes_cpu_s", jo_num(st->probes_cpu_s, 6));
				jo_add(o, "probes_cpu_measured_s", isfinite(st->probes_measured_s)
					? jo_num(st->probes_measured_s, 6) : NULL);
				jo_add(o, "probes_wake_saved_s", isfinite(st->probes_measured_s)
					? jo_num(st->probes_wake_saved_s, 6) : NULL);
			}
		}
		jo_add(o, "utilization", jo_num(st->utilization, 4));
		jo_add(o, "utilization_loaded",
		       st->kind == STATION_POOL || st->kind == STATION_SERIAL
			       ? jo_num(st->utilization_loaded, 4) : NULL);
		jo_add(o, "utilization_measured", jo_num(st->utilization_measured, 4));
		jo_add(o, "background_utilization", jo_num(st->background, 4));
		jo_add(o, "demand_ns", per_flow(m, st->demand_ns));
		jo_add(o, "demand_measured_ns", per_flow(m, st->demand_measured_ns));
		jo_add(o, "demand_exclusive_ns", per_flow(m, st->demand_exclusive_ns));
		jo_add(o, "oncpu_ns", per_flow(m, st->oncpu_ns));
		jo_add(o, "service_ns", st->kind == STATION_CPU ? NULL : jo_num(st->service_ns, 1));
		jo_add(o, "scv", jo_num(st->scv, 4));
		jo_add(o, "wait_probability", st->kind == STATION_CPU ? NULL : jo_num(st->pwait, 4));
		jo_add(o, "wait_ns", st->kind == STATION_CPU ? NULL : jo_num(st->wait_ns, 1));
		jo_add(o, "required_servers", st->required_servers ? jo_int(st->required_servers) : NULL);
		if (st->kind == STATION_POOL) {
			jo_add(o, "required_instances", jo_int(st->required_instances));
			jo_add(o, "required_workers", jo_int(st->required_workers));
		}
		jo_add(busy, "measured", jo_num(st->busy_measured, 4));
		jo_add(busy, "sampled", jo_num(st->busy_sampled, 4));
		jo_add(busy, "model", jo_num(st->busy_model, 4));
		jo_add(o, "busy", busy);
		for (int t = 0; t < st->n_top; t++) {
			json_object *c = json_object_new_object();

			jo_add(c, "handler", jo_str(m->handlers[st->top[t].handler].id));
			jo_add(c, "utilization", jo_num(st->top[t].busy / st->servers, 4));
			jo_add(c, "oncpu_share", jo_num(st->top[t].oncpu_share, 4));
			json_object_array_add(top, c);
		}
		jo_add(o, "top_handlers", top);
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *visits_json(const struct model *m, const double *v)
{
	json_object *o = json_object_new_object();

	for (int h = 0; h < m->n_handlers; h++)
		if (v[h] > 0)
			jo_add(o, m->handlers[h].id, jo_num(v[h], 6));
	return o;
}

static json_object *flows_json(const struct model *m)
{
	json_object *arr = json_object_new_array();

	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];
		json_object *o = json_object_new_object();
		bool async = false;

		for (int h = 0; h < m->n_handlers; h++)
			async |= mf->visits_async[h] > 0;
		jo_add(o, "name", jo_str(mf->name));
		jo_add(o, "entry", jo_str(mf->entry));
		jo_add(o, "rate_per_s", jo_num(mf->rate_per_s, 3));
		jo_add(o, "measured_rate_per_s", jo_num(mf->measured_rate_per_s, 3));
		jo_add(o, "targeted", json_object_new_boolean(mf->targeted));
		jo_add(o, "max_rate_per_s", jo_num(mf->max_rate_per_s, 3));
		jo_add(o, "max_rate_alone_per_s", jo_num(mf->max_rate_alone_per_s, 3));
		jo_add(o, "alone_bottleneck", station_name(m, mf->alone_bottleneck));
		jo_add(o, "exceeds_capacity", json_object_new_boolean(mf->exceeds_capacity));
		jo_add(o, "saturated_station", station_name(m, mf->saturated_station));
		jo_add(o, "predicted_mean_ns", jo_num(mf->predicted_mean_ns, 1));
		jo_add(o, "predicted_p95_ns", jo_num(mf->predicted_p95_ns, 1));
		jo_add(o, "predicted_p99_ns", jo_num(mf->predicted_p99_ns, 1));
		jo_add(o, "predicted_mean_measured_ns", jo_num(mf->predicted_mean_measured_ns, 1));
		jo_add(o, "predicted_service_measured_ns",
		       jo_num(mf->predicted_service_measured_ns, 1));
		jo_add(o, "measured_mean_ns", jo_num(mf->measured_mean_ns, 1));
		jo_add(o, "measured_mean_raw_ns", jo_num(mf->measured_mean_raw_ns, 1));
		jo_add(o, "entry_calls_elsewhere", jo_num(mf->entry_calls_elsewhere, 0));
		jo_add(o, "mean_from_arrivals", json_object_new_boolean(mf->mean_from_arrivals));
		jo_add(o, "measured_mean_uncertainty_ns",
		       isfinite(mf->measured_mean_ns) ? jo_num(mf->measured_mean_unc_ns, 1) : NULL);
		jo_add(o, "inflight_sampled", jo_num(mf->inflight_sampled, 4));
		jo_add(o, "inflight_kernel", jo_num(mf->inflight_kernel, 4));
		jo_add(o, "attribution", jo_str(mf->least_squares ? "least-squares"
						: async ? "handler counts" : "exact"));
		jo_add(o, "visits", visits_json(m, mf->visits));
		jo_add(o, "visits_async", visits_json(m, mf->visits_async));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* +- of each corrected time, ns at about 95 % (model.h: model_uncertainty). */
static json_object *uncertainty_json(const struct model_handler *mh)
{
	const struct model_uncertainty *u = &mh->unc;
	json_object *o = json_object_new_object();

	jo_add(o, "mean_ns", jo_num(u->mean_ns, 1));
	jo_add(o, "self_ns", jo_num(u->self_ns, 1));
	jo_add(o, "oncpu_ns", isfinite(mh->oncpu_ns) ? jo_num(u->oncpu_ns, 1) : NULL);
	jo_add(o, "min_ns", jo_num(u->min_ns, 1));
	jo_add(o, "p50_ns", jo_num(u->p50_ns, 1));
	jo_add(o, "p90_ns", jo_num(u->p90_ns, 1));
	jo_add(o, "p99_ns", jo_num(u->p99_ns, 1));
	jo_add(o, "max_ns", jo_num(u->max_ns, 1));
	return o;
}

static json_object *handlers_json(const struct model *m)
{
	json_object *arr = json_object_new_array();

	for (int h = 0; h < m->n_handlers; h++) {
		const struct model_handler *mh = &m->handlers[h];
		json_object *o;

		if (!mh->calls)
			continue;
		o = json_object_new_object();
		jo_add(o, "id", jo_str(mh->id));
		jo_add(o, "calls", jo_u64(mh->calls));
		jo_add(o, "probe_ns", jo_num(mh->probe_ns, 1));
		jo_add(o, "probe_self_ns", jo_num(mh->probe_self_ns, 1));
		jo_add(o, "probe_uncertainty_ns", jo_num(mh->probe_unc_ns, 1));
		jo_add(o, "probe_corrected_per_call", json_object_new_boolean(mh->probe_per_call));
		jo_add(o, "probe_dominated", json_object_new_boolean(mh->probe_dominated));
		jo_add(o, "mean_raw_ns", jo_num(mh->raw_mean_ns, 1));
		jo_add(o, "min_ns", jo_num(mh->min_ns, 1));
		jo_add(o, "p50_ns", jo_num(mh->p50_ns, 1));
		jo_add(o, "p90_ns", jo_num(mh->p90_ns, 1));
		jo_add(o, "p99_ns", jo_num(mh->p99_ns, 1));
		jo_add(o, "max_ns", jo_num(mh->max_ns, 1));
		jo_add(o, "mean_ns", jo_num(mh->mean_ns, 1));
		jo_add(o, "self_raw_ns", jo_num(mh->raw_self_ns, 1));
		jo_add(o, "self_ns", jo_num(mh->self_ns, 1));
		jo_add(o, "oncpu_raw_ns", jo_num(mh->raw_oncpu_ns, 1));
		jo_add(o, "oncpu_ns", jo_num(mh->oncpu_ns, 1));
		jo_add(o, "oncpu_self_ns", isfinite(mh->oncpu_ns) ? jo_num(mh->oncpu_self_ns, 1) : NULL);
		jo_add(o, "stddev_ns", jo_num(mh->stddev_ns, 1));
		jo_add(o, "uncertainty_ns", uncertainty_json(mh));
		jo_add(o, "held_ns", jo_num(mh->held_ns, 1));
		jo_add(o, "held_own_ns", jo_num(mh->held0_ns, 1));
		jo_add(o, "unattributed_calls", jo_num(mh->unattributed_calls, 1));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *closed_json(const struct model *m)
{
	const struct model_closed *c = &m->closed;
	json_object *o = json_object_new_object(), *pts = json_object_new_array();

	jo_add(o, "think_ns", jo_num(c->think_ns, 1));
	jo_add(o, "demand_ns", jo_num(c->demand_ns, 1));
	jo_add(o, "max_demand_ns", jo_num(c->max_demand_ns, 1));
	jo_add(o, "max_station", station_name(m, c->max_station));
	jo_add(o, "knee_users", jo_num(c->knee, 2));
	for (int i = 0; i < c->n; i++) {
		json_object *p = json_object_new_object();

		jo_add(p, "users", jo_int(c->users[i]));
		jo_add(p, "throughput_per_s", jo_num(c->throughput_per_s[i], 3));
		jo_add(p, "response_ns", jo_num(c->response_ns[i], 1));
		jo_add(p, "bound_throughput_per_s", jo_num(c->bound_throughput_per_s[i], 3));
		jo_add(p, "bound_response_ns", jo_num(c->bound_response_ns[i], 1));
		jo_add(p, "limited_by", station_name(m, c->limited_by[i]));
		json_object_array_add(pts, p);
	}
	jo_add(o, "points", pts);
	return o;
}

json_object *model_to_json(const struct model *m)
{
	json_object *o = json_object_new_object(), *target = json_object_new_object();
	json_object *ranking = json_object_new_array(), *notes = json_object_new_array();

	if (m->bottleneck >= 0) {
		json_object *b = json_object_new_object();

		jo_add(b, "station", jo_str(m->stations[m->bottleneck].name));
		jo_add(b, "handler", m->bottleneck_handler >= 0
					     ? jo_str(m->handlers[m->bottleneck_handler].id) : NULL);
		jo_add(b, "utilization", jo_num(m->stations[m->bottleneck].utilization, 4));
		jo_add(b, "other_processes", jo_num(m->bottleneck_others, 4));
		jo_add(o, "bottleneck", b);
	} else {
		jo_add(o, "bottleneck", NULL);
	}
	jo_add(target, "scale", jo_num(m->scale, 6));
	jo_add(target, "util_limit", jo_num(m->util_limit, 4));
	jo_add(target, "targeted", json_object_new_boolean(m->targeted));
	jo_add(o, "target", target);
	jo_add(o, "headroom", jo_num(m->headroom, 4));
	jo_add(o, "ceiling_station", m->ceiling_station >= 0
					     ? jo_str(m->stations[m->ceiling_station].name) : NULL);
	jo_add(o, "throughput_per_s", jo_num(m->throughput_per_s, 3));
	jo_add(o, "max_throughput_per_s", jo_num(m->max_throughput_per_s, 3));
	for (int i = 0; i < m->n_stations; i++)
		json_object_array_add(ranking, jo_str(m->stations[m->ranking[i]].name));
	jo_add(o, "ranking", ranking);
	jo_add(o, "stations", stations_json(m));
	jo_add(o, "flows", flows_json(m));
	jo_add(o, "handlers", handlers_json(m));
	jo_add(o, "closed", closed_json(m));
	for (int i = 0; i < m->n_notes; i++)
		json_object_array_add(notes, jo_str(m->notes[i]));
	jo_add(o, "notes", notes);
	return o;
}
