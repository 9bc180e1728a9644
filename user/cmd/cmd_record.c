// SPDX-License-Identifier: MIT
/*
 * `flowprof record`: the whole pipeline on a live host (user/collect/live.c: flow
 * file -> resolve -> attach -> calibrate), then wait, sampling calls in
 * flight once per interval, collect the window and write the snapshot.
 * Ctrl-C and SIGTERM stop the recording and still write everything
 * measured so far.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/attach.h"
#include "base/base.h"
#include "collect/collect.h"
#include "commands.h"
#include "model/model.h"
#include "probe/probe.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
#include "spawn.h"
#include "subcommand.h"

struct record_args {
	const char *flow_path;
	int *pids;
	int n_pids;
	double duration_s;	/* 0: until Ctrl-C, or until the targets exit */
	double unprobed_s;	/* --unprobed: < 0 auto, 0 never */
	double interval_s;
	const char *output;	/* NULL: print the report instead */
	bool json;
	struct live_opts live;	/* --mode, --no-oncpu, --max-instances (live_attach_argp) */
	char **cmd;		/* after `--` */
	const char *user;	/* --user USER[:GROUP]: who the command runs as */
	struct run_as run_as;	/* ... resolved (run_as.h) */
	struct metrics_endpoint endpoint; /* --listen: serve live metrics while recording */
};

enum {
	OPT_JSON = 0x100,
	OPT_USER,
	OPT_UNPROBED,
};

static const struct argp_option record_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow file (YAML: docs/flow-file.md)", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Record only these processes", 0 },
	{ "duration", 'd', "SECONDS", 0,
	  "Stop after SECONDS (default: Ctrl-C, or when the recorded processes exit)", 0 },
	{ "unprobed", OPT_UNPROBED, "SECONDS", 0,
	  "With -d: after the recording, measure the processes' CPU time SECONDS more "
	  "without probes, for the model's CPU demand (default: 0.5-2 s when the probes took "
	  "over half of a bundle's CPU time; 0: never)", 0 },
	{ "interval", 'i', "SECONDS", 0,
	  "Sample in-flight calls every SECONDS (default 0.1, longer with over 50 handlers)", 0 },
	{ "output", 'o', "FILE", 0, "Write the snapshot to FILE (JSON, mode 0600, atomic); "
	  "without -o the report is printed", 0 },
	{ "json", OPT_JSON, NULL, 0, "Without -o: print the snapshot JSON instead of the table", 0 },
	{ "user", OPT_USER, "USER[:GROUP]", 0,
	  "Run the command after -- as USER (default: the user who ran sudo; flowprof's own "
	  "user without sudo)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more (repeat for libbpf debug output)", 0 },
	{ 0 },
};

static const struct argp_child record_children[] = {
	{ &live_attach_argp, 0, "How to attach:", 1 },
	{ &record_endpoint_argp, 0, "Live metrics while recording:", 2 },
	{ 0 },
};

