// SPDX-License-Identifier: MIT
/*
 * The HTML page's private format, the model input text: written by
 * html_model_input() (user/report/html_model_input.c), read in the browser
 * by the WebAssembly model's reader (user/wasm/model_input_reader.c, built
 * natively for this test). A snapshot written and read back must equal the
 * snapshot cut down to what the format carries (html_report.h, "model
 * input"): on the fixture tests/snapshots/basic.json (run from the
 * repository root) and on a snapshot whose strings need every encoding
 * (spaces, '%', newlines, UTF-8, bytes that are not UTF-8, NULL, "") and
 * whose numbers need the exact forms (%a, %La, the whole uint64 range).
 * And the reader's errors, which the page shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
#include "wasm/wasm.h"

#define FIXTURE "tests/snapshots/basic.json"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* What the model input carries of s, and nothing else: the format of
 * html_report.h, field by field. A bundle's pids travel as their count. */
static void wire_projection(const struct snapshot *s, struct snapshot *w)
{
	memset(w, 0, sizeof(*w));
	w->duration_s = s->duration_s;
	w->nproc = s->nproc;
	w->probe_cost_ns = s->probe_cost_ns;
	w->n_hosts = s->n_hosts;
	w->hosts = xcalloc((size_t)s->n_hosts + 1, sizeof(*w->hosts));
	memcpy(w->probe_cost, s->probe_cost, sizeof(w->probe_cost));
	w->n_handlers = s->n_handlers;
	w->handlers = xcalloc((size_t)s->n_handlers + 1, sizeof(*w->handlers));
	for (int i = 0; i < s->n_handlers; i++) {
		const struct snap_handler *a = &s->handlers[i];
		struct snap_handler *b = &w->handlers[i];

		b->id = dup_or_null(a->id);
		b->bundle = dup_or_null(a->bundle);
		b->symbol = dup_or_null(a->symbol);
		b->binary = dup_or_null(a->binary);
		b->site_class = dup_or_null(a->site_class);
		b->serial = a->serial;
		b->entries = a->entries;
		b->calls = a->calls;
		b->incomplete = a->incomplete;
		b->min_ns = a->min_ns;
		b->max_ns = a->max_ns;
		b->total_ns = a->total_ns;
		b->self_ns = a->self_ns;
		b->oncpu_ns = a->oncpu_ns;
		b->oncpu_measured = a->oncpu_measured;
		b->probe_cost_ns = a->probe_cost_ns;
		b->inflight_mean = a->inflight_mean;
		b->sumsq_ns2 = a->sumsq_ns2;
		memcpy(b->hist, a->hist, sizeof(b->hist));
	}
	w->n_edges = s->n_edges;
	w->edges = xcalloc((size_t)s->n_edges + 1, sizeof(*w->edges));
	for (int i = 0; i < s->n_edges; i++) {
		w->edges[i].from = dup_or_null(s->edges[i].from);
		w->edges[i].to = dup_or_null(s->edges[i].to);
		w->edges[i].calls = s->edges[i].calls;
		w->edges[i].declared = s->edges[i].declared;
		w->edges[i].async = s->edges[i].async;
	}
	w->n_flows = s->n_flows;
	w->flows = xcalloc((size_t)s->n_flows + 1, sizeof(*w->flows));
	for (int i = 0; i < s->n_flows; i++) {
		const struct snap_flow *a = &s->flows[i];
		struct snap_flow *b = &w->flows[i];

		b->name = dup_or_null(a->name);
		b->entry = dup_or_null(a->entry);
		b->invocations = a->invocations;
		b->n_visits = a->n_visits;
		b->visits = xcalloc((size_t)a->n_visits + 1, sizeof(*b->visits));
		for (int v = 0; v < a->n_visits; v++) {
			b->visits[v].handler = dup_or_null(a->visits[v].handler);
			b->visits[v].calls = a->visits[v].calls;
		}
		b->n_declared = a->n_declared;
		b->declared = xcalloc((size_t)a->n_declared + 1, sizeof(*b->declared));
		for (int d = 0; d < a->n_declared; d++) {
			b->declared[d].from = dup_or_null(a->declared[d].from);
			b->declared[d].to = dup_or_null(a->declared[d].to);
			b->declared[d].async = a->declared[d].async;
		}
	}
	w->n_bundles = s->n_bundles;
	w->bundles = xcalloc((size_t)s->n_bundles + 1, sizeof(*w->bundles));
	for (int i = 0; i < s->n_bundles; i++) {
		const struct snap_bundle *a = &s->bundles[i];
		struct snap_bundle *b = &w->bundles[i];

		b->name = dup_or_null(a->name);
		b->n_pids = a->n_pids;
		b->pids = xcalloc((size_t)a->n_pids + 1, sizeof(int));
		b->threads = a->threads;
		b->instances = a->instances;
		b->workers = a->workers;
		b->serial = a->serial;
	}
}

