// SPDX-License-Identifier: MIT
/*
 * The sweep's analysis and document (user/model/sweep*.c) on synthetic
 * steps: a pool of 4 workers with a 2 ms service, measured at 1..16 users,
 * and offered 200/s to 3000/s. The fit, the think time, each prediction
 * (against exact MVA computed here, or the open model's ceiling), knee and
 * saturation, the table's rows, the document's round trip, and the HTML
 * page (user/report/sweep_html.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "histogram.h"
#include "model/model.h"
#include "report/report.h"
#include "snapshot/snapshot.h"

#define SERVICE_NS 2000000.0	/* 2 ms */
#define THINK_NS 100000.0	/* what the synthetic users add per cycle */
#define SAT_PER_S 1950.0	/* the measured plateau */
#define WINDOW_S 2.0

static const double levels[] = { 1, 2, 4, 8, 16 };
#define N_LEVELS 5

/* Requests the synthetic server completed in a window at n users. */
static uint64_t window_calls(double n)
{
	double x = n / ((SERVICE_NS + THINK_NS) / 1e9);

	return (uint64_t)llround((x < SAT_PER_S ? x : SAT_PER_S) * WINDOW_S);
}

/* ... and so its measured throughput. */
static double measured_x(double n)
{
	return (double)window_calls(n) / WINDOW_S;
}

static void make_snap(struct snapshot *s, uint64_t calls, int threads)
{
	struct snap_handler *h;

	memset(s, 0, sizeof(*s));
	s->version = SNAPSHOT_VERSION;
	s->host = xstrdup("h");
	s->kernel = xstrdup("k");
	s->started_at = xstrdup("2026-01-01T00:00:00Z");
	s->duration_s = WINDOW_S;
	s->nproc = 2;
	s->n_handlers = 1;
	s->handlers = xcalloc(1, sizeof(*s->handlers));
	h = &s->handlers[0];
	h->id = xstrdup("pool.req");
	h->bundle = xstrdup("pool");
	h->symbol = xstrdup("req");
	h->binary = xstrdup("/srv/pool");
	h->site_class = xstrdup("nop5");
	h->calls = h->entries = calls;
	h->total_ns = h->self_ns = (uint64_t)(calls * SERVICE_NS);
	h->min_ns = h->max_ns = (uint64_t)SERVICE_NS;
	h->sumsq_ns2 = (long double)calls * SERVICE_NS * SERVICE_NS;
	h->hist[hist_bucket((unsigned long long)SERVICE_NS)] = calls;
	s->n_flows = 1;
	s->flows = xcalloc(1, sizeof(*s->flows));
	s->flows[0].name = xstrdup("req");
	s->flows[0].entry = xstrdup("pool.req");
	s->flows[0].invocations = calls;
	s->n_bundles = 1;
	s->bundles = xcalloc(1, sizeof(*s->bundles));
	s->bundles[0].name = xstrdup("pool");
	s->bundles[0].pids = xcalloc(1, sizeof(int));
	s->bundles[0].pids[0] = 7;
	s->bundles[0].n_pids = 1;
	s->bundles[0].threads = threads;
}

