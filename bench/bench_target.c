// SPDX-License-Identifier: MIT
/*
 * Per-call benchmark target: one function per probe-site class, each called
 * in a tight loop on request, timing itself.
 *
 * The functions are written in assembly so that each probed instruction is
 * exactly the class it stands for (as in user/attach/calibrate.c). Entry
 * classes, each function's exit seen by a uretprobe:
 *   bench_nop5      0f 1f 44 00 00: the kernel optimizes the uprobe into a call
 *   bench_emulated  push %rbp: trapped, emulated (or single-stepped) by the kernel
 *   bench_sstep     RIP-relative lea: trapped, then single-stepped
 * Exit classes, entered at a 5-byte nop, the exit probed at an instruction:
 *   bench_ret       nop5; ret: the exit site is the `ret`
 *   bench_jmp       nop5; jmp bench_tail: the exit site is the tail-call jmp
 *   bench_canary    nop5; a stack-protector check (the canary at %fs:0x28
 *                   read and compared; jne to a call of abort); ret: the exit
 *                   site is the check's jne, ahead of the ret
 *
 * Protocol (one line each, stdout is line-buffered):
 *   start:          "site CLASS SYMBOL 0xENTRY_OFFSET EXIT" per function, EXIT
 *                   "uretprobe", or the exit site's file offset (0x...) and
 *                   symbol; then "ready"
 *   stdin "run CLASS MS": calls the function for at least MS ms (after a
 *                   short warm-up), answers
 *                   "result CLASS WALL_NS_PER_CALL CPU_NS_PER_CALL CALLS"
 *   stdin "quit" or end of input: exits
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "site_class_funcs.h"

#if !defined(__x86_64__)
#error "bench_target: the site-class functions are x86-64 assembly"
#endif

DEFINE_SITE_CLASS_FUNCS(bench);

/*
 * Each exit site has a symbol of its own (bench_ret_x, bench_jmp_x), for
 * bpftrace: built without a disassembler, it refuses a probe at a symbol
 * plus an offset.
 */
__asm__(".text\n"
	".globl bench_ret\n.type bench_ret,@function\n.p2align 4\nbench_ret:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	".globl bench_ret_x\n.type bench_ret_x,@function\nbench_ret_x:\n"
	"	ret\n"
	".size bench_ret_x, .-bench_ret_x\n"
	".size bench_ret, .-bench_ret\n"
	".globl bench_jmp\n.type bench_jmp,@function\n.p2align 4\nbench_jmp:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	".globl bench_jmp_x\n.type bench_jmp_x,@function\nbench_jmp_x:\n"
	"	jmp bench_tail\n"
	".size bench_jmp_x, .-bench_jmp_x\n"
	".size bench_jmp, .-bench_jmp\n"
	".globl bench_tail\n.type bench_tail,@function\n.p2align 4\nbench_tail:\n"
	"	ret\n"
	".size bench_tail, .-bench_tail\n"
	".globl bench_canary\n.type bench_canary,@function\n.p2align 4\nbench_canary:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"
	"	mov %fs:0x28, %rax\n"
	"	sub %fs:0x28, %rax\n"
	".globl bench_canary_x\n.type bench_canary_x,@function\nbench_canary_x:\n"
	"	jne 1f\n"
	"	ret\n"
	"1:	call abort@PLT\n"
	".size bench_canary_x, .-bench_canary_x\n"
	".size bench_canary, .-bench_canary\n");
void bench_ret(void), bench_ret_x(void);
void bench_jmp(void), bench_jmp_x(void);
void bench_canary(void), bench_canary_x(void);

static const struct site_fn {
	const char *cls;
	const char *symbol;
	void (*fn)(void);
	void (*exit)(void);	/* the exit site (its symbol: SYMBOL_x); NULL: a uretprobe */
} sites[] = {
	{ "nop5", "bench_nop5", bench_nop5, NULL },
	{ "emulated", "bench_emulated", bench_emulated, NULL },
	{ "sstep", "bench_sstep", bench_sstep, NULL },
	{ "ret", "bench_ret", bench_ret, bench_ret_x },
	{ "jmp", "bench_jmp", bench_jmp, bench_jmp_x },
	{ "canary", "bench_canary", bench_canary, bench_canary_x },
};

#define N_SITES (sizeof(sites) / sizeof(sites[0]))

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Calls fn in chunks until at least ms milliseconds have passed. The
 * indirect call keeps the compiler from inlining or hoisting anything.
 * Reports wall time and this thread's CPU time per call: the kernel's
 * uprobe work runs in the thread's context, so CPU time leaves out what
 * other processes on a shared host take, while wall time does not. */
static void run(void (*volatile fn)(void), const char *cls, double ms)
{
	uint64_t budget = (uint64_t)(ms * 1e6), calls = 0, t0, c0, elapsed;
	unsigned chunk = 64;

	/* Warm-up: the kernel optimizes a nop5 uprobe on its first hits. */
	for (int i = 0; i < 256; i++)
		fn();
	t0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	do {
		for (unsigned i = 0; i < chunk; i++)
			fn();
		calls += chunk;
		elapsed = clock_ns(CLOCK_MONOTONIC) - t0;
		/* Grow the chunk so the clock is read rarely for cheap calls. */
		if (chunk < 65536 && elapsed < budget / 64)
			chunk *= 2;
	} while (elapsed < budget);
	printf("result %s %.3f %.3f %llu\n", cls, (double)elapsed / (double)calls,
	       (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)calls,
	       (unsigned long long)calls);
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < N_SITES; i++) {
		uint64_t off, exit_off = 0;

		if (self_file_offset((uintptr_t)sites[i].fn, &off) ||
		    (sites[i].exit && self_file_offset((uintptr_t)sites[i].exit, &exit_off))) {
			fprintf(stderr, "bench_target: cannot find %s in /proc/self/maps\n",
				sites[i].symbol);
			return 1;
		}
		if (sites[i].exit)
			printf("site %s %s 0x%llx 0x%llx %s_x\n", sites[i].cls, sites[i].symbol,
			       (unsigned long long)off, (unsigned long long)exit_off,
			       sites[i].symbol);
		else
			printf("site %s %s 0x%llx uretprobe\n", sites[i].cls, sites[i].symbol,
			       (unsigned long long)off);
	}
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		char cls[32];
		double ms;
		size_t i;

		if (!strncmp(line, "quit", 4))
			break;
		if (sscanf(line, "run %31s %lf", cls, &ms) != 2 || ms <= 0) {
			printf("error bad command\n");
			continue;
		}
		for (i = 0; i < N_SITES && strcmp(sites[i].cls, cls); i++)
			;
		if (i == N_SITES) {
			printf("error unknown class %s\n", cls);
			continue;
		}
		run(sites[i].fn, cls, ms);
	}
	return 0;
}