static error_t parse_record(int key, char *arg, struct argp_state *state)
{
	struct record_args *a = state->input;
	char err[512];

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->live;
		state->child_inputs[1] = &a->endpoint;
		break;
	case 'f':
		a->flow_path = arg;
		break;
	case 'p':
		parse_pid_option(state, arg, &a->pids, &a->n_pids);
		break;
	case 'd':
		if (parse_seconds(arg, &a->duration_s) || a->duration_s <= 0)
			argp_error(state, "-d %s: expected a positive number of seconds", arg);
		break;
	case 'i':
		if (parse_seconds(arg, &a->interval_s) || a->interval_s < 0.01)
			argp_error(state, "-i %s: expected seconds, at least 0.01", arg);
		break;
	case 'o':
		a->output = arg;
		a->live.output = arg;
		break;
	case 'v':
		log_verbosity++;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_USER:
		a->user = arg;
		break;
	case OPT_UNPROBED:
		if (parse_seconds(arg, &a->unprobed_s) || a->unprobed_s < 0 || a->unprobed_s > 600)
			argp_error(state, "--unprobed %s: expected seconds, 0 to 600", arg);
		break;
	case ARGP_KEY_ARGS:
		a->cmd = state->argv + state->next;
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!a->flow_path)
			argp_error(state, "no flow file: use -f FILE");
		if (a->cmd && a->n_pids)
			argp_error(state, "-p and a command (-- CMD) cannot be combined");
		if (a->unprobed_s > 0 && !a->duration_s)
			argp_error(state, "--unprobed measures after a recording of known length: "
				   "give -d SECONDS too");
		if (a->user && !a->cmd)
			argp_error(state, "--user %s: it names who runs a command, and there is none "
				   "(-- CMD)", a->user);
		/* looked up before anything is attached: a typo fails at once */
		if (a->cmd && run_as_resolve(&a->run_as, a->user, err, sizeof(err)))
			argp_error(state, "%s", err);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char record_doc[] =
	"Attach to running processes and measure every handler of a flow file.\v"
	"Examples:\n"
	"  flowprof record -f flows.yaml -p 4242 -d 30 -o snap.json\n"
	"      profile process 4242 for 30 s, write the snapshot\n"
	"  flowprof record -f flows.yaml -d 10\n"
	"      every process of the bundles' executables for 10 s; print the report\n"
	"  flowprof record -f flows.yaml -o snap.json -- ./shop --port 8080\n"
	"      start a command, record it until it exits (or Ctrl-C)\n"
	"  sudo flowprof record -f flows.yaml --user www-data -- ./shop\n"
	"      the same, the command running as www-data\n"
	"\nRecording needs root (CAP_BPF and CAP_PERFMON). Ctrl-C and SIGTERM stop it and\n"
	"still write the snapshot (exit status 130 / 143).\n"
	"With -- COMMAND, the exit status is the command's when it exits during the\n"
	"recording (128+N when killed by signal N; the snapshot is written all the\n"
	"same); 127 when the command is not found and 126 when it cannot be run:\n"
	"then nothing is recorded and no snapshot written. The command runs as the user\n"
	"who ran sudo (SUDO_UID, SUDO_GID), or as --user; as root only when flowprof\n"
	"was started as root without sudo. See flowprof(1).";

static bool stopped(void)
{
	return stop_signal_caught() != 0;
}

/* The window's last part, whose calls give the rate an unprobed
 * measurement after the recording is taken to run at. */
static double late_part_s(const struct record_args *a)
{
	return fmin(1.0, a->duration_s / 4);
}

/*
 * --unprobed: the bundles' CPU time right after the recording, probes
 * detached. The model takes its CPU demand from it rather than from the
 * CPU time less the probes' calibrated cost, a small difference of two
 * large numbers when the probes took most of it, and an uncertain one when
 * their calibration spreads wide (MODEL_PROBE_DOUBT): on one of our hosts a
 * probe pair cost 0.4 us in a tight loop and 11 us with cold caches, and
 * redis's demand read 36 % high from the middle figure. By default only
 * then.
 */
static void measure_unprobed(const struct record_args *a, struct live *live,
			     struct snapshot *snap)
{
	const char *heavy, *doubtful;
	double share = live_probe_share(snap, &heavy), doubt = model_probe_doubt(snap, &doubtful);
	double s = a->unprobed_s;

	if (s < 0)
		s = share > MODEL_PROBE_HEAVY || doubt > MODEL_PROBE_DOUBT
			    ? fmin(2.0, fmax(0.5, 0.2 * a->duration_s)) : 0;
	if (!(s > 0) || stop_signal_caught())
		return;
	if (a->unprobed_s < 0 && share > MODEL_PROBE_HEAVY)
		log_note("the probes took %.0f%% of %s's CPU time: measuring the bundles' CPU time "
			 "%.1f s more without them (--unprobed 0: not)", 100 * share,
			 heavy ? heavy : "a bundle", s);
	else if (a->unprobed_s < 0)
		log_note("the probes' calibrated cost on this host is uncertain by up to %.0f%% of "
			 "%s's CPU time without them: measuring the bundles' CPU time %.1f s more "
			 "without them (--unprobed 0: not)", 100 * fmin(doubt, 9.99),
			 doubtful ? doubtful : "a bundle", s);
	if (live_unprobed(live, snap, s, stopped))
		log_info("no unprobed measurement (stopped, or the window had no late part)");
}

