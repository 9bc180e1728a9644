// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the snapshot loader (user/snapshot/snapshot_load.c) on
 * arbitrary bytes, then everything `flowprof report` and `merge` do with a loaded
 * document. Snapshots travel between hosts, so a hostile or damaged one must
 * end in a clear error, never a crash, leak or undefined behaviour.
 * Properties checked besides:
 *  - the error names the file and stays inside its buffer;
 *  - a loaded snapshot written back and loaded again is equal (exact);
 *  - merging it into an empty snapshot gives an equal copy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "snapshot/snapshot.h"

#define FUZZ_PATH "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_snapshot: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot s, again, copy = { 0 };
	struct report_opts ro = { .ascii = true };
	char err[512], diff[512];
	char *doc;

	memset(err, 'X', sizeof(err));
	if (snapshot_parse(FUZZ_PATH, (const char *)data, size, &s, err, sizeof(err) - 1)) {
		if (err[sizeof(err) - 1] != 'X' || !memchr(err, '\0', sizeof(err) - 1))
			fail("error message", "overran its buffer");
		if (strncmp(err, FUZZ_PATH ": ", strlen(FUZZ_PATH ": ")) != 0)
			fail("error message does not name the file", err);
		snapshot_free(&s);
		return 0;
	}

	doc = snapshot_to_json(&s, false);
	if (snapshot_parse("again.json", doc, strlen(doc), &again, err, sizeof(err)))
		fail("written snapshot does not load back", err);
	if (!snapshot_equal(&s, &again, diff, sizeof(diff)))
		fail("load -> write -> load changed the snapshot", diff);
	snapshot_free(&again);
	free(doc);

	if (snapshot_merge(&copy, &s, err, sizeof(err)))
		fail("merge into an empty snapshot failed", err);
	if (!snapshot_equal(&s, &copy, diff, sizeof(diff)))
		fail("merge into an empty snapshot is not a copy", diff);
	snapshot_free(&copy);

	report_print_table(devnull(), &s, &ro);
	snapshot_free(&s);
	return 0;
}
