// SPDX-License-Identifier: MIT
/*
 * `flowprof serve`: attach like record, then answer Prometheus scrapes
 * (OpenMetrics over HTTP, metrics.h) until stopped. A scrape reads the maps
 * afresh unless another did less than --min-interval ago: counters are
 * cumulative since the start, as Prometheus expects, and rate() turns them
 * into per-second figures.
 */
#include <argp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "collect/collect.h"
#include "commands.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
#include "subcommand.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"

struct serve_args {
	struct live_opts live;
	int *pids;
	struct metrics_endpoint endpoint;	/* --listen, TLS, token (serve_endpoint_argp) */
	double duration_s;	/* 0: until Ctrl-C or SIGTERM */
	const char *output;
};

static const struct argp_option serve_options[] = {
	{ "flows", 'f', "FILE", 0, "Flow definition file (YAML; see flowprof(1))", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Record only these processes", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: Ctrl-C or SIGTERM)", 0 },
	{ "output", 'o', "FILE", 0, "When stopping, write everything recorded to FILE (JSON, as "
	  "record -o)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more (repeat for libbpf debug output)", 0 },
	{ 0 },
};

static const struct argp_child serve_children[] = {
	{ &serve_endpoint_argp, 0, "The metrics endpoint:", 1 },
	{ &live_attach_argp, 0, "How to attach:", 2 },
	{ 0 },
};

static error_t parse_serve(int key, char *arg, struct argp_state *state)
{
	struct serve_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->endpoint;
		state->child_inputs[1] = &a->live;
		break;
	case 'f':
		a->live.flow_path = arg;
		break;
	case 'p':
		parse_pid_option(state, arg, &a->pids, &a->live.n_pids);
		a->live.pids = a->pids;
		break;
	case 'd':
		if (parse_seconds(arg, &a->duration_s) || a->duration_s <= 0)
			argp_error(state, "-d %s: expected a positive number of seconds", arg);
		break;
	case 'o':
		a->output = arg;
		a->live.output = arg;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (serve watches running processes: "
			   "-p PID)", arg);
		break;
	case ARGP_KEY_END:
		if (!a->live.flow_path)
			argp_error(state, "no flow file: use -f FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char serve_doc[] =
	"Serve live handler metrics to Prometheus (OpenMetrics text over HTTP).\v"
	"Attaches like 'flowprof record', then answers GET /metrics with counters that\n"
	"grow from the start: per handler calls, a duration histogram in seconds, self\n"
	"and on-CPU time; per flow invocations and nested calls; per process calls.\n"
	"It listens on the loopback interface only, unless --allow-remote is given:\n"
	"the metrics name the service's internal functions. Off this host, protect\n"
	"them with TLS (--tls-cert, --tls-key) and a bearer token (--token-file).\n"
	"The maps are read at most once per --min-interval, however many requests\n"
	"come. The metrics are listed in flowprof(1), section METRICS.\n"
	"\n"
	"Examples:\n"
	"  sudo flowprof serve -f flows.yaml\n"
	"      every process of the bundles' executables; http://127.0.0.1:9464/metrics\n"
	"  sudo flowprof serve -f flows.yaml -p 4242 --listen :9464 --allow-remote \\\n"
	"        --tls-cert cert.pem --tls-key key.pem --token-file token\n"
	"      process 4242, on every address of the host, over HTTPS with a token\n"
	"  curl -s http://127.0.0.1:9464/metrics | promtool check metrics\n"
	"\n"
	"A Prometheus scrape job (the second form for TLS and a token):\n"
	"  scrape_configs:\n"
	"    - job_name: flowprof\n"
	"      static_configs: [{ targets: ['127.0.0.1:9464'] }]\n"
	"    - job_name: flowprof-tls\n"
	"      scheme: https\n"
	"      tls_config: { ca_file: cert.pem }\n"
	"      authorization: { credentials_file: token }\n"
	"      static_configs: [{ targets: ['web-1:9464'] }]\n"
	"\nExit status: 0 when stopped by Ctrl-C, SIGTERM or -d; 1 on an error (the\n"
	"address is in use, ...); 2 on a bad command line. See flowprof(1).";

struct serve_state {
	struct live live;
	atomic_bool ready;	/* live is started: scrapes may read it */
	struct metrics_window window;	/* the model's gauges: since the last scrape */
};

static int collect_live(void *ctx, struct snapshot *s, struct metrics_extra *x)
{
	struct serve_state *st = ctx;

	if (!atomic_load(&st->ready))
		return -1; /* 503 while attaching */
	if (live_collect(&st->live, s))
		return -1;
	metrics_window_model(&st->window, s, x);
	return 0;
}

static void release_extra(void *ctx, struct metrics_extra *x)
{
	(void)ctx;
	metrics_extra_free(x);
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = { .endpoint = { .listen = DEFAULT_LISTEN,
					      .min_interval_s = METRICS_MIN_INTERVAL_S },
				.live = { .cmd = "serve", .mode = ATTACH_AUTO,
					  .permitted = require_bpf_capabilities } };
	struct argp argp = { serve_options, parse_serve, NULL, serve_doc, serve_children, NULL, NULL };
	struct metrics_server *srv = NULL;
	struct serve_state st = { 0 };
	struct live *live = &st.live;
	bool started = false;
	int rc = EXIT_ERROR;
	char err[512];

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;

	catch_stop_signals();
	/* Bind first: a busy port fails before anything is attached. */
	srv = metrics_server_start(&a.endpoint, collect_live, release_extra, &st, err, sizeof(err));
	if (!srv) {
		log_error("%s", err);
		goto cleanup;
	}
	if (live_start(live, &a.live))
		goto cleanup;
	started = true;
	atomic_store(&st.ready, true);
	{
		char *on = xasprintf(" on %s", metrics_server_url(srv));

		print_recording_started(live, "serving", true, on, "Ctrl-C to stop");
		free(on);
	}

	while (!stop_signal_caught()) {
		if (a.duration_s > 0 && now_ns() - live->t_start >= (uint64_t)(a.duration_s * 1e9))
			break;
		live_tick(live);
		usleep(50000);
	}
	fprintf(stderr, "flowprof: stopping after %llu scrapes (%llu readings of the maps)\n",
		(unsigned long long)metrics_server_scrapes(srv),
		(unsigned long long)metrics_server_collections(srv));
	metrics_server_stop(srv);
	srv = NULL;
	rc = EXIT_OK;
	if (a.output) {
		struct snapshot s = { 0 };

		/* The window ends when the maps are read, before the slow detach. */
		live_disarm(live);
		if (live_collect(live, &s)) {
			rc = EXIT_ERROR;
		} else {
			live_detach(live);
			s.detach_ms = live_info(live)->detach_ms;
			if (snapshot_write(&s, a.output)) {
				log_error("cannot write snapshot %s: %m (any previous file is intact)",
					  a.output);
				rc = EXIT_ERROR;
			} else {
				fprintf(stderr, "flowprof: wrote %s (%.1f s; detach %.1f ms)\n",
					a.output, s.duration_s, live_info(live)->detach_ms);
			}
		}
		snapshot_free(&s);
	}

cleanup:
	metrics_server_stop(srv);
	metrics_window_free(&st.window);
	if (started)
		live_stop(live);
	free(a.pids);
	return rc;
}
