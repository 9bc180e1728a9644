// SPDX-License-Identifier: MIT
/*
 * The HTML page's private format, the model input text: written by
 * html_model_input() (user/report/html_model_input.c, which describes the
 * format), read in the browser by the WebAssembly model's reader
 * (user/wasm/model_input_reader.c, built natively for this test). The page
 * runs the model on what it reads, so its figures equal `report --json`'s
 * only if the text carries every field the model reads. Two checks hold it
 * to that, on each snapshot below:
 *
 * - structure: the snapshot read back equals the original with
 *   snapshot_equal(), which compares every stored field, after clearing
 *   only the fields the format leaves out on purpose (strip_unread(), each
 *   named there). A field added to the snapshot, and so to snapshot_equal()
 *   and tests/snapshots/full.json, fails this test until the format carries
 *   it or strip_unread() names it;
 * - the model itself: model_build() on the original and on the read-back,
 *   under several settings, gives the same "model" object and the same
 *   printed tables, so a stripped field that the model does read fails too.
 *
 * On tests/snapshots/basic.json and full.json (run from the repository
 * root), on full.json with the host's CPU time (which it lacks), on a
 * snapshot whose strings need every encoding (spaces, '%', newlines, UTF-8,
 * bytes that are not UTF-8, NULL, "") and whose numbers need the exact forms
 * (%a, %La, the whole uint64 range), and on each snapshot named on the
 * command line, e.g. a real recording:
 *
 *   build/flowprof record -f tests/e2e/flows/nested.yaml -o /tmp/n.json \
 *       -- build/targets/nested -r 50
 *   build/tests/test_model_input /tmp/n.json
 *
 * And the reader's errors, which the page shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "model/model.h"
#include "report/report.h"
#include "snapshot/snapshot.h"
#include "wasm/wasm.h"

#define BASIC "tests/snapshots/basic.json"
#define FULL "tests/snapshots/full.json"

static void free_str(char **s)
{
	free(*s);
	*s = NULL;
}

/*
 * Clears what the model input leaves out on purpose, because the model
 * (user/model/) does not read it: everything else must come back from the
 * page's reader exactly. Keep this list in step with the format's comment
 * in html_model_input.c; should the model start reading one of these, the
 * model comparison in round_trip() fails wherever that field matters on
 * the snapshots below.
 */
static void strip_unread(struct snapshot *s)
{
	s->version = 0;
	free_str(&s->host);
	free_str(&s->kernel);
	free_str(&s->started_at);
	free_str(&s->attach_mode);
	free_str(&s->flow_file);
	s->attach_ms = s->detach_ms = 0;
	s->unmatched_returns = s->depth_overflows = s->abandoned_frames = 0;
	s->exited_in_call = s->edges_dropped = s->instances_dropped = s->threads_dropped = 0;
	/* the hosts travel as their count */
	for (int i = 0; i < s->n_hosts; i++) {
		free_str(&s->hosts[i].name);
		free_str(&s->hosts[i].kernel);
		s->hosts[i].nproc = 0;
		s->hosts[i].probe_cost_ns = 0;
	}
	for (int i = 0; i < s->n_handlers; i++) {
		struct snap_handler *h = &s->handlers[i];

		h->site_classes = 0;
		free_str(&h->exits_fallback);
		for (int k = 0; k < h->n_instances; k++)
			free(h->instances[k].host);
		free(h->instances);
		h->instances = NULL;
		h->n_instances = 0;
	}
	/* a bundle's pids travel as their count */
	for (int i = 0; i < s->n_bundles; i++) {
		struct snap_bundle *b = &s->bundles[i];

		memset(b->pids, 0, (size_t)b->n_pids * sizeof(*b->pids));
		for (int k = 0; b->pid_hosts && k < b->n_pids; k++)
			free(b->pid_hosts[k]);
		free(b->pid_hosts);
		b->pid_hosts = NULL;
	}
}

/* Settings the model runs under for the comparison: the page's sliders
 * (targets, instances, workers) and the rest of the command line's model
 * options, named after what s holds. */
#define N_SETTINGS 7

static void add_option(struct model_opts *o, const char *opt, const char *value)
{
	char err[256];

	if (model_parse_option(o, opt, value, err, sizeof(err)))
		fail_msg("--%s %s: %s", opt, value, err);
}