/* A sweep of n_ok measured steps, then (failed) one failed step. */
static void make_sweep(struct sweep *sw, int n_ok, bool failed)
{
	memset(sw, 0, sizeof(*sw));
	sw->version = SWEEP_VERSION;
	sw->host = xstrdup("h");
	sw->kernel = xstrdup("k");
	sw->started_at = xstrdup("2026-01-01T00:00:00Z");
	sw->flow_file = xstrdup("flows.yaml");
	sw->load = xstrdup("loadgen -c {users}");
	sw->variable = SWEEP_USERS;
	sw->settle_s = 1;
	sw->think_s = NAN;
	sw->n_levels = N_LEVELS;
	sw->levels = xcalloc(N_LEVELS, sizeof(double));
	memcpy(sw->levels, levels, sizeof(levels));
	sw->steps = xcalloc(N_LEVELS, sizeof(*sw->steps));
	for (int i = 0; i < n_ok + failed; i++) {
		struct sweep_step *st = &sw->steps[sw->n_steps++];

		st->level = levels[i];
		st->command = sweep_expand(sw->load, SWEEP_USERS, levels[i]);
		if (i == n_ok) {
			st->status = STEP_FAILED;
			st->exit_status = 3;
			st->reason = xstrdup("the load command exited with status 3");
			st->output_tail = xstrdup("no more users");
			sw->partial = true;
			sw->stop_reason = xasprintf("the step at %g users failed: the load "
						    "command exited with status 3", levels[i]);
			continue;
		}
		st->status = STEP_OK;
		st->window_s = WINDOW_S;
		st->started_at = xstrdup("2026-01-01T00:00:01Z");
		/* the lone user kept one worker busy: the pool's size shows later */
		make_snap(&st->snap, window_calls(levels[i]), i == 0 ? 1 : 4);
	}
}

static void test_expand(void **state)
{
	char *s;

	(void)state;
	s = sweep_expand("wrk -c{users} -t{users} x", SWEEP_USERS, 16);
	assert_string_equal(s, "wrk -c16 -t16 x");
	free(s);
	s = sweep_expand("gen --rate {rate} {users}", SWEEP_RATE, 2.5);
	assert_string_equal(s, "gen --rate 2.5 {users}");
	free(s);
	s = sweep_expand("{users}", SWEEP_USERS, 1);
	assert_string_equal(s, "1");
	free(s);
	s = sweep_level_phrase(SWEEP_USERS, 1);
	assert_string_equal(s, "1 user");
	free(s);
	s = sweep_level_phrase(SWEEP_USERS, 64);
	assert_string_equal(s, "64 users");
	free(s);
	s = sweep_level_phrase(SWEEP_RATE, 2.5);
	assert_string_equal(s, "2.5/s");
	free(s);
}

static void test_is_document(void **state)
{
	static const char yes[] = " {\n  \"flowprof_sweep\": 1, \"steps\": []}";
	static const char no[] = "{\"flowprof_snapshot\": 1, \"flowprof_sweep\": 1}";

	(void)state;
	assert_true(sweep_is_document(yes, strlen(yes)));
	assert_false(sweep_is_document(no, strlen(no)));
	assert_false(sweep_is_document("[]", 2));
	assert_false(sweep_is_document("", 0));
}

