// SPDX-License-Identifier: MIT
#include "calibrate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "collect.h"
#include "util.h"

#if defined(__x86_64__)
/*
 * One function per site class, written in assembly so the first
 * instruction is exactly the class it stands for:
 *   nop5      the 5-byte nop the kernel optimizes into a call
 *   emulated  push %rbp (trapped, emulated by the kernel)
 *   sstep     a RIP-relative lea (trapped, then single-stepped)
 */
__asm__(".text\n"
	".globl fp_calib_nop5\n.type fp_calib_nop5,@function\n"
	"fp_calib_nop5:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"	ret\n"
	".size fp_calib_nop5, .-fp_calib_nop5\n"
	".globl fp_calib_emulated\n.type fp_calib_emulated,@function\n"
	"fp_calib_emulated:\n"
	"	push %rbp\n"
	"	pop %rbp\n"
	"	ret\n"
	".size fp_calib_emulated, .-fp_calib_emulated\n"
	".globl fp_calib_sstep\n.type fp_calib_sstep,@function\n"
	"fp_calib_sstep:\n"
	"	lea 0(%rip), %rax\n"
	"	ret\n"
	".size fp_calib_sstep, .-fp_calib_sstep\n");

void fp_calib_nop5(void);
void fp_calib_emulated(void);
void fp_calib_sstep(void);

static void (*const calib_fn[3])(void) = { fp_calib_nop5, fp_calib_emulated, fp_calib_sstep };
static const enum site_class calib_cls[3] = { SITE_NOP5, SITE_EMULATED, SITE_SINGLESTEP };
/* Single-stepped calls cost ~10 us each: fewer of them. */
static const int calib_calls[3] = { 20000, 20000, 2000 };

/* File offset of a code address of this process, through /proc/self/maps. */
static int self_file_offset(uintptr_t addr, uint64_t *offset)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3)
			continue;
		if (addr >= lo && addr < hi) {
			*offset = addr - lo + off;
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

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