static void settings(const struct snapshot *s, int i, struct model_opts *o)
{
	char v[512];

	memset(o, 0, sizeof(*o));
	switch (i) {
	case 0: /* at the measured rates */
		break;
	case 1:
		add_option(o, "scale", "2.5");
		break;
	case 2:
		add_option(o, "util-limit", "50%");
		break;
	case 3:
		add_option(o, "users", "1,3,9,27");
		add_option(o, "think", "10ms");
		break;
	case 4:
		if (s->n_bundles && s->bundles[0].name) {
			snprintf(v, sizeof(v), "%s=7", s->bundles[0].name);
			add_option(o, "workers", v);
			snprintf(v, sizeof(v), "%s=3", s->bundles[0].name);
			add_option(o, "instances", v);
		}
		break;
	case 5:
		if (s->n_flows && s->flows[0].name) {
			snprintf(v, sizeof(v), "%s=1234.5", s->flows[0].name);
			add_option(o, "target", v);
		}
		break;
	case 6: /* beyond any capacity: the predictions are null */
		add_option(o, "scale", "1e6");
		break;
	}
}

/* What `report` shows of the model of s under settings i: the document's
 * "model" object and the printed tables, or model_build()'s error. */
static char *model_text(const struct snapshot *s, int i)
{
	struct model_opts o;
	struct model m;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *out = xopen_memstream(&buf, &len);

	settings(s, i, &o);
	if (model_build(s, &o, &m, err, sizeof(err))) {
		fprintf(out, "error: %s\n", err);
	} else {
		json_object *j = model_to_json(&m);
		char *t = jo_to_string(j, true);

		fprintf(out, "%s\n", t);
		free(t);
		json_object_put(j);
		model_print(out, &m, true);
		model_free(&m);
	}
	model_opts_free(&o);
	fclose(out);
	return buf;
}