static void test_fit_and_predictions(void **state)
{
	struct sweep sw;
	struct snapshot cum;
	struct mva_station pool = { .kind = MVA_QUEUE, .demand = SERVICE_NS, .servers = 4 };
	double x[16], r[16], z;
	const struct sweep_summary *sm = &sw.summary;

	(void)state;
	make_sweep(&sw, N_LEVELS, false);
	make_snap(&cum, 1, 4);
	assert_int_equal(sweep_analyze(&sw, &cum), 0);
	assert_true(sw.fitted);
	assert_null(sw.fit_error);
	assert_int_equal(sw.fit.step, 0);
	assert_true(sw.fit.think_fitted);
	/* Z = N / X - R at one user: the 0.1 ms the synthetic users add (and the
	 * window's rounding to whole requests) */
	assert_float_equal(sw.fit.think_s, 1 / measured_x(1) - SERVICE_NS / 1e9, 1e-12);
	assert_float_equal(sw.fit.think_s, THINK_NS / 1e9, 1e-6);
	assert_string_equal(sw.fit.bottleneck, "pool");
	assert_string_equal(sw.fit.stations[0].name, "pool");
	assert_int_equal(sw.fit.stations[0].servers, 4); /* seen over the sweep, not at 1 user */
	assert_float_equal(sw.fit.stations[0].demand_ns, SERVICE_NS, 1e-6);
	assert_float_equal(sw.fit.max_throughput_per_s, 2000, 1e-9);
	assert_float_equal(sw.fit.knee_users, (SERVICE_NS / 1e9 + sw.fit.think_s) * 2000, 1e-9);

	z = sw.fit.think_s * 1e9;
	assert_int_equal(mva_solve(&pool, 1, z, 16, x, r, NULL), 0);
	for (int i = 0; i < N_LEVELS; i++) {
		const struct sweep_step *st = &sw.steps[i];
		int n = (int)levels[i];

		assert_true(st->predicted);
		assert_float_equal(st->throughput_per_s, measured_x(n), 1e-6);
		assert_float_equal(st->response_ns, (n / measured_x(n) - sw.fit.think_s) * 1e9, 1e-3);
		assert_float_equal(st->pred_throughput_per_s, x[n - 1] * 1e9, 1e-6);
		assert_float_equal(st->pred_response_ns, r[n - 1], 1e-3);
		assert_float_equal(st->err_throughput,
				   (st->pred_throughput_per_s - st->throughput_per_s) /
					   st->throughput_per_s, 1e-12);
		assert_string_equal(st->pred_bottleneck, "pool");
		assert_float_equal(st->pred_bottleneck_utilization,
				   st->pred_throughput_per_s * SERVICE_NS / 1e9 / 4, 1e-9);
		assert_int_equal(st->n_flows, 1);
		assert_string_equal(st->flows[0].name, "req");
		assert_float_equal(st->flows[0].mean_ns, SERVICE_NS, 1);
		assert_float_equal(st->flows[0].pred_rate_per_s, st->pred_throughput_per_s, 1e-9);
	}
	/* the fitted step reproduces itself */
	assert_float_equal(sw.steps[0].err_throughput, 0, 1e-9);

	assert_true(sm->valid);
	assert_true(sm->saturated);
	assert_float_equal(sm->measured_saturation_per_s, SAT_PER_S, 1e-6);
	assert_float_equal(sm->measured_saturation_level, 8, 0);
	assert_float_equal(sm->predicted_saturation_per_s, 2000, 1e-9);
	assert_float_equal(sm->saturation_error, (2000 - SAT_PER_S) / SAT_PER_S, 1e-9);
	/* measured asymptotes: X_sat x N_fit / X_fit = 1950 x 2.1 ms = 4.1 users */
	assert_float_equal(sm->measured_knee_users, SAT_PER_S / measured_x(1), 1e-9);
	assert_int_equal(sm->measured_knee_step, 3);	/* 8 users */
	assert_int_equal(sm->predicted_knee_step, 3);	/* N* = 4.2 */
	snapshot_free(&cum);
	sweep_free(&sw);
}

static void test_think_given(void **state)
{
	struct sweep sw;

	(void)state;
	make_sweep(&sw, 3, false);
	sw.think_s = 0.0005;
	assert_int_equal(sweep_analyze(&sw, NULL), 0);
	assert_false(sw.fit.think_fitted);
	assert_float_equal(sw.fit.think_s, 0.0005, 0);
	/* measured response uses the given Z */
	assert_float_equal(sw.steps[1].response_ns, (2 / measured_x(2) - 0.0005) * 1e9, 1e-3);
	/* no servers from the rest of the sweep: the fitted step saw one thread */
	assert_int_equal(sw.fit.stations[0].servers, 1);
	sweep_free(&sw);
}

static void test_nothing_to_fit(void **state)
{
	struct sweep sw;

	(void)state;
	make_sweep(&sw, 0, true);
	assert_int_equal(sweep_analyze(&sw, NULL), -1);
	assert_false(sw.fitted);
	assert_string_equal(sw.fit_error, "no step measured any completed request: nothing to "
					  "fit the model on");
	sweep_free(&sw);
}

static char *table_of(const struct sweep *sw)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sweep_print_table(f, sw, true);
	fclose(f);
	return buf;
}

