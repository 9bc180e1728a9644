// SPDX-License-Identifier: MIT
/*
 * The capacity sweep (sweep.h): its levels as numbers and phrases, the load
 * command for one level, the measured figures of a step's window, and
 * freeing. The fit is sweep_fit.c's; the document sweep_write.c's and
 * sweep_load.c's; the table sweep_table.c's.
 */
#include "sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sweep_int.h"

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

char *sweep_level_text(double level)
{
	if (level == floor(level) && fabs(level) < 1e15)
		return xasprintf("%.0f", level);
	return xasprintf("%g", level);
}

char *sweep_level_phrase(enum sweep_variable v, double level)
{
	char *n = sweep_level_text(level), *out;

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
	char *val = sweep_level_text(level), *out = NULL;
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
	sweep_fit_free(&sw->fit);
	memset(sw, 0, sizeof(*sw));
}
