// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the flow-file parser (user/flowfile/flowfile.c) on arbitrary
 * bytes. A flow file is untrusted input: whatever it holds, parsing ends
 * in a flowfile or in one "<path>:<line>:<col>: ..." message, never a crash,
 * a leak or undefined behaviour (ASan + UBSan). Properties checked besides:
 * the message is NUL-terminated within its buffer and names file:line:col,
 * and every parsed index is in range and found again by its name.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowfile/flowfile.h"

#define FUZZ_PATH "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "fuzz.yaml:LINE:COL: ..." with LINE, COL >= 1. */
static bool names_position(const char *msg)
{
	const char *p = msg + strlen(FUZZ_PATH ":");

	if (strncmp(msg, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
		return false;
	for (int field = 0; field < 2; field++) {
		long v = 0;

		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (*p++ - '0');
		if (v < 1 || *p++ != ':')
			return false;
	}
	return *p == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flowfile ff;
	char err[512];

	/* A guard byte after the message: the parser must stay inside errlen. */
	memset(err, 'X', sizeof(err));
	if (flowfile_parse(FUZZ_PATH, (const char *)data, size, &ff, err, sizeof(err) - 1)) {
		if (err[sizeof(err) - 1] != 'X' || !memchr(err, '\0', sizeof(err) - 1))
			abort();
		if (!names_position(err)) {
			fprintf(stderr, "fuzz_flowfile: message without file:line:col: %s\n", err);
			abort();
		}
		return 0;
	}
	for (int i = 0; i < ff.n_handlers; i++) {
		if (flowfile_handler_index(&ff, ff.handlers[i].id) != i)
			abort();
		if (ff.handlers[i].bundle < 0 || ff.handlers[i].bundle >= ff.n_bundles)
			abort();
	}
	for (int f = 0; f < ff.n_flows; f++) {
		if (ff.flows[f].entry < 0 || ff.flows[f].entry >= ff.n_handlers)
			abort();
		for (int c = 0; c < ff.flows[f].n_calls; c++)
			if (ff.flows[f].calls[c].from < 0 || ff.flows[f].calls[c].from >= ff.n_handlers ||
			    ff.flows[f].calls[c].to < 0 || ff.flows[f].calls[c].to >= ff.n_handlers)
				abort();
	}
	for (int b = 0; b < ff.n_bundles; b++) {
		char *p = ff.bundles[b].exe ? flowfile_path_relative(&ff, ff.bundles[b].exe) : NULL;

		free(p);
		if (flowfile_bundle_index(&ff, ff.bundles[b].name) != b)
			abort();
	}
	flowfile_free(&ff);
	return 0;
}