/* The exit status for a command that cannot be started, as shells use them:
 * 127 not found, 126 found but not executable. */
static int cannot_run_status(int err)
{
	return err == ENOENT || err == ENOTDIR ? EXIT_CMD_NOT_FOUND : EXIT_CMD_CANNOT_RUN;
}

static int exec_error(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK))
		return EACCES;
	return 0;
}

/* Why execvp(name) would fail, looked up as it does (PATH when name has no
 * '/'), so that a typo fails before anything is attached: 0, or an errno. */
static int command_error(const char *name)
{
	const char *path = getenv("PATH");
	int err = ENOENT;

	if (!*name)
		return ENOENT;
	if (strchr(name, '/'))
		return exec_error(name);
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		char *file = n ? xasprintf("%.*s/%s", (int)n, p, name) : xstrdup(name);
		int e = exec_error(file);

		free(file);
		if (!e)
			return 0;
		if (e == EACCES)
			err = EACCES; /* as execvp: reported unless found later */
		p += n;
		if (!*p)
			return err;
	}
}

/* "CMD exited with status N", "CMD was killed by signal N (SIGX)", or NULL
 * when it exited with status 0. Caller frees. */
static char *command_outcome(const char *cmd, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status))
		return xasprintf("%s exited with status %d", cmd, WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xasprintf("%s was killed by signal %d (SIG%s)", cmd, WTERMSIG(status),
				 sigabbrev_np(WTERMSIG(status)));
	return NULL;
}

