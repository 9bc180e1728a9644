// SPDX-License-Identifier: MIT
/* A recording that stays attached while a view watches it: see live.h. */
#include "live.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/base.h"
#include "collect.h"
#include "probe/probe.h"
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
	OPT_EXITS,
	OPT_ENTRY,
};

static const struct argp_option attach_options[] = {
	{ "mode", OPT_MODE, "MODE", 0,
	  "Attach mechanism: auto (default), session, multi or single", 0 },
	{ "exits", OPT_EXITS, "HOW", 0,
	  "How calls' exits are seen: auto (default: at the function's ret and tail-call "
	  "sites where something unwinds the stack, else the cheaper as measured), sites, "
	  "or uretprobe", 0 },
	{ "entry", OPT_ENTRY, "WHERE", 0,
	  "Where entry probes go: auto (default: past a first instruction the kernel would "
	  "single-step, to a cheaper one that runs once per call, when measured cheaper; an "
	  "exit at a ret likewise to the function's stack-protector check ahead of its "
	  "epilogue) or first (always the function's first instruction, exits at their own)",
	  0 },
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
	case OPT_EXITS: {
		int e = exits_choice_parse(arg);

		if (e < 0)
			argp_error(state, "--exits %s: expected auto, sites or uretprobe", arg);
		o->exits = (enum exits_choice)e;
		break;
	}
	case OPT_ENTRY:
		if (strcmp(arg, "auto") && strcmp(arg, "first"))
			argp_error(state, "--entry %s: expected auto or first", arg);
		o->entry_first = !strcmp(arg, "first");
		break;
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

static bool single_stepped(const struct recorder_info *ri, enum cost_slot slot)
{
	const char *b = ri->costs[slot & (SLOT_COUNT - 1)].behaves_as;

	return b && !strcmp(b, "single-step");
}

/* The handler's probe point to name: a single-stepped one if it has one. */
static const struct probe_site *stepped_site(const struct recorder_info *ri,
					     const struct resolution *res, int h)
{
	const struct probe_site *any = NULL;

	for (size_t i = 0; i < res->n_sites; i++) {
		const struct probe_site *s = &res->sites[i];

		if (s->handler != h || s->kind != PROBE_FUNCTION)
			continue;
		if (single_stepped(ri, (enum cost_slot)s->entry_slot))
			return s;
		if (!any)
			any = s;
	}
	return any;
}

/* Handlers at dear probe sites (single-stepped here, as measured), and
 * exits that could not all be found. */
static void warn_probes(const struct live *l)
{
	const struct recorder_info *ri = recorder_info(l->rec);
	bool ascii = !locale_is_utf8();
	char a[UNITS_BUF], b[UNITS_BUF];
	double dearest = 0;
	int stepped = 0, shown = 0;

	for (int h = 0; h < ri->n_handlers; h++) {
		const struct handler_probes *hp = &ri->handlers[h];

		if (!hp->n_sites)
			continue;
		if (single_stepped(ri, hp->entry) || single_stepped(ri, hp->exit)) {
			stepped++;
			dearest = fmax(dearest, ri->costs[hp->entry & (SLOT_COUNT - 1)].hit_ns +
						ri->costs[hp->exit & (SLOT_COUNT - 1)].hit_ns);
		}
		if (hp->fallback)
			log_warn("%s: exits seen by a uretprobe at %d of its %d probe point%s, as the "
				 "function's exits could not all be found (%s)", l->ff.handlers[h].id,
				 hp->n_fallback, hp->n_sites, hp->n_sites == 1 ? "" : "s", hp->fallback);
		if (hp->partial)
			log_warn("%s: some exits of %d of its %d probe point%s may be missed (%s); "
				 "something unwinds there, so no uretprobe: a call that leaves that "
				 "way counts as incomplete", l->ff.handlers[h].id, hp->n_partial,
				 hp->n_sites, hp->n_sites == 1 ? "" : "s", hp->partial);
	}
	if (!stepped)
		return;
	log_warn("%d handler%s %s probed at a site the kernel single-steps (measured here): each "
		 "call there costs the service about %s (%s at a nop5 site)", stepped,
		 stepped == 1 ? "" : "s", stepped == 1 ? "is" : "are",
		 units_duration(a, sizeof(a), dearest, ascii),
		 units_duration(b, sizeof(b), ri->costs[SLOT_ENTRY_NOP5].hit_ns +
					       ri->costs[SLOT_EXIT_URETPROBE].hit_ns, ascii));
	for (int h = 0; h < ri->n_handlers; h++) {
		const struct handler_probes *hp = &ri->handlers[h];
		const struct probe_site *s = stepped_site(ri, &l->res, h);

		if (!hp->n_sites || !s ||
		    !(single_stepped(ri, hp->entry) || single_stepped(ri, hp->exit)))
			continue;
		if (shown++ == 10) {
			log_note("  ... and more: `flowprof check` gives the class of every probe point");
			break;
		}
		log_note("  %s: %s in %s", l->ff.handlers[h].id, s->demangled ? s->demangled : s->symbol,
			 s->binary);
	}
}

/* Adds the CPUs each of s's bundles' processes may run on to l's set. */
static void add_bundle_cpus(struct live *l, const struct snapshot *s)
{
	for (int b = 0; b < s->n_bundles; b++)
		for (int i = 0; i < s->bundles[b].n_pids; i++) {
			cpu_set_t set;

			if (!proc_cpus_allowed(s->bundles[b].pids[i], &set))
				CPU_OR(&l->bundle_cpus, &l->bundle_cpus, &set);
		}
}

/* When the window opens: the bundles' CPUs, each CPU's busy time, and
 * flowprof's own. */
static void bundle_cpus_start(struct live *l, const struct snapshot *base)
{
	CPU_ZERO(&l->bundle_cpus);
	add_bundle_cpus(l, base);
	l->cpu_busy_start = xcalloc(CPU_SETSIZE, sizeof(double));
	if (cpus_busy_each(l->cpu_busy_start, CPU_SETSIZE)) {
		free(l->cpu_busy_start);
		l->cpu_busy_start = NULL;
	}
	l->own_cpu_start = self_cpu_seconds();
}

/*
 * The busy time over the window of the CPUs the bundles may run on, where
 * they are fewer than the host's online CPUs (else the host's busy time
 * says it). flowprof's own time is not known per CPU: its share of the
 * window's, as the CPUs' share of the host's, is taken off.
 */
static void bundle_cpus_busy(struct live *l, struct snapshot *s)
{
	double *now, busy = 0;
	int in = 0, online = 0;

	if (!l->cpu_busy_start)
		return;
	add_bundle_cpus(l, s);
	now = xcalloc(CPU_SETSIZE, sizeof(double));
	if (!cpus_busy_each(now, CPU_SETSIZE))
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (now[c] < 0 || l->cpu_busy_start[c] < 0)
				continue;
			online++;
			if (CPU_ISSET(c, &l->bundle_cpus)) {
				in++;
				busy += now[c] - l->cpu_busy_start[c];
			}
		}
	free(now);
	if (!in || in >= online)
		return;
	s->bundle_cpus_busy_s = fmax(0, busy - (self_cpu_seconds() - l->own_cpu_start) * in / online);
	s->bundle_cpus_busy_measured = true;
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
	if (o->permitted && o->permitted(o->cmd))
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

	ao.mode = o->mode;
	ao.exits = o->exits;
	ao.entry_first = o->entry_first;
	ao.no_oncpu = o->no_oncpu;
	ao.max_instances = o->max_instances;
	ao.root_tgid = o->command_pid;
	if (isatty(STDERR_FILENO) && l->res.n_sites >= 50)
		ao.progress = show_progress;
	if (recorder_start(&l->rec, &l->ff, &l->res, &ao, err, sizeof(err))) {
		log_error("%s", err);
		goto fail;
	}
	warn_probes(l);
	/* Counts start here, as record's do: calls during attach and
	 * calibration fall outside the window. The baseline is read with the
	 * counting stopped: read while calls go on, one map's would hold calls
	 * another's does not (edges short of their calls). */
	recorder_disarm(l->rec);
	collect_snapshot(l->rec, &l->ff, &l->res, &base);
	base.host_cpu_s = host_cpu_busy_seconds();
	base.host_cpu_measured = base.host_cpu_s >= 0;
	bundle_cpus_start(l, &base);
	snapshot_start_take(&l->base, &base); /* kept small: 4.7 KiB less per handler */
	recorder_arm(l->rec);
	l->started = time(NULL);
	l->t_start = l->t_calibrated = now_ns();
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
	/* the window, not with the time it took to read the maps after it
	 * closed: that would lower every rate and busy figure */
	s->duration_s = (double)((l->t_end ? l->t_end : now_ns()) - l->t_start) / 1e9;
	s->nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
	s->host_cpu_s = host_cpu_busy_seconds();
	s->host_cpu_measured = s->host_cpu_s >= 0;
	s->flow_file = xstrdup(l->flow_path);
	s->attach_ms = recorder_info(l->rec)->attach_ms;
	s->detach_ms = recorder_info(l->rec)->detach_ms;
}

