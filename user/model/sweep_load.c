// SPDX-License-Identifier: MIT
/*
 * The sweep's document read back (sweep_load, sweep_parse): every member
 * checked, errors naming the file and the member ("<path>: steps[2]:
 * \"status\" must be ..."); each step's snapshot through the snapshot
 * stage's own loader.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/base.h"
#include "sweep_int.h"

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
	char *buf = read_file_said(path, &len, err, errlen);
	int rc;

	if (!buf) {
		memset(sw, 0, sizeof(*sw));
		return -1;
	}
	rc = sweep_parse(path, buf, len, sw, err, errlen);
	free(buf);
	return rc;
}

/* For `flowprof report`: the first bytes of the file are enough. */
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
