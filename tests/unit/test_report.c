// SPDX-License-Identifier: MIT
/*
 * The readable report (user/report/report.c) and what it stands on, units
 * (user/base/units.c) and terminal escaping (user/base/text.c): the
 * fixture's table against its golden text, every unit boundary, and
 * terminal escaping of names taken from a target.
 * Run from the repository root (tests/run-tests.sh does): reads
 * tests/snapshots/basic.json and tests/snapshots/basic.txt.
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
#include "cost_slot.h"
#include "report/report.h"
#include "snapshot/snapshot.h"

#define FIXTURE "tests/snapshots/basic.json"
#define GOLDEN "tests/snapshots/basic.txt"

/* The report of s as one string. Caller frees. */
/* The report of s with model m (NULL: the measurements alone), as text. */
static char *render_model(const struct snapshot *s, const struct model *m,
			  const struct report_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	report_print(f, s, m, o);
	fclose(f);
	return text;
}

static char *render(const struct snapshot *s, const struct report_opts *o)
{
	return render_model(s, NULL, o);
}

static void load_fixture(struct snapshot *s)
{
	char err[512];

	if (snapshot_load(FIXTURE, s, err, sizeof(err)))
		fail_msg("%s (run from the repository root)", err);
}

/* The first line where two texts differ, to make a failure readable. */
static void assert_same_text(const char *got, const char *want)
{
	const char *g = got, *w = want;
	int line = 1;

	while (*g && *g == *w) {
		line += *g == '\n';
		g++, w++;
	}
	if (*g || *w) {
		const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');

		while (g > got && g[-1] != '\n')
			g--;
		while (w > want && w[-1] != '\n')
			w--;
		fail_msg("line %d differs:\n got: %.*s\nwant: %.*s", line,
			 ge ? (int)(ge - g) : (int)strlen(g), g,
			 we ? (int)(we - w) : (int)strlen(w), w);
	}
}

/* ---- the table ---------------------------------------------------------- */

static void test_golden_report(void **state)
{
	struct snapshot s;
	char *got, *want = read_file(GOLDEN, NULL);

	(void)state;
	assert_non_null(want);
	load_fixture(&s);
	got = render(&s, NULL);
	assert_same_text(got, want);
	free(got);
	free(want);
	snapshot_free(&s);
}

static void test_report_sections(void **state)
{
	struct snapshot s;
	char *text;
	const char *checkout, *persist, *cache;

	(void)state;
	load_fixture(&s);
	text = render(&s, NULL);
	/* Sorted by total time: checkout (3.95 s) before persist, cache (0) last. */
	checkout = strstr(text, "\nshop.checkout ");
	persist = strstr(text, "\nshop.persist ");
	cache = strstr(text, "\nshop.cache ");
	assert_non_null(checkout);
	assert_true(checkout < persist && persist < cache);
	assert_non_null(strstr(text, "shop.browse -> shop.persist       12  observed, NOT declared\n"));
	assert_non_null(strstr(text, "shop.browse -> shop.cache          0  declared (flow browse), "
				     "NEVER SEEN\n"));
	assert_non_null(strstr(text, "  12 returns had no matching entry (calls in progress when "
				     "recording started)\n"));
	assert_non_null(strstr(text, "  ! single-stepped probe sites: shop.price: each call there "
				     "costs the service about 11.8 µs (812 ns at a nop5 site), "
				     "11.0 µs of it inside the raw times\n"));
	/* Counters that are zero say nothing. */
	assert_null(strstr(text, "edge map was full"));
	free(text);

	/* --ascii style units, and on-CPU time not measured. */
	for (int i = 0; i < s.n_handlers; i++)
		s.handlers[i].oncpu_measured = false;
	text = render(&s, &(struct report_opts){ .ascii = true });
	assert_null(strstr(text, "\xc2\xb5"));
	assert_non_null(strstr(text, "shop.price      6000   200/s  96.9 us  94.9 us   153 us   "
				     "227 us    96.9 us     n/a  581 ms           0  single-step\n"));
	free(text);
	snapshot_free(&s);
}