/* An open sweep: the offered rates 200/s ... 3000/s against the same pool,
 * whose 4 workers of 2 ms serve 2000/s at most (1950/s measured). */
static void make_open_sweep(struct sweep *sw, const double *rates, int n)
{
	memset(sw, 0, sizeof(*sw));
	sw->version = SWEEP_VERSION;
	sw->flow_file = xstrdup("flows.yaml");
	sw->load = xstrdup("loadgen -r {rate}");
	sw->variable = SWEEP_RATE;
	sw->think_s = NAN;
	sw->n_levels = n;
	sw->levels = xcalloc((size_t)n, sizeof(double));
	memcpy(sw->levels, rates, (size_t)n * sizeof(double));
	sw->steps = xcalloc((size_t)n, sizeof(*sw->steps));
	for (int i = 0; i < n; i++) {
		struct sweep_step *st = &sw->steps[sw->n_steps++];
		double served = rates[i] < SAT_PER_S ? rates[i] : SAT_PER_S;

		st->level = rates[i];
		st->command = sweep_expand(sw->load, SWEEP_RATE, rates[i]);
		st->status = STEP_OK;
		st->window_s = WINDOW_S;
		make_snap(&st->snap, (uint64_t)llround(served * WINDOW_S), 4);
	}
}

static void test_open_sweep(void **state)
{
	static const double rates[] = { 200, 800, 1600, 3000 };
	struct sweep sw;
	const struct sweep_summary *sm = &sw.summary;
	char *t;

	(void)state;
	make_open_sweep(&sw, rates, 4);
	assert_int_equal(sweep_analyze(&sw, NULL), 0);
	assert_int_equal(sw.fit.step, 0);
	assert_false(sw.fit.think_fitted);
	assert_float_equal(sw.fit.think_s, 0, 0);
	/* the open model's ceiling, not the closed asymptote */
	assert_float_equal(sw.fit.max_throughput_per_s, 2000, 1e-6);
	assert_true(isnan(sw.fit.knee_users));
	/* below the ceiling: the offered rate, in the entry's own 2 ms */
	for (int i = 1; i < 3; i++) {
		const struct sweep_step *st = &sw.steps[i];

		assert_true(st->predicted);
		assert_float_equal(st->pred_throughput_per_s, rates[i], 1e-6);
		assert_float_equal(st->pred_response_ns, SERVICE_NS, 1e-3);
		assert_float_equal(st->response_ns, SERVICE_NS, 1e-3);
		assert_float_equal(st->err_throughput, 0, 1e-9);
		assert_float_equal(st->err_response, 0, 1e-9);
		assert_float_equal(st->flows[0].pred_response_ns, SERVICE_NS, 1e-3);
		assert_float_equal(st->pred_bottleneck_utilization, rates[i] * SERVICE_NS / 1e9 / 4,
				   1e-9);
	}
	/* past it: the ceiling, and no response time at all */
	assert_float_equal(sw.steps[3].pred_throughput_per_s, 2000, 1e-6);
	assert_true(isinf(sw.steps[3].pred_response_ns));
	assert_true(isnan(sw.steps[3].err_response));
	assert_float_equal(sw.steps[3].err_throughput, (2000 - SAT_PER_S) / SAT_PER_S, 1e-9);
	assert_float_equal(sw.steps[3].pred_bottleneck_utilization, 1, 1e-6);

	/* served less than 90% of what was offered: saturated */
	assert_true(sm->saturated);
	assert_float_equal(sm->measured_saturation_per_s, SAT_PER_S, 1e-6);
	assert_float_equal(sm->measured_saturation_level, 3000, 0);
	assert_true(isnan(sm->predicted_knee_users));
	assert_true(isnan(sm->measured_knee_users));
	assert_int_equal(sm->measured_knee_step, -1);
	assert_int_equal(sm->predicted_knee_step, -1);
	assert_float_equal(sm->max_abs_err_throughput, (2000 - SAT_PER_S) / SAT_PER_S, 1e-9);
	assert_float_equal(sm->max_abs_err_response, 0, 1e-9);
	t = table_of(&sw);
	assert_non_null(strstr(t, "model: fitted on the step at 200/s; open load, no think time; "
				  "demand 2.00 ms per request; bottleneck pool\n"));
	assert_non_null(strstr(t, "\n  rate  status  X measured    X model   error  R measured"));
	assert_non_null(strstr(t, "   +2.6%     2.00 ms   overload       -  pool ("));
	assert_null(strstr(t, "every offered rate was served"));
	free(t);
	sweep_free(&sw);

	/* every offered rate served: not saturated, and the table says so */
	make_open_sweep(&sw, rates, 2);
	assert_int_equal(sweep_analyze(&sw, NULL), 0);
	assert_false(sm->saturated);
	t = table_of(&sw);
	assert_non_null(strstr(t, "; every offered rate was served), model X_max 2.0k/s: "
				  "error +150%\n"));
	free(t);
	sweep_free(&sw);
}

