// SPDX-License-Identifier: MIT
/*
 * The families a dashboard rarely reads but the queueing model needs, so
 * that `flowprof report --prometheus` (user/fleet/) can rebuild from
 * Prometheus the snapshot each endpoint would have written for a window:
 * the probes' own time inside each handler's sums, the flows' own arrivals
 * at their entries, the sum of squared durations, how each handler is
 * probed, the processes and their concurrency, CPU time, the flows'
 * declared calls and the calibration.
 * Counters are cumulative like the others; the rest are gauges of the
 * recording's current state. docs/fleet.md lists what maps to what.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "metrics_out.h"
#include "snapshot/snapshot.h"

/* "nop5,single-step": the classes of a mask, cheapest first ("" for none). */
static const char *classes_text(unsigned int mask, char buf[64])
{
	size_t used = 0;

	buf[0] = '\0';
	for (int c = 1; c < SNAP_SITE_CLASSES; c++)
		if (mask & (1u << c))
			used += (size_t)snprintf(buf + used, 64 - used, "%s%s", used ? "," : "",
						 snapshot_site_class_key[c]);
	return buf;
}

static void handler_labels(const struct snap_handler *h, struct metrics_label *l)
{
	l[0] = (struct metrics_label){ "bundle", h->bundle ? h->bundle : "" };
	l[1] = (struct metrics_label){ "handler", h->id ? h->id : "" };
}

static void handler_info(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[7];
	char classes[64];

	metrics_family(o, "flowprof_handler_info", "gauge", NULL,
		       "1 for each handler: its probe site class (site_classes when its probe "
		       "points differ), entry and exit probe kinds, and whether it is one "
		       "server (serial).");
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *h = &s->handlers[i];

		handler_labels(h, l);
		l[2] = (struct metrics_label){ "site_class", h->site_class ? h->site_class : "" };
		l[3] = (struct metrics_label){ "site_classes", classes_text(h->site_classes, classes) };
		l[4] = (struct metrics_label){ "entry_site", h->entry_site ? h->entry_site : "" };
		l[5] = (struct metrics_label){ "exit_site", h->exit_site ? h->exit_site : "" };
		l[6] = (struct metrics_label){ "serial", h->serial ? "true" : "false" };
		metrics_u64(o, "flowprof_handler_info", "", l, 7, 1);
	}
	metrics_family(o, "flowprof_handler_probe_cost_seconds", "gauge", "seconds",
		       "Calibrated probe cost inside one measured call of the handler (its entry "
		       "and exit probes).");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_double(o, "flowprof_handler_probe_cost_seconds", "", l, 2,
			       s->handlers[i].probe_cost_ns / 1e9);
	}
}

/* The probes' own time per handler, for the sums the kernel corrected per
 * call: each family a counter of one snap_handler field. */
