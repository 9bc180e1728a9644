// SPDX-License-Identifier: MIT
/*
 * `flowprof sweep`: drive the service with the user's own load command at
 * several levels, measure each level's window, and hold the queueing model
 * against the measurements (docs/sweep.md). The probes are attached once
 * for the whole sweep; each step is the difference of two readings of the
 * maps (snapshot_delta.h), taken after the step's settle time and when its
 * load command ends. Ctrl-C stops the sweep and still writes every step
 * measured so far.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/attach.h"
#include "base/base.h"
#include "collect/collect.h"
#include "commands.h"
#include "flowfile/flowfile.h"
#include "model/model.h"
#include "probe/probe.h"
#include "snapshot/snapshot.h"
#include "spawn.h"
#include "subcommand.h"

#define OUTPUT_TAIL_BYTES 2048
#define INFLIGHT_INTERVAL_NS 250000000ull /* Little's-law samples during a window */

struct sweep_args {
	const char *flow_path;
	const char *load;
	enum sweep_variable variable;
	double *levels;
	int n_levels;
	int *pids;
	int n_pids;
	double settle_s;
	double think_s;		/* NAN: fitted */
	double max_window_s;	/* 0: until the load command ends */
	const char *output;
	bool json;
	const char *user;	/* --user USER[:GROUP]: who the load command runs as */
	struct run_as run_as;	/* ... resolved (run_as.h) */
	struct live_opts live;	/* --mode, --no-oncpu, --max-instances (live_attach_argp) */
};

enum {
	OPT_LOAD = 0x100,
	OPT_USERS,
	OPT_RATE,
	OPT_SETTLE,
	OPT_THINK,
	OPT_JSON,
	OPT_USER,
};

static const struct argp_option sweep_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow file (YAML: docs/flow-file.md)", 0 },
	{ "load", OPT_LOAD, "COMMAND", 0,
	  "Load command, run by /bin/sh once per step, with {users} (or {rate}) replaced by "
	  "the step's level", 0 },
	{ "users", OPT_USERS, "N[,N...]", 0, "Closed load: the steps' numbers of users, "
	  "increasing", 0 },
	{ "rate", OPT_RATE, "R[,R...]", 0, "Open load: the steps' request rates per second, "
	  "increasing", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Record only these processes", 0 },
	{ "settle", OPT_SETTLE, "SECONDS", 0,
	  "Wait this long after a step's load starts before measuring (default 1)", 0 },
	{ "think", OPT_THINK, "SECONDS", 0, "Think time Z of the load's users (default: fitted "
	  "on the lowest step as N/X - R)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Measure at most SECONDS per step, then stop the "
	  "load command (default: until it ends by itself)", 0 },
	{ "output", 'o', "FILE", 0, "Write the sweep document to FILE (JSON, mode 0600, "
	  "atomic); 'flowprof report FILE' prints it again", 0 },
	{ "json", OPT_JSON, NULL, 0, "Print the sweep document instead of the table", 0 },
	{ "user", OPT_USER, "USER[:GROUP]", 0, "Run the load command as USER (default: the user "
	  "who ran sudo; flowprof's own user without sudo)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more; show each load command's output", 0 },
	{ 0 },
};

/* "1,2,4,8": positive, strictly increasing; whole numbers for users. */
static int parse_levels(const char *s, bool whole, double **out, int *n, char *err,
			size_t errlen)
{
	const char *p = s;

	while (*p) {
		char *end;
		double v;

		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || !isfinite(v) || v <= 0 || (*end && *end != ',') ||
		    (whole && v != floor(v))) {
			snprintf(err, errlen, "'%.*s' is not a %s", (int)strcspn(p, ","), p,
				 whole ? "positive whole number" : "positive number");
			return -1;
		}
		if (*n && v <= (*out)[*n - 1]) {
			snprintf(err, errlen, "the levels must increase ('%g' follows '%g')", v,
				 (*out)[*n - 1]);
			return -1;
		}
		*out = xrealloc(*out, (size_t)(*n + 1) * sizeof(double));
		(*out)[(*n)++] = v;
		p = *end ? end + 1 : end;
	}
	if (!*n) {
		snprintf(err, errlen, "expected a list such as 1,2,4,8");
		return -1;
	}
	return 0;
}

static const struct argp_child sweep_children[] = {
	{ &live_attach_argp, 0, "How to attach:", 1 },
	{ 0 },
};

