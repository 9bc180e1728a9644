// SPDX-License-Identifier: MIT
#include "calibrate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "collect/collect.h"
#include "site_class_funcs.h"

#if defined(__x86_64__)
DEFINE_SITE_CLASS_FUNCS(fp_calib);

static void (*const calib_fn[3])(void) = { fp_calib_nop5, fp_calib_emulated, fp_calib_sstep };
static const enum site_class calib_cls[3] = { SITE_NOP5, SITE_EMULATED, SITE_SINGLESTEP };
/* Single-stepped calls cost ~10 us each: fewer of them. */
static const int calib_calls[3] = { 20000, 20000, 2000 };

static double time_calls(void (*fn)(void), int n)
{
	double best = 0;

	/* best of 3: calibration runs beside the target's own load */
	for (int rep = 0; rep < 3; rep++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < n; i++)
			fn();
		double per = (double)(now_ns() - t0) / n;

		if (rep == 0 || per < best)
			best = per;
	}
	return best;
}

void calibrate_prepare(struct calibration *c, int first_hid)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 3; i++) {
		uint64_t off;

		if (self_file_offset((uintptr_t)calib_fn[i], &off)) {
			log_info("calibration: cannot find flowprof's own code; probe cost unknown");
			c->n_sites = 0;
			return;
		}
		c->sites[i].offset = off;
		c->sites[i].hid = (uint32_t)(first_hid + i);
		c->cls[i] = calib_cls[i];
		c->baseline_ns[i] = time_calls(calib_fn[i], calib_calls[i]);
		c->n_sites++;
	}
}

void calibrate_run(struct calibration *c)
{
	for (int i = 0; i < c->n_sites; i++) {
		double t = time_calls(calib_fn[i], calib_calls[i]);
		struct probe_cost *pc = &c->cost[c->cls[i]];

		pc->per_call_ns = t > c->baseline_ns[i] ? t - c->baseline_ns[i] : 0;
	}
}
#else
void calibrate_prepare(struct calibration *c, int first_hid)
{
	(void)first_hid;
	memset(c, 0, sizeof(*c));
	log_info("calibration: not implemented on this architecture; probe cost unknown");
}

void calibrate_run(struct calibration *c)
{
	(void)c;
}
#endif

void calibrate_finish(struct calibration *c, struct recorder *r)
{
	struct handler_stats hs;

	for (int i = 0; i < c->n_sites; i++) {
		struct probe_cost *pc = &c->cost[c->cls[i]];

		if (collect_handler(r, c->sites[i].hid, &hs) || !hs.calls)
			continue;
		pc->in_window_ns = (double)hs.total_ns / (double)hs.calls;
		pc->measured = true;
		log_info("probe cost (%s site): %.0f ns per call, %.0f ns inside the measured time",
			 site_class_name(c->cls[i]), pc->per_call_ns, pc->in_window_ns);
	}
}

/* Probe points the single-step warning names, at most. */
#define MAX_LISTED 10

/* Was this (symbol, binary) of handler h listed already, at an earlier site? */
static bool listed_before(const struct resolution *res, size_t i)
{
	const struct probe_site *s = &res->sites[i];

	for (size_t j = 0; j < i; j++) {
		const struct probe_site *o = &res->sites[j];

		if (o->handler == s->handler && o->cls == SITE_SINGLESTEP &&
		    o->kind != PROBE_PYTHON_LINE_GATE && !strcmp(o->symbol, s->symbol) &&
		    !strcmp(o->binary, s->binary))
			return true;
	}
	return false;
}

void calibrate_warn_singlestep(const struct calibration *c, const struct flowfile *ff,
			       const struct resolution *res)
{
	const struct probe_cost *step = &c->cost[SITE_SINGLESTEP], *nop = &c->cost[SITE_NOP5];
	bool ascii = !locale_is_utf8();
	char a[UNITS_BUF], b[UNITS_BUF];
	int n = 0;

	for (int h = 0; h < ff->n_handlers; h++) /* the dearest class: single-step */
		n += handler_site_class(res, h) == SITE_SINGLESTEP;
	if (!n)
		return;
	if (step->measured && nop->measured)
		log_warn("%d handler%s %s probed at a site the kernel must single-step: each call "
			 "there costs the service about %s more (%s at a nop5 site)",
			 n, n == 1 ? "" : "s", n == 1 ? "is" : "are",
			 units_duration(a, sizeof(a), step->per_call_ns, ascii),
			 units_duration(b, sizeof(b), nop->per_call_ns, ascii));
	else
		log_warn("%d handler%s %s probed at a site the kernel must single-step: each call "
			 "there pays a trap and a single-step, about 10x the probe cost of a nop5 "
			 "site", n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
	/* with -fcf-protection every function starts with endbr64: keep it short */
	for (int h = 0, shown = 0; h < ff->n_handlers; h++)
		for (size_t i = 0; i < res->n_sites; i++) {
			const struct probe_site *s = &res->sites[i];

			if (s->handler != h || s->cls != SITE_SINGLESTEP ||
			    s->kind == PROBE_PYTHON_LINE_GATE || listed_before(res, i))
				continue;
			if (shown++ == MAX_LISTED) {
				log_note("  ... and more: `flowprof check` gives the class of every "
					 "probe point");
				return;
			}
			log_note("  %s: %s in %s", ff->handlers[h].id,
				 s->demangled ? s->demangled : s->symbol, s->binary);
		}
}