static const struct probe_family {
	const char *name, *help;
	bool seconds;		/* ns in the snapshot, seconds in the exposition */
	size_t value, measured; /* offsets of the uint64_t and of its bool */
} probe_families[] = {
	{ "flowprof_handler_probe_seconds",
	  "The probes' own time inside the handler's inclusive durations (the model subtracts it).",
	  true, offsetof(struct snap_handler, probe_ns), offsetof(struct snap_handler, probe_measured) },
	{ "flowprof_handler_self_probe_seconds",
	  "The probes' own time inside the handler's self time.", true,
	  offsetof(struct snap_handler, self_probe_ns),
	  offsetof(struct snap_handler, probe_measured) },
	{ "flowprof_handler_nested_calls",
	  "Probed calls nested at any depth inside the handler's completed calls.", false,
	  offsetof(struct snap_handler, nested_calls),
	  offsetof(struct snap_handler, probe_measured) },
	{ "flowprof_handler_probe_cpu_seconds",
	  "What the handler's own probes took of its threads' CPU time, whole hits.", true,
	  offsetof(struct snap_handler, probe_cpu_ns),
	  offsetof(struct snap_handler, probe_cpu_measured) },
	/* a flow entry's own arrivals (its calls made inside no flow): a
	 * flow's rate and mean in the model (docs/model.md) */
	{ "flowprof_handler_arrival_calls",
	  "Of a flow entry's completed calls, those made inside no flow: the flow's own arrivals.",
	  false, offsetof(struct snap_handler, arrival.calls),
	  offsetof(struct snap_handler, arrival_measured) },
	{ "flowprof_handler_arrival_seconds",
	  "The inclusive durations of a flow entry's own arrivals.", true,
	  offsetof(struct snap_handler, arrival.ns),
	  offsetof(struct snap_handler, arrival_measured) },
	{ "flowprof_handler_arrival_probe_seconds",
	  "The probes' own time inside the durations of a flow entry's own arrivals.", true,
	  offsetof(struct snap_handler, arrival.probe_ns),
	  offsetof(struct snap_handler, arrival_measured) },
	{ "flowprof_handler_arrival_self_seconds",
	  "The self time of a flow entry's own arrivals.", true,
	  offsetof(struct snap_handler, arrival.self_ns),
	  offsetof(struct snap_handler, arrival_measured) },
	{ "flowprof_handler_arrival_self_probe_seconds",
	  "The probes' own time inside the self time of a flow entry's own arrivals.", true,
	  offsetof(struct snap_handler, arrival.self_probe_ns),
	  offsetof(struct snap_handler, arrival_measured) },
};

static void handler_sums(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[2];
	bool any_probe = false;

	metrics_family(o, "flowprof_handler_duration_seconds_squared", "counter", NULL,
		       "Sum of the squares of the calls' inclusive durations, in s^2 (with _sum "
		       "and _count of flowprof_handler_duration_seconds: the standard deviation).");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_double(o, "flowprof_handler_duration_seconds_squared", "_total", l, 2,
			       (double)(s->handlers[i].sumsq_ns2 / 1e18L));
		any_probe |= s->handlers[i].probe_measured;
	}
	metrics_family(o, "flowprof_handler_unwound_calls", "counter", NULL,
		       "Of the incomplete calls, those closed by the stack pointer (an "
		       "exception, a longjmp).");
	for (int i = 0; i < s->n_handlers; i++) {
		handler_labels(&s->handlers[i], l);
		metrics_u64(o, "flowprof_handler_unwound_calls", "_total", l, 2,
			    s->handlers[i].unwound);
	}
	if (!any_probe)
		return; /* not corrected per call: the families say nothing */
	for (size_t f = 0; f < ARRAY_SIZE(probe_families); f++) {
		const struct probe_family *pf = &probe_families[f];

		metrics_family(o, pf->name, "counter", pf->seconds ? "seconds" : NULL, pf->help);
		for (int i = 0; i < s->n_handlers; i++) {
			const struct snap_handler *h = &s->handlers[i];
			uint64_t v = *(const uint64_t *)((const char *)h + pf->value);

			if (!*(const bool *)((const char *)h + pf->measured))
				continue;
			handler_labels(h, l);
			if (pf->seconds)
				metrics_seconds(o, pf->name, "_total", l, 2, v);
			else
				metrics_u64(o, pf->name, "_total", l, 2, v);
		}
	}
}

/* The flow file's arrow of a declared call. */
static const char *call_arrow(const struct snap_edge *e)
{
	return e->waits ? "=>" : e->async ? "~>" : "->";
}

static void flow_structure(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[4];

	metrics_family(o, "flowprof_flow_call_info", "gauge", NULL,
		       "1 for each call the flow file declares in a flow: call is its arrow "
		       "(-> nested, => waits for the reply, ~> does not).");
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_flow *f = &s->flows[i];

		for (int k = 0; k < f->n_declared; k++) {
			l[0] = (struct metrics_label){ "flow", f->name ? f->name : "" };
			l[1] = (struct metrics_label){ "caller", f->declared[k].from };
			l[2] = (struct metrics_label){ "callee", f->declared[k].to };
			l[3] = (struct metrics_label){ "call", call_arrow(&f->declared[k]) };
			metrics_u64(o, "flowprof_flow_call_info", "", l, 4, 1);
		}
	}
}