static void test_partial_table(void **state)
{
	struct sweep sw;
	char *t;

	(void)state;
	make_sweep(&sw, 3, true);
	assert_int_equal(sweep_analyze(&sw, NULL), 0);
	t = table_of(&sw);
	assert_non_null(strstr(t, "Capacity sweep of flows.yaml (PARTIAL: not every step was "
				  "measured)\nload: loadgen -c {users}\n"
				  "stopped: the step at 8 users failed: the load command exited "
				  "with status 3\n"));
	assert_non_null(strstr(t, "\n     8  failed  the load command exited with status 3\n"));
	assert_non_null(strstr(t, "\n users  status  X measured    X model   error  R measured"
				  "    R model   error  bottleneck (U)\n"));
	assert_non_null(strstr(t, "\n     1  ok           476/s      476/s     fit     2.00 ms"
				  "    2.00 ms     fit  pool ("));
	free(t);
	sweep_free(&sw);
}

static void test_document_round_trip(void **state)
{
	struct sweep sw, back;
	struct snapshot cum;
	char *a, *b, *ta, *tb, err[512] = "";

	(void)state;
	make_sweep(&sw, 4, true);
	make_snap(&cum, 1, 4);
	assert_int_equal(sweep_analyze(&sw, &cum), 0);
	a = sweep_to_json(&sw, true);
	if (sweep_parse("sweep.json", a, strlen(a), &back, err, sizeof(err)))
		fail_msg("%s", err);
	b = sweep_to_json(&back, true);
	assert_string_equal(a, b);
	assert_int_equal(back.n_steps, 5);
	assert_int_equal(back.steps[4].status, STEP_FAILED);
	assert_int_equal(back.steps[4].exit_status, 3);
	assert_true(back.partial);
	assert_int_equal(back.steps[2].snap.handlers[0].calls, sw.steps[2].snap.handlers[0].calls);
	ta = table_of(&sw);
	tb = table_of(&back);
	if (strcmp(ta, tb)) {
		write_file_atomic("/tmp/sweep-table-a.txt", ta, strlen(ta), 0644);
		write_file_atomic("/tmp/sweep-table-b.txt", tb, strlen(tb), 0644);
	}
	assert_string_equal(ta, tb);
	free(a);
	free(b);
	free(ta);
	free(tb);
	snapshot_free(&cum);
	sweep_free(&sw);
	sweep_free(&back);
}