static void test_report_empty_and_uncalibrated(void **state)
{
	struct snapshot s = { 0 };
	char *text;

	(void)state;
	s.host = xstrdup("h");
	s.duration_s = 0.5;
	text = render(&s, NULL);
	assert_same_text(text,
			 "flowprof snapshot: host h\n"
			 "recorded (start time unknown) for 500 ms\n"
			 "the probe's own cost: not calibrated in this recording (times include it)\n"
			 "\n"
			 "Accuracy: nothing flagged; times include the probe's own cost (raw: no "
			 "model was built)\n"
			 "\n"
			 "Handlers, by total time (raw: with the probe's own cost; mean, percentiles "
			 "and max are inclusive; self excludes nested handlers)\n"
			 "  (no handlers)\n");
	free(text);
	snapshot_free(&s);
}

/* SITE: a handler whose probe points differ in class says "mixed", and
 * which classes under the table. */
/* A handler reached again from its own nested calls is named under the
 * table, with the way back; one that is not, never. */
static void test_report_recursive(void **state)
{
	struct snapshot s;
	char *text;

	(void)state;
	load_fixture(&s);
	text = render(&s, NULL);
	assert_null(strstr(text, "Recursive"));
	free(text);
	/* shop.persist calls shop.checkout, which calls shop.persist */
	free(s.edges[3].from);
	free(s.edges[3].to);
	s.edges[3].from = xstrdup("shop.persist");
	s.edges[3].to = xstrdup("shop.checkout");
	text = render(&s, NULL);
	assert_non_null(strstr(text, "\nRecursive (a nested call's time counts again, in TOTAL, in "
				     "the call that holds it): shop.checkout (through shop.persist), "
				     "shop.persist (through shop.checkout)\n"));
	free(text);
	/* an asynchronous call nests nothing */
	s.edges[3].async = true;
	text = render(&s, NULL);
	assert_null(strstr(text, "Recursive"));
	free(text);
	snapshot_free(&s);
}

static void test_report_mixed_sites(void **state)
{
	struct snapshot s;
	char *text;

	(void)state;
	load_fixture(&s);
	s.handlers[2].site_classes = 1u << 1 | 1u << 3; /* shop.price */
	text = render(&s, NULL);
	assert_non_null(strstr(text, "\nshop.price      6000   200/s  96.9 µs  94.9 µs   153 µs   "
				     "227 µs    96.9 µs     97%  581 ms           0  mixed\n"));
	assert_non_null(strstr(text, "\nshop.cache         0     0/s        -        -        -   "
				     "     -          -       -    0 ns           0  unknown\n"
				     "mixed: probe points of several site classes (each call is "
				     "corrected by the cost of the probes it met)\n"
				     "  shop.price: nop5, single-step\n\nFlows"));
	/* still warned of: its dearest class is single-step */
	assert_non_null(strstr(text, "single-stepped probe sites: shop.price: "));
	free(text);
	snapshot_free(&s);
}

/* Names from a target cannot drive the terminal. */
static void test_report_escapes_names(void **state)
{
	struct snapshot s;
	char *text;

	(void)state;
	load_fixture(&s);
	free(s.handlers[2].id);
	s.handlers[2].id = xstrdup("shop.\x1b]0;owned\x07price\n");
	free(s.host);
	s.host = xstrdup("web\x1b[2J-1");
	text = render(&s, NULL);
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x07'));
	assert_non_null(strstr(text, "host web\\x1B[2J-1 (4 CPUs)"));
	assert_non_null(strstr(text, "\nshop.\\x1B]0;owned\\x07price\\n   6000 "));
	assert_non_null(strstr(text, "single-stepped probe sites: shop.\\x1B]0;owned\\x07price\\n: "));
	free(text);
	/* in the SITE column and under the table too */
	free(s.handlers[2].site_class);
	s.handlers[2].site_class = xstrdup("nop\x1b[2J5");
	s.handlers[2].site_classes = 1u << 1 | 1u << 2;
	text = render(&s, NULL);
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "\n  shop.\\x1B]0;owned\\x07price\\n: nop5, emulated\n"));
	s.handlers[2].site_classes = 0;
	free(text);
	text = render(&s, NULL);
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "  nop\\x1B[2J5\n"));
	free(text);
	snapshot_free(&s);
}