static error_t parse_sweep(int key, char *arg, struct argp_state *state)
{
	struct sweep_args *a = state->input;
	char err[512];

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->live;
		break;
	case 'f':
		a->flow_path = arg;
		break;
	case OPT_LOAD:
		a->load = arg;
		break;
	case OPT_USERS:
	case OPT_RATE:
		if (a->n_levels)
			argp_error(state, "give one of --users and --rate, once");
		a->variable = key == OPT_USERS ? SWEEP_USERS : SWEEP_RATE;
		if (parse_levels(arg, key == OPT_USERS, &a->levels, &a->n_levels, err,
				 sizeof(err)))
			argp_error(state, "--%s %s: %s", key == OPT_USERS ? "users" : "rate", arg,
				   err);
		break;
	case 'p':
		parse_pid_option(state, arg, &a->pids, &a->n_pids);
		break;
	case OPT_SETTLE:
		if (parse_seconds(arg, &a->settle_s))
			argp_error(state, "--settle %s: expected seconds", arg);
		break;
	case OPT_THINK:
		if (parse_seconds(arg, &a->think_s))
			argp_error(state, "--think %s: expected seconds", arg);
		break;
	case 'd':
		if (parse_seconds(arg, &a->max_window_s) || a->max_window_s <= 0)
			argp_error(state, "-d %s: expected a positive number of seconds", arg);
		break;
	case 'o':
		a->output = arg;
		a->live.output = arg;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_USER:
		a->user = arg;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (quote the load command: "
			   "--load 'CMD ARGS')", arg);
		break;
	case ARGP_KEY_END:
		if (!a->flow_path)
			argp_error(state, "no flow file: use -f FILE");
		if (!a->load)
			argp_error(state, "no load command: use --load 'CMD ... {users} ...'");
		if (!a->n_levels)
			argp_error(state, "no steps: use --users 1,2,4,8 (or --rate 100,200,400)");
		if (!strstr(a->load, a->variable == SWEEP_RATE ? "{rate}" : "{users}"))
			argp_error(state, "--load: the command has no %s to replace with each "
				   "step's level", a->variable == SWEEP_RATE ? "{rate}" : "{users}");
		/* looked up before anything is attached: a typo fails at once */
		if (run_as_resolve(&a->run_as, a->user, err, sizeof(err)))
			argp_error(state, "%s%s", err, a->user && strchr(a->user, ',')
				   ? " (the steps' numbers of users are --users)" : "");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char sweep_doc[] =
	"Drive a service at several load levels with your own load command, measure every "
	"handler at each level, and compare the queueing model's predictions with what "
	"was measured.\v"
	"Examples:\n"
	"  flowprof sweep -f flows.yaml --users 1,2,4,8,16,32 -o sweep.json \\\n"
	"      --load 'wrk -t2 -c{users} -d5s http://127.0.0.1:8080/'\n"
	"  flowprof sweep -f flows.yaml --users 1,4,16,64 \\\n"
	"      --load 'redis-benchmark -q -c {users} -n 20000 -t set'\n"
	"  flowprof report sweep.json\n"
	"\nThe model is fitted on the lowest step and predicts the others (closed network, "
	"N = users, exact MVA). A step whose load command fails marks the sweep partial "
	"(exit status 1); the steps measured before it are kept. Ctrl-C stops the sweep and "
	"writes what was measured (exit status 130; SIGTERM: 143). Needs root; the load "
	"command runs as the user who ran sudo (SUDO_UID, SUDO_GID), or as --user. See "
	"docs/sweep.md.";

/* ---- the load command ----------------------------------------------------- */

struct load_run {
	pid_t pid;		/* its own process group */
	FILE *output;		/* its stdout and stderr */
	bool done;
	int status;
	bool stopped_by_us;
};

/* Starts the step's command: /bin/sh -c CMD as the sweep's user, in a
 * process group of its own, its output in a temporary file. Returns 0, or
 * -1 with *why (caller frees). */
static int start_load(const char *cmd, const struct run_as *as, struct load_run *lr,
		      char **why)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	struct spawn sp;
	struct spawn_failure f;

	memset(lr, 0, sizeof(*lr));
	lr->output = tmpfile();
	if (!lr->output) {
		*why = xasprintf("cannot create a file for its output: %s", strerror(errno));
		return -1;
	}
	if (spawn_start(&sp, argv, &(struct spawn_opts){ .file = "/bin/sh", .as = as,
							 .own_group = true, .null_stdin = true,
							 .output_fd = fileno(lr->output) })) {
		*why = xasprintf("cannot start /bin/sh: %s", strerror(errno));
		return -1;
	}
	lr->pid = sp.pid;
	if (spawn_ran(&sp, &f)) {
		char *how = f.step == SPAWN_EXEC ? NULL : run_as_failure(as, f.step, f.err);

		*why = how ? xasprintf("cannot start the load command %s", how)
			   : xasprintf("cannot start /bin/sh: %s", strerror(f.err));
		free(how);
		waitpid(lr->pid, &lr->status, 0);
		lr->done = true;
		return -1;
	}
	return 0;
}

