/* SPDX-License-Identifier: MIT */
/*
 * A function's machine code, decoded with Capstone (x86-64): the kind of its
 * first instruction (what the kernel does with a uprobe there), and its
 * exits, the instructions through which a call leaves it: every `ret`, and
 * every `jmp` to code outside it (a tail call). A uprobe on each of them sees
 * the call end without touching the return address on the stack, which a
 * uretprobe rewrites (bpf/flowprof.bpf.c, docs/internals.md).
 *
 * Decoding gives up, and says why, where it cannot be sure: a conditional
 * jump out of the function (a probe there fires whether or not it is
 * taken), a computed jump that may leave the function (an indirect tail
 * call: the stack is back to the entry's), bytes that do not decode, or a
 * symbol with no size.
 */
#ifndef FLOWPROF_EXIT_SITES_H
#define FLOWPROF_EXIT_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cost_slot.h"

struct elf_file;
struct elf_sym;

struct exit_site {
	uint64_t offset;	/* file offset of the instruction */
	enum cost_slot slot;	/* SLOT_EXIT_RET or SLOT_EXIT_JMP */
	/* A `ret`'s probe ahead of its epilogue, where the kernel may treat
	 * that place more cheaply: the stack-protector check's conditional
	 * jump, which every path to the ret passes and whose taken side calls
	 * __stack_chk_fail (it never returns). 0: none. */
	uint64_t alt_offset;		/* file offset of the jcc */
	enum cost_slot alt_slot;	/* SLOT_EXIT_CANARY */
	uint32_t alt_sp_below;		/* bytes its stack pointer is below the entry's */
	uint64_t jmp_target;		/* a direct tail call's target (vaddr), else 0 */
	/* an exit of the function a handler that is one tail call jumps to
	 * (user/probe/resolve_functions.c): other callers of that function
	 * reach it too, and find no frame of the handler's */
	bool foreign;
};

struct function_code {
	enum cost_slot entry_slot;	/* kind of the first instruction (SLOT_ENTRY_*) */
	/* A later place for the entry probe, when the first instruction is one
	 * the kernel single-steps: the first cheaper instruction of the entry
	 * block that runs once per call with the stack pointer of the entry
	 * (nothing skipped moves it, no branch lands between). 0: none. */
	uint64_t alt_entry_offset;	/* file offset */
	uint64_t alt_entry_skip;	/* bytes skipped */
	enum cost_slot alt_entry_slot;
	struct exit_site *exits;
	size_t n_exits;
	size_t n_insns;			/* instructions decoded (function and cold parts) */
	char reason[192];		/* why the exits are not known; "" when they are */
};

/* Decodes sym (and its compiler-split cold part "NAME.cold", if the binary
 * has one) from ef. Returns 0 with every exit (none for a function that
 * never returns), or -1 with out->reason set when a way out is uncertain;
 * the exits found are kept then too. out is always safe to pass to
 * function_code_free(). */
int function_code_decode(const struct elf_file *ef, const struct elf_sym *sym,
			 struct function_code *out);

/* One stretch of a function's code in memory: region 0 is the function,
 * the others its cold parts. A file offset is vaddr + bias. */
struct code_region {
	const uint8_t *code;
	uint64_t vaddr;
	uint64_t size;
	int64_t bias;
};

/* The same on bytes in memory (tests, flowprof's own calibration code). */
int function_code_decode_bytes(const struct code_region *regions, size_t n_regions,
			       struct function_code *out);

void function_code_free(struct function_code *fc);


#endif