/* ---- units -------------------------------------------------------------- */

static const char *dur(double ns, bool ascii)
{
	static char buf[UNITS_BUF];

	return units_duration(buf, sizeof(buf), ns, ascii);
}

static const char *rate(double per_s)
{
	static char buf[UNITS_BUF];

	return units_rate(buf, sizeof(buf), per_s);
}

static const char *pct(double share)
{
	static char buf[UNITS_BUF];

	return units_percent(buf, sizeof(buf), share);
}

static void test_units_duration(void **state)
{
	(void)state;
	assert_string_equal(dur(0, false), "0 ns");
	assert_string_equal(dur(1, false), "1 ns");
	assert_string_equal(dur(812, false), "812 ns");
	assert_string_equal(dur(812.4, false), "812 ns");
	assert_string_equal(dur(999.4, false), "999 ns");
	assert_string_equal(dur(999.6, false), "1.00 \xc2\xb5s");
	assert_string_equal(dur(1240, false), "1.24 \xc2\xb5s");
	assert_string_equal(dur(1240, true), "1.24 us");
	assert_string_equal(dur(12345, false), "12.3 \xc2\xb5s");
	assert_string_equal(dur(123456, false), "123 \xc2\xb5s");
	assert_string_equal(dur(999499, true), "999 us");
	assert_string_equal(dur(999600, true), "1.00 ms");
	assert_string_equal(dur(3.1e6, false), "3.10 ms");
	assert_string_equal(dur(2e9, false), "2.00 s");
	assert_string_equal(dur(30e9, false), "30.0 s");
	assert_string_equal(dur(125e9, false), "125 s");
	assert_string_equal(dur(86400e9, false), "86400 s");
	assert_string_equal(dur(-1, false), "-");
	assert_string_equal(dur(NAN, false), "-");
	assert_string_equal(dur(INFINITY, false), "-");
}

static void test_units_rate_and_percent(void **state)
{
	(void)state;
	assert_string_equal(rate(0), "0/s");
	assert_string_equal(rate(0.5), "0.50/s");
	assert_string_equal(rate(40), "40.0/s");
	assert_string_equal(rate(812), "812/s");
	assert_string_equal(rate(999.4), "999/s");
	assert_string_equal(rate(999.6), "1.0k/s");
	assert_string_equal(rate(1234), "1.2k/s");
	assert_string_equal(rate(24500), "24.5k/s");
	assert_string_equal(rate(245000), "245k/s");
	assert_string_equal(rate(3.1e6), "3.1M/s");
	assert_string_equal(rate(5e12), "5000G/s");
	assert_string_equal(rate(NAN), "-");
	assert_string_equal(pct(0), "0%");
	assert_string_equal(pct(0.001), "<1%");
	assert_string_equal(pct(0.2), "20%");
	assert_string_equal(pct(0.997), ">99%");
	assert_string_equal(pct(1), "100%");
	assert_string_equal(pct(1.2), "100%");
	assert_string_equal(pct(-0.1), "-");
}

