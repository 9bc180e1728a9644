// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: an endpoint's window from the text of its expositions
 * (user/fleet/exposition.c, and user/fleet/fleet_target.c, which turns each
 * scrape target's series from Prometheus into a snapshot). What a
 * Prometheus server answers is input from the network: any series, labels
 * and values must end in a clear error or in a snapshot that passes the
 * loader's checks, never a crash, leak or undefined behaviour. The input
 * is the end's text, then optionally "\n--\n" and the start's. Properties
 * checked besides: the error stays inside its buffer; a snapshot it gives
 * is written, loaded back equal, and modelled.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/fleet.h"
#include "model/model.h"
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_exposition: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *start, err[512], diff[512], *doc;
	struct snapshot s, again;
	struct model m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	start = strstr(text, "\n--\n");
	if (start) {
		*start = '\0';
		start += 4;
	}
	memset(err, 'X', sizeof(err));
	if (fleet_snapshot_from_text(text, start, &s, err, sizeof(err) - 1)) {
		if (err[sizeof(err) - 1] != 'X' || !memchr(err, '\0', sizeof(err) - 1))
			fail("error message", "overran its buffer");
		free(text);
		return 0;
	}
	doc = snapshot_to_json(&s, false);
	if (snapshot_parse("again.json", doc, strlen(doc), &again, err, sizeof(err)))
		fail("its snapshot does not load back", err);
	if (!snapshot_equal(&s, &again, diff, sizeof(diff)))
		fail("its snapshot loads back different", diff);
	if (!model_build(&s, NULL, &m, err, sizeof(err)))
		model_free(&m);
	snapshot_free(&again);
	free(doc);
	snapshot_free(&s);
	free(text);
	return 0;
}