static int output_snapshot(const struct snapshot *s, const struct record_args *a)
{
	if (a->output) {
		if (snapshot_write(s, a->output)) {
			log_error("cannot write snapshot %s: %s (any previous file is intact)",
				  a->output, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (a->json) {
		char *doc = snapshot_to_json(s, true);

		fputs(doc, stdout);
		free(doc);
	} else {
		struct report_opts ro = { .ascii = !locale_is_utf8(), .verbose = true };

		report_print_table(stdout, s, &ro);
	}
	return 0;
}

/* ---- --listen: live metrics while recording (metrics.h) ------------------ */

struct record_metrics {
	atomic_bool ready;	/* the window is open */
	struct live *live;
	struct metrics_window window;	/* the model's gauges: since the last scrape */
};

/* One scrape: the window so far, as the snapshot at the end will count it. */
static int record_metrics_collect(void *ctx, struct snapshot *s, struct metrics_extra *x)
{
	struct record_metrics *m = ctx;

	if (!atomic_load(&m->ready))
		return -1; /* 503 until the probes are in place */
	if (live_collect(m->live, s))
		return -1;
	metrics_window_model(&m->window, s, x);
	return 0;
}

static void record_metrics_release(void *ctx, struct metrics_extra *x)
{
	(void)ctx;
	metrics_extra_free(x);
}

/* Why the recording ends on its own: the command or the -p processes exited. */
static bool targets_done(const struct record_args *a, pid_t child, bool *child_done,
			 int *child_status, const int *pidfds)
{
	if (child > 0) {
		struct rusage ru;

		if (*child_done || wait4(child, child_status, WNOHANG, &ru) != child)
			return false;
		*child_done = true;
		/* its CPU time, exactly: it is gone from /proc now */
		collect_cpu_final(child, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
					 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
		return true;
	}
	if (!a->n_pids)
		return false;
	for (int i = 0; i < a->n_pids; i++)
		if (!proc_has_exited(a->pids[i], pidfds[i]))
			return false;
	log_info("every recorded process has exited");
	return true;
}

int cmd_record(int argc, char **argv)
{
	struct record_args a = { .unprobed_s = -1,
				 .live = { .cmd = "record", .mode = ATTACH_AUTO,
				.permitted = require_bpf_capabilities },
				 .endpoint = { .min_interval_s = METRICS_MIN_INTERVAL_S } };
	struct argp argp = { record_options, parse_record, "[-- COMMAND [ARG...]]", record_doc,
			     record_children, NULL, NULL };
	struct live live = { 0 };
	struct snapshot snap = { 0 };
	struct record_metrics metrics = { .live = &live };
	struct metrics_server *srv = NULL;
	struct spawn sp = { .pid = -1, .go_fd = -1, .status_fd = -1 };
	int *pidfds = NULL, child_status = 0, rc = EXIT_ERROR;
	pid_t child = -1;
	bool child_done = false, started = false, timed_out = false, held = false;
	struct inflight_sampler *inflight = NULL;
	char err[1024], *outcome = NULL;

	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &a))
		return EXIT_USAGE;
	/* from the start: a Ctrl-C while attaching stops the recording as it
	 * opens (a snapshot, exit 130), not flowprof halfway (a second one does) */
	catch_stop_signals();
	if (a.endpoint.listen) { /* bind first: a busy port fails before anything is attached */
		srv = metrics_server_start(&a.endpoint, record_metrics_collect,
					   record_metrics_release, &metrics, err, sizeof(err));
		if (!srv) {
			log_error("%s", err);
			goto cleanup;
		}
	}
	if (a.cmd) {
		int e = command_error(a.cmd[0]);

		if (e) { /* before anything is attached */
			log_error("cannot run %s: %s", a.cmd[0],
				  e == ENOENT && !strchr(a.cmd[0], '/') ? "command not found in PATH"
				  : strerror(e));
			rc = cannot_run_status(e);
			goto cleanup;
		}
		/* paused: it runs once its probes are attached */
		if (spawn_start(&sp, a.cmd, &(struct spawn_opts){ .as = &a.run_as, .paused = true,
								  .output_fd = -1 })) {
			log_error("cannot start %s: %s", a.cmd[0], strerror(errno));
			goto cleanup;
		}
		child = sp.pid;
	}
	a.live.flow_path = a.flow_path;
	a.live.pids = a.pids;
	a.live.n_pids = a.n_pids;
	a.live.command_pid = child > 0 ? child : 0;
	if (live_start(&live, &a.live))
		goto cleanup;
	started = true;

	pidfds = xcalloc((size_t)a.n_pids + 1, sizeof(int));
	for (int i = 0; i < a.n_pids; i++)
		pidfds[i] = proc_open_pidfd(a.pids[i]);

	/* The command goes first: one whose exec still fails is said before
	 * anyone is told the recording runs (the window is open already). */
	held = child > 0 && stop_signal_caught(); /* stopped while attaching: never run */
	if (child > 0 && !held) {
		struct spawn_failure f;

		if (spawn_release(&sp))
			log_warn("cannot release the command: %s", strerror(errno));
		/* the exec failed after all (the check above passed), or the
		 * switch to its user did: no snapshot of a command that never ran */
		if (spawn_ran(&sp, &f)) {
			char *why = f.step == SPAWN_EXEC ? NULL : run_as_failure(&a.run_as, f.step,
										   f.err);

			if (why)
				log_error("cannot run %s %s", a.cmd[0], why);
			else /* the file is there: its #! interpreter or ELF loader is not */
				log_error("cannot run %s: %s%s", a.cmd[0],
					  f.err == ENOENT ? "its #! interpreter or ELF loader: " : "",
					  strerror(f.err));
			free(why);
			waitpid(child, NULL, 0);
			child_done = true;
			rc = f.step == SPAWN_EXEC ? cannot_run_status(f.err) : EXIT_CMD_CANNOT_RUN;
			goto cleanup;
		}
	}

	/* Announced only once the window is open (live_start read its
	 * baseline): a caller that waits for this line has every call inside. */
	{
		char *after = !a.cmd || held ? xstrdup("")
			      : a.run_as.drop ? xasprintf(" (starting the command as %s)",
							   a.run_as.label)
			      : xstrdup(" (starting the command)");

		print_recording_started(&live, "recording", true, after, "Ctrl-C to stop");
		free(after);
		if (held)
			log_note("stopped while attaching: %s was not run", a.cmd[0]);
		else if (a.cmd)
			run_as_note(&a.run_as, a.cmd[0]);
	}
	if (srv) {
		atomic_store(&metrics.ready, true);
		fprintf(stderr, "flowprof: serving live metrics on %s\n", metrics_server_url(srv));
	}

	/* Each sample reads every handler's per-CPU counters: keep that to a
	 * few MB/s when the flow file is large. */
	if (!a.interval_s)
		a.interval_s = 0.1 * (live.ff.n_handlers > 50 ? live.ff.n_handlers / 50.0 : 1.0);
	inflight = inflight_sampler_new(live.rec, live.ff.n_handlers,
					(uint64_t)(a.interval_s * 1e9));
	inflight_sampler_start(inflight, now_ns());
	while (!stop_signal_caught()) {
		uint64_t now = now_ns();

		if (a.duration_s > 0 && now - live.t_start >= (uint64_t)(a.duration_s * 1e9)) {
			timed_out = true;
			break;
		}
		/* the window's late part, whose rate an unprobed measurement after it
		 * is taken to run at */
		if (a.duration_s > 0 && a.unprobed_s && !live.mark_calls[0] &&
		    now - live.t_start >= (uint64_t)((a.duration_s - late_part_s(&a)) * 1e9))
			live_mark(&live, 0);
		live_tick(&live);
		if (targets_done(&a, child, &child_done, &child_status, pidfds))
			break;
		/* every 20 ms, and at the window's end */
		usleep(a.duration_s > 0 ? (useconds_t)fmin(20000, fmax(0, a.duration_s * 1e6 -
				(double)(now_ns() - live.t_start) / 1e3)) : 20000);
	}
	inflight_sampler_stop(inflight, now_ns());
	metrics_server_stop(srv);
	srv = NULL;
	/* The window closes before the detach: calls during it are not counted,
	 * nor those that end while the maps are read. */
	live_disarm(&live);
	if (timed_out && live.mark_calls[0])
		live_mark(&live, 1);
	if (live_collect(&live, &snap))
		goto cleanup;
	/* The window's baseline is spent (the metrics server, its only other
	 * reader, has stopped): its memory goes before the snapshot's text. */
	snapshot_start_free(&live.base);
	live_detach(&live);
	for (int h = 0; h < snap.n_handlers; h++)
		inflight_sampler_mean(inflight, h, &snap.handlers[h].inflight_mean);
	snap.detach_ms = live_info(&live)->detach_ms;
	if (timed_out && !child_done)
		measure_unprobed(&a, &live, &snap);

	if (output_snapshot(&snap, &a))
		goto cleanup;
	if (child_done)
		outcome = command_outcome(a.cmd[0], child_status);
	if (a.output) {
		uint64_t calls = 0;

		for (int h = 0; h < snap.n_handlers; h++)
			calls += snap.handlers[h].calls;
		fprintf(stderr, "flowprof: wrote %s: %d handlers, %llu calls in %.1f s "
			"(attach %.1f ms, detach %.1f ms)%s%s\n",
			a.output, snap.n_handlers, (unsigned long long)calls, snap.duration_s,
			live_info(&live)->attach_ms, live_info(&live)->detach_ms, outcome ? "; " : "",
			outcome ? outcome : "");
	} else if (outcome) {
		log_note("%s", outcome);
	}
	rc = exit_status_after_stop(EXIT_OK);
	/* As time(1) and perf record: the command's own exit status, 128+N
	 * when a signal N ended it. */
	if (!stop_signal_caught() && child_done)
		rc = WIFEXITED(child_status) ? WEXITSTATUS(child_status)
		     : WIFSIGNALED(child_status) ? 128 + WTERMSIG(child_status) : EXIT_ERROR;

cleanup:
	metrics_server_stop(srv);
	metrics_window_free(&metrics.window);
	spawn_close(&sp); /* an unreleased command exits without running */
	if (child > 0 && !child_done && rc == EXIT_ERROR)
		waitpid(child, NULL, 0);
	free(outcome);
	if (started)
		live_stop(&live);
	for (int i = 0; pidfds && i < a.n_pids; i++)
		if (pidfds[i] >= 0)
			close(pidfds[i]);
	free(pidfds);
	inflight_sampler_free(inflight);
	snapshot_free(&snap);
	run_as_free(&a.run_as);
	free(a.pids);
	return rc;
}
