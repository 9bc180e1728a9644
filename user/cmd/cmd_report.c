// SPDX-License-Identifier: MIT
/*
 * `flowprof report`: a snapshot as tables (default) or JSON. Works offline,
 * without root, far from the host that recorded it.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "commands.h"
#include "fleet/fleet.h"
#include "model/model.h"
#include "report/report.h"
#include "snapshot/snapshot.h"

struct report_args {
	const char *input;
	bool json;
	bool no_model;
	struct model_opts model;
	const char *html;	/* --html FILE, --dot FILE: html_report.c */
	const char *dot;
	const char *model_opt;	/* the first model option given ("--target"), for sweeps */
	bool verbose;		/* -v: every section of the report */
	bool closed;		/* --users or --think: the closed workload's table */
	struct fleet_query fleet;	/* --prometheus, --job, --window, --at */
	const char *at;		/* --at as given, for errors */
};

enum {
	OPT_JSON = 0x100,
	OPT_NO_MODEL,
	OPT_TARGET,
	OPT_SCALE,
	OPT_INSTANCES,
	OPT_WORKERS,
	OPT_UTIL_LIMIT,
	OPT_USERS,
	OPT_THINK,
	OPT_HTML,
	OPT_DOT,
	OPT_PROMETHEUS,
	OPT_JOB,
	OPT_WINDOW,
	OPT_AT,
};

#define DEFAULT_WINDOW_S 300.0

static const struct argp_option report_options[] = {
	{ "json", OPT_JSON, NULL, 0,
	  "Print the whole snapshot document as JSON, with the model as \"model\"", 0 },
	{ "no-model", OPT_NO_MODEL, NULL, 0, "Only the measurements (corrected for the probes' cost): no queueing model", 0 },
	{ NULL, 0, NULL, 0, "Model (docs/model.md); the default is the measured load:", 1 },
	{ "target", OPT_TARGET, "FLOW=RATE", 0,
	  "Model FLOW at RATE (e.g. checkout=800/s, browse=2.4k/s); repeatable", 1 },
	{ "scale", OPT_SCALE, "FACTOR", 0, "Multiply every measured flow rate (e.g. 2)", 1 },
	{ "instances", OPT_INSTANCES, "BUNDLE=N", 0, "Run N instances (processes) of BUNDLE", 1 },
	{ "workers", OPT_WORKERS, "BUNDLE=N", 0, "Give each instance of BUNDLE N workers", 1 },
	{ "util-limit", OPT_UTIL_LIMIT, "U", 0,
	  "Size stations for utilization <= U (default 0.7, or 70%)", 1 },
	{ "users", OPT_USERS, "N[,N...]", 0, "Closed workload: these user counts (MVA curve)", 1 },
	{ "think", OPT_THINK, "SECONDS", 0, "Closed workload: think time per user (default 0)", 1 },
	{ "html", OPT_HTML, "FILE", 0,
	  "Write a self-contained HTML report to FILE: flow graph, latency histograms, the model "
	  "with throughput sliders (instead of the table)", 2 },
	{ "dot", OPT_DOT, "FILE", 0,
	  "Write the flow graph to FILE for Graphviz, e.g. dot -Tsvg FILE (instead of the table)",
	  2 },
	{ "verbose", 'v', NULL, 0,
	  "Every section: the flows' visits, the call graph, each station, the demands, "
	  "predicted response times, the closed workload and the self-checks", 0 },
	{ NULL, 0, NULL, 0, "A fleet, from the Prometheus that scrapes its flowprof endpoints "
	  "(docs/fleet.md), instead of SNAPSHOT:", 3 },
	{ "prometheus", OPT_PROMETHEUS, "URL", 0,
	  "The Prometheus server, e.g. http://prom:9090", 3 },
	{ "job", OPT_JOB, "NAME", 0, "The scrape job of the flowprof endpoints (serve, record "
	  "--listen)", 3 },
	{ "window", OPT_WINDOW, "DURATION", 0, "The window to model, ending at --at (default 5m; "
	  "e.g. 90s, 1h)", 3 },
	{ "at", OPT_AT, "TIME", 0, "The window's end: Unix seconds or RFC 3339 (default: now)", 3 },
	{ 0 },
};