static void bundle_structure(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[4];
	char inst[16], work[16], pid[16];

	metrics_family(o, "flowprof_bundle_info", "gauge", NULL,
		       "1 for each bundle, with the flow file's instances and workers (0: "
		       "observed) and whether the whole bundle is one server (serial).");
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];

		snprintf(inst, sizeof(inst), "%d", b->instances);
		snprintf(work, sizeof(work), "%d", b->workers);
		l[0] = (struct metrics_label){ "bundle", b->name ? b->name : "" };
		l[1] = (struct metrics_label){ "instances", inst };
		l[2] = (struct metrics_label){ "workers", work };
		l[3] = (struct metrics_label){ "serial", b->serial ? "true" : "false" };
		metrics_u64(o, "flowprof_bundle_info", "", l, 4, 1);
	}
	metrics_family(o, "flowprof_process_threads", "gauge", NULL,
		       "Threads of one process of the bundle that ran handlers (instance: the "
		       "pid).");
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];

		for (int k = 0; k < b->n_pids && b->pid_threads; k++) {
			snprintf(pid, sizeof(pid), "%d", b->pids[k]);
			l[0] = (struct metrics_label){ "bundle", b->name ? b->name : "" };
			l[1] = (struct metrics_label){ "instance", pid };
			metrics_u64(o, "flowprof_process_threads", "", l, 2,
				    (uint64_t)(b->pid_threads[k] > 0 ? b->pid_threads[k] : 0));
		}
	}
}

/* Time spent at each level of concurrency: only the levels reached. */
static void bundle_concurrency(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[3];
	char level[16];

	metrics_family(o, "flowprof_bundle_concurrency_seconds", "counter", "seconds",
		       "Time the bundle's processes spent with threads=K of their threads live "
		       "(they ran a handler and have not exited) or inflight (inside a handler), "
		       "summed over its processes; the last level holds every level above it.");
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];

		if (!b->conc_measured)
			continue;
		for (int state = 0; state < 2; state++) {
			const uint64_t *ns = state ? b->inflight_ns : b->live_ns;

			for (int k = 0; k < SNAP_CONC_LEVELS; k++) {
				if (!ns[k])
					continue;
				snprintf(level, sizeof(level), "%d", k);
				l[0] = (struct metrics_label){ "bundle", b->name ? b->name : "" };
				l[1] = (struct metrics_label){ "state", state ? "inflight" : "live" };
				l[2] = (struct metrics_label){ "threads", level };
				metrics_seconds(o, "flowprof_bundle_concurrency_seconds", "_total", l,
						3, ns[k]);
			}
		}
	}
}