/*
 * What the probes cost here, as the snapshot keeps it: every slot as
 * measured ("calibration"), and, for readers of the older keys, each site
 * class as a pair with a uretprobe exit (probe_cost) and each handler's
 * in-window share (probe_cost_ns).
 */
static void fill_probe_costs(struct snapshot *s, const struct live *l)
{
	const struct recorder_info *ri = recorder_info(l->rec);
	static const enum cost_slot class_entry[4] = { 0, SLOT_ENTRY_NOP5, SLOT_ENTRY_PUSH,
						       SLOT_ENTRY_STEP };
	const struct slot_cost *uret = &ri->costs[SLOT_EXIT_URETPROBE];

	s->calib_rounds = ri->calib_rounds;
	for (int k = 0; k < SNAP_SLOTS && k < SLOT_COUNT; k++) {
		const struct slot_cost *c = &ri->costs[k];

		s->probe_slots[k] = (struct snap_slot_cost){
			.measured = c->measured, .hit_ns = c->hit_ns, .in_window_ns = c->in_window_ns,
			.jitter_ns = c->jitter_ns, .first_hit_ns = c->first_hit_ns,
			/* an unmeasured slot is written nowhere and reads 0 */
			.in_window_jitter_ns = c->measured ? c->in_window_jitter_ns : 0,
			.behaves_as = c->behaves_as ? xstrdup(c->behaves_as) : NULL,
		};
	}
	for (int c = 1; c < SNAP_SITE_CLASSES; c++) {
		const struct slot_cost *e = &ri->costs[class_entry[c]];

		s->probe_cost[c].measured = e->measured && uret->measured;
		s->probe_cost[c].per_call_ns = e->hit_ns + uret->hit_ns;
		s->probe_cost[c].in_window_ns = fmax(0, e->in_window_ns + uret->in_window_ns);
	}
	s->probe_cost_ns = s->probe_cost[SITE_EMULATED].in_window_ns;
	for (int h = 0; h < s->n_handlers && h < ri->n_handlers; h++) {
		const struct handler_probes *hp = &ri->handlers[h];

		/* A slot's share is a difference of two stubs' medians and may be
		 * below 0 (the snapshot keeps it signed); a pair's is a cost: a
		 * noisy calibration under load once wrote a negative one, and the
		 * loader refused the snapshot. */
		if (hp->n_sites)
			s->handlers[h].probe_cost_ns =
				fmax(0, ri->costs[hp->entry & (SLOT_COUNT - 1)].in_window_ns +
					ri->costs[hp->exit & (SLOT_COUNT - 1)].in_window_ns);
	}
}