static void test_parse_errors(void **state)
{
	struct sweep sw;
	char err[512];
	static const char v2[] = "{\"flowprof_sweep\": 2, \"steps\": []}";
	static const char nosteps[] = "{\"flowprof_sweep\": 1, \"variable\": \"users\"}";
	static const char badstatus[] = "{\"flowprof_sweep\": 1, \"variable\": \"users\", "
					"\"steps\": [{\"users\": 1, \"status\": \"maybe\"}]}";

	(void)state;
	assert_int_equal(sweep_parse("s.json", v2, strlen(v2), &sw, err, sizeof(err)), -1);
	assert_string_equal(err, "s.json: sweep document version 2; this flowprof reads version 1");
	assert_int_equal(sweep_parse("s.json", nosteps, strlen(nosteps), &sw, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "s.json: missing \"steps\" array");
	assert_int_equal(sweep_parse("s.json", badstatus, strlen(badstatus), &sw, err,
				     sizeof(err)), -1);
	assert_string_equal(err, "s.json: steps[0]: \"status\" must be \"ok\", \"failed\" or "
				 "\"interrupted\"");
	assert_int_equal(sweep_parse("s.json", "{", 1, &sw, err, sizeof(err)), -1);
	assert_string_equal(err, "s.json: invalid JSON at byte offset 1: continue");
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The page of a partial sweep: a point per measured step and chart, one
 * line per chart with a vertex per predicted step, the failed step flagged,
 * hostile names escaped, nothing that loads or runs. */
static void test_html_page(void **state)
{
	struct sweep sw;
	char path[] = "/tmp/flowprof-sweep-html-XXXXXX", *page, err[512] = "";
	const char *poly;
	size_t len;
	int fd;

	(void)state;
	make_sweep(&sw, 3, true);
	assert_int_equal(sweep_analyze(&sw, NULL), 0);
	free(sw.load);
	sw.load = xstrdup("loadgen -c {users} '</code><script>alert(1)</script>'");
	free(sw.host);
	sw.host = xstrdup("h<b>\xe2\x80\xae\xff");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	if (sweep_html_write(&sw, "sweep.json", path, err, sizeof(err)))
		fail_msg("%s", err);
	page = read_file(path, &len);
	assert_non_null(page);
	unlink(path);

	assert_int_equal(count(page, "<circle class=\"measured\""), 2 * 3);
	assert_int_equal(count(page, "<polyline class=\"predicted\""), 2);
	poly = strstr(page, "<polyline class=\"predicted\" points=\"");
	assert_non_null(poly);
	poly += strlen("<polyline class=\"predicted\" points=\"");
	{
		/* three vertices, "x,y x,y x,y", at the three measured levels */
		char *pts = xasprintf("%.*s", (int)(strchr(poly, '"') - poly), poly);

		assert_int_equal(count(pts, ","), 3);
		assert_int_equal(count(pts, " "), 2);
		free(pts);
	}
	assert_non_null(strstr(poly, "data-levels=\"1 2 4\""));
	assert_int_equal(count(page, "<g class=\"unmeasured\" data-status=\"failed\""), 2);
	assert_non_null(strstr(page, "<tr data-step=\"3\" class=\"failed\">"));
	assert_non_null(strstr(page, "<tr data-step=\"0\" class=\"fit\">"));
	assert_non_null(strstr(page, "id=\"partial\">PARTIAL"));
	assert_non_null(strstr(page, "data-mark=\"n-star\""));
	assert_non_null(strstr(page, "data-mark=\"x-max\""));
	assert_non_null(strstr(page, "response time (ms)"));
	assert_non_null(strstr(page, "Content-Security-Policy\" content=\"default-src 'none'"));
	/* escaped: markup as entities, the bidi override and the bad byte shown */
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "h<b>"));
	assert_non_null(strstr(page, "&lt;/code&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page, "<title>flowprof sweep: h&lt;b&gt;\\u{202E}\xef\xbf\xbd"
				     "</title>"));
	assert_null(strstr(page, "http:"));
	assert_null(strstr(page, "src="));
	free(page);
	sweep_free(&sw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_is_document),
		cmocka_unit_test(test_fit_and_predictions),
		cmocka_unit_test(test_think_given),
		cmocka_unit_test(test_open_sweep),
		cmocka_unit_test(test_nothing_to_fit),
		cmocka_unit_test(test_partial_table),
		cmocka_unit_test(test_document_round_trip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_html_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