static void cpu_time(struct metrics_out *o, const struct snapshot *s)
{
	struct metrics_label l[2];

	metrics_family(o, "flowprof_bundle_cpu_seconds", "counter", "seconds",
		       "CPU time of the bundle's processes, every thread, in handlers or not.");
	for (int i = 0; i < s->n_bundles; i++) {
		if (!s->bundles[i].cpu_measured)
			continue;
		l[0] = (struct metrics_label){ "bundle", s->bundles[i].name ? s->bundles[i].name : "" };
		metrics_double(o, "flowprof_bundle_cpu_seconds", "_total", l, 1, s->bundles[i].cpu_s);
	}
	metrics_family(o, "flowprof_bundle_cpus", "gauge", NULL,
		       "CPUs the bundle's processes may use, and what limits them (source: "
		       "affinity, a cgroup's cpu.max, ...).");
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];

		if (!(b->cpus > 0))
			continue;
		l[0] = (struct metrics_label){ "bundle", b->name ? b->name : "" };
		l[1] = (struct metrics_label){ "source", b->cpus_source ? b->cpus_source : "" };
		metrics_double(o, "flowprof_bundle_cpus", "", l, 2, b->cpus);
	}
	metrics_family(o, "flowprof_host_cpus", "gauge", NULL, "CPUs of the host online.");
	metrics_u64(o, "flowprof_host_cpus", "", NULL, 0, (uint64_t)(s->nproc > 0 ? s->nproc : 0));
	if (s->host_cpu_measured) {
		metrics_family(o, "flowprof_host_cpu_busy_seconds", "counter", "seconds",
			       "Busy CPU time of the whole host (every process) since the recording "
			       "started.");
		metrics_double(o, "flowprof_host_cpu_busy_seconds", "_total", NULL, 0,
			       s->host_cpu_s);
	}
	if (s->bundle_cpus_busy_measured) {
		metrics_family(o, "flowprof_bundle_cpus_busy_seconds", "counter", "seconds",
			       "Busy CPU time (every process) of the CPUs the bundles may run on, "
			       "where fewer than the host's, since the recording started.");
		metrics_double(o, "flowprof_bundle_cpus_busy_seconds", "_total", NULL, 0,
			       s->bundle_cpus_busy_s);
	}
}

/* The bundles' wake-ups by the top-level calls done in each (model_wake.c
 * reads them), and their threads' sleeps. */
static void wakeups(struct metrics_out *o, const struct snapshot *s)
{
	static const struct {
		const char *name, *suffix, *unit, *help;
	} fam[] = {
		{ "flowprof_bundle_wakeups", "_total", NULL,
		  "Times a thread of the bundle woke outside any handler and slept outside "
		  "one again, by the top-level calls it completed meanwhile (calls: 0-7, 8+)." },
		{ "flowprof_bundle_wakeup_calls", "_total", NULL,
		  "Top-level calls completed in those wake-ups." },
		{ "flowprof_bundle_wakeup_cpu_seconds", "_total", "seconds",
		  "CPU time of those wake-ups, probes included." },
		{ "flowprof_bundle_wakeup_probe_seconds", "_total", "seconds",
		  "What the probes of their calls took of it, as calibrated." },
	};
	struct metrics_label l[2];
	char calls[8];

	for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
		metrics_family(o, fam[f].name, "counter", fam[f].unit, fam[f].help);
		for (int i = 0; i < s->n_bundles; i++) {
			const struct snap_wakeups *w = &s->bundles[i].wake;

			if (!w->measured)
				continue;
			for (int k = 0; k < SNAP_WAKE_BUCKETS; k++) {
				const uint64_t v[] = { w->periods[k], w->calls[k], w->cpu_ns[k],
						       w->probe_ns[k] };

				if (!w->periods[k])
					continue;
				snprintf(calls, sizeof(calls), "%d%s", k,
					 k == SNAP_WAKE_BUCKETS - 1 ? "+" : "");
				l[0] = (struct metrics_label){ "bundle", s->bundles[i].name
								? s->bundles[i].name : "" };
				l[1] = (struct metrics_label){ "calls", calls };
				if (fam[f].unit)
					metrics_seconds(o, fam[f].name, fam[f].suffix, l, 2, v[f]);
				else
					metrics_u64(o, fam[f].name, fam[f].suffix, l, 2, v[f]);
			}
		}
	}
	metrics_family(o, "flowprof_bundle_sleeps", "counter", NULL,
		       "Times the live threads of the bundle's processes went to sleep "
		       "(voluntary context switches), in handlers or not.");
	for (int i = 0; i < s->n_bundles; i++) {
		if (!s->bundles[i].sleeps)
			continue;
		l[0] = (struct metrics_label){ "bundle", s->bundles[i].name ? s->bundles[i].name : "" };
		metrics_u64(o, "flowprof_bundle_sleeps", "_total", l, 1, s->bundles[i].sleeps);
	}
}