int live_read(struct live *l, struct snapshot *s)
{
	if (collect_snapshot(l->rec, &l->ff, &l->res, s))
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
	bundle_cpus_busy(l, s);
	return 0;
fail:
	snapshot_free(s);
	return -1;
}

void live_tick(struct live *l)
{
	if (l->rec && now_ns() - l->t_cpu_sampled >= 50000000ULL) {
		collect_cpu_sample(l->rec);
		l->t_cpu_sampled = now_ns();
	}
	/* the first rounds, which attach keeps few, soon; then one now and then */
	if (l->rec && (recorder_info(l->rec)->calib_rounds < LIVE_CALIB_EARLY_ROUNDS ||
		       now_ns() - l->t_calibrated >= LIVE_CALIB_PERIOD_S * 1000000000ULL)) {
		recorder_recalibrate(l->rec);
		l->t_calibrated = now_ns();
	}
}

void live_disarm(struct live *l)
{
	recorder_disarm(l->rec);
	l->t_end = now_ns();
}

void live_detach(struct live *l)
{
	recorder_detach(l->rec);
}

const struct recorder_info *live_info(const struct live *l)
{
	return recorder_info(l->rec);
}

void live_mark(struct live *l, int which)
{
	int nb = l->ff.n_bundles;
	uint64_t *calls = xcalloc((size_t)l->ff.n_handlers + 1, sizeof(uint64_t));

	free(l->mark_calls[which]);
	l->mark_calls[which] = xcalloc((size_t)nb + 1, sizeof(uint64_t));
	/* in batches: one lookup per handler took 2,000 for 1,000 handlers */
	collect_calls(l->rec, l->ff.n_handlers, calls);
	for (int h = 0; h < l->ff.n_handlers; h++) {
		int b = l->ff.handlers[h].bundle;

		if (b >= 0 && b < nb)
			l->mark_calls[which][b] += calls[h];
	}
	free(calls);
	l->t_mark[which] = now_ns();
}

double live_probe_share(const struct snapshot *s, const char **bundle)
{
	double most = 0;

	*bundle = NULL;
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *b = &s->bundles[i];
		double probes = 0, share;

		if (!b->cpu_measured || !(b->cpu_s > 0))
			continue;
		for (int h = 0; h < s->n_handlers; h++)
			if (s->handlers[h].probe_cpu_measured && s->handlers[h].bundle &&
			    b->name && !strcmp(s->handlers[h].bundle, b->name))
				probes += (double)s->handlers[h].probe_cpu_ns;
		share = probes / 1e9 / b->cpu_s;
		if (share > most) {
			most = share;
			*bundle = b->name;
		}
	}
	return most;
}

void live_stop(struct live *l)
{
	recorder_free(l->rec);
	l->rec = NULL;
	for (int k = 0; k < 2; k++) {
		free(l->mark_calls[k]);
		l->mark_calls[k] = NULL;
	}
	collect_cpu_forget();
	free(l->cpu_busy_start);
	l->cpu_busy_start = NULL;
	snapshot_start_free(&l->base);
	resolution_free(&l->res);
	flowfile_free(&l->ff);
}
