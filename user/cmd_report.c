// SPDX-License-Identifier: MIT
/*
 * `flowprof report`: a snapshot as tables (default) or JSON. Works offline,
 * without root, far from the host that recorded it.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "snapshot.h"
#include "sweep.h"
#include "util.h"

struct report_args {
	const char *input;
	bool json;
};

enum {
	OPT_JSON = 0x100,
};

static const struct argp_option report_options[] = {
	{ "json", OPT_JSON, NULL, 0, "Print the whole snapshot document as JSON", 0 },
	{ "verbose", 'v', NULL, 0, "Say more", 0 },
	{ 0 },
};

static error_t parse_report(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		if (a->input)
			argp_error(state, "one snapshot at a time (use 'flowprof merge' to combine)");
		a->input = arg;
		break;
	case ARGP_KEY_END:
		if (!a->input)
			argp_error(state, "no snapshot file given");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char report_doc[] =
	"Print a snapshot written by 'flowprof record' as readable tables.\v"
	"Examples:\n"
	"  flowprof report snap.json\n"
	"  flowprof report snap.json --json";

int cmd_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	struct argp argp = { report_options, parse_report, "SNAPSHOT", report_doc, NULL, NULL, NULL };
	struct snapshot s = { 0 };
	int rc = EXIT_ERROR;
	char err[1024];

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	/* a `flowprof sweep -o` document: its own table (sweep.c) */
	if (sweep_file_is_document(a.input))
		return sweep_report(a.input, a.json, stdout) ? EXIT_ERROR : EXIT_OK;
	if (snapshot_load(a.input, &s, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	if (a.json) {
		char *doc = snapshot_to_json(&s, true);

		fputs(doc, stdout);
		free(doc);
	} else {
		struct report_opts ro = { .ascii = !locale_is_utf8() };

		report_print_table(stdout, &s, &ro);
	}
	rc = EXIT_OK;
cleanup:
	snapshot_free(&s);
	return rc;
}
