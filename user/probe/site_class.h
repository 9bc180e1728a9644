/* SPDX-License-Identifier: MIT */
/*
 * Probe-site classes: what the kernel must do at a uprobe's first
 * instruction (user/probe/site_class.c). On its own, apart from resolution,
 * so that the model can name a class without depending on resolve.h.
 */
#ifndef FLOWPROF_SITE_CLASS_H
#define FLOWPROF_SITE_CLASS_H

#include <stddef.h>
#include <stdint.h>

/* What the kernel must do at a probe site's first instruction (x86-64). */
enum site_class {
	SITE_UNKNOWN = 0,
	SITE_NOP5,	  /* 5-byte nop: the kernel turns the uprobe into a call (cheapest) */
	SITE_EMULATED,	  /* push, nop, jmp, call...: int3 trap, emulated */
	SITE_SINGLESTEP,  /* anything else: int3 trap plus single-step (~10x dearer) */
};

const char *site_class_name(enum site_class c);

/*
 * x86-64 probe site classification from the first bytes of the probed
 * instruction (up to 16; fewer means the file ended). vaddr is only used for
 * the page-crossing check of the nop5 optimization; a file offset works as
 * well, because PT_LOAD keeps offset and vaddr congruent modulo the page size.
 * See user/probe/site_class.c for the kernel source this follows.
 */
enum site_class site_classify_x86(const uint8_t *insn, size_t len, uint64_t vaddr);

#endif
