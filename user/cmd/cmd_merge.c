// SPDX-License-Identifier: MIT
/* `flowprof merge`: exact merge of snapshots (counts, sums, histograms). */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "commands.h"
#include "snapshot/snapshot.h"

struct merge_args {
	const char *output;
	char **inputs;
	int n_inputs;
};

static const struct argp_option merge_options[] = {
	{ "output", 'o', "FILE", 0, "Write the merged snapshot to FILE (default: standard output)", 0 },
	{ "verbose", 'v', NULL, 0, "Say more", 0 },
	{ 0 },
};

static error_t parse_merge(int key, char *arg, struct argp_state *state)
{
	struct merge_args *a = state->input;

	switch (key) {
	case 'o':
		a->output = arg;
		break;
	case 'v':
		log_verbosity++;
		break;
	case ARGP_KEY_ARG:
		a->inputs = xrealloc(a->inputs, (size_t)(a->n_inputs + 1) * sizeof(char *));
		a->inputs[a->n_inputs++] = arg;
		break;
	case ARGP_KEY_END:
		if (a->n_inputs < 1)
			argp_error(state, "no snapshot to merge");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char merge_doc[] =
	"Merge snapshots of the same flow file from several hosts or runs.\v"
	"Counts, time sums and histograms add exactly; per-process figures stay\n"
	"per process. Example:\n"
	"  flowprof merge host-a.json host-b.json -o fleet.json";

int cmd_merge(int argc, char **argv)
{
	struct merge_args a = { 0 };
	struct argp argp = { merge_options, parse_merge, "SNAPSHOT...", merge_doc, NULL, NULL, NULL };
	struct snapshot merged = { 0 };
	int rc = EXIT_ERROR;
	char err[1024];

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return EXIT_USAGE;
	if (snapshot_load(a.inputs[0], &merged, err, sizeof(err))) {
		log_error("%s", err);
		goto cleanup;
	}
	for (int i = 1; i < a.n_inputs; i++) {
		struct snapshot next = { 0 };
		int e;

		if (snapshot_load(a.inputs[i], &next, err, sizeof(err))) {
			log_error("%s", err);
			goto cleanup;
		}
		e = snapshot_merge(&merged, &next, err, sizeof(err));
		snapshot_free(&next);
		if (e) {
			log_error("%s: %s", a.inputs[i], err);
			goto cleanup;
		}
	}
	if (a.output) {
		if (snapshot_write(&merged, a.output)) {
			log_error("cannot write %s: %s (any previous file is intact)", a.output,
				  strerror(errno));
			goto cleanup;
		}
	} else {
		char *doc = snapshot_to_json(&merged, true);

		fputs(doc, stdout);
		free(doc);
	}
	rc = EXIT_OK;
cleanup:
	snapshot_free(&merged);
	free(a.inputs);
	return rc;
}
