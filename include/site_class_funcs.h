/* SPDX-License-Identifier: MIT */
/*
 * One tiny function per probe-site class, written in assembly so that the
 * first instruction is exactly the class it stands for (x86-64):
 *   PREFIX_nop5      0f 1f 44 00 00: the kernel turns the uprobe into a call
 *   PREFIX_emulated  push %rbp: trapped, emulated by the kernel
 *   PREFIX_sstep     RIP-relative lea: trapped, then single-stepped
 * Used by the probe-cost calibration (user/calibrate.c) and the benchmark
 * target (bench/bench_target.c). DEFINE_SITE_CLASS_FUNCS(prefix) at file scope.
 */
#ifndef FLOWPROF_SITE_CLASS_FUNCS_H
#define FLOWPROF_SITE_CLASS_FUNCS_H

#include <stdint.h>
#include <stdio.h>

#if defined(__x86_64__)
#define DEFINE_SITE_CLASS_FUNCS(p)                                              \
	__asm__(".text\n"                                                       \
		".globl " #p "_nop5\n.type " #p "_nop5,@function\n"             \
		".p2align 4\n" #p "_nop5:\n"                                    \
		"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"                   \
		"	ret\n"                                                  \
		".size " #p "_nop5, .-" #p "_nop5\n"                            \
		".globl " #p "_emulated\n.type " #p "_emulated,@function\n"     \
		".p2align 4\n" #p "_emulated:\n"                                \
		"	push %rbp\n"                                            \
		"	pop %rbp\n"                                             \
		"	ret\n"                                                  \
		".size " #p "_emulated, .-" #p "_emulated\n"                    \
		".globl " #p "_sstep\n.type " #p "_sstep,@function\n"           \
		".p2align 4\n" #p "_sstep:\n"                                   \
		"	lea 0(%rip), %rax\n"                                    \
		"	ret\n"                                                  \
		".size " #p "_sstep, .-" #p "_sstep\n");                         \
	void p##_nop5(void);                                                    \
	void p##_emulated(void);                                                \
	void p##_sstep(void)
#endif

/* File offset of a code address of this process (for a uprobe on it),
 * through /proc/self/maps. Returns 0, or -1 when no mapping holds it. */
static inline int self_file_offset(uintptr_t addr, uint64_t *offset)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3)
			continue;
		if (addr >= lo && addr < hi) {
			*offset = addr - lo + off;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

#endif