static void calibration(struct metrics_out *o, const struct snapshot *s)
{
	static const struct {
		const char *name;
		size_t off;
	} figures[] = {
		{ "hit", offsetof(struct snap_slot_cost, hit_ns) },
		{ "in_window", offsetof(struct snap_slot_cost, in_window_ns) },
		{ "jitter", offsetof(struct snap_slot_cost, jitter_ns) },
		{ "in_window_jitter", offsetof(struct snap_slot_cost, in_window_jitter_ns) },
		{ "first_hit", offsetof(struct snap_slot_cost, first_hit_ns) },
	};
	struct metrics_label l[3];
	double started;

	metrics_family(o, "flowprof_probe_cost_per_call_seconds", "gauge", "seconds",
		       "Calibrated cost of one probed call to its caller (entry and return "
		       "probes), by probe site class.");
	for (int c = 1; c < SNAP_SITE_CLASSES; c++) {
		if (!s->probe_cost[c].measured)
			continue;
		l[0] = (struct metrics_label){ "site_class", snapshot_site_class_key[c] };
		metrics_double(o, "flowprof_probe_cost_per_call_seconds", "", l, 1,
			       s->probe_cost[c].per_call_ns / 1e9);
	}
	metrics_family(o, "flowprof_probe_slot_cost_seconds", "gauge", "seconds",
		       "Calibration of each kind of probe (slot): what one hit costs the thread "
		       "(hit), the part inside a measured duration (in_window), their spreads "
		       "(jitter, in_window_jitter) and a cold hit (first_hit); behaves_as: how the kernel was "
		       "measured to treat it.");
	for (int k = 0; k < SNAP_SLOTS; k++) {
		const struct snap_slot_cost *c = &s->probe_slots[k];

		if (!snapshot_slot_key[k] || !c->measured)
			continue;
		for (size_t f = 0; f < ARRAY_SIZE(figures); f++) {
			double v = *(const double *)((const char *)c + figures[f].off);

			if (!isfinite(v)) /* in_window_jitter of an older snapshot */
				continue;
			l[0] = (struct metrics_label){ "slot", snapshot_slot_key[k] };
			l[1] = (struct metrics_label){ "figure", figures[f].name };
			l[2] = (struct metrics_label){ "behaves_as",
						       c->behaves_as ? c->behaves_as : "unknown" };
			metrics_double(o, "flowprof_probe_slot_cost_seconds", "", l, 3, v / 1e9);
		}
	}
	metrics_family(o, "flowprof_probe_calibration_rounds", "gauge", NULL,
		       "Rounds of probe-cost calibration the figures above come from.");
	metrics_u64(o, "flowprof_probe_calibration_rounds", "", NULL, 0,
		    (uint64_t)(s->calib_rounds > 0 ? s->calib_rounds : 0));
	if (!snapshot_parse_time(s->started_at, &started)) {
		metrics_family(o, "flowprof_recording_start_time_seconds", "gauge", "seconds",
			       "When the recording started, Unix time: a new value means a new "
			       "recording, its counters from zero.");
		metrics_double(o, "flowprof_recording_start_time_seconds", "", NULL, 0, started);
	}
	metrics_family(o, "flowprof_recording_info", "gauge", NULL,
		       "1, with the recording host's kernel and the attach mode.");
	l[0] = (struct metrics_label){ "kernel", s->kernel ? s->kernel : "" };
	l[1] = (struct metrics_label){ "attach_mode", s->attach_mode ? s->attach_mode : "" };
	metrics_u64(o, "flowprof_recording_info", "", l, 2, 1);
}

void metrics_model_families(struct metrics_out *o, const struct snapshot *s)
{
	handler_info(o, s);
	handler_sums(o, s);
	flow_structure(o, s);
	bundle_structure(o, s);
	bundle_concurrency(o, s);
	cpu_time(o, s);
	wakeups(o, s);
	calibration(o, s);
}