/* The first line that differs, for the failure message. */
static void first_difference(const char *a, const char *b, char *out, size_t outlen)
{
	int line = 1;
	const char *la = a, *lb = b;

	while (*a && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	snprintf(out, outlen, "line %d: '%.*s' != '%.*s'", line, (int)strcspn(la, "\n"), la,
		 (int)strcspn(lb, "\n"), lb);
}

/* Writes s with html_model_input(), reads it back with the page's reader,
 * and holds the read-back to s: the same model under every setting, and
 * the same fields but those strip_unread() names. Strips s. */
static void round_trip(struct snapshot *s)
{
	struct snapshot got = { 0 };
	char *text = html_model_input(s), err[256], diff[1024], head[64];

	snprintf(head, sizeof(head), "flowprof-model-input %d\n", MODEL_INPUT_VERSION);
	if (strncmp(text, head, strlen(head)))
		fail_msg("the writer's first line is not '%.*s'", (int)strlen(head) - 1, head);
	if (model_input_read(text, &got, err, sizeof(err)))
		fail_msg("the reader refused the writer's text: %s", err);
	for (int i = 0; i < N_SETTINGS; i++) {
		char *want = model_text(s, i), *page = model_text(&got, i);

		if (strcmp(want, page)) {
			first_difference(want, page, diff, sizeof(diff));
			fail_msg("settings %d: the page's model differs from the CLI's: %s", i, diff);
		}
		free(want);
		free(page);
	}
	strip_unread(s);
	if (!snapshot_equal(s, &got, diff, sizeof(diff)))
		fail_msg("read back differs: %s", diff);
	free(text);
	snapshot_free(&got);
}

static void load(const char *path, struct snapshot *s)
{
	char err[512];

	if (snapshot_load(path, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

static void test_basic_round_trip(void **state)
{
	struct snapshot s;

	(void)state;
	load(BASIC, &s);
	round_trip(&s);
	snapshot_free(&s);
}

/* full.json holds every field of the document but the host's CPU time. */
static void test_full_round_trip(void **state)
{
	struct snapshot s;

	(void)state;
	load(FULL, &s);
	assert_true(s.calib_rounds > 0 && s.handlers[0].probe_measured);
	round_trip(&s);
	snapshot_free(&s);
}

/* With the host's CPU time, the CPU station counts the other processes'
 * load (the model's others_busy): full.json's CPUs are its nproc. */
static void test_full_with_host_cpu_round_trip(void **state)
{
	struct snapshot s;
	double own = 0;

	(void)state;
	load(FULL, &s);
	for (int i = 0; i < s.n_bundles; i++)
		own += s.bundles[i].cpu_s;
	s.host_cpu_measured = true;
	s.host_cpu_s = own + 0.25 * s.duration_s * s.nproc;
	round_trip(&s);
	/* and the busy time of the bundles' CPUs, where fewer than the host's */
	s.bundle_cpus_busy_measured = true;
	s.bundle_cpus_busy_s = own + 0.1 * s.duration_s;
	round_trip(&s);
	snapshot_free(&s);
}

/* The snapshots named on the command line (main()). */
static char **extra_paths;
static int n_extra_paths;

static void test_named_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < n_extra_paths; i++) {
		struct snapshot s;
		char err[512];

		if (snapshot_load(extra_paths[i], &s, err, sizeof(err)))
			fail_msg("%s", err);
		round_trip(&s);
		snapshot_free(&s);
		print_message("round trip of %s: equal\n", extra_paths[i]);
	}
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
	s->hosts[1].name = xstrdup("web-2");	/* stripped: the hosts travel as their count */
	s->host = xstrdup("web-1,web-2");
	s->flow_file = xstrdup(names[1]);
	s->threads_dropped = 3;
	s->host_cpu_measured = true;
	s->host_cpu_s = 4.9e-324;
	s->calib_rounds = INT_MAX;
	for (int c = 0; c < 4; c++)
		s->probe_cost[c] = (struct snap_probe_cost){ c != 0, 100.0 * c + 0.1, 5e-324 * c };
	for (int k = 0; k < SNAP_SLOTS; k++)
		s->probe_slots[k] = (struct snap_slot_cost){
			.measured = k % 3 != 0,
			.hit_ns = k + 0.1,
			.in_window_ns = -k / 3.0,
			.jitter_ns = 1e-310 * k,
			.in_window_jitter_ns = k % 2 ? NAN : 0.5 * k,
			.first_hit_ns = 1e300 / (k + 1),
			.behaves_as = k % 2 ? xstrdup(names[k % ARRAY_SIZE(names)]) : NULL,
		};

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
		h->unwound = i + 1;
		h->probe_measured = i % 2 == 0;
		h->probe_ns = UINT64_MAX - 7 * i;
		h->self_probe_ns = 1000 * i + 1;
		h->nested_calls = UINT64_MAX / 5 + i;
		h->probe_cpu_measured = i % 3 == 0;
		h->probe_cpu_ns = UINT64_MAX / 3 - 11 * i;
		h->entry_site = xstrdup(names[(i + 2) % ARRAY_SIZE(names)]);
		h->exit_site = i % 3 ? xstrdup("ret") : NULL;
		/* stripped: the model does not read them */
		h->site_classes = 0x6;
		h->exits_fallback = xstrdup("a jump out");
		h->n_instances = 1;
		h->instances = xcalloc(1, sizeof(*h->instances));
		h->instances[0] = (struct snap_instance_stats){ 42, 1, 2, xstrdup("web-2") };
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
					  true };

	s->n_flows = 2;
	s->flows = xcalloc(2, sizeof(*s->flows));
	s->flows[0].name = xstrdup("check out");
	s->flows[0].entry = xstrdup(names[0]);
	s->flows[0].invocations = 10;
	s->flows[0].n_visits = 2;
	s->flows[0].visits = xcalloc(2, sizeof(*s->flows[0].visits));
	s->flows[0].visits[0] = (struct snap_visit){ xstrdup(names[2]), 20 };
	s->flows[0].visits[1] = (struct snap_visit){ xstrdup(names[4]), 0 };
	s->flows[0].n_declared = 2;
	s->flows[0].declared = xcalloc(2, sizeof(*s->flows[0].declared));
	s->flows[0].declared[0] = (struct snap_edge){ xstrdup(names[0]), xstrdup(names[2]), 0,
						      false, true, false };
	s->flows[0].declared[1] = (struct snap_edge){ xstrdup(names[3]), xstrdup(names[4]),
						      UINT64_MAX, true, true, true };
	/* its entry ran: model_build() leaks a string for a flow whose entry
	 * never ran (user/model/model.c, build_flows(), "others"), which LSan
	 * would blame on this test */
	s->flows[1].name = xstrdup("nothing declared");
	s->flows[1].entry = xstrdup(names[5]);
	s->flows[1].invocations = 3;

	s->n_bundles = 2;
	s->bundles = xcalloc(2, sizeof(*s->bundles));
	s->bundles[0].name = xstrdup("b\xc3\xbc ndle");
	s->bundles[0].n_pids = 3;
	s->bundles[0].pids = xcalloc(3, sizeof(int));
	s->bundles[0].threads = 16;
	s->bundles[0].instances = 2;
	s->bundles[0].workers = 8;
	s->bundles[0].cpu_measured = true;
	s->bundles[0].cpu_s = 1.0 / 3;
	s->bundles[0].cpus = 1.5;
	s->bundles[0].cpus_source = xstrdup("cgroup cpu.max");
	s->bundles[0].unprobed_measured = true;	/* record --unprobed */
	s->bundles[0].unprobed_s = 1.0 / 7;
	s->bundles[0].unprobed_cpu_s = 1e-3 / 3;
	s->bundles[0].late_calls = UINT64_MAX / 3;
	s->bundles[0].late_s = 0.25;
	s->bundles[0].counted_calls = UINT64_MAX / 5;
	s->bundles[0].counted_window_calls = 3;
	s->bundles[0].counted_probe_s = 1e-4 / 3;
	s->bundles[0].counted_s = 1.0 / 9;
	s->bundles[0].counted_cpu_s = 1e-3 / 7;
	s->bundles[0].conc_measured = true;
	s->bundles[0].live_max = INT_MAX;
	s->bundles[0].inflight_max = 5;
	s->bundles[0].live_ns[0] = 1;
	s->bundles[0].inflight_ns[7] = 3; /* a level where only one of the two is set */
	s->bundles[0].live_ns[SNAP_CONC_LEVELS - 1] = UINT64_MAX;
	s->bundles[0].inflight_ns[SNAP_CONC_LEVELS - 1] = UINT64_MAX - 1;
	/* stripped: the pids travel as their count */
	s->bundles[0].pids[1] = 4242;
	s->bundles[0].pid_threads = xcalloc(3, sizeof(int));
	s->bundles[0].pid_threads[2] = 9;
	s->bundles[0].pid_hosts = xcalloc(3, sizeof(char *));
	s->bundles[0].pid_hosts[0] = xstrdup("web-2");
	s->bundles[1].name = xstrdup("serial one");
	s->bundles[1].serial = true;
	s->bundles[1].pids = xcalloc(1, sizeof(int));
	s->bundles[1].cpus_source = xstrdup(""); /* travels as NULL, the same to the model */
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
	/* version, snapshot, 4 probe costs, every probe slot, the handlers, edges,
	 * flows, bundles, end */
	assert_int_equal(records, 1 + 1 + 4 + SNAP_SLOTS + s.n_handlers + s.n_edges + s.n_flows +
					  s.n_bundles + 1);
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
	char want[128];

	(void)state;
	/* another version is refused by name, never read into the wrong fields */
	snprintf(want, sizeof(want),
		 "model input line 1: unsupported version 1 (this model reads version %d)",
		 MODEL_INPUT_VERSION);
	check_refused("flowprof-model-input 1\nsnapshot 0x1p+0 4 0x0p+0 0\nend\n", want);
	snprintf(want, sizeof(want),
		 "model input line 1: unsupported version 9 (this model reads version %d)",
		 MODEL_INPUT_VERSION);
	check_refused("flowprof-model-input 9\nend\n", want);
	check_refused("snapshot 0x1p+0 4 0x0p+0 0 0 0x0p+0 0\nend\n",
		      "model input line 1: not a model input (no flowprof-model-input line)");
	check_refused("flowprof-model-input\nend\n", "model input line 1: missing integer");
	check_refused("flowprof-model-input 8\n", "model input line 1: truncated: no end record");
	check_refused("flowprof-model-input 8\nflowprof-model-input 8\nend\n",
		      "model input line 2: unknown record");
	check_refused("flowprof-model-input 8\nsnapshot 0x1p+0 4 0x0p+0 0\nend\n",
		      "model input line 2: missing integer");
	check_refused("flowprof-model-input 8\nsnapshot 0x1p+0 4 0x0p+0 0 1 x 0\nend\n",
		      "model input line 2: bad number");
	check_refused("flowprof-model-input 8\nbundle b 1 2 3 4 0 0 0x0p+0 0x0p+0 %N 0 0x0p+0 0x0p+0 0 0x0p+0 0 0 0x0p+0 0x0p+0 0x0p+0 0 0 0 0 0 0 0 0 "
		      "extra\nend\n",
		      "model input line 2: extra fields");
	check_refused("flowprof-model-input 8\nbundle b 1 2 3 4 0 0 0x0p+0 0x0p+0 %N 0 0x0p+0 0x0p+0 0 0x0p+0 0 0 0x0p+0 0x0p+0 0x0p+0 0 0 0 0 2 "
		      "7\nend\n",
		      "model input line 2: PID_THREADS is 0 or 1");
	check_refused("flowprof-model-input 8\nbundle b 2 2 3 4 0 0 0x0p+0 0x0p+0 %N 0 0x0p+0 0x0p+0 0 0x0p+0 0 0 0x0p+0 0x0p+0 0x0p+0 0 0 0 0 1 "
		      "7\nend\n",
		      "model input line 2: missing integer");
	check_refused("flowprof-model-input 8\nbundle b 1 2 3 4 0 0 0x0p+0 0x0p+0 %N 0 0x0p+0 0x0p+0 0 0x0p+0 0 0 0x0p+0 0x0p+0 0x0p+0 1 1 1 1 64 "
		      "1 1\nend\n",
		      "model input line 2: concurrency level out of range");
	check_refused("flowprof-model-input 8\nbundle b 99999 2\nend\n",
		      "model input line 2: count larger than its line");
	/* counts that fail leave nothing for snapshot_free() to walk */
	check_refused("flowprof-model-input 8\nflow f e 1 99999 h 1\nend\n",
		      "model input line 2: count larger than its line");
	check_refused("flowprof-model-input 8\nsnapshot 0x1p+0 4 0x0p+0 3\nend\n",
		      "model input line 2: missing integer");
	check_refused("flowprof-model-input 8\nsnapshot 0x1p+0 4 0x0p+0 2000000 0 0x0p+0 0 0 0x0p+0\n"
		      "end\n",
		      "model input line 2: integer out of range");
	check_refused("flowprof-model-input 8\nwhat\nend\n", "model input line 2: unknown record");
	check_refused("flowprof-model-input 8\nprobe_cost 7 1 0x0p+0 0x0p+0\nend\n",
		      "model input line 2: bad site class");
	check_refused("flowprof-model-input 8\nprobe_slot 16 1 0x0p+0 0x0p+0 0x0p+0 0x0p+0 "
		      "%N\nend\n",
		      "model input line 2: bad probe slot");
	check_refused("flowprof-model-input 8\nprobe_slot 3 1 0x0p+0 0x0p+0 0x0p+0 0x0p+0 0x0p+0\nend\n",
		      "model input line 2: missing string");
	check_refused("flowprof-model-input 8\nhandler a b c d e 0 1 1 0 1 1 1 1 1 0 0x0p+0 "
		      "0x0p+0 0x0p+0 0 1 0 0 0 0 0 0 0 0 0 0 0 %N %N 1 9999 1\nend\n",
		      "model input line 2: bucket out of range");
	check_refused("flowprof-model-input 8\nedge a b 1x 0 0 0\nend\n",
		      "model input line 2: bad integer");
	check_refused("flowprof-model-input 8\nedge a b -1 0 0 0\nend\n",
		      "model input line 2: bad integer");
	check_refused("flowprof-model-input 8\nedge a b 1 0 0\nend\n",
		      "model input line 2: missing integer");
	check_refused("flowprof-model-input 8\nsnapshot 0x1p+0 2147483648 0x0p+0 0 0 0x0p+0 0\n"
		      "end\n",
		      "model input line 2: integer out of range");
	check_refused("", "model input line 0: truncated: no end record");
}

/* Extra arguments name more snapshots to hold the format to, e.g. a real
 * recording (the header comment says how to make one). */
int main(int argc, char **argv)
{
	struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_round_trip),
		cmocka_unit_test(test_full_round_trip),
		cmocka_unit_test(test_full_with_host_cpu_round_trip),
		cmocka_unit_test(test_awkward_round_trip),
		cmocka_unit_test(test_one_record_per_line),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_named_round_trip),
	};
	size_t n = ARRAY_SIZE(tests);

	extra_paths = argv + 1;
	n_extra_paths = argc - 1;
	/* without snapshots named, the last test has nothing to hold: leave it
	 * out rather than pass on nothing */
	if (!n_extra_paths)
		n--;
	return _cmocka_run_group_tests("test_model_input", tests, n, NULL, NULL);
}