static error_t parse_report(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_NO_MODEL:
		a->no_model = true;
		if (!a->model_opt)
			a->model_opt = "--no-model";
		break;
	case OPT_TARGET:
	case OPT_SCALE:
	case OPT_INSTANCES:
	case OPT_WORKERS:
	case OPT_UTIL_LIMIT:
	case OPT_USERS:
	case OPT_THINK: {
		static const char *const names[] = { "target", "scale", "instances", "workers",
						     "util-limit", "users", "think" };
		char err[256];

		if (model_parse_option(&a->model, names[key - OPT_TARGET], arg, err, sizeof(err)))
			argp_error(state, "%s", err);
		a->closed |= key == OPT_USERS || key == OPT_THINK;
		if (!a->model_opt) {
			static const char *const opts[] = { "--target", "--scale", "--instances",
							    "--workers", "--util-limit", "--users",
							    "--think" };

			a->model_opt = opts[key - OPT_TARGET];
		}
		break;
	}
	case OPT_HTML:
		a->html = arg;
		break;
	case OPT_DOT:
		a->dot = arg;
		break;
	case OPT_PROMETHEUS:
		a->fleet.url = arg;
		break;
	case OPT_JOB:
		a->fleet.job = arg;
		break;
	case OPT_WINDOW:
		if (parse_seconds(arg, &a->fleet.window_s) || !(a->fleet.window_s >= 1))
			argp_error(state, "--window %s: expected a duration of at least 1 s, e.g. "
				   "300, 90s, 5m or 1h", arg);
		break;
	case OPT_AT:
		if (fleet_parse_time(arg, &a->fleet.end))
			argp_error(state, "--at %s: expected Unix seconds (1700000000.5) or an "
				   "RFC 3339 time (2026-11-22T23:41:59Z)", arg);
		a->at = arg;
		break;
	case 'v':
		a->verbose = true;
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		if (a->input)
			argp_error(state, "one snapshot at a time (use 'flowprof merge' to combine)");
		a->input = arg;
		break;
	case ARGP_KEY_END:
		if (a->fleet.url && a->input)
			argp_error(state, "a snapshot (%s) or --prometheus, not both", a->input);
		if (!a->fleet.url && (a->fleet.job || a->fleet.window_s || a->at))
			argp_error(state, "%s applies to --prometheus URL",
				   a->fleet.job ? "--job" : a->at ? "--at" : "--window");
		if (a->fleet.url && !a->fleet.job)
			argp_error(state, "--prometheus needs --job NAME: the scrape job of the "
				   "flowprof endpoints");
		if (!a->input && !a->fleet.url)
			argp_error(state, "no snapshot file given");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char report_doc[] =
	"Print a snapshot written by 'flowprof record' as readable tables.\v"
	"The measurements come first (handlers, flows, call graph), then the\n"
	"queueing model built from them: stations and their utilization, the\n"
	"bottleneck, each flow's maximum throughput, and predicted response times\n"
	"at the measured load or at --target / --scale.\n\n"
	"A sweep document ('flowprof sweep -o') prints the sweep's table; --json\n"
	"writes it again, and --html draws its charts (throughput and response\n"
	"time against the level, measured and predicted). The model options and\n"
	"--dot do not apply to it.\n\n"
	"Examples:\n"
	"  flowprof report snap.json\n"
	"  flowprof report snap.json --target checkout=800/s --target browse=2400/s\n"
	"  flowprof report snap.json --scale 2 --instances shop=3 --workers shop=16\n"
	"  flowprof report snap.json --users 1,10,100 --think 1s\n"
	"  flowprof report snap.json --json\n"
	"  flowprof report snap.json --html report.html --dot graph.dot\n"
	"  flowprof report sweep.json --html sweep.html\n"
	"  flowprof report --prometheus http://prom:9090 --job flowprof --window 10m\n"
	"      the fleet that Prometheus scrapes, as if its hosts' snapshots of the\n"
	"      last 10 minutes were merged ('report --json' writes that snapshot)";

/* --html and --dot (html_report.c): files instead of the table. */
static int write_views(const struct snapshot *s, const struct report_args *a)
{
	char err[1024];

	if (a->html && html_report_write(s, &a->model, a->input, a->html, err, sizeof(err))) {
		log_error("--html %s: %s", a->html, err);
		return -1;
	}
	if (a->dot && dot_write(s, &a->model, a->dot, err, sizeof(err))) {
		log_error("--dot %s: %s", a->dot, err);
		return -1;
	}
	return 0;
}

/* `flowprof report SWEEP.json`: the table, --json, --html (sweep_html.c).
 * The sweep's model was fitted when it ran: nothing here changes it. */
static int report_sweep(const struct report_args *a, const char *prog)
{
	const char *bad = a->dot ? "--dot" : a->model_opt;

	if (bad) {
		fprintf(stderr, "%s: %s does not apply to a sweep document (%s): %s\n", prog, bad,
			a->input, a->dot ? "it draws the flow graph of one snapshot; --html "
					   "draws the sweep's charts"
					 : "its model was fitted on its lowest step when it ran");
		return EXIT_USAGE;
	}
	if (a->html) {
		struct sweep sw;
		char err[1024];
		int rc;

		if (sweep_load(a->input, &sw, err, sizeof(err))) {
			log_error("%s", err);
			return EXIT_ERROR;
		}
		rc = sweep_html_write(&sw, a->input, a->html, err, sizeof(err));
		sweep_free(&sw);
		if (rc) {
			log_error("--html %s: %s", a->html, err);
			return EXIT_ERROR;
		}
		if (!a->json) /* the file instead of the table, as for a snapshot */
			return EXIT_OK;
	}
	return sweep_report(a->input, a->json, stdout) ? EXIT_ERROR : EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	struct argp argp = { report_options, parse_report, "SNAPSHOT\n--prometheus URL --job NAME",
			     report_doc, NULL, NULL, NULL };
	struct snapshot s = { 0 };
	struct model m = { 0 };
	bool have_model = false;
	int rc = EXIT_ERROR;
	char err[1024];

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	if (a.fleet.url) {
		if (!a.fleet.window_s)
			a.fleet.window_s = DEFAULT_WINDOW_S;
		a.input = a.fleet.url; /* names the source in messages */
		if (fleet_snapshot(&a.fleet, &s, err, sizeof(err))) {
			log_error("%s", err);
			goto cleanup;
		}
	} else if (sweep_file_is_document(a.input)) { /* `flowprof sweep -o`: its own table (sweep_table.c) */
		rc = report_sweep(&a, argv[0]);
		model_opts_free(&a.model);
		return rc;
	} else if (snapshot_load(a.input, &s, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	if (a.no_model) {
		/* the handlers' times are still corrected for the probes' cost,
		 * which the model's build works out; only its sections go (raw
		 * times where it cannot be built) */
		have_model = !a.json && !model_build(&s, &a.model, &m, err, sizeof(err));
	} else {
		if (model_build(&s, &a.model, &m, err, sizeof(err))) {
			log_error("%s: %s", a.input, err);
			/* an option naming a flow or bundle the snapshot lacks */
			if (!strncmp(err, "--", 2))
				rc = EXIT_USAGE;
			goto cleanup;
		}
		have_model = true;
	}
	if (a.html || a.dot) {
		if (write_views(&s, &a))
			goto cleanup;
		if (!a.json) { /* the files instead of the table */
			rc = EXIT_OK;
			goto cleanup;
		}
	}
	if (a.json) {
		json_object *doc = snapshot_to_json_object(&s);
		char *text;

		if (have_model)
			json_object_object_add(doc, "model", model_to_json(&m));
		json_object_object_add(doc, "accuracy_flags",
				       report_flags_json(&s, have_model ? &m : NULL));
		text = jo_to_string(doc, true);
		fputs(text, stdout);
		free(text);
		json_object_put(doc);
	} else {
		struct report_opts ro = { .ascii = !locale_is_utf8(), .verbose = a.verbose,
					  .closed = a.closed, .no_model = a.no_model };

		report_print(stdout, &s, have_model ? &m : NULL, &ro);
	}
	rc = EXIT_OK;
cleanup:
	if (have_model)
		model_free(&m);
	model_opts_free(&a.model);
	snapshot_free(&s);
	return rc;
}