static void check_escape(const char *in, const char *want)
{
	char *got = term_escape(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_term_escape(void **state)
{
	(void)state;
	check_escape(NULL, "");
	check_escape("shop.checkout", "shop.checkout");
	check_escape("a\nb\tc\rd", "a\\nb\\tc\\rd");
	check_escape("\x1b[31mred\x1b[0m", "\\x1B[31mred\\x1B[0m");
	check_escape("bell\x07 del\x7f", "bell\\x07 del\\x7F");
	check_escape("caf\xc3\xa9 \xc2\xb5s", "caf\xc3\xa9 \xc2\xb5s"); /* UTF-8 kept */
	check_escape("\xff\xfe", "\\xFF\\xFE");				/* not UTF-8 */
	check_escape("\xc3", "\\xC3");					/* truncated */
	check_escape("\xc0\xaf", "\\xC0\\xAF");				/* overlong */
	check_escape("\xed\xa0\x80", "\\xED\\xA0\\x80");		/* surrogate */
	check_escape("\xc2\x9b" "2J", "\\u{009B}2J");			/* C1 CSI */
	check_escape("abc\xe2\x80\xae" "def", "abc\\u{202E}def");	/* bidi override */
	check_escape("back\\slash", "back\\slash");
	assert_int_equal(display_width("\xc2\xb5s"), 2);
	assert_int_equal(display_width("shop"), 4);
	assert_int_equal(display_width(NULL), 0);
}


/* The model's report: corrected times with their uncertainty (sample,
 * bucket, probe jitter), and the flags the first lines raise. */
static void test_report_uncertainty_and_flags(void **state)
{
	struct snapshot s;
	struct model m;
	char err[256], *text = NULL, pm[UNITS_BUF];
	size_t len = 0;
	FILE *f;
	int browse;

	(void)state;
	load_fixture(&s);
	assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
	browse = model_handler_index(&m, "shop.browse");
	assert_true(browse >= 0);
	/* the mean's: 1.96 sigma / sqrt(n), no probe jitter in this snapshot */
	assert_float_equal(m.handlers[browse].unc.mean_ns, 1.96 * 132391.2 / 60, 1);
	/* a percentile's: at least half its bucket (1/32 to 1/64 of it) */
	assert_true(m.handlers[browse].unc.p50_ns >= m.handlers[browse].p50_ns / 64);
	assert_true(m.handlers[browse].unc.p99_ns > m.handlers[browse].unc.p50_ns);
	f = open_memstream(&text, &len);
	report_print(f, &s, &m, &(struct report_opts){ .verbose = false });
	fclose(f);
	assert_non_null(strstr(text, "  ! probe-dominated: mail.send (704 ns raw, 64 ns "));
	assert_non_null(strstr(text, "  ! single-stepped probe sites: shop.price: "));
	/* recorded far below its ceiling (7.5k/s against 120/s for browse) */
	assert_non_null(strstr(text, "  ! the maximum throughput is "));
	assert_non_null(strstr(text, "x the recorded load (where "));
	/* the ceiling's station named on the headroom line where it is not the bottleneck */
	assert_true(m.ceiling_station >= 0);
	if (m.ceiling_station != m.bottleneck ||
	    (m.headroom < 1 && m.stations[m.bottleneck].utilization < 1))
		assert_non_null(strstr(text, " fills first (with the waits predicted there)\n"));
	else
		assert_null(strstr(text, " fills first (with the waits predicted there)"));
	assert_null(strstr(text, "fewer than 100 calls"));
	assert_null(strstr(text, "over-corrected"));
	/* the fixture's browse flow fails Little's check (model_checks.c) */
	assert_non_null(strstr(text, "  ! self-checks that fail: browse (the model's 269 µs inside "
				     "its entry, 429 µs measured): "));
	assert_non_null(strstr(text, "bottleneck: "));
	assert_non_null(strstr(text, "    shop.checkout 3.92 s (3.27 ms ±2.9% a call, 1200 calls),\n"));
	assert_non_null(strstr(text, "  browse     120/s     7.5k/s   429 µs ±1.0%"));
	/* the details only with -v */
	assert_null(strstr(text, "Closed workload"));
	assert_non_null(strstr(text, "More with -v"));
	free(text);
	/* a failed self-check (model_checks.c finds them: test_model_flows) is
	 * flagged with its figures */
	m.stations[0].count_gap = true;
	m.stations[0].busy_sampled = 2.39;
	m.stations[0].busy_raw = 1.52;
	text = NULL;
	f = open_memstream(&text, &len);
	report_print_flags(f, &s, &m, &(struct report_opts){ .verbose = false });
	fclose(f);
	{
		char *want = xasprintf("  ! self-checks that fail: %s (2.39 threads inside its "
				       "handlers at once, their times 1.52 busy), browse (the "
				       "model's ", m.stations[0].name);

		assert_non_null(strstr(text, want));
		free(want);
	}
	free(text);
	model_free(&m);

	/* few calls, a drifted calibration and jitter in the correction */
	s.handlers[5].calls = 40; /* mail.send */
	s.probe_slots[SLOT_ENTRY_NOP5].measured = true;
	s.probe_slots[SLOT_ENTRY_NOP5].first_hit_ns = 1300;
	s.probe_slots[SLOT_ENTRY_NOP5].hit_ns = 2950;
	s.probe_slots[SLOT_ENTRY_NOP5].jitter_ns = 100;
	s.probe_slots[SLOT_ENTRY_NOP5].in_window_jitter_ns = 40;
	for (int i = 0; i < s.n_handlers; i++) {
		s.handlers[i].probe_measured = true;
		s.handlers[i].probe_ns = s.handlers[i].calls * 640;
		s.handlers[i].self_probe_ns = s.handlers[i].calls * 640;
	}
	assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
	/* its own pair by its kinds' in-window jitters (unknown here: the
	 * dearest entry's, 40 ns, and no exit kind measured); none nested in
	 * shop.price */
	browse = model_handler_index(&m, "shop.price");
	assert_float_equal(m.handlers[browse].unc.min_ns, 40, 1e-6);
	/* shop.checkout: 2 more pairs nested per call (its edges), each whole
	 * inside its time: by the hits' jitter */
	browse = model_handler_index(&m, "shop.checkout");
	assert_float_equal(m.handlers[browse].unc.min_ns,
			   40 + 100 * (double)s.handlers[1].nested_calls / 1200, 1e-6);
	text = NULL;
	f = open_memstream(&text, &len);
	report_print(f, &s, &m, &(struct report_opts){ .ascii = true, .verbose = true });
	fclose(f);
	assert_non_null(strstr(text, "  ! the probe cost drifted while recording (the host's load "
				     "changed?): nop5 (1.30 us to 2.95 us a hit)"));
	assert_non_null(strstr(text, "  ! fewer than 100 calls: mail.send (40): "));
	assert_non_null(strstr(text, "Closed workload"));
	assert_string_equal(units_uncertainty(pm, sizeof(pm), 100, 1.2, true), "+-1.2%");
	assert_string_equal(units_uncertainty(pm, sizeof(pm), 100, 15, false), "±15%");
	assert_string_equal(units_uncertainty(pm, sizeof(pm), 0, 1300, true), "+-1.30 us");
	/* larger than the value: as a duration, in every column alike */
	assert_string_equal(units_uncertainty(pm, sizeof(pm), 1000, 1000, true), "+-100%");
	assert_string_equal(units_uncertainty(pm, sizeof(pm), 1000, 9190, true), "+-9.19 us");
	free(text);
	model_free(&m);

	/* mail's probes took 0.6 of its processes' 1.0 s of CPU: its CPU demand
	 * is the 0.4 s left, which the report cannot vouch for; at 0.4 s of
	 * probes it can */
	s.bundles[1].cpu_measured = true;
	s.bundles[1].cpu_s = 1.0;
	s.handlers[5].probe_cpu_measured = true;
	for (int share = 6; share >= 4; share -= 2) {
		s.handlers[5].probe_cpu_ns = (uint64_t)share * 100000000ULL;
		assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
		text = NULL;
		f = open_memstream(&text, &len);
		report_print(f, &s, &m, &(struct report_opts){ .ascii = true });
		fclose(f);
		if (share == 6)
			assert_non_null(strstr(text, "  ! the probes took 60% of mail's CPU time (0.6 of "
						     "1 s, at their calibrated cost): "));
		else
			assert_null(strstr(text, "the probes took"));
		free(text);
		model_free(&m);
	}

	/* measured without probes after the recording (record --unprobed):
	 * mail's calls took 0.6 s of CPU there, so its probes (0.4 s at their
	 * calibrated cost) cost it 0.4 s, as calibrated; at 0.75 s they cost
	 * 0.25 s, and the calibration's 0.4 s is 60% more, which the report
	 * says (with the waking the probes spared, 0 here: no wake-ups kept) */
	s.bundles[1].unprobed_measured = true;
	s.bundles[1].unprobed_s = 1.0;
	s.bundles[1].late_calls = s.handlers[5].calls;
	s.bundles[1].late_s = s.duration_s;
	for (int agrees = 1; agrees >= 0; agrees--) {
		double work = agrees ? 0.6 : 0.75;

		s.bundles[1].unprobed_cpu_s = work / s.duration_s;
		assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
		assert_float_equal(m.stations[model_station_index(&m, "mail")].probes_measured_s,
				   1.0 - work, 1e-9);
		text = NULL;
		f = open_memstream(&text, &len);
		report_print(f, &s, &m, &(struct report_opts){ .ascii = true });
		fclose(f);
		if (agrees)
			assert_null(strstr(text, "probe-cost-disagrees"));
		else
			assert_non_null(strstr(text, "  ! the probes' calibrated cost (0.4 s) is 60% more "
						     "than what they cost mail's processes as measured "
						     "without them after the recording (0.25 s): its "
						     "handlers' corrected times are likely too low (their "
						     "raw times bound them from above)"));
		free(text);
		model_free(&m);
	}
	s.bundles[1].unprobed_measured = false;

	/* shop.checkout's correction takes out its whole time: its calls now
	 * take less than the calls nested in them, which the report says */
	s.handlers[1].probe_measured = true;
	s.handlers[1].probe_ns = s.handlers[1].total_ns;
	assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
	text = NULL;
	f = open_memstream(&text, &len);
	report_print(f, &s, &m, &(struct report_opts){ .ascii = true });
	fclose(f);
	assert_non_null(strstr(text, "  ! over-corrected: shop.checkout (0 ns a call, "));
	assert_non_null(strstr(text, " in the handlers nested in it; 3."));
	free(text);
	model_free(&m);
	snapshot_free(&s);
}

/* --no-model: the handlers' times corrected, none of the model's sections or
 * its CPU flags; and a flow whose entry also runs inside another flow. */
static void test_report_no_model_and_entry_elsewhere(void **state)
{
	struct snapshot s;
	struct model m;
	char err[256], *text;

	(void)state;
	load_fixture(&s);
	assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
	text = render_model(&s, &m, &(struct report_opts){ .no_model = true });
	assert_non_null(strstr(text, "\nHandlers, by total time (corrected for the probe's own cost"));
	assert_non_null(strstr(text, "  ! probe-dominated: mail.send (704 ns raw, 64 ns "));
	assert_null(strstr(text, "bottleneck: "));
	assert_null(strstr(text, "the maximum throughput is "));
	assert_null(strstr(text, "More with -v"));
	assert_null(strstr(text, "flows whose entry also runs inside"));
	free(text);
	model_free(&m);

	/* checkout calls browse's entry 600 times: 600 of its 3600 calls */
	for (int v = 0; v < s.flows[1].n_visits; v++)
		if (!strcmp(s.flows[1].visits[v].handler, "shop.persist")) {
			free(s.flows[1].visits[v].handler);
			s.flows[1].visits[v].handler = xstrdup("shop.browse");
			s.flows[1].visits[v].calls = 600;
		}
	assert_int_equal(model_build(&s, NULL, &m, err, sizeof(err)), 0);
	text = render_model(&s, &m, &(struct report_opts){ .ascii = true });
	assert_non_null(strstr(text, "  ! flows whose entry also runs inside other flows: browse "
				     "(shop.browse: 600 of 3600 calls): a flow's rate counts its own "
				     "arrivals only, but its mean and percentiles are its entry "
				     "handler's, over all its calls\n"));
	free(text);
	model_free(&m);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_duration),
		cmocka_unit_test(test_units_rate_and_percent),
		cmocka_unit_test(test_term_escape),
		cmocka_unit_test(test_golden_report),
		cmocka_unit_test(test_report_sections),
		cmocka_unit_test(test_report_empty_and_uncalibrated),
		cmocka_unit_test(test_report_mixed_sites),
		cmocka_unit_test(test_report_recursive),
		cmocka_unit_test(test_report_no_model_and_entry_elsewhere),
		cmocka_unit_test(test_report_escapes_names),
		cmocka_unit_test(test_report_uncertainty_and_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
