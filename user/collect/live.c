// SPDX-License-Identifier: MIT
/* A recording that stays attached while a view watches it: see live.h. */
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/base.h"
#include "cmd/cmd.h"
#include "collect.h"
#include "snapshot/snapshot.h"

/* `-- CMD`: the command is the bundles' only known process. Its probes stay
 * on the binaries (so that workers it forks are probed too); the BPF side
 * counts only the command and its descendants (attach_opts.root_tgid). */
static void processes_are(struct resolution *res, int pid)
{
	for (int b = 0; b < res->n_bundles; b++) {
		struct resolved_bundle *rb = &res->bundles[b];

		free(rb->pids);
		rb->pids = xmalloc(sizeof(int));
		rb->pids[0] = pid;
		rb->n_pids = 1;
	}
}

enum {
	OPT_MODE = 0x200,
	OPT_NO_ONCPU,
	OPT_MAX_INSTANCES,
};

static const struct argp_option attach_options[] = {
	{ "mode", OPT_MODE, "MODE", 0,
	  "Attach mechanism: auto (default), session, multi or single", 0 },
	{ "no-oncpu", OPT_NO_ONCPU, NULL, 0, "Do not measure on-CPU time (no sched_switch probe)", 0 },
	{ "max-instances", OPT_MAX_INSTANCES, "N", 0,
	  "Processes counted individually (default 64; more are pooled as pid 0)", 0 },
	{ 0 },
};

static error_t parse_attach(int key, char *arg, struct argp_state *state)
{
	struct live_opts *o = state->input;

	switch (key) {
	case OPT_MODE: {
		int m = attach_mode_parse(arg);

		if (m == -2)
			argp_error(state, "--mode %s: expected auto, session, multi or single", arg);
		o->mode = (enum attach_mode)m;
		break;
	}
	case OPT_NO_ONCPU:
		o->no_oncpu = true;
		break;
	case OPT_MAX_INSTANCES: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (*end || v < 2 || v > 65536)
			argp_error(state, "--max-instances %s: expected an integer from 2 to 65536", arg);
		o->max_instances = (int)v;
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp live_attach_argp = { attach_options, parse_attach, NULL, NULL, NULL, NULL, NULL };

/* On a terminal, a line that counts probe points as they get attached
 * (single links take a while for many handlers); erased once done. */
static void show_progress(void *ctx, size_t done, size_t total)
{
	(void)ctx;
	fprintf(stderr, "\rflowprof: attaching %zu/%zu probe points...", done, total);
	if (done >= total)
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

int live_start(struct live *l, const struct live_opts *o)
{
	struct resolve_opts ro = { .pids = o->pids, .n_pids = o->n_pids };
	struct attach_opts ao = { 0 };
	struct snapshot base = { 0 };
	char err[1024];

	memset(l, 0, sizeof(*l));
	l->flow_path = o->flow_path;
	if (flowfile_load(o->flow_path, &l->ff, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	if (require_bpf_capabilities(o->cmd))
		goto fail;
	/* Now, not after the whole recording: it would be lost. */
	if (o->output && check_writable_atomic(o->output, err, sizeof(err))) {
		log_error("cannot write %s; nothing was recorded", err);
		goto fail;
	}
	if (resolve_flowfile(&l->ff, &ro, &l->res, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	for (int i = 0; i < l->res.n_problems; i++)
		log_note("%s", l->res.problems[i]);
	if (!l->res.n_sites) {
		log_error("%s: no probe point left to attach (see the warnings above)", o->flow_path);
		goto fail;
	}
	if (o->command_pid > 0)
		processes_are(&l->res, o->command_pid);
	for (int b = 0; b < l->res.n_bundles; b++)
		l->processes += l->res.bundles[b].n_pids;

	calibrate_prepare(&l->cal, l->ff.n_handlers);
	ao.mode = o->mode;
	ao.no_oncpu = o->no_oncpu;
	ao.max_instances = o->max_instances;
	ao.root_tgid = o->command_pid;
	ao.extra = l->cal.sites;
	ao.n_extra = l->cal.n_sites;
	if (isatty(STDERR_FILENO) && l->res.n_sites >= 50)
		ao.progress = show_progress;
	if (recorder_start(&l->rec, &l->ff, &l->res, &ao, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	calibrate_run(&l->cal);
	/* The calibration functions ran once, right after attach: their cost
	 * is in the maps now and never changes afterwards. */
	calibrate_finish(&l->cal, &l->rec);
	calibrate_warn_singlestep(&l->cal, &l->ff, &l->res);
	/* Counts start here, as record's do: calls during attach and
	 * calibration fall outside the window. */
	collect_snapshot(&l->rec, &l->ff, &l->res, &base);
	snapshot_start_take(&l->base, &base); /* kept small: 4.7 KiB less per handler */
	l->started = time(NULL);
	l->t_start = now_ns();
	return 0;

fail:
	live_stop(l);
	return -1;
}

static void fill_header(struct snapshot *s, const struct live *l)
{
	struct utsname u;
	char when[64];

	uname(&u);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&l->started));
	s->version = SNAPSHOT_VERSION;
	s->host = xstrdup(u.nodename);
	s->kernel = xstrdup(u.release);
	s->started_at = xstrdup(when);
	s->duration_s = (double)(now_ns() - l->t_start) / 1e9;
	s->nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
	s->flow_file = xstrdup(l->flow_path);
	s->attach_ms = l->rec.attach_ms;
	s->detach_ms = l->rec.detach_ms;
}

/* Probe cost per handler (by its site class) and overall (the commonest
 * class), as `record` stores them. */
static void fill_probe_costs(struct snapshot *s, const struct live *l)
{
	size_t per_class[4] = { 0 };
	int best = 0;

	for (int c = 0; c < 4; c++) {
		s->probe_cost[c].measured = l->cal.cost[c].measured;
		s->probe_cost[c].per_call_ns = l->cal.cost[c].per_call_ns;
		s->probe_cost[c].in_window_ns = l->cal.cost[c].in_window_ns;
	}
	for (size_t i = 0; i < l->res.n_sites; i++)
		per_class[l->res.sites[i].cls & 3]++;
	for (int c = 1; c < 4; c++)
		if (per_class[c] > per_class[best])
			best = c;
	if (!best)
		best = SITE_EMULATED;
	s->probe_cost_ns = l->cal.cost[best].in_window_ns;
	/* the dearest class, as the handler's site_class (collect.c) */
	for (int h = 0; h < s->n_handlers; h++)
		s->handlers[h].probe_cost_ns =
			l->cal.cost[handler_site_class(&l->res, h) & 3].in_window_ns;
}

int live_read(struct live *l, struct snapshot *s)
{
	if (collect_snapshot(&l->rec, &l->ff, &l->res, s))
		return -1;
	fill_header(s, l);
	fill_probe_costs(s, l);
	return 0;
}

int live_collect(struct live *l, struct snapshot *s)
{
	char err[512];

	/* Subtracted in place: one snapshot besides the base, not two. */
	if (live_read(l, s))
		goto fail;
	if (snapshot_subtract_start(s, &l->base, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	return 0;
fail:
	snapshot_free(s);
	return -1;
}

void live_stop(struct live *l)
{
	recorder_destroy(&l->rec);
	snapshot_start_free(&l->base);
	resolution_free(&l->res);
	flowfile_free(&l->ff);
}
