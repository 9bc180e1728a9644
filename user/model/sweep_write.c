// SPDX-License-Identifier: MIT
/*
 * The sweep's document ("flowprof_sweep": 1, docs/sweep.md): written with
 * json-c, every figure exactly as computed, each step's window snapshot in
 * it; sweep_write() writes it atomically, mode 0600.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/base.h"
#include "sweep_int.h"

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