static bool load_finished(struct load_run *lr)
{
	if (!lr->done && waitpid(lr->pid, &lr->status, WNOHANG) == lr->pid)
		lr->done = true;
	return lr->done;
}

/* Stops the load command's whole process group: TERM, then KILL after 2 s. */
static void stop_load(struct load_run *lr)
{
	uint64_t until;

	if (load_finished(lr))
		return;
	lr->stopped_by_us = true;
	kill(-lr->pid, SIGTERM);
	until = now_ns() + 2000000000ull;
	while (!load_finished(lr) && now_ns() < until)
		usleep(10000);
	if (!lr->done) {
		kill(-lr->pid, SIGKILL);
		waitpid(lr->pid, &lr->status, 0);
		lr->done = true;
	}
	kill(-lr->pid, SIGKILL); /* anything it left behind in its group */
}

/* The last OUTPUT_TAIL_BYTES of its output, from a line start. */
static char *load_output_tail(struct load_run *lr)
{
	long size;
	size_t n;
	char *buf, *start;

	fflush(lr->output);
	if (fseek(lr->output, 0, SEEK_END) || (size = ftell(lr->output)) <= 0)
		return NULL;
	n = size > OUTPUT_TAIL_BYTES ? OUTPUT_TAIL_BYTES : (size_t)size;
	buf = xcalloc(n + 1, 1);
	if (fseek(lr->output, size - (long)n, SEEK_SET) || fread(buf, 1, n, lr->output) != n) {
		free(buf);
		return NULL;
	}
	start = (size_t)size > n && strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf;
	memmove(buf, start, strlen(start) + 1);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* ---- recording ------------------------------------------------------------ */

/* The recording of the whole sweep (user/collect/live.c), and the -p processes. */
struct sweep_rec {
	struct live live;
	bool started;
	int *pidfds;
	int n_pids;
	const int *pids;
};

static void rfc3339_now(char *buf, size_t len)
{
	time_t t = time(NULL);

	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* One reading of the maps, with the header a snapshot needs. */
static void read_maps(struct sweep_rec *r, const struct sweep *sw, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	live_read(&r->live, s);
	free(s->started_at);
	s->started_at = xstrdup(sw->started_at);
}

static bool targets_gone(const struct sweep_rec *r)
{
	if (!r->n_pids)
		return false;
	for (int i = 0; i < r->n_pids; i++)
		if (!proc_has_exited(r->pids[i], r->pidfds[i]))
			return false;
	return true;
}

/* Sleeps up to ns, returning early when the load ends or a signal arrives. */
static void wait_a_little(struct load_run *lr, uint64_t until)
{
	while (now_ns() < until && !stop_signal_caught() && !load_finished(lr))
		usleep(10000);
}

static void fail_step(struct sweep *sw, struct sweep_step *st, char *reason)
{
	st->status = STEP_FAILED;
	st->reason = reason;
	sw->partial = true;
	if (!sw->stop_reason) {
		char *at = sweep_level_phrase(sw->variable, st->level);

		sw->stop_reason = xasprintf("the step at %s failed: %s", at, reason);
		free(at);
	}
}

/* Requests per second over a step's window, all flows. */
static double window_rate(const struct sweep_step *st)
{
	double n = 0;

	for (int f = 0; f < st->snap.n_flows; f++)
		n += (double)st->snap.flows[f].invocations;
	return st->window_s > 0 ? n / st->window_s : 0;
}

static int steps_measured(const struct sweep *sw)
{
	int ok = 0;

	for (int i = 0; i < sw->n_steps; i++)
		ok += sw->steps[i].status == STEP_OK;
	return ok;
}

/* Runs one step; false when the sweep must stop. *cum gets the latest
 * cumulative reading (the servers seen so far). */
static bool run_step(struct sweep_rec *r, struct sweep *sw, const struct sweep_args *a,
		     struct sweep_step *st, struct snapshot *cum)
{
	struct load_run lr = { 0 };
	struct snapshot start = { 0 }, end = { 0 };
	uint64_t t0, tw0, tw1;
	struct inflight_sampler *inflight = inflight_sampler_new(r->live.rec, r->live.ff.n_handlers,
								   INFLIGHT_INTERVAL_NS);
	char when[64], err[512], *at, *why = NULL;
	bool go_on = false;

	st->command = sweep_expand(sw->load, sw->variable, st->level);
	log_info("step %g: %s", st->level, st->command);
	if (start_load(st->command, &a->run_as, &lr, &why)) {
		fail_step(sw, st, why);
		goto cleanup;
	}
	t0 = now_ns();
	wait_a_little(&lr, t0 + (uint64_t)(a->settle_s * 1e9));
	if (stop_signal_caught())
		goto interrupted;
	if (lr.done) {
		if (WIFEXITED(lr.status) && WEXITSTATUS(lr.status) == 0)
			fail_step(sw, st, xasprintf("the load command ended within the settle "
						    "time (%g s): nothing left to measure; lower "
						    "--settle or make the load run longer",
						    a->settle_s));
		goto ended;
	}

	read_maps(r, sw, &start);
	rfc3339_now(when, sizeof(when));
	st->started_at = xstrdup(when);
	tw0 = now_ns();
	inflight_sampler_start(inflight, tw0);
	for (;;) {
		uint64_t now = now_ns();

		if (stop_signal_caught() || load_finished(&lr) || targets_gone(r))
			break;
		if (a->max_window_s > 0 && now - tw0 >= (uint64_t)(a->max_window_s * 1e9))
			break;
		live_tick(&r->live);
		usleep(5000);
	}
	tw1 = now_ns();
	inflight_sampler_stop(inflight, tw1);
	read_maps(r, sw, &end);
	if (stop_signal_caught())
		goto interrupted;
	stop_load(&lr); /* --duration reached (or the targets exited) */

	st->window_s = (double)(tw1 - tw0) / 1e9;
	if (snapshot_delta(&end, &start, &st->snap, err, sizeof(err))) {
		fail_step(sw, st, xasprintf("cannot take the step's window: %s", err));
		goto cleanup;
	}
	st->snap.duration_s = st->window_s;
	free(st->snap.started_at);
	st->snap.started_at = xstrdup(when);
	for (int h = 0; h < st->snap.n_handlers; h++)
		inflight_sampler_mean(inflight, h, &st->snap.handlers[h].inflight_mean);
	snapshot_free(cum);
	*cum = end;
	memset(&end, 0, sizeof(end));

ended:
	st->exit_status = WIFEXITED(lr.status) ? WEXITSTATUS(lr.status) : -1;
	st->signal = WIFSIGNALED(lr.status) ? WTERMSIG(lr.status) : 0;
	st->stopped_by_sweep = lr.stopped_by_us;
	if (st->reason)
		goto cleanup;
	if (targets_gone(r)) {
		fail_step(sw, st, xstrdup("every recorded process exited"));
		goto cleanup;
	}
	if (!lr.stopped_by_us && (st->exit_status != 0 || st->signal)) {
		fail_step(sw, st, st->signal ? xasprintf("the load command was killed by "
							 "signal %d", st->signal)
					     : xasprintf("the load command exited with status %d",
							 st->exit_status));
		goto cleanup;
	}
	st->status = STEP_OK;
	go_on = true;
	goto cleanup;

interrupted:
	stop_load(&lr);
	st->status = STEP_INTERRUPTED;
	st->reason = xstrdup(stop_signal_caught() == SIGINT ? "interrupted (Ctrl-C)"
							  : "interrupted (SIGTERM)");
	st->exit_status = WIFEXITED(lr.status) ? WEXITSTATUS(lr.status) : -1;
	st->signal = WIFSIGNALED(lr.status) ? WTERMSIG(lr.status) : 0;
	st->stopped_by_sweep = true;
	sw->partial = sw->interrupted = true;
	if (!sw->stop_reason)
		sw->stop_reason = xstrdup(st->reason);

cleanup:
	if (lr.pid > 0)
		kill(-lr.pid, SIGKILL); /* whatever the load command left running in its group */
	if (lr.output) {
		if (st->status == STEP_FAILED || log_verbosity > 0) {
			char *tail = load_output_tail(&lr);

			if (tail && *tail)
				fprintf(stderr, "flowprof: output of '%s':\n%s\n", st->command, tail);
			if (st->status == STEP_FAILED)
				st->output_tail = tail;
			else
				free(tail);
		}
		fclose(lr.output);
	}
	at = sweep_level_phrase(sw->variable, st->level);
	if (st->status == STEP_OK)
		fprintf(stderr, "flowprof: %s: %.1f requests/s over %.1f s\n", at, window_rate(st),
			st->window_s);
	else if (st->status == STEP_FAILED)
		log_error("%s: %s", at, st->reason);
	free(at);
	snapshot_free(&start);
	snapshot_free(&end);
	inflight_sampler_free(inflight);
	return go_on;
}

static int prepare(struct sweep_rec *r, const struct sweep_args *a)
{
	struct live_opts lo = a->live;

	lo.flow_path = a->flow_path;
	lo.pids = a->pids;
	lo.n_pids = a->n_pids;
	if (live_start(&r->live, &lo))
		return -1;
	r->started = true;
	r->n_pids = a->n_pids;
	r->pids = a->pids;
	r->pidfds = xcalloc((size_t)a->n_pids + 1, sizeof(int));
	for (int i = 0; i < a->n_pids; i++)
		r->pidfds[i] = proc_open_pidfd(a->pids[i]);
	{
		char *tail = a->run_as.drop ? xasprintf("%d steps, the load command as %s; Ctrl-C "
							"to stop", a->n_levels, a->run_as.label)
					    : xasprintf("%d steps; Ctrl-C to stop", a->n_levels);

		print_recording_started(&r->live, "recording", false, "", tail);
		free(tail);
	}
	run_as_note(&a->run_as, "the load command");
	return 0;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_args a = { .settle_s = 1.0, .think_s = NAN,
				.live = { .cmd = "sweep", .mode = ATTACH_AUTO,
				.permitted = require_bpf_capabilities } };
	struct argp argp = { sweep_options, parse_sweep, NULL, sweep_doc, sweep_children, NULL, NULL };
	struct sweep_rec r = { 0 };
	struct sweep sw = { 0 };
	struct snapshot cum = { 0 };
	struct utsname u;
	char when[64];
	int rc = EXIT_ERROR;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	if (prepare(&r, &a))
		goto cleanup;

	catch_stop_signals();

	uname(&u);
	rfc3339_now(when, sizeof(when));
	sw.version = SWEEP_VERSION;
	sw.host = xstrdup(u.nodename);
	sw.kernel = xstrdup(u.release);
	sw.started_at = xstrdup(when);
	sw.flow_file = xstrdup(a.flow_path);
	sw.load = xstrdup(a.load);
	sw.variable = a.variable;
	sw.settle_s = a.settle_s;
	sw.think_s = a.think_s;
	sw.max_window_s = a.max_window_s;
	sw.n_levels = a.n_levels;
	sw.levels = xcalloc((size_t)a.n_levels, sizeof(double));
	memcpy(sw.levels, a.levels, (size_t)a.n_levels * sizeof(double));
	sw.steps = xcalloc((size_t)a.n_levels, sizeof(*sw.steps));

	for (int i = 0; i < a.n_levels; i++) {
		struct sweep_step *st = &sw.steps[sw.n_steps++];

		st->level = a.levels[i];
		if (!run_step(&r, &sw, &a, st, &cum))
			break;
	}
	live_detach(&r.live);
	if (sw.n_steps < a.n_levels)
		sw.partial = true;

	if (sweep_analyze(&sw, cum.n_bundles ? &cum : NULL))
		log_warn("no model: %s", sw.fit_error);
	if (a.output) {
		if (sweep_write(&sw, a.output)) {
			log_error("cannot write %s: %s (any previous file is intact)", a.output,
				  strerror(errno));
			goto cleanup;
		}
		fprintf(stderr, "flowprof: wrote %s: %d of %d steps measured%s\n", a.output,
			steps_measured(&sw), a.n_levels, sw.partial ? " (partial)" : "");
	}
	if (a.json) {
		char *doc = sweep_to_json(&sw, true);

		fputs(doc, stdout);
		free(doc);
	} else {
		sweep_print_table(stdout, &sw, !locale_is_utf8());
	}
	rc = exit_status_after_stop(sw.partial ? EXIT_ERROR : EXIT_OK);

cleanup:
	if (r.started)
		live_stop(&r.live);
	for (int i = 0; r.pidfds && i < r.n_pids; i++)
		if (r.pidfds[i] >= 0)
			close(r.pidfds[i]);
	free(r.pidfds);
	snapshot_free(&cum);
	sweep_free(&sw);
	run_as_free(&a.run_as);
	free(a.levels);
	free(a.pids);
	return rc;
}