/* Writes s with html_model_input(), reads it back with the page's reader,
 * and compares with what the format carries of s. */
static void round_trip(const struct snapshot *s)
{
	struct snapshot want, got = { 0 };
	char *text = html_model_input(s), err[256], diff[512];

	wire_projection(s, &want);
	if (model_input_read(text, &got, err, sizeof(err)))
		fail_msg("the reader refused the writer's text: %s", err);
	if (!snapshot_equal(&want, &got, diff, sizeof(diff)))
		fail_msg("read back differs: %s", diff);
	free(text);
	snapshot_free(&want);
	snapshot_free(&got);
}

static void test_fixture_round_trip(void **state)
{
	struct snapshot s;
	char err[512];

	(void)state;
	if (snapshot_load(FIXTURE, &s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
	round_trip(&s);
	snapshot_free(&s);
}

/* Strings with every byte class of the encoding, and numbers at the edges
 * of their forms. */
static void awkward_snapshot(struct snapshot *s)
{
	static const char *const names[] = {
		"shop.checkout",
		"with space and %41 percent",
		"line\nbreak\ttab\rcr",
		"caf\xc3\xa9 \xe2\x80\xae\xf0\x9f\x98\x80",
		"not utf-8 \xff\xfe\x80",
		"%N",
		"\x7f" "del \x01",
	};
	struct snap_handler *h;

	memset(s, 0, sizeof(*s));
	s->duration_s = 0.1 + 0.2;
	s->nproc = 3;
	s->probe_cost_ns = 1.0 / 3;
	s->n_hosts = 2;
	s->hosts = xcalloc(2, sizeof(*s->hosts));
	for (int c = 0; c < 4; c++)
		s->probe_cost[c] = (struct snap_probe_cost){ c != 0, 100.0 * c + 0.1, 5e-324 * c };

	s->n_handlers = (int)ARRAY_SIZE(names);
	s->handlers = xcalloc(ARRAY_SIZE(names), sizeof(*s->handlers));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		h = &s->handlers[i];
		h->id = xstrdup(names[i]);
		h->bundle = i % 2 ? xstrdup("b\xc3\xbc ndle") : NULL;
		h->symbol = xstrdup(names[(i + 1) % ARRAY_SIZE(names)]);
		h->binary = xstrdup("/srv/my app/bin");
		h->site_class = xstrdup(i % 3 ? "nop5" : "single-step");
		h->serial = i % 2;
		h->entries = UINT64_MAX - i;
		h->calls = UINT64_MAX / 3 + i;
		h->incomplete = i;
		h->min_ns = 1;
		h->max_ns = (uint64_t)1 << 63;
		h->total_ns = 123456789012345ULL;
		h->self_ns = 42;
		h->oncpu_ns = 7;
		h->oncpu_measured = i % 2 == 0;
		h->probe_cost_ns = -0.0 + 1e-9 * (double)i;
		h->inflight_mean = 1.0 / 7;
		h->sumsq_ns2 = 1.0L / 3 + 1e30L * (long double)i;
		h->hist[0] = 1;
		h->hist[HIST_BUCKETS / 2] = UINT64_MAX;
		h->hist[HIST_BUCKETS - 1] = 99;
	}
	/* an empty name travels as NULL: the projection keeps it, and
	 * snapshot_equal() holds "" and NULL for the same */
	free(s->handlers[1].symbol);
	s->handlers[1].symbol = xstrdup("");

	s->n_edges = 2;
	s->edges = xcalloc(2, sizeof(*s->edges));
	s->edges[0] = (struct snap_edge){ xstrdup(names[0]), xstrdup(names[2]), 5, true, false,
					  false };
	s->edges[1] = (struct snap_edge){ xstrdup(names[3]), xstrdup(names[4]), 0, false, true,
					  false };

	s->n_flows = 2;
	s->flows = xcalloc(2, sizeof(*s->flows));
	s->flows[0].name = xstrdup("check out");
	s->flows[0].entry = xstrdup(names[0]);
	s->flows[0].invocations = 10;
	s->flows[0].n_visits = 2;
	s->flows[0].visits = xcalloc(2, sizeof(*s->flows[0].visits));
	s->flows[0].visits[0] = (struct snap_visit){ xstrdup(names[2]), 20 };
	s->flows[0].visits[1] = (struct snap_visit){ xstrdup(names[4]), 0 };
	s->flows[0].n_declared = 1;
	s->flows[0].declared = xcalloc(1, sizeof(*s->flows[0].declared));
	s->flows[0].declared[0] = (struct snap_edge){ xstrdup(names[0]), xstrdup(names[2]), 0,
						      false, true, false };
	s->flows[1].name = xstrdup("nothing declared");
	s->flows[1].entry = NULL;

	s->n_bundles = 2;
	s->bundles = xcalloc(2, sizeof(*s->bundles));
	s->bundles[0].name = xstrdup("b\xc3\xbc ndle");
	s->bundles[0].n_pids = 3;
	s->bundles[0].pids = xcalloc(3, sizeof(int));
	s->bundles[0].threads = 16;
	s->bundles[0].instances = 2;
	s->bundles[0].workers = 8;
	s->bundles[1].name = xstrdup("serial one");
	s->bundles[1].serial = true;
	s->bundles[1].pids = xcalloc(1, sizeof(int));
}

static void test_awkward_round_trip(void **state)
{
	struct snapshot s;

	(void)state;
	awkward_snapshot(&s);
	round_trip(&s);
	snapshot_free(&s);
}

/* The encoding itself: no field ever holds a space or a newline, so one
 * record is one line of space-separated fields. */
static void test_one_record_per_line(void **state)
{
	struct snapshot s;
	char *text, *line, *save = NULL;
	int records = 0;

	(void)state;
	awkward_snapshot(&s);
	text = html_model_input(&s);
	assert_non_null(strstr(text, " with%20space%20and%20%2541%20percent "));
	assert_non_null(strstr(text, " %25N "));	/* the text "%N", not NULL */
	assert_non_null(strstr(text, " b%C3%BC%20ndle "));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		records++;
	/* version, snapshot, 4 probe costs, the handlers, edges, flows, bundles, end */
	assert_int_equal(records, 1 + 1 + 4 + s.n_handlers + s.n_edges + s.n_flows + s.n_bundles + 1);
	free(text);
	snapshot_free(&s);
}

/* What the page shows when its input is damaged. */
static void check_refused(const char *input, const char *want)
{
	struct snapshot s = { 0 };
	char *text = xstrdup(input), err[256];

	assert_int_equal(model_input_read(text, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	snapshot_free(&s);
	free(text);
}

static void test_reader_errors(void **state)
{
	(void)state;
	check_refused("flowprof-model-input 2\nend\n", "model input line 1: unsupported version");
	check_refused("flowprof-model-input 1\n", "model input line 1: truncated: no end record");
	check_refused("flowprof-model-input 1\nsnapshot 0x1p+0 4\nend\n",
		      "model input line 2: missing number");
	check_refused("flowprof-model-input 1\nbundle b 1 2 3 4 0 extra\nend\n",
		      "model input line 2: extra fields");
	check_refused("flowprof-model-input 1\nwhat\nend\n", "model input line 2: unknown record");
	check_refused("flowprof-model-input 1\nprobe_cost 7 1 0x0p+0 0x0p+0\nend\n",
		      "model input line 2: bad site class");
	check_refused("flowprof-model-input 1\nhandler a b c d e 0 1 1 0 1 1 1 1 1 0 0x0p+0 "
		      "0x0p+0 0x0p+0 1 9999 1\nend\n",
		      "model input line 2: bucket out of range");
	check_refused("flowprof-model-input 1\nedge a b 1x 0 0\nend\n",
		      "model input line 2: bad integer");
	check_refused("", "model input line 0: truncated: no end record");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_round_trip),
		cmocka_unit_test(test_awkward_round_trip),
		cmocka_unit_test(test_one_record_per_line),
		cmocka_unit_test(test_reader_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
