// SPDX-License-Identifier: MIT
/*
 * `flowprof export`: the fitted model in another tool's format. Today one
 * format: a Java Modelling Tools JMVA document (jmva.h), to go on in JMT's
 * exact solver. Works offline on a snapshot, or on a sweep document (the
 * model fitted on its lowest step).
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "commands.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

struct export_args {
	const char *input;
	const char *jmt;
	int users;
	double think_s;
	struct model_opts mo;
};

enum {
	OPT_JMT = 0x100,
	OPT_USERS,
	OPT_THINK,
	OPT_TARGET,
	OPT_SCALE,
	OPT_INSTANCES,
	OPT_WORKERS,
};

static const struct argp_option export_options[] = {
	{ "jmt", OPT_JMT, "FILE", 0,
	  "Write a Java Modelling Tools JMVA document (.jmva; mode 0600, atomic)", 0 },
	{ "users", OPT_USERS, "N", 0, "Closed classes with N users in all, spread over the flows "
	  "by their measured mix (default: open classes at the measured rates)", 0 },
	{ "think", OPT_THINK, "SECONDS", 0, "With --users: the users' think time (a delay "
	  "station)", 0 },
	{ "target", OPT_TARGET, "FLOW=RATE", 0, "Open class rate for FLOW (as in report)", 1 },
	{ "scale", OPT_SCALE, "X", 0, "Multiply the measured rates (as in report)", 1 },
	{ "instances", OPT_INSTANCES, "BUNDLE=N", 0, "Instances of a bundle (as in report)", 1 },
	{ "workers", OPT_WORKERS, "BUNDLE=N", 0, "Workers per instance (as in report)", 1 },
	{ "verbose", 'v', NULL, 0, "Say more", 2 },
	{ 0 },
};

static error_t parse_export(int key, char *arg, struct argp_state *state)
{
	struct export_args *a = state->input;
	const char *model_opt = NULL;
	char err[256];

	switch (key) {
	case OPT_JMT:
		a->jmt = arg;
		break;
	case OPT_USERS: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (*end || end == arg || v < 1 || v > MODEL_MAX_USERS)
			argp_error(state, "--users %s: expected a whole number from 1 to %d", arg,
				   MODEL_MAX_USERS);
		a->users = (int)v;
		break;
	}
	case OPT_THINK:
		if (parse_seconds(arg, &a->think_s))
			argp_error(state, "--think %s: expected seconds", arg);
		break;
	case OPT_TARGET:
		model_opt = "target";
		break;
	case OPT_SCALE:
		model_opt = "scale";
		break;
	case OPT_INSTANCES:
		model_opt = "instances";
		break;
	case OPT_WORKERS:
		model_opt = "workers";
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		if (a->input)
			argp_error(state, "one snapshot at a time");
		a->input = arg;
		break;
	case ARGP_KEY_END:
		if (!a->input)
			argp_error(state, "no snapshot file given");
		if (!a->jmt)
			argp_error(state, "no format given: use --jmt FILE");
		if (a->think_s > 0 && !a->users)
			argp_error(state, "--think needs --users (open classes have no think time)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (model_opt && model_parse_option(&a->mo, model_opt, arg, err, sizeof(err)))
		argp_error(state, "%s", err);
	return 0;
}

static const char export_doc[] =
	"Write the model of a snapshot in another tool's format.\v"
	"Examples:\n"
	"  flowprof export snap.json --jmt model.jmva\n"
	"      open classes (one per flow) at the measured rates\n"
	"  flowprof export snap.json --jmt model.jmva --users 50 --think 1\n"
	"      50 users spread over the flows by their measured mix, 1 s think time\n"
	"  flowprof export sweep.json --jmt model.jmva\n"
	"      the model a sweep fitted on its lowest step\n"
	"\nOpen the .jmva file in JMT's JMVA (File > Open). Times are in seconds.";

/* The snapshot to model: the file itself, or a sweep's fitted step. */
static int load_input(const char *path, struct snapshot *s, char *err, size_t errlen)
{
	struct sweep sw;

	if (!sweep_file_is_document(path))
		return snapshot_load(path, s, err, errlen);
	if (sweep_load(path, &sw, err, errlen))
		return -1;
	if (!sw.fitted || sw.fit.step < 0 || sw.fit.step >= sw.n_steps ||
	    !sw.steps[sw.fit.step].snap.version) {
		snprintf(err, errlen, "%s: the sweep has no fitted step to export%s%s", path,
			 sw.fit_error ? ": " : "", sw.fit_error ? sw.fit_error : "");
		sweep_free(&sw);
		return -1;
	}
	*s = sw.steps[sw.fit.step].snap;
	memset(&sw.steps[sw.fit.step].snap, 0, sizeof(*s));
	/* the servers the sweep saw over all its steps, as its fit used them */
	for (int k = 0; k < sw.fit.n_stations; k++) {
		struct snap_bundle *b = snapshot_bundle(s, sw.fit.stations[k].name);

		if (b && !b->serial && sw.fit.stations[k].servers > b->threads)
			b->threads = sw.fit.stations[k].servers;
	}
	sweep_free(&sw);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { 0 };
	struct argp argp = { export_options, parse_export, "SNAPSHOT", export_doc, NULL, NULL,
			     NULL };
	struct snapshot s = { 0 };
	struct model m = { 0 };
	struct jmva_opts jo = { 0 };
	bool built = false;
	char err[1024], *doc = NULL, *desc = NULL;
	int rc = EXIT_ERROR;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a)) {
		model_opts_free(&a.mo);
		return EXIT_USAGE;
	}
	if (load_input(a.input, &s, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	if (model_build(&s, &a.mo, &m, err, sizeof(err))) {
		log_error("%s: %s", a.input, err);
		goto cleanup;
	}
	built = true;
	desc = xasprintf("flowprof model of %s (host %s, %s, %.1f s). Classes are flows, "
			 "stations are the model's stations; times in seconds.", a.input,
			 s.host ? s.host : "?", s.started_at ? s.started_at : "?", s.duration_s);
	jo.users = a.users;
	jo.think_s = a.think_s;
	jo.description = desc;
	doc = jmva_document(&m, &jo);
	/* 0600 as every output: it names the host, the flows and the stations */
	if (write_file_atomic(a.jmt, doc, strlen(doc), 0600)) {
		log_error("cannot write %s: %s (any previous file is intact)", a.jmt,
			  strerror(errno));
		goto cleanup;
	}
	fprintf(stderr, "flowprof: wrote %s: %d class%s, %d station%s%s\n", a.jmt, m.n_flows,
		m.n_flows == 1 ? "" : "es", m.n_stations + (a.users && a.think_s > 0),
		m.n_stations + (a.users && a.think_s > 0) == 1 ? "" : "s",
		a.users ? " (closed)" : " (open)");
	rc = EXIT_OK;
cleanup:
	free(doc);
	free(desc);
	if (built)
		model_free(&m);
	snapshot_free(&s);
	model_opts_free(&a.mo);
	return rc;
}
